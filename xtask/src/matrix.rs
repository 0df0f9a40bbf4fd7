//! `cargo xtask matrix`: every cipher × every MAC that `sisu-sshd -Q cipher` and
//! `-Q mac` list, each negotiated by a real client, in the manner of OpenSSH's
//! `regress/dropbear-server.sh` loop. One server (release build) enables everything;
//! each pair pushes a small random file through `cat` and compares it.
//!
//! The client is OpenSSH's `ssh` where it has the algorithms, else the OpenSSH 7.5
//! client `ssh1` with OpenSSL's legacy provider; pairs no installed client offers are
//! reported as skipped. AEAD ciphers run once (their MAC is implied).

use crate::proc;
use std::fs;
use std::net::{TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// Bytes pushed through `cat` per pair.
const PAYLOAD: usize = 256 * 1024;

/// OpenSSL configuration loading the legacy provider, for `ssh1`'s Blowfish, CAST5
/// and RC4.
const OPENSSL_LEGACY: &str = "openssl_conf = openssl_init\n[openssl_init]\nproviders = provider_sect\n[provider_sect]\ndefault = default_sect\nlegacy = legacy_sect\n[default_sect]\nactivate = 1\n[legacy_sect]\nactivate = 1\n";

/// The matrix server, stopped by PID (its process group) on drop.
struct Server {
    child: Child,
    port: u16,
}

impl Drop for Server {
    fn drop(&mut self) {
        let group = format!("-{}", self.child.id());
        let _ = proc::succeeds(Command::new("kill").args(["-TERM", "--", &group]));
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            thread::sleep(Duration::from_millis(20));
        }
        let _ = proc::succeeds(Command::new("kill").args(["-KILL", "--", &group]));
        let _ = self.child.wait();
    }
}

fn query(bin: &Path, what: &str) -> Result<Vec<String>, String> {
    let out = proc::capture(Command::new(bin).args(["-Q", what]))
        .ok_or_else(|| format!("{} -Q {what} failed", bin.display()))?;
    Ok(out.lines().map(str::to_string).collect())
}

/// What `program -Q what` lists (empty when the program is missing).
fn client_list(program: &str, what: &str) -> Vec<String> {
    proc::capture(Command::new(program).args(["-Q", what]))
        .map(|s| s.lines().map(str::to_string).collect())
        .unwrap_or_default()
}

fn start(bin: &Path, dir: &Path, ciphers: &[String], macs: &[String]) -> Result<Server, String> {
    for k in ["ssh_host_ed25519_key", "id_ed25519"] {
        proc::stream(
            Command::new("ssh-keygen")
                .args(["-q", "-t", "ed25519", "-N", "", "-f"])
                .arg(dir.join(k))
                .stdout(Stdio::null()),
        )?;
    }
    fs::copy(dir.join("id_ed25519.pub"), dir.join("authorized_keys")).map_err(|e| e.to_string())?;
    let config = format!(
        "ListenAddress 127.0.0.1\nHostKey {}\nAuthorizedKeysFile {}\nStrictModes no\nPidFile none\nCiphers {}\nMACs {}\n",
        dir.join("ssh_host_ed25519_key").display(),
        dir.join("authorized_keys").display(),
        ciphers.join(","),
        macs.join(",")
    );
    fs::write(dir.join("sshd_config"), config).map_err(|e| e.to_string())?;
    let port = TcpListener::bind(("127.0.0.1", 0))
        .and_then(|l| l.local_addr())
        .map_err(|e| e.to_string())?
        .port();
    let log = fs::File::create(dir.join("sshd.log")).map_err(|e| e.to_string())?;
    let child = Command::new(bin)
        .args(["-D", "-e", "-f"])
        .arg(dir.join("sshd_config"))
        .args(["-p", &port.to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::from(log))
        .process_group(0)
        .spawn()
        .map_err(|e| format!("spawn {}: {e}", bin.display()))?;
    let mut server = Server { child, port };
    let host = fs::read_to_string(dir.join("ssh_host_ed25519_key.pub")).unwrap_or_default();
    let mut f = host.split_whitespace();
    let kh = format!(
        "[127.0.0.1]:{port} {} {}\n",
        f.next().unwrap_or(""),
        f.next().unwrap_or("")
    );
    fs::write(dir.join("known_hosts"), kh).map_err(|e| e.to_string())?;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Ok(Some(status)) = server.child.try_wait() {
            return Err(format!("server exited: {status}"));
        }
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Ok(server);
        }
        if Instant::now() >= deadline {
            return Err("server not listening".into());
        }
        thread::sleep(Duration::from_millis(50));
    }
}

/// One pair through `program`; `Ok(())` when the file came back intact.
fn run_pair(
    program: &str,
    dir: &Path,
    port: u16,
    user: &str,
    cipher: &str,
    mac: &str,
) -> Result<(), String> {
    let src = dir.join("payload");
    let dst = dir.join("echo");
    let mut cmd = Command::new("timeout");
    cmd.arg("60")
        .arg(program)
        .args([
            "-F",
            "/dev/null",
            "-o",
            "BatchMode=yes",
            "-o",
            "StrictHostKeyChecking=yes",
        ])
        .args(["-o", "IdentitiesOnly=yes", "-o", "ConnectTimeout=10"])
        .arg("-o")
        .arg(format!(
            "UserKnownHostsFile={}",
            dir.join("known_hosts").display()
        ))
        .arg("-i")
        .arg(dir.join("id_ed25519"))
        .args(["-c", cipher, "-m", mac, "-p", &port.to_string()])
        .arg(format!("{user}@127.0.0.1"))
        .arg("cat")
        .stdin(fs::File::open(&src).map_err(|e| e.to_string())?)
        .stdout(fs::File::create(&dst).map_err(|e| e.to_string())?)
        .stderr(Stdio::null());
    if program == "ssh1" {
        cmd.env("OPENSSL_CONF", dir.join("openssl-legacy.cnf"));
    }
    let status = cmd.status().map_err(|e| e.to_string())?;
    if !status.success() {
        return Err(format!("{program} exited with {status}"));
    }
    if fs::read(&src).ok() != fs::read(&dst).ok() {
        return Err("data differs".into());
    }
    Ok(())
}

/// `cargo xtask matrix [--debug]`: build, then run every pair and print a table.
pub fn run(args: &[String]) -> Result<(), String> {
    let release = !args.iter().any(|a| a == "--debug");
    let mut build = Command::new("cargo");
    build
        .current_dir(proc::repo_root())
        .args(["build", "-p", "sisu-daemon", "--bin", "sisu-sshd"]);
    if release {
        build.arg("--release");
    }
    proc::stream(&mut build)?;
    let bin = proc::repo_root()
        .join("target")
        .join(if release { "release" } else { "debug" })
        .join("sisu-sshd");
    let ciphers = query(&bin, "cipher")?;
    let macs = query(&bin, "mac")?;
    let aead = query(&bin, "cipher-auth")?;
    let dir: PathBuf = std::env::temp_dir().join(format!("sisu-matrix-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    fs::write(dir.join("openssl-legacy.cnf"), OPENSSL_LEGACY).map_err(|e| e.to_string())?;
    let payload: Vec<u8> = (0..PAYLOAD as u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    fs::write(dir.join("payload"), payload).map_err(|e| e.to_string())?;
    let user = std::env::var("USER").unwrap_or_else(|_| "root".into());
    let user = if proc::is_root() {
        crate::deps::TEST_USER.to_string()
    } else {
        user
    };
    let server = start(&bin, &dir, &ciphers, &macs)?;
    let clients: Vec<(&str, Vec<String>, Vec<String>)> = ["ssh", "ssh1"]
        .iter()
        .map(|p| (*p, client_list(p, "cipher"), client_list(p, "mac")))
        .collect();
    // Known not to work in ssh1 (OpenSSL 3 has no 1536-byte-discard RC4 mode it uses).
    let broken = |p: &str, c: &str| p == "ssh1" && (c == "arcfour128" || c == "arcfour256");
    let (mut ok, mut failed, mut skipped) = (0, Vec::new(), Vec::new());
    for c in &ciphers {
        let pairs: Vec<&String> = if aead.contains(c) {
            macs.iter().take(1).collect()
        } else {
            macs.iter().collect()
        };
        for m in pairs {
            let client = clients
                .iter()
                .find(|(p, cs, ms)| cs.contains(c) && ms.contains(m) && !broken(p, c));
            let Some((program, _, _)) = client else {
                skipped.push(format!("{c} {m}"));
                println!("{c:32} {m:34} skipped (no client offers it)");
                continue;
            };
            match run_pair(program, &dir, server.port, &user, c, m) {
                Ok(()) => {
                    ok += 1;
                    println!("{c:32} {m:34} ok ({program})");
                }
                Err(e) => {
                    println!("{c:32} {m:34} FAILED ({program}): {e}");
                    failed.push(format!("{c} {m}"));
                }
            }
        }
    }
    drop(server);
    let _ = fs::remove_dir_all(&dir);
    println!(
        "{ok} passed, {} failed, {} skipped",
        failed.len(),
        skipped.len()
    );
    if failed.is_empty() {
        Ok(())
    } else {
        Err(format!("failed: {}", failed.join("; ")))
    }
}
