//! The SSH-1 server transport fed arbitrary bytes after its `SSH_SMSG_PUBLIC_KEY`:
//! no panic, bounded output, sticky errors. Session keys it asks for are decrypted
//! with the fixed test keys below (the monitor's part), so an input carrying a real
//! encrypted session key reaches the encrypted stream. Input: one byte, the length
//! of the first chunk, then the bytes (the committed seeds in
//! `fuzz/seeds/v1_transport_server/`, made by `kex/tests/v1_fuzz_seeds.rs`, hold
//! whole sessions and one input per refusal).
//!
//! Deterministic: the keys are embedded (made once with `openssl genrsa -traditional`,
//! 768 and 1024 bits, the same as `sisu-kex`'s v1 tests) and the randomness comes
//! from fixed ChaCha20 seeds, so a crash replays.
#![no_main]
use libfuzzer_sys::fuzz_target;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use rsa::pkcs1::DecodeRsaPrivateKey;
use rsa::RsaPrivateKey;
use sisu_kex::v1::{decrypt_session_key, V1Config, V1Event, V1Transport};
use std::sync::OnceLock;

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

fn keys() -> &'static (RsaPrivateKey, RsaPrivateKey) {
    static K: OnceLock<(RsaPrivateKey, RsaPrivateKey)> = OnceLock::new();
    K.get_or_init(|| {
        (
            RsaPrivateKey::from_pkcs1_pem(HOST_1024_PEM).unwrap(),
            RsaPrivateKey::from_pkcs1_pem(SERVER_768_PEM).unwrap(),
        )
    })
}

fuzz_target!(|data: &[u8]| {
    let (host, server) = keys();
    let mut t = V1Transport::server(
        V1Config::default(),
        &host.to_public_key(),
        &server.to_public_key(),
        Box::new(ChaCha20Rng::seed_from_u64(2)),
        &[],
    );
    let _ = t.poll_transmit();
    // The first byte says how many of the following bytes go in the first chunk;
    // a session key asked for after it is answered before the second.
    let split = data.first().map_or(0, |b| *b as usize);
    let stream = data.get(1..).unwrap_or_default();
    let split = split.min(stream.len());
    let first = t.handle_input(&stream[..split]);
    while let Some(e) = t.poll_event() {
        if let V1Event::SessionKeyNeeded {
            encrypted,
            session_id,
            ..
        } = e
        {
            let mut rng = ChaCha20Rng::seed_from_u64(3);
            let key = decrypt_session_key(host, server, &encrypted, &session_id, &mut rng);
            let _ = t.provide_session_key(key);
        }
    }
    let second = t.handle_input(&stream[split..]);
    if let Err(e) = first {
        assert_eq!(second, Err(e), "errors are sticky");
    }
    while t.poll_event().is_some() {}
    let _ = t.send(17, b"\x00\x00\x00\x01x");
    assert!(t.pending_output() < 1024 * 1024);
    let _ = t.poll_transmit();
});
