//! The login sshd(8) describes, as far as it is Sisu's: `/etc/nologin` (here
//! `/run/nologin`) refuses every session but root's and shows its text; a missing home
//! directory is said, and the session starts in `/`.
//!
//! The nologin file is made inside a private mount namespace (a fresh tmpfs on
//! `/run`) that only the server under test sees, so no other test is refused. It is
//! `/run/nologin` (systemd's, which `pam_nologin` reads), because `/etc` cannot be
//! shadowed so simply: OpenSSH's sshd without PAM reads only `/etc/nologin`, so that
//! test is Sisu's alone; Sisu reads both.

use crate::common::Server;
use std::fs;

/// The server in a private mount namespace whose `/run` is a fresh tmpfs holding
/// `nologin` with `text` (and `/run/sshd`, which OpenSSH's sshd needs).
fn server_behind_nologin(name: &str, text: &str) -> Server {
    let mut p = Server::builder(name).prepare();
    fs::write(p.dir.join("nologin-text"), text).unwrap();
    p.in_mount_namespace(
        "mount -t tmpfs tmpfs /run && mkdir -p /run/sshd && cp {dir}/nologin-text /run/nologin",
    );
    p.start()
}

pub fn nologin_refuses_sessions_and_shows_its_text() {
    let server = server_behind_nologin("nologin", "Down for maintenance until 06:00.\n");
    let out = server.ssh().run("echo ran");
    assert_eq!(out.code, Some(254), "{} {}", out.stdout_str(), out.stderr);
    assert_eq!(out.stdout_str(), "", "the command ran");
    assert!(
        out.stderr.contains("Down for maintenance until 06:00."),
        "{}",
        out.stderr
    );
    // On a terminal too.
    let out = server.ssh().arg("-tt").run("echo ran");
    assert_eq!(out.code, Some(254), "{} {}", out.stdout_str(), out.stderr);
    assert!(
        out.stdout_str().contains("Down for maintenance")
            || out.stderr.contains("Down for maintenance"),
        "{} {}",
        out.stdout_str(),
        out.stderr
    );
}

pub fn a_missing_home_directory_is_said_and_the_session_starts_in_root() {
    let user = "sisunohome";
    let home = "/nonexistent/sisunohome";
    crate::common::ensure_account(user, &crate::common::AccountSpec::default());
    let mut cmd = std::process::Command::new("usermod");
    cmd.args(["-d", home, user]);
    crate::common::run_bounded(
        cmd,
        crate::common::Input::Null,
        None,
        std::time::Duration::from_secs(30),
    )
    .assert_success();
    let server = Server::start("home-missing");
    let out = server.ssh().login_as(user).run("pwd");
    out.assert_success();
    assert_eq!(out.stdout_str(), "/\n");
    assert!(
        out.stderr.contains(&format!(
            "Could not chdir to home directory {home}: No such file or directory"
        )),
        "{}",
        out.stderr
    );
}

/// utmp, wtmp and lastlog: `who` inside a terminal session shows it, and once the
/// connection is over `last` shows it ended and `lastlog` has it; the next login
/// shell is told of it (`PrintLastLog`). (A dedicated user,
/// so that other tests' sessions are not in the way.)
pub fn utmp_wtmp_and_lastlog_record_a_terminal_login() {
    use std::os::unix::fs::PermissionsExt;
    let user = "sisuutmp";
    crate::common::ensure_account(user, &crate::common::AccountSpec::default());
    // A system without utmp yet (a container with no init) gets an empty one, as
    // systemd-update-utmp would make.
    let utmp = std::path::Path::new("/var/run/utmp");
    if !utmp.exists() {
        fs::write(utmp, b"").unwrap();
        fs::set_permissions(utmp, fs::Permissions::from_mode(0o664)).unwrap();
    }
    let server = Server::start("utmp");
    let out = server.ssh().login_as(user).arg("-tt").run("tty; who");
    out.assert_success();
    let text = out.stdout_str().replace('\r', "");
    let tty = text.lines().next().unwrap_or("").trim().to_string();
    let line = tty.strip_prefix("/dev/").unwrap_or(&tty).to_string();
    assert!(line.starts_with("pts/"), "{text}");
    assert!(
        text.lines()
            .any(|l| l.starts_with(user) && l.split_whitespace().nth(1) == Some(&line)),
        "who does not show {user} on {line}:\n{text}"
    );
    let run = |prog: &str, args: &[&str]| {
        let mut cmd = std::process::Command::new(prog);
        cmd.args(args);
        crate::common::run_bounded(
            cmd,
            crate::common::Input::Null,
            None,
            std::time::Duration::from_secs(30),
        )
        .stdout_str()
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let last = loop {
        let last = run("last", &["-w", user]);
        let newest = last.lines().next().unwrap_or("").to_string();
        if newest.contains(&line) && !newest.contains("still logged in") {
            break newest;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "last shows no ended session on {line}:\n{last}"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    };
    assert!(last.contains("127.0.0.1"), "{last}");
    let lastlog = run("lastlog", &["-u", user]);
    assert!(
        lastlog
            .lines()
            .any(|l| l.starts_with(user) && l.contains(&line) && l.contains("127.0.0.1")),
        "{lastlog}"
    );
    // The next login shell on a terminal is told of that one (PrintLastLog yes, the
    // default); with PrintLastLog no it is not.
    let shell = server
        .ssh()
        .login_as(user)
        .arg("-tt")
        .stdin_bytes("exit\n")
        .run("");
    assert!(
        shell.stdout_str().contains("Last login: ")
            && shell.stdout_str().contains(" from 127.0.0.1"),
        "{}",
        shell.stdout_str()
    );
    let quiet = Server::builder("utmp-quiet")
        .config("PrintLastLog no")
        .start();
    let shell = quiet
        .ssh()
        .login_as(user)
        .arg("-tt")
        .stdin_bytes("exit\n")
        .run("");
    assert!(
        !shell.stdout_str().contains("Last login"),
        "{}",
        shell.stdout_str()
    );
}
