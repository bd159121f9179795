//! The pushes of one app, kept once for all its sessions.
//!
//! A push is stored once, numbered, and every session only remembers the number of the next
//! push it needs (its cursor). Memory is therefore one bounded window of recent pushes per
//! app, whatever the number of subscribers; a session that falls more than the window behind
//! (offline, or reading too slowly) loses the oldest pushes, and the loss is counted. Nothing
//! here knows about sessions or sockets.

use std::collections::VecDeque;

use bytes::Bytes;

/// A bounded, numbered window of an app's most recent pushes.
#[derive(Debug)]
pub(crate) struct Feed {
    pushes: VecDeque<Bytes>,
    /// Number of `pushes[0]`.
    first: u64,
    capacity: usize,
}

impl Feed {
    /// A feed keeping at most `capacity` (at least 1) pushes.
    pub(crate) fn new(capacity: usize) -> Self {
        Feed {
            pushes: VecDeque::new(),
            first: 0,
            capacity: capacity.max(1),
        }
    }

    /// Appends a push, forgetting the oldest when full.
    pub(crate) fn push(&mut self, payload: Bytes) {
        if self.pushes.len() >= self.capacity {
            self.pushes.pop_front();
            self.first += 1;
        }
        self.pushes.push_back(payload);
    }

    /// Number of the oldest push still kept.
    pub(crate) fn first(&self) -> u64 {
        self.first
    }

    /// Number the next push will get.
    pub(crate) fn next(&self) -> u64 {
        self.first + self.pushes.len() as u64
    }

    /// The push numbered `number`, if it is still kept.
    pub(crate) fn get(&self, number: u64) -> Option<&Bytes> {
        let index = number.checked_sub(self.first)?;
        self.pushes.get(usize::try_from(index).ok()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_newest_pushes_with_stable_numbers() {
        let mut feed = Feed::new(2);
        for n in 0..3u8 {
            feed.push(Bytes::from(vec![n]));
        }
        assert_eq!((feed.first(), feed.next()), (1, 3));
        assert_eq!(feed.get(0), None);
        assert_eq!(feed.get(1).map(|b| b[0]), Some(1));
        assert_eq!(feed.get(2).map(|b| b[0]), Some(2));
        assert_eq!(feed.get(3), None);
    }
}
