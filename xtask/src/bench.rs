//! `cargo xtask bench`: sisu-sshd (release build) and OpenSSH's sshd side by side on
//! 127.0.0.1, with the same client and the same test user.
//!
//! Figures: download and upload throughput per cipher suite (`head -c` of /dev/zero on
//! one side, `/dev/null` on the other), the time for N sequential `ssh host true`, and
//! the server's CPU time per GiB and per connection: the listener's own utime+stime
//! plus its descendants' (sampled from /proc while the run goes, see [`Sampler`]); and
//! the PSS (`/proc/PID/smaps_rollup`) of all processes of one idle `ssh -N` session.

use crate::deps;
use crate::proc::{self, capture};
use crate::server::BenchServer;
use std::fs;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// Deadline for one client run.
const RUN_TIMEOUT: Duration = Duration::from_secs(600);
/// How long to wait for the listener to reap its sessions after a run.
const REAP_TIMEOUT: Duration = Duration::from_secs(5);

/// The suites measured: (label, client arguments).
const SUITES: &[(&str, &[&str])] = &[
    (
        "chacha20-poly1305",
        &["-c", "chacha20-poly1305@openssh.com"],
    ),
    ("aes128-gcm", &["-c", "aes128-gcm@openssh.com"]),
    (
        "aes128-ctr+hmac-sha2-256-etm",
        &["-c", "aes128-ctr", "-m", "hmac-sha2-256-etm@openssh.com"],
    ),
];

struct Options {
    mib: u64,
    connections: u32,
    sisu: bool,
    openssh: bool,
}

fn parse(args: &[String]) -> Result<Options, String> {
    let mut o = Options {
        mib: 1024,
        connections: 50,
        sisu: true,
        openssh: true,
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = || it.next().ok_or(format!("{a} needs a value"));
        match a.as_str() {
            "--mib" => o.mib = value()?.parse().map_err(|e| format!("--mib: {e}"))?,
            "--connections" => {
                o.connections = value()?
                    .parse()
                    .map_err(|e| format!("--connections: {e}"))?
            }
            "--only" => match value()?.as_str() {
                "sisu" => o.openssh = false,
                "openssh" => o.sisu = false,
                other => return Err(format!("--only sisu|openssh, not {other}")),
            },
            other => return Err(format!("unknown option `{other}` for bench")),
        }
    }
    Ok(o)
}

/// One measured figure for one server: wall seconds and server CPU seconds.
#[derive(Clone, Copy)]
struct Sample {
    wall: f64,
    cpu: f64,
}

/// (ppid, own utime+stime ticks, reaped children's cutime+cstime ticks) of a process.
fn stat(pid: u32) -> Option<(u32, u64, u64)> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the ")" that closes the command name: state is field 3 overall,
    // ppid 4, utime 14, stime 15, cutime 16, cstime 17.
    let rest = &stat[stat.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let n = |i: usize| f.get(i).and_then(|v| v.parse::<u64>().ok());
    Some((n(1)? as u32, n(11)? + n(12)?, n(13)? + n(14)?))
}

/// Every live descendant of `root`, with its own CPU ticks.
fn descendants(root: u32) -> Vec<(u32, u64)> {
    let all: Vec<(u32, u32, u64)> = fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter_map(|pid| stat(pid).map(|(ppid, own, _)| (pid, ppid, own)))
        .collect();
    let mut tree = vec![root];
    let mut out = Vec::new();
    let mut i = 0;
    while i < tree.len() {
        let parent = tree[i];
        for &(pid, ppid, own) in &all {
            if ppid == parent && !tree.contains(&pid) {
                tree.push(pid);
                out.push((pid, own));
            }
        }
        i += 1;
    }
    out
}

/// Samples the server's process tree while a measurement runs: the last seen own CPU
/// time of every descendant. Not every process waits for its children (OpenSSH's monitor
/// does not reap the post-auth child into its cutime), so cutime alone misses the
/// sessions' crypto; sampling misses at most one interval per short-lived process.
/// TODO: a cgroup per server would give exact figures.
struct Sampler {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    handle: thread::JoinHandle<std::collections::HashMap<u32, u64>>,
}

/// How often the sampler looks at the process tree.
const SAMPLE_INTERVAL: Duration = Duration::from_millis(10);

impl Sampler {
    fn start(root: u32) -> Self {
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = stop.clone();
        let handle = thread::spawn(move || {
            let mut seen = std::collections::HashMap::new();
            loop {
                for (pid, own) in descendants(root) {
                    seen.insert(pid, own);
                }
                if flag.load(std::sync::atomic::Ordering::Relaxed) {
                    return seen;
                }
                thread::sleep(SAMPLE_INTERVAL);
            }
        });
        Sampler { stop, handle }
    }

    /// Stop and return the total own ticks of the descendants seen.
    fn finish(self) -> u64 {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        self.handle.join().map(|m| m.values().sum()).unwrap_or(0)
    }
}

/// Wait until no process has the listener as its parent (sessions reaped), bounded.
fn wait_reaped(pid: u32) {
    let deadline = Instant::now() + REAP_TIMEOUT;
    while Instant::now() < deadline && !descendants(pid).is_empty() {
        thread::sleep(Duration::from_millis(20));
    }
}

fn wait_bounded(child: &mut Child, what: &str) -> Result<(), String> {
    let deadline = Instant::now() + RUN_TIMEOUT;
    loop {
        match child.try_wait() {
            Ok(Some(s)) if s.success() => return Ok(()),
            Ok(Some(s)) => return Err(format!("{what}: {s}")),
            Ok(None) if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("{what}: timed out"));
            }
            Ok(None) => thread::sleep(Duration::from_millis(5)),
            Err(e) => return Err(format!("{what}: {e}")),
        }
    }
}

/// Run `work` against `server`, timing it and charging the server's CPU.
fn measure(
    server: &BenchServer,
    ticks: f64,
    work: impl FnOnce() -> Result<(), String>,
) -> Result<Sample, String> {
    wait_reaped(server.pid());
    let (_, own0, reaped0) = stat(server.pid()).ok_or("listener is gone")?;
    let sampler = Sampler::start(server.pid());
    let t0 = Instant::now();
    let r = work();
    let wall = t0.elapsed().as_secs_f64();
    wait_reaped(server.pid());
    let sampled = sampler.finish();
    r?;
    let (_, own1, reaped1) = stat(server.pid()).ok_or("listener is gone")?;
    // The larger of what the kernel charged to the listener's reaped children and what
    // the sampler saw, plus the listener's own time.
    let tree = sampled.max(reaped1 - reaped0);
    let cpu = (own1 - own0 + tree) as f64 / ticks;
    Ok(Sample { wall, cpu })
}

fn download(server: &BenchServer, suite: &[&str], bytes: u64) -> Result<(), String> {
    let mut c = server.ssh(suite);
    c.arg(format!("head -c {bytes} /dev/zero"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
    let mut child = c.spawn().map_err(|e| e.to_string())?;
    wait_bounded(&mut child, "download")
}

fn upload(server: &BenchServer, suite: &[&str], bytes: u64) -> Result<(), String> {
    let mut head = Command::new("head")
        .arg("-c")
        .arg(bytes.to_string())
        .arg("/dev/zero")
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| e.to_string())?;
    let feed = head.stdout.take().ok_or("no pipe")?;
    let mut c = server.ssh(suite);
    c.arg("cat > /dev/null")
        .stdin(Stdio::from(feed))
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
    let mut child = c.spawn().map_err(|e| e.to_string())?;
    let r = wait_bounded(&mut child, "upload");
    let _ = head.kill();
    let _ = head.wait();
    r
}

fn connections(server: &BenchServer, n: u32) -> Result<(), String> {
    for _ in 0..n {
        let mut c = server.ssh(&[]);
        c.arg("true")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit());
        let mut child = c.spawn().map_err(|e| e.to_string())?;
        wait_bounded(&mut child, "ssh host true")?;
    }
    Ok(())
}

/// How long an idle session is given to settle (logged in, processes started) before
/// its memory is read.
const IDLE_SETTLE: Duration = Duration::from_millis(1500);
/// Idle sessions measured, one at a time; the median is reported.
const IDLE_SAMPLES: usize = 3;

/// `Pss:` of `/proc/PID/smaps_rollup`, in kB.
fn pss_kb(pid: u32) -> Option<u64> {
    let text = fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix("Pss:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// PSS of all processes of one idle session (`ssh -N`: logged in, no command), in kB:
/// the sum over the listener's descendants while that one session is open, and how
/// many processes that is. The median of [`IDLE_SAMPLES`] sessions.
fn idle_session_pss(server: &BenchServer) -> Result<(f64, usize), String> {
    let mut samples = Vec::new();
    for _ in 0..IDLE_SAMPLES {
        wait_reaped(server.pid());
        let mut c = server.ssh(&[]);
        c.arg("-N")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit());
        let mut child = c.spawn().map_err(|e| e.to_string())?;
        thread::sleep(IDLE_SETTLE);
        let procs = descendants(server.pid());
        let total: u64 = procs.iter().filter_map(|&(pid, _)| pss_kb(pid)).sum();
        let _ = child.kill();
        let _ = child.wait();
        if procs.is_empty() {
            return Err("no session process appeared".into());
        }
        samples.push((total, procs.len()));
    }
    samples.sort_unstable();
    let (kb, n) = samples[samples.len() / 2];
    Ok((kb as f64, n))
}

/// Build the release sisu-sshd; its path.
pub fn build_sisu() -> Result<PathBuf, String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    proc::stream(Command::new(cargo).current_dir(proc::repo_root()).args([
        "build",
        "--release",
        "-p",
        "sisu-daemon",
        "--bin",
        "sisu-sshd",
    ]))?;
    Ok(proc::repo_root().join("target/release/sisu-sshd"))
}

fn bench_user() -> Result<String, String> {
    if proc::is_root() {
        deps::ensure_test_user()?;
        fs::create_dir_all("/run/sshd").map_err(|e| e.to_string())?;
        Ok(deps::TEST_USER.to_string())
    } else {
        capture(Command::new("id").arg("-un"))
            .map(|s| s.trim().to_string())
            .ok_or_else(|| "cannot find the current user".to_string())
    }
}

/// A row of the report: a figure for each server, and how to show it.
struct Row {
    name: String,
    unit: &'static str,
    sisu: Result<f64, String>,
    openssh: Result<f64, String>,
}

fn fmt_cell(v: &Result<f64, String>) -> String {
    match v {
        Ok(x) if *x >= 100.0 => format!("{x:.0}"),
        Ok(x) => format!("{x:.2}"),
        Err(_) => "n/a".into(),
    }
}

/// `cargo xtask bench`.
pub fn run(args: &[String]) -> Result<(), String> {
    let o = parse(args)?;
    let user = bench_user()?;
    let ticks: f64 = capture(Command::new("getconf").arg("CLK_TCK"))
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100.0);
    let base = std::env::temp_dir().join(format!("sisu-bench-{}", std::process::id()));
    let start = |binary: Result<PathBuf, String>, openssh: bool, name: &str| {
        binary.and_then(|b| BenchServer::start(&b, openssh, base.join(name), &user))
    };
    let sisu = if o.sisu {
        start(build_sisu(), false, "sisu")
    } else {
        Err("skipped".into())
    };
    let openssh = if o.openssh {
        start(Ok(PathBuf::from("/usr/sbin/sshd")), true, "openssh")
    } else {
        Err("skipped".into())
    };
    if let Err(e) = &sisu {
        eprintln!("xtask: sisu-sshd not measured: {e}");
    }
    if let Err(e) = &openssh {
        eprintln!("xtask: OpenSSH sshd not measured: {e}");
    }
    let bytes = o.mib << 20;
    let gib = bytes as f64 / (1u64 << 30) as f64;
    let mib = o.mib as f64;
    let mut rows: Vec<Row> = Vec::new();
    // Run one measurement on both servers (one after the other, never at once).
    let both = |f: &dyn Fn(&BenchServer) -> Result<Sample, String>| {
        let one = |s: &Result<BenchServer, String>| match s {
            Ok(s) => f(s),
            Err(e) => Err(e.clone()),
        };
        (one(&sisu), one(&openssh))
    };
    for (label, suite) in SUITES {
        for dir in ["download", "upload"] {
            eprintln!("xtask: {dir} {} MiB with {label}", o.mib);
            let (s, x) = both(&|srv| {
                measure(srv, ticks, || {
                    if dir == "download" {
                        download(srv, suite, bytes)
                    } else {
                        upload(srv, suite, bytes)
                    }
                })
            });
            rows.push(Row {
                name: format!("{dir} {label}"),
                unit: "MiB/s",
                sisu: s.as_ref().map(|v| mib / v.wall).map_err(Clone::clone),
                openssh: x.as_ref().map(|v| mib / v.wall).map_err(Clone::clone),
            });
            rows.push(Row {
                name: format!("  server CPU, {dir} {label}"),
                unit: "s/GiB",
                sisu: s.map(|v| v.cpu / gib),
                openssh: x.map(|v| v.cpu / gib),
            });
        }
    }
    eprintln!("xtask: {} sequential `ssh host true`", o.connections);
    let n = f64::from(o.connections.max(1));
    let (s, x) = both(&|srv| measure(srv, ticks, || connections(srv, o.connections)));
    rows.push(Row {
        name: format!("{} x `ssh host true`, per connection", o.connections),
        unit: "ms",
        sisu: s
            .as_ref()
            .map(|v| v.wall * 1000.0 / n)
            .map_err(Clone::clone),
        openssh: x
            .as_ref()
            .map(|v| v.wall * 1000.0 / n)
            .map_err(Clone::clone),
    });
    rows.push(Row {
        name: "  server CPU per connection".into(),
        unit: "ms",
        sisu: s.map(|v| v.cpu * 1000.0 / n),
        openssh: x.map(|v| v.cpu * 1000.0 / n),
    });
    eprintln!("xtask: PSS of one idle session (`ssh -N`)");
    let one = |srv: &Result<BenchServer, String>| match srv {
        Ok(srv) => idle_session_pss(srv),
        Err(e) => Err(e.clone()),
    };
    let (s, x) = (one(&sisu), one(&openssh));
    let procs = |r: &Result<(f64, usize), String>| r.as_ref().map_or(0, |v| v.1);
    rows.push(Row {
        name: format!(
            "PSS per idle session ({} / {} processes)",
            procs(&s),
            procs(&x)
        ),
        unit: "kB",
        sisu: s.map(|v| v.0),
        openssh: x.map(|v| v.0),
    });
    print_report(&rows, &o, &user);
    drop(sisu);
    drop(openssh);
    let _ = fs::remove_dir_all(&base);
    Ok(())
}

fn print_report(rows: &[Row], o: &Options, user: &str) {
    println!();
    println!(
        "Sisu vs OpenSSH on 127.0.0.1 ({} MiB per transfer, user {user}, same ssh client)",
        o.mib
    );
    println!(
        "{:<52} {:>7} {:>10} {:>10} {:>13}",
        "figure", "unit", "sisu", "openssh", "sisu/openssh"
    );
    for r in rows {
        let ratio = match (&r.sisu, &r.openssh) {
            (Ok(a), Ok(b)) if *b > 0.0 => format!("{:.2}", a / b),
            _ => "n/a".into(),
        };
        println!(
            "{:<52} {:>7} {:>10} {:>10} {:>13}",
            r.name,
            r.unit,
            fmt_cell(&r.sisu),
            fmt_cell(&r.openssh),
            ratio
        );
    }
    for (who, errs) in [
        ("sisu", rows.iter().find_map(|r| r.sisu.as_ref().err())),
        (
            "openssh",
            rows.iter().find_map(|r| r.openssh.as_ref().err()),
        ),
    ] {
        if let Some(e) = errs {
            println!("{who}: n/a because: {e}");
        }
    }
}
