//! Legacy packet protection, kept apart from the modern suites: compiled in by
//! default, each family behind its own cargo feature, and offered only when
//! configured (never in [`crate::CipherAlg::DEFAULT`] / [`crate::MacAlg::DEFAULT`]).
//!
//! | feature | ciphers |
//! |---|---|
//! | `aes-cbc` | `aes128-cbc`, `aes192-cbc`, `aes256-cbc`, `rijndael-cbc@lysator.liu.se` |
//! | `3des` | `3des-cbc` (three-key EDE) |
//! | `blowfish` | `blowfish-cbc` |
//! | `cast128` | `cast128-cbc` |
//! | `arcfour` | `arcfour`, `arcfour128`, `arcfour256` (RFC 4345: 1536 bytes discarded) |
//!
//! The legacy MACs (`hmac-sha1`, `hmac-md5`, `hmac-ripemd160` features and
//! `umac-64`) live with the others in the MAC module; protocol 1's ciphers are in
//! [`crate::v1`].
//!
//! CBC (RFC 4253 §6.3) chains across packets: the last ciphertext block of one
//! packet is the IV of the next. With encrypt-and-MAC the opener decrypts the first
//! block in `decrypt_length` and continues the chain in `open`. The primitives are
//! RustCrypto's (`aes`, `des`, `blowfish`, `cast5`, `cbc`), with their `zeroize`
//! features; RC4 is written by hand because no crate exports its state.
//!
//! Exported state (for handing a connection to another process): a CBC transform's is
//! its chaining block (the last ciphertext block, block-size bytes), RC4's is its
//! permutation and indices (258 bytes).

#[cfg(feature = "arcfour")]
pub(crate) mod arcfour;
#[cfg(any(
    feature = "aes-cbc",
    feature = "3des",
    feature = "blowfish",
    feature = "cast128",
    feature = "v1"
))]
pub(crate) mod cbc_mode;

use crate::body::{Direction, Transform};
use crate::CipherAlg;

/// The running transform of a legacy `cipher` with exact-length `key` and `iv`, or
/// `None` when `cipher` is not a legacy cipher compiled in (or a length is wrong).
pub(crate) fn transform(
    cipher: CipherAlg,
    key: &[u8],
    iv: &[u8],
    dir: Direction,
) -> Option<Box<dyn Transform>> {
    let _ = (key, iv, dir);
    match cipher {
        #[cfg(feature = "aes-cbc")]
        CipherAlg::Aes128Cbc => cbc_mode::boxed::<aes::Aes128>(key, iv, dir),
        #[cfg(feature = "aes-cbc")]
        CipherAlg::Aes192Cbc => cbc_mode::boxed::<aes::Aes192>(key, iv, dir),
        #[cfg(feature = "aes-cbc")]
        CipherAlg::Aes256Cbc | CipherAlg::RijndaelCbc => {
            cbc_mode::boxed::<aes::Aes256>(key, iv, dir)
        }
        #[cfg(feature = "3des")]
        CipherAlg::TripleDesCbc => cbc_mode::boxed::<des::TdesEde3>(key, iv, dir),
        #[cfg(feature = "blowfish")]
        CipherAlg::BlowfishCbc => cbc_mode::boxed::<blowfish::Blowfish>(key, iv, dir),
        #[cfg(feature = "cast128")]
        CipherAlg::Cast128Cbc => cbc_mode::boxed::<cast5::Cast5>(key, iv, dir),
        #[cfg(feature = "arcfour")]
        CipherAlg::Arcfour => arcfour::boxed(key, 0),
        #[cfg(feature = "arcfour")]
        CipherAlg::Arcfour128 | CipherAlg::Arcfour256 => {
            arcfour::boxed(key, arcfour::RFC4345_DISCARD)
        }
        _ => None,
    }
}

/// The running transform of a legacy `cipher` rebuilt from its exported `state` (see
/// the module docs) under exact-length `key`; `None` when the state does not fit.
pub(crate) fn restored_transform(
    cipher: CipherAlg,
    key: &[u8],
    state: &[u8],
    dir: Direction,
) -> Option<Box<dyn Transform>> {
    match cipher {
        #[cfg(feature = "arcfour")]
        CipherAlg::Arcfour | CipherAlg::Arcfour128 | CipherAlg::Arcfour256 => {
            arcfour::restored(state)
        }
        // CBC: the chaining block takes the place of the IV.
        _ if state.len() == cipher.block_size() && cipher.iv_len() == state.len() => {
            transform(cipher, key, state, dir)
        }
        _ => None,
    }
}
