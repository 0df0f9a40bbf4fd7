//! Host keys (issue 5): every host-key type in the file formats `ssh-keygen` writes,
//! several `HostKey` lines at once, the legacy SHA-1 types through the OpenSSH 7.5
//! `ssh1` client, host certificates trusted through `@cert-authority`, the
//! `hostkeys-00@openssh.com` / `hostkeys-prove-00@openssh.com` rotation that
//! `UpdateHostKeys` uses, `HostKeyAlgorithms` editing and the key-file permission check.

use crate::common::{keygen, run_bounded, Input, Output, Prepared, Server, ServerKind, LOOPBACK};
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

/// Deadline for one client run here (each is a short `echo`).
const CLIENT_BOUND: Duration = Duration::from_secs(60);

/// Generate a host key of `kind` (`ed25519`, `ecdsa`, `rsa`, `dsa`) with `bits` in
/// ssh-keygen's format `format` (`RFC4716` is OpenSSH's own, `PEM`, `PKCS8`), list it in
/// the config and in the harness' known_hosts, and return its path.
fn add_host_key(p: &mut Prepared, name: &str, kind: &str, bits: &str, format: &str) -> PathBuf {
    let key = p.dir.join(name);
    let path = key.to_str().unwrap();
    keygen(&[
        "-q", "-t", kind, "-b", bits, "-m", format, "-N", "", "-C", name, "-f", path,
    ]);
    let mut config = fs::read_to_string(p.config_path()).unwrap();
    config.push_str(&format!("HostKey {path}\n"));
    fs::write(p.config_path(), config).unwrap();
    p.host_pubs.push(PathBuf::from(format!("{path}.pub")));
    key
}

fn add_config(p: &Prepared, line: &str) {
    let mut config = fs::read_to_string(p.config_path()).unwrap();
    config.push_str(line);
    config.push('\n');
    fs::write(p.config_path(), config).unwrap();
}

/// The server's `server_host_key_algorithms`, from `ssh -vv`'s "peer server KEXINIT
/// proposal".
fn offered_host_key_algs(ssh_debug: &str) -> Vec<String> {
    let mut lines = ssh_debug
        .lines()
        .skip_while(|l| !l.contains("peer server KEXINIT proposal"));
    lines
        .find_map(|l| l.split("host key algorithms: ").nth(1))
        .unwrap_or_else(|| panic!("no server proposal in:\n{ssh_debug}"))
        .trim()
        .split(',')
        .map(String::from)
        .collect()
}

/// `ssh -vv -o HostKeyAlgorithms=alg ... echo ok`, checked to succeed with `alg`.
fn login_with(server: &Server, alg: &str, extra: &[&str]) -> Output {
    login(server, Some(alg), alg, extra)
}

/// `ssh -vv [-o HostKeyAlgorithms=offer] EXTRA ... echo ok`, checked to succeed and to
/// negotiate `expect`.
fn login(server: &Server, offer: Option<&str>, expect: &str, extra: &[&str]) -> Output {
    let mut ssh = server.ssh().arg("-vv").timeout(CLIENT_BOUND);
    if let Some(offer) = offer {
        ssh = ssh.option(&format!("HostKeyAlgorithms={offer}"));
    }
    for a in extra {
        ssh = ssh.arg(*a);
    }
    let out = ssh.run("echo ok");
    out.assert_success();
    assert_eq!(out.stdout_str(), "ok\n");
    let want = format!("kex: host key algorithm: {expect}");
    assert!(
        out.stderr.lines().any(|l| l.trim_end().ends_with(&want)),
        "{expect} not negotiated:\n{}",
        out.stderr
    );
    out
}

/// Every type, in OpenSSH and PEM formats, on one server with seven `HostKey` lines;
/// the server offers each with its algorithms and OpenSSH 9's `ssh` can pick each.
pub fn every_host_key_type_in_every_format_from_one_server() {
    let mut p = Server::builder("hkall").prepare(); // ssh_host_ed25519_key, OpenSSH format
    add_host_key(&mut p, "ecdsa256_pem", "ecdsa", "256", "PEM");
    add_host_key(&mut p, "ecdsa384_pkcs8", "ecdsa", "384", "PKCS8");
    add_host_key(&mut p, "ecdsa521_openssh", "ecdsa", "521", "RFC4716");
    add_host_key(&mut p, "rsa_pem", "rsa", "2048", "PEM");
    add_host_key(&mut p, "dsa_pkcs8", "dsa", "1024", "PKCS8");
    add_config(&p, "HostKeyAlgorithms +ssh-rsa,ssh-dss");
    let server = p.start();
    let algs = [
        "ssh-ed25519",
        "ecdsa-sha2-nistp256",
        "ecdsa-sha2-nistp384",
        "ecdsa-sha2-nistp521",
        "rsa-sha2-512",
        "rsa-sha2-256",
        "ssh-rsa",
        "ssh-dss",
    ];
    for alg in algs {
        let out = login_with(&server, alg, &[]);
        let offered = offered_host_key_algs(&out.stderr);
        let mut sorted_offer = offered.clone();
        sorted_offer.sort();
        let mut want: Vec<String> = algs.iter().map(|s| s.to_string()).collect();
        want.sort();
        assert_eq!(sorted_offer, want, "server offer {offered:?}");
    }
}

/// The other PEM forms (PKCS#1 RSA as PKCS#8, SEC1 P-521, OpenSSL's DSA) and the legacy
/// SHA-1 algorithms with the OpenSSH 7.5 client `ssh1`.
pub fn legacy_ssh_rsa_and_ssh_dss_with_openssh_7_5() {
    if Command::new("ssh1").arg("-V").output().is_err() {
        panic!("ssh1 (openssh-client-ssh1) is not installed: run `cargo xtask test`");
    }
    let mut p = Server::builder("hkssh1").prepare();
    add_host_key(&mut p, "rsa_pkcs8", "rsa", "2048", "PKCS8");
    add_host_key(&mut p, "dsa_pem", "dsa", "1024", "PEM");
    add_host_key(&mut p, "ecdsa521_pem", "ecdsa", "521", "PEM");
    add_config(&p, "HostKeyAlgorithms +ssh-rsa,ssh-dss");
    let server = p.start();
    for alg in ["ssh-dss", "ssh-rsa", "rsa-sha2-512", "ecdsa-sha2-nistp521"] {
        let mut cmd = Command::new("ssh1");
        cmd.args(server.client_options(server.client_key()))
            .arg("-v")
            .arg("-o")
            .arg(format!("HostKeyAlgorithms={alg}"))
            .arg("-p")
            .arg(server.port.to_string())
            .arg(format!("{}@{LOOPBACK}", server.user()))
            .arg("echo ok");
        let out = run_bounded(cmd, Input::Null, None, CLIENT_BOUND);
        out.assert_success();
        assert_eq!(out.stdout_str(), "ok\n");
        assert!(
            out.stderr
                .contains(&format!("kex: host key algorithm: {alg}")),
            "{alg}:\n{}",
            out.stderr
        );
    }
}

/// The default list leaves the SHA-1 types out even with keys that could serve them,
/// and `-`, `^` and wildcards edit the list.
pub fn host_key_algorithms_edits_apply() {
    let mut p = Server::builder("hkedit").prepare();
    add_host_key(&mut p, "rsa", "rsa", "2048", "RFC4716");
    add_host_key(&mut p, "ecdsa", "ecdsa", "384", "PEM");
    add_config(&p, "HostKeyAlgorithms -*nistp384*,rsa-sha2-256");
    let server = p.start();
    let out = login_with(&server, "rsa-sha2-512", &[]);
    assert_eq!(
        offered_host_key_algs(&out.stderr),
        ["ssh-ed25519", "rsa-sha2-512"]
    );
    let refused = server
        .ssh()
        .option("HostKeyAlgorithms=rsa-sha2-256,ecdsa-sha2-nistp384,ssh-rsa")
        .timeout(CLIENT_BOUND)
        .run("echo ok");
    assert_ne!(
        refused.code,
        Some(0),
        "an algorithm left out was negotiated"
    );
    drop(server);

    let mut p = Server::builder("hkcaret").prepare();
    add_host_key(&mut p, "rsa", "rsa", "2048", "RFC4716");
    add_config(&p, "HostKeyAlgorithms ^ssh-rsa");
    let server = p.start();
    let out = login(&server, Some("ssh-rsa,ssh-ed25519"), "ssh-rsa", &[]);
    let offer = offered_host_key_algs(&out.stderr);
    assert!(offer.contains(&"ssh-rsa".to_string()), "{offer:?}");
    if server.kind() == ServerKind::Sisu {
        // OpenSSH's sshd lists by HostKey file instead; Sisu keeps the configured order.
        assert_eq!(offer[0], "ssh-rsa");
    }
}

/// A client that trusts only a CA (`@cert-authority`, StrictHostKeyChecking=yes, no
/// plain known_hosts entry) logs in through each type's host certificate.
pub fn host_certificates_with_cert_authority() {
    let mut p = Server::builder("hkcert").prepare();
    let ca = p.dir.join("host_ca");
    keygen(&[
        "-q",
        "-t",
        "ed25519",
        "-N",
        "",
        "-C",
        "ca",
        "-f",
        ca.to_str().unwrap(),
    ]);
    let ed = p.dir.join("ssh_host_ed25519_key");
    let ecdsa = add_host_key(&mut p, "ecdsa", "ecdsa", "256", "PEM");
    let rsa = add_host_key(&mut p, "rsa", "rsa", "2048", "RFC4716");
    for key in [&ed, &ecdsa, &rsa] {
        let pub_path = format!("{}.pub", key.display());
        keygen(&[
            "-q",
            "-s",
            ca.to_str().unwrap(),
            "-h",
            "-I",
            "sisu-host",
            "-n",
            LOOPBACK,
            &pub_path,
        ]);
        add_config(&p, &format!("HostCertificate {}-cert.pub", key.display()));
    }
    let server = p.start();
    let ca_pub = fs::read_to_string(format!("{}.pub", ca.display())).unwrap();
    let known_hosts = server.dir().join("known_hosts");
    fs::write(&known_hosts, format!("@cert-authority * {ca_pub}")).unwrap();
    for alg in [
        "ssh-ed25519-cert-v01@openssh.com",
        "ecdsa-sha2-nistp256-cert-v01@openssh.com",
        "rsa-sha2-512-cert-v01@openssh.com",
        "rsa-sha2-256-cert-v01@openssh.com",
    ] {
        let out = login_with(&server, alg, &[]);
        assert!(
            out.stderr.contains("Server host certificate: ")
                && out
                    .stderr
                    .contains("ID \"sisu-host\" CA ssh-ed25519 SHA256:")
                && out.stderr.contains("host certificate.")
                && out.stderr.contains("Found CA key in "),
            "{alg}:\n{}",
            out.stderr
        );
    }
    // With the client's default list it picks a certificate by itself.
    let out = server.ssh().arg("-v").timeout(CLIENT_BOUND).run("echo ok");
    out.assert_success();
    assert!(
        out.stderr.contains("-cert-v01@openssh.com"),
        "{}",
        out.stderr
    );
    // Another CA is not trusted, so strict checking refuses the host.
    let other = server.dir().join("other_ca");
    keygen(&[
        "-q",
        "-t",
        "ed25519",
        "-N",
        "",
        "-f",
        other.to_str().unwrap(),
    ]);
    let other_pub = fs::read_to_string(format!("{}.pub", other.display())).unwrap();
    fs::write(&known_hosts, format!("@cert-authority * {other_pub}")).unwrap();
    let refused = server
        .ssh()
        .option("HostKeyAlgorithms=ssh-ed25519-cert-v01@openssh.com")
        .timeout(CLIENT_BOUND)
        .run("echo ok");
    assert_ne!(
        refused.code,
        Some(0),
        "untrusted CA accepted:\n{}",
        refused.stderr
    );
}

/// `UpdateHostKeys=yes`: the client, knowing only the Ed25519 key, learns the server's
/// ECDSA and RSA keys through hostkeys-00 and hostkeys-prove-00.
pub fn update_host_keys_learns_the_other_keys() {
    let mut p = Server::builder("hkupdate").prepare();
    let ecdsa = add_host_key(&mut p, "ecdsa", "ecdsa", "384", "PEM");
    let rsa = add_host_key(&mut p, "rsa", "rsa", "2048", "RFC4716");
    let server = p.start();
    let known_hosts = server.dir().join("known_hosts");
    let all = fs::read_to_string(&known_hosts).unwrap();
    let first = all.lines().next().unwrap().to_string();
    assert!(first.contains("ssh-ed25519"), "{first}");
    fs::write(&known_hosts, format!("{first}\n")).unwrap();
    // The client prefers the type it knows. The second time RSA is negotiated, so the
    // RSA proof must use the negotiated rsa-sha2-512 too.
    for alg in ["ssh-ed25519", "rsa-sha2-512"] {
        if alg == "rsa-sha2-512" {
            let rsa_line = all.lines().find(|l| l.contains("ssh-rsa")).unwrap();
            fs::write(&known_hosts, format!("{rsa_line}\n")).unwrap();
        }
        let out = login(&server, None, alg, &["-o", "UpdateHostKeys=yes"]);
        let now = fs::read_to_string(&known_hosts).unwrap();
        for key in [&ecdsa, &rsa, &server.dir().join("ssh_host_ed25519_key")] {
            let public = fs::read_to_string(format!("{}.pub", key.display())).unwrap();
            let blob = public.split_whitespace().nth(1).unwrap();
            assert!(
                now.contains(blob),
                "{alg}: {} not learned; known_hosts:\n{now}\nssh:\n{}",
                key.display(),
                out.stderr
            );
        }
    }
}

/// A private host key others can read is refused at start-up, naming the file.
pub fn group_readable_host_key_is_refused_naming_the_file() {
    let p = Server::builder("hkperm").prepare();
    let key = p.dir.join("ssh_host_ed25519_key");
    fs::set_permissions(&key, fs::Permissions::from_mode(0o640)).unwrap();
    let mut cmd = Command::new(p.kind.binary());
    cmd.arg("-t").arg("-f").arg(p.config_path());
    let out = run_bounded(cmd, Input::Null, None, CLIENT_BOUND);
    assert_ne!(out.code, Some(0), "started with a group-readable key");
    let msg = format!("{}{}", out.stdout_str(), out.stderr);
    assert!(
        msg.contains(key.to_str().unwrap()) && msg.contains("too open"),
        "{msg}"
    );
}

/// `-Q key`, `-Q key-cert` and `-Q HostKeyAlgorithms` list what the server supports.
pub fn query_lists_key_types_and_algorithms() {
    let q = |what: &str| -> Vec<String> {
        let mut cmd = Command::new(ServerKind::Sisu.binary());
        cmd.arg("-Q").arg(what);
        let out = run_bounded(cmd, Input::Null, None, CLIENT_BOUND);
        out.assert_success();
        out.stdout_str().lines().map(String::from).collect()
    };
    let key = q("key");
    for t in ["ssh-ed25519", "ecdsa-sha2-nistp521", "ssh-rsa", "ssh-dss"] {
        assert!(key.contains(&t.to_string()), "-Q key lacks {t}: {key:?}");
    }
    assert!(q("key-cert")
        .iter()
        .all(|t| t.ends_with("-cert-v01@openssh.com")));
    let hka = q("HostKeyAlgorithms");
    for a in [
        "rsa-sha2-512",
        "ssh-rsa",
        "rsa-sha2-256-cert-v01@openssh.com",
        "ssh-dss",
    ] {
        assert!(
            hka.contains(&a.to_string()),
            "-Q HostKeyAlgorithms lacks {a}"
        );
    }
    assert!(!q("sig").iter().any(|a| a.contains("cert")));
}

/// `HostKeyAgent`: the host key's private file is gone and ssh-agent holds it; the
/// server signs through the agent (the client checks the key against known_hosts).
pub fn host_key_agent_signs_for_a_missing_private_key() {
    let p = Server::builder("hostkey-agent")
        .host_key(crate::common::HostKeyType::Rsa)
        .prepare();
    let sock = p.dir.join("agent.sock");
    let mut agent = crate::background::Agent::start(&sock);
    let mut text = fs::read_to_string(p.config_path()).unwrap();
    for kind in ["ed25519", "rsa"] {
        let key = p.dir.join(&format!("ssh_host_{kind}_key"));
        let mut add = Command::new("ssh-add");
        add.arg("-q").arg(&key).env("SSH_AUTH_SOCK", &sock);
        run_bounded(add, Input::Null, None, Duration::from_secs(30)).assert_success();
        fs::remove_file(&key).unwrap();
        // The configuration names the .pub file for one and the private path for the
        // other: both are found.
        if kind == "ed25519" {
            let k = key.display().to_string();
            text = text.replace(&format!("HostKey {k}\n"), &format!("HostKey {k}.pub\n"));
        }
    }
    text.insert_str(0, &format!("HostKeyAgent {}\n", sock.display()));
    fs::write(p.config_path(), text).unwrap();
    let server = p.start();
    for alg in ["ssh-ed25519", "rsa-sha2-512", "rsa-sha2-256"] {
        let out = server
            .ssh()
            .option(&format!("HostKeyAlgorithms={alg}"))
            .run("echo signed");
        assert_eq!(out.stdout_str(), "signed\n", "{alg}: {}", out.stderr);
    }
    agent.stop();
    // Without the agent the key cannot sign: the exchange fails, nothing else breaks.
    let out = server.ssh().run("true");
    assert_ne!(out.code, Some(0), "{}", out.stderr);
}
