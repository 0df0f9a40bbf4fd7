//! Privilege separation, seen from outside: `/proc` of the pre-auth child while a
//! client sits before authentication, the seccomp kill of a forbidden system call, and
//! the post-auth process that runs as the user.

use crate::common::{raw_connect, read_ident, Server};
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The directory the pre-auth child is chrooted into (root mode).
const PRIVSEP_DIR: &str = "/run/sisu-sshd";
/// The debug-build trigger of a forbidden call (`preauth::child::FORBIDDEN_CALL_ENV`).
const FORBIDDEN_CALL_ENV: &str = "SISU_TEST_FORBIDDEN_SYSCALL";

/// `(pid, ppid)` of every process now.
fn processes() -> Vec<(u32, u32)> {
    let mut v = Vec::new();
    for e in fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = fs::read_to_string(e.path().join("stat")) else {
            continue;
        };
        // pid (comm) state ppid ...: comm may hold spaces, so split after the last ')'.
        let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) else {
            continue;
        };
        if let Some(ppid) = rest.split_whitespace().nth(1).and_then(|p| p.parse().ok()) {
            v.push((pid, ppid));
        }
    }
    v
}

fn children_of(pid: u32) -> Vec<u32> {
    processes()
        .into_iter()
        .filter(|&(_, pp)| pp == pid)
        .map(|(p, _)| p)
        .collect()
}

/// Waits (bounded) for `pid` to have exactly one child, and returns it.
fn only_child(pid: u32, what: &str) -> u32 {
    let until = Instant::now() + Duration::from_secs(10);
    loop {
        let c = children_of(pid);
        if c.len() == 1 {
            return c[0];
        }
        assert!(Instant::now() < until, "{what}: children of {pid}: {c:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The value of `Field:` in `/proc/PID/status`.
fn status_field(pid: u32, field: &str) -> String {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")))
        .unwrap_or_else(|| panic!("no {field} in /proc/{pid}/status"))
        .trim()
        .to_string()
}

/// The four uids of `/proc/PID/status` (real, effective, saved, file system).
fn uids(pid: u32) -> Vec<u32> {
    status_field(pid, "Uid")
        .split_whitespace()
        .map(|u| u.parse().unwrap())
        .collect()
}

/// `soft hard` of one line of `/proc/PID/limits`.
fn limit(pid: u32, name: &str) -> String {
    let limits = fs::read_to_string(format!("/proc/{pid}/limits")).unwrap();
    let line = limits
        .lines()
        .find(|l| l.starts_with(name))
        .unwrap_or_else(|| panic!("no {name} in /proc/{pid}/limits"));
    let rest: Vec<&str> = line[name.len()..].split_whitespace().collect();
    format!("{} {}", rest[0], rest[1])
}

/// `ps -o pid,ppid,user,comm` of these processes, for the reader of the test's output.
fn show_tree(pids: &[u32]) {
    let list: Vec<String> = pids.iter().map(u32::to_string).collect();
    if let Ok(out) = std::process::Command::new("ps")
        .args(["-o", "pid,ppid,user,comm", "-p", &list.join(",")])
        .output()
    {
        eprintln!("{}", String::from_utf8_lossy(&out.stdout));
    }
}

/// A client that has said who it is and then waits, before authentication; the
/// connection (hold it), its monitor and its pre-auth child.
fn waiting_client(server: &Server) -> (std::net::TcpStream, u32, u32) {
    let mut s = raw_connect(server, Duration::from_secs(10));
    let ident = read_ident(&mut s);
    assert!(ident.starts_with("SSH-2.0-"), "{ident:?}");
    s.write_all(b"SSH-2.0-Waiting_1.0\r\n").unwrap();
    let monitor = only_child(server.pid(), "the listener");
    let pre = only_child(monitor, "the monitor");
    (s, monitor, pre)
}

pub fn preauth_child_is_unprivileged_chrooted_and_filtered() {
    let server = Server::start("privsep-proc");
    let (s, monitor, pre) = waiting_client(&server);
    show_tree(&[server.pid(), monitor, pre]);

    assert_eq!(uids(monitor), [0, 0, 0, 0], "the monitor runs as root");
    let comm = |pid: u32| fs::read_to_string(format!("/proc/{pid}/comm")).unwrap();
    assert_eq!(comm(monitor).trim(), "sisu-sshd[priv]");
    assert_eq!(comm(pre).trim(), "sisu-sshd[net]");
    let pre_uids = uids(pre);
    assert!(
        pre_uids.iter().all(|&u| u != 0),
        "pre-auth child uids {pre_uids:?}"
    );
    assert_eq!(status_field(pre, "Seccomp"), "2", "seccomp filter mode");
    assert_eq!(status_field(pre, "NoNewPrivs"), "1");
    assert_eq!(limit(pre, "Max processes"), "0 0");
    assert_eq!(limit(pre, "Max file size"), "0 0");
    assert_eq!(limit(pre, "Max open files"), "16 16");

    let root = fs::read_link(format!("/proc/{pre}/root")).unwrap();
    assert_eq!(root, Path::new(PRIVSEP_DIR), "the pre-auth child's root");
    assert_eq!(
        fs::read_dir(PRIVSEP_DIR).unwrap().count(),
        0,
        "{PRIVSEP_DIR} is not empty"
    );

    // The host key, by the path the configuration names, through the child's root:
    // not there. And none of its descriptors is the key file.
    let key = server.dir().join("ssh_host_ed25519_key");
    assert!(key.exists());
    let through_root =
        PathBuf::from(format!("/proc/{pre}/root")).join(key.strip_prefix("/").unwrap());
    let err = fs::File::open(&through_root).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::NotFound, "{through_root:?}");
    for fd in fs::read_dir(format!("/proc/{pre}/fd")).unwrap().flatten() {
        let target = fs::read_link(fd.path()).unwrap_or_default();
        assert!(
            !target.to_string_lossy().contains("ssh_host_"),
            "the pre-auth child holds {target:?}"
        );
    }
    // The key file itself is root's alone, so the child's uid could not open it either.
    use std::os::unix::fs::MetadataExt;
    let m = fs::metadata(&key).unwrap();
    assert_eq!((m.uid(), m.mode() & 0o077), (0, 0));
    drop(s);
}

/// As an ordinary user (the daemon run as the test user): no user switch and no chroot,
/// but the pre-auth child still has no_new_privs, the limits and the seccomp filter.
pub fn preauth_child_of_an_ordinary_user_is_still_filtered() {
    let server = Server::builder("privsep-user-mode")
        .run_as_test_user()
        .start();
    let (s, monitor, pre) = waiting_client(&server);
    let uid = uids(server.pid())[0];
    assert_ne!(uid, 0, "the server runs as the test user");
    assert_eq!(uids(monitor), [uid; 4]);
    assert_eq!(uids(pre), [uid; 4]);
    assert_eq!(status_field(pre, "Seccomp"), "2");
    assert_eq!(status_field(pre, "NoNewPrivs"), "1");
    assert_eq!(limit(pre, "Max processes"), "0 0");
    assert_eq!(limit(pre, "Max file size"), "0 0");
    assert_eq!(limit(pre, "Max open files"), "16 16");
    drop(s);
    // And the one user it can serve still logs in.
    let out = server.ssh().run("id -u");
    out.assert_success();
    assert_eq!(out.stdout_str().trim(), uid.to_string());
}

/// With `contents` in the trigger file, a login fails and the monitor's sandbox line
/// appears, the `nth` time in the log.
fn assert_login_killed(server: &Server, trigger: &Path, contents: &[u8], nth: usize, what: &str) {
    fs::write(trigger, contents).unwrap();
    let killed = server
        .ssh()
        .timeout(Duration::from_secs(20))
        .run("echo never");
    assert_ne!(killed.code, Some(0), "{what}");
    let kills = || {
        server
            .log()
            .matches("killed by the sandbox: a forbidden system call")
            .count()
    };
    let until = Instant::now() + Duration::from_secs(5);
    while kills() < nth && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(kills(), nth, "no sandbox line:\n{}", server.log());
}

pub fn forbidden_system_call_kills_only_that_child() {
    let trigger_dir = crate::common::TestDir::new("privsep-trigger");
    let trigger = trigger_dir.join("forbid");
    let server = Server::builder("privsep-seccomp")
        .env(FORBIDDEN_CALL_ENV, &trigger)
        .start();
    // A session that is in before the trigger exists, and must live through it.
    let ssh = server.ssh();
    let first = std::thread::spawn(move || ssh.run("sleep 4; echo survived"));
    let accepted = server.wait_log_line(Duration::from_secs(10), |l| {
        l.contains("Accepted publickey")
    });
    assert!(accepted.is_some(), "{}", server.log());

    // Opening a file, then mapping executable memory (mmap with PROT_EXEC).
    assert_login_killed(
        &server,
        &trigger,
        b"",
        1,
        "a login with the forbidden call got in",
    );
    assert_login_killed(
        &server,
        &trigger,
        b"exec",
        2,
        "a login that mapped executable memory got in",
    );
    fs::remove_file(&trigger).unwrap();

    let out = first.join().unwrap();
    out.assert_success();
    assert_eq!(out.stdout_str(), "survived\n");
    let after = server.ssh().run("echo next");
    after.assert_success();
    assert_eq!(after.stdout_str(), "next\n");
}

pub fn post_auth_process_runs_as_the_user() {
    let server = Server::start("privsep-user");
    // From inside the session: the shell's parent (the post-auth process), its
    // connection on fd 0, and its parent (the monitor).
    let out = server.ssh().run(
        "p=$PPID; id -u; grep ^Uid: /proc/$p/status; readlink /proc/$p/fd/0; \
         m=$(sed 's/.*) //' /proc/$p/stat | cut -d' ' -f2); grep ^Uid: /proc/$m/status",
    );
    out.assert_success();
    let text = out.stdout_str();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 4, "{text}");
    let uid: u32 = lines[0].parse().unwrap();
    assert_ne!(uid, 0, "the test user is root");
    let fields = |l: &str| -> Vec<u32> {
        l.trim_start_matches("Uid:")
            .split_whitespace()
            .map(|u| u.parse().unwrap())
            .collect()
    };
    assert_eq!(fields(lines[1]), [uid; 4], "the post-auth process");
    assert!(lines[2].starts_with("socket:"), "its fd 0: {:?}", lines[2]);
    assert_eq!(fields(lines[3]), [0; 4], "the monitor");
}

/// A tree for `ChrootDirectory` at `/run/sisu-chroot-PID-TAG-USER`: owned by root, not
/// group or world writable, every directory above it root's too (`/tmp` would not do:
/// it is world writable, which the check rightly refuses), holding `/bin/bash` and the
/// libraries it links. Removed on drop.
struct ChrootTree(PathBuf);

impl ChrootTree {
    fn new(tag: &str, user: &str) -> ChrootTree {
        let dir = PathBuf::from(format!(
            "/run/sisu-chroot-{}-{tag}-{user}",
            std::process::id()
        ));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(dir.join("bin")).unwrap();
        fs::copy("/bin/bash", dir.join("bin/bash")).unwrap();
        let ldd = std::process::Command::new("ldd")
            .arg("/bin/bash")
            .output()
            .unwrap();
        for line in String::from_utf8_lossy(&ldd.stdout).lines() {
            // "libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x...)" or "/lib64/ld-... (0x...)"
            let path = line
                .split_whitespace()
                .find(|w| w.starts_with('/'))
                .map(Path::new);
            if let Some(lib) = path {
                let to = dir.join(lib.strip_prefix("/").unwrap());
                fs::create_dir_all(to.parent().unwrap()).unwrap();
                fs::copy(lib, &to).unwrap();
            }
        }
        ChrootTree(dir)
    }
}

impl Drop for ChrootTree {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// `ChrootDirectory` (in a `Match User` block, with `%u`): the session's processes see
/// the tree and nothing else; with no home directory inside, the shell starts in `/`.
pub fn chroot_directory_confines_the_session() {
    let user = crate::common::test_user();
    let tree = ChrootTree::new("ok", &user);
    let server = Server::builder("chroot")
        .config(&format!(
            "Match User {user}\n  ChrootDirectory /run/sisu-chroot-{}-ok-%u",
            std::process::id()
        ))
        .start();
    let out = server
        .ssh()
        .run("pwd; echo /*; test -e /etc/passwd && echo visible || echo sealed");
    out.assert_success();
    assert_eq!(
        out.stdout_str(),
        "/\n/bin /lib /lib64\nsealed\n",
        "{}",
        out.stderr
    );
    drop(tree);
}

/// A `ChrootDirectory` the user could write to is refused, with OpenSSH's reason, and
/// the session ends before anything of the user's runs.
pub fn chroot_directory_with_bad_ownership_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let user = crate::common::test_user();
    let tree = ChrootTree::new("bad", &user);
    fs::set_permissions(&tree.0, fs::Permissions::from_mode(0o777)).unwrap();
    let server = Server::builder("chroot-bad")
        .config(&format!("ChrootDirectory {}", tree.0.display()))
        .start();
    let out = server.ssh().run("echo ran");
    assert_ne!(out.code, Some(0), "a login into a writable chroot ran");
    assert_eq!(out.stdout_str(), "");
    let want = format!(
        "bad ownership or modes for chroot directory \"{}\"",
        tree.0.display()
    );
    let line = server.wait_log_line(Duration::from_secs(5), |l| l.contains(&want));
    assert!(line.is_some(), "no {want:?} in:\n{}", server.log());
}
