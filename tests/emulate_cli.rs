//! `sensoro-mqtt emulate`, the command: the binary started on a free loopback port, with
//! Eclipse Mosquitto's `mosquitto_sub` and this project's `listen` as its clients.
//!
//! Needs `mosquitto_sub` for some tests (Debian: `mosquitto-clients`); they fail under
//! `CI=true` when it is missing and are skipped loudly otherwise.

mod common;

use std::net::TcpListener;

use common::{interrupt, require_tool, Emulate, TestEnv, WAIT};
use serde_json::Value;

const KEY: &str = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";

fn secret_env(secret: &str) -> TestEnv {
    TestEnv::new().env("SENSORO_APP_SECRET", secret)
}

#[test]
fn mosquitto_sub_with_the_right_credentials_receives_realistic_pushes() {
    if !require_tool("mosquitto_sub", "mosquitto-clients") {
        return;
    }
    let env = TestEnv::new();
    let mut emulate = Emulate::start(
        &env,
        &[
            "--app-id",
            "demo",
            "--app-secret",
            "demo-secret",
            "--interval",
            "100ms",
            "--devices",
            "4",
        ],
    );
    let run = emulate.mosquitto_sub(
        "demo",
        "demo-secret",
        "demo/sub-1",
        &["-t", "users/demo/devices", "-C", "8"],
    );
    run.code(0);
    let pushes = run.json_lines();
    assert_eq!(pushes.len(), 8);
    for push in &pushes {
        assert_eq!(push["appId"], "demo", "{push}");
        assert!(push["sn"].as_str().is_some_and(|s| !s.is_empty()), "{push}");
        assert!(push["deviceType"].is_string(), "{push}");
        assert!(push["createdTime"].is_number(), "{push}");
        assert!(push["data"].is_object(), "{push}");
    }
    let devices: std::collections::HashSet<&str> =
        pushes.iter().filter_map(|p| p["sn"].as_str()).collect();
    assert!(
        devices.len() > 1,
        "pushes from several devices: {devices:?}"
    );
    emulate.daemon.wait_for_line(
        |l| l.contains("subscribe granted: 'demo/sub-1' to users/demo/devices at QoS"),
        WAIT,
    );
}

#[test]
fn wrong_credentials_are_refused_as_not_authorised_and_logged_without_the_password() {
    if !require_tool("mosquitto_sub", "mosquitto-clients") {
        return;
    }
    let env = TestEnv::new();
    let mut emulate = Emulate::start(&env, &["--app-id", "demo", "--app-secret", "demo-secret"]);
    let run = emulate.mosquitto_sub(
        "demo",
        "Wrong-Passw0rd",
        "demo/sub-2",
        &["-t", "users/demo/devices", "-C", "1"],
    );
    assert_ne!(run.code, 0, "refused: {}", run.stderr);
    assert!(
        run.stderr.to_lowercase().contains("not authori"),
        "mosquitto_sub says why: {}",
        run.stderr
    );
    let line = emulate
        .daemon
        .wait_for_line(|l| l.contains("connect refused (CONNACK 5)"), WAIT);
    assert!(line.contains("demo/sub-2"), "{line}");
    assert!(
        !emulate.daemon.seen.join("\n").contains("Wrong-Passw0rd"),
        "{:?}",
        emulate.daemon.seen
    );
}

#[test]
fn without_apps_the_demo_app_is_served_and_ctrl_c_stops_with_a_summary() {
    let env = secret_env("demo-secret");
    let mut emulate = Emulate::start(&env, &["--interval", "100ms"]);
    emulate
        .daemon
        .wait_for_line(|l| l.contains("serving the demo app"), WAIT);
    let run = emulate.listen(&env, "demo", &["--count", "2", "--format", "json"]);
    run.code(0);
    assert_eq!(run.json_lines().len(), 2);
    interrupt(&emulate.daemon.child);
    let (code, stderr) = emulate.daemon.wait_exit(WAIT);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("stopped: "), "{stderr}");
    assert!(stderr.contains(" pushes published, "), "{stderr}");
    assert!(stderr.contains("connect accepted: 'demo/"), "{stderr}");
}

#[test]
fn safe_mode_pushes_carry_encrypt_data_that_listen_decrypts() {
    let env = secret_env("s3cret");
    let emulate = Emulate::start(
        &env,
        &[
            "--app",
            &format!("foobar:s3cret:{KEY}"),
            "--safe-mode",
            "--interval",
            "100ms",
            "--devices",
            "2",
        ],
    );
    let raw = emulate.listen(&env, "foobar", &["--count", "2", "--format", "raw"]);
    raw.code(0);
    for line in raw.stdout.lines() {
        let push: Value = serde_json::from_str(line).expect("raw push is JSON");
        assert!(push["encryptData"].is_string(), "{push}");
        assert!(push.get("data").is_none(), "{push}");
    }
    let plain = emulate.listen(
        &env,
        "foobar",
        &["--count", "2", "--format", "json", "--app-key", KEY],
    );
    plain.code(0);
    for push in plain.json_lines() {
        assert!(push["data"].is_object(), "decrypted in place: {push}");
        assert!(push.get("encryptData").is_none(), "{push}");
    }
}

#[test]
fn a_replay_from_stdin_is_published_in_order_to_its_app_only() {
    let env = secret_env("s1");
    let replay: String = (0..5)
        .map(|i| format!("{{\"appId\":\"one\",\"sn\":\"R{i}\",\"data\":{{\"n\":{i}}}}}\n"))
        .collect();
    let emulate = Emulate::start_with_stdin(
        &env,
        &[
            "--app",
            "one:s1",
            "--app",
            "two:s2",
            "--replay",
            "-",
            "--interval",
            "50ms",
        ],
        Some(replay.as_bytes()),
    );
    let run = emulate.listen(&env, "one", &["--count", "5", "--format", "json"]);
    run.code(0);
    let sns: Vec<String> = run
        .json_lines()
        .iter()
        .map(|p| p["sn"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(sns, ["R0", "R1", "R2", "R3", "R4"]);
}

#[test]
fn drop_after_closes_each_connection_and_listen_reconnects() {
    let env = secret_env("s1");
    let emulate = Emulate::start(
        &env,
        &[
            "--app-id",
            "one",
            "--app-secret",
            "s1",
            "--drop-after",
            "3",
            "--interval",
            "50ms",
        ],
    );
    let run = emulate.listen(&env, "one", &["--count", "5", "--format", "json"]);
    run.code(0).stderr_contains("connection lost");
    assert_eq!(run.json_lines().len(), 5);
    assert!(!run.stderr.contains(" 0 reconnects"), "{}", run.stderr);
}

#[test]
fn bad_settings_exit_with_their_documented_codes() {
    let env = TestEnv::new();
    env.run(&["emulate", "--port", "0", "--app", "a:s", "--safe-mode"])
        .code(6)
        .stderr_contains("safe mode needs an AppKey for app 'a'");
    env.run(&["emulate", "--port", "0", "--app", "nosecret"])
        .code(2)
        .stderr_contains("ID:SECRET");
    env.run(&["emulate", "--max-qos", "2"]).code(2);
    env.run(&[
        "emulate",
        "--port",
        "0",
        "--replay",
        "/nonexistent/pushes.ndjson",
    ])
    .code(6)
    .stderr_contains("/nonexistent/pushes.ndjson");
    let taken = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = taken.local_addr().expect("addr").port().to_string();
    env.run(&["emulate", "--port", &port])
        .code(3)
        .stderr_contains("cannot listen on 127.0.0.1:");
}

/// Issue 11: the AppSecret and AppKey of `--app-id` come from the environment too, so no
/// secret is needed on the command line.
#[test]
fn emulate_takes_the_app_secret_and_key_from_the_environment() {
    let env = TestEnv::new()
        .env("SENSORO_APP_SECRET", "env-secret-1")
        .env("SENSORO_APP_KEY", KEY);
    let emulate = Emulate::start(
        &env,
        &[
            "--app-id",
            "envapp",
            "--safe-mode",
            "--interval",
            "100ms",
            "--devices",
            "2",
        ],
    );
    let listener = TestEnv::new()
        .env("SENSORO_APP_SECRET", "env-secret-1")
        .env("SENSORO_APP_KEY", KEY);
    let run = emulate.listen(&listener, "envapp", &["--count", "1", "--format", "json"]);
    run.code(0);
    let pushes = run.json_lines();
    assert_eq!(pushes[0]["appId"], "envapp", "{}", run.stdout);
    assert!(pushes[0]["data"].is_object(), "decrypted: {}", run.stdout);

    // No secret anywhere for --app-id: a usage error naming both places.
    TestEnv::new()
        .run(&["emulate", "--port", "0", "--app-id", "x"])
        .code(2)
        .stderr_contains("--app-secret")
        .stderr_contains("SENSORO_APP_SECRET");
}

#[test]
fn replay_from_stdin_publishes_each_line_before_stdin_closes() {
    if !require_tool("mosquitto_sub", "mosquitto-clients") {
        return;
    }
    let env = TestEnv::new();
    let (mut emulate, mut stdin) = Emulate::start_live(
        &env,
        &[
            "--app-id",
            "demo",
            "--app-secret",
            "demo-secret",
            "--replay",
            "-",
            "--interval",
            "0",
        ],
    );
    let port = emulate.port.clone();
    let sub = std::thread::spawn(move || {
        std::process::Command::new("mosquitto_sub")
            .args([
                "-h",
                "127.0.0.1",
                "-p",
                &port,
                "-u",
                "demo",
                "-P",
                "demo-secret",
            ])
            .args([
                "-i",
                "demo/live",
                "-t",
                "users/demo/devices",
                "-C",
                "1",
                "-W",
                "15",
            ])
            .stdin(std::process::Stdio::null())
            .output()
            .expect("mosquitto_sub runs")
    });
    emulate
        .daemon
        .wait_for_line(|l| l.contains("subscribe granted: 'demo/live'"), WAIT);
    let line = r#"{"appId":"demo","sn":"0117C9LIVE","type":"text","data":{"battery":80}}"#;
    use std::io::Write as _;
    writeln!(stdin, "{line}").expect("write a line");
    stdin.flush().expect("flush");
    let output = sub.join().expect("mosquitto_sub thread");
    assert!(
        output.status.success(),
        "the line arrived while stdin was open: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&output.stdout).trim_end(), line);
    drop(stdin);
    emulate
        .daemon
        .wait_for_line(|l| l.contains("replay finished: 1 line(s) published"), WAIT);
}

/// The peak resident memory of `pid` in KiB, from /proc.
fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("/proc status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .expect("VmHWM in /proc status")
}

#[cfg(target_os = "linux")]
#[test]
fn replay_of_dev_zero_keeps_memory_bounded() {
    let env = TestEnv::new();
    let mut emulate = Emulate::start(
        &env,
        &[
            "--app-id",
            "demo",
            "--app-secret",
            "demo-secret",
            "--replay",
            "/dev/zero",
        ],
    );
    emulate.daemon.wait_for_line(
        |l| l.contains("replay line 1 skipped: longer than the 1024 KiB line limit"),
        WAIT,
    );
    // The reader goes on discarding /dev/zero (GB/s): give it time to show any growth.
    std::thread::sleep(std::time::Duration::from_millis(500));
    let peak = peak_rss_kib(emulate.daemon.child.id());
    assert!(peak < 100 * 1024, "peak RSS {peak} KiB");
}

#[test]
fn mosquitto_pub_injects_a_push_through_a_publisher_that_listen_receives() {
    if !require_tool("mosquitto_pub", "mosquitto-clients") {
        return;
    }
    let env = secret_env("demo-secret");
    let mut emulate = Emulate::start(
        &env,
        &[
            "--app-id",
            "demo",
            "--devices",
            "0",
            "--publisher",
            "demo:inject-secret",
        ],
    );
    let port = emulate.port.clone();
    let listen = {
        let env_args = ["--count", "1", "--format", "json"];
        let emulate_port = port.clone();
        let env = secret_env("demo-secret");
        std::thread::spawn(move || {
            let run = env.run(&[
                "listen",
                "--host",
                "127.0.0.1",
                "--port",
                &emulate_port,
                "--app-id",
                "demo",
                "--timeout",
                "15s",
                env_args[0],
                env_args[1],
                env_args[2],
                env_args[3],
            ]);
            (run.code, run.stdout)
        })
    };
    emulate
        .daemon
        .wait_for_line(|l| l.contains("subscribe granted: 'demo/"), WAIT);
    let push = r#"{"appId":"demo","sn":"0117C9PUB","type":"text","data":{"battery":42}}"#;
    let output = std::process::Command::new("mosquitto_pub")
        .args([
            "-h",
            "127.0.0.1",
            "-p",
            &port,
            "-u",
            "demo",
            "-P",
            "inject-secret",
        ])
        .args([
            "-i",
            "demo/injector",
            "-t",
            "users/demo/devices",
            "-m",
            push,
        ])
        .stdin(std::process::Stdio::null())
        .output()
        .expect("mosquitto_pub runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let (code, stdout) = listen.join().expect("listen thread");
    assert_eq!(code, 0, "listen: {stdout}");
    let got: Value = serde_json::from_str(stdout.trim()).expect("one JSON push");
    assert_eq!(got["sn"], "0117C9PUB", "{got}");
    assert_eq!(got["data"]["battery"], 42, "{got}");
    assert!(
        !emulate.daemon.seen.join("\n").contains("inject-secret"),
        "the publisher's secret is never logged"
    );
}

#[test]
fn webhook_receives_every_simulated_push_signed_without_any_mqtt_client() {
    let receiver = common::receiver::Receiver::start("demo", "demo-secret");
    let env = secret_env("demo-secret");
    let url = receiver.url();
    let _emulate = Emulate::start(
        &env,
        &[
            "--app-id",
            "demo",
            "--devices",
            "2",
            "--interval",
            "50ms",
            "--webhook",
            &url,
        ],
    );
    let deadline = std::time::Instant::now() + WAIT;
    while receiver.with(|s| s.accepted.len()) < 4 {
        assert!(std::time::Instant::now() < deadline, "pushes never arrived");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    receiver.with(|s| {
        assert_eq!(s.bad_signatures, 0, "every push signed with the AppSecret");
        for body in &s.accepted {
            let push: Value = serde_json::from_str(body).expect("JSON push");
            assert_eq!(push["appId"], "demo", "{push}");
            assert!(push["data"].is_object(), "{push}");
        }
    });
}
