//! Formatting single values: readings with units and markers, rounded measurements, raw
//! numbers, strings, compact JSON.

use serde_json::{Number, Value};

use super::fields::Reading;
use super::text::Line;
use super::theme;

/// Deeper structures than this are shown as `…`: a renderer must not overflow the stack on a
/// value built by hand (serde_json's parser already stops at 128 levels).
pub(super) const MAX_DEPTH: usize = 64;

/// A measurement rounded to at most `decimals` places, trailing zeros dropped.
///
/// Integers are shown exactly; values the rounding would hide (tiny, huge, not finite) fall
/// back to the number as sent.
pub(super) fn measure(number: &Number, decimals: usize) -> String {
    if number.is_i64() || number.is_u64() {
        return number.to_string();
    }
    let Some(float) = number.as_f64() else {
        return number.to_string();
    };
    if !float.is_finite() || float.abs() >= 1e15 {
        return number.to_string();
    }
    let rounded = format!("{float:.decimals$}");
    let trimmed = if rounded.contains('.') {
        rounded.trim_end_matches('0').trim_end_matches('.')
    } else {
        &rounded
    };
    match trimmed {
        "0" | "-0" if float != 0.0 => number.to_string(),
        "-0" => "0".to_owned(),
        other => other.to_owned(),
    }
}

/// Appends a leaf value the way a field line shows it: strings bare unless that would be
/// ambiguous, everything else as compact JSON.
pub(super) fn push_plain(line: &mut Line, value: &Value, compact: bool) {
    match value {
        Value::String(text) if !needs_quotes(text, compact) => {
            line.user(text, theme::STRING);
        }
        other => push_json(line, other, 0),
    }
}

/// Whether a bare string could be mistaken for something else (a number, a literal, an
/// array, nothing at all) or, in compact `key=value` lists, for two items.
fn needs_quotes(text: &str, compact: bool) -> bool {
    text.is_empty()
        || text.trim() != text
        || matches!(text, "true" | "false" | "null")
        || text.parse::<f64>().is_ok()
        || text.starts_with(['[', '{', '"'])
        || (compact && text.contains(char::is_whitespace))
}

/// Appends `value` as compact, sanitised JSON-like text: `[1, 2]`, `{"a": 1}`.
pub(super) fn push_json(line: &mut Line, value: &Value, depth: usize) {
    if depth > MAX_DEPTH {
        line.text("…", theme::QUIET);
        return;
    }
    match value {
        Value::Null => line.text("null", theme::QUIET),
        Value::Bool(flag) => line.text(if *flag { "true" } else { "false" }, theme::LITERAL),
        Value::Number(number) => line.text(&number.to_string(), theme::VALUE),
        Value::String(text) => line.quoted(text, theme::STRING),
        Value::Array(items) => {
            push_array(line, items, depth);
            line
        }
        Value::Object(map) => {
            push_object(line, map, depth);
            line
        }
    };
}

fn push_array(line: &mut Line, items: &[Value], depth: usize) {
    line.text("[", theme::QUIET);
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            line.text(", ", theme::QUIET);
        }
        push_json(line, item, depth + 1);
    }
    line.text("]", theme::QUIET);
}

fn push_object(line: &mut Line, map: &serde_json::Map<String, Value>, depth: usize) {
    line.text("{", theme::QUIET);
    for (i, (key, item)) in map.iter().enumerate() {
        if i > 0 {
            line.text(", ", theme::QUIET);
        }
        line.quoted(key, theme::KEY).text(": ", theme::QUIET);
        push_json(line, item, depth + 1);
    }
    line.text("}", theme::QUIET);
}

/// Appends a reading's value (with unit and marker). `compact` is the `key=value` form:
/// no space before units, markers as a `⚠` prefix.
pub(super) fn push_reading(line: &mut Line, reading: &Reading<'_>, compact: bool) {
    match reading {
        Reading::Measure {
            number,
            unit,
            decimals,
            low_battery,
            in_alarm,
            ..
        } => push_measure(
            line,
            &measure(number, *decimals),
            unit,
            (*low_battery, *in_alarm),
            compact,
        ),
        Reading::Flag { value, on } => push_flag(line, value, *on, compact),
        Reading::Coordinates { lat, lon } => {
            let separator = if compact { "," } else { " " };
            let text = format!(
                "{}{separator}{}",
                degrees(*lat, 'N', 'S'),
                degrees(*lon, 'E', 'W')
            );
            line.text(&text, theme::VALUE);
        }
        Reading::Vector(components) => push_vector(line, components),
        Reading::Blob { chars } => {
            line.text(&format!("<{chars} base64 chars>"), theme::QUIET);
        }
        Reading::Plain(value) => push_plain(line, value, compact),
    }
}

/// `marks` is (low battery, part of an alarm push).
fn push_measure(line: &mut Line, number: &str, unit: &str, marks: (bool, bool), compact: bool) {
    let (low_battery, in_alarm) = marks;
    let style = if low_battery {
        theme::WARN
    } else if in_alarm {
        theme::ALARM
    } else {
        theme::VALUE
    };
    if compact && low_battery {
        line.text("⚠", theme::WARN);
    }
    line.text(number, style);
    if !unit.is_empty() {
        line.text(if compact { "" } else { " " }, theme::QUIET);
        line.text(unit, theme::QUIET);
    }
    if !compact && low_battery {
        line.text("  ⚠ low battery", theme::WARN);
    }
}

fn push_flag(line: &mut Line, value: &Value, on: bool, compact: bool) {
    let text = value.to_string();
    match (on, compact) {
        (false, _) => line.text(&text, theme::CALM),
        (true, true) => line.text("⚠", theme::ALARM).text(&text, theme::ALARM),
        (true, false) => line
            .text(&text, theme::ALARM)
            .text("  ⚠ ALARM", theme::ALARM),
    };
}

fn push_vector(line: &mut Line, components: &[(&str, &Number)]) {
    for (i, (axis, number)) in components.iter().enumerate() {
        if i > 0 {
            line.text("  ", theme::QUIET);
        }
        line.user(axis, theme::KEY).text("=", theme::QUIET);
        line.text(&number.to_string(), theme::VALUE);
    }
}

/// `22.543096°N`: six decimals is about 10 cm, more than any tracker resolves.
fn degrees(value: f64, positive: char, negative: char) -> String {
    let hemisphere = if value < 0.0 { negative } else { positive };
    let magnitude = format!("{:.6}", value.abs());
    let magnitude = magnitude.trim_end_matches('0').trim_end_matches('.');
    format!("{magnitude}°{hemisphere}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn number(value: Value) -> Number {
        match value {
            Value::Number(number) => number,
            other => panic!("not a number: {other}"),
        }
    }

    fn shown(value: &Value, compact: bool) -> String {
        let mut line = Line::new();
        push_plain(&mut line, value, compact);
        let mut out = String::new();
        super::super::text::emit(&mut out, &line, false);
        out.trim_end().to_owned()
    }

    #[test]
    fn measurements_round_and_drop_trailing_zeros() {
        assert_eq!(measure(&number(json!(21.456)), 1), "21.5");
        assert_eq!(measure(&number(json!(320.0)), 1), "320");
        assert_eq!(measure(&number(json!(40.25)), 2), "40.25");
        assert_eq!(measure(&number(json!(-0.01)), 1), "-0.01");
        assert_eq!(measure(&number(json!(-0.0)), 1), "0");
    }

    #[test]
    fn integers_and_extreme_floats_are_shown_as_sent() {
        assert_eq!(
            measure(&number(json!(18446744073709551615_u64)), 1),
            "18446744073709551615"
        );
        assert_eq!(measure(&number(json!(1e300)), 1), "1e+300");
        assert_eq!(measure(&number(json!(0.0004)), 2), "0.0004");
    }

    #[test]
    fn strings_are_bare_unless_ambiguous() {
        assert_eq!(shown(&json!("Room 101"), false), "Room 101");
        assert_eq!(shown(&json!("Room 101"), true), "\"Room 101\"");
        assert_eq!(shown(&json!("21.5"), false), "\"21.5\"");
        assert_eq!(shown(&json!("true"), false), "\"true\"");
        assert_eq!(shown(&json!(""), false), "\"\"");
        assert_eq!(shown(&json!(" padded"), false), "\" padded\"");
    }

    #[test]
    fn arrays_and_objects_are_compact_json() {
        let value = json!([1, "a\nb", {"k": null}, [], {}]);
        assert_eq!(shown(&value, false), r#"[1, "a\nb", {"k": null}, [], {}]"#);
    }
}
