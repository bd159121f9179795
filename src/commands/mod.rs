//! One module per subcommand. Commands orchestrate: they turn clap arguments into library
//! settings, call the library, and write results (stdout) and messages (stderr).

pub mod completions;
pub mod connect;
pub mod decrypt;
pub mod emulate;
pub mod listen;
pub mod man;
pub(crate) mod plan;
pub mod profile;
pub mod relay;
pub mod target;
pub mod validate_id;
pub mod watch;

use crate::cli::{Cli, Command};
use crate::config::Env;
use crate::error::Result;

/// Runs the parsed command line; the caller maps the error to an exit code.
pub fn run(cli: Cli) -> Result<()> {
    let env = Env::from_process();
    match cli.command {
        Command::Listen(args) => listen::run(&args, env),
        Command::Watch(args) => watch::run(&args, env),
        Command::Connect(args) => connect::run(&args, env),
        Command::ValidateId(args) => validate_id::run(&args, env),
        Command::Profile(command) => profile::run(command, &env),
        Command::Decrypt(args) => decrypt::run_decrypt(&args, env),
        Command::Encrypt(args) => decrypt::run_encrypt(&args, env),
        Command::Relay(args) => relay::run(&args, env),
        Command::Emulate(args) => emulate::run(&args, &env),
        Command::Completions(args) => completions::run(&args),
        Command::Man => man::run(),
    }
}

/// Prints warnings gathered by the library on stderr.
pub(crate) fn print_warnings(warnings: impl IntoIterator<Item = String>) {
    for warning in warnings {
        eprintln!("warning: {warning}");
    }
}

/// Prints what credential resolution has to say: warnings (e.g. about the store), then
/// notes (e.g. a default profile skipped because it belongs to another AppID).
pub(crate) fn print_resolver_messages(resolver: &crate::config::Resolver) {
    print_warnings(resolver.take_warnings());
    for note in resolver.take_notes() {
        eprintln!("note: {note}");
    }
}

/// The async runtime for networked commands: one thread for a client (no hand-offs between
/// threads per message), more workers for a server.
pub(crate) fn runtime(threads: usize) -> Result<tokio::runtime::Runtime> {
    let mut builder = if threads <= 1 {
        tokio::runtime::Builder::new_current_thread()
    } else {
        let mut builder = tokio::runtime::Builder::new_multi_thread();
        builder.worker_threads(threads);
        builder
    };
    builder
        .enable_all()
        .build()
        .map_err(|e| crate::error::Error::io("cannot start the async runtime", &e))
}
