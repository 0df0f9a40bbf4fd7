//! File permission checks: OpenSSH's `StrictModes` walk (its `safe_path`) for
//! `authorized_keys` and friends, and the mode check for private host keys.

use std::io;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// Group- and world-writable bits.
const GROUP_WORLD_WRITABLE: u32 = 0o022;
/// Any group or world access.
const GROUP_WORLD_ANY: u32 = 0o077;
/// Most directories walked up from a file (a deeper path is refused).
pub const MAX_PATH_DEPTH: usize = 256;

fn owner_ok(owner: u32, uid: u32) -> bool {
    owner == 0 || owner == uid
}

/// Check `path` as OpenSSH's `StrictModes` does before trusting a file such as
/// `~/.ssh/authorized_keys`: the file must be a regular file, and it and every directory
/// above it up to and including `home` (or up to `/` if it is not under `home`) must be
/// owned by `uid` or root and not writable by group or others. Symbolic links are
/// resolved first. `Err` carries the reason, to log.
pub fn secure_path(path: &Path, uid: u32, home: &Path) -> Result<(), String> {
    let real = path
        .canonicalize()
        .map_err(|e| format!("realpath {}: {e}", path.display()))?;
    // If the home directory cannot be resolved, compare against it as given.
    let home: PathBuf = home.canonicalize().unwrap_or_else(|_| home.to_path_buf());

    let meta = std::fs::metadata(&real).map_err(|e| format!("stat {}: {e}", real.display()))?;
    if !meta.is_file() {
        return Err(format!("{} is not a regular file", real.display()));
    }
    if !owner_ok(meta.uid(), uid) || meta.mode() & GROUP_WORLD_WRITABLE != 0 {
        return Err(format!(
            "bad ownership or modes for file {}",
            real.display()
        ));
    }

    let mut dir = real.as_path();
    for _ in 0..MAX_PATH_DEPTH {
        let Some(parent) = dir.parent() else {
            return Ok(()); // checked "/"
        };
        dir = parent;
        let bad = match std::fs::metadata(dir) {
            Ok(m) => !owner_ok(m.uid(), uid) || m.mode() & GROUP_WORLD_WRITABLE != 0,
            Err(_) => true,
        };
        if bad {
            return Err(format!(
                "bad ownership or modes for directory {}",
                dir.display()
            ));
        }
        if dir == home {
            return Ok(());
        }
    }
    Err(format!("{} is nested too deeply", real.display()))
}

/// Whether a private key file is private enough to load: no group or world access
/// (mode `& 0o077 == 0`), as OpenSSH requires ("UNPROTECTED PRIVATE KEY FILE").
pub fn private_key_mode_ok(path: &Path) -> io::Result<bool> {
    let mode = std::fs::metadata(path)?.permissions().mode();
    Ok(mode & GROUP_WORLD_ANY == 0)
}

/// Check `dir` as OpenSSH's `safely_chroot` does before `chroot(2)` into it: an
/// absolute path, and it and every directory above it owned by root and not writable
/// by group or others (else a user could plant a file the chrooted session trusts,
/// such as a shell or a library). `Err` carries OpenSSH's reason, to log.
pub fn chroot_path_ok(dir: &Path) -> Result<(), String> {
    if !dir.is_absolute() {
        return Err(format!(
            "chroot path does not begin at root: \"{}\"",
            dir.display()
        ));
    }
    let mut components = Vec::new();
    let mut p = Some(dir);
    while let Some(d) = p {
        components.push(d);
        if components.len() > MAX_PATH_DEPTH {
            return Err(format!("{} is nested too deeply", dir.display()));
        }
        p = d.parent();
    }
    for component in components.into_iter().rev() {
        let m = std::fs::metadata(component)
            .map_err(|e| format!("stat(\"{}\"): {e}", component.display()))?;
        if m.uid() != 0 || m.mode() & GROUP_WORLD_WRITABLE != 0 {
            return Err(format!(
                "bad ownership or modes for chroot directory {}\"{}\"",
                if component == dir { "" } else { "component " },
                component.display()
            ));
        }
        if !m.is_dir() {
            return Err(format!(
                "chroot path \"{}\" is not a directory",
                component.display()
            ));
        }
    }
    Ok(())
}
