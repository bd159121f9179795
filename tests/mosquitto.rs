//! `listen` and `connect` against Eclipse Mosquitto, an independent broker: a private
//! mosquitto on a free loopback port with a password file for the AppID.
//!
//! Needs the Debian packages `mosquitto` and `mosquitto-clients` (`.ci/run` installs them).
//! Without them the tests fail under `CI=true` and are skipped loudly otherwise.

mod common;

use std::fs::File;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use common::{require_tool, Daemon, Run, TestEnv, WAIT};

const APP: &str = "foobar";
const SECRET: &str = "mosq-secret-1";

/// A private mosquitto, killed when dropped.
struct Mosquitto {
    _daemon: Daemon,
    port: String,
    _dir: tempfile::TempDir,
}

fn mosquitto_binary() -> Option<PathBuf> {
    ["mosquitto", "/usr/sbin/mosquitto"]
        .into_iter()
        .map(PathBuf::from)
        .find(|bin| {
            Command::new(bin)
                .arg("-h")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok()
        })
}

/// The broker and client tools, or `None` (after a loud skip) outside CI.
fn tools() -> Option<PathBuf> {
    let clients = require_tool("mosquitto_pub", "mosquitto-clients")
        && require_tool("mosquitto_passwd", "mosquitto");
    let broker = mosquitto_binary();
    if broker.is_none() {
        require_tool("mosquitto", "mosquitto");
    }
    broker.filter(|_| clients)
}

impl Mosquitto {
    fn start(broker: &PathBuf) -> Mosquitto {
        let dir = tempfile::tempdir().expect("dir");
        let passwd = dir.path().join("passwd");
        let status = Command::new("mosquitto_passwd")
            .args(["-b", "-c"])
            .arg(&passwd)
            .args([APP, SECRET])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("mosquitto_passwd runs");
        assert!(status.success(), "mosquitto_passwd failed");
        let port = {
            let probe = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
            probe.local_addr().expect("addr").port().to_string()
        };
        let conf = dir.path().join("mosquitto.conf");
        std::fs::write(
            &conf,
            format!(
                "listener {port} 127.0.0.1\nallow_anonymous false\npassword_file {}\n\
                 persistence false\nmax_queued_messages 0\nuser root\nlog_dest stderr\n\
                 log_type error\n\
                 log_type warning\nlog_type notice\nlog_type information\n",
                passwd.display()
            ),
        )
        .expect("write config");
        let mut cmd = Command::new(broker);
        cmd.arg("-c")
            .arg(&conf)
            .stdin(Stdio::null())
            .stdout(Stdio::null());
        let mut daemon = Daemon::spawn(cmd);
        daemon.wait_for_line(|l| l.contains("running"), WAIT);
        Mosquitto {
            _daemon: daemon,
            port,
            _dir: dir,
        }
    }

    fn publish(&self, lines: &str, qos: &str) {
        use std::io::Write as _;
        let mut child = Command::new("mosquitto_pub")
            .args(["-h", "127.0.0.1", "-p", &self.port, "-u", APP, "-P", SECRET])
            .args([
                "-i",
                "foobar/publisher",
                "-t",
                "users/foobar/devices",
                "-q",
                qos,
                "-l",
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("mosquitto_pub runs");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(lines.as_bytes())
            .expect("write lines");
        let out = child.wait_with_output().expect("mosquitto_pub ends");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// `COMMAND --host 127.0.0.1 --port <port> --app-id foobar` followed by `rest`.
    fn args<'a>(&'a self, command: &'a str, rest: &[&'a str]) -> Vec<&'a str> {
        let mut args = vec![
            command,
            "--host",
            "127.0.0.1",
            "--port",
            &self.port,
            "--app-id",
            APP,
        ];
        args.extend_from_slice(rest);
        args
    }

    /// Runs `listen --qos 1 --format json` with `rest`, its stdout into `out`; once it has
    /// subscribed, publishes `lines` at QoS 1; returns its exit code and stderr.
    fn listen_while_publishing(
        &self,
        env: &TestEnv,
        out: &std::path::Path,
        rest: &[&str],
        lines: &str,
    ) -> (i32, String) {
        let mut args = vec!["--qos", "1", "--format", "json"];
        args.extend_from_slice(rest);
        let mut cmd = env.command(&self.args("listen", &args));
        cmd.stdout(File::create(out).expect("out file"));
        let mut listen = Daemon::spawn(cmd);
        listen.wait_for_line(
            |l| l.starts_with("subscribed to users/foobar/devices"),
            WAIT,
        );
        self.publish(lines, "1");
        listen.wait_exit(WAIT)
    }

    fn connect(&self, env: &TestEnv, rest: &[&str]) -> Run {
        env.run(&self.args("connect", rest))
    }
}

#[test]
fn listen_receives_what_mosquitto_pub_publishes_in_order() {
    let Some(broker) = tools() else { return };
    let mosquitto = Mosquitto::start(&broker);
    let env = TestEnv::new().env("SENSORO_APP_SECRET", SECRET);
    let mut lines: Vec<String> = (0..30)
        .map(|i| format!(r#"{{"appId":"foobar","sn":"SN{i:02}","data":{{"temperature":{i}}}}}"#))
        .collect();
    lines.insert(10, "not json at all".to_owned());
    let out_path = env.dir().join("pushes.ndjson");
    let (code, stderr) = mosquitto.listen_while_publishing(
        &env,
        &out_path,
        &["--count", "31", "--timeout", "20s"],
        &(lines.join("\n") + "\n"),
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("with QoS 1"),
        "granted QoS reported: {stderr}"
    );
    let got = std::fs::read_to_string(&out_path).expect("output");
    let got: Vec<&str> = got.lines().collect();
    assert_eq!(got.len(), 31);
    for (sent, line) in lines.iter().zip(&got) {
        if sent.starts_with('{') {
            assert_eq!(line, sent, "same push, same order");
        } else {
            let value: serde_json::Value = serde_json::from_str(line).expect("still JSON");
            assert_eq!(value["raw"], "not json at all");
            assert!(value["error"].is_string());
        }
    }
}

#[test]
fn connect_reports_success_against_mosquitto() {
    let Some(broker) = tools() else { return };
    let mosquitto = Mosquitto::start(&broker);
    let env = TestEnv::new().env("SENSORO_APP_SECRET", SECRET);
    let run = mosquitto.connect(&env, &["--json"]);
    run.code(0);
    let report: serde_json::Value = serde_json::from_str(run.stdout.trim()).expect("json");
    assert_eq!(report["ok"], true);
    assert_eq!(report["connack"]["code"], 0);
    assert_eq!(report["granted_qos"], 1);
}

#[test]
fn a_wrong_password_is_reported_as_refused_by_connect_and_listen() {
    let Some(broker) = tools() else { return };
    let mosquitto = Mosquitto::start(&broker);
    let env = TestEnv::new().env("SENSORO_APP_SECRET", "not-the-password");
    let run = mosquitto.connect(&env, &[]);
    run.code(4)
        .stdout_contains("✗ CONNECT")
        .stdout_contains("refused: CONNACK")
        .stdout_contains("FAILED at CONNECT (exit 4)");
    let started = std::time::Instant::now();
    env.run(&mosquitto.args("listen", &["--timeout", "20s"]))
        .code(4)
        .stderr_contains("the broker refused the connection: CONNACK");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(10),
        "a refusal is final, not retried"
    );
}

#[test]
fn a_qos1_backlog_is_drained_and_every_push_acknowledged() {
    let Some(broker) = tools() else { return };
    let mosquitto = Mosquitto::start(&broker);
    let env = TestEnv::new().env("SENSORO_APP_SECRET", SECRET);
    const BACKLOG: usize = 5000;
    let listen = |rest: &[&str]| {
        let mut args = vec![
            "--client-id",
            "foobar/backlog",
            "--clean",
            "false",
            "--qos",
            "1",
            "--format",
            "json",
        ];
        args.extend_from_slice(rest);
        env.run(&mosquitto.args("listen", &args))
    };
    // Register the persistent session, then queue the backlog while it is away.
    listen(&["--timeout", "300ms"]).code(0);
    let lines: String = (0..BACKLOG)
        .map(|i| format!("{{\"appId\":\"foobar\",\"sn\":\"B{i}\"}}\n"))
        .collect();
    mosquitto.publish(&lines, "1");
    let run = listen(&["--count", &BACKLOG.to_string(), "--timeout", "60s"]);
    run.code(0);
    let got = run.json_lines();
    assert_eq!(got.len(), BACKLOG);
    assert_eq!(got[BACKLOG - 1]["sn"], format!("B{}", BACKLOG - 1));
    // Every push was acknowledged before DISCONNECT: nothing comes back.
    let again = listen(&["--timeout", "1s"]);
    again.code(0);
    assert!(
        again.stdout.is_empty(),
        "{} pushes were redelivered: their acknowledgements were lost",
        again.stdout.lines().count()
    );
}

#[test]
fn listen_carries_random_pushes_from_mosquitto_byte_for_byte() {
    let Some(broker) = tools() else { return };
    let mosquitto = Mosquitto::start(&broker);
    let env = TestEnv::new().env("SENSORO_APP_SECRET", SECRET);
    let pushes = common::pushes::lines(23, 300, APP);
    let out_path = env.dir().join("pushes.ndjson");
    let text: String = pushes.iter().map(|p| format!("{p}\n")).collect();
    let (code, stderr) = mosquitto.listen_while_publishing(
        &env,
        &out_path,
        &["--count", "300", "--timeout", "30s"],
        &text,
    );
    assert_eq!(code, 0, "{stderr}");
    let got = std::fs::read_to_string(&out_path).expect("output");
    assert!(
        got == text,
        "pushes changed on the way through Mosquitto and listen"
    );
}
