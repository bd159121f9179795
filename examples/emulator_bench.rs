//! Fan-out benchmark helper for `benches/emulate_fanout.sh`; not part of the tool.
//!
//! - `gen`: writes N platform-shaped pushes as NDJSON (the same input for both brokers).
//! - `serve`: runs the emulator in-process, waits for the subscribers, then publishes every
//!   line of a push file through the library's `publish`.
//! - `subscribe`: opens many QoS 0 subscriptions over raw TCP, prints `ready` once all are
//!   granted, counts PUBLISH packets and prints one JSON line with the delivery rate.

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::BytesMut;
use clap::{Parser, Subcommand};
use rumqttc::mqttbytes::v4::{Connect, Packet, Subscribe};
use rumqttc::mqttbytes::{self, PacketType, QoS};
use sensoro_mqtt::emulator::{AppConfig, Emulator, EmulatorConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

#[derive(Parser)]
struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Write `count` pushes for `app_id` as NDJSON on stdout.
    Gen {
        #[arg(long)]
        count: usize,
        #[arg(long)]
        app_id: String,
    },
    /// Run the emulator and publish `pushes` once `subscribers` are subscribed.
    Serve {
        #[arg(long, default_value_t = 0)]
        port: u16,
        #[arg(long)]
        app_id: String,
        #[arg(long)]
        secret: String,
        #[arg(long)]
        subscribers: usize,
        #[arg(long)]
        pushes: PathBuf,
    },
    /// Subscribe `subscribers` times and count deliveries until `expect` each.
    Subscribe {
        #[arg(long)]
        port: u16,
        #[arg(long)]
        app_id: String,
        #[arg(long)]
        secret: String,
        #[arg(long)]
        subscribers: usize,
        #[arg(long)]
        expect: u64,
    },
}

#[tokio::main]
async fn main() -> Result<(), String> {
    match Args::parse().command {
        Command::Gen { count, app_id } => {
            generate(count, &app_id);
            Ok(())
        }
        Command::Serve {
            port,
            app_id,
            secret,
            subscribers,
            pushes,
        } => serve(port, app_id, secret, subscribers, pushes).await,
        Command::Subscribe {
            port,
            app_id,
            secret,
            subscribers,
            expect,
        } => subscribe(port, &app_id, &secret, subscribers, expect).await,
    }
}

fn generate(count: usize, app_id: &str) {
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for n in 0..count {
        let kind = ["node", "smoke", "leak", "ch4", "parking", "pm2_5", "light"][n % 7];
        let _ = writeln!(
            out,
            "{{\"appId\":\"{app_id}\",\"sn\":\"0117C9{:04X}\",\"type\":\"text\",\
             \"deviceType\":\"{kind}\",\"createdTime\":{},\"msgId\":\"{:024x}\",\
             \"data\":{{\"battery\":{},\"interval\":300,\"temperature\":{}.5,\
             \"humidity\":{}.1}}}}",
            n % 65536,
            1_732_400_000_000u64 + n as u64,
            n,
            100 - n % 40,
            15 + n % 20,
            30 + n % 50,
        );
    }
}

async fn serve(
    port: u16,
    app_id: String,
    secret: String,
    subscribers: usize,
    pushes: PathBuf,
) -> Result<(), String> {
    let text = std::fs::read(&pushes).map_err(|e| format!("{}: {e}", pushes.display()))?;
    let lines: Vec<Vec<u8>> = text
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .map(<[u8]>::to_vec)
        .collect();
    let config = EmulatorConfig {
        bind: SocketAddr::from(([127, 0, 0, 1], port)),
        apps: vec![AppConfig::new(app_id.clone(), secret)],
        devices: 0,
        queue_limit: lines.len() + 1,
        max_connections: subscribers + 16,
        max_sessions: subscribers + 16,
        ..EmulatorConfig::default()
    };
    let emulator = Emulator::start(config).await.map_err(|e| e.report())?;
    println!("port {}", emulator.local_addr().port());
    tokio::time::timeout(
        Duration::from_secs(120),
        emulator.wait_for_subscribers(subscribers),
    )
    .await
    .map_err(|_| "subscribers did not arrive".to_owned())?;
    for line in lines {
        emulator.publish(&app_id, line).map_err(|e| e.report())?;
    }
    // Serve until the script kills us, or ten minutes at most.
    tokio::time::sleep(Duration::from_secs(600)).await;
    emulator.shutdown().await;
    Ok(())
}

struct Tally {
    delivered: AtomicU64,
    first: Mutex<Option<Instant>>,
    last: Mutex<Option<Instant>>,
}

async fn subscribe(
    port: u16,
    app_id: &str,
    secret: &str,
    subscribers: usize,
    expect: u64,
) -> Result<(), String> {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let tally = Arc::new(Tally {
        delivered: AtomicU64::new(0),
        first: Mutex::new(None),
        last: Mutex::new(None),
    });
    let mut streams = Vec::with_capacity(subscribers);
    for index in 0..subscribers {
        let client_id = format!("{app_id}/bench-{index}");
        streams.push(open(addr, &client_id, app_id, secret).await?);
    }
    println!("ready");
    let total = expect * subscribers as u64;
    let tasks: Vec<_> = streams
        .into_iter()
        .map(|(stream, buf)| tokio::spawn(count(stream, buf, expect, tally.clone())))
        .collect();
    let idle = Duration::from_secs(15);
    let mut seen = 0;
    loop {
        tokio::time::sleep(Duration::from_millis(50)).await;
        let now = tally.delivered.load(Ordering::Relaxed);
        let last = *tally.last.lock().map_err(|e| e.to_string())?;
        if now >= total || last.is_some_and(|t| t.elapsed() > idle) || (now == 0 && seen > 1200) {
            break;
        }
        seen += 1;
    }
    for task in tasks {
        task.abort();
    }
    let delivered = tally.delivered.load(Ordering::Relaxed);
    let first = *tally.first.lock().map_err(|e| e.to_string())?;
    let last = *tally.last.lock().map_err(|e| e.to_string())?;
    let seconds = match (first, last) {
        (Some(a), Some(b)) => b.duration_since(a).as_secs_f64(),
        _ => 0.0,
    };
    let rate = if seconds > 0.0 {
        delivered as f64 / seconds
    } else {
        0.0
    };
    println!(
        "{{\"subscribers\":{subscribers},\"expected\":{total},\"delivered\":{delivered},\
         \"seconds\":{seconds:.3},\"deliveries_per_second\":{rate:.0}}}"
    );
    if delivered < total {
        return Err(format!("only {delivered} of {total} deliveries"));
    }
    Ok(())
}

/// Connects and subscribes; returns the stream and whatever was read past the SUBACK.
async fn open(
    addr: SocketAddr,
    client_id: &str,
    user: &str,
    pass: &str,
) -> Result<(TcpStream, BytesMut), String> {
    let mut stream = TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
    let mut connect = Connect::new(client_id);
    connect.keep_alive = 600;
    connect.set_login(user, pass);
    let mut subscribe = Subscribe::new(format!("users/{user}/devices"), QoS::AtMostOnce);
    subscribe.pkid = 1;
    let mut out = BytesMut::new();
    for packet in [Packet::Connect(connect), Packet::Subscribe(subscribe)] {
        packet
            .write(&mut out, usize::MAX)
            .map_err(|e| e.to_string())?;
    }
    stream.write_all(&out).await.map_err(|e| e.to_string())?;
    let mut buf = BytesMut::new();
    loop {
        match Packet::read(&mut buf, 1 << 20) {
            Ok(Packet::SubAck(_)) => return Ok((stream, buf)),
            Ok(Packet::ConnAck(ack)) if ack.code as u8 != 0 => {
                return Err(format!("{client_id}: CONNACK {}", ack.code as u8));
            }
            Ok(_) => continue,
            Err(mqttbytes::Error::InsufficientBytes(_)) => {}
            Err(e) => return Err(e.to_string()),
        }
        if stream.read_buf(&mut buf).await.map_err(|e| e.to_string())? == 0 {
            return Err(format!("{client_id}: closed during handshake"));
        }
    }
}

/// Counts PUBLISH packets from their fixed headers only, until `expect` arrived.
async fn count(mut stream: TcpStream, mut buf: BytesMut, expect: u64, tally: Arc<Tally>) {
    buf.reserve(64 * 1024);
    let mut mine = 0;
    let mut first_pass = true;
    while mine < expect {
        if !std::mem::take(&mut first_pass) {
            match stream.read_buf(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
        let mut batch = 0;
        while let Ok(header) = mqttbytes::check(buf.iter(), 1 << 20) {
            let _ = buf.split_to(header.frame_length());
            if header.packet_type().ok() == Some(PacketType::Publish) {
                batch += 1;
            }
        }
        if batch > 0 {
            let now = Instant::now();
            if let Ok(mut first) = tally.first.lock() {
                first.get_or_insert(now);
            }
            if let Ok(mut last) = tally.last.lock() {
                *last = Some(now);
            }
            tally.delivered.fetch_add(batch, Ordering::Relaxed);
            mine += batch;
        }
    }
}
