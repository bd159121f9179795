//! What a check reports: the steps, their status and timing, the failure with its
//! explanation, and the [`Progress`] callback a caller shows them with. No I/O here.

use std::fmt;

use serde::Serialize;

use crate::error::ExitKind;

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

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Status::Ok => "ok",
            Status::Failed => "failed",
            Status::Skipped => "skipped",
        })
    }
}
