//! Log lines in OpenSSH's wording, which fail2ban and admins' scripts depend on.

use crate::common::{fingerprint, generate_key, Server};
use std::time::Duration;

pub fn server_listening_line() {
    let server = Server::start("listening");
    let want = format!("Server listening on 127.0.0.1 port {}.", server.port);
    let line = server.wait_log_line(Duration::from_secs(5), |l| l.contains(&want));
    assert!(line.is_some(), "no `{want}` in log:\n{}", server.log());
}

pub fn accepted_publickey_line() {
    let server = Server::start("accepted");
    server.ssh().run("true").assert_success();
    let fp = fingerprint(&server.dir().join("id_ed25519.pub"));
    let prefix = format!(
        "Accepted publickey for {} from 127.0.0.1 port ",
        server.user()
    );
    let suffix = format!(" ssh2: ED25519 {fp}");
    let line = server.wait_log_line(Duration::from_secs(5), |l| {
        l.find(&prefix).is_some_and(|i| {
            let rest = &l[i + prefix.len()..];
            let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
            digits > 0 && rest[digits..].starts_with(&suffix)
        })
    });
    assert!(
        line.is_some(),
        "no `{prefix}N{suffix}` in log:\n{}",
        server.log()
    );
}

/// Debian's fail2ban sshd filter recognises the failure lines.
/// Debian's sshd filter for fail2ban.
pub const FAIL2BAN_SSHD_FILTER: &str = "/etc/fail2ban/filter.d/sshd.conf";

pub fn fail2ban_recognises_failed_attempts() {
    let filter = std::path::Path::new(FAIL2BAN_SSHD_FILTER);
    let server = Server::start("fail2ban");
    let other = server.dir().join("other_ed25519");
    generate_key(&other, "ed25519");
    for _ in 0..3 {
        let out = server.ssh().identity(&other).run("true");
        assert_ne!(out.code, Some(0));
    }
    server.wait_log_line(Duration::from_secs(5), |l| l.contains("[preauth]"));
    // fail2ban wants syslog-style lines: give each a timestamp, host and program.
    let syslog: String = server
        .log()
        .lines()
        .map(|l| format!("Jan  1 00:00:00 host sshd[1234]: {l}\n"))
        .collect();
    let path = server.dir().join("syslog");
    std::fs::write(&path, syslog).unwrap();
    // Debian's filter marks a failed publickey as "no failure" on its own in the normal
    // mode (key probing is normal); the aggressive mode counts it. Either way the
    // `^Failed ...` failregex must recognise every attempt.
    let mut cmd = std::process::Command::new("fail2ban-regex");
    cmd.arg(&path)
        .arg(format!("{}[mode=aggressive]", filter.display()));
    let out = crate::common::run_bounded(
        cmd,
        crate::common::Input::Null,
        None,
        Duration::from_secs(60),
    );
    out.assert_success();
    let text = out.stdout_str();
    // "|   4) [3] ^Failed (?:<F-NOFAIL>publickey..." : the hit count of that regex.
    let hits: u32 = text
        .lines()
        .filter(|l| l.contains("] ^Failed "))
        .filter_map(|l| l.split('[').nth(1)?.split(']').next()?.parse::<u32>().ok())
        .sum();
    assert!(
        hits >= 3,
        "fail2ban recognised {hits} of 3 failed attempts:\n{text}"
    );
    // "Lines: 13 lines, 8 ignored, 4 matched, 1 missed"
    let matched = text
        .lines()
        .find(|l| l.starts_with("Lines:"))
        .and_then(|l| {
            l.split(',')
                .find(|part| part.trim_end().ends_with(" matched"))
        })
        .and_then(|m| m.split_whitespace().next())
        .and_then(|n| n.parse::<u32>().ok())
        .unwrap_or(0);
    assert!(
        matched >= 3,
        "fail2ban (aggressive) matched {matched} lines:\n{text}"
    );
}
