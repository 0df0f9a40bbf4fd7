//! # sisu-daemon: the `sisu-sshd` server
//!
//! The daemon composes the protocol crates into the server people run: command line,
//! `sshd_config`, the listener, one process per connection, the authentication policy,
//! sessions (PTYs, processes) and logging. Only this crate touches the operating system,
//! and within it only the [`os`] module may use `unsafe`.
//!
//! The library holds the parts other tools may reuse: [`cli`] (OpenSSH's sshd flags),
//! [`config`] (`sshd_config` with `Match` blocks and `-T` output) and [`os`]. The
//! binary (`src/main.rs`) adds the listener, the per-connection session loop, the
//! authentication policy, host keys and logging.
//!
//! ```
//! use sisu_daemon::config::{parse_config, AlgorithmSets, Algs};
//! use std::path::Path;
//! let algs = Algs::new(&["aes128-ctr", "aes256-ctr"], &["aes256-ctr"]);
//! let sets = AlgorithmSets {
//!     ciphers: algs.clone(), macs: algs.clone(), kex: algs.clone(),
//!     host_key: algs.clone(), pubkey: algs,
//! };
//! let text = "MaxAuthTries 3\nmaxauthtries 5\nCiphers +aes128-ctr\n";
//! let (cfg, warnings) = parse_config(text, Path::new("sshd_config"), &[], &sets).unwrap();
//! assert_eq!(cfg.max_auth_tries, 3); // the first value wins, as in OpenSSH
//! assert_eq!(cfg.ciphers, vec!["aes256-ctr", "aes128-ctr"]);
//! assert!(warnings.is_empty());
//! let err = parse_config("Bogus yes\n", Path::new("f"), &[], &sets).unwrap_err();
//! assert_eq!(err.to_string(), "f line 1: Bad configuration option: Bogus");
//! ```
#![deny(unsafe_code)]

pub mod cli;
pub mod config;
pub mod ipc;
#[allow(unsafe_code)]
pub mod os;
