//! The [`Filesystem`] implementation of [`MemFs`].

use super::{Kind, MemDir, MemFile, MemFs, Node};
use crate::fs::{Errno, Filesystem, Metadata, OpenFlags, StatVfs, Target, STATVFS_NOSUID};
use std::collections::BTreeMap;

impl Filesystem for MemFs {
    type File = MemFile;
    type Dir = MemDir;

    fn open(&mut self, path: &[u8], flags: OpenFlags, mode: u32) -> Result<MemFile, Errno> {
        let exists = match self.lookup(path, false) {
            Ok(_) => true,
            Err(Errno::ENOENT) => false,
            Err(e) => return Err(e),
        };
        if exists && flags.create && flags.exclusive {
            return Err(Errno::EEXIST);
        }
        let ino = match self.lookup(path, true) {
            Ok(ino) => ino,
            Err(Errno::ENOENT) if flags.create && !exists => {
                let (dir, name) = self.parent(path)?;
                let name = name.to_vec();
                let ino = self.new_node(Kind::File(Vec::new()), mode);
                self.entries_mut(dir)?.insert(name, ino);
                ino
            }
            Err(e) => return Err(e),
        };
        match self.node(ino)?.kind {
            Kind::Dir { .. } if flags.write || flags.create => return Err(Errno::EISDIR),
            _ => {}
        }
        if flags.truncate && flags.write {
            self.resize(ino, 0)?;
        }
        *self.refs.entry(ino).or_insert(0) += 1;
        Ok(MemFile {
            ino,
            read: flags.read,
            write: flags.write,
            append: flags.append,
        })
    }

    fn close(&mut self, file: MemFile) -> Result<(), Errno> {
        if let Some(r) = self.refs.get_mut(&file.ino) {
            *r -= 1;
            if *r == 0 {
                self.refs.remove(&file.ino);
            }
        }
        self.gc(file.ino);
        Ok(())
    }

    fn read(&mut self, file: &mut MemFile, offset: u64, buf: &mut [u8]) -> Result<usize, Errno> {
        if !file.read {
            return Err(Errno::EBADF);
        }
        let now = self.now;
        let n = self.node_mut(file.ino)?;
        let Kind::File(d) = &n.kind else {
            return Err(Errno::EISDIR);
        };
        let Ok(off) = usize::try_from(offset) else {
            return Ok(0);
        };
        if off >= d.len() {
            return Ok(0);
        }
        let k = buf.len().min(d.len() - off);
        buf[..k].copy_from_slice(&d[off..off + k]);
        n.atime = now;
        Ok(k)
    }

    fn write(&mut self, file: &mut MemFile, offset: u64, data: &[u8]) -> Result<(), Errno> {
        if !file.write {
            return Err(Errno::EBADF);
        }
        let len = match &self.node(file.ino)?.kind {
            Kind::File(d) => d.len() as u64,
            _ => return Err(Errno::EISDIR),
        };
        let off = if file.append { len } else { offset };
        let end = off.checked_add(data.len() as u64).ok_or(Errno::EFBIG)?;
        if end > len {
            self.resize(file.ino, end)?;
        }
        let now = self.now;
        let n = self.node_mut(file.ino)?;
        if let Kind::File(d) = &mut n.kind {
            // `end` fits: resize succeeded or the file was already longer.
            let off = off as usize;
            d[off..off + data.len()].copy_from_slice(data);
        }
        n.mtime = now;
        Ok(())
    }

    fn fstat(&mut self, file: &MemFile) -> Result<Metadata, Errno> {
        self.meta(file.ino).map_err(|_| Errno::EBADF)
    }

    fn fsync(&mut self, file: &mut MemFile) -> Result<(), Errno> {
        self.node(file.ino).map(|_| ()).map_err(|_| Errno::EBADF)
    }

    fn fstatvfs(&mut self, file: &MemFile) -> Result<StatVfs, Errno> {
        self.node(file.ino).map_err(|_| Errno::EBADF)?;
        Ok(self.vfs())
    }

    fn stat(&mut self, path: &[u8]) -> Result<Metadata, Errno> {
        let ino = self.lookup(path, true)?;
        self.meta(ino)
    }

    fn lstat(&mut self, path: &[u8]) -> Result<Metadata, Errno> {
        let ino = self.lookup(path, false)?;
        self.meta(ino)
    }

    fn statvfs(&mut self, path: &[u8]) -> Result<StatVfs, Errno> {
        self.lookup(path, true)?;
        Ok(self.vfs())
    }

    fn set_size(&mut self, target: Target<'_, MemFile>, size: u64) -> Result<(), Errno> {
        if let Target::File(f) = &target {
            if !f.write {
                return Err(Errno::EINVAL);
            }
        }
        let ino = self.target_ino(&target)?;
        self.resize(ino, size)
    }

    fn set_mode(&mut self, target: Target<'_, MemFile>, mode: u32) -> Result<(), Errno> {
        let ino = self.target_ino(&target)?;
        let n = self.node_mut(ino)?;
        if matches!(n.kind, Kind::Symlink(_)) {
            return Err(Errno::EOPNOTSUPP); // as Linux for lchmod
        }
        n.perm = mode & 0o7777;
        Ok(())
    }

    fn set_times(
        &mut self,
        target: Target<'_, MemFile>,
        atime: i64,
        mtime: i64,
    ) -> Result<(), Errno> {
        let ino = self.target_ino(&target)?;
        let n = self.node_mut(ino)?;
        n.atime = atime;
        n.mtime = mtime;
        Ok(())
    }

    fn set_owner(&mut self, target: Target<'_, MemFile>, uid: u32, gid: u32) -> Result<(), Errno> {
        let ino = self.target_ino(&target)?;
        let n = self.node_mut(ino)?;
        n.uid = uid;
        n.gid = gid;
        Ok(())
    }

    fn opendir(&mut self, path: &[u8]) -> Result<MemDir, Errno> {
        let ino = self.lookup(path, true)?;
        let mut names = vec![b".".to_vec(), b"..".to_vec()];
        names.extend(self.entries(ino)?.keys().cloned());
        Ok(MemDir {
            names: names.into_iter(),
        })
    }

    fn readdir(&mut self, dir: &mut MemDir) -> Result<Option<Vec<u8>>, Errno> {
        Ok(dir.names.next())
    }

    fn closedir(&mut self, _dir: MemDir) -> Result<(), Errno> {
        Ok(())
    }

    fn remove(&mut self, path: &[u8]) -> Result<(), Errno> {
        let (dir, name) = self.parent(path)?;
        let ino = *self.entries(dir)?.get(name).ok_or(Errno::ENOENT)?;
        if matches!(self.node(ino)?.kind, Kind::Dir { .. }) {
            return Err(Errno::EISDIR);
        }
        let name = name.to_vec();
        self.entries_mut(dir)?.remove(&name);
        self.unlink_ino(ino);
        Ok(())
    }

    fn mkdir(&mut self, path: &[u8], mode: u32) -> Result<(), Errno> {
        let (dir, name) = self.parent(path)?;
        if self.entries(dir)?.contains_key(name) {
            return Err(Errno::EEXIST);
        }
        let name = name.to_vec();
        let ino = self.new_node(
            Kind::Dir {
                entries: BTreeMap::new(),
                parent: dir,
            },
            mode,
        );
        self.entries_mut(dir)?.insert(name, ino);
        Ok(())
    }

    fn rmdir(&mut self, path: &[u8]) -> Result<(), Errno> {
        let (dir, name) = match self.parent(path) {
            Err(Errno::EEXIST) => return Err(Errno::EBUSY),
            r => r?,
        };
        let ino = *self.entries(dir)?.get(name).ok_or(Errno::ENOENT)?;
        if !self.entries(ino)?.is_empty() {
            return Err(Errno::ENOTEMPTY);
        }
        let name = name.to_vec();
        self.entries_mut(dir)?.remove(&name);
        self.unlink_ino(ino);
        Ok(())
    }

    fn rename(&mut self, from: &[u8], to: &[u8]) -> Result<(), Errno> {
        let (fdir, fname) = self.parent(from)?;
        let src = *self.entries(fdir)?.get(fname).ok_or(Errno::ENOENT)?;
        let (tdir, tname) = self.parent(to)?;
        let src_is_dir = matches!(self.node(src)?.kind, Kind::Dir { .. });
        if src_is_dir && self.is_descendant(tdir, src) {
            return Err(Errno::EINVAL);
        }
        let dst = self.entries(tdir)?.get(tname).copied();
        if let Some(dst) = dst {
            if dst == src {
                return Ok(());
            }
            match (src_is_dir, &self.node(dst)?.kind) {
                (true, Kind::Dir { entries, .. }) if !entries.is_empty() => {
                    return Err(Errno::ENOTEMPTY)
                }
                (true, Kind::Dir { .. }) | (false, Kind::File(_) | Kind::Symlink(_)) => {}
                (true, _) => return Err(Errno::ENOTDIR),
                (false, Kind::Dir { .. }) => return Err(Errno::EISDIR),
            }
        }
        let (fname, tname) = (fname.to_vec(), tname.to_vec());
        self.entries_mut(fdir)?.remove(&fname);
        self.entries_mut(tdir)?.insert(tname, src);
        if let Some(dst) = dst {
            self.unlink_ino(dst);
        }
        if let Some(Node {
            kind: Kind::Dir { parent, .. },
            ..
        }) = self.nodes.get_mut(&src)
        {
            *parent = tdir;
        }
        Ok(())
    }

    fn link(&mut self, existing: &[u8], new: &[u8]) -> Result<(), Errno> {
        let ino = self.lookup(existing, false)?;
        if matches!(self.node(ino)?.kind, Kind::Dir { .. }) {
            return Err(Errno::EPERM);
        }
        let (dir, name) = self.parent(new)?;
        if self.entries(dir)?.contains_key(name) {
            return Err(Errno::EEXIST);
        }
        let name = name.to_vec();
        self.entries_mut(dir)?.insert(name, ino);
        self.node_mut(ino)?.nlink += 1;
        Ok(())
    }

    fn symlink(&mut self, target: &[u8], link: &[u8]) -> Result<(), Errno> {
        if target.is_empty() {
            return Err(Errno::ENOENT);
        }
        if target.len() >= crate::paths::PATH_MAX {
            return Err(Errno::ENAMETOOLONG);
        }
        let (dir, name) = self.parent(link)?;
        if self.entries(dir)?.contains_key(name) {
            return Err(Errno::EEXIST);
        }
        let name = name.to_vec();
        let ino = self.new_node(Kind::Symlink(target.to_vec()), 0o777);
        self.entries_mut(dir)?.insert(name, ino);
        Ok(())
    }

    fn readlink(&mut self, path: &[u8]) -> Result<Vec<u8>, Errno> {
        let ino = self.lookup(path, false)?;
        match &self.node(ino)?.kind {
            Kind::Symlink(t) => Ok(t.clone()),
            _ => Err(Errno::EINVAL),
        }
    }

    fn cwd(&mut self) -> Result<Vec<u8>, Errno> {
        Ok(self.cwd.clone())
    }

    fn user_name(&mut self, uid: u32) -> Option<String> {
        self.users.get(&uid).cloned()
    }

    fn group_name(&mut self, gid: u32) -> Option<String> {
        self.groups.get(&gid).cloned()
    }

    fn home_dir(&mut self, name: &str) -> Option<Vec<u8>> {
        self.homes.get(name).cloned()
    }

    fn now(&mut self) -> i64 {
        self.now
    }
}

impl MemFs {
    fn vfs(&self) -> StatVfs {
        let blocks = (self.max_bytes / 4096) as u64;
        let free = (self.max_bytes.saturating_sub(self.total) / 4096) as u64;
        StatVfs {
            bsize: 4096,
            frsize: 4096,
            blocks,
            bfree: free,
            bavail: free,
            files: 1 << 20,
            ffree: (1u64 << 20).saturating_sub(self.nodes.len() as u64),
            favail: (1u64 << 20).saturating_sub(self.nodes.len() as u64),
            fsid: 0x5349_5355,
            flag: STATVFS_NOSUID,
            namemax: super::NAME_MAX as u64,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn posix_behaviour() {
        let mut fs = MemFs::new();
        fs.mkdir_all(b"/d/e").unwrap();
        fs.write_file(b"/d/f", b"hello").unwrap();
        assert_eq!(fs.read_file(b"/d/f").unwrap(), b"hello");
        assert_eq!(fs.mkdir(b"/d", 0o755), Err(Errno::EEXIST));
        assert_eq!(fs.rmdir(b"/d"), Err(Errno::ENOTEMPTY));
        assert_eq!(fs.rmdir(b"/"), Err(Errno::EBUSY));
        assert_eq!(fs.remove(b"/d/e"), Err(Errno::EISDIR));
        assert_eq!(fs.stat(b"/d/f/x"), Err(Errno::ENOTDIR));
        assert_eq!(fs.rename(b"/d", b"/d/e/x"), Err(Errno::EINVAL));
        assert_eq!(fs.rename(b"/d/f", b"/d/e"), Err(Errno::EISDIR));
        fs.link(b"/d/f", b"/g").unwrap();
        assert_eq!(fs.stat(b"/g").unwrap().nlink, 2);
        assert_eq!(fs.stat(b"/d").unwrap().nlink, 3);
        fs.rename(b"/g", b"/d/f").unwrap(); // same inode: no-op
        assert_eq!(fs.stat(b"/g").unwrap().nlink, 2);
        let before = fs.inode_count();
        fs.remove(b"/g").unwrap();
        fs.remove(b"/d/f").unwrap();
        assert_eq!(fs.inode_count(), before - 1);
        assert_eq!(fs.symlink(b"", b"/s"), Err(Errno::ENOENT));
        fs.symlink(b"/nowhere", b"/s").unwrap();
        assert_eq!(fs.stat(b"/s"), Err(Errno::ENOENT));
        assert!(fs.lstat(b"/s").unwrap().is_symlink());
        assert_eq!(fs.readlink(b"/d"), Err(Errno::EINVAL));
        assert_eq!(fs.stat(&[b'a'; 300]), Err(Errno::ENAMETOOLONG));
        assert_eq!(fs.stat(b""), Err(Errno::ENOENT));
    }

    #[test]
    fn open_files_survive_unlink_and_bound_data() {
        let mut fs = MemFs::new();
        fs.set_max_bytes(100);
        let fl = OpenFlags {
            read: true,
            write: true,
            create: true,
            ..OpenFlags::default()
        };
        let mut f = fs.open(b"/f", fl, 0o600).unwrap();
        fs.write(&mut f, 0, b"abc").unwrap();
        fs.remove(b"/f").unwrap();
        let mut buf = [0u8; 8];
        assert_eq!(fs.read(&mut f, 1, &mut buf), Ok(2));
        assert_eq!(&buf[..2], b"bc");
        assert_eq!(fs.write(&mut f, 1 << 40, b"x"), Err(Errno::EFBIG));
        assert_eq!(fs.write(&mut f, 98, b"xyz"), Err(Errno::EFBIG));
        assert_eq!(fs.write(&mut f, u64::MAX, b"x"), Err(Errno::EFBIG));
        fs.close(f).unwrap();
        assert_eq!(fs.inode_count(), 1);
        let ro = OpenFlags {
            read: true,
            ..OpenFlags::default()
        };
        assert_eq!(fs.open(b"/f", ro, 0).err(), Some(Errno::ENOENT));
        let ex = OpenFlags {
            write: true,
            create: true,
            exclusive: true,
            ..OpenFlags::default()
        };
        let g = fs.open(b"/g", ex, 0o644).unwrap();
        fs.close(g).unwrap();
        assert_eq!(fs.open(b"/g", ex, 0o644).err(), Some(Errno::EEXIST));
        let mut g = fs.open(b"/g", ro, 0).unwrap();
        assert_eq!(fs.write(&mut g, 0, b"x"), Err(Errno::EBADF));
        fs.close(g).unwrap();
    }
}
