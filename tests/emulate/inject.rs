//! `--publisher`: a credential whose PUBLISHes on its app's topic reach the app's
//! subscribers as platform pushes, with Eclipse Mosquitto's `mosquitto_pub` as the injector
//! and raw clients for the cases it would not produce.

use std::process::Stdio;

use rumqttc::mqttbytes::v4::{Packet, PubAck, Publish};
use rumqttc::mqttbytes::QoS;
use sensoro_mqtt::emulator::{EmulatorConfig, LogEvent, PublisherConfig};
use tokio::process::Command;
use tokio::time::timeout;

use crate::harness::*;

const PUB_SECRET: &str = "inject-secret";

fn with_publisher() -> EmulatorConfig {
    let mut cfg = config();
    cfg.publishers = vec![PublisherConfig::new(APP, PUB_SECRET)];
    cfg
}

fn publisher_login(client_id: &str) -> Login<'_> {
    Login {
        password: PUB_SECRET,
        ..Login::new(client_id)
    }
}

#[tokio::test]
async fn mosquitto_pub_with_a_publisher_secret_injects_a_push() {
    if !crate::common::require_tool("mosquitto_pub", "mosquitto-clients") {
        return;
    }
    let mut fixture = Fixture::start(with_publisher()).await;
    let mut qos1 = Raw::connected(fixture.addr, &Login::new("foobar/q1")).await;
    qos1.subscribe(&[(&topic(APP), QoS::AtLeastOnce)]).await;
    let mut qos0 = Raw::connected(fixture.addr, &Login::new("foobar/q0")).await;
    qos0.subscribe(&[(&topic(APP), QoS::AtMostOnce)]).await;
    let push = r#"{"appId":"foobar","sn":"0117C9INJ","type":"alarm","data":{"smoke":1}}"#;
    let port = fixture.addr.port().to_string();
    let own = topic(APP);
    let output = timeout(
        WAIT,
        Command::new("mosquitto_pub")
            .args(["-h", "127.0.0.1", "-p", &port, "-u", APP, "-P", PUB_SECRET])
            .args(["-i", "foobar/injector", "-t", &own, "-q", "1", "-m", push])
            .stdin(Stdio::null())
            .kill_on_drop(true)
            .output(),
    )
    .await
    .expect("mosquitto_pub exits in time")
    .expect("mosquitto_pub runs");
    assert!(
        output.status.success(),
        "mosquitto_pub: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let at_1 = receive(&mut qos1, 1).await;
    assert_eq!(
        (at_1[0].payload.as_ref(), at_1[0].qos),
        (push.as_bytes(), QoS::AtLeastOnce)
    );
    let at_0 = receive(&mut qos0, 1).await;
    assert_eq!(
        (at_0[0].payload.as_ref(), at_0[0].qos),
        (push.as_bytes(), QoS::AtMostOnce)
    );
    fixture
        .expect_event("the publisher's login", |e| {
            matches!(
                e,
                LogEvent::Connected {
                    publisher: true,
                    ..
                }
            )
        })
        .await;
}

#[tokio::test]
async fn only_a_publisher_on_its_own_apps_topic_is_forwarded() {
    let mut fixture = Fixture::start(with_publisher()).await;
    let mut listener = Raw::connected(fixture.addr, &Login::new("foobar/listener")).await;
    listener.subscribe(&[(&topic(APP), QoS::AtLeastOnce)]).await;
    let other_login = Login {
        username: OTHER_APP,
        password: OTHER_SECRET,
        ..Login::new("otherapp/listener")
    };
    let mut other = Raw::connected(fixture.addr, &other_login).await;
    other
        .subscribe(&[(&topic(OTHER_APP), QoS::AtLeastOnce)])
        .await;
    // An ordinary client of the app: ignored, as on the platform.
    let mut plain = Raw::connected(fixture.addr, &Login::new("foobar/plain")).await;
    let mut publish = Publish::new(topic(APP), QoS::AtLeastOnce, b"from a subscriber".to_vec());
    publish.pkid = 1;
    plain.send(&Packet::Publish(publish)).await;
    assert_eq!(plain.recv().await, Packet::PubAck(PubAck::new(1)));
    // The publisher on another app's topic: ignored.
    let mut injector = Raw::connected(fixture.addr, &publisher_login("foobar/inj")).await;
    let mut publish = Publish::new(topic(OTHER_APP), QoS::AtLeastOnce, b"elsewhere".to_vec());
    publish.pkid = 2;
    injector.send(&Packet::Publish(publish)).await;
    assert_eq!(injector.recv().await, Packet::PubAck(PubAck::new(2)));
    // The publisher on its own topic: delivered.
    let publish = Publish::new(topic(APP), QoS::AtMostOnce, b"injected".to_vec());
    injector.send(&Packet::Publish(publish)).await;
    let got = receive(&mut listener, 1).await;
    assert_eq!(&got[0].payload[..], b"injected");
    listener.expect_nothing_pending().await;
    other.expect_nothing_pending().await;
    let ignored = fixture
        .drain()
        .into_iter()
        .filter(|e| matches!(e, LogEvent::ClientPublishIgnored { .. }))
        .count();
    assert_eq!(ignored, 2);
}

#[tokio::test]
async fn a_publisher_secret_only_opens_its_own_app() {
    let fixture = Fixture::start(with_publisher()).await;
    let login = Login {
        username: OTHER_APP,
        password: PUB_SECRET,
        ..Login::new("otherapp/x")
    };
    let (_raw, _, code) = Raw::login(fixture.addr, &login).await;
    assert_eq!(code, 5);
}
