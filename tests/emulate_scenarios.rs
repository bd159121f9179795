//! `emulate --scenario`: scenario files and built-ins, checked end to end with the real
//! binary and `listen --format json` as the client.
//!
//! A scenario's timeline is timing by nature: the files here use offsets of a second or two
//! and the waits are bounded by `listen --timeout` and the harness's `WAIT`.

mod common;

use std::collections::HashSet;

use common::{interrupt, Emulate, TestEnv, WAIT};
use serde_json::Value;

fn secret_env(secret: &str) -> TestEnv {
    TestEnv::new().env("SENSORO_APP_SECRET", secret)
}

fn write_scenario(env: &TestEnv, name: &str, text: &str) -> String {
    let path = env.dir().join(name);
    std::fs::write(&path, text).expect("write scenario");
    path.display().to_string()
}

fn stop(emulate: Emulate) {
    interrupt(&emulate.daemon.child);
    let (code, stderr) = emulate.daemon.wait_exit(WAIT);
    assert_eq!(code, 0, "{stderr}");
}

#[test]
fn list_scenarios_prints_one_line_per_built_in() {
    let run = TestEnv::new().run(&["emulate", "--list-scenarios"]);
    run.code(0);
    let names: Vec<&str> = run
        .stdout
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert_eq!(names, ["demo", "alarms", "stale", "load"], "{}", run.stdout);
}

#[test]
fn a_scenario_file_with_an_error_exits_6_naming_its_line() {
    let env = TestEnv::new();
    let path = write_scenario(
        &env,
        "bad.toml",
        "# a smoke detector\n[[device]]\nsn = \"S1\"\n\ndeviceType = \"smok\"\n",
    );
    let run = env.run(&["emulate", "--port", "0", "--scenario", &path]);
    run.code(6)
        .stderr_contains(&format!("{path}:5: unknown deviceType 'smok'"));
    let run = env.run(&["emulate", "--port", "0", "--scenario", "no-such-scenario"]);
    run.code(6).stderr_contains("alarms, stale, load");
}

#[test]
fn each_built_in_scenario_serves_pushes() {
    let env = secret_env("demo-secret");
    for name in ["demo", "alarms", "stale", "load"] {
        let emulate = Emulate::start(&env, &["--scenario", name]);
        let run = emulate.listen(&env, "demo", &["--count", "3", "--format", "json"]);
        run.code(0);
        assert_eq!(run.json_lines().len(), 3, "{name}");
        stop(emulate);
    }
}

/// S1 goes into alarm at 1 s and out at 2 s; Q1 is silent from 1 s to 3 s. Both report
/// every 500 ms, so the first 15 pushes end at 3.5 s.
const TIMELINE: &str = r#"
[[device]]
sn = "S1"
deviceType = "smoke"
interval = "500ms"

[[device]]
sn = "Q1"
deviceType = "co"
interval = "500ms"

[[event]]
at = "1s"
sn = "S1"
action = "alarm-on"
field = "smoke"

[[event]]
at = "1s"
sn = "Q1"
action = "silent"

[[event]]
at = "2s"
sn = "S1"
action = "alarm-off"
field = "smoke"

[[event]]
at = "3s"
sn = "Q1"
action = "back"
"#;

fn smoke_set(push: &Value) -> bool {
    matches!(&push["data"]["smoke"], Value::Bool(true)) || push["data"]["smoke"] == 1
}

#[test]
fn a_scenario_timeline_drives_listen_through_an_alarm_and_a_silence() {
    let env = secret_env("demo-secret");
    let path = write_scenario(&env, "timeline.toml", TIMELINE);
    let emulate = Emulate::start(&env, &["--scenario", &path, "--seed", "3"]);
    let run = emulate.listen(&env, "demo", &["--count", "15", "--format", "json"]);
    run.code(0);
    let pushes = run.json_lines();
    let sns: Vec<&str> = pushes.iter().filter_map(|p| p["sn"].as_str()).collect();
    // In timeline order: both at 0 and 0.5 s; S1's alarm push and its 1 s push (Q1 silent);
    // S1 at 1.5 s; the clear and S1's 2 s push; S1 at 2.5 s; Q1 back at 3 s, then both.
    assert_eq!(
        sns,
        [
            "S1", "Q1", "S1", "Q1", "S1", "S1", "S1", "S1", "S1", "S1", "Q1", "S1", "Q1", "S1",
            "Q1"
        ]
    );
    let s1: Vec<&Value> = pushes.iter().filter(|p| p["sn"] == "S1").collect();
    let alarm: Vec<bool> = s1.iter().map(|p| p["type"] == "alarm").collect();
    assert_eq!(
        alarm,
        [false, false, true, true, true, false, false, false, false, false],
        "alarm from 1 s until the clear at 2 s"
    );
    assert!(s1.iter().zip(&alarm).all(|(p, a)| smoke_set(p) == *a));
    let q1_times: Vec<u64> = pushes
        .iter()
        .filter(|p| p["sn"] == "Q1")
        .filter_map(|p| p["createdTime"].as_u64())
        .collect();
    let gap = q1_times[2] - q1_times[1];
    assert!(
        gap >= 2_000,
        "Q1 silent for over twice its 500 ms interval: {gap} ms"
    );
    stop(emulate);
}

/// The readings of `pushes` (sn, type, data) and their msgIds.
fn readings_and_ids(pushes: &[Value]) -> (Vec<Value>, Vec<String>) {
    let readings = pushes
        .iter()
        .map(|p| serde_json::json!([p["sn"], p["deviceType"], p["data"]]))
        .collect();
    let ids = pushes
        .iter()
        .map(|p| p["msgId"].as_str().unwrap_or_default().to_owned())
        .collect();
    (readings, ids)
}

#[test]
fn two_runs_with_the_same_seed_give_the_same_readings_and_new_msg_ids() {
    let env = secret_env("sa");
    let args = [
        "--app",
        "a:sa",
        "--app",
        "b:sb",
        "--devices",
        "4",
        "--interval",
        "100ms",
        "--seed",
        "9",
    ];
    let mut runs = Vec::new();
    let mut other_app = Vec::new();
    for _ in 0..2 {
        let emulate = Emulate::start(&env, &args);
        let run = emulate.listen(&env, "a", &["--count", "6", "--format", "json"]);
        run.code(0);
        runs.push(readings_and_ids(&run.json_lines()));
        let run = emulate.listen(
            &secret_env("sb"),
            "b",
            &["--count", "6", "--format", "json"],
        );
        run.code(0);
        other_app.extend(readings_and_ids(&run.json_lines()).1);
        stop(emulate);
    }
    let (first, second) = (&runs[0], &runs[1]);
    assert_eq!(first.0, second.0, "same seed, same readings");
    let ids: HashSet<&String> = first.1.iter().chain(&second.1).chain(&other_app).collect();
    assert_eq!(
        ids.len(),
        24,
        "every msgId differs: {first:?} {second:?} {other_app:?}"
    );
}
