//! Starting and stopping an emulator: binding the listener, the accept loop with its
//! connection limit, the push source, and the handle the caller keeps.
//!
//! Every task started here ends at shutdown: the accept loop stops accepting, every
//! connection sees the same signal and closes, and `shutdown` waits for all of them (aborting
//! whatever is still running after a grace period).

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};
use tokio::task::{JoinHandle, JoinSet};

use super::broker::Broker;
use super::config::EmulatorConfig;
use super::handshake::{refuse_busy, serve};
use super::log::LogEvent;
use super::replay::{self, Prepared};
use super::shutdown::stopped;
use super::{source, webhook};
use crate::error::{Error, ExitKind, Result};
use futures_util::FutureExt as _;

/// How long shutdown waits for tasks before aborting them.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);
/// Connections over the limit answered with CONNACK 3 at once; beyond, they are just closed.
const MAX_REFUSALS: usize = 64;
/// Pause after a failed accept (e.g. out of file descriptors), so the loop cannot spin.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// The emulator's entry point.
#[derive(Debug)]
pub struct Emulator;

impl Emulator {
    /// Validates `config`, loads the replay, binds the listener and starts serving.
    ///
    /// Errors: a configuration problem (kind `Config` or `Usage`) or a bind failure (kind
    /// `Network`). Must be called inside a tokio runtime.
    pub async fn start(mut config: EmulatorConfig) -> Result<EmulatorHandle> {
        config.validate()?;
        let bind = config.bind;
        // The replay input is only needed until its lines are prepared.
        let input = config.replay.take();
        let hooks = webhook::build(&config)?;
        let client = if hooks.is_empty() {
            None
        } else {
            Some(crate::webhook::http_client(2)?)
        };
        let broker = Arc::new(Broker::new(config, hooks));
        let prepared = match &input {
            Some(input) => Some(replay::open(input, &broker)?),
            None => None,
        };
        drop(input);
        let listener = TcpListener::bind(bind).await.map_err(|err| {
            Error::new(ExitKind::Network, format!("cannot listen on {bind}: {err}"))
        })?;
        let addr = listener.local_addr().map_err(|err| {
            Error::new(
                ExitKind::Network,
                format!("cannot read the bound address: {err}"),
            )
        })?;
        broker.logger.emit(|| LogEvent::Listening { addr });
        let (stop, shutdown) = watch::channel(false);
        let mut tasks = vec![tokio::spawn(accept_loop(
            listener,
            broker.clone(),
            shutdown.clone(),
        ))];
        if let Some(client) = client {
            for index in 0..broker.hooks.len() {
                tasks.push(tokio::spawn(webhook::deliver(
                    broker.clone(),
                    index,
                    client.clone(),
                    shutdown.clone(),
                )));
            }
        }
        if let Some(prepared) = prepared {
            let looping = broker.config.loop_replay;
            tasks.push(tokio::spawn(match prepared {
                Prepared::Lines(lines) => {
                    source::replay(broker.clone(), lines, looping, shutdown).boxed()
                }
                Prepared::Stream(input) => source::stream(broker.clone(), input, shutdown).boxed(),
            }));
        } else if broker.config.simulates() {
            tasks.push(tokio::spawn(source::simulate(broker.clone(), shutdown)));
        }
        Ok(EmulatorHandle {
            addr,
            broker,
            stop,
            tasks,
        })
    }
}

async fn accept_loop(
    listener: TcpListener,
    broker: Arc<Broker>,
    mut shutdown: watch::Receiver<bool>,
) {
    let limit = Arc::new(Semaphore::new(broker.config.max_connections));
    let refusals = Arc::new(Semaphore::new(MAX_REFUSALS));
    let mut connections = JoinSet::new();
    let for_connections = shutdown.clone();
    loop {
        tokio::select! {
            () = stopped(&mut shutdown) => break,
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => match limit.clone().try_acquire_owned() {
                    Ok(permit) => {
                        let broker = broker.clone();
                        let shutdown = for_connections.clone();
                        connections.spawn(async move {
                            broker.counters.connections.fetch_add(1, Ordering::Relaxed);
                            serve(stream, peer, broker.clone(), shutdown).await;
                            broker.counters.connections.fetch_sub(1, Ordering::Relaxed);
                            drop(permit);
                        });
                    }
                    Err(_) => {
                        let max = broker.config.max_connections;
                        let answered = refusals.clone().try_acquire_owned().ok().map(|permit| {
                            let max_packet_size = broker.config.max_packet_size;
                            connections.spawn(async move {
                                refuse_busy(stream, max_packet_size).await;
                                drop(permit);
                            });
                        });
                        let how = if answered.is_some() { "CONNACK 3" } else { "closed" };
                        broker.logger.emit(|| LogEvent::Rejected {
                            peer,
                            reason: format!("connection limit of {max} reached ({how})"),
                        });
                    }
                },
                Err(_) => tokio::time::sleep(ACCEPT_BACKOFF).await,
            },
        }
    }
    drop(listener);
    let drained = tokio::time::timeout(SHUTDOWN_GRACE, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        connections.shutdown().await;
    }
}

/// Running totals of an emulator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EmulatorStats {
    /// Open TCP connections (handshaking included).
    pub connections: u64,
    /// Sessions, online and offline.
    pub sessions: usize,
    /// Sessions holding a subscription.
    pub subscribed: usize,
    /// Pushes published (once per app they were published to).
    pub published: u64,
    /// PUBLISH packets written to clients (redeliveries included).
    pub delivered: u64,
    /// Pushes lost by sessions that fell more than `queue_limit` behind.
    pub dropped: u64,
}

/// A running emulator. Dropping it signals shutdown without waiting; call
/// [`EmulatorHandle::shutdown`] to wait until every task has ended.
pub struct EmulatorHandle {
    addr: SocketAddr,
    broker: Arc<Broker>,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl std::fmt::Debug for EmulatorHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmulatorHandle")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl EmulatorHandle {
    /// The address actually bound (the real port when 0 was asked for).
    #[must_use]
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Publishes `payload` as a push to every subscribed session of `app_id`, as is (no safe
    /// mode). Returns how many sessions took it. Fails for an unknown AppID.
    pub fn publish(&self, app_id: &str, payload: impl Into<Bytes>) -> Result<usize> {
        let app = self
            .broker
            .app_index(app_id)
            .ok_or_else(|| Error::usage(format!("no app '{app_id}' in this emulator")))?;
        Ok(self.broker.publish(app, &payload.into()))
    }

    /// Waits until at least `count` sessions hold a subscription (returns at once if they
    /// already do). Callers bound the wait with a timeout.
    pub async fn wait_for_subscribers(&self, count: usize) {
        let mut subscribed = self.broker.subscribed();
        let _ = subscribed.wait_for(|n| *n >= count).await;
    }

    /// Current totals.
    #[must_use]
    pub fn stats(&self) -> EmulatorStats {
        let counters = &self.broker.counters;
        EmulatorStats {
            connections: counters.connections.load(Ordering::Relaxed),
            sessions: self.broker.session_count(),
            subscribed: *self.broker.subscribed().borrow(),
            published: counters.published.load(Ordering::Relaxed),
            delivered: counters.delivered.load(Ordering::Relaxed),
            dropped: counters.dropped.load(Ordering::Relaxed),
        }
    }

    /// Stops accepting, closes every connection and waits until all tasks have ended.
    pub async fn shutdown(mut self) {
        self.stop.send_replace(true);
        for task in std::mem::take(&mut self.tasks) {
            let abort = task.abort_handle();
            if tokio::time::timeout(SHUTDOWN_GRACE * 2, task)
                .await
                .is_err()
            {
                abort.abort();
            }
        }
    }
}

impl Drop for EmulatorHandle {
    fn drop(&mut self) {
        self.stop.send_replace(true);
    }
}
