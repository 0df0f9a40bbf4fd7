//! [`Authenticated`] as bytes: the result of authentication handed from the process
//! that spoke to the client (unprivileged, maybe compromised) to the one that serves
//! the user.
//!
//! ```text
//! string   "sisu-userauth-result-v1"
//! string   user       UTF-8, 1..=MAX_USER_LEN bytes
//! string   service    "ssh-connection"
//! string   method     "publickey", "password" or "keyboard-interactive"
//! boolean  has key    exactly 0 or 1; 1 exactly for "publickey"
//! string   key blob   the public key (RFC 4253 §6.6), only when `has key`
//! ```
//!
//! [`Authenticated::from_bytes`] reads it as carefully as network input: at most
//! [`MAX_RESULT_LEN`] bytes, each field within its bound, the key blob a key ssh-key
//! parses, nothing left over.

use crate::limits::{MAX_KEY_BLOB_LEN, MAX_NAME_LEN, MAX_USER_LEN};
use crate::{Authenticated, Method, SERVICE_CONNECTION};
use sisu_wire::{Reader, WireError, Writer};
use ssh_key::PublicKey;
use std::fmt;

/// The first field of an encoded result: its format and version.
pub const RESULT_MAGIC: &str = "sisu-userauth-result-v1";
/// Longest encoded result accepted.
pub const MAX_RESULT_LEN: usize = 64 + MAX_USER_LEN + 2 * MAX_NAME_LEN + MAX_KEY_BLOB_LEN + 32;

/// Why bytes are not an encoded [`Authenticated`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResultError {
    /// More than [`MAX_RESULT_LEN`] bytes.
    TooLong(usize),
    /// Not a result of this format and version.
    BadMagic,
    /// A field did not parse (truncated, over its bound, not UTF-8, trailing bytes).
    Malformed(WireError),
    /// A field parsed but its value is impossible (named).
    Invalid(&'static str),
}

impl fmt::Display for ResultError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ResultError::TooLong(n) => write!(f, "authentication result of {n} bytes is too long"),
            ResultError::BadMagic => f.write_str("not an authentication result of this version"),
            ResultError::Malformed(e) => write!(f, "malformed authentication result: {e}"),
            ResultError::Invalid(what) => write!(f, "invalid authentication result: {what}"),
        }
    }
}

impl std::error::Error for ResultError {}

impl From<WireError> for ResultError {
    fn from(e: WireError) -> Self {
        ResultError::Malformed(e)
    }
}

impl Authenticated {
    /// The encoding (see the module docs). `None` only when the key cannot be encoded
    /// (which a key that verified a signature always can).
    pub fn to_bytes(&self) -> Option<Vec<u8>> {
        let mut w = Writer::new();
        w.str(RESULT_MAGIC)
            .str(&self.user)
            .str(&self.service)
            .str(self.method.name());
        match &self.key {
            Some(k) => {
                let blob = k.to_bytes().ok()?;
                w.bool(true).string(&blob);
            }
            None => {
                w.bool(false);
            }
        }
        Some(w.into_vec())
    }

    /// Decodes [`Authenticated::to_bytes`]' encoding, refusing anything else.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, ResultError> {
        if bytes.len() > MAX_RESULT_LEN {
            return Err(ResultError::TooLong(bytes.len()));
        }
        let mut r = Reader::new(bytes);
        if r.string().ok() != Some(RESULT_MAGIC.as_bytes()) {
            return Err(ResultError::BadMagic);
        }
        let user = text(&mut r, MAX_USER_LEN)?;
        if user.is_empty() {
            return Err(ResultError::Invalid("empty user name"));
        }
        let service = text(&mut r, MAX_NAME_LEN)?;
        if service != SERVICE_CONNECTION {
            return Err(ResultError::Invalid("service"));
        }
        let method = Method::from_name(&text(&mut r, MAX_NAME_LEN)?)
            .ok_or(ResultError::Invalid("method"))?;
        let key = match r.u8()? {
            0 => None,
            1 => {
                let blob = r.string()?;
                if blob.len() > MAX_KEY_BLOB_LEN {
                    return Err(ResultError::Malformed(WireError::TooLong));
                }
                Some(PublicKey::from_bytes(blob).map_err(|_| ResultError::Invalid("key blob"))?)
            }
            _ => return Err(ResultError::Invalid("boolean other than 0 or 1")),
        };
        if key.is_some() != matches!(method, Method::PublicKey | Method::Hostbased) {
            return Err(ResultError::Invalid(
                "a key exactly for publickey and hostbased",
            ));
        }
        r.finish()?;
        Ok(Authenticated {
            user,
            service,
            method,
            key,
        })
    }
}

/// A UTF-8 `string` of at most `max` bytes.
fn text(r: &mut Reader<'_>, max: usize) -> Result<String, ResultError> {
    let b = r.string()?;
    if b.len() > max {
        return Err(ResultError::Malformed(WireError::TooLong));
    }
    std::str::from_utf8(b)
        .map(str::to_owned)
        .map_err(|_| ResultError::Malformed(WireError::BadText))
}
