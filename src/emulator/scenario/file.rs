//! The scenario file: TOML read into raw shapes that keep each value's place in the text,
//! then checked against the device catalogue, so every error names its line.

use std::collections::{BTreeMap, HashSet};
use std::ops::Range;
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use super::{Action, DeviceSetup, Event, Fleet, Scenario, DEFAULT_BATTERY_DRAIN_PER_HOUR};
use crate::catalog::{self, DeviceSpec, Role};
use crate::error::{Error, Result};

/// Shortest device interval: the timeline's resolution is a millisecond, and faster than
/// this is a flood, not a device.
const MIN_INTERVAL: Duration = Duration::from_millis(100);
/// Most pushes in one burst.
const MAX_BURST: u32 = 10_000;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScenario {
    name: Option<String>,
    description: Option<String>,
    battery_drain: Option<Spanned<f64>>,
    alarm_chance: Option<Spanned<f64>>,
    repeat: Option<Spanned<RawDuration>>,
    #[serde(default)]
    device: Vec<Spanned<RawDevice>>,
    fleet: Option<Spanned<RawFleet>>,
    #[serde(default)]
    event: Vec<Spanned<RawEvent>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDevice {
    sn: Spanned<String>,
    #[serde(rename = "deviceType")]
    device_type: Spanned<String>,
    app: Option<String>,
    interval: Option<Spanned<RawDuration>>,
    battery: Option<Spanned<f64>>,
    #[serde(default)]
    values: BTreeMap<Spanned<String>, Spanned<f64>>,
    drift: Option<Spanned<RawDrift>>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RawDrift {
    All(f64),
    PerField(BTreeMap<String, f64>),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFleet {
    count: Option<Spanned<i64>>,
    interval: Option<Spanned<RawDuration>>,
    #[serde(default)]
    types: Vec<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEvent {
    at: Spanned<RawDuration>,
    sn: Spanned<String>,
    action: Spanned<String>,
    field: Option<Spanned<String>>,
    value: Option<f64>,
    percent: Option<Spanned<f64>>,
    count: Option<Spanned<i64>>,
}

/// `"30s"`, `"1.5s"`, `"2m"`, or a number of seconds.
#[derive(Deserialize)]
#[serde(untagged)]
enum RawDuration {
    Text(String),
    Seconds(f64),
}

/// Errors that point into the text.
struct Source<'a> {
    name: &'a str,
    text: &'a str,
}

impl Source<'_> {
    fn line(&self, span: &Range<usize>) -> usize {
        let end = span.start.min(self.text.len());
        self.text.as_bytes()[..end]
            .iter()
            .filter(|b| **b == b'\n')
            .count()
            + 1
    }

    fn error(&self, span: &Range<usize>, message: impl std::fmt::Display) -> Error {
        Error::config(format!("{}:{}: {message}", self.name, self.line(span)))
    }

    fn duration(&self, raw: &Spanned<RawDuration>, what: &str) -> Result<Duration> {
        let parsed = match raw.get_ref() {
            RawDuration::Text(text) => crate::duration::parse_duration(text),
            RawDuration::Seconds(s) if s.is_finite() && *s >= 0.0 && *s < 1e9 => {
                Ok(Duration::from_secs_f64(*s))
            }
            RawDuration::Seconds(s) => Err(format!("{s} is not a number of seconds")),
        };
        parsed.map_err(|detail| {
            self.error(
                &raw.span(),
                format!("{what} is not a duration such as \"30s\" ({detail})"),
            )
        })
    }
}

pub(super) fn parse(name: &str, text: &str) -> Result<Scenario> {
    let source = Source { name, text };
    let raw: RawScenario = toml::from_str(text).map_err(|err| {
        let message = err.message().trim_end().to_owned();
        match err.span() {
            Some(span) => source.error(&span, message),
            None => Error::config(format!("{name}: {message}")),
        }
    })?;
    let devices = raw
        .device
        .iter()
        .map(|d| device(&source, d))
        .collect::<Result<Vec<_>>>()?;
    let mut serials = HashSet::new();
    for (setup, raw) in devices.iter().zip(&raw.device) {
        if !serials.insert(setup.sn.as_str()) {
            return Err(source.error(
                &raw.get_ref().sn.span(),
                format!("device '{}' is declared twice", setup.sn),
            ));
        }
    }
    let fleet = raw.fleet.as_ref().map(|f| fleet(&source, f)).transpose()?;
    let events = raw
        .event
        .iter()
        .map(|e| event(&source, e, &devices))
        .collect::<Result<Vec<_>>>()?;
    let repeat = raw
        .repeat
        .as_ref()
        .map(|r| source.duration(r, "repeat"))
        .transpose()?;
    if let (Some(repeat), Some(raw_repeat)) = (repeat, &raw.repeat) {
        let last = events.iter().map(|e| e.at).max().unwrap_or_default();
        if repeat <= last || repeat < MIN_INTERVAL {
            return Err(source.error(
                &raw_repeat.span(),
                format!(
                    "repeat ({repeat:?}) must be longer than the last event's offset \
                     ({last:?})"
                ),
            ));
        }
    }
    Ok(Scenario {
        name: raw.name.unwrap_or_default(),
        description: raw.description.unwrap_or_default(),
        alarm_chance: fraction(&source, raw.alarm_chance.as_ref(), "alarm_chance", 1.0)?
            .unwrap_or(0.0),
        battery_drain_per_hour: fraction(
            &source,
            raw.battery_drain.as_ref(),
            "battery_drain (percent per hour)",
            100.0,
        )?
        .unwrap_or(DEFAULT_BATTERY_DRAIN_PER_HOUR),
        repeat,
        devices,
        fleet,
        events,
    })
}

/// A number in `0..=high`.
fn fraction(
    source: &Source<'_>,
    raw: Option<&Spanned<f64>>,
    what: &str,
    high: f64,
) -> Result<Option<f64>> {
    let Some(raw) = raw else {
        return Ok(None);
    };
    let value = *raw.get_ref();
    if (0.0..=high).contains(&value) {
        Ok(Some(value))
    } else {
        Err(source.error(
            &raw.span(),
            format!("{what} must be from 0 to {high}, not {value}"),
        ))
    }
}

fn device_type(source: &Source<'_>, raw: &Spanned<String>) -> Result<&'static DeviceSpec> {
    catalog::device_type(raw.get_ref()).ok_or_else(|| {
        let known: Vec<&str> = catalog::DEVICES.iter().map(|d| d.names[0]).collect();
        source
            .error(
                &raw.span(),
                format!("unknown deviceType '{}'", raw.get_ref()),
            )
            .with_hint(format!("known types: {}", known.join(", ")))
    })
}

/// The catalogue's name of `name` when `spec` has that field.
fn field_of(spec: &DeviceSpec, name: &str) -> Option<&'static str> {
    let wanted = catalog::field(name)?;
    spec.fields
        .iter()
        .copied()
        .find(|f| catalog::field(f).is_some_and(|s| s.name == wanted.name))
}

fn unknown_field(source: &Source<'_>, span: &Range<usize>, spec: &DeviceSpec, name: &str) -> Error {
    source
        .error(
            span,
            format!("a {} device has no field '{name}'", spec.names[0]),
        )
        .with_hint(format!("its fields: {}", spec.fields.join(", ")))
}

fn device(source: &Source<'_>, raw: &Spanned<RawDevice>) -> Result<DeviceSetup> {
    let d = raw.get_ref();
    let sn = d.sn.get_ref();
    if sn.is_empty() || sn.chars().any(|c| c.is_control() || c == '"') {
        return Err(source.error(&d.sn.span(), "sn must be a non-empty serial number"));
    }
    let spec = device_type(source, &d.device_type)?;
    let interval = match &d.interval {
        Some(raw) => {
            let interval = source.duration(raw, "interval")?;
            if interval < MIN_INTERVAL {
                return Err(source.error(&raw.span(), "interval must be at least 100ms"));
            }
            interval
        }
        None => Duration::from_secs(u64::from(spec.interval_s)),
    };
    let battery = fraction(source, d.battery.as_ref(), "battery", 100.0)?;
    let mut values = Vec::new();
    for (name, value) in &d.values {
        let Some(field) = field_of(spec, name.get_ref()) else {
            return Err(unknown_field(source, &name.span(), spec, name.get_ref()));
        };
        let numeric = catalog::field(field).is_some_and(|f| f.role == Role::Reading);
        if !numeric || !value.get_ref().is_finite() {
            return Err(source.error(
                &name.span(),
                format!("'{field}' takes no starting value (only readings do)"),
            ));
        }
        values.push((field.to_owned(), *value.get_ref()));
    }
    let (drift, drift_all) = match &d.drift {
        None => (Vec::new(), None),
        Some(raw) => drift(source, raw, spec)?,
    };
    Ok(DeviceSetup {
        sn: sn.clone(),
        device_type: d.device_type.get_ref().clone(),
        spec,
        app: d.app.clone(),
        interval,
        battery,
        values,
        drift,
        drift_all,
    })
}

type Drift = (Vec<(String, f64)>, Option<f64>);

fn drift(source: &Source<'_>, raw: &Spanned<RawDrift>, spec: &DeviceSpec) -> Result<Drift> {
    let bad = |what: &str| source.error(&raw.span(), format!("drift {what}"));
    match raw.get_ref() {
        RawDrift::All(step) if step.is_finite() && *step >= 0.0 => Ok((Vec::new(), Some(*step))),
        RawDrift::All(_) => Err(bad("must be a number of at least 0")),
        RawDrift::PerField(fields) => {
            let mut drift = Vec::new();
            for (name, step) in fields {
                let Some(field) = field_of(spec, name) else {
                    return Err(unknown_field(source, &raw.span(), spec, name));
                };
                if !step.is_finite() || *step < 0.0 {
                    return Err(bad(&format!("of '{name}' must be at least 0")));
                }
                drift.push((field.to_owned(), *step));
            }
            Ok((drift, None))
        }
    }
}

fn fleet(source: &Source<'_>, raw: &Spanned<RawFleet>) -> Result<Fleet> {
    let f = raw.get_ref();
    let count = match &f.count {
        Some(count) => Some(
            usize::try_from(*count.get_ref())
                .ok()
                .filter(|n| *n <= super::super::MAX_DEVICES)
                .ok_or_else(|| {
                    source.error(&count.span(), "count must be from 0 to 10000 devices")
                })?,
        ),
        None => None,
    };
    let interval = match &f.interval {
        Some(raw) => {
            let interval = source.duration(raw, "interval")?;
            if interval < MIN_INTERVAL {
                return Err(source.error(&raw.span(), "interval must be at least 100ms"));
            }
            Some(interval)
        }
        None => None,
    };
    let types = f
        .types
        .iter()
        .map(|t| device_type(source, t))
        .collect::<Result<Vec<_>>>()?;
    Ok(Fleet {
        count,
        interval,
        types,
    })
}

fn event(source: &Source<'_>, raw: &Spanned<RawEvent>, devices: &[DeviceSetup]) -> Result<Event> {
    let e = raw.get_ref();
    let at = source.duration(&e.at, "at")?;
    let sn = e.sn.get_ref();
    let Some(device) = devices.iter().find(|d| &d.sn == sn) else {
        return Err(source.error(
            &e.sn.span(),
            format!("no device '{sn}' is declared (events happen to [[device]]s)"),
        ));
    };
    let name = e.action.get_ref().as_str();
    let needs = |what: &str| source.error(&raw.span(), format!("action '{name}' needs {what}"));
    let alarm_field = || -> Result<String> {
        let field = e.field.as_ref().ok_or_else(|| needs("a field"))?;
        let Some(known) = field_of(device.spec, field.get_ref()) else {
            return Err(unknown_field(
                source,
                &field.span(),
                device.spec,
                field.get_ref(),
            ));
        };
        match catalog::field(known).map(|f| f.role) {
            Some(Role::Alarm(_) | Role::Reading) => Ok(known.to_owned()),
            _ => Err(source.error(
                &field.span(),
                format!("'{known}' cannot be in alarm (alarm fields and readings can)"),
            )),
        }
    };
    let action = match name {
        "alarm-on" => Action::AlarmOn {
            field: alarm_field()?,
            value: e.value,
        },
        "alarm-off" => Action::AlarmOff {
            field: alarm_field()?,
        },
        "silent" => Action::Silent,
        "back" => Action::Back,
        "battery" => Action::Battery(
            fraction(source, e.percent.as_ref(), "percent", 100.0)?
                .ok_or_else(|| needs("a percent"))?,
        ),
        "burst" => {
            let count = e.count.as_ref().ok_or_else(|| needs("a count"))?;
            let n = u32::try_from(*count.get_ref())
                .ok()
                .filter(|n| (1..=MAX_BURST).contains(n))
                .ok_or_else(|| source.error(&count.span(), "count must be from 1 to 10000"))?;
            Action::Burst(n)
        }
        "malformed" => Action::Malformed,
        "wrong-key" => Action::WrongKey,
        other => {
            return Err(source
                .error(&e.action.span(), format!("unknown action '{other}'"))
                .with_hint(
                    "actions: alarm-on, alarm-off, silent, back, battery, burst, malformed, \
                     wrong-key",
                ))
        }
    };
    Ok(Event {
        at,
        sn: sn.clone(),
        action,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ExitKind;

    const GOOD: &str = r#"
name = "t"
description = "a smoke alarm and an outage"
battery_drain = 2.5
repeat = "1m"

[[device]]
sn = "S1"
deviceType = "smoke"
interval = "10s"
battery = 90

[[device]]
sn = "N1"
deviceType = "temp_humi"
interval = 5
app = "other"
values = { temperature = 30.5, humidity = 40 }
drift = { temperature = 0.2 }

[[event]]
at = "15s"
sn = "S1"
action = "alarm-on"
field = "smoke"

[[event]]
at = "20s"
sn = "N1"
action = "alarm-on"
field = "temperature"
value = 70

[[event]]
at = "30s"
sn = "S1"
action = "burst"
count = 3

[[event]]
at = "40s"
sn = "N1"
action = "battery"
percent = 5
"#;

    fn error(text: &str) -> String {
        let err = parse("t.toml", text).unwrap_err();
        assert_eq!(err.kind(), ExitKind::Config, "{}", err.message());
        err.message().to_owned()
    }

    #[test]
    fn a_good_file_becomes_a_scenario() {
        let s = parse("t.toml", GOOD).expect("parses");
        assert_eq!(s.name, "t");
        assert_eq!(s.battery_drain_per_hour, 2.5);
        assert_eq!(s.repeat, Some(Duration::from_secs(60)));
        assert_eq!(s.devices.len(), 2);
        assert_eq!(s.devices[0].battery, Some(90.0));
        assert_eq!(s.devices[1].interval, Duration::from_secs(5));
        assert_eq!(s.devices[1].app.as_deref(), Some("other"));
        assert_eq!(
            s.devices[1].values,
            [
                ("humidity".to_owned(), 40.0),
                ("temperature".to_owned(), 30.5)
            ]
        );
        assert_eq!(s.devices[1].drift, [("temperature".to_owned(), 0.2)]);
        assert_eq!(
            s.events[1].action,
            Action::AlarmOn {
                field: "temperature".to_owned(),
                value: Some(70.0)
            }
        );
        assert_eq!(s.events[2].action, Action::Burst(3));
        assert_eq!(s.events[3].action, Action::Battery(5.0));
        assert_eq!(s.alarm_chance, 0.0);
    }

    #[test]
    fn a_device_without_interval_reports_on_its_catalogue_default() {
        let s = parse("t", "[[device]]\nsn = \"X\"\ndeviceType = \"co\"\n").expect("parses");
        assert_eq!(s.devices[0].interval, Duration::from_secs(60));
    }

    #[test]
    fn a_syntax_error_names_its_line() {
        let message = error("name = \"x\"\n\n[[device]\nsn = 1\n");
        assert!(message.starts_with("t.toml:3: "), "{message}");
    }

    #[test]
    fn an_unknown_key_names_its_line() {
        let message = error("[[device]]\nsn = \"A\"\ndeviceType = \"co\"\nbatery = 3\n");
        assert!(message.starts_with("t.toml:4: "), "{message}");
        assert!(message.contains("batery"), "{message}");
    }

    #[test]
    fn an_unknown_device_type_names_its_line() {
        let message = error("[[device]]\nsn = \"A\"\n\ndeviceType = \"smok\"\n");
        assert_eq!(message, "t.toml:4: unknown deviceType 'smok'");
    }

    #[test]
    fn an_event_for_an_undeclared_device_names_its_line() {
        let message = error(
            "[[device]]\nsn = \"A\"\ndeviceType = \"co\"\n\n[[event]]\nat = \"1s\"\n\
             sn = \"B\"\naction = \"silent\"\n",
        );
        assert!(message.starts_with("t.toml:7: no device 'B'"), "{message}");
    }

    #[test]
    fn a_bad_offset_names_its_line() {
        let message = error(
            "[[device]]\nsn = \"A\"\ndeviceType = \"co\"\n[[event]]\nat = \"soon\"\n\
             sn = \"A\"\naction = \"silent\"\n",
        );
        assert!(
            message.starts_with("t.toml:5: at is not a duration"),
            "{message}"
        );
    }

    #[test]
    fn an_alarm_on_a_field_the_device_lacks_names_its_line() {
        let message = error(
            "[[device]]\nsn = \"A\"\ndeviceType = \"co\"\n[[event]]\nat = \"1s\"\n\
             sn = \"A\"\naction = \"alarm-on\"\nfield = \"smoke\"\n",
        );
        assert_eq!(message, "t.toml:8: a co device has no field 'smoke'");
    }

    #[test]
    fn an_unknown_action_and_a_missing_argument_are_errors() {
        let base = "[[device]]\nsn = \"A\"\ndeviceType = \"co\"\n[[event]]\nat = \"1s\"\n\
                    sn = \"A\"\n";
        let message = error(&format!("{base}action = \"explode\"\n"));
        assert!(message.starts_with("t.toml:7: unknown action"), "{message}");
        let message = error(&format!("{base}action = \"burst\"\n"));
        assert!(
            message.starts_with("t.toml:4: action 'burst' needs a count"),
            "{message}"
        );
        let message = error(&format!("{base}action = \"battery\"\npercent = 120\n"));
        assert!(
            message.starts_with("t.toml:8: percent must be"),
            "{message}"
        );
    }

    #[test]
    fn duplicate_serials_and_bad_ranges_are_errors() {
        let message = error(
            "[[device]]\nsn = \"A\"\ndeviceType = \"co\"\n[[device]]\nsn = \"A\"\n\
             deviceType = \"co\"\n",
        );
        assert_eq!(message, "t.toml:5: device 'A' is declared twice");
        let message = error("alarm_chance = 2\n");
        assert!(message.starts_with("t.toml:1: alarm_chance"), "{message}");
        let message = error("[fleet]\ncount = 20000\n");
        assert!(message.starts_with("t.toml:2: count"), "{message}");
        let message = error("[[device]]\nsn = \"A\"\ndeviceType = \"co\"\ninterval = \"1ms\"\n");
        assert!(message.starts_with("t.toml:4: interval"), "{message}");
    }

    #[test]
    fn a_repeat_shorter_than_the_timeline_is_an_error() {
        let message = error(
            "repeat = \"5s\"\n[[device]]\nsn = \"A\"\ndeviceType = \"co\"\n[[event]]\n\
             at = \"10s\"\nsn = \"A\"\naction = \"silent\"\n",
        );
        assert!(message.starts_with("t.toml:1: repeat"), "{message}");
    }
}
