//! Host keys: the server's signature over the exchange hash, and the client's check.

use crate::hostkey_alg::HostKeyAlg;
use rand_core::CryptoRngCore;
use signature::{RandomizedSigner, SignatureEncoding, Signer, Verifier};
use ssh_key::{Algorithm, EcdsaCurve, HashAlg, PrivateKey, PublicKey, Signature};
use std::fmt;

/// Why a host key could not be used or a signature did not verify.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostKeyError(pub String);

impl fmt::Display for HostKeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for HostKeyError {}

/// A server host key, ready to sign exchange hashes.
pub struct HostKey {
    key: PrivateKey,
    public_blob: Vec<u8>,
    algorithms: &'static [HostKeyAlg],
}

impl fmt::Debug for HostKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HostKey")
            .field("algorithm", &self.key.algorithm().as_str())
            .finish_non_exhaustive()
    }
}

impl HostKey {
    /// Wraps a decrypted private key of a supported type.
    pub fn new(key: PrivateKey) -> Result<Self, HostKeyError> {
        if key.is_encrypted() {
            return Err(HostKeyError("host key is encrypted".into()));
        }
        let algorithms: &'static [HostKeyAlg] = match key.algorithm() {
            Algorithm::Ed25519 => &[HostKeyAlg::Ed25519],
            Algorithm::Ecdsa {
                curve: EcdsaCurve::NistP256,
            } => &[HostKeyAlg::EcdsaP256],
            Algorithm::Ecdsa {
                curve: EcdsaCurve::NistP384,
            } => &[HostKeyAlg::EcdsaP384],
            Algorithm::Ecdsa {
                curve: EcdsaCurve::NistP521,
            } => &[HostKeyAlg::EcdsaP521],
            Algorithm::Rsa { .. } => &[HostKeyAlg::RsaSha512, HostKeyAlg::RsaSha256],
            other => {
                return Err(HostKeyError(format!(
                    "unsupported host key type {}",
                    other.as_str()
                )))
            }
        };
        let public_blob = key
            .public_key()
            .to_bytes()
            .map_err(|e| HostKeyError(e.to_string()))?;
        Ok(HostKey {
            key,
            public_blob,
            algorithms,
        })
    }

    /// The signature algorithms this key can serve.
    pub fn algorithms(&self) -> &'static [HostKeyAlg] {
        self.algorithms
    }

    /// The public key.
    pub fn public_key(&self) -> &PublicKey {
        self.key.public_key()
    }

    /// The public key blob `K_S` (RFC 4253 §6.6).
    pub fn public_blob(&self) -> &[u8] {
        &self.public_blob
    }

    /// Signs `data` with `alg`, returning the signature blob
    /// (`string algorithm ‖ string signature`).
    pub fn sign(
        &self,
        alg: HostKeyAlg,
        data: &[u8],
        rng: &mut dyn CryptoRngCore,
    ) -> Result<Vec<u8>, HostKeyError> {
        if !self.algorithms.contains(&alg) {
            return Err(HostKeyError(format!(
                "{} cannot sign with this key",
                alg.name()
            )));
        }
        let err = |e: &dyn fmt::Display| HostKeyError(format!("signing failed: {e}"));
        let sig: Signature = match (alg, self.key.key_data().rsa()) {
            (HostKeyAlg::RsaSha256 | HostKeyAlg::RsaSha512, Some(rsa_key)) => {
                let mut rng = rng;
                let (bytes, hash) = if alg == HostKeyAlg::RsaSha256 {
                    let k = rsa::pkcs1v15::SigningKey::<sha2::Sha256>::new(rsa_private(rsa_key)?);
                    let s = k.try_sign_with_rng(&mut rng, data).map_err(|e| err(&e))?;
                    (s.to_vec(), HashAlg::Sha256)
                } else {
                    let k = rsa::pkcs1v15::SigningKey::<sha2::Sha512>::new(rsa_private(rsa_key)?);
                    let s = k.try_sign_with_rng(&mut rng, data).map_err(|e| err(&e))?;
                    (s.to_vec(), HashAlg::Sha512)
                };
                Signature::new(Algorithm::Rsa { hash: Some(hash) }, bytes).map_err(|e| err(&e))?
            }
            _ => self.key.try_sign(data).map_err(|e| err(&e))?,
        };
        Vec::<u8>::try_from(sig).map_err(|e| err(&e))
    }
}

/// Builds the `rsa` crate's private key from ssh-key's. ssh-key 0.6.7's own conversion
/// passes the prime `p` twice (instead of `p` and `q`), which makes every RSA signature
/// fail; this one passes both primes and precomputes the CRT values.
fn rsa_private(k: &ssh_key::private::RsaKeypair) -> Result<rsa::RsaPrivateKey, HostKeyError> {
    let big = |m: &ssh_key::Mpint| -> Result<rsa::BigUint, HostKeyError> {
        m.as_positive_bytes()
            .map(rsa::BigUint::from_bytes_be)
            .ok_or_else(|| HostKeyError("RSA key component is not positive".into()))
    };
    let mut key = rsa::RsaPrivateKey::from_components(
        big(&k.public.n)?,
        big(&k.public.e)?,
        big(&k.private.d)?,
        vec![big(&k.private.p)?, big(&k.private.q)?],
    )
    .map_err(|e| HostKeyError(format!("bad RSA key: {e}")))?;
    key.precompute()
        .map_err(|e| HostKeyError(format!("bad RSA key: {e}")))?;
    Ok(key)
}

/// Verifies a signature blob over `data` made by the key in `public_blob` with `alg`.
pub fn verify(
    public_blob: &[u8],
    alg: HostKeyAlg,
    data: &[u8],
    signature_blob: &[u8],
) -> Result<PublicKey, HostKeyError> {
    let key = PublicKey::from_bytes(public_blob)
        .map_err(|e| HostKeyError(format!("bad host key: {e}")))?;
    if key.algorithm().as_str() != alg.key_type() {
        return Err(HostKeyError(
            "host key type does not match algorithm".into(),
        ));
    }
    let sig = Signature::try_from(signature_blob)
        .map_err(|e| HostKeyError(format!("bad signature: {e}")))?;
    if sig.algorithm().as_str() != alg.name() {
        return Err(HostKeyError(format!(
            "signature algorithm {} does not match {}",
            sig.algorithm().as_str(),
            alg.name()
        )));
    }
    Verifier::verify(&key, data, &sig).map_err(|_| HostKeyError("signature incorrect".into()))?;
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_core::OsRng;

    #[test]
    fn sign_and_verify_each_type() {
        let mut rng = OsRng;
        for alg in [
            Algorithm::Ed25519,
            Algorithm::Ecdsa {
                curve: EcdsaCurve::NistP256,
            },
            Algorithm::Ecdsa {
                curve: EcdsaCurve::NistP384,
            },
        ] {
            let hk = HostKey::new(PrivateKey::random(&mut rng, alg).unwrap()).unwrap();
            for a in hk.algorithms() {
                let sig = hk.sign(*a, b"exchange hash", &mut rng).unwrap();
                verify(hk.public_blob(), *a, b"exchange hash", &sig).unwrap();
                assert!(verify(hk.public_blob(), *a, b"other hash", &sig).is_err());
            }
        }
    }
}
