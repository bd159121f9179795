//! The one place where `relay` meets the MQTT session: pushes come out as bytes with an
//! [`AckToken`], acknowledgements go back by token. Nothing else in `relay/` knows the MQTT
//! session, so it can be swapped by changing this file alone.
//!
//! A token belongs to one connection: packet ids mean nothing on the next one, so tokens
//! from before a lost connection are ignored (the broker redelivers those pushes).

use std::collections::VecDeque;
use std::time::Duration;

use bytes::Bytes;
use futures_util::FutureExt as _;
use rumqttc::mqttbytes::QoS;

use crate::config::Qos;
use crate::error::{Error, Result};
use crate::mqtt::session::{self, Session, SessionEnd};
use crate::mqtt::{self, Backoff, SessionSettings};

/// What acknowledges one push; `None` inside for QoS 0 (nothing to acknowledge).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AckToken(Option<session::AckToken>);

/// What a source of pushes has to say.
#[derive(Debug)]
pub enum Event<T> {
    /// A push: its payload and what acknowledges it.
    Push {
        /// The payload as received.
        payload: Bytes,
        /// Hand back to [`Feed::ack`] once every target committed it.
        token: T,
    },
    /// A line for the user (connected, subscribed, lost, retrying).
    Note(String),
}

/// What the feed has to say.
pub type FeedEvent = Event<AckToken>;

/// A subscription kept alive across reconnects.
pub struct Feed {
    session: Session,
    state: State,
}

/// What the feed knows besides the session.
struct State {
    /// Events of the last batch not handed out yet.
    pending: VecDeque<FeedEvent>,
    connected_once: bool,
    settings: SessionSettings,
    topic: String,
    qos: Qos,
    /// What was sent as whom (secrets masked), for a refusal's hint.
    credentials: String,
}

impl Feed {
    /// Opens the session; it connects and subscribes when first asked for an event.
    #[must_use]
    pub fn start(settings: SessionSettings, topic: String, qos: Qos, credentials: String) -> Feed {
        let backoff = Backoff::new(Duration::from_millis(500), Duration::from_secs(30));
        let level = match qos {
            Qos::AtMostOnce => QoS::AtMostOnce,
            Qos::AtLeastOnce => QoS::AtLeastOnce,
        };
        let session = Session::new(settings.clone(), topic.clone(), level, backoff);
        Feed {
            session,
            state: State {
                pending: VecDeque::new(),
                connected_once: false,
                settings,
                topic,
                qos,
                credentials,
            },
        }
    }

    /// The next event; an error is final (refused, a push too large). Cancel-safe.
    pub async fn next(&mut self) -> Result<FeedEvent> {
        loop {
            if let Some(event) = self.state.pending.pop_front() {
                return Ok(event);
            }
            self.session.flush().await;
            let event = self.session.next().await;
            self.state.take(event)?;
        }
    }

    /// The next event if one is ready now, without waiting.
    pub fn try_next(&mut self) -> Option<Result<FeedEvent>> {
        loop {
            if let Some(event) = self.state.pending.pop_front() {
                return Some(Ok(event));
            }
            let event = self.session.next().now_or_never()?;
            if let Err(err) = self.state.take(event) {
                return Some(Err(err));
            }
        }
    }

    /// Acknowledges pushes (in the order given); tokens of an earlier connection are
    /// ignored. They are written now as far as the socket takes them, the rest before the
    /// feed next waits for the broker.
    pub fn ack(&mut self, tokens: impl IntoIterator<Item = AckToken>) {
        for token in tokens {
            if let AckToken(Some(token)) = token {
                self.session.ack(token);
            }
        }
        // The flush is cancel-safe: what the socket did not take now stays queued.
        let _ = self.session.flush().now_or_never();
    }

    /// Writes owed acknowledgements, then DISCONNECT, waiting at most `limit`.
    pub async fn close(mut self, limit: Duration) {
        let _ = tokio::time::timeout(limit, self.session.disconnect()).await;
    }
}

impl super::pipeline::Source for Feed {
    type Token = AckToken;

    fn next(&mut self) -> impl std::future::Future<Output = Result<FeedEvent>> {
        Feed::next(self)
    }

    fn try_next(&mut self) -> Option<Result<FeedEvent>> {
        Feed::try_next(self)
    }

    fn ack(&mut self, tokens: Vec<AckToken>) {
        Feed::ack(self, tokens);
    }
}

impl State {
    /// Turns one session event into feed events.
    fn take(&mut self, event: std::result::Result<session::Event<'_>, SessionEnd>) -> Result<()> {
        let note = match event {
            Err(SessionEnd::Refused(code)) => {
                let refused = mqtt::refused(code);
                let hint = format!(
                    "{}\nsent: {}",
                    refused.hint().unwrap_or_default(),
                    self.credentials
                );
                return Err(refused.with_hint(hint));
            }
            Err(SessionEnd::TooLarge(size)) => {
                return Err(Error::new(
                    crate::error::ExitKind::Network,
                    format!(
                        "a push of {} arrived, over --max-payload ({}): stopped without taking it",
                        mqtt::size_words(size),
                        mqtt::size_words(self.settings.max_payload)
                    ),
                )
                .with_hint("raise --max-payload (up to 255MiB, MQTT's own limit)"))
            }
            Ok(session::Event::Messages(messages)) => {
                for message in messages {
                    self.pending.push_back(FeedEvent::Push {
                        payload: Bytes::copy_from_slice(message.publish.payload),
                        token: AckToken(message.ack),
                    });
                }
                return Ok(());
            }
            Ok(session::Event::Connected { session_present }) => self.on_connected(session_present),
            Ok(session::Event::Subscribed { granted }) => self.on_subscribed(granted)?,
            Ok(session::Event::Lost {
                error, retry_in, ..
            }) => {
                if !self.connected_once {
                    return Err(Error::new(
                        error.kind(),
                        format!(
                            "cannot connect to {}:{}: {error}",
                            self.settings.host, self.settings.port
                        ),
                    )
                    .with_hint(
                        error
                            .hint()
                            .unwrap_or("check --host and --port (or SENSORO_HOST / SENSORO_PORT)"),
                    ));
                }
                format!(
                    "connection lost: {error}; retrying in {:.1}s",
                    retry_in.as_secs_f64()
                )
            }
        };
        self.pending.push_back(FeedEvent::Note(note));
        Ok(())
    }

    fn on_connected(&mut self, session_present: bool) -> String {
        self.connected_once = true;
        let s = &self.settings;
        let kept = if session_present {
            " (the broker kept this session)"
        } else {
            ""
        };
        format!(
            "connected to {}:{} as {}{kept}",
            s.host, s.port, s.client_id
        )
    }

    fn on_subscribed(&mut self, granted: Option<u8>) -> Result<String> {
        let Some(granted) = granted else {
            return Err(Error::new(
                crate::error::ExitKind::Refused,
                format!("the broker refused the subscription to {}", self.topic),
            )
            .with_hint(format!(
                "a client may subscribe only to its own topic users/{}/devices",
                self.settings.app_id
            )));
        };
        let asked = self.qos.level();
        let note = if granted < asked {
            format!(
                " (asked for {asked}; the broker lowered it: pushes are not \
                 acknowledged, so a relay stop can lose some)"
            )
        } else {
            String::new()
        };
        Ok(format!(
            "subscribed to {} with QoS {granted}{note}",
            self.topic
        ))
    }
}
