//! The errors a peer's message can cause.

use sisu_wire::msg::reason;
use sisu_wire::WireError;
use std::fmt;

/// A message from the peer that breaks RFC 4254.
///
/// Every variant but [`ConnectionError::Unimplemented`] is fatal: the connection must end
/// with an `SSH_MSG_DISCONNECT` carrying [`ConnectionError::reason`], and the machine stays
/// failed (errors are sticky: later calls to `handle_message` return the same error).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnectionError {
    /// A message whose fields did not parse.
    Malformed {
        /// The message number.
        msg: u8,
        /// What was wrong with it.
        error: WireError,
    },
    /// A message number in 80..=127 that RFC 4254 does not define. Not fatal: the
    /// transport should answer `SSH_MSG_UNIMPLEMENTED` with the packet's sequence number.
    Unimplemented {
        /// The message number.
        msg: u8,
    },
    /// A message that is not part of the connection protocol (outside 80..=127), or an
    /// empty payload.
    NotConnectionMessage {
        /// The message number, if there was one.
        msg: Option<u8>,
    },
    /// A message we did not ask for: a reply to a request we never sent, or an answer
    /// to a channel open we did not ask for.
    Unexpected {
        /// The message number.
        msg: u8,
    },
    /// A message for a channel id that is not open (never opened, not yet confirmed,
    /// already closed by the peer, or freed).
    UnknownChannel {
        /// The message number.
        msg: u8,
        /// The recipient channel the peer named.
        ch: u32,
    },
    /// Channel data beyond the window we granted.
    WindowExceeded {
        /// Our channel id.
        ch: u32,
        /// Bytes the peer sent in this message.
        len: usize,
        /// Bytes the peer was allowed to send.
        window: u32,
    },
    /// `SSH_MSG_CHANNEL_WINDOW_ADJUST` that would take the window past 2^32-1
    /// (OpenSSH treats this as fatal too).
    WindowOverflow {
        /// Our channel id.
        ch: u32,
    },
    /// The peer piled up more requests wanting a reply than we keep track of
    /// ([`crate::MAX_PENDING_REPLIES`] per channel or
    /// [`crate::MAX_PENDING_GLOBAL_REPLIES`] global ones).
    TooManyPendingRequests,
    /// A session channel opened after the peer's own `no-more-sessions@openssh.com`
    /// (OpenSSH disconnects too: it is how a hijacked connection would show).
    SessionAfterNoMoreSessions,
    /// The event queue reached `Limits::max_pending_events`: the caller is not draining
    /// [`crate::Connection::poll_event`].
    EventQueueFull,
}

impl ConnectionError {
    /// The `SSH_DISCONNECT_*` reason code to send with the disconnect.
    pub fn reason(&self) -> u32 {
        match self {
            ConnectionError::EventQueueFull => reason::SSH_DISCONNECT_BY_APPLICATION,
            _ => reason::SSH_DISCONNECT_PROTOCOL_ERROR,
        }
    }

    /// Whether the connection must end (everything but [`ConnectionError::Unimplemented`]).
    pub fn is_fatal(&self) -> bool {
        !matches!(self, ConnectionError::Unimplemented { .. })
    }
}

impl fmt::Display for ConnectionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConnectionError::Malformed { msg, error } => {
                write!(f, "malformed message {msg}: {error}")
            }
            ConnectionError::Unimplemented { msg } => write!(f, "unimplemented message {msg}"),
            ConnectionError::NotConnectionMessage { msg: Some(m) } => {
                write!(f, "message {m} is not a connection protocol message")
            }
            ConnectionError::NotConnectionMessage { msg: None } => f.write_str("empty message"),
            ConnectionError::Unexpected { msg } => write!(f, "unexpected message {msg}"),
            ConnectionError::UnknownChannel { msg, ch } => {
                write!(f, "message {msg} for channel {ch}, which is not open")
            }
            ConnectionError::WindowExceeded { ch, len, window } => write!(
                f,
                "channel {ch}: {len} bytes of data exceed the window of {window}"
            ),
            ConnectionError::WindowOverflow { ch } => {
                write!(f, "channel {ch}: window adjust overflows the window")
            }
            ConnectionError::TooManyPendingRequests => {
                f.write_str("too many requests waiting for a reply")
            }
            ConnectionError::EventQueueFull => f.write_str("event queue full"),
            ConnectionError::SessionAfterNoMoreSessions => f.write_str(
                "Possible attack: attempt to open a session after additional sessions disabled",
            ),
        }
    }
}

impl std::error::Error for ConnectionError {}
