//! `profile list|show|add|remove|default|set`: manage the stored credential profiles.
//!
//! Secrets are masked in every output unless `--show-secrets` is given to `show`. Every
//! change is a read-modify-write under the store's lock, so concurrent commands all take
//! effect; values are checked (and secrets asked for) before the lock is taken.

use std::io::{self, IsTerminal as _, Write as _};

use serde_json::{json, Map, Value};

use crate::cli::{ProfileAddArgs, ProfileCommand, ProfileKey, ProfileSetArgs, ProfileShowArgs};
use crate::client_id;
use crate::config::{Env, Profile, Store, ENV_APP_KEY, ENV_APP_SECRET};
use crate::crypto::AppKey;
use crate::error::{Error, Result};
use crate::secret::Secret;

/// Runs a `profile` subcommand.
pub fn run(command: ProfileCommand, env: &Env) -> Result<()> {
    let path = env.config_path()?;
    match command {
        ProfileCommand::List(args) => list(&load(&path)?, args.json),
        ProfileCommand::Show(args) => show(&load(&path)?, &args),
        ProfileCommand::Add(args) => {
            check_profile_name(&args.name)?;
            let profile = build_profile(&args, env)?;
            let _lock = Store::lock(&path)?;
            add(&mut load(&path)?, &args, profile)
        }
        ProfileCommand::Remove(arg) => {
            let _lock = Store::lock(&path)?;
            remove(&mut load(&path)?, &arg.name)
        }
        ProfileCommand::Default(arg) => {
            let _lock = Store::lock(&path)?;
            set_default(&mut load(&path)?, &arg.name)
        }
        ProfileCommand::Set(args) => {
            let change = parse_change(&args, env)?;
            let _lock = Store::lock(&path)?;
            set_field(&mut load(&path)?, &args.name, change)
        }
    }
}

/// Loads the store and prints its warnings.
fn load(path: &std::path::Path) -> Result<Store> {
    let store = Store::load(path)?;
    super::print_warnings(store.warnings());
    Ok(store)
}

fn list(store: &Store, json: bool) -> Result<()> {
    let file = store.file();
    let is_default = |name: &str| file.default.as_deref() == Some(name);
    let mut out = io::stdout().lock();
    if json {
        let items: Vec<Value> = file
            .profiles
            .iter()
            .map(|(name, p)| profile_json(name, p, is_default(name), false))
            .collect();
        writeln!(out, "{}", Value::Array(items))?;
        return Ok(());
    }
    if file.profiles.is_empty() {
        eprintln!(
            "no profiles in {}; add one with: sensoro-mqtt profile add NAME --app-id ID",
            store.path().display()
        );
        return Ok(());
    }
    let width = file
        .profiles
        .keys()
        .map(|n| n.chars().count())
        .max()
        .unwrap_or(0);
    for (name, p) in &file.profiles {
        let mark = if is_default(name) { '*' } else { ' ' };
        let app_id = p.app_id.as_deref().unwrap_or("-");
        let host = p.host.as_deref().map_or_else(
            || "(no host)".to_owned(),
            |h| format!("{h}:{}", p.port.unwrap_or(crate::config::DEFAULT_PORT)),
        );
        writeln!(out, "{mark} {name:<width$}  {app_id}  {host}")?;
    }
    Ok(())
}

fn show(store: &Store, args: &ProfileShowArgs) -> Result<()> {
    let file = store.file();
    let name = match &args.name {
        Some(name) => name.clone(),
        None => file.default.clone().ok_or_else(|| {
            Error::config("no default profile is set").with_hint(
                "name a profile (sensoro-mqtt profile show NAME) or set one: sensoro-mqtt \
                 profile default NAME",
            )
        })?,
    };
    let profile = file
        .profiles
        .get(&name)
        .ok_or_else(|| store.unknown_profile(&name, "the command line"))?;
    let is_default = file.default.as_deref() == Some(name.as_str());
    let shown = profile_json(&name, profile, is_default, args.show_secrets);
    let mut out = io::stdout().lock();
    if args.json {
        writeln!(out, "{shown}")?;
        return Ok(());
    }
    if let Value::Object(fields) = shown {
        for (key, value) in fields {
            let text = match value {
                Value::String(s) => s,
                Value::Null => "-".to_owned(),
                other => other.to_string(),
            };
            writeln!(out, "{key:<14} {text}")?;
        }
    }
    Ok(())
}

/// A profile as JSON, with secrets masked unless `reveal`.
fn profile_json(name: &str, p: &Profile, is_default: bool, reveal: bool) -> Value {
    let secret = |s: &Option<Secret>| {
        s.as_ref().map_or(Value::Null, |s| {
            Value::String(if reveal {
                s.expose().to_owned()
            } else {
                s.masked()
            })
        })
    };
    let mut map = Map::new();
    map.insert("name".into(), json!(name));
    map.insert("default".into(), json!(is_default));
    map.insert("app_id".into(), json!(p.app_id));
    map.insert("app_secret".into(), secret(&p.app_secret));
    map.insert("app_key".into(), secret(&p.app_key));
    map.insert("host".into(), json!(p.host));
    map.insert("port".into(), json!(p.port));
    map.insert("tls".into(), json!(p.tls.unwrap_or(false)));
    map.insert("ca_file".into(), json!(p.ca_file));
    map.insert("qos".into(), json!(p.qos));
    map.insert("client_suffix".into(), json!(p.client_suffix));
    Value::Object(map)
}

fn add(store: &mut Store, args: &ProfileAddArgs, profile: Profile) -> Result<()> {
    if store.file().profiles.contains_key(&args.name) && !args.force {
        return Err(
            Error::config(format!("profile '{}' already exists", args.name))
                .with_hint("add --force to replace it"),
        );
    }
    store_profile(store, &args.name, profile, args.default)
}

/// Stores `profile` as `name` (the default one when asked, or when there is none yet), saves
/// the file and says so on stderr. The caller holds the store's lock.
pub(crate) fn store_profile(
    store: &mut Store,
    name: &str,
    profile: Profile,
    make_default: bool,
) -> Result<()> {
    let file = store.file_mut();
    file.profiles.insert(name.to_owned(), profile);
    let becomes_default = make_default || file.default.is_none();
    if becomes_default {
        file.default = Some(name.to_owned());
    }
    store.save()?;
    let note = if becomes_default { " (default)" } else { "" };
    eprintln!("saved profile '{name}'{note} in {}", store.path().display());
    Ok(())
}

fn build_profile(args: &ProfileAddArgs, env: &Env) -> Result<Profile> {
    let app_id = args.app_id.clone();
    if app_id.is_empty() {
        return Err(Error::usage("--app-id must not be empty"));
    }
    if args.port == Some(0) {
        return Err(Error::usage("--port must be between 1 and 65535"));
    }
    let mut profile = Profile {
        app_id: Some(app_id),
        host: args.host.clone(),
        port: args.port,
        tls: args.tls.then_some(true),
        ca_file: args.ca_file.clone(),
        qos: args.qos,
        client_suffix: args.client_suffix.clone(),
        ..Profile::default()
    };
    // Checked before any prompt, so nobody types a secret for a profile that is refused.
    check_profile(&profile)?;
    profile.app_secret = secret_from(
        args.app_secret.as_deref(),
        env.get(ENV_APP_SECRET),
        "AppSecret",
    )?;
    profile.app_key = secret_from(args.app_key.as_deref(), env.get(ENV_APP_KEY), "AppKey")?;
    check_profile(&profile)?;
    Ok(profile)
}

/// The checks every stored profile passes: a clientId suffix valid for its AppID and an
/// AppKey of the right form (43 characters of base64). Errors never show the key.
fn check_profile(profile: &Profile) -> Result<()> {
    if let (Some(app_id), Some(suffix)) = (&profile.app_id, &profile.client_suffix) {
        let id = format!("{app_id}/{suffix}");
        if let Some(v) = client_id::explain(app_id, id.as_bytes()) {
            return Err(Error::config(format!(
                "the client suffix '{}' gives the clientId '{}', which is invalid: {}",
                suffix.escape_debug(),
                id.escape_debug(),
                v.message
            )));
        }
    }
    if let Some(key) = &profile.app_key {
        AppKey::parse(key.expose()).map_err(|err| {
            Error::config(format!("the AppKey is unusable: {err}"))
                .with_hint("copy the AppKey again from the platform's developer page")
        })?;
    }
    Ok(())
}

/// One field's new value, parsed and checked on its own (the whole profile is checked
/// again once it is applied).
#[derive(Debug)]
enum Change {
    AppId(String),
    AppSecret(Secret),
    AppKey(Secret),
    Host(String),
    Port(u16),
    Tls(bool),
    CaFile(std::path::PathBuf),
    Qos(u8),
    ClientSuffix(String),
}

fn parse_change(args: &ProfileSetArgs, env: &Env) -> Result<Change> {
    let secret = |env_name: &str, what: &str| -> Result<Secret> {
        secret_from(args.value.as_deref(), env.get(env_name), what)?.ok_or_else(|| {
            Error::usage(format!(
                "no VALUE for {what}: give it, set {env_name}, or run on a terminal to be asked"
            ))
        })
    };
    let value = || {
        args.value
            .clone()
            .ok_or_else(|| Error::usage("profile set NAME KEY VALUE: VALUE is missing"))
    };
    Ok(match args.key {
        ProfileKey::AppSecret => Change::AppSecret(secret(ENV_APP_SECRET, "AppSecret")?),
        ProfileKey::AppKey => Change::AppKey(secret(ENV_APP_KEY, "AppKey")?),
        ProfileKey::AppId => {
            let id = value()?;
            if id.is_empty() {
                return Err(Error::usage("app_id must not be empty"));
            }
            Change::AppId(id)
        }
        ProfileKey::Host => Change::Host(value()?),
        ProfileKey::Port => {
            let raw = value()?;
            match raw.trim().parse::<u16>() {
                Ok(port) if port != 0 => Change::Port(port),
                _ => {
                    return Err(Error::usage(format!(
                        "port must be between 1 and 65535, got '{}'",
                        raw.escape_debug()
                    )))
                }
            }
        }
        ProfileKey::Tls => match value()?.as_str() {
            "true" => Change::Tls(true),
            "false" => Change::Tls(false),
            other => {
                return Err(Error::usage(format!(
                    "tls must be true or false, got '{}'",
                    other.escape_debug()
                )))
            }
        },
        ProfileKey::CaFile => Change::CaFile(value()?.into()),
        ProfileKey::Qos => match value()?.as_str() {
            "0" => Change::Qos(0),
            "1" => Change::Qos(1),
            other => {
                return Err(Error::usage(format!(
                    "qos must be 0 or 1, got '{}'",
                    other.escape_debug()
                )))
            }
        },
        ProfileKey::ClientSuffix => Change::ClientSuffix(value()?),
    })
}

/// Applies `change` to profile `name`, checks the result as `add` would, and saves.
fn set_field(store: &mut Store, name: &str, change: Change) -> Result<()> {
    let Some(current) = store.file().profiles.get(name) else {
        return Err(store.unknown_profile(name, "the command line"));
    };
    let mut profile = current.clone();
    let key = match change {
        Change::AppId(v) => {
            profile.app_id = Some(v);
            "app_id"
        }
        Change::AppSecret(v) => {
            profile.app_secret = Some(v);
            "app_secret"
        }
        Change::AppKey(v) => {
            profile.app_key = Some(v);
            "app_key"
        }
        Change::Host(v) => {
            profile.host = Some(v);
            "host"
        }
        Change::Port(v) => {
            profile.port = Some(v);
            "port"
        }
        Change::Tls(v) => {
            profile.tls = Some(v);
            "tls"
        }
        Change::CaFile(v) => {
            profile.ca_file = Some(v);
            "ca_file"
        }
        Change::Qos(v) => {
            profile.qos = Some(v);
            "qos"
        }
        Change::ClientSuffix(v) => {
            profile.client_suffix = Some(v);
            "client_suffix"
        }
    };
    check_profile(&profile)?;
    store.file_mut().profiles.insert(name.to_owned(), profile);
    store.save()?;
    eprintln!(
        "set {key} of profile '{name}' in {}",
        store.path().display()
    );
    Ok(())
}

/// A secret from the flag, else the environment, else a hidden prompt when stdin is a
/// terminal (an empty answer stores none).
fn secret_from(flag: Option<&str>, env: Option<&str>, what: &str) -> Result<Option<Secret>> {
    if let Some(value) = flag.or(env) {
        return Ok(Some(Secret::new(value)));
    }
    if !io::stdin().is_terminal() {
        return Ok(None);
    }
    let answer = rpassword::prompt_password(format!("{what} (hidden; empty to skip): "))
        .map_err(|e| Error::io(format!("cannot read the {what}"), &e))?;
    Ok((!answer.is_empty()).then(|| Secret::new(answer)))
}

pub(crate) fn check_profile_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if ok {
        Ok(())
    } else {
        Err(Error::usage(format!(
            "invalid profile name '{}': use 1-64 letters, digits, '-', '_' or '.'",
            name.escape_debug()
        )))
    }
}

fn remove(store: &mut Store, name: &str) -> Result<()> {
    if !store.file().profiles.contains_key(name) {
        return Err(store.unknown_profile(name, "the command line"));
    }
    let file = store.file_mut();
    file.profiles.remove(name);
    let was_default = file.default.as_deref() == Some(name);
    if was_default {
        file.default = None;
    }
    store.save()?;
    eprintln!("removed profile '{name}'");
    if was_default {
        eprintln!(
            "warning: it was the default; set another with: sensoro-mqtt profile default NAME"
        );
    }
    Ok(())
}

fn set_default(store: &mut Store, name: &str) -> Result<()> {
    if !store.file().profiles.contains_key(name) {
        return Err(store.unknown_profile(name, "the command line"));
    }
    store.file_mut().default = Some(name.to_owned());
    store.save()?;
    eprintln!("default profile is now '{name}'");
    Ok(())
}
