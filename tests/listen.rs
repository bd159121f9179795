//! listen end to end against the in-process emulator: output formats, counting, filters,
//! safe mode, refusals, reconnects, signals and closed pipes.

mod common;

use std::io::{BufRead as _, BufReader};
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::broker::{finish, spawn, Broker};
use common::TestEnv;
use sensoro_mqtt::crypto::{AppKey, SafeModeCodec};
use sensoro_mqtt::emulator::{AppConfig, EmulatorConfig, QoS};

const KEY: &str = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";

#[test]
fn json_output_is_one_push_per_line_and_count_stops_with_exit_0() {
    let broker = Broker::devices(4);
    let run = broker.env().run(&[
        "listen",
        "--format",
        "json",
        "--count",
        "3",
        "--timeout",
        "20s",
    ]);
    run.code(0)
        .stderr_contains("subscribed to users/foobar/devices with QoS 1")
        .stderr_contains("3 pushes from");
    let lines = run.json_lines();
    assert_eq!(lines.len(), 3);
    for push in &lines {
        assert_eq!(push["appId"], "foobar", "{push}");
        assert!(push["sn"].is_string() && push["data"].is_object(), "{push}");
    }
}

#[test]
fn piped_output_defaults_to_json() {
    let broker = Broker::devices(1);
    let run = broker
        .env()
        .run(&["listen", "--count", "1", "--timeout", "20s"]);
    run.code(0);
    assert_eq!(run.json_lines().len(), 1);
}

#[test]
fn the_granted_qos_is_reported_when_the_broker_lowers_it() {
    let broker = Broker::start(EmulatorConfig {
        devices: 1,
        interval: Duration::from_millis(100),
        max_qos: QoS::AtMostOnce,
        ..EmulatorConfig::default()
    });
    broker
        .env()
        .run(&["listen", "--count", "1", "--timeout", "20s"])
        .code(0)
        .stderr_contains("with QoS 0 (asked for 1; the broker lowered it)");
}

#[test]
fn a_wrong_secret_exits_4_at_once_with_the_code_in_words() {
    let broker = Broker::devices(1);
    let started = Instant::now();
    broker
        .env()
        .env("SENSORO_APP_SECRET", "wrong")
        .run(&["listen", "--timeout", "30s"])
        .code(4)
        .stdout_is("")
        .stderr_contains("CONNACK 5 (not authorized)")
        .stderr_contains("hint: ");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "refusal was retried: {:?}",
        started.elapsed()
    );
}

#[test]
fn an_invalid_client_id_exits_6_without_touching_the_network() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.set_nonblocking(true).expect("nonblocking");
    let port = listener.local_addr().expect("addr").port().to_string();
    TestEnv::new()
        .env("SENSORO_APP_SECRET", "s")
        .run(&[
            "listen",
            "--host",
            "127.0.0.1",
            "--port",
            &port,
            "--app-id",
            "foobar",
            "--client-id",
            "foobar/a.b",
            "--timeout",
            "5s",
        ])
        .code(6)
        .stderr_contains("character '.' at position 9")
        .stderr_contains("try --client-id foobar/a-b");
    assert!(
        listener.accept().is_err(),
        "listen connected although the clientId was invalid"
    );
}

#[test]
fn a_foreign_topic_is_refused_with_exit_4() {
    let broker = Broker::devices(1);
    broker
        .env()
        .run(&[
            "listen",
            "--topic",
            "users/other/devices",
            "--timeout",
            "20s",
        ])
        .code(4)
        .stderr_contains("refused the subscription to users/other/devices");
}

#[test]
fn nothing_listening_is_a_network_failure_exit_3() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("addr").port().to_string()
    };
    TestEnv::new()
        .env("SENSORO_APP_SECRET", "s")
        .run(&[
            "listen",
            "--host",
            "127.0.0.1",
            "--port",
            &port,
            "--app-id",
            "foobar",
            "--timeout",
            "20s",
        ])
        .code(3)
        .stderr_contains("cannot connect to 127.0.0.1");
}

#[test]
fn timeout_before_count_exits_124_and_without_count_exits_0() {
    let broker = Broker::quiet();
    broker
        .env()
        .run(&["listen", "--count", "1", "--timeout", "500ms"])
        .code(124)
        .stderr_contains("timed out after 0 pushes");
    broker
        .env()
        .run(&["listen", "--timeout", "500ms"])
        .code(0)
        .stdout_is("");
}

#[test]
fn garbage_payloads_still_give_valid_json_lines_and_raw_is_exact() {
    let broker = Broker::quiet();
    let run = broker.listen_while_publishing(
        &broker.env(),
        &["--format", "json", "--count", "2", "--timeout", "20s"],
        &[b"not json \x01\xff", b"[1,2]"],
    );
    run.code(0);
    let lines = run.json_lines();
    assert!(
        lines[0]["error"]
            .as_str()
            .is_some_and(|e| e.contains("not JSON")),
        "{}",
        lines[0]
    );
    assert_eq!(
        lines[0]["raw_base64"], "bm90IGpzb24gAf8=",
        "bytes that are not UTF-8 go as base64"
    );
    assert!(lines[0].get("raw").is_none(), "{}", lines[0]);
    assert_eq!(lines[1]["raw"], "[1,2]");
    assert!(
        lines[1]["error"]
            .as_str()
            .is_some_and(|e| e.contains("array")),
        "{}",
        lines[1]
    );

    let child = spawn(
        &broker.env(),
        &["--format", "raw", "--count", "1", "--timeout", "20s"],
    );
    broker.publish_when_subscribed(&[b"raw \xff bytes"]);
    let output = child.wait_with_output().expect("wait");
    assert_eq!(output.stdout, b"raw \xff bytes\n");
}

fn sealed_push(app_id: &str, data: &str) -> Vec<u8> {
    let codec = SafeModeCodec::new(&AppKey::parse(KEY).expect("key"));
    let cipher = codec.encrypt(data.as_bytes(), app_id).expect("encrypt");
    format!(
        r#"{{"appId":"{app_id}","sn":"S1","type":"text","encryptData":"{cipher}","msgId":"m"}}"#
    )
    .into_bytes()
}

#[test]
fn safe_mode_pushes_are_decrypted_in_place_with_the_app_key() {
    let broker = Broker::quiet();
    let run = broker.listen_while_publishing(
        &broker.env().env("SENSORO_APP_KEY", KEY),
        &["--count", "1", "--timeout", "20s"],
        &[&sealed_push("foobar", r#"{"temperature":20.5}"#)],
    );
    run.code(0).stdout_is("{\"appId\":\"foobar\",\"sn\":\"S1\",\"type\":\"text\",\"data\":{\"temperature\":20.5},\"msgId\":\"m\"}\n");
}

#[test]
fn without_an_app_key_encrypted_pushes_are_kept_with_one_warning() {
    let broker = Broker::quiet();
    let child = spawn(&broker.env(), &["--count", "2", "--timeout", "20s"]);
    let push = sealed_push("foobar", "{}");
    broker.publish_when_subscribed(&[&push, &push]);
    let run = finish(child);
    run.code(0);
    assert!(run
        .json_lines()
        .iter()
        .all(|l| l["encryptData"].is_string()));
    assert_eq!(
        run.stderr.matches("no AppKey is set").count(),
        1,
        "{}",
        run.stderr
    );
}

#[test]
fn a_wrong_app_key_gives_a_decrypt_error_field() {
    let broker = Broker::quiet();
    let run = broker.listen_while_publishing(
        &broker.env().env("SENSORO_APP_KEY", &"Q".repeat(43)),
        &["--count", "1", "--timeout", "20s"],
        &[&sealed_push("foobar", "{}")],
    );
    run.code(0);
    let line = &run.json_lines()[0];
    assert!(
        line["decryptError"]
            .as_str()
            .is_some_and(|e| e.contains("AppKey")),
        "{line}"
    );
}

#[test]
fn filters_keep_only_matching_pushes_and_output_file_gets_them_too() {
    let broker = Broker::quiet();
    let env = broker.env();
    let file = env.dir().join("pushes.ndjson");
    let file_arg = file.to_str().expect("utf-8 path").to_owned();
    let run = broker.listen_while_publishing(
        &env,
        &[
            "--sn",
            "B",
            "--sn",
            "C",
            "--type",
            "alarm",
            "--count",
            "1",
            "--output",
            &file_arg,
            "--timeout",
            "20s",
        ],
        &[
            br#"{"sn":"A","type":"alarm"}"#,
            br#"{"sn":"B","type":"text"}"#,
            b"garbage",
            br#"{"sn":"C","type":"alarm","data":{"smoke":1}}"#,
        ],
    );
    run.code(0)
        .stdout_is("{\"sn\":\"C\",\"type\":\"alarm\",\"data\":{\"smoke\":1}}\n");
    assert_eq!(
        std::fs::read_to_string(&file).expect("output file"),
        run.stdout
    );
}

#[test]
fn envelope_lines_carry_receive_time_topic_and_flags() {
    let broker = Broker::quiet();
    let run = broker.listen_while_publishing(
        &broker.env(),
        &["--envelope", "--count", "1", "--timeout", "20s"],
        &[br#"{"sn":"A"}"#],
    );
    let line = &run.code(0).json_lines()[0];
    assert_eq!(line["topic"], "users/foobar/devices");
    assert_eq!(line["qos"], 1);
    assert_eq!(line["push"]["sn"], "A");
    let at = line["received_at"].as_str().expect("received_at");
    assert!(chrono::DateTime::parse_from_rfc3339(at).is_ok(), "{at}");
}

#[test]
fn a_closed_pipe_ends_quietly_with_exit_0() {
    let broker = Broker::devices(3);
    let mut child = spawn(&broker.env(), &["--timeout", "30s"]);
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    for _ in 0..2 {
        lines.next().expect("a line").expect("read");
    }
    drop(lines);
    let run = finish(child);
    run.code(0);
    assert!(!run.stderr.contains("error"), "{}", run.stderr);
}

#[test]
fn sigint_prints_the_summary_and_exits_0() {
    let broker = Broker::devices(2);
    let mut child = spawn(&broker.env(), &["--timeout", "30s"]);
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    lines.next().expect("a line").expect("read");
    let status = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    drop(rest);
    let run = finish(child);
    run.code(0)
        .stderr_contains("pushes from")
        .stderr_contains("reconnects");
}

#[test]
fn reconnects_after_drops_and_loses_nothing_with_a_persistent_session() {
    let broker = Broker::start(EmulatorConfig {
        devices: 0,
        drop_after: Some(3),
        ..EmulatorConfig::default()
    });
    let mut child = spawn(
        &broker.env(),
        &[
            "--client-id",
            "foobar/keeper",
            "--clean",
            "false",
            "--timeout",
            "40s",
        ],
    );
    broker.publish_when_subscribed(&[]);
    for n in 0..8 {
        broker
            .handle()
            .publish("foobar", format!(r#"{{"sn":"N","n":{n}}}"#).into_bytes())
            .expect("publish");
    }
    // At least once: duplicates may come, every push must. Bounded by listen's --timeout.
    let mut seen = std::collections::BTreeSet::new();
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    while seen.len() < 8 {
        let Some(Ok(line)) = lines.next() else { break };
        let push: serde_json::Value = serde_json::from_str(&line).expect("json line");
        seen.insert(push["n"].as_i64().expect("n"));
    }
    std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill");
    drop(lines);
    let run = finish(child);
    assert_eq!(seen, (0..8).collect(), "stderr:\n{}", run.stderr);
    run.code(0).stderr_contains("connection lost");
    assert!(!run.stderr.contains(" 0 reconnects"), "{}", run.stderr);
}

#[test]
fn demo_mode_needs_no_credentials() {
    let run = TestEnv::new().run(&["listen", "--demo", "--count", "2", "--timeout", "20s"]);
    run.code(0)
        .stderr_contains("demo: built-in emulator on 127.0.0.1:");
    assert_eq!(run.json_lines().len(), 2);
}

/// Lines of `screen` that are push headers (`HH:MM:SS.mmm  <sn> …`), colours removed.
fn push_headers(screen: &str) -> Vec<String> {
    let ansi = regex::Regex::new("\u{1b}\\[[0-9;]*m").expect("regex");
    let header = regex::Regex::new(r"^\d\d:\d\d:\d\d\.\d{3}  \S").expect("regex");
    screen
        .lines()
        .map(|line| {
            ansi.replace_all(line.trim_end_matches('\r'), "")
                .into_owned()
        })
        .filter(|line| header.is_match(line))
        .collect()
}

#[test]
fn listen_demo_is_coloured_on_a_terminal_and_plain_ndjson_when_piped() {
    let env = TestEnv::new();
    let args = ["listen", "--demo", "--count", "3"];
    let screen = env.run_on_terminal(&args, false);
    assert!(
        screen.contains("\u{1b}["),
        "no colour on a terminal:\n{screen}"
    );
    assert_eq!(push_headers(&screen).len(), 3, "{screen}");
    assert!(
        screen.contains("subscribed to users/demo/devices"),
        "{screen}"
    );

    let plain = env.run_on_terminal(&args, true);
    assert!(!plain.contains('\u{1b}'), "NO_COLOR ignored:\n{plain}");
    assert_eq!(push_headers(&plain).len(), 3, "{plain}");

    let piped = env.run(&args);
    piped.code(0);
    assert!(!piped.stdout.contains('\u{1b}'), "{}", piped.stdout);
    let pushes = piped.json_lines();
    assert_eq!(pushes.len(), 3);
    assert!(pushes.iter().all(|p| p["appId"] == "demo"), "{pushes:?}");
}

#[test]
fn being_kicked_repeatedly_is_blamed_on_a_duplicate_client_id() {
    let env = TestEnv::new().env("SENSORO_APP_SECRET", "s1");
    let emulate = common::Emulate::start(&env, &["--app", "one:s1", "--devices", "0"]);
    let args = [
        "listen",
        "--host",
        "127.0.0.1",
        "--port",
        &emulate.port,
        "--app-id",
        "one",
        "--client-id",
        "one/twin",
        "--timeout",
        "30s",
    ];
    let spawn_twin = || {
        let mut cmd = env.command(&args);
        cmd.stdout(Stdio::null());
        common::Daemon::spawn(cmd)
    };
    let mut first = spawn_twin();
    first.wait_for_line(|l| l.starts_with("subscribed to"), common::WAIT);
    let _second = spawn_twin();
    let warning = first.wait_for_line(
        |l| l.contains("another client probably uses the same clientId"),
        Duration::from_secs(25),
    );
    assert!(warning.contains("one/twin"), "{warning}");
}

#[test]
fn a_push_over_max_payload_stops_with_exit_3_once_without_reconnecting() {
    let broker = Broker::quiet();
    let big = format!("{{\"sn\":\"BIG\",\"data\":\"{}\"}}", "x".repeat(4096));
    let started = Instant::now();
    let run = broker.listen_while_publishing(
        &broker.env(),
        &[
            "--format",
            "json",
            "--qos",
            "1",
            "--clean",
            "false",
            "--client-id",
            "foobar/big",
            "--max-payload",
            "1k",
            "--timeout",
            "20s",
        ],
        &[b"{\"sn\":\"A\"}", big.as_bytes()],
    );
    run.code(3)
        .stdout_is("{\"sn\":\"A\"}\n")
        .stderr_contains("a push of 41")
        .stderr_contains("after 1 push printed, over --max-payload (1024 bytes (1.0 KiB))")
        .stderr_contains("raise --max-payload")
        .stderr_contains("persistent session");
    assert_eq!(
        run.stderr.matches("over --max-payload").count(),
        1,
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("connection lost"), "{}", run.stderr);
    assert!(!run.stderr.contains("clientId"), "{}", run.stderr);
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn a_push_above_the_old_4_mib_limit_arrives_whole() {
    let broker = Broker::quiet();
    let big = format!("{{\"sn\":\"BIG\",\"data\":\"{}\"}}", "y".repeat(5 << 20));
    let run = broker.listen_while_publishing(
        &broker.env(),
        &["--format", "json", "--count", "1", "--timeout", "20s"],
        &[big.as_bytes()],
    );
    run.code(0);
    assert!(
        run.stdout == format!("{big}\n"),
        "the 5 MiB push arrives whole"
    );
}

#[test]
fn a_bad_max_payload_is_a_usage_error() {
    TestEnv::new()
        .run(&["listen", "--demo", "--max-payload", "1T"])
        .code(2)
        .stderr_contains("unknown size unit");
}

/// Issue 11: with default profile `work` (AppID foobar), `listen --app-id demo` must send
/// neither work's AppSecret nor its client_suffix.
#[test]
fn a_default_profile_of_another_app_sends_neither_its_secret_nor_its_suffix() {
    const WORK_SECRET: &str = "work-secret-ABCD";
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let log = {
        let seen = seen.clone();
        std::sync::Arc::new(move |event: &sensoro_mqtt::emulator::LogEvent| {
            seen.lock().expect("log").push(event.to_string());
        })
    };
    let broker = Broker::start(EmulatorConfig {
        apps: vec![
            AppConfig::new("foobar", WORK_SECRET),
            AppConfig::new("demo", "demo-secret"),
        ],
        devices: 2,
        interval: Duration::from_millis(100),
        log: Some(log),
        ..EmulatorConfig::default()
    });
    let env = TestEnv::new();
    env.command(&[
        "profile",
        "add",
        "work",
        "--app-id",
        "foobar",
        "--client-suffix",
        "ci-runner",
    ])
    .env("SENSORO_APP_SECRET", WORK_SECRET)
    .output()
    .map(common::Run::from)
    .expect("run")
    .code(0);
    let port = broker.port();
    let base = [
        "listen",
        "--host",
        "127.0.0.1",
        "--port",
        &port,
        "--app-id",
        "demo",
        "--timeout",
        "15s",
    ];

    // No secret for demo anywhere: a configuration error before any network I/O.
    let run = env.run(&base);
    run.code(6)
        .stderr_contains("note: default profile 'work' is for AppID 'foobar', not 'demo'")
        .stderr_contains("no AppSecret given");
    assert!(!run.stderr.contains(WORK_SECRET), "{}", run.stderr);
    assert!(
        seen.lock()
            .expect("log")
            .iter()
            .all(|l| !l.starts_with("connect ")),
        "listen connected without a secret for demo: {:?}",
        seen.lock().expect("log")
    );

    // With demo's secret from the environment: a random suffix, not work's.
    let mut args = base.to_vec();
    args.extend(["--count", "1"]);
    let env = env.env("SENSORO_APP_SECRET", "demo-secret");
    env.run(&args).code(0);
    let log = seen.lock().expect("log").clone();
    let connected: Vec<&String> = log.iter().filter(|l| l.starts_with("connect ")).collect();
    assert_eq!(connected.len(), 1, "{log:?}");
    assert!(
        connected[0].contains("connect accepted: 'demo/") && !connected[0].contains("ci-runner"),
        "{log:?}"
    );
}

/// A refusal names where each credential came from, the secret masked.
#[test]
fn a_refusal_says_where_the_credentials_came_from() {
    let broker = Broker::devices(1);
    let run = broker
        .env()
        .env("SENSORO_APP_SECRET", "wrong-secret-WXYZ")
        .run(&["listen", "--timeout", "30s"]);
    run.code(4)
        .stderr_contains("AppID 'foobar' (from $SENSORO_APP_ID)")
        .stderr_contains("AppSecret ••••WXYZ (from $SENSORO_APP_SECRET)");
    assert!(!run.stderr.contains("wrong-secret"), "{}", run.stderr);
}
