//! The `sensoro-mqtt` binary: parse, run, map the outcome to an exit code. Nothing else.

use std::process::ExitCode;

use clap::Parser as _;
use sensoro_mqtt::cli::Cli;
use sensoro_mqtt::error::ExitKind;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match sensoro_mqtt::commands::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            if err.kind() != ExitKind::BrokenPipe && !err.message().is_empty() {
                eprint!("{}", err.report());
            }
            ExitCode::from(err.kind().code())
        }
    }
}
