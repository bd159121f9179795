//! Data arrives intact (PRODUCT.md): every path gives a push back byte for byte — listen's
//! reading, safe-mode sealing and opening, decrypt streams, encrypt, listen against the
//! emulator, emulate's safe-mode replay — for thousands of random pushes full of 17-digit
//! floats, big integers, exponents, unicode, escapes, nesting and duplicate keys. And one test
//! per odd payload.

mod common;

use common::broker::{finish, spawn, Broker};
use common::pushes::{self, Rng};
use common::{Emulate, TestEnv};
use proptest::prelude::*;
use sensoro_mqtt::commands::decrypt::{decode_stream, Decoder, Layout, StreamSummary};
use sensoro_mqtt::crypto::{AppKey, SafeModeCodec};
use sensoro_mqtt::json::Scanner;
use sensoro_mqtt::push::{seal_into, PushReader, Reading, SafeMode};

const KEY: &str = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";

fn codec() -> SafeModeCodec {
    SafeModeCodec::new(&AppKey::parse(KEY).expect("key"))
}

fn seal(text: &str) -> String {
    let mut scanner = Scanner::new();
    let doc = scanner
        .scan(text.as_bytes())
        .expect("generated JSON is valid");
    let mut out = Vec::new();
    assert!(seal_into(text.as_bytes(), &doc, &codec(), "foobar", &mut out).expect("seal"));
    String::from_utf8(out).expect("utf8")
}

fn read_line(reader: &mut PushReader, payload: &[u8]) -> (String, SafeMode) {
    match reader.read(payload) {
        Reading::Push(push) => (
            String::from_utf8(push.json.to_vec()).expect("utf8"),
            push.safe_mode,
        ),
        Reading::NotJson { error } => panic!("read as not JSON ({error}): {payload:?}"),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn prop_a_one_line_push_leaves_byte_for_byte(seed in any::<u64>()) {
        let (one_line, _) = pushes::push(&mut Rng::new(seed), "foobar", false);
        let mut reader = PushReader::new(None, None, true);
        let (out, safe_mode) = read_line(&mut reader, one_line.as_bytes());
        prop_assert_eq!(out, one_line);
        prop_assert_eq!(safe_mode, SafeMode::Plain);
    }

    #[test]
    fn prop_a_multi_line_push_becomes_its_one_line_form(seed in any::<u64>()) {
        let (one_line, pretty) = pushes::push(&mut Rng::new(seed), "foobar", true);
        prop_assert!(pretty.contains('\n'));
        let mut reader = PushReader::new(None, None, true);
        prop_assert_eq!(read_line(&mut reader, pretty.as_bytes()).0, pushes::minified(&one_line));
    }

    #[test]
    fn prop_sealing_then_opening_gives_the_push_back(seed in any::<u64>()) {
        let (one_line, _) = pushes::push(&mut Rng::new(seed), "foobar", false);
        let sealed = seal(&one_line);
        prop_assert!(sealed.contains("\"encryptData\":\""));
        let mut reader = PushReader::new(Some(codec()), Some("foobar".into()), true);
        let (out, safe_mode) = read_line(&mut reader, sealed.as_bytes());
        prop_assert_eq!(out, one_line);
        prop_assert_eq!(safe_mode, SafeMode::Decrypted);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(100))]

    #[test]
    fn prop_a_decrypt_stream_gives_every_push_back(seed in any::<u64>()) {
        let plain = pushes::lines(seed, 30, "foobar");
        let input: String = plain.iter().map(|p| seal(p) + "\n").collect();
        let mut decoder = Decoder::new(&AppKey::parse(KEY).expect("key"), None, true, Layout::Compact);
        let (mut out, mut errors) = (Vec::new(), Vec::new());
        let summary = decode_stream(&mut decoder, input.as_bytes(), &mut out, &mut errors)
            .expect("io");
        prop_assert_eq!(summary, StreamSummary { ok: 30, failed: 0 });
        let expected: String = plain.iter().map(|p| format!("{p}\n")).collect();
        prop_assert_eq!(String::from_utf8(out).expect("utf8"), expected);
    }
}

fn keyed() -> TestEnv {
    TestEnv::new()
        .env("SENSORO_APP_KEY", KEY)
        .env("SENSORO_APP_ID", "foobar")
}

#[test]
fn encrypt_push_then_decrypt_gives_500_random_pushes_back_byte_for_byte() {
    let env = keyed();
    let plain = pushes::lines(7, 500, "foobar");
    let input: String = plain.iter().map(|p| format!("{p}\n")).collect();
    let sealed = env.run_with_stdin(&["encrypt", "--push", "-"], input.as_bytes());
    sealed.code(0);
    assert!(!sealed.stdout.contains("\"data\":"), "every data sealed");
    env.run_with_stdin(&["decrypt"], sealed.stdout.as_bytes())
        .code(0)
        .stdout_is(&input)
        .stderr_is_empty();
}

#[test]
fn listen_json_and_output_file_carry_random_pushes_byte_for_byte() {
    let broker = Broker::quiet();
    let env = broker.env();
    let plain = pushes::lines(11, 300, "foobar");
    let file = env.dir().join("out.ndjson");
    let file_arg = file.to_str().expect("utf8 path");
    let count = plain.len().to_string();
    let payloads: Vec<&[u8]> = plain.iter().map(String::as_bytes).collect();
    let child = spawn(
        &env,
        &[
            "--format",
            "json",
            "--count",
            &count,
            "--timeout",
            "30s",
            "--output",
            file_arg,
        ],
    );
    broker.publish_when_subscribed(&payloads);
    let run = finish(child);
    let expected: String = plain.iter().map(|p| format!("{p}\n")).collect();
    run.code(0).stdout_is(&expected);
    assert_eq!(
        std::fs::read_to_string(&file).expect("output file"),
        expected
    );
}

#[test]
fn listen_envelope_embeds_random_pushes_byte_for_byte() {
    let broker = Broker::quiet();
    let plain = pushes::lines(13, 100, "foobar");
    let payloads: Vec<&[u8]> = plain.iter().map(String::as_bytes).collect();
    let run = broker.listen_while_publishing(
        &broker.env(),
        &[
            "--format",
            "json",
            "--envelope",
            "--count",
            "100",
            "--timeout",
            "30s",
        ],
        &payloads,
    );
    run.code(0);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), plain.len());
    for (line, push) in lines.iter().zip(&plain) {
        assert!(line.starts_with("{\"received_at\":\""), "{line}");
        assert!(
            line.ends_with(&format!(",\"push\":{push}}}")),
            "{line}\n{push}"
        );
        serde_json::from_str::<serde_json::Value>(line).expect("valid JSON");
    }
}

#[test]
fn emulate_safe_mode_replay_reaches_listen_byte_for_byte() {
    let env = TestEnv::new()
        .env("SENSORO_APP_SECRET", "s1")
        .env("SENSORO_APP_KEY", KEY);
    let plain = pushes::lines(17, 200, "foobar");
    let replay = env.dir().join("replay.ndjson");
    let text: String = plain.iter().map(|p| format!("{p}\n")).collect();
    std::fs::write(&replay, &text).expect("replay file");
    let app = format!("foobar:s1:{KEY}");
    let emulate = Emulate::start(
        &env,
        &[
            "--app",
            &app,
            "--safe-mode",
            "--replay",
            replay.to_str().expect("utf8 path"),
            "--interval",
            "0s",
        ],
    );
    let run = emulate.listen(&env, "foobar", &["--count", "200", "--format", "json"]);
    run.code(0).stdout_is(&text);
}

#[test]
fn a_push_nested_5000_deep_passes_through_and_pretty_still_shows_it() {
    let broker = Broker::quiet();
    let deep = format!(
        "{{\"sn\":\"D1\",\"data\":{}1{}}}",
        "[".repeat(5000),
        "]".repeat(5000)
    );
    let run = broker.listen_while_publishing(
        &broker.env(),
        &[
            "--format",
            "json",
            "--count",
            "1",
            "--timeout",
            "20s",
            "--sn",
            "D1",
        ],
        &[deep.as_bytes()],
    );
    run.code(0).stdout_is(&format!("{deep}\n"));
    let run = broker.listen_while_publishing(
        &broker.env(),
        &["--format", "pretty", "--count", "1", "--timeout", "20s"],
        &[deep.as_bytes()],
    );
    run.code(0).stdout_contains("nested too deeply");
}

#[test]
fn duplicate_keys_and_a_multi_line_payload_are_kept_as_sent() {
    let broker = Broker::quiet();
    let duplicate = r#"{"sn":"A","data":{"t":1,"t":2},"sn":"B"}"#;
    let multi_line = "{\n  \"sn\": \"C\",\n  \"lonlat\": [116.31264671608805, 39.9]\n}\n";
    let run = broker.listen_while_publishing(
        &broker.env(),
        &["--format", "json", "--count", "2", "--timeout", "20s"],
        &[duplicate.as_bytes(), multi_line.as_bytes()],
    );
    run.code(0).stdout_is(&format!(
        "{duplicate}\n{}\n",
        r#"{"sn":"C","lonlat":[116.31264671608805,39.9]}"#
    ));
    assert!(
        run.stderr.contains("2 pushes from 2 devices"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_bare_plaintext_that_is_not_json_decrypts_to_one_json_string_line() {
    let env = keyed();
    let sealed = env.run(&["encrypt", "first line\nsecond \"line\"\n"]);
    sealed.code(0);
    env.run(&["decrypt", sealed.stdout.trim_end()])
        .code(0)
        .stdout_is("\"first line\\nsecond \\\"line\\\"\\n\"\n");
}

#[test]
fn encrypt_keeps_a_trailing_newline_of_the_argument_and_of_stdin() {
    let env = keyed();
    for sealed in [
        env.run(&["encrypt", "text\n"]),
        env.run_with_stdin(&["encrypt"], b"text\n"),
    ] {
        sealed.code(0);
        env.run(&["decrypt", sealed.stdout.trim_end()])
            .code(0)
            .stdout_is("\"text\\n\"\n");
    }
}

#[test]
fn a_cut_off_line_in_a_decrypt_stream_is_one_error_and_the_next_line_decodes() {
    let env = keyed();
    let plain = pushes::lines(19, 2, "foobar");
    let sealed: Vec<String> = plain.iter().map(|p| seal(p)).collect();
    let cut = &sealed[0][..sealed[0].len() / 2];
    let input = format!("{cut}\n{}\n", sealed[1]);
    env.run_with_stdin(&["decrypt"], input.as_bytes())
        .code(5)
        .stdout_is(&format!("{}\n", plain[1]))
        .stderr_contains("line 1: error: ")
        .stderr_contains("1 of 2 items could not be decrypted");
}
