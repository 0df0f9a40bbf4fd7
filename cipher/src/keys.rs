//! One direction's key material and the errors of building a suite from it.

use crate::{CipherAlg, MacAlg};
use std::fmt;
use zeroize::{Zeroize, ZeroizeOnDrop};

/// One direction's key material, as derived by key exchange (RFC 4253 §7.2): for
/// client to server the initial IV is key "A", the encryption key "C" and the
/// integrity key "E"; server to client uses "B", "D" and "F". Zeroized on drop.
///
/// Each field must hold at least the length the algorithm asks for
/// ([`CipherAlg::iv_len`], [`CipherAlg::key_len`], [`MacAlg::key_len`]); as RFC 4253
/// §7.2 says, the key data is taken from the beginning, so longer material is
/// accepted and only its prefix is used.
#[derive(Clone, Default, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct DirectionKeys {
    /// The initial IV (empty for `chacha20-poly1305@openssh.com`).
    pub iv: Vec<u8>,
    /// The encryption key.
    pub key: Vec<u8>,
    /// The integrity (MAC) key (unused, and may be empty, for AEAD ciphers).
    pub mac_key: Vec<u8>,
}

impl fmt::Debug for DirectionKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Key material never goes into logs: only the lengths.
        f.debug_struct("DirectionKeys")
            .field("iv_len", &self.iv.len())
            .field("key_len", &self.key.len())
            .field("mac_key_len", &self.mac_key.len())
            .finish()
    }
}

/// Which piece of [`DirectionKeys`] an error is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyPart {
    /// [`DirectionKeys::iv`].
    Iv,
    /// [`DirectionKeys::key`].
    Key,
    /// [`DirectionKeys::mac_key`].
    MacKey,
}

/// Why [`crate::new_sealer`] or [`crate::new_opener`] could not build a suite. These
/// are errors of the caller (key exchange), never of a peer's bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SuiteError {
    /// A non-AEAD cipher was given no MAC algorithm.
    MissingMac(CipherAlg),
    /// Some key material is shorter than the algorithm needs.
    ShortKey {
        /// Which part of the key material.
        part: KeyPart,
        /// Bytes needed.
        need: usize,
        /// Bytes given.
        got: usize,
    },
    /// The algorithm (named) is not compiled into this build (a legacy cargo
    /// feature was left out).
    Unsupported(&'static str),
    /// An exported stream state that does not fit the cipher (named): wrong length or
    /// impossible values ([`crate::restore_sealer`], [`crate::restore_opener`]).
    BadStreamState(&'static str),
}

impl fmt::Display for SuiteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SuiteError::MissingMac(c) => write!(f, "cipher {c} needs a MAC algorithm"),
            SuiteError::ShortKey { part, need, got } => {
                write!(f, "{part:?} too short: need {need} bytes, got {got}")
            }
            SuiteError::Unsupported(name) => write!(f, "{name} is not supported by this build"),
            SuiteError::BadStreamState(name) => write!(f, "bad exported state for {name}"),
        }
    }
}

impl std::error::Error for SuiteError {}

/// The first `need` bytes of `material`, or [`SuiteError::ShortKey`].
pub(crate) fn prefix(material: &[u8], part: KeyPart, need: usize) -> Result<&[u8], SuiteError> {
    material.get(..need).ok_or(SuiteError::ShortKey {
        part,
        need,
        got: material.len(),
    })
}

/// The non-AEAD MAC algorithm, or [`SuiteError::MissingMac`].
pub(crate) fn require_mac(cipher: CipherAlg, mac: Option<MacAlg>) -> Result<MacAlg, SuiteError> {
    mac.ok_or(SuiteError::MissingMac(cipher))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_key_material() {
        let k = DirectionKeys {
            iv: vec![0xAB; 16],
            key: vec![0xCD; 32],
            mac_key: vec![],
        };
        let s = format!("{k:?}");
        assert_eq!(
            s,
            "DirectionKeys { iv_len: 16, key_len: 32, mac_key_len: 0 }"
        );
    }

    #[test]
    fn zeroize_clears_everything() {
        let mut k = DirectionKeys {
            iv: vec![1; 16],
            key: vec![2; 32],
            mac_key: vec![3; 64],
        };
        k.zeroize();
        assert!(k.iv.is_empty() && k.key.is_empty() && k.mac_key.is_empty());
    }

    #[test]
    fn prefix_takes_the_beginning_or_fails() {
        assert_eq!(prefix(&[1, 2, 3], KeyPart::Key, 2), Ok(&[1u8, 2][..]));
        assert_eq!(
            prefix(&[1, 2, 3], KeyPart::Iv, 4),
            Err(SuiteError::ShortKey {
                part: KeyPart::Iv,
                need: 4,
                got: 3
            })
        );
    }
}
