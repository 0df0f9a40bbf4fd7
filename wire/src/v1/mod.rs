//! SSH protocol 1.5 (the protocol of the original `ssh-1.2.x` and of OpenSSH's
//! protocol 1, removed there in 7.4): its message numbers ([`msg`]), its data
//! types, and (in [`packet`]) its packet format, with the CRC-32 it checks packets
//! with ([`crc32`]) and the compensation attack detector ([`deattack`]) that guards
//! that CRC. A legacy protocol: compiled in
//! behind this crate's `v1` feature and off at run time until `Protocol 2,1`.
//!
//! SSH-1's fields are SSH-2's `byte`, `uint32` and `string` (a `uint32` length and
//! that many bytes), plus its own multiple-precision integer: a `uint16` count of
//! bits, then the unsigned big-endian magnitude in `(bits + 7) / 8` bytes
//! ([`mpint`], [`put_mpint`]).
//!
//! ```
//! use sisu_wire::v1::{mpint, put_mpint};
//! use sisu_wire::{Reader, Writer};
//! let mut w = Writer::new();
//! put_mpint(&mut w, &[0x00, 0x01, 0x00, 0x01]);
//! assert_eq!(w.as_slice(), &[0, 17, 0x01, 0x00, 0x01]);
//! let bytes = w.into_vec();
//! let mut r = Reader::new(&bytes);
//! assert_eq!(mpint(&mut r).unwrap(), &[0x01, 0x00, 0x01]);
//! ```

pub mod crc32;
pub mod deattack;
pub mod msg;
pub mod packet;

use crate::{Reader, WireError, Writer};

/// Largest SSH-1 integer accepted, in bits (as [`crate::rsa1::MAX_RSA1_BITS`]).
pub const MAX_MPINT_BITS: u16 = 16384;

/// An SSH-1 multiple-precision integer, as its minimal big-endian magnitude (empty
/// for zero; leading zero bytes dropped). The bit count may be larger than the
/// value's (PuTTY counts the modulus's bits for an RSA ciphertext, as OpenSSH 7's
/// reader allowed), never smaller, and at most [`MAX_MPINT_BITS`].
pub fn mpint<'a>(r: &mut Reader<'a>) -> Result<&'a [u8], WireError> {
    let hi = r.u8()?;
    let lo = r.u8()?;
    let bits = u16::from_be_bytes([hi, lo]);
    if bits > MAX_MPINT_BITS {
        return Err(WireError::TooLong);
    }
    let n = usize::from(bits).div_ceil(8);
    let m = r.bytes(n)?;
    if bit_len(m) > usize::from(bits) {
        return Err(WireError::BadValue("SSH-1 integer bit count"));
    }
    let start = m.iter().position(|&b| b != 0).unwrap_or(m.len());
    Ok(&m[start..])
}

/// Writes an SSH-1 integer from an unsigned big-endian magnitude (leading zero
/// bytes are dropped). A magnitude longer than [`MAX_MPINT_BITS`] is the caller's
/// bug; it is cut to its low bytes so that the count stays true to what follows.
pub fn put_mpint(w: &mut Writer, magnitude: &[u8]) {
    let start = magnitude
        .iter()
        .position(|&b| b != 0)
        .unwrap_or(magnitude.len());
    let mut m = &magnitude[start..];
    let max = usize::from(MAX_MPINT_BITS) / 8;
    if m.len() > max {
        m = &m[m.len() - max..];
    }
    let bits = bit_len(m) as u16;
    w.raw(&bits.to_be_bytes()).raw(m);
}

/// The number of significant bits of a big-endian magnitude.
pub fn bit_len(m: &[u8]) -> usize {
    match m.iter().position(|&b| b != 0) {
        None => 0,
        Some(i) => (m.len() - i - 1) * 8 + (8 - m[i].leading_zeros() as usize),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn zero_and_limits() {
        let mut w = Writer::new();
        put_mpint(&mut w, &[0, 0]);
        assert_eq!(w.as_slice(), &[0, 0]);
        let mut r = Reader::new(&[0, 0]);
        assert_eq!(mpint(&mut r).unwrap(), &[] as &[u8]);
        // 16385 bits: refused before anything is read.
        let mut r = Reader::new(&[0x40, 0x01]);
        assert_eq!(mpint(&mut r), Err(WireError::TooLong));
        // A bit count above the value's (PuTTY's ciphertexts): the value.
        let mut r = Reader::new(&[0, 9, 0x00, 0xff]);
        assert_eq!(mpint(&mut r).unwrap(), &[0xff]);
        // One below it: refused.
        let mut r = Reader::new(&[0, 7, 0xff]);
        assert!(matches!(mpint(&mut r), Err(WireError::BadValue(_))));
        let mut r = Reader::new(&[0, 16, 0x01]);
        assert_eq!(mpint(&mut r), Err(WireError::Truncated));
    }

    proptest! {
        #[test]
        fn mpint_round_trips(m in proptest::collection::vec(any::<u8>(), 0..300)) {
            let mut w = Writer::new();
            put_mpint(&mut w, &m);
            let bytes = w.into_vec();
            let mut r = Reader::new(&bytes);
            let back = mpint(&mut r).unwrap();
            let start = m.iter().position(|&b| b != 0).unwrap_or(m.len());
            prop_assert_eq!(back, &m[start..]);
            prop_assert!(r.finish().is_ok());
        }

        #[test]
        fn mpint_never_panics(b in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = mpint(&mut Reader::new(&b));
        }
    }
}
