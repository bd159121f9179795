//! The start of every connection: the CONNECT within its timeout, the platform's checks
//! (protocol version, AppID, AppSecret, clientId rule), and the CONNACK.
//!
//! A refused client gets its CONNACK return code and is closed; the password is never
//! logged. An accepted one gets its session from the broker and is handed to
//! [`Connection`], which serves it until the end; the session is released here afterwards.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::BytesMut;
use rumqttc::mqttbytes::v4::{ConnAck, ConnectReturnCode, Packet};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio::time::timeout;

use super::broker::{Broker, Role};
use super::connection::Connection;
use super::log::{LogEvent, MqttVersion, RefuseReason};
use super::protocol::{next_handshake, write_packet, ConnectRequest, Handshake};
use super::shutdown::stopped;

/// How long a refused client gets to take its CONNACK.
const REFUSAL_WRITE_TIMEOUT: Duration = Duration::from_secs(2);
/// How long a client over the connection limit gets to send its CONNECT before its CONNACK 3.
const BUSY_READ_TIMEOUT: Duration = Duration::from_secs(1);

/// Answers a connection over the limit as MQTT 3.1.1 says: its CONNECT (if it comes soon) is
/// read, then CONNACK 3 (server unavailable) is sent and the connection closed. Bounded in
/// time; the caller bounds how many run at once.
pub(crate) async fn refuse_busy(mut stream: TcpStream, max_packet_size: usize) {
    let mut inbuf = BytesMut::with_capacity(256);
    let _ = timeout(
        BUSY_READ_TIMEOUT,
        read_handshake(&mut stream, &mut inbuf, max_packet_size),
    )
    .await;
    let connack = ConnAck::new(ConnectReturnCode::ServiceUnavailable, false);
    let mut out = BytesMut::new();
    if write_packet(&mut out, &Packet::ConnAck(connack)).is_ok() {
        let _ = timeout(REFUSAL_WRITE_TIMEOUT, async {
            let _ = stream.write_all(&out).await;
            let _ = stream.shutdown().await;
        })
        .await;
    }
}

/// Serves one accepted TCP connection until it closes or the emulator shuts down.
pub(crate) async fn serve(
    mut stream: TcpStream,
    peer: SocketAddr,
    broker: Arc<Broker>,
    mut shutdown: watch::Receiver<bool>,
) {
    let _ = stream.set_nodelay(true);
    let config = &broker.config;
    let mut inbuf = BytesMut::with_capacity(1024);
    let first = tokio::select! {
        read = timeout(
            config.connect_timeout,
            read_handshake(&mut stream, &mut inbuf, config.max_packet_size),
        ) => read,
        () = stopped(&mut shutdown) => return,
    };
    let reject = |reason: String| broker.logger.emit(|| LogEvent::Rejected { peer, reason });
    let (connect, version) = match first {
        Err(_) => {
            let secs = config.connect_timeout.as_secs_f64();
            return reject(format!("no CONNECT within {secs} s"));
        }
        Ok(Err(reason)) => return reject(reason),
        Ok(Ok(Handshake::NotConnect(kind))) => {
            return reject(format!("first packet was {kind:?}, not CONNECT"));
        }
        Ok(Ok(Handshake::Unsupported { name, level })) => {
            let reason = RefuseReason::UnsupportedProtocol { name, level };
            return refuse(&broker, stream, peer, None, reason).await;
        }
        Ok(Ok(Handshake::Connect(connect, version))) => (connect, version),
    };
    accept(
        &broker,
        stream,
        peer,
        inbuf,
        &connect,
        version,
        &mut shutdown,
    )
    .await;
}

async fn read_handshake(
    stream: &mut TcpStream,
    inbuf: &mut BytesMut,
    max: usize,
) -> Result<Handshake, String> {
    loop {
        match next_handshake(inbuf, max) {
            Ok(Some(handshake)) => return Ok(handshake),
            Ok(None) => {}
            Err(err) => return Err(err.to_string()),
        }
        match stream.read_buf(inbuf).await {
            Ok(0) => return Err("closed before sending CONNECT".to_owned()),
            Ok(_) => {}
            Err(err) => return Err(format!("read failed before CONNECT: {err}")),
        }
    }
}

/// The CONNACK return code for a refusal.
fn refusal_code(reason: &RefuseReason) -> ConnectReturnCode {
    match reason {
        RefuseReason::UnsupportedProtocol { .. } => ConnectReturnCode::RefusedProtocolVersion,
        RefuseReason::TooManySessions => ConnectReturnCode::ServiceUnavailable,
        _ => ConnectReturnCode::NotAuthorized,
    }
}

async fn refuse(
    broker: &Broker,
    mut stream: TcpStream,
    peer: SocketAddr,
    client_id: Option<String>,
    reason: RefuseReason,
) {
    let code = refusal_code(&reason);
    let mut out = BytesMut::new();
    if write_packet(&mut out, &Packet::ConnAck(ConnAck::new(code, false))).is_ok() {
        let _ = timeout(REFUSAL_WRITE_TIMEOUT, async {
            let _ = stream.write_all(&out).await;
            let _ = stream.shutdown().await;
        })
        .await;
    }
    broker.logger.emit(|| LogEvent::Refused {
        peer,
        client_id,
        code: code as u8,
        reason,
    });
}

/// The longest a new connection waits for the one it takes a session from to finish.
const TAKEOVER_WAIT: Duration = Duration::from_secs(1);

/// A connection coming with the clientId of a live one takes its session over: the old one is
/// told to close, and the new one waits (up to [`TAKEOVER_WAIT`]) until it has. The old one
/// first takes what the client had already sent it, so a push acknowledged just before
/// the client reconnected is not sent again.
async fn take_over(broker: &Broker, app: usize, client_id: &str) {
    if let Some(owner) = broker.owner(app, client_id) {
        owner.kick();
        let _ = tokio::time::timeout(TAKEOVER_WAIT, owner.ended()).await;
    }
}

/// Marks the connection's link ended however its task stops.
struct EndOnDrop(Arc<super::session::Link>);

impl Drop for EndOnDrop {
    fn drop(&mut self) {
        self.0.end();
    }
}

async fn accept(
    broker: &Arc<Broker>,
    mut stream: TcpStream,
    peer: SocketAddr,
    inbuf: BytesMut,
    connect: &ConnectRequest,
    version: MqttVersion,
    shutdown: &mut watch::Receiver<bool>,
) {
    let client_id = connect.client_id.clone();
    let authenticated = broker.authenticate(
        connect.username.as_deref(),
        connect.password.as_deref(),
        &client_id,
    );
    if let Ok((app, _)) = authenticated {
        take_over(broker, app, &client_id).await;
    }
    let attached = authenticated.and_then(|(app, role)| {
        let attached = broker.attach(app, &client_id, connect.clean_session)?;
        Ok((app, role, attached))
    });
    let (app, role, attached) = match attached {
        Ok(ok) => ok,
        Err(reason) => return refuse(broker, stream, peer, Some(client_id), reason).await,
    };
    broker.logger.emit(|| LogEvent::Connected {
        peer,
        client_id: client_id.clone(),
        app_id: broker.apps[app].id.clone(),
        version,
        clean_session: connect.clean_session,
        session_present: attached.session_present,
        keep_alive: connect.keep_alive,
        publisher: role == Role::Publisher,
    });
    let connack = ConnAck::new(ConnectReturnCode::Success, attached.session_present);
    let mut conn = Connection::new(broker, app, &attached, client_id.clone(), role);
    conn.send(&Packet::ConnAck(connack));
    let keep_alive = (connect.keep_alive > 0)
        .then(|| Duration::from_millis(u64::from(connect.keep_alive) * 1500));
    let ended = EndOnDrop(attached.link.clone());
    let reason = conn.run(&mut stream, inbuf, keep_alive, shutdown).await;
    broker.detach(app, &attached.session, attached.link.id);
    drop(ended);
    broker
        .logger
        .emit(|| LogEvent::Disconnected { client_id, reason });
}
