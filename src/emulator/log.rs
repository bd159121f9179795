//! What the emulator tells its caller: one [`LogEvent`] per connection, refusal, subscription,
//! drop and overflow, handed to a caller-supplied sink.
//!
//! The emulator never prints: the CLI decides how a line looks on stderr, tests assert on the
//! events. No event carries a password or an AppKey, only AppIDs and clientIds.

use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;

/// Receives the emulator's events. It is called from the emulator's tasks, so it must return
/// quickly (push to a channel, write a line) and never block on the emulator itself.
pub type LogSink = Arc<dyn Fn(&LogEvent) + Send + Sync>;

/// The MQTT version a client connected with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MqttVersion {
    /// MQTT 3.1 (`MQIsdp`, level 3).
    V31,
    /// MQTT 3.1.1 (`MQTT`, level 4).
    V311,
}

impl fmt::Display for MqttVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            MqttVersion::V31 => "MQTT 3.1",
            MqttVersion::V311 => "MQTT 3.1.1",
        })
    }
}

/// Why a CONNECT was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefuseReason {
    /// Protocol name/level other than `MQIsdp`/3 or `MQTT`/4 (CONNACK 1).
    UnsupportedProtocol {
        /// The protocol name sent, lossily decoded.
        name: String,
        /// The protocol level sent.
        level: u8,
    },
    /// No username, or one that is no configured AppID (CONNACK 5).
    UnknownAppId(Option<String>),
    /// The password is not the app's AppSecret (CONNACK 5). The password is never logged.
    WrongSecret,
    /// The clientId breaks `^<AppID>(/[-_0-9a-zA-Z]{0,36})?$`, or is empty (CONNACK 5).
    BadClientId,
    /// The session table is full of online sessions (CONNACK 3).
    TooManySessions,
}

impl fmt::Display for RefuseReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RefuseReason::UnsupportedProtocol { name, level } => write!(
                f,
                "unsupported protocol '{}' level {level} (only MQTT 3.1 and 3.1.1)",
                Shown(name)
            ),
            RefuseReason::UnknownAppId(None) => f.write_str("no username (it must be the AppID)"),
            RefuseReason::UnknownAppId(Some(name)) => {
                write!(f, "username '{}' is no known AppID", Shown(name))
            }
            RefuseReason::WrongSecret => f.write_str("wrong password (AppSecret)"),
            RefuseReason::BadClientId => {
                f.write_str("clientId breaks the rule <AppID>(/[-_0-9a-zA-Z]{0,36})?")
            }
            RefuseReason::TooManySessions => f.write_str("too many sessions"),
        }
    }
}

/// Why a connection ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CloseReason {
    /// The client sent DISCONNECT.
    ClientDisconnect,
    /// The client closed the TCP connection, or it failed.
    ConnectionLost,
    /// Nothing came from the client for 1.5 × its keep-alive.
    KeepAliveExpired,
    /// Another connection came with the same clientId (session takeover).
    TakenOver,
    /// `drop_after` pushes were delivered (fault injection).
    DropAfter(u64),
    /// The client sent a packet over the size limit.
    PacketTooLarge {
        /// Announced size (remaining length).
        size: usize,
        /// The limit.
        max: usize,
    },
    /// The client held no subscription for this long (the idle limit).
    Idle(std::time::Duration),
    /// The client left written data unread for longer than the write timeout.
    SlowConsumer,
    /// The client broke the protocol (the detail says how).
    ProtocolError(String),
    /// The emulator is shutting down.
    Shutdown,
}

impl fmt::Display for CloseReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CloseReason::ClientDisconnect => f.write_str("client disconnected"),
            CloseReason::ConnectionLost => f.write_str("connection lost"),
            CloseReason::KeepAliveExpired => f.write_str("keep-alive expired"),
            CloseReason::TakenOver => {
                f.write_str("taken over by a new connection with the same clientId")
            }
            CloseReason::DropAfter(n) => write!(f, "dropped after {n} pushes (--drop-after)"),
            CloseReason::PacketTooLarge { size, max } => {
                write!(f, "packet of {size} bytes is over the limit of {max}")
            }
            CloseReason::Idle(limit) => write!(
                f,
                "idle for {:.1} s without a subscription",
                limit.as_secs_f64()
            ),
            CloseReason::SlowConsumer => f.write_str("client stopped reading"),
            CloseReason::ProtocolError(detail) => write!(f, "protocol error: {detail}"),
            CloseReason::Shutdown => f.write_str("emulator shutting down"),
        }
    }
}

/// One thing worth telling the person running the emulator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogEvent {
    /// The listener is bound.
    Listening {
        /// The real bound address.
        addr: SocketAddr,
    },
    /// A CONNECT was accepted.
    Connected {
        /// Remote address.
        peer: SocketAddr,
        /// The clientId.
        client_id: String,
        /// The AppID it authenticated as.
        app_id: String,
        /// 3.1 or 3.1.1.
        version: MqttVersion,
        /// The clean-session flag.
        clean_session: bool,
        /// Whether a stored session was resumed.
        session_present: bool,
        /// Keep-alive in seconds (0 = none).
        keep_alive: u16,
        /// It logged in with a publisher's secret (`--publisher`).
        publisher: bool,
    },
    /// A CONNECT was refused with a CONNACK return code.
    Refused {
        /// Remote address.
        peer: SocketAddr,
        /// The clientId sent, if any.
        client_id: Option<String>,
        /// The CONNACK return code.
        code: u8,
        /// Why.
        reason: RefuseReason,
    },
    /// A connection was closed before a valid CONNECT (timeout, garbage, oversize, limit).
    Rejected {
        /// Remote address.
        peer: SocketAddr,
        /// Why, in words.
        reason: String,
    },
    /// A subscription was granted.
    Subscribed {
        /// The clientId.
        client_id: String,
        /// The topic filter.
        topic: String,
        /// The granted QoS.
        granted_qos: u8,
    },
    /// A subscription was refused (SUBACK 0x80).
    SubscribeRefused {
        /// The clientId.
        client_id: String,
        /// The topic filter asked for.
        topic: String,
        /// Why.
        reason: String,
    },
    /// A client unsubscribed.
    Unsubscribed {
        /// The clientId.
        client_id: String,
        /// The topic filter.
        topic: String,
    },
    /// A client PUBLISH was received and, like on the platform, not forwarded.
    ClientPublishIgnored {
        /// The clientId.
        client_id: String,
        /// The topic it published to.
        topic: String,
        /// Payload size.
        bytes: usize,
    },
    /// A connection ended.
    Disconnected {
        /// The clientId.
        client_id: String,
        /// Why.
        reason: CloseReason,
    },
    /// A session fell more than `queue_limit` pushes behind and lost the oldest ones.
    QueueOverflow {
        /// The clientId.
        client_id: String,
        /// How many were dropped since the last report.
        dropped: u64,
    },
    /// An offline session was discarded to make room for a new one.
    SessionEvicted {
        /// The clientId of the discarded session.
        client_id: String,
    },
    /// A push could not be sealed in safe mode and was not published.
    SealFailed {
        /// The app it was for.
        app_id: String,
        /// The sealer's message.
        detail: String,
    },
    /// A replay line was skipped.
    ReplaySkipped {
        /// 1-based line number.
        line: usize,
        /// Why.
        reason: String,
    },
    /// A webhook request failed (one event per failed attempt).
    WebhookFailed {
        /// The webhook URL (credentials masked).
        url: String,
        /// 1-based attempt number.
        attempt: u32,
        /// What went wrong.
        detail: String,
        /// When it is tried again; `None` when the push is given up.
        retry_in: Option<std::time::Duration>,
    },
    /// A webhook's queue was full: the oldest pushes gave way.
    WebhookDropped {
        /// The webhook URL (credentials masked).
        url: String,
        /// How many since the last report.
        dropped: u64,
    },
    /// A streamed replay could not be opened or read; it ends here.
    ReplayFailed {
        /// What went wrong.
        detail: String,
    },
    /// The replay reached its end and does not loop.
    ReplayFinished {
        /// How many lines were published.
        published: u64,
    },
}

impl fmt::Display for LogEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LogEvent::Listening { addr } => write!(f, "listening on {addr}"),
            LogEvent::Connected {
                peer,
                client_id,
                app_id,
                version,
                clean_session,
                session_present,
                keep_alive,
                publisher,
            } => write!(
                f,
                "connect accepted: '{}' (AppID {app_id}{}) from {peer}, {version}, \
                 clean session {clean_session}, session present {session_present}, \
                 keep-alive {keep_alive} s",
                Shown(client_id),
                if *publisher { ", publisher" } else { "" }
            ),
            LogEvent::Refused {
                peer,
                client_id,
                code,
                reason,
            } => write!(
                f,
                "connect refused (CONNACK {code}): {reason}; clientId '{}' from {peer}",
                Shown(client_id.as_deref().unwrap_or(""))
            ),
            LogEvent::Rejected { peer, reason } => write!(f, "closed {peer}: {reason}"),
            LogEvent::Subscribed {
                client_id,
                topic,
                granted_qos,
            } => write!(
                f,
                "subscribe granted: '{}' to {} at QoS {granted_qos}",
                Shown(client_id),
                Shown(topic)
            ),
            LogEvent::SubscribeRefused {
                client_id,
                topic,
                reason,
            } => write!(
                f,
                "subscribe refused (0x80): '{}' to '{}': {reason}",
                Shown(client_id),
                Shown(topic)
            ),
            LogEvent::Unsubscribed { client_id, topic } => {
                write!(
                    f,
                    "unsubscribed: '{}' from '{}'",
                    Shown(client_id),
                    Shown(topic)
                )
            }
            LogEvent::ClientPublishIgnored {
                client_id,
                topic,
                bytes,
            } => write!(
                f,
                "publish from '{}' to '{}' ({bytes} bytes) not forwarded",
                Shown(client_id),
                Shown(topic)
            ),
            LogEvent::Disconnected { client_id, reason } => {
                write!(f, "disconnected: '{}': {reason}", Shown(client_id))
            }
            LogEvent::QueueOverflow { client_id, dropped } => write!(
                f,
                "'{}' fell behind: dropped {dropped} oldest push(es)",
                Shown(client_id)
            ),
            LogEvent::SessionEvicted { client_id } => {
                write!(
                    f,
                    "offline session '{}' evicted (too many sessions)",
                    Shown(client_id)
                )
            }
            LogEvent::SealFailed { app_id, detail } => {
                write!(f, "safe mode: cannot encrypt a push for {app_id}: {detail}")
            }
            LogEvent::ReplaySkipped { line, reason } => {
                write!(f, "replay line {line} skipped: {reason}")
            }
            LogEvent::WebhookFailed {
                url,
                attempt,
                detail,
                retry_in,
            } => {
                write!(f, "webhook {url}: attempt {attempt} failed: {detail}; ")?;
                match retry_in {
                    Some(wait) => write!(f, "retrying in {:.1} s", wait.as_secs_f64()),
                    None => f.write_str("push given up"),
                }
            }
            LogEvent::WebhookDropped { url, dropped } => write!(
                f,
                "webhook {url}: queue full, dropped {dropped} oldest push(es)"
            ),
            LogEvent::ReplayFailed { detail } => write!(f, "replay stopped: {detail}"),
            LogEvent::ReplayFinished { published } => {
                write!(f, "replay finished: {published} line(s) published")
            }
        }
    }
}

/// Longest client-supplied string shown whole in a log line, in characters.
const SHOWN_CHARS: usize = 64;

/// A client-supplied string as a log line shows it: escaped, and cut to [`SHOWN_CHARS`]
/// characters with '…' (a 65,535-byte clientId must not fill the log on every attempt).
struct Shown<'a>(&'a str);

impl fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut chars = self.0.chars();
        for c in chars.by_ref().take(SHOWN_CHARS) {
            write!(f, "{}", c.escape_debug())?;
        }
        if chars.next().is_some() {
            f.write_str("…")?;
        }
        Ok(())
    }
}

/// The emulator's handle on the sink; building an event costs nothing without one.
#[derive(Clone, Default)]
pub(crate) struct Logger(Option<LogSink>);

impl Logger {
    pub(crate) fn new(sink: Option<LogSink>) -> Self {
        Logger(sink)
    }

    pub(crate) fn emit(&self, event: impl FnOnce() -> LogEvent) {
        if let Some(sink) = &self.0 {
            sink(&event());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_client_strings_are_cut_and_short_ones_kept() {
        assert_eq!(Shown("foobar/a").to_string(), "foobar/a");
        assert_eq!(Shown(&"é".repeat(64)).to_string(), "é".repeat(64));
        let cut = Shown(&"x".repeat(65_535)).to_string();
        assert_eq!(cut, format!("{}…", "x".repeat(64)));
        assert_eq!(Shown("a\nb").to_string(), "a\\nb");
    }
}
