//! The sftp-server / internal-sftp command line, as OpenSSH takes it:
//! `[-ehR] [-d start_directory] [-f log_facility] [-l log_level]
//! [-P denied_requests] [-p allowed_requests] [-u umask]` and `-Q requests`.

use crate::log::Level;
use std::fmt;

/// The request names `-P`, `-p` and `-Q requests` use: the v3 requests, then the
/// extensions, in OpenSSH's order.
pub const REQUEST_NAMES: &[&str] = &[
    "open",
    "close",
    "read",
    "write",
    "lstat",
    "fstat",
    "setstat",
    "fsetstat",
    "opendir",
    "readdir",
    "remove",
    "mkdir",
    "rmdir",
    "realpath",
    "stat",
    "rename",
    "readlink",
    "symlink",
    "posix-rename",
    "statvfs",
    "fstatvfs",
    "hardlink",
    "fsync",
    "lsetstat",
    "limits",
    "expand-path",
    "copy-data",
    "home-directory",
    "users-groups-by-id",
];

/// What `sftp-server -Q requests` prints, one name a line.
pub fn query_requests() -> Vec<&'static str> {
    REQUEST_NAMES.to_vec()
}

/// Syslog facilities `-f` accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum Facility {
    Daemon,
    User,
    Auth,
    AuthPriv,
    Local(u8),
}

impl Facility {
    /// Parses a `-f` value (case-insensitive).
    pub fn from_name(s: &str) -> Option<Facility> {
        let up = s.to_ascii_uppercase();
        Some(match up.as_str() {
            "DAEMON" => Facility::Daemon,
            "USER" => Facility::User,
            "AUTH" => Facility::Auth,
            "AUTHPRIV" => Facility::AuthPriv,
            _ => {
                let n = up.strip_prefix("LOCAL")?;
                let d: u8 = n.parse().ok().filter(|d| *d <= 7 && n.len() == 1)?;
                Facility::Local(d)
            }
        })
    }

    /// The syslog facility number (`LOG_AUTH` is 4, ...).
    pub fn code(self) -> u8 {
        match self {
            Facility::User => 1,
            Facility::Daemon => 3,
            Facility::Auth => 4,
            Facility::AuthPriv => 10,
            Facility::Local(n) => 16 + n,
        }
    }
}

/// A command line error, or `-h`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OptionsError {
    /// `-h`: the caller prints [`USAGE`].
    Usage,
    /// An option letter sftp-server does not have.
    UnknownOption(char),
    /// An option that needs a value came last.
    MissingArgument(char),
    /// An operand where only options may stand.
    UnexpectedArgument(String),
    /// A `-l` value that is no level.
    InvalidLogLevel(String),
    /// A `-f` value that is no facility.
    InvalidFacility(String),
    /// A `-u` value that is not octal 0..=0777.
    InvalidUmask(String),
    /// `-Q` with something other than "requests".
    InvalidQuery(String),
    /// `-p` given twice.
    AllowedAlreadySet,
    /// `-P` given twice.
    DeniedAlreadySet,
    /// A `%` token in `-d` other than %d, %u, %U and %%.
    UnknownToken(String),
    /// `~user` in `-d` for a user other than the session's.
    UnknownUser(String),
}

/// The usage line for `-h` and errors.
pub const USAGE: &str = "usage: sftp-server [-ehR] [-d start_directory] [-f log_facility] \
[-l log_level]\n\t[-P denied_requests] [-p allowed_requests] [-u umask]\n       \
sftp-server -Q protocol_feature";

impl fmt::Display for OptionsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OptionsError::Usage => f.write_str(USAGE),
            OptionsError::UnknownOption(c) => write!(f, "unknown option -{c}\n{USAGE}"),
            OptionsError::MissingArgument(c) => write!(f, "option -{c} needs an argument"),
            OptionsError::UnexpectedArgument(a) => write!(f, "unexpected argument \"{a}\""),
            OptionsError::InvalidLogLevel(s) => write!(f, "Invalid log level \"{s}\""),
            OptionsError::InvalidFacility(s) => write!(f, "Invalid log facility \"{s}\""),
            OptionsError::InvalidUmask(s) => write!(f, "Invalid umask \"{s}\""),
            OptionsError::InvalidQuery(_) => f.write_str("Invalid query type"),
            OptionsError::AllowedAlreadySet => f.write_str("Permitted requests already set"),
            OptionsError::DeniedAlreadySet => f.write_str("Refused requests already set"),
            OptionsError::UnknownToken(s) => write!(f, "unknown key %{s} in start directory"),
            OptionsError::UnknownUser(u) => write!(f, "unknown user \"{u}\" in start directory"),
        }
    }
}

impl std::error::Error for OptionsError {}

/// The parsed command line plus who the session is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// `-d`, as given (see [`Options::start_directory`] for the expanded form).
    pub start_directory: Option<String>,
    /// `-e`: log to stderr instead of syslog.
    pub log_stderr: bool,
    /// `-f` (default AUTH).
    pub log_facility: Facility,
    /// `-l` (default ERROR, as sftp-server's).
    pub log_level: Level,
    /// `-P`: request names refused.
    pub denied_requests: Option<Vec<String>>,
    /// `-p`: the only request names allowed.
    pub allowed_requests: Option<Vec<String>>,
    /// `-R`: every write-type request gets `SSH_FX_PERMISSION_DENIED`.
    pub read_only: bool,
    /// `-u`: umask applied to created files and directories.
    pub umask: Option<u32>,
    /// `-Q requests`: the caller prints [`query_requests`] and exits 0.
    pub query_requests: bool,
    /// The session's user name (for log lines, `%u` and `~`).
    pub user: String,
    /// The session's user id (for `%U`).
    pub uid: u32,
    /// The session's home directory, as seen by the server (inside any chroot).
    pub home: String,
    /// The client address for the log lines (first word of `SSH_CONNECTION`).
    pub client_addr: String,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            start_directory: None,
            log_stderr: false,
            log_facility: Facility::Auth,
            log_level: Level::Error,
            denied_requests: None,
            allowed_requests: None,
            read_only: false,
            umask: None,
            query_requests: false,
            user: String::new(),
            uid: 0,
            home: "/".into(),
            client_addr: "UNKNOWN".into(),
        }
    }
}

fn list(s: &str) -> Vec<String> {
    s.split(',')
        .filter(|x| !x.is_empty())
        .map(str::to_string)
        .collect()
}

impl Options {
    /// Parses the arguments after the program name (`argv[1..]`), getopt style:
    /// flags may be grouped (`-eR`), values attached (`-lINFO`) or separate, `--`
    /// ends the options. `-c` ignores everything after it, as sftp-server does when
    /// run as a shell. Operands are an error.
    pub fn parse(args: &[String]) -> Result<Options, OptionsError> {
        let mut o = Options::default();
        let mut i = 0;
        'args: while i < args.len() {
            let a = &args[i];
            i += 1;
            if a == "--" {
                break;
            }
            let Some(flags) = a.strip_prefix('-').filter(|f| !f.is_empty()) else {
                return Err(OptionsError::UnexpectedArgument(a.clone()));
            };
            for (pos, c) in flags.char_indices() {
                if !"dfPpQlu".contains(c) {
                    match c {
                        'c' => break 'args,
                        'e' => o.log_stderr = true,
                        'R' => o.read_only = true,
                        'h' => return Err(OptionsError::Usage),
                        _ => return Err(OptionsError::UnknownOption(c)),
                    }
                    continue;
                }
                let attached = &flags[pos + c.len_utf8()..];
                let v = if !attached.is_empty() {
                    attached.to_string()
                } else if i < args.len() {
                    i += 1;
                    args[i - 1].clone()
                } else {
                    return Err(OptionsError::MissingArgument(c));
                };
                o.set(c, v)?;
                continue 'args;
            }
        }
        if let Some(d) = &o.start_directory {
            // Reject unknown tokens now, not when the session starts.
            expand_percent(d, "", "", 0)?;
        }
        Ok(o)
    }

    fn set(&mut self, c: char, v: String) -> Result<(), OptionsError> {
        match c {
            'd' => self.start_directory = Some(v),
            'f' => {
                self.log_facility =
                    Facility::from_name(&v).ok_or(OptionsError::InvalidFacility(v))?
            }
            'l' => self.log_level = Level::from_name(&v).ok_or(OptionsError::InvalidLogLevel(v))?,
            'p' if self.allowed_requests.is_some() => return Err(OptionsError::AllowedAlreadySet),
            'p' => self.allowed_requests = Some(list(&v)),
            'P' if self.denied_requests.is_some() => return Err(OptionsError::DeniedAlreadySet),
            'P' => self.denied_requests = Some(list(&v)),
            'Q' if v.eq_ignore_ascii_case("requests") => self.query_requests = true,
            'Q' => return Err(OptionsError::InvalidQuery(v)),
            'u' => {
                let ok = !v.is_empty() && v.bytes().all(|b| (b'0'..=b'7').contains(&b));
                match u32::from_str_radix(&v, 8) {
                    Ok(m) if ok && m <= 0o777 => self.umask = Some(m),
                    _ => return Err(OptionsError::InvalidUmask(v)),
                }
            }
            _ => return Err(OptionsError::UnknownOption(c)),
        }
        Ok(())
    }

    /// Sets who the session is for: user name, uid, home directory and the client
    /// address for log lines.
    pub fn with_session(mut self, user: &str, uid: u32, home: &str, client_addr: &str) -> Self {
        self.user = user.to_string();
        self.uid = uid;
        self.home = home.to_string();
        self.client_addr = client_addr.to_string();
        self
    }

    /// The `-d` directory with `~` (the session user's home), `%d` (home), `%u`
    /// (user), `%U` (uid) and `%%` expanded.
    pub fn start_directory(&self) -> Result<Option<String>, OptionsError> {
        let Some(d) = &self.start_directory else {
            return Ok(None);
        };
        let d = if let Some(rest) = d.strip_prefix('~') {
            let (name, tail) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
            if !name.is_empty() && name != self.user {
                return Err(OptionsError::UnknownUser(name.to_string()));
            }
            let tail = tail.trim_start_matches('/');
            if tail.is_empty() {
                self.home.clone()
            } else {
                format!("{}/{}", self.home.trim_end_matches('/'), tail)
            }
        } else {
            d.clone()
        };
        expand_percent(&d, &self.home, &self.user, self.uid).map(Some)
    }

    /// Whether request `name` (a [`REQUEST_NAMES`] entry) passes `-P` and `-p`
    /// (read-only is checked separately).
    pub fn request_listed_ok(&self, name: &str) -> bool {
        let has = |l: &Option<Vec<String>>| l.as_ref().is_some_and(|l| l.iter().any(|x| x == name));
        if has(&self.denied_requests) {
            return false;
        }
        self.allowed_requests.is_none() || has(&self.allowed_requests)
    }
}

fn expand_percent(s: &str, home: &str, user: &str, uid: u32) -> Result<String, OptionsError> {
    let mut out = String::new();
    let mut it = s.chars();
    while let Some(c) = it.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        match it.next() {
            Some('%') => out.push('%'),
            Some('d') => out.push_str(home),
            Some('u') => out.push_str(user),
            Some('U') => out.push_str(&uid.to_string()),
            Some(o) => return Err(OptionsError::UnknownToken(o.to_string())),
            None => return Err(OptionsError::UnknownToken(String::new())),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(args: &[&str]) -> Result<Options, OptionsError> {
        Options::parse(&args.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn parses_every_option() {
        let o = p(&[
            "-eR",
            "-d",
            "%d/up",
            "-fLOCAL3",
            "-l",
            "info",
            "-P",
            "write,remove",
            "-p",
            "open,read",
            "-u",
            "027",
        ])
        .unwrap();
        assert!(o.log_stderr && o.read_only && !o.query_requests);
        assert_eq!(o.start_directory.as_deref(), Some("%d/up"));
        assert_eq!(o.log_facility, Facility::Local(3));
        assert_eq!(o.log_facility.code(), 19);
        assert_eq!(o.log_level, Level::Info);
        assert_eq!(
            o.denied_requests,
            Some(vec!["write".into(), "remove".into()])
        );
        assert_eq!(o.allowed_requests, Some(vec!["open".into(), "read".into()]));
        assert_eq!(o.umask, Some(0o027));
        assert_eq!(p(&[]).unwrap(), Options::default());
        assert_eq!(Options::default().log_level, Level::Error);
    }

    #[test]
    fn rejects_bad_input() {
        assert_eq!(p(&["-x"]), Err(OptionsError::UnknownOption('x')));
        assert_eq!(p(&["-d"]), Err(OptionsError::MissingArgument('d')));
        assert_eq!(p(&["-h"]), Err(OptionsError::Usage));
        assert_eq!(
            p(&["file"]),
            Err(OptionsError::UnexpectedArgument("file".into()))
        );
        assert_eq!(
            p(&["-l", "LOUD"]),
            Err(OptionsError::InvalidLogLevel("LOUD".into()))
        );
        assert_eq!(
            p(&["-f", "LOCAL8"]),
            Err(OptionsError::InvalidFacility("LOCAL8".into()))
        );
        for bad in ["0800", "1000", "", "7x", "-1"] {
            assert_eq!(
                p(&["-u", bad]),
                Err(OptionsError::InvalidUmask(bad.into())),
                "{bad}"
            );
        }
        assert_eq!(
            p(&["-Q", "cipher"]),
            Err(OptionsError::InvalidQuery("cipher".into()))
        );
        assert_eq!(
            p(&["-p", "a", "-p", "b"]),
            Err(OptionsError::AllowedAlreadySet)
        );
        assert_eq!(
            p(&["-P", "a", "-P", "b"]),
            Err(OptionsError::DeniedAlreadySet)
        );
        assert_eq!(
            p(&["-d", "/x/%z"]),
            Err(OptionsError::UnknownToken("z".into()))
        );
        assert!(OptionsError::UnknownOption('x')
            .to_string()
            .contains("usage:"));
    }

    #[test]
    fn c_ends_parsing_and_query() {
        let o = p(&["-e", "-c", "-x", "junk"]).unwrap();
        assert!(o.log_stderr);
        assert!(p(&["-Q", "Requests"]).unwrap().query_requests);
        assert_eq!(query_requests().len(), 29);
        assert_eq!(query_requests()[0], "open");
        assert!(query_requests().contains(&"users-groups-by-id"));
        assert!(p(&["--", "-x"]).is_ok());
    }

    #[test]
    fn start_directory_tokens() {
        let o = p(&["-d", "/srv/%u/%U/%%/x"]).unwrap().with_session(
            "ann",
            1001,
            "/home/ann",
            "1.2.3.4",
        );
        assert_eq!(
            o.start_directory().unwrap().as_deref(),
            Some("/srv/ann/1001/%/x")
        );
        let o = p(&["-d", "%d"])
            .unwrap()
            .with_session("ann", 1, "/home/ann", "x");
        assert_eq!(o.start_directory().unwrap().as_deref(), Some("/home/ann"));
        let o = p(&["-d", "~/in"])
            .unwrap()
            .with_session("ann", 1, "/home/ann/", "x");
        assert_eq!(
            o.start_directory().unwrap().as_deref(),
            Some("/home/ann/in")
        );
        let o = p(&["-d", "~ann"])
            .unwrap()
            .with_session("ann", 1, "/home/ann", "x");
        assert_eq!(o.start_directory().unwrap().as_deref(), Some("/home/ann"));
        let o = p(&["-d", "~bob/x"])
            .unwrap()
            .with_session("ann", 1, "/home/ann", "x");
        assert_eq!(
            o.start_directory(),
            Err(OptionsError::UnknownUser("bob".into()))
        );
        assert_eq!(Options::default().start_directory(), Ok(None));
    }

    #[test]
    fn allow_and_deny_lists() {
        let o = p(&["-P", "write"]).unwrap();
        assert!(!o.request_listed_ok("write"));
        assert!(o.request_listed_ok("read"));
        let o = p(&["-p", "open,read,close"]).unwrap();
        assert!(o.request_listed_ok("read"));
        assert!(!o.request_listed_ok("write"));
        let o = p(&["-p", "read,write", "-P", "write"]).unwrap();
        assert!(!o.request_listed_ok("write"));
        assert!(o.request_listed_ok("read"));
    }
}
