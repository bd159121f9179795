//! What an emulator run is made of: the apps it knows, how pushes are made, and the limits
//! that keep it bounded.
//!
//! Plain data with defaults and one validation step; nothing here opens a socket or reads a
//! file. The CLI fills an [`EmulatorConfig`] from its flags; tests fill one directly.

use std::fmt;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use rumqttc::mqttbytes::QoS;

use super::log::LogSink;
use super::scenario::Scenario;
use crate::error::{Error, Result};
use crate::secret::Secret;

/// Turns the JSON of a push's `data` into the base64 `encryptData` of safe mode.
///
/// The emulator does not know the cipher: the caller plugs in the platform's codec (the
/// crate's safe-mode crypto) per app, and tests plug in a fake. Errors are plain text because
/// they only end up in a log line.
pub trait PushSealer: Send + Sync {
    /// Seals `data_json` (the UTF-8 JSON of `data`) for `app_id`.
    fn seal(&self, app_id: &str, data_json: &str) -> std::result::Result<String, String>;
}

/// One application the emulator accepts, as the platform's developer page would list it.
#[derive(Clone)]
pub struct AppConfig {
    /// The AppID: MQTT username, clientId prefix and part of the topic.
    pub app_id: String,
    /// The AppSecret: the MQTT password.
    pub app_secret: Secret,
    /// The AppKey, kept so the caller can build a [`PushSealer`] from it; never sent anywhere.
    pub app_key: Option<Secret>,
    /// Seals `data` into `encryptData` when safe mode is on; required for every app then.
    pub sealer: Option<Arc<dyn PushSealer>>,
}

impl AppConfig {
    /// An app with its AppID and AppSecret, without AppKey or sealer.
    pub fn new(app_id: impl Into<String>, app_secret: impl Into<String>) -> Self {
        AppConfig {
            app_id: app_id.into(),
            app_secret: Secret::new(app_secret),
            app_key: None,
            sealer: None,
        }
    }

    /// Parses the CLI's `ID:SECRET[:KEY]` form. The AppKey is stored but no sealer is made:
    /// the caller builds one from it when safe mode is wanted.
    pub fn from_spec(spec: &str) -> Result<Self> {
        let mut parts = spec.splitn(3, ':');
        let (Some(id), Some(secret)) = (parts.next(), parts.next()) else {
            return Err(Error::usage(format!(
                "app '{}' is not of the form ID:SECRET[:KEY]",
                spec.split(':').next().unwrap_or_default()
            )));
        };
        if id.is_empty() || secret.is_empty() {
            return Err(Error::usage(
                "app spec needs a non-empty AppID and AppSecret (ID:SECRET[:KEY])",
            ));
        }
        let mut app = AppConfig::new(id, secret);
        app.app_key = parts.next().filter(|k| !k.is_empty()).map(Secret::new);
        Ok(app)
    }

    /// The demo app used by `listen --demo` (see [`super::DEMO_APP_ID`]).
    #[must_use]
    pub fn demo() -> Self {
        let mut app = AppConfig::new(super::DEMO_APP_ID, super::DEMO_APP_SECRET);
        app.app_key = Some(Secret::new(super::DEMO_APP_KEY));
        app
    }

    /// Sets the sealer used in safe mode.
    #[must_use]
    pub fn with_sealer(mut self, sealer: Arc<dyn PushSealer>) -> Self {
        self.sealer = Some(sealer);
        self
    }

    /// The one topic this app's clients may subscribe to: `users/<AppID>/devices`.
    #[must_use]
    pub fn topic(&self) -> String {
        topic_for(&self.app_id)
    }
}

/// A credential that may PUBLISH pushes on one app's topic (`--publisher APPID:SECRET`).
///
/// It connects like a client of that app (username = the AppID, a clientId of the app's
/// rule) with its own password; what it publishes on `users/<AppID>/devices` reaches the
/// app's subscribers as a platform push. The platform has no such thing: it exists so that
/// tests can inject pushes with any MQTT client (e.g. `mosquitto_pub`).
#[derive(Clone)]
pub struct PublisherConfig {
    /// The app whose topic it may publish on.
    pub app_id: String,
    /// Its password; must differ from the app's AppSecret.
    pub secret: Secret,
}

impl PublisherConfig {
    /// A publisher for `app_id` with password `secret`.
    pub fn new(app_id: impl Into<String>, secret: impl Into<String>) -> Self {
        PublisherConfig {
            app_id: app_id.into(),
            secret: Secret::new(secret),
        }
    }

    /// Parses the CLI's `APPID:SECRET` form.
    pub fn from_spec(spec: &str) -> Result<Self> {
        match spec.split_once(':') {
            Some((id, secret)) if !id.is_empty() && !secret.is_empty() => {
                Ok(PublisherConfig::new(id, secret))
            }
            _ => Err(Error::usage(format!(
                "publisher '{}' is not of the form APPID:SECRET",
                spec.split(':').next().unwrap_or_default()
            ))),
        }
    }
}

impl fmt::Debug for PublisherConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PublisherConfig")
            .field("app_id", &self.app_id)
            .field("secret", &self.secret)
            .finish()
    }
}

/// Where pushes are also POSTed, as the platform's webhook does (`--webhook`).
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookConfig {
    /// The app whose pushes go there; `None` for every app (each signed with its own
    /// AppSecret).
    pub app_id: Option<String>,
    /// The receiver's `http://` or `https://` URL.
    pub url: String,
}

impl WebhookConfig {
    /// Parses the CLI's `URL` (every app) or `APPID=URL` (one app) form.
    pub fn from_spec(spec: &str) -> Result<Self> {
        let lower = spec.to_ascii_lowercase();
        if lower.starts_with("http://") || lower.starts_with("https://") {
            return Ok(WebhookConfig {
                app_id: None,
                url: spec.to_owned(),
            });
        }
        match spec.split_once('=') {
            Some((id, url)) if !id.is_empty() && !url.is_empty() => Ok(WebhookConfig {
                app_id: Some(id.to_owned()),
                url: url.to_owned(),
            }),
            _ => Err(Error::usage(format!(
                "webhook '{}' is not of the form URL or APPID=URL",
                crate::relay::redact_url(spec)
            ))),
        }
    }
}

impl fmt::Debug for WebhookConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookConfig")
            .field("app_id", &self.app_id)
            .field("url", &crate::relay::redact_url(&self.url))
            .finish()
    }
}

/// `users/<AppID>/devices`, without a leading slash (see PLATFORM.md).
#[must_use]
pub fn topic_for(app_id: &str) -> String {
    format!("users/{app_id}/devices")
}

impl fmt::Debug for AppConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AppConfig")
            .field("app_id", &self.app_id)
            .field("app_secret", &self.app_secret)
            .field("app_key", &self.app_key)
            .field("sealer", &self.sealer.as_ref().map(|_| "(set)"))
            .finish()
    }
}

/// Where replayed pushes come from: NDJSON, one payload per line, published byte for byte.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Replay {
    /// A path. A regular file is read whole when the emulator starts (at most
    /// [`MAX_REPLAY_BYTES`]) and may loop; anything else (a FIFO, a device) is streamed like
    /// [`Replay::Stdin`].
    File(PathBuf),
    /// Standard input, streamed: each line is published as it arrives (lines of at most
    /// [`MAX_REPLAY_LINE`] bytes; longer ones are skipped).
    Stdin,
    /// NDJSON already in memory.
    Text(Vec<u8>),
}

/// The largest replay input accepted.
pub const MAX_REPLAY_BYTES: u64 = 64 * 1024 * 1024;
/// The longest line of a streamed replay (stdin, FIFO, device); longer lines are skipped.
pub const MAX_REPLAY_LINE: usize = 1024 * 1024;
/// The most simulated devices.
pub const MAX_DEVICES: usize = 10_000;
/// The largest in-flight window per session.
pub const MAX_INFLIGHT: u16 = 1_000;

/// Everything an emulator run needs. `Default` gives a loopback broker on the platform's port
/// with the platform's limits and no app (at least one must be added).
#[derive(Clone)]
pub struct EmulatorConfig {
    /// Address to listen on; port 0 picks a free one ([`super::EmulatorHandle::local_addr`]).
    pub bind: SocketAddr,
    /// The apps whose credentials are accepted.
    pub apps: Vec<AppConfig>,
    /// Credentials that may publish pushes on an app's topic.
    pub publishers: Vec<PublisherConfig>,
    /// Receivers every push of their app is also POSTed to, signed like the platform's.
    pub webhooks: Vec<WebhookConfig>,
    /// Most pushes waiting per webhook; when full, the oldest gives way (counted).
    pub webhook_queue: usize,
    /// Highest QoS granted on SUBSCRIBE (the platform's beta grants 0; default 1). Not 2.
    pub max_qos: QoS,
    /// Simulated devices, spread round-robin over the apps; 0 simulates nothing. With a
    /// scenario: the size of a fleet that does not give its own count.
    pub devices: usize,
    /// Time between simulation rounds, or between replayed lines; zero means no pause. With a
    /// scenario: the period of a fleet that does not give its own interval.
    pub interval: Duration,
    /// Seed of the simulation: the same seed gives the same readings (apart from
    /// `createdTime`; msgIds differ on every run).
    pub seed: u64,
    /// What to simulate; `None` is the `demo` scenario ([`Scenario::demo`]): `devices`
    /// devices of every type pushing each `interval`.
    pub scenario: Option<Scenario>,
    /// Seals the scenario's wrong-key pushes: a sealer whose key is no app's AppKey. Needed
    /// only when the scenario has such an event.
    pub wrong_key_sealer: Option<Arc<dyn PushSealer>>,
    /// Replay pushes instead of simulating them.
    pub replay: Option<Replay>,
    /// Start the replay again when it ends.
    pub loop_replay: bool,
    /// Replace `data` by `encryptData` (every app then needs a sealer).
    pub safe_mode: bool,
    /// Fault injection: close each connection after this many pushes were sent to it.
    pub drop_after: Option<u64>,
    /// How long a new connection may take to send CONNECT.
    pub connect_timeout: Duration,
    /// How long a client may leave written data unread before it is dropped.
    pub write_timeout: Duration,
    /// Largest packet accepted from a client (MQTT remaining length, bytes).
    pub max_packet_size: usize,
    /// Most simultaneous TCP connections; more are closed at once.
    pub max_connections: usize,
    /// How long a connection may go without a subscription (and, for a publisher, without
    /// publishing) before it is closed, so idle clients cannot hold the connection limit.
    pub idle_timeout: Duration,
    /// Most sessions kept (online and offline); the oldest offline one is evicted past it.
    pub max_sessions: usize,
    /// Most recent pushes kept per app for sessions that are behind (offline persistent
    /// sessions, slow readers); a session further behind loses the oldest, counted.
    pub queue_limit: usize,
    /// Most unacknowledged QoS 1 pushes per session.
    pub max_inflight: u16,
    /// Receives every log event; `None` discards them.
    pub log: Option<LogSink>,
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        EmulatorConfig {
            bind: SocketAddr::from((Ipv4Addr::LOCALHOST, 1883)),
            apps: Vec::new(),
            publishers: Vec::new(),
            webhooks: Vec::new(),
            webhook_queue: 1000,
            max_qos: QoS::AtLeastOnce,
            devices: 7,
            interval: Duration::from_secs(1),
            seed: 1,
            scenario: None,
            wrong_key_sealer: None,
            replay: None,
            loop_replay: false,
            safe_mode: false,
            drop_after: None,
            connect_timeout: Duration::from_secs(10),
            write_timeout: Duration::from_secs(30),
            max_packet_size: 256 * 1024,
            max_connections: 1024,
            idle_timeout: Duration::from_secs(60),
            max_sessions: 4096,
            queue_limit: 1000,
            max_inflight: 32,
            log: None,
        }
    }
}

impl fmt::Debug for EmulatorConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EmulatorConfig")
            .field("bind", &self.bind)
            .field("apps", &self.apps)
            .field("publishers", &self.publishers)
            .field("webhooks", &self.webhooks)
            .field("webhook_queue", &self.webhook_queue)
            .field("max_qos", &self.max_qos)
            .field("devices", &self.devices)
            .field("interval", &self.interval)
            .field("seed", &self.seed)
            .field("scenario", &self.scenario.as_ref().map(|s| &s.name))
            .field(
                "wrong_key_sealer",
                &self.wrong_key_sealer.as_ref().map(|_| "(set)"),
            )
            .field(
                "replay",
                &self.replay.as_ref().map(|r| match r {
                    Replay::File(path) => path.display().to_string(),
                    Replay::Stdin => "stdin".to_owned(),
                    Replay::Text(text) => format!("{} bytes in memory", text.len()),
                }),
            )
            .field("loop_replay", &self.loop_replay)
            .field("safe_mode", &self.safe_mode)
            .field("drop_after", &self.drop_after)
            .field("connect_timeout", &self.connect_timeout)
            .field("write_timeout", &self.write_timeout)
            .field("max_packet_size", &self.max_packet_size)
            .field("max_connections", &self.max_connections)
            .field("idle_timeout", &self.idle_timeout)
            .field("max_sessions", &self.max_sessions)
            .field("queue_limit", &self.queue_limit)
            .field("max_inflight", &self.max_inflight)
            .field("log", &self.log.as_ref().map(|_| "(sink)"))
            .finish()
    }
}

impl EmulatorConfig {
    /// Checks what `start` relies on, with messages in the CLI's terms.
    pub fn validate(&self) -> Result<()> {
        if self.apps.is_empty() {
            return Err(Error::config("the emulator needs at least one app")
                .with_hint("give --app-id and --app-secret, or --app ID:SECRET[:KEY]"));
        }
        for (index, app) in self.apps.iter().enumerate() {
            validate_app(app, self.safe_mode)?;
            if self.apps[..index].iter().any(|a| a.app_id == app.app_id) {
                return Err(Error::usage(format!("app '{}' is given twice", app.app_id)));
            }
        }
        for publisher in &self.publishers {
            self.validate_publisher(publisher)?;
        }
        if self.max_qos == QoS::ExactlyOnce {
            return Err(Error::usage(
                "max QoS must be 0 or 1: the platform has no QoS 2",
            ));
        }
        self.validate_scenario()?;
        self.validate_limits()
    }

    /// The scenario's AppIDs are served, its size is bounded, and its wrong-key events have a
    /// sealer.
    fn validate_scenario(&self) -> Result<()> {
        let Some(scenario) = &self.scenario else {
            return Ok(());
        };
        if let Some(id) = scenario
            .app_ids()
            .find(|id| !self.apps.iter().any(|app| app.app_id == *id))
        {
            return Err(Error::config(format!(
                "scenario '{}' puts a device on app '{id}', which is not served",
                scenario.name
            ))
            .with_hint("add the app with --app ID:SECRET[:KEY]"));
        }
        if scenario.device_count(self.devices) > MAX_DEVICES {
            return Err(Error::config(format!(
                "scenario '{}' has more than {MAX_DEVICES} devices",
                scenario.name
            )));
        }
        if scenario.needs_wrong_key() && self.wrong_key_sealer.is_none() {
            return Err(Error::config(format!(
                "scenario '{}' has wrong-key events but no sealer for them",
                scenario.name
            )));
        }
        Ok(())
    }

    fn validate_publisher(&self, publisher: &PublisherConfig) -> Result<()> {
        let id = &publisher.app_id;
        let Some(app) = self.apps.iter().find(|app| app.app_id == *id) else {
            return Err(Error::usage(format!(
                "publisher for '{}': no such app in this emulator",
                id.escape_debug()
            )));
        };
        if publisher.secret.expose().is_empty() {
            return Err(Error::usage(format!(
                "publisher for '{id}' has an empty secret"
            )));
        }
        if publisher.secret.expose() == app.app_secret.expose() {
            return Err(Error::usage(format!(
                "publisher for '{id}' must have its own secret, not the app's AppSecret"
            )));
        }
        Ok(())
    }

    /// True when pushes are simulated (rather than replayed, or none at all).
    #[must_use]
    pub fn simulates(&self) -> bool {
        self.replay.is_none()
            && self
                .scenario
                .as_ref()
                .map_or(self.devices > 0, |s| s.device_count(self.devices) > 0)
    }

    fn validate_limits(&self) -> Result<()> {
        let checks = [
            (self.devices <= MAX_DEVICES, "devices must be at most 10000"),
            (
                self.max_packet_size >= 64,
                "max packet size must be at least 64 bytes",
            ),
            (
                self.max_connections >= 1,
                "max connections must be at least 1",
            ),
            (
                self.max_sessions >= self.max_connections,
                "max sessions must be at least max connections",
            ),
            (self.queue_limit >= 1, "queue limit must be at least 1"),
            (
                self.webhook_queue >= 1,
                "the webhook queue must hold at least 1 push",
            ),
            (
                (1..=MAX_INFLIGHT).contains(&self.max_inflight),
                "the in-flight window must be 1 to 1000",
            ),
            (self.drop_after != Some(0), "drop-after must be at least 1"),
            (
                !self.connect_timeout.is_zero(),
                "connect timeout must be above zero",
            ),
            (
                !self.write_timeout.is_zero(),
                "write timeout must be above zero",
            ),
            (
                !self.idle_timeout.is_zero(),
                "idle timeout must be above zero",
            ),
        ];
        match checks.iter().find(|(ok, _)| !ok) {
            Some((_, message)) => Err(Error::usage(*message)),
            None => Ok(()),
        }
    }
}

fn validate_app(app: &AppConfig, safe_mode: bool) -> Result<()> {
    let id = &app.app_id;
    if id.is_empty() || id.contains(['/', '+', '#']) || id.chars().any(char::is_control) {
        return Err(Error::usage(format!(
            "AppID '{}' cannot be used: it must be non-empty, without '/', '+', '#' or control \
             characters",
            id.escape_debug()
        )));
    }
    if app.app_secret.expose().is_empty() {
        return Err(Error::config(format!("app '{id}' has an empty AppSecret")));
    }
    if safe_mode && app.sealer.is_none() {
        return Err(
            Error::config(format!("safe mode needs an AppKey for app '{id}'"))
                .with_hint("give the AppKey as --app ID:SECRET:KEY or --app-key"),
        );
    }
    Ok(())
}
