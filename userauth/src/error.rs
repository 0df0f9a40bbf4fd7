//! [`AuthError`]: why the authentication layer ends the connection.

use sisu_wire::msg::reason;
use sisu_wire::WireError;
use std::fmt;

/// A fatal authentication-layer error: the connection must be closed with an
/// SSH_MSG_DISCONNECT carrying [`AuthError::reason`] and the `Display` text.
///
/// Errors are sticky: once [`Server`](crate::Server) returned one, it returns the same
/// error for every later call and does no new work.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthError {
    /// A message field did not parse.
    Malformed {
        /// Which field.
        field: &'static str,
        /// What was wrong with it.
        error: WireError,
    },
    /// A message number that this layer does not accept from a client.
    UnexpectedMessage(u8),
    /// The user name or service changed between requests (OpenSSH: "Change of username
    /// or service not allowed").
    ChangeOfUserOrService {
        /// The (user, service) of the first request.
        from: (String, String),
        /// The (user, service) of this request.
        to: (String, String),
    },
    /// `max_tries` counted failures, or [`MAX_ATTEMPTS`](crate::limits::MAX_ATTEMPTS)
    /// requests (OpenSSH: "Too many authentication failures").
    TooManyFailures,
    /// The peer sent more than [`MAX_PENDING_MESSAGES`](crate::limits::MAX_PENDING_MESSAGES)
    /// messages while a question to the daemon was pending.
    TooManyPending,
    /// The caller let the outgoing or event queue fill up without draining it.
    QueueFull(&'static str),
}

impl AuthError {
    /// The SSH_DISCONNECT_* reason code (RFC 4250 §4.2.2) to send.
    pub fn reason(&self) -> u32 {
        match self {
            AuthError::QueueFull(_) => reason::SSH_DISCONNECT_BY_APPLICATION,
            // OpenSSH's packet_disconnect() always sends PROTOCOL_ERROR, including for
            // "Too many authentication failures" and a change of user or service.
            _ => reason::SSH_DISCONNECT_PROTOCOL_ERROR,
        }
    }
}

impl fmt::Display for AuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AuthError::Malformed { field, error } => {
                write!(f, "bad SSH_MSG_USERAUTH_REQUEST field {field}: {error}")
            }
            AuthError::UnexpectedMessage(n) => {
                write!(f, "unexpected message {n} during user authentication")
            }
            AuthError::ChangeOfUserOrService { from, to } => write!(
                f,
                "Change of username or service not allowed: ({},{}) -> ({},{})",
                from.0, from.1, to.0, to.1
            ),
            AuthError::TooManyFailures => f.write_str("Too many authentication failures"),
            AuthError::TooManyPending => {
                f.write_str("too many messages while authentication was pending")
            }
            AuthError::QueueFull(which) => write!(f, "{which} queue full"),
        }
    }
}

impl std::error::Error for AuthError {}
