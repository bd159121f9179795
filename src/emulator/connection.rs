//! One client connection, from the first byte to the close: the CONNECT handshake within its
//! timeout, then one loop that reads packets, answers them, and writes the session's pushes.
//!
//! A single task owns the socket and never blocks on one direction: reading, writing, the
//! keep-alive and write-stall deadlines, the session's wake-up and the emulator's shutdown are
//! all raced in one `select!`. Writes are buffered up to a high-water mark; beyond it pushes
//! wait in the (bounded) session queue.

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::BytesMut;
use rumqttc::mqttbytes::v4::{
    ConnAck, Connect, ConnectReturnCode, Packet, PubAck, PubComp, PubRec, SubAck, Subscribe,
    SubscribeReasonCode, UnsubAck, Unsubscribe,
};
use rumqttc::mqttbytes::QoS;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio::time::{sleep_until, timeout};

use super::broker::{grant, Broker};
use super::log::{CloseReason, LogEvent, MqttVersion, RefuseReason};
use super::protocol::{next_handshake, next_packet, write_packet, FrameError, Handshake};
use super::server::stopped;
use super::session::{lock, Link, Session};

/// Output buffered beyond this waits in the session queue instead.
const HIGH_WATER: usize = 64 * 1024;
/// How long a refused client gets to take its CONNACK.
const REFUSAL_WRITE_TIMEOUT: Duration = Duration::from_secs(2);
/// Queue overflows are reported at most this often per connection.
const OVERFLOW_REPORT_EVERY: Duration = Duration::from_secs(1);

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

async fn accept(
    broker: &Arc<Broker>,
    mut stream: TcpStream,
    peer: SocketAddr,
    inbuf: BytesMut,
    connect: &Connect,
    version: MqttVersion,
    shutdown: &mut watch::Receiver<bool>,
) {
    let client_id = connect.client_id.clone();
    let attached = broker
        .authenticate(connect.login.as_ref(), &client_id)
        .and_then(|app| Ok((app, broker.attach(app, &client_id, connect.clean_session)?)));
    let (app, attached) = match attached {
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
    });
    let mut conn = Connection {
        broker,
        topic: &broker.apps[app].topic,
        session: attached.session.clone(),
        link: attached.link.clone(),
        client_id: client_id.clone(),
        out: BytesMut::with_capacity(4096),
        delivered: 0,
        closing: None,
        last_overflow_report: None,
    };
    let connack = ConnAck::new(ConnectReturnCode::Success, attached.session_present);
    let _ = write_packet(&mut conn.out, &Packet::ConnAck(connack));
    let keep_alive = (connect.keep_alive > 0)
        .then(|| Duration::from_millis(u64::from(connect.keep_alive) * 1500));
    let reason = conn.run(&mut stream, inbuf, keep_alive, shutdown).await;
    broker.detach(app, &attached.session, attached.link.id);
    broker
        .logger
        .emit(|| LogEvent::Disconnected { client_id, reason });
}

/// The state of one accepted connection.
struct Connection<'a> {
    broker: &'a Broker,
    topic: &'a str,
    session: Arc<Mutex<Session>>,
    link: Arc<Link>,
    client_id: String,
    out: BytesMut,
    delivered: u64,
    closing: Option<CloseReason>,
    last_overflow_report: Option<Instant>,
}

impl Connection<'_> {
    async fn run(
        &mut self,
        stream: &mut TcpStream,
        mut inbuf: BytesMut,
        keep_alive: Option<Duration>,
        shutdown: &mut watch::Receiver<bool>,
    ) -> CloseReason {
        let (mut reader, mut writer) = stream.split();
        let write_timeout = self.broker.config.write_timeout;
        let mut last_in = Instant::now();
        let mut last_out = Instant::now();
        if let Err(reason) = self.handle_input(&mut inbuf) {
            return reason;
        }
        loop {
            if self.closing.is_none() {
                self.pump();
            }
            if self.out.is_empty() {
                if let Some(reason) = self.closing.take() {
                    return reason;
                }
                last_out = Instant::now();
            }
            let alive_until = keep_alive.map(|k| last_in + k);
            let stall_at = last_out + write_timeout;
            tokio::select! {
                () = stopped(shutdown) => return CloseReason::Shutdown,
                () = self.link.wake.notified() => {
                    if self.link.is_kicked() {
                        return CloseReason::TakenOver;
                    }
                }
                read = reader.read_buf(&mut inbuf), if self.closing.is_none() => match read {
                    Ok(0) | Err(_) => return CloseReason::ConnectionLost,
                    Ok(_) => {
                        last_in = Instant::now();
                        if let Err(reason) = self.handle_input(&mut inbuf) {
                            return reason;
                        }
                    }
                },
                written = writer.write_buf(&mut self.out), if !self.out.is_empty() => match written {
                    Ok(0) | Err(_) => return CloseReason::ConnectionLost,
                    Ok(_) => last_out = Instant::now(),
                },
                () = sleep_until(alive_until.unwrap_or(last_in).into()), if alive_until.is_some() => {
                    return CloseReason::KeepAliveExpired;
                }
                () = sleep_until(stall_at.into()), if !self.out.is_empty() => {
                    return CloseReason::SlowConsumer;
                }
            }
        }
    }

    /// Handles every complete packet in `inbuf`.
    fn handle_input(&mut self, inbuf: &mut BytesMut) -> Result<(), CloseReason> {
        let max = self.broker.config.max_packet_size;
        loop {
            match next_packet(inbuf, max) {
                Ok(Some(packet)) => self.handle(packet)?,
                Ok(None) => return Ok(()),
                Err(FrameError::TooLarge { size, max }) => {
                    return Err(CloseReason::PacketTooLarge { size, max })
                }
                Err(err) => return Err(CloseReason::ProtocolError(err.to_string())),
            }
        }
    }

    fn handle(&mut self, packet: Packet) -> Result<(), CloseReason> {
        match packet {
            Packet::Publish(publish) => {
                match publish.qos {
                    QoS::AtMostOnce => {}
                    QoS::AtLeastOnce => self.reply(Packet::PubAck(PubAck::new(publish.pkid))),
                    QoS::ExactlyOnce => self.reply(Packet::PubRec(PubRec::new(publish.pkid))),
                }
                self.broker.logger.emit(|| LogEvent::ClientPublishIgnored {
                    client_id: self.client_id.clone(),
                    topic: publish.topic.clone(),
                    bytes: publish.payload.len(),
                });
            }
            Packet::PubAck(ack) => {
                let mut session = lock(&self.session);
                if session.is_owned_by(self.link.id) {
                    session.ack(ack.pkid);
                }
            }
            Packet::PubRel(rel) => self.reply(Packet::PubComp(PubComp::new(rel.pkid))),
            // The broker never sends QoS 2, so there is nothing to complete.
            Packet::PubRec(_) | Packet::PubComp(_) => {}
            Packet::Subscribe(subscribe) => self.subscribe(&subscribe),
            Packet::Unsubscribe(unsubscribe) => self.unsubscribe(&unsubscribe),
            Packet::PingReq => self.reply(Packet::PingResp),
            Packet::Disconnect => return Err(CloseReason::ClientDisconnect),
            Packet::Connect(_) => {
                return Err(CloseReason::ProtocolError("second CONNECT".to_owned()));
            }
            other => {
                let detail = format!("unexpected {} from a client", packet_name(&other));
                return Err(CloseReason::ProtocolError(detail));
            }
        }
        Ok(())
    }

    fn reply(&mut self, packet: Packet) {
        // Acks are a few bytes: writing them cannot fail.
        let _ = write_packet(&mut self.out, &packet);
    }

    fn subscribe(&mut self, subscribe: &Subscribe) {
        let max_qos = self.broker.config.max_qos;
        let mut codes = Vec::with_capacity(subscribe.filters.len());
        let mut granted = None;
        for filter in &subscribe.filters {
            match grant(self.topic, &filter.path, filter.qos, max_qos) {
                Ok(qos) => {
                    granted = Some(qos);
                    codes.push(SubscribeReasonCode::Success(qos));
                    self.broker.logger.emit(|| LogEvent::Subscribed {
                        client_id: self.client_id.clone(),
                        topic: filter.path.clone(),
                        granted_qos: qos as u8,
                    });
                }
                Err(reason) => {
                    codes.push(SubscribeReasonCode::Failure);
                    self.broker.logger.emit(|| LogEvent::SubscribeRefused {
                        client_id: self.client_id.clone(),
                        topic: filter.path.clone(),
                        reason,
                    });
                }
            }
        }
        if granted.is_some() {
            self.broker
                .set_subscription(&self.session, self.link.id, granted);
        }
        self.reply(Packet::SubAck(SubAck::new(subscribe.pkid, codes)));
    }

    fn unsubscribe(&mut self, unsubscribe: &Unsubscribe) {
        for topic in &unsubscribe.topics {
            if topic == self.topic {
                self.broker
                    .set_subscription(&self.session, self.link.id, None);
            }
            self.broker.logger.emit(|| LogEvent::Unsubscribed {
                client_id: self.client_id.clone(),
                topic: topic.clone(),
            });
        }
        self.reply(Packet::UnsubAck(UnsubAck::new(unsubscribe.pkid)));
    }

    /// Moves pushes from the session into the output buffer, up to the high-water mark and
    /// the in-flight window, and arms `drop_after`.
    fn pump(&mut self) {
        let max_inflight = usize::from(self.broker.config.max_inflight);
        let drop_after = self.broker.config.drop_after;
        let shared = self.session.clone();
        let mut session = lock(&shared);
        if !session.is_owned_by(self.link.id) {
            return;
        }
        self.report_overflow(&mut session);
        while self.out.len() < HIGH_WATER {
            let Some(publish) = session.next_publish(self.topic, max_inflight) else {
                break;
            };
            // Redeliveries don't count toward `drop_after`: a client whose PUBACKs were cut
            // off by the drop must still make progress on the next connection.
            let fresh = !publish.dup;
            if write_packet(&mut self.out, &Packet::Publish(publish)).is_err() {
                continue;
            }
            if fresh {
                self.delivered += 1;
            }
            self.broker
                .counters
                .delivered
                .fetch_add(1, Ordering::Relaxed);
            if let Some(limit) = drop_after.filter(|&n| self.delivered >= n) {
                self.closing = Some(CloseReason::DropAfter(limit));
                break;
            }
        }
    }

    fn report_overflow(&mut self, session: &mut Session) {
        let due = self
            .last_overflow_report
            .is_none_or(|at| at.elapsed() >= OVERFLOW_REPORT_EVERY);
        if !due {
            return;
        }
        let dropped = session.take_dropped();
        if dropped > 0 {
            self.last_overflow_report = Some(Instant::now());
            self.broker.logger.emit(|| LogEvent::QueueOverflow {
                client_id: self.client_id.clone(),
                dropped,
            });
        }
    }
}

fn packet_name(packet: &Packet) -> &'static str {
    match packet {
        Packet::ConnAck(_) => "CONNACK",
        Packet::SubAck(_) => "SUBACK",
        Packet::UnsubAck(_) => "UNSUBACK",
        Packet::PingResp => "PINGRESP",
        _ => "packet",
    }
}
