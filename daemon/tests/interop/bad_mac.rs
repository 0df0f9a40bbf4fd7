//! A packet with a bad MAC after the key exchange: the server refuses it (a DISCONNECT
//! with SSH_DISCONNECT_MAC_ERROR, or a close), logs it, and serves the next client.
//!
//! The peer here is `sisu-kex`'s client role over a real TCP connection, since no
//! ordinary client can be told to corrupt its own packets; the server is the real
//! binary (or OpenSSH's, to check the test).

use crate::common::{raw_connect, Server, ServerKind};
use sisu_kex::{Event, Transport, TransportConfig};
use std::io::{Read, Write};
use std::time::{Duration, Instant};

pub fn bad_mac_is_refused_and_logged() {
    let server = Server::start("bad-mac");
    let mut sock = raw_connect(&server, Duration::from_secs(10));
    let mut client = Transport::client(TransportConfig::default(), Box::new(rand_core::OsRng));
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut buf = vec![0u8; 65536];
    while client.session_id().is_none() {
        assert!(Instant::now() < deadline, "key exchange did not finish");
        if let Some(out) = client.poll_transmit() {
            sock.write_all(&out).unwrap();
        }
        let n = sock.read(&mut buf).expect("read from server");
        assert!(n > 0, "server closed during key exchange");
        client.handle_input(&buf[..n]).expect("key exchange");
        while client.poll_event().is_some() {}
    }
    if let Some(out) = client.poll_transmit() {
        sock.write_all(&out).unwrap();
    }
    client.request_service("ssh-userauth").unwrap();
    let mut packet = client.poll_transmit().expect("service request packet");
    let last = packet.len() - 1;
    packet[last] ^= 0x01; // inside the MAC / AEAD tag
    sock.write_all(&packet).unwrap();
    let (reply, closed) = crate::common::read_until_closed(&mut sock, Duration::from_secs(10));
    assert!(closed, "server kept the connection open after a bad MAC");
    if server.kind() == ServerKind::Sisu {
        // The DISCONNECT is sealed with the new keys: the client machine reads it.
        let _ = client.handle_input(&reply);
        let mut reason = None;
        while let Some(e) = client.poll_event() {
            if let Event::Disconnected { reason: r, .. } = e {
                reason = Some(r);
            }
        }
        assert_eq!(reason, Some(5), "DISCONNECT with SSH_DISCONNECT_MAC_ERROR");
    }
    assert!(
        server
            .wait_log_line(Duration::from_secs(5), |l| l
                .to_ascii_lowercase()
                .contains("message authentication code incorrect"))
            .is_some(),
        "{}",
        server.log()
    );
    server.ssh().run("true").assert_success();
}
