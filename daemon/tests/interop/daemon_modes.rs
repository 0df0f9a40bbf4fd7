//! How the daemon runs: on its embedded defaults as an ordinary user (then only that
//! user can log in), `-Q`, and the log lines of failed and invalid-user attempts.

use crate::common::{
    fingerprint, free_port, generate_key, is_root, run_bounded, test_user, Input, Server,
    ServerKind, TestDir,
};
use std::fs;
use std::io::Read;
use std::net::TcpStream;
use std::os::unix::fs::PermissionsExt;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Kills the daemon's process group when the test ends, however it ends.
struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let pgid = nix::unistd::Pid::from_raw(self.0.id() as i32);
        let _ = nix::sys::signal::killpg(pgid, nix::sys::signal::Signal::SIGTERM);
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.0.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = nix::sys::signal::killpg(pgid, nix::sys::signal::Signal::SIGKILL);
        let _ = self.0.wait();
    }
}

fn wait_listening(port: u16, log: &std::path::Path) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) {
            let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
            let mut b = [0u8; 64];
            let _ = s.read(&mut b);
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!(
        "daemon did not listen:\n{}",
        fs::read_to_string(log).unwrap_or_default()
    );
}

pub fn embedded_defaults_as_an_ordinary_user() {
    let user = test_user();
    let dir = TestDir::new("as-user");
    let home = dir.join("home");
    fs::create_dir_all(&home).unwrap();
    let u = nix::unistd::User::from_name(&user).unwrap().unwrap();
    nix::unistd::chown(&home, Some(u.uid), Some(u.gid)).unwrap();
    let key = dir.join("id");
    generate_key(&key, "ed25519");
    fs::copy(dir.join("id.pub"), dir.join("authorized_keys")).unwrap();
    fs::set_permissions(
        dir.join("authorized_keys"),
        fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    let port = free_port();
    let log = dir.join("log");
    let bin = ServerKind::Sisu.binary();
    let mut cmd = if is_root() {
        // runuser resets HOME to the account's; env sets the test's again.
        let mut c = Command::new("/usr/sbin/runuser");
        c.args(["-u", &user, "--", "/usr/bin/env"])
            .arg(format!("HOME={}", home.display()))
            .arg(&bin);
        c
    } else {
        Command::new(&bin)
    };
    // No -f: the default configuration path does not exist, so the built-in defaults
    // apply; only the address, the key file and StrictModes (the test directory is
    // under the world-writable /tmp) are set.
    cmd.env_clear()
        .env("HOME", &home)
        .env("PATH", "/usr/bin:/bin")
        .args(["-D", "-e", "-p", &port.to_string()])
        .args(["-o", "ListenAddress=127.0.0.1", "-o", "PidFile=none"])
        .args(["-o", "StrictModes=no", "-o"])
        .arg(format!(
            "AuthorizedKeysFile={}",
            dir.join("authorized_keys").display()
        ))
        .stdin(Stdio::null())
        .stdout(Stdio::from(fs::File::create(&log).unwrap()))
        .stderr(Stdio::from(fs::File::create(&log).unwrap()));
    std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
    let _guard = Guard(cmd.spawn().expect("start sisu-sshd"));
    wait_listening(port, &log);

    // The generated host key: mode 0600, its fingerprint logged.
    let hk = home.join(".config/sisu/ssh_host_ed25519_key");
    let mode = fs::metadata(&hk)
        .expect("host key generated")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    let fp = fingerprint(&hk.with_extension("pub"));
    let text = fs::read_to_string(&log).unwrap();
    assert!(
        text.contains("Generated host key") && text.contains(&fp),
        "no fingerprint {fp} in log:\n{text}"
    );

    let pubkey = fs::read_to_string(hk.with_extension("pub")).unwrap();
    let mut fields = pubkey.split_whitespace();
    let kh = dir.join("known_hosts");
    fs::write(
        &kh,
        format!(
            "[127.0.0.1]:{port} {} {}\n",
            fields.next().unwrap(),
            fields.next().unwrap()
        ),
    )
    .unwrap();
    let ssh = |login: &str| {
        let mut c = Command::new("ssh");
        c.args([
            "-F",
            "/dev/null",
            "-o",
            "BatchMode=yes",
            "-o",
            "IdentitiesOnly=yes",
        ])
        .arg("-o")
        .arg(format!("UserKnownHostsFile={}", kh.display()))
        .arg("-i")
        .arg(&key)
        .args(["-p", &port.to_string()])
        .arg(format!("{login}@127.0.0.1"))
        .arg("id -un");
        run_bounded(c, Input::Null, None, Duration::from_secs(30))
    };
    let out = ssh(&user);
    out.assert_success();
    assert_eq!(out.stdout_str(), format!("{user}\n"));
    // Any other account is refused, even with an authorized key.
    let other = if user == "root" { "nobody" } else { "root" };
    let out = ssh(other);
    assert_ne!(
        out.code,
        Some(0),
        "{other} logged in to a daemon run by {user}"
    );
    let text = fs::read_to_string(&log).unwrap();
    assert!(
        text.contains(&format!("Invalid user {other} from 127.0.0.1 port")),
        "{text}"
    );
}

pub fn query_lists_algorithms() {
    let bin = ServerKind::Sisu.binary();
    for (what, must) in [
        ("cipher", "chacha20-poly1305@openssh.com"),
        ("mac", "hmac-sha2-256-etm@openssh.com"),
        ("kex", "curve25519-sha256"),
        ("key", "ssh-ed25519"),
    ] {
        let mut c = Command::new(&bin);
        c.args(["-Q", what]);
        let out = run_bounded(c, Input::Null, None, Duration::from_secs(10));
        out.assert_success();
        assert!(
            out.stdout_str().lines().any(|l| l == must),
            "-Q {what}: {}",
            out.stdout_str()
        );
    }
}

pub fn invalid_user_and_failed_key_are_logged() {
    let server = Server::start("fail-log");
    let other = server.dir().join("other");
    generate_key(&other, "ed25519");
    let out = server.ssh().identity(&other).run("true");
    assert_ne!(out.code, Some(0));
    let out = server.ssh().arg("-l").arg("no-such-user-sisu").run("true");
    assert_ne!(out.code, Some(0));
    let fp = fingerprint(&other.with_extension("pub"));
    let want_failed = format!("Failed publickey for {} from 127.0.0.1 port", server.user());
    assert!(
        server
            .wait_log_line(Duration::from_secs(5), |l| l.contains(&want_failed)
                && l.contains(&fp))
            .is_some(),
        "{}",
        server.log()
    );
    assert!(
        server
            .wait_log_line(Duration::from_secs(5), |l| l
                .contains("Invalid user no-such-user-sisu from 127.0.0.1 port"))
            .is_some(),
        "{}",
        server.log()
    );
}

/// Sessions run on the configuration the daemon loaded at start-up: a file changed on
/// disk since then changes nothing (only SIGHUP reloads), and a session still starts
/// once the daemon's binary has been deleted (an upgrade). OpenSSH's regress test
/// `reexec` checks the same.
pub fn sessions_use_the_loaded_configuration_and_survive_a_deleted_binary() {
    let mut p = Server::builder("loaded-config").prepare();
    let copy = p.dir.join("sshd-copy");
    fs::copy(p.kind.binary(), &copy).unwrap();
    p.binary = Some(copy.clone());
    let config = p.config_path();
    let server = p.start();
    server.ssh().run("true").assert_success();
    // A configuration that would refuse the user, and one that does not even parse.
    let mut text = fs::read_to_string(&config).unwrap();
    text.insert_str(0, &format!("DenyUsers {}\n", server.user()));
    fs::write(&config, &text).unwrap();
    let out = server.ssh().run("echo loaded");
    assert_eq!(out.stdout_str(), "loaded\n", "{}", out.stderr);
    fs::write(&config, "NoSuchKeyword yes\n").unwrap();
    server.ssh().run("true").assert_success();
    fs::remove_file(&copy).unwrap();
    let out = server.ssh().run("echo still");
    assert_eq!(out.stdout_str(), "still\n", "{}", out.stderr);
}

/// SIGHUP re-reads the configuration: a broken file keeps the running one (logged
/// with file and line); a good one takes effect for new connections, and a session
/// that was open across both goes on.
pub fn sighup_reloads_a_good_configuration_and_keeps_the_old_on_a_bad_one() {
    let p = Server::builder("sighup").prepare();
    let config = p.config_path();
    let server = p.start();
    let pid = nix::unistd::Pid::from_raw(server.pid() as i32);
    let long = {
        let ssh = server.ssh().timeout(Duration::from_secs(60));
        std::thread::spawn(move || ssh.run("sleep 3; echo survived"))
    };
    std::thread::sleep(Duration::from_millis(800));
    let good = fs::read_to_string(&config).unwrap();
    fs::write(&config, format!("{good}NoSuchKeyword yes\n")).unwrap();
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGHUP).unwrap();
    let line = server.wait_log_line(Duration::from_secs(10), |l| {
        l.contains("keeping the running one") && l.contains("NoSuchKeyword")
    });
    assert!(line.is_some(), "{}", server.log());
    assert!(line
        .unwrap()
        .contains(&format!("{} line ", config.display())));
    server.ssh().run("true").assert_success();
    // A good change: a banner appears for new connections.
    let banner = server.dir().join("banner");
    fs::write(&banner, "after the reload\n").unwrap();
    fs::write(&config, format!("Banner {}\n{good}", banner.display())).unwrap();
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGHUP).unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    loop {
        let out = server.ssh().run("true");
        if out.stderr.contains("after the reload") {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no reload: {}",
            server.log()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let out = long.join().unwrap();
    assert_eq!(out.stdout_str(), "survived\n", "{}", out.stderr);
}
