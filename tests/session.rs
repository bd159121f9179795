//! The MQTT session (src/mqtt/session.rs) against the in-process emulator: keep-alive pings
//! hold a quiet connection open, and a QoS 1 push comes back on a persistent session until
//! it is acknowledged, and never after.

mod common;

use std::time::Duration;

use common::broker::Broker;
use rumqttc::mqttbytes::QoS;
use sensoro_mqtt::emulator::EmulatorConfig;
use sensoro_mqtt::mqtt::session::{AckToken, Event, Session};
use sensoro_mqtt::mqtt::{Backoff, SessionSettings, DEFAULT_MAX_PAYLOAD};
use sensoro_mqtt::secret::Secret;

fn settings(broker: &Broker, client: &str, keep_alive: Duration, clean: bool) -> SessionSettings {
    SessionSettings {
        host: "127.0.0.1".into(),
        port: broker.port().parse().expect("port"),
        app_id: "foobar".into(),
        app_secret: Secret::new("secret-1"),
        client_id: format!("foobar/{client}"),
        clean_session: clean,
        keep_alive,
        tls: None,
        max_payload: DEFAULT_MAX_PAYLOAD,
    }
}

fn session(settings: SessionSettings) -> Session {
    let backoff = Backoff::new(Duration::from_millis(100), Duration::from_secs(1));
    Session::new(
        settings,
        "users/foobar/devices".into(),
        QoS::AtLeastOnce,
        backoff,
    )
}

/// A push's payload, its DUP flag and what acknowledges it.
type Push = (Vec<u8>, bool, Option<AckToken>);

/// Waits (bounded) for the next push; `None` when none came in time. Panics on a loss.
async fn next_push(session: &mut Session, within: Duration) -> Option<Push> {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let event = tokio::time::timeout_at(deadline, session.next())
            .await
            .ok()?;
        match event.expect("the session goes on") {
            Event::Messages(mut messages) => {
                if let Some(message) = messages.next() {
                    let publish = message.publish;
                    return Some((publish.payload.to_vec(), publish.dup, message.ack));
                }
            }
            Event::Lost { error, .. } => panic!("connection lost: {error}"),
            Event::Connected { .. } | Event::Subscribed { .. } => {}
        }
    }
}

fn quiet_broker() -> Broker {
    Broker::start(EmulatorConfig {
        devices: 0,
        ..EmulatorConfig::default()
    })
}

#[test]
fn keep_alive_pings_hold_a_quiet_connection_open() {
    let broker = quiet_broker();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let mut session = session(settings(&broker, "ka", Duration::from_secs(1), true));
    runtime.block_on(async {
        // Connected and subscribed, then nothing for 3 s: the emulator drops a client silent
        // for 1.5 × its keep-alive, so only the pings keep this one.
        assert!(next_push(&mut session, Duration::from_secs(3))
            .await
            .is_none());
        assert!(
            session.is_connected(),
            "still connected after 3 keep-alive periods"
        );
    });
    broker.publish_when_subscribed(&[b"{\"sn\":\"after\"}"]);
    runtime.block_on(async {
        let (payload, _, _) = next_push(&mut session, Duration::from_secs(10))
            .await
            .expect("a push after the quiet time");
        assert_eq!(payload, b"{\"sn\":\"after\"}");
    });
}

#[test]
fn an_unacknowledged_push_comes_back_and_an_acknowledgement_lets_the_next_one_through() {
    // One push in flight at a time: the next one comes only once this one is acknowledged.
    let broker = Broker::start(EmulatorConfig {
        devices: 0,
        max_inflight: 1,
        ..EmulatorConfig::default()
    });
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let keep = Duration::from_secs(30);
    let mut first = session(settings(&broker, "p", keep, false));
    runtime.block_on(async {
        // Register the persistent session.
        while !first.is_connected() {
            let _ = tokio::time::timeout(Duration::from_secs(5), first.next()).await;
        }
    });
    broker.publish_when_subscribed(&[b"{\"n\":1}", b"{\"n\":2}"]);
    runtime.block_on(async {
        let (payload, dup, _) = next_push(&mut first, Duration::from_secs(10))
            .await
            .expect("the first push");
        assert_eq!((payload.as_slice(), dup), (&b"{\"n\":1}"[..], false));
        assert!(
            next_push(&mut first, Duration::from_millis(300))
                .await
                .is_none(),
            "the second push waits for the first one's acknowledgement"
        );
        first.disconnect().await;

        // Not acknowledged: the broker sends it again, marked as a duplicate.
        let mut second = session(settings(&broker, "p", keep, false));
        let (payload, dup, token) = next_push(&mut second, Duration::from_secs(10))
            .await
            .expect("the first push again");
        assert_eq!((payload.as_slice(), dup), (&b"{\"n\":1}"[..], true));
        second.ack(token.expect("QoS 1 pushes carry a token"));
        second.flush().await;
        let (payload, _, _) = next_push(&mut second, Duration::from_secs(10))
            .await
            .expect("the acknowledgement lets the second push through");
        assert_eq!(payload, b"{\"n\":2}");
    });
}
