//! OpenSSH certificates (`PROTOCOL.certkeys`), read directly from the blob.
//!
//! The fields are read by [`sisu_wire::cert`] (`ssh-key` 0.6 refuses certificates
//! whose `valid before` is "forever", `u64::MAX`, the default of `ssh-keygen -s`);
//! `ssh-key` parses the keys and checks the CA signature.

use signature::Verifier;
use sisu_wire::cert::CertBlob;
use ssh_key::public::KeyData;
use ssh_key::Signature;

pub use sisu_wire::cert::{CertError, CertKind, MAX_CERT_OPTIONS, MAX_PRINCIPALS};

/// A parsed OpenSSH certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cert {
    /// The certificate type name, e.g. `ssh-ed25519-cert-v01@openssh.com`.
    pub type_name: String,
    /// The certified key.
    pub key: KeyData,
    /// Serial number.
    pub serial: u64,
    /// User or host.
    pub kind: CertKind,
    /// Key identifier.
    pub key_id: String,
    /// Valid principals (empty: any, for a host certificate).
    pub principals: Vec<String>,
    /// Valid from (Unix seconds, inclusive).
    pub valid_after: u64,
    /// Valid until (Unix seconds, exclusive; `u64::MAX` is forever).
    pub valid_before: u64,
    /// Critical options, name and data (the data's inner string when it has one).
    pub critical_options: Vec<(String, String)>,
    /// Extensions, name and data.
    pub extensions: Vec<(String, String)>,
    /// The CA key that signed it.
    pub signature_key: KeyData,
    /// The whole blob, as read.
    pub blob: Vec<u8>,
    /// The CA signature was checked and is good. `false` when `ssh-key` cannot
    /// check this signature algorithm (DSA, RSA under 2048 bits): such a
    /// certificate still parses, but never authorizes.
    pub signature_verified: bool,
}

impl Cert {
    /// Parse a certificate blob and verify its CA signature. A signature that
    /// `ssh-key` cannot check (DSA, RSA under 2048 bits) is not an error here, but
    /// leaves [`Cert::signature_verified`] false.
    pub fn from_bytes(blob: &[u8]) -> Result<Cert, CertError> {
        let raw = CertBlob::parse(blob)?;
        let key_data = |blob: &[u8]| {
            ssh_key::PublicKey::from_bytes(blob)
                .map(|k| k.key_data().clone())
                .map_err(|_| CertError::BadKey)
        };
        let key = key_data(&raw.public_blob)?;
        let signature_key = key_data(raw.signature_key)?;
        let sig = Signature::try_from(raw.signature).map_err(|_| CertError::BadSignature)?;
        let small_rsa = signature_key
            .rsa()
            .is_some_and(|k| k.n.as_positive_bytes().map_or(0, |b| b.len()) < 256);
        let signature_verified = match signature_key.verify(raw.signed, &sig) {
            Ok(()) => true,
            Err(_) if signature_key.is_dsa() || small_rsa => false,
            Err(_) => return Err(CertError::BadSignature),
        };
        let owned = |list: &[(&str, &str)]| {
            list.iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect()
        };
        Ok(Cert {
            type_name: raw.type_name.to_string(),
            key,
            serial: raw.serial,
            kind: raw.kind,
            key_id: raw.key_id.to_string(),
            principals: raw.principals.iter().map(|p| p.to_string()).collect(),
            valid_after: raw.valid_after,
            valid_before: raw.valid_before,
            critical_options: owned(&raw.critical_options),
            extensions: owned(&raw.extensions),
            signature_key,
            blob: blob.to_vec(),
            signature_verified,
        })
    }

    /// The value of a critical option.
    pub fn critical_option(&self, name: &str) -> Option<&str> {
        self.critical_options
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Is this extension present?
    pub fn has_extension(&self, name: &str) -> bool {
        self.extensions.iter().any(|(n, _)| n == name)
    }
}
