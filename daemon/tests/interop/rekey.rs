//! Rekeying started by the server: by volume (`RekeyLimit 1M`) and by time
//! (`RekeyLimit default 1s`), with data flowing; nothing is lost.

use crate::common::{random_file, sha256_file, Server};
use std::time::Duration;

fn newkeys_count(stderr: &str) -> usize {
    stderr.matches("SSH2_MSG_NEWKEYS received").count()
}

pub fn server_rekeys_by_volume_with_data_in_flight() {
    let server = Server::builder("rekey-volume")
        .config("RekeyLimit 1M")
        .start();
    let input = server.dir().join("in");
    random_file(&input, 16);
    let out = server
        .ssh()
        .arg("-v")
        .stdin_file(&input)
        .timeout(Duration::from_secs(120))
        .run("sha256sum");
    out.assert_success();
    let sum = sha256_file(&input);
    assert!(out.stdout_str().starts_with(&sum), "{}", out.stdout_str());
    let n = newkeys_count(&out.stderr);
    assert!(n >= 4, "expected several server-started rekeys, saw {n}");
}

pub fn server_rekeys_by_time() {
    let server = Server::builder("rekey-time")
        .config("RekeyLimit default 1s")
        .start();
    // A session that lasts about three seconds with a little traffic.
    let out = server
        .ssh()
        .arg("-v")
        .timeout(Duration::from_secs(60))
        .run("for i in 1 2 3 4 5 6; do echo tick $i; sleep 0.5; done");
    out.assert_success();
    assert_eq!(out.stdout_str().lines().count(), 6);
    let n = newkeys_count(&out.stderr);
    assert!(n >= 2, "expected a time-based rekey, saw {n} key exchanges");
}

/// `RekeyLimit 16` (bytes): the limit is already passed when authentication succeeds,
/// so the server must rekey at once, after the connection has been handed to the
/// post-authentication process and not before (an exchange in progress cannot be
/// handed over), and then after every packet; a command and its output still arrive.
pub fn server_rekey_limit_reached_during_authentication() {
    let server = Server::builder("rekey-tiny")
        .config("RekeyLimit 16")
        .start();
    let out = server.ssh().arg("-v").run("echo through");
    out.assert_success();
    assert_eq!(out.stdout_str(), "through\n");
    assert!(
        newkeys_count(&out.stderr) >= 2,
        "no rekey after login:\n{}",
        out.stderr
    );
}
