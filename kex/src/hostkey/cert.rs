//! OpenSSH certificates (`PROTOCOL.certkeys`), read as far as the transport needs:
//! the certified public key, the certificate type and the validity fields.
//!
//! Hand-written because ssh-key 0.6.7 refuses certificates valid "forever"
//! (`valid before` = `u64::MAX`, what `ssh-keygen -s` writes without `-V`). The CA
//! signature is not checked here: trusting a CA is the client's decision.
//!
//! ```
//! use sisu_kex::hostkey::cert::CertifiedKey;
//! assert!(CertifiedKey::parse(b"\0\0\0\x0bssh-ed25519").is_err());
//! ```

use super::HostKeyError;
use sisu_wire::{Reader, WireError};

/// Most principals read from one certificate.
pub const MAX_PRINCIPALS: usize = 256;

/// Certificate type (`SSH2_CERT_TYPE_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CertKind {
    /// 1: a user certificate.
    User,
    /// 2: a host certificate.
    Host,
}

/// The fields of a certificate the transport uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertifiedKey {
    /// The certificate type name, e.g. `ssh-ed25519-cert-v01@openssh.com`.
    pub type_name: String,
    /// The plain key type, e.g. `ssh-ed25519`.
    pub key_type: &'static str,
    /// The plain public key blob of the certified key.
    pub public_blob: Vec<u8>,
    /// The serial number.
    pub serial: u64,
    /// User or host certificate.
    pub kind: CertKind,
    /// The key identifier.
    pub key_id: String,
    /// The valid principals (host names for a host certificate; empty: any).
    pub principals: Vec<String>,
    /// Valid from, Unix seconds.
    pub valid_after: u64,
    /// Valid until, Unix seconds (`u64::MAX`: forever).
    pub valid_before: u64,
    /// The CA's public key blob.
    pub signature_key: Vec<u8>,
}

/// The plain key type of a certificate type and how many `string`/`mpint` fields its
/// public key has.
fn plain_type(type_name: &str) -> Option<(&'static str, usize)> {
    Some(match type_name {
        "ssh-ed25519-cert-v01@openssh.com" => ("ssh-ed25519", 1),
        "ecdsa-sha2-nistp256-cert-v01@openssh.com" => ("ecdsa-sha2-nistp256", 2),
        "ecdsa-sha2-nistp384-cert-v01@openssh.com" => ("ecdsa-sha2-nistp384", 2),
        "ecdsa-sha2-nistp521-cert-v01@openssh.com" => ("ecdsa-sha2-nistp521", 2),
        "ssh-rsa-cert-v01@openssh.com" => ("ssh-rsa", 2),
        "ssh-dss-cert-v01@openssh.com" => ("ssh-dss", 4),
        _ => return None,
    })
}

impl CertifiedKey {
    /// Reads a certificate blob. Every field must be present and nothing may follow
    /// the signature.
    pub fn parse(blob: &[u8]) -> Result<CertifiedKey, HostKeyError> {
        Self::parse_inner(blob).map_err(|e| HostKeyError(format!("bad certificate: {e}")))
    }

    fn parse_inner(blob: &[u8]) -> Result<CertifiedKey, String> {
        let w = |e: WireError| e.to_string();
        let mut r = Reader::new(blob);
        let type_name = r.utf8().map_err(w)?.to_string();
        let (key_type, nfields) =
            plain_type(&type_name).ok_or_else(|| format!("unknown type {type_name:?}"))?;
        let _nonce = r.string().map_err(w)?;
        let key_start = r.rest();
        for _ in 0..nfields {
            r.string().map_err(w)?;
        }
        let key_fields = &key_start[..key_start.len() - r.remaining()];
        let mut public_blob = Vec::with_capacity(4 + key_type.len() + key_fields.len());
        public_blob.extend_from_slice(&(key_type.len() as u32).to_be_bytes());
        public_blob.extend_from_slice(key_type.as_bytes());
        public_blob.extend_from_slice(key_fields);
        let serial = r.u64().map_err(w)?;
        let kind = match r.u32().map_err(w)? {
            1 => CertKind::User,
            2 => CertKind::Host,
            n => return Err(format!("certificate type {n} is neither user nor host")),
        };
        let key_id = r.utf8().map_err(w)?.to_string();
        let mut pr = Reader::new(r.string().map_err(w)?);
        let mut principals = Vec::new();
        while pr.remaining() > 0 {
            if principals.len() >= MAX_PRINCIPALS {
                return Err("too many principals".into());
            }
            principals.push(pr.utf8().map_err(w)?.to_string());
        }
        let valid_after = r.u64().map_err(w)?;
        let valid_before = r.u64().map_err(w)?;
        let _critical_options = r.string().map_err(w)?;
        let _extensions = r.string().map_err(w)?;
        let _reserved = r.string().map_err(w)?;
        let signature_key = r.string().map_err(w)?.to_vec();
        let _signature = r.string().map_err(w)?;
        r.finish().map_err(w)?;
        Ok(CertifiedKey {
            type_name,
            key_type,
            public_blob,
            serial,
            kind,
            key_id,
            principals,
            valid_after,
            valid_before,
            signature_key,
        })
    }
}
