//! The MQTT client session on rumqttc: options, refusals in words, backoff, and the task that
//! owns the event loop.
//!
//! rumqttc's `EventLoop::poll` reconnects at once when polled after an error, so the backoff
//! is ours; a CONNACK refusal is final and never retried. The event loop runs in its own task
//! and talks to the command over a channel. `MqttOptions` prints the password in `Debug`, so
//! it is never logged; the secret travels in a [`Secret`] until the options are built.

use std::time::Duration;

use rumqttc::mqttbytes::v4::{ConnectReturnCode, Packet, Publish, SubscribeReasonCode};
use rumqttc::mqttbytes::{self, QoS};
use rumqttc::{
    AsyncClient, ConnectionError, Event, EventLoop, MqttOptions, Outgoing, StateError,
    TlsConfiguration, Transport,
};
use std::sync::Arc;
use tokio::sync::mpsc;
use tokio_rustls::rustls::ClientConfig;

use crate::secret::Secret;

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
    pub tls: Option<Arc<ClientConfig>>,
    /// The largest incoming packet accepted (`--max-payload`).
    pub max_payload: usize,
}

impl SessionSettings {
    /// rumqttc options: manual acks (a push is acknowledged only once written out), large
    /// incoming packets, credentials.
    #[must_use]
    pub fn options(&self) -> MqttOptions {
        let mut options = MqttOptions::new(&self.client_id, &self.host, self.port);
        options
            .set_credentials(&self.app_id, self.app_secret.expose())
            .set_keep_alive(self.keep_alive)
            .set_clean_session(self.clean_session)
            .set_max_packet_size(self.max_payload, 64 * 1024)
            .set_manual_acks(true)
            .set_inflight(100);
        if let Some(config) = &self.tls {
            options.set_transport(Transport::tls_with_config(TlsConfiguration::Rustls(
                config.clone(),
            )));
        }
        options
    }
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

/// Room in rumqttc's request channel: acknowledgements queue there until the event loop
/// writes them, one per poll.
pub const REQUEST_CAPACITY: usize = 4096;

/// QoS 1 acknowledgements owed to the broker. A push is acknowledged only once it has been
/// written out ([`Acks::written`], then [`Acks::flushed`]), and an acknowledgement is never
/// dropped: what rumqttc's request channel cannot take now is kept, in order, for
/// [`Acks::send`] to try again. Packet ids belong to one connection, so a lost connection
/// [`Acks::forget`]s them (the broker redelivers those pushes).
#[derive(Debug)]
pub struct Acks {
    written: Vec<u16>,
    due: std::collections::VecDeque<u16>,
    probe: Publish,
}

impl Default for Acks {
    fn default() -> Self {
        Acks {
            written: Vec::new(),
            due: std::collections::VecDeque::new(),
            probe: Publish::new("", QoS::AtLeastOnce, Vec::new()),
        }
    }
}

impl Acks {
    /// A push was written to the (buffered) output.
    pub fn written(&mut self, publish: &Publish) {
        if publish.qos != QoS::AtMostOnce {
            self.written.push(publish.pkid);
        }
    }

    /// The output was flushed: everything written is now owed.
    pub fn flushed(&mut self) {
        self.due.extend(self.written.drain(..));
    }

    /// Hands owed acknowledgements to the client, in order, until its channel is full;
    /// returns how many went.
    pub fn send(&mut self, client: &AsyncClient) -> usize {
        let mut sent = 0;
        while let Some(&pkid) = self.due.front() {
            self.probe.pkid = pkid;
            if client.try_ack(&self.probe).is_err() {
                break;
            }
            self.due.pop_front();
            sent += 1;
        }
        sent
    }

    /// How many are owed but not yet handed over.
    #[must_use]
    pub fn owed(&self) -> usize {
        self.due.len()
    }

    /// The connection is gone: its packet ids mean nothing on the next one.
    pub fn forget(&mut self) {
        self.written.clear();
        self.due.clear();
    }
}

/// What the event-loop task reports.
#[derive(Debug)]
pub enum SessionEvent {
    /// CONNACK accepted.
    Connected {
        /// The broker kept a session for this clientId.
        session_present: bool,
    },
    /// SUBACK with the return code per filter.
    Subscribed(Vec<SubscribeReasonCode>),
    /// A PUBLISH from the broker.
    Message(Publish),
    /// The connection failed or was lost; the task retries after `retry_in`.
    Lost {
        /// What happened, in words.
        error: String,
        /// The delay before the next attempt.
        retry_in: Duration,
    },
    /// CONNACK refused: final, the task has stopped.
    Refused(ConnectReturnCode),
    /// A packet over `max_payload` arrived: final (with a persistent session the broker
    /// would offer it again and again), the task has stopped.
    TooLarge {
        /// Its size in bytes (MQTT remaining length).
        size: usize,
    },
    /// DISCONNECT was written: the task has stopped.
    Closed,
}

/// Opens a session: the client handle and the task polling its event loop, which reports
/// through the returned channel and ends when the receiver is dropped or on a refusal.
#[must_use]
pub fn start_session(
    settings: &SessionSettings,
    backoff: Backoff,
) -> (AsyncClient, mpsc::Receiver<SessionEvent>) {
    let (client, mut eventloop) = AsyncClient::new(settings.options(), REQUEST_CAPACITY);
    let mut network = eventloop.network_options();
    network.set_tcp_nodelay(true);
    eventloop.set_network_options(network);
    let (tx, rx) = mpsc::channel(1024);
    tokio::spawn(poll_events(eventloop, tx, backoff));
    (client, rx)
}

async fn poll_events(
    mut eventloop: EventLoop,
    tx: mpsc::Sender<SessionEvent>,
    mut backoff: Backoff,
) {
    loop {
        let event = match eventloop.poll().await {
            Ok(Event::Outgoing(Outgoing::Disconnect)) => {
                let _ = tx.send(SessionEvent::Closed).await;
                return;
            }
            Ok(event) => match incoming(event, &mut backoff) {
                Some(event) => event,
                None => continue,
            },
            Err(err) => {
                // Packets read before the error are still queued: they came, so they are
                // handed over first (their acknowledgements die with the connection).
                let queued: Vec<Event> = eventloop.state.events.drain(..).collect();
                for event in queued {
                    if let Some(event) = incoming(event, &mut backoff) {
                        if tx.send(event).await.is_err() {
                            return;
                        }
                    }
                }
                let (event, retry_in) = match err {
                    ConnectionError::ConnectionRefused(code) => (SessionEvent::Refused(code), None),
                    ConnectionError::MqttState(StateError::Deserialization(
                        mqttbytes::Error::PayloadSizeLimitExceeded(size),
                    )) => (SessionEvent::TooLarge { size }, None),
                    err => {
                        let retry_in = backoff.next_delay();
                        let error = describe_error(&err);
                        (SessionEvent::Lost { error, retry_in }, Some(retry_in))
                    }
                };
                if tx.send(event).await.is_err() {
                    return;
                }
                match retry_in {
                    Some(delay) => tokio::time::sleep(delay).await,
                    None => return,
                }
                continue;
            }
        };
        if tx.send(event).await.is_err() {
            return;
        }
    }
}

/// The session event for an incoming packet the command cares about.
fn incoming(event: Event, backoff: &mut Backoff) -> Option<SessionEvent> {
    match event {
        Event::Incoming(Packet::ConnAck(ack)) => {
            backoff.reset();
            Some(SessionEvent::Connected {
                session_present: ack.session_present,
            })
        }
        Event::Incoming(Packet::SubAck(ack)) => Some(SessionEvent::Subscribed(ack.return_codes)),
        Event::Incoming(Packet::Publish(publish)) => Some(SessionEvent::Message(publish)),
        _ => None,
    }
}

/// A connection error in words, without anything from the options (no password).
#[must_use]
pub fn describe_error(err: &ConnectionError) -> String {
    match err {
        ConnectionError::Io(io) => match io.kind() {
            std::io::ErrorKind::ConnectionRefused => {
                "connection refused (nothing listens there)".into()
            }
            std::io::ErrorKind::UnexpectedEof | std::io::ErrorKind::ConnectionReset => {
                "the broker closed the connection".into()
            }
            _ => io.to_string(),
        },
        ConnectionError::NetworkTimeout => "network timeout".into(),
        ConnectionError::FlushTimeout => "timed out sending to the broker".into(),
        ConnectionError::MqttState(state) => format!("protocol error: {state}"),
        ConnectionError::NotConnAck(packet) => {
            format!("the broker answered CONNECT with {}", packet_name(packet))
        }
        other => other.to_string(),
    }
}

/// The name of an MQTT packet, for messages.
#[must_use]
pub fn packet_name(packet: &Packet) -> &'static str {
    match packet {
        Packet::Connect(_) => "CONNECT",
        Packet::ConnAck(_) => "CONNACK",
        Packet::Publish(_) => "PUBLISH",
        Packet::PubAck(_) => "PUBACK",
        Packet::SubAck(_) => "SUBACK",
        Packet::Disconnect => "DISCONNECT",
        _ => "an unexpected packet",
    }
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
    fn acks_wait_for_the_flush_and_are_kept_when_the_channel_is_full() {
        let settings = SessionSettings {
            host: "127.0.0.1".into(),
            port: 1,
            app_id: "a".into(),
            app_secret: Secret::new("s"),
            client_id: "a/x".into(),
            clean_session: true,
            keep_alive: Duration::from_secs(30),
            tls: None,
            max_payload: DEFAULT_MAX_PAYLOAD,
        };
        // Nobody polls this event loop: the channel takes two requests, then refuses.
        let (client, _eventloop) = AsyncClient::new(settings.options(), 2);
        let mut acks = Acks::default();
        for pkid in 1..=5 {
            let mut publish = Publish::new("t", QoS::AtLeastOnce, Vec::new());
            publish.pkid = pkid;
            acks.written(&publish);
        }
        acks.written(&Publish::new("t", QoS::AtMostOnce, Vec::new()));
        assert_eq!(acks.send(&client), 0, "nothing is owed before the flush");
        acks.flushed();
        assert_eq!(acks.owed(), 5, "QoS 0 is never acknowledged");
        assert_eq!(acks.send(&client), 2);
        assert_eq!(acks.owed(), 3, "refused acknowledgements are kept");
        acks.forget();
        assert_eq!(acks.owed(), 0);
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
    fn options_debug_is_never_used_but_the_secret_stays_wrapped() {
        let settings = SessionSettings {
            host: "127.0.0.1".into(),
            port: 1,
            app_id: "a".into(),
            app_secret: Secret::new("very-secret-value"),
            client_id: "a/x".into(),
            clean_session: true,
            keep_alive: Duration::from_secs(30),
            tls: None,
            max_payload: DEFAULT_MAX_PAYLOAD,
        };
        assert!(!format!("{settings:?}").contains("very-secret-value"));
        assert_eq!(settings.options().max_packet_size(), DEFAULT_MAX_PAYLOAD);
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
}
