//! The transport's key-exchange states, and which messages each admits.
//!
//! The first key exchange and a re-exchange are different types ([`Phase::First`] and
//! [`Phase::Keyed`] with a rekey under way), so the rules of one cannot be applied to
//! the other:
//!
//! - **first exchange** (from the start until the peer's first `SSH_MSG_NEWKEYS`):
//!   with strict kex only KEXINIT, NEWKEYS and 30–49 (OpenSSH's PROTOCOL.kex-strict);
//!   without it also the transport-generic DISCONNECT, IGNORE, UNIMPLEMENTED, DEBUG and
//!   the unassigned 8–19, 22–29 (RFC 4253 §7.1). Never SERVICE_REQUEST/ACCEPT,
//!   EXT_INFO (RFC 8308 sends it after NEWKEYS) or 50 and up: until the peer's NEWKEYS
//!   its packets are unprotected, whatever we have sent.
//! - **re-exchange**, once the peer's KEXINIT is in: the generic messages and 20–49, but
//!   not SERVICE_REQUEST/ACCEPT or 50 and up (RFC 4253 §7.1). Strict kex does not apply.
//! - **keyed**, no exchange or ours not yet answered: everything; a server also refuses
//!   50 and up until it has accepted `ssh-userauth`.

use super::error::{Stage, StrictKexViolation, TransportError};
use crate::hostkey_alg::HostKeyAlg;
use crate::method::Method;
use crate::transport::{Negotiated, Suite};
use sisu_wire::msg;
use sisu_wire::packet::Opener;
use zeroize::Zeroizing;

/// A question to the transport's caller that the exchange waits on; input meanwhile
/// stays in the decoder, unread.
pub(super) enum Waiting {
    /// [`crate::Event::SignatureNeeded`]: the server's reply, but for the signature.
    Signature(Box<PendingReply>),
    /// [`crate::Event::GroupNeeded`].
    Group,
}

/// A server's key-exchange reply waiting for the caller's signature over `h`.
pub(super) struct PendingReply {
    /// Index of the host key in the transport's list.
    pub key: usize,
    /// The plain signature algorithm asked for.
    pub alg: HostKeyAlg,
    /// The reply's message number.
    pub number: u8,
    /// The server's public value, encoded.
    pub reply_value: Vec<u8>,
    /// `K_S` as sent.
    pub k_s: Vec<u8>,
    /// The exchange hash.
    pub h: Vec<u8>,
    /// The shared secret, encoded.
    pub k: Zeroizing<Vec<u8>>,
    /// The algorithms of this exchange.
    pub negotiated: Negotiated,
}

/// One key exchange under way.
pub(super) struct Exchange {
    /// Our `SSH_MSG_KEXINIT` payload.
    pub ours: Vec<u8>,
    /// The peer's, once received.
    pub theirs: Option<Vec<u8>>,
    /// The algorithms, once both KEXINITs are in.
    pub negotiated: Option<Negotiated>,
    /// The peer's guessed key-exchange packet is wrong and must be dropped (RFC 4253
    /// §7.1).
    pub skip_guess: bool,
    /// Client: we sent a guessed packet after our KEXINIT, for these algorithms.
    pub our_guess: Option<Guess>,
    /// The method, once negotiated (or guessed).
    pub method: Option<Box<dyn Method>>,
    /// Our `SSH_MSG_NEWKEYS` is out; the opener waits for the peer's.
    pub newkeys_sent: bool,
    /// The incoming direction's new keys, used from the peer's NEWKEYS on.
    pub opener: Option<Box<dyn Opener>>,
    /// The suite and key material behind `opener` (kept for
    /// [`crate::Transport::export`]).
    pub opener_suite: Option<Suite>,
    /// A question to the caller this exchange waits on.
    pub waiting: Option<Waiting>,
    /// The server's host key blob.
    pub host_key: Vec<u8>,
}

/// The algorithms a guessed key-exchange packet was made for: the guesser's first
/// `kex_algorithms` and `server_host_key_algorithms` entries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Guess {
    /// The key exchange method guessed.
    pub kex: String,
    /// The host-key algorithm guessed.
    pub host_key: String,
}

impl Exchange {
    /// An exchange that has sent `ours` and waits for the peer's KEXINIT.
    pub fn new(ours: Vec<u8>) -> Self {
        Exchange {
            ours,
            theirs: None,
            negotiated: None,
            skip_guess: false,
            our_guess: None,
            method: None,
            newkeys_sent: false,
            opener: None,
            opener_suite: None,
            waiting: None,
            host_key: Vec::new(),
        }
    }
}

/// Where the connection is in its key exchanges.
pub(super) enum Phase {
    /// The first key exchange, until the peer's first `SSH_MSG_NEWKEYS`.
    First {
        /// The exchange.
        exchange: Exchange,
    },
    /// Keys are in place (both directions); `rekey` is a re-exchange under way.
    Keyed {
        /// The re-exchange, started by us or by the peer.
        rekey: Option<Exchange>,
    },
}

impl Phase {
    /// The exchange under way, first or re-exchange.
    pub fn exchange(&self) -> Option<&Exchange> {
        match self {
            Phase::First { exchange, .. } => Some(exchange),
            Phase::Keyed { rekey } => rekey.as_ref(),
        }
    }

    /// The exchange under way, mutably.
    pub fn exchange_mut(&mut self) -> Option<&mut Exchange> {
        match self {
            Phase::First { exchange, .. } => Some(exchange),
            Phase::Keyed { rekey } => rekey.as_mut(),
        }
    }

    /// Whether this is the first exchange.
    pub fn is_first(&self) -> bool {
        matches!(self, Phase::First { .. })
    }

    /// Whether messages of the layers above must be held back now (we are between our
    /// KEXINIT and our NEWKEYS).
    pub fn holds_back_output(&self) -> bool {
        self.exchange().is_some_and(|x| !x.newkeys_sent)
    }

    /// Checks that a packet with message number `number` may arrive now. `strict`:
    /// strict kex was negotiated (known once the peer's first KEXINIT is in).
    /// `service_open`: upper-layer messages are admitted (a server that has accepted
    /// `ssh-userauth`, or any client).
    pub fn admit(
        &self,
        number: u8,
        strict: bool,
        service_open: bool,
    ) -> Result<(), TransportError> {
        let kex_only = matches!(
            number,
            msg::SSH_MSG_KEXINIT | msg::SSH_MSG_NEWKEYS | 30..=49
        );
        let generic = matches!(
            number,
            msg::SSH_MSG_DISCONNECT
                | msg::SSH_MSG_IGNORE
                | msg::SSH_MSG_UNIMPLEMENTED
                | msg::SSH_MSG_DEBUG
                | 8..=19
                | 22..=29
        );
        let refuse = |stage| Err(TransportError::UnexpectedMessage { number, stage });
        match self {
            Phase::First { .. } if strict && !kex_only => Err(TransportError::StrictKex(
                StrictKexViolation::UnexpectedPacket(number),
            )),
            Phase::First { .. } if !(kex_only || generic) => refuse(Stage::FirstKex),
            Phase::First { .. } => Ok(()),
            Phase::Keyed { rekey: Some(x) } if x.theirs.is_some() => {
                if kex_only || generic || number == msg::SSH_MSG_EXT_INFO {
                    Ok(())
                } else {
                    refuse(Stage::Rekey)
                }
            }
            Phase::Keyed { .. } if number >= 50 && !service_open => refuse(Stage::BeforeService),
            Phase::Keyed { .. } => Ok(()),
        }
    }
}
