//! # sisu-cipher: SSH packet protection
//!
//! This crate owns every packet-protection suite of SSH-2 and the registry of their
//! names, behind the [`Sealer`] / [`Opener`] traits of [`sisu_wire::packet`]; the
//! framing, padding, limits and sequence numbers stay in `sisu-wire`'s
//! `PacketEncoder` / `PacketDecoder`.
//!
//! | cipher ([`CipherAlg`]) | MAC ([`MacAlg`]) | mode |
//! |---|---|---|
//! | `chacha20-poly1305@openssh.com` | implied | AEAD (OpenSSH `PROTOCOL.chacha20poly1305`) |
//! | `aes128-gcm@openssh.com`, `aes256-gcm@openssh.com` | implied | AEAD (RFC 5647) |
//! | `aes128-ctr`, `aes192-ctr`, `aes256-ctr` (RFC 4344) | `hmac-sha2-256`, `hmac-sha2-512` (RFC 6668) | encrypt-and-MAC (RFC 4253 §6.4) |
//! | same | `hmac-sha2-256-etm@openssh.com`, `hmac-sha2-512-etm@openssh.com` | encrypt-then-MAC (OpenSSH `PROTOCOL` §1.5) |
//!
//! Key exchange derives one [`DirectionKeys`] per direction (RFC 4253 §7.2) and calls
//! [`new_sealer`] for what it sends and [`new_opener`] for what it receives. For an
//! AEAD cipher the negotiated MAC is ignored. Key material is zeroized on drop, and so
//! is the AES-CTR state; ring's keys look after themselves. ChaCha20-Poly1305 and
//! AES-GCM come from ring, AES-CTR from RustCrypto, HMAC from ring; MACs are
//! compared in constant time.
//!
//! The crate does no I/O and needs no randomness (padding is filled by the encoder's
//! caller).
//!
//! ```
//! use sisu_cipher::{new_opener, new_sealer, CipherAlg, DirectionKeys, MacAlg};
//! use sisu_wire::packet::{PacketDecoder, PacketEncoder};
//!
//! let cipher = CipherAlg::from_name("aes256-ctr").unwrap();
//! let mac = MacAlg::from_name("hmac-sha2-256-etm@openssh.com");
//! let keys = DirectionKeys { iv: vec![1; 16], key: vec![2; 32], mac_key: vec![3; 32] };
//!
//! let mut enc = PacketEncoder::new();
//! enc.set_sealer(new_sealer(cipher, mac, &keys).unwrap());
//! let mut wire = Vec::new();
//! enc.encode(b"\x05ssh-userauth", &mut |pad| pad.fill(0x5a), &mut wire).unwrap();
//! assert_eq!(wire.len(), 4 + 32 + 32); // length, one aligned body, HMAC-SHA256
//!
//! let mut dec = PacketDecoder::new();
//! dec.set_opener(new_opener(cipher, mac, &keys).unwrap());
//! dec.feed(&wire);
//! assert_eq!(dec.next_packet().unwrap(), Some((0, b"\x05ssh-userauth".to_vec())));
//!
//! // A flipped bit anywhere is refused.
//! let mut dec = PacketDecoder::new();
//! dec.set_opener(new_opener(cipher, mac, &keys).unwrap());
//! wire[10] ^= 1;
//! dec.feed(&wire);
//! assert!(dec.next_packet().is_err());
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod aes_ctr;
mod alg;
pub mod bench;
mod chacha;
mod ctr_hmac;
mod gcm;
mod keys;
pub mod legacy;
mod mac;

pub use alg::{CipherAlg, MacAlg};
pub use keys::{DirectionKeys, KeyPart, SuiteError};
pub use sisu_wire::packet::{Opener, PacketError, Sealer};

use aes_ctr::AesCtr;
use gcm::InvocationNonce;
use keys::{prefix, require_mac};
use mac::PacketMac;
use ring::aead::LessSafeKey;

/// `packet_length` from the first four bytes of `head` (0, which the decoder refuses,
/// if there are fewer).
pub(crate) fn read_length(head: &[u8]) -> u32 {
    head.first_chunk::<4>()
        .map_or(0, |b| u32::from_be_bytes(*b))
}

/// A suite's keyed state, before it is given a direction.
enum Material<'a> {
    Chacha(&'a [u8; chacha::CHACHA_KEY_LEN]),
    Gcm(Box<(LessSafeKey, InvocationNonce)>),
    CtrHmac(Box<(AesCtr, PacketMac, bool)>),
}

fn material<'a>(
    cipher: CipherAlg,
    mac: Option<MacAlg>,
    keys: &'a DirectionKeys,
) -> Result<Material<'a>, SuiteError> {
    let key = prefix(&keys.key, KeyPart::Key, cipher.key_len())?;
    let iv = prefix(&keys.iv, KeyPart::Iv, cipher.iv_len())?;
    // `prefix` has cut each part to the registry's length, so the conversions below
    // cannot fail; they map to an error anyway rather than panic.
    let short = |part, material: &[u8], need| SuiteError::ShortKey {
        part,
        need,
        got: material.len(),
    };
    Ok(match cipher {
        CipherAlg::Chacha20Poly1305 => Material::Chacha(
            key.try_into()
                .map_err(|_| short(KeyPart::Key, key, chacha::CHACHA_KEY_LEN))?,
        ),
        CipherAlg::Aes128Gcm | CipherAlg::Aes256Gcm => {
            let gcm_key = gcm::gcm_key(key).ok_or(short(KeyPart::Key, key, cipher.key_len()))?;
            let iv = iv
                .try_into()
                .map_err(|_| short(KeyPart::Iv, iv, gcm::IV_LEN))?;
            Material::Gcm(Box::new((gcm_key, InvocationNonce::new(iv))))
        }
        CipherAlg::Aes128Ctr | CipherAlg::Aes192Ctr | CipherAlg::Aes256Ctr => {
            let mac = require_mac(cipher, mac)?;
            let mac_key = prefix(&keys.mac_key, KeyPart::MacKey, mac.key_len())?;
            let ctr =
                AesCtr::new(cipher, key, iv).ok_or(short(KeyPart::Key, key, cipher.key_len()))?;
            Material::CtrHmac(Box::new((ctr, PacketMac::new(mac, mac_key), mac.is_etm())))
        }
    })
}

/// The [`Sealer`] for packets we send with `cipher` and `mac` under `keys`.
///
/// `mac` is ignored for AEAD ciphers ([`CipherAlg::is_aead`]) and required for the
/// others. Errors: [`SuiteError::MissingMac`], or [`SuiteError::ShortKey`] when a
/// part of `keys` is shorter than the algorithm needs (longer parts are cut, RFC 4253
/// §7.2).
pub fn new_sealer(
    cipher: CipherAlg,
    mac: Option<MacAlg>,
    keys: &DirectionKeys,
) -> Result<Box<dyn Sealer>, SuiteError> {
    Ok(match material(cipher, mac, keys)? {
        Material::Chacha(key) => Box::new(chacha::ChachaSealer::new(key)),
        Material::Gcm(parts) => {
            let (key, nonce) = *parts;
            Box::new(gcm::GcmSealer::new(key, nonce))
        }
        Material::CtrHmac(parts) => {
            let (ctr, mac, etm) = *parts;
            Box::new(ctr_hmac::CtrHmacSealer::new(ctr, mac, etm))
        }
    })
}

/// The [`Opener`] for packets we receive with `cipher` and `mac` under `keys`. The
/// same rules and errors as [`new_sealer`].
pub fn new_opener(
    cipher: CipherAlg,
    mac: Option<MacAlg>,
    keys: &DirectionKeys,
) -> Result<Box<dyn Opener>, SuiteError> {
    Ok(match material(cipher, mac, keys)? {
        Material::Chacha(key) => Box::new(chacha::ChachaOpener::new(key)),
        Material::Gcm(parts) => {
            let (key, nonce) = *parts;
            Box::new(gcm::GcmOpener::new(key, nonce))
        }
        Material::CtrHmac(parts) => {
            let (ctr, mac, etm) = *parts;
            Box::new(ctr_hmac::CtrHmacOpener::new(ctr, mac, etm))
        }
    })
}
