//! Every (cipher, MAC) suite handed to "another process" mid-stream: the encoder and
//! the decoder are exported at a random point (the decoder possibly inside a packet
//! whose head it has already decrypted), rebuilt with `restore_sealer` /
//! `restore_opener` from the keys and the exported stream state, and the stream goes
//! on byte for byte as if nothing had happened.

use proptest::prelude::*;
use sisu_cipher::{
    new_opener, new_sealer, restore_opener, restore_sealer, CipherAlg, DirectionKeys, MacAlg,
    StreamState, SuiteError,
};
use sisu_wire::packet::{PacketDecoder, PacketEncoder};

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

fn keys(seed: u8) -> DirectionKeys {
    let f = |n: usize, k: u8| {
        (0..n)
            .map(|i| (i as u8).wrapping_mul(29) ^ k ^ seed)
            .collect()
    };
    DirectionKeys {
        iv: f(16, 0x41),
        key: f(64, 0x52),
        mac_key: f(64, 0x63),
    }
}

fn payloads(n: usize, len: usize) -> Vec<Vec<u8>> {
    (0..n)
        .map(|i| (0..len + i * 7).map(|j| (i * 13 + j) as u8).collect())
        .collect()
}

/// Seals `ps` with a fresh suite, handing the encoder over after `hand` packets.
fn seal_all(
    suite: (CipherAlg, Option<MacAlg>),
    k: &DirectionKeys,
    ps: &[Vec<u8>],
    hand: usize,
) -> Vec<u8> {
    let mut enc = PacketEncoder::new();
    enc.set_sealer(new_sealer(suite.0, suite.1, k).unwrap());
    let mut wire = Vec::new();
    for (i, p) in ps.iter().enumerate() {
        if i == hand {
            let st = enc.export();
            let sealer = restore_sealer(suite.0, suite.1, k, &st.stream).unwrap();
            enc = PacketEncoder::restore(sealer, st.seq);
        }
        enc.encode(p, &mut |pad| pad.fill(0x3c), &mut wire).unwrap();
    }
    wire
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn every_suite_goes_on_after_a_handover(
        suite in proptest::sample::select(suites()),
        seed in any::<u8>(),
        hand in 0usize..6,
        cut in any::<proptest::sample::Index>(),
        chunk in 1usize..64,
    ) {
        let k = keys(seed);
        let ps = payloads(6, 20);
        // The sealed stream is the same with or without a handover of the encoder.
        let wire = seal_all(suite, &k, &ps, hand);
        prop_assert_eq!(&wire, &seal_all(suite, &k, &ps, usize::MAX));
        let cut = cut.index(wire.len() + 1);
        let mut dec = PacketDecoder::new();
        dec.set_opener(new_opener(suite.0, suite.1, &k).unwrap());
        let mut got = Vec::new();
        for c in wire[..cut].chunks(chunk) {
            dec.feed(c);
            while let Some((_, p)) = dec.next_packet().unwrap() {
                got.push(p);
            }
        }
        let st = dec.export();
        drop(dec);
        let opener = restore_opener(suite.0, suite.1, &k, &st.stream).unwrap();
        let mut dec = PacketDecoder::restore(opener, &st).unwrap();
        for c in wire[cut..].chunks(chunk) {
            dec.feed(c);
            while let Some((_, p)) = dec.next_packet().unwrap() {
                got.push(p);
            }
        }
        prop_assert_eq!(got, ps);
        prop_assert_eq!(dec.seq(), 6);
    }
}

/// The exported state has the documented size for each kind of suite, and a state of
/// another size is refused.
#[test]
fn stream_states_have_their_sizes_and_wrong_ones_are_refused() {
    let k = keys(1);
    for (c, m) in suites() {
        let want = match c {
            CipherAlg::Chacha20Poly1305 => 0,
            CipherAlg::Aes128Gcm | CipherAlg::Aes256Gcm => 8,
            CipherAlg::Aes128Ctr | CipherAlg::Aes192Ctr | CipherAlg::Aes256Ctr => 33,
            CipherAlg::Arcfour | CipherAlg::Arcfour128 | CipherAlg::Arcfour256 => 258,
            _ => c.block_size(),
        };
        let s = new_sealer(c, m, &k).unwrap().stream_state();
        let o = new_opener(c, m, &k).unwrap().stream_state();
        assert_eq!(s.as_bytes().len(), want, "{c} {m:?}");
        assert_eq!(o.as_bytes().len(), want, "{c} {m:?}");
        let longer = StreamState::new(vec![0; want + 1]).unwrap();
        assert_eq!(
            restore_sealer(c, m, &k, &longer).err(),
            Some(SuiteError::BadStreamState(c.name())),
            "{c}"
        );
        assert_eq!(
            restore_opener(c, m, &k, &longer).err(),
            Some(SuiteError::BadStreamState(c.name())),
            "{c}"
        );
        // A fresh suite's state restores to the fresh suite.
        assert!(restore_sealer(c, m, &k, &s).is_ok());
    }
}
