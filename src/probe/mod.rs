//! The connection check behind `connect`: each step on its own, timed, so a failure says
//! exactly where it happened and what it most likely means on this platform.
//!
//! Local checks → DNS → TCP → TLS (when on) → CONNECT/CONNACK → SUBSCRIBE/SUBACK →
//! DISCONNECT. The MQTT packets are rumqttc's own (`mqttbytes::v4`) written on a socket this
//! module opens, because rumqttc's event loop does DNS, TCP, TLS and CONNECT in one call and
//! would leave nothing to time or tell apart. The check uses a clean session, so it never
//! disturbs a persistent one. The whole check is bounded by one deadline.

use std::time::{Duration, Instant};

use bytes::BytesMut;
use rumqttc::mqttbytes::v4::ConnAck;

use crate::config::Qos;
use crate::error::ExitKind;
use crate::mqtt;
use crate::mqtt::session::Io;
use crate::secret::Secret;
use crate::tls::TlsClient;

mod report;
mod steps;

pub use report::{ConnackInfo, Failure, Progress, Report, Silent, Status, Step, StepKind};
use steps::{
    handshake, local_checks, mqtt_connect, mqtt_disconnect, mqtt_subscribe, resolve, tcp_connect,
    timeout_explanation,
};

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

impl From<crate::error::Error> for StepError {
    fn from(err: crate::error::Error) -> Self {
        StepError {
            kind: err.kind(),
            message: err.message().to_owned(),
            explanation: err.hint().map(str::to_owned).into_iter().collect(),
        }
    }
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
