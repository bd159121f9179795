//! One error type for the whole tool: what went wrong in the user's terms, an optional hint,
//! and the kind that decides the process exit code.
//!
//! Messages built here end up on stderr verbatim, so they must never contain a secret:
//! callers pass masked values (see [`crate::secret::Secret::masked`]).

use std::fmt;
use std::io;

/// The class of a failure; each maps to one documented exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitKind {
    /// 1: validate-id found an invalid id, or a failure with no better class.
    Failure,
    /// 2: the command line is wrong.
    Usage,
    /// 3: DNS, TCP, TLS or a timeout.
    Network,
    /// 4: the broker refused (CONNACK ≠ 0 or a SUBACK failure).
    Refused,
    /// 5: a safe-mode payload could not be decrypted or encrypted.
    Crypto,
    /// 6: configuration or profile problem, including missing credentials.
    Config,
    /// 7: a relay target failed for good (authentication, schema, `--give-up` passed).
    Target,
    /// 124: `listen --timeout` passed before `--count` was reached.
    Timeout,
    /// stdout was closed by the reader (`| head`): success, said nothing.
    BrokenPipe,
}

impl ExitKind {
    /// The process exit code for this kind.
    #[must_use]
    pub fn code(self) -> u8 {
        match self {
            ExitKind::BrokenPipe => 0,
            ExitKind::Failure => 1,
            ExitKind::Usage => 2,
            ExitKind::Network => 3,
            ExitKind::Refused => 4,
            ExitKind::Crypto => 5,
            ExitKind::Config => 6,
            ExitKind::Target => 7,
            ExitKind::Timeout => 124,
        }
    }
}

/// A failure as the user should read it: `error: message` and, when useful, `hint: …`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    kind: ExitKind,
    message: String,
    hint: Option<String>,
}

/// Shorthand used across the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// An error of `kind` with a message in the user's terms.
    pub fn new(kind: ExitKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
            hint: None,
        }
    }

    /// A configuration/profile error (exit 6).
    pub fn config(message: impl Into<String>) -> Self {
        Error::new(ExitKind::Config, message)
    }

    /// A usage error (exit 2).
    pub fn usage(message: impl Into<String>) -> Self {
        Error::new(ExitKind::Usage, message)
    }

    /// Adds a `hint:` line.
    #[must_use]
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// Puts `context` in front of the message (e.g. `line 3: `), keeping kind and hint.
    #[must_use]
    pub fn prefixed(mut self, context: impl fmt::Display) -> Self {
        self.message = format!("{context}{}", self.message);
        self
    }

    /// Wraps an I/O error with what was being done; a broken pipe becomes a quiet success.
    pub fn io(context: impl fmt::Display, err: &io::Error) -> Self {
        if err.kind() == io::ErrorKind::BrokenPipe {
            return Error::new(ExitKind::BrokenPipe, "broken pipe");
        }
        Error::new(ExitKind::Failure, format!("{context}: {err}"))
    }

    /// The kind, which decides the exit code.
    #[must_use]
    pub fn kind(&self) -> ExitKind {
        self.kind
    }

    /// The message, without the `error: ` prefix.
    #[must_use]
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The hint, if any.
    #[must_use]
    pub fn hint(&self) -> Option<&str> {
        self.hint.as_deref()
    }

    /// The text printed on stderr: `error: …` and an optional `hint: …` line.
    #[must_use]
    pub fn report(&self) -> String {
        match &self.hint {
            Some(hint) => format!("error: {}\nhint: {hint}\n", self.message),
            None => format!("error: {}\n", self.message),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

/// Writing to stdout: a closed pipe ends the program quietly, anything else is reported.
impl From<io::Error> for Error {
    fn from(err: io::Error) -> Self {
        Error::io("cannot write output", &err)
    }
}

/// Every safe-mode failure is exit 5, with the codec's hint.
impl From<crate::crypto::CryptoError> for Error {
    fn from(err: crate::crypto::CryptoError) -> Self {
        let error = Error::new(ExitKind::Crypto, err.to_string());
        match err.hint() {
            Some(hint) => error.with_hint(hint),
            None => error,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_match_the_documented_table() {
        let table = [
            (ExitKind::BrokenPipe, 0),
            (ExitKind::Failure, 1),
            (ExitKind::Usage, 2),
            (ExitKind::Network, 3),
            (ExitKind::Refused, 4),
            (ExitKind::Crypto, 5),
            (ExitKind::Config, 6),
            (ExitKind::Target, 7),
            (ExitKind::Timeout, 124),
        ];
        for (kind, code) in table {
            assert_eq!(kind.code(), code, "{kind:?}");
        }
    }

    #[test]
    fn report_has_error_and_hint_lines() {
        let err = Error::config("no AppID").with_hint("pass --app-id");
        assert_eq!(err.report(), "error: no AppID\nhint: pass --app-id\n");
        assert_eq!(Error::usage("bad").report(), "error: bad\n");
    }

    #[test]
    fn broken_pipe_is_quiet_success() {
        let err: Error = io::Error::from(io::ErrorKind::BrokenPipe).into();
        assert_eq!(err.kind(), ExitKind::BrokenPipe);
        assert_eq!(err.kind().code(), 0);
    }
}
