//! Throwaway servers on 127.0.0.1 for connection tests: a TLS terminator in front of a plain
//! MQTT port (its own CA from rcgen), and plain TCP servers that are not MQTT brokers. Each
//! binds an ephemeral port and is stopped when dropped.

use std::io::{Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// A TLS terminator on 127.0.0.1 in front of a plain MQTT port, with a certificate for
/// `localhost` issued by its own CA.
pub struct TlsFront {
    _runtime: tokio::runtime::Runtime,
    pub port: String,
    pub ca_file: PathBuf,
    _dir: tempfile::TempDir,
}

impl TlsFront {
    pub fn start(backend_port: &str) -> TlsFront {
        use tokio_rustls::rustls;
        let dir = tempfile::tempdir().expect("dir");
        let (ca, ca_key) = new_ca();
        let key = rcgen::KeyPair::generate().expect("key");
        let leaf = rcgen::CertificateParams::new(vec!["localhost".into()])
            .expect("params")
            .signed_by(&key, &ca, &ca_key)
            .expect("leaf");
        let ca_file = dir.path().join("ca.pem");
        std::fs::write(&ca_file, ca.pem()).expect("write ca");

        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("versions")
            .with_no_client_auth()
            .with_single_cert(
                vec![leaf.der().clone()],
                rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into()),
            )
            .expect("server config");
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime");
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .expect("bind");
        let port = listener.local_addr().expect("addr").port().to_string();
        let backend = format!("127.0.0.1:{backend_port}");
        runtime.spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let acceptor = acceptor.clone();
                let backend = backend.clone();
                tokio::spawn(async move {
                    let Ok(mut tls) = acceptor.accept(socket).await else {
                        return;
                    };
                    let Ok(mut plain) = tokio::net::TcpStream::connect(backend).await else {
                        return;
                    };
                    let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
                });
            }
        });
        TlsFront {
            _runtime: runtime,
            port,
            ca_file,
            _dir: dir,
        }
    }
}

pub fn other_ca(front: &TlsFront) -> String {
    // A CA file that did not issue the front's certificate.
    let dir = front.ca_file.parent().expect("dir");
    let (ca, _) = new_ca();
    let path = dir.join("other-ca.pem");
    std::fs::write(&path, ca.pem()).expect("write");
    path.display().to_string()
}

/// A CA with a name of its own (two CAs with the same name would fail on the signature
/// rather than the issuer).
pub fn new_ca() -> (rcgen::Certificate, rcgen::KeyPair) {
    static SERIAL: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = SERIAL.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let key = rcgen::KeyPair::generate().expect("key");
    let mut params = rcgen::CertificateParams::new(Vec::new()).expect("params");
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, format!("test CA {n}"));
    let ca = params.self_signed(&key).expect("ca");
    (ca, key)
}

/// What a [`TcpServer`] does with each connection.
#[derive(Debug, Clone, Copy)]
pub enum Answer {
    /// Closes it right after accepting.
    Close,
    /// Reads what the client sent, answers with this text and closes, like a web server.
    Text(&'static str),
}

/// A plain TCP server on 127.0.0.1 that is not an MQTT broker.
pub struct TcpServer {
    pub port: String,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl TcpServer {
    pub fn start(answer: Answer) -> TcpServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port().to_string();
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = stop.clone();
        let thread = std::thread::spawn(move || {
            for socket in listener.incoming() {
                if stopping.load(Ordering::SeqCst) {
                    return;
                }
                let Ok(mut socket) = socket else { continue };
                if let Answer::Text(text) = answer {
                    let _ = socket.set_read_timeout(Some(Duration::from_secs(5)));
                    let mut request = [0u8; 1024];
                    let _ = socket.read(&mut request);
                    let _ = socket.write_all(text.as_bytes());
                }
                drop(socket);
            }
        });
        TcpServer {
            port,
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for TcpServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(format!("127.0.0.1:{}", self.port));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
