//! # sisu-kex: the SSH transport
//!
//! This crate owns one connection's SSH-2 transport layer (RFC 4253), both roles: the
//! identification exchange, `SSH_MSG_KEXINIT` negotiation, the key exchange methods,
//! the exchange hash and key derivation, host-key signatures, strict kex
//! (`kex-strict-*-v00@openssh.com`), `SSH_MSG_EXT_INFO` (RFC 8308) and rekeying. It is a
//! sans-IO state machine: bytes in through [`Transport::handle_input`], bytes out through
//! [`Transport::poll_transmit`], messages for the layers above as [`Event::Message`].
//! Randomness comes from the caller; there is no clock: a caller that wants time-based
//! rekeying calls [`Transport::start_rekey`].
//! [`Transport`]'s docs list its methods by kind and the order to call them.
//!
//! **Seams for privilege separation.** The transport never needs a private key: a
//! server given [`HostKey::public_only`] keys asks its caller to sign each exchange
//! hash ([`Event::SignatureNeeded`], answered with [`Transport::provide_signature`] and
//! verified against the key before it is sent). It never reads a file: with
//! [`moduli::GexGroups::from_caller`] the group for a group-exchange request is the
//! caller's choice ([`Event::GroupNeeded`], [`Transport::provide_group`]); a fixed list
//! (the built-in RFC 3526 groups by default) serves clients and tests. And its whole
//! state between key exchanges can move to another process: [`Transport::export`]
//! gives a [`TransportState`] (keys, each cipher's stream position, sequence numbers,
//! half-read input, untaken output and events, flags and counters) that
//! [`TransportState::to_bytes`] encodes and [`TransportState::from_bytes`] decodes,
//! bounded and refusing garbage (the format is in [`state`]), for
//! [`Transport::import`] in a fresh transport; the peer notices nothing.
//!
//! What a hostile peer meets (details in the transport's docs and [`TransportError`]):
//! until the peer's first `SSH_MSG_NEWKEYS` only key-exchange messages are taken (with
//! strict kex only KEXINIT, NEWKEYS and 30–49); a server takes nothing of the layers
//! above before it has accepted `ssh-userauth` and raised [`Event::ServiceAccepted`],
//! which is when its caller starts authentication; before
//! [`Transport::set_authenticated`] a peer gets at most [`MAX_PREAUTH_KEX`] key
//! exchanges; a guessed first key-exchange packet (RFC 4253 §7.1, and Dropbear's
//! [`KEX_GUESS2`]) is used when right and dropped when wrong. Packet framing hides a bad
//! decrypted length in encrypt-and-MAC mode (see `sisu_wire::packet`).
//!
//! Key exchange methods ([`KexAlg`]), each family a module of [`method`] behind one
//! trait: `mlkem768x25519-sha256` and `sntrup761x25519-sha512` (post-quantum hybrids,
//! the default first choices), `curve25519-sha256`, `diffie-hellman-group-exchange-sha256`
//! (groups from a moduli file, see [`moduli`]), `diffie-hellman-group{16,18}-sha512` and
//! `group14-sha256`; with the default `legacy` feature, and offered only when
//! configured, `ecdh-sha2-nistp256/384/521`, `diffie-hellman-group1-sha1`,
//! `group14-sha1` and `group-exchange-sha1`. Bad public values (all-zero X25519 results,
//! points off the curve, DH values outside 2..p-2, KEM values of the wrong length) end
//! the connection with `SSH_DISCONNECT_KEY_EXCHANGE_FAILED`.
//!
//! Hand-written here, because no crate does it: the MODP group constants (computed from
//! their RFC formula, [`method::groups`]), the moduli file parser and FIPS 203's ML-KEM
//! public-key modulus check. The arithmetic is RustCrypto's (crypto-bigint, p256/p384/
//! p521, x25519-dalek, ml-kem) and the `sntrup761` crate.
//!
//! Protocol 1.5 (SSH-1: the session-key exchange and its transport, both roles) is
//! in `v1` (cargo feature `v1`, on by default; off at run time until configured).
//!
//! ```
//! use sisu_kex::{Transport, TransportConfig, HostKey, Event};
//! use rand_core::OsRng;
//! let key = ssh_key::PrivateKey::random(&mut OsRng, ssh_key::Algorithm::Ed25519).unwrap();
//! let mut server = Transport::server(TransportConfig::default(), vec![HostKey::new(key).unwrap()], Box::new(OsRng));
//! let mut client = Transport::client(TransportConfig::default(), Box::new(OsRng));
//! // Shuttle bytes until both sides have keys.
//! for _ in 0..10 {
//!     if let Some(b) = client.poll_transmit() { server.handle_input(&b).unwrap(); }
//!     if let Some(b) = server.poll_transmit() { client.handle_input(&b).unwrap(); }
//! }
//! assert_eq!(server.session_id(), client.session_id());
//! assert!(server.session_id().is_some());
//! ```
#![forbid(unsafe_code)]
// No panics on a network path: tests (and doc examples) may unwrap, the library may not.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]
#![deny(missing_docs)]

pub mod alg;
pub mod derive;
pub mod hostkey;
pub mod hostkey_alg;
pub mod kexinit;
pub mod method;
pub mod moduli;
mod transport;
#[cfg(feature = "v1")]
pub mod v1;

pub use alg::{KexAlg, KexFamily};
pub use derive::HashAlg;
pub use hostkey::{ExternalSigner, HostKey};
pub use hostkey_alg::HostKeyAlg;
pub use transport::state;
pub use transport::{
    AlgorithmKind, Event, ExportError, Negotiated, Role, Stage, StateError, StrictKexViolation,
    Transport, TransportConfig, TransportError, TransportState, DEFAULT_REKEY_BYTES, EXT_INFO_C,
    KEX_GUESS2, KEX_STRICT_C, KEX_STRICT_S, MAX_INPUT_WHILE_WAITING, MAX_PENDING_EVENTS,
    MAX_PREAUTH_KEX, MAX_QUEUED_MESSAGES,
};
