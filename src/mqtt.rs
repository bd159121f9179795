//! The MQTT client session on rumqttc: options, refusals in words, backoff, and the task that
//! owns the event loop.
//!
//! rumqttc's `EventLoop::poll` reconnects at once when polled after an error, so the backoff
//! is ours; a CONNACK refusal is final and never retried. The event loop runs in its own task
//! and talks to the command over a channel. `MqttOptions` prints the password in `Debug`, so
//! it is never logged; the secret travels in a [`Secret`] until the options are built.
//!
//! It is also the one place where connection failures become words ([`explain_error`],
//! [`closed_by_broker`], [`not_mqtt`]): `listen` gets them from rumqttc's errors, `connect`
//! from its own socket, and both say the same thing about the same server.

use std::time::Duration;

use rumqttc::mqttbytes::v4::{ConnectReturnCode, Packet, Publish, SubscribeReasonCode};
use rumqttc::mqttbytes::{self, QoS};
use rumqttc::TlsError;
use rumqttc::{
    AsyncClient, ConnectionError, Event, EventLoop, MqttOptions, Outgoing, StateError,
    TlsConfiguration, Transport,
};
use tokio::sync::mpsc;

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
        if let Some(tls) = &self.tls {
            options.set_transport(Transport::tls_with_config(TlsConfiguration::Rustls(
                tls.config.clone(),
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
        /// What happened, in words, with a hint when one is known (kind `Network`).
        error: Error,
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
    let peer = Peer {
        host: settings.host.clone(),
        tls: settings.tls.as_ref().map(TlsClient::describe_roots),
        connected: false,
    };
    tokio::spawn(poll_events(eventloop, tx, backoff, peer));
    (client, rx)
}

async fn poll_events(
    mut eventloop: EventLoop,
    tx: mpsc::Sender<SessionEvent>,
    mut backoff: Backoff,
    mut peer: Peer,
) {
    loop {
        let event = match eventloop.poll().await {
            Ok(Event::Outgoing(Outgoing::Disconnect)) => {
                let _ = tx.send(SessionEvent::Closed).await;
                return;
            }
            Ok(event) => match incoming(event, &mut backoff, &mut peer) {
                Some(event) => event,
                None => continue,
            },
            Err(err) => {
                // Packets read before the error are still queued: they came, so they are
                // handed over first (their acknowledgements die with the connection).
                let queued: Vec<Event> = eventloop.state.events.drain(..).collect();
                for event in queued {
                    if let Some(event) = incoming(event, &mut backoff, &mut peer) {
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
                        let error = explain_error(&err, &peer);
                        peer.connected = false;
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
fn incoming(event: Event, backoff: &mut Backoff, peer: &mut Peer) -> Option<SessionEvent> {
    match event {
        Event::Incoming(Packet::ConnAck(ack)) => {
            backoff.reset();
            peer.connected = true;
            Some(SessionEvent::Connected {
                session_present: ack.session_present,
            })
        }
        Event::Incoming(Packet::SubAck(ack)) => Some(SessionEvent::Subscribed(ack.return_codes)),
        Event::Incoming(Packet::Publish(publish)) => Some(SessionEvent::Message(publish)),
        _ => None,
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

/// A connection error in the user's words, with a hint when one helps; never the library's
/// own text about its internals, never anything from the options (no password). Kind
/// `Network`.
#[must_use]
pub fn explain_error(err: &ConnectionError, peer: &Peer) -> Error {
    let network = |message: String| Error::new(ExitKind::Network, message);
    match err {
        ConnectionError::Io(io) => io_error(io),
        ConnectionError::Tls(tls) => tls_error(tls, peer),
        ConnectionError::NetworkTimeout => network("the broker did not answer in time".into()),
        ConnectionError::FlushTimeout => network("timed out sending to the broker".into()),
        ConnectionError::MqttState(state) => state_error(state, peer),
        ConnectionError::NotConnAck(packet) => network(format!(
            "the broker answered CONNECT with {}",
            packet_name(packet)
        )),
        ConnectionError::ConnectionRefused(code) => refused(*code),
        ConnectionError::RequestsDone => network("the session was closed".into()),
    }
}

/// A connection error in words (see [`explain_error`]), without the hint.
#[must_use]
pub fn describe_error(err: &ConnectionError) -> String {
    explain_error(err, &Peer::default()).message().to_owned()
}

fn io_error(io: &std::io::Error) -> Error {
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

fn tls_error(err: &TlsError, peer: &Peer) -> Error {
    let roots = peer.tls.as_deref().unwrap_or("the trusted certificates");
    match err {
        TlsError::Io(io) => crate::tls::explain_handshake(io, &peer.host, roots),
        TlsError::TLS(inner) => crate::tls::explain_rustls(inner, &peer.host, roots),
        TlsError::DNSName(_) | TlsError::Addr(_) => Error::new(
            ExitKind::Config,
            format!("'{}' cannot be checked against a certificate", peer.host),
        )
        .with_hint("give --host as a DNS name or an IP address"),
        other => Error::new(ExitKind::Config, format!("TLS set-up failed: {other}")),
    }
}

fn state_error(state: &StateError, peer: &Peer) -> Error {
    use rumqttc::mqttbytes::Error as Bytes;
    match state {
        StateError::Io(io) | StateError::Deserialization(Bytes::Io(io))
            if io.kind() != std::io::ErrorKind::Other =>
        {
            io_error(io)
        }
        StateError::ConnectionAborted => Error::new(ExitKind::Network, closed_by_broker()),
        // Bytes were left that make no packet when the peer hung up (tokio-util's "bytes
        // remaining on stream"), or what arrived is no packet at all.
        StateError::Deserialization(bytes) if !peer.connected => {
            if peer.tls.is_none() && tls_record_as_mqtt(bytes) {
                answered_in_tls()
            } else {
                not_mqtt(None)
            }
        }
        StateError::Deserialization(bytes) => Error::new(
            ExitKind::Network,
            format!("the broker sent a packet that is not valid MQTT ({bytes})"),
        ),
        StateError::AwaitPingResp => Error::new(
            ExitKind::Network,
            "the broker stopped answering (no reply to a keep-alive ping)",
        ),
        other => Error::new(ExitKind::Network, format!("MQTT protocol error: {other}")),
    }
}

/// How rumqttc's parser fails on a TLS record (type 20..=23 reads as a CONNECT, then the
/// record's version 3.x reads as the length of the protocol name: 0x0300 and so on).
fn tls_record_as_mqtt(err: &rumqttc::mqttbytes::Error) -> bool {
    matches!(err, rumqttc::mqttbytes::Error::BoundaryCrossed(n) if n % 256 == 0 && (256..=1024).contains(n))
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

    #[test]
    fn library_words_become_the_users_words() {
        let peer = Peer {
            host: "broker.example".into(),
            tls: None,
            connected: false,
        };
        let aborted = ConnectionError::MqttState(StateError::ConnectionAborted);
        assert_eq!(describe_error(&aborted), "the broker closed the connection");
        let leftover = ConnectionError::MqttState(StateError::Deserialization(
            rumqttc::mqttbytes::Error::Io(std::io::Error::other("bytes remaining on stream")),
        ));
        let err = explain_error(&leftover, &peer);
        assert!(
            err.message().starts_with("this is not an MQTT broker"),
            "{err}"
        );
        let tls_alert = ConnectionError::MqttState(StateError::Deserialization(
            rumqttc::mqttbytes::Error::BoundaryCrossed(768),
        ));
        let err = explain_error(&tls_alert, &peer);
        assert!(
            err.hint().is_some_and(|h| h.starts_with("add --tls")),
            "{err:?}"
        );
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
