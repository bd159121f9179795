//! The dead letter: an NDJSON file of what a target rejected for good (and of payloads that
//! are not pushes), written and synced before those pushes are acknowledged, so nothing the
//! broker forgets is lost. Created only when something is written to it.

use std::fs::{File, OpenOptions};
use std::io::Write as _;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use chrono::{SecondsFormat, Utc};

use super::record::{NotAPush, Record};
use crate::error::{Error, Result};
use crate::json;

/// The dead-letter file.
#[derive(Debug)]
pub struct DeadLetter {
    path: PathBuf,
    file: Option<File>,
    written: u64,
}

impl DeadLetter {
    /// A dead letter at `path` (opened on first use).
    #[must_use]
    pub fn new(path: PathBuf) -> Self {
        DeadLetter {
            path,
            file: None,
            written: 0,
        }
    }

    /// Where it is.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// How many lines were written in this run.
    #[must_use]
    pub fn written(&self) -> u64 {
        self.written
    }

    /// Writes one rejected push: `{"at","target","reason","status","key","push"}`, the push
    /// as its exact bytes.
    ///
    /// # Errors
    ///
    /// The file cannot be opened or written.
    pub fn reject(
        &mut self,
        record: &Record,
        target: &str,
        reason: &str,
        status: Option<u16>,
    ) -> Result<()> {
        let mut line = self.start(target, reason);
        if let Some(status) = status {
            line.extend_from_slice(format!(",\"status\":{status}").as_bytes());
        }
        line.extend_from_slice(b",\"key\":");
        json::write_string(&mut line, &record.key);
        line.extend_from_slice(b",\"push\":");
        line.extend_from_slice(record.json.as_bytes());
        line.extend_from_slice(b"}\n");
        self.write(&line)
    }

    /// Writes a payload that is not a push: as `payload` (text) or `payload_base64`.
    ///
    /// # Errors
    ///
    /// The file cannot be opened or written.
    pub fn not_a_push(&mut self, item: &NotAPush) -> Result<()> {
        let mut line = self.start("relay", &item.error);
        match std::str::from_utf8(&item.payload) {
            Ok(text) => {
                line.extend_from_slice(b",\"payload\":");
                json::write_string(&mut line, text);
            }
            Err(_) => {
                line.extend_from_slice(b",\"payload_base64\":");
                let encoded = base64::engine::general_purpose::STANDARD.encode(&item.payload);
                json::write_string(&mut line, &encoded);
            }
        }
        line.extend_from_slice(b"}\n");
        self.write(&line)
    }

    fn start(&self, target: &str, reason: &str) -> Vec<u8> {
        let mut line = b"{\"at\":".to_vec();
        json::write_string(
            &mut line,
            &Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true),
        );
        line.extend_from_slice(b",\"target\":");
        json::write_string(&mut line, target);
        line.extend_from_slice(b",\"reason\":");
        json::write_string(&mut line, reason);
        line
    }

    fn write(&mut self, line: &[u8]) -> Result<()> {
        let context = || format!("cannot write the dead letter {}", self.path.display());
        if self.file.is_none() {
            let file = OpenOptions::new()
                .create(true)
                .append(true)
                .open(&self.path)
                .map_err(|e| Error::io(context(), &e))?;
            self.file = Some(file);
        }
        let Some(file) = self.file.as_mut() else {
            return Err(Error::new(crate::error::ExitKind::Failure, context()));
        };
        file.write_all(line)
            .and_then(|()| file.sync_data())
            .map_err(|e| Error::io(context(), &e))?;
        self.written += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::push::PushReader;
    use crate::relay::RecordReader;

    #[test]
    fn rejected_pushes_are_kept_byte_for_byte_with_the_reason() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("dead.ndjson");
        let mut dead = DeadLetter::new(path.clone());
        assert!(!path.exists(), "created only when needed");
        let text = r#"{"msgId":"m1","data":{"x":1.10,"y":12345678901234567890123}}"#;
        let record = RecordReader::new(PushReader::new(None, None, true))
            .read(text.as_bytes())
            .expect("push");
        dead.reject(&record, "http://h/x", "HTTP 400 Bad Request", Some(400))
            .expect("written");
        dead.not_a_push(&NotAPush {
            error: "payload is not JSON".into(),
            payload: b"\xffhi".to_vec(),
            received_at: Utc::now(),
        })
        .expect("written");
        let written = std::fs::read_to_string(&path).expect("read");
        let lines: Vec<&str> = written.lines().collect();
        assert_eq!(lines.len(), 2);
        assert!(
            lines[0].ends_with(&format!(r#","status":400,"key":"m1","push":{text}}}"#)),
            "{}",
            lines[0]
        );
        let second: serde_json::Value = serde_json::from_str(lines[1]).expect("json");
        assert_eq!(second["payload_base64"], "/2hp");
        assert_eq!(dead.written(), 2);
    }
}
