//! `MaxStartups` counts only connections that have not authenticated yet: silent
//! connections fill it and the next one is dropped, while logged-in sessions do not
//! count.

use crate::common::{raw_connect, read_until_closed, Server};
use std::io::Read;
use std::thread;
use std::time::Duration;

pub fn unauthenticated_connections_fill_max_startups_sessions_do_not() {
    let server = Server::builder("maxstartups")
        .config("MaxStartups 2")
        .start();
    // Two logged-in sessions that last a while do not count.
    let sessions: Vec<_> = (0..2)
        .map(|_| {
            let ssh = server.ssh().timeout(Duration::from_secs(30));
            thread::spawn(move || ssh.run("sleep 4"))
        })
        .collect();
    thread::sleep(Duration::from_millis(2500));
    server.ssh().run("true").assert_success();

    // Two silent connections (each has read the server's identification line, so its
    // session process is running) fill MaxStartups 2; the third is dropped at once.
    let mut silent: Vec<_> = (0..2)
        .map(|_| {
            let mut s = raw_connect(&server, Duration::from_secs(5));
            let mut b = [0u8; 64];
            let n = s.read(&mut b).expect("identification line");
            assert!(b[..n].starts_with(b"SSH-"));
            s
        })
        .collect();
    let mut third = raw_connect(&server, Duration::from_secs(5));
    let (bytes, closed) = read_until_closed(&mut third, Duration::from_secs(5));
    // Dropped: closed without an identification line (OpenSSH writes a short notice).
    assert!(
        closed && !bytes.starts_with(b"SSH-"),
        "third connection was served: {:?}",
        String::from_utf8_lossy(&bytes)
    );
    assert!(
        server
            .wait_log_line(Duration::from_secs(5), |l| l.contains("past MaxStartups"))
            .is_some(),
        "{}",
        server.log()
    );
    silent.clear();
    thread::sleep(Duration::from_millis(500));
    server.ssh().run("true").assert_success();
    for s in sessions {
        s.join().unwrap().assert_success();
    }
}
