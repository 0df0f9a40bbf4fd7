//! The transport-state decoder (`TransportState::from_bytes`) on arbitrary bytes, as a
//! monitor or a post-authentication process meets them from a compromised pre-auth
//! child: it must refuse or decode, never panic; what it decodes encodes back to the
//! same bytes (the format is canonical), imports into a transport or is refused, and an
//! imported transport can be driven (its buffered input read, a message sent, a rekey
//! started) without a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use sisu_kex::state::TransportState;
use sisu_kex::{Transport, TransportConfig};

fuzz_target!(|data: &[u8]| {
    let Ok(state) = TransportState::from_bytes(data) else {
        return;
    };
    assert_eq!(&state.to_bytes()[..], data, "the encoding is canonical");
    let rng = Box::new(ChaCha20Rng::seed_from_u64(1));
    let Ok(mut t) = Transport::import(state, TransportConfig::default(), Vec::new(), rng) else {
        return;
    };
    while t.poll_event().is_some() {}
    let _ = t.handle_input(&[]);
    let _ = t.send_message(&[94, 0, 0, 0, 0]);
    t.start_rekey();
    while t.poll_event().is_some() {}
    let _ = t.poll_transmit();
});
