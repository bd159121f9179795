//! What a session command (listen, watch, relay) resolved to before any network I/O: the broker,
//! the credentials, the topic and QoS, the AppKey; or the built-in demo emulator and its plan.
//! Shared so that every consumer of the session resolves settings the same way.

use std::time::Duration;

use crate::cli::ConnectionArgs;
use crate::config::{Env, Qos, Resolver};
use crate::emulator::{self, AppConfig, Emulator, EmulatorConfig, EmulatorHandle};
use crate::error::{Error, Result};
use crate::mqtt::SessionSettings;
use crate::secret::Secret;

use super::target::{self, random_suffix};

/// What a listen run resolved to before any network I/O.
pub(crate) struct Plan {
    pub(crate) settings: SessionSettings,
    pub(crate) topic: String,
    pub(crate) qos: Qos,
    pub(crate) app_key: Option<Secret>,
    /// What was sent as whom and where each value came from (secrets masked), for errors.
    pub(crate) credentials: String,
}

/// The connection arguments a session command shares with listen.
pub(crate) struct PlanInputs<'a> {
    pub(crate) conn: &'a ConnectionArgs,
    pub(crate) clean: bool,
    pub(crate) max_payload: usize,
}

/// Simulated devices in `listen --demo`.
pub(crate) const LISTEN_DEMO_DEVICES: usize = 6;

/// Starts the built-in emulator on a free loopback port with `devices` simulated devices.
pub(crate) async fn start_demo(devices: usize) -> Result<EmulatorHandle> {
    let app = AppConfig::demo();
    let config = EmulatorConfig {
        bind: "127.0.0.1:0"
            .parse()
            .map_err(|_| Error::usage("bad bind address"))?,
        apps: vec![app],
        devices,
        interval: Duration::from_millis(700),
        ..EmulatorConfig::default()
    };
    let handle = Emulator::start(config).await?;
    eprintln!(
        "demo: built-in emulator on {} (AppID '{}'); Ctrl-C to stop",
        handle.local_addr(),
        emulator::DEMO_APP_ID
    );
    Ok(handle)
}

/// The plan for the demo emulator at `handle`.
pub(crate) fn demo_plan(args: &PlanInputs<'_>, handle: &EmulatorHandle) -> Plan {
    let addr = handle.local_addr();
    let app_id = emulator::DEMO_APP_ID.to_owned();
    Plan {
        settings: SessionSettings {
            host: addr.ip().to_string(),
            port: addr.port(),
            client_id: format!("{app_id}/{}", random_suffix()),
            app_id: app_id.clone(),
            app_secret: Secret::new(emulator::DEMO_APP_SECRET),
            clean_session: args.clean,
            keep_alive: Duration::from_secs(30),
            tls: None,
            max_payload: args.max_payload,
        },
        topic: emulator::topic_for(&app_id),
        qos: args
            .conn
            .qos
            .and_then(Qos::from_level)
            .unwrap_or(Qos::AtLeastOnce),
        app_key: Some(Secret::new(emulator::DEMO_APP_KEY)),
        credentials: "the demo app's built-in credentials".to_owned(),
    }
}

/// The plan from flags, environment and profiles (messages about them on stderr).
pub(crate) fn resolve_plan(args: &PlanInputs<'_>, env: Env) -> Result<Plan> {
    let resolver = target::resolver(args.conn, env);
    let plan = build_plan(args, &resolver);
    super::print_resolver_messages(&resolver);
    plan
}

fn build_plan(args: &PlanInputs<'_>, resolver: &Resolver) -> Result<Plan> {
    let app_id = resolver.app_id()?.value;
    let client_id = match &args.conn.client_id {
        Some(id) => id.clone(),
        None => {
            let suffix = resolver.client_suffix()?.unwrap_or_else(random_suffix);
            format!("{app_id}/{suffix}")
        }
    };
    plan(args.conn, resolver, client_id, args.clean, args.max_payload)
}

/// Resolves a session for `client_id` (checked against the platform rule first): the
/// settings every session command shares.
pub(crate) fn plan(
    conn: &ConnectionArgs,
    resolver: &Resolver,
    client_id: String,
    clean_session: bool,
    max_payload: usize,
) -> Result<Plan> {
    let app_id = resolver.app_id()?.value;
    target::check_client_id(&app_id, &client_id)?;
    let target = target::resolve(conn, resolver)?;
    let credentials = format!(
        "{}, clientId '{client_id}'",
        target::describe_credentials(&target)
    );
    let settings = SessionSettings {
        app_secret: target.app_secret.value,
        host: target.host,
        port: target.port,
        app_id,
        client_id,
        clean_session,
        keep_alive: Duration::from_secs(30),
        tls: target.tls,
        max_payload,
    };
    Ok(Plan {
        topic: target.topic,
        qos: target.qos,
        app_key: target.app_key,
        credentials,
        settings,
    })
}
