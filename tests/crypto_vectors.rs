//! Known-answer tests of the safe-mode codec against the independent npm package
//! `wechat-crypto`, in both directions, from committed fixtures (no node needed here).
//!
//! - `wechat_crypto_vectors.json`: made by wechat-crypto (`tools/safe-mode-vectors/generate.js`);
//!   we must decrypt every one.
//! - `ours_for_wechat_crypto.json`: made by us (`examples/ours_for_wechat_crypto.rs`) and
//!   decrypted by wechat-crypto (`tools/safe-mode-vectors/verify_ours.js`), which recorded
//!   what it read.

use std::path::Path;

use sensoro_mqtt::crypto::{AppKey, CryptoError, SafeModeCodec};
use serde::Deserialize;

#[derive(Deserialize)]
struct Fixture<V> {
    count: usize,
    vectors: Vec<V>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct NodeVector {
    name: String,
    app_key: String,
    app_id: String,
    message: String,
    encrypt_data: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct OurVector {
    name: String,
    app_key: String,
    app_id: String,
    message: String,
    prefix: Option<String>,
    encrypt_data: String,
    node_decrypted: Option<String>,
    node_app_id: Option<String>,
    node_pad_length: Option<usize>,
}

const REGENERATE_OURS: &str = "regenerate with `cargo run --example ours_for_wechat_crypto` then \
                               `cd tools/safe-mode-vectors && npm ci && node verify_ours.js`";

fn load<V: for<'de> Deserialize<'de>>(name: &str) -> Vec<V> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/safe_mode")
        .join(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let fixture: Fixture<V> = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{} is not a vector fixture: {e}", path.display()));
    assert_eq!(fixture.count, fixture.vectors.len(), "count in {name}");
    fixture.vectors
}

fn codec(app_key: &str) -> SafeModeCodec {
    let key = AppKey::parse(app_key).unwrap_or_else(|e| panic!("fixture AppKey refused: {e}"));
    SafeModeCodec::new(&key)
}

fn parse_hex_prefix(hex: &str) -> [u8; 16] {
    let mut prefix = [0; 16];
    assert_eq!(hex.len(), 32, "prefix {hex:?} is not 16 bytes of hex");
    for (i, byte) in prefix.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16)
            .unwrap_or_else(|e| panic!("prefix {hex:?}: {e}"));
    }
    prefix
}

#[test]
fn we_decrypt_every_wechat_crypto_vector() {
    let vectors: Vec<NodeVector> = load("wechat_crypto_vectors.json");
    assert!(vectors.len() >= 50, "only {} vectors", vectors.len());
    for v in &vectors {
        let mut codec = codec(&v.app_key);
        let got = codec
            .decrypt(&v.encrypt_data, Some(&v.app_id))
            .unwrap_or_else(|e| panic!("vector {:?}: {e}", v.name));
        assert_eq!(got.message, v.message, "message of vector {:?}", v.name);
        assert_eq!(got.app_id, v.app_id, "AppID of vector {:?}", v.name);
    }
}

#[test]
fn wechat_crypto_vectors_cover_the_required_cases() {
    let vectors: Vec<NodeVector> = load("wechat_crypto_vectors.json");
    let has = |f: &dyn Fn(&NodeVector) -> bool| vectors.iter().any(f);
    assert!(has(&|v| v.message.is_empty()), "an empty message");
    assert!(has(&|v| v.message.len() == 1), "a 1-byte message");
    assert!(has(&|v| v.message.len() >= 100_000), "a ~100 KB message");
    assert!(has(&|v| v.message.chars().any(|c| c >= '\u{4e00}')), "CJK");
    assert!(
        has(&|v| v.message.chars().any(|c| c >= '\u{1f300}')),
        "emoji"
    );
    for app_id in ["foobar", "123456", "9yCs1XmRya2T"] {
        assert!(has(&|v| v.app_id == app_id), "AppID {app_id}");
    }
    for len in [15, 16, 17, 31, 32, 33, 63, 64, 65] {
        assert!(has(&|v| v.message.len() == len), "a {len}-byte message");
    }
}

#[test]
fn a_wrong_app_key_never_decrypts_a_wechat_crypto_vector() {
    let vectors: Vec<NodeVector> = load("wechat_crypto_vectors.json");
    for (v, other) in vectors.iter().zip(vectors.iter().cycle().skip(1)) {
        if v.app_key == other.app_key {
            continue;
        }
        let result = codec(&other.app_key)
            .decrypt(&v.encrypt_data, None)
            .map(|_| ());
        assert!(
            matches!(
                result,
                Err(CryptoError::InvalidPadding
                    | CryptoError::TooShort { .. }
                    | CryptoError::LengthField { .. })
            ),
            "vector {:?} with a wrong AppKey gave {result:?}",
            v.name
        );
    }
}

#[test]
fn wechat_crypto_read_every_one_of_ours() {
    let vectors: Vec<OurVector> = load("ours_for_wechat_crypto.json");
    assert!(vectors.len() >= 20, "only {} of ours", vectors.len());
    for v in &vectors {
        let missing = || {
            panic!(
                "vector {:?} was not read by node: {REGENERATE_OURS}",
                v.name
            )
        };
        let node_message = v.node_decrypted.as_deref().unwrap_or_else(missing);
        assert_eq!(
            node_message, v.message,
            "wechat-crypto's reading of {:?}",
            v.name
        );
        assert_eq!(
            v.node_app_id.as_deref(),
            Some(v.app_id.as_str()),
            "AppID of {:?}",
            v.name
        );
        let unpadded = 20 + v.message.len() + v.app_id.len();
        let pad = 32 - unpadded % 32;
        assert_eq!(
            v.node_pad_length,
            Some(pad),
            "padding of {:?} seen by node",
            v.name
        );
    }
}

#[test]
fn we_decrypt_and_reproduce_our_own_vectors() {
    let vectors: Vec<OurVector> = load("ours_for_wechat_crypto.json");
    for v in &vectors {
        let mut codec = codec(&v.app_key);
        if let Some(hex) = &v.prefix {
            let again =
                codec.encrypt_with_prefix(parse_hex_prefix(hex), v.message.as_bytes(), &v.app_id);
            assert_eq!(
                again.as_deref(),
                Ok(v.encrypt_data.as_str()),
                "{:?}: {REGENERATE_OURS}",
                v.name
            );
        }
        let got = codec
            .decrypt(&v.encrypt_data, Some(&v.app_id))
            .unwrap_or_else(|e| panic!("vector {:?}: {e}", v.name));
        assert_eq!(
            (got.message, got.app_id),
            (v.message.as_str(), v.app_id.as_str())
        );
    }
}
