//! A push as the targets get it: the exact bytes to deliver (safe mode opened in place) and
//! the fields the stores index, read from those bytes.

use std::ops::Range;

use chrono::{DateTime, SecondsFormat, Utc};

use crate::json::{self, Doc, Scanner};
use crate::push::{PushReader, Reading};

/// One push ready for the targets.
#[derive(Debug, Clone)]
pub struct Record {
    /// What identifies it in a store: its `msgId`, else `sha256:` + the hash of its bytes.
    pub key: String,
    /// `appId`.
    pub app_id: Option<String>,
    /// `sn`: pushes of one device are delivered in order.
    pub sn: Option<String>,
    /// `deviceType`.
    pub device_type: Option<String>,
    /// `type`.
    pub kind: Option<String>,
    /// `createdTime` as sent (a number's text or a string's value).
    pub created_time: Option<String>,
    /// When the relay received it.
    pub received_at: DateTime<Utc>,
    /// The push exactly as delivered (one line of JSON, no newline).
    pub json: String,
    data: Option<Range<usize>>,
}

impl Record {
    /// The bytes of its `data` value, when it has one (after safe mode was opened).
    #[must_use]
    pub fn data(&self) -> Option<&str> {
        self.data.clone().and_then(|range| self.json.get(range))
    }

    /// `received_at` as RFC 3339 text with milliseconds, UTC.
    #[must_use]
    pub fn received_at_text(&self) -> String {
        self.received_at
            .to_rfc3339_opts(SecondsFormat::Millis, true)
    }
}

/// A payload that is not a push (not a JSON object, or not UTF-8): it goes to the dead
/// letter as it came.
#[derive(Debug, Clone)]
pub struct NotAPush {
    /// Why.
    pub error: String,
    /// The payload as received.
    pub payload: Vec<u8>,
    /// When it was received.
    pub received_at: DateTime<Utc>,
}

/// Turns payloads into records; buffers are reused.
pub struct RecordReader {
    reader: PushReader,
    scanner: Scanner,
}

impl RecordReader {
    /// Opens safe-mode pushes with the reader's codec.
    #[must_use]
    pub fn new(reader: PushReader) -> Self {
        RecordReader {
            reader,
            scanner: Scanner::new(),
        }
    }

    /// Reads one payload.
    ///
    /// # Errors
    ///
    /// [`NotAPush`] for a payload that is not a JSON object.
    pub fn read(&mut self, payload: &[u8]) -> Result<Record, NotAPush> {
        let received_at = Utc::now();
        let not_a_push = |error: String| NotAPush {
            error,
            payload: payload.to_vec(),
            received_at,
        };
        let push = match self.reader.read(payload) {
            Reading::Push(push) => push,
            Reading::NotJson { error } => return Err(not_a_push(error)),
        };
        let json = std::str::from_utf8(push.json)
            .map_err(|_| not_a_push("payload is not UTF-8".to_owned()))?
            .to_owned();
        // The payload as received was indexed already; an opened or one-lined push is read
        // again.
        let doc = match push.doc_of_json() {
            Some(doc) => *doc,
            None => self
                .scanner
                .scan(json.as_bytes())
                .map_err(|err| not_a_push(format!("payload is not JSON: {err}")))?,
        };
        let text = json.as_bytes();
        let key = field_text(&doc, text, "msgId").unwrap_or_else(|| payload_key(text));
        Ok(Record {
            key,
            app_id: field_text(&doc, text, "appId"),
            sn: field_text(&doc, text, "sn"),
            device_type: field_text(&doc, text, "deviceType"),
            kind: field_text(&doc, text, "type"),
            created_time: field_text(&doc, text, "createdTime"),
            data: doc
                .member(text, crate::push::DATA)
                .map(|m| m.value.clone())
                .filter(|r| text.get(r.start) != Some(&b'n')),
            received_at,
            json,
        })
    }
}

/// A top-level scalar as text: a string's value, a number's or boolean's text; `None` when
/// missing, null, empty or not a scalar.
fn field_text(doc: &Doc<'_>, text: &[u8], name: &str) -> Option<String> {
    let member = doc.member(text, name)?;
    let raw = text.get(member.value.clone())?;
    let value = match raw.first()? {
        b'"' => json::string_value(raw)?.into_owned(),
        b'{' | b'[' | b'n' => return None,
        _ => String::from_utf8_lossy(raw).into_owned(),
    };
    (!value.is_empty()).then_some(value)
}

/// The stable key of a push without a msgId: `sha256:` and the hex of its bytes' hash, so a
/// redelivered push gets the same key and is stored once.
#[must_use]
pub fn payload_key(bytes: &[u8]) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, bytes);
    let mut key = String::with_capacity(7 + 64);
    key.push_str("sha256:");
    for byte in digest.as_ref() {
        key.push_str(&format!("{byte:02x}"));
    }
    key
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Record {
        RecordReader::new(PushReader::new(None, None, true))
            .read(text.as_bytes())
            .expect("a push")
    }

    #[test]
    fn fields_are_read_and_the_bytes_kept() {
        let text = r#"{"appId":"foobar","sn":"01","deviceType":"node","type":"text","createdTime":1732400000000,"msgId":"m-1","data":{"t":21.50,"big":12345678901234567890123}}"#;
        let record = read(text);
        assert_eq!(record.json, text);
        assert_eq!(record.key, "m-1");
        assert_eq!(record.app_id.as_deref(), Some("foobar"));
        assert_eq!(record.sn.as_deref(), Some("01"));
        assert_eq!(record.device_type.as_deref(), Some("node"));
        assert_eq!(record.kind.as_deref(), Some("text"));
        assert_eq!(record.created_time.as_deref(), Some("1732400000000"));
        assert_eq!(
            record.data(),
            Some(r#"{"t":21.50,"big":12345678901234567890123}"#)
        );
    }

    #[test]
    fn a_push_without_msg_id_gets_a_stable_hash_key() {
        let a = read(r#"{"sn":"01","data":{"t":1}}"#);
        let b = read(r#"{"sn":"01","data":{"t":1}}"#);
        let c = read(r#"{"sn":"01","data":{"t":2}}"#);
        assert!(
            a.key.starts_with("sha256:") && a.key.len() == 71,
            "{}",
            a.key
        );
        assert_eq!(a.key, b.key);
        assert_ne!(a.key, c.key);
        // Independent: printf '%s' '{"sn":"01","data":{"t":1}}' | sha256sum
        assert_eq!(
            payload_key(br#"{"sn":"01","data":{"t":1}}"#),
            "sha256:4cde7e10731689fb2b844f3afd4561c8f35fbf2ef44ac377c141195023cd6b7b"
        );
    }

    #[test]
    fn a_payload_that_is_not_json_is_not_a_push() {
        let err = RecordReader::new(PushReader::new(None, None, true))
            .read(b"hello")
            .expect_err("not a push");
        assert!(err.error.contains("not JSON"), "{}", err.error);
        assert_eq!(err.payload, b"hello");
    }
}
