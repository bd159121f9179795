//! Styling for the human-readable renderers, on the `colored` crate's colour model.
//!
//! It exists so a renderer can say *what* a piece of text is (a [`Style`]) and decide *whether*
//! to emit escape codes at the last moment, per call. `colored` supplies the colours (the 16
//! basic ones and the 256-colour `AnsiColor`) and their escape codes; its process-wide switch
//! (`colored::control`, which guesses from the environment) is deliberately not consulted,
//! which keeps output deterministic in tests. This module must never write to stdout nor look
//! at the terminal or the environment: the caller passes `enabled`, and with
//! `enabled == false` not a single escape byte is produced.

pub use colored::Color;

/// How a piece of text looks: an optional colour plus bold / dim / reverse video.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Style {
    fg: Option<Color>,
    bold: bool,
    dim: bool,
    reverse: bool,
}

impl Style {
    /// No styling at all: text is written as-is even when colour is enabled.
    pub const PLAIN: Style = Style {
        fg: None,
        bold: false,
        dim: false,
        reverse: false,
    };

    /// Plain text in the colour `color`.
    #[must_use]
    pub const fn fg(color: Color) -> Style {
        Style {
            fg: Some(color),
            ..Style::PLAIN
        }
    }

    /// This style, bold.
    #[must_use]
    pub const fn bold(self) -> Style {
        Style { bold: true, ..self }
    }

    /// This style, dimmed (faint).
    #[must_use]
    pub const fn dim(self) -> Style {
        Style { dim: true, ..self }
    }

    /// This style, in reverse video.
    #[must_use]
    pub const fn reverse(self) -> Style {
        Style {
            reverse: true,
            ..self
        }
    }

    /// Whether this style emits no escape codes.
    #[must_use]
    pub fn is_plain(self) -> bool {
        self == Style::PLAIN
    }

    /// The colour, if any.
    #[must_use]
    pub fn color(self) -> Option<Color> {
        self.fg
    }

    /// Appends `text` to `out`, wrapped in this style's SGR codes when `enabled` is true.
    ///
    /// `text` is written verbatim: sanitising it is the caller's job.
    pub fn paint(self, out: &mut String, text: &str, enabled: bool) {
        if !enabled || self.is_plain() || text.is_empty() {
            out.push_str(text);
            return;
        }
        // colored's own order: attributes first, then the colour (`to_fg_str` is pure for
        // every colour but TrueColor, which is never used here).
        let mut codes: Vec<std::borrow::Cow<'static, str>> = Vec::with_capacity(4);
        codes.extend(self.bold.then_some("1".into()));
        codes.extend(self.dim.then_some("2".into()));
        codes.extend(self.reverse.then_some("7".into()));
        codes.extend(self.fg.map(|color| color.to_fg_str()));
        out.push_str("\x1b[");
        out.push_str(&codes.join(";"));
        out.push('m');
        out.push_str(text);
        out.push_str("\x1b[0m");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn painted(style: Style, enabled: bool) -> String {
        let mut out = String::new();
        style.paint(&mut out, "hi", enabled);
        out
    }

    #[test]
    fn disabled_styles_emit_no_escape() {
        let style = Style::fg(Color::Red).bold().reverse();
        assert_eq!(painted(style, false), "hi");
    }

    #[test]
    fn plain_style_emits_no_escape_even_when_enabled() {
        assert_eq!(painted(Style::PLAIN, true), "hi");
    }

    #[test]
    fn enabled_style_combines_attributes_in_one_sgr() {
        let style = Style::fg(Color::Yellow).bold().dim();
        assert_eq!(painted(style, true), "\x1b[1;2;33mhi\x1b[0m");
    }

    #[test]
    fn the_256_colour_palette_uses_extended_codes() {
        let style = Style::fg(Color::AnsiColor(208));
        assert_eq!(painted(style, true), "\x1b[38;5;208mhi\x1b[0m");
    }
}
