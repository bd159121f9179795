//! The push model: one MQTT message is one JSON object (PLATFORM.md, "The push").
//!
//! Parsing never fails hard: a payload that is not a JSON object becomes [`Payload::NotJson`]
//! and is still shown. Safe-mode pushes carry `encryptData` instead of `data`;
//! [`open_push`] swaps it for the decrypted `data` in place, keeping every other field and the
//! field order. Nothing here prints.

use serde_json::{Map, Value};

use crate::crypto::{CryptoError, SafeModeCodec};

/// Field holding the safe-mode ciphertext.
pub const ENCRYPT_DATA: &str = "encryptData";
/// Field holding the readings.
pub const DATA: &str = "data";

/// A received payload, parsed as far as it goes.
#[derive(Debug, Clone, PartialEq)]
pub enum Payload {
    /// A JSON object, with what happened to its safe-mode part.
    Push {
        /// The push fields, in the order sent.
        push: Map<String, Value>,
        /// Whether it was encrypted and how decryption went.
        safe_mode: SafeMode,
    },
    /// Anything else: not JSON, or JSON that is not an object.
    NotJson {
        /// Why it is not a push.
        error: String,
    },
}

/// The safe-mode state of one push.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SafeMode {
    /// Sent in clear.
    Plain,
    /// `encryptData` was decrypted into `data`.
    Decrypted,
    /// `encryptData` is still there: no AppKey was available.
    NoKey,
    /// Decryption failed; `encryptData` is kept.
    Failed(String),
}

/// How to open safe-mode pushes.
pub struct Opener<'a> {
    /// The codec, when an AppKey is known.
    pub codec: Option<&'a mut SafeModeCodec>,
    /// The AppID the trailer must equal; `None` uses the push's own `appId`, and
    /// `verify == false` skips the check.
    pub expected_app_id: Option<&'a str>,
    /// Check the AppID trailer.
    pub verify: bool,
}

/// Parses a payload and opens it when it is a safe-mode push.
pub fn parse_payload(payload: &[u8], opener: &mut Opener<'_>) -> Payload {
    match serde_json::from_slice::<Value>(payload) {
        Ok(Value::Object(mut push)) => {
            let safe_mode = match opener.codec.as_deref_mut() {
                _ if !is_encrypted(&push) => SafeMode::Plain,
                None => SafeMode::NoKey,
                Some(codec) => {
                    let expected = opener.expected_app_id;
                    match open_push(&mut push, codec, expected, opener.verify) {
                        Ok(()) => SafeMode::Decrypted,
                        Err(err) => SafeMode::Failed(err.to_string()),
                    }
                }
            };
            Payload::Push { push, safe_mode }
        }
        Ok(other) => Payload::NotJson {
            error: format!("payload is JSON but not an object ({})", json_kind(&other)),
        },
        Err(err) => Payload::NotJson {
            error: format!("payload is not JSON: {err}"),
        },
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

/// True when the push carries a string `encryptData`.
#[must_use]
pub fn is_encrypted(push: &Map<String, Value>) -> bool {
    matches!(push.get(ENCRYPT_DATA), Some(Value::String(_)))
}

/// Replaces `encryptData` by the decrypted `data`, at the same position. The decrypted text
/// becomes a JSON value when it parses as JSON, else a string.
///
/// The AppID trailer is checked against `expected_app_id`, else the push's own `appId`,
/// unless `verify` is false.
///
/// # Errors
///
/// The codec's error; the push is left unchanged.
pub fn open_push(
    push: &mut Map<String, Value>,
    codec: &mut SafeModeCodec,
    expected_app_id: Option<&str>,
    verify: bool,
) -> Result<(), CryptoError> {
    let Some(Value::String(cipher)) = push.get(ENCRYPT_DATA) else {
        return Ok(());
    };
    let own_app_id = push.get("appId").and_then(Value::as_str);
    let expected = if verify {
        expected_app_id.or(own_app_id)
    } else {
        None
    };
    let data = {
        let decrypted = codec.decrypt(cipher, expected)?;
        text_to_value(decrypted.message)
    };
    replace_field(push, ENCRYPT_DATA, DATA, data);
    Ok(())
}

/// Replaces the field `old` by `new` = `value` at the same position.
fn replace_field(push: &mut Map<String, Value>, old: &str, new: &str, value: Value) {
    let mut value = Some(value);
    let fields = std::mem::take(push);
    *push = fields
        .into_iter()
        .map(|(key, current)| match value.take_if(|_| key == old) {
            Some(replacement) => (new.to_owned(), replacement),
            None => (key, current),
        })
        .collect();
}

/// Turns `data` into its safe-mode form: `encryptData` at the position of `data`.
///
/// # Errors
///
/// The codec's error; the push is left unchanged.
pub fn seal_push(
    push: &mut Map<String, Value>,
    codec: &SafeModeCodec,
    app_id: &str,
) -> Result<bool, CryptoError> {
    let Some(data) = push.get(DATA) else {
        return Ok(false);
    };
    let cipher = codec.encrypt(data.to_string().as_bytes(), app_id)?;
    replace_field(push, DATA, ENCRYPT_DATA, Value::String(cipher));
    Ok(true)
}

/// The emulator's safe mode seals `data` with the platform's codec.
impl crate::emulator::PushSealer for SafeModeCodec {
    fn seal(&self, app_id: &str, data_json: &str) -> Result<String, String> {
        self.encrypt(data_json.as_bytes(), app_id)
            .map_err(|err| err.to_string())
    }
}

/// Decrypted text as a JSON value when it is JSON, else as a string.
#[must_use]
pub fn text_to_value(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::AppKey;

    const KEY: &str = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";

    fn codec() -> SafeModeCodec {
        SafeModeCodec::new(&AppKey::parse(KEY).expect("key"))
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

    fn object(json: &str) -> Map<String, Value> {
        match serde_json::from_str(json) {
            Ok(Value::Object(map)) => map,
            other => panic!("not an object: {other:?}"),
        }
    }

    #[test]
    fn seal_then_open_restores_data_in_place() {
        let original =
            object(r#"{"appId":"foobar","sn":"01","data":{"temperature":21.5},"msgId":"m"}"#);
        let mut push = original.clone();
        assert!(seal_push(&mut push, &codec(), "foobar").expect("seal"));
        let keys: Vec<&str> = push.keys().map(String::as_str).collect();
        assert_eq!(keys, ["appId", "sn", "encryptData", "msgId"]);
        open_push(&mut push, &mut codec(), None, true).expect("open");
        assert_eq!(push, original);
        let keys: Vec<&str> = push.keys().map(String::as_str).collect();
        assert_eq!(keys, ["appId", "sn", "data", "msgId"]);
    }

    #[test]
    fn the_push_app_id_is_checked_when_none_is_given() {
        let mut push = object(r#"{"appId":"other","data":{"a":1}}"#);
        seal_push(&mut push, &codec(), "foobar").expect("seal");
        let err = open_push(&mut push, &mut codec(), None, true).expect_err("mismatch");
        assert!(matches!(err, CryptoError::AppIdMismatch { .. }), "{err:?}");
        assert!(is_encrypted(&push), "a failed push stays as it was");
        open_push(&mut push, &mut codec(), None, false).expect("unchecked");
        assert_eq!(push["data"], serde_json::json!({"a": 1}));
    }

    #[test]
    fn payloads_that_are_not_objects_are_not_json_pushes() {
        let mut opener = Opener {
            codec: None,
            expected_app_id: None,
            verify: true,
        };
        assert!(matches!(
            parse_payload(b"hello", &mut opener),
            Payload::NotJson { .. }
        ));
        assert!(
            matches!(parse_payload(b"[1]", &mut opener), Payload::NotJson { error } if error.contains("array"))
        );
        let encrypted = br#"{"appId":"a","encryptData":"xyz"}"#;
        assert!(matches!(
            parse_payload(encrypted, &mut opener),
            Payload::Push {
                safe_mode: SafeMode::NoKey,
                ..
            }
        ));
    }

    #[test]
    fn a_wrong_key_fails_with_the_reason_and_keeps_encrypt_data() {
        let mut push = object(r#"{"appId":"foobar","data":{"a":1}}"#);
        seal_push(&mut push, &codec(), "foobar").expect("seal");
        let text = Value::Object(push).to_string();
        let mut other = SafeModeCodec::new(&AppKey::parse(&"Z".repeat(43)).expect("key"));
        let mut opener = Opener {
            codec: Some(&mut other),
            expected_app_id: None,
            verify: true,
        };
        match parse_payload(text.as_bytes(), &mut opener) {
            Payload::Push {
                push,
                safe_mode: SafeMode::Failed(reason),
            } => {
                assert!(reason.contains("AppKey"), "{reason}");
                assert!(is_encrypted(&push));
            }
            other => panic!("expected a failed push, got {other:?}"),
        }
    }
}
