//! OpenSSH's pattern lists and address lists, the one implementation that
//! `authorized_keys` (`from=`, `principals=`), `known_hosts` host patterns and
//! `sshd_config` (`Match`, `AllowUsers`, `AcceptEnv`, ...) share.
//!
//! - [`match_pattern`]: `*` matches any run of bytes, `?` exactly one; in linear time
//!   (a set of pattern positions is carried along the text), so no pattern can make it
//!   slow.
//! - [`match_pattern_list`]: comma-separated patterns, `!` negates; a negated match
//!   refuses whatever else matched.
//! - [`addr_match_list`]: entries that are addresses or `address/masklen` networks
//!   match by address (an IPv4-mapped IPv6 peer counts as IPv4, as sshd normalises
//!   it), the others as patterns over the address's text; an empty entry, a mask too
//!   long for its family or host bits set beyond it is an error.
//! - [`match_host_and_ip`]: `from=` and `user@host` in `AllowUsers`: the address must
//!   not hit a negated entry, nor the host name, and one of the two must hit.
//!
//! Bytes, not characters, as OpenSSH does: `?` matches one byte.
//!
//! ```
//! use sisu_wire::pattern::{addr_match_list, match_pattern, match_pattern_list, ListMatch};
//! assert!(match_pattern("host.example.com", "*.example.com"));
//! assert_eq!(match_pattern_list("db1", "db*,!db1", false), ListMatch::Negated);
//! assert_eq!(addr_match_list(Some("10.1.2.3"), "10.0.0.0/8"), Some(ListMatch::Yes));
//! assert_eq!(addr_match_list(Some("10.1.2.3"), "10.0.0.1/8"), None); // host bits set
//! ```

use std::net::IpAddr;

/// Longest single pattern of a list (OpenSSH copies each into a 1024-byte buffer; a
/// longer one makes the whole list match nothing).
pub const MAX_PATTERN_LEN: usize = 1023;

/// Whether `text` matches `pattern` (`*` any run of bytes, `?` one byte).
pub fn match_pattern(text: &str, pattern: &str) -> bool {
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

/// A `*` can also match nothing: the position after it is reachable too.
fn closure(states: &mut [bool], p: &[u8]) {
    for i in 0..p.len() {
        if states[i] && p[i] == b'*' {
            states[i + 1] = true;
        }
    }
}

/// The result of matching against a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ListMatch {
    /// A positive entry matched and no negated one did.
    Yes,
    /// Nothing matched.
    No,
    /// A `!entry` matched: the list refuses.
    Negated,
}

/// OpenSSH's `match_pattern_list`: `text` against comma-separated patterns, `!`
/// negating one; with `fold_case` both are compared in ASCII lower case.
pub fn match_pattern_list(text: &str, list: &str, fold_case: bool) -> ListMatch {
    let folded;
    let text = if fold_case {
        folded = text.to_ascii_lowercase();
        folded.as_str()
    } else {
        text
    };
    let mut result = ListMatch::No;
    for entry in list.split(',') {
        let (negated, pat) = match entry.strip_prefix('!') {
            Some(p) => (true, p),
            None => (false, entry),
        };
        if pat.len() > MAX_PATTERN_LEN {
            return ListMatch::No;
        }
        let hit = if fold_case {
            match_pattern(text, &pat.to_ascii_lowercase())
        } else {
            match_pattern(text, pat)
        };
        if hit {
            if negated {
                return ListMatch::Negated;
            }
            result = ListMatch::Yes;
        }
    }
    result
}

/// How one list entry reads as an address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Network {
    /// An address (`len` its full width) or an `address/len` network.
    Net(IpAddr, u8),
    /// An `address/len` with host bits set beyond the mask: an error in the list.
    Inconsistent,
    /// Not an address (or a mask length out of range): a pattern.
    NotAddress,
}

/// Reads `entry` as an address or a network, as OpenSSH's `addr_pton_cidr`: an entry
/// of 64 bytes or more, a mask that is not decimal or is over 128, or text that is not
/// an address is a pattern; a mask too long for the family or host bits set beyond it
/// is an error.
pub fn parse_network(entry: &str) -> Network {
    if entry.len() >= 64 {
        return Network::NotAddress;
    }
    let (addr, len) = match entry.split_once('/') {
        Some((a, l)) => (a, Some(l)),
        None => (entry, None),
    };
    let len = match len {
        None => None,
        Some(l) if !l.is_empty() && l.bytes().all(|b| b.is_ascii_digit()) => {
            match l.parse::<u8>() {
                Ok(n) if n <= 128 => Some(n),
                _ => return Network::NotAddress,
            }
        }
        Some(_) => return Network::NotAddress,
    };
    let Ok(ip) = addr.parse::<IpAddr>() else {
        return Network::NotAddress;
    };
    let max = if ip.is_ipv4() { 32 } else { 128 };
    let len = len.unwrap_or(max);
    if len > max || masked(ip, len) != ip {
        return Network::Inconsistent;
    }
    Network::Net(ip, len)
}

/// An IPv4-mapped address as the IPv4 address it stands for.
pub fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

fn masked(ip: IpAddr, len: u8) -> IpAddr {
    match ip {
        IpAddr::V4(a) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(len)).unwrap_or(0);
            IpAddr::V4((u32::from(a) & mask).into())
        }
        IpAddr::V6(a) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(len)).unwrap_or(0);
            IpAddr::V6((u128::from(a) & mask).into())
        }
    }
}

/// Whether `addr` is in the network `net/len`.
pub fn network_contains(net: IpAddr, len: u8, addr: IpAddr) -> bool {
    let addr = canonical(addr);
    net.is_ipv4() == addr.is_ipv4() && masked(addr, len) == net
}

/// OpenSSH's `addr_match_list`: `addr` against an address list. With `addr` `None`,
/// only checks the list. An `addr` that is not an address matches nothing (OpenSSH's
/// `UNKNOWN` peer). `None`: the list is malformed (an empty entry, or a network that
/// [`parse_network`] calls inconsistent).
pub fn addr_match_list(addr: Option<&str>, list: &str) -> Option<ListMatch> {
    let ip = match addr.map(str::parse::<IpAddr>) {
        Some(Ok(ip)) => Some(canonical(ip)),
        Some(Err(_)) => return Some(ListMatch::No),
        None => None,
    };
    let mut result = ListMatch::No;
    for entry in list.split(',') {
        let (negated, e) = match entry.strip_prefix('!') {
            Some(rest) => (true, rest),
            None => (false, entry),
        };
        if e.is_empty() {
            return None;
        }
        let hit = match parse_network(e) {
            Network::Inconsistent => return None,
            Network::Net(net, len) => ip.is_some_and(|ip| network_contains(net, len, ip)),
            Network::NotAddress => addr.is_some_and(|a| match_pattern(a, e)),
        };
        if hit {
            if negated {
                return Some(ListMatch::Negated);
            }
            result = ListMatch::Yes;
        }
    }
    Some(result)
}

/// OpenSSH's `match_host_and_ip`: `Some(true)` when neither the address nor the host
/// name hits a negated entry and one of them hits a positive one; `None` for a list
/// with an inconsistent network.
pub fn match_host_and_ip(host: &str, ip: &str, list: &str) -> Option<bool> {
    let by_ip = addr_match_list(Some(ip), list)?;
    if by_ip == ListMatch::Negated {
        return Some(false);
    }
    let by_name = match_pattern_list(host, list, true);
    if by_name == ListMatch::Negated {
        return Some(false);
    }
    Some(by_ip == ListMatch::Yes || by_name == ListMatch::Yes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn wildcards_follow_openssh() {
        assert!(match_pattern("", ""));
        assert!(!match_pattern("a", ""));
        assert!(match_pattern("", "*"));
        assert!(match_pattern("abc", "a*c"));
        assert!(match_pattern("ac", "a*c"));
        assert!(!match_pattern("ab", "a*c"));
        assert!(match_pattern("LC_ALL", "LC_*"));
        assert!(!match_pattern("LANGUAGE", "LANG"));
        // `?` is one byte: a two-byte character needs two.
        assert!(match_pattern("é", "??"));
        assert!(!match_pattern("é", "?"));
        let text = "a".repeat(5000);
        assert!(!match_pattern(&text, &format!("{}b", "*a".repeat(200))));
    }

    #[test]
    fn lists_negate_and_fold_case() {
        assert_eq!(
            match_pattern_list("web1", "web*,!db*", false),
            ListMatch::Yes
        );
        assert_eq!(
            match_pattern_list("db1", "*,!db*", false),
            ListMatch::Negated
        );
        assert_eq!(match_pattern_list("x", "a,b", false), ListMatch::No);
        assert_eq!(match_pattern_list("HOST", "host", true), ListMatch::Yes);
        assert_eq!(match_pattern_list("HOST", "host", false), ListMatch::No);
        let long = "x".repeat(MAX_PATTERN_LEN + 1);
        assert_eq!(
            match_pattern_list("a", &format!("a,{long}"), false),
            ListMatch::No
        );
    }

    #[test]
    fn address_lists() {
        let m = |a: &str, l: &str| addr_match_list(Some(a), l);
        assert_eq!(m("10.1.2.3", "10.0.0.0/8"), Some(ListMatch::Yes));
        assert_eq!(
            m("10.1.2.3", "10.0.0.0/8,!10.1.0.0/16"),
            Some(ListMatch::Negated)
        );
        assert_eq!(m("192.0.2.1", "10.0.0.0/8"), Some(ListMatch::No));
        assert_eq!(m("::ffff:10.1.2.3", "10.0.0.0/8"), Some(ListMatch::Yes));
        assert_eq!(m("2001:db8::1", "2001:db8::/32"), Some(ListMatch::Yes));
        assert_eq!(m("2001:db8::1", "10.0.0.0/8"), Some(ListMatch::No));
        assert_eq!(m("10.0.0.1", "::/0"), Some(ListMatch::No));
        assert_eq!(m("10.0.0.1", "0.0.0.0/0"), Some(ListMatch::Yes));
        assert_eq!(m("10.1.2.3", "10.1.2.*"), Some(ListMatch::Yes));
        assert_eq!(m("10.1.2.3", "10.0.0.1/8"), None);
        // A peer that is not an address (`UNKNOWN`) matches nothing, not even `*`.
        assert_eq!(m("UNKNOWN", "10.0.0.0/8,UNK*,*"), Some(ListMatch::No));
        assert_eq!(addr_match_list(None, "10.0.0.0/8"), Some(ListMatch::No));
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
        for pattern in ["10.0.0.0/x", "10.0.0.0/", "*.example.com", "10.0.0.0/200"] {
            assert_eq!(
                addr_match_list(None, pattern),
                Some(ListMatch::No),
                "{pattern}"
            );
        }
        assert_eq!(m("10.0.0.0/200", "10.0.0.0/2?0"), Some(ListMatch::No));
    }

    #[test]
    fn host_and_ip() {
        let l = "*.example.com,!evil.example.com,10.0.0.0/8";
        assert_eq!(
            match_host_and_ip("www.example.com", "192.0.2.1", l),
            Some(true)
        );
        assert_eq!(
            match_host_and_ip("evil.example.com", "10.1.1.1", l),
            Some(false)
        );
        assert_eq!(match_host_and_ip("192.0.2.1", "10.1.2.3", l), Some(true));
        assert_eq!(match_host_and_ip("other.org", "192.0.2.1", l), Some(false));
        assert_eq!(match_host_and_ip("x", "10.0.0.1", "10.0.0.1/8"), None);
    }

    /// A model: a regular expression built from the pattern.
    fn model(text: &str, pattern: &str) -> bool {
        fn go(t: &[u8], p: &[u8]) -> bool {
            match p.split_first() {
                None => t.is_empty(),
                Some((b'*', rest)) => (0..=t.len()).any(|i| go(&t[i..], rest)),
                Some((b'?', rest)) => !t.is_empty() && go(&t[1..], rest),
                Some((c, rest)) => t.first() == Some(c) && go(&t[1..], rest),
            }
        }
        go(text.as_bytes(), pattern.as_bytes())
    }

    proptest! {
        #[test]
        fn match_pattern_agrees_with_a_backtracking_model(
            text in "[ab]{0,10}",
            pattern in "[ab*?]{0,8}",
        ) {
            prop_assert_eq!(match_pattern(&text, &pattern), model(&text, &pattern));
        }
    }
}
