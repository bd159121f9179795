//! From a payload to a layout-free description: header parts, free text, fields, metadata.

use chrono::{DateTime, FixedOffset};
use serde_json::{Map, Value};

use super::fields::{self, Field, Reading};
use super::text::Line;
use super::theme::DeviceColors;
use super::{header, theme, values, PayloadView, SafeModeView};
use crate::output::style::Style;

/// Top-level fields that identify the message rather than describe the device's state:
/// shown quietly at the end.
const META_KEYS: &[&str] = &["appId", "msgId"];

/// A payload, classified and sanitised, not yet laid out.
#[derive(Debug, Default)]
pub(super) struct Doc<'a> {
    /// Header parts, starting with the receive time.
    pub(super) header: Vec<Line>,
    /// Free text below the header: a non-JSON payload, a push that is not an object.
    pub(super) body: Option<Line>,
    /// Readings and other fields, in the push's order.
    pub(super) fields: Vec<Field<'a>>,
    /// Message identifiers, in the push's order.
    pub(super) meta: Vec<Field<'a>>,
}

/// Describes `view`, received at `received`.
pub(super) fn build<'a>(
    view: &PayloadView<'a>,
    received: DateTime<FixedOffset>,
    devices: &mut DeviceColors,
) -> Doc<'a> {
    match view {
        PayloadView::Push {
            push: Value::Object(push),
            safe_mode,
        } => object(push, safe_mode, received, devices),
        PayloadView::Push { push, safe_mode } => not_object(push, safe_mode, received),
        PayloadView::NotJson { payload, error } => not_json(payload, error, received),
    }
}

fn object<'a>(
    push: &'a Map<String, Value>,
    safe_mode: &SafeModeView<'_>,
    received: DateTime<FixedOffset>,
    devices: &mut DeviceColors,
) -> Doc<'a> {
    let mut doc = Doc {
        header: vec![header::time(received)],
        ..Doc::default()
    };
    doc.header
        .extend(header::envelope(push, safe_mode, received, devices));
    for (key, value) in push {
        if header::takes(key, value) {
            continue;
        }
        match (key.as_str(), value) {
            ("data", Value::Object(data)) if !data.is_empty() => {
                for (name, reading) in data {
                    fields::collect("", name, reading, &mut doc.fields);
                }
            }
            ("encryptData", Value::String(blob)) => doc.fields.push(Field {
                key: key.clone(),
                reading: Reading::Blob {
                    chars: blob.chars().count(),
                },
            }),
            (key, value) if META_KEYS.contains(&key) && !value.is_object() => {
                fields::collect("", key, value, &mut doc.meta);
            }
            (key, value) => fields::collect("", key, value, &mut doc.fields),
        }
    }
    if push
        .get("type")
        .and_then(Value::as_str)
        .is_some_and(fields::is_alarm_name)
    {
        fields::mark_in_alarm(&mut doc.fields);
    }
    doc
}

fn not_object<'a>(
    push: &Value,
    safe_mode: &SafeModeView<'_>,
    received: DateTime<FixedOffset>,
) -> Doc<'a> {
    let kind = crate::push::json_kind(push);
    let mut note = Line::new();
    note.text(&format!("⚠ push is {kind}, not an object"), theme::WARN);
    let mut body = Line::new();
    values::push_json(&mut body, push, 0);
    let mut header = vec![header::time(received), note];
    header.extend(header::safe_mode_marker(safe_mode, None));
    Doc {
        header,
        body: Some(body),
        ..Doc::default()
    }
}

fn not_json<'a>(payload: &[u8], error: &str, received: DateTime<FixedOffset>) -> Doc<'a> {
    let mut note = Line::new();
    note.text(
        &format!("✗ not JSON ({} bytes): ", payload.len()),
        theme::ERROR,
    )
    .user(error, theme::ERROR);
    Doc {
        header: vec![header::time(received), note],
        body: Some(payload_text(payload)),
        ..Doc::default()
    }
}

/// The payload as text: valid UTF-8 runs sanitised, invalid bytes as `\xNN`.
fn payload_text(payload: &[u8]) -> Line {
    let mut line = Line::new();
    if payload.is_empty() {
        line.text("(empty payload)", theme::QUIET);
    }
    let mut rest = payload;
    while !rest.is_empty() {
        match std::str::from_utf8(rest) {
            Ok(text) => {
                line.user(text, Style::PLAIN);
                rest = &[];
            }
            Err(error) => {
                let (valid, invalid) = rest.split_at(error.valid_up_to());
                line.user(std::str::from_utf8(valid).unwrap_or_default(), Style::PLAIN);
                let bad_len = error.error_len().unwrap_or(invalid.len());
                let (bad, after) = invalid.split_at(bad_len.min(invalid.len()));
                for byte in bad {
                    line.escape(&format!("\\x{byte:02x}"));
                }
                rest = after;
            }
        }
    }
    line
}
