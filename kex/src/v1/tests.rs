//! The SSH-1 transport in memory: client against server, with real RSA keys and the
//! monitor's decryption done here with `decrypt_session_key`.

use super::msg::{PublicKey, SessionKey};
use super::session_key::tests::test_keys;
use super::*;
use proptest::prelude::*;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use rsa::RsaPrivateKey;
use sisu_cipher::v1::V1Crypt;
use sisu_wire::v1::msg as m;
use sisu_wire::v1::packet::{PacketDecoder, PacketEncoder, V1PacketError};

fn rng(seed: u64) -> Box<ChaCha20Rng> {
    Box::new(ChaCha20Rng::seed_from_u64(seed))
}

struct Keys {
    host: RsaPrivateKey,
    server: RsaPrivateKey,
}

fn keys() -> Keys {
    let (host, server) = test_keys();
    Keys { host, server }
}

fn server(k: &Keys, config: V1Config, seed: u64) -> V1Transport {
    V1Transport::server(
        config,
        &k.host.to_public_key(),
        &k.server.to_public_key(),
        rng(seed),
        &[],
    )
}

/// Delivers `bytes` in pieces of the sizes in `cuts` (cycled).
fn deliver(to: &mut V1Transport, bytes: &[u8], cuts: &[usize]) -> Result<(), V1Error> {
    let mut rest = bytes;
    let mut i = 0;
    while !rest.is_empty() {
        let n = cuts
            .get(i % cuts.len().max(1))
            .copied()
            .unwrap_or(rest.len())
            .clamp(1, rest.len());
        i += 1;
        to.handle_input(&rest[..n])?;
        rest = &rest[n..];
    }
    Ok(())
}

/// Runs both ends until neither has anything to say; the server's session keys are
/// decrypted with the real private keys. Returns the events each side saw.
fn shuttle(
    k: &Keys,
    c: &mut V1Transport,
    s: &mut V1Transport,
    cuts: &[usize],
    seen_c: &mut Vec<V1Event>,
    seen_s: &mut Vec<V1Event>,
) {
    for _ in 0..16 {
        let mut moved = false;
        while let Some(b) = s.poll_transmit() {
            moved = true;
            let _ = deliver(c, &b, cuts);
        }
        while let Some(b) = c.poll_transmit() {
            moved = true;
            let _ = deliver(s, &b, cuts);
        }
        while let Some(e) = s.poll_event() {
            moved = true;
            if let V1Event::SessionKeyNeeded {
                encrypted,
                session_id,
                ..
            } = &e
            {
                let key = decrypt_session_key(
                    &k.host,
                    &k.server,
                    encrypted,
                    session_id,
                    &mut ChaCha20Rng::seed_from_u64(99),
                );
                s.provide_session_key(key).unwrap();
            }
            seen_s.push(e);
        }
        while let Some(e) = c.poll_event() {
            moved = true;
            seen_c.push(e);
        }
        if !moved {
            return;
        }
    }
}

fn messages(events: &[V1Event]) -> Vec<(u8, Vec<u8>)> {
    events
        .iter()
        .filter_map(|e| match e {
            V1Event::Message { msg_type, payload } => Some((*msg_type, payload.clone())),
            _ => None,
        })
        .collect()
}

fn established(k: &Keys, cipher: V1Cipher, cuts: &[usize]) -> (V1Transport, V1Transport) {
    let mut s = server(k, V1Config::default(), 1);
    let mut c = V1Transport::client(cipher, rng(2));
    let (mut ec, mut es) = (Vec::new(), Vec::new());
    shuttle(k, &mut c, &mut s, cuts, &mut ec, &mut es);
    assert!(s.error().is_none(), "{:?}", s.error());
    assert!(c.error().is_none(), "{:?}", c.error());
    let sid = s.session_id().unwrap();
    assert_eq!(c.session_id(), Some(sid));
    assert!(matches!(es[0], V1Event::SessionKeyNeeded { cipher: x, .. } if x == cipher));
    assert_eq!(
        es[1],
        V1Event::KeysEstablished {
            cipher,
            session_id: sid
        }
    );
    assert_eq!(
        ec,
        vec![V1Event::KeysEstablished {
            cipher,
            session_id: sid
        }]
    );
    (c, s)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]
    /// Each cipher, any chunking both ways, messages both ways after the keys, and the
    /// server handed over to a fresh transport (through its byte encoding) in the
    /// middle: the session goes on and the client notices nothing.
    #[test]
    fn client_server_in_memory(
        cipher in proptest::sample::select(V1Cipher::ALL.to_vec()),
        cuts in proptest::collection::vec(1usize..200, 1..10),
        to_server in proptest::collection::vec(
            (17u8..40, proptest::collection::vec(any::<u8>(), 0..300)), 1..6),
        to_client in proptest::collection::vec(
            (17u8..40, proptest::collection::vec(any::<u8>(), 0..300)), 1..6),
        handover in 0usize..6,
    ) {
        // IGNORE and DEBUG are dropped inside; 17..40 holds both: take them out.
        let keep = |v: &Vec<(u8, Vec<u8>)>| -> Vec<(u8, Vec<u8>)> {
            v.iter().filter(|(t, _)| *t != m::MSG_IGNORE && *t != m::MSG_DEBUG).cloned().collect()
        };
        let k = keys();
        let (mut c, mut s) = established(&k, cipher, &cuts);
        let (mut ec, mut es) = (Vec::new(), Vec::new());
        for (i, (t, p)) in to_server.iter().enumerate() {
            c.send(*t, p).unwrap();
            if i == handover {
                // Some bytes in flight, unread by the server, cross the hand-over.
                let b = c.poll_transmit().unwrap();
                let half = b.len() / 2;
                s.handle_input(&b[..half]).unwrap();
                while let Some(e) = s.poll_event() { es.push(e); }
                let st = s.export().unwrap();
                prop_assert!(s.is_closed());
                let bytes = st.to_bytes();
                let st2 = V1TransportState::from_bytes(&bytes).unwrap();
                prop_assert_eq!(&st2, &st);
                s = V1Transport::import(st2, rng(7));
                s.handle_input(&b[half..]).unwrap();
            }
        }
        for (t, p) in &to_client {
            s.send(*t, p).unwrap();
        }
        shuttle(&k, &mut c, &mut s, &cuts, &mut ec, &mut es);
        prop_assert!(s.error().is_none(), "{:?}", s.error());
        prop_assert!(c.error().is_none(), "{:?}", c.error());
        prop_assert_eq!(messages(&es), keep(&to_server));
        prop_assert_eq!(messages(&ec), keep(&to_client));
        s.disconnect("bye");
        shuttle(&k, &mut c, &mut s, &cuts, &mut ec, &mut es);
        prop_assert_eq!(ec.last(), Some(&V1Event::Disconnected { description: "bye".into() }));
        prop_assert!(c.is_closed());
    }

    /// A server fed garbage after its public key: no panic, bounded, sticky errors.
    #[test]
    fn server_survives_garbage(data in proptest::collection::vec(any::<u8>(), 0..3000), split in any::<usize>()) {
        let k = keys();
        let mut s = server(&k, V1Config::default(), 5);
        let split = split % (data.len() + 1);
        let a = s.handle_input(&data[..split]);
        let b = s.handle_input(&data[split..]);
        if a.is_err() {
            prop_assert_eq!(a, b);
        }
        while s.poll_event().is_some() {}
        prop_assert!(s.pending_output() < 64 * 1024);
    }

    #[test]
    fn state_decoder_never_panics(data in proptest::collection::vec(any::<u8>(), 0..400)) {
        let _ = V1TransportState::from_bytes(&data);
    }
}

/// A hand-driven client, to send what a real one would not.
struct Manual {
    enc: PacketEncoder,
    dec: PacketDecoder,
}

impl Manual {
    fn new() -> Self {
        Manual {
            enc: PacketEncoder::new(),
            dec: PacketDecoder::new(),
        }
    }
    fn packet(&mut self, t: u8, data: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        self.enc.encode(t, data, &[0x33; 8], &mut out).unwrap();
        out
    }
    fn read(&mut self, bytes: &[u8]) -> Vec<Result<(u8, Vec<u8>), V1PacketError>> {
        self.dec.feed(bytes);
        let mut v = Vec::new();
        loop {
            match self.dec.next_packet() {
                Ok(Some(p)) => v.push(Ok(p)),
                Ok(None) => return v,
                Err(e) => {
                    v.push(Err(e));
                    return v;
                }
            }
        }
    }
    fn key_on(&mut self, cipher: V1Cipher, key: &[u8; 32]) {
        self.enc
            .set_cipher(Box::new(V1Crypt::encryptor(cipher, key).unwrap()));
        self.dec
            .set_cipher(Box::new(V1Crypt::decryptor(cipher, key).unwrap()));
    }
}

/// The server's public key message, read by a manual client.
fn public_key(s: &mut V1Transport, c: &mut Manual) -> PublicKey {
    let p = c.read(&s.poll_transmit().unwrap());
    let (t, body) = p[0].clone().unwrap();
    assert_eq!(t, m::SMSG_PUBLIC_KEY);
    PublicKey::parse(&body).unwrap()
}

fn answer(s: &mut V1Transport, k: &Keys) {
    match s.poll_event() {
        Some(V1Event::SessionKeyNeeded {
            encrypted,
            session_id,
            ..
        }) => {
            let key = decrypt_session_key(
                &k.host,
                &k.server,
                &encrypted,
                &session_id,
                &mut ChaCha20Rng::seed_from_u64(3),
            );
            s.provide_session_key(key).unwrap();
        }
        other => panic!("expected SessionKeyNeeded, got {other:?}"),
    }
}

/// The manual client is right: with a properly encrypted key it gets SMSG_SUCCESS.
/// With garbage in place of the encrypted key, or with bad padding, the server
/// goes on with a random key and nothing tells the two cases apart until the
/// first encrypted packet fails its check bytes, on both sides.
#[test]
fn bad_session_key_shows_only_as_a_crc_error() {
    let k = keys();
    let key = [0x5c; 32];
    let (hp, sp) = (k.host.to_public_key(), k.server.to_public_key());
    let garbage: Vec<u8> = (0..128u32).map(|i| (i * 151 + 7) as u8).collect();
    for (name, good) in [("valid", true), ("garbage", false)] {
        let mut s = server(&k, V1Config::default(), 11);
        let mut c = Manual::new();
        let pk = public_key(&mut s, &mut c);
        let sid = session_id_of(&hp, &sp, &pk.cookie);
        let encrypted = if good {
            encrypt_session_key(&hp, &sp, &key, &sid, &mut ChaCha20Rng::seed_from_u64(4)).unwrap()
        } else {
            garbage.clone()
        };
        let msg = SessionKey {
            cipher: 3,
            cookie: pk.cookie,
            encrypted_key: encrypted,
            protocol_flags: 0,
        };
        let p = c.packet(m::CMSG_SESSION_KEY, &msg.encode());
        c.key_on(V1Cipher::ThreeDes, &key);
        s.handle_input(&p).unwrap();
        answer(&mut s, &k);
        assert!(s.error().is_none(), "{name}");
        let from_server = c.read(&s.poll_transmit().unwrap());
        let p = c.packet(m::CMSG_USER, b"\x00\x00\x00\x04root");
        let r = s.handle_input(&p);
        if good {
            assert_eq!(from_server, vec![Ok((m::SMSG_SUCCESS, vec![]))]);
            r.unwrap();
        } else {
            assert_eq!(from_server, vec![Err(V1PacketError::CorruptedCheckBytes)]);
            let e = r.unwrap_err();
            assert_eq!(e, V1Error::Packet(V1PacketError::CorruptedCheckBytes));
            assert_eq!(e.to_string(), "Corrupted check bytes on input.");
        }
    }
}

#[test]
fn bad_cookie_is_refused_with_a_disconnect() {
    let k = keys();
    let mut s = server(&k, V1Config::default(), 12);
    let mut c = Manual::new();
    let pk = public_key(&mut s, &mut c);
    let mut cookie = pk.cookie;
    cookie[3] ^= 1;
    let msg = SessionKey {
        cipher: 3,
        cookie,
        encrypted_key: vec![1; 128],
        protocol_flags: 0,
    };
    let p = c.packet(m::CMSG_SESSION_KEY, &msg.encode());
    assert_eq!(s.handle_input(&p), Err(V1Error::SpoofingCheck));
    assert!(s.is_closed() && !s.awaiting_answer());
    assert!(s.poll_event().is_none());
    let got = c.read(&s.poll_transmit().unwrap());
    let mut want = Vec::new();
    let text = b"IP Spoofing check bytes do not match.";
    want.extend_from_slice(&(text.len() as u32).to_be_bytes());
    want.extend_from_slice(text);
    assert_eq!(got, vec![Ok((m::DISCONNECT, want))]);
    // Sticky.
    assert_eq!(s.handle_input(b"more"), Err(V1Error::SpoofingCheck));
    assert_eq!(s.send(m::SMSG_SUCCESS, &[]), Err(V1Error::SpoofingCheck));
}

#[test]
fn cipher_must_be_offered() {
    let k = keys();
    let only_blowfish = V1Config {
        ciphers: vec![V1Cipher::Blowfish],
        ..V1Config::default()
    };
    // A client asking for what is not offered stops itself.
    let mut s = server(&k, only_blowfish.clone(), 13);
    let mut c = V1Transport::client(V1Cipher::ThreeDes, rng(14));
    let e = c.handle_input(&s.poll_transmit().unwrap()).unwrap_err();
    assert_eq!(e, V1Error::CipherNotOffered("3des"));
    assert_eq!(
        e.to_string(),
        "Selected cipher type 3des not supported by server."
    );
    // A client that picks it anyway is refused by the server.
    let mut s = server(&k, only_blowfish, 13);
    let mut c = Manual::new();
    let pk = public_key(&mut s, &mut c);
    assert_eq!(pk.cipher_mask, 1 << 6);
    let msg = SessionKey {
        cipher: 3,
        cookie: pk.cookie,
        encrypted_key: vec![1; 128],
        protocol_flags: 0,
    };
    let e = s
        .handle_input(&c.packet(m::CMSG_SESSION_KEY, &msg.encode()))
        .unwrap_err();
    assert_eq!(e, V1Error::UnsupportedCipher(3));
    assert_eq!(e.to_string(), "Warning: client selects unsupported cipher.");
}

#[test]
fn protocol_errors_before_the_keys() {
    let k = keys();
    let mut s = server(&k, V1Config::default(), 15);
    let mut c = Manual::new();
    let _ = public_key(&mut s, &mut c);
    // IGNORE is dropped at any time; anything else but the session key is an error.
    s.handle_input(&c.packet(m::MSG_IGNORE, b"\x00\x00\x00\x00"))
        .unwrap();
    let e = s
        .handle_input(&c.packet(m::CMSG_USER, b"\x00\x00\x00\x01a"))
        .unwrap_err();
    assert_eq!(
        e,
        V1Error::UnexpectedMessage {
            expected: 3,
            got: 4
        }
    );
    assert_eq!(
        e.to_string(),
        "Protocol error: expected packet type 3, got 4"
    );
    // A send before the keys is refused, not sticky.
    let mut s = server(&k, V1Config::default(), 15);
    assert!(matches!(s.send(17, b""), Err(V1Error::NotReady(_))));
    assert!(s.error().is_none());
    assert!(matches!(s.export(), Err(V1Error::NotReady(_))));
    assert!(matches!(
        s.provide_session_key(zeroize::Zeroizing::new([0; 32])),
        Err(V1Error::NotReady(_))
    ));
    // A malformed session key message.
    let e = s
        .handle_input(&c.packet(m::CMSG_SESSION_KEY, b"\x03short"))
        .unwrap_err();
    assert!(matches!(e, V1Error::BadMessage(_)));
}

#[test]
fn huge_length_is_refused_without_allocation() {
    let k = keys();
    let mut s = server(&k, V1Config::default(), 16);
    let _ = s.poll_transmit();
    let e = s
        .handle_input(&[0x7f, 0xff, 0xff, 0xff, 0, 0, 0, 0])
        .unwrap_err();
    assert_eq!(e, V1Error::Packet(V1PacketError::BadLength(0x7fff_ffff)));
    assert_eq!(e.to_string(), "Bad packet length 2147483647.");
    assert!(s.pending_output() < 100);
}

#[test]
fn input_is_bounded_while_the_key_is_decrypted() {
    let k = keys();
    let mut s = server(&k, V1Config::default(), 17);
    let mut c = Manual::new();
    let pk = public_key(&mut s, &mut c);
    let msg = SessionKey {
        cipher: 3,
        cookie: pk.cookie,
        encrypted_key: vec![1; 128],
        protocol_flags: 0,
    };
    s.handle_input(&c.packet(m::CMSG_SESSION_KEY, &msg.encode()))
        .unwrap();
    assert!(s.awaiting_answer());
    s.handle_input(&[0; MAX_INPUT_AWAITING]).unwrap();
    assert_eq!(s.handle_input(&[0; 1]), Err(V1Error::InputOverflow));
}

#[test]
fn tampered_ciphertext_is_a_crc_error() {
    let k = keys();
    for &cipher in V1Cipher::ALL {
        let (mut c, mut s) = established(&k, cipher, &[1000]);
        c.send(m::CMSG_STDIN_DATA, b"\x00\x00\x00\x05hello")
            .unwrap();
        let mut b = c.poll_transmit().unwrap();
        b[9] ^= 0x80;
        assert_eq!(
            s.handle_input(&b),
            Err(V1Error::Packet(V1PacketError::CorruptedCheckBytes)),
            "{cipher}"
        );
    }
}

#[test]
fn exported_state_refuses_garbage() {
    let k = keys();
    let (_c, mut s) = established(&k, V1Cipher::Blowfish, &[7]);
    let st = s.export().unwrap();
    let b = st.to_bytes();
    assert!(V1TransportState::from_bytes(&b).is_ok());
    for cut in [0, 8, 9, 20, b.len() - 1] {
        assert!(
            V1TransportState::from_bytes(&b[..cut]).is_err(),
            "cut {cut}"
        );
    }
    let mut long = b.to_vec();
    long.push(0);
    assert!(V1TransportState::from_bytes(&long).is_err());
    let mut wrong_cipher = b.to_vec();
    wrong_cipher[10] = 4;
    assert!(V1TransportState::from_bytes(&wrong_cipher).is_err());
    // A 3des state (24 bytes) does not fit blowfish.
    let mut other = b.to_vec();
    other[10] = 3;
    assert!(V1TransportState::from_bytes(&other).is_err());
}

/// A session carrying several times the decoder's buffer, both ways, in large
/// reads (room is made in the decoder as packets are taken).
#[test]
fn long_session() {
    let k = keys();
    let (mut c, mut s) = established(&k, V1Cipher::Blowfish, &[100_000]);
    let data = vec![0x61u8; 60_000];
    let (mut ec, mut es) = (Vec::new(), Vec::new());
    for _ in 0..4 {
        for _ in 0..5 {
            c.send(m::CMSG_STDIN_DATA, &data).unwrap();
            s.send(m::SMSG_STDOUT_DATA, &data).unwrap();
        }
        shuttle(&k, &mut c, &mut s, &[100_000], &mut ec, &mut es);
    }
    assert!(s.error().is_none() && c.error().is_none());
    assert_eq!(messages(&es).len(), 20);
    assert_eq!(messages(&ec).len(), 20);
}

/// With keys of the sizes OpenSSH used by default (1024-bit server key, 2048-bit
/// host key), generated here.
#[test]
fn generated_keys() {
    let mut r = ChaCha20Rng::seed_from_u64(2024);
    let k = Keys {
        host: RsaPrivateKey::new(&mut r, 2048).unwrap(),
        server: RsaPrivateKey::new(&mut r, 1024).unwrap(),
    };
    let (mut c, mut s) = established(&k, V1Cipher::ThreeDes, &[3, 500]);
    s.send(m::SMSG_STDOUT_DATA, b"\x00\x00\x00\x02hi").unwrap();
    let (mut ec, mut es) = (Vec::new(), Vec::new());
    shuttle(&k, &mut c, &mut s, &[64], &mut ec, &mut es);
    assert_eq!(
        messages(&ec),
        vec![(m::SMSG_STDOUT_DATA, b"\x00\x00\x00\x02hi".to_vec())]
    );
}
