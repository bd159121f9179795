//! The connection check behind `connect`: each step on its own, timed, so a failure says
//! exactly where it happened and what it most likely means on this platform.
//!
//! Local checks → DNS → TCP → TLS (when on) → CONNECT/CONNACK → SUBSCRIBE/SUBACK →
//! DISCONNECT. The MQTT packets are rumqttc's own (`mqttbytes::v4`) written on a socket this
//! module opens, because rumqttc's event loop does DNS, TCP, TLS and CONNECT in one call and
//! would leave nothing to time or tell apart. The check uses a clean session, so it never
//! disturbs a persistent one. The whole check is bounded by one deadline.

use std::fmt;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::BytesMut;
use rumqttc::mqttbytes::v4::{
    ConnAck, Connect, ConnectReturnCode, Packet, SubAck, Subscribe, SubscribeReasonCode,
};
use rumqttc::mqttbytes::QoS;
use serde::Serialize;
use tokio::io::{AsyncRead, AsyncReadExt as _, AsyncWrite, AsyncWriteExt as _};
use tokio::net::TcpStream;
use tokio_rustls::rustls;

use crate::client_id;
use crate::config::Qos;
use crate::error::ExitKind;
use crate::mqtt;
use crate::secret::Secret;
use crate::tls::TlsClient;

/// Largest packet read during the check.
const MAX_PACKET: usize = 1024 * 1024;
/// Packets skipped while waiting for SUBACK (a broker may send pushes first).
const MAX_SKIPPED: usize = 1000;

/// What to check.
#[derive(Debug, Clone)]
pub struct ProbeSettings {
    /// Broker host.
    pub host: String,
    /// Broker port.
    pub port: u16,
    /// TLS configuration; `None` for plain MQTT.
    pub tls: Option<TlsClient>,
    /// AppID (username).
    pub app_id: String,
    /// AppSecret (password).
    pub app_secret: Secret,
    /// Where the AppSecret came from, for the explanation of a refusal.
    pub secret_source: String,
    /// The clientId.
    pub client_id: String,
    /// Topic to subscribe to.
    pub topic: String,
    /// QoS asked for.
    pub qos: Qos,
    /// The bound on the whole check.
    pub timeout: Duration,
}

/// The steps, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum StepKind {
    /// AppID, AppSecret and the clientId rule, without network.
    Local,
    /// Name resolution.
    Dns,
    /// TCP connection.
    Tcp,
    /// TLS handshake.
    Tls,
    /// MQTT CONNECT and CONNACK.
    Connect,
    /// SUBSCRIBE and SUBACK.
    Subscribe,
    /// DISCONNECT.
    Disconnect,
}

impl StepKind {
    /// Every step, in order.
    pub const ALL: [StepKind; 7] = [
        StepKind::Local,
        StepKind::Dns,
        StepKind::Tcp,
        StepKind::Tls,
        StepKind::Connect,
        StepKind::Subscribe,
        StepKind::Disconnect,
    ];

    /// The label shown to people.
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            StepKind::Local => "local checks",
            StepKind::Dns => "DNS",
            StepKind::Tcp => "TCP",
            StepKind::Tls => "TLS",
            StepKind::Connect => "CONNECT",
            StepKind::Subscribe => "SUBSCRIBE",
            StepKind::Disconnect => "DISCONNECT",
        }
    }
}

/// How a step went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// It worked.
    Ok,
    /// It failed; the check stopped here.
    Failed,
    /// Not run (TLS off, or an earlier step failed).
    Skipped,
}

/// One step of the report.
#[derive(Debug, Clone, Serialize)]
pub struct Step {
    /// Which step.
    pub step: StepKind,
    /// How it went.
    pub status: Status,
    /// How long it took, in milliseconds.
    pub ms: f64,
    /// What happened, in words.
    pub detail: String,
}

/// Why the check failed.
#[derive(Debug, Clone, Serialize)]
pub struct Failure {
    /// Decides the exit code.
    #[serde(skip)]
    pub kind: ExitKind,
    /// The exit code.
    pub exit_code: u8,
    /// One line.
    pub message: String,
    /// Likely causes and what passed, one sentence each.
    pub explanation: Vec<String>,
}

/// The CONNACK received.
#[derive(Debug, Clone, Serialize)]
pub struct ConnackInfo {
    /// The return code.
    pub code: u8,
    /// In words.
    pub meaning: &'static str,
    /// Whether the broker kept a session.
    pub session_present: bool,
}

/// The whole check.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// True when every step passed.
    pub ok: bool,
    /// Broker host.
    pub host: String,
    /// Broker port.
    pub port: u16,
    /// TLS on or off.
    pub tls: bool,
    /// The AppID.
    pub app_id: String,
    /// The clientId used.
    pub client_id: String,
    /// The topic subscribed to.
    pub topic: String,
    /// Every step, in order (later ones `skipped` after a failure).
    pub steps: Vec<Step>,
    /// The CONNACK, when one arrived.
    pub connack: Option<ConnackInfo>,
    /// The QoS granted on SUBACK.
    pub granted_qos: Option<u8>,
    /// Total time in milliseconds.
    pub total_ms: f64,
    /// Why it failed; `None` when ok.
    pub failure: Option<Failure>,
}

/// Told about each step as it starts and ends (for a spinner or streamed output).
pub trait Progress {
    /// A step starts.
    fn begin(&mut self, step: StepKind);
    /// A step ended (also for skipped ones).
    fn end(&mut self, step: &Step);
}

/// A [`Progress`] that does nothing.
#[derive(Debug, Default)]
pub struct Silent;

impl Progress for Silent {
    fn begin(&mut self, _: StepKind) {}
    fn end(&mut self, _: &Step) {}
}

/// A report for a check that could not start: the local step failed before any network I/O
/// (e.g. no AppSecret anywhere). Every other step is skipped.
#[must_use]
pub fn local_failure(
    host: &str,
    port: u16,
    app_id: &str,
    message: String,
    explanation: Vec<String>,
) -> Report {
    let mut run = Run::new(host, port, false, app_id, "", "");
    run.fail(
        StepKind::Local,
        Duration::ZERO,
        message.clone(),
        ExitKind::Config,
        explanation,
        &mut Silent,
    );
    run.finish(&mut Silent)
}

/// Runs the check. Never fails: every problem is in the report.
pub async fn check(settings: &ProbeSettings, progress: &mut dyn Progress) -> Report {
    let mut run = Run::new(
        &settings.host,
        settings.port,
        settings.tls.is_some(),
        &settings.app_id,
        &settings.client_id,
        &settings.topic,
    );
    let deadline = tokio::time::Instant::now() + settings.timeout;
    let _ = steps(settings, &mut run, deadline, progress).await;
    run.finish(progress)
}

/// The stream the MQTT steps talk over: plain TCP or TLS.
trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// A step stopped the check (its failure is already recorded).
struct Stopped;

async fn steps(
    s: &ProbeSettings,
    run: &mut Run,
    deadline: tokio::time::Instant,
    progress: &mut dyn Progress,
) -> Result<(), Stopped> {
    progress.begin(StepKind::Local);
    let started = Instant::now();
    match local_checks(s) {
        Ok(detail) => run.pass(StepKind::Local, started.elapsed(), detail, progress),
        Err(message) => {
            let explanation = vec![format!(
                "the clientId must be {0} or {0}/ followed by at most 36 of A-Z a-z 0-9 - _; \
                 nothing was sent over the network",
                s.app_id
            )];
            return Err(run.fail(
                StepKind::Local,
                started.elapsed(),
                message,
                ExitKind::Config,
                explanation,
                progress,
            ));
        }
    }

    let addrs = run
        .timed(StepKind::Dns, deadline, progress, resolve(s))
        .await?;
    let tcp = run
        .timed(StepKind::Tcp, deadline, progress, tcp_connect(s, &addrs))
        .await?;
    let mut stream: Box<dyn Io> = match &s.tls {
        None => {
            run.skip(StepKind::Tls, "off (add --tls for a TLS port)", progress);
            Box::new(tcp)
        }
        Some(tls) => Box::new(
            run.timed(StepKind::Tls, deadline, progress, handshake(s, tls, tcp))
                .await?,
        ),
    };
    let mut buf = BytesMut::with_capacity(4096);
    let mut connack = None;
    let connected = run
        .timed(
            StepKind::Connect,
            deadline,
            progress,
            mqtt_connect(s, &mut stream, &mut buf, &mut connack),
        )
        .await;
    run.report.connack = connack.map(|ack: ConnAck| ConnackInfo {
        code: ack.code as u8,
        meaning: mqtt::refusal_words(ack.code),
        session_present: ack.session_present,
    });
    connected?;
    let granted = run
        .timed(
            StepKind::Subscribe,
            deadline,
            progress,
            mqtt_subscribe(s, &mut stream, &mut buf),
        )
        .await?;
    run.report.granted_qos = Some(granted);
    run.timed(
        StepKind::Disconnect,
        deadline,
        progress,
        mqtt_disconnect(&mut stream),
    )
    .await?;
    Ok(())
}

/// What a failed step found.
struct StepError {
    kind: ExitKind,
    message: String,
    explanation: Vec<String>,
}

impl StepError {
    fn network(message: impl Into<String>, explanation: &[&str]) -> Self {
        StepError {
            kind: ExitKind::Network,
            message: message.into(),
            explanation: explanation.iter().map(|&e| e.to_owned()).collect(),
        }
    }
}

/// The report being built.
struct Run {
    report: Report,
    started: Instant,
    failed: bool,
}

impl Run {
    fn new(host: &str, port: u16, tls: bool, app_id: &str, client_id: &str, topic: &str) -> Self {
        Run {
            report: Report {
                ok: false,
                host: host.to_owned(),
                port,
                tls,
                app_id: app_id.to_owned(),
                client_id: client_id.to_owned(),
                topic: topic.to_owned(),
                steps: Vec::new(),
                connack: None,
                granted_qos: None,
                total_ms: 0.0,
                failure: None,
            },
            started: Instant::now(),
            failed: false,
        }
    }

    fn record(&mut self, step: Step, progress: &mut dyn Progress) {
        progress.end(&step);
        self.report.steps.push(step);
    }

    fn pass(
        &mut self,
        kind: StepKind,
        elapsed: Duration,
        detail: String,
        progress: &mut dyn Progress,
    ) {
        self.record(
            Step {
                step: kind,
                status: Status::Ok,
                ms: millis(elapsed),
                detail,
            },
            progress,
        );
    }

    fn skip(&mut self, kind: StepKind, detail: &str, progress: &mut dyn Progress) {
        self.record(
            Step {
                step: kind,
                status: Status::Skipped,
                ms: 0.0,
                detail: detail.to_owned(),
            },
            progress,
        );
    }

    fn fail(
        &mut self,
        kind: StepKind,
        elapsed: Duration,
        message: String,
        exit: ExitKind,
        explanation: Vec<String>,
        progress: &mut dyn Progress,
    ) -> Stopped {
        self.failed = true;
        self.record(
            Step {
                step: kind,
                status: Status::Failed,
                ms: millis(elapsed),
                detail: message.clone(),
            },
            progress,
        );
        self.report.failure = Some(Failure {
            kind: exit,
            exit_code: exit.code(),
            message,
            explanation,
        });
        Stopped
    }

    /// Runs one step within the deadline, recording how it went.
    async fn timed<T>(
        &mut self,
        kind: StepKind,
        deadline: tokio::time::Instant,
        progress: &mut dyn Progress,
        work: impl std::future::Future<Output = Result<(T, String), StepError>>,
    ) -> Result<T, Stopped> {
        progress.begin(kind);
        let started = Instant::now();
        let outcome = tokio::time::timeout_at(deadline, work).await;
        let elapsed = started.elapsed();
        match outcome {
            Ok(Ok((value, detail))) => {
                self.pass(kind, elapsed, detail, progress);
                Ok(value)
            }
            Ok(Err(err)) => Err(self.fail(
                kind,
                elapsed,
                err.message,
                err.kind,
                err.explanation,
                progress,
            )),
            Err(_) => {
                let total = self.started.elapsed();
                Err(self.fail(
                    kind,
                    elapsed,
                    format!(
                        "no answer: the check timed out after {:.1}s",
                        total.as_secs_f64()
                    ),
                    ExitKind::Network,
                    vec![timeout_explanation(kind).to_owned()],
                    progress,
                ))
            }
        }
    }

    /// Marks the steps not reached as skipped and closes the report.
    fn finish(mut self, progress: &mut dyn Progress) -> Report {
        for kind in StepKind::ALL {
            if !self.report.steps.iter().any(|s| s.step == kind) {
                self.skip(kind, "not reached", progress);
            }
        }
        self.report.ok = !self.failed;
        self.report.total_ms = millis(self.started.elapsed());
        self.report
    }
}

fn millis(d: Duration) -> f64 {
    (d.as_secs_f64() * 10_000.0).round() / 10.0
}

fn timeout_explanation(kind: StepKind) -> &'static str {
    match kind {
        StepKind::Dns => "the name server did not answer; check the network and --host",
        StepKind::Tcp => {
            "nothing answered: a firewall may drop the packets, or the host/port is wrong"
        }
        StepKind::Tls => "the TLS handshake got no answer: is this port really a TLS port?",
        StepKind::Connect => {
            "the broker accepted TCP but sent no CONNACK: is this an MQTT port? If it expects \
             TLS, add --tls"
        }
        StepKind::Subscribe => "the broker sent no SUBACK",
        StepKind::Local | StepKind::Disconnect => "raise --timeout if the network is slow",
    }
}

fn local_checks(s: &ProbeSettings) -> Result<String, String> {
    if s.app_secret.expose().is_empty() {
        return Err("the AppSecret is empty".to_owned());
    }
    if let Some(violation) = client_id::explain(&s.app_id, s.client_id.as_bytes()) {
        let mut message = format!(
            "clientId '{}' breaks the platform rule: {}",
            s.client_id.escape_debug(),
            violation.message
        );
        if let Some(suggestion) = violation.suggestion {
            message.push_str(&format!(" (try --client-id {suggestion})"));
        }
        return Err(message);
    }
    Ok(format!(
        "AppID {}, AppSecret {} ({}), clientId {} follows the rule",
        s.app_id,
        s.app_secret.masked(),
        s.secret_source,
        s.client_id
    ))
}

async fn resolve(s: &ProbeSettings) -> Result<(Vec<SocketAddr>, String), StepError> {
    let found = tokio::net::lookup_host((s.host.as_str(), s.port))
        .await
        .map_err(|e| {
            StepError::network(
                format!("cannot resolve '{}': {e}", s.host),
                &["check --host: it is the broker host from the platform's developer page"],
            )
        })?;
    let addrs: Vec<SocketAddr> = found.collect();
    let Some(first) = addrs.first() else {
        return Err(StepError::network(
            format!("'{}' has no address", s.host),
            &["check --host"],
        ));
    };
    let detail = if first.ip().to_string() == s.host {
        format!("{} is an address (no lookup)", s.host)
    } else if addrs.len() > 1 {
        format!("{} → {} (+{} more)", s.host, first.ip(), addrs.len() - 1)
    } else {
        format!("{} → {}", s.host, first.ip())
    };
    Ok((addrs, detail))
}

async fn tcp_connect(
    s: &ProbeSettings,
    addrs: &[SocketAddr],
) -> Result<(TcpStream, String), StepError> {
    let mut last = None;
    for addr in addrs {
        match TcpStream::connect(addr).await {
            Ok(stream) => {
                let _ = stream.set_nodelay(true);
                return Ok((stream, format!("connected to {addr}")));
            }
            Err(err) => last = Some((addr, err)),
        }
    }
    let (addr, err) = last.expect("resolve returns at least one address");
    let (message, hint) = match err.kind() {
        std::io::ErrorKind::ConnectionRefused => (
            format!(
                "connection refused by {addr}: nothing listens on port {}",
                s.port
            ),
            "check --port: the platform's documented MQTT port is 1883",
        ),
        _ => (
            format!("cannot connect to {addr}: {err}"),
            "check the network, --host and --port",
        ),
    };
    Err(StepError::network(message, &[hint]))
}

async fn handshake(
    s: &ProbeSettings,
    tls: &TlsClient,
    tcp: TcpStream,
) -> Result<(tokio_rustls::client::TlsStream<TcpStream>, String), StepError> {
    let name = rustls::pki_types::ServerName::try_from(s.host.clone()).map_err(|_| StepError {
        kind: ExitKind::Config,
        message: format!("'{}' cannot be checked against a certificate", s.host),
        explanation: vec!["give --host as a DNS name or an IP address".to_owned()],
    })?;
    let connector = tokio_rustls::TlsConnector::from(tls.config.clone());
    let stream = connector
        .connect(name, tcp)
        .await
        .map_err(|err| tls_error(s, tls, &err))?;
    let (_, session) = stream.get_ref();
    let version = session
        .protocol_version()
        .and_then(|v| v.as_str())
        .unwrap_or("TLS");
    let suite = session
        .negotiated_cipher_suite()
        .and_then(|c| c.suite().as_str())
        .unwrap_or("unknown suite");
    let detail = format!(
        "{version} {suite}; certificate for {} verified against {}",
        s.host,
        tls.describe_roots()
    );
    Ok((stream, detail))
}

/// The handshake failed: the explanation `listen` gives too ([`crate::tls`]).
fn tls_error(s: &ProbeSettings, tls: &TlsClient, err: &std::io::Error) -> StepError {
    StepError::from(crate::tls::explain_handshake(
        err,
        &s.host,
        &tls.describe_roots(),
    ))
}

impl From<crate::error::Error> for StepError {
    fn from(err: crate::error::Error) -> Self {
        StepError {
            kind: err.kind(),
            message: err.message().to_owned(),
            explanation: err.hint().map(str::to_owned).into_iter().collect(),
        }
    }
}

async fn write_packet(stream: &mut Box<dyn Io>, packet: &Packet) -> Result<(), StepError> {
    let mut out = BytesMut::new();
    packet
        .write(&mut out, MAX_PACKET)
        .map_err(|e| StepError::network(format!("cannot encode the packet: {e:?}"), &[]))?;
    let sent = match stream.write_all(&out).await {
        Ok(()) => stream.flush().await,
        Err(e) => Err(e),
    };
    sent.map_err(|e| {
        if is_hang_up(&e) {
            StepError::network(mqtt::closed_by_broker(), &[])
        } else {
            StepError::network(format!("cannot send: {e}"), &[])
        }
    })
}

/// Reads one packet; `Ok(None)` when the broker closed the connection without a word.
/// Bytes that make no MQTT packet are quoted back in the words `listen` uses
/// ([`mqtt::not_mqtt`]).
async fn read_packet(
    stream: &mut Box<dyn Io>,
    buf: &mut BytesMut,
) -> Result<Option<Packet>, StepError> {
    loop {
        match Packet::read(buf, MAX_PACKET) {
            Ok(packet) => return Ok(Some(packet)),
            Err(rumqttc::mqttbytes::Error::InsufficientBytes(_)) => {}
            Err(_) => return Err(StepError::from(mqtt::not_mqtt(Some(buf)))),
        }
        let read = match stream.read_buf(buf).await {
            Ok(read) => read,
            Err(e) if is_hang_up(&e) => 0,
            Err(e) => {
                return Err(StepError::network(
                    format!("cannot read from the broker: {e}"),
                    &[],
                ))
            }
        };
        if read == 0 {
            if buf.is_empty() {
                return Ok(None);
            }
            return Err(StepError::from(mqtt::not_mqtt(Some(buf))));
        }
    }
}

fn is_hang_up(err: &std::io::Error) -> bool {
    use std::io::ErrorKind as K;
    matches!(
        err.kind(),
        K::UnexpectedEof | K::ConnectionReset | K::ConnectionAborted | K::BrokenPipe
    )
}

async fn mqtt_connect(
    s: &ProbeSettings,
    stream: &mut Box<dyn Io>,
    buf: &mut BytesMut,
    received: &mut Option<ConnAck>,
) -> Result<((), String), StepError> {
    let mut connect = Connect::new(s.client_id.clone());
    connect.keep_alive = 30;
    connect.clean_session = true;
    connect.set_login(s.app_id.clone(), s.app_secret.expose());
    write_packet(stream, &Packet::Connect(connect)).await?;
    match read_packet(stream, buf).await? {
        Some(Packet::ConnAck(ack)) => {
            *received = Some(ack.clone());
            if ack.code == ConnectReturnCode::Success {
                let detail = format!(
                    "CONNACK 0 accepted as {} (session present: {})",
                    s.client_id,
                    if ack.session_present { "yes" } else { "no" }
                );
                return Ok(((), detail));
            }
            Err(StepError {
                kind: ExitKind::Refused,
                message: format!(
                    "refused: CONNACK {} ({})",
                    ack.code as u8,
                    mqtt::refusal_words(ack.code)
                ),
                explanation: refusal_explanation(s, ack.code),
            })
        }
        Some(other) => Err(StepError::network(
            format!(
                "the broker answered CONNECT with {}",
                mqtt::packet_name(&other)
            ),
            &["this does not behave like an MQTT 3.1.1 broker"],
        )),
        None => Err(StepError::network(
            format!("{} without a CONNACK", mqtt::closed_by_broker()),
            &[
                "some brokers close instead of refusing: check AppID, AppSecret and clientId",
                "if this port expects TLS, add --tls",
            ],
        )),
    }
}

/// What a refusal means here, and which local checks passed.
fn refusal_explanation(s: &ProbeSettings, code: ConnectReturnCode) -> Vec<String> {
    let mut lines = vec![mqtt::refusal_hint(code).to_owned()];
    if matches!(
        code,
        ConnectReturnCode::NotAuthorized | ConnectReturnCode::BadUserNamePassword
    ) {
        lines.push(format!(
            "passed locally: the clientId {} follows the rule for AppID {}",
            s.client_id, s.app_id
        ));
        lines.push(format!(
            "cannot be checked locally: the AppSecret {} (from {}) and whether AppID {} \
             exists on this broker — the AppSecret is the usual culprit",
            s.app_secret.masked(),
            s.secret_source,
            s.app_id
        ));
        lines.push(
            "a clientId already connected elsewhere is not refused: the older connection is \
             dropped instead"
                .to_owned(),
        );
    }
    lines
}

async fn mqtt_subscribe(
    s: &ProbeSettings,
    stream: &mut Box<dyn Io>,
    buf: &mut BytesMut,
) -> Result<(u8, String), StepError> {
    const PKID: u16 = 1;
    let qos = if s.qos == Qos::AtMostOnce {
        QoS::AtMostOnce
    } else {
        QoS::AtLeastOnce
    };
    let mut subscribe = Subscribe::new(s.topic.clone(), qos);
    subscribe.pkid = PKID;
    write_packet(stream, &Packet::Subscribe(subscribe)).await?;
    for _ in 0..MAX_SKIPPED {
        match read_packet(stream, buf).await? {
            Some(Packet::SubAck(SubAck { pkid, return_codes })) if pkid == PKID => {
                return suback_outcome(s, &return_codes);
            }
            Some(_) => continue,
            None => {
                return Err(StepError {
                    kind: ExitKind::Refused,
                    message: format!(
                        "the broker closed the connection on SUBSCRIBE to {}",
                        s.topic
                    ),
                    explanation: vec![topic_hint(s)],
                })
            }
        }
    }
    Err(StepError::network(
        "no SUBACK among the packets received",
        &[],
    ))
}

fn suback_outcome(
    s: &ProbeSettings,
    codes: &[SubscribeReasonCode],
) -> Result<(u8, String), StepError> {
    match codes.first() {
        Some(SubscribeReasonCode::Success(granted)) => {
            let granted = *granted as u8;
            let asked = s.qos.level();
            let note = if granted < asked {
                format!(" (asked for {asked}: the broker lowered it)")
            } else {
                String::new()
            };
            Ok((granted, format!("{}: granted QoS {granted}{note}", s.topic)))
        }
        _ => Err(StepError {
            kind: ExitKind::Refused,
            message: format!("SUBACK 0x80: subscription to {} refused", s.topic),
            explanation: vec![topic_hint(s)],
        }),
    }
}

fn topic_hint(s: &ProbeSettings) -> String {
    format!(
        "a client may subscribe only to its own app's topic users/{}/devices (no wildcards)",
        s.app_id
    )
}

async fn mqtt_disconnect(stream: &mut Box<dyn Io>) -> Result<((), String), StepError> {
    write_packet(stream, &Packet::Disconnect).await?;
    let _ = stream.shutdown().await;
    Ok(((), "sent; connection closed".to_owned()))
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Status::Ok => "ok",
            Status::Failed => "failed",
            Status::Skipped => "skipped",
        })
    }
}
