//! The list form of a revocation file: one key per line, as sshd's
//! `sshkey_in_file` reads it.
//!
//! A line is `keytype base64 [comment]` (a plain key, a FIDO key or a certificate)
//! or a protocol-1 `bits exponent modulus [comment]`; leading blanks are skipped, a
//! line ends at its first `\r`, and blank and `#` lines are ignored. Options are not
//! allowed. Unlike authorized_keys, where a bad line is skipped, any bad line makes
//! the whole list an error, as in sshd (which then refuses every key).
//!
//! Keys compare as sshd compares them here (`sshkey_equal_public`): by key type and
//! key material, ignoring certificates. So a listed certificate revokes the key it
//! certifies, and a listed plain key revokes every certificate of that key. A
//! certificate is also revoked when its CA key is listed.

use super::{Revocation, RevokedKeysError, Rule, Target, MAX_FILE_SIZE, MAX_KEYS};
use crate::cert::Cert;
use crate::entry::{Entry, EntryKey, CERT_TYPES, KEY_TYPES, MAX_LINE_LEN};
use crate::error::{ErrorKind, ParseError};
use crate::rsa1::Rsa1Key;
use ssh_key::public::KeyData;
use std::collections::HashMap;

/// A parsed key list: each key with the first line that lists it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct KeyList {
    keys: HashMap<KeyData, usize>,
    /// Protocol-1 keys by (exponent, modulus): the bit count a line announces
    /// does not take part in the comparison.
    rsa1: HashMap<(Vec<u8>, Vec<u8>), usize>,
}

fn is_blank(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

impl KeyList {
    /// Parse the list's bytes. Errors carry the 1-based line and column.
    ///
    /// ```
    /// use sisu_authkeys::revoked::KeyList;
    /// let list = KeyList::parse(b"# none yet\n\n").unwrap();
    /// assert!(list.is_empty());
    /// let err = KeyList::parse(b"\nno-pty ssh-ed25519 AAAA\n").unwrap_err();
    /// assert!(err.to_string().contains("line 2"), "{err}");
    /// ```
    pub fn parse(bytes: &[u8]) -> Result<KeyList, RevokedKeysError> {
        if bytes.len() > MAX_FILE_SIZE {
            return Err(RevokedKeysError::TooLarge { len: bytes.len() });
        }
        let mut list = KeyList::default();
        let mut key_lines = 0usize;
        for (i, raw) in bytes.split(|&b| b == b'\n').enumerate() {
            let line = i + 1;
            let err = |column: usize, kind: ErrorKind| {
                RevokedKeysError::List(ParseError { line, column, kind })
            };
            if raw.len() > MAX_LINE_LEN {
                return Err(err(1, ErrorKind::LineTooLong));
            }
            let text = std::str::from_utf8(raw)
                .map_err(|e| err(e.valid_up_to() + 1, ErrorKind::NotUtf8))?;
            let text = text.split('\r').next().unwrap_or(text);
            let lead = text.bytes().take_while(|&b| is_blank(b)).count();
            let rest = &text[lead..];
            if rest.is_empty() || rest.starts_with('#') {
                continue;
            }
            let ty = rest.split([' ', '\t']).next().unwrap_or(rest);
            let known = KEY_TYPES.contains(&ty)
                || CERT_TYPES.contains(&ty)
                || ty.bytes().all(|b| b.is_ascii_digit());
            if !known {
                let snip: String = ty.chars().take(40).collect();
                return Err(err(lead + 1, ErrorKind::UnknownKeyType(snip)));
            }
            let entry = match Entry::parse(text) {
                Ok(Some(e)) => e,
                Ok(None) => continue,
                Err(mut e) => {
                    e.line = line;
                    return Err(RevokedKeysError::List(e));
                }
            };
            key_lines += 1;
            if key_lines > MAX_KEYS {
                return Err(RevokedKeysError::TooManyKeys { line });
            }
            match entry.key {
                EntryKey::Public(k) => {
                    list.keys.entry(k).or_insert(line);
                }
                EntryKey::Certificate(c) => {
                    list.keys.entry(c.key).or_insert(line);
                }
                EntryKey::Rsa1(k) => {
                    list.rsa1.entry((k.exponent, k.modulus)).or_insert(line);
                }
            }
        }
        Ok(list)
    }

    /// How many distinct keys the list holds.
    pub fn len(&self) -> usize {
        self.keys.len() + self.rsa1.len()
    }

    /// Does the list hold no key?
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The line that lists this key (or a certificate of it), if any.
    pub fn line_of(&self, key: &KeyData) -> Option<usize> {
        self.keys.get(key).copied()
    }

    /// Is this plain key listed (as itself or by a certificate of it)?
    pub fn check_key(&self, key: &KeyData) -> Option<Revocation> {
        self.line_of(key).map(|line| Revocation {
            target: Target::Key,
            rule: Rule::Listed { line },
        })
    }

    /// Is this certificate's certified key, or its CA key, listed?
    pub fn check_cert(&self, cert: &Cert) -> Option<Revocation> {
        [
            (Target::CertifiedKey, &cert.key),
            (Target::CaKey, &cert.signature_key),
        ]
        .into_iter()
        .find_map(|(target, key)| {
            self.line_of(key).map(|line| Revocation {
                target,
                rule: Rule::Listed { line },
            })
        })
    }

    /// Is this protocol-1 key listed?
    pub fn check_rsa1(&self, key: &Rsa1Key) -> Option<Revocation> {
        let found = self
            .rsa1
            .get(&(key.exponent.clone(), key.modulus.clone()))
            .copied();
        found.map(|line| Revocation {
            target: Target::Key,
            rule: Rule::Listed { line },
        })
    }
}
