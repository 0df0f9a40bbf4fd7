//! What a peer sent just before it closed its channel: the data still owed to the
//! process or socket behind it is written out after the channel is gone (a reply
//! followed at once by EOF and CLOSE must not be lost), within a bound of time.

use super::pipes::Pipes;
use std::fs::File;
use std::io::{self, Write};
use std::time::{Duration, Instant};

/// How long undelivered data may wait for a writer that does not read.
pub(super) const LINGER_TIME: Duration = Duration::from_secs(10);

/// Most closed channels whose data is still being written (more are cut short).
pub(super) const MAX_LINGERING: usize = 64;

/// A descriptor with the data still to be written to it.
pub(super) struct Lingering {
    pub file: File,
    data: Vec<u8>,
    pub deadline: Instant,
}

impl Lingering {
    /// What `pipes` still owes its `stdin`, written as far as it goes now; `Some` when
    /// some is left.
    pub fn take(pipes: &mut Pipes, now: Instant) -> Option<Lingering> {
        if pipes.to_child.is_empty() {
            return None;
        }
        let file = pipes.stdin.take()?;
        let mut l = Lingering {
            file,
            data: std::mem::take(&mut pipes.to_child),
            deadline: now + LINGER_TIME,
        };
        (!l.write()).then_some(l)
    }

    /// Writes what the descriptor takes; whether it is done (all written, or the
    /// other end is gone).
    pub fn write(&mut self) -> bool {
        while !self.data.is_empty() {
            match self.file.write(&self.data) {
                Ok(0) => return true,
                Ok(n) => {
                    self.data.drain(..n);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return false,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return true,
            }
        }
        true
    }
}
