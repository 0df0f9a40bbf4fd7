//! Security-key (FIDO/U2F) user keys, `sk-ssh-ed25519@openssh.com` and
//! `sk-ecdsa-sha2-nistp256@openssh.com`, made and used by OpenSSH's `ssh-keygen` and
//! `ssh` through the dummy authenticator Debian's `openssh-tests` ships (it signs in
//! software with the flags the key was made with): logins with both types and with a
//! certificate of one, the signature's counter and flags logged, and the flags checked
//! against `no-touch-required` / `verify-required` (authorized_keys) and
//! `PubkeyAuthOptions`.

use crate::common::{fingerprint, keygen, Output, Prepared, Server};
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Debian's dummy security-key provider (package `openssh-tests`).
pub const SK_DUMMY: &str = "/usr/lib/openssh/regress/misc/sk-dummy/sk-dummy.so";

/// A prepared server whose `authorized_keys` is empty, with `lines` added to its
/// configuration (`{dir}` stands for the test directory).
fn prepared(name: &str, lines: &[&str]) -> Prepared {
    Server::builder(name).prepare().without_keys_and_with(lines)
}

/// Makes a security key `name` of `key_type` (`ed25519-sk`, `ecdsa-sk`) in the test
/// directory with the dummy provider and `-O` options `opts`; its path.
fn sk_key(p: &Prepared, name: &str, key_type: &str, opts: &[&str]) -> PathBuf {
    let path = p.dir.join(name);
    let mut args = vec![
        "-q",
        "-t",
        key_type,
        "-w",
        SK_DUMMY,
        "-N",
        "",
        "-C",
        "sisu-sk",
        "-f",
        path.to_str().unwrap(),
    ];
    for o in opts {
        args.extend(["-O", o]);
    }
    keygen(&args);
    path
}

/// Authorizes `key`'s public half with the `authorized_keys` options `options`.
fn authorize(p: &Prepared, key: &Path, options: &str) {
    let text = fs::read_to_string(format!("{}.pub", key.display())).unwrap();
    let line = if options.is_empty() {
        text
    } else {
        format!("{options} {text}")
    };
    let mut f = fs::OpenOptions::new()
        .append(true)
        .open(p.dir.join("authorized_keys"))
        .unwrap();
    f.write_all(line.as_bytes()).unwrap();
}

fn login(server: &Server, key: &Path) -> Output {
    server
        .ssh()
        .identity(key)
        .option(&format!("SecurityKeyProvider={SK_DUMMY}"))
        .run("id -un")
}

fn assert_in(out: &Output, user: &str) {
    out.assert_success();
    assert_eq!(out.stdout_str(), format!("{user}\n"));
}

/// Some "Accepted" line ends with `end`: the key, and nothing after it (as OpenSSH's).
fn assert_line_ends(server: &Server, end: &str) {
    let found = server.wait_log_line(std::time::Duration::from_secs(10), |l| {
        l.contains("Accepted publickey") && l.trim_end().ends_with(end)
    });
    assert!(found.is_some(), "no line ending {end:?}:\n{}", server.log());
}

fn assert_refused(out: &Output) {
    assert_eq!(out.code, Some(255), "{}", out.stderr);
    assert!(out.stderr.contains("Permission denied"), "{}", out.stderr);
}

pub fn ed25519_and_ecdsa_security_keys_log_in_with_their_counter() {
    let p = prepared("sk-both", &[]);
    let ed = sk_key(&p, "id_ed25519_sk", "ed25519-sk", &[]);
    let ec = sk_key(&p, "id_ecdsa_sk", "ecdsa-sk", &[]);
    authorize(&p, &ed, "");
    authorize(&p, &ec, "");
    let user = p.user.clone();
    let ed_fp = fingerprint(&PathBuf::from(format!("{}.pub", ed.display())));
    let ec_fp = fingerprint(&PathBuf::from(format!("{}.pub", ec.display())));
    let server = p.start();
    assert_in(&login(&server, &ed), &user);
    assert_line_ends(&server, &format!("ssh2: ED25519-SK {ed_fp}"));
    assert_in(&login(&server, &ec), &user);
    assert_line_ends(&server, &format!("ssh2: ECDSA-SK {ec_fp}"));
    // The counter and flags of the signature, in OpenSSH's words (its debug line,
    // which sisu-sshd writes at VERBOSE; the dummy key counts from 0x12345678).
    if crate::common::ServerKind::from_env() == crate::common::ServerKind::Sisu {
        server.assert_logged("userauth_pubkey: sk_counter = 305419896, sk_flags = 0x01");
    }
}

pub fn user_presence_is_required_unless_the_line_says_no_touch_required() {
    let p = prepared("sk-touch", &[]);
    let key = sk_key(&p, "id_notouch", "ed25519-sk", &["no-touch-required"]);
    authorize(&p, &key, "");
    let server = p.start();
    // The key signs without user presence: refused by default.
    assert_refused(&login(&server, &key));
    server.assert_logged("rejected: user presence (authenticator touch) requirement not met");
    drop(server);
    let p = prepared("sk-touch-ok", &[]);
    let key = sk_key(&p, "id_notouch", "ed25519-sk", &["no-touch-required"]);
    authorize(&p, &key, "no-touch-required");
    let user = p.user.clone();
    let server = p.start();
    assert_in(&login(&server, &key), &user);
    drop(server);
    // PubkeyAuthOptions touch-required overrides the line's no-touch-required.
    let p = prepared("sk-touch-forced", &["PubkeyAuthOptions touch-required"]);
    let key = sk_key(&p, "id_notouch", "ed25519-sk", &["no-touch-required"]);
    authorize(&p, &key, "no-touch-required");
    let server = p.start();
    assert_refused(&login(&server, &key));
}

pub fn verify_required_needs_a_verified_user() {
    // A key that signs with user presence only.
    let p = prepared("sk-verify", &[]);
    let key = sk_key(&p, "id_touch", "ed25519-sk", &[]);
    authorize(&p, &key, "verify-required");
    let server = p.start();
    assert_refused(&login(&server, &key));
    server.assert_logged("rejected: user verification requirement not met");
    drop(server);
    let p = prepared("sk-verify-option", &["PubkeyAuthOptions verify-required"]);
    let key = sk_key(&p, "id_touch", "ed25519-sk", &[]);
    let verified = sk_key(&p, "id_verify", "ed25519-sk", &["verify-required"]);
    authorize(&p, &key, "");
    authorize(&p, &verified, "verify-required");
    let user = p.user.clone();
    let server = p.start();
    assert_refused(&login(&server, &key));
    // A key whose signatures carry user verification passes both.
    assert_in(&login(&server, &verified), &user);
}

pub fn a_certificate_of_a_security_key_logs_in() {
    let p = prepared("sk-cert", &["TrustedUserCAKeys {dir}/ca.pub"]);
    crate::common::generate_key(&p.dir.join("ca"), "ed25519");
    let key = sk_key(&p, "id_ed25519_sk", "ed25519-sk", &[]);
    let user = p.user.clone();
    let ca = p.dir.join("ca");
    keygen(&[
        "-q",
        "-s",
        ca.to_str().unwrap(),
        "-I",
        "sk-cert-1",
        "-n",
        &user,
        "-z",
        "42",
        &format!("{}.pub", key.display()),
    ]);
    let server = p.start();
    assert_in(&login(&server, &key), &user);
    server.assert_logged("ED25519-SK-CERT SHA256:");
    server.assert_logged("ID sk-cert-1 (serial 42) CA ED25519");
}
