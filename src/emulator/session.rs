//! One client's MQTT session: its subscription, the pushes waiting for it, the QoS 1 pushes in
//! flight, and which connection (if any) currently owns it.
//!
//! A session outlives its connection when the client asked for a persistent one (clean
//! session = 0): pushes queue while it is away and in-flight pushes go out again with DUP when
//! it returns. Everything is bounded: the queue drops its oldest entry (and counts it), the
//! in-flight window stops taking new pushes. Nothing here does I/O or awaits.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use bytes::Bytes;
use rumqttc::mqttbytes::v4::Publish;
use rumqttc::mqttbytes::QoS;
use tokio::sync::Notify;

/// The wake-up line between the broker and the connection task that owns a session.
#[derive(Debug, Default)]
pub(crate) struct Link {
    /// Identifies the connection.
    pub(crate) id: u64,
    /// Rung when there is something to send or the connection was taken over.
    pub(crate) wake: Notify,
    /// Set when another connection took the session over.
    kicked: AtomicBool,
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
}

/// A push waiting to be sent; `pkid` is set when it was sent before and goes out again.
#[derive(Debug, Clone)]
struct Pending {
    payload: Bytes,
    qos: QoS,
    pkid: Option<u16>,
}

/// What [`Session::offer`] did with a push.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Offer {
    /// Not subscribed, or offline with QoS 0: nothing to do.
    Ignored,
    /// Queued; the owner (if online) should be woken. `dropped` older pushes made room.
    Queued {
        /// How many queued pushes were dropped to make room.
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
    queue: VecDeque<Pending>,
    inflight: VecDeque<(u16, Bytes)>,
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
            queue: VecDeque::new(),
            inflight: VecDeque::new(),
            next_pkid: 0,
            dropped_unreported: 0,
            owner: None,
            offline_since: None,
        }
    }

    pub(crate) fn subscription(&self) -> Option<QoS> {
        self.subscription
    }

    pub(crate) fn set_subscription(&mut self, qos: Option<QoS>) {
        self.subscription = qos;
        if qos.is_none() {
            self.queue.clear();
        }
    }

    pub(crate) fn owner(&self) -> Option<&Arc<Link>> {
        self.owner.as_ref()
    }

    pub(crate) fn is_owned_by(&self, link_id: u64) -> bool {
        self.owner.as_ref().is_some_and(|link| link.id == link_id)
    }

    /// Gives the session to a new connection: the previous owner is kicked, and pushes that
    /// were in flight go first in the queue, to be sent again with DUP.
    pub(crate) fn attach(&mut self, link: Arc<Link>) {
        if let Some(previous) = self.owner.replace(link) {
            previous.kick();
        }
        self.offline_since = None;
        for (pkid, payload) in self.inflight.drain(..).rev() {
            self.queue.push_front(Pending {
                payload,
                qos: QoS::AtLeastOnce,
                pkid: Some(pkid),
            });
        }
    }

    /// The connection `link_id` is gone. QoS 0 pushes it had not sent are forgotten (they are
    /// never kept for an offline client); QoS 1 ones stay for its return.
    pub(crate) fn detach(&mut self, link_id: u64) {
        if !self.is_owned_by(link_id) {
            return;
        }
        self.owner = None;
        self.offline_since = Some(Instant::now());
        self.queue.retain(|p| p.qos != QoS::AtMostOnce);
    }

    /// Offers a push published at QoS 1 to this session; `limit` bounds the queue.
    pub(crate) fn offer(&mut self, payload: &Bytes, limit: usize) -> Offer {
        let Some(qos) = self.subscription else {
            return Offer::Ignored;
        };
        if self.owner.is_none() && qos == QoS::AtMostOnce {
            return Offer::Ignored;
        }
        let mut dropped = 0;
        while self.queue.len() >= limit.max(1) {
            self.queue.pop_front();
            dropped += 1;
        }
        self.dropped_unreported += dropped;
        self.queue.push_back(Pending {
            payload: payload.clone(),
            qos,
            pkid: None,
        });
        Offer::Queued { dropped }
    }

    /// Pushes dropped since the last call.
    pub(crate) fn take_dropped(&mut self) -> u64 {
        std::mem::take(&mut self.dropped_unreported)
    }

    /// The next PUBLISH to send on `topic`, if the queue has one and the in-flight window
    /// (`max_inflight`) has room for it.
    pub(crate) fn next_publish(&mut self, topic: &str, max_inflight: usize) -> Option<Publish> {
        let front = self.queue.front()?;
        if front.qos == QoS::AtLeastOnce && self.inflight.len() >= max_inflight {
            return None;
        }
        let pending = self.queue.pop_front()?;
        let mut publish = Publish::from_bytes(topic, pending.qos, pending.payload);
        if pending.qos == QoS::AtLeastOnce {
            publish.dup = pending.pkid.is_some();
            let pkid = pending.pkid.unwrap_or_else(|| self.fresh_pkid());
            publish.pkid = pkid;
            self.inflight.push_back((pkid, publish.payload.clone()));
        }
        Some(publish)
    }

    /// A packet id that is neither 0 nor in flight. The window is far below 65535, so the
    /// search ends within `inflight.len() + 1` steps.
    fn fresh_pkid(&mut self) -> u16 {
        loop {
            self.next_pkid = self.next_pkid.wrapping_add(1).max(1);
            let candidate = self.next_pkid;
            if !self.inflight.iter().any(|(pkid, _)| *pkid == candidate) {
                return candidate;
            }
        }
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

    #[cfg(test)]
    pub(crate) fn waiting(&self) -> usize {
        self.queue.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOPIC: &str = "users/app/devices";

    fn subscribed(qos: QoS) -> Session {
        let mut session = Session::new("app/1".to_owned(), true);
        session.set_subscription(Some(qos));
        session.attach(Arc::new(Link::new(1)));
        session
    }

    fn push(n: u8) -> Bytes {
        Bytes::from(vec![n])
    }

    #[test]
    fn unsubscribed_session_ignores_pushes() {
        let mut session = Session::new("app/1".to_owned(), false);
        assert_eq!(session.offer(&push(1), 10), Offer::Ignored);
    }

    #[test]
    fn full_queue_drops_the_oldest_and_counts() {
        let mut session = subscribed(QoS::AtMostOnce);
        for n in 0..5 {
            session.offer(&push(n), 3);
        }
        assert_eq!(session.take_dropped(), 2);
        assert_eq!(session.take_dropped(), 0);
        let first = session.next_publish(TOPIC, 10).expect("queued");
        assert_eq!(first.payload, push(2));
    }

    #[test]
    fn window_limits_qos1_in_flight() {
        let mut session = subscribed(QoS::AtLeastOnce);
        for n in 0..3 {
            session.offer(&push(n), 10);
        }
        let a = session.next_publish(TOPIC, 2).expect("first");
        let _b = session.next_publish(TOPIC, 2).expect("second");
        assert!(session.next_publish(TOPIC, 2).is_none(), "window full");
        assert!(session.ack(a.pkid));
        assert!(!session.ack(a.pkid), "acked twice");
        assert!(session.next_publish(TOPIC, 2).is_some());
    }

    #[test]
    fn reattach_resends_in_flight_with_dup_and_same_ids_first() {
        let mut session = subscribed(QoS::AtLeastOnce);
        session.offer(&push(1), 10);
        let sent = session.next_publish(TOPIC, 10).expect("sent");
        assert!(!sent.dup);
        session.detach(1);
        session.offer(&push(2), 10);
        let new_link = Arc::new(Link::new(2));
        session.attach(new_link);
        let again = session.next_publish(TOPIC, 10).expect("resent");
        assert!(again.dup);
        assert_eq!((again.pkid, again.payload.clone()), (sent.pkid, push(1)));
        let next = session.next_publish(TOPIC, 10).expect("queued while away");
        assert!(!next.dup);
        assert_ne!(next.pkid, sent.pkid);
    }

    #[test]
    fn offline_qos0_is_not_kept() {
        let mut session = subscribed(QoS::AtMostOnce);
        session.offer(&push(1), 10);
        session.detach(1);
        assert_eq!(session.waiting(), 0);
        assert_eq!(session.offer(&push(2), 10), Offer::Ignored);
    }

    #[test]
    fn attach_kicks_the_previous_owner_and_stale_detach_is_ignored() {
        let mut session = Session::new("app/1".to_owned(), true);
        let old = Arc::new(Link::new(1));
        session.attach(old.clone());
        session.attach(Arc::new(Link::new(2)));
        assert!(old.is_kicked());
        session.detach(1);
        assert!(session.is_owned_by(2));
    }

    #[test]
    fn packet_ids_skip_zero_and_ids_in_flight() {
        let mut session = subscribed(QoS::AtLeastOnce);
        session.next_pkid = u16::MAX - 1;
        for n in 0..3 {
            session.offer(&push(n), 10);
        }
        let ids: Vec<u16> = (0..3)
            .filter_map(|_| session.next_publish(TOPIC, 10).map(|p| p.pkid))
            .collect();
        assert_eq!(ids, vec![u16::MAX, 1, 2]);
    }
}
