//! The committed seed inputs of the `transport_server` fuzz target
//! (`fuzz/seeds/transport_server/`), one per refusal path a hostile client can reach
//! in the clear: built here, compared with the files, and replayed the way the fuzz
//! target feeds them, each checked to end where its name says.
//!
//! `SISU_WRITE_SEEDS=1 cargo test -p sisu-kex --test fuzz_seeds` rewrites the files.

use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use sisu_kex::kexinit::KexInit;
use sisu_kex::{
    HostKey, Stage, StrictKexViolation, Transport, TransportConfig, TransportError, MAX_PREAUTH_KEX,
};
use sisu_wire::{msg, NameList, Writer};
use std::path::PathBuf;

fn plain_packet(payload: &[u8]) -> Vec<u8> {
    let mut enc = sisu_wire::packet::PacketEncoder::new();
    let mut out = Vec::new();
    enc.encode(payload, &mut |p| p.fill(0), &mut out).unwrap();
    out
}

fn kexinit(kex: &str, follows: bool) -> Vec<u8> {
    plain_packet(
        &KexInit {
            cookie: [0x42; 16],
            kex: NameList(kex),
            host_key: NameList("ssh-ed25519"),
            cipher_c2s: NameList("aes128-ctr"),
            cipher_s2c: NameList("aes128-ctr"),
            mac_c2s: NameList("hmac-sha2-256"),
            mac_s2c: NameList("hmac-sha2-256"),
            comp_c2s: NameList("none"),
            comp_s2c: NameList("none"),
            first_kex_follows: follows,
        }
        .encode(),
    )
}

/// `SSH_MSG_KEX_ECDH_INIT` with the X25519 base point (a valid public key).
fn ecdh_init() -> Vec<u8> {
    let mut q = [0u8; 32];
    q[0] = 9;
    let mut w = Writer::msg(msg::SSH_MSG_KEX_ECDH_INIT);
    w.string(&q);
    plain_packet(w.as_slice())
}

fn message(number: u8, body: &[u8]) -> Vec<u8> {
    let mut p = vec![number];
    p.extend_from_slice(body);
    plain_packet(&p)
}

fn service_request() -> Vec<u8> {
    let mut w = Writer::msg(msg::SSH_MSG_SERVICE_REQUEST);
    w.str("ssh-userauth");
    plain_packet(w.as_slice())
}

const STRICT: &str = "curve25519-sha256,ext-info-c,kex-strict-c-v00@openssh.com";
const PLAIN: &str = "curve25519-sha256,ext-info-c";

/// What a replay must end in.
enum Outcome {
    Error(TransportError),
    /// No error; the server has sent its reply and NEWKEYS.
    Replied,
}

fn seeds() -> Vec<(&'static str, Vec<u8>, Outcome)> {
    use Outcome::*;
    let unexpected = |number, stage| Error(TransportError::UnexpectedMessage { number, stage });
    let strict = |n| {
        Error(TransportError::StrictKex(
            StrictKexViolation::UnexpectedPacket(n),
        ))
    };
    let mut dh_guess = Writer::msg(30);
    dh_guess.mpint(&[2]);
    vec![
        (
            "strict_service_request_after_our_newkeys",
            [kexinit(STRICT, false), ecdh_init(), service_request()].concat(),
            strict(msg::SSH_MSG_SERVICE_REQUEST),
        ),
        (
            "service_request_after_our_newkeys",
            [kexinit(PLAIN, false), ecdh_init(), service_request()].concat(),
            unexpected(msg::SSH_MSG_SERVICE_REQUEST, Stage::FirstKex),
        ),
        (
            "ext_info_after_our_newkeys",
            [
                kexinit(PLAIN, false),
                ecdh_init(),
                message(7, &[0, 0, 0, 0]),
            ]
            .concat(),
            unexpected(msg::SSH_MSG_EXT_INFO, Stage::FirstKex),
        ),
        (
            "userauth_request_after_our_newkeys",
            [
                kexinit(PLAIN, false),
                ecdh_init(),
                message(50, b"\0\0\0\x01u"),
            ]
            .concat(),
            unexpected(50, Stage::FirstKex),
        ),
        (
            "channel_data_before_reply",
            [kexinit(PLAIN, false), message(94, &[0; 8])].concat(),
            unexpected(94, Stage::FirstKex),
        ),
        (
            "strict_ignore_before_reply",
            [
                kexinit(STRICT, false),
                message(msg::SSH_MSG_IGNORE, &[0; 4]),
            ]
            .concat(),
            strict(msg::SSH_MSG_IGNORE),
        ),
        (
            "strict_kexinit_not_first",
            [
                message(msg::SSH_MSG_IGNORE, &[0; 4]),
                kexinit(STRICT, false),
            ]
            .concat(),
            Error(TransportError::StrictKex(
                StrictKexViolation::KexinitNotFirst,
            )),
        ),
        (
            "kexinit_twice",
            [kexinit(STRICT, false), kexinit(STRICT, false)].concat(),
            Error(TransportError::KexinitDuringKex),
        ),
        (
            "second_init_after_our_newkeys",
            [kexinit(STRICT, false), ecdh_init(), ecdh_init()].concat(),
            unexpected(30, Stage::AfterNewkeys),
        ),
        (
            // RFC rule: first choices differ (the server's is mlkem), so the DH guess
            // is dropped and the ECDH init that follows is answered.
            "wrong_guess_dropped",
            [
                kexinit("diffie-hellman-group14-sha256,curve25519-sha256", true),
                plain_packet(dh_guess.as_slice()),
                ecdh_init(),
            ]
            .concat(),
            Replied,
        ),
        (
            // Both list kexguess2 and negotiation lands on the guess: it is used, and
            // a resent init is one too many.
            "kexguess2_right_guess_used",
            [
                kexinit("curve25519-sha256,kexguess2@matt.ucc.asn.au", true),
                ecdh_init(),
                ecdh_init(),
            ]
            .concat(),
            unexpected(30, Stage::AfterNewkeys),
        ),
        (
            // Without kexguess2 the same guess is wrong by the RFC (first choices
            // differ): dropped, the resent init answered.
            "rfc_wrong_guess_resent",
            [kexinit("curve25519-sha256", true), ecdh_init(), ecdh_init()].concat(),
            Replied,
        ),
        (
            // Sealed under the new keys, but before SERVICE_REQUEST.
            "userauth_request_before_service",
            sealed_seed(|c, round| round == 0 && c.send_message(b"\x32\0\0\0\x01u").is_ok()),
            unexpected(50, Stage::BeforeService),
        ),
        (
            "channel_open_before_service",
            sealed_seed(|c, round| round == 0 && c.send_message(b"\x5a\0\0\0\x07session").is_ok()),
            unexpected(90, Stage::BeforeService),
        ),
        (
            // The client rekeys until the server stops it, before authentication.
            "kex_flood_before_auth",
            sealed_seed(|c, round| {
                c.start_rekey();
                round < MAX_PREAUTH_KEX
            }),
            Error(TransportError::KexFlood {
                exchanges: MAX_PREAUTH_KEX + 1,
            }),
        ),
    ]
}

fn seed_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fuzz/seeds/transport_server")
}

/// The server of `fuzz/fuzz_targets/transport_server.rs`: the same fixed seeds.
fn target_server() -> Transport {
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    let key = ssh_key::PrivateKey::random(&mut rng, ssh_key::Algorithm::Ed25519).unwrap();
    Transport::server(
        TransportConfig::default(),
        vec![HostKey::new(key).unwrap()],
        Box::new(ChaCha20Rng::seed_from_u64(2)),
    )
}

/// What a Sisu client named `fuzz` sends to the target's server, identification line
/// left out (the target sends its own): the key exchange, then rounds of `act` (called
/// with the round number until it returns false), each followed by shuttling both ways.
fn sealed_seed(act: impl Fn(&mut Transport, u32) -> bool) -> Vec<u8> {
    let cfg = TransportConfig {
        software_version: "fuzz".into(),
        ..TransportConfig::default()
    };
    let mut c = Transport::client(cfg, Box::new(ChaCha20Rng::seed_from_u64(3)));
    let mut s = target_server();
    let mut sent = Vec::new();
    let mut shuttle = |c: &mut Transport, s: &mut Transport| {
        for _ in 0..100 {
            let mut moved = false;
            if let Some(b) = c.poll_transmit() {
                moved = true;
                sent.extend_from_slice(&b);
                if s.handle_input(&b).is_err() {
                    return;
                }
            }
            if let Some(b) = s.poll_transmit() {
                moved = true;
                if c.handle_input(&b).is_err() {
                    return;
                }
            }
            if !moved {
                return;
            }
        }
    };
    shuttle(&mut c, &mut s);
    assert!(c.is_keyed());
    let mut round = 0;
    while act(&mut c, round) {
        shuttle(&mut c, &mut s);
        round += 1;
    }
    let cut = sent.iter().position(|&b| b == b'\n').unwrap() + 1;
    assert_eq!(&sent[..cut], b"SSH-2.0-fuzz\r\n");
    sent.split_off(cut)
}

/// Feeds `data` as `fuzz/fuzz_targets/transport_server.rs` does.
fn replay(data: &[u8]) -> (Transport, Result<(), TransportError>) {
    let mut t = target_server();
    t.handle_input(b"SSH-2.0-fuzz\r\n").unwrap();
    let split = data.first().map_or(0, |b| *b as usize).min(data.len());
    let first = t.handle_input(&data[..split]);
    let r = first.and_then(|()| t.handle_input(&data[split..]));
    (t, r)
}

#[test]
fn fuzz_seeds_reach_the_refusals() {
    let write = std::env::var_os("SISU_WRITE_SEEDS").is_some();
    if write {
        std::fs::create_dir_all(seed_dir()).unwrap();
    }
    for (name, data, want) in seeds() {
        let path = seed_dir().join(name);
        if write {
            std::fs::write(&path, &data).unwrap();
        }
        let committed = std::fs::read(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
        assert_eq!(committed, data, "{name}: the committed seed is out of date");
        let (mut t, r) = replay(&data);
        match want {
            Outcome::Error(e) => assert_eq!(r, Err(e), "{name}"),
            Outcome::Replied => {
                assert_eq!(r, Ok(()), "{name}");
                assert!(t.session_id().is_some(), "{name}: the server replied");
                assert!(t.poll_transmit().is_some());
            }
        }
    }
}
