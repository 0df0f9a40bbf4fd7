//! Every cipher, MAC and host-key algorithm of this slice, chosen by the client.

use crate::common::{random_file, sha256_file, HostKeyType, Server};

/// How much data goes through `cat` per algorithm, in MiB.
const ALGO_MIB: usize = 4;

/// Start a server with `host_keys`, push ALGO_MIB MiB through `cat` with the client
/// options `args`, and check the sha256 and the negotiated algorithm in `ssh -v`.
fn roundtrip(name: &str, host_keys: &[HostKeyType], args: &[&str], expect_in_debug: &str) {
    let mut b = Server::builder(name);
    for &k in host_keys {
        b = b.host_key(k);
    }
    let server = b.start();
    let src = server.dir().join("algo.src");
    let dst = server.dir().join("algo.dst");
    random_file(&src, ALGO_MIB);
    let mut ssh = server.ssh().arg("-v");
    for a in args {
        ssh = ssh.arg(*a);
    }
    let out = ssh.stdin_file(&src).stdout_file(&dst).run("cat");
    out.assert_success();
    assert_eq!(sha256_file(&dst), sha256_file(&src));
    assert!(
        out.stderr.contains(expect_in_debug),
        "`{expect_in_debug}` not in ssh -v output:\n{}",
        out.stderr
    );
}

fn cipher(name: &str, c: &str) {
    roundtrip(
        name,
        &[],
        &["-c", c],
        &format!("kex: server->client cipher: {c}"),
    );
}

fn mac(name: &str, m: &str) {
    roundtrip(
        name,
        &[],
        &["-c", "aes128-ctr", "-m", m],
        &format!("kex: client->server cipher: aes128-ctr MAC: {m}"),
    );
}

fn host_key(name: &str, keys: &[HostKeyType], alg: &str) {
    roundtrip(
        name,
        keys,
        &["-o", &format!("HostKeyAlgorithms={alg}")],
        &format!("kex: host key algorithm: {alg}"),
    );
}

pub fn cipher_chacha20_poly1305() {
    cipher("chacha", "chacha20-poly1305@openssh.com");
}

pub fn cipher_aes128_gcm() {
    cipher("aes128gcm", "aes128-gcm@openssh.com");
}

pub fn cipher_aes256_gcm() {
    cipher("aes256gcm", "aes256-gcm@openssh.com");
}

pub fn cipher_aes128_ctr() {
    cipher("aes128ctr", "aes128-ctr");
}

pub fn cipher_aes192_ctr() {
    cipher("aes192ctr", "aes192-ctr");
}

pub fn cipher_aes256_ctr() {
    cipher("aes256ctr", "aes256-ctr");
}

pub fn mac_hmac_sha2_256() {
    mac("hmac256", "hmac-sha2-256");
}

pub fn mac_hmac_sha2_512() {
    mac("hmac512", "hmac-sha2-512");
}

pub fn mac_hmac_sha2_256_etm() {
    mac("hmac256etm", "hmac-sha2-256-etm@openssh.com");
}

pub fn mac_hmac_sha2_512_etm() {
    mac("hmac512etm", "hmac-sha2-512-etm@openssh.com");
}

pub fn host_key_ssh_ed25519() {
    host_key("hked25519", &[HostKeyType::Rsa], "ssh-ed25519");
}

pub fn host_key_rsa_sha2_256() {
    host_key("hkrsa256", &[HostKeyType::Rsa], "rsa-sha2-256");
}

pub fn host_key_rsa_sha2_512() {
    host_key("hkrsa512", &[HostKeyType::Rsa], "rsa-sha2-512");
}

pub fn kex_curve25519_sha256_both_names() {
    for (i, k) in ["curve25519-sha256", "curve25519-sha256@libssh.org"]
        .iter()
        .enumerate()
    {
        roundtrip(
            &format!("kex{i}"),
            &[],
            &["-o", &format!("KexAlgorithms={k}")],
            &format!("kex: algorithm: {k}"),
        );
    }
}
