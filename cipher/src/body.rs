//! The cipher half of a cipher × MAC suite: one direction's running transform
//! (encryption for a sealer, decryption for an opener), carried from packet to packet.

use crate::aes_ctr::AesCtr;
use zeroize::Zeroizing;

/// One direction's cipher state. `apply` is called with whole blocks for block
/// ciphers (the packet codec guarantees alignment); stream ciphers take any length.
pub(crate) trait Transform: Send {
    /// Encrypts (sealer) or decrypts (opener) `data` in place, continuing the state.
    fn apply(&mut self, data: &mut [u8]);
    /// The running state beyond the key, from which the transform is rebuilt in
    /// another process (each transform documents its encoding).
    fn state(&self) -> Zeroizing<Vec<u8>>;
}

impl Transform for AesCtr {
    fn apply(&mut self, data: &mut [u8]) {
        AesCtr::apply(self, data)
    }
    fn state(&self) -> Zeroizing<Vec<u8>> {
        AesCtr::state(self)
    }
}

/// Which way a [`Transform`] goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Direction {
    /// For a sealer.
    Encrypt,
    /// For an opener.
    Decrypt,
}
