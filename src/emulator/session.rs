//! One client's MQTT session: its subscription, its place in the app's feed of pushes, the
//! QoS 1 pushes in flight, and which connection (if any) currently owns it.
//!
//! A session outlives its connection when the client asked for a persistent one (clean
//! session = 0): it keeps its place in the app's [`Feed`] while it is away, and in-flight
//! pushes go out again with DUP when it returns. Everything is bounded: a session holds no
//! pushes of its own beyond its in-flight window; falling more than the feed's window behind
//! loses the oldest pushes, counted. Nothing here does I/O or awaits.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use bytes::Bytes;
use rumqttc::mqttbytes::v4::Publish;
use rumqttc::mqttbytes::QoS;
use tokio::sync::Notify;

use super::feed::Feed;

/// The wake-up line between the broker and the connection task that owns a session.
#[derive(Debug, Default)]
pub(crate) struct Link {
    /// Identifies the connection.
    pub(crate) id: u64,
    /// Rung when there is something to send or the connection was taken over.
    pub(crate) wake: Notify,
    /// Set when another connection took the session over.
    kicked: AtomicBool,
    /// Set once the connection has ended and handed the session back.
    ended: AtomicBool,
    /// Rung when the connection has ended.
    ended_wake: Notify,
}

impl Link {
    pub(crate) fn new(id: u64) -> Self {
        Link {
            id,
            ..Link::default()
        }
    }

    /// Tells the connection to close: a newer one took its clientId.
    pub(crate) fn kick(&self) {
        self.kicked.store(true, Ordering::Release);
        self.wake.notify_one();
    }

    pub(crate) fn is_kicked(&self) -> bool {
        self.kicked.load(Ordering::Acquire)
    }

    /// The connection has ended: what it read is in the session.
    pub(crate) fn end(&self) {
        self.ended.store(true, Ordering::Release);
        self.ended_wake.notify_waiters();
    }

    /// Waits until the connection has ended.
    pub(crate) async fn ended(&self) {
        loop {
            let wake = self.ended_wake.notified();
            tokio::pin!(wake);
            // Registered before the check: an `end` between the two is not missed.
            wake.as_mut().enable();
            if self.ended.load(Ordering::Acquire) {
                return;
            }
            wake.await;
        }
    }
}

/// What [`Session::on_publish`] did with a new push.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Delivery {
    /// Not subscribed, or offline at QoS 0: the push is not for this session.
    Ignored,
    /// The push is due; `dropped` older pushes were lost because the session fell behind.
    Due {
        /// Pushes this session will never get.
        dropped: u64,
    },
}

/// One client's session. Shared between the broker and the connection as `Arc<Mutex<_>>`;
/// every method is short and never awaits, so the lock is never held across I/O.
#[derive(Debug)]
pub(crate) struct Session {
    pub(crate) client_id: String,
    pub(crate) persistent: bool,
    subscription: Option<QoS>,
    /// Number (in the app's [`Feed`]) of the next push this session needs.
    cursor: u64,
    inflight: VecDeque<(u16, Bytes)>,
    /// QoS 1 pushes a previous connection left unacknowledged: sent again, with DUP, first.
    retry: VecDeque<(u16, Bytes)>,
    next_pkid: u16,
    dropped_unreported: u64,
    owner: Option<Arc<Link>>,
    pub(crate) offline_since: Option<Instant>,
}

/// Locks a session; a poisoned lock (a panic elsewhere) still yields the data.
pub(crate) fn lock(session: &Mutex<Session>) -> MutexGuard<'_, Session> {
    session
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Session {
    pub(crate) fn new(client_id: String, persistent: bool) -> Self {
        Session {
            client_id,
            persistent,
            subscription: None,
            cursor: 0,
            inflight: VecDeque::new(),
            retry: VecDeque::new(),
            next_pkid: 0,
            dropped_unreported: 0,
            owner: None,
            offline_since: None,
        }
    }

    pub(crate) fn subscription(&self) -> Option<QoS> {
        self.subscription
    }

    /// Subscribes at `qos` (or unsubscribes with `None`). A new subscription starts with the
    /// feed's next push, `feed_next`: nothing published before it is delivered.
    pub(crate) fn set_subscription(&mut self, qos: Option<QoS>, feed_next: u64) {
        if self.subscription.is_none() {
            self.cursor = feed_next;
        }
        self.subscription = qos;
    }

    pub(crate) fn owner(&self) -> Option<&Arc<Link>> {
        self.owner.as_ref()
    }

    pub(crate) fn is_owned_by(&self, link_id: u64) -> bool {
        self.owner.as_ref().is_some_and(|link| link.id == link_id)
    }

    /// Gives the session to a new connection: the previous owner is kicked, and pushes that
    /// were in flight will be sent again, with DUP, before anything new. A QoS 0 subscriber
    /// gets nothing of what was published while it was away (`feed_next` is where it resumes).
    pub(crate) fn attach(&mut self, link: Arc<Link>, feed_next: u64) {
        if let Some(previous) = self.owner.replace(link) {
            previous.kick();
        }
        self.offline_since = None;
        // Retries not yet resent are older than nothing in `inflight`: new pushes only go out
        // once `retry` is empty, so `inflight` then `retry` is the original order.
        let mut retry: VecDeque<_> = self.inflight.drain(..).collect();
        retry.append(&mut self.retry);
        self.retry = retry;
        if self.subscription == Some(QoS::AtMostOnce) {
            self.cursor = feed_next;
        }
    }

    /// The connection `link_id` is gone; the session waits for the next one.
    pub(crate) fn detach(&mut self, link_id: u64) {
        if self.is_owned_by(link_id) {
            self.owner = None;
            self.offline_since = Some(Instant::now());
        }
    }

    /// A push was appended to the app's feed, which now keeps numbers `first..next`.
    pub(crate) fn on_publish(&mut self, first: u64, next: u64) -> Delivery {
        let Some(qos) = self.subscription else {
            return Delivery::Ignored;
        };
        if self.owner.is_none() && qos == QoS::AtMostOnce {
            self.cursor = next;
            return Delivery::Ignored;
        }
        Delivery::Due {
            dropped: self.catch_up(first),
        }
    }

    /// Skips what the feed no longer keeps (the session fell behind); returns how many pushes
    /// were lost, also kept for [`Session::take_dropped`].
    pub(crate) fn catch_up(&mut self, feed_first: u64) -> u64 {
        if self.subscription.is_none() {
            // Nothing was due to a session without a subscription: nothing is lost.
            self.cursor = self.cursor.max(feed_first);
            return 0;
        }
        let lost = feed_first.saturating_sub(self.cursor);
        self.cursor = self.cursor.max(feed_first);
        self.dropped_unreported += lost;
        lost
    }

    /// Pushes lost since the last call.
    pub(crate) fn take_dropped(&mut self) -> u64 {
        std::mem::take(&mut self.dropped_unreported)
    }

    /// The next PUBLISH to send on `topic`: a retry first, then the next push of `feed` if the
    /// in-flight window (`max_inflight`) has room. Call [`Session::catch_up`] first.
    pub(crate) fn next_publish(
        &mut self,
        topic: &str,
        max_inflight: usize,
        feed: &Feed,
    ) -> Option<Publish> {
        if let Some((pkid, payload)) = self.retry.pop_front() {
            self.inflight.push_back((pkid, payload.clone()));
            let mut publish = Publish::from_bytes(topic, QoS::AtLeastOnce, payload);
            publish.pkid = pkid;
            publish.dup = true;
            return Some(publish);
        }
        let qos = self.subscription?;
        if qos == QoS::AtLeastOnce && self.inflight.len() >= max_inflight {
            return None;
        }
        let payload = feed.get(self.cursor)?.clone();
        self.cursor += 1;
        let mut publish = Publish::from_bytes(topic, qos, payload);
        if qos == QoS::AtLeastOnce {
            publish.pkid = self.fresh_pkid();
            self.inflight
                .push_back((publish.pkid, publish.payload.clone()));
        }
        Some(publish)
    }

    /// A packet id that is neither 0 nor in flight. The window is far below 65535, so the
    /// search ends within `inflight.len() + retry.len() + 1` steps.
    fn fresh_pkid(&mut self) -> u16 {
        loop {
            self.next_pkid = self.next_pkid.wrapping_add(1).max(1);
            let candidate = self.next_pkid;
            let taken = |list: &VecDeque<(u16, Bytes)>| list.iter().any(|(id, _)| *id == candidate);
            if !taken(&self.inflight) && !taken(&self.retry) {
                return candidate;
            }
        }
    }

    /// QoS 1 pushes sent and not yet acknowledged.
    pub(crate) fn in_flight(&self) -> usize {
        self.inflight.len()
    }

    /// A PUBACK arrived; true when it matched a push in flight.
    pub(crate) fn ack(&mut self, pkid: u16) -> bool {
        match self.inflight.iter().position(|(id, _)| *id == pkid) {
            Some(index) => {
                self.inflight.remove(index);
                true
            }
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOPIC: &str = "users/app/devices";

    /// A session subscribed at `qos`, owned by link 1, and an empty feed of `capacity`.
    fn subscribed(qos: QoS, capacity: usize) -> (Session, Feed) {
        let feed = Feed::new(capacity);
        let mut session = Session::new("app/1".to_owned(), true);
        session.attach(Arc::new(Link::new(1)), feed.next());
        session.set_subscription(Some(qos), feed.next());
        (session, feed)
    }

    fn publish(session: &mut Session, feed: &mut Feed, n: u8) -> Delivery {
        feed.push(Bytes::from(vec![n]));
        session.on_publish(feed.first(), feed.next())
    }

    fn next(session: &mut Session, feed: &Feed, window: usize) -> Option<Publish> {
        session.catch_up(feed.first());
        session.next_publish(TOPIC, window, feed)
    }

    #[test]
    fn unsubscribed_session_ignores_pushes() {
        let mut feed = Feed::new(10);
        let mut session = Session::new("app/1".to_owned(), false);
        assert_eq!(publish(&mut session, &mut feed, 1), Delivery::Ignored);
        assert!(next(&mut session, &feed, 10).is_none());
    }

    #[test]
    fn a_new_subscription_starts_after_what_was_published() {
        let (mut session, mut feed) = subscribed(QoS::AtMostOnce, 10);
        session.set_subscription(None, feed.next());
        publish(&mut session, &mut feed, 1);
        session.set_subscription(Some(QoS::AtMostOnce), feed.next());
        assert!(next(&mut session, &feed, 10).is_none());
    }

    #[test]
    fn a_session_without_subscription_loses_nothing() {
        let mut feed = Feed::new(3);
        for n in 0..10 {
            feed.push(Bytes::from(vec![n]));
        }
        let mut session = Session::new("app/1".to_owned(), false);
        session.attach(Arc::new(Link::new(1)), feed.next());
        assert_eq!(session.catch_up(feed.first()), 0);
        assert_eq!(session.take_dropped(), 0);
        session.set_subscription(Some(QoS::AtLeastOnce), feed.next());
        assert_eq!(session.catch_up(feed.first()), 0);
        assert!(next(&mut session, &feed, 10).is_none());
    }

    #[test]
    fn falling_behind_the_feed_drops_the_oldest_and_counts() {
        let (mut session, mut feed) = subscribed(QoS::AtMostOnce, 3);
        let dropped: Vec<Delivery> = (0..5)
            .map(|n| publish(&mut session, &mut feed, n))
            .collect();
        assert_eq!(dropped[4], Delivery::Due { dropped: 1 });
        assert_eq!(session.take_dropped(), 2);
        assert_eq!(session.take_dropped(), 0);
        let first = next(&mut session, &feed, 10).expect("due");
        assert_eq!(first.payload[0], 2);
    }

    #[test]
    fn window_limits_qos1_in_flight() {
        let (mut session, mut feed) = subscribed(QoS::AtLeastOnce, 10);
        for n in 0..3 {
            publish(&mut session, &mut feed, n);
        }
        let a = next(&mut session, &feed, 2).expect("first");
        let _b = next(&mut session, &feed, 2).expect("second");
        assert!(next(&mut session, &feed, 2).is_none(), "window full");
        assert!(session.ack(a.pkid));
        assert!(!session.ack(a.pkid), "acked twice");
        assert!(next(&mut session, &feed, 2).is_some());
    }

    #[test]
    fn reattach_resends_in_flight_with_dup_and_same_ids_first() {
        let (mut session, mut feed) = subscribed(QoS::AtLeastOnce, 10);
        publish(&mut session, &mut feed, 1);
        let sent = next(&mut session, &feed, 10).expect("sent");
        assert!(!sent.dup);
        session.detach(1);
        publish(&mut session, &mut feed, 2);
        session.attach(Arc::new(Link::new(2)), feed.next());
        let again = next(&mut session, &feed, 10).expect("resent");
        assert!(again.dup);
        assert_eq!(
            (again.pkid, again.payload.clone()),
            (sent.pkid, sent.payload)
        );
        let later = next(&mut session, &feed, 10).expect("published while away");
        assert!(!later.dup);
        assert_eq!(later.payload[0], 2);
        assert_ne!(later.pkid, sent.pkid);
    }

    #[test]
    fn offline_qos0_gets_nothing_of_what_it_missed() {
        let (mut session, mut feed) = subscribed(QoS::AtMostOnce, 10);
        publish(&mut session, &mut feed, 1);
        session.detach(1);
        assert_eq!(publish(&mut session, &mut feed, 2), Delivery::Ignored);
        session.attach(Arc::new(Link::new(2)), feed.next());
        assert!(next(&mut session, &feed, 10).is_none());
    }

    #[tokio::test]
    async fn ended_returns_once_the_link_ended_before_or_while_waiting() {
        let link = Arc::new(Link::new(1));
        let waiting = {
            let link = Arc::clone(&link);
            tokio::spawn(async move { link.ended().await })
        };
        tokio::task::yield_now().await;
        assert!(!waiting.is_finished(), "not ended yet");
        link.end();
        tokio::time::timeout(std::time::Duration::from_secs(5), waiting)
            .await
            .expect("woken")
            .expect("task");
        // Already ended: no wait at all.
        tokio::time::timeout(std::time::Duration::from_secs(5), link.ended())
            .await
            .expect("at once");
    }

    #[test]
    fn attach_kicks_the_previous_owner_and_stale_detach_is_ignored() {
        let mut session = Session::new("app/1".to_owned(), true);
        let old = Arc::new(Link::new(1));
        session.attach(old.clone(), 0);
        session.attach(Arc::new(Link::new(2)), 0);
        assert!(old.is_kicked());
        session.detach(1);
        assert!(session.is_owned_by(2));
    }

    #[test]
    fn packet_ids_skip_zero_and_ids_in_flight() {
        let (mut session, mut feed) = subscribed(QoS::AtLeastOnce, 10);
        session.next_pkid = u16::MAX - 1;
        for n in 0..3 {
            publish(&mut session, &mut feed, n);
        }
        let ids: Vec<u16> = (0..3)
            .filter_map(|_| next(&mut session, &feed, 10).map(|p| p.pkid))
            .collect();
        assert_eq!(ids, vec![u16::MAX, 1, 2]);
    }
}
