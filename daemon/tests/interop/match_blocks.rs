//! `Match` blocks applied per connection: by address before authentication, by user
//! and group once the user name is known.

use crate::common::{primary_group, Server};

pub fn match_user_forces_a_command() {
    let user = crate::common::test_user();
    let server = Server::builder("match-user")
        .config(&format!("Match User {user}"))
        .config("    ForceCommand echo matched-$SSH_ORIGINAL_COMMAND")
        .start();
    let out = server.ssh().run("hello");
    out.assert_success();
    assert_eq!(out.stdout_str(), "matched-hello\n");
}

pub fn match_address_turns_publickey_off_only_for_that_address() {
    let other = Server::builder("match-addr-other")
        .config("Match Address 10.0.0.0/8")
        .config("    PubkeyAuthentication no")
        .start();
    other.ssh().run("true").assert_success();

    let here = Server::builder("match-addr-here")
        .config("Match Address 127.0.0.1")
        .config("    PubkeyAuthentication no")
        .start();
    let out = here.ssh().run("true");
    assert_ne!(out.code, Some(0), "publickey was not turned off");
}

pub fn match_group_refuses_a_tty() {
    let user = crate::common::test_user();
    let server = Server::builder("match-group")
        .config(&format!("Match Group {}", primary_group(&user)))
        .config("    PermitTTY no")
        .start();
    let out = server.ssh().arg("-tt").run("tty; exit 0");
    assert!(
        out.stderr.contains("PTY allocation request failed"),
        "{}",
        out.stderr
    );
    assert!(!out.stdout_str().contains("/dev/pts/"));
}

/// `PubkeyAcceptedAlgorithms` in a `Match User` block narrows (or widens) what that
/// user's keys may be: applied both to queries and to signed requests.
pub fn match_user_pubkey_accepted_algorithms() {
    let user = crate::common::test_user();
    let narrowed = Server::builder("match-user-algs")
        .config(&format!("Match User {user}"))
        .config("    PubkeyAcceptedAlgorithms ecdsa-sha2-nistp256")
        .start();
    let out = narrowed.ssh().run("true");
    assert_eq!(out.code, Some(255), "an ed25519 key got in: {}", out.stderr);
    let other_user = Server::builder("match-other-user-algs")
        .config("Match User someone-else")
        .config("    PubkeyAcceptedAlgorithms ecdsa-sha2-nistp256")
        .start();
    other_user.ssh().run("true").assert_success();
    // Widened for the user from a global list without ed25519.
    let widened = Server::builder("match-user-widened")
        .config("PubkeyAcceptedAlgorithms ecdsa-sha2-nistp256")
        .config(&format!("Match User {user}"))
        .config("    PubkeyAcceptedAlgorithms +ssh-ed25519")
        .start();
    widened.ssh().run("true").assert_success();
}
