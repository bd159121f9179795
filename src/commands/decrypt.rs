//! `decrypt` and `encrypt`: safe-mode payloads in both directions.
//!
//! `decrypt` takes a bare `encryptData`, a push JSON object, or an NDJSON stream of pushes
//! (one output line per input line; a bad line is reported on stderr with its number and
//! the rest go on; exit 5 when any failed). JSON output is pretty on a terminal and compact
//! when piped.

use std::io::{self, BufRead, BufWriter, IsTerminal as _, Read as _, Write};

use serde_json::Value;

use crate::cli::{DecryptArgs, EncryptArgs, SafeModeKeyArgs};
use crate::config::{CredentialFlags, Env, Resolver, Sourced, ENV_APP_KEY};
use crate::crypto::{AppKey, CryptoError, SafeModeCodec};
use crate::error::{Error, ExitKind, Result};
use crate::json::{self, Scanner};
use crate::output::pretty::{self, PayloadView, PrettyOptions, SafeModeView};
use crate::push::{self, open_into, seal_into, write_plaintext};
use crate::secret::Secret;

/// Layout of the output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// One JSON line per item (piped).
    Compact,
    /// For a person (terminal): pushes through the pretty renderer, other JSON indented.
    Pretty {
        /// Use colour.
        color: bool,
    },
}

/// Decrypts items one at a time, reusing the codec's buffers.
pub struct Decoder {
    codec: SafeModeCodec,
    app_id: Option<String>,
    /// Where `app_id` came from, for a mismatch error.
    app_id_source: String,
    /// The AppID expected when none is given and the item has no `appId` of its own.
    fallback: Option<Sourced<String>>,
    verify: bool,
    layout: Layout,
    scanner: Scanner,
    opened: Vec<u8>,
}

impl Decoder {
    /// A decoder with a parsed key; `app_id` is the AppID the trailer must equal (for pushes,
    /// their own `appId` is used when `None`); `verify == false` skips that check.
    #[must_use]
    pub fn new(key: &AppKey, app_id: Option<String>, verify: bool, layout: Layout) -> Self {
        Decoder {
            codec: SafeModeCodec::new(key),
            app_id,
            app_id_source: "the given AppID".to_owned(),
            fallback: None,
            verify,
            layout,
            scanner: Scanner::new(),
            opened: Vec::new(),
        }
    }

    /// Says where the given AppID came from (e.g. `--app-id`), and which AppID to expect
    /// when none is given and a push has no `appId` (the profile's).
    #[must_use]
    pub fn with_sources(
        mut self,
        app_id_source: String,
        fallback: Option<Sourced<String>>,
    ) -> Self {
        self.app_id_source = app_id_source;
        self.fallback = fallback;
        self
    }

    /// The AppID to expect for an item whose own `appId` is `own`, and where it came from:
    /// the given one, else the item's own, else the fallback.
    fn expected(&self, own: Option<&str>) -> Option<(String, String)> {
        expected_for(
            self.app_id.as_deref(),
            &self.app_id_source,
            self.fallback.as_ref(),
            own,
        )
    }

    /// Decodes one item (push JSON, JSON string or bare base64) and appends one output
    /// line to `out`. Returns the AppID trailer of a bare `encryptData` that was not checked.
    pub fn decode(&mut self, item: &str, out: &mut Vec<u8>) -> Result<Option<String>> {
        let item = item.trim_matches(|c: char| c.is_ascii_whitespace());
        if item.starts_with('{') {
            self.decode_push(item.as_bytes(), out)?;
            return Ok(None);
        }
        let unquoted;
        let cipher = if item.starts_with('"') {
            unquoted = serde_json::from_str::<String>(item)
                .map_err(|e| Error::new(ExitKind::Crypto, format!("not a JSON string: {e}")))?;
            unquoted.as_str()
        } else {
            item
        };
        let (expected, source) = if self.verify {
            self.expected(None).unzip()
        } else {
            (None, None)
        };
        let decrypted = self
            .codec
            .decrypt(cipher, expected.as_deref())
            .map_err(|e| explain_mismatch(e, source.as_deref()))?;
        let unchecked = expected.is_none().then(|| decrypted.app_id.to_owned());
        let message = decrypted.message;
        match self.layout {
            Layout::Compact => write_plaintext(message, out),
            Layout::Pretty { .. } => match serde_json::from_str::<Value>(message) {
                Ok(value) => {
                    // Writing a Value into a Vec cannot fail.
                    let _ = serde_json::to_writer_pretty(&mut *out, &value);
                }
                Err(_) => out.extend_from_slice(message.as_bytes()),
            },
        }
        out.push(b'\n');
        Ok(unchecked)
    }

    /// A push object: `encryptData` opened in place, every other byte kept.
    fn decode_push(&mut self, item: &[u8], out: &mut Vec<u8>) -> Result<()> {
        let Decoder {
            codec,
            app_id,
            app_id_source,
            fallback,
            verify,
            scanner,
            opened,
            ..
        } = self;
        let doc = scanner
            .scan(item)
            .map_err(|e| Error::new(ExitKind::Crypto, format!("not a JSON object: {e}")))?;
        opened.clear();
        let encrypted = doc
            .member(item, push::ENCRYPT_DATA)
            .filter(|m| item.get(m.value.start) == Some(&b'"'));
        let opened: &[u8] = match encrypted {
            Some(member) => {
                let own = doc.str_member(item, "appId");
                let (expected, source) = expected_for(
                    app_id.as_deref(),
                    app_id_source,
                    fallback.as_ref(),
                    own.as_deref(),
                )
                .unzip();
                open_into(
                    item,
                    &doc,
                    member,
                    codec,
                    expected.as_deref(),
                    *verify,
                    opened,
                )
                .map_err(|e| explain_mismatch(e, source.as_deref()))?;
                opened
            }
            None => item,
        };
        match self.layout {
            Layout::Compact if doc.multiline => json::minify_into(opened, out),
            Layout::Compact => out.extend_from_slice(opened),
            Layout::Pretty { color } => match serde_json::from_slice::<Value>(opened) {
                Ok(value) => {
                    render_push(&value, color, out);
                    return Ok(());
                }
                Err(_) => out.extend_from_slice(opened),
            },
        }
        out.push(b'\n');
        Ok(())
    }
}

/// The AppID to expect for an item whose own `appId` is `own`, and where it came from: the
/// given one, else the item's own, else the fallback (the profile's).
fn expected_for(
    given: Option<&str>,
    given_source: &str,
    fallback: Option<&Sourced<String>>,
    own: Option<&str>,
) -> Option<(String, String)> {
    if let Some(given) = given {
        return Some((given.to_owned(), given_source.to_owned()));
    }
    if let Some(own) = own {
        return Some((own.to_owned(), "the push's appId".to_owned()));
    }
    fallback.map(|f| (f.value.clone(), f.source.to_string()))
}

/// A mismatched AppID trailer, with where the expected AppID came from and how to skip the
/// check; any other error as the codec words it.
fn explain_mismatch(err: CryptoError, source: Option<&str>) -> Error {
    let mismatch = matches!(err, CryptoError::AppIdMismatch { .. });
    let err = Error::from(err);
    match source {
        Some(source) if mismatch => Error::new(
            ExitKind::Crypto,
            format!("{} (the expected AppID comes from {source})", err.message()),
        )
        .with_hint(
            "the push was encrypted for another app: give the right AppID (--app-id), or skip \
             the check with --no-verify-app-id",
        ),
        _ => err,
    }
}

/// A decrypted push for a person: the pretty renderer, received now, marked decrypted.
fn render_push(push: &Value, color: bool, out: &mut Vec<u8>) {
    let options = PrettyOptions {
        color,
        ..PrettyOptions::default()
    };
    let view = PayloadView::Push {
        push,
        safe_mode: SafeModeView::Decrypted,
    };
    let mut text = String::new();
    pretty::render(
        &mut text,
        &view,
        chrono::Local::now().fixed_offset(),
        &options,
    );
    out.extend_from_slice(text.as_bytes());
}

/// Counts of a stream run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StreamSummary {
    /// Items decoded.
    pub ok: u64,
    /// Items that failed (reported on stderr).
    pub failed: u64,
}

/// Decodes every item of `input`, one per line: each line gives one output line or one
/// error line (`line N: …` on `errors`), whatever it holds, and the stream goes on. Blank
/// lines are skipped. One exception keeps pasted pushes working: a line that opens a JSON
/// object which is not complete takes the following lines until a line ending in `}`
/// completes it (a pretty-printed push, as jq prints one). When those lines cannot complete
/// it (a new object starts at column 0, the text turns invalid, or the input ends), the
/// first line is reported as cut off and the lines after it are read again on their own.
pub fn decode_stream(
    decoder: &mut Decoder,
    mut input: impl BufRead,
    out: &mut impl Write,
    errors: &mut impl Write,
) -> io::Result<StreamSummary> {
    let mut stream = Stream {
        summary: StreamSummary::default(),
        buf: Vec::with_capacity(1024),
        pending: Vec::new(),
        joined: Vec::new(),
        again: std::collections::VecDeque::new(),
    };
    let mut line_no = 0u64;
    let mut eof = false;
    loop {
        let (number, line) = match stream.again.pop_front() {
            Some(next) => next,
            None if eof => {
                if stream.pending.is_empty() {
                    return Ok(stream.summary);
                }
                stream.abandon(decoder, out, errors)?;
                continue;
            }
            None => {
                let mut line = Vec::new();
                if input.read_until(b'\n', &mut line)? == 0 {
                    eof = true;
                    continue;
                }
                line_no += 1;
                (line_no, line)
            }
        };
        stream.take(decoder, number, line, out, errors)?;
    }
}

/// The state of [`decode_stream`].
struct Stream {
    summary: StreamSummary,
    buf: Vec<u8>,
    /// Lines of an object being completed, with their numbers.
    pending: Vec<(u64, Vec<u8>)>,
    joined: Vec<u8>,
    /// Lines to read again on their own after an abandoned object.
    again: std::collections::VecDeque<(u64, Vec<u8>)>,
}

impl Stream {
    fn take(
        &mut self,
        decoder: &mut Decoder,
        number: u64,
        line: Vec<u8>,
        out: &mut impl Write,
        errors: &mut impl Write,
    ) -> io::Result<()> {
        if self.pending.is_empty() {
            if line.trim_ascii().is_empty() {
                return Ok(());
            }
            if self.emit(decoder, number, &line, out, errors, true)? {
                self.pending.push((number, line));
            }
            return Ok(());
        }
        if line.starts_with(b"{") {
            // A new object at column 0: the pending one was cut off.
            self.again.push_front((number, line));
            return self.abandon(decoder, out, errors);
        }
        let closes = line.trim_ascii_end().ends_with(b"}");
        self.pending.push((number, line));
        if !closes {
            return Ok(());
        }
        self.joined.clear();
        for (_, part) in &self.pending {
            self.joined.extend_from_slice(part);
        }
        match decoder.scanner.scan(&self.joined) {
            Err(err) if err.eof => Ok(()),
            Err(_) => self.abandon(decoder, out, errors),
            Ok(_) => {
                let first = self.pending[0].0;
                self.pending.clear();
                let joined = std::mem::take(&mut self.joined);
                self.emit(decoder, first, &joined, out, errors, false)?;
                self.joined = joined;
                Ok(())
            }
        }
    }

    /// The pending object cannot be completed: its first line is reported on its own and
    /// the lines after it are read again.
    fn abandon(
        &mut self,
        decoder: &mut Decoder,
        out: &mut impl Write,
        errors: &mut impl Write,
    ) -> io::Result<()> {
        let mut lines = std::mem::take(&mut self.pending).into_iter();
        let Some((number, first)) = lines.next() else {
            return Ok(());
        };
        for line in lines.rev() {
            self.again.push_front(line);
        }
        self.emit(decoder, number, &first, out, errors, false)?;
        Ok(())
    }

    /// Decodes one item and writes its line or its error. With `may_continue`, an object
    /// cut short is not reported: true is returned and the caller collects more lines.
    fn emit(
        &mut self,
        decoder: &mut Decoder,
        number: u64,
        item: &[u8],
        out: &mut impl Write,
        errors: &mut impl Write,
        may_continue: bool,
    ) -> io::Result<bool> {
        self.buf.clear();
        let result = match std::str::from_utf8(item) {
            Ok(text) => decoder.decode(text, &mut self.buf),
            Err(err) => Err(Error::new(
                ExitKind::Crypto,
                format!("the line is not UTF-8 (byte {})", err.valid_up_to() + 1),
            )),
        };
        match result {
            Ok(_) => {
                self.summary.ok += 1;
                out.write_all(&self.buf)?;
            }
            Err(_) if may_continue && decoder.is_unfinished_object(item) => return Ok(true),
            Err(err) => {
                self.summary.failed += 1;
                writeln!(errors, "line {number}: error: {}", err.message())?;
            }
        }
        Ok(false)
    }
}

impl Decoder {
    /// True when `text` starts a JSON object that ends early (more lines may complete it).
    fn is_unfinished_object(&mut self, text: &[u8]) -> bool {
        text.trim_ascii_start().starts_with(b"{")
            && matches!(self.scanner.scan(text), Err(e) if e.eof)
    }
}

fn resolver(keys: &SafeModeKeyArgs, env: Env) -> Resolver {
    let flags = CredentialFlags {
        profile: keys.profile.clone(),
        app_id: keys.app_id.clone(),
        app_key: keys.app_key.clone().map(Secret::new),
        ..CredentialFlags::default()
    };
    Resolver::new(flags, env)
}

fn app_key(resolver: &Resolver) -> Result<AppKey> {
    let key = resolver.app_key()?.ok_or_else(|| {
        Error::config("no AppKey given").with_hint(format!(
            "pass --app-key, set {ENV_APP_KEY}, or store app_key in a profile"
        ))
    })?;
    Ok(AppKey::parse(key.value.expose())?)
}

/// The given AppID and the fallback one.
type ExpectedAppIds = (Option<Sourced<String>>, Option<Sourced<String>>);

/// The AppID given by flag or environment, else the profile's as a fallback (a push's own
/// `appId` comes between the two).
fn expected_app_id(resolver: &Resolver) -> Result<ExpectedAppIds> {
    match resolver.given_app_id() {
        Some(given) => Ok((Some(given), None)),
        None => Ok((None, resolver.app_id_if_given()?)),
    }
}

/// An optional AppID: a missing one is fine, a broken config file is not.
fn optional_app_id(resolver: &Resolver) -> Result<Option<String>> {
    Ok(resolver.app_id_if_given()?.map(|found| found.value))
}

/// Runs `decrypt`.
pub fn run_decrypt(args: &DecryptArgs, env: Env) -> Result<()> {
    let resolver = resolver(&args.keys, env);
    let key = app_key(&resolver);
    let app_id = expected_app_id(&resolver);
    super::print_resolver_messages(&resolver);
    let (key, (given, fallback)) = (key?, app_id?);
    let stdout = io::stdout();
    let layout = if stdout.is_terminal() {
        let choice = crate::output::ColorChoice::from(args.color);
        Layout::Pretty {
            color: choice.enabled(true, std::env::var("NO_COLOR").ok().as_deref()),
        }
    } else {
        Layout::Compact
    };
    let given_source = given.as_ref().map(|g| g.source.to_string());
    let mut decoder = Decoder::new(&key, given.map(|g| g.value), !args.no_verify_app_id, layout)
        .with_sources(given_source.unwrap_or_default(), fallback);
    let mut out = BufWriter::with_capacity(1 << 16, stdout.lock());
    match args.input.as_deref() {
        Some(item) if item != "-" => {
            let mut buf = Vec::new();
            let unchecked = decoder.decode(item, &mut buf)?;
            out.write_all(&buf)?;
            out.flush()?;
            if let Some(trailer) = unchecked {
                eprintln!("note: the AppID inside is '{trailer}' (not checked: no AppID given)");
            }
            Ok(())
        }
        _ => {
            let input = io::BufReader::with_capacity(1 << 16, io::stdin().lock());
            let mut errors = io::stderr().lock();
            let summary = decode_stream(&mut decoder, input, &mut out, &mut errors)
                .map_err(|e| Error::io("cannot decrypt the stream", &e))?;
            out.flush()?;
            if summary.failed > 0 {
                return Err(Error::new(
                    ExitKind::Crypto,
                    format!(
                        "{} of {} items could not be decrypted",
                        summary.failed,
                        summary.failed + summary.ok
                    ),
                ));
            }
            Ok(())
        }
    }
}

/// Runs `encrypt`: TEXT (or stdin) to `encryptData`, or `--push` pushes to safe-mode pushes.
pub fn run_encrypt(args: &EncryptArgs, env: Env) -> Result<()> {
    let resolver = resolver(&args.keys, env);
    let key = app_key(&resolver);
    let app_id = optional_app_id(&resolver);
    super::print_resolver_messages(&resolver);
    let (key, app_id) = (key?, app_id?);
    let codec = SafeModeCodec::new(&key);
    let mut out = BufWriter::new(io::stdout().lock());
    if let Some(source) = &args.push {
        let text = read_source(source)?;
        let mut scanner = Scanner::new();
        let mut sealed = Vec::new();
        for (index, line) in text.split(|&b| b == b'\n').enumerate() {
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            if line.trim_ascii().is_empty() {
                continue;
            }
            sealed.clear();
            seal_line(&codec, &mut scanner, line, app_id.as_deref(), &mut sealed)
                .map_err(|e| e.prefixed(format_args!("line {}: ", index + 1)))?;
            sealed.push(b'\n');
            out.write_all(&sealed)?;
        }
    } else {
        let text = match args.text.as_deref() {
            Some(text) if text != "-" => text.as_bytes().to_vec(),
            _ => read_source("-")?,
        };
        if let Err(err) = std::str::from_utf8(&text) {
            return Err(Error::new(
                ExitKind::Crypto,
                format!(
                    "the text is not UTF-8 (byte {}); safe-mode plaintexts are UTF-8 JSON",
                    err.valid_up_to() + 1
                ),
            ));
        }
        let app_id = app_id.ok_or_else(|| {
            Error::config("no AppID given: it is sealed into every encryptData")
                .with_hint("pass --app-id, set SENSORO_APP_ID, or use a profile")
        })?;
        writeln!(out, "{}", codec.encrypt(&text, &app_id)?)?;
    }
    out.flush()?;
    Ok(())
}

/// Seals one push line into `out`: `data` becomes `encryptData`, every other byte stays.
fn seal_line(
    codec: &SafeModeCodec,
    scanner: &mut Scanner,
    line: &[u8],
    app_id: Option<&str>,
    out: &mut Vec<u8>,
) -> Result<()> {
    let doc = match scanner.scan(line) {
        Ok(doc) if doc.kind == json::Kind::Object => doc,
        Ok(doc) => {
            return Err(Error::new(
                ExitKind::Crypto,
                format!("not a push: the line is {}", doc.kind.words()),
            ))
        }
        Err(e) => {
            return Err(Error::new(
                ExitKind::Crypto,
                format!("not a push JSON object: {e}"),
            ))
        }
    };
    let own = doc.str_member(line, "appId");
    let app_id = app_id.or(own.as_deref()).ok_or_else(|| {
        Error::config("no AppID: the push has no appId and none was given")
            .with_hint("pass --app-id")
    })?;
    if !seal_into(line, &doc, codec, app_id, out)? {
        return Err(Error::new(
            ExitKind::Crypto,
            format!("the push has no '{}' field to encrypt", push::DATA),
        ));
    }
    Ok(())
}

/// The bytes of FILE, or of stdin for `-`, exactly.
fn read_source(source: &str) -> Result<Vec<u8>> {
    if source == "-" {
        let mut text = Vec::new();
        io::stdin()
            .read_to_end(&mut text)
            .map_err(|e| Error::io("cannot read stdin", &e))?;
        Ok(text)
    } else {
        std::fs::read(source).map_err(|e| Error::io(format!("cannot read {source}"), &e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";

    fn key() -> AppKey {
        AppKey::parse(KEY).expect("key")
    }

    fn sealed(data: &str, app_id: &str) -> String {
        SafeModeCodec::new(&key())
            .encrypt(data.as_bytes(), app_id)
            .expect("encrypt")
    }

    #[test]
    fn stream_goes_on_after_a_bad_line_and_numbers_it() {
        let good = sealed(r#"{"t":1}"#, "foobar");
        let input =
            format!("{{\"appId\":\"foobar\",\"encryptData\":\"{good}\"}}\nnot-base64!\n\n{good}\n");
        let mut decoder = Decoder::new(&key(), Some("foobar".into()), true, Layout::Compact);
        let (mut out, mut errors) = (Vec::new(), Vec::new());
        let summary =
            decode_stream(&mut decoder, input.as_bytes(), &mut out, &mut errors).expect("io");
        assert_eq!(summary, StreamSummary { ok: 2, failed: 1 });
        assert_eq!(
            String::from_utf8(out).expect("utf8"),
            "{\"appId\":\"foobar\",\"data\":{\"t\":1}}\n{\"t\":1}\n"
        );
        let errors = String::from_utf8(errors).expect("utf8");
        assert!(errors.starts_with("line 2: error: "), "{errors}");
    }

    #[test]
    fn a_pretty_printed_push_spanning_lines_is_one_item() {
        let good = sealed(r#"{"t":2}"#, "foobar");
        let input = format!("{{\n  \"appId\": \"foobar\",\n  \"encryptData\": \"{good}\"\n}}\n");
        let mut decoder = Decoder::new(&key(), None, true, Layout::Compact);
        let (mut out, mut errors) = (Vec::new(), Vec::new());
        let summary =
            decode_stream(&mut decoder, input.as_bytes(), &mut out, &mut errors).expect("io");
        assert_eq!(summary, StreamSummary { ok: 1, failed: 0 }, "{errors:?}");
        assert_eq!(out, b"{\"appId\":\"foobar\",\"data\":{\"t\":2}}\n");
    }

    #[test]
    fn a_bare_cipher_without_app_id_reports_the_unchecked_trailer() {
        let mut decoder = Decoder::new(&key(), None, true, Layout::Compact);
        let mut out = Vec::new();
        let trailer = decoder
            .decode(&sealed("plain text", "abc"), &mut out)
            .expect("decode");
        assert_eq!(trailer.as_deref(), Some("abc"));
        assert_eq!(
            out, b"\"plain text\"\n",
            "piped, text becomes one JSON string"
        );
    }

    fn stream(input: &[u8]) -> (StreamSummary, String, String) {
        let mut decoder = Decoder::new(&key(), Some("foobar".into()), true, Layout::Compact);
        let (mut out, mut errors) = (Vec::new(), Vec::new());
        let summary = decode_stream(&mut decoder, input, &mut out, &mut errors).expect("io");
        let text = |b: Vec<u8>| String::from_utf8(b).expect("utf8");
        (summary, text(out), text(errors))
    }

    #[test]
    fn a_cut_off_line_is_reported_alone_and_the_next_line_still_decodes() {
        let good = sealed(r#"{"t":1}"#, "foobar");
        let push = format!(r#"{{"appId":"foobar","encryptData":"{good}"}}"#);
        let cut = &push[..30];
        let input = format!("{cut}\n{push}\n{cut}\n  \"x\": 1,\n{push}\n{cut}");
        let (summary, out, errors) = stream(input.as_bytes());
        assert_eq!(summary, StreamSummary { ok: 2, failed: 4 }, "{errors}");
        assert_eq!(out, "{\"appId\":\"foobar\",\"data\":{\"t\":1}}\n".repeat(2));
        let numbers: Vec<&str> = errors
            .lines()
            .map(|l| l.split(':').next().unwrap_or(""))
            .collect();
        assert_eq!(
            numbers,
            ["line 1", "line 3", "line 4", "line 6"],
            "{errors}"
        );
    }

    #[test]
    fn a_line_that_is_not_utf8_is_one_error_and_the_stream_goes_on() {
        let good = sealed(r#"{"t":1}"#, "foobar");
        let mut input = b"\xff\xfe\n".to_vec();
        input.extend_from_slice(good.as_bytes());
        let (summary, out, errors) = stream(&input);
        assert_eq!(summary, StreamSummary { ok: 1, failed: 1 });
        assert_eq!(out, "{\"t\":1}\n");
        assert!(
            errors.starts_with("line 1: error: the line is not UTF-8"),
            "{errors}"
        );
    }

    #[test]
    fn plaintexts_keep_their_bytes_and_non_json_becomes_a_json_string() {
        for (plain, expected) in [
            (
                r#"{"lng":116.31264671608805,"id":12345678901234567890123}"#,
                r#"{"lng":116.31264671608805,"id":12345678901234567890123}"#,
            ),
            ("[1, 2]", "[1, 2]"),
            ("{\n \"a\": 1e400\n}", r#"{"a":1e400}"#),
            ("two\nlines", r#""two\nlines""#),
        ] {
            let (_, out, errors) = stream(sealed(plain, "foobar").as_bytes());
            assert_eq!(out, format!("{expected}\n"), "{errors}");
        }
    }
}
