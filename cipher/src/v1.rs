//! Protocol 1's ciphers (SSH 1.5, as the original `ssh-1.2.x` and OpenSSH's
//! protocol 1 define them), for the SSH-1 packet format of `sisu_wire::v1`:
//!
//! - `3des` ([`V1Cipher::ThreeDes`], `SSH_CIPHER_3DES` = 3): *inner-CBC* triple DES —
//!   three chained DES-CBC layers, each with its own chaining state, all starting
//!   from a zero IV. With k1, k2, k3 the first three 8-byte pieces of the session key,
//!   encryption is CBC-encrypt(k1) → CBC-decrypt(k2) → CBC-encrypt(k3), and
//!   decryption the reverse: CBC-decrypt(k3) → CBC-encrypt(k2) → CBC-decrypt(k1).
//!   This is not SSH-2's `3des-cbc` (outer CBC around DES-EDE).
//! - `blowfish` ([`V1Cipher::Blowfish`], 6): Blowfish-CBC, zero IV, with the whole
//!   32-byte session key, and SSH-1's byte order: each 32-bit half of a block is read
//!   and written little-endian (RustCrypto's `BlowfishLE`; the original swapped the
//!   bytes around a big-endian Blowfish).
//! - `des` ([`V1Cipher::Des`], 2): single DES-CBC, zero IV, with the first 8 bytes of
//!   the session key.
//!
//! Each direction has its own [`V1Crypt`]; its state runs on from packet to packet.
//! Data must be whole 8-byte blocks (SSH-1 packets are padded to 8). It is the
//! [`V1BlockCipher`] of `sisu_wire::v1::packet`'s codec.
//!
//! **Handing over.** [`V1Crypt::chain_state`] gives the chaining block of each CBC
//! layer (8 bytes for `des` and `blowfish`, 24 for `3des`'s three layers, in the order
//! they are applied); [`V1Crypt::resume_encryptor`] / [`V1Crypt::resume_decryptor`]
//! rebuild the crypt from the session key and that state, and it goes on exactly
//! where the other stopped.
//!
//! ```
//! use sisu_cipher::v1::{V1Cipher, V1Crypt};
//! let session_key = [7u8; 32];
//! let mut enc = V1Crypt::encryptor(V1Cipher::ThreeDes, &session_key).unwrap();
//! let mut dec = V1Crypt::decryptor(V1Cipher::ThreeDes, &session_key).unwrap();
//! let mut packet = *b"sixteen  bytes!!";
//! enc.apply(&mut packet).unwrap();
//! assert_ne!(&packet, b"sixteen  bytes!!");
//! dec.apply(&mut packet).unwrap();
//! assert_eq!(&packet, b"sixteen  bytes!!");
//! assert_eq!(V1Cipher::from_number(6), Some(V1Cipher::Blowfish));
//! ```

use crate::body::{Direction, Transform};
use crate::legacy::cbc_mode;
use sisu_wire::v1::packet::V1BlockCipher;
use std::fmt;
use zeroize::Zeroizing;

/// Bytes of an SSH-1 session key.
pub const SESSION_KEY_LEN: usize = 32;
/// The block size of every protocol 1 cipher here.
pub const BLOCK_LEN: usize = 8;
/// DES key bytes (with parity bits, which DES ignores).
const DES_KEY_LEN: usize = 8;

/// A protocol 1 cipher.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum V1Cipher {
    /// `des`: single DES-CBC. Broken (56-bit key); kept for old peers only.
    Des,
    /// `3des`: SSH-1's inner-CBC triple DES. The protocol 1 default.
    ThreeDes,
    /// `blowfish`: Blowfish-CBC in SSH-1's byte order.
    Blowfish,
}

impl V1Cipher {
    /// Every protocol 1 cipher supported, in the order a server prefers them.
    pub const ALL: &'static [V1Cipher] = &[V1Cipher::ThreeDes, V1Cipher::Blowfish, V1Cipher::Des];

    /// The cipher number of `SSH_SMSG_PUBLIC_KEY`'s mask and `SSH_CMSG_SESSION_KEY`.
    pub fn number(self) -> u8 {
        match self {
            V1Cipher::Des => 2,
            V1Cipher::ThreeDes => 3,
            V1Cipher::Blowfish => 6,
        }
    }

    /// The cipher with SSH-1 number `n`, if supported.
    pub fn from_number(n: u8) -> Option<Self> {
        Self::ALL.iter().copied().find(|c| c.number() == n)
    }

    /// The name OpenSSH uses (`Ciphers` for protocol 1, `ssh -c`).
    pub fn name(self) -> &'static str {
        match self {
            V1Cipher::Des => "des",
            V1Cipher::ThreeDes => "3des",
            V1Cipher::Blowfish => "blowfish",
        }
    }

    /// The cipher called `name`, if supported.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|c| c.name() == name)
    }

    /// Bytes of the session key used (from its beginning).
    pub fn key_len(self) -> usize {
        match self {
            V1Cipher::Des => DES_KEY_LEN,
            V1Cipher::ThreeDes => 3 * DES_KEY_LEN,
            V1Cipher::Blowfish => SESSION_KEY_LEN,
        }
    }
}

impl fmt::Display for V1Cipher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Errors of the protocol 1 ciphers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum V1Error {
    /// The session key is shorter than the cipher needs.
    ShortKey {
        /// Bytes needed.
        need: usize,
        /// Bytes given.
        got: usize,
    },
    /// Data of this length is not whole 8-byte blocks.
    Unaligned(usize),
    /// A chaining state of this length does not fit the cipher.
    BadState(usize),
}

impl fmt::Display for V1Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            V1Error::ShortKey { need, got } => {
                write!(f, "session key too short: need {need} bytes, got {got}")
            }
            V1Error::Unaligned(n) => write!(f, "{n} bytes is not a multiple of 8"),
            V1Error::BadState(n) => write!(f, "a chaining state of {n} bytes does not fit"),
        }
    }
}

impl std::error::Error for V1Error {}

/// Layers applied in order.
struct Layers(Vec<Box<dyn Transform>>);

impl Transform for Layers {
    fn apply(&mut self, data: &mut [u8]) {
        for layer in &mut self.0 {
            layer.apply(data);
        }
    }

    /// The layers' chaining blocks one after the other, in the order applied.
    fn state(&self) -> zeroize::Zeroizing<Vec<u8>> {
        let mut v = zeroize::Zeroizing::new(Vec::new());
        for layer in &self.0 {
            v.extend_from_slice(&layer.state());
        }
        v
    }
}

/// One direction of a protocol 1 cipher, keyed by the session key. Key schedules and
/// chaining state are zeroized on drop (RustCrypto's `zeroize` features).
pub struct V1Crypt {
    cipher: V1Cipher,
    inner: Box<dyn Transform>,
}

impl fmt::Debug for V1Crypt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("V1Crypt")
            .field("cipher", &self.cipher)
            .finish_non_exhaustive()
    }
}

fn des_cbc(key: &[u8], iv: &[u8], dir: Direction) -> Option<Box<dyn Transform>> {
    cbc_mode::boxed::<des::Des>(key, iv, dir)
}

/// Bytes of chaining state of `cipher`: one block per CBC layer.
pub fn chain_state_len(cipher: V1Cipher) -> usize {
    match cipher {
        V1Cipher::ThreeDes => 3 * BLOCK_LEN,
        V1Cipher::Des | V1Cipher::Blowfish => BLOCK_LEN,
    }
}

impl V1Crypt {
    /// The encrypting side of `cipher` under `session_key` (at least
    /// [`V1Cipher::key_len`] bytes; the rest is ignored).
    pub fn encryptor(cipher: V1Cipher, session_key: &[u8]) -> Result<Self, V1Error> {
        Self::new(cipher, session_key, None, Direction::Encrypt)
    }

    /// The decrypting side of `cipher` under `session_key`.
    pub fn decryptor(cipher: V1Cipher, session_key: &[u8]) -> Result<Self, V1Error> {
        Self::new(cipher, session_key, None, Direction::Decrypt)
    }

    /// An encryptor that goes on from `state`, what [`V1Crypt::chain_state`] gave
    /// ([`chain_state_len`] bytes).
    pub fn resume_encryptor(
        cipher: V1Cipher,
        session_key: &[u8],
        state: &[u8],
    ) -> Result<Self, V1Error> {
        Self::new(cipher, session_key, Some(state), Direction::Encrypt)
    }

    /// A decryptor that goes on from `state`.
    pub fn resume_decryptor(
        cipher: V1Cipher,
        session_key: &[u8],
        state: &[u8],
    ) -> Result<Self, V1Error> {
        Self::new(cipher, session_key, Some(state), Direction::Decrypt)
    }

    /// The chaining block of each CBC layer, in the order they are applied (zeros
    /// before any data): with the session key, all it takes to go on elsewhere.
    pub fn chain_state(&self) -> Zeroizing<Vec<u8>> {
        self.inner.state()
    }

    fn new(
        cipher: V1Cipher,
        session_key: &[u8],
        state: Option<&[u8]>,
        dir: Direction,
    ) -> Result<Self, V1Error> {
        let zeros = [0u8; 3 * BLOCK_LEN];
        let state = state.unwrap_or(&zeros[..chain_state_len(cipher)]);
        if state.len() != chain_state_len(cipher) {
            return Err(V1Error::BadState(state.len()));
        }
        let iv = |i: usize| &state[i * BLOCK_LEN..(i + 1) * BLOCK_LEN];
        let need = cipher.key_len();
        let key = session_key.get(..need).ok_or(V1Error::ShortKey {
            need,
            got: session_key.len(),
        })?;
        let short = V1Error::ShortKey {
            need,
            got: session_key.len(),
        };
        let inner: Box<dyn Transform> = match cipher {
            V1Cipher::Des => des_cbc(key, iv(0), dir).ok_or(short)?,
            V1Cipher::ThreeDes => {
                let k = |i: usize| &key[i * DES_KEY_LEN..(i + 1) * DES_KEY_LEN];
                let layers = match dir {
                    Direction::Encrypt => [
                        des_cbc(k(0), iv(0), Direction::Encrypt),
                        des_cbc(k(1), iv(1), Direction::Decrypt),
                        des_cbc(k(2), iv(2), Direction::Encrypt),
                    ],
                    Direction::Decrypt => [
                        des_cbc(k(2), iv(0), Direction::Decrypt),
                        des_cbc(k(1), iv(1), Direction::Encrypt),
                        des_cbc(k(0), iv(2), Direction::Decrypt),
                    ],
                };
                let layers: Option<Vec<_>> = layers.into_iter().collect();
                Box::new(Layers(layers.ok_or(short)?))
            }
            V1Cipher::Blowfish => {
                cbc_mode::boxed::<blowfish::BlowfishLE>(key, iv(0), dir).ok_or(short)?
            }
        };
        Ok(V1Crypt { cipher, inner })
    }

    /// The cipher.
    pub fn cipher(&self) -> V1Cipher {
        self.cipher
    }

    /// Encrypts or decrypts `data` (whole 8-byte blocks) in place, continuing the
    /// chain from the previous call.
    pub fn apply(&mut self, data: &mut [u8]) -> Result<(), V1Error> {
        if !data.len().is_multiple_of(BLOCK_LEN) {
            return Err(V1Error::Unaligned(data.len()));
        }
        self.inner.apply(data);
        Ok(())
    }
}

/// The SSH-1 packet codec's cipher: whole blocks, which the codec guarantees (an
/// unaligned call, a codec bug, leaves the data as it is).
impl V1BlockCipher for V1Crypt {
    fn apply(&mut self, data: &mut [u8]) {
        let _ = V1Crypt::apply(self, data);
    }

    fn stream_state(&self) -> Zeroizing<Vec<u8>> {
        self.chain_state()
    }
}

#[cfg(test)]
mod tests;
