//! TCP wrappers: `/etc/hosts.allow` and `/etc/hosts.deny` for the daemon name `sshd`,
//! applied before the identification line, as Debian's libwrap-linked sshd does. Each
//! server runs in a private mount namespace where the test's own files are
//! bind-mounted over the system's, so no other test sees them.

use crate::common::{raw_connect, read_until_closed, Server, ServerKind};
use std::fs;
use std::time::Duration;

fn server_with(name: &str, allow: &str, deny: &str) -> Server {
    let mut p = Server::builder(name).prepare();
    fs::write(p.dir.join("hosts.allow"), allow).unwrap();
    fs::write(p.dir.join("hosts.deny"), deny).unwrap();
    p.in_mount_namespace(
        "mount --bind {dir}/hosts.allow /etc/hosts.allow && \
         mount --bind {dir}/hosts.deny /etc/hosts.deny",
    );
    p.start()
}

/// Refused before a word: the TCP connection is closed with nothing sent.
fn assert_closed_at_once(server: &Server) {
    let mut s = raw_connect(server, Duration::from_secs(10));
    let (bytes, closed) = read_until_closed(&mut s, Duration::from_secs(10));
    assert!(closed, "still open");
    assert!(
        bytes.is_empty(),
        "said {:?}",
        String::from_utf8_lossy(&bytes)
    );
    let out = server.ssh().run("true");
    assert_eq!(out.code, Some(255), "{}", out.stderr);
    if server.kind() == ServerKind::Sisu {
        assert!(
            server
                .wait_log_line(Duration::from_secs(10), |l| l
                    .contains("refused connect from "))
                .is_some(),
            "{}",
            server.log()
        );
    }
}

pub fn hosts_deny_refuses_and_hosts_allow_wins() {
    let denied = server_with("wrap-deny", "", "sshd: ALL\n");
    assert_closed_at_once(&denied);
    let everything = server_with("wrap-deny-all", "", "ALL: ALL\n");
    assert_closed_at_once(&everything);
    let allowed = server_with("wrap-allow", "sshd: 127.0.0.1\n", "ALL: ALL\n");
    allowed.ssh().run("true").assert_success();
    let other_daemon = server_with("wrap-other", "", "telnetd: ALL\nsshd: 10.0.0.0/8\n");
    other_daemon.ssh().run("true").assert_success();
}

pub fn host_names_and_except() {
    // 127.0.0.1 is `localhost` in /etc/hosts, both ways.
    let by_name = server_with("wrap-name", "", "sshd: localhost\n");
    assert_closed_at_once(&by_name);
    let except = server_with("wrap-except", "", "sshd: ALL EXCEPT localhost\n");
    except.ssh().run("true").assert_success();
    let local = server_with("wrap-local", "", "sshd: ALL EXCEPT LOCAL\n");
    local.ssh().run("true").assert_success();
    let network = server_with(
        "wrap-net",
        "",
        "sshd: 127.0.0.0/255.0.0.0 EXCEPT 127.0.0.2\n",
    );
    assert_closed_at_once(&network);
}

/// Sisu's own rule: a matching line it cannot apply (here `spawn`, which would run a
/// command) refuses, where libwrap would run the command and let the client in.
pub fn a_matching_rule_with_an_option_sisu_lacks_refuses() {
    let server = server_with("wrap-spawn", "sshd: 127.0.0.1 : spawn /bin/true\n", "");
    assert_closed_at_once(&server);
    assert!(
        server
            .wait_log_line(Duration::from_secs(10), |l| l.contains("option spawn"))
            .is_some(),
        "{}",
        server.log()
    );
    let harmless = server_with("wrap-spawn-other", "sshd: 10.0.0.1 : spawn /bin/true\n", "");
    harmless.ssh().run("true").assert_success();
}
