//! Frames over a Unix stream socket pair, with descriptors passed alongside
//! (`SCM_RIGHTS`): the transport between the monitor and its children.
//!
//! A frame is a `uint32` length, then that many bytes (at most [`MAX_FRAME`]).
//! Descriptors travel with the first byte of their frame and are handed out with it.
//! Every read has a time limit when the caller sets one, and a peer that sends a bad
//! length, too many descriptors, or closes mid-frame gets an error, never a hang or an
//! unbounded buffer.

use std::io::{self, IoSlice, IoSliceMut};
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::os::unix::net::UnixStream;
use std::time::Duration;

use nix::sys::socket::{recvmsg, sendmsg, ControlMessage, ControlMessageOwned, MsgFlags};

/// Largest frame, in bytes (a transport state with a full packet's worth of unread
/// input is the biggest message).
pub const MAX_FRAME: usize = 1024 * 1024;
/// Most descriptors one frame may carry.
pub const MAX_FDS: usize = 4;

/// One side of a monitor channel.
///
/// Reads never go past the end of the frame being read: the kernel hands over a
/// message's descriptors with its first byte, so every descriptor received while a
/// frame is read is that frame's.
#[derive(Debug)]
pub struct Channel {
    sock: UnixStream,
}

/// A frame with the descriptors that came with it.
#[derive(Debug)]
pub struct Frame {
    /// The frame's bytes.
    pub bytes: Vec<u8>,
    /// The descriptors sent with it.
    pub fds: Vec<OwnedFd>,
}

fn bad(msg: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg.into())
}

impl Channel {
    /// A connected pair of channels (monitor side, child side), close-on-exec.
    pub fn pair() -> io::Result<(Channel, Channel)> {
        let (a, b) = UnixStream::pair()?;
        Ok((Channel::new(a), Channel::new(b)))
    }

    /// A channel over an existing socket (the child's end, inherited as a descriptor).
    pub fn new(sock: UnixStream) -> Self {
        Channel { sock }
    }

    /// The socket, for `poll`.
    pub fn as_raw_fd(&self) -> RawFd {
        self.sock.as_raw_fd()
    }

    /// The socket, to hand to a child.
    pub fn socket(&self) -> &UnixStream {
        &self.sock
    }

    /// Sets the time limit of each blocking read and write (`None`: none).
    pub fn set_timeout(&self, t: Option<Duration>) -> io::Result<()> {
        self.sock.set_read_timeout(t)?;
        self.sock.set_write_timeout(t)
    }

    /// Sends one frame, with `fds` (at most [`MAX_FDS`]) attached to its first byte.
    pub fn send(&self, bytes: &[u8], fds: &[RawFd]) -> io::Result<()> {
        if bytes.len() > MAX_FRAME {
            return Err(bad(format!("frame of {} bytes", bytes.len())));
        }
        if fds.len() > MAX_FDS {
            return Err(bad(format!("{} descriptors in one frame", fds.len())));
        }
        let len = (bytes.len() as u32).to_be_bytes();
        let mut sent = 0usize;
        let total = 4 + bytes.len();
        let cmsg = [ControlMessage::ScmRights(fds)];
        while sent < total {
            let (a, b): (&[u8], &[u8]) = if sent < 4 {
                (&len[sent..], bytes)
            } else {
                (&[], &bytes[sent - 4..])
            };
            let iov = [IoSlice::new(a), IoSlice::new(b)];
            let cmsgs: &[ControlMessage] = if sent == 0 && !fds.is_empty() {
                &cmsg
            } else {
                &[]
            };
            let n = sendmsg::<()>(
                self.sock.as_raw_fd(),
                &iov,
                cmsgs,
                MsgFlags::MSG_NOSIGNAL,
                None,
            )
            .map_err(io::Error::from)?;
            if n == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::WriteZero,
                    "monitor channel closed",
                ));
            }
            sent += n;
        }
        Ok(())
    }

    /// The next whole frame, blocking (within the time limit); `Ok(None)` when the
    /// peer closed the channel between frames.
    pub fn recv(&mut self) -> io::Result<Option<Frame>> {
        let mut fds = Vec::new();
        let mut head = [0u8; 4];
        if !self.read_exact(&mut head, &mut fds, true)? {
            return Ok(None);
        }
        let len = u32::from_be_bytes(head) as usize;
        if len > MAX_FRAME {
            return Err(bad(format!("frame of {len} bytes announced")));
        }
        let mut bytes = vec![0u8; len];
        self.read_exact(&mut bytes, &mut fds, false)?;
        Ok(Some(Frame { bytes, fds }))
    }

    /// Fills `buf` exactly, gathering descriptors; `false` when the peer closed before
    /// the first byte and `at_start` allows that.
    fn read_exact(
        &mut self,
        buf: &mut [u8],
        fds: &mut Vec<OwnedFd>,
        at_start: bool,
    ) -> io::Result<bool> {
        let mut got = 0;
        while got < buf.len() {
            let mut space = nix::cmsg_space!([RawFd; MAX_FDS]);
            let mut iov = [IoSliceMut::new(&mut buf[got..])];
            let msg = recvmsg::<()>(
                self.sock.as_raw_fd(),
                &mut iov,
                Some(&mut space),
                MsgFlags::MSG_CMSG_CLOEXEC,
            )
            .map_err(io::Error::from)?;
            for c in msg.cmsgs().map_err(io::Error::from)? {
                if let ControlMessageOwned::ScmRights(received) = c {
                    fds.extend(received.into_iter().map(crate::os::own_received_fd));
                }
            }
            if fds.len() > MAX_FDS {
                return Err(bad("too many descriptors in one frame"));
            }
            if msg.bytes == 0 {
                if got == 0 && at_start {
                    return Ok(false);
                }
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "monitor channel closed in the middle of a frame",
                ));
            }
            got += msg.bytes;
        }
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn frames_and_descriptors_arrive_together() {
        let (a, mut b) = Channel::pair().unwrap();
        let (x, _y) = UnixStream::pair().unwrap();
        a.send(b"first", &[]).unwrap();
        a.send(b"second", &[x.as_raw_fd()]).unwrap();
        a.send(&[7u8; 200_000], &[]).unwrap();
        let f = b.recv().unwrap().unwrap();
        assert_eq!((f.bytes.as_slice(), f.fds.len()), (&b"first"[..], 0));
        let f = b.recv().unwrap().unwrap();
        assert_eq!((f.bytes.as_slice(), f.fds.len()), (&b"second"[..], 1));
        let f = b.recv().unwrap().unwrap();
        assert_eq!((f.bytes.len(), f.fds.len()), (200_000, 0));
        drop(a);
        assert!(b.recv().unwrap().is_none());
    }

    #[test]
    fn a_bad_length_or_a_cut_frame_is_an_error() {
        let (mut w, b) = UnixStream::pair().unwrap();
        let mut b = Channel::new(b);
        w.write_all(&u32::MAX.to_be_bytes()).unwrap();
        assert!(b.recv().is_err());
        let (mut a, c) = UnixStream::pair().unwrap();
        let mut c = Channel::new(c);
        a.write_all(&[0, 0, 0, 10, 1, 2]).unwrap();
        drop(a);
        assert_eq!(c.recv().unwrap_err().kind(), io::ErrorKind::UnexpectedEof);
    }

    #[test]
    fn reads_have_a_time_limit() {
        let (_a, mut b) = Channel::pair().unwrap();
        b.set_timeout(Some(Duration::from_millis(100))).unwrap();
        let t = std::time::Instant::now();
        assert!(b.recv().is_err());
        assert!(t.elapsed() < Duration::from_secs(5));
    }
}
