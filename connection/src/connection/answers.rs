//! The daemon's answers to what the peer asked (opens, channel and global requests),
//! and the channels and global requests we start ourselves.

use super::*;

impl Connection {
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
}
