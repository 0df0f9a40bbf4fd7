//! Dropbear's client `dbclient` (Debian's `dropbear-bin`): it sets
//! `first_kex_packet_follows` and sends its first key-exchange packet right after its
//! KEXINIT (RFC 4253 §7.1), and lists `kexguess2@matt.ucc.asn.au`. Its guess must be
//! served: used when right (the default lists: both offer kexguess2 and negotiation
//! lands on its first choice), dropped when wrong (the server allows only a method the
//! client did not guess, so it sends its packet again).

use crate::common::{run_bounded, Input, Server};
use std::process::Command;
use std::time::Duration;

fn dbclient_login(server: &Server) {
    let dir = server.dir();
    let key = dir.join("id_dropbear");
    let mut conv = Command::new("dropbearconvert");
    conv.args(["openssh", "dropbear"])
        .arg(server.client_key())
        .arg(&key);
    run_bounded(conv, Input::Null, None, Duration::from_secs(30)).assert_success();
    let home = dir.join("home");
    std::fs::create_dir_all(&home).expect("mkdir home");
    let mut cmd = Command::new("dbclient");
    cmd.env("HOME", &home)
        .arg("-y") // accept (and record) the host key: a fresh test key
        .arg("-i")
        .arg(&key)
        .arg("-p")
        .arg(server.port.to_string())
        .arg(format!("{}@127.0.0.1", server.user()))
        .arg("echo dropbear-ok");
    let out = run_bounded(cmd, Input::Null, None, Duration::from_secs(60));
    out.assert_success();
    assert_eq!(out.stdout_str().trim(), "dropbear-ok", "{}", server.log());
}

pub fn dropbear_right_guess_is_used() {
    let server = Server::start("dropbear-guess");
    dbclient_login(&server);
}

pub fn dropbear_wrong_guess_is_dropped() {
    // dbclient guesses curve25519-sha256; the server allows only group14, so the
    // guess is wrong whatever the rule, and the client's second packet counts.
    let server = Server::builder("dropbear-wrong-guess")
        .config("KexAlgorithms diffie-hellman-group14-sha256")
        .start();
    dbclient_login(&server);
}
