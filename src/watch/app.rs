//! Watch's loop: keys change the view, inputs change the model, and the screen is drawn on a
//! tick (at most ten times a second), never per push, so a burst of pushes is taken as fast
//! as it comes and drawing costs the same at 1 push/s and at 50 000.
//!
//! Generic over ratatui's [`Backend`] (as gitui's loop is): the command gives it the real
//! terminal, the tests a `TestBackend` and made-up keys and inputs.

use std::future::Future;
use std::time::{Duration, Instant};

use ratatui::backend::Backend;
use ratatui::crossterm::event::{Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use ratatui::Terminal;
use tokio::sync::mpsc;

use super::feed::{AckToken, WatchInput};
use super::model::Model;
use super::view::{self, ViewState};
use crate::error::{Error, ExitKind, Result};
use crate::push::PushReader;

/// Time between two draws.
pub const FRAME: Duration = Duration::from_millis(100);
/// Inputs taken in one go before the loop looks at keys and the clock again.
const BATCH: usize = 4096;

/// What a key asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control {
    /// Go on.
    Continue,
    /// Leave watch.
    Quit,
}

/// Why the loop ended.
#[derive(Debug)]
pub enum Outcome {
    /// `q`, Esc or Ctrl-C.
    Quit,
    /// SIGINT or SIGTERM.
    Signal,
    /// The session failed for good.
    Failed(Error),
    /// The inputs ended.
    Ended,
}

/// The model, the view state and the reader that turns payloads into pushes.
pub struct App {
    /// The devices and the connection.
    pub model: Model,
    /// What is shown.
    pub view: ViewState,
    reader: PushReader,
    /// Device rows per page, from the last draw.
    page: usize,
}

impl App {
    /// An app over `model`, reading payloads with `reader` (which holds the safe-mode codec).
    #[must_use]
    pub fn new(model: Model, reader: PushReader, color: bool) -> Self {
        App {
            model,
            view: ViewState {
                color,
                ..ViewState::default()
            },
            reader,
            page: 10,
        }
    }

    /// The model the app shows.
    #[must_use]
    pub fn model(&self) -> &Model {
        &self.model
    }

    /// Takes one input; returns the tokens to acknowledge, or the session's final error.
    pub fn on_input(&mut self, input: WatchInput) -> std::result::Result<Vec<AckToken>, Error> {
        let mut acks = Vec::new();
        self.take_one(input, &mut acks)?;
        Ok(acks)
    }

    /// Takes one input, adding each push's token to `acks` once it is in the model.
    fn take_one(
        &mut self,
        input: WatchInput,
        acks: &mut Vec<AckToken>,
    ) -> std::result::Result<(), Error> {
        match input {
            WatchInput::Push {
                payload,
                received_at,
                ack,
            } => {
                let reading = self.reader.read(&payload);
                self.model.ingest(&reading, received_at);
                acks.push(ack);
            }
            WatchInput::Pushes(pushes) => {
                for (payload, _) in pushes.iter() {
                    let reading = self.reader.read(payload);
                    self.model.ingest(&reading, pushes.received_at);
                }
                if acks.is_empty() {
                    // The tokens of the pushes just taken, in their own vector: no copy.
                    *acks = pushes.acks;
                } else {
                    acks.extend_from_slice(&pushes.acks);
                }
            }
            WatchInput::Connection(state) => self.model.set_connection(state),
            WatchInput::Failed(error) => return Err(error),
        }
        Ok(())
    }

    /// Handles a terminal event (keys; a resize only needs the next draw).
    pub fn on_event(&mut self, event: &Event, now: Instant) -> Control {
        match event {
            Event::Key(key) if key.kind != KeyEventKind::Release => self.on_key(*key, now),
            _ => Control::Continue,
        }
    }

    /// Handles one key.
    pub fn on_key(&mut self, key: KeyEvent, now: Instant) -> Control {
        if key.modifiers.contains(KeyModifiers::CONTROL) && key.code == KeyCode::Char('c') {
            return Control::Quit;
        }
        let view = &mut self.view;
        if view.editing_filter {
            match key.code {
                KeyCode::Enter => view.editing_filter = false,
                KeyCode::Esc => {
                    view.filter.clear();
                    view.editing_filter = false;
                }
                KeyCode::Backspace => {
                    view.filter.pop();
                }
                KeyCode::Char(c) => {
                    view.filter.push(c);
                    view.selected = 0;
                }
                _ => {}
            }
            return Control::Continue;
        }
        if view.help {
            match key.code {
                KeyCode::Char('q') => return Control::Quit,
                KeyCode::Char('?') | KeyCode::Esc => view.help = false,
                _ => {}
            }
            return Control::Continue;
        }
        if view.detail.is_some() {
            match key.code {
                KeyCode::Char('q') => return Control::Quit,
                KeyCode::Esc | KeyCode::Backspace | KeyCode::Left | KeyCode::Char('h') => {
                    view.detail = None;
                }
                KeyCode::Char('?') => view.help = true,
                _ => {}
            }
            return Control::Continue;
        }
        self.on_table_key(key, now)
    }

    fn on_table_key(&mut self, key: KeyEvent, now: Instant) -> Control {
        let rows = self
            .model
            .rows(now, self.view.sort, &self.view.filter)
            .len();
        let last = rows.saturating_sub(1);
        let view = &mut self.view;
        let selected = view.selected.min(last);
        match key.code {
            KeyCode::Char('q') | KeyCode::Esc => return Control::Quit,
            KeyCode::Char('/') => view.editing_filter = true,
            KeyCode::Char('?') => view.help = true,
            KeyCode::Char('s') => view.sort = view.sort.next(),
            KeyCode::Down | KeyCode::Char('j') => view.selected = (selected + 1).min(last),
            KeyCode::Up | KeyCode::Char('k') => view.selected = selected.saturating_sub(1),
            KeyCode::PageDown => view.selected = (selected + self.page).min(last),
            KeyCode::PageUp => view.selected = selected.saturating_sub(self.page),
            KeyCode::Home | KeyCode::Char('g') => view.selected = 0,
            KeyCode::End | KeyCode::Char('G') => view.selected = last,
            KeyCode::Enter | KeyCode::Right | KeyCode::Char('l') => {
                let sn = self
                    .model
                    .rows(now, view.sort, &view.filter)
                    .get(selected)
                    .map(|device| device.sn.clone());
                view.detail = sn;
            }
            _ => {}
        }
        Control::Continue
    }

    /// Draws the screen as it is at `now`.
    ///
    /// # Errors
    /// When the terminal cannot be written.
    pub fn draw<B: Backend>(&mut self, terminal: &mut Terminal<B>, now: Instant) -> Result<()> {
        let mut page = self.page;
        terminal
            .draw(|frame| {
                page = view::table_page(frame.area().height);
                view::draw(frame, &self.model, &self.view, now);
            })
            .map_err(|e| Error::new(ExitKind::Failure, format!("cannot draw the screen: {e}")))?;
        self.page = page;
        Ok(())
    }

    /// Runs until a key quits, `stop` resolves (a signal), the session fails or the inputs
    /// end. The tokens of the pushes taken are handed to `acknowledge` together, right
    /// after each round of inputs (one message to the feed, one write of PUBACKs).
    ///
    /// # Errors
    /// When the terminal cannot be written.
    pub async fn run<B: Backend>(
        &mut self,
        terminal: &mut Terminal<B>,
        inputs: &mut mpsc::Receiver<WatchInput>,
        keys: &mut mpsc::Receiver<Event>,
        mut acknowledge: impl FnMut(Vec<AckToken>),
        stop: impl Future<Output = ()>,
    ) -> Result<Outcome> {
        let mut tick = tokio::time::interval(FRAME);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        tokio::pin!(stop);
        let mut keys_open = true;
        loop {
            tokio::select! {
                biased;
                () = &mut stop => return Ok(Outcome::Signal),
                key = keys.recv(), if keys_open => match key {
                    Some(event) => {
                        if self.on_event(&event, Instant::now()) == Control::Quit {
                            return Ok(Outcome::Quit);
                        }
                        self.draw(terminal, Instant::now())?;
                    }
                    None => keys_open = false,
                },
                _ = tick.tick() => self.draw(terminal, Instant::now())?,
                input = inputs.recv() => {
                    let Some(input) = input else {
                        return Ok(Outcome::Ended);
                    };
                    if let Err(error) = self.take(input, inputs, &mut acknowledge) {
                        return Ok(Outcome::Failed(error));
                    }
                }
            }
        }
    }

    /// Takes `first` and whatever else is already waiting (up to [`BATCH`]).
    fn take(
        &mut self,
        first: WatchInput,
        inputs: &mut mpsc::Receiver<WatchInput>,
        acknowledge: &mut impl FnMut(Vec<AckToken>),
    ) -> std::result::Result<(), Error> {
        let mut acks = Vec::new();
        let mut outcome = self.take_one(first, &mut acks);
        for _ in 1..BATCH {
            if outcome.is_err() {
                break;
            }
            match inputs.try_recv() {
                Ok(input) => outcome = self.take_one(input, &mut acks),
                Err(_) => break,
            }
        }
        // What is in the model is acknowledged, also when the session then failed.
        if !acks.is_empty() {
            acknowledge(acks);
        }
        outcome
    }
}
