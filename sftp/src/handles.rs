//! The table of open file and directory handles. A handle on the wire is the
//! 4-byte big-endian slot index, as OpenSSH's; freed slots are reused.

/// At most this many handles are open at once; OPEN and OPENDIR beyond it fail
/// with `SSH_FX_FAILURE`. OpenSSH's bound is the descriptor limit less a few, 1024
/// by default; 512 leaves room for the process's other descriptors under a
/// descriptor limit of 1024.
pub const MAX_OPEN_HANDLES: usize = 512;

/// An open file and what the close log line reports.
#[derive(Debug)]
pub(crate) struct FileHandle<F> {
    pub file: F,
    pub name: Vec<u8>,
    pub bytes_read: u64,
    pub bytes_written: u64,
}

/// An open directory stream; `pushback` holds a name read but not yet sent.
#[derive(Debug)]
pub(crate) struct DirHandle<D> {
    pub dir: D,
    pub name: Vec<u8>,
    pub pushback: Option<Vec<u8>>,
}

#[derive(Debug)]
pub(crate) enum Entry<F, D> {
    File(FileHandle<F>),
    Dir(DirHandle<D>),
}

impl<F, D> Entry<F, D> {
    pub fn name(&self) -> &[u8] {
        match self {
            Entry::File(f) => &f.name,
            Entry::Dir(d) => &d.name,
        }
    }
}

#[derive(Debug)]
pub(crate) struct Handles<F, D> {
    slots: Vec<Option<Entry<F, D>>>,
    open: usize,
}

impl<F, D> Handles<F, D> {
    pub fn new() -> Self {
        Handles {
            slots: Vec::new(),
            open: 0,
        }
    }

    pub fn is_full(&self) -> bool {
        self.open >= MAX_OPEN_HANDLES
    }

    /// Stores an entry and returns its wire handle, or gives the entry back when
    /// the table is full.
    pub fn insert(&mut self, e: Entry<F, D>) -> Result<Vec<u8>, Entry<F, D>> {
        if self.is_full() {
            return Err(e);
        }
        let i = match self.slots.iter().position(Option::is_none) {
            Some(i) => i,
            None => {
                self.slots.push(None);
                self.slots.len() - 1
            }
        };
        self.slots[i] = Some(e);
        self.open += 1;
        Ok((i as u32).to_be_bytes().to_vec())
    }

    fn index(handle: &[u8]) -> Option<usize> {
        let b: [u8; 4] = handle.try_into().ok()?;
        usize::try_from(u32::from_be_bytes(b)).ok()
    }

    pub fn get_mut(&mut self, handle: &[u8]) -> Option<&mut Entry<F, D>> {
        self.slots.get_mut(Self::index(handle)?)?.as_mut()
    }

    pub fn file(&mut self, handle: &[u8]) -> Option<&mut FileHandle<F>> {
        match self.get_mut(handle)? {
            Entry::File(f) => Some(f),
            Entry::Dir(_) => None,
        }
    }

    pub fn dir(&mut self, handle: &[u8]) -> Option<&mut DirHandle<D>> {
        match self.get_mut(handle)? {
            Entry::Dir(d) => Some(d),
            Entry::File(_) => None,
        }
    }

    pub fn name(&mut self, handle: &[u8]) -> Option<Vec<u8>> {
        self.get_mut(handle).map(|e| e.name().to_vec())
    }

    pub fn remove(&mut self, handle: &[u8]) -> Option<Entry<F, D>> {
        let e = self.slots.get_mut(Self::index(handle)?)?.take()?;
        self.open -= 1;
        while matches!(self.slots.last(), Some(None)) {
            self.slots.pop();
        }
        Some(e)
    }

    /// Takes every open entry (at the end of the session).
    pub fn drain(&mut self) -> Vec<Entry<F, D>> {
        self.open = 0;
        self.slots.drain(..).flatten().collect()
    }

    pub fn len(&self) -> usize {
        self.open
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(n: &str) -> Entry<u8, u8> {
        Entry::File(FileHandle {
            file: 0,
            name: n.into(),
            bytes_read: 0,
            bytes_written: 0,
        })
    }

    #[test]
    fn insert_reuse_and_bound() {
        let mut h: Handles<u8, u8> = Handles::new();
        let a = h.insert(file("a")).ok().unwrap();
        let b = h.insert(file("b")).ok().unwrap();
        assert_eq!(a, vec![0, 0, 0, 0]);
        assert_eq!(b, vec![0, 0, 0, 1]);
        assert!(h.dir(&a).is_none());
        assert_eq!(h.name(&b), Some(b"b".to_vec()));
        assert!(h.remove(&a).is_some());
        assert!(h.remove(&a).is_none());
        assert!(h.get_mut(&[0, 0, 0]).is_none());
        assert_eq!(h.insert(file("c")).ok().unwrap(), a);
        while !h.is_full() {
            assert!(h.insert(file("x")).is_ok());
        }
        assert_eq!(h.len(), MAX_OPEN_HANDLES);
        assert!(h.insert(file("y")).is_err());
        assert_eq!(h.drain().len(), MAX_OPEN_HANDLES);
        assert_eq!(h.len(), 0);
    }
}
