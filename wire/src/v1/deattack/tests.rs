use super::*;
use proptest::prelude::*;

/// A distinct 8-byte block for each index (never equal to [`ATTACK_BLOCK`]).
fn distinct(i: usize) -> [u8; 8] {
    let mut b = [0x5a; 8];
    b[..4].copy_from_slice(&(i as u32).to_be_bytes());
    b
}

const ATTACK_BLOCK: [u8; 8] = *b"\xde\xad\xbe\xef\x01\x02\x03\x04";

/// Positions, in a packet of 40 blocks, where one repeated block makes the pattern
/// CRC cancel. Computed independently in Python with zlib: the pattern CRC is linear
/// in the set of positions, so with `raw(d) = ~zlib.crc32(d, 0xFFFFFFFF) & 0xFFFFFFFF`,
/// `step(c, v) = raw(struct.pack('<I', c ^ v))` and the pattern of one position `k`
/// folded over 40 blocks (`step(step(c, hit), 0)` per block), Gaussian elimination
/// over the 40 single-position values found this dependent set (its values XOR to 0).
pub(crate) const CANCELLING_40: [usize; 15] =
    [0, 6, 9, 10, 16, 20, 21, 22, 24, 25, 27, 28, 30, 31, 32];

pub(crate) fn packet_with(n: usize, hits: &[usize]) -> Vec<u8> {
    (0..n)
        .flat_map(|i| {
            if hits.contains(&i) {
                ATTACK_BLOCK
            } else {
                distinct(i)
            }
        })
        .collect()
}

#[test]
fn compensation_attack_is_detected() {
    let p = packet_with(40, &CANCELLING_40);
    assert_eq!(Detector::new().check(&p), Err(DeattackError::Attack));
    // The same repeats in a pattern that does not cancel (one position fewer) pass.
    let p = packet_with(40, &CANCELLING_40[1..]);
    assert_eq!(Detector::new().check(&p), Ok(()));
}

#[test]
fn too_many_identical_blocks_is_a_dos() {
    // 40 equal blocks: their pattern does not cancel (Python: 0x6c50bee9), so the
    // detector counts repeats until the 33rd.
    let p = vec![0u8; 40 * 8];
    assert_eq!(
        Detector::new().check(&p),
        Err(DeattackError::DenialOfService)
    );
}

#[test]
fn limits() {
    let mut d = Detector::new();
    assert_eq!(d.check(&[0; 7]), Err(DeattackError::TooLong));
    assert_eq!(
        d.check(&vec![1; (MAX_BLOCKS + 1) * BLOCK_LEN]),
        Err(DeattackError::TooLong)
    );
    let big: Vec<u8> = (0..MAX_BLOCKS).flat_map(distinct).collect();
    assert_eq!(d.check(&big), Ok(()));
    assert!(d.table.len() <= 4 * MAX_BLOCKS);
    assert_eq!(d.check(&[]), Ok(()));
}

#[test]
fn short_packets_scan_pairwise() {
    // Two equal blocks out of seven: the quadratic path, no cancelling pattern.
    let mut p = packet_with(7, &[]);
    p[8..16].copy_from_slice(&distinct(0));
    assert_eq!(Detector::new().check(&p), Ok(()));
}

proptest! {
    /// Random ciphertext (no repeated blocks in practice) never fires, and any input
    /// is answered without panic.
    #[test]
    fn random_blocks_pass(blocks in proptest::collection::vec(any::<[u8; 8]>(), 0..600)) {
        let p: Vec<u8> = blocks.concat();
        prop_assert_eq!(Detector::new().check(&p), Ok(()));
    }

    #[test]
    fn never_panics(p in proptest::collection::vec(0u8..3, 0..800)) {
        let _ = Detector::new().check(&p);
    }
}
