//! # sisu-daemon: the `sisu-sshd` server
//!
//! The daemon composes the protocol crates into the server people run: command line,
//! `sshd_config`, the listener, privilege-separated sessions, the authentication
//! policy, PTYs and processes, and logging. Only this crate touches the operating
//! system, and within it only the [`os`] module may use `unsafe`.
//!
//! The modules follow the processes of one connection (ARCHITECTURE.md, "The daemon's
//! processes"):
//!
//! | process | user | module | what it does |
//! |---|---|---|---|
//! | listener | root | [`listener`] | accepts, MaxStartups, one fresh session image per connection, SIGHUP |
//! | monitor | root | [`monitor`] | holds the host keys, answers [`policy::Local`], PTYs; never reads the network |
//! | pre-auth child | `sisu-sshd` (or `nobody`), chrooted, seccomp | [`preauth`] | transport and user authentication until the monitor's verdict lets a user in |
//! | post-auth child | the user | [`postauth`] | takes the exported transport over, runs the connection layer, shells, forwards |
//!
//! Around them: [`ipc`] (the typed, length-limited messages between monitor and
//! children, fuzzed), [`policy`] (the [`policy::Policy`] trait, answered in-process by
//! [`policy::Local`] or across the channel by [`policy::ViaMonitor`]), [`reactor`]
//! (the one poll loop of each process: descriptors, timers, signals), [`netio`]
//! (the socket with its output buffer), [`conn`] (what every process of a
//! connection shares), [`config`], [`cli`], [`hostkeys`], [`agent`] (HostKeyAgent),
//! [`algs`] and [`log`]. `src/main.rs` only dispatches on the role.
//!
//! ```
//! use sisu_daemon::config::{parse_config, AlgorithmSets, Algs};
//! use std::path::Path;
//! let algs = Algs::new(&["aes128-ctr", "aes256-ctr"], &["aes256-ctr"]);
//! let sets = AlgorithmSets {
//!     ciphers: algs.clone(), macs: algs.clone(), kex: algs.clone(),
//!     host_key: algs.clone(), pubkey: algs.clone(), ca_signature: algs,
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

#[macro_use]
pub mod log;
pub mod agent;
pub mod algs;
pub mod cli;
pub mod config;
pub mod conn;
pub mod hostkeys;
pub mod hosts_access;
pub mod ipc;
pub mod listener;
pub mod monitor;
pub mod netio;
#[allow(unsafe_code)]
pub mod os;
pub mod policy;
pub mod postauth;
pub mod preauth;
pub mod reactor;
pub mod v1;
