//! `webhooks`: every push also POSTed as the platform's webhook does, checked by a receiver
//! that verifies the signature the way the platform's demo does; retries and the bounded
//! queue.

use std::time::Duration;

use sensoro_mqtt::emulator::{EmulatorConfig, LogEvent, WebhookConfig};

use crate::common::receiver::Receiver;
use crate::harness::*;

/// Waits (bounded) until `done` holds; the receiver runs on its own threads and has no
/// readiness signal of its own.
async fn wait_until(what: &str, done: impl Fn() -> bool) {
    let deadline = tokio::time::Instant::now() + WAIT;
    while !done() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "never happened: {what}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn with_webhook(app_id: Option<&str>, url: String) -> EmulatorConfig {
    let mut cfg = config();
    cfg.webhooks = vec![WebhookConfig {
        app_id: app_id.map(str::to_owned),
        url,
    }];
    cfg
}

fn push(n: usize) -> String {
    format!(r#"{{"appId":"foobar","sn":"0117C9{n:04}","msgId":"m{n}","data":{{"battery":{n}}}}}"#)
}

#[tokio::test]
async fn every_push_reaches_the_webhook_signed_with_the_apps_secret() {
    let receiver = Receiver::start(APP, SECRET);
    let fixture = Fixture::start(with_webhook(None, receiver.url())).await;
    let pushes: Vec<String> = (0..5).map(push).collect();
    for body in &pushes {
        fixture.publish(APP, body).await;
    }
    wait_until("five pushes accepted", || {
        receiver.with(|s| s.accepted.len() >= 5)
    })
    .await;
    receiver.with(|s| {
        assert_eq!(s.bad_signatures, 0);
        assert_eq!(
            s.accepted, pushes,
            "every push, exactly as published, in order"
        );
    });
}

#[tokio::test]
async fn a_per_app_webhook_takes_only_its_apps_pushes() {
    let receiver = Receiver::start(OTHER_APP, OTHER_SECRET);
    let fixture = Fixture::start(with_webhook(Some(OTHER_APP), receiver.url())).await;
    fixture.publish(APP, &push(1)).await;
    fixture.publish(OTHER_APP, "{\"appId\":\"otherapp\"}").await;
    wait_until("the other app's push", || {
        receiver.with(|s| s.requests >= 1)
    })
    .await;
    receiver.with(|s| {
        assert_eq!(s.bad_signatures, 0, "signed with otherapp's AppSecret");
        assert_eq!(s.accepted, vec!["{\"appId\":\"otherapp\"}".to_owned()]);
    });
}

#[tokio::test]
async fn a_500_is_retried_and_each_failure_logged_once() {
    let receiver = Receiver::start(APP, SECRET);
    receiver.with(|s| s.fail_500 = 2);
    let mut fixture = Fixture::start(with_webhook(None, receiver.url())).await;
    fixture.publish(APP, &push(7)).await;
    wait_until("the push accepted", || {
        receiver.with(|s| !s.accepted.is_empty())
    })
    .await;
    receiver.with(|s| {
        assert_eq!(s.requests, 3, "two 500s, then 200");
        assert_eq!(s.accepted, vec![push(7)]);
    });
    for attempt in [1, 2] {
        let event = fixture
            .expect_event(&format!("failure {attempt}"), |e| {
                matches!(e, LogEvent::WebhookFailed { attempt: a, retry_in: Some(_), .. } if *a == attempt)
            })
            .await;
        assert!(event.to_string().contains("HTTP 500"), "{event}");
        assert!(!event.to_string().contains(SECRET), "{event}");
    }
    let more = fixture
        .drain()
        .into_iter()
        .filter(|e| matches!(e, LogEvent::WebhookFailed { .. }))
        .count();
    assert_eq!(more, 0, "one line per failure");
}

#[tokio::test]
async fn a_full_queue_drops_the_oldest_and_says_how_many() {
    let receiver = Receiver::start(APP, SECRET);
    receiver.with(|s| s.hang = true);
    let mut cfg = with_webhook(None, receiver.url());
    cfg.webhook_queue = 2;
    let mut fixture = Fixture::start(cfg).await;
    fixture.publish(APP, &push(0)).await;
    wait_until("the first request hangs", || {
        receiver.with(|s| s.requests == 1)
    })
    .await;
    for n in 1..=5 {
        fixture.publish(APP, &push(n)).await;
    }
    receiver.with(|s| s.hang = false);
    wait_until("the survivors accepted", || {
        receiver.with(|s| s.accepted.len() >= 3)
    })
    .await;
    receiver.with(|s| {
        assert_eq!(s.accepted, vec![push(0), push(4), push(5)]);
    });
    fixture
        .expect_event("the drop count", |e| {
            matches!(e, LogEvent::WebhookDropped { dropped: 3, .. })
        })
        .await;
}
