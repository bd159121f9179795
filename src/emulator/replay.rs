//! Replay: an NDJSON file (or text) of pushes, published line by line in order.
//!
//! A line is published exactly as its bytes are, so garbage lines reach clients as garbage
//! (the CLI tests its handling of bad payloads this way). Routing: a JSON object whose
//! `appId` is a configured app goes to that app only; one whose `appId` names no configured
//! app is skipped (and logged once, at load); anything else — no `appId`, not an object, not
//! JSON — goes to every app. In safe mode a JSON object with `data` is re-encoded with
//! `encryptData` in its place, per receiving app. Lines are prepared once, at start.

use bytes::Bytes;
use serde_json::{Map, Value};

use super::broker::Broker;
use super::config::{Replay, MAX_REPLAY_BYTES};
use super::log::LogEvent;
use crate::error::{Error, Result};

/// One replay line, ready to publish: the payload each app receives.
#[derive(Debug, Clone)]
pub(crate) struct Line {
    pub(crate) deliveries: Vec<(usize, Bytes)>,
}

/// Reads and prepares the replay input.
pub(crate) fn load(replay: &Replay, broker: &Broker) -> Result<Vec<Line>> {
    let text = match replay {
        Replay::Text(text) => {
            if text.len() as u64 > MAX_REPLAY_BYTES {
                return Err(too_big("the replay text"));
            }
            text.clone()
        }
        Replay::File(path) => {
            let shown = path.display();
            let size = std::fs::metadata(path)
                .map_err(|err| Error::config(format!("cannot read replay file {shown}: {err}")))?
                .len();
            if size > MAX_REPLAY_BYTES {
                return Err(too_big(&format!("replay file {shown}")));
            }
            std::fs::read(path)
                .map_err(|err| Error::config(format!("cannot read replay file {shown}: {err}")))?
        }
    };
    let lines = text
        .split(|&b| b == b'\n')
        .enumerate()
        .filter_map(|(index, raw)| prepare(broker, index + 1, raw))
        .collect();
    Ok(lines)
}

fn too_big(what: &str) -> Error {
    Error::config(format!(
        "{what} is over the {} MiB replay limit",
        MAX_REPLAY_BYTES / 1024 / 1024
    ))
}

/// Routes and (in safe mode) seals one line; `None` for blank or skipped lines.
fn prepare(broker: &Broker, number: usize, raw: &[u8]) -> Option<Line> {
    let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
    if raw.iter().all(u8::is_ascii_whitespace) {
        return None;
    }
    let object = match serde_json::from_slice::<Value>(raw) {
        Ok(Value::Object(object)) => Some(object),
        _ => None,
    };
    let targets: Vec<usize> = match object.as_ref().and_then(|o| o.get("appId")) {
        Some(Value::String(app_id)) => match broker.app_index(app_id) {
            Some(index) => vec![index],
            None => {
                broker.logger.emit(|| LogEvent::ReplaySkipped {
                    line: number,
                    reason: format!("appId '{}' is not a configured app", app_id.escape_debug()),
                });
                return None;
            }
        },
        _ => (0..broker.apps.len()).collect(),
    };
    let sealable = object.filter(|o| broker.config.safe_mode && o.contains_key("data"));
    let deliveries = targets
        .into_iter()
        .filter_map(|app| match &sealable {
            Some(object) => seal_object(broker, app, object).map(|bytes| (app, bytes)),
            None => Some((app, Bytes::copy_from_slice(raw))),
        })
        .collect();
    Some(Line { deliveries })
}

/// The object with `data` replaced, in place, by `encryptData` sealed for `app`.
fn seal_object(broker: &Broker, app: usize, object: &Map<String, Value>) -> Option<Bytes> {
    let data = object.get("data")?;
    let sealed = super::source::seal(broker, app, data)?;
    let mut out = Map::new();
    for (key, value) in object {
        if key == "data" {
            out.insert("encryptData".into(), Value::String(sealed.clone()));
        } else {
            out.insert(key.clone(), value.clone());
        }
    }
    serde_json::to_vec(&Value::Object(out))
        .ok()
        .map(Bytes::from)
}
