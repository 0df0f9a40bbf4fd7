//! A whole authorized_keys file: entries with their line numbers, and the errors of
//! the lines that are not valid.

use crate::entry::Entry;
use crate::error::{ErrorKind, ParseError};

/// An entry and the 1-based line it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileEntry {
    /// 1-based line number.
    pub line: usize,
    /// The entry.
    pub entry: Entry,
}

/// A parsed file: the valid entries and, separately, the lines that were not.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AuthorizedKeys {
    /// Valid entries in file order.
    pub entries: Vec<FileEntry>,
    /// Lines that hold something other than a blank, a comment or a valid entry.
    pub errors: Vec<ParseError>,
}

/// One result per line that is not blank or a comment, in file order: the entry or
/// the error. Lines end at `\n`; a line also ends at its first `\r` (so CRLF files read fine).
pub fn parse_lines(text: &str) -> impl Iterator<Item = (usize, Result<Entry, ParseError>)> + '_ {
    text.split('\n').enumerate().filter_map(|(i, line)| {
        let n = i + 1;
        match Entry::parse(line) {
            Ok(None) => None,
            Ok(Some(e)) => Some((n, Ok(e))),
            Err(mut e) => {
                e.line = n;
                Some((n, Err(e)))
            }
        }
    })
}

/// Parse a file's text. Never fails as a whole: bad lines are collected in
/// [`AuthorizedKeys::errors`], as sshd skips them.
pub fn parse_file(text: &str) -> AuthorizedKeys {
    let mut out = AuthorizedKeys::default();
    for (line, r) in parse_lines(text) {
        match r {
            Ok(entry) => out.entries.push(FileEntry { line, entry }),
            Err(e) => out.errors.push(e),
        }
    }
    out
}

/// Parse a file's bytes: like [`parse_file`], but a line that is not UTF-8 is an
/// error for that line only.
pub fn parse_file_bytes(bytes: &[u8]) -> AuthorizedKeys {
    let mut out = AuthorizedKeys::default();
    for (i, raw) in bytes.split(|&b| b == b'\n').enumerate() {
        let line = i + 1;
        match std::str::from_utf8(raw) {
            Ok(text) => match Entry::parse(text) {
                Ok(None) => {}
                Ok(Some(entry)) => out.entries.push(FileEntry { line, entry }),
                Err(mut e) => {
                    e.line = line;
                    out.errors.push(e);
                }
            },
            Err(bad) => out.errors.push(ParseError {
                line,
                column: bad.valid_up_to() + 1,
                kind: ErrorKind::NotUtf8,
            }),
        }
    }
    out
}

impl std::fmt::Display for AuthorizedKeys {
    /// The entries, one per line (errors and comments are not kept).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for e in &self.entries {
            writeln!(f, "{}", e.entry)?;
        }
        Ok(())
    }
}
