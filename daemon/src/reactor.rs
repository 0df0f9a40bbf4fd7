//! The event loop's one wait: descriptors, timers and signals (SIGCHLD among them),
//! and the one place a loop reads the clock.
//!
//! Each turn of a loop asks a [`Reactor`] for a [`Turn`], registers on it every
//! descriptor it wants to hear about ([`Turn::watch`], which hands back a [`Token`])
//! and every deadline ([`Turn::wake_at`]), and calls [`Reactor::wait`]. The [`Ready`]
//! it gets says, per token, what happened, which signals arrived, and the time.
//!
//! ```
//! use sisu_daemon::reactor::Reactor;
//! use std::time::Duration;
//! let (a, mut b) = std::os::unix::net::UnixStream::pair().unwrap();
//! std::io::Write::write_all(&mut b, b"x").unwrap();
//! let mut reactor = Reactor::new(&[]).unwrap();
//! let mut turn = reactor.turn();
//! let t = turn.watch(std::os::fd::AsRawFd::as_raw_fd(&a), true, false);
//! turn.wake_at(reactor.now() + Duration::from_secs(5));
//! let ready = reactor.wait(turn).unwrap();
//! assert!(ready.readable(t));
//! ```

use crate::os::{self, PollEntry, SignalPipe};
use std::io;
use std::os::fd::{AsRawFd, RawFd};
use std::time::Instant;

/// Waits on descriptors, deadlines and signals.
#[derive(Debug)]
pub struct Reactor {
    signals: Option<SignalPipe>,
}

/// One registered descriptor of a [`Turn`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token(usize);

impl Token {
    /// Its place in registration order (an index into [`Ready::entries`]).
    pub fn index(self) -> usize {
        self.0
    }
}

/// What one turn of the loop waits for.
#[derive(Debug, Default)]
pub struct Turn {
    entries: Vec<PollEntry>,
    deadline: Option<Instant>,
}

impl Turn {
    /// Wait for `fd` to be readable (`read`) and/or writable (`write`). A descriptor
    /// asked for neither is left out (a hung-up socket must not make the loop spin), and
    /// its token reports nothing.
    pub fn watch(&mut self, fd: RawFd, read: bool, write: bool) -> Token {
        let fd = if read || write { fd } else { -1 };
        self.entries.push(PollEntry::new(fd, read, write));
        Token(self.entries.len() - 1)
    }

    /// Wake up at `at` at the latest.
    pub fn wake_at(&mut self, at: Instant) {
        self.deadline = Some(self.deadline.map_or(at, |d| d.min(at)));
    }

    /// How many descriptors are registered (the index the next one gets).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The earliest deadline so far.
    pub fn deadline(&self) -> Option<Instant> {
        self.deadline
    }
}

/// What a wait found.
#[derive(Debug)]
pub struct Ready {
    entries: Vec<PollEntry>,
    /// The signals that arrived.
    pub signals: Vec<i32>,
    /// The time after the wait.
    pub now: Instant,
}

impl Ready {
    /// Whether `t` can be read (or hung up: a read then says why).
    pub fn readable(&self, t: Token) -> bool {
        self.entries
            .get(t.0)
            .is_some_and(|e| e.read && (e.readable || e.hangup))
    }

    /// Whether `t` can be written (or hung up: a write then says why).
    pub fn writable(&self, t: Token) -> bool {
        self.entries
            .get(t.0)
            .is_some_and(|e| e.write && (e.writable || e.hangup))
    }

    /// Whether `t` hung up or is in error.
    pub fn hangup(&self, t: Token) -> bool {
        self.entries.get(t.0).is_some_and(|e| e.fd >= 0 && e.hangup)
    }

    /// The raw poll results, in registration order, for code that registered a range.
    pub fn entries(&self) -> &[PollEntry] {
        &self.entries
    }
}

impl Reactor {
    /// A reactor that also reports `signals` (SIGCHLD, SIGTERM, ...).
    pub fn new(signals: &[i32]) -> io::Result<Reactor> {
        let signals = if signals.is_empty() {
            None
        } else {
            Some(SignalPipe::new(signals)?)
        };
        Ok(Reactor { signals })
    }

    /// The time now: loops take it from here (or from [`Ready::now`]).
    pub fn now(&self) -> Instant {
        Instant::now()
    }

    /// A new, empty turn.
    pub fn turn(&self) -> Turn {
        Turn::default()
    }

    /// Waits until a registered descriptor is ready, the deadline passes, or a signal
    /// arrives. An interrupted wait returns with nothing ready.
    pub fn wait(&mut self, turn: Turn) -> io::Result<Ready> {
        let Turn {
            mut entries,
            deadline,
        } = turn;
        let user = entries.len();
        if let Some(s) = &self.signals {
            entries.push(PollEntry::new(s.fd().as_raw_fd(), true, false));
        }
        let timeout = deadline.map(|d| d.saturating_duration_since(Instant::now()));
        match os::poll_fds(&mut entries, timeout) {
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {
                entries.iter_mut().for_each(|e| {
                    e.readable = false;
                    e.writable = false;
                    e.hangup = false;
                });
            }
            Err(e) => return Err(e),
        }
        let signals = match (&self.signals, entries.get(user)) {
            (Some(s), Some(e)) if e.readable => s.drain(),
            _ => Vec::new(),
        };
        entries.truncate(user);
        Ok(Ready {
            entries,
            signals,
            now: Instant::now(),
        })
    }
}
