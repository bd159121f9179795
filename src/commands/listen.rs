//! `listen`: subscribe to `users/<AppID>/devices` and print every push.
//!
//! Orchestration only: settings are resolved here, the session lives in [`crate::mqtt`], the
//! printing in [`crate::output::printer`]. A push is acknowledged (QoS 1) only after it has
//! been flushed to stdout and the output file.

use std::collections::HashSet;
use std::io::{self, IsTerminal as _};
use std::time::{Duration, Instant};

use rumqttc::mqttbytes::v4::{Publish, SubscribeReasonCode};
use rumqttc::mqttbytes::QoS;
use rumqttc::AsyncClient;
use tokio::sync::mpsc;

use crate::cli::{FormatArg, ListenArgs};
use crate::config::{Env, Qos, Resolver};
use crate::crypto::{AppKey, SafeModeCodec};
use crate::emulator::{self, AppConfig, Emulator, EmulatorConfig, EmulatorHandle};
use crate::error::{Error, ExitKind, Result};
use crate::mqtt::{self, Acks, Backoff, SessionEvent, SessionSettings};
use crate::output::pretty::PrettyOptions;
use crate::output::printer::{OutputFormat, Printer, Received};
use crate::output::summary::Summary;
use crate::output::terminal;
use crate::output::ColorChoice;
use crate::push::{PushReader, Reading, SafeMode};
use crate::secret::Secret;

use super::target::{self, random_suffix, Plan};

/// A connection lost this soon after CONNACK counts as "kicked".
const KICK_WINDOW: Duration = Duration::from_secs(3);
/// How soon acknowledgements refused by a full request channel are tried again.
const ACK_RETRY: Duration = Duration::from_millis(2);
/// The longest wait, when leaving, for owed acknowledgements and DISCONNECT to go out.
const SETTLE_LIMIT: Duration = Duration::from_secs(5);
/// Kicks in a row before warning about a duplicate clientId.
const KICKS_BEFORE_WARNING: u32 = 3;

/// Runs `listen`.
pub fn run(args: &ListenArgs, env: Env) -> Result<()> {
    let runtime = super::runtime(1)?;
    runtime.block_on(listen(args, env))
}

async fn listen(args: &ListenArgs, env: Env) -> Result<()> {
    let demo = if args.demo {
        Some(start_demo().await?)
    } else {
        None
    };
    let plan = match &demo {
        Some(handle) => demo_plan(args, handle),
        None => resolve_plan(args, env)?,
    };
    let result = run_session(args, &plan).await;
    if let Some(handle) = demo {
        handle.shutdown().await;
    }
    result
}

pub(crate) async fn start_demo() -> Result<EmulatorHandle> {
    let app = AppConfig::demo();
    let config = EmulatorConfig {
        bind: "127.0.0.1:0"
            .parse()
            .map_err(|_| Error::usage("bad bind address"))?,
        apps: vec![app],
        devices: 6,
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

fn demo_plan(args: &ListenArgs, handle: &EmulatorHandle) -> Plan {
    let addr = handle.local_addr();
    let app_id = emulator::DEMO_APP_ID.to_owned();
    Plan {
        settings: SessionSettings {
            host: addr.ip().to_string(),
            port: addr.port(),
            client_id: format!("{app_id}/{}", random_suffix()),
            app_id: app_id.clone(),
            app_secret: Secret::new(emulator::DEMO_APP_SECRET),
            clean_session: true,
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

fn resolve_plan(args: &ListenArgs, env: Env) -> Result<Plan> {
    let resolver = target::resolver(&args.conn, env);
    let plan = build_plan(args, &resolver);
    super::print_resolver_messages(&resolver);
    plan
}

fn build_plan(args: &ListenArgs, resolver: &Resolver) -> Result<Plan> {
    let app_id = resolver.app_id()?.value;
    let client_id = match &args.conn.client_id {
        Some(id) => id.clone(),
        None => {
            let suffix = resolver.client_suffix()?.unwrap_or_else(random_suffix);
            format!("{app_id}/{suffix}")
        }
    };
    target::plan(
        &args.conn,
        resolver,
        client_id,
        args.clean,
        args.max_payload,
    )
}

/// Counters for the summary.
struct Tally {
    started: Instant,
    pushes: u64,
    devices: HashSet<String>,
    reconnects: u64,
    connected_at: Option<Instant>,
    quick_kicks: u32,
    warned_no_key: bool,
}

/// Why the loop ended.
enum Stop {
    Count,
    Timeout,
    Signal,
}

async fn run_session(args: &ListenArgs, plan: &Plan) -> Result<()> {
    let codec = match &plan.app_key {
        Some(key) => Some(SafeModeCodec::new(&AppKey::parse(key.expose())?)),
        None => None,
    };
    let mut session = Session::new(args, plan, codec)?;
    let backoff = Backoff::new(Duration::from_millis(500), Duration::from_secs(30));
    let (client, mut events) = mqtt::start_session(&plan.settings, backoff);
    let stop = session.event_loop(&client, &mut events).await;
    session.settle(&client, &mut events).await;
    match stop {
        Err(err) => Err(err),
        Ok(stop) => session.finish(&stop),
    }
}

struct Session<'a> {
    args: &'a ListenArgs,
    plan: &'a Plan,
    reader: PushReader,
    printer: Printer<io::Stdout>,
    tally: Tally,
    acks: Acks,
}

impl<'a> Session<'a> {
    fn new(args: &'a ListenArgs, plan: &'a Plan, codec: Option<SafeModeCodec>) -> Result<Self> {
        let stdout = io::stdout();
        let terminal = stdout.is_terminal();
        let format = match args.format {
            Some(FormatArg::Pretty) => OutputFormat::Pretty,
            Some(FormatArg::Json) => OutputFormat::Json,
            Some(FormatArg::Raw) => OutputFormat::Raw,
            None if terminal => OutputFormat::Pretty,
            None => OutputFormat::Json,
        };
        let no_color = std::env::var("NO_COLOR").ok();
        let pretty = PrettyOptions {
            color: ColorChoice::from(args.color).enabled(terminal, no_color.as_deref()),
            compact: args.compact,
            wide: args.wide,
            width: terminal::stdout_width(terminal),
            palette: terminal::palette_from_env(),
        };
        let file = match &args.output {
            Some(path) => Some(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)
                    .map_err(|e| Error::io(format!("cannot open {}", path.display()), &e))?,
            ),
            None => None,
        };
        Ok(Session {
            args,
            plan,
            reader: PushReader::new(codec, Some(plan.settings.app_id.clone()), true),
            printer: Printer::new(stdout, file, format, args.envelope, pretty),
            tally: Tally {
                started: Instant::now(),
                pushes: 0,
                devices: HashSet::new(),
                reconnects: 0,
                connected_at: None,
                quick_kicks: 0,
                warned_no_key: false,
            },
            acks: Acks::default(),
        })
    }

    async fn event_loop(
        &mut self,
        client: &AsyncClient,
        events: &mut mpsc::Receiver<SessionEvent>,
    ) -> Result<Stop> {
        let deadline = self.args.timeout.map(|d| tokio::time::Instant::now() + d);
        let mut sigterm = terminate_signal()?;
        loop {
            let event = tokio::select! {
                event = events.recv() => event,
                _ = tokio::signal::ctrl_c() => return Ok(Stop::Signal),
                _ = sigterm.recv() => return Ok(Stop::Signal),
                () = sleep_until(deadline) => return Ok(Stop::Timeout),
                // The request channel was full: try the owed acknowledgements again.
                () = tokio::time::sleep(ACK_RETRY), if self.acks.owed() > 0 => {
                    self.acks.send(client);
                    continue;
                }
            };
            let Some(event) = event else {
                return Err(session_ended());
            };
            if self.handle(client, event)? {
                self.flush_and_ack(client)?;
                return Ok(Stop::Count);
            }
            if events.is_empty() {
                self.flush_and_ack(client)?;
            }
        }
    }

    /// Handles one event; true when `--count` is reached.
    fn handle(&mut self, client: &AsyncClient, event: SessionEvent) -> Result<bool> {
        match event {
            SessionEvent::Connected { session_present } => {
                self.on_connected(client, session_present)
            }
            SessionEvent::Subscribed(codes) => self.on_subscribed(&codes),
            SessionEvent::Message(publish) => return self.on_message(publish),
            SessionEvent::Lost { error, retry_in } => self.on_lost(&error, retry_in),
            SessionEvent::Closed => return Err(session_ended()),
            SessionEvent::TooLarge { size } => return Err(self.too_large(size)),
            SessionEvent::Refused(code) => {
                let refused = mqtt::refused(code);
                let hint = format!(
                    "{}\nsent: {}",
                    refused.hint().unwrap_or_default(),
                    self.plan.credentials
                );
                return Err(refused.with_hint(hint));
            }
        }
        .map(|()| false)
    }

    /// A push over `--max-payload` arrived: stop (retrying would fetch it again and again).
    fn too_large(&self, size: usize) -> Error {
        let persistent = if self.args.clean {
            ""
        } else {
            "; the broker keeps offering it to this persistent session until it is taken"
        };
        Error::new(
            ExitKind::Network,
            format!(
                "a push of {} arrived on {} after {} printed, over --max-payload ({}): \
                 stopped without taking it",
                mqtt::size_words(size),
                self.plan.topic,
                plural(self.tally.pushes, "push", "pushes"),
                mqtt::size_words(self.args.max_payload)
            ),
        )
        .with_hint(format!(
            "raise --max-payload (up to 255MiB, MQTT's own limit){persistent}"
        ))
    }

    fn on_connected(&mut self, client: &AsyncClient, session_present: bool) -> Result<()> {
        let s = &self.plan.settings;
        eprintln!("connected to {}:{} as {}", s.host, s.port, s.client_id);
        self.tally.connected_at = Some(Instant::now());
        // rumqttc drops queued requests after a CONNACK without a session: subscribe again.
        if !session_present || self.tally.reconnects == 0 {
            let qos = if self.plan.qos == Qos::AtMostOnce {
                QoS::AtMostOnce
            } else {
                QoS::AtLeastOnce
            };
            client
                .try_subscribe(self.plan.topic.clone(), qos)
                .map_err(|e| Error::new(ExitKind::Network, format!("cannot subscribe: {e}")))?;
        }
        Ok(())
    }

    fn on_subscribed(&mut self, codes: &[SubscribeReasonCode]) -> Result<()> {
        match codes.first() {
            Some(SubscribeReasonCode::Success(granted)) => {
                let granted = *granted as u8;
                let asked = self.plan.qos.level();
                let note = if granted < asked {
                    format!(" (asked for {asked}; the broker lowered it)")
                } else {
                    String::new()
                };
                eprintln!("subscribed to {} with QoS {granted}{note}", self.plan.topic);
                Ok(())
            }
            _ => Err(Error::new(
                ExitKind::Refused,
                format!("the broker refused the subscription to {}", self.plan.topic),
            )
            .with_hint(format!(
                "a client may subscribe only to its own topic users/{}/devices",
                self.plan.settings.app_id
            ))),
        }
    }

    fn on_lost(&mut self, error: &Error, retry_in: Duration) -> Result<()> {
        self.acks.forget();
        let Some(connected_at) = self.tally.connected_at.take() else {
            if self.tally.reconnects == 0 && self.tally.pushes == 0 {
                let s = &self.plan.settings;
                return Err(Error::new(
                    error.kind(),
                    format!("cannot connect to {}:{}: {error}", s.host, s.port),
                )
                .with_hint(
                    error
                        .hint()
                        .unwrap_or("check --host and --port (or SENSORO_HOST / SENSORO_PORT)"),
                ));
            }
            eprintln!(
                "still cannot connect: {error}; retrying in {}",
                seconds(retry_in)
            );
            return Ok(());
        };
        self.tally.reconnects += 1;
        if connected_at.elapsed() < KICK_WINDOW {
            self.tally.quick_kicks += 1;
        } else {
            self.tally.quick_kicks = 0;
        }
        eprintln!(
            "connection lost: {error}; retrying in {}",
            seconds(retry_in)
        );
        if self.tally.quick_kicks == KICKS_BEFORE_WARNING {
            eprintln!(
                "warning: the connection keeps dropping right after connecting: another client \
                 probably uses the same clientId ({}); give each client its own",
                self.plan.settings.client_id
            );
        }
        Ok(())
    }

    fn on_message(&mut self, publish: Publish) -> Result<bool> {
        let reading = self.reader.read(&publish.payload);
        if !passes_filters(self.args, &reading) {
            self.acks.written(&publish);
            return Ok(false);
        }
        if let Reading::Push(push) = &reading {
            if push.safe_mode == SafeMode::NoKey && !self.tally.warned_no_key {
                self.tally.warned_no_key = true;
                eprintln!(
                    "warning: safe-mode pushes arrive but no AppKey is set; they are shown \
                     encrypted (set SENSORO_APP_KEY or the profile's app_key)"
                );
            }
            if let Some(sn) = push.str_field("sn") {
                if !self.tally.devices.contains(sn.as_ref()) {
                    self.tally.devices.insert(sn.into_owned());
                }
            }
        }
        let received = Received {
            bytes: &publish.payload,
            reading,
            topic: &publish.topic,
            qos: publish.qos as u8,
            retain: publish.retain,
            dup: publish.dup,
            received_at: chrono::Local::now().fixed_offset(),
        };
        self.printer.write(&received)?;
        self.acks.written(&publish);
        self.tally.pushes += 1;
        Ok(self.args.count.is_some_and(|n| self.tally.pushes >= n))
    }

    /// Flushes output, then acknowledges what was written.
    fn flush_and_ack(&mut self, client: &AsyncClient) -> Result<()> {
        self.printer.flush()?;
        self.acks.flushed();
        self.acks.send(client);
        Ok(())
    }

    /// Before leaving: hands over every owed acknowledgement, then DISCONNECT, and waits for
    /// it to be written (bounded). Pushes arriving meanwhile are not printed, so they stay
    /// unacknowledged and the broker keeps them for a persistent session.
    async fn settle(&mut self, client: &AsyncClient, events: &mut mpsc::Receiver<SessionEvent>) {
        let give_up = tokio::time::Instant::now() + SETTLE_LIMIT;
        let mut disconnecting = false;
        loop {
            self.acks.send(client);
            if !disconnecting && self.acks.owed() == 0 {
                disconnecting = client.try_disconnect().is_ok();
            }
            let event = tokio::select! {
                event = events.recv() => event,
                () = tokio::time::sleep(ACK_RETRY), if self.acks.owed() > 0 || !disconnecting => {
                    continue
                }
                () = tokio::time::sleep_until(give_up) => return,
            };
            match event {
                None | Some(SessionEvent::Closed | SessionEvent::Refused(_)) => return,
                Some(SessionEvent::Lost { .. }) => {
                    self.acks.forget();
                    return;
                }
                Some(_) => {}
            }
        }
    }

    fn finish(mut self, stop: &Stop) -> Result<()> {
        self.printer.flush()?;
        let t = &self.tally;
        let summary = Summary {
            pushes: t.pushes,
            devices: t.devices.len(),
            elapsed: t.started.elapsed(),
            reconnects: t.reconnects,
        };
        // A terminal echoed ^C where the cursor was: start the summary on a line of its own.
        let fresh_line = matches!(stop, Stop::Signal) && io::stderr().is_terminal();
        eprint!("{}", summary.line(fresh_line));
        match (stop, self.args.count) {
            (Stop::Timeout, Some(count)) if t.pushes < count => Err(Error::new(
                ExitKind::Timeout,
                format!(
                    "timed out after {} pushes of the {count} asked for",
                    t.pushes
                ),
            )),
            _ => Ok(()),
        }
    }
}

/// True when the push passes `--sn`, `--device-type` and `--type` (each a set of wanted
/// values; an empty set passes everything). A payload that is not a push passes only when
/// no filter is set.
fn passes_filters(args: &ListenArgs, reading: &Reading<'_>) -> bool {
    if args.sn.is_empty() && args.device_type.is_empty() && args.r#type.is_empty() {
        return true;
    }
    let Reading::Push(push) = reading else {
        return false;
    };
    let field_in = |name: &str, wanted: &[String]| {
        wanted.is_empty()
            || push
                .str_field(name)
                .is_some_and(|v| wanted.iter().any(|w| *w == v))
    };
    field_in("sn", &args.sn)
        && field_in("deviceType", &args.device_type)
        && field_in("type", &args.r#type)
}

/// The event-loop task stopped while the session was still wanted.
fn session_ended() -> Error {
    Error::new(ExitKind::Network, "the MQTT session ended unexpectedly")
}

/// `1 push`, `2 pushes`.
fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn seconds(d: Duration) -> String {
    format!("{:.1}s", d.as_secs_f64())
}

async fn sleep_until(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

#[cfg(unix)]
fn terminate_signal() -> Result<tokio::signal::unix::Signal> {
    use tokio::signal::unix::{signal, SignalKind};
    signal(SignalKind::terminate()).map_err(|e| Error::io("cannot watch SIGTERM", &e))
}
