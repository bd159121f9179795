//! What `listen` and `connect` share: resolving where and as whom to connect from
//! [`ConnectionArgs`], the environment and the profiles, and the local clientId check.

use std::io::IsTerminal as _;

use crate::cli::ConnectionArgs;
use crate::client_id;
use crate::config::{CredentialFlags, Env, Qos, Resolver, Source, Sourced};
use crate::emulator::topic_for;
use crate::error::{Error, ExitKind, Result};
use crate::secret::Secret;
use crate::tls::TlsClient;

/// A resolved connection target.
#[derive(Debug)]
pub struct Target {
    /// AppID and its origin.
    pub app_id: Sourced<String>,
    /// AppSecret and its origin.
    pub app_secret: Sourced<Secret>,
    /// AppKey, when one is given.
    pub app_key: Option<Secret>,
    /// Broker host.
    pub host: String,
    /// Broker port.
    pub port: u16,
    /// TLS, when on.
    pub tls: Option<TlsClient>,
    /// Subscription QoS.
    pub qos: Qos,
    /// Whether QoS was given (flag or profile) rather than defaulted.
    pub qos_given: bool,
    /// Topic to subscribe to.
    pub topic: String,
}

/// What a session resolved to before any network I/O.
pub struct Plan {
    /// How to open the session.
    pub settings: crate::mqtt::SessionSettings,
    /// The topic to subscribe to.
    pub topic: String,
    /// The subscription QoS.
    pub qos: Qos,
    /// The AppKey for safe mode, when one is given.
    pub app_key: Option<Secret>,
    /// What was sent as whom and where each value came from (secrets masked), for errors.
    pub credentials: String,
}

/// Resolves a session for `client_id` (checked against the platform rule first): the
/// settings `listen` and `relay` share.
pub fn plan(
    conn: &ConnectionArgs,
    resolver: &Resolver,
    client_id: String,
    clean_session: bool,
    max_payload: usize,
) -> Result<Plan> {
    let app_id = resolver.app_id()?.value;
    check_client_id(&app_id, &client_id)?;
    let target = resolve(conn, resolver)?;
    let credentials = format!("{}, clientId '{client_id}'", describe_credentials(&target));
    let settings = crate::mqtt::SessionSettings {
        app_secret: target.app_secret.value,
        host: target.host,
        port: target.port,
        app_id,
        client_id,
        clean_session,
        keep_alive: std::time::Duration::from_secs(30),
        tls: target.tls,
        max_payload,
    };
    Ok(Plan {
        topic: target.topic,
        qos: target.qos,
        app_key: target.app_key,
        credentials,
        settings,
    })
}

/// A resolver over the connection flags.
#[must_use]
pub fn resolver(conn: &ConnectionArgs, env: Env) -> Resolver {
    let flags = CredentialFlags {
        profile: conn.profile.clone(),
        app_id: conn.app_id.clone(),
        app_secret: conn.app_secret.clone().map(Secret::new),
        app_key: conn.app_key.clone().map(Secret::new),
        host: conn.host.clone(),
        port: conn.port,
        tls: (conn.tls || conn.ca_file.is_some()).then_some(true),
        ca_file: conn.ca_file.clone(),
        qos: conn.qos.and_then(Qos::from_level),
        client_suffix: None,
    };
    Resolver::new(flags, env)
}

/// Resolves everything but the clientId. A missing AppSecret is asked for on a terminal.
pub fn resolve(conn: &ConnectionArgs, resolver: &Resolver) -> Result<Target> {
    let app_id = resolver.app_id()?;
    let app_secret = match resolver.app_secret() {
        Ok(secret) => secret,
        Err(err) => prompt_secret(&app_id.value).ok_or(err)??,
    };
    let host = resolver.host()?.value;
    let port = resolver.port()?.value;
    let tls = if resolver.tls()? {
        Some(TlsClient::new(resolver.ca_file()?.as_deref())?)
    } else {
        None
    };
    let qos_given = conn.qos.is_some() || resolver.profile()?.is_some_and(|(_, p)| p.qos.is_some());
    let topic = conn
        .topic
        .clone()
        .unwrap_or_else(|| topic_for(&app_id.value));
    Ok(Target {
        app_key: resolver.app_key()?.map(|s| s.value),
        qos: resolver.qos()?,
        qos_given,
        topic,
        app_id,
        app_secret,
        host,
        port,
        tls,
    })
}

/// The AppID and AppSecret (masked) with where each came from, e.g. `AppID 'foobar' (from
/// profile 'work'), AppSecret ••••WXYZ (from $SENSORO_APP_SECRET)`.
#[must_use]
pub fn describe_credentials(target: &Target) -> String {
    format!(
        "AppID '{}' (from {}), AppSecret {} (from {})",
        target.app_id.value,
        target.app_id.source,
        target.app_secret.value.masked(),
        target.app_secret.source
    )
}

/// Asks for the AppSecret without echo when stdin is a terminal; `None` when it is not (or
/// the answer is empty), so the caller reports the missing value.
fn prompt_secret(app_id: &str) -> Option<Result<Sourced<Secret>>> {
    if !std::io::stdin().is_terminal() {
        return None;
    }
    match rpassword::prompt_password(format!("AppSecret for {app_id} (hidden): ")) {
        Ok(answer) if answer.is_empty() => None,
        Ok(answer) => Some(Ok(Sourced {
            value: Secret::new(answer),
            source: Source::Prompt,
        })),
        Err(err) => Some(Err(Error::io("cannot read the AppSecret", &err))),
    }
}

/// Checks a clientId against the platform rule before any network I/O: exit 6 with the
/// explanation and a suggestion.
pub fn check_client_id(app_id: &str, client_id: &str) -> Result<()> {
    let Some(violation) = client_id::explain(app_id, client_id.as_bytes()) else {
        return Ok(());
    };
    let mut err = Error::new(
        ExitKind::Config,
        format!(
            "clientId '{}' breaks the platform rule: {}",
            client_id.escape_debug(),
            violation.message
        ),
    );
    if let Some(suggestion) = violation.suggestion {
        err = err.with_hint(format!("try --client-id {suggestion}"));
    }
    Err(err)
}

/// 12 random alphanumerics for a per-run clientId suffix.
#[must_use]
pub fn random_suffix() -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut bytes = [0u8; 12];
    if getrandom::fill(&mut bytes).is_err() {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        bytes.copy_from_slice(&nanos.to_le_bytes()[..12]);
    }
    bytes
        .iter()
        .map(|b| char::from(ALPHABET[usize::from(*b) % ALPHABET.len()]))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_suffixes_are_valid_and_differ() {
        let a = random_suffix();
        assert_eq!(a.len(), 12);
        assert!(client_id::is_valid(b"x", format!("x/{a}").as_bytes()));
        assert_ne!(a, random_suffix());
    }

    #[test]
    fn a_bad_client_id_is_a_configuration_error_with_a_suggestion() {
        let err = check_client_id("foobar", "foobar/a.b").unwrap_err();
        assert_eq!(err.kind(), ExitKind::Config);
        assert!(err.message().contains("'.'"), "{}", err.message());
        assert!(err
            .hint()
            .is_some_and(|h| h.contains("--client-id foobar/")));
        assert!(check_client_id("foobar", "foobar/ok-1").is_ok());
    }
}
