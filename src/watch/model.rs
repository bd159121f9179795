//! Watch's state: every device seen, keyed by `sn`, with its last push, counts, a bounded
//! history of each numeric field, its alarm and stale state; plus the connection state and
//! the push rate.
//!
//! Pure: the clock is passed in (`now`), nothing here draws, reads a terminal or touches the
//! network, so every rule (stale after 2 × interval, alarms per the catalogue, sorting,
//! filtering, the bounds on memory) is tested with made-up instants.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use serde_json::{Map, Value};

use crate::catalog::{self, AlarmWords};
use crate::push::{Reading, SafeMode};

/// Points kept per numeric field of a device.
pub const HISTORY_POINTS: usize = 600;
/// Devices tracked at most; pushes from further devices are counted, not kept.
pub const DEVICE_CAP: usize = 100_000;
/// The window the push rate is measured over.
const RATE_WINDOW: Duration = Duration::from_secs(5);
/// The key for a push that carries no `sn`.
pub const NO_SN: &str = "(no sn)";

/// The state of the connection to the broker, as watch shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Connection {
    /// Not connected yet.
    Connecting,
    /// Connected and subscribed (or about to be).
    Connected,
    /// Lost; retrying after a pause.
    Reconnecting {
        /// What happened, in words.
        reason: String,
    },
    /// Refused by the broker: final.
    Refused {
        /// The broker's reason, in words.
        reason: String,
    },
}

/// How the device table is ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortKey {
    /// Alarming devices first, then stale ones, then by sn.
    #[default]
    AlarmFirst,
    /// By sn.
    Sn,
    /// By deviceType, then sn.
    Type,
    /// Longest silent first.
    Age,
}

impl SortKey {
    /// The next key in the cycle `s` walks through.
    #[must_use]
    pub fn next(self) -> Self {
        match self {
            SortKey::AlarmFirst => SortKey::Sn,
            SortKey::Sn => SortKey::Type,
            SortKey::Type => SortKey::Age,
            SortKey::Age => SortKey::AlarmFirst,
        }
    }

    /// Its name in the header.
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            SortKey::AlarmFirst => "alarm",
            SortKey::Sn => "sn",
            SortKey::Type => "type",
            SortKey::Age => "age",
        }
    }
}

/// A bounded series of (seconds since the session started, value).
#[derive(Debug, Clone, Default)]
pub struct Ring {
    points: VecDeque<(f32, f32)>,
}

impl Ring {
    fn push(&mut self, at: f32, value: f32) {
        if self.points.len() == HISTORY_POINTS {
            self.points.pop_front();
        }
        self.points.push_back((at, value));
    }

    /// The points, oldest first.
    pub fn points(&self) -> impl ExactSizeIterator<Item = (f32, f32)> + '_ {
        self.points.iter().copied()
    }

    /// How many points are kept.
    #[must_use]
    pub fn len(&self) -> usize {
        self.points.len()
    }

    /// True when no point is kept.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.points.is_empty()
    }
}

/// An alarm a device is in: the field (or `type`) that says so and what it means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActiveAlarm {
    /// The field name, or `type` when the push's type is an alarm.
    pub field: String,
    /// What being set means ("smoke", "open", "alarm").
    pub word: &'static str,
}

/// One device, as watch knows it.
#[derive(Debug, Clone)]
pub struct Device {
    /// Its serial number.
    pub sn: String,
    /// Its `deviceType` ("?" when a push had none).
    pub device_type: String,
    /// When its last push arrived.
    pub last_seen: Instant,
    /// Pushes from it.
    pub pushes: u64,
    /// Its last push, parsed (the decrypted one in safe mode).
    pub last: Value,
    /// What became of the last push's safe-mode part.
    pub safe_mode: SafeMode,
    /// Its reporting period: the push's `interval`, else the catalogue's default.
    pub interval: Duration,
    /// Alarms set in its last push.
    pub alarms: Vec<ActiveAlarm>,
    /// History per numeric field of `data` (dotted names for nested ones), first seen first.
    pub history: Vec<(String, Ring)>,
}

impl Device {
    /// Silent for more than twice its own interval.
    #[must_use]
    pub fn is_stale(&self, now: Instant) -> bool {
        now.saturating_duration_since(self.last_seen) > self.interval * 2
    }

    /// How long since its last push.
    #[must_use]
    pub fn age(&self, now: Instant) -> Duration {
        now.saturating_duration_since(self.last_seen)
    }

    /// The last push's `data` object (empty when it has none, e.g. still encrypted).
    #[must_use]
    pub fn data(&self) -> Option<&Map<String, Value>> {
        self.last.get("data").and_then(Value::as_object)
    }

    /// Battery percentage, when known (the platform sends −1 for unknown).
    #[must_use]
    pub fn battery(&self) -> Option<f64> {
        self.data()
            .and_then(|data| data.get("battery"))
            .and_then(Value::as_f64)
            .filter(|percent| (0.0..=100.0).contains(percent))
    }

    /// The names of its main readings present in the last push: the catalogue's for a
    /// known type, else the first numeric field that is not housekeeping.
    #[must_use]
    pub fn main_fields(&self) -> Vec<String> {
        let Some(data) = self.data() else {
            return Vec::new();
        };
        if let Some(spec) = catalog::device_type(&self.device_type) {
            let present: Vec<String> = spec
                .main_fields()
                .iter()
                .filter(|name| data.contains_key(**name))
                .map(|name| (*name).to_owned())
                .collect();
            if !present.is_empty() {
                return present;
            }
        }
        data.iter()
            .find(|(name, value)| {
                value.is_number() && !catalog::HOUSEKEEPING.contains(&name.as_str())
            })
            .or_else(|| data.iter().find(|(name, _)| name.as_str() == "light"))
            .map(|(name, _)| vec![name.clone()])
            .unwrap_or_default()
    }

    /// The history of the main reading (the first main field that is numeric).
    #[must_use]
    pub fn main_history(&self) -> Option<&Ring> {
        self.main_fields()
            .iter()
            .find_map(|name| self.history(name))
    }

    /// The history of one field.
    #[must_use]
    pub fn history(&self, name: &str) -> Option<&Ring> {
        self.history
            .iter()
            .find(|(field, _)| field == name)
            .map(|(_, ring)| ring)
    }

    fn record(&mut self, name: &str, at: f32, value: f32) {
        match self.history.iter_mut().find(|(field, _)| field == name) {
            Some((_, ring)) => ring.push(at, value),
            None => {
                let mut ring = Ring::default();
                ring.push(at, value);
                self.history.push((name.to_owned(), ring));
            }
        }
    }
}

/// Everything watch shows.
#[derive(Debug)]
pub struct Model {
    started: Instant,
    devices: HashMap<String, Device>,
    cap: usize,
    /// Pushes taken (device pushes and unreadable payloads alike).
    pub pushes: u64,
    /// Payloads that were not a JSON object.
    pub unreadable: u64,
    /// Pushes from devices beyond the cap: counted, not kept.
    pub untracked: u64,
    /// Reconnections after the first connection.
    pub reconnects: u64,
    /// The connection's state.
    pub connection: Connection,
    connected_once: bool,
    /// Arrival times within the rate window, oldest first.
    recent: VecDeque<Instant>,
}

impl Model {
    /// An empty model whose session started at `started`, tracking at most [`DEVICE_CAP`]
    /// devices.
    #[must_use]
    pub fn new(started: Instant) -> Self {
        Model::with_cap(started, DEVICE_CAP)
    }

    /// An empty model tracking at most `cap` devices.
    #[must_use]
    pub fn with_cap(started: Instant, cap: usize) -> Self {
        Model {
            started,
            devices: HashMap::new(),
            cap,
            pushes: 0,
            unreadable: 0,
            untracked: 0,
            reconnects: 0,
            connection: Connection::Connecting,
            connected_once: false,
            recent: VecDeque::new(),
        }
    }

    /// When the session started.
    #[must_use]
    pub fn started(&self) -> Instant {
        self.started
    }

    /// The device cap was reached: some devices are not tracked.
    #[must_use]
    pub fn cap_reached(&self) -> bool {
        self.untracked > 0
    }

    /// How many devices are tracked.
    #[must_use]
    pub fn device_count(&self) -> usize {
        self.devices.len()
    }

    /// One device by sn.
    #[must_use]
    pub fn device(&self, sn: &str) -> Option<&Device> {
        self.devices.get(sn)
    }

    /// A change of connection state; a connection after the first counts as a reconnect.
    pub fn set_connection(&mut self, connection: Connection) {
        if connection == Connection::Connected {
            if self.connected_once && self.connection != Connection::Connected {
                self.reconnects += 1;
            }
            self.connected_once = true;
        }
        self.connection = connection;
    }

    /// Takes one payload, read by [`crate::push::PushReader`], that arrived at `now`.
    pub fn ingest(&mut self, reading: &Reading<'_>, now: Instant) {
        self.pushes += 1;
        self.recent.push_back(now);
        self.trim_rate(now);
        let Reading::Push(push) = reading else {
            self.unreadable += 1;
            return;
        };
        let Some(value) = push.to_value() else {
            self.unreadable += 1;
            return;
        };
        let sn = value
            .get("sn")
            .and_then(Value::as_str)
            .unwrap_or(NO_SN)
            .to_owned();
        if !self.devices.contains_key(&sn) && self.devices.len() >= self.cap {
            self.untracked += 1;
            return;
        }
        let at = now.saturating_duration_since(self.started).as_secs_f32();
        let device = self.devices.entry(sn.clone()).or_insert_with(|| Device {
            sn,
            device_type: String::new(),
            last_seen: now,
            pushes: 0,
            last: Value::Null,
            safe_mode: SafeMode::Plain,
            interval: Duration::ZERO,
            alarms: Vec::new(),
            history: Vec::new(),
        });
        update(device, value, push.safe_mode.clone(), now, at);
    }

    fn trim_rate(&mut self, now: Instant) {
        while self
            .recent
            .front()
            .is_some_and(|at| now.saturating_duration_since(*at) > RATE_WINDOW)
        {
            self.recent.pop_front();
        }
    }

    /// Pushes per second over the last few seconds.
    #[must_use]
    pub fn rate(&self, now: Instant) -> f64 {
        let window = now
            .saturating_duration_since(self.started)
            .min(RATE_WINDOW)
            .as_secs_f64();
        let count = self
            .recent
            .iter()
            .filter(|at| now.saturating_duration_since(**at) <= RATE_WINDOW)
            .count();
        if window > 0.0 {
            count as f64 / window
        } else {
            0.0
        }
    }

    /// How many devices are stale at `now`.
    #[must_use]
    pub fn stale_count(&self, now: Instant) -> usize {
        self.devices.values().filter(|d| d.is_stale(now)).count()
    }

    /// How many devices are in alarm.
    #[must_use]
    pub fn alarm_count(&self) -> usize {
        self.devices
            .values()
            .filter(|d| !d.alarms.is_empty())
            .count()
    }

    /// Device counts per deviceType, most common first (then by name).
    #[must_use]
    pub fn types(&self) -> Vec<(&str, usize)> {
        let mut counts: HashMap<&str, usize> = HashMap::new();
        for device in self.devices.values() {
            *counts.entry(device.device_type.as_str()).or_default() += 1;
        }
        let mut counts: Vec<(&str, usize)> = counts.into_iter().collect();
        counts.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        counts
    }

    /// The devices whose sn or deviceType contains `filter` (case-insensitive; empty matches
    /// all), in `sort` order.
    #[must_use]
    pub fn rows(&self, now: Instant, sort: SortKey, filter: &str) -> Vec<&Device> {
        let filter = filter.to_lowercase();
        let mut rows: Vec<&Device> = self
            .devices
            .values()
            .filter(|d| {
                filter.is_empty()
                    || d.sn.to_lowercase().contains(&filter)
                    || d.device_type.to_lowercase().contains(&filter)
            })
            .collect();
        match sort {
            SortKey::Sn => rows.sort_by(|a, b| a.sn.cmp(&b.sn)),
            SortKey::Type => {
                rows.sort_by(|a, b| a.device_type.cmp(&b.device_type).then(a.sn.cmp(&b.sn)));
            }
            SortKey::Age => {
                rows.sort_by(|a, b| a.last_seen.cmp(&b.last_seen).then(a.sn.cmp(&b.sn)))
            }
            SortKey::AlarmFirst => {
                rows.sort_by(|a, b| {
                    (a.alarms.is_empty(), !a.is_stale(now))
                        .cmp(&(b.alarms.is_empty(), !b.is_stale(now)))
                        .then_with(|| a.sn.cmp(&b.sn))
                });
            }
        }
        rows
    }
}

fn update(device: &mut Device, value: Value, safe_mode: SafeMode, now: Instant, at: f32) {
    device.pushes += 1;
    device.last_seen = now;
    device.safe_mode = safe_mode;
    device.device_type = value
        .get("deviceType")
        .and_then(Value::as_str)
        .unwrap_or("?")
        .to_owned();
    let data = value.get("data").and_then(Value::as_object);
    let interval_s = data
        .and_then(|data| data.get("interval"))
        .and_then(Value::as_f64)
        .filter(|seconds| seconds.is_finite() && *seconds > 0.0)
        .unwrap_or_else(|| f64::from(catalog::default_interval(&device.device_type)));
    device.interval = Duration::from_secs_f64(interval_s.min(1e9));
    device.alarms = alarms(&value, data);
    if let Some(data) = data {
        let mut numbers = Vec::new();
        numeric_fields("", data, 0, &mut numbers);
        for (name, number) in numbers {
            device.record(&name, at, number as f32);
        }
    }
    device.last = value;
}

/// The alarms a push sets: catalogue alarm fields that are set, and an alarm `type`.
fn alarms(push: &Value, data: Option<&Map<String, Value>>) -> Vec<ActiveAlarm> {
    let mut active = Vec::new();
    for (name, value) in data.into_iter().flatten() {
        if catalog::alarm_state(name, value) == Some(true) {
            let AlarmWords { set, .. } = catalog::alarm_words(name).unwrap_or(AlarmWords {
                set: "alarm",
                clear: "ok",
            });
            active.push(ActiveAlarm {
                field: name.clone(),
                word: set,
            });
        }
    }
    let alarm_type = push
        .get("type")
        .and_then(Value::as_str)
        .is_some_and(catalog::is_alarm_name);
    if active.is_empty() && alarm_type {
        active.push(ActiveAlarm {
            field: "type".to_owned(),
            word: "alarm",
        });
    }
    active
}

/// Numeric fields of `data` (except `interval`), nested objects as dotted names.
fn numeric_fields(
    parent: &str,
    data: &Map<String, Value>,
    depth: usize,
    out: &mut Vec<(String, f64)>,
) {
    for (name, value) in data {
        let path = if parent.is_empty() {
            name.clone()
        } else {
            format!("{parent}.{name}")
        };
        match value {
            Value::Number(number) if path != "interval" => {
                if let Some(n) = number.as_f64().filter(|n| n.is_finite()) {
                    out.push((path, n));
                }
            }
            Value::Object(inner) if depth < 2 => numeric_fields(&path, inner, depth + 1, out),
            _ => {}
        }
    }
}

#[cfg(test)]
#[path = "model_tests.rs"]
mod tests;
