//! RC4 (`arcfour`, RFC 4253 §6.3; `arcfour128` / `arcfour256`, RFC 4345) from
//! RustCrypto's `rc4`. The same keystream encrypts and decrypts.

use crate::body::Transform;
use cipher::consts::{U16, U32};
use cipher::{KeyInit, StreamCipher};
use rc4::Rc4;

/// Keystream bytes RFC 4345 discards before use (`arcfour128`, `arcfour256`).
pub(crate) const RFC4345_DISCARD: usize = 1536;

enum Keystream {
    K16(Rc4<U16>),
    K32(Rc4<U32>),
}

/// A running RC4 keystream.
pub(crate) struct Arcfour(Keystream);

impl Transform for Arcfour {
    fn apply(&mut self, data: &mut [u8]) {
        match &mut self.0 {
            Keystream::K16(c) => c.apply_keystream(data),
            Keystream::K32(c) => c.apply_keystream(data),
        }
    }
}

impl Arcfour {
    /// RC4 keyed with a 16- or 32-byte `key`, after `discard` keystream bytes.
    pub(crate) fn new(key: &[u8], discard: usize) -> Option<Self> {
        let mut ks = Arcfour(match key.len() {
            16 => Keystream::K16(Rc4::new_from_slice(key).ok()?),
            32 => Keystream::K32(Rc4::new_from_slice(key).ok()?),
            _ => return None,
        });
        let mut skip = vec![0u8; discard];
        ks.apply(&mut skip);
        Some(ks)
    }
}

/// [`Arcfour::new`], boxed.
pub(crate) fn boxed(key: &[u8], discard: usize) -> Option<Box<dyn Transform>> {
    Some(Box::new(Arcfour::new(key, discard)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Keys 0x0102...10 and 0x0102...20: the keystream at offset 0 (RFC 6229 §2) and
    /// at offset 1536, the first bytes `arcfour128` / `arcfour256` use (computed with
    /// OpenSSL's RC4 through Python's `cryptography`).
    #[test]
    fn rfc6229_keystream() {
        let key16: Vec<u8> = (1..=16).collect();
        let key32: Vec<u8> = (1..=32).collect();
        let stream = |key: &[u8], discard| {
            let mut a = Arcfour::new(key, discard).unwrap();
            let mut out = [0u8; 16];
            a.apply(&mut out);
            out
        };
        let hex = |s: &str| -> Vec<u8> {
            (0..s.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
                .collect()
        };
        assert_eq!(
            stream(&key16, 0)[..],
            hex("9ac7cc9a609d1ef7b2932899cde41b97")[..]
        );
        assert_eq!(
            stream(&key16, RFC4345_DISCARD)[..],
            hex("ffa0b514647ec04f6306b892ae661181")[..]
        );
        assert_eq!(
            stream(&key32, RFC4345_DISCARD)[..],
            hex("3e34135c79db010200767651cf263073")[..]
        );
        assert!(Arcfour::new(&key16[..15], 0).is_none());
    }

    #[test]
    fn state_is_zeroized_on_drop() {
        fn zeroize_on_drop<T: zeroize::ZeroizeOnDrop>() {}
        zeroize_on_drop::<rc4::Rc4Core<U16>>();
    }
}
