//! TCP wrappers: `/etc/hosts.allow` and `/etc/hosts.deny` (hosts_access(5)), applied
//! to each connection before anything is said to the client, for the daemon name
//! `sshd`, so that the rules a host has for Debian's sshd (which is linked with
//! libwrap) keep holding.
//!
//! As libwrap decides: access is granted when a rule of `hosts.allow` matches, else
//! denied when a rule of `hosts.deny` matches, else granted; a missing file has no
//! rules. A rule is `daemons : clients [: option : …]`, with `EXCEPT`, the wildcards
//! `ALL`, `LOCAL`, `KNOWN`, `UNKNOWN` and `PARANOID`, host names and `.domain`
//! suffixes, address prefixes (`192.168.`), `n.n.n.n/m.m.m.m` and `/len` networks,
//! `[v6]/len`, `*` and `?` wildcards, and `/file` lists. The options `allow` and
//! `deny` (hosts_options(5)) decide as they say, whichever file they are in.
//!
//! What Sisu does not do fails closed: a rule that matches and has another option
//! (`spawn`, `twist`, `severity`, …), or that needs what Sisu cannot know (`user@host`
//! patterns need ident, `@netgroup`s, `daemon@host`), denies the connection and says
//! so in the log, instead of being skipped. A file that cannot be read (other than
//! missing) denies too.
//!
//! ```
//! use sisu_daemon::hosts_access::{decide, Client, Decision};
//! let client = Client { address: Some("10.1.2.3".parse().unwrap()), name: None };
//! let d = decide("sshd", &client, Some("sshd: 10.1. EXCEPT 10.1.2.3\n"), Some("ALL: ALL\n"));
//! assert!(matches!(d, Decision::Deny { .. }));
//! let d = decide("sshd", &client, Some(""), Some("sshd: 192.168.0.0/255.255.0.0\n"));
//! assert_eq!(d, Decision::Allow);
//! ```

use std::net::IpAddr;

/// The daemon name the rules are written for (Debian's sshd reports `sshd`).
pub const DAEMON: &str = "sshd";
/// The allow file.
pub const HOSTS_ALLOW: &str = "/etc/hosts.allow";
/// The deny file.
pub const HOSTS_DENY: &str = "/etc/hosts.deny";
/// Longest file read (a longer one denies: it cannot be judged whole).
pub const MAX_FILE: usize = 1 << 20;
/// Deepest `/file` nesting followed.
const MAX_INCLUDE_DEPTH: usize = 4;

/// Who connects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Client {
    /// The address (`None`: not a network connection, as inetd over a pipe).
    pub address: Option<IpAddr>,
    /// The host name, when a reverse look-up gave one that maps back to the address.
    pub name: Option<String>,
}

/// The outcome for one connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Let it in.
    Allow,
    /// Refuse it: the file and line of the rule that decided, and why.
    Deny {
        /// `/etc/hosts.deny`, `/etc/hosts.allow`, or a file either names.
        file: &'static str,
        /// The line (1-based; 0 when the file itself is at fault).
        line: usize,
        /// What the line did.
        reason: String,
    },
}

/// What a matching rule decides.
#[derive(Debug, PartialEq, Eq)]
enum RuleOutcome {
    Grant,
    Refuse,
    /// It matched, but asks for what Sisu does not do.
    Unsupported(String),
}

/// Decides for `client` of `daemon` from the texts of the two files (`None`: the file
/// could not be read for another reason than being missing: deny).
pub fn decide(daemon: &str, client: &Client, allow: Option<&str>, deny: Option<&str>) -> Decision {
    for (file, text, default) in [
        (HOSTS_ALLOW, allow, RuleOutcome::Grant),
        (HOSTS_DENY, deny, RuleOutcome::Refuse),
    ] {
        let Some(text) = text else {
            return Decision::Deny {
                file,
                line: 0,
                reason: "the file cannot be read".into(),
            };
        };
        if let Some((line, outcome)) = first_match(daemon, client, text, &default) {
            return match outcome {
                RuleOutcome::Grant => Decision::Allow,
                RuleOutcome::Refuse => Decision::Deny {
                    file,
                    line,
                    reason: "a rule matched".into(),
                },
                RuleOutcome::Unsupported(why) => Decision::Deny {
                    file,
                    line,
                    reason: format!("a rule matched that Sisu cannot apply ({why})"),
                },
            };
        }
    }
    Decision::Allow
}

/// The rules of a file: (line number, text), continuation lines joined.
fn rules(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut pending: Option<(usize, String)> = None;
    for (i, raw) in text.lines().enumerate() {
        let (start, mut acc) = pending.take().unwrap_or((i + 1, String::new()));
        let cont = raw.ends_with('\\');
        acc.push_str(raw.strip_suffix('\\').unwrap_or(raw));
        if cont {
            acc.push(' ');
            pending = Some((start, acc));
            continue;
        }
        let t = acc.trim();
        if !t.is_empty() && !t.starts_with('#') {
            out.push((start, t.to_string()));
        }
    }
    if let Some((start, acc)) = pending {
        if !acc.trim().is_empty() {
            out.push((start, acc.trim().to_string()));
        }
    }
    out
}

/// The fields of a rule, split at colons outside `[…]`.
fn fields(rule: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut depth = 0u32;
    for c in rule.chars() {
        match c {
            '[' => depth += 1,
            ']' => depth = depth.saturating_sub(1),
            ':' if depth == 0 => {
                out.push(String::new());
                continue;
            }
            _ => {}
        }
        if let Some(last) = out.last_mut() {
            last.push(c);
        }
    }
    out.into_iter().map(|f| f.trim().to_string()).collect()
}

fn first_match(
    daemon: &str,
    client: &Client,
    text: &str,
    default: &RuleOutcome,
) -> Option<(usize, RuleOutcome)> {
    for (line, rule) in rules(text) {
        let f = fields(&rule);
        if f.len() < 2 {
            // libwrap skips a malformed line with a warning; a line Sisu cannot read
            // does not decide, but it is said.
            error!("hosts_access: line {line}: \"{rule}\": no client list");
            continue;
        }
        let daemons = list_match(&f[0], &|t| daemon_match(t, daemon), 0);
        let clients = list_match(&f[1], &|t| client_match(t, client, 0), 0);
        let outcome = match (daemons, clients) {
            (Match::Yes, Match::Yes) => options_outcome(&f[2..], default),
            (Match::Unsupported(w), Match::Yes | Match::Unsupported(_))
            | (Match::Yes, Match::Unsupported(w)) => RuleOutcome::Unsupported(w),
            _ => continue,
        };
        return Some((line, outcome));
    }
    None
}

/// A matching rule's options: `allow` or `deny` decide; none leaves the file's
/// default; anything else is not Sisu's.
fn options_outcome(options: &[String], default: &RuleOutcome) -> RuleOutcome {
    let mut outcome = match default {
        RuleOutcome::Grant => RuleOutcome::Grant,
        _ => RuleOutcome::Refuse,
    };
    for o in options {
        let word = o
            .split_whitespace()
            .next()
            .unwrap_or("")
            .to_ascii_lowercase();
        match word.as_str() {
            "" => {}
            "allow" => outcome = RuleOutcome::Grant,
            "deny" => outcome = RuleOutcome::Refuse,
            other => return RuleOutcome::Unsupported(format!("option {other}")),
        }
    }
    outcome
}

/// The result of matching one pattern (or list).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Match {
    Yes,
    No,
    /// A pattern Sisu cannot evaluate.
    Unsupported(String),
}

/// libwrap's list matching: the first pattern that matches decides, unless an `EXCEPT`
/// after it has a list that matches too.
fn list_match(list: &str, m: &dyn Fn(&str) -> Match, depth: usize) -> Match {
    let tokens: Vec<&str> = list
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|t| !t.is_empty())
        .collect();
    let mut i = 0;
    while i < tokens.len() {
        let t = tokens[i];
        if t.eq_ignore_ascii_case("EXCEPT") {
            return Match::No;
        }
        match m(t) {
            Match::No => i += 1,
            hit => {
                let Some(e) = tokens[i..]
                    .iter()
                    .position(|t| t.eq_ignore_ascii_case("EXCEPT"))
                else {
                    return hit;
                };
                let rest = tokens[i + e + 1..].join(" ");
                if depth > 16 {
                    return Match::Unsupported("EXCEPT nested too deep".into());
                }
                return match list_match(&rest, m, depth + 1) {
                    Match::No => hit,
                    Match::Yes => Match::No,
                    u => u,
                };
            }
        }
    }
    Match::No
}

fn daemon_match(t: &str, daemon: &str) -> Match {
    if t.eq_ignore_ascii_case("ALL") {
        return Match::Yes;
    }
    if t.contains('@') {
        return Match::Unsupported(format!("daemon@host pattern {t}"));
    }
    if t == daemon {
        Match::Yes
    } else {
        Match::No
    }
}

fn client_match(t: &str, c: &Client, depth: usize) -> Match {
    if t.contains('@') {
        return Match::Unsupported(format!("pattern {t} (netgroups and ident are not Sisu's)"));
    }
    if let Some(path) = t.strip_prefix('/') {
        if depth >= MAX_INCLUDE_DEPTH {
            return Match::Unsupported(format!("/{path} nested too deep"));
        }
        let text = match read_bounded(&format!("/{path}")) {
            Ok(Some(t)) => t,
            Ok(None) => return Match::No,
            Err(e) => return Match::Unsupported(format!("/{path}: {e}")),
        };
        let words: Vec<&str> = text
            .lines()
            .map(|l| l.split('#').next().unwrap_or(""))
            .flat_map(|l| l.split(|ch: char| ch == ',' || ch.is_whitespace()))
            .filter(|w| !w.is_empty())
            .collect();
        for w in words {
            match client_match(w, c, depth + 1) {
                Match::No => {}
                hit => return hit,
            }
        }
        return Match::No;
    }
    let addr = c.address.map(|a| match a {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(a, IpAddr::V4),
        v4 => v4,
    });
    let name = c.name.as_deref().map(str::to_ascii_lowercase);
    match t.to_ascii_uppercase().as_str() {
        "ALL" => return Match::Yes,
        // Sisu never takes a name that does not map back to the address.
        "PARANOID" => return Match::No,
        "KNOWN" => return yes(addr.is_some() && name.is_some()),
        "UNKNOWN" => return yes(addr.is_none() || name.is_none()),
        "LOCAL" => return yes(name.as_deref().is_some_and(|n| !n.contains('.'))),
        _ => {}
    }
    // A bracketed IPv6 address or network.
    if let Some(rest) = t.strip_prefix('[') {
        let Some((inner, after)) = rest.split_once(']') else {
            return Match::Unsupported(format!("pattern {t}"));
        };
        let Ok(net) = inner.parse::<IpAddr>() else {
            return Match::Unsupported(format!("pattern {t}"));
        };
        let bits = match after.strip_prefix('/') {
            None if after.is_empty() => 128,
            Some(b) => match b.parse::<u32>() {
                Ok(b) if b <= 128 => b,
                _ => return Match::Unsupported(format!("pattern {t}")),
            },
            None => return Match::Unsupported(format!("pattern {t}")),
        };
        return yes(addr.is_some_and(|a| in_network(a, net, bits)));
    }
    if let Some((net, mask)) = t.split_once('/') {
        let Ok(net) = net.parse::<IpAddr>() else {
            return Match::Unsupported(format!("pattern {t}"));
        };
        let bits = if let Ok(m) = mask.parse::<std::net::Ipv4Addr>() {
            let m = u32::from(m);
            if m.leading_ones() + m.trailing_zeros() != 32 {
                return Match::Unsupported(format!("non-contiguous netmask in {t}"));
            }
            m.leading_ones()
        } else {
            match mask.parse::<u32>() {
                Ok(b) if b <= 32 || (net.is_ipv6() && b <= 128) => b,
                _ => return Match::Unsupported(format!("pattern {t}")),
            }
        };
        return yes(addr.is_some_and(|a| in_network(a, net, bits)));
    }
    let lower = t.to_ascii_lowercase();
    if lower.contains(['*', '?']) {
        let on_addr = addr.is_some_and(|a| glob(&lower, &a.to_string()));
        let on_name = name.as_deref().is_some_and(|n| glob(&lower, n));
        return yes(on_addr || on_name);
    }
    if lower.ends_with('.') {
        return yes(addr.is_some_and(|a| a.to_string().starts_with(&lower)));
    }
    if lower.starts_with('.') {
        return yes(name.as_deref().is_some_and(|n| n.ends_with(&lower)));
    }
    if let Ok(a) = lower.parse::<IpAddr>() {
        return yes(addr == Some(a));
    }
    yes(name.as_deref() == Some(lower.as_str()))
}

fn yes(b: bool) -> Match {
    if b {
        Match::Yes
    } else {
        Match::No
    }
}

fn in_network(addr: IpAddr, net: IpAddr, bits: u32) -> bool {
    match (addr, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            let mask = u32::MAX.checked_shl(32 - bits.min(32)).unwrap_or(0);
            u32::from(a) & mask == u32::from(n) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            let mask = u128::MAX.checked_shl(128 - bits.min(128)).unwrap_or(0);
            u128::from(a) & mask == u128::from(n) & mask
        }
        _ => false,
    }
}

/// `*` and `?` matching, bounded (patterns and names are short).
fn glob(pattern: &str, s: &str) -> bool {
    crate::config::match_pattern(s, pattern)
}

/// A file's text: `None` when it does not exist; an error for anything else that
/// keeps it from being read whole.
pub fn read_bounded(path: &str) -> std::io::Result<Option<String>> {
    match crate::os::system::read_bounded(std::path::Path::new(path), MAX_FILE) {
        Ok(bytes) => Ok(Some(String::from_utf8_lossy(&bytes).into_owned())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// Reads the two files and decides for the client at `peer` (`None`: not a network
/// connection), looking its host name up only when a rule needs one. `Err` is the
/// log line of a refusal, in libwrap's words as Debian's sshd writes them
/// (`refused connect from HOST (ADDRESS)`), with the rule that decided.
pub fn check_connection(peer: Option<IpAddr>) -> Result<(), String> {
    let read = |p| read_bounded(p).map(|o| o.unwrap_or_default()).ok();
    let allow = read(HOSTS_ALLOW);
    let deny = read(HOSTS_DENY);
    let name = match (peer, &allow, &deny) {
        (Some(ip), Some(a), Some(d)) if needs_name(a, d) => {
            crate::os::resolve::verified_host_name(ip)
        }
        _ => None,
    };
    let client = Client {
        address: peer,
        name: name.clone(),
    };
    match decide(DAEMON, &client, allow.as_deref(), deny.as_deref()) {
        Decision::Allow => Ok(()),
        Decision::Deny { file, line, reason } => {
            let addr = peer.map_or_else(|| "unknown".to_string(), |a| a.to_string());
            let host = name.unwrap_or_else(|| addr.clone());
            let at = if line == 0 {
                file.to_string()
            } else {
                format!("{file} line {line}")
            };
            Err(format!(
                "refused connect from {host} ({addr}): {at}: {reason}"
            ))
        }
    }
}

/// Whether deciding may need the client's host name: some rule of either file has a
/// pattern that is not an address, a network or `ALL` (so that the look-up is only
/// made when it can matter).
pub fn needs_name(allow: &str, deny: &str) -> bool {
    [allow, deny].iter().any(|text| {
        rules(text).iter().any(|(_, rule)| {
            let f = fields(rule);
            f.get(1).is_some_and(|clients| {
                clients
                    .split(|c: char| c == ',' || c.is_whitespace())
                    .filter(|t| !t.is_empty())
                    .any(|t| {
                        let u = t.to_ascii_uppercase();
                        !(u == "ALL"
                            || u == "EXCEPT"
                            || t.starts_with('[')
                            || t.contains('/')
                            || t.ends_with('.')
                            || t.parse::<IpAddr>().is_ok())
                    })
            })
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(addr: &str, name: Option<&str>) -> Client {
        Client {
            address: Some(addr.parse().unwrap()),
            name: name.map(String::from),
        }
    }

    fn d(allow: &str, deny: &str, client: &Client) -> bool {
        decide("sshd", client, Some(allow), Some(deny)) == Decision::Allow
    }

    #[test]
    fn allow_first_then_deny_then_open() {
        let x = c("10.0.0.5", None);
        assert!(d("", "", &x));
        assert!(!d("", "sshd: ALL", &x));
        assert!(!d("", "ALL: ALL", &x));
        assert!(d("sshd: 10.0.0.5", "ALL: ALL", &x));
        assert!(d("", "telnetd: ALL", &x));
        assert!(!d("telnetd: ALL", "ALL:ALL", &x));
        // A comment, a blank line, a continuation.
        assert!(!d("# sshd: ALL\n\n", "sshd: \\\n  10.0.0.0/8", &x));
    }

    #[test]
    fn patterns() {
        let x = c("192.168.7.9", Some("host.example.org"));
        for (p, want) in [
            ("192.168.", true),
            ("192.169.", false),
            ("192.168.0.0/255.255.0.0", true),
            ("192.168.0.0/16", true),
            ("192.168.8.0/24", false),
            (".example.org", true),
            (".example.com", false),
            ("host.example.org", true),
            ("HOST.EXAMPLE.ORG", true),
            ("*.example.org", true),
            ("192.168.7.?", true),
            ("KNOWN", true),
            ("UNKNOWN", false),
            ("LOCAL", false),
            ("PARANOID", false),
            ("[::1]", false),
        ] {
            assert_eq!(d("", &format!("sshd: {p}"), &x), !want, "{p}");
        }
        let local = c("127.0.0.1", Some("localhost"));
        assert!(!d("", "sshd: LOCAL", &local));
        let v6 = c("2001:db8::5", None);
        assert!(!d("", "sshd: [2001:db8::]/32", &v6));
        assert!(d("", "sshd: [2001:db9::]/32", &v6));
        assert!(!d("", "sshd: UNKNOWN", &v6));
        // IPv4-mapped IPv6 is taken as IPv4.
        let mapped = c("::ffff:10.1.1.1", None);
        assert!(!d("", "sshd: 10.1.", &mapped));
    }

    #[test]
    fn except() {
        let x = c("10.1.2.3", None);
        assert!(!d("", "sshd: 10. EXCEPT 10.9.", &x));
        assert!(d("", "sshd: 10. EXCEPT 10.1.", &x));
        assert!(!d("", "ALL EXCEPT telnetd: ALL", &x));
        assert!(d("", "ALL EXCEPT sshd: ALL", &x));
        assert!(!d("", "sshd: 10. EXCEPT 10.1. EXCEPT 10.1.2.3", &x));
    }

    #[test]
    fn options_and_what_sisu_cannot_apply_deny() {
        let x = c("10.1.2.3", None);
        assert!(d("", "sshd: ALL: allow", &x));
        assert!(!d("sshd: ALL: deny", "", &x));
        assert!(!d("sshd: 10.: spawn (echo hi)", "", &x));
        assert!(!d("sshd: @trusted", "", &x));
        assert!(!d("sshd: root@10.1.2.3", "", &x));
        assert!(!d("sshd@10.0.0.1: ALL", "", &x));
        // Patterns that do not match this client are harmless.
        assert!(d("sshd: 192.168.: spawn (echo hi)", "", &x));
        assert_eq!(
            decide("sshd", &x, None, Some("")),
            Decision::Deny {
                file: HOSTS_ALLOW,
                line: 0,
                reason: "the file cannot be read".into()
            }
        );
        match decide(
            "sshd",
            &x,
            Some("\n\nsshd: 10.: twist /bin/false"),
            Some(""),
        ) {
            Decision::Deny { file, line, reason } => {
                assert_eq!((file, line), (HOSTS_ALLOW, 3));
                assert!(reason.contains("option twist"), "{reason}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_pipe_is_unknown() {
        let pipe = Client {
            address: None,
            name: None,
        };
        assert!(!d("", "sshd: ALL", &pipe));
        assert!(!d("", "sshd: UNKNOWN", &pipe));
        assert!(d("", "sshd: 10.", &pipe));
    }

    #[test]
    fn names_are_looked_up_only_when_a_rule_needs_one() {
        assert!(!needs_name(
            "sshd: 10. 192.168.0.0/16 [::1]",
            "ALL: ALL EXCEPT 127.0.0.1"
        ));
        assert!(needs_name("", "sshd: .example.org"));
        assert!(needs_name("sshd: LOCAL", ""));
    }

    proptest::proptest! {
        #[test]
        fn any_text_decides_without_panicking(allow in "\\PC{0,200}", deny in "\\PC{0,200}") {
            let _ = decide("sshd", &c("10.1.2.3", Some("h.example")), Some(&allow), Some(&deny));
        }
    }
}
