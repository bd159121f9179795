//! `watch`: the live device dashboard. Orchestration only: settings come from
//! [`super::plan`] (as listen's do), the session from [`crate::watch::feed`], the state,
//! drawing and loop from [`crate::watch`]. This file owns the terminal: raw mode and the
//! alternate screen are entered here and left on every way out (quit, signal, error, panic).

use std::io::{self, IsTerminal as _, Write as _};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Once};
use std::time::{Duration, Instant};

use ratatui::backend::CrosstermBackend;
use ratatui::crossterm::event::{self, Event};
use ratatui::crossterm::terminal::{
    disable_raw_mode, enable_raw_mode, EnterAlternateScreen, LeaveAlternateScreen,
};
use ratatui::crossterm::{cursor, execute};
use ratatui::Terminal;
use tokio::sync::mpsc;

use super::plan::{self, Plan, PlanInputs};
use crate::catalog;
use crate::cli::WatchArgs;
use crate::config::Env;
use crate::crypto::{AppKey, SafeModeCodec};
use crate::error::{Error, ExitKind, Result};
use crate::output::summary::Summary;
use crate::output::ColorChoice;
use crate::push::PushReader;
use crate::watch::app::{App, Outcome};
use crate::watch::feed::{Feed, FeedSettings};
use crate::watch::model::{Connection, Model};

/// How often the key reader looks up from waiting, to notice that watch is leaving.
const KEY_POLL: Duration = Duration::from_millis(50);

/// Runs `watch`.
pub fn run(args: &WatchArgs, env: Env) -> Result<()> {
    if !io::stdout().is_terminal() || !io::stdin().is_terminal() {
        return Err(
            Error::usage("watch needs a terminal (stdin and stdout)").with_hint(
                "to read pushes in a script or a pipe, use `sensoro-mqtt listen --format json`",
            ),
        );
    }
    let runtime = super::runtime(1)?;
    runtime.block_on(watch(args, env))
}

async fn watch(args: &WatchArgs, env: Env) -> Result<()> {
    let inputs = PlanInputs {
        conn: &args.conn,
        clean: args.clean,
        max_payload: args.max_payload,
    };
    let demo = if args.demo {
        Some(plan::start_demo(catalog::DEVICES.len()).await?)
    } else {
        None
    };
    let plan = match &demo {
        Some(handle) => Ok(plan::demo_plan(&inputs, handle)),
        None => plan::resolve_plan(&inputs, env),
    };
    let result = match plan {
        Ok(plan) => run_dashboard(args, &plan).await,
        Err(err) => Err(err),
    };
    if let Some(handle) = demo {
        handle.shutdown().await;
    }
    result
}

async fn run_dashboard(args: &WatchArgs, plan: &Plan) -> Result<()> {
    let codec = match &plan.app_key {
        Some(key) => Some(SafeModeCodec::new(&AppKey::parse(key.expose())?)),
        None => None,
    };
    let reader = PushReader::new(codec, Some(plan.settings.app_id.clone()), true);
    let no_color = std::env::var("NO_COLOR").ok();
    let color = ColorChoice::from(args.color).enabled(true, no_color.as_deref());
    let started = Instant::now();
    let mut app = App::new(Model::new(started), reader, color);
    let mut feed = Feed::start(FeedSettings {
        session: plan.settings.clone(),
        topic: plan.topic.clone(),
        qos: plan.qos,
    });

    let guard = TerminalGuard::enter()?;
    let (keys, key_thread, leaving) = spawn_key_reader();
    let mut keys = keys;
    let outcome = match Terminal::new(CrosstermBackend::new(io::stdout())) {
        Ok(mut terminal) => {
            let mut inputs = std::mem::replace(&mut feed.inputs, mpsc::channel(1).1);
            let result = app
                .run(
                    &mut terminal,
                    &mut inputs,
                    &mut keys,
                    |tokens| feed.acknowledge(tokens),
                    signalled(),
                )
                .await;
            feed.inputs = inputs;
            result
        }
        Err(e) => Err(Error::io("cannot open the terminal", &e)),
    };
    leaving.store(true, Ordering::Relaxed);
    drop(guard);
    drop(keys);
    let _ = key_thread.join();
    feed.close().await;

    let summary = Summary {
        pushes: app.model.pushes,
        devices: app.model.device_count(),
        elapsed: started.elapsed(),
        reconnects: app.model.reconnects,
    };
    eprint!("{}", summary.line(false));
    match outcome? {
        Outcome::Failed(error) => Err(error),
        Outcome::Ended => Err(Error::new(
            ExitKind::Network,
            "the MQTT session ended unexpectedly",
        )),
        Outcome::Quit | Outcome::Signal => match &app.model.connection {
            Connection::Refused { reason } => Err(Error::new(ExitKind::Refused, reason.clone())
                .with_hint(format!("sent: {}", plan.credentials))),
            _ => Ok(()),
        },
    }
}

/// Resolves on SIGINT or SIGTERM (Ctrl-C in the terminal arrives as a key instead).
async fn signalled() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Reads terminal events on a thread of its own (crossterm's reading blocks) until watch
/// leaves or the receiver is gone.
fn spawn_key_reader() -> (
    mpsc::Receiver<Event>,
    std::thread::JoinHandle<()>,
    Arc<AtomicBool>,
) {
    let (tx, rx) = mpsc::channel(64);
    let leaving = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&leaving);
    let thread = std::thread::spawn(move || {
        while !flag.load(Ordering::Relaxed) {
            match event::poll(KEY_POLL) {
                Ok(true) => match event::read() {
                    Ok(event) => {
                        if tx.blocking_send(event).is_err() {
                            return;
                        }
                    }
                    Err(_) => return,
                },
                Ok(false) => {}
                Err(_) => return,
            }
        }
    });
    (rx, thread, leaving)
}

/// Raw mode, the alternate screen and a hidden cursor while it lives; the terminal as it was
/// after it is dropped, and after a panic.
struct TerminalGuard;

static PANIC_HOOK: Once = Once::new();

impl TerminalGuard {
    fn enter() -> Result<Self> {
        PANIC_HOOK.call_once(|| {
            let previous = std::panic::take_hook();
            std::panic::set_hook(Box::new(move |info| {
                restore_terminal();
                previous(info);
            }));
        });
        enable_raw_mode().map_err(|e| Error::io("cannot put the terminal in raw mode", &e))?;
        let guard = TerminalGuard;
        execute!(io::stdout(), EnterAlternateScreen, cursor::Hide)
            .map_err(|e| Error::io("cannot switch to the alternate screen", &e))?;
        Ok(guard)
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        restore_terminal();
    }
}

fn restore_terminal() {
    let _ = disable_raw_mode();
    let mut stdout = io::stdout();
    let _ = execute!(stdout, LeaveAlternateScreen, cursor::Show);
    let _ = stdout.flush();
}
