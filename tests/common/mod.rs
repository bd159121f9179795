//! Test harness: runs the real binary in an isolated environment — its own temporary config
//! file, no inherited SENSORO_* variables, no colour — and shows readable diffs on failure.

#![allow(dead_code)] // each test binary uses a different part of the harness

pub mod broker;
pub mod postgres;
pub mod pushes;
pub mod receiver;
pub mod servers;

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// The binary under test.
pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_sensoro-mqtt"))
}

/// An isolated environment: a temp dir holding the config file.
pub struct TestEnv {
    dir: tempfile::TempDir,
    vars: Vec<(String, String)>,
}

impl TestEnv {
    pub fn new() -> Self {
        TestEnv {
            dir: tempfile::tempdir().expect("temp dir"),
            vars: Vec::new(),
        }
    }

    /// The config file path the binary is pointed at.
    pub fn config_path(&self) -> PathBuf {
        self.dir.path().join("conf").join("config.toml")
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Sets an environment variable for every command run from here.
    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.vars.push((key.to_owned(), value.to_owned()));
        self
    }

    /// A command for the binary with the isolated environment.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(bin());
        self.isolate(&mut cmd);
        cmd.args(args).stdin(Stdio::null());
        cmd
    }

    /// The same command run under a pseudo-terminal (util-linux `script`), so its stdout is
    /// a TTY; colour stays allowed unless `no_color`.
    pub fn terminal_command(&self, args: &[&str], no_color: bool) -> Command {
        let line: Vec<String> = std::iter::once(bin().display().to_string())
            .chain(args.iter().map(|a| (*a).to_owned()))
            .map(|a| format!("'{}'", a.replace('\'', "'\\''")))
            .collect();
        let mut cmd = Command::new("script");
        self.isolate(&mut cmd);
        if !no_color {
            cmd.env_remove("NO_COLOR");
        }
        cmd.args(["-qec", &line.join(" "), "/dev/null"])
            .stdin(Stdio::null());
        cmd
    }

    /// Runs under a pseudo-terminal, asserts success, and returns what the screen got
    /// (stdout and stderr together, as on a real terminal).
    pub fn run_on_terminal(&self, args: &[&str], no_color: bool) -> String {
        assert!(
            require_tool("script", "util-linux"),
            "`script` runs commands under a pseudo-terminal"
        );
        let output = self
            .terminal_command(args, no_color)
            .output()
            .expect("util-linux `script` runs");
        assert!(output.status.success(), "{output:?}");
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// Own config file and home, no inherited SENSORO_* variables, no colour, plus the
    /// variables set with [`TestEnv::env`].
    fn isolate(&self, cmd: &mut Command) {
        for (key, _) in std::env::vars() {
            if key.starts_with("SENSORO_") || key == "CLICOLOR_FORCE" {
                cmd.env_remove(&key);
            }
        }
        cmd.env("SENSORO_MQTT_CONFIG", self.config_path())
            .env("NO_COLOR", "1")
            .env("HOME", self.dir.path())
            .env("XDG_CONFIG_HOME", self.dir.path().join("xdg"));
        for (key, value) in &self.vars {
            cmd.env(key, value);
        }
    }

    /// Runs with empty stdin.
    pub fn run(&self, args: &[&str]) -> Run {
        Run::from(self.command(args).output().expect("run binary"))
    }

    /// Runs with the given stdin.
    pub fn run_with_stdin(&self, args: &[&str], stdin: &[u8]) -> Run {
        let mut child = self
            .command(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn binary");
        let mut input = child.stdin.take().expect("stdin");
        let data = stdin.to_vec();
        let writer = std::thread::spawn(move || {
            // The binary may stop reading early (quiet mode): a broken pipe is fine here.
            let _ = input.write_all(&data);
        });
        let output = child.wait_with_output().expect("wait");
        writer.join().expect("stdin writer");
        Run::from(output)
    }
}

/// The outcome of one run.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl From<Output> for Run {
    fn from(output: Output) -> Self {
        Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }
}

impl Run {
    /// Asserts the exit code, showing both streams when it differs.
    pub fn code(&self, expected: i32) -> &Self {
        assert_eq!(
            self.code, expected,
            "exit code: expected {expected}, got {}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.code, self.stdout, self.stderr
        );
        self
    }

    pub fn stdout_is(&self, expected: &str) -> &Self {
        assert_eq!(
            self.stdout, expected,
            "\n--- expected stdout ---\n{expected}\n--- actual stdout ---\n{}\n--- stderr ---\n{}",
            self.stdout, self.stderr
        );
        self
    }

    pub fn stderr_contains(&self, needle: &str) -> &Self {
        assert!(
            self.stderr.contains(needle),
            "stderr lacks {needle:?}\n--- stderr ---\n{}",
            self.stderr
        );
        self
    }

    pub fn stdout_contains(&self, needle: &str) -> &Self {
        assert!(
            self.stdout.contains(needle),
            "stdout lacks {needle:?}\n--- stdout ---\n{}",
            self.stdout
        );
        self
    }

    pub fn stderr_is_empty(&self) -> &Self {
        assert!(self.stderr.is_empty(), "stderr not empty:\n{}", self.stderr);
        self
    }

    /// Parses every stdout line as JSON.
    pub fn json_lines(&self) -> Vec<serde_json::Value> {
        self.stdout
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {l:?}: {e}")))
            .collect()
    }
}

/// True when `tool` runs. When it does not: panics under `CI=true` (CI installs it), else
/// prints a loud SKIPPED line and returns false.
pub fn require_tool(tool: &str, package: &str) -> bool {
    let found = Command::new(tool)
        .arg("--help")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok();
    if found {
        return true;
    }
    let hint = format!("{tool} not found: install it with `apt-get install -y {package}`");
    if std::env::var("CI").is_ok_and(|ci| ci == "true") {
        panic!("{hint}");
    }
    eprintln!("\n!!! SKIPPED: {hint} !!!\n");
    false
}

/// Sends SIGINT to a child process (as Ctrl-C would).
pub fn interrupt(child: &std::process::Child) {
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success(), "kill -INT failed");
}

/// A long-running child whose stderr is read line by line in the background; killed when
/// dropped.
pub struct Daemon {
    pub child: std::process::Child,
    lines: std::sync::mpsc::Receiver<String>,
    pub seen: Vec<String>,
}

impl Daemon {
    /// Spawns `cmd` with stdout discarded unless already set, and stderr captured.
    pub fn spawn(mut cmd: Command) -> Daemon {
        let mut child = cmd.stderr(Stdio::piped()).spawn().expect("spawn");
        let stderr = child.stderr.take().expect("stderr");
        let (tx, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            use std::io::BufRead as _;
            for line in std::io::BufReader::new(stderr)
                .lines()
                .map_while(Result::ok)
            {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Daemon {
            child,
            lines,
            seen: Vec::new(),
        }
    }

    /// Waits (bounded) for a stderr line matching `wanted`, and returns it.
    pub fn wait_for_line(
        &mut self,
        wanted: impl Fn(&str) -> bool,
        within: std::time::Duration,
    ) -> String {
        let deadline = std::time::Instant::now() + within;
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if wanted(&line) {
                        return line;
                    }
                }
                Err(_) => panic!(
                    "no matching stderr line within {within:?}; seen:\n{}",
                    self.seen.join("\n")
                ),
            }
        }
    }

    /// Waits (bounded) for the child to exit (its stderr closing) and returns its code and
    /// all of its stderr.
    pub fn wait_exit(mut self, within: std::time::Duration) -> (i32, String) {
        use std::sync::mpsc::RecvTimeoutError;
        let deadline = std::time::Instant::now() + within;
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => self.seen.push(line),
                Err(RecvTimeoutError::Disconnected) => break,
                Err(RecvTimeoutError::Timeout) => panic!(
                    "did not exit within {within:?}; stderr:\n{}",
                    self.seen.join("\n")
                ),
            }
        }
        let status = self.child.wait().expect("wait");
        (status.code().unwrap_or(-1), self.seen.join("\n"))
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Bound on every wait for a child process.
pub const WAIT: std::time::Duration = std::time::Duration::from_secs(20);

/// A running `emulate` and the port it bound.
pub struct Emulate {
    pub daemon: Daemon,
    pub port: String,
}

impl Emulate {
    pub fn start(env: &TestEnv, args: &[&str]) -> Emulate {
        Emulate::start_with_stdin(env, args, None)
    }

    /// Starts it with a stdin the test keeps writing to (a live `--replay -`).
    pub fn start_live(env: &TestEnv, args: &[&str]) -> (Emulate, std::process::ChildStdin) {
        let mut all = vec!["emulate", "--port", "0"];
        all.extend_from_slice(args);
        let mut cmd = env.command(&all);
        cmd.stdout(Stdio::null()).stdin(Stdio::piped());
        let mut daemon = Daemon::spawn(cmd);
        let input = daemon.child.stdin.take().expect("stdin");
        let banner = daemon.wait_for_line(|l| l.starts_with("SENSORO emulator on "), WAIT);
        let port = banner
            .split("--port ")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .expect("banner names the port")
            .to_owned();
        (Emulate { daemon, port }, input)
    }

    pub fn start_with_stdin(env: &TestEnv, args: &[&str], stdin: Option<&[u8]>) -> Emulate {
        let mut all = vec!["emulate", "--port", "0"];
        all.extend_from_slice(args);
        let mut cmd = env.command(&all);
        cmd.stdout(Stdio::null());
        if stdin.is_some() {
            cmd.stdin(Stdio::piped());
        }
        let mut daemon = Daemon::spawn(cmd);
        if let Some(bytes) = stdin {
            use std::io::Write as _;
            let mut input = daemon.child.stdin.take().expect("stdin");
            input.write_all(bytes).expect("write replay");
        }
        let banner = daemon.wait_for_line(|l| l.starts_with("SENSORO emulator on "), WAIT);
        let port = banner
            .split("--port ")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .expect("banner names the port")
            .to_owned();
        Emulate { daemon, port }
    }

    pub fn mosquitto_sub(&self, user: &str, password: &str, client_id: &str, rest: &[&str]) -> Run {
        let mut cmd = Command::new("mosquitto_sub");
        cmd.args([
            "-h",
            "127.0.0.1",
            "-p",
            &self.port,
            "-u",
            user,
            "-P",
            password,
        ])
        .args(["-i", client_id, "-W", "15"])
        .args(rest)
        .stdin(Stdio::null());
        Run::from(cmd.output().expect("mosquitto_sub runs"))
    }

    pub fn listen(&self, env: &TestEnv, app_id: &str, rest: &[&str]) -> Run {
        let mut args = vec![
            "listen",
            "--host",
            "127.0.0.1",
            "--port",
            &self.port,
            "--app-id",
            app_id,
            "--timeout",
            "15s",
        ];
        args.extend_from_slice(rest);
        env.run(&args)
    }
}
