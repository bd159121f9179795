//! Unit tests of the safe-mode codec: round trips, the decisions documented in the module,
//! one test per error, and property tests that no input makes it panic.

use super::*;
use proptest::prelude::*;

/// The example EncodingAESKey of WeChat's documentation: 43 alphanumerics whose last character
/// has unused low bits set, like the AppKeys the platform hands out.
const KEY: &str = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";
const OTHER_KEY: &str = "Zm9vYmFyZm9vYmFyZm9vYmFyZm9vYmFyZm9vYmFyMDE";
const PREFIX: [u8; PREFIX_LEN] = *b"0123456789abcdef";
const DATA: &str = r#"{"battery":90,"interval":300,"temperature":21.5}"#;

fn codec(key: &str) -> SafeModeCodec {
    match AppKey::parse(key) {
        Ok(key) => SafeModeCodec::new(&key),
        Err(e) => panic!("test key {key:?} should parse: {e}"),
    }
}

/// Encrypts a hand-made plaintext, padded here, to reach the checks behind the padding.
fn encrypt_raw(codec: &SafeModeCodec, mut plain: Vec<u8>) -> String {
    pad(&mut plain);
    codec.encrypt_padded(plain)
}

/// A plaintext with the given length field, body (message and AppID) and no padding yet.
fn plaintext(declared: u32, body: &[u8]) -> Vec<u8> {
    let mut plain = PREFIX.to_vec();
    plain.extend_from_slice(&declared.to_be_bytes());
    plain.extend_from_slice(body);
    plain
}

fn decrypt_err(codec: &mut SafeModeCodec, data: &str, app_id: Option<&str>) -> CryptoError {
    match codec.decrypt(data, app_id) {
        Ok(d) => panic!("expected an error, decrypted {d:?}"),
        Err(e) => e,
    }
}

fn parse_err(key: &str) -> CryptoError {
    match AppKey::parse(key) {
        Ok(_) => panic!("expected {key:?} to be refused"),
        Err(e) => e,
    }
}

fn assert_mentions(error: &CryptoError, words: &[&str]) {
    let text = error.to_string();
    for word in words {
        assert!(text.contains(word), "{text:?} should mention {word:?}");
    }
}

// --- round trips and documented decisions ---

#[test]
fn round_trip_returns_message_and_app_id() {
    let mut codec = codec(KEY);
    let data = codec.encrypt(DATA.as_bytes(), "foobar").unwrap();
    let got = codec.decrypt(&data, Some("foobar")).unwrap();
    assert_eq!(
        got,
        Decrypted {
            message: DATA,
            app_id: "foobar"
        }
    );
}

#[test]
fn empty_message_round_trips() {
    let mut codec = codec(KEY);
    let data = codec.encrypt(b"", "123456").unwrap();
    assert_eq!(codec.decrypt(&data, Some("123456")).unwrap().message, "");
}

#[test]
fn decrypt_without_expected_app_id_returns_the_trailer() {
    let mut codec = codec(KEY);
    let data = codec.encrypt(b"{}", "9yCs1XmRya2T").unwrap();
    assert_eq!(codec.decrypt(&data, None).unwrap().app_id, "9yCs1XmRya2T");
}

#[test]
fn encrypt_draws_a_fresh_prefix_each_time() {
    let codec = codec(KEY);
    let a = codec.encrypt(DATA.as_bytes(), "foobar").unwrap();
    let b = codec.encrypt(DATA.as_bytes(), "foobar").unwrap();
    assert_ne!(a, b, "two encryptions with random prefixes should differ");
}

#[test]
fn encrypt_with_prefix_is_reproducible() {
    let codec = codec(KEY);
    let a = codec
        .encrypt_with_prefix(PREFIX, DATA.as_bytes(), "foobar")
        .unwrap();
    let b = codec
        .encrypt_with_prefix(PREFIX, DATA.as_bytes(), "foobar")
        .unwrap();
    assert_eq!(a, b);
}

#[test]
fn ciphertext_is_always_a_multiple_of_32_bytes() {
    let codec = codec(KEY);
    for len in 0..100 {
        let data = codec
            .encrypt_with_prefix(PREFIX, &vec![b'x'; len], "foobar")
            .unwrap();
        let cipher = STANDARD.decode(data).unwrap();
        assert_eq!(cipher.len() % 32, 0, "message of {len} bytes");
    }
}

#[test]
fn pad_adds_a_whole_block_of_32s_to_an_exact_multiple() {
    let mut plain = vec![7; 64];
    pad(&mut plain);
    assert_eq!(plain.len(), 96);
    assert!(plain[64..].iter().all(|&b| b == 32));
}

#[test]
fn pad_adds_a_single_1_when_one_byte_short() {
    let mut plain = vec![7; 31];
    pad(&mut plain);
    assert_eq!(plain, [vec![7; 31], vec![1]].concat());
}

#[test]
fn decrypt_ignores_surrounding_whitespace() {
    let mut codec = codec(KEY);
    let data = codec.encrypt(DATA.as_bytes(), "foobar").unwrap();
    let padded = format!("\n  {data}\r\n");
    assert_eq!(
        codec.decrypt(&padded, Some("foobar")).unwrap().message,
        DATA
    );
}

#[test]
fn decrypt_accepts_base64_without_its_padding() {
    let mut codec = codec(KEY);
    // 26 + 1 bytes of plaintext pad to 32: 32 bytes of base64 end in one '='.
    let data = codec.encrypt(b"x", "foobar").unwrap();
    assert!(data.ends_with('='), "{data}");
    let bare = data.trim_end_matches('=');
    assert_eq!(codec.decrypt(bare, Some("foobar")).unwrap().message, "x");
}

#[test]
fn decrypt_reuses_its_buffer_correctly_after_a_longer_message() {
    let mut codec = codec(KEY);
    let long = codec.encrypt(&[b'a'; 5000], "foobar").unwrap();
    let short = codec.encrypt(b"b", "foobar").unwrap();
    assert_eq!(codec.decrypt(&long, None).unwrap().message.len(), 5000);
    assert_eq!(codec.decrypt(&short, None).unwrap().message, "b");
}

#[test]
fn app_key_parse_ignores_surrounding_whitespace() {
    let key = AppKey::parse(&format!(" {KEY}\n")).unwrap();
    assert_eq!(key.bytes, AppKey::parse(KEY).unwrap().bytes);
}

#[test]
fn app_key_parse_ignores_unused_bits_of_the_last_character() {
    // 'E' is 000100 and 'G' 000110: they differ only in the two bits beyond the 32 bytes.
    let with_bits = AppKey::parse(KEY).unwrap();
    let without = AppKey::parse(&KEY.replace('G', "E")).unwrap();
    assert_eq!(with_bits.bytes, without.bytes);
}

#[test]
fn app_key_debug_is_redacted() {
    let key = AppKey::parse(KEY).unwrap();
    assert_eq!(format!("{key:?}"), "AppKey(redacted)");
    assert_eq!(
        format!("{:?}", SafeModeCodec::new(&key)),
        "SafeModeCodec(redacted)"
    );
}

// --- one test per error ---

#[test]
fn app_key_of_wrong_length_is_refused_with_its_length() {
    let error = parse_err(&format!("{KEY}="));
    assert_eq!(error, CryptoError::AppKeyLength { len: 44 });
    assert_eq!(error.to_string(), "AppKey must be 43 characters, got 44");
    assert!(error.hint().unwrap().contains("trailing '='"));
}

#[test]
fn app_key_length_counts_characters_not_bytes() {
    assert_eq!(parse_err("密钥"), CryptoError::AppKeyLength { len: 2 });
}

#[test]
fn app_key_with_a_character_outside_base64_names_it_and_its_position() {
    let key = format!("{}-{}", &KEY[..9], &KEY[10..]);
    let error = parse_err(&key);
    assert_eq!(
        error,
        CryptoError::AppKeyCharacter {
            character: '-',
            position: 10
        }
    );
    assert_mentions(&error, &["'-'", "position 10", "base64"]);
}

#[test]
fn app_key_position_is_in_characters() {
    let key = format!("密{}", &KEY[1..]);
    assert_eq!(
        parse_err(&key),
        CryptoError::AppKeyCharacter {
            character: '密',
            position: 1
        }
    );
}

#[test]
fn app_key_decoding_to_other_than_32_bytes_is_refused() {
    let Err(error) = key_from_decoded(vec![0; 31]) else {
        panic!("31 bytes should be refused");
    };
    assert_eq!(error, CryptoError::AppKeyDecodedLength { len: 31 });
    assert_mentions(&error, &["31 bytes", "32 bytes"]);
}

#[test]
fn app_key_errors_never_show_the_key() {
    let almost = &KEY[..42];
    let bad_char = format!("{almost}!");
    for key in [almost, bad_char.as_str()] {
        let error = parse_err(key);
        for text in [error.to_string(), format!("{error:?}")] {
            assert!(!text.contains(&KEY[..20]), "{text:?} shows the key");
        }
    }
}

#[test]
fn invalid_base64_names_the_character_and_its_offset() {
    let error = decrypt_err(&mut codec(KEY), "  abcd$efg", None);
    assert_eq!(
        error,
        CryptoError::InvalidBase64 {
            offset: 6,
            character: Some('$')
        }
    );
    assert_mentions(&error, &["base64", "'$'", "offset 6"]);
}

#[test]
fn whitespace_inside_encrypt_data_is_invalid_base64() {
    let error = decrypt_err(&mut codec(KEY), "abcd\nefgh", None);
    assert_eq!(
        error,
        CryptoError::InvalidBase64 {
            offset: 4,
            character: Some('\n')
        }
    );
}

#[test]
fn base64_that_ends_early_is_reported_at_its_end() {
    let error = decrypt_err(&mut codec(KEY), "AAAAA", None);
    assert_eq!(
        error,
        CryptoError::InvalidBase64 {
            offset: 5,
            character: None
        }
    );
    assert_mentions(&error, &["ends early", "offset 5"]);
}

#[test]
fn empty_encrypt_data_is_refused() {
    for data in ["", " \n"] {
        let error = decrypt_err(&mut codec(KEY), data, None);
        assert_eq!(error, CryptoError::EmptyCiphertext);
        assert_mentions(&error, &["empty"]);
    }
}

#[test]
fn ciphertext_not_a_multiple_of_16_gives_its_length() {
    let data = STANDARD.encode([0u8; 17]);
    let error = decrypt_err(&mut codec(KEY), &data, None);
    assert_eq!(error, CryptoError::CiphertextLength { len: 17 });
    assert_mentions(&error, &["17 bytes", "16"]);
}

#[test]
fn wrong_app_key_is_reported_as_invalid_padding() {
    let data = codec(KEY)
        .encrypt_with_prefix(PREFIX, DATA.as_bytes(), "foobar")
        .unwrap();
    let error = decrypt_err(&mut codec(OTHER_KEY), &data, Some("foobar"));
    assert_eq!(error, CryptoError::InvalidPadding);
    assert_mentions(&error, &["padding", "AppKey is probably wrong"]);
}

#[test]
fn pad_bytes_must_all_equal_the_pad_length() {
    let codec = &mut codec(KEY);
    // 28 bytes of header and body, then 4 bytes of padding, by hand.
    let good = [plaintext(2, b"{}foobar"), vec![4, 4, 4, 4]].concat();
    let bad = [plaintext(2, b"{}foobar"), vec![3, 4, 4, 4]].concat();
    let good = codec.encrypt_padded(good);
    let bad = codec.encrypt_padded(bad);
    assert_eq!(codec.decrypt(&good, Some("foobar")).unwrap().message, "{}");
    assert_eq!(decrypt_err(codec, &bad, None), CryptoError::InvalidPadding);
}

#[test]
fn pad_value_zero_or_above_32_is_invalid() {
    let codec = &mut codec(KEY);
    for last in [0u8, 33, 255] {
        let mut plain = plaintext(2, b"{}foobar");
        plain.resize(63, b' ');
        plain.push(last);
        let data = codec.encrypt_padded(plain);
        assert_eq!(
            decrypt_err(codec, &data, None),
            CryptoError::InvalidPadding,
            "last {last}"
        );
    }
}

#[test]
fn plaintext_shorter_than_its_header_is_too_short() {
    let codec = &mut codec(KEY);
    let data = encrypt_raw(codec, PREFIX[..10].to_vec());
    let error = decrypt_err(codec, &data, None);
    assert_eq!(error, CryptoError::TooShort { len: 10 });
    assert_mentions(&error, &["AppKey is probably wrong", "truncated"]);
}

#[test]
fn length_field_beyond_the_data_is_refused_before_slicing() {
    let codec = &mut codec(KEY);
    for declared in [1000, u32::MAX] {
        let data = encrypt_raw(codec, plaintext(declared, b"abc"));
        let error = decrypt_err(codec, &data, None);
        assert_eq!(
            error,
            CryptoError::LengthField {
                declared,
                available: 3
            }
        );
        assert_mentions(
            &error,
            &["AppKey is probably wrong, or the data is truncated"],
        );
    }
}

#[test]
fn app_id_mismatch_names_both_app_ids() {
    let codec = &mut codec(KEY);
    let data = codec.encrypt(DATA.as_bytes(), "123456").unwrap();
    let error = decrypt_err(codec, &data, Some("foobar"));
    let expected = CryptoError::AppIdMismatch {
        expected: "foobar".into(),
        found: "123456".into(),
    };
    assert_eq!(error, expected);
    assert_mentions(&error, &["\"foobar\"", "\"123456\""]);
}

#[test]
fn app_id_mismatch_escapes_a_trailer_that_is_not_utf8() {
    let codec = &mut codec(KEY);
    let data = encrypt_raw(codec, plaintext(2, b"{}foo\xffbar"));
    let error = decrypt_err(codec, &data, Some("foobar"));
    assert_mentions(&error, &["\"foobar\"", r#""foo\xffbar""#]);
}

#[test]
fn app_id_mismatch_cuts_a_long_trailer() {
    let codec = &mut codec(KEY);
    let data = encrypt_raw(codec, plaintext(0, &[b'z'; 500]));
    let error = decrypt_err(codec, &data, Some("foobar"));
    assert_mentions(&error, &["(500 bytes in all)"]);
    assert!(error.to_string().len() < 200, "{error}");
}

#[test]
fn app_id_that_is_not_utf8_is_refused_even_unchecked() {
    let codec = &mut codec(KEY);
    let data = encrypt_raw(codec, plaintext(2, b"{}\xfe"));
    let error = decrypt_err(codec, &data, None);
    assert_eq!(
        error,
        CryptoError::AppIdNotUtf8 {
            found: r"\xfe".into()
        }
    );
    assert_mentions(&error, &["AppID", "not UTF-8"]);
}

#[test]
fn message_that_is_not_utf8_gives_the_offset_of_the_first_bad_byte() {
    let codec = &mut codec(KEY);
    let data = codec.encrypt(b"ok\xff!", "foobar").unwrap();
    let error = decrypt_err(codec, &data, Some("foobar"));
    assert_eq!(error, CryptoError::MessageNotUtf8 { offset: 2 });
    assert_mentions(&error, &["UTF-8", "offset 2"]);
}

#[cfg(target_pointer_width = "64")]
#[test]
fn message_too_long_for_the_length_field_is_refused() {
    let len = u32::MAX as usize + 1;
    let error = length_field(len).unwrap_err();
    assert_eq!(error, CryptoError::MessageTooLong { len });
    assert_mentions(&error, &["4294967296 bytes"]);
}

#[test]
fn random_failure_says_what_failed() {
    let error = CryptoError::Random {
        reason: getrandom::Error::UNSUPPORTED.to_string(),
    };
    assert_mentions(&error, &["random bytes", "operating system"]);
}

#[test]
fn every_decrypt_error_that_blames_the_key_hints_at_it() {
    let blamed = [
        CryptoError::InvalidPadding,
        CryptoError::TooShort { len: 0 },
        CryptoError::LengthField {
            declared: 9,
            available: 1,
        },
    ];
    for error in blamed {
        assert_mentions(&error, &["AppKey is probably wrong"]);
        assert!(error.hint().unwrap().contains("AppKey"), "{error:?}");
    }
}

// --- properties: round trips, and no input panics ---

fn any_key() -> impl Strategy<Value = AppKey> {
    any::<[u8; 32]>().prop_map(|bytes| AppKey { bytes })
}

/// Ciphertexts of whole AES blocks, so that decryption and the frame checks run.
fn block_aligned_bytes() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(any::<[u8; 16]>(), 1..12).prop_map(|blocks| blocks.concat())
}

proptest! {
    #[test]
    fn prop_round_trip(key in any_key(), message in any::<String>(), app_id in any::<String>()) {
        let mut codec = SafeModeCodec::new(&key);
        let data = codec.encrypt(message.as_bytes(), &app_id).unwrap();
        let got = codec.decrypt(&data, Some(&app_id)).unwrap();
        prop_assert_eq!(got, Decrypted { message: &message, app_id: &app_id });
    }

    #[test]
    fn prop_decrypt_of_any_string_does_not_panic(data in any::<String>()) {
        let mut codec = codec(KEY);
        let _ = codec.decrypt(&data, Some("foobar"));
        let _ = codec.decrypt(&data, None);
    }

    #[test]
    fn prop_decrypt_of_base64_of_any_bytes_does_not_panic(
        bytes in prop_oneof![prop::collection::vec(any::<u8>(), 0..200), block_aligned_bytes()],
    ) {
        let _ = codec(KEY).decrypt(&STANDARD.encode(&bytes), None);
    }

    #[test]
    fn prop_any_padded_plaintext_decrypts_or_errs_without_panic(
        body in prop::collection::vec(any::<u8>(), 0..120),
    ) {
        let mut codec = codec(KEY);
        let data = encrypt_raw(&codec, body.clone());
        if let Ok(got) = codec.decrypt(&data, None) {
            prop_assert_eq!(HEADER_LEN + got.message.len() + got.app_id.len(), body.len());
        }
    }

    #[test]
    fn prop_app_key_parse_of_any_string_does_not_panic(s in any::<String>()) {
        let _ = AppKey::parse(&s);
    }

    #[test]
    fn prop_app_key_parse_of_43_near_base64_characters_does_not_panic(
        s in "[A-Za-z0-9+/=_ \\-密🔑]{43}",
    ) {
        let _ = AppKey::parse(&s);
    }

    #[test]
    fn prop_app_key_parse_accepts_any_43_base64_characters(s in "[A-Za-z0-9+/]{43}") {
        prop_assert!(AppKey::parse(&s).is_ok());
    }
}
