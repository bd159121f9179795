//! Bytes on the wire: framing, the CONNECT handshake for both MQTT 3.1 and 3.1.1, and
//! encoding of what the broker sends.
//!
//! rumqttc's public `mqttbytes::v4` types parse and write every MQTT 3.1.1 packet. MQTT 3.1
//! differs only in its CONNECT (protocol name `MQIsdp`, level 3): that one packet is rewritten
//! here into its 3.1.1 form and then parsed by the same code. Nothing here panics on input:
//! every length is checked, oversize packets are refused before they are buffered.

use bytes::BytesMut;
use rumqttc::mqttbytes::v4::Packet;
use rumqttc::mqttbytes::{self, PacketType};

use super::log::MqttVersion;

/// Why a packet could not be taken from the buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum FrameError {
    /// The packet announces more than the limit.
    TooLarge {
        /// Announced remaining length.
        size: usize,
        /// The limit.
        max: usize,
    },
    /// The bytes are no valid MQTT packet.
    Malformed(String),
}

impl std::fmt::Display for FrameError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FrameError::TooLarge { size, max } => {
                write!(f, "packet of {size} bytes is over the limit of {max}")
            }
            FrameError::Malformed(detail) => write!(f, "malformed packet: {detail}"),
        }
    }
}

fn framing_error(err: mqttbytes::Error, max: usize) -> FrameError {
    match err {
        mqttbytes::Error::PayloadSizeLimitExceeded(size) => FrameError::TooLarge { size, max },
        other => FrameError::Malformed(other.to_string()),
    }
}

/// A CONNECT as the broker needs it. The password stays bytes: MQTT 3.1.1 allows binary
/// passwords, and it is only ever compared with the AppSecret.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct ConnectRequest {
    pub(crate) client_id: String,
    pub(crate) clean_session: bool,
    pub(crate) keep_alive: u16,
    pub(crate) username: Option<String>,
    pub(crate) password: Option<Vec<u8>>,
}

impl std::fmt::Debug for ConnectRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectRequest")
            .field("client_id", &self.client_id)
            .field("clean_session", &self.clean_session)
            .field("keep_alive", &self.keep_alive)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "(redacted)"))
            .finish()
    }
}

/// The first packet of a connection, as far as the handshake cares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Handshake {
    /// A CONNECT in MQTT 3.1 or 3.1.1.
    Connect(ConnectRequest, MqttVersion),
    /// A CONNECT with a protocol name or level the platform does not speak.
    Unsupported {
        /// The name, lossily decoded.
        name: String,
        /// The level.
        level: u8,
    },
    /// Some other packet came first.
    NotConnect(PacketType),
}

/// Takes the first packet of a connection from `buf`, or `None` while it is incomplete.
pub(crate) fn next_handshake(
    buf: &mut BytesMut,
    max: usize,
) -> Result<Option<Handshake>, FrameError> {
    let header = match mqttbytes::check(buf.iter(), max) {
        Ok(header) => header,
        Err(mqttbytes::Error::InsufficientBytes(_)) => return Ok(None),
        Err(err) => return Err(framing_error(err, max)),
    };
    let packet_type = header
        .packet_type()
        .map_err(|err| FrameError::Malformed(err.to_string()))?;
    let frame = buf.split_to(header.frame_length());
    if packet_type != PacketType::Connect {
        return Ok(Some(Handshake::NotConnect(packet_type)));
    }
    parse_connect(&frame).map(Some)
}

fn malformed(detail: &str) -> FrameError {
    FrameError::Malformed(detail.to_owned())
}

/// Reads MQTT's length-prefixed fields from a CONNECT body, never past its end.
struct Fields<'a> {
    rest: &'a [u8],
}

impl<'a> Fields<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], FrameError> {
        if self.rest.len() < n {
            return Err(malformed("CONNECT too short"));
        }
        let (head, tail) = self.rest.split_at(n);
        self.rest = tail;
        Ok(head)
    }

    fn u8(&mut self) -> Result<u8, FrameError> {
        Ok(self.take(1)?[0])
    }

    fn u16(&mut self) -> Result<u16, FrameError> {
        let bytes = self.take(2)?;
        Ok(u16::from_be_bytes([bytes[0], bytes[1]]))
    }

    fn binary(&mut self) -> Result<&'a [u8], FrameError> {
        let len = usize::from(self.u16()?);
        self.take(len)
    }

    fn text(&mut self, what: &str) -> Result<String, FrameError> {
        let bytes = self.binary()?;
        String::from_utf8(bytes.to_vec())
            .map_err(|_| FrameError::Malformed(format!("CONNECT {what} is not UTF-8")))
    }
}

/// Parses a whole CONNECT frame, whichever of the two versions it is, and checks its flags
/// the way MQTT 3.1.1 (section 3.1.2) says a server must.
fn parse_connect(frame: &[u8]) -> Result<Handshake, FrameError> {
    let body_start = fixed_header_len(frame).ok_or_else(|| malformed("CONNECT too short"))?;
    if frame.first().is_some_and(|first| first & 0x0f != 0) {
        return Err(malformed("CONNECT with fixed-header flags set"));
    }
    let mut fields = Fields {
        rest: frame.get(body_start..).unwrap_or_default(),
    };
    let name = fields.binary()?;
    let level = fields.u8()?;
    let version = match (name, level) {
        (b"MQTT", 4) => MqttVersion::V311,
        (b"MQIsdp", 3) => MqttVersion::V31,
        _ => {
            let name = String::from_utf8_lossy(name).into_owned();
            return Ok(Handshake::Unsupported { name, level });
        }
    };
    let flags = fields.u8()?;
    if flags & 0x01 != 0 {
        return Err(malformed("CONNECT reserved flag is set"));
    }
    let will = flags & 0x04 != 0;
    let (will_qos, will_retain) = ((flags >> 3) & 0x03, flags & 0x20 != 0);
    if will_qos == 3 || (!will && (will_qos != 0 || will_retain)) {
        return Err(malformed("CONNECT will flags are inconsistent"));
    }
    let (has_username, has_password) = (flags & 0x80 != 0, flags & 0x40 != 0);
    if version == MqttVersion::V311 && has_password && !has_username {
        return Err(malformed("CONNECT has a password without a username"));
    }
    let keep_alive = fields.u16()?;
    let client_id = fields.text("clientId")?;
    if will {
        fields.text("will topic")?;
        fields.binary()?;
    }
    let username = has_username.then(|| fields.text("username")).transpose()?;
    let password = has_password
        .then(|| fields.binary().map(<[u8]>::to_vec))
        .transpose()?;
    if !fields.rest.is_empty() {
        return Err(malformed("CONNECT has bytes after its payload"));
    }
    let connect = ConnectRequest {
        client_id,
        clean_session: flags & 0x02 != 0,
        keep_alive,
        username,
        password,
    };
    Ok(Handshake::Connect(connect, version))
}

/// Length of the fixed header (type byte and 1–4 length bytes) at the start of `frame`.
fn fixed_header_len(frame: &[u8]) -> Option<usize> {
    let length_bytes = frame.iter().skip(1).take(4).position(|b| b & 0x80 == 0)? + 1;
    Some(1 + length_bytes)
}

/// Takes the next complete packet from `buf`, or `None` while it is incomplete. A packet
/// MQTT 3.1.1 says the server must close the connection for is an error: wrong fixed-header
/// flags, SUBSCRIBE or UNSUBSCRIBE without topics, PUBLISH to an empty or wildcard topic.
pub(crate) fn next_packet(buf: &mut BytesMut, max: usize) -> Result<Option<Packet>, FrameError> {
    if let Some(&first) = buf.first() {
        check_header_flags(first)?;
    }
    match Packet::read(buf, max) {
        Ok(packet) => check_packet(&packet).map(|()| Some(packet)),
        Err(mqttbytes::Error::InsufficientBytes(_)) => Ok(None),
        Err(err) => Err(framing_error(err, max)),
    }
}

/// The reserved low four bits of the first byte (MQTT 3.1.1, 2.2.2).
fn check_header_flags(first: u8) -> Result<(), FrameError> {
    let (kind, flags) = (first >> 4, first & 0x0f);
    let ok = match kind {
        // PUBLISH: DUP, QoS and RETAIN are free, but QoS 3 does not exist.
        3 => (flags >> 1) & 0x03 != 3,
        // PUBREL, SUBSCRIBE, UNSUBSCRIBE.
        6 | 8 | 10 => flags == 0x02,
        _ => flags == 0,
    };
    if ok {
        Ok(())
    } else {
        Err(FrameError::Malformed(format!(
            "fixed-header flags {flags:#06b} are invalid for packet type {kind}"
        )))
    }
}

fn check_packet(packet: &Packet) -> Result<(), FrameError> {
    match packet {
        Packet::Subscribe(subscribe) if subscribe.filters.is_empty() => {
            Err(malformed("SUBSCRIBE without a topic filter"))
        }
        Packet::Unsubscribe(unsubscribe) if unsubscribe.topics.is_empty() => {
            Err(malformed("UNSUBSCRIBE without a topic"))
        }
        Packet::Publish(publish) if publish.topic.is_empty() => {
            Err(malformed("PUBLISH to an empty topic"))
        }
        Packet::Publish(publish) if publish.topic.contains(['+', '#']) => {
            Err(malformed("PUBLISH to a topic with a wildcard"))
        }
        _ => Ok(()),
    }
}

/// Appends `packet` to the outgoing buffer. Only fails for a payload over MQTT's 256 MB.
pub(crate) fn write_packet(out: &mut BytesMut, packet: &Packet) -> Result<(), String> {
    packet
        .write(out, usize::MAX)
        .map(|_| ())
        .map_err(|err| err.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::BufMut;
    use proptest::prelude::*;

    /// MQTT's variable-length integer. `len` is bounded by the caller's packet limit.
    fn put_remaining_length(out: &mut BytesMut, mut len: usize) {
        loop {
            // The low 7 bits: the cast keeps exactly them.
            let mut byte = (len % 128) as u8;
            len /= 128;
            if len > 0 {
                byte |= 0x80;
            }
            out.put_u8(byte);
            if len == 0 {
                break;
            }
        }
    }

    /// A CONNECT as a 3.1 client (MQIsdp/3) writes it.
    fn connect_31(client_id: &str, user: &str, pass: &str) -> BytesMut {
        let mut body = BytesMut::new();
        body.put_slice(&[0, 6]);
        body.put_slice(b"MQIsdp");
        body.put_u8(3);
        body.put_u8(0b1100_0010);
        body.put_u16(30);
        for field in [client_id, user, pass] {
            body.put_u16(u16::try_from(field.len()).unwrap_or(u16::MAX));
            body.put_slice(field.as_bytes());
        }
        let mut frame = BytesMut::new();
        frame.put_u8(0x10);
        put_remaining_length(&mut frame, body.len());
        frame.put_slice(&body);
        frame
    }

    #[test]
    fn mqtt_31_connect_is_read_like_311() {
        let mut buf = connect_31("app/x", "app", "secret");
        let got = next_handshake(&mut buf, 1024)
            .expect("parses")
            .expect("complete");
        let Handshake::Connect(connect, version) = got else {
            panic!("expected a CONNECT, got {got:?}");
        };
        assert_eq!(version, MqttVersion::V31);
        assert_eq!(connect.client_id, "app/x");
        assert_eq!(connect.keep_alive, 30);
        assert!(connect.clean_session);
        assert_eq!(connect.username.as_deref(), Some("app"));
        assert_eq!(connect.password.as_deref(), Some(&b"secret"[..]));
        assert!(buf.is_empty());
    }

    #[test]
    fn mqtt_311_connect_round_trips() {
        let mut connect = rumqttc::mqttbytes::v4::Connect::new("app/y");
        connect.set_login("app", "pw");
        connect.last_will = Some(rumqttc::mqttbytes::v4::LastWill::new(
            "t",
            "bye",
            rumqttc::mqttbytes::QoS::AtLeastOnce,
            false,
        ));
        let mut buf = BytesMut::new();
        write_packet(&mut buf, &Packet::Connect(connect)).expect("writes");
        let got = next_handshake(&mut buf, 1024).expect("parses");
        let expected = ConnectRequest {
            client_id: "app/y".to_owned(),
            clean_session: true,
            keep_alive: 10,
            username: Some("app".to_owned()),
            password: Some(b"pw".to_vec()),
        };
        assert_eq!(got, Some(Handshake::Connect(expected, MqttVersion::V311)));
    }

    #[test]
    fn connect_password_is_debugged_redacted() {
        let connect = ConnectRequest {
            client_id: "a".to_owned(),
            clean_session: true,
            keep_alive: 0,
            username: None,
            password: Some(b"hunter2".to_vec()),
        };
        assert!(!format!("{connect:?}").contains("hunter2"));
    }

    #[test]
    fn reserved_header_flags_are_malformed() {
        for first in [0x80u8, 0xa0, 0x60, 0x42, 0xc1, 0xe1, 0x36] {
            let mut buf = BytesMut::from(&[first, 0][..]);
            assert!(
                matches!(next_packet(&mut buf, 1024), Err(FrameError::Malformed(_))),
                "{first:#04x}"
            );
        }
    }

    #[test]
    fn other_levels_are_unsupported() {
        let mut buf =
            BytesMut::from(&[0x10, 10, 0, 4, b'M', b'Q', b'T', b'T', 5, 2, 0, 60, 0, 0][..]);
        let got = next_handshake(&mut buf, 1024).expect("parses");
        assert_eq!(
            got,
            Some(Handshake::Unsupported {
                name: "MQTT".to_owned(),
                level: 5
            })
        );
    }

    #[test]
    fn incomplete_connect_waits_for_more() {
        let full = connect_31("app", "app", "pw");
        for cut in 0..full.len() {
            let mut buf = BytesMut::from(&full[..cut]);
            assert_eq!(next_handshake(&mut buf, 1024), Ok(None), "cut at {cut}");
        }
    }

    #[test]
    fn oversize_packet_is_refused_from_its_header() {
        let mut buf = BytesMut::from(&[0x30, 0xff, 0xff, 0x03][..]);
        assert_eq!(
            next_packet(&mut buf, 1000),
            Err(FrameError::TooLarge {
                size: 65535,
                max: 1000
            })
        );
    }

    #[test]
    fn long_remaining_length_round_trips_through_the_31_rewrite() {
        let mut buf = connect_31(&format!("app/{}", "a".repeat(30)), "app", &"p".repeat(200));
        let got = next_handshake(&mut buf, 4096)
            .expect("parses")
            .expect("complete");
        assert!(
            matches!(got, Handshake::Connect(_, MqttVersion::V31)),
            "{got:?}"
        );
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let mut buf = BytesMut::from(&bytes[..]);
            let _ = next_handshake(&mut buf, 256);
            let mut buf = BytesMut::from(&bytes[..]);
            for _ in 0..300 {
                match next_packet(&mut buf, 256) {
                    Ok(Some(_)) => {}
                    _ => break,
                }
            }
        }

        #[test]
        fn connect_with_arbitrary_tail_never_panics(
            tail in proptest::collection::vec(any::<u8>(), 0..100),
            level in any::<u8>(),
        ) {
            let mut frame = BytesMut::new();
            frame.put_u8(0x10);
            put_remaining_length(&mut frame, 9 + tail.len());
            frame.put_slice(&[0, 6]);
            frame.put_slice(b"MQIsdp");
            frame.put_u8(level);
            frame.put_slice(&tail);
            let _ = next_handshake(&mut frame, 4096);
        }
    }
}
