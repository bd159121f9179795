//! Live replay input: a FIFO streamed line by line as the lines arrive, `--loop` refused
//! over a stream.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use rumqttc::mqttbytes::QoS;
use sensoro_mqtt::emulator::{Emulator, LogEvent, Replay};
use sensoro_mqtt::error::ExitKind;
use tokio::time::timeout;

use crate::harness::*;

fn mkfifo(dir: &Path) -> PathBuf {
    let path = dir.join("pushes.fifo");
    let status = std::process::Command::new("mkfifo")
        .arg(&path)
        .status()
        .expect("mkfifo runs");
    assert!(status.success(), "mkfifo failed");
    path
}

/// Opens the FIFO for writing (this waits for the emulator's reader to open it).
async fn open_writer(path: PathBuf) -> std::fs::File {
    timeout(
        WAIT,
        tokio::task::spawn_blocking(move || std::fs::OpenOptions::new().write(true).open(path)),
    )
    .await
    .expect("the emulator opened the FIFO in time")
    .expect("join")
    .expect("open FIFO for writing")
}

#[tokio::test]
async fn a_fifo_replay_publishes_each_line_as_it_arrives() {
    let dir = tempfile::tempdir().expect("temp dir");
    let fifo = mkfifo(dir.path());
    let mut cfg = config();
    cfg.interval = std::time::Duration::ZERO;
    cfg.replay = Some(Replay::File(fifo.clone()));
    let mut fixture = Fixture::start(cfg).await;
    let mut raw = Raw::connected(fixture.addr, &Login::new("foobar/live")).await;
    raw.subscribe(&[(&topic(APP), QoS::AtLeastOnce)]).await;
    let mut writer = open_writer(fifo).await;
    for n in 0..3 {
        let line = format!("{{\"appId\":\"foobar\",\"n\":{n}}}");
        writer
            .write_all(format!("{line}\n").as_bytes())
            .expect("write a line");
        writer.flush().expect("flush");
        // The writer is still open: the line must arrive now, not at the end.
        let got = receive(&mut raw, 1).await;
        assert_eq!(got[0].payload, line.as_bytes(), "line {n}");
    }
    drop(writer);
    fixture
        .expect_event("the end of the stream", |e| {
            matches!(e, LogEvent::ReplayFinished { published: 3 })
        })
        .await;
}

#[tokio::test]
async fn loop_over_a_stream_is_a_usage_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut cfg = config();
    cfg.replay = Some(Replay::File(mkfifo(dir.path())));
    cfg.loop_replay = true;
    let err = Emulator::start(cfg).await.expect_err("refused");
    assert_eq!(err.kind(), ExitKind::Usage);
    assert!(err.message().contains("--loop"), "{}", err.message());
}
