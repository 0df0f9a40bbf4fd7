//! Starting processes: a user's shell or command (with pipes or a pty), and the
//! re-executed daemon that serves one connection.
//!
//! Both go through [`std::process::Command`], which builds argv and envp before it
//! forks. The work between fork and exec is a `pre_exec` closure that only makes
//! async-signal-safe system calls on data prepared before the fork (the group list, the
//! working directory as a `CString`): reset signal dispositions and the signal mask, mark
//! every fd above 2 close-on-exec, then, for a user's session, `setsid` + `TIOCSCTTY`
//! (with a pty), `setgroups` + `setgid` + `setuid` (when switching user), and `chdir`.

use std::ffi::{CString, OsStr, OsString};
use std::io;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};

use nix::sys::signal::{signal, sigprocmask, SigHandler, SigSet, SigmaskHow, Signal};
use nix::unistd::{chdir, setgid, setgroups, setsid, setuid, Gid, Uid};

use super::poll::set_nonblocking;
use super::pty::Pty;
use super::user::{UserInfo, MAX_GROUPS};

/// Longest command for `exec` (Linux's limit on one argument, `MAX_ARG_STRLEN`).
pub const MAX_COMMAND_LEN: usize = 128 * 1024;
/// Most environment variables passed to a child.
pub const MAX_ENV_VARS: usize = 1024;
/// Most arguments passed to a re-executed session process.
pub const MAX_SESSION_ARGS: usize = 256;
/// The shell used when the user's shell field is empty (`_PATH_BSHELL`).
pub const DEFAULT_SHELL: &str = "/bin/sh";
/// Size asked for the pipes that carry a child's stdout and stderr.
pub const CHILD_PIPE_SIZE: i32 = 256 * 1024;

/// What to run for a session (RFC 4254 §6.5 `shell` or `exec`).
#[derive(Debug, Clone, Copy)]
pub struct SpawnRequest<'a> {
    /// Whose session it is.
    pub user: &'a UserInfo,
    /// Switch to the user before exec (`setgroups`, `setgid`, `setuid`); needs root.
    pub switch_user: bool,
    /// `None`: the login shell (argv\[0\] `-bash`); `Some(cmd)`: `$SHELL -c cmd`.
    pub command: Option<&'a [u8]>,
    /// The whole environment of the child (nothing is inherited).
    pub env: &'a [(String, String)],
    /// With a pty: a new session, the slave as controlling terminal and as fds 0, 1, 2.
    pub pty: Option<&'a Pty>,
    /// Working directory; `/` if it cannot be entered (as sshd does).
    pub cwd: &'a Path,
    /// Written to the child's stdout (the terminal) after it became the user and
    /// before it runs the shell: the message of the day of a login (`PrintMotd`), at
    /// most [`MAX_GREETING_LEN`] bytes.
    pub greeting: Option<&'a [u8]>,
    /// Written to the child's stderr (the terminal with a pty) after it became the
    /// user, instead of running anything: the child then exits with status 254 (the
    /// text of `/etc/nologin`, as sshd's `do_nologin`). At most [`MAX_GREETING_LEN`].
    pub refusal: Option<&'a [u8]>,
    /// Whether `~/.ssh/rc` may run before the shell or command (`PermitUserRC`, no
    /// `no-user-rc`, no `ForceCommand`, not a subsystem); the system's
    /// `/etc/ssh/sshrc` runs otherwise, when it exists ([`super::rc`]).
    pub user_rc: bool,
    /// A forwarded X11 display's cookie: handed to the rc file, or stored with xauth.
    pub x11: Option<&'a super::rc::X11Cookie>,
}

/// Writes all of `bytes` to `fd` with write(2), giving up on an error: for the child
/// between fork and exec (no allocation, no lock).
pub(super) fn write_all_fd(fd: i32, bytes: &[u8]) {
    let mut rest = bytes;
    while !rest.is_empty() {
        // SAFETY: write(2) on an fd std set up, from a live buffer of `rest.len()`
        // bytes.
        let n = unsafe { libc::write(fd, rest.as_ptr().cast(), rest.len()) };
        if n <= 0 {
            break;
        }
        rest = &rest[n as usize..];
    }
}

/// Longest greeting written before a login shell.
pub const MAX_GREETING_LEN: usize = 64 * 1024;

/// A started session child. Without a pty the three pipe ends are the parent's
/// (non-blocking, close-on-exec); with a pty they are `None` and the pty master carries
/// both directions.
#[derive(Debug)]
pub struct Child {
    /// Process id, for [`crate::os::try_wait`] and [`crate::os::signal_by_name`].
    pub pid: i32,
    /// Write end of the child's stdin.
    pub stdin: Option<OwnedFd>,
    /// Read end of the child's stdout.
    pub stdout: Option<OwnedFd>,
    /// Read end of the child's stderr (RFC 4254 extended data).
    pub stderr: Option<OwnedFd>,
}

/// Runs `body` in a forked copy of this process, with pipes as its stdin and stdout
/// (handed to `body` as files) and its stderr; the copy exits with what `body` returns.
/// For the in-process servers of a session (`internal-sftp`), which must work inside a
/// `ChrootDirectory` that holds no program to exec. The copy closes every other
/// descriptor but `keep` (the log's) first, so it holds neither the connection's
/// socket nor listeners.
pub fn fork_with_pipes(
    keep: Option<i32>,
    body: impl FnOnce(std::fs::File, std::fs::File) -> i32,
) -> io::Result<Child> {
    use nix::fcntl::OFlag;
    let flags = OFlag::O_CLOEXEC;
    let (in_r, in_w) = nix::unistd::pipe2(flags)?;
    let (out_r, out_w) = nix::unistd::pipe2(flags)?;
    let (err_r, err_w) = nix::unistd::pipe2(flags)?;
    // SAFETY: after fork(2) the child is single-threaded; it only moves descriptors
    // (dup2, close_range) and runs `body`, which allocates: glibc's fork resets the
    // allocator's locks in the child, and nothing else here takes a lock that another
    // thread could have held (the resolver threads of forwardings touch only their
    // own channel and pipe).
    match unsafe { nix::unistd::fork() }? {
        nix::unistd::ForkResult::Child => {
            let code = (|| {
                use std::os::fd::{AsRawFd, FromRawFd};
                for (fd, to) in [(&in_r, 0), (&out_w, 1), (&err_w, 2)] {
                    // SAFETY: dup2 onto the standard descriptors of this process.
                    if unsafe { libc::dup2(fd.as_raw_fd(), to) } < 0 {
                        return 255;
                    }
                }
                // SAFETY: close_range(2) closes every descriptor from 3 on but `keep`:
                // the pipes' originals, the socket, listeners.
                let ranges = match keep {
                    Some(k) if k >= 3 => [(3u32, k as u32 - 1), (k as u32 + 1, u32::MAX)],
                    _ => [(3u32, u32::MAX), (1, 0)],
                };
                for (first, last) in ranges {
                    if first <= last {
                        unsafe { libc::syscall(libc::SYS_close_range, first, last, 0u32) };
                    }
                }
                std::mem::forget((in_r, in_w, out_r, out_w, err_r, err_w));
                // SAFETY: 0 and 1 are the pipes just put there, owned by nothing else.
                let (stdin, stdout) =
                    unsafe { (std::fs::File::from_raw_fd(0), std::fs::File::from_raw_fd(1)) };
                body(stdin, stdout)
            })();
            // SAFETY: ends the forked copy without running the parent's exit handlers.
            unsafe { libc::_exit(code) }
        }
        nix::unistd::ForkResult::Parent { child } => {
            drop((in_r, out_w, err_w));
            for fd in [&in_w, &out_r, &err_r] {
                super::set_nonblocking(fd.as_fd())?;
            }
            Ok(Child {
                pid: child.as_raw(),
                stdin: Some(in_w),
                stdout: Some(out_r),
                stderr: Some(err_r),
            })
        }
    }
}

fn invalid(msg: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, msg)
}

/// Start a user's shell or command. See [`SpawnRequest`].
pub fn spawn(req: &SpawnRequest) -> io::Result<Child> {
    let shell: &Path = if req.user.shell.as_os_str().is_empty() {
        Path::new(DEFAULT_SHELL)
    } else {
        &req.user.shell
    };
    let shell_base: &OsStr = shell.file_name().unwrap_or(shell.as_os_str());
    let mut cmd = Command::new(shell);
    let mut login_argv0 = OsString::from("-");
    login_argv0.push(shell_base);
    match req.command {
        Some(command) => {
            if command.len() > MAX_COMMAND_LEN {
                return Err(invalid(format!(
                    "command of {} bytes, at most {MAX_COMMAND_LEN}",
                    command.len()
                )));
            }
            if command.contains(&0) {
                return Err(invalid("NUL in command".into()));
            }
            cmd.arg0(shell_base)
                .arg("-c")
                .arg(OsStr::from_bytes(command));
        }
        None => {
            cmd.arg0(&login_argv0);
        }
    }

    if req.env.len() > MAX_ENV_VARS {
        return Err(invalid(format!("{} environment variables", req.env.len())));
    }
    cmd.env_clear();
    for (name, value) in req.env {
        if name.is_empty() || name.contains(['=', '\0']) || value.contains('\0') {
            return Err(invalid(format!("bad environment variable {name:?}")));
        }
        cmd.env(name, value);
    }

    let cwd = CString::new(req.cwd.as_os_str().as_bytes())
        .map_err(|_| invalid("NUL in working directory".into()))?;
    let identity = if req.switch_user {
        let mut groups: Vec<Gid> = req.user.groups.iter().map(|&g| Gid::from_raw(g)).collect();
        if groups.is_empty() {
            groups.push(Gid::from_raw(req.user.gid));
        }
        groups.truncate(MAX_GROUPS);
        Some((
            groups,
            Gid::from_raw(req.user.gid),
            Uid::from_raw(req.user.uid),
        ))
    } else {
        None
    };
    let with_pty = req.pty.is_some();
    let rc = super::rc::RcFiles::new(req.user_rc, shell, shell_base, req.env, req.x11)
        .ok_or_else(|| invalid("NUL in the environment".into()))?;
    let greeting: Vec<u8> = req
        .greeting
        .map(|g| g[..g.len().min(MAX_GREETING_LEN)].to_vec())
        .unwrap_or_default();
    let refusal: Option<Vec<u8>> = req
        .refusal
        .map(|r| r[..r.len().min(MAX_GREETING_LEN)].to_vec());
    let no_home: Vec<u8> = format!(
        "Could not chdir to home directory {}: No such file or directory\n",
        req.cwd.display()
    )
    .into_bytes();

    match req.pty {
        Some(pty) => {
            cmd.stdin(Stdio::from(pty.slave.try_clone()?));
            cmd.stdout(Stdio::from(pty.slave.try_clone()?));
            cmd.stderr(Stdio::from(pty.slave.try_clone()?));
        }
        None => {
            cmd.stdin(Stdio::piped());
            cmd.stdout(Stdio::piped());
            cmd.stderr(Stdio::piped());
        }
    }

    let child_setup = move || -> io::Result<()> {
        reset_signals()?;
        mark_fds_cloexec();
        if with_pty {
            setsid()?;
            // SAFETY: TIOCSCTTY takes an int argument and no pointer; fd 0 is the pty
            // slave that std dup2()ed there before running this closure.
            if unsafe { libc::ioctl(0, libc::TIOCSCTTY, 0) } < 0 {
                return Err(io::Error::last_os_error());
            }
        }
        if let Some((groups, gid, uid)) = &identity {
            switch_identity(groups, *gid, *uid)?;
        }
        if chdir(cwd.as_c_str()).is_err() {
            write_all_fd(2, &no_home);
            chdir(c"/")?;
        }
        if let Some(text) = &refusal {
            write_all_fd(2, text);
            // SAFETY: _exit(2) is async-signal-safe and ends this forked child at once,
            // without running the parent's exit handlers.
            unsafe { libc::_exit(254) };
        }
        write_all_fd(1, &greeting);
        rc.run();
        Ok(())
    };
    // SAFETY: the closure runs in the forked child before exec. It allocates nothing and
    // takes no locks: it only makes system calls (sigaction, sigprocmask, close_range,
    // setsid, ioctl, setgroups, setgid, setuid, chdir, write, _exit, and the rc file's
    // stat, clone, execve and waitpid) on data built before the fork (`identity`,
    // `cwd`, `greeting`, `refusal`, `no_home`, `rc`), and errors are built from raw
    // errno values.
    unsafe {
        cmd.pre_exec(child_setup);
    }

    let mut child = cmd.spawn()?;
    let pid = child.id() as i32;
    let take = |fd: Option<OwnedFd>| -> io::Result<Option<OwnedFd>> {
        if let Some(fd) = &fd {
            set_nonblocking(fd.as_fd())?;
        }
        Ok(fd)
    };
    let stdout = take(child.stdout.take().map(OwnedFd::from))?;
    let stderr = take(child.stderr.take().map(OwnedFd::from))?;
    // A larger pipe for the child's output: a busy command then wakes the session (and
    // is woken by it) far less often per byte. Best effort: the default stays if the
    // kernel refuses.
    for fd in stdout.iter().chain(stderr.iter()) {
        let _ = nix::fcntl::fcntl(
            fd.as_raw_fd(),
            nix::fcntl::FcntlArg::F_SETPIPE_SZ(CHILD_PIPE_SIZE),
        );
    }
    Ok(Child {
        pid,
        stdin: take(child.stdin.take().map(OwnedFd::from))?,
        stdout,
        stderr,
    })
}

/// Start `exe` (the daemon itself, a fresh image) with `args` to serve one connection:
/// the accepted `socket` becomes its fds 0 and 1, stderr is passed through, the
/// environment is inherited. Returns the child's pid, for [`crate::os::reap_children`].
pub fn spawn_session_process(exe: &Path, args: &[String], socket: OwnedFd) -> io::Result<i32> {
    spawn_session_process_with(&SessionImage::path(exe), args, socket, None, None, None)
}

/// The descriptor number a session process finds its start-up notification pipe on.
pub const STARTUP_NOTIFY_FD: i32 = 3;
/// The descriptor number a session process finds the listener's configuration on.
pub const CONFIG_FD: i32 = 4;
/// The descriptor number a session process finds protocol 1's server key on (a
/// memory file in the `rsa1` format), when protocol 1 is served.
pub const SERVER_KEY_FD: i32 = 5;
/// Descriptors the listener keeps for all sessions are moved at or above this number,
/// so that the per-session ones never land on them.
const HIGH_FD: i32 = 10;

/// The program a session process runs: the daemon's own binary, held open from
/// start-up ([`SessionImage::current`]) so that a session still starts after the file
/// was deleted or replaced (an upgrade), as OpenSSH's listener does.
#[derive(Debug)]
pub struct SessionImage {
    /// What to exec: `/proc/self/fd/N` for the held binary, or a path.
    program: std::path::PathBuf,
    /// The name the child sees as argv\[0\].
    arg0: OsString,
    /// The held binary (kept open as long as this lives).
    _held: Option<std::fs::File>,
}

impl SessionImage {
    /// The running binary, held open by descriptor (`/proc/self/exe`); falls back to
    /// `exe`'s path when /proc is not there.
    pub fn current(exe: &Path) -> Self {
        match std::fs::File::open("/proc/self/exe").and_then(|f| high_fd(f.into())) {
            Ok(fd) => SessionImage {
                program: format!("/proc/self/fd/{}", fd.as_raw_fd()).into(),
                arg0: exe.as_os_str().to_owned(),
                _held: Some(std::fs::File::from(fd)),
            },
            Err(_) => Self::path(exe),
        }
    }

    /// A command that runs this image (argv\[0\] set).
    pub fn command(&self) -> Command {
        let mut cmd = Command::new(&self.program);
        cmd.arg0(&self.arg0);
        cmd
    }

    /// The binary at `exe`, by path.
    pub fn path(exe: &Path) -> Self {
        SessionImage {
            program: exe.to_path_buf(),
            arg0: exe.as_os_str().to_owned(),
            _held: None,
        }
    }
}

/// `fd` moved to a number at or above [`HIGH_FD`] (close-on-exec).
fn high_fd(fd: OwnedFd) -> io::Result<OwnedFd> {
    let raw = nix::fcntl::fcntl(
        fd.as_raw_fd(),
        nix::fcntl::FcntlArg::F_DUPFD_CLOEXEC(HIGH_FD),
    )
    .map_err(io::Error::from)?;
    // SAFETY: F_DUPFD_CLOEXEC returned a new descriptor that nothing else owns.
    Ok(unsafe { <OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(raw) })
}

/// The configuration the listener loaded, as bytes in an anonymous memory file
/// (`memfd_create`) that every session process gets as [`CONFIG_FD`] and reads with
/// `pread` (the file offset is shared; nobody moves it).
pub fn config_memfd(bytes: &[u8]) -> io::Result<OwnedFd> {
    use nix::sys::memfd::{memfd_create, MemFdCreateFlag};
    let fd =
        memfd_create(c"sisu-sshd-config", MemFdCreateFlag::MFD_CLOEXEC).map_err(io::Error::from)?;
    let file = std::fs::File::from(high_fd(fd)?);
    std::os::unix::fs::FileExt::write_all_at(&file, bytes, 0)?;
    Ok(OwnedFd::from(file))
}

/// Protocol 1's server key (`rsa1` file bytes) in an anonymous memory file for the
/// sessions ([`SERVER_KEY_FD`]); never on disk.
pub fn server_key_memfd(bytes: &[u8]) -> io::Result<OwnedFd> {
    use nix::sys::memfd::{memfd_create, MemFdCreateFlag};
    let fd = memfd_create(c"sisu-sshd-server-key", MemFdCreateFlag::MFD_CLOEXEC)
        .map_err(io::Error::from)?;
    let file = std::fs::File::from(high_fd(fd)?);
    std::os::unix::fs::FileExt::write_all_at(&file, bytes, 0)?;
    Ok(OwnedFd::from(file))
}

/// [`spawn_session_process`], also handing the child the write end of a pipe as fd
/// [`STARTUP_NOTIFY_FD`] (the session writes one byte there once the user has
/// authenticated, so the listener counts only unauthenticated connections against
/// `MaxStartups`), the listener's configuration as fd [`CONFIG_FD`], and protocol
/// 1's server key as fd [`SERVER_KEY_FD`].
pub fn spawn_session_process_with(
    image: &SessionImage,
    args: &[String],
    socket: OwnedFd,
    notify: Option<OwnedFd>,
    config: Option<std::os::fd::BorrowedFd<'_>>,
    server_key: Option<std::os::fd::BorrowedFd<'_>>,
) -> io::Result<i32> {
    if args.len() > MAX_SESSION_ARGS {
        return Err(invalid(format!("{} arguments", args.len())));
    }
    let mut cmd = image.command();
    cmd.args(args)
        .stdin(Stdio::from(socket.try_clone()?))
        .stdout(Stdio::from(socket))
        .stderr(Stdio::inherit());
    let handed: [(Option<i32>, i32); 3] = [
        (notify.as_ref().map(|f| f.as_raw_fd()), STARTUP_NOTIFY_FD),
        (config.map(|f| f.as_raw_fd()), CONFIG_FD),
        (server_key.map(|f| f.as_raw_fd()), SERVER_KEY_FD),
    ];
    // SAFETY: as in `spawn`: only sigaction, sigprocmask, close_range, fcntl, dup2 and
    // close, on integers; `notify` and `config` outlive the fork, so their descriptors
    // are open in the child.
    unsafe {
        cmd.pre_exec(move || {
            reset_signals()?;
            mark_fds_cloexec();
            // First out of the way (at or above HIGH_FD), then to their numbers: one
            // dup2 can then never close the other's source.
            let mut moved = [-1i32; 3];
            for (i, (from, _)) in handed.iter().enumerate() {
                if let Some(fd) = from {
                    let r = libc::fcntl(*fd, libc::F_DUPFD, HIGH_FD);
                    if r < 0 {
                        return Err(io::Error::last_os_error());
                    }
                    moved[i] = r;
                }
            }
            for (i, (_, to)) in handed.iter().enumerate() {
                if moved[i] >= 0 {
                    if libc::dup2(moved[i], *to) < 0 {
                        return Err(io::Error::last_os_error());
                    }
                    libc::close(moved[i]);
                }
            }
            Ok(())
        });
    }
    let child = cmd.spawn()?;
    drop(notify);
    Ok(child.id() as i32)
}

/// The descriptor number a monitor's child finds the monitor channel on.
pub const IPC_FD: i32 = 3;

/// Who a monitor's child becomes before it runs (root only): supplementary groups,
/// group, user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// Supplementary groups (at most [`MAX_GROUPS`] are set).
    pub groups: Vec<u32>,
    /// The group.
    pub gid: u32,
    /// The user.
    pub uid: u32,
}

/// Starts a child of the monitor: `image` with `args`, the connection's socket as fds 0
/// and 1, the monitor channel `ipc` as [`IPC_FD`], the configuration as [`CONFIG_FD`],
/// stderr passed through; nothing else open. With `identity`, it becomes that user
/// (`setgroups`, `setgid`, `setuid`, then a check that root cannot be regained) before
/// the exec. Returns its pid.
pub fn spawn_monitor_child(
    image: &SessionImage,
    args: &[String],
    socket: (std::os::fd::BorrowedFd<'_>, std::os::fd::BorrowedFd<'_>),
    ipc: std::os::fd::BorrowedFd<'_>,
    config: std::os::fd::BorrowedFd<'_>,
    identity: Option<&Identity>,
) -> io::Result<i32> {
    if args.len() > MAX_SESSION_ARGS {
        return Err(invalid(format!("{} arguments", args.len())));
    }
    let mut cmd = image.command();
    cmd.args(args)
        .stdin(Stdio::from(socket.0.try_clone_to_owned()?))
        .stdout(Stdio::from(socket.1.try_clone_to_owned()?))
        .stderr(Stdio::inherit());
    let handed: [(i32, i32); 2] = [(ipc.as_raw_fd(), IPC_FD), (config.as_raw_fd(), CONFIG_FD)];
    let identity = identity.map(|id| {
        let mut groups: Vec<Gid> = id.groups.iter().map(|&g| Gid::from_raw(g)).collect();
        if groups.is_empty() {
            groups.push(Gid::from_raw(id.gid));
        }
        groups.truncate(MAX_GROUPS);
        (groups, Gid::from_raw(id.gid), Uid::from_raw(id.uid))
    });
    // SAFETY: as in `spawn_session_process_with`: only sigaction, sigprocmask,
    // close_range, fcntl, dup2, close, setgroups, setgid and setuid, on integers and on
    // the group list built before the fork; `ipc` and `config` outlive the fork, so
    // their descriptors are open in the child.
    unsafe {
        cmd.pre_exec(move || {
            reset_signals()?;
            mark_fds_cloexec();
            let mut moved = [-1i32; 2];
            for (i, (from, _)) in handed.iter().enumerate() {
                let r = libc::fcntl(*from, libc::F_DUPFD, HIGH_FD);
                if r < 0 {
                    return Err(io::Error::last_os_error());
                }
                moved[i] = r;
            }
            for (i, (_, to)) in handed.iter().enumerate() {
                if libc::dup2(moved[i], *to) < 0 {
                    return Err(io::Error::last_os_error());
                }
                libc::close(moved[i]);
            }
            if let Some((groups, gid, uid)) = &identity {
                switch_identity(groups, *gid, *uid)?;
            }
            Ok(())
        });
    }
    let child = cmd.spawn()?;
    Ok(child.id() as i32)
}

/// In the child, before exec: become `uid` for good (as OpenSSH's
/// `permanently_set_uid`). Async-signal-safe: three system calls and a check.
/// Makes `cmd` run as `identity`, with its supplementary groups (as initgroups(3)
/// sets them), switched to in the child before exec. Needs root.
pub fn run_as(cmd: &mut Command, identity: &Identity) {
    let mut groups: Vec<Gid> = identity.groups.iter().map(|&g| Gid::from_raw(g)).collect();
    if groups.is_empty() {
        groups.push(Gid::from_raw(identity.gid));
    }
    groups.truncate(MAX_GROUPS);
    let (gid, uid) = (Gid::from_raw(identity.gid), Uid::from_raw(identity.uid));
    // SAFETY: the closure runs in the forked child before exec and only makes the
    // setgroups, setgid and setuid system calls on data built before the fork.
    unsafe {
        cmd.pre_exec(move || switch_identity(&groups, gid, uid));
    }
}

fn switch_identity(groups: &[Gid], gid: Gid, uid: Uid) -> io::Result<()> {
    setgroups(groups)?;
    setgid(gid)?;
    setuid(uid)?;
    if !uid.is_root() && setuid(Uid::from_raw(0)).is_ok() {
        return Err(io::Error::from_raw_os_error(libc::EPERM));
    }
    Ok(())
}

/// In a process started as root: `chroot` into `dir` (checked first with
/// [`super::perms::chroot_path_ok`]), `chdir("/")` there, then become `identity` for
/// good. For `ChrootDirectory`, in the post-auth child before it touches the network.
pub fn chroot_and_become(dir: &Path, identity: &Identity) -> Result<(), String> {
    super::perms::chroot_path_ok(dir)?;
    nix::unistd::chroot(dir).map_err(|e| format!("chroot(\"{}\"): {e}", dir.display()))?;
    nix::unistd::chdir("/").map_err(|e| format!("chdir(\"/\") in the chroot: {e}"))?;
    let mut groups: Vec<Gid> = identity.groups.iter().map(|&g| Gid::from_raw(g)).collect();
    if groups.is_empty() {
        groups.push(Gid::from_raw(identity.gid));
    }
    groups.truncate(MAX_GROUPS);
    switch_identity(
        &groups,
        Gid::from_raw(identity.gid),
        Uid::from_raw(identity.uid),
    )
    .map_err(|e| format!("becoming uid {}: {e}", identity.uid))
}

/// In a monitor's child started by [`spawn_monitor_child`]: the monitor channel, if fd
/// [`IPC_FD`] is a socket. Call once, early.
pub fn take_ipc_socket() -> Option<std::os::unix::net::UnixStream> {
    take_fd(IPC_FD, libc::S_IFSOCK).map(std::os::unix::net::UnixStream::from)
}

/// Standard input and output as files of their own (duplicated descriptors), for the
/// connection's socket in inetd mode and in the monitor's children.
pub fn stdio_files() -> io::Result<(std::fs::File, std::fs::File)> {
    let input = std::io::stdin().as_fd().try_clone_to_owned()?;
    let output = std::io::stdout().as_fd().try_clone_to_owned()?;
    Ok((std::fs::File::from(input), std::fs::File::from(output)))
}

/// In a session process started by [`spawn_session_process_with`]: the notification
/// pipe, if fd [`STARTUP_NOTIFY_FD`] is one. Call once, early.
pub fn take_startup_notify() -> Option<std::fs::File> {
    take_fd(STARTUP_NOTIFY_FD, libc::S_IFIFO).map(std::fs::File::from)
}

/// Largest configuration taken from the listener.
const MAX_CONFIG_FD_BYTES: u64 = 32 * 1024 * 1024;

/// In a session process started by [`spawn_session_process_with`]: the bytes of the
/// listener's configuration, if fd [`CONFIG_FD`] is the memory file. Call once, early.
pub fn take_config_bytes() -> Option<Vec<u8>> {
    let fd = take_fd(CONFIG_FD, libc::S_IFREG)?;
    let file = std::fs::File::from(fd);
    let len = file.metadata().ok()?.len();
    if len > MAX_CONFIG_FD_BYTES {
        return None;
    }
    let mut buf = vec![0u8; len as usize];
    std::os::unix::fs::FileExt::read_exact_at(&file, &mut buf, 0).ok()?;
    Some(buf)
}

/// Largest server key file taken from the listener.
const MAX_SERVER_KEY_BYTES: u64 = 64 * 1024;

/// In a session process started by [`spawn_session_process_with`]: protocol 1's
/// server key file, if fd [`SERVER_KEY_FD`] is the memory file. Call once, early.
pub fn take_server_key_bytes() -> Option<zeroize::Zeroizing<Vec<u8>>> {
    let fd = take_fd(SERVER_KEY_FD, libc::S_IFREG)?;
    let file = std::fs::File::from(fd);
    let len = file.metadata().ok()?.len();
    if len > MAX_SERVER_KEY_BYTES {
        return None;
    }
    let mut buf = zeroize::Zeroizing::new(vec![0u8; len as usize]);
    std::os::unix::fs::FileExt::read_exact_at(&file, &mut buf, 0).ok()?;
    Some(buf)
}

/// Descriptor `fd` as an owned one (close-on-exec), when it is open and of type `kind`
/// (`S_IFIFO`, `S_IFREG`).
fn take_fd(fd: i32, kind: libc::mode_t) -> Option<OwnedFd> {
    // SAFETY: fstat only reads into a local struct.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: fstat on a descriptor number that may be closed just fails with EBADF.
    if unsafe { libc::fstat(fd, &mut st) } != 0 {
        return None;
    }
    if st.st_mode & libc::S_IFMT != kind {
        return None;
    }
    // SAFETY: `fd` is open (fstat succeeded) and is one the listener handed us; nothing
    // else in this process owns it: each is taken once, at start-up.
    let owned = unsafe { <OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(fd) };
    let _ = nix::fcntl::fcntl(
        owned.as_raw_fd(),
        nix::fcntl::FcntlArg::F_SETFD(nix::fcntl::FdFlag::FD_CLOEXEC),
    );
    Some(owned)
}

/// In the child: the default disposition for every standard signal (the daemon catches
/// some, and the Rust runtime ignores `SIGPIPE`; exec would keep the ignored ones), and
/// an empty signal mask. Async-signal-safe: no allocation, only sigaction/sigprocmask.
fn reset_signals() -> io::Result<()> {
    for sig in Signal::iterator() {
        if matches!(sig, Signal::SIGKILL | Signal::SIGSTOP) {
            continue;
        }
        // SAFETY: SIG_DFL installs no handler code.
        unsafe { signal(sig, SigHandler::SigDfl) }?;
    }
    sigprocmask(SigmaskHow::SIG_SETMASK, Some(&SigSet::empty()), None)?;
    Ok(())
}

/// In the child: mark every fd above 2 close-on-exec (`close_range(2)` with
/// `CLOSE_RANGE_CLOEXEC`), so no fd the daemon or a library forgot to mark leaks into a
/// user's process. Marking rather than closing keeps std's exec-error pipe working.
/// Kernels before 5.11 lack it; the daemon's own fds are close-on-exec regardless.
fn mark_fds_cloexec() {
    // SAFETY: close_range takes three integers and touches no memory of ours.
    unsafe {
        libc::syscall(
            libc::SYS_close_range,
            3 as libc::c_uint,
            libc::c_uint::MAX,
            libc::CLOSE_RANGE_CLOEXEC,
        );
    }
}
