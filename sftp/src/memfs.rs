//! `MemFs`: an in-memory [`Filesystem`] for tests, proptests and fuzzing. It keeps
//! POSIX semantics where the server depends on them (symbolic links, link counts,
//! rename rules, errno values) but checks no permission bits: every caller may do
//! everything. Its total file data is bounded, so fuzzed writes cannot exhaust
//! memory.

use crate::attrs::{S_IFDIR, S_IFLNK, S_IFREG};
use crate::fs::{Errno, Filesystem, Metadata, OpenFlags, Target};
use std::collections::{BTreeMap, HashMap};

/// The longest name component (Linux `NAME_MAX`).
pub const NAME_MAX: usize = 255;
/// Symbolic links followed in one lookup before `ELOOP` (Linux's 40).
const MAX_LINKS: usize = 40;
const ROOT: u64 = 1;

#[derive(Debug, Clone)]
enum Kind {
    File(Vec<u8>),
    Dir {
        entries: BTreeMap<Vec<u8>, u64>,
        parent: u64,
    },
    Symlink(Vec<u8>),
}

#[derive(Debug, Clone)]
struct Node {
    kind: Kind,
    perm: u32,
    uid: u32,
    gid: u32,
    atime: i64,
    mtime: i64,
    nlink: u64,
}

/// An open [`MemFs`] file.
#[derive(Debug)]
pub struct MemFile {
    ino: u64,
    read: bool,
    write: bool,
    append: bool,
}

/// An open [`MemFs`] directory stream (a snapshot of the names at opendir).
#[derive(Debug)]
pub struct MemDir {
    names: std::vec::IntoIter<Vec<u8>>,
}

/// An in-memory filesystem. See the module documentation.
#[derive(Debug, Clone)]
pub struct MemFs {
    nodes: HashMap<u64, Node>,
    next_ino: u64,
    cwd: Vec<u8>,
    refs: HashMap<u64, usize>,
    total: usize,
    max_bytes: usize,
    now: i64,
    owner: (u32, u32),
    users: BTreeMap<u32, String>,
    groups: BTreeMap<u32, String>,
    homes: BTreeMap<String, Vec<u8>>,
}

impl Default for MemFs {
    fn default() -> Self {
        Self::new()
    }
}

fn split(p: &[u8]) -> Vec<&[u8]> {
    p.split(|&b| b == b'/').filter(|c| !c.is_empty()).collect()
}

impl MemFs {
    /// An empty filesystem: a root directory (mode 0755), current directory "/",
    /// new files owned by 1000:1000, clock at 1 700 000 000, 16 MiB of data.
    pub fn new() -> Self {
        let now = 1_700_000_000;
        let root = Node {
            kind: Kind::Dir {
                entries: BTreeMap::new(),
                parent: ROOT,
            },
            perm: 0o755,
            uid: 0,
            gid: 0,
            atime: now,
            mtime: now,
            nlink: 1,
        };
        MemFs {
            nodes: HashMap::from([(ROOT, root)]),
            next_ino: ROOT + 1,
            cwd: b"/".to_vec(),
            refs: HashMap::new(),
            total: 0,
            max_bytes: 16 << 20,
            now,
            owner: (1000, 1000),
            users: BTreeMap::new(),
            groups: BTreeMap::new(),
            homes: BTreeMap::new(),
        }
    }

    /// Sets the bound on all file data together (writes beyond it fail `ENOSPC`).
    pub fn set_max_bytes(&mut self, n: usize) {
        self.max_bytes = n;
    }
    /// Sets the clock (seconds since the epoch) used for new times and `now`.
    pub fn set_now(&mut self, t: i64) {
        self.now = t;
    }
    /// Sets the owner of files created from now on.
    pub fn set_owner_ids(&mut self, uid: u32, gid: u32) {
        self.owner = (uid, gid);
    }
    /// Adds a user with a home directory, for name lookups.
    pub fn add_user(&mut self, uid: u32, name: &str, home: &[u8]) {
        self.users.insert(uid, name.into());
        self.homes.insert(name.into(), home.to_vec());
    }
    /// Adds a group, for name lookups.
    pub fn add_group(&mut self, gid: u32, name: &str) {
        self.groups.insert(gid, name.into());
    }
    /// Sets the current directory (it must be a directory); stored canonical.
    pub fn set_cwd(&mut self, path: &[u8]) -> Result<(), Errno> {
        let ino = self.lookup(path, true)?;
        if !matches!(self.node(ino)?.kind, Kind::Dir { .. }) {
            return Err(Errno::ENOTDIR);
        }
        self.cwd = crate::paths::realpath(self, path)?;
        Ok(())
    }
    /// Creates a directory and its missing parents (mode 0755).
    pub fn mkdir_all(&mut self, path: &[u8]) -> Result<(), Errno> {
        let mut p = if path.starts_with(b"/") {
            b"/".to_vec()
        } else {
            Vec::new()
        };
        for c in split(path) {
            p.extend_from_slice(c);
            match self.mkdir(&p, 0o755) {
                Ok(()) | Err(Errno::EEXIST) => {}
                Err(e) => return Err(e),
            }
            p.push(b'/');
        }
        Ok(())
    }
    /// Creates or replaces a file with `data` (mode 0644).
    pub fn write_file(&mut self, path: &[u8], data: &[u8]) -> Result<(), Errno> {
        let fl = OpenFlags {
            write: true,
            create: true,
            truncate: true,
            ..OpenFlags::default()
        };
        let mut f = self.open(path, fl, 0o644)?;
        let r = self.write(&mut f, 0, data);
        self.close(f)?;
        r
    }
    /// The contents of a file.
    pub fn read_file(&mut self, path: &[u8]) -> Result<Vec<u8>, Errno> {
        let ino = self.lookup(path, true)?;
        match &self.node(ino)?.kind {
            Kind::File(d) => Ok(d.clone()),
            Kind::Dir { .. } => Err(Errno::EISDIR),
            Kind::Symlink(_) => Err(Errno::EINVAL),
        }
    }
    /// Creates symbolic link `link` pointing at `target`.
    pub fn symlink_at(&mut self, target: &[u8], link: &[u8]) -> Result<(), Errno> {
        self.symlink(target, link)
    }
    /// How many inodes exist (files no longer linked nor open are freed).
    pub fn inode_count(&self) -> usize {
        self.nodes.len()
    }

    fn node(&self, ino: u64) -> Result<&Node, Errno> {
        self.nodes.get(&ino).ok_or(Errno::ENOENT)
    }
    fn node_mut(&mut self, ino: u64) -> Result<&mut Node, Errno> {
        self.nodes.get_mut(&ino).ok_or(Errno::ENOENT)
    }
    fn entries(&self, ino: u64) -> Result<&BTreeMap<Vec<u8>, u64>, Errno> {
        match &self.node(ino)?.kind {
            Kind::Dir { entries, .. } => Ok(entries),
            _ => Err(Errno::ENOTDIR),
        }
    }
    fn entries_mut(&mut self, ino: u64) -> Result<&mut BTreeMap<Vec<u8>, u64>, Errno> {
        let now = self.now;
        let n = self.node_mut(ino)?;
        n.mtime = now;
        match &mut n.kind {
            Kind::Dir { entries, .. } => Ok(entries),
            _ => Err(Errno::ENOTDIR),
        }
    }

    fn start(&self, path: &[u8]) -> Result<u64, Errno> {
        if path.is_empty() {
            return Err(Errno::ENOENT);
        }
        if path.len() >= crate::paths::PATH_MAX {
            return Err(Errno::ENAMETOOLONG);
        }
        if path.starts_with(b"/") {
            Ok(ROOT)
        } else {
            let cwd = self.cwd.clone();
            let mut depth = 0;
            self.walk(ROOT, &cwd, true, &mut depth)
        }
    }

    fn lookup(&self, path: &[u8], follow: bool) -> Result<u64, Errno> {
        let start = self.start(path)?;
        let mut depth = 0;
        self.walk(start, path, follow, &mut depth)
    }

    fn walk(&self, start: u64, path: &[u8], follow: bool, depth: &mut usize) -> Result<u64, Errno> {
        let mut cur = if path.starts_with(b"/") { ROOT } else { start };
        let comps = split(path);
        for (i, c) in comps.iter().enumerate() {
            if c.len() > NAME_MAX {
                return Err(Errno::ENAMETOOLONG);
            }
            let (entries, parent) = match &self.node(cur)?.kind {
                Kind::Dir { entries, parent } => (entries, *parent),
                _ => return Err(Errno::ENOTDIR),
            };
            if *c == b"." {
                continue;
            }
            if *c == b".." {
                cur = parent;
                continue;
            }
            let child = *entries.get(*c).ok_or(Errno::ENOENT)?;
            let last = i + 1 == comps.len();
            match &self.node(child)?.kind {
                Kind::Symlink(t) if follow || !last => {
                    *depth += 1;
                    if *depth > MAX_LINKS {
                        return Err(Errno::ELOOP);
                    }
                    if t.is_empty() {
                        return Err(Errno::ENOENT);
                    }
                    cur = self.walk(cur, &t.clone(), true, depth)?;
                }
                _ => cur = child,
            }
        }
        // A trailing slash asks for a directory.
        if path.ends_with(b"/") && !matches!(self.node(cur)?.kind, Kind::Dir { .. }) {
            return Err(Errno::ENOTDIR);
        }
        Ok(cur)
    }

    /// The directory holding the last component, and that component.
    fn parent<'p>(&self, path: &'p [u8]) -> Result<(u64, &'p [u8]), Errno> {
        let start = self.start(path)?;
        let trimmed = {
            let mut t = path;
            while t.len() > 1 && t.ends_with(b"/") {
                t = &t[..t.len() - 1];
            }
            t
        };
        let (dir, name) = match trimmed.iter().rposition(|&b| b == b'/') {
            Some(0) => (&b"/"[..], &trimmed[1..]),
            Some(i) => (&trimmed[..i], &trimmed[i + 1..]),
            None => (&b"."[..], trimmed),
        };
        if name.is_empty() {
            return Err(Errno::EEXIST); // the root
        }
        if name == b"." || name == b".." {
            return Err(Errno::EINVAL);
        }
        if name.len() > NAME_MAX {
            return Err(Errno::ENAMETOOLONG);
        }
        let mut depth = 0;
        let d = self.walk(start, dir, true, &mut depth)?;
        self.entries(d)?;
        Ok((d, name))
    }

    fn new_node(&mut self, kind: Kind, perm: u32) -> u64 {
        let ino = self.next_ino;
        self.next_ino += 1;
        let n = Node {
            kind,
            perm: perm & 0o7777,
            uid: self.owner.0,
            gid: self.owner.1,
            atime: self.now,
            mtime: self.now,
            nlink: 1,
        };
        self.nodes.insert(ino, n);
        ino
    }

    /// Drops a name's link to `ino`; frees the inode when nothing refers to it.
    fn unlink_ino(&mut self, ino: u64) {
        let Some(n) = self.nodes.get_mut(&ino) else {
            return;
        };
        n.nlink = n.nlink.saturating_sub(1);
        self.gc(ino);
    }

    fn gc(&mut self, ino: u64) {
        let free = self.nodes.get(&ino).is_some_and(|n| n.nlink == 0)
            && self.refs.get(&ino).copied().unwrap_or(0) == 0;
        if free {
            if let Some(Node {
                kind: Kind::File(d),
                ..
            }) = self.nodes.remove(&ino)
            {
                self.total -= d.len();
            }
        }
    }

    fn meta(&self, ino: u64) -> Result<Metadata, Errno> {
        let n = self.node(ino)?;
        let (ty, size, nlink) = match &n.kind {
            Kind::File(d) => (S_IFREG, d.len() as u64, n.nlink),
            Kind::Symlink(t) => (S_IFLNK, t.len() as u64, n.nlink),
            Kind::Dir { entries, .. } => {
                let subdirs = entries
                    .values()
                    .filter(|i| {
                        matches!(self.nodes.get(i).map(|n| &n.kind), Some(Kind::Dir { .. }))
                    })
                    .count();
                (S_IFDIR, 4096, 2 + subdirs as u64)
            }
        };
        Ok(Metadata {
            mode: ty | n.perm,
            nlink,
            uid: n.uid,
            gid: n.gid,
            size,
            atime: n.atime,
            mtime: n.mtime,
        })
    }

    /// Sets a file's length within the data bound.
    fn resize(&mut self, ino: u64, size: u64) -> Result<(), Errno> {
        let size = usize::try_from(size).map_err(|_| Errno::EFBIG)?;
        let (total, max, now) = (self.total, self.max_bytes, self.now);
        let n = self.node_mut(ino)?;
        let Kind::File(d) = &mut n.kind else {
            return Err(Errno::EISDIR);
        };
        if size > max {
            return Err(Errno::EFBIG);
        }
        if size > d.len() && total + (size - d.len()) > max {
            return Err(Errno::ENOSPC);
        }
        let new_total = total - d.len() + size;
        d.resize(size, 0);
        n.mtime = now;
        self.total = new_total;
        Ok(())
    }

    fn target_ino(&self, t: &Target<'_, MemFile>) -> Result<u64, Errno> {
        match t {
            Target::Path(p) => self.lookup(p, true),
            Target::NoFollow(p) => self.lookup(p, false),
            Target::File(f) => Ok(f.ino),
        }
    }

    fn is_descendant(&self, mut ino: u64, of: u64) -> bool {
        for _ in 0..self.nodes.len() + 1 {
            if ino == of {
                return true;
            }
            match self.nodes.get(&ino).map(|n| &n.kind) {
                Some(Kind::Dir { parent, .. }) if *parent != ino => ino = *parent,
                _ => return false,
            }
        }
        false
    }
}

mod ops;
