//! The push model: one MQTT message is one JSON object (PLATFORM.md, "The push").
//!
//! Reading never fails hard: a payload that is not a JSON object becomes
//! [`Reading::NotJson`] and is still shown. A push leaves as the bytes it came with
//! (PRODUCT.md, "Data arrives intact"): only a safe-mode push's `encryptData` becomes `data`
//! (the decrypted plaintext spliced in as it was encrypted), and a payload with line breaks
//! is put on one line. Fields are read from the bytes for deciding (filters, device counts);
//! nothing is re-printed from parsed values. Nothing here prints.

use std::borrow::Cow;

use serde_json::Value;

use crate::crypto::{CryptoError, SafeModeCodec};
use crate::json::{self, Doc, Member, Scanner};

/// Field holding the safe-mode ciphertext.
pub const ENCRYPT_DATA: &str = "encryptData";
/// Field holding the readings.
pub const DATA: &str = "data";
/// Field added to a push whose `encryptData` could not be decrypted.
pub const DECRYPT_ERROR: &str = "decryptError";

/// The safe-mode state of one push.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SafeMode {
    /// Sent in clear.
    Plain,
    /// `encryptData` was decrypted into `data`.
    Decrypted,
    /// `encryptData` is still there: no AppKey was available.
    NoKey,
    /// Decryption failed; `encryptData` is kept and `decryptError` added.
    Failed(String),
}

/// One received payload, read as far as it goes.
#[derive(Debug)]
pub enum Reading<'a> {
    /// A JSON object.
    Push(PushRef<'a>),
    /// Anything else: not JSON, or JSON that is not an object.
    NotJson {
        /// Why it is not a push.
        error: String,
    },
}

/// A push as it leaves: one line of JSON, byte for byte the payload unless safe mode or
/// line breaks made a change, plus what it took to decide on it.
#[derive(Debug)]
pub struct PushRef<'a> {
    /// The JSON to write out (no newline): the payload itself, or its opened / one-line form.
    pub json: &'a [u8],
    /// What happened to its safe-mode part.
    pub safe_mode: SafeMode,
    source: &'a [u8],
    doc: Doc<'a>,
}

impl<'a> PushRef<'a> {
    /// A top-level field's value when it is a string (the last one, if sent twice). Fields
    /// other than `encryptData` read the same before and after opening.
    #[must_use]
    pub fn str_field(&self, name: &str) -> Option<Cow<'a, str>> {
        self.doc.str_member(self.source, name)
    }

    /// A top-level member's value bytes as received (the last one, if sent twice). For a
    /// decrypted push, `data` is not among them: it is in [`PushRef::json`].
    #[must_use]
    pub fn raw_member(&self, name: &str) -> Option<&'a [u8]> {
        let member = self.doc.member(self.source, name)?;
        self.source.get(member.value.clone())
    }

    /// The index of [`PushRef::json`]'s top-level members, when `json` is the payload as
    /// received (no safe mode opened, no line breaks removed): then nothing needs reading
    /// twice.
    #[must_use]
    pub fn doc_of_json(&self) -> Option<&Doc<'a>> {
        std::ptr::eq(self.json, self.source).then_some(&self.doc)
    }

    /// The push as a `serde_json::Value`, for the pretty view; `None` when serde_json cannot
    /// hold it (nesting deeper than it allows).
    #[must_use]
    pub fn to_value(&self) -> Option<Value> {
        serde_json::from_slice(self.json).ok()
    }
}

/// Reads pushes: validates each payload, opens safe-mode pushes and keeps the one-line form.
/// Its buffers are reused from push to push.
pub struct PushReader {
    scanner: Scanner,
    codec: Option<SafeModeCodec>,
    expected_app_id: Option<String>,
    verify: bool,
    out: Vec<u8>,
    spare: Vec<u8>,
}

impl PushReader {
    /// A reader that opens safe-mode pushes with `codec` (when given), checking the AppID
    /// trailer against `expected_app_id`, else the push's own `appId`, unless `verify` is off.
    #[must_use]
    pub fn new(
        codec: Option<SafeModeCodec>,
        expected_app_id: Option<String>,
        verify: bool,
    ) -> Self {
        PushReader {
            scanner: Scanner::new(),
            codec,
            expected_app_id,
            verify,
            out: Vec::new(),
            spare: Vec::new(),
        }
    }

    /// Reads one payload.
    pub fn read<'a>(&'a mut self, payload: &'a [u8]) -> Reading<'a> {
        let PushReader {
            scanner,
            codec,
            expected_app_id,
            verify,
            out,
            spare,
        } = self;
        let doc = match scanner.scan(payload) {
            Ok(doc) if doc.kind == json::Kind::Object => doc,
            Ok(doc) => {
                return Reading::NotJson {
                    error: format!("payload is JSON but not an object ({})", doc.kind.words()),
                }
            }
            Err(err) => {
                return Reading::NotJson {
                    error: format!("payload is not JSON: {err}"),
                }
            }
        };
        out.clear();
        let encrypted = doc
            .member(payload, ENCRYPT_DATA)
            .filter(|m| payload.get(m.value.start) == Some(&b'"'));
        let safe_mode = match (encrypted, codec.as_mut()) {
            (None, _) => SafeMode::Plain,
            (Some(_), None) => SafeMode::NoKey,
            (Some(member), Some(codec)) => {
                let expected = if *verify {
                    expected_app_id.as_deref()
                } else {
                    None
                };
                match open_into(payload, &doc, member, codec, expected, *verify, out) {
                    Ok(()) => SafeMode::Decrypted,
                    Err(err) => {
                        let reason = err.to_string();
                        out.clear();
                        add_decrypt_error(payload, &doc, &reason, out);
                        SafeMode::Failed(reason)
                    }
                }
            }
        };
        let json: &[u8] = if out.is_empty() {
            if doc.multiline {
                json::minify_into(payload, out);
                out
            } else {
                payload
            }
        } else {
            if doc.multiline {
                std::mem::swap(out, spare);
                out.clear();
                json::minify_into(spare, out);
            }
            out
        };
        Reading::Push(PushRef {
            json,
            safe_mode,
            source: payload,
            doc,
        })
    }
}

/// Writes `text` with its `encryptData` member replaced by `data` = the decrypted plaintext,
/// spliced in as it was encrypted; every other byte stays. The AppID trailer is checked
/// against `expected`, else the push's own `appId`, unless `verify` is false.
///
/// # Errors
///
/// The codec's error; `out` then holds a partial text.
pub fn open_into(
    text: &[u8],
    doc: &Doc<'_>,
    member: &Member,
    codec: &mut SafeModeCodec,
    expected: Option<&str>,
    verify: bool,
    out: &mut Vec<u8>,
) -> Result<(), CryptoError> {
    let cipher = json::string_value(&text[member.value.clone()]).unwrap_or_default();
    let own_app_id = doc.str_member(text, "appId");
    let expected = if verify {
        expected.or(own_app_id.as_deref())
    } else {
        None
    };
    let decrypted = codec.decrypt(&cipher, expected)?;
    out.extend_from_slice(&text[..member.key.start]);
    json::write_string(out, DATA);
    out.extend_from_slice(&text[member.key.end..member.value.start]);
    write_plaintext(decrypted.message, out);
    out.extend_from_slice(&text[member.value.end..]);
    Ok(())
}

/// Writes decrypted text as a JSON value: exactly as encrypted when it is JSON (on one
/// line), else as a JSON string.
pub fn write_plaintext(text: &str, out: &mut Vec<u8>) {
    let mut scanner = Scanner::new();
    match scanner.scan(text.as_bytes()) {
        Ok(doc) if doc.multiline => json::minify_into(text.as_bytes(), out),
        Ok(doc) => out.extend_from_slice(&text.as_bytes()[doc.span.0..doc.span.1]),
        Err(_) => json::write_string(out, text),
    }
}

/// Writes `text` (an object) with `"decryptError": reason` added as its last member.
fn add_decrypt_error(text: &[u8], doc: &Doc<'_>, reason: &str, out: &mut Vec<u8>) {
    let close = doc.span.1 - 1;
    out.extend_from_slice(&text[..close]);
    if !doc.members.is_empty() {
        out.push(b',');
    }
    json::write_string(out, DECRYPT_ERROR);
    out.push(b':');
    json::write_string(out, reason);
    out.extend_from_slice(&text[close..]);
}

/// Writes `text` with its `data` member replaced by `encryptData`: the value's bytes sealed
/// for `app_id` exactly (minified only when they span lines). Returns false, writing nothing, when there is no `data`.
///
/// # Errors
///
/// The codec's error.
pub fn seal_into(
    text: &[u8],
    doc: &Doc<'_>,
    codec: &SafeModeCodec,
    app_id: &str,
    out: &mut Vec<u8>,
) -> Result<bool, CryptoError> {
    seal_with(text, doc, out, |plain| codec.encrypt(plain, app_id))
}

/// [`seal_into`] with any sealer: `seal` gets the exact bytes of `data` (on one line) and
/// returns the `encryptData` text.
///
/// # Errors
///
/// The sealer's error; nothing is written then.
pub fn seal_with<E>(
    text: &[u8],
    doc: &Doc<'_>,
    out: &mut Vec<u8>,
    seal: impl FnOnce(&[u8]) -> Result<String, E>,
) -> Result<bool, E> {
    let Some(member) = doc.member(text, DATA) else {
        return Ok(false);
    };
    let value = &text[member.value.clone()];
    let mut one_line = Vec::new();
    let plain = if value.iter().any(|&b| b == b'\n' || b == b'\r') {
        json::minify_into(value, &mut one_line);
        &one_line
    } else {
        value
    };
    let cipher = seal(plain)?;
    let start = out.len();
    out.extend_from_slice(&text[..member.key.start]);
    json::write_string(out, ENCRYPT_DATA);
    out.extend_from_slice(&text[member.key.end..member.value.start]);
    json::write_string(out, &cipher);
    out.extend_from_slice(&text[member.value.end..]);
    if doc.multiline {
        let sealed = out.split_off(start);
        json::minify_into(&sealed, out);
    }
    Ok(true)
}

/// The emulator's safe mode seals `data` with the platform codec.
impl crate::emulator::PushSealer for SafeModeCodec {
    fn seal(&self, app_id: &str, data_json: &str) -> Result<String, String> {
        self.encrypt(data_json.as_bytes(), app_id)
            .map_err(|err| err.to_string())
    }
}

/// What kind of JSON value this is, for messages: "null", "a boolean", "an array", ….
#[must_use]
pub fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::AppKey;

    const KEY: &str = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";

    fn codec() -> SafeModeCodec {
        SafeModeCodec::new(&AppKey::parse(KEY).expect("key"))
    }

    fn reader(codec: Option<SafeModeCodec>) -> PushReader {
        PushReader::new(codec, None, true)
    }

    fn seal(text: &str, app_id: &str) -> String {
        let mut scanner = Scanner::new();
        let doc = scanner.scan(text.as_bytes()).expect("json");
        let mut out = Vec::new();
        assert!(seal_into(text.as_bytes(), &doc, &codec(), app_id, &mut out).expect("seal"));
        String::from_utf8(out).expect("utf8")
    }

    fn line(reading: &Reading<'_>) -> String {
        match reading {
            Reading::Push(push) => String::from_utf8(push.json.to_vec()).expect("utf8"),
            Reading::NotJson { error } => panic!("not a push: {error}"),
        }
    }

    #[test]
    fn the_emulator_sealer_is_the_platform_cipher() {
        use crate::emulator::PushSealer as _;
        let sealed = codec()
            .seal("foobar", r#"{"temperature":21.5}"#)
            .expect("seal");
        let mut opener = codec();
        let plain = opener.decrypt(&sealed, Some("foobar")).expect("decrypt");
        assert_eq!(plain.message, r#"{"temperature":21.5}"#);
    }

    #[test]
    fn a_one_line_push_passes_through_byte_for_byte() {
        let text = br#"{"lng":116.31264671608805, "id":12345678901234567890123,"a":1,"a":2,"e":1E400,"s":"\u00e9\/"}"#;
        let mut reader = reader(None);
        match reader.read(text) {
            Reading::Push(push) => {
                assert!(std::ptr::eq(push.json, text.as_slice()), "no copy is made");
                assert_eq!(push.safe_mode, SafeMode::Plain);
                assert_eq!(push.str_field("s").as_deref(), Some("é/"));
            }
            Reading::NotJson { error } => panic!("{error}"),
        }
    }

    #[test]
    fn a_multi_line_push_becomes_one_line_with_its_numbers_as_written() {
        let text = b"{\n  \"lonlat\": [116.31264671608805, 39.99],\n  \"n\": 1.0e-7\n}\n";
        let mut reader = reader(None);
        assert_eq!(
            line(&reader.read(text)),
            r#"{"lonlat":[116.31264671608805,39.99],"n":1.0e-7}"#
        );
    }

    #[test]
    fn seal_then_open_restores_the_push_byte_for_byte() {
        let original = r#"{"appId":"foobar", "sn":"01","data":{"lonlat":[116.31264671608805,1e2],"big":12345678901234567890123},"msgId":"m"}"#;
        let sealed = seal(original, "foobar");
        assert!(
            sealed.starts_with(r#"{"appId":"foobar", "sn":"01","encryptData":""#),
            "{sealed}"
        );
        assert!(sealed.ends_with(r#"","msgId":"m"}"#), "{sealed}");
        let mut reader = reader(Some(codec()));
        let reading = reader.read(sealed.as_bytes());
        assert_eq!(line(&reading), original);
        let Reading::Push(push) = reading else {
            unreachable!()
        };
        assert_eq!(push.safe_mode, SafeMode::Decrypted);
    }

    #[test]
    fn a_plaintext_that_is_not_json_is_spliced_in_as_a_string() {
        let mut out = Vec::new();
        write_plaintext("line one\nline \"two\"", &mut out);
        assert_eq!(out, br#""line one\nline \"two\"""#);
        out.clear();
        write_plaintext("{\n \"a\": 1\n}", &mut out);
        assert_eq!(out, br#"{"a":1}"#);
    }

    #[test]
    fn the_push_app_id_is_checked_when_none_is_given() {
        let sealed = seal(r#"{"appId":"other","data":{"a":1}}"#, "foobar");
        let mut reader = reader(Some(codec()));
        let reading = reader.read(sealed.as_bytes());
        let Reading::Push(push) = reading else {
            panic!("a push")
        };
        let SafeMode::Failed(reason) = &push.safe_mode else {
            panic!("{:?}", push.safe_mode)
        };
        assert!(
            reason.contains("foobar") && reason.contains("other"),
            "{reason}"
        );
        let mut unchecked = PushReader::new(Some(codec()), None, false);
        assert_eq!(
            line(&unchecked.read(sealed.as_bytes())),
            r#"{"appId":"other","data":{"a":1}}"#
        );
    }

    #[test]
    fn a_wrong_key_keeps_encrypt_data_and_adds_the_reason() {
        let sealed = seal(r#"{"appId":"foobar","data":{"a":1}}"#, "foobar");
        let other = SafeModeCodec::new(&AppKey::parse(&"Z".repeat(43)).expect("key"));
        let mut reader = reader(Some(other));
        let text = line(&reader.read(sealed.as_bytes()));
        let prefix = &sealed[..sealed.len() - 1];
        assert!(text.starts_with(prefix), "{text}");
        let value: Value = serde_json::from_str(&text).expect("valid JSON");
        assert!(value[DECRYPT_ERROR]
            .as_str()
            .is_some_and(|r| r.contains("AppKey")));
    }

    #[test]
    fn without_a_key_a_safe_mode_push_is_left_as_it_is() {
        let text = br#"{"appId":"a","encryptData":"xyz"}"#;
        let mut reader = reader(None);
        let Reading::Push(push) = reader.read(text) else {
            panic!("a push")
        };
        assert_eq!(push.safe_mode, SafeMode::NoKey);
        assert_eq!(push.json, text);
    }

    #[test]
    fn payloads_that_are_not_objects_are_not_pushes() {
        let mut reader = reader(None);
        for (payload, words) in [
            (&b"hello"[..], "not JSON"),
            (b"[1]", "an array"),
            (b"{\"a\":", "ends early"),
            (b"\xff{}", "UTF-8"),
        ] {
            match reader.read(payload) {
                Reading::NotJson { error } => assert!(error.contains(words), "{error}"),
                Reading::Push(push) => panic!("{:?} read as a push", push.json),
            }
        }
    }
}
