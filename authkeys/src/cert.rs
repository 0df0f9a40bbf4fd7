//! OpenSSH certificates (`PROTOCOL.certkeys`), read directly from the blob.
//!
//! `ssh-key` 0.6 refuses certificates whose `valid before` is "forever"
//! (`u64::MAX`, the default of `ssh-keygen -s`), so this crate reads the fields it
//! needs itself and uses `ssh-key` only for the keys and the signature check.

use signature::Verifier;
use ssh_key::public::KeyData;
use ssh_key::Signature;

/// Most principals read from one certificate.
pub const MAX_PRINCIPALS: usize = 256;
/// Most critical options or extensions read from one certificate.
pub const MAX_CERT_OPTIONS: usize = 64;

/// Certificate type: user or host.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CertKind {
    /// `SSH2_CERT_TYPE_USER` (1).
    User,
    /// `SSH2_CERT_TYPE_HOST` (2).
    Host,
}

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

/// Why a certificate blob was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CertError {
    /// The blob ended inside a field or had bytes left over.
    Malformed(&'static str),
    /// Unknown certificate or key type.
    UnknownType(String),
    /// The embedded or CA key is not valid.
    BadKey,
    /// The CA signature does not verify.
    BadSignature,
}

impl std::fmt::Display for CertError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CertError::Malformed(w) => write!(f, "malformed certificate: {w}"),
            CertError::UnknownType(t) => write!(f, "unknown certificate type {t:?}"),
            CertError::BadKey => f.write_str("certificate holds an invalid key"),
            CertError::BadSignature => f.write_str("certificate signature does not verify"),
        }
    }
}

impl std::error::Error for CertError {}

struct Rd<'a>(&'a [u8]);

impl<'a> Rd<'a> {
    fn string(&mut self) -> Result<&'a [u8], CertError> {
        let b = self.0;
        if b.len() < 4 {
            return Err(CertError::Malformed("truncated"));
        }
        let n = u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize;
        if b.len() - 4 < n {
            return Err(CertError::Malformed("truncated"));
        }
        self.0 = &b[4 + n..];
        Ok(&b[4..4 + n])
    }
    fn text(&mut self) -> Result<String, CertError> {
        String::from_utf8(self.string()?.to_vec()).map_err(|_| CertError::Malformed("not UTF-8"))
    }
    fn u64(&mut self) -> Result<u64, CertError> {
        if self.0.len() < 8 {
            return Err(CertError::Malformed("truncated"));
        }
        let (h, t) = self.0.split_at(8);
        self.0 = t;
        Ok(u64::from_be_bytes(h.try_into().unwrap_or([0; 8])))
    }
    fn u32(&mut self) -> Result<u32, CertError> {
        if self.0.len() < 4 {
            return Err(CertError::Malformed("truncated"));
        }
        let (h, t) = self.0.split_at(4);
        self.0 = t;
        Ok(u32::from_be_bytes(h.try_into().unwrap_or([0; 4])))
    }
}

/// The plain key type and how many fields its key part has.
fn plain_type(cert_type: &str) -> Option<(&'static str, usize)> {
    Some(match cert_type {
        "ssh-ed25519-cert-v01@openssh.com" => ("ssh-ed25519", 1),
        "ecdsa-sha2-nistp256-cert-v01@openssh.com" => ("ecdsa-sha2-nistp256", 2),
        "ecdsa-sha2-nistp384-cert-v01@openssh.com" => ("ecdsa-sha2-nistp384", 2),
        "ecdsa-sha2-nistp521-cert-v01@openssh.com" => ("ecdsa-sha2-nistp521", 2),
        "ssh-rsa-cert-v01@openssh.com" => ("ssh-rsa", 2),
        "ssh-dss-cert-v01@openssh.com" => ("ssh-dss", 4),
        "sk-ssh-ed25519-cert-v01@openssh.com" => ("sk-ssh-ed25519@openssh.com", 2),
        "sk-ecdsa-sha2-nistp256-cert-v01@openssh.com" => ("sk-ecdsa-sha2-nistp256@openssh.com", 3),
        _ => return None,
    })
}

fn name_data_list(blob: &[u8]) -> Result<Vec<(String, String)>, CertError> {
    let mut r = Rd(blob);
    let mut out = Vec::new();
    while !r.0.is_empty() {
        if out.len() >= MAX_CERT_OPTIONS {
            return Err(CertError::Malformed("too many options"));
        }
        let name = r.text()?;
        let data = r.string()?;
        let value = if data.is_empty() {
            String::new()
        } else {
            let mut d = Rd(data);
            String::from_utf8(d.string()?.to_vec())
                .map_err(|_| CertError::Malformed("not UTF-8"))?
        };
        out.push((name, value));
    }
    Ok(out)
}

impl Cert {
    /// Parse a certificate blob and verify its CA signature. A signature that
    /// `ssh-key` cannot check (DSA, RSA under 2048 bits) is not an error here, but
    /// leaves [`Cert::signature_verified`] false.
    pub fn from_bytes(blob: &[u8]) -> Result<Cert, CertError> {
        let mut r = Rd(blob);
        let type_name = r.text()?;
        let (plain, nfields) =
            plain_type(&type_name).ok_or_else(|| CertError::UnknownType(type_name.clone()))?;
        let _nonce = r.string()?;
        let key_start = r.0;
        for _ in 0..nfields {
            r.string()?;
        }
        let key_raw = &key_start[..key_start.len() - r.0.len()];
        let mut plain_blob = Vec::with_capacity(key_raw.len() + plain.len() + 4);
        plain_blob.extend_from_slice(&(plain.len() as u32).to_be_bytes());
        plain_blob.extend_from_slice(plain.as_bytes());
        plain_blob.extend_from_slice(key_raw);
        let key = ssh_key::PublicKey::from_bytes(&plain_blob)
            .map_err(|_| CertError::BadKey)?
            .key_data()
            .clone();
        let serial = r.u64()?;
        let kind = match r.u32()? {
            1 => CertKind::User,
            2 => CertKind::Host,
            _ => {
                return Err(CertError::Malformed(
                    "certificate type is neither user nor host",
                ))
            }
        };
        let key_id = r.text()?;
        let mut pr = Rd(r.string()?);
        let mut principals = Vec::new();
        while !pr.0.is_empty() {
            if principals.len() >= MAX_PRINCIPALS {
                return Err(CertError::Malformed("too many principals"));
            }
            principals.push(pr.text()?);
        }
        let valid_after = r.u64()?;
        let valid_before = r.u64()?;
        let critical_options = name_data_list(r.string()?)?;
        let extensions = name_data_list(r.string()?)?;
        let _reserved = r.string()?;
        let sig_key_blob = r.string()?;
        let signed_len = blob.len() - r.0.len();
        let sig_blob = r.string()?;
        if !r.0.is_empty() {
            return Err(CertError::Malformed("trailing bytes"));
        }
        let signature_key = ssh_key::PublicKey::from_bytes(sig_key_blob)
            .map_err(|_| CertError::BadKey)?
            .key_data()
            .clone();
        let sig = Signature::try_from(sig_blob).map_err(|_| CertError::BadSignature)?;
        let small_rsa = signature_key
            .rsa()
            .is_some_and(|k| k.n.as_positive_bytes().map_or(0, |b| b.len()) < 256);
        let signature_verified = match signature_key.verify(&blob[..signed_len], &sig) {
            Ok(()) => true,
            Err(_) if signature_key.is_dsa() || small_rsa => false,
            Err(_) => return Err(CertError::BadSignature),
        };
        Ok(Cert {
            type_name,
            key,
            serial,
            kind,
            key_id,
            principals,
            valid_after,
            valid_before,
            critical_options,
            extensions,
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
