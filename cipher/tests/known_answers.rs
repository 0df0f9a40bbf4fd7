//! Known answers: each suite against published vectors or against an independent
//! composition of other implementations (RustCrypto `chacha20` + `poly1305`,
//! `aes-gcm`, `aes` + `ctr` + `hmac`).

use sisu_cipher::{
    new_opener, new_sealer, CipherAlg, DirectionKeys, MacAlg, MacFamily, PacketError,
};

fn hex(s: &str) -> Vec<u8> {
    let s: String = s.split_whitespace().collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// A well-formed plaintext packet: packet_length ‖ padding_length ‖ payload ‖ padding,
/// with `length_excluded` alignment to `block`.
fn packet(payload: &[u8], block: usize, excluded: bool) -> Vec<u8> {
    let base = if excluded { 1 } else { 5 };
    let mut pad = block - (base + payload.len()) % block;
    if pad < 4 {
        pad += block;
    }
    let len = (1 + payload.len() + pad) as u32;
    let mut p = len.to_be_bytes().to_vec();
    p.push(pad as u8);
    p.extend_from_slice(payload);
    p.extend((0..pad).map(|i| 0xa0 + i as u8));
    p
}

// ---------------------------------------------------------------------------------
// chacha20-poly1305@openssh.com

/// PROTOCOL.chacha20poly1305, composed from RustCrypto's ChaCha20 (64-bit nonce,
/// 64-bit block counter: the "djb" variant OpenSSH uses) and Poly1305.
fn reference_chacha_seal(key: &[u8; 64], seq: u32, plain: &[u8]) -> Vec<u8> {
    use chacha20::cipher::{KeyIvInit, StreamCipher};
    use chacha20::ChaCha20Legacy;
    use poly1305::universal_hash::KeyInit;
    let (k_2, k_1) = key.split_at(32);
    let nonce = u64::from(seq).to_be_bytes();
    let mut out = plain.to_vec();
    ChaCha20Legacy::new(k_1.into(), &nonce.into()).apply_keystream(&mut out[..4]);
    let mut main = ChaCha20Legacy::new(k_2.into(), &nonce.into());
    let mut block0 = [0u8; 64];
    main.apply_keystream(&mut block0); // Poly1305 key; the payload starts at block 1
    main.apply_keystream(&mut out[4..]);
    let tag =
        poly1305::Poly1305::new(poly1305::Key::from_slice(&block0[..32])).compute_unpadded(&out);
    out.extend_from_slice(&tag);
    out
}

#[test]
fn chacha20_poly1305_matches_independent_composition() {
    let mut key = [0u8; 64];
    for (i, b) in key.iter_mut().enumerate() {
        *b = (i as u8).wrapping_mul(7).wrapping_add(1);
    }
    let keys = DirectionKeys {
        iv: vec![],
        key: key.to_vec(),
        mac_key: vec![],
    };
    let mut sealer = new_sealer(CipherAlg::Chacha20Poly1305, None, &keys).unwrap();
    let mut opener = new_opener(CipherAlg::Chacha20Poly1305, None, &keys).unwrap();
    assert_eq!((sealer.block_size(), sealer.tag_len()), (8, 16));
    assert!(sealer.length_excluded() && opener.length_excluded());
    assert_eq!(opener.length_prefix_len(), 4);
    // Sequence numbers as they advance, including the 32-bit wrap.
    for (seq, payload) in [
        (0u32, &b"\x15"[..]),
        (1, b"\x05\x00\x00\x00\x0cssh-userauth"),
        (7, &[0x5e; 300][..]),
        (u32::MAX, b"last"),
    ] {
        let plain = packet(payload, 8, true);
        let mut sealed = plain.clone();
        sealer.seal(seq, &mut sealed);
        assert_eq!(
            sealed,
            reference_chacha_seal(&key, seq, &plain),
            "seq {seq}"
        );
        assert_ne!(sealed[..4], plain[..4], "length is encrypted");
        let len = opener.decrypt_length(seq, &mut sealed[..4]);
        assert_eq!(len.to_be_bytes(), plain[..4]);
        opener.open(seq, &mut sealed).unwrap();
        assert_eq!(sealed[..plain.len()], plain[..]);
    }
}

#[test]
fn chacha20_poly1305_key_halves_are_not_swapped() {
    // If K_1 and K_2 were swapped the composition would differ; check against the
    // reference with the halves swapped as a negative control.
    let mut key = [0u8; 64];
    key[..32].fill(1);
    key[32..].fill(2);
    let mut swapped = [0u8; 64];
    swapped[..32].fill(2);
    swapped[32..].fill(1);
    let keys = DirectionKeys {
        iv: vec![],
        key: key.to_vec(),
        mac_key: vec![],
    };
    let plain = packet(b"hello", 8, true);
    let mut sealed = plain.clone();
    new_sealer(CipherAlg::Chacha20Poly1305, None, &keys)
        .unwrap()
        .seal(3, &mut sealed);
    assert_eq!(sealed, reference_chacha_seal(&key, 3, &plain));
    assert_ne!(sealed, reference_chacha_seal(&swapped, 3, &plain));
}

// ---------------------------------------------------------------------------------
// aes-gcm@openssh.com

fn reference_gcm(key: &[u8], nonce: &[u8], aad: &[u8], data: &mut Vec<u8>) {
    use aes_gcm::aead::{AeadInPlace, KeyInit};
    use aes_gcm::{Aes128Gcm, Aes256Gcm, Nonce};
    let nonce = Nonce::from_slice(nonce);
    let tag = match key.len() {
        16 => Aes128Gcm::new_from_slice(key)
            .unwrap()
            .encrypt_in_place_detached(nonce, aad, data),
        32 => Aes256Gcm::new_from_slice(key)
            .unwrap()
            .encrypt_in_place_detached(nonce, aad, data),
        _ => unreachable!(),
    }
    .unwrap();
    data.extend_from_slice(&tag);
}

/// The reference itself against the GCM specification (McGrew & Viega), test cases 4
/// (AES-128) and 16 (AES-256).
#[test]
fn gcm_reference_matches_the_gcm_spec() {
    let iv = hex("cafebabefacedbaddecaf888");
    let aad = hex("feedfacedeadbeeffeedfacedeadbeefabaddad2");
    let plain = hex(
        "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72
         1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
    );
    for (key, want) in [
        (
            "feffe9928665731c6d6a8f9467308308",
            "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e
             21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091
             5bc94fbc3221a5db94fae95ae7121a47",
        ),
        (
            "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
            "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa
             8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662
             76fc6ece0f4e1768cddf8853bb2d551b",
        ),
    ] {
        let mut data = plain.clone();
        reference_gcm(&hex(key), &iv, &aad, &mut data);
        assert_eq!(data, hex(want));
    }
}

#[test]
fn aes_gcm_matches_independent_composition() {
    let iv = hex("cafebabefacedbaddecaf888");
    for (cipher, key) in [
        (
            CipherAlg::Aes128Gcm,
            hex("feffe9928665731c6d6a8f9467308308"),
        ),
        (
            CipherAlg::Aes256Gcm,
            hex("feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308"),
        ),
    ] {
        let keys = DirectionKeys {
            iv: iv.clone(),
            key: key.clone(),
            mac_key: vec![],
        };
        // The MAC argument is ignored for AEAD ciphers.
        let mut sealer = new_sealer(cipher, Some(MacAlg::HmacSha512), &keys).unwrap();
        let mut opener = new_opener(cipher, None, &keys).unwrap();
        assert_eq!((sealer.block_size(), sealer.tag_len()), (16, 16));
        assert!(sealer.length_excluded());
        // The invocation counter (last 8 bytes of the IV) goes up by one per packet,
        // and the sequence number plays no part.
        let start = u64::from_be_bytes(iv[4..].try_into().unwrap());
        let packets = [(0u32, &b"\x15"[..]), (9, &[0x42; 100][..]), (3, b"")];
        for (i, (seq, payload)) in packets.into_iter().enumerate() {
            let counter = start + i as u64;
            let plain = packet(payload, 16, true);
            let mut nonce = iv[..4].to_vec();
            nonce.extend_from_slice(&counter.to_be_bytes());
            let mut want = plain[4..].to_vec();
            reference_gcm(&key, &nonce, &plain[..4], &mut want);
            want.splice(0..0, plain[..4].iter().copied());

            let mut sealed = plain.clone();
            sealer.seal(seq, &mut sealed);
            assert_eq!(sealed, want, "{cipher} counter {counter}");
            assert_eq!(
                opener.decrypt_length(seq, &mut sealed[..4]).to_be_bytes(),
                plain[..4]
            );
            opener.open(seq, &mut sealed).unwrap();
            assert_eq!(sealed[..plain.len()], plain[..]);
        }
    }
}

// ---------------------------------------------------------------------------------
// aes*-ctr with hmac-sha2-*

fn reference_hmac(mac: MacAlg, key: &[u8], seq: u32, data: &[u8]) -> Vec<u8> {
    use hmac_ref::{Hmac, Mac};
    match mac.mac_len() {
        32 => {
            let mut m = Hmac::<sha2::Sha256>::new_from_slice(key).unwrap();
            m.update(&seq.to_be_bytes());
            m.update(data);
            m.finalize().into_bytes().to_vec()
        }
        _ => {
            let mut m = Hmac::<sha2::Sha512>::new_from_slice(key).unwrap();
            m.update(&seq.to_be_bytes());
            m.update(data);
            m.finalize().into_bytes().to_vec()
        }
    }
}

/// NIST SP 800-38A F.5.1 (CTR-AES128.Encrypt) through the encrypt-and-MAC suite: the
/// four plaintext blocks are sealed as one "packet"; the ciphertext must be NIST's and
/// the MAC RFC 6668's HMAC over the sequence number and the plaintext.
#[test]
fn aes_ctr_hmac_sp800_38a_vector() {
    let nist_plain = hex(
        "6bc1bee22e409f96e93d7e117393172a ae2d8a571e03ac9c9eb76fac45af8e51
         30c81c46a35ce411e5fbc1191a0a52ef f69f2445df4f9b17ad2b417be66c3710",
    );
    let nist_cipher = hex(
        "874d6191b620e3261bef6864990db6ce 9806f66b7970fdff8617187bb9fffdff
         5ae4df3edbd5d35e5b4f09020db03eab 1e031dda2fbe03d1792170a0f3009cee",
    );
    for mac in [MacAlg::HmacSha256, MacAlg::HmacSha512] {
        let keys = DirectionKeys {
            iv: hex("f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff"),
            key: hex("2b7e151628aed2a6abf7158809cf4f3c"),
            mac_key: (0..64).collect(),
        };
        let mac_key = &keys.mac_key[..mac.key_len()];
        let mut sealer = new_sealer(CipherAlg::Aes128Ctr, Some(mac), &keys).unwrap();
        let mut opener = new_opener(CipherAlg::Aes128Ctr, Some(mac), &keys).unwrap();
        assert!(!sealer.length_excluded());
        assert_eq!(sealer.tag_len(), mac.mac_len());
        assert_eq!(opener.length_prefix_len(), 16);

        let mut sealed = nist_plain.clone();
        sealer.seal(42, &mut sealed);
        assert_eq!(sealed[..64], nist_cipher[..]);
        assert_eq!(
            sealed[64..],
            reference_hmac(mac, mac_key, 42, &nist_plain)[..]
        );

        // The opener decrypts the first block for the length, then the rest.
        let len = opener.decrypt_length(42, &mut sealed[..16]);
        assert_eq!(len, 0x6bc1bee2);
        assert_eq!(sealed[..16], nist_plain[..16]);
        opener.open(42, &mut sealed).unwrap();
        assert_eq!(sealed[..64], nist_plain[..]);
    }
}

/// Both orders, every key size, two packets in a row (the counter runs on), against
/// RustCrypto `aes` + `ctr` + `hmac` composed here.
#[test]
fn aes_ctr_hmac_matches_independent_composition() {
    use aes::cipher::{KeyIvInit, StreamCipher};
    for &cipher in &[
        CipherAlg::Aes128Ctr,
        CipherAlg::Aes192Ctr,
        CipherAlg::Aes256Ctr,
    ] {
        // The HMAC-SHA-2 MACs here; the legacy MACs are in legacy_answers.rs.
        for &mac in MacAlg::ALL
            .iter()
            .filter(|m| matches!(m.family(), MacFamily::Sha256 | MacFamily::Sha512))
        {
            let keys = DirectionKeys {
                iv: (100..116).collect(),
                key: (0..32).map(|i| i * 3).collect(),
                mac_key: (0..64).map(|i| 255 - i).collect(),
            };
            let key = &keys.key[..cipher.key_len()];
            let mac_key = &keys.mac_key[..mac.key_len()];
            let mut stream: Box<dyn StreamCipher> = match cipher {
                CipherAlg::Aes128Ctr => {
                    Box::new(ctr::Ctr128BE::<aes::Aes128>::new_from_slices(key, &keys.iv).unwrap())
                }
                CipherAlg::Aes192Ctr => {
                    Box::new(ctr::Ctr128BE::<aes::Aes192>::new_from_slices(key, &keys.iv).unwrap())
                }
                _ => {
                    Box::new(ctr::Ctr128BE::<aes::Aes256>::new_from_slices(key, &keys.iv).unwrap())
                }
            };
            let mut sealer = new_sealer(cipher, Some(mac), &keys).unwrap();
            let mut opener = new_opener(cipher, Some(mac), &keys).unwrap();
            assert_eq!(sealer.length_excluded(), mac.is_etm());
            for (seq, payload) in [(5u32, &b"\x02ignore me"[..]), (6, &[7u8; 77][..])] {
                let plain = packet(payload, 16, mac.is_etm());
                let mut want = plain.clone();
                let tag = if mac.is_etm() {
                    stream.apply_keystream(&mut want[4..]);
                    reference_hmac(mac, mac_key, seq, &want)
                } else {
                    let tag = reference_hmac(mac, mac_key, seq, &want);
                    stream.apply_keystream(&mut want);
                    tag
                };
                want.extend_from_slice(&tag);
                let mut sealed = plain.clone();
                sealer.seal(seq, &mut sealed);
                assert_eq!(sealed, want, "{cipher} {mac} seq {seq}");

                let head = opener.length_prefix_len();
                assert_eq!(head, if mac.is_etm() { 4 } else { 16 });
                let len = opener.decrypt_length(seq, &mut sealed[..head]);
                assert_eq!(len.to_be_bytes(), plain[..4]);
                opener.open(seq, &mut sealed).unwrap();
                assert_eq!(sealed[..plain.len()], plain[..]);
            }
        }
    }
}

/// Encrypt-then-MAC checks the MAC before decrypting: a bad MAC leaves the
/// ciphertext untouched, and does not advance the keystream.
#[test]
fn etm_verifies_before_decrypting() {
    let keys = DirectionKeys {
        iv: vec![1; 16],
        key: vec![2; 16],
        mac_key: vec![3; 32],
    };
    let mac = Some(MacAlg::HmacSha256Etm);
    let mut sealer = new_sealer(CipherAlg::Aes128Ctr, mac, &keys).unwrap();
    let mut opener = new_opener(CipherAlg::Aes128Ctr, mac, &keys).unwrap();
    let plain = packet(b"\x05payload", 16, true);
    let mut sealed = plain.clone();
    sealer.seal(0, &mut sealed);
    let mut forged = sealed.clone();
    let last = forged.len() - 1;
    forged[last] ^= 0x80;
    let before = forged.clone();
    assert_eq!(
        opener.decrypt_length(0, &mut forged[..4]).to_be_bytes(),
        plain[..4]
    );
    assert_eq!(opener.open(0, &mut forged), Err(PacketError::Mac));
    assert_eq!(forged, before);
    // The genuine packet still opens: the failed attempt used no keystream.
    opener.decrypt_length(0, &mut sealed[..4]);
    opener.open(0, &mut sealed).unwrap();
    assert_eq!(sealed[..plain.len()], plain[..]);
}
