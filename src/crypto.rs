//! The safe-mode codec: decrypts and encrypts the `encryptData` of SENSORO pushes.
//!
//! It exists because a developer who turns on the platform's safe mode receives pushes whose
//! `data` is replaced by `encryptData`, made with the WeChat-style message crypto
//! (`WXBizMsgCrypt`, the scheme of the npm package `wechat-crypto` that the platform's own demo
//! uses). The scheme, from `PLATFORM.md`:
//!
//! 1. key = base64 of `AppKey + "="` (32 bytes), iv = the key's first 16 bytes;
//! 2. plaintext = 16 random bytes ‖ message length (u32, big-endian) ‖ message ‖ AppID;
//! 3. padded PKCS#7-style to a multiple of **32** bytes (pad value 1..=32);
//! 4. AES-256-CBC without further padding, then base64.
//!
//! What this module must never do:
//! - show the AppKey: [`AppKey`] and [`SafeModeCodec`] print as redacted, and no
//!   [`CryptoError`] carries key bytes;
//! - panic, or allocate more than its input justifies, whatever `encryptData` holds: the length
//!   field is checked against what was really decrypted before it is used;
//! - know about the command line or the terminal: it returns values and typed errors, the
//!   caller decides how to show them.
//!
//! Decisions where the reference decoder is silent or lax:
//! - Surrounding ASCII whitespace is ignored, in the AppKey and in `encryptData` (a trailing
//!   newline from a file or a paste is the common case); whitespace inside is an error.
//! - Like Node's base64 decoder, the unused low bits of the last base64 character are ignored
//!   (real AppKeys are 43 random alphanumerics, so their last character often has such bits
//!   set), and the `=` padding of `encryptData` may be present or absent.
//! - Unlike `wechat-crypto`, which silently keeps a plaintext whose last byte is not a valid
//!   pad, every pad byte is checked: that is what turns a wrong AppKey into a clear error
//!   instead of garbage.

mod error;
#[cfg(test)]
mod tests;

pub use error::CryptoError;

use std::fmt;
use std::ops::Range;

use aes::cipher::block_padding::NoPadding;
use aes::cipher::{BlockDecryptMut, BlockEncryptMut, InnerIvInit, KeyInit};
use aes::{Aes256Dec, Aes256Enc};
use base64::alphabet;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use base64::engine::DecodePaddingMode;
use base64::Engine as _;

/// Length of an AppKey in characters (32 bytes of base64 without its one `=`).
pub const APP_KEY_LEN: usize = 43;
/// Length of the random prefix that starts every plaintext.
pub const PREFIX_LEN: usize = 16;
/// The padding block: plaintexts are padded to a multiple of this, with pad values 1..=32.
const PAD_BLOCK: usize = 32;
/// The AES block: the ciphertext must be a multiple of this.
const AES_BLOCK: usize = 16;
/// Random prefix plus the 4-byte length field.
const HEADER_LEN: usize = PREFIX_LEN + 4;

/// Decodes as Node's `Buffer.from(s, "base64")` does for well-formed input: standard alphabet,
/// `=` padding optional, unused trailing bits ignored. Anything else is still an error.
const LENIENT_BASE64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_allow_trailing_bits(true)
        .with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// The 32-byte AES key derived from an application's AppKey.
///
/// Its `Debug` prints `AppKey(redacted)`; it has no `Display`. Build it with [`AppKey::parse`].
#[derive(Clone)]
pub struct AppKey {
    bytes: [u8; 32],
}

impl fmt::Debug for AppKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AppKey(redacted)")
    }
}

impl AppKey {
    /// Parses the 43-character AppKey shown on the platform's developer page.
    ///
    /// Surrounding ASCII whitespace is ignored. The key is the base64 decoding of
    /// `AppKey + "="`, which must be 32 bytes.
    ///
    /// # Errors
    ///
    /// [`CryptoError::AppKeyLength`], [`CryptoError::AppKeyCharacter`] or
    /// [`CryptoError::AppKeyDecodedLength`]; none of them shows the key.
    pub fn parse(s: &str) -> Result<AppKey, CryptoError> {
        let s = s.trim_ascii();
        let len = s.chars().count();
        if len != APP_KEY_LEN {
            return Err(CryptoError::AppKeyLength { len });
        }
        if let Some((index, character)) = s.chars().enumerate().find(|(_, c)| !is_base64_char(*c)) {
            let position = index + 1;
            return Err(CryptoError::AppKeyCharacter {
                character,
                position,
            });
        }
        // After the checks above decoding cannot fail; were it to, no bytes is what it gave.
        let decoded = LENIENT_BASE64.decode(s).unwrap_or_default();
        key_from_decoded(decoded)
    }
}

/// The last check of [`AppKey::parse`], apart so that it can be tested on its own: with 43
/// alphabet characters the decoding is always 32 bytes.
fn key_from_decoded(decoded: Vec<u8>) -> Result<AppKey, CryptoError> {
    let len = decoded.len();
    let bytes =
        <[u8; 32]>::try_from(decoded).map_err(|_| CryptoError::AppKeyDecodedLength { len })?;
    Ok(AppKey { bytes })
}

fn is_base64_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '+' || c == '/'
}

/// One decrypted `encryptData`: the message and the AppID found after it.
///
/// Both borrow from the codec's buffer, so they live until the next call on the codec.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decrypted<'a> {
    /// The message: for a push, the JSON text of its `data` object.
    pub message: &'a str,
    /// The AppID that trails the message inside the plaintext.
    pub app_id: &'a str,
}

/// Encrypts and decrypts safe-mode payloads for one AppKey.
///
/// The AES key schedule is expanded once in [`SafeModeCodec::new`]; [`SafeModeCodec::decrypt`]
/// reuses one buffer for the base64 decoding and the decryption, so a stream of pushes costs no
/// allocation per push once the buffer has grown to the largest one.
///
/// ```
/// use sensoro_mqtt::crypto::{AppKey, CryptoError, SafeModeCodec};
///
/// let key = AppKey::parse("abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG")?;
/// let mut codec = SafeModeCodec::new(&key);
/// let data = codec.encrypt(br#"{"temperature":21.5}"#, "foobar")?;
/// let push = codec.decrypt(&data, Some("foobar"))?;
/// assert_eq!(push.message, r#"{"temperature":21.5}"#);
///
/// let wrong = codec.decrypt(&data, Some("123456")).unwrap_err();
/// assert_eq!(
///     wrong.to_string(),
///     r#"AppID mismatch: expected "123456", but the decrypted data is for "foobar""#
/// );
/// # Ok::<(), CryptoError>(())
/// ```
pub struct SafeModeCodec {
    encryptor: Aes256Enc,
    decryptor: Aes256Dec,
    iv: [u8; 16],
    buf: Vec<u8>,
}

impl fmt::Debug for SafeModeCodec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SafeModeCodec(redacted)")
    }
}

impl SafeModeCodec {
    /// Expands `key` for both directions.
    #[must_use]
    pub fn new(key: &AppKey) -> Self {
        let mut iv = [0; 16];
        iv.copy_from_slice(&key.bytes[..16]);
        SafeModeCodec {
            encryptor: Aes256Enc::new(&key.bytes.into()),
            decryptor: Aes256Dec::new(&key.bytes.into()),
            iv,
            buf: Vec::new(),
        }
    }

    /// Decrypts one encryptData string. `expected_app_id: Some(id)` checks the trailer; None
    /// skips the check.
    ///
    /// Surrounding ASCII whitespace in `encrypt_data` is ignored; byte offsets in errors count
    /// from the start of `encrypt_data` as given.
    ///
    /// # Errors
    ///
    /// In the order checked: [`CryptoError::InvalidBase64`], [`CryptoError::EmptyCiphertext`],
    /// [`CryptoError::CiphertextLength`], then [`CryptoError::InvalidPadding`],
    /// [`CryptoError::TooShort`] and [`CryptoError::LengthField`] (a wrong AppKey almost always
    /// ends here), then [`CryptoError::AppIdMismatch`] or [`CryptoError::AppIdNotUtf8`], and
    /// last [`CryptoError::MessageNotUtf8`].
    pub fn decrypt(
        &mut self,
        encrypt_data: &str,
        expected_app_id: Option<&str>,
    ) -> Result<Decrypted<'_>, CryptoError> {
        self.decode_base64(encrypt_data)?;
        self.decrypt_in_place()?;
        let frame = Frame::locate(&self.buf)?;
        let app_id = check_app_id(&self.buf[frame.app_id], expected_app_id)?;
        let message = std::str::from_utf8(&self.buf[frame.message]).map_err(|e| {
            CryptoError::MessageNotUtf8 {
                offset: e.valid_up_to(),
            }
        })?;
        Ok(Decrypted { message, app_id })
    }

    /// Encrypts `message` for `app_id`, with a fresh random 16-byte prefix from the operating
    /// system's CSPRNG. The result is an `encryptData` string.
    ///
    /// # Errors
    ///
    /// [`CryptoError::Random`] if the operating system has no randomness to give, and
    /// [`CryptoError::MessageTooLong`] for a message of 4 GiB or more.
    pub fn encrypt(&self, message: &[u8], app_id: &str) -> Result<String, CryptoError> {
        let mut prefix = [0; PREFIX_LEN];
        getrandom::fill(&mut prefix).map_err(|e| CryptoError::Random {
            reason: e.to_string(),
        })?;
        self.encrypt_with_prefix(prefix, message, app_id)
    }

    /// Encrypts like [`SafeModeCodec::encrypt`] but with the given prefix instead of a random
    /// one, so that the result is reproducible. Meant for known-answer tests; a real push
    /// should use [`SafeModeCodec::encrypt`].
    ///
    /// # Errors
    ///
    /// [`CryptoError::MessageTooLong`] for a message of 4 GiB or more.
    pub fn encrypt_with_prefix(
        &self,
        prefix: [u8; PREFIX_LEN],
        message: &[u8],
        app_id: &str,
    ) -> Result<String, CryptoError> {
        let length_field = length_field(message.len())?;
        let unpadded = HEADER_LEN + message.len() + app_id.len();
        let mut plain = Vec::with_capacity(unpadded + PAD_BLOCK);
        plain.extend_from_slice(&prefix);
        plain.extend_from_slice(&length_field);
        plain.extend_from_slice(message);
        plain.extend_from_slice(app_id.as_bytes());
        pad(&mut plain);
        Ok(self.encrypt_padded(plain))
    }

    /// Encrypts an already padded plaintext and base64-encodes it.
    fn encrypt_padded(&self, mut plain: Vec<u8>) -> String {
        let len = plain.len();
        let cbc = cbc::Encryptor::inner_iv_init(self.encryptor.clone(), &self.iv.into());
        // `pad` made `len` a multiple of 32, so NoPadding cannot refuse it.
        match cbc.encrypt_padded_mut::<NoPadding>(&mut plain, len) {
            Ok(cipher) => STANDARD.encode(cipher),
            Err(_) => unreachable!("padded plaintext is a whole number of blocks"),
        }
    }

    /// Decodes the base64 of `encrypt_data` into `self.buf` and checks its length.
    fn decode_base64(&mut self, encrypt_data: &str) -> Result<(), CryptoError> {
        let trimmed = encrypt_data.trim_ascii_start();
        let leading = encrypt_data.len() - trimmed.len();
        let trimmed = trimmed.trim_ascii_end();
        self.buf.clear();
        LENIENT_BASE64
            .decode_vec(trimmed, &mut self.buf)
            .map_err(|e| error::base64_error(trimmed, leading, &e))?;
        match self.buf.len() {
            0 => Err(CryptoError::EmptyCiphertext),
            len if len % AES_BLOCK != 0 => Err(CryptoError::CiphertextLength { len }),
            _ => Ok(()),
        }
    }

    /// AES-256-CBC decryption of `self.buf` in place, without unpadding.
    fn decrypt_in_place(&mut self) -> Result<(), CryptoError> {
        let len = self.buf.len();
        let cbc = cbc::Decryptor::inner_iv_init(self.decryptor.clone(), &self.iv.into());
        cbc.decrypt_padded_mut::<NoPadding>(&mut self.buf)
            .map(|_| ())
            .map_err(|_| CryptoError::CiphertextLength { len })
    }
}

/// Where the message and the AppID lie in a decrypted, still padded plaintext.
#[derive(Debug, PartialEq, Eq)]
struct Frame {
    message: Range<usize>,
    app_id: Range<usize>,
}

impl Frame {
    /// Checks the padding and the length field, in that order, before anything is sliced by
    /// the length field's value.
    fn locate(plain: &[u8]) -> Result<Frame, CryptoError> {
        let end = unpadded_len(plain)?;
        if end < HEADER_LEN {
            return Err(CryptoError::TooShort { len: end });
        }
        let mut field = [0; 4];
        field.copy_from_slice(&plain[PREFIX_LEN..HEADER_LEN]);
        let declared = u32::from_be_bytes(field);
        let available = end - HEADER_LEN;
        match usize::try_from(declared) {
            Ok(len) if len <= available => Ok(Frame {
                message: HEADER_LEN..HEADER_LEN + len,
                app_id: HEADER_LEN + len..end,
            }),
            _ => Err(CryptoError::LengthField {
                declared,
                available,
            }),
        }
    }
}

/// The plaintext's length without its padding: the last byte `n` must be 1..=32 and the last
/// `n` bytes must all be `n`.
fn unpadded_len(plain: &[u8]) -> Result<usize, CryptoError> {
    let Some(&last) = plain.last() else {
        return Err(CryptoError::InvalidPadding);
    };
    let n = usize::from(last);
    if n == 0 || n > PAD_BLOCK || n > plain.len() {
        return Err(CryptoError::InvalidPadding);
    }
    let end = plain.len() - n;
    if plain[end..].iter().any(|&b| b != last) {
        return Err(CryptoError::InvalidPadding);
    }
    Ok(end)
}

/// Appends 1..=32 bytes, each holding the pad length, to reach a multiple of 32.
fn pad(plain: &mut Vec<u8>) {
    let n = PAD_BLOCK - plain.len() % PAD_BLOCK;
    // n is 1..=32, so it fits in a byte.
    let value = n as u8;
    plain.resize(plain.len() + n, value);
}

/// The big-endian length field, or an error if the message is too long for 32 bits.
fn length_field(len: usize) -> Result<[u8; 4], CryptoError> {
    u32::try_from(len)
        .map(u32::to_be_bytes)
        .map_err(|_| CryptoError::MessageTooLong { len })
}

/// Checks the AppID trailer against the expected one, if any, and returns it as text.
fn check_app_id<'a>(found: &'a [u8], expected: Option<&str>) -> Result<&'a str, CryptoError> {
    if let Some(expected) = expected {
        if found != expected.as_bytes() {
            return Err(CryptoError::AppIdMismatch {
                expected: error::describe_bytes(expected.as_bytes()),
                found: error::describe_bytes(found),
            });
        }
    }
    std::str::from_utf8(found).map_err(|_| CryptoError::AppIdNotUtf8 {
        found: error::describe_bytes(found),
    })
}
