use super::*;
use crate::v1::deattack::tests::{packet_with, CANCELLING_40};
use proptest::prelude::*;

/// A toy chained block transform for the codec's tests (the real SSH-1 ciphers are
/// in `sisu-cipher`, which depends on this crate; its tests run this codec over
/// them): each 8-byte block is `rotl((p ^ prev) + key, 13)`, CBC-like.
struct Toy {
    key: u64,
    prev: u64,
    encrypt: bool,
}

impl Toy {
    fn pair(key: u64) -> (Box<Toy>, Box<Toy>) {
        (
            Box::new(Toy {
                key,
                prev: 0,
                encrypt: true,
            }),
            Box::new(Toy {
                key,
                prev: 0,
                encrypt: false,
            }),
        )
    }
}

impl V1BlockCipher for Toy {
    fn apply(&mut self, data: &mut [u8]) {
        for b in data.chunks_exact_mut(8) {
            let x = u64::from_be_bytes(b.try_into().unwrap());
            let y = if self.encrypt {
                let c = (x ^ self.prev).wrapping_add(self.key).rotate_left(13);
                self.prev = c;
                c
            } else {
                let p = x.rotate_right(13).wrapping_sub(self.key) ^ self.prev;
                self.prev = x;
                p
            };
            b.copy_from_slice(&y.to_be_bytes());
        }
    }
    fn stream_state(&self) -> Zeroizing<Vec<u8>> {
        Zeroizing::new(self.prev.to_be_bytes().to_vec())
    }
}

/// Packets without a cipher, against bytes computed independently in Python:
/// `l = 1 + len(data) + 4; pad = 8 - l % 8; body = b"\0"*pad + bytes([t]) + data;
/// struct.pack(">I", l) + body + struct.pack(">I", crc)` with
/// `crc = ~zlib.crc32(body, 0xFFFFFFFF) & 0xFFFFFFFF` (SSH-1's CRC, see `crc32`).
#[test]
fn known_answers_without_cipher() {
    let cases: [(u8, &[u8], &str); 2] = [
        (14, b"", "000000050000000ee7b82d07"),
        (
            32,
            b"\x00\x00\x00\x05hello",
            "0000000e0000200000000568656c6c6fefa2c3f8",
        ),
    ];
    for (t, data, hex) in cases {
        let want: Vec<u8> = (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
            .collect();
        let mut out = Vec::new();
        PacketEncoder::new()
            .encode(t, data, &[0xaa; 8], &mut out)
            .unwrap();
        assert_eq!(out, want);
        let mut d = PacketDecoder::new();
        d.feed(&want);
        assert_eq!(d.next_packet().unwrap(), Some((t, data.to_vec())));
        assert_eq!(d.buffered(), 0);
    }
}

#[test]
fn bad_lengths_are_refused_without_allocation() {
    for len in [0u32, 4, MAX_LEN + 1, u32::MAX] {
        let mut d = PacketDecoder::new();
        d.feed(&len.to_be_bytes());
        assert_eq!(d.next_packet(), Err(V1PacketError::BadLength(len)));
        assert_eq!(d.buffered(), 4);
        // Sticky.
        assert_eq!(d.next_packet(), Err(V1PacketError::BadLength(len)));
        assert_eq!(
            V1PacketError::BadLength(len).to_string(),
            format!("Bad packet length {len}.")
        );
    }
    // The largest length waits for its bytes; the buffer never passes MAX_BUFFERED.
    let mut d = PacketDecoder::new();
    let mut wire = MAX_LEN.to_be_bytes().to_vec();
    // (Not zeros: SSH-1's CRC of zeros is zero, so an all-zero packet checks out.)
    wire.resize(MAX_BUFFERED + 100, 1);
    assert_eq!(d.feed(&wire), MAX_BUFFERED);
    assert_eq!(d.feed(b"more"), 0);
    assert!(matches!(
        d.next_packet(),
        Err(V1PacketError::CorruptedCheckBytes)
    ));
}

/// A full buffer of the smallest packets is taken out without moving the rest of
/// the buffer for each one (this would be quadratic).
#[test]
fn many_small_packets() {
    let mut enc = PacketEncoder::new();
    let mut wire = Vec::new();
    while wire.len() + 12 <= MAX_BUFFERED {
        enc.encode(32, b"", &[0; 8], &mut wire).unwrap();
    }
    let mut d = PacketDecoder::new();
    assert_eq!(d.feed(&wire), wire.len());
    let mut n = 0;
    while let Some((t, _)) = d.next_packet().unwrap() {
        assert_eq!(t, 32);
        n += 1;
    }
    assert_eq!(n, wire.len() / 12);
    assert_eq!(d.buffered(), 0);
    assert_eq!(d.feed(&wire[..5]), 5);
    assert_eq!(d.take_buffered(), wire[..5].to_vec());
}

/// A stream several times the buffer's size goes through in chunks (room is made
/// as packets are taken).
#[test]
fn stream_longer_than_the_buffer() {
    let (e, d) = Toy::pair(77);
    let mut enc = PacketEncoder::new();
    enc.set_cipher(e);
    let mut dec = PacketDecoder::new();
    dec.set_cipher(d);
    let data: Vec<u8> = (0..40_000u32).map(|i| ((i * 7919) >> 3) as u8).collect();
    let mut wire = Vec::new();
    for i in 0..30u8 {
        enc.encode(i, &data, &[i; 8], &mut wire).unwrap();
    }
    assert!(wire.len() > 4 * MAX_BUFFERED);
    let mut got = 0;
    for chunk in wire.chunks(65_536) {
        let mut rest = chunk;
        while !rest.is_empty() {
            let n = dec.feed(rest);
            rest = &rest[n..];
            while let Some((t, p)) = dec.next_packet().unwrap() {
                assert_eq!((t, p.len()), (got, data.len()));
                got += 1;
            }
        }
    }
    assert_eq!(got, 30);
}

#[test]
fn outgoing_limit() {
    let mut out = Vec::new();
    // Varied data (a CBC-like toy over constant data can cycle and repeat blocks).
    let big: Vec<u8> = (0..=MAX_DATA_LEN as u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    assert_eq!(
        PacketEncoder::new().encode(1, &big, &[0; 8], &mut out),
        Err(V1PacketError::DataTooLong(MAX_DATA_LEN + 1))
    );
    // The largest packet passes the peer's detector.
    let mut enc = PacketEncoder::new();
    let (e, d) = Toy::pair(5);
    enc.set_cipher(e);
    enc.encode(1, &big[1..], &[3; 8], &mut out).unwrap();
    let mut dec = PacketDecoder::new();
    dec.set_cipher(d);
    assert_eq!(dec.feed(&out), out.len());
    let got = dec.next_packet().unwrap().unwrap().1;
    assert!(got == big[1..]);
}

#[test]
fn tampering_is_a_crc_error() {
    let mut enc = PacketEncoder::new();
    let (e, d) = Toy::pair(99);
    enc.set_cipher(e);
    let mut out = Vec::new();
    enc.encode(
        17,
        b"\x00\x00\x00\x03abc",
        &[1, 2, 3, 4, 5, 6, 7, 8],
        &mut out,
    )
    .unwrap();
    out[9] ^= 0x40;
    let mut dec = PacketDecoder::new();
    dec.set_cipher(d);
    dec.feed(&out);
    let e = dec.next_packet().unwrap_err();
    assert_eq!(e, V1PacketError::CorruptedCheckBytes);
    assert_eq!(e.to_string(), "Corrupted check bytes on input.");
}

#[test]
fn compensation_attack_is_refused() {
    // 40 blocks after the length: length 316 pads to 320.
    let mut wire = 316u32.to_be_bytes().to_vec();
    wire.extend_from_slice(&packet_with(40, &CANCELLING_40));
    let mut dec = PacketDecoder::new();
    dec.set_cipher(Toy::pair(1).1);
    dec.feed(&wire);
    let e = dec.next_packet().unwrap_err();
    assert_eq!(e, V1PacketError::Deattack(DeattackError::Attack));
    assert_eq!(
        e.to_string(),
        "crc32 compensation attack: network attack detected"
    );
    // Without a cipher the detector does not run (the CRC fails instead).
    let mut dec = PacketDecoder::new();
    dec.feed(&wire);
    assert_eq!(dec.next_packet(), Err(V1PacketError::CorruptedCheckBytes));
}

proptest! {
    #[test]
    fn round_trip_any_chunking(
        msgs in proptest::collection::vec(
            (any::<u8>(), proptest::collection::vec(any::<u8>(), 0..300)), 1..8),
        cuts in proptest::collection::vec(1usize..64, 1..40),
        key in proptest::option::of(any::<u64>()),
        pad in any::<[u8; 8]>(),
    ) {
        let mut enc = PacketEncoder::new();
        let mut dec = PacketDecoder::new();
        if let Some(k) = key {
            let (e, d) = Toy::pair(k);
            enc.set_cipher(e);
            dec.set_cipher(d);
        }
        let mut wire = Vec::new();
        for (t, data) in &msgs {
            enc.encode(*t, data, &pad, &mut wire).unwrap();
        }
        let mut got = Vec::new();
        let mut rest = &wire[..];
        let mut i = 0;
        while !rest.is_empty() {
            let n = cuts[i % cuts.len()].min(rest.len());
            i += 1;
            prop_assert_eq!(dec.feed(&rest[..n]), n);
            rest = &rest[n..];
            while let Some(p) = dec.next_packet().unwrap() {
                got.push(p);
            }
        }
        prop_assert_eq!(got, msgs);
        prop_assert_eq!(dec.buffered(), 0);
    }

    #[test]
    fn garbage_never_panics(
        data in proptest::collection::vec(any::<u8>(), 0..2000),
        cipher in any::<bool>(),
    ) {
        let mut dec = PacketDecoder::new();
        if cipher {
            dec.set_cipher(Toy::pair(7).1);
        }
        dec.feed(&data);
        for _ in 0..300 {
            match dec.next_packet() {
                Ok(Some(_)) => {}
                Ok(None) => break,
                Err(_) => {
                    prop_assert!(dec.next_packet().is_err());
                    break;
                }
            }
        }
        prop_assert!(dec.buffered() <= MAX_BUFFERED);
    }
}
