//! What the connection machine tells its caller.

use crate::{ChannelId, ChannelKind};

/// An event for the daemon, taken with [`crate::Connection::poll_event`].
///
/// Events that carry `want_reply` (and [`Event::ChannelOpen`]) wait for an answer:
/// [`crate::Connection::reply_request`], [`crate::Connection::accept_open`] /
/// [`crate::Connection::reject_open`], or [`crate::Connection::reply_global`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// The peer asks to open a channel; answer with `accept_open` or `reject_open`.
    ChannelOpen {
        /// Our id for the channel.
        ch: ChannelId,
        /// Its type and type-specific data.
        kind: ChannelKind,
    },
    /// `pty-req`: allocate a pseudo-terminal.
    PtyRequest {
        /// The channel.
        ch: ChannelId,
        /// Whether the peer waits for `reply_request`.
        want_reply: bool,
        /// `TERM` value.
        term: String,
        /// Width in characters.
        cols: u32,
        /// Height in rows.
        rows: u32,
        /// Width in pixels.
        width_px: u32,
        /// Height in pixels.
        height_px: u32,
        /// Terminal modes (opcode, argument), at most [`crate::MAX_PTY_MODES`].
        modes: Vec<(u8, u32)>,
    },
    /// `env`: set an environment variable. A value that is not UTF-8 is refused by the
    /// machine itself (`CHANNEL_FAILURE`) and produces no event.
    Env {
        /// The channel.
        ch: ChannelId,
        /// Whether the peer waits for `reply_request`.
        want_reply: bool,
        /// Variable name.
        name: String,
        /// Variable value.
        value: String,
    },
    /// `shell`: start the user's shell.
    Shell {
        /// The channel.
        ch: ChannelId,
        /// Whether the peer waits for `reply_request`.
        want_reply: bool,
    },
    /// `exec`: run a command.
    Exec {
        /// The channel.
        ch: ChannelId,
        /// Whether the peer waits for `reply_request`.
        want_reply: bool,
        /// The command line, raw bytes.
        command: Vec<u8>,
    },
    /// `subsystem`, e.g. `sftp`.
    Subsystem {
        /// The channel.
        ch: ChannelId,
        /// Whether the peer waits for `reply_request`.
        want_reply: bool,
        /// Subsystem name.
        name: String,
    },
    /// `window-change`. Needs no reply (a `want_reply` is answered with success by the
    /// machine).
    WindowChange {
        /// The channel.
        ch: ChannelId,
        /// Width in characters.
        cols: u32,
        /// Height in rows.
        rows: u32,
        /// Width in pixels.
        width_px: u32,
        /// Height in pixels.
        height_px: u32,
    },
    /// `signal`: deliver a signal (name without `SIG`). Needs no reply.
    Signal {
        /// The channel.
        ch: ChannelId,
        /// Signal name, e.g. `TERM`.
        name: String,
    },
    /// `x11-req`: forward X11 connections for this session.
    X11Request {
        /// The channel.
        ch: ChannelId,
        /// Whether the peer waits for `reply_request`.
        want_reply: bool,
        /// Forward one connection only.
        single_connection: bool,
        /// The authentication protocol, e.g. `MIT-MAGIC-COOKIE-1`.
        auth_protocol: String,
        /// The cookie in hexadecimal (the peer's fake one, which it replaces).
        auth_cookie: String,
        /// The screen number.
        screen: u32,
    },
    /// `auth-agent-req@openssh.com`: forward the peer's agent.
    AgentRequest {
        /// The channel.
        ch: ChannelId,
        /// Whether the peer waits for `reply_request`.
        want_reply: bool,
    },
    /// Any other channel request (`keepalive@openssh.com`, ...). Usually answered with
    /// `reply_request(ch, false)`.
    OtherRequest {
        /// The channel.
        ch: ChannelId,
        /// Whether the peer waits for `reply_request`.
        want_reply: bool,
        /// Request type.
        name: String,
        /// Type-specific data, unparsed.
        data: Vec<u8>,
    },
    /// Channel data. Give window credit back with `consumed` once taken.
    /// Consecutive data on one channel may be merged into one event.
    Data {
        /// The channel.
        ch: ChannelId,
        /// The bytes.
        data: Vec<u8>,
    },
    /// Extended channel data (code 1 = stderr). Counts against the same window as
    /// `Data`.
    ExtendedData {
        /// The channel.
        ch: ChannelId,
        /// Data type code.
        code: u32,
        /// The bytes.
        data: Vec<u8>,
    },
    /// The peer sends no more data on this channel.
    Eof {
        /// The channel.
        ch: ChannelId,
    },
    /// The peer gave us more window: more data may be sent.
    WindowAdjusted {
        /// The channel.
        ch: ChannelId,
    },
    /// The peer sent `CHANNEL_CLOSE` first (it implies EOF). Finish up (exit-status,
    /// EOF) and call `close`; [`Event::Closed`] follows.
    PeerClosed {
        /// The channel.
        ch: ChannelId,
    },
    /// Both sides have sent `CHANNEL_CLOSE`: the id is free and may be reused.
    Closed {
        /// The channel.
        ch: ChannelId,
    },
    /// The peer confirmed a channel we opened with `open_channel`: data may flow.
    OpenConfirmed {
        /// The channel.
        ch: ChannelId,
    },
    /// The peer refused a channel we opened; the id is free again.
    OpenFailed {
        /// The channel.
        ch: ChannelId,
        /// The `SSH_OPEN_*` reason code.
        reason: u32,
        /// The peer's description.
        description: String,
    },
    /// `SSH_MSG_GLOBAL_REQUEST`; answer with `reply_global` if `want_reply`. Parse the
    /// data with [`crate::global::GlobalRequest::parse`].
    GlobalRequest {
        /// Request name, e.g. `keepalive@openssh.com`, `tcpip-forward`.
        name: String,
        /// Whether the peer waits for `reply_global`.
        want_reply: bool,
        /// Request-specific data.
        data: Vec<u8>,
    },
    /// The peer answered one of our global requests (sent with
    /// `send_global_request`), oldest first.
    GlobalReply {
        /// `REQUEST_SUCCESS` or `REQUEST_FAILURE`.
        ok: bool,
        /// Response-specific data (empty on failure).
        data: Vec<u8>,
    },
}
