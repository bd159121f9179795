//! The header line's parts: receive time, device, type, creation time, safe-mode state.

use chrono::{DateTime, FixedOffset};
use serde_json::{Map, Value};

use super::created::{self, Created};
use super::text::Line;
use super::theme::DeviceColors;
use super::{fields, theme, values, SafeModeView};

/// Envelope fields the header shows; a field is left to the body when the header cannot
/// show it (see [`takes`]).
const SN: &str = "sn";
const DEVICE_TYPE: &str = "deviceType";
const TYPE: &str = "type";
const CREATED_TIME: &str = "createdTime";

/// The `type` of an ordinary data message: not worth a mention.
const DATA_TYPE: &str = "text";

/// Whether the header shows the top-level field `key` (so the body must not repeat it).
pub(super) fn takes(key: &str, value: &Value) -> bool {
    match key {
        SN | DEVICE_TYPE | TYPE => is_scalar(value),
        CREATED_TIME => matches!(value, Value::Number(_) | Value::String(_)),
        _ => false,
    }
}

fn is_scalar(value: &Value) -> bool {
    matches!(value, Value::String(_) | Value::Number(_) | Value::Bool(_))
}

/// `HH:MM:SS.mmm` in the receive time's own offset.
pub(super) fn time(received: DateTime<FixedOffset>) -> Line {
    let mut line = Line::new();
    line.text(&received.format("%H:%M:%S%.3f").to_string(), theme::TIME);
    line
}

/// The header parts of a push object, after the time.
pub(super) fn envelope(
    push: &Map<String, Value>,
    safe_mode: &SafeModeView<'_>,
    received: DateTime<FixedOffset>,
    devices: &mut DeviceColors,
) -> Vec<Line> {
    let shown = |key: &str| push.get(key).filter(|value| takes(key, value));
    let mut parts = vec![sn(shown(SN), devices), device_type(shown(DEVICE_TYPE))];
    parts.extend(kind(shown(TYPE)));
    parts.extend(shown(CREATED_TIME).and_then(|value| created(value, received)));
    parts.extend(safe_mode_marker(safe_mode, push.get("encryptData")));
    parts
}

fn sn(value: Option<&Value>, devices: &mut DeviceColors) -> Line {
    let mut line = Line::new();
    match value {
        Some(Value::String(sn)) => line.user(sn, devices.style(sn)),
        Some(other) => line.text(&other.to_string(), devices.style(&other.to_string())),
        None => line.text("?", theme::QUIET),
    };
    line
}

fn device_type(value: Option<&Value>) -> Line {
    let mut line = Line::new();
    match value {
        Some(Value::String(text)) => line.user(text, theme::VALUE),
        Some(other) => line.text(&other.to_string(), theme::VALUE),
        None => line.text("?", theme::QUIET),
    };
    line
}

/// `[alarm]` for any `type` but the ordinary `text`.
fn kind(value: Option<&Value>) -> Option<Line> {
    let mut line = Line::new();
    match value? {
        Value::String(text) if text == DATA_TYPE => return None,
        Value::String(text) if fields::is_alarm_name(text) => {
            line.text("[", theme::ALARM_TYPE)
                .user(text, theme::ALARM_TYPE)
                .text("]", theme::ALARM_TYPE);
            return Some(line);
        }
        Value::String(text) => line.text("[", theme::TYPE).user(text, theme::TYPE),
        other => line
            .text("[", theme::TYPE)
            .text(&other.to_string(), theme::TYPE),
    };
    line.text("]", theme::TYPE);
    Some(line)
}

fn created(value: &Value, received: DateTime<FixedOffset>) -> Option<Line> {
    let mut line = Line::new();
    match created::parse(value, *received.offset()) {
        Created::At(at) => {
            line.text(&created::describe(at, received)?, theme::WARN);
        }
        Created::Unparsed(raw) => {
            line.text("created ", theme::WARN);
            values::push_plain(&mut line, raw, false);
        }
        Created::Empty => return None,
    }
    Some(line)
}

/// Whether the push was decrypted, could not be, or is still encrypted for want of a key.
pub(super) fn safe_mode_marker(
    safe_mode: &SafeModeView<'_>,
    encrypt_data: Option<&Value>,
) -> Option<Line> {
    let mut line = Line::new();
    match safe_mode {
        SafeModeView::Decrypted => line.text("🔓 decrypted", theme::DECRYPTED),
        SafeModeView::Failed { reason } => line
            .text("🔒 decryption failed: ", theme::ERROR)
            .user(reason, theme::ERROR),
        SafeModeView::Plain if encrypt_data.is_some_and(Value::is_string) => {
            line.text("🔒 encrypted (no AppKey)", theme::WARN)
        }
        SafeModeView::Plain => return None,
    };
    Some(line)
}
