//! The command line, as clap types only. Turning these into library settings is the job of
//! `commands`; nothing here does I/O.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueHint};
use clap_complete::Shell;

/// Exit codes, shown at the end of `--help`.
pub const EXIT_CODES_HELP: &str = "\
Exit codes:
  0    success (also: closed pipe)
  1    validate-id found an invalid id; other failure
  2    usage error
  3    network failure: DNS, TCP, TLS, timeout
  4    refused by the broker: CONNACK != 0 or SUBACK failure
  5    decrypt/encrypt failure
  6    configuration or profile error
  7    relay: a target failed for good (authentication, schema, --give-up passed)
  124  listen --timeout passed before --count was reached";

/// Subscriber and debugging tool for the SENSORO IoT cloud's MQTT service.
#[derive(Debug, Parser)]
#[command(name = "sensoro-mqtt", version, after_help = EXIT_CODES_HELP)]
#[command(propagate_version = true, max_term_width = 100)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Subscribe to users/<AppID>/devices and print every push
    #[command(after_help = LISTEN_HELP)]
    Listen(ListenArgs),
    /// A live dashboard of the app's devices: one row per device, alarms and silent ones marked
    #[command(after_help = WATCH_HELP)]
    Watch(WatchArgs),
    /// Check credentials and connectivity step by step, and explain any refusal
    #[command(after_help = CONNECT_HELP)]
    Connect(ConnectArgs),
    /// Check clientIds against the platform rule (for humans and CI)
    #[command(after_help = VALIDATE_ID_HELP)]
    ValidateId(ValidateIdArgs),
    /// Manage stored credential profiles
    #[command(subcommand)]
    Profile(ProfileCommand),
    /// Decrypt safe-mode payloads: encryptData, a push, or an NDJSON stream
    #[command(after_help = DECRYPT_HELP)]
    Decrypt(DecryptArgs),
    /// Encrypt text or pushes the way the platform's safe mode does
    Encrypt(EncryptArgs),
    /// Deliver every push into your system (webhook, SQLite, PostgreSQL, a command), at least once
    #[command(after_help = RELAY_HELP)]
    Relay(RelayArgs),
    /// Run a local broker that behaves like the platform (offline development, demos, tests)
    #[command(after_help = EMULATE_HELP)]
    Emulate(EmulateArgs),
    /// Print a shell completion script
    Completions(CompletionsArgs),
    /// Print the manual page (roff): sensoro-mqtt man | man -l -
    Man,
}

const EMULATE_HELP: &str = "\
Without --app-id or --app, the demo app is served (AppID demo, AppSecret demo-secret), so
`sensoro-mqtt listen --host 127.0.0.1 --app-id demo` with SENSORO_APP_SECRET=demo-secret works.
The first line on stderr gives the address and how to connect; then one line per connect,
refusal (with the reason), subscription and drop. Ctrl-C or SIGTERM stops it with a summary.

Exit status: 0 after Ctrl-C/SIGTERM; 2 usage error; 3 cannot listen on the address;
6 configuration (e.g. --safe-mode without an AppKey, an unreadable --replay file, a scenario
file that does not validate: the error names its line).";

/// `emulate`.
#[derive(Debug, Args)]
pub struct EmulateArgs {
    /// AppID of the app to serve (MQTT username, clientId prefix)
    #[arg(long, value_name = "ID", help_heading = "Apps")]
    pub app_id: Option<String>,
    /// AppSecret of that app (MQTT password) [env: SENSORO_APP_SECRET]
    #[arg(
        long,
        value_name = "SECRET",
        requires = "app_id",
        help_heading = "Apps"
    )]
    pub app_secret: Option<String>,
    /// AppKey of that app, for --safe-mode (43 characters) [env: SENSORO_APP_KEY]
    #[arg(long, value_name = "KEY", requires = "app_id", help_heading = "Apps")]
    pub app_key: Option<String>,
    /// Another app as ID:SECRET[:KEY] (repeatable); each app sees only its own devices
    #[arg(long = "app", value_name = "ID:SECRET[:KEY]", help_heading = "Apps")]
    pub apps: Vec<String>,
    /// A credential that may PUBLISH pushes on app APPID's topic (repeatable): log in with
    /// username APPID, password SECRET and a clientId of the app; what it publishes on
    /// users/APPID/devices reaches the app's subscribers (e.g. with mosquitto_pub)
    #[arg(long = "publisher", value_name = "APPID:SECRET", help_heading = "Apps")]
    pub publishers: Vec<String>,

    /// Address to listen on
    #[arg(
        long,
        value_name = "IP",
        default_value = "127.0.0.1",
        help_heading = "Broker"
    )]
    pub bind: std::net::IpAddr,
    /// Port to listen on (0 picks a free one; the first line says which)
    #[arg(long, default_value_t = 1883, help_heading = "Broker")]
    pub port: u16,
    /// Highest QoS granted on SUBSCRIBE (the platform has no QoS 2)
    #[arg(long, value_name = "QOS", default_value_t = 1, value_parser = clap::value_parser!(u8).range(0..=1), help_heading = "Broker")]
    pub max_qos: u8,
    /// Fault injection: close each connection after N pushes were sent to it
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..), help_heading = "Broker")]
    pub drop_after: Option<u64>,
    /// Most simultaneous connections; more get CONNACK 3 (server unavailable)
    #[arg(long, value_name = "N", default_value_t = 1024, value_parser = clap::value_parser!(u64).range(1..=1_000_000), help_heading = "Broker")]
    pub max_connections: u64,
    /// Close a connection that holds no subscription for this long (publishers: that neither
    /// subscribe nor publish)
    #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = crate::duration::parse_duration, help_heading = "Broker")]
    pub idle_timeout: std::time::Duration,

    /// Simulated devices, spread over the apps (0 for none)
    #[arg(long, value_name = "N", default_value_t = 7, help_heading = "Pushes")]
    pub devices: usize,
    /// Time between rounds of device pushes, or between replayed lines (0 for no pause)
    #[arg(long, value_name = "DURATION", default_value = "1s", value_parser = crate::duration::parse_duration, help_heading = "Pushes")]
    pub interval: std::time::Duration,
    /// Seed of the simulation: the same seed gives the same pushes
    #[arg(long, value_name = "S", default_value_t = 1, help_heading = "Pushes")]
    pub seed: u64,
    /// Publish the pushes of FILE (NDJSON, one per line) instead of simulating; '-' (stdin),
    /// a FIFO or a device is streamed: each line is published as it arrives
    #[arg(long, value_name = "FILE", value_hint = ValueHint::FilePath, help_heading = "Pushes")]
    pub replay: Option<PathBuf>,
    /// Start the replay again when it ends
    #[arg(long = "loop", requires = "replay", help_heading = "Pushes")]
    pub loop_replay: bool,
    /// Also POST each push to URL as the platform's webhook does (signed with the app's
    /// AppSecret; retried with backoff); URL for every app or APPID=URL for one (repeatable)
    #[arg(long = "webhook", value_name = "[APPID=]URL", value_hint = ValueHint::Url, help_heading = "Pushes")]
    pub webhooks: Vec<String>,
    /// Send data encrypted as encryptData with each app's AppKey
    #[arg(long, help_heading = "Pushes")]
    pub safe_mode: bool,
    /// What the devices do: a built-in scenario (demo, alarms, stale, load) or a TOML file;
    /// --devices and --interval size the demo's fleet
    #[arg(long, value_name = "NAME|FILE", value_hint = ValueHint::FilePath, conflicts_with = "replay", help_heading = "Pushes")]
    pub scenario: Option<String>,
    /// Print the built-in scenarios, one line each, and exit
    #[arg(long, exclusive = true, help_heading = "Pushes")]
    pub list_scenarios: bool,
}

const DECRYPT_HELP: &str = "\
Input: a bare encryptData value, a push JSON object with encryptData (printed with data
decrypted in its place), or, on stdin, an NDJSON stream of pushes (one output line per input
line; a bad line is reported on stderr with its number and the rest go on).

Exit status: 0 when everything decrypted, 5 when anything did not, 6 when no AppKey is found.";

/// Where the AppKey and AppID come from (flags > env > profile).
#[derive(Debug, Args)]
pub struct SafeModeKeyArgs {
    /// AppKey, the 43-character message encryption key [env: SENSORO_APP_KEY; else the
    /// profile's app_key]
    #[arg(long, value_name = "KEY")]
    pub app_key: Option<String>,
    /// AppID sealed into every encryptData [env: SENSORO_APP_ID; else the profile's app_id;
    /// else a push's own appId]
    #[arg(long, value_name = "ID")]
    pub app_id: Option<String>,
    /// Take values from this profile [env: SENSORO_PROFILE]
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,
}

/// `decrypt`.
#[derive(Debug, Args)]
pub struct DecryptArgs {
    /// encryptData or a push JSON; '-' or nothing reads stdin
    #[arg(value_name = "INPUT")]
    pub input: Option<String>,
    #[command(flatten)]
    pub keys: SafeModeKeyArgs,
    /// Do not check that the AppID sealed inside matches
    #[arg(long)]
    pub no_verify_app_id: bool,
    /// Colour on a terminal (pushes are rendered for reading there; NO_COLOR is honoured)
    #[arg(long, value_enum, default_value_t = ColorArg::Auto, value_name = "WHEN")]
    pub color: ColorArg,
}

/// `--color`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorArg {
    /// On a terminal unless NO_COLOR is set
    Auto,
    /// Always
    Always,
    /// Never
    Never,
}

impl From<ColorArg> for crate::output::ColorChoice {
    fn from(arg: ColorArg) -> Self {
        match arg {
            ColorArg::Auto => crate::output::ColorChoice::Auto,
            ColorArg::Always => crate::output::ColorChoice::Always,
            ColorArg::Never => crate::output::ColorChoice::Never,
        }
    }
}

/// `encrypt`.
#[derive(Debug, Args)]
pub struct EncryptArgs {
    /// Text to encrypt, taken exactly (a trailing newline too); '-' or nothing reads stdin
    #[arg(value_name = "TEXT", conflicts_with = "push")]
    pub text: Option<String>,
    /// Turn plain pushes (JSON, one per line) from FILE or '-' into safe-mode pushes
    #[arg(long, value_name = "FILE|-", value_hint = ValueHint::FilePath)]
    pub push: Option<String>,
    #[command(flatten)]
    pub keys: SafeModeKeyArgs,
}

const LISTEN_HELP: &str = "\
Output: pretty on a terminal, NDJSON when piped (safe-mode pushes decrypted in place; a
payload that is not JSON still gives one JSON line with \"error\" and \"raw\").
Status, warnings and the summary go to stderr.

Exit status: 0 on --count, Ctrl-C, SIGTERM or a closed pipe; 3 network failure on the first
connection; 4 refused (CONNACK or SUBACK); 6 configuration, including an invalid clientId;
124 when --timeout passes before --count is reached.";

/// Where and as whom to connect: flags > environment > `--profile` > the default profile.
#[derive(Debug, Args)]
#[command(next_help_heading = "Connection")]
pub struct ConnectionArgs {
    /// AppID (MQTT username) [env: SENSORO_APP_ID]
    #[arg(long, value_name = "ID")]
    pub app_id: Option<String>,
    /// AppSecret (MQTT password); prefer SENSORO_APP_SECRET, a profile or the prompt
    #[arg(long, value_name = "SECRET")]
    pub app_secret: Option<String>,
    /// AppKey to decrypt safe-mode pushes [env: SENSORO_APP_KEY]
    #[arg(long, value_name = "KEY")]
    pub app_key: Option<String>,
    /// Broker host from the platform's developer page [env: SENSORO_HOST]
    #[arg(long, value_hint = ValueHint::Hostname)]
    pub host: Option<String>,
    /// Broker port [env: SENSORO_PORT; default 1883]
    #[arg(long)]
    pub port: Option<u16>,
    /// Connect with TLS (rustls; the system's root certificates unless --ca-file)
    #[arg(long)]
    pub tls: bool,
    /// CA bundle (PEM) to verify the broker's certificate with (implies --tls)
    #[arg(long, value_name = "FILE", value_hint = ValueHint::FilePath)]
    pub ca_file: Option<PathBuf>,
    /// Take settings from this profile [env: SENSORO_PROFILE]
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,
    /// The clientId [default: <AppID>/<suffix>]
    #[arg(long, value_name = "ID")]
    pub client_id: Option<String>,
    /// Subscription QoS [default: the profile's qos, else 1]
    #[arg(long, value_parser = clap::value_parser!(u8).range(0..=1))]
    pub qos: Option<u8>,
    /// Subscribe to this topic instead of users/<AppID>/devices
    #[arg(long)]
    pub topic: Option<String>,
}

const WATCH_HELP: &str = "\
Keys: q quit, / filter, arrows or hjkl move, PgUp/PgDn, Enter open a device, Esc back,
s cycle the sort (alarm first, sn, type, age), ? help. A device is stale when silent for
more than twice its own interval; alarms come from the device catalogue. Needs a terminal:
to script, use `listen --format json`.

Exit status: 0 after q/Ctrl-C/SIGTERM; 2 usage error (also: not a terminal);
3 network failure; 4 refused by the broker; 6 configuration error.";

/// `watch`.
#[derive(Debug, Args)]
pub struct WatchArgs {
    /// Watch a built-in emulator (demo app, one simulated device of each known type)
    #[arg(long, conflicts_with_all = ["app_id", "app_secret", "host", "port", "profile", "client_id", "topic", "tls", "ca_file"])]
    pub demo: bool,
    #[command(flatten)]
    pub conn: ConnectionArgs,
    /// Clean session; false with a fixed --client-id keeps QoS 1 pushes sent while away
    #[arg(long, value_name = "BOOL", default_value_t = true, action = clap::ArgAction::Set, help_heading = "Connection")]
    pub clean: bool,
    /// Largest push accepted (e.g. 512k, 16M; up to 255MiB); a bigger one stops watch
    #[arg(long, value_name = "SIZE", default_value = "64MiB", value_parser = crate::mqtt::parse_size, help_heading = "Connection")]
    pub max_payload: usize,
    /// Colour (NO_COLOR is honoured)
    #[arg(long, value_enum, default_value_t = ColorArg::Auto, value_name = "WHEN", help_heading = "Output")]
    pub color: ColorArg,
}

/// `listen`.
#[derive(Debug, Args)]
pub struct ListenArgs {
    /// Listen to a built-in emulator (demo app, simulated devices): no credentials needed
    #[arg(long, conflicts_with_all = ["app_id", "app_secret", "host", "port", "profile", "client_id", "topic", "tls", "ca_file"])]
    pub demo: bool,
    #[command(flatten)]
    pub conn: ConnectionArgs,
    /// Clean session; false with a fixed --client-id keeps QoS 1 pushes sent while away
    #[arg(long, value_name = "BOOL", default_value_t = true, action = clap::ArgAction::Set, help_heading = "Connection")]
    pub clean: bool,
    /// Largest push accepted (e.g. 512k, 16M; up to 255MiB); a bigger one stops listen
    #[arg(long, value_name = "SIZE", default_value = "64MiB", value_parser = crate::mqtt::parse_size, help_heading = "Connection")]
    pub max_payload: usize,

    /// Output format [default: pretty on a terminal, json otherwise]
    #[arg(long, value_enum, help_heading = "Output")]
    pub format: Option<FormatArg>,
    /// Colour in the pretty format (NO_COLOR is honoured)
    #[arg(long, value_enum, default_value_t = ColorArg::Auto, value_name = "WHEN", help_heading = "Output")]
    pub color: ColorArg,
    /// Pretty format: one line per push
    #[arg(long, help_heading = "Output")]
    pub compact: bool,
    /// Pretty format: never wrap or shorten
    #[arg(long, help_heading = "Output")]
    pub wide: bool,
    /// JSON lines become {received_at, topic, qos, retain, dup, push}
    #[arg(long, help_heading = "Output")]
    pub envelope: bool,
    /// Also append every push as NDJSON to FILE
    #[arg(long, value_name = "FILE", value_hint = ValueHint::FilePath, help_heading = "Output")]
    pub output: Option<PathBuf>,

    /// Stop after N pushes
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..), help_heading = "Stopping and filtering")]
    pub count: Option<u64>,
    /// Stop after DURATION (500ms, 30s, 2m); exit 124 if --count was not reached
    #[arg(long, value_name = "DURATION", value_parser = crate::duration::parse_duration, help_heading = "Stopping and filtering")]
    pub timeout: Option<std::time::Duration>,
    /// Only pushes from this device sn (repeatable)
    #[arg(long, value_name = "SN", help_heading = "Stopping and filtering")]
    pub sn: Vec<String>,
    /// Only this deviceType (repeatable)
    #[arg(long, value_name = "TYPE", help_heading = "Stopping and filtering")]
    pub device_type: Vec<String>,
    /// Only this push type, e.g. text (repeatable)
    #[arg(
        long = "type",
        value_name = "TYPE",
        help_heading = "Stopping and filtering"
    )]
    pub r#type: Vec<String>,
}

const RELAY_HELP: &str = "\
Targets (--to, repeatable; a push is acknowledged to the broker only once every target
committed it):
  sqlite:PATH          table 'pushes' keyed by msg_id, batched transactions, WAL
  postgres://...       the same table; push as json (exact bytes), data as jsonb
  http(s)://...        POST signed like the platform's webhook; 2xx committed, other 4xx
                       to the dead letter, 5xx/408/429/timeouts retried
  exec:COMMAND         sh -c COMMAND per push, push on stdin; exit 0 committed

A persistent QoS 1 session with a fixed clientId (--client-id or the profile's
client_suffix): pushes sent while the relay is down wait on the broker. Progress and the
summary go to stderr.

Exit status: 0 after Ctrl-C/SIGTERM; 2 usage error; 3 network failure on the first
connection; 4 refused; 6 configuration (e.g. no fixed clientId); 7 a target failed for good
(authentication, schema, --give-up passed).";

/// `relay`.
#[derive(Debug, Args)]
pub struct RelayArgs {
    /// Relay from a built-in emulator (demo app, simulated devices): no credentials needed
    #[arg(long, conflicts_with_all = ["app_id", "app_secret", "host", "port", "profile", "client_id", "topic", "tls", "ca_file"])]
    pub demo: bool,
    #[command(flatten)]
    pub conn: ConnectionArgs,
    /// Largest push accepted (e.g. 512k, 16M; up to 255MiB)
    #[arg(long, value_name = "SIZE", default_value = "64MiB", value_parser = crate::mqtt::parse_size, help_heading = "Connection")]
    pub max_payload: usize,

    /// Where pushes go: sqlite:PATH, postgres://..., http(s)://..., exec:COMMAND (repeatable)
    #[arg(long = "to", value_name = "TARGET", required = true, value_parser = crate::relay::TargetSpec::parse, help_heading = "Delivery")]
    pub to: Vec<crate::relay::TargetSpec>,
    /// NDJSON file for pushes a target rejected for good (then acknowledged)
    #[arg(long, value_name = "FILE", default_value = "relay-dead-letter.ndjson", value_hint = ValueHint::FilePath, help_heading = "Delivery")]
    pub dead_letter: PathBuf,
    /// Webhook requests or commands at once, per target
    #[arg(long, value_name = "N", default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=1024), help_heading = "Delivery")]
    pub concurrency: u16,
    /// Longest a webhook request or a command may take
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = crate::duration::parse_duration, help_heading = "Delivery")]
    pub timeout: std::time::Duration,
    /// Runs of a failing command per push before it goes to the dead letter
    #[arg(long, value_name = "N", default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..), help_heading = "Delivery")]
    pub max_attempts: u32,
    /// Stop with exit 7 after failing this long without committing anything [default: never]
    #[arg(long, value_name = "DURATION", value_parser = crate::duration::parse_duration, help_heading = "Delivery")]
    pub give_up: Option<std::time::Duration>,
    /// Most pushes per batch (at most 3 batches in flight: committing, waiting, gathering)
    /// [default: 10000 when every target is a database, else 1000]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=100_000), help_heading = "Delivery")]
    pub batch_size: Option<u32>,
    /// Longest a batch gathers while pushes keep coming
    #[arg(long, value_name = "DURATION", default_value = "50ms", value_parser = crate::duration::parse_duration, help_heading = "Delivery")]
    pub batch_age: std::time::Duration,
}

const CONNECT_HELP: &str = "\
Steps, each timed: local checks (AppID, AppSecret, clientId rule) -> DNS -> TCP -> TLS (with
--tls) -> CONNECT/CONNACK -> SUBSCRIBE/SUBACK -> DISCONNECT. The report goes to stdout (one
JSON object with --json); a spinner runs on stderr when it is a terminal. The clientId is
<AppID>/ plus a random suffix unless --client-id is given, so that a running consumer with
a fixed clientId is not kicked off by the check.

Exit status: 0 every step passed; 3 DNS, TCP, TLS or timeout; 4 refused (CONNACK or SUBACK);
6 configuration (missing AppID/AppSecret/host, clientId breaking the rule, bad --save).";

/// `connect`.
#[derive(Debug, Args)]
pub struct ConnectArgs {
    #[command(flatten)]
    pub conn: ConnectionArgs,
    /// Bound on the whole check (500ms, 10s, 1m)
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = crate::duration::parse_duration)]
    pub timeout: std::time::Duration,
    /// Print the report as one JSON object (for CI)
    #[arg(long)]
    pub json: bool,
    /// After a successful check, store these settings as profile NAME
    #[arg(long, value_name = "NAME")]
    pub save: Option<String>,
    /// With --save: replace an existing profile of that name
    #[arg(long, requires = "save")]
    pub force: bool,
    /// Colour in the report (NO_COLOR is honoured)
    #[arg(long, value_enum, default_value_t = ColorArg::Auto, value_name = "WHEN")]
    pub color: ColorArg,
}

/// `--format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FormatArg {
    /// For people: time, device, readings with units
    Pretty,
    /// NDJSON, one push per line
    Json,
    /// The payload bytes as received
    Raw,
}

const VALIDATE_ID_HELP: &str = "\
The rule: ^<AppID>(/[-_0-9a-zA-Z]{0,36})?$ with the AppID taken literally.

Exit status: 0 when every id is valid, 1 when any is invalid, 2 on a usage error,
6 when no AppID can be found (--app-id, SENSORO_APP_ID or a profile).";

/// `validate-id`.
#[derive(Debug, Args)]
pub struct ValidateIdArgs {
    /// The AppID the ids must start with [env: SENSORO_APP_ID; else the profile's app_id]
    #[arg(long, value_name = "ID")]
    pub app_id: Option<String>,

    /// Take the AppID from this profile [env: SENSORO_PROFILE]
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,

    /// Print one JSON object per id (NDJSON)
    #[arg(long, conflicts_with = "quiet")]
    pub json: bool,

    /// Print nothing; the exit status says whether all ids are valid
    #[arg(long, short)]
    pub quiet: bool,

    /// ClientIds to check; without any, one per line is read from stdin
    #[arg(value_name = "CLIENT_ID")]
    pub ids: Vec<String>,
}

/// `profile …`.
#[derive(Debug, Subcommand)]
pub enum ProfileCommand {
    /// List stored profiles (the default one is marked with *)
    List(ProfileListArgs),
    /// Show one profile (the default one without NAME); secrets are masked
    Show(ProfileShowArgs),
    /// Store a new profile (or replace one with --force)
    Add(ProfileAddArgs),
    /// Delete a profile
    Remove(ProfileNameArg),
    /// Make a profile the default
    Default(ProfileNameArg),
    /// Change one field of a profile (checked as `add` checks it)
    #[command(after_help = PROFILE_SET_HELP)]
    Set(ProfileSetArgs),
}

const PROFILE_SET_HELP: &str = "\
Examples:
  sensoro-mqtt profile set work host mqtt.example.com
  sensoro-mqtt profile set work qos 0
  SENSORO_APP_SECRET=... sensoro-mqtt profile set work app_secret

For app_secret and app_key the VALUE may be left out: it is then taken from
SENSORO_APP_SECRET / SENSORO_APP_KEY, or asked for without echo on a terminal.";

/// `profile set`.
#[derive(Debug, Args)]
pub struct ProfileSetArgs {
    /// The profile
    pub name: String,
    /// The field to change
    #[arg(value_enum)]
    pub key: ProfileKey,
    /// The new value (true/false for tls, 0/1 for qos)
    pub value: Option<String>,
}

/// A field of a stored profile, as `profile set` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
#[value(rename_all = "snake_case")]
pub enum ProfileKey {
    /// AppID (MQTT username)
    AppId,
    /// AppSecret (MQTT password)
    AppSecret,
    /// AppKey for safe mode (43 characters)
    AppKey,
    /// Broker host
    Host,
    /// Broker port
    Port,
    /// Connect with TLS: true or false
    Tls,
    /// CA bundle (PEM) for TLS
    CaFile,
    /// Subscription QoS: 0 or 1
    Qos,
    /// Fixed clientId suffix
    ClientSuffix,
}

/// `profile list`.
#[derive(Debug, Args)]
pub struct ProfileListArgs {
    /// Print a JSON array
    #[arg(long)]
    pub json: bool,
}

/// `profile show`.
#[derive(Debug, Args)]
pub struct ProfileShowArgs {
    /// The profile (default: the default profile)
    pub name: Option<String>,
    /// Print a JSON object
    #[arg(long)]
    pub json: bool,
    /// Print AppSecret and AppKey in full instead of masked
    #[arg(long)]
    pub show_secrets: bool,
}

/// A profile name.
#[derive(Debug, Args)]
pub struct ProfileNameArg {
    /// The profile
    pub name: String,
}

/// `profile add`.
#[derive(Debug, Args)]
pub struct ProfileAddArgs {
    /// Name of the new profile (letters, digits, '-', '_', '.')
    pub name: String,
    /// AppID (MQTT username)
    #[arg(long, value_name = "ID")]
    pub app_id: String,
    /// AppSecret (MQTT password); better: SENSORO_APP_SECRET or the prompt on a terminal
    #[arg(long, value_name = "SECRET")]
    pub app_secret: Option<String>,
    /// AppKey for safe mode (43 characters); better: SENSORO_APP_KEY or the prompt
    #[arg(long, value_name = "KEY")]
    pub app_key: Option<String>,
    /// Broker host from the platform's developer page
    #[arg(long, value_hint = ValueHint::Hostname)]
    pub host: Option<String>,
    /// Broker port [default when unset: 1883]
    #[arg(long)]
    pub port: Option<u16>,
    /// Connect with TLS
    #[arg(long)]
    pub tls: bool,
    /// CA bundle (PEM) for TLS
    #[arg(long, value_name = "FILE", value_hint = ValueHint::FilePath)]
    pub ca_file: Option<PathBuf>,
    /// Subscription QoS
    #[arg(long, value_parser = clap::value_parser!(u8).range(0..=1))]
    pub qos: Option<u8>,
    /// Fixed clientId suffix: the clientId becomes <AppID>/<SUFFIX>
    #[arg(long, value_name = "SUFFIX")]
    pub client_suffix: Option<String>,
    /// Make it the default profile
    #[arg(long)]
    pub default: bool,
    /// Replace an existing profile of that name
    #[arg(long)]
    pub force: bool,
}

/// `completions`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell
    #[arg(value_enum)]
    pub shell: Shell,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory as _;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
