//! CRC-32 as SSH-1 uses it for its packet check bytes and in the compensation-attack
//! detector ([`super::deattack`]).
//!
//! The polynomial is the IEEE one of zlib and Ethernet (reflected, `0xEDB88320`), but
//! SSH-1's form starts the register at **0** and does not invert it at the end (the
//! original `ssh-1.2.x` and OpenSSH's `ssh_crc32` both do this), so it is *not*
//! zlib's `crc32`: [`ssh_crc32`]`(b"123456789")` is `0x2DFD2D88`, while the ordinary
//! IEEE value [`ieee_crc32`]`(b"123456789")` is the familiar `0xCBF43926`. Both come
//! from the one register function [`update`].
//!
//! ```
//! use sisu_wire::v1::crc32::{ieee_crc32, ssh_crc32};
//! assert_eq!(ieee_crc32(b"123456789"), 0xCBF4_3926);
//! assert_eq!(ssh_crc32(b"123456789"), 0x2DFD_2D88);
//! assert_eq!(ssh_crc32(b""), 0);
//! ```

/// The reflected IEEE 802.3 polynomial.
const POLY: u32 = 0xEDB8_8320;

const fn table() -> [u32; 256] {
    let mut t = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 { POLY ^ (c >> 1) } else { c >> 1 };
            k += 1;
        }
        t[i] = c;
        i += 1;
    }
    t
}

static TABLE: [u32; 256] = table();

/// Runs the CRC register from `crc` over `data` (no inversion on either side).
pub fn update(crc: u32, data: &[u8]) -> u32 {
    data.iter()
        .fold(crc, |c, &b| TABLE[usize::from((c as u8) ^ b)] ^ (c >> 8))
}

/// SSH-1's CRC-32: the register starts at 0 and is not inverted.
pub fn ssh_crc32(data: &[u8]) -> u32 {
    update(0, data)
}

/// The ordinary IEEE / zlib CRC-32 (start `0xFFFFFFFF`, final inversion), kept for
/// checking the table against the well-known check value.
pub fn ieee_crc32(data: &[u8]) -> u32 {
    !update(!0, data)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Check values. `0xCBF43926` is the published CRC-32/ISO-HDLC check value;
    /// the SSH-1 values were computed independently with Python's zlib:
    /// `(~zlib.crc32(data, 0xFFFFFFFF)) & 0xFFFFFFFF` is the register run from 0
    /// without the final inversion (zlib inverts the start value it is given and
    /// the result).
    #[test]
    fn check_values() {
        assert_eq!(ieee_crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(ssh_crc32(b"123456789"), 0x2DFD_2D88);
        assert_eq!(
            ssh_crc32(b"The quick brown fox jumps over the lazy dog"),
            SSH_FOX
        );
        assert_eq!(ssh_crc32(&[0, 0, 0, 0]), 0);
    }

    /// `(~zlib.crc32(b"The quick brown fox jumps over the lazy dog", 0xFFFFFFFF)) & 0xFFFFFFFF`.
    const SSH_FOX: u32 = 0xB9C6_0808;
}
