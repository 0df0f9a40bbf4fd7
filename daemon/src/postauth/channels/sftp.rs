//! `internal-sftp`: the SFTP server of `sisu-sftp` run in a forked copy of the
//! post-auth child, as the user and inside any `ChrootDirectory` (so the chroot needs
//! no files), for `Subsystem sftp internal-sftp [OPTIONS]` or `ForceCommand
//! internal-sftp`. Its log lines go where the daemon's go.

use super::*;

/// The name that means "the server inside the daemon" in `Subsystem` and
/// `ForceCommand`.
pub const INTERNAL_SFTP: &str = "internal-sftp";

/// Whether `command` runs the internal server.
pub fn is_internal_sftp(command: &str) -> bool {
    command.split_whitespace().next() == Some(INTERNAL_SFTP)
}

/// The daemon's log, for the SFTP server's lines.
struct DaemonLog;

impl sisu_sftp::LogSink for DaemonLog {
    fn log(&mut self, level: sisu_sftp::Level, line: &str) {
        use crate::log::Level as L;
        use sisu_sftp::Level as S;
        let level = match level {
            S::Quiet => return,
            S::Fatal => L::Fatal,
            S::Error => L::Error,
            S::Info => L::Info,
            S::Verbose => L::Verbose,
            S::Debug1 => L::Debug1,
            S::Debug2 => L::Debug2,
            S::Debug3 => L::Debug3,
        };
        crate::log::log(level, line);
    }
}

impl Channels {
    /// Starts `internal-sftp` with the options of `command` on session `c` (`ch`);
    /// `forced`: by ForceCommand.
    pub(super) fn run_internal_sftp(
        &mut self,
        ch: ChannelId,
        c: &mut super::session::Session,
        user: &UserInfo,
        command: &str,
        forced: bool,
    ) -> bool {
        let args: Vec<String> = command
            .split_whitespace()
            .skip(1)
            .map(str::to_string)
            .collect();
        let mut options = match sisu_sftp::Options::parse(&args) {
            Ok(o) => o,
            Err(e) => {
                error!("internal-sftp: {e}");
                return false;
            }
        };
        options.user = user.name.clone();
        options.uid = user.uid;
        options.home = user.home.to_string_lossy().into_owned();
        options.client_addr = self.ends.peer_ip();
        // A terminal means nothing to an SFTP server.
        c.pty = None;
        let home = user.home.clone();
        let child = os::process::fork_with_pipes(crate::log::sink_fd(), move |stdin, stdout| {
            // As sftp-server, relative paths start at the home directory (the chroot's
            // root when it is not there).
            if std::env::set_current_dir(&home).is_err() {
                let _ = std::env::set_current_dir("/");
            }
            match sisu_sftp::serve(stdin, stdout, &options, DaemonLog) {
                Ok(()) => 0,
                Err(e) => e.exit_code(),
            }
        });
        let child = match child {
            Ok(c) => c,
            Err(e) => {
                error!(
                    "session: failed to start internal-sftp for {}: {e}",
                    user.name
                );
                return false;
            }
        };
        let peer = self.peer();
        c.started = true;
        c.running = Some("subsystem:sftp".into());
        c.pid = Some(child.pid);
        c.pipes.stdin = child.stdin.map(File::from);
        c.pipes.stdout = child.stdout.map(File::from);
        c.pipes.stderr = child.stderr.map(File::from);
        let what = if forced {
            "forced-command (config) 'internal-sftp'"
        } else {
            "subsystem 'sftp'"
        };
        info!(
            "Starting session: {what} for {} from {peer} id {ch}",
            user.name
        );
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_sftp_is_the_first_word() {
        assert!(is_internal_sftp("internal-sftp"));
        assert!(is_internal_sftp("internal-sftp -R -l INFO"));
        assert!(!is_internal_sftp("/usr/lib/openssh/sftp-server"));
        assert!(!is_internal_sftp("internal-sftpx"));
    }
}
