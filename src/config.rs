//! The profile store and credential resolution.
//!
//! Profiles live in one TOML file (`$SENSORO_MQTT_CONFIG`, else
//! `<config dir>/sensoro-mqtt/config.toml`). The file holds secrets, so it is written
//! atomically with mode 0600 in a 0700 directory, and a file that does not parse is reported
//! and never overwritten. Values are resolved flags > environment > profile, where the profile
//! is `--profile`, else `SENSORO_PROFILE`, else the file's default.
//!
//! Nothing here prints: warnings are handed back to the command that prints them.

mod store;

use std::cell::{OnceCell, RefCell};
use std::collections::HashMap;
use std::path::PathBuf;

pub use store::{ConfigFile, Profile, Store, StoreLock, LOCK_WAIT};

use crate::error::{Error, Result};
use crate::secret::Secret;

/// Environment variable naming the config file.
pub const ENV_CONFIG: &str = "SENSORO_MQTT_CONFIG";
/// Environment variables read during resolution.
pub const ENV_APP_ID: &str = "SENSORO_APP_ID";
/// The AppSecret (MQTT password).
pub const ENV_APP_SECRET: &str = "SENSORO_APP_SECRET";
/// The AppKey (safe-mode key).
pub const ENV_APP_KEY: &str = "SENSORO_APP_KEY";
/// The broker host.
pub const ENV_HOST: &str = "SENSORO_HOST";
/// The broker port.
pub const ENV_PORT: &str = "SENSORO_PORT";
/// The profile to use.
pub const ENV_PROFILE: &str = "SENSORO_PROFILE";

/// The platform's MQTT port.
pub const DEFAULT_PORT: u16 = 1883;

/// A snapshot of the environment variables, so resolution can be tested without touching
/// the process environment.
#[derive(Debug, Clone, Default)]
pub struct Env {
    vars: HashMap<String, String>,
}

impl Env {
    /// The process environment (variables that are not UTF-8 are ignored).
    #[must_use]
    pub fn from_process() -> Self {
        Env {
            vars: std::env::vars_os()
                .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
                .collect(),
        }
    }

    /// An environment made of the given pairs.
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        Env {
            vars: pairs
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
        }
    }

    /// A variable's value; an empty value counts as unset.
    #[must_use]
    pub fn get(&self, name: &str) -> Option<&str> {
        self.vars
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    /// Where the config file is: `$SENSORO_MQTT_CONFIG`, else the platform config directory.
    pub fn config_path(&self) -> Result<PathBuf> {
        if let Some(path) = self.get(ENV_CONFIG) {
            return Ok(PathBuf::from(path));
        }
        dirs::config_dir()
            .map(|dir| dir.join("sensoro-mqtt").join("config.toml"))
            .ok_or_else(|| {
                Error::config("cannot find a configuration directory for this user")
                    .with_hint(format!("set {ENV_CONFIG} to the path of a config file"))
            })
    }
}

/// Where a resolved value came from; shown by `connect` and in error messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A command-line flag, by its name (e.g. `--app-id`).
    Flag(&'static str),
    /// An environment variable.
    Env(&'static str),
    /// A stored profile.
    Profile(String),
    /// Typed at a hidden prompt.
    Prompt,
    /// The built-in default.
    Default,
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::Flag(name) => f.write_str(name),
            Source::Env(name) => write!(f, "${name}"),
            Source::Profile(name) => write!(f, "profile '{name}'"),
            Source::Prompt => f.write_str("the prompt"),
            Source::Default => f.write_str("default"),
        }
    }
}

/// A value with where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sourced<T> {
    /// The value.
    pub value: T,
    /// Its origin.
    pub source: Source,
}

/// MQTT quality of service the platform supports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Qos {
    /// At most once.
    AtMostOnce = 0,
    /// At least once.
    AtLeastOnce = 1,
}

impl Qos {
    /// Parses `0` or `1`.
    pub fn from_level(level: u8) -> Option<Qos> {
        match level {
            0 => Some(Qos::AtMostOnce),
            1 => Some(Qos::AtLeastOnce),
            _ => None,
        }
    }

    /// The numeric level.
    #[must_use]
    pub fn level(self) -> u8 {
        self as u8
    }
}

/// Values given on the command line; `None` means "not given".
#[derive(Debug, Clone, Default)]
pub struct CredentialFlags {
    /// `--profile`.
    pub profile: Option<String>,
    /// `--app-id`.
    pub app_id: Option<String>,
    /// `--app-secret`.
    pub app_secret: Option<Secret>,
    /// `--app-key`.
    pub app_key: Option<Secret>,
    /// `--host`.
    pub host: Option<String>,
    /// `--port`.
    pub port: Option<u16>,
    /// `--tls`.
    pub tls: Option<bool>,
    /// `--ca-file`.
    pub ca_file: Option<PathBuf>,
    /// `--qos`.
    pub qos: Option<Qos>,
    /// `--client-suffix`.
    pub client_suffix: Option<String>,
}

/// Resolves each setting on demand: flags, then environment, then the selected profile.
///
/// The profile store is read only when a value is not given by flags or environment (or a
/// profile is asked for by name), so a broken config file does not block a fully specified
/// command line.
///
/// A profile belongs to its AppID: when the AppID comes from a flag or the environment and
/// differs from the profile's, the profile supplies nothing (its secret is never sent for
/// another app). A profile named with `--profile`/`SENSORO_PROFILE` is then an error; the
/// default profile is skipped with a note.
pub struct Resolver {
    flags: CredentialFlags,
    env: Env,
    profile: OnceCell<Result<Option<(String, Profile)>>>,
    warnings: RefCell<Vec<String>>,
    notes: RefCell<Vec<String>>,
    skipped: RefCell<Option<String>>,
}

type ProfileField<T> = fn(&Profile) -> Option<T>;

impl Resolver {
    /// A resolver over the given flags and environment.
    #[must_use]
    pub fn new(flags: CredentialFlags, env: Env) -> Self {
        Resolver {
            flags,
            env,
            profile: OnceCell::new(),
            warnings: RefCell::new(Vec::new()),
            notes: RefCell::new(Vec::new()),
            skipped: RefCell::new(None),
        }
    }

    /// Warnings gathered while reading the store (e.g. a world-readable file); drains them.
    pub fn take_warnings(&self) -> Vec<String> {
        std::mem::take(&mut self.warnings.borrow_mut())
    }

    /// Notes gathered while resolving (e.g. a default profile skipped because it belongs to
    /// another AppID); drains them.
    pub fn take_notes(&self) -> Vec<String> {
        std::mem::take(&mut self.notes.borrow_mut())
    }

    /// The selected profile, loaded once. `None` when no profile is selected or exists, or
    /// when the default profile belongs to another AppID than the one given.
    pub fn profile(&self) -> Result<Option<&(String, Profile)>> {
        let loaded = self.profile.get_or_init(|| self.load_profile());
        match loaded {
            Ok(found) => Ok(found.as_ref()),
            Err(err) => Err(err.clone()),
        }
    }

    /// The AppID given by flag or environment, which a profile must match to be used.
    pub fn given_app_id(&self) -> Option<Sourced<String>> {
        if let Some(value) = &self.flags.app_id {
            return Some(Sourced {
                value: value.clone(),
                source: Source::Flag("--app-id"),
            });
        }
        self.env.get(ENV_APP_ID).map(|value| Sourced {
            value: value.to_owned(),
            source: Source::Env(ENV_APP_ID),
        })
    }

    fn load_profile(&self) -> Result<Option<(String, Profile)>> {
        let path = self.env.config_path()?;
        let requested = self
            .flags
            .profile
            .clone()
            .map(|name| (name, Source::Flag("--profile")))
            .or_else(|| {
                self.env
                    .get(ENV_PROFILE)
                    .map(|n| (n.to_owned(), Source::Env(ENV_PROFILE)))
            });
        let store = Store::load(&path)?;
        self.warnings.borrow_mut().extend(store.warnings());
        let Some((name, origin)) = requested else {
            let Some((name, profile)) = store.file().default_profile() else {
                return Ok(None);
            };
            return Ok(self.unless_foreign_default(name, profile));
        };
        let Some(profile) = store.file().profiles.get(&name) else {
            return Err(store.unknown_profile(&name, &origin.to_string()));
        };
        if let Some((given, own)) = self.foreign(profile) {
            return Err(Error::config(format!(
                "profile '{name}' (from {origin}) is for AppID '{own}', but AppID '{}' comes \
                 from {}",
                given.value, given.source
            ))
            .with_hint(format!(
                "a profile supplies nothing for another app: drop {} or {origin}, or name a \
                 profile of AppID '{}'",
                given.source, given.value
            )));
        }
        Ok(Some((name, profile.clone())))
    }

    /// The default profile, or `None` with a note when it belongs to another AppID.
    fn unless_foreign_default(&self, name: &str, profile: &Profile) -> Option<(String, Profile)> {
        let Some((given, own)) = self.foreign(profile) else {
            return Some((name.to_owned(), profile.clone()));
        };
        let why = format!(
            "default profile '{name}' is for AppID '{own}', not '{}' (from {})",
            given.value, given.source
        );
        self.notes.borrow_mut().push(format!("{why}: not using it"));
        *self.skipped.borrow_mut() = Some(why);
        None
    }

    /// The given AppID and the profile's own, when they differ.
    fn foreign(&self, profile: &Profile) -> Option<(Sourced<String>, String)> {
        let given = self.given_app_id()?;
        let own = profile.app_id.as_ref()?;
        (*own != given.value).then(|| (given, own.clone()))
    }

    fn pick<T>(
        &self,
        flag: (Option<T>, &'static str),
        env_name: &'static str,
        parse_env: impl Fn(&str) -> Result<T>,
        field: ProfileField<T>,
    ) -> Result<Option<Sourced<T>>> {
        if let (Some(value), flag_name) = flag {
            return Ok(Some(Sourced {
                value,
                source: Source::Flag(flag_name),
            }));
        }
        if let Some(raw) = self.env.get(env_name) {
            return Ok(Some(Sourced {
                value: parse_env(raw)?,
                source: Source::Env(env_name),
            }));
        }
        self.profile_value(field)
    }

    fn profile_value<T>(&self, field: ProfileField<T>) -> Result<Option<Sourced<T>>> {
        Ok(self.profile()?.and_then(|(name, profile)| {
            field(profile).map(|value| Sourced {
                value,
                source: Source::Profile(name.clone()),
            })
        }))
    }

    fn missing(&self, what: &str, flag: &str, env_name: Option<&str>, key: &str) -> Error {
        let env_part = env_name.map_or(String::new(), |e| format!(", set {e}"));
        let profile_part = match self.profile() {
            Ok(Some((name, _))) => format!(" (profile '{name}' has no {key})"),
            _ => match self.skipped.borrow().as_ref() {
                Some(why) => format!(" ({why})"),
                None => String::new(),
            },
        };
        Error::config(format!("no {what} given{profile_part}")).with_hint(format!(
            "pass {flag}{env_part}, or store {key} in a profile: sensoro-mqtt profile add NAME \
             {flag} …"
        ))
    }

    /// The AppID (MQTT username); required.
    pub fn app_id(&self) -> Result<Sourced<String>> {
        self.app_id_if_given()?
            .ok_or_else(|| self.missing("AppID", "--app-id", Some(ENV_APP_ID), "app_id"))
    }

    /// The AppID when one is given anywhere; `None` is not an error (a broken store is).
    pub fn app_id_if_given(&self) -> Result<Option<Sourced<String>>> {
        if let Some(given) = self.given_app_id() {
            return Ok(Some(given));
        }
        self.profile_value(|p| p.app_id.clone())
    }

    /// The AppSecret (MQTT password); required.
    pub fn app_secret(&self) -> Result<Sourced<Secret>> {
        let found = self.pick(
            (self.flags.app_secret.clone(), "--app-secret"),
            ENV_APP_SECRET,
            |v| Ok(Secret::new(v)),
            |p| p.app_secret.clone(),
        )?;
        found.ok_or_else(|| {
            self.missing(
                "AppSecret",
                "--app-secret",
                Some(ENV_APP_SECRET),
                "app_secret",
            )
        })
    }

    /// The AppKey for safe mode; optional.
    pub fn app_key(&self) -> Result<Option<Sourced<Secret>>> {
        self.pick(
            (self.flags.app_key.clone(), "--app-key"),
            ENV_APP_KEY,
            |v| Ok(Secret::new(v)),
            |p| p.app_key.clone(),
        )
    }

    /// The broker host; required (the platform gives each developer theirs).
    pub fn host(&self) -> Result<Sourced<String>> {
        let found = self.pick(
            (self.flags.host.clone(), "--host"),
            ENV_HOST,
            |v| Ok(v.to_owned()),
            |p| p.host.clone(),
        )?;
        found.ok_or_else(|| self.missing("broker host", "--host", Some(ENV_HOST), "host"))
    }

    /// The broker port; 1883 unless given.
    pub fn port(&self) -> Result<Sourced<u16>> {
        let found = self.pick((self.flags.port, "--port"), ENV_PORT, parse_port, |p| {
            p.port
        })?;
        Ok(found.unwrap_or(Sourced {
            value: DEFAULT_PORT,
            source: Source::Default,
        }))
    }

    /// Whether to use TLS; off unless given.
    pub fn tls(&self) -> Result<bool> {
        if let Some(tls) = self.flags.tls {
            return Ok(tls);
        }
        Ok(self.profile_value(|p| p.tls)?.is_some_and(|s| s.value))
    }

    /// A CA bundle for TLS, if given.
    pub fn ca_file(&self) -> Result<Option<PathBuf>> {
        if let Some(path) = &self.flags.ca_file {
            return Ok(Some(path.clone()));
        }
        Ok(self.profile_value(|p| p.ca_file.clone())?.map(|s| s.value))
    }

    /// The QoS to subscribe at: flag, else profile, else 1.
    pub fn qos(&self) -> Result<Qos> {
        if let Some(qos) = self.flags.qos {
            return Ok(qos);
        }
        match self.profile_value(|p| p.qos)? {
            None => Ok(Qos::AtLeastOnce),
            Some(Sourced { value, source }) => Qos::from_level(value)
                .ok_or_else(|| Error::config(format!("{source}: qos must be 0 or 1, got {value}"))),
        }
    }

    /// The configured clientId suffix, if any.
    pub fn client_suffix(&self) -> Result<Option<String>> {
        if let Some(suffix) = &self.flags.client_suffix {
            return Ok(Some(suffix.clone()));
        }
        Ok(self
            .profile_value(|p| p.client_suffix.clone())?
            .map(|s| s.value))
    }
}

fn parse_port(raw: &str) -> Result<u16> {
    raw.trim()
        .parse::<u16>()
        .ok()
        .filter(|&p| p != 0)
        .ok_or_else(|| Error::config(format!("{ENV_PORT}='{raw}' is not a port number (1-65535)")))
}
