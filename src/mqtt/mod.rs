//! The MQTT client side: settings, the session ([`session`]), the packets ([`wire`]),
//! backoff, and the one place where connection failures become words ([`closed_by_broker`],
//! [`not_mqtt`], [`refused`], [`io_error`]): `listen` gets them from its session, `connect`
//! from its own socket, and both say the same thing about the same server.
//!
//! The secret travels in a [`Secret`] until the CONNECT packet is written; nothing here logs
//! it.

pub mod session;
pub mod wire;

use std::time::Duration;

use rumqttc::mqttbytes::v4::ConnectReturnCode;

use crate::error::{Error, ExitKind};
use crate::secret::Secret;
use crate::tls::TlsClient;

/// The default of `--max-payload`: the largest push accepted. rumqttc's read buffer grows
/// only when such a push arrives, so a high limit costs nothing until then.
pub const DEFAULT_MAX_PAYLOAD: usize = 64 * 1024 * 1024;
/// MQTT's own limit on a packet's remaining length (256 MiB - 1).
pub const MQTT_MAX_PACKET: usize = 268_435_455;

/// Parses a size: `65536`, `512k`, `4MiB`, `64M`, `1G` (k/M/G and KiB/MiB/GiB are powers of
/// 1024), at most MQTT's own packet limit.
///
/// # Errors
///
/// Words for a text that is not such a size.
pub fn parse_size(text: &str) -> Result<usize, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: usize = number
        .parse()
        .map_err(|_| format!("'{text}' is not a size (e.g. 65536, 512k, 4MiB, 64M)"))?;
    let scale: usize = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        other => return Err(format!("unknown size unit '{other}' (use k, M or G)")),
    };
    match number.checked_mul(scale) {
        Some(0) => Err("the size must be above 0".to_owned()),
        Some(size) if size <= MQTT_MAX_PACKET => Ok(size),
        _ => Err(format!(
            "'{text}' is over MQTT's own limit of {MQTT_MAX_PACKET} bytes (256 MiB)"
        )),
    }
}

/// A byte count in words: `2,048 bytes (2.0 KiB)`.
#[must_use]
pub fn size_words(bytes: usize) -> String {
    let (value, unit) = if bytes >= 1 << 20 {
        (bytes as f64 / f64::from(1u32 << 20), "MiB")
    } else {
        (bytes as f64 / 1024.0, "KiB")
    };
    format!("{bytes} bytes ({value:.1} {unit})")
}

/// Everything needed to open a session.
#[derive(Debug, Clone)]
pub struct SessionSettings {
    /// Broker host.
    pub host: String,
    /// Broker port.
    pub port: u16,
    /// AppID (username).
    pub app_id: String,
    /// AppSecret (password).
    pub app_secret: Secret,
    /// The clientId, already checked against the platform rule.
    pub client_id: String,
    /// Clean session (false keeps a persistent session on the broker).
    pub clean_session: bool,
    /// Keep-alive interval.
    pub keep_alive: Duration,
    /// TLS client configuration; `None` for plain MQTT.
    pub tls: Option<TlsClient>,
    /// The largest incoming packet accepted (`--max-payload`).
    pub max_payload: usize,
}

/// A CONNACK return code in words (MQTT 3.1.1).
#[must_use]
pub fn refusal_words(code: ConnectReturnCode) -> &'static str {
    match code {
        ConnectReturnCode::Success => "accepted",
        ConnectReturnCode::RefusedProtocolVersion => "unacceptable protocol version",
        ConnectReturnCode::BadClientId => "identifier rejected",
        ConnectReturnCode::ServiceUnavailable => "server unavailable",
        ConnectReturnCode::BadUserNamePassword => "bad user name or password",
        ConnectReturnCode::NotAuthorized => "not authorized",
    }
}

/// What a refusal most likely means on this platform.
#[must_use]
pub fn refusal_hint(code: ConnectReturnCode) -> &'static str {
    match code {
        ConnectReturnCode::NotAuthorized | ConnectReturnCode::BadUserNamePassword => {
            "the platform refuses with code 5 when the AppID (username), the AppSecret \
             (password) or the clientId is wrong: check them on the developer page; the \
             clientId must be <AppID> or <AppID>/ followed by at most 36 of A-Z a-z 0-9 - _"
        }
        ConnectReturnCode::BadClientId => {
            "the clientId must be <AppID> or <AppID>/ followed by at most 36 of A-Z a-z 0-9 - _"
        }
        ConnectReturnCode::RefusedProtocolVersion => {
            "the broker does not speak MQTT 3.1.1; check host and port"
        }
        ConnectReturnCode::ServiceUnavailable | ConnectReturnCode::Success => {
            "the broker is not taking connections now; try again later"
        }
    }
}

/// The numeric CONNACK code.
#[must_use]
pub fn refusal_code(code: ConnectReturnCode) -> u8 {
    code as u8
}

/// Exponential backoff with jitter, bounded.
#[derive(Debug, Clone)]
pub struct Backoff {
    attempt: u32,
    base: Duration,
    max: Duration,
}

impl Backoff {
    /// Starts at `base`, doubles up to `max`.
    #[must_use]
    pub fn new(base: Duration, max: Duration) -> Self {
        Backoff {
            attempt: 0,
            base,
            max,
        }
    }

    /// The next delay: base·2ⁿ capped at max, minus up to 25 % jitter.
    pub fn next_delay(&mut self) -> Duration {
        let factor = 1u32 << self.attempt.min(16);
        self.attempt = self.attempt.saturating_add(1);
        let full = self.base.saturating_mul(factor).min(self.max);
        let mut byte = [0u8; 1];
        let jitter = if getrandom::fill(&mut byte).is_ok() {
            f64::from(byte[0]) / 255.0 * 0.25
        } else {
            0.0
        };
        full.mul_f64(1.0 - jitter)
    }

    /// Back to the first delay after a successful connection.
    pub fn reset(&mut self) {
        self.attempt = 0;
    }
}

/// Who the session talks to, as far as explaining a failure needs it.
#[derive(Debug, Clone, Default)]
pub struct Peer {
    /// The broker host (certificates are checked against it).
    pub host: String,
    /// What TLS trusts ([`TlsClient::describe_roots`]); `None` for plain MQTT.
    pub tls: Option<String>,
    /// A CONNACK arrived on this connection: a bad packet now is the broker's fault, not a
    /// sign that this is no broker at all.
    pub connected: bool,
}

/// The words for a peer that hung up.
#[must_use]
pub fn closed_by_broker() -> &'static str {
    "the broker closed the connection"
}

/// A server answered a plain MQTT CONNECT with something that is not MQTT. `answer` is the
/// start of what it sent, when known (quoted, cut short, control characters escaped); an
/// answer that is a TLS record means the port expects TLS.
#[must_use]
pub fn not_mqtt(answer: Option<&[u8]>) -> Error {
    if answer.is_some_and(looks_like_tls) {
        return answered_in_tls();
    }
    let quoted = answer
        .map(quote_answer)
        .filter(|text| !text.is_empty())
        .map_or_else(
            || "an answer that is not MQTT".to_owned(),
            |text| format!("\"{text}\""),
        );
    Error::new(
        ExitKind::Network,
        format!("this is not an MQTT broker (it answered with {quoted})"),
    )
    .with_hint(
        "check --host and --port (the platform's MQTT port is 1883); if this port expects \
         TLS, add --tls",
    )
}

/// A plain MQTT client got a TLS record back.
fn answered_in_tls() -> Error {
    Error::new(
        ExitKind::Network,
        "the server answered in TLS: this port expects TLS",
    )
    .with_hint("add --tls (and --ca-file if the broker's CA is not one the system trusts)")
}

/// A TLS record header: content type 20..=23, then protocol version 3.x.
fn looks_like_tls(bytes: &[u8]) -> bool {
    matches!(bytes, [20..=23, 3, 0..=4, ..])
}

/// The first line of an answer, at most 60 characters, printable.
fn quote_answer(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let first = text.lines().next().unwrap_or_default();
    let mut quoted: String = first
        .chars()
        .take(60)
        .flat_map(|c| {
            if c.is_control() {
                c.escape_default().collect::<Vec<_>>()
            } else {
                vec![c]
            }
        })
        .collect();
    if first.chars().count() > 60 {
        quoted.push('…');
    }
    quoted
}

/// An I/O failure on the broker connection in the user's words (kind `Network`).
#[must_use]
pub fn io_error(io: &std::io::Error) -> Error {
    use std::io::ErrorKind as K;
    let message = match io.kind() {
        K::ConnectionRefused => "connection refused (nothing listens there)".to_owned(),
        K::UnexpectedEof | K::ConnectionReset | K::ConnectionAborted | K::BrokenPipe => {
            closed_by_broker().to_owned()
        }
        K::TimedOut => "the connection timed out".to_owned(),
        _ => io.to_string(),
    };
    Error::new(ExitKind::Network, message)
}

/// A CONNACK refusal as an error (exit 4), with the likely cause and where to look next.
#[must_use]
pub fn refused(code: ConnectReturnCode) -> Error {
    Error::new(
        ExitKind::Refused,
        format!(
            "the broker refused the connection: CONNACK {} ({})",
            refusal_code(code),
            refusal_words(code)
        ),
    )
    .with_hint(format!(
        "{}. `sensoro-mqtt connect` with the same options checks each step and shows where \
         each value came from",
        refusal_hint(code)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap_with_bounded_jitter() {
        let mut backoff = Backoff::new(Duration::from_secs(1), Duration::from_secs(8));
        let delays: Vec<Duration> = (0..6).map(|_| backoff.next_delay()).collect();
        let caps = [1, 2, 4, 8, 8, 8];
        for (delay, cap) in delays.iter().zip(caps) {
            let cap = Duration::from_secs(cap);
            assert!(
                *delay <= cap && *delay >= cap.mul_f64(0.75),
                "{delay:?} vs {cap:?}"
            );
        }
        backoff.reset();
        assert!(backoff.next_delay() <= Duration::from_secs(1));
    }

    #[test]
    fn refusal_code_5_is_not_authorized_with_the_platform_hint() {
        assert_eq!(
            refusal_words(ConnectReturnCode::NotAuthorized),
            "not authorized"
        );
        assert_eq!(refusal_code(ConnectReturnCode::NotAuthorized), 5);
        assert!(refusal_hint(ConnectReturnCode::NotAuthorized).contains("AppSecret"));
    }

    #[test]
    fn sizes_parse_with_binary_units_up_to_the_mqtt_limit() {
        assert_eq!(parse_size("65536"), Ok(65536));
        assert_eq!(parse_size("512k"), Ok(512 * 1024));
        assert_eq!(parse_size("4MiB"), Ok(4 << 20));
        assert_eq!(parse_size("64M"), Ok(64 << 20));
        assert_eq!(parse_size("255MiB"), Ok(255 << 20));
        assert!(parse_size("256MiB").is_err(), "one byte over MQTT's limit");
        assert!(parse_size("0").is_err());
        assert!(parse_size("big").is_err());
        assert!(parse_size("3T").is_err());
        assert_eq!(size_words(2048), "2048 bytes (2.0 KiB)");
        assert_eq!(size_words(5 << 20), "5242880 bytes (5.0 MiB)");
    }

    #[test]
    fn a_foreign_answer_is_quoted_by_its_first_line() {
        let err = not_mqtt(Some(b"HTTP/1.1 400 Bad Request\r\nServer: x\r\n\r\n"));
        assert_eq!(
            err.message(),
            "this is not an MQTT broker (it answered with \"HTTP/1.1 400 Bad Request\")"
        );
        assert_eq!(
            not_mqtt(Some(b"\x1b[2J")).message(),
            "this is not an MQTT broker (it answered with \"\\u{1b}[2J\")"
        );
        assert!(not_mqtt(Some(&[0x15, 3, 3, 0, 2, 2, 50]))
            .message()
            .contains("answered in TLS"));
    }

    #[test]
    fn a_refusal_points_to_connect() {
        let err = refused(ConnectReturnCode::NotAuthorized);
        assert_eq!(err.kind(), ExitKind::Refused);
        assert!(err
            .hint()
            .is_some_and(|h| h.contains("sensoro-mqtt connect")));
    }
}
