//! Drawing watch's screens with ratatui widgets: header, device table, device detail, help,
//! footer. Pure: it draws a [`Model`] and a [`ViewState`] at a given instant onto any backend
//! (a terminal, or `TestBackend` in the snapshot tests). It never reads the clock, the
//! terminal or the environment; colour is a flag in the state (off for `NO_COLOR`). Every
//! state is told in words or symbols too, never by colour alone.

use std::time::{Duration, Instant};

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::symbols::Marker;
use ratatui::text::{Line, Span};
use ratatui::widgets::{
    Axis, Block, Borders, Cell, Chart, Dataset, GraphType, Paragraph, Row, Table, TableState, Wrap,
};
use ratatui::Frame;
use serde_json::Value;

use super::model::{Connection, Device, Model, Ring, SortKey};
use crate::catalog;

/// What the user is looking at, apart from the data.
#[derive(Debug, Clone, Default)]
pub struct ViewState {
    /// Order of the table.
    pub sort: SortKey,
    /// The `/` filter (sn or deviceType substring).
    pub filter: String,
    /// The filter is being typed.
    pub editing_filter: bool,
    /// The selected row of the table.
    pub selected: usize,
    /// The device opened with Enter.
    pub detail: Option<String>,
    /// The help screen is open.
    pub help: bool,
    /// Colours on (off for `NO_COLOR`).
    pub color: bool,
}

/// Below this width the table drops its less important columns.
const NARROW: u16 = 80;
/// Points of the main reading shown in a table row's sparkline.
const SPARK_POINTS: usize = 12;
const SPARK_BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/// Rows of the table area that hold devices (the rest is the header row and borders).
#[must_use]
pub fn table_page(area_height: u16) -> usize {
    usize::from(area_height.saturating_sub(7)).max(1)
}

/// Draws the whole screen.
pub fn draw(frame: &mut Frame<'_>, model: &Model, state: &ViewState, now: Instant) {
    let [header, body, footer] = Layout::vertical([
        Constraint::Length(3),
        Constraint::Min(3),
        Constraint::Length(1),
    ])
    .areas(frame.area());
    draw_header(frame, header, model, state, now);
    if state.help {
        draw_help(frame, body, state);
    } else if let Some(device) = state.detail.as_deref().and_then(|sn| model.device(sn)) {
        draw_detail(frame, body, model, device, state, now);
    } else {
        draw_table(frame, body, model, state, now);
    }
    draw_footer(frame, footer, state);
}

fn paint(state: &ViewState, style: Style) -> Style {
    if state.color {
        style
    } else {
        Style::default().add_modifier(style.add_modifier)
    }
}

fn draw_header(frame: &mut Frame<'_>, area: Rect, model: &Model, state: &ViewState, now: Instant) {
    let (symbol, word, color, reason) = match &model.connection {
        Connection::Connecting => ("…", "connecting", Color::Yellow, None),
        Connection::Connected => ("●", "connected", Color::Green, None),
        Connection::Reconnecting { reason } => ("↻", "reconnecting", Color::Yellow, Some(reason)),
        Connection::Refused { reason } => ("✗", "refused", Color::Red, Some(reason)),
    };
    let bold = Style::default().add_modifier(Modifier::BOLD);
    let mut first = vec![
        Span::styled(format!("{symbol} {word}"), paint(state, bold.fg(color))),
        Span::raw(format!(
            "  {} pushes ({:.1}/s)  {} devices",
            model.pushes,
            model.rate(now),
            model.device_count()
        )),
    ];
    let alarms = model.alarm_count();
    let stale = model.stale_count(now);
    first.push(Span::raw("  "));
    first.push(Span::styled(
        format!("⚠ {alarms} in alarm"),
        paint(
            state,
            if alarms > 0 {
                bold.fg(Color::Red)
            } else {
                Style::default()
            },
        ),
    ));
    first.push(Span::raw("  "));
    first.push(Span::styled(
        format!("◌ {stale} stale"),
        paint(
            state,
            if stale > 0 {
                Style::default().fg(Color::Yellow)
            } else {
                Style::default()
            },
        ),
    ));
    let second = match reason {
        Some(reason) => Line::from(Span::styled(
            reason.clone(),
            paint(state, Style::default().fg(color)),
        )),
        None => {
            let types: Vec<String> = model
                .types()
                .iter()
                .map(|(name, count)| format!("{name} {count}"))
                .collect();
            Line::from(if types.is_empty() {
                "no devices yet".to_owned()
            } else {
                types.join(", ")
            })
        }
    };
    let mut third = format!("sort: {}", state.sort.label());
    if !state.filter.is_empty() {
        third.push_str(&format!("  filter: {}", state.filter));
    }
    if model.cap_reached() {
        third.push_str(&format!(
            "  note: device cap reached, {} pushes from further devices not tracked",
            model.untracked
        ));
    }
    if model.unreadable > 0 {
        third.push_str(&format!("  {} payloads not JSON", model.unreadable));
    }
    let text = vec![Line::from(first), second, Line::from(third)];
    frame.render_widget(Paragraph::new(text), area);
}

fn draw_footer(frame: &mut Frame<'_>, area: Rect, state: &ViewState) {
    let text = if state.editing_filter {
        format!("filter: {}▏  Enter keep  Esc clear", state.filter)
    } else if state.help {
        "? or Esc close help  q quit".to_owned()
    } else if state.detail.is_some() {
        "Esc back  q quit  ? help".to_owned()
    } else {
        "q quit  / filter  ↑↓ jk move  PgUp/PgDn  Enter open  s sort  ? help".to_owned()
    };
    let style = paint(state, Style::default().add_modifier(Modifier::REVERSED));
    frame.render_widget(Paragraph::new(text).style(style), area);
}

/// `12s`, `3m`, `2h`, `4d`.
#[must_use]
pub fn age_words(age: Duration) -> String {
    let secs = age.as_secs();
    match secs {
        0..=59 => format!("{secs}s"),
        60..=3599 => format!("{}m", secs / 60),
        3600..=86_399 => format!("{}h", secs / 3600),
        _ => format!("{}d", secs / 86_400),
    }
}

/// A number rounded to `decimals`, trailing zeros dropped.
fn number_text(value: f64, decimals: usize) -> String {
    let text = format!("{value:.decimals$}");
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        text
    }
}

/// A field's value with its unit, as the catalogue describes it; alarms in words.
#[must_use]
pub fn value_text(name: &str, value: &Value) -> String {
    if let Some(set) = catalog::alarm_state(name, value) {
        let words = catalog::alarm_words(name);
        return match (set, words) {
            (true, Some(words)) => format!("⚠ {}", words.set),
            (false, Some(words)) => words.clear.to_owned(),
            _ => value.to_string(),
        };
    }
    match (value, catalog::field(name)) {
        (Value::Number(number), Some(spec)) => {
            let shown = match number.as_f64() {
                Some(n) if number.is_f64() => number_text(n, spec.decimals),
                _ => number.to_string(),
            };
            if spec.unit.is_empty() {
                shown
            } else {
                format!("{shown} {}", spec.unit)
            }
        }
        (Value::String(text), _) => text.clone(),
        (other, _) => other.to_string(),
    }
}

fn main_text(device: &Device) -> String {
    let Some(data) = device.data() else {
        return match device.safe_mode {
            crate::push::SafeMode::NoKey => "encrypted (no AppKey)".to_owned(),
            _ => String::new(),
        };
    };
    device
        .main_fields()
        .iter()
        .take(3)
        .filter_map(|name| data.get(name).map(|value| value_text(name, value)))
        .collect::<Vec<_>>()
        .join("  ")
}

/// The last points of a ring as bars.
#[must_use]
pub fn sparkline(ring: &Ring, width: usize) -> String {
    let values: Vec<f32> = ring
        .points()
        .skip(ring.len().saturating_sub(width))
        .map(|(_, v)| v)
        .collect();
    let low = values.iter().copied().fold(f32::INFINITY, f32::min);
    let high = values.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    values
        .iter()
        .map(|v| {
            if high > low {
                let step = ((v - low) / (high - low) * 7.0).round();
                SPARK_BARS[(step.clamp(0.0, 7.0)) as usize]
            } else {
                SPARK_BARS[3]
            }
        })
        .collect()
}

fn state_cell(device: &Device, now: Instant) -> (String, Color) {
    let stale = device.is_stale(now);
    match (device.alarms.first(), stale) {
        (Some(alarm), false) => (format!("⚠ {}", alarm.word), Color::Red),
        (Some(alarm), true) => (format!("⚠ {} ◌", alarm.word), Color::Red),
        (None, true) => ("◌ stale".to_owned(), Color::Yellow),
        (None, false) => ("✓ ok".to_owned(), Color::Green),
    }
}

fn draw_table(frame: &mut Frame<'_>, area: Rect, model: &Model, state: &ViewState, now: Instant) {
    let rows = model.rows(now, state.sort, &state.filter);
    let block = Block::default().borders(Borders::ALL).title(format!(
        " devices {} of {} ",
        rows.len(),
        model.device_count()
    ));
    if rows.is_empty() {
        let text = if model.device_count() == 0 {
            "waiting for pushes…".to_owned()
        } else {
            format!("no device matches '{}'", state.filter)
        };
        frame.render_widget(Paragraph::new(text).block(block), area);
        return;
    }
    let narrow = area.width < NARROW;
    let mut header = vec!["sn", "deviceType", "age", "state", "reading"];
    let mut widths = vec![
        Constraint::Length(10),
        Constraint::Length(if narrow { 10 } else { 16 }),
        Constraint::Length(4),
        Constraint::Length(if narrow { 9 } else { 14 }),
        Constraint::Min(10),
    ];
    if !narrow {
        header.extend(["batt", "pushes", "trend"]);
        widths.extend([
            Constraint::Length(5),
            Constraint::Length(7),
            Constraint::Length(SPARK_POINTS as u16),
        ]);
    }
    // Only the rows on screen are built: with thousands of devices, a frame costs what a
    // page costs. The window keeps the selection in view, as a scrolled table would.
    let page = usize::from(area.height.saturating_sub(3)).max(1);
    let selected = state.selected.min(rows.len() - 1);
    let offset = (selected + 1).saturating_sub(page);
    let visible = &rows[offset..rows.len().min(offset + page)];
    let table_rows = visible.iter().map(|device| {
        let (state_text, state_color) = state_cell(device, now);
        let mut cells = vec![
            Cell::from(device.sn.clone()),
            Cell::from(device.device_type.clone()),
            Cell::from(age_words(device.age(now))),
            Cell::from(state_text).style(paint(state, Style::default().fg(state_color))),
            Cell::from(main_text(device)),
        ];
        if !narrow {
            let battery = device
                .battery()
                .map_or_else(|| "?".to_owned(), |b| format!("{}%", number_text(b, 0)));
            let low = device
                .battery()
                .is_some_and(|b| b <= catalog::LOW_BATTERY_PERCENT);
            cells.push(Cell::from(if low {
                format!("⚠{battery}")
            } else {
                battery
            }));
            cells.push(Cell::from(device.pushes.to_string()));
            cells.push(Cell::from(
                device
                    .main_history()
                    .map(|ring| sparkline(ring, SPARK_POINTS))
                    .unwrap_or_default(),
            ));
        }
        Row::new(cells)
    });
    let table = Table::new(table_rows, widths)
        .header(Row::new(header).style(Style::default().add_modifier(Modifier::BOLD)))
        .block(block)
        .column_spacing(1)
        .highlight_symbol("▶")
        .row_highlight_style(paint(
            state,
            Style::default().add_modifier(Modifier::REVERSED),
        ));
    let mut table_state = TableState::default().with_selected(Some(selected - offset));
    frame.render_stateful_widget(table, area, &mut table_state);
}

/// Every field of a push, flattened (`data.magnetic.x`), with units.
fn field_lines(value: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    flatten("", value, 0, &mut out);
    out
}

fn flatten(path: &str, value: &Value, depth: usize, out: &mut Vec<(String, String)>) {
    match value {
        Value::Object(map) if depth < 4 && !map.is_empty() => {
            for (key, item) in map {
                let child = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                flatten(&child, item, depth + 1, out);
            }
        }
        _ => {
            let name = path.rsplit('.').next().unwrap_or(path);
            let text = if path == "encryptData" {
                format!("<{} base64 chars>", value.as_str().map_or(0, str::len))
            } else {
                value_text(name, value)
            };
            out.push((path.to_owned(), text));
        }
    }
}

fn draw_detail(
    frame: &mut Frame<'_>,
    area: Rect,
    model: &Model,
    device: &Device,
    state: &ViewState,
    now: Instant,
) {
    let narrow = area.width < NARROW;
    let [fields_area, charts_area] = if narrow {
        Layout::vertical([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(area)
    } else {
        Layout::horizontal([Constraint::Length(44), Constraint::Min(20)]).areas(area)
    };
    let (state_text, _) = state_cell(device, now);
    let mut lines = vec![
        Line::from(format!("state: {state_text}")),
        Line::from(format!(
            "last seen {} ago, every {}s, {} pushes",
            age_words(device.age(now)),
            device.interval.as_secs(),
            device.pushes
        )),
    ];
    match &device.safe_mode {
        crate::push::SafeMode::Decrypted => lines.push(Line::from("safe mode: decrypted")),
        crate::push::SafeMode::NoKey => lines.push(Line::from("safe mode: no AppKey")),
        crate::push::SafeMode::Failed(reason) => {
            lines.push(Line::from(format!("safe mode: cannot decrypt: {reason}")));
        }
        crate::push::SafeMode::Plain => {}
    }
    let last = device
        .last_value()
        .unwrap_or_else(|| Value::String(String::from_utf8_lossy(device.last_json()).into_owned()));
    for (name, text) in field_lines(&last) {
        lines.push(Line::from(vec![
            Span::styled(
                format!("{name}: "),
                paint(state, Style::default().fg(Color::Cyan)),
            ),
            Span::raw(text),
        ]));
    }
    let title = format!(" {} {} ", device.sn, device.device_type);
    frame.render_widget(
        Paragraph::new(lines)
            .block(Block::default().borders(Borders::ALL).title(title))
            .wrap(Wrap { trim: false }),
        fields_area,
    );
    draw_charts(frame, charts_area, model, device, state, now);
}

fn draw_charts(
    frame: &mut Frame<'_>,
    area: Rect,
    model: &Model,
    device: &Device,
    state: &ViewState,
    now: Instant,
) {
    // The main readings first, then the rest as they came.
    let main = device.main_fields();
    let mut series: Vec<&(String, Ring)> = device
        .history
        .iter()
        .filter(|(_, r)| !r.is_empty())
        .collect();
    series.sort_by_key(|(name, _)| main.iter().position(|m| m == name).unwrap_or(usize::MAX));
    if series.is_empty() {
        let block = Block::default().borders(Borders::ALL).title(" history ");
        frame.render_widget(Paragraph::new("no numeric fields").block(block), area);
        return;
    }
    let fit = usize::from(area.height / 6).max(1);
    let shown = &series[..series.len().min(fit)];
    let areas = Layout::vertical(
        shown
            .iter()
            .map(|_| Constraint::Ratio(1, shown.len() as u32)),
    )
    .split(area);
    let end = now
        .saturating_duration_since(model.started())
        .as_secs_f64()
        .max(1.0);
    for ((name, ring), chart_area) in shown.iter().zip(areas.iter()) {
        let points: Vec<(f64, f64)> = ring
            .points()
            .map(|(t, v)| (f64::from(t), f64::from(v)))
            .collect();
        let low = points.iter().map(|p| p.1).fold(f64::INFINITY, f64::min);
        let high = points.iter().map(|p| p.1).fold(f64::NEG_INFINITY, f64::max);
        let (low, high) = if high > low {
            (low, high)
        } else {
            (low - 1.0, high + 1.0)
        };
        let start = points.first().map_or(0.0, |p| p.0);
        let unit =
            catalog::field(name.rsplit('.').next().unwrap_or(name)).map_or("", |spec| spec.unit);
        let dataset = Dataset::default()
            .marker(Marker::Braille)
            .graph_type(GraphType::Line)
            .style(paint(state, Style::default().fg(Color::Cyan)))
            .data(&points);
        let chart = Chart::new(vec![dataset])
            .block(
                Block::default()
                    .borders(Borders::ALL)
                    .title(format!(" {name} {unit} ")),
            )
            .x_axis(
                Axis::default()
                    .bounds([start, end.max(start + 1.0)])
                    .labels(vec![clock(start), clock(end)]),
            )
            .y_axis(
                Axis::default()
                    .bounds([low, high])
                    .labels(vec![number_text(low, 1), number_text(high, 1)]),
            );
        frame.render_widget(chart, *chart_area);
    }
}

/// Seconds since the session started as `m:ss`.
fn clock(seconds: f64) -> String {
    let total = seconds.max(0.0) as u64;
    format!("{}:{:02}", total / 60, total % 60)
}

const HELP: &str = "\
Keys
  q, Ctrl-C        quit (Esc too, at the top level) and print the summary
  /                filter by sn or deviceType; Enter keeps it, Esc clears it
  ↑ ↓  k j         move;  PgUp PgDn  a page;  Home End (g G)  first, last
  Enter            open the selected device: every field and a chart of each number
  Esc              back from a device or this help
  s                sort: alarm first → sn → type → age (longest silent first)
  ?                this help

States
  ✓ ok             pushing, no alarm field set
  ⚠ word           an alarm field of the device catalogue is set (smoke, water, open,
                   manual alarm, …; true or non-zero), or the push type is an alarm;
                   it clears on the next push without it
  ◌ stale          silent for more than twice its own interval (the push's `interval`,
                   else the catalogue's default for its type); recovers on its next push";

fn draw_help(frame: &mut Frame<'_>, area: Rect, _state: &ViewState) {
    let block = Block::default().borders(Borders::ALL).title(" help ");
    frame.render_widget(
        Paragraph::new(HELP).block(block).wrap(Wrap { trim: false }),
        area,
    );
}
