//! `listen`: subscribe to `users/<AppID>/devices` and print every push.
//!
//! Orchestration only: settings are resolved here, the session lives in [`crate::mqtt`], the
//! printing in [`crate::output::printer`]. A push is acknowledged (QoS 1) only after it has
//! been flushed to stdout and the output file.

use std::collections::HashSet;
use std::io::{self, IsTerminal as _};
use std::time::{Duration, Instant};

use rumqttc::mqttbytes::QoS;

use crate::cli::{FormatArg, ListenArgs};
use crate::config::{Env, Qos};
use crate::crypto::{AppKey, SafeModeCodec};
use crate::error::{Error, ExitKind, Result};
use crate::mqtt::session::{AckToken, Event, Message, Messages, Session, SessionEnd};
use crate::mqtt::{self, Backoff};
use crate::output::pretty::PrettyOptions;
use crate::output::printer::{OutputFormat, Printer, Received};
use crate::output::sink::{Chunk, Sink, Written};
use crate::output::summary::Summary;
use crate::output::terminal;
use crate::output::ColorChoice;
use crate::push::{PushReader, PushRef, Reading, SafeMode};

use super::plan::{self, Plan, PlanInputs};

/// A connection lost this soon after CONNACK counts as "kicked".
const KICK_WINDOW: Duration = Duration::from_secs(3);
/// The longest wait, when leaving after `--count` or `--timeout`, for the output and the
/// acknowledgements and DISCONNECT to go out.
const SETTLE_LIMIT: Duration = Duration::from_secs(5);
/// After a signal, what is not out by then is left (PRODUCT.md: signals obeyed within
/// 200 ms; the rest of the budget is the summary and the exit).
const SIGNAL_BUDGET: Duration = Duration::from_millis(150);
/// Kicks in a row before warning about a duplicate clientId.
const KICKS_BEFORE_WARNING: u32 = 3;

/// Runs `listen`.
pub fn run(args: &ListenArgs, env: Env) -> Result<()> {
    let runtime = super::runtime(1)?;
    runtime.block_on(listen(args, env))
}

async fn listen(args: &ListenArgs, env: Env) -> Result<()> {
    let inputs = PlanInputs {
        conn: &args.conn,
        clean: args.clean,
        max_payload: args.max_payload,
    };
    let demo = if args.demo {
        Some(plan::start_demo(plan::LISTEN_DEMO_DEVICES).await?)
    } else {
        None
    };
    let plan = match &demo {
        Some(handle) => plan::demo_plan(&inputs, handle),
        None => plan::resolve_plan(&inputs, env)?,
    };
    let result = run_session(args, &plan).await;
    if let Some(handle) = demo {
        handle.shutdown().await;
    }
    result
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
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stop {
    Count,
    Timeout,
    Signal,
}

/// One chunk of output and the acknowledgements it releases once written.
type OutputChunk = Chunk<Vec<AckToken>>;

async fn run_session(args: &ListenArgs, plan: &Plan) -> Result<()> {
    let codec = match &plan.app_key {
        Some(key) => Some(SafeModeCodec::new(&AppKey::parse(key.expose())?)),
        None => None,
    };
    let mut signals = Signals::new()?;
    let mut run = Run::new(args, plan, codec)?;
    let qos = if plan.qos == Qos::AtMostOnce {
        QoS::AtMostOnce
    } else {
        QoS::AtLeastOnce
    };
    let backoff = Backoff::new(Duration::from_millis(500), Duration::from_secs(30));
    let mut session = Session::new(plan.settings.clone(), plan.topic.clone(), qos, backoff);
    let stop = run.drive(&mut session, &mut signals).await;
    let leaving = match &stop {
        Ok(Stop::Signal) => Leaving::Signal,
        Ok(_) => Leaving::Done,
        Err(_) => Leaving::Failed,
    };
    run.leave(&mut session, &mut signals, leaving).await;
    run.finish(stop?)
}

/// How the loop ended, for [`Run::leave`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Leaving {
    /// Count or timeout: everything owed is written and acknowledged (bounded).
    Done,
    /// A signal: what is not out within the signal rule's time is left.
    Signal,
    /// An error: the output is written (bounded), nothing is owed to a broker that is gone.
    Failed,
}

/// SIGINT and SIGTERM, watched from the start so that neither ever kills the process
/// without its summary.
struct Signals {
    interrupt: tokio::signal::unix::Signal,
    terminate: tokio::signal::unix::Signal,
}

impl Signals {
    fn new() -> Result<Self> {
        use tokio::signal::unix::{signal, SignalKind};
        let watch = |kind| signal(kind).map_err(|e| Error::io("cannot watch signals", &e));
        Ok(Signals {
            interrupt: watch(SignalKind::interrupt())?,
            terminate: watch(SignalKind::terminate())?,
        })
    }

    /// The next SIGINT or SIGTERM (cancel-safe).
    async fn recv(&mut self) {
        tokio::select! {
            _ = self.interrupt.recv() => {}
            _ = self.terminate.recv() => {}
        }
    }
}

/// One listen run: its settings, reader, printer, output and counters.
struct Run<'a> {
    args: &'a ListenArgs,
    plan: &'a Plan,
    reader: PushReader,
    printer: Printer,
    sink: Sink<Vec<AckToken>>,
    spare: Vec<OutputChunk>,
    tally: Tally,
    /// `--count` was reached: no more pushes are taken.
    counted: bool,
    /// Writing the output failed (a closed pipe ends listen quietly).
    output_error: Option<io::Error>,
}

impl<'a> Run<'a> {
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
        let to_file = file.is_some();
        let sink = Sink::start(stdout, file)
            .map_err(|e| Error::io("cannot start the output writer", &e))?;
        Ok(Run {
            args,
            plan,
            reader: PushReader::new(codec, Some(plan.settings.app_id.clone()), true),
            printer: Printer::new(format, args.envelope, to_file, pretty),
            sink,
            spare: Vec::new(),
            tally: Tally {
                started: Instant::now(),
                pushes: 0,
                devices: HashSet::new(),
                reconnects: 0,
                connected_at: None,
                quick_kicks: 0,
                warned_no_key: false,
            },
            counted: false,
            output_error: None,
        })
    }

    /// Takes pushes until `--count`, `--timeout`, a signal or an error. Reading stops while
    /// the output is full, so a slow reader of stdout holds the backlog on the broker.
    async fn drive(&mut self, session: &mut Session, signals: &mut Signals) -> Result<Stop> {
        let deadline = self.args.timeout.map(|d| tokio::time::Instant::now() + d);
        loop {
            if self.counted && self.sink.in_flight() == 0 {
                session.flush().await;
                return Ok(Stop::Count);
            }
            let taking = !self.counted && self.sink.has_room();
            tokio::select! {
                biased;
                () = signals.recv() => return Ok(Stop::Signal),
                () = sleep_until(deadline) => return Ok(Stop::Timeout),
                Some(written) = self.sink.written(), if self.sink.in_flight() > 0 => {
                    self.on_written(written, session)?;
                }
                event = session.next(), if taking => match event {
                    Ok(event) => self.handle(event)?,
                    Err(end) => return Err(self.ended(end)),
                },
            }
            if session.has_outgoing() {
                tokio::select! {
                    biased;
                    () = signals.recv() => return Ok(Stop::Signal),
                    () = session.flush() => {}
                }
            }
        }
    }

    /// Handles one session event.
    fn handle(&mut self, event: Event<'_>) -> Result<()> {
        match event {
            Event::Connected { .. } => self.on_connected(),
            Event::Subscribed { granted } => self.on_subscribed(granted),
            Event::Messages(messages) => self.on_messages(messages),
            Event::Lost {
                error,
                retry_in,
                was_connected,
            } => self.on_lost(&error, retry_in, was_connected),
        }
    }

    /// The session ended for good: a refusal or a push too large.
    fn ended(&self, end: SessionEnd) -> Error {
        match end {
            SessionEnd::Refused(code) => {
                let refused = mqtt::refused(code);
                let hint = format!(
                    "{}\nsent: {}",
                    refused.hint().unwrap_or_default(),
                    self.plan.credentials
                );
                refused.with_hint(hint)
            }
            SessionEnd::TooLarge(size) => self.too_large(size),
        }
    }

    /// A chunk is out: its pushes may be acknowledged.
    fn on_written(&mut self, written: Written<Vec<AckToken>>, session: &mut Session) -> Result<()> {
        let Written { mut chunk, result } = written;
        if let Err(err) = result {
            return Err(Error::io("cannot write the output", &err));
        }
        for token in chunk.tag.drain(..) {
            session.ack(token);
        }
        chunk.out.clear();
        chunk.file.clear();
        self.spare.push(chunk);
        Ok(())
    }

    /// Before leaving: the output that is on its way is written and acknowledged, then
    /// DISCONNECT — within the signal rule's time after a signal, and at once on a second.
    async fn leave(&mut self, session: &mut Session, signals: &mut Signals, leaving: Leaving) {
        let budget = match leaving {
            Leaving::Signal => SIGNAL_BUDGET,
            Leaving::Done | Leaving::Failed => SETTLE_LIMIT,
        };
        let deadline = tokio::time::Instant::now() + budget;
        while self.sink.in_flight() > 0 {
            let written = tokio::select! {
                biased;
                () = signals.recv() => return,
                () = tokio::time::sleep_until(deadline) => break,
                written = self.sink.written() => written,
            };
            let Some(written) = written else { break };
            if let Err(err) = self.on_written(written, session) {
                self.output_error
                    .get_or_insert(io::Error::other(err.message().to_owned()));
                break;
            }
        }
        if leaving == Leaving::Failed || !session.is_connected() {
            return;
        }
        tokio::select! {
            biased;
            () = signals.recv() => {}
            () = tokio::time::sleep_until(deadline) => {}
            () = session.disconnect() => {}
        }
    }

    fn on_connected(&mut self) -> Result<()> {
        let s = &self.plan.settings;
        eprintln!("connected to {}:{} as {}", s.host, s.port, s.client_id);
        self.tally.connected_at = Some(Instant::now());
        Ok(())
    }

    fn on_subscribed(&mut self, granted: Option<u8>) -> Result<()> {
        let Some(granted) = granted else {
            return Err(Error::new(
                ExitKind::Refused,
                format!("the broker refused the subscription to {}", self.plan.topic),
            )
            .with_hint(format!(
                "a client may subscribe only to its own topic users/{}/devices",
                self.plan.settings.app_id
            )));
        };
        let asked = self.plan.qos.level();
        let note = if granted < asked {
            format!(" (asked for {asked}; the broker lowered it)")
        } else {
            String::new()
        };
        eprintln!("subscribed to {} with QoS {granted}{note}", self.plan.topic);
        Ok(())
    }

    /// Renders a batch of pushes into one chunk for the output; their acknowledgements go
    /// with it. After `--count`, the rest of the batch is neither printed nor acknowledged.
    fn on_messages(&mut self, messages: Messages<'_>) -> Result<()> {
        let mut chunk = self.spare.pop().unwrap_or_default();
        let received_at = self
            .printer
            .wants_time()
            .then(|| chrono::Local::now().fixed_offset());
        for Message { publish, ack } in messages {
            if self.counted {
                break;
            }
            let reading = self.reader.read(publish.payload);
            if passes_filters(self.args, &reading) {
                if let Reading::Push(push) = &reading {
                    self.tally.note_push(push);
                }
                let received = Received {
                    bytes: publish.payload,
                    reading,
                    topic: std::str::from_utf8(publish.topic).unwrap_or("(not UTF-8)"),
                    qos: publish.qos,
                    retain: publish.retain,
                    dup: publish.dup,
                    received_at,
                };
                self.printer
                    .render(&received, &mut chunk.out, &mut chunk.file);
                self.tally.pushes += 1;
                self.counted = self.args.count.is_some_and(|n| self.tally.pushes >= n);
            }
            chunk.tag.extend(ack);
        }
        if chunk.out.is_empty() && chunk.file.is_empty() && chunk.tag.is_empty() {
            self.spare.push(chunk);
            return Ok(());
        }
        self.sink
            .send(chunk)
            .map_err(|e| Error::io("cannot write the output", &e))
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

    fn on_lost(&mut self, error: &Error, retry_in: Duration, was_connected: bool) -> Result<()> {
        let connected_at = self.tally.connected_at.take();
        if !was_connected {
            if self.tally.reconnects == 0 && connected_at.is_none() && self.tally.pushes == 0 {
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
        }
        self.tally.reconnects += 1;
        if connected_at.is_some_and(|at| at.elapsed() < KICK_WINDOW) {
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

    fn finish(mut self, stop: Stop) -> Result<()> {
        let t = &self.tally;
        let summary = Summary {
            pushes: t.pushes,
            devices: t.devices.len(),
            elapsed: t.started.elapsed(),
            reconnects: t.reconnects,
        };
        // A terminal echoed ^C where the cursor was: start the summary on a line of its own.
        let fresh_line = stop == Stop::Signal && io::stderr().is_terminal();
        eprint!("{}", summary.line(fresh_line));
        if let Some(err) = self.output_error.take() {
            return Err(Error::io("cannot write the output", &err));
        }
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

impl Tally {
    /// Counts the device of a printed push and warns once about unopened safe-mode pushes.
    fn note_push(&mut self, push: &PushRef<'_>) {
        if push.safe_mode == SafeMode::NoKey && !self.warned_no_key {
            self.warned_no_key = true;
            eprintln!(
                "warning: safe-mode pushes arrive but no AppKey is set; they are shown \
                 encrypted (set SENSORO_APP_KEY or the profile's app_key)"
            );
        }
        if let Some(sn) = push.str_field("sn") {
            if !self.devices.contains(sn.as_ref()) {
                self.devices.insert(sn.into_owned());
            }
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
