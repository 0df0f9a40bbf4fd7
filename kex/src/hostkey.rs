//! Host keys: the server's signature over the exchange hash (RFC 4253 §8), and the
//! client's check.
//!
//! A [`HostKey`] is one key offered either as a plain key (`K_S` is its public key
//! blob) or, with [`HostKey::with_certificate`], through an OpenSSH host certificate
//! (`K_S` is the certificate blob, `PROTOCOL.certkeys`). Its private half is here
//! ([`HostKey::new`]), with an [`ExternalSigner`] ([`HostKey::external`]: an SSH agent,
//! say, asked synchronously from inside the key exchange), or nowhere in this process
//! ([`HostKey::public_only`]: the transport then pauses the exchange and asks its
//! caller with [`crate::Event::SignatureNeeded`], as a privilege-separated server's
//! network-facing child does, whose monitor holds the keys).
//!
//! The two ways of signing elsewhere coexist on purpose: an [`ExternalSigner`] answers
//! at once (an agent on a local socket, a test), which keeps the transport's caller
//! unchanged; the event suits a signer that answers later, over a channel the caller
//! drives (a monitor process). Both are verified against the key before the signature
//! goes out. Key types:
//! Ed25519, ECDSA P-256/384/521, RSA (rsa-sha2-512, rsa-sha2-256 and the legacy
//! SHA-1 `ssh-rsa`) and DSA (legacy `ssh-dss`). Key files as `ssh-keygen` writes them
//! are read by [`keyfile`]; certificates are read by [`cert`].
//!
//! `ssh-rsa` and `ssh-dss` (SHA-1) are compiled in with the crate's `legacy` feature
//! (on by default) and offered only when configured ([`HostKeyAlg::DEFAULT`] lacks them).
//!
//! RSA signatures are made and checked with the `rsa` crate directly: ssh-key 0.6.7's
//! RSA signing passes the prime `p` twice, and its `Signature` type has no room for
//! SHA-1 `ssh-rsa` signatures. The signature blob (`string name ‖ string sig`) is read
//! here, so trailing bytes are refused.
//!
//! ```
//! use sisu_kex::hostkey::{verify, HostKey};
//! use sisu_kex::HostKeyAlg;
//! use rand_core::OsRng;
//! let key = ssh_key::PrivateKey::random(&mut OsRng, ssh_key::Algorithm::Ed25519).unwrap();
//! let hk = HostKey::new(key).unwrap();
//! assert_eq!(hk.algorithms(), &[HostKeyAlg::Ed25519]);
//! let sig = hk.sign(HostKeyAlg::Ed25519, b"exchange hash", &mut OsRng).unwrap();
//! verify(hk.public_blob(), HostKeyAlg::Ed25519, b"exchange hash", &sig).unwrap();
//! assert!(verify(hk.public_blob(), HostKeyAlg::Ed25519, b"other", &sig).is_err());
//! ```

/// OpenSSH certificate blobs, read by the one reader the crates share.
pub use sisu_wire::cert;
pub mod keyfile;

use crate::hostkey_alg::HostKeyAlg;
use rand_core::CryptoRngCore;
use rsa::traits::PublicKeyParts;
use signature::{Signer, Verifier};
use sisu_wire::{Reader, Writer};
use ssh_key::{Algorithm, EcdsaCurve, PrivateKey, PublicKey, Signature};
use std::fmt;

/// Smallest RSA modulus accepted, in bits (OpenSSH's `SSH_RSA_MINIMUM_MODULUS_SIZE`).
pub const MIN_RSA_BITS: usize = 1024;
/// Largest RSA modulus accepted, in bits (OpenSSH's `SSHBUF_MAX_BIGNUM` is 16384).
pub const MAX_RSA_BITS: usize = 16384;

/// Why a host key could not be used or a signature did not verify.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostKeyError(pub String);

impl fmt::Display for HostKeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for HostKeyError {}

fn err(msg: impl Into<String>) -> HostKeyError {
    HostKeyError(msg.into())
}

/// Makes host-key signatures for a key whose private half is not in this process: an
/// SSH agent (`HostKeyAgent`), or another process that holds the keys.
///
/// The transport calls it from inside a key exchange and waits for the answer; the
/// signature it returns is verified before it is sent, so a confused or hostile
/// signer cannot make the server send a bad one.
pub trait ExternalSigner: Send + Sync {
    /// The signature blob (`string algorithm ‖ string signature`) over `data` with
    /// `alg`, by the key whose plain public key blob is `public_blob`.
    fn sign(
        &self,
        public_blob: &[u8],
        alg: HostKeyAlg,
        data: &[u8],
    ) -> Result<Vec<u8>, HostKeyError>;
}

/// Where a host key's private half is.
#[derive(Clone)]
enum Secret {
    /// Here, with the `rsa` crate's key built once (RSA keys only).
    Local {
        key: Box<PrivateKey>,
        rsa: Option<Box<rsa::RsaPrivateKey>>,
    },
    /// Elsewhere: signatures are asked of the signer.
    External(std::sync::Arc<dyn ExternalSigner>),
    /// Not reachable from here at all: the transport asks its caller
    /// (`Event::SignatureNeeded`).
    None,
}

/// A server host key, ready to sign exchange hashes.
#[derive(Clone)]
pub struct HostKey {
    secret: Secret,
    public: PublicKey,
    /// `K_S`: the public key blob, or the certificate blob.
    public_blob: Vec<u8>,
    /// The plain public key blob (equal to `public_blob` without a certificate).
    plain_blob: Vec<u8>,
    algorithms: &'static [HostKeyAlg],
}

impl fmt::Debug for HostKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HostKey")
            .field("algorithm", &self.public.algorithm().as_str())
            .field("certificate", &self.is_certificate())
            .field("external", &matches!(self.secret, Secret::External(_)))
            .field("public_only", &matches!(self.secret, Secret::None))
            .finish_non_exhaustive()
    }
}

/// What an RSA key signs with: SHA-1 `ssh-rsa` only with the `legacy` feature.
#[cfg(feature = "legacy")]
const RSA_ALGS: &[HostKeyAlg] = &[
    HostKeyAlg::RsaSha512,
    HostKeyAlg::RsaSha256,
    HostKeyAlg::RsaSha1,
];
#[cfg(not(feature = "legacy"))]
const RSA_ALGS: &[HostKeyAlg] = &[HostKeyAlg::RsaSha512, HostKeyAlg::RsaSha256];
#[cfg(feature = "legacy")]
const RSA_CERT_ALGS: &[HostKeyAlg] = &[
    HostKeyAlg::RsaSha512Cert,
    HostKeyAlg::RsaSha256Cert,
    HostKeyAlg::RsaSha1Cert,
];
#[cfg(not(feature = "legacy"))]
const RSA_CERT_ALGS: &[HostKeyAlg] = &[HostKeyAlg::RsaSha512Cert, HostKeyAlg::RsaSha256Cert];

/// The plain algorithms of a key, or why it cannot be a host key.
fn plain_algorithms(key: &PublicKey) -> Result<&'static [HostKeyAlg], HostKeyError> {
    let algs: &'static [HostKeyAlg] = match key.algorithm() {
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
        Algorithm::Rsa { .. } => RSA_ALGS,
        #[cfg(feature = "legacy")]
        Algorithm::Dsa => &[HostKeyAlg::Dss],
        other => return Err(err(format!("unsupported host key type {}", other.as_str()))),
    };
    Ok(algs)
}

/// The certificate algorithms matching [`plain_algorithms`].
fn certificate_algorithms(plain: &[HostKeyAlg]) -> &'static [HostKeyAlg] {
    match plain.first() {
        Some(HostKeyAlg::Ed25519) => &[HostKeyAlg::Ed25519Cert],
        Some(HostKeyAlg::EcdsaP256) => &[HostKeyAlg::EcdsaP256Cert],
        Some(HostKeyAlg::EcdsaP384) => &[HostKeyAlg::EcdsaP384Cert],
        Some(HostKeyAlg::EcdsaP521) => &[HostKeyAlg::EcdsaP521Cert],
        Some(HostKeyAlg::RsaSha512) => RSA_CERT_ALGS,
        Some(HostKeyAlg::Dss) => &[HostKeyAlg::DssCert],
        _ => &[],
    }
}

impl HostKey {
    /// Wraps a decrypted private key of a supported type, offered as a plain key.
    pub fn new(key: PrivateKey) -> Result<Self, HostKeyError> {
        if key.is_encrypted() {
            return Err(err("host key is encrypted"));
        }
        let public = key.public_key().clone();
        let algorithms = plain_algorithms(&public)?;
        let rsa = match key.key_data().rsa() {
            Some(k) => Some(Box::new(rsa_private(k)?)),
            None => None,
        };
        let public_blob = public.to_bytes().map_err(|e| err(e.to_string()))?;
        Ok(HostKey {
            secret: Secret::Local {
                key: Box::new(key),
                rsa,
            },
            public,
            plain_blob: public_blob.clone(),
            public_blob,
            algorithms,
        })
    }

    /// A host key whose private half `signer` holds (an SSH agent, say): only the
    /// public key is here.
    pub fn external(
        public: PublicKey,
        signer: std::sync::Arc<dyn ExternalSigner>,
    ) -> Result<Self, HostKeyError> {
        let algorithms = plain_algorithms(&public)?;
        if let Some(k) = public.key_data().rsa() {
            check_rsa_size(rsa_bits(k))?;
        }
        let public_blob = public.to_bytes().map_err(|e| err(e.to_string()))?;
        Ok(HostKey {
            secret: Secret::External(signer),
            public,
            plain_blob: public_blob.clone(),
            public_blob,
            algorithms,
        })
    }

    /// A host key of which only the public half is here (a privilege-separated
    /// server's network-facing process): it cannot sign, and a [`crate::Transport`]
    /// serving it asks its caller for each signature with
    /// [`crate::Event::SignatureNeeded`]. It may be [`HostKey::certified`] as any other.
    pub fn public_only(public: PublicKey) -> Result<Self, HostKeyError> {
        let algorithms = plain_algorithms(&public)?;
        if let Some(k) = public.key_data().rsa() {
            check_rsa_size(rsa_bits(k))?;
        }
        let public_blob = public.to_bytes().map_err(|e| err(e.to_string()))?;
        Ok(HostKey {
            secret: Secret::None,
            public,
            plain_blob: public_blob.clone(),
            public_blob,
            algorithms,
        })
    }

    /// Whether [`HostKey::sign`] can sign here (a private key or an
    /// [`ExternalSigner`]); not for a [`HostKey::public_only`] key.
    pub fn can_sign(&self) -> bool {
        !matches!(self.secret, Secret::None)
    }

    /// Wraps a private key offered through its OpenSSH host certificate
    /// (`certificate` is the binary blob, as in the base64 field of `key-cert.pub`).
    /// The certificate must be a host certificate for this very key; its CA signature
    /// and validity are for the client to judge.
    pub fn with_certificate(key: PrivateKey, certificate: Vec<u8>) -> Result<Self, HostKeyError> {
        HostKey::new(key)?.certified(certificate)
    }

    /// This key offered through its OpenSSH host certificate (see
    /// [`HostKey::with_certificate`]), wherever its private half is.
    pub fn certified(&self, certificate: Vec<u8>) -> Result<Self, HostKeyError> {
        let c = parse_certificate(&certificate)?;
        if c.kind != cert::CertKind::Host {
            return Err(err("not a host certificate"));
        }
        if c.public_blob != self.plain_blob {
            return Err(err("certificate does not match the private key"));
        }
        Ok(HostKey {
            algorithms: certificate_algorithms(plain_algorithms(&self.public)?),
            public_blob: certificate,
            ..self.clone()
        })
    }

    /// The signature algorithms this key can serve (certificate algorithms for a
    /// certified key), best first.
    pub fn algorithms(&self) -> &'static [HostKeyAlg] {
        self.algorithms
    }

    /// Whether `K_S` is a certificate.
    pub fn is_certificate(&self) -> bool {
        self.public_blob != self.plain_blob
    }

    /// The private key, when it is held here (not for an [`HostKey::external`] key).
    pub fn private_key(&self) -> Option<&PrivateKey> {
        match &self.secret {
            Secret::Local { key, .. } => Some(key),
            Secret::External(_) | Secret::None => None,
        }
    }

    /// The (plain) public key.
    pub fn public_key(&self) -> &PublicKey {
        &self.public
    }

    /// The blob sent as `K_S` (RFC 4253 §6.6 and §8): the public key, or the
    /// certificate.
    pub fn public_blob(&self) -> &[u8] {
        &self.public_blob
    }

    /// The plain public key blob, even for a certified key (what `hostkeys-00@openssh.com`
    /// announces).
    pub fn plain_public_blob(&self) -> &[u8] {
        &self.plain_blob
    }

    /// Signs `data` with `alg` (a certificate algorithm signs as its plain one),
    /// returning the signature blob (`string algorithm ‖ string signature`).
    pub fn sign(
        &self,
        alg: HostKeyAlg,
        data: &[u8],
        rng: &mut dyn CryptoRngCore,
    ) -> Result<Vec<u8>, HostKeyError> {
        let plain = alg.plain();
        if !self.algorithms.iter().any(|a| a.plain() == plain) {
            return Err(err(format!("{} cannot sign with this key", alg.name())));
        }
        let fail = |e: &dyn fmt::Display| err(format!("signing failed: {e}"));
        let sig = match &self.secret {
            Secret::None => return Err(err("the private half of this host key is not here")),
            Secret::External(signer) => {
                let blob = signer.sign(&self.plain_blob, plain, data)?;
                // Checked before it goes out: only a good signature by this key.
                verify(&self.plain_blob, plain, data, &blob)
                    .map_err(|e| err(format!("the signer's signature is no good: {e}")))?;
                return Ok(blob);
            }
            Secret::Local { rsa: Some(k), .. } => {
                let (scheme, hashed) = rsa_scheme(plain, data)?;
                let mut rng = rng;
                k.sign_with_rng(&mut rng, scheme, &hashed)
                    .map_err(|e| fail(&e))?
            }
            Secret::Local { key, rsa: None } => {
                let sig: Signature = key.try_sign(data).map_err(|e| fail(&e))?;
                sig.as_bytes().to_vec()
            }
        };
        let mut w = Writer::new();
        w.str(plain.name()).string(&sig);
        Ok(w.into_vec())
    }
}

/// The PKCS#1 v1.5 scheme and the hashed data of an RSA signature algorithm.
fn rsa_scheme(alg: HostKeyAlg, data: &[u8]) -> Result<(rsa::Pkcs1v15Sign, Vec<u8>), HostKeyError> {
    use sha2::Digest;
    match alg {
        HostKeyAlg::RsaSha512 => Ok((
            rsa::Pkcs1v15Sign::new::<sha2::Sha512>(),
            sha2::Sha512::digest(data).to_vec(),
        )),
        HostKeyAlg::RsaSha256 => Ok((
            rsa::Pkcs1v15Sign::new::<sha2::Sha256>(),
            sha2::Sha256::digest(data).to_vec(),
        )),
        #[cfg(feature = "legacy")]
        HostKeyAlg::RsaSha1 => {
            // The DER DigestInfo prefix for SHA-1 (RFC 8017 §9.2, note 1).
            const SHA1_PREFIX: [u8; 15] = [
                0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a, 0x05, 0x00, 0x04,
                0x14,
            ];
            Ok((
                rsa::Pkcs1v15Sign {
                    hash_len: Some(20),
                    prefix: Box::new(SHA1_PREFIX),
                },
                sha1::Sha1::digest(data).to_vec(),
            ))
        }
        other => Err(err(format!("{} is not an RSA algorithm", other.name()))),
    }
}

/// Builds the `rsa` crate's private key from ssh-key's. ssh-key 0.6.7's own conversion
/// passes the prime `p` twice (instead of `p` and `q`), which makes every RSA signature
/// fail; this one passes both primes and precomputes the CRT values.
fn rsa_private(k: &ssh_key::private::RsaKeypair) -> Result<rsa::RsaPrivateKey, HostKeyError> {
    let big = |m: &ssh_key::Mpint| -> Result<rsa::BigUint, HostKeyError> {
        m.as_positive_bytes()
            .map(rsa::BigUint::from_bytes_be)
            .ok_or_else(|| err("RSA key component is not positive"))
    };
    let n = big(&k.public.n)?;
    check_rsa_size(n.bits())?;
    let mut key = rsa::RsaPrivateKey::from_components(
        n,
        big(&k.public.e)?,
        big(&k.private.d)?,
        vec![big(&k.private.p)?, big(&k.private.q)?],
    )
    .map_err(|e| err(format!("bad RSA key: {e}")))?;
    key.precompute()
        .map_err(|e| err(format!("bad RSA key: {e}")))?;
    Ok(key)
}

/// The modulus size of an RSA public key, in bits.
fn rsa_bits(k: &ssh_key::public::RsaPublicKey) -> usize {
    k.n.as_positive_bytes().map_or(0, |n| {
        n.first().map_or(0, |top| {
            (n.len() - 1) * 8 + 8 - top.leading_zeros() as usize
        })
    })
}

fn check_rsa_size(bits: usize) -> Result<(), HostKeyError> {
    if !(MIN_RSA_BITS..=MAX_RSA_BITS).contains(&bits) {
        return Err(err(format!(
            "RSA key of {bits} bits is outside {MIN_RSA_BITS}..={MAX_RSA_BITS}"
        )));
    }
    Ok(())
}

/// A certificate's fields; its CA signature and validity are the client's to judge.
fn parse_certificate(blob: &[u8]) -> Result<cert::CertBlob<'_>, HostKeyError> {
    cert::CertBlob::parse(blob).map_err(|e| err(format!("bad certificate: {e}")))
}

/// Verifies a signature blob over `data` made with `alg` by the key in `public_blob`
/// (`K_S`: a public key blob, or a certificate blob for a certificate algorithm).
/// Returns the plain public key that signed. Whether a certificate's CA is trusted is
/// the caller's decision (known_hosts `@cert-authority`).
pub fn verify(
    public_blob: &[u8],
    alg: HostKeyAlg,
    data: &[u8],
    signature_blob: &[u8],
) -> Result<PublicKey, HostKeyError> {
    let certified;
    let plain_blob = if alg.is_certificate() {
        certified = parse_certificate(public_blob)?;
        if certified.type_name != alg.key_type() {
            return Err(err("certificate type does not match algorithm"));
        }
        &certified.public_blob[..]
    } else {
        public_blob
    };
    let key = PublicKey::from_bytes(plain_blob).map_err(|e| err(format!("bad host key: {e}")))?;
    if key.algorithm().as_str() != alg.plain().key_type() {
        return Err(err("host key type does not match algorithm"));
    }
    let mut r = Reader::new(signature_blob);
    let (name, sig) = (|| Ok::<_, sisu_wire::WireError>((r.utf8()?, r.string()?)))()
        .map_err(|e| err(format!("bad signature: {e}")))?;
    r.finish()
        .map_err(|_| err("bad signature: trailing bytes"))?;
    if name != alg.plain().name() {
        return Err(err(format!(
            "signature algorithm {name} does not match {}",
            alg.plain().name()
        )));
    }
    let incorrect = || err("signature incorrect");
    match key.key_data().rsa() {
        Some(pk) => verify_rsa(pk, alg.plain(), data, sig)?,
        None => {
            let sig = Signature::new(key.algorithm(), sig.to_vec())
                .map_err(|e| err(format!("bad signature: {e}")))?;
            Verifier::verify(key.key_data(), data, &sig).map_err(|_| incorrect())?;
        }
    }
    Ok(key)
}

fn verify_rsa(
    pk: &ssh_key::public::RsaPublicKey,
    alg: HostKeyAlg,
    data: &[u8],
    sig: &[u8],
) -> Result<(), HostKeyError> {
    let big = |m: &ssh_key::Mpint| -> Result<rsa::BigUint, HostKeyError> {
        m.as_positive_bytes()
            .map(rsa::BigUint::from_bytes_be)
            .ok_or_else(|| err("RSA key component is not positive"))
    };
    let n = big(&pk.n)?;
    check_rsa_size(n.bits())?;
    let key = rsa::RsaPublicKey::new_with_max_size(n, big(&pk.e)?, MAX_RSA_BITS)
        .map_err(|e| err(format!("bad RSA key: {e}")))?;
    // Some signers drop leading zero bytes: pad to the modulus length, as OpenSSH does.
    let len = key.size();
    if sig.len() > len {
        return Err(err("RSA signature longer than the modulus"));
    }
    let mut padded = vec![0u8; len - sig.len()];
    padded.extend_from_slice(sig);
    let (scheme, hashed) = rsa_scheme(alg, data)?;
    key.verify(scheme, &hashed, &padded)
        .map_err(|_| err("signature incorrect"))
}

#[cfg(test)]
mod tests;
