//! Making sense of `createdTime`, whose format the platform does not document.
//!
//! Accepted: epoch milliseconds or seconds (number or numeric string; told apart by
//! magnitude), RFC 3339, and `YYYY-MM-DD HH:MM:SS[.fff]` without an offset (taken in the
//! receive time's offset). Anything else is kept and shown as sent.

use chrono::{DateTime, FixedOffset, NaiveDateTime, TimeDelta};
use serde_json::Value;

/// Below this an epoch number is seconds, above it milliseconds: 1e11 s is the year 5138,
/// 1e11 ms is 1973.
const MILLIS_THRESHOLD: f64 = 1e11;

/// Differences up to this much between creation and receipt are normal delivery delay.
const NOTEWORTHY_SKEW_MS: i64 = 5_000;

/// What a `createdTime` value means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Created<'a> {
    /// A point in time, in the receive time's offset.
    At(DateTime<FixedOffset>),
    /// Present but not a time we understand: shown as sent.
    Unparsed(&'a Value),
    /// Empty: nothing to show.
    Empty,
}

/// Interprets a `createdTime` number or string; `offset` is the one times are shown in.
pub(super) fn parse(value: &Value, offset: FixedOffset) -> Created<'_> {
    let parsed = match value {
        Value::Number(number) => number.as_f64().and_then(from_epoch),
        Value::String(text) if text.trim().is_empty() => return Created::Empty,
        Value::String(text) => from_text(text.trim(), offset),
        _ => None,
    };
    parsed.map_or(Created::Unparsed(value), |at| {
        Created::At(at.with_timezone(&offset))
    })
}

fn from_epoch(epoch: f64) -> Option<DateTime<FixedOffset>> {
    let millis = if epoch.abs() >= MILLIS_THRESHOLD {
        epoch
    } else {
        epoch * 1000.0
    };
    // Beyond ±2^53 ms chrono has no date anyway; the guard also keeps the cast exact.
    if !millis.is_finite() || millis.abs() > 9e15 {
        return None;
    }
    #[allow(clippy::cast_possible_truncation)] // range checked above
    let millis = millis.round() as i64;
    DateTime::from_timestamp_millis(millis).map(|at| at.fixed_offset())
}

fn from_text(text: &str, offset: FixedOffset) -> Option<DateTime<FixedOffset>> {
    if is_numeric(text) {
        return text.parse::<f64>().ok().and_then(from_epoch);
    }
    DateTime::parse_from_rfc3339(text)
        .or_else(|_| DateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f%:z"))
        .ok()
        .or_else(|| from_naive(text, offset))
}

fn is_numeric(text: &str) -> bool {
    let digits = text.strip_prefix('-').unwrap_or(text);
    !digits.is_empty()
        && digits.chars().all(|c| c.is_ascii_digit() || c == '.')
        && digits.chars().filter(|&c| c == '.').count() <= 1
}

fn from_naive(text: &str, offset: FixedOffset) -> Option<DateTime<FixedOffset>> {
    ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f"]
        .iter()
        .find_map(|format| NaiveDateTime::parse_from_str(text, format).ok())
        .and_then(|naive| naive.and_local_timezone(offset).single())
}

/// How creation time relates to receipt, for the header; `None` when it is unremarkable
/// (within a few seconds of receipt).
pub(super) fn describe(
    at: DateTime<FixedOffset>,
    received: DateTime<FixedOffset>,
) -> Option<String> {
    let skew = at.signed_duration_since(received);
    if skew.num_milliseconds().abs() <= NOTEWORTHY_SKEW_MS {
        return None;
    }
    let format = if at.date_naive() == received.date_naive() {
        "%H:%M:%S%.3f"
    } else {
        "%Y-%m-%d %H:%M:%S%.3f"
    };
    let direction = if skew < TimeDelta::zero() {
        "earlier"
    } else {
        "later"
    };
    Some(format!(
        "created {} ({} {direction})",
        at.format(format),
        human_duration(skew.abs())
    ))
}

/// A rough, short duration: `42 s`, `17 min`, `5 h`, `12 d`, `54 y`.
fn human_duration(span: TimeDelta) -> String {
    let seconds = span.num_seconds();
    match seconds {
        0..100 => format!("{seconds} s"),
        100..6_000 => format!("{} min", seconds / 60),
        6_000..172_800 => format!("{} h", seconds / 3_600),
        172_800..63_072_000 => format!("{} d", seconds / 86_400),
        _ => format!("{} y", seconds / 31_557_600),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn cst() -> FixedOffset {
        FixedOffset::east_opt(8 * 3600).unwrap_or_else(|| unreachable!())
    }

    fn at(rfc3339: &str) -> Created<'static> {
        Created::At(DateTime::parse_from_rfc3339(rfc3339).unwrap_or_else(|e| panic!("{e}")))
    }

    #[test]
    fn epoch_numbers_are_told_apart_by_magnitude() {
        assert_eq!(
            parse(&json!(1732400000000_u64), cst()),
            at("2024-11-24T06:13:20+08:00")
        );
        assert_eq!(
            parse(&json!(1732400000), cst()),
            at("2024-11-24T06:13:20+08:00")
        );
        assert_eq!(
            parse(&json!(1732400000.5), cst()),
            at("2024-11-24T06:13:20.500+08:00")
        );
    }

    #[test]
    fn numeric_and_date_strings_are_understood() {
        let expected = at("2024-11-24T06:13:20+08:00");
        assert_eq!(parse(&json!("1732400000000"), cst()), expected);
        assert_eq!(parse(&json!("2024-11-23T22:13:20Z"), cst()), expected);
        assert_eq!(parse(&json!("2024-11-24 06:13:20"), cst()), expected);
        assert_eq!(parse(&json!(" 2024-11-24T06:13:20 "), cst()), expected);
    }

    #[test]
    fn anything_else_is_kept_as_sent() {
        let garbage = json!("yesterday");
        assert_eq!(parse(&garbage, cst()), Created::Unparsed(&garbage));
        let huge = json!(1e300);
        assert_eq!(parse(&huge, cst()), Created::Unparsed(&huge));
        assert_eq!(parse(&json!("  "), cst()), Created::Empty);
    }

    #[test]
    fn small_skews_are_not_worth_showing() {
        let received = DateTime::parse_from_rfc3339("2024-11-24T06:13:25+08:00");
        let created = DateTime::parse_from_rfc3339("2024-11-24T06:13:20+08:00");
        let (Ok(received), Ok(created)) = (received, created) else {
            panic!("bad fixture")
        };
        assert_eq!(describe(created, received), None);
        let later = received + TimeDelta::seconds(90);
        assert_eq!(
            describe(created, later),
            Some("created 06:13:20.000 (95 s earlier)".to_owned())
        );
    }

    #[test]
    fn durations_are_rounded_to_one_unit() {
        assert_eq!(human_duration(TimeDelta::seconds(99)), "99 s");
        assert_eq!(human_duration(TimeDelta::seconds(600)), "10 min");
        assert_eq!(human_duration(TimeDelta::hours(30)), "30 h");
        assert_eq!(human_duration(TimeDelta::days(365)), "365 d");
        assert_eq!(human_duration(TimeDelta::days(3650)), "9 y");
    }
}
