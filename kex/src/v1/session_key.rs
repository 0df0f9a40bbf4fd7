//! The SSH-1 session key: the session id, and the session key's double RSA
//! encryption (client) and decryption (server, or the monitor that holds the keys).
//!
//! - `session_id = MD5(host modulus ‖ server modulus ‖ cookie)`, each modulus as its
//!   minimal unsigned big-endian bytes (OpenSSH's `BN_bn2bin`).
//! - The client picks 32 random bytes, XORs the first 16 with the session id, reads
//!   the result as a big-endian integer and encrypts it with PKCS#1 v1.5 type 2
//!   padding under the key with the *smaller* modulus, then the ciphertext (again as
//!   a minimal big-endian integer) under the key with the larger one. The larger
//!   modulus must have at least [`SSH_KEY_BITS_RESERVED`] more bits.
//! - The server reverses both layers and the XOR.
//!
//! ```
//! use sisu_kex::v1::session_id;
//! let id = session_id(&[0xab; 128], &[0xcd; 96], &[1; 8]);
//! assert_eq!(id.len(), 16);
//! ```

use super::V1Error;
use md5::{Digest, Md5};
use rand_core::CryptoRngCore;
use rsa::hazmat::{rsa_decrypt_and_check, rsa_encrypt};
use rsa::traits::PublicKeyParts;
use rsa::{BigUint, RsaPrivateKey, RsaPublicKey};
use subtle::{Choice, ConditionallySelectable, ConstantTimeEq, ConstantTimeGreater};
use zeroize::{Zeroize, Zeroizing};

/// Bits the larger modulus must have beyond the smaller (OpenSSH's
/// `SSH_KEY_BITS_RESERVED`): room for the inner ciphertext and its padding.
pub const SSH_KEY_BITS_RESERVED: usize = 128;
/// Bytes of the session key.
pub const SESSION_KEY_LEN: usize = 32;
/// Bytes of the session id.
pub const SESSION_ID_LEN: usize = 16;
/// Smallest modulus accepted, in bits (OpenSSH refuses a session id over less).
pub const MIN_MODULUS_BITS: usize = 512;
/// Largest modulus accepted, in bits (OpenSSH's 2048-byte session-id buffers; the
/// `rsa` crate's own limit is lower, 4096).
pub const MAX_MODULUS_BITS: usize = 16384;
/// PKCS#1 v1.5: `00 02`, at least 8 bytes of padding, `00`.
const PKCS1_OVERHEAD: usize = 11;

/// The session id: MD5 of the host modulus, the server modulus and the cookie. The
/// moduli are unsigned big-endian magnitudes; leading zero bytes are dropped.
pub fn session_id(host_n: &[u8], server_n: &[u8], cookie: &[u8; 8]) -> [u8; 16] {
    let strip = |m: &[u8]| -> usize { m.iter().position(|&b| b != 0).unwrap_or(m.len()) };
    let mut h = Md5::new();
    h.update(&host_n[strip(host_n)..]);
    h.update(&server_n[strip(server_n)..]);
    h.update(cookie);
    let mut id = [0u8; SESSION_ID_LEN];
    id.copy_from_slice(&h.finalize());
    id
}

/// The session id of two keys.
pub fn session_id_of(host: &RsaPublicKey, server: &RsaPublicKey, cookie: &[u8; 8]) -> [u8; 16] {
    session_id(&host.n().to_bytes_be(), &server.n().to_bytes_be(), cookie)
}

/// Checks that two keys can carry a session key: each modulus within
/// [`MIN_MODULUS_BITS`]..=[`MAX_MODULUS_BITS`], the larger at least
/// [`SSH_KEY_BITS_RESERVED`] bits above the smaller.
pub fn check_key_sizes(host: &RsaPublicKey, server: &RsaPublicKey) -> Result<(), V1Error> {
    let (hb, sb) = (host.n().bits(), server.n().bits());
    for b in [hb, sb] {
        if !(MIN_MODULUS_BITS..=MAX_MODULUS_BITS).contains(&b) {
            return Err(V1Error::BadKey("modulus size out of range"));
        }
    }
    let (larger, smaller) = (hb.max(sb), hb.min(sb));
    if larger < smaller + SSH_KEY_BITS_RESERVED {
        return Err(V1Error::KeySizes { larger, smaller });
    }
    Ok(())
}

fn byte_len(key: &impl PublicKeyParts) -> usize {
    key.n().bits().div_ceil(8)
}

/// PKCS#1 v1.5 type 2 padding of `m` to the key's size, then raw RSA.
fn pad_and_encrypt(
    key: &RsaPublicKey,
    m: &[u8],
    rng: &mut dyn CryptoRngCore,
) -> Result<BigUint, V1Error> {
    let k = byte_len(key);
    if m.len() + PKCS1_OVERHEAD > k {
        return Err(V1Error::BadKey("modulus too small for the message"));
    }
    let mut em = Zeroizing::new(vec![0u8; k]);
    em[1] = 2;
    let ps_end = k - m.len() - 1;
    for b in &mut em[2..ps_end] {
        let mut x = [0u8; 1];
        while x[0] == 0 {
            rng.fill_bytes(&mut x);
        }
        *b = x[0];
    }
    em[ps_end + 1..].copy_from_slice(m);
    rsa_encrypt(key, &BigUint::from_bytes_be(&em)).map_err(|_| V1Error::BadKey("RSA encryption"))
}

/// Minimal big-endian bytes (OpenSSH's `BN_bn2bin`; zero is no bytes).
fn minimal(v: &[u8]) -> &[u8] {
    &v[v.iter().position(|&b| b != 0).unwrap_or(v.len())..]
}

/// Client: the `SSH_CMSG_SESSION_KEY` integer for `session_key`, as an unsigned
/// big-endian magnitude. Fails only for keys [`check_key_sizes`] refuses.
pub fn encrypt_session_key(
    host: &RsaPublicKey,
    server: &RsaPublicKey,
    session_key: &[u8; 32],
    session_id: &[u8; 16],
    rng: &mut dyn CryptoRngCore,
) -> Result<Vec<u8>, V1Error> {
    check_key_sizes(host, server)?;
    let mut m = Zeroizing::new(*session_key);
    for (b, s) in m.iter_mut().zip(session_id) {
        *b ^= s;
    }
    // The smaller modulus first (the host key when they are equal, which
    // check_key_sizes refuses anyway).
    let (inner, outer) = if server.n() < host.n() {
        (server, host)
    } else {
        (host, server)
    };
    let c1 = Zeroizing::new(pad_and_encrypt(inner, minimal(&m[..]), rng)?.to_bytes_be());
    let c2 = pad_and_encrypt(outer, minimal(&c1), rng)?;
    Ok(c2.to_bytes_be())
}

/// `value` as exactly `k` big-endian bytes (zeros if it does not fit, which the
/// callers' values never do: they are below a `k`-byte modulus).
fn fixed(value: &BigUint, k: usize) -> Zeroizing<Vec<u8>> {
    let mut b = value.to_bytes_be();
    let mut out = Zeroizing::new(vec![0u8; k]);
    if b.len() <= k {
        out[k - b.len()..].copy_from_slice(&b);
    }
    b.zeroize();
    out
}

/// Constant-time PKCS#1 v1.5 type 2 check of `em` (`k` bytes): whether it is
/// `00 02 PS 00 M` with at least 8 nonzero PS bytes, and the index of the `00`
/// ending PS. Every byte is read and no branch depends on them.
fn unpad(em: &[u8]) -> (Choice, u32) {
    let mut ok = em.first().map_or(Choice::from(0), |b| b.ct_eq(&0))
        & em.get(1).map_or(Choice::from(0), |b| b.ct_eq(&2));
    let mut found = Choice::from(0);
    let mut sep = 0u32;
    for (i, b) in em.iter().enumerate().skip(2) {
        let zero = b.ct_eq(&0);
        sep.conditional_assign(&(i as u32), zero & !found);
        found |= zero;
    }
    ok &= found & sep.ct_gt(&(1 + 8));
    (ok, sep)
}

/// Zeroes `em[..=sep]` in constant time, leaving the message as the low bytes.
fn keep_message(em: &mut [u8], sep: u32) {
    for (i, b) in em.iter_mut().enumerate() {
        let keep = (i as u32).ct_gt(&sep);
        *b = u8::conditional_select(&0, b, keep);
    }
}

/// Constant-time `a < b` for big-endian byte strings of the same length.
fn ct_less(a: &[u8], b: &[u8]) -> Choice {
    let mut lt = Choice::from(0);
    let mut decided = Choice::from(0);
    for (x, y) in a.iter().zip(b) {
        let (x, y) = (u16::from(*x), u16::from(*y));
        lt |= !decided & y.ct_gt(&x);
        decided |= !x.ct_eq(&y);
    }
    lt
}

/// One layer: raw RSA (blinded, result checked) then the padding check. Returns the
/// padded block with everything but the message zeroed, and whether it was valid.
fn open_layer(
    key: &RsaPrivateKey,
    c: &BigUint,
    rng: &mut dyn CryptoRngCore,
) -> (Zeroizing<Vec<u8>>, Choice, u32) {
    let k = byte_len(key);
    // c < n is public (the ciphertext is the peer's); a larger one (or a fault the
    // check catches) takes the same steps on a zero block, which fails the padding.
    let (m, ok) = match rsa_decrypt_and_check(key, Some(rng), c) {
        Ok(m) => (fixed(&m, k), Choice::from(1)),
        Err(_) => (Zeroizing::new(vec![0u8; k]), Choice::from(0)),
    };
    let mut m = m;
    let (valid, sep) = unpad(&m);
    keep_message(&mut m, sep);
    (m, ok & valid, sep)
}

/// Server (or its monitor): the session key from the `SSH_CMSG_SESSION_KEY` integer.
///
/// **Never an error, never an oracle** (CVE-2001-0361, Bleichenbacher's attack on
/// PKCS#1 v1.5): whether the padding of either layer is right, whether the inner
/// ciphertext is below the inner modulus, and whether the message is at most 32
/// bytes are computed with `subtle` (no branch on the decrypted data) and combined
/// into one flag; the result is chosen between the real key and 32 fresh random
/// bytes with a constant-time select, after the same steps either way. A bad key
/// therefore shows only later and the same way as a wrong key: the client's first
/// encrypted packet fails with "Corrupted check bytes on input.".
///
/// **Limits.** The RSA arithmetic is `num-bigint-dig`'s, which is not constant
/// time; each private operation is blinded with a fresh random factor
/// (`rsa::hazmat::rsa_decrypt_and_check`, which also re-encrypts to catch faults),
/// so its timing does not follow the attacker's chosen ciphertext. Converting the
/// outer layer's message back into an integer for the inner layer, and each result
/// into bytes, takes time that depends on its count of leading zero bytes (a few
/// nanoseconds per byte, under the noise of the modular exponentiations). Nothing
/// here is done in a way the caller can observe apart from time.
pub fn decrypt_session_key(
    host: &RsaPrivateKey,
    server: &RsaPrivateKey,
    encrypted: &[u8],
    session_id: &[u8; 16],
    rng: &mut dyn CryptoRngCore,
) -> Zeroizing<[u8; 32]> {
    let mut random = Zeroizing::new([0u8; SESSION_KEY_LEN]);
    rng.fill_bytes(&mut random[..]);
    // The larger modulus first (the server key when it is larger, as sshd).
    let (outer, inner) = if server.n() > host.n() {
        (server, host)
    } else {
        (host, server)
    };
    let sizes_ok = Choice::from(u8::from(
        check_key_sizes(&host.to_public_key(), &server.to_public_key()).is_ok(),
    ));
    let c = BigUint::from_bytes_be(encrypted);
    let (m1, ok1, _) = open_layer(outer, &c, rng);
    // The inner ciphertext must be below the inner modulus: compared at the outer
    // size, in constant time; a bad one is swapped for 0 before going on.
    let k1 = m1.len();
    let n2 = fixed(inner.n(), k1);
    let below = ct_less(&m1, &n2);
    let ok12 = ok1 & below;
    let mut c2_bytes = Zeroizing::new(vec![0u8; k1]);
    for (d, s) in c2_bytes.iter_mut().zip(m1.iter()) {
        *d = u8::conditional_select(&0, s, ok12);
    }
    let c2 = BigUint::from_bytes_be(&c2_bytes);
    let (m2, ok3, sep2) = open_layer(inner, &c2, rng);
    let k2 = m2.len();
    // At most 32 bytes of message: the separator is at k2 - 33 or later.
    let short = (sep2 + 1 + SESSION_KEY_LEN as u32).ct_gt(&(k2 as u32 - 1));
    let valid = sizes_ok & ok12 & ok3 & short;
    let mut key = Zeroizing::new([0u8; SESSION_KEY_LEN]);
    let tail = &m2[k2.saturating_sub(SESSION_KEY_LEN)..];
    let off = SESSION_KEY_LEN - tail.len();
    key[off..].copy_from_slice(tail);
    for (b, s) in key.iter_mut().zip(session_id) {
        *b ^= s;
    }
    let mut out = Zeroizing::new([0u8; SESSION_KEY_LEN]);
    for ((o, k), r) in out.iter_mut().zip(key.iter()).zip(random.iter()) {
        *o = u8::conditional_select(r, k, valid);
    }
    out
}

#[cfg(test)]
pub(crate) mod tests;
