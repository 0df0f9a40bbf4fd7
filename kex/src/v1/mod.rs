//! SSH protocol 1.5's transport: the session-key exchange and the encrypted packet
//! stream after it, both roles, as a sans-IO machine ([`V1Transport`]). A legacy
//! protocol (cargo feature `v1`, on by default; off at run time until configured).
//!
//! The exchange, as OpenSSH's protocol 1 runs it:
//!
//! 1. server → `SSH_SMSG_PUBLIC_KEY` ([`msg::PublicKey`]): a random 8-byte cookie,
//!    the server key and the host key, protocol flags, the cipher and
//!    authentication masks;
//! 2. client → `SSH_CMSG_SESSION_KEY` ([`msg::SessionKey`]): the cipher chosen, the
//!    cookie echoed, the session key encrypted under both keys
//!    ([`encrypt_session_key`]), its flags; the client turns encryption on;
//! 3. server: checks the cookie and the cipher, has the key decrypted
//!    ([`V1Event::SessionKeyNeeded`], answered with
//!    [`V1Transport::provide_session_key`]: the private keys stay with the caller,
//!    the daemon's monitor, which calls [`decrypt_session_key`]), turns encryption on
//!    and sends `SSH_SMSG_SUCCESS`, encrypted.
//!
//! The session id is [`session_id`]; packets are `sisu_wire::v1::packet`'s, over
//! `sisu_cipher::v1`'s ciphers. [`V1Transport::export`] hands the keyed transport to
//! another process ([`V1TransportState`]).
//!
//! ```
//! use sisu_kex::v1::{decrypt_session_key, V1Config, V1Event, V1Transport};
//! use sisu_cipher::v1::V1Cipher;
//! use rand_core::OsRng;
//! # let host = rsa::RsaPrivateKey::new(&mut OsRng, 768).unwrap();
//! # let server_key = rsa::RsaPrivateKey::new(&mut OsRng, 512).unwrap();
//! // host, server_key: rsa::RsaPrivateKey (in the daemon, in the monitor only).
//! let mut server = V1Transport::server(V1Config::default(), &host.to_public_key(),
//!     &server_key.to_public_key(), Box::new(OsRng), &[]);
//! let mut client = V1Transport::client(V1Cipher::ThreeDes, Box::new(OsRng));
//! for _ in 0..4 {
//!     while let Some(b) = server.poll_transmit() { client.handle_input(&b).unwrap(); }
//!     while let Some(b) = client.poll_transmit() { server.handle_input(&b).unwrap(); }
//!     while let Some(ev) = server.poll_event() {
//!         if let V1Event::SessionKeyNeeded { encrypted, session_id, .. } = ev {
//!             let key = decrypt_session_key(&host, &server_key, &encrypted, &session_id, &mut OsRng);
//!             server.provide_session_key(key).unwrap();
//!         }
//!     }
//! }
//! assert_eq!(server.cipher(), Some(V1Cipher::ThreeDes));
//! assert_eq!(client.session_id(), server.session_id());
//! ```

mod error;
pub mod msg;
mod session_key;
pub mod state;
#[cfg(test)]
mod tests;
mod transport;

pub use error::V1Error;
pub use msg::RsaPublicParts;
pub use session_key::{
    check_key_sizes, decrypt_session_key, encrypt_session_key, session_id, session_id_of,
    MAX_MODULUS_BITS, MIN_MODULUS_BITS, SESSION_ID_LEN, SESSION_KEY_LEN, SSH_KEY_BITS_RESERVED,
};
pub use sisu_cipher::v1::V1Cipher;
pub use state::V1TransportState;
pub use transport::V1Transport;

use sisu_wire::v1::msg::{auth, flags};

/// Most output bytes waiting for [`V1Transport::poll_transmit`] before
/// [`V1Transport::send`] refuses more ([`V1Error::OutputFull`]).
pub const MAX_PENDING_OUTPUT: usize = 4 * 1024 * 1024;
/// Most events waiting for [`V1Transport::poll_event`] ([`V1Error::EventsFull`]).
pub const MAX_PENDING_EVENTS: usize = 4096;
/// Most input bytes held while the session key is being decrypted (a client sends
/// nothing more before `SSH_SMSG_SUCCESS`; [`V1Error::InputOverflow`] beyond).
pub const MAX_INPUT_AWAITING: usize = 16 * 1024;
/// Longest `SSH_MSG_DISCONNECT` description kept from a peer, in bytes.
pub const MAX_DESCRIPTION: usize = 1024;

/// What a server offers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct V1Config {
    /// Ciphers offered (the mask of `SSH_SMSG_PUBLIC_KEY`); a client choosing another
    /// is refused.
    pub ciphers: Vec<V1Cipher>,
    /// Authentication methods offered: bit N for method N
    /// (`sisu_wire::v1::msg::auth`).
    pub auth_mask: u32,
    /// Protocol flags sent (`sisu_wire::v1::msg::flags`).
    pub protocol_flags: u32,
}

impl Default for V1Config {
    /// Every cipher, RSA and password authentication, and
    /// `SSH_PROTOFLAG_HOST_IN_FWD_OPEN` (what sshd sent).
    fn default() -> Self {
        V1Config {
            ciphers: V1Cipher::ALL.to_vec(),
            auth_mask: (1 << auth::RSA) | (1 << auth::PASSWORD),
            protocol_flags: flags::HOST_IN_FWD_OPEN,
        }
    }
}

impl V1Config {
    /// The cipher mask of `SSH_SMSG_PUBLIC_KEY`.
    pub fn cipher_mask(&self) -> u32 {
        self.ciphers
            .iter()
            .fold(0, |m, c| m | 1u32 << u32::from(c.number()))
    }
}

/// What the transport tells its caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum V1Event {
    /// Server: decrypt this (via the monitor, which holds the private keys) and call
    /// [`V1Transport::provide_session_key`].
    SessionKeyNeeded {
        /// The cipher the client chose (offered, checked).
        cipher: V1Cipher,
        /// The encrypted session key integer, for [`decrypt_session_key`].
        encrypted: Vec<u8>,
        /// The session id.
        session_id: [u8; 16],
    },
    /// Both: encryption is on (server: after `provide_session_key`; client: once
    /// the server's encrypted `SSH_SMSG_SUCCESS` checked out).
    KeysEstablished {
        /// The cipher.
        cipher: V1Cipher,
        /// The session id.
        session_id: [u8; 16],
    },
    /// A packet after the keys, other than `SSH_MSG_IGNORE` / `SSH_MSG_DEBUG`
    /// (dropped here) and `SSH_MSG_DISCONNECT`.
    Message {
        /// The packet type.
        msg_type: u8,
        /// The packet data.
        payload: Vec<u8>,
    },
    /// The peer sent `SSH_MSG_DISCONNECT`; the transport is closed.
    Disconnected {
        /// Its description (lossy UTF-8, at most [`MAX_DESCRIPTION`] bytes).
        description: String,
    },
}
