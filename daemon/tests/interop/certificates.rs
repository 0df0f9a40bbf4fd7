//! User certificates signed by `ssh-keygen -s`, with OpenSSH's `ssh`: through
//! `TrustedUserCAKeys` (with and without `AuthorizedPrincipalsFile`) and through
//! `cert-authority` lines of `authorized_keys`; principals, validity, host
//! certificates, critical options (`force-command`, `source-address`), extensions
//! (`no-pty`), `RevokedKeys` (a KRL by serial, and the CA key itself) and
//! `CASignatureAlgorithms`. The client's plain key is never authorized here, so only
//! the certificate can let it in.

use crate::common::{generate_key, keygen, Output, Prepared, Server};
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

/// A prepared server whose `authorized_keys` is empty, with a CA key pair `ca` of
/// `ca_type` in its directory and `lines` added to its configuration (`{dir}` stands
/// for the test directory).
fn prepared(name: &str, ca_type: &str, lines: &[&str]) -> Prepared {
    let p = Server::builder(name).prepare().without_keys_and_with(lines);
    generate_key(&p.dir.join("ca"), ca_type);
    p
}

/// Signs the client key with the CA: `ssh-keygen -s ca -I ID ARGS… id_ed25519.pub`,
/// writing `id_ed25519-cert.pub`, which `ssh` offers with the key.
fn certify(p: &Prepared, id: &str, args: &[&str]) {
    let ca = p.dir.join("ca");
    let key_pub = PathBuf::from(format!("{}.pub", p.client_key.display()));
    let mut v = vec!["-q", "-s", ca.to_str().unwrap(), "-I", id];
    v.extend_from_slice(args);
    v.push(key_pub.to_str().unwrap());
    keygen(&v);
}

fn assert_refused(out: &Output) {
    assert_eq!(out.code, Some(255), "{}", out.stderr);
    assert!(out.stderr.contains("Permission denied"), "{}", out.stderr);
}

fn fingerprint_of(path: &Path) -> String {
    crate::common::fingerprint(path)
}

pub fn trusted_user_ca_keys_admits_certificates_for_the_user() {
    let p = prepared(
        "cert-trusted-ca",
        "ed25519",
        &["TrustedUserCAKeys {dir}/ca.pub", "ExposeAuthInfo yes"],
    );
    let user = p.user.clone();
    certify(&p, "id-1", &["-n", &user, "-z", "7"]);
    let ca_fp = fingerprint_of(&p.dir.join("ca.pub"));
    let key_fp = fingerprint_of(&PathBuf::from(format!("{}.pub", p.client_key.display())));
    let cert = p.dir.join("id_ed25519-cert.pub");
    let server = p.start();
    let out = server.ssh().run("cat \"$SSH_USER_AUTH\"");
    out.assert_success();
    // ExposeAuthInfo names the certificate, not the bare key.
    let text = fs::read_to_string(&cert).unwrap();
    let fields: Vec<&str> = text.split_whitespace().take(2).collect();
    assert_eq!(
        out.stdout_str(),
        format!("publickey {} {}\n", fields[0], fields[1])
    );
    server.assert_logged(&format!(
        "Accepted publickey for {user} from 127.0.0.1 port "
    ));
    server.assert_logged(&format!(
        "ssh2: ED25519-CERT {key_fp} ID id-1 (serial 7) CA ED25519 {ca_fp}"
    ));
    // Another principal only: refused.
    fs::remove_file(&cert).unwrap();
    certify(server.prepared(), "id-2", &["-n", "someone-else"]);
    assert_refused(&server.ssh().run("true"));
    // Not yet valid, and expired.
    for validity in ["+1d:+2d", "20000101:20000102"] {
        fs::remove_file(&cert).unwrap();
        certify(server.prepared(), "id-3", &["-n", &user, "-V", validity]);
        assert_refused(&server.ssh().run("true"));
    }
    // No principals at all: a trusted CA's certificate must name them.
    fs::remove_file(&cert).unwrap();
    certify(server.prepared(), "id-5", &[]);
    assert_refused(&server.ssh().run("true"));
    // A host certificate is not a user certificate.
    fs::remove_file(&cert).unwrap();
    certify(server.prepared(), "id-4", &["-h", "-n", &user]);
    assert_refused(&server.ssh().run("true"));
}

pub fn authorized_principals_file_names_the_principals() {
    let p = prepared(
        "cert-principals",
        "ed25519",
        &[
            "TrustedUserCAKeys {dir}/ca.pub",
            "AuthorizedPrincipalsFile {dir}/principals",
        ],
    );
    let user = p.user.clone();
    fs::write(
        p.dir.join("principals"),
        "# who may log in\nops\ncommand=\"echo forced-by-principals\" auditors\n",
    )
    .unwrap();
    let cert = p.dir.join("id_ed25519-cert.pub");
    certify(&p, "ops-cert", &["-n", "ops"]);
    let server = p.start();
    let out = server.ssh().run("echo as-ops");
    out.assert_success();
    assert_eq!(out.stdout_str(), "as-ops\n");
    // The user's own name is not enough once a principals file is configured.
    fs::remove_file(&cert).unwrap();
    certify(server.prepared(), "user-cert", &["-n", &user]);
    assert_refused(&server.ssh().run("true"));
    // A line's options apply.
    fs::remove_file(&cert).unwrap();
    certify(server.prepared(), "auditor", &["-n", "auditors"]);
    let out = server.ssh().run("echo mine");
    out.assert_success();
    assert_eq!(out.stdout_str(), "forced-by-principals\n");
}

pub fn cert_authority_lines_of_authorized_keys() {
    let p = prepared("cert-authority", "ed25519", &[]);
    let user = p.user.clone();
    let ca_pub = fs::read_to_string(p.dir.join("ca.pub")).unwrap();
    fs::write(
        p.dir.join("authorized_keys"),
        format!("cert-authority,principals=\"ops,dev\" {ca_pub}"),
    )
    .unwrap();
    let cert = p.dir.join("id_ed25519-cert.pub");
    certify(&p, "dev-cert", &["-n", "dev"]);
    let server = p.start();
    server.ssh().run("true").assert_success();
    server.assert_logged("ssh2: ED25519-CERT ");
    fs::remove_file(&cert).unwrap();
    certify(server.prepared(), "user-cert", &["-n", &user]);
    assert_refused(&server.ssh().run("true"));
    // principals= and a certificate without principals: refused.
    fs::remove_file(&cert).unwrap();
    certify(server.prepared(), "no-principals", &[]);
    assert_refused(&server.ssh().run("true"));
    // Without principals= such a certificate is valid for any user of this file
    // (as in OpenSSH), and one with principals must name the user.
    fs::write(
        server.dir().join("authorized_keys"),
        format!("cert-authority {ca_pub}"),
    )
    .unwrap();
    server.ssh().run("true").assert_success();
    fs::remove_file(&cert).unwrap();
    certify(server.prepared(), "user-cert", &["-n", &user]);
    server.ssh().run("true").assert_success();
    fs::remove_file(&cert).unwrap();
    certify(server.prepared(), "other-cert", &["-n", "someone-else"]);
    assert_refused(&server.ssh().run("true"));
    // A plain key line for the CA is not a cert-authority line.
    fs::write(server.dir().join("authorized_keys"), &ca_pub).unwrap();
    assert_refused(&server.ssh().run("true"));
}

pub fn certificate_options_and_extensions_apply() {
    let p = prepared(
        "cert-options",
        "ed25519",
        &["TrustedUserCAKeys {dir}/ca.pub"],
    );
    let user = p.user.clone();
    let cert = p.dir.join("id_ed25519-cert.pub");
    certify(
        &p,
        "forced",
        &["-n", &user, "-O", "force-command=echo forced"],
    );
    let server = p.start();
    let out = server.ssh().run("echo mine");
    out.assert_success();
    assert_eq!(out.stdout_str(), "forced\n");
    // Without permit-pty no terminal is given.
    fs::remove_file(&cert).unwrap();
    certify(server.prepared(), "no-pty", &["-n", &user, "-O", "no-pty"]);
    let out = server.ssh().arg("-tt").run("tty");
    assert!(
        out.stderr.contains("PTY allocation request failed"),
        "{}",
        out.stderr
    );
    // A source address that excludes 127.0.0.1.
    fs::remove_file(&cert).unwrap();
    certify(
        server.prepared(),
        "elsewhere",
        &["-n", &user, "-O", "source-address=10.0.0.0/8"],
    );
    assert_refused(&server.ssh().run("true"));
    // One that includes it.
    fs::remove_file(&cert).unwrap();
    certify(
        server.prepared(),
        "here",
        &["-n", &user, "-O", "source-address=10.0.0.0/8,127.0.0.0/8"],
    );
    server.ssh().run("true").assert_success();
}

pub fn revoked_certificates_and_cas_are_refused() {
    let p = prepared(
        "cert-revoked",
        "ed25519",
        &["TrustedUserCAKeys {dir}/ca.pub", "RevokedKeys {dir}/krl"],
    );
    let user = p.user.clone();
    let dir = p.dir.path().to_path_buf();
    let krl = dir.join("krl");
    let spec = dir.join("krl-spec");
    fs::write(&spec, "serial: 42\n").unwrap();
    let ca_pub = dir.join("ca.pub");
    keygen(&[
        "-q",
        "-k",
        "-f",
        krl.to_str().unwrap(),
        "-s",
        ca_pub.to_str().unwrap(),
        spec.to_str().unwrap(),
    ]);
    let cert = dir.join("id_ed25519-cert.pub");
    certify(&p, "revoked", &["-n", &user, "-z", "42"]);
    let server = p.start();
    assert_refused(&server.ssh().run("true"));
    server.assert_logged("revoked by file");
    fs::remove_file(&cert).unwrap();
    certify(server.prepared(), "fine", &["-n", &user, "-z", "43"]);
    server.ssh().run("true").assert_success();
    // The CA itself in a key list: every certificate it signed is refused.
    fs::copy(&ca_pub, &krl).unwrap();
    assert_refused(&server.ssh().run("true"));
}

pub fn rsa_ca_and_ca_signature_algorithms() {
    let p = prepared("cert-rsa-ca", "rsa", &["TrustedUserCAKeys {dir}/ca.pub"]);
    let user = p.user.clone();
    let cert = p.dir.join("id_ed25519-cert.pub");
    certify(&p, "rsa512", &["-n", &user, "-t", "rsa-sha2-512"]);
    let server = p.start();
    server.ssh().run("true").assert_success();
    server.assert_logged("CA RSA SHA256:");
    fs::remove_file(&cert).unwrap();
    // A server that takes only ed25519 CA signatures refuses it.
    let p2 = prepared(
        "cert-ca-algorithms",
        "rsa",
        &[
            "TrustedUserCAKeys {dir}/ca.pub",
            "CASignatureAlgorithms ssh-ed25519",
        ],
    );
    certify(&p2, "rsa512", &["-n", &user, "-t", "rsa-sha2-512"]);
    let strict = p2.start();
    assert_refused(&strict.ssh().run("true"));
}

/// A directory under `/run` (root's, not writable by others all the way up, as the
/// key commands must be), removed when dropped.
struct RootDir(PathBuf);

impl RootDir {
    fn new(name: &str) -> RootDir {
        use std::os::unix::fs::PermissionsExt;
        let d = PathBuf::from(format!("/run/sisu-test-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir(&d).unwrap();
        fs::set_permissions(&d, fs::Permissions::from_mode(0o755)).unwrap();
        RootDir(d)
    }

    /// An executable script (mode 0755) named `name` in the directory.
    fn script(&self, name: &str, body: &str) -> PathBuf {
        use std::os::unix::fs::PermissionsExt;
        let p = self.0.join(name);
        fs::write(&p, format!("#!/bin/sh\n{body}")).unwrap();
        fs::set_permissions(&p, fs::Permissions::from_mode(0o755)).unwrap();
        p
    }
}

impl Drop for RootDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

pub fn authorized_keys_command_with_tokens_and_without() {
    let dir = RootDir::new("keys-command");
    // The daemon's own PATH must not reach the command.
    let path = format!(
        "{}:/sisu-path-marker",
        std::env::var("PATH").unwrap_or_default()
    );
    let p = Server::builder("keys-command").env("PATH", &path).prepare();
    let user = p.user.clone();
    let key_line = fs::read_to_string(p.dir.join("id_ed25519.pub")).unwrap();
    let fields: Vec<&str> = key_line.split_whitespace().collect();
    let fp = fingerprint_of(&p.dir.join("id_ed25519.pub"));
    let with_args = dir.script(
        "keys",
        &format!(
            "test \"$1\" = '{user}' || exit 3\ntest \"$2\" = ssh-ed25519 || exit 4\n\
             test \"$3\" = '{fp}' || exit 5\ntest \"$4\" = '{}' || exit 6\n\
             case \"$PATH\" in *sisu-path-marker*) exit 7;; esac\n\
             echo 'command=\"echo from-the-command\" {} {}'\n",
            fields[1], fields[0], fields[1]
        ),
    );
    fs::write(p.dir.join("authorized_keys"), "").unwrap();
    let mut f = fs::OpenOptions::new()
        .append(true)
        .open(p.config_path())
        .unwrap();
    writeln!(
        f,
        "AuthorizedKeysCommand {} %u %t %f %k",
        with_args.display()
    )
    .unwrap();
    writeln!(f, "AuthorizedKeysCommandUser nobody").unwrap();
    drop(f);
    let server = p.start();
    let out = server.ssh().run("echo mine");
    out.assert_success();
    assert_eq!(out.stdout_str(), "from-the-command\n");
    // Without arguments the user name is the one argument.
    let no_args = dir.script(
        "keys-no-args",
        &format!(
            "test $# -eq 1 && test \"$1\" = '{user}' || exit 3\necho '{} {}'\n",
            fields[0], fields[1]
        ),
    );
    let p2 = Server::builder("keys-command-no-args").prepare();
    fs::write(p2.dir.join("authorized_keys"), "").unwrap();
    let mut f = fs::OpenOptions::new()
        .append(true)
        .open(p2.config_path())
        .unwrap();
    writeln!(f, "AuthorizedKeysCommand {}", no_args.display()).unwrap();
    writeln!(f, "AuthorizedKeysCommandUser nobody").unwrap();
    drop(f);
    // That server's client key is another one: the command prints the first key.
    let s2 = p2.start();
    let out = s2.ssh().identity(server.client_key()).run("echo plain");
    out.assert_success();
    assert_eq!(out.stdout_str(), "plain\n");
    // A failing command and one in a directory others may write grant nothing.
    let failing = dir.script("fails", "exit 9\n");
    let p3 = Server::builder("keys-command-fails").prepare();
    fs::write(p3.dir.join("authorized_keys"), "").unwrap();
    let unsafe_copy = p3.dir.join("keys");
    fs::copy(&with_args, &unsafe_copy).unwrap();
    let mut f = fs::OpenOptions::new()
        .append(true)
        .open(p3.config_path())
        .unwrap();
    writeln!(f, "AuthorizedKeysCommand {}", failing.display()).unwrap();
    writeln!(f, "AuthorizedKeysCommandUser nobody").unwrap();
    drop(f);
    let s3 = p3.start();
    assert_refused(&s3.ssh().run("true"));
    if s3.kind() == crate::common::ServerKind::Sisu {
        s3.assert_logged("failed, status 9");
    }
}

pub fn authorized_principals_command_names_principals() {
    let dir = RootDir::new("principals-command");
    let script = dir.script(
        "principals",
        "test \"$2\" = ops-cert || exit 3\ntest \"$3\" = 5 || exit 4\necho ops\n",
    );
    let line = format!("AuthorizedPrincipalsCommand {} %u %i %s", script.display());
    let p = prepared(
        "principals-command",
        "ed25519",
        &[
            "TrustedUserCAKeys {dir}/ca.pub",
            &line,
            "AuthorizedPrincipalsCommandUser nobody",
        ],
    );
    let cert = p.dir.join("id_ed25519-cert.pub");
    certify(&p, "ops-cert", &["-n", "ops", "-z", "5"]);
    let server = p.start();
    server.ssh().run("true").assert_success();
    fs::remove_file(&cert).unwrap();
    certify(server.prepared(), "ops-cert", &["-n", "dev", "-z", "5"]);
    assert_refused(&server.ssh().run("true"));
}
