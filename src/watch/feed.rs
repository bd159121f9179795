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
use rumqttc::mqttbytes::QoS;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::model::Connection;
use crate::config::Qos;
use crate::error::{Error, ExitKind};
use crate::mqtt::session::{self, Event, Session, SessionEnd};
use crate::mqtt::{self, Backoff, SessionSettings};

/// The longest wait, when leaving, for owed acknowledgements and DISCONNECT to go out.
const SETTLE_LIMIT: Duration = Duration::from_secs(2);
/// Room in the channel to watch: a burst waits here, not in the broker.
const INPUT_CAPACITY: usize = 64;

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
    /// The pushes of one read from the socket, in one buffer: fewer copies and channel
    /// messages than one input each.
    Pushes(Pushes),
    /// The connection changed state.
    Connection(Connection),
    /// The session ended for good (a push too large, the session task gone).
    Failed(Error),
}

/// Several pushes that arrived together.
#[derive(Debug)]
pub struct Pushes {
    /// The payloads one after another.
    pub payloads: Bytes,
    /// Where each payload ends in `payloads`.
    pub ends: Vec<usize>,
    /// One token per payload, to hand back once it is in the model.
    pub acks: Vec<AckToken>,
    /// When they arrived.
    pub received_at: Instant,
}

impl Pushes {
    /// Each payload with its token, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], AckToken)> + '_ {
        let starts = std::iter::once(0).chain(self.ends.iter().copied());
        starts
            .zip(self.ends.iter().copied())
            .zip(self.acks.iter().copied())
            .map(|((start, end), ack)| (self.payloads.get(start..end).unwrap_or_default(), ack))
    }
}

/// Proof that a push was taken, to be acknowledged (QoS 1) by the feed. It is valid on the
/// connection the push came on only (the session drops it otherwise).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AckToken(Option<session::AckToken>);

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
    acks: mpsc::UnboundedSender<Vec<AckToken>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

impl Feed {
    /// Starts the session and the task that adapts it. Must be called within a tokio runtime.
    #[must_use]
    pub fn start(settings: FeedSettings) -> Feed {
        let backoff = Backoff::new(Duration::from_millis(500), Duration::from_secs(30));
        let qos = if settings.qos == Qos::AtMostOnce {
            QoS::AtMostOnce
        } else {
            QoS::AtLeastOnce
        };
        let max_payload = settings.session.max_payload;
        let session = Session::new(settings.session, settings.topic.clone(), qos, backoff);
        let (tx, inputs) = mpsc::channel(INPUT_CAPACITY);
        let (acks, ack_rx) = mpsc::unbounded_channel();
        let (stop, stop_rx) = tokio::sync::oneshot::channel();
        let adapter = Adapter {
            topic: settings.topic,
            max_payload,
            session,
            tx,
        };
        let task = tokio::spawn(adapter.run(ack_rx, stop_rx));
        Feed {
            inputs,
            acks,
            stop: Some(stop),
            task,
        }
    }

    /// Acknowledges pushes that are now in the model, in their order.
    pub fn acknowledge(&self, tokens: Vec<AckToken>) {
        if tokens.iter().any(|token| token.0.is_some()) {
            // The task gone means the session is over: nothing left to acknowledge.
            let _ = self.acks.send(tokens);
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
    topic: String,
    max_payload: usize,
    session: Session,
    tx: mpsc::Sender<WatchInput>,
}

impl Adapter {
    async fn run(
        mut self,
        mut ack_rx: mpsc::UnboundedReceiver<Vec<AckToken>>,
        mut stop: tokio::sync::oneshot::Receiver<()>,
    ) {
        loop {
            tokio::select! {
                biased;
                _ = &mut stop => break,
                Some(tokens) = ack_rx.recv() => {
                    self.take(tokens);
                    while let Ok(tokens) = ack_rx.try_recv() {
                        self.take(tokens);
                    }
                }
                event = self.session.next() => {
                    let inputs = match event {
                        Ok(event) => inputs_of(event, &self.topic),
                        Err(end) => vec![ended(end, self.max_payload)],
                    };
                    let last = inputs.iter().any(|i| matches!(
                        i,
                        WatchInput::Failed(_) | WatchInput::Connection(Connection::Refused { .. })
                    ));
                    for input in inputs {
                        if self.tx.send(input).await.is_err() {
                            return;
                        }
                    }
                    if last {
                        return;
                    }
                }
            }
            self.session.flush().await;
        }
        self.settle(&mut ack_rx).await;
    }

    fn take(&mut self, tokens: Vec<AckToken>) {
        for token in tokens {
            if let AckToken(Some(token)) = token {
                self.session.ack(token);
            }
        }
    }

    /// Hands over owed acknowledgements (and those still on their way), then DISCONNECT,
    /// within [`SETTLE_LIMIT`].
    async fn settle(&mut self, ack_rx: &mut mpsc::UnboundedReceiver<Vec<AckToken>>) {
        while let Ok(tokens) = ack_rx.try_recv() {
            self.take(tokens);
        }
        let _ = tokio::time::timeout(SETTLE_LIMIT, self.session.disconnect()).await;
    }
}

/// What watch is told of one session event.
fn inputs_of(event: Event<'_>, topic: &str) -> Vec<WatchInput> {
    match event {
        Event::Connected { .. } => vec![WatchInput::Connection(Connection::Connected)],
        Event::Subscribed { granted: Some(_) } => Vec::new(),
        Event::Subscribed { granted: None } => vec![WatchInput::Connection(Connection::Refused {
            reason: format!("the broker refused the subscription to {topic}"),
        })],
        Event::Messages(messages) => {
            let received_at = Instant::now();
            let mut payloads = Vec::new();
            let mut ends = Vec::new();
            let mut acks = Vec::new();
            for message in messages {
                payloads.extend_from_slice(message.publish.payload);
                ends.push(payloads.len());
                acks.push(AckToken(message.ack));
            }
            if ends.is_empty() {
                return Vec::new();
            }
            vec![WatchInput::Pushes(Pushes {
                payloads: Bytes::from(payloads),
                ends,
                acks,
                received_at,
            })]
        }
        Event::Lost {
            error, retry_in, ..
        } => vec![WatchInput::Connection(Connection::Reconnecting {
            reason: format!(
                "{}; retrying in {:.1}s",
                error.message(),
                retry_in.as_secs_f64()
            ),
        })],
    }
}

/// The session ended for good.
fn ended(end: SessionEnd, max_payload: usize) -> WatchInput {
    match end {
        SessionEnd::Refused(code) => WatchInput::Connection(Connection::Refused {
            reason: mqtt::refused(code).message().to_owned(),
        }),
        SessionEnd::TooLarge(size) => WatchInput::Failed(Error::new(
            ExitKind::Network,
            format!(
                "a push of {} arrived, over --max-payload ({})",
                mqtt::size_words(size),
                mqtt::size_words(max_payload)
            ),
        )),
    }
}
