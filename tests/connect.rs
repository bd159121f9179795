//! `connect` end to end: the report (human and `--json`) for success, refusal, a closed port,
//! a silent peer and a foreign topic; local checks without network; `--save`; and TLS, for
//! `connect` and `listen`, through a TLS terminator in front of the emulator.

mod common;

use std::net::TcpListener;

use common::servers::{other_ca, TlsFront};
use common::{Emulate, Run, TestEnv};
use serde_json::Value;

const SECRET: &str = "s3cret-value";

/// An emulator serving app `foobar` and an environment holding its secret.
fn emulator() -> (TestEnv, Emulate) {
    let env = TestEnv::new().env("SENSORO_APP_SECRET", SECRET);
    let emulate = Emulate::start(&env, &["--app", &format!("foobar:{SECRET}")]);
    (env, emulate)
}

fn connect(env: &TestEnv, host: &str, port: &str, rest: &[&str]) -> Run {
    let mut args = vec![
        "connect", "--host", host, "--port", port, "--app-id", "foobar",
    ];
    args.extend_from_slice(rest);
    env.run(&args)
}

fn json(run: &Run) -> Value {
    serde_json::from_str(run.stdout.trim_end())
        .unwrap_or_else(|e| panic!("not one JSON object: {e}\n{}\n{}", run.stdout, run.stderr))
}

fn statuses(report: &Value) -> Vec<(String, String)> {
    report["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .map(|s| {
            (
                s["step"].as_str().unwrap_or_default().to_owned(),
                s["status"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
        .collect()
}

/// A free port that nothing listens on.
fn closed_port() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr").port().to_string()
}

#[test]
fn a_working_connection_is_reported_step_by_step() {
    let (env, emulate) = emulator();
    let run = connect(&env, "127.0.0.1", &emulate.port, &[]);
    run.code(0);
    for needle in [
        "✓ local checks",
        "✓ DNS",
        "✓ TCP",
        "– TLS",
        "✓ CONNECT",
        "CONNACK 0 accepted as foobar/",
        "✓ SUBSCRIBE",
        "users/foobar/devices: granted QoS 1",
        "✓ DISCONNECT",
        "OK: connected, subscribed at QoS 1",
        "AppSecret ••••alue ($SENSORO_APP_SECRET)",
    ] {
        run.stdout_contains(needle);
    }
    assert!(!run.stdout.contains(SECRET) && !run.stderr.contains(SECRET));
    assert!(run.stderr.is_empty(), "stderr: {}", run.stderr);
}

#[test]
fn the_json_report_has_every_step_with_timings() {
    let (env, emulate) = emulator();
    let run = connect(&env, "localhost", &emulate.port, &["--json", "--qos", "0"]);
    run.code(0);
    let report = json(&run);
    assert_eq!(report["ok"], true);
    assert_eq!(
        statuses(&report),
        pairs(&[
            ("local", "ok"),
            ("dns", "ok"),
            ("tcp", "ok"),
            ("tls", "skipped"),
            ("connect", "ok"),
            ("subscribe", "ok"),
            ("disconnect", "ok"),
        ])
    );
    assert_eq!(report["connack"]["code"], 0);
    assert_eq!(report["granted_qos"], 0);
    assert!(report["steps"][1]["detail"]
        .as_str()
        .is_some_and(|d| d.starts_with("localhost → ")));
    assert!(report["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .all(|s| s["ms"].as_f64().is_some_and(|ms| ms >= 0.0)));
    assert!(report["failure"].is_null());
}

#[test]
fn a_wrong_secret_is_refused_with_the_code_in_words_and_what_passed() {
    let (env, emulate) = emulator();
    let env = env.env("SENSORO_APP_SECRET", "Wrong-Secret-99");
    let run = connect(&env, "127.0.0.1", &emulate.port, &[]);
    run.code(4)
        .stdout_contains("✗ CONNECT")
        .stdout_contains("refused: CONNACK 5 (not authorized)")
        .stdout_contains("FAILED at CONNECT (exit 4)")
        .stdout_contains("passed locally: the clientId foobar/")
        .stdout_contains("the AppSecret ••••t-99 (from $SENSORO_APP_SECRET)")
        .stdout_contains("– SUBSCRIBE");
    assert!(!run.stdout.contains("Wrong-Secret-99") && !run.stderr.contains("Wrong-Secret-99"));
    assert!(
        !run.stderr.contains("CONNACK"),
        "said twice: {}",
        run.stderr
    );

    let run = connect(&env, "127.0.0.1", &emulate.port, &["--json"]);
    run.code(4).stderr_contains("connection check failed");
    let report = json(&run);
    assert_eq!(report["ok"], false);
    assert_eq!(report["connack"]["code"], 5);
    assert_eq!(report["connack"]["meaning"], "not authorized");
    assert_eq!(report["failure"]["exit_code"], 4);
    assert_eq!(report["steps"][4]["status"], "failed");
    assert_eq!(report["steps"][5]["status"], "skipped");
}

#[test]
fn a_closed_port_fails_at_tcp_with_exit_3() {
    let env = TestEnv::new().env("SENSORO_APP_SECRET", SECRET);
    let port = closed_port();
    let run = connect(&env, "127.0.0.1", &port, &[]);
    run.code(3)
        .stdout_contains("✗ TCP")
        .stdout_contains("nothing listens on port")
        .stdout_contains("FAILED at TCP (exit 3)");
    let report = json(&connect(&env, "127.0.0.1", &port, &["--json"]));
    assert_eq!(report["steps"][2]["status"], "failed");
    assert_eq!(report["failure"]["exit_code"], 3);
}

#[test]
fn a_peer_that_never_answers_times_out_at_connect() {
    let env = TestEnv::new().env("SENSORO_APP_SECRET", SECRET);
    let silent = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = silent.local_addr().expect("addr").port().to_string();
    let started = std::time::Instant::now();
    let run = connect(&env, "127.0.0.1", &port, &["--timeout", "700ms", "--json"]);
    run.code(3);
    assert!(started.elapsed() < std::time::Duration::from_secs(15));
    let report = json(&run);
    assert_eq!(
        report["steps"][2]["status"], "ok",
        "TCP is accepted by the backlog"
    );
    assert_eq!(report["steps"][4]["status"], "failed");
    let detail = report["steps"][4]["detail"].as_str().unwrap_or_default();
    assert!(detail.contains("timed out"), "{detail}");
    let why = report["failure"]["explanation"][0]
        .as_str()
        .unwrap_or_default();
    assert!(why.contains("no CONNACK"), "{why}");
    drop(silent);
}

#[test]
fn a_foreign_topic_is_refused_at_subscribe() {
    let (env, emulate) = emulator();
    let run = connect(
        &env,
        "127.0.0.1",
        &emulate.port,
        &["--topic", "users/other/devices"],
    );
    run.code(4)
        .stdout_contains("✗ SUBSCRIBE")
        .stdout_contains("SUBACK 0x80")
        .stdout_contains("only to its own app's topic users/foobar/devices");
}

#[test]
fn local_check_failures_stop_before_any_network_io() {
    let env = TestEnv::new().env("SENSORO_APP_SECRET", SECRET);
    let watcher = TcpListener::bind("127.0.0.1:0").expect("bind");
    watcher.set_nonblocking(true).expect("nonblocking");
    let port = watcher.local_addr().expect("addr").port().to_string();
    let run = connect(&env, "127.0.0.1", &port, &["--client-id", "foobar/a.b"]);
    run.code(6)
        .stdout_contains("✗ local checks")
        .stdout_contains("character '.' at position 9")
        .stdout_contains("try --client-id foobar/a-b")
        .stdout_contains("– DNS");
    let no_secret = TestEnv::new();
    let run = connect(&no_secret, "127.0.0.1", &port, &["--json"]);
    run.code(6).stderr_contains("no AppSecret given");
    let report = json(&run);
    assert_eq!(report["steps"][0]["status"], "failed");
    assert_eq!(report["failure"]["exit_code"], 6);
    assert!(
        watcher.accept().is_err(),
        "a connection was made despite failed local checks"
    );
}

#[test]
fn save_stores_the_profile_only_after_success() {
    let (env, emulate) = emulator();
    connect(&env, "127.0.0.1", &closed_port(), &["--save", "work"]).code(3);
    assert!(!env.config_path().exists(), "saved after a failure");

    connect(
        &env,
        "127.0.0.1",
        &emulate.port,
        &[
            "--save",
            "work",
            "--client-id",
            "foobar/desk-1",
            "--qos",
            "0",
        ],
    )
    .code(0)
    .stderr_contains("saved profile 'work' (default)");
    let shown = env.run(&["profile", "show", "work", "--json", "--show-secrets"]);
    shown.code(0);
    let profile: Value = serde_json::from_str(&shown.stdout).expect("json");
    assert_eq!(profile["app_id"], "foobar");
    assert_eq!(profile["app_secret"], SECRET);
    assert_eq!(profile["host"], "127.0.0.1");
    assert_eq!(profile["port"].to_string(), emulate.port);
    assert_eq!(profile["client_suffix"], "desk-1");
    assert_eq!(profile["qos"], 0);

    // An existing name is refused before the check, unless --force.
    connect(&env, "127.0.0.1", &emulate.port, &["--save", "work"])
        .code(6)
        .stderr_contains("profile 'work' already exists");
    connect(
        &env,
        "127.0.0.1",
        &emulate.port,
        &["--save", "work", "--force"],
    )
    .code(0);
    // The saved profile is enough on its own.
    TestEnv::new()
        .env(
            "SENSORO_MQTT_CONFIG",
            &env.config_path().display().to_string(),
        )
        .run(&["connect", "--profile", "work", "--json"])
        .code(0);
}

#[test]
fn on_a_terminal_the_report_is_coloured() {
    let (env, emulate) = emulator();
    let screen = env.run_on_terminal(
        &[
            "connect",
            "--host",
            "127.0.0.1",
            "--port",
            &emulate.port,
            "--app-id",
            "foobar",
        ],
        false,
    );
    assert!(screen.contains("\u{1b}[32m✓"), "{screen}");
    assert!(screen.contains("OK"), "{screen}");
}

#[test]
fn tls_with_the_right_ca_passes_and_reports_the_handshake() {
    let (env, emulate) = emulator();
    let front = TlsFront::start(&emulate.port);
    let ca = front.ca_file.display().to_string();
    let run = connect(&env, "localhost", &front.port, &["--tls", "--ca-file", &ca]);
    run.code(0)
        .stdout_contains("(TLS)")
        .stdout_contains("✓ TLS")
        .stdout_contains("certificate for localhost verified against")
        .stdout_contains("ca.pem (1 certificate)")
        .stdout_contains("✓ SUBSCRIBE");
}

#[test]
fn tls_failures_say_what_is_wrong_with_the_certificate() {
    let (env, emulate) = emulator();
    let front = TlsFront::start(&emulate.port);
    let other = TlsFront::start(&emulate.port);
    let wrong_ca = other.ca_file.display().to_string();
    connect(&env, "localhost", &front.port, &["--ca-file", &wrong_ca])
        .code(3)
        .stdout_contains("✗ TLS")
        .stdout_contains("not signed by")
        .stdout_contains("--ca-file");
    let right_ca = front.ca_file.display().to_string();
    connect(&env, "127.0.0.1", &front.port, &["--ca-file", &right_ca])
        .code(3)
        .stdout_contains("✗ TLS")
        .stdout_contains("the certificate is not for '127.0.0.1'");
    // TLS spoken to a plain MQTT port.
    connect(&env, "localhost", &emulate.port, &["--ca-file", &right_ca])
        .code(3)
        .stdout_contains("✗ TLS")
        .stdout_contains("TLS port");
}

#[test]
fn listen_receives_pushes_over_tls() {
    let (env, emulate) = emulator();
    let front = TlsFront::start(&emulate.port);
    let listen_tls = |ca: &str, rest: &[&str]| {
        let mut args = vec![
            "listen",
            "--host",
            "localhost",
            "--port",
            &front.port,
            "--app-id",
            "foobar",
            "--tls",
            "--ca-file",
            ca,
            "--timeout",
            "20s",
        ];
        args.extend_from_slice(rest);
        env.run(&args)
    };
    let run = listen_tls(
        &front.ca_file.display().to_string(),
        &["--count", "3", "--format", "json"],
    );
    run.code(0);
    let pushes = run.json_lines();
    assert_eq!(pushes.len(), 3);
    assert!(pushes.iter().all(|p| p["appId"] == "foobar"), "{pushes:?}");
    // With a CA that did not issue the certificate the first connection fails: exit 3, like
    // mosquitto_sub.
    listen_tls(&other_ca(&front), &["--count", "1"])
        .code(3)
        .stderr_contains("cannot connect");
}
