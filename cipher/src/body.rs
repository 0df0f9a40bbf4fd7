//! The cipher half of a cipher × MAC suite: one direction's running transform
//! (encryption for a sealer, decryption for an opener), carried from packet to packet.

use crate::aes_ctr::AesCtr;

/// One direction's cipher state. `apply` is called with whole blocks for block
/// ciphers (the packet codec guarantees alignment); stream ciphers take any length.
pub(crate) trait Transform: Send {
    /// Encrypts (sealer) or decrypts (opener) `data` in place, continuing the state.
    fn apply(&mut self, data: &mut [u8]);
}

impl Transform for AesCtr {
    fn apply(&mut self, data: &mut [u8]) {
        AesCtr::apply(self, data)
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
