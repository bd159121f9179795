//! One accepted client connection, after its CONNACK: one loop that reads packets, answers
//! them, and writes the session's pushes until the connection ends.
//!
//! A single task owns the socket and never blocks on one direction: reading, writing, the
//! keep-alive and write-stall deadlines, the session's wake-up and the emulator's shutdown are
//! all raced in one `select!`. Writes are buffered up to a high-water mark; beyond it pushes
//! stay in the app's (bounded) feed. It never decides who may connect (see
//! [`super::handshake`]).

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use rumqttc::mqttbytes::v4::{
    Packet, PubAck, PubComp, PubRec, SubAck, Subscribe, SubscribeReasonCode, UnsubAck, Unsubscribe,
};
use rumqttc::mqttbytes::QoS;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio::time::sleep_until;

use super::broker::{grant, Attached, Broker, Role};
use super::log::{CloseReason, LogEvent};
use super::protocol::{next_packet, write_packet, FrameError};
use super::replay;
use super::session::{lock, Link, Session};
use super::shutdown::stopped;

/// Output buffered beyond this stays in the feed until the client has read some.
const HIGH_WATER: usize = 16 * 1024;
/// Queue overflows are reported at most this often per connection.
const OVERFLOW_REPORT_EVERY: Duration = Duration::from_secs(1);
/// The most a connection taken over reads of what its client had already sent.
const TAKEOVER_READ: usize = 64 * 1024;
/// How long a connection closed by `drop_after` waits for the PUBACKs of the pushes it wrote,
/// so that a QoS 1 client makes progress from one connection to the next.
const ACK_GRACE: Duration = Duration::from_secs(1);

/// The state of one accepted connection.
pub(crate) struct Connection<'a> {
    broker: &'a Broker,
    app: usize,
    topic: &'a str,
    session: Arc<Mutex<Session>>,
    link: Arc<Link>,
    client_id: String,
    role: Role,
    out: BytesMut,
    delivered: u64,
    closing: Option<CloseReason>,
    /// Set when `drop_after` closes the connection: until then, PUBACKs may still arrive.
    ack_deadline: Option<Instant>,
    /// Since when the connection holds no subscription (`None` while it holds one).
    idle_since: Option<Instant>,
    last_overflow_report: Option<Instant>,
}

impl<'a> Connection<'a> {
    pub(crate) fn new(
        broker: &'a Broker,
        app: usize,
        attached: &Attached,
        client_id: String,
        role: Role,
    ) -> Self {
        Connection {
            broker,
            app,
            topic: &broker.apps[app].topic,
            session: attached.session.clone(),
            link: attached.link.clone(),
            client_id,
            role,
            out: BytesMut::with_capacity(4096),
            delivered: 0,
            closing: None,
            ack_deadline: None,
            idle_since: None,
            last_overflow_report: None,
        }
    }

    /// Serves the connection until it ends, and says why it ended.
    pub(crate) async fn run(
        &mut self,
        stream: &mut TcpStream,
        mut inbuf: BytesMut,
        keep_alive: Option<Duration>,
        shutdown: &mut watch::Receiver<bool>,
    ) -> CloseReason {
        let (mut reader, mut writer) = stream.split();
        let write_timeout = self.broker.config.write_timeout;
        let idle_timeout = self.broker.config.idle_timeout;
        let mut last_in = Instant::now();
        let mut last_out = Instant::now();
        let subscribed = lock(&self.session).subscription().is_some();
        self.idle_since = (!subscribed).then(Instant::now);
        self.absorb(&mut inbuf);
        loop {
            if self.closing.is_none() {
                self.pump();
            }
            if self.out.is_empty() {
                if let Some(reason) = self.finished() {
                    return reason;
                }
                last_out = Instant::now();
            }
            let alive_until = keep_alive.map(|k| last_in + k);
            let stall_at = last_out + write_timeout;
            let idle_until = self
                .idle_since
                .filter(|_| self.closing.is_none())
                .map(|since| since + idle_timeout);
            let acks_until = self.ack_deadline.filter(|_| self.out.is_empty());
            tokio::select! {
                () = stopped(shutdown) => return CloseReason::Shutdown,
                () = self.link.wake.notified() => {
                    if self.link.is_kicked() {
                        // What the client sent before it connected again is taken before
                        // the session changes hands (as much as a few reads bring).
                        while inbuf.len() < TAKEOVER_READ {
                            match reader.try_read_buf(&mut inbuf) {
                                Ok(n) if n > 0 => {}
                                _ => break,
                            }
                        }
                        return self.take_acks(&mut inbuf).unwrap_or(CloseReason::TakenOver);
                    }
                }
                read = reader.read_buf(&mut inbuf), if self.may_read() => match read {
                    Ok(0) | Err(_) => return CloseReason::ConnectionLost,
                    Ok(_) => {
                        last_in = Instant::now();
                        self.absorb(&mut inbuf);
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
                () = sleep_until(idle_until.unwrap_or(last_in).into()), if idle_until.is_some() => {
                    return CloseReason::Idle(idle_timeout);
                }
                () = sleep_until(acks_until.unwrap_or(last_in).into()), if acks_until.is_some() => {
                    self.ack_deadline = None;
                }
            }
        }
    }

    /// Handles what arrived; a protocol violation starts closing, after what is already
    /// queued (a CONNACK, say) has been written.
    fn absorb(&mut self, inbuf: &mut BytesMut) {
        if let Err(reason) = self.handle_input(inbuf) {
            self.closing = Some(reason);
            self.ack_deadline = None;
        }
    }

    /// The reason to close now, once the output is flushed: unless the connection is closing
    /// for `drop_after` and PUBACKs of the pushes it wrote may still arrive (bounded by
    /// [`ACK_GRACE`]).
    fn finished(&mut self) -> Option<CloseReason> {
        let waiting_for_acks = self
            .ack_deadline
            .is_some_and(|deadline| Instant::now() < deadline)
            && lock(&self.session).in_flight() > 0;
        if waiting_for_acks {
            return None;
        }
        self.closing.take()
    }

    /// Reading stops while closing (except to take PUBACKs after `drop_after`), and while
    /// replies pile up unread: a client that sends without reading cannot grow the output
    /// buffer without bound.
    fn may_read(&self) -> bool {
        (self.closing.is_none() || self.ack_deadline.is_some()) && self.out.len() < 2 * HIGH_WATER
    }

    /// Takes the PUBACKs among the packets in `inbuf`, and says whether the client said
    /// DISCONNECT, once another connection takes the session over. Nothing else is acted on:
    /// no answer could reach the client on this connection now, so a PUBLISH it sent here
    /// comes again on its new one.
    fn take_acks(&mut self, inbuf: &mut BytesMut) -> Option<CloseReason> {
        let max = self.broker.config.max_packet_size;
        while let Ok(Some(packet)) = next_packet(inbuf, max) {
            match packet {
                Packet::PubAck(ack) => self.acknowledged(ack.pkid),
                Packet::Disconnect => return Some(CloseReason::ClientDisconnect),
                _ => {}
            }
        }
        None
    }

    /// The client acknowledged push `pkid` (on the connection that owns its session).
    fn acknowledged(&mut self, pkid: u16) {
        let mut session = lock(&self.session);
        if session.is_owned_by(self.link.id) {
            session.ack(pkid);
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
                    QoS::AtLeastOnce => self.send(&Packet::PubAck(PubAck::new(publish.pkid))),
                    QoS::ExactlyOnce => self.send(&Packet::PubRec(PubRec::new(publish.pkid))),
                }
                if self.role == Role::Publisher && publish.topic == self.topic {
                    self.inject(&publish.payload);
                } else {
                    self.broker.logger.emit(|| LogEvent::ClientPublishIgnored {
                        client_id: self.client_id.clone(),
                        topic: publish.topic.clone(),
                        bytes: publish.payload.len(),
                    });
                }
            }
            Packet::PubAck(ack) => self.acknowledged(ack.pkid),
            Packet::PubRel(rel) => self.send(&Packet::PubComp(PubComp::new(rel.pkid))),
            // The broker never sends QoS 2, so there is nothing to complete.
            Packet::PubRec(_) | Packet::PubComp(_) => {}
            Packet::Subscribe(subscribe) => self.subscribe(&subscribe),
            Packet::Unsubscribe(unsubscribe) => self.unsubscribe(&unsubscribe),
            Packet::PingReq => self.send(&Packet::PingResp),
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

    /// A publisher's PUBLISH on its app's topic: delivered to the app's subscribers as a
    /// platform push (sealed first in safe mode, like a replayed line). Publishing counts as
    /// activity for the idle limit.
    fn inject(&mut self, payload: &Bytes) {
        if let Some(since) = self.idle_since.as_mut() {
            *since = Instant::now();
        }
        if self.broker.config.safe_mode {
            if let Some(sealed) = replay::seal_for(self.broker, self.app, payload) {
                self.broker.publish(self.app, &sealed);
            }
        } else {
            self.broker.publish(self.app, payload);
        }
    }

    /// Queues a control packet (CONNACK, acks): a few bytes, so writing cannot fail.
    pub(crate) fn send(&mut self, packet: &Packet) {
        let _ = write_packet(&mut self.out, packet);
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
                .set_subscription(self.app, &self.session, self.link.id, granted);
            self.idle_since = None;
        }
        self.send(&Packet::SubAck(SubAck::new(subscribe.pkid, codes)));
    }

    fn unsubscribe(&mut self, unsubscribe: &Unsubscribe) {
        for topic in &unsubscribe.topics {
            if topic == self.topic {
                self.broker
                    .set_subscription(self.app, &self.session, self.link.id, None);
                self.idle_since = Some(Instant::now());
            }
            self.broker.logger.emit(|| LogEvent::Unsubscribed {
                client_id: self.client_id.clone(),
                topic: topic.clone(),
            });
        }
        self.send(&Packet::UnsubAck(UnsubAck::new(unsubscribe.pkid)));
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
        let feed = self.broker.feed(self.app);
        let lost = session.catch_up(feed.first());
        if lost > 0 {
            self.broker
                .counters
                .dropped
                .fetch_add(lost, Ordering::Relaxed);
        }
        self.report_overflow(&mut session);
        while self.out.len() < HIGH_WATER {
            let Some(publish) = session.next_publish(self.topic, max_inflight, &feed) else {
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
                self.ack_deadline = Some(Instant::now() + ACK_GRACE);
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
