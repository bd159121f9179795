//! Styled text that knows its display width: sanitising, wrapping, truncating, painting.
//!
//! Every character that comes from a push goes through [`Line::user`] (or [`Line::quoted`]),
//! which escapes control characters, so a payload can never drive the terminal. Widths are
//! counted per character with `unicode-width`, so CJK and emoji take two columns.

use unicode_width::UnicodeWidthChar;

use super::theme;
use crate::output::style::Style;

/// Marks text that was cut short.
const ELLIPSIS: &str = "…";

/// A run of text in one style. An atomic span (an escape such as `\x1b`) is never split.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Span {
    text: String,
    style: Style,
    atomic: bool,
}

/// A sequence of spans: one logical line before layout.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Line {
    spans: Vec<Span>,
}

/// The display width of one character: control characters never reach here unescaped.
pub(super) fn char_width(c: char) -> usize {
    c.width().unwrap_or(0)
}

/// The display width of a string, counted the same way the layout counts it.
pub(super) fn str_width(text: &str) -> usize {
    text.chars().map(char_width).sum()
}

impl Line {
    /// An empty line.
    pub(super) fn new() -> Line {
        Line::default()
    }

    /// Appends text written by this renderer itself (never push data: it is not escaped).
    pub(super) fn text(&mut self, text: &str, style: Style) -> &mut Line {
        self.push_span(text, style, false);
        self
    }

    /// Appends text that came from outside, escaping anything a terminal would interpret.
    pub(super) fn user(&mut self, raw: &str, style: Style) -> &mut Line {
        self.sanitised(raw, style, false);
        self
    }

    /// Appends outside text in double quotes, escaping `"` as well.
    pub(super) fn quoted(&mut self, raw: &str, style: Style) -> &mut Line {
        self.text("\"", style);
        self.sanitised(raw, style, true);
        self.text("\"", style)
    }

    /// Appends an escape sequence such as `\xff`, styled as one and never split.
    pub(super) fn escape(&mut self, escape: &str) -> &mut Line {
        self.push_span(escape, theme::ESCAPE, true);
        self
    }

    /// Appends all of `other`.
    pub(super) fn append(&mut self, other: Line) -> &mut Line {
        for span in other.spans {
            self.push_span(&span.text, span.style, span.atomic);
        }
        self
    }

    /// The line's width in terminal columns.
    pub(super) fn width(&self) -> usize {
        self.spans.iter().map(|span| str_width(&span.text)).sum()
    }

    fn push_span(&mut self, text: &str, style: Style, atomic: bool) {
        if text.is_empty() {
            return;
        }
        match self.spans.last_mut() {
            Some(last) if !atomic && !last.atomic && last.style == style => {
                last.text.push_str(text);
            }
            _ => self.spans.push(Span {
                text: text.to_owned(),
                style,
                atomic,
            }),
        }
    }

    fn sanitised(&mut self, raw: &str, style: Style, quoted: bool) {
        let mut clean_start = 0;
        for (at, c) in raw.char_indices() {
            if let Some(escape) = escape_char(c, quoted) {
                self.push_span(&raw[clean_start..at], style, false);
                self.escape(&escape);
                clean_start = at + c.len_utf8();
            }
        }
        self.push_span(&raw[clean_start..], style, false);
    }
}

/// How `c` must be shown, or `None` when it can be printed as-is.
///
/// Escaped: C0 and C1 controls and DEL (ESC starts terminal sequences, U+009B is an 8-bit CSI),
/// the backslash itself (so escapes are unambiguous), and invisible format characters that can
/// reorder or hide text (bidi overrides, zero-width characters, BOM).
pub(super) fn escape_char(c: char, quoted: bool) -> Option<String> {
    let escape = match c {
        '\\' => "\\\\".to_owned(),
        '\n' => "\\n".to_owned(),
        '\r' => "\\r".to_owned(),
        '\t' => "\\t".to_owned(),
        '"' if quoted => "\\\"".to_owned(),
        '\0'..='\x1f' | '\x7f' => format!("\\x{:02x}", u32::from(c)),
        c if is_invisible(c) => format!("\\u{{{:x}}}", u32::from(c)),
        _ => return None,
    };
    Some(escape)
}

fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{80}'..='\u{9f}'
            | '\u{61c}'
            | '\u{200b}'..='\u{200f}'
            | '\u{2028}'..='\u{202e}'
            | '\u{2060}'..='\u{206f}'
            | '\u{feff}'
            | '\u{fff9}'..='\u{fffb}'
    )
}

/// The smallest piece layout moves around: one character, or one whole atomic span.
#[derive(Debug, Clone, Copy)]
struct Unit<'a> {
    text: &'a str,
    style: Style,
    atomic: bool,
    width: usize,
}

impl Unit<'_> {
    fn is_space(&self) -> bool {
        !self.atomic && self.text == " "
    }
}

/// Walks a line unit by unit without allocating (values can be megabytes long).
struct Units<'a> {
    spans: &'a [Span],
    span: usize,
    byte: usize,
}

impl<'a> Units<'a> {
    fn new(line: &'a Line) -> Units<'a> {
        Units {
            spans: &line.spans,
            span: 0,
            byte: 0,
        }
    }
}

impl<'a> Iterator for Units<'a> {
    type Item = Unit<'a>;

    fn next(&mut self) -> Option<Unit<'a>> {
        let span = self.spans.get(self.span)?;
        let rest = span.text.get(self.byte..).unwrap_or("");
        let text = match (span.atomic, rest.chars().next()) {
            (false, Some(c)) => &rest[..c.len_utf8()],
            _ => rest,
        };
        self.byte += text.len();
        if self.byte >= span.text.len() {
            self.span += 1;
            self.byte = 0;
        }
        Some(Unit {
            text,
            style: span.style,
            atomic: span.atomic,
            width: str_width(text),
        })
    }
}

fn units_width(units: &[Unit<'_>]) -> usize {
    units.iter().map(|unit| unit.width).sum()
}

/// Builds a line from units, after `indent` spaces.
fn collect(units: &[Unit<'_>], indent: usize) -> Line {
    let mut line = Line::new();
    line.text(&" ".repeat(indent), Style::PLAIN);
    for unit in units {
        line.push_span(unit.text, unit.style, unit.atomic);
    }
    line
}

/// Takes units while they fit in `avail` columns; if some do not, makes room for `…`.
/// Returns the kept units and whether anything was cut.
fn fit<'a>(units: impl Iterator<Item = Unit<'a>>, avail: usize) -> (Vec<Unit<'a>>, bool) {
    let mut kept: Vec<Unit<'a>> = Vec::new();
    let mut width = 0;
    for unit in units {
        if width + unit.width > avail {
            while width + str_width(ELLIPSIS) > avail {
                match kept.pop() {
                    Some(dropped) => width -= dropped.width,
                    None => break,
                }
            }
            while kept.last().is_some_and(Unit::is_space) {
                kept.pop();
            }
            return (kept, true);
        }
        width += unit.width;
        kept.push(unit);
    }
    (kept, false)
}

/// Shortens `line` to at most `width` columns, ending it with `…` when something was cut.
pub(super) fn truncate(line: &Line, width: usize) -> Line {
    let (kept, cut) = fit(Units::new(line), width);
    let mut out = collect(&kept, 0);
    if cut {
        out.text(ELLIPSIS, theme::QUIET);
    }
    out
}

/// How [`wrap`] lays a long line out.
#[derive(Debug, Clone, Copy)]
pub(super) struct Wrap {
    /// Total columns per output line.
    pub(super) width: usize,
    /// Spaces before each continuation line.
    pub(super) indent: usize,
    /// At most this many output lines; the last one ends with `…` if text remains.
    pub(super) max_lines: usize,
}

/// Splits `line` into lines of at most `wrap.width` columns, preferring to break after a space.
pub(super) fn wrap(line: &Line, wrap: Wrap) -> Vec<Line> {
    let mut out = Vec::new();
    let mut units = Units::new(line);
    let mut current: Vec<Unit<'_>> = Vec::new();
    let mut used = 0;
    let mut avail = wrap.width;
    while let Some(unit) = units.next() {
        let continuation = !out.is_empty();
        if used + unit.width > avail && !current.is_empty() {
            if out.len() + 1 >= wrap.max_lines {
                let rest = current.into_iter().chain([unit]).chain(units);
                out.push(truncate_units(rest, avail, indent_of(continuation, wrap)));
                return out;
            }
            let next_avail = wrap.width.saturating_sub(wrap.indent);
            let room = next_avail.saturating_sub(unit.width);
            let carry = split_at_space(&mut current, avail, room);
            out.push(collect(&current, indent_of(continuation, wrap)));
            used = units_width(&carry);
            current = carry;
            avail = next_avail;
        }
        // Continuation lines start at their indent, not with the space that was broken at.
        if current.is_empty() && !out.is_empty() && unit.is_space() {
            continue;
        }
        used += unit.width;
        current.push(unit);
    }
    if !current.is_empty() || out.is_empty() {
        out.push(collect(&current, indent_of(!out.is_empty(), wrap)));
    }
    out
}

fn indent_of(continuation: bool, wrap: Wrap) -> usize {
    if continuation {
        wrap.indent
    } else {
        0
    }
}

fn truncate_units<'a>(units: impl Iterator<Item = Unit<'a>>, avail: usize, indent: usize) -> Line {
    let (kept, _) = fit(units, avail);
    let mut line = collect(&kept, indent);
    line.text(ELLIPSIS, theme::QUIET);
    line
}

/// Breaks `current` after its last space if that leaves the line at least half full and the
/// moved word fits in `room` on the next line; returns the units that move, and drops the
/// trailing spaces.
fn split_at_space<'a>(current: &mut Vec<Unit<'a>>, avail: usize, room: usize) -> Vec<Unit<'a>> {
    let break_at = current
        .iter()
        .rposition(Unit::is_space)
        .map(|at| at + 1)
        .filter(|&at| at < current.len())
        .filter(|&at| units_width(&current[..at]) >= avail / 2)
        .filter(|&at| units_width(&current[at..]) <= room);
    let carry = break_at.map_or_else(Vec::new, |at| current.split_off(at));
    while current.last().is_some_and(Unit::is_space) {
        current.pop();
    }
    carry
}

/// Appends `line` to `out` followed by a newline, painting styles only when `color` is true.
pub(super) fn emit(out: &mut String, line: &Line, color: bool) {
    for span in &line.spans {
        span.style.paint(out, &span.text, color);
    }
    out.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain(line: &Line) -> String {
        let mut out = String::new();
        emit(&mut out, line, false);
        out.trim_end_matches('\n').to_owned()
    }

    fn user(text: &str) -> Line {
        let mut line = Line::new();
        line.user(text, Style::PLAIN);
        line
    }

    #[test]
    fn control_characters_and_backslashes_are_escaped() {
        let line = user("a\x1b[31mb\n\t\\\u{9b}\u{202e}");
        assert_eq!(plain(&line), "a\\x1b[31mb\\n\\t\\\\\\u{9b}\\u{202e}");
    }

    #[test]
    fn quoted_text_escapes_quotes() {
        let mut line = Line::new();
        line.quoted("say \"hi\"", Style::PLAIN);
        assert_eq!(plain(&line), "\"say \\\"hi\\\"\"");
    }

    #[test]
    fn width_counts_wide_characters_twice() {
        assert_eq!(user("温度🌡").width(), 5);
        assert_eq!(user("e\u{301}").width(), 1);
    }

    #[test]
    fn truncate_leaves_short_lines_alone_and_marks_cuts() {
        assert_eq!(plain(&truncate(&user("abcdef"), 6)), "abcdef");
        assert_eq!(plain(&truncate(&user("abcdefg"), 6)), "abcde…");
        assert_eq!(plain(&truncate(&user("温度温度"), 6)), "温度…");
    }

    #[test]
    fn truncate_never_splits_an_escape() {
        assert_eq!(plain(&truncate(&user("abc\x1bdef"), 6)), "abc…");
    }

    #[test]
    fn wrap_prefers_spaces_and_indents_continuations() {
        let wrapped = wrap(
            &user("alpha beta gamma delta"),
            Wrap {
                width: 12,
                indent: 2,
                max_lines: 8,
            },
        );
        let lines: Vec<String> = wrapped.iter().map(plain).collect();
        assert_eq!(lines, ["alpha beta", "  gamma", "  delta"]);
    }

    #[test]
    fn wrap_breaks_long_words_and_stops_at_max_lines() {
        let wrapped = wrap(
            &user(&"x".repeat(50)),
            Wrap {
                width: 10,
                indent: 2,
                max_lines: 3,
            },
        );
        let lines: Vec<String> = wrapped.iter().map(plain).collect();
        assert_eq!(
            lines,
            [
                "x".repeat(10),
                format!("  {}", "x".repeat(8)),
                format!("  {}…", "x".repeat(7))
            ]
        );
    }
}
