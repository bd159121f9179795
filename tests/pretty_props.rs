//! Properties of the pretty renderer over arbitrary input: it never panics, never lets an
//! escape byte through without colour, keeps to the width it was given, and colour never
//! changes the layout.

use chrono::{DateTime, FixedOffset};
use proptest::prelude::*;
use sensoro_mqtt::output::pretty::{
    render, Palette, PayloadView, PrettyOptions, SafeModeView, MIN_WIDTH,
};
use serde_json::{Map, Number, Value};
use unicode_width::UnicodeWidthChar;

/// Names the renderer treats specially, mixed with arbitrary ones.
const KNOWN_KEYS: &[&str] = &[
    "sn",
    "type",
    "deviceType",
    "createdTime",
    "data",
    "encryptData",
    "appId",
    "msgId",
    "battery",
    "temperature",
    "humidity",
    "pm2_5",
    "leak",
    "smoke",
    "smokeAlarm",
    "lonlat",
    "latLng",
    "magnetic",
    "lat",
    "lng",
    "interval",
    "",
];

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(KNOWN_KEYS).prop_map(str::to_owned),
        any::<String>(),
        "[a-z\u{4e00}-\u{4e10}\u{1f600}-\u{1f610}\x1b\n]{0,12}",
    ]
}

fn string() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[ -~\u{80}-\u{9f}\u{202e}\u{200b}\u{4e00}-\u{4e10}\u{1f600}\x1b\t\n]{0,120}",
        "-?[0-9]{1,15}(\\.[0-9]{1,3})?",
        "20[0-9]{2}-[01][0-9]-[0-3][0-9][T ][0-2][0-9]:[0-5][0-9]:[0-5][0-9](Z|\\+08:00)?",
    ]
}

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_filter_map("JSON has no NaN or infinity", |f| {
            Number::from_f64(f).map(Value::Number)
        }),
        (-200.0..200.0_f64).prop_filter_map("finite", |f| Number::from_f64(f).map(Value::Number)),
        string().prop_map(Value::String),
    ]
}

fn json() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(5, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((key(), inner), 0..8)
                .prop_map(|pairs| Value::Object(pairs.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// Mostly push-shaped objects (envelope keys with odd values), sometimes anything at all.
fn push() -> impl Strategy<Value = Value> {
    let envelope = prop::collection::vec((prop::sample::select(KNOWN_KEYS), json()), 0..10)
        .prop_map(|pairs| {
            Value::Object(pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
        });
    prop_oneof![3 => envelope, 1 => json()]
}

fn options() -> impl Strategy<Value = PrettyOptions> {
    (
        any::<bool>(),
        0..300_usize,
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(color, width, wide, compact, extended)| PrettyOptions {
            color,
            width,
            wide,
            compact,
            palette: if extended {
                Palette::Extended
            } else {
                Palette::Basic
            },
        })
}

fn received() -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339("2024-11-24T06:13:21.250+08:00")
        .unwrap_or_else(|error| panic!("bad fixture time: {error}"))
}

#[derive(Debug, Clone)]
enum Input {
    Push(Value, Option<Option<String>>),
    NotJson(Vec<u8>, String),
}

fn input() -> impl Strategy<Value = Input> {
    let safe_mode = prop_oneof![
        Just(None),
        Just(Some(None)),
        any::<String>().prop_map(|r| Some(Some(r)))
    ];
    prop_oneof![
        4 => (push(), safe_mode).prop_map(|(push, safe)| Input::Push(push, safe)),
        1 => (prop::collection::vec(any::<u8>(), 0..300), any::<String>())
            .prop_map(|(bytes, error)| Input::NotJson(bytes, error)),
    ]
}

fn rendered(input: &Input, opts: &PrettyOptions) -> String {
    let view = match input {
        Input::Push(push, safe) => PayloadView::Push {
            push,
            safe_mode: match safe {
                None => SafeModeView::Plain,
                Some(None) => SafeModeView::Decrypted,
                Some(Some(reason)) => SafeModeView::Failed { reason },
            },
        },
        Input::NotJson(payload, error) => PayloadView::NotJson { payload, error },
    };
    let mut out = String::new();
    render(&mut out, &view, received(), opts);
    out
}

/// Display width as the renderer counts it: per character.
fn width(line: &str) -> usize {
    line.chars().map(|c| c.width().unwrap_or(0)).sum()
}

fn strip_sgr(text: &str) -> String {
    let sgr = regex::Regex::new("\x1b\\[[0-9;]*m").unwrap_or_else(|error| panic!("{error}"));
    sgr.replace_all(text, "").into_owned()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn any_input_renders_to_newline_terminated_text(input in input(), opts in options()) {
        let out = rendered(&input, &opts);
        prop_assert!(out.ends_with('\n'), "no final newline: {out:?}");
    }

    #[test]
    fn without_colour_no_control_character_but_newline_gets_out(
        input in input(),
        opts in options(),
    ) {
        let out = rendered(&input, &PrettyOptions { color: false, ..opts });
        let bad = out.chars().find(|&c| c != '\n' && (c.is_control() || c == '\u{202e}'));
        prop_assert!(bad.is_none(), "{bad:?} in {out:?}");
    }

    #[test]
    fn with_colour_only_our_sgr_codes_are_added(input in input(), opts in options()) {
        let plain = rendered(&input, &PrettyOptions { color: false, ..opts });
        let coloured = rendered(&input, &PrettyOptions { color: true, ..opts });
        prop_assert_eq!(strip_sgr(&coloured), plain);
    }

    #[test]
    fn no_line_is_wider_than_the_width(input in input(), opts in options()) {
        let opts = PrettyOptions { color: false, wide: false, ..opts };
        let limit = opts.width.max(MIN_WIDTH);
        let out = rendered(&input, &opts);
        for line in out.lines() {
            prop_assert!(width(line) <= limit, "{} > {limit}: {line:?}", width(line));
        }
    }

    #[test]
    fn compact_mode_is_one_line_per_payload(input in input(), opts in options()) {
        let out = rendered(&input, &PrettyOptions { compact: true, ..opts });
        prop_assert_eq!(out.matches('\n').count(), 1, "{:?}", out);
    }
}

#[test]
fn default_width_is_80_columns() {
    assert_eq!(PrettyOptions::default().width, 80);
    assert!(!PrettyOptions::default().color);
}
