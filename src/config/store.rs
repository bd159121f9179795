//! The TOML file behind profiles: load with precise parse errors, save atomically and
//! privately, and never replace a file that could not be read.
//!
//! Writers serialise their read-modify-write with an advisory lock on a lock file beside
//! the config ([`Store::lock`]), so concurrent `profile add`s do not lose each other's
//! profiles. A config that is a symbolic link is written through to its target: the link
//! stays a link.

use std::collections::BTreeMap;
use std::fs;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::secret::Secret;

/// One named set of connection settings. Every field is optional: a profile used only for
/// `validate-id` needs nothing but `app_id`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// AppID: MQTT username, clientId prefix, part of the topic.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub app_id: Option<String>,
    /// AppSecret: MQTT password.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub app_secret: Option<Secret>,
    /// AppKey: safe-mode key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub app_key: Option<Secret>,
    /// Broker host.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// Broker port.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    /// Use TLS.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls: Option<bool>,
    /// CA bundle for TLS.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<PathBuf>,
    /// Subscription QoS (0 or 1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub qos: Option<u8>,
    /// Fixed clientId suffix (after `<AppID>/`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_suffix: Option<String>,
}

/// The whole file: profiles by name and which one is the default.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    /// Name of the default profile.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
    /// Profiles by name, kept sorted.
    #[serde(default)]
    pub profiles: BTreeMap<String, Profile>,
}

impl ConfigFile {
    /// The default profile, when one is set and exists.
    #[must_use]
    pub fn default_profile(&self) -> Option<(&str, &Profile)> {
        let name = self.default.as_deref()?;
        self.profiles.get(name).map(|p| (name, p))
    }
}

/// The config file as loaded from disk (or empty when the file does not exist yet).
#[derive(Debug)]
pub struct Store {
    path: PathBuf,
    file: ConfigFile,
    mode: Option<u32>,
}

impl Store {
    /// Reads the file at `path`. A missing file is an empty store; a file that cannot be read
    /// or parsed is an error naming the path and line.
    pub fn load(path: &Path) -> Result<Store> {
        let text = match fs::read_to_string(path) {
            Ok(text) => text,
            Err(err) if err.kind() == io::ErrorKind::NotFound => {
                return Ok(Store {
                    path: path.to_owned(),
                    file: ConfigFile::default(),
                    mode: None,
                })
            }
            Err(err) => {
                return Err(Error::config(format!(
                    "cannot read config file {}: {err}",
                    path.display()
                )))
            }
        };
        let file =
            toml::from_str::<ConfigFile>(&text).map_err(|err| parse_error(path, &text, &err))?;
        Ok(Store {
            path: path.to_owned(),
            file,
            mode: file_mode(path),
        })
    }

    /// The file's path.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The parsed contents.
    #[must_use]
    pub fn file(&self) -> &ConfigFile {
        &self.file
    }

    /// The contents, for editing before [`Store::save`].
    pub fn file_mut(&mut self) -> &mut ConfigFile {
        &mut self.file
    }

    /// Warnings about the file, e.g. that others can read the secrets in it.
    #[must_use]
    pub fn warnings(&self) -> Vec<String> {
        match self.mode {
            Some(mode) if mode & 0o044 != 0 => vec![format!(
                "config file {} is readable by group or others (mode {:03o}) and holds \
                 secrets; fix with: chmod 600 {}",
                self.path.display(),
                mode & 0o777,
                self.path.display()
            )],
            _ => Vec::new(),
        }
    }

    /// The error for a profile name that is not in the file.
    #[must_use]
    pub fn unknown_profile(&self, name: &str, origin: &str) -> Error {
        let known: Vec<&str> = self.file.profiles.keys().map(String::as_str).collect();
        let hint = if known.is_empty() {
            "no profiles are stored yet; add one with: sensoro-mqtt profile add NAME --app-id ID"
                .to_owned()
        } else {
            format!("known profiles: {}", known.join(", "))
        };
        Error::config(format!(
            "no profile named '{name}' (from {origin}) in {}",
            self.path.display()
        ))
        .with_hint(hint)
    }

    /// Writes the file atomically: a private temporary file in the same directory, flushed
    /// to disk, then renamed over the old one. The directory is created 0700 when missing.
    /// A symbolic link is followed, so its target gets the new contents. Hold
    /// [`Store::lock`] from before [`Store::load`] until after this, or a concurrent
    /// writer's change may be lost.
    pub fn save(&self) -> Result<()> {
        let text = toml::to_string_pretty(&self.file)
            .map_err(|err| Error::config(format!("cannot serialise profiles: {err}")))?;
        resolve_links(&self.path)
            .and_then(|target| write_atomically(&target, text.as_bytes()))
            .map_err(|err| {
                Error::config(format!(
                    "cannot write config file {}: {err}",
                    self.path.display()
                ))
            })
    }

    /// Takes the writers' lock for the config at `path` (an advisory lock on
    /// `.<name>.lock` beside the file, or beside a symbolic link's target), waiting up to
    /// [`LOCK_WAIT`] for another writer. The lock is released when the guard is dropped.
    pub fn lock(path: &Path) -> Result<StoreLock> {
        let lock_path = resolve_links(path).map(|target| lock_path_for(&target));
        let lock_path = lock_path.map_err(|err| {
            Error::config(format!("cannot lock config file {}: {err}", path.display()))
        })?;
        let file = open_lock_file(&lock_path).map_err(|err| {
            Error::config(format!(
                "cannot open lock file {}: {err}",
                lock_path.display()
            ))
        })?;
        let deadline = Instant::now() + LOCK_WAIT;
        loop {
            match file.try_lock() {
                Ok(()) => return Ok(StoreLock { _file: file }),
                Err(fs::TryLockError::WouldBlock) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(5));
                }
                Err(fs::TryLockError::WouldBlock) => {
                    return Err(Error::config(format!(
                        "another sensoro-mqtt has been writing {} for over {} s (lock file {})",
                        path.display(),
                        LOCK_WAIT.as_secs(),
                        lock_path.display()
                    ))
                    .with_hint("try again when it has finished"))
                }
                Err(fs::TryLockError::Error(err)) => {
                    return Err(Error::config(format!(
                        "cannot lock {}: {err}",
                        lock_path.display()
                    )))
                }
            }
        }
    }
}

/// How long [`Store::lock`] waits for another writer.
pub const LOCK_WAIT: Duration = Duration::from_secs(10);

/// The writers' lock on a config file; released on drop (and by the OS if the process dies).
#[derive(Debug)]
pub struct StoreLock {
    _file: fs::File,
}

fn lock_path_for(config: &Path) -> PathBuf {
    let name = config
        .file_name()
        .map_or_else(|| "config.toml".into(), |n| n.to_string_lossy());
    parent_dir(config).join(format!(".{name}.lock"))
}

fn open_lock_file(path: &Path) -> io::Result<fs::File> {
    create_private_dir(&parent_dir(path))?;
    let mut options = fs::OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    options.open(path)
}

/// The directory holding `path` (`.` for a bare file name).
fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_owned(),
        _ => PathBuf::from("."),
    }
}

/// Follows symbolic links from `path` to the file they end at (which need not exist yet).
fn resolve_links(path: &Path) -> io::Result<PathBuf> {
    let mut current = path.to_owned();
    for _ in 0..40 {
        match fs::symlink_metadata(&current) {
            Ok(meta) if meta.file_type().is_symlink() => {
                let target = fs::read_link(&current)?;
                // A relative target is relative to the link's directory; an absolute one
                // replaces it in `join`.
                current = parent_dir(&current).join(target);
            }
            _ => return Ok(current),
        }
    }
    Err(io::Error::other(format!(
        "too many levels of symbolic links at {}",
        path.display()
    )))
}

fn parse_error(path: &Path, text: &str, err: &toml::de::Error) -> Error {
    let location = err.span().map_or(String::new(), |span| {
        let (line, column) = line_and_column(text, span.start);
        format!(" at line {line}, column {column}")
    });
    Error::config(format!(
        "cannot parse config file {}{location}: {}",
        path.display(),
        err.message().trim_end()
    ))
    .with_hint("fix or move the file by hand; sensoro-mqtt never overwrites a file it cannot parse")
}

/// 1-based line and column (in characters) of a byte offset.
fn line_and_column(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

fn write_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = parent_dir(path);
    create_private_dir(&dir)?;
    let file_name = path
        .file_name()
        .map_or_else(|| "config.toml".into(), |n| n.to_string_lossy());
    let tmp = dir.join(format!(".{file_name}.tmp-{}", std::process::id()));
    let result = write_private(&tmp, bytes).and_then(|()| fs::rename(&tmp, path));
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result?;
    // Persist the rename itself; not every platform lets a directory be opened, so best effort.
    if let Ok(dir) = fs::File::open(&dir) {
        let _ = dir.sync_all();
    }
    Ok(())
}

#[cfg(unix)]
fn create_private_dir(dir: &Path) -> io::Result<()> {
    use std::os::unix::fs::DirBuilderExt as _;
    if dir.is_dir() {
        return Ok(());
    }
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

#[cfg(not(unix))]
fn create_private_dir(dir: &Path) -> io::Result<()> {
    fs::create_dir_all(dir)
}

fn write_private(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        // The mode above only applies to a new file; a stale temp file must be fixed too.
        file.set_permissions(fs::Permissions::from_mode(0o600))?;
    }
    file.write_all(bytes)?;
    file.sync_all()
}

#[cfg(unix)]
fn file_mode(path: &Path) -> Option<u32> {
    use std::os::unix::fs::PermissionsExt as _;
    fs::metadata(path).ok().map(|m| m.permissions().mode())
}

#[cfg(not(unix))]
fn file_mode(_path: &Path) -> Option<u32> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_column_are_one_based() {
        let text = "a = 1\nbb = [\n  x";
        assert_eq!(line_and_column(text, 0), (1, 1));
        assert_eq!(line_and_column(text, 6), (2, 1));
        assert_eq!(line_and_column(text, 15), (3, 3));
        assert_eq!(line_and_column(text, 999), (3, 4));
    }

    #[cfg(unix)]
    #[test]
    fn links_are_followed_to_their_final_target_even_when_it_does_not_exist() {
        let dir = tempfile::tempdir().expect("dir");
        let target = dir.path().join("real.toml");
        let hop = dir.path().join("hop.toml");
        let link = dir.path().join("config.toml");
        std::os::unix::fs::symlink("real.toml", &hop).expect("relative link");
        std::os::unix::fs::symlink(&hop, &link).expect("absolute link");
        assert_eq!(resolve_links(&link).expect("resolves"), target);
        assert_eq!(resolve_links(&target).expect("plain"), target);
        let a = dir.path().join("a");
        let b = dir.path().join("b");
        std::os::unix::fs::symlink(&b, &a).expect("a");
        std::os::unix::fs::symlink(&a, &b).expect("b");
        assert!(resolve_links(&a).is_err(), "a loop must end");
    }

    #[test]
    fn a_second_writer_waits_for_the_lock() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("sub").join("config.toml");
        let first = Store::lock(&path).expect("first lock");
        let (tx, rx) = std::sync::mpsc::channel();
        let second_path = path.clone();
        let waiter = std::thread::spawn(move || {
            let lock = Store::lock(&second_path);
            let _ = tx.send(());
            lock.map(|_| ())
        });
        assert!(
            rx.recv_timeout(Duration::from_millis(200)).is_err(),
            "the second writer did not wait"
        );
        drop(first);
        rx.recv_timeout(Duration::from_secs(10))
            .expect("the second writer got the lock after the first let go");
        waiter.join().expect("thread").expect("locked");
    }
}
