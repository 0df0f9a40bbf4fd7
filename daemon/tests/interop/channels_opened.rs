//! Channels the server opens towards the client, and what leads to them: remote port
//! forwarding (`ssh -R`, `-R 0`, cancelled through a ControlMaster), Unix-socket
//! forwarding both ways, agent forwarding (`ssh -A`), and the policy keywords of each
//! (AllowTcpForwarding, PermitListen, GatewayPorts, `permitlisten=`,
//! AllowStreamLocalForwarding, StreamLocalBindMask, StreamLocalBindUnlink,
//! AllowAgentForwarding, `no-agent-forwarding`). Also dynamic forwarding (`ssh -D`,
//! SOCKS through `direct-tcpip`) and several sessions over one ControlMaster. X11 is
//! in `x11.rs`, keepalives and timeouts in `liveness.rs`.

use crate::background::*;
use crate::common::{free_port, run_bounded, test_user, Input, Server};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::thread;
use std::time::Duration;

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
    let mut agent = crate::background::Agent::start(&sock);
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
    agent.stop();
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
    let port = echo_port.to_string();
    let out = python_peer(&server, script, &[port.as_ref()]);
    out.assert_success();
    assert_eq!(out.stdout_str(), "through asyncssh\n");
}
