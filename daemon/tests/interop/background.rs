//! What the channel tests share: echo servers (TCP and Unix), bounded waits, clients
//! and a ControlMaster in the background (stopped by process group when dropped),
//! and the listening addresses the kernel reports for a port.

use crate::common::Server;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// A TCP echo server on 127.0.0.1 (threads end when their peer does).
pub fn tcp_echo() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    thread::spawn(move || {
        for s in l.incoming().take(64) {
            let Ok(s) = s else { return };
            thread::spawn(move || echo(s));
        }
    });
    port
}

/// A Unix-socket echo server at `path`, which anyone may connect to.
pub fn unix_echo(path: &Path) {
    let l = UnixListener::bind(path).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o777)).unwrap();
    thread::spawn(move || {
        for s in l.incoming().take(64) {
            let Ok(s) = s else { return };
            thread::spawn(move || echo(s));
        }
    });
}

pub fn echo<S: Read + Write>(mut s: S) {
    let mut buf = [0u8; 16384];
    while let Ok(n) = s.read(&mut buf) {
        if n == 0 || s.write_all(&buf[..n]).is_err() {
            break;
        }
    }
}

/// Sends a line through `s` and reads it back (bounded).
pub fn round_trip<S: Read + Write>(mut s: S, what: &str) -> String {
    let line = format!("through {what}\n");
    s.write_all(line.as_bytes()).unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 256];
    while got.len() < line.len() {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
        }
    }
    String::from_utf8_lossy(&got).into_owned()
}

pub fn tcp_round_trip(port: u16, what: &str) -> String {
    let s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    round_trip(s, what)
}

pub fn unix_round_trip(path: &Path, what: &str) -> String {
    let s = UnixStream::connect(path).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    round_trip(s, what)
}

/// Waits (bounded) until `cond` holds.
pub fn wait_until(what: &str, timeout: Duration, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        thread::sleep(Duration::from_millis(50));
    }
}

/// Whether something accepts TCP connections on 127.0.0.1:`port`.
pub fn listening(port: u16) -> bool {
    TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_millis(500)).is_ok()
}

/// A client running in the background, stopped (its process group) when dropped.
pub struct Background {
    child: Child,
}

impl Background {
    pub fn ssh(server: &Server, args: &[&str]) -> Background {
        let mut c = Command::new("ssh");
        c.args(server.client_options(server.client_key()))
            .args(args)
            .arg("-p")
            .arg(server.port.to_string())
            .arg(format!("{}@127.0.0.1", server.user()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0);
        Background {
            child: c.spawn().unwrap(),
        }
    }

    pub fn stop(&mut self) {
        let pgid = nix::unistd::Pid::from_raw(self.child.id() as i32);
        let _ = nix::sys::signal::killpg(pgid, nix::sys::signal::Signal::SIGTERM);
        if crate::common::wait_deadline(&mut self.child, Duration::from_secs(5)).is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A ControlMaster connection; other clients run through its socket.
pub struct Master {
    /// The control socket.
    pub ctl: PathBuf,
    _bg: Background,
}

impl Master {
    pub fn start(server: &Server) -> Master {
        let ctl = server.dir().join("ctl");
        let ctl_s = ctl.display().to_string();
        let bg = Background::ssh(server, &["-N", "-M", "-S", &ctl_s]);
        wait_until("the control socket", Duration::from_secs(15), || {
            ctl.exists()
        });
        Master { ctl, _bg: bg }
    }

    pub fn ssh(&self, server: &Server) -> crate::common::Ssh {
        server.ssh().arg("-S").arg(&self.ctl)
    }
}

/// The local addresses of the sockets listening on `port`, from `/proc/net/tcp` (hex,
/// as the kernel writes IPv4) and `/proc/net/tcp6` (`::1` for loopback, else hex).
pub fn listening_addresses(port: u16) -> Vec<String> {
    let tcp = std::fs::read_to_string("/proc/net/tcp").unwrap_or_default();
    let tcp6 = std::fs::read_to_string("/proc/net/tcp6").unwrap_or_default();
    addresses_in(port, &tcp, &tcp6)
}

/// [`listening_addresses`] from the two tables' text.
pub fn addresses_in(port: u16, tcp: &str, tcp6: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (text, v6) in [(tcp, false), (tcp6, true)] {
        for line in text.lines().skip(1) {
            let f: Vec<&str> = line.split_whitespace().collect();
            if f.len() < 4 || f[3] != "0A" {
                continue;
            }
            let Some((addr, p)) = f[1].split_once(':') else {
                continue;
            };
            if u16::from_str_radix(p, 16).ok() != Some(port) {
                continue;
            }
            out.push(if v6 && addr == "00000000000000000000000001000000" {
                "::1".to_string()
            } else {
                addr.to_string()
            });
        }
    }
    out
}

/// An `ssh-agent -D` of the test's own on `sock`, stopped (and reaped) when dropped.
pub struct Agent {
    child: std::process::Child,
}

impl Agent {
    /// Starts one on `sock` and waits (bounded) for the socket.
    pub fn start(sock: &std::path::Path) -> Agent {
        let child = Command::new("ssh-agent")
            .arg("-D")
            .arg("-a")
            .arg(sock)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start ssh-agent");
        let agent = Agent { child };
        wait_until("ssh-agent", Duration::from_secs(10), || sock.exists());
        agent
    }

    /// Stops it now.
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Runs a Python peer script (bounded, 60 s) with `PORT USER KEY KNOWN_HOSTS` and
/// `extra` as its arguments, and returns its output.
pub fn python_peer(
    server: &Server,
    script: &str,
    extra: &[&std::ffi::OsStr],
) -> crate::common::Output {
    let mut c = Command::new(crate::common::python());
    c.arg("-c")
        .arg(script)
        .arg(server.port.to_string())
        .arg(server.user())
        .arg(server.client_key())
        .arg(server.dir().join("known_hosts"))
        .args(extra);
    crate::common::run_bounded(c, crate::common::Input::Null, None, Duration::from_secs(60))
}
