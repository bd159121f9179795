//! watch's real ingest path for `benches/watch_vs_listen.sh`; not part of the tool.
//!
//! Runs on one thread as the command does. Connects watch's feed (the MQTT session, QoS 1, persistent session) to a broker, runs
//! watch's app loop — model, acknowledgements, and drawing into a ratatui `TestBackend` at
//! its normal rate (every 100 ms) — until COUNT pushes are in the model, then prints one
//! line: `seconds devices frames peak_rss_kib`.
//!
//!   watch_drain HOST PORT APP_ID APP_SECRET CLIENT_ID COUNT

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ratatui::backend::TestBackend;
use ratatui::Terminal;
use sensoro_mqtt::config::Qos;
use sensoro_mqtt::mqtt::SessionSettings;
use sensoro_mqtt::push::PushReader;
use sensoro_mqtt::secret::Secret;
use sensoro_mqtt::watch::app::App;
use sensoro_mqtt::watch::feed::{Feed, FeedSettings};
use sensoro_mqtt::watch::model::Model;
use tokio::sync::Notify;

// One thread, as `sensoro-mqtt watch` runs (commands::runtime(1)): the feed task and the
// app loop take turns on it.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [host, port, app_id, secret, client_id, count] = args.as_slice() else {
        eprintln!("usage: watch_drain HOST PORT APP_ID APP_SECRET CLIENT_ID COUNT");
        std::process::exit(2);
    };
    let count: u64 = count.parse()?;
    let settings = FeedSettings {
        session: SessionSettings {
            host: host.clone(),
            port: port.parse()?,
            app_id: app_id.clone(),
            app_secret: Secret::new(secret.clone()),
            client_id: client_id.clone(),
            clean_session: false,
            keep_alive: Duration::from_secs(30),
            tls: None,
            max_payload: 64 * 1024 * 1024,
        },
        topic: format!("users/{app_id}/devices"),
        qos: Qos::AtLeastOnce,
    };
    let started = Instant::now();
    let mut feed = Feed::start(settings);
    let mut app = App::new(
        Model::new(started),
        PushReader::new(None, Some(app_id.clone()), false),
        false,
    );
    let mut terminal = Terminal::new(TestBackend::new(160, 48))?;
    let (_keys_tx, mut keys) = tokio::sync::mpsc::channel(1);
    let taken = Arc::new(AtomicU64::new(0));
    let done = Arc::new(Notify::new());
    let (counted, notify) = (Arc::clone(&taken), Arc::clone(&done));
    let stop = async move { done.notified().await };
    let mut inputs = std::mem::replace(&mut feed.inputs, tokio::sync::mpsc::channel(1).1);
    let acks = &feed;
    let outcome = app
        .run(
            &mut terminal,
            &mut inputs,
            &mut keys,
            |tokens| {
                let n = tokens.len() as u64;
                acks.acknowledge(tokens);
                let before = counted.fetch_add(n, Ordering::Relaxed);
                if before < count && before + n >= count {
                    notify.notify_one();
                }
            },
            stop,
        )
        .await?;
    let elapsed = started.elapsed().as_secs_f64();
    // One more frame, as the next tick would draw: the drawing is part of the cost.
    app.draw(&mut terminal, Instant::now())?;
    println!(
        "{elapsed:.4} {} {} {}",
        app.model().device_count(),
        taken.load(Ordering::Relaxed),
        peak_rss_kib()
    );
    if !matches!(outcome, sensoro_mqtt::watch::app::Outcome::Signal) {
        eprintln!("watch ended before {count} pushes: {outcome:?}");
        std::process::exit(1);
    }
    feed.close().await;
    Ok(())
}

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|line| line.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}
