//! `emulate`: run the local broker that behaves like the platform, with its log on stderr.
//!
//! Orchestration only: the flags become an [`EmulatorConfig`], the broker lives in
//! [`crate::emulator`], safe mode seals with the crate's codec. The first stderr line says
//! where it listens and how to connect; it runs until Ctrl-C or SIGTERM.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use crate::cli::EmulateArgs;
use crate::config::{Env, ENV_APP_KEY, ENV_APP_SECRET};
use crate::crypto::{AppKey, SafeModeCodec};
use crate::emulator::{
    self, scenario, AppConfig, Emulator, EmulatorConfig, LogEvent, LogSink, PublisherConfig, QoS,
    Replay, Scenario, WebhookConfig,
};
use crate::error::{Error, Result};

/// Runs `emulate`.
pub fn run(args: &EmulateArgs, env: &Env) -> Result<()> {
    if args.list_scenarios {
        print!("{}", scenario::list());
        return Ok(());
    }
    let config = build_config(args, env, log_to_stderr())?;
    let runtime = super::runtime(2)?;
    runtime.block_on(serve(config, args))
}

async fn serve(config: EmulatorConfig, args: &EmulateArgs) -> Result<()> {
    let app_ids: Vec<String> = config.apps.iter().map(|a| a.app_id.clone()).collect();
    let handle = Emulator::start(config).await?;
    eprintln!("{}", emulator::banner(handle.local_addr(), &app_ids));
    if uses_demo_app(args) {
        eprintln!(
            "no --app-id or --app given: serving the demo app (AppID {}, AppSecret {}, \
             AppKey {})",
            emulator::DEMO_APP_ID,
            emulator::DEMO_APP_SECRET,
            emulator::DEMO_APP_KEY
        );
    }
    wait_for_stop().await?;
    let stats = handle.stats();
    handle.shutdown().await;
    eprintln!(
        "stopped: {} pushes published, {} deliveries, {} dropped from queues",
        stats.published, stats.delivered, stats.dropped
    );
    Ok(())
}

/// No app given: the demo app is served (`--app-secret` cannot come without `--app-id`).
fn uses_demo_app(args: &EmulateArgs) -> bool {
    args.app_id.is_none() && args.apps.is_empty()
}

/// Turns the flags into the emulator's configuration; `log` receives its events. The
/// AppSecret and AppKey of `--app-id` come from their flags, else from `env`.
pub fn build_config(args: &EmulateArgs, env: &Env, log: LogSink) -> Result<EmulatorConfig> {
    let mut apps = Vec::new();
    if let Some(id) = &args.app_id {
        let secret = args
            .app_secret
            .as_deref()
            .or_else(|| env.get(ENV_APP_SECRET))
            .ok_or_else(|| {
                Error::usage(format!(
                    "--app-id {id} needs its AppSecret: pass --app-secret or set \
                     {ENV_APP_SECRET}"
                ))
            })?;
        let mut app = AppConfig::new(id.clone(), secret);
        app.app_key = args
            .app_key
            .as_deref()
            .or_else(|| env.get(ENV_APP_KEY))
            .map(crate::secret::Secret::new);
        apps.push(app);
    }
    for spec in &args.apps {
        apps.push(AppConfig::from_spec(spec)?);
    }
    if uses_demo_app(args) {
        apps.push(AppConfig::demo());
    }
    if args.safe_mode {
        apps = apps.into_iter().map(with_codec).collect::<Result<_>>()?;
    }
    let scenario = args.scenario.as_deref().map(Scenario::load).transpose()?;
    let replay = match &args.replay {
        Some(path) if path == Path::new("-") => Some(Replay::Stdin),
        Some(path) => Some(Replay::File(path.clone())),
        None => None,
    };
    let publishers = args
        .publishers
        .iter()
        .map(|spec| PublisherConfig::from_spec(spec))
        .collect::<Result<_>>()?;
    let webhooks = args
        .webhooks
        .iter()
        .map(|spec| WebhookConfig::from_spec(spec))
        .collect::<Result<_>>()?;
    let defaults = EmulatorConfig::default();
    let max_connections = usize::try_from(args.max_connections).unwrap_or(usize::MAX);
    Ok(EmulatorConfig {
        bind: SocketAddr::new(args.bind, args.port),
        apps,
        publishers,
        webhooks,
        max_qos: if args.max_qos == 0 {
            QoS::AtMostOnce
        } else {
            QoS::AtLeastOnce
        },
        devices: args.devices,
        interval: args.interval,
        seed: args.seed,
        scenario,
        wrong_key_sealer: Some(wrong_key_sealer()?),
        replay,
        loop_replay: args.loop_replay,
        safe_mode: args.safe_mode,
        drop_after: args.drop_after,
        max_connections,
        max_sessions: defaults.max_sessions.max(max_connections),
        idle_timeout: args.idle_timeout,
        log: Some(log),
        ..defaults
    })
}

/// An AppKey that is no app's: a scenario's wrong-key pushes are sealed with it.
const WRONG_APP_KEY: &str = "Tm90IHRoZSBBcHBLZXkgb2YgYW55IGFwcCBoZXJlISE";

fn wrong_key_sealer() -> Result<Arc<dyn emulator::PushSealer>> {
    let key = AppKey::parse(WRONG_APP_KEY)
        .map_err(|err| Error::config(format!("the wrong-key AppKey is unusable: {err}")))?;
    Ok(Arc::new(SafeModeCodec::new(&key)))
}

/// Gives an app the safe-mode sealer made from its AppKey (an app without one is left as is;
/// the emulator's validation names it).
fn with_codec(app: AppConfig) -> Result<AppConfig> {
    let Some(key) = &app.app_key else {
        return Ok(app);
    };
    let key = AppKey::parse(key.expose()).map_err(|err| {
        Error::config(format!(
            "the AppKey of app '{}' is unusable: {err}",
            app.app_id
        ))
    })?;
    Ok(app.with_sealer(Arc::new(SafeModeCodec::new(&key))))
}

/// One stderr line per event, with the local time; `Listening` is left to the banner.
fn log_to_stderr() -> LogSink {
    Arc::new(|event: &LogEvent| {
        if matches!(event, LogEvent::Listening { .. }) {
            return;
        }
        let now = chrono::Local::now().format("%H:%M:%S%.3f");
        eprintln!("{now} {event}");
    })
}

async fn wait_for_stop() -> Result<()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut term =
            signal(SignalKind::terminate()).map_err(|e| Error::io("cannot watch SIGTERM", &e))?;
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Cli, Command};
    use clap::Parser as _;

    fn args(line: &[&str]) -> EmulateArgs {
        let mut argv = vec!["sensoro-mqtt", "emulate"];
        argv.extend_from_slice(line);
        match Cli::try_parse_from(argv).expect("parses").command {
            Command::Emulate(args) => args,
            other => panic!("not emulate: {other:?}"),
        }
    }

    fn config(line: &[&str]) -> Result<EmulatorConfig> {
        config_with_env(line, &Env::default())
    }

    fn config_with_env(line: &[&str], env: &Env) -> Result<EmulatorConfig> {
        build_config(&args(line), env, Arc::new(|_: &LogEvent| {}))
    }

    #[test]
    fn the_secret_and_key_come_from_the_environment_and_flags_win() {
        let env = Env::from_pairs([(ENV_APP_SECRET, "env-s"), (ENV_APP_KEY, "env-k")]);
        let from_env = config_with_env(&["--app-id", "a"], &env).expect("config");
        assert_eq!(from_env.apps[0].app_secret.expose(), "env-s");
        assert_eq!(
            from_env.apps[0].app_key.as_ref().map(|k| k.expose()),
            Some("env-k")
        );
        let from_flags = config_with_env(
            &[
                "--app-id",
                "a",
                "--app-secret",
                "flag-s",
                "--app-key",
                "flag-k",
            ],
            &env,
        )
        .expect("config");
        assert_eq!(from_flags.apps[0].app_secret.expose(), "flag-s");
        assert_eq!(
            from_flags.apps[0].app_key.as_ref().map(|k| k.expose()),
            Some("flag-k")
        );
        let err = config(&["--app-id", "a"]).unwrap_err();
        assert_eq!(err.kind(), crate::error::ExitKind::Usage);
        // The environment alone does not replace the demo app.
        let demo = config_with_env(&[], &env).expect("config");
        assert_eq!(demo.apps[0].app_id, emulator::DEMO_APP_ID);
    }

    #[test]
    fn without_apps_the_demo_app_is_served() {
        let config = config(&[]).expect("config");
        assert_eq!(config.apps.len(), 1);
        assert_eq!(config.apps[0].app_id, emulator::DEMO_APP_ID);
        assert_eq!(config.bind, "127.0.0.1:1883".parse().expect("addr"));
        assert_eq!(config.max_qos, QoS::AtLeastOnce);
    }

    #[test]
    fn flags_become_the_configuration() {
        let config = config(&[
            "--app-id",
            "foobar",
            "--app-secret",
            "s",
            "--app",
            "other:t:abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
            "--port",
            "0",
            "--max-qos",
            "0",
            "--devices",
            "3",
            "--interval",
            "250ms",
            "--seed",
            "9",
            "--drop-after",
            "5",
            "--safe-mode",
            "--app-key",
            "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
        ])
        .expect("config");
        let ids: Vec<&str> = config.apps.iter().map(|a| a.app_id.as_str()).collect();
        assert_eq!(ids, ["foobar", "other"]);
        assert!(config.apps.iter().all(|a| a.sealer.is_some()));
        assert_eq!(config.bind.port(), 0);
        assert_eq!(config.max_qos, QoS::AtMostOnce);
        assert_eq!(config.devices, 3);
        assert_eq!(config.interval, std::time::Duration::from_millis(250));
        assert_eq!(config.seed, 9);
        assert_eq!(config.drop_after, Some(5));
        assert!(config.safe_mode);
        assert_eq!(config.max_connections, 1024, "the default");
        assert_eq!(config.idle_timeout, std::time::Duration::from_secs(60));
        config.validate().expect("valid");
    }

    #[test]
    fn connection_limit_and_idle_timeout_come_from_flags() {
        let config = config(&["--max-connections", "10000", "--idle-timeout", "5s"]).expect("c");
        assert_eq!(config.max_connections, 10_000);
        assert!(config.max_sessions >= 10_000, "{}", config.max_sessions);
        assert_eq!(config.idle_timeout, std::time::Duration::from_secs(5));
        config.validate().expect("valid");
        let err = Cli::try_parse_from(["sensoro-mqtt", "emulate", "--max-connections", "0"]);
        assert!(err.is_err());
    }

    #[test]
    fn publishers_must_name_a_served_app_and_have_their_own_secret() {
        let ok = config(&["--app", "a:s", "--publisher", "a:p", "--publisher", "a:q"]).expect("c");
        assert_eq!(ok.publishers.len(), 2);
        assert_eq!(ok.publishers[0].app_id, "a");
        ok.validate().expect("valid");
        assert!(!format!("{ok:?}").contains(":p"), "{ok:?}");
        for bad in [
            &["--app", "a:s", "--publisher", "b:p"][..],
            &["--app", "a:s", "--publisher", "a:s"],
        ] {
            let err = config(bad).expect("parses").validate().unwrap_err();
            assert_eq!(err.kind(), crate::error::ExitKind::Usage, "{bad:?}");
        }
        let err = config(&["--app", "a:s", "--publisher", "a"]).unwrap_err();
        assert_eq!(err.kind(), crate::error::ExitKind::Usage);
    }

    #[test]
    fn webhooks_are_for_every_app_or_one() {
        let config = config(&[
            "--app",
            "a:s",
            "--webhook",
            "http://127.0.0.1:9/all?x=1",
            "--webhook",
            "a=https://user:pw@h/one",
        ])
        .expect("config");
        assert_eq!(config.webhooks[0].app_id, None);
        assert_eq!(config.webhooks[0].url, "http://127.0.0.1:9/all?x=1");
        assert_eq!(config.webhooks[1].app_id.as_deref(), Some("a"));
        assert_eq!(config.webhooks[1].url, "https://user:pw@h/one");
        assert!(!format!("{config:?}").contains("pw@"), "{config:?}");
        let err = config_err(&["--webhook", "not-a-url"]);
        assert_eq!(err.kind(), crate::error::ExitKind::Usage);
    }

    fn config_err(line: &[&str]) -> crate::error::Error {
        config(line).unwrap_err()
    }

    #[test]
    fn safe_mode_without_a_key_is_a_configuration_error() {
        let config = config(&["--app-id", "a", "--app-secret", "s", "--safe-mode"]).expect("c");
        let err = config.validate().unwrap_err();
        assert_eq!(err.kind(), crate::error::ExitKind::Config);
        assert!(err.message().contains("AppKey"), "{}", err.message());
    }

    #[test]
    fn a_bad_app_key_names_the_app() {
        let err = config(&["--app", "a:s:short", "--safe-mode"]).unwrap_err();
        assert_eq!(err.kind(), crate::error::ExitKind::Config);
        assert!(err.message().contains("'a'"), "{}", err.message());
        assert!(!err.message().contains("short"), "{}", err.message());
    }

    #[test]
    fn a_scenario_is_loaded_by_name_and_a_wrong_key_sealer_is_always_there() {
        let stale = config(&["--scenario", "stale"]).expect("config");
        let scenario = stale.scenario.as_ref().expect("a scenario");
        assert_eq!(scenario.name, "stale");
        assert!(stale.wrong_key_sealer.is_some());
        stale.validate().expect("valid");
        assert!(
            config(&[]).expect("config").scenario.is_none(),
            "demo by default"
        );
    }

    #[test]
    fn a_scenario_cannot_be_combined_with_a_replay() {
        let argv = [
            "sensoro-mqtt",
            "emulate",
            "--scenario",
            "demo",
            "--replay",
            "f",
        ];
        assert!(Cli::try_parse_from(argv).is_err());
    }

    #[test]
    fn a_scenario_device_on_an_app_that_is_not_served_is_a_configuration_error() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("s.toml");
        std::fs::write(
            &path,
            "[[device]]\nsn = \"A\"\ndeviceType = \"co\"\napp = \"x\"\n",
        )
        .expect("write");
        let config = config(&["--scenario", &path.display().to_string()]).expect("config");
        let err = config.validate().unwrap_err();
        assert_eq!(err.kind(), crate::error::ExitKind::Config);
        assert!(err.message().contains("'x'"), "{}", err.message());
    }

    #[test]
    fn a_malformed_app_spec_is_a_usage_error() {
        let err = config(&["--app", "lonely"]).unwrap_err();
        assert_eq!(err.kind(), crate::error::ExitKind::Usage);
    }
}
