//! `--to http(s)://…`: POST each push as the platform's webhook does — the body exactly as
//! received (safe mode opened in place), `Content-Type: application/json`, and the signature
//! headers of [`crate::webhook`] — so an existing webhook receiver works over MQTT unchanged.
//!
//! 2xx: committed. 408, 429, 5xx, timeouts and connection errors: retried with backoff (not
//! acknowledged meanwhile). Any other status: rejected for good, to the dead letter with the
//! status. Connections are kept alive and reused; at most `--concurrency` requests at once,
//! one device's pushes one after another.
//!
//! HTTP is hyper-util's pooled client over hyper-rustls with the ring provider only, the
//! same rustls as the MQTT side: one TLS stack and one crypto provider in the tree.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper::http::{self, HeaderValue, Method, Request, StatusCode, Uri};

use super::{by_device, redact_url, CommitFuture, Record, Target, Verdict};
use crate::error::{Error, ExitKind, Result};
use crate::secret::Secret;
use crate::webhook::{
    answer, connection_words, http_client, nonce_now, Answer, Endpoint, HttpClient, Signer,
    ID_HEADER, NONCE_HEADER, SIGNATURE_HEADER,
};

/// How the webhook target behaves.
#[derive(Debug, Clone)]
pub struct WebhookOptions {
    /// Requests at once.
    pub concurrency: usize,
    /// The longest a request (answer included) may take.
    pub timeout: Duration,
}

/// A webhook receiver.
pub struct WebhookTarget {
    name: String,
    uri: Uri,
    /// The URL as the receiver sees it, which is what is signed.
    signed_url: String,
    app_id: HeaderValue,
    signer: Arc<Signer>,
    client: HttpClient,
    options: WebhookOptions,
}

impl WebhookTarget {
    /// A target for `url`, signing with the AppSecret of `app_id`.
    ///
    /// # Errors
    ///
    /// Exit 2 for a URL that cannot be parsed; the TLS set-up's error.
    pub fn new(
        url: &str,
        app_id: &str,
        app_secret: &Secret,
        options: WebhookOptions,
    ) -> Result<WebhookTarget> {
        let name = redact_url(url);
        let Endpoint { uri, signed_url } =
            Endpoint::parse(url).map_err(|err| Error::usage(format!("--to {name}: {err}")))?;
        let app_id = HeaderValue::from_str(app_id)
            .map_err(|_| Error::config(format!("AppID '{app_id}' cannot go in a header")))?;
        let client = http_client(options.concurrency)?;
        Ok(WebhookTarget {
            name,
            uri,
            signed_url,
            app_id,
            signer: Arc::new(Signer::new(app_secret)),
            client,
            options,
        })
    }

    fn request(&self, record: &Record) -> Result<Request<Full<Bytes>>, http::Error> {
        let body = Bytes::copy_from_slice(record.json.as_bytes());
        let nonce = nonce_now();
        let signature = self.signer.sign(&nonce, "POST", &self.signed_url, &body);
        Request::builder()
            .method(Method::POST)
            .uri(self.uri.clone())
            .header(http::header::CONTENT_TYPE, "application/json")
            .header(NONCE_HEADER, nonce)
            .header(SIGNATURE_HEADER, signature)
            .header(ID_HEADER, self.app_id.clone())
            .body(Full::new(body))
    }

    async fn post(&self, record: Arc<Record>) -> Verdict {
        let request = match self.request(&record) {
            Ok(request) => request,
            Err(err) => {
                return Verdict::Rejected {
                    reason: format!("cannot build the request: {err}"),
                    status: None,
                }
            }
        };
        let exchange = async {
            let response = self.client.request(request).await?;
            let status = response.status();
            // Read the answer to its end so the connection can be reused.
            let _ = response.into_body().collect().await;
            Ok::<StatusCode, hyper_util::client::legacy::Error>(status)
        };
        match tokio::time::timeout(self.options.timeout, exchange).await {
            Ok(Ok(status)) => verdict(status),
            Ok(Err(err)) => Verdict::Retry(connection_words(&err)),
            Err(_) => Verdict::Retry(format!(
                "no answer within {:.1}s",
                self.options.timeout.as_secs_f64()
            )),
        }
    }
}

/// 2xx committed; 408, 429 and 5xx retried; any other 4xx rejected for good; anything else
/// (1xx, 3xx: redirects are not followed) retried.
#[must_use]
pub fn verdict(status: StatusCode) -> Verdict {
    match answer(status) {
        Answer::Taken => Verdict::Committed,
        Answer::Retry(words) => Verdict::Retry(words),
        Answer::Refused { words, status } => Verdict::Rejected {
            reason: words,
            status: Some(status),
        },
    }
}

impl Target for WebhookTarget {
    fn name(&self) -> &str {
        &self.name
    }

    fn commit<'a>(&'a mut self, batch: &'a [Arc<Record>]) -> CommitFuture<'a> {
        let this = &*self;
        Box::pin(async move {
            Ok(by_device(batch, this.options.concurrency, |record| this.post(record)).await)
        })
    }
}

/// `--concurrency` must be at least 1.
///
/// # Errors
///
/// Exit 2 for 0.
pub fn check_concurrency(n: usize) -> Result<usize> {
    if n == 0 {
        return Err(Error::new(
            ExitKind::Usage,
            "--concurrency must be at least 1",
        ));
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_map_to_the_documented_verdicts() {
        assert_eq!(verdict(StatusCode::OK), Verdict::Committed);
        assert_eq!(verdict(StatusCode::NO_CONTENT), Verdict::Committed);
        for retried in [408, 429, 500, 502, 503] {
            let status = StatusCode::from_u16(retried).expect("status");
            assert!(matches!(verdict(status), Verdict::Retry(_)), "{retried}");
        }
        for rejected in [400, 401, 403, 404, 422] {
            let status = StatusCode::from_u16(rejected).expect("status");
            assert_eq!(
                verdict(status),
                Verdict::Rejected {
                    reason: format!(
                        "HTTP {rejected} {}",
                        status.canonical_reason().unwrap_or("")
                    ),
                    status: Some(rejected)
                }
            );
        }
        assert!(matches!(verdict(StatusCode::FOUND), Verdict::Retry(_)));
    }

    #[test]
    fn the_signed_url_is_the_full_url_with_a_path() {
        let options = WebhookOptions {
            concurrency: 2,
            timeout: Duration::from_secs(1),
        };
        let target = WebhookTarget::new(
            "http://127.0.0.1:9/",
            "foobar",
            &Secret::new("s"),
            options.clone(),
        )
        .expect("target");
        assert_eq!(target.signed_url, "http://127.0.0.1:9/");
        let target = WebhookTarget::new(
            "HTTP://h:1?x=1",
            "foobar",
            &Secret::new("s"),
            options.clone(),
        )
        .expect("target");
        assert_eq!(target.signed_url, "http://h:1/?x=1");
        assert!(WebhookTarget::new("http://", "foobar", &Secret::new("s"), options).is_err());
    }
}
