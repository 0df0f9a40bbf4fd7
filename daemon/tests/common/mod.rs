//! The interop harness: start a real SSH server on 127.0.0.1 and drive real clients at it.
//!
//! The server is `sisu-sshd` by default, or Debian's OpenSSH sshd when the environment has
//! `SISU_TEST_SERVER=openssh`, so every test can first be validated against OpenSSH.
//!
//! What this module owns:
//! - [`TestDir`]: a fresh directory per test with keys, `sshd_config`, logs and transfer
//!   files, removed on drop (kept when `SISU_TEST_KEEP=1`).
//! - [`Server`]: starts `SERVER -D -e -f DIR/sshd_config -p PORT`, retries on a port clash,
//!   waits (bounded) until it accepts connections, captures stderr to `DIR/sshd.log`, and
//!   stops the whole process group (SIGTERM, then SIGKILL) in `Drop`, even on panic.
//! - [`Ssh`]: an OpenSSH client invocation with a hard deadline.
//! - [`run_bounded`]: run any command with a deadline, killing it when the deadline passes.
//!
//! When the tests run as root they log in as the dedicated user `sisutest` (created when
//! missing), so the root daemon's switch to the user is exercised; otherwise as the
//! current user.
#![allow(dead_code)]

use std::ffi::OsString;
use std::fs;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

/// How long a server gets to start accepting connections.
pub const SERVER_READY_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a server gets to exit after SIGTERM before it gets SIGKILL.
pub const SERVER_STOP_TIMEOUT: Duration = Duration::from_secs(5);
/// How many times a server start is retried on a port clash.
pub const PORT_ATTEMPTS: usize = 5;
/// The default deadline for a client command.
pub const CLIENT_TIMEOUT: Duration = Duration::from_secs(120);
/// The user the tests log in as when they run as root.
pub const ROOT_TEST_USER: &str = "sisutest";
/// Loopback only: no test ever listens on or connects to anything else.
pub const LOOPBACK: &str = "127.0.0.1";

/// Which server binary the tests drive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ServerKind {
    /// The `sisu-sshd` binary built by cargo for this test run.
    Sisu,
    /// Debian's OpenSSH server, `/usr/sbin/sshd`.
    OpenSsh,
}

impl ServerKind {
    /// `SISU_TEST_SERVER=openssh` picks OpenSSH; anything else (or nothing) picks Sisu.
    pub fn from_env() -> Self {
        match std::env::var("SISU_TEST_SERVER").as_deref() {
            Ok("openssh") => ServerKind::OpenSsh,
            _ => ServerKind::Sisu,
        }
    }

    /// The absolute path of the server binary.
    pub fn binary(self) -> PathBuf {
        match self {
            ServerKind::Sisu => PathBuf::from(env!("CARGO_BIN_EXE_sisu-sshd")),
            ServerKind::OpenSsh => PathBuf::from("/usr/sbin/sshd"),
        }
    }
}

/// True when the tests run as root.
pub fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

/// The user the clients log in as: `sisutest` when root (created if missing), else the
/// current user.
pub fn test_user() -> String {
    static USER: OnceLock<String> = OnceLock::new();
    USER.get_or_init(|| {
        if is_root() {
            ensure_root_test_user();
            ROOT_TEST_USER.to_string()
        } else {
            let uid = nix::unistd::getuid();
            nix::unistd::User::from_uid(uid)
                .ok()
                .flatten()
                .map(|u| u.name)
                .or_else(|| std::env::var("USER").ok())
                .expect("cannot find the current user's name")
        }
    })
    .clone()
}

fn ensure_root_test_user() {
    let exists = Command::new("id")
        .arg("-u")
        .arg(ROOT_TEST_USER)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !exists {
        // `-p '*'`: no password login, but not a locked account (a locked one, `!`, is
        // refused by OpenSSH when PAM is off).
        let status = Command::new("useradd")
            .args(["-m", "-s", "/bin/bash", "-p", "*", ROOT_TEST_USER])
            .status()
            .expect("run useradd");
        assert!(status.success(), "useradd {ROOT_TEST_USER} failed");
    } else {
        let shadow = fs::read_to_string("/etc/shadow").unwrap_or_default();
        let locked = shadow
            .lines()
            .filter_map(|l| l.split_once(':'))
            .any(|(name, rest)| name == ROOT_TEST_USER && rest.starts_with('!'));
        if locked {
            let status = Command::new("usermod")
                .args(["-p", "*", ROOT_TEST_USER])
                .status()
                .expect("run usermod");
            assert!(status.success(), "usermod -p '*' {ROOT_TEST_USER} failed");
        }
    }
    // OpenSSH's privilege separation directory.
    let _ = fs::create_dir_all("/run/sshd");
}

/// A fresh directory for one test, removed on drop unless `SISU_TEST_KEEP=1`.
pub struct TestDir {
    path: PathBuf,
}

impl TestDir {
    /// Create `$TMPDIR/sisu-NAME-PID-N`, owned by the test user when root (so that the
    /// user's sessions can write transfer files into it), mode 0755.
    pub fn new(name: &str) -> Self {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!("sisu-{name}-{}-{n}", std::process::id()));
        let _ = fs::remove_dir_all(&path);
        fs::create_dir_all(&path).expect("create test dir");
        fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).expect("chmod test dir");
        if is_root() {
            let user = test_user();
            let u = nix::unistd::User::from_name(&user)
                .expect("look up test user")
                .expect("test user exists");
            nix::unistd::chown(&path, Some(u.uid), Some(u.gid)).expect("chown test dir");
        }
        TestDir { path }
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A path inside the directory.
    pub fn join(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }
}

impl Drop for TestDir {
    fn drop(&mut self) {
        if std::env::var_os("SISU_TEST_KEEP").is_none() {
            let _ = fs::remove_dir_all(&self.path);
        } else {
            eprintln!("kept test dir {}", self.path.display());
        }
    }
}

/// The result of a bounded command.
#[derive(Debug)]
pub struct Output {
    /// The exit code, `None` if killed by a signal.
    pub code: Option<i32>,
    /// Everything written to stdout (empty when stdout went to a file).
    pub stdout: Vec<u8>,
    /// Everything written to stderr, lossily decoded.
    pub stderr: String,
}

impl Output {
    /// stdout, lossily decoded.
    pub fn stdout_str(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }

    /// Panic with the full output unless the exit code is `code`.
    pub fn assert_code(&self, code: i32) -> &Self {
        assert_eq!(
            self.code,
            Some(code),
            "unexpected exit status\nstdout: {}\nstderr: {}",
            self.stdout_str(),
            self.stderr
        );
        self
    }

    /// Panic with the full output unless the command exited 0.
    pub fn assert_success(&self) -> &Self {
        self.assert_code(0)
    }
}

/// What a bounded command reads on stdin.
pub enum Input {
    /// Nothing (`/dev/null`).
    Null,
    /// These bytes, then EOF.
    Bytes(Vec<u8>),
    /// This file.
    File(PathBuf),
}

/// Run `cmd` with a deadline. stdout goes to `stdout_file` when given, else is captured.
/// When the deadline passes the command is killed and the test panics, so no test hangs.
pub fn run_bounded(
    mut cmd: Command,
    input: Input,
    stdout_file: Option<&Path>,
    timeout: Duration,
) -> Output {
    let stdin = match &input {
        Input::Null => Stdio::null(),
        Input::Bytes(_) => Stdio::piped(),
        Input::File(p) => Stdio::from(fs::File::open(p).expect("open stdin file")),
    };
    let stdout = match stdout_file {
        Some(p) => Stdio::from(fs::File::create(p).expect("create stdout file")),
        None => Stdio::piped(),
    };
    cmd.stdin(stdin).stdout(stdout).stderr(Stdio::piped());
    // Own process group, so a timeout kills helpers (ProxyCommand, shells) too.
    cmd.process_group(0);
    let mut child = cmd.spawn().unwrap_or_else(|e| panic!("spawn {cmd:?}: {e}"));
    let writer = match input {
        Input::Bytes(bytes) => {
            let mut w = child.stdin.take().expect("piped stdin");
            Some(thread::spawn(move || {
                let _ = w.write_all(&bytes);
            }))
        }
        _ => None,
    };
    let out_reader = child.stdout.take().map(|mut r| {
        thread::spawn(move || {
            let mut v = Vec::new();
            let _ = r.read_to_end(&mut v);
            v
        })
    });
    let mut err = child.stderr.take().expect("piped stderr");
    let err_reader = thread::spawn(move || {
        let mut v = Vec::new();
        let _ = err.read_to_end(&mut v);
        v
    });
    let status = wait_deadline(&mut child, timeout);
    let Some(status) = status else {
        kill_group(child.id(), nix::sys::signal::Signal::SIGKILL);
        let _ = child.wait();
        let stderr = String::from_utf8_lossy(&err_reader.join().unwrap_or_default()).into_owned();
        panic!("command timed out after {timeout:?}: {cmd:?}\nstderr: {stderr}");
    };
    if let Some(w) = writer {
        let _ = w.join();
    }
    let stdout = out_reader
        .map(|h| h.join().unwrap_or_default())
        .unwrap_or_default();
    let stderr = String::from_utf8_lossy(&err_reader.join().unwrap_or_default()).into_owned();
    Output {
        code: status.code(),
        stdout,
        stderr,
    }
}

/// Wait for `child` until `timeout`; `None` if it is still running then.
pub fn wait_deadline(child: &mut Child, timeout: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + timeout;
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Some(status),
            Ok(None) if Instant::now() >= deadline => return None,
            Ok(None) => thread::sleep(Duration::from_millis(20)),
            Err(e) => panic!("wait: {e}"),
        }
    }
}

fn kill_group(pgid: u32, sig: nix::sys::signal::Signal) {
    let _ = nix::sys::signal::killpg(nix::unistd::Pid::from_raw(pgid as i32), sig);
}

/// Run `ssh-keygen` (bounded) and panic on failure.
pub fn keygen(args: &[&str]) -> Output {
    let mut cmd = Command::new("ssh-keygen");
    cmd.args(args);
    let out = run_bounded(cmd, Input::Null, None, Duration::from_secs(60));
    out.assert_success();
    out
}

/// Generate a key pair without passphrase at `path` (and `path.pub`).
pub fn generate_key(path: &Path, key_type: &str) {
    let p = path.to_str().expect("utf-8 path");
    let mut args = vec!["-q", "-t", key_type, "-N", "", "-C", "sisu-test", "-f", p];
    if key_type == "rsa" {
        args.extend(["-b", "3072"]);
    }
    keygen(&args);
}

/// The `SHA256:...` fingerprint of a public key file.
pub fn fingerprint(pub_path: &Path) -> String {
    let out = keygen(&["-l", "-E", "sha256", "-f", pub_path.to_str().unwrap()]);
    out.stdout_str()
        .split_whitespace()
        .nth(1)
        .expect("fingerprint field")
        .to_string()
}

/// The sha256 of a file, as hex (via `sha256sum`).
pub fn sha256_file(path: &Path) -> String {
    let mut cmd = Command::new("sha256sum");
    cmd.arg(path);
    let out = run_bounded(cmd, Input::Null, None, Duration::from_secs(120));
    out.assert_success();
    out.stdout_str()
        .split_whitespace()
        .next()
        .expect("sha256sum output")
        .to_string()
}

/// Write `mib` MiB of random bytes to `path`.
pub fn random_file(path: &Path, mib: usize) {
    let mut cmd = Command::new("head");
    cmd.arg("-c").arg(format!("{mib}M")).arg("/dev/urandom");
    run_bounded(cmd, Input::Null, Some(path), Duration::from_secs(120)).assert_success();
}

/// A host key type a test server can be given.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HostKeyType {
    /// ssh-ed25519 (always present).
    Ed25519,
    /// RSA, 3072 bits (rsa-sha2-256, rsa-sha2-512).
    Rsa,
    /// ecdsa-sha2-nistp256.
    Ecdsa,
}

impl HostKeyType {
    fn keygen_name(self) -> &'static str {
        match self {
            HostKeyType::Ed25519 => "ed25519",
            HostKeyType::Rsa => "rsa",
            HostKeyType::Ecdsa => "ecdsa",
        }
    }
}

/// How to start a test server.
pub struct ServerBuilder {
    name: String,
    host_keys: Vec<HostKeyType>,
    config: Vec<String>,
    args: Vec<OsString>,
    envs: Vec<(OsString, OsString)>,
    as_test_user: bool,
    use_pam: bool,
}

impl ServerBuilder {
    /// `UsePAM yes`, for both servers (OpenSSH's is otherwise given `UsePAM no`, as
    /// Sisu's default is).
    pub fn use_pam(mut self) -> Self {
        self.use_pam = true;
        self
    }

    /// Run the server as the test user (an ordinary user) although the tests run as
    /// root: its files are given to that user.
    pub fn run_as_test_user(mut self) -> Self {
        self.as_test_user = true;
        self
    }

    /// Start the server with this environment variable set.
    pub fn env(mut self, name: &str, value: impl Into<OsString>) -> Self {
        self.envs.push((name.into(), value.into()));
        self
    }

    /// Also give the server this host key type.
    pub fn host_key(mut self, t: HostKeyType) -> Self {
        if !self.host_keys.contains(&t) {
            self.host_keys.push(t);
        }
        self
    }

    /// Add a line to `sshd_config`.
    pub fn config(mut self, line: &str) -> Self {
        self.config.push(line.to_string());
        self
    }

    /// Add `-o OPTION` to the server's command line.
    pub fn option(mut self, opt: &str) -> Self {
        self.args.push("-o".into());
        self.args.push(opt.into());
        self
    }

    /// Prepare the directory and keys without starting anything.
    pub fn prepare(self) -> Prepared {
        let kind = ServerKind::from_env();
        let dir = TestDir::new(&self.name);
        let user = test_user();
        let mut config = format!(
            "ListenAddress {LOOPBACK}\nAuthorizedKeysFile {}\nStrictModes no\nPidFile none\nLogLevel VERBOSE\n",
            dir.join("authorized_keys").display()
        );
        if self.use_pam {
            config.push_str("UsePAM yes\n");
        } else if kind == ServerKind::OpenSsh {
            config.push_str("UsePAM no\n");
        }
        let mut host_pubs = Vec::new();
        for t in &self.host_keys {
            let key = dir.join(&format!("ssh_host_{}_key", t.keygen_name()));
            generate_key(&key, t.keygen_name());
            config.push_str(&format!("HostKey {}\n", key.display()));
            host_pubs.push(PathBuf::from(format!("{}.pub", key.display())));
        }
        for line in &self.config {
            config.push_str(line);
            config.push('\n');
        }
        fs::write(dir.join("sshd_config"), config).expect("write sshd_config");
        let client_key = dir.join("id_ed25519");
        generate_key(&client_key, "ed25519");
        fs::copy(dir.join("id_ed25519.pub"), dir.join("authorized_keys"))
            .expect("write authorized_keys");
        fs::set_permissions(
            dir.join("authorized_keys"),
            fs::Permissions::from_mode(0o644),
        )
        .expect("chmod authorized_keys");
        let run_as = if self.as_test_user && is_root() {
            let u = nix::unistd::User::from_name(&user)
                .expect("look up test user")
                .expect("test user exists");
            for e in fs::read_dir(dir.path()).expect("read test dir").flatten() {
                nix::unistd::chown(&e.path(), Some(u.uid), Some(u.gid)).expect("chown");
            }
            Some((u.uid.as_raw(), u.gid.as_raw()))
        } else {
            None
        };
        Prepared {
            kind,
            dir,
            user,
            host_pubs,
            client_key,
            args: self.args,
            envs: self.envs,
            run_as,
            binary: None,
        }
    }

    /// Prepare and start the server; panics (fast) if it does not come up.
    pub fn start(self) -> Server {
        self.prepare().start()
    }
}

/// A prepared test directory: keys and config written, no server running yet.
pub struct Prepared {
    /// Which server binary.
    pub kind: ServerKind,
    /// The test directory.
    pub dir: TestDir,
    /// The user the client logs in as.
    pub user: String,
    /// The host public key files.
    pub host_pubs: Vec<PathBuf>,
    /// The client's private key (its public half is in authorized_keys).
    pub client_key: PathBuf,
    args: Vec<OsString>,
    envs: Vec<(OsString, OsString)>,
    run_as: Option<(u32, u32)>,
    /// The server binary to run instead of [`ServerKind::binary`].
    pub binary: Option<PathBuf>,
}

impl Prepared {
    /// Creates (or resets) the account `name` with its home at `DIR/home-NAME` (with an
    /// empty `.ssh`), owned by it: for tests that put files in a user's home. Root
    /// only. The home's path.
    pub fn account_with_home(&self, name: &str) -> PathBuf {
        ensure_account(name, &AccountSpec::default());
        let home = self.dir.join(&format!("home-{name}"));
        fs::create_dir_all(home.join(".ssh")).expect("create the home directory");
        run_admin("usermod", &["-d", home.to_str().expect("utf-8"), name]).assert_success();
        run_admin(
            "chown",
            &["-R", &format!("{name}:"), home.to_str().expect("utf-8")],
        )
        .assert_success();
        // The test directory must let the user reach its home.
        fs::set_permissions(self.dir.path(), fs::Permissions::from_mode(0o755))
            .expect("chmod the test directory");
        home
    }

    /// Empties `authorized_keys` (so that only what a test adds lets anyone in) and
    /// appends `lines` to the configuration, `{dir}` in them standing for the test
    /// directory.
    pub fn without_keys_and_with(self, lines: &[&str]) -> Self {
        use std::io::Write;
        fs::write(self.dir.join("authorized_keys"), "").expect("empty authorized_keys");
        let dir = self.dir.path().display().to_string();
        let mut f = fs::OpenOptions::new()
            .append(true)
            .open(self.config_path())
            .expect("open sshd_config");
        for l in lines {
            writeln!(f, "{}", l.replace("{dir}", &dir)).expect("append to sshd_config");
        }
        self
    }

    /// Runs the server in a private mount namespace of its own (`unshare -m`), after
    /// `setup` (shell commands, run as root inside it; `{dir}` is the test directory):
    /// how a test gives the server a file at a system path (`/run/nologin`,
    /// `/etc/hosts.deny`) that no other test sees.
    pub fn in_mount_namespace(&mut self, setup: &str) {
        let real = self.binary.clone().unwrap_or_else(|| self.kind.binary());
        let dir = self.dir.path().display().to_string();
        let wrapper = self.dir.join("in-namespace.sh");
        fs::write(
            &wrapper,
            format!(
                "#!/bin/sh\nexec unshare -m --propagation private sh -c '{} && exec {} \"$@\"' sh \"$@\"\n",
                setup.replace("{dir}", &dir),
                real.display()
            ),
        )
        .expect("write the namespace wrapper");
        fs::set_permissions(&wrapper, fs::Permissions::from_mode(0o755)).expect("chmod wrapper");
        self.binary = Some(wrapper);
    }

    /// `DIR/sshd_config`.
    pub fn config_path(&self) -> PathBuf {
        self.dir.join("sshd_config")
    }

    /// The common OpenSSH client options (`-F /dev/null`, batch mode, strict host key
    /// checking against DIR/known_hosts, only DIR/id_ed25519), without `-p`.
    pub fn client_options(&self, key: &Path) -> Vec<OsString> {
        let kh = self.dir.join("known_hosts");
        let mut v: Vec<OsString> = Vec::new();
        for a in [
            "-F",
            "/dev/null",
            "-o",
            "BatchMode=yes",
            "-o",
            "StrictHostKeyChecking=yes",
            "-o",
            "IdentitiesOnly=yes",
            "-o",
            "ConnectTimeout=10",
        ] {
            v.push(a.into());
        }
        v.push("-o".into());
        v.push(format!("UserKnownHostsFile={}", kh.display()).into());
        v.push("-i".into());
        v.push(key.into());
        v
    }

    /// A client command against a server of this directory listening (or proxied) on
    /// `port`.
    pub fn ssh(&self, port: u16) -> Ssh {
        Ssh::new(self, port)
    }

    /// Write `DIR/known_hosts` for `[127.0.0.1]:PORT` with every host key.
    pub fn write_known_hosts(&self, port: u16) {
        let mut s = String::new();
        for p in &self.host_pubs {
            let text = fs::read_to_string(p).expect("read host pub");
            let mut fields = text.split_whitespace();
            let (t, b) = (fields.next().unwrap(), fields.next().unwrap());
            s.push_str(&format!("[{LOOPBACK}]:{port} {t} {b}\n"));
        }
        fs::write(self.dir.join("known_hosts"), s).expect("write known_hosts");
    }

    /// Start `SERVER -D -e -f DIR/sshd_config -p PORT [-o ...]`, retrying on a port
    /// clash, and wait until it accepts connections.
    pub fn start(self) -> Server {
        let log = self.dir.join("sshd.log");
        let mut last_log = String::new();
        for _ in 0..PORT_ATTEMPTS {
            let port = free_port();
            let logfile = fs::File::create(&log).expect("create server log");
            let mut cmd = Command::new(self.binary.clone().unwrap_or_else(|| self.kind.binary()));
            cmd.arg("-D")
                .arg("-e")
                .arg("-f")
                .arg(self.config_path())
                .arg("-p")
                .arg(port.to_string())
                .args(&self.args)
                .envs(self.envs.iter().map(|(k, v)| (k, v)))
                .stdin(Stdio::null())
                .stdout(Stdio::from(logfile.try_clone().expect("dup log")))
                .stderr(Stdio::from(logfile))
                .process_group(0);
            if let Some((uid, gid)) = self.run_as {
                cmd.uid(uid).gid(gid);
            }
            let child = spawn_when_not_busy(&mut cmd)
                .unwrap_or_else(|e| panic!("spawn {:?}: {e}", self.kind.binary()));
            let mut server = Server {
                child,
                port,
                log: log.clone(),
                stopped: false,
                prepared: None,
            };
            match server.wait_ready() {
                Ok(()) => {
                    self.write_known_hosts(port);
                    server.prepared = Some(self);
                    return server;
                }
                Err(text) => {
                    server.stop();
                    last_log = text;
                    if !last_log.contains("Address already in use") {
                        break;
                    }
                }
            }
        }
        panic!(
            "{:?} server did not start listening on {LOOPBACK}\n--- server log ---\n{last_log}",
            self.kind
        );
    }
}

/// Pick a port that is free on 127.0.0.1 right now (bind port 0, read it, release it).
pub fn free_port() -> u16 {
    let l = TcpListener::bind((LOOPBACK, 0)).expect("bind 127.0.0.1:0");
    l.local_addr().expect("local addr").port()
}

/// A running test server; stopped (whole process group) on drop.
pub struct Server {
    child: Child,
    /// The port it listens on, on 127.0.0.1.
    pub port: u16,
    log: PathBuf,
    stopped: bool,
    prepared: Option<Prepared>,
}

impl Server {
    /// A builder for a server called `name` (the test dir's name) with an ed25519 host key.
    pub fn builder(name: &str) -> ServerBuilder {
        ServerBuilder {
            name: name.to_string(),
            host_keys: vec![HostKeyType::Ed25519],
            config: Vec::new(),
            args: Vec::new(),
            envs: Vec::new(),
            as_test_user: false,
            use_pam: false,
        }
    }

    /// Start a default server called `name`.
    pub fn start(name: &str) -> Server {
        Server::builder(name).start()
    }

    /// Panics, showing the log, unless a line containing `needle` reaches the log
    /// within ten seconds.
    pub fn assert_logged(&self, needle: &str) {
        assert!(
            self.wait_log_line(Duration::from_secs(10), |l| l.contains(needle))
                .is_some(),
            "no {needle:?} in the log:\n{}",
            self.log()
        );
    }

    /// What the server was started from: its directory, user and client key.
    pub fn prepared(&self) -> &Prepared {
        self.prepared.as_ref().expect("server is prepared")
    }

    /// Which server binary runs.
    pub fn kind(&self) -> ServerKind {
        self.prepared().kind
    }

    /// The test directory.
    pub fn dir(&self) -> &TestDir {
        &self.prepared().dir
    }

    /// The user clients log in as.
    pub fn user(&self) -> &str {
        &self.prepared().user
    }

    /// The client's private key.
    pub fn client_key(&self) -> &Path {
        &self.prepared().client_key
    }

    /// The listener's PID.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// 127.0.0.1:PORT.
    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    /// The server's stderr so far.
    pub fn log(&self) -> String {
        String::from_utf8_lossy(&fs::read(&self.log).unwrap_or_default()).into_owned()
    }

    /// Wait (bounded) until the log has a line for which `pred` holds.
    pub fn wait_log_line(&self, timeout: Duration, pred: impl Fn(&str) -> bool) -> Option<String> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(l) = self.log().lines().find(|l| pred(l)) {
                return Some(l.to_string());
            }
            if Instant::now() >= deadline {
                return None;
            }
            thread::sleep(Duration::from_millis(50));
        }
    }

    /// A client command against this server.
    pub fn ssh(&self) -> Ssh {
        self.prepared().ssh(self.port)
    }

    /// The common OpenSSH client options; see [`Prepared::client_options`].
    pub fn client_options(&self, key: &Path) -> Vec<OsString> {
        self.prepared().client_options(key)
    }

    fn wait_ready(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + SERVER_READY_TIMEOUT;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                self.stopped = true;
                return Err(format!("(server exited: {status})\n{}", self.log()));
            }
            if let Ok(mut s) = TcpStream::connect_timeout(&self.addr(), Duration::from_millis(200))
            {
                // Read the server's identification line so the probe is a clean, short
                // connection, then close it.
                let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
                let mut buf = [0u8; 256];
                let _ = s.read(&mut buf);
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(format!(
                    "(not listening after {SERVER_READY_TIMEOUT:?})\n{}",
                    self.log()
                ));
            }
            thread::sleep(Duration::from_millis(50));
        }
    }

    /// Stop the server: SIGTERM to its process group, SIGKILL after a bound.
    pub fn stop(&mut self) {
        if self.stopped {
            return;
        }
        self.stopped = true;
        let pgid = self.child.id();
        kill_group(pgid, nix::sys::signal::Signal::SIGTERM);
        if wait_deadline(&mut self.child, SERVER_STOP_TIMEOUT).is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        // Whatever is left of the group (sessions still closing).
        kill_group(pgid, nix::sys::signal::Signal::SIGKILL);
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
        if thread::panicking() {
            eprintln!(
                "--- server log ({}) ---\n{}",
                self.log.display(),
                self.log()
            );
        }
    }
}

/// One OpenSSH client invocation: `ssh OPTIONS -p PORT USER@127.0.0.1 CMD`.
pub struct Ssh {
    program: String,
    args: Vec<OsString>,
    dest: String,
    port: u16,
    input: Input,
    stdout_file: Option<PathBuf>,
    timeout: Duration,
    envs: Vec<(OsString, OsString)>,
}

impl Ssh {
    fn new(prepared: &Prepared, port: u16) -> Self {
        Ssh {
            program: "ssh".into(),
            args: prepared.client_options(&prepared.client_key),
            dest: format!("{}@{LOOPBACK}", prepared.user),
            port,
            input: Input::Null,
            stdout_file: None,
            timeout: CLIENT_TIMEOUT,
            envs: Vec::new(),
        }
    }

    /// Set an environment variable for the client (for `SendEnv`).
    pub fn env(mut self, name: impl Into<OsString>, value: impl Into<OsString>) -> Self {
        self.envs.push((name.into(), value.into()));
        self
    }

    /// Add a raw client argument.
    pub fn arg(mut self, a: impl Into<OsString>) -> Self {
        self.args.push(a.into());
        self
    }

    /// Log in as `user` instead of the test user.
    pub fn login_as(mut self, user: &str) -> Self {
        self.dest = format!("{user}@{LOOPBACK}");
        self
    }

    /// Add `-o OPTION`.
    pub fn option(self, opt: &str) -> Self {
        self.arg("-o").arg(opt)
    }

    /// Log in with `password` through `sshpass` (reading it from `SSHPASS`), and with
    /// no key: password prompts allowed (no `BatchMode`), one prompt only.
    pub fn password(self, password: &str) -> Self {
        self.password_after(password, "password")
            .option("PubkeyAuthentication=no")
    }

    /// Log in with the key and then `password` through `sshpass`, trying the methods
    /// in the order `preferred` gives (e.g. `publickey,password`).
    pub fn password_after(mut self, password: &str, preferred: &str) -> Self {
        if let Some(b) = self.args.iter().position(|a| a == "BatchMode=yes") {
            self.args[b] = "BatchMode=no".into();
        }
        let mut args: Vec<OsString> = vec!["-e".into(), "ssh".into()];
        args.append(&mut self.args);
        self.args = args;
        self.program = "sshpass".into();
        self.envs.push(("SSHPASS".into(), password.into()));
        self.option(&format!("PreferredAuthentications={preferred}"))
            .option("NumberOfPasswordPrompts=1")
    }

    /// Use another identity file instead of the authorized one.
    pub fn identity(mut self, key: &Path) -> Self {
        let i = self
            .args
            .iter()
            .position(|a| a == "-i")
            .expect("-i present");
        self.args[i + 1] = key.into();
        self
    }

    /// Feed these bytes on stdin.
    pub fn stdin_bytes(mut self, b: impl Into<Vec<u8>>) -> Self {
        self.input = Input::Bytes(b.into());
        self
    }

    /// Feed this file on stdin.
    pub fn stdin_file(mut self, p: &Path) -> Self {
        self.input = Input::File(p.to_path_buf());
        self
    }

    /// Write stdout to this file instead of capturing it.
    pub fn stdout_file(mut self, p: &Path) -> Self {
        self.stdout_file = Some(p.to_path_buf());
        self
    }

    /// Change the deadline.
    pub fn timeout(mut self, t: Duration) -> Self {
        self.timeout = t;
        self
    }

    /// Run `cmd` on the server (or no command: a shell) and wait, bounded.
    pub fn run(self, cmd: &str) -> Output {
        let mut c = Command::new(&self.program);
        c.args(&self.args)
            .arg("-p")
            .arg(self.port.to_string())
            .arg(&self.dest)
            .envs(self.envs.iter().map(|(k, v)| (k, v)));
        if !cmd.is_empty() {
            c.arg(cmd);
        }
        run_bounded(c, self.input, self.stdout_file.as_deref(), self.timeout)
    }
}

/// Serialises tests that must not compete for the CPU (the big transfers).
pub fn heavy_lock() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

/// Connect a raw TCP stream to the server with read/write timeouts set.
pub fn raw_connect(server: &Server, timeout: Duration) -> TcpStream {
    let s = TcpStream::connect_timeout(&server.addr(), Duration::from_secs(5)).expect("connect");
    s.set_read_timeout(Some(timeout)).unwrap();
    s.set_write_timeout(Some(timeout)).unwrap();
    s
}

/// Read until EOF (or error) with the stream's timeouts; returns the bytes and whether
/// the peer closed (EOF or reset) before the time bound `within`.
pub fn read_until_closed(s: &mut TcpStream, within: Duration) -> (Vec<u8>, bool) {
    let deadline = Instant::now() + within;
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return (out, false);
        }
        s.set_read_timeout(Some(left)).unwrap();
        match s.read(&mut buf) {
            Ok(0) => return (out, true),
            Ok(n) => {
                if out.len() < 1 << 20 {
                    out.extend_from_slice(&buf[..n]);
                }
            }
            Err(e)
                if e.kind() == std::io::ErrorKind::WouldBlock
                    || e.kind() == std::io::ErrorKind::TimedOut =>
            {
                return (out, false)
            }
            Err(_) => return (out, true),
        }
    }
}

/// Read the server's identification line (bounded).
pub fn read_ident(s: &mut TcpStream) -> String {
    let mut line = Vec::new();
    let mut b = [0u8; 1];
    while line.len() < 8192 {
        match s.read(&mut b) {
            Ok(1) => {
                line.push(b[0]);
                if b[0] == b'\n' && line.starts_with(b"SSH-") {
                    break;
                }
                if b[0] == b'\n' {
                    line.clear();
                }
            }
            _ => break,
        }
    }
    String::from_utf8_lossy(&line).into_owned()
}

/// The first `prog` on `PATH` (or `prog` itself when it is a path to a file).
pub fn which(prog: &str) -> Option<PathBuf> {
    if prog.contains('/') {
        return Path::new(prog).is_file().then(|| PathBuf::from(prog));
    }
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join(prog))
            .find(|p| p.is_file())
    })
}

/// Serialises changes to the user and group databases (`useradd` fails when another
/// one holds the lock).
fn accounts_lock() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

fn run_admin(program: &str, args: &[&str]) -> Output {
    let mut cmd = Command::new(program);
    cmd.args(args);
    run_bounded(cmd, Input::Null, None, Duration::from_secs(60))
}

/// How a test account is set up (root only): its password field, shell and expiry.
pub struct AccountSpec<'a> {
    /// The shadow password field (`*`: no password, not locked; `!`: locked).
    pub password: &'a str,
    /// The login shell.
    pub shell: &'a str,
    /// `chage -E` value: `-1` never expires, `0` expired since 1970.
    pub expire: &'a str,
    /// Supplementary groups (created when missing).
    pub groups: &'a [&'a str],
}

impl Default for AccountSpec<'_> {
    fn default() -> Self {
        AccountSpec {
            password: "*",
            shell: "/bin/sh",
            expire: "-1",
            groups: &[],
        }
    }
}

/// Creates (or resets) the account `name` as `spec` says, home `/`. Root only.
pub fn ensure_account(name: &str, spec: &AccountSpec<'_>) {
    assert!(is_root(), "creating accounts needs root");
    let _guard = accounts_lock();
    for g in spec.groups {
        if run_admin("getent", &["group", g]).code != Some(0) {
            run_admin("groupadd", &[g]).assert_success();
        }
    }
    let exists = run_admin("id", &["-u", name]).code == Some(0);
    if !exists {
        run_admin(
            "useradd",
            &["-M", "-d", "/", "-s", spec.shell, "-p", spec.password, name],
        )
        .assert_success();
    } else {
        run_admin("usermod", &["-s", spec.shell, "-p", spec.password, name]).assert_success();
    }
    let groups = spec.groups.join(",");
    run_admin("usermod", &["-G", &groups, name]).assert_success();
    run_admin("chage", &["-E", spec.expire, name]).assert_success();
}

/// Sets `name`'s password to `password`, hashed by `chpasswd -c METHOD` (`YESCRYPT`,
/// `SHA512`, `SHA256`, `MD5`). Root only.
pub fn set_password(name: &str, password: &str, method: &str) {
    assert!(is_root(), "setting passwords needs root");
    let _guard = accounts_lock();
    let mut cmd = Command::new("chpasswd");
    cmd.args(["-c", method]);
    run_bounded(
        cmd,
        Input::Bytes(format!("{name}:{password}\n").into_bytes()),
        None,
        Duration::from_secs(60),
    )
    .assert_success();
}

/// The name of `user`'s primary group.
pub fn primary_group(user: &str) -> String {
    let u = nix::unistd::User::from_name(user)
        .expect("look up user")
        .expect("user exists");
    nix::unistd::Group::from_gid(u.gid)
        .expect("look up group")
        .expect("group exists")
        .name
}

/// Spawns `cmd`, trying again for up to two seconds while the kernel says the
/// binary is busy (ETXTBSY). A test that has just copied the binary closed its
/// write descriptor, but a child that another test thread forked in the meantime
/// holds a copy of it until that child calls exec.
fn spawn_when_not_busy(cmd: &mut Command) -> std::io::Result<Child> {
    let mut tries = 0;
    loop {
        match cmd.spawn() {
            Err(e) if e.raw_os_error() == Some(libc::ETXTBSY) && tries < 100 => {
                tries += 1;
                std::thread::sleep(Duration::from_millis(20));
            }
            other => return other,
        }
    }
}

/// The Python the peer scripts run with (`SISU_TEST_PYTHON`, else `python3`).
pub fn python() -> String {
    std::env::var("SISU_TEST_PYTHON").unwrap_or_else(|_| "python3".to_string())
}

/// An alias of root (uid 0) whose home is `home` (not created), for the time of a
/// test: removed on drop. Root only.
pub struct RootAlias(pub &'static str);

impl RootAlias {
    /// Creates (or re-creates) the alias `name`.
    pub fn new(name: &'static str, home: &str) -> RootAlias {
        let run = |args: &[&str]| {
            let mut cmd = Command::new(args[0]);
            cmd.args(&args[1..]);
            run_bounded(cmd, Input::Null, None, Duration::from_secs(30))
        };
        // userdel needs -f for a uid that has processes (root's).
        let _ = run(&["userdel", "-f", name]);
        run(&[
            "useradd", "-o", "-u", "0", "-g", "0", "-M", "-d", home, "-s", "/bin/sh", "-p", "*",
            name,
        ])
        .assert_success();
        RootAlias(name)
    }
}

impl Drop for RootAlias {
    fn drop(&mut self) {
        let mut cmd = Command::new("userdel");
        cmd.args(["-f", self.0]);
        let _ = run_bounded(cmd, Input::Null, None, Duration::from_secs(30));
    }
}
