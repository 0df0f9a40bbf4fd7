//! Host and address patterns, as `from="…"` uses them (OpenSSH's `match.c` and
//! `addrmatch.c`): `*` and `?` wildcards, `!` negation, and CIDR networks.

use std::fmt;
use std::net::IpAddr;

/// Longest single pattern (OpenSSH keeps each sub-pattern in a 1024-byte buffer).
pub const MAX_PATTERN_LEN: usize = 1023;

/// Most patterns in one list.
pub const MAX_PATTERNS: usize = 1024;

/// Does `text` match the wildcard `pattern` (`*` any run, `?` any one character)?
///
/// Runs in O(len(text) × len(pattern)) time with no backtracking, so a hostile
/// pattern cannot make it hang.
///
/// ```
/// use sisu_authkeys::pattern::wildcard_match;
/// assert!(wildcard_match("host.example.com", "*.example.com"));
/// assert!(wildcard_match("db7", "db?"));
/// assert!(!wildcard_match("db17", "db?"));
/// ```
pub fn wildcard_match(text: &str, pattern: &str) -> bool {
    let p = pattern.as_bytes();
    let m = p.len();
    if m == 0 {
        return text.is_empty();
    }
    // states[i]: pattern position i is reachable; states[m] accepts.
    let mut states = vec![false; m + 1];
    let mut next = vec![false; m + 1];
    states[0] = true;
    closure(&mut states, p);
    for &c in text.as_bytes() {
        next.iter_mut().for_each(|s| *s = false);
        for i in 0..m {
            if !states[i] {
                continue;
            }
            if p[i] == b'*' {
                next[i] = true;
            } else if p[i] == b'?' || p[i] == c {
                next[i + 1] = true;
            }
        }
        closure(&mut next, p);
        std::mem::swap(&mut states, &mut next);
        if !states.iter().any(|&s| s) {
            return false;
        }
    }
    states[m]
}

/// A `*` can also match nothing: make the position after it reachable.
fn closure(states: &mut [bool], p: &[u8]) {
    for i in 0..p.len() {
        if states[i] && p[i] == b'*' {
            states[i + 1] = true;
        }
    }
}

/// One entry of a pattern list: a wildcard pattern or an address, maybe negated.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Pattern {
    /// The entry started with `!`: a match refuses instead of accepting.
    pub negated: bool,
    /// The pattern text after any `!`.
    pub text: String,
}

/// A comma-separated list of [`Pattern`]s, as in `from="*.example.com,!10.0.0.0/8"`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct PatternList {
    /// The entries in file order.
    pub patterns: Vec<Pattern>,
}

/// Why a pattern list is not valid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PatternError {
    /// An entry is empty (`a,,b`, a lone `!`, or an empty list).
    Empty,
    /// An entry is longer than [`MAX_PATTERN_LEN`].
    TooLong,
    /// More than [`MAX_PATTERNS`] entries.
    TooMany,
    /// A CIDR network has host bits set beyond its mask.
    BadNetwork(String),
}

impl fmt::Display for PatternError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PatternError::Empty => f.write_str("expected a pattern, found an empty entry"),
            PatternError::TooLong => write!(f, "pattern longer than {MAX_PATTERN_LEN} bytes"),
            PatternError::TooMany => write!(f, "more than {MAX_PATTERNS} patterns"),
            PatternError::BadNetwork(n) => {
                write!(f, "expected an address/masklen network, found {n:?}")
            }
        }
    }
}

impl std::error::Error for PatternError {}

impl PatternList {
    /// Parse a comma-separated list, checking every CIDR entry.
    ///
    /// ```
    /// use sisu_authkeys::pattern::PatternList;
    /// let list = PatternList::parse("192.0.2.0/24,!*.bad.example").unwrap();
    /// assert_eq!(list.patterns.len(), 2);
    /// assert!(PatternList::parse("10.0.0.1/8").is_err()); // host bits set
    /// ```
    pub fn parse(s: &str) -> Result<PatternList, PatternError> {
        let mut patterns = Vec::new();
        for entry in s.split(',') {
            if patterns.len() >= MAX_PATTERNS {
                return Err(PatternError::TooMany);
            }
            let (negated, text) = match entry.strip_prefix('!') {
                Some(rest) => (true, rest),
                None => (false, entry),
            };
            if text.is_empty() {
                return Err(PatternError::Empty);
            }
            if text.len() > MAX_PATTERN_LEN {
                return Err(PatternError::TooLong);
            }
            if let Cidr::Invalid = Cidr::parse(text) {
                return Err(PatternError::BadNetwork(text.to_string()));
            }
            patterns.push(Pattern {
                negated,
                text: text.to_string(),
            });
        }
        Ok(PatternList { patterns })
    }

    /// OpenSSH's `match_pattern_list` with lower-casing: 1 if some positive entry
    /// matches and no negated one does, -1 if a negated entry matches, else 0.
    pub fn match_name(&self, name: &str) -> i8 {
        let name = name.to_ascii_lowercase();
        let mut positive = false;
        for p in &self.patterns {
            if wildcard_match(&name, &p.text.to_ascii_lowercase()) {
                if p.negated {
                    return -1;
                }
                positive = true;
            }
        }
        i8::from(positive)
    }

    /// OpenSSH's `addr_match_list`: entries that are addresses or networks match by
    /// address, the others as wildcards against the address's text. 1, 0 or -1 as
    /// for [`PatternList::match_name`].
    pub fn match_addr(&self, addr: IpAddr) -> i8 {
        let text = addr.to_string();
        let mut positive = false;
        for p in &self.patterns {
            let hit = match Cidr::parse(&p.text) {
                Cidr::Net(net, len) => net_contains(net, len, addr),
                Cidr::Invalid => false,
                Cidr::NotAddress => wildcard_match(&text, &p.text),
            };
            if hit {
                if p.negated {
                    return -1;
                }
                positive = true;
            }
        }
        i8::from(positive)
    }

    /// OpenSSH's `match_host_and_ip`, the `from=` test: the address must not hit a
    /// negated entry, the host name must not hit a negated entry, and one of the two
    /// must hit a positive entry.
    ///
    /// ```
    /// use sisu_authkeys::pattern::PatternList;
    /// let list = PatternList::parse("*.example.com,!evil.example.com,10.0.0.0/8").unwrap();
    /// let ip = "192.0.2.1".parse().unwrap();
    /// assert!(list.matches_host_and_addr("www.example.com", ip));
    /// assert!(!list.matches_host_and_addr("evil.example.com", ip));
    /// assert!(list.matches_host_and_addr("192.0.2.1", "10.1.2.3".parse().unwrap()));
    /// ```
    pub fn matches_host_and_addr(&self, host: &str, addr: IpAddr) -> bool {
        let mip = self.match_addr(addr);
        if mip == -1 {
            return false;
        }
        let mhost = self.match_name(host);
        if mhost == -1 {
            return false;
        }
        mhost == 1 || mip == 1
    }
}

impl fmt::Display for PatternList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.patterns.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            if p.negated {
                f.write_str("!")?;
            }
            f.write_str(&p.text)?;
        }
        Ok(())
    }
}

/// How an entry reads as an address.
enum Cidr {
    /// An address, or an address with a consistent `/masklen`.
    Net(IpAddr, u8),
    /// Looks like `addr/len` but is inconsistent or out of range.
    Invalid,
    /// Not an address: a wildcard pattern.
    NotAddress,
}

impl Cidr {
    fn parse(text: &str) -> Cidr {
        let (addr, len) = match text.split_once('/') {
            Some((a, l)) => (a, Some(l)),
            None => (text, None),
        };
        let Ok(ip) = addr.parse::<IpAddr>() else {
            return Cidr::NotAddress;
        };
        let max = if ip.is_ipv4() { 32 } else { 128 };
        let len = match len {
            None => max,
            Some(l) => match l.parse::<u8>() {
                Ok(n) if n <= max && !l.starts_with('+') => n,
                // OpenSSH falls back to a wildcard match for a bad mask length.
                _ => return Cidr::NotAddress,
            },
        };
        if masked(ip, len) != ip {
            return Cidr::Invalid;
        }
        Cidr::Net(ip, len)
    }
}

fn masked(ip: IpAddr, len: u8) -> IpAddr {
    match ip {
        IpAddr::V4(a) => {
            let bits = u32::from(a);
            let mask = if len == 0 {
                0
            } else {
                u32::MAX << (32 - u32::from(len))
            };
            IpAddr::V4((bits & mask).into())
        }
        IpAddr::V6(a) => {
            let bits = u128::from(a);
            let mask = if len == 0 {
                0
            } else {
                u128::MAX << (128 - u32::from(len))
            };
            IpAddr::V6((bits & mask).into())
        }
    }
}

fn net_contains(net: IpAddr, len: u8, addr: IpAddr) -> bool {
    match (net, addr) {
        (IpAddr::V4(_), IpAddr::V4(_)) | (IpAddr::V6(_), IpAddr::V6(_)) => masked(addr, len) == net,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_follow_openssh() {
        assert!(wildcard_match("", ""));
        assert!(!wildcard_match("a", ""));
        assert!(wildcard_match("", "*"));
        assert!(wildcard_match("abc", "a*c"));
        assert!(wildcard_match("ac", "a*c"));
        assert!(!wildcard_match("ab", "a*c"));
        assert!(wildcard_match("a?c", "a?c"));
        // a pathological pattern finishes at once
        let text = "a".repeat(5000);
        assert!(!wildcard_match(
            &text,
            &"*a".repeat(200).replace("a*a", "a*b")
        ));
    }

    #[test]
    fn negation_wins_over_a_positive_match() {
        let l = PatternList::parse("10.0.0.0/8,!10.1.2.3").unwrap();
        assert_eq!(l.match_addr("10.1.2.4".parse().unwrap()), 1);
        assert_eq!(l.match_addr("10.1.2.3".parse().unwrap()), -1);
        assert!(!l.matches_host_and_addr("x", "10.1.2.3".parse().unwrap()));
    }

    #[test]
    fn cidr_and_v6() {
        let l = PatternList::parse("2001:db8::/32").unwrap();
        assert_eq!(l.match_addr("2001:db8::1".parse().unwrap()), 1);
        assert_eq!(l.match_addr("2001:db9::1".parse().unwrap()), 0);
        assert_eq!(l.match_addr("10.0.0.1".parse().unwrap()), 0);
        assert!(PatternList::parse("10.0.0.1/8").is_err());
        // a bad mask length makes the entry a plain wildcard pattern, as in OpenSSH
        let l = PatternList::parse("10.0.0.0/33").unwrap();
        assert_eq!(l.match_addr("10.0.0.0".parse().unwrap()), 0);
        assert!(PatternList::parse("a,,b").is_err());
        assert!(PatternList::parse("!").is_err());
    }

    #[test]
    fn names_are_case_insensitive_and_addresses_match_as_text_too() {
        let l = PatternList::parse("*.EXAMPLE.com,192.0.2.*").unwrap();
        assert_eq!(l.match_name("Host.Example.COM"), 1);
        assert_eq!(l.match_addr("192.0.2.77".parse().unwrap()), 1);
    }
}
