//! A local MQTT broker that behaves like the SENSORO platform: for offline development,
//! `listen --demo`, the `emulate` command and this project's own tests.
//!
//! It accepts MQTT 3.1 and 3.1.1, authenticates like the platform (username = AppID,
//! password = AppSecret, the clientId rule; any failure is CONNACK 5), lets a client subscribe
//! only to `users/<its AppID>/devices`, never forwards what clients publish (except a
//! `--publisher` credential's, on its app's topic: the way tests inject pushes), and delivers
//! pushes from simulated devices (a [`Scenario`]), a replay (a file, or a live stream) or
//! publishers at QoS 0 or 1, with persistent sessions; optionally also POSTed to a webhook as
//! the platform does.
//!
//! It is a library: it never prints and knows nothing about the CLI. What happens is told
//! through [`LogEvent`]s to a caller-supplied sink. Everything is bounded (connections,
//! sessions, pushes kept per app, packet size, the wait for CONNECT) and every task ends at
//! [`EmulatorHandle::shutdown`]. It never panics on network input.
//!
//! ```no_run
//! # async fn demo() -> sensoro_mqtt::error::Result<()> {
//! use sensoro_mqtt::emulator::{AppConfig, Emulator, EmulatorConfig};
//! let config = EmulatorConfig {
//!     bind: "127.0.0.1:0".parse().expect("address"),
//!     apps: vec![AppConfig::new("foobar", "s3cret")],
//!     ..EmulatorConfig::default()
//! };
//! let emulator = Emulator::start(config).await?;
//! println!("{}", sensoro_mqtt::emulator::banner(emulator.local_addr(), &["foobar"]));
//! emulator.shutdown().await;
//! # Ok(())
//! # }
//! ```

mod broker;
mod config;
mod connection;
mod feed;
mod handshake;
mod log;
mod msg_id;
mod protocol;
mod replay;
pub mod scenario;
mod server;
mod session;
mod shutdown;
mod simulate;
mod source;
mod stream;
mod timeline;
mod webhook;

use std::net::SocketAddr;

pub use config::{
    topic_for, AppConfig, EmulatorConfig, PublisherConfig, PushSealer, Replay, WebhookConfig,
    MAX_DEVICES, MAX_INFLIGHT, MAX_REPLAY_BYTES, MAX_REPLAY_LINE,
};
pub use log::{CloseReason, LogEvent, LogSink, MqttVersion, RefuseReason};
pub use rumqttc::mqttbytes::QoS;
pub use scenario::Scenario;
pub use server::{Emulator, EmulatorHandle, EmulatorStats};
pub use webhook::MAX_ATTEMPTS as WEBHOOK_ATTEMPTS;

/// AppID of the demo app (`listen --demo`).
pub const DEMO_APP_ID: &str = "demo";
/// AppSecret of the demo app. Not a secret: it only opens the local emulator.
pub const DEMO_APP_SECRET: &str = "demo-secret";
/// AppKey of the demo app (43 base64 characters, as the platform's are).
pub const DEMO_APP_KEY: &str = "U2Vuc29yb0RlbW9BcHBLZXlGb3JTYWZlTW9kZVRlc3Q";

/// One line telling a person where the emulator listens and how to connect to it. The
/// AppSecret is not shown: it is passed through `SENSORO_APP_SECRET`.
#[must_use]
pub fn banner<S: AsRef<str>>(addr: SocketAddr, app_ids: &[S]) -> String {
    let host = if addr.ip().is_unspecified() {
        "127.0.0.1".to_owned()
    } else {
        addr.ip().to_string()
    };
    let port = addr.port();
    let ids: Vec<&str> = app_ids.iter().map(AsRef::as_ref).collect();
    let first = ids.first().copied().unwrap_or("<AppID>");
    let label = if ids.len() > 1 { "AppIDs" } else { "AppID" };
    format!(
        "SENSORO emulator on {host}:{port} ({label} {}); connect with: \
         SENSORO_APP_SECRET=<AppSecret> sensoro-mqtt listen --host {host} --port {port} \
         --app-id {first}",
        ids.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn banner_is_one_line_with_address_and_command() {
        let line = banner(
            "127.0.0.1:41234".parse().expect("addr"),
            &["foobar", "other"],
        );
        assert!(!line.contains('\n'));
        assert!(line.contains("127.0.0.1:41234"), "{line}");
        assert!(
            line.contains("sensoro-mqtt listen --host 127.0.0.1 --port 41234 --app-id foobar"),
            "{line}"
        );
        assert!(line.contains("SENSORO_APP_SECRET"), "{line}");
    }

    #[test]
    fn banner_for_a_wildcard_bind_names_loopback() {
        let line = banner("0.0.0.0:1883".parse().expect("addr"), &[DEMO_APP_ID]);
        assert!(line.contains("--host 127.0.0.1 --port 1883"), "{line}");
    }

    #[test]
    fn demo_app_key_has_the_platform_length() {
        assert_eq!(DEMO_APP_KEY.len(), 43);
    }
}
