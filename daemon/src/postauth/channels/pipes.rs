//! The descriptors behind a channel and the bytes between them and the connection:
//! reading within the peer's window, writing what the peer sent, and the EOF flags
//! that every kind of channel ends by.

use sisu_connection::{ChannelId, Connection};
use std::fs::File;
use std::io::{self, Read, Write};

/// Largest chunk read from a descriptor at a time.
pub(super) const READ_CHUNK: usize = 64 * 1024;
/// Most reads from one descriptor per wake-up of the loop.
const READS_PER_WAKEUP: usize = 8;

/// A channel's descriptors and the state of its two directions.
#[derive(Default)]
pub(super) struct Pipes {
    /// Where the peer's data goes (a child's stdin, a socket's write half).
    pub stdin: Option<File>,
    /// What becomes channel data (a child's stdout, a socket's read half, a PTY).
    pub stdout: Option<File>,
    /// What becomes extended data 1 (a child's stderr).
    pub stderr: Option<File>,
    /// The peer's data not yet written to `stdin`.
    pub to_child: Vec<u8>,
    /// The peer sent EOF.
    pub peer_eof: bool,
    /// `stdout` is at its end.
    pub out_eof: bool,
    /// `stderr` is at its end (or there is none).
    pub err_eof: bool,
    /// Our EOF went out.
    pub eof_sent: bool,
    /// Our CLOSE went out: nothing more happens on this channel.
    pub finished: bool,
    /// `stdin` and `stdout` are one PTY master: EIO is its end, and it stays open.
    pub is_pty: bool,
    /// When data last went either way (for `ChannelTimeout`); set when the loop first
    /// sees the channel.
    pub last_active: Option<std::time::Instant>,
}

impl Pipes {
    /// Data from the peer: kept for `stdin`, or, with nowhere to go, credited back.
    pub fn on_data(&mut self, conn: &mut Connection, ch: ChannelId, data: &[u8]) {
        self.touch();
        if self.stdin.is_some() {
            self.to_child.extend_from_slice(data);
        } else {
            conn.consumed(ch, data.len() as u32);
        }
    }

    /// Reads `stdout` (or `stderr`) as far as the peer's window (and the connection's
    /// bounded transmit queue) allows; several reads in a row while the descriptor
    /// keeps delivering full buffers, so a busy channel costs fewer wake-ups.
    pub fn read_out(&mut self, conn: &mut Connection, ch: ChannelId, stderr: bool, buf: &mut [u8]) {
        for _ in 0..READS_PER_WAKEUP {
            let window = conn.send_window(ch) as usize;
            if window == 0 {
                return;
            }
            let file = if stderr {
                &mut self.stderr
            } else {
                &mut self.stdout
            };
            let Some(f) = file.as_mut() else { return };
            let want = window.min(buf.len());
            let buf = &mut buf[..want];
            let (eof, more) = match f.read(buf) {
                Ok(0) => (true, false),
                Ok(n) => {
                    self.touch();
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
                    self.err_eof = true;
                    self.stderr = None;
                } else {
                    self.out_eof = true;
                    if !self.is_pty {
                        self.stdout = None;
                    }
                }
                return;
            }
            if !more {
                return;
            }
        }
    }

    /// Writes what the peer sent to `stdin`, crediting the window for what went.
    pub fn write_in(&mut self, conn: &mut Connection, ch: ChannelId) {
        let Some(f) = self.stdin.as_mut() else {
            let n = self.to_child.len();
            self.to_child.clear();
            conn.consumed(ch, n as u32);
            return;
        };
        let mut written = 0;
        while written < self.to_child.len() {
            match f.write(&self.to_child[written..]) {
                Ok(0) => break,
                Ok(n) => written += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => {
                    // The other end closed its input: drop what is left.
                    written = self.to_child.len();
                    self.stdin = None;
                    break;
                }
            }
        }
        if written > 0 {
            self.touch();
            self.to_child.drain(..written);
            conn.consumed(ch, written as u32);
        }
    }

    /// After the process on a PTY exited: sends what the PTY still holds; a process
    /// that keeps the PTY open does not keep the channel open.
    pub fn drain_pty(&mut self, conn: &mut Connection, ch: ChannelId) {
        for _ in 0..1024 {
            let window = conn.send_window(ch) as usize;
            if window == 0 {
                return;
            }
            let Some(f) = self.stdout.as_mut() else {
                self.out_eof = true;
                return;
            };
            let mut buf = vec![0u8; window.min(READ_CHUNK)];
            match f.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    conn.send_data(ch, &buf[..n]);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => break,
            }
        }
        self.out_eof = true;
    }

    /// Data moved: the channel is active now.
    pub fn touch(&mut self) {
        self.last_active = Some(std::time::Instant::now());
    }

    /// Drops every descriptor.
    pub fn close_all(&mut self) {
        self.stdin = None;
        self.stdout = None;
        self.stderr = None;
    }
}
