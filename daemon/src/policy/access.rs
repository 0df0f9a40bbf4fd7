//! Who may log in at all, before any key is looked at: OpenSSH's `allowed_user` rules.
//!
//! In this order, the first that refuses wins: an expired account (`sp_expire`), a
//! locked account (`!` password, when PAM is off), a login shell that does not exist or is
//! not executable, `DenyUsers`, `AllowUsers`, a user in no group, `DenyGroups`,
//! `AllowGroups`. A `DenyUsers`/`AllowUsers` pattern is `user` or `user@host`, where
//! `host` is a pattern-list or address-list matched against the client's address (and
//! its host name, which is the address while `UseDNS` is off). Groups are the user's
//! primary and supplementary groups, by name; each `AllowGroups`/`DenyGroups` word is a
//! pattern. A refused user is treated as an invalid one: every request fails exactly as
//! it would for a wrong key, and the reason is logged once, in OpenSSH's words.

use crate::config::match_pattern;
use crate::os::{self, UserInfo};
use sisu_wire::pattern::match_host_and_ip;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

/// The four access lists (after `Match` blocks).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AccessLists {
    /// `AllowUsers` patterns.
    pub allow_users: Vec<String>,
    /// `DenyUsers` patterns.
    pub deny_users: Vec<String>,
    /// `AllowGroups` patterns.
    pub allow_groups: Vec<String>,
    /// `DenyGroups` patterns.
    pub deny_groups: Vec<String>,
}

/// How much of a user name a log line carries (OpenSSH's `%.100s`).
const LOG_NAME_LEN: usize = 100;

fn short(s: &str) -> String {
    s.chars().take(LOG_NAME_LEN).collect()
}

/// One `DenyUsers`/`AllowUsers` pattern against a user and the client (OpenSSH's
/// `match_user`): `user` alone, or `user@host` with the host part matched as
/// `match_host_and_ip` does.
pub fn match_user(user: &str, host: &str, ip: &str, pattern: &str) -> bool {
    let Some((user_pat, host_pat)) = pattern.split_once('@') else {
        return match_pattern(user, pattern);
    };
    match_pattern(user, user_pat) && match_host_and_ip(host, ip, host_pat) == Some(true)
}

/// The list rules, on what is already known: the user's name, the names of all its
/// groups, and the client's host name and address. `Err` is the log line.
pub fn check_lists(
    lists: &AccessLists,
    user: &str,
    groups: &[String],
    host: &str,
    ip: &str,
) -> Result<(), String> {
    let refuse = |why: &str| {
        Err(format!(
            "User {} from {} not allowed because {why}",
            short(user),
            short(host)
        ))
    };
    if lists
        .deny_users
        .iter()
        .any(|p| match_user(user, host, ip, p))
    {
        return refuse("listed in DenyUsers");
    }
    if !lists.allow_users.is_empty()
        && !lists
            .allow_users
            .iter()
            .any(|p| match_user(user, host, ip, p))
    {
        return refuse("not listed in AllowUsers");
    }
    if lists.deny_groups.is_empty() && lists.allow_groups.is_empty() {
        return Ok(());
    }
    if groups.is_empty() {
        return refuse("not in any group");
    }
    let any_in = |patterns: &[String]| {
        groups
            .iter()
            .any(|g| patterns.iter().any(|p| match_pattern(g, p)))
    };
    if any_in(&lists.deny_groups) {
        return refuse("a group is listed in DenyGroups");
    }
    if !lists.allow_groups.is_empty() && !any_in(&lists.allow_groups) {
        return refuse("none of user's groups are listed in AllowGroups");
    }
    Ok(())
}

/// The shell rule: the login shell (`/bin/sh` when empty) must be a regular file with
/// an execute bit. `Err` is the log line.
pub fn check_shell(user: &UserInfo) -> Result<(), String> {
    let shell = if user.shell.as_os_str().is_empty() {
        Path::new(os::process::DEFAULT_SHELL)
    } else {
        user.shell.as_path()
    };
    let name = short(&user.name);
    let sh = shell.display();
    match std::fs::metadata(shell) {
        Err(_) => Err(format!(
            "User {name} not allowed because shell {sh} does not exist"
        )),
        Ok(m) if !m.is_file() || m.permissions().mode() & 0o111 == 0 => Err(format!(
            "User {name} not allowed because shell {sh} is not executable"
        )),
        Ok(_) => Ok(()),
    }
}

/// The account rules (expired, locked) from the shadow database, at `now_unix`. `Err`
/// is the log line; an expired account also logs "Account NAME has expired".
pub fn check_account(user: &UserInfo, now_unix: i64) -> Result<(), String> {
    let status = match os::account_status(&user.name) {
        Ok(s) => s,
        Err(e) => {
            return Err(format!(
                "User {} not allowed because the shadow database cannot be read: {e}",
                short(&user.name)
            ))
        }
    };
    // As OpenSSH: an expired account is reported, then refused as a locked one.
    let expired = status.expired_at(now_unix);
    if expired {
        info!("Account {} has expired [preauth]", short(&user.name));
    }
    if expired || status.locked {
        return Err(format!(
            "User {} not allowed because account is locked",
            short(&user.name)
        ));
    }
    Ok(())
}

/// The names of the user's groups (primary and supplementary); groups without a name
/// are left out.
pub fn group_names(user: &UserInfo) -> Vec<String> {
    user.groups
        .iter()
        .filter_map(|g| {
            nix::unistd::Group::from_gid(nix::unistd::Gid::from_raw(*g))
                .ok()
                .flatten()
                .map(|g| g.name)
        })
        .collect()
}

/// Every rule, in OpenSSH's order, for a user connecting from `ip` (its text; `UNKNOWN`
/// when the connection is no socket). `Err` is the log
/// line that says why the user may not log in.
pub fn allowed(user: &UserInfo, lists: &AccessLists, ip: &str) -> Result<(), String> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    check_account(user, now)?;
    check_shell(user)?;
    // The host name is the address: Sisu does no reverse look-ups (UseDNS no).
    check_lists(lists, &user.name, &group_names(user), ip, ip)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lists(allow: &[&str], deny: &[&str], ag: &[&str], dg: &[&str]) -> AccessLists {
        let v = |x: &[&str]| x.iter().map(|s| s.to_string()).collect();
        AccessLists {
            allow_users: v(allow),
            deny_users: v(deny),
            allow_groups: v(ag),
            deny_groups: v(dg),
        }
    }

    fn check(l: &AccessLists, user: &str, groups: &[&str], ip: &str) -> Result<(), String> {
        let g: Vec<String> = groups.iter().map(|s| s.to_string()).collect();
        check_lists(l, user, &g, ip, ip)
    }

    #[test]
    fn user_patterns_with_hosts_and_cidr() {
        assert!(match_user("alice", "10.1.2.3", "10.1.2.3", "alice"));
        assert!(match_user("alice", "10.1.2.3", "10.1.2.3", "al*"));
        assert!(!match_user("bob", "10.1.2.3", "10.1.2.3", "al*"));
        assert!(match_user(
            "alice",
            "10.1.2.3",
            "10.1.2.3",
            "alice@10.0.0.0/8"
        ));
        assert!(!match_user(
            "alice",
            "192.0.2.1",
            "192.0.2.1",
            "alice@10.0.0.0/8"
        ));
        assert!(match_user("alice", "10.1.2.3", "10.1.2.3", "*@10.1.2.*"));
        assert!(!match_user(
            "alice",
            "10.1.2.3",
            "10.1.2.3",
            "alice@10.0.0.0/8,!10.1.0.0/16"
        ));
        // The first `@` splits, as in OpenSSH: the host part is `b@10.1.2.3`.
        assert!(!match_user("a@b", "10.1.2.3", "10.1.2.3", "a@b@10.1.2.3"));
        assert!(match_user("a", "b@10.1.2.3", "10.1.2.3", "a@b@10.1.2.3"));
        // A malformed address list matches nothing.
        assert!(!match_user(
            "alice",
            "10.1.2.3",
            "10.1.2.3",
            "alice@10.0.0.1/99"
        ));
    }

    #[test]
    fn openssh_order_and_log_lines() {
        let ip = "127.0.0.1";
        let l = lists(&["alice"], &["root"], &[], &[]);
        assert_eq!(
            check(&l, "root", &["root"], ip).unwrap_err(),
            "User root from 127.0.0.1 not allowed because listed in DenyUsers"
        );
        assert_eq!(
            check(&l, "bob", &["bob"], ip).unwrap_err(),
            "User bob from 127.0.0.1 not allowed because not listed in AllowUsers"
        );
        assert!(check(&l, "alice", &["alice"], ip).is_ok());
        // DenyUsers wins over AllowUsers.
        let l = lists(&["*"], &["alice"], &[], &[]);
        assert!(check(&l, "alice", &[], ip).is_err());
        let l = lists(&[], &[], &["staff", "wheel"], &["banned*"]);
        assert_eq!(
            check(&l, "carol", &["carol", "banned-x"], ip).unwrap_err(),
            "User carol from 127.0.0.1 not allowed because a group is listed in DenyGroups"
        );
        assert_eq!(
            check(&l, "carol", &["carol"], ip).unwrap_err(),
            "User carol from 127.0.0.1 not allowed because none of user's groups are listed in AllowGroups"
        );
        assert!(check(&l, "carol", &["carol", "wheel"], ip).is_ok());
        assert_eq!(
            check(&l, "dave", &[], ip).unwrap_err(),
            "User dave from 127.0.0.1 not allowed because not in any group"
        );
        // Without group rules a user in no group is fine.
        assert!(check(&lists(&[], &[], &[], &[]), "dave", &[], ip).is_ok());
    }

    #[test]
    fn long_names_are_cut_in_the_log_line() {
        let l = lists(&[], &["*"], &[], &[]);
        let name = "x".repeat(300);
        let line = check(&l, &name, &[], "::1").unwrap_err();
        assert!(line.starts_with(&format!("User {} from", "x".repeat(100))));
        assert!(!line.contains(&"x".repeat(101)));
    }

    #[test]
    fn shells_must_exist_and_be_executable() {
        let mut u = UserInfo {
            name: "u".into(),
            uid: 1,
            gid: 1,
            home: "/".into(),
            shell: "/bin/sh".into(),
            groups: vec![],
        };
        assert!(check_shell(&u).is_ok());
        u.shell = "".into();
        assert!(check_shell(&u).is_ok(), "empty means /bin/sh");
        u.shell = "/nonexistent/shell".into();
        assert_eq!(
            check_shell(&u).unwrap_err(),
            "User u not allowed because shell /nonexistent/shell does not exist"
        );
        u.shell = "/etc/passwd".into();
        assert_eq!(
            check_shell(&u).unwrap_err(),
            "User u not allowed because shell /etc/passwd is not executable"
        );
        u.shell = "/".into();
        assert!(check_shell(&u).unwrap_err().ends_with("is not executable"));
    }
}
