//! `completions`: shell completion scripts from the clap definition. The same generator
//! writes the committed files in `completions/`, and a test keeps them fresh.

use std::io::Write as _;

use clap::CommandFactory as _;
use clap_complete::{Generator as _, Shell};

use crate::cli::{Cli, CompletionsArgs};
use crate::error::Result;

/// The binary's name, as completions must call it.
pub const BIN_NAME: &str = "sensoro-mqtt";

/// Every shell a completion script is generated and committed for.
pub const SHELLS: [Shell; 5] = [
    Shell::Bash,
    Shell::Zsh,
    Shell::Fish,
    Shell::PowerShell,
    Shell::Elvish,
];

/// The completion script for `shell`.
#[must_use]
pub fn generate(shell: Shell) -> Vec<u8> {
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), BIN_NAME, &mut script);
    script
}

/// The file name under `completions/` for `shell` (e.g. `_sensoro-mqtt` for zsh).
#[must_use]
pub fn file_name(shell: Shell) -> String {
    shell.file_name(BIN_NAME)
}

/// Prints the script on stdout.
pub fn run(args: &CompletionsArgs) -> Result<()> {
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(&generate(args.shell))?;
    stdout.flush()?;
    Ok(())
}
