//! The real binary in a pseudo-terminal (tmux, on a private socket) against `watch --demo`:
//! rows appear for the simulated devices, `/` filters, Enter opens a device, `q` exits 0
//! and leaves the terminal as it was (no alternate screen, cursor visible). Without tmux the
//! test is skipped, except in CI (`CI=true`), where a missing tmux fails it.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_sensoro-mqtt");
const WAIT: Duration = Duration::from_secs(20);

/// A tmux server of our own, killed when dropped.
struct Tmux {
    socket: String,
}

impl Tmux {
    fn run(&self, args: &[&str]) -> Output {
        Command::new("tmux")
            .args(["-L", &self.socket, "-f", "/dev/null"])
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("tmux {args:?}: {e}"))
    }

    fn screen(&self) -> String {
        String::from_utf8_lossy(&self.run(&["capture-pane", "-p", "-t", "watch"]).stdout)
            .into_owned()
    }

    fn format(&self, format: &str) -> String {
        let out = self.run(&["display-message", "-p", "-t", "watch", format]);
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "watch"];
        args.extend_from_slice(keys);
        self.run(&args);
    }

    /// Waits (bounded) until the screen satisfies `done`; returns it.
    fn wait_for(&self, what: &str, done: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + WAIT;
        loop {
            let screen = self.screen();
            if done(&screen) {
                return screen;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}; screen:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["-L", &self.socket, "kill-server"])
            .stderr(Stdio::null())
            .status();
    }
}

fn have_tmux() -> bool {
    let found = Command::new("tmux")
        .arg("-V")
        .output()
        .is_ok_and(|out| out.status.success());
    if !found {
        assert!(
            std::env::var("CI").map_or(true, |ci| ci != "true"),
            "tmux is required in CI (.ci/run installs it)"
        );
        eprintln!("tmux not found: skipping the pseudo-terminal test");
    }
    found
}

fn shell_quote(path: &Path) -> String {
    format!("'{}'", path.display().to_string().replace('\'', r"'\''"))
}

#[test]
fn watch_demo_in_a_terminal_filters_opens_and_quits_cleanly() {
    if !have_tmux() {
        return;
    }
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let stderr = dir.path().join("stderr");
    let config = dir.path().join("config.toml");
    let tmux = Tmux {
        socket: format!("sensoro-watch-test-{}", std::process::id()),
    };
    let command = format!(
        "env -u NO_COLOR SENSORO_MQTT_CONFIG={} {} watch --demo 2>{}; echo EXIT=$?; exec sleep 60",
        shell_quote(&config),
        shell_quote(Path::new(BIN)),
        shell_quote(&stderr)
    );
    let started = tmux.run(&[
        "new-session",
        "-d",
        "-s",
        "watch",
        "-x",
        "120",
        "-y",
        "40",
        &command,
    ]);
    assert!(started.status.success(), "tmux: {started:?}");

    let screen = tmux.wait_for("a row per simulated device", |s| {
        s.contains("devices 21 of 21") && s.contains("dianbiao") && s.contains("tracker")
    });
    assert!(screen.contains("connected"), "{screen}");
    assert_eq!(
        tmux.format("#{alternate_on}"),
        "1",
        "watch uses the alternate screen"
    );

    tmux.keys(&["/", "dianbiao", "Enter"]);
    let screen = tmux.wait_for("the filter to leave one row", |s| {
        s.contains("devices 1 of 21")
    });
    assert!(!screen.contains(" tracker "), "{screen}");

    tmux.keys(&["Enter"]);
    let screen = tmux.wait_for("the device detail", |s| s.contains("Esc back"));
    assert!(
        screen.contains("data.VOLTAGE_A") && screen.contains(" V"),
        "{screen}"
    );

    tmux.keys(&["Escape", "q"]);
    let screen = tmux.wait_for("watch to exit", |s| s.contains("EXIT="));
    assert!(screen.contains("EXIT=0"), "{screen}");
    assert_eq!(tmux.format("#{alternate_on}"), "0", "alternate screen left");
    assert_eq!(tmux.format("#{cursor_flag}"), "1", "cursor visible again");
    let summary = std::fs::read_to_string(&stderr).unwrap_or_default();
    assert!(
        summary.contains("pushes from 21 devices"),
        "stderr: {summary}"
    );
}

#[test]
fn watch_without_a_terminal_is_a_usage_error_pointing_to_listen_json() {
    let out = Command::new(BIN)
        .args(["watch", "--demo"])
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("run: {e}"));
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("listen --format json"), "{stderr}");
    assert!(out.stdout.is_empty());
}
