//! Snapshots of watch's screens drawn on ratatui's `TestBackend`: the files under
//! `tests/snapshots/watch/` are the spec. To accept new output, run
//! `UPDATE_SNAPSHOTS=1 cargo test --test watch_screens` and review the diff by eye.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use sensoro_mqtt::push::PushReader;
use sensoro_mqtt::watch::app::{App, Control};
use sensoro_mqtt::watch::feed::{AckToken, Pushes, WatchInput};
use sensoro_mqtt::watch::model::{Connection, Model};
use serde_json::{json, Value};

fn push_bytes(sn: &str, device_type: &str, kind: &str, data: Value) -> bytes::Bytes {
    let push = json!({"appId": "demo", "sn": sn, "type": kind, "deviceType": device_type,
        "createdTime": 1_732_400_000_000_u64, "msgId": "m", "data": data});
    bytes::Bytes::from(serde_json::to_vec(&push).unwrap_or_default())
}

fn feed(app: &mut App, at: Instant, bytes: bytes::Bytes) {
    let input = WatchInput::Push {
        payload: bytes,
        received_at: at,
        ack: AckToken::none(),
    };
    if let Err(error) = app.on_input(input) {
        panic!("input refused: {error}");
    }
}

/// A small fleet: a node with history, an alarming smoke detector, a stale leak sensor, an
/// electricity meter, a tracker and a device of a type nobody knows.
fn fleet(t0: Instant) -> App {
    let mut app = App::new(Model::new(t0), PushReader::new(None, None, false), false);
    app.on_input(WatchInput::Connection(Connection::Connected))
        .unwrap_or_else(|e| panic!("{e}"));
    for i in 0..20u64 {
        let at = t0 + Duration::from_secs(i * 3);
        let temperature = 20.0 + (i as f64 / 3.0).sin() * 2.0;
        feed(
            &mut app,
            at,
            push_bytes(
                "0117C90001",
                "node",
                "text",
                json!({"battery": 90, "interval": 300, "temperature": (temperature * 10.0).round() / 10.0,
                "humidity": 40 + i}),
            ),
        );
    }
    let at = |s: u64| t0 + Duration::from_secs(s);
    feed(
        &mut app,
        at(50),
        push_bytes(
            "0117C90002",
            "smoke",
            "alarm",
            json!({"battery": 15, "interval": 3600, "smoke": 1, "installed": true}),
        ),
    );
    feed(
        &mut app,
        at(1),
        push_bytes(
            "0117C90003",
            "leak",
            "text",
            json!({"battery": 70, "interval": 10, "drop": false}),
        ),
    );
    feed(
        &mut app,
        at(55),
        push_bytes(
            "0117C90004",
            "dianbiao",
            "text",
            json!({"battery": -1, "interval": 300, "CURRENT_A": 4.25, "VOLTAGE_A": 229.9, "TOTAL_POWER": 1234.5}),
        ),
    );
    feed(
        &mut app,
        at(56),
        push_bytes(
            "0117C90005",
            "tracker",
            "text",
            json!({"battery": 55, "latitude": 39.912345, "longitude": 116.391234}),
        ),
    );
    feed(
        &mut app,
        at(57),
        push_bytes(
            "0117C90006",
            "quantum_flux",
            "text",
            json!({"flux": 3.25, "mood": "calm"}),
        ),
    );
    app
}

fn screen(app: &mut App, width: u16, height: u16, now: Instant) -> String {
    let mut terminal = Terminal::new(TestBackend::new(width, height))
        .unwrap_or_else(|e| panic!("test terminal: {e}"));
    app.draw(&mut terminal, now)
        .unwrap_or_else(|e| panic!("draw: {e}"));
    let buffer = terminal.backend().buffer();
    let mut out = String::new();
    for y in 0..buffer.area.height {
        let mut line = String::new();
        for x in 0..buffer.area.width {
            line.push_str(buffer[(x, y)].symbol());
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

fn check(case: &str, actual: &str) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/snapshots/watch")
        .join(format!("{case}.txt"));
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some_and(|v| v == "1") {
        std::fs::write(&path, actual).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("read {} ({e}); run with UPDATE_SNAPSHOTS=1", path.display()));
    assert!(
        expected == actual,
        "snapshot {case} differs\n--- expected\n{expected}\n--- actual\n{actual}"
    );
}

fn key(app: &mut App, code: KeyCode, now: Instant) -> Control {
    app.on_key(KeyEvent::new(code, KeyModifiers::NONE), now)
}

#[test]
fn table_shows_one_row_per_device_with_units_alarm_and_stale_marks() {
    let t0 = Instant::now();
    let mut app = fleet(t0);
    let now = t0 + Duration::from_secs(60);
    let text = screen(&mut app, 120, 20, now);
    check("table", &text);
    assert!(text.contains("⚠ smoke") && text.contains("◌ stale") && text.contains("°C"));
}

#[test]
fn enter_opens_the_device_with_every_field_and_charts() {
    let t0 = Instant::now();
    let mut app = fleet(t0);
    let now = t0 + Duration::from_secs(60);
    app.view.sort = sensoro_mqtt::watch::model::SortKey::Sn;
    assert_eq!(key(&mut app, KeyCode::Enter, now), Control::Continue);
    assert_eq!(app.view.detail.as_deref(), Some("0117C90001"));
    let text = screen(&mut app, 120, 30, now);
    check("detail", &text);
    assert!(text.contains("temperature") && text.contains("humidity"));
    key(&mut app, KeyCode::Esc, now);
    assert_eq!(app.view.detail, None);
}

#[test]
fn help_lists_the_keys_and_rules() {
    let t0 = Instant::now();
    let mut app = fleet(t0);
    key(&mut app, KeyCode::Char('?'), t0);
    check(
        "help",
        &screen(&mut app, 100, 26, t0 + Duration::from_secs(60)),
    );
}

#[test]
fn an_empty_app_says_it_is_waiting() {
    let t0 = Instant::now();
    let mut app = App::new(Model::new(t0), PushReader::new(None, None, false), false);
    check("empty", &screen(&mut app, 80, 12, t0));
}

#[test]
fn reconnecting_shows_the_reason() {
    let t0 = Instant::now();
    let mut app = fleet(t0);
    let reason = "connection reset by the broker; retrying in 2.0s".to_owned();
    app.on_input(WatchInput::Connection(Connection::Reconnecting { reason }))
        .unwrap_or_else(|e| panic!("{e}"));
    check(
        "reconnecting",
        &screen(&mut app, 100, 14, t0 + Duration::from_secs(60)),
    );
}

#[test]
fn refused_shows_the_broker_reason() {
    let t0 = Instant::now();
    let mut app = App::new(Model::new(t0), PushReader::new(None, None, false), false);
    let reason = "the broker refused the connection: not authorized (CONNACK 5)".to_owned();
    app.on_input(WatchInput::Connection(Connection::Refused { reason }))
        .unwrap_or_else(|e| panic!("{e}"));
    check("refused", &screen(&mut app, 100, 10, t0));
}

#[test]
fn a_60_column_terminal_keeps_the_essential_columns() {
    let t0 = Instant::now();
    let mut app = fleet(t0);
    let text = screen(&mut app, 60, 16, t0 + Duration::from_secs(60));
    check("narrow", &text);
    assert!(text.lines().all(|line| line.chars().count() <= 60));
}

#[test]
fn slash_filters_and_s_cycles_the_sort_and_q_quits() {
    let t0 = Instant::now();
    let mut app = fleet(t0);
    let now = t0 + Duration::from_secs(60);
    key(&mut app, KeyCode::Char('/'), now);
    for c in "dian".chars() {
        key(&mut app, KeyCode::Char(c), now);
    }
    key(&mut app, KeyCode::Enter, now);
    let text = screen(&mut app, 120, 14, now);
    assert!(
        text.contains("0117C90004") && !text.contains("0117C90001"),
        "{text}"
    );
    assert!(text.contains("devices 1 of 6"), "{text}");
    key(&mut app, KeyCode::Char('s'), now);
    assert!(screen(&mut app, 120, 14, now).contains("sort: sn"));
    assert_eq!(key(&mut app, KeyCode::Char('q'), now), Control::Quit);
    let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
    assert_eq!(app.on_key(ctrl_c, now), Control::Quit);
}

#[test]
fn no_color_means_no_colour_in_the_buffer() {
    let t0 = Instant::now();
    let mut app = fleet(t0);
    let mut terminal =
        Terminal::new(TestBackend::new(100, 14)).unwrap_or_else(|e| panic!("test terminal: {e}"));
    app.draw(&mut terminal, t0 + Duration::from_secs(60))
        .unwrap_or_else(|e| panic!("draw: {e}"));
    let buffer = terminal.backend().buffer();
    assert!(buffer
        .content
        .iter()
        .all(|cell| cell.fg == ratatui::style::Color::Reset
            && cell.bg == ratatui::style::Color::Reset));
}

#[test]
fn a_long_table_scrolls_to_keep_the_selection_on_screen() {
    let t0 = Instant::now();
    let mut app = App::new(Model::new(t0), PushReader::new(None, None, false), false);
    for n in 0..300u32 {
        let sn = format!("0117C9{n:04}");
        feed(
            &mut app,
            t0,
            push_bytes(
                &sn,
                "node",
                "text",
                json!({"battery": 80, "temperature": 20}),
            ),
        );
    }
    key(&mut app, KeyCode::Char('s'), t0);
    let sorted = screen(&mut app, 100, 20, t0);
    assert!(sorted.contains("sort: sn"), "{sorted}");
    assert!(
        sorted.contains("▶0117C90000"),
        "the first row is selected:\n{sorted}"
    );
    key(&mut app, KeyCode::End, t0);
    let end = screen(&mut app, 100, 20, t0);
    assert!(
        end.contains("▶0117C90299"),
        "the last row is on screen, selected:\n{end}"
    );
    assert!(
        !end.contains("0117C90000"),
        "the first row has scrolled away:\n{end}"
    );
    assert!(end.contains("devices 300 of 300"), "{end}");
}

#[test]
fn the_detail_shows_every_field_of_the_last_push_including_nested_ones() {
    let t0 = Instant::now();
    let mut app = App::new(Model::new(t0), PushReader::new(None, None, false), false);
    feed(
        &mut app,
        t0,
        push_bytes(
            "0117C9NEST",
            "tracker",
            "text",
            json!({"battery": 80, "magnetic": {"x": 1.5, "y": -2, "deep": {"z": 7}}}),
        ),
    );
    // The last push counts, on several lines as sent.
    let last = "{\n  \"appId\": \"demo\", \"sn\": \"0117C9NEST\", \"deviceType\": \"tracker\",\n  \"type\": \"text\", \"msgId\": \"m2\",\n  \"data\": {\"battery\": 81, \"magnetic\": {\"x\": 2.5, \"y\": -3, \"deep\": {\"z\": 8}}, \"label\": \"a\\\"b\"}\n}";
    feed(
        &mut app,
        t0 + Duration::from_secs(1),
        bytes::Bytes::from(last),
    );
    let now = t0 + Duration::from_secs(2);
    key(&mut app, KeyCode::Enter, now);
    assert_eq!(app.view.detail.as_deref(), Some("0117C9NEST"));
    let text = screen(&mut app, 120, 30, now);
    for shown in [
        "appId: demo",
        "sn: 0117C9NEST",
        "msgId: m2",
        "data.battery: 81",
        "data.magnetic.x: 2.5",
        "data.magnetic.y: -3",
        "data.magnetic.deep.z: 8",
        "data.label: a\"b",
    ] {
        assert!(text.contains(shown), "{shown} missing in\n{text}");
    }
}

#[test]
fn pushes_that_arrive_together_are_each_taken_and_acknowledged() {
    let t0 = Instant::now();
    let mut app = App::new(Model::new(t0), PushReader::new(None, None, false), false);
    let parts = [
        push_bytes("0117C9B001", "node", "text", json!({"temperature": 20})),
        bytes::Bytes::from_static(b"not json"),
        push_bytes("0117C9B002", "smoke", "alarm", json!({"smoke": 1})),
        push_bytes("0117C9B001", "node", "text", json!({"temperature": 21})),
    ];
    let mut payloads = Vec::new();
    let mut ends = Vec::new();
    for part in &parts {
        payloads.extend_from_slice(part);
        ends.push(payloads.len());
    }
    let acks = app
        .on_input(WatchInput::Pushes(Pushes {
            payloads: bytes::Bytes::from(payloads),
            ends,
            acks: vec![AckToken::none(); parts.len()],
            received_at: t0,
        }))
        .unwrap_or_else(|e| panic!("input refused: {e}"));
    assert_eq!(acks.len(), parts.len());
    let model = app.model();
    assert_eq!(
        (model.pushes, model.unreadable, model.device_count()),
        (4, 1, 2)
    );
    assert_eq!(model.device("0117C9B001").map(|d| d.pushes), Some(2));
    assert_eq!(model.alarm_count(), 1);
}

fn pushes_input(t0: Instant, sns: &[&str]) -> WatchInput {
    let mut payloads = Vec::new();
    let mut ends = Vec::new();
    for sn in sns {
        payloads.extend_from_slice(&push_bytes(sn, "node", "text", json!({"temperature": 20})));
        ends.push(payloads.len());
    }
    WatchInput::Pushes(Pushes {
        payloads: bytes::Bytes::from(payloads),
        ends,
        acks: vec![AckToken::none(); sns.len()],
        received_at: t0,
    })
}

/// The inputs waiting together are taken in one round and their tokens handed over in one
/// call, in order (one message to the feed, one write of PUBACKs); when the session then
/// fails, what is in the model is still acknowledged.
#[test]
fn run_hands_over_the_tokens_of_a_round_of_inputs_at_once_even_before_a_failure() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let t0 = Instant::now();
    let mut app = App::new(Model::new(t0), PushReader::new(None, None, false), false);
    let mut terminal = Terminal::new(TestBackend::new(100, 30)).expect("terminal");
    let (tx, mut inputs) = tokio::sync::mpsc::channel(8);
    let (_keys_tx, mut keys) = tokio::sync::mpsc::channel(1);
    for input in [
        pushes_input(t0, &["A1", "A2"]),
        pushes_input(t0, &["B1", "B2", "B3"]),
        WatchInput::Failed(sensoro_mqtt::error::Error::new(
            sensoro_mqtt::error::ExitKind::Network,
            "gone",
        )),
    ] {
        tx.try_send(input).expect("room");
    }
    let mut calls = Vec::new();
    let outcome = runtime
        .block_on(app.run(
            &mut terminal,
            &mut inputs,
            &mut keys,
            |tokens| calls.push(tokens.len()),
            std::future::pending(),
        ))
        .expect("run");
    assert!(
        matches!(outcome, sensoro_mqtt::watch::app::Outcome::Failed(_)),
        "{outcome:?}"
    );
    assert_eq!(calls, vec![5], "one call with every token taken");
    assert_eq!(app.model().device_count(), 5);
}
