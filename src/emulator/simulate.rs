//! Simulated devices: their readings, batteries and alarms, and the pushes they make, shaped
//! like the platform's (see PLATFORM.md, "The push"). Which devices exist and what happens to
//! them comes from a [`Scenario`]; the device catalogue ([`crate::catalog`]) gives their
//! fields. Each numeric field drifts inside a band around its healthy value, the battery
//! drains with the run's time (days, by default), and an alarm is either random (the demo) or
//! set and cleared by the timeline.
//!
//! Everything random comes from one seeded generator and time is the timeline's own clock, so
//! a seed always gives the same readings in the same order. The msgId is the exception on
//! purpose: it mixes in a per-run value and the app (see `msg_id.rs`), because a consumer that
//! de-duplicates by msgId must not drop a new run's pushes. This module builds JSON values and
//! knows nothing about sockets, sessions or the wall clock.

use std::time::Duration;

use serde_json::{json, Map, Value};

use super::msg_id::MsgIds;
use super::scenario::{DeviceSetup, Scenario};
use crate::catalog::{self, DeviceSpec, Role};

/// SplitMix64: a tiny, well-distributed generator; plenty for made-up sensor readings.
#[derive(Debug, Clone)]
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `[0, 1)`.
    fn unit(&mut self) -> f64 {
        // 53 random bits: exactly representable in an f64.
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in `[low, high)`.
    fn range(&mut self, low: f64, high: f64) -> f64 {
        low + (high - low) * self.unit()
    }

    /// Uniform integer in `[low, high]`.
    fn int(&mut self, low: i64, high: i64) -> i64 {
        let span = high.abs_diff(low) + 1;
        low + i64::try_from(self.next_u64() % span).unwrap_or(0)
    }

    fn chance(&mut self, probability: f64) -> bool {
        self.unit() < probability
    }
}

/// What a simulation is made from besides its scenario: the emulator's settings.
#[derive(Debug, Clone)]
pub(crate) struct Setup {
    /// Seed of every reading.
    pub(crate) seed: u64,
    /// Devices in a fleet that does not give its own count (`--devices`).
    pub(crate) fleet_count: usize,
    /// Period of a fleet that does not give its own interval (`--interval`).
    pub(crate) fleet_every: Duration,
    /// The apps, in the emulator's order.
    pub(crate) app_ids: Vec<String>,
    /// Differs from run to run (see [`run_nonce`]); only msgIds use it.
    pub(crate) run: u64,
}

/// The reporting periods a demo device claims, in seconds.
const DEMO_INTERVALS: [u32; 3] = [60, 300, 600];
/// Without a scenario's own drift, a field moves at most this share of its band per push.
const DEFAULT_DRIFT: f64 = 0.02;
const MS_PER_HOUR: f64 = 3_600_000.0;

#[derive(Debug, Clone)]
struct Field {
    /// The current value of a numeric field.
    value: f64,
    /// The band it wanders in.
    band: (f64, f64),
    /// Largest step per push.
    step: f64,
    /// While in alarm: the reading to send (`None`: far above the band; alarm fields are set).
    alarm: Option<Option<f64>>,
}

#[derive(Debug, Clone)]
struct Device {
    app: usize,
    sn: String,
    device_type: String,
    kind: &'static DeviceSpec,
    /// Battery percentage at `battery_since_ms`, draining from there.
    battery: f64,
    battery_since_ms: u64,
    /// How often it pushes, in milliseconds of the timeline.
    period_ms: u64,
    /// The `interval` it sends.
    interval: Value,
    /// One per field of `kind`, in its order.
    fields: Vec<Field>,
    /// Sends its alarm fields as booleans (else as 0/1): the platform's sources disagree.
    bool_alarms: bool,
    /// The parking sensor's magnetic baseline and whether a car stands on it.
    magnet_baseline: f64,
    occupied: bool,
    /// Silent devices make no pushes until they are back.
    silent: bool,
}

/// One generated push: which app it belongs to, the envelope, and its `data`, kept apart so
/// that safe mode can replace `data` by `encryptData`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SimPush {
    pub(crate) app: usize,
    pub(crate) envelope: Map<String, Value>,
    pub(crate) data: Value,
}

/// The device fleet and its generator.
#[derive(Debug, Clone)]
pub(crate) struct Simulator {
    rng: Rng,
    app_ids: Vec<String>,
    devices: Vec<Device>,
    alarm_chance: f64,
    drain_per_hour: f64,
    msg_ids: MsgIds,
}

impl Simulator {
    /// The devices of `scenario` (declared ones first, then its fleet), drawn from the seed.
    pub(crate) fn new(scenario: &Scenario, setup: &Setup) -> Self {
        let mut rng = Rng::new(setup.seed);
        let apps = setup.app_ids.len().max(1);
        let mut devices: Vec<Device> = scenario
            .devices
            .iter()
            .enumerate()
            .map(|(index, declared)| {
                let app = declared
                    .app
                    .as_ref()
                    .and_then(|id| setup.app_ids.iter().position(|a| a == id))
                    .unwrap_or(index % apps);
                declared_device(declared, app, &mut rng)
            })
            .collect();
        if let Some(fleet) = &scenario.fleet {
            let count = fleet.count.unwrap_or(setup.fleet_count);
            let kinds = if fleet.types.is_empty() {
                catalog::DEVICES.iter().collect()
            } else {
                fleet.types.clone()
            };
            let sn_base = rng.next_u64();
            let kind_offset = rng.next_u64();
            let first = devices.len();
            for index in 0..count {
                let kind_index =
                    (kind_offset.wrapping_add(index as u64) % kinds.len() as u64) as usize;
                // An odd step makes the 16-bit serial suffix a bijection of the index.
                let suffix = sn_base.wrapping_add((index as u64).wrapping_mul(0x9E37)) & 0xFFFF;
                let sn = if count <= 0x1_0000 {
                    format!("0117C9{suffix:04X}")
                } else {
                    format!("0117C9{index:06X}")
                };
                let (period, interval) = match fleet.interval {
                    Some(every) => (every, interval_value(every)),
                    None => {
                        let claimed = DEMO_INTERVALS[(rng.next_u64() % 3) as usize];
                        (setup.fleet_every, claimed.into())
                    }
                };
                let mut device =
                    new_device(kinds[kind_index], sn, (first + index) % apps, &mut rng);
                device.period_ms = millis(period);
                device.interval = interval;
                devices.push(device);
            }
        }
        Simulator {
            rng,
            app_ids: setup.app_ids.clone(),
            devices,
            alarm_chance: scenario.alarm_chance,
            drain_per_hour: scenario.battery_drain_per_hour,
            msg_ids: MsgIds::new(setup.run, &setup.app_ids),
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.devices.len()
    }

    /// The index of the device with serial `sn`.
    pub(crate) fn find(&self, sn: &str) -> Option<usize> {
        self.devices.iter().position(|d| d.sn == sn)
    }

    /// How often device `index` pushes, in milliseconds.
    pub(crate) fn period_ms(&self, index: usize) -> u64 {
        self.devices.get(index).map_or(0, |d| d.period_ms)
    }

    /// The app of device `index`.
    pub(crate) fn app(&self, index: usize) -> usize {
        self.devices.get(index).map_or(0, |d| d.app)
    }

    pub(crate) fn is_silent(&self, index: usize) -> bool {
        self.devices.get(index).is_some_and(|d| d.silent)
    }

    pub(crate) fn set_silent(&mut self, index: usize, silent: bool) {
        if let Some(device) = self.devices.get_mut(index) {
            device.silent = silent;
        }
    }

    /// Puts `field` of device `index` into alarm (`Some`, with the reading to send, if any)
    /// or out of it (`None`).
    pub(crate) fn set_alarm(&mut self, index: usize, field: &str, alarm: Option<Option<f64>>) {
        let Some(device) = self.devices.get_mut(index) else {
            return;
        };
        if let Some(position) = device.kind.fields.iter().position(|f| *f == field) {
            device.fields[position].alarm = alarm;
        }
    }

    /// Sets the battery of device `index` to `percent` at `now_ms`.
    pub(crate) fn set_battery(&mut self, index: usize, percent: f64, now_ms: u64) {
        if let Some(device) = self.devices.get_mut(index) {
            device.battery = percent;
            device.battery_since_ms = now_ms;
        }
    }

    /// The push device `index` makes at `now_ms` of the timeline, stamped `created_ms`.
    pub(crate) fn push(&mut self, index: usize, now_ms: u64, created_ms: u64) -> Option<SimPush> {
        let drain = self.drain_per_hour;
        let device = self.devices.get_mut(index)?;
        let rng = &mut self.rng;
        let random_alarm = self.alarm_chance > 0.0 && rng.chance(self.alarm_chance);
        let alarm = random_alarm || device.fields.iter().any(|f| f.alarm.is_some());
        let elapsed_h = now_ms.saturating_sub(device.battery_since_ms) as f64 / MS_PER_HOUR;
        let battery = (device.battery - drain * elapsed_h).clamp(0.0, 100.0);
        let data = reading(device, rng, random_alarm, battery);
        let mut envelope = Map::new();
        let app_id = self.app_ids.get(device.app).cloned().unwrap_or_default();
        envelope.insert("appId".into(), app_id.into());
        envelope.insert("sn".into(), device.sn.clone().into());
        envelope.insert("type".into(), if alarm { "alarm" } else { "text" }.into());
        envelope.insert("deviceType".into(), device.device_type.clone().into());
        envelope.insert("createdTime".into(), created_ms.into());
        envelope.insert("msgId".into(), self.msg_ids.next(device.app).into());
        Some(SimPush {
            app: device.app,
            envelope,
            data,
        })
    }

    /// One push per device, in device order (tests).
    #[cfg(test)]
    pub(crate) fn round(&mut self, now_ms: u64, created_ms: u64) -> Vec<SimPush> {
        (0..self.len())
            .filter_map(|index| self.push(index, now_ms, created_ms))
            .collect()
    }
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// The `interval` sent for a period: whole seconds as an integer, else seconds with decimals.
fn interval_value(period: Duration) -> Value {
    if period.subsec_millis() == 0 {
        period.as_secs().into()
    } else {
        (millis(period) as f64 / 1000.0).into()
    }
}

/// A device of `kind` with readings, battery and quirks drawn from `rng`.
fn new_device(kind: &'static DeviceSpec, sn: String, app: usize, rng: &mut Rng) -> Device {
    let battery = rng.int(60, 100) as f64;
    let fields = kind
        .fields
        .iter()
        .map(|name| {
            let band = typical(name);
            Field {
                value: rng.range(band.0, band.1),
                band,
                step: (band.1 - band.0) * DEFAULT_DRIFT,
                alarm: None,
            }
        })
        .collect();
    Device {
        app,
        sn,
        device_type: kind.names[0].to_owned(),
        kind,
        battery,
        battery_since_ms: 0,
        period_ms: 0,
        interval: Value::Null,
        fields,
        bool_alarms: rng.chance(0.5),
        magnet_baseline: rng.range(-20.0, 20.0),
        occupied: rng.chance(0.5),
        silent: false,
    }
}

/// A declared device: drawn like any other, then given the scenario's settings.
fn declared_device(declared: &DeviceSetup, app: usize, rng: &mut Rng) -> Device {
    let mut device = new_device(declared.spec, declared.sn.clone(), app, rng);
    device.device_type.clone_from(&declared.device_type);
    device.period_ms = millis(declared.interval);
    device.interval = interval_value(declared.interval);
    if let Some(battery) = declared.battery {
        device.battery = battery;
    }
    for (position, name) in declared.spec.fields.iter().enumerate() {
        let field = &mut device.fields[position];
        if let Some((_, start)) = declared.values.iter().find(|(f, _)| f == name) {
            field.value = *start;
            // A start outside the usual band moves the band, so the value stays near it.
            if !(field.band.0..=field.band.1).contains(start) {
                let half = (field.band.1 - field.band.0) / 2.0;
                field.band = (start - half, start + half);
            }
        }
        let step = declared
            .drift
            .iter()
            .find(|(f, _)| f == name)
            .map(|(_, step)| *step)
            .or(declared.drift_all);
        if let Some(step) = step {
            field.step = step;
        }
    }
    device
}

/// The band a field's simulated value starts in and wanders within (in the field's unit):
/// what a healthy device reads, well inside the catalogue's range.
fn typical(name: &str) -> (f64, f64) {
    match name {
        "temperature" | "temp1" => (18.0, 26.0),
        "humidity" => (30.0, 60.0),
        "ch4" | "lpg" => (0.0, 20.0),
        "lel" => (0.0, 2.0),
        "co" => (0.0, 10.0),
        "co2" => (400.0, 800.0),
        "pm2_5" => (5.0, 60.0),
        "pm10" => (10.0, 90.0),
        "level" => (0.2, 1.5),
        "latitude" => (39.85, 39.95),
        "longitude" => (116.30, 116.45),
        "CURRENT_A" | "curr_val" => (0.5, 10.0),
        "VOLTAGE_A" | "vol_val" => (215.0, 235.0),
        "TOTAL_POWER" | "elec_energy_val" => (100.0, 5000.0),
        "leakage_val" => (0.0, 30.0),
        "temp_val" => (20.0, 45.0),
        "power_val" => (0.1, 2.0),
        "light" => (0.0, 2000.0),
        _ => catalog::field(name)
            .and_then(|spec| spec.range)
            .map_or((0.0, 100.0), |(low, high)| (low, low + (high - low) / 4.0)),
    }
}

/// Rounds to the field's precision (at most six places).
fn rounded(value: f64, decimals: usize) -> Value {
    let scale = 10f64.powi(i32::try_from(decimals.min(6)).unwrap_or(6));
    let value = (value * scale).round() / scale;
    if decimals == 0 {
        (value as i64).into()
    } else {
        value.into()
    }
}

/// The `data` object of one reading: housekeeping plus the device's sensor fields, from the
/// catalogue. A field in alarm is set (an alarm field) or sent at its alarm reading; a random
/// alarm sets the type's alarm field, or (for a type without one) sends its main reading far
/// above its usual band.
fn reading(device: &mut Device, rng: &mut Rng, random_alarm: bool, battery: f64) -> Value {
    let mut data = Map::new();
    data.insert("battery".into(), (battery.round() as i64).into());
    data.insert("interval".into(), device.interval.clone());
    let kind = device.kind;
    let has_alarm_field = kind.alarm_field().is_some();
    for (index, name) in kind.fields.iter().enumerate() {
        let Some(spec) = catalog::field(name) else {
            continue;
        };
        let in_alarm = device.fields[index].alarm;
        let value = match spec.role {
            Role::Alarm(_) if kind.names[0] == "parking" => {
                magnetic(device, rng, random_alarm || in_alarm.is_some())
            }
            Role::Alarm(_) => {
                let random =
                    random_alarm && kind.alarm_field().is_some_and(|a| a.name == spec.name);
                let set = random || in_alarm.is_some();
                if device.bool_alarms {
                    set.into()
                } else {
                    u8::from(set).into()
                }
            }
            Role::State => {
                if device.bool_alarms {
                    true.into()
                } else {
                    1.into()
                }
            }
            _ => {
                let field = &mut device.fields[index];
                let (low, high) = field.band;
                if matches!(*name, "TOTAL_POWER" | "elec_energy_val") {
                    field.value += rng.range(0.0, 0.05);
                } else {
                    let step = field.step;
                    field.value = (field.value + rng.range(-step, step)).clamp(low, high);
                }
                let spike = random_alarm && !has_alarm_field && index == 0;
                let shown = match in_alarm {
                    Some(Some(value)) => value,
                    Some(None) => high + (high - low) * rng.range(1.0, 2.0),
                    None if spike => high + (high - low) * rng.range(1.0, 2.0),
                    None => field.value,
                };
                // One decimal reads like a real sensor; positions keep their precision.
                let places = if spec.decimals >= 6 {
                    6
                } else {
                    spec.decimals.min(1)
                };
                rounded(shown, places)
            }
        };
        data.insert((*name).into(), value);
    }
    Value::Object(data)
}

/// The geomagnetic parking sensor's field vector: a car lifts z, an alarm spikes all axes.
fn magnetic(device: &mut Device, rng: &mut Rng, alarm: bool) -> Value {
    if rng.chance(0.1) {
        device.occupied = !device.occupied;
    }
    let lift = if device.occupied { 60.0 } else { 0.0 };
    let spike = if alarm { 500.0 } else { 0.0 };
    let c = device.magnet_baseline;
    let mut axis = |base: f64| (base + rng.range(-3.0, 3.0) + spike).round() as i64;
    json!({ "x": axis(c), "y": axis(-c / 2.0), "z": axis(40.0 + lift) })
}

/// The push as one JSON object: the envelope with `data` (or, in safe mode, `encryptData`)
/// last, as the platform sends it.
pub(crate) fn assemble(mut envelope: Map<String, Value>, key: &str, value: Value) -> Vec<u8> {
    envelope.insert(key.into(), value);
    serde_json::to_vec(&Value::Object(envelope)).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn apps() -> Vec<String> {
        vec!["a".to_owned(), "b".to_owned()]
    }

    fn kinds() -> &'static [DeviceSpec] {
        catalog::DEVICES
    }

    /// The demo scenario's simulator with `devices` devices, run `run`.
    fn demo_on_run(seed: u64, devices: usize, run: u64) -> Simulator {
        let setup = Setup {
            seed,
            fleet_count: devices,
            fleet_every: Duration::from_secs(1),
            app_ids: apps(),
            run,
        };
        Simulator::new(&Scenario::demo(), &setup)
    }

    fn demo(seed: u64, devices: usize) -> Simulator {
        demo_on_run(seed, devices, 0)
    }

    /// The push without what differs between runs.
    fn reading_of(mut push: SimPush) -> SimPush {
        push.envelope.remove("msgId");
        push.envelope.remove("createdTime");
        push
    }

    #[test]
    fn the_same_seed_gives_the_same_readings_and_new_msg_ids_on_another_run() {
        let mut one = demo_on_run(42, 14, 1);
        let mut two = demo_on_run(42, 14, 2);
        for round in 0..20 {
            let (first, second) = (one.round(round * 1000, 1), two.round(round * 1000, 2));
            for (a, b) in first.iter().zip(&second) {
                assert_ne!(a.envelope["msgId"], b.envelope["msgId"]);
            }
            let strip =
                |pushes: Vec<SimPush>| pushes.into_iter().map(reading_of).collect::<Vec<_>>();
            assert_eq!(strip(first), strip(second));
        }
        let mut other = demo(43, 14);
        assert_ne!(demo(42, 14).round(0, 1), other.round(0, 1));
    }

    #[test]
    fn pushes_have_the_platform_shape() {
        let types = kinds().len();
        let mut sim = demo(7, types);
        let pushes = sim.round(0, 1_732_400_000_000);
        let kinds_seen: Vec<&str> = pushes
            .iter()
            .filter_map(|p| p.envelope["deviceType"].as_str())
            .collect();
        for kind in kinds() {
            let name = kind.names[0];
            assert!(
                kinds_seen.contains(&name),
                "{name} missing from {kinds_seen:?}"
            );
        }
        for name in ["dianbiao", "cover", "tracker", "co", "co2"] {
            assert!(
                kinds_seen.contains(&name),
                "{name} missing from {kinds_seen:?}"
            );
        }
        for push in &pushes {
            let keys: Vec<&str> = push.envelope.keys().map(String::as_str).collect();
            assert_eq!(
                keys,
                ["appId", "sn", "type", "deviceType", "createdTime", "msgId"]
            );
            let sn = push.envelope["sn"].as_str().unwrap_or_default();
            assert!(sn.starts_with("0117C9") && sn.len() == 10, "{sn}");
            assert_eq!(push.envelope["appId"], apps()[push.app]);
            assert!(push.data["battery"].is_u64() && push.data["interval"].is_u64());
            let device_type = push.envelope["deviceType"].as_str().unwrap_or_default();
            let spec = catalog::device_type(device_type);
            for field in spec.map_or(&[][..], |spec| spec.fields) {
                assert!(
                    push.data.get(field).is_some(),
                    "{device_type} lacks {field}: {}",
                    push.data
                );
            }
        }
    }

    #[test]
    fn readings_stay_in_the_catalogue_range_unless_alarming() {
        let mut sim = demo(11, kinds().len() * 2);
        for _ in 0..200 {
            for push in sim.round(0, 0) {
                if push.envelope["type"] == "alarm" {
                    continue;
                }
                let Value::Object(data) = &push.data else {
                    panic!("data is not an object");
                };
                for (name, value) in data {
                    let range = catalog::field(name).and_then(|spec| spec.range);
                    if let (Some((low, high)), Some(number)) = (range, value.as_f64()) {
                        assert!(
                            (low..=high).contains(&number),
                            "{name}={number} outside {low}..{high}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn devices_are_spread_over_apps_with_unique_serials() {
        let mut sim = demo(1, 500);
        let pushes = sim.round(0, 0);
        let mut serials: Vec<&str> = pushes
            .iter()
            .filter_map(|p| p.envelope["sn"].as_str())
            .collect();
        serials.sort_unstable();
        serials.dedup();
        assert_eq!(serials.len(), 500);
        assert_eq!(pushes.iter().filter(|p| p.app == 1).count(), 250);
    }

    #[test]
    fn random_alarms_happen_in_the_demo() {
        let mut sim = demo(3, 21);
        let mut alarms = 0;
        for round in 0..300 {
            alarms += sim
                .round(round * 1000, 0)
                .iter()
                .filter(|p| p.envelope["type"] == "alarm")
                .count();
        }
        assert!(alarms > 10, "only {alarms} alarms in 6300 readings");
    }

    fn batteries(sim: &mut Simulator, now_ms: u64) -> Vec<i64> {
        sim.round(now_ms, 0)
            .iter()
            .filter_map(|p| p.data["battery"].as_i64())
            .collect()
    }

    #[test]
    fn batteries_drain_over_days_by_default() {
        let hour = 3_600_000;
        let mut sim = demo(3, 21);
        let start = batteries(&mut sim, 0);
        // The demo's devices used to reach 0 % in about half an hour.
        let half_hour = batteries(&mut sim, hour / 2);
        for (a, b) in start.iter().zip(&half_hour) {
            assert!(a - b <= 1, "lost {} % in half an hour", a - b);
        }
        let day = batteries(&mut sim, 24 * hour);
        for (a, b) in start.iter().zip(&day) {
            let lost = a - b;
            assert!(
                (10..=14).contains(&lost),
                "lost {lost} % in a day: {a} -> {b}"
            );
            assert!(*b > 0, "empty after a day");
        }
    }

    #[test]
    fn a_scenario_sets_the_drain_rate_and_a_battery_event_restarts_it() {
        let text = "battery_drain = 10\n[[device]]\nsn = \"A\"\ndeviceType = \"co\"\n\
                    battery = 80\n";
        let scenario = Scenario::from_toml("t", text).expect("scenario");
        let setup = Setup {
            seed: 1,
            fleet_count: 0,
            fleet_every: Duration::ZERO,
            app_ids: apps(),
            run: 0,
        };
        let mut sim = Simulator::new(&scenario, &setup);
        let hour = 3_600_000;
        assert_eq!(batteries(&mut sim, 0), [80]);
        assert_eq!(batteries(&mut sim, 3 * hour), [50]);
        assert_eq!(batteries(&mut sim, 9 * hour), [0], "never below 0");
        sim.set_battery(0, 40.0, 9 * hour);
        assert_eq!(batteries(&mut sim, 10 * hour), [30]);
    }

    #[test]
    fn assemble_puts_the_payload_last() {
        let mut envelope = Map::new();
        envelope.insert("appId".into(), "a".into());
        let bytes = assemble(envelope, "encryptData", "xyz".into());
        assert_eq!(bytes, br#"{"appId":"a","encryptData":"xyz"}"#);
    }
}
