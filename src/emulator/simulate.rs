//! Simulated devices: one of each type in the device catalogue ([`crate::catalog`]) in turn —
//! climate nodes, gas (CH4, CO, CO2, LPG), particulates, smoke, leak, manhole covers, water
//! level, trackers, electricity meters, door and motion contacts, … — each with its fields
//! drifting inside a healthy band, a draining battery and an occasional alarm, producing
//! pushes shaped like the platform's (see PLATFORM.md, "The push").
//!
//! Everything random comes from one seeded generator, so a seed always gives the same pushes;
//! only `createdTime` (the wall clock) differs between runs. This module builds JSON values
//! and knows nothing about sockets or sessions.

use serde_json::{json, Map, Value};

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

/// The device types simulated: every type of the catalogue, by its usual name.
fn kinds() -> &'static [DeviceSpec] {
    catalog::DEVICES
}

/// Probability that a reading is an alarm.
const ALARM_CHANCE: f64 = 0.03;
/// Probability that the battery loses one percent in a round.
const DRAIN_CHANCE: f64 = 0.05;

#[derive(Debug, Clone)]
struct Device {
    app: usize,
    sn: String,
    kind: &'static DeviceSpec,
    battery: u8,
    interval: u32,
    /// The current value of each numeric field of `kind`, drifting slowly.
    values: Vec<f64>,
    /// Sends its alarm fields as booleans (else as 0/1): the platform's sources disagree.
    bool_alarms: bool,
    /// The parking sensor's magnetic baseline and whether a car stands on it.
    drift: f64,
    occupied: bool,
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
}

impl Simulator {
    /// `devices` devices spread round-robin over `app_ids`, all drawn from `seed`.
    pub(crate) fn new(seed: u64, devices: usize, app_ids: Vec<String>) -> Self {
        let mut rng = Rng::new(seed);
        let apps = app_ids.len().max(1);
        let sn_base = rng.next_u64();
        let kind_offset = rng.next_u64();
        let kinds = kinds();
        let devices = (0..devices)
            .map(|index| {
                let kind_index =
                    (kind_offset.wrapping_add(index as u64) % kinds.len() as u64) as usize;
                let kind = &kinds[kind_index];
                // An odd step makes the 16-bit serial suffix a bijection of the index.
                let suffix = sn_base.wrapping_add((index as u64).wrapping_mul(0x9E37)) & 0xFFFF;
                Device {
                    app: index % apps,
                    sn: format!("0117C9{suffix:04X}"),
                    kind,
                    battery: u8::try_from(rng.int(60, 100)).unwrap_or(100),
                    interval: [60, 300, 600][(rng.next_u64() % 3) as usize],
                    values: kind
                        .fields
                        .iter()
                        .map(|name| {
                            let (low, high) = typical(name);
                            rng.range(low, high)
                        })
                        .collect(),
                    bool_alarms: rng.chance(0.5),
                    drift: rng.range(-20.0, 20.0),
                    occupied: rng.chance(0.5),
                }
            })
            .collect();
        Simulator {
            rng,
            app_ids,
            devices,
        }
    }

    /// One push per device, in device order, stamped `created_ms`.
    pub(crate) fn round(&mut self, created_ms: u64) -> Vec<SimPush> {
        let mut pushes = Vec::with_capacity(self.devices.len());
        for device in &mut self.devices {
            let rng = &mut self.rng;
            if rng.chance(DRAIN_CHANCE) {
                device.battery = device.battery.saturating_sub(1);
            }
            let alarm = rng.chance(ALARM_CHANCE);
            let data = reading(device, rng, alarm);
            let msg_id = format!("{:016x}{:08x}", rng.next_u64(), rng.next_u64() >> 32);
            let mut envelope = Map::new();
            let app_id = self.app_ids.get(device.app).cloned().unwrap_or_default();
            envelope.insert("appId".into(), app_id.into());
            envelope.insert("sn".into(), device.sn.clone().into());
            envelope.insert("type".into(), if alarm { "alarm" } else { "text" }.into());
            envelope.insert("deviceType".into(), device.kind.names[0].into());
            envelope.insert("createdTime".into(), created_ms.into());
            envelope.insert("msgId".into(), msg_id.into());
            pushes.push(SimPush {
                app: device.app,
                envelope,
                data,
            });
        }
        pushes
    }
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
/// catalogue. An alarm sets the type's alarm field, or (for a type without one) sends its
/// main reading far above its usual band.
fn reading(device: &mut Device, rng: &mut Rng, alarm: bool) -> Value {
    let mut data = Map::new();
    data.insert("battery".into(), device.battery.into());
    data.insert("interval".into(), device.interval.into());
    let kind = device.kind;
    let has_alarm_field = kind.alarm_field().is_some();
    for (index, name) in kind.fields.iter().enumerate() {
        let Some(spec) = catalog::field(name) else {
            continue;
        };
        let value = match spec.role {
            Role::Alarm(_) if kind.names[0] == "parking" => magnetic(device, rng, alarm),
            Role::Alarm(_) => {
                let set = alarm && kind.alarm_field().is_some_and(|a| a.name == spec.name);
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
                let (low, high) = typical(name);
                let current = &mut device.values[index];
                if matches!(*name, "TOTAL_POWER" | "elec_energy_val") {
                    *current += rng.range(0.0, 0.05);
                } else {
                    let step = (high - low) * 0.02;
                    *current = (*current + rng.range(-step, step)).clamp(low, high);
                }
                let spike = alarm && !has_alarm_field && index == 0;
                let shown = if spike {
                    high + (high - low) * rng.range(1.0, 2.0)
                } else {
                    *current
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
    let c = device.drift;
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

    #[test]
    fn same_seed_same_pushes() {
        let mut one = Simulator::new(42, 14, apps());
        let mut two = Simulator::new(42, 14, apps());
        for _ in 0..20 {
            assert_eq!(
                one.round(1),
                two.round(2)
                    .into_iter()
                    .map(|mut p| {
                        p.envelope.insert("createdTime".into(), 1.into());
                        p
                    })
                    .collect::<Vec<_>>()
            );
        }
        let mut other = Simulator::new(43, 14, apps());
        assert_ne!(Simulator::new(42, 14, apps()).round(1), other.round(1));
    }

    #[test]
    fn pushes_have_the_platform_shape() {
        let types = kinds().len();
        let mut sim = Simulator::new(7, types, apps());
        let pushes = sim.round(1_732_400_000_000);
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
        let mut sim = Simulator::new(11, kinds().len() * 2, apps());
        for _ in 0..200 {
            for push in sim.round(0) {
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
        let mut sim = Simulator::new(1, 500, apps());
        let pushes = sim.round(0);
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
    fn alarms_happen_and_batteries_drain() {
        let mut sim = Simulator::new(3, 21, apps());
        let first = sim.round(0);
        let mut alarms = 0;
        let mut last = Vec::new();
        for _ in 0..300 {
            last = sim.round(0);
            alarms += last
                .iter()
                .filter(|p| p.envelope["type"] == "alarm")
                .count();
        }
        assert!(alarms > 10, "only {alarms} alarms in 6300 readings");
        let total = |pushes: &[SimPush]| -> u64 {
            pushes
                .iter()
                .filter_map(|p| p.data["battery"].as_u64())
                .sum()
        };
        assert!(total(&last) < total(&first));
    }

    #[test]
    fn assemble_puts_the_payload_last() {
        let mut envelope = Map::new();
        envelope.insert("appId".into(), "a".into());
        let bytes = assemble(envelope, "encryptData", "xyz".into());
        assert_eq!(bytes, br#"{"appId":"a","encryptData":"xyz"}"#);
    }
}
