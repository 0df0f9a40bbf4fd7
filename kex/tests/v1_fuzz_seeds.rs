//! The committed seed inputs of the `v1_transport_server` fuzz target
//! (`fuzz/seeds/v1_transport_server/`): a whole SSH-1 session (a real encrypted
//! session key, then encrypted packets, so the fuzzer starts past the key exchange)
//! and one input per refusal a client can reach. Built here with the fuzz target's
//! keys and seeds, compared with the files, and replayed the way the target feeds
//! them (first byte: how many of the following bytes go in the first chunk; the
//! session key asked for in between is decrypted), each checked to end as its name
//! says.
//!
//! `SISU_WRITE_SEEDS=1 cargo test -p sisu-kex --test v1_fuzz_seeds` rewrites the files.
#![cfg(feature = "v1")]

use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use rsa::pkcs1::DecodeRsaPrivateKey;
use rsa::RsaPrivateKey;
use sisu_kex::v1::msg::{PublicKey, SessionKey};
use sisu_kex::v1::{decrypt_session_key, V1Cipher, V1Config, V1Error, V1Event, V1Transport};
use sisu_wire::v1::packet::{PacketDecoder, PacketEncoder, V1PacketError};
use std::path::PathBuf;

/// The fuzz target's keys (`fuzz/fuzz_targets/v1_transport_server.rs`).
const SERVER_768_PEM: &str = "-----BEGIN RSA PRIVATE KEY-----
MIIByQIBAAJhANImRHi4FN2MPtJUh+mZMB7Vqv5yhy6KdfINRsdQgSjUTOXRwT0r
lDaX0z0vfyAEikwZxsxO/QZ148qz4WhNxsBgLuRmNDr62v5u0J8wHpX3FxhwEZAi
meFACmj/2rz6KwIDAQABAmAFhmIIdnZ9+KDyMKy+FHvyY5WySNqK+7LsITM6LECp
DSPUavZUoF+uK8Gu+x+xfM0FwkAdz4d7zFnaGcBezG8R+z85b9lpM/alLAs48zfU
Tu+Hidj1+kHAYIrdw+YNR3kCMQD92zNyi5JMDrgg1iPOry1jcxiury7noMcWffzG
/FJ9Tqq2B3MO3EtZ6fwHJtk24/0CMQDT7JQ7p5bOoltKPabvOsYr/y7FrRazkyd/
iVvLW/Iz4fJ63jgDGXn3xB3J4yLta0cCMCJqdmYgH/xpvnLNNVuPClNCRmVgYLaM
aJFXEU8U5EYSxTgaeHHaUejlvQJnNOmpLQIwOGKgygJ8CHyAJ4+hw9LyeTBLJIM6
IAtOHgvQ5ZmQJqe+WVyYsJJttjNy7Y1GdL7vAjBo+WRXWqS//fY7cFbkDGbfjEiC
xK9vqaFpLBHdIp4FOpCiIQ9gJRt/T9vPMqWilLo=
-----END RSA PRIVATE KEY-----
";

const HOST_1024_PEM: &str = "-----BEGIN RSA PRIVATE KEY-----
MIICXAIBAAKBgQCrw3NzSqQEENktm/BnSSfTO+apSwgO47DDkSJiunx1YTFRsXIK
Meo18ENzCj86JmDLE8WKPUxKC1gyze1161C5sbNre/pQ0UMH99liMmozp0//qe0B
BtRpZXyI7zAGiSQrLqsbgpye+pnM/9W93eiO0+iq/TIeHR+exxigx8nUFQIDAQAB
AoGANxUp/AouySMCEs9UbDsYq3QlR5tJTUUVldIAXfsCGL5/i3xFXyGcw4l2h/j8
R9Cw7886ZVe9FG3I7hn+EffR3gR46qKgHtU5b59I/qiFkT2PA2z0mfo5SUpATys/
lUNLWAayPx5sO5kaRGr+YxJVi5Gg3Q9TpDSENbwGaWQ9PIECQQDeBKOM/TSGiew8
M3Ze2JwvHuxg3hyk5b+O1Johb4vh7AvVF9IQ63aygBaaxw3pwWjtobiyErAnXnib
kLvbXsT1AkEAxg2tyY+HMmtivLmFP0d2nel3Ny08HySLUctyRkUYbiIrSVK1H/GR
dQlPn6xBRZjhL8Hs/higUyy8x85tVqZeoQJBANxqbpUCrKsFMutxjAsNscF2SebB
nF55WXxLxdl8DLv2xKiCRaNWoTkFwWtYQ4/W3H1PGTZxJ0FuoP6Q6nAX3iECQG0A
OEZ3hNv9+BCQNkKWbTUJugAXGEC3lynEQ7di7cgnbBVlvKPBCuIT5sulPSM1ubHU
FD/gg9RjCd8ZwFlxJSECQCPtBoHHCDVuHT7Zo8WlFzFtxZwnn9MzmWVmBb9rBdoJ
pb7k7PwZ3jGp6AMsSC0h+0uVd3qiTUDZiG84dZpdmn0=
-----END RSA PRIVATE KEY-----
";

fn keys() -> (RsaPrivateKey, RsaPrivateKey) {
    (
        RsaPrivateKey::from_pkcs1_pem(HOST_1024_PEM).unwrap(),
        RsaPrivateKey::from_pkcs1_pem(SERVER_768_PEM).unwrap(),
    )
}

/// The fuzz target's server, before any input.
fn target_server(host: &RsaPrivateKey, server: &RsaPrivateKey) -> V1Transport {
    V1Transport::server(
        V1Config::default(),
        &host.to_public_key(),
        &server.to_public_key(),
        Box::new(ChaCha20Rng::seed_from_u64(2)),
        &[],
    )
}

/// Answers the session key the way the fuzz target does.
fn answer(t: &mut V1Transport, host: &RsaPrivateKey, server: &RsaPrivateKey) -> Vec<V1Event> {
    let mut seen = Vec::new();
    while let Some(e) = t.poll_event() {
        if let V1Event::SessionKeyNeeded {
            encrypted,
            session_id,
            ..
        } = &e
        {
            let mut rng = ChaCha20Rng::seed_from_u64(3);
            let key = decrypt_session_key(host, server, encrypted, session_id, &mut rng);
            let _ = t.provide_session_key(key);
        }
        seen.push(e);
    }
    seen
}

/// The target's input: the first chunk's length, the first chunk, the rest.
fn seed(first: &[u8], rest: &[u8]) -> Vec<u8> {
    let mut v = vec![u8::try_from(first.len()).unwrap()];
    v.extend_from_slice(first);
    v.extend_from_slice(rest);
    v
}

fn replay(data: &[u8]) -> (V1Transport, Vec<V1Event>, Result<(), V1Error>) {
    let (host, server) = keys();
    let mut t = target_server(&host, &server);
    let _ = t.poll_transmit();
    let split = data.first().map_or(0, |b| *b as usize);
    let stream = data.get(1..).unwrap_or_default();
    let split = split.min(stream.len());
    let first = t.handle_input(&stream[..split]);
    let mut seen = answer(&mut t, &host, &server);
    let second = t.handle_input(&stream[split..]);
    seen.extend(answer(&mut t, &host, &server));
    (t, seen, first.and(second))
}

fn plain(t: u8, data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    PacketEncoder::new()
        .encode(t, data, &[0; 8], &mut out)
        .unwrap();
    out
}

fn string(s: &[u8]) -> Vec<u8> {
    let mut v = (s.len() as u32).to_be_bytes().to_vec();
    v.extend_from_slice(s);
    v
}

/// The cookie the target's server sends.
fn cookie() -> [u8; 8] {
    let (host, server) = keys();
    let out = target_server(&host, &server).poll_transmit().unwrap();
    let mut d = PacketDecoder::new();
    d.feed(&out);
    let (_, body) = d.next_packet().unwrap().unwrap();
    PublicKey::parse(&body).unwrap().cookie
}

/// A whole session: a real client keyed against a replica of the target's server.
fn session(cipher: V1Cipher) -> Vec<u8> {
    let (host, server) = keys();
    let mut s = target_server(&host, &server);
    let mut c = V1Transport::client(cipher, Box::new(ChaCha20Rng::seed_from_u64(4)));
    c.handle_input(&s.poll_transmit().unwrap()).unwrap();
    let first = c.poll_transmit().unwrap();
    s.handle_input(&first).unwrap();
    answer(&mut s, &host, &server);
    c.handle_input(&s.poll_transmit().unwrap()).unwrap();
    c.send(4, &string(b"fuzz")).unwrap();
    c.send(32, &string(b"ignored")).unwrap();
    c.send(9, &string(b"password")).unwrap();
    c.send(10, &[0; 24]).unwrap();
    c.send(16, &string(b"stdin")).unwrap();
    let rest = c.poll_transmit().unwrap();
    seed(&first, &rest)
}

#[derive(Debug, PartialEq)]
enum Outcome {
    /// No error; this many messages reached the caller.
    Messages(usize),
    Error(V1Error),
}

fn seeds() -> Vec<(&'static str, Vec<u8>, Outcome)> {
    let good = |cipher: u8, cookie: [u8; 8]| {
        SessionKey {
            cipher,
            cookie,
            encrypted_key: vec![0x5a; 128],
            protocol_flags: 0,
        }
        .encode()
    };
    vec![
        (
            "session_3des",
            session(V1Cipher::ThreeDes),
            Outcome::Messages(4),
        ),
        (
            "session_blowfish",
            session(V1Cipher::Blowfish),
            Outcome::Messages(4),
        ),
        ("session_des", session(V1Cipher::Des), Outcome::Messages(4)),
        (
            "bad_cookie",
            seed(&plain(3, &good(3, [0; 8])), &[]),
            Outcome::Error(V1Error::SpoofingCheck),
        ),
        (
            "unsupported_cipher",
            seed(&plain(3, &good(1, cookie())), &[]),
            Outcome::Error(V1Error::UnsupportedCipher(1)),
        ),
        (
            "unexpected_message",
            seed(&plain(4, &string(b"root")), &[]),
            Outcome::Error(V1Error::UnexpectedMessage {
                expected: 3,
                got: 4,
            }),
        ),
        (
            "random_key_crc_error",
            seed(&plain(3, &good(3, cookie())), &plain(4, &string(b"root"))),
            Outcome::Error(V1Error::Packet(V1PacketError::CorruptedCheckBytes)),
        ),
        (
            "bad_length",
            seed(&[], &[0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0]),
            Outcome::Error(V1Error::Packet(V1PacketError::BadLength(4))),
        ),
    ]
}

fn seed_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fuzz/seeds/v1_transport_server")
}

#[test]
fn v1_fuzz_seeds_reach_their_ends() {
    let write = std::env::var_os("SISU_WRITE_SEEDS").is_some();
    if write {
        std::fs::create_dir_all(seed_dir()).unwrap();
    }
    for (name, data, want) in seeds() {
        let path = seed_dir().join(name);
        if write {
            std::fs::write(&path, &data).unwrap();
        }
        let on_disk = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert_eq!(
            on_disk, data,
            "{name}: the file differs (SISU_WRITE_SEEDS=1 rewrites it)"
        );
        let (t, seen, r) = replay(&data);
        let got = match r {
            Ok(()) => Outcome::Messages(
                seen.iter()
                    .filter(|e| matches!(e, V1Event::Message { .. }))
                    .count(),
            ),
            Err(e) => Outcome::Error(e),
        };
        assert_eq!(got, want, "{name}");
        if let Outcome::Messages(_) = want {
            assert!(t.error().is_none(), "{name}");
        }
    }
}
