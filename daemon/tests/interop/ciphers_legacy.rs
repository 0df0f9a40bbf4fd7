//! The legacy ciphers and MACs, each enabled on the server only for its test
//! (`-o Ciphers=+…` / `-o MACs=+…`, or an exact list to force a client's choice) and
//! negotiated by a real client that offers it: OpenSSH 9's `ssh`, the OpenSSH 7.5
//! client `ssh1` (blowfish, cast128, arcfour, rijndael, ripemd160) and PuTTY's `plink`.
//! Each pushes [`MIB`] MiB through `cat` and compares sha256 both ways.

use crate::common::{fingerprint, random_file, run_bounded, sha256_file, Input, Output, Server};
use std::fs;
use std::process::Command;
use std::time::Duration;

/// The size of every transfer, in MiB.
const MIB: usize = 16;
/// The deadline of one client run (3DES and Blowfish are slow in debug builds).
const CLIENT_TIMEOUT: Duration = Duration::from_secs(180);

/// OpenSSL configuration that loads the legacy provider (Blowfish, CAST5, RC4), which
/// `ssh1` (linked with OpenSSL 3) needs for those ciphers.
const OPENSSL_LEGACY: &str = "openssl_conf = openssl_init\n\
[openssl_init]\nproviders = provider_sect\n\
[provider_sect]\ndefault = default_sect\nlegacy = legacy_sect\n\
[default_sect]\nactivate = 1\n\
[legacy_sect]\nactivate = 1\n";

/// A server with `server_opts` (`-o` options) and a random source file.
fn server(name: &str, server_opts: &[String]) -> Server {
    let mut b = Server::builder(name);
    for o in server_opts {
        b = b.option(o);
    }
    let server = b.start();
    random_file(&server.dir().join("src"), MIB);
    server
}

/// Checks that `cat` returned the source unchanged.
fn assert_round_trip(server: &Server, out: &Output, what: &str) {
    out.assert_success();
    let (src, dst) = (server.dir().join("src"), server.dir().join("dst"));
    assert_eq!(
        fs::metadata(&dst).map(|m| m.len()).unwrap_or(0),
        (MIB as u64) << 20,
        "{what}: short output\n{}",
        out.stderr
    );
    assert_eq!(sha256_file(&dst), sha256_file(&src), "{what}");
}

/// An OpenSSH client (`program` is `ssh` or `ssh1`) with `-c cipher -m mac`.
fn openssh(program: &str, name: &str, cipher: &str, mac: &str) {
    let server = server(
        name,
        &[format!("Ciphers=+{cipher}"), format!("MACs=+{mac}")],
    );
    let mut cmd = Command::new(program);
    cmd.args(server.client_options(server.client_key()))
        .args(["-v", "-c", cipher, "-m", mac, "-p"])
        .arg(server.port.to_string())
        .arg(format!("{}@127.0.0.1", server.user()))
        .arg("cat");
    if program == "ssh1" {
        let conf = server.dir().join("openssl-legacy.cnf");
        fs::write(&conf, OPENSSL_LEGACY).expect("write openssl conf");
        cmd.env("OPENSSL_CONF", conf);
    }
    let src = server.dir().join("src");
    let out = run_bounded(
        cmd,
        Input::File(src),
        Some(&server.dir().join("dst")),
        CLIENT_TIMEOUT,
    );
    let want = format!("kex: server->client cipher: {cipher} MAC: {mac}");
    assert!(
        out.stderr.contains(&want),
        "`{want}` not in {program} -v output:\n{}",
        out.stderr
    );
    assert_round_trip(&server, &out, &format!("{program} {cipher} {mac}"));
}

fn ssh(name: &str, cipher: &str, mac: &str) {
    openssh("ssh", name, cipher, mac);
}

fn ssh1(name: &str, cipher: &str, mac: &str) {
    openssh("ssh1", name, cipher, mac);
}

// OpenSSH 9.2 `ssh`: the CBC ciphers it still has, and every legacy MAC it has.

pub fn ssh_aes128_cbc_hmac_sha1() {
    ssh("l-aes128cbc", "aes128-cbc", "hmac-sha1");
}

pub fn ssh_aes192_cbc_hmac_sha1_96() {
    ssh("l-aes192cbc", "aes192-cbc", "hmac-sha1-96");
}

pub fn ssh_aes256_cbc_hmac_md5() {
    ssh("l-aes256cbc", "aes256-cbc", "hmac-md5");
}

pub fn ssh_3des_cbc_hmac_md5_96() {
    ssh("l-3des", "3des-cbc", "hmac-md5-96");
}

pub fn ssh_aes128_ctr_umac_64() {
    ssh("l-umac64", "aes128-ctr", "umac-64@openssh.com");
}

pub fn ssh_aes256_ctr_umac_128() {
    ssh("l-umac128", "aes256-ctr", "umac-128@openssh.com");
}

pub fn ssh_aes128_cbc_hmac_sha1_etm() {
    ssh("l-sha1etm", "aes128-cbc", "hmac-sha1-etm@openssh.com");
}

pub fn ssh_aes256_cbc_hmac_sha1_96_etm() {
    ssh("l-sha196etm", "aes256-cbc", "hmac-sha1-96-etm@openssh.com");
}

pub fn ssh_3des_cbc_hmac_md5_etm() {
    ssh("l-md5etm", "3des-cbc", "hmac-md5-etm@openssh.com");
}

pub fn ssh_aes192_ctr_hmac_md5_96_etm() {
    ssh("l-md596etm", "aes192-ctr", "hmac-md5-96-etm@openssh.com");
}

pub fn ssh_aes192_cbc_umac_64_etm() {
    ssh("l-umac64etm", "aes192-cbc", "umac-64-etm@openssh.com");
}

pub fn ssh_aes128_ctr_umac_128_etm() {
    ssh("l-umac128etm", "aes128-ctr", "umac-128-etm@openssh.com");
}

// OpenSSH 7.5 `ssh1`: what OpenSSH 9 no longer has.

pub fn ssh1_blowfish_cbc_hmac_ripemd160() {
    ssh1("l1-blowfish", "blowfish-cbc", "hmac-ripemd160");
}

pub fn ssh1_cast128_cbc_hmac_ripemd160_openssh() {
    ssh1("l1-cast128", "cast128-cbc", "hmac-ripemd160@openssh.com");
}

pub fn ssh1_arcfour_hmac_ripemd160_etm() {
    ssh1("l1-arcfour", "arcfour", "hmac-ripemd160-etm@openssh.com");
}

pub fn ssh1_rijndael_cbc_umac_64() {
    ssh1(
        "l1-rijndael",
        "rijndael-cbc@lysator.liu.se",
        "umac-64@openssh.com",
    );
}

// PuTTY's plink: its legacy set. plink picks algorithms through a saved session; the
// server's exact lists force the suite (plink offers blowfish-ctr and 3des-ctr first,
// which Sisu does not have).

/// plink against a server limited to exactly `cipher` and `mac`; `putty_cipher` is
/// the session file's `Cipher=` family name, `shown` the names plink -v prints for the
/// two ("Initialised NAME outbound ...").
fn plink(name: &str, putty_cipher: &str, cipher: &str, mac: &str, shown: [&str; 2]) {
    let server = server(name, &[format!("Ciphers={cipher}"), format!("MACs={mac}")]);
    let dir = server.dir();
    let home = dir.join("home");
    let sessions = home.join(".putty").join("sessions");
    fs::create_dir_all(&sessions).expect("mkdir sessions");
    fs::write(
        sessions.join("legacy"),
        format!("Cipher={putty_cipher},aes,chacha20,3des,WARN,des,blowfish,arcfour\n"),
    )
    .expect("write session");
    let ppk = dir.join("id.ppk");
    let mut conv = Command::new("puttygen");
    conv.arg(server.client_key())
        .args(["-O", "private", "-o"])
        .arg(&ppk);
    run_bounded(conv, Input::Null, None, Duration::from_secs(60)).assert_success();
    let host_fp = fingerprint(&dir.join("ssh_host_ed25519_key.pub"));
    let mut cmd = Command::new("plink");
    cmd.env("HOME", &home)
        .args(["-load", "legacy", "-ssh", "-batch", "-v", "-P"])
        .arg(server.port.to_string())
        .arg("-l")
        .arg(server.user())
        .arg("-i")
        .arg(&ppk)
        .arg("-hostkey")
        .arg(&host_fp)
        .arg("127.0.0.1")
        .arg("cat");
    let out = run_bounded(
        cmd,
        Input::File(dir.join("src")),
        Some(&dir.join("dst")),
        CLIENT_TIMEOUT,
    );
    assert_round_trip(&server, &out, &format!("plink {cipher} {mac}"));
    for (what, kind) in shown.iter().zip(["encryption", "MAC algorithm"]) {
        for dir in ["outbound", "inbound"] {
            let line = out.stderr.lines().find(|l| {
                l.starts_with(&format!("Initialised {what}"))
                    && l.contains(dir)
                    && l.contains(kind)
                    && (kind == "encryption" || l.contains("ETM") == mac.contains("-etm@"))
            });
            assert!(
                line.is_some(),
                "{what} {dir} {kind} not in plink -v:\n{}",
                out.stderr
            );
        }
    }
}

pub fn plink_arcfour256_hmac_sha1() {
    plink(
        "lp-arcfour256",
        "arcfour",
        "arcfour256",
        "hmac-sha1",
        ["Arcfour-256", "HMAC-SHA-1 "],
    );
}

pub fn plink_arcfour128_hmac_md5() {
    plink(
        "lp-arcfour128",
        "arcfour",
        "arcfour128",
        "hmac-md5",
        ["Arcfour-128", "HMAC-MD5"],
    );
}

pub fn plink_blowfish_cbc_hmac_sha1_96() {
    plink(
        "lp-blowfish",
        "blowfish",
        "blowfish-cbc",
        "hmac-sha1-96",
        ["Blowfish-128 CBC", "HMAC-SHA-1-96"],
    );
}

pub fn plink_3des_cbc_hmac_sha2_256() {
    plink(
        "lp-3des",
        "3des",
        "3des-cbc",
        "hmac-sha2-256",
        ["triple-DES CBC", "HMAC-SHA-256"],
    );
}

pub fn plink_aes256_cbc_hmac_sha1_etm() {
    plink(
        "lp-aes256cbc",
        "aes",
        "aes256-cbc",
        "hmac-sha1-etm@openssh.com",
        ["AES-256 CBC", "HMAC-SHA-1 "],
    );
}

/// The server's `-Q` lists name every suite, legacy ones included.
pub fn query_lists_every_cipher_and_mac() {
    let bin = crate::common::ServerKind::from_env().binary();
    let q = |what: &str| {
        let mut cmd = Command::new(&bin);
        cmd.args(["-Q", what]);
        let out = run_bounded(cmd, Input::Null, None, Duration::from_secs(30));
        out.assert_success();
        out.stdout_str()
    };
    let ciphers = q("cipher");
    for c in [
        "aes128-cbc",
        "rijndael-cbc@lysator.liu.se",
        "3des-cbc",
        "blowfish-cbc",
        "cast128-cbc",
        "arcfour",
        "arcfour128",
        "arcfour256",
    ] {
        assert!(ciphers.lines().any(|l| l == c), "{c} not in:\n{ciphers}");
    }
    let macs = q("mac");
    assert_eq!(macs.lines().count(), 19, "{macs}");
    assert!(macs.lines().any(|l| l == "hmac-ripemd160-etm@openssh.com"));
}
