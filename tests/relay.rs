//! `relay` end to end: the in-process emulator as the broker, real SQLite files, a real
//! PostgreSQL cluster (tests/common/postgres.rs), a local webhook receiver that checks the
//! platform's signature (tests/common/receiver.rs), and kill -9 in the middle.

mod common;

use std::collections::HashSet;
use std::path::Path;
use std::time::{Duration, Instant};

use common::broker::Broker;
use common::postgres::Postgres;
use common::receiver::Receiver;
use common::{interrupt, pushes, Daemon, TestEnv, WAIT};
use sensoro_mqtt::emulator::EmulatorConfig;
use sensoro_mqtt::relay::postgres::PostgresTarget;
use sensoro_mqtt::relay::{Target, Verdict};

/// Pushes per backlog: enough to cross many batches, small enough for CI.
const BACKLOG: usize = 3000;

fn broker() -> Broker {
    Broker::start(EmulatorConfig {
        devices: 0,
        queue_limit: 50_000,
        max_inflight: 200,
        ..EmulatorConfig::default()
    })
}

/// Starts a relay with `--client-id foobar/<client>` and waits for its subscription.
fn relay(env: &TestEnv, client: &str, args: &[&str]) -> Daemon {
    let client_id = format!("foobar/{client}");
    let dead = env.dir().join("dead.ndjson").display().to_string();
    let mut all = vec!["relay", "--client-id", &client_id, "--dead-letter", &dead];
    all.extend_from_slice(args);
    let mut cmd = env.command(&all);
    cmd.stdout(std::process::Stdio::null());
    let mut daemon = Daemon::spawn(cmd);
    daemon.wait_for_line(|l| l.starts_with("subscribed to"), WAIT);
    daemon
}

/// Ctrl-C, then the exit code and stderr.
fn stop(daemon: Daemon) -> (i32, String) {
    interrupt(&daemon.child);
    daemon.wait_exit(WAIT)
}

fn publish(broker: &Broker, lines: &[String]) {
    for line in lines {
        broker
            .handle()
            .publish("foobar", line.clone().into_bytes())
            .expect("publish");
    }
}

/// Waits (bounded, polling) until `count()` reaches `n`.
fn wait_for(n: usize, what: &str, count: impl Fn() -> usize) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let now = count();
        if now >= n {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{what}: {now} of {n} within 60 s"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn sqlite_pushes(path: &Path) -> Vec<String> {
    let Ok(db) = rusqlite::Connection::open(path) else {
        return Vec::new();
    };
    db.prepare("SELECT push FROM pushes")
        .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
        .unwrap_or_default()
}

fn sqlite_count(path: &Path) -> usize {
    rusqlite::Connection::open(path)
        .and_then(|db| db.query_row("SELECT count(*) FROM pushes", [], |r| r.get::<_, i64>(0)))
        .map_or(0, |n| n as usize)
}

/// Every published push is there exactly once, byte for byte.
fn assert_exactly_once(stored: Vec<String>, published: &[String]) {
    let expected: HashSet<&String> = published.iter().collect();
    let got: HashSet<&String> = stored.iter().collect();
    assert_eq!(stored.len(), published.len(), "rows vs pushes published");
    assert_eq!(got.len(), stored.len(), "a push was stored twice");
    let missing = expected.difference(&got).count();
    assert_eq!(missing, 0, "{missing} pushes missing or changed");
}

#[test]
fn relay_refuses_to_start_without_a_fixed_client_id() {
    let broker = broker();
    let dir = broker.env();
    let db = format!("sqlite:{}", dir.dir().join("p.db").display());
    dir.run(&["relay", "--to", &db])
        .code(6)
        .stderr_contains("fixed clientId")
        .stderr_contains("--client-id foobar/relay-1");
}

#[test]
fn a_bad_target_is_a_usage_error() {
    TestEnv::new()
        .run(&["relay", "--demo", "--to", "ftp://x"])
        .code(2)
        .stderr_contains("is not a target");
}

#[test]
fn sqlite_stores_every_push_of_a_backlog_once_with_its_bytes() {
    let broker = broker();
    let env = broker.env();
    let path = env.dir().join("p.db");
    let to = format!("sqlite:{}", path.display());
    let daemon = relay(&env, "r1", &["--to", &to]);
    let lines = pushes::lines(11, BACKLOG, "foobar");
    publish(&broker, &lines);
    wait_for(BACKLOG, "rows in SQLite", || sqlite_count(&path));
    let (code, stderr) = stop(daemon);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains(&format!("relay: {BACKLOG} delivered")),
        "{stderr}"
    );
    assert_exactly_once(sqlite_pushes(&path), &lines);
    assert_eq!(broker.handle().stats().dropped, 0);
}

#[test]
fn sqlite_after_kill_9_and_a_restart_every_push_is_stored_once() {
    let broker = broker();
    let env = broker.env();
    let path = env.dir().join("p.db");
    let to = format!("sqlite:{}", path.display());
    let mut daemon = relay(&env, "r1", &["--to", &to, "--batch-size", "50"]);
    let lines = pushes::lines(12, BACKLOG, "foobar");
    publish(&broker, &lines);
    wait_for(BACKLOG / 10, "rows before the kill", || sqlite_count(&path));
    daemon.child.kill().expect("kill -9");
    let _ = daemon.child.wait();
    assert!(sqlite_count(&path) < BACKLOG, "killed mid-stream");
    let daemon = relay(&env, "r1", &["--to", &to]);
    wait_for(BACKLOG, "rows after the restart", || sqlite_count(&path));
    let (code, stderr) = stop(daemon);
    assert_eq!(code, 0, "{stderr}");
    assert_exactly_once(sqlite_pushes(&path), &lines);
}

fn postgres_pushes(pg: &Postgres) -> Vec<String> {
    // json keeps the exact text; one push per line (pushes are one line each).
    pg.query("SELECT push FROM pushes")
        .lines()
        .map(str::to_owned)
        .collect()
}

#[test]
fn postgres_stores_every_push_of_a_backlog_once_with_its_bytes() {
    let Some(pg) = Postgres::start() else { return };
    let broker = broker();
    let env = broker.env();
    let url = pg.url();
    let daemon = relay(&env, "r1", &["--to", &url]);
    let lines = pushes::lines(13, BACKLOG, "foobar");
    publish(&broker, &lines);
    wait_for(BACKLOG, "rows in PostgreSQL", || pg.count());
    let (code, stderr) = stop(daemon);
    assert_eq!(code, 0, "{stderr}");
    assert_exactly_once(postgres_pushes(&pg), &lines);
    let types = pg.query(
        "SELECT data_type FROM information_schema.columns WHERE table_name = 'pushes' \
         AND column_name IN ('data', 'push') ORDER BY column_name",
    );
    assert_eq!(types, "jsonb\njson\n");
    assert!(
        !env.dir().join("dead.ndjson").exists(),
        "nothing dead-lettered"
    );
}

#[test]
fn postgres_after_kill_9_and_a_restart_every_push_is_stored_once() {
    let Some(pg) = Postgres::start() else { return };
    let broker = broker();
    let env = broker.env();
    let url = pg.url();
    let mut daemon = relay(&env, "r1", &["--to", &url, "--batch-size", "50"]);
    let lines = pushes::lines(14, BACKLOG, "foobar");
    publish(&broker, &lines);
    wait_for(BACKLOG / 10, "rows before the kill", || pg.count());
    daemon.child.kill().expect("kill -9");
    let _ = daemon.child.wait();
    let daemon = relay(&env, "r1", &["--to", &url]);
    wait_for(BACKLOG, "rows after the restart", || pg.count());
    let (code, stderr) = stop(daemon);
    assert_eq!(code, 0, "{stderr}");
    assert_exactly_once(postgres_pushes(&pg), &lines);
}

#[test]
fn two_relays_into_one_postgres_store_each_push_once_and_one_can_die() {
    let Some(pg) = Postgres::start() else { return };
    let broker = broker();
    let env = broker.env();
    let url = pg.url();
    let mut first = relay(&env, "r1", &["--to", &url, "--batch-size", "50"]);
    let second = relay(&env, "r2", &["--to", &url, "--batch-size", "50"]);
    let lines = pushes::lines(15, BACKLOG, "foobar");
    publish(&broker, &lines);
    wait_for(BACKLOG / 10, "rows before one relay dies", || pg.count());
    first.child.kill().expect("kill -9");
    let _ = first.child.wait();
    wait_for(BACKLOG, "rows from the survivor", || pg.count());
    let (code, stderr) = stop(second);
    assert_eq!(code, 0, "{stderr}");
    assert_exactly_once(postgres_pushes(&pg), &lines);
}

#[test]
fn webhook_receives_every_push_once_signed_with_its_bytes() {
    let broker = broker();
    let env = broker.env();
    let receiver = Receiver::start("foobar", "secret-1");
    let url = receiver.url();
    let daemon = relay(&env, "r1", &["--to", &url, "--concurrency", "8"]);
    let lines = pushes::lines(16, BACKLOG, "foobar");
    publish(&broker, &lines);
    wait_for(BACKLOG, "pushes accepted", || {
        receiver.with(|s| s.accepted.len())
    });
    let (code, stderr) = stop(daemon);
    assert_eq!(code, 0, "{stderr}");
    receiver.with(|s| {
        assert_eq!(s.bad_signatures, 0, "every signature verifies");
        // Connections are reused: a few dozen at most for thousands of requests (the pool
        // opens one more when a request finds no idle connection at that moment).
        assert!(
            s.connections <= 64,
            "keep-alive: {} connections for {} requests",
            s.connections,
            s.requests
        );
    });
    assert_exactly_once(receiver.with(|s| s.accepted.clone()), &lines);
}

#[test]
fn webhook_500s_for_a_while_lose_nothing() {
    let broker = broker();
    let env = broker.env();
    let receiver = Receiver::start("foobar", "secret-1");
    // Five failures in a row: with one push in the first batch (a loaded machine), the
    // retries back off 0.1 + 0.2 + 0.4 + 0.8 + 1.6 s at most before it goes through.
    receiver.with(|s| s.fail_500 = 5);
    let url = receiver.url();
    let daemon = relay(&env, "r1", &["--to", &url]);
    let lines = pushes::lines(17, 500, "foobar");
    publish(&broker, &lines);
    wait_for(500, "pushes accepted after the 500s", || {
        receiver.with(|s| s.accepted.len())
    });
    let (code, stderr) = stop(daemon);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("HTTP 500"),
        "the retries are reported: {stderr}"
    );
    assert_exactly_once(receiver.with(|s| s.accepted.clone()), &lines);
    assert!(
        !env.dir().join("dead.ndjson").exists(),
        "nothing dead-lettered"
    );
}

#[test]
fn webhook_400_for_one_push_dead_letters_it_and_the_rest_flow() {
    let broker = broker();
    let env = broker.env();
    let receiver = Receiver::start("foobar", "secret-1");
    let lines = pushes::lines(18, 300, "foobar");
    let bad: serde_json::Value = serde_json::from_str(&lines[100]).expect("json");
    let bad_id = bad["msgId"].as_str().expect("msgId").to_owned();
    receiver.with(|s| s.reject_msg_id = Some(bad_id.clone()));
    let url = receiver.url();
    let daemon = relay(&env, "r1", &["--to", &url]);
    publish(&broker, &lines);
    wait_for(299, "the other pushes", || {
        receiver.with(|s| s.accepted.len())
    });
    let (code, stderr) = stop(daemon);
    assert_eq!(code, 0, "{stderr}");
    let dead = std::fs::read_to_string(env.dir().join("dead.ndjson")).expect("dead letter");
    let dead: Vec<&str> = dead.lines().collect();
    assert_eq!(dead.len(), 1, "{dead:?}");
    assert!(dead[0].contains("\"status\":400"), "{}", dead[0]);
    assert!(
        dead[0].ends_with(&format!("\"push\":{}}}", lines[100])),
        "{}",
        dead[0]
    );
    let mut rest = lines.clone();
    rest.remove(100);
    assert_exactly_once(receiver.with(|s| s.accepted.clone()), &rest);
}

#[test]
fn a_stopped_target_holds_the_backlog_on_the_broker_with_bounded_memory() {
    let broker = broker();
    let env = broker.env();
    let receiver = Receiver::start("foobar", "secret-1");
    receiver.with(|s| s.fail_500 = usize::MAX);
    let url = receiver.url();
    let daemon = relay(&env, "r1", &["--to", &url, "--batch-size", "100"]);
    let lines = pushes::lines(19, BACKLOG, "foobar");
    publish(&broker, &lines);
    wait_for(1, "the first refused request", || {
        receiver.with(|s| s.requests)
    });
    std::thread::sleep(Duration::from_millis(500));
    let seen = receiver.with(|s| s.seen.len());
    assert!(seen <= 100, "{seen} pushes taken while the target is down");
    let rss_kib = std::fs::read_to_string(format!("/proc/{}/status", daemon.child.id()))
        .expect("status")
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .expect("VmRSS");
    assert!(rss_kib < 100 * 1024, "RSS {rss_kib} KiB");
    assert!(
        broker.handle().stats().delivered < 400,
        "the broker keeps the backlog: {:?}",
        broker.handle().stats().delivered
    );
    receiver.with(|s| s.fail_500 = 0);
    wait_for(BACKLOG, "pushes once the target is back", || {
        receiver.with(|s| s.accepted.len())
    });
    let (code, stderr) = stop(daemon);
    assert_eq!(code, 0, "{stderr}");
    assert_exactly_once(receiver.with(|s| s.accepted.clone()), &lines);
}

#[test]
fn give_up_after_continuous_failure_exits_7() {
    let broker = broker();
    let env = broker.env();
    let receiver = Receiver::start("foobar", "secret-1");
    receiver.with(|s| s.fail_500 = usize::MAX);
    let url = receiver.url();
    let daemon = relay(&env, "r1", &["--to", &url, "--give-up", "1s"]);
    publish(&broker, &pushes::lines(20, 5, "foobar"));
    let (code, stderr) = daemon.wait_exit(WAIT);
    assert_eq!(code, 7, "{stderr}");
    assert!(stderr.contains("--give-up"), "{stderr}");
    assert!(!stderr.contains("secret-1"), "the AppSecret never shows");
}

#[test]
fn exec_target_gets_each_push_on_stdin_and_retries_a_failure() {
    let broker = broker();
    let env = broker.env();
    let out = env.dir().join("out.ndjson");
    let flag = env.dir().join("failed-once");
    // Fails the first run of all, then appends each push.
    let command = format!(
        "if [ ! -e '{flag}' ]; then touch '{flag}'; exit 1; fi; cat >> '{out}'",
        flag = flag.display(),
        out = out.display()
    );
    let to = format!("exec:{command}");
    let daemon = relay(&env, "r1", &["--to", &to, "--concurrency", "1"]);
    let lines = pushes::lines(21, 20, "foobar");
    publish(&broker, &lines);
    wait_for(20, "lines from the command", || {
        std::fs::read_to_string(&out).map_or(0, |t| t.lines().count())
    });
    let (code, stderr) = stop(daemon);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("status 1"), "{stderr}");
    let written = std::fs::read_to_string(&out).expect("out");
    assert_exactly_once(written.lines().map(str::to_owned).collect(), &lines);
}

#[test]
fn sigterm_stops_the_relay_at_once_with_a_summary() {
    let broker = broker();
    let env = broker.env();
    let receiver = Receiver::start("foobar", "secret-1");
    receiver.with(|s| s.hang = true);
    let url = receiver.url();
    let daemon = relay(&env, "r1", &["--to", &url]);
    publish(&broker, &pushes::lines(22, 10, "foobar"));
    wait_for(1, "a hanging request", || receiver.with(|s| s.requests));
    let started = Instant::now();
    let status = std::process::Command::new("kill")
        .args(["-TERM", &daemon.child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    let (code, stderr) = daemon.wait_exit(WAIT);
    let took = started.elapsed();
    receiver.with(|s| s.hang = false);
    assert_eq!(code, 0, "{stderr}");
    assert!(took < Duration::from_millis(600), "took {took:?}");
    assert!(stderr.contains("left unacknowledged"), "{stderr}");
}

/// Records as the relay makes them, from push lines.
fn records(lines: &[String]) -> Vec<std::sync::Arc<sensoro_mqtt::relay::Record>> {
    use sensoro_mqtt::push::PushReader;
    use sensoro_mqtt::relay::RecordReader;
    let mut reader = RecordReader::new(PushReader::new(None, None, true));
    lines
        .iter()
        .map(|l| std::sync::Arc::new(reader.read(l.as_bytes()).expect("a push")))
        .collect()
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

/// A batch is written with COPY, cut over the target's connections; a batch holding msgIds
/// stored already (a redelivery) is written again with ON CONFLICT, and so are the next
/// ones for a while: every push is stored once, the first copy of each stays as it was.
#[test]
fn postgres_batches_with_stored_msg_ids_are_stored_once_and_the_first_copy_stays() {
    let Some(pg) = Postgres::start() else { return };
    let first = pushes::lines(21, 600, "foobar");
    let fresh = pushes::lines(22, 600, "foobar");
    // The second half of `first` again, with other bytes under the same msgIds.
    let again: Vec<String> = first[300..]
        .iter()
        .map(|l| format!("{},\"resent\":true}}", &l[..l.len() - 1]))
        .collect();
    let mixed: Vec<String> = again.iter().chain(&fresh[..300]).cloned().collect();
    runtime().block_on(async {
        let (mut target, warning) = PostgresTarget::open(&pg.url()).await.expect("open");
        assert!(warning.is_none(), "{warning:?}");
        for batch in [&first[..], &mixed[..], &fresh[300..], &fresh[..10]] {
            let batch = records(batch);
            let verdicts = target.commit(&batch).await.expect("commit");
            assert_eq!(verdicts, vec![Verdict::Committed; batch.len()]);
        }
    });
    let mut want: Vec<String> = first.iter().chain(&fresh).cloned().collect();
    want.sort();
    let mut stored = postgres_pushes(&pg);
    stored.sort();
    assert_eq!(stored.len(), want.len());
    assert!(stored == want, "every push once, the first copy of each");
}

/// The hand-written binary COPY rows carry every column: the fields read from the push,
/// `received_at` to the microsecond, `data` as jsonb and NULL when missing.
#[test]
fn postgres_rows_carry_every_column_of_the_record() {
    let Some(pg) = Postgres::start() else { return };
    let lines = vec![
        r#"{"appId":"foobar","sn":"01A","type":"text","deviceType":"smoke","createdTime":1732400000123,"msgId":"m-1","data":{"smoke":1,"t":21.50}}"#.to_owned(),
        r#"{"sn":"02B","msgId":"m-2","createdTime":"17324","data":null}"#.to_owned(),
    ];
    let batch = records(&lines);
    runtime().block_on(async {
        let (mut target, _) = PostgresTarget::open(&pg.url()).await.expect("open");
        target.commit(&batch).await.expect("commit");
    });
    let rows = pg.query(
        "SELECT msg_id, coalesce(app_id, '-'), sn, coalesce(device_type, '-'), \
         coalesce(type, '-'), created_time, \
         to_char(received_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US'), \
         coalesce(data::text, 'NULL'), push FROM pushes ORDER BY msg_id",
    );
    let micros =
        |r: &sensoro_mqtt::relay::Record| r.received_at.format("%Y-%m-%dT%H:%M:%S%.6f").to_string();
    let want = format!(
        "m-1|foobar|01A|smoke|text|1732400000123|{}|{{\"t\": 21.50, \"smoke\": 1}}|{}\n\
         m-2|-|02B|-|-|17324|{}|NULL|{}\n",
        micros(&batch[0]),
        lines[0],
        micros(&batch[1]),
        lines[1]
    );
    assert_eq!(rows, want);
}

/// A row whose data jsonb cannot hold (\u0000) fails the COPY of its run: that run is
/// written row by row, the row is stored with data NULL and its push exact, and every other
/// row of the batch (on the other connection too) is stored.
#[test]
fn postgres_a_row_jsonb_refuses_is_kept_with_data_null_and_the_batch_is_stored() {
    let Some(pg) = Postgres::start() else { return };
    let mut lines = pushes::lines(23, 500, "foobar");
    lines[123] = r#"{"sn":"0NUL","msgId":"nul-1","data":{"text":"a\u0000b"}}"#.to_owned();
    lines[321] = r#"{"sn":"0NUL","msgId":"nul-2","data":{"t":"\u0000"}}"#.to_owned();
    let batch = records(&lines);
    runtime().block_on(async {
        let (mut target, _) = PostgresTarget::open(&pg.url()).await.expect("open");
        let verdicts = target.commit(&batch).await.expect("commit");
        assert_eq!(verdicts, vec![Verdict::Committed; batch.len()]);
    });
    assert_eq!(pg.count(), 500);
    assert_eq!(
        pg.query(
            "SELECT coalesce(data::text, 'NULL'), push FROM pushes \
             WHERE msg_id LIKE 'nul-%' ORDER BY msg_id"
        ),
        format!("NULL|{}\nNULL|{}\n", lines[123], lines[321])
    );
}

/// Under row-level security PostgreSQL refuses COPY (and says to use INSERT): the relay
/// inserts instead, and keeps doing so.
#[test]
fn postgres_under_row_level_security_the_relay_inserts() {
    let Some(pg) = Postgres::start() else { return };
    pg.query(
        "CREATE TABLE pushes (msg_id text COLLATE \"C\" PRIMARY KEY, app_id text, sn text, \
         device_type text, type text, created_time text, received_at timestamptz NOT NULL, \
         data jsonb, push json NOT NULL); \
         ALTER TABLE pushes ENABLE ROW LEVEL SECURITY; \
         CREATE POLICY everything ON pushes USING (true) WITH CHECK (true); \
         CREATE ROLE relay LOGIN; GRANT ALL ON pushes TO relay;",
    );
    let url = format!("postgres://relay@127.0.0.1:{}/postgres", pg.port);
    let lines = pushes::lines(25, 700, "foobar");
    runtime().block_on(async {
        let (mut target, warning) = PostgresTarget::open(&url).await.expect("open");
        assert!(warning.is_none(), "{warning:?}");
        for part in [&lines[..400], &lines[400..]] {
            let batch = records(part);
            let verdicts = target.commit(&batch).await.expect("commit");
            assert_eq!(verdicts, vec![Verdict::Committed; batch.len()]);
        }
    });
    assert_exactly_once(postgres_pushes(&pg), &lines);
}

/// When the server lets the relay open only one connection, that one takes whole batches:
/// no half is left waiting for the connection that cannot open, and no warning is given.
#[test]
fn postgres_with_one_connection_allowed_every_push_is_stored_at_once() {
    let Some(pg) = Postgres::start() else { return };
    pg.query("CREATE ROLE solo LOGIN CONNECTION LIMIT 1; GRANT ALL ON SCHEMA public TO solo;");
    let url = format!("postgres://solo@127.0.0.1:{}/postgres", pg.port);
    let lines = pushes::lines(26, 800, "foobar");
    runtime().block_on(async {
        let (mut target, warning) = PostgresTarget::open(&url).await.expect("open");
        assert!(warning.is_none(), "{warning:?}");
        let batch = records(&lines);
        let verdicts = target.commit(&batch).await.expect("commit");
        assert_eq!(verdicts, vec![Verdict::Committed; batch.len()]);
    });
    assert_exactly_once(postgres_pushes(&pg), &lines);
}

/// A msgId twice in one batch (a push redelivered into the batch holding it) is written
/// once, the first copy, and both are committed.
#[test]
fn postgres_a_msg_id_twice_in_a_batch_is_stored_once_the_first_copy() {
    let Some(pg) = Postgres::start() else { return };
    let mut lines = pushes::lines(27, 600, "foobar");
    let again = format!("{},\"resent\":true}}", &lines[10][..lines[10].len() - 1]);
    lines.insert(450, again);
    let batch = records(&lines);
    runtime().block_on(async {
        let (mut target, _) = PostgresTarget::open(&pg.url()).await.expect("open");
        let verdicts = target.commit(&batch).await.expect("commit");
        assert_eq!(verdicts, vec![Verdict::Committed; batch.len()]);
    });
    let mut want: Vec<String> = lines[..450].iter().chain(&lines[451..]).cloned().collect();
    want.sort();
    let mut stored = postgres_pushes(&pg);
    stored.sort();
    assert!(stored == want, "each msgId once, its first copy");
}

/// A table made by an earlier relay (msg_id in the database's default collation) is written
/// to as it is, by COPY and by ON CONFLICT.
#[test]
fn postgres_a_table_from_an_earlier_relay_is_used_as_it_is() {
    let Some(pg) = Postgres::start() else { return };
    pg.query(
        "CREATE TABLE pushes (msg_id text PRIMARY KEY, app_id text, sn text, \
         device_type text, type text, created_time text, received_at timestamptz NOT NULL, \
         data jsonb, push json NOT NULL)",
    );
    let lines = pushes::lines(24, 400, "foobar");
    runtime().block_on(async {
        let (mut target, _) = PostgresTarget::open(&pg.url()).await.expect("open");
        target.commit(&records(&lines[..300])).await.expect("copy");
        target
            .commit(&records(&lines[200..]))
            .await
            .expect("on conflict");
    });
    assert_exactly_once(postgres_pushes(&pg), &lines);
}

/// A role that may not create the table, where there is none yet: exit 7, saying what the
/// role needs.
#[test]
fn postgres_a_role_that_cannot_create_the_table_is_told_what_it_needs() {
    let Some(pg) = Postgres::start() else { return };
    pg.query("CREATE ROLE reader LOGIN;");
    let url = format!("postgres://reader@127.0.0.1:{}/postgres", pg.port);
    let err = runtime()
        .block_on(PostgresTarget::open(&url))
        .err()
        .expect("refused");
    assert_eq!(err.kind(), sensoro_mqtt::error::ExitKind::Target);
    assert!(err.message().contains("42501"), "{}", err.message());
    assert!(
        err.hint().is_some_and(|h| h.contains("INSERT")),
        "{:?}",
        err.hint()
    );
}
