//! The pretty renderer: sensor pushes a person can read at a glance.
//!
//! It exists so `listen --format pretty` and `decrypt` on a terminal can show a push as a
//! header (receive time, device, type, creation time, safe-mode state) followed by readings
//! with units, alarms marked in words as well as colour, and every other field shown
//! generically — nothing is dropped.
//!
//! It is a pure function from a payload to text appended to a `String`. It must never write to
//! stdout, look at the terminal or the environment, know about MQTT or the CLI, or panic on
//! any input. Text from a push is always escaped, so a payload cannot inject terminal escape
//! sequences, and with `color: false` the output contains no escape byte at all.

mod created;
mod doc;
mod fields;
mod header;
mod layout;
mod text;
mod theme;
mod values;

use chrono::{DateTime, FixedOffset};

pub use theme::{DeviceColors, Palette};

/// Narrower terminals than this are laid out as if they had this many columns.
pub const MIN_WIDTH: usize = 20;
/// The width when the terminal's is unknown.
pub const DEFAULT_WIDTH: usize = 80;

/// How [`render`] lays a push out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PrettyOptions {
    /// Emit ANSI colours and attributes. When false, the output has no escape sequences.
    pub color: bool,
    /// Columns available; lines never exceed it (values below [`MIN_WIDTH`] count as that).
    pub width: usize,
    /// Never wrap or shorten: each logical line stays whole however long it is.
    pub wide: bool,
    /// One line per push (header then `key=value` items), for high-rate streams.
    pub compact: bool,
    /// The colours devices are told apart by (when `color` is on).
    pub palette: Palette,
}

impl Default for PrettyOptions {
    /// No colour, 80 columns, wrapped, one block per push, the basic palette.
    fn default() -> Self {
        PrettyOptions {
            color: false,
            width: DEFAULT_WIDTH,
            wide: false,
            compact: false,
            palette: Palette::Basic,
        }
    }
}

/// What became of a push's safe-mode encryption before it reached the renderer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SafeModeView<'a> {
    /// Not decrypted by us: either sent in clear, or (if it still has `encryptData`) there was
    /// no AppKey to decrypt it with.
    Plain,
    /// Its `encryptData` was decrypted into `data`.
    Decrypted,
    /// Decryption was attempted and failed.
    Failed {
        /// Why, in the user's terms (e.g. "invalid padding: the AppKey is probably wrong").
        reason: &'a str,
    },
}

/// One received MQTT payload, as far as it could be understood.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum PayloadView<'a> {
    /// A JSON payload: normally an object (a push), but any value is rendered.
    Push {
        /// The parsed payload.
        push: &'a serde_json::Value,
        /// What happened to its encryption.
        safe_mode: SafeModeView<'a>,
    },
    /// A payload that is not JSON (or not UTF-8).
    NotJson {
        /// The bytes as received.
        payload: &'a [u8],
        /// Why it could not be parsed.
        error: &'a str,
    },
}

/// A renderer for a stream of pushes: like [`render`], and it remembers which colours the
/// devices seen so far have, so the first devices of a stream get distinct ones.
#[derive(Debug, Clone)]
pub struct Renderer {
    options: PrettyOptions,
    devices: DeviceColors,
}

impl Renderer {
    /// A renderer that has seen no device yet.
    #[must_use]
    pub fn new(options: PrettyOptions) -> Self {
        Renderer {
            options,
            devices: DeviceColors::new(options.palette),
        }
    }

    /// Appends the rendering of `view`, received at `received`, to `out`.
    pub fn render(
        &mut self,
        out: &mut String,
        view: &PayloadView<'_>,
        received: DateTime<FixedOffset>,
    ) {
        render_with(out, view, received, &self.options, &mut self.devices);
    }
}

/// Appends the rendering of `view`, received at `received`, to `out`; a device gets the
/// colour of its sn alone (see [`Renderer`] for a stream).
///
/// Times are shown in `received`'s offset. Every line, the last included, ends with `\n`.
pub fn render(
    out: &mut String,
    view: &PayloadView<'_>,
    received: DateTime<FixedOffset>,
    opts: &PrettyOptions,
) {
    render_with(
        out,
        view,
        received,
        opts,
        &mut DeviceColors::new(opts.palette),
    );
}

fn render_with(
    out: &mut String,
    view: &PayloadView<'_>,
    received: DateTime<FixedOffset>,
    opts: &PrettyOptions,
    devices: &mut DeviceColors,
) {
    let doc = doc::build(view, received, devices);
    let frame = layout::Frame {
        width: if opts.wide {
            usize::MAX
        } else {
            opts.width.max(MIN_WIDTH)
        },
        color: opts.color,
    };
    if opts.compact {
        layout::compact(out, &doc, frame);
    } else {
        layout::block(out, &doc, frame);
    }
}
