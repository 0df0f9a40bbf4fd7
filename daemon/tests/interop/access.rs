//! Who may log in at all: `AllowUsers`, `DenyUsers`, `AllowGroups`, `DenyGroups` (with
//! `user@host` and CIDR, in `Match` blocks too), locked and expired accounts and login
//! shells, `AuthenticationMethods` with two keys, and `RequiredRSASize`. Each refusal
//! must look to the client exactly like a wrong key, and be logged in OpenSSH's words.

use crate::common::{
    ensure_account, generate_key, primary_group, AccountSpec, Output, Server, ServerBuilder,
};
use std::time::Duration;

/// The client's verdict on a refused login: exit 255, "Permission denied (publickey)",
/// and the server never said PK_OK for the key ("Server accepts key").
fn assert_refused_like_a_wrong_key(out: &Output) {
    assert_eq!(out.code, Some(255), "{}", out.stderr);
    assert!(
        out.stderr.contains("Permission denied (publickey"),
        "{}",
        out.stderr
    );
    assert!(
        !out.stderr.contains("Server accepts key"),
        "PK_OK was sent: {}",
        out.stderr
    );
}

fn start_with(name: &str, lines: &[String]) -> Server {
    let mut b: ServerBuilder = Server::builder(name);
    for l in lines {
        b = b.config(l);
    }
    b.start()
}

pub fn deny_users_refuses_like_a_wrong_key_and_logs() {
    let user = crate::common::test_user();
    let server = start_with("deny-users", &[format!("DenyUsers nobody {user}")]);
    let refused = server.ssh().arg("-v").run("true");
    assert_refused_like_a_wrong_key(&refused);
    server.assert_logged(&format!(
        "User {user} from 127.0.0.1 not allowed because listed in DenyUsers"
    ));
    // The same exchange as with a key that is not authorized at all.
    let other = server.dir().join("other_key");
    generate_key(&other, "ed25519");
    let wrong = server.ssh().arg("-v").identity(&other).run("true");
    assert_refused_like_a_wrong_key(&wrong);
    let replies = |o: &Output| -> Vec<String> {
        o.stderr
            .lines()
            .filter(|l| l.contains("Authentications that can continue"))
            .map(String::from)
            .collect()
    };
    assert_eq!(replies(&refused).len(), replies(&wrong).len());
    // A pattern that does not name the user lets the user in.
    let server = start_with("deny-users-other", &["DenyUsers nobody r?ot".into()]);
    server.ssh().run("true").assert_success();
}

pub fn allow_users_by_host_and_cidr() {
    let user = crate::common::test_user();
    let server = start_with(
        "allow-users-cidr",
        &[format!("AllowUsers {user}@10.0.0.0/8 root")],
    );
    assert_refused_like_a_wrong_key(&server.ssh().run("true"));
    server.assert_logged(&format!(
        "User {user} from 127.0.0.1 not allowed because not listed in AllowUsers"
    ));
    for allow in [
        format!("AllowUsers {user}@127.0.0.0/8"),
        format!("AllowUsers nobody {user}@127.0.0.1"),
        format!("AllowUsers {}*@127.0.0.*", &user[..2]),
        format!("AllowUsers {user}@10.0.0.0/8,127.0.0.1"),
    ] {
        let server = start_with("allow-users-ok", std::slice::from_ref(&allow));
        let out = server.ssh().run("echo in");
        assert_eq!(out.stdout_str(), "in\n", "{allow}: {}", out.stderr);
    }
    // A negated address refuses even when another entry admits.
    let server = start_with(
        "allow-users-neg",
        &[format!("AllowUsers {user}@127.0.0.0/8,!127.0.0.1")],
    );
    assert_refused_like_a_wrong_key(&server.ssh().run("true"));
}

pub fn deny_and_allow_groups_with_the_primary_group() {
    let user = crate::common::test_user();
    let group = primary_group(&user);
    let server = start_with("deny-groups", &[format!("DenyGroups {group}")]);
    assert_refused_like_a_wrong_key(&server.ssh().run("true"));
    server.assert_logged(&format!(
        "User {user} from 127.0.0.1 not allowed because a group is listed in DenyGroups"
    ));
    let server = start_with(
        "allow-groups-none",
        &["AllowGroups sisu-no-such-group".into()],
    );
    assert_refused_like_a_wrong_key(&server.ssh().run("true"));
    server.assert_logged(&format!(
            "User {user} from 127.0.0.1 not allowed because none of user's groups are listed in AllowGroups"
        ),
    );
    let server = start_with("allow-groups-ok", &[format!("AllowGroups nogroup {group}")]);
    server.ssh().run("true").assert_success();
}

/// DenyUsers is checked before AllowUsers, and both before the group lists.
pub fn deny_users_wins_over_allow_users_and_groups() {
    let user = crate::common::test_user();
    let group = primary_group(&user);
    let server = start_with(
        "deny-wins",
        &[
            format!("AllowUsers {user}"),
            format!("DenyUsers {user}"),
            format!("AllowGroups {group}"),
        ],
    );
    assert_refused_like_a_wrong_key(&server.ssh().run("true"));
    server.assert_logged("not allowed because listed in DenyUsers");
}

/// A supplementary group counts as much as the primary one.
pub fn allow_groups_with_a_supplementary_group() {
    let name = "sisu-t-supp";
    ensure_account(
        name,
        &AccountSpec {
            groups: &["sisu-t-grp"],
            ..AccountSpec::default()
        },
    );
    let server = start_with("allow-groups-supp", &["AllowGroups sisu-t-grp".into()]);
    let out = server.ssh().login_as(name).run("id -un");
    out.assert_success();
    assert_eq!(out.stdout_str(), format!("{name}\n"));
    let server = start_with("deny-groups-supp", &["DenyGroups sisu-t-g*".into()]);
    assert_refused_like_a_wrong_key(&server.ssh().login_as(name).run("true"));
    server.assert_logged("a group is listed in DenyGroups");
}

pub fn deny_users_inside_a_match_block() {
    let user = crate::common::test_user();
    let server = start_with(
        "deny-in-match",
        &[
            "Match Address 127.0.0.1".into(),
            format!("  DenyUsers {user}"),
        ],
    );
    assert_refused_like_a_wrong_key(&server.ssh().run("true"));
    server.assert_logged("not allowed because listed in DenyUsers");
    let server = start_with(
        "deny-in-other-match",
        &[
            "Match Address 10.0.0.0/8".into(),
            format!("  DenyUsers {user}"),
        ],
    );
    server.ssh().run("true").assert_success();
}

/// Locked (`!` password), expired (`chage -E 0`), missing shell, shell not executable:
/// each refused with OpenSSH's line, while a good account with the same key gets in.
pub fn locked_expired_and_shell_less_accounts_are_refused() {
    let cases: [(&str, AccountSpec<'_>, String); 4] = [
        (
            "sisu-t-locked",
            AccountSpec {
                password: "!",
                ..AccountSpec::default()
            },
            "User sisu-t-locked not allowed because account is locked".into(),
        ),
        (
            "sisu-t-expired",
            AccountSpec {
                expire: "0",
                ..AccountSpec::default()
            },
            "Account sisu-t-expired has expired".into(),
        ),
        (
            "sisu-t-noshell",
            AccountSpec {
                shell: "/nonexistent/sisu-shell",
                ..AccountSpec::default()
            },
            "User sisu-t-noshell not allowed because shell /nonexistent/sisu-shell does not exist"
                .into(),
        ),
        (
            "sisu-t-noexec",
            AccountSpec {
                shell: "/etc/passwd",
                ..AccountSpec::default()
            },
            "User sisu-t-noexec not allowed because shell /etc/passwd is not executable".into(),
        ),
    ];
    for (name, spec, _) in &cases {
        ensure_account(name, spec);
    }
    ensure_account("sisu-t-good", &AccountSpec::default());
    let server = Server::start("accounts");
    for (name, _, line) in &cases {
        assert_refused_like_a_wrong_key(&server.ssh().login_as(name).run("true"));
        server.assert_logged(line);
    }
    let out = server.ssh().login_as("sisu-t-good").run("id -un");
    out.assert_success();
    assert_eq!(out.stdout_str(), "sisu-t-good\n");
}

/// `AuthenticationMethods publickey,publickey`: two different keys, one after the
/// other; one key alone is a partial success, never a login.
pub fn two_keys_for_publickey_publickey() {
    let server = Server::builder("two-keys")
        .config("AuthenticationMethods publickey,publickey")
        .start();
    let second = server.dir().join("second_key");
    generate_key(&second, "ed25519");
    let mut keys = std::fs::read_to_string(server.dir().join("authorized_keys")).unwrap();
    keys.push_str(&std::fs::read_to_string(server.dir().join("second_key.pub")).unwrap());
    std::fs::write(server.dir().join("authorized_keys"), keys).unwrap();
    // One key: a partial success, then nothing left to offer.
    let one = server.ssh().arg("-v").run("true");
    assert_eq!(one.code, Some(255), "{}", one.stderr);
    assert!(
        one.stderr
            .contains("Authenticated using \"publickey\" with partial success"),
        "{}",
        one.stderr
    );
    server.assert_logged("Partial publickey for ");
    // Both keys: in.
    let both = server.ssh().arg("-i").arg(&second).run("echo two");
    assert_eq!(both.stdout_str(), "two\n", "{}", both.stderr);
    server.assert_logged("Accepted publickey for ");
}

/// `RequiredRSASize 3072` refuses a 2048-bit RSA key and takes a 3072-bit one.
pub fn required_rsa_size_refuses_small_rsa_keys() {
    let server = Server::builder("rsa-size")
        .config("RequiredRSASize 3072")
        .start();
    let small = server.dir().join("rsa2048");
    crate::common::keygen(&[
        "-q",
        "-t",
        "rsa",
        "-b",
        "2048",
        "-N",
        "",
        "-f",
        small.to_str().unwrap(),
    ]);
    let big = server.dir().join("rsa3072");
    generate_key(&big, "rsa");
    let mut keys = String::new();
    for k in ["rsa2048.pub", "rsa3072.pub"] {
        keys.push_str(&std::fs::read_to_string(server.dir().join(k)).unwrap());
    }
    std::fs::write(server.dir().join("authorized_keys"), keys).unwrap();
    assert_refused_like_a_wrong_key(&server.ssh().identity(&small).run("true"));
    server.assert_logged("refusing RSA key: Invalid key length");
    server.ssh().identity(&big).run("true").assert_success();
}

/// `PermitRootLogin`: root may log in with a key by default (`prohibit-password`), not
/// at all with `no` (logged "ROOT LOGIN REFUSED"), and with `forced-commands-only`
/// only through a key with `command=`.
pub fn permit_root_login_no_and_forced_commands_only() {
    let server = Server::start("root-default");
    let out = server.ssh().login_as("root").run("id -u");
    assert_eq!(out.stdout_str(), "0\n", "{}", out.stderr);
    let server = Server::builder("root-no")
        .config("PermitRootLogin no")
        .start();
    assert_refused_like_a_wrong_key(&server.ssh().login_as("root").run("true"));
    server.assert_logged("ROOT LOGIN REFUSED");
    let server = Server::builder("root-forced")
        .config("PermitRootLogin forced-commands-only")
        .start();
    // A key without command= does not get root a command (OpenSSH closes the
    // connection after authentication, Sisu refuses the key).
    let out = server.ssh().login_as("root").run("echo ran");
    assert_eq!(out.code, Some(255), "{}", out.stderr);
    assert!(!out.stdout_str().contains("ran"), "{}", out.stdout_str());
    let key = std::fs::read_to_string(server.dir().join("id_ed25519.pub")).unwrap();
    std::fs::write(
        server.dir().join("authorized_keys"),
        format!("command=\"echo forced-root\" {key}"),
    )
    .unwrap();
    let out = server.ssh().login_as("root").run("true");
    assert_eq!(out.stdout_str(), "forced-root\n", "{}", out.stderr);
}

/// `MaxAuthTries 2`: the third wrong key ends the connection ("Too many authentication
/// failures"), logged as OpenSSH does.
pub fn max_auth_tries_ends_the_connection() {
    let server = Server::builder("maxauthtries")
        .config("MaxAuthTries 2")
        .start();
    let wrong: Vec<_> = (0..3)
        .map(|i| {
            let k = server.dir().join(&format!("wrong{i}"));
            generate_key(&k, "ed25519");
            k
        })
        .collect();
    let mut ssh = server.ssh().arg("-v").identity(&wrong[0]);
    for k in &wrong[1..] {
        ssh = ssh.arg("-i").arg(k);
    }
    let out = ssh.run("true");
    assert_eq!(out.code, Some(255), "{}", out.stderr);
    assert!(
        out.stderr.contains("Too many authentication failures"),
        "{}",
        out.stderr
    );
    server.assert_logged("maximum authentication attempts exceeded for");
}

/// `PubkeyAcceptedAlgorithms ssh-ed25519`: an authorized RSA key is not accepted.
pub fn pubkey_accepted_algorithms_limit_key_types() {
    let server = Server::builder("pkalgs")
        .config("PubkeyAcceptedAlgorithms ssh-ed25519")
        .start();
    let rsa = server.dir().join("rsa_key");
    generate_key(&rsa, "rsa");
    std::fs::write(
        server.dir().join("authorized_keys"),
        std::fs::read_to_string(server.dir().join("rsa_key.pub")).unwrap(),
    )
    .unwrap();
    assert_refused_like_a_wrong_key(&server.ssh().identity(&rsa).run("true"));
    let server = Server::builder("pkalgs-rsa")
        .config("PubkeyAcceptedAlgorithms rsa-sha2-512,rsa-sha2-256")
        .start();
    std::fs::copy(&rsa, server.dir().join("rsa_key")).unwrap();
    std::fs::write(
        server.dir().join("authorized_keys"),
        std::fs::read_to_string(rsa.with_extension("pub")).unwrap(),
    )
    .unwrap();
    server
        .ssh()
        .identity(&server.dir().join("rsa_key"))
        .run("true")
        .assert_success();
}

/// `UseDNS no` (the default): `from=` host-name patterns are matched against the
/// client's address, so `from="localhost"` does not admit 127.0.0.1 and
/// `from="127.0.0.1"` does.
pub fn use_dns_no_matches_addresses_not_names() {
    let server = Server::start("usedns");
    let key = std::fs::read_to_string(server.dir().join("id_ed25519.pub")).unwrap();
    let ak = server.dir().join("authorized_keys");
    std::fs::write(&ak, format!("from=\"localhost\" {key}")).unwrap();
    assert_refused_like_a_wrong_key(&server.ssh().run("true"));
    std::fs::write(&ak, format!("from=\"127.0.0.1\" {key}")).unwrap();
    server.ssh().run("true").assert_success();
}

/// `LogLevel`: the command line's `-o LogLevel=ERROR` wins over the file's VERBOSE,
/// and a login then leaves no INFO line.
pub fn log_level_filters_lines() {
    let server = Server::builder("loglevel").option("LogLevel=ERROR").start();
    server.ssh().run("true").assert_success();
    std::thread::sleep(Duration::from_millis(500));
    let log = server.log();
    assert!(!log.contains("Accepted publickey"), "{log}");
    let server = Server::start("loglevel-verbose");
    server.ssh().run("true").assert_success();
    server.assert_logged("Accepted publickey");
}
