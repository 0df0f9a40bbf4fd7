//! `cargo xtask bench kex`: the cost of each key exchange on the server, and the
//! connection set-up rate of sisu-sshd against OpenSSH's sshd with default algorithms.
//!
//! - Server CPU time per key exchange, per method: `kex/examples/kex_bench.rs` in a
//!   release build runs many full in-memory server+client exchanges in one thread and
//!   times only the server's calls.
//! - Connection set-up: N sequential `ssh host true` against each server (started by
//!   [`BenchServer`]), both with their default algorithms and the same client, as
//!   connections per second and milliseconds per connection.

use crate::deps;
use crate::proc;
use crate::server::BenchServer;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Deadline for one `ssh host true`.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(60);

struct Options {
    iterations: u32,
    seconds: f64,
    connections: u32,
}

fn parse(args: &[String]) -> Result<Options, String> {
    let mut o = Options {
        iterations: 200,
        seconds: 3.0,
        connections: 50,
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = || it.next().ok_or(format!("{a} needs a value"));
        match a.as_str() {
            "--iterations" => o.iterations = value()?.parse().map_err(|e| format!("{a}: {e}"))?,
            "--seconds" => o.seconds = value()?.parse().map_err(|e| format!("{a}: {e}"))?,
            "--connections" => o.connections = value()?.parse().map_err(|e| format!("{a}: {e}"))?,
            other => return Err(format!("unknown option `{other}` for bench kex")),
        }
    }
    Ok(o)
}

fn cargo() -> Command {
    let mut c = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    c.current_dir(proc::repo_root());
    c
}

/// The user the benchmark logs in as (the test user when root).
fn bench_user() -> Result<String, String> {
    if proc::is_root() {
        deps::ensure_test_user()?;
        std::fs::create_dir_all("/run/sshd").map_err(|e| e.to_string())?;
        Ok(deps::TEST_USER.to_string())
    } else {
        proc::capture(Command::new("id").arg("-un"))
            .map(|s| s.trim().to_string())
            .ok_or_else(|| "cannot find the current user".to_string())
    }
}

/// Wall time of `n` sequential `ssh host true`.
fn connect_loop(server: &BenchServer, n: u32) -> Result<Duration, String> {
    let t0 = Instant::now();
    for _ in 0..n {
        let mut c = server.ssh(&[]);
        c.arg("true")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit());
        let mut child = c.spawn().map_err(|e| e.to_string())?;
        let deadline = Instant::now() + CONNECT_TIMEOUT;
        loop {
            match child.try_wait().map_err(|e| e.to_string())? {
                Some(s) if s.success() => break,
                Some(s) => return Err(format!("ssh host true: {s}")),
                None if Instant::now() >= deadline => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err("ssh host true: timed out".into());
                }
                None => std::thread::sleep(Duration::from_millis(2)),
            }
        }
    }
    Ok(t0.elapsed())
}

/// `cargo xtask bench kex`.
pub fn run(args: &[String]) -> Result<(), String> {
    let o = parse(args)?;
    eprintln!("xtask: server CPU per key exchange (release, in memory)");
    proc::stream(cargo().args([
        "run",
        "--release",
        "-p",
        "sisu-kex",
        "--example",
        "kex_bench",
        "--",
        &o.iterations.to_string(),
        &o.seconds.to_string(),
    ]))?;
    eprintln!(
        "xtask: connection set-up, {} x `ssh host true`",
        o.connections
    );
    proc::stream(cargo().args([
        "build",
        "--release",
        "-p",
        "sisu-daemon",
        "--bin",
        "sisu-sshd",
    ]))?;
    let user = bench_user()?;
    let base = std::env::temp_dir().join(format!("sisu-bench-kex-{}", std::process::id()));
    let mut rows = Vec::new();
    for (name, binary, openssh) in [
        (
            "sisu",
            proc::repo_root().join("target/release/sisu-sshd"),
            false,
        ),
        ("openssh", PathBuf::from("/usr/sbin/sshd"), true),
    ] {
        let r = BenchServer::start(&binary, openssh, base.join(name), &user)
            .and_then(|s| connect_loop(&s, o.connections));
        rows.push((name, r));
    }
    let _ = std::fs::remove_dir_all(&base);
    println!();
    println!(
        "connection set-up, default algorithms, same ssh client ({} sequential)",
        o.connections
    );
    println!("{:<10} {:>14} {:>14}", "server", "conn/s", "ms/conn");
    let n = f64::from(o.connections.max(1));
    let mut rates = Vec::new();
    for (name, r) in &rows {
        match r {
            Ok(d) => {
                let rate = n / d.as_secs_f64();
                rates.push(rate);
                println!(
                    "{name:<10} {rate:>14.2} {:>14.2}",
                    d.as_secs_f64() * 1000.0 / n
                );
            }
            Err(e) => println!("{name:<10} n/a ({e})"),
        }
    }
    if let [s, x] = rates[..] {
        println!("sisu/openssh connection rate: {:.2}", s / x);
    }
    Ok(())
}
