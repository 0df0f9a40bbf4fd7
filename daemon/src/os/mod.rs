//! # The OS layer: users, terminals, processes, signals and file permissions
//!
//! Everything the daemon asks of the operating system goes through this module, so that
//! the rest of the crate (and every protocol crate) stays free of `unsafe` and of raw
//! file descriptors. It owns:
//!
//! - [`user`]: the password and group databases (`getpwnam_r`, `getgrouplist`);
//! - [`sandbox`]: the pre-authentication sandbox (chroot, privilege separation user,
//!   `no_new_privs`, resource limits, Landlock, a seccomp allow-list);
//! - [`shadow`]: whether an account is locked or expired, and its password hash
//!   (`getspnam_r`);
//! - [`crypt`]: password hashes through the system's crypt(3) (`crypt_rn`);
//! - [`pam`]: PAM transactions (Linux-PAM), each on a thread of its own;
//! - [`resolve`]: verified host names of addresses (`getnameinfo`);
//! - [`utmp`]: login records in utmp, wtmp and lastlog;
//! - [`pty`]: pseudo-terminals (`/dev/ptmx`), window sizes and tty ownership;
//! - [`term_modes`]: RFC 4254 §8 encoded terminal modes applied to a termios;
//! - [`process`]: starting shells and commands as a user, with pipes or a pty, and
//!   re-executing the daemon for a session;
//! - [`rc`]: `~/.ssh/rc` and `/etc/ssh/sshrc`, run in the session's child before its
//!   shell;
//! - [`wait`]: child exit status (`waitpid`) and RFC 4254 §6.10 signal names;
//! - [`poll`]: readiness over a small set of fds (`poll(2)`) and non-blocking mode;
//! - [`signals`]: signals turned into readable bytes on a self-pipe;
//! - [`system`]: detaching (`daemon(3)`), pid files and the host name;
//! - [`userfile`]: reading a user's file (`authorized_keys`) safely: as the user,
//!   without following a final link or blocking, checked on the open descriptor;
//! - [`perms`]: OpenSSH-style `StrictModes` path checks and private-key mode checks.
//!
//! ## Why `unsafe` appears here, and only here
//!
//! Each `unsafe` block carries a `// SAFETY:` comment. They are needed for:
//!
//! - the code that runs in a forked child before `exec` ([`std::os::unix::process::CommandExt::pre_exec`]):
//!   it must be async-signal-safe, so it is prepared (every string, the group list) before
//!   the fork and only makes system calls inside;
//! - the signal handler of [`signals::SignalPipe`], which is a plain `extern "C"` function
//!   writing one byte with `write(2)`, and installing it with `sigaction(2)`;
//! - `getspnam_r`, which fills a C struct with pointers into a caller's buffer;
//! - `crypt_rn`, which hashes into a caller's buffer and returns a pointer into it;
//! - PAM's calls, and the conversation function it calls back with C arrays whose
//!   answers must be `malloc`'d ([`pam`]);
//! - `getnameinfo`, which writes a host name into a caller's buffer ([`resolve`]);
//! - `pututxline` and `updwtmpx`, which take a pointer to a C login record ([`utmp`]);
//! - ioctls and calls that take raw pointers to local structs (`TIOCSWINSZ`,
//!   `TIOCGWINSZ`, `TIOCSCTTY`, `tcgetattr`/`tcsetattr`, `poll`);
//! - taking ownership of the pty master fd that `posix_openpt` returns.
//!
//! Every fd this module opens is close-on-exec; children get only fds 0, 1 and 2.
//!
//! ```
//! use sisu_daemon::os;
//! let root = os::lookup_user("root").unwrap().expect("root exists");
//! assert_eq!(root.uid, 0);
//! assert!(root.groups.contains(&root.gid));
//! assert!(os::lookup_user("no such user\n").unwrap().is_none());
//! assert!(!os::hostname().is_empty());
//! ```

pub mod crypt;
pub mod pam;
pub mod perms;
pub mod poll;
pub mod process;
pub mod pty;
pub mod rc;
pub mod resolve;
pub mod sandbox;
pub mod shadow;
pub mod signals;
pub mod system;
pub mod term_modes;
pub mod user;
pub mod userfile;
pub mod utmp;
pub mod wait;

pub use perms::{chroot_path_ok, private_key_mode_ok, secure_path};
pub use poll::{poll_fds, set_nonblocking, PollEntry, MAX_POLL_FDS};
pub use process::{
    chroot_and_become, config_memfd, server_key_memfd, spawn, spawn_monitor_child,
    spawn_session_process, spawn_session_process_with, stdio_files, take_config_bytes,
    take_ipc_socket, take_server_key_bytes, take_startup_notify, Child, Identity, SessionImage,
    SpawnRequest, CONFIG_FD, IPC_FD, SERVER_KEY_FD, STARTUP_NOTIFY_FD,
};
pub use pty::{chown_tty, get_winsize, open_pty, release_tty, set_winsize, Pty, WinSize};
pub use shadow::{account_status, stored_password, AccountStatus};
pub use signals::{ignore_sigpipe, SignalPipe};
pub use system::{
    daemonize, hostname, set_process_name, write_pid_file, MONITOR_NAME, POSTAUTH_NAME,
    PREAUTH_NAME,
};
pub use term_modes::apply_terminal_modes;
pub use user::{current_user, is_root, lookup_user, UserInfo};
pub use userfile::{read_user_file, UserFileError, MAX_USER_FILE_BYTES};
pub use wait::{reap_children, signal_by_name, try_wait, ExitKind};

/// Takes ownership of a descriptor the kernel just installed in this process for a
/// received `SCM_RIGHTS` message.
pub fn own_received_fd(fd: std::os::fd::RawFd) -> std::os::fd::OwnedFd {
    // SAFETY: `fd` was just received with SCM_RIGHTS (recvmsg put it in this process's
    // table for this message); nothing else refers to it, so it is owned once, here.
    unsafe { <std::os::fd::OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(fd) }
}

#[cfg(test)]
mod tests;
