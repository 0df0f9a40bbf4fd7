//! CBC mode over any RustCrypto block cipher (RustCrypto's `cbc`), as a
//! [`Transform`] whose chain runs on from packet to packet.

use crate::body::{Direction, Transform};
use cipher::inout::InOutBuf;
use cipher::{BlockCipher, BlockDecryptMut, BlockEncryptMut, IvState, KeyInit, KeyIvInit};
use zeroize::Zeroizing;

/// CBC encryption.
pub(crate) struct CbcEncrypt<C: BlockEncryptMut + BlockCipher>(pub(crate) cbc::Encryptor<C>);
/// CBC decryption.
pub(crate) struct CbcDecrypt<C: BlockDecryptMut + BlockCipher>(pub(crate) cbc::Decryptor<C>);

impl<C: BlockEncryptMut + BlockCipher + Send> Transform for CbcEncrypt<C> {
    fn apply(&mut self, data: &mut [u8]) {
        // Whole blocks only: the packet codec aligns every packet, so there is no tail.
        let (blocks, _tail) = InOutBuf::from(data).into_chunks();
        self.0.encrypt_blocks_inout_mut(blocks);
    }

    /// The chaining block: the last ciphertext block sent (the initial IV before any).
    fn state(&self) -> Zeroizing<Vec<u8>> {
        Zeroizing::new(self.0.iv_state().to_vec())
    }
}

impl<C: BlockDecryptMut + BlockCipher + Send> Transform for CbcDecrypt<C> {
    fn apply(&mut self, data: &mut [u8]) {
        let (blocks, _tail) = InOutBuf::from(data).into_chunks();
        self.0.decrypt_blocks_inout_mut(blocks);
    }

    /// The chaining block: the last ciphertext block received.
    fn state(&self) -> Zeroizing<Vec<u8>> {
        Zeroizing::new(self.0.iv_state().to_vec())
    }
}

/// A CBC transform under `key` and `iv` (exact lengths), boxed. Restoring an exported
/// one is the same call with its chaining block as `iv`.
pub(crate) fn boxed<C>(key: &[u8], iv: &[u8], dir: Direction) -> Option<Box<dyn Transform>>
where
    C: BlockEncryptMut + BlockDecryptMut + BlockCipher + KeyInit + Send + 'static,
{
    Some(match dir {
        Direction::Encrypt => Box::new(CbcEncrypt(
            cbc::Encryptor::<C>::new_from_slices(key, iv).ok()?,
        )),
        Direction::Decrypt => Box::new(CbcDecrypt(
            cbc::Decryptor::<C>::new_from_slices(key, iv).ok()?,
        )),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rebuilt from its chaining block after any whole number of blocks, CBC goes on
    /// as the original, both ways.
    #[cfg(feature = "aes-cbc")]
    #[test]
    fn restored_chain_continues() {
        let (key, iv) = ([7u8; 16], [9u8; 16]);
        let plain: Vec<u8> = (0..96).map(|i| i as u8).collect();
        let mut whole = plain.clone();
        boxed::<aes::Aes128>(&key, &iv, Direction::Encrypt)
            .unwrap()
            .apply(&mut whole);
        for cut in (0..=96).step_by(16) {
            let mut e = boxed::<aes::Aes128>(&key, &iv, Direction::Encrypt).unwrap();
            let mut out = plain.clone();
            e.apply(&mut out[..cut]);
            let mut e = boxed::<aes::Aes128>(&key, &e.state(), Direction::Encrypt).unwrap();
            e.apply(&mut out[cut..]);
            assert_eq!(out, whole, "encrypt cut {cut}");
            let mut d = boxed::<aes::Aes128>(&key, &iv, Direction::Decrypt).unwrap();
            d.apply(&mut out[..cut]);
            let mut d = boxed::<aes::Aes128>(&key, &d.state(), Direction::Decrypt).unwrap();
            d.apply(&mut out[cut..]);
            assert_eq!(out, plain, "decrypt cut {cut}");
        }
    }

    #[test]
    fn state_is_zeroized_on_drop() {
        fn zeroize_on_drop<T: zeroize::ZeroizeOnDrop>() {}
        #[cfg(feature = "aes-cbc")]
        {
            zeroize_on_drop::<cbc::Encryptor<aes::Aes128>>();
            zeroize_on_drop::<cbc::Decryptor<aes::Aes256>>();
        }
        #[cfg(feature = "3des")]
        zeroize_on_drop::<cbc::Decryptor<des::TdesEde3>>();
        #[cfg(feature = "blowfish")]
        zeroize_on_drop::<cbc::Encryptor<blowfish::Blowfish>>();
        #[cfg(feature = "cast128")]
        zeroize_on_drop::<cbc::Encryptor<cast5::Cast5>>();
        #[cfg(feature = "v1")]
        zeroize_on_drop::<cbc::Decryptor<blowfish::BlowfishLE>>();
    }
}
