//! RFC 4251 §5 data types.

use bytes::BufMut;
use nom::number::complete::{be_u32, be_u64, be_u8};
use std::fmt;

/// Longest name-list accepted from a peer, in bytes.
pub const MAX_NAME_LIST: usize = 64 * 1024;

/// A malformed field in an SSH message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WireError {
    /// The message ended inside a field.
    Truncated,
    /// A `string` that must be UTF-8 (or a name-list, ASCII) was not.
    BadText,
    /// A `boolean` was neither 0 nor 1, an `mpint` was negative or not minimal, or a
    /// field held a value out of its range.
    BadValue(&'static str),
    /// A length that is longer than this implementation accepts.
    TooLong,
    /// Bytes were left over after the last field of a message.
    TrailingData,
}

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WireError::Truncated => f.write_str("message truncated"),
            WireError::BadText => f.write_str("string is not valid text"),
            WireError::BadValue(what) => write!(f, "bad value: {what}"),
            WireError::TooLong => f.write_str("field too long"),
            WireError::TrailingData => f.write_str("trailing data after message"),
        }
    }
}

impl std::error::Error for WireError {}

fn nom_err<E>(_: nom::Err<E>) -> WireError {
    WireError::Truncated
}

/// A zero-copy reader over the fields of one SSH message.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    /// Reads from `buf`.
    pub fn new(buf: &'a [u8]) -> Self {
        Reader { buf }
    }

    /// The bytes not read yet.
    pub fn rest(&self) -> &'a [u8] {
        self.buf
    }

    /// How many bytes are left.
    pub fn remaining(&self) -> usize {
        self.buf.len()
    }

    /// `Ok` when every byte was read, [`WireError::TrailingData`] otherwise.
    pub fn finish(&self) -> Result<(), WireError> {
        if self.buf.is_empty() {
            Ok(())
        } else {
            Err(WireError::TrailingData)
        }
    }

    /// A `byte`.
    pub fn u8(&mut self) -> Result<u8, WireError> {
        let (rest, v) = be_u8::<_, nom::error::Error<&[u8]>>(self.buf).map_err(nom_err)?;
        self.buf = rest;
        Ok(v)
    }

    /// A `boolean`: any non-zero byte is true (RFC 4251 §5).
    pub fn bool(&mut self) -> Result<bool, WireError> {
        Ok(self.u8()? != 0)
    }

    /// A `uint32`.
    pub fn u32(&mut self) -> Result<u32, WireError> {
        let (rest, v) = be_u32::<_, nom::error::Error<&[u8]>>(self.buf).map_err(nom_err)?;
        self.buf = rest;
        Ok(v)
    }

    /// A `uint64`.
    pub fn u64(&mut self) -> Result<u64, WireError> {
        let (rest, v) = be_u64::<_, nom::error::Error<&[u8]>>(self.buf).map_err(nom_err)?;
        self.buf = rest;
        Ok(v)
    }

    /// `n` raw bytes.
    pub fn bytes(&mut self, n: usize) -> Result<&'a [u8], WireError> {
        if n > self.buf.len() {
            return Err(WireError::Truncated);
        }
        let (head, tail) = self.buf.split_at(n);
        self.buf = tail;
        Ok(head)
    }

    /// A `string` as bytes.
    pub fn string(&mut self) -> Result<&'a [u8], WireError> {
        let save = self.buf;
        let n = self.u32()? as usize;
        self.bytes(n).inspect_err(|_| self.buf = save)
    }

    /// A `string` that must be UTF-8.
    pub fn utf8(&mut self) -> Result<&'a str, WireError> {
        std::str::from_utf8(self.string()?).map_err(|_| WireError::BadText)
    }

    /// An `mpint` that must be zero or positive, returned as its minimal unsigned
    /// big-endian magnitude (no leading zero bytes; empty for zero).
    pub fn mpint_positive(&mut self) -> Result<&'a [u8], WireError> {
        let s = self.string()?;
        if s.is_empty() {
            return Ok(s);
        }
        if s[0] & 0x80 != 0 {
            return Err(WireError::BadValue("negative mpint"));
        }
        if s[0] == 0 {
            if s.len() == 1 || s[1] & 0x80 == 0 {
                return Err(WireError::BadValue("mpint not minimal"));
            }
            return Ok(&s[1..]);
        }
        Ok(s)
    }

    /// A `name-list`.
    pub fn name_list(&mut self) -> Result<NameList<'a>, WireError> {
        let s = self.string()?;
        if s.len() > MAX_NAME_LIST {
            return Err(WireError::TooLong);
        }
        if !s.iter().all(|&b| (0x21..0x7f).contains(&b)) {
            return Err(WireError::BadText);
        }
        // Checked above: printable ASCII, so valid UTF-8.
        let text = std::str::from_utf8(s).map_err(|_| WireError::BadText)?;
        Ok(NameList(text))
    }
}

/// A borrowed RFC 4251 `name-list`: comma-separated ASCII names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct NameList<'a>(pub &'a str);

impl<'a> NameList<'a> {
    /// The names, in order; an empty list yields nothing.
    pub fn iter(&self) -> impl Iterator<Item = &'a str> + 'a {
        self.0.split(',').filter(|s| !s.is_empty())
    }

    /// Whether `name` is in the list.
    pub fn contains(&self, name: &str) -> bool {
        self.iter().any(|n| n == name)
    }

    /// The list as written on the wire.
    pub fn as_str(&self) -> &'a str {
        self.0
    }
}

/// A writer of SSH message fields; methods chain.
#[derive(Debug, Clone, Default)]
pub struct Writer {
    buf: Vec<u8>,
}

impl Writer {
    /// An empty writer.
    pub fn new() -> Self {
        Writer { buf: Vec::new() }
    }

    /// An empty writer with room for `n` bytes: a secret written into it (with no more
    /// than `n` bytes in all) is never copied by a reallocation, so the one buffer that
    /// holds it can be wiped.
    pub fn with_capacity(n: usize) -> Self {
        Writer {
            buf: Vec::with_capacity(n),
        }
    }

    /// A writer whose first byte is the message number `msg`.
    pub fn msg(msg: u8) -> Self {
        let mut w = Writer {
            buf: Vec::with_capacity(64),
        };
        w.u8(msg);
        w
    }

    /// The bytes written.
    pub fn into_vec(self) -> Vec<u8> {
        self.buf
    }

    /// The bytes written so far.
    pub fn as_slice(&self) -> &[u8] {
        &self.buf
    }

    /// A `byte`.
    pub fn u8(&mut self, v: u8) -> &mut Self {
        self.buf.put_u8(v);
        self
    }

    /// A `boolean`.
    pub fn bool(&mut self, v: bool) -> &mut Self {
        self.u8(v as u8)
    }

    /// A `uint32`.
    pub fn u32(&mut self, v: u32) -> &mut Self {
        self.buf.put_u32(v);
        self
    }

    /// A `uint64`.
    pub fn u64(&mut self, v: u64) -> &mut Self {
        self.buf.put_u64(v);
        self
    }

    /// Raw bytes with no length prefix.
    pub fn raw(&mut self, v: &[u8]) -> &mut Self {
        self.buf.put_slice(v);
        self
    }

    /// A `string`.
    pub fn string(&mut self, v: &[u8]) -> &mut Self {
        self.buf.put_u32(v.len() as u32);
        self.buf.put_slice(v);
        self
    }

    /// A `string` from text.
    pub fn str(&mut self, v: &str) -> &mut Self {
        self.string(v.as_bytes())
    }

    /// An `mpint` from an unsigned big-endian magnitude (leading zeros are dropped and
    /// a zero byte is added where the top bit is set).
    pub fn mpint(&mut self, magnitude: &[u8]) -> &mut Self {
        let start = magnitude
            .iter()
            .position(|&b| b != 0)
            .unwrap_or(magnitude.len());
        let m = &magnitude[start..];
        if m.is_empty() {
            return self.u32(0);
        }
        if m[0] & 0x80 != 0 {
            self.u32(m.len() as u32 + 1).u8(0).raw(m)
        } else {
            self.string(m)
        }
    }

    /// A `name-list` from names.
    pub fn name_list<S: AsRef<str>>(&mut self, names: &[S]) -> &mut Self {
        let joined: Vec<&str> = names.iter().map(|s| s.as_ref()).collect();
        self.str(&joined.join(","))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn rfc4251_mpint_examples() {
        let cases: &[(&[u8], &[u8])] = &[
            (&[], &[0, 0, 0, 0]),
            (
                &[0x09, 0xa3, 0x78, 0xf9, 0xb2, 0xe3, 0x32, 0xa7],
                &[0, 0, 0, 8, 0x09, 0xa3, 0x78, 0xf9, 0xb2, 0xe3, 0x32, 0xa7],
            ),
            (&[0x80], &[0, 0, 0, 2, 0, 0x80]),
            (&[0, 0, 0x80], &[0, 0, 0, 2, 0, 0x80]),
        ];
        for (mag, wire) in cases {
            let mut w = Writer::new();
            w.mpint(mag);
            assert_eq!(w.as_slice(), *wire);
            let mut r = Reader::new(wire);
            let got = r.mpint_positive().unwrap();
            let stripped: Vec<u8> = mag.iter().copied().skip_while(|&b| b == 0).collect();
            assert_eq!(got, &stripped[..]);
        }
        // Negative and non-minimal encodings are refused.
        assert!(Reader::new(&[0, 0, 0, 1, 0xff]).mpint_positive().is_err());
        assert!(Reader::new(&[0, 0, 0, 2, 0, 1]).mpint_positive().is_err());
    }

    #[test]
    fn truncated_string_leaves_reader_unchanged() {
        let data = [0, 0, 0, 9, b'a'];
        let mut r = Reader::new(&data);
        assert_eq!(r.string(), Err(WireError::Truncated));
        assert_eq!(r.remaining(), 5);
    }

    #[test]
    fn name_list_rejects_control_bytes() {
        let mut w = Writer::new();
        w.string(b"a,b\nc");
        assert_eq!(
            Reader::new(w.as_slice()).name_list(),
            Err(WireError::BadText)
        );
    }

    proptest! {
        #[test]
        fn round_trip(a in any::<u8>(), b in any::<bool>(), c in any::<u32>(), d in any::<u64>(),
                      s in proptest::collection::vec(any::<u8>(), 0..300),
                      m in proptest::collection::vec(any::<u8>(), 0..80),
                      names in proptest::collection::vec("[a-z0-9@.-]{1,20}", 0..8)) {
            let mut w = Writer::new();
            w.u8(a).bool(b).u32(c).u64(d).string(&s).mpint(&m).name_list(&names);
            let bytes = w.into_vec();
            let mut r = Reader::new(&bytes);
            prop_assert_eq!(r.u8().unwrap(), a);
            prop_assert_eq!(r.bool().unwrap(), b);
            prop_assert_eq!(r.u32().unwrap(), c);
            prop_assert_eq!(r.u64().unwrap(), d);
            prop_assert_eq!(r.string().unwrap(), &s[..]);
            let stripped: Vec<u8> = m.iter().copied().skip_while(|&x| x == 0).collect();
            prop_assert_eq!(r.mpint_positive().unwrap(), &stripped[..]);
            let nl = r.name_list().unwrap();
            prop_assert_eq!(nl.iter().collect::<Vec<_>>(), names.iter().map(|s| s.as_str()).collect::<Vec<_>>());
            prop_assert!(r.finish().is_ok());
        }

        #[test]
        fn arbitrary_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..64)) {
            let mut r = Reader::new(&data);
            let _ = r.u8();
            let _ = r.name_list();
            let _ = r.mpint_positive();
            let _ = r.utf8();
            let _ = r.u64();
        }
    }
}
