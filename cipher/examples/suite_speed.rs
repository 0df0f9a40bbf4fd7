//! Throughput of every packet-protection suite: seal + open of fixed-size packets
//! through `PacketEncoder` / `PacketDecoder` ([`sisu_cipher::bench::seal_open`]), and,
//! for the AEADs, the portable RustCrypto implementations of the same primitives next
//! to aws-lc-rs (the backend the suites use), and AES-CTR's keystream from both. Run in release: `cargo xtask bench cipher`
//! calls it and puts `openssl speed` beside it.
//!
//! ```text
//! cargo run --release -p sisu-cipher --example suite_speed -- [PACKET_BYTES] [SECONDS]
//! ```
//!
//! Output: one tab-separated line per suite, `suite CIPHER MAC MB/s` (MAC `-` for
//! AEADs), then `backend NAME MB/s` lines; MB/s are payload megabytes (10^6) per
//! second, each byte sealed and opened once.

use sisu_cipher::{bench, CipherAlg, MacAlg};
use std::time::{Duration, Instant};

/// Times `f` (which processes `chunk` bytes per call) for at least `secs`.
fn rate(secs: f64, chunk: u64, mut f: impl FnMut() -> u64) -> f64 {
    let start = Instant::now();
    let limit = Duration::from_secs_f64(secs);
    let mut done = 0u64;
    while start.elapsed() < limit {
        let n = f();
        if n < chunk {
            return 0.0;
        }
        done += n;
    }
    done as f64 / start.elapsed().as_secs_f64() / 1e6
}

fn main() {
    let mut args = std::env::args().skip(1);
    let packet: usize = args
        .next()
        .and_then(|a| a.parse().ok())
        .unwrap_or(32 * 1024);
    let secs: f64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(0.25);
    let chunk = 4 << 20;
    let mut suites: Vec<(CipherAlg, Option<MacAlg>)> = Vec::new();
    for &c in CipherAlg::ALL {
        if c.is_aead() {
            suites.push((c, None));
        } else {
            suites.extend(MacAlg::ALL.iter().map(|&m| (c, Some(m))));
        }
    }
    for (c, m) in suites {
        let r = rate(secs, chunk, || {
            bench::seal_open(c, m, packet, chunk).unwrap_or(0)
        });
        println!(
            "suite\t{c}\t{}\t{r:.0}",
            m.map_or("-".into(), |m| m.to_string())
        );
    }
    backends(packet, secs);
}

/// RustCrypto's AES-GCM and ChaCha20-Poly1305 (OpenSSH's construction composed from
/// `chacha20` and `poly1305`), seal + open of `packet` bytes, for the backend choice.
fn backends(packet: usize, secs: f64) {
    use aes_gcm::aead::{AeadInPlace, KeyInit};
    let mut buf = vec![0xa5u8; packet];
    for (name, key_len) in [("rustcrypto-aes128-gcm", 16), ("rustcrypto-aes256-gcm", 32)] {
        let key = vec![0x22u8; key_len];
        let nonce = aes_gcm::Nonce::from([0x11u8; 12]);
        let r = if key_len == 16 {
            let k = aes_gcm::Aes128Gcm::new_from_slice(&key).expect("key");
            rate(secs, packet as u64, || {
                let tag = k
                    .encrypt_in_place_detached(&nonce, b"len!", &mut buf)
                    .expect("seal");
                k.decrypt_in_place_detached(&nonce, b"len!", &mut buf, &tag)
                    .expect("open");
                packet as u64
            })
        } else {
            let k = aes_gcm::Aes256Gcm::new_from_slice(&key).expect("key");
            rate(secs, packet as u64, || {
                let tag = k
                    .encrypt_in_place_detached(&nonce, b"len!", &mut buf)
                    .expect("seal");
                k.decrypt_in_place_detached(&nonce, b"len!", &mut buf, &tag)
                    .expect("open");
                packet as u64
            })
        };
        println!("backend\t{name}\t{r:.0}");
    }
    use chacha20::cipher::{KeyIvInit, StreamCipher};
    let key = [0x33u8; 32];
    let r = rate(secs, packet as u64, || {
        for _ in 0..2 {
            // Seal, then open: each is one keystream pass and one Poly1305 pass.
            let mut c = chacha20::ChaCha20Legacy::new(&key.into(), &[0u8; 8].into());
            let mut block0 = [0u8; 64];
            c.apply_keystream(&mut block0);
            c.apply_keystream(&mut buf);
            let tag = poly1305::Poly1305::new(poly1305::Key::from_slice(&block0[..32]))
                .compute_unpadded(&buf);
            std::hint::black_box(tag);
        }
        packet as u64
    });
    println!("backend\trustcrypto-chacha20-poly1305@openssh.com\t{r:.0}");
    aes_ctr(&mut buf, secs);
}

/// AES-128/256-CTR keystream over `buf` (encrypt, then decrypt), from RustCrypto's
/// `aes` + `ctr` and from aws-lc-rs, for the backend choice.
fn aes_ctr(buf: &mut [u8], secs: f64) {
    use aws_lc_rs::cipher::{EncryptingKey, EncryptionContext, UnboundCipherKey, AES_128, AES_256};
    use aws_lc_rs::iv::FixedLength;
    use cipher::{KeyIvInit, StreamCipher};
    let n = buf.len() as u64;
    for (bits, alg) in [(128, &AES_128), (256, &AES_256)] {
        let key = vec![0x44u8; bits / 8];
        let r = match bits {
            128 => {
                let mut c =
                    ctr::Ctr128BE::<aes::Aes128>::new_from_slices(&key, &[0; 16]).expect("key");
                rate(secs, n, || {
                    c.apply_keystream(buf);
                    c.apply_keystream(buf);
                    n
                })
            }
            _ => {
                let mut c =
                    ctr::Ctr128BE::<aes::Aes256>::new_from_slices(&key, &[0; 16]).expect("key");
                rate(secs, n, || {
                    c.apply_keystream(buf);
                    c.apply_keystream(buf);
                    n
                })
            }
        };
        println!("backend\trustcrypto-aes{bits}-ctr\t{r:.0}");
        let k = EncryptingKey::ctr(UnboundCipherKey::new(alg, &key).expect("key")).expect("key");
        let r = rate(secs, n, || {
            for _ in 0..2 {
                let iv = EncryptionContext::Iv128(FixedLength::from([0u8; 16]));
                k.less_safe_encrypt(buf, iv).expect("ctr");
            }
            n
        });
        println!("backend\taws-lc-aes{bits}-ctr\t{r:.0}");
    }
}
