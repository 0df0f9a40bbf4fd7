//! sshd(8)'s rc files: `~/.ssh/rc` (when `PermitUserRC` and the key allow it), else
//! the system's `/etc/ssh/sshrc`, run before the user's shell or command as
//! `$SHELL -c '/bin/sh FILE'`, as the user, in the session's environment and working
//! directory, with the session's stdout and stderr; its stdin is empty, or with X11
//! forwarded the line `PROTOCOL COOKIE`, as OpenSSH writes it. With X11 forwarded and
//! no rc file, `xauth -q -` stores the cookie instead (`remove` and `add` lines).
//!
//! [`RcFiles`] is built before the session's fork (every string, the argument and
//! environment vectors' contents); [`RcFiles::run`] runs in the forked child before
//! its exec and makes only system calls: `stat`, `pipe2`, a raw `clone` (no `fork()`
//! handlers, which could wait for a lock another thread held at the first fork),
//! `open`, `dup2`, `write`, `close`, `execve`, `waitpid` and `_exit`.

use std::ffi::{c_char, CString};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// The user's rc file, relative to the home directory (the session's working
/// directory), as OpenSSH's `_PATH_SSH_USER_RC`.
pub const USER_RC: &str = ".ssh/rc";
/// The system's rc file, OpenSSH's `_PATH_SSH_SYSTEM_RC` (shared with an OpenSSH
/// installation, as `/etc/motd` and `/etc/hosts.allow` are).
pub const SYSTEM_RC: &str = "/etc/ssh/sshrc";
/// Most environment variables handed to the rc file's shell.
const MAX_ENV: usize = super::process::MAX_ENV_VARS;

/// A forwarded X11 display's cookie, for the rc file or xauth.
#[derive(Clone, Debug)]
pub struct X11Cookie {
    /// `XAuthLocation`.
    pub xauth: std::path::PathBuf,
    /// The display as xauth names it (`unix:10.0`).
    pub auth_display: String,
    /// `MIT-MAGIC-COOKIE-1`.
    pub protocol: String,
    /// The cookie in hexadecimal.
    pub cookie: String,
}

/// What runs for X11, prepared before the fork.
struct X11Run {
    xauth: CString,
    dash_q: CString,
    dash: CString,
    /// The rc file's stdin: `PROTOCOL COOKIE\n`.
    rc_input: Vec<u8>,
    /// xauth's stdin: `remove DISPLAY\nadd DISPLAY PROTOCOL COOKIE\n`.
    xauth_input: Vec<u8>,
}

/// An rc file run, prepared before the fork.
pub struct RcFiles {
    /// Whether `~/.ssh/rc` may run.
    user_rc: bool,
    user_path: CString,
    system_path: CString,
    shell: CString,
    argv0: CString,
    /// `-c` and the two commands (`/bin/sh .ssh/rc`, `/bin/sh /etc/ssh/sshrc`).
    dash_c: CString,
    user_cmd: CString,
    system_cmd: CString,
    env: Vec<CString>,
    x11: Option<X11Run>,
}

impl RcFiles {
    /// For a session of `shell` (its argv\[0\] `argv0`) with `env`; `user_rc`: the
    /// user's own file may run (`PermitUserRC`, no `no-user-rc`, no forced command of
    /// the administrator's, not a subsystem). `None` when a string holds a NUL.
    pub fn new(
        user_rc: bool,
        shell: &Path,
        argv0: &std::ffi::OsStr,
        env: &[(String, String)],
        x11: Option<&X11Cookie>,
    ) -> Option<RcFiles> {
        let c = |s: &[u8]| CString::new(s).ok();
        let env = env
            .iter()
            .take(MAX_ENV)
            .map(|(k, v)| c(format!("{k}={v}").as_bytes()))
            .collect::<Option<Vec<_>>>()?;
        let x11 = match x11 {
            Some(x) => Some(X11Run {
                xauth: c(x.xauth.as_os_str().as_bytes())?,
                dash_q: c(b"-q")?,
                dash: c(b"-")?,
                rc_input: format!("{} {}\n", x.protocol, x.cookie).into_bytes(),
                xauth_input: format!(
                    "remove {d}\nadd {d} {} {}\n",
                    x.protocol,
                    x.cookie,
                    d = x.auth_display
                )
                .into_bytes(),
            }),
            None => None,
        };
        Some(RcFiles {
            user_rc,
            user_path: c(USER_RC.as_bytes())?,
            system_path: c(SYSTEM_RC.as_bytes())?,
            shell: c(shell.as_os_str().as_bytes())?,
            argv0: c(argv0.as_bytes())?,
            dash_c: c(b"-c")?,
            user_cmd: c(format!("/bin/sh {USER_RC}").as_bytes())?,
            system_cmd: c(format!("/bin/sh {SYSTEM_RC}").as_bytes())?,
            env,
            x11,
        })
    }

    /// In the forked child, after it became the user and entered its directory: runs
    /// the rc file that exists, and waits for it. Nothing happens when neither does.
    pub fn run(&self) {
        let exists = |p: &CString| {
            // SAFETY: stat(2) on a NUL-terminated path into a local struct.
            let mut st: libc::stat = unsafe { std::mem::zeroed() };
            unsafe { libc::stat(p.as_ptr(), &mut st) == 0 }
        };
        let cmd = if self.user_rc && exists(&self.user_path) {
            Some(&self.user_cmd)
        } else if exists(&self.system_path) {
            Some(&self.system_cmd)
        } else {
            None
        };
        let mut envp: [*const c_char; MAX_ENV + 1] = [std::ptr::null(); MAX_ENV + 1];
        for (slot, e) in envp.iter_mut().zip(&self.env) {
            *slot = e.as_ptr();
        }
        match (cmd, &self.x11) {
            (Some(cmd), x11) => {
                let argv = [
                    self.argv0.as_ptr(),
                    self.dash_c.as_ptr(),
                    cmd.as_ptr(),
                    std::ptr::null(),
                ];
                let input = x11.as_ref().map(|x| x.rc_input.as_slice());
                run_with_input(&self.shell, &argv, &envp, input);
            }
            (None, Some(x)) => {
                let argv = [
                    x.xauth.as_ptr(),
                    x.dash_q.as_ptr(),
                    x.dash.as_ptr(),
                    std::ptr::null(),
                ];
                run_with_input(&x.xauth, &argv, &envp, Some(&x.xauth_input));
            }
            (None, None) => {}
        }
    }
}

/// Runs `path` with `argv` and `envp` and waits for it; its stdin is `input` through a
/// pipe (small enough to fit the pipe's buffer), or `/dev/null`.
fn run_with_input(
    path: &CString,
    argv: &[*const c_char; 4],
    envp: &[*const c_char; MAX_ENV + 1],
    input: Option<&[u8]>,
) {
    // SAFETY: pipe2(2) into a local array; a raw clone(SIGCHLD) is fork(2) without the
    // C library's fork handlers. The new process only moves a descriptor to fd 0 and
    // execs (or exits): every pointer is to data that lives in this process's memory,
    // copied into the new one. The parent writes at most a few hundred bytes, which a
    // pipe holds without a reader, then waits.
    unsafe {
        let mut fds = [-1i32; 2];
        if input.is_some() && libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) != 0 {
            return;
        }
        let pid = libc::syscall(libc::SYS_clone, libc::SIGCHLD as libc::c_ulong, 0, 0, 0, 0);
        if pid == 0 {
            let fd = if input.is_some() {
                fds[0]
            } else {
                libc::open(c"/dev/null".as_ptr(), libc::O_RDONLY)
            };
            if fd > 0 {
                libc::dup2(fd, 0);
                libc::close(fd);
            }
            libc::execve(path.as_ptr(), argv.as_ptr(), envp.as_ptr());
            libc::_exit(127);
        }
        if let Some(bytes) = input {
            libc::close(fds[0]);
            if pid > 0 {
                super::process::write_all_fd(fds[1], bytes);
            }
            libc::close(fds[1]);
        }
        if pid < 0 {
            return;
        }
        let mut status = 0;
        loop {
            let r = libc::waitpid(pid as libc::pid_t, &mut status, 0);
            if r >= 0 || *libc::__errno_location() != libc::EINTR {
                break;
            }
        }
    }
}
