//! Daemon flags: `-t`, `-T`, detaching with a PidFile, `-i` (inetd mode).

use crate::common::{free_port, run_bounded, Input, Output, Prepared, Server};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::thread;
use std::time::{Duration, Instant};

/// How long a flag-only run (`-t`, `-T`, the detaching parent) may take.
const FLAG_RUN_BOUND: Duration = Duration::from_secs(20);

fn server_cmd(p: &Prepared) -> Command {
    let mut cmd = Command::new(p.kind.binary());
    cmd.arg("-f").arg(p.config_path());
    cmd
}

fn run_flags(p: &Prepared, args: &[&str]) -> Output {
    let mut cmd = server_cmd(p);
    cmd.args(args);
    run_bounded(cmd, Input::Null, None, FLAG_RUN_BOUND)
}

pub fn test_mode_accepts_a_good_config() {
    let p = Server::builder("tgood").prepare();
    run_flags(&p, &["-t"]).assert_success();
}

pub fn test_mode_rejects_a_bad_config_with_file_and_line() {
    let p = Server::builder("tbad").prepare();
    let path = p.config_path();
    let mut text = fs::read_to_string(&path).unwrap();
    text.push_str("NoSuchKeywordAtAll yes\n");
    let bad_line = text.lines().count();
    fs::write(&path, text).unwrap();
    let out = run_flags(&p, &["-t"]);
    assert_ne!(out.code, Some(0), "-t accepted a bad config");
    let msg = format!("{}{}", out.stdout_str(), out.stderr);
    assert!(
        msg.contains(path.to_str().unwrap()),
        "no file name in: {msg}"
    );
    assert!(
        msg.contains(&format!("line {bad_line}")),
        "no `line {bad_line}` in: {msg}"
    );
    assert!(
        msg.contains("NoSuchKeywordAtAll"),
        "keyword not named in: {msg}"
    );
}

/// A keyword that restricts access and that the server cannot apply stops `-t` (and
/// start-up) with the file, the line and "not supported yet" — never a warning.
pub fn test_mode_refuses_restrictions_it_cannot_apply() {
    for (line, why) in [
        ("UsePAM yes", "UsePAM yes: not supported yet"),
        (
            "ChrootDirectory /srv",
            "ChrootDirectory /srv: not supported yet",
        ),
        (
            "AuthenticationMethods publickey,password",
            "AuthenticationMethods publickey,password (method password): not supported yet",
        ),
        (
            "Match Address 10.0.0.0/8\n  ChannelTimeout session=1m",
            "ChannelTimeout session=1m: not supported yet",
        ),
    ] {
        let p = Server::builder("trefuse").prepare();
        let path = p.config_path();
        let mut text = fs::read_to_string(&path).unwrap();
        text.push_str(line);
        text.push('\n');
        let bad_line = text.lines().count();
        fs::write(&path, text).unwrap();
        for args in [&["-t"][..], &["-D", "-e", "-p", "1"][..]] {
            let out = run_flags(&p, args);
            assert_eq!(out.code, Some(255), "{line} {args:?}: {}", out.stderr);
            assert!(
                out.stderr
                    .contains(&format!("{} line {bad_line}: {why}", path.display())),
                "{line}: {}",
                out.stderr
            );
        }
    }
}

pub fn extended_test_mode_prints_lowercase_keyword_value_lines() {
    let p = Server::builder("tdump").prepare();
    let out = run_flags(&p, &["-T", "-p", "2222"]);
    out.assert_success();
    let text = out.stdout_str();
    let lines: Vec<&str> = text.lines().filter(|l| !l.is_empty()).collect();
    assert!(lines.len() > 5, "too few lines: {text}");
    for l in &lines {
        let kw = l.split(' ').next().unwrap();
        assert!(
            !kw.is_empty()
                && kw
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()),
            "not a lowercase `keyword value` line: {l:?}"
        );
    }
    for want in [
        "port 2222",
        "pubkeyauthentication yes",
        "loglevel VERBOSE",
        "strictmodes no",
    ] {
        assert!(
            lines.contains(&want),
            "`{want}` missing from -T output:\n{text}"
        );
    }
    let hostkey = format!("hostkey {}", p.dir.join("ssh_host_ed25519_key").display());
    assert!(
        lines.contains(&hostkey.as_str()),
        "`{hostkey}` missing:\n{text}"
    );
}

/// Kills a detached daemon by PID if a test fails before it stops it.
struct PidGuard(Option<i32>);

impl Drop for PidGuard {
    fn drop(&mut self) {
        if let Some(pid) = self.0.take() {
            let pid = nix::unistd::Pid::from_raw(pid);
            let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
            thread::sleep(Duration::from_millis(500));
            let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGKILL);
        }
    }
}

fn wait_until(bound: Duration, mut f: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + bound;
    while Instant::now() < deadline {
        if f() {
            return true;
        }
        thread::sleep(Duration::from_millis(50));
    }
    f()
}

fn read_pid(path: &Path) -> Option<i32> {
    fs::read_to_string(path).ok()?.trim().parse().ok()
}

pub fn without_d_the_daemon_detaches_writes_and_removes_pidfile() {
    let p = Server::builder("detach").prepare();
    let pidfile: PathBuf = p.dir.join("sshd.pid");
    let log = p.dir.join("detached.log");
    let port = free_port();
    p.write_known_hosts(port);
    let mut guard = PidGuard(None);
    let out = run_flags(
        &p,
        &[
            "-p",
            &port.to_string(),
            "-o",
            &format!("PidFile={}", pidfile.display()),
            "-E",
            log.to_str().unwrap(),
        ],
    );
    out.assert_success();
    assert!(
        wait_until(Duration::from_secs(10), || read_pid(&pidfile).is_some()),
        "no PidFile; log:\n{}",
        fs::read_to_string(&log).unwrap_or_default()
    );
    let pid = read_pid(&pidfile).unwrap();
    guard.0 = Some(pid);
    assert!(
        Path::new(&format!("/proc/{pid}")).exists(),
        "PidFile names a dead process"
    );
    // Readiness: the daemon may write its PidFile just before it listens.
    wait_until(Duration::from_secs(10), || {
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
    let ok = p.ssh(port).run("echo detached");
    ok.assert_success();
    assert_eq!(ok.stdout_str(), "detached\n");

    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid),
        nix::sys::signal::Signal::SIGTERM,
    )
    .expect("SIGTERM the daemon");
    assert!(
        wait_until(Duration::from_secs(10), || !pidfile.exists()),
        "PidFile not removed on SIGTERM"
    );
    assert!(
        wait_until(Duration::from_secs(10), || {
            !Path::new(&format!("/proc/{pid}")).exists()
                || fs::read_to_string(format!("/proc/{pid}/stat"))
                    .map(|s| s.contains(") Z "))
                    .unwrap_or(true)
        }),
        "daemon still running after SIGTERM"
    );
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", port)).is_err(),
        "still listening after SIGTERM"
    );
    guard.0 = None;
}

pub fn inetd_mode_via_proxy_command() {
    let p = Server::builder("inetd").prepare();
    // The port is only the name of the host key entry; nothing listens on it.
    let port = free_port();
    p.write_known_hosts(port);
    let log = p.dir.join("inetd.log");
    let proxy = format!(
        "ProxyCommand={} -i -f {} -E {}",
        p.kind.binary().display(),
        p.config_path().display(),
        log.display()
    );
    let out = p
        .ssh(port)
        .option(&proxy)
        .stdin_bytes("via inetd")
        .run("cat; exit 4");
    out.assert_code(4);
    assert_eq!(out.stdout_str(), "via inetd");
    let text = fs::read_to_string(&log).unwrap_or_default();
    assert!(
        text.contains(&format!("Accepted publickey for {} from", p.user)),
        "no Accepted line in inetd log:\n{text}"
    );
}
