//! Pseudo-terminals: allocation through `/dev/ptmx`, window sizes, and tty ownership.

use std::fs::{OpenOptions, Permissions};
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, IntoRawFd, OwnedFd};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Component, Path};

use nix::fcntl::OFlag;
use nix::pty::{grantpt, posix_openpt, ptsname_r, unlockpt};
use nix::unistd::{chown, Gid, Group, Uid};

/// Mode of a session's tty when the `tty` group exists (owner rw, group w), as sshd sets.
pub const TTY_MODE_WITH_GROUP: u32 = 0o620;
/// Mode of a session's tty when there is no `tty` group.
pub const TTY_MODE_WITHOUT_GROUP: u32 = 0o600;

/// A terminal window size (RFC 4254 §6.2 `pty-req`, §6.7 `window-change`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WinSize {
    /// Width in characters.
    pub cols: u16,
    /// Height in rows.
    pub rows: u16,
    /// Width in pixels (0 if unknown).
    pub width_px: u16,
    /// Height in pixels (0 if unknown).
    pub height_px: u16,
}

impl WinSize {
    /// From the `uint32` fields of a `pty-req` or `window-change` (columns, rows, width,
    /// height); values over 65535 are clamped.
    pub fn from_wire(cols: u32, rows: u32, width_px: u32, height_px: u32) -> Self {
        let clamp = |v: u32| u16::try_from(v).unwrap_or(u16::MAX);
        WinSize {
            cols: clamp(cols),
            rows: clamp(rows),
            width_px: clamp(width_px),
            height_px: clamp(height_px),
        }
    }
}

/// An allocated pseudo-terminal. The daemon keeps `master`; [`crate::os::spawn`] gives
/// the child `slave` as its controlling terminal, after which the daemon should drop its
/// copy of `slave` so that reads from `master` end (with `EIO`) when the child exits.
#[derive(Debug)]
pub struct Pty {
    /// The master side (close-on-exec).
    pub master: OwnedFd,
    /// The slave side (close-on-exec, opened without becoming our controlling tty).
    pub slave: OwnedFd,
    /// The slave's path, `/dev/pts/N`.
    pub tty_name: String,
    /// The user's previous login, as `PrintLastLog` shows it (`Last login: … from …`),
    /// when whoever recorded this login (the monitor) read one first.
    pub last_login: Option<String>,
}

/// Allocate a pty with the given window size.
pub fn open_pty(size: WinSize) -> io::Result<Pty> {
    let master = posix_openpt(OFlag::O_RDWR | OFlag::O_NOCTTY | OFlag::O_CLOEXEC)?;
    grantpt(&master)?;
    unlockpt(&master)?;
    let tty_name = ptsname_r(&master)?;
    // SAFETY: `into_raw_fd` hands over the fd that `PtyMaster` owned, so the new
    // `OwnedFd` is its only owner.
    let master = unsafe { OwnedFd::from_raw_fd(master.into_raw_fd()) };
    let slave: OwnedFd = OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(libc::O_NOCTTY) // std adds O_CLOEXEC
        .open(&tty_name)?
        .into();
    set_winsize(master.as_fd(), size)?;
    Ok(Pty {
        master,
        slave,
        tty_name,
        last_login: None,
    })
}

/// Set the window size of a pty (on its master or slave, `TIOCSWINSZ`); the kernel sends
/// `SIGWINCH` to the terminal's foreground process group.
pub fn set_winsize(fd: BorrowedFd, size: WinSize) -> io::Result<()> {
    let ws = libc::winsize {
        ws_row: size.rows,
        ws_col: size.cols,
        ws_xpixel: size.width_px,
        ws_ypixel: size.height_px,
    };
    // SAFETY: TIOCSWINSZ reads one `struct winsize`, which `ws` is, from a live local.
    let r = unsafe {
        libc::ioctl(
            fd.as_raw_fd(),
            libc::TIOCSWINSZ,
            &ws as *const libc::winsize,
        )
    };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Read the window size of a pty (`TIOCGWINSZ`).
pub fn get_winsize(fd: BorrowedFd) -> io::Result<WinSize> {
    let mut ws = libc::winsize {
        ws_row: 0,
        ws_col: 0,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCGWINSZ writes one `struct winsize` into `ws`, a live exclusive local.
    let r = unsafe {
        libc::ioctl(
            fd.as_raw_fd(),
            libc::TIOCGWINSZ,
            &mut ws as *mut libc::winsize,
        )
    };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(WinSize {
        cols: ws.ws_col,
        rows: ws.ws_row,
        width_px: ws.ws_xpixel,
        height_px: ws.ws_ypixel,
    })
}

/// Give a session's tty to its user, as sshd does: owner `uid`, group `tty` with mode
/// 0620 (so `write` and `wall` work), or group `gid` with mode 0600 when there is no
/// `tty` group. Only paths under `/dev/` are accepted. Nothing is changed that is already
/// right, so an unprivileged daemon can call it on its own ptys.
pub fn chown_tty(tty_name: &str, uid: u32, gid: u32) -> io::Result<()> {
    let path = tty_path(tty_name)?;
    let (group, mode) = match Group::from_name("tty") {
        Ok(Some(g)) => (g.gid.as_raw(), TTY_MODE_WITH_GROUP),
        _ => (gid, TTY_MODE_WITHOUT_GROUP),
    };
    let meta = std::fs::metadata(path)?;
    if meta.uid() != uid || meta.gid() != group {
        chown(path, Some(Uid::from_raw(uid)), Some(Gid::from_raw(group)))?;
    }
    if meta.mode() & 0o7777 != mode {
        std::fs::set_permissions(path, Permissions::from_mode(mode))?;
    }
    Ok(())
}

/// Gives a session's tty back to root after the session (owner and group root, mode
/// 0666, as OpenSSH's `pty_release`). Only paths under `/dev/` are accepted.
pub fn release_tty(tty_name: &str) -> io::Result<()> {
    let path = tty_path(tty_name)?;
    chown(path, Some(Uid::from_raw(0)), Some(Gid::from_raw(0)))?;
    std::fs::set_permissions(path, Permissions::from_mode(0o666))
}

/// `tty_name` as a path, when it is a plain path under `/dev/` (no `..`).
fn tty_path(tty_name: &str) -> io::Result<&Path> {
    let path = Path::new(tty_name);
    let under_dev = path.starts_with("/dev/")
        && path
            .components()
            .all(|c| matches!(c, Component::RootDir | Component::Normal(_)));
    if !under_dev {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("not a tty path: {tty_name:?}"),
        ));
    }
    Ok(path)
}
