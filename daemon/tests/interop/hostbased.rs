//! Hostbased authentication (RFC 4252 §9) with OpenSSH's `ssh` and its setuid
//! `ssh-keysign`, which signs with the client host's key. The client runs in a private
//! mount namespace whose `/etc/ssh` is the test's own (an `ssh_config` with
//! `EnableSSHKeysign yes`, and a host key made for the test), so nothing of the
//! machine's changes. The server trusts `127.0.0.1` for the client user through the
//! user's `~/.shosts` (`IgnoreRhosts no`) and knows the host key from the user's
//! `~/.ssh/known_hosts`; each of those, `HostbasedAuthentication` and `IgnoreRhosts`
//! is shown to matter.

use crate::common::{generate_key, run_bounded, Input, Output, Prepared, Server, CLIENT_TIMEOUT};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The client's host key and `ssh_config`, in `DIR/etc-ssh`: the `/etc/ssh` of the
/// client's namespace.
fn client_etc(p: &Prepared) -> PathBuf {
    let etc = p.dir.join("etc-ssh");
    fs::create_dir_all(&etc).unwrap();
    generate_key(&etc.join("ssh_host_ed25519_key"), "ed25519");
    fs::write(etc.join("ssh_config"), "EnableSSHKeysign yes\n").unwrap();
    etc
}

/// `user`'s home with `.shosts` (`shosts`) and `.ssh/known_hosts` for 127.0.0.1
/// (with the client host key when `known`).
fn trusting_home(p: &Prepared, user: &str, etc: &Path, shosts: &str, known: bool) {
    trusting_home_as(p, user, etc, shosts, known.then_some("127.0.0.1"));
}

/// As [`trusting_home`], the key known under the name `known` (if any).
fn trusting_home_as(p: &Prepared, user: &str, etc: &Path, shosts: &str, known: Option<&str>) {
    let home = p.account_with_home(user);
    fs::write(home.join(".shosts"), shosts).unwrap();
    let key = fs::read_to_string(etc.join("ssh_host_ed25519_key.pub")).unwrap();
    let line = known
        .map(|name| format!("{name} {key}"))
        .unwrap_or_default();
    fs::write(home.join(".ssh/known_hosts"), line).unwrap();
}

/// `ssh -o HostbasedAuthentication=yes` as root, hostbased only, in the client's
/// namespace.
fn hostbased_login(server: &Server, user: &str, etc: &Path) -> Output {
    let p = server.prepared();
    let mut ssh: Vec<String> = vec!["ssh".into()];
    ssh.extend(
        p.client_options(&p.client_key)
            .into_iter()
            .map(|a| a.to_string_lossy().into_owned()),
    );
    ssh.extend(
        [
            "-o",
            "HostbasedAuthentication=yes",
            "-o",
            "EnableSSHKeysign=yes",
            "-o",
            "PreferredAuthentications=hostbased",
            "-p",
        ]
        .map(String::from),
    );
    ssh.push(server.port.to_string());
    ssh.push(format!("{user}@127.0.0.1"));
    ssh.push("id -un".into());
    let quoted: Vec<String> = ssh.iter().map(|a| format!("'{a}'")).collect();
    let mut cmd = Command::new("unshare");
    cmd.args(["-m", "--propagation", "private", "sh", "-c"])
        .arg(format!(
            "mount --bind '{}' /etc/ssh && exec {}",
            etc.display(),
            quoted.join(" ")
        ));
    run_bounded(cmd, Input::Null, None, CLIENT_TIMEOUT)
}

fn assert_refused(out: &Output) {
    assert_eq!(out.code, Some(255), "{}", out.stderr);
    assert!(out.stderr.contains("Permission denied"), "{}", out.stderr);
}

pub fn a_trusted_host_with_a_known_key_logs_its_user_in() {
    let p = Server::builder("hostbased")
        .config("HostbasedAuthentication yes")
        .config("IgnoreRhosts no")
        .prepare();
    let etc = client_etc(&p);
    trusting_home(&p, "sisuhb1", &etc, "127.0.0.1 root\n", true);
    // Trusted, but the host key is not known.
    trusting_home(&p, "sisuhb2", &etc, "127.0.0.1 root\n", false);
    // The key is known, but another client user is trusted.
    trusting_home(&p, "sisuhb3", &etc, "127.0.0.1 someone\n", true);
    // A negative line.
    trusting_home(
        &p,
        "sisuhb4",
        &etc,
        "-127.0.0.1 root\n127.0.0.1 root\n",
        true,
    );
    let fp = crate::common::fingerprint(&etc.join("ssh_host_ed25519_key.pub"));
    let server = p.start();
    let out = hostbased_login(&server, "sisuhb1", &etc);
    out.assert_success();
    assert_eq!(out.stdout_str(), "sisuhb1\n");
    server.assert_logged("Accepted hostbased for sisuhb1 from 127.0.0.1 port ");
    server.assert_logged(&format!("ssh2: ED25519 {fp}"));
    for user in ["sisuhb2", "sisuhb3", "sisuhb4"] {
        assert_refused(&hostbased_login(&server, user, &etc));
    }
}

pub fn hostbased_authentication_and_ignore_rhosts_keep_it_off() {
    // Off by default.
    let p = Server::builder("hostbased-off")
        .config("IgnoreRhosts no")
        .prepare();
    let etc = client_etc(&p);
    trusting_home(&p, "sisuhb5", &etc, "127.0.0.1 root\n", true);
    let server = p.start();
    assert_refused(&hostbased_login(&server, "sisuhb5", &etc));
    drop(server);
    // IgnoreRhosts yes (the default) ignores ~/.shosts.
    let p = Server::builder("hostbased-ignore")
        .config("HostbasedAuthentication yes")
        .prepare();
    let etc = client_etc(&p);
    trusting_home(&p, "sisuhb6", &etc, "127.0.0.1 root\n", true);
    let server = p.start();
    assert_refused(&hostbased_login(&server, "sisuhb6", &etc));
}

pub fn names_algorithms_and_known_hosts_options_apply() {
    // HostbasedUsesNameFromPacketOnly: the name the client sends (`localhost.` here,
    // its trailing dot dropped) is what the files must name, not the address.
    let p = Server::builder("hostbased-name")
        .config("HostbasedAuthentication yes")
        .config("IgnoreRhosts no")
        .config("HostbasedUsesNameFromPacketOnly yes")
        .prepare();
    let etc = client_etc(&p);
    trusting_home_as(&p, "sisuhb7", &etc, "localhost root\n", Some("localhost"));
    trusting_home(&p, "sisuhb8", &etc, "127.0.0.1 root\n", true);
    let server = p.start();
    let out = hostbased_login(&server, "sisuhb7", &etc);
    out.assert_success();
    assert_refused(&hostbased_login(&server, "sisuhb8", &etc));
    drop(server);

    // HostbasedAcceptedAlgorithms without the host key's type; IgnoreUserKnownHosts.
    for (name, line) in [
        ("hostbased-algs", "HostbasedAcceptedAlgorithms rsa-sha2-512"),
        ("hostbased-nouserkh", "IgnoreUserKnownHosts yes"),
    ] {
        let p = Server::builder(name)
            .config("HostbasedAuthentication yes")
            .config("IgnoreRhosts no")
            .config(line)
            .prepare();
        let etc = client_etc(&p);
        trusting_home(&p, "sisuhb9", &etc, "127.0.0.1 root\n", true);
        let server = p.start();
        assert_refused(&hostbased_login(&server, "sisuhb9", &etc));
    }
}

/// `PermitRootLogin`: hostbased is no password, so `prohibit-password` (the default)
/// lets root in; `no` does not. Root (an alias of uid 0 with a home of the test's) is
/// trusted by its `~/.shosts`; the host key is in `/etc/ssh/ssh_known_hosts` of the
/// server's own mount namespace (OpenSSH looks for `~/.ssh/known_hosts` in the home
/// of uid 0, `/root`, not in the alias's).
pub fn permit_root_login_applies_to_hostbased() {
    for (setting, allowed) in [(None, true), (Some("PermitRootLogin no"), false)] {
        let mut b = Server::builder("hostbased-root")
            .config("HostbasedAuthentication yes")
            .config("IgnoreRhosts no");
        if let Some(l) = setting {
            b = b.config(l);
        }
        let mut p = b.prepare();
        let etc = client_etc(&p);
        let home = p.dir.join("root-home");
        fs::create_dir_all(&home).unwrap();
        let root = crate::common::RootAlias::new("sisuroothb", home.to_str().unwrap());
        fs::write(home.join(".shosts"), "127.0.0.1 root\n").unwrap();
        let key = fs::read_to_string(etc.join("ssh_host_ed25519_key.pub")).unwrap();
        fs::write(p.dir.join("ssh_known_hosts"), format!("127.0.0.1 {key}")).unwrap();
        p.in_mount_namespace(
            "mkdir {dir}/srv-etc-ssh && cp -a /etc/ssh/. {dir}/srv-etc-ssh/ && \
             cp {dir}/ssh_known_hosts {dir}/srv-etc-ssh/ && mount --bind {dir}/srv-etc-ssh /etc/ssh",
        );
        let server = p.start();
        let out = hostbased_login(&server, root.0, &etc);
        if allowed {
            out.assert_success();
            assert_eq!(out.stdout_str(), "root\n", "{setting:?}");
        } else {
            assert_refused(&out);
        }
    }
}
