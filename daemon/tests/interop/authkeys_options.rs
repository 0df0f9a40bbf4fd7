//! `authorized_keys` options enforced by the daemon, checked with the OpenSSH client:
//! `command=` (with SSH_ORIGINAL_COMMAND), `from=`, `expiry-time=`, `environment=` (only
//! as PermitUserEnvironment allows), `no-pty`, `restrict` and `restrict,pty`.

use crate::common::Server;
use std::fs;

/// Rewrites the server's authorized_keys so the client key's line carries `options`.
fn set_options(server: &Server, options: &str) {
    let public = fs::read_to_string(format!("{}.pub", server.client_key().display()))
        .expect("read client public key");
    let line = if options.is_empty() {
        public
    } else {
        format!("{options} {public}")
    };
    fs::write(server.dir().join("authorized_keys"), line).expect("write authorized_keys");
}

pub fn forced_command_gets_the_original_command() {
    let server = Server::start("ak-command");
    set_options(
        &server,
        r#"command="echo forced:$SSH_ORIGINAL_COMMAND; exit 4""#,
    );
    let out = server.ssh().run("echo hello world");
    out.assert_code(4);
    assert_eq!(out.stdout_str(), "forced:echo hello world\n");
}

pub fn from_patterns_admit_and_refuse() {
    let server = Server::start("ak-from");
    for (opts, ok) in [
        (r#"from="10.0.0.0/8""#, false),
        (r#"from="127.0.0.1""#, true),
        (r#"from="127.0.0.0/8""#, true),
        // A negated match refuses even where another pattern matches.
        (r#"from="!127.0.0.1,*""#, false),
    ] {
        set_options(&server, opts);
        let out = server.ssh().run("true");
        assert_eq!(out.code == Some(0), ok, "{opts}: {}", out.stderr);
    }
}

pub fn expiry_time_refuses_expired_keys() {
    let server = Server::start("ak-expiry");
    set_options(&server, r#"expiry-time="20200101""#);
    let out = server.ssh().run("true");
    assert_ne!(out.code, Some(0), "expired key was accepted");
    set_options(&server, r#"expiry-time="29991231""#);
    server.ssh().run("true").assert_success();
}

pub fn environment_only_where_permit_user_environment_allows() {
    let off = Server::start("ak-env-off");
    set_options(&off, r#"environment="SISU_X=42""#);
    let out = off.ssh().run("echo x${SISU_X}x");
    out.assert_success();
    assert_eq!(out.stdout_str(), "xx\n");

    let on = Server::builder("ak-env-on")
        .config("PermitUserEnvironment yes")
        .start();
    set_options(&on, r#"environment="SISU_X=42""#);
    let out = on.ssh().run("echo x${SISU_X}x");
    out.assert_success();
    assert_eq!(out.stdout_str(), "x42x\n");
}

pub fn no_pty_restrict_and_restrict_pty() {
    let server = Server::start("ak-pty");
    for (opts, tty) in [
        ("", true),
        ("no-pty", false),
        ("restrict", false),
        ("restrict,pty", true),
    ] {
        set_options(&server, opts);
        let out = server.ssh().arg("-tt").run("tty; exit 0");
        let text = out.stdout_str();
        if tty {
            out.assert_success();
        } else {
            // The client is told: the request for a terminal failed.
            assert!(
                out.stderr.contains("PTY allocation request failed"),
                "{opts:?}: {}",
                out.stderr
            );
        }
        assert_eq!(
            text.contains("/dev/pts/"),
            tty,
            "{opts:?}: stdout {text:?} stderr {:?}",
            out.stderr
        );
    }
}
