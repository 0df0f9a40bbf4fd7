//! Every (cipher, MAC) suite through `sisu-wire`'s `PacketEncoder` / `PacketDecoder`:
//! round trips under random chunking, and tampering of every kind refused.

use proptest::prelude::*;
use sisu_cipher::{
    new_opener, new_sealer, CipherAlg, DirectionKeys, KeyPart, MacAlg, PacketError, SuiteError,
};
use sisu_wire::packet::{
    PacketDecoder, PacketEncoder, DISCARD_LEN, MAX_PACKET_LEN, MAX_PAYLOAD_LEN, MIN_PACKET_LEN,
};

/// Every supported suite: AEADs alone, other ciphers with every MAC.
fn suites() -> Vec<(CipherAlg, Option<MacAlg>)> {
    let mut v = Vec::new();
    for &c in CipherAlg::ALL {
        if c.is_aead() {
            v.push((c, None));
        } else {
            v.extend(MacAlg::ALL.iter().map(|&m| (c, Some(m))));
        }
    }
    v
}

fn keys_from(seed: u8) -> DirectionKeys {
    let f = |n: usize, k: u8| {
        (0..n)
            .map(|i| (i as u8).wrapping_mul(31) ^ k ^ seed)
            .collect()
    };
    DirectionKeys {
        iv: f(16, 0x11),
        key: f(64, 0x22),
        mac_key: f(64, 0x33),
    }
}

fn pair(
    suite: (CipherAlg, Option<MacAlg>),
    keys: &DirectionKeys,
) -> (PacketEncoder, PacketDecoder) {
    let mut enc = PacketEncoder::new();
    enc.set_sealer(new_sealer(suite.0, suite.1, keys).unwrap());
    let mut dec = PacketDecoder::new();
    dec.set_opener(new_opener(suite.0, suite.1, keys).unwrap());
    (enc, dec)
}

fn encode_each(enc: &mut PacketEncoder, payloads: &[Vec<u8>]) -> Vec<Vec<u8>> {
    payloads
        .iter()
        .map(|p| {
            let mut out = Vec::new();
            enc.encode(p, &mut |pad| pad.fill(0xee), &mut out).unwrap();
            out
        })
        .collect()
}

/// What the decoder must say about a sealed packet of `packet_length` `orig` whose
/// length field was read as `flipped` instead. Outside CBC with encrypt-and-MAC the
/// length field is either clear or XORed with a keystream, so a flipped bit on the
/// wire is the same flipped bit in the decoded length.
///
/// With encrypt-and-MAC (`!excluded`, a MAC) a bad length is not told: the decoder
/// waits to discard the largest packet's worth of bytes (see
/// `bad_length_is_a_mac_error_only_after_the_largest_packet`).
fn expected_after_length_flip(
    orig: u32,
    flipped: u32,
    block: u32,
    excluded: bool,
) -> Result<Option<()>, PacketError> {
    let aligned = if excluded {
        flipped
    } else {
        flipped.wrapping_add(4)
    };
    let bad = if !(MIN_PACKET_LEN..=MAX_PACKET_LEN).contains(&flipped) {
        Some(PacketError::BadLength(flipped))
    } else if aligned % block != 0 {
        Some(PacketError::BadAlignment(flipped))
    } else {
        None
    };
    if let Some(e) = bad {
        return if excluded { Err(e) } else { Ok(None) };
    }
    if flipped > orig {
        Ok(None) // waits for bytes that a peer would have to forge a tag for
    } else {
        Err(PacketError::Mac) // the tag is read from the wrong place and fails
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    /// Many packets in sequence (sequence numbers and cipher state advance), fed in
    /// random chunks, come out as they went in, each of the right size and alignment.
    #[test]
    fn round_trip_every_suite(
        suite in 0..suites().len(),
        seed in any::<u8>(),
        payloads in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..700), 1..8),
        chunk in 1usize..300,
    ) {
        let suite = suites()[suite];
        let keys = keys_from(seed);
        let (mut enc, mut dec) = pair(suite, &keys);
        let packets = encode_each(&mut enc, &payloads);
        let sealer = new_sealer(suite.0, suite.1, &keys).unwrap();
        for (p, payload) in packets.iter().zip(&payloads) {
            let body = p.len() - sealer.tag_len() - if sealer.length_excluded() { 4 } else { 0 };
            prop_assert_eq!(body % suite.0.block_size(), 0);
            let padding_max = 4 + 2 * suite.0.block_size();
            prop_assert!(p.len() <= 5 + payload.len() + padding_max + sealer.tag_len());
        }
        let wire: Vec<u8> = packets.concat();
        let mut got = Vec::new();
        for c in wire.chunks(chunk) {
            dec.feed(c);
            while let Some((seq, p)) = dec.next_packet().unwrap() {
                prop_assert_eq!(seq as usize, got.len());
                got.push(p);
            }
        }
        prop_assert_eq!(got, payloads);
        prop_assert_eq!(dec.buffered(), 0);
        prop_assert_eq!(dec.seq(), enc.seq());
    }

    /// Every single-bit flip of a sealed packet (the second of a stream, so the state
    /// has moved on) is refused: in the body or the tag with `Mac`; in the length with
    /// exactly the error (or the wait) that the flipped length calls for. The genuine
    /// first packet still comes out, and the tampered one never does.
    #[test]
    fn every_bit_flip_is_refused(
        suite in 0..suites().len(),
        seed in any::<u8>(),
        first in prop::collection::vec(any::<u8>(), 0..40),
        second in prop::collection::vec(any::<u8>(), 0..40),
    ) {
        let suite = suites()[suite];
        let keys = keys_from(seed);
        let (mut enc, _) = pair(suite, &keys);
        let packets = encode_each(&mut enc, &[first.clone(), second.clone()]);
        let (head, target) = (&packets[0], &packets[1]);
        let orig = second_length(target, suite, &keys);
        let opener = new_opener(suite.0, suite.1, &keys).unwrap();
        let (block, excluded) = (opener.block_size().max(8) as u32, opener.length_excluded());
        for bit in 0..target.len() * 8 {
            let mut bad = target.clone();
            bad[bit / 8] ^= 1 << (bit % 8);
            let mut dec = PacketDecoder::new();
            dec.set_opener(new_opener(suite.0, suite.1, &keys).unwrap());
            dec.feed(head);
            dec.feed(&bad);
            prop_assert_eq!(dec.next_packet(), Ok(Some((0, first.clone()))));
            let got = dec.next_packet().map(|p| p.map(|_| ()));
            let cbc_head = scrambles_length(suite) && bit < 8 * suite.0.block_size();
            if cbc_head {
                // CBC decrypts a flipped first block to garbage, length included:
                // whatever the decoder says, the packet never comes out.
                prop_assert!(!matches!(got, Ok(Some(_))), "bit {} {:?}", bit, got);
                continue;
            }
            let want = if bit < 32 {
                // Byte 0 is the most significant byte of packet_length.
                let flipped = orig ^ (1u32 << (8 * (3 - bit / 8) + bit % 8));
                expected_after_length_flip(orig, flipped, block, excluded)
            } else {
                Err(PacketError::Mac)
            };
            prop_assert_eq!(got, want, "bit {}", bit);
        }
    }

    /// A packet out of place (replayed, reordered or dropped before it) never opens:
    /// the sequence number and the cipher state are bound into every packet.
    #[test]
    fn packets_out_of_order_are_refused(
        suite in 0..suites().len(),
        seed in any::<u8>(),
        payload in prop::collection::vec(any::<u8>(), 0..100),
    ) {
        let suite = suites()[suite];
        let keys = keys_from(seed);
        let (mut enc, _) = pair(suite, &keys);
        let packets = encode_each(&mut enc, &[payload.clone(), payload.clone(), payload]);
        for order in [[1usize, 0, 2], [0, 0, 1], [0, 2, 1], [2, 1, 0]] {
            let (_, mut dec) = pair(suite, &keys);
            let mut results = Vec::new();
            for &i in &order {
                dec.feed(&packets[i]);
            }
            for _ in 0..3 {
                match dec.next_packet() {
                    Ok(Some((seq, _))) => results.push(seq),
                    _ => break,
                }
            }
            // Only the prefix that is in order may come out.
            let in_order = order.iter().zip(0..).take_while(|(i, j)| **i == *j).count();
            prop_assert_eq!(results.len(), in_order, "{:?}", order);
        }
    }

    /// Keys that differ in any one part never give back the payload, and are refused
    /// outright except in one case: encrypt-then-MAC authenticates the ciphertext, not
    /// the cipher key or IV, so with only those wrong the MAC passes and the packet
    /// decrypts to garbage (as in OpenSSH; key exchange derives both sides alike).
    #[test]
    fn wrong_keys_are_refused(
        suite in 0..suites().len(),
        seed in any::<u8>(),
        part in 0..3usize,
        payload in prop::collection::vec(any::<u8>(), 16..100),
    ) {
        let suite = suites()[suite];
        let keys = keys_from(seed);
        let mut other = keys.clone();
        let mac_key_same = match part {
            0 if suite.0.iv_len() > 0 => { other.iv[0] ^= 1; true }
            2 if suite.1.is_some() => { other.mac_key[0] ^= 1; false }
            // Not bit 0: DES ignores its parity bits.
            _ => { other.key[0] ^= 0x80; true }
        };
        let (mut enc, _) = pair(suite, &keys);
        let (_, mut dec) = pair(suite, &other);
        dec.feed(&encode_each(&mut enc, std::slice::from_ref(&payload))[0]);
        let r = dec.next_packet();
        if mac_key_same && suite.1.is_some_and(MacAlg::is_etm) {
            prop_assert!(!matches!(&r, Ok(Some((_, p))) if *p == payload), "{:?}", r);
        } else {
            prop_assert!(!matches!(r, Ok(Some(_))), "{:?}", r);
        }
    }
}

/// Whether a flipped bit in the first block scrambles the decrypted length: CBC with
/// encrypt-and-MAC (the length is inside the first cipher block).
fn scrambles_length(suite: (CipherAlg, Option<MacAlg>)) -> bool {
    suite.0.name().contains("cbc") && !suite.1.is_some_and(MacAlg::is_etm)
}

/// `packet_length` of a sealed packet (the second one a fresh sealer produced).
fn second_length(sealed: &[u8], suite: (CipherAlg, Option<MacAlg>), keys: &DirectionKeys) -> u32 {
    let tag = new_sealer(suite.0, suite.1, keys).unwrap().tag_len();
    (sealed.len() - tag - 4) as u32
}

#[test]
fn largest_and_smallest_payloads_round_trip() {
    for suite in suites() {
        let keys = keys_from(9);
        let (mut enc, mut dec) = pair(suite, &keys);
        // TODO(wire): MAX_PAYLOAD_LEN itself pads to a packet_length above
        // MAX_PACKET_LEN, which PacketDecoder refuses (reported to the lead); stay
        // two blocks under it until wire bounds the payload by the padded length.
        let payloads = vec![vec![], vec![0xab; MAX_PAYLOAD_LEN - 32], vec![1]];
        let wire = encode_each(&mut enc, &payloads).concat();
        dec.feed(&wire);
        for (i, p) in payloads.iter().enumerate() {
            assert_eq!(
                dec.next_packet().unwrap(),
                Some((i as u32, p.clone())),
                "{suite:?}"
            );
        }
        assert_eq!(dec.next_packet().unwrap(), None);
    }
}

#[test]
fn ciphertext_hides_the_payload() {
    for suite in suites() {
        let (mut enc, _) = pair(suite, &keys_from(1));
        let sealed = &encode_each(&mut enc, &[vec![0u8; 256]])[0];
        // 256 zero bytes went in; no 16-byte run of zeros comes out.
        assert!(
            sealed.windows(16).all(|w| w.iter().any(|&b| b != 0)),
            "{suite:?}"
        );
        let excluded = new_sealer(suite.0, suite.1, &keys_from(1))
            .unwrap()
            .length_excluded();
        let clear_length =
            sealed[..4] == ((sealed.len() - 4 - enc_tag(suite)) as u32).to_be_bytes();
        // The length is in clear exactly for GCM and EtM (chacha encrypts it with K_1).
        assert_eq!(
            clear_length,
            excluded && suite.0 != CipherAlg::Chacha20Poly1305,
            "{suite:?}"
        );
    }
}

fn enc_tag(suite: (CipherAlg, Option<MacAlg>)) -> usize {
    new_sealer(suite.0, suite.1, &keys_from(0))
        .unwrap()
        .tag_len()
}

#[test]
fn suite_errors() {
    let keys = keys_from(0);
    for c in [
        CipherAlg::Aes128Ctr,
        CipherAlg::Aes192Ctr,
        CipherAlg::Aes256Ctr,
    ] {
        assert_eq!(
            new_sealer(c, None, &keys).err(),
            Some(SuiteError::MissingMac(c))
        );
        assert_eq!(
            new_opener(c, None, &keys).err(),
            Some(SuiteError::MissingMac(c))
        );
    }
    // Each part one byte short of what its algorithm needs.
    for (c, m) in suites() {
        let needs = [
            (KeyPart::Iv, c.iv_len()),
            (KeyPart::Key, c.key_len()),
            (KeyPart::MacKey, m.map_or(0, |m| m.key_len())),
        ];
        for (part, need) in needs {
            if need == 0 {
                continue;
            }
            let mut k = keys.clone();
            let field = match part {
                KeyPart::Iv => &mut k.iv,
                KeyPart::Key => &mut k.key,
                KeyPart::MacKey => &mut k.mac_key,
            };
            field.truncate(need - 1);
            let want = SuiteError::ShortKey {
                part,
                need,
                got: need - 1,
            };
            assert_eq!(new_sealer(c, m, &k).err(), Some(want.clone()), "{c} {m:?}");
            assert_eq!(new_opener(c, m, &k).err(), Some(want));
        }
    }
    // AEAD ciphers need no IV (chacha) or MAC key, and ignore the MAC named.
    let aead_keys = DirectionKeys {
        iv: vec![0; 12],
        key: vec![0; 64],
        mac_key: vec![],
    };
    for c in [
        CipherAlg::Chacha20Poly1305,
        CipherAlg::Aes128Gcm,
        CipherAlg::Aes256Gcm,
    ] {
        assert!(new_sealer(c, Some(MacAlg::HmacSha512), &aead_keys).is_ok());
        assert!(new_opener(c, None, &aead_keys).is_ok());
    }
}

/// CVE-2008-5161: with a real encrypt-and-MAC suite (CBC or CTR with a non-ETM HMAC), a
/// packet whose decrypted length is bad gets no answer until the largest packet's
/// worth of bytes (length, `MAX_PACKET_LEN`, MAC) has arrived, and then only the MAC
/// error; the decoder keeps none of those bytes. With ETM and AEAD suites the length is
/// in the clear or authenticated, and a bad one fails at once.
#[test]
fn bad_length_is_a_mac_error_only_after_the_largest_packet() {
    let eam = [
        (CipherAlg::Aes128Cbc, MacAlg::HmacSha256),
        (CipherAlg::Aes256Ctr, MacAlg::HmacSha1),
        (CipherAlg::Aes128Ctr, MacAlg::HmacSha512),
    ];
    for (cipher, mac) in eam {
        let keys = keys_from(9);
        let (mut enc, _) = pair((cipher, Some(mac)), &keys);
        let tag = new_opener(cipher, Some(mac), &keys).unwrap().tag_len();
        let sealed = &encode_each(&mut enc, &[b"first".to_vec(), vec![7u8; 100]])[1];
        let mut bad = sealed.clone();
        // CTR: the top bit of packet_length flips (length > 2^31); CBC: the first
        // block decrypts to garbage (with these keys, a length out of range).
        bad[0] ^= 0x80;
        let (_, mut dec) = pair((cipher, Some(mac)), &keys);
        dec.feed(
            &encode_each(
                &mut pair((cipher, Some(mac)), &keys).0,
                &[b"first".to_vec()],
            )[0],
        );
        assert_eq!(dec.next_packet(), Ok(Some((0, b"first".to_vec()))));
        let whole = DISCARD_LEN + tag;
        let mut stream = bad.clone();
        stream.resize(whole + 50, 0xab);
        let mut fed = 0;
        for chunk in stream[..whole - 1].chunks(1000) {
            dec.feed(chunk);
            fed += chunk.len();
            assert_eq!(dec.next_packet(), Ok(None), "{cipher:?} {mac:?} at {fed}");
            assert!(dec.buffered() < 1000, "discarded bytes are dropped");
        }
        assert!(dec.is_discarding(), "{cipher:?} {mac:?}");
        dec.feed(&stream[whole - 1..whole]);
        assert_eq!(
            dec.next_packet(),
            Err(PacketError::Mac),
            "{cipher:?} {mac:?}"
        );
    }
    // Encrypt-then-MAC and AEAD: at once.
    for (cipher, mac) in [
        (CipherAlg::Aes128Ctr, Some(MacAlg::HmacSha256Etm)),
        (CipherAlg::Chacha20Poly1305, None),
    ] {
        let keys = keys_from(9);
        let (mut enc, mut dec) = pair((cipher, mac), &keys);
        let mut bad = encode_each(&mut enc, &[vec![7u8; 100]])[0].clone();
        bad[0] ^= 0x80;
        dec.feed(&bad);
        assert!(
            matches!(dec.next_packet(), Err(PacketError::BadLength(_))),
            "{cipher:?}"
        );
    }
}

/// Garbage from a peer never panics and never yields a packet.
#[test]
fn garbage_is_refused() {
    for suite in suites() {
        for n in [0usize, 3, 4, 15, 16, 17, 64, 200, 1000] {
            let (_, mut dec) = pair(suite, &keys_from(3));
            dec.feed(&(0..n).map(|i| (i * 37 + 11) as u8).collect::<Vec<_>>());
            assert!(!matches!(dec.next_packet(), Ok(Some(_))), "{suite:?} {n}");
        }
    }
}

/// The committed seeds of the `packet_decoder` fuzz target reach the refusals they are
/// for: under `none` a bad or misaligned length fails at once; under the target's
/// encrypt-and-MAC suite (aes128-cbc, hmac-sha2-256, its fixed keys) the same bytes
/// start a discard and tell nothing.
#[test]
fn packet_decoder_fuzz_seeds_reach_the_refusals() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/seeds/packet_decoder");
    let keys = DirectionKeys {
        iv: vec![7; 16],
        key: vec![9; 16],
        mac_key: vec![11; 32],
    };
    for (name, plain) in [
        ("none_bad_length", Err(PacketError::BadLength(0xffff_ffff))),
        ("none_misaligned", Err(PacketError::BadAlignment(13))),
        ("cbc_garbage_head", Err(PacketError::BadLength(0x0b30_557a))),
    ] {
        let data = std::fs::read(dir.join(name)).unwrap();
        let mut d = PacketDecoder::new();
        d.feed(&data);
        assert_eq!(d.next_packet(), plain, "{name}");
        let mut d = PacketDecoder::new();
        d.set_opener(new_opener(CipherAlg::Aes128Cbc, Some(MacAlg::HmacSha256), &keys).unwrap());
        d.feed(&data);
        assert_eq!(d.next_packet(), Ok(None), "{name}");
        assert!(d.is_discarding(), "{name}");
    }
}
