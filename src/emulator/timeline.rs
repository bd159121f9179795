//! A scenario played on its own clock: which device pushes when, and the timeline's events in
//! between.
//!
//! Time here is milliseconds since the run started, advanced one step at a time: each step
//! takes the next moment anything is due, applies that moment's events (in file order), then
//! lets that moment's devices push (in device order). The order therefore never depends on
//! how late the caller's timer fired, which is what makes a seed repeat a run exactly. The
//! caller (`source.rs`) sleeps until each step is due on the real clock; tests just step.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use super::scenario::{Action, Scenario};
use super::simulate::{assemble, SimPush, Simulator};

/// What one step produces, for the caller to publish.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Output {
    /// A push, sent as `data` (or `encryptData` in safe mode).
    Push(SimPush),
    /// A push whose `data` must be sealed with a key that is not its app's.
    WrongKey(SimPush),
    /// Bytes that are not a valid push, for `app`.
    Malformed { app: usize, payload: Vec<u8> },
}

#[derive(Debug, Clone)]
struct Timed {
    at_ms: u64,
    device: usize,
    action: Action,
}

/// The scenario's devices and timeline on one clock.
#[derive(Debug)]
pub(crate) struct Timeline {
    sim: Simulator,
    /// When each device pushes next: (time, device index), earliest first.
    due: BinaryHeap<Reverse<(u64, usize)>>,
    /// Events ordered by offset, ties in file order.
    events: Vec<Timed>,
    next_event: usize,
    /// Start of the current pass of the timeline (it moves by `repeat_ms`).
    pass_ms: u64,
    repeat_ms: Option<u64>,
}

impl Timeline {
    /// Every device first pushes at time 0; events for devices that do not exist are dropped
    /// (the scenario's validation names them).
    pub(crate) fn new(sim: Simulator, scenario: &Scenario) -> Self {
        let due = (0..sim.len()).map(|index| Reverse((0, index))).collect();
        let mut events: Vec<Timed> = scenario
            .events
            .iter()
            .filter_map(|event| {
                Some(Timed {
                    at_ms: millis(event.at),
                    device: sim.find(&event.sn)?,
                    action: event.action.clone(),
                })
            })
            .collect();
        events.sort_by_key(|e| e.at_ms);
        Timeline {
            sim,
            due,
            events,
            next_event: 0,
            pass_ms: 0,
            repeat_ms: scenario.repeat.map(millis).filter(|ms| *ms > 0),
        }
    }

    fn next_event_ms(&self) -> Option<u64> {
        self.events
            .get(self.next_event)
            .map(|e| self.pass_ms.saturating_add(e.at_ms))
    }

    /// When the next step is due, in milliseconds since the start; `None` when nothing will
    /// ever happen again.
    pub(crate) fn next_due(&self) -> Option<u64> {
        let device = self.due.peek().map(|Reverse((at, _))| *at);
        match (device, self.next_event_ms()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Runs the next step; returns its time and what it produced (pushes stamped
    /// `created_ms`).
    pub(crate) fn step(&mut self, created_ms: u64) -> Option<(u64, Vec<Output>)> {
        let now = self.next_due()?;
        let mut out = Vec::new();
        while self.next_event_ms() == Some(now) {
            let event = self.events[self.next_event].clone();
            self.apply(&event, now, created_ms, &mut out);
            self.next_event += 1;
            if self.next_event == self.events.len() {
                if let Some(repeat) = self.repeat_ms {
                    self.next_event = 0;
                    self.pass_ms = self.pass_ms.saturating_add(repeat);
                }
            }
        }
        let mut pushing = Vec::new();
        while let Some(Reverse((at, index))) = self.due.peek().copied() {
            if at != now {
                break;
            }
            self.due.pop();
            pushing.push(index);
        }
        pushing.sort_unstable();
        for index in pushing {
            if !self.sim.is_silent(index) {
                self.push(index, now, created_ms, &mut out);
            }
            let next = now.saturating_add(self.sim.period_ms(index));
            self.due.push(Reverse((next, index)));
        }
        Some((now, out))
    }

    fn push(&mut self, index: usize, now: u64, created_ms: u64, out: &mut Vec<Output>) {
        if let Some(push) = self.sim.push(index, now, created_ms) {
            out.push(Output::Push(push));
        }
    }

    fn apply(&mut self, event: &Timed, now: u64, created_ms: u64, out: &mut Vec<Output>) {
        let index = event.device;
        let audible = !self.sim.is_silent(index);
        match &event.action {
            Action::AlarmOn { field, value } => {
                self.sim.set_alarm(index, field, Some(*value));
                if audible {
                    self.push(index, now, created_ms, out);
                }
            }
            Action::AlarmOff { field } => {
                self.sim.set_alarm(index, field, None);
                if audible {
                    self.push(index, now, created_ms, out);
                }
            }
            Action::Silent => self.sim.set_silent(index, true),
            Action::Back => {
                self.sim.set_silent(index, false);
                self.push(index, now, created_ms, out);
            }
            Action::Battery(percent) => self.sim.set_battery(index, *percent, now),
            Action::Burst(count) => {
                for _ in 0..*count {
                    self.push(index, now, created_ms, out);
                }
            }
            Action::Malformed => {
                if let Some(push) = self.sim.push(index, now, created_ms) {
                    let whole = assemble(push.envelope, "data", push.data);
                    // Cut inside the object: what a dropped connection or a buggy gateway sends.
                    let payload = whole[..whole.len() * 2 / 3].to_vec();
                    out.push(Output::Malformed {
                        app: self.sim.app(index),
                        payload,
                    });
                }
            }
            Action::WrongKey => {
                if let Some(push) = self.sim.push(index, now, created_ms) {
                    out.push(Output::WrongKey(push));
                }
            }
        }
    }
}

fn millis(duration: std::time::Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{self, Role};
    use crate::emulator::simulate::Setup;
    use serde_json::Value;
    use std::time::Duration;

    fn timeline(scenario: &Scenario, run: u64) -> Timeline {
        let setup = Setup {
            seed: 5,
            fleet_count: 3,
            fleet_every: Duration::from_secs(1),
            app_ids: vec!["a".to_owned(), "b".to_owned()],
            run,
        };
        Timeline::new(Simulator::new(scenario, &setup), scenario)
    }

    /// Every output until `until_ms`, with its time.
    fn play(timeline: &mut Timeline, until_ms: u64) -> Vec<(u64, Output)> {
        let mut all = Vec::new();
        while timeline.next_due().is_some_and(|due| due <= until_ms) {
            let Some((at, outputs)) = timeline.step(0) else {
                break;
            };
            all.extend(outputs.into_iter().map(|o| (at, o)));
        }
        all
    }

    fn pushes(outputs: &[(u64, Output)]) -> Vec<(u64, &SimPush)> {
        outputs
            .iter()
            .filter_map(|(at, o)| match o {
                Output::Push(p) => Some((*at, p)),
                _ => None,
            })
            .collect()
    }

    fn is_set(value: &Value) -> bool {
        catalog::flag(value).unwrap_or(false) || value.is_object()
    }

    #[test]
    fn the_alarms_scenario_fires_and_clears_every_catalogue_alarm_within_a_minute() {
        let scenario = Scenario::load("alarms").expect("alarms");
        let outputs = play(&mut timeline(&scenario, 1), 60_000);
        let pushes = pushes(&outputs);
        for kind in catalog::DEVICES {
            for field in kind.fields {
                let is_alarm =
                    catalog::field(field).is_some_and(|f| matches!(f.role, Role::Alarm(_)));
                if !is_alarm {
                    continue;
                }
                let of_kind: Vec<&(u64, &SimPush)> = pushes
                    .iter()
                    .filter(|(_, p)| p.envelope["deviceType"] == kind.names[0])
                    .collect();
                let fired = of_kind
                    .iter()
                    .position(|(_, p)| p.envelope["type"] == "alarm" && is_set(&p.data[field]));
                let Some(fired) = fired else {
                    panic!("{} {field} never fired", kind.names[0]);
                };
                let cleared = of_kind[fired..].iter().any(|(_, p)| {
                    p.data
                        .get(*field)
                        .is_some_and(|v| catalog::flag(v) == Some(false))
                });
                let parking_cleared = of_kind[fired..]
                    .iter()
                    .any(|(_, p)| p.envelope["type"] == "text");
                assert!(
                    cleared || parking_cleared,
                    "{} {field} never cleared",
                    kind.names[0]
                );
            }
        }
        // Reading alarms too: methane above its band, then back.
        let ch4: Vec<f64> = pushes
            .iter()
            .filter(|(_, p)| p.envelope["deviceType"] == "ch4")
            .filter_map(|(_, p)| p.data["ch4"].as_f64())
            .collect();
        assert!(ch4.contains(&5000.0), "{ch4:?}");
        assert!(ch4.last().is_some_and(|v| *v < 100.0), "{ch4:?}");
    }

    #[test]
    fn in_the_stale_scenario_devices_go_quiet_for_over_twice_their_interval_and_come_back() {
        let scenario = Scenario::load("stale").expect("stale");
        let outputs = play(&mut timeline(&scenario, 1), 120_000);
        let pushes = pushes(&outputs);
        let mut quiet = 0;
        for device in &scenario.devices {
            let times: Vec<u64> = pushes
                .iter()
                .filter(|(_, p)| p.envelope["sn"] == device.sn.as_str())
                .map(|(at, _)| *at)
                .collect();
            let interval_ms = device.interval.as_millis() as u64;
            let longest = times.windows(2).map(|w| w[1] - w[0]).max().unwrap_or(0);
            if longest > 2 * interval_ms {
                quiet += 1;
                // Back within the minute, and again in the second minute.
                assert!(
                    times.iter().any(|t| (60_000..120_000).contains(t)),
                    "{times:?}"
                );
            }
            assert!(
                times.last().is_some_and(|t| *t >= 115_000),
                "{}: {times:?}",
                device.sn
            );
        }
        assert_eq!(quiet, 3, "devices that went quiet");
    }

    #[test]
    fn the_same_seed_replays_the_same_timeline() {
        let scenario = Scenario::load("alarms").expect("alarms");
        let strip = |outputs: Vec<(u64, Output)>| -> Vec<(u64, Value)> {
            outputs
                .into_iter()
                .filter_map(|(at, o)| match o {
                    Output::Push(mut p) => {
                        p.envelope.remove("msgId");
                        p.envelope.insert("data".into(), p.data);
                        Some((at, Value::Object(p.envelope)))
                    }
                    _ => None,
                })
                .collect()
        };
        let one = strip(play(&mut timeline(&scenario, 1), 90_000));
        let two = strip(play(&mut timeline(&scenario, 2), 90_000));
        assert!(one.len() > 100, "{}", one.len());
        assert_eq!(one, two);
    }

    #[test]
    fn bursts_malformed_and_wrong_key_events_happen_at_their_offsets() {
        let text = r#"
[[device]]
sn = "A"
deviceType = "co"
interval = "10s"
[[event]]
at = "1s"
sn = "A"
action = "burst"
count = 4
[[event]]
at = "2s"
sn = "A"
action = "malformed"
[[event]]
at = "3s"
sn = "A"
action = "wrong-key"
"#;
        let scenario = Scenario::from_toml("t", text).expect("scenario");
        let outputs = play(&mut timeline(&scenario, 1), 5_000);
        let at = |t: u64| outputs.iter().filter(move |(at, _)| *at == t);
        assert_eq!(at(1_000).count(), 4);
        let malformed: Vec<_> = at(2_000).collect();
        let [(_, Output::Malformed { app: 0, payload })] = malformed.as_slice() else {
            panic!("{malformed:?}");
        };
        assert!(serde_json::from_slice::<Value>(payload).is_err());
        assert!(matches!(
            at(3_000).collect::<Vec<_>>().as_slice(),
            [(_, Output::WrongKey(_))]
        ));
    }

    #[test]
    fn the_demo_pushes_every_device_each_interval() {
        let outputs = play(&mut timeline(&Scenario::demo(), 1), 2_000);
        let times: Vec<u64> = outputs.iter().map(|(at, _)| *at).collect();
        assert_eq!(times, [0, 0, 0, 1000, 1000, 1000, 2000, 2000, 2000]);
    }
}
