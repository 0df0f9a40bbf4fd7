//! # The command line of `sisu-sshd`, as OpenSSH's `sshd`
//!
//! [`parse_args`] reads the whole `argv` (program name first, as [`std::env::args`]
//! gives it) with the rules of POSIX `getopt` as glibc applies them: short options may
//! be grouped (`-De`, `-dd`), an option's argument may be attached (`-p2222`,
//! `-oPort=22`) or the next word, `--` ends the options, and other words are reported
//! as `Extra argument`. The flags are `sshd`'s:
//!
//! | flag | meaning |
//! |---|---|
//! | `-4` `-6` | IPv4 / IPv6 only (`AddressFamily`) |
//! | `-C spec` | connection for `-T` (`user=,host=,addr=,laddr=,lport=`) |
//! | `-c file` | host certificate |
//! | `-D` | do not detach |
//! | `-d` | debug (up to 3 times); implies `-D` and `-e` |
//! | `-E file` | log to `file` (implies `-e`) |
//! | `-e` | log to stderr |
//! | `-f file` | configuration file (default [`DEFAULT_CONFIG_FILE`]) |
//! | `-G` | print the configuration without checking host keys, and exit |
//! | `-g time` | `LoginGraceTime` |
//! | `-h file` | host key (repeatable) |
//! | `-i` | inetd mode: one connection on stdin/stdout |
//! | `-o option` | a configuration line (repeatable; wins over the file) |
//! | `-p port` | port (repeatable; the file's `Port` lines are then ignored) |
//! | `-Q query` | list supported algorithms and exit (`cipher`, `mac`, `kex`, `key`, ...) |
//! | `-q` | quiet (`LogLevel QUIET`) |
//! | `-R` | re-executed session child (internal): like `-i` |
//! | `-r` | do not re-execute for each connection |
//! | `-T` | print the effective configuration and exit |
//! | `-t` | check the configuration and exit |
//! | `-u len` | utmp host name length |
//! | `-V` | print the version and exit |
//! | `-Z role` | a session monitor's child (internal): `preauth` or `postauth` |
//! | `-b bits`, `-k time` | protocol 1's `ServerKeyBits`, `KeyRegenerationInterval` |
//!
//! An error is the message to print on stderr; the caller then exits with status 1
//! ([`EXIT_USAGE`]).
//!
//! ```
//! use sisu_daemon::cli::parse_args;
//! let argv = ["sisu-sshd", "-dd", "-p2222", "-o", "PermitRootLogin no", "-f", "/tmp/cfg"];
//! let args = parse_args(argv.iter().map(|s| s.to_string())).unwrap();
//! assert_eq!(args.debug, 2);
//! assert!(!args.detach() && args.logs_to_stderr());
//! assert_eq!(args.ports, [2222]);
//! assert_eq!(args.options, ["PermitRootLogin no"]);
//! assert_eq!(args.config_file.to_str(), Some("/tmp/cfg"));
//!
//! let err = parse_args(["sisu-sshd", "-z"].iter().map(|s| s.to_string())).unwrap_err();
//! assert!(err.starts_with("sisu-sshd: invalid option -- 'z'\n"));
//! ```

use std::path::PathBuf;
use std::time::Duration;

use crate::config::{AddressFamily, ConnectionSpec, LogLevel, Overrides};

/// The configuration file read when `-f` is not given.
pub const DEFAULT_CONFIG_FILE: &str = "/etc/sisu/sshd_config";
/// The exit status after a command-line error (OpenSSH's).
pub const EXIT_USAGE: i32 = 1;
/// Most `-p` ports (OpenSSH's `MAX_PORTS`).
pub const MAX_PORTS: usize = 256;
/// Most values of any other repeatable flag (`-o`, `-h`, `-c`).
pub const MAX_REPEATS: usize = 1024;
/// Largest `-u` value (`HOST_NAME_MAX + 1` on Linux).
pub const MAX_UTMP_LEN: u32 = 65;

/// The version line printed by `-V` and above the usage text.
pub fn version_line() -> String {
    format!("sisu-sshd {}", env!("CARGO_PKG_VERSION"))
}

/// The usage text, as `sshd` prints it after a bad flag.
pub fn usage() -> String {
    format!(
        "{}\n\
         usage: sisu-sshd [-46DdeGiqTtV] [-C connection_spec] [-c host_cert_file]\n\
         \x20                [-E log_file] [-f config_file] [-g login_grace_time]\n\
         \x20                [-h host_key_file] [-o option] [-p port] [-Q query] [-u len]\n",
        version_line()
    )
}

/// `-t`, `-T` and `-G`: check or print the configuration, then exit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TestMode {
    /// `-t`: check the configuration and the host keys.
    Check,
    /// `-T`: check, then print the effective configuration.
    Print,
    /// `-G`: print the configuration without loading host keys.
    PrintUnchecked,
}

/// What `-Q` lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Query {
    /// `cipher` or `Ciphers`
    Cipher,
    /// `cipher-auth`: the authenticated ciphers only.
    CipherAuth,
    /// `mac` or `MACs`
    Mac,
    /// `kex` or `KexAlgorithms`
    Kex,
    /// `key`: every public key type.
    Key,
    /// `key-cert`: certificate key types.
    KeyCert,
    /// `key-plain`: key types that are not certificates.
    KeyPlain,
    /// `key-sig`, `sig`: signature algorithms.
    Sig,
    /// `HostKeyAlgorithms`
    HostKeyAlgorithms,
    /// `PubkeyAcceptedAlgorithms` (or `PubkeyAcceptedKeyTypes`)
    PubkeyAcceptedAlgorithms,
    /// `protocol-version`: the SSH protocol versions.
    ProtocolVersion,
    /// `help`: the query names.
    Help,
}

impl Query {
    /// Parses a `-Q` argument (the names `ssh -Q` takes, and the matching keywords,
    /// case-insensitive).
    pub fn parse(s: &str) -> Option<Query> {
        Some(match s.to_ascii_lowercase().as_str() {
            "cipher" | "ciphers" => Query::Cipher,
            "cipher-auth" => Query::CipherAuth,
            "mac" | "macs" => Query::Mac,
            "kex" | "kexalgorithms" => Query::Kex,
            "key" => Query::Key,
            "key-cert" => Query::KeyCert,
            "key-plain" => Query::KeyPlain,
            "key-sig" | "sig" => Query::Sig,
            "hostkeyalgorithms" => Query::HostKeyAlgorithms,
            "pubkeyacceptedalgorithms" | "pubkeyacceptedkeytypes" => {
                Query::PubkeyAcceptedAlgorithms
            }
            "protocol-version" => Query::ProtocolVersion,
            "help" => Query::Help,
            _ => return None,
        })
    }

    /// The names `-Q help` lists.
    pub const NAMES: &'static [&'static str] = &[
        "cipher",
        "cipher-auth",
        "mac",
        "kex",
        "key",
        "key-cert",
        "key-plain",
        "key-sig",
        "sig",
        "protocol-version",
        "HostKeyAlgorithms",
        "PubkeyAcceptedAlgorithms",
        "Ciphers",
        "MACs",
        "KexAlgorithms",
    ];
}

/// The parsed command line.
#[derive(Debug, Clone, PartialEq)]
pub struct Args {
    /// `-D`: stay in the foreground.
    pub no_detach: bool,
    /// How many `-d` were given (0 to 3; more are ignored, as OpenSSH).
    pub debug: u8,
    /// `-e` (or `-E`): log to stderr instead of syslog.
    pub log_stderr: bool,
    /// `-E`: append the log to this file.
    pub log_file: Option<PathBuf>,
    /// `-f`, or [`DEFAULT_CONFIG_FILE`].
    pub config_file: PathBuf,
    /// Whether `-f` was given (a missing named file is an error; a missing default
    /// file means built-in defaults).
    pub config_file_given: bool,
    /// `-p` ports, in order.
    pub ports: Vec<u16>,
    /// `-h` host keys, in order.
    pub host_keys: Vec<PathBuf>,
    /// `-c` host certificates, in order.
    pub host_certificates: Vec<PathBuf>,
    /// `-o` options, in order.
    pub options: Vec<String>,
    /// `-t`, `-T` or `-G` (the last one given).
    pub test: Option<TestMode>,
    /// `-C`: the connection `-T` evaluates `Match` blocks for.
    pub connection_spec: Option<ConnectionSpec>,
    /// `-i` (or `-R`): serve one connection on stdin/stdout.
    pub inetd: bool,
    /// `-R`: this process is a re-executed session child.
    pub rexeced: bool,
    /// `-Z ROLE` (Sisu's own, internal): this process is a child of a session's
    /// monitor, `preauth` or `postauth`.
    pub role: Option<Role>,
    /// `-r`: do not re-execute for each connection.
    pub no_reexec: bool,
    /// `-4` / `-6` (the last one given).
    pub address_family: Option<AddressFamily>,
    /// The log level `-q` and `-d` set (OpenSSH's arithmetic: the first `-d` sets
    /// `DEBUG1`, each further one raises it, `-q` sets `QUIET`).
    pub log_level: Option<LogLevel>,
    /// `-g`: `LoginGraceTime`.
    pub login_grace_time: Option<Duration>,
    /// `-u`: utmp host name length.
    pub utmp_len: Option<u32>,
    /// `-Q`: list algorithms and exit.
    pub query: Option<Query>,
    /// `-V`: print [`version_line`] and exit (flags after `-V` are not read).
    pub version: bool,
}

impl Default for Args {
    fn default() -> Args {
        Args {
            no_detach: false,
            debug: 0,
            log_stderr: false,
            log_file: None,
            config_file: PathBuf::from(DEFAULT_CONFIG_FILE),
            config_file_given: false,
            ports: Vec::new(),
            host_keys: Vec::new(),
            host_certificates: Vec::new(),
            options: Vec::new(),
            test: None,
            connection_spec: None,
            inetd: false,
            rexeced: false,
            role: None,
            no_reexec: false,
            address_family: None,
            log_level: None,
            login_grace_time: None,
            utmp_len: None,
            query: None,
            version: false,
        }
    }
}

impl Args {
    /// Whether the listener should detach (not with `-D`, `-d`, `-i`/`-R`, or a test).
    pub fn detach(&self) -> bool {
        !(self.no_detach || self.debug > 0 || self.inetd || self.test.is_some())
    }

    /// Whether logs go to stderr (`-e`, `-E`, or `-d`).
    pub fn logs_to_stderr(&self) -> bool {
        self.log_stderr || self.debug > 0 || self.log_file.is_some()
    }

    /// Whether the process re-executes itself per connection (not with `-r`, `-i`,
    /// `-R`, or in a test).
    pub fn reexec(&self) -> bool {
        !(self.no_reexec || self.inetd || self.rexeced || self.test.is_some())
    }

    /// What the command line sets in the configuration, for
    /// [`crate::config::parse_config_with_overrides`].
    pub fn overrides(&self) -> Overrides {
        Overrides {
            ports: self.ports.clone(),
            host_keys: self.host_keys.clone(),
            host_certificates: self.host_certificates.clone(),
            address_family: self.address_family,
            log_level: self.log_level,
            login_grace_time: self.login_grace_time,
            options: self.options.clone(),
        }
    }
}

/// What a process started by a session's monitor is (`-Z`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The sandboxed pre-authentication child.
    Preauth,
    /// The post-authentication child, running as the user.
    Postauth,
}

/// Which flags take an argument (OpenSSH's `getopt` string, with `-Q` taking one).
fn takes_argument(c: char) -> Option<bool> {
    match c {
        'C' | 'E' | 'b' | 'c' | 'f' | 'g' | 'h' | 'k' | 'o' | 'p' | 'u' | 'Q' | 'Z' => Some(true),
        '4' | '6' | 'D' | 'G' | 'R' | 'T' | 'd' | 'e' | 'i' | 'q' | 'r' | 't' | 'V' => Some(false),
        _ => None,
    }
}

fn push_bounded<T>(list: &mut Vec<T>, v: T, max: usize, flag: char) -> Result<(), String> {
    if list.len() >= max {
        return Err(format!("too many -{flag} options."));
    }
    list.push(v);
    Ok(())
}

/// Parses `argv` (program name first). The error is the text to print on stderr
/// before exiting with [`EXIT_USAGE`].
pub fn parse_args<I: IntoIterator<Item = String>>(args: I) -> Result<Args, String> {
    let mut it = args.into_iter();
    let prog = it.next().unwrap_or_else(|| "sisu-sshd".to_string());
    let prog = prog.rsplit('/').next().unwrap_or("sisu-sshd").to_string();
    let words: Vec<String> = it.collect();
    let mut a = Args::default();
    let mut extra: Option<String> = None;
    let mut i = 0;
    while i < words.len() {
        let w = &words[i];
        i += 1;
        if w == "--" {
            if extra.is_none() {
                extra = words.get(i).cloned();
            }
            break;
        }
        if !w.starts_with('-') || w == "-" {
            // glibc's getopt moves operands to the end and goes on.
            if extra.is_none() {
                extra = Some(w.clone());
            }
            continue;
        }
        for (pos, c) in w[1..].char_indices() {
            let needs = takes_argument(c)
                .ok_or_else(|| format!("{prog}: invalid option -- '{c}'\n{}", usage()))?;
            if !needs {
                if apply_flag(&mut a, c) {
                    return Ok(a);
                }
                continue;
            }
            let attached = &w[1 + pos + c.len_utf8()..];
            let value = if !attached.is_empty() {
                attached.to_string()
            } else if i < words.len() {
                i += 1;
                words[i - 1].clone()
            } else {
                return Err(format!(
                    "{prog}: option requires an argument -- '{c}'\n{}",
                    usage()
                ));
            };
            apply_option(&mut a, c, value)?;
            break;
        }
    }
    if let Some(x) = extra {
        return Err(format!("Extra argument {x}."));
    }
    if a.connection_spec.is_some()
        && !matches!(a.test, Some(TestMode::Print | TestMode::PrintUnchecked))
    {
        return Err("Config test connection parameter (-C) provided without test mode (-T)".into());
    }
    Ok(a)
}

/// Applies a flag without argument; `true` for `-V`, which ends parsing.
fn apply_flag(a: &mut Args, c: char) -> bool {
    match c {
        '4' => a.address_family = Some(AddressFamily::Inet),
        '6' => a.address_family = Some(AddressFamily::Inet6),
        'D' => a.no_detach = true,
        'd' => {
            if a.debug == 0 {
                a.debug = 1;
                a.log_level = Some(LogLevel::Debug1);
            } else if a.log_level.is_some_and(|l| l < LogLevel::Debug3) {
                a.debug = (a.debug + 1).min(3);
                a.log_level = a.log_level.map(LogLevel::more_verbose);
            }
        }
        'e' => a.log_stderr = true,
        'G' => a.test = Some(TestMode::PrintUnchecked),
        'i' => a.inetd = true,
        'q' => a.log_level = Some(LogLevel::Quiet),
        'R' => {
            a.rexeced = true;
            a.inetd = true;
        }
        'r' => a.no_reexec = true,
        'T' => a.test = Some(TestMode::Print),
        't' => a.test = Some(TestMode::Check),
        'V' => {
            a.version = true;
            return true;
        }
        _ => {}
    }
    false
}

/// Applies a flag with its argument.
fn apply_option(a: &mut Args, c: char, v: String) -> Result<(), String> {
    match c {
        'C' => a.connection_spec = Some(ConnectionSpec::parse(&v)?),
        'Z' => {
            a.role = Some(match v.as_str() {
                "preauth" => Role::Preauth,
                "postauth" => Role::Postauth,
                _ => return Err(format!("unknown role {v:?}")),
            })
        }
        'E' => {
            a.log_file = Some(PathBuf::from(v));
            a.log_stderr = true;
        }
        'c' => push_bounded(&mut a.host_certificates, PathBuf::from(v), MAX_REPEATS, c)?,
        'f' => {
            a.config_file = PathBuf::from(v);
            a.config_file_given = true;
        }
        'g' => {
            let t = crate::config::parse_time_value(&v)
                .ok_or_else(|| "Invalid login grace time.".to_string())?;
            a.login_grace_time = Some(t);
        }
        'h' => push_bounded(&mut a.host_keys, PathBuf::from(v), MAX_REPEATS, c)?,
        'o' => push_bounded(&mut a.options, v, MAX_REPEATS, c)?,
        'p' => {
            if a.ports.len() >= MAX_PORTS {
                return Err("too many ports.".into());
            }
            let port = v
                .parse::<u16>()
                .ok()
                .filter(|&p| p != 0 && v.bytes().all(|b| b.is_ascii_digit()))
                .ok_or_else(|| "Bad port number.".to_string())?;
            a.ports.push(port);
        }
        'Q' => {
            a.query = Some(Query::parse(&v).ok_or_else(|| format!("Unsupported query \"{v}\""))?)
        }
        'u' => {
            let n = v
                .parse::<u32>()
                .ok()
                .filter(|&n| n <= MAX_UTMP_LEN)
                .ok_or_else(|| "Invalid utmp length.".to_string())?;
            a.utmp_len = Some(n);
        }
        // Protocol 1's server key, as the seed's sshd took them: the same as the
        // keywords, winning over the file.
        'b' => push_bounded(&mut a.options, format!("ServerKeyBits {v}"), MAX_REPEATS, c)?,
        'k' => push_bounded(
            &mut a.options,
            format!("KeyRegenerationInterval {v}"),
            MAX_REPEATS,
            c,
        )?,
        _ => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn p(args: &[&str]) -> Result<Args, String> {
        parse_args(
            std::iter::once("/usr/sbin/sisu-sshd")
                .chain(args.iter().copied())
                .map(String::from),
        )
    }

    #[test]
    fn no_flags_gives_defaults() {
        let a = p(&[]).unwrap();
        assert_eq!(a, Args::default());
        assert!(a.detach() && !a.logs_to_stderr() && a.reexec());
        assert_eq!(a.config_file, PathBuf::from(DEFAULT_CONFIG_FILE));
        assert!(!a.config_file_given);
    }

    #[test]
    fn separate_and_attached_arguments_are_the_same() {
        let sep = p(&[
            "-p", "2222", "-o", "Port=2", "-f", "/c", "-h", "/k", "-E", "/log",
        ])
        .unwrap();
        let att = p(&["-p2222", "-oPort=2", "-f/c", "-h/k", "-E/log"]).unwrap();
        assert_eq!(sep, att);
        assert_eq!(sep.ports, [2222]);
        assert_eq!(sep.options, ["Port=2"]);
        assert!(sep.config_file_given);
        assert_eq!(sep.log_file, Some(PathBuf::from("/log")));
        assert!(sep.log_stderr, "-E implies -e");
    }

    #[test]
    fn grouped_flags() {
        let a = p(&["-De", "-ddd", "-d", "-46"]).unwrap();
        assert!(a.no_detach && a.log_stderr);
        assert_eq!(a.debug, 3);
        assert_eq!(a.log_level, Some(LogLevel::Debug3));
        assert_eq!(a.address_family, Some(AddressFamily::Inet6));
        // A flag group may end in an option that takes the rest as its argument.
        let a = p(&["-Dp2200", "-ip", "7"]).unwrap();
        assert_eq!(a.ports, [2200, 7]);
        assert!(a.no_detach && a.inetd);
    }

    #[test]
    fn debug_implies_foreground_and_stderr() {
        let a = p(&["-d"]).unwrap();
        assert_eq!(a.debug, 1);
        assert_eq!(a.log_level, Some(LogLevel::Debug1));
        assert!(!a.detach() && a.logs_to_stderr());
        let q = p(&["-q"]).unwrap();
        assert_eq!(q.log_level, Some(LogLevel::Quiet));
        assert!(q.detach());
    }

    #[test]
    fn repeatable_flags_keep_order() {
        let a = p(&[
            "-p", "1", "-p", "2", "-h", "/a", "-h", "/b", "-o", "A b", "-o", "C=d", "-c", "/x",
        ])
        .unwrap();
        assert_eq!(a.ports, [1, 2]);
        assert_eq!(a.host_keys, [PathBuf::from("/a"), PathBuf::from("/b")]);
        assert_eq!(a.options, ["A b", "C=d"]);
        let ov = a.overrides();
        assert_eq!(ov.ports, [1, 2]);
        assert_eq!(ov.options, ["A b", "C=d"]);
        assert_eq!(ov.host_certificates, [PathBuf::from("/x")]);
    }

    #[test]
    fn modes() {
        let a = p(&["-i"]).unwrap();
        assert!(a.inetd && !a.rexeced && !a.detach() && !a.reexec());
        let a = p(&["-R"]).unwrap();
        assert!(a.inetd && a.rexeced && !a.reexec());
        assert_eq!(p(&["-t"]).unwrap().test, Some(TestMode::Check));
        assert_eq!(p(&["-T"]).unwrap().test, Some(TestMode::Print));
        assert_eq!(p(&["-G"]).unwrap().test, Some(TestMode::PrintUnchecked));
        assert!(!p(&["-r"]).unwrap().reexec());
        assert_eq!(p(&["-Q", "kex"]).unwrap().query, Some(Query::Kex));
        assert_eq!(p(&["-QCiphers"]).unwrap().query, Some(Query::Cipher));
        assert_eq!(
            p(&["-g", "1m"]).unwrap().login_grace_time,
            Some(Duration::from_secs(60))
        );
        assert_eq!(p(&["-u0"]).unwrap().utmp_len, Some(0));
        // Protocol 1's server key options are the keywords.
        assert_eq!(
            p(&["-b", "768", "-k", "3600"]).unwrap().options,
            ["ServerKeyBits 768", "KeyRegenerationInterval 3600"]
        );
    }

    #[test]
    fn test_connection_spec() {
        let a = p(&["-T", "-C", "user=alice,addr=10.0.0.1,lport=22"]).unwrap();
        let c = a.connection_spec.unwrap();
        assert_eq!(c.user.as_deref(), Some("alice"));
        assert_eq!(c.local_port, Some(22));
        assert_eq!(
            p(&["-C", "user=alice"]).unwrap_err(),
            "Config test connection parameter (-C) provided without test mode (-T)"
        );
        assert_eq!(
            p(&["-T", "-C", "who=x"]).unwrap_err(),
            "Invalid test mode specification who=x"
        );
    }

    #[test]
    fn version_stops_parsing() {
        let a = p(&["-D", "-V", "-z", "junk"]).unwrap();
        assert!(a.version && a.no_detach);
        // But a bad flag before -V is still an error.
        assert!(p(&["-z", "-V"]).is_err());
    }

    #[test]
    fn usage_errors_read_like_openssh() {
        let e = p(&["-z"]).unwrap_err();
        assert!(
            e.starts_with("sisu-sshd: invalid option -- 'z'\nsisu-sshd "),
            "{e}"
        );
        assert!(e.contains("usage: sisu-sshd [-46DdeGiqTtV]"));
        let e = p(&["-p"]).unwrap_err();
        assert!(
            e.starts_with("sisu-sshd: option requires an argument -- 'p'\n"),
            "{e}"
        );
        assert!(p(&["--help"])
            .unwrap_err()
            .starts_with("sisu-sshd: invalid option -- '-'"));
        assert_eq!(p(&["-p", "0"]).unwrap_err(), "Bad port number.");
        assert_eq!(p(&["-p", "65536"]).unwrap_err(), "Bad port number.");
        assert_eq!(p(&["-p", "+22"]).unwrap_err(), "Bad port number.");
        assert_eq!(p(&["-g", "soon"]).unwrap_err(), "Invalid login grace time.");
        assert_eq!(p(&["-u", "66"]).unwrap_err(), "Invalid utmp length.");
        assert_eq!(
            p(&["-Q", "colours"]).unwrap_err(),
            "Unsupported query \"colours\""
        );
        assert_eq!(p(&["stray"]).unwrap_err(), "Extra argument stray.");
        assert_eq!(
            p(&["-D", "stray", "-e"]).unwrap_err(),
            "Extra argument stray."
        );
        assert_eq!(p(&["--", "-D"]).unwrap_err(), "Extra argument -D.");
        assert!(p(&["--"]).is_ok());
    }

    #[test]
    fn bounds() {
        let many: Vec<String> = (0..=MAX_PORTS).map(|_| "-p22".to_string()).collect();
        let refs: Vec<&str> = many.iter().map(String::as_str).collect();
        assert_eq!(p(&refs).unwrap_err(), "too many ports.");
    }

    proptest! {
        /// Arbitrary words: parsing ends in arguments or in a message to print (never a
        /// panic, never an empty message); and a result never holds a port that no
        /// word could have given.
        #[test]
        fn arbitrary_argv_gives_args_or_a_message(argv in proptest::collection::vec("[-a-zA-Z0-9=,/ ]{0,12}", 0..12)) {
            match parse_args(std::iter::once("sisu-sshd".to_string()).chain(argv.clone())) {
                Ok(a) => {
                    for port in &a.ports {
                        let s = port.to_string();
                        prop_assert!(argv.iter().any(|w| w.ends_with(&s)), "{argv:?} gave port {port}");
                    }
                }
                Err(msg) => prop_assert!(!msg.trim().is_empty(), "{argv:?}"),
            }
        }

        /// A command line built from valid flags means the same in every spelling getopt
        /// allows (attached or separate arguments, grouped flags), and keeps the order of
        /// repeated flags.
        #[test]
        fn spellings_of_one_command_line_agree(
            flags in proptest::collection::vec(
                prop_oneof![
                    (1u16..).prop_map(|p| ("-p", Some(p.to_string()))),
                    "[A-Za-z]{1,8}=[a-z0-9]{1,6}".prop_map(|o| ("-o", Some(o))),
                    "/[a-z]{1,8}".prop_map(|h| ("-h", Some(h))),
                    Just(("-D", None)),
                    Just(("-e", None)),
                    Just(("-q", None)),
                    Just(("-4", None)),
                ],
                0..10,
            )
        ) {
            let mut separate: Vec<String> = Vec::new();
            let mut attached: Vec<String> = Vec::new();
            for (flag, value) in &flags {
                separate.push(flag.to_string());
                match value {
                    Some(v) => {
                        separate.push(v.clone());
                        attached.push(format!("{flag}{v}"));
                    }
                    None => attached.push(flag.to_string()),
                }
            }
            let refs = |v: &[String]| v.iter().map(String::as_str).map(String::from).collect::<Vec<_>>();
            let a = parse_args(std::iter::once("sisu-sshd".to_string()).chain(refs(&separate))).unwrap();
            let b = parse_args(std::iter::once("sisu-sshd".to_string()).chain(refs(&attached))).unwrap();
            prop_assert_eq!(&a, &b);
            let want_ports: Vec<u16> = flags.iter().filter(|(f, _)| *f == "-p")
                .map(|(_, v)| v.as_deref().unwrap_or_default().parse().unwrap()).collect();
            let want_opts: Vec<String> = flags.iter().filter(|(f, _)| *f == "-o")
                .filter_map(|(_, v)| v.clone()).collect();
            prop_assert_eq!(&a.ports, &want_ports);
            prop_assert_eq!(&a.options, &want_opts);
            prop_assert_eq!(a.no_detach, flags.iter().any(|(f, _)| *f == "-D"));
        }

        #[test]
        fn any_port_round_trips(port in 1u16..) {
            let a = p(&["-p", &port.to_string()]).unwrap();
            prop_assert_eq!(a.ports, vec![port]);
        }
    }
}
