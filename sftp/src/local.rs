//! `LocalFs`: the [`Filesystem`] over the real filesystem (std plus nix). Relative
//! paths are relative to the process's current directory, which the serve loop sets
//! to the `-d` start directory. Uses no unsafe code.

use crate::fs::{Errno, Filesystem, Metadata, OpenFlags, StatVfs, Target};
use crate::fs::{STATVFS_NOSUID, STATVFS_RDONLY};
use nix::sys::stat::{FchmodatFlags, Mode};
use nix::sys::statvfs::{FsFlags, Statvfs};
use nix::sys::time::{TimeSpec, TimeVal};
use std::collections::HashMap;
use std::ffi::OsStr;
use std::fs::{File, OpenOptions, Permissions, ReadDir};
use std::io::Write;
use std::os::fd::AsRawFd;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::fs::{DirBuilderExt, FileExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

/// Name lookups cached per session, at most this many of each kind.
const NAME_CACHE: usize = 256;

/// The real filesystem.
#[derive(Debug, Default)]
pub struct LocalFs {
    users: HashMap<u32, Option<String>>,
    groups: HashMap<u32, Option<String>>,
}

/// An open file of [`LocalFs`].
#[derive(Debug)]
pub struct LocalFile {
    file: File,
    append: bool,
}

/// An open directory stream of [`LocalFs`]: "." and "..", then `read_dir`'s
/// entries.
#[derive(Debug)]
pub struct LocalDir {
    dots: u8,
    iter: ReadDir,
}

fn path(p: &[u8]) -> &Path {
    Path::new(OsStr::from_bytes(p))
}

fn errno(e: std::io::Error) -> Errno {
    e.raw_os_error().map_or(Errno::EIO, Errno::from_raw)
}

fn meta(m: &std::fs::Metadata) -> Metadata {
    Metadata {
        mode: m.mode(),
        nlink: m.nlink(),
        uid: m.uid(),
        gid: m.gid(),
        size: m.size(),
        atime: m.atime(),
        mtime: m.mtime(),
    }
}

fn vfs(s: &Statvfs) -> StatVfs {
    let f = s.flags();
    let mut flag = 0;
    if f.contains(FsFlags::ST_RDONLY) {
        flag |= STATVFS_RDONLY;
    }
    if f.contains(FsFlags::ST_NOSUID) {
        flag |= STATVFS_NOSUID;
    }
    #[allow(clippy::useless_conversion, clippy::unnecessary_cast)]
    StatVfs {
        bsize: s.block_size() as u64,
        frsize: s.fragment_size() as u64,
        blocks: s.blocks() as u64,
        bfree: s.blocks_free() as u64,
        bavail: s.blocks_available() as u64,
        files: s.files() as u64,
        ffree: s.files_free() as u64,
        favail: s.files_available() as u64,
        fsid: s.filesystem_id() as u64,
        flag,
        namemax: s.name_max() as u64,
    }
}

fn cached(
    map: &mut HashMap<u32, Option<String>>,
    id: u32,
    f: impl FnOnce() -> Option<String>,
) -> Option<String> {
    if let Some(v) = map.get(&id) {
        return v.clone();
    }
    let v = f();
    if map.len() >= NAME_CACHE {
        map.clear();
    }
    map.insert(id, v.clone());
    v
}

impl LocalFs {
    /// A filesystem handle with empty name caches.
    pub fn new() -> Self {
        Self::default()
    }
}

impl Filesystem for LocalFs {
    type File = LocalFile;
    type Dir = LocalDir;

    fn open(&mut self, p: &[u8], flags: OpenFlags, mode: u32) -> Result<LocalFile, Errno> {
        let mut extra = 0;
        if flags.append {
            extra |= libc::O_APPEND;
        }
        if flags.create {
            extra |= libc::O_CREAT;
        }
        if flags.truncate {
            extra |= libc::O_TRUNC;
        }
        if flags.exclusive {
            extra |= libc::O_EXCL;
        }
        let file = OpenOptions::new()
            .read(flags.read || !flags.write)
            .write(flags.write)
            .custom_flags(extra | libc::O_NOCTTY)
            .mode(mode)
            .open(path(p))
            .map_err(errno)?;
        Ok(LocalFile {
            file,
            append: flags.append,
        })
    }

    fn close(&mut self, file: LocalFile) -> Result<(), Errno> {
        drop(file);
        Ok(())
    }

    fn read(&mut self, f: &mut LocalFile, offset: u64, buf: &mut [u8]) -> Result<usize, Errno> {
        loop {
            match f.file.read_at(buf, offset) {
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                r => return r.map_err(errno),
            }
        }
    }

    fn write(&mut self, f: &mut LocalFile, offset: u64, data: &[u8]) -> Result<(), Errno> {
        if f.append {
            (&f.file).write_all(data).map_err(errno)
        } else {
            f.file.write_all_at(data, offset).map_err(errno)
        }
    }

    fn fstat(&mut self, f: &LocalFile) -> Result<Metadata, Errno> {
        f.file.metadata().map(|m| meta(&m)).map_err(errno)
    }

    fn fsync(&mut self, f: &mut LocalFile) -> Result<(), Errno> {
        f.file.sync_all().map_err(errno)
    }

    fn fstatvfs(&mut self, f: &LocalFile) -> Result<StatVfs, Errno> {
        nix::sys::statvfs::fstatvfs(&f.file).map(|s| vfs(&s))
    }

    fn stat(&mut self, p: &[u8]) -> Result<Metadata, Errno> {
        std::fs::metadata(path(p)).map(|m| meta(&m)).map_err(errno)
    }

    fn lstat(&mut self, p: &[u8]) -> Result<Metadata, Errno> {
        std::fs::symlink_metadata(path(p))
            .map(|m| meta(&m))
            .map_err(errno)
    }

    fn statvfs(&mut self, p: &[u8]) -> Result<StatVfs, Errno> {
        nix::sys::statvfs::statvfs(path(p)).map(|s| vfs(&s))
    }

    fn set_size(&mut self, t: Target<'_, LocalFile>, size: u64) -> Result<(), Errno> {
        let len = i64::try_from(size).map_err(|_| Errno::EFBIG)?;
        match t {
            Target::Path(p) => nix::unistd::truncate(path(p), len),
            Target::NoFollow(_) => Err(Errno::EINVAL),
            Target::File(f) => f.file.set_len(size).map_err(errno),
        }
    }

    fn set_mode(&mut self, t: Target<'_, LocalFile>, mode: u32) -> Result<(), Errno> {
        let perm = Permissions::from_mode(mode & 0o7777);
        match t {
            Target::Path(p) => std::fs::set_permissions(path(p), perm).map_err(errno),
            Target::NoFollow(p) => nix::sys::stat::fchmodat(
                None,
                path(p),
                Mode::from_bits_truncate((mode & 0o7777) as libc::mode_t),
                FchmodatFlags::NoFollowSymlink,
            ),
            Target::File(f) => f.file.set_permissions(perm).map_err(errno),
        }
    }

    fn set_times(&mut self, t: Target<'_, LocalFile>, atime: i64, mtime: i64) -> Result<(), Errno> {
        let (a, m) = (TimeVal::new(atime as _, 0), TimeVal::new(mtime as _, 0));
        match t {
            Target::Path(p) => nix::sys::stat::utimes(path(p), &a, &m),
            Target::NoFollow(p) => nix::sys::stat::lutimes(path(p), &a, &m),
            Target::File(f) => nix::sys::stat::futimens(
                f.file.as_raw_fd(),
                &TimeSpec::new(atime as _, 0),
                &TimeSpec::new(mtime as _, 0),
            ),
        }
    }

    fn set_owner(&mut self, t: Target<'_, LocalFile>, uid: u32, gid: u32) -> Result<(), Errno> {
        use std::os::unix::fs::{chown, fchown, lchown};
        match t {
            Target::Path(p) => chown(path(p), Some(uid), Some(gid)),
            Target::NoFollow(p) => lchown(path(p), Some(uid), Some(gid)),
            Target::File(f) => fchown(&f.file, Some(uid), Some(gid)),
        }
        .map_err(errno)
    }

    fn opendir(&mut self, p: &[u8]) -> Result<LocalDir, Errno> {
        let iter = std::fs::read_dir(path(p)).map_err(errno)?;
        Ok(LocalDir { dots: 0, iter })
    }

    fn readdir(&mut self, d: &mut LocalDir) -> Result<Option<Vec<u8>>, Errno> {
        if d.dots < 2 {
            d.dots += 1;
            return Ok(Some(if d.dots == 1 {
                b".".to_vec()
            } else {
                b"..".to_vec()
            }));
        }
        match d.iter.next() {
            None => Ok(None),
            Some(Ok(e)) => Ok(Some(e.file_name().into_vec())),
            Some(Err(e)) => Err(errno(e)),
        }
    }

    fn closedir(&mut self, d: LocalDir) -> Result<(), Errno> {
        drop(d);
        Ok(())
    }

    fn remove(&mut self, p: &[u8]) -> Result<(), Errno> {
        std::fs::remove_file(path(p)).map_err(errno)
    }

    fn mkdir(&mut self, p: &[u8], mode: u32) -> Result<(), Errno> {
        std::fs::DirBuilder::new()
            .mode(mode)
            .create(path(p))
            .map_err(errno)
    }

    fn rmdir(&mut self, p: &[u8]) -> Result<(), Errno> {
        std::fs::remove_dir(path(p)).map_err(errno)
    }

    fn rename(&mut self, from: &[u8], to: &[u8]) -> Result<(), Errno> {
        std::fs::rename(path(from), path(to)).map_err(errno)
    }

    fn link(&mut self, existing: &[u8], new: &[u8]) -> Result<(), Errno> {
        std::fs::hard_link(path(existing), path(new)).map_err(errno)
    }

    fn symlink(&mut self, target: &[u8], link: &[u8]) -> Result<(), Errno> {
        std::os::unix::fs::symlink(path(target), path(link)).map_err(errno)
    }

    fn readlink(&mut self, p: &[u8]) -> Result<Vec<u8>, Errno> {
        std::fs::read_link(path(p))
            .map(|t| t.into_os_string().into_vec())
            .map_err(errno)
    }

    fn cwd(&mut self) -> Result<Vec<u8>, Errno> {
        std::env::current_dir()
            .map(|d| d.into_os_string().into_vec())
            .map_err(errno)
    }

    fn user_name(&mut self, uid: u32) -> Option<String> {
        cached(&mut self.users, uid, || {
            nix::unistd::User::from_uid(nix::unistd::Uid::from_raw(uid))
                .ok()
                .flatten()
                .map(|u| u.name)
        })
    }

    fn group_name(&mut self, gid: u32) -> Option<String> {
        cached(&mut self.groups, gid, || {
            nix::unistd::Group::from_gid(nix::unistd::Gid::from_raw(gid))
                .ok()
                .flatten()
                .map(|g| g.name)
        })
    }

    fn home_dir(&mut self, name: &str) -> Option<Vec<u8>> {
        let u = nix::unistd::User::from_name(name).ok().flatten()?;
        Some(u.dir.into_os_string().into_vec())
    }
}
