//! What both pre-authentication loops (SSH-2's here, protocol 1's in
//! [`crate::v1::preauth`]) share: one wait for the socket, the monitor and the grace
//! time, and the line for a client that went away.

use crate::netio::{SocketIo, MAX_PENDING_SOCKET_OUTPUT};
use crate::reactor::Reactor;
use std::os::fd::RawFd;
use std::time::Instant;

/// What one wait of a pre-authentication loop ([`wait_once`]) came to.
pub(crate) enum Waited {
    /// The socket may be read (`readable`), or the monitor is gone (`ended`); what
    /// could be written was.
    Ready {
        /// Input waits.
        readable: bool,
        /// The monitor's channel closed: the connection is over.
        ended: bool,
    },
    /// `LoginGraceTime` is over (the output was dropped); the caller logs it.
    GraceOver,
    /// The wait itself failed (logged).
    Failed,
}

/// One wait of a pre-authentication loop (SSH-2's and protocol 1's): for input when
/// `may_read` (and the output is not piling up), for the socket to take output, for
/// the monitor's channel `watch`, and until `grace`.
pub(crate) fn wait_once(
    reactor: &mut Reactor,
    io: &mut SocketIo,
    may_read: bool,
    watch: Option<RawFd>,
    grace: Option<Instant>,
) -> Waited {
    let mut turn = reactor.turn();
    let want_read = may_read && !io.input_closed() && io.pending() < MAX_PENDING_SOCKET_OUTPUT;
    let sock_in = turn.watch(io.input_fd(), want_read, false);
    let sock_out = turn.watch(io.output_fd(), false, io.pending() > 0);
    let monitor = watch.map(|fd| turn.watch(fd, true, false));
    if let Some(d) = grace {
        turn.wake_at(d);
    }
    let ready = match reactor.wait(turn) {
        Ok(r) => r,
        Err(e) => {
            error!("poll: {e}");
            return Waited::Failed;
        }
    };
    if ready.writable(sock_out) {
        io.write(ready.now);
    }
    if grace.is_some_and(|d| ready.now >= d) {
        io.discard_output();
        return Waited::GraceOver;
    }
    Waited::Ready {
        readable: ready.readable(sock_in),
        ended: monitor.is_some_and(|m| ready.readable(m)),
    }
}

/// The line for a client that closed before authentication: `user` as named (and
/// whether it exists), `identified` once its identification line came.
pub(crate) fn log_closed(user: Option<&(String, bool)>, identified: bool, peer: &str) {
    match user {
        Some((user, valid)) => {
            let who = if *valid {
                "authenticating user"
            } else {
                "invalid user"
            };
            info!("Connection closed by {who} {user} {peer} [preauth]");
        }
        None if !identified => {
            info!("kex_exchange_identification: Connection closed by remote host");
            info!("Connection closed by {peer}");
        }
        None => info!("Connection closed by {peer} [preauth]"),
    }
}
