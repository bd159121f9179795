//! What each field of a push is: a measurement with a unit, an alarm flag, coordinates, a
//! vector, or something unknown that is shown generically. Nested objects are flattened
//! (`a.b`); nothing is dropped.

use serde_json::{Map, Number, Value};

use super::values;
use crate::catalog::{self, Role};

/// A field ready to be laid out: its display name and what it holds.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Field<'a> {
    /// Dotted path from the push (or from `data`), unescaped: layout sanitises it.
    pub(super) key: String,
    /// The value, classified.
    pub(super) reading: Reading<'a>,
}

/// A field's value, classified by its name and shape.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Reading<'a> {
    /// A number with a unit, rounded for display.
    Measure {
        number: &'a Number,
        unit: &'static str,
        decimals: usize,
        low_battery: bool,
        /// A sensor reading (not battery or interval): highlighted in an alarm push.
        sensor: bool,
        /// Part of a push whose `type` is an alarm: shown as one.
        in_alarm: bool,
    },
    /// An alarm-like field (leak, smoke, …): `on` when true or non-zero.
    Flag { value: &'a Value, on: bool },
    /// A position, validated to lie on Earth.
    Coordinates { lat: f64, lon: f64 },
    /// Named components, such as `magnetic` x/y/z.
    Vector(Vec<(&'a str, &'a Number)>),
    /// A base64 blob (`encryptData`) shown by its length only.
    Blob { chars: usize },
    /// Anything else, shown as sent.
    Plain(&'a Value),
}

/// Names of fields holding a position as `[lon, lat]` (or `[lat, lon]` when named `lat…`).
const COORDINATE_NAMES: &[&str] = &[
    "lonlat",
    "lnglat",
    "latlng",
    "latlon",
    "location",
    "position",
    "coordinates",
    "coordinate",
    "gps",
];

/// Names of fields holding a small vector of numbers.
const VECTOR_NAMES: &[&str] = &["magnetic"];

/// Appends the fields of `value` found under `key` (inside `parent`, "" at the top).
pub(super) fn collect<'a>(parent: &str, key: &str, value: &'a Value, out: &mut Vec<Field<'a>>) {
    collect_at(parent, key, value, 0, out);
}

fn collect_at<'a>(
    parent: &str,
    key: &str,
    value: &'a Value,
    depth: usize,
    out: &mut Vec<Field<'a>>,
) {
    if let Some((label, reading)) = classify(key, value) {
        out.push(Field {
            key: join(parent, label.unwrap_or(key)),
            reading,
        });
        return;
    }
    let path = join(parent, key);
    match value {
        Value::Object(map) if !map.is_empty() && depth < values::MAX_DEPTH => {
            for (child, item) in map {
                collect_at(&path, child, item, depth + 1, out);
            }
        }
        _ => out.push(Field {
            key: path,
            reading: Reading::Plain(value),
        }),
    }
}

fn join(parent: &str, key: &str) -> String {
    let key = if key.is_empty() { "\"\"" } else { key };
    if parent.is_empty() {
        key.to_owned()
    } else {
        format!("{parent}.{key}")
    }
}

fn normalise(key: &str) -> String {
    catalog::normalise(key)
}

/// A recognised field: its display label (if not its own name) and reading.
fn classify<'a>(key: &str, value: &'a Value) -> Option<(Option<&'static str>, Reading<'a>)> {
    let name = normalise(key);
    let spec = catalog::field(key);
    if let Value::Number(number) = value {
        if let Some(reading) = battery(&name, number) {
            return Some((None, reading));
        }
        if let Some(spec) = spec.filter(|spec| measured(spec.role)) {
            let reading = Reading::Measure {
                number,
                unit: spec.unit,
                decimals: spec.decimals,
                low_battery: false,
                sensor: spec.role == Role::Reading,
                in_alarm: false,
            };
            return Some((spec.label, reading));
        }
    }
    if let Some(on) = catalog::alarm_state(key, value) {
        return Some((None, Reading::Flag { value, on }));
    }
    coordinates(&name, value)
        .or_else(|| vector(&name, value))
        .map(|reading| (None, reading))
}

/// Roles shown as a number with a unit (battery has its own rule: a percentage only).
fn measured(role: Role) -> bool {
    matches!(role, Role::Reading | Role::Setting)
}

fn battery<'a>(name: &str, number: &'a Number) -> Option<Reading<'a>> {
    let percent = number.as_f64().filter(|p| (0.0..=100.0).contains(p))?;
    (name == "battery").then_some(Reading::Measure {
        number,
        unit: "%",
        decimals: 1,
        low_battery: percent <= catalog::LOW_BATTERY_PERCENT,
        sensor: false,
        in_alarm: false,
    })
}

/// Whether a name (a field's, or a push's `type`) means "something is wrong".
pub(super) fn is_alarm_name(name: &str) -> bool {
    catalog::is_alarm_name(name)
}

/// Marks the sensor readings among `fields` as part of an alarm push.
pub(super) fn mark_in_alarm(fields: &mut [Field<'_>]) {
    for field in fields {
        if let Reading::Measure {
            sensor: true,
            in_alarm,
            ..
        } = &mut field.reading
        {
            *in_alarm = true;
        }
    }
}

fn coordinates(name: &str, value: &Value) -> Option<Reading<'static>> {
    let (lat, lon) = match value {
        Value::Array(pair) if COORDINATE_NAMES.contains(&name) => {
            let [first, second] = pair.as_slice() else {
                return None;
            };
            let (first, second) = (first.as_f64()?, second.as_f64()?);
            if name.starts_with("lat") {
                (first, second)
            } else {
                (second, first)
            }
        }
        Value::Object(map) => lat_lon_object(map)?,
        _ => return None,
    };
    let on_earth = (-90.0..=90.0).contains(&lat) && (-180.0..=180.0).contains(&lon);
    on_earth.then_some(Reading::Coordinates { lat, lon })
}

/// `{lat, lon}` under any of the usual spellings, and nothing else in the object.
fn lat_lon_object(map: &Map<String, Value>) -> Option<(f64, f64)> {
    if map.len() != 2 {
        return None;
    }
    let find = |names: &[&str]| {
        map.iter()
            .find(|(key, _)| names.contains(&normalise(key).as_str()))
            .and_then(|(_, value)| value.as_f64())
    };
    Some((
        find(&["lat", "latitude"])?,
        find(&["lon", "lng", "longitude"])?,
    ))
}

fn vector<'a>(name: &str, value: &'a Value) -> Option<Reading<'a>> {
    let Value::Object(map) = value else {
        return None;
    };
    if !VECTOR_NAMES.contains(&name) || map.is_empty() || map.len() > 4 {
        return None;
    }
    let components = map
        .iter()
        .map(|(axis, value)| match value {
            Value::Number(number) => Some((axis.as_str(), number)),
            _ => None,
        })
        .collect::<Option<Vec<_>>>()?;
    Some(Reading::Vector(components))
}

#[cfg(test)]
mod tests {
    use super::super::text::Line;
    use super::*;
    use serde_json::json;

    fn fields(data: &Value) -> Vec<Field<'_>> {
        let mut out = Vec::new();
        if let Value::Object(map) = data {
            for (key, value) in map {
                collect("", key, value, &mut out);
            }
        }
        out
    }

    fn rendered(data: &Value, compact: bool) -> Vec<String> {
        fields(data)
            .iter()
            .map(|field| {
                let mut line = Line::new();
                values::push_reading(&mut line, &field.reading, compact);
                let mut out = String::new();
                super::super::text::emit(&mut out, &line, false);
                format!("{}={}", field.key, out.trim_end())
            })
            .collect()
    }

    #[test]
    fn documented_readings_get_units() {
        let data = json!({"temperature": 21.5, "humidity": 40.2, "light": 320.0, "battery": 90,
            "ch4": 0, "co2": 415.5, "pm2_5": 12, "pm10": 20, "interval": 300});
        assert_eq!(
            rendered(&data, false),
            [
                "temperature=21.5 °C",
                "humidity=40.2 %RH",
                "light=320 lux",
                "battery=90 %",
                "ch4=0 ppm",
                "co2=415.5 ppm",
                "PM2.5=12 µg/m³",
                "PM10=20 µg/m³",
                "interval=300 s"
            ]
        );
    }

    #[test]
    fn low_battery_is_labelled_not_only_coloured() {
        let data = json!({"battery": 20, "Battery": 21});
        assert_eq!(
            rendered(&data, false),
            ["battery=20 %  ⚠ low battery", "Battery=21 %"]
        );
        assert_eq!(rendered(&data, true), ["battery=⚠20%", "Battery=21%"]);
    }

    #[test]
    fn alarms_are_marked_when_true_or_non_zero() {
        let data = json!({"leak": true, "smoke": 1, "fire": false, "tamper": 0,
            "doorAlarm": 2, "waterLeak": "yes"});
        assert_eq!(
            rendered(&data, false),
            [
                "leak=true  ⚠ ALARM",
                "smoke=1  ⚠ ALARM",
                "fire=false",
                "tamper=0",
                "doorAlarm=2  ⚠ ALARM",
                "waterLeak=yes"
            ]
        );
    }

    #[test]
    fn coordinates_are_recognised_by_name_or_shape() {
        let data = json!({"lonlat": [114.057865, 22.543096], "latLng": [-33.8688, 151.2093],
            "where": {"lng": -0.1276, "lat": 51.5072}, "lonlat2": [1, 2], "gps": [500, 1]});
        assert_eq!(
            rendered(&data, false),
            [
                "lonlat=22.543096°N 114.057865°E",
                "latLng=33.8688°S 151.2093°E",
                "where=51.5072°N 0.1276°W",
                "lonlat2=[1, 2]",
                "gps=[500, 1]"
            ]
        );
    }

    #[test]
    fn nested_objects_are_flattened_and_vectors_kept_together() {
        let data = json!({"magnetic": {"x": 12, "y": -3, "z": 40},
            "env": {"inner": {"temp": 1.234}, "": null}, "empty": {}});
        assert_eq!(
            rendered(&data, false),
            [
                "magnetic=x=12  y=-3  z=40",
                "env.inner.temp=1.23 °C",
                "env.\"\"=null",
                "empty={}"
            ]
        );
    }
}
