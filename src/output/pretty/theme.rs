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
/// The push's `type` when it is not `text`.
pub(super) const TYPE: Style = Style::fg(Color::Yellow).bold();
/// The "decrypted" marker.
pub(super) const DECRYPTED: Style = Style::fg(Color::Green);
/// Errors: decryption failed, not JSON.
pub(super) const ERROR: Style = Style::fg(Color::Red).bold();
/// Escaped control characters and invalid bytes: visibly "not text".
pub(super) const ESCAPE: Style = Style::PLAIN.reverse();

/// Colours that read well on dark and light themes and stay clear of red and yellow,
/// which mean alarm and warning.
const DEVICE_PALETTE: [Color; 8] = [
    Color::Cyan,
    Color::Green,
    Color::Magenta,
    Color::Blue,
    Color::BrightCyan,
    Color::BrightGreen,
    Color::BrightMagenta,
    Color::BrightBlue,
];

/// The style of a device's `sn`: the same sn gets the same colour in every run.
///
/// FNV-1a, not `std`'s hasher: its output is specified, so colours stay stable across Rust
/// versions and machines.
pub(super) fn device(sn: &str) -> Style {
    let hash = sn.bytes().fold(0x811c_9dc5_u32, |hash, byte| {
        (hash ^ u32::from(byte)).wrapping_mul(0x0100_0193)
    });
    let index = usize::try_from(hash).unwrap_or(0) % DEVICE_PALETTE.len();
    Style::fg(DEVICE_PALETTE[index]).bold()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_colour_is_stable_for_a_given_sn() {
        // Pinned values: changing the hash would recolour every user's devices.
        assert_eq!(device("0117C9XXXX"), device("0117C9XXXX"));
        assert_eq!(device(""), Style::fg(Color::BrightGreen).bold());
        assert_eq!(device("0117C9XXXX"), Style::fg(Color::BrightMagenta).bold());
    }

    #[test]
    fn device_colours_spread_over_the_palette() {
        let used: std::collections::HashSet<_> =
            (0..64).map(|i| device(&format!("0117C9{i:04}"))).collect();
        assert!(used.len() >= 6, "only {} colours used", used.len());
    }

    #[test]
    fn device_colours_avoid_alarm_and_warning_colours() {
        for i in 0..256 {
            let style = device(&format!("SN{i}"));
            assert_ne!(style, Style::fg(Color::Red).bold());
            assert_ne!(style, Style::fg(Color::Yellow).bold());
        }
    }
}
