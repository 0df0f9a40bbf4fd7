//! AES in counter mode as SSH uses it (RFC 4344 §4): the IV is a 128-bit big-endian
//! counter, incremented once per block and continuing from packet to packet.

use crate::CipherAlg;
use aes::{Aes128, Aes192, Aes256};
use cipher::{KeyIvInit, StreamCipher};
use ctr::Ctr128BE;

/// The running AES-CTR keystream of one direction. The AES round keys, the counter
/// and the buffered keystream are zeroized on drop (`aes` and `ctr` `zeroize`).
pub(crate) enum AesCtr {
    Aes128(Ctr128BE<Aes128>),
    Aes192(Ctr128BE<Aes192>),
    Aes256(Ctr128BE<Aes256>),
}

impl AesCtr {
    /// A keystream for `cipher` (an `aes*-ctr`) from exact-length `key` and 16-byte
    /// `iv`; `None` for other ciphers or lengths.
    pub(crate) fn new(cipher: CipherAlg, key: &[u8], iv: &[u8]) -> Option<Self> {
        Some(match cipher {
            CipherAlg::Aes128Ctr => AesCtr::Aes128(Ctr128BE::new_from_slices(key, iv).ok()?),
            CipherAlg::Aes192Ctr => AesCtr::Aes192(Ctr128BE::new_from_slices(key, iv).ok()?),
            CipherAlg::Aes256Ctr => AesCtr::Aes256(Ctr128BE::new_from_slices(key, iv).ok()?),
            _ => return None,
        })
    }

    /// XORs the next `data.len()` keystream bytes into `data`. Encryption and
    /// decryption are the same operation.
    pub(crate) fn apply(&mut self, data: &mut [u8]) {
        match self {
            AesCtr::Aes128(c) => c.apply_keystream(data),
            AesCtr::Aes192(c) => c.apply_keystream(data),
            AesCtr::Aes256(c) => c.apply_keystream(data),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        let s: String = s.split_whitespace().collect();
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    #[test]
    fn state_is_zeroized_on_drop() {
        fn assert_zeroize_on_drop<T: zeroize::ZeroizeOnDrop>() {}
        assert_zeroize_on_drop::<Ctr128BE<Aes128>>();
        assert_zeroize_on_drop::<Ctr128BE<Aes192>>();
        assert_zeroize_on_drop::<Ctr128BE<Aes256>>();
    }

    #[test]
    fn counter_carries_across_all_128_bits() {
        // Counter ff..ff wraps to 00..00 (RFC 4344 §4: X = (X + 1) mod 2^128).
        let key = [9u8; 16];
        let mut a = AesCtr::new(CipherAlg::Aes128Ctr, &key, &[0xff; 16]).unwrap();
        let mut b = AesCtr::new(CipherAlg::Aes128Ctr, &key, &[0; 16]).unwrap();
        let mut two = [0u8; 32];
        a.apply(&mut two);
        let mut one = [0u8; 16];
        b.apply(&mut one);
        assert_eq!(two[16..], one);
        // Counter 00..00ff..ff (low 64 bits full) carries into the high half.
        let mut iv = [0u8; 16];
        iv[8..].fill(0xff);
        let mut c = AesCtr::new(CipherAlg::Aes128Ctr, &key, &iv).unwrap();
        let mut next = [0u8; 16];
        next[7] = 1;
        let mut d = AesCtr::new(CipherAlg::Aes128Ctr, &key, &next).unwrap();
        let (mut x, mut y) = ([0u8; 32], [0u8; 16]);
        c.apply(&mut x);
        d.apply(&mut y);
        assert_eq!(x[16..], y);
    }

    #[test]
    fn wrong_lengths_refused() {
        assert!(AesCtr::new(CipherAlg::Aes128Ctr, &[0; 15], &[0; 16]).is_none());
        assert!(AesCtr::new(CipherAlg::Aes256Ctr, &[0; 32], &[0; 12]).is_none());
        assert!(AesCtr::new(CipherAlg::Aes128Gcm, &[0; 16], &[0; 16]).is_none());
    }

    /// NIST SP 800-38A F.5.1, F.5.3, F.5.5 (CTR-AES128/192/256.Encrypt), fed in
    /// pieces that do not follow block boundaries.
    #[test]
    fn sp800_38a_vectors() {
        let iv = hex("f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff");
        let plain = hex(
            "6bc1bee22e409f96e93d7e117393172a ae2d8a571e03ac9c9eb76fac45af8e51
             30c81c46a35ce411e5fbc1191a0a52ef f69f2445df4f9b17ad2b417be66c3710",
        );
        for (cipher, key, want) in [
            (
                CipherAlg::Aes128Ctr,
                "2b7e151628aed2a6abf7158809cf4f3c",
                "874d6191b620e3261bef6864990db6ce 9806f66b7970fdff8617187bb9fffdff
                 5ae4df3edbd5d35e5b4f09020db03eab 1e031dda2fbe03d1792170a0f3009cee",
            ),
            (
                CipherAlg::Aes192Ctr,
                "8e73b0f7da0e6452c810f32b809079e562f8ead2522c6b7b",
                "1abc932417521ca24f2b0459fe7e6e0b 090339ec0aa6faefd5ccc2c6f4ce8e94
                 1e36b26bd1ebc670d1bd1d665620abf7 4f78a7f6d29809585a97daec58c6b050",
            ),
            (
                CipherAlg::Aes256Ctr,
                "603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4",
                "601ec313775789a5b7a7f504bbf3d228 f443e3ca4d62b59aca84e990cacaf5c5
                 2b0930daa23de94ce87017ba2d84988d dfc9c58db67aada613c2dd08457941a6",
            ),
        ] {
            let mut c = AesCtr::new(cipher, &hex(key), &iv).unwrap();
            let mut data = plain.clone();
            let (a, rest) = data.split_at_mut(5);
            let (b, d) = rest.split_at_mut(33);
            c.apply(a);
            c.apply(b);
            c.apply(d);
            assert_eq!(data, hex(want), "{cipher}");
        }
    }
}
