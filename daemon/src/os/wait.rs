//! Child processes after they start: non-blocking `waitpid(2)`, and signals by their
//! RFC 4254 §6.10 names (the names of `exit-signal` and `signal` channel requests).

use std::io;

use nix::errno::Errno;
use nix::sys::signal::{kill, Signal};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;

/// Most children collected by one [`reap_children`] call; the rest wait for the next.
pub const MAX_REAP_PER_CALL: usize = 1024;

/// How a child ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExitKind {
    /// It called `exit` with this status (RFC 4254 `exit-status`).
    Exited(i32),
    /// A signal ended it (RFC 4254 `exit-signal`).
    Signaled {
        /// The signal name without the `SIG` prefix (`"TERM"`).
        signal: String,
        /// Whether it left a core dump.
        core_dumped: bool,
    },
}

/// The signals RFC 4254 §6.10 names, by name without the `SIG` prefix.
const RFC4254_SIGNALS: [(&str, Signal); 13] = [
    ("ABRT", Signal::SIGABRT),
    ("ALRM", Signal::SIGALRM),
    ("FPE", Signal::SIGFPE),
    ("HUP", Signal::SIGHUP),
    ("ILL", Signal::SIGILL),
    ("INT", Signal::SIGINT),
    ("KILL", Signal::SIGKILL),
    ("PIPE", Signal::SIGPIPE),
    ("QUIT", Signal::SIGQUIT),
    ("SEGV", Signal::SIGSEGV),
    ("TERM", Signal::SIGTERM),
    ("USR1", Signal::SIGUSR1),
    ("USR2", Signal::SIGUSR2),
];

/// The signal an RFC 4254 §6.10 name stands for (`"TERM"` → `SIGTERM`); `None` for
/// names outside the RFC's list.
pub fn signal_from_name(name: &str) -> Option<Signal> {
    RFC4254_SIGNALS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, s)| *s)
}

/// The name of a signal without its `SIG` prefix (`SIGTERM` → `"TERM"`). Signals outside
/// RFC 4254's list get their system name the same way (`SIGXCPU` → `"XCPU"`).
pub fn signal_name(signal: Signal) -> String {
    let name = signal.as_str();
    name.strip_prefix("SIG").unwrap_or(name).to_string()
}

fn check_pid(pid: i32) -> io::Result<Pid> {
    // 0 and negative pids mean process groups (or every process) to kill and waitpid.
    if pid <= 0 {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("not a single process id: {pid}"),
        ));
    }
    Ok(Pid::from_raw(pid))
}

fn exit_kind(status: WaitStatus) -> Option<(i32, ExitKind)> {
    match status {
        WaitStatus::Exited(pid, code) => Some((pid.as_raw(), ExitKind::Exited(code))),
        WaitStatus::Signaled(pid, signal, core_dumped) => Some((
            pid.as_raw(),
            ExitKind::Signaled {
                signal: signal_name(signal),
                core_dumped,
            },
        )),
        _ => None,
    }
}

/// Whether child `pid` has ended, without blocking (`waitpid(pid, WNOHANG)`). Once it
/// returns `Some`, the child is reaped and the pid is no longer ours.
pub fn try_wait(pid: i32) -> io::Result<Option<ExitKind>> {
    let pid = check_pid(pid)?;
    loop {
        match waitpid(pid, Some(WaitPidFlag::WNOHANG)) {
            Ok(status) => return Ok(exit_kind(status).map(|(_, kind)| kind)),
            Err(Errno::EINTR) => continue,
            Err(e) => return Err(e.into()),
        }
    }
}

/// Send the signal named as in RFC 4254 §6.10 (`"TERM"`, `"INT"`, ...) to process `pid`.
/// Unknown names are an `InvalidInput` error.
pub fn signal_by_name(pid: i32, name: &str) -> io::Result<()> {
    let pid = check_pid(pid)?;
    let signal = signal_from_name(name).ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("unknown signal name {name:?}"),
        )
    })?;
    kill(pid, signal)?;
    Ok(())
}

/// Collect every child that has ended, without blocking (`waitpid(-1, WNOHANG)` until
/// none is left, at most [`MAX_REAP_PER_CALL`]). For the listener, which owns all of its
/// children; a session process waits for its own pids with [`try_wait`].
pub fn reap_children() -> Vec<(i32, ExitKind)> {
    let mut reaped = Vec::new();
    let mut rounds = 0;
    while rounds < MAX_REAP_PER_CALL {
        rounds += 1;
        match waitpid(Pid::from_raw(-1), Some(WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::StillAlive) => break,
            Ok(status) => reaped.extend(exit_kind(status)),
            Err(Errno::EINTR) => continue,
            Err(_) => break, // ECHILD: no children left
        }
    }
    reaped
}
