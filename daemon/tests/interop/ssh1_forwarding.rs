//! Protocol 1's forwardings with OpenSSH 7.5's `ssh1 -1`, through the same channel
//! code as SSH-2's: local (`-L`) and remote (`-R`) TCP forwarding, the agent (`-A`)
//! and X11 (`-X`).

use crate::background::tcp_echo;
use crate::common::{run_bounded, Input, CLIENT_TIMEOUT};
use crate::ssh1::start_v1;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

/// Sends `msg` to 127.0.0.1:`port` once something listens there (bounded), and
/// prints what comes back until the other end closes.
fn echo_through(port: u16, msg: &str) -> crate::common::Output {
    let script = format!(
        "import socket,time\nfor i in range(100):\n  try:\n    c=socket.create_connection(('127.0.0.1',{port}));break\n  except OSError: time.sleep(0.1)\nc.sendall(b'{msg}');c.shutdown(socket.SHUT_WR)\nd=b''\nwhile True:\n  b=c.recv(100)\n  if not b: break\n  d+=b\nprint(d.decode())\n"
    );
    let mut py = Command::new("python3");
    py.args(["-c", &script]);
    run_bounded(py, Input::Null, None, CLIENT_TIMEOUT)
}

/// `-L`: a local forward through the server to a TCP echo service.
pub fn ssh1_local_forward() {
    let s = start_v1("ssh1-forward", &[]);
    let echo = tcp_echo();
    let local = crate::common::free_port();
    let spec = format!("{local}:127.0.0.1:{echo}");
    let child_out = std::thread::scope(|sc| {
        let h = sc.spawn(|| s.ssh1("3des", &["-L", &spec, "127.0.0.1", "sleep 5"], Input::Null));
        (echo_through(local, "ping-ssh1"), h.join().unwrap())
    });
    child_out.1.assert_success();
    assert_eq!(
        child_out.0.stdout_str(),
        "ping-ssh1\n",
        "{}",
        child_out.0.stderr
    );
}

/// `-R`: the server listens for the client and carries connections back to a TCP
/// echo service on the client's side.
pub fn ssh1_remote_forward() {
    let s = start_v1("ssh1-rforward", &[]);
    let echo = tcp_echo();
    let remote = crate::common::free_port();
    let spec = format!("{remote}:127.0.0.1:{echo}");
    let (got, client) = std::thread::scope(|sc| {
        let h = sc.spawn(|| s.ssh1("3des", &["-R", &spec, "127.0.0.1", "sleep 5"], Input::Null));
        (echo_through(remote, "pong-ssh1"), h.join().unwrap())
    });
    client.assert_success();
    assert_eq!(got.stdout_str(), "pong-ssh1\n", "{}", got.stderr);
}

/// `-A`: the client's agent answers through the forwarded socket (`ssh-add -l` on
/// the server lists the agent's key).
pub fn ssh1_agent_forwarding() {
    let s = start_v1("ssh1-agent", &[]);
    let sock = s.server.dir().join("agent.sock");
    let _agent = crate::background::Agent::start(&sock);
    let mut add = Command::new("ssh-add");
    add.arg("-q")
        .arg(s.server.client_key())
        .env("SSH_AUTH_SOCK", &sock);
    run_bounded(add, Input::Null, None, Duration::from_secs(30)).assert_success();
    let fp = crate::common::fingerprint(&PathBuf::from(format!(
        "{}.pub",
        s.server.client_key().display()
    )));
    // The client logs in with its rsa1 key (-i); the agent socket only travels.
    let mut cmd = s.ssh1_command("3des", &["-A", "127.0.0.1", "ssh-add -l"]);
    cmd.env("SSH_AUTH_SOCK", &sock);
    let out = run_bounded(cmd, Input::Null, None, CLIENT_TIMEOUT);
    out.assert_success();
    assert!(
        out.stdout_str().contains(&fp),
        "{}\n{}",
        out.stdout_str(),
        out.stderr
    );
}

/// `-X` over protocol 1: `xdpyinfo` on the server reaches the client's Xvfb display
/// through the forwarded X11 channel.
pub fn ssh1_x11_forwarding() {
    let s = start_v1("ssh1-x11", &["X11Forwarding yes", "X11DisplayOffset 40"]);
    let xvfb = crate::x11::Xvfb::start(s.server.dir().path(), 140);
    let mut cmd = s.ssh1_command(
        "3des",
        &[
            "-X",
            "127.0.0.1",
            "echo D=$DISPLAY; xdpyinfo | grep 'vendor string'",
        ],
    );
    cmd.env("DISPLAY", format!(":{}", xvfb.display))
        .env("XAUTHORITY", &xvfb.authority);
    let out = run_bounded(cmd, Input::Null, None, CLIENT_TIMEOUT);
    out.assert_success();
    let text = out.stdout_str();
    assert!(text.contains("D=localhost:4"), "{text}\n{}", out.stderr);
    assert!(text.contains("vendor string"), "{text}\n{}", out.stderr);
}
