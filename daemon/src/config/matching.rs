//! `Match` blocks: the connection they are tested against, their criteria, and the
//! pattern and address-list matching they use (as OpenSSH's `match.c` and
//! `addrmatch.c` define it; the matching itself is [`sisu_wire::pattern`], shared
//! with `authorized_keys` and `known_hosts`).

pub use sisu_wire::pattern::{addr_match_list, match_pattern, match_pattern_list, ListMatch};

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

#[cfg(test)]
mod tests {
    use super::*;

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
