//! Bytes on the wire: framing, the CONNECT handshake for both MQTT 3.1 and 3.1.1, and
//! encoding of what the broker sends.
//!
//! rumqttc's public `mqttbytes::v4` types parse and write every MQTT 3.1.1 packet. MQTT 3.1
//! differs only in its CONNECT (protocol name `MQIsdp`, level 3): that one packet is rewritten
//! here into its 3.1.1 form and then parsed by the same code. Nothing here panics on input:
//! every length is checked, oversize packets are refused before they are buffered.

use bytes::{BufMut, BytesMut};
use rumqttc::mqttbytes::v4::{Connect, Packet};
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

/// The first packet of a connection, as far as the handshake cares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Handshake {
    /// A CONNECT in MQTT 3.1 or 3.1.1.
    Connect(Connect, MqttVersion),
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
    parse_connect(frame, max).map(Some)
}

/// Parses a whole CONNECT frame, whichever of the two versions it is.
fn parse_connect(frame: BytesMut, max: usize) -> Result<Handshake, FrameError> {
    let short = || FrameError::Malformed("CONNECT too short".to_owned());
    let body_start = fixed_header_len(&frame).ok_or_else(short)?;
    let body = frame.get(body_start..).ok_or_else(short)?;
    let name_len = usize::from(u16::from_be_bytes([
        *body.first().ok_or_else(short)?,
        *body.get(1).ok_or_else(short)?,
    ]));
    let name = body.get(2..2 + name_len).ok_or_else(short)?;
    let level = *body.get(2 + name_len).ok_or_else(short)?;
    let (frame, version) = match (name, level) {
        (b"MQTT", 4) => (frame, MqttVersion::V311),
        (b"MQIsdp", 3) => (as_mqtt_311(&body[2 + name_len + 1..]), MqttVersion::V31),
        _ => {
            let name = String::from_utf8_lossy(name).into_owned();
            return Ok(Handshake::Unsupported { name, level });
        }
    };
    let mut frame = frame;
    match Packet::read(&mut frame, max) {
        Ok(Packet::Connect(connect)) => Ok(Handshake::Connect(connect, version)),
        Ok(_) => Err(FrameError::Malformed("not a CONNECT".to_owned())),
        Err(err) => Err(FrameError::Malformed(err.to_string())),
    }
}

/// Rebuilds a 3.1 CONNECT as the 3.1.1 CONNECT it is equivalent to: same flags, keep-alive
/// and payload (`after_level`), protocol `MQTT` level 4.
fn as_mqtt_311(after_level: &[u8]) -> BytesMut {
    const HEAD: &[u8] = &[0, 4, b'M', b'Q', b'T', b'T', 4];
    let remaining = HEAD.len() + after_level.len();
    let mut out = BytesMut::with_capacity(remaining + 5);
    out.put_u8(0x10);
    put_remaining_length(&mut out, remaining);
    out.put_slice(HEAD);
    out.put_slice(after_level);
    out
}

/// Length of the fixed header (type byte and 1–4 length bytes) at the start of `frame`.
fn fixed_header_len(frame: &[u8]) -> Option<usize> {
    let length_bytes = frame.iter().skip(1).take(4).position(|b| b & 0x80 == 0)? + 1;
    Some(1 + length_bytes)
}

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

/// Takes the next complete packet from `buf`, or `None` while it is incomplete.
pub(crate) fn next_packet(buf: &mut BytesMut, max: usize) -> Result<Option<Packet>, FrameError> {
    match Packet::read(buf, max) {
        Ok(packet) => Ok(Some(packet)),
        Err(mqttbytes::Error::InsufficientBytes(_)) => Ok(None),
        Err(err) => Err(framing_error(err, max)),
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
    use proptest::prelude::*;

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
        let login = connect.login.expect("login");
        assert_eq!(
            (login.username.as_str(), login.password.as_str()),
            ("app", "secret")
        );
        assert!(buf.is_empty());
    }

    #[test]
    fn mqtt_311_connect_round_trips() {
        let mut connect = Connect::new("app/y");
        connect.set_login("app", "pw");
        let mut buf = BytesMut::new();
        write_packet(&mut buf, &Packet::Connect(connect.clone())).expect("writes");
        let got = next_handshake(&mut buf, 1024).expect("parses");
        assert_eq!(got, Some(Handshake::Connect(connect, MqttVersion::V311)));
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
