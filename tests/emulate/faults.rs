//! Faults found under test (issue 14), each pinned by the test that showed it: QoS 1 progress
//! under `drop_after`, honest loss counts, protocol violations that must close the connection,
//! binary passwords, a CONNACK that must not be lost, the connection limit, long client
//! strings in the log, and idle clients that never subscribe.

use std::time::Duration;

use bytes::{BufMut, BytesMut};
use rumqttc::mqttbytes::v4::{Packet, PubAck, Publish};
use rumqttc::mqttbytes::QoS;
use sensoro_mqtt::emulator::{CloseReason, LogEvent};

use crate::harness::*;

/// MQTT's variable-length integer.
fn put_remaining_length(out: &mut BytesMut, mut len: usize) {
    loop {
        let mut byte = u8::try_from(len % 128).expect("below 128");
        len /= 128;
        if len > 0 {
            byte |= 0x80;
        }
        out.put_u8(byte);
        if len == 0 {
            break;
        }
    }
}

fn frame(first: u8, body: &[u8]) -> Vec<u8> {
    let mut out = BytesMut::new();
    out.put_u8(first);
    put_remaining_length(&mut out, body.len());
    out.put_slice(body);
    out.to_vec()
}

/// A 3.1.1 CONNECT written by hand: `flags` as given (username/password bits are added for
/// the fields present), any bytes in the fields.
fn connect_311(
    flags: u8,
    client_id: &[u8],
    username: Option<&[u8]>,
    password: Option<&[u8]>,
) -> Vec<u8> {
    let mut body = BytesMut::new();
    body.put_u16(4);
    body.put_slice(b"MQTT");
    body.put_u8(4);
    let flags = flags
        | if username.is_some() { 0x80 } else { 0 }
        | if password.is_some() { 0x40 } else { 0 };
    body.put_u8(flags);
    body.put_u16(60);
    for field in [Some(client_id), username, password].into_iter().flatten() {
        body.put_u16(u16::try_from(field.len()).expect("short field"));
        body.put_slice(field);
    }
    frame(0x10, &body)
}

fn good_connect(client_id: &str) -> Vec<u8> {
    connect_311(
        0x02,
        client_id.as_bytes(),
        Some(APP.as_bytes()),
        Some(SECRET.as_bytes()),
    )
}

#[tokio::test]
async fn drop_after_waits_for_qos1_acks_so_a_persistent_client_makes_progress() {
    let mut cfg = config();
    cfg.drop_after = Some(1);
    let fixture = Fixture::start(cfg).await;
    let login = Login {
        clean: false,
        ..Login::new("foobar/durable-drop")
    };
    let mut raw = Raw::connected(fixture.addr, &login).await;
    raw.subscribe(&[(&topic(APP), QoS::AtLeastOnce)]).await;
    for n in 0..40 {
        fixture.publish(APP, &format!("d{n}")).await;
    }
    let mut received = std::collections::BTreeSet::new();
    let mut deliveries = 0;
    let mut connections = 1;
    while received.len() < 40 {
        assert!(
            connections <= 45,
            "no progress: {deliveries} deliveries, {received:?}"
        );
        while let Some(packet) = raw.try_recv().await {
            if let Packet::Publish(publish) = packet {
                deliveries += 1;
                raw.send_if_open(&Packet::PubAck(PubAck::new(publish.pkid)))
                    .await;
                received.insert(publish.payload.to_vec());
            }
        }
        if received.len() < 40 {
            raw = Raw::connected(fixture.addr, &login).await;
            connections += 1;
        }
    }
    assert!(
        deliveries <= 2 * 40,
        "{deliveries} deliveries over {connections} connections for 40 pushes"
    );
}

#[tokio::test]
async fn a_new_client_is_not_counted_as_having_dropped_pushes() {
    let mut cfg = config();
    cfg.queue_limit = 3;
    let mut fixture = Fixture::start(cfg).await;
    for n in 0..10 {
        fixture.publish(APP, &format!("before {n}")).await;
    }
    let mut raw = Raw::connected(fixture.addr, &Login::new("foobar/newcomer")).await;
    raw.subscribe(&[(&topic(APP), QoS::AtLeastOnce)]).await;
    fixture.publish(APP, "after").await;
    let got = receive(&mut raw, 1).await;
    assert_eq!(&got[0].payload[..], b"after");
    raw.expect_nothing_pending().await;
    assert_eq!(fixture.emulator.stats().dropped, 0, "nothing was lost");
    drop(raw);
    fixture
        .expect_event("disconnect", |e| matches!(e, LogEvent::Disconnected { .. }))
        .await;
    let overflow_logged = fixture
        .drain()
        .into_iter()
        .filter(|e| matches!(e, LogEvent::QueueOverflow { .. }))
        .collect::<Vec<_>>();
    assert!(
        overflow_logged.is_empty(),
        "false loss: {overflow_logged:?}"
    );
}

/// Sends `bytes` after a good CONNECT and expects the connection to close.
async fn assert_closed_after(bytes: &[u8], what: &str) {
    let mut fixture = Fixture::start(config()).await;
    let mut raw = Raw::connected(fixture.addr, &Login::new("foobar/rude")).await;
    raw.send_bytes(bytes).await;
    let before = raw.expect_closed().await;
    assert!(
        before.is_empty(),
        "{what}: answered {before:?} before closing"
    );
    fixture
        .expect_event(&format!("protocol error for {what}"), |e| {
            matches!(
                e,
                LogEvent::Disconnected {
                    reason: CloseReason::ProtocolError(_),
                    ..
                }
            )
        })
        .await;
}

#[tokio::test]
async fn connect_with_the_reserved_flag_is_closed_without_connack() {
    let mut fixture = Fixture::start(config()).await;
    let mut raw = Raw::open(fixture.addr).await;
    raw.send_bytes(&connect_311(
        0x03,
        b"foobar/res",
        Some(APP.as_bytes()),
        Some(SECRET.as_bytes()),
    ))
    .await;
    let before = raw.expect_closed().await;
    assert!(before.is_empty(), "answered {before:?}");
    fixture
        .expect_event(
            "rejection for the reserved flag",
            |e| matches!(e, LogEvent::Rejected { reason, .. } if reason.contains("reserved")),
        )
        .await;
}

#[tokio::test]
async fn subscribe_with_wrong_fixed_header_flags_closes() {
    let mut body = BytesMut::new();
    body.put_u16(7);
    let own = topic(APP);
    body.put_u16(u16::try_from(own.len()).expect("short"));
    body.put_slice(own.as_bytes());
    body.put_u8(1);
    // SUBSCRIBE must be 0x82; 0x80 has the reserved bits wrong.
    assert_closed_after(&frame(0x80, &body), "SUBSCRIBE with flags 0").await;
}

#[tokio::test]
async fn unsubscribe_without_topics_closes() {
    assert_closed_after(&frame(0xa2, &[0, 9]), "UNSUBSCRIBE without topics").await;
}

#[tokio::test]
async fn publish_to_a_wildcard_or_an_empty_topic_closes() {
    for topic in ["users/+/devices", "users/foobar/#", ""] {
        let publish = Publish::new(topic, QoS::AtMostOnce, b"{}".to_vec());
        let mut out = BytesMut::new();
        Packet::Publish(publish)
            .write(&mut out, usize::MAX)
            .expect("encodes");
        assert_closed_after(&out, &format!("PUBLISH to '{topic}'")).await;
    }
}

#[tokio::test]
async fn a_binary_password_gets_a_connack() {
    let mut fixture = Fixture::start(config()).await;
    let mut raw = Raw::open(fixture.addr).await;
    raw.send_bytes(&connect_311(
        0x02,
        b"foobar/bin",
        Some(APP.as_bytes()),
        Some(&[0xff, 0xfe, 0x00, 0x80]),
    ))
    .await;
    match raw.try_recv().await {
        Some(Packet::ConnAck(ack)) => assert_eq!(ack.code as u8, 5),
        other => panic!("expected CONNACK 5, got {other:?}"),
    }
    fixture
        .expect_event("refusal for the wrong secret", |e| {
            matches!(e, LogEvent::Refused { code: 5, .. })
        })
        .await;
}

#[tokio::test]
async fn connect_and_a_bad_packet_in_one_write_get_the_connack_then_close() {
    let fixture = Fixture::start(config()).await;
    let mut raw = Raw::open(fixture.addr).await;
    let mut bytes = good_connect("foobar/hasty");
    bytes.extend_from_slice(&[0xf0, 0x00]);
    raw.send_bytes(&bytes).await;
    let before = raw.expect_closed().await;
    match before.as_slice() {
        [Packet::ConnAck(ack)] => assert_eq!(ack.code as u8, 0),
        other => panic!("expected CONNACK then close, got {other:?}"),
    }
}

#[tokio::test]
async fn connections_over_the_limit_get_connack_3() {
    let mut cfg = config();
    cfg.max_connections = 2;
    let mut fixture = Fixture::start(cfg).await;
    let _one = Raw::connected(fixture.addr, &Login::new("foobar/1")).await;
    let _two = Raw::connected(fixture.addr, &Login::new("foobar/2")).await;
    let (mut third, _, code) = Raw::login(fixture.addr, &Login::new("foobar/3")).await;
    assert_eq!(code, 3, "CONNACK 3 (server unavailable)");
    assert!(third.expect_closed().await.is_empty());
    fixture
        .expect_event(
            "connection limit",
            |e| matches!(e, LogEvent::Rejected { reason, .. } if reason.contains("limit of 2")),
        )
        .await;
}

#[tokio::test]
async fn long_client_strings_are_cut_in_the_log() {
    let mut fixture = Fixture::start(config()).await;
    let huge = "x".repeat(65_535);
    for (client_id, username) in [
        (huge.as_bytes(), b"nobody".as_slice()),
        (b"foobar/a".as_slice(), huge.as_bytes()),
    ] {
        let mut raw = Raw::open(fixture.addr).await;
        raw.send_bytes(&connect_311(0x02, client_id, Some(username), Some(b"pw")))
            .await;
        raw.expect_closed().await;
        let event = fixture
            .expect_event("refusal", |e| matches!(e, LogEvent::Refused { .. }))
            .await;
        let line = event.to_string();
        assert!(
            line.len() < 400,
            "logged {} bytes: {}…",
            line.len(),
            &line[..200]
        );
        assert!(line.contains('…'), "{line}");
    }
}

#[tokio::test]
async fn an_idle_client_that_never_subscribes_is_closed() {
    let mut cfg = config();
    cfg.idle_timeout = Duration::from_millis(300);
    let mut fixture = Fixture::start(cfg).await;
    let sleepy = Login {
        keep_alive: 0,
        ..Login::new("foobar/idle")
    };
    let busy = Login {
        keep_alive: 0,
        ..Login::new("foobar/busy")
    };
    let mut subscriber = Raw::connected(fixture.addr, &busy).await;
    subscriber
        .subscribe(&[(&topic(APP), QoS::AtMostOnce)])
        .await;
    let mut idle = Raw::connected(fixture.addr, &sleepy).await;
    assert!(idle.expect_closed().await.is_empty());
    fixture
        .expect_event("idle close", |e| {
            matches!(
                e,
                LogEvent::Disconnected {
                    reason: CloseReason::Idle(_),
                    ..
                }
            )
        })
        .await;
    // The subscribed client, idle just as long, still gets pushes.
    fixture.publish(APP, "still here").await;
    assert_eq!(
        &receive(&mut subscriber, 1).await[0].payload[..],
        b"still here"
    );
}
