//! Bytes between the channels' descriptors and the connection: what to poll, reading
//! and writing within the windows, EOF, exit status and CLOSE in their order, reaping.

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
        for (&ch, c) in &self.chans {
            if c.finished {
                continue;
            }
            if let Some(connecting) = &c.connecting {
                let (fd, deadline) = connecting.interest();
                turn.wake_at(deadline);
                if let Some((fd, read)) = fd {
                    add(turn, fd, read);
                    self.poll_map.push((ch, Which::Connect));
                }
                continue;
            }
            let window = conn.send_window(ch) > 0 && may_send;
            if let (Some(f), false) = (&c.stdout, c.out_eof) {
                if window {
                    add(turn, f.as_raw_fd(), true);
                    self.poll_map.push((ch, Which::Out));
                }
            }
            if let (Some(f), false) = (&c.stderr, c.err_eof) {
                if window {
                    add(turn, f.as_raw_fd(), true);
                    self.poll_map.push((ch, Which::Err));
                }
            }
            if let Some(f) = &c.stdin {
                if !c.to_child.is_empty() {
                    add(turn, f.as_raw_fd(), false);
                    self.poll_map.push((ch, Which::In));
                }
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
            match which {
                Which::Connect => self.advance_connect(conn, *ch),
                Which::Out => self.read_child(conn, *ch, false),
                Which::Err => self.read_child(conn, *ch, true),
                Which::In => self.write_child(conn, *ch),
            }
        }
    }

    /// Reads what the child has written, as far as the peer's window (and the
    /// connection's bounded transmit queue) allows; several reads in a row while the
    /// pipe keeps delivering full buffers, so a busy channel costs fewer wake-ups.
    pub(super) fn read_child(&mut self, conn: &mut Connection, ch: ChannelId, stderr: bool) {
        for _ in 0..CHILD_READS_PER_WAKEUP {
            let window = conn.send_window(ch) as usize;
            let Some(c) = self.chans.get_mut(&ch) else {
                return;
            };
            if window == 0 {
                return;
            }
            let file = if stderr { &mut c.stderr } else { &mut c.stdout };
            let Some(f) = file.as_mut() else { return };
            let want = window.min(CHILD_READ_CHUNK);
            let buf = &mut self.read_buf[..want];
            let (eof, more) = match f.read(buf) {
                Ok(0) => (true, false),
                Ok(n) => {
                    let sent = if stderr {
                        conn.send_extended_data(ch, 1, &buf[..n])
                    } else {
                        conn.send_data(ch, &buf[..n])
                    };
                    debug_assert_eq!(sent, n, "read no more than the window");
                    (false, n == want)
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => (false, false),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => (false, true),
                // EIO on a pty master: every slave fd is closed.
                Err(_) => (true, false),
            };
            if eof {
                if stderr {
                    c.err_eof = true;
                    c.stderr = None;
                } else {
                    c.out_eof = true;
                    if !c.is_pty {
                        c.stdout = None;
                    }
                }
                return;
            }
            if !more {
                return;
            }
        }
    }

    pub(super) fn write_child(&mut self, conn: &mut Connection, ch: ChannelId) {
        let Some(c) = self.chans.get_mut(&ch) else {
            return;
        };
        let Some(f) = c.stdin.as_mut() else {
            let n = c.to_child.len();
            c.to_child.clear();
            conn.consumed(ch, n as u32);
            return;
        };
        let mut written = 0;
        while written < c.to_child.len() {
            match f.write(&c.to_child[written..]) {
                Ok(0) => break,
                Ok(n) => written += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => {
                    // The child closed its input: drop what is left.
                    written = c.to_child.len();
                    c.stdin = None;
                    break;
                }
            }
        }
        if written > 0 {
            c.to_child.drain(..written);
            conn.consumed(ch, written as u32);
        }
    }

    /// Work that needs no readiness: closing a child's input after the peer's EOF,
    /// draining a PTY after its process exited, and ending finished channels with
    /// exit-status, EOF and CLOSE, in that order.
    pub fn progress(&mut self, conn: &mut Connection) {
        let ids: Vec<ChannelId> = self.chans.keys().copied().collect();
        let now = Instant::now();
        for ch in ids {
            let c = &self.chans[&ch];
            if let Some(connecting) = &c.connecting {
                if now >= connecting.interest().1 {
                    self.advance_connect(conn, ch);
                }
                continue;
            }
            if c.exit.is_some() && c.is_pty && !c.out_eof {
                self.drain_pty(conn, ch);
            }
            let c = self.chans.get_mut(&ch).expect("exists");
            if c.peer_eof && c.to_child.is_empty() && !c.is_pty && c.stdin.is_some() {
                if c.is_tcp {
                    // The other half of the socket may still be read: half-close it.
                    if let Some(f) = &c.stdin {
                        let _ = nix::sys::socket::shutdown(
                            f.as_raw_fd(),
                            nix::sys::socket::Shutdown::Write,
                        );
                    }
                }
                c.stdin = None;
            }
            if c.is_tcp {
                if c.finished {
                    continue;
                }
                if c.out_eof && !c.eof_sent {
                    conn.send_eof(ch);
                    c.eof_sent = true;
                }
                // Done when the destination has nothing more to say and the peer's data
                // has been delivered (or cannot be: the destination stopped reading).
                if c.out_eof && (c.stdin.is_none() || c.peer_eof) && c.to_child.is_empty() {
                    conn.close(ch);
                    c.finished = true;
                    c.stdin = None;
                    c.stdout = None;
                }
                continue;
            }
            if c.finished || !c.started {
                continue;
            }
            if c.exit.is_some() && c.out_eof && c.err_eof {
                match c.exit.take().expect("checked") {
                    ExitKind::Exited(code) => conn.send_exit_status(ch, code as u32),
                    ExitKind::Signaled {
                        signal,
                        core_dumped,
                    } => conn.send_exit_signal(ch, &signal, core_dumped, ""),
                }
                conn.send_eof(ch);
                conn.close(ch);
                c.finished = true;
                c.stdin = None;
                c.stdout = None;
                c.stderr = None;
            }
        }
    }

    /// After the session's process exited, sends what its pty still holds; a
    /// process that keeps the pty open does not keep the channel open.
    pub(super) fn drain_pty(&mut self, conn: &mut Connection, ch: ChannelId) {
        for _ in 0..1024 {
            let window = conn.send_window(ch) as usize;
            if window == 0 {
                return;
            }
            let Some(c) = self.chans.get_mut(&ch) else {
                return;
            };
            let Some(f) = c.stdout.as_mut() else {
                c.out_eof = true;
                return;
            };
            let mut buf = vec![0u8; window.min(CHILD_READ_CHUNK)];
            match f.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    conn.send_data(ch, &buf[..n]);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => break,
            }
        }
        if let Some(c) = self.chans.get_mut(&ch) {
            c.out_eof = true;
        }
    }

    /// Collects the exit status of children that ended (after SIGCHLD).
    pub fn reap(&mut self) {
        for c in self.chans.values_mut() {
            if let (Some(pid), None, false) = (c.pid, &c.exit, c.finished) {
                match os::try_wait(pid) {
                    Ok(Some(kind)) => c.exit = Some(kind),
                    Ok(None) => {}
                    Err(e) => {
                        debug!("waitpid {pid}: {e}");
                        c.exit = Some(ExitKind::Exited(255));
                    }
                }
            }
        }
    }

    /// The connection is over: hang up every child still running.
    pub fn hangup_all(&mut self) {
        for c in self.chans.values_mut() {
            c.stdin = None;
            c.stdout = None;
            c.stderr = None;
            c.pty = None;
            if let (Some(pid), None) = (c.pid, &c.exit) {
                let _ = os::signal_by_name(pid, "HUP");
                c.exit = Some(ExitKind::Exited(255));
            }
        }
    }
}
