//! `relay`: subscribe like listen and hand every push to the targets, acknowledging it only
//! once every target committed it. Orchestration only: the session settings are listen's
//! ([`super::plan::plan`]), the delivery is [`crate::relay`].

use std::io::IsTerminal as _;
use std::time::Duration;

use crate::cli::RelayArgs;
use crate::config::{Env, Qos};
use crate::crypto::{AppKey, SafeModeCodec};
use crate::emulator::{self, EmulatorHandle};
use crate::error::{Error, ExitKind, Result};
use crate::push::PushReader;
use crate::relay::dead_letter::DeadLetter;
use crate::relay::exec::{ExecOptions, ExecTarget};
use crate::relay::feed::Feed;
use crate::relay::pipeline::{self, Pipeline, PipelineConfig};
use crate::relay::postgres::PostgresTarget;
use crate::relay::progress::Progress;
use crate::relay::sqlite::SqliteTarget;
use crate::relay::webhook::{WebhookOptions, WebhookTarget};
use crate::relay::{RecordReader, Target, TargetSpec};

use super::plan::{self, Plan, PlanInputs};
use super::target;

/// The longest wait, when leaving, for acknowledgements and DISCONNECT to go out.
const CLOSE_LIMIT: Duration = Duration::from_millis(60);

/// Runs `relay`.
pub fn run(args: &RelayArgs, env: Env) -> Result<()> {
    let runtime = super::runtime(2)?;
    let result = runtime.block_on(relay(args, env));
    // A SQLite commit still running on the blocking pool after a signal is abandoned: its
    // pushes were not acknowledged, and its transaction rolls back.
    runtime.shutdown_timeout(Duration::from_millis(20));
    result
}

async fn relay(args: &RelayArgs, env: Env) -> Result<()> {
    let demo = if args.demo {
        Some(plan::start_demo(plan::LISTEN_DEMO_DEVICES).await?)
    } else {
        None
    };
    let plan = match &demo {
        Some(handle) => demo_plan(args, handle),
        None => resolve_plan(args, env)?,
    };
    let result = relay_with(args, plan).await;
    if let Some(handle) = demo {
        handle.shutdown().await;
    }
    result
}

fn demo_plan(args: &RelayArgs, handle: &EmulatorHandle) -> Plan {
    let inputs = PlanInputs {
        conn: &args.conn,
        clean: false,
        max_payload: args.max_payload,
    };
    let mut plan = plan::demo_plan(&inputs, handle);
    // A fixed clientId: the relay keeps a persistent session, on the demo too.
    plan.settings.client_id = format!("{}/relay", emulator::DEMO_APP_ID);
    plan.qos = qos_of(args);
    plan
}

fn qos_of(args: &RelayArgs) -> Qos {
    args.conn
        .qos
        .and_then(Qos::from_level)
        .unwrap_or(Qos::AtLeastOnce)
}

fn resolve_plan(args: &RelayArgs, env: Env) -> Result<Plan> {
    let resolver = target::resolver(&args.conn, env);
    let plan = (|| {
        let app_id = resolver.app_id()?.value;
        let client_id = match &args.conn.client_id {
            Some(id) => id.clone(),
            None => match resolver.client_suffix()? {
                Some(suffix) => format!("{app_id}/{suffix}"),
                None => return Err(no_fixed_client_id(&app_id)),
            },
        };
        let mut plan = plan::plan(&args.conn, &resolver, client_id, false, args.max_payload)?;
        plan.qos = qos_of(args);
        Ok(plan)
    })();
    super::print_resolver_messages(&resolver);
    plan
}

fn no_fixed_client_id(app_id: &str) -> Error {
    Error::new(
        ExitKind::Config,
        "relay needs a fixed clientId: the broker keeps the backlog for a clientId, and a \
         random one would lose it on every restart",
    )
    .with_hint(format!(
        "pass --client-id {app_id}/relay-1, or store a suffix in the profile: \
         sensoro-mqtt profile set NAME client_suffix relay-1 (each relay its own)"
    ))
}

async fn relay_with(args: &RelayArgs, plan: Plan) -> Result<()> {
    if qos_of(args) == Qos::AtMostOnce {
        eprintln!(
            "warning: --qos 0: the broker does not wait for acknowledgements, so pushes in \
             flight when the relay stops or a target fails are lost"
        );
    }
    let codec = match &plan.app_key {
        Some(key) => Some(SafeModeCodec::new(&AppKey::parse(key.expose())?)),
        None => None,
    };
    let targets = open_targets(args, &plan).await?;
    let count = targets.len();
    let config = PipelineConfig {
        max_batch: args.batch_size.map_or_else(
            || crate::relay::default_batch_size(&args.to),
            |n| n as usize,
        ),
        max_age: args.batch_age,
        give_up: args.give_up,
        ..PipelineConfig::default()
    };
    let progress = Progress::new(std::io::stderr().is_terminal());
    let pipeline = Pipeline::new(
        targets,
        DeadLetter::new(args.dead_letter.clone()),
        config,
        progress,
    );
    let mut reader = RecordReader::new(PushReader::new(
        codec,
        Some(plan.settings.app_id.clone()),
        true,
    ));
    let mut feed = Feed::start(plan.settings, plan.topic, plan.qos, plan.credentials);
    let signal = shutdown_signal()?;
    let (mut pipeline, result) = pipeline::run(&mut feed, &mut reader, pipeline, signal).await;
    feed.close(CLOSE_LIMIT).await;
    let summary = pipeline.progress().finish(count);
    let fresh_line =
        matches!(result, Ok(pipeline::Ending::Signal)) && std::io::stderr().is_terminal();
    eprintln!("{}{summary}", if fresh_line { "\n" } else { "" });
    if pipeline.dead_letter().written() > 0 {
        eprintln!(
            "{} written to the dead letter {}",
            pipeline.dead_letter().written(),
            pipeline.dead_letter().path().display()
        );
    }
    result.map(|_| ())
}

async fn open_targets(args: &RelayArgs, plan: &Plan) -> Result<Vec<Box<dyn Target>>> {
    let mut targets: Vec<Box<dyn Target>> = Vec::new();
    for spec in &args.to {
        let target: Box<dyn Target> = match spec {
            TargetSpec::Sqlite(path) => Box::new(SqliteTarget::open(path)?),
            TargetSpec::Postgres(url) => {
                let (target, warning) = PostgresTarget::open(url).await?;
                if let Some(warning) = warning {
                    eprintln!("warning: {warning}");
                }
                Box::new(target)
            }
            TargetSpec::Webhook(url) => Box::new(WebhookTarget::new(
                url,
                &plan.settings.app_id,
                &plan.settings.app_secret,
                WebhookOptions {
                    concurrency: usize::from(args.concurrency),
                    timeout: args.timeout,
                },
            )?),
            TargetSpec::Exec(command) => Box::new(ExecTarget::new(
                command,
                ExecOptions {
                    concurrency: usize::from(args.concurrency),
                    timeout: args.timeout,
                    max_attempts: args.max_attempts,
                },
            )),
        };
        targets.push(target);
    }
    Ok(targets)
}

/// Resolves on the first Ctrl-C or SIGTERM; a second Ctrl-C ends the process at once.
fn shutdown_signal() -> Result<impl std::future::Future<Output = ()>> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term =
        signal(SignalKind::terminate()).map_err(|e| Error::io("cannot watch SIGTERM", &e))?;
    let mut interrupt =
        signal(SignalKind::interrupt()).map_err(|e| Error::io("cannot watch Ctrl-C", &e))?;
    Ok(async move {
        tokio::select! {
            _ = term.recv() => {}
            _ = interrupt.recv() => {}
        }
        tokio::spawn(async move {
            if interrupt.recv().await.is_some() {
                std::process::exit(130);
            }
        });
    })
}
