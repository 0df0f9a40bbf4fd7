//! One channel's state: the two windows (RFC 4254 §5.2), EOF and CLOSE flags, and the
//! queue of channel request replies owed to the peer.

use std::collections::VecDeque;

/// Most channel requests with `want_reply` that may wait for an answer on one channel.
pub const MAX_PENDING_REPLIES: usize = 64;

/// One entry in the table of [`crate::Connection`].
#[derive(Debug)]
pub(crate) struct Channel {
    /// The peer's number for this channel: the recipient of everything we send on it.
    pub peer_id: u32,
    /// Which allocation of this id this is (ids are reused).
    pub generation: u64,
    /// We sent `CHANNEL_OPEN_CONFIRMATION`.
    pub confirmed: bool,
    /// Bytes we may still send (the peer's window).
    pub send_window: u32,
    /// Largest data packet the peer accepts.
    pub send_max_packet: u32,
    /// Bytes the peer may still send (the credit we granted and it has not used).
    pub recv_window: u32,
    /// Bytes handed out in events and not yet reported by `consumed`.
    pub unconsumed: u32,
    /// Bytes consumed whose credit has not been given back yet.
    pub credit: u32,
    pub eof_sent: bool,
    pub eof_received: bool,
    pub close_sent: bool,
    pub close_received: bool,
    /// Replies owed for requests that had `want_reply`, oldest first: `None` until the
    /// daemon answers, `Some(ok)` when answered but waiting for an older one.
    pub replies: VecDeque<Option<bool>>,
    /// Requests with `want_reply` still in the event queue (not polled yet).
    pub replies_queued: usize,
    /// We opened it (`Connection::open_channel`); until `confirmed`, we wait for the
    /// peer's `CHANNEL_OPEN_CONFIRMATION` or `FAILURE`.
    pub local_open: bool,
    /// We gave up on our own open before the peer answered: a confirmation is answered
    /// with CLOSE, and neither answer is an event.
    pub abandoned: bool,
}

impl Channel {
    /// A channel the peer asked to open, not yet confirmed.
    pub fn opening(
        peer_id: u32,
        generation: u64,
        send_window: u32,
        send_max_packet: u32,
    ) -> Channel {
        Channel {
            peer_id,
            generation,
            confirmed: false,
            send_window,
            send_max_packet,
            recv_window: 0,
            unconsumed: 0,
            credit: 0,
            eof_sent: false,
            eof_received: false,
            close_sent: false,
            close_received: false,
            replies: VecDeque::new(),
            replies_queued: 0,
            local_open: false,
            abandoned: false,
        }
    }

    /// A channel we ask the peer to open, granting it `window` bytes from the start
    /// (it may send data as soon as it confirms).
    pub fn local(generation: u64, window: u32) -> Channel {
        let mut c = Channel::opening(0, generation, 0, 0);
        c.local_open = true;
        c.recv_window = window;
        c
    }

    /// Confirms the channel, granting the peer `window` bytes.
    pub fn confirm(&mut self, window: u32) {
        self.confirmed = true;
        self.recv_window = window;
    }

    /// Charges `len` received bytes against our window; `false` if they exceed it.
    pub fn charge(&mut self, len: usize) -> bool {
        match u32::try_from(len) {
            Ok(n) if n <= self.recv_window => {
                self.recv_window -= n;
                true
            }
            _ => false,
        }
    }

    /// Records that `n` delivered bytes were consumed (clamped to what was delivered)
    /// and returns the credit to give back now, if it reached `threshold` and the
    /// peer may still send.
    pub fn consume(&mut self, n: u32, threshold: u32) -> Option<u32> {
        let n = n.min(self.unconsumed);
        self.unconsumed -= n;
        self.credit += n;
        let peer_may_send = !(self.eof_received || self.close_received || self.close_sent);
        if peer_may_send && self.credit > 0 && self.credit >= threshold {
            let add = std::mem::take(&mut self.credit);
            self.recv_window += add;
            Some(add)
        } else {
            None
        }
    }

    /// Whether we may still send data on this channel.
    pub fn may_send_data(&self) -> bool {
        self.confirmed && !self.eof_sent && !self.close_sent
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_accounting_gives_back_only_consumed_credit() {
        let mut c = Channel::opening(7, 0, 100, 10);
        c.confirm(1000);
        assert!(c.charge(600));
        c.unconsumed += 600;
        assert!(!c.charge(401), "beyond the window");
        assert!(c.charge(400));
        c.unconsumed += 400;
        assert_eq!(c.recv_window, 0);
        // Below the threshold: nothing yet.
        assert_eq!(c.consume(100, 500), None);
        assert_eq!(c.consume(400, 500), Some(500));
        assert_eq!(c.recv_window, 500);
        // Consuming more than delivered is clamped.
        assert_eq!(c.consume(10_000, 500), Some(500));
        assert_eq!((c.recv_window, c.unconsumed, c.credit), (1000, 0, 0));
        // After the peer's EOF no credit goes back.
        assert!(c.charge(10));
        c.unconsumed += 10;
        c.eof_received = true;
        assert_eq!(c.consume(10, 1), None);
    }
}
