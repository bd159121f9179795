//! The delivery loop: read a batch from the feed, commit it to every target (retrying with
//! jittered backoff what is not committed yet), write what was rejected for good to the dead
//! letter, and only then acknowledge the batch. One batch at a time: the pushes in flight are
//! bounded by the batch size (plus what the broker's own window lets through), pushes of one
//! device never overtake each other, and while a target is down nothing more is read.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::future::join_all;

use super::dead_letter::DeadLetter;
use super::feed::{AckToken, Feed, FeedEvent};
use super::progress::Progress;
use super::record::RecordReader;
use super::{target_failed, Record, Target, Verdict};
use crate::error::Result;
use crate::mqtt::Backoff;

/// How a pipeline batches and retries.
#[derive(Debug, Clone)]
pub struct PipelineConfig {
    /// The most pushes in one batch (and so in flight).
    pub max_batch: usize,
    /// The oldest a batch may grow before it is committed while pushes keep coming.
    pub max_age: Duration,
    /// Stop with exit 7 after this long of failing without committing anything.
    pub give_up: Option<Duration>,
    /// First retry delay.
    pub retry_base: Duration,
    /// Longest retry delay.
    pub retry_max: Duration,
    /// On a signal, how long an unfinished commit may still take before it is abandoned.
    pub grace: Duration,
}

impl Default for PipelineConfig {
    fn default() -> Self {
        PipelineConfig {
            max_batch: 1000,
            max_age: Duration::from_millis(50),
            give_up: None,
            retry_base: Duration::from_millis(100),
            retry_max: Duration::from_secs(5),
            grace: Duration::from_millis(120),
        }
    }
}

/// How the run ended (when it did not fail).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// Ctrl-C or SIGTERM.
    Signal,
}

/// The targets, the dead letter and the counters.
pub struct Pipeline {
    targets: Vec<Box<dyn Target>>,
    dead: DeadLetter,
    config: PipelineConfig,
    progress: Progress,
    failing_since: Option<Instant>,
}

impl Pipeline {
    /// A pipeline over `targets` (at least one).
    #[must_use]
    pub fn new(
        targets: Vec<Box<dyn Target>>,
        dead: DeadLetter,
        config: PipelineConfig,
        progress: Progress,
    ) -> Self {
        Pipeline {
            targets,
            dead,
            config,
            progress,
            failing_since: None,
        }
    }

    /// The counters and the progress display.
    pub fn progress(&mut self) -> &mut Progress {
        &mut self.progress
    }

    /// The dead letter.
    #[must_use]
    pub fn dead_letter(&self) -> &DeadLetter {
        &self.dead
    }

    /// Commits `batch` to every target until each push is committed or rejected (and
    /// dead-lettered) by each. Returns when the whole batch may be acknowledged.
    ///
    /// # Errors
    ///
    /// A target failed for good, `--give-up` passed, or the dead letter cannot be written.
    pub async fn deliver(&mut self, batch: &[Arc<Record>]) -> Result<()> {
        let mut pending: Vec<Vec<usize>> = vec![(0..batch.len()).collect(); self.targets.len()];
        let mut backoff = Backoff::new(self.config.retry_base, self.config.retry_max);
        self.progress.backlog = batch.len();
        loop {
            let started = Instant::now();
            let rounds = self
                .targets
                .iter_mut()
                .zip(&pending)
                .filter(|(_, indices)| !indices.is_empty())
                .map(|(target, indices)| {
                    let sub: Vec<Arc<Record>> =
                        indices.iter().map(|&i| Arc::clone(&batch[i])).collect();
                    async move {
                        let verdicts = target.commit(&sub).await;
                        (target.name().to_owned(), verdicts)
                    }
                })
                .collect::<Vec<_>>();
            let results = join_all(rounds).await;
            self.progress.latency(started.elapsed());
            let mut committed_any = false;
            let mut last_retry: Option<(String, String)> = None;
            let busy: Vec<usize> = (0..pending.len())
                .filter(|&t| !pending[t].is_empty())
                .collect();
            for (t, (name, verdicts)) in busy.into_iter().zip(results) {
                let verdicts = verdicts?;
                if verdicts.len() != pending[t].len() {
                    return Err(target_failed(
                        &name,
                        format!(
                            "answered for {} of {} pushes",
                            verdicts.len(),
                            pending[t].len()
                        ),
                    ));
                }
                let mut still = Vec::new();
                for (&i, verdict) in pending[t].iter().zip(verdicts) {
                    match verdict {
                        Verdict::Committed => committed_any = true,
                        Verdict::Rejected { reason, status } => {
                            self.dead.reject(&batch[i], &name, &reason, status)?;
                            self.progress.rejected += 1;
                            self.progress.note(&format!(
                                "target {name} rejected push {} for good ({reason}): written to \
                                 the dead letter {}",
                                batch[i].key,
                                self.dead.path().display()
                            ));
                            committed_any = true;
                        }
                        Verdict::Retry(reason) => {
                            still.push(i);
                            // Say why the first push failed, not that the others wait.
                            if reason != super::WAITING || last_retry.is_none() {
                                last_retry = Some((name.clone(), reason));
                            }
                        }
                    }
                }
                pending[t] = still;
            }
            let left: usize = pending.iter().map(Vec::len).sum();
            if left == 0 {
                self.failing_since = None;
                self.progress.backlog = 0;
                self.progress.delivered += batch.len() as u64;
                return Ok(());
            }
            if committed_any {
                self.failing_since = None;
            }
            let since = *self.failing_since.get_or_insert_with(Instant::now);
            let (name, reason) = last_retry.unwrap_or_default();
            if let Some(limit) = self.config.give_up {
                if since.elapsed() >= limit {
                    return Err(target_failed(
                        &name,
                        format!(
                            "failing for {:.1}s without committing anything (--give-up), last: \
                             {reason}",
                            since.elapsed().as_secs_f64()
                        ),
                    ));
                }
            }
            let delay = backoff.next_delay();
            self.progress.retries += left as u64;
            self.progress.note_retry(&name, &reason, left, delay);
            let delay = match self.config.give_up {
                Some(limit) => delay.min(limit.saturating_sub(since.elapsed())),
                None => delay,
            };
            tokio::time::sleep(delay).await;
        }
    }
}

/// One batch being gathered: the records and, in arrival order, every token to acknowledge.
#[derive(Default)]
struct Gathered {
    records: Vec<Arc<Record>>,
    tokens: Vec<AckToken>,
}

/// Runs the relay until `shutdown` resolves (or a fatal error): read, deliver, acknowledge.
///
/// # Errors
///
/// The feed failed for good (refused, session gone) or a target did (exit 7).
pub async fn run(
    feed: &mut Feed,
    reader: &mut RecordReader,
    pipeline: &mut Pipeline,
    shutdown: impl Future<Output = ()>,
) -> Result<Ending> {
    tokio::pin!(shutdown);
    let mut tick = tokio::time::interval(Duration::from_millis(250));
    loop {
        let event = tokio::select! {
            event = feed.next() => event?,
            () = &mut shutdown => return Ok(Ending::Signal),
            _ = tick.tick() => {
                pipeline.progress().update();
                continue;
            }
        };
        let mut batch = Gathered::default();
        take(event, reader, pipeline, &mut batch)?;
        let opened = Instant::now();
        while batch.records.len() < pipeline.config.max_batch
            && opened.elapsed() < pipeline.config.max_age
        {
            match feed.try_next() {
                Some(event) => take(event?, reader, pipeline, &mut batch)?,
                None => break,
            }
        }
        if batch.tokens.is_empty() {
            continue;
        }
        if !batch.records.is_empty() {
            let grace = pipeline.config.grace;
            let outcome = {
                let deliver = pipeline.deliver(&batch.records);
                tokio::pin!(deliver);
                tokio::select! {
                    result = &mut deliver => Some((result, false)),
                    () = &mut shutdown => {
                        tokio::time::timeout(grace, &mut deliver).await.ok().map(|r| (r, true))
                    }
                }
            };
            let Some((result, stopping)) = outcome else {
                pipeline.progress().abandoned += batch.records.len() as u64;
                return Ok(Ending::Signal);
            };
            result?;
            feed.ack(batch.tokens);
            pipeline.progress().update();
            if stopping {
                return Ok(Ending::Signal);
            }
        } else {
            feed.ack(batch.tokens);
        }
    }
}

/// Adds one feed event to the batch: a push becomes a record (a payload that is not a push
/// goes to the dead letter at once); a note is shown.
fn take(
    event: FeedEvent,
    reader: &mut RecordReader,
    pipeline: &mut Pipeline,
    batch: &mut Gathered,
) -> Result<()> {
    match event {
        FeedEvent::Note(note) => pipeline.progress().note(&note),
        FeedEvent::Push { payload, token } => {
            match reader.read(&payload) {
                Ok(record) => batch.records.push(Arc::new(record)),
                Err(not_a_push) => {
                    pipeline.dead.not_a_push(&not_a_push)?;
                    let note = format!(
                        "a payload that is not a push ({}) was written to the dead letter {}",
                        not_a_push.error,
                        pipeline.dead.path().display()
                    );
                    pipeline.progress().rejected += 1;
                    pipeline.progress().note(&note);
                }
            }
            batch.tokens.push(token);
        }
    }
    Ok(())
}
