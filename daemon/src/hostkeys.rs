//! Host keys: loading the `HostKey` files, refusing unsafe ones, and generating the
//! default ed25519 key when none is configured.
//!
//! The default key lives at `/etc/sisu/ssh_host_ed25519_key` when the daemon runs as
//! root, and at `$HOME/.config/sisu/ssh_host_ed25519_key` otherwise; it is created with
//! mode 0600 on first start and its fingerprint is logged.

use crate::os;
use sisu_kex::HostKey;
use ssh_key::{HashAlg, LineEnding, PrivateKey};
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// Where the default host key is kept.
pub fn default_host_key_path() -> PathBuf {
    if os::is_root() {
        PathBuf::from("/etc/sisu/ssh_host_ed25519_key")
    } else {
        let home = std::env::var_os("HOME")
            .map(PathBuf::from)
            .or_else(|| os::current_user().ok().map(|u| u.home))
            .unwrap_or_else(|| PathBuf::from("/tmp"));
        home.join(".config/sisu/ssh_host_ed25519_key")
    }
}

/// Creates an ed25519 host key at `path` (mode 0600, public key beside it) unless one
/// is there.
pub fn ensure_default_host_key(path: &Path) -> Result<(), String> {
    if path.exists() {
        return Ok(());
    }
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    let key = PrivateKey::random(&mut rand_core::OsRng, ssh_key::Algorithm::Ed25519)
        .map_err(|e| format!("generating host key: {e}"))?;
    let text = key
        .to_openssh(LineEnding::LF)
        .map_err(|e| format!("encoding host key: {e}"))?;
    // Create with 0600 from the start: the key is never readable by others.
    {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        let mut f = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        f.write_all(text.as_bytes())
            .map_err(|e| format!("{}: {e}", path.display()))?;
    }
    let public = key
        .public_key()
        .to_openssh()
        .map_err(|e| format!("encoding host key: {e}"))?;
    let pub_path = PathBuf::from(format!("{}.pub", path.display()));
    fs::write(&pub_path, format!("{public}\n"))
        .map_err(|e| format!("{}: {e}", pub_path.display()))?;
    info!(
        "Generated host key {}: ED25519 {}",
        path.display(),
        key.fingerprint(HashAlg::Sha256)
    );
    Ok(())
}

/// Loads one private host key, refusing one that others can read.
pub fn load_host_key(path: &Path) -> Result<HostKey, String> {
    let meta = fs::metadata(path)
        .map_err(|e| format!("Unable to load host key: {}: {e}", path.display()))?;
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(format!(
            "Permissions 0{mode:o} for '{}' are too open. It is required that your private key files are NOT accessible by others. This private key will be ignored.",
            path.display()
        ));
    }
    let text = fs::read_to_string(path)
        .map_err(|e| format!("Unable to load host key: {}: {e}", path.display()))?;
    let key = PrivateKey::from_openssh(text.trim_start()).map_err(|e| {
        format!(
            "Unable to load host key \"{}\": {e} (only OpenSSH-format keys are supported yet)",
            path.display()
        )
    })?;
    let fp = key.fingerprint(HashAlg::Sha256);
    HostKey::new(key)
        .map_err(|e| format!("Skipping host key {}: {e}", path.display()))
        .inspect(|_| crate::debug!("loaded host key {}: {fp}", path.display()))
}

/// Loads every configured host key; with none configured, the default one (generated
/// when missing). Keys that cannot be used are skipped with a log line; an empty
/// result is the caller's fatal error.
pub fn load_all(configured: &[PathBuf]) -> Vec<HostKey> {
    let mut paths = configured.to_vec();
    if paths.is_empty() {
        let p = default_host_key_path();
        if let Err(e) = ensure_default_host_key(&p) {
            error!("Could not create the default host key: {e}");
        }
        paths.push(p);
    }
    let mut keys = Vec::new();
    for p in &paths {
        match load_host_key(p) {
            Ok(k) => keys.push(k),
            Err(e) => error!("{e}"),
        }
    }
    keys
}
