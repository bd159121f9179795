//! The committed completion scripts match what the current CLI generates.
//! Regenerate them with: `UPDATE_COMPLETIONS=1 cargo test --test completions`.

mod common;

use std::path::Path;

use sensoro_mqtt::commands::completions::{file_name, generate, SHELLS};

#[test]
fn committed_completion_scripts_are_fresh() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("completions");
    let update = std::env::var_os("UPDATE_COMPLETIONS").is_some();
    let mut stale = Vec::new();
    for shell in SHELLS {
        let path = dir.join(file_name(shell));
        let expected = generate(shell);
        if update {
            std::fs::write(&path, &expected).expect("write completion script");
            continue;
        }
        let committed = std::fs::read(&path).unwrap_or_default();
        if committed != expected {
            stale.push(path.display().to_string());
        }
    }
    assert!(
        stale.is_empty(),
        "stale completion scripts: {stale:?}\nregenerate with: UPDATE_COMPLETIONS=1 cargo test --test completions"
    );
}

#[test]
fn completions_command_prints_the_same_script() {
    let run = common::TestEnv::new().run(&["completions", "bash"]);
    run.code(0);
    assert_eq!(
        run.stdout.as_bytes(),
        generate(clap_complete::Shell::Bash).as_slice()
    );
    assert!(
        run.stdout.contains("validate-id"),
        "bash script lacks subcommands"
    );
}

#[test]
fn unknown_shell_is_a_usage_error() {
    common::TestEnv::new().run(&["completions", "tcsh"]).code(2);
}
