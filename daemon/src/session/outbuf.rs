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

    /// Appends `bytes`; takes the vector as it is when nothing is pending.
    pub fn push(&mut self, bytes: Vec<u8>) {
        if self.is_empty() {
            self.buf = bytes;
            self.pos = 0;
            return;
        }
        if self.pos > self.buf.len() / 2 {
            self.buf.drain(..self.pos);
            self.pos = 0;
        }
        self.buf.extend_from_slice(&bytes);
    }

    /// `n` bytes were written.
    pub fn consume(&mut self, n: usize) {
        self.pos = (self.pos + n).min(self.buf.len());
        if self.pos == self.buf.len() {
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
        b.push(vec![1, 2, 3]);
        b.consume(2);
        b.push(vec![4, 5]);
        assert_eq!(b.as_slice(), &[3, 4, 5]);
        b.consume(3);
        assert!(b.is_empty());
        b.push(vec![6]);
        assert_eq!(b.as_slice(), &[6]);
    }
}
