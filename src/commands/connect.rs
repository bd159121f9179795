//! `connect`: check credentials and connectivity step by step and explain any refusal.
//!
//! Orchestration only: the check is [`crate::probe`], the text is
//! [`crate::output::report`]. Each step's line is printed as soon as it ends (a spinner on
//! stderr shows the running one on a terminal); `--json` prints one object at the end.

use std::io::{self, IsTerminal as _, Write as _};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::cli::ConnectArgs;
use crate::config::{Env, Store};
use crate::error::{Error, ExitKind, Result};
use crate::output::{report, ColorChoice};
use crate::probe::{self, ProbeSettings, Progress, Report, Step, StepKind};
use crate::tls::Roots;

use super::target::{self, random_suffix, Target};

/// Runs `connect`.
pub fn run(args: &ConnectArgs, env: Env) -> Result<()> {
    if let Some(name) = &args.save {
        store_for_save(name, args.force, &env)?;
    }
    let resolver = target::resolver(&args.conn, env.clone());
    let resolved = target::resolve(&args.conn, &resolver);
    super::print_resolver_messages(&resolver);
    let target = match resolved {
        Ok(target) => target,
        Err(err) => return Err(report_unresolved(args, &resolver, err)),
    };
    let client_id = args
        .conn
        .client_id
        .clone()
        .unwrap_or_else(|| format!("{}/{}", target.app_id.value, random_suffix()));
    let settings = ProbeSettings {
        host: target.host.clone(),
        port: target.port,
        tls: target.tls.clone(),
        app_id: target.app_id.value.clone(),
        app_secret: target.app_secret.value.clone(),
        secret_source: target.app_secret.source.to_string(),
        client_id,
        topic: target.topic.clone(),
        qos: target.qos,
        timeout: args.timeout,
    };
    let stdout = io::stdout();
    let color = ColorChoice::from(args.color).enabled(
        stdout.is_terminal(),
        std::env::var("NO_COLOR").ok().as_deref(),
    );
    let mut live = Live::new(args.json, color);
    if !args.json {
        live.print(&report::heading(
            &settings.host,
            settings.port,
            settings.tls.is_some(),
            &settings.client_id,
        ))?;
    }
    let runtime = super::runtime(1)?;
    let report = runtime.block_on(probe::check(&settings, &mut live));
    live.finish();
    live.failed_output?;
    print_result(&report, args.json, color)?;
    if let Some(failure) = &report.failure {
        // The report on stdout already says it for people; with --json, stderr keeps the one
        // line a person reads next to the machine's report.
        let message = if args.json {
            format!("connection check failed: {}", failure.message)
        } else {
            String::new()
        };
        return Err(Error::new(failure.kind, message));
    }
    if let Some(name) = &args.save {
        save_profile(name, args, &target, &settings.client_id, &env)?;
    }
    Ok(())
}

/// A value could not be resolved: with `--json` a report still says so; the error decides the
/// exit code either way.
fn report_unresolved(args: &ConnectArgs, resolver: &crate::config::Resolver, err: Error) -> Error {
    if args.json {
        let app_id = resolver
            .app_id_if_given()
            .ok()
            .flatten()
            .map(|s| s.value)
            .unwrap_or_default();
        let host = args.conn.host.clone().unwrap_or_default();
        let explanation = err.hint().map(str::to_owned).into_iter().collect();
        let report = probe::local_failure(
            &host,
            args.conn.port.unwrap_or(crate::config::DEFAULT_PORT),
            &app_id,
            err.message().to_owned(),
            explanation,
        );
        if let Err(print_err) = print_result(&report, true, false) {
            return print_err;
        }
    }
    err
}

fn print_result(report: &Report, json: bool, color: bool) -> Result<()> {
    let text = if json {
        let mut line = serde_json::to_string(report)
            .map_err(|e| Error::new(ExitKind::Failure, format!("cannot encode the report: {e}")))?;
        line.push('\n');
        line
    } else {
        report::verdict(report, color)
    };
    let mut out = io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(|e| Error::io("cannot write the report", &e))
}

/// Streams step lines to stdout and runs the spinner on stderr.
struct Live {
    bar: Option<ProgressBar>,
    json: bool,
    color: bool,
    failed_output: Result<()>,
}

impl Live {
    fn new(json: bool, color: bool) -> Self {
        let bar = io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
            bar.set_style(
                ProgressStyle::with_template("{spinner} {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            bar.enable_steady_tick(Duration::from_millis(80));
            bar
        });
        Live {
            bar,
            json,
            color,
            failed_output: Ok(()),
        }
    }

    fn print(&self, text: &str) -> Result<()> {
        let write = || {
            let mut out = io::stdout().lock();
            out.write_all(text.as_bytes()).and_then(|()| out.flush())
        };
        let result = match &self.bar {
            Some(bar) => bar.suspend(write),
            None => write(),
        };
        result.map_err(|e| Error::io("cannot write the report", &e))
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

impl Progress for Live {
    fn begin(&mut self, step: StepKind) {
        if let Some(bar) = &self.bar {
            bar.set_message(format!("{}…", step.label()));
        }
    }

    fn end(&mut self, step: &Step) {
        if self.json || self.failed_output.is_err() {
            return;
        }
        self.failed_output = self.print(&report::step_line(step, self.color));
    }
}

/// Loads the store and checks that `name` may be written to it (a valid name, not taken
/// unless `force`).
fn store_for_save(name: &str, force: bool, env: &Env) -> Result<Store> {
    super::profile::check_profile_name(name)?;
    let store = Store::load(&env.config_path()?)?;
    if store.file().profiles.contains_key(name) && !force {
        return Err(Error::config(format!("profile '{name}' already exists"))
            .with_hint("add --force to replace it after a successful check"));
    }
    Ok(store)
}

fn save_profile(
    name: &str,
    args: &ConnectArgs,
    target: &Target,
    client_id: &str,
    env: &Env,
) -> Result<()> {
    // Read again under the writers' lock: the file may have changed while the check ran.
    let _lock = Store::lock(&env.config_path()?)?;
    let mut store = store_for_save(name, args.force, env)?;
    let app_id = &target.app_id.value;
    let client_suffix = args.conn.client_id.as_ref().and_then(|_| {
        client_id
            .strip_prefix(app_id.as_str())
            .and_then(|rest| rest.strip_prefix('/'))
            .map(str::to_owned)
    });
    let profile = crate::config::Profile {
        app_id: Some(app_id.clone()),
        app_secret: Some(target.app_secret.value.clone()),
        app_key: target.app_key.clone(),
        host: Some(target.host.clone()),
        port: Some(target.port),
        tls: target.tls.is_some().then_some(true),
        ca_file: target.tls.as_ref().and_then(|t| match &t.roots {
            Roots::CaFile(path) => Some(path.clone()),
            Roots::System => None,
        }),
        qos: target.qos_given.then_some(target.qos.level()),
        client_suffix,
    };
    super::profile::store_profile(&mut store, name, profile, false)
}
