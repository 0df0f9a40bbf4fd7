use super::*;
use proptest::prelude::*;
use sisu_wire::v1::packet::{PacketDecoder, PacketEncoder, V1PacketError};

fn key() -> Vec<u8> {
    (0..32u8)
        .map(|i| i.wrapping_mul(37).wrapping_add(5))
        .collect()
}

/// Exported after any whole number of blocks and resumed, each cipher goes on as
/// the original, both ways.
#[test]
fn resumed_crypt_continues_the_stream() {
    let plain: Vec<u8> = (0..96u32).map(|i| (i * 13 + 1) as u8).collect();
    for &c in V1Cipher::ALL {
        let mut whole = plain.clone();
        V1Crypt::encryptor(c, &key())
            .unwrap()
            .apply(&mut whole)
            .unwrap();
        for cut in (0..=96).step_by(8) {
            let mut out = plain.clone();
            let mut e = V1Crypt::encryptor(c, &key()).unwrap();
            e.apply(&mut out[..cut]).unwrap();
            let st = e.chain_state();
            assert_eq!(st.len(), chain_state_len(c));
            let mut e = V1Crypt::resume_encryptor(c, &key(), &st).unwrap();
            e.apply(&mut out[cut..]).unwrap();
            assert_eq!(out, whole, "{c} encrypt cut {cut}");
            let mut d = V1Crypt::decryptor(c, &key()).unwrap();
            d.apply(&mut out[..cut]).unwrap();
            let mut d = V1Crypt::resume_decryptor(c, &key(), &d.chain_state()).unwrap();
            d.apply(&mut out[cut..]).unwrap();
            assert_eq!(out, plain, "{c} decrypt cut {cut}");
        }
        assert_eq!(
            V1Crypt::resume_encryptor(c, &key(), &[0; 7]).err(),
            Some(V1Error::BadState(7))
        );
    }
}

#[test]
fn fresh_state_is_zero() {
    for &c in V1Cipher::ALL {
        let e = V1Crypt::encryptor(c, &key()).unwrap();
        assert!(e.chain_state().iter().all(|&b| b == 0));
    }
}

fn cipher() -> impl Strategy<Value = V1Cipher> {
    proptest::sample::select(V1Cipher::ALL.to_vec())
}

proptest! {
    /// The SSH-1 packet codec over each real cipher: any messages, any chunking,
    /// with a hand-over of both ends' crypts in the middle.
    #[test]
    fn codec_round_trip(
        c in cipher(),
        msgs in proptest::collection::vec(
            (any::<u8>(), proptest::collection::vec(any::<u8>(), 0..200)), 1..8),
        cuts in proptest::collection::vec(1usize..50, 1..20),
        pad in any::<[u8; 8]>(),
        handover in 0usize..8,
    ) {
        let k = key();
        let mut enc = PacketEncoder::new();
        enc.set_cipher(Box::new(V1Crypt::encryptor(c, &k).unwrap()));
        let mut wire = Vec::new();
        for (i, (t, data)) in msgs.iter().enumerate() {
            if i == handover {
                let st = enc.cipher().unwrap().stream_state();
                enc.set_cipher(Box::new(V1Crypt::resume_encryptor(c, &k, &st).unwrap()));
            }
            enc.encode(*t, data, &pad, &mut wire).unwrap();
        }
        let mut dec = PacketDecoder::new();
        dec.set_cipher(Box::new(V1Crypt::decryptor(c, &k).unwrap()));
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
        prop_assert_eq!(&got, &msgs);
    }

    /// Any flipped bit of the ciphertext is refused (a CRC error, or the length).
    #[test]
    fn tampering_is_refused(
        c in cipher(),
        data in proptest::collection::vec(any::<u8>(), 0..100),
        bit in any::<proptest::sample::Index>(),
    ) {
        let k = key();
        let mut enc = PacketEncoder::new();
        enc.set_cipher(Box::new(V1Crypt::encryptor(c, &k).unwrap()));
        let mut wire = Vec::new();
        enc.encode(23, &data, &[9; 8], &mut wire).unwrap();
        // A bit after the length field: encrypted.
        let i = 4 + bit.index(wire.len() - 4);
        wire[i] ^= 1 << (i % 8);
        let mut dec = PacketDecoder::new();
        dec.set_cipher(Box::new(V1Crypt::decryptor(c, &k).unwrap()));
        dec.feed(&wire);
        prop_assert_eq!(dec.next_packet(), Err(V1PacketError::CorruptedCheckBytes));
    }
}
