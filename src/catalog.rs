//! The device catalogue: what PLATFORM.md knows about SENSORO devices ("Fields that carry
//! meaning", "Device types seen in the platform's public apps"), in one place.
//!
//! For each `deviceType`: its fields, which of them is the main reading, and how often it
//! reports by default. For each field name: its unit, a sensible precision and range, and
//! whether it is an alarm (and what being set or clear means, from a boolean or a number).
//! Housekeeping fields (battery, interval, light, lonlat) are known on every type.
//!
//! The pretty renderer, the emulator's simulator and `watch` (alarms, stale detection) all read
//! from here, so a unit or an alarm is described once. The catalogue is not a closed list:
//! unknown types and fields are answered with `None` (or a generic default) and the callers
//! show them generically. Pure data and lookups: no I/O, no terminal, no MQTT.

use serde_json::Value;

/// What a field is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// A sensed quantity with a unit.
    Reading,
    /// The device's set-up (reporting period, alarm thresholds): not something it senses.
    Setting,
    /// Battery charge in percent (−1 when unknown).
    Battery,
    /// Something is wrong when set (true or non-zero).
    Alarm(AlarmWords),
    /// A yes/no state that is not an alarm (a sensor's `installed`).
    State,
}

/// What an alarm field means in words, set and clear.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AlarmWords {
    /// Shown when the field is set, e.g. "smoke", "water", "open".
    pub set: &'static str,
    /// Shown when the field is clear, e.g. "ok", "closed".
    pub clear: &'static str,
}

/// One known field.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FieldSpec {
    /// The name the platform uses.
    pub name: &'static str,
    /// Other spellings seen for the same thing (matched like the name: case, `_` and `-`
    /// ignored).
    pub aliases: &'static [&'static str],
    /// A display label when it reads better than the name (`PM2.5` for `pm2_5`).
    pub label: Option<&'static str>,
    /// The unit ("" when it has none).
    pub unit: &'static str,
    /// Decimal places worth showing.
    pub decimals: usize,
    /// The range the platform's apps show (`None` when they show none).
    pub range: Option<(f64, f64)>,
    /// What the field is for.
    pub role: Role,
}

/// One known device type.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DeviceSpec {
    /// Every `deviceType` spelling that means this device (the first is the usual one).
    pub names: &'static [&'static str],
    /// What it is, in words.
    pub label: &'static str,
    /// Its data fields besides housekeeping, main reading(s) first.
    pub fields: &'static [&'static str],
    /// How many of `fields` (from the start) are its main readings.
    pub main: usize,
    /// Its reporting period in seconds when a push carries no `interval`.
    pub interval_s: u32,
}

impl DeviceSpec {
    /// The main reading fields, in order of importance.
    #[must_use]
    pub fn main_fields(&self) -> &'static [&'static str] {
        &self.fields[..self.main.min(self.fields.len())]
    }

    /// The first of its fields that is an alarm, if any.
    #[must_use]
    pub fn alarm_field(&self) -> Option<&'static FieldSpec> {
        self.fields
            .iter()
            .filter_map(|name| field(name))
            .find(|spec| matches!(spec.role, Role::Alarm(_)))
    }
}

/// The reporting period assumed for a device of unknown type without `interval`.
pub const DEFAULT_INTERVAL_S: u32 = 300;

/// At or below this battery percentage the device is flagged.
pub const LOW_BATTERY_PERCENT: f64 = 20.0;

/// The housekeeping fields every type may carry.
pub const HOUSEKEEPING: &[&str] = &["battery", "interval", "light", "lonlat"];

const fn reading(
    name: &'static str,
    aliases: &'static [&'static str],
    unit: &'static str,
    decimals: usize,
    range: Option<(f64, f64)>,
) -> FieldSpec {
    FieldSpec {
        name,
        aliases,
        label: None,
        unit,
        decimals,
        range,
        role: Role::Reading,
    }
}

const fn alarm(
    name: &'static str,
    aliases: &'static [&'static str],
    set: &'static str,
    clear: &'static str,
) -> FieldSpec {
    FieldSpec {
        name,
        aliases,
        label: None,
        unit: "",
        decimals: 0,
        range: None,
        role: Role::Alarm(AlarmWords { set, clear }),
    }
}

const fn labelled(mut spec: FieldSpec, label: &'static str) -> FieldSpec {
    spec.label = Some(label);
    spec
}

/// Every field the catalogue knows, housekeeping included.
pub const FIELDS: &[FieldSpec] = &[
    // Housekeeping.
    FieldSpec {
        name: "battery",
        aliases: &[],
        label: None,
        unit: "%",
        decimals: 1,
        range: Some((0.0, 100.0)),
        role: Role::Battery,
    },
    FieldSpec {
        name: "interval",
        aliases: &[],
        label: None,
        unit: "s",
        decimals: 3,
        range: None,
        role: Role::Setting,
    },
    reading(
        "light",
        &["lux", "illuminance"],
        "lux",
        1,
        Some((0.0, 100_000.0)),
    ),
    // Climate.
    reading("temperature", &["temp"], "°C", 2, Some((-40.0, 85.0))),
    reading("humidity", &["hum"], "%RH", 1, Some((0.0, 100.0))),
    reading("temp1", &[], "°C", 2, Some((-40.0, 85.0))),
    // Gas.
    reading("ch4", &[], "ppm", 1, Some((0.0, 10_000.0))),
    reading("lel", &[], "%LEL", 1, Some((0.0, 100.0))),
    reading("co", &[], "ppm", 1, Some((0.0, 1000.0))),
    reading("co2", &[], "ppm", 1, Some((0.0, 10_000.0))),
    reading("lpg", &[], "ppm", 1, Some((0.0, 10_000.0))),
    labelled(
        reading("pm2_5", &["pm25", "pm2.5"], "µg/m³", 1, Some((0.0, 1000.0))),
        "PM2.5",
    ),
    labelled(
        reading("pm10", &[], "µg/m³", 1, Some((0.0, 1000.0))),
        "PM10",
    ),
    // Water and covers.
    reading("level", &[], "", 2, None),
    // Position.
    reading("latitude", &["lat"], "°", 6, Some((-90.0, 90.0))),
    reading("longitude", &["lon", "lng"], "°", 6, Some((-180.0, 180.0))),
    // Electricity.
    reading("CURRENT_A", &[], "A", 2, Some((0.0, 100.0))),
    reading("VOLTAGE_A", &[], "V", 1, Some((0.0, 400.0))),
    reading("TOTAL_POWER", &[], "kWh", 2, None),
    reading("curr_val", &[], "A", 2, Some((0.0, 100.0))),
    reading("vol_val", &[], "V", 1, Some((0.0, 400.0))),
    reading("elec_energy_val", &[], "kWh", 2, None),
    reading("leakage_val", &[], "mA", 1, Some((0.0, 1000.0))),
    reading("temp_val", &[], "°C", 1, Some((-40.0, 125.0))),
    reading("power_val", &[], "kW", 2, Some((0.0, 100.0))),
    // States that are not alarms.
    FieldSpec {
        name: "installed",
        aliases: &[],
        label: None,
        unit: "",
        decimals: 0,
        range: None,
        role: Role::State,
    },
    // Alarms.
    alarm("smoke", &["fire", "flame"], "smoke", "ok"),
    alarm("drop", &[], "water", "dry"),
    alarm("leak", &["leakage", "waterleak", "flood"], "water", "dry"),
    alarm("cover", &[], "open", "closed"),
    alarm("door", &[], "open", "closed"),
    alarm("infrared", &["intrusion"], "motion", "quiet"),
    alarm("magnetic", &[], "open", "closed"),
    alarm("manual_alarm", &["sos", "panic"], "manual alarm", "ok"),
    alarm("sound_light_alarm", &[], "siren on", "off"),
    alarm("tamper", &[], "tampered", "ok"),
    alarm("collision", &[], "collision", "ok"),
    alarm("fall", &[], "fall", "ok"),
];

/// Every device type the catalogue knows (PLATFORM.md's table, plus the geomagnetic
/// parking sensor whose `magnetic` vector the platform's sample shows).
pub const DEVICES: &[DeviceSpec] = &[
    device(
        &["node", "temp_humi"],
        "temperature & humidity",
        &["temperature", "humidity"],
        2,
        300,
    ),
    device(
        &["temp_humi_one"],
        "temperature & humidity, 2 probes",
        &["temperature", "humidity", "temp1"],
        3,
        300,
    ),
    device(&["ch4", "siter_ch4"], "methane", &["ch4", "lel"], 2, 60),
    device(&["co"], "carbon monoxide", &["co"], 1, 60),
    device(&["co2"], "carbon dioxide", &["co2"], 1, 300),
    device(&["lpg", "fhsj_lpg"], "LPG", &["lpg"], 1, 60),
    device(&["pm"], "particulates", &["pm2_5", "pm10"], 2, 300),
    device(
        &["smoke", "fhsj_smoke"],
        "smoke detector",
        &["smoke", "installed"],
        1,
        3600,
    ),
    device(&["leak"], "water leak", &["drop", "leak"], 2, 3600),
    device(&["cover"], "manhole cover", &["cover", "level"], 2, 600),
    device(
        &["zcrd_water"],
        "water level",
        &["level", "installed"],
        1,
        600,
    ),
    device(&["tracker"], "tracker", &["latitude", "longitude"], 2, 60),
    device(
        &["dianbiao", "zcrd_ammeter"],
        "electricity meter",
        &[
            "CURRENT_A",
            "VOLTAGE_A",
            "TOTAL_POWER",
            "curr_val",
            "vol_val",
            "elec_energy_val",
        ],
        3,
        300,
    ),
    device(
        &["fhsj_elec_fires"],
        "electrical fire monitor",
        &[
            "leakage_val",
            "temp_val",
            "power_val",
            "vol_val",
            "curr_val",
            "elec_energy_val",
        ],
        2,
        300,
    ),
    device(&["zcrd_door"], "door contact", &["door"], 1, 3600),
    device(
        &["zcrd_infrared"],
        "infrared motion",
        &["infrared"],
        1,
        3600,
    ),
    device(
        &["zcrd_magnetic"],
        "magnetic contact",
        &["magnetic"],
        1,
        3600,
    ),
    device(
        &["zcrd_manual"],
        "manual call point",
        &["manual_alarm"],
        1,
        3600,
    ),
    device(
        &["zcrd_sound_light"],
        "sounder & beacon",
        &["sound_light_alarm"],
        1,
        3600,
    ),
    device(&["parking"], "geomagnetic parking", &["magnetic"], 1, 300),
    device(&["light"], "light", &["light"], 1, 300),
];

const fn device(
    names: &'static [&'static str],
    label: &'static str,
    fields: &'static [&'static str],
    main: usize,
    interval_s: u32,
) -> DeviceSpec {
    DeviceSpec {
        names,
        label,
        fields,
        main,
        interval_s,
    }
}

/// Lower case without `_` and `-`: `waterLeak`, `water_leak` and `WATER-LEAK` are one name.
#[must_use]
pub fn normalise(key: &str) -> String {
    key.chars()
        .filter(|c| !matches!(c, '_' | '-'))
        .flat_map(char::to_lowercase)
        .collect()
}

fn same_name(a: &str, b: &str) -> bool {
    if a.is_ascii() && b.is_ascii() {
        // The common case, without per-character iterators: bytes, case and '_'/'-' ignored.
        let mut a = a.bytes().filter(|c| !matches!(c, b'_' | b'-'));
        let mut b = b.bytes().filter(|c| !matches!(c, b'_' | b'-'));
        return loop {
            match (a.next(), b.next()) {
                (None, None) => break true,
                (Some(x), Some(y)) if x.eq_ignore_ascii_case(&y) => {}
                _ => break false,
            }
        };
    }
    let mut a = a.chars().filter(|c| !matches!(c, '_' | '-'));
    let mut b = b.chars().filter(|c| !matches!(c, '_' | '-'));
    loop {
        match (a.next(), b.next()) {
            (None, None) => return true,
            (Some(x), Some(y)) if x.to_lowercase().eq(y.to_lowercase()) => {}
            _ => return false,
        }
    }
}

/// The known field called `name` (any spelling), if any.
#[must_use]
pub fn field(name: &str) -> Option<&'static FieldSpec> {
    FIELDS.iter().find(|spec| {
        same_name(spec.name, name) || spec.aliases.iter().any(|alias| same_name(alias, name))
    })
}

/// The known device type called `device_type`, if any.
#[must_use]
pub fn device_type(device_type: &str) -> Option<&'static DeviceSpec> {
    DEVICES.iter().find(|spec| {
        spec.names
            .iter()
            .any(|name| name.eq_ignore_ascii_case(device_type))
    })
}

/// The reporting period of a device type when its push has no `interval`.
#[must_use]
pub fn default_interval(device_type: &str) -> u32 {
    self::device_type(device_type).map_or(DEFAULT_INTERVAL_S, |spec| spec.interval_s)
}

/// Whether a name — a field's, or a push's `type` — means "something is wrong": a known
/// alarm field, or any name with "alarm" or "alert" in it that is not a threshold setting
/// (`tempAlarmHigh`, `humiAlarmLow`).
#[must_use]
pub fn is_alarm_name(name: &str) -> bool {
    if let Some(spec) = field(name) {
        return matches!(spec.role, Role::Alarm(_));
    }
    let name = normalise(name);
    (name.contains("alarm") || name.contains("alert")) && !is_threshold(&name)
}

/// A threshold setting such as `tempAlarmHigh` or `pm2_5AlarmLow` (normalised name).
fn is_threshold(normalised: &str) -> bool {
    ["high", "low", "threshold", "max", "min"]
        .iter()
        .any(|end| normalised.ends_with(end))
}

/// Whether `name` is an alarm threshold setting (`tempAlarmHigh`, `humiAlarmLow`, …).
#[must_use]
pub fn is_threshold_setting(name: &str) -> bool {
    let name = normalise(name);
    (name.contains("alarm") || name.contains("alert")) && is_threshold(&name)
}

/// The words of an alarm field: the catalogue's, or generic ones for an alarm-like name.
#[must_use]
pub fn alarm_words(name: &str) -> Option<AlarmWords> {
    match field(name).map(|spec| spec.role) {
        Some(Role::Alarm(words)) => Some(words),
        Some(_) => None,
        None => is_alarm_name(name).then_some(AlarmWords {
            set: "alarm",
            clear: "ok",
        }),
    }
}

/// `Some(set)` when `name` is an alarm field and `value` says set (true or non-zero) or clear
/// (false or zero); `None` for other fields and for values that are neither (an object, a
/// string), which are shown as they are.
#[must_use]
pub fn alarm_state(name: &str, value: &Value) -> Option<bool> {
    if !is_alarm_name(name) {
        return None;
    }
    flag(value)
}

/// A boolean from a bool or a number (non-zero is true), as the platform sends either.
#[must_use]
pub fn flag(value: &Value) -> Option<bool> {
    match value {
        Value::Bool(on) => Some(*on),
        Value::Number(number) => Some(number.as_f64().is_some_and(|n| n != 0.0)),
        _ => None,
    }
}

/// Every deviceType in PLATFORM.md's table ("Device types seen in the platform's public
/// apps"): each has an entry in the catalogue (tests check it, and that each renders).
pub const PLATFORM_TYPES: &[&str] = &[
    "node",
    "temp_humi",
    "temp_humi_one",
    "ch4",
    "siter_ch4",
    "co",
    "co2",
    "lpg",
    "fhsj_lpg",
    "pm",
    "smoke",
    "fhsj_smoke",
    "leak",
    "cover",
    "zcrd_water",
    "tracker",
    "dianbiao",
    "zcrd_ammeter",
    "fhsj_elec_fires",
    "zcrd_door",
    "zcrd_infrared",
    "zcrd_magnetic",
    "zcrd_manual",
    "zcrd_sound_light",
];

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_platform_type_is_known_and_its_fields_too() {
        for name in PLATFORM_TYPES {
            let spec = device_type(name).unwrap_or_else(|| panic!("{name} not in the catalogue"));
            assert!(spec.main >= 1, "{name} has no main reading");
            for field_name in spec.fields {
                assert!(
                    field(field_name).is_some(),
                    "{name}: field {field_name} unknown"
                );
            }
        }
    }

    #[test]
    fn fields_match_any_spelling() {
        assert_eq!(field("PM2_5").map(|f| f.name), Some("pm2_5"));
        assert_eq!(field("Temp").map(|f| f.name), Some("temperature"));
        assert_eq!(field("current_a").map(|f| f.unit), Some("A"));
        assert_eq!(field("water-leak").map(|f| f.name), Some("leak"));
        assert!(field("flux_capacitor").is_none());
    }

    #[test]
    fn alarms_accept_bool_or_number() {
        assert_eq!(alarm_state("smoke", &json!(1)), Some(true));
        assert_eq!(alarm_state("smoke", &json!(false)), Some(false));
        assert_eq!(alarm_state("drop", &json!(true)), Some(true));
        assert_eq!(alarm_state("leak", &json!(0)), Some(false));
        assert_eq!(alarm_state("doorAlarm", &json!(2)), Some(true));
        assert_eq!(alarm_state("magnetic", &json!({"x": 1})), None);
        assert_eq!(alarm_state("temperature", &json!(1)), None);
    }

    #[test]
    fn thresholds_are_settings_not_alarms() {
        assert!(!is_alarm_name("tempAlarmHigh"));
        assert!(!is_alarm_name("humiAlarmLow"));
        assert!(is_threshold_setting("pm2_5AlarmHigh"));
        assert!(is_alarm_name("alarm"));
        assert!(is_alarm_name("sound_light_alarm"));
    }

    #[test]
    fn unknown_types_get_the_default_interval() {
        assert_eq!(default_interval("node"), 300);
        assert_eq!(default_interval("co"), 60);
        assert_eq!(default_interval("no_such_type"), DEFAULT_INTERVAL_S);
    }

    #[test]
    fn alarm_words_say_what_set_and_clear_mean() {
        assert_eq!(alarm_words("cover").map(|w| w.set), Some("open"));
        assert_eq!(alarm_words("drop").map(|w| w.clear), Some("dry"));
        assert_eq!(alarm_words("somethingAlarm").map(|w| w.set), Some("alarm"));
        assert_eq!(alarm_words("temperature"), None);
    }
}
