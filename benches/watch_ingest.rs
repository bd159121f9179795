//! Watch's model ingest: 200k pushes over 10k devices (read by the push reader, as watch
//! does), then the rate and the peak RSS (Linux: VmHWM). Drawing is not included here: the
//! app draws on a 100 ms tick, apart from ingest.
//!
//! `cargo bench --bench watch_ingest` (full), or with `WATCH_BENCH_PUSHES=20000` for a smoke
//! run. Figures go in the README's benchmarks section.

use std::time::{Duration, Instant};

use sensoro_mqtt::push::PushReader;
use sensoro_mqtt::watch::model::Model;

fn main() {
    let pushes: usize = std::env::var("WATCH_BENCH_PUSHES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(200_000);
    let devices: usize = std::env::var("WATCH_BENCH_DEVICES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(10_000);
    let types = ["node", "smoke", "dianbiao", "tracker", "co2", "leak"];
    let payloads: Vec<Vec<u8>> = (0..pushes)
        .map(|i| {
            let device = i % devices;
            let device_type = types[device % types.len()];
            format!(
                r#"{{"appId":"bench","sn":"SN{device:08}","type":"text","deviceType":"{device_type}","createdTime":1732400000000,"msgId":"m{i}","data":{{"battery":{},"interval":300,"temperature":{}.5,"humidity":{},"CURRENT_A":4.25,"smoke":{}}}}}"#,
                50 + i % 50,
                15 + i % 10,
                30 + i % 40,
                i % 2
            )
            .into_bytes()
        })
        .collect();
    let started = Instant::now();
    let mut model = Model::new(started);
    let mut reader = PushReader::new(None, None, false);
    for (i, payload) in payloads.iter().enumerate() {
        let reading = reader.read(payload);
        model.ingest(&reading, started + Duration::from_micros(i as u64 * 100));
    }
    let elapsed = started.elapsed();
    println!(
        "watch model: {} pushes over {} devices in {:.3}s = {:.0} pushes/s; peak RSS {}",
        pushes,
        model.device_count(),
        elapsed.as_secs_f64(),
        pushes as f64 / elapsed.as_secs_f64(),
        peak_rss()
    );
}

fn peak_rss() -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|line| line.starts_with("VmHWM:"))
                .map(|line| line.trim_start_matches("VmHWM:").trim().to_owned())
        })
        .unwrap_or_else(|| "unknown (no /proc)".to_owned())
}
