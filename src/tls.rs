//! TLS client configuration shared by `listen` and `connect`: rustls with the ring provider
//! only (two providers make rustls panic at run time), trusting the system's roots or a CA
//! bundle given with `--ca-file`; and the one explanation of a failed handshake that both
//! commands print, so the same broker gets the same words from each.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls_pki_types::pem::PemObject as _;
use rustls_pki_types::CertificateDer;
use tokio_rustls::rustls::{self, ClientConfig, RootCertStore};

use crate::error::{Error, ExitKind, Result};

/// Where the trusted roots come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Roots {
    /// The operating system's store.
    System,
    /// A PEM bundle.
    CaFile(PathBuf),
}

/// A ready client configuration and what it trusts.
#[derive(Debug, Clone)]
pub struct TlsClient {
    /// For rustls / rumqttc.
    pub config: Arc<ClientConfig>,
    /// The roots' origin.
    pub roots: Roots,
    /// How many root certificates were loaded.
    pub root_count: usize,
}

impl TlsClient {
    /// Builds the configuration: the CA file's certificates when given, else the system's.
    ///
    /// Errors (kind `Config`): an unreadable CA file, one without any certificate, or no
    /// usable system roots.
    pub fn new(ca_file: Option<&Path>) -> Result<TlsClient> {
        let (store, roots) = match ca_file {
            Some(path) => (ca_file_roots(path)?, Roots::CaFile(path.to_owned())),
            None => (system_roots()?, Roots::System),
        };
        let root_count = store.len();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| Error::config(format!("TLS set-up failed: {e}")))?
            .with_root_certificates(store)
            .with_no_client_auth();
        Ok(TlsClient {
            config: Arc::new(config),
            roots,
            root_count,
        })
    }

    /// "the system's 140 root certificates" or "ca.pem (1 certificate)".
    #[must_use]
    pub fn describe_roots(&self) -> String {
        let plural = if self.root_count == 1 { "" } else { "s" };
        match &self.roots {
            Roots::System => format!("the system's {} root certificate{plural}", self.root_count),
            Roots::CaFile(path) => {
                format!(
                    "{} ({} certificate{plural})",
                    path.display(),
                    self.root_count
                )
            }
        }
    }
}

/// Why a TLS handshake with `host` failed, in the user's words, with the flag that fixes it.
///
/// `err` is what the handshake returned (rustls errors arrive wrapped in an I/O error);
/// `roots` says what was trusted (see [`TlsClient::describe_roots`]). Kind `Network`.
#[must_use]
pub fn explain_handshake(err: &std::io::Error, host: &str, roots: &str) -> Error {
    match err
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
    {
        Some(inner) => explain_rustls(inner, host, roots),
        None if matches!(
            err.kind(),
            std::io::ErrorKind::UnexpectedEof
                | std::io::ErrorKind::ConnectionReset
                | std::io::ErrorKind::ConnectionAborted
        ) =>
        {
            Error::new(
                ExitKind::Network,
                "the server closed the connection during the TLS handshake",
            )
            .with_hint(NOT_A_TLS_PORT)
        }
        None => Error::new(
            ExitKind::Network,
            format!("the TLS handshake failed: {err}"),
        )
        .with_hint(NOT_A_TLS_PORT),
    }
}

/// A plain port answered a TLS client.
const NOT_A_TLS_PORT: &str = "this is probably not a TLS port: drop --tls to speak plain MQTT \
                              (the platform's documented MQTT port, 1883, is plain)";

/// [`explain_handshake`] for an error rustls reported itself.
#[must_use]
pub fn explain_rustls(err: &rustls::Error, host: &str, roots: &str) -> Error {
    use rustls::CertificateError as C;
    let network =
        |message: String, hint: String| Error::new(ExitKind::Network, message).with_hint(hint);
    let rejected =
        |what: &str, hint: String| network(format!("certificate rejected: {what}"), hint);
    match err {
        rustls::Error::InvalidCertificate(cert) => match cert {
            C::UnknownIssuer | C::BadSignature => rejected(
                "issued by a CA that is not trusted",
                format!(
                    "the certificate is not signed by {roots}: give the broker's CA with \
                     --ca-file"
                ),
            ),
            C::NotValidForName | C::NotValidForNameContext { .. } => rejected(
                &format!("not valid for '{host}'"),
                format!(
                    "the certificate is not for '{host}': connect with the host name it was \
                     issued for"
                ),
            ),
            C::Expired | C::ExpiredContext { .. } => rejected(
                "expired",
                "the broker's certificate has expired (or this machine's clock is wrong)"
                    .to_owned(),
            ),
            other => rejected(
                &format!("{other:?}"),
                "the broker's certificate is not acceptable".to_owned(),
            ),
        },
        rustls::Error::InvalidMessage(_) | rustls::Error::InappropriateMessage { .. } => network(
            "the server does not speak TLS on this port".to_owned(),
            NOT_A_TLS_PORT.to_owned(),
        ),
        other => network(
            format!("the TLS handshake failed: {other}"),
            "is this a TLS port? Without --tls the platform's MQTT port is 1883".to_owned(),
        ),
    }
}

fn ca_file_roots(path: &Path) -> Result<RootCertStore> {
    let shown = path.display();
    let bytes = std::fs::read(path)
        .map_err(|e| Error::config(format!("cannot read the CA file {shown}: {e}")))?;
    let mut store = RootCertStore::empty();
    for (index, cert) in CertificateDer::pem_slice_iter(&bytes).enumerate() {
        let cert = cert.map_err(|e| {
            Error::config(format!(
                "{shown}: certificate {} is not valid PEM: {e}",
                index + 1
            ))
        })?;
        store.add(cert).map_err(|e| {
            Error::config(format!(
                "{shown}: certificate {} is unusable: {e}",
                index + 1
            ))
        })?;
    }
    if store.is_empty() {
        return Err(Error::config(format!(
            "{shown} holds no certificate (expected PEM: -----BEGIN CERTIFICATE-----)"
        )));
    }
    Ok(store)
}

fn system_roots() -> Result<RootCertStore> {
    let found = rustls_native_certs::load_native_certs();
    let mut store = RootCertStore::empty();
    let (_added, _ignored) = store.add_parsable_certificates(found.certs);
    if store.is_empty() {
        let why = found
            .errors
            .first()
            .map_or_else(|| "none found".to_owned(), ToString::to_string);
        return Err(
            Error::config(format!("no system root certificates for TLS: {why}"))
                .with_hint("install ca-certificates, or give the broker's CA with --ca-file"),
        );
    }
    Ok(store)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ExitKind;

    #[test]
    fn a_ca_file_without_certificates_is_a_configuration_error() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("empty.pem");
        std::fs::write(&path, "not a certificate\n").expect("write");
        let err = TlsClient::new(Some(&path)).unwrap_err();
        assert_eq!(err.kind(), ExitKind::Config);
        assert!(
            err.message().contains("holds no certificate"),
            "{}",
            err.message()
        );
    }

    #[test]
    fn a_missing_ca_file_is_named() {
        let err = TlsClient::new(Some(Path::new("/nonexistent/ca.pem"))).unwrap_err();
        assert!(
            err.message().contains("/nonexistent/ca.pem"),
            "{}",
            err.message()
        );
    }

    #[test]
    fn a_generated_ca_is_loaded() {
        let key = rcgen::KeyPair::generate().expect("key");
        let cert = rcgen::CertificateParams::new(vec!["localhost".into()])
            .expect("params")
            .self_signed(&key)
            .expect("cert");
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("ca.pem");
        std::fs::write(&path, cert.pem()).expect("write");
        let client = TlsClient::new(Some(&path)).expect("config");
        assert_eq!(client.root_count, 1);
        assert!(client.describe_roots().ends_with("ca.pem (1 certificate)"));
    }
}
