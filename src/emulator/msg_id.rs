//! msgIds that never repeat: not across pushes, apps or runs.
//!
//! PLATFORM.md: a consumer that stores pushes de-duplicates by msgId, so two different pushes
//! must never share one. A msgId here is a 64-bit prefix made from the run (the wall clock and
//! the operating system's randomness) and the AppID, then a scrambled counter shared by every
//! app of the run. The seed of the readings plays no part, so `--seed` repeats the readings of
//! a run without repeating its msgIds.

/// Unique msgIds: a prefix made from the run and the app, then a scrambled counter shared by
/// every app of the run. Unique within a run by construction (the counter never repeats and
/// scrambling is a bijection), across runs and apps as long as their 64-bit prefixes differ.
#[derive(Debug, Clone)]
pub(crate) struct MsgIds {
    prefixes: Vec<u64>,
    next: u64,
}

impl MsgIds {
    pub(crate) fn new(run: u64, app_ids: &[String]) -> Self {
        let prefixes = app_ids
            .iter()
            .map(|id| finalise(run ^ finalise(fnv1a(id.as_bytes()))))
            .collect();
        MsgIds { prefixes, next: 0 }
    }

    /// The next msgId, for a push of `app`.
    pub(crate) fn next(&mut self, app: usize) -> String {
        let prefix = self.prefixes.get(app).copied().unwrap_or_default();
        let counter = self.next;
        self.next = self.next.wrapping_add(1);
        format!("{prefix:016x}{:016x}", scramble(counter))
    }
}

/// A value that differs between runs: the wall clock in nanoseconds mixed with the operating
/// system's randomness (the clock and the process id alone when that fails).
pub(crate) fn run_nonce() -> u64 {
    let clock = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or_default();
    let mut random = [0u8; 8];
    let random = match getrandom::fill(&mut random) {
        Ok(()) => u64::from_le_bytes(random),
        Err(_) => u64::from(std::process::id()).rotate_left(32),
    };
    finalise(clock ^ finalise(random))
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// SplitMix64's finaliser: a bijection that spreads every input bit.
fn finalise(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A bijection of the counter that does not look like one.
fn scramble(counter: u64) -> u64 {
    finalise(counter.wrapping_mul(0x9E37_79B9_7F4A_7C15))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn apps() -> Vec<String> {
        vec!["a".to_owned(), "b".to_owned()]
    }

    #[test]
    fn msg_ids_never_repeat_within_a_run_and_differ_between_apps() {
        let mut ids = MsgIds::new(7, &apps());
        let mut seen = HashSet::new();
        for n in 0..10_000 {
            let id = ids.next(n % 2);
            assert_eq!(id.len(), 32, "{id}");
            assert!(seen.insert(id.clone()), "{id} repeated");
        }
        let mut a = MsgIds::new(7, &apps());
        let mut b = MsgIds::new(7, &apps());
        assert_ne!(a.next(0)[..16], b.next(1)[..16], "apps share a prefix");
    }

    #[test]
    fn two_runs_never_share_a_msg_id() {
        let one: HashSet<String> = {
            let mut ids = MsgIds::new(run_nonce(), &apps());
            (0..1000).map(|n| ids.next(n % 2)).collect()
        };
        let mut ids = MsgIds::new(run_nonce(), &apps());
        assert!((0..1000).all(|n| !one.contains(&ids.next(n % 2))));
    }
}
