//! `man`: the manual page (roff), generated from the clap definition by clap_mangen, with
//! the sections a man page reader looks for: exit status, environment, files, examples.

use std::io::Write as _;

use clap::CommandFactory as _;

use crate::cli::Cli;
use crate::error::{Error, Result};

/// Exit codes as in PRODUCT.md and `--help`.
const EXIT_STATUS: [(&str, &str); 8] = [
    (
        "0",
        "success (also: Ctrl-C, SIGTERM or a closed pipe during listen)",
    ),
    (
        "1",
        "validate-id found an invalid id; other generic failure",
    ),
    ("2", "usage error (bad flags)"),
    ("3", "network failure: DNS, TCP, TLS, timeout"),
    (
        "4",
        "refused by the broker: CONNACK not 0, or SUBACK failure",
    ),
    ("5", "decrypt/encrypt failure"),
    ("6", "configuration or profile error"),
    ("124", "listen --timeout passed before --count was reached"),
];

const ENVIRONMENT: [(&str, &str); 8] = [
    ("SENSORO_APP_ID", "the AppID (MQTT username)"),
    ("SENSORO_APP_SECRET", "the AppSecret (MQTT password)"),
    (
        "SENSORO_APP_KEY",
        "the AppKey that decrypts safe-mode pushes",
    ),
    ("SENSORO_HOST", "the broker host"),
    ("SENSORO_PORT", "the broker port (default 1883)"),
    (
        "SENSORO_PROFILE",
        "the profile to use instead of the default one",
    ),
    ("SENSORO_MQTT_CONFIG", "the path of the profile store"),
    ("NO_COLOR", "no colour in any output"),
];

const EXAMPLES: [(&str, &str); 6] = [
    (
        "A first run, with no account: the built-in emulator and its demo app",
        "sensoro-mqtt listen --demo",
    ),
    (
        "Store a profile (the secret from the environment), check it, then listen",
        "SENSORO_APP_SECRET=... sensoro-mqtt profile add work --app-id foobar --host mqtt.example.com\n\
         sensoro-mqtt connect --profile work\n\
         sensoro-mqtt listen --profile work",
    ),
    (
        "Pipe pushes into jq",
        "sensoro-mqtt listen --count 10 | jq .data",
    ),
    (
        "Check clientIds in CI (exit 1 when any is invalid)",
        "sensoro-mqtt validate-id --app-id foobar --quiet foobar/ci-1 foobar/ci-2",
    ),
    (
        "Decrypt a safe-mode push",
        "SENSORO_APP_KEY=... sensoro-mqtt decrypt '{\"appId\":\"foobar\",\"encryptData\":\"...\"}'",
    ),
    (
        "Change one field of a profile",
        "sensoro-mqtt profile set work host mqtt2.example.com",
    ),
];

/// Escapes text for roff: backslashes, and a leading `.` or `'` that would be a request.
fn roff_text(text: &str) -> String {
    let escaped = text.replace('\\', "\\e").replace('-', "\\-");
    if escaped.starts_with('.') || escaped.starts_with('\'') {
        format!("\\&{escaped}")
    } else {
        escaped
    }
}

/// The whole manual page in roff.
pub fn render() -> Result<Vec<u8>> {
    let man = clap_mangen::Man::new(Cli::command());
    let mut page = Vec::new();
    let io = |e: std::io::Error| Error::io("cannot render the manual page", &e);
    man.render_title(&mut page).map_err(io)?;
    man.render_name_section(&mut page).map_err(io)?;
    man.render_synopsis_section(&mut page).map_err(io)?;
    man.render_description_section(&mut page).map_err(io)?;
    man.render_options_section(&mut page).map_err(io)?;
    man.render_subcommands_section(&mut page).map_err(io)?;
    let mut extra = String::from(".SH \"EXIT STATUS\"\n");
    for (code, meaning) in EXIT_STATUS {
        extra.push_str(&format!(".TP\n\\fB{code}\\fR\n{}\n", roff_text(meaning)));
    }
    extra.push_str(".SH ENVIRONMENT\n");
    for (name, meaning) in ENVIRONMENT {
        extra.push_str(&format!(
            ".TP\n\\fB{}\\fR\n{}\n",
            roff_text(name),
            roff_text(meaning)
        ));
    }
    extra.push_str(
        ".SH FILES\n.TP\n\\fI$SENSORO_MQTT_CONFIG\\fR, else \
         \\fI~/.config/sensoro\\-mqtt/config.toml\\fR\nThe profile store (TOML, mode 0600). \
         Precedence: flags, then environment, then \\fB\\-\\-profile\\fR, then the default \
         profile; a profile supplies nothing for another AppID.\n.SH EXAMPLES\n",
    );
    for (what, command) in EXAMPLES {
        extra.push_str(&format!(".PP\n{}:\n.PP\n.nf\n.RS 4\n", roff_text(what)));
        for line in command.lines() {
            extra.push_str(&roff_text(line.trim_start()));
            extra.push('\n');
        }
        extra.push_str(".RE\n.fi\n");
    }
    page.extend_from_slice(extra.as_bytes());
    man.render_version_section(&mut page).map_err(io)?;
    Ok(page)
}

/// Prints the manual page on stdout (`sensoro-mqtt man | man -l -`).
pub fn run() -> Result<()> {
    let page = render()?;
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(&page)?;
    stdout.flush()?;
    Ok(())
}
