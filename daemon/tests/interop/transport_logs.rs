//! The server's log lines for transport failures, in OpenSSH's wording, now chosen by
//! the `TransportError` variant rather than by parsing its text: no matching
//! algorithm (`Unable to negotiate … Their offer: …`), a bad identification
//! (`kex_exchange_identification: …`), and any other fatal error
//! (`ssh_dispatch_run_fatal: …`, here a strict-kex violation).

use crate::common::{raw_connect, read_until_closed, Server, ServerKind};
use sisu_kex::{Transport, TransportConfig};
use std::io::Write;
use std::time::Duration;

fn line_with(server: &Server, prefix: &str, suffix: &str) -> String {
    server
        .wait_log_line(Duration::from_secs(10), |l| {
            l.starts_with(prefix) && l.ends_with(suffix)
        })
        .unwrap_or_else(|| panic!("no line {prefix:?} … {suffix:?}:\n{}", server.log()))
}

pub fn no_matching_algorithm_lines_name_the_list_and_the_offer() {
    let server = Server::start("log-nomatch");
    let out = server
        .ssh()
        .option("KexAlgorithms=diffie-hellman-group1-sha1")
        .run("true");
    assert_eq!(out.code, Some(255));
    line_with(
        &server,
        "Unable to negotiate with 127.0.0.1 port ",
        ": no matching key exchange method found. Their offer: \
         diffie-hellman-group1-sha1,ext-info-c,kex-strict-c-v00@openssh.com [preauth]",
    );
    let out = server.ssh().option("Ciphers=aes128-cbc").run("true");
    assert_eq!(out.code, Some(255));
    line_with(
        &server,
        "Unable to negotiate with 127.0.0.1 port ",
        ": no matching cipher found. Their offer: aes128-cbc [preauth]",
    );
}

pub fn identification_and_dispatch_lines() {
    let server = Server::start("log-fatal");
    // Not SSH at all.
    let mut s = raw_connect(&server, Duration::from_secs(10));
    let port = s.local_addr().unwrap().port();
    let _ = s.write_all(b"GARBAGE GARBAGE\r\n");
    assert!(read_until_closed(&mut s, Duration::from_secs(10)).1);
    if server.kind() == ServerKind::Sisu {
        line_with(
            &server,
            "kex_exchange_identification: invalid protocol identifier \"GARBAGE GARBAGE\"; \
             Connection from 127.0.0.1 port ",
            &format!("port {port} [preauth]"),
        );
    }
    // A strict-kex client whose first packet is an IGNORE, not its KEXINIT.
    let mut client = Transport::client(TransportConfig::default(), Box::new(rand_core::OsRng));
    let hello = client.poll_transmit().unwrap();
    let cut = hello.iter().position(|&b| b == b'\n').unwrap() + 1;
    // uint32 12, padding 6, SSH_MSG_IGNORE with an empty string, 6 bytes of padding.
    let ignore = [0, 0, 0, 12, 6, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    let mut s = raw_connect(&server, Duration::from_secs(10));
    let port = s.local_addr().unwrap().port();
    let _ = s.write_all(&[&hello[..cut], &ignore, &hello[cut..]].concat());
    assert!(read_until_closed(&mut s, Duration::from_secs(10)).1);
    if server.kind() == ServerKind::Sisu {
        line_with(
            &server,
            &format!("ssh_dispatch_run_fatal: Connection from 127.0.0.1 port {port}: "),
            "strict KEX violation: KEXINIT was not the first packet [preauth]",
        );
    }
}
