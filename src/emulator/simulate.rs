//! Simulated devices: a temperature/humidity node, smoke, leak, CH4 gas, geomagnetic parking,
//! PM2.5 and light sensors, each with a draining battery and an occasional alarm, producing
//! pushes shaped like the platform's (see PLATFORM.md, "The push").
//!
//! Everything random comes from one seeded generator, so a seed always gives the same pushes;
//! only `createdTime` (the wall clock) differs between runs. This module builds JSON values
//! and knows nothing about sockets or sessions.

use serde_json::{json, Map, Value};

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

/// The kinds of device simulated, with the `deviceType` each reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Node,
    Smoke,
    Leak,
    Ch4,
    Parking,
    Pm25,
    Light,
}

const KINDS: [Kind; 7] = [
    Kind::Node,
    Kind::Smoke,
    Kind::Leak,
    Kind::Ch4,
    Kind::Parking,
    Kind::Pm25,
    Kind::Light,
];

impl Kind {
    fn device_type(self) -> &'static str {
        match self {
            Kind::Node => "node",
            Kind::Smoke => "smoke",
            Kind::Leak => "leak",
            Kind::Ch4 => "ch4",
            Kind::Parking => "parking",
            Kind::Pm25 => "pm2_5",
            Kind::Light => "light",
        }
    }
}

/// Probability that a reading is an alarm.
const ALARM_CHANCE: f64 = 0.03;
/// Probability that the battery loses one percent in a round.
const DRAIN_CHANCE: f64 = 0.05;

#[derive(Debug, Clone)]
struct Device {
    app: usize,
    sn: String,
    kind: Kind,
    battery: u8,
    interval: u32,
    /// Slowly drifting readings (temperature and humidity, or the magnetic field).
    drift: [f64; 3],
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
        let devices = (0..devices)
            .map(|index| {
                let kind_index = (kind_offset.wrapping_add(index as u64) % 7) as usize;
                // An odd step makes the 16-bit serial suffix a bijection of the index.
                let suffix = sn_base.wrapping_add((index as u64).wrapping_mul(0x9E37)) & 0xFFFF;
                Device {
                    app: index % apps,
                    sn: format!("0117C9{suffix:04X}"),
                    kind: KINDS[kind_index],
                    battery: u8::try_from(rng.int(60, 100)).unwrap_or(100),
                    interval: [60, 300, 600][(rng.next_u64() % 3) as usize],
                    drift: [
                        rng.range(18.0, 26.0),
                        rng.range(30.0, 60.0),
                        rng.range(-20.0, 20.0),
                    ],
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
            envelope.insert("deviceType".into(), device.kind.device_type().into());
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

fn one_decimal(value: f64) -> f64 {
    (value * 10.0).round() / 10.0
}

/// The `data` object of one reading: housekeeping plus the device's one sensor.
fn reading(device: &mut Device, rng: &mut Rng, alarm: bool) -> Value {
    let mut data = Map::new();
    data.insert("battery".into(), device.battery.into());
    data.insert("interval".into(), device.interval.into());
    let [a, b, c] = &mut device.drift;
    let (key, value): (&str, Value) = match device.kind {
        Kind::Node => {
            *a = (*a + rng.range(-0.3, 0.3)).clamp(5.0, 35.0);
            *b = (*b + rng.range(-1.0, 1.0)).clamp(15.0, 95.0);
            let temperature = if alarm { rng.range(45.0, 60.0) } else { *a };
            data.insert("temperature".into(), one_decimal(temperature).into());
            ("humidity", one_decimal(*b).into())
        }
        Kind::Smoke => ("smoke", u8::from(alarm).into()),
        Kind::Leak => ("leak", alarm.into()),
        Kind::Ch4 => (
            "ch4",
            if alarm {
                rng.int(1000, 5000)
            } else {
                rng.int(0, 20)
            }
            .into(),
        ),
        Kind::Parking => {
            if rng.chance(0.1) {
                device.occupied = !device.occupied;
            }
            let lift = if device.occupied { 60.0 } else { 0.0 };
            let spike = if alarm { 500.0 } else { 0.0 };
            let mut axis = |base: f64| (base + rng.range(-3.0, 3.0) + spike).round() as i64;
            let magnetic = json!({ "x": axis(*c), "y": axis(-*c / 2.0), "z": axis(40.0 + lift) });
            ("magnetic", magnetic)
        }
        Kind::Pm25 => (
            "pm2_5",
            if alarm {
                rng.int(250, 500)
            } else {
                rng.int(5, 60)
            }
            .into(),
        ),
        Kind::Light => {
            let lux = if alarm {
                rng.range(50_000.0, 80_000.0)
            } else {
                rng.range(0.0, 2000.0)
            };
            ("light", one_decimal(lux).into())
        }
    };
    data.insert(key.into(), value);
    Value::Object(data)
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
        let mut sim = Simulator::new(7, 7, apps());
        let pushes = sim.round(1_732_400_000_000);
        let kinds: Vec<&str> = pushes
            .iter()
            .filter_map(|p| p.envelope["deviceType"].as_str())
            .collect();
        for kind in ["node", "smoke", "leak", "ch4", "parking", "pm2_5", "light"] {
            assert!(kinds.contains(&kind), "{kind} missing from {kinds:?}");
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
        let mut sim = Simulator::new(3, 7, apps());
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
        assert!(alarms > 10, "only {alarms} alarms in 2100 readings");
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
