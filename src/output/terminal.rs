//! What the terminal offers the pretty renderer: its width and how many colours it shows.
//!
//! The decisions are pure functions of what was measured or set ([`choose_width`],
//! [`Palette::from_terminal`]); [`stdout_width`] and [`palette_from_env`] are the only places
//! that ask the terminal or the environment, once at start-up.

use super::pretty::{Palette, DEFAULT_WIDTH, MIN_WIDTH};

/// The width to lay pushes out in: the terminal's when it was measured, else `COLUMNS`, else
/// [`DEFAULT_WIDTH`]. Widths below [`MIN_WIDTH`] or not numbers are ignored.
#[must_use]
pub fn choose_width(measured: Option<usize>, columns: Option<&str>) -> usize {
    let usable = |width: &usize| *width >= MIN_WIDTH;
    measured
        .filter(usable)
        .or_else(|| {
            columns
                .and_then(|text| text.trim().parse::<usize>().ok())
                .filter(usable)
        })
        .unwrap_or(DEFAULT_WIDTH)
}

/// stdout's width: measured when it is a terminal, else from `COLUMNS`, else 80.
#[must_use]
pub fn stdout_width(is_terminal: bool) -> usize {
    let measured = is_terminal
        .then(terminal_size::terminal_size)
        .flatten()
        .map(|(terminal_size::Width(columns), _)| usize::from(columns));
    choose_width(measured, std::env::var("COLUMNS").ok().as_deref())
}

/// The device palette `COLORTERM` and `TERM` allow.
#[must_use]
pub fn palette_from_env() -> Palette {
    Palette::from_terminal(
        std::env::var("COLORTERM").ok().as_deref(),
        std::env::var("TERM").ok().as_deref(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_measured_width_wins_then_columns_then_80() {
        assert_eq!(choose_width(Some(132), Some("100")), 132);
        assert_eq!(choose_width(None, Some("100")), 100);
        assert_eq!(choose_width(None, Some(" 120 ")), 120);
        assert_eq!(choose_width(None, None), 80);
        assert_eq!(choose_width(None, Some("wide")), 80);
        assert_eq!(choose_width(Some(0), Some("5")), 80);
    }
}
