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
//! | same | `umac-128@openssh.com`, `umac-128-etm@openssh.com` (RFC 4418) | either order |
//! | legacy ([`legacy`]): `aes*-cbc`, `rijndael-cbc@lysator.liu.se`, `3des-cbc`, `blowfish-cbc`, `cast128-cbc`, `arcfour`, `arcfour128`, `arcfour256` | legacy: `hmac-sha1(-96)`, `hmac-md5(-96)`, `hmac-ripemd160(@openssh.com)`, `umac-64@openssh.com`, and the `-etm@openssh.com` form of each | either order |
//!
//! Every cipher combines with every MAC. [`CipherAlg::DEFAULT`] and
//! [`MacAlg::DEFAULT`] are what a server offers unless configured; the legacy
//! algorithms are in [`CipherAlg::ALL`] / [`MacAlg::ALL`] (so a configuration can
//! enable them) but never in the defaults. Protocol 1's ciphers (`3des`, `blowfish`,
//! `des`) have their own small API in [`v1`].
//!
//! Key exchange derives one [`DirectionKeys`] per direction (RFC 4253 §7.2) and calls
//! [`new_sealer`] for what it sends and [`new_opener`] for what it receives. For an
//! AEAD cipher the negotiated MAC is ignored. MACs and tags are compared in constant
//! time.
//!
//! ## Handing a suite to another process
//!
//! A sealer or opener gives its running state with [`Sealer::stream_state`] /
//! [`Opener::stream_state`]; [`restore_sealer`] / [`restore_opener`] rebuild the suite
//! from the direction's derived keys and that state, and it goes on exactly where the
//! other stopped (the next packet is sealed or opened as it would have been). The
//! state is the position in the key stream only; the keys themselves are the caller's
//! (key exchange keeps the [`DirectionKeys`]):
//!
//! | suite | exported [`StreamState`] |
//! |---|---|
//! | `chacha20-poly1305@openssh.com` | empty: the nonce is the sequence number |
//! | `aes*-gcm@openssh.com` | the invocation counter of the next packet, `uint64` (the fixed field is the IV's) |
//! | `aes*-ctr` | the next counter block (16), the current keystream block (16) and how many of its bytes are unused (1) |
//! | CBC ciphers | the chaining block: the last ciphertext block (block size) |
//! | `arcfour*` | RC4's permutation and indices `S ‖ i ‖ j` (258) |
//! | every MAC | nothing: HMAC and UMAC take the sequence number per packet |
//!
//! RC4 is written by hand (in `legacy`) because no crate exports its state. A state
//! that does not fit the suite (wrong length, a counter tail index out of range, an
//! RC4 `S` that is not a permutation) is refused with [`SuiteError::BadStreamState`].
//!
//! ## Backends and zeroization
//!
//! The hot suites run on aws-lc-rs (AWS-LC's assembly: SIMD ChaCha20 and Poly1305,
//! AES-NI/VAES with carry-less multiplication for GCM and CTR, SHA-NI for SHA-1 and
//! SHA-256), everything else on RustCrypto; UMAC (RFC 4418) is hand-written (no
//! maintained crate has it) in the `umac` module, and so is RC4 (written by hand
//! because no crate exports its state). Every key, IV, MAC key and cipher state a sealer or opener
//! holds is wiped when it is dropped:
//!
//! | suite | backend | how it is zeroized on drop |
//! |---|---|---|
//! | [`DirectionKeys`] (all suites) | this crate | `ZeroizeOnDrop` (derive) |
//! | `chacha20-poly1305@openssh.com` | aws-lc-rs `aead::chacha20_poly1305_openssh` | K_1 and K_2 are aws-lc-rs `ChaCha20Key`s, which zeroize themselves in `Drop` |
//! | `aes128-gcm@openssh.com`, `aes256-gcm@openssh.com` | aws-lc-rs `aead::LessSafeKey` | the `EVP_AEAD_CTX` (key schedule, GHASH key) is freed with `EVP_AEAD_CTX_free`, and AWS-LC's `OPENSSL_free` cleanses every allocation; the nonce (fixed field, counter) is `ZeroizeOnDrop` here |
//! | `aes128-ctr`, `aes192-ctr`, `aes256-ctr` | aws-lc-rs `cipher::EncryptingKey` (CTR) | aws-lc-rs's `Drop` zeroizes both AES key schedules and each call's counter copy; our counter and keystream tail are `ZeroizeOnDrop` |
//! | `hmac-sha2-256`, `hmac-sha2-512`, `hmac-sha1` (+`-96`, `-etm`) | aws-lc-rs `hmac` | the keyed `HMAC_CTX` and each packet's copy of it are cleansed (`HMAC_CTX_cleanup` = `OPENSSL_cleanse`) in `Drop` |
//! | `hmac-md5`, `hmac-ripemd160` (+`-96`, `-etm`, `@openssh.com`) | RustCrypto `hmac` 0.13, `md-5` 0.11, `ripemd` 0.2 | `zeroize` features: the inner/outer hash cores and the block buffer are `ZeroizeOnDrop` |
//! | `umac-64@openssh.com`, `umac-128@openssh.com` | this crate, RustCrypto `aes` | derived keys wiped by `Umac`'s `Drop`; the AES key schedule is `ZeroizeOnDrop` (`aes`'s `zeroize`) |
//! | legacy CBC ciphers, protocol 1's ciphers ([`v1`]) | RustCrypto `aes`, `des`, `blowfish`, `cast5`, `cbc` | `zeroize` features: key schedules and chaining state are `ZeroizeOnDrop` |
//! | `arcfour*` | this crate (RC4 by hand: no crate exports its state) | `ZeroizeOnDrop` (derive) on the permutation and indices |
//!
//! The RustCrypto and in-crate types are checked at compile time (unit tests that
//! require `ZeroizeOnDrop`); for aws-lc-rs only the existence of its `Drop` can be
//! checked (`needs_drop`), the wiping itself is read from its source (1.19). **Not
//! covered**: the one-time Poly1305 key and state that aws-lc-rs derives per
//! chacha20-poly1305 packet live briefly on the stack and are not wiped; neither are
//! copies a caller makes of [`DirectionKeys`]' bytes, nor stack temporaries the
//! compiler leaves behind (no Rust library can promise that); packet plaintext is
//! not key material and is not wiped.
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
// No panics on a network path: tests (and doc examples) may unwrap, the library may not.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]
#![deny(missing_docs)]

mod aes_ctr;
mod alg;
pub mod bench;
mod body;
mod chacha;
mod composed;
mod gcm;
mod keys;
pub mod legacy;
mod mac;
mod umac;
#[cfg(feature = "v1")]
pub mod v1;

pub use alg::{CipherAlg, MacAlg, MacFamily};
pub use keys::{DirectionKeys, KeyPart, SuiteError};
pub use sisu_wire::packet::{Opener, PacketError, Sealer, StreamState};

use aes_ctr::AesCtr;
use aws_lc_rs::aead::LessSafeKey;
use body::{Direction, Transform};
use gcm::InvocationNonce;
use keys::{prefix, require_mac};
use mac::PacketMac;

/// `packet_length` from the first four bytes of `head` (0, which the decoder refuses,
/// if there are fewer).
pub(crate) fn read_length(head: &[u8]) -> u32 {
    head.first_chunk::<4>()
        .map_or(0, |b| u32::from_be_bytes(*b))
}

/// A suite's keyed state for one direction.
enum Material<'a> {
    Chacha(&'a [u8; chacha::CHACHA_KEY_LEN]),
    Gcm(Box<(LessSafeKey, InvocationNonce)>),
    Composed(Box<(Box<dyn Transform>, PacketMac, bool)>),
}

fn material<'a>(
    cipher: CipherAlg,
    mac: Option<MacAlg>,
    keys: &'a DirectionKeys,
    dir: Direction,
    state: Option<&StreamState>,
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
    let bad_state = SuiteError::BadStreamState(cipher.name());
    let state = state.map(StreamState::as_bytes);
    Ok(match cipher {
        CipherAlg::Chacha20Poly1305 => {
            if state.is_some_and(|s| !s.is_empty()) {
                return Err(bad_state);
            }
            Material::Chacha(
                key.try_into()
                    .map_err(|_| short(KeyPart::Key, key, chacha::CHACHA_KEY_LEN))?,
            )
        }
        CipherAlg::Aes128Gcm | CipherAlg::Aes256Gcm => {
            let gcm_key = gcm::gcm_key(key).ok_or(short(KeyPart::Key, key, cipher.key_len()))?;
            let iv = iv
                .try_into()
                .map_err(|_| short(KeyPart::Iv, iv, gcm::IV_LEN))?;
            let nonce = match state {
                None => InvocationNonce::new(iv),
                Some(s) => InvocationNonce::restore(iv, s).ok_or(bad_state)?,
            };
            Material::Gcm(Box::new((gcm_key, nonce)))
        }
        _ => {
            let mac = require_mac(cipher, mac)?;
            let mac_key = prefix(&keys.mac_key, KeyPart::MacKey, mac.key_len())?;
            let is_ctr = matches!(
                cipher,
                CipherAlg::Aes128Ctr | CipherAlg::Aes192Ctr | CipherAlg::Aes256Ctr
            );
            let transform: Box<dyn Transform> = match (is_ctr, state) {
                (true, None) => Box::new(AesCtr::new(cipher, key, iv).ok_or(short(
                    KeyPart::Key,
                    key,
                    cipher.key_len(),
                ))?),
                (true, Some(s)) => Box::new(AesCtr::restore(cipher, key, s).ok_or(bad_state)?),
                (false, None) => legacy::transform(cipher, key, iv, dir)
                    .ok_or(SuiteError::Unsupported(cipher.name()))?,
                (false, Some(s)) => {
                    legacy::restored_transform(cipher, key, s, dir).ok_or(bad_state)?
                }
            };
            let packet_mac =
                PacketMac::new(mac, mac_key).ok_or(SuiteError::Unsupported(mac.name()))?;
            Material::Composed(Box::new((transform, packet_mac, mac.is_etm())))
        }
    })
}

/// The [`Sealer`] for packets we send with `cipher` and `mac` under `keys`.
///
/// `mac` is ignored for AEAD ciphers ([`CipherAlg::is_aead`]) and required for the
/// others. Errors: [`SuiteError::MissingMac`], [`SuiteError::ShortKey`] when a part
/// of `keys` is shorter than the algorithm needs (longer parts are cut, RFC 4253
/// §7.2), or [`SuiteError::Unsupported`] for an algorithm this build left out.
pub fn new_sealer(
    cipher: CipherAlg,
    mac: Option<MacAlg>,
    keys: &DirectionKeys,
) -> Result<Box<dyn Sealer>, SuiteError> {
    sealer(cipher, mac, keys, None)
}

/// The [`Sealer`] that goes on where an exported one stopped: `keys` are the
/// direction's keys as derived (the initial IV, not the current chaining block), and
/// `state` is what [`Sealer::stream_state`] gave. The same errors as [`new_sealer`],
/// and [`SuiteError::BadStreamState`] for a state that does not fit the suite.
pub fn restore_sealer(
    cipher: CipherAlg,
    mac: Option<MacAlg>,
    keys: &DirectionKeys,
    state: &StreamState,
) -> Result<Box<dyn Sealer>, SuiteError> {
    sealer(cipher, mac, keys, Some(state))
}

/// The [`Opener`] that goes on where an exported one stopped (see
/// [`restore_sealer`]); `state` is what [`Opener::stream_state`] gave.
pub fn restore_opener(
    cipher: CipherAlg,
    mac: Option<MacAlg>,
    keys: &DirectionKeys,
    state: &StreamState,
) -> Result<Box<dyn Opener>, SuiteError> {
    opener(cipher, mac, keys, Some(state))
}

fn sealer(
    cipher: CipherAlg,
    mac: Option<MacAlg>,
    keys: &DirectionKeys,
    state: Option<&StreamState>,
) -> Result<Box<dyn Sealer>, SuiteError> {
    Ok(
        match material(cipher, mac, keys, Direction::Encrypt, state)? {
            Material::Chacha(key) => Box::new(chacha::ChachaSealer::new(key)),
            Material::Gcm(parts) => {
                let (key, nonce) = *parts;
                Box::new(gcm::GcmSealer::new(key, nonce))
            }
            Material::Composed(parts) => {
                let (body, mac, etm) = *parts;
                Box::new(composed::ComposedSealer::new(
                    body,
                    cipher.block_size(),
                    mac,
                    etm,
                ))
            }
        },
    )
}

/// The [`Opener`] for packets we receive with `cipher` and `mac` under `keys`. The
/// same rules and errors as [`new_sealer`].
pub fn new_opener(
    cipher: CipherAlg,
    mac: Option<MacAlg>,
    keys: &DirectionKeys,
) -> Result<Box<dyn Opener>, SuiteError> {
    opener(cipher, mac, keys, None)
}

fn opener(
    cipher: CipherAlg,
    mac: Option<MacAlg>,
    keys: &DirectionKeys,
    state: Option<&StreamState>,
) -> Result<Box<dyn Opener>, SuiteError> {
    Ok(
        match material(cipher, mac, keys, Direction::Decrypt, state)? {
            Material::Chacha(key) => Box::new(chacha::ChachaOpener::new(key)),
            Material::Gcm(parts) => {
                let (key, nonce) = *parts;
                Box::new(gcm::GcmOpener::new(key, nonce))
            }
            Material::Composed(parts) => {
                let (body, mac, etm) = *parts;
                Box::new(composed::ComposedOpener::new(
                    body,
                    cipher.block_size(),
                    mac,
                    etm,
                ))
            }
        },
    )
}
