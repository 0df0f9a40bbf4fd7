//! `ExposeAuthInfo`: the file that `SSH_USER_AUTH` names, listing the methods (and
//! keys) that authenticated the user, one per line as OpenSSH writes them
//! (`publickey ssh-ed25519 AAAA…`, `password`).
//!
//! The post-auth child writes it as the user, in `/tmp` under a random name
//! (`sshauth.` and 16 hex digits, created exclusively, mode 0600), and removes it when
//! the connection ends.
//!
//! ```no_run
//! let f = sisu_daemon::postauth::auth_info::AuthInfoFile::create(&["password".into()]).unwrap();
//! assert!(std::fs::read_to_string(f.path()).unwrap() == "password\n");
//! ```

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// The directory the file goes in.
pub const AUTH_INFO_DIR: &str = "/tmp";

/// The file, removed when dropped.
#[derive(Debug)]
pub struct AuthInfoFile {
    path: PathBuf,
}

impl AuthInfoFile {
    /// Writes `lines` to a new file (see the module docs).
    pub fn create(lines: &[String]) -> std::io::Result<AuthInfoFile> {
        use rand_core::RngCore;
        let mut tries = 0;
        loop {
            let name = format!("sshauth.{:016x}", rand_core::OsRng.next_u64());
            let path = Path::new(AUTH_INFO_DIR).join(name);
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&path)
            {
                Ok(mut f) => {
                    let file = AuthInfoFile { path };
                    for l in lines {
                        writeln!(f, "{l}")?;
                    }
                    return Ok(file);
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && tries < 8 => tries += 1,
                Err(e) => return Err(e),
            }
        }
    }

    /// Where it is.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for AuthInfoFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn written_private_and_removed() {
        let f = AuthInfoFile::create(&["password".into(), "publickey ssh-ed25519 AAAA".into()])
            .unwrap();
        let path = f.path().to_path_buf();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "password\npublickey ssh-ed25519 AAAA\n"
        );
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        drop(f);
        assert!(!path.exists());
    }
}
