//! In-memory client↔server runs of the transport: every key-exchange method × host-key
//! type, every cipher × MAC, random chunking, rekeying (by volume, by the server, by the
//! client) with data in flight, and refused bad input.

use proptest::prelude::*;
use rand_core::OsRng;
use sisu_cipher::{CipherAlg, MacAlg};
use sisu_kex::{Event, HostKey, HostKeyAlg, KexAlg, Transport, TransportConfig};
use sisu_wire::msg;
use ssh_key::{Algorithm, EcdsaCurve, PrivateKey};
use std::sync::OnceLock;

fn host_keys() -> &'static Vec<PrivateKey> {
    static KEYS: OnceLock<Vec<PrivateKey>> = OnceLock::new();
    KEYS.get_or_init(|| {
        let mut rng = OsRng;
        let ec = |curve| Algorithm::Ecdsa { curve };
        let mut keys = vec![
            PrivateKey::random(&mut rng, Algorithm::Ed25519).unwrap(),
            PrivateKey::random(&mut rng, ec(EcdsaCurve::NistP256)).unwrap(),
            PrivateKey::random(&mut rng, ec(EcdsaCurve::NistP384)).unwrap(),
            PrivateKey::random(&mut rng, Algorithm::Rsa { hash: None }).unwrap(),
        ];
        // P-521 keys need ssh-key's `p521` feature, which the host-key side may lack.
        if let Ok(k) = PrivateKey::random(&mut rng, ec(EcdsaCurve::NistP521)) {
            keys.push(k);
        }
        keys
    })
}

/// The host-key algorithms the fixture's keys can serve.
fn host_key_algs() -> Vec<HostKeyAlg> {
    let mut v = vec![
        HostKeyAlg::Ed25519,
        HostKeyAlg::EcdsaP256,
        HostKeyAlg::EcdsaP384,
        HostKeyAlg::RsaSha256,
        HostKeyAlg::RsaSha512,
    ];
    if host_keys().len() > 4 {
        v.push(HostKeyAlg::EcdsaP521);
    }
    v
}

struct Pair {
    client: Transport,
    server: Transport,
    client_msgs: Vec<Vec<u8>>,
    server_msgs: Vec<Vec<u8>>,
    client_kex: u32,
    server_kex: u32,
}

impl Pair {
    fn new(client_cfg: TransportConfig, server_cfg: TransportConfig) -> Pair {
        let keys = host_keys()
            .iter()
            .map(|k| HostKey::new(k.clone()).unwrap())
            .collect();
        let mut client = Transport::client(client_cfg, Box::new(OsRng));
        // Held back until the client's NEWKEYS: the server takes messages 50 and up
        // only once it has accepted the service.
        client.request_service("ssh-userauth").unwrap();
        let mut server = Transport::server(server_cfg, keys, Box::new(OsRng));
        // These runs rekey freely, as after login (MAX_PREAUTH_KEX is tested in
        // tests/hostile.rs).
        client.set_authenticated();
        server.set_authenticated();
        Pair {
            client,
            server,
            client_msgs: vec![],
            server_msgs: vec![],
            client_kex: 0,
            server_kex: 0,
        }
    }

    /// Moves bytes both ways in chunks of `chunk` until quiet.
    fn run(&mut self, chunk: usize) {
        for _ in 0..100_000 {
            let mut moved = false;
            if let Some(b) = self.client.poll_transmit() {
                moved = true;
                for c in b.chunks(chunk) {
                    self.server.handle_input(c).unwrap();
                }
            }
            if let Some(b) = self.server.poll_transmit() {
                moved = true;
                for c in b.chunks(chunk) {
                    self.client.handle_input(c).unwrap();
                }
            }
            while let Some(e) = self.client.poll_event() {
                match e {
                    Event::Message(m) => self.client_msgs.push(m),
                    Event::KeysEstablished { .. } => self.client_kex += 1,
                    _ => {}
                }
            }
            while let Some(e) = self.server.poll_event() {
                match e {
                    Event::Message(m) => self.server_msgs.push(m),
                    Event::KeysEstablished { .. } => self.server_kex += 1,
                    _ => {}
                }
            }
            if !moved {
                return;
            }
        }
        panic!("no quiescence");
    }
}

fn cfg(kex: KexAlg, hk: HostKeyAlg, cipher: CipherAlg, mac: MacAlg) -> TransportConfig {
    TransportConfig {
        kex: vec![kex],
        host_key_algs: vec![hk],
        ciphers: vec![cipher],
        macs: vec![mac],
        ..TransportConfig::default()
    }
}

fn data_msg(i: usize, len: usize) -> Vec<u8> {
    let mut m = vec![94u8];
    m.extend((0..len).map(|j| (i * 31 + j) as u8));
    m
}

fn agree_and_carry(kex: KexAlg, hk: HostKeyAlg, cipher: CipherAlg, mac: MacAlg) -> Pair {
    let c = cfg(kex, hk, cipher, mac);
    let mut p = Pair::new(c.clone(), c);
    p.run(4096);
    assert_eq!(p.client.session_id(), p.server.session_id());
    assert!(p.client.session_id().is_some(), "{kex:?} {hk:?}");
    assert_eq!(p.client.session_id().unwrap().len(), kex.hash().len());
    let n = p.server.negotiated().unwrap();
    assert_eq!((n.kex, n.host_key, n.cipher_c2s), (kex, hk, cipher));
    assert!(n.strict, "strict kex negotiated");
    for i in 0..5 {
        p.client.send_message(&data_msg(i, 100 * i)).unwrap();
        p.server.send_message(&data_msg(i, 1000 * i)).unwrap();
    }
    p.run(4096);
    assert_eq!(p.server_msgs.len(), 5, "{kex:?} {hk:?} {cipher:?} {mac:?}");
    assert_eq!(p.client_msgs[4], data_msg(4, 4000));
    p
}

#[test]
fn every_method_and_host_key_agrees_and_each_method_rekeys() {
    for &kex in KexAlg::ALL {
        for hk in host_key_algs() {
            let mut p = agree_and_carry(kex, hk, CipherAlg::DEFAULT[0], MacAlg::DEFAULT[0]);
            if hk != HostKeyAlg::Ed25519 {
                continue; // rekeying once per method is enough
            }
            // A rekey started by the server, then one by the client, data in flight.
            let id = p.server.session_id().unwrap().to_vec();
            p.server.start_rekey();
            p.server.send_message(&data_msg(7, 77)).unwrap();
            p.run(100);
            p.client.start_rekey();
            p.client.send_message(&data_msg(8, 88)).unwrap();
            p.run(1000);
            assert_eq!((p.server_kex, p.client_kex), (3, 3), "{kex:?} {hk:?}");
            assert_eq!(
                p.server.session_id().unwrap(),
                &id[..],
                "session id is kept"
            );
            assert_eq!(p.client_msgs.last().unwrap(), &data_msg(7, 77));
            assert_eq!(p.server_msgs.last().unwrap(), &data_msg(8, 88));
        }
    }
}

#[test]
fn every_cipher_and_mac_agrees_and_carries_data() {
    for &cipher in CipherAlg::ALL {
        for &mac in MacAlg::ALL {
            agree_and_carry(KexAlg::Curve25519Sha256, HostKeyAlg::Ed25519, cipher, mac);
        }
    }
}

#[test]
fn rekey_with_data_in_flight_loses_nothing() {
    let mut c = TransportConfig {
        rekey_bytes: 64 * 1024,
        ..TransportConfig::default()
    };
    c.kex = vec![KexAlg::Curve25519Sha256];
    let mut p = Pair::new(c.clone(), TransportConfig::default());
    p.run(1 << 16);
    let mut sent = Vec::new();
    for i in 0..400 {
        let m = data_msg(i, 997);
        p.client.send_message(&m).unwrap();
        p.server.send_message(&m).unwrap();
        sent.push(m);
        if i % 7 == 0 {
            p.run(333);
        }
    }
    p.run(333);
    assert!(
        p.client_kex >= 4,
        "client rekeyed by volume: {}",
        p.client_kex
    );
    assert_eq!(p.server_kex, p.client_kex);
    assert_eq!(p.server_msgs, sent);
    assert_eq!(p.client_msgs, sent);
    // A server-initiated rekey too.
    p.server.start_rekey();
    p.server.send_message(&data_msg(1, 10)).unwrap();
    p.run(50);
    assert_eq!(p.server_kex, p.client_kex);
    assert_eq!(p.client_msgs.last().unwrap(), &data_msg(1, 10));
}

fn server_only() -> Transport {
    let keys = vec![HostKey::new(host_keys()[0].clone()).unwrap()];
    Transport::server(TransportConfig::default(), keys, Box::new(OsRng))
}

/// A plaintext packet (before NEWKEYS) holding `payload`.
fn plain_packet(payload: &[u8]) -> Vec<u8> {
    let mut enc = sisu_wire::packet::PacketEncoder::new();
    let mut out = Vec::new();
    enc.encode(payload, &mut |p| p.fill(0), &mut out).unwrap();
    out
}

#[test]
fn garbage_identification_is_refused() {
    let mut s = server_only();
    let e = s.handle_input(b"GET / HTTP/1.1\r\n\r\n").unwrap_err();
    assert_eq!(
        e.reason(),
        sisu_wire::msg::reason::SSH_DISCONNECT_PROTOCOL_ERROR
    );
    // Sticky: nothing more is processed.
    assert!(s.handle_input(b"SSH-2.0-x\r\n").is_err());
    let long = [b"SSH-2.0-".as_slice(), &[b'a'; 400], b"\r\n"].concat();
    assert!(server_only().handle_input(&long).is_err());
}

#[test]
fn bad_packet_lengths_are_refused() {
    for len in [0u32, 0xffff_ffff] {
        let mut s = server_only();
        let mut input = b"SSH-2.0-test\r\n".to_vec();
        input.extend_from_slice(&len.to_be_bytes());
        input.extend_from_slice(&[0; 12]);
        let e = s.handle_input(&input).unwrap_err();
        assert!(e.to_string().contains("Bad packet length"), "{e}");
        // A DISCONNECT is queued after our identification and KEXINIT.
        assert!(s.poll_transmit().unwrap().len() > 40);
    }
}

#[test]
fn strict_kex_refuses_ignore_before_newkeys() {
    let mut client = Transport::client(TransportConfig::default(), Box::new(OsRng));
    let mut s = server_only();
    s.handle_input(b"SSH-2.0-test\r\n").unwrap();
    // The client's KEXINIT (offers strict kex), then an IGNORE during the exchange.
    let bytes = client.poll_transmit().unwrap();
    let kexinit_start = bytes.iter().position(|&b| b == b'\n').unwrap() + 1;
    s.handle_input(&bytes[kexinit_start..]).unwrap();
    let e = s
        .handle_input(&plain_packet(&[msg::SSH_MSG_IGNORE, 0, 0, 0, 0]))
        .unwrap_err();
    assert!(e.to_string().contains("strict KEX"), "{e}");
}

#[test]
fn short_and_zero_curve25519_values_are_refused() {
    for q_c in [vec![9u8; 31], vec![0u8; 32]] {
        let mut client = Transport::client(TransportConfig::default(), Box::new(OsRng));
        let mut s = server_only();
        let bytes = client.poll_transmit().unwrap();
        s.handle_input(&bytes).unwrap();
        let mut m = sisu_wire::Writer::msg(msg::SSH_MSG_KEX_ECDH_INIT);
        m.string(&q_c);
        let e = s.handle_input(&plain_packet(m.as_slice())).unwrap_err();
        assert_eq!(
            e.reason(),
            msg::reason::SSH_DISCONNECT_KEY_EXCHANGE_FAILED,
            "{e}"
        );
    }
}

#[test]
fn tampered_packet_after_newkeys_is_a_mac_error() {
    let mut p = Pair::new(TransportConfig::default(), TransportConfig::default());
    p.run(1000);
    p.client.send_message(&data_msg(0, 50)).unwrap();
    let mut b = p.client.poll_transmit().unwrap();
    let n = b.len();
    b[n - 3] ^= 1;
    let e = p.server.handle_input(&b).unwrap_err();
    assert_eq!(e.reason(), msg::reason::SSH_DISCONNECT_MAC_ERROR);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]
    #[test]
    fn random_algorithms_and_chunking(ci in 0..CipherAlg::ALL.len(), mi in 0..MacAlg::ALL.len(),
                                      hi in 0..5usize, ki in 0..KexAlg::ALL.len(),
                                      chunk in 1usize..700,
                                      sizes in proptest::collection::vec(0usize..5000, 1..8)) {
        let hk = host_key_algs()[hi];
        let c = cfg(KexAlg::ALL[ki], hk, CipherAlg::ALL[ci], MacAlg::ALL[mi]);
        let mut p = Pair::new(c.clone(), c);
        // Messages sent before the key exchange ends are held back and delivered after.
        for (i, s) in sizes.iter().enumerate() {
            p.client.send_message(&data_msg(i, *s)).unwrap();
        }
        p.run(chunk);
        prop_assert_eq!(p.client.session_id(), p.server.session_id());
        prop_assert!(p.client.session_id().is_some());
        let expect: Vec<Vec<u8>> = sizes.iter().enumerate().map(|(i, s)| data_msg(i, *s)).collect();
        prop_assert_eq!(&p.server_msgs, &expect);
    }
}

/// A server for `kex` that has read a client's identification and KEXINIT.
fn server_after_kexinit(kex: KexAlg) -> Transport {
    let c = TransportConfig {
        kex: vec![kex],
        ..TransportConfig::default()
    };
    let mut client = Transport::client(c.clone(), Box::new(OsRng));
    let keys = vec![HostKey::new(host_keys()[0].clone()).unwrap()];
    let mut s = Transport::server(c, keys, Box::new(OsRng));
    s.handle_input(&client.poll_transmit().unwrap()).unwrap();
    s
}

fn refused(s: &mut Transport, payload: &[u8]) -> sisu_kex::TransportError {
    let e = s.handle_input(&plain_packet(payload)).unwrap_err();
    // Sticky, and a DISCONNECT is queued.
    assert!(s.handle_input(&plain_packet(payload)).is_err());
    assert!(s.poll_transmit().is_some());
    e
}

fn init_string(v: &[u8]) -> Vec<u8> {
    let mut m = sisu_wire::Writer::msg(30);
    m.string(v);
    m.into_vec()
}

fn init_mpint(v: &[u8]) -> Vec<u8> {
    let mut m = sisu_wire::Writer::msg(30);
    m.mpint(v);
    m.into_vec()
}

#[test]
fn bad_public_values_are_refused_with_key_exchange_failed() {
    let p14 = sisu_kex::moduli::DhGroup::group14().p().to_vec();
    let mut p14_minus_1 = p14.clone();
    *p14_minus_1.last_mut().unwrap() -= 1;
    let mut bad_mlkem = vec![0xffu8; 1184];
    bad_mlkem.extend_from_slice(&[9; 32]);
    let mut zero_x25519_mlkem = {
        let (_, ek) = <ml_kem::MlKem768 as ml_kem::KemCore>::generate(&mut OsRng);
        ml_kem::EncodedSizeUser::as_bytes(&ek).to_vec()
    };
    zero_x25519_mlkem.extend_from_slice(&[0; 32]);
    let mut off_curve = vec![4u8];
    off_curve.extend_from_slice(&[1; 64]);
    let cases: Vec<(KexAlg, Vec<u8>)> = vec![
        (KexAlg::DhGroup14Sha256, init_mpint(&[1])),
        (KexAlg::DhGroup14Sha256, init_mpint(&[])),
        (KexAlg::DhGroup14Sha256, init_mpint(&p14_minus_1)),
        (KexAlg::DhGroup14Sha256, init_mpint(&p14)),
        (KexAlg::DhGroup16Sha512, init_mpint(&[0xff; 600])),
        (KexAlg::MlKem768X25519Sha256, init_string(&[1; 1215])),
        (KexAlg::MlKem768X25519Sha256, init_string(&bad_mlkem)),
        (
            KexAlg::MlKem768X25519Sha256,
            init_string(&zero_x25519_mlkem),
        ),
        (KexAlg::Sntrup761X25519Sha512, init_string(&[1; 100])),
        (KexAlg::Sntrup761X25519Sha512, init_string(&[1; 1158 + 33])),
        (KexAlg::Curve25519Sha256, init_string(&[0; 32])),
        (KexAlg::EcdhNistP256, init_string(&off_curve)),
        (KexAlg::EcdhNistP384, init_string(&off_curve)),
        (KexAlg::EcdhNistP521, init_string(&[4; 133])),
    ];
    for (alg, payload) in cases {
        let mut s = server_after_kexinit(alg);
        let e = refused(&mut s, &payload);
        assert_eq!(
            e.reason(),
            msg::reason::SSH_DISCONNECT_KEY_EXCHANGE_FAILED,
            "{alg:?}: {e}"
        );
    }
}

#[test]
fn group_exchange_requests_are_checked() {
    let request = |min: u32, n: u32, max: u32| {
        let mut m = sisu_wire::Writer::msg(34);
        m.u32(min).u32(n).u32(max);
        m.into_vec()
    };
    for (min, n, max) in [(4096, 2048, 8192), (2048, 4096, 3072), (512, 1024, 1024)] {
        let mut s = server_after_kexinit(KexAlg::DhGexSha256);
        let e = refused(&mut s, &request(min, n, max));
        assert_eq!(e.reason(), msg::reason::SSH_DISCONNECT_KEY_EXCHANGE_FAILED);
    }
    // The old request (30) is not spoken.
    let mut s = server_after_kexinit(KexAlg::DhGexSha256);
    refused(&mut s, &init_mpint(&[5]));
    // A good request gets a group within the bounds; then e = 1 is refused.
    let mut s = server_after_kexinit(KexAlg::DhGexSha256);
    s.poll_transmit();
    s.handle_input(&plain_packet(&request(1024, 3072, 4096)))
        .unwrap();
    assert!(s.poll_transmit().unwrap().len() > 384, "a 3072-bit group");
    let mut init = sisu_wire::Writer::msg(32);
    init.mpint(&[1]);
    let e = refused(&mut s, init.as_slice());
    assert_eq!(e.reason(), msg::reason::SSH_DISCONNECT_KEY_EXCHANGE_FAILED);
}

#[test]
fn group_exchange_uses_the_configured_groups() {
    let g14 = sisu_kex::moduli::DhGroup::group14();
    let c = TransportConfig {
        kex: vec![KexAlg::DhGexSha256],
        host_key_algs: vec![HostKeyAlg::Ed25519],
        ..TransportConfig::default()
    };
    let server_cfg = TransportConfig {
        gex_groups: vec![g14].into(),
        ..c.clone()
    };
    // The client asks for 8192 bits (chacha20-poly1305's 512-bit key); the only group
    // within 2048..8192 is the 2048-bit one, which it accepts.
    let mut p = Pair::new(c, server_cfg);
    p.run(4096);
    assert!(p.client.session_id().is_some());
}
