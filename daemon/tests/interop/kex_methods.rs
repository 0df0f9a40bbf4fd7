//! Every key-exchange method with real clients: OpenSSH 9's `ssh` for every method it
//! has × every host-key type, OpenSSH 7.5's `ssh1` for the SHA-1 groups, AsyncSSH and
//! paramiko for `mlkem768x25519-sha256` (and every other method AsyncSSH offers), PuTTY's
//! `plink` for its families. Legacy methods are enabled per server with
//! `KexAlgorithms +...`. Each connection runs `echo` and checks the negotiated method.

use crate::common::{python, run_bounded, Input, Server};
use std::fs;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

/// The legacy methods, enabled on the servers of these tests.
const LEGACY: &str = "ecdh-sha2-nistp256,ecdh-sha2-nistp384,ecdh-sha2-nistp521,\
                      diffie-hellman-group14-sha1,diffie-hellman-group1-sha1,\
                      diffie-hellman-group-exchange-sha1";

/// Every method OpenSSH 9.2's client has (all of ours but mlkem768x25519-sha256).
const OPENSSH_METHODS: &[&str] = &[
    "sntrup761x25519-sha512",
    "sntrup761x25519-sha512@openssh.com",
    "curve25519-sha256",
    "curve25519-sha256@libssh.org",
    "diffie-hellman-group-exchange-sha256",
    "diffie-hellman-group16-sha512",
    "diffie-hellman-group18-sha512",
    "diffie-hellman-group14-sha256",
    "ecdh-sha2-nistp256",
    "ecdh-sha2-nistp384",
    "ecdh-sha2-nistp521",
    "diffie-hellman-group14-sha1",
    "diffie-hellman-group1-sha1",
    "diffie-hellman-group-exchange-sha1",
];

/// A server with the legacy methods on and, besides ed25519, the host keys `extra`
/// (`ssh-keygen -t` arguments) that the builder does not make itself.
fn server_with(name: &str, extra: &[(&str, &str)], config: &[&str]) -> Server {
    let mut b = Server::builder(name);
    for line in config {
        b = b.config(line);
    }
    let prepared = b.prepare();
    let mut pubs = Vec::new();
    for (file, bits) in extra {
        let key = prepared.dir.join(file);
        let p = key.to_str().unwrap();
        crate::common::keygen(&["-q", "-t", "ecdsa", "-b", bits, "-N", "", "-f", p]);
        let mut cfg = fs::read_to_string(prepared.config_path()).unwrap();
        cfg.push_str(&format!("HostKey {p}\n"));
        fs::write(prepared.config_path(), cfg).unwrap();
        pubs.push(format!("{p}.pub"));
    }
    let server = prepared.start();
    // start() wrote known_hosts for the builder's keys; add ours.
    let kh = server.dir().join("known_hosts");
    let mut text = fs::read_to_string(&kh).unwrap();
    for p in pubs {
        let line = fs::read_to_string(p).unwrap();
        let mut f = line.split_whitespace();
        let (t, b) = (f.next().unwrap(), f.next().unwrap());
        text.push_str(&format!("[127.0.0.1]:{} {t} {b}\n", server.port));
    }
    fs::write(&kh, text).unwrap();
    server
}

/// `ssh -v -o KexAlgorithms=kex -o HostKeyAlgorithms=hk ... echo`, checked.
fn openssh_login(server: &Server, kex: &str, hk: &str) {
    let out = server
        .ssh()
        .arg("-v")
        .option(&format!("KexAlgorithms={kex}"))
        .option(&format!("HostKeyAlgorithms={hk}"))
        .timeout(Duration::from_secs(60))
        .run(&format!("echo kex-ok {kex}"));
    out.assert_success();
    assert_eq!(out.stdout_str().trim(), format!("kex-ok {kex}"));
    for expect in [
        format!("kex: algorithm: {kex}"),
        format!("kex: host key algorithm: {hk}"),
    ] {
        assert!(
            out.stderr.contains(&expect),
            "`{expect}` not in ssh -v output:\n{}",
            out.stderr
        );
    }
}

fn every_method_with(name: &str, extra: &[(&str, &str)], host_key_algs: &[&str]) {
    let server = server_with(
        name,
        extra,
        &[&format!("KexAlgorithms +{}", LEGACY.replace(' ', ""))],
    );
    for kex in OPENSSH_METHODS {
        for hk in host_key_algs {
            openssh_login(&server, kex, hk);
        }
    }
}

pub fn openssh_every_method_with_ed25519() {
    every_method_with("kex-ed25519", &[], &["ssh-ed25519"]);
}

pub fn openssh_every_method_with_ecdsa() {
    every_method_with(
        "kex-ecdsa",
        &[
            ("ssh_host_ecdsa256_key", "256"),
            ("ssh_host_ecdsa384_key", "384"),
            ("ssh_host_ecdsa521_key", "521"),
        ],
        &[
            "ecdsa-sha2-nistp256",
            "ecdsa-sha2-nistp384",
            "ecdsa-sha2-nistp521",
        ],
    );
}

pub fn openssh_every_method_with_rsa() {
    let server = {
        let b = Server::builder("kex-rsa")
            .host_key(crate::common::HostKeyType::Rsa)
            .config(&format!("KexAlgorithms +{}", LEGACY.replace(' ', "")));
        b.start()
    };
    for kex in OPENSSH_METHODS {
        for hk in ["rsa-sha2-256", "rsa-sha2-512"] {
            openssh_login(&server, kex, hk);
        }
    }
}

pub fn legacy_methods_are_off_by_default() {
    let server = Server::start("kex-default");
    for kex in [
        "diffie-hellman-group1-sha1",
        "ecdh-sha2-nistp256",
        "diffie-hellman-group-exchange-sha1",
    ] {
        let out = server
            .ssh()
            .option(&format!("KexAlgorithms={kex}"))
            .run("true");
        assert_eq!(out.code, Some(255), "{kex} accepted by default");
        assert!(
            out.stderr.contains("no matching key exchange method"),
            "{}",
            out.stderr
        );
    }
    // The default list, as the server offers it, is post-quantum first.
    let out = server.ssh().arg("-vv").run("true");
    out.assert_success();
    let offered = out
        .stderr
        .lines()
        .skip_while(|l| !l.contains("peer server KEXINIT proposal"))
        .find(|l| l.contains("KEX algorithms:"))
        .unwrap_or_default()
        .to_string();
    assert!(
        offered.contains(
            "KEX algorithms: mlkem768x25519-sha256,sntrup761x25519-sha512,\
             sntrup761x25519-sha512@openssh.com,curve25519-sha256,\
             curve25519-sha256@libssh.org,diffie-hellman-group-exchange-sha256,\
             diffie-hellman-group16-sha512,diffie-hellman-group18-sha512,\
             diffie-hellman-group14-sha256,kex-strict-s-v00@openssh.com"
        ),
        "{offered}"
    );
}

pub fn group_exchange_reads_the_moduli_file() {
    // A moduli file with one 3072-bit group (RFC 3526 group 15): the client asks for
    // 8192 bits at most and gets that group, the only one in range.
    let p = sisu_kex::moduli::DhGroup::builtin()[1].clone();
    let hex: String = p.p().iter().map(|b| format!("{b:02X}")).collect();
    let server = {
        let dir = std::env::temp_dir().join(format!("sisu-moduli-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let moduli = dir.join("moduli");
        fs::write(
            &moduli,
            format!("# test moduli\n20240101000000 2 6 100 3071 2 {hex}\n"),
        )
        .unwrap();
        let s = Server::builder("kex-moduli")
            .config(&format!("ModuliFile {}", moduli.display()))
            .start();
        (s, dir)
    };
    let out = server
        .0
        .ssh()
        .arg("-vv")
        .option("KexAlgorithms=diffie-hellman-group-exchange-sha256")
        .run("echo gex");
    out.assert_success();
    assert!(
        out.stderr.contains("SSH2_MSG_KEX_DH_GEX_GROUP received") && out.stderr.contains("3072"),
        "{}",
        out.stderr
    );
    let _ = fs::remove_dir_all(&server.1);
}

pub fn ssh1_client_sha1_groups() {
    if !Path::new("/usr/bin/ssh1").exists() {
        panic!("/usr/bin/ssh1 missing: run `cargo xtask deps`");
    }
    let server = server_with(
        "kex-ssh1",
        &[],
        &[&format!("KexAlgorithms +{}", LEGACY.replace(' ', ""))],
    );
    for kex in [
        "diffie-hellman-group1-sha1",
        "diffie-hellman-group14-sha1",
        "diffie-hellman-group-exchange-sha1",
        "diffie-hellman-group-exchange-sha256",
        "ecdh-sha2-nistp256",
        "curve25519-sha256@libssh.org",
    ] {
        let mut cmd = Command::new("ssh1");
        cmd.args(server.client_options(server.client_key()))
            .arg("-v")
            .arg("-o")
            .arg(format!("KexAlgorithms={kex}"))
            .arg("-p")
            .arg(server.port.to_string())
            .arg(format!("{}@127.0.0.1", server.user()))
            .arg("echo ssh1-ok");
        let out = run_bounded(cmd, Input::Null, None, Duration::from_secs(60));
        out.assert_success();
        assert_eq!(out.stdout_str().trim(), "ssh1-ok");
        assert!(
            out.stderr.contains(&format!("kex: algorithm: {kex}")),
            "{}",
            out.stderr
        );
    }
}

/// AsyncSSH: one connection per method it offers of ours, `kex_algs` pinned to it.
const ASYNCSSH_SCRIPT: &str = r#"
import asyncio, sys, asyncssh
port, user, key, kh = sys.argv[1:5]
algs = sys.argv[5].split(",")
async def one(alg):
    async with asyncssh.connect("127.0.0.1", port=int(port), username=user,
            client_keys=[key], known_hosts=kh, agent_path=None, config=[],
            kex_algs=[alg], login_timeout=20) as conn:
        r = await conn.run("echo asyncssh-ok", check=True)
        assert r.stdout == "asyncssh-ok\n", r.stdout
        print(alg, "ok")
async def main():
    for a in algs:
        await asyncio.wait_for(one(a), timeout=60)
asyncio.run(main())
"#;

pub fn asyncssh_every_method_it_offers() {
    let server = server_with(
        "kex-asyncssh",
        &[],
        &[&format!("KexAlgorithms +{}", LEGACY.replace(' ', ""))],
    );
    let methods = [
        "mlkem768x25519-sha256",
        "curve25519-sha256",
        "curve25519-sha256@libssh.org",
        "diffie-hellman-group-exchange-sha256",
        "diffie-hellman-group16-sha512",
        "diffie-hellman-group18-sha512",
        "diffie-hellman-group14-sha256",
        "ecdh-sha2-nistp256",
        "ecdh-sha2-nistp384",
        "ecdh-sha2-nistp521",
        "diffie-hellman-group14-sha1",
        "diffie-hellman-group1-sha1",
        "diffie-hellman-group-exchange-sha1",
    ];
    let mut cmd = Command::new(python());
    cmd.arg("-c")
        .arg(ASYNCSSH_SCRIPT)
        .arg(server.port.to_string())
        .arg(server.user())
        .arg(server.client_key())
        .arg(server.dir().join("known_hosts"))
        .arg(methods.join(","));
    let out = run_bounded(cmd, Input::Null, None, Duration::from_secs(240));
    out.assert_success();
    // Each connection allowed exactly one method, so each line is that method's login.
    let lines: Vec<String> = out.stdout_str().lines().map(String::from).collect();
    let expect: Vec<String> = methods.iter().map(|m| format!("{m} ok")).collect();
    assert_eq!(lines, expect, "{}", out.stderr);
}

/// paramiko with only `mlkem768x25519-sha256` allowed.
const PARAMIKO_SCRIPT: &str = r#"
import logging, sys, paramiko
logging.basicConfig(level=logging.DEBUG, stream=sys.stderr)
port, user, key, kh = sys.argv[1:5]
c = paramiko.SSHClient()
c.load_host_keys(kh)
c.set_missing_host_key_policy(paramiko.RejectPolicy())
c.connect("127.0.0.1", port=int(port), username=user, key_filename=key,
          allow_agent=False, look_for_keys=False, timeout=20,
          disabled_algorithms={"kex": [k for k in paramiko.Transport._preferred_kex
                                       if k != "mlkem768x25519-sha256"]})
t = c.get_transport()
_, out, _ = c.exec_command("echo paramiko-ok")
print(out.read().decode().strip(), t.preferred_kex)
c.close()
"#;

pub fn paramiko_mlkem768x25519() {
    let server = Server::start("kex-paramiko");
    let mut cmd = Command::new(python());
    cmd.arg("-c")
        .arg(PARAMIKO_SCRIPT)
        .arg(server.port.to_string())
        .arg(server.user())
        .arg(server.client_key())
        .arg(server.dir().join("known_hosts"));
    let out = run_bounded(cmd, Input::Null, None, Duration::from_secs(90));
    out.assert_success();
    let text = out.stdout_str();
    // Only mlkem768x25519-sha256 was allowed, and paramiko's log names the agreement.
    assert_eq!(
        text.trim(),
        "paramiko-ok ('mlkem768x25519-sha256',)",
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("Kex: mlkem768x25519-sha256"),
        "{}",
        out.stderr
    );
}

/// plink with a saved session whose KEX list puts every family above WARN; the server
/// allows one method, so a login proves that method.
pub fn plink_each_family() {
    for (i, kex) in [
        "sntrup761x25519-sha512@openssh.com",
        "curve25519-sha256",
        "ecdh-sha2-nistp256",
        "diffie-hellman-group-exchange-sha256",
        "diffie-hellman-group16-sha512",
        "diffie-hellman-group18-sha512",
        "diffie-hellman-group14-sha1",
        "diffie-hellman-group1-sha1",
    ]
    .iter()
    .enumerate()
    {
        let server = Server::builder(&format!("kex-plink{i}"))
            .config(&format!("KexAlgorithms {kex}"))
            .start();
        let dir = server.dir();
        let ppk = dir.join("id.ppk");
        let mut conv = Command::new("puttygen");
        conv.arg(server.client_key())
            .args(["-O", "private", "-o"])
            .arg(&ppk);
        run_bounded(conv, Input::Null, None, Duration::from_secs(30)).assert_success();
        let home = dir.join("plink-home");
        let sessions = home.join(".putty/sessions");
        fs::create_dir_all(&sessions).unwrap();
        fs::write(
            sessions.join("sisu"),
            "KEX=ntru-curve25519,ecdh,dh-gex-sha1,dh-group18-sha512,dh-group17-sha512,\
             dh-group16-sha512,dh-group15-sha512,dh-group14-sha1,dh-group1-sha1,rsa,WARN\n",
        )
        .unwrap();
        let pubfile = fs::read_dir(dir.path())
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .find(|p| p.to_string_lossy().ends_with("ed25519_key.pub"))
            .unwrap();
        let fp = crate::common::fingerprint(&pubfile);
        let mut cmd = Command::new("plink");
        cmd.env("HOME", &home)
            .args(["-load", "sisu", "-ssh", "-batch", "-v", "-P"])
            .arg(server.port.to_string())
            .arg("-l")
            .arg(server.user())
            .arg("-i")
            .arg(&ppk)
            .arg("-hostkey")
            .arg(&fp)
            .arg("127.0.0.1")
            .arg("echo plink-ok");
        let out = run_bounded(cmd, Input::Null, None, Duration::from_secs(60));
        assert_eq!(
            out.stdout_str().trim(),
            "plink-ok",
            "{kex}: {}\n{}",
            out.stderr,
            server.log()
        );
    }
}
