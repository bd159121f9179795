//! `--to exec:COMMAND`: runs COMMAND through `sh -c` once per push, the push on its stdin
//! (one line, newline-terminated) and `SENSORO_SN`, `SENSORO_DEVICE_TYPE`, `SENSORO_MSG_ID`,
//! `SENSORO_APP_ID` in its environment. Exit 0 commits; anything else (or running past the
//! timeout, which kills the command's whole process group) is retried with backoff, up to
//! `--max-attempts`, then the push goes to the dead letter. Its stdout goes to the relay's
//! stderr, so the relay's stdout stays clean.

use std::collections::HashMap;
use std::os::fd::AsFd as _;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::AsyncWriteExt as _;

use super::{by_device, CommitFuture, Record, Target, Verdict};

/// How the command target behaves.
#[derive(Debug, Clone)]
pub struct ExecOptions {
    /// Commands at once.
    pub concurrency: usize,
    /// The longest one run may take.
    pub timeout: Duration,
    /// Runs per push before it goes to the dead letter.
    pub max_attempts: u32,
}

/// A command run per push.
pub struct ExecTarget {
    name: String,
    command: String,
    options: ExecOptions,
    /// Failed runs so far, per push key (forgotten once the push is done).
    attempts: Mutex<HashMap<String, u32>>,
}

impl ExecTarget {
    /// A target running `command`.
    #[must_use]
    pub fn new(command: &str, options: ExecOptions) -> ExecTarget {
        ExecTarget {
            name: format!("exec:{command}"),
            command: command.to_owned(),
            options,
            attempts: Mutex::new(HashMap::new()),
        }
    }

    async fn run(&self, record: Arc<Record>) -> Verdict {
        let failure = match self.run_once(&record).await {
            Ok(()) => {
                self.forget(&record.key);
                return Verdict::Committed;
            }
            Err(failure) => failure,
        };
        let attempts = {
            let mut map = self
                .attempts
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let n = map.entry(record.key.clone()).or_insert(0);
            *n += 1;
            *n
        };
        if attempts >= self.options.max_attempts {
            self.forget(&record.key);
            Verdict::Rejected {
                reason: format!("{failure} (attempt {attempts} of {attempts})"),
                status: None,
            }
        } else {
            Verdict::Retry(format!(
                "{failure} (attempt {attempts} of {})",
                self.options.max_attempts
            ))
        }
    }

    fn forget(&self, key: &str) {
        self.attempts
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(key);
    }

    /// One run; `Err` says what went wrong in words.
    async fn run_once(&self, record: &Record) -> Result<(), String> {
        let stdout = std::io::stderr()
            .as_fd()
            .try_clone_to_owned()
            .map_or_else(|_| Stdio::null(), Stdio::from);
        let env = |value: &Option<String>| value.clone().unwrap_or_default();
        let mut child = tokio::process::Command::new("sh")
            .arg("-c")
            .arg(&self.command)
            .env("SENSORO_SN", env(&record.sn))
            .env("SENSORO_DEVICE_TYPE", env(&record.device_type))
            .env("SENSORO_MSG_ID", &record.key)
            .env("SENSORO_APP_ID", env(&record.app_id))
            .stdin(Stdio::piped())
            .stdout(stdout)
            .stderr(Stdio::inherit())
            .process_group(0)
            .kill_on_drop(true)
            .spawn()
            .map_err(|err| format!("cannot run sh: {err}"))?;
        let group = child.id();
        let mut stdin = child.stdin.take();
        let finished = tokio::time::timeout(self.options.timeout, async {
            if let Some(pipe) = stdin.as_mut() {
                // A command that does not read its input is fine: ignore a closed pipe.
                let _ = pipe.write_all(record.json.as_bytes()).await;
                let _ = pipe.write_all(b"\n").await;
            }
            drop(stdin.take());
            child.wait().await
        })
        .await;
        match finished {
            Ok(Ok(status)) if status.success() => Ok(()),
            Ok(Ok(status)) => Err(match status.code() {
                Some(code) => format!("the command exited with status {code}"),
                None => "the command was killed by a signal".to_owned(),
            }),
            Ok(Err(err)) => Err(format!("cannot wait for the command: {err}")),
            Err(_) => {
                kill_group(group).await;
                let _ = child.kill().await;
                Err(format!(
                    "the command ran past {:.1}s and was killed",
                    self.options.timeout.as_secs_f64()
                ))
            }
        }
    }
}

/// Kills the command's whole process group (what `sh -c` started with it too).
async fn kill_group(group: Option<u32>) {
    if let Some(pid) = group {
        let _ = tokio::process::Command::new("kill")
            .args(["-KILL", "--", &format!("-{pid}")])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .await;
    }
}

impl Target for ExecTarget {
    fn name(&self) -> &str {
        &self.name
    }

    fn commit<'a>(&'a mut self, batch: &'a [Arc<Record>]) -> CommitFuture<'a> {
        let this = &*self;
        Box::pin(async move {
            Ok(by_device(batch, this.options.concurrency, |record| this.run(record)).await)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::push::PushReader;
    use crate::relay::RecordReader;

    fn record(text: &str) -> Arc<Record> {
        Arc::new(
            RecordReader::new(PushReader::new(None, None, true))
                .read(text.as_bytes())
                .expect("push"),
        )
    }

    fn options() -> ExecOptions {
        ExecOptions {
            concurrency: 2,
            timeout: Duration::from_secs(5),
            max_attempts: 2,
        }
    }

    #[tokio::test]
    async fn the_push_arrives_on_stdin_with_its_fields_in_the_environment() {
        let dir = tempfile::tempdir().expect("dir");
        let out = dir.path().join("out");
        let command = format!(
            "{{ cat; echo \"$SENSORO_SN|$SENSORO_DEVICE_TYPE|$SENSORO_MSG_ID|$SENSORO_APP_ID\"; }} > '{}'",
            out.display()
        );
        let mut target = ExecTarget::new(&command, options());
        let text =
            r#"{"appId":"foobar","sn":"S1","deviceType":"node","msgId":"m1","data":{"t":1.50}}"#;
        let verdicts = target.commit(&[record(text)]).await.expect("commit");
        assert_eq!(verdicts, vec![Verdict::Committed]);
        let written = std::fs::read_to_string(&out).expect("out");
        assert_eq!(written, format!("{text}\nS1|node|m1|foobar\n"));
    }

    #[tokio::test]
    async fn a_failing_command_is_retried_then_dead_lettered() {
        let mut target = ExecTarget::new("exit 3", options());
        let batch = [record(r#"{"msgId":"m1","sn":"a"}"#)];
        let first = target.commit(&batch).await.expect("commit");
        assert!(
            matches!(&first[0], Verdict::Retry(r) if r.contains("status 3")),
            "{first:?}"
        );
        let second = target.commit(&batch).await.expect("commit");
        assert!(matches!(&second[0], Verdict::Rejected { .. }), "{second:?}");
    }

    #[tokio::test]
    async fn a_command_past_its_timeout_is_killed() {
        let mut target = ExecTarget::new(
            "sleep 30",
            ExecOptions {
                timeout: Duration::from_millis(200),
                ..options()
            },
        );
        let started = std::time::Instant::now();
        let verdicts = target
            .commit(&[record(r#"{"msgId":"m1"}"#)])
            .await
            .expect("commit");
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{:?}",
            started.elapsed()
        );
        assert!(
            matches!(&verdicts[0], Verdict::Retry(r) if r.contains("killed")),
            "{verdicts:?}"
        );
    }

    #[tokio::test]
    async fn a_retried_push_holds_back_the_later_pushes_of_its_device() {
        let dir = tempfile::tempdir().expect("dir");
        let marker = dir.path().join("seen");
        // Fails for m1, succeeds for the rest.
        let command = format!(
            "[ \"$SENSORO_MSG_ID\" != m1 ] && echo \"$SENSORO_MSG_ID\" >> '{}'",
            marker.display()
        );
        let mut target = ExecTarget::new(
            &command,
            ExecOptions {
                max_attempts: 5,
                ..options()
            },
        );
        let batch = [
            record(r#"{"msgId":"m1","sn":"a"}"#),
            record(r#"{"msgId":"m2","sn":"a"}"#),
            record(r#"{"msgId":"m3","sn":"b"}"#),
        ];
        let verdicts = target.commit(&batch).await.expect("commit");
        assert!(matches!(verdicts[0], Verdict::Retry(_)));
        assert!(matches!(&verdicts[1], Verdict::Retry(r) if r.contains("earlier push")));
        assert_eq!(verdicts[2], Verdict::Committed);
        assert_eq!(std::fs::read_to_string(&marker).expect("seen"), "m3\n");
    }
}
