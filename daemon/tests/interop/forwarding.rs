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
