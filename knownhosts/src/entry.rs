//! One known_hosts line: `[@marker] hosts key [comment]`, the key being
//! `keytype base64` or the protocol-1 `bits exponent modulus`.

use crate::hashed::{HashedName, HASH_MAGIC};
use crate::pattern::match_list;
use crate::rsa1::Rsa1Key;
use base64::Engine;
use nom::bytes::complete::{tag, take_till, take_while, take_while1};
use nom::IResult;
use ssh_key::public::KeyData;
use ssh_key::HashAlg;
use std::fmt;

/// Longest line accepted, in bytes.
pub const MAX_LINE_LEN: usize = 256 * 1024;

/// `@cert-authority` or `@revoked`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Marker {
    /// `@cert-authority`: the key is a CA for host certificates of these hosts.
    CertAuthority,
    /// `@revoked`: the key must never be accepted.
    Revoked,
}

/// The host field.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Hosts {
    /// A comma-separated pattern list, as written.
    Patterns(String),
    /// One hashed name.
    Hashed(HashedName),
}

impl Hosts {
    /// Does this field apply to `name` (`host` or `[host]:port`)?
    pub fn matches(&self, name: &str) -> bool {
        match self {
            Hosts::Patterns(p) => match_list(name, p) == Some(true),
            Hosts::Hashed(h) => h.matches(name),
        }
    }
}

impl fmt::Display for Hosts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Hosts::Patterns(p) => f.write_str(p),
            Hosts::Hashed(h) => write!(f, "{h}"),
        }
    }
}

/// The key of an entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostKey {
    /// An SSH-2 public key.
    Ssh(KeyData),
    /// A protocol-1 RSA key.
    Rsa1(Rsa1Key),
}

impl HostKey {
    /// The `SHA256:…` fingerprint.
    pub fn fingerprint(&self) -> String {
        match self {
            HostKey::Ssh(k) => k.fingerprint(HashAlg::Sha256).to_string(),
            HostKey::Rsa1(k) => k.fingerprint_sha256(),
        }
    }
}

impl fmt::Display for HostKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HostKey::Ssh(k) => {
                let text = ssh_key::PublicKey::new(k.clone(), "")
                    .to_openssh()
                    .map_err(|_| fmt::Error)?;
                f.write_str(text.trim_end())
            }
            HostKey::Rsa1(k) => write!(f, "{k}"),
        }
    }
}

/// One parsed known_hosts entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The marker, if any.
    pub marker: Option<Marker>,
    /// The hosts it applies to.
    pub hosts: Hosts,
    /// The key.
    pub key: HostKey,
    /// Text after the key, if any.
    pub comment: Option<String>,
}

/// What was wrong with a line, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// 1-based line (0 when one line was parsed alone).
    pub line: usize,
    /// 1-based byte column.
    pub column: usize,
    /// What was expected.
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "line {}, column {}: {}",
            self.line, self.column, self.message
        )
    }
}

impl std::error::Error for ParseError {}

/// SSH-2 key types a known_hosts line may name.
pub const KEY_TYPES: [&str; 8] = [
    "ssh-ed25519",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
    "ssh-rsa",
    "ssh-dss",
    "sk-ssh-ed25519@openssh.com",
    "sk-ecdsa-sha2-nistp256@openssh.com",
];

fn blank(c: char) -> bool {
    c == ' ' || c == '\t'
}

fn token(i: &str) -> IResult<&str, &str> {
    take_till(blank)(i)
}

fn blanks(i: &str) -> IResult<&str, &str> {
    take_while(blank)(i)
}

fn digits(i: &str) -> IResult<&str, &str> {
    take_while1(|c: char| c.is_ascii_digit())(i)
}

impl Entry {
    /// Parse one line (no line end). `Ok(None)` for blank and comment lines.
    ///
    /// ```
    /// use sisu_knownhosts::{Entry, Marker};
    /// let line = "@revoked * ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGgiVQbiF3lY3jYKSC9qbLSdMcTWcjyY0V/35xEuuzPm";
    /// let e = Entry::parse(line).unwrap().unwrap();
    /// assert_eq!(e.marker, Some(Marker::Revoked));
    /// assert!(e.hosts.matches("anything"));
    /// assert_eq!(e.to_string(), line);
    /// ```
    pub fn parse(line: &str) -> Result<Option<Entry>, ParseError> {
        let err = |at: &str, m: &str| ParseError {
            line: 0,
            column: line.len() - at.len() + 1,
            message: m.to_string(),
        };
        if line.len() > MAX_LINE_LEN {
            return Err(err(line, "expected a shorter line"));
        }
        let line = line.split('\r').next().unwrap_or(line);
        let internal = |at: &str| err(at, "internal parser error");
        let (s, _) = blanks(line).map_err(|_| internal(line))?;
        if s.is_empty() || s.starts_with('#') {
            return Ok(None);
        }
        let mut marker = None;
        let mut s = s;
        if s.starts_with('@') {
            let (rest, m) = token(s).map_err(|_| internal(s))?;
            marker = Some(match m {
                "@cert-authority" => Marker::CertAuthority,
                "@revoked" => Marker::Revoked,
                _ => return Err(err(s, "expected @cert-authority or @revoked")),
            });
            if rest.is_empty() {
                return Err(err(rest, "expected host names after the marker"));
            }
            s = blanks(rest).map_err(|_| internal(rest))?.0;
            if s.starts_with('@') {
                return Err(err(s, "expected one marker only"));
            }
        }
        let (rest, hosts) = token(s).map_err(|_| internal(s))?;
        if rest.is_empty() {
            return Err(err(rest, "expected a key after the host names"));
        }
        let hosts = if hosts.starts_with('|') {
            let h = tag::<_, _, nom::error::Error<&str>>(HASH_MAGIC)(hosts)
                .ok()
                .and_then(|_| HashedName::parse(hosts))
                .ok_or_else(|| {
                    err(
                        s,
                        "expected a hashed name |1|salt|hash with 20-byte salt and hash",
                    )
                })?;
            Hosts::Hashed(h)
        } else {
            Hosts::Patterns(hosts.to_string())
        };
        let (s, _) = blanks(rest).map_err(|_| internal(rest))?;
        if s.is_empty() || s.starts_with('#') {
            return Err(err(s, "expected a key type after the host names"));
        }
        let (rest, ty) = token(s).map_err(|_| internal(s))?;
        let (key, rest) = if !ty.is_empty() && ty.bytes().all(|b| b.is_ascii_digit()) {
            let mut f = [""; 3];
            let mut r = s;
            for (i, slot) in f.iter_mut().enumerate() {
                if i > 0 {
                    r = blanks(r).map_err(|_| internal(r))?.0;
                }
                let (after, d) = digits(r).map_err(|_| err(r, "expected a decimal number"))?;
                if !after.is_empty() && !after.starts_with(blank) {
                    return Err(err(after, "expected a decimal number"));
                }
                *slot = d;
                r = after;
            }
            let k = Rsa1Key::from_decimal(f[0], f[1], f[2]).ok_or_else(|| {
                err(
                    s,
                    "expected a protocol-1 key: bits (1-16384), exponent, modulus",
                )
            })?;
            (HostKey::Rsa1(k), r)
        } else if KEY_TYPES.contains(&ty) {
            let (r, _) = blanks(rest).map_err(|_| internal(rest))?;
            let (after, b64) = token(r).map_err(|_| internal(r))?;
            let blob = base64::engine::general_purpose::STANDARD
                .decode(b64)
                .map_err(|_| err(r, "expected a base64 key blob"))?;
            let k = ssh_key::PublicKey::from_bytes(&blob)
                .map_err(|_| err(r, "expected a valid key in the blob"))?;
            if k.algorithm().as_str() != ty {
                return Err(err(r, "expected the key type the line names"));
            }
            (HostKey::Ssh(k.key_data().clone()), after)
        } else {
            return Err(err(
                s,
                "expected a key type (ssh-ed25519, ecdsa-sha2-nistp256, ssh-rsa, ...)",
            ));
        };
        let (comment, _) = blanks(rest).map_err(|_| internal(rest))?;
        Ok(Some(Entry {
            marker,
            hosts,
            key,
            comment: (!comment.is_empty()).then(|| comment.to_string()),
        }))
    }
}

impl fmt::Display for Entry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.marker {
            Some(Marker::CertAuthority) => f.write_str("@cert-authority ")?,
            Some(Marker::Revoked) => f.write_str("@revoked ")?,
            None => {}
        }
        write!(f, "{} {}", self.hosts, self.key)?;
        if let Some(c) = &self.comment {
            write!(f, " {c}")?;
        }
        Ok(())
    }
}
