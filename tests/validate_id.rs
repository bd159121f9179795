//! validate-id, end to end and against an independent implementation of the rule.

mod common;

use common::TestEnv;
use proptest::prelude::*;
use sensoro_mqtt::client_id;

#[test]
fn argument_mode_prints_one_verdict_per_id_and_exits_1_on_any_invalid() {
    TestEnv::new()
        .run(&[
            "validate-id",
            "--app-id",
            "foobar",
            "foobar/abc",
            "foobar/a.b",
        ])
        .code(1)
        .stdout_is(
            "foobar/abc: valid\nfoobar/a.b: invalid: character '.' at position 9 is not \
             allowed; allowed after the slash: A-Z a-z 0-9 - _; suggestion: foobar/a-b\n",
        )
        .stderr_contains("error: 1 invalid clientId");
}

#[test]
fn all_valid_ids_exit_0_with_nothing_on_stderr() {
    TestEnv::new()
        .run(&[
            "validate-id",
            "--app-id",
            "foobar",
            "foobar",
            "foobar/",
            "foobar/abc",
        ])
        .code(0)
        .stdout_is("foobar: valid\nfoobar/: valid\nfoobar/abc: valid\n")
        .stderr_is_empty();
}

#[test]
fn every_platform_example_gets_the_right_verdict() {
    let long37 = format!("foobar/{}", "a".repeat(37));
    let ok36 = format!("foobar/{}", "a".repeat(36));
    let cases: [(&str, bool); 8] = [
        ("foobar", true),
        ("foobar/", true),
        ("foobar/abc", true),
        (&ok36, true),
        ("foobar/a.b", false),
        ("foobarx", false),
        (&long37, false),
        ("Foobar/abc", false),
    ];
    for (id, valid) in cases {
        let run = TestEnv::new().run(&["validate-id", "--app-id", "foobar", "--json", id]);
        run.code(if valid { 0 } else { 1 });
        let verdict = &run.json_lines()[0];
        assert_eq!(verdict["valid"], valid, "{id}: {verdict}");
    }
}

#[test]
fn stdin_mode_reads_one_id_per_line_with_line_numbers() {
    let run = TestEnv::new().run_with_stdin(
        &["validate-id", "--app-id", "foobar"],
        b"foobar/a\nfoobar/b.c\r\n\nfoobar/d",
    );
    run.code(1).stdout_is(
        "line 1: foobar/a: valid\n\
         line 2: \"foobar/b.c\\r\": invalid: trailing carriage return (\\r) at position 11: the \
         input has Windows (CRLF) line endings; suggestion: foobar/b-c\n\
         line 3: \"\": invalid: the clientId is empty; it must be 'foobar' or start with \
         'foobar/'; suggestion: foobar\n\
         line 4: foobar/d: valid\n",
    );
    run.stderr_contains("4 checked: 2 valid, 2 invalid");
}

#[test]
fn json_output_is_one_object_per_id_with_kind_position_and_suggestion() {
    let run = TestEnv::new().run(&["validate-id", "--app-id", "foobar", "--json", "foobar/a b"]);
    run.code(1);
    let lines = run.json_lines();
    assert_eq!(lines.len(), 1);
    assert_eq!(
        lines[0],
        serde_json::json!({
            "id": "foobar/a b",
            "valid": false,
            "error": {
                "kind": "bad_character",
                "position": 9,
                "message": "character ' ' (space) at position 9 is not allowed; allowed after the slash: A-Z a-z 0-9 - _"
            },
            "suggestion": "foobar/a-b"
        })
    );
}

#[test]
fn quiet_prints_nothing_and_only_sets_the_exit_code() {
    let env = TestEnv::new();
    env.run(&["validate-id", "--app-id", "foobar", "-q", "foobar/ok"])
        .code(0)
        .stdout_is("")
        .stderr_is_empty();
    env.run(&[
        "validate-id",
        "--app-id",
        "foobar",
        "--quiet",
        "foobar/no.pe",
    ])
    .code(1)
    .stdout_is("")
    .stderr_is_empty();
}

#[test]
fn quiet_and_json_together_are_a_usage_error() {
    TestEnv::new()
        .run(&[
            "validate-id",
            "--app-id",
            "foobar",
            "--quiet",
            "--json",
            "x",
        ])
        .code(2)
        .stdout_is("");
}

#[test]
fn missing_app_id_exits_6_and_says_where_to_put_it() {
    TestEnv::new()
        .run(&["validate-id", "foobar/abc"])
        .code(6)
        .stdout_is("")
        .stderr_contains("error: no AppID given")
        .stderr_contains("--app-id")
        .stderr_contains("SENSORO_APP_ID");
}

#[test]
fn app_id_comes_from_the_environment_and_from_a_profile() {
    TestEnv::new()
        .env("SENSORO_APP_ID", "envapp")
        .run(&["validate-id", "envapp/x"])
        .code(0);
    let env = TestEnv::new();
    env.run(&["profile", "add", "p", "--app-id", "profapp"])
        .code(0);
    env.run(&["validate-id", "profapp/x"]).code(0);
    env.run(&["validate-id", "--app-id", "flagapp", "profapp/x"])
        .code(1);
}

#[test]
fn regex_metacharacters_in_the_app_id_are_literal() {
    let env = TestEnv::new();
    env.run(&["validate-id", "--app-id", "a.b+c", "a.b+c/x"])
        .code(0);
    env.run(&["validate-id", "--app-id", "a.b+c", "aXb+c/x"])
        .code(1);
    env.run(&["validate-id", "--app-id", "a.b+c", "a.bbbc/x"])
        .code(1);
}

#[test]
fn non_ascii_ids_are_explained_with_code_points() {
    TestEnv::new()
        .run(&["validate-id", "--app-id", "foobar", "foobar/温度"])
        .code(1)
        .stdout_contains("character '温' (U+6E29) at position 8 is not allowed");
}

#[test]
fn invalid_utf8_on_stdin_is_reported_not_fatal() {
    TestEnv::new()
        .run_with_stdin(
            &["validate-id", "--app-id", "foobar", "--json"],
            b"foobar/\xff\nfoobar/ok\n",
        )
        .code(1)
        .json_lines()
        .iter()
        .zip([false, true])
        .for_each(|(line, valid)| assert_eq!(line["valid"], valid, "{line}"));
}

#[test]
fn a_large_stream_is_checked_completely() {
    let mut input = Vec::new();
    for i in 0..50_000 {
        input.extend_from_slice(format!("foobar/{i:x}\n").as_bytes());
    }
    input.extend_from_slice(b"foobar/last.one\n");
    let run = TestEnv::new().run_with_stdin(&["validate-id", "--app-id", "foobar"], &input);
    run.code(1)
        .stderr_contains("50001 checked: 50000 valid, 1 invalid");
    assert_eq!(run.stdout.lines().count(), 50_001);
}

fn reference_rule(app_id: &str) -> regex::Regex {
    regex::Regex::new(&format!(
        "^{}(/[-_0-9a-zA-Z]{{0,36}})?$",
        regex::escape(app_id)
    ))
    .expect("reference regex")
}

proptest! {
    #[test]
    fn validator_agrees_with_the_regex(
        app_id in "[a-cA-C0-9.+*]{1,6}",
        suffix in "[a-cA-C0-9./_\\- \r\n]{0,40}",
        take_prefix in 0usize..8,
    ) {
        // Ids built around the AppID: whole prefix, truncated prefix, or none.
        let prefix: String = app_id.chars().take(take_prefix).collect();
        for id in [format!("{app_id}{suffix}"), format!("{app_id}/{suffix}"), format!("{prefix}{suffix}")] {
            let expected = reference_rule(&app_id).is_match(&id);
            prop_assert_eq!(client_id::is_valid(app_id.as_bytes(), id.as_bytes()), expected, "id {:?}", id);
            prop_assert_eq!(client_id::explain(&app_id, id.as_bytes()).is_none(), expected, "id {:?}", id);
        }
    }

    #[test]
    fn explain_never_panics_and_suggestions_are_valid(app_id in "\\PC{1,8}", id in "\\PC{0,60}") {
        if let Some(violation) = client_id::explain(&app_id, id.as_bytes()) {
            if let Some(s) = violation.suggestion {
                prop_assert!(client_id::is_valid(app_id.as_bytes(), s.as_bytes()), "suggestion {:?}", s);
            }
            if let Some(p) = violation.position {
                prop_assert!(p >= 1 && p <= id.chars().count().max(1) + 1, "position {} in {:?}", p, id);
            }
        }
    }

    #[test]
    fn explain_never_panics_on_any_bytes(app_id in "[a-z0-9]{1,8}", id in proptest::collection::vec(any::<u8>(), 0..64)) {
        let valid = client_id::is_valid(app_id.as_bytes(), &id);
        prop_assert_eq!(client_id::explain(&app_id, &id).is_none(), valid);
    }
}
