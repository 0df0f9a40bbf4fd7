//! Parse errors: the line, the column, and what was expected.

use std::fmt;

/// What was wrong with a line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ErrorKind {
    /// The line is longer than [`crate::entry::MAX_LINE_LEN`].
    LineTooLong,
    /// The line is not UTF-8.
    NotUtf8,
    /// The options field is malformed; the text says what was expected.
    Options(String),
    /// Options, then nothing.
    MissingKey,
    /// A key type with no base64 blob after it.
    MissingBlob,
    /// The first field after the options is not a key type this crate knows.
    UnknownKeyType(String),
    /// The blob is not valid base64.
    BadBase64,
    /// The blob decodes, but not to a valid key or certificate.
    BadKey(String),
    /// The blob holds a different key type than the line names.
    TypeMismatch(String),
    /// A protocol-1 line is not `bits exponent modulus` in decimal within limits.
    Rsa1,
    /// A parser failed where it cannot; reported rather than panicking.
    Internal,
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ErrorKind::LineTooLong => write!(
                f,
                "expected a line of at most {} bytes",
                crate::entry::MAX_LINE_LEN
            ),
            ErrorKind::NotUtf8 => f.write_str("expected UTF-8 text"),
            ErrorKind::Options(m) => write!(f, "bad options: {m}"),
            ErrorKind::MissingKey => f.write_str("expected a key after the options"),
            ErrorKind::MissingBlob => f.write_str("expected a base64 key after the key type"),
            ErrorKind::UnknownKeyType(t) => write!(
                f,
                "expected a key type (ssh-ed25519, ecdsa-sha2-nistp256, ssh-rsa, ...) or options, found {t:?}"
            ),
            ErrorKind::BadBase64 => f.write_str("expected a base64 key blob"),
            ErrorKind::BadKey(m) => write!(f, "key blob is not a valid key: {m}"),
            ErrorKind::TypeMismatch(t) => write!(f, "expected a {t} key in the blob, found another type"),
            ErrorKind::Rsa1 => f.write_str(
                "expected a protocol-1 key: decimal bits (1-16384), exponent and modulus",
            ),
            ErrorKind::Internal => f.write_str("internal parser error"),
        }
    }
}

/// A line that is not a valid entry. sshd skips such a line; the rest of the file
/// still counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// 1-based line number (0 when a single line was parsed on its own).
    pub line: usize,
    /// 1-based byte column where the problem starts.
    pub column: usize,
    /// What was wrong.
    pub kind: ErrorKind,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "line {}, column {}: {}",
            self.line, self.column, self.kind
        )
    }
}

impl std::error::Error for ParseError {}
