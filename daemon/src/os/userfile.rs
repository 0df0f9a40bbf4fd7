//! Reading a file that belongs to a user (`authorized_keys`, `~/.ssh/environment`)
//! without letting its owner turn the read against the daemon.
//!
//! - The file is opened with the user's file-system identity (`setfsuid`, `setfsgid`
//!   and the user's groups) when the daemon is root, so the user can only make it read
//!   what the user could read anyway; the identity is restored at once.
//! - It is opened with `O_NOFOLLOW | O_NONBLOCK`: a final symbolic link is refused (to
//!   `/dev/zero`, or to another user's `authorized_keys` — whose keys would otherwise
//!   be revealed one `PK_OK` at a time), and a FIFO cannot block the open.
//! - It is checked with `fstat` on the open descriptor: it must be a regular file, and
//!   with `StrictModes` it and every directory above it up to the home directory (or up
//!   to `/` outside it) must be owned by the user or root and writable by no one else
//!   (OpenSSH's `secure_filename`).
//! - It is read up to [`MAX_USER_FILE_BYTES`]; a longer file is refused whole, so a
//!   huge file costs no memory.
//!
//! OpenSSH follows a final symbolic link; Sisu does not (a link to a file elsewhere
//! can be replaced by naming that file in `AuthorizedKeysFile`).

use std::fmt;
use std::fs::File;
use std::io::{self, Read};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use nix::unistd::{getgroups, setfsgid, setfsuid, setgroups, Gid, Uid};

use super::perms::MAX_PATH_DEPTH;
use super::user::UserInfo;

/// Largest user file read, in bytes (about 5000 `authorized_keys` lines of RSA-4096
/// keys with options).
pub const MAX_USER_FILE_BYTES: u64 = 4 * 1024 * 1024;

/// Group- and world-writable bits.
const GROUP_WORLD_WRITABLE: u32 = 0o022;

/// Why a user file was not read.
#[derive(Debug)]
pub enum UserFileError {
    /// It could not be opened (missing, a symbolic link, no permission, ...).
    Open(io::Error),
    /// It is not a regular file (a FIFO, a device, a directory).
    NotRegular,
    /// `StrictModes`: the file or a directory above it is not owned by the user or root,
    /// or is writable by others. The path is the one at fault.
    BadModes {
        /// Whether the fault is the file itself (else a directory above it).
        file: bool,
        /// The file or directory.
        path: PathBuf,
    },
    /// Longer than [`MAX_USER_FILE_BYTES`].
    TooLarge,
    /// A read failed.
    Read(io::Error),
}

impl fmt::Display for UserFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UserFileError::Open(e) => write!(f, "{e}"),
            UserFileError::NotRegular => f.write_str("is not a regular file"),
            UserFileError::BadModes { file: true, path } => {
                write!(f, "bad ownership or modes for file {}", path.display())
            }
            UserFileError::BadModes { file: false, path } => {
                write!(f, "bad ownership or modes for directory {}", path.display())
            }
            UserFileError::TooLarge => write!(f, "is longer than {MAX_USER_FILE_BYTES} bytes"),
            UserFileError::Read(e) => write!(f, "read: {e}"),
        }
    }
}

/// Reads `path` for `user` as described in the module documentation. `as_user`: open
/// it with the user's identity (the daemon is root and the user is not);
/// `strict_modes`: apply the `StrictModes` checks.
pub fn read_user_file(
    path: &Path,
    user: &UserInfo,
    as_user: bool,
    strict_modes: bool,
) -> Result<Vec<u8>, UserFileError> {
    let file = if as_user {
        with_user_identity(user, || open_nofollow(path))
    } else {
        open_nofollow(path)
    }
    .map_err(UserFileError::Open)?;
    let meta = file.metadata().map_err(UserFileError::Read)?;
    if !meta.file_type().is_file() {
        return Err(UserFileError::NotRegular);
    }
    if strict_modes {
        secure_file(path, &meta, user)?;
    }
    if meta.len() > MAX_USER_FILE_BYTES {
        return Err(UserFileError::TooLarge);
    }
    let mut out = Vec::new();
    file.take(MAX_USER_FILE_BYTES + 1)
        .read_to_end(&mut out)
        .map_err(UserFileError::Read)?;
    if out.len() as u64 > MAX_USER_FILE_BYTES {
        return Err(UserFileError::TooLarge);
    }
    Ok(out)
}

fn open_nofollow(path: &Path) -> io::Result<File> {
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
}

/// Runs `f` with the file-system uid, gid and groups of `user`, then restores root's.
/// The process is single-threaded when it reads user files, so no other thread sees
/// the borrowed identity.
fn with_user_identity<T>(user: &UserInfo, f: impl FnOnce() -> io::Result<T>) -> io::Result<T> {
    let saved = getgroups().map_err(io::Error::from)?;
    let groups: Vec<Gid> = user.groups.iter().map(|g| Gid::from_raw(*g)).collect();
    setgroups(&groups).map_err(io::Error::from)?;
    let old_gid = setfsgid(Gid::from_raw(user.gid));
    let old_uid = setfsuid(Uid::from_raw(user.uid));
    let r = f();
    setfsuid(old_uid);
    setfsgid(old_gid);
    // Restoring root's groups cannot fail for root; if it did, the process must not go
    // on with the user's groups.
    if let Err(e) = setgroups(&saved) {
        panic!("cannot restore the daemon's groups after reading a user file: {e}");
    }
    r
}

fn owner_ok(owner: u32, uid: u32) -> bool {
    owner == 0 || owner == uid
}

/// `StrictModes`: the open file (`meta`) and the directories above `path`, up to the
/// user's home directory or `/`.
fn secure_file(
    path: &Path,
    meta: &std::fs::Metadata,
    user: &UserInfo,
) -> Result<(), UserFileError> {
    let bad_file = || UserFileError::BadModes {
        file: true,
        path: path.to_path_buf(),
    };
    if !owner_ok(meta.uid(), user.uid) || meta.mode() & GROUP_WORLD_WRITABLE != 0 {
        return Err(bad_file());
    }
    // The directories, resolved: the file itself is no link (O_NOFOLLOW), its parent
    // may be.
    let parent = path.parent().unwrap_or(Path::new("/"));
    let mut dir = parent.canonicalize().map_err(UserFileError::Open)?;
    let home = user
        .home
        .canonicalize()
        .unwrap_or_else(|_| user.home.clone());
    for _ in 0..MAX_PATH_DEPTH {
        let bad = match std::fs::metadata(&dir) {
            Ok(m) => !owner_ok(m.uid(), user.uid) || m.mode() & GROUP_WORLD_WRITABLE != 0,
            Err(_) => true,
        };
        if bad {
            return Err(UserFileError::BadModes {
                file: false,
                path: dir,
            });
        }
        if dir == home {
            return Ok(());
        }
        match dir.parent() {
            Some(p) => dir = p.to_path_buf(),
            None => return Ok(()),
        }
    }
    Err(bad_file())
}
