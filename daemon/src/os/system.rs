//! Process-wide chores of a daemon: detaching from the terminal, the pid file, and the
//! host name.

use std::fs::OpenOptions;
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

/// Detach as sshd does without `-D`: fork, the parent exits, the child starts a new
/// session (`setsid`), changes to `/` and points stdin, stdout and stderr at
/// `/dev/null` (`daemon(3)`). Call it before any thread is started.
pub fn daemonize() -> io::Result<()> {
    nix::unistd::daemon(false, false)?;
    Ok(())
}

/// Write this process's pid and a newline to `path` (created mode 0644, or truncated).
pub fn write_pid_file(path: &Path) -> io::Result<()> {
    let mut file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o644)
        .open(path)?;
    writeln!(file, "{}", std::process::id())?;
    file.sync_all()
}

/// This machine's host name (`gethostname(2)`), or `"localhost"` if it cannot be read.
pub fn hostname() -> String {
    match nix::unistd::gethostname() {
        Ok(name) if !name.is_empty() => name.to_string_lossy().into_owned(),
        _ => "localhost".to_string(),
    }
}
