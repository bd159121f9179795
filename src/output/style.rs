//! Minimal ANSI (SGR) styling for the human-readable renderers.
//!
//! It exists so a renderer can say *what* a piece of text is (a [`Style`]) and decide *whether*
//! to emit escape codes at the last moment, per call. There is no global switch (unlike the
//! `colored` crate's process-wide override), which keeps output deterministic in tests.
//! It must never write to stdout nor look at the terminal or the environment: the caller passes
//! `enabled`, and with `enabled == false` not a single escape byte is produced.

/// One of the basic terminal colours (foreground), as themes render them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Color {
    /// SGR 31.
    Red,
    /// SGR 32.
    Green,
    /// SGR 33.
    Yellow,
    /// SGR 34.
    Blue,
    /// SGR 35.
    Magenta,
    /// SGR 36.
    Cyan,
    /// SGR 92.
    BrightGreen,
    /// SGR 94.
    BrightBlue,
    /// SGR 95.
    BrightMagenta,
    /// SGR 96.
    BrightCyan,
}

impl Color {
    const fn sgr(self) -> &'static str {
        match self {
            Color::Red => "31",
            Color::Green => "32",
            Color::Yellow => "33",
            Color::Blue => "34",
            Color::Magenta => "35",
            Color::Cyan => "36",
            Color::BrightGreen => "92",
            Color::BrightBlue => "94",
            Color::BrightMagenta => "95",
            Color::BrightCyan => "96",
        }
    }
}

/// How a piece of text looks: an optional colour plus bold / dim / reverse video.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
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
    pub const fn fg(color: Color) -> Style {
        Style {
            fg: Some(color),
            ..Style::PLAIN
        }
    }

    /// This style, bold.
    pub const fn bold(self) -> Style {
        Style { bold: true, ..self }
    }

    /// This style, dimmed (faint).
    pub const fn dim(self) -> Style {
        Style { dim: true, ..self }
    }

    /// This style, in reverse video.
    pub const fn reverse(self) -> Style {
        Style {
            reverse: true,
            ..self
        }
    }

    /// Whether this style emits no escape codes.
    pub fn is_plain(self) -> bool {
        self == Style::PLAIN
    }

    /// Appends `text` to `out`, wrapped in this style's SGR codes when `enabled` is true.
    ///
    /// `text` is written verbatim: sanitising it is the caller's job.
    pub fn paint(self, out: &mut String, text: &str, enabled: bool) {
        if !enabled || self.is_plain() || text.is_empty() {
            out.push_str(text);
            return;
        }
        out.push_str("\x1b[");
        let codes = [
            self.bold.then_some("1"),
            self.dim.then_some("2"),
            self.reverse.then_some("7"),
            self.fg.map(Color::sgr),
        ];
        for (i, code) in codes.into_iter().flatten().enumerate() {
            if i > 0 {
                out.push(';');
            }
            out.push_str(code);
        }
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
}
