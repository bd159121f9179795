//! The `connect` report for people: one line per step as it ends, then the verdict with the
//! explanation. Symbols and words carry the meaning; colour only underlines it.

use super::style::{Color, Style};
use crate::probe::{Report, Status, Step, StepKind};

const OK: Style = Style::fg(Color::Green);
const FAILED: Style = Style::fg(Color::Red).bold();
const SKIPPED: Style = Style::PLAIN.dim();

/// Width of the step label column.
const LABEL_WIDTH: usize = 12;

/// The heading: what is checked, before any step runs.
#[must_use]
pub fn heading(host: &str, port: u16, tls: bool, client_id: &str) -> String {
    let transport = if tls { "TLS" } else { "plain MQTT" };
    format!("checking {host}:{port} ({transport}) as clientId {client_id}\n")
}

/// One step's line: `  ✓ DNS          2.3 ms  mqtt.example.com → 10.0.0.5`.
#[must_use]
pub fn step_line(step: &Step, color: bool) -> String {
    let (symbol, style) = match step.status {
        Status::Ok => ("✓", OK),
        Status::Failed => ("✗", FAILED),
        Status::Skipped => ("–", SKIPPED),
    };
    let mut line = String::from("  ");
    style.paint(&mut line, symbol, color);
    line.push(' ');
    let label = format!("{:<LABEL_WIDTH$}", step.step.label());
    style.paint(&mut line, &label, color);
    let time = if step.status == Status::Skipped {
        String::new()
    } else {
        format!("{:.1} ms", step.ms)
    };
    line.push_str(&format!("{time:>10}  "));
    let detail: String = step.detail.chars().filter(|c| !c.is_control()).collect();
    if step.status == Status::Skipped {
        SKIPPED.paint(&mut line, &detail, color);
    } else {
        line.push_str(&detail);
    }
    line.push('\n');
    line
}

/// The verdict after the steps: `OK …` or `FAILED at …` with the explanation.
#[must_use]
pub fn verdict(report: &Report, color: bool) -> String {
    let mut out = String::new();
    match &report.failure {
        None => {
            OK.bold().paint(&mut out, "OK", color);
            let granted = report
                .granted_qos
                .map_or(String::new(), |q| format!(", subscribed at QoS {q}"));
            out.push_str(&format!(
                ": connected{granted}; every step passed in {:.1} ms\n",
                report.total_ms
            ));
        }
        Some(failure) => {
            let at = report
                .steps
                .iter()
                .find(|s| s.status == Status::Failed)
                .map_or(StepKind::Local, |s| s.step);
            FAILED.paint(&mut out, "FAILED", color);
            out.push_str(&format!(
                " at {} (exit {}): {}\n",
                at.label(),
                failure.exit_code,
                failure.message
            ));
            for line in &failure.explanation {
                out.push_str(&format!("  - {line}\n"));
            }
        }
    }
    out
}

/// The whole report at once (heading, steps, verdict).
#[must_use]
pub fn render(report: &Report, color: bool) -> String {
    let mut out = heading(&report.host, report.port, report.tls, &report.client_id);
    for step in &report.steps {
        out.push_str(&step_line(step, color));
    }
    out.push_str(&verdict(report, color));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ExitKind;
    use crate::probe::Failure;

    fn step(kind: StepKind, status: Status, detail: &str) -> Step {
        Step {
            step: kind,
            status,
            ms: 2.34,
            detail: detail.to_owned(),
        }
    }

    fn report(failure: Option<Failure>, steps: Vec<Step>) -> Report {
        Report {
            ok: failure.is_none(),
            host: "broker.example".into(),
            port: 1883,
            tls: false,
            app_id: "foobar".into(),
            client_id: "foobar/x".into(),
            topic: "users/foobar/devices".into(),
            steps,
            connack: None,
            granted_qos: Some(1),
            total_ms: 12.0,
            failure,
        }
    }

    #[test]
    fn a_passing_report_reads_without_colour() {
        let text = render(
            &report(
                None,
                vec![
                    step(StepKind::Dns, Status::Ok, "broker.example → 10.0.0.5"),
                    step(
                        StepKind::Tls,
                        Status::Skipped,
                        "off (add --tls for a TLS port)",
                    ),
                ],
            ),
            false,
        );
        assert_eq!(
            text,
            "checking broker.example:1883 (plain MQTT) as clientId foobar/x\n  \
             ✓ DNS             2.3 ms  broker.example → 10.0.0.5\n  \
             – TLS                     off (add --tls for a TLS port)\n\
             OK: connected, subscribed at QoS 1; every step passed in 12.0 ms\n"
        );
    }

    #[test]
    fn a_failure_names_the_step_the_exit_code_and_the_causes() {
        let failure = Failure {
            kind: ExitKind::Refused,
            exit_code: 4,
            message: "refused: CONNACK 5 (not authorized)".into(),
            explanation: vec!["check the AppSecret".into()],
        };
        let text = render(
            &report(
                Some(failure),
                vec![step(
                    StepKind::Connect,
                    Status::Failed,
                    "refused: CONNACK 5",
                )],
            ),
            false,
        );
        assert!(text.contains("  ✗ CONNECT"), "{text}");
        assert!(
            text.contains("FAILED at CONNECT (exit 4): refused: CONNACK 5 (not authorized)\n  - check the AppSecret\n"),
            "{text}"
        );
    }

    #[test]
    fn colour_marks_status_only_when_enabled() {
        let ok = step(StepKind::Tcp, Status::Ok, "connected");
        assert!(step_line(&ok, true).contains("\u{1b}[32m✓"));
        assert!(!step_line(&ok, false).contains('\u{1b}'));
    }

    #[test]
    fn control_characters_in_details_are_dropped() {
        let odd = step(StepKind::Dns, Status::Ok, "a\u{1b}[2Jb\r\n");
        let line = step_line(&odd, false);
        assert!(line.ends_with("a[2Jb\n"), "{line:?}");
    }
}
