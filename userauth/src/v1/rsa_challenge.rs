//! The RSA challenge of SSH-1 (`auth-rsa.c`), as pure functions for the party that
//! holds the challenge (the monitor, under privilege separation):
//! [`new_challenge`] makes one and encrypts it with the user's (or the client host's)
//! key, [`expected_response`] is what the client must answer, and
//! [`response_matches`] compares in constant time. [`respond`] is the client's side.
//!
//! The challenge is 256 random bits with the top bit set, as OpenSSH's
//! `BN_rand(challenge, 256, 0, 0)` makes it: the client (`sshconnect1.c`,
//! `respond_to_rsa_challenge`) refuses a decrypted challenge of 0 or more than 32
//! bytes, and pads a shorter one with zeros in front to 32 bytes before hashing; a
//! full 32-byte challenge needs no padding on either side. It is encrypted with
//! PKCS#1 v1.5 type 2 padding (`rsa_public_encrypt`). The response is
//! `MD5(challenge[32] || session_id[16])`.
//!
//! ```
//! use sisu_userauth::v1::rsa_challenge::{expected_response, new_challenge, respond, response_matches};
//! use rsa::{rand_core::OsRng, RsaPrivateKey};
//!
//! let key = RsaPrivateKey::new(&mut OsRng, 1024).unwrap();
//! let session_id = [7u8; 16];
//! let (challenge, encrypted) = new_challenge(&key.to_public_key(), &mut OsRng).unwrap();
//! let response = respond(&encrypted, &key, &session_id).unwrap(); // the client
//! assert!(response_matches(&expected_response(&challenge, &session_id), &response));
//! ```

use super::{MAX_MODULUS_BITS, MIN_MODULUS_BITS};
use md5::{Digest, Md5};
use rsa::rand_core::CryptoRngCore;
use rsa::traits::PublicKeyParts;
use rsa::{BigUint, Pkcs1v15Encrypt, RsaPrivateKey, RsaPublicKey};
use std::fmt;
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

/// Length of the challenge, in bytes (256 bits).
pub const CHALLENGE_LEN: usize = 32;

/// Length of the SSH-1 session id (MD5 of the host and server key moduli and the
/// cookie), in bytes.
pub const SESSION_ID_LEN: usize = 16;

/// Length of the response, in bytes (an MD5 digest).
pub const RESPONSE_LEN: usize = super::message::RESPONSE_LEN;

/// Why a challenge could not be made or answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChallengeError {
    /// The modulus has fewer than [`MIN_MODULUS_BITS`] or more than
    /// [`MAX_MODULUS_BITS`] bits.
    KeySize(usize),
    /// The key is not a valid RSA key (even modulus, bad exponent, …).
    BadKey,
    /// Encryption or decryption failed.
    Crypto,
    /// The decrypted challenge is 0 or longer than [`CHALLENGE_LEN`] bytes (what the
    /// OpenSSH client refuses).
    BadLength(usize),
}

impl fmt::Display for ChallengeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ChallengeError::KeySize(bits) => write!(
                f,
                "RSA key of {bits} bits (accepted: {MIN_MODULUS_BITS} to {MAX_MODULUS_BITS})"
            ),
            ChallengeError::BadKey => f.write_str("invalid RSA key"),
            ChallengeError::Crypto => f.write_str("RSA operation failed"),
            ChallengeError::BadLength(n) => write!(f, "bad challenge length {n}"),
        }
    }
}

impl std::error::Error for ChallengeError {}

/// An SSH-1 RSA public key from its exponent and modulus (big-endian), as
/// `authorized_keys` or `known_hosts` hold them, accepting moduli up to
/// [`MAX_MODULUS_BITS`] (the `rsa` crate's own `RsaPublicKey::new` stops at 4096) and
/// no smaller than [`MIN_MODULUS_BITS`].
pub fn public_key(exponent: &[u8], modulus: &[u8]) -> Result<RsaPublicKey, ChallengeError> {
    let n = BigUint::from_bytes_be(modulus);
    let bits = n.bits();
    if !(MIN_MODULUS_BITS..=MAX_MODULUS_BITS).contains(&bits) {
        return Err(ChallengeError::KeySize(bits));
    }
    RsaPublicKey::new_with_max_size(n, BigUint::from_bytes_be(exponent), MAX_MODULUS_BITS)
        .map_err(|_| ChallengeError::BadKey)
}

/// A new random challenge for `key`, and the integer to send in
/// `SSH_SMSG_AUTH_RSA_CHALLENGE` (the challenge PKCS#1 v1.5-encrypted with `key`,
/// big-endian): pass it to [`V1AuthServer::answer_rsa_key`](super::V1AuthServer::answer_rsa_key).
/// Keep the challenge (it is wiped when dropped) for [`expected_response`].
///
/// Refuses keys outside [`MIN_MODULUS_BITS`]..=[`MAX_MODULUS_BITS`].
pub fn new_challenge<R: CryptoRngCore>(
    key: &RsaPublicKey,
    rng: &mut R,
) -> Result<(Zeroizing<[u8; CHALLENGE_LEN]>, Vec<u8>), ChallengeError> {
    let bits = key.n().bits();
    if !(MIN_MODULUS_BITS..=MAX_MODULUS_BITS).contains(&bits) {
        return Err(ChallengeError::KeySize(bits));
    }
    let mut challenge = Zeroizing::new([0u8; CHALLENGE_LEN]);
    rng.fill_bytes(&mut challenge[..]);
    // Exactly 256 bits, as BN_rand(.., 256, 0, 0): never 0, never shorter.
    challenge[0] |= 0x80;
    let encrypted = key
        .encrypt(rng, Pkcs1v15Encrypt, &challenge[..])
        .map_err(|_| ChallengeError::Crypto)?;
    Ok((challenge, encrypted))
}

/// `MD5(challenge || session_id)`: the response a client holding the key sends.
pub fn expected_response(
    challenge: &[u8; CHALLENGE_LEN],
    session_id: &[u8; SESSION_ID_LEN],
) -> [u8; RESPONSE_LEN] {
    let mut md = Md5::new();
    md.update(challenge);
    md.update(session_id);
    md.finalize().into()
}

/// Whether the client's response is the expected one, compared in constant time.
pub fn response_matches(expected: &[u8; RESPONSE_LEN], got: &[u8; RESPONSE_LEN]) -> bool {
    expected.ct_eq(got).into()
}

/// The client's side (`respond_to_rsa_challenge`): decrypts the challenge with the
/// private key, refuses it unless it is 1 to [`CHALLENGE_LEN`] bytes once leading
/// zeros are dropped, pads it to 32 bytes and returns the response.
///
/// For tests and tools: the `rsa` crate 0.9 decrypts without blinding here and its
/// PKCS#1 v1.5 decryption is not constant-time (RUSTSEC-2023-0071), so a hostile server
/// could use a long-lived client as an oracle.
pub fn respond(
    encrypted: &[u8],
    key: &RsaPrivateKey,
    session_id: &[u8; SESSION_ID_LEN],
) -> Result<[u8; RESPONSE_LEN], ChallengeError> {
    let plain = Zeroizing::new(
        key.decrypt(Pkcs1v15Encrypt, encrypted)
            .map_err(|_| ChallengeError::Crypto)?,
    );
    let start = plain.iter().position(|&b| b != 0).unwrap_or(plain.len());
    let len = plain.len() - start;
    if len == 0 || len > CHALLENGE_LEN {
        return Err(ChallengeError::BadLength(len));
    }
    let mut buf = Zeroizing::new([0u8; CHALLENGE_LEN]);
    buf[CHALLENGE_LEN - len..].copy_from_slice(&plain[start..]);
    Ok(expected_response(&buf, session_id))
}
