//! A clock-free workload for throughput measurements: `cargo xtask bench` times
//! [`seal_open`] (this crate reads no clock, being sans-IO).

use crate::{new_opener, new_sealer, CipherAlg, DirectionKeys, MacAlg, SuiteError};
use sisu_wire::packet::{PacketDecoder, PacketEncoder, MAX_PAYLOAD_LEN};

/// Largest payload [`seal_open`] uses per packet: comfortably inside the packet
/// limit whatever the padding.
pub const MAX_BENCH_PAYLOAD: usize = MAX_PAYLOAD_LEN - 64;

/// Seals and opens `total_bytes` of payload (rounded up to whole packets) in packets
/// of `packet_size` payload bytes (clamped to 1..=[`MAX_BENCH_PAYLOAD`]) through
/// `PacketEncoder` / `PacketDecoder` with fixed keys, and returns the payload bytes
/// that made the round trip. Divide by the elapsed time for a throughput.
///
/// ```
/// use sisu_cipher::{bench, CipherAlg};
/// let done = bench::seal_open(CipherAlg::Chacha20Poly1305, None, 1000, 5000).unwrap();
/// assert_eq!(done, 5000);
/// ```
pub fn seal_open(
    cipher: CipherAlg,
    mac: Option<MacAlg>,
    packet_size: usize,
    total_bytes: u64,
) -> Result<u64, SuiteError> {
    let keys = DirectionKeys {
        iv: vec![0x11; 16],
        key: vec![0x22; 64],
        mac_key: vec![0x33; 64],
    };
    let mut enc = PacketEncoder::new();
    enc.set_sealer(new_sealer(cipher, mac, &keys)?);
    let mut dec = PacketDecoder::new();
    dec.set_opener(new_opener(cipher, mac, &keys)?);
    let payload = vec![0xa5; packet_size.clamp(1, MAX_BENCH_PAYLOAD)];
    let mut wire = Vec::with_capacity(payload.len() + 128);
    let mut done = 0u64;
    while done < total_bytes {
        wire.clear();
        if enc.encode(&payload, &mut |_| {}, &mut wire).is_err() {
            break;
        }
        dec.feed(&wire);
        match dec.next_packet() {
            Ok(Some((_, p))) if p.len() == payload.len() => done += p.len() as u64,
            _ => break,
        }
    }
    Ok(done)
}
