//! Signals as readable bytes on a pipe (the self-pipe trick), so the single-threaded
//! session loop sees `SIGCHLD`, `SIGTERM`, `SIGHUP` and `SIGINT` through
//! [`crate::os::poll_fds`] like any other input.
//!
//! The handler is an `extern "C"` function that writes the signal number as one byte to
//! a non-blocking pipe; a full pipe drops the byte, which loses nothing because the pipe
//! is then readable anyway. A handler has no context argument, so the pipe's write end
//! lives in a process-wide atomic and only one [`SignalPipe`] may exist at a time.
//!
//! A child forked by [`crate::os::spawn`] inherits the handler until its first pre-exec
//! step resets every disposition; a signal in that short window writes a byte the parent
//! will read as its own (a spurious wake-up, harmless for SIGCHLD-style polling).

use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};

use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::sys::signal::{sigaction, signal, SaFlags, SigAction, SigHandler, SigSet, Signal};
use nix::unistd::{pipe2, read};

/// Most signals one [`SignalPipe`] watches.
pub const MAX_PIPE_SIGNALS: usize = 16;

/// Bytes read per [`SignalPipe::drain`] round, and the most rounds per call.
const DRAIN_CHUNK: usize = 256;
const MAX_DRAIN_ROUNDS: usize = 64;

/// The write end of the live pipe, or -1; read by the signal handler.
static WRITE_FD: AtomicI32 = AtomicI32::new(-1);
/// Whether a [`SignalPipe`] exists.
static INSTALLED: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(signo: libc::c_int) {
    let fd = WRITE_FD.load(Ordering::Relaxed);
    if fd < 0 {
        return;
    }
    // write(2) may change errno; the interrupted code must not see that.
    let saved = Errno::last_raw();
    let byte = signo as u8;
    // SAFETY: write(2) is async-signal-safe; `byte` is a live one-byte local. `fd` is the
    // pipe's write end, kept open until after this handler has been uninstalled.
    unsafe {
        libc::write(fd, (&byte as *const u8).cast(), 1);
    }
    Errno::set_raw(saved);
}

/// Delivers chosen signals as bytes on a pipe. Poll [`SignalPipe::fd`] for readability,
/// then call [`SignalPipe::drain`]. Dropping it restores the previous dispositions.
#[derive(Debug)]
pub struct SignalPipe {
    read: OwnedFd,
    /// Kept open for the handler; closed when the pipe drops, after the handler is gone.
    _write: OwnedFd,
    previous: Vec<(Signal, SigAction)>,
}

impl SignalPipe {
    /// Install the handler for `signals` (numbers such as `libc::SIGCHLD`). Fails with
    /// `AlreadyExists` if another `SignalPipe` is alive, `InvalidInput` for a number that
    /// is not a signal or cannot be caught (`SIGKILL`, `SIGSTOP`).
    pub fn new(signals: &[i32]) -> io::Result<Self> {
        if signals.len() > MAX_PIPE_SIGNALS {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("at most {MAX_PIPE_SIGNALS} signals"),
            ));
        }
        let mut wanted = Vec::with_capacity(signals.len());
        for &n in signals {
            let sig = Signal::try_from(n).map_err(|_| {
                io::Error::new(io::ErrorKind::InvalidInput, format!("not a signal: {n}"))
            })?;
            if matches!(sig, Signal::SIGKILL | Signal::SIGSTOP) {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("{sig} cannot be caught"),
                ));
            }
            wanted.push(sig);
        }
        if INSTALLED
            .compare_exchange(false, true, Ordering::SeqCst, Ordering::SeqCst)
            .is_err()
        {
            return Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                "a SignalPipe already exists",
            ));
        }
        let (read, write) = match pipe2(OFlag::O_CLOEXEC | OFlag::O_NONBLOCK) {
            Ok(p) => p,
            Err(e) => {
                INSTALLED.store(false, Ordering::SeqCst);
                return Err(e.into());
            }
        };
        WRITE_FD.store(write.as_raw_fd(), Ordering::SeqCst);
        let mut pipe = SignalPipe {
            read,
            _write: write,
            previous: Vec::with_capacity(wanted.len()),
        };
        for sig in wanted {
            let mut flags = SaFlags::SA_RESTART;
            if sig == Signal::SIGCHLD {
                flags |= SaFlags::SA_NOCLDSTOP;
            }
            let action = SigAction::new(SigHandler::Handler(on_signal), flags, SigSet::empty());
            // SAFETY: `on_signal` only loads an atomic, calls write(2) and saves/restores
            // errno, all async-signal-safe. The fd it writes to stays open until Drop has
            // put the previous handlers back.
            let previous = unsafe { sigaction(sig, &action) };
            match previous {
                Ok(old) => pipe.previous.push((sig, old)),
                Err(e) => return Err(e.into()), // Drop restores what was installed
            }
        }
        Ok(pipe)
    }

    /// The read end, to poll for readability.
    pub fn fd(&self) -> BorrowedFd<'_> {
        self.read.as_fd()
    }

    /// The signals received since the last call, each once, in order of first arrival.
    pub fn drain(&self) -> Vec<i32> {
        let mut seen: Vec<i32> = Vec::new();
        let mut buf = [0u8; DRAIN_CHUNK];
        for _ in 0..MAX_DRAIN_ROUNDS {
            match read(self.read.as_raw_fd(), &mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    for &b in &buf[..n] {
                        let sig = i32::from(b);
                        if !seen.contains(&sig) {
                            seen.push(sig);
                        }
                    }
                }
                Err(Errno::EINTR) => continue,
                Err(_) => break, // EAGAIN: empty
            }
        }
        seen
    }
}

impl Drop for SignalPipe {
    fn drop(&mut self) {
        for (sig, old) in self.previous.drain(..).rev() {
            // SAFETY: `old` is the action that was installed before ours, so putting it
            // back restores a state the process already had.
            let _ = unsafe { sigaction(sig, &old) };
        }
        WRITE_FD.store(-1, Ordering::SeqCst);
        INSTALLED.store(false, Ordering::SeqCst);
    }
}

/// Ignore `SIGPIPE`, so writing to a closed socket or pipe is an `EPIPE` error instead of
/// death. (The Rust runtime already does this at start-up; calling it again is harmless.)
pub fn ignore_sigpipe() {
    // SAFETY: SIG_IGN installs no handler code, so no async-signal-safety question arises.
    let _ = unsafe { signal(Signal::SIGPIPE, SigHandler::SigIgn) };
}
