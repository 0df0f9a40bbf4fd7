//! # sisu-authkeys: OpenSSH's `authorized_keys` file
//!
//! This crate owns the `authorized_keys` format as OpenSSH's sshd reads it, and
//! nothing else (it does no I/O: the caller hands it the file's text):
//!
//! - every line form: `[options] keytype base64 [comment]` for plain keys,
//!   FIDO (`sk-…`) keys and `*-cert-v01@openssh.com` certificates, and the
//!   protocol-1 form `[options] bits exponent modulus [comment]` ([`entry`]);
//! - every option, with sshd's rules for names, quoting and duplicates ([`options`]);
//! - `from=` patterns with wildcards, negation and CIDR ([`pattern`]), and
//!   `expiry-time` ([`time`]);
//! - matching a key (or certificate, or protocol-1 key) and a connection against
//!   the file, giving the deciding line and the effective restrictions ([`authorize`]);
//! - printing entries back ([`Entry`]'s `Display`);
//! - sshd's `RevokedKeys` file, a key list or a binary KRL: is this key or
//!   certificate revoked, and by which rule ([`revoked`]).
//!
//! A bad line is an error for that line only (with line, column and what was
//! expected), as sshd skips it; nothing panics, and every length is bounded
//! ([`entry::MAX_LINE_LEN`], [`options::MAX_ENVIRONMENT`], …).
//!
//! ```
//! use sisu_authkeys::{parse_file, ConnectionInfo};
//! use std::time::{Duration, UNIX_EPOCH};
//!
//! let text = "# keys\n\
//!     from=\"10.0.0.0/8\",no-pty,command=\"uptime\" ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGgiVQbiF3lY3jYKSC9qbLSdMcTWcjyY0V/35xEuuzPm alice\n\
//!     bogus-option ssh-ed25519 AAAA\n";
//! let file = parse_file(text);
//! assert_eq!(file.entries.len(), 1);
//! assert_eq!(file.errors[0].line, 3);
//!
//! let key = file.entries[0].entry.key.key_data().unwrap().clone();
//! let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
//! let inside = ConnectionInfo::new("10.1.2.3".parse().unwrap(), now);
//! let auth = file.authorize(&key, &inside).unwrap();
//! assert_eq!((auth.line, auth.command.as_deref(), auth.pty), (2, Some("uptime"), false));
//!
//! let outside = ConnectionInfo::new("192.0.2.1".parse().unwrap(), now);
//! assert!(file.authorize(&key, &outside).is_err());
//! ```
#![forbid(unsafe_code)]
// No panics on a network path: tests (and doc examples) may unwrap, the library may not.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]
#![deny(missing_docs)]

pub mod authorize;
pub mod cert;
pub mod entry;
pub mod error;
pub mod file;
pub mod options;
pub mod pattern;
pub mod revoked;
/// Protocol-1 RSA keys as text; shared with the other file formats.
pub use sisu_wire::rsa1;
pub mod time;

pub use authorize::{Authorization, ConnectionInfo, Denied, Refusal, Restrictions};
pub use cert::Cert;
pub use entry::{Entry, EntryKey};
pub use error::{ErrorKind, ParseError};
pub use file::{parse_file, parse_file_bytes, parse_lines, AuthorizedKeys, FileEntry};
pub use options::AuthOption;
pub use revoked::{Revocation, RevokedKeys, RevokedKeysError};
pub use ssh_key;
