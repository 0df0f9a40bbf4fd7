//! The cryptography of the `publickey` method (RFC 4252 §7): the signature algorithm
//! names this crate verifies, the checks on an offered key, the signed blob and the
//! signature check.
//!
//! The policy question ("is this key authorized for this user?") is not here: the
//! [`Server`](crate::Server) asks the daemon.

use crate::limits::{MAX_RSA_BITS, MIN_RSA_BITS};
use signature::Verifier;
use sisu_wire::cert::CertBlob;
use sisu_wire::msg::SSH_MSG_USERAUTH_REQUEST;
use sisu_wire::{Reader, Writer};
use ssh_key::public::KeyData;
use ssh_key::{Algorithm, EcdsaCurve, HashAlg, PublicKey, Signature};
use std::fmt;

mod sk;
pub use sk::{sk_details, SkDetails};

/// A public key signature algorithm this crate can verify, by its SSH name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PubkeyAlgorithm {
    /// `ssh-ed25519` (RFC 8709).
    Ed25519,
    /// `ecdsa-sha2-nistp256` (RFC 5656).
    EcdsaSha2Nistp256,
    /// `ecdsa-sha2-nistp384` (RFC 5656).
    EcdsaSha2Nistp384,
    /// `ecdsa-sha2-nistp521` (RFC 5656).
    EcdsaSha2Nistp521,
    /// `rsa-sha2-512` (RFC 8332): an `ssh-rsa` key, SHA-512 signature.
    RsaSha2_512,
    /// `rsa-sha2-256` (RFC 8332): an `ssh-rsa` key, SHA-256 signature.
    RsaSha2_256,
    /// `sk-ssh-ed25519@openssh.com` (PROTOCOL.u2f): an Ed25519 security key (FIDO).
    SkEd25519,
    /// `sk-ecdsa-sha2-nistp256@openssh.com` (PROTOCOL.u2f): a P-256 security key.
    SkEcdsaSha2Nistp256,
    /// Legacy: `ssh-rsa` (RFC 4253 §6.6), an RSA key with a SHA-1 signature. Only with
    /// the `legacy` feature, and only when `PubkeyAcceptedAlgorithms` names it.
    SshRsa,
    /// Legacy: `ssh-dss` (RFC 4253 §6.6), DSA with SHA-1. As [`PubkeyAlgorithm::SshRsa`].
    SshDss,
}

impl PubkeyAlgorithm {
    /// The algorithms accepted by default, in OpenSSH's default preference order.
    pub const DEFAULT: [PubkeyAlgorithm; 8] = [
        PubkeyAlgorithm::Ed25519,
        PubkeyAlgorithm::EcdsaSha2Nistp256,
        PubkeyAlgorithm::EcdsaSha2Nistp384,
        PubkeyAlgorithm::EcdsaSha2Nistp521,
        PubkeyAlgorithm::SkEd25519,
        PubkeyAlgorithm::SkEcdsaSha2Nistp256,
        PubkeyAlgorithm::RsaSha2_512,
        PubkeyAlgorithm::RsaSha2_256,
    ];

    /// Every algorithm this crate verifies: the defaults, then (with the `legacy`
    /// feature) `ssh-rsa` and `ssh-dss`.
    pub const ALL: &'static [PubkeyAlgorithm] = &[
        PubkeyAlgorithm::Ed25519,
        PubkeyAlgorithm::EcdsaSha2Nistp256,
        PubkeyAlgorithm::EcdsaSha2Nistp384,
        PubkeyAlgorithm::EcdsaSha2Nistp521,
        PubkeyAlgorithm::SkEd25519,
        PubkeyAlgorithm::SkEcdsaSha2Nistp256,
        PubkeyAlgorithm::RsaSha2_512,
        PubkeyAlgorithm::RsaSha2_256,
        #[cfg(feature = "legacy")]
        PubkeyAlgorithm::SshRsa,
        #[cfg(feature = "legacy")]
        PubkeyAlgorithm::SshDss,
    ];

    /// The name on the wire.
    pub fn name(self) -> &'static str {
        match self {
            PubkeyAlgorithm::Ed25519 => "ssh-ed25519",
            PubkeyAlgorithm::EcdsaSha2Nistp256 => "ecdsa-sha2-nistp256",
            PubkeyAlgorithm::EcdsaSha2Nistp384 => "ecdsa-sha2-nistp384",
            PubkeyAlgorithm::EcdsaSha2Nistp521 => "ecdsa-sha2-nistp521",
            PubkeyAlgorithm::RsaSha2_512 => "rsa-sha2-512",
            PubkeyAlgorithm::RsaSha2_256 => "rsa-sha2-256",
            PubkeyAlgorithm::SkEd25519 => "sk-ssh-ed25519@openssh.com",
            PubkeyAlgorithm::SkEcdsaSha2Nistp256 => "sk-ecdsa-sha2-nistp256@openssh.com",
            PubkeyAlgorithm::SshRsa => "ssh-rsa",
            PubkeyAlgorithm::SshDss => "ssh-dss",
        }
    }

    /// The algorithm with this name; `None` for names this crate cannot verify
    /// (certificates, unknown names, and without the `legacy` feature
    /// `ssh-rsa` with SHA-1 and `ssh-dss`).
    pub fn from_name(name: &str) -> Option<PubkeyAlgorithm> {
        Self::ALL.iter().copied().find(|a| a.name() == name)
    }

    /// The signature algorithm as ssh-key names it.
    fn signature_algorithm(self) -> Algorithm {
        match self {
            PubkeyAlgorithm::Ed25519 => Algorithm::Ed25519,
            PubkeyAlgorithm::EcdsaSha2Nistp256 => Algorithm::Ecdsa {
                curve: EcdsaCurve::NistP256,
            },
            PubkeyAlgorithm::EcdsaSha2Nistp384 => Algorithm::Ecdsa {
                curve: EcdsaCurve::NistP384,
            },
            PubkeyAlgorithm::EcdsaSha2Nistp521 => Algorithm::Ecdsa {
                curve: EcdsaCurve::NistP521,
            },
            PubkeyAlgorithm::RsaSha2_512 => Algorithm::Rsa {
                hash: Some(HashAlg::Sha512),
            },
            PubkeyAlgorithm::RsaSha2_256 => Algorithm::Rsa {
                hash: Some(HashAlg::Sha256),
            },
            PubkeyAlgorithm::SkEd25519 => Algorithm::SkEd25519,
            PubkeyAlgorithm::SkEcdsaSha2Nistp256 => Algorithm::SkEcdsaSha2NistP256,
            PubkeyAlgorithm::SshRsa => Algorithm::Rsa { hash: None },
            PubkeyAlgorithm::SshDss => Algorithm::Dsa,
        }
    }

    /// Whether a key of this type can make signatures of this algorithm.
    fn fits(self, key: &KeyData) -> bool {
        match (self, key) {
            (PubkeyAlgorithm::Ed25519, KeyData::Ed25519(_)) => true,
            (PubkeyAlgorithm::EcdsaSha2Nistp256, KeyData::Ecdsa(k)) => {
                k.curve() == EcdsaCurve::NistP256
            }
            (PubkeyAlgorithm::EcdsaSha2Nistp384, KeyData::Ecdsa(k)) => {
                k.curve() == EcdsaCurve::NistP384
            }
            (PubkeyAlgorithm::EcdsaSha2Nistp521, KeyData::Ecdsa(k)) => {
                k.curve() == EcdsaCurve::NistP521
            }
            (
                PubkeyAlgorithm::RsaSha2_512
                | PubkeyAlgorithm::RsaSha2_256
                | PubkeyAlgorithm::SshRsa,
                KeyData::Rsa(_),
            ) => true,
            (PubkeyAlgorithm::SshDss, KeyData::Dsa(_)) => true,
            (PubkeyAlgorithm::SkEd25519, KeyData::SkEd25519(_)) => true,
            (PubkeyAlgorithm::SkEcdsaSha2Nistp256, KeyData::SkEcdsaSha2NistP256(_)) => true,
            _ => false,
        }
    }
}

/// The user-certificate algorithm names (`PROTOCOL.certkeys`) this crate verifies, in
/// OpenSSH's default preference order: the legacy `ssh-rsa` and `ssh-dss` ones only
/// with the `legacy` feature.
pub const CERTIFICATE_ALGORITHMS: &[&str] = &[
    "ssh-ed25519-cert-v01@openssh.com",
    "ecdsa-sha2-nistp256-cert-v01@openssh.com",
    "ecdsa-sha2-nistp384-cert-v01@openssh.com",
    "ecdsa-sha2-nistp521-cert-v01@openssh.com",
    "sk-ssh-ed25519-cert-v01@openssh.com",
    "sk-ecdsa-sha2-nistp256-cert-v01@openssh.com",
    "rsa-sha2-512-cert-v01@openssh.com",
    "rsa-sha2-256-cert-v01@openssh.com",
    #[cfg(feature = "legacy")]
    "ssh-rsa-cert-v01@openssh.com",
    #[cfg(feature = "legacy")]
    "ssh-dss-cert-v01@openssh.com",
];

/// For a user-certificate algorithm name: the plain algorithm the certified key signs
/// with, and the certificate type the blob must carry (`rsa-sha2-512-cert-v01` is an
/// `ssh-rsa-cert-v01` certificate whose key signs with `rsa-sha2-512`).
pub fn certificate_algorithm(name: &str) -> Option<(PubkeyAlgorithm, &'static str)> {
    if !CERTIFICATE_ALGORITHMS.contains(&name) {
        return None;
    }
    Some(match name {
        "ssh-ed25519-cert-v01@openssh.com" => {
            (PubkeyAlgorithm::Ed25519, "ssh-ed25519-cert-v01@openssh.com")
        }
        "ecdsa-sha2-nistp256-cert-v01@openssh.com" => (
            PubkeyAlgorithm::EcdsaSha2Nistp256,
            "ecdsa-sha2-nistp256-cert-v01@openssh.com",
        ),
        "ecdsa-sha2-nistp384-cert-v01@openssh.com" => (
            PubkeyAlgorithm::EcdsaSha2Nistp384,
            "ecdsa-sha2-nistp384-cert-v01@openssh.com",
        ),
        "ecdsa-sha2-nistp521-cert-v01@openssh.com" => (
            PubkeyAlgorithm::EcdsaSha2Nistp521,
            "ecdsa-sha2-nistp521-cert-v01@openssh.com",
        ),
        "sk-ssh-ed25519-cert-v01@openssh.com" => (
            PubkeyAlgorithm::SkEd25519,
            "sk-ssh-ed25519-cert-v01@openssh.com",
        ),
        "sk-ecdsa-sha2-nistp256-cert-v01@openssh.com" => (
            PubkeyAlgorithm::SkEcdsaSha2Nistp256,
            "sk-ecdsa-sha2-nistp256-cert-v01@openssh.com",
        ),
        "rsa-sha2-512-cert-v01@openssh.com" => {
            (PubkeyAlgorithm::RsaSha2_512, "ssh-rsa-cert-v01@openssh.com")
        }
        "rsa-sha2-256-cert-v01@openssh.com" => {
            (PubkeyAlgorithm::RsaSha2_256, "ssh-rsa-cert-v01@openssh.com")
        }
        "ssh-rsa-cert-v01@openssh.com" => (PubkeyAlgorithm::SshRsa, "ssh-rsa-cert-v01@openssh.com"),
        "ssh-dss-cert-v01@openssh.com" => (PubkeyAlgorithm::SshDss, "ssh-dss-cert-v01@openssh.com"),
        _ => return None,
    })
}

/// Whether `name` is a user-certificate algorithm ([`CERTIFICATE_ALGORITHMS`]).
pub fn is_certificate_algorithm(name: &str) -> bool {
    certificate_algorithm(name).is_some()
}

impl fmt::Display for PubkeyAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why an offered key or a signature was refused (for debug logs; the peer only sees
/// SSH_MSG_USERAUTH_FAILURE).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PubkeyError {
    /// The algorithm name is not one this crate verifies.
    UnknownAlgorithm,
    /// The algorithm is not in `pubkey_algorithms`.
    NotAccepted,
    /// The key blob did not parse.
    BadKeyBlob,
    /// The key's type does not make signatures of the requested algorithm.
    KeyTypeMismatch,
    /// An RSA modulus outside [`MIN_RSA_BITS`]..=[`MAX_RSA_BITS`]; the value is its size.
    RsaKeySize(usize),
    /// The signature blob did not parse.
    BadSignatureEncoding,
    /// The signature's algorithm is not the requested algorithm.
    SignatureAlgorithmMismatch,
    /// The signature does not verify.
    BadSignature,
}

impl fmt::Display for PubkeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PubkeyError::UnknownAlgorithm => f.write_str("unsupported public key algorithm"),
            PubkeyError::NotAccepted => f.write_str("algorithm not in PubkeyAcceptedAlgorithms"),
            PubkeyError::BadKeyBlob => f.write_str("public key blob does not parse"),
            PubkeyError::KeyTypeMismatch => f.write_str("key type does not match algorithm"),
            PubkeyError::RsaKeySize(bits) => write!(f, "RSA key of {bits} bits refused"),
            PubkeyError::BadSignatureEncoding => f.write_str("signature does not parse"),
            PubkeyError::SignatureAlgorithmMismatch => {
                f.write_str("signature algorithm does not match request")
            }
            PubkeyError::BadSignature => f.write_str("signature does not verify"),
        }
    }
}

impl std::error::Error for PubkeyError {}

/// Size in bits of an RSA key's modulus, if `key` is RSA.
fn rsa_bits(key: &KeyData) -> Option<usize> {
    let n = key.rsa()?.n.as_positive_bytes().unwrap_or(&[]);
    Some(match n.first() {
        None => 0,
        Some(&top) => (n.len() - 1) * 8 + (8 - top.leading_zeros() as usize),
    })
}

/// Checks an offered key: the algorithm is one we verify and `accepted` lists, the blob
/// parses (with nothing after it), its type fits the algorithm, and an RSA modulus has
/// an accepted size. Returns the algorithm that signs and the key that signs: for a
/// certificate algorithm ([`certificate_algorithm`]) the blob is a certificate of the
/// matching type and the key is the certified one. The certificate itself (its CA
/// signature, validity, principals) is the daemon's to judge.
pub fn check_key<S: AsRef<str>>(
    algorithm: &str,
    key_blob: &[u8],
    accepted: &[S],
) -> Result<(PubkeyAlgorithm, PublicKey), PubkeyError> {
    let (alg, cert_type) = match PubkeyAlgorithm::from_name(algorithm) {
        Some(a) => (a, None),
        None => {
            let (a, t) = certificate_algorithm(algorithm).ok_or(PubkeyError::UnknownAlgorithm)?;
            (a, Some(t))
        }
    };
    if !accepted.iter().any(|a| a.as_ref() == algorithm) {
        return Err(PubkeyError::NotAccepted);
    }
    let key = match cert_type {
        None => PublicKey::from_bytes(key_blob),
        Some(want) => {
            let cert = CertBlob::parse(key_blob).map_err(|_| PubkeyError::BadKeyBlob)?;
            if cert.type_name != want {
                return Err(PubkeyError::KeyTypeMismatch);
            }
            PublicKey::from_bytes(&cert.public_blob)
        }
    }
    .map_err(|_| PubkeyError::BadKeyBlob)?;
    if !alg.fits(key.key_data()) {
        return Err(PubkeyError::KeyTypeMismatch);
    }
    if let Some(bits) = rsa_bits(key.key_data()) {
        if !(MIN_RSA_BITS..=MAX_RSA_BITS).contains(&bits) {
            return Err(PubkeyError::RsaKeySize(bits));
        }
    }
    Ok((alg, key))
}

/// The blob a client signs (RFC 4252 §7):
///
/// ```text
/// string    session identifier
/// byte      SSH_MSG_USERAUTH_REQUEST
/// string    user name
/// string    service name
/// string    "publickey"
/// boolean   TRUE
/// string    public key algorithm name
/// string    public key to be used for authentication
/// ```
pub fn signed_data(
    session_id: &[u8],
    user: &str,
    service: &str,
    algorithm: &str,
    key_blob: &[u8],
) -> Vec<u8> {
    let mut w = Writer::new();
    w.string(session_id)
        .u8(SSH_MSG_USERAUTH_REQUEST)
        .str(user)
        .str(service)
        .str("publickey")
        .bool(true)
        .str(algorithm)
        .string(key_blob);
    w.into_vec()
}

/// A signed publickey request as it came, for a party that did not see it to check
/// again (the privileged monitor, which trusts no verdict of the process that read the
/// network): with the session id it knows, [`SignedRequest::verify`] rebuilds
/// [`signed_data`] and checks the signature itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedRequest {
    /// The user name as sent (any `:style` kept: it is what was signed).
    pub user: String,
    /// The service name.
    pub service: String,
    /// The public key algorithm name.
    pub algorithm: String,
    /// The public key blob.
    pub key_blob: Vec<u8>,
    /// The signature blob (`string algorithm, string signature`).
    pub signature: Vec<u8>,
}

impl SignedRequest {
    /// Checks the key against `accepted` algorithms ([`check_key`]) and the signature
    /// over [`signed_data`] for `session_id`; the key, when both hold.
    pub fn verify<S: AsRef<str>>(
        &self,
        session_id: &[u8],
        accepted: &[S],
    ) -> Result<PublicKey, PubkeyError> {
        let (alg, key) = check_key(&self.algorithm, &self.key_blob, accepted)?;
        let data = signed_data(
            session_id,
            &self.user,
            &self.service,
            &self.algorithm,
            &self.key_blob,
        );
        verify_signature(alg, &key, &data, &self.signature)?;
        Ok(key)
    }
}

/// Decodes a signature blob (`string algorithm, string signature`, and for a security
/// key `byte flags, uint32 counter`, nothing after it) and checks that its algorithm
/// is `alg`.
fn decode_signature(
    alg: PubkeyAlgorithm,
    key: &KeyData,
    blob: &[u8],
) -> Result<Signature, PubkeyError> {
    let mut r = Reader::new(blob);
    let name = r.string().map_err(|_| PubkeyError::BadSignatureEncoding)?;
    let mut data = r.string().map_err(|_| PubkeyError::BadSignatureEncoding)?;
    let sk_data;
    if alg.is_security_key() {
        // ssh-key holds the flags and counter after the signature bytes.
        let flags = r.u8().map_err(|_| PubkeyError::BadSignatureEncoding)?;
        let counter = r.u32().map_err(|_| PubkeyError::BadSignatureEncoding)?;
        let mut v = data.to_vec();
        v.push(flags);
        v.extend_from_slice(&counter.to_be_bytes());
        sk_data = v;
        data = &sk_data;
    }
    r.finish().map_err(|_| PubkeyError::BadSignatureEncoding)?;
    if name != alg.name().as_bytes() {
        return Err(PubkeyError::SignatureAlgorithmMismatch);
    }
    // RSA signatures shorter than the modulus are left-padded with zeros, as OpenSSH
    // does; the `rsa` crate wants exactly the modulus length.
    let padded;
    if let Some(bits) = rsa_bits(key) {
        let len = bits.div_ceil(8);
        if data.len() > len {
            return Err(PubkeyError::BadSignature);
        }
        if data.len() < len {
            let mut v = vec![0u8; len - data.len()];
            v.extend_from_slice(data);
            padded = v;
            data = &padded;
        }
    }
    Signature::new(alg.signature_algorithm(), data).map_err(|_| PubkeyError::BadSignatureEncoding)
}

/// Verifies `signature_blob` over [`signed_data`] with `key` (which [`check_key`]
/// returned for `alg`).
pub fn verify_signature(
    alg: PubkeyAlgorithm,
    key: &PublicKey,
    signed_data: &[u8],
    signature_blob: &[u8],
) -> Result<(), PubkeyError> {
    if !alg.fits(key.key_data()) {
        return Err(PubkeyError::KeyTypeMismatch);
    }
    if alg == PubkeyAlgorithm::SshRsa {
        return verify_ssh_rsa(key.key_data(), signed_data, signature_blob);
    }
    let sig = decode_signature(alg, key.key_data(), signature_blob)?;
    // `PublicKey::verify` is SSHSIG's; the RFC 4252 check is the `Verifier` trait.
    Verifier::verify(key.key_data(), signed_data, &sig).map_err(|_| PubkeyError::BadSignature)
}

/// `ssh-rsa`: PKCS#1 v1.5 with SHA-1, which ssh-key 0.6 cannot hold as a [`Signature`];
/// checked with the `rsa` crate directly.
#[cfg(feature = "legacy")]
fn verify_ssh_rsa(key: &KeyData, data: &[u8], blob: &[u8]) -> Result<(), PubkeyError> {
    use sha1::{Digest, Sha1};
    let pk = key.rsa().ok_or(PubkeyError::KeyTypeMismatch)?;
    let mut r = Reader::new(blob);
    let name = r.string().map_err(|_| PubkeyError::BadSignatureEncoding)?;
    let sig = r.string().map_err(|_| PubkeyError::BadSignatureEncoding)?;
    r.finish().map_err(|_| PubkeyError::BadSignatureEncoding)?;
    if name != b"ssh-rsa" {
        return Err(PubkeyError::SignatureAlgorithmMismatch);
    }
    let big = |m: &ssh_key::Mpint| {
        m.as_positive_bytes()
            .map(rsa::BigUint::from_bytes_be)
            .ok_or(PubkeyError::BadKeyBlob)
    };
    let public = rsa::RsaPublicKey::new_with_max_size(big(&pk.n)?, big(&pk.e)?, MAX_RSA_BITS)
        .map_err(|_| PubkeyError::BadKeyBlob)?;
    let len = rsa::traits::PublicKeyParts::size(&public);
    if sig.len() > len {
        return Err(PubkeyError::BadSignature);
    }
    // A signature shorter than the modulus is left-padded with zeros, as OpenSSH does.
    let mut padded = vec![0u8; len - sig.len()];
    padded.extend_from_slice(sig);
    public
        .verify(
            rsa::Pkcs1v15Sign::new::<Sha1>(),
            &Sha1::digest(data),
            &padded,
        )
        .map_err(|_| PubkeyError::BadSignature)
}

#[cfg(not(feature = "legacy"))]
fn verify_ssh_rsa(_: &KeyData, _: &[u8], _: &[u8]) -> Result<(), PubkeyError> {
    Err(PubkeyError::UnknownAlgorithm)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_certificates_are_unknown() {
        for a in PubkeyAlgorithm::ALL {
            assert_eq!(PubkeyAlgorithm::from_name(a.name()), Some(*a));
        }
        for other in [
            "ssh-ed25519-cert-v01@openssh.com",
            "webauthn-sk-ecdsa-sha2-nistp256@openssh.com",
            "",
        ] {
            assert_eq!(PubkeyAlgorithm::from_name(other), None);
        }
        assert_eq!(
            PubkeyAlgorithm::from_name("ssh-rsa").is_some(),
            cfg!(feature = "legacy")
        );
        assert!(!PubkeyAlgorithm::DEFAULT.contains(&PubkeyAlgorithm::SshRsa));
    }

    #[test]
    fn rsa_bits_counts_from_top_bit() {
        use ssh_key::public::RsaPublicKey;
        use ssh_key::Mpint;
        let key = |n: &[u8]| {
            KeyData::Rsa(RsaPublicKey {
                e: Mpint::from_positive_bytes(&[1, 0, 1]).unwrap(),
                n: Mpint::from_positive_bytes(n).unwrap(),
            })
        };
        assert_eq!(rsa_bits(&key(&[0x80, 0, 0])), Some(24));
        assert_eq!(rsa_bits(&key(&[0x01, 0, 0])), Some(17));
    }

    #[test]
    fn signed_data_layout() {
        let d = signed_data(b"H", "u", "s", "a", b"K");
        let expected: &[u8] = &[
            0, 0, 0, 1, b'H', 50, 0, 0, 0, 1, b'u', 0, 0, 0, 1, b's', 0, 0, 0, 9, b'p', b'u', b'b',
            b'l', b'i', b'c', b'k', b'e', b'y', 1, 0, 0, 0, 1, b'a', 0, 0, 0, 1, b'K',
        ];
        assert_eq!(d, expected);
    }
}
