//! TLS client configuration shared by `listen` and `connect`: rustls with the ring provider
//! only (two providers make rustls panic at run time), trusting the system's roots or a CA
//! bundle given with `--ca-file`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls_pki_types::pem::PemObject as _;
use rustls_pki_types::CertificateDer;
use tokio_rustls::rustls::{self, ClientConfig, RootCertStore};

use crate::error::{Error, Result};

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
