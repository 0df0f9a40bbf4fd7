//! The KRL's byte reader: SSH wire fields with bounds checks and file offsets, and
//! the running totals that the limits are checked against.

use super::krl::{KrlError, KrlErrorKind};
use super::{MAX_KEYS, MAX_SECTIONS, MAX_SERIALS};

/// A bounds-checked reader that knows the file offset of its first byte.
#[derive(Clone, Copy)]
pub(super) struct Rd<'a> {
    pub(super) buf: &'a [u8],
    pub(super) at: usize,
}

impl<'a> Rd<'a> {
    pub(super) fn err(&self, kind: KrlErrorKind) -> KrlError {
        KrlError {
            offset: self.at,
            kind,
        }
    }
    pub(super) fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }
    pub(super) fn take(&mut self, n: usize) -> Result<Rd<'a>, KrlError> {
        if self.buf.len() < n {
            return Err(self.err(KrlErrorKind::Truncated));
        }
        let (head, tail) = self.buf.split_at(n);
        let out = Rd {
            buf: head,
            at: self.at,
        };
        self.buf = tail;
        self.at += n;
        Ok(out)
    }
    pub(super) fn array<const N: usize>(&mut self) -> Result<[u8; N], KrlError> {
        let r = self.take(N)?;
        let mut a = [0u8; N];
        a.copy_from_slice(r.buf);
        Ok(a)
    }
    pub(super) fn u8(&mut self) -> Result<u8, KrlError> {
        Ok(self.array::<1>()?[0])
    }
    pub(super) fn u32(&mut self) -> Result<u32, KrlError> {
        Ok(u32::from_be_bytes(self.array()?))
    }
    pub(super) fn u64(&mut self) -> Result<u64, KrlError> {
        Ok(u64::from_be_bytes(self.array()?))
    }
    /// An SSH string, as a reader over its contents.
    pub(super) fn string(&mut self) -> Result<Rd<'a>, KrlError> {
        let at = self.at;
        let n = self.u32()?;
        let n = usize::try_from(n).map_err(|_| self.err(KrlErrorKind::Truncated))?;
        self.take(n).map_err(|mut e| {
            e.offset = at;
            e
        })
    }
    /// An SSH string that must hold no NUL (OpenSSH's C strings).
    pub(super) fn cstring(&mut self) -> Result<&'a [u8], KrlError> {
        let s = self.string()?;
        if s.buf.contains(&0) {
            return Err(s.err(KrlErrorKind::NulInString));
        }
        Ok(s.buf)
    }
    pub(super) fn end(&self) -> Result<(), KrlError> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(self.err(KrlErrorKind::TrailingData))
        }
    }
}

/// Running totals checked against the limits.
#[derive(Default)]
pub(super) struct Counts {
    pub(super) sections: usize,
    pub(super) serials: usize,
    pub(super) bitmap_bytes: usize,
    pub(super) key_ids: usize,
    pub(super) keys: usize,
}

impl Counts {
    pub(super) fn bump(
        r: &Rd<'_>,
        slot: &mut usize,
        by: usize,
        max: usize,
        kind: KrlErrorKind,
    ) -> Result<(), KrlError> {
        *slot = slot.saturating_add(by);
        if *slot > max {
            Err(r.err(kind))
        } else {
            Ok(())
        }
    }
    pub(super) fn section(&mut self, r: &Rd<'_>) -> Result<(), KrlError> {
        Self::bump(
            r,
            &mut self.sections,
            1,
            MAX_SECTIONS,
            KrlErrorKind::TooManySections,
        )
    }
    pub(super) fn serial(&mut self, r: &Rd<'_>) -> Result<(), KrlError> {
        Self::bump(
            r,
            &mut self.serials,
            1,
            MAX_SERIALS,
            KrlErrorKind::TooManySerials,
        )
    }
    pub(super) fn key(&mut self, r: &Rd<'_>) -> Result<(), KrlError> {
        Self::bump(r, &mut self.keys, 1, MAX_KEYS, KrlErrorKind::TooManyKeys)
    }
}
