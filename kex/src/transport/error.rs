//! [`TransportError`]: why a connection's transport ended, one variant per kind of
//! failure, each mapped to its `SSH_DISCONNECT_*` reason.

use sisu_wire::msg::reason;
use sisu_wire::packet::PacketError;
use sisu_wire::WireError;
use std::fmt;

/// Which `SSH_MSG_KEXINIT` name-list an algorithm comes from, named as OpenSSH's
/// "no matching … found" log lines name it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AlgorithmKind {
    /// `kex_algorithms`.
    KeyExchange,
    /// `server_host_key_algorithms`.
    HostKey,
    /// `encryption_algorithms_*`.
    Cipher,
    /// `mac_algorithms_*`.
    Mac,
    /// `compression_algorithms_*`.
    Compression,
}

impl fmt::Display for AlgorithmKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AlgorithmKind::KeyExchange => "key exchange method",
            AlgorithmKind::HostKey => "host key type",
            AlgorithmKind::Cipher => "cipher",
            AlgorithmKind::Mac => "MAC",
            AlgorithmKind::Compression => "compression method",
        })
    }
}

/// What a strict-kex peer did wrong (`kex-strict-*-v00@openssh.com`, OpenSSH's
/// PROTOCOL: the first exchange admits only KEXINIT, NEWKEYS and 30–49, and KEXINIT
/// must be the first packet).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StrictKexViolation {
    /// A packet other than KEXINIT, NEWKEYS or 30–49 during the first key exchange.
    UnexpectedPacket(u8),
    /// The peer's KEXINIT was not its first packet.
    KexinitNotFirst,
}

/// Where in the connection a message arrived that is not allowed there.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// During the first key exchange, before the peer's `SSH_MSG_NEWKEYS`, without strict
    /// kex (RFC 4253 §7.1: only transport-generic and key-exchange messages).
    FirstKex,
    /// During a re-exchange, after the peer's `SSH_MSG_KEXINIT` and before its
    /// `SSH_MSG_NEWKEYS` (RFC 4253 §7.1).
    Rekey,
    /// No key exchange is under way (a key-exchange message or NEWKEYS out of place).
    NoKex,
    /// After our `SSH_MSG_NEWKEYS`, before the peer's (a second key-exchange reply).
    AfterNewkeys,
    /// The method's messages came in the wrong order.
    OutOfSequence,
    /// Server: a message of the layers above (50 and up) before the client's
    /// `SSH_MSG_SERVICE_REQUEST` was accepted.
    BeforeService,
    /// A message this role never receives (a SERVICE_REQUEST at a client, a
    /// SERVICE_ACCEPT at a server).
    WrongRole,
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Stage::FirstKex => "during the first key exchange",
            Stage::Rekey => "during key re-exchange",
            Stage::NoKex => "outside a key exchange",
            Stage::AfterNewkeys => "after NEWKEYS",
            Stage::OutOfSequence => "out of sequence",
            Stage::BeforeService => "before the service was accepted",
            Stage::WrongRole => "for this role",
        })
    }
}

/// A fatal transport error: the connection ends. A DISCONNECT with
/// [`TransportError::reason`] has been queued for the peer when that was possible
/// (after the identification exchange). [`fmt::Display`] gives the text for a log line
/// and for the DISCONNECT's description.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TransportError {
    /// The peer's first line was not an SSH identification (RFC 4253 §4.2); `line` is
    /// its first 80 characters.
    InvalidIdentification {
        /// The start of what the peer sent.
        line: String,
    },
    /// The identification line was longer than RFC 4253 §4.2's 255 characters.
    IdentificationTooLong,
    /// The peer speaks another protocol major version (an SSH-1-only `SSH-1.5-`).
    ProtocolVersionMismatch {
        /// The peer's `protoversion`.
        peer: String,
    },
    /// No algorithm of one name-list is offered by both sides.
    NoMatchingAlgorithm {
        /// Which list.
        what: AlgorithmKind,
        /// The client's offer, as sent.
        client: String,
        /// The server's offer, as sent.
        server: String,
    },
    /// Negotiation picked a name that is not an algorithm (a marker such as
    /// `ext-info-c` that both sides listed).
    UnknownAlgorithm {
        /// Which list.
        what: AlgorithmKind,
        /// The name picked.
        name: String,
    },
    /// A packet's MAC or AEAD tag did not verify.
    Mac,
    /// A packet's framing was bad (length, alignment, padding) or an outgoing payload
    /// was too long.
    BadPacket(PacketError),
    /// A message did not parse.
    Malformed(WireError),
    /// A packet with no message number.
    EmptyPacket,
    /// A strict-kex rule was broken.
    StrictKex(StrictKexViolation),
    /// A message arrived where it is not allowed.
    UnexpectedMessage {
        /// Its number.
        number: u8,
        /// Where it arrived.
        stage: Stage,
    },
    /// A second KEXINIT from the peer while its first is still being answered.
    KexinitDuringKex,
    /// The peer asked for more key exchanges before authentication than
    /// [`crate::MAX_PREAUTH_KEX`] allows.
    KexFlood {
        /// The exchanges the peer asked for, the refused one included.
        exchanges: u32,
    },
    /// The key exchange failed: a bad public value, a group out of bounds, a method
    /// that is not compiled in, a key we could not use.
    KeyExchange(String),
    /// The server's host key signature did not verify (client role).
    HostKey(String),
    /// The client asked for a service we do not offer, or asked twice.
    ServiceNotAvailable {
        /// The service name asked for.
        name: String,
    },
    /// A bounded queue is full (messages held back during key exchange, events not
    /// taken by the caller, input held while waiting for the caller).
    QueueFull(&'static str),
    /// The transport's state was taken by [`crate::Transport::export`]: this one is
    /// finished (nothing is sent to the peer; the importing transport goes on).
    Exported,
}

impl TransportError {
    /// The `SSH_DISCONNECT_*` reason code sent with the DISCONNECT.
    pub fn reason(&self) -> u32 {
        match self {
            TransportError::ProtocolVersionMismatch { .. } => {
                reason::SSH_DISCONNECT_PROTOCOL_VERSION_NOT_SUPPORTED
            }
            TransportError::NoMatchingAlgorithm { .. }
            | TransportError::UnknownAlgorithm { .. }
            | TransportError::KeyExchange(_) => reason::SSH_DISCONNECT_KEY_EXCHANGE_FAILED,
            TransportError::Mac => reason::SSH_DISCONNECT_MAC_ERROR,
            TransportError::HostKey(_) => reason::SSH_DISCONNECT_HOST_KEY_NOT_VERIFIABLE,
            TransportError::ServiceNotAvailable { .. } => {
                reason::SSH_DISCONNECT_SERVICE_NOT_AVAILABLE
            }
            TransportError::QueueFull(_) | TransportError::Exported => {
                reason::SSH_DISCONNECT_BY_APPLICATION
            }
            // A flood is a policy limit, but OpenSSH sends every disconnect of its own
            // (sshpkt_disconnect) with PROTOCOL_ERROR; so does Sisu.
            TransportError::InvalidIdentification { .. }
            | TransportError::IdentificationTooLong
            | TransportError::BadPacket(_)
            | TransportError::Malformed(_)
            | TransportError::EmptyPacket
            | TransportError::StrictKex(_)
            | TransportError::UnexpectedMessage { .. }
            | TransportError::KexinitDuringKex
            | TransportError::KexFlood { .. } => reason::SSH_DISCONNECT_PROTOCOL_ERROR,
        }
    }

    /// Whether the error happened in the identification exchange (before any packet):
    /// OpenSSH logs these as `kex_exchange_identification: …`.
    pub fn is_identification(&self) -> bool {
        matches!(
            self,
            TransportError::InvalidIdentification { .. }
                | TransportError::IdentificationTooLong
                | TransportError::ProtocolVersionMismatch { .. }
        )
    }

    /// A key-exchange failure (`SSH_DISCONNECT_KEY_EXCHANGE_FAILED`), for the methods.
    pub(crate) fn kex(message: impl Into<String>) -> Self {
        TransportError::KeyExchange(message.into())
    }

    /// A method's message out of order.
    pub(crate) fn out_of_sequence(number: u8) -> Self {
        TransportError::UnexpectedMessage {
            number,
            stage: Stage::OutOfSequence,
        }
    }
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TransportError::InvalidIdentification { line } => {
                write!(f, "invalid protocol identifier {line:?}")
            }
            TransportError::IdentificationTooLong => f.write_str("identification line too long"),
            TransportError::ProtocolVersionMismatch { peer } => {
                write!(f, "Protocol major versions differ: 2 vs. {peer}")
            }
            TransportError::NoMatchingAlgorithm {
                what,
                client,
                server,
            } => write!(
                f,
                "no matching {what} found: client {client} server {server}"
            ),
            TransportError::UnknownAlgorithm { what, name } => write!(f, "unknown {what} {name}"),
            TransportError::Mac => f.write_str("message authentication code incorrect"),
            TransportError::BadPacket(e) => write!(f, "{e}"),
            TransportError::Malformed(e) => write!(f, "malformed message: {e}"),
            TransportError::EmptyPacket => f.write_str("empty packet"),
            TransportError::StrictKex(StrictKexViolation::UnexpectedPacket(n)) => {
                write!(f, "strict KEX violation: unexpected packet type {n}")
            }
            TransportError::StrictKex(StrictKexViolation::KexinitNotFirst) => {
                f.write_str("strict KEX violation: KEXINIT was not the first packet")
            }
            TransportError::UnexpectedMessage { number, stage } => {
                write!(f, "unexpected message {number} {stage}")
            }
            TransportError::KexinitDuringKex => f.write_str("KEXINIT during key exchange"),
            TransportError::KexFlood { exchanges } => write!(
                f,
                "too many key exchanges before authentication ({exchanges})"
            ),
            TransportError::KeyExchange(m) | TransportError::HostKey(m) => f.write_str(m),
            TransportError::ServiceNotAvailable { name } => {
                write!(f, "service {name:?} not available")
            }
            TransportError::QueueFull(what) => f.write_str(what),
            TransportError::Exported => f.write_str("transport exported to another process"),
        }
    }
}

impl std::error::Error for TransportError {}

impl From<WireError> for TransportError {
    fn from(e: WireError) -> Self {
        TransportError::Malformed(e)
    }
}

impl From<PacketError> for TransportError {
    fn from(e: PacketError) -> Self {
        match e {
            PacketError::Mac => TransportError::Mac,
            other => TransportError::BadPacket(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_keeps_the_log_texts() {
        let e = TransportError::NoMatchingAlgorithm {
            what: AlgorithmKind::KeyExchange,
            client: "a,b".into(),
            server: "c".into(),
        };
        assert_eq!(
            e.to_string(),
            "no matching key exchange method found: client a,b server c"
        );
        assert_eq!(e.reason(), reason::SSH_DISCONNECT_KEY_EXCHANGE_FAILED);
        assert_eq!(
            TransportError::ProtocolVersionMismatch { peer: "1.5".into() }.to_string(),
            "Protocol major versions differ: 2 vs. 1.5"
        );
        assert_eq!(
            TransportError::from(PacketError::BadLength(7)).to_string(),
            "Bad packet length 7."
        );
        assert_eq!(TransportError::from(PacketError::Mac), TransportError::Mac);
        assert_eq!(
            TransportError::StrictKex(StrictKexViolation::UnexpectedPacket(2)).to_string(),
            "strict KEX violation: unexpected packet type 2"
        );
        assert!(TransportError::IdentificationTooLong.is_identification());
        assert!(!TransportError::Mac.is_identification());
        assert_eq!(
            TransportError::KexFlood { exchanges: 4 }.reason(),
            reason::SSH_DISCONNECT_PROTOCOL_ERROR
        );
    }
}
