//! Messages a person can act on (issue 11, points 10 and 13–18): usage errors, TLS and
//! "not a broker" failures in the user's words (listen and connect agree), the refusal hint,
//! the summary's grammar and connect's single failure message.

mod common;

use common::servers::{other_ca, Answer, TcpServer, TlsFront};
use common::{Emulate, Run, TestEnv};

const SECRET: &str = "s3cret-value";

/// Words of the libraries underneath that must never reach the user.
const INTERNALS: &[&str] = &[
    "serialization",
    "deserialization",
    "abruptly",
    "bytes remaining",
    "I/O:",
    "TLS: I/O",
    "TLS error",
    "UnknownIssuer",
    "Mqtt",
];

fn env() -> TestEnv {
    TestEnv::new().env("SENSORO_APP_SECRET", SECRET)
}

fn emulator(env: &TestEnv) -> Emulate {
    Emulate::start(
        env,
        &["--app", &format!("foobar:{SECRET}"), "--devices", "1"],
    )
}

fn listen(env: &TestEnv, host: &str, port: &str, rest: &[&str]) -> Run {
    let mut args = vec![
        "listen",
        "--host",
        host,
        "--port",
        port,
        "--app-id",
        "foobar",
        "--timeout",
        "20s",
        "--format",
        "json",
    ];
    args.extend_from_slice(rest);
    env.run(&args)
}

fn connect(env: &TestEnv, host: &str, port: &str, rest: &[&str]) -> Run {
    let mut args = vec![
        "connect",
        "--host",
        host,
        "--port",
        port,
        "--app-id",
        "foobar",
        "--timeout",
        "10s",
    ];
    args.extend_from_slice(rest);
    env.run(&args)
}

fn no_internals(run: &Run) {
    for word in INTERNALS {
        assert!(
            !run.stderr.contains(word) && !run.stdout.contains(word),
            "library words {word:?} leaked\n--- stdout ---\n{}\n--- stderr ---\n{}",
            run.stdout,
            run.stderr
        );
    }
}

#[test]
fn count_zero_is_a_usage_error() {
    let run = TestEnv::new().run(&["listen", "--demo", "--count", "0"]);
    run.code(2).stderr_contains("--count");
    assert!(run.stdout.is_empty(), "{}", run.stdout);
}

#[test]
fn the_summary_says_one_push_from_one_device() {
    TestEnv::new()
        .run(&["listen", "--demo", "--count", "1", "--timeout", "20s"])
        .code(0)
        .stderr_contains("1 push from 1 device in ")
        .stderr_contains(", 0 reconnects");
}

#[test]
fn a_refusal_in_listen_points_to_connect() {
    let env = env();
    let emulate = emulator(&env);
    let wrong = TestEnv::new().env("SENSORO_APP_SECRET", "wrong");
    listen(&wrong, "127.0.0.1", &emulate.port, &[])
        .code(4)
        .stderr_contains("CONNACK 5")
        .stderr_contains("sensoro-mqtt connect");
}

#[test]
fn connect_prints_its_failure_once() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("addr").port().to_string()
    };
    let run = connect(&env(), "127.0.0.1", &port, &[]);
    run.code(3).stdout_contains("FAILED at TCP");
    assert!(
        !run.stderr.contains("connection refused"),
        "the failure is printed twice:\n--- stdout ---\n{}\n--- stderr ---\n{}",
        run.stdout,
        run.stderr
    );
}

#[test]
fn a_web_server_is_not_an_mqtt_broker_for_listen_and_connect() {
    let web = TcpServer::start(Answer::Text(
        "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
    ));
    let env = env();
    let run = listen(&env, "127.0.0.1", &web.port, &[]);
    run.code(3).stderr_contains("this is not an MQTT broker");
    no_internals(&run);
    let run = connect(&env, "127.0.0.1", &web.port, &[]);
    run.code(3)
        .stdout_contains("this is not an MQTT broker")
        .stdout_contains("HTTP/1.1 400 Bad Request");
    no_internals(&run);
}

#[test]
fn a_server_that_hangs_up_is_the_broker_closing_the_connection() {
    let server = TcpServer::start(Answer::Close);
    let env = env();
    let run = listen(&env, "127.0.0.1", &server.port, &[]);
    run.code(3)
        .stderr_contains("the broker closed the connection");
    no_internals(&run);
    let run = connect(&env, "127.0.0.1", &server.port, &[]);
    run.code(3)
        .stdout_contains("the broker closed the connection");
    no_internals(&run);
}

#[test]
fn an_untrusted_certificate_is_explained_alike_by_listen_and_connect() {
    let env = env();
    let emulate = emulator(&env);
    let front = TlsFront::start(&emulate.port);
    let wrong_ca = other_ca(&front);
    let tls = ["--tls", "--ca-file", wrong_ca.as_str()];
    let run = listen(&env, "localhost", &front.port, &tls);
    run.code(3)
        .stderr_contains("certificate rejected: issued by a CA that is not trusted")
        .stderr_contains("not signed by")
        .stderr_contains("--ca-file");
    no_internals(&run);
    connect(&env, "localhost", &front.port, &tls)
        .code(3)
        .stdout_contains("certificate rejected: issued by a CA that is not trusted")
        .stdout_contains("not signed by");
}

#[test]
fn plain_mqtt_to_a_tls_port_says_to_add_tls() {
    let env = env();
    let emulate = emulator(&env);
    let front = TlsFront::start(&emulate.port);
    let run = listen(&env, "localhost", &front.port, &[]);
    run.code(3).stderr_contains("add --tls");
    no_internals(&run);
    let run = connect(&env, "localhost", &front.port, &[]);
    run.code(3).stdout_contains("add --tls");
    no_internals(&run);
}

#[test]
fn tls_to_a_plain_port_says_to_drop_tls() {
    let env = env();
    let emulate = emulator(&env);
    let front = TlsFront::start(&emulate.port);
    let ca = front.ca_file.display().to_string();
    let tls = ["--tls", "--ca-file", ca.as_str()];
    let run = listen(&env, "localhost", &emulate.port, &tls);
    run.code(3).stderr_contains("drop --tls");
    no_internals(&run);
    let run = connect(&env, "localhost", &emulate.port, &tls);
    run.code(3).stdout_contains("drop --tls");
    no_internals(&run);
}

/// Display width of the longest stdout line.
fn widest_line(stdout: &str) -> usize {
    stdout
        .lines()
        .map(|line| line.chars().count())
        .max()
        .unwrap_or(0)
}

#[test]
fn compact_lines_use_the_terminal_width_and_80_when_unknown() {
    let args = [
        "listen",
        "--demo",
        "--format",
        "pretty",
        "--compact",
        "--count",
        "6",
        "--timeout",
        "20s",
    ];
    let unknown = TestEnv::new().run(&args);
    unknown.code(0);
    assert!(
        widest_line(&unknown.stdout) <= 80,
        "wider than 80:\n{}",
        unknown.stdout
    );
    let wide = TestEnv::new().env("COLUMNS", "200").run(&args);
    wide.code(0);
    let widest = widest_line(&wide.stdout);
    assert!(
        (81..=200).contains(&widest),
        "COLUMNS=200 gave lines of at most {widest}:\n{}",
        wide.stdout
    );
}
