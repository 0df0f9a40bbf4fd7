//! UMAC (RFC 4418) with AES-128, as `umac-64@openssh.com` and `umac-128@openssh.com`
//! use it: the 16-byte MAC key is the AES key of the KDF and PDF, the 8-byte nonce is
//! the packet sequence number as a big-endian 64-bit integer, and the message is the
//! packet (without the sequence number).
//!
//! Hand-written: no maintained Rust crate implements UMAC. It follows RFC 4418 §3–§5
//! (KDF, PDF, UHASH = L1 NH hash, L2 POLY-64 hash, L3 inner product) and is checked
//! against the RFC's appendix vectors (and, through the interop tests, against
//! OpenSSH). Only the POLY-64 part of L2 is implemented: it covers messages up to
//! [`MAX_MESSAGE_LEN`] (16 MiB), far above SSH's packet limit; longer messages get no
//! tag (and never verify).

use aes::cipher::{generic_array::GenericArray, BlockEncrypt, KeyInit};
use aes::Aes128;
use zeroize::Zeroize;

/// Bytes of the UMAC key (an AES-128 key).
pub(crate) const KEY_LEN: usize = 16;
/// Bytes of the nonce SSH uses.
pub(crate) const NONCE_LEN: usize = 8;
/// Longest message tagged: beyond 2^24 bytes RFC 4418 switches L2 to POLY-128.
pub(crate) const MAX_MESSAGE_LEN: usize = 1 << 24;
/// Bytes of message per L1 (NH) chunk, and of NH key.
const L1_CHUNK: usize = 1024;
/// NH works on 32-byte groups (eight 32-bit words).
const NH_GROUP: usize = 32;
/// 2^36 - 5, the L3 prime.
const P36: u64 = (1 << 36) - 5;
/// 2^64 - 59, the POLY-64 prime.
const P64: u64 = u64::MAX - 58;
/// Words at or above 2^64 - 2^32 are escaped in POLY-64.
const MAX_WORD_RANGE: u64 = 0xffff_ffff_0000_0000;
/// The L2 key mask (RFC 4418 §5.3).
const MASK64: u64 = 0x01ff_ffff_01ff_ffff;
/// Most UHASH iterations (a 128-bit tag).
const MAX_ITERS: usize = 4;

/// A keyed UMAC instance for one tag length (8 or 16 bytes). The derived keys are
/// zeroized on drop (and the AES key schedule by `aes`'s `zeroize` feature).
pub(crate) struct Umac {
    iters: usize,
    /// L1 (NH) key as 32-bit big-endian words: 1024 bytes plus 16 per extra iteration.
    l1: Vec<u32>,
    /// L2 POLY-64 keys, masked.
    l2: [u64; MAX_ITERS],
    /// L3 keys, each reduced mod 2^36 - 5.
    l3_1: [[u64; 8]; MAX_ITERS],
    /// L3 output masks.
    l3_2: [u32; MAX_ITERS],
    /// AES under the PDF key K' = KDF(K, 0, 16).
    pdf: Aes128,
}

impl Drop for Umac {
    fn drop(&mut self) {
        self.l1.zeroize();
        self.l2.zeroize();
        for k in &mut self.l3_1 {
            k.zeroize();
        }
        self.l3_2.zeroize();
    }
}

/// RFC 4418 §3.2.1: `numbytes` of AES-128 output under `key` for `index`.
fn kdf(key: &Aes128, index: u64, numbytes: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(numbytes + 16);
    let mut i = 1u64;
    while out.len() < numbytes {
        let mut block = GenericArray::from([0u8; 16]);
        block[..8].copy_from_slice(&index.to_be_bytes());
        block[8..].copy_from_slice(&i.to_be_bytes());
        key.encrypt_block(&mut block);
        out.extend_from_slice(&block);
        block.zeroize();
        i += 1;
    }
    out.truncate(numbytes);
    out
}

fn be64(b: &[u8]) -> u64 {
    b.first_chunk::<8>().map_or(0, |c| u64::from_be_bytes(*c))
}

fn be32(b: &[u8]) -> u32 {
    b.first_chunk::<4>().map_or(0, |c| u32::from_be_bytes(*c))
}

/// One 32-byte NH group: message words little-endian, key words as given.
#[inline(always)]
fn nh_group(key: &[u32], group: &[u8; NH_GROUP]) -> u64 {
    let mut m = [0u32; 8];
    for (w, c) in m.iter_mut().zip(group.chunks_exact(4)) {
        *w = u32::from_le_bytes([c[0], c[1], c[2], c[3]]);
    }
    let k = |i: usize| key.get(i).copied().unwrap_or(0);
    let mut y = 0u64;
    for i in 0..4 {
        let a = m[i].wrapping_add(k(i)) as u64;
        let b = m[i + 4].wrapping_add(k(i + 4)) as u64;
        y = y.wrapping_add(a.wrapping_mul(b));
    }
    y
}

/// RFC 4418 §5.2: NH of one chunk of at most 1024 bytes, zero-padded to a positive
/// multiple of 32 bytes, plus the chunk's length in bits.
fn nh_chunk(key: &[u32], chunk: &[u8]) -> u64 {
    let mut y = 0u64;
    let mut groups = chunk.chunks_exact(NH_GROUP);
    let mut offset = 0;
    for g in groups.by_ref() {
        if let Some(g) = g.first_chunk::<NH_GROUP>() {
            y = y.wrapping_add(nh_group(key.get(offset..).unwrap_or(&[]), g));
        }
        offset += 8;
    }
    let rest = groups.remainder();
    if !rest.is_empty() || chunk.is_empty() {
        let mut last = [0u8; NH_GROUP];
        last[..rest.len()].copy_from_slice(rest);
        y = y.wrapping_add(nh_group(key.get(offset..).unwrap_or(&[]), &last));
    }
    y.wrapping_add((chunk.len() as u64) * 8)
}

/// One POLY-64 step (RFC 4418 §5.3.1): `(k·y + m) mod p64`.
fn poly_step(k: u64, y: u64, m: u64) -> u64 {
    ((k as u128 * y as u128 + m as u128) % P64 as u128) as u64
}

/// POLY-64 of one word, with the escape for words too large for the field.
fn poly_word(k: u64, y: u64, m: u64) -> u64 {
    if m >= MAX_WORD_RANGE {
        let y = poly_step(k, y, P64 - 1);
        poly_step(k, y, m - (u64::MAX - P64 + 1))
    } else {
        poly_step(k, y, m)
    }
}

impl Umac {
    /// Keys UMAC with a 16-byte `key` for `tag_len` (8 or 16) bytes of tag; `None`
    /// for other lengths.
    pub(crate) fn new(key: &[u8], tag_len: usize) -> Option<Self> {
        if !matches!(tag_len, 8 | 16) {
            return None;
        }
        let aes = Aes128::new_from_slice(key).ok()?;
        let iters = tag_len / 4;
        let mut l1_bytes = kdf(&aes, 1, L1_CHUNK + (iters - 1) * 16);
        let l1 = l1_bytes.chunks_exact(4).map(be32).collect();
        l1_bytes.zeroize();
        let mut l2_bytes = kdf(&aes, 2, iters * 24);
        let mut l3_1_bytes = kdf(&aes, 3, iters * 64);
        let mut l3_2_bytes = kdf(&aes, 4, iters * 4);
        let mut pdf_key = kdf(&aes, 0, KEY_LEN);
        let pdf = Aes128::new_from_slice(&pdf_key).ok()?;
        pdf_key.zeroize();
        let mut u = Umac {
            iters,
            l1,
            l2: [0; MAX_ITERS],
            l3_1: [[0; 8]; MAX_ITERS],
            l3_2: [0; MAX_ITERS],
            pdf,
        };
        for i in 0..iters {
            u.l2[i] = be64(&l2_bytes[i * 24..]) & MASK64;
            for j in 0..8 {
                u.l3_1[i][j] = be64(&l3_1_bytes[i * 64 + j * 8..]) % P36;
            }
            u.l3_2[i] = be32(&l3_2_bytes[i * 4..]);
        }
        l2_bytes.zeroize();
        l3_1_bytes.zeroize();
        l3_2_bytes.zeroize();
        Some(u)
    }

    /// Bytes of tag.
    pub(crate) fn tag_len(&self) -> usize {
        self.iters * 4
    }

    /// UHASH iteration `i` (RFC 4418 §5.1): L1, then L2 unless the message fits one
    /// chunk, then L3.
    fn uhash(&self, i: usize, msg: &[u8]) -> u32 {
        let key = self.l1.get(i * 4..).unwrap_or(&[]);
        let l2_out = if msg.len() <= L1_CHUNK {
            nh_chunk(key, msg)
        } else {
            msg.chunks(L1_CHUNK)
                .fold(1u64, |y, c| poly_word(self.l2[i], y, nh_chunk(key, c)))
        };
        // L3 over zeroes(8) ‖ uint2str(l2_out, 8): the first four 16-bit words are 0.
        let mut y = 0u64;
        for j in 0..4 {
            let m = (l2_out >> (48 - 16 * j)) & 0xffff;
            y += m * self.l3_1[i][4 + j];
        }
        ((y % P36) as u32) ^ self.l3_2[i]
    }

    /// The tag of `msg` under `nonce` (only the first [`Umac::tag_len`] bytes are
    /// used), or `None` for a message over [`MAX_MESSAGE_LEN`].
    pub(crate) fn tag(&self, msg: &[u8], nonce: &[u8; NONCE_LEN]) -> Option<[u8; 16]> {
        if msg.len() > MAX_MESSAGE_LEN {
            return None;
        }
        let mut tag = [0u8; 16];
        for i in 0..self.iters {
            tag[i * 4..i * 4 + 4].copy_from_slice(&self.uhash(i, msg).to_be_bytes());
        }
        // PDF (RFC 4418 §3.3): for 8-byte tags the nonce's low bit picks a half block.
        let mut block = GenericArray::from([0u8; 16]);
        block[..NONCE_LEN].copy_from_slice(nonce);
        let index = if self.tag_len() == 8 {
            let index = usize::from(nonce[NONCE_LEN - 1] & 1);
            block[NONCE_LEN - 1] &= 0xfe;
            index
        } else {
            0
        };
        self.pdf.encrypt_block(&mut block);
        let n = self.tag_len();
        for (t, p) in tag[..n].iter_mut().zip(&block[index * n..index * n + n]) {
            *t ^= p;
        }
        block.zeroize();
        Some(tag)
    }
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

    /// RFC 4418 Appendix: K = "abcdefghijklmnop", Nonce = "bcdefghi". The 128-bit
    /// column is not in the RFC; its first 12 bytes are the RFC's 96-bit tags (the
    /// same three UHASH iterations and PDF block), the last 4 come from the reference
    /// implementation's published 128-bit results.
    #[test]
    fn rfc4418_vectors() {
        let cases: &[(&[u8], usize, &str, &str)] = &[
            (
                b"",
                0,
                "6e155fad26900be1",
                "32fedb100c79ad58f07ff7643cc60465",
            ),
            (
                b"a",
                3,
                "44b5cb542f220104",
                "185e4fe905cba7bd85e4c2dc3d117d8d",
            ),
            (
                b"a",
                1 << 10,
                "26bf2f5d60118bd9",
                "7a54abe04af82d60fb298c3cbd195bcb",
            ),
            (
                b"a",
                1 << 15,
                "27f8ef643b0d118d",
                "7b136bd911e4b734286ef2be501f2c3c",
            ),
            (
                b"a",
                1 << 20,
                "a4477e87e9f55853",
                "f8acfa3ac31cfeea047f7b115b03bef5",
            ),
            (b"abc", 1, "d4d7b9f6bd4fbfcf", "883c3d4b97a61976ffcf2323"),
            (b"abc", 500, "d4cf26ddefd5c01a", "8824a260c53c66a36c9260a6"),
        ];
        let u64_ = Umac::new(b"abcdefghijklmnop", 8).unwrap();
        let u128_ = Umac::new(b"abcdefghijklmnop", 16).unwrap();
        for (unit, n, t64, t128) in cases {
            let msg = unit.repeat(if unit.is_empty() { 1 } else { *n });
            let got = u64_.tag(&msg, b"bcdefghi").unwrap();
            assert_eq!(got[..8], hex(t64)[..], "umac-64 {unit:?} x {n}");
            let got = u128_.tag(&msg, b"bcdefghi").unwrap();
            let want = hex(t128);
            assert_eq!(got[..want.len()], want[..], "umac-128 {unit:?} x {n}");
        }
    }

    #[test]
    fn nonce_parity_selects_the_pad_half() {
        // Two nonces differing only in the low bit share one AES block of pad.
        let u = Umac::new(&[7; 16], 8).unwrap();
        let a = u.tag(b"", &[0, 0, 0, 0, 0, 0, 0, 4]).unwrap();
        let b = u.tag(b"", &[0, 0, 0, 0, 0, 0, 0, 5]).unwrap();
        let mut block = GenericArray::from([0u8; 16]);
        block[7] = 4;
        u.pdf.encrypt_block(&mut block);
        // Same hash, so the tags differ exactly by the two pad halves.
        let x: Vec<u8> = a[..8].iter().zip(&b[..8]).map(|(p, q)| p ^ q).collect();
        let y: Vec<u8> = block[..8]
            .iter()
            .zip(&block[8..])
            .map(|(p, q)| p ^ q)
            .collect();
        assert_eq!(x, y);
    }

    #[test]
    fn bad_sizes() {
        assert!(Umac::new(&[0; 16], 4).is_none());
        assert!(Umac::new(&[0; 16], 12).is_none());
        assert!(Umac::new(&[0; 15], 8).is_none());
        let u = Umac::new(&[0; 16], 16).unwrap();
        assert_eq!(u.tag_len(), 16);
        assert!(u.tag(&vec![0; MAX_MESSAGE_LEN + 1], &[0; 8]).is_none());
    }
}
