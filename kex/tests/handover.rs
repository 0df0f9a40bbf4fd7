//! The seams for privilege separation, in memory: host-key signatures and
//! group-exchange groups answered by the caller, and a server transport exported at a
//! random point mid-session and imported into a fresh one, with the peer noticing
//! nothing (data keeps flowing both ways, a later rekey works).

use proptest::prelude::*;
use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha20Rng;
use sisu_cipher::{CipherAlg, MacAlg};
use sisu_kex::moduli::{DhGroup, GexGroups};
use sisu_kex::state::{StateError, TransportState, MAX_STATE_LEN};
use sisu_kex::{
    Event, ExportError, HostKey, HostKeyAlg, KexAlg, Transport, TransportConfig, TransportError,
    MAX_INPUT_WHILE_WAITING,
};
use sisu_wire::packet::PacketEncoder;
use sisu_wire::{msg, Writer};
use ssh_key::{Algorithm, PrivateKey};
use std::sync::OnceLock;

fn ed25519() -> &'static PrivateKey {
    static KEY: OnceLock<PrivateKey> = OnceLock::new();
    KEY.get_or_init(|| {
        PrivateKey::random(&mut ChaCha20Rng::seed_from_u64(7), Algorithm::Ed25519).unwrap()
    })
}

fn rng(seed: u64) -> Box<ChaCha20Rng> {
    Box::new(ChaCha20Rng::seed_from_u64(seed))
}

fn cfg(cipher: CipherAlg, mac: MacAlg, strict: bool) -> TransportConfig {
    TransportConfig {
        kex: vec![KexAlg::Curve25519Sha256],
        host_key_algs: vec![HostKeyAlg::Ed25519],
        ciphers: vec![cipher],
        macs: vec![mac],
        strict_kex: strict,
        ..TransportConfig::default()
    }
}

/// Every suite: AEADs alone, every other cipher with every MAC (legacy included).
fn suites() -> Vec<(CipherAlg, MacAlg)> {
    let mut v = Vec::new();
    for &c in CipherAlg::ALL {
        if c.is_aead() {
            v.push((c, MacAlg::HmacSha256));
        } else {
            v.extend(MacAlg::ALL.iter().map(|&m| (c, m)));
        }
    }
    v
}

fn data_msg(tag: u8, i: usize, len: usize) -> Vec<u8> {
    let mut m = vec![94u8, tag];
    m.extend((0..len).map(|j| (i * 7 + j) as u8));
    m
}

/// Upper-layer messages and key exchanges an endpoint saw.
#[derive(Default)]
struct Seen {
    msgs: Vec<Vec<u8>>,
    kex: u32,
}

fn drain(t: &mut Transport, seen: &mut Seen) {
    while let Some(e) = t.poll_event() {
        match e {
            Event::Message(m) => seen.msgs.push(m),
            Event::KeysEstablished { .. } => seen.kex += 1,
            Event::SignatureNeeded { .. } | Event::GroupNeeded(_) => {
                panic!("no question expected here")
            }
            _ => {}
        }
    }
}

/// Shuttles bytes until quiet.
fn run(c: &mut Transport, s: &mut Transport, cs: &mut Seen, ss: &mut Seen) {
    for _ in 0..1000 {
        let mut moved = false;
        if let Some(b) = c.poll_transmit() {
            moved = true;
            s.handle_input(&b).unwrap();
        }
        if let Some(b) = s.poll_transmit() {
            moved = true;
            c.handle_input(&b).unwrap();
        }
        drain(c, cs);
        drain(s, ss);
        if !moved {
            return;
        }
    }
    panic!("no quiescence");
}

/// A client and a server past the first key exchange, `ssh-userauth` accepted, both
/// told the user authenticated (so that rekeying is allowed).
fn keyed_pair(server_cfg: TransportConfig, client_cfg: TransportConfig) -> (Transport, Transport) {
    let key = HostKey::new(ed25519().clone()).unwrap();
    let mut c = Transport::client(client_cfg, rng(1));
    let mut s = Transport::server(server_cfg, vec![key], rng(2));
    c.request_service("ssh-userauth").unwrap();
    let (mut cs, mut ss) = (Seen::default(), Seen::default());
    run(&mut c, &mut s, &mut cs, &mut ss);
    assert!(s.is_keyed() && c.is_keyed());
    c.set_authenticated();
    s.set_authenticated();
    (c, s)
}

/// The server transport through bytes, as another process would take it over.
fn hand_over(s: &mut Transport, server_cfg: TransportConfig) -> Transport {
    let state = s.export().unwrap();
    let bytes = state.to_bytes();
    assert!(bytes.len() <= MAX_STATE_LEN);
    let again = TransportState::from_bytes(&bytes).unwrap();
    assert_eq!(*again.to_bytes(), *bytes, "the encoding round-trips");
    drop(state);
    let key = HostKey::new(ed25519().clone()).unwrap();
    Transport::import(again, server_cfg, vec![key], rng(99)).unwrap()
}

/// One run: `before` messages each way, then the client sends `after` more of which
/// the server receives only the first `cut` bytes (and has sent `pending` messages it
/// has not yet transmitted) when it is exported; the rest arrives at the imported
/// transport, data flows both ways, then each side starts a rekey in turn.
fn handover_run(suite: (CipherAlg, MacAlg), strict: bool, cut: usize, pending: usize) {
    let config = cfg(suite.0, suite.1, strict);
    let (mut c, mut s) = keyed_pair(config.clone(), config.clone());
    let (mut cs, mut ss) = (Seen::default(), Seen::default());
    let mut want_c2s = Vec::new();
    let mut want_s2c = Vec::new();
    for i in 0..3 {
        let m = data_msg(1, i, 40 + i * 33);
        c.send_message(&m).unwrap();
        want_c2s.push(m);
        let m = data_msg(2, i, 17 + i * 50);
        s.send_message(&m).unwrap();
        want_s2c.push(m);
    }
    run(&mut c, &mut s, &mut cs, &mut ss);
    // In flight at the moment of export: client bytes partly received, server output
    // not yet taken, server events not yet taken.
    for i in 0..4 {
        let m = data_msg(3, i, 1 + i * 90);
        c.send_message(&m).unwrap();
        want_c2s.push(m);
    }
    let wire = c.poll_transmit().unwrap();
    let cut = cut % (wire.len() + 1);
    s.handle_input(&wire[..cut]).unwrap();
    for i in 0..pending {
        let m = data_msg(4, i, 60);
        s.send_message(&m).unwrap();
        want_s2c.push(m);
    }
    assert_eq!(s.can_export(), Ok(()));
    let mut s = hand_over(&mut s, config);
    s.handle_input(&wire[cut..]).unwrap();
    run(&mut c, &mut s, &mut cs, &mut ss);
    assert_eq!(ss.msgs, want_c2s, "client to server, across the handover");
    assert_eq!(cs.msgs, want_s2c, "server to client, across the handover");
    // A later rekey, started by each side, and data after it.
    for client_starts in [true, false] {
        if client_starts {
            c.start_rekey();
        } else {
            s.start_rekey();
        }
        let m = data_msg(5, client_starts as usize, 300);
        c.send_message(&m).unwrap();
        s.send_message(&m).unwrap();
        want_c2s.push(m.clone());
        want_s2c.push(m);
        run(&mut c, &mut s, &mut cs, &mut ss);
    }
    assert_eq!(ss.msgs, want_c2s);
    assert_eq!(cs.msgs, want_s2c);
    assert_eq!(cs.kex, 2, "both rekeys done at the client");
    assert_eq!(ss.kex, 2, "both rekeys done at the imported server");
    assert!(!c.is_closed() && !s.is_closed());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn export_at_a_random_point_and_the_peer_notices_nothing(
        suite in proptest::sample::select(suites()),
        strict in any::<bool>(),
        cut in any::<usize>(),
        pending in 0usize..3,
    ) {
        handover_run(suite, strict, cut, pending);
    }
}

/// Every suite once, strict kex on and off, cut inside the first packet still to come
/// (a partly received packet is buffered at export).
#[test]
fn every_suite_both_strict_modes_with_a_half_received_packet() {
    for (i, suite) in suites().into_iter().enumerate() {
        for strict in [false, true] {
            // Inside the first packet of the four in flight (each is at least 24 bytes).
            handover_run(suite, strict, 1 + (i * 7 + strict as usize * 5) % 20, i % 2);
        }
    }
}

#[test]
fn export_is_refused_during_key_exchange_and_finishes_the_transport() {
    let config = cfg(CipherAlg::Aes128Ctr, MacAlg::HmacSha256, true);
    let key = HostKey::new(ed25519().clone()).unwrap();
    let mut s = Transport::server(config.clone(), vec![key], rng(3));
    assert_eq!(s.can_export(), Err(ExportError::KexInProgress), "first kex");
    assert!(matches!(s.export(), Err(ExportError::KexInProgress)));
    let (mut c, mut s) = keyed_pair(config.clone(), config.clone());
    s.start_rekey();
    assert_eq!(s.can_export(), Err(ExportError::KexInProgress), "our rekey");
    let (mut cs, mut ss) = (Seen::default(), Seen::default());
    run(&mut c, &mut s, &mut cs, &mut ss);
    assert_eq!(s.can_export(), Ok(()));
    c.start_rekey();
    s.handle_input(&c.poll_transmit().unwrap()).unwrap();
    assert_eq!(
        s.can_export(),
        Err(ExportError::KexInProgress),
        "peer's rekey"
    );
    run(&mut c, &mut s, &mut cs, &mut ss);
    let _state = s.export().unwrap();
    assert_eq!(s.can_export(), Err(ExportError::Closed));
    assert_eq!(s.handle_input(b"x"), Err(TransportError::Exported));
    assert_eq!(s.send_message(&[94]), Err(TransportError::Exported));
    assert_eq!(s.poll_transmit(), None, "nothing is sent after export");
}

#[test]
fn state_decoder_refuses_garbage() {
    let config = cfg(CipherAlg::Aes256Gcm, MacAlg::HmacSha256, true);
    let (_c, mut s) = keyed_pair(config.clone(), config);
    s.send_message(&data_msg(1, 1, 10)).unwrap();
    let bytes = s.export().unwrap().to_bytes();
    // Every truncation is refused.
    for n in 0..bytes.len() {
        assert!(
            TransportState::from_bytes(&bytes[..n]).is_err(),
            "cut at {n}"
        );
    }
    let mut longer = bytes.to_vec();
    longer.push(0);
    assert_eq!(
        TransportState::from_bytes(&longer).err(),
        Some(StateError::Malformed(sisu_wire::WireError::TrailingData))
    );
    let mut magic = bytes.to_vec();
    magic[10] ^= 1;
    assert_eq!(
        TransportState::from_bytes(&magic).err(),
        Some(StateError::BadMagic)
    );
    assert_eq!(
        TransportState::from_bytes(&vec![0; MAX_STATE_LEN + 1]).err(),
        Some(StateError::TooLong(MAX_STATE_LEN + 1))
    );
    // Single flipped bytes: refused, or (in a key, a counter, a buffer) accepted; never
    // a panic. The role byte right after the magic takes only 0 or 1.
    let role_at = 4 + "sisu-transport-state-v1".len();
    let mut bad_role = bytes.to_vec();
    bad_role[role_at] = 2;
    assert_eq!(
        TransportState::from_bytes(&bad_role).err(),
        Some(StateError::Invalid("role"))
    );
    for i in 0..bytes.len() {
        let mut b = bytes.to_vec();
        b[i] ^= 0xa5;
        let _ = TransportState::from_bytes(&b);
    }
}

proptest! {
    #[test]
    fn garbage_states_never_panic(data in proptest::collection::vec(any::<u8>(), 0..600)) {
        let mut prefixed = Writer::new();
        prefixed.str("sisu-transport-state-v1").raw(&data);
        let _ = TransportState::from_bytes(prefixed.as_slice());
        let _ = TransportState::from_bytes(&data);
    }
}

/// Shuttles bytes until the server asks its caller a question, and returns it.
fn server_waiting_for(server: &mut Transport, client: &mut Transport) -> Event {
    for _ in 0..20 {
        if let Some(b) = server.poll_transmit() {
            client.handle_input(&b).unwrap();
        }
        if let Some(b) = client.poll_transmit() {
            server.handle_input(&b).unwrap();
        }
        while client.poll_event().is_some() {}
        while let Some(e) = server.poll_event() {
            if matches!(e, Event::SignatureNeeded { .. } | Event::GroupNeeded(_)) {
                return e;
            }
        }
    }
    panic!("no question for the caller")
}

#[test]
fn host_key_signature_is_asked_of_the_caller_and_checked() {
    let private = HostKey::new(ed25519().clone()).unwrap();
    let public = HostKey::public_only(ed25519().public_key().clone()).unwrap();
    assert!(!public.can_sign() && private.can_sign());
    assert!(public
        .sign(HostKeyAlg::Ed25519, b"x", &mut *rng(0))
        .is_err());
    let other = PrivateKey::random(&mut *rng(5), Algorithm::Ed25519).unwrap();
    let other = HostKey::new(other).unwrap();
    // The right signature; a signature by another key; a signer's refusal.
    for case in 0..3 {
        let config = cfg(CipherAlg::Chacha20Poly1305, MacAlg::HmacSha256, true);
        let mut c = Transport::client(config.clone(), rng(10 + case));
        c.request_service("ssh-userauth").unwrap();
        let mut s = Transport::server(config, vec![public.clone()], rng(20 + case));
        let Event::SignatureNeeded {
            key,
            algorithm,
            data,
        } = server_waiting_for(&mut s, &mut c)
        else {
            panic!("a signature question")
        };
        assert_eq!((key, algorithm), (0, HostKeyAlg::Ed25519));
        assert!(s.awaiting_answer());
        assert_eq!(s.can_export(), Err(ExportError::KexInProgress));
        assert_eq!(s.poll_transmit(), None, "no reply before the signature");
        let answer = match case {
            0 => private.sign(algorithm, &data, &mut *rng(0)),
            1 => other.sign(algorithm, &data, &mut *rng(0)),
            _ => Err(sisu_kex::hostkey::HostKeyError("refused".into())),
        };
        let r = s.provide_signature(answer);
        if case == 0 {
            r.unwrap();
            assert!(!s.awaiting_answer());
            let (mut cs, mut ss) = (Seen::default(), Seen::default());
            run(&mut c, &mut s, &mut cs, &mut ss);
            assert_eq!(c.session_id(), s.session_id());
            assert!(c.is_keyed() && s.is_keyed());
            c.send_message(&data_msg(1, 2, 3)).unwrap();
            run(&mut c, &mut s, &mut cs, &mut ss);
            assert_eq!(ss.msgs, vec![data_msg(1, 2, 3)]);
        } else {
            assert!(matches!(r, Err(TransportError::KeyExchange(_))), "{r:?}");
            assert!(s.is_closed());
            assert!(!c.is_keyed());
        }
    }
}

#[test]
fn input_while_waiting_is_held_then_processed_and_bounded() {
    let public = HostKey::public_only(ed25519().public_key().clone()).unwrap();
    let private = HostKey::new(ed25519().clone()).unwrap();
    let config = cfg(CipherAlg::Aes128Gcm, MacAlg::HmacSha256, true);
    let mut c = Transport::client(config.clone(), rng(30));
    let mut s = Transport::server(config.clone(), vec![public.clone()], rng(31));
    c.handle_input(&s.poll_transmit().unwrap()).unwrap();
    let mut wire = c.poll_transmit().unwrap();
    // An unprotected SSH_MSG_IGNORE after the client's init: under strict kex it is a
    // violation, so it shows exactly when the server reads it.
    let mut enc = PacketEncoder::new();
    let mut ignore = Writer::msg(msg::SSH_MSG_IGNORE);
    ignore.string(b"");
    enc.encode(ignore.as_slice(), &mut |p| p.fill(0), &mut wire)
        .unwrap();
    s.handle_input(&wire).unwrap();
    let Some(Event::SignatureNeeded { data, .. }) =
        std::iter::from_fn(|| s.poll_event()).find(|e| matches!(e, Event::SignatureNeeded { .. }))
    else {
        panic!("a signature question")
    };
    assert!(!s.is_closed(), "the IGNORE is not read while waiting");
    let sig = private.sign(HostKeyAlg::Ed25519, &data, &mut *rng(0));
    let r = s.provide_signature(sig);
    assert!(
        matches!(r, Err(TransportError::StrictKex(_))),
        "read after the answer: {r:?}"
    );

    // More than the bound while waiting ends the connection.
    let mut c = Transport::client(config.clone(), rng(32));
    let mut s = Transport::server(config, vec![public], rng(33));
    server_waiting_for(&mut s, &mut c);
    let junk = vec![0u8; 64 * 1024];
    let mut fed = 0;
    let r = loop {
        let r = s.handle_input(&junk);
        fed += junk.len();
        if r.is_err() || fed > 2 * MAX_INPUT_WHILE_WAITING {
            break r;
        }
    };
    assert!(matches!(r, Err(TransportError::QueueFull(_))), "{r:?}");
    assert!(fed > MAX_INPUT_WHILE_WAITING);
}

#[test]
fn group_exchange_group_is_chosen_by_the_caller_and_checked() {
    let gex = |groups: GexGroups| TransportConfig {
        kex: vec![KexAlg::DhGexSha256],
        gex_groups: groups,
        // 128-bit keys throughout: the client asks for n = 3072.
        ..cfg(CipherAlg::Aes128Ctr, MacAlg::Umac128Etm, true)
    };
    // The caller's group; one outside the request; none.
    for case in 0..3 {
        let mut c = Transport::client(gex(GexGroups::default()), rng(40 + case));
        let key = HostKey::new(ed25519().clone()).unwrap();
        let mut s = Transport::server(gex(GexGroups::from_caller()), vec![key], rng(50 + case));
        let Event::GroupNeeded(request) = server_waiting_for(&mut s, &mut c) else {
            panic!("a group question")
        };
        // The client asks 2048..8192 with n for a 128-bit cipher (3072).
        assert_eq!((request.min, request.n, request.max), (2048, 3072, 8192));
        assert!(s.awaiting_answer());
        let answer = match case {
            0 => request.choose(&DhGroup::builtin(), &mut *rng(0)).cloned(),
            // A 1024-bit odd number: below the request's 2048 bits.
            1 => Some(DhGroup::new(&[0xff; 128], &[2]).unwrap()),
            _ => None,
        };
        if case == 0 {
            assert_eq!(answer.as_ref().map(DhGroup::bits), Some(3072));
        }
        let r = s.provide_group(answer);
        if case == 0 {
            r.unwrap();
            let (mut cs, mut ss) = (Seen::default(), Seen::default());
            run(&mut c, &mut s, &mut cs, &mut ss);
            assert_eq!(c.session_id(), s.session_id());
            assert!(c.is_keyed() && s.is_keyed());
            assert_eq!(s.negotiated().unwrap().kex, KexAlg::DhGexSha256);
        } else {
            assert!(matches!(r, Err(TransportError::KeyExchange(_))), "{r:?}");
        }
    }
}

#[test]
fn public_only_host_key_serves_a_rekey_after_import() {
    // The post-auth process has only the public key too: its rekeys ask the caller.
    let config = cfg(CipherAlg::Aes256Ctr, MacAlg::Umac64Etm, true);
    let (mut c, mut s) = keyed_pair(config.clone(), config.clone());
    let state = TransportState::from_bytes(&s.export().unwrap().to_bytes()).unwrap();
    assert!(state.is_authenticated());
    let public = HostKey::public_only(ed25519().public_key().clone()).unwrap();
    let mut s = Transport::import(state, config, vec![public], rng(60)).unwrap();
    c.start_rekey();
    let Event::SignatureNeeded { data, .. } = server_waiting_for(&mut s, &mut c) else {
        panic!("a signature question")
    };
    let private = HostKey::new(ed25519().clone()).unwrap();
    s.provide_signature(private.sign(HostKeyAlg::Ed25519, &data, &mut *rng(0)))
        .unwrap();
    let (mut cs, mut ss) = (Seen::default(), Seen::default());
    run(&mut c, &mut s, &mut cs, &mut ss);
    assert_eq!(cs.kex, 1);
    assert_eq!(ss.kex, 1);
    s.send_message(&data_msg(9, 9, 9)).unwrap();
    run(&mut c, &mut s, &mut cs, &mut ss);
    assert_eq!(cs.msgs, vec![data_msg(9, 9, 9)]);
}

/// The committed seeds of the `transport_state` fuzz target
/// (`fuzz/seeds/transport_state/`): states of several suites, one with a half-read
/// packet, untaken output and events. Each decodes, re-encodes to itself and imports.
/// `SISU_WRITE_SEEDS=1 cargo test -p sisu-kex --test handover` rewrites them.
#[test]
fn fuzz_seeds_for_the_state_decoder() {
    let dir =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/seeds/transport_state");
    let cases = [
        (
            "chacha20_poly1305",
            CipherAlg::Chacha20Poly1305,
            MacAlg::HmacSha256,
            0,
        ),
        ("aes256_gcm", CipherAlg::Aes256Gcm, MacAlg::HmacSha256, 0),
        (
            "aes128_ctr_hmac_half_packet",
            CipherAlg::Aes128Ctr,
            MacAlg::HmacSha256,
            21,
        ),
        (
            "aes256_cbc_umac64_etm",
            CipherAlg::Aes256Cbc,
            MacAlg::Umac64Etm,
            7,
        ),
        (
            "arcfour256_hmac_md5_half_packet",
            CipherAlg::Arcfour256,
            MacAlg::HmacMd5,
            9,
        ),
        (
            "3des_cbc_hmac_sha1_half_packet",
            CipherAlg::TripleDesCbc,
            MacAlg::HmacSha1,
            12,
        ),
    ];
    if std::env::var_os("SISU_WRITE_SEEDS").is_some() {
        std::fs::create_dir_all(&dir).unwrap();
        for (name, cipher, mac, cut) in cases {
            let config = cfg(cipher, mac, true);
            let (mut c, mut s) = keyed_pair(config.clone(), config);
            c.send_message(&data_msg(1, 1, 30)).unwrap();
            c.send_message(&data_msg(1, 2, 30)).unwrap();
            let wire = c.poll_transmit().unwrap();
            let first = wire.len() / 2;
            // One whole packet (an untaken event) and `cut` bytes of the next.
            let whole = if cut == 0 {
                wire.len()
            } else {
                first + cut.min(first)
            };
            s.handle_input(&wire[..whole.min(wire.len())]).unwrap();
            s.send_message(&data_msg(2, 1, 10)).unwrap();
            let bytes = s.export().unwrap().to_bytes();
            std::fs::write(dir.join(name), &bytes[..]).unwrap();
        }
    }
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    let mut want: Vec<String> = cases.iter().map(|c| c.0.to_string()).collect();
    want.sort();
    assert_eq!(names, want);
    for name in names {
        let bytes = std::fs::read(dir.join(&name)).unwrap();
        let state = TransportState::from_bytes(&bytes).unwrap();
        assert_eq!(*state.to_bytes(), bytes, "{name}");
        let key = HostKey::new(ed25519().clone()).unwrap();
        let config = TransportConfig::default();
        let mut t = Transport::import(state, config, vec![key], rng(0)).unwrap();
        assert!(t.poll_transmit().is_some(), "{name}: the untaken output");
        assert!(
            std::iter::from_fn(|| t.poll_event()).any(|e| matches!(e, Event::Message(_))),
            "{name}: the untaken event"
        );
    }
}
