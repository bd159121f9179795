//! `sensoro-mqtt man`: the manual page renders without roff warnings and has the sections a
//! reader looks for. Needs groff (Debian: groff-base); fails under CI=true when missing.

mod common;

use std::io::Write as _;
use std::process::{Command, Stdio};

#[test]
fn the_manual_page_renders_with_exit_codes_and_examples() {
    let run = common::TestEnv::new().run(&["man"]);
    run.code(0).stderr_is_empty();
    assert!(run.stdout.contains(".TH"), "not roff:\n{}", run.stdout);
    if !common::require_tool("groff", "groff-base") {
        return;
    }
    let mut groff = Command::new("groff")
        .args(["-man", "-Tutf8", "-ww", "-P", "-cbou"])
        .env("GROFF_NO_SGR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("groff runs");
    let mut input = groff.stdin.take().expect("stdin");
    let page = run.stdout.clone();
    let writer = std::thread::spawn(move || input.write_all(page.as_bytes()));
    let output = groff.wait_with_output().expect("groff finishes");
    writer.join().expect("writer").expect("page written");
    let rendered = common::Run::from(output);
    rendered.code(0).stderr_is_empty();
    for section in [
        "NAME",
        "SYNOPSIS",
        "DESCRIPTION",
        "OPTIONS",
        "SUBCOMMANDS",
        "EXIT STATUS",
        "ENVIRONMENT",
        "FILES",
        "EXAMPLES",
    ] {
        assert!(
            rendered.stdout.lines().any(|l| l == section),
            "no {section} section:\n{}",
            rendered.stdout
        );
    }
    for text in [
        "124",
        "listen --timeout passed before --count was reached",
        "configuration or profile error",
        "sensoro-mqtt listen --demo",
        "sensoro-mqtt profile set work host",
        "SENSORO_APP_SECRET",
    ] {
        assert!(
            rendered.stdout.contains(text),
            "lacks {text:?}:\n{}",
            rendered.stdout
        );
    }
}
