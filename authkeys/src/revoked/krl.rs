//! OpenSSH Key Revocation Lists (`PROTOCOL.krl`), as `ssh-keygen -k` writes them.
//!
//! A KRL is a header (magic `SSHKRL\n\0`, format version 1, KRL version, generation
//! date, flags, a reserved string and a comment) and then sections:
//!
//! | type | section | what it revokes |
//! |---|---|---|
//! | 1 | certificates | for one CA key (or, with an empty key, any CA): serial lists (0x20), serial ranges (0x21), serial bitmaps (0x22), key IDs (0x23); extensions (0x39) |
//! | 2 | explicit keys | plain key blobs |
//! | 3 | SHA-1 fingerprints | SHA-1 hashes of plain key blobs |
//! | 5 | SHA-256 fingerprints | SHA-256 hashes of plain key blobs |
//! | 4 | signature | nothing: see below |
//! | 255 | extension | nothing (a critical one is an error) |
//!
//! Parsing follows sshd's: an unknown section or subsection, bytes left over inside
//! one, a zero serial, an empty or reversed range, a negative, oversized or
//! wrapping bitmap, a hash of the wrong length, a NUL inside a key ID or the
//! comment, a CA key that does not parse, and a critical extension are errors. So
//! is exceeding a limit ([`super::MAX_SECTIONS`], [`super::MAX_SERIALS`],
//! [`super::MAX_BITMAP_BYTES`], [`super::MAX_TOTAL_BITMAP_BYTES`],
//! [`super::MAX_KEY_IDS`], [`super::MAX_KEYS`]). Bitmaps are kept as bitmaps, never
//! expanded into serials, so memory stays proportional to the file.
//!
//! **Signatures are not verified.** A signature section (type 4) holds a key and a
//! signature over the KRL before it; sshd does not require them (and OpenSSH 9.4
//! and later stopped verifying them). They are read as two strings, kept in
//! [`Krl::signatures`] as raw bytes, and must come after every other section, as
//! the format says.
//!
//! Two differences from OpenSSH 9.2's reader, both in the direction of newer
//! OpenSSH: non-critical extension sections (type 255 and subsection 0x39) are
//! skipped rather than refused, and the order of fingerprint hashes is not checked
//! (OpenSSH does not check it either).
//!
//! ```
//! use sisu_authkeys::revoked::Krl;
//! // The header of an empty KRL: magic, format 1, version 7, date, flags,
//! // empty reserved string, empty comment.
//! let mut krl = b"SSHKRL\n\0\0\0\0\x01".to_vec();
//! krl.extend_from_slice(&7u64.to_be_bytes());
//! krl.extend_from_slice(&1_700_000_000u64.to_be_bytes());
//! krl.extend_from_slice(&[0; 8 + 4 + 4]);
//! let k = Krl::parse(&krl).unwrap();
//! assert_eq!((k.version, k.generated_date), (7, 1_700_000_000));
//! krl.push(2); // a section type with no section after it
//! assert!(Krl::parse(&krl).is_err());
//! ```

use super::reader::{Counts, Rd};
use super::{
    key_blob, CaScope, Revocation, Rule, SerialRule, Target, KRL_MAGIC, MAX_BITMAP_BYTES,
    MAX_FILE_SIZE, MAX_KEYS, MAX_KEY_IDS, MAX_SECTIONS, MAX_SERIALS, MAX_TOTAL_BITMAP_BYTES,
};
use crate::cert::Cert;
use sha1::Sha1;
use sha2::{Digest, Sha256};
use ssh_key::public::KeyData;
use std::collections::{HashMap, HashSet};
use std::fmt;

/// The only KRL format version there is.
pub const KRL_FORMAT_VERSION: u32 = 1;

/// Section types.
const SECTION_CERTIFICATES: u8 = 1;
const SECTION_EXPLICIT_KEY: u8 = 2;
const SECTION_FINGERPRINT_SHA1: u8 = 3;
const SECTION_SIGNATURE: u8 = 4;
const SECTION_FINGERPRINT_SHA256: u8 = 5;
const SECTION_EXTENSION: u8 = 255;
/// Certificate subsection types.
const CERT_SERIAL_LIST: u8 = 0x20;
const CERT_SERIAL_RANGE: u8 = 0x21;
const CERT_SERIAL_BITMAP: u8 = 0x22;
const CERT_KEY_ID: u8 = 0x23;
const CERT_EXTENSION: u8 = 0x39;

/// What was wrong with a KRL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KrlErrorKind {
    /// The bytes do not start with `SSHKRL\n\0`.
    BadMagic,
    /// The file is longer than [`super::MAX_FILE_SIZE`].
    TooLarge,
    /// The data ended inside a field.
    Truncated,
    /// A format version other than [`KRL_FORMAT_VERSION`].
    FormatVersion(u32),
    /// A section type this format does not define.
    UnknownSection(u8),
    /// A certificate subsection type this format does not define.
    UnknownCertSection(u8),
    /// A section or subsection has bytes after its fields.
    TrailingData,
    /// A section other than a signature after a signature section.
    SectionAfterSignature,
    /// A critical extension (none is supported), with its name.
    CriticalExtension(String),
    /// A certificate section's CA key does not parse as a public key.
    BadCaKey,
    /// Serial number zero (never a valid revocation).
    ZeroSerial,
    /// A serial range whose first serial is zero or above its last.
    BadRange {
        /// First serial.
        lo: u64,
        /// Last serial.
        hi: u64,
    },
    /// A serial bitmap whose top bit is set (a negative mpint).
    NegativeBitmap,
    /// A serial bitmap longer than [`super::MAX_BITMAP_BYTES`].
    BitmapTooLarge,
    /// A serial bitmap reaching past serial 2^64 - 1.
    BitmapWraps,
    /// A fingerprint of the wrong length for its hash.
    BadHashLength {
        /// The hash's length.
        expected: usize,
        /// The length found.
        found: usize,
    },
    /// A NUL byte inside a key ID, extension name or the comment.
    NulInString,
    /// More than [`super::MAX_SECTIONS`] sections.
    TooManySections,
    /// More than [`super::MAX_SERIALS`] serials and ranges.
    TooManySerials,
    /// More than [`super::MAX_TOTAL_BITMAP_BYTES`] of bitmaps.
    TooMuchBitmap,
    /// More than [`super::MAX_KEY_IDS`] key IDs.
    TooManyKeyIds,
    /// More than [`super::MAX_KEYS`] explicit keys and fingerprints.
    TooManyKeys,
}

impl fmt::Display for KrlErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use KrlErrorKind as K;
        match self {
            K::BadMagic => f.write_str("expected the KRL magic SSHKRL\\n\\0"),
            K::TooLarge => write!(f, "longer than {MAX_FILE_SIZE} bytes"),
            K::Truncated => f.write_str("data ends inside a field"),
            K::FormatVersion(v) => write!(f, "format version {v}, expected 1"),
            K::UnknownSection(t) => write!(f, "unknown section type {t}"),
            K::UnknownCertSection(t) => write!(f, "unknown certificate section type {t:#04x}"),
            K::TrailingData => f.write_str("bytes left over at the end of a section"),
            K::SectionAfterSignature => f.write_str("a section after a signature section"),
            K::CriticalExtension(n) => write!(f, "unsupported critical extension {n:?}"),
            K::BadCaKey => f.write_str("certificate section CA key does not parse"),
            K::ZeroSerial => f.write_str("revokes serial 0"),
            K::BadRange { lo, hi } => write!(f, "bad serial range {lo}-{hi}"),
            K::NegativeBitmap => f.write_str("serial bitmap is a negative mpint"),
            K::BitmapTooLarge => write!(f, "serial bitmap longer than {MAX_BITMAP_BYTES} bytes"),
            K::BitmapWraps => f.write_str("serial bitmap reaches past 2^64-1"),
            K::BadHashLength { expected, found } => {
                write!(f, "fingerprint of {found} bytes, expected {expected}")
            }
            K::NulInString => f.write_str("NUL byte inside a string"),
            K::TooManySections => write!(f, "more than {MAX_SECTIONS} sections"),
            K::TooManySerials => write!(f, "more than {MAX_SERIALS} serials and ranges"),
            K::TooMuchBitmap => write!(f, "more than {MAX_TOTAL_BITMAP_BYTES} bitmap bytes"),
            K::TooManyKeyIds => write!(f, "more than {MAX_KEY_IDS} key IDs"),
            K::TooManyKeys => write!(f, "more than {MAX_KEYS} keys and fingerprints"),
        }
    }
}

/// A KRL error and the byte offset (from the start of the file) where it was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KrlError {
    /// Byte offset of the field in error.
    pub offset: usize,
    /// What was wrong.
    pub kind: KrlErrorKind,
}

impl fmt::Display for KrlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "offset {}: {}", self.offset, self.kind)
    }
}

impl std::error::Error for KrlError {}

/// A signature section, kept as read and **not verified**.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KrlSignature {
    /// The signing key's blob.
    pub key: Vec<u8>,
    /// The signature blob.
    pub signature: Vec<u8>,
}

/// A serial bitmap: bit N (counting from the least significant bit of the last
/// byte) revokes serial `offset + N`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Bitmap {
    offset: u64,
    /// Big-endian, without leading zero bytes.
    bits: Vec<u8>,
}

impl Bitmap {
    fn has(&self, serial: u64) -> bool {
        let Some(n) = serial.checked_sub(self.offset) else {
            return false;
        };
        let byte = usize::try_from(n / 8).unwrap_or(usize::MAX);
        match byte
            .checked_add(1)
            .and_then(|b| self.bits.len().checked_sub(b))
        {
            Some(i) => self.bits[i] & (1 << (n % 8)) != 0,
            None => false,
        }
    }
}

/// What one CA's sections (or the any-CA sections) revoke.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
struct CaRevocations {
    /// Listed serials, sorted, without duplicates.
    serials: Vec<u64>,
    /// Ranges, sorted and with overlaps merged.
    ranges: Vec<(u64, u64)>,
    /// Bitmaps sorted by offset.
    bitmaps: Vec<Bitmap>,
    key_ids: HashSet<Vec<u8>>,
}

impl CaRevocations {
    fn finish(&mut self) {
        self.serials.sort_unstable();
        self.serials.dedup();
        self.ranges.sort_unstable();
        let mut merged: Vec<(u64, u64)> = Vec::with_capacity(self.ranges.len());
        for &(lo, hi) in &self.ranges {
            match merged.last_mut() {
                Some(last) if lo <= last.1 => last.1 = last.1.max(hi),
                _ => merged.push((lo, hi)),
            }
        }
        self.ranges = merged;
        self.bitmaps.sort_by_key(|b| b.offset);
    }

    fn serial_rule(&self, serial: u64) -> Option<SerialRule> {
        if self.serials.binary_search(&serial).is_ok() {
            return Some(SerialRule::List);
        }
        let i = self.ranges.partition_point(|&(_, hi)| hi < serial);
        if let Some(&(lo, hi)) = self.ranges.get(i) {
            if lo <= serial {
                return Some(SerialRule::Range { lo, hi });
            }
        }
        // Only a bitmap starting at most MAX_BITMAP_BYTES * 8 - 1 below can hold it.
        let span = (MAX_BITMAP_BYTES * 8) as u64;
        let from = serial.saturating_sub(span - 1);
        let start = self.bitmaps.partition_point(|b| b.offset < from);
        self.bitmaps[start..]
            .iter()
            .take_while(|b| b.offset <= serial)
            .find(|b| b.has(serial))
            .map(|b| SerialRule::Bitmap { offset: b.offset })
    }

    fn check(&self, cert: &Cert, scope: CaScope) -> Option<Revocation> {
        let rule = if self.key_ids.contains(cert.key_id.as_bytes()) {
            Rule::KeyId {
                key_id: cert.key_id.clone(),
                scope,
            }
        } else if cert.serial == 0 {
            // Serial 0 is what a CA writes when it gives none: never revoked by serial.
            return None;
        } else {
            Rule::Serial {
                serial: cert.serial,
                how: self.serial_rule(cert.serial)?,
                scope,
            }
        };
        Some(Revocation {
            target: Target::Certificate,
            rule,
        })
    }
}

/// A parsed Key Revocation List.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Krl {
    /// The KRL's version number (`ssh-keygen -k -z`), increasing with each change.
    pub version: u64,
    /// When it was generated, in Unix seconds.
    pub generated_date: u64,
    /// Flags (none is defined).
    pub flags: u64,
    /// The comment (lossily decoded if not UTF-8).
    pub comment: String,
    /// Signature sections, **not verified** (see the module docs).
    pub signatures: Vec<KrlSignature>,
    explicit_keys: HashSet<Vec<u8>>,
    sha1: HashSet<[u8; 20]>,
    sha256: HashSet<[u8; 32]>,
    /// Per CA key; `None` is the any-CA entry.
    cas: HashMap<Option<KeyData>, CaRevocations>,
}

/// An extension (section 255 or subsection 0x39): name, critical flag, contents.
/// A non-critical one is skipped; a critical one is an error (none is supported).
fn extension(mut r: Rd<'_>) -> Result<(), KrlError> {
    let start = r;
    let name = r.cstring()?;
    let critical = r.u8()?;
    r.string()?;
    r.end()?;
    if critical != 0 {
        let name = String::from_utf8_lossy(name).into_owned();
        return Err(start.err(KrlErrorKind::CriticalExtension(name)));
    }
    Ok(())
}

fn bitmap(mut r: Rd<'_>, counts: &mut Counts) -> Result<Bitmap, KrlError> {
    let offset = r.u64()?;
    let m = r.string()?;
    r.end()?;
    let raw = m.buf;
    if raw.first().is_some_and(|&b| b & 0x80 != 0) {
        return Err(m.err(KrlErrorKind::NegativeBitmap));
    }
    if raw.len() > MAX_BITMAP_BYTES + 1 || (raw.len() == MAX_BITMAP_BYTES + 1 && raw[0] != 0) {
        return Err(m.err(KrlErrorKind::BitmapTooLarge));
    }
    let zeros = raw.iter().take_while(|&&b| b == 0).count();
    let bits = &raw[zeros..];
    if let Some(&top) = bits.first() {
        // Highest bit index: (bytes - 1) * 8 + position of the top byte's top bit.
        let high = (bits.len() as u64 - 1) * 8 + u64::from(7 - top.leading_zeros());
        if offset.checked_add(high).is_none() {
            return Err(m.err(KrlErrorKind::BitmapWraps));
        }
        if offset == 0 && bits[bits.len() - 1] & 1 != 0 {
            return Err(m.err(KrlErrorKind::ZeroSerial));
        }
    }
    Counts::bump(
        &m,
        &mut counts.bitmap_bytes,
        bits.len(),
        MAX_TOTAL_BITMAP_BYTES,
        KrlErrorKind::TooMuchBitmap,
    )?;
    Ok(Bitmap {
        offset,
        bits: bits.to_vec(),
    })
}

impl Krl {
    /// Parse a KRL. Any malformed or over-limit byte is an error.
    pub fn parse(bytes: &[u8]) -> Result<Krl, KrlError> {
        let mut r = Rd { buf: bytes, at: 0 };
        if bytes.len() > MAX_FILE_SIZE {
            return Err(r.err(KrlErrorKind::TooLarge));
        }
        if !bytes.starts_with(KRL_MAGIC) {
            return Err(r.err(KrlErrorKind::BadMagic));
        }
        r.take(KRL_MAGIC.len())?;
        let at = r.at;
        let format = r.u32()?;
        if format != KRL_FORMAT_VERSION {
            return Err(KrlError {
                offset: at,
                kind: KrlErrorKind::FormatVersion(format),
            });
        }
        let mut krl = Krl {
            version: r.u64()?,
            generated_date: r.u64()?,
            flags: r.u64()?,
            comment: String::new(),
            signatures: Vec::new(),
            explicit_keys: HashSet::new(),
            sha1: HashSet::new(),
            sha256: HashSet::new(),
            cas: HashMap::new(),
        };
        r.string()?; // reserved
        krl.comment = String::from_utf8_lossy(r.cstring()?).into_owned();
        let mut counts = Counts::default();
        while !r.is_empty() {
            counts.section(&r)?;
            let at = r.at;
            let ty = r.u8()?;
            if !krl.signatures.is_empty() && ty != SECTION_SIGNATURE {
                return Err(KrlError {
                    offset: at,
                    kind: KrlErrorKind::SectionAfterSignature,
                });
            }
            let body = r.string()?;
            match ty {
                SECTION_CERTIFICATES => krl.certificates(body, &mut counts)?,
                SECTION_EXPLICIT_KEY => {
                    let mut b = body;
                    while !b.is_empty() {
                        counts.key(&b)?;
                        let blob = b.string()?;
                        krl.explicit_keys.insert(blob.buf.to_vec());
                    }
                }
                SECTION_FINGERPRINT_SHA1 => {
                    hashes(body, &mut counts, |h| krl.sha1.insert(h))?;
                }
                SECTION_FINGERPRINT_SHA256 => {
                    hashes(body, &mut counts, |h| krl.sha256.insert(h))?;
                }
                SECTION_SIGNATURE => {
                    let signature = r.string()?;
                    krl.signatures.push(KrlSignature {
                        key: body.buf.to_vec(),
                        signature: signature.buf.to_vec(),
                    });
                }
                SECTION_EXTENSION => extension(body)?,
                other => {
                    return Err(KrlError {
                        offset: at,
                        kind: KrlErrorKind::UnknownSection(other),
                    })
                }
            }
        }
        for ca in krl.cas.values_mut() {
            ca.finish();
        }
        Ok(krl)
    }

    fn certificates(&mut self, mut r: Rd<'_>, counts: &mut Counts) -> Result<(), KrlError> {
        let ca_blob = r.string()?;
        r.string()?; // reserved
        let ca = if ca_blob.is_empty() {
            None
        } else {
            let key = ssh_key::PublicKey::from_bytes(ca_blob.buf)
                .map_err(|_| ca_blob.err(KrlErrorKind::BadCaKey))?;
            Some(key.key_data().clone())
        };
        let revs = self.cas.entry(ca).or_default();
        while !r.is_empty() {
            counts.section(&r)?;
            let at = r.at;
            let ty = r.u8()?;
            let mut s = r.string()?;
            match ty {
                CERT_SERIAL_LIST => {
                    while !s.is_empty() {
                        counts.serial(&s)?;
                        let here = s;
                        match s.u64()? {
                            0 => return Err(here.err(KrlErrorKind::ZeroSerial)),
                            n => revs.serials.push(n),
                        }
                    }
                }
                CERT_SERIAL_RANGE => {
                    counts.serial(&s)?;
                    let here = s;
                    let (lo, hi) = (s.u64()?, s.u64()?);
                    s.end()?;
                    if lo == 0 || lo > hi {
                        return Err(here.err(KrlErrorKind::BadRange { lo, hi }));
                    }
                    revs.ranges.push((lo, hi));
                }
                CERT_SERIAL_BITMAP => revs.bitmaps.push(bitmap(s, counts)?),
                CERT_KEY_ID => {
                    while !s.is_empty() {
                        Counts::bump(
                            &s,
                            &mut counts.key_ids,
                            1,
                            MAX_KEY_IDS,
                            KrlErrorKind::TooManyKeyIds,
                        )?;
                        revs.key_ids.insert(s.cstring()?.to_vec());
                    }
                }
                CERT_EXTENSION => extension(s)?,
                other => {
                    return Err(KrlError {
                        offset: at,
                        kind: KrlErrorKind::UnknownCertSection(other),
                    })
                }
            }
        }
        Ok(())
    }

    /// Is this plain key revoked: by SHA-1 or SHA-256 fingerprint of its blob, or
    /// as an explicit key? (In that order, as sshd checks.)
    pub fn check_key(&self, key: &KeyData) -> Option<Revocation> {
        self.plain_rule(key).map(|rule| Revocation {
            target: Target::Key,
            rule,
        })
    }

    fn plain_rule(&self, key: &KeyData) -> Option<Rule> {
        let Some(blob) = key_blob(key) else {
            return Some(Rule::Unencodable);
        };
        if !self.sha1.is_empty() && self.sha1.contains(&<[u8; 20]>::from(Sha1::digest(&blob))) {
            return Some(Rule::Sha1Fingerprint);
        }
        if !self.sha256.is_empty()
            && self
                .sha256
                .contains(&<[u8; 32]>::from(Sha256::digest(&blob)))
        {
            return Some(Rule::Sha256Fingerprint);
        }
        self.explicit_keys
            .contains(&blob)
            .then_some(Rule::ExplicitKey)
    }

    /// Is this certificate revoked? Checked in sshd's order: the certified key as a
    /// plain key; the certificate's key ID, then its serial (unless 0), under its
    /// CA's sections; the same under the any-CA sections; and the CA key as a plain
    /// key. The first rule that matches is returned.
    pub fn check_cert(&self, cert: &Cert) -> Option<Revocation> {
        if let Some(rule) = self.plain_rule(&cert.key) {
            return Some(Revocation {
                target: Target::CertifiedKey,
                rule,
            });
        }
        let ca = Some(cert.signature_key.clone());
        for (key, scope) in [(&ca, CaScope::Ca), (&None, CaScope::AnyCa)] {
            if let Some(hit) = self.cas.get(key).and_then(|r| r.check(cert, scope)) {
                return Some(hit);
            }
        }
        self.plain_rule(&cert.signature_key).map(|rule| Revocation {
            target: Target::CaKey,
            rule,
        })
    }
}

/// A fingerprint section: strings of exactly `N` bytes.
fn hashes<const N: usize>(
    mut r: Rd<'_>,
    counts: &mut Counts,
    mut insert: impl FnMut([u8; N]) -> bool,
) -> Result<(), KrlError> {
    while !r.is_empty() {
        counts.key(&r)?;
        let mut h = r.string()?;
        if h.buf.len() != N {
            return Err(h.err(KrlErrorKind::BadHashLength {
                expected: N,
                found: h.buf.len(),
            }));
        }
        insert(h.array()?);
    }
    Ok(())
}
