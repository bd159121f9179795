//! The adapter between the MQTT session and watch: the only file of `watch` that knows the
//! session API. Everything else sees a channel of [`WatchInput`] and hands back an
//! [`AckToken`] once a push is in the model.
//!
//! It subscribes after each CONNACK, turns session events into connection states, and
//! acknowledges QoS 1 pushes only when watch says they are in the model (written → flushed →
//! send, as listen does once a push is on stdout). Tokens carry the connection they came
//! from: a packet id means nothing on the next connection, so stale tokens are dropped.

use std::time::{Duration, Instant};

use bytes::Bytes;
use rumqttc::mqttbytes::v4::{Publish, SubscribeReasonCode};
use rumqttc::mqttbytes::QoS;
use rumqttc::AsyncClient;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::model::Connection;
use crate::config::Qos;
use crate::error::{Error, ExitKind};
use crate::mqtt::{self, Acks, Backoff, SessionEvent, SessionSettings};

/// How soon acknowledgements refused by a full request channel are tried again.
const ACK_RETRY: Duration = Duration::from_millis(2);
/// The longest wait, when leaving, for owed acknowledgements and DISCONNECT to go out.
const SETTLE_LIMIT: Duration = Duration::from_secs(2);
/// Room in the channel to watch: a burst waits here, not in the broker.
const INPUT_CAPACITY: usize = 4096;

/// What watch receives.
#[derive(Debug)]
pub enum WatchInput {
    /// A push (any payload) and when it arrived.
    Push {
        /// The payload as received.
        payload: Bytes,
        /// When it arrived.
        received_at: Instant,
        /// Hand this back once the push is in the model.
        ack: AckToken,
    },
    /// The connection changed state.
    Connection(Connection),
    /// The session ended for good (a push too large, the session task gone).
    Failed(Error),
}

/// Proof that a push was taken, to be acknowledged (QoS 1) by the feed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AckToken(Option<(u64, u16)>);

impl AckToken {
    /// A token that acknowledges nothing (QoS 0, or inputs made up by tests).
    #[must_use]
    pub fn none() -> Self {
        AckToken(None)
    }
}

/// What the feed needs to open the session.
#[derive(Debug, Clone)]
pub struct FeedSettings {
    /// Broker, credentials, clientId.
    pub session: SessionSettings,
    /// The topic to subscribe to.
    pub topic: String,
    /// The QoS asked for.
    pub qos: Qos,
}

/// A running feed: its inputs, and the way back for acknowledgements.
#[derive(Debug)]
pub struct Feed {
    /// What the session delivers, in order.
    pub inputs: mpsc::Receiver<WatchInput>,
    acks: mpsc::UnboundedSender<AckToken>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

impl Feed {
    /// Starts the session and the task that adapts it. Must be called within a tokio runtime.
    #[must_use]
    pub fn start(settings: FeedSettings) -> Feed {
        let backoff = Backoff::new(Duration::from_millis(500), Duration::from_secs(30));
        let (client, events) = mqtt::start_session(&settings.session, backoff);
        let (tx, inputs) = mpsc::channel(INPUT_CAPACITY);
        let (acks, ack_rx) = mpsc::unbounded_channel();
        let (stop, stop_rx) = tokio::sync::oneshot::channel();
        let adapter = Adapter {
            settings,
            client,
            acks: Acks::default(),
            generation: 0,
            tx,
        };
        let task = tokio::spawn(adapter.run(events, ack_rx, stop_rx));
        Feed {
            inputs,
            acks,
            stop: Some(stop),
            task,
        }
    }

    /// Acknowledges a push that is now in the model.
    pub fn acknowledge(&self, token: AckToken) {
        if token.0.is_some() {
            // The task gone means the session is over: nothing left to acknowledge.
            let _ = self.acks.send(token);
        }
    }

    /// Sends what is owed, disconnects, and waits (bounded) for the task to end.
    pub async fn close(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = tokio::time::timeout(SETTLE_LIMIT * 2, &mut self.task).await;
        self.task.abort();
    }
}

struct Adapter {
    settings: FeedSettings,
    client: AsyncClient,
    acks: Acks,
    /// Counts connections, so tokens from an earlier one are known as stale.
    generation: u64,
    tx: mpsc::Sender<WatchInput>,
}

impl Adapter {
    async fn run(
        mut self,
        mut events: mpsc::Receiver<SessionEvent>,
        mut ack_rx: mpsc::UnboundedReceiver<AckToken>,
        mut stop: tokio::sync::oneshot::Receiver<()>,
    ) {
        loop {
            tokio::select! {
                biased;
                _ = &mut stop => break,
                Some(token) = ack_rx.recv() => {
                    self.take_token(token);
                    while let Ok(token) = ack_rx.try_recv() {
                        self.take_token(token);
                    }
                    self.acks.flushed();
                    self.acks.send(&self.client);
                }
                () = tokio::time::sleep(ACK_RETRY), if self.acks.owed() > 0 => {
                    self.acks.send(&self.client);
                }
                event = events.recv() => {
                    let Some(event) = event else {
                        let _ = self.tx.send(WatchInput::Failed(Error::new(
                            ExitKind::Network,
                            "the MQTT session ended unexpectedly",
                        ))).await;
                        return;
                    };
                    if !self.handle(event).await {
                        return;
                    }
                }
            }
        }
        self.settle(&mut events, &mut ack_rx).await;
    }

    fn take_token(&mut self, token: AckToken) {
        if let AckToken(Some((generation, pkid))) = token {
            if generation == self.generation {
                let mut probe = Publish::new("", QoS::AtLeastOnce, Vec::new());
                probe.pkid = pkid;
                self.acks.written(&probe);
            }
        }
    }

    /// Handles one session event; false when the session is over.
    async fn handle(&mut self, event: SessionEvent) -> bool {
        let input = match event {
            SessionEvent::Connected { .. } => {
                self.generation += 1;
                self.acks.forget();
                let qos = if self.settings.qos == Qos::AtMostOnce {
                    QoS::AtMostOnce
                } else {
                    QoS::AtLeastOnce
                };
                if let Err(err) = self.client.try_subscribe(self.settings.topic.clone(), qos) {
                    let error = Error::new(ExitKind::Network, format!("cannot subscribe: {err}"));
                    let _ = self.tx.send(WatchInput::Failed(error)).await;
                    return false;
                }
                WatchInput::Connection(Connection::Connected)
            }
            SessionEvent::Subscribed(codes) => match codes.first() {
                Some(SubscribeReasonCode::Success(_)) => return true,
                _ => WatchInput::Connection(Connection::Refused {
                    reason: format!(
                        "the broker refused the subscription to {}",
                        self.settings.topic
                    ),
                }),
            },
            SessionEvent::Message(publish) => {
                let ack = if publish.qos == QoS::AtMostOnce {
                    AckToken::none()
                } else {
                    AckToken(Some((self.generation, publish.pkid)))
                };
                WatchInput::Push {
                    payload: publish.payload,
                    received_at: Instant::now(),
                    ack,
                }
            }
            SessionEvent::Lost { error, retry_in } => {
                self.acks.forget();
                WatchInput::Connection(Connection::Reconnecting {
                    reason: format!(
                        "{}; retrying in {:.1}s",
                        error.message(),
                        retry_in.as_secs_f64()
                    ),
                })
            }
            SessionEvent::Refused(code) => {
                let _ = self
                    .tx
                    .send(WatchInput::Connection(Connection::Refused {
                        reason: mqtt::refused(code).message().to_owned(),
                    }))
                    .await;
                return false;
            }
            SessionEvent::TooLarge { size } => WatchInput::Failed(Error::new(
                ExitKind::Network,
                format!(
                    "a push of {} arrived, over --max-payload ({})",
                    mqtt::size_words(size),
                    mqtt::size_words(self.settings.session.max_payload)
                ),
            )),
            SessionEvent::Closed => return false,
        };
        let last = matches!(input, WatchInput::Failed(_));
        self.tx.send(input).await.is_ok() && !last
    }

    /// Hands over owed acknowledgements (and those still on their way), then DISCONNECT,
    /// and waits for it to be written, within [`SETTLE_LIMIT`].
    async fn settle(
        &mut self,
        events: &mut mpsc::Receiver<SessionEvent>,
        ack_rx: &mut mpsc::UnboundedReceiver<AckToken>,
    ) {
        while let Ok(token) = ack_rx.try_recv() {
            self.take_token(token);
        }
        self.acks.flushed();
        let give_up = tokio::time::Instant::now() + SETTLE_LIMIT;
        let mut disconnecting = false;
        loop {
            self.acks.send(&self.client);
            if !disconnecting && self.acks.owed() == 0 {
                disconnecting = self.client.try_disconnect().is_ok();
            }
            let event = tokio::select! {
                event = events.recv() => event,
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
}
