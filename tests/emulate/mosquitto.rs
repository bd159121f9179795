//! Interoperability with Eclipse Mosquitto's `mosquitto_sub` against the in-process emulator.
//!
//! Needs `mosquitto_sub` (Debian: `apt-get install -y mosquitto-clients`). Without it the tests
//! fail when `CI=true` and are skipped loudly otherwise. Child processes are killed on every
//! path by [`Sub`]'s `Drop`.

use std::process::{Output, Stdio};

use sensoro_mqtt::emulator::LogEvent;
use tokio::process::{Child, Command};
use tokio::time::timeout;

use crate::harness::*;

/// False (after a loud message) when `mosquitto_sub` is missing outside CI; panics in CI.
fn mosquitto_sub_available() -> bool {
    crate::common::require_tool("mosquitto_sub", "mosquitto-clients")
}

/// A running `mosquitto_sub`, killed when dropped.
struct Sub {
    child: Option<Child>,
}

impl Sub {
    fn spawn(args: &[&str]) -> Sub {
        let child = Command::new("mosquitto_sub")
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("mosquitto_sub starts");
        Sub { child: Some(child) }
    }

    /// Waits for it to exit by itself and returns what it printed.
    async fn output(mut self) -> Output {
        let child = self.child.take().expect("not waited yet");
        timeout(WAIT, child.wait_with_output())
            .await
            .expect("mosquitto_sub exits in time")
            .expect("mosquitto_sub output")
    }
}

impl Drop for Sub {
    fn drop(&mut self) {
        if let Some(child) = self.child.as_mut() {
            let _ = child.start_kill();
        }
    }
}

/// `-h 127.0.0.1 -p <port>` followed by `rest`.
fn args<'a>(port: &'a str, rest: &[&'a str]) -> Vec<&'a str> {
    let mut all = vec!["-h", "127.0.0.1", "-p", port];
    all.extend_from_slice(rest);
    all
}

#[tokio::test]
async fn mosquitto_sub_with_right_credentials_receives_pushes() {
    if !mosquitto_sub_available() {
        return;
    }
    for version in ["mqttv311", "mqttv31"] {
        let fixture = Fixture::start(config()).await;
        let port = fixture.addr.port().to_string();
        let own = topic(APP);
        let sub = Sub::spawn(&args(
            &port,
            &[
                "-V",
                version,
                "-u",
                APP,
                "-P",
                SECRET,
                "-i",
                "foobar/mosq",
                "-t",
                &own,
                "-q",
                "1",
                "-C",
                "3",
                "-W",
                "10",
            ],
        ));
        fixture.wait_for_subscribers(1).await;
        let pushes = [
            r#"{"appId":"foobar","sn":"0117C90001","type":"text","data":{"battery":90}}"#,
            r#"{"appId":"foobar","sn":"0117C90002","type":"alarm","data":{"smoke":1}}"#,
            "not json",
        ];
        for push in pushes {
            fixture.publish(APP, push).await;
        }
        let output = sub.output().await;
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success(),
            "{version}: mosquitto_sub failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert_eq!(stdout.lines().collect::<Vec<_>>(), pushes, "{version}");
    }
}

#[tokio::test]
async fn mosquitto_sub_with_a_wrong_secret_is_not_authorised() {
    if !mosquitto_sub_available() {
        return;
    }
    let mut fixture = Fixture::start(config()).await;
    let port = fixture.addr.port().to_string();
    let own = topic(APP);
    let sub = Sub::spawn(&args(
        &port,
        &[
            "-u",
            APP,
            "-P",
            "not-the-secret",
            "-i",
            "foobar/bad",
            "-t",
            &own,
            "-W",
            "10",
        ],
    ));
    let output = sub.output().await;
    let stderr = String::from_utf8_lossy(&output.stderr).to_lowercase();
    assert!(!output.status.success());
    assert!(stderr.contains("not authori"), "stderr: {stderr}");
    fixture
        .expect_event("refusal", |e| {
            matches!(e, LogEvent::Refused { code: 5, .. })
        })
        .await;
}

#[tokio::test]
async fn mosquitto_sub_on_a_foreign_topic_gets_no_data() {
    if !mosquitto_sub_available() {
        return;
    }
    let mut fixture = Fixture::start(config()).await;
    let port = fixture.addr.port().to_string();
    let foreign = topic(OTHER_APP);
    let sub = Sub::spawn(&args(
        &port,
        &[
            "-u",
            APP,
            "-P",
            SECRET,
            "-i",
            "foobar/nosy",
            "-t",
            &foreign,
            "-C",
            "1",
            "-W",
            "3",
        ],
    ));
    fixture
        .expect_event(
            "refused subscription",
            |e| matches!(e, LogEvent::SubscribeRefused { topic, .. } if *topic == foreign),
        )
        .await;
    fixture.publish(OTHER_APP, "secret of the other app").await;
    fixture.publish(APP, "own push").await;
    let output = sub.output().await;
    assert!(
        output.stdout.is_empty(),
        "got: {}",
        String::from_utf8_lossy(&output.stdout)
    );
}
