//! JSON as bytes: validate, index the top-level members, minify and splice, without ever
//! turning numbers or strings into values and back.
//!
//! It exists because pushes must leave this tool exactly as they came (PRODUCT.md, "Data
//! arrives intact"): a 17-digit coordinate, an integer past 64 bits, a duplicate key or an
//! escape must keep its bytes. Parsing into `serde_json::Value` is for deciding and for the
//! pretty view; re-printing always starts from the bytes seen here.
//!
//! The scanner is iterative (any depth is fine, nothing recurses), allocates nothing once its
//! buffers have grown, and checks the whole grammar of RFC 8259, UTF-8 included.
//!
//! What this module must never do: change a byte it was not asked to change, or panic on any
//! input.

use std::borrow::Cow;
use std::fmt;
use std::ops::Range;

/// One member of the top-level object: where its key and its value are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// The key, quotes included.
    pub key: Range<usize>,
    /// The value's bytes.
    pub value: Range<usize>,
}

/// What kind of JSON text it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `{…}`
    Object,
    /// `[…]`
    Array,
    /// `"…"`
    String,
    /// A number.
    Number,
    /// `true` / `false`.
    Bool,
    /// `null`.
    Null,
}

impl Kind {
    /// The kind in words, for messages: "an object", "a number", ….
    #[must_use]
    pub fn words(self) -> &'static str {
        match self {
            Kind::Object => "an object",
            Kind::Array => "an array",
            Kind::String => "a string",
            Kind::Number => "a number",
            Kind::Bool => "a boolean",
            Kind::Null => "null",
        }
    }
}

/// Why bytes are not one JSON text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    /// Byte offset of the problem.
    pub offset: usize,
    /// What was wrong.
    pub what: &'static str,
    /// The text ended before the value did: more bytes could complete it.
    pub eof: bool,
}

impl fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at byte {}", self.what, self.offset + 1)
    }
}

impl std::error::Error for SyntaxError {}

/// A scanned JSON text: its kind, its top-level members (objects only) and whether it holds
/// whitespace that would break a line.
#[derive(Debug, Clone, Copy)]
pub struct Doc<'s> {
    /// The kind of the top-level value.
    pub kind: Kind,
    /// Top-level members in the order sent (duplicates included); empty unless an object.
    pub members: &'s [Member],
    /// The text contains a line break outside strings (inside strings JSON has none).
    pub multiline: bool,
    /// Where the value starts and ends (surrounding whitespace excluded).
    pub span: (usize, usize),
}

impl Doc<'_> {
    /// The last member named `name` (JSON.parse keeps the last of duplicates).
    #[must_use]
    pub fn member(&self, text: &[u8], name: &str) -> Option<&Member> {
        self.members
            .iter()
            .rev()
            .find(|m| key_equals(&text[m.key.clone()], name))
    }

    /// The value of member `name` when it is a string, unescaped.
    #[must_use]
    pub fn str_member<'t>(&self, text: &'t [u8], name: &str) -> Option<Cow<'t, str>> {
        let member = self.member(text, name)?;
        string_value(&text[member.value.clone()])
    }
}

/// A reusable validator and indexer; keeps its buffers between texts.
#[derive(Debug, Default)]
pub struct Scanner {
    /// Open containers: true for an object.
    stack: Vec<bool>,
    members: Vec<Member>,
}

/// What the scanner expects next.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// A value (after `[`, `:` or `,` in an array, or at the top).
    Value,
    /// A value or `]` (just after `[`).
    ValueOrClose,
    /// A key (after `,` in an object).
    Key,
    /// A key or `}` (just after `{`).
    KeyOrClose,
    /// `:` after a key.
    Colon,
    /// `,` or the container's close.
    CommaOrClose,
    /// Nothing but whitespace: the top-level value is complete.
    End,
}

impl Scanner {
    /// A scanner with empty buffers.
    #[must_use]
    pub fn new() -> Self {
        Scanner::default()
    }

    /// Checks that `text` is exactly one JSON text (surrounding whitespace allowed) and
    /// indexes its top-level members.
    ///
    /// # Errors
    ///
    /// The first syntax error, with its offset and whether more input could complete it.
    pub fn scan(&mut self, text: &[u8]) -> Result<Doc<'_>, SyntaxError> {
        if let Err(err) = std::str::from_utf8(text) {
            let offset = err.valid_up_to();
            return Err(SyntaxError {
                offset,
                what: "invalid UTF-8",
                eof: err.error_len().is_none(),
            });
        }
        self.stack.clear();
        self.members.clear();
        let mut multiline = false;
        let mut expect = Expect::Value;
        let mut kind = None;
        let mut span = (0, 0);
        let mut top_key = 0..0;
        let mut top_value = 0;
        let mut i = 0;
        let n = text.len();
        while i < n {
            let b = text[i];
            match b {
                b' ' | b'\t' => {
                    i += 1;
                    continue;
                }
                b'\n' | b'\r' => {
                    multiline = true;
                    i += 1;
                    continue;
                }
                _ => {}
            }
            let depth = self.stack.len();
            let in_object = self.stack.last() == Some(&true);
            match (expect, b) {
                (Expect::End, _) => {
                    return Err(error(i, "unexpected text after the JSON value", false));
                }
                (Expect::Key | Expect::KeyOrClose, b'"') => {
                    let after = skip_string(text, i)?;
                    if depth == 1 {
                        top_key = i..after;
                    }
                    i = after;
                    expect = Expect::Colon;
                    continue;
                }
                (Expect::KeyOrClose | Expect::CommaOrClose, b'}') if in_object => {
                    self.stack.pop();
                    i += 1;
                }
                (Expect::ValueOrClose | Expect::CommaOrClose, b']') if depth > 0 && !in_object => {
                    self.stack.pop();
                    i += 1;
                }
                (Expect::Key | Expect::KeyOrClose, _) => {
                    return Err(error(i, "expected a key in double quotes", false));
                }
                (Expect::Colon, b':') => {
                    i += 1;
                    expect = Expect::Value;
                    continue;
                }
                (Expect::Colon, _) => return Err(error(i, "expected ':' after the key", false)),
                (Expect::CommaOrClose, b',') => {
                    i += 1;
                    expect = if in_object {
                        Expect::Key
                    } else {
                        Expect::Value
                    };
                    continue;
                }
                (Expect::CommaOrClose, _) => {
                    return Err(error(i, "expected ',' or the end of the container", false));
                }
                (Expect::Value | Expect::ValueOrClose, _) => {
                    if depth == 0 {
                        span.0 = i;
                    } else if depth == 1 {
                        top_value = i;
                    }
                    let (next, this_kind) = match b {
                        b'{' => (i + 1, Kind::Object),
                        b'[' => (i + 1, Kind::Array),
                        b'"' => (skip_string(text, i)?, Kind::String),
                        b'-' | b'0'..=b'9' => (skip_number(text, i)?, Kind::Number),
                        b't' => (skip_literal(text, i, b"true")?, Kind::Bool),
                        b'f' => (skip_literal(text, i, b"false")?, Kind::Bool),
                        b'n' => (skip_literal(text, i, b"null")?, Kind::Null),
                        _ => return Err(error(i, "expected a JSON value", false)),
                    };
                    if depth == 0 {
                        kind = Some(this_kind);
                    }
                    i = next;
                    match this_kind {
                        Kind::Object => {
                            self.stack.push(true);
                            expect = Expect::KeyOrClose;
                            continue;
                        }
                        Kind::Array => {
                            self.stack.push(false);
                            expect = Expect::ValueOrClose;
                            continue;
                        }
                        _ => {}
                    }
                }
            }
            // A value (a scalar, or a container that just closed) ends at `i`.
            match self.stack.as_slice() {
                [] => {
                    span.1 = i;
                    expect = Expect::End;
                }
                [top_is_object] => {
                    if *top_is_object {
                        self.members.push(Member {
                            key: top_key.clone(),
                            value: top_value..i,
                        });
                    }
                    expect = Expect::CommaOrClose;
                }
                _ => expect = Expect::CommaOrClose,
            }
        }
        match kind {
            Some(kind) if expect == Expect::End => Ok(Doc {
                kind,
                members: &self.members,
                multiline,
                span,
            }),
            _ => Err(error(n, "the JSON text ends early", true)),
        }
    }
}

fn error(offset: usize, what: &'static str, eof: bool) -> SyntaxError {
    SyntaxError { offset, what, eof }
}

/// Skips a string starting at the quote `at`; returns the offset after its closing quote.
fn skip_string(text: &[u8], at: usize) -> Result<usize, SyntaxError> {
    let mut i = at + 1;
    let n = text.len();
    while i < n {
        match text[i] {
            b'"' => return Ok(i + 1),
            b'\\' => {
                let Some(&escape) = text.get(i + 1) else {
                    return Err(error(n, "the string ends early", true));
                };
                match escape {
                    b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => i += 2,
                    b'u' => {
                        for k in 0..4 {
                            match text.get(i + 2 + k) {
                                Some(h) if h.is_ascii_hexdigit() => {}
                                Some(_) => {
                                    return Err(error(i, "bad \\u escape in a string", false))
                                }
                                None => return Err(error(n, "the string ends early", true)),
                            }
                        }
                        i += 6;
                    }
                    _ => return Err(error(i, "bad escape in a string", false)),
                }
            }
            0..=0x1f => return Err(error(i, "control character in a string", false)),
            _ => i += 1,
        }
    }
    Err(error(n, "the string ends early", true))
}

/// Skips a number at `at`: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
fn skip_number(text: &[u8], at: usize) -> Result<usize, SyntaxError> {
    let n = text.len();
    let mut i = at;
    let digit = |i: usize| text.get(i).is_some_and(u8::is_ascii_digit);
    let need_digit = |i: usize| {
        if i >= n {
            Err(error(n, "the number ends early", true))
        } else if digit(i) {
            Ok(())
        } else {
            Err(error(i, "bad number", false))
        }
    };
    if text[i] == b'-' {
        i += 1;
    }
    need_digit(i)?;
    if text[i] == b'0' {
        i += 1;
    } else {
        while digit(i) {
            i += 1;
        }
    }
    if text.get(i) == Some(&b'.') {
        i += 1;
        need_digit(i)?;
        while digit(i) {
            i += 1;
        }
    }
    if matches!(text.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(text.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        need_digit(i)?;
        while digit(i) {
            i += 1;
        }
    }
    // A number runs into the next token only through a delimiter.
    match text.get(i) {
        None | Some(b' ' | b'\t' | b'\n' | b'\r' | b',' | b']' | b'}') => Ok(i),
        Some(_) => Err(error(i, "bad number", false)),
    }
}

fn skip_literal(text: &[u8], at: usize, word: &[u8]) -> Result<usize, SyntaxError> {
    let available = &text[at..text.len().min(at + word.len())];
    if available == word {
        Ok(at + word.len())
    } else if word.starts_with(available) {
        Err(error(text.len(), "the literal ends early", true))
    } else {
        Err(error(at, "expected a JSON value", false))
    }
}

/// True when the quoted key `raw` (quotes included) names `name`.
fn key_equals(raw: &[u8], name: &str) -> bool {
    let inner = &raw[1..raw.len() - 1];
    if !inner.contains(&b'\\') {
        return inner == name.as_bytes();
    }
    string_value(raw).is_some_and(|key| key == name)
}

/// The text of a JSON string value `raw` (quotes included), unescaped; `None` when `raw` is
/// not a string.
#[must_use]
pub fn string_value(raw: &[u8]) -> Option<Cow<'_, str>> {
    let inner = raw.strip_prefix(b"\"")?.strip_suffix(b"\"")?;
    if !inner.contains(&b'\\') {
        return std::str::from_utf8(inner).ok().map(Cow::Borrowed);
    }
    serde_json::from_slice::<String>(raw).ok().map(Cow::Owned)
}

/// Appends `text` (valid JSON) to `out` without the whitespace outside strings.
pub fn minify_into(text: &[u8], out: &mut Vec<u8>) {
    out.reserve(text.len());
    let mut in_string = false;
    let mut escaped = false;
    let mut run = 0;
    for (i, &b) in text.iter().enumerate() {
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
            continue;
        }
        match b {
            b' ' | b'\t' | b'\n' | b'\r' => {
                out.extend_from_slice(&text[run..i]);
                run = i + 1;
            }
            b'"' => in_string = true,
            _ => {}
        }
    }
    out.extend_from_slice(&text[run..]);
}

/// Appends `text` as a JSON string (quotes included) to `out`.
pub fn write_string(out: &mut Vec<u8>, text: &str) {
    // Writing a str into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, text);
}

#[cfg(test)]
mod tests {
    use super::*;

    type Scanned = (Kind, Vec<(String, String)>, bool);

    fn scan(text: &str) -> Result<Scanned, SyntaxError> {
        let mut scanner = Scanner::new();
        let doc = scanner.scan(text.as_bytes())?;
        let members = doc
            .members
            .iter()
            .map(|m| {
                (
                    text[m.key.clone()].to_owned(),
                    text[m.value.clone()].to_owned(),
                )
            })
            .collect();
        Ok((doc.kind, members, doc.multiline))
    }

    #[test]
    fn members_of_the_top_object_are_indexed_in_order_with_duplicates() {
        let (kind, members, multiline) =
            scan(r#" {"a": 1, "b" :{"x":[1,{"y":2}]}, "a":"two", "c":[ ], "d":{}} "#)
                .expect("valid");
        assert_eq!(kind, Kind::Object);
        assert!(!multiline);
        let expected = [
            ("\"a\"", "1"),
            ("\"b\"", r#"{"x":[1,{"y":2}]}"#),
            ("\"a\"", "\"two\""),
            ("\"c\"", "[ ]"),
            ("\"d\"", "{}"),
        ];
        let got: Vec<(&str, &str)> = members
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        assert_eq!(got, expected);
    }

    #[test]
    fn the_last_duplicate_and_escaped_keys_are_found() {
        let text = br#"{"sn":"a","s\u006e":"b\"c","type":1}"#;
        let mut scanner = Scanner::new();
        let doc = scanner.scan(text).expect("valid");
        assert_eq!(doc.str_member(text, "sn").as_deref(), Some("b\"c"));
        assert_eq!(doc.str_member(text, "type"), None, "not a string");
        assert_eq!(doc.str_member(text, "missing"), None);
    }

    #[test]
    fn every_value_kind_and_odd_numbers_are_valid() {
        for (text, kind) in [
            ("0", Kind::Number),
            ("-0.5e+10", Kind::Number),
            ("12345678901234567890123", Kind::Number),
            ("116.31264671608805", Kind::Number),
            ("1E5", Kind::Number),
            ("\"\\ud83d\\ude00 \\u00e9 é\"", Kind::String),
            ("true", Kind::Bool),
            ("null", Kind::Null),
            ("[]", Kind::Array),
            ("[1,[2,[3]]]", Kind::Array),
        ] {
            assert_eq!(scan(text).map(|s| s.0), Ok(kind), "{text}");
        }
    }

    #[test]
    fn nesting_has_no_depth_limit() {
        let depth = 100_000;
        let text = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        assert_eq!(scan(&text).map(|s| s.0), Ok(Kind::Array));
        let text = format!("{{\"a\":{}1{}}}", "[".repeat(depth), "]".repeat(depth));
        assert!(scan(&text).is_ok());
    }

    #[test]
    fn bad_texts_are_errors_and_cut_ones_say_so() {
        for text in [
            "",
            "{",
            "{\"a\"",
            "{\"a\":",
            "[1,",
            "\"ab",
            "tru",
            "-",
            "1.",
            "{\"a\":1,",
        ] {
            let err = scan(text).expect_err(text);
            assert!(err.eof, "{text}: {err:?}");
        }
        for text in [
            "{]",
            "[}",
            "{a:1}",
            "01",
            "1.e5",
            "+1",
            "[1,]",
            "{\"a\":1,}",
            "{} {}",
            "\"\t\"",
            "\"\\x\"",
            "nul!",
            "[1 2]",
            "{\"a\" 1}",
            "1x",
            "\u{feff}{}",
        ] {
            let err = scan(text).expect_err(text);
            assert!(!err.eof, "{text}: {err:?}");
        }
    }

    #[test]
    fn invalid_utf8_is_an_error() {
        let mut scanner = Scanner::new();
        let err = scanner.scan(b"\"a\xffb\"").expect_err("bad utf-8");
        assert_eq!(err.offset, 2);
    }

    #[test]
    fn line_breaks_outside_strings_make_a_text_multiline() {
        assert!(scan("{\n\"a\": 1\r\n}").expect("valid").2);
        assert!(!scan("{\"a\\nb\": 1}").expect("valid").2);
    }

    #[test]
    fn minify_removes_only_whitespace_outside_strings() {
        let text =
            b"{\n  \"a b\" : [ 1.50 , \"x \\\" y\" ],\n\t\"c\": 12345678901234567890123\n}\n";
        let mut out = Vec::new();
        minify_into(text, &mut out);
        assert_eq!(
            String::from_utf8(out).expect("utf8"),
            r#"{"a b":[1.50,"x \" y"],"c":12345678901234567890123}"#
        );
    }
}
