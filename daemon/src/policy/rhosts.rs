//! The `hosts.equiv` / `shosts.equiv` / `.shosts` / `.rhosts` format, as `hostbased`
//! reads it (OpenSSH's `auth-rhosts.c`, after rlogind): one `host [user]` per line,
//! `#` comments; a name may be prefixed `+` (allow) or `-` (deny); a host line
//! without a user allows the server user of the same name; a lone `+` (any host, any
//! user) is ignored, as OpenSSH ignores it.
//!
//! Netgroups (`@group`) are not looked up: a `@` entry never allows, and a negative one
//! (`-@group`) denies, so that a file that relies on one to keep someone out keeps
//! them out (fail closed).
//!
//! ```
//! use sisu_daemon::policy::rhosts::{check, Decision};
//! let text = "client.example.com bob\n-10.0.0.9\n";
//! assert_eq!(check(text, "client.example.com", "192.0.2.1", "bob", "alice"), Decision::Allow);
//! assert_eq!(check(text, "client.example.com", "192.0.2.1", "eve", "alice"), Decision::NoMatch);
//! assert_eq!(check(text, "x", "10.0.0.9", "alice", "alice"), Decision::Deny);
//! ```

/// Most lines of one file read.
pub const MAX_LINES: usize = 10_000;

/// What a file says about a client host and user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// A line allows them.
    Allow,
    /// A negative line matches them (or a netgroup entry that cannot be looked up).
    Deny,
    /// No line is about them.
    NoMatch,
}

/// The first line of `text` that matches `hostname` (case-insensitively) or `ipaddr`,
/// and `client_user` (for a host-only line: `server_user`), decides.
pub fn check(
    text: &str,
    hostname: &str,
    ipaddr: &str,
    client_user: &str,
    server_user: &str,
) -> Decision {
    for line in text.lines().take(MAX_LINES) {
        let line = line.trim_start();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut words = line.split_whitespace();
        let Some(host) = words.next() else { continue };
        let user = words.next();
        if words.next().is_some() {
            // OpenSSH: "Found garbage in …": the line is skipped.
            continue;
        }
        let user_field = user.unwrap_or(server_user);
        let (host, host_negated) = strip_sign(host);
        let (user_field, user_negated) = strip_sign(user_field);
        let negated = host_negated || user_negated;
        if host.is_empty() || user_field.is_empty() {
            // A bare `+` or `-`: OpenSSH ignores wildcard names.
            continue;
        }
        let host_matches = if let Some(_group) = host.strip_prefix('@') {
            // A netgroup that is not looked up: only a negative one counts.
            negated
        } else {
            host.eq_ignore_ascii_case(hostname) || host == ipaddr
        };
        if !host_matches {
            continue;
        }
        let user_matches = if user_field.starts_with('@') {
            negated
        } else {
            user_field == client_user
        };
        if !user_matches {
            continue;
        }
        return if negated {
            Decision::Deny
        } else {
            Decision::Allow
        };
    }
    Decision::NoMatch
}

/// A name without its `+`/`-` prefix, and whether it was `-`.
fn strip_sign(name: &str) -> (&str, bool) {
    if let Some(n) = name.strip_prefix('-') {
        (n, true)
    } else {
        (name.strip_prefix('+').unwrap_or(name), false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn lines_decide_in_order() {
        let text = "# trusted hosts\n\
                    \n\
                    -client.example.com eve\n\
                    CLIENT.example.com\n\
                    10.1.2.3 +carol\n\
                    + +\n\
                    badline with three words\n";
        let c = |h, ip, cu, su| check(text, h, ip, cu, su);
        assert_eq!(
            c("client.example.com", "1.1.1.1", "eve", "eve"),
            Decision::Deny
        );
        // Host-only line: the client user must be the server user.
        assert_eq!(
            c("client.example.com", "1.1.1.1", "bob", "bob"),
            Decision::Allow
        );
        assert_eq!(
            c("client.example.com", "1.1.1.1", "bob", "root"),
            Decision::NoMatch
        );
        assert_eq!(c("other", "10.1.2.3", "carol", "x"), Decision::Allow);
        // `+ +` is ignored.
        assert_eq!(c("any", "9.9.9.9", "any", "any"), Decision::NoMatch);
    }

    #[test]
    fn netgroups_only_deny() {
        assert_eq!(
            check("@trusted\n", "h", "1.1.1.1", "u", "u"),
            Decision::NoMatch
        );
        assert_eq!(
            check("-@banned\nh\n", "h", "1.1.1.1", "u", "u"),
            Decision::Deny
        );
        assert_eq!(
            check("h -@banned\nh\n", "h", "1.1.1.1", "u", "u"),
            Decision::Deny
        );
    }

    proptest! {
        #[test]
        fn never_panics(text in "\\PC{0,200}", h in "[a-z.]{0,10}", u in "[a-z+@-]{0,6}") {
            let _ = check(&text, &h, "127.0.0.1", &u, &u);
        }
    }
}
