//! MQTT 3.1.1 packets as the subscriber needs them: CONNECT and SUBSCRIBE written with
//! rumqttc's `mqttbytes` types, everything small written by hand, and incoming frames cut out
//! of the read buffer without copying — a PUBLISH is a view of the bytes it came in.
//!
//! It exists so a push costs no allocation between the socket and the output: the topic and
//! payload are borrowed from the buffer the socket filled. What it must never do: trust a
//! length it has not checked, or panic on any bytes.

use bytes::BytesMut;
use rumqttc::mqttbytes::v4::{Connect, Subscribe};
use rumqttc::mqttbytes::QoS;

/// PINGREQ.
pub const PINGREQ: [u8; 2] = [0xC0, 0x00];
/// DISCONNECT.
pub const DISCONNECT: [u8; 2] = [0xE0, 0x00];

/// The packet id of the subscription (the only one this client sends).
pub const SUBSCRIBE_PKID: u16 = 1;

/// Appends a PUBACK for `pkid`.
pub fn puback(out: &mut Vec<u8>, pkid: u16) {
    let [hi, lo] = pkid.to_be_bytes();
    out.extend_from_slice(&[0x40, 0x02, hi, lo]);
}

/// The CONNECT packet.
///
/// # Errors
///
/// The encoder's words when a field is too long for MQTT.
pub fn connect(
    client_id: &str,
    username: &str,
    password: &str,
    keep_alive_secs: u16,
    clean_session: bool,
) -> Result<Vec<u8>, String> {
    let mut packet = Connect::new(client_id);
    packet.keep_alive = keep_alive_secs;
    packet.clean_session = clean_session;
    packet.set_login(username, password);
    let mut out = BytesMut::new();
    packet.write(&mut out).map_err(|e| format!("{e:?}"))?;
    Ok(out.to_vec())
}

/// The SUBSCRIBE packet for one topic.
///
/// # Errors
///
/// The encoder's words when the topic is too long for MQTT.
pub fn subscribe(topic: &str, qos: QoS) -> Result<Vec<u8>, String> {
    let mut packet = Subscribe::new(topic, qos);
    packet.pkid = SUBSCRIBE_PKID;
    let mut out = BytesMut::new();
    packet.write(&mut out).map_err(|e| format!("{e:?}"))?;
    Ok(out.to_vec())
}

/// Why bytes do not frame as MQTT.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FrameError {
    /// The remaining length is over the limit (`--max-payload`).
    TooLarge {
        /// The announced remaining length.
        size: usize,
    },
    /// The bytes are not MQTT.
    Malformed(&'static str),
}

/// One complete packet in the buffer: its first byte and where its body lies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Frame {
    /// The fixed header's first byte (type and flags).
    pub header: u8,
    /// Offset of the body (after the remaining length).
    pub body_start: usize,
    /// Offset after the packet.
    pub end: usize,
}

impl Frame {
    /// The packet type (upper four bits).
    #[must_use]
    pub fn kind(&self) -> u8 {
        self.header >> 4
    }
}

/// Packet types the client receives.
pub mod kind {
    /// CONNACK
    pub const CONNACK: u8 = 2;
    /// PUBLISH
    pub const PUBLISH: u8 = 3;
    /// PUBACK
    pub const PUBACK: u8 = 4;
    /// SUBACK
    pub const SUBACK: u8 = 9;
    /// UNSUBACK
    pub const UNSUBACK: u8 = 11;
    /// PINGRESP
    pub const PINGRESP: u8 = 13;
}

/// The frame starting at `at` in `buf`: `Ok(None)` when more bytes are needed, with the
/// total length of the packet when it is known (so the buffer can grow once).
///
/// # Errors
///
/// A remaining length over `max` or one that is not a valid variable-length integer.
pub fn next_frame(
    buf: &[u8],
    at: usize,
    max: usize,
) -> Result<Result<Frame, Option<usize>>, FrameError> {
    let bytes = &buf[at.min(buf.len())..];
    let Some(&header) = bytes.first() else {
        return Ok(Err(None));
    };
    let mut remaining: usize = 0;
    let mut shift = 0;
    let mut i = 1;
    loop {
        let Some(&byte) = bytes.get(i) else {
            return Ok(Err(None));
        };
        remaining |= usize::from(byte & 0x7F) << shift;
        i += 1;
        if byte & 0x80 == 0 {
            break;
        }
        shift += 7;
        if shift > 21 {
            return Err(FrameError::Malformed(
                "a remaining length longer than 4 bytes",
            ));
        }
    }
    if remaining > max {
        return Err(FrameError::TooLarge { size: remaining });
    }
    let total = i + remaining;
    if bytes.len() < total {
        return Ok(Err(Some(total)));
    }
    Ok(Ok(Frame {
        header,
        body_start: at + i,
        end: at + total,
    }))
}

/// A PUBLISH, borrowed from the read buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Publish<'a> {
    /// The topic bytes (UTF-8 per MQTT; not checked here).
    pub topic: &'a [u8],
    /// The payload.
    pub payload: &'a [u8],
    /// Delivery QoS (0, 1 or 2).
    pub qos: u8,
    /// Packet id (0 for QoS 0).
    pub pkid: u16,
    /// Retain flag.
    pub retain: bool,
    /// Duplicate flag.
    pub dup: bool,
}

/// Reads the PUBLISH `frame` of `buf`.
///
/// # Errors
///
/// What is wrong: a body too short for its topic or packet id, or QoS 3.
pub fn publish(buf: &[u8], frame: Frame) -> Result<Publish<'_>, &'static str> {
    let body = &buf[frame.body_start..frame.end];
    let qos = (frame.header >> 1) & 0x03;
    if qos == 3 {
        return Err("a PUBLISH with QoS 3");
    }
    let topic_len = match body {
        [hi, lo, ..] => usize::from(u16::from_be_bytes([*hi, *lo])),
        _ => return Err("a PUBLISH without a topic"),
    };
    let topic_end = 2 + topic_len;
    let (pkid, payload_start) = if qos == 0 {
        (0, topic_end)
    } else {
        match body.get(topic_end..topic_end + 2) {
            Some([hi, lo]) => (u16::from_be_bytes([*hi, *lo]), topic_end + 2),
            _ => return Err("a PUBLISH cut short"),
        }
    };
    let (Some(topic), Some(payload)) = (body.get(2..topic_end), body.get(payload_start..)) else {
        return Err("a PUBLISH cut short");
    };
    Ok(Publish {
        topic,
        payload,
        qos,
        pkid,
        retain: frame.header & 0x01 != 0,
        dup: frame.header & 0x08 != 0,
    })
}

/// A CONNACK's session-present flag and return code.
///
/// # Errors
///
/// A body that is not two bytes.
pub fn connack(buf: &[u8], frame: Frame) -> Result<(bool, u8), &'static str> {
    match &buf[frame.body_start..frame.end] {
        [flags, code] => Ok((flags & 0x01 != 0, *code)),
        _ => Err("a CONNACK of the wrong length"),
    }
}

/// A SUBACK's first return code (0, 1 or 2 granted, 0x80 refused).
///
/// # Errors
///
/// A body without a return code.
pub fn suback(buf: &[u8], frame: Frame) -> Result<u8, &'static str> {
    match &buf[frame.body_start..frame.end] {
        [_, _, code, ..] => Ok(*code),
        _ => Err("a SUBACK without a return code"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rumqttc::mqttbytes::v4::Publish as RumqttPublish;

    fn encoded(publish: &RumqttPublish) -> Vec<u8> {
        let mut out = BytesMut::new();
        publish.write(&mut out).expect("encode");
        out.to_vec()
    }

    #[test]
    fn a_publish_is_read_in_place_with_its_flags() {
        let mut sent =
            RumqttPublish::new("users/a/devices", QoS::AtLeastOnce, b"{\"a\":1}".to_vec());
        sent.pkid = 513;
        sent.dup = true;
        let mut buf = encoded(&sent);
        buf.extend_from_slice(&encoded(&RumqttPublish::new(
            "t",
            QoS::AtMostOnce,
            b"x".to_vec(),
        )));
        let first = next_frame(&buf, 0, 1024).expect("valid").expect("complete");
        let got = publish(&buf, first).expect("publish");
        assert_eq!(got.topic, b"users/a/devices");
        assert_eq!(got.payload, b"{\"a\":1}");
        assert_eq!(
            (got.qos, got.pkid, got.dup, got.retain),
            (1, 513, true, false)
        );
        let second = next_frame(&buf, first.end, 1024)
            .expect("valid")
            .expect("complete");
        let got = publish(&buf, second).expect("publish");
        assert_eq!(
            (got.topic, got.payload, got.qos, got.pkid),
            (&b"t"[..], &b"x"[..], 0, 0)
        );
        assert_eq!(second.end, buf.len());
        assert_eq!(next_frame(&buf, second.end, 1024), Ok(Err(None)));
    }

    #[test]
    fn a_partial_frame_says_how_long_it_will_be() {
        let buf = encoded(&RumqttPublish::new("t", QoS::AtMostOnce, vec![7; 300]));
        assert_eq!(next_frame(&buf[..1], 0, 1024), Ok(Err(None)));
        assert_eq!(next_frame(&buf[..10], 0, 1024), Ok(Err(Some(buf.len()))));
    }

    #[test]
    fn lengths_over_the_limit_and_bad_lengths_are_errors() {
        let buf = encoded(&RumqttPublish::new("t", QoS::AtMostOnce, vec![7; 300]));
        assert_eq!(
            next_frame(&buf, 0, 100),
            Err(FrameError::TooLarge { size: 303 })
        );
        assert!(matches!(
            next_frame(&[0x30, 0xFF, 0xFF, 0xFF, 0xFF, 0x01], 0, usize::MAX),
            Err(FrameError::Malformed(_))
        ));
    }

    #[test]
    fn short_bodies_are_malformed_not_panics() {
        for body in [&[][..], &[0][..], &[0, 5, b'a'][..]] {
            let mut buf = vec![0x32, body.len() as u8];
            buf.extend_from_slice(body);
            let frame = next_frame(&buf, 0, 1024).expect("valid").expect("complete");
            assert!(publish(&buf, frame).is_err(), "{body:?}");
        }
        let buf = [0x20, 0x01, 0x00];
        let frame = next_frame(&buf, 0, 1024).expect("valid").expect("complete");
        assert!(connack(&buf, frame).is_err());
    }

    #[test]
    fn small_packets_are_written_by_hand() {
        let mut out = Vec::new();
        puback(&mut out, 0x1234);
        assert_eq!(out, [0x40, 0x02, 0x12, 0x34]);
        let packet = subscribe("users/a/devices", QoS::AtLeastOnce).expect("subscribe");
        assert_eq!(packet[0], 0x82, "SUBSCRIBE has flags 0010");
        let packet = connect("a/x", "a", "secret", 30, false).expect("connect");
        assert_eq!(packet[0], 0x10);
    }
}
