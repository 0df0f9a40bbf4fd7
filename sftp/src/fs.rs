//! The `Filesystem` trait: every file operation the server performs goes through it,
//! so the protocol machine can run over the real filesystem ([`crate::LocalFs`]) or
//! an in-memory one ([`crate::MemFs`]).

pub use nix::errno::Errno;

/// What `stat(2)` tells the server about a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Metadata {
    /// `st_mode`: type and permission bits.
    pub mode: u32,
    /// Link count.
    pub nlink: u64,
    /// Owner.
    pub uid: u32,
    /// Group.
    pub gid: u32,
    /// Size in bytes.
    pub size: u64,
    /// Access time, seconds since the epoch.
    pub atime: i64,
    /// Modification time, seconds since the epoch.
    pub mtime: i64,
}

impl Metadata {
    /// Whether this is a directory.
    pub fn is_dir(&self) -> bool {
        self.mode & crate::attrs::S_IFMT == crate::attrs::S_IFDIR
    }
    /// Whether this is a regular file.
    pub fn is_file(&self) -> bool {
        self.mode & crate::attrs::S_IFMT == crate::attrs::S_IFREG
    }
    /// Whether this is a symbolic link.
    pub fn is_symlink(&self) -> bool {
        self.mode & crate::attrs::S_IFMT == crate::attrs::S_IFLNK
    }
}

/// `statvfs@openssh.com` flag: read-only filesystem.
pub const STATVFS_RDONLY: u64 = 0x1;
/// `statvfs@openssh.com` flag: setuid bits ignored.
pub const STATVFS_NOSUID: u64 = 0x2;

/// The reply of `statvfs@openssh.com` and `fstatvfs@openssh.com`, in wire order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StatVfs {
    /// `f_bsize`.
    pub bsize: u64,
    /// `f_frsize`.
    pub frsize: u64,
    /// `f_blocks`.
    pub blocks: u64,
    /// `f_bfree`.
    pub bfree: u64,
    /// `f_bavail`.
    pub bavail: u64,
    /// `f_files`.
    pub files: u64,
    /// `f_ffree`.
    pub ffree: u64,
    /// `f_favail`.
    pub favail: u64,
    /// `f_fsid`.
    pub fsid: u64,
    /// [`STATVFS_RDONLY`] and [`STATVFS_NOSUID`].
    pub flag: u64,
    /// `f_namemax`.
    pub namemax: u64,
}

/// How a file is opened: the SFTP `pflags` mapped to POSIX `open(2)` semantics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct OpenFlags {
    /// Open for reading (also when neither read nor write is asked, as `O_RDONLY`).
    pub read: bool,
    /// Open for writing.
    pub write: bool,
    /// `O_APPEND`: writes go to the end whatever their offset.
    pub append: bool,
    /// `O_CREAT`.
    pub create: bool,
    /// `O_TRUNC`.
    pub truncate: bool,
    /// `O_EXCL`.
    pub exclusive: bool,
}

/// What a set-attribute call applies to.
#[derive(Debug)]
pub enum Target<'a, F> {
    /// A path, following a final symbolic link (SETSTAT).
    Path(&'a [u8]),
    /// A path, not following a final symbolic link (`lsetstat@openssh.com`).
    NoFollow(&'a [u8]),
    /// An open file (FSETSTAT).
    File(&'a mut F),
}

/// The file operations of an SFTP server. Paths are raw bytes, relative ones taken
/// from the filesystem's current directory; errors are `errno` values, which the
/// server maps to SFTP status codes as OpenSSH does.
pub trait Filesystem {
    /// An open file.
    type File;
    /// An open directory stream.
    type Dir;

    /// `open(2)` with `flags` and creation mode `mode` (the umask already applied).
    fn open(&mut self, path: &[u8], flags: OpenFlags, mode: u32) -> Result<Self::File, Errno>;
    /// Closes a file.
    fn close(&mut self, file: Self::File) -> Result<(), Errno>;
    /// `pread(2)`: up to `buf.len()` bytes at `offset`; 0 means end of file.
    fn read(&mut self, file: &mut Self::File, offset: u64, buf: &mut [u8]) -> Result<usize, Errno>;
    /// Writes all of `data` at `offset`, or at the end of file when the file was
    /// opened with `append`.
    fn write(&mut self, file: &mut Self::File, offset: u64, data: &[u8]) -> Result<(), Errno>;
    /// `fstat(2)`.
    fn fstat(&mut self, file: &Self::File) -> Result<Metadata, Errno>;
    /// `fsync(2)`.
    fn fsync(&mut self, file: &mut Self::File) -> Result<(), Errno>;
    /// `fstatvfs(3)`.
    fn fstatvfs(&mut self, file: &Self::File) -> Result<StatVfs, Errno>;

    /// `stat(2)`.
    fn stat(&mut self, path: &[u8]) -> Result<Metadata, Errno>;
    /// `lstat(2)`.
    fn lstat(&mut self, path: &[u8]) -> Result<Metadata, Errno>;
    /// `statvfs(3)`.
    fn statvfs(&mut self, path: &[u8]) -> Result<StatVfs, Errno>;

    /// Truncates or extends to `size`.
    fn set_size(&mut self, target: Target<'_, Self::File>, size: u64) -> Result<(), Errno>;
    /// `chmod(2)` with the bits in `mode & 0o7777`.
    fn set_mode(&mut self, target: Target<'_, Self::File>, mode: u32) -> Result<(), Errno>;
    /// `utimes(2)`: access and modification time in whole seconds.
    fn set_times(
        &mut self,
        target: Target<'_, Self::File>,
        atime: i64,
        mtime: i64,
    ) -> Result<(), Errno>;
    /// `chown(2)`.
    fn set_owner(
        &mut self,
        target: Target<'_, Self::File>,
        uid: u32,
        gid: u32,
    ) -> Result<(), Errno>;

    /// `opendir(3)`.
    fn opendir(&mut self, path: &[u8]) -> Result<Self::Dir, Errno>;
    /// The next entry name of a directory stream ("." and ".." included), `None` at
    /// the end.
    fn readdir(&mut self, dir: &mut Self::Dir) -> Result<Option<Vec<u8>>, Errno>;
    /// Closes a directory stream.
    fn closedir(&mut self, dir: Self::Dir) -> Result<(), Errno>;

    /// `unlink(2)`.
    fn remove(&mut self, path: &[u8]) -> Result<(), Errno>;
    /// `mkdir(2)` with `mode` (the umask already applied).
    fn mkdir(&mut self, path: &[u8], mode: u32) -> Result<(), Errno>;
    /// `rmdir(2)`.
    fn rmdir(&mut self, path: &[u8]) -> Result<(), Errno>;
    /// `rename(2)`: replaces an existing target (POSIX semantics).
    fn rename(&mut self, from: &[u8], to: &[u8]) -> Result<(), Errno>;
    /// `link(2)`.
    fn link(&mut self, existing: &[u8], new: &[u8]) -> Result<(), Errno>;
    /// `symlink(2)`: creates `link` pointing at `target`.
    fn symlink(&mut self, target: &[u8], link: &[u8]) -> Result<(), Errno>;
    /// `readlink(2)`.
    fn readlink(&mut self, path: &[u8]) -> Result<Vec<u8>, Errno>;
    /// `getcwd(3)`: the absolute path relative paths are taken from.
    fn cwd(&mut self) -> Result<Vec<u8>, Errno>;

    /// The name of user `uid`, `None` when unknown (as in a chroot without passwd).
    fn user_name(&mut self, uid: u32) -> Option<String>;
    /// The name of group `gid`, `None` when unknown.
    fn group_name(&mut self, gid: u32) -> Option<String>;
    /// The home directory of user `name`, `None` when unknown.
    fn home_dir(&mut self, name: &str) -> Option<Vec<u8>>;
    /// The time now, seconds since the epoch (for the long name's date column).
    fn now(&mut self) -> i64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0)
    }
}
