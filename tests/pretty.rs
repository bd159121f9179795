//! Snapshot tests for the pretty renderer: the expected files are the spec.
//!
//! Each case renders one or more payloads twice and compares the text with
//! `tests/snapshots/pretty/<case>.txt` (colour off) and `<case>.color.txt` (colour on, escape
//! codes stored as-is: `cat` the file to see the colours).
//!
//! To accept new output, run `UPDATE_SNAPSHOTS=1 cargo test --test pretty` and review every
//! changed file by eye (`git diff`) before committing: a snapshot is only as good as that review.

use std::path::PathBuf;

use chrono::{DateTime, FixedOffset};
use sensoro_mqtt::output::pretty::{render, PayloadView, PrettyOptions, SafeModeView};
use serde_json::{json, Value};

/// One payload of a case.
enum Input {
    Push(Value, SafeModeView<'static>),
    NotJson(&'static [u8], &'static str),
}

fn push(value: Value) -> Input {
    Input::Push(value, SafeModeView::Plain)
}

/// All snapshots are received at the same instant, in China Standard Time.
fn received() -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339("2024-11-24T06:13:21.250+08:00")
        .unwrap_or_else(|error| panic!("bad fixture time: {error}"))
}

fn rendered(inputs: &[Input], opts: &PrettyOptions) -> String {
    let mut out = String::new();
    for input in inputs {
        let view = match input {
            Input::Push(push, safe_mode) => PayloadView::Push {
                push,
                safe_mode: *safe_mode,
            },
            Input::NotJson(payload, error) => PayloadView::NotJson { payload, error },
        };
        render(&mut out, &view, received(), opts);
    }
    out
}

fn snapshot_path(case: &str, color: bool) -> PathBuf {
    let suffix = if color { ".color.txt" } else { ".txt" };
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/snapshots/pretty")
        .join(format!("{case}{suffix}"))
}

/// Renders `inputs` with and without colour and compares both with their snapshots.
fn check(case: &str, inputs: &[Input], opts: PrettyOptions) {
    let updating = std::env::var_os("UPDATE_SNAPSHOTS").is_some_and(|value| value == "1");
    let mut failures = Vec::new();
    for color in [false, true] {
        let actual = rendered(inputs, &PrettyOptions { color, ..opts });
        let path = snapshot_path(case, color);
        if updating {
            std::fs::write(&path, &actual)
                .unwrap_or_else(|error| panic!("cannot write {}: {error}", path.display()));
            continue;
        }
        match std::fs::read_to_string(&path) {
            Ok(expected) if expected == actual => {}
            Ok(expected) => failures.push(mismatch(&path, &expected, &actual)),
            Err(error) => failures.push(format!(
                "{}: {error}\n(run with UPDATE_SNAPSHOTS=1 to create it)\nactual:\n{}",
                path.display(),
                visible(&actual)
            )),
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

/// Escape bytes shown as `␛` so coloured snapshots can be read in a failure message.
fn visible(text: &str) -> String {
    text.replace('\x1b', "␛")
}

fn mismatch(path: &std::path::Path, expected: &str, actual: &str) -> String {
    format!(
        "snapshot {} differs; lines marked > differ \
         (UPDATE_SNAPSHOTS=1 accepts the actual output)\n\
         --- expected\n{}\n+++ actual\n{}\n",
        path.display(),
        numbered(expected, actual),
        numbered(actual, expected)
    )
}

/// `text` with line numbers, marking the lines that differ from `other`.
fn numbered(text: &str, other: &str) -> String {
    let other: Vec<&str> = other.lines().collect();
    text.lines()
        .enumerate()
        .map(|(i, line)| {
            let mark = if other.get(i) == Some(&line) {
                ' '
            } else {
                '>'
            };
            format!("{mark}{:>3}| {}", i + 1, visible(line))
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn block() -> PrettyOptions {
    PrettyOptions::default()
}

fn compact() -> PrettyOptions {
    PrettyOptions {
        compact: true,
        ..PrettyOptions::default()
    }
}

fn wide() -> PrettyOptions {
    PrettyOptions {
        wide: true,
        ..PrettyOptions::default()
    }
}

/// The push shown in PLATFORM.md, field for field.
fn platform_sample() -> Value {
    json!({
        "appId": "123456",
        "sn": "0117C9XXXX",
        "type": "text",
        "deviceType": "node",
        "createdTime": 1732400000000_u64,
        "msgId": "5f1e...",
        "data": { "battery": 90, "interval": 300, "temperature": 21.5, "light": 320.0,
                  "humidity": 40.2, "ch4": 0, "pm2_5": 12, "leak": false, "smoke": 0,
                  "magnetic": { "x": 12, "y": -3, "z": 40 } }
    })
}

/// A push with the usual envelope around `data`.
fn envelope(sn: &str, device_type: &str, data: Value) -> Value {
    json!({
        "appId": "123456",
        "sn": sn,
        "type": "text",
        "deviceType": device_type,
        "createdTime": 1732400000000_u64,
        "msgId": "a1b2c3",
        "data": data
    })
}

fn with(mut push: Value, key: &str, value: Value) -> Value {
    if let Value::Object(map) = &mut push {
        map.insert(key.to_owned(), value);
    }
    push
}

fn without(mut push: Value, key: &str) -> Value {
    if let Value::Object(map) = &mut push {
        map.shift_remove(key);
    }
    push
}

#[test]
fn platform_sample_block() {
    check("platform_sample", &[push(platform_sample())], block());
}

#[test]
fn platform_sample_compact() {
    check(
        "platform_sample_compact",
        &[push(platform_sample())],
        compact(),
    );
}

#[test]
fn unknown_and_nested_fields_are_all_shown() {
    let push_value = json!({
        "appId": "123456",
        "sn": "02A0B1C2D3",
        "type": "text",
        "deviceType": "multi",
        "createdTime": 1732400000000_u64,
        "msgId": "m-42",
        "gateway": {"id": "gw-7", "rssi": -87, "snr": 7.5},
        "tags": ["lab", "floor-3"],
        "data": {
            "status": "ok",
            "code": "0042",
            "label": "",
            "online": true,
            "note": null,
            "samples": [1, 2.5, -3],
            "env": {"temperature": 19.25, "pressure": 1013.2, "probe": {"depth": 3}},
            "raw": [{"a": 1}, "x\"y", [], {}],
            "empty": {},
            "weird key with spaces": 7
        },
        "extra": 1.5e-7
    });
    check("unknown_and_nested", &[push(push_value)], block());
}

#[test]
fn alarms_are_marked_in_words() {
    let data = json!({"leak": true, "smoke": 1, "fire": false, "tamper": 0,
        "collision": true, "smokeAlarm": 2, "battery": 80});
    let push_value = with(
        envelope("0A1B2C3D4E", "smoke", data),
        "type",
        json!("alarm"),
    );
    check("alarms", &[push(push_value)], block());
}

#[test]
fn readings_of_an_alarm_push_are_highlighted_like_alarm_fields() {
    let push_value = with(
        envelope(
            "0117C9GAS1",
            "ch4",
            json!({"battery": 80, "interval": 60, "ch4": 1742}),
        ),
        "type",
        json!("alarm"),
    );
    check("alarm_reading", &[push(push_value.clone())], block());
    let colored = rendered(
        &[push(push_value)],
        &PrettyOptions {
            color: true,
            ..block()
        },
    );
    let alarm = "\x1b[1;31m";
    assert!(
        colored.contains(&format!("{alarm}1742")),
        "CH4 not highlighted: {}",
        visible(&colored)
    );
    assert!(
        !colored.contains(&format!("{alarm}80")) && !colored.contains(&format!("{alarm}60")),
        "battery and interval are not alarm readings: {}",
        visible(&colored)
    );
}

#[test]
fn the_alarm_type_and_low_battery_look_different() {
    let mut alarm = with(
        envelope("0117C9ALM1", "leak", json!({"leak": true, "battery": 15})),
        "type",
        json!("alarm"),
    );
    let colored = |value: &Value| {
        rendered(
            &[push(value.clone())],
            &PrettyOptions {
                color: true,
                ..block()
            },
        )
    };
    let style_before = |text: &str, needle: &str| -> String {
        let at = text
            .find(needle)
            .unwrap_or_else(|| panic!("{needle} missing"));
        let start = text[..at].rfind('\x1b').unwrap_or(at);
        text[start..at].to_owned()
    };
    let screen = colored(&alarm);
    let alarm_style = style_before(&screen, "[alarm");
    let battery_style = style_before(&screen, "15");
    assert_ne!(alarm_style, battery_style, "{}", visible(&screen));
    alarm = without(alarm, "msgId");
    assert!(colored(&alarm).contains("⚠ low battery"));
}

#[test]
fn low_battery_is_labelled() {
    let inputs = [
        push(envelope(
            "0117C9LOW1",
            "temp",
            json!({"battery": 15, "temperature": -4.25}),
        )),
        push(envelope(
            "0117C9LOW2",
            "temp",
            json!({"battery": 20.0, "temperature": 3}),
        )),
        push(envelope(
            "0117C9OKAY",
            "temp",
            json!({"battery": 21, "temperature": 30.0}),
        )),
    ];
    check("low_battery", &inputs, block());
}

#[test]
fn types_other_than_text_are_highlighted() {
    let inputs = [
        push(with(
            envelope("0117C9EVT1", "door", json!({"open": true})),
            "type",
            json!("event"),
        )),
        push(with(
            envelope("0117C9EVT2", "node", json!({"battery": 50})),
            "type",
            json!("offline"),
        )),
        push(with(
            envelope("0117C9EVT3", "node", json!({"battery": 50})),
            "type",
            json!(3),
        )),
    ];
    check("type_not_text", &inputs, block());
}

#[test]
fn safe_mode_decrypted_is_marked() {
    let data = json!({"temperature": 22.0, "battery": 88, "interval": 600});
    let inputs = [Input::Push(
        envelope("0117C9SAFE", "temp", data),
        SafeModeView::Decrypted,
    )];
    check("safe_mode_decrypted", &inputs, block());
}

const ENCRYPT_DATA: &str = "pqZVvWEMqGM9BIxAoL3HGOUeQSwIw2Vjt86cUZ8ttvL+SGBwsvJpmUgN6JJJzU\
    zx8P+MKlmZ2z6QwtxoUh1SOUmn+HxCAuGPDWKzBhFUtl8JeQ8JYeVAAUvI6aS8UGJWpb4M7YGYPNVgHGLRIbLB\
    hMcQnzG8SLJ+WOiVCVZEJ+zaSW0r8eLxEDVUtNpOm4T3t5dOKRYAGWk6sMRXhbvXJkZgn0BVSCYbMRn3wYu04Q\
    ==";

fn encrypted_push() -> Value {
    without(
        with(
            envelope("0117C9SAFE", "temp", json!(null)),
            "encryptData",
            json!(ENCRYPT_DATA),
        ),
        "data",
    )
}

#[test]
fn safe_mode_failure_shows_reason_and_length() {
    let reason = "invalid padding: the AppKey is probably wrong";
    let inputs = [Input::Push(
        encrypted_push(),
        SafeModeView::Failed { reason },
    )];
    check("safe_mode_failed", &inputs, block());
}

#[test]
fn encrypted_push_without_key_is_not_dumped() {
    check("encrypted_without_key", &[push(encrypted_push())], block());
}

#[test]
fn payloads_that_are_not_json_are_escaped() {
    let inputs = [
        Input::NotJson(
            b"hello\x1b[31m red\n\tnext\xff\xfe\x00 end \xe6\xb8\xa9\xe5",
            "expected value at line 1 column 1",
        ),
        Input::NotJson(b"", "EOF while parsing a value at line 1 column 0"),
    ];
    check("not_json", &inputs, block());
}

#[test]
fn created_time_in_any_shape_never_fails() {
    let variants = [
        ("CT01MILLIS", json!(1732400000000_u64 - 90_000)),
        ("CT02SECOND", json!(1732400000 - 3600)),
        ("CT03NUMSTR", json!("1732399000000")),
        ("CT04ISO", json!("2024-11-23T22:00:00Z")),
        ("CT05ISOOLD", json!("2024-11-20T08:00:00+08:00")),
        ("CT06NAIVE", json!("2024-11-24 05:00:00")),
        ("CT07GARBAGE", json!("yesterday, around noon")),
        ("CT08EMPTY", json!("")),
        ("CT09NULL", json!(null)),
        ("CT10FUTURE", json!(4102444800000_u64)),
        ("CT11HUGE", json!(1e300)),
        ("CT12FLOAT", json!(1732399000.125)),
        ("CT13WITHIN", json!(1732400002000_u64)),
    ];
    let inputs: Vec<Input> = variants
        .into_iter()
        .map(|(sn, created)| {
            push(with(
                envelope(sn, "node", json!({"battery": 90})),
                "createdTime",
                created,
            ))
        })
        .collect();
    check("created_time", &inputs, block());
}

fn long_push() -> Value {
    let text = "The quick brown fox jumps over the lazy dog while the sensor keeps reporting \
                values that are much longer than any terminal line ought to be, again and again.";
    let data = json!({
        "temperature": 21.5,
        "description": text,
        "token": "A".repeat(300),
        "series": (1..=60).collect::<Vec<_>>(),
        "a_very_long_field_name_that_goes_on_and_on": "short",
    });
    with(
        envelope("0117C9LONG", "a-device-type-with-a-rather-long-name", data),
        "type",
        json!("a-long-event-type-name"),
    )
}

#[test]
fn long_values_wrap_at_80_columns() {
    check("long_values", &[push(long_push())], block());
}

#[test]
fn long_values_stay_whole_when_wide() {
    check("long_values_wide", &[push(long_push())], wide());
}

#[test]
fn long_values_are_cut_in_compact_mode() {
    check("long_values_compact", &[push(long_push())], compact());
}

#[test]
fn long_values_wrap_at_narrow_widths() {
    let opts = PrettyOptions {
        width: 40,
        ..PrettyOptions::default()
    };
    check(
        "long_values_narrow",
        &[push(long_push()), push(platform_sample())],
        opts,
    );
}

#[test]
fn unicode_values_are_measured_by_display_width() {
    let data = json!({
        "位置": "北京市朝阳区望京SOHO塔3",
        "温度": 23.5,
        "temperature": 23.5,
        "status": "🔥 hot 🔥",
        "note": "e\u{301}te\u{301} — naïve café",
        "描述": "这是一个很长的中文描述，用来测试换行时宽字符是否按照两列计算，不会超出终端的宽度限制。",
    });
    let inputs = [push(envelope("设备-01", "温湿度", data.clone()))];
    check("unicode", &inputs, block());
    check(
        "unicode_compact",
        &[push(envelope("设备-01", "温湿度", data))],
        compact(),
    );
}

#[test]
fn pushes_that_are_not_objects_are_shown() {
    let inputs = [
        push(json!([1, 2, {"sn": "x"}])),
        push(json!(42)),
        push(json!("just a string")),
        push(json!(null)),
        Input::Push(json!(true), SafeModeView::Decrypted),
    ];
    check("non_object", &inputs, block());
}

#[test]
fn ansi_escapes_in_push_strings_are_neutralised() {
    let push_value = json!({
        "appId": "123456\x1b]0;pwned\x07",
        "sn": "\x1b[2J\x1b[HEVIL",
        "type": "\x1b[5mblink",
        "deviceType": "node\r\n",
        "msgId": "\u{9b}31m",
        "data": {
            "\x1b[31mkey": "value\x1b[0m",
            "bidi": "abc\u{202e}fed",
            "zero": "a\u{200b}b",
            "nested": {"arr": ["\x1b[1m", "\\"]}
        }
    });
    let reason = "bad padding\x1b[2K";
    let inputs = [
        push(push_value.clone()),
        Input::Push(push_value, SafeModeView::Failed { reason }),
    ];
    check("ansi_injection", &inputs, block());
}

#[test]
fn coordinates_are_shown_as_positions() {
    let data = json!({
        "lonlat": [116.397128, 39.916527],
        "latLng": [-33.8688, 151.2093],
        "position": {"lat": 51.5072, "lng": -0.1276},
        "location": [500, 500],
    });
    check(
        "coordinates",
        &[push(envelope("0117C9GPS1", "tracker", data))],
        block(),
    );
}

#[test]
fn missing_envelope_fields_are_question_marks() {
    let inputs = [
        push(json!({"data": {"temperature": 20}})),
        push(json!({})),
        push(json!({"sn": {"nested": true}, "deviceType": null, "data": 5})),
    ];
    check("missing_envelope", &inputs, block());
}

#[test]
fn compact_mode_is_one_line_per_push() {
    let inputs = [
        push(platform_sample()),
        push(with(
            envelope("0A1B2C3D4E", "smoke", json!({"smoke": 1, "battery": 12})),
            "type",
            json!("alarm"),
        )),
        Input::Push(
            envelope("0117C9SAFE", "temp", json!({"temperature": 22.0})),
            SafeModeView::Decrypted,
        ),
        push(encrypted_push()),
        Input::NotJson(b"garbage\x1b[31m", "expected value at line 1 column 1"),
        push(json!([1, 2, 3])),
    ];
    check("compact_stream", &inputs, compact());
}

use sensoro_mqtt::catalog::PLATFORM_TYPES;

#[test]
fn every_platform_device_type_renders_with_its_units() {
    use sensoro_mqtt::catalog::{self, Role};
    for device_type in PLATFORM_TYPES {
        let spec = catalog::device_type(device_type)
            .unwrap_or_else(|| panic!("{device_type} is not in the catalogue"));
        let mut data = serde_json::Map::new();
        data.insert("battery".into(), json!(77));
        for name in spec.fields {
            let field = catalog::field(name).unwrap_or_else(|| panic!("{name} unknown"));
            let value = match field.role {
                Role::Alarm(_) | Role::State => json!(1),
                _ => json!(12.5),
            };
            data.insert((*name).to_owned(), value);
        }
        let push_value = envelope("0117C9TYPE", device_type, Value::Object(data));
        let text = rendered(&[push(push_value)], &block());
        assert!(
            text.contains("77 %"),
            "{device_type}: battery unit missing in\n{text}"
        );
        for name in spec.fields {
            let Some(field) = catalog::field(name) else {
                continue;
            };
            let shown = field.label.unwrap_or(field.name);
            let expected = match field.role {
                Role::Alarm(_) => format!("{shown}  1  ⚠ ALARM"),
                Role::State => format!("{shown}  1"),
                _ if field.unit.is_empty() => format!("{shown}  12.5"),
                _ => format!("12.5 {}", field.unit),
            };
            let found = text.lines().any(|line| {
                line.contains(shown) && {
                    let squeezed = line.split_whitespace().collect::<Vec<_>>().join(" ");
                    squeezed.contains(&expected.split_whitespace().collect::<Vec<_>>().join(" "))
                }
            });
            assert!(
                found,
                "{device_type}: field {name} not shown as '{expected}' in\n{text}"
            );
        }
    }
}

#[test]
fn an_unknown_device_type_and_field_still_show() {
    let push_value = envelope(
        "0117C9ODD1",
        "quantum_flux",
        json!({"flux": 3.25, "mood": "calm", "battery": 50}),
    );
    let text = rendered(&[push(push_value)], &block());
    assert!(text.contains("quantum_flux"), "{text}");
    assert!(text.contains("flux") && text.contains("3.25"), "{text}");
    assert!(text.contains("mood") && text.contains("calm"), "{text}");
    assert!(text.contains("50 %"), "{text}");
}
