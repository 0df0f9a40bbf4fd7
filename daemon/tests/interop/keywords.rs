//! One test (or more) per `sshd_config` keyword whose effect no other module shows:
//! Banner, PrintMotd, MaxSessions, ClientAliveInterval/CountMax, TCPKeepAlive,
//! VersionAddendum, RefuseConnection, PerSourceMaxStartups, RevokedKeys,
//! SyslogFacility.

use crate::common::{
    generate_key, keygen, raw_connect, read_ident, read_until_closed, run_bounded, test_user,
    Input, Server, LOOPBACK,
};
use std::fs;
use std::io::Read;
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const LOG_WAIT: Duration = Duration::from_secs(10);

fn logged(server: &Server, needle: &str) -> bool {
    server
        .wait_log_line(LOG_WAIT, |l| l.contains(needle))
        .is_some()
}

/// `Banner FILE` is shown before authentication (ssh prints it on stderr); a `Match
/// User` block can give another one.
pub fn banner_is_sent_before_authentication() {
    let dir = crate::common::TestDir::new("banner-files");
    let all = dir.join("banner");
    fs::write(&all, "Authorized use only: sisu test\n").unwrap();
    let mine = dir.join("banner-user");
    fs::write(&mine, "Hello, test user\n").unwrap();
    let server = Server::builder("banner")
        .config(&format!("Banner {}", all.display()))
        .start();
    let out = server.ssh().run("true");
    out.assert_success();
    assert!(
        out.stderr.contains("Authorized use only: sisu test"),
        "{}",
        out.stderr
    );
    let user = test_user();
    let server = Server::builder("banner-match")
        .config(&format!("Match User {user}"))
        .config(&format!("  Banner {}", mine.display()))
        .start();
    let out = server.ssh().run("true");
    assert!(out.stderr.contains("Hello, test user"), "{}", out.stderr);
    let server = Server::start("no-banner");
    let out = server.ssh().run("true");
    assert!(
        !out.stderr.contains("Authorized use only"),
        "{}",
        out.stderr
    );
}

/// `PrintMotd yes` (the default) shows /etc/motd at a login on a terminal, not for a
/// command; `PrintMotd no` does not.
pub fn print_motd_at_a_terminal_login() {
    let motd = fs::read_to_string("/etc/motd").unwrap();
    let line = motd
        .lines()
        .find(|l| l.trim().len() > 10)
        .expect("a non-empty /etc/motd")
        .trim()
        .to_string();
    let run = |server: &Server| {
        let out = server.ssh().arg("-tt").stdin_bytes("exit 3\n").run("");
        out.assert_code(3);
        out.stdout_str()
    };
    let server = Server::start("motd");
    assert!(run(&server).contains(&line), "no motd");
    let out = server.ssh().run("echo cmd");
    assert_eq!(out.stdout_str(), "cmd\n", "no motd for a command");
    let server = Server::builder("nomotd").config("PrintMotd no").start();
    assert!(!run(&server).contains(&line));
}

/// A python helper that opens `n` session channels on one connection and prints, per
/// channel, "ok" or "refused".
const CHANNELS_PY: &str = r#"
import sys, paramiko
port, user, key, known, n = sys.argv[1:6]
c = paramiko.SSHClient()
c.load_host_keys(known)
c.set_missing_host_key_policy(paramiko.RejectPolicy())
c.connect("127.0.0.1", port=int(port), username=user, key_filename=key,
          look_for_keys=False, allow_agent=False, timeout=10, banner_timeout=10, auth_timeout=10)
t = c.get_transport()
chans = []
for i in range(int(n)):
    try:
        chans.append(t.open_session(timeout=10))
        print("ok")
    except paramiko.ChannelException:
        print("refused")
c.close()
"#;

fn open_channels(server: &Server, n: usize) -> String {
    let mut cmd = Command::new("python3");
    cmd.arg("-c")
        .arg(CHANNELS_PY)
        .arg(server.port.to_string())
        .arg(server.user())
        .arg(server.client_key())
        .arg(server.dir().join("known_hosts"))
        .arg(n.to_string());
    let out = run_bounded(cmd, Input::Null, None, Duration::from_secs(60));
    out.assert_success();
    out.stdout_str()
}

/// `MaxSessions 2`: a third session channel on one connection is refused;
/// `MaxSessions 0` refuses every session but still allows a forwarding (`ssh -W`).
pub fn max_sessions_limits_session_channels() {
    let server = Server::builder("maxsessions")
        .config("MaxSessions 2")
        .start();
    assert_eq!(open_channels(&server, 3), "ok\nok\nrefused\n");
    let server = Server::builder("maxsessions0")
        .config("MaxSessions 0")
        .start();
    assert_eq!(open_channels(&server, 1), "refused\n");
    // A forwarding (ssh -W: direct-tcpip, no session) still works with MaxSessions 0.
    let target = std::net::TcpListener::bind((LOOPBACK, 0)).unwrap();
    let tport = target.local_addr().unwrap().port();
    let accept = std::thread::spawn(move || {
        let (mut s, _) = target.accept().unwrap();
        let mut b = [0u8; 5];
        s.read_exact(&mut b).unwrap();
        b
    });
    let out = server
        .ssh()
        .arg("-W")
        .arg(format!("{LOOPBACK}:{tport}"))
        .stdin_bytes("hello")
        .timeout(Duration::from_secs(30))
        .run("");
    assert_eq!(&accept.join().unwrap(), b"hello", "{}", out.stderr);
}

/// `ClientAliveInterval 1`, `ClientAliveCountMax 2`: a client that stops answering
/// (SIGSTOP) is dropped after about three seconds, with OpenSSH's line; one that
/// answers stays.
pub fn client_alive_drops_a_silent_client() {
    let server = Server::builder("clientalive")
        .config("ClientAliveInterval 1")
        .config("ClientAliveCountMax 2")
        .start();
    let out = server.ssh().run("sleep 4; echo still here");
    assert_eq!(out.stdout_str(), "still here\n", "{}", out.stderr);
    assert!(!server.log().contains("Timeout, client not responding"));
    // A client that freezes after logging in.
    let mut cmd = Command::new("ssh");
    cmd.args(server.client_options(server.client_key()))
        .arg("-p")
        .arg(server.port.to_string())
        .arg(format!("{}@{LOOPBACK}", server.user()))
        .arg("sleep 60")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let mut child = cmd.spawn().unwrap();
    let pid = nix::unistd::Pid::from_raw(child.id() as i32);
    // The second session's start (the first was the responsive client's).
    let deadline = Instant::now() + LOG_WAIT;
    while server.log().matches("Starting session: command").count() < 2 {
        assert!(Instant::now() < deadline, "{}", server.log());
        std::thread::sleep(Duration::from_millis(50));
    }
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGSTOP).unwrap();
    let t = Instant::now();
    let line = server.wait_log_line(Duration::from_secs(15), |l| {
        l.contains("Timeout, client not responding from user")
    });
    let took = t.elapsed();
    let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGKILL);
    let _ = child.wait();
    assert!(line.is_some(), "{}", server.log());
    assert!(took < Duration::from_secs(10), "took {took:?}");
}

/// `TCPKeepAlive` (default yes) sets SO_KEEPALIVE on the client's connection: `ss`
/// shows a keepalive timer; `TCPKeepAlive no` shows none.
pub fn tcp_keep_alive_sets_the_socket_option() {
    let timer_of = |server: &Server| -> String {
        let mut s = raw_connect(server, Duration::from_secs(5));
        let _ = read_ident(&mut s);
        let local = s.local_addr().unwrap().port();
        let mut cmd = Command::new("ss");
        cmd.args(["-tnoH", "state", "established"])
            .arg(format!("( sport = :{} and dport = :{local} )", server.port));
        let out = run_bounded(cmd, Input::Null, None, Duration::from_secs(10));
        out.assert_success();
        out.stdout_str()
    };
    let server = Server::start("keepalive");
    let on = timer_of(&server);
    assert!(on.contains("keepalive"), "{on}");
    let server = Server::builder("nokeepalive")
        .config("TCPKeepAlive no")
        .start();
    let off = timer_of(&server);
    assert!(!off.contains("keepalive") && !off.is_empty(), "{off}");
}

/// `VersionAddendum` is appended to the identification line.
pub fn version_addendum_in_the_identification_line() {
    let server = Server::builder("addendum")
        .config("VersionAddendum sisu-test addendum")
        .start();
    let mut s = raw_connect(&server, Duration::from_secs(5));
    let ident = read_ident(&mut s);
    assert!(
        ident.trim_end().ends_with(" sisu-test addendum"),
        "{ident:?}"
    );
}

/// `RefuseConnection yes` in a `Match User` block ends that user's connection, logged;
/// another block leaves it alone. (OpenSSH 10 has it, 9.2 does not: Sisu only.)
pub fn refuse_connection_in_a_match_block() {
    let user = test_user();
    let server = Server::builder("refuse")
        .config(&format!("Match User {user}"))
        .config("  RefuseConnection yes")
        .start();
    let out = server.ssh().run("true");
    assert_eq!(out.code, Some(255), "{}", out.stderr);
    assert!(
        logged(
            &server,
            &format!("administratively prohibited connection for {user} from 127.0.0.1")
        ),
        "{}",
        server.log()
    );
    let server = Server::builder("refuse-other")
        .config("Match User nobody")
        .config("  RefuseConnection yes")
        .start();
    server.ssh().run("true").assert_success();
}

/// `PerSourceMaxStartups 1`: a second unauthenticated connection from 127.0.0.1 is
/// dropped while the first waits; once it is gone, logins work again.
pub fn per_source_max_startups() {
    let server = Server::builder("persource")
        .config("PerSourceMaxStartups 1")
        .start();
    // The harness's readiness probe may still count for a moment: retry, bounded.
    let mut first = None;
    for _ in 0..20 {
        let mut s = raw_connect(&server, Duration::from_secs(5));
        let mut b = [0u8; 64];
        let n = s.read(&mut b).unwrap_or(0);
        if b[..n].starts_with(b"SSH-") {
            first = Some(s);
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let first = first.expect("a first connection is served");
    let mut second = raw_connect(&server, Duration::from_secs(5));
    let (bytes, closed) = read_until_closed(&mut second, Duration::from_secs(5));
    assert!(closed && !bytes.starts_with(b"SSH-"), "{bytes:?}");
    assert!(logged(&server, "past MaxStartups"), "{}", server.log());
    drop(first);
    std::thread::sleep(Duration::from_millis(500));
    server.ssh().run("true").assert_success();
}

/// `RevokedKeys` as a key list, and as KRLs made by `ssh-keygen -k` (by key, by
/// SHA-256 hash): a revoked key is refused and logged, others still get in; a missing
/// or malformed file refuses every key.
pub fn revoked_keys_lists_and_krls() {
    let files = crate::common::TestDir::new("revoked-files");
    for case in ["list", "krl-key", "krl-hash", "missing", "garbage"] {
        let path = files.join(case);
        let p = Server::builder("revoked")
            .config(&format!("RevokedKeys {}", path.display()))
            .prepare();
        let dir = p.dir.path().to_path_buf();
        let other = dir.join("other_key");
        generate_key(&other, "ed25519");
        let mut ak = fs::read_to_string(dir.join("authorized_keys")).unwrap();
        ak.push_str(&fs::read_to_string(dir.join("other_key.pub")).unwrap());
        fs::write(dir.join("authorized_keys"), ak).unwrap();
        let client_pub = dir.join("id_ed25519.pub");
        let out = path.to_str().unwrap();
        match case {
            "list" => {
                fs::copy(&client_pub, &path).unwrap();
            }
            "krl-key" => {
                keygen(&["-k", "-f", out, client_pub.to_str().unwrap()]);
            }
            "krl-hash" => {
                let spec = dir.join("spec");
                let fp = crate::common::fingerprint(&client_pub);
                fs::write(&spec, format!("hash: {fp}\n")).unwrap();
                keygen(&["-k", "-f", out, spec.to_str().unwrap()]);
            }
            "garbage" => fs::write(&path, b"SSHKRL\n\0garbage").unwrap(),
            _ => {}
        }
        let server = p.start();
        let refused = server.ssh().run("true");
        assert_eq!(refused.code, Some(255), "{case}: {}", refused.stderr);
        let by_other = server.ssh().identity(&other).run("true");
        if matches!(case, "missing" | "garbage") {
            assert_eq!(by_other.code, Some(255), "{case}: every key refused");
            assert!(
                logged(&server, "in revoked keys file"),
                "{case}: {}",
                server.log()
            );
        } else {
            by_other.assert_success();
            assert!(
                logged(&server, "revoked by file"),
                "{case}: {}",
                server.log()
            );
        }
    }
}

/// `SyslogFacility LOCAL3` without -e: lines reach /dev/log with priority 158 (LOCAL3,
/// info). Root only: the test gives the daemon a /dev/log of its own in a mount
/// namespace, whose /dev holds nothing else (OpenSSH's sshd cannot start there: Sisu
/// only).
pub fn syslog_facility_sets_the_priority() {
    let dir = crate::common::TestDir::new("syslog");
    let key = dir.join("hostkey");
    generate_key(&key, "ed25519");
    let port = crate::common::free_port();
    let cfg = dir.join("sshd_config");
    fs::write(
        &cfg,
        format!(
            "ListenAddress {LOOPBACK}\nPidFile none\nHostKey {}\nSyslogFacility LOCAL3\n",
            key.display()
        ),
    )
    .unwrap();
    // In a private mount namespace, /dev is a directory holding only our socket as
    // `log` (the daemon opens nothing else there), so the machine's /dev is untouched.
    let dev = dir.join("dev");
    fs::create_dir(&dev).unwrap();
    let sock_path = dev.join("log");
    let sock = std::os::unix::net::UnixDatagram::bind(&sock_path).unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let script = format!(
        "mount --bind {dev} /dev && exec {bin} -D -f {cfg} -p {port}",
        dev = dev.display(),
        bin = crate::common::ServerKind::from_env().binary().display(),
        cfg = cfg.display(),
    );
    let mut child = Command::new("unshare")
        .args(["-m", "--propagation", "private", "sh", "-c", &script])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .unwrap();
    let mut buf = [0u8; 2048];
    let got = sock.recv(&mut buf);
    let _ = nix::sys::signal::killpg(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    );
    let _ = child.wait();
    let n = got.expect("a syslog datagram");
    let msg = String::from_utf8_lossy(&buf[..n]).into_owned();
    assert!(msg.starts_with("<158>"), "{msg:?}");
    assert!(msg.contains("sshd["), "{msg:?}");
}
