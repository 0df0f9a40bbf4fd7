//! Readiness over a small set of file descriptors (`poll(2)`), and non-blocking mode.
//!
//! The session loop is single-threaded: the socket, pty masters, child pipes, forwarded
//! sockets and the [`crate::os::SignalPipe`] are all polled together.

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, RawFd};
use std::time::Duration;

use nix::fcntl::{fcntl, FcntlArg, OFlag};

/// Most fds one [`poll_fds`] call watches.
pub const MAX_POLL_FDS: usize = 4096;

/// One fd to watch, and what [`poll_fds`] found.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PollEntry {
    /// The fd (a negative fd is skipped, as `poll(2)` does).
    pub fd: RawFd,
    /// Ask whether it is readable.
    pub read: bool,
    /// Ask whether it is writable.
    pub write: bool,
    /// Set by [`poll_fds`]: data (or end of file) can be read (`POLLIN`).
    pub readable: bool,
    /// Set by [`poll_fds`]: it can be written without blocking (`POLLOUT`).
    pub writable: bool,
    /// Set by [`poll_fds`]: the peer hung up, or the fd is in error or invalid
    /// (`POLLHUP`, `POLLERR`, `POLLNVAL`). Reported even when neither `read` nor
    /// `write` was asked.
    pub hangup: bool,
}

impl PollEntry {
    /// An entry for `fd` asking for readability and/or writability.
    pub fn new(fd: RawFd, read: bool, write: bool) -> Self {
        PollEntry {
            fd,
            read,
            write,
            ..PollEntry::default()
        }
    }
}

/// Wait until one of `entries` is ready, or `timeout` passes (`None`: no limit). Sets
/// each entry's `readable`, `writable` and `hangup`, and returns how many entries have
/// any of them set. A signal interrupting the wait returns `Ok(0)` so the caller can look
/// at its [`crate::os::SignalPipe`].
pub fn poll_fds(entries: &mut [PollEntry], timeout: Option<Duration>) -> io::Result<usize> {
    if entries.len() > MAX_POLL_FDS {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{} fds to poll, at most {MAX_POLL_FDS}", entries.len()),
        ));
    }
    let mut fds: Vec<libc::pollfd> = entries
        .iter_mut()
        .map(|e| {
            e.readable = false;
            e.writable = false;
            e.hangup = false;
            let mut events = 0;
            if e.read {
                events |= libc::POLLIN;
            }
            if e.write {
                events |= libc::POLLOUT;
            }
            libc::pollfd {
                fd: e.fd,
                events,
                revents: 0,
            }
        })
        .collect();
    let timeout_ms: libc::c_int = match timeout {
        None => -1,
        // Round up, so that a short timeout does not become a busy loop of zero waits.
        Some(d) => d
            .as_nanos()
            .div_ceil(1_000_000)
            .try_into()
            .unwrap_or(libc::c_int::MAX),
    };
    // SAFETY: `fds` is a live, exclusively borrowed array of exactly `fds.len()` pollfd
    // structs (at most MAX_POLL_FDS, so the length fits nfds_t); poll(2) only writes
    // their `revents` fields. Invalid fd numbers are reported as POLLNVAL, not UB.
    let n = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, timeout_ms) };
    if n < 0 {
        let err = io::Error::last_os_error();
        if err.kind() == io::ErrorKind::Interrupted {
            return Ok(0);
        }
        return Err(err);
    }
    let mut ready = 0;
    for (entry, pfd) in entries.iter_mut().zip(&fds) {
        let r = pfd.revents;
        entry.readable = r & libc::POLLIN != 0;
        entry.writable = r & libc::POLLOUT != 0;
        entry.hangup = r & (libc::POLLHUP | libc::POLLERR | libc::POLLNVAL) != 0;
        if entry.readable || entry.writable || entry.hangup {
            ready += 1;
        }
    }
    Ok(ready)
}

/// Put `fd` in non-blocking mode (`O_NONBLOCK`).
pub fn set_nonblocking(fd: BorrowedFd) -> io::Result<()> {
    let raw = fd.as_raw_fd();
    let flags = OFlag::from_bits_retain(fcntl(raw, FcntlArg::F_GETFL)?);
    if !flags.contains(OFlag::O_NONBLOCK) {
        fcntl(raw, FcntlArg::F_SETFL(flags | OFlag::O_NONBLOCK))?;
    }
    Ok(())
}
