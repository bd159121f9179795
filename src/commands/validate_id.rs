//! `validate-id`: check clientIds from arguments or stdin and report each verdict.
//!
//! Built for CI: a million ids stream through a reused line buffer (never held in memory),
//! results go through one large buffer flushed at the end, and `--quiet` stops at the first
//! invalid id.

use std::io::{self, BufRead, BufWriter, IsTerminal as _, Write};

use serde::Serialize;

use crate::cli::ValidateIdArgs;
use crate::client_id::{self, Violation};
use crate::config::{CredentialFlags, Env, Resolver};
use crate::error::{Error, ExitKind, Result};

/// How verdicts are reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Report {
    /// One human line per id.
    Human,
    /// One JSON object per id.
    Json,
    /// Nothing; stop at the first invalid id.
    Quiet,
}

/// Counts after a run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Summary {
    /// Ids checked.
    pub checked: u64,
    /// Ids that broke the rule.
    pub invalid: u64,
}

/// Checks ids and writes one verdict per id; ids come with their line number when read
/// from a stream.
pub struct Checker<'a, W: Write> {
    app_id: &'a str,
    report: Report,
    out: W,
    summary: Summary,
}

impl<'a, W: Write> Checker<'a, W> {
    /// A checker for `app_id` writing to `out`.
    pub fn new(app_id: &'a str, report: Report, out: W) -> Self {
        Checker {
            app_id,
            report,
            out,
            summary: Summary::default(),
        }
    }

    /// Checks one id. Returns `false` when checking should stop (quiet mode, invalid id).
    pub fn check(&mut self, line: Option<u64>, id: &[u8]) -> io::Result<bool> {
        self.summary.checked += 1;
        let violation = if client_id::is_valid(self.app_id.as_bytes(), id) {
            None
        } else {
            self.summary.invalid += 1;
            client_id::explain(self.app_id, id)
        };
        match self.report {
            Report::Quiet => return Ok(violation.is_none()),
            Report::Human => write_human(&mut self.out, line, id, violation.as_ref())?,
            Report::Json => write_json(&mut self.out, line, id, violation.as_ref())?,
        }
        Ok(true)
    }

    /// Checks every line of `input` (`\n`-separated; a `\r` before it is kept and reported).
    pub fn check_lines(&mut self, mut input: impl BufRead) -> io::Result<()> {
        let mut line = Vec::with_capacity(128);
        let mut number = 0u64;
        loop {
            line.clear();
            if input.read_until(b'\n', &mut line)? == 0 {
                return Ok(());
            }
            number += 1;
            if line.last() == Some(&b'\n') {
                line.pop();
            }
            if !self.check(Some(number), &line)? {
                return Ok(());
            }
        }
    }

    /// Flushes the output and returns the counts.
    pub fn finish(mut self) -> io::Result<Summary> {
        self.out.flush()?;
        Ok(self.summary)
    }
}

fn write_human(
    out: &mut impl Write,
    line: Option<u64>,
    id: &[u8],
    violation: Option<&Violation>,
) -> io::Result<()> {
    if let Some(line) = line {
        write!(out, "line {line}: ")?;
    }
    write_display_id(out, id)?;
    match violation {
        None => out.write_all(b": valid\n"),
        Some(v) => {
            write!(out, ": invalid: {}", v.message)?;
            if let Some(suggestion) = &v.suggestion {
                write!(out, "; suggestion: {suggestion}")?;
            }
            out.write_all(b"\n")
        }
    }
}

/// Writes an id as is when it is plain, else quoted with escapes so that `\r`, spaces and
/// control characters are visible in a log.
fn write_display_id(out: &mut impl Write, id: &[u8]) -> io::Result<()> {
    let plain = !id.is_empty() && id.iter().all(|b| b.is_ascii_graphic());
    if plain {
        return out.write_all(id);
    }
    let text = String::from_utf8_lossy(id);
    write!(out, "\"{}\"", text.escape_debug())
}

#[derive(Serialize)]
struct JsonVerdict<'a> {
    id: &'a str,
    valid: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    line: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<JsonViolation<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    suggestion: Option<&'a str>,
}

#[derive(Serialize)]
struct JsonViolation<'a> {
    kind: &'static str,
    position: Option<usize>,
    message: &'a str,
}

fn write_json(
    out: &mut impl Write,
    line: Option<u64>,
    id: &[u8],
    violation: Option<&Violation>,
) -> io::Result<()> {
    let text = String::from_utf8_lossy(id);
    let verdict = JsonVerdict {
        id: &text,
        valid: violation.is_none(),
        line,
        error: violation.map(|v| JsonViolation {
            kind: v.kind.as_str(),
            position: v.position,
            message: &v.message,
        }),
        suggestion: violation.and_then(|v| v.suggestion.as_deref()),
    };
    serde_json::to_writer(&mut *out, &verdict)?;
    out.write_all(b"\n")
}

/// Runs `validate-id`.
pub fn run(args: &ValidateIdArgs, env: Env) -> Result<()> {
    let flags = CredentialFlags {
        profile: args.profile.clone(),
        app_id: args.app_id.clone(),
        ..CredentialFlags::default()
    };
    let resolver = Resolver::new(flags, env);
    let app_id = resolver.app_id();
    super::print_resolver_messages(&resolver);
    let app_id = app_id?.value;
    let report = if args.quiet {
        Report::Quiet
    } else if args.json {
        Report::Json
    } else {
        Report::Human
    };
    let stdout = io::stdout().lock();
    let mut checker = Checker::new(&app_id, report, BufWriter::with_capacity(1 << 16, stdout));
    let from_stdin = args.ids.is_empty();
    if from_stdin {
        let stdin = io::stdin();
        if stdin.is_terminal() && report != Report::Quiet {
            eprintln!("reading clientIds from stdin, one per line (Ctrl-D to end)");
        }
        let input = io::BufReader::with_capacity(1 << 18, stdin.lock());
        checker
            .check_lines(input)
            .map_err(|e| Error::io("cannot read stdin", &e))?;
    } else {
        for id in &args.ids {
            if !checker.check(None, id.as_bytes())? {
                break;
            }
        }
    }
    let summary = checker.finish()?;
    if from_stdin && report != Report::Quiet {
        eprintln!(
            "{} checked: {} valid, {} invalid",
            summary.checked,
            summary.checked - summary.invalid,
            summary.invalid
        );
    }
    if summary.invalid > 0 && report == Report::Quiet {
        // Exit status only: an empty message is not printed.
        return Err(Error::new(ExitKind::Failure, String::new()));
    }
    if summary.invalid > 0 {
        let noun = if summary.invalid == 1 { "Id" } else { "Ids" };
        return Err(Error::new(
            ExitKind::Failure,
            format!("{} invalid client{noun}", summary.invalid),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn human(ids: &[&str]) -> (String, Summary) {
        let mut checker = Checker::new("foobar", Report::Human, Vec::new());
        for id in ids {
            checker.check(None, id.as_bytes()).expect("write to Vec");
        }
        let summary = checker.summary;
        (String::from_utf8(checker.out).expect("utf8"), summary)
    }

    #[test]
    fn human_lines_give_verdict_reason_and_suggestion() {
        let (out, summary) = human(&["foobar/abc", "foobar/a.b"]);
        assert_eq!(
            out,
            "foobar/abc: valid\nfoobar/a.b: invalid: character '.' at position 9 is not \
             allowed; allowed after the slash: A-Z a-z 0-9 - _; suggestion: foobar/a-b\n"
        );
        assert_eq!(
            summary,
            Summary {
                checked: 2,
                invalid: 1
            }
        );
    }

    #[test]
    fn odd_ids_are_quoted_with_escapes() {
        let (out, _) = human(&["foobar/abc\r", ""]);
        assert!(
            out.starts_with("\"foobar/abc\\r\": invalid: trailing carriage return"),
            "{out}"
        );
        assert!(
            out.contains("\n\"\": invalid: the clientId is empty"),
            "{out}"
        );
    }

    #[test]
    fn lines_keep_carriage_returns_and_number_from_one() {
        let mut checker = Checker::new("foobar", Report::Json, Vec::new());
        checker
            .check_lines(&b"foobar/a\r\nfoobar/b\nfoobar/c"[..])
            .expect("read");
        let out = String::from_utf8(checker.out.clone()).expect("utf8");
        let lines: Vec<serde_json::Value> = out
            .lines()
            .map(|l| serde_json::from_str(l).expect("json line"))
            .collect();
        assert_eq!(lines.len(), 3);
        assert_eq!(lines[0]["valid"], false);
        assert_eq!(lines[0]["line"], 1);
        assert_eq!(lines[0]["error"]["kind"], "trailing_carriage_return");
        assert_eq!(lines[2]["id"], "foobar/c");
        assert_eq!(lines[2]["valid"], true);
    }

    #[test]
    fn quiet_stops_at_the_first_invalid_id() {
        let mut checker = Checker::new("foobar", Report::Quiet, Vec::new());
        checker
            .check_lines(&b"foobar/a\nbad\nfoobar/c\n"[..])
            .expect("read");
        let summary = checker.finish().expect("flush");
        assert_eq!(
            summary,
            Summary {
                checked: 2,
                invalid: 1
            }
        );
    }
}
