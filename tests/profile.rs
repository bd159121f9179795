//! Profiles: the store on disk, the `profile` command, and credential resolution order.

mod common;

use std::fs;
use std::os::unix::fs::{MetadataExt as _, PermissionsExt as _};

use common::TestEnv;
use sensoro_mqtt::config::{CredentialFlags, Env, Resolver, Source};
use sensoro_mqtt::error::ExitKind;
use sensoro_mqtt::secret::Secret;

const SECRET: &str = "s3cr3t-app-secret-WXYZ";
const KEY: &str = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";

fn add_work(env: &TestEnv) {
    env.command(&[
        "profile",
        "add",
        "work",
        "--app-id",
        "foobar",
        "--host",
        "mqtt.example.com",
        "--port",
        "1884",
        "--qos",
        "0",
        "--client-suffix",
        "ci-runner",
        "--tls",
    ])
    .env("SENSORO_APP_SECRET", SECRET)
    .env("SENSORO_APP_KEY", KEY)
    .output()
    .map(common::Run::from)
    .expect("run")
    .code(0);
}

#[test]
fn profile_round_trips_through_add_and_show_json() {
    let env = TestEnv::new();
    add_work(&env);
    let shown = env.run(&["profile", "show", "work", "--json", "--show-secrets"]);
    shown.code(0);
    assert_eq!(
        shown.json_lines()[0],
        serde_json::json!({
            "name": "work", "default": true, "app_id": "foobar", "app_secret": SECRET,
            "app_key": KEY, "host": "mqtt.example.com", "port": 1884, "tls": true,
            "ca_file": null, "qos": 0, "client_suffix": "ci-runner"
        })
    );
}

#[test]
fn secrets_are_masked_unless_asked_for() {
    let env = TestEnv::new();
    add_work(&env);
    for args in [
        &["profile", "show"][..],
        &["profile", "show", "work", "--json"],
        &["profile", "list", "--json"],
        &["profile", "list"],
    ] {
        let run = env.run(args);
        run.code(0);
        assert!(
            !run.stdout.contains(SECRET) && !run.stdout.contains(KEY),
            "{args:?} leaked:\n{}",
            run.stdout
        );
        assert!(!run.stderr.contains(SECRET), "{args:?} leaked on stderr");
    }
    env.run(&["profile", "show"])
        .stdout_contains("app_secret     ••••WXYZ");
}

#[test]
fn the_file_is_private_and_its_directory_too() {
    let env = TestEnv::new();
    add_work(&env);
    let path = env.config_path();
    let mode = fs::metadata(&path)
        .expect("config file")
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o600, "file mode {mode:o}");
    let dir_mode = fs::metadata(path.parent().expect("dir"))
        .expect("dir")
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(dir_mode, 0o700, "dir mode {dir_mode:o}");
}

#[test]
fn saving_replaces_the_file_by_rename_and_leaves_no_temp_file() {
    let env = TestEnv::new();
    add_work(&env);
    let path = env.config_path();
    let inode_before = fs::metadata(&path).expect("file").ino();
    env.run(&["profile", "add", "second", "--app-id", "123456"])
        .code(0);
    let inode_after = fs::metadata(&path).expect("file").ino();
    assert_ne!(
        inode_before, inode_after,
        "file was rewritten in place, not replaced"
    );
    let entries: Vec<_> = fs::read_dir(path.parent().expect("dir"))
        .expect("read dir")
        .map(|e| e.expect("entry").file_name())
        .collect();
    // The config and the lock file that serialises writers; no temporary file left.
    let mut entries = entries;
    entries.sort();
    assert_eq!(
        entries,
        [".config.toml.lock", "config.toml"].map(std::ffi::OsString::from)
    );
    let text = fs::read_to_string(&path).expect("read");
    assert!(
        text.contains("[profiles.second]") && text.contains("[profiles.work]"),
        "{text}"
    );
}

#[test]
fn an_unparsable_file_is_reported_with_its_line_and_left_untouched() {
    let env = TestEnv::new();
    let path = env.config_path();
    fs::create_dir_all(path.parent().expect("dir")).expect("mkdir");
    let broken = "default = \"work\"\n[profiles.work]\napp_id = \"foobar\nhost = 1\n";
    fs::write(&path, broken).expect("write");
    fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).expect("chmod");
    let run = env.run(&["profile", "add", "x", "--app-id", "y"]);
    run.code(6)
        .stderr_contains(&format!("cannot parse config file {}", path.display()))
        .stderr_contains("line 3")
        .stderr_contains("never overwrites");
    assert_eq!(fs::read_to_string(&path).expect("read"), broken);
    env.run(&["validate-id", "foobar/x"])
        .code(6)
        .stderr_contains("line 3");
}

#[test]
fn unknown_keys_are_reported_not_ignored() {
    let env = TestEnv::new();
    let path = env.config_path();
    fs::create_dir_all(path.parent().expect("dir")).expect("mkdir");
    fs::write(&path, "[profiles.work]\nappid = \"foobar\"\n").expect("write");
    env.run(&["profile", "list"])
        .code(6)
        .stderr_contains("line 2");
}

#[test]
fn a_group_readable_file_gets_a_warning() {
    let env = TestEnv::new();
    add_work(&env);
    fs::set_permissions(env.config_path(), fs::Permissions::from_mode(0o644)).expect("chmod");
    env.run(&["profile", "list"])
        .code(0)
        .stderr_contains("warning: config file")
        .stderr_contains("readable by group or others (mode 644)")
        .stderr_contains("chmod 600");
}

#[test]
fn default_remove_and_list_manage_the_default_mark() {
    let env = TestEnv::new();
    add_work(&env);
    env.run(&["profile", "add", "lab", "--app-id", "123456"])
        .code(0);
    env.run(&["profile", "list"])
        .stdout_is("  lab   123456  (no host)\n* work  foobar  mqtt.example.com:1884\n");
    env.run(&["profile", "default", "lab"]).code(0);
    env.run(&["profile", "show"])
        .stdout_contains("name           lab");
    env.run(&["profile", "remove", "lab"])
        .code(0)
        .stderr_contains("it was the default");
    env.run(&["profile", "show"])
        .code(6)
        .stderr_contains("no default profile");
    env.run(&["profile", "remove", "nope"])
        .code(6)
        .stderr_contains("known profiles: work");
}

#[test]
fn adding_an_existing_profile_needs_force() {
    let env = TestEnv::new();
    add_work(&env);
    env.run(&["profile", "add", "work", "--app-id", "other"])
        .code(6)
        .stderr_contains("--force");
    env.run(&["profile", "add", "work", "--app-id", "other", "--force"])
        .code(0);
    env.run(&["profile", "show", "work", "--json"])
        .stdout_contains("\"app_id\":\"other\"");
}

#[test]
fn bad_profile_input_is_rejected_before_writing() {
    let env = TestEnv::new();
    env.run(&["profile", "add", "bad name", "--app-id", "x"])
        .code(2);
    env.run(&[
        "profile",
        "add",
        "p",
        "--app-id",
        "foobar",
        "--client-suffix",
        "a.b",
    ])
    .code(6)
    .stderr_contains("character '.'");
    env.run(&["profile", "add", "p", "--app-id", "foobar", "--qos", "2"])
        .code(2);
    assert!(
        !env.config_path().exists(),
        "nothing should have been written"
    );
}

#[test]
fn list_without_profiles_says_how_to_add_one() {
    TestEnv::new()
        .run(&["profile", "list"])
        .code(0)
        .stdout_is("")
        .stderr_contains("profile add NAME");
}

fn resolver(env: &TestEnv, flags: CredentialFlags, vars: &[(&str, &str)]) -> Resolver {
    let config = env.config_path();
    let config = config.to_str().expect("utf-8 path");
    let mut pairs = vec![("SENSORO_MQTT_CONFIG", config)];
    pairs.extend_from_slice(vars);
    Resolver::new(flags, Env::from_pairs(pairs))
}

#[test]
fn resolution_order_is_flags_then_env_then_profile_then_default() {
    let env = TestEnv::new();
    add_work(&env);
    env.run(&[
        "profile",
        "add",
        "lab",
        "--app-id",
        "labapp",
        "--host",
        "lab.example",
    ])
    .code(0);

    let from_default = resolver(&env, CredentialFlags::default(), &[]);
    assert_eq!(from_default.app_id().expect("app id").value, "foobar");
    assert_eq!(
        from_default.app_id().expect("app id").source,
        Source::Profile("work".into())
    );
    assert_eq!(from_default.port().expect("port").value, 1884);
    assert_eq!(
        from_default.app_secret().expect("secret").value.expose(),
        SECRET
    );

    let named = CredentialFlags {
        profile: Some("lab".into()),
        ..Default::default()
    };
    let from_named = resolver(&env, named, &[("SENSORO_PROFILE", "work")]);
    assert_eq!(from_named.app_id().expect("app id").value, "labapp");
    assert_eq!(from_named.port().expect("port").source, Source::Default);

    let from_env_profile = resolver(
        &env,
        CredentialFlags::default(),
        &[("SENSORO_PROFILE", "lab")],
    );
    assert_eq!(from_env_profile.host().expect("host").value, "lab.example");

    let from_env = resolver(
        &env,
        CredentialFlags::default(),
        &[("SENSORO_APP_ID", "envapp"), ("SENSORO_PORT", "2000")],
    );
    assert_eq!(
        from_env.app_id().expect("app id").source,
        Source::Env("SENSORO_APP_ID")
    );
    assert_eq!(from_env.port().expect("port").value, 2000);
    // The default profile `work` is for AppID foobar: it supplies nothing for envapp.
    assert!(from_env.host().is_err(), "work's host used for envapp");

    let flags = CredentialFlags {
        app_id: Some("flagapp".into()),
        app_secret: Some(Secret::new("flag-secret")),
        port: Some(3000),
        ..Default::default()
    };
    let from_flags = resolver(
        &env,
        flags,
        &[
            ("SENSORO_APP_ID", "envapp"),
            ("SENSORO_APP_SECRET", "env-secret"),
        ],
    );
    assert_eq!(from_flags.app_id().expect("app id").value, "flagapp");
    assert_eq!(
        from_flags.app_secret().expect("secret").value.expose(),
        "flag-secret"
    );
    assert_eq!(from_flags.port().expect("port").value, 3000);
}

#[test]
fn missing_values_name_every_place_they_can_come_from() {
    let env = TestEnv::new();
    env.run(&["profile", "add", "bare", "--app-id", "foobar"])
        .code(0);
    let r = resolver(&env, CredentialFlags::default(), &[]);
    let err = r.app_secret().expect_err("no secret anywhere");
    assert_eq!(err.kind(), ExitKind::Config);
    assert_eq!(
        err.message(),
        "no AppSecret given (profile 'bare' has no app_secret)"
    );
    let hint = err.hint().expect("hint");
    assert!(
        hint.contains("--app-secret")
            && hint.contains("SENSORO_APP_SECRET")
            && hint.contains("profile add"),
        "{hint}"
    );
    assert!(r
        .host()
        .expect_err("no host")
        .message()
        .contains("broker host"));
}

#[test]
fn a_fully_specified_command_line_does_not_read_the_store() {
    let env = TestEnv::new();
    let path = env.config_path();
    fs::create_dir_all(path.parent().expect("dir")).expect("mkdir");
    fs::write(&path, "not toml [").expect("write");
    let flags = CredentialFlags {
        app_id: Some("x".into()),
        ..Default::default()
    };
    assert_eq!(
        resolver(&env, flags, &[])
            .app_id()
            .expect("from flag")
            .value,
        "x"
    );
    let err = resolver(&env, CredentialFlags::default(), &[])
        .app_id()
        .expect_err("broken file");
    assert_eq!(err.kind(), ExitKind::Config);
}

#[test]
fn a_bad_port_in_the_environment_is_a_config_error() {
    let env = TestEnv::new();
    let err = resolver(
        &env,
        CredentialFlags::default(),
        &[("SENSORO_PORT", "http")],
    )
    .port()
    .expect_err("bad port");
    assert_eq!(err.kind(), ExitKind::Config);
    assert!(
        err.message().contains("SENSORO_PORT='http'"),
        "{}",
        err.message()
    );
}

#[test]
fn a_default_profile_of_another_app_supplies_nothing_and_says_so() {
    let env = TestEnv::new();
    add_work(&env);
    for (flags, vars, source) in [
        (
            CredentialFlags {
                app_id: Some("demo".into()),
                ..Default::default()
            },
            &[][..],
            "--app-id",
        ),
        (
            CredentialFlags::default(),
            &[("SENSORO_APP_ID", "demo")][..],
            "$SENSORO_APP_ID",
        ),
    ] {
        let r = resolver(&env, flags, vars);
        assert_eq!(r.app_id().expect("app id").value, "demo");
        assert!(r.profile().expect("store reads").is_none());
        assert_eq!(r.client_suffix().expect("suffix"), None);
        assert!(r.app_key().expect("key").is_none(), "work's AppKey used");
        assert_eq!(r.port().expect("port").source, Source::Default);
        let err = r.app_secret().expect_err("work's secret must not be used");
        assert_eq!(err.kind(), ExitKind::Config);
        assert_eq!(
            err.message(),
            format!(
                "no AppSecret given (default profile 'work' is for AppID 'foobar', not 'demo' \
                 (from {source}))"
            )
        );
        assert!(!err.report().contains(SECRET));
        let notes = r.take_notes();
        assert_eq!(
            notes,
            [format!(
                "default profile 'work' is for AppID 'foobar', not 'demo' (from {source}): not \
                 using it"
            )]
        );
    }
}

#[test]
fn a_default_profile_of_the_same_app_is_used_with_an_app_id_flag() {
    let env = TestEnv::new();
    add_work(&env);
    let flags = CredentialFlags {
        app_id: Some("foobar".into()),
        ..Default::default()
    };
    let r = resolver(&env, flags, &[]);
    assert_eq!(r.app_secret().expect("secret").value.expose(), SECRET);
    assert_eq!(
        r.app_secret().expect("secret").source,
        Source::Profile("work".into())
    );
    assert!(r.take_notes().is_empty());
}

#[test]
fn a_named_profile_of_another_app_is_exit_6_naming_both_app_ids() {
    let env = TestEnv::new();
    add_work(&env);
    let flags = CredentialFlags {
        app_id: Some("demo".into()),
        profile: Some("work".into()),
        ..Default::default()
    };
    let err = resolver(&env, flags, &[])
        .app_secret()
        .expect_err("work is for foobar");
    assert_eq!(err.kind(), ExitKind::Config);
    assert_eq!(
        err.message(),
        "profile 'work' (from --profile) is for AppID 'foobar', but AppID 'demo' comes from \
         --app-id"
    );
    let err = resolver(
        &env,
        CredentialFlags::default(),
        &[("SENSORO_PROFILE", "work"), ("SENSORO_APP_ID", "demo")],
    )
    .host()
    .expect_err("work is for foobar");
    assert_eq!(
        err.message(),
        "profile 'work' (from $SENSORO_PROFILE) is for AppID 'foobar', but AppID 'demo' comes \
         from $SENSORO_APP_ID"
    );

    let run = env.run(&[
        "listen",
        "--profile",
        "work",
        "--app-id",
        "demo",
        "--host",
        "127.0.0.1",
    ]);
    run.code(6)
        .stderr_contains("'foobar'")
        .stderr_contains("'demo'");
    assert!(!run.stderr.contains(SECRET));
}

/// Runs `profile ARGS…` in `n` processes at once and waits for all of them.
fn run_concurrently(env: &TestEnv, commands: Vec<Vec<String>>) {
    let children: Vec<_> = commands
        .iter()
        .map(|args| {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            env.command(&args)
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("spawn")
        })
        .collect();
    for (child, args) in children.into_iter().zip(&commands) {
        let run = common::Run::from(child.wait_with_output().expect("wait"));
        assert_eq!(run.code, 0, "{args:?}: {}", run.stderr);
    }
}

fn profile_names(env: &TestEnv) -> Vec<String> {
    let run = env.run(&["profile", "list", "--json"]);
    run.code(0);
    let list = run.json_lines().remove(0);
    list.as_array()
        .expect("array")
        .iter()
        .map(|p| p["name"].as_str().expect("name").to_owned())
        .collect()
}

#[test]
fn twenty_concurrent_adds_leave_twenty_profiles() {
    for round in 0..3 {
        let env = TestEnv::new();
        let adds = (0..20)
            .map(|i| {
                ["profile", "add", &format!("p{i:02}"), "--app-id", "foobar"]
                    .map(str::to_owned)
                    .to_vec()
            })
            .collect();
        run_concurrently(&env, adds);
        let names = profile_names(&env);
        let expected: Vec<String> = (0..20).map(|i| format!("p{i:02}")).collect();
        assert_eq!(names, expected, "round {round}");
    }
}

#[test]
fn racing_removes_and_adds_all_take_effect() {
    let env = TestEnv::new();
    for i in 0..10 {
        env.run(&["profile", "add", &format!("old{i}"), "--app-id", "foobar"])
            .code(0);
    }
    let mut commands: Vec<Vec<String>> = Vec::new();
    for i in 0..10 {
        commands.push(
            ["profile", "remove", &format!("old{i}")]
                .map(str::to_owned)
                .to_vec(),
        );
        commands.push(
            ["profile", "add", &format!("new{i}"), "--app-id", "foobar"]
                .map(str::to_owned)
                .to_vec(),
        );
    }
    run_concurrently(&env, commands);
    let expected: Vec<String> = (0..10).map(|i| format!("new{i}")).collect();
    assert_eq!(profile_names(&env), expected);
}

#[test]
fn a_symlinked_config_is_written_through_to_its_target() {
    let env = TestEnv::new();
    let real = env.dir().join("dotfiles").join("sensoro.toml");
    fs::create_dir_all(real.parent().expect("dir")).expect("mkdir");
    fs::write(&real, "[profiles.old]\napp_id = \"foobar\"\n").expect("write");
    fs::set_permissions(&real, fs::Permissions::from_mode(0o600)).expect("chmod");
    let link = env.config_path();
    fs::create_dir_all(link.parent().expect("dir")).expect("mkdir");
    std::os::unix::fs::symlink(&real, &link).expect("symlink");

    env.run(&["profile", "add", "new", "--app-id", "123456"])
        .code(0);
    assert!(
        fs::symlink_metadata(&link)
            .expect("link")
            .file_type()
            .is_symlink(),
        "the link was replaced by a regular file"
    );
    let text = fs::read_to_string(&real).expect("target");
    assert!(
        text.contains("[profiles.new]") && text.contains("[profiles.old]"),
        "{text}"
    );
    assert_eq!(profile_names(&env), ["new", "old"]);
}

#[test]
fn a_bad_app_key_is_rejected_when_the_profile_is_added() {
    let env = TestEnv::new();
    let long = format!("{KEY}=");
    let run = env.run(&[
        "profile",
        "add",
        "p",
        "--app-id",
        "foobar",
        "--app-key",
        &long,
    ]);
    run.code(6).stderr_contains("43 characters");
    assert!(!run.stderr.contains(KEY), "{}", run.stderr);
    let bad_char = format!("{}!", &KEY[..42]);
    env.run(&[
        "profile",
        "add",
        "p",
        "--app-id",
        "foobar",
        "--app-key",
        &bad_char,
    ])
    .code(6)
    .stderr_contains("AppKey");
    assert!(!env.config_path().exists(), "nothing should be written");
    env.run(&[
        "profile",
        "add",
        "p",
        "--app-id",
        "foobar",
        "--app-key",
        KEY,
    ])
    .code(0);
}

#[test]
fn profile_set_changes_one_field_with_the_checks_of_add() {
    let env = TestEnv::new();
    add_work(&env);
    env.run(&["profile", "set", "work", "host", "mqtt2.example.com"])
        .code(0)
        .stderr_contains("work");
    env.run(&["profile", "set", "work", "port", "8883"]).code(0);
    env.run(&["profile", "set", "work", "tls", "false"]).code(0);
    env.run(&["profile", "set", "work", "qos", "1"]).code(0);
    env.run(&["profile", "set", "work", "client_suffix", "box-2"])
        .code(0);
    env.run(&["profile", "set", "work", "ca_file", "/etc/ca.pem"])
        .code(0);
    env.command(&["profile", "set", "work", "app_secret"])
        .env("SENSORO_APP_SECRET", "new-secret-1234")
        .output()
        .map(common::Run::from)
        .expect("run")
        .code(0);
    let shown = env.run(&["profile", "show", "work", "--json", "--show-secrets"]);
    assert_eq!(
        shown.json_lines()[0],
        serde_json::json!({
            "name": "work", "default": true, "app_id": "foobar",
            "app_secret": "new-secret-1234", "app_key": KEY,
            "host": "mqtt2.example.com", "port": 8883, "tls": false,
            "ca_file": "/etc/ca.pem", "qos": 1, "client_suffix": "box-2"
        })
    );
    let before = fs::read_to_string(env.config_path()).expect("read");
    for (args, code, words) in [
        (&["profile", "set", "work", "port", "0"][..], 2, "port"),
        (&["profile", "set", "work", "port", "http"], 2, "port"),
        (&["profile", "set", "work", "qos", "2"], 2, "qos"),
        (
            &["profile", "set", "work", "tls", "maybe"],
            2,
            "true or false",
        ),
        (
            &["profile", "set", "work", "client_suffix", "a.b"],
            6,
            "'.'",
        ),
        (
            &["profile", "set", "work", "app_key", "short"],
            6,
            "43 characters",
        ),
        (&["profile", "set", "work", "app_id", ""], 2, "app_id"),
        (&["profile", "set", "work", "colour", "x"], 2, "colour"),
        (
            &["profile", "set", "nope", "host", "h"],
            6,
            "no profile named 'nope'",
        ),
        (&["profile", "set", "work", "host"], 2, "VALUE"),
    ] {
        env.run(args).code(code).stderr_contains(words);
    }
    let after = fs::read_to_string(env.config_path()).expect("read");
    assert_eq!(before, after, "a rejected set changed the file");
}
