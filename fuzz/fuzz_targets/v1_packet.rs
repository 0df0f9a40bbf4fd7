//! The SSH-1 packet decoder on arbitrary bytes, without a cipher and with 3DES (fixed
//! key), where the compensation attack detector runs over the ciphertext: no panic,
//! the buffer stays within `MAX_BUFFERED`, every packet is within the length limit,
//! and an error is returned again on the next call (sticky).
#![no_main]
use libfuzzer_sys::fuzz_target;
use sisu_cipher::v1::{V1Cipher, V1Crypt};
use sisu_wire::v1::packet::{PacketDecoder, MAX_BUFFERED, MAX_LEN};

fn run(mut d: PacketDecoder, data: &[u8]) {
    let mut rest = data;
    for _ in 0..4096 {
        let n = d.feed(rest);
        rest = &rest[n..];
        assert!(d.buffered() <= MAX_BUFFERED);
        match d.next_packet() {
            Ok(Some((_, p))) => assert!(p.len() < MAX_LEN as usize),
            Ok(None) if rest.is_empty() => break,
            Ok(None) => assert!(n > 0, "a full buffer always holds a packet"),
            Err(e) => {
                assert_eq!(d.next_packet(), Err(e), "errors are sticky");
                break;
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    run(PacketDecoder::new(), data);
    let mut d = PacketDecoder::new();
    d.set_cipher(Box::new(
        V1Crypt::decryptor(V1Cipher::ThreeDes, &[0x42; 32]).unwrap(),
    ));
    run(d, data);
});
