//! The CRC-32 compensation attack detector (CORE SDI, 1998; CVE-2001-0144 is the
//! overflow in its first version), run over each received SSH-1 packet's ciphertext
//! before it is decrypted, once a cipher is on.
//!
//! SSH-1 protects packets with a CRC-32 only, which is linear: an attacker who
//! repeats ciphertext blocks in a CBC stream can build a packet whose garbage
//! plaintext still has the right CRC. Such a packet holds the same 8-byte block at
//! several places, in a pattern whose CRC contribution cancels out. The detector
//! finds repeated blocks (a hash table over the blocks, or a quadratic scan for
//! packets of at most [`QUADRATIC_MAX_LEN`] bytes) and, for each repeated block,
//! runs a CRC over the pattern of where it occurs; a pattern that sums to zero is an
//! attack. Honest ciphertext repeats a block about once in 2^35 large packets, so
//! more than [`MAX_IDENTICAL`] repeats in a packet is treated as the detector's own
//! denial of service (its worst case is cubic in the repeats), as OpenSSH does.
//!
//! The pattern CRC folds each `uint32` through [`super::crc32::ssh_crc32`] in
//! little-endian byte order (what OpenSSH computes on the little-endian machines
//! that run nearly all of it).
//!
//! ```
//! use sisu_wire::v1::deattack::Detector;
//! let mut d = Detector::new();
//! let blocks: Vec<u8> = (0u8..64).collect();
//! assert!(d.check(&blocks).is_ok());
//! ```

use super::crc32::ssh_crc32;
use std::fmt;

/// The block size the detector works on.
pub const BLOCK_LEN: usize = 8;
/// Most blocks in one packet (larger input is refused with [`DeattackError::TooLong`]).
pub const MAX_BLOCKS: usize = 32 * 1024;
/// Repeated blocks accepted in one packet before [`DeattackError::DenialOfService`].
pub const MAX_IDENTICAL: u32 = 32;
/// Packets up to this many bytes are scanned pairwise instead of hashed.
pub const QUADRATIC_MAX_LEN: usize = 7 * BLOCK_LEN;
/// The least number of hash-table entries.
const MIN_ENTRIES: usize = 4 * 1024;
/// A free hash-table slot.
const UNUSED: u16 = 0xffff;

/// What the detector found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeattackError {
    /// A repeated block in a pattern that cancels the CRC.
    Attack,
    /// More than [`MAX_IDENTICAL`] repeated blocks.
    DenialOfService,
    /// Input not whole blocks, or more than [`MAX_BLOCKS`] of them.
    TooLong,
}

impl fmt::Display for DeattackError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DeattackError::Attack => "crc32 compensation attack: network attack detected",
            DeattackError::DenialOfService => "deattack denial of service detected",
            DeattackError::TooLong => "deattack error",
        })
    }
}

impl std::error::Error for DeattackError {}

/// The detector, with its hash table kept from packet to packet (at most 65536
/// two-byte entries, 128 KiB, for [`MAX_BLOCKS`] blocks).
#[derive(Debug, Default, Clone)]
pub struct Detector {
    table: Vec<u16>,
}

/// One step of the pattern CRC.
fn crc_step(crc: u32, v: u32) -> u32 {
    ssh_crc32(&(crc ^ v).to_le_bytes())
}

/// Whether the places where `block` occurs in `buf` form a pattern whose CRC is 0.
fn pattern_cancels(block: &[u8], buf: &[u8]) -> bool {
    let crc = buf.chunks_exact(BLOCK_LEN).fold(0u32, |crc, c| {
        let hit = u32::from(c == block);
        crc_step(crc_step(crc, hit), 0)
    });
    crc == 0
}

impl Detector {
    /// A detector with no table yet (it is made on the first large packet).
    pub fn new() -> Self {
        Detector { table: Vec::new() }
    }

    /// Checks one packet's ciphertext (`buf`: whole 8-byte blocks, the part after the
    /// length field).
    pub fn check(&mut self, buf: &[u8]) -> Result<(), DeattackError> {
        if buf.len() > MAX_BLOCKS * BLOCK_LEN || !buf.len().is_multiple_of(BLOCK_LEN) {
            return Err(DeattackError::TooLong);
        }
        let blocks: Vec<&[u8]> = buf.chunks_exact(BLOCK_LEN).collect();
        if buf.len() <= QUADRATIC_MAX_LEN {
            for (i, c) in blocks.iter().enumerate() {
                if blocks[..i].iter().any(|d| d == c) && pattern_cancels(c, buf) {
                    return Err(DeattackError::Attack);
                }
            }
            return Ok(());
        }
        let mut n = self.table.len().max(MIN_ENTRIES);
        while n < blocks.len() * 3 / 2 {
            n <<= 2;
        }
        self.table.clear();
        self.table.resize(n, UNUSED);
        let mask = n - 1;
        let mut same = 0u32;
        for (j, c) in blocks.iter().enumerate() {
            let mut i = u32::from_be_bytes([c[0], c[1], c[2], c[3]]) as usize & mask;
            while let Some(&slot) = self.table.get(i).filter(|&&s| s != UNUSED) {
                if blocks.get(usize::from(slot)) == Some(c) {
                    same += 1;
                    if same > MAX_IDENTICAL {
                        return Err(DeattackError::DenialOfService);
                    }
                    if pattern_cancels(c, buf) {
                        return Err(DeattackError::Attack);
                    }
                    break;
                }
                i = (i + 1) & mask;
            }
            if let Some(s) = self.table.get_mut(i) {
                // j < MAX_BLOCKS = 32768, so it fits and never equals UNUSED.
                *s = j as u16;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
pub(crate) mod tests;
