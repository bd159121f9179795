//! The subscriber's session: one connection at a time to the broker, subscribed to one
//! topic, reconnecting with backoff, handing out pushes in batches straight from the buffer
//! the socket filled.
//!
//! It exists because a subscriber that prints (or stores) every push is bound by what each
//! push costs between the socket and its consumer: here one read fills a buffer with many
//! pushes, they are handed over as views of that buffer (no copy, no allocation), and the
//! acknowledgements the consumer gives back go out together in one write.
//!
//! The consumer drives it: [`Session::next`] waits for the next event (it connects, reads,
//! sends keep-alive pings and backs off by itself), [`Session::ack`] queues an
//! acknowledgement, [`Session::flush`] writes what is queued. `next` can be cancelled at any
//! await point (a signal, or the consumer's own work finishing) without losing a byte.
//! What it must never do: acknowledge a push on a connection other than the one it came on,
//! grow a buffer beyond the largest push accepted, or say anything about the secret.

use std::time::Duration;

use rumqttc::mqttbytes::v4::ConnectReturnCode;
use rumqttc::mqttbytes::QoS;
use tokio::io::{AsyncRead, AsyncReadExt as _, AsyncWrite, AsyncWriteExt as _};
use tokio::net::TcpStream;
use tokio::time::Instant;

use super::wire::{self, kind, FrameError, Publish};
use super::{closed_by_broker, io_error, not_mqtt, Backoff, Peer, SessionSettings};
use crate::error::{Error, ExitKind};

/// How long to wait for TCP, TLS and the CONNACK.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Room kept free in the read buffer before each read: a few dozen pushes a read keeps
/// the syscalls few and the buffers (and the output chunks made from them) small.
const READ_ROOM: usize = 16 * 1024;
/// A buffer grown past this for a big push is given back once it is empty again.
const KEEP_CAPACITY: usize = 1024 * 1024;

/// A connected stream, plain or TLS (the session's, and `connect`'s probe).
pub(crate) trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// What the session has to say.
#[derive(Debug)]
pub enum Event<'a> {
    /// CONNACK accepted; the SUBSCRIBE is on its way.
    Connected {
        /// The broker kept a session for this clientId.
        session_present: bool,
    },
    /// SUBACK: the granted QoS (0 or 1), or `None` when the broker refused the topic.
    Subscribed {
        /// Granted QoS level.
        granted: Option<u8>,
    },
    /// Pushes, in order, borrowed from the read buffer.
    Messages(Messages<'a>),
    /// The connection failed or was lost; the next [`Session::next`] waits `retry_in`, then
    /// connects again.
    Lost {
        /// What happened, in the user's words.
        error: Error,
        /// The delay before the next attempt.
        retry_in: Duration,
        /// A CONNACK had been accepted on the connection that was lost.
        was_connected: bool,
    },
}

/// Why the session ended for good.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionEnd {
    /// CONNACK refused with this return code: retrying would be refused again.
    Refused(ConnectReturnCode),
    /// A push over the limit arrived (its size): retrying would fetch it again and again.
    TooLarge(usize),
}

/// A push and how to acknowledge it.
#[derive(Debug, Clone, Copy)]
pub struct Message<'a> {
    /// The PUBLISH, borrowed from the read buffer.
    pub publish: Publish<'a>,
    /// What to hand to [`Session::ack`] once the push is safe (QoS 1), else `None`.
    pub ack: Option<AckToken>,
}

/// Permission to acknowledge one QoS 1 push, valid on the connection it came on only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AckToken {
    connection: u64,
    pkid: u16,
}

/// The pushes of one batch.
#[derive(Debug)]
pub struct Messages<'a> {
    buf: &'a [u8],
    at: usize,
    end: usize,
    connection: u64,
}

impl<'a> Iterator for Messages<'a> {
    type Item = Message<'a>;

    fn next(&mut self) -> Option<Message<'a>> {
        while self.at < self.end {
            // Frames in a batch were checked when it was cut: complete and well-formed.
            let frame = wire::next_frame(self.buf, self.at, usize::MAX).ok()?.ok()?;
            self.at = frame.end;
            if frame.kind() != kind::PUBLISH {
                continue;
            }
            let publish = wire::publish(self.buf, frame).ok()?;
            let ack = (publish.qos > 0).then_some(AckToken {
                connection: self.connection,
                pkid: publish.pkid,
            });
            return Some(Message { publish, ack });
        }
        None
    }
}

/// What the buffered frames make.
enum Cut {
    /// A run of pushes (and frames the session handles itself) up to this offset.
    Messages(usize),
    /// A SUBACK, ending at this offset.
    Subscribed(Option<u8>, usize),
    /// Nothing complete: read more (the length of the partial frame, when known).
    More(Option<usize>),
    /// The bytes break the protocol.
    Broken(Error),
    /// A push over the limit.
    TooLarge(usize),
}

/// The session.
pub struct Session {
    settings: SessionSettings,
    topic: String,
    qos: QoS,
    backoff: Backoff,
    peer: Peer,
    stream: Option<Box<dyn Io>>,
    /// Counts connections, so an acknowledgement never goes to the wrong one.
    connection: u64,
    buf: Vec<u8>,
    /// Bytes before this offset are done with.
    start: usize,
    /// Bytes before this offset were handed out in the last batch.
    handed: usize,
    outgoing: Vec<u8>,
    /// Bytes of `outgoing` already written (a flush may be cancelled half-way).
    sent: usize,
    retry_at: Option<Instant>,
    next_ping: Instant,
    ping_sent: Option<Instant>,
    /// A failure found while writing, reported by the next `next`.
    failed: Option<Error>,
    ended: Option<SessionEnd>,
}

impl Session {
    /// A session that will connect on the first [`Session::next`].
    #[must_use]
    pub fn new(settings: SessionSettings, topic: String, qos: QoS, backoff: Backoff) -> Self {
        let peer = Peer {
            host: settings.host.clone(),
            tls: settings
                .tls
                .as_ref()
                .map(crate::tls::TlsClient::describe_roots),
            connected: false,
        };
        Session {
            settings,
            topic,
            qos,
            backoff,
            peer,
            stream: None,
            connection: 0,
            buf: Vec::with_capacity(READ_ROOM),
            start: 0,
            handed: 0,
            outgoing: Vec::new(),
            sent: 0,
            retry_at: None,
            next_ping: Instant::now(),
            ping_sent: None,
            failed: None,
            ended: None,
        }
    }

    /// True while a CONNACK-accepted connection is up.
    #[must_use]
    pub fn is_connected(&self) -> bool {
        self.stream.is_some() && self.peer.connected
    }

    /// Waits for the next event. Cancel-safe.
    ///
    /// # Errors
    ///
    /// [`SessionEnd`] when retrying cannot help; every later call returns it again.
    pub async fn next(&mut self) -> Result<Event<'_>, SessionEnd> {
        self.start = self.handed;
        loop {
            if let Some(end) = self.ended {
                return Err(end);
            }
            if let Some(error) = self.failed.take() {
                return Ok(self.lose(error));
            }
            if self.stream.is_none() {
                if let Some(at) = self.retry_at {
                    tokio::time::sleep_until(at).await;
                }
                return match self.open().await {
                    Ok(session_present) => Ok(Event::Connected { session_present }),
                    Err(Opened::Refused(code)) => {
                        self.ended = Some(SessionEnd::Refused(code));
                        continue;
                    }
                    Err(Opened::Failed(error)) => Ok(self.lose(error)),
                };
            }
            match self.cut() {
                Cut::Messages(end) => {
                    self.handed = end;
                    let messages = Messages {
                        buf: &self.buf,
                        at: self.start,
                        end,
                        connection: self.connection,
                    };
                    return Ok(Event::Messages(messages));
                }
                Cut::Subscribed(granted, end) => {
                    self.handed = end;
                    return Ok(Event::Subscribed { granted });
                }
                Cut::Broken(error) => return Ok(self.lose(error)),
                Cut::TooLarge(size) => {
                    self.ended = Some(SessionEnd::TooLarge(size));
                    self.stream = None;
                    continue;
                }
                Cut::More(needed) => self.make_room(needed),
            }
            if let Err(error) = self.read_or_ping().await {
                return Ok(self.lose(error));
            }
        }
    }

    /// Queues the acknowledgement of a push (ignored when its connection is gone).
    pub fn ack(&mut self, token: AckToken) {
        if token.connection == self.connection && self.stream.is_some() {
            wire::puback(&mut self.outgoing, token.pkid);
        }
    }

    /// True when acknowledgements or a ping wait to be written.
    #[must_use]
    pub fn has_outgoing(&self) -> bool {
        !self.outgoing.is_empty()
    }

    /// Writes everything queued, in as few writes as the socket allows. Cancel-safe: what
    /// was written is remembered, so a cancelled flush goes on where it stopped. A failure
    /// is reported by the next [`Session::next`] as a lost connection.
    pub async fn flush(&mut self) {
        if self.outgoing.is_empty() {
            return;
        }
        let Some(stream) = self.stream.as_mut() else {
            self.outgoing.clear();
            self.sent = 0;
            return;
        };
        let mut result = Ok(());
        while self.sent < self.outgoing.len() {
            match stream.write(&self.outgoing[self.sent..]).await {
                Ok(0) => {
                    result = Err(std::io::ErrorKind::WriteZero.into());
                    break;
                }
                Ok(n) => self.sent += n,
                Err(err) => {
                    result = Err(err);
                    break;
                }
            }
        }
        if result.is_ok() {
            result = stream.flush().await;
        }
        self.outgoing.clear();
        self.sent = 0;
        if let Err(err) = result {
            self.failed = Some(io_error(&err));
            self.stream = None;
        }
    }

    /// Writes what is queued, then DISCONNECT, and closes. The caller bounds the time.
    pub async fn disconnect(&mut self) {
        if self.stream.is_some() {
            self.outgoing.extend_from_slice(&wire::DISCONNECT);
            self.flush().await;
        }
        if let Some(mut stream) = self.stream.take() {
            let _ = stream.shutdown().await;
        }
    }

    /// Drops the connection and schedules the next attempt.
    fn lose(&mut self, error: Error) -> Event<'static> {
        let was_connected = self.peer.connected;
        self.stream = None;
        self.peer.connected = false;
        self.buf.clear();
        self.start = 0;
        self.handed = 0;
        self.outgoing.clear();
        self.sent = 0;
        let retry_in = self.backoff.next_delay();
        self.retry_at = Some(Instant::now() + retry_in);
        Event::Lost {
            error,
            retry_in,
            was_connected,
        }
    }

    /// Cuts the buffered bytes into the next batch.
    fn cut(&mut self) -> Cut {
        let mut at = self.start;
        loop {
            let frame = match wire::next_frame(&self.buf, at, self.settings.max_payload) {
                Ok(Ok(frame)) => frame,
                Ok(Err(needed)) if at == self.start => return Cut::More(needed),
                Ok(Err(_)) => return Cut::Messages(at),
                Err(FrameError::TooLarge { size }) if at == self.start => {
                    return Cut::TooLarge(size)
                }
                Err(FrameError::TooLarge { .. }) => return Cut::Messages(at),
                Err(FrameError::Malformed(what)) => return Cut::Broken(broken(what)),
            };
            match frame.kind() {
                kind::PUBLISH => {
                    if let Err(what) = wire::publish(&self.buf, frame) {
                        return Cut::Broken(broken(what));
                    }
                }
                kind::PINGRESP => self.ping_sent = None,
                kind::PUBACK | kind::UNSUBACK => {}
                kind::SUBACK if at == self.start => {
                    let granted = match wire::suback(&self.buf, frame) {
                        Ok(code @ 0..=2) => Some(code),
                        Ok(_) => None,
                        Err(what) => return Cut::Broken(broken(what)),
                    };
                    return Cut::Subscribed(granted, frame.end);
                }
                kind::SUBACK => return Cut::Messages(at),
                other => {
                    return Cut::Broken(Error::new(
                        ExitKind::Network,
                        format!(
                            "the broker sent an unexpected {} packet",
                            packet_type_name(other)
                        ),
                    ))
                }
            }
            at = frame.end;
        }
    }

    /// Makes room for the next read: drops what is done with, keeps room for a whole
    /// partial frame of known length, gives back a big buffer once it is empty.
    fn make_room(&mut self, needed: Option<usize>) {
        if self.start > 0 {
            self.buf.drain(..self.start);
            self.start = 0;
            self.handed = 0;
        }
        if self.buf.is_empty() && self.buf.capacity() > KEEP_CAPACITY {
            self.buf = Vec::with_capacity(READ_ROOM);
        }
        let want = needed.unwrap_or(0).max(self.buf.len() + READ_ROOM);
        self.buf.reserve(want.saturating_sub(self.buf.len()));
    }

    /// Reads more bytes, or sends a keep-alive ping when one is due.
    async fn read_or_ping(&mut self) -> Result<(), Error> {
        let keep_alive = self.settings.keep_alive;
        let Some(stream) = self.stream.as_mut() else {
            return Ok(());
        };
        let read = tokio::select! {
            read = stream.read_buf(&mut self.buf) => Some(read),
            () = tokio::time::sleep_until(self.next_ping), if !keep_alive.is_zero() => None,
        };
        match read {
            Some(Ok(0)) => Err(Error::new(ExitKind::Network, closed_by_broker())),
            Some(Ok(_)) => Ok(()),
            Some(Err(err)) => Err(io_error(&err)),
            None if self.ping_sent.is_some() => Err(Error::new(
                ExitKind::Network,
                "the broker stopped answering (no reply to a keep-alive ping)",
            )),
            None => {
                self.ping_sent = Some(Instant::now());
                self.next_ping = Instant::now() + keep_alive;
                self.outgoing.extend_from_slice(&wire::PINGREQ);
                self.flush().await;
                self.failed.take().map_or(Ok(()), Err)
            }
        }
    }

    /// DNS, TCP, TLS, CONNECT and CONNACK, then SUBSCRIBE (its SUBACK comes as an event).
    async fn open(&mut self) -> Result<bool, Opened> {
        let opened = tokio::time::timeout(CONNECT_TIMEOUT, self.handshake()).await;
        let (stream, session_present) = match opened {
            Ok(result) => result?,
            Err(_) => {
                return Err(Opened::Failed(Error::new(
                    ExitKind::Network,
                    "the broker did not answer in time",
                )))
            }
        };
        self.stream = Some(stream);
        self.connection += 1;
        self.peer.connected = true;
        self.retry_at = None;
        self.backoff.reset();
        self.ping_sent = None;
        self.next_ping = Instant::now() + self.settings.keep_alive;
        let subscribe = wire::subscribe(&self.topic, self.qos)
            .map_err(|e| Opened::Failed(Error::new(ExitKind::Config, e)))?;
        self.outgoing.extend_from_slice(&subscribe);
        self.flush().await;
        Ok(session_present)
    }

    async fn handshake(&mut self) -> Result<(Box<dyn Io>, bool), Opened> {
        let s = &self.settings;
        let tcp = TcpStream::connect((s.host.as_str(), s.port))
            .await
            .map_err(|err| Opened::Failed(connect_error(&err, &s.host, s.port)))?;
        let _ = tcp.set_nodelay(true);
        let mut stream: Box<dyn Io> = match &s.tls {
            None => Box::new(tcp),
            Some(tls) => {
                let name =
                    rustls_pki_types::ServerName::try_from(s.host.clone()).map_err(|_| {
                        Opened::Failed(
                            Error::config(format!(
                                "'{}' cannot be checked against a certificate",
                                s.host
                            ))
                            .with_hint("give --host as a DNS name or an IP address"),
                        )
                    })?;
                let connector = tokio_rustls::TlsConnector::from(tls.config.clone());
                let stream = connector.connect(name, tcp).await.map_err(|err| {
                    Opened::Failed(crate::tls::explain_handshake(
                        &err,
                        &s.host,
                        &tls.describe_roots(),
                    ))
                })?;
                Box::new(stream)
            }
        };
        let keep_alive = u16::try_from(s.keep_alive.as_secs()).unwrap_or(u16::MAX);
        let connect = wire::connect(
            &s.client_id,
            &s.app_id,
            s.app_secret.expose(),
            keep_alive,
            s.clean_session,
        )
        .map_err(|e| Opened::Failed(Error::new(ExitKind::Config, e)))?;
        let sent = match stream.write_all(&connect).await {
            Ok(()) => stream.flush().await,
            Err(err) => Err(err),
        };
        sent.map_err(|err| Opened::Failed(io_error(&err)))?;
        self.buf.clear();
        self.start = 0;
        self.handed = 0;
        let session_present = self.read_connack(&mut stream).await?;
        Ok((stream, session_present))
    }

    /// Reads up to the CONNACK; bytes after it stay in the buffer.
    async fn read_connack(&mut self, stream: &mut Box<dyn Io>) -> Result<bool, Opened> {
        loop {
            match wire::next_frame(&self.buf, 0, 4096) {
                Ok(Ok(frame)) if frame.kind() == kind::CONNACK => {
                    let (session_present, code) = wire::connack(&self.buf, frame)
                        .map_err(|_| Opened::Failed(not_mqtt(Some(&self.buf))))?;
                    self.buf.drain(..frame.end);
                    return match code {
                        0 => Ok(session_present),
                        code => Err(Opened::Refused(return_code(code))),
                    };
                }
                // Packets only clients send (or reserved types): these bytes are not an
                // MQTT broker's (a TLS record starts with what reads as a CONNECT).
                Ok(Ok(frame)) if matches!(frame.kind(), 0 | 1 | 8 | 10 | 12 | 14 | 15) => {
                    return Err(Opened::Failed(not_mqtt(Some(&self.buf))))
                }
                Ok(Ok(frame)) => {
                    return Err(Opened::Failed(Error::new(
                        ExitKind::Network,
                        format!(
                            "the broker answered CONNECT with {}",
                            packet_type_name(frame.kind())
                        ),
                    )))
                }
                Ok(Err(_)) => {}
                Err(_) => return Err(Opened::Failed(not_mqtt(Some(&self.buf)))),
            }
            self.buf.reserve(1024);
            match stream.read_buf(&mut self.buf).await {
                Ok(0) if self.buf.is_empty() => {
                    return Err(Opened::Failed(
                        Error::new(
                            ExitKind::Network,
                            format!("{} without a CONNACK", closed_by_broker()),
                        )
                        .with_hint(
                            "some brokers close instead of refusing: check AppID, AppSecret and \
                         clientId (`sensoro-mqtt connect` shows each step)",
                        ),
                    ))
                }
                Ok(0) => return Err(Opened::Failed(not_mqtt(Some(&self.buf)))),
                Ok(_) => {}
                Err(err) => return Err(Opened::Failed(io_error(&err))),
            }
        }
    }
}

/// Why a connection attempt did not give a session.
enum Opened {
    Refused(ConnectReturnCode),
    Failed(Error),
}

fn broken(what: &str) -> Error {
    Error::new(
        ExitKind::Network,
        format!("the broker sent a packet that is not valid MQTT ({what})"),
    )
}

/// A TCP connection failure in words.
fn connect_error(err: &std::io::Error, host: &str, port: u16) -> Error {
    match err.kind() {
        std::io::ErrorKind::ConnectionRefused => Error::new(
            ExitKind::Network,
            format!("connection refused: nothing listens on {host}:{port}"),
        ),
        _ => {
            let error = io_error(err);
            Error::new(
                ExitKind::Network,
                format!("cannot reach {host}:{port}: {}", error.message()),
            )
        }
    }
}

/// A CONNACK return code as rumqttc's type (unknown codes read as "not authorized").
fn return_code(code: u8) -> ConnectReturnCode {
    match code {
        1 => ConnectReturnCode::RefusedProtocolVersion,
        2 => ConnectReturnCode::BadClientId,
        3 => ConnectReturnCode::ServiceUnavailable,
        4 => ConnectReturnCode::BadUserNamePassword,
        _ => ConnectReturnCode::NotAuthorized,
    }
}

/// An MQTT packet type's name, for messages.
#[must_use]
pub fn packet_type_name(kind: u8) -> &'static str {
    match kind {
        1 => "CONNECT",
        2 => "CONNACK",
        3 => "PUBLISH",
        4 => "PUBACK",
        5 => "PUBREC",
        6 => "PUBREL",
        7 => "PUBCOMP",
        8 => "SUBSCRIBE",
        9 => "SUBACK",
        10 => "UNSUBSCRIBE",
        11 => "UNSUBACK",
        12 => "PINGREQ",
        13 => "PINGRESP",
        14 => "DISCONNECT",
        _ => "reserved",
    }
}
