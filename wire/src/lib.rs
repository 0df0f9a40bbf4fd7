//! # sisu-wire: the SSH wire format
//!
//! This crate owns the bytes-on-the-wire layer of SSH and nothing above it:
//!
//! - the RFC 4251 §5 data types (`byte`, `boolean`, `uint32`, `uint64`, `string`,
//!   `mpint`, `name-list`) as a zero-copy [`Reader`] and a [`Writer`];
//! - message numbers and disconnect reason codes (RFC 4250) in [`msg`];
//! - the identification line (RFC 4253 §4.2) in [`ident`];
//! - binary packet framing (RFC 4253 §6) in [`packet`], over the [`packet::Sealer`] and
//!   [`packet::Opener`] traits that `sisu-cipher` implements;
//! - OpenSSH certificate blobs split into their fields in [`cert`], and protocol-1
//!   RSA keys as text in [`rsa1`];
//! - protocol 1.5's message numbers, data types and packet format in `v1` (cargo
//!   feature `v1`, on by default: compiled in, off at run time);
//! - OpenSSH's pattern lists and address lists in [`pattern`], shared by
//!   `authorized_keys`, `known_hosts` and `sshd_config`.
//!
//! It does no I/O: bytes go in, bytes and packets come out.
//!
//! ```
//! use sisu_wire::{Reader, Writer};
//! let mut w = Writer::new();
//! w.u8(20).string(b"curve25519-sha256").u32(7);
//! let bytes = w.into_vec();
//! let mut r = Reader::new(&bytes);
//! assert_eq!(r.u8().unwrap(), 20);
//! assert_eq!(r.utf8().unwrap(), "curve25519-sha256");
//! assert_eq!(r.u32().unwrap(), 7);
//! assert!(r.finish().is_ok());
//! ```
#![forbid(unsafe_code)]
// No panics on a network path: tests (and doc examples) may unwrap, the library may not.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]
#![deny(missing_docs)]

pub mod cert;
pub mod ident;
pub mod msg;
pub mod packet;
pub mod pattern;
pub mod rsa1;
mod types;
#[cfg(feature = "v1")]
pub mod v1;

pub use types::{NameList, Reader, WireError, Writer, MAX_NAME_LIST};
