//! # sisu-sftp: an SFTP version 3 server
//!
//! This crate owns the SFTP subsystem (`Subsystem sftp internal-sftp`): the
//! protocol of draft-ietf-secsh-filexfer-02 (version 3) with the OpenSSH extensions
//! today's clients use, the sftp-server command line, and the blocking loop the
//! daemon's forked, chrooted, unprivileged child runs over its stdin and stdout. It
//! does not own privilege separation, chroot or the channel: the daemon does those
//! and then calls [`serve()`].
//!
//! Module map: [`message`] (packets, status codes), [`attrs`] (ATTRS, the `ls -l`
//! long name), [`ext`] (extension names and fields), [`fs`] (the [`Filesystem`]
//! trait), [`local`] ([`LocalFs`], std + nix), [`memfs`] ([`MemFs`], in memory),
//! [`options`] (the command line), [`log`] (levels and the [`LogSink`]), [`paths`]
//! (realpath), `server` (the sans-IO machine), `requests` (version 3 handlers),
//! `handles` (the handle table), [`serve`](mod@serve) (the blocking loop).
//! Outside `src/`: `examples/sftp_server.rs` (a standalone sftp-server for
//! `sftp -D`) and `tests/differential.rs`, which runs one `sftp -b` batch against
//! OpenSSH's sftp-server and this one and compares client output, log and files.
//!
//! Decisions:
//! - Sans-IO core: [`Server`] takes bytes in any chunking and buffers replies; all
//!   file access goes through a [`Filesystem`], so it is tested and fuzzed over
//!   [`MemFs`]. Bounds are named constants: [`MAX_PACKET_LEN`] (256 KiB, longer is
//!   fatal), [`MAX_READ_LEN`], [`MAX_OPEN_HANDLES`] (512), [`MAX_BUFFERED_INPUT`],
//!   and [`OUTPUT_HIGH_WATER`]: no request is processed while that much output
//!   waits, so buffered output stays below [`MAX_BUFFERED_OUTPUT`] when the client
//!   stops reading.
//! - Behaviour follows OpenSSH's sftp-server: errno to status mapping, status
//!   messages, v3 RENAME by link+unlink (fails when the target exists), SYMLINK with
//!   the target first, `-R`/`-P`/`-p` checks (refused extensions are not
//!   advertised), its INFO log lines, readdir `ls -l` lines (in UTC).
//! - Where it differs: a malformed request with a readable id gets
//!   `SSH_FX_BAD_MESSAGE` and an unknown request type `SSH_FX_OP_UNSUPPORTED`
//!   instead of ending the session or no reply; paths with NUL bytes are malformed;
//!   invalid `-l`/`-f` values and operands are errors; `copy-data` with a length
//!   that runs past end of file answers `SSH_FX_EOF`, and with length 0 copies up
//!   to the source's size at the start; `limits@openssh.com` reports
//!   [`MAX_OPEN_HANDLES`]; the readdir date column is UTC; `~user` in `-d` is only
//!   the session's user.
//!
//! Use from the daemon's forked child (already chrooted, running as the user):
//!
//! ```no_run
//! # fn child(args: &[String], stdin: std::os::fd::OwnedFd, stdout: std::os::fd::OwnedFd)
//! # -> Result<(), Box<dyn std::error::Error>> {
//! use sisu_sftp::{query_requests, serve, Level, Options};
//! // `args`: the words after "internal-sftp" in the Subsystem line.
//! let opts = Options::parse(args)?.with_session("ann", 1000, "/home/ann", "192.0.2.7");
//! if opts.query_requests {
//!     println!("{}", query_requests().join("\n"));
//!     return Ok(());
//! }
//! let sink = |level: Level, line: &str| eprintln!("{}: {line}", level.name());
//! let r = serve(std::fs::File::from(stdin), std::fs::File::from(stdout), &opts, sink);
//! std::process::exit(r.map_or_else(|e| e.exit_code(), |()| 0));
//! # }
//! ```
//!
//! ```
//! use sisu_sftp::message::{frame, Request, Response};
//! use sisu_sftp::{MemFs, NullSink, Options, Server};
//!
//! let mut fs = MemFs::new();
//! fs.write_file(b"/hello.txt", b"hi there").unwrap();
//! let mut server = Server::new(fs, &Options::default(), NullSink);
//!
//! // INIT, split across two calls; VERSION 3 comes back with the extensions.
//! let init = Request::Init { version: 3 }.frame();
//! server.handle_input(&init[..3]).unwrap();
//! server.handle_input(&init[3..]).unwrap();
//! let (replies, _) = Response::split_frames(&server.take_output());
//! let Some(Response::Version { version: 3, extensions }) = Response::parse(&replies[0]) else {
//!     panic!("no VERSION")
//! };
//! assert!(extensions.iter().any(|(n, v)| n == "posix-rename@openssh.com" && v == "1"));
//!
//! // STAT a file.
//! server.handle_input(&Request::Stat { id: 7, path: b"/hello.txt".to_vec() }.frame()).unwrap();
//! let (replies, _) = Response::split_frames(&server.take_output());
//! let Some(Response::Attrs { id: 7, attrs }) = Response::parse(&replies[0]) else { panic!() };
//! assert_eq!(attrs.size, Some(8));
//! # let _ = frame(&[]);
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

pub mod attrs;
pub mod ext;
pub mod fs;
mod handles;
pub mod local;
pub mod log;
pub mod memfs;
pub mod message;
pub mod options;
pub mod paths;
mod requests;
pub mod serve;
mod server;
mod wire;

#[cfg(test)]
mod tests;

pub use attrs::Attrs;
pub use fs::{Errno, Filesystem, Metadata, OpenFlags, StatVfs, Target};
pub use handles::MAX_OPEN_HANDLES;
pub use local::LocalFs;
pub use log::{Level, LogSink, NullSink, VecSink};
pub use memfs::MemFs;
pub use message::{Request, Response, StatusCode};
pub use options::{query_requests, Facility, Options, OptionsError, REQUEST_NAMES};
pub use requests::READDIR_MAX_ENTRIES;
pub use serve::{serve, ServeError};
pub use server::{
    Error, Server, MAX_BUFFERED_INPUT, MAX_BUFFERED_OUTPUT, MAX_PACKET_LEN, MAX_READ_LEN,
    MAX_WRITE_LEN, OUTPUT_HIGH_WATER, SFTP_VERSION,
};
