//! # SSH protocol 1.5 user authentication (legacy)
//!
//! This module owns the authentication phase of SSH-1, the messages the client sends
//! once the session key is in place and before the interactive session starts:
//! `SSH_CMSG_USER`, then `SSH_CMSG_AUTH_RSA` (with its challenge and
//! `SSH_CMSG_AUTH_RSA_RESPONSE`), `SSH_CMSG_AUTH_PASSWORD` and `SSH_CMSG_AUTH_RHOSTS_RSA`,
//! each answered with `SSH_SMSG_SUCCESS` or `SSH_SMSG_FAILURE`. It follows OpenSSH's
//! `auth1.c` (the server side of protocol 1, last shipped in OpenSSH 7.3; the 7.5
//! client `sshconnect1.c` is the peer it is tested against by construction):
//!
//! - the first message must be `SSH_CMSG_USER`; anything else is a protocol error;
//! - the user name is answered with `SSH_SMSG_FAILURE` ("authentication needed"),
//!   whether the user exists or not (Sisu never logs anyone in without a method);
//! - every later message is one attempt, answered with one `SSH_SMSG_SUCCESS` or
//!   `SSH_SMSG_FAILURE` (RSA methods answer a key they know with a challenge first);
//!   a method that is disabled, unsupported (`SSH_CMSG_AUTH_RHOSTS`, TIS, Kerberos) or
//!   unknown simply fails;
//! - every failure counts; at `max_tries` failures the machine reports
//!   [`V1AuthEvent::TooManyFailures`] instead of sending `SSH_SMSG_FAILURE`, and the
//!   caller disconnects;
//! - `SSH_MSG_IGNORE` and `SSH_MSG_DEBUG` are ignored anywhere.
//!
//! [`V1AuthServer`] decides nothing: it asks the daemon through [`V1AuthEvent`]s and
//! takes the answers through its `answer_*` methods. [`rsa_challenge`] holds the pure
//! functions a monitor uses to make the RSA challenge and check the response, and
//! [`client`] a client role, for tests and tools.
//!
//! ```
//! use sisu_userauth::v1::{V1AuthConfig, V1AuthEvent, V1AuthServer, V1Method};
//! use sisu_wire::v1::msg;
//!
//! let mut server = V1AuthServer::new(V1AuthConfig::default());
//! // CMSG_USER "alice": the daemon says whether alice exists; the client is told that
//! // authentication is needed either way.
//! server.handle_message(msg::CMSG_USER, b"\0\0\0\x05alice").unwrap();
//! assert!(matches!(server.poll_event(), Some(V1AuthEvent::User { name }) if name == "alice"));
//! server.answer_user(true);
//! assert_eq!(server.poll_transmit(), Some((msg::SMSG_FAILURE, vec![])));
//!
//! // CMSG_AUTH_PASSWORD: the daemon checks it.
//! server.handle_message(msg::CMSG_AUTH_PASSWORD, b"\0\0\0\x06secret").unwrap();
//! match server.poll_event() {
//!     Some(V1AuthEvent::Password { user, password }) => {
//!         assert_eq!((user.as_str(), password.as_str()), ("alice", "secret"))
//!     }
//!     other => panic!("{other:?}"),
//! }
//! server.answer_password(true);
//! assert_eq!(server.poll_transmit(), Some((msg::SMSG_SUCCESS, vec![])));
//! assert!(matches!(server.poll_event(),
//!     Some(V1AuthEvent::Authenticated { method: V1Method::Password, .. })));
//! assert_eq!(server.authenticated(), Some("alice"));
//! ```
//!
//! Sans-IO like the rest of the crate: no sockets, clocks or global randomness, and
//! every length and count is bounded by a constant below.

pub mod client;
mod error;
pub mod message;
pub mod rsa_challenge;
mod server;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_prop;
#[cfg(test)]
mod tests_rsa;

pub use error::V1AuthError;
pub use server::V1AuthServer;

use std::fmt;
use zeroize::Zeroizing;

/// Longest user name accepted in `SSH_CMSG_USER` (and the client user name of
/// rhosts-RSA), in bytes: the crate's [`MAX_USER_LEN`](crate::limits::MAX_USER_LEN).
pub const MAX_USER_LEN: usize = crate::limits::MAX_USER_LEN;

/// Longest password accepted in `SSH_CMSG_AUTH_PASSWORD`, in bytes: the crate's
/// [`MAX_PASSWORD_LEN`](crate::limits::MAX_PASSWORD_LEN).
pub const MAX_PASSWORD_LEN: usize = crate::limits::MAX_PASSWORD_LEN;

/// Largest RSA modulus accepted, in bits (OpenSSH's SSH-1 bignum limit, as
/// [`sisu_wire::v1::MAX_MPINT_BITS`]).
pub const MAX_MODULUS_BITS: usize = sisu_wire::v1::MAX_MPINT_BITS as usize;

/// Smallest RSA modulus accepted, in bits. OpenSSH 7.3 accepted 768; 768-bit RSA has
/// been factored in public (2009), so Sisu asks for what OpenSSH requires of SSH-2
/// RSA keys since 7.6.
pub const MIN_MODULUS_BITS: usize = 1024;

/// Largest `max_tries` honoured; a larger configured value is treated as this one
/// (as [`MAX_ATTEMPTS`](crate::limits::MAX_ATTEMPTS) bounds SSH-2).
pub const MAX_TRIES: u32 = crate::limits::MAX_ATTEMPTS;

/// Longest message payload accepted, in bytes (the largest valid one, rhosts-RSA with
/// two 16384-bit integers and a [`MAX_USER_LEN`] name, is under 4.5 KiB).
/// `SSH_MSG_IGNORE` and `SSH_MSG_DEBUG` are not bounded here: they are dropped unread.
pub const MAX_MESSAGE_LEN: usize = 16 * 1024;

/// How many events or outgoing messages may wait to be polled before the machine
/// refuses more input with [`V1AuthError::QueueFull`].
pub const MAX_QUEUE: usize = 16;

/// `SSH_CMSG_AUTH_TIS_RESPONSE` (not in `sisu_wire::v1::msg`: Sisu never sends a TIS
/// challenge, but a client may still send a response, which fails as TIS).
pub const CMSG_AUTH_TIS_RESPONSE: u8 = 41;

/// The default of `MaxAuthTries`.
pub const DEFAULT_MAX_TRIES: u32 = crate::DEFAULT_MAX_TRIES;

/// Which SSH-1 methods may be tried, and how many failures end the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct V1AuthConfig {
    /// `RSAAuthentication`: `SSH_CMSG_AUTH_RSA` with a challenge.
    pub rsa: bool,
    /// `PasswordAuthentication`: `SSH_CMSG_AUTH_PASSWORD`.
    pub password: bool,
    /// `RhostsRSAAuthentication`: `SSH_CMSG_AUTH_RHOSTS_RSA` (off by default).
    pub rhosts_rsa: bool,
    /// `MaxAuthTries`: failures after which the connection ends (at most
    /// [`MAX_TRIES`]; 0 ends it at the first attempt, as OpenSSH does).
    pub max_tries: u32,
}

impl Default for V1AuthConfig {
    /// OpenSSH's defaults: RSA and password on, rhosts-RSA off, 6 tries.
    fn default() -> Self {
        V1AuthConfig {
            rsa: true,
            password: true,
            rhosts_rsa: false,
            max_tries: DEFAULT_MAX_TRIES,
        }
    }
}

impl V1AuthConfig {
    /// The `supported_authentications` mask of `SSH_SMSG_PUBLIC_KEY` for this
    /// configuration: bit `1 << n` for each enabled method number `n` of
    /// [`sisu_wire::v1::msg::auth`] (as OpenSSH's `do_ssh1_kex` builds it). The client
    /// tries only the methods the mask names; TIS and plain rhosts are never offered.
    pub fn auth_mask(&self) -> u32 {
        use sisu_wire::v1::msg::auth;
        let mut mask = 0;
        if self.rhosts_rsa {
            mask |= 1 << auth::RHOSTS_RSA;
        }
        if self.rsa {
            mask |= 1 << auth::RSA;
        }
        if self.password {
            mask |= 1 << auth::PASSWORD;
        }
        mask
    }
}

/// An SSH-1 authentication method, as the log names it.
///
/// The three the server can grant are [`Rsa`](V1Method::Rsa),
/// [`Password`](V1Method::Password) and [`RhostsRsa`](V1Method::RhostsRsa); the others
/// only ever fail (the `Failed` event of a refused or unknown message).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum V1Method {
    /// `SSH_CMSG_AUTH_RSA`: "rsa".
    Rsa,
    /// `SSH_CMSG_AUTH_PASSWORD`: "password".
    Password,
    /// `SSH_CMSG_AUTH_RHOSTS_RSA`: "rhosts-rsa".
    RhostsRsa,
    /// `SSH_CMSG_AUTH_TIS` or its response (never supported): "challenge-response".
    Tis,
    /// Any other message during authentication, including plain
    /// `SSH_CMSG_AUTH_RHOSTS` (5) and Kerberos: OpenSSH logs it as `bad-auth-msg-N`
    /// (see the `Display` impl) after "Unknown message during authentication: type N".
    Other(u8),
}

impl V1Method {
    /// The name OpenSSH logs ("Accepted rsa for USER from ADDR port N ssh1"): "rsa",
    /// "password", "rhosts-rsa", "challenge-response"; "bad-auth-msg" for
    /// [`V1Method::Other`], whose `Display` adds the number as OpenSSH does.
    pub fn name(&self) -> &'static str {
        match self {
            V1Method::Rsa => "rsa",
            V1Method::Password => "password",
            V1Method::RhostsRsa => "rhosts-rsa",
            V1Method::Tis => "challenge-response",
            V1Method::Other(_) => "bad-auth-msg",
        }
    }
}

impl fmt::Display for V1Method {
    /// The full log name: [`V1Method::name`], or `bad-auth-msg-N` for
    /// [`V1Method::Other`]`(N)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            V1Method::Other(n) => write!(f, "bad-auth-msg-{n}"),
            m => f.write_str(m.name()),
        }
    }
}

/// Something the daemon must know or decide.
///
/// `User`, `RsaKeyOffered`, `RsaResponse`, `Password` and `RhostsRsa` are questions:
/// each gets exactly one answer, with the `answer_*` method named in its docs, and
/// until then the machine takes no further input
/// ([`V1AuthServer::awaiting_answer`]). The others are for the log.
///
/// `Debug` never prints a password (only its length).
#[derive(Clone, PartialEq, Eq)]
pub enum V1AuthEvent {
    /// `SSH_CMSG_USER`: "does this user exist (and may log in at all)?". Answer with
    /// [`V1AuthServer::answer_user`]. `name` is the name without a `:style` suffix
    /// (as OpenSSH drops it).
    User {
        /// The user name.
        name: String,
    },
    /// `SSH_CMSG_AUTH_RSA`: "is the key with this modulus in the user's
    /// `authorized_keys`?". Answer with [`V1AuthServer::answer_rsa_key`]: the
    /// challenge from [`rsa_challenge::new_challenge`], encrypted with that key, or
    /// `None`.
    RsaKeyOffered {
        /// The user name.
        user: String,
        /// The modulus, big-endian without leading zeros, [`MIN_MODULUS_BITS`] to
        /// [`MAX_MODULUS_BITS`] bits.
        modulus: Vec<u8>,
    },
    /// `SSH_CMSG_AUTH_RSA_RESPONSE` after a challenge (of RSA or rhosts-RSA): "is this
    /// the MD5 of the challenge and the session id?"
    /// ([`rsa_challenge::expected_response`], [`rsa_challenge::response_matches`]).
    /// Answer with [`V1AuthServer::answer_rsa_response`].
    RsaResponse {
        /// The user name.
        user: String,
        /// The 16 bytes the client sent.
        response: [u8; 16],
    },
    /// `SSH_CMSG_AUTH_PASSWORD`: "is this the user's password?" (the empty one too:
    /// `PermitEmptyPasswords` is the daemon's). Answer with
    /// [`V1AuthServer::answer_password`].
    Password {
        /// The user name.
        user: String,
        /// The password, wiped when dropped.
        password: Zeroizing<String>,
    },
    /// `SSH_CMSG_AUTH_RHOSTS_RSA`: "does `.rhosts`/`hosts.equiv` admit `client_user`
    /// from the client's host for `user`, and is this the host's key in
    /// `known_hosts`?". Answer with [`V1AuthServer::answer_rhosts_rsa`], as for RSA.
    RhostsRsa {
        /// The user name.
        user: String,
        /// The user name on the client host (whatever the client claims).
        client_user: String,
        /// The key size the client announced (OpenSSH only warns when it is wrong).
        bits: u32,
        /// The host key's public exponent, big-endian.
        exponent: Vec<u8>,
        /// The host key's modulus, big-endian, [`MIN_MODULUS_BITS`] to
        /// [`MAX_MODULUS_BITS`] bits.
        modulus: Vec<u8>,
    },
    /// An attempt failed ("Failed rsa for USER from ADDR port N ssh1"; for
    /// [`V1Method::Other`], "Unknown message during authentication: type N" first).
    Failed {
        /// The user name.
        user: String,
        /// The method tried.
        method: V1Method,
    },
    /// `SSH_SMSG_SUCCESS` went out ("Accepted rsa for USER from ADDR port N ssh1").
    Authenticated {
        /// The user name.
        user: String,
        /// The method that succeeded.
        method: V1Method,
    },
    /// `max_tries` failures: no `SSH_SMSG_FAILURE` went out for the last one; the
    /// caller disconnects ("Too many authentication failures for USER").
    TooManyFailures {
        /// The user name.
        user: String,
    },
}

impl fmt::Debug for V1AuthEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            V1AuthEvent::User { name } => f.debug_struct("User").field("name", name).finish(),
            V1AuthEvent::RsaKeyOffered { user, modulus } => f
                .debug_struct("RsaKeyOffered")
                .field("user", user)
                .field("modulus", modulus)
                .finish(),
            V1AuthEvent::RsaResponse { user, response } => f
                .debug_struct("RsaResponse")
                .field("user", user)
                .field("response", response)
                .finish(),
            V1AuthEvent::Password { user, password } => f
                .debug_struct("Password")
                .field("user", user)
                .field("password_len", &password.len())
                .finish_non_exhaustive(),
            V1AuthEvent::RhostsRsa {
                user,
                client_user,
                bits,
                exponent,
                modulus,
            } => f
                .debug_struct("RhostsRsa")
                .field("user", user)
                .field("client_user", client_user)
                .field("bits", bits)
                .field("exponent", exponent)
                .field("modulus", modulus)
                .finish(),
            V1AuthEvent::Failed { user, method } => f
                .debug_struct("Failed")
                .field("user", user)
                .field("method", method)
                .finish(),
            V1AuthEvent::Authenticated { user, method } => f
                .debug_struct("Authenticated")
                .field("user", user)
                .field("method", method)
                .finish(),
            V1AuthEvent::TooManyFailures { user } => f
                .debug_struct("TooManyFailures")
                .field("user", user)
                .finish(),
        }
    }
}
