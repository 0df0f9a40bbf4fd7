//! Daemon flags: `-t`, `-T`, detaching with a PidFile, `-i` (inetd mode).

use crate::common::{free_port, run_bounded, Input, Output, Prepared, Server};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::thread;
use std::time::{Duration, Instant};

/// How long a flag-only run (`-t`, `-T`, the detaching parent) may take.
const FLAG_RUN_BOUND: Duration = Duration::from_secs(20);

fn server_cmd(p: &Prepared) -> Command {
    let mut cmd = Command::new(p.kind.binary());
    cmd.arg("-f").arg(p.config_path());
    cmd
}

fn run_flags(p: &Prepared, args: &[&str]) -> Output {
    let mut cmd = server_cmd(p);
    cmd.args(args);
    run_bounded(cmd, Input::Null, None, FLAG_RUN_BOUND)
}

pub fn test_mode_accepts_a_good_config() {
    let p = Server::builder("tgood").prepare();
    run_flags(&p, &["-t"]).assert_success();
}

pub fn test_mode_rejects_a_bad_config_with_file_and_line() {
    let p = Server::builder("tbad").prepare();
    let path = p.config_path();
    let mut text = fs::read_to_string(&path).unwrap();
    text.push_str("NoSuchKeywordAtAll yes\n");
    let bad_line = text.lines().count();
    fs::write(&path, text).unwrap();
    let out = run_flags(&p, &["-t"]);
    assert_ne!(out.code, Some(0), "-t accepted a bad config");
    let msg = format!("{}{}", out.stdout_str(), out.stderr);
    assert!(
        msg.contains(path.to_str().unwrap()),
        "no file name in: {msg}"
    );
    assert!(
        msg.contains(&format!("line {bad_line}")),
        "no `line {bad_line}` in: {msg}"
    );
    assert!(
        msg.contains("NoSuchKeywordAtAll"),
        "keyword not named in: {msg}"
    );
}

/// A keyword that restricts access and that the server cannot apply stops `-t` (and
/// start-up) with the file, the line and "not supported yet" — never a warning.
pub fn test_mode_refuses_restrictions_it_cannot_apply() {
    for (line, why) in [
        (
            "AuthenticationMethods publickey,gssapi-with-mic",
            "AuthenticationMethods publickey,gssapi-with-mic (method gssapi-with-mic): not supported yet",
        ),
        (
            "Match Address 10.0.0.0/8\n  RDomain %D",
            "RDomain %D: not supported yet",
        ),
    ] {
        let p = Server::builder("trefuse").prepare();
        let path = p.config_path();
        let mut text = fs::read_to_string(&path).unwrap();
        text.push_str(line);
        text.push('\n');
        let bad_line = text.lines().count();
        fs::write(&path, text).unwrap();
        for args in [&["-t"][..], &["-D", "-e", "-p", "1"][..]] {
            let out = run_flags(&p, args);
            assert_eq!(out.code, Some(255), "{line} {args:?}: {}", out.stderr);
            assert!(
                out.stderr
                    .contains(&format!("{} line {bad_line}: {why}", path.display())),
                "{line}: {}",
                out.stderr
            );
        }
    }
}

pub fn extended_test_mode_prints_lowercase_keyword_value_lines() {
    let p = Server::builder("tdump").prepare();
    let out = run_flags(&p, &["-T", "-p", "2222"]);
    out.assert_success();
    let text = out.stdout_str();
    let lines: Vec<&str> = text.lines().filter(|l| !l.is_empty()).collect();
    assert!(lines.len() > 5, "too few lines: {text}");
    for l in &lines {
        let kw = l.split(' ').next().unwrap();
        assert!(
            !kw.is_empty()
                && kw
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()),
            "not a lowercase `keyword value` line: {l:?}"
        );
    }
    for want in [
        "port 2222",
        "pubkeyauthentication yes",
        "loglevel VERBOSE",
        "strictmodes no",
    ] {
        assert!(
            lines.contains(&want),
            "`{want}` missing from -T output:\n{text}"
        );
    }
    let hostkey = format!("hostkey {}", p.dir.join("ssh_host_ed25519_key").display());
    assert!(
        lines.contains(&hostkey.as_str()),
        "`{hostkey}` missing:\n{text}"
    );
}

/// Kills a detached daemon by PID if a test fails before it stops it.
struct PidGuard(Option<i32>);

impl Drop for PidGuard {
    fn drop(&mut self) {
        if let Some(pid) = self.0.take() {
            let pid = nix::unistd::Pid::from_raw(pid);
            let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
            thread::sleep(Duration::from_millis(500));
            let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGKILL);
        }
    }
}

fn wait_until(bound: Duration, mut f: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + bound;
    while Instant::now() < deadline {
        if f() {
            return true;
        }
        thread::sleep(Duration::from_millis(50));
    }
    f()
}

fn read_pid(path: &Path) -> Option<i32> {
    fs::read_to_string(path).ok()?.trim().parse().ok()
}

pub fn without_d_the_daemon_detaches_writes_and_removes_pidfile() {
    let p = Server::builder("detach").prepare();
    let pidfile: PathBuf = p.dir.join("sshd.pid");
    let log = p.dir.join("detached.log");
    let port = free_port();
    p.write_known_hosts(port);
    let mut guard = PidGuard(None);
    let out = run_flags(
        &p,
        &[
            "-p",
            &port.to_string(),
            "-o",
            &format!("PidFile={}", pidfile.display()),
            "-E",
            log.to_str().unwrap(),
        ],
    );
    out.assert_success();
    assert!(
        wait_until(Duration::from_secs(10), || read_pid(&pidfile).is_some()),
        "no PidFile; log:\n{}",
        fs::read_to_string(&log).unwrap_or_default()
    );
    let pid = read_pid(&pidfile).unwrap();
    guard.0 = Some(pid);
    assert!(
        Path::new(&format!("/proc/{pid}")).exists(),
        "PidFile names a dead process"
    );
    // Readiness: the daemon may write its PidFile just before it listens.
    wait_until(Duration::from_secs(10), || {
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
    let ok = p.ssh(port).run("echo detached");
    ok.assert_success();
    assert_eq!(ok.stdout_str(), "detached\n");

    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid),
        nix::sys::signal::Signal::SIGTERM,
    )
    .expect("SIGTERM the daemon");
    assert!(
        wait_until(Duration::from_secs(10), || !pidfile.exists()),
        "PidFile not removed on SIGTERM"
    );
    assert!(
        wait_until(Duration::from_secs(10), || {
            !Path::new(&format!("/proc/{pid}")).exists()
                || fs::read_to_string(format!("/proc/{pid}/stat"))
                    .map(|s| s.contains(") Z "))
                    .unwrap_or(true)
        }),
        "daemon still running after SIGTERM"
    );
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", port)).is_err(),
        "still listening after SIGTERM"
    );
    guard.0 = None;
}

pub fn inetd_mode_via_proxy_command() {
    let p = Server::builder("inetd").prepare();
    // The port is only the name of the host key entry; nothing listens on it.
    let port = free_port();
    p.write_known_hosts(port);
    let log = p.dir.join("inetd.log");
    let proxy = format!(
        "ProxyCommand={} -i -f {} -E {}",
        p.kind.binary().display(),
        p.config_path().display(),
        log.display()
    );
    let out = p
        .ssh(port)
        .option(&proxy)
        .stdin_bytes("via inetd")
        .run("cat; exit 4");
    out.assert_code(4);
    assert_eq!(out.stdout_str(), "via inetd");
    let text = fs::read_to_string(&log).unwrap_or_default();
    assert!(
        text.contains(&format!("Accepted publickey for {} from", p.user)),
        "no Accepted line in inetd log:\n{text}"
    );
}

/// One configuration `-T` is compared on: its name, its text (`{dir}` is the test
/// directory) and the command-line arguments after `-T -f FILE`.
struct DumpCase {
    name: &'static str,
    text: &'static str,
    args: &'static [&'static str],
}

/// Every keyword Sisu keeps, set to a value other than its default.
const EVERY_KEPT_KEYWORD: &str = "\
HostKey {dir}/host_ed25519
HostKey {dir}/host_rsa
HostCertificate {dir}/host_ed25519-cert.pub
Port 2222
Port 2200
ListenAddress 127.0.0.1
ListenAddress [::1]:2201
ListenAddress 127.0.0.2:2202
AddressFamily any
AuthorizedKeysFile /etc/keys/%u .ssh/ak
PidFile {dir}/sshd.pid
LogLevel DEBUG2
SyslogFacility LOCAL5
PermitRootLogin forced-commands-only
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitEmptyPasswords yes
MaxAuthTries 3
MaxSessions 0
MaxStartups 5:50:20
LoginGraceTime 1m30s
ClientAliveInterval 1h
ClientAliveCountMax 0
AcceptEnv LANG LC_*
AcceptEnv GIT_*
PermitUserEnvironment PATH,LANG
StrictModes no
Banner /etc/issue.net
PrintMotd no
PrintLastLog no
UseDNS yes
Subsystem sftp /usr/lib/openssh/sftp-server -l INFO
Subsystem other /bin/cat
X11Forwarding yes
AllowTcpForwarding local
AllowAgentForwarding no
DisableForwarding yes
PermitTTY no
PermitOpen db:5432 [::1]:* 10.0.0.1:22
GatewayPorts clientspecified
ForceCommand echo forced $SSH_ORIGINAL_COMMAND
ChrootDirectory none
RekeyLimit 1G 1h
ModuliFile /etc/sisu/moduli
AllowUsers alice bob@10.0.0.0/8
AllowUsers carol
DenyUsers mallory
AllowGroups staff wheel
DenyGroups guests
UsePAM no
AuthenticationMethods publickey,publickey publickey
RevokedKeys /etc/sisu/revoked
RequiredRSASize 3072
SetEnv A=1 B=two A=3
VersionAddendum hello world
PerSourceMaxStartups 3
PerSourceNetBlockSize 24:56
TCPKeepAlive no
HostKeyAgent {dir}/agent.sock
Ciphers aes256-ctr,aes128-ctr
MACs hmac-sha2-256
KexAlgorithms curve25519-sha256
HostKeyAlgorithms ssh-ed25519
PubkeyAcceptedAlgorithms ssh-ed25519,rsa-sha2-512
Protocol 2,1
";

/// Keywords whose value Sisu does not keep, set (OpenSSH 9.2 knows them all).
const NOT_KEPT_KEYWORDS: &str = "\
HostKey {dir}/host_ed25519
PubkeyAuthentication no
X11DisplayOffset 20
StreamLocalBindMask 077
IgnoreRhosts no
IgnoreUserKnownHosts yes
HostbasedAuthentication yes
HostbasedUsesNameFromPacketOnly yes
KerberosAuthentication yes
KerberosOrLocalPasswd no
KerberosTicketCleanup no
GSSAPIAuthentication yes
GSSAPICleanupCredentials no
GSSAPIStrictAcceptorCheck no
X11UseLocalhost no
PermitUserRC no
Compression no
AllowStreamLocalForwarding no
StreamLocalBindUnlink yes
FingerprintHash md5
ExposeAuthInfo yes
XAuthLocation /usr/local/bin/xauth
TrustedUserCAKeys /etc/ssh/user_ca.pub
SecurityKeyProvider /usr/lib/sk-provider.so
AuthorizedPrincipalsFile /etc/ssh/principals/%u
AuthorizedKeysCommand /usr/bin/keys-for %u
AuthorizedKeysCommandUser nobody
AuthorizedPrincipalsCommand /usr/bin/principals-for %u
AuthorizedPrincipalsCommandUser nobody
CASignatureAlgorithms ssh-ed25519
HostbasedAcceptedAlgorithms ssh-ed25519
PermitTunnel point-to-point
IPQoS af21 cs1
PermitListen 8080 localhost:9090
PubkeyAuthOptions touch-required
LogVerbose kex.c:*
UnusedConnectionTimeout none
ChannelTimeout none
";

/// Value formats: times, sizes, aliases, addresses, quoting, relative algorithm lists.
const FORMATS: &str = "\
HostKey {dir}/host_ed25519
HostKey \"{dir}/host rsa\"
Port 2022
ListenAddress 127.0.0.1
ListenAddress [::1]:2200
ListenAddress ::1
LoginGraceTime 1h2m3s
ClientAliveInterval 1W
MaxStartups 3
RekeyLimit 4T 1d
LogLevel debug1
PermitRootLogin without-password
PermitOpen *:* [fe80::1]:22 host.example:*
AuthorizedKeysFile none
SetEnv A=1 \"B=two words\" A=3
SetEnv C=ignored
VersionAddendum  two  words
ForceCommand  /bin/echo \"a  b\"
Subsystem sftp internal-sftp -l VERBOSE -f AUTH
Banner \"{dir}/issue net\"
AllowUsers \"first user\" second
AcceptEnv LC_* \"LANG\"
PerSourceNetBlockSize 24
PerSourceMaxStartups none
HostKeyAgent SSH_AUTH_SOCK
Ciphers +aes128-cbc
MACs -umac*
KexAlgorithms ^diffie-hellman-group14-sha1
PermitUserEnvironment \"LANG LC_*\"
SyslogFacility local7
";

/// Debian 12's `sshd_config` (with `UsePAM no`: Sisu refuses `yes`) and a drop-in.
const DEBIAN_DEFAULT: &str = "\
Include {dir}/sshd_config.d/*.conf
HostKey {dir}/host_ed25519
KbdInteractiveAuthentication no
UsePAM no
X11Forwarding yes
PrintMotd no
AcceptEnv LANG LC_*
Subsystem\tsftp\t/usr/lib/openssh/sftp-server
";

/// `Match` blocks, for `-C` (every spec gives `lport`: OpenSSH 9.2 stops at a `Match
/// LocalPort` when `-C` lacks it).
const MATCH_BLOCKS: &str = "\
HostKey {dir}/host_ed25519
PasswordAuthentication no
MaxAuthTries 3
AcceptEnv LANG
Match Address 10.0.0.0/8,!10.66.0.0/16
    PasswordAuthentication yes
    PermitOpen db:5432
Match User alice Host *.example.org
    MaxAuthTries 10
    AcceptEnv GIT_*
    PermitRootLogin no
    AuthorizedKeysFile /etc/keys/%u
Match User alice
    MaxAuthTries 20
    ForceCommand /bin/true
    X11DisplayOffset 20
    SetEnv A=1 B=2
Match LocalPort 2222
    Banner /etc/banner
    RekeyLimit 1M 10m
Match LocalAddress 192.0.2.1
    ClientAliveInterval 30
Match Group root
    PermitTTY no
Match All
    X11Forwarding yes
    LogLevel DEBUG3
";

/// `Match All` applies to `-T` without `-C`; other blocks do not.
const MATCH_ALL: &str = "\
HostKey {dir}/host_ed25519
Match User alice
    MaxSessions 3
Match All
    MaxAuthTries 2
";

fn dump_cases() -> Vec<DumpCase> {
    let case = |name, text, args| DumpCase { name, text, args };
    vec![
        case("minimal", "HostKey {dir}/host_ed25519\n", &[]),
        case("every kept keyword", EVERY_KEPT_KEYWORD, &[]),
        case("not kept keywords", NOT_KEPT_KEYWORDS, &[]),
        case("formats", FORMATS, &[]),
        case("debian default", DEBIAN_DEFAULT, &[]),
        case(
            "command line",
            "HostKey {dir}/host_ed25519\nPort 22\nMaxStartups 3\nLogLevel INFO\n",
            &["-p", "2022", "-4", "-g", "45", "-o", "LogLevel=DEBUG2"],
        ),
        case(
            "-o MaxStartups",
            "HostKey {dir}/host_ed25519\nMaxStartups 3\n",
            &["-o", "MaxStartups=5:50:20"],
        ),
        case("-q", "HostKey {dir}/host_ed25519\n", &["-q"]),
        case(
            "listen on a name",
            "HostKey {dir}/host_ed25519\nListenAddress localhost\n",
            &[],
        ),
        case("Match All", MATCH_ALL, &[]),
        case("Match All -C", MATCH_ALL, &["-C", "user=alice"]),
        case(
            "Match alice",
            MATCH_BLOCKS,
            &[
                "-C",
                "user=alice,host=a.example.org,addr=10.1.2.3,laddr=192.0.2.1,lport=2222",
            ],
        ),
        case(
            "Match bob",
            MATCH_BLOCKS,
            &[
                "-C",
                "user=bob,host=b,addr=10.66.0.9,laddr=10.0.0.1,lport=22",
            ],
        ),
        case(
            "Match root",
            MATCH_BLOCKS,
            &["-C", "user=root,host=x,addr=::1,laddr=::1,lport=22"],
        ),
        case(
            "Match alice elsewhere",
            MATCH_BLOCKS,
            &["-C", "user=alice,host=x,addr=192.0.2.9,laddr=::1,lport=22"],
        ),
    ]
}

/// The configuration a run sees, as lines: the file's text and the `-o` options.
fn config_lines(text: &str, args: &[&str]) -> String {
    let mut out = text.to_string();
    for pair in args.windows(2) {
        if pair[0] == "-o" {
            out.push_str(pair[1]);
            out.push('\n');
        }
    }
    out
}

/// `sisu-sshd -T` prints what OpenSSH's `sshd -T` prints for the same files and
/// arguments (with and without `-C`), line by line, but for the differences listed in
/// `config::dump_differences` (and `KEYWORDS.md`).
pub fn extended_test_mode_matches_openssh() {
    use crate::common::{generate_key, keygen, ServerKind, TestDir};
    let dir = TestDir::new("dump-parity");
    let d = dir.path().display().to_string();
    generate_key(&dir.join("host_ed25519"), "ed25519");
    generate_key(&dir.join("host_rsa"), "rsa");
    fs::copy(dir.join("host_rsa"), dir.join("host rsa")).unwrap();
    keygen(&[
        "-q",
        "-s",
        &format!("{d}/host_rsa"),
        "-I",
        "host",
        "-h",
        "-n",
        "localhost",
        &format!("{d}/host_ed25519.pub"),
    ]);
    fs::create_dir_all(dir.join("sshd_config.d")).unwrap();
    fs::write(
        dir.join("sshd_config.d/10-local.conf"),
        "PasswordAuthentication no\nMaxAuthTries 4\n",
    )
    .unwrap();
    let binaries = [PathBuf::from("/usr/sbin/sshd"), ServerKind::Sisu.binary()];
    let mut failures = Vec::new();
    for (i, case) in dump_cases().iter().enumerate() {
        let text = case.text.replace("{dir}", &d);
        let path = dir.join(&format!("case{i}.conf"));
        fs::write(&path, &text).unwrap();
        let [openssh, sisu] = binaries.clone().map(|bin| {
            let mut cmd = Command::new(&bin);
            cmd.arg("-T").arg("-f").arg(&path).args(case.args);
            run_bounded(cmd, Input::Null, None, FLAG_RUN_BOUND)
        });
        let what = format!("{} {:?}", case.name, case.args);
        if openssh.code != Some(0) || sisu.code != Some(0) {
            failures.push(format!(
                "{what}: exit {:?} (OpenSSH: {}) / {:?} (Sisu: {})",
                openssh.code, openssh.stderr, sisu.code, sisu.stderr
            ));
            continue;
        }
        let (o, s) = (openssh.stdout_str(), sisu.stdout_str());
        assert!(o.lines().count() > 80, "{what}: OpenSSH printed\n{o}");
        for diff in sisu_daemon::config::unexpected_dump_differences(
            &o,
            &s,
            &config_lines(&text, case.args),
        ) {
            failures.push(format!("{what}: {diff}"));
        }
    }
    assert!(
        failures.is_empty(),
        "sisu-sshd -T and sshd -T differ beyond the documented differences \
         (config::dump_differences, KEYWORDS.md):\n{}",
        failures.join("\n")
    );
}
