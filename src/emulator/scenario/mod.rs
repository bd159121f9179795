//! Scenarios: what the simulated devices are and what happens to them when, so that a
//! client's alarm and silence handling can be tested the same way every time.
//!
//! A scenario is a set of devices (declared one by one, or a generated fleet), how their
//! batteries drain, and a timeline of events at offsets from the start (an alarm on or off, a
//! device going silent and coming back, a battery drop, a burst, a malformed payload, a push
//! sealed with a wrong key). It comes from a TOML file ([`Scenario::from_toml`], validated with
//! line numbers) or is built in ([`BUILT_IN`]). This module is plain data and its parser: the
//! timeline is played by the simulation (`simulate.rs`), and nothing here touches a socket.

mod file;

use std::path::Path;
use std::time::Duration;

use crate::catalog::DeviceSpec;
use crate::error::{Error, Result};

/// Battery drain when a scenario does not set one, in percent per hour: a full battery lasts
/// about eight days (the platform's devices last months; a demo should still show a change).
pub const DEFAULT_BATTERY_DRAIN_PER_HOUR: f64 = 0.5;

/// Probability that a push of the `demo` scenario is a random alarm.
pub const DEMO_ALARM_CHANCE: f64 = 0.03;

/// What an emulator run simulates.
#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    /// Its name (a built-in's, or the file's stem).
    pub name: String,
    /// One line saying what it shows.
    pub description: String,
    /// Probability that a push is a random alarm (0 in a scenario unless it says otherwise).
    pub alarm_chance: f64,
    /// Battery lost per hour of the run, in percent.
    pub battery_drain_per_hour: f64,
    /// The timeline starts again after this long (so a demo keeps showing it).
    pub repeat: Option<Duration>,
    /// Devices declared one by one, in file order.
    pub devices: Vec<DeviceSetup>,
    /// Devices generated in bulk, after the declared ones.
    pub fleet: Option<Fleet>,
    /// The timeline, in file order (the simulation orders it by offset, ties in file order).
    pub events: Vec<Event>,
}

/// One declared device.
#[derive(Debug, Clone, PartialEq)]
pub struct DeviceSetup {
    /// Its serial number.
    pub sn: String,
    /// Its `deviceType` as sent (a catalogue name or alias).
    pub device_type: String,
    /// The catalogue entry of that type.
    pub spec: &'static DeviceSpec,
    /// The app whose subscribers see it (AppID); round-robin over the apps when `None`.
    pub app: Option<String>,
    /// How often it pushes (also sent as its `interval`).
    pub interval: Duration,
    /// Battery at the start, in percent; drawn from the seed when `None`.
    pub battery: Option<f64>,
    /// Starting values of numeric fields; the others are drawn from the seed.
    pub values: Vec<(String, f64)>,
    /// Largest change of a numeric field from one push to the next, per field (a field not
    /// named drifts by 2 % of its usual band).
    pub drift: Vec<(String, f64)>,
    /// Drift for every numeric field not in `drift`.
    pub drift_all: Option<f64>,
}

/// Devices generated in bulk: types in turn, serials from the seed.
#[derive(Debug, Clone, PartialEq)]
pub struct Fleet {
    /// How many; `None` takes the emulator's `devices` setting (`--devices`).
    pub count: Option<usize>,
    /// How often each pushes; `None` takes the emulator's `interval` (`--interval`) and sends
    /// an `interval` of 60, 300 or 600 s drawn from the seed (the demo's behaviour).
    pub interval: Option<Duration>,
    /// The types used in turn; every catalogue type when empty.
    pub types: Vec<&'static DeviceSpec>,
}

/// One point of the timeline.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// Offset from the start of the run (the first subscription).
    pub at: Duration,
    /// The declared device it happens to.
    pub sn: String,
    /// What happens.
    pub action: Action,
}

/// What an event does to its device.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// The field goes into alarm and the device pushes at once; it stays in alarm (every push
    /// says so) until `AlarmOff`. An alarm field is set; a reading is sent at `value`, or far
    /// above its usual band.
    AlarmOn {
        /// The field.
        field: String,
        /// The reading to send while in alarm (readings only).
        value: Option<f64>,
    },
    /// The field's alarm clears and the device pushes at once.
    AlarmOff {
        /// The field.
        field: String,
    },
    /// The device stops pushing.
    Silent,
    /// The device pushes at once and then on its interval again.
    Back,
    /// The battery jumps to this percentage (shown by the next push) and drains from there.
    Battery(f64),
    /// This many pushes at once.
    Burst(u32),
    /// One payload that is not valid JSON, on the device's app.
    Malformed,
    /// One safe-mode push whose `encryptData` is sealed with a key that is not the app's.
    WrongKey,
}

impl Action {
    /// True for the one action that needs the emulator's wrong-key sealer.
    #[must_use]
    pub fn needs_wrong_key(&self) -> bool {
        matches!(self, Action::WrongKey)
    }
}

/// A built-in scenario: its name, what it shows, and its TOML (`None` for `demo`, which is
/// made from the emulator's `devices` and `interval` settings).
#[derive(Debug, Clone, Copy)]
pub struct BuiltIn {
    /// The name given to `--scenario`.
    pub name: &'static str,
    /// One line for `--list-scenarios`.
    pub summary: &'static str,
    toml: Option<&'static str>,
}

/// Every built-in scenario, `demo` first.
pub const BUILT_IN: &[BuiltIn] = &[
    BuiltIn {
        name: "demo",
        summary: "devices of every type pushing each --interval, occasional random alarms \
                  (the default)",
        toml: None,
    },
    BuiltIn {
        name: "alarms",
        summary: "one device per alarm of the catalogue; each fires and clears within a \
                  minute, then again",
        toml: Some(include_str!("alarms.toml")),
    },
    BuiltIn {
        name: "stale",
        summary: "devices reporting every 5 s; some go quiet for more than twice that and \
                  come back, every minute",
        toml: Some(include_str!("stale.toml")),
    },
    BuiltIn {
        name: "load",
        summary: "5,000 devices pushing every second, for benchmarks",
        toml: Some(include_str!("load.toml")),
    },
];

impl BuiltIn {
    /// The scenario it stands for.
    ///
    /// Errors: none in practice (each is checked by a test); a built-in that fails to parse
    /// is reported like a file would be.
    pub fn scenario(&self) -> Result<Scenario> {
        match self.toml {
            None => Ok(Scenario::demo()),
            Some(text) => Scenario::from_toml(self.name, text),
        }
    }

    /// Its TOML, to copy as a starting point (`None` for `demo`).
    #[must_use]
    pub fn toml(&self) -> Option<&'static str> {
        self.toml
    }
}

impl Scenario {
    /// Today's simulation: a fleet of `--devices` devices of every type pushing each
    /// `--interval`, with occasional random alarms and no timeline.
    #[must_use]
    pub fn demo() -> Self {
        Scenario {
            name: "demo".to_owned(),
            description: "devices of every type, occasional random alarms".to_owned(),
            alarm_chance: DEMO_ALARM_CHANCE,
            battery_drain_per_hour: DEFAULT_BATTERY_DRAIN_PER_HOUR,
            repeat: None,
            devices: Vec::new(),
            fleet: Some(Fleet {
                count: None,
                interval: None,
                types: Vec::new(),
            }),
            events: Vec::new(),
        }
    }

    /// The built-in called `name`, if any.
    #[must_use]
    pub fn built_in(name: &str) -> Option<&'static BuiltIn> {
        BUILT_IN.iter().find(|b| b.name == name)
    }

    /// `--scenario NAME|FILE`: a built-in's name, else a TOML file.
    ///
    /// Errors (kind `Config`): an unreadable file, or one that does not parse or validate,
    /// with its line number.
    pub fn load(name_or_path: &str) -> Result<Self> {
        if let Some(built_in) = Scenario::built_in(name_or_path) {
            return built_in.scenario();
        }
        let path = Path::new(name_or_path);
        let text = std::fs::read_to_string(path).map_err(|err| {
            let names: Vec<&str> = BUILT_IN.iter().map(|b| b.name).collect();
            Error::config(format!("cannot read scenario {}: {err}", path.display())).with_hint(
                format!(
                    "give a scenario file, or one of the built-in scenarios: {}",
                    names.join(", ")
                ),
            )
        })?;
        let mut scenario = Scenario::from_toml(&path.display().to_string(), &text)?;
        if scenario.name.is_empty() {
            scenario.name = path
                .file_stem()
                .map_or_else(String::new, |s| s.to_string_lossy().into_owned());
        }
        Ok(scenario)
    }

    /// Parses and validates a scenario; `source` names it in errors (`source:LINE: …`).
    ///
    /// Errors (kind `Config`): TOML syntax, unknown keys, a wrong type, an unknown deviceType
    /// or field, a duplicate serial, an event for an undeclared device, an offset or interval
    /// that is not a duration, a value out of range; each with the line it is on.
    pub fn from_toml(source: &str, text: &str) -> Result<Self> {
        file::parse(source, text)
    }

    /// Every AppID the scenario names, for the emulator to check against its apps.
    pub fn app_ids(&self) -> impl Iterator<Item = &str> {
        self.devices.iter().filter_map(|d| d.app.as_deref())
    }

    /// How many devices it simulates, given the emulator's `devices` setting.
    #[must_use]
    pub fn device_count(&self, default_fleet: usize) -> usize {
        self.devices.len()
            + self
                .fleet
                .as_ref()
                .map_or(0, |f| f.count.unwrap_or(default_fleet))
    }

    /// True when an event needs the emulator's wrong-key sealer.
    #[must_use]
    pub fn needs_wrong_key(&self) -> bool {
        self.events.iter().any(|e| e.action.needs_wrong_key())
    }
}

/// The `--list-scenarios` text: one line per built-in, name then summary.
#[must_use]
pub fn list() -> String {
    let width = BUILT_IN.iter().map(|b| b.name.len()).max().unwrap_or(0);
    BUILT_IN
        .iter()
        .map(|b| format!("{:width$}  {}\n", b.name, b.summary))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_built_in_scenario_loads() {
        for built_in in BUILT_IN {
            let scenario = built_in
                .scenario()
                .unwrap_or_else(|e| panic!("{}: {}", built_in.name, e.message()));
            assert_eq!(scenario.name, built_in.name);
            assert!(!scenario.description.is_empty(), "{}", built_in.name);
            let loaded = Scenario::load(built_in.name).expect("loads by name");
            assert_eq!(loaded, scenario);
        }
    }

    #[test]
    fn the_list_has_one_line_per_built_in() {
        let text = list();
        assert_eq!(text.lines().count(), BUILT_IN.len());
        for name in ["demo", "alarms", "stale", "load"] {
            assert!(
                text.lines().any(|l| l.starts_with(name)),
                "{name} missing:\n{text}"
            );
        }
    }

    #[test]
    fn the_load_scenario_has_thousands_of_devices_at_a_high_rate() {
        let load = Scenario::load("load").expect("load");
        assert!(load.device_count(0) >= 1000, "{}", load.device_count(0));
        let fleet = load.fleet.as_ref().expect("a fleet");
        assert!(fleet.interval.is_some_and(|i| i <= Duration::from_secs(1)));
    }

    #[test]
    fn the_readme_example_scenario_is_valid() {
        let readme = include_str!("../../../README.md");
        let start = readme
            .find("```toml\ndescription")
            .expect("README has an example scenario");
        let text = &readme[start + "```toml\n".len()..];
        let text = &text[..text.find("```").expect("closed")];
        let scenario =
            Scenario::from_toml("README.md", text).unwrap_or_else(|e| panic!("{}", e.message()));
        assert_eq!(scenario.devices.len(), 2);
        assert_eq!(scenario.events.len(), 5);
    }

    #[test]
    fn a_missing_file_is_a_configuration_error_that_lists_the_built_ins() {
        let err = Scenario::load("/nonexistent/scenario.toml").unwrap_err();
        assert_eq!(err.kind(), crate::error::ExitKind::Config);
        assert!(
            err.hint().is_some_and(|h| h.contains("alarms")),
            "{:?}",
            err.hint()
        );
    }
}
