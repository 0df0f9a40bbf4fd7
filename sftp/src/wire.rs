//! Big-endian readers and writers for the SFTP wire format (uint32, uint64, string).

/// A cursor over a received packet body. Every getter fails with `None` when the
/// packet is too short, so a truncated request never reads past its end.
#[derive(Debug, Clone)]
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        Reader { buf }
    }

    pub(crate) fn remaining(&self) -> usize {
        self.buf.len()
    }

    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.buf.len() < n {
            return None;
        }
        let (head, tail) = self.buf.split_at(n);
        self.buf = tail;
        Some(head)
    }

    pub(crate) fn u8(&mut self) -> Option<u8> {
        self.take(1).map(|b| b[0])
    }

    pub(crate) fn u32(&mut self) -> Option<u32> {
        let b = self.take(4)?;
        Some(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    pub(crate) fn u64(&mut self) -> Option<u64> {
        let b = self.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Some(u64::from_be_bytes(a))
    }

    /// A length-prefixed byte string.
    pub(crate) fn string(&mut self) -> Option<&'a [u8]> {
        let n = self.u32()?;
        self.take(usize::try_from(n).ok()?)
    }

    /// A string used as a path or a name: like OpenSSH's C strings, it may not hold
    /// a NUL byte.
    pub(crate) fn cstring(&mut self) -> Option<Vec<u8>> {
        let s = self.string()?;
        if s.contains(&0) {
            return None;
        }
        Some(s.to_vec())
    }

    /// A string that must be UTF-8 (extension names).
    pub(crate) fn utf8(&mut self) -> Option<String> {
        String::from_utf8(self.cstring()?).ok()
    }

    pub(crate) fn rest(&mut self) -> &'a [u8] {
        let r = self.buf;
        self.buf = &[];
        r
    }
}

/// Appends wire values to a byte vector.
pub(crate) trait Put {
    fn put_u8(&mut self, v: u8);
    fn put_u32(&mut self, v: u32);
    fn put_u64(&mut self, v: u64);
    fn put_string(&mut self, s: &[u8]);
}

impl Put for Vec<u8> {
    fn put_u8(&mut self, v: u8) {
        self.push(v);
    }
    fn put_u32(&mut self, v: u32) {
        self.extend_from_slice(&v.to_be_bytes());
    }
    fn put_u64(&mut self, v: u64) {
        self.extend_from_slice(&v.to_be_bytes());
    }
    fn put_string(&mut self, s: &[u8]) {
        // Every string the crate writes is bounded by the packet limit, far below 4 GiB.
        self.put_u32(u32::try_from(s.len()).unwrap_or(u32::MAX));
        self.extend_from_slice(s);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reader_rejects_short_and_nul() {
        let mut v = Vec::new();
        v.put_u32(7);
        v.put_string(b"a\0b");
        v.put_u64(1 << 40);
        let mut r = Reader::new(&v);
        assert_eq!(r.u32(), Some(7));
        assert_eq!(r.clone().cstring(), None);
        assert_eq!(r.string(), Some(&b"a\0b"[..]));
        assert_eq!(r.u64(), Some(1 << 40));
        assert_eq!(r.u8(), None);
        let mut short = Reader::new(&[0, 0, 0, 9, b'x']);
        assert_eq!(short.string(), None);
    }
}
