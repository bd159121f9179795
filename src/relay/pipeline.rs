//! The delivery loop: gather a batch from the feed, commit it to every target (retrying with
//! jittered backoff what is not committed yet), write what was rejected for good to the dead
//! letter, and only then acknowledge the batch.
//!
//! Two stages run side by side: the feeder reads and parses pushes into the next batch while
//! the committer commits the previous one. Batches are committed one after another, in the
//! order they were gathered, and acknowledged in that order once committed, so pushes of one
//! device never overtake each other. At most [`PipelineConfig::window`] batches are handed to
//! the committer at once (one committing, the next waiting) besides the one being gathered:
//! the pushes in flight stay bounded, and while a target is down nothing more is read, so the
//! broker keeps the backlog. A batch is handed over as soon as the committer is idle (low
//! latency when pushes trickle in), else once it is full or old: under load, batches grow
//! while the previous commit runs, so commits get fewer and larger by themselves.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::future::join_all;
use tokio::sync::{mpsc, watch};

use super::dead_letter::DeadLetter;
use super::feed::Event;
use super::progress::Progress;
use super::record::{NotAPush, RecordReader};
use super::{target_failed, Record, Target, Verdict};
use crate::error::Result;
use crate::mqtt::Backoff;

/// How a pipeline batches and retries.
#[derive(Debug, Clone)]
pub struct PipelineConfig {
    /// The most pushes in one batch.
    pub max_batch: usize,
    /// The most batches handed to the committer and not yet acknowledged (the one being
    /// committed included); one more is gathered meanwhile.
    pub window: usize,
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
            window: 2,
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

/// Where pushes come from and where their acknowledgements go: the MQTT feed
/// ([`super::feed::Feed`]), or a script in the tests.
pub trait Source {
    /// What acknowledges one push.
    type Token: Send + 'static;

    /// The next event; an error is final. Must be cancel-safe.
    fn next(&mut self) -> impl Future<Output = Result<Event<Self::Token>>>;

    /// The next event if one is ready now, without waiting.
    fn try_next(&mut self) -> Option<Result<Event<Self::Token>>>;

    /// Acknowledges pushes, in the order given.
    fn ack(&mut self, tokens: Vec<Self::Token>);
}

/// One batch: the records, the payloads that are not pushes, and in arrival order every
/// token to acknowledge once the batch is committed.
struct Gathered<T> {
    records: Vec<Arc<Record>>,
    not_pushes: Vec<NotAPush>,
    tokens: Vec<T>,
    opened: tokio::time::Instant,
    /// The source had nothing more ready when last asked.
    drained: bool,
}

impl<T> Gathered<T> {
    fn new() -> Self {
        Gathered {
            records: Vec::new(),
            not_pushes: Vec::new(),
            tokens: Vec::new(),
            opened: tokio::time::Instant::now(),
            drained: false,
        }
    }
}

/// Where the time of a run goes, printed to stderr at the end when `SENSORO_RELAY_TIMING` is
/// set: how long the committer waited for a batch and spent committing, how long the feeder
/// waited for the broker and spent turning payloads into records, and the batch sizes.
#[derive(Debug, Default)]
struct Timing {
    batches: u64,
    pushes: u64,
    largest: usize,
    commit_idle: Duration,
    committing: Duration,
    feed_wait: Duration,
    parsing: Duration,
}

impl Timing {
    fn wanted() -> bool {
        std::env::var_os("SENSORO_RELAY_TIMING").is_some()
    }

    fn report(&self, feed: &Timing) {
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        eprintln!(
            "relay timing: {} batches, {} pushes (mean {:.0}, largest {}); committer: {:.0} ms \
             committing ({:.2} ms a batch), {:.0} ms idle; feeder: {:.0} ms waiting for the \
             broker, {:.0} ms parsing",
            self.batches,
            self.pushes,
            self.pushes as f64 / self.batches.max(1) as f64,
            self.largest,
            ms(self.committing),
            ms(self.committing) / self.batches.max(1) as f64,
            ms(self.commit_idle),
            ms(feed.feed_wait),
            ms(feed.parsing),
        );
    }
}

/// What the feeder hands to the committer.
enum Work<T> {
    Batch(Gathered<T>),
    Note(String),
}

/// Runs the relay until `shutdown` resolves (or a fatal error): read, deliver, acknowledge.
/// The committer is a task of its own, so that on a runtime with two threads a commit's
/// work (and noticing that it is done) never waits for the feeder's parsing, nor the other
/// way round. Gives the pipeline back, with its counters, for the summary.
///
/// # Errors
///
/// The feed failed for good (refused, session gone) or a target did (exit 7).
pub async fn run<S: Source>(
    source: &mut S,
    reader: &mut RecordReader,
    pipeline: Pipeline,
    shutdown: impl Future<Output = ()>,
) -> (Pipeline, Result<Ending>) {
    let (work_tx, work_rx) = mpsc::unbounded_channel();
    let (done_tx, done_rx) = mpsc::unbounded_channel();
    let (stop_tx, stop_rx) = watch::channel(false);
    let limits = Limits {
        max_batch: pipeline.config.max_batch.max(1),
        window: pipeline.config.window.max(1),
        max_age: pipeline.config.max_age,
    };
    let committer = tokio::spawn(async move {
        let mut pipeline = pipeline;
        let mut timing = Timing::default();
        let result = commit_loop(&mut pipeline, work_rx, done_tx, stop_rx, &mut timing).await;
        (pipeline, timing, result)
    });
    let mut feed_timing = Timing::default();
    let fed = feed_loop(
        source,
        reader,
        limits,
        work_tx,
        done_rx,
        &stop_tx,
        shutdown,
        &mut feed_timing,
    )
    .await;
    let (pipeline, commit_timing, committed) = match committer.await {
        Ok(outcome) => outcome,
        // The committer panicked: nothing sensible is left to hand back. (It is never
        // aborted, and the runtime outlives this call, so it cannot have been cancelled.)
        Err(err) if err.is_panic() => std::panic::resume_unwind(err.into_panic()),
        Err(err) => std::panic::resume_unwind(Box::new(err.to_string())),
    };
    if Timing::wanted() {
        commit_timing.report(&feed_timing);
    }
    // A target's failure explains why the feeder stopped: it comes first.
    let result = match committed {
        Ok(()) => fed,
        Err(err) => Err(err),
    };
    (pipeline, result)
}

/// How the feeder bounds what it gathers and hands over.
#[derive(Clone, Copy)]
struct Limits {
    max_batch: usize,
    window: usize,
    max_age: Duration,
}

/// Reads the source into batches and hands them over; acknowledges what comes back
/// committed. Ends on a signal or a feed error after the committer has finished, and
/// right away when the committer stopped (a target failed).
#[allow(clippy::too_many_arguments)]
async fn feed_loop<S: Source>(
    source: &mut S,
    reader: &mut RecordReader,
    limits: Limits,
    work: mpsc::UnboundedSender<Work<S::Token>>,
    mut done: mpsc::UnboundedReceiver<Vec<S::Token>>,
    stop: &watch::Sender<bool>,
    shutdown: impl Future<Output = ()>,
    timing: &mut Timing,
) -> Result<Ending> {
    tokio::pin!(shutdown);
    let mut batch = Gathered::new();
    let mut in_flight = 0usize;
    let outcome = 'feeding: loop {
        let room = in_flight < limits.window;
        // Nothing more to read now: the broker may be holding the rest back until
        // acknowledgements free its window, so waiting for a fuller batch would stall both.
        let ripe = batch.tokens.len() >= limits.max_batch
            || batch.opened.elapsed() >= limits.max_age
            || batch.drained;
        if !batch.tokens.is_empty() && (in_flight == 0 || (room && ripe)) {
            let full = std::mem::replace(&mut batch, Gathered::new());
            if work.send(Work::Batch(full)).is_err() {
                break Ok(Ending::Signal);
            }
            in_flight += 1;
            continue;
        }
        let reading = batch.tokens.len() < limits.max_batch;
        let deadline = batch.opened + limits.max_age;
        let aging = !batch.tokens.is_empty() && room;
        let waited = Instant::now();
        tokio::select! {
            biased;
            () = &mut shutdown => break Ok(Ending::Signal),
            tokens = done.recv() => match tokens {
                Some(tokens) => {
                    source.ack(tokens);
                    in_flight -= 1;
                }
                // The committer stopped: a target failed for good.
                None => return Ok(Ending::Signal),
            },
            event = source.next(), if reading => {
                let event = match event {
                    Ok(event) => event,
                    Err(err) => break Err(err),
                };
                let parsing = Instant::now();
                timing.feed_wait += parsing - waited;
                if batch.tokens.is_empty() {
                    batch.opened = tokio::time::Instant::now();
                }
                take(event, reader, &work, &mut batch);
                batch.drained = false;
                while batch.tokens.len() < limits.max_batch {
                    match source.try_next() {
                        Some(Ok(event)) => take(event, reader, &work, &mut batch),
                        Some(Err(err)) => break 'feeding Err(err),
                        None => {
                            batch.drained = true;
                            break;
                        }
                    }
                }
                timing.parsing += parsing.elapsed();
            }
            () = tokio::time::sleep_until(deadline), if aging => {}
        }
    };
    finish(source, stop, work, done, outcome).await
}

/// Tells the committer to stop (it finishes the batch in hand within the grace period and
/// abandons the ones waiting), then acknowledges what it still commits.
async fn finish<T>(
    source: &mut impl Source<Token = T>,
    stop: &watch::Sender<bool>,
    work: mpsc::UnboundedSender<Work<T>>,
    mut done: mpsc::UnboundedReceiver<Vec<T>>,
    outcome: Result<Ending>,
) -> Result<Ending> {
    let _ = stop.send(true);
    drop(work);
    while let Some(tokens) = done.recv().await {
        source.ack(tokens);
    }
    outcome
}

/// Commits the batches in the order they come and sends back the tokens of each once it
/// is committed. Returns when the feeder hung up, or with a target's fatal error.
async fn commit_loop<T>(
    pipeline: &mut Pipeline,
    mut work: mpsc::UnboundedReceiver<Work<T>>,
    done: mpsc::UnboundedSender<Vec<T>>,
    mut stop: watch::Receiver<bool>,
    timing: &mut Timing,
) -> Result<()> {
    let mut tick = tokio::time::interval(Duration::from_millis(250));
    let mut waited = Instant::now();
    loop {
        let item = tokio::select! {
            item = work.recv() => item,
            _ = tick.tick() => {
                pipeline.progress.update();
                continue;
            }
        };
        let batch = match item {
            None => return Ok(()),
            Some(Work::Note(note)) => {
                pipeline.progress.note(&note);
                continue;
            }
            Some(Work::Batch(batch)) => batch,
        };
        let started = Instant::now();
        timing.commit_idle += started - waited;
        if *stop.borrow() {
            pipeline.progress.abandoned += batch.records.len() as u64;
            continue;
        }
        for not_a_push in &batch.not_pushes {
            pipeline.dead_letter_not_a_push(not_a_push)?;
        }
        if !batch.records.is_empty() {
            let grace = pipeline.config.grace;
            let outcome = {
                let deliver = pipeline.deliver(&batch.records);
                tokio::pin!(deliver);
                tokio::select! {
                    result = &mut deliver => Some(result),
                    // The guard `wait_for` returns is dropped at once: it may not be held
                    // across an await on a task that moves between threads.
                    _ = async { stop.wait_for(|&stopping| stopping).await.map(drop) } => {
                        tokio::time::timeout(grace, &mut deliver).await.ok()
                    }
                }
            };
            let Some(result) = outcome else {
                pipeline.progress.abandoned += batch.records.len() as u64;
                continue;
            };
            result?;
            pipeline.progress.update();
        }
        timing.committing += started.elapsed();
        timing.batches += 1;
        timing.pushes += batch.records.len() as u64;
        timing.largest = timing.largest.max(batch.records.len());
        waited = Instant::now();
        // The feeder may be gone (a feed error): nothing left to acknowledge on.
        let _ = done.send(batch.tokens);
    }
}

impl Pipeline {
    /// Writes a payload that is not a push to the dead letter, and says so.
    fn dead_letter_not_a_push(&mut self, not_a_push: &NotAPush) -> Result<()> {
        self.dead.not_a_push(not_a_push)?;
        let note = format!(
            "a payload that is not a push ({}) was written to the dead letter {}",
            not_a_push.error,
            self.dead.path().display()
        );
        self.progress.rejected += 1;
        self.progress.note(&note);
        Ok(())
    }
}

/// Adds one feed event to the batch: a push becomes a record (a payload that is not a push
/// goes to the dead letter with its batch); a note is passed on to be shown.
fn take<T>(
    event: Event<T>,
    reader: &mut RecordReader,
    work: &mpsc::UnboundedSender<Work<T>>,
    batch: &mut Gathered<T>,
) {
    match event {
        Event::Note(note) => {
            let _ = work.send(Work::Note(note));
        }
        Event::Push { payload, token } => {
            match reader.read(&payload) {
                Ok(record) => batch.records.push(Arc::new(record)),
                Err(not_a_push) => batch.not_pushes.push(not_a_push),
            }
            batch.tokens.push(token);
        }
    }
}

#[cfg(test)]
#[path = "pipeline_tests.rs"]
mod tests;
