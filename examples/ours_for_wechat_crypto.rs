//! Writes `tests/fixtures/safe_mode/ours_for_wechat_crypto.json`: `encryptData` made by
//! sensoro-mqtt's own codec, for `tools/safe-mode-vectors/verify_ours.js` to decrypt with the
//! independent npm package `wechat-crypto`.
//!
//! Regenerate both steps together (the cargo test wants the `nodeDecrypted` that the second
//! step adds):
//!
//! ```text
//! cargo run --example ours_for_wechat_crypto
//! cd tools/safe-mode-vectors && npm ci && node verify_ours.js
//! ```
//!
//! Vectors with a `prefix` were encrypted with that fixed prefix and must be reproduced
//! byte for byte by the test; the others used a random prefix from the operating system.

use std::error::Error;
use std::fmt::Write as _;
use std::path::Path;

use sensoro_mqtt::crypto::{AppKey, SafeModeCodec};
use serde_json::{json, Value};

const APP_KEYS: [&str; 4] = [
    "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
    "Zm9vYmFyZm9vYmFyZm9vYmFyZm9vYmFyZm9vYmFyMDE",
    "q7Rk2Tm9LwX0pVz3nB8cJ5yH1dF4gS6aE2uK9oM7iQZ",
    "Aa0+/Bb1+/Cc2+/Dd3+/Ee4+/Ff5+/Gg6+/Hh7+/Ii8",
];
const APP_IDS: [&str; 4] = ["foobar", "123456", "9yCs1XmRya2T", "应用-测试"];

fn messages() -> Vec<(String, String)> {
    let mut list = vec![
        ("empty message".into(), String::new()),
        ("one byte".into(), "a".into()),
    ];
    for len in [
        5, 6, 7, 15, 16, 17, 31, 32, 33, 47, 48, 49, 63, 64, 65, 255, 256, 257,
    ] {
        list.push((format!("{len} bytes"), ascii(len)));
    }
    let push = r#"{"battery":90,"interval":300,"temperature":21.5,"light":320.0,"humidity":40.2,"ch4":0,"pm2_5":12,"leak":false,"smoke":0,"magnetic":{"x":12,"y":-3,"z":40}}"#;
    list.push(("push data".into(), push.into()));
    list.push((
        "smoke alarm".into(),
        r#"{"battery":100,"smoke":1,"alarm":true}"#.into(),
    ));
    list.push(("cjk".into(), "温度传感器：当前温度 21.5°C".into()));
    list.push(("emoji".into(), "🌡️🔥💧🚨👨‍👩‍👧‍👦".into()));
    list.push((
        "control characters".into(),
        "tab\tnew\nline \"q\" \\ \0".into(),
    ));
    list.push(("about 20 KB".into(), ascii(20_000)));
    list
}

/// Printable ASCII that does not repeat with a short period.
fn ascii(len: usize) -> String {
    (0..len)
        .map(|i| char::from(b' ' + ((i * 37 + i / 95) % 95) as u8))
        .collect()
}

fn fixed_prefix(index: usize) -> [u8; 16] {
    let mut prefix = [0; 16];
    for (j, byte) in prefix.iter_mut().enumerate() {
        *byte = (index * 31 + j * 7 + 1) as u8;
    }
    prefix
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

fn vector(index: usize, name: &str, message: &str) -> Result<Value, Box<dyn Error>> {
    let app_key = APP_KEYS[index % APP_KEYS.len()];
    let app_id = APP_IDS[(index / APP_KEYS.len()) % APP_IDS.len()];
    let codec = SafeModeCodec::new(&AppKey::parse(app_key)?);
    // Even vectors use a fixed prefix (reproducible), odd ones the real random path.
    let (prefix, data) = if index.is_multiple_of(2) {
        let prefix = fixed_prefix(index);
        let data = codec.encrypt_with_prefix(prefix, message.as_bytes(), app_id)?;
        (Value::String(hex(&prefix)), data)
    } else {
        (Value::Null, codec.encrypt(message.as_bytes(), app_id)?)
    };
    Ok(json!({
        "name": name, "appKey": app_key, "appId": app_id, "message": message,
        "prefix": prefix, "encryptData": data,
    }))
}

fn main() -> Result<(), Box<dyn Error>> {
    let vectors = messages()
        .iter()
        .enumerate()
        .map(|(i, (name, message))| vector(i, name, message))
        .collect::<Result<Vec<_>, _>>()?;
    let lines = vectors
        .iter()
        .map(serde_json::to_string)
        .collect::<Result<Vec<_>, _>>()?;
    let text = format!(
        "{{\n  \"source\": \"sensoro-mqtt SafeModeCodec, by examples/ours_for_wechat_crypto.rs\",\n  \
         \"count\": {},\n  \"vectors\": [\n    {}\n  ]\n}}\n",
        lines.len(),
        lines.join(",\n    ")
    );
    let out = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/safe_mode/ours_for_wechat_crypto.json");
    std::fs::write(&out, text)?;
    eprintln!("wrote {} vectors to {}", lines.len(), out.display());
    Ok(())
}
