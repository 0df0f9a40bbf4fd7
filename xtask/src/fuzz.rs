//! `cargo xtask fuzz`: runs the cargo-fuzz targets for a bounded time each.
//!
//! Targets live in three cargo-fuzz projects, each a workspace of its own so the main
//! build never needs libFuzzer: `fuzz/` (transport, packet decoder, userauth,
//! connection, sshd_config, the transport-state and userauth-result decoders),
//! `authkeys/fuzz/` and `knownhosts/fuzz/`. cargo-fuzz is
//! installed when missing; on the stable toolchain it runs with `RUSTC_BOOTSTRAP=1`,
//! which keeps AddressSanitizer.
//!
//! Committed seed inputs live in `<project>/seeds/<target>/` (one file per path worth
//! reaching, e.g. each refusal of a hostile peer); when that folder exists it is passed
//! as a second corpus after the working one (`<project>/corpus/<target>/`, ignored by
//! git), so libFuzzer starts from the seeds but writes what it finds to the working
//! corpus only.

use crate::proc::{have, repo_root, stream};
use std::process::Command;

/// The cargo-fuzz projects and their targets.
const TARGETS: &[(&str, &[&str])] = &[
    (
        "fuzz",
        &[
            "packet_decoder",
            "transport_server",
            "userauth_server",
            "connection_server",
            "sshd_config",
            "transport_state",
            "userauth_result",
            "monitor_messages",
            "sftp_server",
            "v1_auth_server",
            "v1_session",
            "v1_packet",
            "v1_transport_server",
        ],
    ),
    ("authkeys/fuzz", &["parse_file", "revoked_keys"]),
    ("knownhosts/fuzz", &["parse_lookup"]),
];

/// `cargo xtask fuzz [--seconds N] [TARGET...]`.
pub fn run(args: &[String]) -> Result<(), String> {
    let mut seconds = 60u64;
    let mut only: Vec<String> = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--seconds" => {
                seconds = it
                    .next()
                    .ok_or("--seconds needs a value")?
                    .parse()
                    .map_err(|e| format!("--seconds: {e}"))?
            }
            other => only.push(other.to_string()),
        }
    }
    if !have("cargo-fuzz") {
        stream(Command::new("cargo").args(["install", "--locked", "cargo-fuzz"]))?;
    }
    let root = repo_root();
    let mut failed = Vec::new();
    for (dir, targets) in TARGETS {
        for t in *targets {
            if !only.is_empty() && !only.iter().any(|o| o == t) {
                continue;
            }
            let project = root.join(dir);
            let mut cmd = Command::new("cargo");
            cmd.current_dir(project.parent().unwrap_or(&root))
                .env("RUSTC_BOOTSTRAP", "1")
                .args(["fuzz", "run", "--fuzz-dir"])
                .arg(&project)
                .arg(t);
            let seeds = project.join("seeds").join(t);
            if seeds.is_dir() {
                // The working corpus first: libFuzzer adds new inputs to the first one.
                let corpus = project.join("corpus").join(t);
                std::fs::create_dir_all(&corpus)
                    .map_err(|e| format!("{}: {e}", corpus.display()))?;
                cmd.arg(&corpus).arg(&seeds);
            }
            cmd.arg("--")
                .arg(format!("-max_total_time={seconds}"))
                .arg("-rss_limit_mb=2048");
            if let Err(e) = stream(&mut cmd) {
                failed.push(format!("{dir}:{t}: {e}"));
            }
        }
    }
    if failed.is_empty() {
        Ok(())
    } else {
        Err(format!("fuzz targets failed:\n  {}", failed.join("\n  ")))
    }
}
