//! `Match` blocks: the connection they are tested against, their criteria, and the
//! pattern and address-list matching they use (as OpenSSH's `match.c` and
//! `addrmatch.c` define it).

use std::net::IpAddr;

/// What is known about one connection when a `Match` block is evaluated (and what
/// `sshd -T -C user=...,host=...,addr=...,laddr=...,lport=...` describes).
///
/// A criterion whose information is missing does not match.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConnectionSpec {
    /// The user name the client is logging in as.
    pub user: Option<String>,
    /// The client's host name (its address when `UseDNS no`).
    pub host: Option<String>,
    /// The client's address.
    pub address: Option<String>,
    /// The server's local address of the connection.
    pub local_address: Option<String>,
    /// The server's local port of the connection.
    pub local_port: Option<u16>,
    /// The routing domain (`rdomain=`), kept for `Match RDomain`.
    pub rdomain: Option<String>,
}

impl ConnectionSpec {
    /// Parses the `-C` argument of `sshd -T`: comma-separated `user=`, `host=`, `addr=`,
    /// `laddr=`, `lport=` and `rdomain=` items. The error is OpenSSH's message.
    pub fn parse(spec: &str) -> Result<ConnectionSpec, String> {
        let mut c = ConnectionSpec::default();
        for item in spec.split(',') {
            if item.is_empty() {
                // OpenSSH stops at the first empty item.
                break;
            }
            let bad = || format!("Invalid test mode specification {item}");
            let (key, value) = item.split_once('=').ok_or_else(bad)?;
            let value = value.to_string();
            match key {
                "user" => c.user = Some(value),
                "host" => c.host = Some(value),
                "addr" => c.address = Some(value),
                "laddr" => c.local_address = Some(value),
                "rdomain" => c.rdomain = Some(value),
                "lport" => {
                    let port = value
                        .parse::<u16>()
                        .ok()
                        .filter(|&p| p != 0)
                        .ok_or_else(|| {
                            format!("Invalid port '{value}' in test mode specification {item}")
                        })?;
                    c.local_port = Some(port);
                }
                _ => return Err(bad()),
            }
        }
        Ok(c)
    }
}

/// The group database, as `Match Group` needs it.
pub trait GroupLookup {
    /// The names of every group `user` belongs to (primary and supplementary), or
    /// `None` when the user does not exist.
    fn groups_of(&self, user: &str) -> Option<Vec<String>>;
}

/// A group database that knows no user: `Match Group` never matches.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoGroups;

impl GroupLookup for NoGroups {
    fn groups_of(&self, _user: &str) -> Option<Vec<String>> {
        None
    }
}

impl<F: Fn(&str) -> Option<Vec<String>>> GroupLookup for F {
    fn groups_of(&self, user: &str) -> Option<Vec<String>> {
        self(user)
    }
}

/// One criterion of a `Match` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Criterion {
    /// `User pattern-list`
    User(String),
    /// `Group pattern-list`
    Group(String),
    /// `Host pattern-list` (case-insensitive)
    Host(String),
    /// `Address address-list` (CIDR, patterns, `!`)
    Address(String),
    /// `LocalAddress address-list`
    LocalAddress(String),
    /// `LocalPort port`
    LocalPort(u16),
    /// `RDomain pattern-list`
    RDomain(String),
}

/// The condition of one `Match` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Condition {
    /// `Match All`
    All,
    /// Every criterion must hold.
    Every(Vec<Criterion>),
}

impl Condition {
    /// Both this condition and `other` (a `Match` in a file included from a `Match`
    /// block).
    pub fn and(&self, other: Condition) -> Condition {
        match (self, other) {
            (Condition::All, o) => o,
            (s, Condition::All) => s.clone(),
            (Condition::Every(a), Condition::Every(b)) => {
                Condition::Every(a.iter().cloned().chain(b).collect())
            }
        }
    }
}

/// Most criteria on one `Match` line.
pub const MAX_CRITERIA: usize = 64;

/// Parses the arguments of a `Match` line. `Keyword=value` and `Keyword value` are both
/// accepted. The error is the reason, without file and line.
pub fn parse_condition(args: &[String]) -> Result<Condition, String> {
    // Split `User=alice` into two words, as OpenSSH's tokenizer does.
    let mut words: Vec<&str> = Vec::new();
    for a in args {
        match a.split_once('=') {
            Some((k, v)) if !k.is_empty() => {
                words.push(k);
                words.push(v);
            }
            _ => words.push(a),
        }
    }
    let mut it = words.into_iter();
    let mut criteria = Vec::new();
    while let Some(attr) = it.next() {
        if attr.eq_ignore_ascii_case("all") {
            if !criteria.is_empty() || it.next().is_some() {
                return Err("'all' cannot be combined with other Match attributes".into());
            }
            return Ok(Condition::All);
        }
        let arg = match it.next() {
            Some(a) if !a.is_empty() => a,
            _ => return Err(format!("Missing Match criteria for {attr}")),
        };
        if criteria.len() >= MAX_CRITERIA {
            return Err("too many Match criteria".into());
        }
        let lower = attr.to_ascii_lowercase();
        let c = match lower.as_str() {
            "user" => Criterion::User(arg.into()),
            "group" => Criterion::Group(arg.into()),
            "host" => Criterion::Host(arg.into()),
            "address" | "localaddress" => {
                if addr_match_list(None, arg).is_none() {
                    return Err(format!("Invalid Match {lower} argument '{arg}'"));
                }
                if lower == "address" {
                    Criterion::Address(arg.into())
                } else {
                    Criterion::LocalAddress(arg.into())
                }
            }
            "localport" => match super::values::parse_port(arg) {
                Ok(p) => Criterion::LocalPort(p),
                Err(()) => return Err(format!("Invalid LocalPort '{arg}' on Match line")),
            },
            "rdomain" => Criterion::RDomain(arg.into()),
            _ => return Err(format!("Unsupported Match attribute {attr}")),
        };
        criteria.push(c);
    }
    if criteria.is_empty() {
        return Err("One or more attributes required for Match".into());
    }
    Ok(Condition::Every(criteria))
}

impl Condition {
    /// Whether a connection satisfies this condition.
    pub fn matches(&self, c: &ConnectionSpec, groups: &dyn GroupLookup) -> bool {
        match self {
            Condition::All => true,
            Condition::Every(list) => list.iter().all(|k| k.matches(c, groups)),
        }
    }
}

impl Criterion {
    fn matches(&self, c: &ConnectionSpec, groups: &dyn GroupLookup) -> bool {
        match self {
            Criterion::User(p) => c
                .user
                .as_deref()
                .is_some_and(|u| match_pattern_list(u, p, false) == ListMatch::Yes),
            Criterion::Group(p) => c
                .user
                .as_deref()
                .is_some_and(|u| groups.groups_of(u).is_some_and(|gs| groups_match(&gs, p))),
            Criterion::Host(p) => c
                .host
                .as_deref()
                .is_some_and(|h| match_pattern_list(h, p, true) == ListMatch::Yes),
            Criterion::Address(l) => c
                .address
                .as_deref()
                .is_some_and(|a| addr_match_list(Some(a), l) == Some(ListMatch::Yes)),
            Criterion::LocalAddress(l) => c
                .local_address
                .as_deref()
                .is_some_and(|a| addr_match_list(Some(a), l) == Some(ListMatch::Yes)),
            Criterion::LocalPort(p) => c.local_port == Some(*p),
            Criterion::RDomain(p) => c
                .rdomain
                .as_deref()
                .is_some_and(|r| match_pattern_list(r, p, false) == ListMatch::Yes),
        }
    }
}

/// A group-list matches when some group matches positively and none is negated.
fn groups_match(groups: &[String], patterns: &str) -> bool {
    let mut found = false;
    for g in groups {
        match match_pattern_list(g, patterns, false) {
            ListMatch::Negated => return false,
            ListMatch::Yes => found = true,
            ListMatch::No => {}
        }
    }
    found
}

/// The result of matching against a pattern-list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListMatch {
    /// A positive pattern matched and no negated one did.
    Yes,
    /// Nothing matched.
    No,
    /// A `!pattern` matched: the list refuses the name.
    Negated,
}

/// Glob matching: `*` is any run of characters, `?` exactly one. Linear in time with
/// backtracking to the last `*` only, so no input makes it slow.
pub fn match_pattern(s: &str, pattern: &str) -> bool {
    let s: Vec<char> = s.chars().collect();
    let p: Vec<char> = pattern.chars().collect();
    let (mut si, mut pi) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while si < s.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == s[si]) {
            si += 1;
            pi += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, si));
            pi += 1;
        } else if let Some((sp, ss)) = star {
            pi = sp + 1;
            si = ss + 1;
            star = Some((sp, ss + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

/// Matches `s` against a comma-separated pattern-list in which `!pattern` negates.
/// With `fold_case`, both sides are compared in lower case (host names).
pub fn match_pattern_list(s: &str, list: &str, fold_case: bool) -> ListMatch {
    let s = if fold_case {
        s.to_ascii_lowercase()
    } else {
        s.to_string()
    };
    let mut result = ListMatch::No;
    for item in list.split(',') {
        let (neg, pat) = match item.strip_prefix('!') {
            Some(p) => (true, p),
            None => (false, item),
        };
        let pat = if fold_case {
            pat.to_ascii_lowercase()
        } else {
            pat.to_string()
        };
        if match_pattern(&s, &pat) {
            if neg {
                return ListMatch::Negated;
            }
            result = ListMatch::Yes;
        }
    }
    result
}

/// Parses `addr` or `addr/len`. `Ok(None)`: not an address (the entry is then a
/// pattern); `Err`: an address with a mask too long for its family or host bits set.
fn parse_cidr(s: &str) -> Result<Option<(IpAddr, u8)>, ()> {
    if s.len() >= 64 {
        return Ok(None);
    }
    let (a, len) = match s.split_once('/') {
        Some((a, l)) => {
            if !l.starts_with(|c: char| c.is_ascii_digit()) {
                return Ok(None);
            }
            match l.parse::<u8>() {
                Ok(n) if n <= 128 => (a, Some(n)),
                _ => return Ok(None),
            }
        }
        None => (s, None),
    };
    let Ok(addr) = a.parse::<IpAddr>() else {
        return Ok(None);
    };
    let max = if addr.is_ipv4() { 32 } else { 128 };
    let len = len.unwrap_or(max);
    if len > max || masked(addr, len) != addr {
        return Err(());
    }
    Ok(Some((addr, len)))
}

fn masked(addr: IpAddr, len: u8) -> IpAddr {
    match addr {
        IpAddr::V4(a) => {
            let m = if len == 0 {
                0
            } else {
                u32::MAX << (32 - u32::from(len))
            };
            IpAddr::V4((u32::from(a) & m).into())
        }
        IpAddr::V6(a) => {
            let m = if len == 0 {
                0
            } else {
                u128::MAX << (128 - u32::from(len))
            };
            IpAddr::V6((u128::from(a) & m).into())
        }
    }
}

fn canonical(addr: IpAddr) -> IpAddr {
    match addr {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(addr),
        v4 => v4,
    }
}

/// Matches an address against an address-list: comma-separated entries, each a CIDR
/// block (`10.0.0.0/8`, `::1/128`), a single address, or else a wildcard pattern over
/// the address text; `!` negates. An `addr` that is not an IP address matches nothing.
/// With `addr` `None`, only checks the list's syntax.
///
/// `None`: the list is malformed (an entry is empty, or is an address with a mask too
/// long for its family or with host bits set beyond it).
pub fn addr_match_list(addr: Option<&str>, list: &str) -> Option<ListMatch> {
    let ip = match addr {
        Some(a) => match a.parse::<IpAddr>() {
            Ok(ip) => Some(canonical(ip)),
            Err(_) => return Some(ListMatch::No),
        },
        None => None,
    };
    let mut result = ListMatch::No;
    for item in list.split(',') {
        let (neg, entry) = match item.strip_prefix('!') {
            Some(e) => (true, e),
            None => (false, item),
        };
        if entry.is_empty() {
            return None;
        }
        let hit = match parse_cidr(entry).ok()? {
            Some((net, len)) => {
                let net6 = net;
                let net = canonical(net);
                let len = if net.is_ipv4() && net6.is_ipv6() {
                    len.saturating_sub(96)
                } else {
                    len
                };
                ip.is_some_and(|ip| ip.is_ipv4() == net.is_ipv4() && masked(ip, len) == net)
            }
            None => addr.is_some_and(|a| match_pattern(a, entry)),
        };
        if hit {
            if neg {
                return Some(ListMatch::Negated);
            }
            result = ListMatch::Yes;
        }
    }
    Some(result)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob_patterns() {
        assert!(match_pattern("LC_ALL", "LC_*"));
        assert!(match_pattern("LANG", "LAN?"));
        assert!(match_pattern("", "*"));
        assert!(match_pattern("abc", "a*c"));
        assert!(match_pattern("abxbc", "a*bc"));
        assert!(!match_pattern("LANGUAGE", "LANG"));
        assert!(!match_pattern("ab", "a?b"));
        assert!(!match_pattern("ab", ""));
        // A pathological pattern finishes quickly.
        let s = "a".repeat(5000);
        assert!(!match_pattern(&s, &format!("{}b", "*a".repeat(200))));
    }

    #[test]
    fn pattern_lists_with_negation() {
        assert_eq!(
            match_pattern_list("alice", "bob,al*", false),
            ListMatch::Yes
        );
        assert_eq!(
            match_pattern_list("root", "*,!root", false),
            ListMatch::Negated
        );
        assert_eq!(match_pattern_list("alice", "!root", false), ListMatch::No);
        assert_eq!(match_pattern_list("Alice", "alice", false), ListMatch::No);
        assert_eq!(
            match_pattern_list("Host.EXAMPLE", "*.example", true),
            ListMatch::Yes
        );
    }

    #[test]
    fn address_lists() {
        let m = |a, l| addr_match_list(Some(a), l);
        assert_eq!(m("10.1.2.3", "10.0.0.0/8"), Some(ListMatch::Yes));
        assert_eq!(m("11.1.2.3", "10.0.0.0/8"), Some(ListMatch::No));
        assert_eq!(
            m("10.1.2.3", "10.0.0.0/8,!10.1.0.0/16"),
            Some(ListMatch::Negated)
        );
        assert_eq!(m("192.168.1.7", "192.168.1.*"), Some(ListMatch::Yes));
        assert_eq!(m("::1", "::1"), Some(ListMatch::Yes));
        assert_eq!(m("2001:db8::5", "2001:db8::/32"), Some(ListMatch::Yes));
        assert_eq!(m("::ffff:10.0.0.1", "10.0.0.0/8"), Some(ListMatch::Yes));
        assert_eq!(m("10.0.0.1", "0.0.0.0/0"), Some(ListMatch::Yes));
        assert_eq!(m("10.0.0.1", "::/0"), Some(ListMatch::No));
        assert_eq!(m("not-an-ip", "10.0.0.0/8"), Some(ListMatch::No));
        for bad in [
            "10.0.0.1/8",
            "10.0.0.0/33",
            "::1/64",
            "",
            "10.0.0.0/8,",
            "!",
        ] {
            assert_eq!(addr_match_list(None, bad), None, "{bad}");
        }
        // Not addresses: kept as patterns, as OpenSSH does.
        for pattern in ["10.0.0.0/x", "*.example.com", "10.0.0.0/200"] {
            assert_eq!(
                addr_match_list(None, pattern),
                Some(ListMatch::No),
                "{pattern}"
            );
        }
    }

    #[test]
    fn test_spec() {
        let c = ConnectionSpec::parse(
            "user=alice,host=h.example,addr=10.0.0.1,laddr=10.0.0.2,lport=2222",
        )
        .unwrap();
        assert_eq!(c.user.as_deref(), Some("alice"));
        assert_eq!(c.local_port, Some(2222));
        assert_eq!(c.local_address.as_deref(), Some("10.0.0.2"));
        assert_eq!(
            ConnectionSpec::parse("usr=x"),
            Err("Invalid test mode specification usr=x".into())
        );
        assert!(ConnectionSpec::parse("lport=0")
            .unwrap_err()
            .starts_with("Invalid port '0'"));
    }

    #[test]
    fn conditions() {
        let w = |s: &str| s.split(' ').map(String::from).collect::<Vec<_>>();
        assert_eq!(parse_condition(&w("all")), Ok(Condition::All));
        assert_eq!(parse_condition(&w("All")), Ok(Condition::All));
        assert!(parse_condition(&w("User a All")).is_err());
        assert!(parse_condition(&w("All User")).is_err());
        assert_eq!(
            parse_condition(&w("User")),
            Err("Missing Match criteria for User".into())
        );
        assert!(parse_condition(&w("Color red"))
            .unwrap_err()
            .contains("Unsupported"));
        assert!(parse_condition(&w("Address 10.0.0.1/8")).is_err());
        assert!(parse_condition(&w("LocalPort 0")).is_err());
        assert_eq!(
            parse_condition(&w("user=alice LocalPort=2222")),
            Ok(Condition::Every(vec![
                Criterion::User("alice".into()),
                Criterion::LocalPort(2222)
            ]))
        );

        let cond = parse_condition(&w("Group wheel,!nologin User *")).unwrap();
        let groups = |u: &str| match u {
            "alice" => Some(vec!["alice".to_string(), "wheel".to_string()]),
            "mallory" => Some(vec!["wheel".to_string(), "nologin".to_string()]),
            _ => None,
        };
        let spec = |u: &str| ConnectionSpec {
            user: Some(u.into()),
            ..Default::default()
        };
        assert!(cond.matches(&spec("alice"), &groups));
        assert!(!cond.matches(&spec("mallory"), &groups));
        assert!(!cond.matches(&spec("ghost"), &groups));
        assert!(!cond.matches(&ConnectionSpec::default(), &groups));
        assert!(!cond.matches(&spec("alice"), &NoGroups));
    }
}
