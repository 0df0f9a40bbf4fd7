//! The server transport fed arbitrary bytes after a valid identification line: no
//! panic, no unbounded growth; errors are sticky.
//!
//! Deterministic: the host key and the transport's randomness come from fixed ChaCha20
//! seeds, so a crash replays, and committed seeds (`fuzz/seeds/transport_server/`,
//! made by `kex/tests/fuzz_seeds.rs` with the same server) can carry a client's sealed
//! packets past the key exchange.
#![no_main]
use libfuzzer_sys::fuzz_target;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use sisu_kex::{HostKey, Transport, TransportConfig};
use std::sync::OnceLock;

fn key() -> &'static ssh_key::PrivateKey {
    static K: OnceLock<ssh_key::PrivateKey> = OnceLock::new();
    K.get_or_init(|| {
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        ssh_key::PrivateKey::random(&mut rng, ssh_key::Algorithm::Ed25519).unwrap()
    })
}

fuzz_target!(|data: &[u8]| {
    let hk = HostKey::new(key().clone()).unwrap();
    let mut t = Transport::server(
        TransportConfig::default(),
        vec![hk],
        Box::new(ChaCha20Rng::seed_from_u64(2)),
    );
    let _ = t.handle_input(b"SSH-2.0-fuzz\r\n");
    // Feed in two chunks split by the first byte, to vary the chunking.
    let split = data.first().map_or(0, |b| *b as usize).min(data.len());
    let first = t.handle_input(&data[..split]);
    let second = t.handle_input(&data[split..]);
    if first.is_err() {
        assert!(second.is_err(), "errors are sticky");
    }
    while t.poll_event().is_some() {}
    let _ = t.poll_transmit();
});
