//! decrypt / encrypt end to end: input forms, key sources, stream errors, exit codes.

mod common;

use common::TestEnv;

const KEY: &str = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";
const OTHER_KEY: &str = "ZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZ";

fn keyed() -> TestEnv {
    TestEnv::new()
        .env("SENSORO_APP_KEY", KEY)
        .env("SENSORO_APP_ID", "foobar")
}

fn encrypt(env: &TestEnv, text: &str) -> String {
    let run = env.run(&["encrypt", text]);
    run.code(0);
    run.stdout.trim_end().to_owned()
}

#[test]
fn bare_encrypt_data_round_trips_as_argument_and_on_stdin() {
    let env = keyed();
    let cipher = encrypt(&env, r#"{"temperature":21.5,"battery":90}"#);
    env.run(&["decrypt", &cipher])
        .code(0)
        .stdout_is("{\"temperature\":21.5,\"battery\":90}\n");
    env.run_with_stdin(&["decrypt", "-"], format!("{cipher}\n").as_bytes())
        .code(0)
        .stdout_is("{\"temperature\":21.5,\"battery\":90}\n")
        .stderr_is_empty();
}

#[test]
fn a_push_prints_with_data_in_place_of_encrypt_data_and_order_kept() {
    let env = keyed();
    let plain =
        r#"{"appId":"foobar","sn":"0117C9","type":"text","data":{"leak":true},"msgId":"m1"}"#;
    let sealed = env.run_with_stdin(&["encrypt", "--push", "-"], plain.as_bytes());
    sealed.code(0);
    assert!(
        sealed.stdout.contains("\"encryptData\":") && !sealed.stdout.contains("\"data\""),
        "{}",
        sealed.stdout
    );
    env.run(&["decrypt", sealed.stdout.trim_end()])
        .code(0)
        .stdout_is(&format!("{plain}\n"));
}

#[test]
fn ndjson_stream_reports_a_bad_line_and_goes_on_with_exit_5() {
    let env = keyed();
    let push = |n: u32| {
        let plain = format!(r#"{{"appId":"foobar","sn":"S{n}","data":{{"n":{n}}}}}"#);
        let run = env.run_with_stdin(&["encrypt", "--push", "-"], plain.as_bytes());
        run.stdout.trim_end().to_owned()
    };
    let input = format!(
        "{}\n{{\"appId\":\"foobar\",\"encryptData\":\"AAAA\"}}\n{}\n",
        push(1),
        push(3)
    );
    let run = env.run_with_stdin(&["decrypt"], input.as_bytes());
    run.code(5)
        .stdout_is("{\"appId\":\"foobar\",\"sn\":\"S1\",\"data\":{\"n\":1}}\n{\"appId\":\"foobar\",\"sn\":\"S3\",\"data\":{\"n\":3}}\n")
        .stderr_contains("line 2: error: ")
        .stderr_contains("1 of 3 items could not be decrypted");
}

#[test]
fn the_key_can_come_from_a_profile() {
    let env = TestEnv::new();
    env.command(&["profile", "add", "safe", "--app-id", "foobar"])
        .env("SENSORO_APP_KEY", KEY)
        .status()
        .expect("profile add");
    let cipher = encrypt(&env, "hello");
    env.run(&["decrypt", &cipher])
        .code(0)
        .stdout_is("\"hello\"\n");
}

#[test]
fn a_wrong_key_says_the_app_key_is_probably_wrong_with_exit_5() {
    let env = keyed();
    let cipher = encrypt(&env, "hello");
    env.run(&["decrypt", "--app-key", OTHER_KEY, &cipher])
        .code(5)
        .stdout_is("")
        .stderr_contains("the AppKey is probably wrong");
}

#[test]
fn an_app_id_mismatch_names_both_and_can_be_skipped() {
    let env = keyed();
    let cipher = encrypt(&env, "hello");
    env.run(&["decrypt", "--app-id", "other", &cipher])
        .code(5)
        .stderr_contains("\"other\"")
        .stderr_contains("\"foobar\"");
    env.run(&[
        "decrypt",
        "--app-id",
        "other",
        "--no-verify-app-id",
        &cipher,
    ])
    .code(0)
    .stdout_is("\"hello\"\n");
}

#[test]
fn garbage_inputs_get_worded_errors_and_exit_5_never_a_panic() {
    let env = keyed();
    for (input, words) in [
        ("not base64 at all!", "base64"),
        ("QUJD", "not a multiple of the 16-byte AES block"),
        ("{\"encryptData\": 5", "not a JSON object"),
    ] {
        let run = env.run(&["decrypt", input]);
        run.code(5).stderr_contains(words);
        assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    }
}

#[test]
fn a_bad_app_key_is_exit_5_and_a_missing_one_exit_6() {
    TestEnv::new()
        .env("SENSORO_APP_KEY", "short")
        .run(&["decrypt", "QUJD"])
        .code(5)
        .stderr_contains("AppKey must be 43 characters");
    TestEnv::new()
        .run(&["decrypt", "QUJD"])
        .code(6)
        .stderr_contains("no AppKey given")
        .stderr_contains("SENSORO_APP_KEY");
}

#[test]
fn the_app_key_never_appears_in_output() {
    let env = keyed();
    for args in [
        &["decrypt", "QUJD"][..],
        &["decrypt", "--app-key", "x", "QUJD"],
        &["encrypt"],
    ] {
        let run = env.run(args);
        assert!(
            !run.stderr.contains(KEY) && !run.stdout.contains(KEY),
            "{args:?} leaked the key"
        );
    }
}

#[test]
fn on_a_terminal_a_decrypted_push_is_rendered_for_reading_with_colour() {
    let env = keyed();
    let plain = r#"{"appId":"foobar","sn":"0117C9AB12","deviceType":"node","data":{"temperature":21.5,"leak":true}}"#;
    let sealed = env.run_with_stdin(&["encrypt", "--push", "-"], plain.as_bytes());
    let push = sealed.stdout.trim_end();
    let screen = env.run_on_terminal(&["decrypt", push], false);
    assert!(
        screen.contains('\u{1b}'),
        "no colour on a terminal:\n{screen}"
    );
    assert!(
        screen.contains("decrypted") && screen.contains("°C") && screen.contains("ALARM"),
        "{screen}"
    );
    let plain_screen = env.run_on_terminal(&["decrypt", push], true);
    assert!(
        !plain_screen.contains('\u{1b}'),
        "NO_COLOR ignored:\n{plain_screen}"
    );
    assert!(plain_screen.contains("21.5 °C"), "{plain_screen}");
    // Piped, the same push is one compact JSON line without escapes.
    env.run(&["decrypt", push])
        .code(0)
        .stdout_is(&format!("{plain}\n"));
}

/// Issue 11: a push is checked against its own appId unless an AppID is given by flag or
/// environment; the profile's AppID is the last resort, and a mismatch says where the
/// expected AppID came from.
#[test]
fn the_expected_app_id_is_the_given_one_else_the_push_own_else_the_profile() {
    let env = TestEnv::new();
    env.command(&["profile", "add", "work", "--app-id", "foobar"])
        .env("SENSORO_APP_KEY", KEY)
        .output()
        .map(common::Run::from)
        .expect("run")
        .code(0);
    let sealer = TestEnv::new().env("SENSORO_APP_KEY", KEY);
    let sealed = sealer.run_with_stdin(
        &["encrypt", "--push", "-", "--app-id", "demo"],
        br#"{"appId":"demo","sn":"S1","data":{"t":1}}"#,
    );
    sealed.code(0);
    let push = sealed.stdout.trim_end();
    // Default profile work (foobar) has the key; the push's own appId (demo) is expected.
    env.run(&["decrypt", push])
        .code(0)
        .stdout_is("{\"appId\":\"demo\",\"sn\":\"S1\",\"data\":{\"t\":1}}\n");
    // A push claiming another appId than the one sealed inside.
    let forged = push.replace("\"appId\":\"demo\"", "\"appId\":\"other\"");
    env.run(&["decrypt", &forged])
        .code(5)
        .stderr_contains("expected AppID comes from the push's appId")
        .stderr_contains("--no-verify-app-id");
    // A bare encryptData has no appId of its own: the profile's is expected.
    let bare = encrypt(&sealer.env("SENSORO_APP_ID", "demo"), "hello");
    env.run(&["decrypt", &bare])
        .code(5)
        .stderr_contains("\"foobar\"")
        .stderr_contains("expected AppID comes from profile 'work'")
        .stderr_contains("--no-verify-app-id");
    // Given on the command line, it wins over the push's own appId.
    env.run(&["decrypt", "--app-key", KEY, "--app-id", "zzz", push])
        .code(5)
        .stderr_contains("expected AppID comes from --app-id");
    env.command(&["decrypt", "--app-key", KEY, push])
        .env("SENSORO_APP_ID", "zzz")
        .output()
        .map(common::Run::from)
        .expect("run")
        .code(5)
        .stderr_contains("expected AppID comes from $SENSORO_APP_ID");
}
