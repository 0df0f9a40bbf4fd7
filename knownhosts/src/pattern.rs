//! Host patterns (OpenSSH's `match_hostname`): comma lists of `*`/`?` wildcards,
//! `!` negation, compared case-insensitively; `[host]:port` is plain text here.

/// Longest single pattern OpenSSH compares (a longer one never matches).
pub const MAX_PATTERN_LEN: usize = sisu_wire::pattern::MAX_PATTERN_LEN;

/// Does `text` match the wildcard `pattern`? The one implementation of
/// [`sisu_wire::pattern::match_pattern`].
///
/// ```
/// use sisu_knownhosts::pattern::wildcard_match;
/// assert!(wildcard_match("[db1.example]:2222", "[db?.example]:*"));
/// ```
pub fn wildcard_match(text: &str, pattern: &str) -> bool {
    sisu_wire::pattern::match_pattern(text, pattern)
}

/// Match `name` against a comma-separated pattern list, case-insensitively:
/// `Some(true)` if a positive pattern matches and no negated one does, `Some(false)`
/// if a negated one matches (the entry refuses this name), `None` if nothing matches.
///
/// ```
/// use sisu_knownhosts::pattern::match_list;
/// assert_eq!(match_list("web1.example.com", "*.example.com,!db*"), Some(true));
/// assert_eq!(match_list("db1.example.com", "*.example.com,!db*"), Some(false));
/// assert_eq!(match_list("other.org", "*.example.com"), None);
/// ```
pub fn match_list(name: &str, list: &str) -> Option<bool> {
    use sisu_wire::pattern::{match_pattern_list, ListMatch};
    match match_pattern_list(name, list, true) {
        ListMatch::Yes => Some(true),
        ListMatch::Negated => Some(false),
        ListMatch::No => None,
    }
}
