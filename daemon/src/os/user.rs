//! The password and group databases: who a user is and which groups they belong to.
//!
//! Look-ups go through the C library (`getpwnam_r`, `getpwuid_r`, `getgrouplist`), so
//! NSS sources (LDAP, sssd, systemd-userdb) work as they do for OpenSSH.

use std::ffi::CString;
use std::io;
use std::path::PathBuf;

use nix::unistd::{geteuid, getgrouplist, getuid, User};

/// Longest user name looked up; longer names (from a peer) are reported as unknown.
pub const MAX_USER_NAME_LEN: usize = 256;

/// Most supplementary groups kept for a user (Linux's `NGROUPS_MAX`).
pub const MAX_GROUPS: usize = 65_536;

/// A user account, as the daemon needs it to start a session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserInfo {
    /// Login name.
    pub name: String,
    /// User id.
    pub uid: u32,
    /// Primary group id.
    pub gid: u32,
    /// Home directory.
    pub home: PathBuf,
    /// Login shell (may be empty in the database; [`crate::os::spawn`] then uses `/bin/sh`).
    pub shell: PathBuf,
    /// Every group the user is in, the primary group included (`getgrouplist`).
    pub groups: Vec<u32>,
}

/// Look a user up by name. `Ok(None)` when there is no such user (or the name cannot be
/// one: empty, too long, or containing NUL).
pub fn lookup_user(name: &str) -> io::Result<Option<UserInfo>> {
    if name.is_empty() || name.len() > MAX_USER_NAME_LEN || name.contains('\0') {
        return Ok(None);
    }
    match User::from_name(name)? {
        Some(user) => Ok(Some(user_info(user)?)),
        None => Ok(None),
    }
}

/// The user this process runs as (its real uid).
pub fn current_user() -> io::Result<UserInfo> {
    match User::from_uid(getuid())? {
        Some(user) => user_info(user),
        None => Err(io::Error::new(
            io::ErrorKind::NotFound,
            format!("no password entry for uid {}", getuid()),
        )),
    }
}

/// Whether the process runs with effective uid 0 (and so can switch users).
pub fn is_root() -> bool {
    geteuid().is_root()
}

fn user_info(user: User) -> io::Result<UserInfo> {
    let cname = CString::new(user.name.as_bytes())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "NUL in user name"))?;
    let mut groups: Vec<u32> = getgrouplist(&cname, user.gid)?
        .into_iter()
        .map(|g| g.as_raw())
        .collect();
    if !groups.contains(&user.gid.as_raw()) {
        groups.insert(0, user.gid.as_raw());
    }
    groups.truncate(MAX_GROUPS);
    Ok(UserInfo {
        name: user.name,
        uid: user.uid.as_raw(),
        gid: user.gid.as_raw(),
        home: user.dir,
        shell: user.shell,
        groups,
    })
}
