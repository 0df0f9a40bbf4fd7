//! The pre-authentication sandbox: what the process that parses the network before
//! anyone has logged in may still do.
//!
//! [`enter`] applies, in this order and before the first byte from the network is
//! read: `chroot` into an empty root-owned directory (as root), the privilege
//! separation user's identity (`setgroups`, `setgid`, `setuid`, and a check that root
//! cannot be regained), `no_new_privs`, resource limits (no new files or processes, no
//! file growth, a few descriptors), then a seccomp allow-list of system calls built
//! with `seccompiler` (`mmap` and `mprotect` only without `PROT_EXEC`). A call outside
//! the list kills the process (`SIGSYS`); the
//! monitor sees that and logs it. As an ordinary user (no chroot, no user switch),
//! where the kernel has Landlock the process also loses every file-system access.
//!
//! What the list allows and why is [`ALLOWED`].

use std::ffi::CString;
use std::io;
use std::path::Path;

use nix::sys::resource::{setrlimit, Resource};
use nix::unistd::{chdir, chroot, setgid, setgroups, setuid, Gid, Uid};

/// The system calls the pre-auth child may make, each with the reason it needs it.
pub const ALLOWED: &[(i64, &str, &str)] = &[
    (
        libc::SYS_read,
        "read",
        "the network socket and the monitor channel",
    ),
    (
        libc::SYS_write,
        "write",
        "the network socket, the monitor channel, stderr",
    ),
    (libc::SYS_readv, "readv", "std's vectored reads"),
    (libc::SYS_writev, "writev", "std's vectored writes (stderr)"),
    (libc::SYS_recvmsg, "recvmsg", "monitor channel frames"),
    (libc::SYS_sendmsg, "sendmsg", "monitor channel frames"),
    (libc::SYS_recvfrom, "recvfrom", "std's socket reads"),
    (libc::SYS_sendto, "sendto", "std's socket writes"),
    (libc::SYS_poll, "poll", "the event loop"),
    (
        libc::SYS_ppoll,
        "ppoll",
        "the event loop (libc may use ppoll for poll)",
    ),
    (libc::SYS_close, "close", "dropping descriptors"),
    (libc::SYS_fcntl, "fcntl", "non-blocking mode of the socket"),
    (libc::SYS_brk, "brk", "the allocator"),
    (libc::SYS_mmap, "mmap", "the allocator (never PROT_EXEC)"),
    (libc::SYS_munmap, "munmap", "the allocator"),
    (
        libc::SYS_mremap,
        "mremap",
        "the allocator (growing buffers)",
    ),
    (
        libc::SYS_madvise,
        "madvise",
        "the allocator returning memory",
    ),
    (
        libc::SYS_mprotect,
        "mprotect",
        "the allocator (new heap arenas; never PROT_EXEC)",
    ),
    (libc::SYS_futex, "futex", "std's locks (the logger)"),
    (libc::SYS_getrandom, "getrandom", "key exchange randomness"),
    (
        libc::SYS_clock_gettime,
        "clock_gettime",
        "timers, when the vDSO is not used",
    ),
    (libc::SYS_getpid, "getpid", "the pid in log lines"),
    (libc::SYS_gettid, "gettid", "std's thread bookkeeping"),
    (
        libc::SYS_rt_sigprocmask,
        "rt_sigprocmask",
        "std around signal handling",
    ),
    (
        libc::SYS_rt_sigreturn,
        "rt_sigreturn",
        "returning from a signal handler",
    ),
    (
        libc::SYS_sigaltstack,
        "sigaltstack",
        "std's stack-overflow guard at exit",
    ),
    (libc::SYS_sched_yield, "sched_yield", "std's spin loops"),
    (
        libc::SYS_restart_syscall,
        "restart_syscall",
        "an interrupted wait",
    ),
    (libc::SYS_exit, "exit", "ending"),
    (libc::SYS_exit_group, "exit_group", "ending"),
];

/// Calls of [`ALLOWED`] that are allowed only without `PROT_EXEC` in their third
/// argument (`prot`): no new executable memory once the sandbox is on, so that an
/// attacker's bytes cannot be made into code.
pub const NO_EXEC_PROT: &[i64] = &[libc::SYS_mmap, libc::SYS_mprotect];

/// Descriptors the sandboxed process may have open at once (the socket twice, the
/// monitor channel, stderr, and a few spare).
pub const MAX_OPEN_FILES: u64 = 16;

/// What [`enter`] does.
#[derive(Debug, Clone)]
pub struct Plan<'a> {
    /// `chroot` here (root only): an empty directory owned by root, not writable by
    /// anyone else.
    pub chroot: Option<&'a Path>,
    /// Become this user and group (root only).
    pub identity: Option<(u32, u32)>,
    /// Install the seccomp allow-list.
    pub seccomp: bool,
}

/// Applies `plan` to this process, for good. `Err` says which step failed; the caller
/// must then not go on.
pub fn enter(plan: &Plan<'_>) -> Result<(), String> {
    if let Some(dir) = plan.chroot {
        check_empty_root_dir(dir)?;
        let c = CString::new(dir.as_os_str().as_encoded_bytes())
            .map_err(|_| "NUL in the chroot path".to_string())?;
        chroot(c.as_c_str()).map_err(|e| format!("chroot {}: {e}", dir.display()))?;
        chdir("/").map_err(|e| format!("chdir / in the chroot: {e}"))?;
    }
    if let Some((uid, gid)) = plan.identity {
        let gid = Gid::from_raw(gid);
        setgroups(&[gid]).map_err(|e| format!("setgroups: {e}"))?;
        setgid(gid).map_err(|e| format!("setgid: {e}"))?;
        setuid(Uid::from_raw(uid)).map_err(|e| format!("setuid: {e}"))?;
        if uid != 0 && setuid(Uid::from_raw(0)).is_ok() {
            return Err("root could be regained after setuid".into());
        }
    }
    nix::sys::prctl::set_no_new_privs().map_err(|e| format!("no_new_privs: {e}"))?;
    for (res, limit) in [
        (Resource::RLIMIT_NOFILE, MAX_OPEN_FILES),
        (Resource::RLIMIT_NPROC, 0),
        (Resource::RLIMIT_FSIZE, 0),
    ] {
        setrlimit(res, limit, limit).map_err(|e| format!("setrlimit {res:?}: {e}"))?;
    }
    if plan.chroot.is_none() {
        landlock_no_files();
    }
    if plan.seccomp {
        install_seccomp()?;
    }
    Ok(())
}

/// The chroot directory must exist, be a directory owned by root, writable by root
/// only, and empty (OpenSSH asks the same of its privilege separation directory).
fn check_empty_root_dir(dir: &Path) -> Result<(), String> {
    use std::os::unix::fs::MetadataExt;
    let m = std::fs::metadata(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    if !m.is_dir() || m.uid() != 0 || m.mode() & 0o022 != 0 {
        return Err(format!(
            "{} must be a directory owned by root and not group or world writable",
            dir.display()
        ));
    }
    let mut entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    if entries.next().is_some() {
        return Err(format!("{} must be empty", dir.display()));
    }
    Ok(())
}

/// Where the kernel has Landlock: no file-system access at all from here on (best
/// effort; an older kernel leaves this step out, and seccomp still forbids `open`).
fn landlock_no_files() {
    use landlock::{Access, AccessFs, Ruleset, RulesetAttr, ABI};
    let abi = ABI::V2;
    let _ = Ruleset::default()
        .handle_access(AccessFs::from_all(abi))
        .and_then(|r| r.create())
        .and_then(|r| r.restrict_self());
}

/// The allow-list as a BPF program, then installed: a call outside it kills the
/// process.
fn install_seccomp() -> Result<(), String> {
    use seccompiler::{BpfProgram, SeccompAction, SeccompFilter};
    use seccompiler::{SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompRule};
    let no_exec = || -> Result<Vec<SeccompRule>, String> {
        let prot_has_no_exec = SeccompCondition::new(
            2,
            SeccompCmpArgLen::Dword,
            SeccompCmpOp::MaskedEq(libc::PROT_EXEC as u64),
            0,
        )
        .map_err(|e| format!("seccomp condition: {e}"))?;
        let rule =
            SeccompRule::new(vec![prot_has_no_exec]).map_err(|e| format!("seccomp rule: {e}"))?;
        Ok(vec![rule])
    };
    let mut rules = std::collections::BTreeMap::new();
    for (nr, _, _) in ALLOWED {
        let conditions = if NO_EXEC_PROT.contains(nr) {
            no_exec()?
        } else {
            Vec::new()
        };
        rules.insert(*nr, conditions);
    }
    let arch = std::env::consts::ARCH
        .try_into()
        .map_err(|e| format!("seccomp: {e:?}"))?;
    let filter = SeccompFilter::new(
        rules.into_iter().collect(),
        SeccompAction::KillProcess,
        SeccompAction::Allow,
        arch,
    )
    .map_err(|e| format!("seccomp filter: {e}"))?;
    let prog: BpfProgram = filter
        .try_into()
        .map_err(|e: seccompiler::BackendError| format!("seccomp program: {e}"))?;
    seccompiler::apply_filter(&prog).map_err(|e| format!("seccomp: {e}"))
}

/// A system call the sandbox forbids, for the test that checks the kill (never
/// returns when seccomp is on: the process dies first). `what` is `exec` for a mapping
/// of executable memory, anything else for opening a file.
pub fn forbidden_call(what: &str) -> io::Result<()> {
    if what.trim() != "exec" {
        return std::fs::File::open("/etc/passwd").map(drop);
    }
    const LEN: usize = 4096;
    // SAFETY: an anonymous private mapping with no address hint, never read, written
    // or executed, and unmapped at once; no existing memory is touched.
    let p = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            LEN,
            libc::PROT_READ | libc::PROT_EXEC,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        )
    };
    if p == libc::MAP_FAILED {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `p` is the mapping of LEN bytes made just above, used by nothing.
    unsafe { libc::munmap(p, LEN) };
    Ok(())
}
