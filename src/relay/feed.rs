//! The one place where `relay` meets the MQTT session: pushes come out as bytes with an
//! [`AckToken`], acknowledgements go back by token. Nothing else in `relay/` knows rumqttc,
//! so the session underneath can be swapped by changing this file alone.
//!
//! A token belongs to one connection: packet ids mean nothing on the next one, so tokens
//! from before a lost connection are ignored (the broker redelivers those pushes).

use std::time::Duration;

use bytes::Bytes;
use rumqttc::mqttbytes::v4::{Publish, SubscribeReasonCode};
use rumqttc::mqttbytes::QoS;
use rumqttc::AsyncClient;
use tokio::sync::mpsc;

use crate::config::Qos;
use crate::error::{Error, ExitKind, Result};
use crate::mqtt::{self, Acks, Backoff, SessionEvent, SessionSettings};

/// How soon acknowledgements refused by a full request channel are tried again.
pub const ACK_RETRY: Duration = Duration::from_millis(2);

/// What acknowledges one push; `None` inside for QoS 0 (nothing to acknowledge).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AckToken(Option<(u64, u16)>);

/// What the feed has to say.
#[derive(Debug)]
pub enum FeedEvent {
    /// A push: its payload and what acknowledges it.
    Push {
        /// The payload as received.
        payload: Bytes,
        /// Hand back to [`Feed::ack`] once every target committed it.
        token: AckToken,
    },
    /// A line for the user (connected, subscribed, lost, retrying).
    Note(String),
}

/// A subscription kept alive across reconnects.
pub struct Feed {
    client: AsyncClient,
    events: mpsc::Receiver<SessionEvent>,
    acks: Acks,
    connection: u64,
    connected_once: bool,
    settings: SessionSettings,
    topic: String,
    qos: Qos,
    /// What was sent as whom (secrets masked), for a refusal's hint.
    credentials: String,
}

impl Feed {
    /// Opens the session; it connects and subscribes in the background.
    #[must_use]
    pub fn start(settings: SessionSettings, topic: String, qos: Qos, credentials: String) -> Feed {
        let backoff = Backoff::new(Duration::from_millis(500), Duration::from_secs(30));
        let (client, events) = mqtt::start_session(&settings, backoff);
        Feed {
            client,
            events,
            acks: Acks::default(),
            connection: 0,
            connected_once: false,
            settings,
            topic,
            qos,
            credentials,
        }
    }

    /// The next event; an error is final (refused, a push too large, the session gone).
    pub async fn next(&mut self) -> Result<FeedEvent> {
        loop {
            let event = if self.acks.owed() > 0 {
                tokio::select! {
                    event = self.events.recv() => event,
                    () = tokio::time::sleep(ACK_RETRY) => {
                        self.acks.send(&self.client);
                        continue;
                    }
                }
            } else {
                self.events.recv().await
            };
            let event = event.ok_or_else(session_ended)?;
            if let Some(event) = self.handle(event)? {
                return Ok(event);
            }
        }
    }

    /// The next event if one is ready now, without waiting.
    pub fn try_next(&mut self) -> Option<Result<FeedEvent>> {
        loop {
            let event = self.events.try_recv().ok()?;
            match self.handle(event) {
                Ok(Some(event)) => return Some(Ok(event)),
                Ok(None) => {}
                Err(err) => return Some(Err(err)),
            }
        }
    }

    /// Acknowledges pushes (in the order given); tokens of an earlier connection are ignored.
    pub fn ack(&mut self, tokens: impl IntoIterator<Item = AckToken>) {
        let mut probe = Publish::new("", QoS::AtLeastOnce, Vec::new());
        for token in tokens {
            if let AckToken(Some((connection, pkid))) = token {
                if connection == self.connection {
                    probe.pkid = pkid;
                    self.acks.written(&probe);
                }
            }
        }
        self.acks.flushed();
        self.acks.send(&self.client);
    }

    /// Hands over owed acknowledgements, then DISCONNECT, waiting at most `limit`.
    pub async fn close(mut self, limit: Duration) {
        let give_up = tokio::time::Instant::now() + limit;
        let mut disconnecting = false;
        loop {
            self.acks.send(&self.client);
            if !disconnecting && self.acks.owed() == 0 {
                disconnecting = self.client.try_disconnect().is_ok();
            }
            let event = tokio::select! {
                event = self.events.recv() => event,
                () = tokio::time::sleep(ACK_RETRY), if self.acks.owed() > 0 || !disconnecting => continue,
                () = tokio::time::sleep_until(give_up) => return,
            };
            match event {
                None
                | Some(
                    SessionEvent::Closed
                    | SessionEvent::Refused(_)
                    | SessionEvent::Lost { .. }
                    | SessionEvent::TooLarge { .. },
                ) => return,
                Some(_) => {}
            }
        }
    }

    fn handle(&mut self, event: SessionEvent) -> Result<Option<FeedEvent>> {
        let note = match event {
            SessionEvent::Message(publish) => {
                let token = match publish.qos {
                    QoS::AtMostOnce => AckToken(None),
                    _ => AckToken(Some((self.connection, publish.pkid))),
                };
                return Ok(Some(FeedEvent::Push {
                    payload: publish.payload,
                    token,
                }));
            }
            SessionEvent::Connected { session_present } => self.on_connected(session_present)?,
            SessionEvent::Subscribed(codes) => self.on_subscribed(&codes)?,
            SessionEvent::Lost { error, retry_in } => {
                self.acks.forget();
                self.connection += 1;
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
            SessionEvent::Refused(code) => {
                let refused = mqtt::refused(code);
                let hint = format!(
                    "{}\nsent: {}",
                    refused.hint().unwrap_or_default(),
                    self.credentials
                );
                return Err(refused.with_hint(hint));
            }
            SessionEvent::TooLarge { size } => {
                return Err(Error::new(
                    ExitKind::Network,
                    format!(
                        "a push of {} arrived, over --max-payload ({}): stopped without taking it",
                        mqtt::size_words(size),
                        mqtt::size_words(self.settings.max_payload)
                    ),
                )
                .with_hint("raise --max-payload (up to 255MiB, MQTT's own limit)"))
            }
            SessionEvent::Closed => return Err(session_ended()),
        };
        Ok(Some(FeedEvent::Note(note)))
    }

    fn on_connected(&mut self, session_present: bool) -> Result<String> {
        // rumqttc drops queued requests after a CONNACK without a session: subscribe again.
        if !session_present || !self.connected_once {
            let qos = match self.qos {
                Qos::AtMostOnce => QoS::AtMostOnce,
                Qos::AtLeastOnce => QoS::AtLeastOnce,
            };
            self.client
                .try_subscribe(self.topic.clone(), qos)
                .map_err(|e| Error::new(ExitKind::Network, format!("cannot subscribe: {e}")))?;
        }
        self.connected_once = true;
        let s = &self.settings;
        let kept = if session_present {
            " (the broker kept this session)"
        } else {
            ""
        };
        Ok(format!(
            "connected to {}:{} as {}{kept}",
            s.host, s.port, s.client_id
        ))
    }

    fn on_subscribed(&mut self, codes: &[SubscribeReasonCode]) -> Result<String> {
        match codes.first() {
            Some(SubscribeReasonCode::Success(granted)) => {
                let granted = *granted as u8;
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
            _ => Err(Error::new(
                ExitKind::Refused,
                format!("the broker refused the subscription to {}", self.topic),
            )
            .with_hint(format!(
                "a client may subscribe only to its own topic users/{}/devices",
                self.settings.app_id
            ))),
        }
    }
}

fn session_ended() -> Error {
    Error::new(ExitKind::Network, "the MQTT session ended unexpectedly")
}
