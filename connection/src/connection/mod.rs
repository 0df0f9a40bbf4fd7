//! The connection protocol machine (server role): channel table, flow control, requests.
//! This file holds the machine and its input side; `answers.rs` the daemon's answers
//! (opens, requests, our own opens and global requests), `send.rs` what we send on a
//! channel (data, EOF, exit status, CLOSE), `requests.rs` the peer's channel requests, `tests.rs` the proptests.

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

mod answers;
mod requests;
mod send;
#[cfg(test)]
mod tests;
