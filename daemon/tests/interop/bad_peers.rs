//! Bad peers over raw TCP: each is closed within a bound, gets a log line naming its
//! port, and a normal login still works afterwards.

use crate::common::{raw_connect, read_ident, read_until_closed, Server};
use std::io::Write;
use std::time::Duration;

/// How long the server gets to close a misbehaving connection.
const CLOSE_BOUND: Duration = Duration::from_secs(10);

/// After a bad peer: the server logged a line with the peer's port and still serves.
fn still_serving(server: &Server, peer_port: u16) {
    let tag = format!("port {peer_port}");
    let logged = server.wait_log_line(Duration::from_secs(5), |l| l.contains(&tag));
    assert!(logged.is_some(), "no log line for {tag}:\n{}", server.log());
    let out = server.ssh().run("echo alive");
    out.assert_success();
    assert_eq!(out.stdout_str(), "alive\n");
}

fn send_and_expect_close(server: &Server, payload: &[u8], read_server_ident: bool) -> Vec<u8> {
    let mut s = raw_connect(server, CLOSE_BOUND);
    let port = s.local_addr().unwrap().port();
    if read_server_ident {
        let ident = read_ident(&mut s);
        assert!(ident.starts_with("SSH-2.0-"), "server ident: {ident:?}");
    }
    // The server may close while we are still writing: that is fine.
    let _ = s.write_all(payload);
    let (got, closed) = read_until_closed(&mut s, CLOSE_BOUND);
    assert!(closed, "server did not close within {CLOSE_BOUND:?}");
    still_serving(server, port);
    got
}

pub fn garbage_instead_of_identification() {
    let server = Server::start("garbage");
    send_and_expect_close(&server, b"GARBAGE GARBAGE\r\nMORE GARBAGE\r\n", false);
}

pub fn over_long_identification_line() {
    let server = Server::start("longident");
    // RFC 4253 allows 255 bytes; OpenSSH tolerates up to 8 KiB. 64 KiB is too long for
    // both.
    let mut line = b"SSH-2.0-".to_vec();
    line.resize(line.len() + 64 * 1024, b'a');
    line.extend_from_slice(b"\r\n");
    send_and_expect_close(&server, &line, false);
}

fn bad_length(name: &str, len: u32) {
    let server = Server::start(name);
    let mut payload = b"SSH-2.0-BadPeer_1.0\r\n".to_vec();
    payload.extend_from_slice(&len.to_be_bytes());
    payload.extend_from_slice(&[0u8; 60]);
    send_and_expect_close(&server, &payload, true);
}

pub fn packet_length_zero() {
    bad_length("len0", 0);
}

pub fn packet_length_ffffffff() {
    bad_length("lenmax", 0xffff_ffff);
}

pub fn silent_client_hits_login_grace_time() {
    let server = Server::builder("grace").option("LoginGraceTime=2").start();
    let mut s = raw_connect(&server, CLOSE_BOUND);
    let port = s.local_addr().unwrap().port();
    let t0 = std::time::Instant::now();
    let (_, closed) = read_until_closed(&mut s, Duration::from_secs(8));
    assert!(
        closed,
        "a silent client was not closed within 8 s with LoginGraceTime=2"
    );
    assert!(
        t0.elapsed() >= Duration::from_millis(1500),
        "closed after {:?}, before LoginGraceTime",
        t0.elapsed()
    );
    still_serving(&server, port);
}
