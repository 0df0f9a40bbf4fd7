//! What we send on a channel: data within the peer's window, window credit, EOF,
//! exit status and CLOSE.

use super::*;

impl Connection {
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
