//! The connection's socket, as both network-facing processes use it: bytes read go
//! into the transport, what the transport queued waits in an [`OutBuf`] until the
//! socket takes it. Non-blocking; the caller's loop waits for readiness.

mod outbuf;

pub use outbuf::OutBuf;

use sisu_kex::{Transport, TransportError};
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, AsRawFd, RawFd};
use std::time::Instant;

/// Bytes read from the socket at a time.
pub const READ_CHUNK: usize = 64 * 1024;
/// Output waiting for the socket above which the loops stop producing more.
pub const MAX_PENDING_SOCKET_OUTPUT: usize = 1024 * 1024;

/// What one read from the socket gave.
#[derive(Debug)]
pub enum ReadOutcome {
    /// Bytes, handed to the transport (with what it made of them).
    Data(Result<(), TransportError>),
    /// The peer closed its side.
    Closed,
    /// The socket failed; it counts as closed.
    Failed(io::Error),
    /// Nothing to read now.
    Nothing,
}

/// What [`SocketIo::read_with`] gave.
#[derive(Debug)]
pub enum ReadWith<E> {
    /// Bytes, with what the machine made of them.
    Data(Result<(), E>),
    /// The peer closed its side.
    Closed,
    /// The socket failed; it counts as closed.
    Failed(io::Error),
    /// Nothing to read now.
    Nothing,
}

/// The socket of one connection (the same descriptor twice, or stdin and stdout).
#[derive(Debug)]
pub struct SocketIo {
    input: File,
    output: File,
    out: OutBuf,
    read_buf: Vec<u8>,
    input_closed: bool,
    stalled_since: Option<Instant>,
}

impl SocketIo {
    /// Both ends, made non-blocking.
    pub fn new(input: File, output: File) -> SocketIo {
        let _ = crate::os::set_nonblocking(input.as_fd());
        let _ = crate::os::set_nonblocking(output.as_fd());
        SocketIo {
            input,
            output,
            out: OutBuf::default(),
            read_buf: vec![0u8; READ_CHUNK],
            input_closed: false,
            stalled_since: None,
        }
    }

    /// The descriptor to wait on for input.
    pub fn input_fd(&self) -> RawFd {
        self.input.as_raw_fd()
    }

    /// The descriptor to wait on for output.
    pub fn output_fd(&self) -> RawFd {
        self.output.as_raw_fd()
    }

    /// Whether the peer closed its side (or the socket failed).
    pub fn input_closed(&self) -> bool {
        self.input_closed
    }

    /// Bytes waiting for the socket.
    pub fn pending(&self) -> usize {
        self.out.len()
    }

    /// Since when the peer has taken nothing of what waits (`None`: it keeps up).
    pub fn stalled_since(&self) -> Option<Instant> {
        self.stalled_since
    }

    /// Drops what waits (the connection is being given up).
    pub fn discard_output(&mut self) {
        self.out.clear();
    }

    /// Reads once and hands the bytes to `transport`.
    pub fn read_into(&mut self, transport: &mut Transport) -> ReadOutcome {
        match self.input.read(&mut self.read_buf) {
            Ok(0) => {
                self.input_closed = true;
                ReadOutcome::Closed
            }
            Ok(n) => ReadOutcome::Data(transport.handle_input(&self.read_buf[..n])),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => ReadOutcome::Nothing,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => ReadOutcome::Nothing,
            Err(e) => {
                self.input_closed = true;
                ReadOutcome::Failed(e)
            }
        }
    }

    /// Reads once for a machine other than the SSH-2 transport (protocol 1's): the
    /// bytes go to `feed`, whose result comes back.
    pub fn read_with<E>(&mut self, feed: impl FnOnce(&[u8]) -> Result<(), E>) -> ReadWith<E> {
        match self.input.read(&mut self.read_buf) {
            Ok(0) => {
                self.input_closed = true;
                ReadWith::Closed
            }
            Ok(n) => ReadWith::Data(feed(&self.read_buf[..n])),
            Err(e)
                if e.kind() == io::ErrorKind::WouldBlock
                    || e.kind() == io::ErrorKind::Interrupted =>
            {
                ReadWith::Nothing
            }
            Err(e) => {
                self.input_closed = true;
                ReadWith::Failed(e)
            }
        }
    }

    /// Queues bytes for the socket.
    pub fn queue(&mut self, bytes: &[u8]) {
        self.out.tail().extend_from_slice(bytes);
    }

    /// Takes what `fill` puts at the end of the output (it returns how many bytes);
    /// whether there were any.
    pub fn take_with(&mut self, fill: impl FnOnce(&mut Vec<u8>) -> usize) -> bool {
        fill(self.out.tail()) > 0
    }

    /// Takes what the transport queued; whether there was any.
    pub fn take_from(&mut self, transport: &mut Transport) -> bool {
        transport.transmit_into(self.out.tail()) > 0
    }

    /// Writes as much as the socket takes now. A peer that takes none of what waits is
    /// stalled since the first time it did not; any progress clears that.
    pub fn write(&mut self, now: Instant) {
        let before = self.out.len();
        while !self.out.is_empty() {
            match self.output.write(self.out.as_slice()) {
                Ok(0) => break,
                Ok(n) => self.out.consume(n),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => {
                    self.out.clear();
                    self.input_closed = true;
                    break;
                }
            }
        }
        if self.out.is_empty() || self.out.len() < before {
            self.stalled_since = None;
        } else if self.stalled_since.is_none() {
            self.stalled_since = Some(now);
        }
    }

    /// Writes everything that waits, waiting for the socket as needed, until `deadline`.
    /// Whether it all went out.
    pub fn flush_until(&mut self, deadline: Instant) -> bool {
        while !self.out.is_empty() && !self.input_closed {
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            let mut e = [crate::os::PollEntry::new(self.output_fd(), false, true)];
            match crate::os::poll_fds(&mut e, Some(deadline - now)) {
                Ok(_) => self.write(now),
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return false,
            }
        }
        self.out.is_empty()
    }

    /// The two descriptors, to hand on to another process.
    pub fn into_files(self) -> (File, File) {
        (self.input, self.output)
    }
}
