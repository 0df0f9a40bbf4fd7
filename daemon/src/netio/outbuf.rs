//! Bytes waiting for the socket, written out from the front without moving the rest on
//! every partial write.

/// A FIFO byte buffer: appended at the back, consumed from the front.
#[derive(Debug, Default)]
pub struct OutBuf {
    buf: Vec<u8>,
    pos: usize,
}

impl OutBuf {
    /// Bytes not yet written.
    pub fn len(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// Whether everything has been written.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The bytes not yet written.
    pub fn as_slice(&self) -> &[u8] {
        &self.buf[self.pos..]
    }

    /// The buffer to append new bytes to (compacted first when more than half of it
    /// has been written).
    pub fn tail(&mut self) -> &mut Vec<u8> {
        if self.pos > 0 && self.pos >= self.buf.len() / 2 {
            self.buf.drain(..self.pos);
            self.pos = 0;
        }
        &mut self.buf
    }

    /// `n` bytes were written.
    pub fn consume(&mut self, n: usize) {
        self.pos = (self.pos + n).min(self.buf.len());
        if self.pos == self.buf.len() {
            // Keep the allocation: a busy connection reuses it for the next bytes.
            self.buf.clear();
            self.pos = 0;
        }
    }

    /// Drops everything pending.
    pub fn clear(&mut self) {
        self.buf.clear();
        self.pos = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fifo_order_across_partial_writes() {
        let mut b = OutBuf::default();
        b.tail().extend_from_slice(&[1, 2, 3]);
        b.consume(2);
        b.tail().extend_from_slice(&[4, 5]);
        assert_eq!(b.as_slice(), &[3, 4, 5]);
        b.consume(3);
        assert!(b.is_empty());
        b.tail().push(6);
        assert_eq!(b.as_slice(), &[6]);
        b.tail().extend_from_slice(&[7, 8]);
        b.consume(1);
        assert_eq!(b.as_slice(), &[7, 8]);
        b.consume(1);
        b.tail().push(9);
        assert_eq!(b.as_slice(), &[8, 9]);
    }
}
