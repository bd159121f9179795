//! The platform's webhook, emulated: every push of an app is also POSTed to the app's
//! webhook URL as the platform does (PLATFORM.md "The webhook"): the push exactly as
//! published as the body, `Content-Type: application/json`, and the `X-ACCESS-NONCE`,
//! `X-ACCESS-SIGNATURE` (keyed with that app's AppSecret, see [`crate::webhook::Signer`]) and
//! `X-ACCESS-ID` headers.
//!
//! Each webhook has its own bounded queue and one delivery task, so a slow receiver never
//! slows the broker: when the queue is full the oldest push gives way (counted, reported in
//! one line). A failed attempt is one log line and is retried with backoff (2xx delivered;
//! 408, 429, 5xx and network errors retried; any other status given up at once) up to
//! [`MAX_ATTEMPTS`]. The AppSecret only keys the signature: it is never logged.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper::http::{self, HeaderValue, Method, Request, StatusCode};
use tokio::sync::{watch, Notify};

use super::broker::Broker;
use super::config::EmulatorConfig;
use super::log::LogEvent;
use super::shutdown::stopped;
use crate::error::{Error, Result};
use crate::webhook::{
    answer, connection_words, nonce_now, Answer, Endpoint, HttpClient, Signer, ID_HEADER,
    NONCE_HEADER, SIGNATURE_HEADER,
};

/// Attempts per push before it is given up.
pub const MAX_ATTEMPTS: u32 = 5;
const FIRST_BACKOFF: Duration = Duration::from_millis(200);
const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// The longest one request (answer included) may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// One app's webhook: where its pushes go, and the pushes waiting to go there.
pub(crate) struct Hook {
    /// Index of the app whose pushes it takes.
    pub(crate) app: usize,
    /// The URL as logged (credentials masked).
    name: String,
    endpoint: Endpoint,
    app_id: HeaderValue,
    signer: Signer,
    queue: Mutex<VecDeque<Bytes>>,
    capacity: usize,
    dropped: AtomicU64,
    wake: Notify,
}

impl Hook {
    /// Queues a push, pushing out the oldest when the queue is full. Never blocks on I/O.
    pub(crate) fn enqueue(&self, payload: &Bytes) {
        let mut queue = self
            .queue
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if queue.len() >= self.capacity {
            queue.pop_front();
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
        queue.push_back(payload.clone());
        drop(queue);
        self.wake.notify_one();
    }

    fn next(&self) -> Option<Bytes> {
        self.queue
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .pop_front()
    }
}

/// The webhooks of `config`, one per (URL, app). Fails (kind `Usage`) for an unknown AppID
/// or a URL that is no http(s) URL.
pub(crate) fn build(config: &EmulatorConfig) -> Result<Vec<Hook>> {
    let mut hooks = Vec::new();
    for webhook in &config.webhooks {
        let name = crate::relay::redact_url(&webhook.url);
        let endpoint = Endpoint::parse(&webhook.url)
            .map_err(|err| Error::usage(format!("--webhook {name}: {err}")))?;
        let apps: Vec<usize> = match &webhook.app_id {
            Some(id) => {
                let index = config
                    .apps
                    .iter()
                    .position(|app| app.app_id == *id)
                    .ok_or_else(|| {
                        Error::usage(format!(
                            "--webhook for '{}': no such app",
                            id.escape_debug()
                        ))
                    })?;
                vec![index]
            }
            None => (0..config.apps.len()).collect(),
        };
        for app in apps {
            let app_config = &config.apps[app];
            let app_id = HeaderValue::from_str(&app_config.app_id).map_err(|_| {
                Error::usage(format!(
                    "AppID '{}' cannot go in a header",
                    app_config.app_id.escape_debug()
                ))
            })?;
            hooks.push(Hook {
                app,
                name: name.clone(),
                endpoint: endpoint.clone(),
                app_id,
                signer: Signer::new(&app_config.app_secret),
                queue: Mutex::new(VecDeque::new()),
                capacity: config.webhook_queue.max(1),
                dropped: AtomicU64::new(0),
                wake: Notify::new(),
            });
        }
    }
    Ok(hooks)
}

/// Delivers webhook `index`'s pushes, one at a time in order, until shutdown.
pub(crate) async fn deliver(
    broker: Arc<Broker>,
    index: usize,
    client: HttpClient,
    mut shutdown: watch::Receiver<bool>,
) {
    let Some(hook) = broker.hooks.get(index) else {
        return;
    };
    loop {
        let dropped = hook.dropped.swap(0, Ordering::Relaxed);
        if dropped > 0 {
            broker.logger.emit(|| LogEvent::WebhookDropped {
                url: hook.name.clone(),
                dropped,
            });
        }
        let Some(payload) = hook.next() else {
            tokio::select! {
                () = hook.wake.notified() => continue,
                () = stopped(&mut shutdown) => return,
            }
        };
        if !send(&broker, hook, &client, &payload, &mut shutdown).await {
            return;
        }
    }
}

/// What one attempt came to.
enum Outcome {
    Delivered,
    Retry(String),
    Rejected(String),
}

/// Sends one push with its retries; false when shutdown came first.
async fn send(
    broker: &Broker,
    hook: &Hook,
    client: &HttpClient,
    payload: &Bytes,
    shutdown: &mut watch::Receiver<bool>,
) -> bool {
    let mut backoff = FIRST_BACKOFF;
    for attempt in 1..=MAX_ATTEMPTS {
        let outcome = tokio::select! {
            outcome = post(hook, client, payload) => outcome,
            () = stopped(shutdown) => return false,
        };
        let (detail, retry_in) = match outcome {
            Outcome::Delivered => return true,
            Outcome::Rejected(detail) => (detail, None),
            Outcome::Retry(detail) => (detail, (attempt < MAX_ATTEMPTS).then_some(backoff)),
        };
        broker.logger.emit(|| LogEvent::WebhookFailed {
            url: hook.name.clone(),
            attempt,
            detail,
            retry_in,
        });
        let Some(wait) = retry_in else {
            return true;
        };
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            () = stopped(shutdown) => return false,
        }
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
    true
}

async fn post(hook: &Hook, client: &HttpClient, payload: &Bytes) -> Outcome {
    let nonce = nonce_now();
    let signature = hook
        .signer
        .sign(&nonce, "POST", &hook.endpoint.signed_url, payload);
    let request = Request::builder()
        .method(Method::POST)
        .uri(hook.endpoint.uri.clone())
        .header(http::header::CONTENT_TYPE, "application/json")
        .header(NONCE_HEADER, nonce)
        .header(SIGNATURE_HEADER, signature)
        .header(ID_HEADER, hook.app_id.clone())
        .body(Full::new(payload.clone()));
    let request = match request {
        Ok(request) => request,
        Err(err) => return Outcome::Rejected(format!("cannot build the request: {err}")),
    };
    let exchange = async {
        let response = client.request(request).await?;
        let status = response.status();
        // Read the answer to its end so the connection can be reused.
        let _ = response.into_body().collect().await;
        Ok::<StatusCode, hyper_util::client::legacy::Error>(status)
    };
    match tokio::time::timeout(REQUEST_TIMEOUT, exchange).await {
        Ok(Ok(status)) => outcome(status),
        Ok(Err(err)) => Outcome::Retry(connection_words(&err)),
        Err(_) => Outcome::Retry(format!("no answer within {} s", REQUEST_TIMEOUT.as_secs())),
    }
}

/// 2xx delivered; 408, 429, 5xx retried; any other 4xx given up; anything else retried.
fn outcome(status: StatusCode) -> Outcome {
    match answer(status) {
        Answer::Taken => Outcome::Delivered,
        Answer::Retry(words) => Outcome::Retry(words),
        Answer::Refused { words, .. } => Outcome::Rejected(words),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_are_delivered_retried_or_given_up() {
        assert!(matches!(outcome(StatusCode::OK), Outcome::Delivered));
        assert!(matches!(
            outcome(StatusCode::NO_CONTENT),
            Outcome::Delivered
        ));
        for retried in [408, 429, 500, 503, 302] {
            let status = StatusCode::from_u16(retried).expect("status");
            assert!(matches!(outcome(status), Outcome::Retry(_)), "{retried}");
        }
        for rejected in [400, 401, 404] {
            let status = StatusCode::from_u16(rejected).expect("status");
            assert!(
                matches!(outcome(status), Outcome::Rejected(_)),
                "{rejected}"
            );
        }
    }
}
