//! What can go wrong in the safe-mode codec, in the words of the person running the tool.
//!
//! Messages are printed after `error: `, so they start in lower case and carry no trailing
//! period. They never contain key material.

use std::fmt::{self, Write as _};

use base64::DecodeError;

/// How long a found AppID may be before it is cut short in a message.
const DESCRIBE_LIMIT: usize = 64;

/// Why an AppKey could not be parsed or an `encryptData` could not be decrypted or made.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CryptoError {
    /// The AppKey is not 43 characters long (after trimming surrounding whitespace).
    AppKeyLength {
        /// Its length in characters.
        len: usize,
    },
    /// The AppKey holds a character outside the base64 alphabet.
    AppKeyCharacter {
        /// The offending character.
        character: char,
        /// Its 1-based position, in characters.
        position: usize,
    },
    /// The AppKey does not decode to the 32 bytes of an AES-256 key.
    AppKeyDecodedLength {
        /// How many bytes it decoded to.
        len: usize,
    },
    /// `encryptData` is not base64.
    InvalidBase64 {
        /// Byte offset of the problem in `encryptData` as given.
        offset: usize,
        /// The unexpected character, or `None` when the data ends too early or its `=` padding
        /// is wrong.
        character: Option<char>,
    },
    /// `encryptData` is empty (or only whitespace).
    EmptyCiphertext,
    /// The decoded ciphertext is not a whole number of 16-byte AES blocks.
    CiphertextLength {
        /// The ciphertext's length in bytes.
        len: usize,
    },
    /// The decrypted padding is not 1..=32 bytes of the pad length: almost always a wrong
    /// AppKey.
    InvalidPadding,
    /// The unpadded plaintext is shorter than the 16-byte prefix and 4-byte length field.
    TooShort {
        /// The unpadded plaintext's length in bytes.
        len: usize,
    },
    /// The length field promises more bytes than the plaintext holds.
    LengthField {
        /// The message length the field declares.
        declared: u32,
        /// The bytes left after the field (message and AppID together).
        available: usize,
    },
    /// The AppID after the message is not the expected one.
    AppIdMismatch {
        /// The expected AppID, escaped for display.
        expected: String,
        /// The AppID found, escaped for display (lossy if it is not UTF-8, cut if long).
        found: String,
    },
    /// The AppID after the message is not UTF-8 (only possible without an expected AppID).
    AppIdNotUtf8 {
        /// The bytes found, escaped for display.
        found: String,
    },
    /// The decrypted message is not UTF-8.
    MessageNotUtf8 {
        /// Byte offset of the first invalid byte in the message.
        offset: usize,
    },
    /// The message to encrypt does not fit the 32-bit length field.
    MessageTooLong {
        /// The message's length in bytes.
        len: usize,
    },
    /// The operating system could not supply random bytes for the prefix.
    Random {
        /// What the operating system said.
        reason: String,
    },
}

impl fmt::Display for CryptoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::AppKeyLength { len } => write!(f, "AppKey must be 43 characters, got {len}"),
            Self::AppKeyCharacter {
                character,
                position,
            } => write!(
                f,
                "AppKey has {character:?} at position {position}, which is not a base64 \
                 character (A-Z a-z 0-9 + /)"
            ),
            Self::AppKeyDecodedLength { len } => {
                write!(
                    f,
                    "AppKey decodes to {len} bytes, but an AES-256 key is 32 bytes"
                )
            }
            Self::InvalidBase64 { offset, character } => write_base64(f, *offset, *character),
            Self::EmptyCiphertext => {
                f.write_str("encryptData is empty: there is nothing to decrypt")
            }
            Self::CiphertextLength { len } => write!(
                f,
                "encryptData decodes to {len} bytes, not a multiple of the 16-byte AES block: \
                 the data is truncated or altered"
            ),
            Self::InvalidPadding => f.write_str(
                "decrypted data has invalid padding: the AppKey is probably wrong \
                 (or encryptData was altered)",
            ),
            Self::TooShort { len } => write!(
                f,
                "decrypted data is only {len} bytes, too short for its 20-byte header: \
                 the AppKey is probably wrong, or the data is truncated"
            ),
            Self::LengthField {
                declared,
                available,
            } => write!(
                f,
                "decrypted length field says the message is {declared} bytes but only \
                 {available} remain: the AppKey is probably wrong, or the data is truncated"
            ),
            Self::AppIdMismatch { expected, found } => write!(
                f,
                "AppID mismatch: expected \"{expected}\", but the decrypted data is for \
                 \"{found}\""
            ),
            Self::AppIdNotUtf8 { found } => {
                write!(
                    f,
                    "the AppID after the decrypted message is not UTF-8: \"{found}\""
                )
            }
            Self::MessageNotUtf8 { offset } => write!(
                f,
                "decrypted message is not valid UTF-8 (first bad byte at offset {offset})"
            ),
            Self::MessageTooLong { len } => write!(
                f,
                "message is {len} bytes, more than the 4 GiB its length field can express"
            ),
            Self::Random { reason } => {
                write!(
                    f,
                    "could not get random bytes from the operating system: {reason}"
                )
            }
        }
    }
}

fn write_base64(f: &mut fmt::Formatter<'_>, offset: usize, character: Option<char>) -> fmt::Result {
    match character {
        Some(c) => write!(
            f,
            "encryptData is not valid base64: unexpected {c:?} at byte offset {offset}"
        ),
        None => write!(
            f,
            "encryptData is not valid base64: it ends early or has wrong '=' padding \
             (at byte offset {offset})"
        ),
    }
}

impl std::error::Error for CryptoError {}

impl CryptoError {
    /// A short suggestion for the user, where there is one worth giving.
    #[must_use]
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            Self::AppKeyLength { .. } => Some(
                "the AppKey is the 43-character message encryption key from the developer page \
                 (not the AppSecret), without a trailing '='",
            ),
            Self::AppKeyCharacter { .. } => Some("an AppKey uses only A-Z a-z 0-9 + /"),
            Self::InvalidBase64 { .. } => Some(
                "pass the encryptData value itself, without quotes, JSON escapes or line breaks",
            ),
            Self::EmptyCiphertext | Self::CiphertextLength { .. } => {
                Some("copy the whole encryptData value; it may have been cut short")
            }
            Self::InvalidPadding | Self::TooShort { .. } | Self::LengthField { .. } => {
                Some("use the AppKey of the app the push was sent to")
            }
            Self::AppIdMismatch { .. } => Some(
                "the push was encrypted for another app: check the AppID, or skip the AppID check",
            ),
            Self::MessageNotUtf8 { .. } => Some(
                "padding and length were valid, so the AppKey is likely right: \
                 the sender encrypted bytes that are not text",
            ),
            Self::AppKeyDecodedLength { .. }
            | Self::AppIdNotUtf8 { .. }
            | Self::MessageTooLong { .. }
            | Self::Random { .. } => None,
        }
    }
}

/// Maps a base64 decoding failure of the trimmed `encryptData` to [`CryptoError::InvalidBase64`],
/// with offsets counted from the untrimmed input (`leading` whitespace bytes were cut).
pub(super) fn base64_error(trimmed: &str, leading: usize, error: &DecodeError) -> CryptoError {
    let at = |offset: usize| CryptoError::InvalidBase64 {
        offset: leading + offset,
        character: trimmed.get(offset..).and_then(|s| s.chars().next()),
    };
    let at_end = |offset: usize| CryptoError::InvalidBase64 {
        offset: leading + offset,
        character: None,
    };
    match *error {
        DecodeError::InvalidByte(offset, _) | DecodeError::InvalidLastSymbol(offset, _) => {
            at(offset)
        }
        DecodeError::InvalidLength(_) => at_end(trimmed.len()),
        DecodeError::InvalidPadding => at_end(trimmed.find('=').unwrap_or(trimmed.len())),
    }
}

/// Shows bytes for a message: text escaped like a Rust string (without quotes), other bytes
/// as `\xNN`; cut to [`DESCRIBE_LIMIT`] characters or bytes, with the full length noted.
pub(super) fn describe_bytes(bytes: &[u8]) -> String {
    let (mut shown, cut) = match std::str::from_utf8(bytes) {
        Ok(text) => (
            text.chars()
                .take(DESCRIBE_LIMIT)
                .flat_map(char::escape_debug)
                .collect::<String>(),
            text.chars().nth(DESCRIBE_LIMIT).is_some(),
        ),
        Err(_) => (
            bytes[..bytes.len().min(DESCRIBE_LIMIT)]
                .escape_ascii()
                .to_string(),
            bytes.len() > DESCRIBE_LIMIT,
        ),
    };
    if cut {
        let _ = write!(shown, "… ({} bytes in all)", bytes.len());
    }
    shown
}
