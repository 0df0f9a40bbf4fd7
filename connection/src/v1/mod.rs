//! # The SSH-1 interactive session, as a bridge onto the SSH-2 connection protocol
//!
//! This module owns what follows SSH-1 (protocol 1.5) authentication: the preparatory
//! phase (pty, X11, agent and port-forwarding requests, each answered with
//! `SMSG_SUCCESS` / `SMSG_FAILURE`), the interactive phase (stdin, stdout, stderr,
//! window size, exit status and its confirmation) and protocol 1.5's forwarded
//! channels with their two-message close. It serves none of it itself: [`V1Session`]
//! translates each SSH-1 message into the RFC 4254 messages an SSH-2 client would
//! send, for the daemon's ordinary server-role [`crate::Connection`], and translates
//! what that Connection sends back into SSH-1. So an SSH-1 session is served by
//! exactly the code that serves SSH-2 session channels.
//!
//! The bridge plays the SSH-2 *client*: it opens one `session` channel (our channel
//! 0) on the first message, and one channel per forwarded connection. Sans-IO, like
//! the rest of the crate: two inputs ([`V1Session::from_peer`],
//! [`V1Session::from_connection`]) and two outputs ([`V1Session::poll_to_peer`],
//! [`V1Session::poll_to_connection`]); drain both outputs after every input until
//! both return `None`.
//!
//! ```
//! use sisu_connection::v1::V1Session;
//! use sisu_connection::{Connection, Event, Limits};
//! use sisu_wire::v1::msg;
//!
//! let mut bridge = V1Session::new(0);
//! let mut conn = Connection::new(Limits::default());
//! // Moves everything both ways until nothing moves, answering the daemon's events.
//! fn pump(b: &mut V1Session, c: &mut Connection, out: &mut Vec<(u8, Vec<u8>)>) {
//!     loop {
//!         let mut moved = false;
//!         while let Some(p) = b.poll_to_connection() { c.handle_message(&p).unwrap(); moved = true; }
//!         while let Some(e) = c.poll_event() {
//!             match e {
//!                 Event::ChannelOpen { ch, .. } => c.accept_open(ch),
//!                 Event::Exec { ch, .. } => {
//!                     c.reply_request(ch, true);
//!                     c.send_data(ch, b"hello\n");
//!                     c.send_exit_status(ch, 0);
//!                     c.send_eof(ch);
//!                     c.close(ch);
//!                 }
//!                 _ => {}
//!             }
//!         }
//!         while let Some(p) = c.poll_transmit() { b.from_connection(&p).unwrap(); moved = true; }
//!         while let Some(m) = b.poll_to_peer() { out.push(m); moved = true; }
//!         if !moved { break; }
//!     }
//! }
//! let mut to_client = Vec::new();
//! // CMSG_EXEC_CMD "echo hello" (an SSH-1 string: uint32 length, bytes).
//! bridge.from_peer(msg::CMSG_EXEC_CMD, b"\0\0\0\x0aecho hello").unwrap();
//! pump(&mut bridge, &mut conn, &mut to_client);
//! assert_eq!(to_client[0], (msg::SMSG_STDOUT_DATA, b"\0\0\0\x06hello\n".to_vec()));
//! assert_eq!(to_client[1], (msg::SMSG_EXITSTATUS, vec![0, 0, 0, 0]));
//! bridge.from_peer(msg::CMSG_EXIT_CONFIRMATION, &[]).unwrap();
//! assert!(bridge.is_finished());
//! ```
//!
//! ## Decisions
//!
//! Each with what sshd did for protocol 1 (OpenSSH 7.3, the last release that served
//! it: `session.c`, `serverloop.c`, `channels.c`, `nchan.c`) and what the ssh1 client
//! of OpenSSH 7.5 sends (`ssh.c`, `clientloop.c`).
//!
//! - **Preparatory phase**: `CMSG_REQUEST_PTY` → `pty-req` (TERM not UTF-8 is refused
//!   at once), modes translated by [`ttymodes`]; `CMSG_X11_REQUEST_FORWARDING` →
//!   `x11-req` (single-connection false; the screen number is read when four bytes
//!   remain, flag or not, as sshd did); `CMSG_AGENT_REQUEST_FORWARDING` →
//!   `auth-agent-req@openssh.com`; `CMSG_PORT_FORWARD_REQUEST` → global
//!   `tcpip-forward` with address `""` (sshd bound protocol 1 forwards with no
//!   address, which its GatewayPorts logic treats exactly as SSH-2's `""`), port 0 on
//!   either side refused at once (sshd disconnected for a connect port of 0); all
//!   wanting a reply, the replies going back in request order. Compression,
//!   `CMSG_MAX_PACKET_SIZE`, `CMSG_WINDOW_SIZE` and unknown types get
//!   `SMSG_FAILURE` at once (sshd refused compression when disabled, and answered
//!   everything it did not know with FAILURE). Stdin, EOF and channel messages before
//!   the exec are protocol errors.
//! - **Exec**: `CMSG_EXEC_SHELL` → `shell`, `CMSG_EXEC_CMD` → `exec`, both wanting a
//!   reply that the client never sees. A failure ends the session with
//!   `SSH_MSG_DISCONNECT` "shell execution failed" / "command execution failed", as
//!   sshd's `packet_disconnect`. A refused `session` open ends it with a disconnect too.
//! - **Disconnects** come out of [`V1Session::poll_to_peer`] as message type 1
//!   (`SSH_MSG_DISCONNECT`, a string); [`V1Session::is_finished`] is true once it is
//!   taken.
//! - **Stdin**: `CMSG_STDIN_DATA` goes out as `CHANNEL_DATA` within the window the
//!   Connection grants; the excess waits, and [`V1Session::wants_peer_input`] turns
//!   false at [`MAX_BUFFERED_PER_CHANNEL`] (per channel) or [`MAX_BUFFERED_TOTAL`]:
//!   SSH-1 has no flow control, TCP is the back-pressure (sshd buffered without
//!   bound). `CMSG_EOF` becomes `CHANNEL_EOF` once the buffer is sent.
//! - **Output**: `CHANNEL_DATA` → `SMSG_STDOUT_DATA`, extended data 1 →
//!   `SMSG_STDERR_DATA` (other codes dropped). The window credit for forwarded bytes
//!   goes back to the Connection (`WINDOW_ADJUST`, in [`V1Session::poll_to_connection`])
//!   when the caller takes the message from [`V1Session::poll_to_peer`], so a slow
//!   client socket slows the Connection and the bridge holds at most a window's worth
//!   per channel.
//! - **Exit**: once the session channel is closed (both CLOSEs; ours is sent as soon
//!   as the Connection's arrives) and no forwarded channel is left (sshd waited for
//!   them too, saying "Waiting for forwarded connections to terminate..." on stderr),
//!   `exit-status` becomes `SMSG_EXITSTATUS`; messages other than
//!   `CMSG_EXIT_CONFIRMATION` are then ignored (as sshd), and the confirmation ends
//!   the session. `exit-signal` ends it with a disconnect "Command terminated on
//!   signal N." (sshd sent no exit status for a signalled command), and so does a
//!   close with neither.
//! - **Requests from the Connection**: channel requests other than exit-status /
//!   exit-signal get `CHANNEL_FAILURE` when they want a reply; global requests get
//!   `REQUEST_FAILURE` when they want one. Nothing reaches the SSH-1 client.
//! - **Forwarded channels**: `MSG_PORT_OPEN` → `direct-tcpip` (the originator string,
//!   port 0, when `HOST_IN_FWD_OPEN`; otherwise sshd's "unknown (remote did not
//!   supply name)"); `forwarded-tcpip` → `MSG_PORT_OPEN` with the host and port of
//!   the client's request for that listened port, `x11` → `SMSG_X11_OPEN`,
//!   `auth-agent@openssh.com` → `SMSG_AGENT_OPEN` (originator descriptions as sshd
//!   wrote them, when flagged); other types are refused. Our channel number is the
//!   same on both sides. The close maps protocol 1.5's input-EOF
//!   (`MSG_CHANNEL_CLOSE`) and output-closed (`MSG_CHANNEL_CLOSE_CONFIRMATION`) onto
//!   SSH-2's EOF and CLOSE; see `channels.rs`.
//! - **Bounds**: [`MAX_CHANNELS`] forwarded channels (more are refused),
//!   [`MAX_PENDING_REQUESTS`] unanswered requests, [`MAX_FORWARDS`] port forwards,
//!   [`MAX_PEER_MESSAGE`] bytes per SSH-1 message, the buffers above, and
//!   [`MAX_TO_CONNECTION_BYTES`] queued for the Connection before
//!   [`V1Session::wants_peer_input`] turns false.

mod channels;
mod conn;
pub mod error;
mod peer;
#[cfg(test)]
mod tests;
pub mod ttymodes;

pub use error::{Phase, V1SessionError};

use crate::message::Message;
use channels::Fwd;
use sisu_wire::v1::msg;
use sisu_wire::Writer;
use std::collections::VecDeque;

/// Most forwarded channels (port, X11, agent) open at once; more are refused.
pub const MAX_CHANNELS: usize = 256;
/// The window we grant the Connection on the session channel.
pub const SESSION_WINDOW: u32 = 2 * 1024 * 1024;
/// The window we grant the Connection on a forwarded channel.
pub const FORWARD_WINDOW: u32 = 128 * 1024;
/// The largest data packet we accept from the Connection, and the most data we put in
/// one `CHANNEL_DATA` toward it.
pub const MAX_PACKET: u32 = 32 * 1024;
/// Bytes of client data waiting for window on one channel (or stdin) at which
/// [`V1Session::wants_peer_input`] turns false.
pub const MAX_BUFFERED_PER_CHANNEL: usize = 256 * 1024;
/// Bytes of client data waiting for window, all channels together, at which
/// [`V1Session::wants_peer_input`] turns false.
pub const MAX_BUFFERED_TOTAL: usize = 1024 * 1024;
/// The largest SSH-1 message payload accepted from the client (OpenSSH's SSH-1
/// packet limit).
pub const MAX_PEER_MESSAGE: usize = 256 * 1024;
/// Most requests waiting for their reply (and session requests waiting for the
/// session channel to open).
pub const MAX_PENDING_REQUESTS: usize = 64;
/// Most remote port forwards the client may hold.
pub const MAX_FORWARDS: usize = 64;
/// Bytes queued for [`V1Session::poll_to_connection`] at which
/// [`V1Session::wants_peer_input`] turns false.
pub const MAX_TO_CONNECTION_BYTES: usize = 1024 * 1024;
/// Longest originator description we pass on, in bytes.
const MAX_DESCRIPTION: usize = 256;
/// Our channel number for the session channel.
const SESSION_CH: u32 = 0;

/// The SSH-1 interactive session of one connection, bridged onto an SSH-2
/// [`crate::Connection`] (server role) that the daemon drives as for any SSH-2 client.
///
/// One turn: an input ([`V1Session::from_peer`] or [`V1Session::from_connection`]),
/// then [`V1Session::poll_to_connection`] (each payload to `Connection::handle_message`)
/// and [`V1Session::poll_to_peer`] (each message to the SSH-1 transport) until both
/// are empty, and `Connection::poll_transmit` back into
/// [`V1Session::from_connection`]. Check [`V1Session::wants_peer_input`] before
/// taking each message from the transport, and close the connection when
/// [`V1Session::is_finished`].
#[derive(Debug)]
pub struct V1Session {
    flags: u32,
    phase: Phase,
    session: SessionChannel,
    /// Forwarded channels, indexed by our channel number; index 0 (the session)
    /// stays `None`. Never longer than `MAX_CHANNELS + 1`.
    chans: Vec<Option<Fwd>>,
    next_generation: u64,
    replies: VecDeque<Reply>,
    forwards: Vec<Forward>,
    to_conn: VecDeque<Vec<u8>>,
    to_conn_bytes: usize,
    to_peer: VecDeque<Outgoing>,
    /// Said "Waiting for forwarded connections to terminate..." already.
    told_waiting: bool,
    error: Option<V1SessionError>,
}

/// The SSH-2 session channel, toward the Connection.
#[derive(Debug, Default)]
struct SessionChannel {
    /// We sent `CHANNEL_OPEN`.
    opened: bool,
    /// The Connection's number for it, once confirmed.
    conn_id: Option<u32>,
    send_window: u32,
    send_max: u32,
    /// Credit the Connection has left on our side.
    recv_window: u32,
    stdin: VecDeque<u8>,
    stdin_eof: bool,
    eof_sent: bool,
    close_sent: bool,
    close_received: bool,
    /// Channel requests waiting for the open confirmation.
    pending: Vec<(&'static str, bool, Vec<u8>)>,
    exit: Option<Exit>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Exit {
    Status(u32),
    Signal(String),
}

/// A reply owed to the SSH-1 client (or to ourselves), in request order.
#[derive(Debug)]
struct Reply {
    via: Via,
    answer: Option<bool>,
    then: Then,
}

/// Where the answer comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Via {
    /// `CHANNEL_SUCCESS` / `CHANNEL_FAILURE` on the session channel.
    Channel,
    /// `REQUEST_SUCCESS` / `REQUEST_FAILURE`.
    Global,
    /// Answered by the bridge itself.
    Bridge,
}

/// What to do with the answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Then {
    /// `SMSG_SUCCESS` / `SMSG_FAILURE`.
    Reply,
    /// The shell or command started (nothing to say), or it did not (disconnect).
    Exec { shell: bool },
    /// A port forward's answer: keep or drop it, then reply.
    Forward { port: u32 },
}

/// A remote forward the client asked for: the port we listen on and where the
/// client connects what arrives.
#[derive(Debug, Clone)]
struct Forward {
    listen_port: u32,
    host: Vec<u8>,
    host_port: u32,
    confirmed: bool,
}

/// Whose window a forwarded message's bytes come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Credit {
    Session,
    Fwd { ch: u32, generation: u64 },
}

/// One SSH-1 message for the client.
#[derive(Debug)]
struct Outgoing {
    msg: u8,
    payload: Vec<u8>,
    /// Window credit to give back to the Connection once the caller takes it.
    credit: Option<(Credit, u32)>,
}

impl V1Session {
    /// A session just after SSH-1 authentication; `protocol_flags` from the
    /// session-key exchange (`SSH_PROTOFLAG_SCREEN_NUMBER`,
    /// `SSH_PROTOFLAG_HOST_IN_FWD_OPEN`).
    pub fn new(protocol_flags: u32) -> Self {
        V1Session {
            flags: protocol_flags,
            phase: Phase::Preparatory,
            session: SessionChannel::default(),
            chans: Vec::new(),
            next_generation: 0,
            replies: VecDeque::new(),
            forwards: Vec::new(),
            to_conn: VecDeque::new(),
            to_conn_bytes: 0,
            to_peer: VecDeque::new(),
            told_waiting: false,
            error: None,
        }
    }

    /// One SSH-1 message from the client (after authentication): its type and
    /// payload. `Err` ends the session (the daemon disconnects with its text); it is
    /// sticky.
    pub fn from_peer(&mut self, msg_type: u8, payload: &[u8]) -> Result<(), V1SessionError> {
        if let Some(e) = &self.error {
            return Err(e.clone());
        }
        let r = self.peer_message(msg_type, payload);
        self.check(r)
    }

    /// An SSH-2 payload the server's Connection emitted (`poll_transmit`), as if to an
    /// SSH-2 client. `Err` means the Connection broke RFC 4254; it is sticky.
    pub fn from_connection(&mut self, payload: &[u8]) -> Result<(), V1SessionError> {
        if let Some(e) = &self.error {
            return Err(e.clone());
        }
        let r = self.connection_message(payload);
        self.check(r)
    }

    /// The next SSH-2 connection-protocol payload for the server's
    /// `Connection::handle_message`.
    pub fn poll_to_connection(&mut self) -> Option<Vec<u8>> {
        let p = self.to_conn.pop_front()?;
        self.to_conn_bytes -= p.len();
        Some(p)
    }

    /// The next SSH-1 message for the client: (type, payload). Taking a data message
    /// gives its window credit back to the Connection: drain
    /// [`V1Session::poll_to_connection`] after this, or the Connection's output stalls
    /// once the window is used up.
    pub fn poll_to_peer(&mut self) -> Option<(u8, Vec<u8>)> {
        let o = self.to_peer.pop_front()?;
        if let Some((credit, n)) = o.credit {
            self.give_credit(credit, n);
        }
        Some((o.msg, o.payload))
    }

    /// False while client data waiting for window is at its bound (or output for the
    /// Connection piles up): the caller stops reading the socket until it is true
    /// again. Also false once the session is finished.
    pub fn wants_peer_input(&self) -> bool {
        if self.is_finished() || self.to_conn_bytes >= MAX_TO_CONNECTION_BYTES {
            return false;
        }
        let mut total = self.session.stdin.len();
        if total >= MAX_BUFFERED_PER_CHANNEL {
            return false;
        }
        for f in self.chans.iter().flatten() {
            if f.up.len() >= MAX_BUFFERED_PER_CHANNEL {
                return false;
            }
            total += f.up.len();
        }
        total < MAX_BUFFERED_TOTAL
    }

    /// The session is over (exit status sent and confirmed, a disconnect sent, the
    /// client went away, or an error): the caller closes the connection once
    /// [`V1Session::poll_to_peer`] is drained (it is, when this is true).
    pub fn is_finished(&self) -> bool {
        self.error.is_some() || (self.phase == Phase::Ended && self.to_peer.is_empty())
    }

    /// Where the session is.
    pub fn phase(&self) -> Phase {
        self.phase
    }

    /// The error that stopped this session, if any.
    pub fn error(&self) -> Option<&V1SessionError> {
        self.error.as_ref()
    }

    /// Bytes of client data waiting for window, all channels and stdin together.
    pub fn buffered(&self) -> usize {
        self.session.stdin.len()
            + self
                .chans
                .iter()
                .flatten()
                .map(|f| f.up.len())
                .sum::<usize>()
    }

    /// Forwarded channels in use (open, opening, or closing).
    pub fn channels(&self) -> usize {
        self.chans.iter().flatten().count()
    }

    fn check(&mut self, r: Result<(), V1SessionError>) -> Result<(), V1SessionError> {
        if let Err(e) = &r {
            self.error = Some(e.clone());
            self.phase = Phase::Ended;
            self.to_conn.clear();
            self.to_conn_bytes = 0;
            self.to_peer.clear();
        }
        r
    }

    /// Queues a message for the Connection.
    fn conn(&mut self, m: Message<'_>) {
        let p = m.encode();
        self.to_conn_bytes += p.len();
        self.to_conn.push_back(p);
    }

    /// Queues an SSH-1 message for the client.
    fn peer(&mut self, msg: u8, payload: Vec<u8>) {
        self.to_peer.push_back(Outgoing {
            msg,
            payload,
            credit: None,
        });
    }

    /// Ends the session, with an SSH-1 disconnect carrying `cause` if given.
    fn end(&mut self, cause: Option<&str>) {
        if let Some(cause) = cause {
            let mut w = Writer::new();
            w.str(cause);
            self.peer(msg::DISCONNECT, w.into_vec());
        }
        self.phase = Phase::Ended;
    }

    /// Returns window credit for `n` bytes the caller took.
    fn give_credit(&mut self, credit: Credit, n: u32) {
        if self.error.is_some() || n == 0 {
            return;
        }
        let target = match credit {
            Credit::Session => {
                let s = &mut self.session;
                match s.conn_id {
                    Some(id) if !s.close_sent && !s.close_received => {
                        s.recv_window = s.recv_window.saturating_add(n);
                        Some(id)
                    }
                    _ => None,
                }
            }
            Credit::Fwd { ch, generation } => match self.fwd_mut(ch) {
                Some(f)
                    if f.generation == generation
                        && f.open
                        && !f.close_sent
                        && !f.close_received =>
                {
                    f.recv_window = f.recv_window.saturating_add(n);
                    f.conn_id
                }
                _ => None,
            },
        };
        if let Some(recipient) = target {
            self.conn(Message::ChannelWindowAdjust {
                recipient,
                bytes_to_add: n,
            });
        }
    }

    fn fwd_mut(&mut self, ch: u32) -> Option<&mut Fwd> {
        self.chans.get_mut(ch as usize).and_then(Option::as_mut)
    }

    /// Adds a reply to the queue, refusing more than [`MAX_PENDING_REQUESTS`].
    fn expect_reply(&mut self, via: Via, then: Then) -> Result<(), V1SessionError> {
        if self.replies.len() >= MAX_PENDING_REQUESTS {
            return Err(V1SessionError::TooManyPendingRequests);
        }
        let answer = (via == Via::Bridge).then_some(false);
        self.replies.push_back(Reply { via, answer, then });
        self.flush_replies();
        Ok(())
    }

    /// Fills the oldest unanswered reply that comes `via`; false if none waits.
    fn answer(&mut self, via: Via, ok: bool) -> bool {
        match self
            .replies
            .iter_mut()
            .find(|r| r.via == via && r.answer.is_none())
        {
            Some(r) => {
                r.answer = Some(ok);
                self.flush_replies();
                true
            }
            None => false,
        }
    }

    /// Acts on the answered replies at the front of the queue, in order.
    fn flush_replies(&mut self) {
        while let Some(Reply {
            answer: Some(ok),
            then,
            ..
        }) = self.replies.front()
        {
            let (ok, then) = (*ok, *then);
            self.replies.pop_front();
            if self.phase == Phase::Ended {
                continue;
            }
            match then {
                Then::Reply => self.ssh1_reply(ok),
                Then::Forward { port } => {
                    if ok {
                        for f in self.forwards.iter_mut().filter(|f| f.listen_port == port) {
                            f.confirmed = true;
                        }
                    } else {
                        self.forwards
                            .retain(|f| f.listen_port != port || f.confirmed);
                    }
                    self.ssh1_reply(ok);
                }
                Then::Exec { shell } => {
                    if !ok {
                        self.end(Some(if shell {
                            "shell execution failed"
                        } else {
                            "command execution failed"
                        }));
                    }
                }
            }
        }
    }

    fn ssh1_reply(&mut self, ok: bool) {
        let m = if ok {
            msg::SMSG_SUCCESS
        } else {
            msg::SMSG_FAILURE
        };
        self.peer(m, Vec::new());
    }
}

/// `s`, cut to at most `max` bytes on a character boundary.
fn clip(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s.get(..end).unwrap_or_default()
}
