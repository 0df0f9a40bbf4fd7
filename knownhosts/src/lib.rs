//! # sisu-knownhosts: OpenSSH's `known_hosts` file
//!
//! This crate owns the `known_hosts` format and nothing else (no I/O: the caller
//! hands it the text, and writes back what it prints):
//!
//! - lines `[@cert-authority|@revoked] hosts key [comment]`, with host pattern
//!   lists (`*`, `?`, `!`, `[host]:port`), hashed names `|1|salt|hmac`, and
//!   protocol-1 keys `bits exponent modulus` ([`entry`], [`pattern`], [`hashed`]);
//! - look-up of a host, port and key: match, mismatch, revoked or unknown, with the
//!   deciding lines; and listing the entries for a name as `ssh-keygen -F` does
//!   ([`file`]);
//! - adding entries (hashed or not) and removing a host's entries, keeping every
//!   other line as it was.
//!
//! ```
//! use sisu_knownhosts::{HostStatus, KnownHosts, LookupKey};
//! let text = "# comment\n\
//!     [git.example.com]:2222,10.0.0.7 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGgiVQbiF3lY3jYKSC9qbLSdMcTWcjyY0V/35xEuuzPm\n";
//! let mut kh = KnownHosts::parse(text);
//! let key = match &kh.entries().next().unwrap().1.key {
//!     sisu_knownhosts::HostKey::Ssh(k) => k.clone(),
//!     _ => unreachable!(),
//! };
//! assert_eq!(kh.lookup("git.example.com", 2222, LookupKey::Plain(&key)), HostStatus::Match { line: 2 });
//! assert_eq!(kh.lookup("git.example.com", 22, LookupKey::Plain(&key)), HostStatus::Unknown);
//! kh.add("new.example.com", 22, &key, Some(&mut rand_core::OsRng));
//! assert_eq!(kh.entries_for("new.example.com").count(), 1);
//! assert_eq!(kh.remove("10.0.0.7"), vec![2]);
//! ```
#![forbid(unsafe_code)]
// No panics on a network path: tests (and doc examples) may unwrap, the library may not.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]
#![deny(missing_docs)]

pub mod entry;
pub mod file;
pub mod hashed;
pub mod pattern;
/// Protocol-1 RSA keys as text; shared with the other file formats.
pub use sisu_wire::rsa1;

pub use entry::{Entry, HostKey, Hosts, Marker, ParseError};
pub use file::{host_port_name, HostStatus, KnownHosts, Line, LineKind, LookupKey};
pub use ssh_key;
