//! The line `listen` prints on stderr when it stops: pushes, devices, time, rate, reconnects,
//! with singular and plural right. Pure: the caller says whether the line must start afresh
//! (after a `^C` the terminal echoed on stderr's current line).

use std::time::Duration;

/// What a listen run did.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    /// Pushes printed.
    pub pushes: u64,
    /// Distinct devices (sn) among them.
    pub devices: usize,
    /// How long the run took.
    pub elapsed: Duration,
    /// Reconnections after the first connection.
    pub reconnects: u64,
}

impl Summary {
    /// `1 push from 1 device in 2.0s (0.5/s), 0 reconnects` and a newline; with `fresh_line`
    /// it starts with a newline too, so it never shares a line with an echoed `^C`.
    #[must_use]
    pub fn line(&self, fresh_line: bool) -> String {
        let seconds = self.elapsed.as_secs_f64();
        let rate = if seconds > 0.0 {
            self.pushes as f64 / seconds
        } else {
            0.0
        };
        format!(
            "{}{} from {} in {seconds:.1}s ({rate:.1}/s), {}\n",
            if fresh_line { "\n" } else { "" },
            counted(self.pushes, "push", "pushes"),
            counted(self.devices as u64, "device", "devices"),
            counted(self.reconnects, "reconnect", "reconnects"),
        )
    }
}

/// `1 push`, `0 pushes`, `2 pushes`.
fn counted(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(pushes: u64, devices: usize, reconnects: u64) -> Summary {
        Summary {
            pushes,
            devices,
            elapsed: Duration::from_secs(2),
            reconnects,
        }
    }

    #[test]
    fn one_is_singular_and_everything_else_plural() {
        assert_eq!(
            summary(1, 1, 1).line(false),
            "1 push from 1 device in 2.0s (0.5/s), 1 reconnect\n"
        );
        assert_eq!(
            summary(0, 0, 0).line(false),
            "0 pushes from 0 devices in 2.0s (0.0/s), 0 reconnects\n"
        );
        assert_eq!(
            summary(4, 2, 3).line(false),
            "4 pushes from 2 devices in 2.0s (2.0/s), 3 reconnects\n"
        );
    }

    #[test]
    fn after_an_echoed_interrupt_the_summary_starts_on_a_fresh_line() {
        assert!(summary(1, 1, 0).line(true).starts_with("\n1 push "));
        assert!(summary(1, 1, 0).line(false).starts_with("1 push "));
    }
}
