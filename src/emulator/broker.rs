//! The shared heart of the emulator: the apps and their credentials, the session table, and
//! fan-out of a push to every session of its app.
//!
//! Connection tasks and push sources meet here. Lock order: the table, then a session, then
//! a feed (never the other way round); no lock is held across an await.
//! It never touches a socket: connections are woken through their [`Link`] and do their own
//! I/O.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock, RwLockReadGuard};

use bytes::Bytes;
use rumqttc::mqttbytes::QoS;
use tokio::sync::watch;

use super::config::{topic_for, AppConfig, EmulatorConfig, PublisherConfig, PushSealer};
use super::feed::Feed;
use super::log::{LogEvent, Logger, RefuseReason};
use super::session::{lock, Delivery, Link, Session};
use super::webhook::Hook;
use crate::client_id;

/// An app as the broker needs it.
pub(crate) struct App {
    pub(crate) id: String,
    pub(crate) topic: String,
    secret: Vec<u8>,
    /// Passwords of the publishers of this app (`--publisher`).
    publishers: Vec<Vec<u8>>,
    pub(crate) sealer: Option<Arc<dyn PushSealer>>,
}

/// Running totals, read by [`super::EmulatorHandle::stats`].
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) published: AtomicU64,
    pub(crate) delivered: AtomicU64,
    pub(crate) dropped: AtomicU64,
    pub(crate) connections: AtomicU64,
}

/// A session handed to a connection that was just accepted.
pub(crate) struct Attached {
    pub(crate) session: Arc<Mutex<Session>>,
    pub(crate) link: Arc<Link>,
    pub(crate) session_present: bool,
}

type SessionTable = Vec<HashMap<String, Arc<Mutex<Session>>>>;

/// Shared by every task of one emulator.
pub(crate) struct Broker {
    pub(crate) apps: Vec<App>,
    pub(crate) config: EmulatorConfig,
    pub(crate) logger: Logger,
    pub(crate) counters: Counters,
    /// One map per app (same index as `apps`), clientId → session.
    table: Mutex<SessionTable>,
    /// One feed of recent pushes per app (same index as `apps`).
    feeds: Vec<RwLock<Feed>>,
    /// How many sessions hold a subscription; push sources wait on it.
    subscribed: watch::Sender<usize>,
    next_link: AtomicU64,
    /// Webhooks; each takes the pushes of its app.
    pub(crate) hooks: Vec<Hook>,
}

impl Broker {
    pub(crate) fn new(config: EmulatorConfig, hooks: Vec<Hook>) -> Self {
        let apps: Vec<App> = config
            .apps
            .iter()
            .map(|app| App::from_config(app, &config.publishers))
            .collect();
        Broker {
            table: Mutex::new(apps.iter().map(|_| HashMap::new()).collect()),
            feeds: apps
                .iter()
                .map(|_| RwLock::new(Feed::new(config.queue_limit)))
                .collect(),
            apps,
            logger: Logger::new(config.log.clone()),
            config,
            counters: Counters::default(),
            subscribed: watch::channel(0).0,
            next_link: AtomicU64::new(1),
            hooks,
        }
    }

    fn table(&self) -> MutexGuard<'_, SessionTable> {
        self.table
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Reads app `app`'s feed. A poisoned lock still yields the data.
    pub(crate) fn feed(&self, app: usize) -> RwLockReadGuard<'_, Feed> {
        self.feeds[app]
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub(crate) fn app_index(&self, app_id: &str) -> Option<usize> {
        self.apps.iter().position(|app| app.id == app_id)
    }

    /// Checks username, password and clientId the way the platform does: any failure is
    /// CONNACK 5. Returns the app's index and whether the password was a publisher's.
    pub(crate) fn authenticate(
        &self,
        username: Option<&str>,
        password: Option<&[u8]>,
        client_id: &str,
    ) -> Result<(usize, Role), RefuseReason> {
        let Some(username) = username.filter(|name| !name.is_empty()) else {
            return Err(RefuseReason::UnknownAppId(None));
        };
        let Some(index) = self.app_index(username) else {
            return Err(RefuseReason::UnknownAppId(Some(username.to_owned())));
        };
        let app = &self.apps[index];
        let password = password.unwrap_or_default();
        let role = if same_secret(&app.secret, password) {
            Role::Subscriber
        } else if app
            .publishers
            .iter()
            .any(|secret| same_secret(secret, password))
        {
            Role::Publisher
        } else {
            return Err(RefuseReason::WrongSecret);
        };
        if !client_id::is_valid(app.id.as_bytes(), client_id.as_bytes()) {
            return Err(RefuseReason::BadClientId);
        }
        Ok((index, role))
    }

    /// The connection that holds `client_id`'s session now, if any.
    pub(crate) fn owner(&self, app: usize, client_id: &str) -> Option<Arc<Link>> {
        let table = self.table();
        let session = table[app].get(client_id)?;
        let owner = lock(session).owner().cloned();
        owner
    }

    /// Gives `client_id` its session: resumed when `clean` is false and one exists, new
    /// otherwise. A connection holding the same clientId is kicked (session takeover).
    pub(crate) fn attach(
        &self,
        app: usize,
        client_id: &str,
        clean: bool,
    ) -> Result<Attached, RefuseReason> {
        let link = Arc::new(Link::new(self.next_link.fetch_add(1, Ordering::Relaxed)));
        let mut table = self.table();
        let feed_next = self.feed(app).next();
        let existing = table[app].get(client_id).cloned();
        let (session, session_present) = match existing {
            Some(session) if !clean => {
                let mut guard = lock(&session);
                guard.persistent = true;
                guard.attach(link.clone(), feed_next);
                drop(guard);
                (session, true)
            }
            existing => {
                if let Some(old) = existing {
                    if let Some(owner) = lock(&old).owner() {
                        owner.kick();
                    }
                    table[app].remove(client_id);
                } else {
                    self.make_room(&mut table)?;
                }
                let mut fresh = Session::new(client_id.to_owned(), !clean);
                fresh.attach(link.clone(), feed_next);
                let session = Arc::new(Mutex::new(fresh));
                table[app].insert(client_id.to_owned(), session.clone());
                (session, false)
            }
        };
        self.refresh_subscribed(&table);
        Ok(Attached {
            session,
            link,
            session_present,
        })
    }

    /// Evicts the offline session that has been away longest when the table is full.
    fn make_room(&self, table: &mut SessionTable) -> Result<(), RefuseReason> {
        let total: usize = table.iter().map(HashMap::len).sum();
        if total < self.config.max_sessions {
            return Ok(());
        }
        let oldest = table
            .iter()
            .enumerate()
            .flat_map(|(app, map)| map.iter().map(move |(id, s)| (app, id, s)))
            .filter_map(|(app, id, s)| lock(s).offline_since.map(|t| (t, app, id.clone())))
            .min();
        let Some((_, app, client_id)) = oldest else {
            return Err(RefuseReason::TooManySessions);
        };
        table[app].remove(&client_id);
        self.logger.emit(|| LogEvent::SessionEvicted { client_id });
        Ok(())
    }

    /// The connection `link_id` ended; a clean session ends with it.
    pub(crate) fn detach(&self, app: usize, session: &Arc<Mutex<Session>>, link_id: u64) {
        let mut table = self.table();
        let mut guard = lock(session);
        if !guard.is_owned_by(link_id) {
            return;
        }
        guard.detach(link_id);
        let forget = !guard.persistent;
        let client_id = guard.client_id.clone();
        drop(guard);
        let current = table[app].get(&client_id);
        if forget && current.is_some_and(|s| Arc::ptr_eq(s, session)) {
            table[app].remove(&client_id);
        }
        self.refresh_subscribed(&table);
    }

    /// Records a (un)subscription to app `app`'s topic made by the connection `link_id`.
    pub(crate) fn set_subscription(
        &self,
        app: usize,
        session: &Arc<Mutex<Session>>,
        link_id: u64,
        qos: Option<QoS>,
    ) {
        let table = self.table();
        let mut guard = lock(session);
        if guard.is_owned_by(link_id) {
            guard.set_subscription(qos, self.feed(app).next());
        }
        drop(guard);
        self.refresh_subscribed(&table);
    }

    fn refresh_subscribed(&self, table: &SessionTable) {
        let count = table
            .iter()
            .flat_map(HashMap::values)
            .filter(|s| lock(s).subscription().is_some())
            .count();
        self.subscribed.send_if_modified(|current| {
            let changed = *current != count;
            *current = count;
            changed
        });
    }

    /// A receiver of the number of subscribed sessions.
    pub(crate) fn subscribed(&self) -> watch::Receiver<usize> {
        self.subscribed.subscribe()
    }

    /// Number of sessions, online and offline.
    pub(crate) fn session_count(&self) -> usize {
        self.table().iter().map(HashMap::len).sum()
    }

    /// Appends `payload` to app `app`'s feed and wakes the connections of its subscribed
    /// sessions. Returns how many sessions it is due to.
    pub(crate) fn publish(&self, app: usize, payload: &Bytes) -> usize {
        let Some(feed) = self.feeds.get(app) else {
            return 0;
        };
        self.counters.published.fetch_add(1, Ordering::Relaxed);
        let (first, next) = {
            let mut feed = feed
                .write()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            feed.push(payload.clone());
            (feed.first(), feed.next())
        };
        for hook in self.hooks.iter().filter(|hook| hook.app == app) {
            hook.enqueue(payload);
        }
        let table = self.table();
        let mut taken = 0;
        for session in table[app].values() {
            let mut guard = lock(session);
            if let Delivery::Due { dropped } = guard.on_publish(first, next) {
                taken += 1;
                if dropped > 0 {
                    self.counters.dropped.fetch_add(dropped, Ordering::Relaxed);
                }
                if let Some(owner) = guard.owner() {
                    owner.wake.notify_one();
                }
            }
        }
        taken
    }
}

/// What a connection may do, by the password it gave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    /// The AppSecret: subscribe, as on the platform.
    Subscriber,
    /// A publisher's secret: also publish pushes on the app's topic.
    Publisher,
}

impl App {
    fn from_config(app: &AppConfig, publishers: &[PublisherConfig]) -> Self {
        App {
            id: app.app_id.clone(),
            topic: topic_for(&app.app_id),
            secret: app.app_secret.expose().as_bytes().to_vec(),
            publishers: publishers
                .iter()
                .filter(|p| p.app_id == app.app_id)
                .map(|p| p.secret.expose().as_bytes().to_vec())
                .collect(),
            sealer: app.sealer.clone(),
        }
    }
}

/// Compares a password with the AppSecret without stopping at the first difference.
fn same_secret(expected: &[u8], given: &[u8]) -> bool {
    let mut diff = u8::from(expected.len() != given.len());
    for (index, byte) in expected.iter().enumerate() {
        diff |= byte ^ given.get(index).copied().unwrap_or(!byte);
    }
    diff == 0
}

/// Decides one SUBSCRIBE filter: only the app's own topic, at most `max_qos`.
pub(crate) fn grant(
    own_topic: &str,
    filter: &str,
    requested: QoS,
    max_qos: QoS,
) -> Result<QoS, String> {
    if filter == own_topic {
        return Ok(if requested < max_qos {
            requested
        } else {
            max_qos
        });
    }
    let reason = if filter.contains(['+', '#']) {
        format!("wildcards are not allowed; subscribe to {own_topic}")
    } else if filter.starts_with("users/") && filter.ends_with("/devices") {
        format!("another app's topic; this client may only subscribe to {own_topic}")
    } else if filter.strip_prefix('/') == Some(own_topic) {
        format!("leading slash: the topic is {own_topic}")
    } else {
        format!("unknown topic; the only topic is {own_topic}")
    };
    Err(reason)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grant_caps_qos_and_refuses_everything_else() {
        let own = "users/app/devices";
        let max = QoS::AtLeastOnce;
        assert_eq!(grant(own, own, QoS::ExactlyOnce, max), Ok(QoS::AtLeastOnce));
        assert_eq!(grant(own, own, QoS::AtMostOnce, max), Ok(QoS::AtMostOnce));
        assert_eq!(
            grant(own, own, QoS::AtLeastOnce, QoS::AtMostOnce),
            Ok(QoS::AtMostOnce)
        );
        for filter in [
            "users/+/devices",
            "#",
            "users/other/devices",
            "/users/app/devices",
            "x",
        ] {
            assert!(
                grant(own, filter, QoS::AtMostOnce, max).is_err(),
                "{filter}"
            );
        }
    }

    #[test]
    fn secrets_compare_exactly() {
        assert!(same_secret(b"abc", b"abc"));
        assert!(!same_secret(b"abc", b"abd"));
        assert!(!same_secret(b"abc", b"ab"));
        assert!(!same_secret(b"abc", b"abcd"));
        assert!(!same_secret(b"abc", b""));
    }
}
