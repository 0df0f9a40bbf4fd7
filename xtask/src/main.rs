//! # xtask: Sisu's developer tasks
//!
//! Run through the cargo alias in `.cargo/config.toml`:
//!
//! ```text
//! cargo xtask test            # install what the interop tests need, then fmt, clippy, test
//! cargo xtask test --openssh  # the same, with the interop tests pointed at OpenSSH's sshd
//! cargo xtask lint            # fmt --check and clippy only
//! cargo xtask bench           # sisu-sshd and OpenSSH's sshd side by side on loopback
//! cargo xtask regress         # OpenSSH's regress suite against sisu-sshd
//! ```
//!
//! This crate uses the standard library only, so it builds in seconds. Each module owns
//! one task: [`deps`] installs Debian and pip packages and the test user, [`check`] runs
//! the cargo steps, [`bench`] measures, [`server`] starts a benchmark server,
//! [`regress`] runs OpenSSH's regress suite against the server and [`proc`] runs
//! commands.

mod bench;
mod bench_cipher;
mod bench_kex;
mod check;
mod deps;
mod fuzz;
mod matrix;
mod proc;
mod regress;
mod server;

use std::process::ExitCode;

const USAGE: &str = "\
usage: cargo xtask <task> [options]

tasks:
  test [--openssh] [--no-install] [-- CARGO-TEST-ARGS...]
        install missing interop dependencies (Debian packages, pip packages, the test
        user and the sisu-sshd privilege separation user when root), then cargo fmt --check, cargo clippy -D warnings, cargo test
        --workspace, then the regress tests of xtask/regress/must-pass.txt (each must
        pass) and known-failures.txt (none may pass: move it to must-pass), 14 to 20
        minutes. --openssh points the interop and regress tests at /usr/sbin/sshd.
  lint  cargo fmt --check and cargo clippy --workspace --all-targets -D warnings
  deps  only install the missing interop dependencies
  bench [--mib N] [--connections N] [--only sisu|openssh]
        sisu-sshd (release) and OpenSSH's sshd side by side on 127.0.0.1
  bench kex [--iterations N] [--seconds S] [--connections N]
        server CPU per key exchange for each method (in memory, release), and the
        connection set-up rate of sisu-sshd vs OpenSSH's sshd with default algorithms
  bench cipher [--packet N] [--seconds S]
        seal+open MB/s of every cipher x MAC suite (release) next to openssl speed
  matrix [--debug]
        every `sisu-sshd -Q cipher` x `-Q mac` pair through a real client (ssh, ssh1)
  regress [--openssh | --sshd PATH] [--list must-pass|known-failures|no-server]...
          [--timeout SECS] [--port N] [--keep] [--no-pam] [--no-install] [TEST...]
        OpenSSH's regress suite (Debian's openssh-tests, installed when missing) against
        sisu-sshd (release build), one test after the other, each in a fresh copy of the
        suite and a session of its own, with a time limit (default 600 s); prints
        PASS/FAIL/SKIP/TIMEOUT with seconds and each failure's first failing line, and
        checks xtask/regress/*.txt. Default: every test of the suite's LTESTS, and its
        putty-*/conch-* tests when plink+puttygen/conch3 exist. The copies have no
        security-key host keys (--no-pam also makes UsePAM no). A test is stopped
        past 512 MiB written. Logs stay in target/regress/<sisu|openssh>/<test>/.
        --openssh runs it against /usr/sbin/sshd; --sshd PATH against another binary.
  fuzz [--seconds N] [TARGET...]
        run the cargo-fuzz targets (installs cargo-fuzz when missing), N seconds each
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(task) = args.first() else {
        eprint!("{USAGE}");
        return ExitCode::from(2);
    };
    let rest = &args[1..];
    let result = match task.as_str() {
        "test" => check::test(rest),
        "lint" => check::lint(),
        "deps" => deps::install_missing(),
        "bench" if rest.first().map(String::as_str) == Some("kex") => bench_kex::run(&rest[1..]),
        "bench" if rest.first().map(String::as_str) == Some("cipher") => {
            bench_cipher::run(&rest[1..])
        }
        "matrix" => matrix::run(rest),
        "bench" => bench::run(rest),
        "fuzz" => fuzz::run(rest),
        "regress" => regress::run(rest),
        "help" | "-h" | "--help" => {
            print!("{USAGE}");
            Ok(())
        }
        other => Err(format!("unknown task `{other}`\n{USAGE}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}
