//! Pushes reaching clients: simulation, replay, safe mode, app isolation, QoS 1 sessions,
//! queue bounds, fault injection and shutdown.

use std::sync::Arc;
use std::time::Duration;

use rumqttc::mqttbytes::v4::{Packet, PubAck, Publish};
use rumqttc::mqttbytes::QoS;
use sensoro_mqtt::emulator::{
    AppConfig, CloseReason, Emulator, EmulatorConfig, LogEvent, PushSealer, Replay,
};
use sensoro_mqtt::error::ExitKind;
use serde_json::Value;
use tokio::time::timeout;

use crate::harness::*;

fn json(payload: &[u8]) -> Value {
    serde_json::from_slice(payload).unwrap_or_else(|err| {
        panic!(
            "push is not JSON ({err}): {}",
            String::from_utf8_lossy(payload)
        )
    })
}

/// Receives `count` PUBLISHes on a raw client, acking QoS 1 ones.
async fn receive(raw: &mut Raw, count: usize) -> Vec<Publish> {
    let mut got = Vec::new();
    while got.len() < count {
        match raw.recv().await {
            Packet::Publish(publish) => {
                if publish.qos == QoS::AtLeastOnce {
                    raw.send(&Packet::PubAck(PubAck::new(publish.pkid))).await;
                }
                got.push(publish);
            }
            other => panic!("expected PUBLISH, got {other:?}"),
        }
    }
    got
}

#[tokio::test]
async fn rumqttc_client_receives_simulated_pushes() {
    let mut cfg = config();
    cfg.devices = 7;
    cfg.apps.truncate(1);
    let fixture = Fixture::start(cfg).await;
    let (_client, mut events) = rumqttc_subscriber(
        fixture.addr,
        APP,
        SECRET,
        "foobar/rumqttc",
        QoS::AtLeastOnce,
    )
    .await;
    let pushes = rumqttc_receive(&mut events, 14).await;
    for payload in &pushes {
        let push = json(payload);
        assert_eq!(push["appId"], APP);
        assert!(
            push["sn"]
                .as_str()
                .is_some_and(|sn| sn.starts_with("0117C9")),
            "{push}"
        );
        assert!(
            push["type"].is_string() && push["deviceType"].is_string(),
            "{push}"
        );
        assert!(
            push["createdTime"].is_u64() && push["msgId"].is_string(),
            "{push}"
        );
        assert!(push["data"]["battery"].is_u64(), "{push}");
        assert!(push.get("encryptData").is_none());
    }
}

#[tokio::test]
async fn each_app_sees_only_its_own_devices() {
    let mut cfg = config();
    cfg.devices = 6;
    let fixture = Fixture::start(cfg).await;
    let (_a, mut a) =
        rumqttc_subscriber(fixture.addr, APP, SECRET, "foobar/a", QoS::AtMostOnce).await;
    let (_b, mut b) = rumqttc_subscriber(
        fixture.addr,
        OTHER_APP,
        OTHER_SECRET,
        "otherapp/b",
        QoS::AtMostOnce,
    )
    .await;
    for (events, app) in [(&mut a, APP), (&mut b, OTHER_APP)] {
        for payload in rumqttc_receive(events, 9).await {
            assert_eq!(json(&payload)["appId"], app);
        }
    }
    fixture.publish(OTHER_APP, "only-for-other").await;
    let got = rumqttc_receive(&mut b, 4).await;
    assert!(got.iter().any(|p| p == b"only-for-other"));
}

/// The first `count` pushes of a fresh emulator with `seed`, `createdTime` removed.
async fn first_pushes(seed: u64, count: usize) -> Vec<Value> {
    let mut cfg = config();
    cfg.devices = 10;
    cfg.seed = seed;
    cfg.interval = Duration::from_millis(5);
    let fixture = Fixture::start(cfg).await;
    let mut raw = Raw::connected(fixture.addr, &Login::new("foobar/seed")).await;
    raw.subscribe(&[(&topic(APP), QoS::AtLeastOnce)]).await;
    let pushes = receive(&mut raw, count).await;
    fixture.emulator.shutdown().await;
    pushes
        .iter()
        .map(|p| {
            let mut push = json(&p.payload);
            push.as_object_mut().map(|o| o.remove("createdTime"));
            push
        })
        .collect()
}

#[tokio::test]
async fn the_same_seed_gives_the_same_pushes() {
    let one = first_pushes(2024, 15).await;
    let two = first_pushes(2024, 15).await;
    assert_eq!(one, two);
    let other = first_pushes(2025, 15).await;
    assert_ne!(one, other);
}

#[tokio::test]
async fn replay_publishes_lines_in_order_and_as_they_are() {
    let text = format!(
        "{{\"appId\":\"{APP}\",\"n\":1}}\n\
         not json at all\n\
         \n\
         {{\"appId\":\"{OTHER_APP}\",\"n\":2}}\r\n\
         {{\"appId\":\"ghost\",\"n\":3}}\n\
         {{\"n\":4,  \"spaced\" : true}}\n\
         [1,2]\n"
    );
    let mut cfg = config();
    cfg.replay = Some(Replay::Text(text.into_bytes()));
    cfg.interval = Duration::from_millis(5);
    let mut fixture = Fixture::start(cfg).await;
    let mut raw = Raw::connected(fixture.addr, &Login::new("foobar/replay")).await;
    raw.subscribe(&[(&topic(APP), QoS::AtLeastOnce)]).await;
    let got: Vec<Vec<u8>> = receive(&mut raw, 4)
        .await
        .into_iter()
        .map(|p| p.payload.to_vec())
        .collect();
    let expected: Vec<&[u8]> = vec![
        br#"{"appId":"foobar","n":1}"#,
        b"not json at all",
        br#"{"n":4,  "spaced" : true}"#,
        b"[1,2]",
    ];
    assert_eq!(got, expected);
    fixture
        .expect_event("skipped ghost line", |e| {
            matches!(e, LogEvent::ReplaySkipped { line: 5, .. })
        })
        .await;
    fixture
        .expect_event("replay end", |e| {
            matches!(e, LogEvent::ReplayFinished { published: 5 })
        })
        .await;
}

#[tokio::test]
async fn looping_replay_starts_again() {
    let mut cfg = config();
    cfg.replay = Some(Replay::Text(b"a\nb\n".to_vec()));
    cfg.loop_replay = true;
    cfg.interval = Duration::from_millis(5);
    let fixture = Fixture::start(cfg).await;
    let mut raw = Raw::connected(fixture.addr, &Login::new("foobar/loop")).await;
    raw.subscribe(&[(&topic(APP), QoS::AtLeastOnce)]).await;
    let got: Vec<Vec<u8>> = receive(&mut raw, 5)
        .await
        .into_iter()
        .map(|p| p.payload.to_vec())
        .collect();
    assert_eq!(got, [b"a", b"b", b"a", b"b", b"a"].map(|s| s.to_vec()));
}

#[tokio::test]
async fn missing_replay_file_is_a_config_error() {
    let mut cfg = config();
    cfg.replay = Some(Replay::File("/nonexistent/pushes.ndjson".into()));
    let err = Emulator::start(cfg).await.expect_err("missing file");
    assert_eq!(err.kind(), ExitKind::Config);
    assert!(
        err.message().contains("/nonexistent/pushes.ndjson"),
        "{}",
        err.message()
    );
}

/// Stands in for the safe-mode codec: `sealed(<app>):<data>`.
struct FakeSealer;

impl PushSealer for FakeSealer {
    fn seal(&self, app_id: &str, data_json: &str) -> Result<String, String> {
        Ok(format!("sealed({app_id}):{data_json}"))
    }
}

#[tokio::test]
async fn safe_mode_replaces_data_with_encrypt_data() {
    let mut cfg = config();
    cfg.apps = vec![AppConfig::new(APP, SECRET).with_sealer(Arc::new(FakeSealer))];
    cfg.devices = 3;
    cfg.safe_mode = true;
    let fixture = Fixture::start(cfg).await;
    let mut raw = Raw::connected(fixture.addr, &Login::new("foobar/safe")).await;
    raw.subscribe(&[(&topic(APP), QoS::AtLeastOnce)]).await;
    for publish in receive(&mut raw, 3).await {
        let push = json(&publish.payload);
        assert!(push.get("data").is_none(), "{push}");
        let sealed = push["encryptData"].as_str().expect("encryptData");
        let data = sealed
            .strip_prefix("sealed(foobar):")
            .expect("sealed for the app");
        assert!(json(data.as_bytes())["battery"].is_u64(), "{data}");
        assert_eq!(
            push.as_object()
                .and_then(|o| o.keys().next_back())
                .map(String::as_str),
            Some("encryptData")
        );
    }
}

#[tokio::test]
async fn safe_mode_without_a_sealer_is_refused_at_start() {
    let mut cfg = config();
    cfg.safe_mode = true;
    let err = Emulator::start(cfg).await.expect_err("no sealer");
    assert_eq!(err.kind(), ExitKind::Config);
    assert!(err.message().contains("AppKey"), "{}", err.message());
}

#[tokio::test]
async fn drop_after_closes_each_connection_after_n_pushes() {
    let mut cfg = config();
    cfg.drop_after = Some(3);
    let mut fixture = Fixture::start(cfg).await;
    let mut raw = Raw::connected(fixture.addr, &Login::new("foobar/drop")).await;
    raw.subscribe(&[(&topic(APP), QoS::AtMostOnce)]).await;
    for n in 0..5 {
        fixture.publish(APP, &format!("push {n}")).await;
    }
    let before_close = raw.expect_closed().await;
    assert_eq!(before_close.len(), 3, "{before_close:?}");
    fixture
        .expect_event("drop-after close", |e| {
            matches!(
                e,
                LogEvent::Disconnected {
                    reason: CloseReason::DropAfter(3),
                    ..
                }
            )
        })
        .await;
}

#[tokio::test]
async fn persistent_session_gets_every_qos1_push_sent_while_away() {
    let fixture = Fixture::start(config()).await;
    let login = Login {
        clean: false,
        ..Login::new("foobar/durable")
    };
    let mut raw = Raw::connected(fixture.addr, &login).await;
    raw.subscribe(&[(&topic(APP), QoS::AtLeastOnce)]).await;
    for n in 0..3 {
        fixture.publish(APP, &format!("p{n}")).await;
    }
    let first = receive(&mut raw, 2).await;
    // The third arrives but is never acked: the connection dies mid-stream.
    let unacked = match raw.recv().await {
        Packet::Publish(publish) => publish,
        other => panic!("expected PUBLISH, got {other:?}"),
    };
    drop(raw);
    for n in 3..8 {
        fixture.publish(APP, &format!("p{n}")).await;
    }
    let (mut raw, present, code) = Raw::login(fixture.addr, &login).await;
    assert_eq!((code, present), (0, true));
    let again = receive(&mut raw, 6).await;
    assert!(again[0].dup, "redelivered with DUP");
    assert_eq!(
        (again[0].pkid, &again[0].payload),
        (unacked.pkid, &unacked.payload)
    );
    let mut payloads: Vec<Vec<u8>> = first
        .iter()
        .chain(&again)
        .map(|p| p.payload.to_vec())
        .collect();
    payloads.dedup();
    let expected: Vec<Vec<u8>> = (0..8).map(|n| format!("p{n}").into_bytes()).collect();
    assert_eq!(payloads, expected, "every push, in order, none lost");
    raw.expect_nothing_pending().await;
}

#[tokio::test]
async fn clean_session_forgets_everything_on_disconnect() {
    let fixture = Fixture::start(config()).await;
    let login = Login::new("foobar/forgetful");
    let mut raw = Raw::connected(fixture.addr, &login).await;
    raw.subscribe(&[(&topic(APP), QoS::AtLeastOnce)]).await;
    raw.send(&Packet::Disconnect).await;
    raw.expect_closed().await;
    timeout(WAIT, async {
        while fixture.emulator.stats().sessions > 0 {
            tokio::task::yield_now().await;
        }
    })
    .await
    .expect("session gone");
    fixture.publish(APP, "lost").await;
    let (mut raw, present, code) = Raw::login(fixture.addr, &login).await;
    assert_eq!((code, present), (0, false));
    raw.expect_nothing_pending().await;
}

#[tokio::test]
async fn clean_reconnect_discards_a_persistent_session() {
    let fixture = Fixture::start(config()).await;
    let durable = Login {
        clean: false,
        ..Login::new("foobar/switch")
    };
    let mut raw = Raw::connected(fixture.addr, &durable).await;
    raw.subscribe(&[(&topic(APP), QoS::AtLeastOnce)]).await;
    drop(raw);
    fixture.wait_for_subscribers(1).await;
    let (mut raw, present, _) = Raw::login(fixture.addr, &Login::new("foobar/switch")).await;
    assert!(!present);
    fixture.publish(APP, "after").await;
    raw.expect_nothing_pending().await;
}

#[tokio::test]
async fn offline_queue_keeps_the_newest_and_counts_the_dropped() {
    let mut cfg = config();
    cfg.queue_limit = 3;
    let mut fixture = Fixture::start(cfg).await;
    let login = Login {
        clean: false,
        ..Login::new("foobar/slow")
    };
    let mut raw = Raw::connected(fixture.addr, &login).await;
    raw.subscribe(&[(&topic(APP), QoS::AtLeastOnce)]).await;
    raw.send(&Packet::Disconnect).await;
    raw.expect_closed().await;
    fixture
        .expect_event("offline", |e| matches!(e, LogEvent::Disconnected { .. }))
        .await;
    for n in 0..10 {
        fixture.publish(APP, &format!("q{n}")).await;
    }
    assert_eq!(fixture.emulator.stats().dropped, 7);
    let mut raw = Raw::connected(fixture.addr, &login).await;
    let got: Vec<Vec<u8>> = receive(&mut raw, 3)
        .await
        .into_iter()
        .map(|p| p.payload.to_vec())
        .collect();
    assert_eq!(got, [b"q7", b"q8", b"q9"].map(|s| s.to_vec()));
    fixture
        .expect_event("overflow count", |e| {
            matches!(e, LogEvent::QueueOverflow { dropped: 7, .. })
        })
        .await;
}

#[tokio::test]
async fn in_flight_window_holds_back_unacked_pushes() {
    let mut cfg = config();
    cfg.max_inflight = 2;
    let fixture = Fixture::start(cfg).await;
    let mut raw = Raw::connected(fixture.addr, &Login::new("foobar/window")).await;
    raw.subscribe(&[(&topic(APP), QoS::AtLeastOnce)]).await;
    for n in 0..3 {
        fixture.publish(APP, &format!("w{n}")).await;
    }
    let a = raw.recv().await;
    let _b = raw.recv().await;
    raw.expect_nothing_pending().await;
    let Packet::Publish(a) = a else {
        panic!("expected PUBLISH, got {a:?}")
    };
    raw.send(&Packet::PubAck(PubAck::new(a.pkid))).await;
    match raw.recv().await {
        Packet::Publish(third) => assert_eq!(&third.payload[..], b"w2"),
        other => panic!("expected the third PUBLISH, got {other:?}"),
    }
}

#[tokio::test]
async fn unsubscribed_client_gets_no_more_pushes() {
    let mut fixture = Fixture::start(config()).await;
    let mut raw = Raw::connected(fixture.addr, &Login::new("foobar/unsub")).await;
    raw.subscribe(&[(&topic(APP), QoS::AtLeastOnce)]).await;
    let mut unsubscribe = rumqttc::mqttbytes::v4::Unsubscribe::new(topic(APP));
    unsubscribe.pkid = 9;
    raw.send(&Packet::Unsubscribe(unsubscribe)).await;
    match raw.recv().await {
        Packet::UnsubAck(ack) => assert_eq!(ack.pkid, 9),
        other => panic!("expected UNSUBACK, got {other:?}"),
    }
    fixture
        .expect_event("unsubscribe", |e| {
            matches!(e, LogEvent::Unsubscribed { .. })
        })
        .await;
    fixture.publish(APP, "after unsubscribe").await;
    raw.expect_nothing_pending().await;
    assert_eq!(fixture.emulator.stats().subscribed, 0);
}

#[tokio::test]
async fn shutdown_closes_clients_and_ends() {
    let fixture = Fixture::start(config()).await;
    let mut raw = Raw::connected(fixture.addr, &Login::new("foobar/bye")).await;
    let addr = fixture.addr;
    timeout(WAIT, fixture.emulator.shutdown())
        .await
        .expect("shutdown in time");
    assert!(raw.expect_closed().await.is_empty());
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "listener closed"
    );
}

#[tokio::test]
async fn handle_reports_the_real_port_and_rejects_unknown_apps() {
    let fixture = Fixture::start(config()).await;
    assert_ne!(fixture.addr.port(), 0);
    let err = fixture
        .emulator
        .publish("ghost", "x")
        .expect_err("unknown app");
    assert!(err.message().contains("ghost"), "{}", err.message());
}

#[tokio::test]
async fn config_without_apps_is_refused() {
    let cfg = EmulatorConfig {
        bind: "127.0.0.1:0".parse().expect("addr"),
        ..EmulatorConfig::default()
    };
    let err = Emulator::start(cfg).await.expect_err("no apps");
    assert_eq!(err.kind(), ExitKind::Config);
}

#[tokio::test]
async fn app_config_debug_never_shows_secrets() {
    let app = AppConfig::from_spec("foobar:s3cret-value:THE-APP-KEY").expect("spec");
    let shown = format!("{app:?}");
    assert!(
        !shown.contains("s3cret-value") && !shown.contains("THE-APP-KEY"),
        "{shown}"
    );
    assert!(AppConfig::from_spec("no-secret").is_err());
}
