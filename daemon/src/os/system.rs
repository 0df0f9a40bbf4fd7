//! Process-wide chores of a daemon: detaching from the terminal, the pid file, the
//! host name, and the process names `ps` shows.

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

/// `ps`'s name (`comm`) of a connection's monitor. A session starts from an image of the
/// binary (`/proc/self/fd/N`), so without this its name would be that descriptor's
/// number.
pub const MONITOR_NAME: &str = "sisu-sshd[priv]";
/// `ps`'s name of the pre-authentication child (it parses the network).
pub const PREAUTH_NAME: &str = "sisu-sshd[net]";
/// `ps`'s name of the post-authentication child (it runs as the user).
pub const POSTAUTH_NAME: &str = "sisu-sshd[user]";

/// Sets this process's name as `ps -o comm` shows it (at most 15 bytes; best effort).
pub fn set_process_name(name: &str) {
    if let Ok(c) = std::ffi::CString::new(name) {
        let _ = nix::sys::prctl::set_name(&c);
    }
}

/// The whole of a file of at most `max` bytes; a longer one is an error ("longer than
/// MAX bytes"), so that nobody judges a cut file. Read through one bounded `read`
/// loop, whatever the file claims its size is.
pub fn read_bounded(path: &Path, max: usize) -> io::Result<Vec<u8>> {
    use std::io::Read;
    let mut bytes = Vec::new();
    std::fs::File::open(path)?
        .take(max as u64 + 1)
        .read_to_end(&mut bytes)?;
    if bytes.len() > max {
        return Err(io::Error::other(format!("longer than {max} bytes")));
    }
    Ok(bytes)
}
