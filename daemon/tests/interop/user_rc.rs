//! sshd(8)'s rc files: `~/.ssh/rc` runs with `/bin/sh` before the command or shell,
//! as the user, in the session's environment and home directory, with its output
//! going to the session and nothing of the client's input (`cat` in it reads end of
//! file); `PermitUserRC no`, `no-user-rc` and `ForceCommand` keep it from running;
//! without it the system's `/etc/ssh/sshrc` runs (made inside a private mount
//! namespace, so that no other test's session sees it).
//!
//! Each test has an account of its own whose home is in the test directory.

use crate::common::{Prepared, Server};
use std::fs;
use std::path::{Path, PathBuf};

/// What the rc file prints: who, where, whether it has the session's environment, and
/// what it read from its stdin.
const RC: &str = "echo \"rc: $(id -un) $PWD ${SSH_CONNECTION:+env} [$(cat)]\"\n";

/// `name` with its home at `DIR/home-NAME`, holding `.ssh/rc` when `rc` says so.
fn account_with_home(p: &Prepared, name: &str, rc: bool) -> PathBuf {
    let home = p.account_with_home(name);
    if rc {
        fs::write(home.join(".ssh/rc"), RC).unwrap();
    }
    home
}

fn run(server: &Server, user: &str) -> String {
    let out = server
        .ssh()
        .login_as(user)
        .stdin_bytes("client input\n")
        .run("cat");
    out.assert_success();
    out.stdout_str()
}

fn expected_rc_line(user: &str, home: &Path) -> String {
    format!("rc: {user} {} env []\n", home.display())
}

pub fn user_rc_runs_before_the_command() {
    let p = Server::builder("user-rc").prepare();
    let home = account_with_home(&p, "sisurc1", true);
    let server = p.start();
    assert_eq!(
        run(&server, "sisurc1"),
        format!("{}client input\n", expected_rc_line("sisurc1", &home))
    );
}

pub fn permit_user_rc_no_user_rc_and_force_command_keep_it_from_running() {
    let p = Server::builder("user-rc-off")
        .config("PermitUserRC no")
        .prepare();
    account_with_home(&p, "sisurc2", true);
    let server = p.start();
    assert_eq!(run(&server, "sisurc2"), "client input\n");
    drop(server);

    let p = Server::builder("user-rc-key").prepare();
    account_with_home(&p, "sisurc3", true);
    let keys = p.dir.join("authorized_keys");
    let line = fs::read_to_string(&keys).unwrap();
    fs::write(&keys, format!("no-user-rc {line}")).unwrap();
    let server = p.start();
    assert_eq!(run(&server, "sisurc3"), "client input\n");
    drop(server);

    let p = Server::builder("user-rc-forced")
        .config("ForceCommand cat")
        .prepare();
    account_with_home(&p, "sisurc4", true);
    let server = p.start();
    assert_eq!(run(&server, "sisurc4"), "client input\n");
}

pub fn the_system_sshrc_runs_when_the_user_has_none() {
    let mut p = Server::builder("system-rc").prepare();
    let with = account_with_home(&p, "sisurc5", true);
    account_with_home(&p, "sisurc6", false);
    fs::write(p.dir.join("sshrc"), "echo system-rc\n").unwrap();
    // /etc/ssh as it is, plus sshrc, seen only by this server.
    p.in_mount_namespace(
        "mkdir {dir}/etc-ssh && cp -a /etc/ssh/. {dir}/etc-ssh/ && \
         cp {dir}/sshrc {dir}/etc-ssh/sshrc && mount --bind {dir}/etc-ssh /etc/ssh",
    );
    let server = p.start();
    assert_eq!(run(&server, "sisurc6"), "system-rc\nclient input\n");
    // The user's own file wins over the system's.
    assert_eq!(
        run(&server, "sisurc5"),
        format!("{}client input\n", expected_rc_line("sisurc5", &with))
    );
}
