//! Where pushes come from and who gets them: simulated devices, seeds, replay, safe mode and
//! app isolation.

use std::sync::Arc;
use std::time::Duration;

use rumqttc::mqttbytes::QoS;
use sensoro_mqtt::emulator::{AppConfig, Emulator, LogEvent, PushSealer, Replay};
use sensoro_mqtt::error::ExitKind;
use serde_json::Value;

use crate::harness::*;

fn json(payload: &[u8]) -> Value {
    serde_json::from_slice(payload).unwrap_or_else(|err| {
        panic!(
            "push is not JSON ({err}): {}",
            String::from_utf8_lossy(payload)
        )
    })
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
    first_pushes_and_ids(seed, count).await.0
}

/// The same, with `msgId` removed too and returned apart.
async fn first_pushes_and_ids(seed: u64, count: usize) -> (Vec<Value>, Vec<Value>) {
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
            let id = push.as_object_mut().and_then(|o| {
                o.remove("createdTime");
                o.remove("msgId")
            });
            (push, id.unwrap_or_default())
        })
        .unzip()
}

#[tokio::test]
async fn the_same_seed_gives_the_same_readings_with_new_msg_ids() {
    let (one, one_ids) = first_pushes_and_ids(2024, 15).await;
    let (two, two_ids) = first_pushes_and_ids(2024, 15).await;
    assert_eq!(one, two);
    assert!(
        one_ids
            .iter()
            .all(|id| id.is_string() && !two_ids.contains(id)),
        "a new run repeats msgIds: {one_ids:?} {two_ids:?}"
    );
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
