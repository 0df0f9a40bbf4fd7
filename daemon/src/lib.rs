//! # sisu-daemon: the `sisu-sshd` server
//!
//! The daemon composes the protocol crates into the server people run: command line,
//! `sshd_config`, the listener, one process per connection, the authentication policy,
//! sessions (PTYs, processes) and logging. Only this crate touches the operating system,
//! and within it only the [`os`] module may use `unsafe`.
#![deny(unsafe_code)]

pub mod cli;
pub mod config;
#[allow(unsafe_code)]
pub mod os;
