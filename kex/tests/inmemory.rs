//! In-memory client↔server runs of the transport: every algorithm combination of this
//! slice, random chunking, rekeying with data in flight, and refused bad input.

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
        vec![
            PrivateKey::random(&mut rng, Algorithm::Ed25519).unwrap(),
            PrivateKey::random(
                &mut rng,
                Algorithm::Ecdsa {
                    curve: EcdsaCurve::NistP256,
                },
            )
            .unwrap(),
            PrivateKey::random(
                &mut rng,
                Algorithm::Ecdsa {
                    curve: EcdsaCurve::NistP384,
                },
            )
            .unwrap(),
            // A fixed small RSA key keeps debug-build tests fast; 2048 bits is the
            // smallest that rsa-sha2-512 signatures fit comfortably.
            PrivateKey::random(&mut rng, Algorithm::Rsa { hash: None }).unwrap(),
        ]
    })
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
        Pair {
            client: Transport::client(client_cfg, Box::new(OsRng)),
            server: Transport::server(server_cfg, keys, Box::new(OsRng)),
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

#[test]
fn every_combination_agrees_and_carries_data() {
    for &kex in KexAlg::ALL {
        for &hk in HostKeyAlg::ALL {
            if hk == HostKeyAlg::EcdsaP521 {
                continue; // no P-521 host key in the fixture
            }
            for &cipher in CipherAlg::ALL {
                for &mac in MacAlg::ALL {
                    let c = cfg(kex, hk, cipher, mac);
                    let mut p = Pair::new(c.clone(), c);
                    p.run(4096);
                    assert_eq!(p.client.session_id(), p.server.session_id());
                    assert!(p.client.session_id().is_some());
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
                }
            }
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
        e.reason,
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
        assert!(e.message.contains("Bad packet length"), "{e}");
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
    assert!(e.message.contains("strict KEX"), "{e}");
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
            e.reason,
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
    assert_eq!(e.reason, msg::reason::SSH_DISCONNECT_MAC_ERROR);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]
    #[test]
    fn random_algorithms_and_chunking(ci in 0..CipherAlg::ALL.len(), mi in 0..MacAlg::ALL.len(),
                                      hi in 0..4usize, ki in 0..KexAlg::ALL.len(),
                                      chunk in 1usize..700,
                                      sizes in proptest::collection::vec(0usize..5000, 1..8)) {
        let hk = [HostKeyAlg::Ed25519, HostKeyAlg::EcdsaP256, HostKeyAlg::RsaSha256, HostKeyAlg::RsaSha512][hi];
        let c = cfg(KexAlg::ALL[ki], hk, CipherAlg::ALL[ci], MacAlg::ALL[mi]);
        let mut p = Pair::new(c.clone(), c);
        // Messages sent before the key exchange ends are held back and delivered after.
        for (i, s) in sizes.iter().enumerate() {
            p.client.send_message(&data_msg(i, *s)).unwrap();
        }
        p.run(chunk);
        prop_assert_eq!(p.client.session_id(), p.server.session_id());
        let expect: Vec<Vec<u8>> = sizes.iter().enumerate().map(|(i, s)| data_msg(i, *s)).collect();
        prop_assert_eq!(&p.server_msgs, &expect);
    }
}
