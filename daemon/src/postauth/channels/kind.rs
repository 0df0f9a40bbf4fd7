//! What every kind of channel is to the connection's loop: [`ChannelBackend`]. The
//! table in [`super::Channels`] holds one boxed backend per channel id and knows kinds
//! only where the protocol does (a session's requests go to [`Session`]); polling,
//! the byte pump and the end of a channel go through this trait. Session channels
//! implement it (`session.rs`), and every socket-backed kind (`direct-tcpip`,
//! `direct-streamlocal`, `forwarded-tcpip`, `forwarded-streamlocal`, agent and X11
//! connections) through `tcpip.rs`.

use super::pipes::Pipes;
use super::session::Session;
use sisu_connection::{ChannelId, Connection};
use std::os::fd::RawFd;
use std::time::Instant;

/// The answer to a channel open that had to wait (a connection being made).
pub(super) enum OpenAnswer {
    /// `CHANNEL_OPEN_CONFIRMATION`.
    Accept,
    /// `CHANNEL_OPEN_FAILURE` with an `SSH_OPEN_*` reason.
    Reject {
        /// The `SSH_OPEN_*` reason code.
        reason: u32,
        /// The description sent with it.
        description: String,
    },
}

/// One channel's backend: the descriptors behind it and the rules of its end.
pub(super) trait ChannelBackend {
    /// The pipes whose bytes are the channel's data (and extended data), and back.
    fn pipes(&self) -> &Pipes;

    /// The same, to change.
    fn pipes_mut(&mut self) -> &mut Pipes;

    /// Its type for `ChannelTimeout` (`session:shell`, `direct-tcpip`,
    /// `agent-connection`, ...).
    fn timeout_type(&self) -> String;

    /// Whether it counts toward `MaxSessions`.
    fn is_session(&self) -> bool {
        false
    }

    /// A session channel's state, for the session requests (pty-req, env, exec, …).
    fn as_session(&mut self) -> Option<&mut Session> {
        None
    }

    /// Before its pipes exist (the open not answered yet): a descriptor to wait for
    /// (and whether for reading), and the latest time to look again.
    fn pending(&self) -> Option<(Option<(RawFd, bool)>, Instant)> {
        None
    }

    /// What [`ChannelBackend::pending`] named is ready, or its time is up: `Some` when
    /// the open must be answered now.
    fn advance(&mut self, _now: Instant) -> Option<OpenAnswer> {
        None
    }

    /// Work that needs no readiness: EOF, exit status and CLOSE in the kind's order.
    fn progress(&mut self, conn: &mut Connection, ch: ChannelId);

    /// After SIGCHLD: collect the status of a process behind the channel.
    fn reap(&mut self) {}

    /// The peer closed the channel: let go of everything behind it.
    fn peer_closed(&mut self) {
        let p = self.pipes_mut();
        p.close_all();
        p.finished = true;
    }

    /// The connection is over: stop what runs behind the channel.
    fn hang_up(&mut self) {
        self.pipes_mut().close_all();
    }
}
