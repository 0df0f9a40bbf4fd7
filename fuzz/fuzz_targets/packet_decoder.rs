//! The binary packet decoder (`none` protection) and the identification reader on
//! arbitrary bytes.
#![no_main]
use libfuzzer_sys::fuzz_target;
use sisu_wire::ident::read_identification;
use sisu_wire::packet::PacketDecoder;

fuzz_target!(|data: &[u8]| {
    let _ = read_identification(data, false);
    let _ = read_identification(data, true);
    let mut d = PacketDecoder::new();
    d.feed(data);
    for _ in 0..1024 {
        match d.next_packet() {
            Ok(Some((_, p))) => assert!(p.len() <= sisu_wire::packet::MAX_PAYLOAD_LEN + 64),
            _ => break,
        }
    }
});
