//! The value types of `sshd_config` keywords and their parsers.
//!
//! Each parser takes one already-split argument and returns the typed value or a short
//! reason; the caller adds the file, line and keyword.

use std::fmt;
use std::net::Ipv6Addr;
use std::time::Duration;

/// Largest number of seconds a time value may hold (OpenSSH's `INT_MAX`).
pub const MAX_TIME_SECS: u64 = i32::MAX as u64;

/// Largest plain integer accepted for a count (`MaxAuthTries`, `MaxSessions`, ...).
pub const MAX_INT_VALUE: u32 = i32::MAX as u32;

/// `AddressFamily`: which IP versions the listener uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddressFamily {
    /// `any`: IPv4 and IPv6.
    Any,
    /// `inet`: IPv4 only.
    Inet,
    /// `inet6`: IPv6 only.
    Inet6,
}

/// `LogLevel`, ordered from least to most verbose.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum LogLevel {
    /// `QUIET`
    Quiet,
    /// `FATAL`
    Fatal,
    /// `ERROR`
    Error,
    /// `INFO`
    Info,
    /// `VERBOSE`
    Verbose,
    /// `DEBUG` or `DEBUG1`
    Debug1,
    /// `DEBUG2`
    Debug2,
    /// `DEBUG3`
    Debug3,
}

impl LogLevel {
    /// The next more verbose level, saturating at `DEBUG3`.
    pub fn more_verbose(self) -> LogLevel {
        match self {
            LogLevel::Quiet => LogLevel::Fatal,
            LogLevel::Fatal => LogLevel::Error,
            LogLevel::Error => LogLevel::Info,
            LogLevel::Info => LogLevel::Verbose,
            LogLevel::Verbose => LogLevel::Debug1,
            LogLevel::Debug1 => LogLevel::Debug2,
            LogLevel::Debug2 | LogLevel::Debug3 => LogLevel::Debug3,
        }
    }
}

/// `SyslogFacility`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyslogFacility {
    /// `DAEMON`
    Daemon,
    /// `USER`
    User,
    /// `AUTH`
    Auth,
    /// `AUTHPRIV`
    AuthPriv,
    /// `LOCAL0` to `LOCAL7` (the number).
    Local(u8),
}

/// `IgnoreRhosts`: which user files `hostbased` ignores (`/etc/hosts.equiv` and
/// `/etc/ssh/shosts.equiv` are always read).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IgnoreRhosts {
    /// `yes`: both `~/.shosts` and `~/.rhosts` (the default).
    Yes,
    /// `no`: neither.
    No,
    /// `shosts-only`: `~/.rhosts` (only `~/.shosts` is read).
    ShostsOnly,
}

impl fmt::Display for IgnoreRhosts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            IgnoreRhosts::Yes => "yes",
            IgnoreRhosts::No => "no",
            IgnoreRhosts::ShostsOnly => "shosts-only",
        })
    }
}

/// `PermitRootLogin`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PermitRootLogin {
    /// `yes`
    Yes,
    /// `prohibit-password` (alias `without-password`): no password or keyboard-interactive.
    ProhibitPassword,
    /// `forced-commands-only`: public key only, and only with a `command=` option.
    ForcedCommandsOnly,
    /// `no`
    No,
}

/// `AllowTcpForwarding`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AllowTcpForwarding {
    /// `yes` or `all`: both directions.
    All,
    /// `no`
    No,
    /// `local`: only client-to-server (`direct-tcpip`).
    Local,
    /// `remote`: only server-to-client (`tcpip-forward`).
    Remote,
}

/// `GatewayPorts`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GatewayPorts {
    /// `no`: remote forwardings bind to loopback.
    No,
    /// `yes`: remote forwardings bind to the wildcard address.
    Yes,
    /// `clientspecified`: the client chooses.
    ClientSpecified,
}

/// `PermitUserEnvironment`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PermitUserEnvironment {
    /// `no`
    No,
    /// `yes`: every variable.
    Yes,
    /// A pattern-list of the variable names that are allowed.
    Patterns(String),
}

/// `MaxStartups start:rate:full`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MaxStartups {
    /// Unauthenticated connections accepted without random early drop.
    pub start: u32,
    /// Percentage of connections refused once `start` is reached.
    pub rate: u32,
    /// Unauthenticated connections above which every new one is refused.
    pub full: u32,
}

/// `RekeyLimit bytes [interval]`: zero means "the cipher's default" / "no time limit".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RekeyLimit {
    /// Bytes after which keys are renewed (0: the default for the cipher).
    pub bytes: u64,
    /// Time after which keys are renewed (zero: none).
    pub interval: Duration,
}

/// One `Subsystem name command...` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subsystem {
    /// The name the client asks for (`sftp`).
    pub name: String,
    /// The command line run for it (program and arguments, joined by spaces).
    pub command: String,
}

/// One `ListenAddress` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListenAddress {
    /// Address or host name, without brackets.
    pub host: String,
    /// Port given with the address; `None`: every `Port`.
    pub port: Option<u16>,
}

/// One `host:port` target of `PermitOpen`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PermitOpenTarget {
    /// Host name or address (without brackets), or `*`.
    pub host: String,
    /// Port; `None` is the wildcard `*`.
    pub port: Option<u16>,
}

/// `PermitOpen`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PermitOpen {
    /// `any`: every destination.
    Any,
    /// `none`: no destination.
    None,
    /// Only these destinations.
    List(Vec<PermitOpenTarget>),
}

/// One SSH protocol major version named by `Protocol`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProtocolVersion {
    /// SSH-1 (protocol 1.5).
    V1,
    /// SSH-2.
    V2,
}

// ---------------------------------------------------------------------------------------
// Formatting as `sshd -T` prints values.

impl fmt::Display for AddressFamily {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AddressFamily::Any => "any",
            AddressFamily::Inet => "inet",
            AddressFamily::Inet6 => "inet6",
        })
    }
}

impl fmt::Display for LogLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // OpenSSH prints the first name of a level: DEBUG1 is "DEBUG".
        f.write_str(match self {
            LogLevel::Quiet => "QUIET",
            LogLevel::Fatal => "FATAL",
            LogLevel::Error => "ERROR",
            LogLevel::Info => "INFO",
            LogLevel::Verbose => "VERBOSE",
            LogLevel::Debug1 => "DEBUG",
            LogLevel::Debug2 => "DEBUG2",
            LogLevel::Debug3 => "DEBUG3",
        })
    }
}

impl SyslogFacility {
    /// The facility's number in a syslog priority (RFC 5424 §6.2.1): `AUTH` 4,
    /// `AUTHPRIV` 10, `LOCALn` 16 + n, ...
    pub fn code(self) -> u8 {
        match self {
            SyslogFacility::User => 1,
            SyslogFacility::Daemon => 3,
            SyslogFacility::Auth => 4,
            SyslogFacility::AuthPriv => 10,
            SyslogFacility::Local(n) => 16 + n.min(7),
        }
    }
}

impl fmt::Display for SyslogFacility {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SyslogFacility::Daemon => f.write_str("DAEMON"),
            SyslogFacility::User => f.write_str("USER"),
            SyslogFacility::Auth => f.write_str("AUTH"),
            SyslogFacility::AuthPriv => f.write_str("AUTHPRIV"),
            SyslogFacility::Local(n) => write!(f, "LOCAL{n}"),
        }
    }
}

impl fmt::Display for PermitRootLogin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PermitRootLogin::Yes => "yes",
            PermitRootLogin::ProhibitPassword => "prohibit-password",
            PermitRootLogin::ForcedCommandsOnly => "forced-commands-only",
            PermitRootLogin::No => "no",
        })
    }
}

impl fmt::Display for AllowTcpForwarding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AllowTcpForwarding::All => "yes",
            AllowTcpForwarding::No => "no",
            AllowTcpForwarding::Local => "local",
            AllowTcpForwarding::Remote => "remote",
        })
    }
}

impl fmt::Display for GatewayPorts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            GatewayPorts::No => "no",
            GatewayPorts::Yes => "yes",
            GatewayPorts::ClientSpecified => "clientspecified",
        })
    }
}

impl fmt::Display for PermitUserEnvironment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PermitUserEnvironment::No => f.write_str("no"),
            PermitUserEnvironment::Yes => f.write_str("yes"),
            PermitUserEnvironment::Patterns(p) => f.write_str(p),
        }
    }
}

impl fmt::Display for MaxStartups {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.start, self.rate, self.full)
    }
}

impl fmt::Display for RekeyLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.bytes, self.interval.as_secs())
    }
}

/// Writes `host:port`, bracketing an IPv6 address.
pub(crate) fn fmt_host_port(host: &str, port: &dyn fmt::Display) -> String {
    if host.parse::<Ipv6Addr>().is_ok() {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

impl fmt::Display for PermitOpenTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.port {
            Some(p) => f.write_str(&fmt_host_port(&self.host, &p)),
            None => f.write_str(&fmt_host_port(&self.host, &"*")),
        }
    }
}

impl fmt::Display for PermitOpen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PermitOpen::Any => f.write_str("any"),
            PermitOpen::None => f.write_str("none"),
            PermitOpen::List(l) => {
                for (i, t) in l.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" ")?;
                    }
                    write!(f, "{t}")?;
                }
                Ok(())
            }
        }
    }
}

impl fmt::Display for ProtocolVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ProtocolVersion::V1 => "1",
            ProtocolVersion::V2 => "2",
        })
    }
}

// ---------------------------------------------------------------------------------------
// Parsers. Each returns `Err(())` for a value that is not of the type; the caller turns
// that into "invalid value for KEYWORD".

/// `yes` / `no`, case-insensitive.
pub(crate) fn parse_flag(s: &str) -> Result<bool, ()> {
    if s.eq_ignore_ascii_case("yes") {
        Ok(true)
    } else if s.eq_ignore_ascii_case("no") {
        Ok(false)
    } else {
        Err(())
    }
}

/// A non-negative decimal integer up to [`MAX_INT_VALUE`].
pub(crate) fn parse_int(s: &str) -> Result<u32, ()> {
    if s.is_empty() || s.len() > 10 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(());
    }
    let v: u64 = s.parse().map_err(|_| ())?;
    if v > u64::from(MAX_INT_VALUE) {
        return Err(());
    }
    Ok(v as u32)
}

/// A TCP port, 1 to 65535, in decimal.
pub(crate) fn parse_port(s: &str) -> Result<u16, ()> {
    match parse_int(s)? {
        0 => Err(()),
        v => u16::try_from(v).map_err(|_| ()),
    }
}

/// A time as `sshd_config` writes it: `120`, `2m`, `1h30m`, `1w` (suffixes s m h d w in
/// either case; a bare number is seconds), at most [`MAX_TIME_SECS`].
pub(crate) fn parse_time(s: &str) -> Result<Duration, ()> {
    if s.is_empty() {
        return Err(());
    }
    let mut total: u64 = 0;
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let start = i;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        if i == start || i - start > 10 {
            return Err(());
        }
        let n: u64 = s[start..i].parse().map_err(|_| ())?;
        let mult = match bytes.get(i) {
            None => 1,
            Some(c) => {
                i += 1;
                match c.to_ascii_lowercase() {
                    b's' => 1,
                    b'm' => 60,
                    b'h' => 60 * 60,
                    b'd' => 24 * 60 * 60,
                    b'w' => 7 * 24 * 60 * 60,
                    _ => return Err(()),
                }
            }
        };
        total = n
            .checked_mul(mult)
            .and_then(|v| total.checked_add(v))
            .filter(|&v| v <= MAX_TIME_SECS)
            .ok_or(())?;
    }
    Ok(Duration::from_secs(total))
}

/// A byte count with an optional binary suffix: `512`, `1K`, `500M`, `2G`, `1T`.
pub(crate) fn parse_size(s: &str) -> Result<u64, ()> {
    let (digits, mult) = match s.as_bytes().last() {
        None => return Err(()),
        Some(c) => match c.to_ascii_uppercase() {
            b'B' => (&s[..s.len() - 1], 1u64),
            b'K' => (&s[..s.len() - 1], 1 << 10),
            b'M' => (&s[..s.len() - 1], 1 << 20),
            b'G' => (&s[..s.len() - 1], 1 << 30),
            b'T' => (&s[..s.len() - 1], 1 << 40),
            _ => (s, 1),
        },
    };
    if digits.is_empty() || digits.len() > 20 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(());
    }
    let n: u64 = digits.parse().map_err(|_| ())?;
    n.checked_mul(mult).ok_or(())
}

pub(crate) fn parse_address_family(s: &str) -> Result<AddressFamily, ()> {
    match s.to_ascii_lowercase().as_str() {
        "any" => Ok(AddressFamily::Any),
        "inet" => Ok(AddressFamily::Inet),
        "inet6" => Ok(AddressFamily::Inet6),
        _ => Err(()),
    }
}

/// A `LogLevel` name, case-insensitive.
pub(crate) fn parse_log_level(s: &str) -> Result<LogLevel, ()> {
    match s.to_ascii_uppercase().as_str() {
        "QUIET" => Ok(LogLevel::Quiet),
        "FATAL" => Ok(LogLevel::Fatal),
        "ERROR" => Ok(LogLevel::Error),
        "INFO" => Ok(LogLevel::Info),
        "VERBOSE" => Ok(LogLevel::Verbose),
        "DEBUG" | "DEBUG1" => Ok(LogLevel::Debug1),
        "DEBUG2" => Ok(LogLevel::Debug2),
        "DEBUG3" => Ok(LogLevel::Debug3),
        _ => Err(()),
    }
}

pub(crate) fn parse_syslog_facility(s: &str) -> Result<SyslogFacility, ()> {
    let up = s.to_ascii_uppercase();
    match up.as_str() {
        "DAEMON" => Ok(SyslogFacility::Daemon),
        "USER" => Ok(SyslogFacility::User),
        "AUTH" => Ok(SyslogFacility::Auth),
        "AUTHPRIV" => Ok(SyslogFacility::AuthPriv),
        _ => match up.strip_prefix("LOCAL") {
            Some(n) if n.len() == 1 && (b'0'..=b'7').contains(&n.as_bytes()[0]) => {
                Ok(SyslogFacility::Local(n.as_bytes()[0] - b'0'))
            }
            _ => Err(()),
        },
    }
}

pub(crate) fn parse_permit_root_login(s: &str) -> Result<PermitRootLogin, ()> {
    match s.to_ascii_lowercase().as_str() {
        "yes" => Ok(PermitRootLogin::Yes),
        "prohibit-password" | "without-password" => Ok(PermitRootLogin::ProhibitPassword),
        "forced-commands-only" => Ok(PermitRootLogin::ForcedCommandsOnly),
        "no" => Ok(PermitRootLogin::No),
        _ => Err(()),
    }
}

pub(crate) fn parse_allow_tcp_forwarding(s: &str) -> Result<AllowTcpForwarding, ()> {
    match s.to_ascii_lowercase().as_str() {
        "yes" | "all" => Ok(AllowTcpForwarding::All),
        "no" => Ok(AllowTcpForwarding::No),
        "local" => Ok(AllowTcpForwarding::Local),
        "remote" => Ok(AllowTcpForwarding::Remote),
        _ => Err(()),
    }
}

pub(crate) fn parse_gateway_ports(s: &str) -> Result<GatewayPorts, ()> {
    match s.to_ascii_lowercase().as_str() {
        "no" => Ok(GatewayPorts::No),
        "yes" => Ok(GatewayPorts::Yes),
        "clientspecified" => Ok(GatewayPorts::ClientSpecified),
        _ => Err(()),
    }
}

/// `yes`, `no` (case-sensitive, as OpenSSH) or a pattern-list.
pub(crate) fn parse_permit_user_environment(s: &str) -> PermitUserEnvironment {
    match s {
        "yes" => PermitUserEnvironment::Yes,
        "no" => PermitUserEnvironment::No,
        p => PermitUserEnvironment::Patterns(p.to_string()),
    }
}

/// The drop rate of a `MaxStartups` given as a single number (OpenSSH's default rate).
pub(crate) const MAX_STARTUPS_DEFAULT_RATE: u32 = 30;

/// `start:rate:full`, or a single number `n`, which OpenSSH reads as `n:30:n` (start
/// and full both `n`, the default rate; with start equal to full the rate never
/// applies: every connection past `n` is refused).
pub(crate) fn parse_max_startups(s: &str) -> Result<MaxStartups, ()> {
    let parts: Vec<&str> = s.split(':').collect();
    let ms = match parts.as_slice() {
        [n] => {
            let n = parse_int(n)?;
            MaxStartups {
                start: n,
                rate: MAX_STARTUPS_DEFAULT_RATE,
                full: n,
            }
        }
        [a, b, c] => MaxStartups {
            start: parse_int(a)?,
            rate: parse_int(b)?,
            full: parse_int(c)?,
        },
        _ => return Err(()),
    };
    if ms.start == 0 || ms.full == 0 || ms.start > ms.full || ms.rate == 0 || ms.rate > 100 {
        return Err(());
    }
    Ok(ms)
}

/// Splits `host[:port]`, `[v6]` or `[v6]:port`. Returns the host without brackets.
fn split_host_port(s: &str) -> Result<(&str, Option<&str>), ()> {
    if let Some(rest) = s.strip_prefix('[') {
        let end = rest.find(']').ok_or(())?;
        let host = &rest[..end];
        let after = &rest[end + 1..];
        if host.is_empty() {
            return Err(());
        }
        match after {
            "" => Ok((host, None)),
            _ => match after.strip_prefix(':') {
                Some(p) => Ok((host, Some(p))),
                None => Err(()),
            },
        }
    } else {
        match s.split_once(':') {
            Some((h, p)) if !h.is_empty() && !p.contains(':') => Ok((h, Some(p))),
            Some(_) => Err(()),
            None if !s.is_empty() => Ok((s, None)),
            None => Err(()),
        }
    }
}

/// `ListenAddress`: `host`, `host:port`, `[v6]`, `[v6]:port` or a bare IPv6 address.
pub(crate) fn parse_listen_address(s: &str) -> Result<ListenAddress, ()> {
    if !s.contains('[') && s.matches(':').count() >= 2 {
        s.parse::<Ipv6Addr>().map_err(|_| ())?;
        return Ok(ListenAddress {
            host: s.to_string(),
            port: None,
        });
    }
    let (host, port) = split_host_port(s)?;
    let port = match port {
        None => None,
        Some(p) => Some(parse_port(p)?),
    };
    // An address, or a host name (letters, digits, `-`, `.`): anything else cannot be
    // listened on.
    let name_ok = !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.');
    if host.parse::<std::net::IpAddr>().is_err() && !name_ok {
        return Err(());
    }
    Ok(ListenAddress {
        host: host.to_string(),
        port,
    })
}

/// One `PermitOpen` target: `host:port`, `[v6]:port`, with `*` allowed for either.
pub(crate) fn parse_permit_open_target(s: &str) -> Result<PermitOpenTarget, ()> {
    let (host, port) = split_host_port(s)?;
    let port = match port {
        Some("*") => None,
        Some(p) => Some(parse_port(p)?),
        None => return Err(()),
    };
    Ok(PermitOpenTarget {
        host: host.to_string(),
        port,
    })
}

/// `Protocol`: a comma-separated list of `1` and `2`, in order of preference.
pub(crate) fn parse_protocol(s: &str) -> Result<Vec<ProtocolVersion>, ()> {
    let mut out = Vec::new();
    for part in s.split(',') {
        let v = match part.trim() {
            "1" => ProtocolVersion::V1,
            "2" => ProtocolVersion::V2,
            _ => return Err(()),
        };
        if !out.contains(&v) {
            out.push(v);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_suffixes() {
        assert_eq!(parse_time("120"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_time("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_time("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_time("1D"), Ok(Duration::from_secs(86400)));
        assert_eq!(parse_time("1w2s"), Ok(Duration::from_secs(604802)));
        assert_eq!(parse_time("0"), Ok(Duration::ZERO));
        for bad in ["", "m", "1x", "-1", "1.5m", "99999999999", "4000w"] {
            assert_eq!(parse_time(bad), Err(()), "{bad}");
        }
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("512"), Ok(512));
        assert_eq!(parse_size("1K"), Ok(1024));
        assert_eq!(parse_size("500M"), Ok(500 << 20));
        assert_eq!(parse_size("2g"), Ok(2 << 30));
        for bad in ["", "K", "1Q", "1.5G", "99999999999999999999G"] {
            assert_eq!(parse_size(bad), Err(()), "{bad}");
        }
    }

    #[test]
    fn ints_and_ports() {
        assert_eq!(parse_int("6"), Ok(6));
        assert_eq!(parse_int("2147483647"), Ok(i32::MAX as u32));
        for bad in ["", "-1", "abc", "2147483648", "+3", "1 "] {
            assert_eq!(parse_int(bad), Err(()), "{bad}");
        }
        assert_eq!(parse_port("22"), Ok(22));
        assert_eq!(parse_port("0"), Err(()));
        assert_eq!(parse_port("65536"), Err(()));
    }

    #[test]
    fn listen_addresses() {
        let la = |h: &str, p: Option<u16>| ListenAddress {
            host: h.into(),
            port: p,
        };
        assert_eq!(parse_listen_address("0.0.0.0"), Ok(la("0.0.0.0", None)));
        assert_eq!(
            parse_listen_address("10.0.0.1:2222"),
            Ok(la("10.0.0.1", Some(2222)))
        );
        assert_eq!(parse_listen_address("::"), Ok(la("::", None)));
        assert_eq!(parse_listen_address("[::1]:22"), Ok(la("::1", Some(22))));
        assert_eq!(parse_listen_address("[fe80::1]"), Ok(la("fe80::1", None)));
        assert_eq!(
            parse_listen_address("host.example:80"),
            Ok(la("host.example", Some(80)))
        );
        for bad in [
            "1.2.3.4:0",
            "1.2.3.4:x",
            "[::1",
            "[::1]x",
            ":22",
            "[]:22",
            "a::b::c",
        ] {
            assert_eq!(parse_listen_address(bad), Err(()), "{bad}");
        }
    }

    #[test]
    fn enums_are_case_insensitive_and_print_like_openssh() {
        assert_eq!(parse_log_level("debug"), Ok(LogLevel::Debug1));
        assert_eq!(LogLevel::Debug1.to_string(), "DEBUG");
        assert_eq!(parse_log_level("VERBOSE"), Ok(LogLevel::Verbose));
        assert_eq!(parse_log_level("LOUD"), Err(()));
        assert_eq!(
            parse_syslog_facility("local7"),
            Ok(SyslogFacility::Local(7))
        );
        assert_eq!(parse_syslog_facility("LOCAL8"), Err(()));
        assert_eq!(SyslogFacility::AuthPriv.to_string(), "AUTHPRIV");
        assert_eq!(
            parse_permit_root_login("without-password"),
            Ok(PermitRootLogin::ProhibitPassword)
        );
        assert_eq!(
            PermitRootLogin::ProhibitPassword.to_string(),
            "prohibit-password"
        );
        assert_eq!(
            parse_allow_tcp_forwarding("ALL"),
            Ok(AllowTcpForwarding::All)
        );
        assert_eq!(AllowTcpForwarding::All.to_string(), "yes");
        assert_eq!(
            parse_gateway_ports("clientspecified"),
            Ok(GatewayPorts::ClientSpecified)
        );
        assert_eq!(parse_flag("Yes"), Ok(true));
        assert_eq!(parse_flag("true"), Err(()));
    }

    #[test]
    fn max_startups() {
        let m = |s, r, f| MaxStartups {
            start: s,
            rate: r,
            full: f,
        };
        assert_eq!(parse_max_startups("10:30:100"), Ok(m(10, 30, 100)));
        // A single number is start and full, with the default rate (`sshd -T` prints
        // `maxstartups 20:30:20` for it).
        assert_eq!(parse_max_startups("20"), Ok(m(20, 30, 20)));
        assert_eq!(parse_max_startups("3").unwrap().to_string(), "3:30:3");
        for bad in [
            "0",
            "10:30",
            "10:0:100",
            "10:101:100",
            "50:30:10",
            "a:b:c",
            "",
        ] {
            assert_eq!(parse_max_startups(bad), Err(()), "{bad}");
        }
    }

    #[test]
    fn permit_open_and_protocol() {
        let t = parse_permit_open_target("[::1]:*").unwrap();
        assert_eq!((t.host.as_str(), t.port), ("::1", None));
        assert_eq!(t.to_string(), "[::1]:*");
        assert_eq!(
            parse_permit_open_target("db:5432").unwrap().port,
            Some(5432)
        );
        assert_eq!(parse_permit_open_target("db"), Err(()));
        assert_eq!(
            parse_protocol("2,1"),
            Ok(vec![ProtocolVersion::V2, ProtocolVersion::V1])
        );
        assert_eq!(parse_protocol("3"), Err(()));
    }
}
