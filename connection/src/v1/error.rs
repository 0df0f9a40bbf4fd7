//! What can go wrong in an SSH-1 session: the client breaking protocol 1.5, or the
//! SSH-2 [`crate::Connection`] sending what no SSH-2 client could accept.

use sisu_wire::WireError;
use std::fmt;

/// Where an SSH-1 session is, for error messages and [`super::V1Session::phase`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// After authentication, before `CMSG_EXEC_SHELL` / `CMSG_EXEC_CMD`: requests
    /// (pty, X11, agent, port forwarding) each answered with SUCCESS or FAILURE.
    Preparatory,
    /// The shell or command runs: data, window changes, forwarded channels.
    Interactive,
    /// `SMSG_EXITSTATUS` went out; waiting for `CMSG_EXIT_CONFIRMATION`.
    Exiting,
    /// Over: confirmed, disconnected, or failed.
    Ended,
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Phase::Preparatory => "before the session started",
            Phase::Interactive => "during the session",
            Phase::Exiting => "after the exit status",
            Phase::Ended => "after the session ended",
        })
    }
}

/// A protocol error that ends the SSH-1 session. The daemon disconnects with the
/// [`fmt::Display`] text as the cause. Errors are sticky: every later call returns
/// the same error and nothing more is produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum V1SessionError {
    /// An SSH-1 message from the client whose fields did not parse.
    Malformed {
        /// The SSH-1 message type.
        msg: u8,
        /// What was wrong with it.
        error: WireError,
    },
    /// An SSH-1 message longer than [`super::MAX_PEER_MESSAGE`].
    TooLong {
        /// The SSH-1 message type.
        msg: u8,
        /// Its payload length.
        len: usize,
    },
    /// A message the client may not send now: data before the shell or command
    /// started, a second exec, a request after it, an exit confirmation before the
    /// exit status, an unknown type during the session.
    Unexpected {
        /// The SSH-1 message type.
        msg: u8,
        /// Where the session was.
        phase: Phase,
    },
    /// A channel message for a channel that is not open (never opened, not yet
    /// confirmed, or already closed).
    UnknownChannel {
        /// The SSH-1 message type.
        msg: u8,
        /// The channel the client named (our number).
        ch: u32,
    },
    /// Data after the client said it would send no more: stdin after `CMSG_EOF`
    /// (`ch` is `None`) or channel data after its `MSG_CHANNEL_CLOSE`.
    DataAfterEof {
        /// The channel (our number), or `None` for the session's stdin.
        ch: Option<u32>,
    },
    /// The client's data went past the hard bound of what waits for window: the
    /// caller kept reading while [`super::V1Session::wants_peer_input`] was false.
    BufferFull {
        /// The channel (our number), or `None` for the session's stdin.
        ch: Option<u32>,
    },
    /// More requests waiting for their reply than [`super::MAX_PENDING_REQUESTS`].
    TooManyPendingRequests,
    /// An SSH-2 payload from the Connection that did not parse.
    ConnectionMalformed {
        /// The SSH-2 message number.
        msg: u8,
        /// What was wrong with it.
        error: WireError,
    },
    /// An SSH-2 message from the Connection that no client could accept (a reply
    /// to nothing, data beyond the window we granted, a channel that is not open).
    ConnectionUnexpected {
        /// The SSH-2 message number.
        msg: u8,
        /// What was wrong.
        what: &'static str,
    },
}

impl V1SessionError {
    /// Whether the SSH-1 client caused it (otherwise it is the Connection's side).
    pub fn is_peer_error(&self) -> bool {
        !matches!(
            self,
            V1SessionError::ConnectionMalformed { .. }
                | V1SessionError::ConnectionUnexpected { .. }
        )
    }
}

impl fmt::Display for V1SessionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            V1SessionError::Malformed { msg, error } => {
                write!(f, "protocol error: malformed SSH-1 message {msg}: {error}")
            }
            V1SessionError::TooLong { msg, len } => {
                write!(
                    f,
                    "protocol error: SSH-1 message {msg} of {len} bytes is too long"
                )
            }
            V1SessionError::Unexpected { msg, phase } => {
                write!(f, "protocol error: rcvd type {msg} {phase}")
            }
            V1SessionError::UnknownChannel { msg, ch } => {
                write!(
                    f,
                    "protocol error: message {msg} for nonexistent channel {ch}"
                )
            }
            V1SessionError::DataAfterEof { ch: None } => {
                f.write_str("protocol error: stdin data after EOF")
            }
            V1SessionError::DataAfterEof { ch: Some(ch) } => {
                write!(f, "protocol error: data on channel {ch} after its close")
            }
            V1SessionError::BufferFull { ch: None } => {
                f.write_str("stdin data beyond the buffer bound")
            }
            V1SessionError::BufferFull { ch: Some(ch) } => {
                write!(f, "channel {ch}: data beyond the buffer bound")
            }
            V1SessionError::TooManyPendingRequests => {
                f.write_str("protocol error: too many requests waiting for a reply")
            }
            V1SessionError::ConnectionMalformed { msg, error } => {
                write!(f, "internal error: malformed SSH-2 message {msg}: {error}")
            }
            V1SessionError::ConnectionUnexpected { msg, what } => {
                write!(f, "internal error: SSH-2 message {msg}: {what}")
            }
        }
    }
}

impl std::error::Error for V1SessionError {}
