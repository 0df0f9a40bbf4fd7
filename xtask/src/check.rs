//! The cargo steps: `cargo fmt --check`, `cargo clippy -D warnings`, `cargo test`, and
//! then the regress tests that must pass ([`crate::regress::ci`]).

use crate::{deps, proc, regress};
use std::process::Command;

fn cargo() -> Command {
    let mut c = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    c.current_dir(proc::repo_root());
    c
}

fn fmt() -> Result<(), String> {
    proc::stream(cargo().args(["fmt", "--all", "--check"]))
}

fn clippy() -> Result<(), String> {
    proc::stream(cargo().args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]))
}

/// One named step of a run.
type Step<'a> = (&'a str, Box<dyn FnOnce() -> Result<(), String>>);

/// Run every step even when one fails, so one run reports everything; Err lists the
/// failed steps.
fn run_steps(steps: Vec<Step<'_>>) -> Result<(), String> {
    let mut failed = Vec::new();
    for (name, step) in steps {
        eprintln!("xtask: === {name} ===");
        if let Err(e) = step() {
            eprintln!("xtask: {name}: {e}");
            failed.push(name);
        }
    }
    if failed.is_empty() {
        eprintln!("xtask: all steps passed");
        Ok(())
    } else {
        Err(format!("failed steps: {}", failed.join(", ")))
    }
}

/// `cargo xtask lint`.
pub fn lint() -> Result<(), String> {
    run_steps(vec![("fmt", Box::new(fmt)), ("clippy", Box::new(clippy))])
}

/// `cargo xtask test [--openssh] [--no-install] [-- CARGO-TEST-ARGS...]`.
pub fn test(args: &[String]) -> Result<(), String> {
    let mut openssh = false;
    let mut install = true;
    let mut extra: Vec<String> = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--openssh" => openssh = true,
            "--no-install" => install = false,
            "--" => extra.extend(it.by_ref().cloned()),
            other => return Err(format!("unknown option `{other}` for test")),
        }
    }
    if install {
        deps::install_missing()?;
    }
    let test = move || {
        let mut c = cargo();
        c.args(["test", "--workspace"]);
        // A missing interop peer fails its test here instead of being skipped: this
        // task installed every peer, so one that is missing is a real failure.
        c.env("SISU_TEST_REQUIRE_PEERS", "1");
        if !extra.is_empty() {
            c.arg("--").args(&extra);
        }
        if openssh {
            c.env("SISU_TEST_SERVER", "openssh");
        }
        proc::stream(&mut c)
    };
    run_steps(vec![
        ("fmt", Box::new(fmt)),
        ("clippy", Box::new(clippy)),
        ("test", Box::new(test)),
        ("regress", Box::new(move || regress::ci(openssh))),
    ])
}
