//! Logging in OpenSSH's wording: to stderr (`-e`, `-d`), to a file (`-E`), or to syslog.
//!
//! Lines are the messages OpenSSH's sshd logs (`Accepted publickey for …`, `Connection
//! closed by … [preauth]`), so that fail2ban and log pipelines keep working. On syslog
//! the program name is `sshd` for the same reason.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::net::UnixDatagram;
use std::path::Path;
use std::sync::Mutex;
use std::sync::OnceLock;

/// Longest log line, in bytes (OpenSSH's `MSGBUFSIZ`): longer lines are cut.
pub const MAX_LINE: usize = 1024;

/// A log line made safe to write: every byte that is not printable ASCII (control
/// characters such as a newline a peer put in its user name, and every non-ASCII byte)
/// becomes a backslash and three octal digits, a backslash becomes two, as OpenSSH's
/// `strnvis(..., VIS_SAFE | VIS_OCTAL)`; the result is cut at [`MAX_LINE`] bytes. So no
/// peer-controlled string can start a line of its own, or forge one for fail2ban.
pub fn escape_line(line: &str) -> String {
    let mut out = String::with_capacity(line.len().min(MAX_LINE));
    for &b in line.as_bytes() {
        let piece_len = match b {
            b'\\' => 2,
            0x20..=0x7e => 1,
            _ => 4,
        };
        if out.len() + piece_len > MAX_LINE {
            break;
        }
        match b {
            b'\\' => out.push_str("\\\\"),
            0x20..=0x7e => out.push(char::from(b)),
            _ => {
                out.push('\\');
                for shift in [6, 3, 0] {
                    out.push(char::from(b'0' + ((b >> shift) & 7)));
                }
            }
        }
    }
    out
}

/// Log levels, as `LogLevel` in sshd_config.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// Nothing.
    Quiet,
    /// Fatal errors.
    Fatal,
    /// Errors.
    Error,
    /// The normal level.
    Info,
    /// More detail (key fingerprints, connection lines).
    Verbose,
    /// Debugging.
    Debug1,
    /// More debugging.
    Debug2,
    /// Most debugging.
    Debug3,
}

impl Level {
    /// Parses an sshd_config `LogLevel` value.
    pub fn from_name(s: &str) -> Option<Level> {
        Some(match s.to_ascii_uppercase().as_str() {
            "QUIET" => Level::Quiet,
            "FATAL" => Level::Fatal,
            "ERROR" => Level::Error,
            "INFO" => Level::Info,
            "VERBOSE" => Level::Verbose,
            "DEBUG" | "DEBUG1" => Level::Debug1,
            "DEBUG2" => Level::Debug2,
            "DEBUG3" => Level::Debug3,
            _ => return None,
        })
    }

    /// The level as one byte, for the monitor channel.
    pub fn code(self) -> u8 {
        self as u8
    }

    /// The level of [`Level::code`]'s byte.
    pub fn from_code(code: u8) -> Option<Level> {
        [
            Level::Quiet,
            Level::Fatal,
            Level::Error,
            Level::Info,
            Level::Verbose,
            Level::Debug1,
            Level::Debug2,
            Level::Debug3,
        ]
        .into_iter()
        .find(|l| l.code() == code)
    }

    fn syslog_severity(self) -> u8 {
        match self {
            Level::Quiet | Level::Fatal => 2,
            Level::Error => 3,
            Level::Info | Level::Verbose => 6,
            _ => 7,
        }
    }
}

enum Sink {
    Stderr,
    File(File),
    Syslog(Option<UnixDatagram>),
    /// A monitor's child: lines go to the monitor, which writes them.
    Monitor(crate::ipc::Channel),
}

struct Logger {
    level: Level,
    sink: Sink,
    preauth: bool,
    /// The syslog facility's number (`SyslogFacility`).
    facility: u8,
}

static LOGGER: OnceLock<Mutex<Logger>> = OnceLock::new();

fn logger() -> &'static Mutex<Logger> {
    LOGGER.get_or_init(|| {
        Mutex::new(Logger {
            level: Level::Info,
            sink: Sink::Stderr,
            preauth: false,
            facility: FACILITY_AUTH,
        })
    })
}

/// The system log's socket.
pub const SYSLOG_SOCKET: &str = "/dev/log";

/// The `AUTH` facility, OpenSSH's default.
pub const FACILITY_AUTH: u8 = 4;

/// One datagram for the system log: RFC 3164's `<PRI>TAG[PID]: MSG`, with the `sshd`
/// tag, as rsyslog and journald take it. PRI is facility × 8 + severity.
pub fn syslog_datagram(facility: u8, level: Level, pid: u32, line: &str) -> String {
    let pri = u32::from(facility) * 8 + u32::from(level.syslog_severity());
    format!("<{pri}>sshd[{pid}]: {line}")
}

/// Where log lines go.
pub enum Target<'a> {
    /// Standard error.
    Stderr,
    /// Appended to a file (`-E`).
    File(&'a Path),
    /// The system log (`/dev/log`), with this facility number
    /// ([`crate::config::SyslogFacility::code`]).
    Syslog(u8),
}

/// Sets the level and target. A file that cannot be opened falls back to stderr.
pub fn init(level: Level, target: Target<'_>) {
    let sink = match target {
        Target::Stderr => Sink::Stderr,
        Target::File(p) => match OpenOptions::new().create(true).append(true).open(p) {
            Ok(f) => Sink::File(f),
            Err(e) => {
                eprintln!("Couldn't open logfile {}: {e}", p.display());
                Sink::Stderr
            }
        },
        Target::Syslog(_) => {
            let sock = UnixDatagram::unbound().ok().and_then(|s| {
                s.connect(SYSLOG_SOCKET).ok()?;
                Some(s)
            });
            Sink::Syslog(sock)
        }
    };
    let mut l = logger().lock().unwrap_or_else(|e| e.into_inner());
    l.level = level;
    l.sink = sink;
    if let Target::Syslog(facility) = target {
        l.facility = facility;
    }
}

/// The `LogLevel` of a configuration.
pub fn level_of(cfg: &crate::config::Config) -> Level {
    Level::from_name(&format!("{:?}", cfg.log_level)).unwrap_or(Level::Info)
}

/// In a monitor's child: every line goes to the monitor over (a copy of) `ch`.
pub fn init_child(ch: &crate::ipc::Channel, level: Level) {
    let sink = match ch.socket().try_clone() {
        Ok(s) => Sink::Monitor(crate::ipc::Channel::new(s)),
        Err(_) => Sink::Stderr,
    };
    let mut l = logger().lock().unwrap_or_else(|e| e.into_inner());
    l.level = level;
    l.sink = sink;
}

/// In the monitor: a line a child sent (`level` as [`Level::code`]), written as the
/// monitor's own; it is escaped here, since the child is not trusted to have done it.
pub fn forwarded(level: u8, line: &str) {
    let Some(level) = Level::from_code(level) else {
        return;
    };
    let mut l = logger().lock().unwrap_or_else(|e| e.into_inner());
    if level > l.level || l.level == Level::Quiet || level == Level::Quiet {
        return;
    }
    let line = escape_line(line);
    write_line(&mut l, level, line);
}

/// Marks this process as pre-authentication: lines get OpenSSH's ` [preauth]` suffix.
pub fn set_preauth(on: bool) {
    logger().lock().unwrap_or_else(|e| e.into_inner()).preauth = on;
}

/// The descriptor log lines are written to, when it is not stderr (a file, the
/// syslog socket, the monitor channel): a forked server that closes descriptors keeps
/// this one, to keep logging.
pub fn sink_fd() -> Option<std::os::fd::RawFd> {
    use std::os::fd::AsRawFd;
    let l = logger().lock().unwrap_or_else(|e| e.into_inner());
    match &l.sink {
        Sink::Stderr | Sink::Syslog(None) => None,
        Sink::File(f) => Some(f.as_raw_fd()),
        Sink::Syslog(Some(s)) => Some(s.as_raw_fd()),
        Sink::Monitor(ch) => Some(ch.socket().as_raw_fd()),
    }
}

/// Whether lines of `level` are written.
pub fn enabled(level: Level) -> bool {
    let l = logger().lock().unwrap_or_else(|e| e.into_inner());
    level <= l.level && l.level != Level::Quiet
}

/// Writes one line at `level`.
pub fn log(level: Level, msg: &str) {
    let mut l = logger().lock().unwrap_or_else(|e| e.into_inner());
    if level > l.level || l.level == Level::Quiet {
        return;
    }
    let prefix = match level {
        Level::Debug1 => "debug1: ",
        Level::Debug2 => "debug2: ",
        Level::Debug3 => "debug3: ",
        Level::Error => "error: ",
        Level::Fatal => "fatal: ",
        _ => "",
    };
    let suffix = if l.preauth { " [preauth]" } else { "" };
    let line = format!("{prefix}{msg}{suffix}");
    if let Sink::Monitor(ch) = &l.sink {
        // The monitor escapes and cuts it; a line too long for the message is cut
        // here first (at a character boundary).
        let mut cut = line.len().min(crate::ipc::message::MAX_LOG_LINE);
        while !line.is_char_boundary(cut) {
            cut -= 1;
        }
        let m = crate::ipc::ToMonitor::Log {
            level: level.code(),
            line: line[..cut].to_string(),
        };
        let _ = ch.send(&m.encode(), &[]);
        return;
    }
    let line = escape_line(&line);
    write_line(&mut l, level, line);
}

fn write_line(l: &mut Logger, level: Level, line: String) {
    let facility = l.facility;
    match &mut l.sink {
        Sink::Stderr => {
            let _ = writeln!(std::io::stderr(), "{line}");
        }
        Sink::File(f) => {
            let _ = writeln!(f, "{line}");
        }
        Sink::Syslog(sock) => {
            let msg = syslog_datagram(facility, level, std::process::id(), &line);
            match sock {
                Some(s) => {
                    let _ = s.send(msg.as_bytes());
                }
                None => {
                    let _ = writeln!(std::io::stderr(), "{line}");
                }
            }
        }
        Sink::Monitor(_) => {}
    }
}

/// Logs at INFO.
#[macro_export]
macro_rules! info { ($($a:tt)*) => { $crate::log::log($crate::log::Level::Info, &format!($($a)*)) } }
/// Logs at VERBOSE.
#[macro_export]
macro_rules! verbose { ($($a:tt)*) => { $crate::log::log($crate::log::Level::Verbose, &format!($($a)*)) } }
/// Logs at ERROR.
#[macro_export]
macro_rules! error { ($($a:tt)*) => { $crate::log::log($crate::log::Level::Error, &format!($($a)*)) } }
/// Logs at DEBUG1.
#[macro_export]
macro_rules! debug { ($($a:tt)*) => { if $crate::log::enabled($crate::log::Level::Debug1) { $crate::log::log($crate::log::Level::Debug1, &format!($($a)*)) } } }
/// Logs at FATAL.
#[macro_export]
macro_rules! fatal { ($($a:tt)*) => { $crate::log::log($crate::log::Level::Fatal, &format!($($a)*)) } }

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn control_and_non_ascii_bytes_are_octal() {
        assert_eq!(escape_line("plain text"), "plain text");
        assert_eq!(
            escape_line("Invalid user a\nFailed password for root"),
            "Invalid user a\\012Failed password for root"
        );
        assert_eq!(escape_line("tab\there\r"), "tab\\011here\\015");
        assert_eq!(escape_line("back\\slash"), "back\\\\slash");
        assert_eq!(escape_line("é"), "\\303\\251");
        assert_eq!(escape_line("\u{1b}[31m"), "\\033[31m");
    }

    #[test]
    fn syslog_priority_is_facility_and_severity() {
        assert_eq!(
            syslog_datagram(FACILITY_AUTH, Level::Info, 7, "hello"),
            "<38>sshd[7]: hello"
        );
        // LOCAL3 (19) at ERROR (3), AUTHPRIV (10) at DEBUG (7).
        assert_eq!(syslog_datagram(19, Level::Error, 1, "x"), "<155>sshd[1]: x");
        assert_eq!(syslog_datagram(10, Level::Debug2, 1, "x"), "<87>sshd[1]: x");
    }

    #[test]
    fn lines_are_cut() {
        assert_eq!(escape_line(&"x".repeat(5000)).len(), MAX_LINE);
        // An escape is never cut in half.
        let s = escape_line(&"\n".repeat(1000));
        assert_eq!(s.len() % 4, 0);
        assert!(s.len() <= MAX_LINE);
    }

    proptest! {
        #[test]
        fn escaped_lines_are_one_printable_line(s in "(?s).{0,2000}") {
            let e = escape_line(&s);
            prop_assert!(e.len() <= MAX_LINE);
            prop_assert!(e.bytes().all(|b| (0x20..=0x7e).contains(&b)));
            // Printable ASCII without backslashes passes unchanged (when it fits).
            if s.len() <= MAX_LINE && s.bytes().all(|b| (0x20..=0x7e).contains(&b) && b != b'\\') {
                prop_assert_eq!(e, s);
            }
        }
    }
}
