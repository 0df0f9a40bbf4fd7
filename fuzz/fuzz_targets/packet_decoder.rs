//! The binary packet decoder and the identification reader on arbitrary bytes: with
//! the `none` protection, and with a real encrypt-and-MAC suite (aes128-cbc with
//! hmac-sha2-256, fixed keys), where a bad decrypted length must never be reported as
//! such (no length oracle: only the MAC error, once the largest packet was read).
#![no_main]
use libfuzzer_sys::fuzz_target;
use sisu_cipher::{new_opener, CipherAlg, DirectionKeys, MacAlg};
use sisu_wire::ident::read_identification;
use sisu_wire::packet::{PacketDecoder, PacketError, DISCARD_LEN, MAX_PAYLOAD_LEN};

fuzz_target!(|data: &[u8]| {
    let _ = read_identification(data, false);
    let _ = read_identification(data, true);
    let mut d = PacketDecoder::new();
    d.feed(data);
    for _ in 0..1024 {
        match d.next_packet() {
            Ok(Some((_, p))) => assert!(p.len() <= MAX_PAYLOAD_LEN + 64),
            _ => break,
        }
    }
    let keys = DirectionKeys {
        iv: vec![7; 16],
        key: vec![9; 16],
        mac_key: vec![11; 32],
    };
    let opener = new_opener(CipherAlg::Aes128Cbc, Some(MacAlg::HmacSha256), &keys).unwrap();
    let mut d = PacketDecoder::new();
    d.set_opener(opener);
    d.feed(data);
    for _ in 0..1024 {
        match d.next_packet() {
            Ok(Some(_)) => continue,
            Ok(None) => break,
            Err(PacketError::BadLength(_) | PacketError::BadAlignment(_)) => {
                panic!("encrypt-and-MAC revealed a bad length")
            }
            Err(PacketError::Mac) if d.is_discarding() => {
                assert!(
                    data.len() >= DISCARD_LEN,
                    "MAC error before the largest packet"
                )
            }
            Err(_) => break,
        }
    }
});
