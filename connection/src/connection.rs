//! The connection protocol machine (server role): channel table, flow control, requests.

use crate::channel::{Channel, MAX_PENDING_REPLIES};
use crate::message::{self, Message};
use crate::request::ChannelRequest;
use crate::{ChannelId, ChannelKind, ConnectionError, Event, Limits};
use sisu_wire::msg::open_failure::SSH_OPEN_RESOURCE_SHORTAGE;
use std::collections::VecDeque;

/// Most global requests with `want_reply` from the peer that may wait for
/// [`Connection::reply_global`].
pub const MAX_PENDING_GLOBAL_REPLIES: usize = 64;
/// Most of our own global requests with `want_reply` that may wait for the peer's reply.
pub const MAX_OUTSTANDING_GLOBAL_REQUESTS: usize = 64;
/// Bytes of framing in a `CHANNEL_EXTENDED_DATA` payload besides the data itself
/// (message number, recipient, code, string length); used to keep queued output bounded.
const DATA_HEADER: usize = 13;

/// The SSH connection protocol (RFC 4254) for one connection, server role.
///
/// Feed it every message numbered 80..=127 with [`Connection::handle_message`], send
/// what [`Connection::poll_transmit`] gives, and act on [`Connection::poll_event`].
/// Drain both queues after each call: events are bounded by
/// [`Limits::max_pending_events`] and output by [`Limits::max_pending_transmit`].
///
/// # Its methods, by kind, and the order to call them
///
/// - **Construct**: [`Connection::new`] once the user has authenticated.
/// - **Input**: [`Connection::handle_message`] with each message 80..=127 the transport
///   delivers. An `Err` ends the connection (errors are sticky, [`Connection::error`]).
/// - **Events**: after every input, [`Connection::poll_event`] until `None`: channel
///   opens, channel and global requests, data, EOF, closes.
/// - **Answers**: an event that asks (a channel open, a request with `want_reply`, a
///   global request) is answered with [`Connection::accept_open`] /
///   [`Connection::reject_open`], [`Connection::reply_request`],
///   [`Connection::reply_global`]; data taken by the consumer is given back as window
///   credit with [`Connection::consumed`].
/// - **Our own actions**: [`Connection::send_data`] / [`Connection::send_extended_data`]
///   (limited by [`Connection::send_window`]), [`Connection::send_eof`],
///   [`Connection::send_exit_status`] / [`Connection::send_exit_signal`],
///   [`Connection::close`], [`Connection::send_global_request`].
/// - **Output**: after every input, answer or action, [`Connection::poll_transmit`]
///   until `None`, each message to the transport's `send_message`.
/// - **Timers**: none; keepalives and timeouts are the caller's (it reads the clock).
///
/// One turn: `handle_message` → `poll_event`* (answering as it goes) → `poll_transmit`*.
#[derive(Debug)]
pub struct Connection {
    limits: Limits,
    /// Indexed by [`ChannelId`]; never longer than `limits.max_channels`.
    channels: Vec<Option<Channel>>,
    transmit: VecDeque<Vec<u8>>,
    transmit_bytes: usize,
    events: VecDeque<Queued>,
    /// Global requests from the peer with `want_reply`, handed to the daemon and not
    /// answered yet.
    global_replies_owed: usize,
    /// Global requests with `want_reply` still in the event queue.
    global_replies_queued: usize,
    /// Stamped on each new channel, so that a queued reply slot cannot land on a later
    /// channel that reuses the id.
    next_generation: u64,
    /// Our global requests with `want_reply` not answered yet.
    global_requests_outstanding: usize,
    /// The peer sent `no-more-sessions@openssh.com`.
    no_more_sessions: bool,
    error: Option<ConnectionError>,
}

impl Connection {
    /// A machine with no channels, just after user authentication succeeded.
    pub fn new(limits: Limits) -> Self {
        Connection {
            limits,
            channels: Vec::new(),
            transmit: VecDeque::new(),
            transmit_bytes: 0,
            events: VecDeque::new(),
            global_replies_owed: 0,
            global_replies_queued: 0,
            next_generation: 0,
            global_requests_outstanding: 0,
            no_more_sessions: false,
            error: None,
        }
    }

    /// The limits this machine was made with.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// One message from the peer (payload starting with the message number).
    ///
    /// `Err` is a protocol error that must end the connection with a disconnect of
    /// [`ConnectionError::reason`]; it is sticky. The one exception is
    /// [`ConnectionError::Unimplemented`] (see [`ConnectionError::is_fatal`]).
    pub fn handle_message(&mut self, payload: &[u8]) -> Result<(), ConnectionError> {
        if let Some(e) = &self.error {
            return Err(e.clone());
        }
        let result = self.dispatch(payload);
        if let Err(e) = &result {
            if e.is_fatal() {
                self.error = Some(e.clone());
            }
        }
        result
    }

    /// Next payload to send to the peer, oldest first.
    pub fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        let p = self.transmit.pop_front()?;
        self.transmit_bytes -= p.len();
        Some(p)
    }

    /// Next event for the daemon, oldest first.
    ///
    /// A request event that wants a reply is owed an answer from the moment it is
    /// returned here (see [`Connection::reply_request`]).
    pub fn poll_event(&mut self) -> Option<Event> {
        loop {
            let q = self.events.pop_front()?;
            if let Some(slot) = q.reply {
                self.register_reply(slot);
            }
            match q.event {
                Some(Event::GlobalRequest {
                    want_reply: true, ..
                }) => {
                    self.global_replies_queued -= 1;
                    self.global_replies_owed += 1;
                }
                Some(_) => {}
                None => continue,
            }
            return q.event;
        }
    }

    /// A channel request reaches the daemon (or was answered by the machine): its
    /// reply takes its place in the channel's queue.
    fn register_reply(&mut self, slot: ReplySlot) {
        let ch = slot.ch;
        if let Some(c) = self.confirmed(ch) {
            if c.generation == slot.generation {
                c.replies_queued -= 1;
                if !c.close_sent {
                    c.replies.push_back(slot.answer);
                }
            }
        }
        self.flush_replies(ch);
    }

    /// The error that stopped this machine, if any.
    pub fn error(&self) -> Option<&ConnectionError> {
        self.error.as_ref()
    }

    fn dispatch(&mut self, payload: &[u8]) -> Result<(), ConnectionError> {
        let n = *payload
            .first()
            .ok_or(ConnectionError::NotConnectionMessage { msg: None })?;
        if !(80..=127).contains(&n) {
            return Err(ConnectionError::NotConnectionMessage { msg: Some(n) });
        }
        if !message::is_defined(n) {
            return Err(ConnectionError::Unimplemented { msg: n });
        }
        let m = Message::parse(payload)
            .map_err(|error| ConnectionError::Malformed { msg: n, error })?;
        match m {
            Message::GlobalRequest {
                name,
                want_reply,
                data,
            } => {
                if name == crate::global::NO_MORE_SESSIONS {
                    self.no_more_sessions = true;
                }
                if want_reply {
                    if self.global_replies_owed + self.global_replies_queued
                        >= MAX_PENDING_GLOBAL_REPLIES
                    {
                        return Err(ConnectionError::TooManyPendingRequests);
                    }
                    self.global_replies_queued += 1;
                }
                self.push_event(Event::GlobalRequest {
                    name: name.to_owned(),
                    want_reply,
                    data: data.to_vec(),
                })
            }
            Message::RequestSuccess { .. } | Message::RequestFailure => {
                if self.global_requests_outstanding == 0 {
                    return Err(ConnectionError::Unexpected { msg: n });
                }
                self.global_requests_outstanding -= 1;
                let (ok, data) = match m {
                    Message::RequestSuccess { data } => (true, data.to_vec()),
                    _ => (false, Vec::new()),
                };
                self.push_event(Event::GlobalReply { ok, data })
            }
            Message::ChannelOpen {
                kind,
                sender,
                initial_window,
                max_packet,
                data,
            } => self.on_open(kind, sender, initial_window, max_packet, data),
            Message::ChannelOpenConfirmation {
                recipient,
                sender,
                initial_window,
                max_packet,
                ..
            } => {
                let c = self.awaiting_answer(n, recipient)?;
                c.confirmed = true;
                c.peer_id = sender;
                c.send_window = initial_window;
                c.send_max_packet = max_packet;
                if c.abandoned {
                    c.close_sent = true;
                    self.queue(Message::ChannelClose { recipient: sender });
                    Ok(())
                } else {
                    self.push_event(Event::OpenConfirmed { ch: recipient })
                }
            }
            Message::ChannelOpenFailure {
                recipient,
                reason,
                description,
                ..
            } => {
                let abandoned = self.awaiting_answer(n, recipient)?.abandoned;
                self.channels[recipient as usize] = None;
                if abandoned {
                    return Ok(());
                }
                self.push_event(Event::OpenFailed {
                    ch: recipient,
                    reason,
                    description: description.to_owned(),
                })
            }
            Message::ChannelWindowAdjust {
                recipient,
                bytes_to_add,
            } => {
                let c = self.peer_channel(n, recipient)?;
                if c.close_sent {
                    return Ok(());
                }
                c.send_window = c
                    .send_window
                    .checked_add(bytes_to_add)
                    .ok_or(ConnectionError::WindowOverflow { ch: recipient })?;
                if bytes_to_add > 0 && !c.eof_sent {
                    self.push_event(Event::WindowAdjusted { ch: recipient })?;
                }
                Ok(())
            }
            Message::ChannelData { recipient, data } => self.on_data(n, recipient, None, data),
            Message::ChannelExtendedData {
                recipient,
                code,
                data,
            } => self.on_data(n, recipient, Some(code), data),
            Message::ChannelEof { recipient } => {
                let c = self.peer_channel(n, recipient)?;
                // A second EOF is harmless: ignore it.
                let first = !c.eof_received;
                c.eof_received = true;
                if first && !c.close_sent {
                    self.push_event(Event::Eof { ch: recipient })?;
                }
                Ok(())
            }
            Message::ChannelClose { recipient } => {
                let c = self.peer_channel(n, recipient)?;
                c.close_received = true;
                if c.close_sent {
                    self.channels[recipient as usize] = None;
                    self.push_event(Event::Closed { ch: recipient })
                } else {
                    self.push_event(Event::PeerClosed { ch: recipient })
                }
            }
            Message::ChannelRequest {
                recipient,
                kind,
                want_reply,
                data,
            } => self.on_request(n, recipient, kind, want_reply, data),
            // We send no channel requests that want a reply.
            Message::ChannelSuccess { recipient } | Message::ChannelFailure { recipient } => {
                self.peer_channel(n, recipient)?;
                Err(ConnectionError::Unexpected { msg: n })
            }
        }
    }

    fn on_open(
        &mut self,
        kind: &str,
        sender: u32,
        initial_window: u32,
        max_packet: u32,
        data: &[u8],
    ) -> Result<(), ConnectionError> {
        let kind = ChannelKind::parse(kind, data).map_err(|error| ConnectionError::Malformed {
            msg: sisu_wire::msg::SSH_MSG_CHANNEL_OPEN,
            error,
        })?;
        if self.no_more_sessions && kind == ChannelKind::Session {
            return Err(ConnectionError::SessionAfterNoMoreSessions);
        }
        let id = match self.free_id() {
            Some(i) => i,
            None => {
                self.queue(Message::ChannelOpenFailure {
                    recipient: sender,
                    reason: SSH_OPEN_RESOURCE_SHORTAGE,
                    description: "too many channels",
                    language: "",
                });
                return Ok(());
            }
        };
        let ch = id as ChannelId;
        self.push_event(Event::ChannelOpen { ch, kind })?;
        let generation = self.next_generation;
        self.next_generation += 1;
        self.channels[id] = Some(Channel::opening(
            sender,
            generation,
            initial_window,
            max_packet,
        ));
        Ok(())
    }

    /// A free slot in the channel table (growing it up to the limit).
    fn free_id(&mut self) -> Option<usize> {
        match self.channels.iter().position(Option::is_none) {
            Some(i) => Some(i),
            None if self.channels.len() < self.limits.max_channels.min(u32::MAX as usize) => {
                self.channels.push(None);
                Some(self.channels.len() - 1)
            }
            None => None,
        }
    }

    /// The channel we opened that the peer's answer (`msg`) names, or a protocol error.
    fn awaiting_answer(&mut self, msg: u8, ch: u32) -> Result<&mut Channel, ConnectionError> {
        match self.channels.get_mut(ch as usize) {
            Some(Some(c)) if c.local_open && !c.confirmed => Ok(c),
            _ => Err(ConnectionError::Unexpected { msg }),
        }
    }

    fn on_data(
        &mut self,
        n: u8,
        recipient: u32,
        code: Option<u32>,
        data: &[u8],
    ) -> Result<(), ConnectionError> {
        let c = self.peer_channel(n, recipient)?;
        let window = c.recv_window;
        if !c.charge(data.len()) {
            return Err(ConnectionError::WindowExceeded {
                ch: recipient,
                len: data.len(),
                window,
            });
        }
        // Data after the peer's EOF, or after our CLOSE, is dropped (OpenSSH does the
        // same). It was still charged to the window, so it cannot exceed it.
        if c.eof_received || c.close_sent || data.is_empty() {
            return Ok(());
        }
        c.unconsumed += data.len() as u32;
        let ch = recipient;
        match code {
            None => self.push_event(Event::Data {
                ch,
                data: data.to_vec(),
            }),
            Some(code) => self.push_event(Event::ExtendedData {
                ch,
                code,
                data: data.to_vec(),
            }),
        }
    }

    fn on_request(
        &mut self,
        n: u8,
        ch: u32,
        kind: &str,
        want_reply: bool,
        data: &[u8],
    ) -> Result<(), ConnectionError> {
        let c = self.peer_channel(n, ch)?;
        let req = ChannelRequest::parse(kind, data)
            .map_err(|error| ConnectionError::Malformed { msg: n, error })?;
        if c.close_sent {
            // We said CLOSE: we send nothing more on this channel, not even a reply.
            return Ok(());
        }
        if want_reply && c.replies.len() + c.replies_queued >= MAX_PENDING_REPLIES {
            return Err(ConnectionError::TooManyPendingRequests);
        }
        // `auto` is the answer the machine gives itself; `None` waits for the daemon.
        let (event, auto): (Option<Event>, Option<bool>) = match req {
            ChannelRequest::PtyReq {
                term,
                cols,
                rows,
                width_px,
                height_px,
                modes,
            } => (
                Some(Event::PtyRequest {
                    ch,
                    want_reply,
                    term: term.to_owned(),
                    cols,
                    rows,
                    width_px,
                    height_px,
                    modes,
                }),
                None,
            ),
            ChannelRequest::Env { name, value } => match std::str::from_utf8(value) {
                Ok(value) => (
                    Some(Event::Env {
                        ch,
                        want_reply,
                        name: name.to_owned(),
                        value: value.to_owned(),
                    }),
                    None,
                ),
                Err(_) => (None, Some(false)),
            },
            ChannelRequest::Shell => (Some(Event::Shell { ch, want_reply }), None),
            ChannelRequest::Exec { command } => (
                Some(Event::Exec {
                    ch,
                    want_reply,
                    command: command.to_vec(),
                }),
                None,
            ),
            ChannelRequest::Subsystem { name } => (
                Some(Event::Subsystem {
                    ch,
                    want_reply,
                    name: name.to_owned(),
                }),
                None,
            ),
            ChannelRequest::WindowChange {
                cols,
                rows,
                width_px,
                height_px,
            } => (
                Some(Event::WindowChange {
                    ch,
                    cols,
                    rows,
                    width_px,
                    height_px,
                }),
                Some(true),
            ),
            ChannelRequest::Signal { name } => (
                Some(Event::Signal {
                    ch,
                    name: name.to_owned(),
                }),
                Some(true),
            ),
            ChannelRequest::X11Req {
                single_connection,
                auth_protocol,
                auth_cookie,
                screen,
            } => (
                Some(Event::X11Request {
                    ch,
                    want_reply,
                    single_connection,
                    auth_protocol: auth_protocol.to_owned(),
                    auth_cookie: auth_cookie.to_owned(),
                    screen,
                }),
                None,
            ),
            ChannelRequest::AuthAgentReq => (Some(Event::AgentRequest { ch, want_reply }), None),
            // keepalive@openssh.com, a client's exit-status, and anything unknown: the
            // daemon decides.
            _ => (
                Some(Event::OtherRequest {
                    ch,
                    want_reply,
                    name: kind.to_owned(),
                    data: data.to_vec(),
                }),
                None,
            ),
        };
        let reply = want_reply.then_some(ReplySlot {
            ch,
            generation: c.generation,
            answer: auto,
        });
        if want_reply {
            c.replies_queued += 1;
        }
        self.push_queued(Queued { event, reply })
    }

    /// The open, confirmed channel the peer addresses, or a protocol error.
    fn peer_channel(&mut self, msg: u8, ch: u32) -> Result<&mut Channel, ConnectionError> {
        match self.channels.get_mut(ch as usize) {
            Some(Some(c)) if c.confirmed && !c.close_received => Ok(c),
            _ => Err(ConnectionError::UnknownChannel { msg, ch }),
        }
    }

    fn confirmed(&mut self, ch: ChannelId) -> Option<&mut Channel> {
        match self.channels.get_mut(ch as usize) {
            Some(Some(c)) if c.confirmed => Some(c),
            _ => None,
        }
    }

    fn push_event(&mut self, e: Event) -> Result<(), ConnectionError> {
        // Merge with the newest queued event where that loses nothing.
        let back = self.events.back_mut().and_then(|q| q.event.as_mut());
        match (back, &e) {
            (Some(Event::Data { ch: a, data }), Event::Data { ch: b, data: more }) if a == b => {
                data.extend_from_slice(more);
                return Ok(());
            }
            (
                Some(Event::ExtendedData {
                    ch: a,
                    code: ca,
                    data,
                }),
                Event::ExtendedData {
                    ch: b,
                    code: cb,
                    data: more,
                },
            ) if a == b && ca == cb => {
                data.extend_from_slice(more);
                return Ok(());
            }
            (Some(Event::WindowAdjusted { ch: a }), Event::WindowAdjusted { ch: b }) if a == b => {
                return Ok(());
            }
            _ => {}
        }
        self.push_queued(Queued {
            event: Some(e),
            reply: None,
        })
    }

    fn push_queued(&mut self, q: Queued) -> Result<(), ConnectionError> {
        if self.events.len() >= self.limits.max_pending_events {
            return Err(ConnectionError::EventQueueFull);
        }
        self.events.push_back(q);
        Ok(())
    }

    fn queue(&mut self, m: Message<'_>) {
        let p = m.encode();
        self.transmit_bytes += p.len();
        self.transmit.push_back(p);
    }

    /// Sends the replies at the front of `ch`'s queue that have their answer.
    fn flush_replies(&mut self, ch: ChannelId) {
        let mut out = Vec::new();
        if let Some(c) = self.confirmed(ch) {
            while let Some(Some(ok)) = c.replies.front().copied() {
                c.replies.pop_front();
                if !c.close_sent {
                    out.push((c.peer_id, ok));
                }
            }
        }
        for (recipient, ok) in out {
            self.queue(if ok {
                Message::ChannelSuccess { recipient }
            } else {
                Message::ChannelFailure { recipient }
            });
        }
    }

    /// Accepts a channel announced by [`Event::ChannelOpen`]: sends
    /// `CHANNEL_OPEN_CONFIRMATION` granting [`Limits::window`] and [`Limits::max_packet`].
    /// No-op unless `ch` is waiting for this answer.
    pub fn accept_open(&mut self, ch: ChannelId) {
        let (window, max_packet) = (self.limits.window, self.limits.max_packet);
        let Some(Some(c)) = self.channels.get_mut(ch as usize) else {
            return;
        };
        if c.confirmed || c.local_open || self.error.is_some() {
            return;
        }
        c.confirm(window);
        let recipient = c.peer_id;
        self.queue(Message::ChannelOpenConfirmation {
            recipient,
            sender: ch,
            initial_window: window,
            max_packet,
            data: &[],
        });
    }

    /// Refuses a channel announced by [`Event::ChannelOpen`] with an `SSH_OPEN_*`
    /// reason; the id is free at once (no [`Event::Closed`]). No-op unless `ch` is
    /// waiting for this answer.
    pub fn reject_open(&mut self, ch: ChannelId, reason: u32, description: &str) {
        let Some(slot) = self.channels.get_mut(ch as usize) else {
            return;
        };
        let Some(c) = slot.as_ref() else { return };
        if c.confirmed || c.local_open || self.error.is_some() {
            return;
        }
        let recipient = c.peer_id;
        *slot = None;
        self.queue(Message::ChannelOpenFailure {
            recipient,
            reason,
            description,
            language: "",
        });
    }

    /// Answers the oldest request event on `ch` that wanted a reply, was returned by
    /// [`Connection::poll_event`], and is not answered yet (`CHANNEL_SUCCESS` or
    /// `CHANNEL_FAILURE`; replies go out in the order the requests came).
    ///
    /// Answer each request event before polling the next one, or call this only for
    /// events with `want_reply`: a call for a `want_reply == false` event is a no-op
    /// only while no earlier request on `ch` waits for its answer.
    pub fn reply_request(&mut self, ch: ChannelId, ok: bool) {
        if self.error.is_some() {
            return;
        }
        if let Some(c) = self.confirmed(ch) {
            if let Some(slot) = c.replies.iter_mut().find(|r| r.is_none()) {
                *slot = Some(ok);
            }
        }
        self.flush_replies(ch);
    }

    /// Answers the oldest global request that asked for a reply and was returned by
    /// [`Connection::poll_event`] (`REQUEST_SUCCESS` with `data`, or
    /// `REQUEST_FAILURE`). No-op when none is owed; the same rule as
    /// [`Connection::reply_request`] applies to calls for `want_reply == false`.
    pub fn reply_global(&mut self, ok: bool, data: &[u8]) {
        if self.global_replies_owed == 0 || self.error.is_some() {
            return;
        }
        self.global_replies_owed -= 1;
        self.queue(if ok {
            Message::RequestSuccess { data }
        } else {
            Message::RequestFailure
        });
    }

    /// Opens a channel of `kind` towards the peer (`forwarded-tcpip`, `x11`,
    /// `auth-agent@openssh.com`, ...): `CHANNEL_OPEN` granting [`Limits::window`] and
    /// [`Limits::max_packet`]. The answer comes as [`Event::OpenConfirmed`] (then the
    /// channel works as one the peer opened) or [`Event::OpenFailed`]. `None` when
    /// [`Limits::max_channels`] are in use (or the machine has failed).
    pub fn open_channel(&mut self, kind: &ChannelKind) -> Option<ChannelId> {
        if self.error.is_some() {
            return None;
        }
        let id = self.free_id()?;
        let generation = self.next_generation;
        self.next_generation += 1;
        self.channels[id] = Some(Channel::local(generation, self.limits.window));
        let data = kind.encode_data();
        self.queue(Message::ChannelOpen {
            kind: kind.name(),
            sender: id as ChannelId,
            initial_window: self.limits.window,
            max_packet: self.limits.max_packet,
            data: &data,
        });
        Some(id as ChannelId)
    }

    /// Sends a global request of our own (e.g. `keepalive@openssh.com` for
    /// ClientAliveInterval). Replies come back as [`Event::GlobalReply`]. Returns
    /// `false` (and sends nothing) when [`MAX_OUTSTANDING_GLOBAL_REQUESTS`] replies
    /// are already awaited.
    pub fn send_global_request(&mut self, name: &str, want_reply: bool, data: &[u8]) -> bool {
        if self.error.is_some() {
            return false;
        }
        if want_reply {
            if self.global_requests_outstanding == MAX_OUTSTANDING_GLOBAL_REQUESTS {
                return false;
            }
            self.global_requests_outstanding += 1;
        }
        self.queue(Message::GlobalRequest {
            name,
            want_reply,
            data,
        });
        true
    }

    /// Bytes of channel data we may send on `ch` now: the peer's window, capped by the
    /// room left in the output queue; 0 once we sent EOF or CLOSE.
    pub fn send_window(&self, ch: ChannelId) -> u32 {
        match self.channels.get(ch as usize) {
            Some(Some(c)) if c.may_send_data() && self.error.is_none() => {
                let room = self
                    .limits
                    .max_pending_transmit
                    .saturating_sub(self.transmit_bytes);
                c.send_window.min(u32::try_from(room).unwrap_or(u32::MAX))
            }
            _ => 0,
        }
    }

    /// Sends channel data; returns how many bytes of `data` were taken (never more than
    /// [`Connection::send_window`]), split into messages of at most the peer's max
    /// packet (and [`Limits::max_send_packet`]) data bytes each. Send the rest after
    /// [`Event::WindowAdjusted`] or after draining [`Connection::poll_transmit`].
    pub fn send_data(&mut self, ch: ChannelId, data: &[u8]) -> usize {
        self.send_chunks(ch, None, data)
    }

    /// Like [`Connection::send_data`], as extended data of type `code` (1 = stderr).
    pub fn send_extended_data(&mut self, ch: ChannelId, code: u32, data: &[u8]) -> usize {
        self.send_chunks(ch, Some(code), data)
    }

    fn send_chunks(&mut self, ch: ChannelId, code: Option<u32>, data: &[u8]) -> usize {
        let max_pending = self.limits.max_pending_transmit;
        let max_send = self.limits.max_send_packet;
        if self.send_window(ch) == 0 {
            return 0;
        }
        let mut sent = 0;
        let mut out = Vec::new();
        let mut queued = self.transmit_bytes;
        if let Some(c) = self.confirmed(ch) {
            let max_packet = c.send_max_packet.min(max_send) as usize;
            while sent < data.len() && c.send_window > 0 && max_packet > 0 {
                let room = max_pending.saturating_sub(queued + DATA_HEADER);
                let len = (data.len() - sent)
                    .min(c.send_window as usize)
                    .min(max_packet)
                    .min(room);
                if len == 0 {
                    break;
                }
                let chunk = &data[sent..sent + len];
                let recipient = c.peer_id;
                let p = match code {
                    None => Message::ChannelData {
                        recipient,
                        data: chunk,
                    },
                    Some(code) => Message::ChannelExtendedData {
                        recipient,
                        code,
                        data: chunk,
                    },
                }
                .encode();
                queued += p.len();
                out.push(p);
                c.send_window -= len as u32;
                sent += len;
            }
        }
        self.transmit_bytes = queued;
        self.transmit.extend(out);
        sent
    }

    /// Reports that the consumer took `n` bytes of data delivered on `ch`; window credit
    /// goes back to the peer (`CHANNEL_WINDOW_ADJUST`) once at least half the window
    /// has been consumed. `n` beyond what was delivered is ignored.
    pub fn consumed(&mut self, ch: ChannelId, n: u32) {
        let threshold = (self.limits.window / 2).max(1);
        if self.error.is_some() {
            return;
        }
        let Some(c) = self.confirmed(ch) else { return };
        if let Some(add) = c.consume(n, threshold) {
            let recipient = c.peer_id;
            self.queue(Message::ChannelWindowAdjust {
                recipient,
                bytes_to_add: add,
            });
        }
    }

    /// Sends `CHANNEL_EOF` on `ch` (once; not after CLOSE).
    pub fn send_eof(&mut self, ch: ChannelId) {
        if self.error.is_some() {
            return;
        }
        let Some(c) = self.confirmed(ch) else { return };
        if c.eof_sent || c.close_sent {
            return;
        }
        c.eof_sent = true;
        let recipient = c.peer_id;
        self.queue(Message::ChannelEof { recipient });
    }

    fn send_request(&mut self, ch: ChannelId, req: ChannelRequest<'_>) {
        if self.error.is_some() {
            return;
        }
        let Some(c) = self.confirmed(ch) else { return };
        if c.close_sent {
            return;
        }
        let recipient = c.peer_id;
        let data = req.encode_data();
        self.queue(Message::ChannelRequest {
            recipient,
            kind: req.kind(),
            want_reply: false,
            data: &data,
        });
    }

    /// Sends the `exit-status` request (no reply wanted). The usual order is
    /// exit-status, EOF, CLOSE; after [`Connection::close`] this is a no-op.
    pub fn send_exit_status(&mut self, ch: ChannelId, status: u32) {
        self.send_request(ch, ChannelRequest::ExitStatus { status });
    }

    /// Sends the `exit-signal` request; `signal` has no `SIG` prefix (`"TERM"`).
    /// A no-op after [`Connection::close`].
    pub fn send_exit_signal(
        &mut self,
        ch: ChannelId,
        signal: &str,
        core_dumped: bool,
        message: &str,
    ) {
        self.send_request(
            ch,
            ChannelRequest::ExitSignal {
                signal,
                core_dumped,
                message,
                language: "",
            },
        );
    }

    /// Sends `CHANNEL_CLOSE` on `ch` (once); after it nothing more is sent on `ch`.
    /// If the peer had closed already, the id is freed and [`Event::Closed`] follows.
    ///
    /// On a channel of ours that the peer has not answered yet, the open is abandoned:
    /// no event comes for it, a confirmation is answered with CLOSE, and the id stays
    /// in use until that is done.
    pub fn close(&mut self, ch: ChannelId) {
        if self.error.is_some() {
            return;
        }
        if let Some(Some(c)) = self.channels.get_mut(ch as usize) {
            if c.local_open && !c.confirmed {
                c.abandoned = true;
                return;
            }
        }
        let Some(c) = self.confirmed(ch) else { return };
        if c.close_sent {
            return;
        }
        c.close_sent = true;
        c.replies.clear();
        let recipient = c.peer_id;
        let both = c.close_received;
        self.queue(Message::ChannelClose { recipient });
        if both {
            self.channels[ch as usize] = None;
            // Answers a call of ours, one per channel: not charged to the event bound.
            self.events.push_back(Queued {
                event: Some(Event::Closed { ch }),
                reply: None,
            });
        }
    }

    /// Whether `ch` is confirmed and we have not sent CLOSE on it.
    pub fn is_open(&self, ch: ChannelId) -> bool {
        matches!(self.channels.get(ch as usize), Some(Some(c)) if c.confirmed && !c.close_sent)
    }

    /// The ids in use: channels waiting for `accept_open`, open ones, and those
    /// waiting for the second CLOSE.
    pub fn channels(&self) -> impl Iterator<Item = ChannelId> + '_ {
        self.channels
            .iter()
            .enumerate()
            .filter(|(_, c)| c.is_some())
            .map(|(i, _)| i as ChannelId)
    }
}

/// One entry of the event queue.
#[derive(Debug)]
struct Queued {
    /// The event, or `None` for a request the machine refused by itself.
    event: Option<Event>,
    /// The reply this channel request is owed, if it wanted one.
    reply: Option<ReplySlot>,
}

/// A reply owed to a channel request, registered when its event is polled.
#[derive(Debug)]
struct ReplySlot {
    ch: ChannelId,
    generation: u64,
    /// The machine's own answer (`window-change`, `signal`, bad `env`), or `None` to
    /// wait for [`Connection::reply_request`].
    answer: Option<bool>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// One step of a hostile peer or a careless daemon.
    #[derive(Debug, Clone)]
    enum Step {
        Raw(u8, Vec<u8>),
        Open(u32, u32),
        Data(u32, usize),
        Adjust(u32, u32),
        Eof(u32),
        Close(u32),
        Request(u32, u8, bool),
        Global(bool),
        Accept(u32),
        Reply(u32, bool),
        Consume(u32, u32),
        Send(u32, usize),
        LocalClose(u32),
        LocalOpen,
        PeerConfirm(u32, u32),
        PeerFailure(u32),
        DrainEvents,
        DrainTransmit,
    }

    fn step() -> impl Strategy<Value = Step> {
        let ch = 0u32..6;
        prop_oneof![
            (80u8..=127, proptest::collection::vec(any::<u8>(), 0..40))
                .prop_map(|(n, b)| Step::Raw(n, b)),
            (any::<u32>(), any::<u32>()).prop_map(|(w, p)| Step::Open(w, p)),
            (ch.clone(), 0usize..3000).prop_map(|(c, n)| Step::Data(c, n)),
            (ch.clone(), any::<u32>()).prop_map(|(c, n)| Step::Adjust(c, n)),
            ch.clone().prop_map(Step::Eof),
            ch.clone().prop_map(Step::Close),
            (ch.clone(), 0u8..8, any::<bool>()).prop_map(|(c, k, w)| Step::Request(c, k, w)),
            any::<bool>().prop_map(Step::Global),
            ch.clone().prop_map(Step::Accept),
            (ch.clone(), any::<bool>()).prop_map(|(c, ok)| Step::Reply(c, ok)),
            (ch.clone(), any::<u32>()).prop_map(|(c, n)| Step::Consume(c, n)),
            (ch.clone(), 0usize..5000).prop_map(|(c, n)| Step::Send(c, n)),
            ch.clone().prop_map(Step::LocalClose),
            Just(Step::LocalOpen),
            (ch.clone(), any::<u32>()).prop_map(|(c, w)| Step::PeerConfirm(c, w)),
            ch.prop_map(Step::PeerFailure),
            Just(Step::DrainEvents),
            Just(Step::DrainTransmit),
        ]
    }

    fn request(ch: u32, k: u8, want_reply: bool) -> Vec<u8> {
        let modes = vec![(1u8, 2u32); 3];
        let req = match k {
            0 => ChannelRequest::PtyReq {
                term: "vt100",
                cols: 1,
                rows: 2,
                width_px: 3,
                height_px: 4,
                modes,
            },
            1 => ChannelRequest::Env {
                name: "A",
                value: b"\xff",
            },
            2 => ChannelRequest::Shell,
            3 => ChannelRequest::Exec { command: b"ls" },
            4 => ChannelRequest::WindowChange {
                cols: 1,
                rows: 1,
                width_px: 1,
                height_px: 1,
            },
            5 => ChannelRequest::Signal { name: "HUP" },
            6 => ChannelRequest::Subsystem { name: "sftp" },
            _ => ChannelRequest::Other {
                kind: "x11-req",
                data: b"junk",
            },
        };
        let data = req.encode_data();
        Message::ChannelRequest {
            recipient: ch,
            kind: req.kind(),
            want_reply,
            data: &data,
        }
        .encode()
    }

    fn check_bounds(c: &Connection) {
        let l = &c.limits;
        assert!(c.channels.len() <= l.max_channels);
        // One Closed per channel may come on top, from `close` calls.
        assert!(c.events.len() <= l.max_pending_events + l.max_channels);
        let mut held = 0usize;
        for q in &c.events {
            if let Some(Event::Data { data, .. } | Event::ExtendedData { data, .. }) = &q.event {
                held += data.len();
            }
        }
        assert!(held <= l.max_channels * l.window as usize);
        for ch in c.channels.iter().flatten() {
            let granted = ch.recv_window as u64 + ch.unconsumed as u64 + ch.credit as u64;
            if ch.confirmed {
                assert!(granted <= l.window as u64, "window grew past its maximum");
            }
            assert!(ch.replies.len() + ch.replies_queued <= MAX_PENDING_REPLIES);
        }
        assert!(c.global_replies_owed + c.global_replies_queued <= MAX_PENDING_GLOBAL_REPLIES);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn hostile_sequences_never_panic_and_stay_bounded(
            steps in proptest::collection::vec(step(), 1..120)
        ) {
            let limits = Limits {
                max_channels: 4,
                window: 5000,
                max_packet: 1000,
                max_pending_events: 16,
                max_send_packet: 700,
                max_pending_transmit: 4000,
            };
            let mut c = Connection::new(limits);
            let zeros = vec![0u8; 3000];
            let mut data_queued_since_drain = 0usize;
            for s in steps {
                let r = match s {
                    Step::Raw(n, mut b) => {
                        b.insert(0, n);
                        c.handle_message(&b)
                    }
                    Step::Open(w, p) => c.handle_message(
                        &Message::ChannelOpen {
                            kind: "session",
                            sender: 1,
                            initial_window: w,
                            max_packet: p,
                            data: &[],
                        }
                        .encode(),
                    ),
                    Step::Data(ch, n) => c.handle_message(
                        &Message::ChannelData { recipient: ch, data: &zeros[..n] }.encode(),
                    ),
                    Step::Adjust(ch, n) => c.handle_message(
                        &Message::ChannelWindowAdjust { recipient: ch, bytes_to_add: n }.encode(),
                    ),
                    Step::Eof(ch) => c.handle_message(&Message::ChannelEof { recipient: ch }.encode()),
                    Step::Close(ch) => {
                        c.handle_message(&Message::ChannelClose { recipient: ch }.encode())
                    }
                    Step::Request(ch, k, w) => c.handle_message(&request(ch, k, w)),
                    Step::Global(w) => c.handle_message(
                        &Message::GlobalRequest { name: "keepalive@openssh.com", want_reply: w, data: &[] }
                            .encode(),
                    ),
                    Step::Accept(ch) => {
                        c.accept_open(ch);
                        Ok(())
                    }
                    Step::Reply(ch, ok) => {
                        c.reply_request(ch, ok);
                        c.reply_global(ok, &[]);
                        Ok(())
                    }
                    Step::Consume(ch, n) => {
                        c.consumed(ch, n);
                        Ok(())
                    }
                    Step::Send(ch, n) => {
                        let before = c.send_window(ch);
                        let sent = c.send_data(ch, &zeros[..n.min(zeros.len())]);
                        prop_assert!(sent <= before as usize);
                        data_queued_since_drain += sent;
                        Ok(())
                    }
                    Step::LocalClose(ch) => {
                        c.close(ch);
                        Ok(())
                    }
                    Step::LocalOpen => {
                        let kind = ChannelKind::ForwardedTcpip {
                            connected_address: "127.0.0.1".into(), connected_port: 1,
                            originator: "127.0.0.1".into(), originator_port: 2,
                        };
                        if let Some(ch) = c.open_channel(&kind) {
                            prop_assert!(!c.is_open(ch));
                            prop_assert_eq!(c.send_window(ch), 0);
                        }
                        Ok(())
                    }
                    Step::PeerConfirm(ch, w) => c.handle_message(
                        &Message::ChannelOpenConfirmation {
                            recipient: ch, sender: 9, initial_window: w, max_packet: 500, data: &[],
                        }
                        .encode(),
                    ),
                    Step::PeerFailure(ch) => c.handle_message(
                        &Message::ChannelOpenFailure {
                            recipient: ch, reason: 2, description: "no", language: "",
                        }
                        .encode(),
                    ),
                    Step::DrainEvents => {
                        while c.poll_event().is_some() {}
                        Ok(())
                    }
                    Step::DrainTransmit => {
                        while let Some(p) = c.poll_transmit() {
                            prop_assert!(Message::parse(&p).is_ok());
                        }
                        data_queued_since_drain = 0;
                        Ok(())
                    }
                };
                if let Err(e) = r {
                    // Every error is a typed one with a disconnect reason, and sticky.
                    prop_assert!(e.reason() == 2 || e.reason() == 11);
                    prop_assert!(!e.to_string().is_empty());
                    if e.is_fatal() {
                        prop_assert_eq!(c.handle_message(&[96, 0, 0, 0, 0]), Err(e));
                        prop_assert_eq!(c.send_data(0, b"x"), 0);
                        // Carry on with a fresh machine to reach deeper states.
                        c = Connection::new(limits);
                        data_queued_since_drain = 0;
                    }
                }
                prop_assert!(data_queued_since_drain <= limits.max_pending_transmit);
                check_bounds(&c);
            }
        }
    }

    fn drain(c: &mut Connection) -> Vec<Message<'static>> {
        std::iter::from_fn(|| c.poll_transmit())
            .map(|p| {
                let p: &'static [u8] = Box::leak(p.into_boxed_slice());
                Message::parse(p).unwrap()
            })
            .collect()
    }

    #[test]
    fn server_opened_channels_confirm_fail_and_abandon() {
        let limits = Limits {
            window: 1000,
            max_packet: 100,
            ..Limits::default()
        };
        let mut c = Connection::new(limits);
        let kind = ChannelKind::AuthAgent;
        let a = c.open_channel(&kind).unwrap();
        assert_eq!(
            drain(&mut c),
            vec![Message::ChannelOpen {
                kind: "auth-agent@openssh.com",
                sender: a,
                initial_window: 1000,
                max_packet: 100,
                data: &[],
            }]
        );
        // Nothing may be sent before the answer; data for it is a protocol error.
        assert_eq!(c.send_data(a, b"x"), 0);
        let confirm = |recipient, sender| {
            Message::ChannelOpenConfirmation {
                recipient,
                sender,
                initial_window: 10,
                max_packet: 4,
                data: &[],
            }
            .encode()
        };
        c.handle_message(&confirm(a, 77)).unwrap();
        assert_eq!(c.poll_event(), Some(Event::OpenConfirmed { ch: a }));
        // Now it is an ordinary channel: the peer's window and packet size apply.
        assert_eq!(c.send_data(a, b"0123456789abc"), 10);
        assert_eq!(drain(&mut c).len(), 3);
        c.handle_message(
            &Message::ChannelData {
                recipient: a,
                data: b"hi",
            }
            .encode(),
        )
        .unwrap();
        assert_eq!(
            c.poll_event(),
            Some(Event::Data {
                ch: a,
                data: b"hi".to_vec()
            })
        );
        // A second confirmation is not expected.
        assert_eq!(
            c.handle_message(&confirm(a, 78)),
            Err(ConnectionError::Unexpected { msg: 91 })
        );

        // A refusal frees the id and says why.
        let mut c = Connection::new(limits);
        let b = c.open_channel(&kind).unwrap();
        let fail = Message::ChannelOpenFailure {
            recipient: b,
            reason: 1,
            description: "denied",
            language: "",
        };
        c.handle_message(&fail.encode()).unwrap();
        assert_eq!(
            c.poll_event(),
            Some(Event::OpenFailed {
                ch: b,
                reason: 1,
                description: "denied".into()
            })
        );
        assert_eq!(c.channels().count(), 0);

        // Abandoned before the answer: the confirmation is answered with CLOSE, no event,
        // and the peer's CLOSE frees the id.
        let d = c.open_channel(&kind).unwrap();
        drain(&mut c);
        c.close(d);
        assert!(drain(&mut c).is_empty());
        c.handle_message(&confirm(d, 5)).unwrap();
        assert_eq!(drain(&mut c), vec![Message::ChannelClose { recipient: 5 }]);
        assert_eq!(c.poll_event(), None);
        c.handle_message(&Message::ChannelClose { recipient: d }.encode())
            .unwrap();
        assert_eq!(c.poll_event(), Some(Event::Closed { ch: d }));
        // A peer-opened channel cannot be "accepted" through an id of ours.
        let e = c.open_channel(&kind).unwrap();
        c.accept_open(e);
        c.reject_open(e, 1, "x");
        assert_eq!(drain(&mut c).len(), 1, "only the CHANNEL_OPEN");
    }

    #[test]
    fn session_after_no_more_sessions_is_fatal() {
        let mut c = Connection::new(Limits::default());
        let nms = Message::GlobalRequest {
            name: crate::global::NO_MORE_SESSIONS,
            want_reply: false,
            data: &[],
        };
        c.handle_message(&nms.encode()).unwrap();
        let open = |kind| {
            Message::ChannelOpen {
                kind,
                sender: 0,
                initial_window: 0,
                max_packet: 0,
                data: &[],
            }
            .encode()
        };
        let tcp = ChannelKind::DirectTcpip {
            host: "h".into(),
            port: 1,
            originator: "o".into(),
            originator_port: 2,
        };
        let forward = Message::ChannelOpen {
            kind: "direct-tcpip",
            sender: 0,
            initial_window: 0,
            max_packet: 0,
            data: &tcp.encode_data(),
        };
        c.handle_message(&forward.encode()).unwrap();
        assert_eq!(
            c.handle_message(&open("session")),
            Err(ConnectionError::SessionAfterNoMoreSessions)
        );
    }

    #[test]
    fn event_queue_bound_is_enforced() {
        let limits = Limits {
            max_pending_events: 3,
            ..Limits::default()
        };
        let mut c = Connection::new(limits);
        let g = Message::GlobalRequest {
            name: "x",
            want_reply: false,
            data: &[],
        }
        .encode();
        for _ in 0..3 {
            c.handle_message(&g).unwrap();
        }
        let e = c.handle_message(&g).unwrap_err();
        assert_eq!(e, ConnectionError::EventQueueFull);
        assert_eq!(e.reason(), 11);
    }

    #[test]
    fn consecutive_data_events_merge() {
        let mut c = Connection::new(Limits::default());
        let open = Message::ChannelOpen {
            kind: "session",
            sender: 0,
            initial_window: 0,
            max_packet: 0,
            data: &[],
        };
        c.handle_message(&open.encode()).unwrap();
        c.accept_open(0);
        while c.poll_event().is_some() {}
        for part in [&b"ab"[..], b"cd", b"ef"] {
            let m = Message::ChannelData {
                recipient: 0,
                data: part,
            };
            c.handle_message(&m.encode()).unwrap();
        }
        assert_eq!(c.events.len(), 1);
        assert_eq!(
            c.poll_event(),
            Some(Event::Data {
                ch: 0,
                data: b"abcdef".to_vec()
            })
        );
        // A peer max packet of 0 lets nothing through, without looping.
        assert_eq!(c.send_data(0, b"x"), 0);
    }
}
