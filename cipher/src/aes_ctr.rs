//! AES in counter mode as SSH uses it (RFC 4344 §4): the IV is a 128-bit big-endian
//! counter, incremented once per block and continuing from packet to packet.
//!
//! The block function is aws-lc-rs's AES-CTR (AES-NI / VAES where the CPU has them).
//! Measured with the `suite_speed` example it is about a quarter faster than
//! RustCrypto's `aes` + `ctr` on 32 KiB packets and level at 1 KiB, but about a
//! fifth slower on 256-byte packets (a fixed cost per call); bulk transfer decides. aws-lc-rs's one-shot CTR starts every call at a fresh
//! block, so this module keeps SSH's running state itself: the next counter block
//! and the unused tail of a keystream block when a call ends inside one (the packet
//! codec always passes whole blocks; the tail only matters for other callers).

use crate::CipherAlg;
use aws_lc_rs::cipher::{
    EncryptingKey, EncryptionContext, UnboundCipherKey, AES_128, AES_192, AES_256,
};
use aws_lc_rs::iv::FixedLength;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

/// AES block (and counter) size.
const BLOCK: usize = 16;
/// Bytes of exported state: counter ‖ keystream tail ‖ unused count.
pub(crate) const STATE_LEN: usize = 2 * BLOCK + 1;

/// The running AES-CTR keystream of one direction. The AES round keys are zeroized
/// on drop by aws-lc-rs (its `SymmetricCipherKey` wipes both key schedules, and the
/// per-call copies of the counter are wiped too); the counter and the buffered
/// keystream held here are zeroized on drop by [`ZeroizeOnDrop`].
pub(crate) struct AesCtr {
    key: EncryptingKey,
    state: CtrState,
}

/// The part of the state this crate owns.
#[derive(Zeroize, ZeroizeOnDrop)]
struct CtrState {
    /// The counter block for the next fresh keystream block.
    counter: [u8; BLOCK],
    /// A keystream block of which the last `unused` bytes are still to be used.
    tail: [u8; BLOCK],
    /// How many bytes at the end of `tail` are unused (0..BLOCK).
    unused: usize,
}

impl CtrState {
    /// Moves the counter on by `blocks` (big-endian, modulo 2^128).
    fn advance(&mut self, blocks: u128) {
        let n = u128::from_be_bytes(self.counter).wrapping_add(blocks);
        self.counter = n.to_be_bytes();
    }

    /// The encryption context for a call starting at the current counter.
    fn context(&self) -> EncryptionContext {
        EncryptionContext::Iv128(FixedLength::from(self.counter))
    }
}

impl AesCtr {
    /// A keystream for `cipher` (an `aes*-ctr`) from exact-length `key` and 16-byte
    /// `iv`; `None` for other ciphers or lengths.
    pub(crate) fn new(cipher: CipherAlg, key: &[u8], iv: &[u8]) -> Option<Self> {
        let alg = match (cipher, key.len()) {
            (CipherAlg::Aes128Ctr, 16) => &AES_128,
            (CipherAlg::Aes192Ctr, 24) => &AES_192,
            (CipherAlg::Aes256Ctr, 32) => &AES_256,
            _ => return None,
        };
        let counter: [u8; BLOCK] = iv.try_into().ok()?;
        let key = EncryptingKey::ctr(UnboundCipherKey::new(alg, key).ok()?).ok()?;
        Some(AesCtr {
            key,
            state: CtrState {
                counter,
                tail: [0; BLOCK],
                unused: 0,
            },
        })
    }

    /// A keystream that goes on where an exported one stopped: `state` is
    /// [`AesCtr::state`]'s `counter ‖ tail ‖ unused` (16 + 16 + 1 bytes, `unused` below
    /// 16). `None` for a wrong cipher, key length or state.
    pub(crate) fn restore(cipher: CipherAlg, key: &[u8], state: &[u8]) -> Option<Self> {
        if state.len() != STATE_LEN || usize::from(state[2 * BLOCK]) >= BLOCK {
            return None;
        }
        let mut ctr = AesCtr::new(cipher, key, &state[..BLOCK])?;
        ctr.state.tail.copy_from_slice(&state[BLOCK..2 * BLOCK]);
        ctr.state.unused = usize::from(state[2 * BLOCK]);
        Some(ctr)
    }

    /// The running state: the next counter block, the current keystream block and how
    /// many of its bytes are unused (`counter ‖ tail ‖ u8 unused`).
    pub(crate) fn state(&self) -> Zeroizing<Vec<u8>> {
        let mut v = Zeroizing::new(Vec::with_capacity(STATE_LEN));
        v.extend_from_slice(&self.state.counter);
        v.extend_from_slice(&self.state.tail);
        v.push(self.state.unused as u8);
        v
    }

    /// XORs the next `data.len()` keystream bytes into `data`. Encryption and
    /// decryption are the same operation.
    pub(crate) fn apply(&mut self, data: &mut [u8]) {
        let st = &mut self.state;
        // First what is left of the last keystream block.
        let take = st.unused.min(data.len());
        let (head, data) = data.split_at_mut(take);
        let from = BLOCK - st.unused;
        for (d, k) in head.iter_mut().zip(&st.tail[from..]) {
            *d ^= k;
        }
        st.unused -= take;
        // Then whole blocks in one call.
        let whole = data.len() - data.len() % BLOCK;
        let (blocks, rest) = data.split_at_mut(whole);
        if !blocks.is_empty() {
            // CTR takes any length with a 16-byte counter: this cannot fail.
            let _ = self.key.less_safe_encrypt(blocks, st.context());
            st.advance((whole / BLOCK) as u128);
        }
        // Then a final partial block: keep the rest of its keystream.
        if !rest.is_empty() {
            st.tail = [0; BLOCK];
            let context = st.context();
            let _ = self.key.less_safe_encrypt(&mut st.tail, context);
            st.advance(1);
            for (d, k) in rest.iter_mut().zip(&st.tail) {
                *d ^= k;
            }
            st.unused = BLOCK - rest.len();
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
        fn assert_zeroize_on_drop<T: ZeroizeOnDrop>() {}
        // Our counter and keystream tail; aws-lc-rs's key has a wiping Drop.
        assert_zeroize_on_drop::<CtrState>();
        assert!(std::mem::needs_drop::<EncryptingKey>());
    }

    /// Every way of cutting a stream into calls gives the same keystream.
    #[test]
    fn any_chunking_gives_one_keystream() {
        let key = [3u8; 32];
        let iv = [0xfe; 16];
        let mut whole = [0u8; 100];
        AesCtr::new(CipherAlg::Aes256Ctr, &key, &iv)
            .unwrap()
            .apply(&mut whole);
        for step in 1..=40 {
            let mut c = AesCtr::new(CipherAlg::Aes256Ctr, &key, &iv).unwrap();
            let mut pieces = [0u8; 100];
            for chunk in pieces.chunks_mut(step) {
                c.apply(chunk);
            }
            assert_eq!(pieces, whole, "step {step}");
        }
        let mut c = AesCtr::new(CipherAlg::Aes256Ctr, &key, &iv).unwrap();
        c.apply(&mut []);
        let mut again = [0u8; 100];
        c.apply(&mut again);
        assert_eq!(again, whole);
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

    /// A keystream rebuilt from its state at any point (inside a block too) goes on
    /// with the same bytes.
    #[test]
    fn restored_state_continues_the_keystream() {
        let key = [5u8; 24];
        let iv = [0xaa; 16];
        let mut whole = [0u8; 80];
        AesCtr::new(CipherAlg::Aes192Ctr, &key, &iv)
            .unwrap()
            .apply(&mut whole);
        for cut in 0..=80 {
            let mut a = AesCtr::new(CipherAlg::Aes192Ctr, &key, &iv).unwrap();
            let mut out = [0u8; 80];
            a.apply(&mut out[..cut]);
            let st = a.state();
            assert_eq!(st.len(), STATE_LEN);
            let mut b = AesCtr::restore(CipherAlg::Aes192Ctr, &key, &st).unwrap();
            b.apply(&mut out[cut..]);
            assert_eq!(out, whole, "cut {cut}");
        }
        let mut st = AesCtr::new(CipherAlg::Aes128Ctr, &[0; 16], &iv)
            .unwrap()
            .state();
        assert!(AesCtr::restore(CipherAlg::Aes128Ctr, &[0; 16], &st[..32]).is_none());
        st[32] = 16;
        assert!(AesCtr::restore(CipherAlg::Aes128Ctr, &[0; 16], &st).is_none());
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
