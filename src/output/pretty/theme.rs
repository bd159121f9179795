//! What each kind of text looks like, and the stable per-device colour.

use crate::output::style::{Color, Style};

/// Receive time and other secondary header text.
pub(super) const TIME: Style = Style::PLAIN.dim();
/// Field names in the body.
pub(super) const KEY: Style = Style::fg(Color::Blue);
/// Numbers and other values that are the point of the line.
pub(super) const VALUE: Style = Style::PLAIN.bold();
/// Units and other quiet annotations.
pub(super) const QUIET: Style = Style::PLAIN.dim();
/// String values.
pub(super) const STRING: Style = Style::fg(Color::Green);
/// `true`, `false`, `null` outside alarm fields.
pub(super) const LITERAL: Style = Style::fg(Color::Magenta);
/// Alarm fields that are on, and their marker.
pub(super) const ALARM: Style = Style::fg(Color::Red).bold();
/// Alarm fields that are off.
pub(super) const CALM: Style = Style::fg(Color::Green);
/// Warnings that are not alarms: low battery, clock skew, no AppKey.
pub(super) const WARN: Style = Style::fg(Color::Yellow).bold();
/// The push's `type` when it is not `text` (nor an alarm).
pub(super) const TYPE: Style = Style::fg(Color::Yellow).bold();
/// The push's `type` when it is an alarm: unlike a warning such as low battery.
pub(super) const ALARM_TYPE: Style = Style::fg(Color::Red).bold().reverse();
/// The "decrypted" marker.
pub(super) const DECRYPTED: Style = Style::fg(Color::Green);
/// Errors: decryption failed, not JSON.
pub(super) const ERROR: Style = Style::fg(Color::Red).bold();
/// Escaped control characters and invalid bytes: visibly "not text".
pub(super) const ESCAPE: Style = Style::PLAIN.reverse();

/// Colours that read well on dark and light themes and stay clear of red and yellow,
/// which mean alarm and warning.
const BASIC_PALETTE: [Color; 8] = [
    Color::Cyan,
    Color::Green,
    Color::Magenta,
    Color::Blue,
    Color::BrightCyan,
    Color::BrightGreen,
    Color::BrightMagenta,
    Color::BrightBlue,
];

/// The same idea on a 256-colour terminal: sixteen blues, greens, cyans and purples that are
/// told apart easily, none of them red, orange or yellow.
const EXTENDED_PALETTE: [Color; 16] = [
    Color::AnsiColor(39),
    Color::AnsiColor(42),
    Color::AnsiColor(170),
    Color::AnsiColor(75),
    Color::AnsiColor(49),
    Color::AnsiColor(141),
    Color::AnsiColor(33),
    Color::AnsiColor(84),
    Color::AnsiColor(177),
    Color::AnsiColor(45),
    Color::AnsiColor(112),
    Color::AnsiColor(99),
    Color::AnsiColor(81),
    Color::AnsiColor(36),
    Color::AnsiColor(165),
    Color::AnsiColor(69),
];

/// Which device colours the terminal can show.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Palette {
    /// The 16 basic colours (8 of them for devices).
    #[default]
    Basic,
    /// 256 colours (16 of them for devices).
    Extended,
}

impl Palette {
    /// From `COLORTERM` and `TERM`: 256 colours when either says `256color`, `truecolor` or
    /// `24bit`.
    #[must_use]
    pub fn from_terminal(colorterm: Option<&str>, term: Option<&str>) -> Palette {
        let rich = |value: Option<&str>| {
            value.is_some_and(|v| {
                let v = v.to_ascii_lowercase();
                v.contains("256color") || v.contains("truecolor") || v.contains("24bit")
            })
        };
        if rich(colorterm) || rich(term) {
            Palette::Extended
        } else {
            Palette::Basic
        }
    }

    fn colors(self) -> &'static [Color] {
        match self {
            Palette::Basic => &BASIC_PALETTE,
            Palette::Extended => &EXTENDED_PALETTE,
        }
    }
}

/// Device colours for one stream of pushes: each device seen gets a colour no earlier device
/// has, as long as the palette lasts; the sn (words) still tells devices apart after that.
///
/// A device's first choice is its sn's hash (FNV-1a, not `std`'s hasher: its output is
/// specified, so colours stay stable across Rust versions and machines); when that colour is
/// taken, the next free one. Memory is bounded by the palette's size.
#[derive(Debug, Clone, Default)]
pub struct DeviceColors {
    palette: Palette,
    assigned: Vec<(String, usize)>,
}

impl DeviceColors {
    /// No device seen yet.
    #[must_use]
    pub fn new(palette: Palette) -> Self {
        DeviceColors {
            palette,
            assigned: Vec::new(),
        }
    }

    /// The style of a device's `sn`.
    pub(super) fn style(&mut self, sn: &str) -> Style {
        let colors = self.palette.colors();
        let preferred = usize::try_from(fnv1a(sn)).unwrap_or(0) % colors.len();
        let index = if let Some((_, index)) = self.assigned.iter().find(|(seen, _)| seen == sn) {
            *index
        } else if self.assigned.len() < colors.len() {
            let free = (0..colors.len())
                .map(|step| (preferred + step) % colors.len())
                .find(|candidate| self.assigned.iter().all(|(_, taken)| taken != candidate))
                .unwrap_or(preferred);
            self.assigned.push((sn.to_owned(), free));
            free
        } else {
            preferred
        };
        Style::fg(colors[index]).bold()
    }
}

fn fnv1a(text: &str) -> u32 {
    text.bytes().fold(0x811c_9dc5_u32, |hash, byte| {
        (hash ^ u32::from(byte)).wrapping_mul(0x0100_0193)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn device(sn: &str) -> Style {
        DeviceColors::new(Palette::Basic).style(sn)
    }

    #[test]
    fn device_colour_is_stable_for_a_given_sn() {
        // Pinned values: changing the hash would recolour every user's devices.
        assert_eq!(device("0117C9XXXX"), device("0117C9XXXX"));
        assert_eq!(device(""), Style::fg(Color::BrightGreen).bold());
        assert_eq!(device("0117C9XXXX"), Style::fg(Color::BrightMagenta).bold());
    }

    #[test]
    fn the_first_devices_seen_get_distinct_colours() {
        for (palette, size) in [(Palette::Basic, 8), (Palette::Extended, 16)] {
            let mut colors = DeviceColors::new(palette);
            let styles: Vec<Style> = (0..size)
                .map(|i| colors.style(&format!("0117C9{i:04X}")))
                .collect();
            for (i, style) in styles.iter().enumerate() {
                assert!(
                    !styles[..i].contains(style),
                    "device {i} repeats a colour on {palette:?}"
                );
                assert_eq!(*style, colors.style(&format!("0117C9{i:04X}")), "stable");
            }
        }
    }

    #[test]
    fn device_colours_avoid_alarm_and_warning_colours() {
        let mut colors = DeviceColors::new(Palette::Extended);
        for i in 0..256 {
            for style in [device(&format!("SN{i}")), colors.style(&format!("SN{i}"))] {
                let color = style.color();
                assert!(
                    !matches!(color, Some(Color::Red | Color::Yellow | Color::BrightRed)),
                    "{style:?}"
                );
            }
        }
    }

    #[test]
    fn a_256_colour_terminal_gets_the_wider_palette() {
        assert_eq!(
            Palette::from_terminal(None, Some("xterm-256color")),
            Palette::Extended
        );
        assert_eq!(
            Palette::from_terminal(Some("truecolor"), Some("xterm")),
            Palette::Extended
        );
        assert_eq!(Palette::from_terminal(None, Some("xterm")), Palette::Basic);
        assert_eq!(Palette::from_terminal(None, None), Palette::Basic);
    }
}
