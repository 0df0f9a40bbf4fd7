//! The identification line (RFC 4253 §4.2): `SSH-protoversion-softwareversion SP comments CR LF`.
//!
//! A line is at most [`MAX_IDENT_LEN`] bytes including its CR LF. A server may send other
//! lines before its identification; a client may not, so a server reading a client calls
//! [`read_identification`] with `allow_preamble = false`.

use std::fmt;

/// Longest identification line, CR LF included (RFC 4253 §4.2).
pub const MAX_IDENT_LEN: usize = 255;
/// Most lines a client skips before the server's identification line.
pub const MAX_PREAMBLE_LINES: usize = 1024;

/// A peer's parsed identification line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identification {
    /// The line as sent, without CR LF: this is what enters the exchange hash.
    pub line: String,
    /// `protoversion`: `2.0`, `1.99` or `1.5`.
    pub proto: String,
    /// `softwareversion`.
    pub software: String,
    /// The comments after the first space, if any.
    pub comments: Option<String>,
}

impl Identification {
    /// Whether the peer speaks SSH-2 (`2.0`, or `1.99` which means both).
    pub fn speaks_ssh2(&self) -> bool {
        self.proto == "2.0" || self.proto == "1.99"
    }
}

/// Why an identification exchange failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdentError {
    /// The line is longer than [`MAX_IDENT_LEN`].
    TooLong,
    /// The first line did not start with `SSH-` (or too many preamble lines).
    NotSsh,
    /// The line starts with `SSH-` but is malformed (bad characters, no version).
    Malformed,
}

impl fmt::Display for IdentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IdentError::TooLong => f.write_str("identification line too long"),
            IdentError::NotSsh => f.write_str("not an SSH identification line"),
            IdentError::Malformed => f.write_str("malformed identification line"),
        }
    }
}

impl std::error::Error for IdentError {}

/// Parses one line (without its line end) as an identification.
pub fn parse_line(line: &[u8]) -> Result<Identification, IdentError> {
    if !line.starts_with(b"SSH-") {
        return Err(IdentError::NotSsh);
    }
    if line.len() + 2 > MAX_IDENT_LEN {
        return Err(IdentError::TooLong);
    }
    // Printable US-ASCII plus space only (RFC 4253 §4.2).
    if !line.iter().all(|&b| (0x20..0x7f).contains(&b)) {
        return Err(IdentError::Malformed);
    }
    let text = std::str::from_utf8(line).map_err(|_| IdentError::Malformed)?;
    let (main, comments) = match text.split_once(' ') {
        Some((m, c)) => (m, Some(c.to_string())),
        None => (text, None),
    };
    let mut parts = main.splitn(3, '-');
    let _ssh = parts.next();
    let proto = parts.next().ok_or(IdentError::Malformed)?;
    let software = parts.next().ok_or(IdentError::Malformed)?;
    if proto.is_empty() || software.is_empty() {
        return Err(IdentError::Malformed);
    }
    Ok(Identification {
        line: text.to_string(),
        proto: proto.to_string(),
        software: software.to_string(),
        comments,
    })
}

/// Looks for the identification line at the start of `buf`.
///
/// Returns `Ok(None)` when more bytes are needed, or the identification and how many
/// bytes of `buf` it (and any skipped preamble) took. Lines end in LF, with or without
/// CR. With `allow_preamble` (a client reading a server) up to [`MAX_PREAMBLE_LINES`]
/// lines not starting with `SSH-` are skipped.
pub fn read_identification(
    buf: &[u8],
    allow_preamble: bool,
) -> Result<Option<(Identification, usize)>, IdentError> {
    let mut pos = 0;
    let mut lines = 0;
    loop {
        let rest = &buf[pos..];
        let Some(nl) = rest.iter().position(|&b| b == b'\n') else {
            let limit = if allow_preamble && !rest.starts_with(b"SSH-") {
                8192
            } else {
                MAX_IDENT_LEN
            };
            if rest.len() >= limit {
                return Err(IdentError::TooLong);
            }
            if !allow_preamble && rest.len() >= 4 && !rest.starts_with(b"SSH-") {
                return Err(IdentError::NotSsh);
            }
            return Ok(None);
        };
        let mut line = &rest[..nl];
        if line.last() == Some(&b'\r') {
            line = &line[..line.len() - 1];
        }
        if line.starts_with(b"SSH-") {
            if nl + 1 > MAX_IDENT_LEN {
                return Err(IdentError::TooLong);
            }
            let id = parse_line(line)?;
            return Ok(Some((id, pos + nl + 1)));
        }
        if !allow_preamble {
            return Err(IdentError::NotSsh);
        }
        lines += 1;
        if lines > MAX_PREAMBLE_LINES || nl >= 8192 {
            return Err(IdentError::NotSsh);
        }
        pos += nl + 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_openssh_line() {
        let (id, n) = read_identification(b"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\nrest", false)
            .unwrap()
            .unwrap();
        assert_eq!(n, 32);
        assert_eq!(id.proto, "2.0");
        assert_eq!(id.software, "OpenSSH_9.2p1");
        assert_eq!(id.comments.as_deref(), Some("Debian-2"));
        assert_eq!(id.line, "SSH-2.0-OpenSSH_9.2p1 Debian-2");
    }

    #[test]
    fn bare_lf_and_partial() {
        assert_eq!(read_identification(b"SSH-2.0-x", false), Ok(None));
        assert!(read_identification(b"SSH-2.0-x\n", false)
            .unwrap()
            .is_some());
    }

    #[test]
    fn server_refuses_garbage_and_long_lines() {
        assert_eq!(
            read_identification(b"GET / HTTP/1.1\r\n", false),
            Err(IdentError::NotSsh)
        );
        assert_eq!(read_identification(b"GET ", false), Err(IdentError::NotSsh));
        let long = [b"SSH-2.0-".as_slice(), &[b'a'; 300]].concat();
        assert_eq!(read_identification(&long, false), Err(IdentError::TooLong));
    }

    #[test]
    fn client_skips_preamble() {
        let (id, n) = read_identification(b"hello\r\nworld\nSSH-2.0-s\r\n", true)
            .unwrap()
            .unwrap();
        assert_eq!(id.software, "s");
        assert_eq!(n, 24);
    }

    proptest! {
        #[test]
        fn never_panics(data in proptest::collection::vec(any::<u8>(), 0..400), pre in any::<bool>()) {
            let _ = read_identification(&data, pre);
        }
    }
}
