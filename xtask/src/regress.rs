//! `cargo xtask regress`: OpenSSH's own regress suite, from Debian's `openssh-tests`
//! package, run against sisu-sshd (or, with `--openssh`, against Debian's
//! `/usr/sbin/sshd`, to tell a broken test set-up from a broken server).
//!
//! How one test runs, as the suite's Makefile target `t-exec` and Debian's `run-tests`
//! script run it: in a fresh copy of `/usr/lib/openssh/regress` (tests leave keys,
//! configs and logs behind), as
//! `env SUDO= TEST_ENV=… sh DIR/test-exec.sh DIR DIR/NAME.sh` with `TEST_SSH_SSHD`
//! naming the server and the other `TEST_SSH_*` variables naming Debian's clients,
//! stdin from /dev/zero, in a session of its own, with a time limit; then every process
//! it started and left behind is stopped by PID ([`reap`]). Tests run one after the
//! other: several use fixed ports (3301, 3320, 33xx) besides `TEST_SSH_PORT`. A test
//! is also stopped (FAIL) when its directory grows past 512 MiB or the disk has less
//! than 2 GiB left: stdin is /dev/zero, and a server that runs `cat` where a file was
//! expected streams it back forever. A run that is interrupted leaves its current
//! test's processes running (they are in a session of their own); the next run of the
//! same server stops them first (they name its directory in their command lines).
//!
//! One change is made to each copy, and printed by every run (a second one on request):
//!
//! - `test-exec.sh` makes no security-key host keys and gives the servers no
//!   `SecurityKeyProvider`. Debian builds OpenSSH with security-key support
//!   (`ENABLE_SK`), so the suite makes `sk-*` keys of every kind with its dummy
//!   provider; the user keys stay (sisu-sshd verifies them), the host keys would need
//!   a provider in the server, which sisu-sshd does not load. For the same reason
//!   `keytype` pairs a security-key user key with an ed25519 host key, `keyscan`
//!   asks for no security-key host key, `hostkey-agent` puts none in the agent and
//!   `cert-hostkey` makes no security-key host certificates.
//! - with `--no-pam` only: `UsePAM yes` in the server configuration `test-exec.sh`
//!   writes becomes `UsePAM no` (for both servers), to tell a PAM problem from another.
//!   By default the suite's line stays, and both servers run the host's PAM stack
//!   (`/etc/pam.d/sshd`) as the suite intends.
//!
//! The copy leaves out `unittests/` (6.7 MB of data for the suite's unit tests, which
//! test OpenSSH's own library, not a server, and which `t-exec` never reads).
//!
//! Results: PASS (exit 0 and the suite's `ok <test>` line), SKIP (exit 0 without it:
//! the test said "SKIPPED: …", "skipped (…)", "… not enabled" and stopped), FAIL, or
//! TIMEOUT. Each test's directory stays under `target/regress/<sisu|openssh>/<test>/`:
//! all of it for a failure, its `*.log` files (`output.log` is what the test printed,
//! then `regress.log`, `ssh.log`, `sshd.log`, `failed-*.log`) otherwise; the last
//! run's table is in `results.tsv` beside them. A run replaces the directories of the
//! tests it runs and leaves the others'. The lists in `xtask/regress/` ([`lists`]) say which
//! results are expected.

mod lists;
mod reap;

use crate::{bench, deps, proc};
use lists::{Listed, Lists};
use std::fs;
use std::io::Write;
use std::net::{Ipv6Addr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Where Debian's openssh-tests installs the suite.
const SUITE: &str = "/usr/lib/openssh/regress";
/// What the suite needs, and the Debian packages that provide it.
const NEEDS: &[(&str, &str)] = &[
    ("/usr/lib/openssh/regress/test-exec.sh", "openssh-tests"),
    ("ssh", "openssh-client"),
    ("/usr/sbin/sshd", "openssh-server"),
    ("/usr/lib/openssh/sftp-server", "openssh-sftp-server"),
];
/// OpenSSH's server, for `--openssh`.
const OPENSSH_SSHD: &str = "/usr/sbin/sshd";
/// The default time limit of one test. The slowest test against OpenSSH here takes
/// about three minutes.
const DEFAULT_TIMEOUT: u64 = 600;
/// Where the port search starts: a test gets the first port from here on with it and
/// the next four free (some tests use PORT+1..PORT+4). Not the suite's 4242: other
/// runs of the suite on this machine use that one, and a server started by a test
/// there may bind it after we looked.
const DEFAULT_PORT: u16 = 24242;
/// How many ports are tried.
const PORT_TRIES: u16 = 200;
/// The line `test-exec.sh` writes into the server configuration, and `--no-pam`'s
/// change.
const PAM_LINE: &str = "\tUsePAM\t\t\tyes";
const NO_PAM_LINE: &str = "\tUsePAM\t\t\tno";
/// The lines of `test-exec.sh` that make every key type, security keys included, a
/// host key too, and our change: no security-key host keys (they need a provider in
/// the server).
const SK_HOSTKEY_LINE: &str = "SSH_HOSTKEY_TYPES=`$SSH -Q key-plain | maybe_filter_sk`";
const NO_SK_HOSTKEY_LINE: &str = "SSH_HOSTKEY_TYPES=`$SSH -Q key-plain | grep -v ^sk`";
/// The lines of four tests that use host keys of every user-key type, and our
/// change: an ed25519 host key where the user key is a security key (`keytype`), no
/// security-key host keys scanned (`keyscan`), held by an agent (`hostkey-agent`) or
/// certified (`cert-hostkey`).
const SK_HOSTKEY_TESTS: [(&str, &str, &str); 5] = [
    (
        "keytype.sh",
        "\thtypes=\"$ut\"",
        "\tcase \"$ut\" in *sk) htypes=ed25519-512 ;; *) htypes=\"$ut\" ;; esac",
    ),
    (
        "keyscan.sh",
        "for t in $SSH_KEYTYPES; do",
        "for t in `echo $SSH_KEYTYPES | tr ' ' '\\n' | grep -v '^sk-'`; do",
    ),
    (
        "hostkey-agent.sh",
        "trace \"make CA key\"",
        "SSH_KEYTYPES=`echo $SSH_KEYTYPES | tr ' ' '\\n' | grep -v '^sk-'`\ntrace \"make CA key\"",
    ),
    (
        "hostkey-agent.sh",
        "SSH_CERTTYPES=`ssh -Q key-sig | grep 'cert-v01@openssh.com'`",
        "SSH_CERTTYPES=`ssh -Q key-sig | grep 'cert-v01@openssh.com' | grep -v '^sk-'`",
    ),
    (
        "cert-hostkey.sh",
        "PLAIN_TYPES=`echo \"$SSH_KEYTYPES\" | sed 's/^ssh-dss/ssh-dsa/g;s/^ssh-//'`",
        "PLAIN_TYPES=`echo \"$SSH_KEYTYPES\" | grep -v '^sk-' | sed 's/^ssh-dss/ssh-dsa/g;s/^ssh-//'`",
    ),
];
/// The lines that give the servers the provider (only their security-key host keys
/// would use it): left out.
const SERVER_PROVIDER_LINES: [&str; 2] = [
    "\techo \"SecurityKeyProvider $SSH_SK_PROVIDER\" >> $OBJ/sshd_config",
    "\techo \"SecurityKeyProvider $SSH_SK_PROVIDER\" >> $OBJ/sshd_proxy",
];
/// A test whose directory grows past this is stopped (the suite's largest data file is
/// 10 MB; a test directory holds a few MiB against OpenSSH).
const MAX_TEST_BYTES: u64 = 512 << 20;
/// A test is stopped when the file system has less than this left.
const MIN_FREE_BYTES: u64 = 2 << 30;
/// How often the two are checked.
const DISK_CHECK_EVERY: Duration = Duration::from_secs(1);
/// Tests that fail against OpenSSH's sshd too, because of the changes this runner
/// makes to the suite, and why; `--openssh` reports them without failing.
const OPENSSH_EXPECTED: &[(&str, &str)] = &[(
    "hostkey-agent",
    "its certificate loop takes every `ssh -Q key-sig` type, sk-* included, but without \
     ENABLE_SK the suite made no sk-* host keys",
)];
/// The longest note in the table.
const NOTE_MAX: usize = 160;

/// One test's result.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Pass,
    Fail,
    Skip,
    Timeout,
}

impl Outcome {
    fn as_str(self) -> &'static str {
        match self {
            Outcome::Pass => "PASS",
            Outcome::Fail => "FAIL",
            Outcome::Skip => "SKIP",
            Outcome::Timeout => "TIMEOUT",
        }
    }
}

/// A test's outcome, its time and a note (the first failing line, the skip reason).
struct Ran {
    name: String,
    outcome: Outcome,
    secs: f64,
    note: String,
}

/// What a run is pointed at and how.
struct Options {
    openssh: bool,
    sshd: Option<PathBuf>,
    timeout: Duration,
    port: u16,
    install: bool,
    keep: bool,
    no_pam: bool,
    lists: Vec<String>,
    tests: Vec<String>,
}

fn parse(args: &[String]) -> Result<Options, String> {
    let mut o = Options {
        openssh: false,
        sshd: None,
        timeout: Duration::from_secs(DEFAULT_TIMEOUT),
        port: DEFAULT_PORT,
        install: true,
        keep: false,
        no_pam: false,
        lists: Vec::new(),
        tests: Vec::new(),
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = |what: &str| it.next().cloned().ok_or(format!("{what} needs a value"));
        match a.as_str() {
            "--openssh" => o.openssh = true,
            "--sshd" => o.sshd = Some(PathBuf::from(value("--sshd")?)),
            "--timeout" => {
                let s: u64 = value("--timeout")?
                    .parse()
                    .map_err(|e| format!("--timeout: {e}"))?;
                o.timeout = Duration::from_secs(s.max(1));
            }
            "--port" => {
                o.port = value("--port")?
                    .parse()
                    .map_err(|e| format!("--port: {e}"))?
            }
            "--list" => {
                let l = value("--list")?;
                if !lists::FILES.contains(&l.as_str()) {
                    return Err(format!("--list: one of {}", lists::FILES.join(", ")));
                }
                o.lists.push(l);
            }
            "--no-install" => o.install = false,
            "--keep" => o.keep = true,
            "--no-pam" => o.no_pam = true,
            s if s.starts_with('-') => return Err(format!("unknown option `{s}` for regress")),
            name => o.tests.push(name.trim_end_matches(".sh").to_string()),
        }
    }
    if o.openssh && o.sshd.is_some() {
        return Err("--openssh and --sshd exclude each other".into());
    }
    Ok(o)
}

/// `cargo xtask regress [OPTIONS] [TEST...]`.
pub fn run(args: &[String]) -> Result<(), String> {
    let o = parse(args)?;
    run_with(&o)
}

/// The regress step of `cargo xtask test`: the must-pass list (any other result fails
/// the step) and the known failures (one that passes fails the step, so that it moves
/// to must-pass.txt); the no-server tests are left out, they test no server. Against
/// sisu-sshd today that is 15 to 20 minutes on 2 cores (see the README). `openssh` points it at
/// OpenSSH's sshd, where every test of both lists must pass.
pub fn ci(openssh: bool) -> Result<(), String> {
    let o = Options {
        openssh,
        sshd: None,
        timeout: Duration::from_secs(DEFAULT_TIMEOUT),
        port: DEFAULT_PORT,
        install: false,
        keep: false,
        no_pam: false,
        lists: vec!["must-pass".into(), "known-failures".into()],
        tests: Vec::new(),
    };
    run_with(&o)
}

fn run_with(o: &Options) -> Result<(), String> {
    if o.install {
        deps::ensure(NEEDS)?;
    }
    if !Path::new(SUITE).join("test-exec.sh").is_file() {
        return Err(format!("{SUITE} is missing: apt-get install openssh-tests"));
    }
    let sshd = match (&o.sshd, o.openssh) {
        (Some(p), _) => fs::canonicalize(p).map_err(|e| format!("{}: {e}", p.display()))?,
        (None, true) => PathBuf::from(OPENSSH_SSHD),
        (None, false) => bench::build_sisu()?,
    };
    let server = if o.openssh { "openssh" } else { "sisu" };
    let lists = Lists::load(&proc::repo_root().join("xtask/regress"))?;
    let suite_tests = suite_tests()?;
    check_lists(&lists, &suite_tests)?;

    let mut names: Vec<String> = o.tests.clone();
    for l in &o.lists {
        names.extend(lists.names_in(l));
    }
    if o.tests.is_empty() && o.lists.is_empty() {
        names = suite_tests.clone();
    }
    if names.is_empty() {
        eprintln!("xtask: regress: no tests to run");
        return Ok(());
    }
    // In the suite's order, each once.
    names.sort_by_key(|n| {
        suite_tests
            .iter()
            .position(|t| t == n)
            .unwrap_or(usize::MAX)
    });
    names.dedup();
    for n in &names {
        if !Path::new(SUITE).join(format!("{n}.sh")).is_file() {
            return Err(format!("no test {n}.sh in {SUITE}"));
        }
    }

    let out = proc::repo_root().join("target/regress").join(server);
    let earlier = reap::stop_earlier(&format!("{}/", out.display()));
    if earlier > 0 {
        eprintln!("xtask: regress: stopped {earlier} processes an earlier run left behind");
    }
    // Only what this run replaces goes: the logs of tests it does not run stay.
    for stale in names
        .iter()
        .map(String::as_str)
        .chain(["regress", ".suite"])
    {
        let _ = fs::remove_dir_all(out.join(stale));
    }
    fs::create_dir_all(&out).map_err(|e| format!("mkdir {}: {e}", out.display()))?;
    let pristine = out.join(".suite");
    prepare_suite(&pristine, o.no_pam)?;

    eprintln!(
        "xtask: regress: {} tests against {} ({}), {} s limit each; logs in {}/<test>/",
        names.len(),
        sshd.display(),
        server,
        o.timeout.as_secs(),
        out.display()
    );
    eprintln!(
        "xtask: regress: no security-key host keys in test-exec.sh (they need a provider \
         in the server); security-key user keys through the suite's sk-dummy"
    );
    if o.no_pam {
        eprintln!(
            "xtask: regress: `UsePAM yes` in test-exec.sh's server config made `UsePAM no` \
             (--no-pam)"
        );
    }
    let started = Instant::now();
    let mut results = Vec::new();
    for (i, name) in names.iter().enumerate() {
        let r = run_one(o, &sshd, &pristine, &out, name)?;
        // Not eprintln!, which panics when stderr cannot be written (a full disk):
        // the run must go on to stop what its tests started.
        let _ = writeln!(
            std::io::stderr(),
            "xtask: regress: [{:>3}/{}] {:<22} {:<7} {:>6.1}s  {}",
            i + 1,
            names.len(),
            name,
            r.outcome.as_str(),
            r.secs,
            r.note
        );
        results.push(r);
    }
    let _ = fs::remove_dir_all(&pristine);
    let total = started.elapsed();
    write_tsv(&out.join("results.tsv"), &results, &lists)?;
    report(&results, &lists, o.openssh, total, &out)
}

/// The suite's test list: `LTESTS` in its Makefile, then its `INTEROP_TESTS` whose
/// peers are installed (putty-*: plink and puttygen; conch-*: conch3).
fn suite_tests() -> Result<Vec<String>, String> {
    let make = fs::read_to_string(Path::new(SUITE).join("Makefile"))
        .map_err(|e| format!("{SUITE}/Makefile: {e}"))?;
    let mut tests = make_list(&make, "LTESTS");
    for t in make_list(&make, "INTEROP_TESTS") {
        let have_peer = if t.starts_with("putty") {
            proc::have("plink") && proc::have("puttygen")
        } else if t.starts_with("conch") {
            proc::have("conch3")
        } else {
            true
        };
        if have_peer {
            tests.push(t);
        }
    }
    if tests.is_empty() {
        return Err(format!("no LTESTS in {SUITE}/Makefile"));
    }
    Ok(tests)
}

/// The words of `VAR=` in a Makefile, over `\` continuation lines.
fn make_list(make: &str, var: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut inside = false;
    for line in make.lines() {
        let body = if inside {
            line
        } else if let Some(rest) = line
            .strip_prefix(var)
            .and_then(|r| r.trim_start().strip_prefix('='))
        {
            inside = true;
            rest
        } else {
            continue;
        };
        let continued = body.trim_end().ends_with('\\');
        words.extend(
            body.trim_end()
                .trim_end_matches('\\')
                .split_whitespace()
                .map(String::from),
        );
        if !continued {
            break;
        }
    }
    words
}

/// Every listed test must exist in the suite; every suite test should be listed.
fn check_lists(lists: &Lists, suite: &[String]) -> Result<(), String> {
    for name in lists.by_name.keys() {
        if !Path::new(SUITE).join(format!("{name}.sh")).is_file() {
            return Err(format!(
                "xtask/regress lists `{name}`, which {SUITE} does not have"
            ));
        }
    }
    let unlisted: Vec<&str> = suite
        .iter()
        .filter(|t| lists.get(t).is_none())
        .map(String::as_str)
        .collect();
    if !unlisted.is_empty() {
        eprintln!(
            "xtask: regress: warning: on no list in xtask/regress: {}",
            unlisted.join(" ")
        );
    }
    Ok(())
}

/// Copy the suite to `dir` without its unit tests, and make the changes the module
/// docs describe.
fn prepare_suite(dir: &Path, no_pam: bool) -> Result<(), String> {
    copy_tree(Path::new(SUITE), dir)?;
    let _ = fs::remove_dir_all(dir.join("unittests"));
    let exec = dir.join("test-exec.sh");
    let mut text = fs::read_to_string(&exec).map_err(|e| format!("{}: {e}", exec.display()))?;
    text = replace_line(&text, SK_HOSTKEY_LINE, Some(NO_SK_HOSTKEY_LINE))?;
    for line in SERVER_PROVIDER_LINES {
        text = replace_line(&text, line, None)?;
    }
    if no_pam {
        text = replace_line(&text, PAM_LINE, Some(NO_PAM_LINE))?;
    }
    fs::write(&exec, text).map_err(|e| e.to_string())?;
    for (file, from, to) in SK_HOSTKEY_TESTS {
        let path = dir.join(file);
        let text = fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        fs::write(&path, replace_line(&text, from, Some(to))?).map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// `text` with its one line `from` replaced by `to` (or left out); an error naming the
/// suite when there is not exactly one such line (the suite changed under us).
fn replace_line(text: &str, from: &str, to: Option<&str>) -> Result<String, String> {
    if text.lines().filter(|l| *l == from).count() != 1 {
        return Err(format!(
            "the suite in {SUITE} has changed: not one line {from:?} to change"
        ));
    }
    let changed: Vec<&str> = text
        .lines()
        .filter_map(|l| if l == from { to } else { Some(l) })
        .collect();
    Ok(changed.join("\n") + "\n")
}

/// `cp -a FROM TO`.
fn copy_tree(from: &Path, to: &Path) -> Result<(), String> {
    let out = Command::new("cp")
        .arg("-a")
        .arg(from)
        .arg(to)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cp: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "cp -a {} {}: {}",
            from.display(),
            to.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// The first port from `from` on where it and the next four are free on 127.0.0.1
/// and ::1.
fn free_port(from: u16) -> Result<u16, String> {
    let free = |p: u16| {
        TcpListener::bind(("127.0.0.1", p)).is_ok()
            && match TcpListener::bind((Ipv6Addr::LOCALHOST, p)) {
                Ok(_) => true,
                // No IPv6 on this machine: nothing to collide with.
                Err(e) => e.kind() == std::io::ErrorKind::AddrNotAvailable,
            }
    };
    (from..from.saturating_add(PORT_TRIES))
        .find(|&p| (0..5).all(|i| p.checked_add(i).is_some_and(free)))
        .ok_or_else(|| {
            format!(
                "no free port in {from}..{}",
                from.saturating_add(PORT_TRIES)
            )
        })
}

fn run_one(
    o: &Options,
    sshd: &Path,
    pristine: &Path,
    out: &Path,
    name: &str,
) -> Result<Ran, String> {
    // Every test runs in `<out>/regress`, as Debian's run-tests runs the suite in
    // `$tmp/regress`, and is renamed to `<out>/<name>` afterwards: a directory named
    // after the test would put words such as "hostkey" into every path, and tests edit
    // configurations with `grep -vi hostkey` and the like.
    let dir = out.join("regress");
    let _ = fs::remove_dir_all(&dir);
    copy_tree(pristine, &dir)?;
    let port = free_port(o.port)?;
    let log_path = dir.join("output.log");
    let log = fs::File::create(&log_path).map_err(|e| e.to_string())?;
    let err = log.try_clone().map_err(|e| e.to_string())?;
    let stdin = fs::File::open("/dev/zero").map_err(|e| format!("/dev/zero: {e}"))?;
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let marker_value = format!("{}-{nanos}-{name}", std::process::id());
    let d = dir.display().to_string();
    let mut cmd = Command::new("setsid");
    cmd.arg("sh")
        .arg(dir.join("test-exec.sh"))
        .arg(&dir)
        .arg(dir.join(format!("{name}.sh")))
        .current_dir(&dir)
        .env_remove("SSH_AUTH_SOCK")
        .env("SISU_REGRESS_MARKER", &marker_value)
        // What the Makefile passes on to t-exec (its command-line variables are in the
        // environment of its recipes), as Debian's run-tests sets them, with SUDO empty:
        // we run as root.
        .env("SUDO", "")
        .env("TEST_ENV", "MALLOC_OPTIONS=CFGJRSUX")
        .env("TEST_SHELL", "sh")
        .env("OBJ", &d)
        .env("BUILDDIR", &d)
        .env("TEST_SSH_SSHD", sshd)
        .env("TEST_SSH_SSH", "ssh")
        .env("TEST_SSH_SFTPSERVER", "/usr/lib/openssh/sftp-server")
        .env("TEST_SSH_PLINK", "plink")
        .env("TEST_SSH_PUTTYGEN", "puttygen")
        .env("TEST_SSH_CONCH", "conch3")
        .env("TEST_SSH_IPV6", "yes")
        .env("TEST_SSH_ECC", "yes")
        .env("TEST_SSH_UNSAFE_PERMISSIONS", "1")
        .env("TEST_SSH_PORT", port.to_string())
        .stdin(Stdio::from(stdin))
        .stdout(Stdio::from(log))
        .stderr(Stdio::from(err));
    let start = Instant::now();
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("setsid sh test-exec.sh: {e}"))?;
    // Our child is no process-group leader, so setsid(1) calls setsid() itself and then
    // runs sh: the session id is the child's PID.
    let tracker = reap::Tracker {
        sid: child.id(),
        since: reap::start_time(child.id()).unwrap_or(0),
        marker: format!("SISU_REGRESS_MARKER={marker_value}"),
        dir: format!("{d}/"),
    };
    let deadline = start + o.timeout;
    let mut next_disk_check = start;
    let ended: Ended = loop {
        match child.try_wait() {
            Ok(Some(s)) => break Ended::Exited(s),
            Ok(None) if Instant::now() >= deadline => break Ended::Timeout,
            Ok(None) => {
                if Instant::now() >= next_disk_check {
                    next_disk_check = Instant::now() + DISK_CHECK_EVERY;
                    if let Some(why) = disk_problem(&dir) {
                        break Ended::Disk(why);
                    }
                }
                thread::sleep(Duration::from_millis(100));
            }
            Err(e) => return Err(format!("wait for {name}: {e}")),
        }
    };
    let secs = start.elapsed().as_secs_f64();
    let left = tracker.stop_all();
    if !matches!(ended, Ended::Exited(_)) {
        let _ = child.kill();
    }
    let _ = child.wait();
    let output = read_lossy(&log_path);
    let (outcome, mut note) = match ended {
        // regress.log holds the test's last trace/verbose line: the step it hung in.
        Ended::Timeout => (
            Outcome::Timeout,
            format!(
                "after {} s in: {}",
                o.timeout.as_secs(),
                last_line(&read_lossy(&dir.join("regress.log")))
            ),
        ),
        Ended::Disk(why) => (
            Outcome::Fail,
            format!(
                "stopped: {why}, in: {}",
                last_line(&read_lossy(&dir.join("regress.log")))
            ),
        ),
        Ended::Exited(s) => classify(s.success(), &output, &dir),
    };
    if matches!(outcome, Outcome::Fail) && note.starts_with("stopped: ") {
        // What filled the directory is of no use and may be huge.
        remove_big_files(&dir);
    }
    if left > 0 {
        note.push_str(&format!(" [stopped {left} leftover processes]"));
        let _ = fs::OpenOptions::new()
            .append(true)
            .open(&log_path)
            .and_then(|mut f| writeln!(f, "xtask: stopped {left} leftover processes by PID"));
    }
    let kept = out.join(name);
    let _ = fs::remove_dir_all(&kept);
    fs::rename(&dir, &kept).map_err(|e| format!("rename {}: {e}", dir.display()))?;
    if !o.keep && matches!(outcome, Outcome::Pass | Outcome::Skip) {
        trim(&kept);
    }
    Ok(Ran {
        name: name.to_string(),
        outcome,
        secs,
        note: note.trim().to_string(),
    })
}

/// How a test's run ended.
enum Ended {
    Exited(ExitStatus),
    Timeout,
    /// Stopped because it filled its directory or the disk (why).
    Disk(String),
}

/// Why a running test must be stopped for the disk's sake: its directory holds more
/// than [`MAX_TEST_BYTES`], or the file system has less than [`MIN_FREE_BYTES`] left
/// (which also catches a file the test deleted while something still writes to it).
/// A test whose client's stdin is /dev/zero fills the disk at hundreds of MB/s when
/// the server runs `cat` on it (agent-restrict's forced command without
/// ExposeAuthInfo does).
fn disk_problem(dir: &Path) -> Option<String> {
    let used = dir_bytes(dir, 0);
    if used > MAX_TEST_BYTES {
        return Some(format!(
            "its directory grew past {} MiB",
            MAX_TEST_BYTES >> 20
        ));
    }
    match free_bytes(dir) {
        Some(free) if free < MIN_FREE_BYTES => {
            Some(format!("only {} MiB left on the file system", free >> 20))
        }
        _ => None,
    }
}

/// The bytes of the files under `dir` (symbolic links not followed, bounded depth).
fn dir_bytes(dir: &Path, depth: usize) -> u64 {
    if depth > 4 {
        return 0;
    }
    let Ok(entries) = fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .take(10_000)
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => dir_bytes(&e.path(), depth + 1),
            Ok(m) if m.is_file() => m.len(),
            _ => 0,
        })
        .sum()
}

/// Free bytes on the file system holding `dir` (`df -Pk`).
fn free_bytes(dir: &Path) -> Option<u64> {
    let out = proc::capture(Command::new("df").arg("-Pk").arg(dir))?;
    let kib: u64 = out
        .lines()
        .nth(1)?
        .split_whitespace()
        .nth(3)?
        .parse()
        .ok()?;
    Some(kib * 1024)
}

/// Remove files larger than 64 MiB from a stopped test's directory.
fn remove_big_files(dir: &Path) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        if e.metadata()
            .is_ok_and(|m| m.is_file() && m.len() > 64 << 20)
        {
            let _ = fs::remove_file(e.path());
        }
    }
}

/// PASS, SKIP or FAIL from the exit status and what the test printed.
fn classify(success: bool, output: &str, dir: &Path) -> (Outcome, String) {
    let ok = output.lines().any(|l| l.starts_with("ok "));
    let skipped = |l: &&str| {
        let lower = l.trim().to_ascii_lowercase();
        lower.starts_with("skip") || lower.contains("skipped") || lower.ends_with("not enabled")
    };
    if success && ok {
        // A test may skip a part of itself and still pass.
        let part = output.lines().find(skipped).map(printable);
        return (
            Outcome::Pass,
            part.map(|p| format!("partly skipped: {p}"))
                .unwrap_or_default(),
        );
    }
    if success {
        let why = output.lines().find(skipped).map(printable);
        return match why {
            Some(w) => (Outcome::Skip, w),
            None => (
                Outcome::Fail,
                format!("exit 0 without `ok`; last line: {}", last_line(output)),
            ),
        };
    }
    (Outcome::Fail, first_failure(output, dir))
}

/// The first `FAIL:`/`FATAL:` line the suite saved, else the test's last line.
fn first_failure(output: &str, dir: &Path) -> String {
    let saved = read_lossy(&dir.join("failed-regress.log"));
    saved
        .lines()
        .find(|l| l.starts_with("FAIL: ") || l.starts_with("FATAL: "))
        .map(printable)
        .unwrap_or_else(|| last_line(output))
}

/// A file as text, with bytes that are not UTF-8 replaced (tests print binary data).
fn read_lossy(path: &Path) -> String {
    fs::read(path)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default()
}

/// One line for the table: control characters and what is not ASCII become `?`, and
/// at most [`NOTE_MAX`] characters are kept.
fn printable(line: &str) -> String {
    let mut s: String = line
        .trim()
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() || c == ' ' {
                c
            } else {
                '?'
            }
        })
        .take(NOTE_MAX)
        .collect();
    if line.trim().chars().count() > NOTE_MAX {
        s.push_str("...");
    }
    s
}

/// The last line that is not empty and not an sshd `debugN:` line (`sshd -t` at
/// LogLevel DEBUG3 prints those into the test's output).
fn last_line(text: &str) -> String {
    printable(
        text.lines()
            .rev()
            .find(|l| !l.trim().is_empty() && !l.starts_with("debug"))
            .unwrap_or(""),
    )
}

/// Keep only a passed or skipped test's logs.
fn trim(dir: &Path) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let path = e.path();
        let is_log = path.extension().is_some_and(|x| x == "log");
        if path.is_dir() && !path.is_symlink() {
            let _ = fs::remove_dir_all(&path);
        } else if !is_log {
            let _ = fs::remove_file(&path);
        }
    }
}

fn write_tsv(path: &Path, results: &[Ran], lists: &Lists) -> Result<(), String> {
    let mut s = String::from("test\tresult\tseconds\tlist\tnote\n");
    for r in results {
        let list = lists.get(&r.name).map(Listed::label).unwrap_or_default();
        s.push_str(&format!(
            "{}\t{}\t{:.1}\t{}\t{}\n",
            r.name,
            r.outcome.as_str(),
            r.secs,
            list,
            r.note.replace('\t', " ")
        ));
    }
    fs::write(path, s).map_err(|e| format!("{}: {e}", path.display()))
}

/// Print the table and the verdicts; Err when the run must fail: against sisu-sshd a
/// must-pass test that did not pass or a known failure that passed, against OpenSSH
/// any failure of a test that talks to the server.
fn report(
    results: &[Ran],
    lists: &Lists,
    openssh: bool,
    total: Duration,
    out: &Path,
) -> Result<(), String> {
    let width = results
        .iter()
        .map(|r| r.name.len())
        .max()
        .unwrap_or(4)
        .max(4);
    println!();
    println!(
        "{:<width$}  {:<7}  {:>7}  {:<14}  note",
        "test", "result", "seconds", "list"
    );
    for r in results {
        let list = lists.get(&r.name).map(Listed::label).unwrap_or("-".into());
        println!(
            "{:<width$}  {:<7}  {:>7.1}  {:<14}  {}",
            r.name,
            r.outcome.as_str(),
            r.secs,
            list,
            r.note
        );
    }
    let count = |o: Outcome| results.iter().filter(|r| r.outcome == o).count();
    let no_server = results
        .iter()
        .filter(|r| matches!(lists.get(&r.name), Some(Listed::NoServer { .. })))
        .count();
    println!(
        "\n{} tests in {:.0} s: {} PASS, {} FAIL, {} SKIP, {} TIMEOUT ({} of them on \
         no-server.txt, which count for nothing); logs in {}",
        results.len(),
        total.as_secs_f64(),
        count(Outcome::Pass),
        count(Outcome::Fail),
        count(Outcome::Skip),
        count(Outcome::Timeout),
        no_server,
        out.display()
    );
    let broken = |r: &&Ran| matches!(r.outcome, Outcome::Fail | Outcome::Timeout);
    let mut problems = Vec::new();
    if openssh {
        for r in results.iter().filter(broken) {
            if let Some((_, why)) = OPENSSH_EXPECTED.iter().find(|(n, _)| *n == r.name) {
                println!("expected: {} fails against OpenSSH here: {why}", r.name);
            }
        }
        let failed: Vec<&str> = results
            .iter()
            .filter(broken)
            .filter(|r| !OPENSSH_EXPECTED.iter().any(|(n, _)| *n == r.name))
            .map(|r| r.name.as_str())
            .collect();
        if !failed.is_empty() {
            problems.push(format!(
                "against OpenSSH's sshd (the test set-up is broken?): {}",
                failed.join(" ")
            ));
        }
    } else {
        let must: Vec<&str> = results
            .iter()
            .filter(|r| r.outcome != Outcome::Pass)
            .filter(|r| lists.get(&r.name) == Some(&Listed::MustPass))
            .map(|r| r.name.as_str())
            .collect();
        if !must.is_empty() {
            problems.push(format!(
                "must-pass tests that did not pass: {}",
                must.join(" ")
            ));
        }
        let now_pass: Vec<&str> = results
            .iter()
            .filter(|r| r.outcome == Outcome::Pass)
            .filter(|r| matches!(lists.get(&r.name), Some(Listed::Known { .. })))
            .map(|r| r.name.as_str())
            .collect();
        if !now_pass.is_empty() {
            let banner = "!".repeat(78);
            println!("\n{banner}");
            println!(
                "KNOWN FAILURES NOW PASS: {}\nmove them from xtask/regress/known-failures.txt \
                 to must-pass.txt",
                now_pass.join(" ")
            );
            println!("{banner}");
            problems.push(format!("known failures now pass: {}", now_pass.join(" ")));
        }
    }
    let unlisted: Vec<&str> = results
        .iter()
        .filter(|r| lists.get(&r.name).is_none())
        .map(|r| r.name.as_str())
        .collect();
    if !unlisted.is_empty() {
        println!("on no list: {}", unlisted.join(" "));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("; "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_make_lists() {
        let make = "A= x\nLTESTS= \tone \\\n\t\ttwo \\\n\t\tthree\nB= y\nINTEROP_TESTS=\tp q\n";
        assert_eq!(make_list(make, "LTESTS"), ["one", "two", "three"]);
        assert_eq!(make_list(make, "INTEROP_TESTS"), ["p", "q"]);
        assert!(make_list(make, "NONE").is_empty());
    }

    #[test]
    fn classifies_output() {
        let d = Path::new("/nonexistent");
        assert_eq!(
            classify(true, "run\nok simple connect\n", d).0,
            Outcome::Pass
        );
        let (o, note) = classify(true, "SKIPPED: TEST_SSH_HOSTBASED_AUTH not set.\n", d);
        assert_eq!(
            (o, note.as_str()),
            (Outcome::Skip, "SKIPPED: TEST_SSH_HOSTBASED_AUTH not set.")
        );
        assert_eq!(
            classify(true, "Skipped: running as root\n", d).0,
            Outcome::Skip
        );
        assert_eq!(
            classify(true, "conch interop tests not enabled\n", d).0,
            Outcome::Skip
        );
        let (o, note) = classify(true, "x: (skipped: no)\nok sftp glob\n", d);
        assert_eq!(o, Outcome::Pass);
        assert!(note.starts_with("partly skipped"));
        assert_eq!(classify(true, "nothing\n", d).0, Outcome::Fail);
        let (o, note) = classify(false, "bad thing\nfailed x\n", d);
        assert_eq!((o, note.as_str()), (Outcome::Fail, "failed x"));
    }
}
