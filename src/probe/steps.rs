//! The steps of a check, one function each: the local checks, DNS, TCP, TLS and the MQTT
//! packets on the socket. The orchestration that times them, stops at the deadline and
//! fills the report is in the parent module.

use std::net::SocketAddr;

use bytes::BytesMut;
use rumqttc::mqttbytes::v4::{
    ConnAck, Connect, ConnectReturnCode, Packet, SubAck, Subscribe, SubscribeReasonCode,
};
use rumqttc::mqttbytes::QoS;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;
use tokio_rustls::rustls;

use crate::client_id;
use crate::config::Qos;
use crate::error::ExitKind;
use crate::mqtt;
use crate::tls::TlsClient;

use super::{Io, ProbeSettings, StepError, StepKind};

/// Largest packet read during the check.
const MAX_PACKET: usize = 1024 * 1024;
/// Packets skipped while waiting for SUBACK (a broker may send pushes first).
const MAX_SKIPPED: usize = 1000;

pub(super) fn timeout_explanation(kind: StepKind) -> &'static str {
    match kind {
        StepKind::Dns => "the name server did not answer; check the network and --host",
        StepKind::Tcp => {
            "nothing answered: a firewall may drop the packets, or the host/port is wrong"
        }
        StepKind::Tls => "the TLS handshake got no answer: is this port really a TLS port?",
        StepKind::Connect => {
            "the broker accepted TCP but sent no CONNACK: is this an MQTT port? If it expects \
             TLS, add --tls"
        }
        StepKind::Subscribe => "the broker sent no SUBACK",
        StepKind::Local | StepKind::Disconnect => "raise --timeout if the network is slow",
    }
}

pub(super) fn local_checks(s: &ProbeSettings) -> Result<String, String> {
    if s.app_secret.expose().is_empty() {
        return Err("the AppSecret is empty".to_owned());
    }
    if let Some(violation) = client_id::explain(&s.app_id, s.client_id.as_bytes()) {
        let mut message = format!(
            "clientId '{}' breaks the platform rule: {}",
            s.client_id.escape_debug(),
            violation.message
        );
        if let Some(suggestion) = violation.suggestion {
            message.push_str(&format!(" (try --client-id {suggestion})"));
        }
        return Err(message);
    }
    Ok(format!(
        "AppID {}, AppSecret {} ({}), clientId {} follows the rule",
        s.app_id,
        s.app_secret.masked(),
        s.secret_source,
        s.client_id
    ))
}

pub(super) async fn resolve(s: &ProbeSettings) -> Result<(Vec<SocketAddr>, String), StepError> {
    let found = tokio::net::lookup_host((s.host.as_str(), s.port))
        .await
        .map_err(|e| {
            StepError::network(
                format!("cannot resolve '{}': {e}", s.host),
                &["check --host: it is the broker host from the platform's developer page"],
            )
        })?;
    let addrs: Vec<SocketAddr> = found.collect();
    let Some(first) = addrs.first() else {
        return Err(StepError::network(
            format!("'{}' has no address", s.host),
            &["check --host"],
        ));
    };
    let detail = if first.ip().to_string() == s.host {
        format!("{} is an address (no lookup)", s.host)
    } else if addrs.len() > 1 {
        format!("{} → {} (+{} more)", s.host, first.ip(), addrs.len() - 1)
    } else {
        format!("{} → {}", s.host, first.ip())
    };
    Ok((addrs, detail))
}

pub(super) async fn tcp_connect(
    s: &ProbeSettings,
    addrs: &[SocketAddr],
) -> Result<(TcpStream, String), StepError> {
    let mut last = None;
    for addr in addrs {
        match TcpStream::connect(addr).await {
            Ok(stream) => {
                let _ = stream.set_nodelay(true);
                return Ok((stream, format!("connected to {addr}")));
            }
            Err(err) => last = Some((addr, err)),
        }
    }
    let (addr, err) = last.expect("resolve returns at least one address");
    let (message, hint) = match err.kind() {
        std::io::ErrorKind::ConnectionRefused => (
            format!(
                "connection refused by {addr}: nothing listens on port {}",
                s.port
            ),
            "check --port: the platform's documented MQTT port is 1883",
        ),
        _ => (
            format!("cannot connect to {addr}: {err}"),
            "check the network, --host and --port",
        ),
    };
    Err(StepError::network(message, &[hint]))
}

pub(super) async fn handshake(
    s: &ProbeSettings,
    tls: &TlsClient,
    tcp: TcpStream,
) -> Result<(tokio_rustls::client::TlsStream<TcpStream>, String), StepError> {
    let name = rustls::pki_types::ServerName::try_from(s.host.clone()).map_err(|_| StepError {
        kind: ExitKind::Config,
        message: format!("'{}' cannot be checked against a certificate", s.host),
        explanation: vec!["give --host as a DNS name or an IP address".to_owned()],
    })?;
    let connector = tokio_rustls::TlsConnector::from(tls.config.clone());
    let stream = connector
        .connect(name, tcp)
        .await
        .map_err(|err| tls_error(s, tls, &err))?;
    let (_, session) = stream.get_ref();
    let version = session
        .protocol_version()
        .and_then(|v| v.as_str())
        .unwrap_or("TLS");
    let suite = session
        .negotiated_cipher_suite()
        .and_then(|c| c.suite().as_str())
        .unwrap_or("unknown suite");
    let detail = format!(
        "{version} {suite}; certificate for {} verified against {}",
        s.host,
        tls.describe_roots()
    );
    Ok((stream, detail))
}

/// The handshake failed: the explanation `listen` gives too ([`crate::tls`]).
pub(super) fn tls_error(s: &ProbeSettings, tls: &TlsClient, err: &std::io::Error) -> StepError {
    StepError::from(crate::tls::explain_handshake(
        err,
        &s.host,
        &tls.describe_roots(),
    ))
}

pub(super) async fn write_packet(
    stream: &mut Box<dyn Io>,
    packet: &Packet,
) -> Result<(), StepError> {
    let mut out = BytesMut::new();
    packet
        .write(&mut out, MAX_PACKET)
        .map_err(|e| StepError::network(format!("cannot encode the packet: {e:?}"), &[]))?;
    let sent = match stream.write_all(&out).await {
        Ok(()) => stream.flush().await,
        Err(e) => Err(e),
    };
    sent.map_err(|e| {
        if is_hang_up(&e) {
            StepError::network(mqtt::closed_by_broker(), &[])
        } else {
            StepError::network(format!("cannot send: {e}"), &[])
        }
    })
}

/// Reads one packet; `Ok(None)` when the broker closed the connection without a word.
/// Bytes that make no MQTT packet are quoted back in the words `listen` uses
/// ([`mqtt::not_mqtt`]).
pub(super) async fn read_packet(
    stream: &mut Box<dyn Io>,
    buf: &mut BytesMut,
) -> Result<Option<Packet>, StepError> {
    loop {
        match Packet::read(buf, MAX_PACKET) {
            Ok(packet) => return Ok(Some(packet)),
            Err(rumqttc::mqttbytes::Error::InsufficientBytes(_)) => {}
            Err(_) => return Err(StepError::from(mqtt::not_mqtt(Some(buf)))),
        }
        let read = match stream.read_buf(buf).await {
            Ok(read) => read,
            Err(e) if is_hang_up(&e) => 0,
            Err(e) => {
                return Err(StepError::network(
                    format!("cannot read from the broker: {e}"),
                    &[],
                ))
            }
        };
        if read == 0 {
            if buf.is_empty() {
                return Ok(None);
            }
            return Err(StepError::from(mqtt::not_mqtt(Some(buf))));
        }
    }
}

fn is_hang_up(err: &std::io::Error) -> bool {
    use std::io::ErrorKind as K;
    matches!(
        err.kind(),
        K::UnexpectedEof | K::ConnectionReset | K::ConnectionAborted | K::BrokenPipe
    )
}

pub(super) async fn mqtt_connect(
    s: &ProbeSettings,
    stream: &mut Box<dyn Io>,
    buf: &mut BytesMut,
    received: &mut Option<ConnAck>,
) -> Result<((), String), StepError> {
    let mut connect = Connect::new(s.client_id.clone());
    connect.keep_alive = 30;
    connect.clean_session = true;
    connect.set_login(s.app_id.clone(), s.app_secret.expose());
    write_packet(stream, &Packet::Connect(connect)).await?;
    match read_packet(stream, buf).await? {
        Some(Packet::ConnAck(ack)) => {
            *received = Some(ack.clone());
            if ack.code == ConnectReturnCode::Success {
                let detail = format!(
                    "CONNACK 0 accepted as {} (session present: {})",
                    s.client_id,
                    if ack.session_present { "yes" } else { "no" }
                );
                return Ok(((), detail));
            }
            Err(StepError {
                kind: ExitKind::Refused,
                message: format!(
                    "refused: CONNACK {} ({})",
                    ack.code as u8,
                    mqtt::refusal_words(ack.code)
                ),
                explanation: refusal_explanation(s, ack.code),
            })
        }
        Some(other) => Err(StepError::network(
            format!("the broker answered CONNECT with {}", packet_name(&other)),
            &["this does not behave like an MQTT 3.1.1 broker"],
        )),
        None => Err(StepError::network(
            format!("{} without a CONNACK", mqtt::closed_by_broker()),
            &[
                "some brokers close instead of refusing: check AppID, AppSecret and clientId",
                "if this port expects TLS, add --tls",
            ],
        )),
    }
}

/// What a refusal means here, and which local checks passed.
pub(super) fn refusal_explanation(s: &ProbeSettings, code: ConnectReturnCode) -> Vec<String> {
    let mut lines = vec![mqtt::refusal_hint(code).to_owned()];
    if matches!(
        code,
        ConnectReturnCode::NotAuthorized | ConnectReturnCode::BadUserNamePassword
    ) {
        lines.push(format!(
            "passed locally: the clientId {} follows the rule for AppID {}",
            s.client_id, s.app_id
        ));
        lines.push(format!(
            "cannot be checked locally: the AppSecret {} (from {}) and whether AppID {} \
             exists on this broker — the AppSecret is the usual culprit",
            s.app_secret.masked(),
            s.secret_source,
            s.app_id
        ));
        lines.push(
            "a clientId already connected elsewhere is not refused: the older connection is \
             dropped instead"
                .to_owned(),
        );
    }
    lines
}

pub(super) async fn mqtt_subscribe(
    s: &ProbeSettings,
    stream: &mut Box<dyn Io>,
    buf: &mut BytesMut,
) -> Result<(u8, String), StepError> {
    const PKID: u16 = 1;
    let qos = if s.qos == Qos::AtMostOnce {
        QoS::AtMostOnce
    } else {
        QoS::AtLeastOnce
    };
    let mut subscribe = Subscribe::new(s.topic.clone(), qos);
    subscribe.pkid = PKID;
    write_packet(stream, &Packet::Subscribe(subscribe)).await?;
    for _ in 0..MAX_SKIPPED {
        match read_packet(stream, buf).await? {
            Some(Packet::SubAck(SubAck { pkid, return_codes })) if pkid == PKID => {
                return suback_outcome(s, &return_codes);
            }
            Some(_) => continue,
            None => {
                return Err(StepError {
                    kind: ExitKind::Refused,
                    message: format!(
                        "the broker closed the connection on SUBSCRIBE to {}",
                        s.topic
                    ),
                    explanation: vec![topic_hint(s)],
                })
            }
        }
    }
    Err(StepError::network(
        "no SUBACK among the packets received",
        &[],
    ))
}

pub(super) fn suback_outcome(
    s: &ProbeSettings,
    codes: &[SubscribeReasonCode],
) -> Result<(u8, String), StepError> {
    match codes.first() {
        Some(SubscribeReasonCode::Success(granted)) => {
            let granted = *granted as u8;
            let asked = s.qos.level();
            let note = if granted < asked {
                format!(" (asked for {asked}: the broker lowered it)")
            } else {
                String::new()
            };
            Ok((granted, format!("{}: granted QoS {granted}{note}", s.topic)))
        }
        _ => Err(StepError {
            kind: ExitKind::Refused,
            message: format!("SUBACK 0x80: subscription to {} refused", s.topic),
            explanation: vec![topic_hint(s)],
        }),
    }
}

pub(super) fn topic_hint(s: &ProbeSettings) -> String {
    format!(
        "a client may subscribe only to its own app's topic users/{}/devices (no wildcards)",
        s.app_id
    )
}

pub(super) async fn mqtt_disconnect(stream: &mut Box<dyn Io>) -> Result<((), String), StepError> {
    write_packet(stream, &Packet::Disconnect).await?;
    let _ = stream.shutdown().await;
    Ok(((), "sent; connection closed".to_owned()))
}

/// The name of an MQTT packet, for messages.
fn packet_name(packet: &Packet) -> &'static str {
    match packet {
        Packet::Connect(_) => "CONNECT",
        Packet::ConnAck(_) => "CONNACK",
        Packet::Publish(_) => "PUBLISH",
        Packet::PubAck(_) => "PUBACK",
        Packet::SubAck(_) => "SUBACK",
        Packet::Disconnect => "DISCONNECT",
        _ => "an unexpected packet",
    }
}
