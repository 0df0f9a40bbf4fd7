//! A whole known_hosts file: look-up by name and key, listing, adding and removing.

use crate::entry::{Entry, HostKey, Hosts, Marker, ParseError};
use crate::hashed::HashedName;
use rand_core::CryptoRngCore;
use ssh_key::public::KeyData;

/// One line of the file, kept verbatim so that writing changes only what it must.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// 1-based line number in the file as parsed (0 for lines added since).
    pub number: usize,
    /// The text, without its line end.
    pub text: String,
    /// What the line holds.
    pub kind: LineKind,
}

/// What a line holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineKind {
    /// Blank or `#` comment.
    Comment,
    /// A valid entry.
    Entry(Entry),
    /// A line that is not valid (OpenSSH skips it).
    Invalid(ParseError),
}

/// A parsed known_hosts file.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct KnownHosts {
    /// Every line, in order.
    pub lines: Vec<Line>,
}

/// The key to look up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LookupKey<'a> {
    /// A plain SSH-2 host key.
    Plain(&'a KeyData),
    /// A host certificate: its CA key and its own (certified) key.
    Certificate {
        /// The key that signed the certificate.
        ca: &'a KeyData,
        /// The certified key.
        key: &'a KeyData,
    },
    /// A protocol-1 RSA host key, big-endian exponent and modulus.
    Rsa1 {
        /// Public exponent.
        exponent: &'a [u8],
        /// Modulus.
        modulus: &'a [u8],
    },
}

/// The answer to a look-up, with the deciding lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostStatus {
    /// The key is known for this host (for a certificate: its CA is) at `line`.
    Match {
        /// The matching line.
        line: usize,
    },
    /// The host is known, but with other keys (these lines).
    Mismatch {
        /// Lines of the host's other keys.
        lines: Vec<usize>,
    },
    /// The key (or the certificate's CA) is marked `@revoked` at `line`.
    Revoked {
        /// The `@revoked` line.
        line: usize,
    },
    /// Nothing is known about this host and key.
    Unknown,
}

/// The name OpenSSH looks up for a host and port: `host`, or `[host]:port` when the
/// port is not 22.
///
/// ```
/// assert_eq!(sisu_knownhosts::host_port_name("example.com", 22), "example.com");
/// assert_eq!(sisu_knownhosts::host_port_name("example.com", 2222), "[example.com]:2222");
/// ```
pub fn host_port_name(host: &str, port: u16) -> String {
    if port == 22 || port == 0 {
        host.to_string()
    } else {
        format!("[{host}]:{port}")
    }
}

fn rsa1_eq(k: &crate::rsa1::Rsa1Key, e: &[u8], n: &[u8]) -> bool {
    let trim = |b: &[u8]| -> Vec<u8> { b.iter().copied().skip_while(|&x| x == 0).collect() };
    k.exponent == trim(e) && k.modulus == trim(n)
}

impl KnownHosts {
    /// Parse a file's text. Never fails as a whole: bad lines become
    /// [`LineKind::Invalid`].
    pub fn parse(text: &str) -> KnownHosts {
        let body = text.strip_suffix('\n').unwrap_or(text);
        let mut lines = Vec::new();
        if !text.is_empty() {
            for (i, t) in body.split('\n').enumerate() {
                lines.push(Line::new(i + 1, t));
            }
        }
        KnownHosts { lines }
    }

    /// Parse bytes; a line that is not UTF-8 is invalid on its own.
    pub fn parse_bytes(bytes: &[u8]) -> KnownHosts {
        let body = bytes.strip_suffix(b"\n").unwrap_or(bytes);
        let mut lines = Vec::new();
        if !bytes.is_empty() {
            for (i, raw) in body.split(|&b| b == b'\n').enumerate() {
                lines.push(match std::str::from_utf8(raw) {
                    Ok(t) => Line::new(i + 1, t),
                    Err(e) => Line {
                        number: i + 1,
                        text: String::from_utf8_lossy(raw).into_owned(),
                        kind: LineKind::Invalid(ParseError {
                            line: i + 1,
                            column: e.valid_up_to() + 1,
                            message: "expected UTF-8 text".into(),
                        }),
                    },
                });
            }
        }
        KnownHosts { lines }
    }

    /// Valid entries with their line numbers.
    pub fn entries(&self) -> impl Iterator<Item = (usize, &Entry)> {
        self.lines.iter().filter_map(|l| match &l.kind {
            LineKind::Entry(e) => Some((l.number, e)),
            _ => None,
        })
    }

    /// Every entry that applies to `name` (`host` or `[host]:port`, as
    /// `ssh-keygen -F` takes it), in file order, markers included.
    pub fn entries_for<'a>(
        &'a self,
        name: &'a str,
    ) -> impl Iterator<Item = (usize, &'a Entry)> + 'a {
        self.entries().filter(move |(_, e)| e.hosts.matches(name))
    }

    /// Look up `key` for `host` on `port`, as `ssh` decides: revoked beats
    /// everything; otherwise a matching entry, else mismatch if the host has
    /// other keys, else unknown.
    pub fn lookup(&self, host: &str, port: u16, key: LookupKey<'_>) -> HostStatus {
        let name = host_port_name(host, port);
        let mut mismatch = Vec::new();
        let mut found = None;
        for (n, e) in self.entries_for(&name) {
            match (e.marker, &e.key, key) {
                (Some(Marker::Revoked), HostKey::Ssh(k), LookupKey::Plain(p)) if k == p => {
                    return HostStatus::Revoked { line: n }
                }
                (Some(Marker::Revoked), HostKey::Ssh(k), LookupKey::Certificate { ca, key })
                    if k == ca || k == key =>
                {
                    return HostStatus::Revoked { line: n }
                }
                (
                    Some(Marker::Revoked),
                    HostKey::Rsa1(k),
                    LookupKey::Rsa1 { exponent, modulus },
                ) if rsa1_eq(k, exponent, modulus) => return HostStatus::Revoked { line: n },
                (
                    Some(Marker::CertAuthority),
                    HostKey::Ssh(k),
                    LookupKey::Certificate { ca, .. },
                ) if k == ca => {
                    found.get_or_insert(n);
                }
                (None, HostKey::Ssh(k), LookupKey::Plain(p)) => {
                    if k == p {
                        found.get_or_insert(n);
                    } else {
                        mismatch.push(n);
                    }
                }
                (None, HostKey::Rsa1(k), LookupKey::Rsa1 { exponent, modulus }) => {
                    if rsa1_eq(k, exponent, modulus) {
                        found.get_or_insert(n);
                    } else {
                        mismatch.push(n);
                    }
                }
                _ => {}
            }
        }
        match found {
            Some(line) => HostStatus::Match { line },
            None if !mismatch.is_empty() => HostStatus::Mismatch { lines: mismatch },
            None => HostStatus::Unknown,
        }
    }

    /// Append an entry for `host`:`port` and return its text. With `rng`, the name
    /// is hashed (`|1|…`), as `HashKnownHosts yes` writes it.
    pub fn add(
        &mut self,
        host: &str,
        port: u16,
        key: &KeyData,
        rng: Option<&mut dyn CryptoRngCore>,
    ) -> String {
        let name = host_port_name(host, port);
        let hosts = match rng {
            Some(rng) => Hosts::Hashed(HashedName::new(&name, rng)),
            None => Hosts::Patterns(name),
        };
        let entry = Entry {
            marker: None,
            hosts,
            key: HostKey::Ssh(key.clone()),
            comment: None,
        };
        let text = entry.to_string();
        self.lines.push(Line {
            number: 0,
            text: text.clone(),
            kind: LineKind::Entry(entry),
        });
        text
    }

    /// Remove the entries for `name` (`host` or `[host]:port`) without a marker, as
    /// `ssh-keygen -R` does (CA and revocation lines stay). Returns the removed
    /// line numbers.
    pub fn remove(&mut self, name: &str) -> Vec<usize> {
        let mut removed = Vec::new();
        self.lines.retain(|l| match &l.kind {
            LineKind::Entry(e) if e.marker.is_none() && e.hosts.matches(name) => {
                removed.push(l.number);
                false
            }
            _ => true,
        });
        removed
    }
}

impl Line {
    fn new(number: usize, text: &str) -> Line {
        let kind = match Entry::parse(text) {
            Ok(None) => LineKind::Comment,
            Ok(Some(e)) => LineKind::Entry(e),
            Err(mut e) => {
                e.line = number;
                LineKind::Invalid(e)
            }
        };
        Line {
            number,
            text: text.to_string(),
            kind,
        }
    }
}

impl std::fmt::Display for KnownHosts {
    /// The file's text: every line as read (or added), each ending in `\n`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for l in &self.lines {
            writeln!(f, "{}", l.text)?;
        }
        Ok(())
    }
}
