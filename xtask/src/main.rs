//! # xtask: Sisu's developer tasks
//!
//! Run through the cargo alias in `.cargo/config.toml`:
//!
//! ```text
//! cargo xtask test            # install what the interop tests need, then fmt, clippy, test
//! cargo xtask test --openssh  # the same, with the interop tests pointed at OpenSSH's sshd
//! cargo xtask lint            # fmt --check and clippy only
//! cargo xtask bench           # sisu-sshd and OpenSSH's sshd side by side on loopback
//! ```
//!
//! This crate uses the standard library only, so it builds in seconds. Each module owns
//! one task: [`deps`] installs Debian and pip packages and the test user, [`check`] runs
//! the cargo steps, [`bench`] measures, [`server`] starts a benchmark server and
//! [`proc`] runs commands.

mod bench;
mod check;
mod deps;
mod proc;
mod server;

use std::process::ExitCode;

const USAGE: &str = "\
usage: cargo xtask <task> [options]

tasks:
  test [--openssh] [--no-install] [-- CARGO-TEST-ARGS...]
        install missing interop dependencies (Debian packages, pip packages, the test
        user when root), then cargo fmt --check, cargo clippy -D warnings, cargo test
        --workspace. --openssh points the interop tests at /usr/sbin/sshd.
  lint  cargo fmt --check and cargo clippy --workspace --all-targets -D warnings
  deps  only install the missing interop dependencies
  bench [--mib N] [--connections N] [--only sisu|openssh]
        sisu-sshd (release) and OpenSSH's sshd side by side on 127.0.0.1
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
        "bench" => bench::run(rest),
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
