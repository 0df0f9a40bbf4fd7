//! In-memory client↔server runs for every host-key algorithm: a server with several host
//! keys (Ed25519, ECDSA P-256/P-521, RSA, DSA) and host certificates for some of them
//! offers each key with its algorithms, and a client that asks for any one of them gets
//! it, with random chunking.

use proptest::prelude::*;
use rand_core::OsRng;
use signature::Signer;
use sisu_kex::kexinit::KexInit;
use sisu_kex::{Event, HostKey, HostKeyAlg, Transport, TransportConfig};
use sisu_wire::{Reader, Writer};
use ssh_key::{Algorithm, EcdsaCurve, PrivateKey};
use std::sync::OnceLock;

/// A host certificate for `key` signed by `ca`, laid out as PROTOCOL.certkeys says.
fn certificate(key: &PrivateKey, ca: &PrivateKey) -> Vec<u8> {
    let plain = key.public_key().to_bytes().unwrap();
    let mut r = Reader::new(&plain);
    let key_type = r.utf8().unwrap();
    let mut w = Writer::new();
    w.str(&format!("{key_type}-cert-v01@openssh.com"))
        .string(&[1u8; 32]);
    let mut blob = w.into_vec();
    blob.extend_from_slice(r.rest());
    let mut w = Writer::new();
    w.u64(7)
        .u32(2)
        .str("host")
        .string(&[])
        .u64(0)
        .u64(u64::MAX)
        .string(&[])
        .string(&[])
        .string(&[])
        .string(&ca.public_key().to_bytes().unwrap());
    blob.extend_from_slice(w.as_slice());
    let sig: ssh_key::Signature = ca.try_sign(&blob).unwrap();
    let mut w = Writer::new();
    w.string(&Vec::<u8>::try_from(sig).unwrap());
    blob.extend_from_slice(w.as_slice());
    blob
}

struct Fixture {
    plain: Vec<PrivateKey>,
    certified: Vec<(PrivateKey, Vec<u8>)>,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let mut rng = OsRng;
        let mut plain = vec![
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
            PrivateKey::random(
                &mut rng,
                Algorithm::Ecdsa {
                    curve: EcdsaCurve::NistP521,
                },
            )
            .unwrap(),
            PrivateKey::random(&mut rng, Algorithm::Rsa { hash: None }).unwrap(),
        ];
        if cfg!(feature = "legacy") {
            plain.push(PrivateKey::random(&mut rng, Algorithm::Dsa).unwrap());
        }
        let ca = PrivateKey::random(&mut rng, Algorithm::Ed25519).unwrap();
        let certified = plain
            .iter()
            .map(|k| (k.clone(), certificate(k, &ca)))
            .collect();
        Fixture { plain, certified }
    })
}

fn server_keys() -> Vec<HostKey> {
    let f = fixture();
    let mut keys: Vec<HostKey> = f
        .plain
        .iter()
        .map(|k| HostKey::new(k.clone()).unwrap())
        .collect();
    for (k, c) in &f.certified {
        keys.push(HostKey::with_certificate(k.clone(), c.clone()).unwrap());
    }
    keys
}

/// The algorithms the fixture's keys can serve.
fn served() -> Vec<HostKeyAlg> {
    HostKeyAlg::ALL
        .iter()
        .copied()
        .filter(|a| cfg!(feature = "legacy") || !a.is_legacy())
        .collect()
}

/// The name-list of host key algorithms in a server's first output (identification
/// line, then the cleartext KEXINIT packet).
fn offered_host_key_algs(first_output: &[u8]) -> Vec<String> {
    let at = first_output.windows(2).position(|w| w == b"\r\n").unwrap() + 2;
    let pkt = &first_output[at..];
    let len = u32::from_be_bytes(pkt[..4].try_into().unwrap()) as usize;
    let pad = pkt[4] as usize;
    let payload = &pkt[5..4 + len - pad];
    let init = KexInit::parse(payload).unwrap();
    init.host_key.iter().map(String::from).collect()
}

/// Runs one connection; returns the server's offer, what was negotiated and `K_S`.
fn connect(client_algs: Vec<HostKeyAlg>, chunk: usize) -> (Vec<String>, HostKeyAlg, Vec<u8>) {
    let server_cfg = TransportConfig {
        host_key_algs: served(),
        ..TransportConfig::default()
    };
    let client_cfg = TransportConfig {
        host_key_algs: client_algs,
        ..TransportConfig::default()
    };
    let mut server = Transport::server(server_cfg, server_keys(), Box::new(OsRng));
    let mut client = Transport::client(client_cfg, Box::new(OsRng));
    let mut offer = None;
    let mut k_s = None;
    for _ in 0..1000 {
        let mut moved = false;
        if let Some(b) = client.poll_transmit() {
            moved = true;
            for c in b.chunks(chunk) {
                server.handle_input(c).unwrap();
            }
        }
        if let Some(b) = server.poll_transmit() {
            moved = true;
            if offer.is_none() {
                offer = Some(offered_host_key_algs(&b));
            }
            for c in b.chunks(chunk) {
                client.handle_input(c).unwrap();
            }
        }
        while let Some(e) = client.poll_event() {
            if let Event::KeysEstablished { host_key, .. } = e {
                k_s = Some(host_key);
            }
        }
        while server.poll_event().is_some() {}
        if !moved {
            break;
        }
    }
    assert!(client.session_id().is_some());
    assert_eq!(client.session_id(), server.session_id());
    let neg = client.negotiated().unwrap().host_key;
    assert_eq!(server.negotiated().unwrap().host_key, neg);
    (offer.unwrap(), neg, k_s.unwrap())
}

#[test]
fn server_offers_every_algorithm_of_its_keys_and_certificates() {
    let (offer, neg, _) = connect(HostKeyAlg::DEFAULT.to_vec(), 4096);
    let want: Vec<&str> = served().iter().map(|a| a.name()).collect();
    assert_eq!(offer, want);
    // The client's first choice wins: a certificate, as OpenSSH's order puts them first.
    assert_eq!(neg, HostKeyAlg::Ed25519Cert);
}

#[test]
fn server_offers_only_what_its_keys_serve() {
    let key = PrivateKey::random(&mut OsRng, Algorithm::Ed25519).unwrap();
    let mut server = Transport::server(
        TransportConfig {
            host_key_algs: served(),
            ..TransportConfig::default()
        },
        vec![HostKey::new(key).unwrap()],
        Box::new(OsRng),
    );
    let offer = offered_host_key_algs(&server.poll_transmit().unwrap());
    assert_eq!(offer, ["ssh-ed25519"]);
}

#[test]
fn each_algorithm_can_be_picked_and_sends_the_right_k_s() {
    let f = fixture();
    for alg in served() {
        let (_, neg, k_s) = connect(vec![alg], 4096);
        assert_eq!(neg, alg);
        let key_type = Reader::new(&k_s).utf8().unwrap().to_string();
        assert_eq!(key_type, alg.key_type(), "{alg:?}");
        if alg.is_certificate() {
            assert!(f.certified.iter().any(|(_, c)| *c == k_s), "{alg:?}");
        } else {
            assert!(f
                .plain
                .iter()
                .any(|k| k.public_key().to_bytes().unwrap() == k_s));
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn any_algorithm_any_chunking(i in 0usize..16, chunk in 1usize..600) {
        let algs = served();
        let alg = algs[i % algs.len()];
        let (_, neg, _) = connect(vec![alg], chunk);
        prop_assert_eq!(neg, alg);
    }
}

/// Server CPU per host-key signature (the host key's share of one key exchange), and
/// the client's verification: `cargo test -p sisu-kex --release --test hostkeys --
/// --ignored --nocapture`.
#[test]
#[ignore]
fn measure_sign_and_verify_time() {
    use std::time::Instant;
    const ROUNDS: u32 = 50;
    let f = fixture();
    for alg in served().into_iter().filter(|a| !a.is_certificate()) {
        let key = f
            .plain
            .iter()
            .map(|k| HostKey::new(k.clone()).unwrap())
            .find(|k| k.algorithms().contains(&alg))
            .unwrap();
        let t = Instant::now();
        let mut sig = Vec::new();
        for i in 0..ROUNDS {
            sig = key.sign(alg, &[i as u8; 32], &mut OsRng).unwrap();
        }
        let sign = t.elapsed() / ROUNDS;
        let t = Instant::now();
        for _ in 0..ROUNDS {
            sisu_kex::hostkey::verify(key.public_blob(), alg, &[(ROUNDS - 1) as u8; 32], &sig)
                .unwrap();
        }
        let verify = t.elapsed() / ROUNDS;
        println!(
            "{:<22} sign {:>9.3} ms   verify {:>8.3} ms",
            alg.name(),
            sign.as_secs_f64() * 1e3,
            verify.as_secs_f64() * 1e3
        );
    }
}
