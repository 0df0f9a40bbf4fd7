//! [`V1AuthError`]: why SSH-1 authentication ends the connection.

use sisu_wire::WireError;
use std::fmt;

/// A fatal SSH-1 authentication error: the caller sends `SSH_MSG_DISCONNECT` with the
/// `Display` text and closes the connection.
///
/// Errors are sticky: once [`V1AuthServer`](super::V1AuthServer) returned one, every
/// later [`handle_message`](super::V1AuthServer::handle_message) returns the same error
/// and the machine does no new work (answers are ignored).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum V1AuthError {
    /// A message field did not parse, or a message was longer than
    /// [`MAX_MESSAGE_LEN`](super::MAX_MESSAGE_LEN).
    Malformed {
        /// Which field.
        field: &'static str,
        /// What was wrong with it.
        error: WireError,
    },
    /// A message other than the one the protocol requires here: the first must be
    /// `SSH_CMSG_USER`, the one after a challenge `SSH_CMSG_AUTH_RSA_RESPONSE` (OpenSSH's
    /// `packet_read_expect`). For the client role: a reply it cannot take.
    Unexpected {
        /// The message number required.
        expected: u8,
        /// The message number received.
        got: u8,
    },
    /// A message arrived while a question to the daemon was still unanswered. SSH-1 is
    /// lock-step (the client waits for the reply to each message), so this is a
    /// protocol violation, not something to queue.
    WhilePending(u8),
    /// A message after `SSH_SMSG_SUCCESS`: it belongs to the session layer, not here.
    AfterAuthentication(u8),
    /// The peer sent `SSH_MSG_DISCONNECT` (normally the transport takes it first).
    PeerDisconnected,
    /// `max_tries` failures (after [`V1AuthEvent::TooManyFailures`](super::V1AuthEvent)).
    TooManyFailures {
        /// The user name.
        user: String,
    },
    /// The caller let the event or outgoing queue reach
    /// [`MAX_QUEUE`](super::MAX_QUEUE) without draining it.
    QueueFull(&'static str),
    /// The client role could not answer a challenge (it did not decrypt, or decrypted
    /// to a length `sshconnect1.c` refuses).
    BadChallenge,
}

impl fmt::Display for V1AuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            V1AuthError::Malformed { field, error } => {
                write!(f, "bad SSH-1 authentication message field {field}: {error}")
            }
            V1AuthError::Unexpected { expected, got } => write!(
                f,
                "Protocol error: expected packet type {expected}, got {got}"
            ),
            V1AuthError::WhilePending(n) => {
                write!(
                    f,
                    "Protocol error: message {n} before the previous one was answered"
                )
            }
            V1AuthError::AfterAuthentication(n) => {
                write!(f, "message {n} after authentication")
            }
            V1AuthError::PeerDisconnected => f.write_str("peer disconnected"),
            V1AuthError::TooManyFailures { user } => {
                write!(f, "Too many authentication failures for {user}")
            }
            V1AuthError::QueueFull(which) => write!(f, "{which} queue full"),
            V1AuthError::BadChallenge => f.write_str("bad RSA challenge"),
        }
    }
}

impl std::error::Error for V1AuthError {}
