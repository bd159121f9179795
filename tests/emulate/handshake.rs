//! Protocol-level behaviour, driven byte by byte: CONNECT versions and refusals, timeouts,
//! size limits, keep-alive, subscriptions, client publishes and session takeover.

use std::time::{Duration, Instant};

use rumqttc::mqttbytes::v4::{Packet, PubAck, Publish};
use rumqttc::mqttbytes::QoS;
use sensoro_mqtt::emulator::{CloseReason, LogEvent, RefuseReason};

use crate::harness::*;

#[tokio::test]
async fn mqtt_31_connect_is_accepted() {
    let fixture = Fixture::start(config()).await;
    let mut raw = Raw::open(fixture.addr).await;
    raw.send_bytes(&connect_31(3, "foobar/v31", APP, SECRET))
        .await;
    match raw.recv().await {
        Packet::ConnAck(ack) => assert_eq!(ack.code as u8, 0),
        other => panic!("expected CONNACK, got {other:?}"),
    }
    assert_eq!(
        raw.subscribe(&[(&topic(APP), QoS::AtLeastOnce)]).await,
        vec![1]
    );
}

#[tokio::test]
async fn other_protocol_levels_get_connack_1() {
    let mut fixture = Fixture::start(config()).await;
    // An MQTT 5 CONNECT: properties length 0, empty clientId.
    let v5 = vec![0x10, 13, 0, 4, b'M', b'Q', b'T', b'T', 5, 2, 0, 60, 0, 0, 0];
    for bytes in [v5, connect_31(4, "foobar", APP, SECRET)] {
        let mut raw = Raw::open(fixture.addr).await;
        raw.send_bytes(&bytes).await;
        let packets = raw.expect_closed().await;
        match packets.as_slice() {
            [Packet::ConnAck(ack)] => assert_eq!(ack.code as u8, 1),
            other => panic!("expected one CONNACK 1 then close, got {other:?}"),
        }
    }
    fixture
        .expect_event("refusal for protocol level 5", |e| {
            matches!(
                e,
                LogEvent::Refused {
                    code: 1,
                    reason: RefuseReason::UnsupportedProtocol { level: 5, .. },
                    ..
                }
            )
        })
        .await;
}

async fn assert_refused_with_5(fixture: &mut Fixture, login: Login<'_>, reason: RefuseReason) {
    let (mut raw, present, code) = Raw::login(fixture.addr, &login).await;
    assert_eq!(
        (code, present),
        (5, false),
        "CONNACK for {:?}",
        login.client_id
    );
    assert!(
        raw.expect_closed().await.is_empty(),
        "connection closed after CONNACK 5"
    );
    let event = fixture
        .expect_event(
            &format!("refusal {reason:?}"),
            |e| matches!(e, LogEvent::Refused { code: 5, reason: r, .. } if *r == reason),
        )
        .await;
    assert!(!event.to_string().contains(SECRET), "{event}");
    assert!(!event.to_string().contains("wrong-pass"), "{event}");
}

#[tokio::test]
async fn wrong_password_gets_connack_5() {
    let mut fixture = Fixture::start(config()).await;
    let login = Login {
        password: "wrong-pass",
        ..Login::new("foobar/a")
    };
    assert_refused_with_5(&mut fixture, login, RefuseReason::WrongSecret).await;
}

#[tokio::test]
async fn another_apps_secret_gets_connack_5() {
    let mut fixture = Fixture::start(config()).await;
    let login = Login {
        password: OTHER_SECRET,
        ..Login::new("foobar/a")
    };
    assert_refused_with_5(&mut fixture, login, RefuseReason::WrongSecret).await;
}

#[tokio::test]
async fn unknown_username_gets_connack_5() {
    let mut fixture = Fixture::start(config()).await;
    let login = Login {
        username: "nobody",
        ..Login::new("nobody/a")
    };
    let reason = RefuseReason::UnknownAppId(Some("nobody".to_owned()));
    assert_refused_with_5(&mut fixture, login, reason).await;
}

#[tokio::test]
async fn client_ids_breaking_the_rule_get_connack_5() {
    let mut fixture = Fixture::start(config()).await;
    let too_long = format!("foobar/{}", "a".repeat(37));
    for id in [
        "",
        "foobar/a.b",
        "foobarx",
        "Foobar/abc",
        "otherapp/x",
        too_long.as_str(),
    ] {
        assert_refused_with_5(&mut fixture, Login::new(id), RefuseReason::BadClientId).await;
    }
    for id in ["foobar", "foobar/", "foobar/0b7c-4e_Z"] {
        Raw::connected(fixture.addr, &Login::new(id)).await;
    }
}

#[tokio::test]
async fn silent_client_is_dropped_after_the_connect_timeout() {
    let mut cfg = config();
    cfg.connect_timeout = Duration::from_millis(300);
    let mut fixture = Fixture::start(cfg).await;
    let started = Instant::now();
    let mut raw = Raw::open(fixture.addr).await;
    assert!(raw.expect_closed().await.is_empty());
    assert!(
        started.elapsed() >= Duration::from_millis(250),
        "closed too early"
    );
    fixture
        .expect_event(
            "rejection for no CONNECT",
            |e| matches!(e, LogEvent::Rejected { reason, .. } if reason.contains("no CONNECT")),
        )
        .await;
}

#[tokio::test]
async fn first_packet_other_than_connect_closes() {
    let fixture = Fixture::start(config()).await;
    let mut raw = Raw::open(fixture.addr).await;
    raw.send(&Packet::PingReq).await;
    assert!(raw.expect_closed().await.is_empty());
}

#[tokio::test]
async fn oversize_packet_closes_the_connection() {
    let mut cfg = config();
    cfg.max_packet_size = 1024;
    let mut fixture = Fixture::start(cfg).await;
    let mut raw = Raw::connected(fixture.addr, &Login::new("foobar/big")).await;
    let publish = Publish::new(topic(APP), QoS::AtMostOnce, vec![b'x'; 2000]);
    raw.send(&Packet::Publish(publish)).await;
    assert!(raw.expect_closed().await.is_empty());
    fixture
        .expect_event("close for packet too large", |e| {
            matches!(
                e,
                LogEvent::Disconnected {
                    reason: CloseReason::PacketTooLarge { max: 1024, .. },
                    ..
                }
            )
        })
        .await;
    // An oversize CONNECT is refused from its header alone.
    let mut raw = Raw::open(fixture.addr).await;
    raw.send_bytes(&[0x10, 0xff, 0xff, 0x7f]).await;
    assert!(raw.expect_closed().await.is_empty());
}

#[tokio::test]
async fn keep_alive_is_enforced_at_one_and_a_half_times() {
    let mut fixture = Fixture::start(config()).await;
    let login = Login {
        keep_alive: 1,
        ..Login::new("foobar/sleepy")
    };
    let mut raw = Raw::connected(fixture.addr, &login).await;
    let started = Instant::now();
    assert!(raw.expect_closed().await.is_empty());
    let waited = started.elapsed();
    // 1.5 s from when the server started counting, a little before the CONNACK arrived here;
    // well above the 1 s a 1x keep-alive would give.
    assert!(
        waited >= Duration::from_millis(1200),
        "closed after {waited:?}"
    );
    fixture
        .expect_event("keep-alive expiry", |e| {
            matches!(
                e,
                LogEvent::Disconnected {
                    reason: CloseReason::KeepAliveExpired,
                    ..
                }
            )
        })
        .await;
}

#[tokio::test]
async fn pings_keep_a_connection_alive() {
    let fixture = Fixture::start(config()).await;
    let login = Login {
        keep_alive: 1,
        ..Login::new("foobar/awake")
    };
    let mut raw = Raw::connected(fixture.addr, &login).await;
    for _ in 0..4 {
        tokio::time::sleep(Duration::from_millis(700)).await;
        raw.expect_nothing_pending().await;
    }
}

#[tokio::test]
async fn own_topic_is_granted_at_most_max_qos() {
    let mut cfg = config();
    cfg.max_qos = QoS::AtMostOnce;
    let fixture = Fixture::start(cfg).await;
    let mut raw = Raw::connected(fixture.addr, &Login::new("foobar/q")).await;
    assert_eq!(
        raw.subscribe(&[(&topic(APP), QoS::AtLeastOnce)]).await,
        vec![0]
    );

    let fixture = Fixture::start(config()).await;
    let mut raw = Raw::connected(fixture.addr, &Login::new("foobar/q")).await;
    assert_eq!(
        raw.subscribe(&[(&topic(APP), QoS::ExactlyOnce)]).await,
        vec![1]
    );
    assert_eq!(
        raw.subscribe(&[(&topic(APP), QoS::AtMostOnce)]).await,
        vec![0]
    );
}

#[tokio::test]
async fn foreign_topics_and_wildcards_get_0x80() {
    let mut fixture = Fixture::start(config()).await;
    let mut raw = Raw::connected(fixture.addr, &Login::new("foobar/w")).await;
    let own = topic(APP);
    let other = topic(OTHER_APP);
    let filters = [
        (own.as_str(), QoS::AtLeastOnce),
        (other.as_str(), QoS::AtLeastOnce),
        ("users/+/devices", QoS::AtMostOnce),
        ("#", QoS::AtMostOnce),
        ("/users/foobar/devices", QoS::AtMostOnce),
    ];
    assert_eq!(
        raw.subscribe(&filters).await,
        vec![1, 0x80, 0x80, 0x80, 0x80]
    );
    fixture
        .expect_event("wildcard refusal", |e| {
            matches!(e, LogEvent::SubscribeRefused { reason, .. } if reason.contains("wildcard"))
        })
        .await;
    // Nothing of the other app reaches this client.
    fixture.publish(OTHER_APP, "{}").await;
    raw.expect_nothing_pending().await;
}

#[tokio::test]
async fn client_publish_is_acked_and_not_forwarded() {
    let mut fixture = Fixture::start(config()).await;
    let mut listener = Raw::connected(fixture.addr, &Login::new("foobar/listener")).await;
    assert_eq!(
        listener.subscribe(&[(&topic(APP), QoS::AtLeastOnce)]).await,
        vec![1]
    );
    let mut talker = Raw::connected(fixture.addr, &Login::new("foobar/talker")).await;
    let mut publish = Publish::new(topic(APP), QoS::AtLeastOnce, b"{\"fake\":true}".to_vec());
    publish.pkid = 42;
    talker.send(&Packet::Publish(publish)).await;
    assert_eq!(talker.recv().await, Packet::PubAck(PubAck::new(42)));
    listener.expect_nothing_pending().await;
    fixture
        .expect_event("ignored publish", |e| {
            matches!(e, LogEvent::ClientPublishIgnored { .. })
        })
        .await;
}

#[tokio::test]
async fn duplicate_client_id_closes_the_older_connection() {
    let mut fixture = Fixture::start(config()).await;
    let mut older = Raw::connected(fixture.addr, &Login::new("foobar/same")).await;
    let mut newer = Raw::connected(fixture.addr, &Login::new("foobar/same")).await;
    assert!(older.expect_closed().await.is_empty());
    fixture
        .expect_event("takeover", |e| {
            matches!(
                e,
                LogEvent::Disconnected {
                    reason: CloseReason::TakenOver,
                    ..
                }
            )
        })
        .await;
    assert_eq!(
        newer.subscribe(&[(&topic(APP), QoS::AtLeastOnce)]).await,
        vec![1]
    );
    newer.expect_nothing_pending().await;
}

#[tokio::test]
async fn garbage_after_connect_closes_without_panicking() {
    let fixture = Fixture::start(config()).await;
    let mut raw = Raw::connected(fixture.addr, &Login::new("foobar/g")).await;
    raw.send_bytes(&[0xf0, 0x00, 0x01, 0x02]).await;
    assert!(raw.expect_closed().await.is_empty());
    // The emulator still serves others.
    Raw::connected(fixture.addr, &Login::new("foobar/h")).await;
}
