//! sshd(8)'s rc files: `~/.ssh/rc` (when `PermitUserRC` and the key allow it), else
//! the system's `/etc/ssh/sshrc`, run before the user's shell or command as
//! `$SHELL -c '/bin/sh FILE'`, as the user, in the session's environment and working
//! directory, with the session's stdout and stderr and an empty stdin (OpenSSH writes
//! the X11 cookie there when X11 is forwarded; Sisu has no X11 forwarding yet).
//!
//! [`RcFiles`] is built before the session's fork (every string, the argument and
//! environment vectors' contents); [`RcFiles::run`] runs in the forked child before
//! its exec and makes only system calls: `stat`, a raw `clone` (no `fork()` handlers,
//! which could wait for a lock another thread held at the first fork), `open`, `dup2`,
//! `execve`, `waitpid` and `_exit`.

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
    ) -> Option<RcFiles> {
        let c = |s: &[u8]| CString::new(s).ok();
        let env = env
            .iter()
            .take(MAX_ENV)
            .map(|(k, v)| c(format!("{k}={v}").as_bytes()))
            .collect::<Option<Vec<_>>>()?;
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
            &self.user_cmd
        } else if exists(&self.system_path) {
            &self.system_cmd
        } else {
            return;
        };
        let argv: [*const c_char; 4] = [
            self.argv0.as_ptr(),
            self.dash_c.as_ptr(),
            cmd.as_ptr(),
            std::ptr::null(),
        ];
        let mut envp: [*const c_char; MAX_ENV + 1] = [std::ptr::null(); MAX_ENV + 1];
        for (slot, e) in envp.iter_mut().zip(&self.env) {
            *slot = e.as_ptr();
        }
        // SAFETY: a raw clone(SIGCHLD) is fork(2) without the C library's fork
        // handlers. The new process only opens /dev/null, moves it to fd 0 and execs
        // (or exits): every pointer is to data that lives in this process's memory,
        // copied into the new one.
        unsafe {
            let pid = libc::syscall(libc::SYS_clone, libc::SIGCHLD as libc::c_ulong, 0, 0, 0, 0);
            if pid == 0 {
                let null = libc::open(c"/dev/null".as_ptr(), libc::O_RDONLY);
                if null > 0 {
                    libc::dup2(null, 0);
                    libc::close(null);
                }
                libc::execve(self.shell.as_ptr(), argv.as_ptr(), envp.as_ptr());
                libc::_exit(127);
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
}
