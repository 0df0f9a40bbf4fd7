//! `cargo xtask bench cipher`: MB/s of seal + open for every suite (the release build
//! of `sisu-cipher`'s `suite_speed` example, which times `bench::seal_open`), next to
//! `openssl speed -evp` / `-hmac` for the same primitives on this machine.
//!
//! seal + open handles each payload byte twice (once per direction), so the table
//! also shows the per-direction rate (2 × seal+open) against OpenSSL's one-way rate.
//! For a cipher × MAC suite OpenSSL's anchor is the two primitives in series,
//! `1 / (1/cipher + 1/mac)`; UMAC has no OpenSSL counterpart (cipher only). The
//! end-to-end loopback comparison with OpenSSH's sshd is `cargo xtask bench`.

use crate::proc;
use std::collections::HashMap;
use std::process::Command;

/// OpenSSL's name for a cipher's primitive, and whether it needs the legacy provider.
fn openssl_cipher(cipher: &str) -> Option<(&'static str, bool)> {
    Some(match cipher {
        "chacha20-poly1305@openssh.com" => ("chacha20-poly1305", false),
        "aes128-gcm@openssh.com" => ("aes-128-gcm", false),
        "aes256-gcm@openssh.com" => ("aes-256-gcm", false),
        "aes128-ctr" => ("aes-128-ctr", false),
        "aes192-ctr" => ("aes-192-ctr", false),
        "aes256-ctr" => ("aes-256-ctr", false),
        "aes128-cbc" => ("aes-128-cbc", false),
        "aes192-cbc" => ("aes-192-cbc", false),
        "aes256-cbc" | "rijndael-cbc@lysator.liu.se" => ("aes-256-cbc", false),
        "3des-cbc" => ("des-ede3-cbc", false),
        "blowfish-cbc" => ("bf-cbc", true),
        "cast128-cbc" => ("cast5-cbc", true),
        "arcfour" | "arcfour128" | "arcfour256" => ("rc4", true),
        _ => return None,
    })
}

/// OpenSSL's digest for a MAC (`None` for UMAC).
fn openssl_digest(mac: &str) -> Option<&'static str> {
    let m = mac.strip_prefix("hmac-")?;
    Some(if m.starts_with("sha2-256") {
        "sha256"
    } else if m.starts_with("sha2-512") {
        "sha512"
    } else if m.starts_with("sha1") {
        "sha1"
    } else if m.starts_with("md5") {
        "md5"
    } else if m.starts_with("ripemd160") {
        "ripemd160"
    } else {
        return None;
    })
}

/// `openssl speed` in MB/s for `-evp NAME` or `-hmac NAME`, at `bytes` per call.
fn openssl_speed(kind: &str, name: &str, legacy: bool, bytes: usize) -> Option<f64> {
    let mut cmd = Command::new("openssl");
    cmd.arg("speed");
    if legacy {
        cmd.args(["-provider", "legacy", "-provider", "default"]);
    }
    cmd.args([
        "-seconds",
        "1",
        "-bytes",
        &bytes.to_string(),
        "-mr",
        kind,
        name,
    ]);
    let out = proc::capture(&mut cmd)?;
    // Machine-readable result: `+F:N:NAME:BYTES_PER_SECOND`.
    let line = out.lines().rev().find(|l| l.starts_with("+F:"))?;
    line.rsplit(':')
        .next()?
        .trim()
        .parse::<f64>()
        .ok()
        .map(|b| b / 1e6)
}

/// `cargo xtask bench cipher [--packet N] [--seconds S]`.
pub fn run(args: &[String]) -> Result<(), String> {
    let mut packet = 32 * 1024;
    let mut seconds = "0.25".to_string();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--packet" => packet = it.next().and_then(|v| v.parse().ok()).ok_or("--packet N")?,
            "--seconds" => seconds = it.next().cloned().ok_or("--seconds S")?,
            other => return Err(format!("bench cipher: unknown option {other}")),
        }
    }
    let mut cmd = Command::new("cargo");
    cmd.current_dir(proc::repo_root()).args([
        "run",
        "--release",
        "-q",
        "-p",
        "sisu-cipher",
        "--example",
        "suite_speed",
        "--",
    ]);
    cmd.arg(packet.to_string()).arg(&seconds);
    eprintln!("running {}", proc::show(&cmd));
    let out = proc::capture(&mut cmd).ok_or("suite_speed failed")?;
    let mut anchors: HashMap<String, Option<f64>> = HashMap::new();
    let mut anchor = |kind: &str, name: &str, legacy: bool| -> Option<f64> {
        *anchors
            .entry(format!("{kind} {name}"))
            .or_insert_with(|| openssl_speed(kind, name, legacy, packet))
    };
    println!(
        "{:32} {:32} {:>10} {:>10} {:>10} {:>6}",
        "cipher", "mac", "seal+open", "per-dir", "openssl", "ratio"
    );
    for line in out.lines() {
        let f: Vec<&str> = line.split('\t').collect();
        match f.as_slice() {
            ["suite", cipher, mac, mbs] => {
                let r: f64 = mbs.parse().unwrap_or(0.0);
                let c = openssl_cipher(cipher).and_then(|(n, l)| anchor("-evp", n, l));
                let m = openssl_digest(mac).and_then(|d| anchor("-hmac", d, false));
                let a = match (c, m) {
                    (Some(c), Some(m)) => Some(1.0 / (1.0 / c + 1.0 / m)),
                    (Some(c), None) => Some(c),
                    _ => None,
                };
                let a_text = a.map_or("-".to_string(), |a| format!("{a:.0}"));
                let ratio = a.map_or("-".to_string(), |a| format!("{:.0}%", 200.0 * r / a));
                println!(
                    "{cipher:32} {mac:32} {r:>10.0} {:>10.0} {a_text:>10} {ratio:>6}",
                    2.0 * r
                );
            }
            ["backend", name, mbs] => {
                let r: f64 = mbs.parse().unwrap_or(0.0);
                println!("{name:65} {r:>10.0} {:>10.0}", 2.0 * r);
            }
            _ => {}
        }
    }
    println!(
        "MB/s = 10^6 payload bytes per second, {packet}-byte packets; ratio = per-dir / openssl"
    );
    Ok(())
}
