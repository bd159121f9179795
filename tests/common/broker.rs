//! An emulator inside the test process, for tests that publish exactly what they need.

use std::process::Stdio;
use std::time::Duration;

use sensoro_mqtt::emulator::{AppConfig, Emulator, EmulatorConfig, EmulatorHandle};

use super::{Run, TestEnv};

/// An in-process emulator serving app `foobar` (secret `secret-1`) unless told otherwise.
pub struct Broker {
    runtime: tokio::runtime::Runtime,
    handle: Option<EmulatorHandle>,
}

impl Broker {
    pub fn start(config: EmulatorConfig) -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let config = EmulatorConfig {
            bind: "127.0.0.1:0".parse().expect("addr"),
            apps: if config.apps.is_empty() {
                vec![AppConfig::new("foobar", "secret-1")]
            } else {
                config.apps
            },
            ..config
        };
        let handle = runtime
            .block_on(Emulator::start(config))
            .expect("emulator starts");
        Broker {
            runtime,
            handle: Some(handle),
        }
    }

    /// No simulated devices: only what the test publishes.
    pub fn quiet() -> Self {
        Broker::start(EmulatorConfig {
            devices: 0,
            ..EmulatorConfig::default()
        })
    }

    pub fn devices(n: usize) -> Self {
        Broker::start(EmulatorConfig {
            devices: n,
            interval: Duration::from_millis(100),
            ..EmulatorConfig::default()
        })
    }

    pub fn handle(&self) -> &EmulatorHandle {
        self.handle.as_ref().expect("running")
    }

    pub fn port(&self) -> String {
        self.handle().local_addr().port().to_string()
    }

    /// An environment with the right credentials for app foobar.
    pub fn env(&self) -> TestEnv {
        TestEnv::new()
            .env("SENSORO_HOST", "127.0.0.1")
            .env("SENSORO_PORT", &self.port())
            .env("SENSORO_APP_ID", "foobar")
            .env("SENSORO_APP_SECRET", "secret-1")
    }

    /// Publishes once a subscriber is there (bounded wait).
    pub fn publish_when_subscribed(&self, payloads: &[&[u8]]) {
        let handle = self.handle();
        self.runtime.block_on(async {
            tokio::time::timeout(Duration::from_secs(10), handle.wait_for_subscribers(1))
                .await
                .expect("listen subscribed within 10 s");
        });
        for payload in payloads {
            handle.publish("foobar", payload.to_vec()).expect("publish");
        }
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        if let Some(handle) = self.handle.take() {
            self.runtime.block_on(handle.shutdown());
        }
    }
}

impl Broker {
    /// Runs listen while the broker publishes `payloads` once it has subscribed.
    pub fn listen_while_publishing(&self, env: &TestEnv, args: &[&str], payloads: &[&[u8]]) -> Run {
        let child = spawn(env, args);
        self.publish_when_subscribed(payloads);
        finish(child)
    }
}

/// Spawns listen; the caller feeds the broker, then collects the output.
pub fn spawn(env: &TestEnv, args: &[&str]) -> std::process::Child {
    let mut full = vec!["listen"];
    full.extend_from_slice(args);
    env.command(&full)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn listen")
}

pub fn finish(child: std::process::Child) -> Run {
    Run::from(child.wait_with_output().expect("wait"))
}
