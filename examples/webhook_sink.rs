//! A fast keep-alive webhook receiver for `benches/relay_vs_pipeline.sh`; not part of the tool.
//!
//! Answers every HTTP/1.1 POST with `200` and an empty body, on as many kept-alive
//! connections as the client opens, and writes how many pushes it accepted to a file every
//! 20 ms. It checks nothing heavy (no signature): it exists so that the bench measures the
//! relay, not a slow receiver.
//!
//!   webhook_sink PORT COUNT_FILE

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};

const OK: &[u8] = b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n";

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let (Some(port), Some(out)) = (args.next(), args.next()) else {
        eprintln!("usage: webhook_sink PORT COUNT_FILE");
        std::process::exit(2);
    };
    let port: u16 = port
        .parse()
        .map_err(|_| std::io::Error::other("bad port"))?;
    let listener = TcpListener::bind(("127.0.0.1", port)).await?;
    let count = Arc::new(AtomicU64::new(0));
    let counted = Arc::clone(&count);
    tokio::spawn(async move {
        let mut last = u64::MAX;
        loop {
            let now = counted.load(Ordering::Relaxed);
            if now != last {
                let _ = std::fs::write(&out, now.to_string());
                last = now;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    });
    loop {
        let (stream, _) = listener.accept().await?;
        let _ = stream.set_nodelay(true);
        tokio::spawn(serve(stream, Arc::clone(&count)));
    }
}

/// Serves one connection until the client closes it or sends something unreadable.
async fn serve(mut stream: TcpStream, count: Arc<AtomicU64>) {
    let mut buf: Vec<u8> = Vec::with_capacity(16 * 1024);
    loop {
        // Answer every complete request in the buffer, then read more.
        while let Some(end) = request_end(&buf) {
            buf.drain(..end);
            count.fetch_add(1, Ordering::Relaxed);
            if stream.write_all(OK).await.is_err() {
                return;
            }
        }
        match stream.read_buf(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
    }
}

/// Where the first complete request (head and `content-length` body) ends, if it is in.
fn request_end(buf: &[u8]) -> Option<usize> {
    let head = buf.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
    let length = std::str::from_utf8(&buf[..head])
        .ok()?
        .lines()
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse::<usize>().ok())
                .flatten()
        })
        .unwrap_or(0);
    (buf.len() >= head + length).then_some(head + length)
}
