//! sshd's `RevokedKeys` file: either a plain list of public keys or an OpenSSH Key
//! Revocation List (KRL, made by `ssh-keygen -k`), told apart by the KRL's magic
//! bytes `SSHKRL\n\0`, as sshd does.
//!
//! - [`text`]: the list form, one key per line in the authorized_keys key formats
//!   without options (`keytype base64 [comment]`, certificates, protocol-1
//!   `bits exponent modulus`), with `#` comments and blank lines.
//! - [`krl`]: the binary form of OpenSSH's `PROTOCOL.krl`: explicit keys, SHA-1 and
//!   SHA-256 fingerprints of key blobs, and per-CA (or any-CA) certificate
//!   revocations by serial (list, range, bitmap) and key ID.
//!
//! Parsing is strict and bounded: a file longer than [`MAX_FILE_SIZE`], or one that
//! exceeds a limit below, or any malformed byte, is an error for the whole file.
//! sshd then refuses every key (fail-closed), and so should the caller.
//!
//! The questions are [`RevokedKeys::check_key`], [`RevokedKeys::check_cert`] and
//! [`RevokedKeys::check_rsa1`]; each answers `None` (not revoked) or the
//! [`Revocation`] that matched, for the log line.
//!
//! ```
//! use sisu_authkeys::revoked::{RevokedKeys, Rule, Target};
//! use sisu_authkeys::Entry;
//!
//! let text = "# keys that left with Mallory\n\
//!     ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGgiVQbiF3lY3jYKSC9qbLSdMcTWcjyY0V/35xEuuzPm mallory\n";
//! let revoked = RevokedKeys::parse(text.as_bytes()).unwrap();
//!
//! let line = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGgiVQbiF3lY3jYKSC9qbLSdMcTWcjyY0V/35xEuuzPm";
//! let key = Entry::parse(line).unwrap().unwrap().key.key_data().unwrap().clone();
//! let hit = revoked.check_key(&key).unwrap();
//! assert_eq!((hit.target, hit.rule), (Target::Key, Rule::Listed { line: 2 }));
//!
//! let other = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEYYk0xThPnd2yI7A4oWjP0nnSQb8Es2MWRhBsLt0VIY";
//! let other = Entry::parse(other).unwrap().unwrap().key.key_data().unwrap().clone();
//! assert!(revoked.check_key(&other).is_none());
//!
//! // A malformed file is an error: the caller refuses every key.
//! assert!(RevokedKeys::parse(b"ssh-ed25519 !!!\n").is_err());
//! assert!(RevokedKeys::parse(b"SSHKRL\n\0\0\0\0\x02").is_err());
//! ```

pub mod krl;
mod reader;
pub mod text;

pub use krl::{Krl, KrlError, KrlErrorKind, KrlSignature};
pub use text::KeyList;

use crate::cert::Cert;
use crate::error::ParseError;
use crate::rsa1::Rsa1Key;
use ssh_key::public::KeyData;
use std::fmt;

/// Largest revocation file accepted, in bytes (either form).
pub const MAX_FILE_SIZE: usize = 64 * 1024 * 1024;
/// Most sections in a KRL, top-level sections and certificate subsections together.
pub const MAX_SECTIONS: usize = 65_536;
/// Most serial numbers listed plus serial ranges, over the whole KRL.
pub const MAX_SERIALS: usize = 4 * 1024 * 1024;
/// Most bytes of one serial bitmap (OpenSSH's largest bignum, `SSHBUF_MAX_BIGNUM`).
pub const MAX_BITMAP_BYTES: usize = 2048;
/// Most bitmap bytes over the whole KRL.
pub const MAX_TOTAL_BITMAP_BYTES: usize = 16 * 1024 * 1024;
/// Most revoked key IDs over the whole KRL.
pub const MAX_KEY_IDS: usize = 1024 * 1024;
/// Most keys: explicit keys plus fingerprints in a KRL (duplicates included), or
/// key lines in a list.
pub const MAX_KEYS: usize = 1024 * 1024;

/// The KRL magic that starts a binary revocation list.
pub const KRL_MAGIC: &[u8; 8] = b"SSHKRL\n\0";

/// A parsed `RevokedKeys` file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RevokedKeys {
    /// A binary Key Revocation List.
    Krl(Krl),
    /// A plain list of keys.
    List(KeyList),
}

/// Why a revocation file was refused. Any of these means: refuse every key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RevokedKeysError {
    /// The file is longer than [`MAX_FILE_SIZE`].
    TooLarge {
        /// Its length in bytes.
        len: usize,
    },
    /// The file starts with the KRL magic but is not a valid KRL.
    Krl(KrlError),
    /// A line of a key list is not a key (line, column and what was wrong).
    List(ParseError),
    /// A key list has more than [`MAX_KEYS`] key lines; `line` is the first one too many.
    TooManyKeys {
        /// 1-based line number.
        line: usize,
    },
}

impl fmt::Display for RevokedKeysError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RevokedKeysError::TooLarge { len } => write!(
                f,
                "revoked keys file is {len} bytes, more than the {MAX_FILE_SIZE} accepted"
            ),
            RevokedKeysError::Krl(e) => write!(f, "invalid KRL: {e}"),
            RevokedKeysError::List(e) => write!(f, "invalid revoked keys list: {e}"),
            RevokedKeysError::TooManyKeys { line } => write!(
                f,
                "revoked keys list: line {line}: more than {MAX_KEYS} keys"
            ),
        }
    }
}

impl std::error::Error for RevokedKeysError {}

impl From<KrlError> for RevokedKeysError {
    fn from(e: KrlError) -> Self {
        RevokedKeysError::Krl(e)
    }
}

/// What a matching rule revoked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Target {
    /// The plain key that was checked.
    Key,
    /// The key a certificate certifies (revoked as a plain key).
    CertifiedKey,
    /// The CA key that signed a certificate (revoked as a plain key).
    CaKey,
    /// The certificate itself, by serial or key ID.
    Certificate,
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Target::Key => "key",
            Target::CertifiedKey => "certified key",
            Target::CaKey => "CA key",
            Target::Certificate => "certificate",
        })
    }
}

/// Whose certificates a KRL certificate section revokes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CaScope {
    /// The section names the certificate's CA key.
    Ca,
    /// The section's CA key is empty: it applies to certificates of any CA.
    AnyCa,
}

/// How a KRL revoked a serial number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SerialRule {
    /// A serial list section lists it.
    List,
    /// A serial range section holds it (overlapping ranges of the file are merged).
    Range {
        /// First serial of the range.
        lo: u64,
        /// Last serial of the range (inclusive).
        hi: u64,
    },
    /// A bitmap section starting at `offset` has its bit set.
    Bitmap {
        /// The bitmap's first serial.
        offset: u64,
    },
}

/// The rule that revoked a key or certificate.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Rule {
    /// A key list holds the key on this line.
    Listed {
        /// 1-based line number.
        line: usize,
    },
    /// A KRL explicit-key section holds the key's blob.
    ExplicitKey,
    /// A KRL lists the SHA-1 hash of the key's blob.
    Sha1Fingerprint,
    /// A KRL lists the SHA-256 hash of the key's blob.
    Sha256Fingerprint,
    /// A KRL certificate section revokes the certificate's serial number.
    Serial {
        /// The certificate's serial.
        serial: u64,
        /// Which encoding held it.
        how: SerialRule,
        /// A section for the certificate's CA, or for any CA.
        scope: CaScope,
    },
    /// A KRL certificate section revokes the certificate's key ID.
    KeyId {
        /// The certificate's key ID.
        key_id: String,
        /// A section for the certificate's CA, or for any CA.
        scope: CaScope,
    },
    /// The key could not be encoded to its wire form for comparison, so it is
    /// treated as revoked (fail-closed). Keys that were parsed from the wire or a
    /// file always encode; this is not expected to happen.
    Unencodable,
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scope = |s: &CaScope| match s {
            CaScope::Ca => "its CA",
            CaScope::AnyCa => "any CA",
        };
        match self {
            Rule::Listed { line } => write!(f, "listed on line {line}"),
            Rule::ExplicitKey => f.write_str("explicitly revoked key"),
            Rule::Sha1Fingerprint => f.write_str("revoked SHA-1 fingerprint"),
            Rule::Sha256Fingerprint => f.write_str("revoked SHA-256 fingerprint"),
            Rule::Serial {
                serial,
                how,
                scope: s,
            } => {
                write!(f, "serial {serial} revoked for {} by ", scope(s))?;
                match how {
                    SerialRule::List => f.write_str("a serial list"),
                    SerialRule::Range { lo, hi } => write!(f, "the serial range {lo}-{hi}"),
                    SerialRule::Bitmap { offset } => {
                        write!(f, "a serial bitmap from {offset}")
                    }
                }
            }
            Rule::KeyId { key_id, scope: s } => {
                write!(f, "key ID {key_id:?} revoked for {}", scope(s))
            }
            Rule::Unencodable => f.write_str("key cannot be encoded for comparison"),
        }
    }
}

/// A match: what was revoked, and by which rule.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Revocation {
    /// The key or certificate the rule hit.
    pub target: Target,
    /// The rule.
    pub rule: Rule,
}

impl fmt::Display for Revocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} revoked: {}", self.target, self.rule)
    }
}

impl RevokedKeys {
    /// Parse a revocation file: a KRL if it starts with [`KRL_MAGIC`], else a key
    /// list. Any error means the whole file is unusable (refuse every key).
    pub fn parse(bytes: &[u8]) -> Result<RevokedKeys, RevokedKeysError> {
        if bytes.len() > MAX_FILE_SIZE {
            return Err(RevokedKeysError::TooLarge { len: bytes.len() });
        }
        if bytes.starts_with(KRL_MAGIC) {
            Ok(RevokedKeys::Krl(Krl::parse(bytes)?))
        } else {
            Ok(RevokedKeys::List(KeyList::parse(bytes)?))
        }
    }

    /// Is this plain key revoked? `None` if not, else the rule that matched.
    pub fn check_key(&self, key: &KeyData) -> Option<Revocation> {
        match self {
            RevokedKeys::Krl(k) => k.check_key(key),
            RevokedKeys::List(l) => l.check_key(key),
        }
    }

    /// Is this certificate revoked: by serial or key ID under its CA or any CA
    /// (KRL only), because its certified key is revoked, or because its CA key is?
    /// `None` if not, else the first rule that matched.
    pub fn check_cert(&self, cert: &Cert) -> Option<Revocation> {
        match self {
            RevokedKeys::Krl(k) => k.check_cert(cert),
            RevokedKeys::List(l) => l.check_cert(cert),
        }
    }

    /// Is this protocol-1 key revoked? Only a key list can revoke one (a KRL has no
    /// way to name a protocol-1 key).
    pub fn check_rsa1(&self, key: &Rsa1Key) -> Option<Revocation> {
        match self {
            RevokedKeys::Krl(_) => None,
            RevokedKeys::List(l) => l.check_rsa1(key),
        }
    }
}

/// The wire blob of a plain key, as a KRL hashes and compares it.
pub(crate) fn key_blob(key: &KeyData) -> Option<Vec<u8>> {
    ssh_key::PublicKey::new(key.clone(), "").to_bytes().ok()
}
