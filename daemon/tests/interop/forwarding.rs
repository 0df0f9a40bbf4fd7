//! Local port forwarding (`direct-tcpip`) with `ssh -W` and `ssh -L`, and the policy
//! that refuses it: AllowTcpForwarding, PermitOpen, and the authorized_keys options
//! `no-port-forwarding`, `restrict` and `permitopen=`.

use crate::common::{free_port, Server};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

/// An echo server on 127.0.0.1 that answers every connection by echoing until EOF;
/// it stops after `connections` connections.
fn echo_server(connections: usize) -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    thread::spawn(move || {
        for s in l.incoming().take(connections) {
            let Ok(mut s) = s else { return };
            let _ = s.set_read_timeout(Some(Duration::from_secs(30)));
            thread::spawn(move || {
                let mut buf = [0u8; 16384];
                while let Ok(n) = s.read(&mut buf) {
                    if n == 0 || s.write_all(&buf[..n]).is_err() {
                        break;
                    }
                }
            });
        }
    });
    port
}

fn set_key_options(server: &Server, options: &str) {
    let public = std::fs::read_to_string(format!("{}.pub", server.client_key().display())).unwrap();
    std::fs::write(
        server.dir().join("authorized_keys"),
        format!("{options} {public}"),
    )
    .unwrap();
}

pub fn stdio_forwarding_carries_data_both_ways() {
    let server = Server::start("fwd-w");
    let port = echo_server(1);
    let data: Vec<u8> = (0..300_000u32).map(|i| (i % 253) as u8).collect();
    let out = server
        .ssh()
        .arg("-W")
        .arg(format!("127.0.0.1:{port}"))
        .stdin_bytes(data.clone())
        .run("");
    out.assert_success();
    assert!(
        out.stdout == data,
        "echoed data differs ({} bytes back)",
        out.stdout.len()
    );
}

pub fn local_forward_with_dash_l() {
    let server = Server::start("fwd-l");
    let target = echo_server(2);
    let local = free_port();
    let mut cmd = std::process::Command::new("ssh");
    cmd.args(server.client_options(server.client_key()))
        .args(["-N", "-o", "ExitOnForwardFailure=yes", "-p"])
        .arg(server.port.to_string())
        .arg("-L")
        .arg(format!("127.0.0.1:{local}:127.0.0.1:{target}"))
        .arg(format!("{}@127.0.0.1", server.user()))
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    let mut child = cmd.spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut s = loop {
        match TcpStream::connect(("127.0.0.1", local)) {
            Ok(s) => break s,
            Err(_) if Instant::now() < deadline => thread::sleep(Duration::from_millis(50)),
            Err(e) => {
                let _ = child.kill();
                panic!("ssh -L did not listen: {e}");
            }
        }
    };
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(b"through the tunnel\n").unwrap();
    let mut buf = [0u8; 64];
    let n = s.read(&mut buf).unwrap_or(0);
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(&buf[..n], b"through the tunnel\n");
}

pub fn forwarding_refused_by_config_and_key_options() {
    let port = echo_server(8);
    let target = format!("127.0.0.1:{port}");
    let try_w = |server: &Server| {
        server
            .ssh()
            .arg("-W")
            .arg(&target)
            .stdin_bytes(b"ping".to_vec())
            .run("")
    };
    let off = Server::builder("fwd-off")
        .config("AllowTcpForwarding no")
        .start();
    let out = try_w(&off);
    assert_ne!(out.code, Some(0));
    assert!(
        out.stderr.contains("administratively prohibited"),
        "{}",
        out.stderr
    );

    // DisableForwarding overrides AllowTcpForwarding yes.
    let disabled = Server::builder("fwd-disabled")
        .config("DisableForwarding yes")
        .config("AllowTcpForwarding yes")
        .start();
    let out = try_w(&disabled);
    assert_ne!(out.code, Some(0));
    assert!(
        out.stderr.contains("administratively prohibited"),
        "{}",
        out.stderr
    );

    let other_only = Server::builder("fwd-permitopen")
        .config("PermitOpen 127.0.0.1:1")
        .start();
    assert_ne!(try_w(&other_only).code, Some(0));

    let server = Server::start("fwd-key");
    for (opts, ok) in [
        ("no-port-forwarding", false),
        ("restrict", false),
        ("restrict,port-forwarding", true),
        (&*format!("permitopen=\"127.0.0.1:{port}\""), true),
        ("permitopen=\"127.0.0.1:1\"", false),
    ] {
        set_key_options(&server, opts);
        let out = try_w(&server);
        assert_eq!(out.code == Some(0), ok, "{opts}: {}", out.stderr);
        if ok {
            assert_eq!(out.stdout, b"ping");
        }
    }
}

/// A paramiko client that opens a `direct-tcpip` channel to 127.0.0.1:PORT (a
/// destination that never completes the TCP handshake) and, while that open is
/// pending, runs `echo quick` on a session channel of the same connection. It prints
/// the seconds the command took, then what became of the forward and after how long.
const STALLED_CONNECT_PY: &str = r#"
import sys, time, threading, paramiko
port, user, key, known, target = sys.argv[1:6]
c = paramiko.SSHClient()
c.load_host_keys(known)
c.set_missing_host_key_policy(paramiko.RejectPolicy())
c.connect("127.0.0.1", port=int(port), username=user, key_filename=key,
          look_for_keys=False, allow_agent=False, timeout=10, banner_timeout=10, auth_timeout=10)
t = c.get_transport()
result = {}
def forward():
    t0 = time.time()
    try:
        t.open_channel("direct-tcpip", ("127.0.0.1", int(target)), ("127.0.0.1", 1), timeout=30)
        result["fwd"] = "opened"
    except paramiko.ChannelException as e:
        result["fwd"] = "refused %d" % e.code
    except Exception as e:
        result["fwd"] = "error %r" % (e,)
    result["fwd_s"] = time.time() - t0
th = threading.Thread(target=forward)
th.start()
time.sleep(0.5)
t0 = time.time()
s = t.open_session(timeout=10)
s.exec_command("echo quick")
out = s.makefile().read()
print("%.2f %s" % (time.time() - t0, out.decode().strip()))
th.join(40)
print("%s %.1f" % (result.get("fwd"), result.get("fwd_s", -1)))
c.close()
"#;

/// A listening socket whose accept queue is full and never accepted from: a further
/// connection to it stays in SYN-SENT (the kernel drops its SYNs), as to a host that
/// does not answer. Its port, and what must stay alive for as long as it is needed.
fn unanswering_destination() -> (u16, Vec<std::process::Child>) {
    // Python sets the backlog to 0 (std has no way to), then one connection fills it.
    let script = "import socket,sys,time\n\
        l=socket.socket(); l.bind(('127.0.0.1',0)); l.listen(0)\n\
        p=l.getsockname()[1]\n\
        a=socket.socket(); a.connect(('127.0.0.1',p))\n\
        b=socket.socket(); b.setblocking(False)\n\
        try: b.connect(('127.0.0.1',p))\n\
        except BlockingIOError: pass\n\
        print(p, flush=True); time.sleep(120)\n";
    let mut child = std::process::Command::new("python3")
        .arg("-c")
        .arg(script)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
    std::io::BufRead::read_line(&mut out, &mut line).unwrap();
    (line.trim().parse().unwrap(), vec![child])
}

/// A forwarding whose destination does not answer neither stalls the connection's
/// other channels (the connect does not block the loop) nor hangs: it is refused with
/// "connect failed" when its time is up.
pub fn a_stalled_forward_connect_blocks_nothing() {
    let server = Server::builder("fwd-stalled")
        .config("AllowTcpForwarding yes")
        .start();
    let (target, mut holders) = unanswering_destination();
    let mut cmd = std::process::Command::new("python3");
    cmd.arg("-c")
        .arg(STALLED_CONNECT_PY)
        .arg(server.port.to_string())
        .arg(server.user())
        .arg(server.client_key())
        .arg(server.dir().join("known_hosts"))
        .arg(target.to_string());
    let out = crate::common::run_bounded(
        cmd,
        crate::common::Input::Null,
        None,
        Duration::from_secs(90),
    );
    for h in &mut holders {
        let _ = h.kill();
        let _ = h.wait();
    }
    out.assert_success();
    let text = out.stdout_str();
    let mut lines = text.lines();
    let first: Vec<&str> = lines.next().unwrap_or_default().split(' ').collect();
    let secs: f64 = first[0].parse().unwrap();
    assert_eq!(first.get(1), Some(&"quick"), "{text}");
    assert!(
        secs < 3.0,
        "the command waited {secs} s for the pending connect\n{text}"
    );
    let second: Vec<&str> = lines.next().unwrap_or_default().split(' ').collect();
    // SSH_OPEN_CONNECT_FAILED is 2; sisu-sshd gives up after 10 s.
    assert_eq!(second[..2], ["refused", "2"], "{text}\n{}", server.log());
    let fwd_secs: f64 = second[2].parse().unwrap();
    assert!(
        (8.0..20.0).contains(&fwd_secs),
        "refused after {fwd_secs} s"
    );
}

/// A paramiko client that opens `direct-tcpip` to 127.0.0.1:PORT, sends 64 KiB and
/// closes the channel at once (DATA, EOF and CLOSE back to back).
const SEND_AND_CLOSE_PY: &str = r#"
import sys, paramiko
port, user, key, known, target = sys.argv[1:6]
c = paramiko.SSHClient()
c.load_host_keys(known)
c.set_missing_host_key_policy(paramiko.RejectPolicy())
c.connect("127.0.0.1", port=int(port), username=user, key_filename=key,
          look_for_keys=False, allow_agent=False, timeout=10, banner_timeout=10, auth_timeout=10)
t = c.get_transport()
ch = t.open_channel("direct-tcpip", ("127.0.0.1", int(target)), ("127.0.0.1", 1), timeout=30)
ch.sendall(b"s" * 65536)
ch.shutdown_write()
ch.close()
import time; time.sleep(1)
c.close()
print("sent")
"#;

/// What a client sends just before it closes a forwarded channel reaches the
/// destination whole: the server writes it out after the channel is gone (it used
/// to drop what it had not written yet when the CLOSE came in the same read).
pub fn data_sent_just_before_close_is_delivered() {
    let server = Server::start("fwd-send-close");
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let target = listener.local_addr().unwrap().port();
    let got = std::thread::spawn(move || {
        use std::io::Read;
        let (mut s, _) = listener.accept().unwrap();
        s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        let mut all = Vec::new();
        let _ = s.read_to_end(&mut all);
        all.len()
    });
    let out = crate::background::python_peer(
        &server,
        SEND_AND_CLOSE_PY,
        &[std::ffi::OsStr::new(&target.to_string())],
    );
    out.assert_success();
    assert_eq!(got.join().unwrap(), 65536, "{}", out.stderr);
}
