//! A session's environment, as OpenSSH's `do_setup_env` builds it, and what a forced
//! command keeps out of it.
//!
//! In order, a later source overriding an earlier one: the variables the client sent
//! (`env` requests that `AcceptEnv` admits), the account's (`USER`, `LOGNAME`, `HOME`,
//! `PATH`, `MAIL`, `SHELL`, `TZ`, `TERM`), the `environment=` options of the key, the
//! user's `~/.ssh/environment` (both only as `PermitUserEnvironment` allows), `SetEnv`,
//! and then the connection's (`SSH_CLIENT`, `SSH_CONNECTION`, `SSH_TTY`,
//! `SSH_ORIGINAL_COMMAND`).
//!
//! When a command is forced (`ForceCommand`, or `command=` in `authorized_keys`), no
//! variable from the client, the key, the user's file or `SetEnv` may change how that
//! command runs: names the shell or the dynamic linker act on (`BASH_ENV`, `ENV`,
//! `LD_*`, ...) and the account's own variables are dropped. Sizes are bounded.

/// Most variables a client may set on one channel.
pub const MAX_CLIENT_VARS: usize = 256;
/// Most bytes (names and values) a client may set on one channel.
pub const MAX_CLIENT_ENV_BYTES: usize = 64 * 1024;
/// Most lines read from `~/.ssh/environment` (as OpenSSH).
pub const MAX_ENVIRONMENT_FILE_LINES: usize = 1000;

/// Names a shell, the dynamic linker or a common interpreter acts on at start-up: a
/// forced command must not run with them set by someone else.
const DANGEROUS: &[&str] = &[
    "BASH_ENV",
    "ENV",
    "SHELLOPTS",
    "BASHOPTS",
    "PS4",
    "IFS",
    "PROMPT_COMMAND",
    "GLOBIGNORE",
    "CDPATH",
    "GCONV_PATH",
    "HOSTALIASES",
    "LOCPATH",
    "NLSPATH",
    "RESOLV_HOST_CONF",
    "PYTHONSTARTUP",
    "PYTHONPATH",
    "PYTHONINSPECT",
    "PYTHONHOME",
    "PERL5OPT",
    "PERL5LIB",
    "PERLLIB",
    "RUBYOPT",
    "RUBYLIB",
    "NODE_OPTIONS",
    "GIT_CONFIG_PARAMETERS",
];
/// Prefixes of such names (`LD_PRELOAD`, `BASH_FUNC_f%%`, `MALLOC_CHECK_`, ...).
const DANGEROUS_PREFIXES: &[&str] = &["LD_", "BASH_FUNC_", "MALLOC_", "GLIBC_", "GIT_"];
/// The account's variables, which the daemon sets and others may not change under a
/// forced command (`PATH` decides which program a command name is).
const ACCOUNT_VARS: &[&str] = &["USER", "LOGNAME", "HOME", "PATH", "MAIL", "SHELL"];

/// Whether a variable from someone other than the administrator's ForceCommand may
/// stand next to a forced command.
pub fn allowed_under_forced_command(name: &str) -> bool {
    !(DANGEROUS.contains(&name)
        || DANGEROUS_PREFIXES.iter().any(|p| name.starts_with(p))
        || ACCOUNT_VARS.contains(&name)
        || name.starts_with("SSH_"))
}

/// An environment under construction: later `set`s of a name replace earlier ones,
/// keeping the first position (as OpenSSH's `child_set_env`).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Env {
    vars: Vec<(String, String)>,
}

impl Env {
    /// Sets `name` to `value`.
    pub fn set(&mut self, name: &str, value: &str) {
        match self.vars.iter_mut().find(|(n, _)| n == name) {
            Some((_, v)) => *v = value.to_string(),
            None => self.vars.push((name.to_string(), value.to_string())),
        }
    }

    /// Sets each of `vars`, but under a forced command only those that
    /// [`allowed_under_forced_command`]; returns the names dropped.
    pub fn set_untrusted<'a>(
        &mut self,
        vars: impl IntoIterator<Item = (&'a str, &'a str)>,
        forced: bool,
    ) -> Vec<String> {
        let mut dropped = Vec::new();
        for (n, v) in vars {
            if forced && !allowed_under_forced_command(n) {
                dropped.push(n.to_string());
            } else {
                self.set(n, v);
            }
        }
        dropped
    }

    /// The variables, in order.
    pub fn into_vec(self) -> Vec<(String, String)> {
        self.vars
    }
}

/// PAM's `NAME=value` strings as pairs, without the names OpenSSH keeps PAM from
/// setting (`SSH_AUTH_INFO*`, `SSH_CONNECTION*`) and without malformed entries.
pub fn pam_pairs(list: &[String]) -> Vec<(String, String)> {
    list.iter()
        .filter_map(|e| e.split_once('='))
        .filter(|(k, _)| {
            !k.is_empty() && !k.starts_with("SSH_AUTH_INFO") && !k.starts_with("SSH_CONNECTION")
        })
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// The `NAME=value` lines of an environment file (`~/.ssh/environment`): blank lines and
/// `#` comments skipped, lines without `=` skipped, at most
/// [`MAX_ENVIRONMENT_FILE_LINES`] lines read; `allow` decides which names are kept.
pub fn parse_environment_file(text: &str, allow: impl Fn(&str) -> bool) -> Vec<(String, String)> {
    text.lines()
        .take(MAX_ENVIRONMENT_FILE_LINES)
        .map(|l| l.trim_start_matches([' ', '\t']))
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split_once('='))
        .filter(|(n, _)| !n.is_empty() && allow(n))
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn later_sources_replace_earlier_ones_in_place() {
        let mut e = Env::default();
        e.set("A", "1");
        e.set("B", "2");
        e.set("A", "3");
        assert_eq!(
            e.into_vec(),
            [("A".into(), "3".into()), ("B".into(), "2".into())]
        );
    }

    #[test]
    fn forced_commands_keep_shell_and_linker_variables_out() {
        for bad in [
            "BASH_ENV",
            "ENV",
            "LD_PRELOAD",
            "LD_LIBRARY_PATH",
            "BASH_FUNC_x%%",
            "PATH",
            "HOME",
            "SSH_ORIGINAL_COMMAND",
            "PYTHONSTARTUP",
        ] {
            assert!(!allowed_under_forced_command(bad), "{bad}");
        }
        for ok in ["LANG", "LC_ALL", "TZ", "EDITOR", "TERM"] {
            assert!(allowed_under_forced_command(ok), "{ok}");
        }
        let mut e = Env::default();
        e.set("PATH", "/usr/bin:/bin");
        let dropped = e.set_untrusted(
            [("LD_PRELOAD", "/tmp/x.so"), ("LANG", "C"), ("PATH", "/tmp")],
            true,
        );
        assert_eq!(dropped, ["LD_PRELOAD", "PATH"]);
        assert_eq!(
            e.clone().into_vec(),
            [
                ("PATH".into(), "/usr/bin:/bin".into()),
                ("LANG".into(), "C".into())
            ]
        );
        // Without a forced command everything goes in.
        assert!(e.set_untrusted([("LD_PRELOAD", "x")], false).is_empty());
    }

    #[test]
    fn environment_files() {
        let text = "# comment\n\n  A=1\nnoequals\n=novalue\nB=x=y\n\tC=\n";
        assert_eq!(
            parse_environment_file(text, |_| true),
            [
                ("A".into(), "1".into()),
                ("B".into(), "x=y".into()),
                ("C".into(), String::new())
            ]
        );
        assert_eq!(parse_environment_file(text, |n| n == "B").len(), 1);
        let many = "X=1\n".repeat(5000);
        assert_eq!(
            parse_environment_file(&many, |_| true).len(),
            MAX_ENVIRONMENT_FILE_LINES
        );
    }
}
