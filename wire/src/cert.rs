//! OpenSSH certificate blobs (`PROTOCOL.certkeys`) split into their fields, the one
//! reader that `authorized_keys` (user certificates) and the transport (host
//! certificates) share. It checks the layout only: the keys' contents and the CA
//! signature are for the caller, which knows which crypto it has.
//!
//! Written here because ssh-key 0.6 refuses certificates valid "forever" (`valid
//! before` = `u64::MAX`, what `ssh-keygen -s` writes without `-V`).
//!
//! ```
//! use sisu_wire::cert::{CertBlob, CertError};
//! assert!(matches!(
//!     CertBlob::parse(b"\0\0\0\x0bssh-ed25519"),
//!     Err(CertError::UnknownType(_))
//! ));
//! ```

use crate::{Reader, WireError};
use std::fmt;

/// Most principals read from one certificate.
pub const MAX_PRINCIPALS: usize = 256;

/// Most critical options or extensions read from one certificate.
pub const MAX_CERT_OPTIONS: usize = 64;

/// Certificate type (`SSH2_CERT_TYPE_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CertKind {
    /// 1: a user certificate.
    User,
    /// 2: a host certificate.
    Host,
}

/// Why a certificate blob was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CertError {
    /// The blob ended inside a field, had bytes left over, or broke a bound.
    Malformed(&'static str),
    /// Not a certificate type this reader knows.
    UnknownType(String),
    /// The embedded or CA key is not valid (for callers that check the keys).
    BadKey,
    /// The CA signature does not verify (for callers that check it).
    BadSignature,
}

impl fmt::Display for CertError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CertError::Malformed(w) => write!(f, "malformed certificate: {w}"),
            CertError::UnknownType(t) => write!(f, "unknown certificate type {t:?}"),
            CertError::BadKey => f.write_str("certificate holds an invalid key"),
            CertError::BadSignature => f.write_str("certificate signature does not verify"),
        }
    }
}

impl std::error::Error for CertError {}

impl From<WireError> for CertError {
    fn from(e: WireError) -> CertError {
        CertError::Malformed(match e {
            WireError::BadText => "not UTF-8",
            _ => "truncated",
        })
    }
}

/// The plain key type of a certificate type and how many `string`/`mpint` fields its
/// public key has.
pub fn plain_type(cert_type: &str) -> Option<(&'static str, usize)> {
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

/// A certificate's fields, borrowed from its blob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertBlob<'a> {
    /// The certificate type name, e.g. `ssh-ed25519-cert-v01@openssh.com`.
    pub type_name: &'a str,
    /// The plain key type, e.g. `ssh-ed25519`.
    pub key_type: &'static str,
    /// The certified key as a plain public key blob (type name, then its fields).
    pub public_blob: Vec<u8>,
    /// The serial number.
    pub serial: u64,
    /// User or host certificate.
    pub kind: CertKind,
    /// The key identifier.
    pub key_id: &'a str,
    /// The valid principals (empty: any).
    pub principals: Vec<&'a str>,
    /// Valid from, Unix seconds (inclusive).
    pub valid_after: u64,
    /// Valid until, Unix seconds (exclusive; `u64::MAX`: forever).
    pub valid_before: u64,
    /// Critical options: name, and the data's inner string when it has one.
    pub critical_options: Vec<(&'a str, &'a str)>,
    /// Extensions: name, and the data's inner string when it has one.
    pub extensions: Vec<(&'a str, &'a str)>,
    /// The CA's public key blob.
    pub signature_key: &'a [u8],
    /// The bytes the CA signed: the blob up to and including the CA key.
    pub signed: &'a [u8],
    /// The CA's signature blob.
    pub signature: &'a [u8],
}

impl<'a> CertBlob<'a> {
    /// Reads a certificate blob. Every field must be present, within its bound, and
    /// nothing may follow the signature.
    pub fn parse(blob: &'a [u8]) -> Result<CertBlob<'a>, CertError> {
        let mut r = Reader::new(blob);
        let type_name = r.utf8()?;
        let (key_type, nfields) =
            plain_type(type_name).ok_or_else(|| CertError::UnknownType(type_name.into()))?;
        let _nonce = r.string()?;
        let key_start = r.rest();
        for _ in 0..nfields {
            r.string()?;
        }
        let key_fields = &key_start[..key_start.len() - r.remaining()];
        let mut public_blob = Vec::with_capacity(4 + key_type.len() + key_fields.len());
        public_blob.extend_from_slice(&(key_type.len() as u32).to_be_bytes());
        public_blob.extend_from_slice(key_type.as_bytes());
        public_blob.extend_from_slice(key_fields);
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
        let key_id = r.utf8()?;
        let mut pr = Reader::new(r.string()?);
        let mut principals = Vec::new();
        while pr.remaining() > 0 {
            if principals.len() >= MAX_PRINCIPALS {
                return Err(CertError::Malformed("too many principals"));
            }
            principals.push(pr.utf8()?);
        }
        let valid_after = r.u64()?;
        let valid_before = r.u64()?;
        let critical_options = name_data_list(r.string()?)?;
        let extensions = name_data_list(r.string()?)?;
        let _reserved = r.string()?;
        let signature_key = r.string()?;
        let signed = &blob[..blob.len() - r.remaining()];
        let signature = r.string()?;
        if r.remaining() > 0 {
            return Err(CertError::Malformed("trailing bytes"));
        }
        Ok(CertBlob {
            type_name,
            key_type,
            public_blob,
            serial,
            kind,
            key_id,
            principals,
            valid_after,
            valid_before,
            critical_options,
            extensions,
            signature_key,
            signed,
            signature,
        })
    }
}

/// A critical-options or extensions list: names, each with data that is empty or one
/// `string`.
fn name_data_list(blob: &[u8]) -> Result<Vec<(&str, &str)>, CertError> {
    let mut r = Reader::new(blob);
    let mut out = Vec::new();
    while r.remaining() > 0 {
        if out.len() >= MAX_CERT_OPTIONS {
            return Err(CertError::Malformed("too many options"));
        }
        let name = r.utf8()?;
        let data = r.string()?;
        let value = if data.is_empty() {
            ""
        } else {
            Reader::new(data).utf8()?
        };
        out.push((name, value));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Writer;
    use proptest::prelude::*;

    fn sample(valid_before: u64) -> Vec<u8> {
        let mut opts = Writer::new();
        let mut inner = Writer::new();
        inner.string(b"10.0.0.0/8");
        opts.string(b"source-address").string(&inner.into_vec());
        let mut exts = Writer::new();
        exts.string(b"permit-pty").string(b"");
        let mut principals = Writer::new();
        principals.string(b"alice").string(b"bob");
        let mut w = Writer::new();
        w.string(b"ssh-ed25519-cert-v01@openssh.com")
            .string(b"nonce")
            .string(&[7; 32])
            .u64(42)
            .u32(1)
            .string(b"key id")
            .string(&principals.into_vec())
            .u64(0)
            .u64(valid_before)
            .string(&opts.into_vec())
            .string(&exts.into_vec())
            .string(b"")
            .string(b"ca key")
            .string(b"signature");
        w.into_vec()
    }

    #[test]
    fn fields_are_read_in_order() {
        let blob = sample(u64::MAX);
        let c = CertBlob::parse(&blob).unwrap();
        assert_eq!(c.key_type, "ssh-ed25519");
        let mut plain = Writer::new();
        plain.string(b"ssh-ed25519").string(&[7; 32]);
        assert_eq!(c.public_blob, plain.into_vec());
        assert_eq!((c.serial, c.kind, c.key_id), (42, CertKind::User, "key id"));
        assert_eq!(c.principals, ["alice", "bob"]);
        assert_eq!(c.valid_before, u64::MAX);
        assert_eq!(c.critical_options, [("source-address", "10.0.0.0/8")]);
        assert_eq!(c.extensions, [("permit-pty", "")]);
        assert_eq!(c.signature_key, b"ca key");
        assert_eq!(c.signature, b"signature");
        assert_eq!(c.signed.len(), blob.len() - 4 - b"signature".len());
    }

    #[test]
    fn truncation_trailing_bytes_and_bad_kinds_are_refused() {
        let blob = sample(10);
        for n in 0..blob.len() {
            assert!(CertBlob::parse(&blob[..n]).is_err(), "{n}");
        }
        let mut long = blob.clone();
        long.push(0);
        assert_eq!(
            CertBlob::parse(&long),
            Err(CertError::Malformed("trailing bytes"))
        );
    }

    proptest! {
        #[test]
        fn garbage_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            let _ = CertBlob::parse(&bytes);
        }

        #[test]
        fn flipped_bytes_never_panic(i in 0usize..200, b in any::<u8>()) {
            let mut blob = sample(5);
            let n = blob.len();
            blob[i % n] = b;
            let _ = CertBlob::parse(&blob);
        }
    }
}
