//! The printer: owns a buffered stdout (and an optional NDJSON file) and writes each received
//! payload in the chosen format. It does not know MQTT; the caller decides when to flush
//! (when no further message is immediately ready), so a burst costs few syscalls while
//! `| jq` still sees every push at once.

use std::io::{self, Write};

use chrono::{DateTime, FixedOffset, SecondsFormat};
use serde_json::{json, Value};

use super::pretty::{PayloadView, PrettyOptions, Renderer, SafeModeView};
use crate::push::{Payload, SafeMode};

/// Output formats of `listen`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputFormat {
    /// For people: the pretty renderer.
    Pretty,
    /// NDJSON: one compact object per push.
    Json,
    /// The payload bytes as received, newline-terminated.
    Raw,
}

/// One received message, as the printer needs it.
pub struct Received<'a> {
    /// The payload bytes.
    pub bytes: &'a [u8],
    /// The parsed (and possibly decrypted) payload.
    pub payload: Payload,
    /// Topic it came on.
    pub topic: &'a str,
    /// Delivery QoS.
    pub qos: u8,
    /// Retain flag.
    pub retain: bool,
    /// Duplicate flag.
    pub dup: bool,
    /// Local receive time.
    pub received_at: DateTime<FixedOffset>,
}

/// Writes received payloads.
pub struct Printer<W: Write> {
    out: io::BufWriter<W>,
    file: Option<io::BufWriter<std::fs::File>>,
    format: OutputFormat,
    envelope: bool,
    pretty: Renderer,
    text: String,
    line: Vec<u8>,
}

impl<W: Write> Printer<W> {
    /// A printer over `out`; `file` gets NDJSON lines too.
    pub fn new(
        out: W,
        file: Option<std::fs::File>,
        format: OutputFormat,
        envelope: bool,
        pretty: PrettyOptions,
    ) -> Self {
        Printer {
            out: io::BufWriter::with_capacity(64 * 1024, out),
            file: file.map(io::BufWriter::new),
            format,
            envelope,
            pretty: Renderer::new(pretty),
            text: String::new(),
            line: Vec::new(),
        }
    }

    /// Writes one payload (buffered).
    pub fn write(&mut self, received: Received<'_>) -> io::Result<()> {
        let (body, meta) = received.split();
        match self.format {
            OutputFormat::Raw => {
                self.out.write_all(meta.bytes)?;
                self.out.write_all(b"\n")?;
            }
            OutputFormat::Pretty => {
                self.text.clear();
                render_pretty(&mut self.text, &body, &meta, &mut self.pretty);
                self.out.write_all(self.text.as_bytes())?;
            }
            OutputFormat::Json => {}
        }
        if self.format != OutputFormat::Json && self.file.is_none() {
            return Ok(());
        }
        self.line.clear();
        serde_json::to_writer(&mut self.line, &line_value(body, &meta, self.envelope))?;
        self.line.push(b'\n');
        if self.format == OutputFormat::Json {
            self.out.write_all(&self.line)?;
        }
        if let Some(file) = &mut self.file {
            file.write_all(&self.line)?;
        }
        Ok(())
    }

    /// Pushes everything buffered to stdout and the file.
    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()?;
        if let Some(file) = &mut self.file {
            file.flush()?;
        }
        Ok(())
    }
}

/// A received payload with the push moved into a JSON value once, so the pretty renderer
/// and the JSON line share it without copying.
enum Body {
    Push { push: Value, safe_mode: SafeMode },
    NotJson { error: String },
}

/// Everything about a received message except its parsed body.
struct Meta<'a> {
    bytes: &'a [u8],
    topic: &'a str,
    qos: u8,
    retain: bool,
    dup: bool,
    received_at: DateTime<FixedOffset>,
}

impl<'a> Received<'a> {
    fn split(self) -> (Body, Meta<'a>) {
        let body = match self.payload {
            Payload::Push { push, safe_mode } => Body::Push {
                push: Value::Object(push),
                safe_mode,
            },
            Payload::NotJson { error } => Body::NotJson { error },
        };
        let meta = Meta {
            bytes: self.bytes,
            topic: self.topic,
            qos: self.qos,
            retain: self.retain,
            dup: self.dup,
            received_at: self.received_at,
        };
        (body, meta)
    }
}

/// The NDJSON object for one payload: the push as sent (with `data` decrypted in place), or
/// `{"error", "raw"}` for a payload that is not a JSON object; wrapped in an envelope with
/// receive time and MQTT flags when asked.
#[must_use]
pub fn json_line(received: Received<'_>, envelope: bool) -> Value {
    let (body, meta) = received.split();
    line_value(body, &meta, envelope)
}

fn line_value(body: Body, meta: &Meta<'_>, envelope: bool) -> Value {
    let body = match body {
        Body::Push {
            mut push,
            safe_mode,
        } => {
            if let (SafeMode::Failed(reason), Some(fields)) = (safe_mode, push.as_object_mut()) {
                fields.insert("decryptError".into(), Value::String(reason));
            }
            push
        }
        Body::NotJson { error } => json!({
            "error": error,
            "raw": String::from_utf8_lossy(meta.bytes),
        }),
    };
    if !envelope {
        return body;
    }
    json!({
        "received_at": meta.received_at.to_rfc3339_opts(SecondsFormat::Millis, false),
        "topic": meta.topic,
        "qos": meta.qos,
        "retain": meta.retain,
        "dup": meta.dup,
        "push": body,
    })
}

fn render_pretty(out: &mut String, body: &Body, meta: &Meta<'_>, renderer: &mut Renderer) {
    let view = match body {
        Body::Push { push, safe_mode } => PayloadView::Push {
            push,
            safe_mode: match safe_mode {
                SafeMode::Plain | SafeMode::NoKey => SafeModeView::Plain,
                SafeMode::Decrypted => SafeModeView::Decrypted,
                SafeMode::Failed(reason) => SafeModeView::Failed { reason },
            },
        },
        Body::NotJson { error } => PayloadView::NotJson {
            payload: meta.bytes,
            error,
        },
    };
    renderer.render(out, &view, meta.received_at);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn received(bytes: &[u8], payload: Payload) -> Received<'_> {
        Received {
            bytes,
            payload,
            topic: "users/a/devices",
            qos: 1,
            retain: false,
            dup: false,
            received_at: DateTime::parse_from_rfc3339("2026-11-24T08:00:00.250+08:00")
                .expect("time"),
        }
    }

    #[test]
    fn not_json_payloads_still_make_one_valid_json_line() {
        let r = received(
            b"\xffhello",
            Payload::NotJson {
                error: "payload is not JSON".into(),
            },
        );
        let line = json_line(r, false);
        assert_eq!(line["error"], "payload is not JSON");
        assert_eq!(line["raw"], "\u{fffd}hello");
    }

    #[test]
    fn envelope_wraps_the_push_with_time_and_flags() {
        let mut push = serde_json::Map::new();
        push.insert("sn".into(), json!("01"));
        let r = received(
            b"{}",
            Payload::Push {
                push,
                safe_mode: SafeMode::Failed("bad key".into()),
            },
        );
        let line = json_line(r, true);
        assert_eq!(line["received_at"], "2026-11-24T08:00:00.250+08:00");
        assert_eq!(line["qos"], 1);
        assert_eq!(line["push"]["sn"], "01");
        assert_eq!(line["push"]["decryptError"], "bad key");
    }

    #[test]
    fn raw_format_writes_bytes_unchanged_and_json_file_gets_lines() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("out.ndjson");
        let file = std::fs::File::create(&path).expect("file");
        let mut out = Vec::new();
        {
            let mut printer = Printer::new(
                &mut out,
                Some(file),
                OutputFormat::Raw,
                false,
                PrettyOptions::default(),
            );
            let r = received(b"not json\x01", Payload::NotJson { error: "x".into() });
            printer.write(r).expect("write");
            printer.flush().expect("flush");
        }
        assert_eq!(out, b"not json\x01\n");
        let saved = std::fs::read_to_string(&path).expect("read");
        assert!(saved.starts_with("{\"error\":\"x\""), "{saved}");
    }
}
