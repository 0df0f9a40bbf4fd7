//! Who the pre-auth child becomes and where it is locked in.
//!
//! As root, the child runs as the privilege separation user [`PRIVSEP_USER`] inside
//! the empty directory [`PRIVSEP_DIR`]. When that user does not exist (a machine where
//! the package did not create it), it runs as `nobody` instead, and the listener says
//! so once at start-up: `nobody` is shared with other services, so a compromised child
//! could signal their processes; create the user to avoid that. The directory is
//! created when missing (root-owned, mode 0755), as the systemd unit's
//! `RuntimeDirectory` does. As an ordinary user, there is no switch and no chroot.

use crate::os;
use std::io;
use std::os::unix::fs::{DirBuilderExt, MetadataExt};
use std::path::Path;

/// The privilege separation user.
pub const PRIVSEP_USER: &str = "sisu-sshd";
/// The user taken when [`PRIVSEP_USER`] does not exist.
pub const FALLBACK_USER: &str = "nobody";
/// The pre-auth child's root: an empty directory owned by root.
pub const PRIVSEP_DIR: &str = "/run/sisu-sshd";

/// The pre-auth child's sandbox: user and chroot (both `None` when not root).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SandboxSpec {
    /// uid and gid to become.
    pub identity: Option<(u32, u32)>,
    /// The directory to chroot into.
    pub chroot: Option<String>,
    /// The user's name.
    pub user: Option<String>,
}

/// The sandbox for this process's children: as root, [`PRIVSEP_USER`] (or
/// [`FALLBACK_USER`]) in [`PRIVSEP_DIR`], which is created when missing; otherwise
/// nothing to switch. `Err` when root has neither user, or the directory is unusable.
pub fn sandbox_spec() -> io::Result<SandboxSpec> {
    if !os::is_root() {
        return Ok(SandboxSpec {
            identity: None,
            chroot: None,
            user: None,
        });
    }
    let user = match os::lookup_user(PRIVSEP_USER)? {
        Some(u) => u,
        None => os::lookup_user(FALLBACK_USER)?.ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::NotFound,
                format!("Privilege separation user {PRIVSEP_USER} does not exist"),
            )
        })?,
    };
    if user.uid == 0 {
        return Err(io::Error::new(
            io::ErrorKind::PermissionDenied,
            format!("privilege separation user {} is root", user.name),
        ));
    }
    ensure_dir(Path::new(PRIVSEP_DIR))?;
    Ok(SandboxSpec {
        identity: Some((user.uid, user.gid)),
        chroot: Some(PRIVSEP_DIR.to_string()),
        user: Some(user.name),
    })
}

/// Whether the privilege separation user exists (else [`FALLBACK_USER`] stands in).
pub fn privsep_user_exists() -> bool {
    os::lookup_user(PRIVSEP_USER).ok().flatten().is_some()
}

/// Creates `dir` (root's, mode 0755) when missing, and checks it is root's, not
/// writable by others, and empty.
fn ensure_dir(dir: &Path) -> io::Result<()> {
    match std::fs::DirBuilder::new().mode(0o755).create(dir) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(e),
    }
    let m = std::fs::metadata(dir)?;
    if !m.is_dir() || m.uid() != 0 || m.mode() & 0o022 != 0 {
        return Err(io::Error::new(
            io::ErrorKind::PermissionDenied,
            format!(
                "{} must be a directory owned by root and not group or world writable",
                dir.display()
            ),
        ));
    }
    if std::fs::read_dir(dir)?.next().is_some() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{} must be empty", dir.display()),
        ));
    }
    Ok(())
}
