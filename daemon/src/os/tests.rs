//! Tests of the OS layer against the real kernel: processes, ptys, signals, permissions.
//!
//! Tests that start children hold [`CHILDREN`], so that `reap_children` (which waits for
//! any child) cannot collect another test's child.

use std::fs;
use std::io::{Read, Write};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::*;

static CHILDREN: Mutex<()> = Mutex::new(());
const DEADLINE: Duration = Duration::from_secs(20);

fn children() -> MutexGuard<'static, ()> {
    CHILDREN.lock().unwrap_or_else(|e| e.into_inner())
}

/// The current user, with `/bin/sh` as shell so the tests do not depend on root's shell.
fn me() -> UserInfo {
    let mut user = current_user().unwrap();
    user.shell = PathBuf::from("/bin/sh");
    user
}

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn base_env() -> Vec<(String, String)> {
    env(&[("PATH", "/usr/local/bin:/usr/bin:/bin")])
}

fn request<'a>(
    user: &'a UserInfo,
    command: Option<&'a [u8]>,
    env: &'a [(String, String)],
    pty: Option<&'a Pty>,
    cwd: &'a Path,
) -> SpawnRequest<'a> {
    SpawnRequest {
        user,
        switch_user: false,
        command,
        env,
        pty,
        cwd,
        greeting: None,
        refusal: None,
        user_rc: false,
        x11: None,
    }
}

/// Read each fd to end of file (or `EIO`, a pty master whose slave is gone).
fn read_all(fds: &[&OwnedFd]) -> Vec<Vec<u8>> {
    let mut out = vec![Vec::new(); fds.len()];
    let mut open: Vec<bool> = vec![true; fds.len()];
    let start = Instant::now();
    while open.iter().any(|o| *o) {
        assert!(start.elapsed() < DEADLINE, "child output did not end");
        let mut entries: Vec<PollEntry> = fds
            .iter()
            .zip(&open)
            .map(|(fd, o)| PollEntry::new(if *o { fd.as_raw_fd() } else { -1 }, true, false))
            .collect();
        poll_fds(&mut entries, Some(Duration::from_millis(200))).unwrap();
        for (i, e) in entries.iter().enumerate() {
            if !open[i] || !(e.readable || e.hangup) {
                continue;
            }
            let mut buf = [0u8; 4096];
            match nix::unistd::read(fds[i].as_raw_fd(), &mut buf) {
                Ok(0) | Err(nix::errno::Errno::EIO) => open[i] = false,
                Ok(n) => out[i].extend_from_slice(&buf[..n]),
                Err(nix::errno::Errno::EAGAIN) => {}
                Err(e) => panic!("read: {e}"),
            }
        }
    }
    out
}

/// Read a pty master until `needle` has appeared.
fn read_until(master: &OwnedFd, seen: &mut Vec<u8>, needle: &str) {
    let start = Instant::now();
    while !String::from_utf8_lossy(seen).contains(needle) {
        assert!(
            start.elapsed() < DEADLINE,
            "no {needle:?} in {:?}",
            String::from_utf8_lossy(seen)
        );
        let mut entries = [PollEntry::new(master.as_raw_fd(), true, false)];
        poll_fds(&mut entries, Some(Duration::from_millis(200))).unwrap();
        let mut buf = [0u8; 4096];
        match nix::unistd::read(master.as_raw_fd(), &mut buf) {
            Ok(n) => seen.extend_from_slice(&buf[..n]),
            Err(nix::errno::Errno::EAGAIN) => {}
            Err(e) => panic!("read: {e} after {:?}", String::from_utf8_lossy(seen)),
        }
    }
}

fn wait_exit(pid: i32) -> ExitKind {
    let start = Instant::now();
    loop {
        if let Some(kind) = try_wait(pid).unwrap() {
            return kind;
        }
        assert!(start.elapsed() < DEADLINE, "child {pid} did not exit");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Run a command with pipes and no input; (stdout, stderr, exit).
fn run(
    user: &UserInfo,
    cmd: &str,
    env: &[(String, String)],
    cwd: &Path,
) -> (String, String, ExitKind) {
    let child = spawn(&request(user, Some(cmd.as_bytes()), env, None, cwd)).unwrap();
    drop(child.stdin);
    let out = read_all(&[
        child.stdout.as_ref().unwrap(),
        child.stderr.as_ref().unwrap(),
    ]);
    let text = |b: &Vec<u8>| String::from_utf8_lossy(b).into_owned();
    (text(&out[0]), text(&out[1]), wait_exit(child.pid))
}

struct TempDir(PathBuf);

impl TempDir {
    fn new() -> TempDir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let path = std::env::temp_dir().join(format!(
            "sisu-os-test-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        fs::create_dir(&path).unwrap();
        TempDir(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn chmod(path: &Path, mode: u32) {
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
}

// ---- users -------------------------------------------------------------------------

#[test]
fn lookup_user_finds_root_and_not_strangers() {
    let root = lookup_user("root").unwrap().unwrap();
    assert_eq!((root.uid, root.gid, root.name.as_str()), (0, 0, "root"));
    assert!(root.groups.contains(&0));
    assert_eq!(lookup_user("sisu-no-such-user").unwrap(), None);
    assert_eq!(lookup_user("").unwrap(), None);
    assert_eq!(lookup_user("a\0b").unwrap(), None);
    assert_eq!(lookup_user(&"x".repeat(5000)).unwrap(), None);
    let me = current_user().unwrap();
    assert_eq!(me.uid, nix::unistd::getuid().as_raw());
    assert_eq!(is_root(), me.uid == 0 && nix::unistd::geteuid().is_root());
}

// ---- processes with pipes ------------------------------------------------------------

#[test]
fn spawn_with_pipes_separates_stdout_stderr_and_reports_exit() {
    let _g = children();
    let user = me();
    let (out, err, exit) = run(
        &user,
        "echo out; echo err >&2; exit 3",
        &base_env(),
        Path::new("/"),
    );
    assert_eq!(out, "out\n");
    assert_eq!(err, "err\n");
    assert_eq!(exit, ExitKind::Exited(3));
}

#[test]
fn spawn_gives_exactly_the_environment_and_directory_asked() {
    let _g = children();
    let user = me();
    let dir = TempDir::new();
    let vars = env(&[("PATH", "/usr/bin:/bin"), ("SISU_TEST", "a b=c")]);
    let (out, _, exit) = run(
        &user,
        "echo \"$SISU_TEST|${HOME-unset}\"; pwd",
        &vars,
        &dir.0,
    );
    assert_eq!(exit, ExitKind::Exited(0));
    let real = dir.0.canonicalize().unwrap();
    assert_eq!(out, format!("a b=c|unset\n{}\n", real.display()));
    // A missing directory falls back to /.
    let (out, _, _) = run(&user, "pwd", &vars, Path::new("/nonexistent/sisu"));
    assert_eq!(out, "/\n");
}

#[test]
fn spawn_rejects_bad_input_before_forking() {
    let user = me();
    let vars = base_env();
    let cwd = Path::new("/");
    let bad_cmd: &[u8] = b"echo a\0b";
    let err = spawn(&request(&user, Some(bad_cmd), &vars, None, cwd)).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    let long = vec![b'x'; process::MAX_COMMAND_LEN + 1];
    let err = spawn(&request(&user, Some(&long), &vars, None, cwd)).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    let bad_env = env(&[("A=B", "c")]);
    let err = spawn(&request(&user, Some(b"true"), &bad_env, None, cwd)).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
}

#[test]
fn spawn_login_shell_reads_stdin_with_dash_argv0() {
    let _g = children();
    let user = me();
    let vars = base_env();
    let child = spawn(&request(&user, None, &vars, None, Path::new("/"))).unwrap();
    let stdin = child.stdin.unwrap();
    let mut stdin = fs::File::from(stdin);
    stdin.write_all(b"echo \"argv0=$0\"; exit 5\n").unwrap();
    drop(stdin);
    let out = read_all(&[
        child.stdout.as_ref().unwrap(),
        child.stderr.as_ref().unwrap(),
    ]);
    assert_eq!(String::from_utf8_lossy(&out[0]), "argv0=-sh\n");
    assert_eq!(wait_exit(child.pid), ExitKind::Exited(5));
}

#[test]
fn child_gets_only_stdio_and_default_sigpipe() {
    let _g = children();
    let user = me();
    // An fd without close-on-exec, as a careless library might leave one.
    let leaked = nix::fcntl::fcntl(
        std::io::stdout().as_raw_fd(),
        nix::fcntl::FcntlArg::F_DUPFD(100),
    )
    .unwrap();
    // `$$` is the shell itself; no pipeline, so it holds only the inherited fds.
    let (out, _, exit) = run(
        &user,
        "ls /proc/$$/fd; grep SigIgn /proc/$$/status",
        &base_env(),
        Path::new("/"),
    );
    nix::unistd::close(leaked).unwrap();
    assert_eq!(exit, ExitKind::Exited(0));
    let fds: Vec<i32> = out.lines().filter_map(|l| l.parse().ok()).collect();
    assert_eq!(fds, [0, 1, 2], "{out}");
    let sig_ign = out.lines().find_map(|l| l.strip_prefix("SigIgn:")).unwrap();
    let ignored = u64::from_str_radix(sig_ign.trim(), 16).unwrap();
    // SIGPIPE (13) must not be ignored: bit 12 of SigIgn.
    assert_eq!(ignored & (1 << 12), 0, "SIGPIPE ignored in child");
    assert_eq!(ignored & 0x7fff_ffff, 0, "no standard signal ignored");
}

#[test]
fn signal_by_name_terminates_and_exit_signal_is_named() {
    let _g = children();
    let user = me();
    let vars = base_env();
    let child = spawn(&request(
        &user,
        Some(b"exec sleep 30"),
        &vars,
        None,
        Path::new("/"),
    ))
    .unwrap();
    assert_eq!(try_wait(child.pid).unwrap(), None, "still running");
    signal_by_name(child.pid, "TERM").unwrap();
    assert_eq!(
        wait_exit(child.pid),
        ExitKind::Signaled {
            signal: "TERM".into(),
            core_dumped: false
        }
    );
    let err = signal_by_name(child.pid, "SIGTERM").unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    assert!(
        signal_by_name(0, "TERM").is_err(),
        "pid 0 is a process group"
    );
    assert!(signal_by_name(-1, "KILL").is_err(), "pid -1 is everyone");
    assert!(try_wait(-1).is_err());
}

#[test]
fn signal_names_follow_rfc4254() {
    for name in [
        "ABRT", "ALRM", "FPE", "HUP", "ILL", "INT", "KILL", "PIPE", "QUIT", "SEGV", "TERM", "USR1",
        "USR2",
    ] {
        let sig = wait::signal_from_name(name).unwrap();
        assert_eq!(wait::signal_name(sig), name);
    }
    assert_eq!(wait::signal_from_name("WINCH"), None);
    assert_eq!(wait::signal_name(nix::sys::signal::Signal::SIGXCPU), "XCPU");
}

#[test]
fn reap_children_collects_every_exited_child() {
    let _g = children();
    let user = me();
    let vars = base_env();
    let mut pids: Vec<i32> = (0..3)
        .map(|i| {
            let cmd = format!("exit {}", 10 + i);
            spawn(&request(
                &user,
                Some(cmd.as_bytes()),
                &vars,
                None,
                Path::new("/"),
            ))
            .unwrap()
            .pid
        })
        .collect();
    let mut reaped = Vec::new();
    let start = Instant::now();
    while reaped.len() < pids.len() {
        assert!(start.elapsed() < DEADLINE, "reaped only {reaped:?}");
        reaped.extend(reap_children());
        std::thread::sleep(Duration::from_millis(5));
    }
    reaped.sort_by_key(|(pid, _)| *pid);
    pids.sort();
    let got: Vec<i32> = reaped.iter().map(|(p, _)| *p).collect();
    assert_eq!(got, pids);
    for (_, kind) in &reaped {
        assert!(matches!(kind, ExitKind::Exited(10..=12)), "{kind:?}");
    }
    assert!(reap_children().is_empty());
}

#[test]
fn session_process_gets_the_socket_as_stdin_and_stdout() {
    let _g = children();
    let (ours, theirs) = UnixStream::pair().unwrap();
    let args = vec!["-c".to_string(), "read x; echo \"session $x\"".to_string()];
    let pid = spawn_session_process(Path::new("/bin/sh"), &args, OwnedFd::from(theirs)).unwrap();
    let mut ours = ours;
    ours.set_read_timeout(Some(DEADLINE)).unwrap();
    ours.write_all(b"hello\n").unwrap();
    let mut reply = String::new();
    ours.read_to_string(&mut reply).unwrap();
    assert_eq!(reply, "session hello\n");
    assert_eq!(wait_exit(pid), ExitKind::Exited(0));
}

// ---- ptys ----------------------------------------------------------------------------

#[test]
fn pty_spawn_has_controlling_tty_and_follows_window_changes() {
    let _g = children();
    let user = me();
    let vars = env(&[("PATH", "/usr/bin:/bin"), ("TERM", "xterm")]);
    let pty = open_pty(WinSize::from_wire(80, 24, 640, 480)).unwrap();
    assert!(pty.tty_name.starts_with("/dev/pts/"), "{}", pty.tty_name);
    assert_eq!(
        get_winsize(pty.slave.as_fd()).unwrap(),
        WinSize {
            cols: 80,
            rows: 24,
            width_px: 640,
            height_px: 480
        }
    );
    let script = b"tty; (: </dev/tty) && echo CTTY_OK; stty size; read x; stty size; exit 4";
    let child = spawn(&request(
        &user,
        Some(script),
        &vars,
        Some(&pty),
        Path::new("/"),
    ))
    .unwrap();
    assert!(child.stdin.is_none() && child.stdout.is_none() && child.stderr.is_none());
    let Pty {
        master,
        slave,
        tty_name,
        ..
    } = pty;
    drop(slave); // the child holds the only copies now
    set_nonblocking(master.as_fd()).unwrap();
    let mut seen = Vec::new();
    read_until(&master, &mut seen, "24 80");
    set_winsize(master.as_fd(), WinSize::from_wire(100, 40, 0, 0)).unwrap();
    nix::unistd::write(&master, b"go\n").unwrap();
    let rest = read_all(&[&master]);
    seen.extend_from_slice(&rest[0]);
    let text = String::from_utf8_lossy(&seen).replace("\r\n", "\n");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], tty_name);
    assert!(lines.contains(&"CTTY_OK"), "{text:?}");
    assert!(lines.contains(&"24 80"), "{text:?}");
    assert!(lines.contains(&"40 100"), "{text:?}");
    assert_eq!(wait_exit(child.pid), ExitKind::Exited(4));
}

#[test]
fn terminal_modes_round_trip_through_the_slave() {
    let pty = open_pty(WinSize::default()).unwrap();
    let before = term_modes::get_termios(pty.slave.as_fd()).unwrap();
    assert_ne!(before.c_lflag & libc::ECHO, 0, "new ptys echo");
    // ECHO off, VINTR = ^B, unknown opcode 200 ignored, VERASE disabled.
    apply_terminal_modes(pty.slave.as_fd(), &[(53, 0), (1, 2), (200, 7), (3, 255)]).unwrap();
    let after = term_modes::get_termios(pty.slave.as_fd()).unwrap();
    assert_eq!(after.c_lflag & libc::ECHO, 0);
    assert_eq!(after.c_cc[libc::VINTR], 2);
    assert_eq!(after.c_cc[libc::VERASE], libc::_POSIX_VDISABLE);
    assert_eq!(
        after.c_lflag | libc::ECHO,
        before.c_lflag,
        "only ECHO changed"
    );
    apply_terminal_modes(pty.slave.as_fd(), &[(53, 1)]).unwrap();
    let again = term_modes::get_termios(pty.slave.as_fd()).unwrap();
    assert_ne!(again.c_lflag & libc::ECHO, 0);
    let too_many = vec![(53u8, 1u32); term_modes::MAX_TERMINAL_MODES + 1];
    assert!(apply_terminal_modes(pty.slave.as_fd(), &too_many).is_err());
}

#[test]
fn chown_tty_sets_owner_group_and_mode() {
    let pty = open_pty(WinSize::default()).unwrap();
    let me = current_user().unwrap();
    let target = if is_root() {
        lookup_user("nobody").unwrap().unwrap_or(me.clone())
    } else {
        me.clone()
    };
    chown_tty(&pty.tty_name, target.uid, target.gid).unwrap();
    let meta = fs::metadata(&pty.tty_name).unwrap();
    assert_eq!(meta.uid(), target.uid);
    match nix::unistd::Group::from_name("tty").unwrap() {
        Some(tty) => {
            assert_eq!(meta.gid(), tty.gid.as_raw());
            assert_eq!(meta.mode() & 0o7777, 0o620);
        }
        None => {
            assert_eq!(meta.gid(), target.gid);
            assert_eq!(meta.mode() & 0o7777, 0o600);
        }
    }
    for bad in ["/etc/passwd", "/dev/../etc/passwd", "relative", ""] {
        let err = chown_tty(bad, me.uid, me.gid).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput, "{bad}");
    }
}

// ---- readiness and signals -------------------------------------------------------------

#[test]
fn poll_fds_reports_readable_writable_and_hangup() {
    let (r, w) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).unwrap();
    let mut entries = [
        PollEntry::new(r.as_raw_fd(), true, false),
        PollEntry::new(w.as_raw_fd(), false, true),
    ];
    assert_eq!(
        poll_fds(&mut entries, Some(Duration::from_millis(10))).unwrap(),
        1
    );
    assert!(!entries[0].readable && !entries[0].hangup);
    assert!(entries[1].writable);

    let mut only_read = [PollEntry::new(r.as_raw_fd(), true, false)];
    let start = Instant::now();
    assert_eq!(
        poll_fds(&mut only_read, Some(Duration::from_millis(30))).unwrap(),
        0
    );
    assert!(
        start.elapsed() >= Duration::from_millis(25),
        "timeout honoured"
    );

    nix::unistd::write(&w, b"x").unwrap();
    assert_eq!(poll_fds(&mut only_read, None).unwrap(), 1);
    assert!(only_read[0].readable && !only_read[0].hangup);

    // (A child forked by another test may hold `w` until its exec: allow it a moment.)
    drop(w);
    let mut only_read = [PollEntry::new(r.as_raw_fd(), false, false)];
    assert_eq!(poll_fds(&mut only_read, Some(DEADLINE)).unwrap(), 1);
    assert!(
        only_read[0].hangup,
        "hangup reported without asking for read"
    );

    let mut too_many = vec![PollEntry::new(-1, true, false); MAX_POLL_FDS + 1];
    assert!(poll_fds(&mut too_many, Some(Duration::ZERO)).is_err());
}

#[test]
fn set_nonblocking_makes_reads_return_would_block() {
    let (r, _w) = nix::unistd::pipe().unwrap();
    set_nonblocking(r.as_fd()).unwrap();
    let mut buf = [0u8; 8];
    assert_eq!(
        nix::unistd::read(r.as_raw_fd(), &mut buf),
        Err(nix::errno::Errno::EAGAIN)
    );
}

#[test]
fn signal_pipe_delivers_sigchld_and_others_as_bytes() {
    let _g = children();
    assert_eq!(
        SignalPipe::new(&[libc::SIGKILL]).unwrap_err().kind(),
        std::io::ErrorKind::InvalidInput
    );
    assert_eq!(
        SignalPipe::new(&[999]).unwrap_err().kind(),
        std::io::ErrorKind::InvalidInput
    );
    let pipe = SignalPipe::new(&[libc::SIGCHLD, libc::SIGUSR2]).unwrap();
    assert_eq!(
        SignalPipe::new(&[libc::SIGCHLD]).unwrap_err().kind(),
        std::io::ErrorKind::AlreadyExists
    );
    assert!(pipe.drain().is_empty());

    nix::sys::signal::raise(nix::sys::signal::Signal::SIGUSR2).unwrap();
    let mut entry = [PollEntry::new(pipe.fd().as_raw_fd(), true, false)];
    assert_eq!(
        poll_fds(&mut entry, Some(Duration::from_secs(5))).unwrap(),
        1
    );
    assert_eq!(pipe.drain(), vec![libc::SIGUSR2]);

    let user = me();
    let vars = base_env();
    let child = spawn(&request(
        &user,
        Some(b"exit 0"),
        &vars,
        None,
        Path::new("/"),
    ))
    .unwrap();
    let start = Instant::now();
    let mut got = Vec::new();
    while !got.contains(&libc::SIGCHLD) {
        assert!(start.elapsed() < DEADLINE, "no SIGCHLD, got {got:?}");
        poll_fds(&mut entry, Some(Duration::from_millis(200))).unwrap();
        got.extend(pipe.drain());
    }
    assert_eq!(wait_exit(child.pid), ExitKind::Exited(0));
    drop(pipe);
    // Dropping it frees the slot for a new one.
    drop(SignalPipe::new(&[libc::SIGCHLD]).unwrap());
}

// ---- permissions ---------------------------------------------------------------------

#[test]
fn secure_path_follows_strict_modes() {
    let root = TempDir::new();
    let home = root.0.join("home");
    let ssh = home.join(".ssh");
    let keys = ssh.join("authorized_keys");
    fs::create_dir_all(&ssh).unwrap();
    fs::write(&keys, "ssh-ed25519 AAAA\n").unwrap();
    chmod(&home, 0o755);
    chmod(&ssh, 0o700);
    chmod(&keys, 0o600);
    // Above the home directory nothing is checked (the test root may be anything).
    chmod(&root.0, 0o777);
    let uid = current_user().unwrap().uid;
    assert_eq!(secure_path(&keys, uid, &home), Ok(()));

    chmod(&keys, 0o664);
    let err = secure_path(&keys, uid, &home).unwrap_err();
    assert!(err.contains("bad ownership or modes for file"), "{err}");
    chmod(&keys, 0o600);

    chmod(&ssh, 0o777);
    let err = secure_path(&keys, uid, &home).unwrap_err();
    assert!(err.contains("directory") && err.ends_with(".ssh"), "{err}");
    chmod(&ssh, 0o700);

    chmod(&home, 0o775);
    let err = secure_path(&keys, uid, &home).unwrap_err();
    assert!(err.contains("directory") && err.ends_with("home"), "{err}");
    chmod(&home, 0o755);

    // A directory is not a key file; a missing file is refused.
    assert!(secure_path(&ssh, uid, &home)
        .unwrap_err()
        .contains("not a regular file"));
    assert!(secure_path(&ssh.join("missing"), uid, &home).is_err());

    // A symbolic link is judged by its target.
    let bad = root.0.join("bad_keys");
    fs::write(&bad, "").unwrap();
    chmod(&bad, 0o666);
    let link = ssh.join("linked");
    std::os::unix::fs::symlink(&bad, &link).unwrap();
    assert!(secure_path(&link, uid, &home).is_err());

    if is_root() {
        // Owned by someone else: refused for that someone else's neighbour, fine for them.
        nix::unistd::chown(&keys, Some(nix::unistd::Uid::from_raw(4242)), None).unwrap();
        let err = secure_path(&keys, 4343, &home).unwrap_err();
        assert!(err.contains("file"), "{err}");
        assert_eq!(secure_path(&keys, 4242, &home), Ok(()));
    }
}

#[test]
fn private_key_mode_refuses_group_or_world_access() {
    let dir = TempDir::new();
    let key = dir.0.join("ssh_host_ed25519_key");
    fs::write(&key, "secret").unwrap();
    chmod(&key, 0o600);
    assert!(private_key_mode_ok(&key).unwrap());
    chmod(&key, 0o400);
    assert!(private_key_mode_ok(&key).unwrap());
    chmod(&key, 0o640);
    assert!(!private_key_mode_ok(&key).unwrap());
    chmod(&key, 0o604);
    assert!(!private_key_mode_ok(&key).unwrap());
    assert!(private_key_mode_ok(&dir.0.join("missing")).is_err());
}

// ---- system ----------------------------------------------------------------------------

#[test]
fn pid_file_holds_our_pid_and_hostname_matches_kernel() {
    let dir = TempDir::new();
    let path = dir.0.join("sshd.pid");
    fs::write(&path, "stale contents that are longer\n").unwrap();
    write_pid_file(&path).unwrap();
    assert_eq!(
        fs::read_to_string(&path).unwrap(),
        format!("{}\n", std::process::id())
    );
    let kernel = fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    assert_eq!(hostname(), kernel.trim_end());
}

// ---- switching user (root only) ------------------------------------------------------------

#[test]
fn root_switches_to_nobody_with_groups() {
    if !is_root() {
        eprintln!("skipped: needs root");
        return;
    }
    let _g = children();
    let mut nobody = lookup_user("nobody").unwrap().expect("user nobody");
    nobody.shell = PathBuf::from("/bin/sh"); // nobody's shell is nologin
    let vars = base_env();
    let mut req = request(
        &nobody,
        Some(b"id -u; id -g; id -G; pwd"),
        &vars,
        None,
        &nobody.home,
    );
    req.switch_user = true;
    let child = spawn(&req).unwrap();
    drop(child.stdin);
    let out = read_all(&[
        child.stdout.as_ref().unwrap(),
        child.stderr.as_ref().unwrap(),
    ]);
    assert_eq!(wait_exit(child.pid), ExitKind::Exited(0), "{out:?}");
    let text = String::from_utf8_lossy(&out[0]).into_owned();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], nobody.uid.to_string());
    assert_eq!(lines[1], nobody.gid.to_string());
    let mut groups: Vec<u32> = lines[2].split(' ').map(|g| g.parse().unwrap()).collect();
    groups.sort();
    let mut want = nobody.groups.clone();
    want.sort();
    want.dedup();
    assert_eq!(groups, want, "root's groups are gone");
    let home_ok = nobody.home.is_dir();
    assert_eq!(
        lines[3],
        if home_ok {
            nobody.home.to_str().unwrap()
        } else {
            "/"
        }
    );
}

// ---- daemonize (in a re-executed copy of this test binary) -----------------------------

const DAEMON_PID_FILE_VAR: &str = "SISU_OS_TEST_DAEMON_PID_FILE";

/// Not a test on its own: run by `daemonize_detaches_into_a_new_session` in a fresh copy
/// of the test binary, where it detaches and writes a pid file.
#[test]
#[ignore = "helper, run by daemonize_detaches_into_a_new_session"]
fn daemonize_helper() {
    let Some(pid_file) = std::env::var_os(DAEMON_PID_FILE_VAR) else {
        return;
    };
    let pid_file = PathBuf::from(pid_file);
    daemonize().unwrap();
    write_pid_file(&pid_file).unwrap();
    // Stay up until the test has looked at us (it removes the pid file), at most 20 s.
    let start = Instant::now();
    while pid_file.exists() && start.elapsed() < DEADLINE {
        std::thread::sleep(Duration::from_millis(10));
    }
    // The test harness's other threads did not survive the fork: leave directly.
    std::process::exit(0);
}

#[test]
fn daemonize_detaches_into_a_new_session() {
    let _g = children();
    let dir = TempDir::new();
    let pid_file = dir.0.join("daemon.pid");
    let status = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--ignored", "--exact", "os::tests::daemonize_helper"])
        .args(["--test-threads", "1", "--quiet"])
        .env(DAEMON_PID_FILE_VAR, &pid_file)
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "the parent half exits 0: {status}");
    let start = Instant::now();
    let pid: i32 = loop {
        if let Ok(text) = fs::read_to_string(&pid_file) {
            if let Ok(pid) = text.trim().parse() {
                break pid;
            }
        }
        assert!(start.elapsed() < DEADLINE, "no pid file");
        std::thread::sleep(Duration::from_millis(10));
    };
    let proc_dir = PathBuf::from(format!("/proc/{pid}"));
    let stat = fs::read_to_string(proc_dir.join("stat")).unwrap();
    // Fields after the parenthesised command name: state ppid pgrp session ...
    let fields: Vec<&str> = stat[stat.rfind(')').unwrap() + 2..].split(' ').collect();
    assert_eq!(fields[3], pid.to_string(), "session leader: {stat}");
    assert_eq!(fs::read_link(proc_dir.join("cwd")).unwrap(), Path::new("/"));
    for fd in 0..3 {
        let target = fs::read_link(proc_dir.join(format!("fd/{fd}"))).unwrap();
        assert_eq!(target, Path::new("/dev/null"), "fd {fd}");
    }
    fs::remove_file(&pid_file).unwrap();
}
