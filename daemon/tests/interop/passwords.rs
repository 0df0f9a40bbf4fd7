//! Password authentication (RFC 4252 §8) against the accounts' real hashes, with
//! real clients: OpenSSH `ssh` through `sshpass`, paramiko and PuTTY's `plink`.
//! Every scheme `chpasswd` writes, refusals and their log lines in OpenSSH's words,
//! `PasswordAuthentication` (also inside `Match`), `PermitEmptyPasswords`, and
//! `AuthenticationMethods publickey,password`.
//!
//! The accounts (`sisupw*`) are made with [`ensure_account`] and get their password
//! from `chpasswd`, so the hashes are the system's own. Root only: the server must
//! read `/etc/shadow`.

use crate::common::{
    ensure_account, fingerprint, run_bounded, set_password, test_user, AccountSpec, Input, Output,
    RootAlias, Server, ServerBuilder, CLIENT_TIMEOUT,
};
use std::process::Command;
use std::time::Duration;

/// The password every test account gets.
const PASSWORD: &str = "correct horse 7";

/// Creates `name` with [`PASSWORD`] hashed by `chpasswd -c method`.
fn account(name: &str, method: &str) {
    ensure_account(name, &AccountSpec::default());
    set_password(name, PASSWORD, method);
}

fn start_with(name: &str, lines: &[&str]) -> Server {
    let mut b: ServerBuilder = Server::builder(name);
    for l in lines {
        b = b.config(l);
    }
    b.start()
}

/// The client was refused, and the methods it was told it may go on with list
/// `password` or not. (OpenSSH's sshd also lists `keyboard-interactive`, with no
/// device behind it when PAM is off; the lists are compared without it.)
fn assert_denied(out: &Output, methods: &str) {
    assert_eq!(out.code, Some(255), "{}", out.stderr);
    let listed = out
        .stderr
        .lines()
        .find_map(|l| l.split_once("Permission denied (")?.1.split_once(')'))
        .map(|(m, _)| {
            m.split(',')
                .filter(|m| *m != "keyboard-interactive")
                .collect::<Vec<_>>()
                .join(",")
        });
    assert_eq!(listed.as_deref(), Some(methods), "{}", out.stderr);
}

/// The scheme of `name`'s stored hash, from `getent shadow`.
fn stored_scheme(name: &str) -> String {
    let mut cmd = Command::new("getent");
    cmd.args(["shadow", name]);
    let out = run_bounded(cmd, Input::Null, None, Duration::from_secs(10));
    let field = out.stdout_str().split(':').nth(1).unwrap_or("").to_string();
    field.split('$').nth(1).unwrap_or("").to_string()
}

pub fn password_logins_with_every_hash_scheme() {
    let server = Server::start("password-schemes");
    for (user, method, scheme) in [
        ("sisupwy", "YESCRYPT", "y"),
        ("sisupw6", "SHA512", "6"),
        ("sisupw5", "SHA256", "5"),
        ("sisupw1", "MD5", "1"),
    ] {
        account(user, method);
        assert_eq!(stored_scheme(user), scheme, "chpasswd -c {method}");
        let out = server
            .ssh()
            .login_as(user)
            .password(PASSWORD)
            .run("id -un; pwd");
        out.assert_success();
        assert_eq!(out.stdout_str(), format!("{user}\n/\n"), "{method}");
        server.assert_logged(&format!(
            "Accepted password for {user} from 127.0.0.1 port "
        ));
    }
}

pub fn wrong_passwords_unknown_and_locked_users_are_refused_and_logged() {
    account("sisupwr", "YESCRYPT");
    let server = Server::start("password-refusals");
    let wrong = server
        .ssh()
        .login_as("sisupwr")
        .password("wrong")
        .run("true");
    assert_denied(&wrong, "publickey,password");
    server.assert_logged("Failed password for sisupwr from 127.0.0.1 port ");
    let unknown = server
        .ssh()
        .login_as("sisunosuch")
        .password(PASSWORD)
        .run("true");
    assert_denied(&unknown, "publickey,password");
    server.assert_logged("Invalid user sisunosuch from 127.0.0.1 port ");
    server.assert_logged("Failed password for invalid user sisunosuch from 127.0.0.1 port ");
    // A locked account refuses even the right password.
    account("sisupwl", "YESCRYPT");
    let mut lock = Command::new("usermod");
    lock.args(["-L", "sisupwl"]);
    run_bounded(lock, Input::Null, None, Duration::from_secs(30)).assert_success();
    let locked = server
        .ssh()
        .login_as("sisupwl")
        .password(PASSWORD)
        .run("true");
    assert_denied(&locked, "publickey,password");
    server.assert_logged("User sisupwl not allowed because account is locked");
    server.assert_logged("Failed password for invalid user sisupwl from");
    // The right password still works after all that.
    server
        .ssh()
        .login_as("sisupwr")
        .password(PASSWORD)
        .run("true")
        .assert_success();
}

pub fn password_authentication_no_and_in_a_match_block() {
    account("sisupwm", "YESCRYPT");
    account("sisupwn", "SHA512");
    let off = start_with("password-off", &["PasswordAuthentication no"]);
    let out = off.ssh().login_as("sisupwm").password(PASSWORD).run("true");
    assert_denied(&out, "publickey");
    let per_user = start_with(
        "password-match",
        &["Match User sisupwm", "  PasswordAuthentication no"],
    );
    let out = per_user
        .ssh()
        .login_as("sisupwm")
        .password(PASSWORD)
        .run("true");
    assert_denied(&out, "publickey");
    per_user
        .ssh()
        .login_as("sisupwn")
        .password(PASSWORD)
        .run("true")
        .assert_success();
}

pub fn empty_passwords_only_with_permit_empty_passwords() {
    ensure_account(
        "sisupwe",
        &AccountSpec {
            password: "",
            ..AccountSpec::default()
        },
    );
    let refused = Server::start("empty-password-no");
    let out = refused.ssh().login_as("sisupwe").password("").run("true");
    assert_eq!(out.code, Some(255), "{}", out.stderr);
    let allowed = start_with("empty-password-yes", &["PermitEmptyPasswords yes"]);
    let out = allowed.ssh().login_as("sisupwe").password("").run("id -un");
    out.assert_success();
    assert_eq!(out.stdout_str(), "sisupwe\n");
    // An account with a password is not opened by the empty one.
    account("sisupwf", "YESCRYPT");
    let out = allowed.ssh().login_as("sisupwf").password("").run("true");
    assert_eq!(out.code, Some(255), "{}", out.stderr);
}

pub fn publickey_then_password_with_authentication_methods() {
    let user = test_user();
    set_password(&user, PASSWORD, "YESCRYPT");
    let server = start_with(
        "publickey-password",
        &["AuthenticationMethods publickey,password"],
    );
    let both = server
        .ssh()
        .password_after(PASSWORD, "publickey,password")
        .run("id -un");
    both.assert_success();
    assert_eq!(both.stdout_str(), format!("{user}\n"));
    server.assert_logged(&format!("Partial publickey for {user} from"));
    server.assert_logged(&format!("Accepted password for {user} from"));
    // The key alone: after it, only password is listed.
    let key_only = server.ssh().run("true");
    assert_denied(&key_only, "password");
    // The password alone is not even offered first.
    let password_only = server.ssh().password(PASSWORD).run("true");
    assert_denied(&password_only, "publickey");
    // The key, then a wrong password.
    let wrong = server
        .ssh()
        .password_after("wrong", "publickey,password")
        .run("true");
    assert_denied(&wrong, "password");
}

pub fn expose_auth_info_lists_the_methods_used() {
    let user = test_user();
    set_password(&user, PASSWORD, "YESCRYPT");
    let server = start_with(
        "expose-auth-info",
        &[
            "AuthenticationMethods publickey,password",
            "ExposeAuthInfo yes",
        ],
    );
    let out = server
        .ssh()
        .password_after(PASSWORD, "publickey,password")
        .run("echo $SSH_USER_AUTH; cat \"$SSH_USER_AUTH\"");
    out.assert_success();
    let key = std::fs::read_to_string(server.dir().join("id_ed25519.pub")).unwrap();
    let key: Vec<&str> = key.split_whitespace().take(2).collect();
    let stdout = out.stdout_str();
    let mut lines = stdout.lines();
    let path = lines.next().unwrap_or_default().to_string();
    assert!(path.starts_with("/tmp/sshauth."), "{stdout}");
    assert_eq!(
        lines.collect::<Vec<_>>(),
        [
            format!("publickey {} {}", key[0], key[1]),
            "password".to_string()
        ],
        "{stdout}"
    );
    // Gone with the connection.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while std::path::Path::new(&path).exists() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(!std::path::Path::new(&path).exists(), "{path} left behind");
}

const PARAMIKO_PASSWORD_PY: &str = r#"
import sys, paramiko
port, user, password, known = sys.argv[1:5]
c = paramiko.SSHClient()
c.load_host_keys(known)
c.set_missing_host_key_policy(paramiko.RejectPolicy())
try:
    c.connect("127.0.0.1", port=int(port), username=user, password=password,
              look_for_keys=False, allow_agent=False, timeout=10, banner_timeout=10,
              auth_timeout=10)
except paramiko.AuthenticationException:
    print("refused")
    sys.exit(0)
_, out, _ = c.exec_command("id -un")
print(out.read().decode().strip())
c.close()
"#;

fn paramiko(server: &Server, user: &str, password: &str) -> String {
    let mut cmd = Command::new("python3");
    cmd.arg("-c")
        .arg(PARAMIKO_PASSWORD_PY)
        .arg(server.port.to_string())
        .arg(user)
        .arg(password)
        .arg(server.dir().join("known_hosts"));
    let out = run_bounded(cmd, Input::Null, None, CLIENT_TIMEOUT);
    out.assert_success();
    out.stdout_str().trim().to_string()
}

pub fn paramiko_logs_in_with_a_password() {
    account("sisupwp", "YESCRYPT");
    let server = Server::start("password-paramiko");
    assert_eq!(paramiko(&server, "sisupwp", PASSWORD), "sisupwp");
    assert_eq!(paramiko(&server, "sisupwp", "wrong"), "refused");
    server.assert_logged("Failed password for sisupwp from 127.0.0.1 port ");
}

fn plink(server: &Server, user: &str, password: &str) -> Output {
    let home = server.dir().join("plink-home");
    std::fs::create_dir_all(&home).unwrap();
    let host_fp = fingerprint(&server.dir().join("ssh_host_ed25519_key.pub"));
    let mut cmd = Command::new("plink");
    cmd.env("HOME", &home)
        .args(["-ssh", "-batch", "-P"])
        .arg(server.port.to_string())
        .args(["-l", user, "-pw", password, "-hostkey"])
        .arg(&host_fp)
        .args(["127.0.0.1", "id -un"]);
    run_bounded(cmd, Input::Null, None, CLIENT_TIMEOUT)
}

pub fn plink_logs_in_with_a_password() {
    account("sisupwk", "YESCRYPT");
    let server = Server::start("password-plink");
    let out = plink(&server, "sisupwk", PASSWORD);
    out.assert_success();
    assert_eq!(out.stdout_str(), "sisupwk\n");
    let out = plink(&server, "sisupwk", "wrong");
    assert_ne!(out.code, Some(0), "{}", out.stderr);
    server.assert_logged("Failed password for sisupwk from 127.0.0.1 port ");
}

/// `PermitRootLogin` for passwords: `prohibit-password` (the default) and
/// `forced-commands-only` refuse root's password (a "Failed password" line, as
/// OpenSSH's); `yes` lets it in.
pub fn permit_root_login_applies_to_passwords() {
    let root = RootAlias::new("sisuroot0", "/nonexistent/sisu-root-alias");
    set_password(root.0, PASSWORD, "YESCRYPT");
    for (setting, allowed) in [
        (None, false),
        (Some("PermitRootLogin forced-commands-only"), false),
        (Some("PermitRootLogin yes"), true),
    ] {
        let lines: Vec<&str> = setting.into_iter().collect();
        let server = start_with("root-password", &lines);
        let out = server
            .ssh()
            .login_as(root.0)
            .password(PASSWORD)
            .run("id -u");
        if allowed {
            out.assert_success();
            assert_eq!(out.stdout_str(), "0\n");
        } else {
            assert_eq!(out.code, Some(255), "{setting:?}: {}", out.stderr);
            server.assert_logged("Failed password for sisuroot0 from 127.0.0.1 port ");
        }
    }
}
