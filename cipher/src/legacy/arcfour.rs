//! RC4 (`arcfour`, RFC 4253 §6.3; `arcfour128` / `arcfour256`, RFC 4345). The same
//! keystream encrypts and decrypts.
//!
//! Written by hand because no crate exports its state: RustCrypto's `rc4` keeps the
//! permutation private, and handing a connection to another process needs it. RC4 is
//! the key-scheduling algorithm (KSA) and the output generator (PRGA) over a 256-byte
//! permutation `S` and two indices `i`, `j`; the state exported is `S ‖ i ‖ j` (258
//! bytes), and a state whose `S` is not a permutation of 0..=255 is refused. Checked
//! against RFC 6229's keystream at offsets 0 and 1536.

use crate::body::Transform;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

/// Keystream bytes RFC 4345 discards before use (`arcfour128`, `arcfour256`).
pub(crate) const RFC4345_DISCARD: usize = 1536;
/// Bytes of exported state: the permutation and the two indices.
pub(crate) const STATE_LEN: usize = 256 + 2;

/// A running RC4 keystream. Zeroized on drop.
#[derive(Zeroize, ZeroizeOnDrop)]
pub(crate) struct Arcfour {
    s: [u8; 256],
    i: u8,
    j: u8,
}

impl Transform for Arcfour {
    fn apply(&mut self, data: &mut [u8]) {
        for b in data {
            self.i = self.i.wrapping_add(1);
            let si = self.s[usize::from(self.i)];
            self.j = self.j.wrapping_add(si);
            self.s.swap(usize::from(self.i), usize::from(self.j));
            let k = self.s[usize::from(self.s[usize::from(self.i)].wrapping_add(si))];
            *b ^= k;
        }
    }

    /// `S ‖ i ‖ j`.
    fn state(&self) -> Zeroizing<Vec<u8>> {
        let mut v = Zeroizing::new(Vec::with_capacity(STATE_LEN));
        v.extend_from_slice(&self.s);
        v.push(self.i);
        v.push(self.j);
        v
    }
}

impl Arcfour {
    /// RC4 keyed with a 16- or 32-byte `key`, after `discard` keystream bytes.
    pub(crate) fn new(key: &[u8], discard: usize) -> Option<Self> {
        if key.len() != 16 && key.len() != 32 {
            return None;
        }
        let mut ks = Arcfour {
            s: [0; 256],
            i: 0,
            j: 0,
        };
        for (n, v) in ks.s.iter_mut().enumerate() {
            *v = n as u8;
        }
        let mut j = 0u8;
        for n in 0..256 {
            j = j.wrapping_add(ks.s[n]).wrapping_add(key[n % key.len()]);
            ks.s.swap(n, usize::from(j));
        }
        let mut skip = Zeroizing::new(vec![0u8; discard]);
        ks.apply(&mut skip);
        Some(ks)
    }

    /// The keystream that goes on from an exported `S ‖ i ‖ j`; `None` when `state` has
    /// the wrong length or `S` is not a permutation.
    pub(crate) fn restore(state: &[u8]) -> Option<Self> {
        if state.len() != STATE_LEN {
            return None;
        }
        let mut seen = [false; 256];
        for &v in &state[..256] {
            if std::mem::replace(&mut seen[usize::from(v)], true) {
                return None;
            }
        }
        let mut s = [0u8; 256];
        s.copy_from_slice(&state[..256]);
        Some(Arcfour {
            s,
            i: state[256],
            j: state[257],
        })
    }
}

/// [`Arcfour::new`], boxed.
pub(crate) fn boxed(key: &[u8], discard: usize) -> Option<Box<dyn Transform>> {
    Some(Box::new(Arcfour::new(key, discard)?))
}

/// [`Arcfour::restore`], boxed.
pub(crate) fn restored(state: &[u8]) -> Option<Box<dyn Transform>> {
    Some(Box::new(Arcfour::restore(state)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

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

    /// The same keystream as RustCrypto's `rc4` (an independent implementation, a
    /// dev-dependency only), for many keys of both lengths, far into the stream.
    #[test]
    fn same_keystream_as_rustcrypto_rc4() {
        use cipher::consts::{U16, U32};
        use cipher::{KeyInit, StreamCipher};
        for seed in 0u8..40 {
            let key: Vec<u8> = (0..32u8)
                .map(|i| i.wrapping_mul(seed).wrapping_add(seed ^ 0x5a))
                .collect();
            let len = 1 + 97 * usize::from(seed);
            let mut ours = vec![0u8; len];
            let mut theirs = vec![0u8; len];
            Arcfour::new(&key[..16], 0).unwrap().apply(&mut ours);
            rc4::Rc4::<U16>::new_from_slice(&key[..16])
                .unwrap()
                .apply_keystream(&mut theirs);
            assert_eq!(ours, theirs, "128-bit key, seed {seed}");
            Arcfour::new(&key, 0).unwrap().apply(&mut ours);
            rc4::Rc4::<U32>::new_from_slice(&key)
                .unwrap()
                .apply_keystream(&mut theirs);
            assert_eq!(ours, theirs, "256-bit key, seed {seed}");
        }
    }

    #[test]
    fn restored_state_continues_the_keystream_and_garbage_is_refused() {
        let key: Vec<u8> = (1..=32).collect();
        let mut whole = [0u8; 300];
        Arcfour::new(&key, RFC4345_DISCARD)
            .unwrap()
            .apply(&mut whole);
        for cut in [0, 1, 17, 255, 256, 299, 300] {
            let mut a = Arcfour::new(&key, RFC4345_DISCARD).unwrap();
            let mut out = [0u8; 300];
            a.apply(&mut out[..cut]);
            let mut b = Arcfour::restore(&a.state()).unwrap();
            b.apply(&mut out[cut..]);
            assert_eq!(out, whole, "cut {cut}");
        }
        let st = Arcfour::new(&key, 0).unwrap().state();
        assert!(Arcfour::restore(&st[..257]).is_none());
        let mut dup = st.to_vec();
        dup[1] = dup[0];
        assert!(Arcfour::restore(&dup).is_none(), "not a permutation");
    }

    #[test]
    fn state_is_zeroized_on_drop() {
        fn zeroize_on_drop<T: ZeroizeOnDrop>() {}
        zeroize_on_drop::<Arcfour>();
    }
}
