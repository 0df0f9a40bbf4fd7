//! Post-quantum hybrids: a KEM combined with X25519, as OpenSSH's `PROTOCOL` and
//! draft-kampanakis-curdle-ssh-pq-ke / draft-josefsson-ntruprime-ssh describe them.
//!
//! ```text
//! C: SSH_MSG_KEX_HYBRID_INIT  (30)  string C_INIT  = KEM public key ‖ X25519 public key
//! S: SSH_MSG_KEX_HYBRID_REPLY (31)  string K_S, string S_REPLY = KEM ciphertext ‖ X25519
//!                                   public key, string signature
//! K = string(HASH(kem_shared_secret ‖ x25519_shared_secret))
//! ```
//!
//! `mlkem768x25519-sha256` uses ML-KEM-768 (FIPS 203, the `ml-kem` crate) and SHA-256;
//! `sntrup761x25519-sha512` uses Streamlined NTRU Prime 761 (the `sntrup761` crate) and
//! SHA-512. `K` is a `string`, not an `mpint`. Values of the wrong length, an ML-KEM
//! public key failing FIPS 203's modulus check (written here: the crate does not check)
//! and an all-zero X25519 result are refused.

use super::ecdh::{x25519_key_pair, x25519_shared, X25519_LEN};
use super::{Agreement, Ctx};
use crate::derive::HashAlg;
use crate::transport::TransportError;
use kem::{Decapsulate, Encapsulate};
use ml_kem::{EncodedSizeUser, KemCore, MlKem768};
use rand_core::CryptoRngCore;
use sisu_wire::Writer;
use x25519_dalek::StaticSecret;
use zeroize::Zeroizing;

/// ML-KEM-768 encapsulation key length.
pub const MLKEM768_PUBLIC_LEN: usize = 1184;
/// ML-KEM-768 ciphertext length.
pub const MLKEM768_CIPHERTEXT_LEN: usize = 1088;
/// sntrup761 public key length.
pub const SNTRUP761_PUBLIC_LEN: usize = sntrup761::PUBLIC_KEY_SIZE;
/// sntrup761 ciphertext length.
pub const SNTRUP761_CIPHERTEXT_LEN: usize = sntrup761::CIPHERTEXT_SIZE;

type MlKemDk = <MlKem768 as KemCore>::DecapsulationKey;
type MlKemEk = <MlKem768 as KemCore>::EncapsulationKey;

/// `K = string(HASH(kem ‖ x25519))`.
pub fn hybrid_secret(hash: HashAlg, kem: &[u8], x25519: &[u8]) -> Zeroizing<Vec<u8>> {
    let digest = Zeroizing::new(hash.digest(&[kem, x25519]));
    let mut w = Writer::with_capacity(digest.len() + 4);
    w.string(&digest);
    Zeroizing::new(w.into_vec())
}

/// FIPS 203 §7.2 modulus check: every 12-bit coefficient of the encoded vector is
/// below q = 3329.
pub fn mlkem_public_key_ok(ek: &[u8]) -> bool {
    if ek.len() != MLKEM768_PUBLIC_LEN {
        return false;
    }
    ek[..ek.len() - 32].chunks(3).all(|b| {
        let c0 = u16::from(b[0]) | (u16::from(b[1] & 0x0f) << 8);
        let c1 = u16::from(b[1] >> 4) | (u16::from(b[2]) << 4);
        c0 < 3329 && c1 < 3329
    })
}

fn split(v: &[u8], kem_len: usize, what: &str) -> Result<(Vec<u8>, Vec<u8>), TransportError> {
    if v.len() != kem_len + X25519_LEN {
        return Err(TransportError::kex(format!(
            "{what} of the wrong length: {} bytes, not {}",
            v.len(),
            kem_len + X25519_LEN
        )));
    }
    Ok((v[..kem_len].to_vec(), v[kem_len..].to_vec()))
}

/// The `mlkem768x25519-sha256` agreement.
#[derive(Default)]
pub struct MlKem768X25519 {
    secret: Option<(Box<MlKemDk>, StaticSecret)>,
}

impl Agreement for MlKem768X25519 {
    fn client_public(&mut self, rng: &mut dyn CryptoRngCore) -> Result<Vec<u8>, TransportError> {
        let mut rng = rng;
        let (dk, ek) = MlKem768::generate(&mut rng);
        let (x, xp) = x25519_key_pair(rng);
        let mut v = ek.as_bytes().to_vec();
        v.extend_from_slice(&xp);
        self.secret = Some((Box::new(dk), x));
        Ok(v)
    }

    fn server(
        &mut self,
        q_c: &[u8],
        ctx: &mut Ctx<'_>,
    ) -> Result<(Vec<u8>, Zeroizing<Vec<u8>>), TransportError> {
        let (ek, xc) = split(q_c, MLKEM768_PUBLIC_LEN, "mlkem768x25519 client value")?;
        if !mlkem_public_key_ok(&ek) {
            return Err(TransportError::kex(
                "ML-KEM public key fails the modulus check",
            ));
        }
        let encoded = ml_kem::Encoded::<MlKemEk>::try_from(&ek[..])
            .map_err(|_| TransportError::kex("ML-KEM public key of the wrong length"))?;
        let ek = MlKemEk::from_bytes(&encoded);
        let mut rng = &mut *ctx.rng;
        let (ct, ss) = ek
            .encapsulate(&mut rng)
            .map_err(|_| TransportError::kex("ML-KEM encapsulation failed"))?;
        let ss = Zeroizing::new(ss.to_vec());
        let (x, xp) = x25519_key_pair(ctx.rng);
        let xs = x25519_shared(&x, &xc)?;
        let mut q_s = ct.to_vec();
        q_s.extend_from_slice(&xp);
        Ok((q_s, hybrid_secret(HashAlg::Sha256, &ss, &xs[..])))
    }

    fn client_finish(&mut self, q_s: &[u8]) -> Result<Zeroizing<Vec<u8>>, TransportError> {
        let (dk, x) = self.secret.take().ok_or_else(|| {
            TransportError::out_of_sequence(sisu_wire::msg::SSH_MSG_KEX_ECDH_REPLY)
        })?;
        let (ct, xs) = split(q_s, MLKEM768_CIPHERTEXT_LEN, "mlkem768x25519 server value")?;
        let ct = ml_kem::Ciphertext::<MlKem768>::try_from(&ct[..])
            .map_err(|_| TransportError::kex("ML-KEM ciphertext of the wrong length"))?;
        let ss = dk
            .decapsulate(&ct)
            .map_err(|_| TransportError::kex("ML-KEM decapsulation failed"))?;
        let ss = Zeroizing::new(ss.to_vec());
        let shared = x25519_shared(&x, &xs)?;
        Ok(hybrid_secret(HashAlg::Sha256, &ss, &shared[..]))
    }
}

/// The `sntrup761x25519-sha512` agreement (both names).
#[derive(Default)]
pub struct Sntrup761X25519 {
    secret: Option<(Box<sntrup761::DecapsulationKey>, StaticSecret)>,
}

fn seed(rng: &mut dyn CryptoRngCore) -> Zeroizing<[u8; 32]> {
    let mut s = Zeroizing::new([0u8; 32]);
    rng.fill_bytes(&mut s[..]);
    s
}

impl Agreement for Sntrup761X25519 {
    fn client_public(&mut self, rng: &mut dyn CryptoRngCore) -> Result<Vec<u8>, TransportError> {
        let (ek, dk) = sntrup761::generate_key_from_seed(*seed(rng));
        let (x, xp) = x25519_key_pair(rng);
        let mut v = ek.as_ref().to_vec();
        v.extend_from_slice(&xp);
        self.secret = Some((Box::new(dk), x));
        Ok(v)
    }

    fn server(
        &mut self,
        q_c: &[u8],
        ctx: &mut Ctx<'_>,
    ) -> Result<(Vec<u8>, Zeroizing<Vec<u8>>), TransportError> {
        let (ek, xc) = split(q_c, SNTRUP761_PUBLIC_LEN, "sntrup761x25519 client value")?;
        let ek = sntrup761::EncapsulationKey::try_from(&ek[..])
            .map_err(|_| TransportError::kex("sntrup761 public key of the wrong length"))?;
        let (ct, ss) = ek.encapsulate_deterministic(*seed(ctx.rng));
        let (x, xp) = x25519_key_pair(ctx.rng);
        let xs = x25519_shared(&x, &xc)?;
        let mut q_s = ct.as_ref().to_vec();
        q_s.extend_from_slice(&xp);
        Ok((q_s, hybrid_secret(HashAlg::Sha512, ss.as_ref(), &xs[..])))
    }

    fn client_finish(&mut self, q_s: &[u8]) -> Result<Zeroizing<Vec<u8>>, TransportError> {
        let (dk, x) = self.secret.take().ok_or_else(|| {
            TransportError::out_of_sequence(sisu_wire::msg::SSH_MSG_KEX_ECDH_REPLY)
        })?;
        let (ct, xs) = split(
            q_s,
            SNTRUP761_CIPHERTEXT_LEN,
            "sntrup761x25519 server value",
        )?;
        let ct = sntrup761::Ciphertext::try_from(&ct[..])
            .map_err(|_| TransportError::kex("sntrup761 ciphertext of the wrong length"))?;
        let ss = dk.decapsulate(&ct);
        let shared = x25519_shared(&x, &xs)?;
        Ok(hybrid_secret(HashAlg::Sha512, ss.as_ref(), &shared[..]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_core::OsRng;

    #[test]
    fn modulus_check() {
        let (_, ek) = MlKem768::generate(&mut OsRng);
        let mut bytes = ek.as_bytes().to_vec();
        assert!(mlkem_public_key_ok(&bytes));
        // Coefficient 0 = 0xfff >= q.
        bytes[0] = 0xff;
        bytes[1] |= 0x0f;
        assert!(!mlkem_public_key_ok(&bytes));
        assert!(!mlkem_public_key_ok(&bytes[1..]));
    }

    #[test]
    fn hybrid_secret_is_a_string_of_the_digest() {
        let k = hybrid_secret(HashAlg::Sha256, b"kem", b"x");
        assert_eq!(&k[..4], &[0, 0, 0, 32]);
        assert_eq!(&k[4..], &HashAlg::Sha256.digest(&[b"kemx"])[..]);
    }
}
