//! `decrypt` and `encrypt`: safe-mode payloads in both directions.
//!
//! `decrypt` takes a bare `encryptData`, a push JSON object, or an NDJSON stream of pushes
//! (one output line per input line; a bad line is reported on stderr with its number and
//! the rest go on; exit 5 when any failed). JSON output is pretty on a terminal and compact
//! when piped.

use std::io::{self, BufRead, BufWriter, IsTerminal as _, Read as _, Write};

use serde_json::{Map, Value};

use crate::cli::{DecryptArgs, EncryptArgs, SafeModeKeyArgs};
use crate::config::{CredentialFlags, Env, Resolver, Sourced, ENV_APP_KEY};
use crate::crypto::{AppKey, CryptoError, SafeModeCodec};
use crate::error::{Error, ExitKind, Result};
use crate::output::pretty::{self, PayloadView, PrettyOptions, SafeModeView};
use crate::push::{self, open_push, seal_push, text_to_value};
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
        if let Some(given) = &self.app_id {
            return Some((given.clone(), self.app_id_source.clone()));
        }
        if let Some(own) = own {
            return Some((own.to_owned(), "the push's appId".to_owned()));
        }
        self.fallback
            .as_ref()
            .map(|f| (f.value.clone(), f.source.to_string()))
    }

    /// Decodes one item (push JSON, JSON string or bare base64) and appends one output
    /// line to `out`. Returns the AppID trailer of a bare `encryptData` that was not checked.
    pub fn decode(&mut self, item: &str, out: &mut Vec<u8>) -> Result<Option<String>> {
        let item = item.trim();
        if item.starts_with('{') {
            let mut push: Map<String, Value> = serde_json::from_str(item)
                .map_err(|e| Error::new(ExitKind::Crypto, format!("not a JSON object: {e}")))?;
            let expected = self.expected(push.get("appId").and_then(Value::as_str));
            let (app_id, source) = expected.unzip();
            open_push(&mut push, &mut self.codec, app_id.as_deref(), self.verify)
                .map_err(|e| explain_mismatch(e, source.as_deref()))?;
            match self.layout {
                Layout::Compact => self.write_value(&Value::Object(push), out),
                Layout::Pretty { color } => render_push(Value::Object(push), color, out),
            }
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
        match text_to_value(decrypted.message) {
            Value::String(text) => {
                out.extend_from_slice(text.as_bytes());
                out.push(b'\n');
            }
            value => self.write_value(&value, out),
        }
        Ok(unchecked)
    }

    fn write_value(&self, value: &Value, out: &mut Vec<u8>) {
        // Writing a Value into a Vec cannot fail.
        let _ = match self.layout {
            Layout::Compact => serde_json::to_writer(&mut *out, value),
            Layout::Pretty { .. } => serde_json::to_writer_pretty(&mut *out, value),
        };
        out.push(b'\n');
    }
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
fn render_push(push: Value, color: bool, out: &mut Vec<u8>) {
    let options = PrettyOptions {
        color,
        ..PrettyOptions::default()
    };
    let view = PayloadView::Push {
        push: &push,
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

/// Decodes every item of `input`: one per line, where a line that opens a JSON object which
/// is not complete yet takes the following lines until it is (a pretty-printed push).
/// Failures go to `errors` as `line N: …` and the stream goes on.
pub fn decode_stream(
    decoder: &mut Decoder,
    mut input: impl BufRead,
    out: &mut impl Write,
    errors: &mut impl Write,
) -> io::Result<StreamSummary> {
    let mut summary = StreamSummary::default();
    let mut item = String::new();
    let mut buf = Vec::with_capacity(1024);
    let mut line_no = 0u64;
    let mut item_start = 0u64;
    loop {
        let read = input.read_line(&mut item)?;
        if read > 0 {
            line_no += 1;
            if item.len() == read {
                item_start = line_no;
            }
            // Fast path: a one-line item ending in '}' is a complete NDJSON push.
            let one_line_push = item_start == line_no && item.trim_end().ends_with('}');
            if !one_line_push && is_unfinished_object(&item) {
                continue;
            }
        }
        if !item.trim().is_empty() {
            buf.clear();
            match decoder.decode(&item, &mut buf) {
                Ok(_) => {
                    summary.ok += 1;
                    out.write_all(&buf)?;
                }
                Err(err) => {
                    summary.failed += 1;
                    writeln!(errors, "line {item_start}: error: {}", err.message())?;
                }
            }
        }
        item.clear();
        if read == 0 {
            return Ok(summary);
        }
    }
}

/// True when `text` starts a JSON object that ends early (more lines may complete it).
fn is_unfinished_object(text: &str) -> bool {
    let trimmed = text.trim_start();
    trimmed.starts_with('{')
        && matches!(serde_json::from_str::<serde::de::IgnoredAny>(trimmed), Err(e) if e.is_eof())
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
        for (index, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let sealed = seal_line(&codec, line, app_id.as_deref())
                .map_err(|e| e.prefixed(format_args!("line {}: ", index + 1)))?;
            writeln!(out, "{sealed}")?;
        }
    } else {
        let text = match args.text.as_deref() {
            Some(text) if text != "-" => text.to_owned(),
            _ => read_source("-")?,
        };
        let message = strip_one_newline(&text);
        let app_id = app_id.ok_or_else(|| {
            Error::config("no AppID given: it is sealed into every encryptData")
                .with_hint("pass --app-id, set SENSORO_APP_ID, or use a profile")
        })?;
        writeln!(out, "{}", codec.encrypt(message.as_bytes(), &app_id)?)?;
    }
    out.flush()?;
    Ok(())
}

fn seal_line(codec: &SafeModeCodec, line: &str, app_id: Option<&str>) -> Result<String> {
    let mut push: Map<String, Value> = serde_json::from_str(line)
        .map_err(|e| Error::new(ExitKind::Crypto, format!("not a push JSON object: {e}")))?;
    let own = push.get("appId").and_then(Value::as_str).map(str::to_owned);
    let app_id = app_id.map(str::to_owned).or(own).ok_or_else(|| {
        Error::config("no AppID: the push has no appId and none was given")
            .with_hint("pass --app-id")
    })?;
    if !seal_push(&mut push, codec, &app_id)? {
        return Err(Error::new(
            ExitKind::Crypto,
            format!("the push has no '{}' field to encrypt", push::DATA),
        ));
    }
    Ok(Value::Object(push).to_string())
}

fn read_source(source: &str) -> Result<String> {
    let mut text = String::new();
    if source == "-" {
        io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| Error::io("cannot read stdin", &e))?;
    } else {
        text = std::fs::read_to_string(source)
            .map_err(|e| Error::io(format!("cannot read {source}"), &e))?;
    }
    Ok(text)
}

/// Text from a pipe usually ends with one newline that is not part of the message.
fn strip_one_newline(text: &str) -> &str {
    text.strip_suffix("\r\n")
        .or_else(|| text.strip_suffix('\n'))
        .unwrap_or(text)
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
        assert_eq!(out, b"plain text\n");
    }
}
