use std::time::{Duration, Instant};

use serde_json::{json, Map, Value};

use super::*;
use crate::crypto::{AppKey, SafeModeCodec};
use crate::push::PushReader;

fn push(sn: &str, device_type: &str, data: Value) -> Vec<u8> {
    serde_json::to_vec(&json!({"appId": "app", "sn": sn, "type": "text",
        "deviceType": device_type, "createdTime": 1, "msgId": "m", "data": data}))
    .unwrap_or_default()
}

fn take(model: &mut Model, bytes: &[u8], now: Instant) {
    let mut reader = PushReader::new(None, None, false);
    let reading = reader.read(bytes);
    model.ingest(&reading, now);
}

fn secs(start: Instant, s: u64) -> Instant {
    start + Duration::from_secs(s)
}

#[test]
fn a_device_is_stale_after_twice_its_interval_and_recovers_on_its_next_push() {
    let t0 = Instant::now();
    let mut model = Model::new(t0);
    take(
        &mut model,
        &push("A", "node", json!({"interval": 10, "temperature": 20})),
        t0,
    );
    let device = |m: &Model| {
        m.device("A")
            .cloned()
            .unwrap_or_else(|| panic!("A missing"))
    };
    assert!(
        !device(&model).is_stale(secs(t0, 20)),
        "exactly 2 × interval is not stale yet"
    );
    assert!(device(&model).is_stale(secs(t0, 21)));
    assert_eq!(model.stale_count(secs(t0, 21)), 1);
    take(
        &mut model,
        &push("A", "node", json!({"interval": 10, "temperature": 21})),
        secs(t0, 25),
    );
    assert!(!device(&model).is_stale(secs(t0, 26)));
    assert_eq!(model.stale_count(secs(t0, 26)), 0);
}

#[test]
fn without_an_interval_the_catalogue_default_decides_staleness() {
    let t0 = Instant::now();
    let mut model = Model::new(t0);
    take(&mut model, &push("CO", "co", json!({"co": 3})), t0);
    take(&mut model, &push("X", "mystery", json!({"x": 3})), t0);
    let co = catalog::default_interval("co");
    assert_eq!(co, 60);
    assert!(!model
        .device("CO")
        .is_some_and(|d| d.is_stale(secs(t0, 120))));
    assert!(model
        .device("CO")
        .is_some_and(|d| d.is_stale(secs(t0, 121))));
    let generic = u64::from(catalog::DEFAULT_INTERVAL_S);
    assert!(!model
        .device("X")
        .is_some_and(|d| d.is_stale(secs(t0, 2 * generic))));
    assert!(model
        .device("X")
        .is_some_and(|d| d.is_stale(secs(t0, 2 * generic + 1))));
}

#[test]
fn alarms_are_set_and_cleared_per_catalogue_entry_as_bool_or_number() {
    let t0 = Instant::now();
    let mut model = Model::new(t0);
    let cases = [
        ("S", "smoke", "smoke", json!(1), json!(0), "smoke"),
        ("L", "leak", "drop", json!(true), json!(false), "water"),
        ("C", "cover", "cover", json!(1), json!(0), "open"),
        ("D", "zcrd_door", "door", json!(true), json!(false), "open"),
        (
            "M",
            "zcrd_manual",
            "manual_alarm",
            json!(2),
            json!(0),
            "manual alarm",
        ),
    ];
    for (sn, device_type, field, set, clear, word) in cases {
        take(
            &mut model,
            &push(sn, device_type, json!({ field: set })),
            t0,
        );
        let alarms = model
            .device(sn)
            .map(|d| d.alarms.clone())
            .unwrap_or_default();
        assert_eq!(
            alarms,
            [ActiveAlarm {
                field: field.to_owned(),
                word
            }],
            "{device_type} set"
        );
        take(
            &mut model,
            &push(sn, device_type, json!({ field: clear })),
            secs(t0, 1),
        );
        assert!(
            model.device(sn).is_some_and(|d| d.alarms.is_empty()),
            "{device_type} cleared"
        );
    }
    assert_eq!(model.alarm_count(), 0);
}

#[test]
fn an_alarm_type_push_marks_the_device_until_a_normal_push() {
    let t0 = Instant::now();
    let mut model = Model::new(t0);
    let alarm = serde_json::to_vec(&json!({"sn": "N", "deviceType": "node", "type": "alarm",
        "data": {"temperature": 58.0}}))
    .unwrap_or_default();
    take(&mut model, &alarm, t0);
    assert_eq!(model.alarm_count(), 1);
    take(
        &mut model,
        &push("N", "node", json!({"temperature": 21.0})),
        secs(t0, 1),
    );
    assert_eq!(model.alarm_count(), 0);
}

#[test]
fn rows_sort_by_each_key_and_filter_by_sn_or_type() {
    let t0 = Instant::now();
    let mut model = Model::new(t0);
    take(
        &mut model,
        &push("B2", "node", json!({"interval": 100})),
        secs(t0, 3),
    );
    take(
        &mut model,
        &push("A1", "smoke", json!({"smoke": 1, "interval": 100})),
        secs(t0, 2),
    );
    take(
        &mut model,
        &push("C3", "co", json!({"interval": 1})),
        secs(t0, 1),
    );
    let now = secs(t0, 10);
    let order = |sort, filter| -> Vec<String> {
        model
            .rows(now, sort, filter)
            .iter()
            .map(|d| d.sn.clone())
            .collect()
    };
    assert_eq!(order(SortKey::Sn, ""), ["A1", "B2", "C3"]);
    assert_eq!(order(SortKey::Type, ""), ["C3", "B2", "A1"]);
    assert_eq!(order(SortKey::Age, ""), ["C3", "A1", "B2"]);
    // Alarm first, then stale (C3: silent 9 s with a 1 s interval), then the rest.
    assert_eq!(order(SortKey::AlarmFirst, ""), ["A1", "C3", "B2"]);
    assert_eq!(order(SortKey::Sn, "b"), ["B2"]);
    assert_eq!(order(SortKey::Sn, "SMO"), ["A1"]);
    assert_eq!(order(SortKey::Sn, "zzz"), Vec::<String>::new());
    assert_eq!(
        SortKey::AlarmFirst.next().next().next().next(),
        SortKey::AlarmFirst
    );
}

#[test]
fn history_is_a_ring_of_bounded_length_per_numeric_field() {
    let t0 = Instant::now();
    let mut model = Model::new(t0);
    for i in 0..(HISTORY_POINTS as u64 + 50) {
        let data = json!({"temperature": i, "humidity": 1.5, "battery": 90, "interval": 60,
            "magnetic": {"x": 1}, "installed": true});
        take(&mut model, &push("R", "node", data), secs(t0, i));
    }
    let Some(device) = model.device("R") else {
        panic!("R missing");
    };
    let temperature = device
        .history("temperature")
        .map(|r| r.points().collect::<Vec<_>>());
    let temperature = temperature.unwrap_or_default();
    assert_eq!(temperature.len(), HISTORY_POINTS);
    assert_eq!(
        temperature.first().map(|p| p.1),
        Some(50.0),
        "oldest points dropped"
    );
    assert_eq!(temperature.last().map(|p| p.1), Some(649.0));
    assert_eq!(
        temperature.last().map(|p| p.0),
        Some(649.0),
        "x is seconds since start"
    );
    let names: Vec<&str> = device.history.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["temperature", "humidity", "battery", "magnetic.x"]);
    assert_eq!(device.pushes, HISTORY_POINTS as u64 + 50);
    assert!(device
        .main_history()
        .is_some_and(|ring| ring.len() == HISTORY_POINTS));
}

#[test]
fn devices_beyond_the_cap_are_counted_not_kept() {
    let t0 = Instant::now();
    let mut model = Model::with_cap(t0, 2);
    for sn in ["A", "B", "C", "A"] {
        take(&mut model, &push(sn, "node", json!({})), t0);
    }
    assert_eq!(model.device_count(), 2);
    assert!(model.device("C").is_none());
    assert!(model.cap_reached());
    assert_eq!(model.untracked, 1);
    assert_eq!(model.pushes, 4);
    assert_eq!(model.device("A").map(|d| d.pushes), Some(2));
}

#[test]
fn payloads_that_are_not_pushes_are_counted_and_pushes_without_sn_are_kept() {
    let t0 = Instant::now();
    let mut model = Model::new(t0);
    take(&mut model, b"not json", t0);
    take(&mut model, b"[1,2]", t0);
    take(
        &mut model,
        br#"{"deviceType":"node","data":{"temperature":1}}"#,
        t0,
    );
    assert_eq!((model.pushes, model.unreadable), (3, 2));
    assert!(model.device(NO_SN).is_some_and(|d| d.device_type == "node"));
}

#[test]
fn safe_mode_pushes_are_decrypted_into_the_model() {
    let key_text = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";
    let key = AppKey::parse(key_text).unwrap_or_else(|e| panic!("test key: {e}"));
    let codec = SafeModeCodec::new(&key);
    let sealed = codec
        .encrypt(br#"{"temperature":23.5,"interval":60}"#, "app")
        .unwrap_or_else(|e| panic!("encrypt: {e}"));
    let bytes = serde_json::to_vec(&json!({"appId": "app", "sn": "E", "deviceType": "node",
        "type": "text", "encryptData": sealed}))
    .unwrap_or_default();
    let t0 = Instant::now();
    let mut model = Model::new(t0);
    let mut reader = PushReader::new(Some(SafeModeCodec::new(&key)), Some("app".into()), true);
    let reading = reader.read(&bytes);
    model.ingest(&reading, t0);
    let device = model.device("E");
    assert_eq!(
        device.map(|d| d.safe_mode.clone()),
        Some(SafeMode::Decrypted)
    );
    assert_eq!(
        device
            .and_then(|d| d.data())
            .and_then(|d| d.get("temperature"))
            .and_then(Value::as_f64),
        Some(23.5)
    );
    assert_eq!(device.map(|d| d.interval), Some(Duration::from_secs(60)));
}

#[test]
fn connection_states_count_reconnects_and_the_rate_is_over_a_window() {
    let t0 = Instant::now();
    let mut model = Model::new(t0);
    model.set_connection(Connection::Connected);
    model.set_connection(Connection::Reconnecting {
        reason: "lost".into(),
    });
    model.set_connection(Connection::Connected);
    assert_eq!(model.reconnects, 1);
    for i in 0..10 {
        take(
            &mut model,
            &push("A", "node", json!({})),
            t0 + Duration::from_millis(i * 100),
        );
    }
    assert!((model.rate(secs(t0, 1)) - 10.0).abs() < 1e-9);
    assert!((model.rate(secs(t0, 20)) - 0.0).abs() < 1e-9);
}

#[test]
fn types_are_counted_most_common_first() {
    let t0 = Instant::now();
    let mut model = Model::new(t0);
    for (sn, t) in [("1", "smoke"), ("2", "node"), ("3", "node")] {
        take(&mut model, &push(sn, t, json!({})), t0);
    }
    assert_eq!(model.types(), [("node", 2), ("smoke", 1)]);
}

/// Numeric fields, alarms (field, word) and the interval in seconds.
type Derived = (Vec<(String, f32)>, Vec<(String, &'static str)>, f64);

/// What ingest derived from a full parse before it read `data` from the bytes: the numeric
/// fields (dotted, except `interval`), the alarms and the interval in seconds.
fn from_value(push: &Value) -> Derived {
    fn numbers(
        parent: &str,
        data: &Map<String, Value>,
        depth: usize,
        out: &mut Vec<(String, f32)>,
    ) {
        for (name, value) in data {
            let path = if parent.is_empty() {
                name.clone()
            } else {
                format!("{parent}.{name}")
            };
            match value {
                Value::Number(n) if path != "interval" => {
                    if let Some(n) = n.as_f64().filter(|n| n.is_finite()) {
                        out.push((path, n as f32));
                    }
                }
                Value::Object(inner) if depth < 2 => numbers(&path, inner, depth + 1, out),
                _ => {}
            }
        }
    }
    let data = push.get("data").and_then(Value::as_object);
    let mut fields = Vec::new();
    let mut alarms = Vec::new();
    if let Some(data) = data {
        numbers("", data, 0, &mut fields);
        for (name, value) in data {
            if catalog::alarm_state(name, value) == Some(true) {
                let word = catalog::alarm_words(name).map_or("alarm", |w| w.set);
                alarms.push((name.clone(), word));
            }
        }
    }
    let device_type = push
        .get("deviceType")
        .and_then(Value::as_str)
        .unwrap_or("?");
    if alarms.is_empty()
        && push
            .get("type")
            .and_then(Value::as_str)
            .is_some_and(catalog::is_alarm_name)
    {
        alarms.push(("type".to_owned(), "alarm"));
    }
    let interval = data
        .and_then(|d| d.get("interval"))
        .and_then(Value::as_f64)
        .filter(|s| s.is_finite() && *s > 0.0)
        .unwrap_or_else(|| f64::from(catalog::default_interval(device_type)));
    (fields, alarms, interval.min(1e9))
}

#[test]
fn data_read_from_the_bytes_gives_what_a_full_parse_gives() {
    let payloads: &[&str] = &[
        r#"{"sn":"A","deviceType":"node","data":{"temperature":21.5,"humidity":40,"interval":60}}"#,
        r#"{"sn":"A","deviceType":"smoke","type":"alarm","data":{"smoke":1,"battery":15}}"#,
        r#"{"sn":"A","deviceType":"smoke","type":"alarm","data":{"smoke":0.0}}"#,
        r#"{"sn":"A","deviceType":"leak","data":{"drop":true,"waterLeakAlarm":"1","fooAlarmHigh":1}}"#,
        // Nested, three levels deep and one more that is not read; arrays and strings skipped.
        r#"{"sn":"A","deviceType":"tracker","data":{"magnetic":{"x":1,"y":{"z":2,"w":{"v":3}}},"list":[1,{"a":2}],"s":"}{\"]"}}"#,
        // A repeated key: its first place, its last value (also inside objects).
        r#"{"sn":"A","deviceType":"node","data":{"t":1,"h":2,"t":3,"m":{"x":1},"m":{"y":2}}}"#,
        // Escaped keys, the same key spelt two ways, whitespace and line breaks.
        "{\"sn\":\"A\",\"deviceType\":\"node\",\"data\" : {\n \"te\\u006dp\" : 5 ,\n \"temp\" : 6, \"a\\\"b\": 7 } }",
        // Numbers beyond f64, an exponent, a negative zero, a repeated interval, a zero one.
        r#"{"sn":"A","deviceType":"co","data":{"big":1e400,"e":-2.5E3,"z":-0,"interval":5,"interval":0}}"#,
        r#"{"sn":"A","deviceType":"co","data":{"interval":"60","co":12345678901234567890123}}"#,
        // An empty key under an object, and `data` sent twice (the last counts).
        r#"{"sn":"A","deviceType":"node","data":{"x":1},"data":{"":{"interval":4,"q":1}}}"#,
        r#"{"sn":"A","type":"lowBatteryAlert","data":{}}"#,
    ];
    for payload in payloads {
        let t0 = Instant::now();
        let mut model = Model::new(t0);
        take(&mut model, payload.as_bytes(), t0);
        let parsed: Value = serde_json::from_str(payload).unwrap_or_else(|e| panic!("{e}"));
        let (fields, alarms, interval) = from_value(&parsed);
        let device = model
            .device("A")
            .unwrap_or_else(|| panic!("no device for {payload}"));
        let history: Vec<(String, f32)> = device
            .history
            .iter()
            .map(|(name, ring)| (name.clone(), ring.points().last().map_or(f32::NAN, |p| p.1)))
            .collect();
        assert_eq!(history, fields, "fields of {payload}");
        let active: Vec<(String, &str)> = device
            .alarms
            .iter()
            .map(|a| (a.field.clone(), a.word))
            .collect();
        assert_eq!(active, alarms, "alarms of {payload}");
        assert_eq!(
            device.interval,
            Duration::from_secs_f64(interval),
            "interval of {payload}"
        );
        assert_eq!(
            device.last_value(),
            Some(parsed.clone()),
            "last push of {payload}"
        );
        assert_eq!(
            device.data(),
            parsed.get("data").and_then(Value::as_object),
            "data of {payload}"
        );
    }
}

#[test]
fn a_push_whose_data_is_not_an_object_still_counts() {
    let t0 = Instant::now();
    let mut model = Model::new(t0);
    for data in [json!([1, 2]), json!("text"), json!(null), json!(5)] {
        take(&mut model, &push("A", "node", data), t0);
    }
    take(
        &mut model,
        br#"{"sn":"B","deviceType":"co"}"#,
        t0 + Duration::from_secs(1),
    );
    assert_eq!((model.pushes, model.unreadable), (5, 0));
    let a = model.device("A").unwrap_or_else(|| panic!("A missing"));
    assert_eq!(a.pushes, 4);
    assert!(a.data().is_none() && a.history.is_empty() && a.alarms.is_empty());
    assert_eq!(
        a.interval,
        Duration::from_secs(u64::from(catalog::default_interval("node")))
    );
    let b = model.device("B").unwrap_or_else(|| panic!("B missing"));
    assert_eq!((b.pushes, b.device_type.as_str()), (1, "co"));
    assert!(b.data().is_none() && b.main_fields().is_empty());
}

#[test]
fn each_point_lands_in_its_own_field_whatever_order_the_fields_come_in() {
    let t0 = Instant::now();
    let mut model = Model::new(t0);
    // Fields are looked up where they were in the last push first: here they move.
    for (s, data) in [
        (1, r#"{"a":1,"b":2}"#),
        (2, r#"{"b":3,"a":4}"#),
        (3, r#"{"c":5,"a":6}"#),
        (4, r#"{"a":7}"#),
    ] {
        let text = format!(r#"{{"sn":"0H","deviceType":"node","data":{data}}}"#);
        take(&mut model, text.as_bytes(), secs(t0, s));
    }
    let device = model.device("0H").expect("device");
    let values = |name: &str| -> Vec<f32> {
        device
            .history(name)
            .map(|ring| ring.points().map(|(_, v)| v).collect())
            .unwrap_or_default()
    };
    assert_eq!(values("a"), vec![1.0, 4.0, 6.0, 7.0]);
    assert_eq!(values("b"), vec![2.0, 3.0]);
    assert_eq!(values("c"), vec![5.0]);
}
