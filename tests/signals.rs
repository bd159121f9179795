//! Signals are obeyed at once (PRODUCT.md): Ctrl-C or SIGTERM ends listen quickly in every
//! state — waiting for a CONNACK that never comes, backing off after a lost connection,
//! with stdout blocked by a reader that stopped reading — with its summary and exit 0; and a
//! first connection that fails exits as soon as it fails.
//!
//! Each test measures from the signal (or the start) to the exit and asserts a generous
//! bound; the figures in the README come from `benches/signals.sh`.

mod common;

use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::broker::Broker;
use common::{Daemon, TestEnv, WAIT};

/// Generous for a debug build on a loaded machine; the old code needed 0.45 s to 10 s.
const BOUND: Duration = Duration::from_millis(400);

fn signal(child: &std::process::Child, name: &str) {
    let status = Command::new("kill")
        .args([&format!("-{name}"), &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success(), "kill -{name} failed");
}

/// Sends `name` and returns how long the exit took, its code and stderr.
fn signal_and_time(daemon: Daemon, name: &str) -> (Duration, i32, String) {
    let sent = Instant::now();
    signal(&daemon.child, name);
    let (code, stderr) = daemon.wait_exit(WAIT);
    (sent.elapsed(), code, stderr)
}

fn listen(env: &TestEnv, port: &str, rest: &[&str]) -> Command {
    let mut args = vec![
        "listen",
        "--host",
        "127.0.0.1",
        "--port",
        port,
        "--app-id",
        "foobar",
        "--format",
        "json",
    ];
    args.extend_from_slice(rest);
    let mut cmd = env.command(&args);
    cmd.stdout(Stdio::null());
    cmd
}

fn assert_quick_summary(took: Duration, code: i32, stderr: &str) {
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("pushes from"), "summary: {stderr}");
    assert!(took < BOUND, "took {took:?} after the signal\n{stderr}");
}

#[test]
fn a_signal_while_the_connack_never_comes_ends_listen_at_once() {
    for name in ["INT", "TERM"] {
        let silent = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = silent.local_addr().expect("addr").port().to_string();
        let env = TestEnv::new().env("SENSORO_APP_SECRET", "s");
        let daemon = Daemon::spawn(listen(&env, &port, &[]));
        // Readiness: listen's TCP connection arrived; its CONNECT will never be answered.
        let (_held, _) = silent.accept().expect("listen connects");
        let (took, code, stderr) = signal_and_time(daemon, name);
        assert_quick_summary(took, code, &stderr);
    }
}

#[test]
fn a_signal_while_backing_off_ends_listen_at_once() {
    let broker = Broker::quiet();
    let port = broker.port();
    let env = broker.env();
    let mut daemon = Daemon::spawn(listen(&env, &port, &[]));
    daemon.wait_for_line(|l| l.starts_with("subscribed to"), WAIT);
    drop(broker);
    daemon.wait_for_line(|l| l.contains("retrying in"), WAIT);
    let (took, code, stderr) = signal_and_time(daemon, "INT");
    assert_quick_summary(took, code, &stderr);
}

/// True when a thread of `pid` sleeps in a pipe write (Linux: /proc/PID/task/*/wchan).
fn blocked_on_a_pipe(pid: u32) -> bool {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return false;
    };
    tasks.filter_map(Result::ok).any(|task| {
        std::fs::read_to_string(task.path().join("wchan")).is_ok_and(|w| w.contains("pipe_write"))
    })
}

/// Starts listen at `qos` with stdout into a pipe nobody reads, publishes `count` pushes of
/// about `size` bytes, and returns once listen's output writer is blocked on the full pipe.
fn listen_into_a_full_pipe(
    broker: &Broker,
    env: &TestEnv,
    port: &str,
    qos: &str,
    count: usize,
    size: usize,
) -> Daemon {
    let mut cmd = listen(env, port, &["--qos", qos]);
    cmd.stdout(Stdio::piped());
    let mut daemon = Daemon::spawn(cmd);
    daemon.wait_for_line(|l| l.starts_with("subscribed to"), WAIT);
    let push = format!("{{\"sn\":\"S1\",\"data\":\"{}\"}}", "x".repeat(size));
    let pushes: Vec<&[u8]> = (0..count).map(|_| push.as_bytes()).collect();
    broker.publish_when_subscribed(&pushes);
    let pid = daemon.child.id();
    let started = Instant::now();
    while !blocked_on_a_pipe(pid) {
        assert!(started.elapsed() < WAIT, "stdout never blocked");
        std::thread::sleep(Duration::from_millis(10));
    }
    daemon
}

#[test]
fn a_signal_with_stdout_blocked_by_a_reader_that_stopped_ends_listen_at_once() {
    for name in ["INT", "TERM"] {
        let broker = Broker::quiet();
        let port = broker.port();
        let env = broker.env();
        let daemon = listen_into_a_full_pipe(&broker, &env, &port, "1", 2000, 400);
        let (took, code, stderr) = signal_and_time(daemon, name);
        assert_quick_summary(took, code, &stderr);
    }
}

#[test]
fn a_first_connection_refused_exits_3_at_once() {
    let port = {
        let probe = TcpListener::bind("127.0.0.1:0").expect("bind");
        probe.local_addr().expect("addr").port().to_string()
    };
    let env = TestEnv::new().env("SENSORO_APP_SECRET", "s");
    let started = Instant::now();
    let daemon = Daemon::spawn(listen(&env, &port, &[]));
    let (code, stderr) = daemon.wait_exit(WAIT);
    let took = started.elapsed();
    assert_eq!(code, 3, "{stderr}");
    assert!(stderr.contains("connection refused"), "{stderr}");
    assert!(
        took < BOUND,
        "took {took:?}: the first retry is not waited for\n{stderr}"
    );
}

/// Peak resident memory of `pid` in KiB (Linux: VmHWM in /proc/PID/status).
fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM")
}

#[test]
fn a_reader_that_stopped_keeps_listen_memory_bounded_while_pushes_pour_in() {
    let broker = Broker::quiet();
    let port = broker.port();
    let env = broker.env();
    // 40 MB of pushes against a 64 KiB pipe nobody reads.
    let daemon = listen_into_a_full_pipe(&broker, &env, &port, "0", 40_000, 1000);
    let peak = peak_rss_kib(daemon.child.id());
    eprintln!("peak RSS with the output blocked: {peak} KiB");
    assert!(
        peak < 24 * 1024,
        "listen grew to {peak} KiB with its output blocked"
    );
    let (took, code, stderr) = signal_and_time(daemon, "INT");
    assert_quick_summary(took, code, &stderr);
}
