//! One authorized_keys line: `[options] keytype base64 [comment]` or the protocol-1
//! form `[options] bits exponent modulus [comment]`.

use crate::cert::Cert;
use crate::error::{ErrorKind, ParseError};
use crate::options::{parse_options, print_options, AuthOption};
use crate::rsa1::Rsa1Key;
use base64::Engine;
use nom::bytes::complete::{take_till, take_while, take_while1};
use nom::IResult;
use ssh_key::public::KeyData;
use ssh_key::HashAlg;
use std::fmt;

/// Longest line accepted, in bytes; a longer line is an error for that line.
pub const MAX_LINE_LEN: usize = 256 * 1024;

/// The key types an SSH-2 line may name (plain keys).
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

/// The certificate types an SSH-2 line may name.
pub const CERT_TYPES: [&str; 8] = [
    "ssh-ed25519-cert-v01@openssh.com",
    "ecdsa-sha2-nistp256-cert-v01@openssh.com",
    "ecdsa-sha2-nistp384-cert-v01@openssh.com",
    "ecdsa-sha2-nistp521-cert-v01@openssh.com",
    "ssh-rsa-cert-v01@openssh.com",
    "ssh-dss-cert-v01@openssh.com",
    "sk-ssh-ed25519-cert-v01@openssh.com",
    "sk-ecdsa-sha2-nistp256-cert-v01@openssh.com",
];

/// The key an entry holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryKey {
    /// A plain SSH-2 public key.
    Public(KeyData),
    /// An OpenSSH certificate (its signature checked when parsed).
    Certificate(Box<Cert>),
    /// A protocol-1 RSA key.
    Rsa1(Rsa1Key),
}

impl EntryKey {
    /// The `SHA256:…` fingerprint `ssh-keygen -l` prints for this line (for a
    /// certificate, that of the key it certifies).
    pub fn fingerprint(&self) -> String {
        match self {
            EntryKey::Public(k) => k.fingerprint(HashAlg::Sha256).to_string(),
            EntryKey::Certificate(c) => c.key.fingerprint(HashAlg::Sha256).to_string(),
            EntryKey::Rsa1(k) => k.fingerprint_sha256(),
        }
    }

    /// The SSH-2 key material (for a certificate, the certified key).
    pub fn key_data(&self) -> Option<&KeyData> {
        match self {
            EntryKey::Public(k) => Some(k),
            EntryKey::Certificate(c) => Some(&c.key),
            EntryKey::Rsa1(_) => None,
        }
    }
}

/// One parsed authorized_keys entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The options, in line order.
    pub options: Vec<AuthOption>,
    /// The key.
    pub key: EntryKey,
    /// Everything after the key, if anything.
    pub comment: Option<String>,
}

fn is_blank(c: char) -> bool {
    c == ' ' || c == '\t'
}

fn token(input: &str) -> IResult<&str, &str> {
    take_till(is_blank)(input)
}

fn blanks(input: &str) -> IResult<&str, &str> {
    take_while(is_blank)(input)
}

fn digits(input: &str) -> IResult<&str, &str> {
    take_while1(|c: char| c.is_ascii_digit())(input)
}

fn starts_key(tok: &str) -> bool {
    KEY_TYPES.contains(&tok)
        || CERT_TYPES.contains(&tok)
        || (!tok.is_empty() && tok.bytes().all(|b| b.is_ascii_digit()))
}

impl Entry {
    /// Parse one line (without its line end). `Ok(None)` for a blank or comment line.
    /// The error's `line` is 0: [`crate::parse_file`] fills it in.
    ///
    /// ```
    /// use sisu_authkeys::Entry;
    /// let line = "no-pty ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGgiVQbiF3lY3jYKSC9qbLSdMcTWcjyY0V/35xEuuzPm alice";
    /// let e = Entry::parse(line).unwrap().unwrap();
    /// assert_eq!(e.comment.as_deref(), Some("alice"));
    /// assert_eq!(e.to_string(), line);
    /// ```
    pub fn parse(line: &str) -> Result<Option<Entry>, ParseError> {
        let err = |at: &str, kind: ErrorKind| ParseError {
            line: 0,
            column: line.len() - at.len() + 1,
            kind,
        };
        if line.len() > MAX_LINE_LEN {
            return Err(err(line, ErrorKind::LineTooLong));
        }
        // Like ssh-keygen, the line ends at the first CR (so CRLF files read fine).
        let line = line.split('\r').next().unwrap_or(line);
        let (s, _) = blanks(line).map_err(|_| err(line, ErrorKind::Internal))?;
        if s.is_empty() || s.starts_with('#') {
            return Ok(None);
        }
        let (_, first) = token(s).map_err(|_| err(s, ErrorKind::Internal))?;
        let (options, s) = if starts_key(first) {
            (Vec::new(), s)
        } else {
            let (opts, rest) = parse_options(s).map_err(|e| ParseError {
                line: 0,
                column: line.len() - s.len() + e.offset + 1,
                kind: ErrorKind::Options(e.message),
            })?;
            let (rest, _) = blanks(rest).map_err(|_| err(rest, ErrorKind::Internal))?;
            if rest.is_empty() {
                return Err(err(rest, ErrorKind::MissingKey));
            }
            (opts, rest)
        };
        let (rest, ty) = token(s).map_err(|_| err(s, ErrorKind::Internal))?;
        let (key, rest) = if ty.bytes().all(|b| b.is_ascii_digit()) && !ty.is_empty() {
            parse_rsa1(s, &err)?
        } else if KEY_TYPES.contains(&ty) || CERT_TYPES.contains(&ty) {
            let (rest, _) = blanks(rest).map_err(|_| err(rest, ErrorKind::Internal))?;
            let (after, b64) = token(rest).map_err(|_| err(rest, ErrorKind::Internal))?;
            if b64.is_empty() {
                return Err(err(rest, ErrorKind::MissingBlob));
            }
            (parse_blob(ty, b64).map_err(|k| err(rest, k))?, after)
        } else {
            return Err(err(s, ErrorKind::UnknownKeyType(snip(ty))));
        };
        let (comment, _) = blanks(rest).map_err(|_| err(rest, ErrorKind::Internal))?;
        Ok(Some(Entry {
            options,
            key,
            comment: (!comment.is_empty()).then(|| comment.to_string()),
        }))
    }

    /// Is this entry a CA key (`cert-authority`)?
    pub fn is_cert_authority(&self) -> bool {
        self.options.contains(&AuthOption::CertAuthority)
    }
}

type ErrAt<'a> = dyn Fn(&str, ErrorKind) -> ParseError + 'a;

fn parse_rsa1<'a>(s: &'a str, err: &ErrAt<'_>) -> Result<(EntryKey, &'a str), ParseError> {
    let mut fields = [""; 3];
    let mut rest = s;
    for (i, f) in fields.iter_mut().enumerate() {
        if i > 0 {
            rest = blanks(rest).map_err(|_| err(rest, ErrorKind::Internal))?.0;
        }
        let (r, d) = digits(rest).map_err(|_| err(rest, ErrorKind::Rsa1))?;
        if !r.is_empty() && !r.starts_with(is_blank) {
            return Err(err(r, ErrorKind::Rsa1));
        }
        *f = d;
        rest = r;
    }
    let key = Rsa1Key::from_decimal(fields[0], fields[1], fields[2])
        .ok_or_else(|| err(s, ErrorKind::Rsa1))?;
    Ok((EntryKey::Rsa1(key), rest))
}

/// Decode a base64 key blob and check that it is the type the line names.
pub(crate) fn parse_blob(ty: &str, b64: &str) -> Result<EntryKey, ErrorKind> {
    let blob = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .map_err(|_| ErrorKind::BadBase64)?;
    if CERT_TYPES.contains(&ty) {
        let cert = Cert::from_bytes(&blob).map_err(|e| ErrorKind::BadKey(e.to_string()))?;
        if cert.type_name != ty {
            return Err(ErrorKind::TypeMismatch(ty.to_string()));
        }
        Ok(EntryKey::Certificate(Box::new(cert)))
    } else {
        let key =
            ssh_key::PublicKey::from_bytes(&blob).map_err(|e| ErrorKind::BadKey(e.to_string()))?;
        if key.algorithm().as_str() != ty {
            return Err(ErrorKind::TypeMismatch(ty.to_string()));
        }
        Ok(EntryKey::Public(key.key_data().clone()))
    }
}

fn snip(s: &str) -> String {
    s.chars().take(40).collect()
}

impl fmt::Display for Entry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.options.is_empty() {
            write!(f, "{} ", print_options(&self.options))?;
        }
        match &self.key {
            EntryKey::Public(k) => {
                let text = ssh_key::PublicKey::new(k.clone(), "")
                    .to_openssh()
                    .map_err(|_| fmt::Error)?;
                f.write_str(text.trim_end())?;
            }
            EntryKey::Certificate(c) => {
                let b64 = base64::engine::general_purpose::STANDARD.encode(&c.blob);
                write!(f, "{} {b64}", c.type_name)?;
            }
            EntryKey::Rsa1(k) => write!(f, "{k}")?,
        }
        if let Some(c) = &self.comment {
            write!(f, " {c}")?;
        }
        Ok(())
    }
}
