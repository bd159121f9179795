//! Test harness for the emulator: an in-process emulator whose log events land in a channel,
//! a raw MQTT client for protocol-level cases, and a rumqttc subscriber for the happy paths.
//! Every wait is bounded by [`WAIT`].

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::{BufMut, BytesMut};
use rumqttc::mqttbytes::v4::{Connect, Packet, PubAck, Publish, Subscribe};
use rumqttc::mqttbytes::QoS;
use sensoro_mqtt::emulator::{AppConfig, Emulator, EmulatorConfig, EmulatorHandle, LogEvent};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::time::timeout;

/// The longest any single step of a test may wait.
pub const WAIT: Duration = Duration::from_secs(10);

pub const APP: &str = "foobar";
pub const SECRET: &str = "s3cret-foobar";
pub const OTHER_APP: &str = "otherapp";
pub const OTHER_SECRET: &str = "s3cret-other";

pub fn topic(app: &str) -> String {
    format!("users/{app}/devices")
}

/// A loopback config on a free port with two apps and no simulated devices.
pub fn config() -> EmulatorConfig {
    EmulatorConfig {
        bind: "127.0.0.1:0".parse().expect("loopback address"),
        apps: vec![
            AppConfig::new(APP, SECRET),
            AppConfig::new(OTHER_APP, OTHER_SECRET),
        ],
        devices: 0,
        interval: Duration::from_millis(20),
        ..EmulatorConfig::default()
    }
}

/// A running emulator and the events it logged.
pub struct Fixture {
    pub emulator: EmulatorHandle,
    pub addr: SocketAddr,
    events: mpsc::UnboundedReceiver<LogEvent>,
    seen: Vec<LogEvent>,
}

impl Fixture {
    pub async fn start(mut config: EmulatorConfig) -> Fixture {
        let (tx, events) = mpsc::unbounded_channel();
        config.log = Some(Arc::new(move |event: &LogEvent| {
            let _ = tx.send(event.clone());
        }));
        let emulator = Emulator::start(config).await.expect("emulator starts");
        let addr = emulator.local_addr();
        Fixture {
            emulator,
            addr,
            events,
            seen: Vec::new(),
        }
    }

    /// Waits for the first event (seen before or arriving) that `matches`.
    pub async fn expect_event(
        &mut self,
        what: &str,
        matches: impl Fn(&LogEvent) -> bool,
    ) -> LogEvent {
        if let Some(index) = self.seen.iter().position(&matches) {
            return self.seen.remove(index);
        }
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            match tokio::time::timeout_at(deadline, self.events.recv()).await {
                Ok(Some(event)) if matches(&event) => return event,
                Ok(Some(event)) => self.seen.push(event),
                _ => panic!("expected event: {what}\nseen instead: {:#?}", self.seen),
            }
        }
    }

    /// Every event logged so far and not yet matched.
    pub fn drain(&mut self) -> Vec<LogEvent> {
        let mut all = std::mem::take(&mut self.seen);
        while let Ok(event) = self.events.try_recv() {
            all.push(event);
        }
        all
    }

    pub async fn publish(&self, app: &str, payload: &str) {
        self.emulator
            .publish(app, payload.as_bytes().to_vec())
            .expect("known app");
    }

    pub async fn wait_for_subscribers(&self, count: usize) {
        timeout(WAIT, self.emulator.wait_for_subscribers(count))
            .await
            .unwrap_or_else(|_| panic!("{count} subscriber(s) never arrived"));
    }
}

/// A bare MQTT client on a TCP stream, for cases a real client library would not produce.
pub struct Raw {
    stream: TcpStream,
    buf: BytesMut,
}

/// CONNECT options for [`Raw::login`].
pub struct Login<'a> {
    pub client_id: &'a str,
    pub username: &'a str,
    pub password: &'a str,
    pub clean: bool,
    pub keep_alive: u16,
}

impl<'a> Login<'a> {
    pub fn new(client_id: &'a str) -> Self {
        Login {
            client_id,
            username: APP,
            password: SECRET,
            clean: true,
            keep_alive: 60,
        }
    }

    pub fn packet(&self) -> Packet {
        let mut connect = Connect::new(self.client_id);
        connect.clean_session = self.clean;
        connect.keep_alive = self.keep_alive;
        connect.set_login(self.username, self.password);
        Packet::Connect(connect)
    }
}

impl Raw {
    pub async fn open(addr: SocketAddr) -> Raw {
        let stream = timeout(WAIT, TcpStream::connect(addr))
            .await
            .expect("connect in time")
            .expect("tcp connect");
        Raw {
            stream,
            buf: BytesMut::new(),
        }
    }

    /// Connects and returns the CONNACK's (session present, return code).
    pub async fn login(addr: SocketAddr, login: &Login<'_>) -> (Raw, bool, u8) {
        let mut raw = Raw::open(addr).await;
        raw.send(&login.packet()).await;
        match raw.recv().await {
            Packet::ConnAck(ack) => (raw, ack.session_present, ack.code as u8),
            other => panic!("expected CONNACK, got {other:?}"),
        }
    }

    /// Connects with `login`, expecting acceptance.
    pub async fn connected(addr: SocketAddr, login: &Login<'_>) -> Raw {
        let (raw, _, code) = Raw::login(addr, login).await;
        assert_eq!(code, 0, "CONNACK return code for {}", login.client_id);
        raw
    }

    pub async fn send(&mut self, packet: &Packet) {
        let mut out = BytesMut::new();
        packet.write(&mut out, usize::MAX).expect("encodes");
        self.send_bytes(&out).await;
    }

    /// Sends `packet`, ignoring a connection the server already closed.
    pub async fn send_if_open(&mut self, packet: &Packet) {
        let mut out = BytesMut::new();
        packet.write(&mut out, usize::MAX).expect("encodes");
        let _ = timeout(WAIT, self.stream.write_all(&out))
            .await
            .expect("write in time");
    }

    pub async fn send_bytes(&mut self, bytes: &[u8]) {
        timeout(WAIT, self.stream.write_all(bytes))
            .await
            .expect("write in time")
            .expect("write");
    }

    /// The next packet, or `None` when the server closed the connection.
    pub async fn try_recv(&mut self) -> Option<Packet> {
        loop {
            match Packet::read(&mut self.buf, 1 << 20) {
                Ok(packet) => return Some(packet),
                Err(rumqttc::mqttbytes::Error::InsufficientBytes(_)) => {}
                Err(err) => panic!("server sent a malformed packet: {err}"),
            }
            let read = timeout(WAIT, self.stream.read_buf(&mut self.buf))
                .await
                .expect("the server answered or closed in time");
            match read {
                Ok(0) | Err(_) => return None,
                Ok(_) => {}
            }
        }
    }

    pub async fn recv(&mut self) -> Packet {
        self.try_recv().await.expect("connection still open")
    }

    /// Asserts that the server closes the connection (packets before the close are returned).
    pub async fn expect_closed(&mut self) -> Vec<Packet> {
        let mut before = Vec::new();
        while let Some(packet) = self.try_recv().await {
            before.push(packet);
        }
        before
    }

    /// Subscribes and returns the SUBACK return codes (0, 1 or 0x80).
    pub async fn subscribe(&mut self, filters: &[(&str, QoS)]) -> Vec<u8> {
        let mut subscribe = Subscribe::new(filters[0].0, filters[0].1);
        for (path, qos) in &filters[1..] {
            subscribe.add((*path).to_owned(), *qos);
        }
        subscribe.pkid = 7;
        self.send(&Packet::Subscribe(subscribe)).await;
        match self.recv().await {
            Packet::SubAck(ack) => {
                assert_eq!(ack.pkid, 7);
                ack.return_codes
                    .iter()
                    .map(|code| match code {
                        rumqttc::mqttbytes::v4::SubscribeReasonCode::Success(qos) => *qos as u8,
                        rumqttc::mqttbytes::v4::SubscribeReasonCode::Failure => 0x80,
                    })
                    .collect()
            }
            other => panic!("expected SUBACK, got {other:?}"),
        }
    }

    /// Asserts that nothing but the PINGRESP comes back: whatever was due has not been sent.
    pub async fn expect_nothing_pending(&mut self) {
        self.send(&Packet::PingReq).await;
        match self.recv().await {
            Packet::PingResp => {}
            other => panic!("expected only PINGRESP, got {other:?}"),
        }
    }
}

/// A CONNECT in MQTT 3.1 form (`MQIsdp`, level `level`), written by hand.
pub fn connect_31(level: u8, client_id: &str, username: &str, password: &str) -> Vec<u8> {
    let mut body = BytesMut::new();
    body.put_u16(6);
    body.put_slice(b"MQIsdp");
    body.put_u8(level);
    body.put_u8(0b1100_0010);
    body.put_u16(60);
    for field in [client_id, username, password] {
        body.put_u16(u16::try_from(field.len()).expect("short field"));
        body.put_slice(field.as_bytes());
    }
    let mut frame = vec![0x10, u8::try_from(body.len()).expect("short CONNECT")];
    frame.extend_from_slice(&body);
    frame
}

/// A rumqttc client subscribed to `topic` at `qos`, with its event loop driven until SUBACK.
pub async fn rumqttc_subscriber(
    addr: SocketAddr,
    app: &str,
    secret: &str,
    client_id: &str,
    qos: QoS,
) -> (rumqttc::AsyncClient, rumqttc::EventLoop) {
    let mut options = rumqttc::MqttOptions::new(client_id, addr.ip().to_string(), addr.port());
    options.set_credentials(app, secret);
    options.set_keep_alive(Duration::from_secs(30));
    let (client, mut eventloop) = rumqttc::AsyncClient::new(options, 16);
    client
        .subscribe(topic(app), qos)
        .await
        .expect("queue subscribe");
    timeout(WAIT, async {
        loop {
            match eventloop.poll().await {
                Ok(rumqttc::Event::Incoming(Packet::SubAck(_))) => break,
                Ok(_) => {}
                Err(err) => panic!("rumqttc failed before SUBACK: {err}"),
            }
        }
    })
    .await
    .expect("SUBACK in time");
    (client, eventloop)
}

/// The payloads of the next `count` pushes a rumqttc client receives.
pub async fn rumqttc_receive(eventloop: &mut rumqttc::EventLoop, count: usize) -> Vec<Vec<u8>> {
    timeout(WAIT, async {
        let mut payloads = Vec::with_capacity(count);
        while payloads.len() < count {
            match eventloop.poll().await {
                Ok(rumqttc::Event::Incoming(Packet::Publish(publish))) => {
                    payloads.push(publish.payload.to_vec());
                }
                Ok(_) => {}
                Err(err) => panic!("rumqttc failed after {} pushes: {err}", payloads.len()),
            }
        }
        payloads
    })
    .await
    .unwrap_or_else(|_| panic!("fewer than {count} pushes arrived in time"))
}

/// Receives `count` PUBLISHes on a raw client, acking QoS 1 ones.
pub async fn receive(raw: &mut Raw, count: usize) -> Vec<Publish> {
    let mut got = Vec::new();
    while got.len() < count {
        match raw.recv().await {
            Packet::Publish(publish) => {
                if publish.qos == QoS::AtLeastOnce {
                    raw.send(&Packet::PubAck(PubAck::new(publish.pkid))).await;
                }
                got.push(publish);
            }
            other => panic!("expected PUBLISH, got {other:?}"),
        }
    }
    got
}
