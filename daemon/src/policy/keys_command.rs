//! `AuthorizedKeysCommand` and `AuthorizedPrincipalsCommand`: a program the monitor
//! runs to learn a user's keys or principals (how sites keep them in a directory
//! service: `sss_ssh_authorizedkeys`, LDAP helpers).
//!
//! As OpenSSH's: the command line is split like an `sshd_config` line and its `%`
//! tokens expanded; with no arguments the user name is the one argument. The program
//! must be an absolute path to a regular file that root owns and nobody else can
//! write, nor any directory above it. It runs as the `…CommandUser` (with that user's
//! supplementary groups, as OpenSSH's initgroups), with stdin from `/dev/null`,
//! stderr discarded, and an
//! environment of only `PATH` (a fixed, safe one). What it prints is read as an
//! `authorized_keys` file (or a principals file) only when it exits 0, within
//! [`COMMAND_TIMEOUT`] and [`MAX_OUTPUT`] bytes; otherwise nothing it said counts.
//!
//! ```
//! use sisu_daemon::policy::keys_command::expand_command;
//! let argv = expand_command("/usr/bin/keys %u %t", &[('u', "alice"), ('t', "ssh-ed25519")]).unwrap();
//! assert_eq!(argv, ["/usr/bin/keys", "alice", "ssh-ed25519"]);
//! assert_eq!(expand_command("/usr/bin/keys", &[('u', "alice")]).unwrap(), ["/usr/bin/keys", "alice"]);
//! assert!(expand_command("/usr/bin/keys %Q", &[('u', "alice")]).is_err());
//! ```

use std::io::Read;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How long the command may run before it is killed and its answer ignored.
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(30);

/// Most bytes of output read; a command that prints more is ignored.
pub const MAX_OUTPUT: usize = 4 << 20;

/// The only environment variable the command gets (OpenSSH's `_PATH_STDPATH`).
pub const SAFE_PATH: &str = "/usr/bin:/bin:/usr/sbin:/sbin";

/// The command line split into words with `%` tokens expanded from `tokens` (`%%`
/// is `%`); a token not in `tokens` is an error, as OpenSSH refuses it. Without
/// arguments, the `%u` value is appended.
pub fn expand_command(line: &str, tokens: &[(char, &str)]) -> Result<Vec<String>, String> {
    let words = crate::config::lexer::split_args(line).map_err(|e| format!("{e:?}"))?;
    if words.is_empty() {
        return Err("empty command".into());
    }
    let mut argv = Vec::with_capacity(words.len());
    for w in &words {
        let mut out = String::new();
        let mut chars = w.chars();
        while let Some(c) = chars.next() {
            if c != '%' {
                out.push(c);
                continue;
            }
            match chars.next() {
                Some('%') => out.push('%'),
                Some(t) => match tokens.iter().find(|(k, _)| *k == t) {
                    Some((_, v)) => out.push_str(v),
                    None => return Err(format!("unknown token %{t}")),
                },
                None => return Err("% at the end of the command".into()),
            }
        }
        argv.push(out);
    }
    if argv.len() == 1 {
        if let Some((_, user)) = tokens.iter().find(|(k, _)| *k == 'u') {
            argv.push(user.to_string());
        }
    }
    Ok(argv)
}

/// Whether `program` may be run as a command: an absolute path to a regular file,
/// owned by root and not writable by group or others, in directories of the same kind.
pub fn safe_program(program: &Path) -> Result<(), String> {
    if !program.is_absolute() {
        return Err(format!("{} is not an absolute path", program.display()));
    }
    let meta = std::fs::metadata(program).map_err(|e| format!("{}: {e}", program.display()))?;
    if !meta.is_file() {
        return Err(format!("{} is not a regular file", program.display()));
    }
    let mut at = Some(program);
    while let Some(p) = at {
        let m = std::fs::metadata(p).map_err(|e| format!("{}: {e}", p.display()))?;
        if m.uid() != 0 || m.mode() & 0o022 != 0 {
            return Err(format!("bad ownership or modes for {}", p.display()));
        }
        at = p.parent();
    }
    Ok(())
}

/// Runs `argv` as `identity` (see the module docs): its output when it exits 0 in
/// time; `Err` says why not (for the log line).
pub fn run(argv: &[String], identity: &crate::os::Identity) -> Result<Vec<u8>, String> {
    let (program, args) = argv.split_first().ok_or("empty command")?;
    safe_program(Path::new(program))?;
    let mut cmd = Command::new(program);
    cmd.args(args)
        .env_clear()
        .env("PATH", SAFE_PATH)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .current_dir("/");
    if crate::os::is_root() {
        crate::os::process::run_as(&mut cmd, identity);
    }
    let mut child = cmd.spawn().map_err(|e| format!("{program}: {e}"))?;
    let mut stdout = child.stdout.take().ok_or("no stdout")?;
    let reader = std::thread::spawn(move || {
        let mut out = Vec::new();
        let r = (&mut stdout)
            .take(MAX_OUTPUT as u64 + 1)
            .read_to_end(&mut out);
        r.map(|_| out)
    });
    let deadline = Instant::now() + COMMAND_TIMEOUT;
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => break s,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(5)),
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                // The reader ends with the pipe (unless a grandchild holds it: it is
                // left to finish on its own).
                return Err(format!(
                    "{program} ran longer than {} s and was killed",
                    COMMAND_TIMEOUT.as_secs()
                ));
            }
            Err(e) => return Err(format!("{program}: {e}")),
        }
    };
    if !status.success() {
        return Err(format!(
            "{program} failed, status {}",
            status.code().unwrap_or(-1)
        ));
    }
    let out = reader
        .join()
        .map_err(|_| "reader thread failed".to_string())?
        .map_err(|e| format!("{program}: {e}"))?;
    if out.len() > MAX_OUTPUT {
        return Err(format!("{program} printed more than {MAX_OUTPUT} bytes"));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_quotes_and_errors() {
        let t = [
            ('u', "alice"),
            ('h', "/home/alice"),
            ('C', "1.2.3.4 5 6.7.8.9 22"),
        ];
        assert_eq!(
            expand_command("/bin/k \"%u x\" 100%% %C", &t).unwrap(),
            ["/bin/k", "alice x", "100%", "1.2.3.4 5 6.7.8.9 22"]
        );
        assert!(expand_command("", &t).is_err());
        assert!(expand_command("/bin/k %", &t).is_err());
    }

    #[test]
    fn only_safe_programs_run() {
        assert!(safe_program(Path::new("relative/prog")).is_err());
        assert!(safe_program(Path::new("/nonexistent/prog")).is_err());
        assert!(safe_program(Path::new("/")).is_err());
        if crate::os::is_root() {
            assert!(safe_program(Path::new("/bin/echo")).is_ok());
            let nobody = crate::os::Identity {
                groups: vec![65534, 4],
                gid: 65534,
                uid: 65534,
            };
            let out = run(&["/bin/echo".into(), "a b".into()], &nobody).unwrap();
            assert_eq!(out, b"a b\n");
            assert!(run(&["/bin/false".into()], &nobody)
                .unwrap_err()
                .contains("status 1"));
            // As the user, with its supplementary groups.
            let out = run(&["/usr/bin/id".into()], &nobody).unwrap();
            let text = String::from_utf8(out).unwrap();
            assert!(text.starts_with("uid=65534"), "{text}");
            assert!(text.contains("groups=65534(nogroup),4("), "{text}");
        }
    }
}
