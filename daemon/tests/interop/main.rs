//! Interop tests: the real server binary on 127.0.0.1 against real SSH clients.
//!
//! By default the server is `sisu-sshd`; with `SISU_TEST_SERVER=openssh` the same tests
//! run against Debian's OpenSSH sshd, which is how the tests themselves are validated.
//! Every server and client runs with a deadline, and every server is stopped in `Drop`.
//!
//! ```text
//! SISU_TEST_SERVER=openssh cargo test -p sisu-daemon --test interop
//! cargo test -p sisu-daemon --test interop
//! ```

#[path = "../common/mod.rs"]
mod common;

mod algorithms;
mod authkeys_options;
mod bad_mac;
mod bad_peers;
mod ciphers_legacy;
mod daemon_modes;
mod dropbear;
mod flags;
mod forwarding;
mod host_keys;
mod kex_methods;
mod logs;
mod match_blocks;
mod max_startups;
mod peers;
mod rekey;
mod session;
mod sftp;
mod transfer;
mod transport_logs;
