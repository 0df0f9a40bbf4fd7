//! Peers that stall: one that stops after the identification line (before
//! authentication) and one that stops reading a stream of output (after it). Neither
//! may make the server spin: the server's processes use (almost) no CPU meanwhile, and
//! each stalled connection is dropped within its bound (LoginGraceTime before
//! authentication, ClientAliveInterval × (ClientAliveCountMax + 1) after).

use crate::common::{raw_connect, read_ident, read_until_closed, Server, LOOPBACK};
use std::fs;
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// CPU a stalled server may use while we watch it for [`WATCH`]: a few ticks of
/// bookkeeping, far from the whole core a busy loop takes.
const MAX_TICKS: u64 = 10;
/// How long the server is watched.
const WATCH: Duration = Duration::from_secs(3);

/// The processes below `pid` (its children, their children, ...), from /proc.
fn descendants(pid: u32) -> Vec<u32> {
    let mut all: Vec<(u32, u32)> = Vec::new();
    for e in fs::read_dir("/proc").unwrap().flatten() {
        let Ok(p) = e.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        if let Some(ppid) = stat_fields(p).and_then(|f| f.get(1)?.parse().ok()) {
            all.push((p, ppid));
        }
    }
    let mut out = vec![pid];
    let mut i = 0;
    while i < out.len() {
        let parent = out[i];
        out.extend(all.iter().filter(|(_, pp)| *pp == parent).map(|(p, _)| *p));
        i += 1;
    }
    out
}

/// The fields of /proc/PID/stat after the command name (state is [0], ppid [1]).
fn stat_fields(pid: u32) -> Option<Vec<String>> {
    let s = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &s[s.rfind(')')? + 2..];
    Some(rest.split_whitespace().map(String::from).collect())
}

/// User plus system CPU ticks of `pid` and everything below it.
fn cpu_ticks(pid: u32) -> u64 {
    descendants(pid)
        .iter()
        .filter_map(|p| {
            let f = stat_fields(*p)?;
            Some(f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?)
        })
        .sum()
}

fn assert_quiet(server: &Server, what: &str) {
    let before = cpu_ticks(server.pid());
    std::thread::sleep(WATCH);
    let used = cpu_ticks(server.pid()) - before;
    assert!(
        used <= MAX_TICKS,
        "{what}: the server used {used} CPU ticks in {WATCH:?}"
    );
}

/// Before authentication: a client that sent its identification line and then
/// nothing costs no CPU and is dropped at LoginGraceTime.
pub fn stalled_before_authentication_is_quiet_then_dropped() {
    let server = Server::builder("stall-preauth")
        .option("LoginGraceTime=6")
        .start();
    let mut s = raw_connect(&server, Duration::from_secs(10));
    let t = Instant::now();
    let ident = read_ident(&mut s);
    assert!(ident.starts_with("SSH-2.0-"), "{ident:?}");
    s.write_all(b"SSH-2.0-stalled_test\r\n").unwrap();
    std::thread::sleep(Duration::from_millis(300));
    assert_quiet(&server, "before authentication");
    let (_, closed) = read_until_closed(&mut s, Duration::from_secs(10));
    assert!(closed, "not closed");
    let took = t.elapsed();
    assert!(
        took >= Duration::from_secs(5) && took < Duration::from_secs(12),
        "closed after {took:?}"
    );
    // (OpenSSH's sshd logs this line from its pre-auth child, which with -e never
    // reaches the log file; Sisu's is checked.)
    if server.kind() == crate::common::ServerKind::Sisu {
        assert!(server
            .wait_log_line(Duration::from_secs(5), |l| l
                .contains("Timeout before authentication for 127.0.0.1"))
            .is_some());
    }
}

/// After authentication: a client that stops reading a stream (`cat /dev/zero`)
/// while the server's buffers are full costs no CPU; with ClientAlive it is dropped.
pub fn stalled_reader_after_authentication_is_quiet_then_dropped() {
    let server = Server::builder("stall-postauth")
        .config("ClientAliveInterval 2")
        .config("ClientAliveCountMax 2")
        .start();
    let mut cmd = Command::new("ssh");
    cmd.args(server.client_options(server.client_key()))
        .arg("-p")
        .arg(server.port.to_string())
        .arg(format!("{}@{LOOPBACK}", server.user()))
        .arg("cat /dev/zero")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let mut child = cmd.spawn().unwrap();
    let pid = nix::unistd::Pid::from_raw(child.id() as i32);
    let started = server.wait_log_line(Duration::from_secs(10), |l| {
        l.contains("Starting session: command")
    });
    assert!(started.is_some(), "{}", server.log());
    std::thread::sleep(Duration::from_millis(500));
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGSTOP).unwrap();
    // Let every buffer between the child and the frozen client fill up.
    std::thread::sleep(Duration::from_secs(1));
    let quiet = std::panic::catch_unwind(|| assert_quiet(&server, "after authentication"));
    let dropped = server.wait_log_line(Duration::from_secs(15), |l| {
        l.contains("Timeout, client not responding from user")
    });
    let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGKILL);
    let _ = child.wait();
    if let Err(e) = quiet {
        std::panic::resume_unwind(e);
    }
    assert!(dropped.is_some(), "{}", server.log());
}
