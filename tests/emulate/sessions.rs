//! How pushes are delivered: QoS 1 sessions (persistent and clean), the in-flight window,
//! falling behind, unsubscribing, fault injection, shutdown and the handle's API.

use rumqttc::mqttbytes::v4::{Packet, PubAck};
use rumqttc::mqttbytes::QoS;
use sensoro_mqtt::emulator::{AppConfig, CloseReason, Emulator, EmulatorConfig, LogEvent};
use sensoro_mqtt::error::ExitKind;
use tokio::time::timeout;

use crate::harness::*;

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

/// A client that acknowledges a push, disconnects and connects again at once (a relay
/// restarting, say) does not get that push again: a PUBACK that arrived on the old connection
/// before the new one took the session over counts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_push_acknowledged_just_before_a_quick_reconnect_is_not_sent_again() {
    let fixture = Fixture::start(config()).await;
    let login = Login {
        clean: false,
        ..Login::new("foobar/quick")
    };
    for round in 0..1000 {
        let mut raw = Raw::connected(fixture.addr, &login).await;
        if round == 0 {
            raw.subscribe(&[(&topic(APP), QoS::AtLeastOnce)]).await;
        }
        fixture.publish(APP, &format!("p{round}")).await;
        let publish = match raw.recv().await {
            Packet::Publish(publish) => publish,
            other => panic!("round {round}: expected PUBLISH, got {other:?}"),
        };
        assert_eq!(
            (publish.payload.as_ref(), publish.dup),
            (format!("p{round}").as_bytes(), false),
            "round {round}: an acknowledged push came again"
        );
        // PUBACK and DISCONNECT in one write; the next round connects right away.
        let mut out = bytes::BytesMut::new();
        for packet in [
            Packet::PubAck(PubAck::new(publish.pkid)),
            Packet::Disconnect,
        ] {
            packet.write(&mut out, usize::MAX).expect("encodes");
        }
        raw.send_bytes(&out).await;
    }
    let mut raw = Raw::connected(fixture.addr, &login).await;
    raw.expect_nothing_pending().await;
}
