//! Throughput of the safe-mode codec alone, in MB/s of `encryptData` decrypted: a typical push
//! `data` object (189 bytes of JSON) and a 100 KB message. Encryption is measured too,
//! for reference, in MB/s of message.
//!
//! Run with `cargo bench --bench codec`.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use sensoro_mqtt::crypto::{AppKey, SafeModeCodec};

const APP_KEY: &str = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";
const APP_ID: &str = "9yCs1XmRya2T";
/// The platform's documented sample `data` plus a few fields: 189 bytes of JSON.
const PUSH_DATA: &str = r#"{"battery":90,"interval":300,"temperature":21.5,"light":320.0,"humidity":40.2,"ch4":0,"pm2_5":12,"leak":false,"smoke":0,"co2":415,"magnetic":{"x":12,"y":-3,"z":40},"alarm":false,"rssi":-87}"#;

fn codec() -> SafeModeCodec {
    match AppKey::parse(APP_KEY) {
        Ok(key) => SafeModeCodec::new(&key),
        Err(e) => panic!("bench AppKey refused: {e}"),
    }
}

/// About 100 KB of JSON readings.
fn large_message() -> String {
    let mut json = String::from(r#"{"readings":["#);
    let mut i = 0u64;
    while json.len() < 100 * 1024 - 64 {
        json.push_str(&format!(
            r#"{{"t":{},"temperature":{}.{}}},"#,
            1_732_400_000_000 + i * 30_000,
            15 + i % 20,
            i % 10
        ));
        i += 1;
    }
    json.push_str(r#"{"t":0}]}"#);
    json
}

fn cases() -> [(&'static str, String); 2] {
    [
        ("push data 200 B", PUSH_DATA.to_owned()),
        ("message 100 KB", large_message()),
    ]
}

fn bench_decrypt(c: &mut Criterion) {
    let mut group = c.benchmark_group("decrypt");
    let mut codec = codec();
    for (name, message) in cases() {
        let data = codec
            .encrypt(message.as_bytes(), APP_ID)
            .expect("encrypt bench input");
        group.throughput(Throughput::BytesDecimal(data.len() as u64));
        group.bench_with_input(BenchmarkId::from_parameter(name), &data, |b, data| {
            b.iter(|| match codec.decrypt(black_box(data), Some(APP_ID)) {
                Ok(d) => d.message.len(),
                Err(e) => panic!("bench input does not decrypt: {e}"),
            });
        });
    }
    group.finish();
}

fn bench_encrypt(c: &mut Criterion) {
    let mut group = c.benchmark_group("encrypt");
    let codec = codec();
    for (name, message) in cases() {
        group.throughput(Throughput::BytesDecimal(message.len() as u64));
        group.bench_with_input(BenchmarkId::from_parameter(name), &message, |b, message| {
            b.iter(|| codec.encrypt(black_box(message.as_bytes()), APP_ID));
        });
    }
    group.finish();
}

fn bench_key_setup(c: &mut Criterion) {
    c.bench_function("AppKey::parse + SafeModeCodec::new", |b| {
        b.iter(|| AppKey::parse(black_box(APP_KEY)).map(|key| SafeModeCodec::new(&key)));
    });
}

criterion_group!(benches, bench_decrypt, bench_encrypt, bench_key_setup);
criterion_main!(benches);
