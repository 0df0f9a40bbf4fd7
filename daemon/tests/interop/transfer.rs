//! Bulk transfers: 200 MiB each way, rekeying, scp.

use crate::common::{heavy_lock, random_file, sha256_file, Server};
use std::process::Command;
use std::time::Duration;

/// The size of the big transfers, in MiB.
const BIG_MIB: usize = 200;
/// The size of the rekeying transfer, in MiB.
const REKEY_MIB: usize = 64;

pub fn upload_200_mib_sha256_matches() {
    let server = Server::start("upload");
    let dir = server.dir();
    let src = dir.join("up.src");
    random_file(&src, BIG_MIB);
    let _heavy = heavy_lock();
    let dst = dir.join("up.dst");
    let out = server
        .ssh()
        .stdin_file(&src)
        .timeout(Duration::from_secs(300))
        .run(&format!("cat > {0} && sha256sum {0}", dst.display()));
    out.assert_success();
    let want = sha256_file(&src);
    assert!(
        out.stdout_str().starts_with(&want),
        "remote sha256: {}",
        out.stdout_str()
    );
    assert_eq!(sha256_file(&dst), want);
}

pub fn download_200_mib_sha256_matches() {
    let server = Server::start("download");
    let dir = server.dir();
    let src = dir.join("down.src");
    random_file(&src, BIG_MIB);
    let _heavy = heavy_lock();
    let dst = dir.join("down.dst");
    server
        .ssh()
        .stdout_file(&dst)
        .timeout(Duration::from_secs(300))
        .run(&format!("cat {}", src.display()))
        .assert_success();
    assert_eq!(
        std::fs::metadata(&dst).unwrap().len(),
        (BIG_MIB as u64) << 20
    );
    assert_eq!(sha256_file(&dst), sha256_file(&src));
}

pub fn rekey_limit_1m_over_64_mib() {
    let server = Server::start("rekey");
    let src = server.dir().join("rekey.src");
    random_file(&src, REKEY_MIB);
    let out = server
        .ssh()
        .arg("-v")
        .option("RekeyLimit=1M")
        .stdin_file(&src)
        .run("sha256sum");
    out.assert_success();
    assert!(out.stdout_str().starts_with(&sha256_file(&src)));
    let kex_done = out.stderr.matches("SSH2_MSG_NEWKEYS received").count();
    assert!(
        kex_done > 1,
        "only {kex_done} key exchange(s):\n{}",
        out.stderr
    );
}

fn scp(server: &Server, from: &str, to: &str) {
    let mut cmd = Command::new("scp");
    cmd.arg("-O")
        .arg("-q")
        .args(server.client_options(server.client_key()))
        .arg("-P")
        .arg(server.port.to_string())
        .arg(from)
        .arg(to);
    crate::common::run_bounded(
        cmd,
        crate::common::Input::Null,
        None,
        Duration::from_secs(120),
    )
    .assert_success();
}

pub fn scp_both_ways() {
    let server = Server::start("scp");
    let dir = server.dir();
    let local = dir.join("scp.local");
    random_file(&local, 8);
    let remote = dir.join("scp.remote");
    let back = dir.join("scp.back");
    let at = format!("{}@127.0.0.1:", server.user());
    scp(
        &server,
        local.to_str().unwrap(),
        &format!("{at}{}", remote.display()),
    );
    assert_eq!(sha256_file(&remote), sha256_file(&local));
    scp(
        &server,
        &format!("{at}{}", remote.display()),
        back.to_str().unwrap(),
    );
    assert_eq!(sha256_file(&back), sha256_file(&local));
}
