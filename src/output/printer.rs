//! The printer: renders each received payload in the chosen format into the bytes for stdout
//! (and NDJSON lines for the `--output` file). It neither writes nor knows MQTT: the caller
//! collects a batch of pushes and hands the bytes to the [`super::sink`] in one piece, so a
//! burst costs few syscalls while `| jq` still sees every push at once. In JSON the push is
//! copied as it came (see [`crate::push`]).

use base64::Engine as _;
use chrono::{DateTime, FixedOffset, SecondsFormat};

use super::pretty::{PayloadView, PrettyOptions, Renderer, SafeModeView};
use crate::json::write_string;
use crate::push::{Reading, SafeMode};

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
    /// The payload as read (and possibly opened).
    pub reading: Reading<'a>,
    /// Topic it came on.
    pub topic: &'a str,
    /// Delivery QoS.
    pub qos: u8,
    /// Retain flag.
    pub retain: bool,
    /// Duplicate flag.
    pub dup: bool,
    /// Local receive time; only the pretty view and the envelope show it, so callers that
    /// know neither is on ([`Printer::wants_time`]) may leave it out.
    pub received_at: Option<DateTime<FixedOffset>>,
}

/// Renders received payloads into the bytes for stdout and for the `--output` file.
pub struct Printer {
    format: OutputFormat,
    envelope: bool,
    to_file: bool,
    pretty: Renderer,
    text: String,
}

impl Printer {
    /// A printer in `format`; with `to_file`, NDJSON lines are made for the file too.
    #[must_use]
    pub fn new(format: OutputFormat, envelope: bool, to_file: bool, pretty: PrettyOptions) -> Self {
        Printer {
            format,
            envelope,
            to_file,
            pretty: Renderer::new(pretty),
            text: String::new(),
        }
    }

    /// Whether the output shows the receive time (pretty, or the envelope).
    #[must_use]
    pub fn wants_time(&self) -> bool {
        self.format == OutputFormat::Pretty || self.envelope
    }

    /// Appends one payload to `out` (stdout's bytes) and, with a file, to `file`.
    pub fn render(&mut self, received: &Received<'_>, out: &mut Vec<u8>, file: &mut Vec<u8>) {
        match self.format {
            OutputFormat::Raw => {
                out.extend_from_slice(received.bytes);
                out.push(b'\n');
            }
            OutputFormat::Pretty => {
                self.text.clear();
                render_pretty(&mut self.text, received, &mut self.pretty);
                out.extend_from_slice(self.text.as_bytes());
            }
            OutputFormat::Json => {
                let start = out.len();
                write_json_line(out, received, self.envelope);
                if self.to_file {
                    file.extend_from_slice(&out[start..]);
                }
                return;
            }
        }
        if self.to_file {
            write_json_line(file, received, self.envelope);
        }
    }
}

/// Appends the NDJSON line (newline included) for one payload: the push as it came (with
/// `data` decrypted in place), or `{"error", "raw"}` for a payload that is not a JSON object
/// (`raw_base64` instead of `raw` when its bytes are not UTF-8); wrapped in an envelope with
/// receive time and MQTT flags when asked. The push is embedded byte for byte.
pub fn write_json_line(out: &mut Vec<u8>, received: &Received<'_>, envelope: bool) {
    if envelope {
        out.extend_from_slice(b"{\"received_at\":\"");
        let time = received_at(received).to_rfc3339_opts(SecondsFormat::Millis, false);
        out.extend_from_slice(time.as_bytes());
        out.extend_from_slice(b"\",\"topic\":");
        write_string(out, received.topic);
        let flags = format!(
            ",\"qos\":{},\"retain\":{},\"dup\":{},\"push\":",
            received.qos, received.retain, received.dup
        );
        out.extend_from_slice(flags.as_bytes());
    }
    match &received.reading {
        Reading::Push(push) => out.extend_from_slice(push.json),
        Reading::NotJson { error } => {
            out.extend_from_slice(b"{\"error\":");
            write_string(out, error);
            match std::str::from_utf8(received.bytes) {
                Ok(text) => {
                    out.extend_from_slice(b",\"raw\":");
                    write_string(out, text);
                }
                Err(_) => {
                    out.extend_from_slice(b",\"raw_base64\":\"");
                    let encoded = base64::engine::general_purpose::STANDARD.encode(received.bytes);
                    out.extend_from_slice(encoded.as_bytes());
                    out.push(b'"');
                }
            }
            out.push(b'}');
        }
    }
    if envelope {
        out.push(b'}');
    }
    out.push(b'\n');
}

/// The receive time, or now when the caller left it out.
fn received_at(received: &Received<'_>) -> DateTime<FixedOffset> {
    received
        .received_at
        .unwrap_or_else(|| chrono::Local::now().fixed_offset())
}

fn render_pretty(out: &mut String, received: &Received<'_>, renderer: &mut Renderer) {
    let parsed;
    let view = match &received.reading {
        Reading::Push(push) => {
            parsed = push.to_value();
            match &parsed {
                Some(value) => PayloadView::Push {
                    push: value,
                    safe_mode: match &push.safe_mode {
                        SafeMode::Plain | SafeMode::NoKey => SafeModeView::Plain,
                        SafeMode::Decrypted => SafeModeView::Decrypted,
                        SafeMode::Failed(reason) => SafeModeView::Failed { reason },
                    },
                },
                None => PayloadView::NotJson {
                    payload: push.json,
                    error: "valid JSON, nested too deeply to lay out; shown as received",
                },
            }
        }
        Reading::NotJson { error } => PayloadView::NotJson {
            payload: received.bytes,
            error,
        },
    };
    renderer.render(out, &view, received_at(received));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::push::PushReader;

    fn received<'a>(bytes: &'a [u8], reading: Reading<'a>) -> Received<'a> {
        Received {
            bytes,
            reading,
            topic: "users/a/devices",
            qos: 1,
            retain: false,
            dup: false,
            received_at: Some(
                DateTime::parse_from_rfc3339("2026-11-24T08:00:00.250+08:00").expect("time"),
            ),
        }
    }

    fn line(bytes: &[u8], envelope: bool) -> String {
        let mut reader = PushReader::new(None, None, true);
        let r = received(bytes, reader.read(bytes));
        let mut out = Vec::new();
        write_json_line(&mut out, &r, envelope);
        String::from_utf8(out).expect("utf8")
    }

    #[test]
    fn not_json_payloads_still_make_one_valid_json_line() {
        let text = line(b"h\xc3\xa9llo\n\"x\"", false);
        assert_eq!(
            text,
            "{\"error\":\"payload is not JSON: expected a JSON value at byte 1\",\"raw\":\"h\u{e9}llo\\n\\\"x\\\"\"}\n"
        );
    }

    #[test]
    fn bytes_that_are_not_utf8_are_carried_as_base64() {
        let text = line(b"\xffhello", false);
        let value: serde_json::Value = serde_json::from_str(&text).expect("json");
        assert_eq!(value["raw_base64"], "/2hlbGxv");
        assert!(value.get("raw").is_none(), "{text}");
    }

    #[test]
    fn envelope_embeds_the_push_byte_for_byte() {
        let push = br#"{"sn":"01","lng":116.31264671608805,"a":1,"a":2}"#;
        let text = line(push, true);
        assert_eq!(
            text,
            format!(
                "{{\"received_at\":\"2026-11-24T08:00:00.250+08:00\",\"topic\":\"users/a/devices\",\"qos\":1,\"retain\":false,\"dup\":false,\"push\":{}}}\n",
                std::str::from_utf8(push).expect("utf8")
            )
        );
    }

    #[test]
    fn raw_format_writes_bytes_unchanged_and_json_file_gets_lines() {
        let (mut out, mut file) = (Vec::new(), Vec::new());
        let mut reader = PushReader::new(None, None, true);
        let mut printer = Printer::new(OutputFormat::Raw, false, true, PrettyOptions::default());
        for payload in [&b"not json\x01"[..], b"{\"n\": 1.10}"] {
            let r = received(payload, reader.read(payload));
            printer.render(&r, &mut out, &mut file);
        }
        assert_eq!(out, b"not json\x01\n{\"n\": 1.10}\n");
        let saved = String::from_utf8(file).expect("utf8");
        let lines: Vec<&str> = saved.lines().collect();
        assert!(
            lines[0].starts_with("{\"error\":\"payload is not JSON"),
            "{saved}"
        );
        assert_eq!(lines[1], "{\"n\": 1.10}");
    }

    #[test]
    fn json_format_and_the_file_get_the_push_as_it_came() {
        let (mut out, mut file) = (Vec::new(), Vec::new());
        let mut reader = PushReader::new(None, None, true);
        let payload = b"{\"id\":12345678901234567890123,\n\"x\":[1E2]}";
        let mut printer = Printer::new(OutputFormat::Json, false, true, PrettyOptions::default());
        let r = received(payload, reader.read(payload));
        printer.render(&r, &mut out, &mut file);
        assert_eq!(out, b"{\"id\":12345678901234567890123,\"x\":[1E2]}\n");
        assert_eq!(file, out);
    }
}
