//! # sisu-connection: the SSH connection protocol (RFC 4254)
//!
//! This crate owns what runs over an authenticated SSH transport: the channel table,
//! the two windows of every channel and their flow control, channel requests (pty-req,
//! env, shell, exec, subsystem, window-change, signal, exit-status, exit-signal) and
//! global requests, and the channels we open ourselves (`forwarded-tcpip`, `x11`,
//! `auth-agent@openssh.com`, streamlocal). It is sans-IO: the daemon feeds it message payloads numbered
//! 80..=127 and drains payloads to send and typed [`Event`]s. The server role is here;
//! the [`message`], [`open`] and [`request`] modules encode and parse both directions,
//! ready for a client role.
//!
//! Module map: [`message`] (the RFC 4254 messages), [`open`] (channel types),
//! [`request`] (channel request types, terminal modes), [`global`] (global request
//! types: forwarding, keepalive, no-more-sessions), `channel` (one channel's windows
//! and flags), `connection` (the machine), [`event`], [`error`].
//!
//! ```
//! use sisu_connection::message::Message;
//! use sisu_connection::request::ChannelRequest;
//! use sisu_connection::{ChannelKind, Connection, Event, Limits};
//!
//! let mut conn = Connection::new(Limits::default());
//! // The client opens a session: its channel 5, window 1000, max packet 100.
//! let open = Message::ChannelOpen {
//!     kind: "session", sender: 5, initial_window: 1000, max_packet: 100, data: &[],
//! };
//! conn.handle_message(&open.encode()).unwrap();
//! let Some(Event::ChannelOpen { ch, kind: ChannelKind::Session }) = conn.poll_event() else {
//!     panic!()
//! };
//! conn.accept_open(ch);
//! assert!(matches!(
//!     Message::parse(&conn.poll_transmit().unwrap()),
//!     Ok(Message::ChannelOpenConfirmation { recipient: 5, .. })
//! ));
//!
//! // exec "date", wanting a reply.
//! let exec = ChannelRequest::Exec { command: b"date" }.encode_data();
//! let req = Message::ChannelRequest { recipient: ch, kind: "exec", want_reply: true, data: &exec };
//! conn.handle_message(&req.encode()).unwrap();
//! assert_eq!(
//!     conn.poll_event(),
//!     Some(Event::Exec { ch, want_reply: true, command: b"date".to_vec() })
//! );
//! conn.reply_request(ch, true);
//! assert_eq!(conn.poll_transmit(), Some(Message::ChannelSuccess { recipient: 5 }.encode()));
//!
//! // Output is split by the client's max packet (100) and bounded by its window (1000).
//! assert_eq!(conn.send_data(ch, &[b'x'; 1500]), 1000);
//! assert_eq!(std::iter::from_fn(|| conn.poll_transmit()).count(), 10);
//! assert_eq!(conn.send_window(ch), 0);
//!
//! // exit-status, EOF, CLOSE; the client's CLOSE frees the id.
//! conn.send_exit_status(ch, 0);
//! conn.send_eof(ch);
//! conn.close(ch);
//! assert_eq!(std::iter::from_fn(|| conn.poll_transmit()).count(), 3);
//! conn.handle_message(&Message::ChannelClose { recipient: ch }.encode()).unwrap();
//! assert_eq!(conn.poll_event(), Some(Event::Closed { ch }));
//! assert_eq!(conn.channels().count(), 0);
//! ```
//!
//! ## Decisions
//!
//! - A `CHANNEL_OPEN` beyond [`Limits::max_channels`] is refused with
//!   `SSH_OPEN_RESOURCE_SHORTAGE` and no event; unknown channel types reach the daemon
//!   as [`ChannelKind::Other`].
//! - A `WINDOW_ADJUST` past 2^32-1 is a protocol error, as in OpenSSH.
//! - Data beyond our window, or any message on a channel id that is not open
//!   (unknown, not yet confirmed, or after the peer's CLOSE) is a protocol error.
//!   Data after the peer's EOF, or after our CLOSE, is dropped (OpenSSH ignores it
//!   too); it still counts against the window. Data packets larger than our max packet
//!   but within the window are accepted, as OpenSSH does.
//! - Our window is given back only through [`Connection::consumed`], so undelivered
//!   data is bounded by the window of each channel; events are bounded by
//!   [`Limits::max_pending_events`] (consecutive data events on a channel are merged).
//! - The peer closing first gives [`Event::PeerClosed`]: the daemon sends
//!   exit-status and EOF if it wishes, then [`Connection::close`]; [`Event::Closed`]
//!   follows when both CLOSEs are done. After `close` nothing more is sent on the
//!   channel (exit-status, EOF, data, replies become no-ops).
//! - `window-change` and `signal` with `want_reply` are answered with success by the
//!   machine; an `env` whose value is not UTF-8 is answered with failure and gives no
//!   event. Channel request replies go out in request order. A request is owed its
//!   reply from the moment [`Connection::poll_event`] hands it out, so a daemon that
//!   answers each event as it polls it may call `reply_request` for every request
//!   (a no-op for `want_reply == false`) or only for those that want a reply.
//! - [`Connection::open_channel`] opens a channel from our side; the peer's answer is
//!   [`Event::OpenConfirmed`] or [`Event::OpenFailed`], and from the confirmation on
//!   the channel follows the same window and packet rules as one the peer opened. A
//!   confirmation or failure for anything else is a protocol error. Closing one of ours
//!   before the answer abandons it (a late confirmation gets a CLOSE).
//! - After the peer's `no-more-sessions@openssh.com`, a `session` open is a protocol
//!   error, as in OpenSSH.
//! - We send no channel requests wanting a reply, so a `CHANNEL_SUCCESS`/`FAILURE`
//!   from the peer is a protocol error; `REQUEST_SUCCESS`/`FAILURE` are accepted only
//!   as replies to [`Connection::send_global_request`].
//! - Message numbers in 80..=127 that RFC 4254 leaves undefined give the non-fatal
//!   [`ConnectionError::Unimplemented`], for the transport to answer with
//!   `SSH_MSG_UNIMPLEMENTED`.
//!
//! ## Not yet
//!
//! TODO: the rest of the client role (channel requests of our own that want a reply).
//!
//! ## SSH-1
//!
//! With the `v1` feature (on by default), [`v1`] holds the SSH-1 (protocol 1.5)
//! interactive session as a bridge onto this crate's SSH-2 machine: the daemon serves
//! an SSH-1 client with the same [`Connection`] that serves SSH-2 session channels.
#![forbid(unsafe_code)]
// No panics on a network path: tests (and doc examples) may unwrap, the library may not.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]
#![deny(missing_docs)]

mod channel;
mod connection;
pub mod error;
pub mod event;
pub mod global;
pub mod message;
pub mod open;
pub mod request;
#[cfg(feature = "v1")]
pub mod v1;

pub use channel::MAX_PENDING_REPLIES;
pub use connection::{Connection, MAX_OUTSTANDING_GLOBAL_REQUESTS, MAX_PENDING_GLOBAL_REPLIES};
pub use error::ConnectionError;
pub use event::Event;
pub use open::ChannelKind;
pub use request::MAX_PTY_MODES;

/// Our local channel number: an index into the channel table, below
/// [`Limits::max_channels`]. Ids are reused after [`Event::Closed`].
pub type ChannelId = u32;

/// `SSH_EXTENDED_DATA_STDERR` (RFC 4254 §5.2).
pub const SSH_EXTENDED_DATA_STDERR: u32 = 1;

/// The bounds of one connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Most channels open (or waiting for `accept_open`) at once.
    pub max_channels: usize,
    /// Our initial window, and the most credit the peer ever has on a channel.
    pub window: u32,
    /// The largest data packet we accept (announced in the open confirmation).
    pub max_packet: u32,
    /// Most events queued for the daemon; beyond it `handle_message` fails with
    /// [`ConnectionError::EventQueueFull`].
    pub max_pending_events: usize,
    /// Largest data packet we send, whatever the peer announced; keep it within the
    /// transport's packet size (RFC 4253 §6.1 guarantees 32768 bytes of payload).
    pub max_send_packet: u32,
    /// Bytes of channel data (with message headers) queued for `poll_transmit` beyond
    /// which `send_data` takes no more.
    pub max_pending_transmit: usize,
}

impl Default for Limits {
    /// 64 channels, 2 MiB window, 32 KiB packets, 1024 events, 1 MiB of queued output.
    fn default() -> Self {
        Limits {
            max_channels: 64,
            window: 2 * 1024 * 1024,
            max_packet: 32 * 1024,
            max_pending_events: 1024,
            max_send_packet: 32 * 1024,
            max_pending_transmit: 1024 * 1024,
        }
    }
}
