//! Replay: an NDJSON file (or text) of pushes, published line by line in order.
//!
//! A line is published exactly as its bytes are, so garbage lines reach clients as garbage
//! (the CLI tests its handling of bad payloads this way). Routing: a JSON object whose
//! `appId` is a configured app goes to that app only; one whose `appId` names no configured
//! app is skipped (and logged once, at load); anything else — no `appId`, not an object, not
//! JSON — goes to every app. In safe mode a JSON object with `data` is re-encoded with
//! `encryptData` in its place, per receiving app. A regular file's lines are prepared once,
//! at start; a stream's (stdin, FIFO, device: see [`super::stream`]) as each one arrives.

use crate::json::{self, Doc, Scanner};
use crate::push;
use bytes::Bytes;

use super::broker::Broker;
use tokio::sync::mpsc;

use super::config::{Replay, MAX_REPLAY_BYTES, MAX_REPLAY_LINE};
use super::log::LogEvent;
use super::stream::{self, Input, Origin};
use crate::error::{Error, Result};

/// One replay line, ready to publish: the payload each app receives.
#[derive(Debug, Clone)]
pub(crate) struct Line {
    pub(crate) deliveries: Vec<(usize, Bytes)>,
}

/// A replay ready to run: lines prepared at start, or a live stream read as it comes.
pub(crate) enum Prepared {
    Lines(Vec<Line>),
    Stream(mpsc::Receiver<Input>),
}

/// Opens the replay input: a regular file or text is read and prepared now; stdin, a FIFO
/// or a device is streamed. Fails (kind `Config`) for a path that does not exist, and (kind
/// `Usage`) for `--loop` over a stream.
pub(crate) fn open(replay: &Replay, broker: &Broker) -> Result<Prepared> {
    let origin = match replay {
        Replay::Stdin => Origin::Stdin,
        Replay::File(path) => {
            let meta = std::fs::metadata(path).map_err(|err| {
                Error::config(format!("cannot read replay file {}: {err}", path.display()))
            })?;
            if meta.is_file() {
                return load(replay, broker).map(Prepared::Lines);
            }
            Origin::Path(path.clone())
        }
        Replay::Text(_) => return load(replay, broker).map(Prepared::Lines),
    };
    if broker.config.loop_replay {
        return Err(Error::usage(
            "--loop needs a regular file: a stream (stdin, a FIFO, a device) is read once",
        ));
    }
    Ok(Prepared::Stream(stream::spawn(origin, MAX_REPLAY_LINE)))
}

/// Reads and prepares the replay input.
fn load(replay: &Replay, broker: &Broker) -> Result<Vec<Line>> {
    let text = match replay {
        Replay::Stdin => return Err(Error::usage("stdin is streamed, not loaded")),
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
pub(crate) fn prepare(broker: &Broker, number: usize, raw: &[u8]) -> Option<Line> {
    let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
    if raw.iter().all(u8::is_ascii_whitespace) {
        return None;
    }
    let mut scanner = Scanner::new();
    let doc = scanner
        .scan(raw)
        .ok()
        .filter(|doc| doc.kind == json::Kind::Object);
    let app_id = doc.and_then(|doc| doc.member(raw, "appId").map(|m| &raw[m.value.clone()]));
    let targets: Vec<usize> = match app_id.and_then(json::string_value) {
        Some(app_id) => match broker.app_index(&app_id) {
            Some(index) => vec![index],
            None => {
                broker.logger.emit(|| LogEvent::ReplaySkipped {
                    line: number,
                    reason: format!("appId '{}' is not a configured app", app_id.escape_debug()),
                });
                return None;
            }
        },
        None => (0..broker.apps.len()).collect(),
    };
    let sealable = doc.filter(|doc| broker.config.safe_mode && doc.member(raw, "data").is_some());
    let deliveries = targets
        .into_iter()
        .filter_map(|app| match &sealable {
            Some(doc) => seal_line(broker, app, raw, doc).map(|bytes| (app, bytes)),
            None => Some((app, Bytes::copy_from_slice(raw))),
        })
        .collect();
    Some(Line { deliveries })
}

/// A push for `app` as safe mode sends it: a JSON object with `data` sealed in place, anything
/// else as is. `None` when sealing failed (logged).
pub(crate) fn seal_for(broker: &Broker, app: usize, raw: &[u8]) -> Option<Bytes> {
    let mut scanner = Scanner::new();
    let doc = scanner
        .scan(raw)
        .ok()
        .filter(|doc| doc.kind == json::Kind::Object && doc.member(raw, "data").is_some());
    match doc {
        Some(doc) => seal_line(broker, app, raw, &doc),
        None => Some(Bytes::copy_from_slice(raw)),
    }
}

/// The line with `data` replaced, in place, by `encryptData` sealed for `app`; every other
/// byte as it was.
fn seal_line(broker: &Broker, app: usize, raw: &[u8], doc: &Doc<'_>) -> Option<Bytes> {
    let mut out = Vec::with_capacity(raw.len() + raw.len() / 2);
    let sealed = push::seal_with(raw, doc, &mut out, |data| {
        super::source::seal_json(broker, app, data).ok_or(())
    });
    matches!(sealed, Ok(true)).then(|| Bytes::from(out))
}
