//! The relay's counters and how they are shown on stderr: a live line (indicatif) on a
//! terminal, one status line a minute otherwise, and the summary at the end. stdout is never
//! written.

use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// How often a status line is printed when stderr is not a terminal.
pub const STATUS_EVERY: Duration = Duration::from_secs(60);

/// Counters of one relay run, and their display.
pub struct Progress {
    /// Pushes committed by every target (or dead-lettered) and so acknowledged.
    pub delivered: u64,
    /// Pushes rejected for good (dead letter).
    pub rejected: u64,
    /// Push deliveries tried again.
    pub retries: u64,
    /// Pushes left behind by a signal (unacknowledged: the broker keeps them).
    pub abandoned: u64,
    /// Pushes in the batch being delivered.
    pub backlog: usize,
    latency: Option<Duration>,
    started: Instant,
    last_status: Instant,
    last_retry_note: Option<Instant>,
    bar: Option<ProgressBar>,
}

impl Progress {
    /// A live line on a terminal (`live`), else a status line every minute.
    #[must_use]
    pub fn new(live: bool) -> Self {
        let bar = live.then(|| {
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
            bar.set_style(
                ProgressStyle::with_template("{spinner} {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            bar
        });
        let now = Instant::now();
        Progress {
            delivered: 0,
            rejected: 0,
            retries: 0,
            abandoned: 0,
            backlog: 0,
            latency: None,
            started: now,
            last_status: now,
            last_retry_note: None,
            bar,
        }
    }

    /// Records how long one round of commits took (smoothed).
    pub fn latency(&mut self, took: Duration) {
        self.latency = Some(match self.latency {
            Some(old) => old.mul_f64(0.8) + took.mul_f64(0.2),
            None => took,
        });
    }

    /// Shows a line (above the live line on a terminal).
    pub fn note(&self, line: &str) {
        match &self.bar {
            Some(bar) => bar.suspend(|| eprintln!("{line}")),
            None => eprintln!("{line}"),
        }
    }

    /// Says that a target is retrying, at most once every 5 seconds.
    pub fn note_retry(&mut self, target: &str, reason: &str, pushes: usize, delay: Duration) {
        if self
            .last_retry_note
            .is_some_and(|at| at.elapsed() < Duration::from_secs(5))
        {
            self.update();
            return;
        }
        self.last_retry_note = Some(Instant::now());
        self.note(&format!(
            "target {target}: {reason}; {pushes} unacknowledged, retrying in {:.1}s",
            delay.as_secs_f64()
        ));
        self.update();
    }

    /// The status in one line.
    #[must_use]
    pub fn status(&self) -> String {
        let elapsed = self.started.elapsed().as_secs_f64().max(0.001);
        let latency = self.latency.map_or_else(
            || "-".to_owned(),
            |l| format!("{:.1}ms", l.as_secs_f64() * 1e3),
        );
        format!(
            "relay: {} delivered ({:.0}/s), target latency {latency}, {} retries, {} dead-lettered, backlog {}",
            self.delivered,
            self.delivered as f64 / elapsed,
            self.retries,
            self.rejected,
            self.backlog
        )
    }

    /// Redraws the live line, or prints the status line when a minute has passed.
    pub fn update(&mut self) {
        match &self.bar {
            Some(bar) => {
                bar.set_message(self.status());
                bar.tick();
            }
            None if self.last_status.elapsed() >= STATUS_EVERY => {
                self.last_status = Instant::now();
                eprintln!("{}", self.status());
            }
            None => {}
        }
    }

    /// Clears the live line and returns the summary line.
    #[must_use]
    pub fn finish(&self, targets: usize) -> String {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
        let elapsed = self.started.elapsed().as_secs_f64();
        let mut line = format!(
            "relay: {} delivered to {targets} target{} in {elapsed:.1}s ({:.0}/s), {} retries, {} dead-lettered",
            self.delivered,
            if targets == 1 { "" } else { "s" },
            self.delivered as f64 / elapsed.max(0.001),
            self.retries,
            self.rejected,
        );
        if self.abandoned > 0 {
            line.push_str(&format!(
                ", {} left unacknowledged for the broker to send again",
                self.abandoned
            ));
        }
        line
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_status_line_names_every_counter() {
        let mut progress = Progress::new(false);
        progress.delivered = 10;
        progress.retries = 2;
        progress.rejected = 1;
        progress.backlog = 3;
        progress.latency(Duration::from_millis(4));
        let status = progress.status();
        for part in [
            "10 delivered",
            "latency 4.0ms",
            "2 retries",
            "1 dead-lettered",
            "backlog 3",
        ] {
            assert!(status.contains(part), "{status}");
        }
        progress.abandoned = 5;
        assert!(progress.finish(2).contains("to 2 targets"));
        assert!(progress.finish(1).contains("5 left unacknowledged"));
    }
}
