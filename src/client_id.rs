//! The platform's clientId rule, `^<AppID>(/[-_0-9a-zA-Z]{0,36})?$` with the AppID taken
//! literally, and explanations of why an id breaks it.
//!
//! [`is_valid`] is the hot path (a million ids from a file): bytes in, no allocation.
//! [`explain`] runs only for ids that failed and says, in words a CI log reader understands,
//! what the first violation is, where it is (1-based character position) and what a valid id
//! would look like. Nothing here knows about the terminal or the CLI.

use std::fmt::Write as _;

/// The longest suffix the platform accepts after `<AppID>/`.
pub const MAX_SUFFIX_CHARS: usize = 36;

/// What is allowed after the slash, in words.
pub const ALLOWED_SUFFIX_CHARS: &str = "A-Z a-z 0-9 - _";

/// True when `id` satisfies the platform's clientId rule for `app_id`.
#[must_use]
pub fn is_valid(app_id: &[u8], id: &[u8]) -> bool {
    let Some(rest) = id.strip_prefix(app_id) else {
        return false;
    };
    match rest.split_first() {
        None => true,
        Some((b'/', suffix)) => {
            suffix.len() <= MAX_SUFFIX_CHARS && suffix.iter().copied().all(is_suffix_byte)
        }
        Some(_) => false,
    }
}

/// True for the bytes allowed after the slash.
#[must_use]
pub fn is_suffix_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_'
}

/// Which part of the rule an id breaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ViolationKind {
    /// The id is empty.
    Empty,
    /// The id is not valid UTF-8 (only possible when read from a file or stdin).
    NotUtf8,
    /// A trailing `\r`: the input has Windows line endings.
    TrailingCarriageReturn,
    /// Spaces or tabs before or after the id.
    SurroundingWhitespace,
    /// The id does not start with the AppID (case included).
    WrongPrefix,
    /// Something other than `/` follows the AppID.
    MissingSlash,
    /// A character outside `A-Z a-z 0-9 - _` after the slash.
    BadCharacter,
    /// More than 36 characters after the slash.
    SuffixTooLong,
}

impl ViolationKind {
    /// A stable machine-readable name, used in `--json` output.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            ViolationKind::Empty => "empty",
            ViolationKind::NotUtf8 => "not_utf8",
            ViolationKind::TrailingCarriageReturn => "trailing_carriage_return",
            ViolationKind::SurroundingWhitespace => "surrounding_whitespace",
            ViolationKind::WrongPrefix => "wrong_prefix",
            ViolationKind::MissingSlash => "missing_slash",
            ViolationKind::BadCharacter => "bad_character",
            ViolationKind::SuffixTooLong => "suffix_too_long",
        }
    }
}

/// The first violation of the rule in an id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// Which part of the rule is broken.
    pub kind: ViolationKind,
    /// 1-based character position of the offending character, when there is one.
    pub position: Option<usize>,
    /// The explanation in words.
    pub message: String,
    /// A valid id close to the given one, when one can be derived.
    pub suggestion: Option<String>,
}

/// Explains why `id` breaks the rule, or returns `None` when it is valid.
#[must_use]
pub fn explain(app_id: &str, id: &[u8]) -> Option<Violation> {
    if is_valid(app_id.as_bytes(), id) {
        return None;
    }
    let text = match std::str::from_utf8(id) {
        Ok(text) => text,
        Err(err) => return Some(not_utf8(app_id, id, err.valid_up_to())),
    };
    let (kind, position, message) = first_violation(app_id, text);
    Some(Violation {
        kind,
        position,
        message,
        suggestion: suggest(app_id, text).filter(|s| s != text),
    })
}

fn not_utf8(app_id: &str, id: &[u8], valid_up_to: usize) -> Violation {
    let before = String::from_utf8_lossy(&id[..valid_up_to]);
    let position = before.chars().count() + 1;
    let lossy = String::from_utf8_lossy(id);
    Violation {
        kind: ViolationKind::NotUtf8,
        position: Some(position),
        message: format!(
            "not valid UTF-8: byte {} (character position {position}) is not part of a valid \
             character",
            valid_up_to + 1
        ),
        suggestion: suggest(app_id, &lossy),
    }
}

type Found = (ViolationKind, Option<usize>, String);

fn first_violation(app_id: &str, id: &str) -> Found {
    if id.is_empty() {
        return (
            ViolationKind::Empty,
            None,
            format!("the clientId is empty; it must be '{app_id}' or start with '{app_id}/'"),
        );
    }
    surrounding_whitespace(id)
        .or_else(|| wrong_prefix(app_id, id))
        .unwrap_or_else(|| after_prefix(app_id, id))
}

fn surrounding_whitespace(id: &str) -> Option<Found> {
    let count = id.chars().count();
    if id.ends_with('\r') {
        let message = format!(
            "trailing carriage return (\\r) at position {count}: the input has Windows (CRLF) \
             line endings"
        );
        return Some((ViolationKind::TrailingCarriageReturn, Some(count), message));
    }
    if id.starts_with(char::is_whitespace) {
        let message = format!(
            "leading whitespace: {} at position 1",
            describe(id.chars().next().unwrap_or(' '))
        );
        return Some((ViolationKind::SurroundingWhitespace, Some(1), message));
    }
    let trimmed = id.trim_end();
    if trimmed.len() < id.len() {
        let position = trimmed.chars().count() + 1;
        let first = id[trimmed.len()..].chars().next().unwrap_or(' ');
        let message = format!(
            "trailing whitespace: {} at position {position}",
            describe(first)
        );
        return Some((
            ViolationKind::SurroundingWhitespace,
            Some(position),
            message,
        ));
    }
    None
}

fn wrong_prefix(app_id: &str, id: &str) -> Option<Found> {
    if id.starts_with(app_id) {
        return None;
    }
    let app_chars = app_id.chars().count();
    let mismatch = id
        .chars()
        .zip(app_id.chars())
        .position(|(a, b)| a != b)
        .unwrap_or_else(|| id.chars().count());
    let position = mismatch + 1;
    let case_only = id
        .get(..app_id.len())
        .is_some_and(|head| head.to_lowercase() == app_id.to_lowercase());
    let message = if case_only {
        let found: String = id.chars().take(app_chars).collect();
        format!(
            "must start with '{app_id}' but starts with '{found}': AppIDs are case-sensitive \
             (first difference at position {position})"
        )
    } else if mismatch >= id.chars().count() {
        format!(
            "ends after {mismatch} characters, before the AppID is complete: must start with \
             '{app_id}'"
        )
    } else {
        let found = id.chars().nth(mismatch).unwrap_or(' ');
        format!(
            "must start with '{app_id}': {} at position {position} differs",
            describe(found)
        )
    };
    Some((ViolationKind::WrongPrefix, Some(position), message))
}

/// The id starts with the AppID; the violation is in what follows.
fn after_prefix(app_id: &str, id: &str) -> Found {
    let prefix_chars = app_id.chars().count();
    let rest = &id[app_id.len()..];
    let mut chars = rest.chars();
    let Some(first) = chars.next().filter(|&c| c == '/') else {
        let found = rest.chars().next().unwrap_or(' ');
        let position = prefix_chars + 1;
        let message = format!(
            "{} at position {position} follows the AppID '{app_id}'; expected '/' and a suffix, \
             or nothing",
            describe(found)
        );
        return (ViolationKind::MissingSlash, Some(position), message);
    };
    debug_assert_eq!(first, '/');
    let suffix_start = prefix_chars + 2;
    for (index, c) in chars.enumerate() {
        if index >= MAX_SUFFIX_CHARS {
            let length = rest.chars().count() - 1;
            let message = format!(
                "suffix is {length} characters, at most {MAX_SUFFIX_CHARS} are allowed (the \
                 first one too many is at position {})",
                suffix_start + index
            );
            return (
                ViolationKind::SuffixTooLong,
                Some(suffix_start + index),
                message,
            );
        }
        if !(c.is_ascii_alphanumeric() || c == '-' || c == '_') {
            let position = suffix_start + index;
            let message = format!(
                "{} at position {position} is not allowed; allowed after the slash: \
                 {ALLOWED_SUFFIX_CHARS}",
                describe(c)
            );
            return (ViolationKind::BadCharacter, Some(position), message);
        }
    }
    // Unreachable for an id that failed is_valid, but stay total rather than panic.
    (
        ViolationKind::BadCharacter,
        None,
        "does not match the clientId rule".to_owned(),
    )
}

/// Describes a character for a message: `character '.'`, `character ' ' (space)`,
/// `character 'é' (U+00E9)`, `character '\t' (tab)`.
#[must_use]
pub fn describe(c: char) -> String {
    let mut out = String::from("character '");
    let shown: String = c.escape_debug().collect();
    out.push_str(&shown);
    out.push('\'');
    match c {
        ' ' => out.push_str(" (space)"),
        '\t' => out.push_str(" (tab)"),
        '\u{a0}' => out.push_str(" (no-break space)"),
        c if !c.is_ascii() => {
            let _ = write!(out, " (U+{:04X})", u32::from(c));
        }
        _ => {}
    }
    out
}

/// A valid clientId close to `id`: whitespace and `\r` trimmed, the AppID's case fixed, a
/// missing slash inserted, disallowed characters replaced by `-`, the suffix cut to 36.
#[must_use]
pub fn suggest(app_id: &str, id: &str) -> Option<String> {
    let trimmed = id.trim();
    if trimmed.is_empty() || app_id.starts_with(trimmed) {
        return Some(app_id.to_owned());
    }
    let rest = if let Some(rest) = trimmed.strip_prefix(app_id) {
        rest
    } else if let Some(rest) = strip_prefix_ignoring_case(trimmed, app_id) {
        rest
    } else if let Some((_, after)) = trimmed.split_once('/') {
        after
    } else {
        trimmed
    };
    let rest = rest.strip_prefix('/').unwrap_or(rest);
    if rest.is_empty() {
        return Some(app_id.to_owned());
    }
    let suffix: String = rest
        .chars()
        .take(MAX_SUFFIX_CHARS)
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect();
    let candidate = format!("{app_id}/{suffix}");
    is_valid(app_id.as_bytes(), candidate.as_bytes()).then_some(candidate)
}

fn strip_prefix_ignoring_case<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    (head.to_lowercase() == prefix.to_lowercase()).then(|| &text[prefix.len()..])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind_of(app_id: &str, id: &str) -> Option<ViolationKind> {
        explain(app_id, id.as_bytes()).map(|v| v.kind)
    }

    #[test]
    fn platform_examples_valid() {
        for id in ["foobar", "foobar/", "foobar/abc"] {
            assert!(is_valid(b"foobar", id.as_bytes()), "{id}");
            assert_eq!(explain("foobar", id.as_bytes()), None, "{id}");
        }
    }

    #[test]
    fn platform_examples_invalid() {
        assert_eq!(
            kind_of("foobar", "foobar/a.b"),
            Some(ViolationKind::BadCharacter)
        );
        assert_eq!(
            kind_of("foobar", "foobarx"),
            Some(ViolationKind::MissingSlash)
        );
        assert_eq!(
            kind_of("foobar", "Foobar/abc"),
            Some(ViolationKind::WrongPrefix)
        );
        let long = format!("foobar/{}", "a".repeat(37));
        assert_eq!(kind_of("foobar", &long), Some(ViolationKind::SuffixTooLong));
        assert!(is_valid(
            b"foobar",
            format!("foobar/{}", "a".repeat(36)).as_bytes()
        ));
    }

    #[test]
    fn bad_character_message_names_character_position_and_alphabet() {
        let v = explain("foobar", b"foobar/a.b").expect("invalid");
        assert_eq!(v.position, Some(9));
        assert_eq!(
            v.message,
            "character '.' at position 9 is not allowed; allowed after the slash: A-Z a-z 0-9 - _"
        );
        assert_eq!(v.suggestion.as_deref(), Some("foobar/a-b"));
    }

    #[test]
    fn suffix_too_long_gives_actual_length_and_a_cut_suggestion() {
        let id = format!("foobar/{}", "x".repeat(40));
        let v = explain("foobar", id.as_bytes()).expect("invalid");
        assert!(
            v.message.starts_with("suffix is 40 characters, at most 36"),
            "{}",
            v.message
        );
        assert_eq!(v.position, Some(44));
        assert_eq!(v.suggestion, Some(format!("foobar/{}", "x".repeat(36))));
    }

    #[test]
    fn wrong_case_is_called_case_sensitive() {
        let v = explain("foobar", b"Foobar/abc").expect("invalid");
        assert_eq!(v.position, Some(1));
        assert!(v.message.contains("case-sensitive"), "{}", v.message);
        assert_eq!(v.suggestion.as_deref(), Some("foobar/abc"));
    }

    #[test]
    fn trailing_carriage_return_is_named() {
        let v = explain("foobar", b"foobar/abc\r").expect("invalid");
        assert_eq!(v.kind, ViolationKind::TrailingCarriageReturn);
        assert_eq!(v.position, Some(11));
        assert!(v.message.contains("Windows"), "{}", v.message);
        assert_eq!(v.suggestion.as_deref(), Some("foobar/abc"));
    }

    #[test]
    fn surrounding_spaces_are_named() {
        let v = explain("foobar", b" foobar/abc").expect("invalid");
        assert_eq!(v.kind, ViolationKind::SurroundingWhitespace);
        assert_eq!(v.position, Some(1));
        let v = explain("foobar", b"foobar/abc  ").expect("invalid");
        assert_eq!(v.position, Some(11));
        assert!(
            v.message.starts_with("trailing whitespace"),
            "{}",
            v.message
        );
    }

    #[test]
    fn empty_id_is_named_and_suggests_the_app_id() {
        let v = explain("foobar", b"").expect("invalid");
        assert_eq!(v.kind, ViolationKind::Empty);
        assert_eq!(v.position, None);
        assert_eq!(v.suggestion.as_deref(), Some("foobar"));
    }

    #[test]
    fn app_id_with_regex_metacharacters_is_literal() {
        assert!(is_valid(b"a.b+c", b"a.b+c/x"));
        assert!(!is_valid(b"a.b+c", b"aXb+c/x"));
        assert!(!is_valid(b"a.b+c", b"a.bbc/x"));
        assert_eq!(kind_of("a.b+c", "aab+c"), Some(ViolationKind::WrongPrefix));
    }

    #[test]
    fn non_ascii_characters_get_their_code_point() {
        let v = explain("foobar", "foobar/温度".as_bytes()).expect("invalid");
        assert_eq!(v.position, Some(8));
        assert!(v.message.contains("'温' (U+6E29)"), "{}", v.message);
    }

    #[test]
    fn invalid_utf8_is_reported_with_position() {
        let v = explain("foobar", b"foobar/a\xffb").expect("invalid");
        assert_eq!(v.kind, ViolationKind::NotUtf8);
        assert_eq!(v.position, Some(9));
    }

    #[test]
    fn too_short_id_says_the_app_id_is_incomplete() {
        let v = explain("foobar", b"foo").expect("invalid");
        assert_eq!(v.kind, ViolationKind::WrongPrefix);
        assert_eq!(v.position, Some(4));
        assert!(
            v.message.contains("before the AppID is complete"),
            "{}",
            v.message
        );
        assert_eq!(v.suggestion.as_deref(), Some("foobar"));
    }

    #[test]
    fn missing_slash_suggests_inserting_one() {
        let v = explain("foobar", b"foobarx").expect("invalid");
        assert_eq!(v.position, Some(7));
        assert_eq!(v.suggestion.as_deref(), Some("foobar/x"));
    }
}
