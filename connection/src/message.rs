//! The RFC 4254 messages (numbers 80..=100) as borrowed structs: parse and encode.
//!
//! Type-specific data (of a `CHANNEL_OPEN` or a `CHANNEL_REQUEST`) stays raw here; the
//! [`crate::open`] and [`crate::request`] modules parse it.

use sisu_wire::msg::*;
use sisu_wire::{Reader, WireError, Writer};

/// One connection protocol message, borrowing from the payload it was parsed from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message<'a> {
    /// `SSH_MSG_GLOBAL_REQUEST` (RFC 4254 §4).
    GlobalRequest {
        /// Request name, e.g. `keepalive@openssh.com`.
        name: &'a str,
        /// Whether the sender waits for a reply.
        want_reply: bool,
        /// Request-specific data.
        data: &'a [u8],
    },
    /// `SSH_MSG_REQUEST_SUCCESS`, with response-specific data.
    RequestSuccess {
        /// Response-specific data (may be empty).
        data: &'a [u8],
    },
    /// `SSH_MSG_REQUEST_FAILURE`.
    RequestFailure,
    /// `SSH_MSG_CHANNEL_OPEN` (RFC 4254 §5.1).
    ChannelOpen {
        /// Channel type, e.g. `session`.
        kind: &'a str,
        /// The sender's channel number.
        sender: u32,
        /// The sender's initial window size.
        initial_window: u32,
        /// The largest data packet the sender accepts.
        max_packet: u32,
        /// Channel-type-specific data.
        data: &'a [u8],
    },
    /// `SSH_MSG_CHANNEL_OPEN_CONFIRMATION`.
    ChannelOpenConfirmation {
        /// The channel number of the side that asked to open.
        recipient: u32,
        /// The confirming side's channel number.
        sender: u32,
        /// The confirming side's initial window size.
        initial_window: u32,
        /// The largest data packet the confirming side accepts.
        max_packet: u32,
        /// Channel-type-specific data.
        data: &'a [u8],
    },
    /// `SSH_MSG_CHANNEL_OPEN_FAILURE`.
    ChannelOpenFailure {
        /// The channel number of the side that asked to open.
        recipient: u32,
        /// An `SSH_OPEN_*` reason code.
        reason: u32,
        /// Human-readable description.
        description: &'a str,
        /// Language tag.
        language: &'a str,
    },
    /// `SSH_MSG_CHANNEL_WINDOW_ADJUST` (RFC 4254 §5.2).
    ChannelWindowAdjust {
        /// The receiver's channel number.
        recipient: u32,
        /// Credit added to the window.
        bytes_to_add: u32,
    },
    /// `SSH_MSG_CHANNEL_DATA`.
    ChannelData {
        /// The receiver's channel number.
        recipient: u32,
        /// The data.
        data: &'a [u8],
    },
    /// `SSH_MSG_CHANNEL_EXTENDED_DATA` (code 1 is stderr).
    ChannelExtendedData {
        /// The receiver's channel number.
        recipient: u32,
        /// Data type code (`SSH_EXTENDED_DATA_STDERR` = 1).
        code: u32,
        /// The data.
        data: &'a [u8],
    },
    /// `SSH_MSG_CHANNEL_EOF` (RFC 4254 §5.3).
    ChannelEof {
        /// The receiver's channel number.
        recipient: u32,
    },
    /// `SSH_MSG_CHANNEL_CLOSE`.
    ChannelClose {
        /// The receiver's channel number.
        recipient: u32,
    },
    /// `SSH_MSG_CHANNEL_REQUEST` (RFC 4254 §5.4).
    ChannelRequest {
        /// The receiver's channel number.
        recipient: u32,
        /// Request type, e.g. `pty-req`.
        kind: &'a str,
        /// Whether the sender waits for a reply.
        want_reply: bool,
        /// Type-specific data.
        data: &'a [u8],
    },
    /// `SSH_MSG_CHANNEL_SUCCESS`.
    ChannelSuccess {
        /// The receiver's channel number.
        recipient: u32,
    },
    /// `SSH_MSG_CHANNEL_FAILURE`.
    ChannelFailure {
        /// The receiver's channel number.
        recipient: u32,
    },
}

/// Whether RFC 4254 defines message number `n`.
pub fn is_defined(n: u8) -> bool {
    matches!(
        n,
        SSH_MSG_GLOBAL_REQUEST..=SSH_MSG_REQUEST_FAILURE
            | SSH_MSG_CHANNEL_OPEN..=SSH_MSG_CHANNEL_FAILURE
    )
}

impl<'a> Message<'a> {
    /// Parses one payload (starting with the message number). Trailing bytes are an
    /// error, except in the fields that run to the end of the message (global request
    /// and reply data, channel open and request type-specific data).
    pub fn parse(payload: &'a [u8]) -> Result<Message<'a>, WireError> {
        let mut r = Reader::new(payload);
        let n = r.u8()?;
        let m = match n {
            SSH_MSG_GLOBAL_REQUEST => {
                let name = r.utf8()?;
                let want_reply = r.bool()?;
                let data = r.bytes(r.remaining())?;
                Message::GlobalRequest {
                    name,
                    want_reply,
                    data,
                }
            }
            SSH_MSG_REQUEST_SUCCESS => Message::RequestSuccess {
                data: r.bytes(r.remaining())?,
            },
            SSH_MSG_REQUEST_FAILURE => Message::RequestFailure,
            SSH_MSG_CHANNEL_OPEN => {
                let kind = r.utf8()?;
                let sender = r.u32()?;
                let initial_window = r.u32()?;
                let max_packet = r.u32()?;
                let data = r.bytes(r.remaining())?;
                Message::ChannelOpen {
                    kind,
                    sender,
                    initial_window,
                    max_packet,
                    data,
                }
            }
            SSH_MSG_CHANNEL_OPEN_CONFIRMATION => {
                let recipient = r.u32()?;
                let sender = r.u32()?;
                let initial_window = r.u32()?;
                let max_packet = r.u32()?;
                let data = r.bytes(r.remaining())?;
                Message::ChannelOpenConfirmation {
                    recipient,
                    sender,
                    initial_window,
                    max_packet,
                    data,
                }
            }
            SSH_MSG_CHANNEL_OPEN_FAILURE => Message::ChannelOpenFailure {
                recipient: r.u32()?,
                reason: r.u32()?,
                description: r.utf8()?,
                language: r.utf8()?,
            },
            SSH_MSG_CHANNEL_WINDOW_ADJUST => Message::ChannelWindowAdjust {
                recipient: r.u32()?,
                bytes_to_add: r.u32()?,
            },
            SSH_MSG_CHANNEL_DATA => Message::ChannelData {
                recipient: r.u32()?,
                data: r.string()?,
            },
            SSH_MSG_CHANNEL_EXTENDED_DATA => Message::ChannelExtendedData {
                recipient: r.u32()?,
                code: r.u32()?,
                data: r.string()?,
            },
            SSH_MSG_CHANNEL_EOF => Message::ChannelEof {
                recipient: r.u32()?,
            },
            SSH_MSG_CHANNEL_CLOSE => Message::ChannelClose {
                recipient: r.u32()?,
            },
            SSH_MSG_CHANNEL_REQUEST => {
                let recipient = r.u32()?;
                let kind = r.utf8()?;
                let want_reply = r.bool()?;
                let data = r.bytes(r.remaining())?;
                Message::ChannelRequest {
                    recipient,
                    kind,
                    want_reply,
                    data,
                }
            }
            SSH_MSG_CHANNEL_SUCCESS => Message::ChannelSuccess {
                recipient: r.u32()?,
            },
            SSH_MSG_CHANNEL_FAILURE => Message::ChannelFailure {
                recipient: r.u32()?,
            },
            _ => return Err(WireError::BadValue("not a connection protocol message")),
        };
        r.finish()?;
        Ok(m)
    }

    /// The message number.
    pub fn number(&self) -> u8 {
        match self {
            Message::GlobalRequest { .. } => SSH_MSG_GLOBAL_REQUEST,
            Message::RequestSuccess { .. } => SSH_MSG_REQUEST_SUCCESS,
            Message::RequestFailure => SSH_MSG_REQUEST_FAILURE,
            Message::ChannelOpen { .. } => SSH_MSG_CHANNEL_OPEN,
            Message::ChannelOpenConfirmation { .. } => SSH_MSG_CHANNEL_OPEN_CONFIRMATION,
            Message::ChannelOpenFailure { .. } => SSH_MSG_CHANNEL_OPEN_FAILURE,
            Message::ChannelWindowAdjust { .. } => SSH_MSG_CHANNEL_WINDOW_ADJUST,
            Message::ChannelData { .. } => SSH_MSG_CHANNEL_DATA,
            Message::ChannelExtendedData { .. } => SSH_MSG_CHANNEL_EXTENDED_DATA,
            Message::ChannelEof { .. } => SSH_MSG_CHANNEL_EOF,
            Message::ChannelClose { .. } => SSH_MSG_CHANNEL_CLOSE,
            Message::ChannelRequest { .. } => SSH_MSG_CHANNEL_REQUEST,
            Message::ChannelSuccess { .. } => SSH_MSG_CHANNEL_SUCCESS,
            Message::ChannelFailure { .. } => SSH_MSG_CHANNEL_FAILURE,
        }
    }

    /// The payload bytes of this message (starting with the message number).
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::msg(self.number());
        match *self {
            Message::GlobalRequest {
                name,
                want_reply,
                data,
            } => {
                w.str(name).bool(want_reply).raw(data);
            }
            Message::RequestSuccess { data } => {
                w.raw(data);
            }
            Message::RequestFailure => {}
            Message::ChannelOpen {
                kind,
                sender,
                initial_window,
                max_packet,
                data,
            } => {
                w.str(kind)
                    .u32(sender)
                    .u32(initial_window)
                    .u32(max_packet)
                    .raw(data);
            }
            Message::ChannelOpenConfirmation {
                recipient,
                sender,
                initial_window,
                max_packet,
                data,
            } => {
                w.u32(recipient)
                    .u32(sender)
                    .u32(initial_window)
                    .u32(max_packet)
                    .raw(data);
            }
            Message::ChannelOpenFailure {
                recipient,
                reason,
                description,
                language,
            } => {
                w.u32(recipient).u32(reason).str(description).str(language);
            }
            Message::ChannelWindowAdjust {
                recipient,
                bytes_to_add,
            } => {
                w.u32(recipient).u32(bytes_to_add);
            }
            Message::ChannelData { recipient, data } => {
                w.u32(recipient).string(data);
            }
            Message::ChannelExtendedData {
                recipient,
                code,
                data,
            } => {
                w.u32(recipient).u32(code).string(data);
            }
            Message::ChannelEof { recipient }
            | Message::ChannelClose { recipient }
            | Message::ChannelSuccess { recipient }
            | Message::ChannelFailure { recipient } => {
                w.u32(recipient);
            }
            Message::ChannelRequest {
                recipient,
                kind,
                want_reply,
                data,
            } => {
                w.u32(recipient).str(kind).bool(want_reply).raw(data);
            }
        }
        w.into_vec()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn bytes() -> impl Strategy<Value = Vec<u8>> {
        proptest::collection::vec(any::<u8>(), 0..64)
    }

    proptest! {
        #[test]
        fn round_trip(which in 0u8..14, a in any::<u32>(), b in any::<u32>(), c in any::<u32>(),
                      d in any::<u32>(), flag in any::<bool>(), s in "[a-z@.-]{0,20}",
                      t in "[ -~]{0,20}", data in bytes()) {
            let m = match which {
                0 => Message::GlobalRequest { name: &s, want_reply: flag, data: &data },
                1 => Message::RequestSuccess { data: &data },
                2 => Message::RequestFailure,
                3 => Message::ChannelOpen { kind: &s, sender: a, initial_window: b, max_packet: c, data: &data },
                4 => Message::ChannelOpenConfirmation { recipient: a, sender: b, initial_window: c, max_packet: d, data: &data },
                5 => Message::ChannelOpenFailure { recipient: a, reason: b, description: &t, language: &s },
                6 => Message::ChannelWindowAdjust { recipient: a, bytes_to_add: b },
                7 => Message::ChannelData { recipient: a, data: &data },
                8 => Message::ChannelExtendedData { recipient: a, code: b, data: &data },
                9 => Message::ChannelEof { recipient: a },
                10 => Message::ChannelClose { recipient: a },
                11 => Message::ChannelRequest { recipient: a, kind: &s, want_reply: flag, data: &data },
                12 => Message::ChannelSuccess { recipient: a },
                _ => Message::ChannelFailure { recipient: a },
            };
            let wire = m.encode();
            prop_assert!(is_defined(wire[0]));
            prop_assert_eq!(Message::parse(&wire), Ok(m));
        }

        #[test]
        fn arbitrary_payloads_never_panic(n in 80u8..=127, rest in bytes()) {
            let mut p = vec![n];
            p.extend_from_slice(&rest);
            if let Ok(m) = Message::parse(&p) {
                // Whatever parses survives a round trip (booleans may normalise to 1).
                let again = m.encode();
                prop_assert_eq!(Message::parse(&again), Ok(m));
            }
        }
    }

    #[test]
    fn trailing_bytes_and_truncation_are_errors() {
        let eof = Message::ChannelEof { recipient: 3 }.encode();
        let mut long = eof.clone();
        long.push(0);
        assert_eq!(Message::parse(&long), Err(WireError::TrailingData));
        assert_eq!(
            Message::parse(&eof[..eof.len() - 1]),
            Err(WireError::Truncated)
        );
        assert!(Message::parse(&[101, 0, 0, 0, 0]).is_err());
        assert!(!is_defined(83) && !is_defined(101) && is_defined(90) && is_defined(82));
    }
}
