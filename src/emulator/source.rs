//! The tasks that make pushes happen: the device simulation and the replay, each publishing
//! through the broker at the configured pace.
//!
//! Both wait while no session is subscribed (and no webhook takes pushes), so nothing is
//! generated for nobody: a replay starts at its first line when the first client subscribes,
//! and a scenario's clock (and a seed's sequence) starts with the first subscriber. Both stop at shutdown, and never spin: a zero interval yields to
//! the scheduler between rounds.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use serde_json::Value;
use tokio::sync::{mpsc, watch};
use tokio::time::{interval, sleep_until, Instant, Interval, MissedTickBehavior};

use super::broker::Broker;
use super::config::MAX_REPLAY_LINE;
use super::log::LogEvent;
use super::msg_id::run_nonce;
use super::replay::{self, Line};
use super::scenario::Scenario;
use super::shutdown::stopped;
use super::simulate::{assemble, Setup, Simulator};
use super::stream::Input;
use super::timeline::{Output, Timeline};

/// Runs the device simulation (the configured scenario, `demo` by default) until shutdown.
///
/// The timeline's clock starts at the first subscription and stands still while nobody is
/// subscribed. Each step is published when it is due on the real clock; a step that is late
/// is published at once, and when the run falls far behind (a suspended machine, an
/// overloaded one) the clock is moved on rather than catching up in one flood.
pub(crate) async fn simulate(broker: Arc<Broker>, mut shutdown: watch::Receiver<bool>) {
    let scenario = broker
        .config
        .scenario
        .clone()
        .unwrap_or_else(Scenario::demo);
    let setup = Setup {
        seed: broker.config.seed,
        fleet_count: broker.config.devices,
        fleet_every: broker.config.interval,
        app_ids: broker.apps.iter().map(|app| app.id.clone()).collect(),
        run: run_nonce(),
    };
    let mut timeline = Timeline::new(Simulator::new(&scenario, &setup), &scenario);
    let mut subscribed = broker.subscribed();
    let mut start: Option<Instant> = None;
    let mut last_due = None;
    while let Some(due) = timeline.next_due() {
        if *subscribed.borrow() == 0 && broker.hooks.is_empty() {
            let paused = Instant::now();
            let resumed = tokio::select! {
                found = subscribed.wait_for(|count| *count > 0) => found.is_ok(),
                () = stopped(&mut shutdown) => false,
            };
            if !resumed {
                return;
            }
            if let Some(start) = &mut start {
                *start += paused.elapsed();
            }
        }
        let begin = *start.get_or_insert_with(Instant::now);
        let mut at = begin + Duration::from_millis(due);
        let now = Instant::now();
        if now > at + MAX_LAG {
            start = Some(begin + (now - at));
            at = now;
        }
        let on_time = async {
            if last_due == Some(due) {
                // A zero interval: nothing advances the clock, so give the other tasks a turn.
                tokio::task::yield_now().await;
            } else {
                sleep_until(at).await;
            }
        };
        tokio::select! {
            () = on_time => {}
            () = stopped(&mut shutdown) => return,
        }
        last_due = Some(due);
        let Some((_, outputs)) = timeline.step(now_ms()) else {
            break;
        };
        for output in outputs {
            publish_output(&broker, output);
        }
    }
    // Nothing more will happen (no devices, a finished timeline): wait for shutdown.
    stopped(&mut shutdown).await;
}

/// How far behind the real clock the timeline may fall before it is moved on.
const MAX_LAG: Duration = Duration::from_secs(5);

fn publish_output(broker: &Broker, output: Output) {
    let (app, payload) = match output {
        Output::Push(push) => {
            let (key, value) = if broker.config.safe_mode {
                match seal(broker, push.app, &push.data) {
                    Some(sealed) => ("encryptData", Value::String(sealed)),
                    None => return,
                }
            } else {
                ("data", push.data)
            };
            (push.app, assemble(push.envelope, key, value))
        }
        Output::WrongKey(push) => {
            let Some(sealer) = &broker.config.wrong_key_sealer else {
                return;
            };
            let app_id = broker.apps.get(push.app).map(|a| a.id.clone());
            let sealed = sealer.seal(&app_id.unwrap_or_default(), &push.data.to_string());
            match sealed {
                Ok(sealed) => (
                    push.app,
                    assemble(push.envelope, "encryptData", Value::String(sealed)),
                ),
                Err(detail) => {
                    broker.logger.emit(|| LogEvent::SealFailed {
                        app_id: "(wrong key)".to_owned(),
                        detail,
                    });
                    return;
                }
            }
        }
        Output::Malformed { app, payload } => (app, payload),
    };
    broker.publish(app, &Bytes::from(payload));
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
