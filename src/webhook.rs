//! The platform's webhook signature (PLATFORM.md, "The webhook"), shared by `relay`'s webhook
//! target and the emulator's webhook: HMAC-SHA256 keyed with the AppSecret over
//! `nonce + METHOD + full URL + body`, base64, sent in `X-ACCESS-SIGNATURE` next to
//! `X-ACCESS-NONCE` (Unix milliseconds as text) and `X-ACCESS-ID` (the AppID).
//!
//! The AppSecret only keys the MAC: it never appears in a header, a message or a `Debug`.

use base64::Engine as _;
use ring::hmac;

use crate::secret::Secret;

/// Header carrying the nonce (the current Unix time in milliseconds, as text).
pub const NONCE_HEADER: &str = "X-ACCESS-NONCE";
/// Header carrying the base64 signature.
pub const SIGNATURE_HEADER: &str = "X-ACCESS-SIGNATURE";
/// Header carrying the AppID.
pub const ID_HEADER: &str = "X-ACCESS-ID";

/// Signs requests for one app; the key is prepared once and reused.
pub struct Signer {
    key: hmac::Key,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Signer(redacted)")
    }
}

impl Signer {
    /// A signer keyed with the AppSecret.
    #[must_use]
    pub fn new(app_secret: &Secret) -> Self {
        Signer {
            key: hmac::Key::new(hmac::HMAC_SHA256, app_secret.expose().as_bytes()),
        }
    }

    /// The signature of one request: base64 of HMAC-SHA256 over
    /// `nonce + METHOD + url + body` (`method` is upper-cased; `url` is the full URL as the
    /// receiver sees it, scheme and host included; `body` exactly as sent).
    #[must_use]
    pub fn sign(&self, nonce: &str, method: &str, url: &str, body: &[u8]) -> String {
        let tag = hmac::sign(&self.key, &message(nonce, method, url, body));
        base64::engine::general_purpose::STANDARD.encode(tag.as_ref())
    }

    /// True when `signature` is the right one for this request (compared in constant time).
    #[must_use]
    pub fn verify(
        &self,
        nonce: &str,
        method: &str,
        url: &str,
        body: &[u8],
        signature: &str,
    ) -> bool {
        let Ok(tag) = base64::engine::general_purpose::STANDARD.decode(signature.trim()) else {
            return false;
        };
        hmac::verify(&self.key, &message(nonce, method, url, body), &tag).is_ok()
    }
}

fn message(nonce: &str, method: &str, url: &str, body: &[u8]) -> Vec<u8> {
    let method = method.to_ascii_uppercase();
    let mut message = Vec::with_capacity(nonce.len() + method.len() + url.len() + body.len());
    message.extend_from_slice(nonce.as_bytes());
    message.extend_from_slice(method.as_bytes());
    message.extend_from_slice(url.as_bytes());
    message.extend_from_slice(body);
    message
}

/// A nonce for now: the Unix time in milliseconds, as text.
#[must_use]
pub fn nonce_now() -> String {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis())
        .to_string()
}

/// The HTTP client both webhook senders use: hyper-util's pooled client over hyper-rustls
/// with the ring provider only (the same rustls as the MQTT side), HTTP/1.1, http and https.
pub type HttpClient = hyper_util::client::legacy::Client<
    hyper_rustls::HttpsConnector<hyper_util::client::legacy::connect::HttpConnector>,
    http_body_util::Full<bytes::Bytes>,
>;

/// A pooled HTTP client keeping up to `idle_per_host` idle connections per host.
///
/// # Errors
///
/// The TLS set-up's error (no usable root certificates).
pub fn http_client(idle_per_host: usize) -> crate::error::Result<HttpClient> {
    let tls = crate::tls::TlsClient::new(None)?;
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config((*tls.config).clone())
        .https_or_http()
        .enable_http1()
        .build();
    Ok(
        hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
            .pool_idle_timeout(std::time::Duration::from_secs(60))
            .pool_max_idle_per_host(idle_per_host.max(1))
            .build(https),
    )
}

/// A webhook URL, parsed: what to request, and the URL as the receiver rebuilds it
/// (`scheme://host[:port]` + path, at least "/", + query), which is what is signed.
#[derive(Debug, Clone)]
pub struct Endpoint {
    /// The request URI.
    pub uri: hyper::http::Uri,
    /// The signed URL.
    pub signed_url: String,
}

impl Endpoint {
    /// Parses an `http://` or `https://` URL; the error says what is wrong, in words.
    ///
    /// # Errors
    ///
    /// Not a URL, another scheme, or no host.
    pub fn parse(url: &str) -> std::result::Result<Endpoint, String> {
        let uri: hyper::http::Uri = url.parse().map_err(|err| format!("not a URL ({err})"))?;
        let (Some(scheme), Some(authority)) = (uri.scheme_str(), uri.authority()) else {
            return Err("the URL needs a scheme and a host".to_owned());
        };
        let scheme = scheme.to_ascii_lowercase();
        if scheme != "http" && scheme != "https" {
            return Err(format!("the scheme must be http or https, not {scheme}"));
        }
        let path = match uri.path() {
            "" => "/",
            path => path,
        };
        let query = uri.query().map(|q| format!("?{q}")).unwrap_or_default();
        let signed_url = format!("{scheme}://{authority}{path}{query}");
        let uri = signed_url
            .parse()
            .map_err(|err| format!("not a URL ({err})"))?;
        Ok(Endpoint { uri, signed_url })
    }
}

/// What a webhook receiver's answer means, the platform's way: 2xx taken; 408, 429 and 5xx
/// "try again"; any other 4xx "never" (the status says why); anything else (1xx, 3xx:
/// redirects are not followed) tried again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// 2xx.
    Taken,
    /// Worth trying again, with the status in words.
    Retry(String),
    /// Refused for good, with the status in words and its code.
    Refused {
        /// `HTTP 400 Bad Request`.
        words: String,
        /// The status code.
        status: u16,
    },
}

/// Classifies a receiver's status (see [`Answer`]).
#[must_use]
pub fn answer(status: hyper::http::StatusCode) -> Answer {
    use hyper::http::StatusCode;
    let words = format!(
        "HTTP {} {}",
        status.as_u16(),
        status.canonical_reason().unwrap_or_default()
    )
    .trim_end()
    .to_owned();
    if status.is_success() {
        Answer::Taken
    } else if status == StatusCode::REQUEST_TIMEOUT
        || status == StatusCode::TOO_MANY_REQUESTS
        || status.is_server_error()
    {
        Answer::Retry(words)
    } else if status.is_client_error() {
        Answer::Refused {
            words,
            status: status.as_u16(),
        }
    } else {
        Answer::Retry(format!("{words} (redirects are not followed)"))
    }
}

/// A failed request in words: whether the connection could be made, then every cause.
#[must_use]
pub fn connection_words(err: &hyper_util::client::legacy::Error) -> String {
    let mut text = if err.is_connect() {
        "cannot connect".to_owned()
    } else {
        "the request failed".to_owned()
    };
    let mut source = std::error::Error::source(err);
    while let Some(inner) = source {
        text.push_str(&format!(": {inner}"));
        source = inner.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    const BODY: &[u8] = br#"{"appId":"foobar","sn":"0117C9","data":{"t":21.5}}"#;
    const URL: &str = "http://127.0.0.1:8080/hook?x=1";

    /// Computed independently with Python's standard library:
    /// `base64.b64encode(hmac.new(b"secret-1", (nonce + "POST" + URL).encode() + BODY,
    /// hashlib.sha256).digest())`.
    const VECTOR: &str = "u4pGYTn/0E5zMcxJBhiDgJSKs555GCSwuWoBLUwo4EA=";

    #[test]
    fn the_signature_matches_an_independent_hmac_sha256() {
        let signer = Signer::new(&Secret::new("secret-1"));
        assert_eq!(signer.sign("1732400000000", "POST", URL, BODY), VECTOR);
        assert_eq!(
            signer.sign("1732400000000", "post", URL, BODY),
            VECTOR,
            "the method is upper-cased"
        );
    }

    #[test]
    fn verify_accepts_the_right_signature_only() {
        let signer = Signer::new(&Secret::new("secret-1"));
        assert!(signer.verify("1732400000000", "POST", URL, BODY, VECTOR));
        assert!(!signer.verify("1732400000001", "POST", URL, BODY, VECTOR));
        assert!(!signer.verify(
            "1732400000000",
            "POST",
            "http://127.0.0.1:8080/hook",
            BODY,
            VECTOR
        ));
        assert!(!signer.verify("1732400000000", "POST", URL, b"{}", VECTOR));
        assert!(!signer.verify("1732400000000", "POST", URL, BODY, "not base64!"));
        let other = Signer::new(&Secret::new("secret-2"));
        assert!(!other.verify("1732400000000", "POST", URL, BODY, VECTOR));
    }

    #[test]
    fn the_secret_never_shows() {
        let signer = Signer::new(&Secret::new("very-secret-value"));
        assert!(!format!("{signer:?}").contains("very-secret-value"));
    }

    #[test]
    fn endpoints_sign_the_full_url_with_a_path() {
        let plain = Endpoint::parse("http://127.0.0.1:9").expect("endpoint");
        assert_eq!(plain.signed_url, "http://127.0.0.1:9/");
        let query = Endpoint::parse("HTTP://h:1?x=1").expect("endpoint");
        assert_eq!(query.signed_url, "http://h:1/?x=1");
        assert!(Endpoint::parse("http://").is_err());
        assert!(Endpoint::parse("ftp://h/x").is_err());
        assert!(Endpoint::parse("/just/a/path").is_err());
    }

    #[test]
    fn the_nonce_is_unix_milliseconds() {
        let nonce: u128 = nonce_now().parse().expect("digits");
        assert!(nonce > 1_700_000_000_000, "{nonce}");
    }
}
