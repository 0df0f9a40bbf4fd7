//! Forwarded channels and the session channel's data path: window-limited sending
//! toward the Connection, and protocol 1.5's two-message close mapped onto SSH-2.
//!
//! Protocol 1.5 closes each direction of a channel separately (nchan.c's "new channel
//! protocol"): `MSG_CHANNEL_CLOSE` (24) is *input EOF*, "I will send you no more
//! data", and `MSG_CHANNEL_CLOSE_CONFIRMATION` (25) is *output closed*, "I will write
//! no more of your data: stop". Each side must both send and receive both messages
//! before the channel is gone. The bridge keeps four flags per channel for the SSH-1
//! side and maps them onto SSH-2 (where EOF is "no more data" and CLOSE ends
//! everything):
//!
//! | event | SSH-1 client | Connection |
//! |---|---|---|
//! | client's input EOF (24) | our output-closed (25) once its data is sent | `CHANNEL_EOF` after the buffered data |
//! | client's output closed (25) | our input EOF (24) at once; later data from the Connection is dropped | — |
//! | Connection's `CHANNEL_EOF` | our input EOF (24) | — |
//! | Connection's `CHANNEL_CLOSE` | input EOF (24) and output closed (25) if not sent yet (buffered data dropped) | our `CHANNEL_CLOSE` |
//! | all four SSH-1 messages done | — | our `CHANNEL_CLOSE` if not sent yet |
//!
//! A channel's number is freed when both sides are done: the four SSH-1 messages
//! exchanged and both SSH-2 CLOSEs.

use super::*;

/// One forwarded channel: a connection between the SSH-1 client and the Connection.
#[derive(Debug)]
pub(super) struct Fwd {
    /// Which allocation of this number this is (numbers are reused).
    pub generation: u64,
    /// The Connection's number for the channel, once known.
    pub conn_id: Option<u32>,
    /// The client's number for the channel, once known.
    pub client_id: Option<u32>,
    /// Both sides confirmed.
    pub open: bool,
    /// The Connection opened it (and waits for the client's answer through us).
    pub server_opened: bool,
    /// Credit the Connection gave us.
    pub send_window: u32,
    pub send_max: u32,
    /// Credit we gave the Connection and it has not used.
    pub recv_window: u32,
    /// Client data waiting for window.
    pub up: VecDeque<u8>,
    /// The client sent input EOF (24).
    pub client_ieof: bool,
    /// We sent output closed (25).
    pub oclose_sent: bool,
    /// We sent input EOF (24).
    pub ieof_sent: bool,
    /// The client sent output closed (25).
    pub client_oclose: bool,
    pub eof_sent: bool,
    pub close_sent: bool,
    pub close_received: bool,
}

impl Fwd {
    fn new(generation: u64) -> Fwd {
        Fwd {
            generation,
            conn_id: None,
            client_id: None,
            open: false,
            server_opened: false,
            send_window: 0,
            send_max: 0,
            recv_window: 0,
            up: VecDeque::new(),
            client_ieof: false,
            oclose_sent: false,
            ieof_sent: false,
            client_oclose: false,
            eof_sent: false,
            close_sent: false,
            close_received: false,
        }
    }

    /// The SSH-1 side has exchanged all four close messages.
    fn ssh1_done(&self) -> bool {
        self.client_ieof && self.oclose_sent && self.ieof_sent && self.client_oclose
    }

    /// The Connection may still take data on it.
    fn conn_writable(&self) -> bool {
        self.open && !self.eof_sent && !self.close_sent && !self.close_received
    }
}

/// Takes up to `max` bytes from the front of `q`.
fn take(q: &mut VecDeque<u8>, max: usize) -> Vec<u8> {
    let n = q.len().min(max);
    q.drain(..n).collect()
}

impl V1Session {
    /// A free channel number (1..=MAX_CHANNELS) with a new channel in it.
    pub(super) fn alloc(&mut self) -> Option<u32> {
        let generation = self.next_generation;
        let id = match self.chans.iter().skip(1).position(Option::is_none) {
            Some(i) => i + 1,
            None if self.chans.len() <= MAX_CHANNELS => {
                if self.chans.is_empty() {
                    self.chans.push(None);
                }
                self.chans.push(None);
                self.chans.len() - 1
            }
            None => return None,
        };
        let slot = self.chans.get_mut(id)?;
        *slot = Some(Fwd::new(generation));
        self.next_generation += 1;
        u32::try_from(id).ok()
    }

    /// Frees channel `ch`, then sees whether the session may now end.
    pub(super) fn free(&mut self, ch: u32) {
        if let Some(slot) = self.chans.get_mut(ch as usize) {
            *slot = None;
        }
        self.try_exit();
    }

    /// Sends what the session channel can: buffered stdin within the window, then
    /// EOF once stdin ended and is all sent.
    pub(super) fn session_progress(&mut self) {
        let s = &mut self.session;
        let Some(recipient) = s.conn_id else { return };
        if s.close_sent || s.close_received {
            s.stdin.clear();
            return;
        }
        let mut out = Vec::new();
        let max = s.send_max.min(MAX_PACKET) as usize;
        while !s.stdin.is_empty() && s.send_window > 0 && max > 0 {
            let chunk = take(&mut s.stdin, max.min(s.send_window as usize));
            s.send_window -= chunk.len() as u32;
            out.push(chunk);
        }
        let eof = s.stdin_eof && s.stdin.is_empty() && !s.eof_sent;
        if eof {
            s.eof_sent = true;
        }
        for data in out {
            self.conn(Message::ChannelData {
                recipient,
                data: &data,
            });
        }
        if eof {
            self.conn(Message::ChannelEof { recipient });
        }
    }

    /// Moves channel `ch` on: buffered data within the window, the close steps of
    /// the table above, and freeing it when both sides are done.
    pub(super) fn fwd_progress(&mut self, ch: u32) {
        let Some(f) = self.fwd_mut(ch) else { return };
        let (Some(conn_id), client_id) = (f.conn_id, f.client_id) else {
            return;
        };
        let mut to_conn: Vec<Vec<u8>> = Vec::new();
        if f.conn_writable() {
            let max = f.send_max.min(MAX_PACKET) as usize;
            while !f.up.is_empty() && f.send_window > 0 && max > 0 {
                let chunk = take(&mut f.up, max.min(f.send_window as usize));
                f.send_window -= chunk.len() as u32;
                to_conn.push(chunk);
            }
        }
        let mut eof = false;
        let mut oclose = false;
        if f.open && f.client_ieof && f.up.is_empty() && !f.oclose_sent {
            if f.conn_writable() {
                f.eof_sent = true;
                eof = true;
            }
            f.oclose_sent = true;
            oclose = true;
        }
        let mut close = false;
        if f.ssh1_done() && !f.close_sent {
            f.close_sent = true;
            close = true;
        }
        let done = f.ssh1_done() && f.close_sent && f.close_received;
        for data in to_conn {
            self.conn(Message::ChannelData {
                recipient: conn_id,
                data: &data,
            });
        }
        if eof {
            self.conn(Message::ChannelEof { recipient: conn_id });
        }
        if oclose {
            self.peer_channel_msg(msg::MSG_CHANNEL_CLOSE_CONFIRMATION, client_id);
        }
        if close {
            self.conn(Message::ChannelClose { recipient: conn_id });
        }
        if done {
            self.free(ch);
        }
    }

    /// An SSH-1 message carrying only the client's channel number.
    pub(super) fn peer_channel_msg(&mut self, m: u8, client_id: Option<u32>) {
        if let Some(id) = client_id {
            let mut w = Writer::new();
            w.u32(id);
            self.peer(m, w.into_vec());
        }
    }

    /// Sends our input EOF (24) on `ch` if not sent yet.
    pub(super) fn send_ieof(&mut self, ch: u32) {
        let Some(f) = self.fwd_mut(ch) else { return };
        if f.ieof_sent {
            return;
        }
        f.ieof_sent = true;
        let id = f.client_id;
        self.peer_channel_msg(msg::MSG_CHANNEL_CLOSE, id);
    }

    /// The Connection closed `ch`: close everything on the SSH-1 side that is still
    /// open, answer with our CLOSE.
    pub(super) fn fwd_conn_closed(&mut self, ch: u32) {
        self.send_ieof(ch);
        let Some(f) = self.fwd_mut(ch) else { return };
        f.close_received = true;
        f.up.clear();
        let oclose = !f.oclose_sent;
        f.oclose_sent = true;
        let close = !f.close_sent;
        f.close_sent = true;
        let (client_id, conn_id) = (f.client_id, f.conn_id);
        if oclose {
            self.peer_channel_msg(msg::MSG_CHANNEL_CLOSE_CONFIRMATION, client_id);
        }
        if let (true, Some(recipient)) = (close, conn_id) {
            self.conn(Message::ChannelClose { recipient });
        }
        self.fwd_progress(ch);
    }

    /// The session may end: its channel is closed on both sides and no forwarded
    /// channel is left. Sends the exit status (or the disconnect).
    pub(super) fn try_exit(&mut self) {
        let s = &self.session;
        if self.phase != Phase::Interactive || !(s.close_sent && s.close_received) {
            return;
        }
        if self.chans.iter().any(Option::is_some) {
            if !self.told_waiting {
                self.told_waiting = true;
                let mut w = Writer::new();
                w.str("Waiting for forwarded connections to terminate...\r\n");
                self.peer(msg::SMSG_STDERR_DATA, w.into_vec());
            }
            return;
        }
        match self.session.exit.clone() {
            Some(Exit::Status(status)) => {
                let mut w = Writer::new();
                w.u32(status);
                self.peer(msg::SMSG_EXITSTATUS, w.into_vec());
                self.phase = Phase::Exiting;
            }
            Some(Exit::Signal(name)) => {
                let cause = match signal_number(&name) {
                    Some(n) => format!("Command terminated on signal {n}."),
                    None => format!("Command terminated on signal {}.", clip(&name, 32)),
                };
                self.end(Some(&cause));
            }
            None => self.end(Some("Session closed without an exit status.")),
        }
    }
}

/// The usual number of a signal named as in RFC 4254 §6.10 (POSIX numbers; USR1 and
/// USR2 as on Linux), for the disconnect sshd sent for a signalled command.
pub(super) fn signal_number(name: &str) -> Option<u32> {
    Some(match name {
        "HUP" => 1,
        "INT" => 2,
        "QUIT" => 3,
        "ILL" => 4,
        "TRAP" => 5,
        "ABRT" => 6,
        "BUS" => 7,
        "FPE" => 8,
        "KILL" => 9,
        "USR1" => 10,
        "SEGV" => 11,
        "USR2" => 12,
        "PIPE" => 13,
        "ALRM" => 14,
        "TERM" => 15,
        _ => return None,
    })
}
