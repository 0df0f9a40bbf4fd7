//! The three lists that say what a regress run must show, in `xtask/regress/`:
//!
//! - `must-pass.txt`: tests that must PASS against sisu-sshd; any other result fails
//!   the run (and `cargo xtask test`). One test name a line.
//! - `known-failures.txt`: tests known to fail, each with the issue that will fix it and
//!   the reason: `NAME #ISSUE REASON...`. One that starts passing is reported loudly and
//!   fails the run, so that it moves to must-pass.txt and this list only shrinks.
//! - `no-server.txt`: tests that never talk to the server (they run only ssh's client
//!   side, ssh-keygen, ssh-agent or sftp-server alone): `NAME WHAT-IT-RUNS...`. Their
//!   results never count as passes.
//!
//! In all three, blank lines and lines starting with `#` are comments, and a name
//! appears in at most one list.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

/// Which list a test is on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Listed {
    /// must-pass.txt
    MustPass,
    /// known-failures.txt, with the issue number and the reason.
    Known { issue: u32, reason: String },
    /// no-server.txt, with what the test runs instead of a server.
    NoServer { why: String },
}

/// The three lists, by test name.
#[derive(Debug, Default)]
pub struct Lists {
    /// Every listed test and its list.
    pub by_name: BTreeMap<String, Listed>,
}

/// The list file names, in the order `--list` knows them.
pub const FILES: [&str; 3] = ["must-pass", "known-failures", "no-server"];

impl Lists {
    /// Read the lists from `dir` (`xtask/regress`).
    pub fn load(dir: &Path) -> Result<Self, String> {
        let mut lists = Lists::default();
        for file in FILES {
            let path = dir.join(format!("{file}.txt"));
            let text = fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            lists.add(file, &text, &path.display().to_string())?;
        }
        Ok(lists)
    }

    /// Parse the text of one list (`file` is one of [`FILES`]) into `self`.
    pub fn add(&mut self, file: &str, text: &str, shown: &str) -> Result<(), String> {
        for (i, line) in text.lines().enumerate() {
            let at = format!("{shown}:{}", i + 1);
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (name, rest) = match line.split_once(char::is_whitespace) {
                Some((n, r)) => (n, r.trim()),
                None => (line, ""),
            };
            if !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            {
                return Err(format!("{at}: `{name}` is not a test name"));
            }
            let entry = match file {
                "must-pass" => {
                    if !rest.is_empty() && !rest.starts_with('#') {
                        return Err(format!("{at}: one test name a line (comments after #)"));
                    }
                    Listed::MustPass
                }
                "known-failures" => {
                    let (issue, reason) =
                        rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
                    let issue = issue
                        .strip_prefix('#')
                        .and_then(|n| n.parse().ok())
                        .ok_or_else(|| format!("{at}: want `{name} #ISSUE REASON`"))?;
                    let reason = reason.trim();
                    if reason.is_empty() {
                        return Err(format!("{at}: `{name}` needs a reason"));
                    }
                    Listed::Known {
                        issue,
                        reason: reason.to_string(),
                    }
                }
                "no-server" => {
                    if rest.is_empty() {
                        return Err(format!("{at}: say what `{name}` runs instead of a server"));
                    }
                    Listed::NoServer {
                        why: rest.to_string(),
                    }
                }
                other => return Err(format!("no list named {other}")),
            };
            if let Some(before) = self.by_name.insert(name.to_string(), entry) {
                return Err(format!(
                    "{at}: `{name}` is already listed ({})",
                    before.file()
                ));
            }
        }
        Ok(())
    }

    /// The tests on list `file`, in name order.
    pub fn names_in(&self, file: &str) -> Vec<String> {
        self.by_name
            .iter()
            .filter(|(_, l)| l.file() == file)
            .map(|(n, _)| n.clone())
            .collect()
    }

    /// Which list `name` is on, if any.
    pub fn get(&self, name: &str) -> Option<&Listed> {
        self.by_name.get(name)
    }
}

impl Listed {
    /// The list's file name, without `.txt`.
    pub fn file(&self) -> &'static str {
        match self {
            Listed::MustPass => "must-pass",
            Listed::Known { .. } => "known-failures",
            Listed::NoServer { .. } => "no-server",
        }
    }

    /// A short label for the result table.
    pub fn label(&self) -> String {
        match self {
            Listed::MustPass => "must-pass".into(),
            Listed::Known { issue, .. } => format!("known #{issue}"),
            Listed::NoServer { .. } => "no-server".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_each_list() {
        let mut l = Lists::default();
        l.add("must-pass", "# c\n\nconnect\nbanner  # why\n", "m")
            .unwrap();
        l.add("known-failures", "rekey #9 RekeyLimit starts a kex\n", "k")
            .unwrap();
        l.add("no-server", "krl ssh-keygen -k only\n", "n").unwrap();
        assert_eq!(l.get("connect"), Some(&Listed::MustPass));
        assert_eq!(l.get("banner"), Some(&Listed::MustPass));
        assert_eq!(
            l.get("rekey"),
            Some(&Listed::Known {
                issue: 9,
                reason: "RekeyLimit starts a kex".into()
            })
        );
        assert_eq!(l.get("krl").map(Listed::file), Some("no-server"));
        assert_eq!(l.names_in("must-pass"), ["banner", "connect"]);
    }

    #[test]
    fn refuses_bad_lines() {
        let mut l = Lists::default();
        assert!(l.add("known-failures", "rekey no issue\n", "k").is_err());
        assert!(l.add("known-failures", "rekey #9\n", "k").is_err());
        assert!(l.add("no-server", "krl\n", "n").is_err());
        assert!(l.add("must-pass", "a b\n", "m").is_err());
        assert!(l.add("must-pass", "a/b\n", "m").is_err());
        l.add("must-pass", "connect\n", "m").unwrap();
        assert!(l.add("no-server", "connect runs ssh\n", "n").is_err());
    }
}
