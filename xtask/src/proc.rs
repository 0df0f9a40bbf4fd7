//! Running commands: streamed (for cargo), captured (for probes), and checks for what
//! is installed.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The repository root (the parent of this crate's directory).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace")
        .to_path_buf()
}

/// Run `cmd` with its output streamed to ours; Err names the command on failure.
pub fn stream(cmd: &mut Command) -> Result<(), String> {
    eprintln!("xtask: running {}", show(cmd));
    let status = cmd
        .status()
        .map_err(|e| format!("cannot run {}: {e}", show(cmd)))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{} failed: {status}", show(cmd)))
    }
}

/// Run `cmd` quietly; true if it exits 0.
pub fn succeeds(cmd: &mut Command) -> bool {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

/// Run `cmd` and return its stdout if it exits 0.
pub fn capture(cmd: &mut Command) -> Option<String> {
    let out = cmd
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Whether `prog` is an executable on PATH (or an existing absolute path).
pub fn have(prog: &str) -> bool {
    if prog.starts_with('/') {
        return Path::new(prog).is_file();
    }
    std::env::var_os("PATH")
        .map(|paths| std::env::split_paths(&paths).any(|d| d.join(prog).is_file()))
        .unwrap_or(false)
}

/// Whether we run as root.
pub fn is_root() -> bool {
    capture(Command::new("id").arg("-u")).is_some_and(|s| s.trim() == "0")
}

/// A command line for messages.
pub fn show(cmd: &Command) -> String {
    let mut s = cmd.get_program().to_string_lossy().into_owned();
    for a in cmd.get_args() {
        s.push(' ');
        s.push_str(&a.to_string_lossy());
    }
    s
}
