//! Host keys: loading the `HostKey` files (OpenSSH or PEM format, as `ssh-keygen`
//! writes them), refusing unsafe ones, attaching `HostCertificate`s, and generating the
//! default keys when none is configured.
//!
//! The default keys are an Ed25519 key and a 3072-bit RSA key, kept in `/etc/sisu/`
//! when the daemon runs as root and in `$HOME/.config/sisu/` otherwise
//! (`ssh_host_ed25519_key`, `ssh_host_rsa_key`); each is created with mode 0600 on
//! first start (the RSA one takes a moment) and its fingerprint is logged.
//!
//! ```text
//! HostKey /etc/ssh/ssh_host_ecdsa_key          # -----BEGIN EC PRIVATE KEY----- is fine
//! HostCertificate /etc/ssh/ssh_host_ecdsa_key-cert.pub
//! ```

use crate::os;
use sisu_authkeys::{Entry, EntryKey};
use sisu_kex::hostkey::keyfile::{decode_private_key, MAX_KEY_FILE_LEN};
use sisu_kex::HostKey;
use ssh_key::{HashAlg, LineEnding, PrivateKey};
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// Bits of the default RSA host key.
pub const DEFAULT_RSA_BITS: usize = 3072;

/// A default host key: file name and how to make one.
struct DefaultKey {
    file: &'static str,
    label: &'static str,
}

const DEFAULT_KEYS: [DefaultKey; 2] = [
    DefaultKey {
        file: "ssh_host_ed25519_key",
        label: "ED25519",
    },
    DefaultKey {
        file: "ssh_host_rsa_key",
        label: "RSA",
    },
];

/// The directory the default host keys live in.
pub fn default_host_key_dir() -> PathBuf {
    if os::is_root() {
        PathBuf::from("/etc/sisu")
    } else {
        let home = std::env::var_os("HOME")
            .map(PathBuf::from)
            .or_else(|| os::current_user().ok().map(|u| u.home))
            .unwrap_or_else(|| PathBuf::from("/tmp"));
        home.join(".config/sisu")
    }
}

/// The default host key files (Ed25519, then RSA).
pub fn default_host_key_paths() -> Vec<PathBuf> {
    let dir = default_host_key_dir();
    DEFAULT_KEYS.iter().map(|k| dir.join(k.file)).collect()
}

fn generate(label: &str) -> Result<PrivateKey, String> {
    let mut rng = rand_core::OsRng;
    let key = match label {
        "RSA" => ssh_key::private::RsaKeypair::random(&mut rng, DEFAULT_RSA_BITS)
            .map_err(|e| e.to_string())
            .and_then(|k| PrivateKey::new(k.into(), "").map_err(|e| e.to_string())),
        _ => PrivateKey::random(&mut rng, ssh_key::Algorithm::Ed25519).map_err(|e| e.to_string()),
    };
    key.map_err(|e| format!("generating {label} host key: {e}"))
}

/// Creates a host key of type `label` (`ED25519` or `RSA`) at `path` (mode 0600, public
/// key beside it) unless one is there.
fn ensure_host_key(path: &Path, label: &str) -> Result<(), String> {
    if path.exists() {
        return Ok(());
    }
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    let key = generate(label)?;
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
        "Generated host key {}: {label} {}",
        path.display(),
        key.fingerprint(HashAlg::Sha256)
    );
    Ok(())
}

/// A text file of at most [`MAX_KEY_FILE_LEN`] bytes.
fn read_bounded(path: &Path) -> Result<String, String> {
    let bytes =
        crate::os::system::read_bounded(path, MAX_KEY_FILE_LEN).map_err(|e| e.to_string())?;
    String::from_utf8(bytes).map_err(|e| e.to_string())
}

/// Loads one private host key file, refusing one that others can read.
pub fn load_private_key(path: &Path) -> Result<PrivateKey, String> {
    let meta = fs::metadata(path)
        .map_err(|e| format!("Unable to load host key: {}: {e}", path.display()))?;
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(format!(
            "Permissions 0{mode:o} for '{}' are too open. It is required that your private key files are NOT accessible by others. This private key will be ignored.",
            path.display()
        ));
    }
    let text = read_bounded(path)
        .map_err(|e| format!("Unable to load host key: {}: {e}", path.display()))?;
    decode_private_key(&text)
        .map_err(|e| format!("Unable to load host key \"{}\": {e}", path.display()))
}

/// Loads one private host key, ready to sign.
pub fn load_host_key(path: &Path) -> Result<HostKey, String> {
    let key = load_private_key(path)?;
    let fp = key.fingerprint(HashAlg::Sha256);
    HostKey::new(key)
        .map_err(|e| format!("Skipping host key {}: {e}", path.display()))
        .inspect(|_| crate::debug!("loaded host key {}: {fp}", path.display()))
}

/// The host key at `path` (a public key file, or the private key's path next to its
/// `.pub`) whose private half the agent at `agent` holds.
fn load_agent_key(path: &Path, agent: &Path) -> Result<HostKey, String> {
    let with_pub = PathBuf::from(format!("{}.pub", path.display()));
    let public = [path, with_pub.as_path()]
        .iter()
        .find_map(|p| {
            let text = read_bounded(p).ok()?;
            ssh_key::PublicKey::from_openssh(text.trim()).ok()
        })
        .ok_or_else(|| {
            format!(
                "no public key for {} to sign with the agent",
                path.display()
            )
        })?;
    let fp = public.fingerprint(HashAlg::Sha256);
    let signer = std::sync::Arc::new(crate::agent::AgentSigner::new(agent.to_path_buf()));
    HostKey::external(public, signer)
        .map_err(|e| format!("Skipping host key {}: {e}", path.display()))
        .inspect(|_| {
            crate::debug!(
                "will rely on agent {} for host key {}: {fp}",
                agent.display(),
                path.display()
            )
        })
}

/// Reads a `HostCertificate` file (`*-cert-v01@openssh.com BASE64 [comment]`): the
/// certificate blob and the plain public key blob it certifies.
pub fn load_certificate(path: &Path) -> Result<(Vec<u8>, Vec<u8>), String> {
    let what = |e: &dyn std::fmt::Display| {
        format!(
            "Could not load host certificate \"{}\": {e}",
            path.display()
        )
    };
    let text = read_bounded(path).map_err(|e| what(&e))?;
    let line = text
        .lines()
        .find(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        .ok_or_else(|| what(&"empty file"))?;
    let entry = Entry::parse(line)
        .map_err(|e| what(&e))?
        .ok_or_else(|| what(&"empty file"))?;
    let EntryKey::Certificate(cert) = entry.key else {
        return Err(what(&"not a certificate"));
    };
    if cert.kind != sisu_authkeys::cert::CertKind::Host {
        return Err(what(&"not a host certificate"));
    }
    let plain = ssh_key::PublicKey::from(cert.key.clone())
        .to_bytes()
        .map_err(|e| what(&e))?;
    Ok((cert.blob.clone(), plain))
}

/// Loads every configured host key (with none configured, the default ones, generated
/// when missing), then a certified copy of each key that a `HostCertificate` names.
/// Keys and certificates that cannot be used are skipped with a log line naming the
/// file; an empty result is the caller's fatal error.
pub fn load_all(
    configured: &[PathBuf],
    certificates: &[PathBuf],
    agent: Option<&Path>,
) -> Vec<HostKey> {
    let mut paths = configured.to_vec();
    if paths.is_empty() {
        for (p, k) in default_host_key_paths()
            .into_iter()
            .zip(DEFAULT_KEYS.iter())
        {
            match ensure_host_key(&p, k.label) {
                Ok(()) => paths.push(p),
                Err(e) => error!("Could not create the default host key: {e}"),
            }
        }
    }
    let mut keys = Vec::new();
    for p in &paths {
        if is_rsa1_path(p) {
            // Protocol 1's host key: `crate::v1::keys::load_host_key` takes it.
            crate::debug!("protocol 1 host key {}", p.display());
            continue;
        }
        match (load_host_key(p), agent) {
            (Ok(k), _) => keys.push(k),
            // No private key here, but an agent: the public key is enough, as
            // OpenSSH's "will rely on agent for hostkey".
            (Err(e), Some(agent)) => match load_agent_key(p, agent) {
                Ok(k) => keys.push(k),
                Err(e2) => error!("{e}; {e2}"),
            },
            (Err(e), None) => error!("{e}"),
        }
    }
    for c in certificates {
        match certify(&keys, c) {
            Ok(k) => keys.push(k),
            Err(e) => error!("{e}"),
        }
    }
    keys
}

/// Whether the file at `path` starts as an `rsa1` private key file.
fn is_rsa1_path(path: &Path) -> bool {
    use std::io::Read;
    let mut head = [0u8; 40];
    let Ok(mut f) = fs::File::open(path) else {
        return false;
    };
    let n = f.read(&mut head).unwrap_or(0);
    crate::v1::keys::is_rsa1_file(&head[..n])
}

/// The certified copy of the loaded key that certificate file `path` is for.
fn certify(keys: &[HostKey], path: &Path) -> Result<HostKey, String> {
    let (blob, plain) = load_certificate(path)?;
    let key = keys
        .iter()
        .find(|k| !k.is_certificate() && k.plain_public_blob() == plain)
        .ok_or_else(|| {
            format!(
                "Host certificate \"{}\" does not match any host key",
                path.display()
            )
        })?;
    let hk = key
        .certified(blob)
        .map_err(|e| format!("Host certificate \"{}\": {e}", path.display()))?;
    crate::debug!(
        "loaded host certificate {} ({})",
        path.display(),
        hk.algorithms()
            .iter()
            .map(|a| a.name())
            .collect::<Vec<_>>()
            .join(",")
    );
    Ok(hk)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmpdir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("sisu-hostkeys-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn group_readable_key_is_refused_naming_the_file() {
        let d = tmpdir("perm");
        let p = d.join("key");
        ensure_host_key(&p, "ED25519").unwrap();
        assert_eq!(
            fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o600
        );
        load_host_key(&p).unwrap();
        for mode in [0o640, 0o604, 0o644] {
            fs::set_permissions(&p, fs::Permissions::from_mode(mode)).unwrap();
            let e = load_host_key(&p).unwrap_err();
            assert!(
                e.contains(p.to_str().unwrap()) && e.contains("too open"),
                "{e}"
            );
        }
        assert!(load_all(std::slice::from_ref(&p), &[], None).is_empty());
        let _ = fs::remove_dir_all(&d);
    }

    #[test]
    fn default_keys_are_ed25519_and_rsa_3072() {
        let d = tmpdir("defaults");
        for k in &DEFAULT_KEYS {
            let p = d.join(k.file);
            ensure_host_key(&p, k.label).unwrap();
            let hk = load_host_key(&p).unwrap();
            let public = fs::read_to_string(format!("{}.pub", p.display())).unwrap();
            let public = ssh_key::PublicKey::from_openssh(public.trim()).unwrap();
            assert_eq!(&public, hk.public_key());
            match k.label {
                "RSA" => {
                    let n = &hk.public_key().key_data().rsa().unwrap().n;
                    assert_eq!(n.as_positive_bytes().unwrap().len() * 8, DEFAULT_RSA_BITS);
                    assert!(hk.algorithms().contains(&sisu_kex::HostKeyAlg::RsaSha512));
                }
                _ => assert_eq!(hk.algorithms(), &[sisu_kex::HostKeyAlg::Ed25519]),
            }
            // A second start keeps the key.
            ensure_host_key(&p, k.label).unwrap();
            assert_eq!(load_host_key(&p).unwrap().public_key(), hk.public_key());
        }
        let _ = fs::remove_dir_all(&d);
    }

    #[test]
    fn missing_and_garbage_files_name_the_file() {
        let d = tmpdir("garbage");
        let p = d.join("nokey");
        assert!(load_host_key(&p).unwrap_err().contains("nokey"));
        fs::write(&p, "hello\n").unwrap();
        fs::set_permissions(&p, fs::Permissions::from_mode(0o600)).unwrap();
        assert!(load_host_key(&p).unwrap_err().contains("nokey"));
        let c = d.join("cert.pub");
        fs::write(
            &c,
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGgiVQbiF3lY3jYKSC9qbLSdMcTWcjyY0V/35xEuuzPm x\n",
        )
        .unwrap();
        assert!(load_certificate(&c)
            .unwrap_err()
            .contains("not a certificate"));
        let _ = fs::remove_dir_all(&d);
    }
}
