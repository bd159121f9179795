//! Secrets (AppSecret, AppKey) in a type that cannot leak by accident.
//!
//! `Debug` and `Display` never show the value; the only ways out are [`Secret::expose`], for
//! the code that must send or use it, and [`Secret::masked`], for people.

use std::fmt;

/// A secret string. Its `Debug`/`Display` print `(redacted)`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    #[must_use]
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The value itself, for the code that has to use it. Never print it.
    #[must_use]
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// `••••` plus the last four characters, or only `••••` when the secret is too short for
    /// four characters to be safe to show.
    #[must_use]
    pub fn masked(&self) -> String {
        mask(&self.0)
    }
}

/// Masks any secret-like text: `••••` + last 4 characters when it has more than 8.
#[must_use]
pub fn mask(value: &str) -> String {
    let count = value.chars().count();
    if count <= 8 {
        return "••••".to_owned();
    }
    let tail: String = value.chars().skip(count - 4).collect();
    format!("••••{tail}")
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(redacted)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("(redacted)")
    }
}

/// Stored as the plain string: only the profile store serialises secrets, into a 0600 file.
impl serde::Serialize for Secret {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> serde::Deserialize<'de> for Secret {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Secret)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_never_show_the_value() {
        let secret = Secret::new("hunter2-very-secret");
        assert_eq!(format!("{secret:?}"), "Secret(redacted)");
        assert_eq!(format!("{secret}"), "(redacted)");
    }

    #[test]
    fn masked_shows_only_the_last_four_characters() {
        assert_eq!(Secret::new("abcdefghijkl").masked(), "••••ijkl");
        assert_eq!(Secret::new("short").masked(), "••••");
        assert_eq!(Secret::new("12345678").masked(), "••••");
        assert_eq!(Secret::new("一二三四五六七八九").masked(), "••••六七八九");
    }
}
