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
    if shell == Shell::Bash {
        script = fix_bash_states(&String::from_utf8_lossy(&script)).into_bytes();
    }
    script
}

/// Works around clap-rs/clap#6421 (open as of clap_complete 4.6): for a binary whose name
/// has a hyphen, the bash script's word loop names a state `sensoro__mqtt__subcmd__listen`
/// while its `case` arms spell it `sensoro__subcmd__mqtt__subcmd__listen`, so no arm
/// matches and nothing after the first word completes. The arms are renamed the loop's way;
/// [`bash_states_without_arm`] checks that every state the loop can reach has an arm.
fn fix_bash_states(script: &str) -> String {
    let wrong = format!("{}__subcmd__", BIN_NAME.replace('-', "__subcmd__"));
    let right = format!("{}__subcmd__", BIN_NAME.replace('-', "__"));
    script.replace(&wrong, &right)
}

/// The states a bash completion script's word loop assigns (`cmd="…"`) that no `case` arm
/// handles; empty for a working script.
#[must_use]
pub fn bash_states_without_arm(script: &str) -> Vec<String> {
    let arms: std::collections::HashSet<&str> = script
        .lines()
        .filter_map(|line| line.trim().strip_suffix(')'))
        .collect();
    let mut missing: Vec<String> = script
        .lines()
        .filter_map(|line| line.trim().strip_prefix("cmd=\""))
        .filter_map(|rest| rest.strip_suffix('"'))
        .filter(|state| !state.is_empty() && !arms.contains(state))
        .map(str::to_owned)
        .collect();
    missing.sort();
    missing.dedup();
    missing
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_state_of_the_bash_script_has_its_case_arm() {
        let script = String::from_utf8(generate(Shell::Bash)).expect("utf-8");
        assert!(script.contains("cmd=\"sensoro__mqtt__subcmd__listen\""));
        assert_eq!(bash_states_without_arm(&script), Vec::<String>::new());
    }

    #[test]
    fn the_check_sees_the_upstream_bug() {
        let mut raw = Vec::new();
        clap_complete::generate(Shell::Bash, &mut Cli::command(), BIN_NAME, &mut raw);
        let raw = String::from_utf8(raw).expect("utf-8");
        let missing = bash_states_without_arm(&raw);
        // When this fails, clap_complete fixed #6421 and `fix_bash_states` can go.
        assert!(
            missing.contains(&"sensoro__mqtt__subcmd__listen".to_owned()),
            "{missing:?}"
        );
    }
}
