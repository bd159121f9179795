//! `relay`: every push delivered into the user's own system, at least once, stored once.
//!
//! A push is acknowledged to the broker only after every target committed it (or rejected it
//! for good and it was written to the dead letter). Pushes go in batches, bounded by size and
//! age; the next batch is gathered while one commits, batches commit one after another and
//! are acknowledged in order, so pushes of one device keep their order and the pushes in
//! flight stay bounded: while a target is down the relay stops reading and the broker keeps
//! the backlog.
//!
//! Targets implement [`Target`], one file each. Only [`feed`] knows the MQTT session.

pub mod dead_letter;
pub mod exec;
pub mod feed;
pub mod pipeline;
pub mod postgres;
pub mod progress;
pub mod record;
pub mod sqlite;
pub mod webhook;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use crate::error::{Error, ExitKind};

pub use record::{Record, RecordReader};

/// What a target says about one push of a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Stored or delivered: safe to acknowledge as far as this target goes.
    Committed,
    /// Refused for good (e.g. HTTP 400): goes to the dead letter, then is acknowledged.
    Rejected {
        /// Why, in words.
        reason: String,
        /// The HTTP status, for a webhook.
        status: Option<u16>,
    },
    /// Not now (target down, 5xx, timeout): tried again with backoff, not acknowledged.
    Retry(String),
}

impl Verdict {
    /// The same retry verdict for every push of a batch.
    #[must_use]
    pub fn all_retry(n: usize, reason: &str) -> Vec<Verdict> {
        vec![Verdict::Retry(reason.to_owned()); n]
    }
}

/// A commit in progress.
pub type CommitFuture<'a> = Pin<Box<dyn Future<Output = Result<Vec<Verdict>, Error>> + Send + 'a>>;

/// Where pushes go: commit a batch, say per push whether it may be acknowledged.
pub trait Target: Send {
    /// How the user named it, without credentials (for messages and the dead letter).
    fn name(&self) -> &str;

    /// Commits `batch` (in order; pushes of one device must not overtake each other) and
    /// returns one verdict per push. `Err` means the target failed for good
    /// (authentication, schema): the relay stops with exit 7.
    fn commit<'a>(&'a mut self, batch: &'a [Arc<Record>]) -> CommitFuture<'a>;
}

/// The retry reason of a push held back behind an earlier push of its device.
pub const WAITING: &str = "an earlier push of this device is retried";

/// Runs `one` for every push of `batch`, at most `concurrency` at a time, keeping the order
/// of each device's pushes: they go one after another, and once one of them has to be
/// retried, the device's later pushes wait (retried too) so they cannot overtake it.
/// Pushes without an `sn` are independent. Returns the verdicts in batch order.
pub async fn by_device<F, Fut>(batch: &[Arc<Record>], concurrency: usize, one: F) -> Vec<Verdict>
where
    F: Fn(Arc<Record>) -> Fut,
    Fut: Future<Output = Verdict>,
{
    use futures_util::stream::{self, StreamExt as _};

    let mut chains: Vec<Vec<usize>> = Vec::new();
    let mut by_sn: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for (i, record) in batch.iter().enumerate() {
        match record.sn.as_deref() {
            Some(sn) => {
                let chain = *by_sn.entry(sn).or_insert_with(|| {
                    chains.push(Vec::new());
                    chains.len() - 1
                });
                chains[chain].push(i);
            }
            None => chains.push(vec![i]),
        }
    }
    let one = &one;
    let done: Vec<Vec<(usize, Verdict)>> = stream::iter(chains)
        .map(|chain| async move {
            let mut out = Vec::with_capacity(chain.len());
            let mut blocked = false;
            for i in chain {
                if blocked {
                    out.push((i, Verdict::Retry(WAITING.to_owned())));
                    continue;
                }
                let verdict = one(Arc::clone(&batch[i])).await;
                blocked = matches!(verdict, Verdict::Retry(_));
                out.push((i, verdict));
            }
            out
        })
        .buffer_unordered(concurrency.max(1))
        .collect()
        .await;
    let mut verdicts = vec![Verdict::Committed; batch.len()];
    for (i, verdict) in done.into_iter().flatten() {
        verdicts[i] = verdict;
    }
    verdicts
}

/// A `--to` value, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetSpec {
    /// `http://…` or `https://…`.
    Webhook(String),
    /// `sqlite:PATH`.
    Sqlite(std::path::PathBuf),
    /// `postgres://…` or `postgresql://…`.
    Postgres(String),
    /// `exec:COMMAND`.
    Exec(String),
}

/// The most pushes per batch when `--batch-size` is not given. A database commits a batch
/// in one transaction, and the bigger the batch, the less each push costs (SQLite writes each
/// index page a batch touches once per commit); a webhook or a command takes pushes one by
/// one, and a smaller batch is acknowledged sooner, so fewer come again after a restart.
#[must_use]
pub fn default_batch_size(targets: &[TargetSpec]) -> usize {
    let databases = targets
        .iter()
        .all(|t| matches!(t, TargetSpec::Sqlite(_) | TargetSpec::Postgres(_)));
    if databases && !targets.is_empty() {
        10_000
    } else {
        1_000
    }
}

impl TargetSpec {
    /// Parses a `--to` value.
    ///
    /// # Errors
    ///
    /// Words for a value that names no target.
    pub fn parse(text: &str) -> Result<TargetSpec, String> {
        let lower = text.to_ascii_lowercase();
        if lower.starts_with("http://") || lower.starts_with("https://") {
            Ok(TargetSpec::Webhook(text.to_owned()))
        } else if lower.starts_with("postgres://") || lower.starts_with("postgresql://") {
            Ok(TargetSpec::Postgres(text.to_owned()))
        } else if let Some(path) = text.strip_prefix("sqlite:") {
            let path = path.strip_prefix("//").unwrap_or(path);
            if path.is_empty() {
                return Err("sqlite: needs a file path, e.g. sqlite:pushes.db".to_owned());
            }
            Ok(TargetSpec::Sqlite(path.into()))
        } else if let Some(command) = text.strip_prefix("exec:") {
            if command.trim().is_empty() {
                return Err("exec: needs a command, e.g. exec:'./store.sh'".to_owned());
            }
            Ok(TargetSpec::Exec(command.to_owned()))
        } else {
            Err(format!(
                "'{text}' is not a target: use http(s)://…, sqlite:PATH, postgres://… or \
                 exec:COMMAND"
            ))
        }
    }
}

/// A target failed for good (exit 7).
#[must_use]
pub fn target_failed(name: &str, message: impl std::fmt::Display) -> Error {
    Error::new(ExitKind::Target, format!("target {name}: {message}"))
}

/// A URL with any password replaced by `***`, for messages.
#[must_use]
pub fn redact_url(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        return url.to_owned();
    };
    let rest = &url[scheme_end + 3..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    let Some(at) = authority.rfind('@') else {
        return url.to_owned();
    };
    let user_info = &authority[..at];
    let user = user_info.split(':').next().unwrap_or_default();
    let masked = if user_info.contains(':') {
        format!("{user}:***")
    } else {
        user.to_owned()
    };
    format!(
        "{}://{masked}@{}{}",
        &url[..scheme_end],
        &authority[at + 1..],
        &rest[authority_end..]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_are_big_for_databases_only() {
        let spec = |s: &str| TargetSpec::parse(s).expect(s);
        let sqlite = spec("sqlite:p.db");
        let pg = spec("postgres://u@h/db");
        let hook = spec("http://127.0.0.1:1/h");
        let exec = spec("exec:cat");
        assert_eq!(default_batch_size(&[sqlite.clone(), pg.clone()]), 10_000);
        assert_eq!(default_batch_size(&[pg, hook]), 1_000);
        assert_eq!(default_batch_size(&[exec]), 1_000);
        assert_eq!(default_batch_size(&[sqlite]), 10_000);
    }

    #[test]
    fn targets_parse_by_their_scheme() {
        assert_eq!(
            TargetSpec::parse("sqlite:pushes.db"),
            Ok(TargetSpec::Sqlite("pushes.db".into()))
        );
        assert_eq!(
            TargetSpec::parse("sqlite:///tmp/p.db"),
            Ok(TargetSpec::Sqlite("/tmp/p.db".into()))
        );
        assert!(matches!(
            TargetSpec::parse("HTTPS://x.example/hook"),
            Ok(TargetSpec::Webhook(_))
        ));
        assert!(matches!(
            TargetSpec::parse("postgresql://u@h/db"),
            Ok(TargetSpec::Postgres(_))
        ));
        assert_eq!(
            TargetSpec::parse("exec:cat >> out"),
            Ok(TargetSpec::Exec("cat >> out".into()))
        );
        for bad in ["sqlite:", "exec: ", "ftp://x", "pushes.db"] {
            assert!(TargetSpec::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn passwords_in_urls_are_masked() {
        assert_eq!(
            redact_url("postgres://relay:s3cret@db:5432/iot?sslmode=disable"),
            "postgres://relay:***@db:5432/iot?sslmode=disable"
        );
        assert_eq!(
            redact_url("postgres://relay@db/iot"),
            "postgres://relay@db/iot"
        );
        assert_eq!(redact_url("http://h/p?a=b@c"), "http://h/p?a=b@c");
    }
}
