//! Putting a [`Doc`] on lines: a block per push, or one compact line.

use super::doc::Doc;
use super::fields::{Field, Reading};
use super::text::{self, Line, Wrap};
use super::{theme, values};
use crate::output::style::Style;

/// A wrapped value never takes more than this many lines; the last one ends with `…`.
const MAX_LINES: usize = 8;
/// Body lines start with this many spaces.
const INDENT: usize = 2;
/// Space between a field name and its value.
const GAP: usize = 2;
/// Field names longer than this do not push every value to the right.
const MAX_KEY_COLUMN: usize = 20;
/// Header continuation lines line up after `HH:MM:SS.mmm  `.
const HEADER_INDENT: usize = 14;

/// Where lines end: `usize::MAX` when nothing may be wrapped or cut.
#[derive(Debug, Clone, Copy)]
pub(super) struct Frame {
    pub(super) width: usize,
    pub(super) color: bool,
}

impl Frame {
    fn unbounded(self) -> bool {
        self.width == usize::MAX
    }

    fn emit_wrapped(self, out: &mut String, line: &Line, indent: usize) {
        if self.unbounded() {
            text::emit(out, line, self.color);
            return;
        }
        let wrap = Wrap {
            width: self.width,
            indent: indent.min(self.width / 2),
            max_lines: MAX_LINES,
        };
        for piece in text::wrap(line, wrap) {
            text::emit(out, &piece, self.color);
        }
    }
}

/// Header line, free text, one line per field, then the metadata packed at the end.
pub(super) fn block(out: &mut String, doc: &Doc<'_>, frame: Frame) {
    frame.emit_wrapped(out, &joined(&doc.header, "  "), HEADER_INDENT);
    if let Some(body) = &doc.body {
        let mut line = indent();
        line.append(body.clone());
        frame.emit_wrapped(out, &line, INDENT);
    }
    let key_column = key_column(&doc.fields, frame);
    let value_column = INDENT + key_column + GAP;
    for field in &doc.fields {
        frame.emit_wrapped(out, &field_line(field, key_column), value_column);
    }
    emit_meta(out, &doc.meta, frame);
}

fn indent() -> Line {
    let mut line = Line::new();
    line.text(&" ".repeat(INDENT), Style::PLAIN);
    line
}

fn joined(parts: &[Line], separator: &str) -> Line {
    let mut line = Line::new();
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            line.text(separator, Style::PLAIN);
        }
        line.append(part.clone());
    }
    line
}

fn key_line(field: &Field<'_>) -> Line {
    let mut line = Line::new();
    line.user(&field.key, theme::KEY);
    line
}

/// The widest name that is not an outlier: longer names push their own value right instead
/// of every value.
fn key_column(fields: &[Field<'_>], frame: Frame) -> usize {
    let limit = MAX_KEY_COLUMN.min(frame.width / 3);
    fields
        .iter()
        .map(|field| key_line(field).width())
        .filter(|&width| width <= limit)
        .max()
        .unwrap_or(0)
}

fn field_line(field: &Field<'_>, key_column: usize) -> Line {
    let key = key_line(field);
    let pad = key_column.saturating_sub(key.width()) + GAP;
    let mut line = indent();
    line.append(key).text(&" ".repeat(pad), Style::PLAIN);
    values::push_reading(&mut line, &field.reading, false);
    line
}

/// `key=value` items side by side, each cut to fit a line on its own.
fn emit_meta(out: &mut String, meta: &[Field<'_>], frame: Frame) {
    let mut line = indent();
    let mut empty = true;
    for field in meta {
        let mut item = Line::new();
        push_item(&mut item, &field.key, &field.reading, theme::QUIET);
        let item = text::truncate(&item, frame.width.saturating_sub(INDENT));
        if !empty && line.width() + GAP + item.width() > frame.width {
            text::emit(out, &line, frame.color);
            line = indent();
            empty = true;
        }
        if !empty {
            line.text(&" ".repeat(GAP), Style::PLAIN);
        }
        line.append(item);
        empty = false;
    }
    if !empty {
        text::emit(out, &line, frame.color);
    }
}

/// `key=value` (vectors as `key.axis=value` each, as flattened objects would read).
fn push_item(line: &mut Line, key: &str, reading: &Reading<'_>, key_style: Style) {
    if let Reading::Vector(components) = reading {
        for (i, (axis, number)) in components.iter().enumerate() {
            if i > 0 {
                line.text(" ", Style::PLAIN);
            }
            line.user(&format!("{key}.{axis}"), key_style)
                .text("=", theme::QUIET);
            line.text(&number.to_string(), theme::VALUE);
        }
        return;
    }
    line.user(key, key_style).text("=", theme::QUIET);
    values::push_reading(line, reading, true);
}

/// Everything on one line, cut to the frame's width.
pub(super) fn compact(out: &mut String, doc: &Doc<'_>, frame: Frame) {
    let mut line = joined(&doc.header, " ");
    if let Some(body) = &doc.body {
        line.text("  ", Style::PLAIN).append(body.clone());
    }
    let items = doc.fields.iter().map(|field| (field, theme::KEY));
    let meta = doc.meta.iter().map(|field| (field, theme::QUIET));
    for (i, (field, key_style)) in items.chain(meta).enumerate() {
        line.text(if i == 0 { "  " } else { " " }, Style::PLAIN);
        push_item(&mut line, &field.key, &field.reading, key_style);
    }
    let line = if frame.unbounded() {
        line
    } else {
        text::truncate(&line, frame.width)
    };
    text::emit(out, &line, frame.color);
}
