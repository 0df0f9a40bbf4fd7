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

/// Debian's sshd filter for fail2ban.
pub const FAIL2BAN_SSHD_FILTER: &str = "/etc/fail2ban/filter.d/sshd.conf";

/// The server's log as syslog lines (timestamp, host, program), which fail2ban wants.
pub(crate) fn as_syslog(server: &Server) -> std::path::PathBuf {
    let syslog: String = server
        .log()
        .lines()
        .map(|l| format!("Jan  1 00:00:00 host sshd[1234]: {l}\n"))
        .collect();
    let path = server.dir().join("syslog");
    std::fs::write(&path, syslog).unwrap();
    path
}

/// How many lines `fail2ban-regex` says matched ("Lines: 13 lines, 8 ignored, 4
/// matched, 1 missed").
pub(crate) fn fail2ban_matched(text: &str) -> u32 {
    text.lines()
        .find(|l| l.starts_with("Lines:"))
        .and_then(|l| {
            l.split(',')
                .find(|part| part.trim_end().ends_with(" matched"))
        })
        .and_then(|m| m.split_whitespace().next())
        .and_then(|n| n.parse::<u32>().ok())
        .unwrap_or(0)
}

/// `fail2ban-regex ARGS…` (bounded): its stdout.
pub(crate) fn fail2ban_regex(args: &[&std::ffi::OsStr]) -> String {
    let mut cmd = std::process::Command::new("fail2ban-regex");
    cmd.args(args);
    let out = crate::common::run_bounded(
        cmd,
        crate::common::Input::Null,
        None,
        Duration::from_secs(120),
    );
    out.assert_success();
    out.stdout_str()
}

/// A user name carrying a newline and a forged failure line (what a log-injection
/// attack sends): the server writes one escaped line, and fail2ban's sshd filter finds
/// no failure for the forged address, only for the real one. (OpenSSH's sshd escapes
/// the newline on syslog but, with `-e`/`-E`, writes it as it came: Sisu only.)
pub fn user_name_cannot_forge_a_log_line() {
    let server = Server::start("log-injection");
    let forged = "x\nFailed password for root from 6.6.6.6 port 1 ssh2";
    let script = r#"
import sys, paramiko
port, user, key, known = sys.argv[1:5]
c = paramiko.SSHClient()
c.load_host_keys(known)
c.set_missing_host_key_policy(paramiko.RejectPolicy())
try:
    c.connect("127.0.0.1", port=int(port), username=user, key_filename=key,
              look_for_keys=False, allow_agent=False, timeout=10, banner_timeout=10,
              auth_timeout=10)
except paramiko.AuthenticationException:
    print("refused")
"#;
    let mut cmd = std::process::Command::new("python3");
    cmd.arg("-c")
        .arg(script)
        .arg(server.port.to_string())
        .arg(forged)
        .arg(server.client_key())
        .arg(server.dir().join("known_hosts"));
    let out = crate::common::run_bounded(
        cmd,
        crate::common::Input::Null,
        None,
        Duration::from_secs(60),
    );
    assert_eq!(out.stdout_str(), "refused\n", "{}", out.stderr);
    let line = server
        .wait_log_line(Duration::from_secs(10), |l| l.contains("6.6.6.6"))
        .expect("the attempt is logged");
    assert!(
        line.contains("x\\012Failed password for root from 6.6.6.6"),
        "{line}"
    );
    let log = server.log();
    assert!(
        !log.lines().any(|l| l.starts_with("Failed password")),
        "a forged line:\n{log}"
    );
    let syslog = as_syslog(&server);
    let filter = format!("{FAIL2BAN_SSHD_FILTER}[mode=aggressive]");
    let ips: Vec<String> = fail2ban_regex(&[
        "-o".as_ref(),
        "ip".as_ref(),
        syslog.as_ref(),
        filter.as_ref(),
    ])
    .lines()
    .map(|l| l.trim().to_string())
    .collect();
    assert!(
        !ips.iter().any(|ip| ip == "6.6.6.6"),
        "forged failure found: {ips:?}"
    );
    assert!(
        ips.iter().any(|ip| ip == "127.0.0.1"),
        "real failure missed: {ips:?}\n{log}"
    );
}

/// Debian's fail2ban sshd filter recognises the failure lines.
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
    let path = as_syslog(&server);
    // Debian's filter marks a failed publickey as "no failure" on its own in the normal
    // mode (key probing is normal); the aggressive mode counts it. Either way the
    // `^Failed ...` failregex must recognise every attempt.
    let aggressive = format!("{}[mode=aggressive]", filter.display());
    let text = fail2ban_regex(&[path.as_ref(), aggressive.as_ref()]);
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
    let matched = fail2ban_matched(&text);
    assert!(
        matched >= 3,
        "fail2ban (aggressive) matched {matched} lines:\n{text}"
    );
}

/// The same run of failures against sisu-sshd and OpenSSH's sshd: fail2ban's sshd
/// filter (normal and aggressive modes) finds the same failures, by the same regular
/// expressions, for the same addresses, in both logs. The failures: wrong passwords
/// for a user and for a user that does not exist, a key that is not authorized, a key
/// for a user that does not exist, and too many keys (MaxAuthTries).
pub fn fail2ban_finds_the_same_failures_as_in_openssh_logs() {
    let user = "sisupwf2b";
    crate::common::ensure_account(user, &crate::common::AccountSpec::default());
    crate::common::set_password(user, "the right one", "YESCRYPT");
    compare_fail2ban("f2b", false, |server| {
        let others: Vec<_> = (0..4)
            .map(|i| {
                let k = server.dir().join(&format!("other{i}"));
                generate_key(&k, "ed25519");
                k
            })
            .collect();
        for _ in 0..2 {
            let out = server.ssh().login_as(user).password("wrong").run("true");
            assert_eq!(out.code, Some(255), "{}", out.stderr);
            let out = server
                .ssh()
                .login_as("sisunosuchf2b")
                .password("wrong")
                .run("true");
            assert_eq!(out.code, Some(255), "{}", out.stderr);
        }
        let out = server.ssh().identity(&others[0]).run("true");
        assert_eq!(out.code, Some(255), "{}", out.stderr);
        let out = server.ssh().login_as("sisunosuchf2b").run("true");
        assert_eq!(out.code, Some(255), "{}", out.stderr);
        let mut many = server.ssh().identity(&others[0]);
        for k in &others[1..] {
            many = many.arg("-i").arg(k);
        }
        let out = many.run("true");
        assert_eq!(out.code, Some(255), "{}", out.stderr);
        server.wait_log_line(Duration::from_secs(10), |l| {
            l.contains("maximum authentication attempts exceeded")
        });
    });
}

/// With `UsePAM yes`: wrong passwords and keyboard-interactive answers, of a user and
/// of one that does not exist, through the host's PAM stack.
pub fn fail2ban_finds_the_same_pam_failures_as_in_openssh_logs() {
    let user = "sisupamf2b";
    crate::common::ensure_account(user, &crate::common::AccountSpec::default());
    crate::common::set_password(user, "the right one", "YESCRYPT");
    compare_fail2ban("f2b-pam", true, |server| {
        for who in [user, "sisunosuchpamf2b"] {
            let out = server.ssh().login_as(who).password("wrong").run("true");
            assert_eq!(out.code, Some(255), "{}", out.stderr);
            let out = server
                .ssh()
                .login_as(who)
                .password_after("wrong", "keyboard-interactive")
                .option("PubkeyAuthentication=no")
                .run("true");
            assert_eq!(out.code, Some(255), "{}", out.stderr);
        }
        server.wait_log_line(Duration::from_secs(10), |l| {
            l.contains("Failed keyboard-interactive/pam for invalid user sisunosuchpamf2b")
        });
    });
}

/// Runs `failures` against sisu-sshd and then OpenSSH's sshd (MaxAuthTries 3; with
/// `UsePAM yes` and keyboard-interactive when `pam`), and compares what fail2ban's
/// sshd filter finds in both logs, in its normal and aggressive modes: the hits per
/// failregex and the addresses.
fn compare_fail2ban(name: &str, pam: bool, failures: impl Fn(&Server)) {
    let keep = crate::common::TestDir::new(&format!("{name}-compare"));
    let run = |kind: crate::common::ServerKind| -> std::path::PathBuf {
        let mut b = Server::builder(&format!("{name}-{kind:?}")).config("MaxAuthTries 3");
        if pam {
            b = b.use_pam().config("KbdInteractiveAuthentication yes");
        }
        let mut p = b.prepare();
        if kind == crate::common::ServerKind::OpenSsh && p.kind != kind {
            let mut text = std::fs::read_to_string(p.config_path()).unwrap();
            if !pam {
                text.push_str("UsePAM no\n");
            }
            std::fs::write(p.config_path(), text).unwrap();
        }
        p.kind = kind;
        let server = p.start();
        failures(&server);
        std::thread::sleep(Duration::from_millis(300));
        // Kept beyond the server's directory, which goes with it.
        let path = keep.join(&format!("{kind:?}.syslog"));
        std::fs::copy(as_syslog(&server), &path).unwrap();
        path
    };
    let sisu = run(crate::common::ServerKind::Sisu);
    let openssh = run(crate::common::ServerKind::OpenSsh);
    for mode in ["normal", "aggressive"] {
        let filter = format!("{FAIL2BAN_SSHD_FILTER}[mode={mode}]");
        let hits = |log: &std::path::Path| -> (Vec<String>, Vec<String>) {
            let text = fail2ban_regex(&[log.as_ref(), filter.as_ref()]);
            // "|  N) [HITS] regex" lines under "Failregex:", and the totals line.
            let per_regex: Vec<String> = text
                .lines()
                .skip_while(|l| !l.starts_with("Failregex:"))
                .take_while(|l| !l.starts_with("Ignoreregex:"))
                .filter(|l| l.contains(") ["))
                .map(|l| l.split(']').next().unwrap_or("").trim().to_string())
                .collect();
            let ips: Vec<String> =
                fail2ban_regex(&["-o".as_ref(), "ip".as_ref(), log.as_ref(), filter.as_ref()])
                    .lines()
                    .map(str::to_string)
                    .collect();
            (per_regex, ips)
        };
        let (s_hits, s_ips) = hits(&sisu);
        let (o_hits, o_ips) = hits(&openssh);
        assert!(
            !o_ips.is_empty(),
            "{mode}: fail2ban found nothing in OpenSSH's log:\n{}",
            std::fs::read_to_string(&openssh).unwrap()
        );
        assert_eq!(
            s_hits,
            o_hits,
            "{mode}: hits per failregex differ\nsisu:\n{}\nopenssh:\n{}",
            std::fs::read_to_string(&sisu).unwrap(),
            std::fs::read_to_string(&openssh).unwrap()
        );
        assert_eq!(s_ips, o_ips, "{mode}");
    }
}
