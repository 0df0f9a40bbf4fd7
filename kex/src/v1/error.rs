//! Why an SSH-1 transport stopped.

use sisu_wire::v1::packet::V1PacketError;
use std::fmt;

/// An SSH-1 transport error. Its [`fmt::Display`] text is what goes in the
/// `SSH_MSG_DISCONNECT` and the log line (OpenSSH's wording where it has one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum V1Error {
    /// The packet layer refused input (bad length, check bytes, attack detector).
    Packet(V1PacketError),
    /// The cookie echoed in `SSH_CMSG_SESSION_KEY` is not the one sent.
    SpoofingCheck,
    /// The client chose a cipher the server did not offer (its number).
    UnsupportedCipher(u8),
    /// The server does not offer the cipher the client was told to use.
    CipherNotOffered(&'static str),
    /// A message other than the one the exchange expects.
    UnexpectedMessage {
        /// The type expected.
        expected: u8,
        /// The type received.
        got: u8,
    },
    /// A message whose fields do not parse (which field).
    BadMessage(&'static str),
    /// The RSA keys cannot be used: sizes out of range, or the larger modulus is not
    /// [`super::SSH_KEY_BITS_RESERVED`] bits larger than the smaller.
    KeySizes {
        /// Bits of the larger modulus.
        larger: usize,
        /// Bits of the smaller modulus.
        smaller: usize,
    },
    /// A key could not be used for RSA (public exponent or modulus refused).
    BadKey(&'static str),
    /// Too much input before the session key was provided.
    InputOverflow,
    /// Too many events not taken with `poll_event`.
    EventsFull,
    /// Outgoing data waits beyond [`super::MAX_PENDING_OUTPUT`]: flush first (this
    /// one is not sticky).
    OutputFull,
    /// A call that does not fit the state of the exchange (which call).
    NotReady(&'static str),
    /// An exported state that does not decode (which field).
    BadState(&'static str),
    /// Data too long for one packet.
    TooLong(usize),
}

impl fmt::Display for V1Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            V1Error::Packet(e) => e.fmt(f),
            V1Error::SpoofingCheck => f.write_str("IP Spoofing check bytes do not match."),
            V1Error::UnsupportedCipher(_) => {
                f.write_str("Warning: client selects unsupported cipher.")
            }
            V1Error::CipherNotOffered(name) => {
                write!(f, "Selected cipher type {name} not supported by server.")
            }
            V1Error::UnexpectedMessage { expected, got } => {
                write!(
                    f,
                    "Protocol error: expected packet type {expected}, got {got}"
                )
            }
            V1Error::BadMessage(what) => write!(f, "Packet integrity error: {what}"),
            V1Error::KeySizes { larger, smaller } => write!(
                f,
                "RSA key sizes: larger key {larger} < smaller key {smaller} + \
                 SSH_KEY_BITS_RESERVED {}",
                super::SSH_KEY_BITS_RESERVED
            ),
            V1Error::BadKey(what) => write!(f, "unusable RSA key: {what}"),
            V1Error::InputOverflow => {
                f.write_str("too much input while the session key is being decrypted")
            }
            V1Error::EventsFull => f.write_str("too many events not taken"),
            V1Error::OutputFull => f.write_str("too much output waiting to be sent"),
            V1Error::NotReady(what) => write!(f, "not ready: {what}"),
            V1Error::BadState(what) => write!(f, "bad exported SSH-1 transport state: {what}"),
            V1Error::TooLong(n) => write!(f, "message of {n} bytes too long"),
        }
    }
}

impl std::error::Error for V1Error {}

impl From<V1PacketError> for V1Error {
    fn from(e: V1PacketError) -> Self {
        V1Error::Packet(e)
    }
}
