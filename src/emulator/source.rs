//! The tasks that make pushes happen: the device simulation and the replay, each publishing
//! through the broker at the configured pace.
//!
//! Both wait while no session is subscribed (and no webhook takes pushes), so nothing is
//! generated for nobody: a replay
//! starts at its first line when the first client subscribes, and a seed's sequence starts
//! with the first subscriber. Both stop at shutdown, and never spin: a zero interval yields to
//! the scheduler between rounds.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use serde_json::Value;
use tokio::sync::{mpsc, watch};
use tokio::time::{interval, Interval, MissedTickBehavior};

use super::broker::Broker;
use super::config::MAX_REPLAY_LINE;
use super::log::LogEvent;
use super::replay::{self, Line};
use super::shutdown::stopped;
use super::simulate::{assemble, Simulator};
use super::stream::Input;

/// Runs the device simulation until shutdown.
pub(crate) async fn simulate(broker: Arc<Broker>, mut shutdown: watch::Receiver<bool>) {
    let app_ids = broker.apps.iter().map(|app| app.id.clone()).collect();
    let mut simulator = Simulator::new(broker.config.seed, broker.config.devices, app_ids);
    let mut pace = Pace::new(&broker);
    let mut subscribed = broker.subscribed();
    loop {
        if !pace.next(&mut subscribed, &mut shutdown).await {
            return;
        }
        for push in simulator.round(now_ms()) {
            let (key, value) = if broker.config.safe_mode {
                match seal(&broker, push.app, &push.data) {
                    Some(sealed) => ("encryptData", Value::String(sealed)),
                    None => continue,
                }
            } else {
                ("data", push.data)
            };
            let payload = Bytes::from(assemble(push.envelope, key, value));
            broker.publish(push.app, &payload);
        }
    }
}

/// Runs the replay until its end (or forever when looping) or shutdown.
pub(crate) async fn replay(
    broker: Arc<Broker>,
    lines: Vec<Line>,
    looping: bool,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut pace = Pace::new(&broker);
    let mut subscribed = broker.subscribed();
    let mut published = 0u64;
    loop {
        let before = published;
        for line in &lines {
            if !pace.next(&mut subscribed, &mut shutdown).await {
                return;
            }
            for (app, payload) in &line.deliveries {
                broker.publish(*app, payload);
            }
            published += 1;
        }
        // A pass that published nothing would loop without pause.
        if !looping || published == before {
            break;
        }
    }
    broker
        .logger
        .emit(|| LogEvent::ReplayFinished { published });
}

/// Publishes a streamed replay's lines as they arrive, until its end or shutdown.
pub(crate) async fn stream(
    broker: Arc<Broker>,
    mut input: mpsc::Receiver<Input>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut pace = Pace::new(&broker);
    let mut subscribed = broker.subscribed();
    let mut published = 0u64;
    loop {
        let next = tokio::select! {
            next = input.recv() => next,
            () = stopped(&mut shutdown) => return,
        };
        match next {
            None => break,
            Some(Input::Line { number, bytes }) => {
                let Some(line) = replay::prepare(&broker, number, &bytes) else {
                    continue;
                };
                if !pace.next(&mut subscribed, &mut shutdown).await {
                    return;
                }
                for (app, payload) in &line.deliveries {
                    broker.publish(*app, payload);
                }
                published += 1;
            }
            Some(Input::TooLong { number }) => broker.logger.emit(|| LogEvent::ReplaySkipped {
                line: number,
                reason: format!("longer than the {} KiB line limit", MAX_REPLAY_LINE / 1024),
            }),
            Some(Input::Failed(detail)) => {
                broker.logger.emit(|| LogEvent::ReplayFailed { detail });
                break;
            }
        }
    }
    broker
        .logger
        .emit(|| LogEvent::ReplayFinished { published });
}

/// Seals `data` for `app` with the app's sealer; failures are logged and yield `None`.
pub(crate) fn seal(broker: &Broker, app: usize, data: &Value) -> Option<String> {
    seal_json(broker, app, data.to_string().as_bytes())
}

/// Seals the exact JSON bytes of `data` for `app`; failures are logged and yield `None`.
pub(crate) fn seal_json(broker: &Broker, app: usize, data_json: &[u8]) -> Option<String> {
    let app = broker.apps.get(app)?;
    let result = match (&app.sealer, std::str::from_utf8(data_json)) {
        (Some(sealer), Ok(json)) => sealer.seal(&app.id, json),
        (Some(_), Err(_)) => Err("data is not UTF-8".to_owned()),
        (None, _) => Err("no AppKey for this app".to_owned()),
    };
    result
        .map_err(|detail| {
            broker.logger.emit(|| LogEvent::SealFailed {
                app_id: app.id.clone(),
                detail,
            });
        })
        .ok()
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// The rhythm of a push source: wait for a subscriber (unless a webhook takes every push,
/// as the platform's does), then for the next tick.
struct Pace {
    ticker: Option<Interval>,
    needs_subscriber: bool,
}

impl Pace {
    fn new(broker: &Broker) -> Self {
        let period = broker.config.interval;
        let ticker = (!period.is_zero()).then(|| {
            let mut ticker = interval(period);
            ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
            ticker
        });
        Pace {
            ticker,
            needs_subscriber: broker.hooks.is_empty(),
        }
    }

    /// Waits until it is time for the next round; false at shutdown.
    async fn next(
        &mut self,
        subscribed: &mut watch::Receiver<usize>,
        shutdown: &mut watch::Receiver<bool>,
    ) -> bool {
        let ready = async {
            let needs_subscriber = self.needs_subscriber;
            if subscribed
                .wait_for(|count| *count > 0 || !needs_subscriber)
                .await
                .is_err()
            {
                return false;
            }
            match &mut self.ticker {
                Some(ticker) => {
                    ticker.tick().await;
                }
                None => tokio::task::yield_now().await,
            }
            true
        };
        let ready = tokio::select! {
            ready = ready => ready,
            () = stopped(shutdown) => false,
        };
        ready && !*shutdown.borrow()
    }
}
