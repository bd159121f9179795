//! The pipelined loop against a scripted source and a scripted target: what is read while a
//! batch commits, in which order batches are acknowledged, and that nothing is acknowledged
//! before (or without) its commit.

use std::collections::VecDeque;
use std::sync::Mutex;

use bytes::Bytes;

use super::*;
use crate::error::ExitKind;
use crate::push::PushReader;
use crate::relay::{CommitFuture, Verdict};

/// What happened, in order: `read N`, `commit [keys]`, `committed [keys]`, `ack N`.
type Log = Arc<Mutex<Vec<String>>>;

fn log(log: &Log, line: String) {
    if let Ok(mut lines) = log.lock() {
        lines.push(line);
    }
}

fn lines(log: &Log) -> Vec<String> {
    log.lock().map(|l| l.clone()).unwrap_or_default()
}

/// Pushes `p0`, `p1`, … in bursts of two (a millisecond apart, the second one ready at once,
/// as from one socket read), token = index; then nothing.
struct Script {
    pushes: VecDeque<usize>,
    in_burst: usize,
    log: Log,
}

impl Script {
    fn push(&mut self) -> Option<Event<usize>> {
        let i = self.pushes.pop_front()?;
        log(&self.log, format!("read {i}"));
        let payload = format!(r#"{{"msgId":"p{i}","sn":"{}","data":{{"t":{i}}}}}"#, i % 3);
        Some(Event::Push {
            payload: Bytes::from(payload),
            token: i,
        })
    }
}

impl Source for Script {
    type Token = usize;

    async fn next(&mut self) -> Result<Event<usize>> {
        tokio::time::sleep(Duration::from_millis(1)).await;
        self.in_burst = 1;
        match self.push() {
            Some(event) => Ok(event),
            None => std::future::pending().await,
        }
    }

    fn try_next(&mut self) -> Option<Result<Event<usize>>> {
        if self.in_burst >= 2 {
            return None;
        }
        self.in_burst += 1;
        self.push().map(Ok)
    }

    fn ack(&mut self, tokens: Vec<usize>) {
        for token in tokens {
            log(&self.log, format!("ack {token}"));
        }
    }
}

/// Takes `delay` per commit; fails for good on a batch holding `fatal_on`.
struct Slow {
    delay: Duration,
    fatal_on: Option<&'static str>,
    log: Log,
}

impl Target for Slow {
    fn name(&self) -> &str {
        "slow"
    }

    fn commit<'a>(&'a mut self, batch: &'a [Arc<Record>]) -> CommitFuture<'a> {
        Box::pin(async move {
            let keys: Vec<&str> = batch.iter().map(|r| r.key.as_str()).collect();
            log(&self.log, format!("commit {keys:?}"));
            tokio::time::sleep(self.delay).await;
            if self.fatal_on.is_some_and(|key| keys.contains(&key)) {
                return Err(target_failed("slow", "schema mismatch"));
            }
            log(&self.log, format!("committed {keys:?}"));
            Ok(vec![Verdict::Committed; batch.len()])
        })
    }
}

fn pipeline(target: Slow, dir: &tempfile::TempDir) -> Pipeline {
    let config = PipelineConfig {
        max_batch: 2,
        window: 2,
        max_age: Duration::from_secs(10),
        ..PipelineConfig::default()
    };
    Pipeline::new(
        vec![Box::new(target)],
        DeadLetter::new(dir.path().join("dead.ndjson")),
        config,
        Progress::new(false),
    )
}

/// Runs until `acks` acknowledgements were logged (or 10 s passed).
async fn run_script(n: usize, target: Slow, log: &Log, acks: usize) -> Result<Ending> {
    let dir = tempfile::tempdir().map_err(|e| crate::error::Error::io("tempdir", &e))?;
    let mut source = Script {
        pushes: (0..n).collect(),
        in_burst: 0,
        log: Arc::clone(log),
    };
    let mut reader = RecordReader::new(PushReader::new(None, None, true));
    let pipeline = pipeline(target, &dir);
    let watched = Arc::clone(log);
    let enough = async move {
        let started = Instant::now();
        while lines(&watched)
            .iter()
            .filter(|l| l.starts_with("ack "))
            .count()
            < acks
            && started.elapsed() < Duration::from_secs(10)
        {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    };
    run(&mut source, &mut reader, pipeline, enough).await.1
}

fn position(lines: &[String], line: &str) -> usize {
    lines
        .iter()
        .position(|l| l == line)
        .unwrap_or_else(|| panic!("no '{line}' in {lines:#?}"))
}

#[tokio::test]
async fn batches_are_read_while_one_commits_and_acknowledged_in_order_after_commit() {
    let log = Log::default();
    let target = Slow {
        delay: Duration::from_millis(30),
        fatal_on: None,
        log: Arc::clone(&log),
    };
    let ending = run_script(9, target, &log, 9).await.expect("runs");
    assert_eq!(ending, Ending::Signal);
    let lines = lines(&log);
    let acks: Vec<&str> = lines
        .iter()
        .filter(|l| l.starts_with("ack "))
        .map(String::as_str)
        .collect();
    let expected: Vec<String> = (0..9).map(|i| format!("ack {i}")).collect();
    assert_eq!(acks, expected, "{lines:#?}");
    // Each push is acknowledged only after the batch holding it was committed.
    for i in 0..9 {
        let committed = lines
            .iter()
            .position(|l| l.starts_with("committed") && l.contains(&format!("\"p{i}\"")))
            .unwrap_or_else(|| panic!("p{i} never committed: {lines:#?}"));
        assert!(
            committed < position(&lines, &format!("ack {i}")),
            "{lines:#?}"
        );
    }
    // The feeder kept reading while the first batch committed: the next batch was full
    // before the first one was done.
    assert!(
        position(&lines, "read 3") < position(&lines, "committed [\"p0\", \"p1\"]"),
        "{lines:#?}"
    );
    // Batches are committed one after another, in the order they were read.
    let commits: Vec<&String> = lines.iter().filter(|l| l.starts_with("commit ")).collect();
    let commits: Vec<&str> = commits.iter().map(|s| s.as_str()).collect();
    assert_eq!(commits.first(), Some(&"commit [\"p0\", \"p1\"]"));
    assert_eq!(commits.get(1), Some(&"commit [\"p2\", \"p3\"]"));
    // The last push came alone with nothing behind it: it went out without waiting.
    assert_eq!(commits.last(), Some(&"commit [\"p8\"]"));
}

#[tokio::test]
async fn a_window_of_two_batches_stops_the_reading_until_one_is_acknowledged() {
    let log = Log::default();
    let target = Slow {
        delay: Duration::from_millis(200),
        fatal_on: None,
        log: Arc::clone(&log),
    };
    run_script(20, target, &log, 1).await.expect("runs");
    let lines = lines(&log);
    let first_ack = position(&lines, "ack 0");
    let read_before = lines[..first_ack]
        .iter()
        .filter(|l| l.starts_with("read "))
        .count();
    // One batch committing (p0, p1), one waiting (p2, p3), one gathered (p4, p5): no more.
    assert_eq!(read_before, 6, "{lines:#?}");
}

#[tokio::test]
async fn a_later_batch_that_fails_for_good_is_not_acknowledged() {
    let log = Log::default();
    let target = Slow {
        delay: Duration::from_millis(20),
        fatal_on: Some("p3"),
        log: Arc::clone(&log),
    };
    let err = run_script(9, target, &log, 9)
        .await
        .expect_err("target fails");
    assert_eq!(err.kind(), ExitKind::Target);
    let lines = lines(&log);
    let acks: Vec<&str> = lines
        .iter()
        .filter(|l| l.starts_with("ack "))
        .map(String::as_str)
        .collect();
    // [p0, p1] was committed before [p2, p3] failed: only it is acknowledged.
    assert_eq!(acks, ["ack 0", "ack 1"], "{lines:#?}");
    assert!(
        !lines
            .iter()
            .any(|l| l.starts_with("commit ") && l.contains("\"p5\"")),
        "nothing is committed after the failure: {lines:#?}"
    );
}
