//! The options field of an authorized_keys line (OpenSSH's `sshauthopt_parse`):
//! comma-separated, names case-insensitive, values in double quotes with `\"`.

use crate::pattern::PatternList;
use crate::time::ExpiryTime;
use nom::bytes::complete::{tag, tag_no_case};
use nom::combinator::{map, opt, value};
use nom::sequence::terminated;
use nom::IResult;
use std::fmt;

/// Most distinct `environment=` names on one line (OpenSSH's `SSH_AUTHOPT_ENV_MAX`).
pub const MAX_ENVIRONMENT: usize = 1024;
/// Most `permitopen=` (and, separately, `permitlisten=`) entries on one line
/// (OpenSSH's `SSH_AUTHOPT_PERMIT_MAX`).
pub const MAX_PERMITS: usize = 4096;
/// Longest host name in a permitopen/permitlisten target (`NI_MAXHOST` − 1).
pub const MAX_PERMIT_HOST: usize = 1024;
/// Highest tunnel device number (OpenSSH's `SSH_TUNID_MAX`).
pub const MAX_TUNNEL_ID: u32 = 0x7fff_fffd;

/// An on/off option that also exists with a `no-` prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Flag {
    /// `port-forwarding` / `no-port-forwarding`.
    PortForwarding,
    /// `agent-forwarding` / `no-agent-forwarding`.
    AgentForwarding,
    /// `X11-forwarding` / `no-X11-forwarding`.
    X11Forwarding,
    /// `touch-required` / `no-touch-required` (FIDO user presence).
    TouchRequired,
    /// `verify-required` / `no-verify-required` (FIDO user verification).
    VerifyRequired,
    /// `pty` / `no-pty`.
    Pty,
    /// `user-rc` / `no-user-rc`.
    UserRc,
}

impl Flag {
    /// Every flag, in the order OpenSSH tries them.
    pub const ALL: [Flag; 7] = [
        Flag::PortForwarding,
        Flag::AgentForwarding,
        Flag::X11Forwarding,
        Flag::TouchRequired,
        Flag::VerifyRequired,
        Flag::Pty,
        Flag::UserRc,
    ];

    /// The option name without `no-`, as OpenSSH's manual spells it.
    pub fn name(self) -> &'static str {
        match self {
            Flag::PortForwarding => "port-forwarding",
            Flag::AgentForwarding => "agent-forwarding",
            Flag::X11Forwarding => "X11-forwarding",
            Flag::TouchRequired => "touch-required",
            Flag::VerifyRequired => "verify-required",
            Flag::Pty => "pty",
            Flag::UserRc => "user-rc",
        }
    }
}

/// The port of a permitopen/permitlisten target.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PermitPort {
    /// `*`: any port.
    Any,
    /// A port number, 1–65535.
    Number(u16),
    /// A service name (`ssh`), which OpenSSH resolves with `getservbyname`; this
    /// crate does no look-ups, so the caller resolves it.
    Service(String),
}

/// A `host:port` target of `permitopen=` or `permitlisten=`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PermitTarget {
    /// The host as written: a name, an address, `[v6 address]`, or `*`.
    pub host: String,
    /// The port.
    pub port: PermitPort,
}

impl PermitTarget {
    /// Parse a target. `bare_port_ok` (permitlisten) lets a lone port stand for
    /// `*:port`.
    ///
    /// ```
    /// use sisu_authkeys::options::{PermitPort, PermitTarget};
    /// let t = PermitTarget::parse("[::1]:8080", false).unwrap();
    /// assert_eq!((t.host.as_str(), t.port), ("[::1]", PermitPort::Number(8080)));
    /// assert_eq!(PermitTarget::parse("22", true).unwrap().host, "*");
    /// assert!(PermitTarget::parse("22", false).is_none());
    /// ```
    pub fn parse(s: &str, bare_port_ok: bool) -> Option<PermitTarget> {
        let owned;
        let s = if bare_port_ok && !s.contains(':') {
            owned = format!("*:{s}");
            owned.as_str()
        } else {
            s
        };
        // OpenSSH's hpdelim2: a bracketed host, or up to the first ':' or '/'.
        let split = if s.starts_with('[') {
            s.find(']')? + 1
        } else {
            s.find([':', '/'])?
        };
        let (host, rest) = s.split_at(split);
        let port = rest.strip_prefix([':', '/'])?;
        if host.len() > MAX_PERMIT_HOST {
            return None;
        }
        let port = if port == "*" {
            PermitPort::Any
        } else if port.bytes().all(|b| b.is_ascii_digit()) {
            match port.parse::<u16>() {
                Ok(n) if n > 0 => PermitPort::Number(n),
                _ => return None,
            }
        } else if !port.is_empty()
            && port
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            PermitPort::Service(port.to_string())
        } else {
            return None;
        };
        Some(PermitTarget {
            host: host.to_string(),
            port,
        })
    }

    /// Does this target allow `host`:`port`? A host of `*` allows any host (OpenSSH
    /// gives that meaning only in permitlisten); other hosts compare
    /// case-insensitively. A [`PermitPort::Service`] never matches here.
    pub fn allows(&self, host: &str, port: u16) -> bool {
        let host_ok = self.host == "*" || self.host.eq_ignore_ascii_case(host);
        let port_ok = match self.port {
            PermitPort::Any => true,
            PermitPort::Number(n) => n == port,
            PermitPort::Service(_) => false,
        };
        host_ok && port_ok
    }
}

impl fmt::Display for PermitTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.port {
            PermitPort::Any => write!(f, "{}:*", self.host),
            PermitPort::Number(n) => write!(f, "{}:{n}", self.host),
            PermitPort::Service(s) => write!(f, "{}:{s}", self.host),
        }
    }
}

/// The tunnel device a key is forced to (`tunnel="N"` or `tunnel="any"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Tunnel {
    /// `any`: the server picks.
    Any,
    /// A device number, 0–[`MAX_TUNNEL_ID`].
    Id(u32),
}

impl fmt::Display for Tunnel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Tunnel::Any => f.write_str("any"),
            Tunnel::Id(n) => write!(f, "{n}"),
        }
    }
}

/// One option, as written on the line.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum AuthOption {
    /// `restrict`: turn off every permission; later flags may turn some back on.
    Restrict,
    /// `cert-authority`: the key is a CA that signs user certificates.
    CertAuthority,
    /// A [`Flag`], on (`true`) or with `no-` (`false`).
    Flag(Flag, bool),
    /// `command="…"`: the forced command.
    Command(String),
    /// `principals="a,b"`: the certificate principals accepted (with cert-authority).
    Principals(String),
    /// `from="…"`: the client host/address patterns.
    From(PatternList),
    /// `expiry-time="…"`.
    ExpiryTime(ExpiryTime),
    /// `environment="NAME=value"`.
    Environment {
        /// The variable name (letters, digits, `_`).
        name: String,
        /// Everything after the first `=`.
        value: String,
    },
    /// `permitopen="host:port"`.
    PermitOpen(PermitTarget),
    /// `permitlisten="[host:]port"`.
    PermitListen(PermitTarget),
    /// `tunnel="N"`.
    Tunnel(Tunnel),
}

impl fmt::Display for AuthOption {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AuthOption::Restrict => f.write_str("restrict"),
            AuthOption::CertAuthority => f.write_str("cert-authority"),
            AuthOption::Flag(flag, true) => f.write_str(flag.name()),
            AuthOption::Flag(flag, false) => write!(f, "no-{}", flag.name()),
            AuthOption::Command(v) => write_quoted(f, "command", v),
            AuthOption::Principals(v) => write_quoted(f, "principals", v),
            AuthOption::From(v) => write_quoted(f, "from", &v.to_string()),
            AuthOption::ExpiryTime(v) => write_quoted(f, "expiry-time", &v.to_string()),
            AuthOption::Environment { name, value } => {
                write_quoted(f, "environment", &format!("{name}={value}"))
            }
            AuthOption::PermitOpen(v) => write_quoted(f, "permitopen", &v.to_string()),
            AuthOption::PermitListen(v) => write_quoted(f, "permitlisten", &v.to_string()),
            AuthOption::Tunnel(v) => write_quoted(f, "tunnel", &v.to_string()),
        }
    }
}

/// `name="value"` with every `"` written as `\"`. (A value that ends in `\` cannot
/// be written so that OpenSSH reads it back; no parsed value ends that way.)
fn write_quoted(f: &mut fmt::Formatter<'_>, name: &str, value: &str) -> fmt::Result {
    write!(f, "{name}=\"{}\"", value.replace('"', "\\\""))
}

/// What was wrong with the options, and where (byte offset into the options text).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptionError {
    /// Byte offset from the start of the options.
    pub offset: usize,
    /// What was expected.
    pub message: String,
}

/// Every option name that takes a `="value"`.
const VALUED: [&str; 8] = [
    "command",
    "principals",
    "from",
    "expiry-time",
    "environment",
    "permitopen",
    "permitlisten",
    "tunnel",
];

/// A flag option at the head of `input`: `restrict`, `cert-authority`, or a
/// [`Flag`] with or without `no-`.
fn flag_option(input: &str) -> IResult<&str, AuthOption> {
    if let Ok((rest, _)) = tag_no_case::<_, _, nom::error::Error<&str>>("restrict")(input) {
        return Ok((rest, AuthOption::Restrict));
    }
    if let Ok((rest, _)) = tag_no_case::<_, _, nom::error::Error<&str>>("cert-authority")(input) {
        return Ok((rest, AuthOption::CertAuthority));
    }
    let (after_no, negated) = map(opt(tag_no_case("no-")), |n| n.is_some())(input)?;
    for flag in Flag::ALL {
        if let Ok((rest, _)) = tag_no_case::<_, _, nom::error::Error<&str>>(flag.name())(after_no) {
            return Ok((rest, AuthOption::Flag(flag, !negated)));
        }
    }
    Err(nom::Err::Error(nom::error::Error::new(
        input,
        nom::error::ErrorKind::Tag,
    )))
}

/// `name=` at the head of `input`, for a name in [`VALUED`].
fn valued_name(input: &str) -> IResult<&str, &'static str> {
    for name in VALUED {
        if let Ok((rest, _)) =
            terminated(tag_no_case::<_, _, nom::error::Error<&str>>(name), tag("="))(input)
        {
            return Ok((rest, name));
        }
    }
    Err(nom::Err::Error(nom::error::Error::new(
        input,
        nom::error::ErrorKind::Tag,
    )))
}

/// A double-quoted value (OpenSSH's `opt_dequote`): `\"` stands for `"`, any other
/// backslash is itself. Returns `None` for the rest if the quote never closes.
fn quoted(input: &str) -> Result<(&str, String), &'static str> {
    let Some(body) = input.strip_prefix('"') else {
        return Err("expected `\"` to open the value");
    };
    let mut out = String::new();
    let mut chars = body.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Ok((&body[i + 1..], out)),
            '\\' if matches!(chars.peek(), Some((_, '"'))) => {
                chars.next();
                out.push('"');
            }
            c => out.push(c),
        }
    }
    Err("expected a closing `\"`; the quote never closes")
}

/// The end of the options: end of text, space or tab.
fn at_end(s: &str) -> bool {
    s.is_empty() || s.starts_with([' ', '\t'])
}

/// Parse the options field at the head of `input`, stopping at the first space or
/// tab outside quotes. Returns the options and the unparsed rest.
///
/// ```
/// use sisu_authkeys::options::{parse_options, AuthOption, Flag};
/// let (opts, rest) = parse_options("no-pty,command=\"echo \\\"hi\\\"\" ssh-ed25519").unwrap();
/// assert_eq!(opts, vec![
///     AuthOption::Flag(Flag::Pty, false),
///     AuthOption::Command("echo \"hi\"".into()),
/// ]);
/// assert_eq!(rest, " ssh-ed25519");
/// ```
pub fn parse_options(input: &str) -> Result<(Vec<AuthOption>, &str), OptionError> {
    let mut opts: Vec<AuthOption> = Vec::new();
    let mut s = input;
    let err = |at: &str, message: String| OptionError {
        offset: input.len() - at.len(),
        message,
    };
    let (mut seen_command, mut seen_principals, mut seen_from) = (false, false, false);
    let (mut env_names, mut n_open, mut n_listen) = (Vec::<String>::new(), 0usize, 0usize);
    while !at_end(s) {
        if let Ok((rest, o)) = flag_option(s) {
            opts.push(o);
            s = rest;
        } else if let Ok((rest, name)) = valued_name(s) {
            let (after, v) = quoted(rest).map_err(|m| err(rest, m.to_string()))?;
            let bad = |m: &str| err(rest, m.to_string());
            let o = match name {
                "command" => {
                    if std::mem::replace(&mut seen_command, true) {
                        return Err(bad("expected one command= option, found a second"));
                    }
                    AuthOption::Command(v)
                }
                "principals" => {
                    if std::mem::replace(&mut seen_principals, true) {
                        return Err(bad("expected one principals= option, found a second"));
                    }
                    AuthOption::Principals(v)
                }
                "from" => {
                    if std::mem::replace(&mut seen_from, true) {
                        return Err(bad("expected one from= option, found a second"));
                    }
                    let list =
                        PatternList::parse(&v).map_err(|e| err(rest, format!("in from=: {e}")))?;
                    AuthOption::From(list)
                }
                "expiry-time" => {
                    AuthOption::ExpiryTime(ExpiryTime::parse(&v).ok_or_else(|| {
                        bad("expected expiry-time=\"YYYYMMDD[HHMM[SS]][Z]\" after 1970")
                    })?)
                }
                "environment" => {
                    if env_names.len() > MAX_ENVIRONMENT {
                        return Err(bad("too many environment= options"));
                    }
                    let (name, value) = v
                        .split_once('=')
                        .filter(|(n, _)| {
                            !n.is_empty()
                                && n.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
                        })
                        .ok_or_else(|| bad("expected environment=\"NAME=value\" with NAME of letters, digits and _"))?;
                    if !env_names.iter().any(|n| n == name) {
                        env_names.push(name.to_string());
                    }
                    AuthOption::Environment {
                        name: name.to_string(),
                        value: value.to_string(),
                    }
                }
                "permitopen" | "permitlisten" => {
                    let listen = name == "permitlisten";
                    let count = if listen { &mut n_listen } else { &mut n_open };
                    if *count > MAX_PERMITS {
                        return Err(bad("too many permitopen/permitlisten options"));
                    }
                    *count += 1;
                    let t = PermitTarget::parse(&v, listen).ok_or_else(|| {
                        bad(if listen {
                            "expected permitlisten=\"[host:]port\" with a port of 1-65535 or *"
                        } else {
                            "expected permitopen=\"host:port\" with a port of 1-65535 or *"
                        })
                    })?;
                    if listen {
                        AuthOption::PermitListen(t)
                    } else {
                        AuthOption::PermitOpen(t)
                    }
                }
                _ => {
                    let t = if v.eq_ignore_ascii_case("any") {
                        Tunnel::Any
                    } else {
                        match v.parse::<u32>() {
                            Ok(n)
                                if n <= MAX_TUNNEL_ID && v.bytes().all(|b| b.is_ascii_digit()) =>
                            {
                                Tunnel::Id(n)
                            }
                            _ => return Err(bad("expected tunnel=\"N\" or tunnel=\"any\"")),
                        }
                    };
                    AuthOption::Tunnel(t)
                }
            };
            opts.push(o);
            s = after;
        }
        // OpenSSH: after an option (or none) comes the end, or a comma.
        if at_end(s) {
            break;
        }
        let Ok((rest, ())) = value((), tag::<_, _, nom::error::Error<&str>>(","))(s) else {
            return Err(err(s, format!("unknown option at {:?}", snippet(s))));
        };
        if at_end(rest) {
            return Err(err(rest, "expected another option after `,`".into()));
        }
        s = rest;
    }
    Ok((opts, s))
}

fn snippet(s: &str) -> &str {
    let end = s
        .char_indices()
        .take_while(|&(i, c)| i < 32 && c != ',' && c != ' ' && c != '\t')
        .last()
        .map_or(0, |(i, c)| i + c.len_utf8());
    &s[..end]
}

/// Print options the way [`parse_options`] reads them: comma-separated.
pub fn print_options(opts: &[AuthOption]) -> String {
    opts.iter()
        .map(|o| o.to_string())
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_case_insensitive_and_flags_negate() {
        let (o, rest) = parse_options("NO-PTY,Restrict,x11-FORWARDING,No-Touch-Required").unwrap();
        assert_eq!(rest, "");
        assert_eq!(
            o,
            vec![
                AuthOption::Flag(Flag::Pty, false),
                AuthOption::Restrict,
                AuthOption::Flag(Flag::X11Forwarding, true),
                AuthOption::Flag(Flag::TouchRequired, false),
            ]
        );
    }

    #[test]
    fn errors_say_what_and_where() {
        let e = parse_options("no-pty,bogus").unwrap_err();
        assert_eq!(e.offset, 7);
        assert!(e.message.contains("unknown option"), "{}", e.message);
        let e = parse_options("command=\"never closes").unwrap_err();
        assert!(e.message.contains("never closes"));
        assert!(parse_options("command=\"a\",command=\"b\"").is_err());
        assert!(parse_options("pty,").is_err());
        assert!(parse_options("ptyx").is_err());
        assert!(parse_options("restrict=\"x\"").is_err());
        assert!(parse_options("no-restrict").is_err());
        assert!(parse_options("environment=\"1 A=b\"").is_err());
        assert!(parse_options("environment=\"=b\"").is_err());
        assert!(parse_options("permitopen=\"host\"").is_err());
        assert!(parse_options("permitopen=\"host:0\"").is_err());
        assert!(parse_options("permitopen=\"host:65536\"").is_err());
        assert!(parse_options("tunnel=\"x\"").is_err());
        assert!(parse_options("expiry-time=\"2020\"").is_err());
        assert!(parse_options("from=\"10.0.0.1/8\"").is_err());
    }

    #[test]
    fn quoted_values_keep_spaces_and_escapes() {
        let (o, rest) =
            parse_options("command=\"a \\\"b\\\" \\c\",environment=\"A=x=y\" key").unwrap();
        assert_eq!(rest, " key");
        assert_eq!(o[0], AuthOption::Command("a \"b\" \\c".into()));
        assert_eq!(
            o[1],
            AuthOption::Environment {
                name: "A".into(),
                value: "x=y".into()
            }
        );
        assert_eq!(
            print_options(&o),
            "command=\"a \\\"b\\\" \\c\",environment=\"A=x=y\""
        );
    }

    #[test]
    fn empty_options_between_commas_are_skipped_like_openssh() {
        let (o, rest) = parse_options(",pty,,no-pty").unwrap();
        assert_eq!(rest, "");
        assert_eq!(
            o,
            vec![
                AuthOption::Flag(Flag::Pty, true),
                AuthOption::Flag(Flag::Pty, false)
            ]
        );
    }

    #[test]
    fn permit_targets() {
        let (o, _) = parse_options(
            "permitopen=\"h:*\",permitopen=\"h/22\",permitlisten=\"8080\",permitopen=\"x:ssh\"",
        )
        .unwrap();
        assert_eq!(
            o[0],
            AuthOption::PermitOpen(PermitTarget {
                host: "h".into(),
                port: PermitPort::Any
            })
        );
        assert_eq!(
            o[1],
            AuthOption::PermitOpen(PermitTarget {
                host: "h".into(),
                port: PermitPort::Number(22)
            })
        );
        assert_eq!(o[2].to_string(), "permitlisten=\"*:8080\"");
        assert_eq!(
            o[3],
            AuthOption::PermitOpen(PermitTarget {
                host: "x".into(),
                port: PermitPort::Service("ssh".into())
            })
        );
    }
}
