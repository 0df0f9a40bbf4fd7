//! Unit tests of the packet codec.

use super::*;
use proptest::prelude::*;

fn zero(p: &mut [u8]) {
    p.fill(0)
}

#[test]
fn plain_round_trip_and_alignment() {
    let mut enc = PacketEncoder::new();
    let mut out = Vec::new();
    enc.encode(b"hello", &mut zero, &mut out).unwrap();
    assert_eq!(out.len() % 8, 0);
    assert!(out[4] >= 4);
    let mut dec = PacketDecoder::new();
    dec.feed(&out);
    assert_eq!(dec.next_packet().unwrap(), Some((0, b"hello".to_vec())));
    assert_eq!(dec.next_packet().unwrap(), None);
    assert_eq!(enc.seq(), 1);
    assert_eq!(dec.seq(), 1);
}

#[test]
fn length_limits() {
    for bad in [0u32, 4, 0xffff_ffff, MAX_PACKET_LEN + 4] {
        let mut dec = PacketDecoder::new();
        dec.feed(&bad.to_be_bytes());
        assert_eq!(dec.next_packet(), Err(PacketError::BadLength(bad)));
    }
    let mut dec = PacketDecoder::new();
    dec.feed(&13u32.to_be_bytes());
    assert_eq!(dec.next_packet(), Err(PacketError::BadAlignment(13)));
}

#[test]
fn bad_padding_refused() {
    let mut dec = PacketDecoder::new();
    dec.feed(&[0, 0, 0, 12, 3, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    assert_eq!(dec.next_packet(), Err(PacketError::BadPadding(3)));
}

#[test]
fn largest_payload_fits_the_decoder_limit() {
    let mut enc = PacketEncoder::new();
    let mut out = Vec::new();
    enc.encode(&vec![7u8; MAX_PAYLOAD_LEN], &mut zero, &mut out)
        .unwrap();
    let mut dec = PacketDecoder::new();
    dec.feed(&out);
    assert_eq!(dec.next_packet().unwrap().unwrap().1.len(), MAX_PAYLOAD_LEN);
    assert_eq!(
        enc.encode(&vec![7u8; MAX_PAYLOAD_LEN + 1], &mut zero, &mut out),
        Err(PacketError::PayloadTooLong(MAX_PAYLOAD_LEN + 1))
    );
}

#[test]
fn sequence_numbers_wrap() {
    let mut enc = PacketEncoder::new();
    enc.seq = u32::MAX;
    let mut out = Vec::new();
    enc.encode(b"x", &mut zero, &mut out).unwrap();
    assert_eq!(enc.seq(), 0);
}

/// An encrypt-and-MAC opener for tests: the length is "encrypted" by XOR with
/// `mask`, the 20-byte tag is the sum of the packet's bytes repeated.
struct EncryptAndMac {
    mask: u32,
    length_excluded: bool,
}

impl Opener for EncryptAndMac {
    fn block_size(&self) -> usize {
        16
    }
    fn tag_len(&self) -> usize {
        20
    }
    fn length_excluded(&self) -> bool {
        self.length_excluded
    }
    fn length_prefix_len(&self) -> usize {
        16
    }
    fn decrypt_length(&mut self, _seq: u32, head: &mut [u8]) -> u32 {
        u32::from_be_bytes([head[0], head[1], head[2], head[3]]) ^ self.mask
    }
    fn open(&mut self, _seq: u32, packet: &mut [u8]) -> Result<(), PacketError> {
        let (body, tag) = packet.split_at(packet.len() - 20);
        let sum = body.iter().fold(0u8, |a, b| a.wrapping_add(*b));
        if tag.iter().all(|&t| t == sum) {
            Ok(())
        } else {
            Err(PacketError::Mac)
        }
    }
    fn stream_state(&self) -> StreamState {
        StreamState::empty()
    }
}

fn eam_decoder(mask: u32) -> PacketDecoder {
    let mut dec = PacketDecoder::new();
    dec.set_opener(Box::new(EncryptAndMac {
        mask,
        length_excluded: false,
    }));
    dec
}

/// Feeds `n` bytes one chunk of `chunk` at a time, asking for a packet after each;
/// returns the first answer that is not "more bytes" and how many bytes were fed.
type Answer = Result<Option<(u32, Vec<u8>)>, PacketError>;

fn feed_until_answer(dec: &mut PacketDecoder, n: usize, chunk: usize) -> (Answer, usize) {
    let mut fed = 0;
    while fed < n {
        let c = chunk.min(n - fed);
        dec.feed(&vec![0x5a; c]);
        fed += c;
        match dec.next_packet() {
            Ok(None) => continue,
            other => return (other, fed),
        }
    }
    (Ok(None), fed)
}

#[test]
fn encrypt_and_mac_bad_length_fails_with_mac_only_after_the_largest_packet() {
    let whole = DISCARD_LEN + 20;
    // Lengths out of range (too big, too small) and misaligned (13 + 4 is not a
    // multiple of 16), all after "decryption".
    for bad in [0xffff_fff0u32, MAX_PACKET_LEN + 12, 0, 4, 13, 62] {
        for chunk in [1usize, 7, 4096, whole] {
            if chunk == 1 && bad != 13 {
                continue; // one byte at a time once is enough
            }
            let mut dec = eam_decoder(0x5a5a_5a5a ^ bad);
            let (r, fed) = feed_until_answer(&mut dec, whole - 1, chunk);
            assert_eq!(r, Ok(None), "no verdict before the whole: {bad} {chunk}");
            assert_eq!(fed, whole - 1);
            assert!(dec.is_discarding());
            assert_eq!(dec.buffered(), 0, "discarded bytes are not kept");
            dec.feed(&[0x5a]);
            assert_eq!(dec.next_packet(), Err(PacketError::Mac), "{bad} {chunk}");
            // Sticky.
            dec.feed(&[1, 2, 3]);
            assert_eq!(dec.next_packet(), Err(PacketError::Mac));
        }
    }
    // All of it at once: the same error, at once.
    let mut dec = eam_decoder(0x5a5a_5a5a ^ 13);
    dec.feed(&vec![0x5a; whole + 100]);
    assert_eq!(dec.next_packet(), Err(PacketError::Mac));
}

#[test]
fn good_length_with_encrypt_and_mac_still_reads_packets() {
    // packet_length 28 (+4 = 32, two blocks), padding 4, payload 23 bytes of 1.
    let mut p = 28u32.to_be_bytes().to_vec();
    p.push(4);
    p.extend_from_slice(&[1; 23]);
    p.extend_from_slice(&[0; 4]);
    let sum = p.iter().fold(0u8, |a, b| a.wrapping_add(*b));
    p.extend_from_slice(&[sum; 20]);
    let mut dec = eam_decoder(0);
    dec.feed(&p);
    assert_eq!(dec.next_packet(), Ok(Some((0, vec![1; 23]))));
    // A bad tag is a MAC error at once: the length was good.
    let last = p.len() - 1;
    p[last] ^= 1;
    dec.feed(&p);
    assert_eq!(dec.next_packet(), Err(PacketError::Mac));
}

#[test]
fn clear_or_authenticated_lengths_fail_at_once() {
    // Encrypt-then-MAC / AEAD: the length is not secret, no need to hide it.
    let mut dec = PacketDecoder::new();
    dec.set_opener(Box::new(EncryptAndMac {
        mask: 0,
        length_excluded: true,
    }));
    dec.feed(&[0xff; 16]);
    assert_eq!(dec.next_packet(), Err(PacketError::BadLength(0xffff_ffff)));
    // `none` (before keys): at once too.
    let mut dec = PacketDecoder::new();
    dec.feed(&0xffff_ffffu32.to_be_bytes());
    assert_eq!(dec.next_packet(), Err(PacketError::BadLength(0xffff_ffff)));
    assert!(!dec.is_discarding());
}

proptest! {
    #[test]
    fn round_trip_any_chunking(payloads in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..600), 1..6),
                               chunk in 1usize..97) {
        let mut enc = PacketEncoder::new();
        let mut wire = Vec::new();
        for p in &payloads {
            enc.encode(p, &mut zero, &mut wire).unwrap();
        }
        let mut dec = PacketDecoder::new();
        let mut got = Vec::new();
        for c in wire.chunks(chunk) {
            dec.feed(c);
            while let Some((_, p)) = dec.next_packet().unwrap() {
                got.push(p);
            }
        }
        prop_assert_eq!(got, payloads);
    }

    #[test]
    fn garbage_never_panics(data in proptest::collection::vec(any::<u8>(), 0..300)) {
        let mut dec = PacketDecoder::new();
        dec.feed(&data);
        for _ in 0..10 {
            match dec.next_packet() {
                Ok(Some(_)) => continue,
                _ => break,
            }
        }
    }

    #[test]
    fn restored_codec_reads_on_from_any_cut(
        payloads in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..80), 1..6),
        cut in any::<proptest::sample::Index>(),
        chunk in 1usize..40,
    ) {
        let mut enc = PacketEncoder::new();
        enc.set_sealer(Box::new(XorStream { pos: 0 }));
        let mut wire = Vec::new();
        let half = payloads.len() / 2;
        for p in &payloads[..half] {
            enc.encode(p, &mut zero, &mut wire).unwrap();
        }
        // The encoder moves to another process half-way.
        let st = enc.export();
        let mut enc = PacketEncoder::restore(Box::new(XorStream::from_state(&st.stream)), st.seq);
        for p in &payloads[half..] {
            enc.encode(p, &mut zero, &mut wire).unwrap();
        }
        let cut = cut.index(wire.len() + 1);
        let mut dec = PacketDecoder::new();
        dec.set_opener(Box::new(XorStream { pos: 0 }));
        let mut got = Vec::new();
        for c in wire[..cut].chunks(chunk) {
            dec.feed(c);
            while let Some((_, p)) = dec.next_packet().unwrap() {
                got.push(p);
            }
        }
        let st = dec.export();
        drop(dec);
        let mut dec = PacketDecoder::restore(Box::new(XorStream::from_state(&st.stream)), &st).unwrap();
        for c in wire[cut..].chunks(chunk) {
            dec.feed(c);
            while let Some((_, p)) = dec.next_packet().unwrap() {
                got.push(p);
            }
        }
        prop_assert_eq!(dec.buffered(), 0);
        prop_assert_eq!(dec.seq() as usize, payloads.len());
        prop_assert_eq!(got, payloads);
    }
}

/// A stateful toy suite (encrypt-and-MAC shape): XOR with a keystream that depends on
/// the stream position, the length encrypted, a 4-byte sum as "MAC". Its state is the
/// position, so a restore that lost or repeated a byte fails.
struct XorStream {
    pos: u64,
}

impl XorStream {
    fn from_state(s: &StreamState) -> Self {
        XorStream {
            pos: u64::from_be_bytes(s.as_bytes().try_into().unwrap()),
        }
    }
    fn apply(&mut self, data: &mut [u8]) {
        for b in data {
            *b ^= (self.pos.wrapping_mul(0x9e37_79b9) >> 7) as u8;
            self.pos += 1;
        }
    }
    fn tag(seq: u32, body: &[u8]) -> [u8; 4] {
        let s = body
            .iter()
            .fold(seq, |a, b| a.wrapping_mul(31).wrapping_add(*b as u32));
        s.to_be_bytes()
    }
}

impl Sealer for XorStream {
    fn block_size(&self) -> usize {
        8
    }
    fn tag_len(&self) -> usize {
        4
    }
    fn length_excluded(&self) -> bool {
        false
    }
    fn seal(&mut self, seq: u32, packet: &mut Vec<u8>) {
        let tag = Self::tag(seq, packet);
        self.apply(packet);
        packet.extend_from_slice(&tag);
    }
    fn stream_state(&self) -> StreamState {
        StreamState::new(self.pos.to_be_bytes().to_vec()).unwrap()
    }
}

impl Opener for XorStream {
    fn block_size(&self) -> usize {
        8
    }
    fn tag_len(&self) -> usize {
        4
    }
    fn length_excluded(&self) -> bool {
        false
    }
    fn length_prefix_len(&self) -> usize {
        8
    }
    fn decrypt_length(&mut self, _seq: u32, head: &mut [u8]) -> u32 {
        self.apply(head);
        u32::from_be_bytes([head[0], head[1], head[2], head[3]])
    }
    fn open(&mut self, seq: u32, packet: &mut [u8]) -> Result<(), PacketError> {
        let (body, tag) = packet.split_at_mut(packet.len() - 4);
        self.apply(&mut body[8..]);
        if Self::tag(seq, body) == tag[..] {
            Ok(())
        } else {
            Err(PacketError::Mac)
        }
    }
    fn stream_state(&self) -> StreamState {
        StreamState::new(self.pos.to_be_bytes().to_vec()).unwrap()
    }
}

#[test]
fn restore_refuses_states_no_decoder_could_be_in() {
    let opener = || -> Box<dyn Opener> { Box::new(XorStream { pos: 0 }) };
    let good = DecoderState {
        seq: 3,
        stream: StreamState::empty(),
        buffered: vec![0; 8],
        pending_length: Some(12),
        discard: None,
    };
    assert!(PacketDecoder::restore(opener(), &good).is_ok());
    let bad = |f: &dyn Fn(&mut DecoderState)| {
        let mut s = good.clone();
        f(&mut s);
        PacketDecoder::restore(opener(), &s).err()
    };
    assert!(
        bad(&|s| s.pending_length = Some(13)).is_some(),
        "misaligned"
    );
    assert!(bad(&|s| s.pending_length = Some(MAX_PACKET_LEN + 4)).is_some());
    assert!(bad(&|s| s.buffered.truncate(7)).is_some(), "head missing");
    assert!(
        bad(&|s| s.discard = Some(1)).is_some(),
        "pending and discarding"
    );
    assert!(bad(&|s| {
        s.pending_length = None;
        s.buffered.clear();
        s.discard = Some((DISCARD_LEN + 5) as u32)
    })
    .is_some());
    // Discarding is for concealed lengths only: not for `none`.
    let discarding = DecoderState {
        seq: 3,
        stream: StreamState::empty(),
        pending_length: None,
        buffered: vec![],
        discard: Some(100),
    };
    assert!(PacketDecoder::restore(opener(), &discarding).is_ok());
    assert!(PacketDecoder::restore(Box::new(Plain), &discarding).is_err());
    assert!(StreamState::new(vec![0; MAX_STREAM_STATE + 1]).is_none());
    assert_eq!(
        format!("{:?}", StreamState::new(vec![7; 3]).unwrap()),
        "StreamState(3 bytes)"
    );
}
