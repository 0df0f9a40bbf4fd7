//! Host patterns (OpenSSH's `match_hostname`): comma lists of `*`/`?` wildcards,
//! `!` negation, compared case-insensitively; `[host]:port` is plain text here.

/// Longest single pattern OpenSSH compares (a longer one never matches).
pub const MAX_PATTERN_LEN: usize = 1023;

/// Does `text` match the wildcard `pattern`? Linear-time, no backtracking.
///
/// ```
/// use sisu_knownhosts::pattern::wildcard_match;
/// assert!(wildcard_match("[db1.example]:2222", "[db?.example]:*"));
/// ```
pub fn wildcard_match(text: &str, pattern: &str) -> bool {
    let p = pattern.as_bytes();
    let m = p.len();
    if m == 0 {
        return text.is_empty();
    }
    let mut states = vec![false; m + 1];
    let mut next = vec![false; m + 1];
    states[0] = true;
    closure(&mut states, p);
    for &c in text.as_bytes() {
        next.iter_mut().for_each(|s| *s = false);
        for i in 0..m {
            if states[i] {
                if p[i] == b'*' {
                    next[i] = true;
                } else if p[i] == b'?' || p[i] == c {
                    next[i + 1] = true;
                }
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

fn closure(states: &mut [bool], p: &[u8]) {
    for i in 0..p.len() {
        if states[i] && p[i] == b'*' {
            states[i + 1] = true;
        }
    }
}

/// Match `name` against a comma-separated pattern list: `Some(true)` if a positive
/// pattern matches and no negated one does, `Some(false)` if a negated one matches
/// (the entry refuses this name), `None` if nothing matches.
///
/// ```
/// use sisu_knownhosts::pattern::match_list;
/// assert_eq!(match_list("web1.example.com", "*.example.com,!db*"), Some(true));
/// assert_eq!(match_list("db1.example.com", "*.example.com,!db*"), Some(false));
/// assert_eq!(match_list("other.org", "*.example.com"), None);
/// ```
pub fn match_list(name: &str, list: &str) -> Option<bool> {
    let name = name.to_ascii_lowercase();
    let mut positive = false;
    for sub in list.split(',') {
        let (neg, pat) = match sub.strip_prefix('!') {
            Some(p) => (true, p),
            None => (false, sub),
        };
        if pat.len() > MAX_PATTERN_LEN {
            return None;
        }
        if wildcard_match(&name, &pat.to_ascii_lowercase()) {
            if neg {
                return Some(false);
            }
            positive = true;
        }
    }
    positive.then_some(true)
}
