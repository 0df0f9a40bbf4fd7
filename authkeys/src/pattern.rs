//! Host and address patterns, as `from="…"` uses them (OpenSSH's `match.c` and
//! `addrmatch.c`): `*` and `?` wildcards, `!` negation, and CIDR networks.

use sisu_wire::pattern::{self, ListMatch, Network};
use std::fmt;
use std::net::IpAddr;

/// Longest single pattern (OpenSSH keeps each sub-pattern in a 1024-byte buffer).
pub const MAX_PATTERN_LEN: usize = pattern::MAX_PATTERN_LEN;

/// Most patterns in one list.
pub const MAX_PATTERNS: usize = 1024;

/// Does `text` match the wildcard `pattern` (`*` any run, `?` any one byte)? The one
/// implementation of [`sisu_wire::pattern::match_pattern`].
///
/// ```
/// use sisu_authkeys::pattern::wildcard_match;
/// assert!(wildcard_match("host.example.com", "*.example.com"));
/// assert!(wildcard_match("db7", "db?"));
/// assert!(!wildcard_match("db17", "db?"));
/// ```
pub fn wildcard_match(text: &str, pattern: &str) -> bool {
    pattern::match_pattern(text, pattern)
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
            if pattern::parse_network(text) == Network::Inconsistent {
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
        match pattern::match_pattern_list(name, &self.to_string(), true) {
            ListMatch::Yes => 1,
            ListMatch::No => 0,
            ListMatch::Negated => -1,
        }
    }

    /// OpenSSH's `addr_match_list`: entries that are addresses or networks match by
    /// address, the others as wildcards against the address's text. 1, 0 or -1 as
    /// for [`PatternList::match_name`].
    pub fn match_addr(&self, addr: IpAddr) -> i8 {
        match pattern::addr_match_list(Some(&addr.to_string()), &self.to_string()) {
            Some(ListMatch::Yes) => 1,
            Some(ListMatch::Negated) => -1,
            // A parsed list has no inconsistent network.
            Some(ListMatch::No) | None => 0,
        }
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
        // a mask too long for the family is an error, as in OpenSSH; one over 128 or
        // not a number makes the entry a plain wildcard pattern
        assert!(PatternList::parse("10.0.0.0/33").is_err());
        let l = PatternList::parse("10.0.0.0/200").unwrap();
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
