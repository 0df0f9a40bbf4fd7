//! The loop's side of the channels: what to poll, acting on readiness (through each
//! channel's [`Pipes`]), answering opens that had to wait, each kind's end of a
//! channel, reaping, and hanging up.

use super::kind::OpenAnswer;
use super::pipes::Pipes;
use super::*;

impl Channels {
    /// Registers on `turn` the descriptors the loop should wait on; `may_send` is false
    /// while the socket or a key exchange holds output back. Returns the index of the
    /// first, for [`Channels::handle_ready`].
    pub fn watch(&mut self, conn: &Connection, may_send: bool, turn: &mut Turn) -> usize {
        self.poll_map.clear();
        let mut base = None;
        let mut add = |turn: &mut Turn, fd: i32, read: bool| {
            let t = turn.watch(fd, read, !read);
            base.get_or_insert(t.index());
        };
        for (i, l) in self.listeners.iter().enumerate() {
            add(turn, l.fd(), true);
            self.poll_map.push((0, Which::Listen(i)));
        }
        let now = Instant::now();
        self.lingering.retain(|l| l.deadline > now);
        for (i, l) in self.lingering.iter().enumerate() {
            add(turn, l.file.as_raw_fd(), false);
            turn.wake_at(l.deadline);
            self.poll_map.push((0, Which::Linger(i)));
        }
        for (&ch, c) in &self.chans {
            if let Some((fd, deadline)) = c.pending() {
                turn.wake_at(deadline);
                if let Some((fd, read)) = fd {
                    add(turn, fd, read);
                    self.poll_map.push((ch, Which::Pending));
                }
                continue;
            }
            let p: &Pipes = c.pipes();
            if p.finished {
                continue;
            }
            let window = conn.send_window(ch) > 0 && may_send;
            if let (Some(f), false, true) = (&p.stdout, p.out_eof, window) {
                add(turn, f.as_raw_fd(), true);
                self.poll_map.push((ch, Which::Out));
            }
            if let (Some(f), false, true) = (&p.stderr, p.err_eof, window) {
                add(turn, f.as_raw_fd(), true);
                self.poll_map.push((ch, Which::Err));
            }
            if let (Some(f), false) = (&p.stdin, p.to_child.is_empty()) {
                add(turn, f.as_raw_fd(), false);
                self.poll_map.push((ch, Which::In));
            }
        }
        base.unwrap_or(turn.len())
    }

    /// Acts on the readiness reported for the descriptors [`Channels::watch`]
    /// registered (`entries` from the index it returned).
    pub fn handle_ready(&mut self, conn: &mut Connection, entries: &[PollEntry]) {
        let map = std::mem::take(&mut self.poll_map);
        for ((ch, which), e) in map.iter().zip(entries) {
            if !(e.readable || e.writable || e.hangup) {
                continue;
            }
            if let Which::Pending = which {
                self.advance(conn, *ch, Instant::now());
                continue;
            }
            if let Which::Listen(i) = which {
                self.accept_on(conn, *i);
                continue;
            }
            if let Which::Linger(i) = which {
                if let Some(l) = self.lingering.get_mut(*i) {
                    if l.write() {
                        l.deadline = Instant::now();
                    }
                }
                continue;
            }
            let Some(c) = self.chans.get_mut(ch) else {
                continue;
            };
            let p = c.pipes_mut();
            match which {
                Which::Out => p.read_out(conn, *ch, false, &mut self.read_buf),
                Which::Err => p.read_out(conn, *ch, true, &mut self.read_buf),
                Which::In => p.write_in(conn, *ch),
                Which::Pending | Which::Listen(_) | Which::Linger(_) => {}
            }
        }
    }

    /// A channel whose open waited moved on: answers the open when it must be.
    fn advance(&mut self, conn: &mut Connection, ch: ChannelId, now: Instant) {
        let Some(c) = self.chans.get_mut(&ch) else {
            return;
        };
        match c.advance(now) {
            None => {}
            Some(OpenAnswer::Accept) => conn.accept_open(ch),
            Some(OpenAnswer::Reject {
                reason,
                description,
            }) => {
                self.chans.remove(&ch);
                conn.reject_open(ch, reason, &description);
            }
        }
    }

    /// Work that needs no readiness: opens whose time is up, and each channel's end
    /// (its kind's order of EOF, exit status and CLOSE).
    pub fn progress(&mut self, conn: &mut Connection) {
        let ids: Vec<ChannelId> = self.chans.keys().copied().collect();
        let now = Instant::now();
        for ch in ids {
            let Some(c) = self.chans.get_mut(&ch) else {
                continue;
            };
            match c.pending() {
                Some((_, deadline)) if now >= deadline => self.advance(conn, ch, now),
                Some(_) => {}
                None => c.progress(conn, ch),
            }
        }
    }

    /// Collects the exit status of processes that ended (after SIGCHLD).
    pub fn reap(&mut self) {
        for c in self.chans.values_mut() {
            c.reap();
        }
    }

    /// The connection is over: hang up everything behind every channel.
    pub fn hangup_all(&mut self) {
        for c in self.chans.values_mut() {
            c.hang_up();
        }
        // Forwards end with the connection; the agent socket and its directory go.
        self.listeners.clear();
    }
}
