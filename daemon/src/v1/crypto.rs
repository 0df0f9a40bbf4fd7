//! The cryptography the monitor does for protocol 1, through the protocol crates: the
//! session key's decryption and the RSA challenge.

use rsa::RsaPrivateKey;
use sisu_userauth::v1::rsa_challenge;
use ssh_key::PublicKey;
use zeroize::Zeroizing;

/// The session key (see `sisu_kex::v1::decrypt_session_key`: constant-time unpadding,
/// random key material on bad padding).
pub fn decrypt_session_key(
    host: &RsaPrivateKey,
    server: &RsaPrivateKey,
    encrypted: &[u8],
    session_id: &[u8; 16],
) -> Zeroizing<[u8; 32]> {
    sisu_kex::v1::decrypt_session_key(host, server, encrypted, session_id, &mut rand_core::OsRng)
}

/// A new challenge for `key` (an RSA key): the challenge and its encryption; `None`
/// for a key protocol 1 cannot use (its size).
pub fn new_challenge(key: &PublicKey) -> Option<(Zeroizing<[u8; 32]>, Vec<u8>)> {
    let rsa = key.key_data().rsa()?;
    let public =
        rsa_challenge::public_key(rsa.e.as_positive_bytes()?, rsa.n.as_positive_bytes()?).ok()?;
    rsa_challenge::new_challenge(&public, &mut rand_core::OsRng).ok()
}

/// Whether `got` is the right answer to `challenge` in session `session_id`
/// (constant time).
pub fn response_matches(challenge: &[u8; 32], session_id: &[u8; 16], got: &[u8; 16]) -> bool {
    let expected = rsa_challenge::expected_response(challenge, session_id);
    rsa_challenge::response_matches(&expected, got)
}
