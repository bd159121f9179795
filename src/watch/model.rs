//! Watch's state: every device seen, keyed by `sn`, with its last push, counts, a bounded
//! history of each numeric field, its alarm and stale state; plus the connection state and
//! the push rate.
//!
//! Pure: the clock is passed in (`now`), nothing here draws, reads a terminal or touches the
//! network, so every rule (stale after 2 × interval, alarms per the catalogue, sorting,
//! filtering, the bounds on memory) is tested with made-up instants.

use std::cell::OnceCell;
use std::collections::{HashMap, VecDeque};
use std::ops::Range;
use std::time::{Duration, Instant};

use serde_json::{Map, Value};

use crate::catalog::{self, AlarmWords};
use crate::json::{self, Scanner};
use crate::push::{PushRef, Reading, SafeMode};

/// Points kept per numeric field of a device.
pub const HISTORY_POINTS: usize = 600;
/// Devices tracked at most; pushes from further devices are counted, not kept.
pub const DEVICE_CAP: usize = 100_000;
/// The window the push rate is measured over.
const RATE_WINDOW: Duration = Duration::from_secs(5);
/// Field names whose alarm words are remembered (beyond, they are looked up each time).
const WORDS_CACHED: usize = 4096;
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
    /// Its last push as it leaves (the decrypted one in safe mode), parsed only when shown.
    last: Vec<u8>,
    /// The last push's `data` object, parsed on first use.
    data: OnceCell<Option<Map<String, Value>>>,
    /// The reporting period its `deviceType` has by default.
    default_interval_s: u32,
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
    fn new(sn: &str, now: Instant) -> Self {
        Device {
            sn: sn.to_owned(),
            device_type: String::new(),
            last_seen: now,
            pushes: 0,
            last: Vec::new(),
            data: OnceCell::new(),
            default_interval_s: catalog::default_interval(""),
            safe_mode: SafeMode::Plain,
            interval: Duration::ZERO,
            alarms: Vec::new(),
            history: Vec::new(),
        }
    }

    /// The last push as it leaves (JSON on one line).
    #[must_use]
    pub fn last_json(&self) -> &[u8] {
        &self.last
    }

    /// The last push, parsed; `None` when serde_json cannot hold it (nesting deeper than it
    /// allows).
    #[must_use]
    pub fn last_value(&self) -> Option<Value> {
        serde_json::from_slice(&self.last).ok()
    }

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
        self.data
            .get_or_init(|| match self.last_value() {
                Some(Value::Object(mut push)) => match push.remove("data") {
                    Some(Value::Object(data)) => Some(data),
                    _ => None,
                },
                _ => None,
            })
            .as_ref()
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

    /// Adds a point to the history of field `name`, which is usually the `nth` numeric
    /// field of the push, as in the pushes before: looked up there first.
    fn record(&mut self, nth: usize, name: &str, at: f32, value: f32) {
        if let Some((field, ring)) = self.history.get_mut(nth) {
            if field == name {
                ring.push(at, value);
                return;
            }
        }
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
    devices: HashMap<String, Device, foldhash::fast::RandomState>,
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
    /// Arrival times within the rate window, oldest first, with how many arrived then.
    recent: VecDeque<(Instant, u64)>,
    /// Finds `data` in decrypted pushes (not among the bytes received).
    scanner: Scanner,
    /// The alarm words of field names (and push types) seen: the catalogue's answer.
    words: HashMap<Box<str>, Option<AlarmWords>, foldhash::fast::RandomState>,
    /// Buffers reused from push to push while reading `data`.
    scratch: Scratch,
}

/// Buffers for reading `data` from its bytes.
#[derive(Debug, Default)]
struct Scratch {
    /// The dotted name of the field being read.
    path: String,
    /// The members of the object being read at each depth: (key, value) byte ranges.
    levels: Vec<Vec<(Range<usize>, Range<usize>)>>,
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
            devices: HashMap::default(),
            cap,
            pushes: 0,
            unreadable: 0,
            untracked: 0,
            reconnects: 0,
            connection: Connection::Connecting,
            connected_once: false,
            recent: VecDeque::new(),
            scanner: Scanner::new(),
            words: HashMap::default(),
            scratch: Scratch::default(),
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
    ///
    /// Only what the table needs is read, from the bytes: `sn`, `deviceType`, `type` and the
    /// members of `data`; the push is kept as bytes and parsed when it is shown.
    pub fn ingest(&mut self, reading: &Reading<'_>, now: Instant) {
        self.pushes += 1;
        match self.recent.back_mut() {
            Some((at, count)) if *at == now => *count += 1,
            _ => self.recent.push_back((now, 1)),
        }
        self.trim_rate(now);
        let Reading::Push(push) = reading else {
            self.unreadable += 1;
            return;
        };
        let sn = push.str_field("sn");
        let sn = sn.as_deref().unwrap_or(NO_SN);
        let at = now.saturating_duration_since(self.started).as_secs_f32();
        let data = if push.safe_mode == SafeMode::Decrypted {
            match self.scanner.scan(push.json) {
                Ok(doc) => doc
                    .member(push.json, "data")
                    .and_then(|m| push.json.get(m.value.clone())),
                Err(_) => None,
            }
        } else {
            push.raw_member("data")
        };
        let mut words = |name: &str| cached_words(&mut self.words, name);
        if let Some(device) = self.devices.get_mut(sn) {
            update(device, push, data, &mut words, &mut self.scratch, now, at);
            return;
        }
        if self.devices.len() >= self.cap {
            self.untracked += 1;
            return;
        }
        let device = self
            .devices
            .entry(sn.to_owned())
            .or_insert_with(|| Device::new(sn, now));
        update(device, push, data, &mut words, &mut self.scratch, now, at);
    }

    fn trim_rate(&mut self, now: Instant) {
        while self
            .recent
            .front()
            .is_some_and(|(at, _)| now.saturating_duration_since(*at) > RATE_WINDOW)
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
        let count: u64 = self
            .recent
            .iter()
            .filter(|(at, _)| now.saturating_duration_since(*at) <= RATE_WINDOW)
            .map(|(_, count)| count)
            .sum();
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
        let mut counts: HashMap<&str, usize, foldhash::fast::RandomState> = HashMap::default();
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

/// The catalogue's alarm words for `name`, remembered for the first [`WORDS_CACHED`] names.
fn cached_words(
    cache: &mut HashMap<Box<str>, Option<AlarmWords>, foldhash::fast::RandomState>,
    name: &str,
) -> Option<AlarmWords> {
    if let Some(words) = cache.get(name) {
        return *words;
    }
    let words = catalog::alarm_words(name);
    if cache.len() < WORDS_CACHED {
        cache.insert(name.into(), words);
    }
    words
}

/// Takes one push into its device: `data` is the bytes of its `data` value, if any.
fn update(
    device: &mut Device,
    push: &PushRef<'_>,
    data: Option<&[u8]>,
    words: &mut dyn FnMut(&str) -> Option<AlarmWords>,
    scratch: &mut Scratch,
    now: Instant,
    at: f32,
) {
    device.pushes += 1;
    device.last_seen = now;
    if device.safe_mode != push.safe_mode {
        device.safe_mode = push.safe_mode.clone();
    }
    let device_type = push.str_field("deviceType");
    let device_type = device_type.as_deref().unwrap_or("?");
    if device.device_type != device_type {
        device.device_type.clear();
        device.device_type.push_str(device_type);
        device.default_interval_s = catalog::default_interval(device_type);
    }
    device.last.clear();
    device.last.extend_from_slice(push.json);
    device.data = OnceCell::new();
    device.alarms.clear();
    let mut interval = None;
    if let Some(data) = data.filter(|data| data.first() == Some(&b'{')) {
        let Scratch { path, levels } = scratch;
        path.clear();
        let mut numeric = 0;
        let mut visit = |depth: usize, path: &str, key: &str, raw: &[u8]| {
            if depth == 0 {
                if key == "interval" {
                    interval = number(raw);
                }
                if flag(raw) == Some(true) {
                    // Set and an alarm name (catalogue words, or generic ones).
                    if let Some(AlarmWords { set, .. }) = words(key) {
                        device.alarms.push(ActiveAlarm {
                            field: key.to_owned(),
                            word: set,
                        });
                    }
                }
            }
            if path != "interval" {
                if let Some(n) = number(raw) {
                    device.record(numeric, path, at, n as f32);
                    numeric += 1;
                }
            }
        };
        walk(data, 0, 0, path, levels, &mut visit);
    }
    let interval_s = interval
        .filter(|seconds| *seconds > 0.0)
        .unwrap_or_else(|| f64::from(device.default_interval_s));
    device.interval = Duration::from_secs_f64(interval_s.min(1e9));
    if device.alarms.is_empty()
        && push
            .str_field("type")
            .is_some_and(|kind| words(&kind).is_some())
    {
        device.alarms.push(ActiveAlarm {
            field: "type".to_owned(),
            word: "alarm",
        });
    }
}

/// What [`walk`] calls for each member: (depth, dotted path, key, value bytes).
type Visit<'v> = dyn FnMut(usize, &str, &str, &[u8]) + 'v;

/// Visits each member of the object at `text[open..]` (valid JSON) in the order
/// `serde_json` keeps (a repeated key: its first place, its last value), then the members of
/// nested objects up to depth 2, with dotted names: `visit(depth, path, key, value bytes)`.
fn walk(
    text: &[u8],
    open: usize,
    depth: usize,
    path: &mut String,
    levels: &mut Vec<Vec<(Range<usize>, Range<usize>)>>,
    visit: &mut Visit<'_>,
) {
    if levels.len() <= depth {
        levels.resize_with(depth + 1, Vec::new);
    }
    let mut members = std::mem::take(&mut levels[depth]);
    object_members(text, open, &mut members);
    for (key, value) in &members {
        let Some(name) = text.get(key.clone()).and_then(json::string_value) else {
            continue;
        };
        let Some(raw) = text.get(value.clone()) else {
            continue;
        };
        let parent = path.len();
        if !path.is_empty() {
            path.push('.');
        }
        path.push_str(&name);
        visit(depth, path, &name, raw);
        if depth < 2 && raw.first() == Some(&b'{') {
            walk(text, value.start, depth + 1, path, levels, visit);
        }
        path.truncate(parent);
    }
    levels[depth] = members;
}

/// The members of the object at `text[open..]` (valid JSON): (key with quotes, value) byte
/// ranges, a repeated key in its first place with its last value.
fn object_members(text: &[u8], open: usize, out: &mut Vec<(Range<usize>, Range<usize>)>) {
    out.clear();
    let mut i = skip_space(text, open + 1);
    while text.get(i) == Some(&b'"') {
        let key = i..string_end(text, i);
        i = skip_space(text, key.end);
        if text.get(i) != Some(&b':') {
            return;
        }
        i = skip_space(text, i + 1);
        let value = i..value_end(text, i);
        i = skip_space(text, value.end);
        match out.iter_mut().find(|(seen, _)| same_key(text, seen, &key)) {
            Some(slot) => slot.1 = value,
            None => out.push((key, value)),
        }
        if text.get(i) != Some(&b',') {
            return;
        }
        i = skip_space(text, i + 1);
    }
}

fn same_key(text: &[u8], a: &Range<usize>, b: &Range<usize>) -> bool {
    let (Some(a), Some(b)) = (text.get(a.clone()), text.get(b.clone())) else {
        return false;
    };
    if a == b {
        return true;
    }
    if !a.contains(&b'\\') && !b.contains(&b'\\') {
        return false;
    }
    json::string_value(a) == json::string_value(b)
}

fn skip_space(text: &[u8], mut i: usize) -> usize {
    while text
        .get(i)
        .is_some_and(|c| matches!(c, b' ' | b'\t' | b'\n' | b'\r'))
    {
        i += 1;
    }
    i
}

/// Just past the string starting at `text[i]` (its opening quote).
fn string_end(text: &[u8], mut i: usize) -> usize {
    i += 1;
    while let Some(c) = text.get(i) {
        match c {
            b'\\' => i += 2,
            b'"' => return i + 1,
            _ => i += 1,
        }
    }
    text.len()
}

/// Just past the value starting at `text[i]`.
fn value_end(text: &[u8], mut i: usize) -> usize {
    match text.get(i) {
        Some(b'"') => string_end(text, i),
        Some(b'{' | b'[') => {
            let mut depth = 0usize;
            while let Some(c) = text.get(i) {
                match c {
                    b'"' => {
                        i = string_end(text, i);
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return i + 1;
                        }
                    }
                    _ => {}
                }
                i += 1;
            }
            text.len()
        }
        _ => {
            while text
                .get(i)
                .is_some_and(|c| !matches!(c, b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r'))
            {
                i += 1;
            }
            i
        }
    }
}

/// A JSON number's value as `serde_json` gives it (`as_f64`: finite, else `None`).
fn number(raw: &[u8]) -> Option<f64> {
    if !raw
        .first()
        .is_some_and(|c| *c == b'-' || c.is_ascii_digit())
    {
        return None;
    }
    std::str::from_utf8(raw)
        .ok()?
        .parse::<f64>()
        .ok()
        .filter(|n| n.is_finite())
}

/// [`catalog::flag`] from the bytes: a bool, or a number (non-zero is set).
fn flag(raw: &[u8]) -> Option<bool> {
    match raw {
        b"true" => Some(true),
        b"false" => Some(false),
        _ if raw
            .first()
            .is_some_and(|c| *c == b'-' || c.is_ascii_digit()) =>
        {
            Some(number(raw).is_some_and(|n| n != 0.0))
        }
        _ => None,
    }
}

#[cfg(test)]
#[path = "model_tests.rs"]
mod tests;
