//! Channels the server opens towards the client, and what leads to them: remote port
//! forwarding (`ssh -R`, `-R 0`, cancelled through a ControlMaster), Unix-socket
//! forwarding both ways, agent forwarding (`ssh -A`), and the policy keywords of each
//! (AllowTcpForwarding, PermitListen, GatewayPorts, `permitlisten=`,
//! AllowStreamLocalForwarding, StreamLocalBindMask, StreamLocalBindUnlink,
//! AllowAgentForwarding, `no-agent-forwarding`). Also dynamic forwarding (`ssh -D`,
//! SOCKS through `direct-tcpip`), several sessions over one ControlMaster, and the
//! client's keepalives.

use crate::common::{free_port, run_bounded, test_user, Input, Server};
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
fn tcp_echo() -> u16 {
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
fn unix_echo(path: &Path) {
    let l = UnixListener::bind(path).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o777)).unwrap();
    thread::spawn(move || {
        for s in l.incoming().take(64) {
            let Ok(s) = s else { return };
            thread::spawn(move || echo(s));
        }
    });
}

fn echo<S: Read + Write>(mut s: S) {
    let mut buf = [0u8; 16384];
    while let Ok(n) = s.read(&mut buf) {
        if n == 0 || s.write_all(&buf[..n]).is_err() {
            break;
        }
    }
}

/// Sends a line through `s` and reads it back (bounded).
fn round_trip<S: Read + Write>(mut s: S, what: &str) -> String {
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

fn tcp_round_trip(port: u16, what: &str) -> String {
    let s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    round_trip(s, what)
}

fn unix_round_trip(path: &Path, what: &str) -> String {
    let s = UnixStream::connect(path).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    round_trip(s, what)
}

/// Waits (bounded) until `cond` holds.
fn wait_until(what: &str, timeout: Duration, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        thread::sleep(Duration::from_millis(50));
    }
}

/// Whether something accepts TCP connections on 127.0.0.1:`port`.
fn listening(port: u16) -> bool {
    TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_millis(500)).is_ok()
}

/// A client running in the background, stopped (its process group) when dropped.
struct Background {
    child: Child,
}

impl Background {
    fn ssh(server: &Server, args: &[&str]) -> Background {
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

    fn stop(&mut self) {
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
struct Master {
    ctl: PathBuf,
    _bg: Background,
}

impl Master {
    fn start(server: &Server) -> Master {
        let ctl = server.dir().join("ctl");
        let ctl_s = ctl.display().to_string();
        let bg = Background::ssh(server, &["-N", "-M", "-S", &ctl_s]);
        wait_until("the control socket", Duration::from_secs(15), || {
            ctl.exists()
        });
        Master { ctl, _bg: bg }
    }

    fn ssh(&self, server: &Server) -> crate::common::Ssh {
        server.ssh().arg("-S").arg(&self.ctl)
    }
}

/// `-R` to a fixed port and `-R 0` (the port the server picked comes back), both
/// forwarding to an echo server; cancelling one closes its port, and the end of the
/// connection closes the other.
pub fn remote_forwards_through_a_control_master() {
    let server = Server::start("rfwd-mux");
    let echo_port = tcp_echo();
    let master = Master::start(&server);
    let out = master
        .ssh(&server)
        .arg("-O")
        .arg("forward")
        .arg("-R")
        .arg(format!("0:127.0.0.1:{echo_port}"))
        .run("");
    out.assert_success();
    let allocated: u16 = out
        .stdout_str()
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("no allocated port: {:?} {}", out.stdout_str(), out.stderr));
    assert_eq!(tcp_round_trip(allocated, "-R 0"), "through -R 0\n");

    let fixed = free_port();
    let spec = format!("127.0.0.1:{fixed}:127.0.0.1:{echo_port}");
    master
        .ssh(&server)
        .arg("-O")
        .arg("forward")
        .arg("-R")
        .arg(&spec)
        .run("")
        .assert_success();
    assert_eq!(tcp_round_trip(fixed, "-R fixed"), "through -R fixed\n");
    master
        .ssh(&server)
        .arg("-O")
        .arg("cancel")
        .arg("-R")
        .arg(&spec)
        .run("")
        .assert_success();
    wait_until(
        "the cancelled port to close",
        Duration::from_secs(10),
        || !listening(fixed),
    );
    assert!(listening(allocated), "the other forward stays");
    drop(master);
    wait_until(
        "the forward to end with the connection",
        Duration::from_secs(10),
        || !listening(allocated),
    );
}

/// Several sessions over one connection at once, each with its own exit status, and
/// each terminal its own.
pub fn control_master_runs_several_sessions() {
    let server = Server::start("mux-sessions");
    let master = Master::start(&server);
    let handles: Vec<_> = (1..=4)
        .map(|k| {
            let ssh = master.ssh(&server);
            thread::spawn(move || ssh.run(&format!("sleep 0.3; echo session {k}; exit {k}")))
        })
        .collect();
    for (k, h) in (1..=4).zip(handles) {
        let out = h.join().unwrap();
        out.assert_code(k);
        assert_eq!(out.stdout_str(), format!("session {k}\n"));
    }
    let ttys: Vec<String> = (0..2)
        .map(|_| {
            let ssh = master.ssh(&server).arg("-tt");
            thread::spawn(move || ssh.run("tty; sleep 0.5"))
        })
        .collect::<Vec<_>>()
        .into_iter()
        .map(|h| {
            let out = h.join().unwrap();
            out.assert_success();
            out.stdout_str().trim().to_string()
        })
        .collect();
    assert!(ttys.iter().all(|t| t.starts_with("/dev/pts/")), "{ttys:?}");
    assert_ne!(ttys[0], ttys[1], "each session has its own terminal");
}

/// The refusals: AllowTcpForwarding local, PermitListen, `permitlisten=`, a privileged
/// port for a user other than root; and GatewayPorts deciding the address bound.
pub fn remote_forward_policy_and_gateway_ports() {
    let echo_port = tcp_echo();
    let try_r = |server: &Server, spec: &str| {
        server
            .ssh()
            .option("ExitOnForwardFailure=yes")
            .arg("-R")
            .arg(spec)
            .run("true")
    };
    let refused = |out: crate::common::Output| {
        assert_ne!(out.code, Some(0), "forward allowed: {}", out.stderr);
        assert!(
            out.stderr.contains("remote port forwarding failed"),
            "{}",
            out.stderr
        );
    };
    let local_only = Server::builder("rfwd-local-only")
        .config("AllowTcpForwarding local")
        .start();
    refused(try_r(
        &local_only,
        &format!("{}:127.0.0.1:{echo_port}", free_port()),
    ));
    let disabled = Server::builder("rfwd-disabled")
        .config("DisableForwarding yes")
        .start();
    refused(try_r(
        &disabled,
        &format!("{}:127.0.0.1:{echo_port}", free_port()),
    ));

    let (ok_port, key_port, other) = (free_port(), free_port(), free_port());
    let listen = Server::builder("rfwd-permitlisten")
        .config(&format!("PermitListen {ok_port} localhost:{key_port}"))
        .start();
    try_r(&listen, &format!("{ok_port}:127.0.0.1:{echo_port}")).assert_success();
    refused(try_r(&listen, &format!("{other}:127.0.0.1:{echo_port}")));
    refused(try_r(&listen, &format!("0:127.0.0.1:{echo_port}")));
    if !crate::common::is_root() || test_user() != "root" {
        refused(try_r(
            &listen,
            &format!("localhost:99:127.0.0.1:{echo_port}"),
        ));
    }
    // The key's permitlisten= narrows it further.
    let public = std::fs::read_to_string(format!("{}.pub", listen.client_key().display())).unwrap();
    std::fs::write(
        listen.dir().join("authorized_keys"),
        format!("permitlisten=\"localhost:{key_port}\" {public}"),
    )
    .unwrap();
    refused(try_r(&listen, &format!("{ok_port}:127.0.0.1:{echo_port}")));
    try_r(&listen, &format!("{key_port}:127.0.0.1:{echo_port}")).assert_success();
    listen.assert_logged("but the request was denied");

    // GatewayPorts no: a request for every address is bound to loopback only.
    let no = Server::start("rfwd-gateway-no");
    let port = free_port();
    let _fwd = Background::ssh(
        &no,
        &["-N", "-R", &format!("0.0.0.0:{port}:127.0.0.1:{echo_port}")],
    );
    wait_until("the forward", Duration::from_secs(15), || listening(port));
    let bound = listening_addresses(port);
    assert!(
        !bound.is_empty() && bound.iter().all(|a| a == "0100007F" || a == "::1"),
        "bound on {bound:?}"
    );
    // clientspecified: 127.0.0.1 as asked, and not ::1 too.
    let cs = Server::builder("rfwd-gateway-cs")
        .config("GatewayPorts clientspecified")
        .start();
    let port = free_port();
    let _fwd2 = Background::ssh(
        &cs,
        &[
            "-N",
            "-R",
            &format!("127.0.0.1:{port}:127.0.0.1:{echo_port}"),
        ],
    );
    wait_until("the forward", Duration::from_secs(15), || listening(port));
    assert_eq!(listening_addresses(port), vec!["0100007F".to_string()]);
    assert_eq!(
        tcp_round_trip(port, "clientspecified"),
        "through clientspecified\n"
    );
}

/// The local addresses of the sockets listening on `port`, from `/proc/net/tcp` (hex,
/// as the kernel writes IPv4) and `/proc/net/tcp6` (`::1` for loopback, else hex).
fn listening_addresses(port: u16) -> Vec<String> {
    let tcp = std::fs::read_to_string("/proc/net/tcp").unwrap_or_default();
    let tcp6 = std::fs::read_to_string("/proc/net/tcp6").unwrap_or_default();
    addresses_in(port, &tcp, &tcp6)
}

/// [`listening_addresses`] from the two tables' text.
fn addresses_in(port: u16, tcp: &str, tcp6: &str) -> Vec<String> {
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

/// `-L local.sock:target.sock` (direct-streamlocal) and `-R remote.sock:host:port`
/// (streamlocal-forward): both carry data; the socket bound for the client has
/// StreamLocalBindMask's mode and goes away with the connection.
pub fn unix_socket_forwards_both_ways() {
    let server = Server::builder("streamlocal")
        .config("StreamLocalBindMask 0111")
        .start();
    let d = server.dir();
    let target = d.join("target.sock");
    unix_echo(&target);
    let echo_port = tcp_echo();
    let (local, remote) = (d.join("local.sock"), d.join("remote.sock"));
    let mut fwd = Background::ssh(
        &server,
        &[
            "-N",
            "-o",
            "ExitOnForwardFailure=yes",
            "-L",
            &format!("{}:{}", local.display(), target.display()),
            "-R",
            &format!("{}:127.0.0.1:{echo_port}", remote.display()),
        ],
    );
    wait_until("both sockets", Duration::from_secs(15), || {
        local.exists() && remote.exists()
    });
    assert_eq!(unix_round_trip(&local, "-L unix"), "through -L unix\n");
    assert_eq!(unix_round_trip(&remote, "-R unix"), "through -R unix\n");
    let mode = std::fs::metadata(&remote).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o666, "StreamLocalBindMask 0111");
    // Bound by the post-auth child, as the user.
    if crate::common::is_root() {
        use std::os::unix::fs::MetadataExt;
        let u = nix::unistd::User::from_name(&test_user()).unwrap().unwrap();
        assert_eq!(std::fs::metadata(&remote).unwrap().uid(), u.uid.as_raw());
    }
    fwd.stop();
    wait_until("the connection to end", Duration::from_secs(10), || {
        UnixStream::connect(&remote).is_err()
    });
}

/// AllowStreamLocalForwarding no refuses both directions; StreamLocalBindUnlink
/// decides whether a stale socket file is replaced.
pub fn unix_socket_forward_policy() {
    let echo_port = tcp_echo();
    let try_r = |server: &Server, path: &Path| {
        server
            .ssh()
            .option("ExitOnForwardFailure=yes")
            .arg("-R")
            .arg(format!("{}:127.0.0.1:{echo_port}", path.display()))
            .run("echo forwarded")
    };
    let off = Server::builder("streamlocal-off")
        .config("AllowStreamLocalForwarding no")
        .start();
    let out = try_r(&off, &off.dir().join("r.sock"));
    assert_ne!(out.code, Some(0), "{}", out.stderr);
    let target = off.dir().join("target.sock");
    unix_echo(&target);
    let local = off.dir().join("local.sock");
    let _l = Background::ssh(
        &off,
        &[
            "-N",
            "-L",
            &format!("{}:{}", local.display(), target.display()),
        ],
    );
    wait_until("the client's socket", Duration::from_secs(15), || {
        local.exists()
    });
    let mut s = UnixStream::connect(&local).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let _ = s.write_all(b"x\n");
    let mut buf = [0u8; 8];
    assert!(
        matches!(s.read(&mut buf), Ok(0) | Err(_)),
        "refused: closed"
    );
    off.assert_logged("refused streamlocal port forward");

    // A stale socket where the forward goes.
    let keep = Server::start("streamlocal-keep");
    let stale = keep.dir().join("stale.sock");
    drop(UnixListener::bind(&stale).unwrap());
    assert_ne!(
        try_r(&keep, &stale).code,
        Some(0),
        "bound over a stale socket"
    );
    let unlink = Server::builder("streamlocal-unlink")
        .config("StreamLocalBindUnlink yes")
        .start();
    let stale = unlink.dir().join("stale.sock");
    drop(UnixListener::bind(&stale).unwrap());
    let out = try_r(&unlink, &stale);
    out.assert_success();
    assert_eq!(out.stdout_str(), "forwarded\n");
}

/// `ssh -A`: the far side lists the client's agent keys through SSH_AUTH_SOCK, in a
/// directory only the user may enter, removed when the session ends; refused by
/// AllowAgentForwarding no and by `no-agent-forwarding`.
pub fn agent_forwarding_with_dash_a() {
    let server = Server::start("agent-fwd");
    let sock = server.dir().join("agent.sock");
    let mut agent = Command::new("ssh-agent")
        .arg("-D")
        .arg("-a")
        .arg(&sock)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let _stop_agent = StopOnDrop(agent.id());
    wait_until("ssh-agent", Duration::from_secs(10), || sock.exists());
    let mut add = Command::new("ssh-add");
    add.arg("-q")
        .arg(server.client_key())
        .env("SSH_AUTH_SOCK", &sock);
    run_bounded(add, Input::Null, None, Duration::from_secs(30)).assert_success();
    let fp = crate::common::fingerprint(&PathBuf::from(format!(
        "{}.pub",
        server.client_key().display()
    )));
    let script = r#"ssh-add -l; echo "SOCK=$SSH_AUTH_SOCK"; stat -c 'MODE=%a' "$(dirname "$SSH_AUTH_SOCK")""#;
    let out = server
        .ssh()
        .arg("-A")
        .env("SSH_AUTH_SOCK", &sock)
        .run(script);
    out.assert_success();
    let text = out.stdout_str();
    assert!(text.contains(&fp), "{text}");
    assert!(text.contains("MODE=700"), "{text}");
    let far = text
        .lines()
        .find_map(|l| l.strip_prefix("SOCK="))
        .unwrap()
        .to_string();
    assert!(
        !far.is_empty() && far != sock.display().to_string(),
        "{text}"
    );
    wait_until("the agent socket to go", Duration::from_secs(10), || {
        !Path::new(&far).exists() && !Path::new(&far).parent().unwrap().exists()
    });

    let off = Server::builder("agent-fwd-off")
        .config("AllowAgentForwarding no")
        .start();
    let none = |s: &Server| {
        let out = s
            .ssh()
            .arg("-A")
            .env("SSH_AUTH_SOCK", &sock)
            .run("echo \"SOCK=$SSH_AUTH_SOCK\"");
        out.assert_success();
        assert_eq!(out.stdout_str(), "SOCK=\n");
    };
    none(&off);
    let key_off = Server::start("agent-fwd-key");
    let public =
        std::fs::read_to_string(format!("{}.pub", key_off.client_key().display())).unwrap();
    std::fs::write(
        key_off.dir().join("authorized_keys"),
        format!("no-agent-forwarding {public}"),
    )
    .unwrap();
    none(&key_off);
    let _ = agent.kill();
    let _ = agent.wait();
}

struct StopOnDrop(u32);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(self.0 as i32),
            nix::sys::signal::Signal::SIGTERM,
        );
    }
}

/// `ssh -D`: SOCKS5 with a name (resolved on the server, off its loop) and SOCKS4 with
/// an address, each through `direct-tcpip` to an echo server.
pub fn dynamic_forwarding_with_dash_d() {
    let server = Server::start("dynamic-fwd");
    let echo_port = tcp_echo();
    let socks = free_port();
    let _d = Background::ssh(&server, &["-N", "-D", &format!("127.0.0.1:{socks}")]);
    wait_until("the SOCKS port", Duration::from_secs(15), || {
        listening(socks)
    });
    // SOCKS5, no authentication, CONNECT to "localhost".
    let mut s = TcpStream::connect(("127.0.0.1", socks)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
    s.write_all(&[5, 1, 0]).unwrap();
    let mut hello = [0u8; 2];
    s.read_exact(&mut hello).unwrap();
    assert_eq!(hello, [5, 0]);
    let mut req = vec![5, 1, 0, 3, 9];
    req.extend_from_slice(b"localhost");
    req.extend_from_slice(&echo_port.to_be_bytes());
    s.write_all(&req).unwrap();
    let mut reply = [0u8; 10];
    s.read_exact(&mut reply).unwrap();
    assert_eq!(reply[1], 0, "SOCKS5 reply {reply:?}");
    assert_eq!(round_trip(&mut s, "SOCKS5"), "through SOCKS5\n");
    // SOCKS4 CONNECT to 127.0.0.1.
    let mut s = TcpStream::connect(("127.0.0.1", socks)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
    let mut req = vec![4, 1];
    req.extend_from_slice(&echo_port.to_be_bytes());
    req.extend_from_slice(&[127, 0, 0, 1, 0]);
    s.write_all(&req).unwrap();
    let mut reply = [0u8; 8];
    s.read_exact(&mut reply).unwrap();
    assert_eq!(reply[1], 90, "SOCKS4 reply {reply:?}");
    assert_eq!(round_trip(&mut s, "SOCKS4"), "through SOCKS4\n");
}

/// The client's keepalives (ServerAliveInterval) are answered: with one second and a
/// count of one, a silent three-second command would end in "Timeout, server not
/// responding" if they were not.
pub fn server_alive_interval_is_answered() {
    let server = Server::start("server-alive");
    let out = server
        .ssh()
        .option("ServerAliveInterval=1")
        .option("ServerAliveCountMax=1")
        .run("sleep 3; echo alive");
    out.assert_success();
    assert_eq!(out.stdout_str(), "alive\n");
}

/// AsyncSSH asks for a remote forward on port 0 and gets the port the server picked;
/// a connection to it reaches the forward's target.
pub fn asyncssh_remote_port_forwarding() {
    let server = Server::start("asyncssh-rfwd");
    let echo_port = tcp_echo();
    let script = r#"
import asyncio, sys, asyncssh, socket
port, user, key, kh, echo = sys.argv[1:6]
async def main():
    async with asyncssh.connect("127.0.0.1", port=int(port), username=user,
                                client_keys=[key], known_hosts=kh, agent_path=None,
                                config=[], login_timeout=20) as conn:
        listener = await conn.forward_remote_port("127.0.0.1", 0, "127.0.0.1", int(echo))
        p = listener.get_port()
        assert p != 0
        r, w = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", p), 10)
        w.write(b"through asyncssh\n")
        line = await asyncio.wait_for(r.readline(), 10)
        print(line.decode(), end="")
        w.close()
        listener.close()
asyncio.run(main())
"#;
    let mut c = Command::new(crate::common::python());
    c.arg("-c")
        .arg(script)
        .arg(server.port.to_string())
        .arg(server.user())
        .arg(server.client_key())
        .arg(server.dir().join("known_hosts"))
        .arg(echo_port.to_string());
    let out = run_bounded(c, Input::Null, None, Duration::from_secs(60));
    out.assert_success();
    assert_eq!(out.stdout_str(), "through asyncssh\n");
}

/// An Xvfb server on display `:n`, with a cookie of its own; stopped when dropped.
struct Xvfb {
    display: u32,
    authority: PathBuf,
    cookie: String,
    child: Child,
}

impl Drop for Xvfb {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Xvfb {
    /// Starts one on the first free display from `first` on (tests running at once
    /// use ranges of their own).
    fn start(dir: &Path, first: u32) -> Xvfb {
        let display = (first..first + 50)
            .find(|n| {
                !Path::new(&format!("/tmp/.X11-unix/X{n}")).exists()
                    && !Path::new(&format!("/tmp/.X{n}-lock")).exists()
            })
            .expect("a free display number");
        let authority = dir.join("Xauthority.client");
        let cookie: String = (0..16)
            .map(|i| format!("{:02x}", (i * 37 + display as usize * 11) % 251))
            .collect();
        let mut add = Command::new("xauth");
        add.arg("-f")
            .arg(&authority)
            .args(["add", &format!(":{display}"), ".", &cookie]);
        run_bounded(add, Input::Null, None, Duration::from_secs(30)).assert_success();
        let child = Command::new("Xvfb")
            .arg(format!(":{display}"))
            .arg("-auth")
            .arg(&authority)
            .args(["-nolisten", "tcp", "-screen", "0", "640x480x24"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // Owned (and so stopped) from here on, even if it never comes up.
        let x = Xvfb {
            display,
            authority,
            cookie,
            child,
        };
        let socket = PathBuf::from(format!("/tmp/.X11-unix/X{display}"));
        wait_until("Xvfb", Duration::from_secs(20), || socket.exists());
        x
    }

    fn ssh(&self, server: &Server) -> crate::common::Ssh {
        server
            .ssh()
            .arg("-Y")
            .env("DISPLAY", format!(":{}", self.display))
            .env("XAUTHORITY", &self.authority)
    }
}

/// `ssh -Y` against Xvfb: `xdpyinfo` on the far side reaches the client's display
/// through DISPLAY=localhost:N, which XAuthLocation's program stored with the client's
/// fake cookie (not the real one, which never leaves the client); X11DisplayOffset
/// picks N, and X11UseLocalhost keeps the display on loopback.
pub fn x11_forwarding_reaches_xvfb() {
    let probe = Server::start("x11-probe");
    let xvfb = Xvfb::start(probe.dir().path(), 90);
    drop(probe);
    let wrapper_dir = crate::common::TestDir::new("x11-xauth");
    let log = wrapper_dir.join("xauth.log");
    let wrapper = wrapper_dir.join("xauth");
    std::fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\necho \"xauth $*\" >> {}\nexec /usr/bin/xauth \"$@\"\n",
            log.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::write(&log, "").unwrap();
    std::fs::set_permissions(&log, std::fs::Permissions::from_mode(0o666)).unwrap();
    let server = Server::builder("x11")
        .config("X11Forwarding yes")
        .config("X11DisplayOffset 30")
        .config("X11UseLocalhost yes")
        .config(&format!("XAuthLocation {}", wrapper.display()))
        .start();
    let script = r#"echo "D=$DISPLAY"; xauth list "$DISPLAY" | sed 's/^/AUTH /'; xdpyinfo | grep -E '^(name of display|vendor string)'; sed 's/^/TCP4 /' /proc/net/tcp; sed 's/^/TCP6 /' /proc/net/tcp6"#;
    let out = xvfb.ssh(&server).run(script);
    out.assert_success();
    let text = out.stdout_str();
    let display = text
        .lines()
        .find_map(|l| l.strip_prefix("D="))
        .unwrap_or_default()
        .to_string();
    let n: u32 = display
        .strip_prefix("localhost:")
        .and_then(|r| r.strip_suffix(".0"))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("DISPLAY {display:?}\n{text}\n{}", out.stderr));
    assert!((30..1030).contains(&n), "X11DisplayOffset 30: {n}");
    assert!(
        text.contains(&format!("name of display:    {display}")),
        "{text}\n{}",
        out.stderr
    );
    assert!(text.contains("vendor string"), "{text}");
    let stored = text
        .lines()
        .find_map(|l| l.strip_prefix("AUTH "))
        .unwrap_or_else(|| panic!("no cookie stored: {text}"));
    assert!(stored.contains("MIT-MAGIC-COOKIE-1"), "{stored}");
    assert!(
        !stored.contains(&xvfb.cookie),
        "the real cookie left the client"
    );
    let calls = std::fs::read_to_string(&log).unwrap();
    if server.kind() == crate::common::ServerKind::Sisu {
        assert!(
            calls.contains("xauth -q -"),
            "XAuthLocation not used: {calls:?}"
        );
    } else {
        assert!(calls.contains("xauth"), "XAuthLocation not used: {calls:?}");
    }
    // While the session holds the display, it listens on loopback only.
    let table = |prefix: &str| -> String {
        let mut t = String::from("header\n");
        for l in text.lines().filter_map(|l| l.strip_prefix(prefix)) {
            t.push_str(l);
            t.push('\n');
        }
        t
    };
    let bound = addresses_in(6000 + n as u16, &table("TCP4 "), &table("TCP6 "));
    assert!(
        !bound.is_empty() && bound.iter().all(|a| a == "0100007F" || a == "::1"),
        "display bound on {bound:?}"
    );
}

/// Without X11Forwarding (the default), with `no-X11-forwarding`, or with an
/// XAuthLocation that does not exist, no display is set up.
pub fn x11_forwarding_refused() {
    let probe = Server::start("x11-off-probe");
    let xvfb = Xvfb::start(probe.dir().path(), 140);
    let check = |server: &Server| {
        let out = xvfb.ssh(server).run("echo \"D=$DISPLAY\"");
        out.assert_success();
        assert_eq!(out.stdout_str(), "D=\n", "{}", out.stderr);
        assert!(
            out.stderr.contains("X11 forwarding request failed"),
            "{}",
            out.stderr
        );
    };
    check(&probe);
    let no_xauth = Server::builder("x11-no-xauth")
        .config("X11Forwarding yes")
        .config("XAuthLocation /nonexistent/xauth")
        .start();
    check(&no_xauth);
    let key = Server::builder("x11-key")
        .config("X11Forwarding yes")
        .start();
    let public = std::fs::read_to_string(format!("{}.pub", key.client_key().display())).unwrap();
    std::fs::write(
        key.dir().join("authorized_keys"),
        format!("no-X11-forwarding {public}"),
    )
    .unwrap();
    check(&key);
}

/// ChannelTimeout closes a session idle for its type's interval (a busy one, and a
/// type the setting does not name, run on); UnusedConnectionTimeout ends a connection
/// that opens no channel.
pub fn channel_and_unused_connection_timeouts() {
    let server = Server::builder("timeouts")
        .config("LogLevel VERBOSE")
        .config("ChannelTimeout session:shell=1 session:command=2s")
        .config("UnusedConnectionTimeout 2")
        .start();
    let started = Instant::now();
    let out = server.ssh().run("sleep 10; echo late");
    let took = started.elapsed();
    assert!(!out.stdout_str().contains("late"), "not closed: {out:?}");
    assert!(took < Duration::from_secs(8), "closed after {took:?}");
    server.assert_logged("seconds of inactivity");
    // Output every half second keeps a command channel alive past its 2 s.
    let out = server
        .ssh()
        .run("for i in 1 2 3 4 5 6 7 8; do echo $i; sleep 0.5; done; echo done");
    out.assert_success();
    assert!(out.stdout_str().ends_with("done\n"), "{}", out.stdout_str());
    // No channel at all: the connection ends.
    let started = Instant::now();
    let out = server
        .ssh()
        .arg("-N")
        .timeout(Duration::from_secs(20))
        .run("");
    let took = started.elapsed();
    assert!(
        took < Duration::from_secs(10),
        "connection kept {took:?}: {out:?}"
    );
    server.assert_logged("terminating inactive connection from");
    // The clock starts again when the last channel closes (a busy session holds it).
    let master = Master::start(&server);
    let out = master
        .ssh(&server)
        .run("for i in 1 2 3 4 5 6; do echo $i; sleep 0.5; done; echo session");
    out.assert_success();
    assert!(
        out.stdout_str().ends_with("session\n"),
        "{}",
        out.stdout_str()
    );
    wait_until(
        "the idle connection to end",
        Duration::from_secs(10),
        || !master.ctl.exists(),
    );
}

/// With X11 forwarded, `~/.ssh/rc` gets `PROTOCOL COOKIE` on its stdin (the client's
/// fake cookie) and stores it itself: the server's own xauth run is left out.
pub fn x11_cookie_goes_to_the_rc_file() {
    let p = Server::builder("x11-rc")
        .config("X11Forwarding yes")
        .prepare();
    let home = p.account_with_home("sisux11rc");
    std::fs::write(
        home.join(".ssh/rc"),
        "read proto cookie\necho \"rc got $proto ${#cookie}\"\n",
    )
    .unwrap();
    let server = p.start();
    let xvfb = Xvfb::start(server.dir().path(), 190);
    let out = xvfb
        .ssh(&server)
        .login_as("sisux11rc")
        .run("echo \"D=$DISPLAY\"; xauth list \"$DISPLAY\" | wc -l");
    out.assert_success();
    let text = out.stdout_str();
    assert!(
        text.starts_with("rc got MIT-MAGIC-COOKIE-1 32\n"),
        "{text}\n{}",
        out.stderr
    );
    assert!(text.contains("D=localhost:"), "{text}");
    assert!(
        text.ends_with("0\n"),
        "xauth ran although the rc file did: {text}"
    );
}

/// x11-req's single-connection (paramiko asks for it): the display takes one
/// connection, which reaches the client as an `x11` channel, and then closes.
pub fn x11_single_connection() {
    let server = Server::builder("x11-single")
        .config("X11Forwarding yes")
        .start();
    let script = r#"
import sys, paramiko, threading
port, user, key, kh = sys.argv[1:5]
c = paramiko.SSHClient()
c.load_host_keys(kh)
c.connect("127.0.0.1", port=int(port), username=user, key_filename=key,
          look_for_keys=False, allow_agent=False, timeout=20)
got = []
def handler(channel, origin):
    got.append(origin)
    channel.close()
chan = c.get_transport().open_session()
chan.request_x11(single_connection=True, auth_cookie="00" * 16, handler=handler)
probe = ("import os, socket, time\n"
         "n = int(os.environ['DISPLAY'].split(':')[1].split('.')[0])\n"
         "socket.create_connection(('127.0.0.1', 6000 + n), 5)\n"
         "time.sleep(1)\n"
         "try:\n"
         "    socket.create_connection(('127.0.0.1', 6000 + n), 5); print('second accepted')\n"
         "except OSError:\n"
         "    print('second refused')\n")
import base64
chan.exec_command("python3 -c \"import base64; exec(base64.b64decode('"
                  + base64.b64encode(probe.encode()).decode() + "'))\"")
out = chan.makefile().read().decode()
print(out.strip(), len(got))
"#;
    let mut c = Command::new(crate::common::python());
    c.arg("-c")
        .arg(script)
        .arg(server.port.to_string())
        .arg(server.user())
        .arg(server.client_key())
        .arg(server.dir().join("known_hosts"));
    let out = run_bounded(c, Input::Null, None, Duration::from_secs(60));
    out.assert_success();
    assert_eq!(
        out.stdout_str().trim(),
        "second refused 1",
        "{}",
        out.stderr
    );
}
