//! Algorithm lists (`Ciphers`, `MACs`, `KexAlgorithms`, `HostKeyAlgorithms`,
//! `PubkeyAcceptedAlgorithms`) and their `+` / `-` / `^` modifiers.
//!
//! This module does not know which algorithms exist: the caller passes the supported
//! and default names of each family in an [`AlgorithmSets`].

use super::matching::match_pattern;

/// The names of one algorithm family.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Algs {
    /// Every name Sisu can use, legacy ones included, in preference order.
    pub supported: Vec<String>,
    /// The names enabled when the configuration says nothing.
    pub default: Vec<String>,
}

impl Algs {
    /// Builds a family from string slices.
    pub fn new(supported: &[&str], default: &[&str]) -> Algs {
        Algs {
            supported: supported.iter().map(|s| s.to_string()).collect(),
            default: default.iter().map(|s| s.to_string()).collect(),
        }
    }
}

/// The algorithm families the configuration can name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AlgorithmSets {
    /// `Ciphers`
    pub ciphers: Algs,
    /// `MACs`
    pub macs: Algs,
    /// `KexAlgorithms`
    pub kex: Algs,
    /// `HostKeyAlgorithms`
    pub host_key: Algs,
    /// `PubkeyAcceptedAlgorithms`
    pub pubkey: Algs,
    /// `CASignatureAlgorithms`
    pub ca_signature: Algs,
}

/// Why an algorithm list was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AlgError {
    /// A name (not a pattern) that is not supported.
    Unsupported(String),
    /// A pattern that matches no supported name.
    NoMatch(String),
    /// An empty element (`a,,b`).
    EmptyName,
    /// The result has no algorithm left.
    EmptyResult,
}

impl std::fmt::Display for AlgError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AlgError::Unsupported(n) => write!(f, "unsupported algorithm '{n}'"),
            AlgError::NoMatch(p) => write!(f, "'{p}' matches no supported algorithm"),
            AlgError::EmptyName => f.write_str("empty algorithm name"),
            AlgError::EmptyResult => f.write_str("no algorithm left"),
        }
    }
}

fn is_pattern(s: &str) -> bool {
    s.contains(['*', '?'])
}

fn push_unique(out: &mut Vec<String>, name: &str) {
    if !out.iter().any(|n| n == name) {
        out.push(name.to_string());
    }
}

/// Expands a plain comma list against the supported names.
fn expand(list: &str, algs: &Algs, out: &mut Vec<String>) -> Result<(), AlgError> {
    for item in list.split(',') {
        if item.is_empty() {
            return Err(AlgError::EmptyName);
        }
        if is_pattern(item) {
            let mut any = false;
            for name in algs.supported.iter().filter(|n| match_pattern(n, item)) {
                push_unique(out, name);
                any = true;
            }
            if !any {
                return Err(AlgError::NoMatch(item.to_string()));
            }
        } else if algs.supported.iter().any(|n| n == item) {
            push_unique(out, item);
        } else {
            return Err(AlgError::Unsupported(item.to_string()));
        }
    }
    Ok(())
}

/// Resolves a list as `sshd_config` writes it:
///
/// - `a,b,c`: exactly these (patterns with `*` and `?` expand to the supported names
///   they match, in supported order);
/// - `+a,b`: the defaults, then these;
/// - `^a,b`: these, then the defaults;
/// - `-a,b*`: the defaults without the names these match (an unknown name is ignored,
///   as OpenSSH does).
///
/// Every resulting name is supported; duplicates are dropped, keeping the first.
pub fn resolve(spec: &str, algs: &Algs) -> Result<Vec<String>, AlgError> {
    let mut out = Vec::new();
    if let Some(rest) = spec.strip_prefix('+') {
        for d in &algs.default {
            push_unique(&mut out, d);
        }
        expand(rest, algs, &mut out)?;
    } else if let Some(rest) = spec.strip_prefix('^') {
        expand(rest, algs, &mut out)?;
        for d in &algs.default {
            push_unique(&mut out, d);
        }
    } else if let Some(rest) = spec.strip_prefix('-') {
        let pats: Vec<&str> = rest.split(',').collect();
        if pats.iter().any(|p| p.is_empty()) {
            return Err(AlgError::EmptyName);
        }
        for d in &algs.default {
            if !pats.iter().any(|p| match_pattern(d, p)) {
                push_unique(&mut out, d);
            }
        }
    } else {
        expand(spec, algs, &mut out)?;
    }
    if out.is_empty() {
        return Err(AlgError::EmptyResult);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ciphers() -> Algs {
        Algs::new(
            &[
                "chacha20-poly1305@openssh.com",
                "aes128-ctr",
                "aes256-ctr",
                "aes128-gcm@openssh.com",
                "aes256-gcm@openssh.com",
                "3des-cbc",
                "aes128-cbc",
            ],
            &["chacha20-poly1305@openssh.com", "aes128-ctr", "aes256-ctr"],
        )
    }

    fn r(spec: &str) -> Result<Vec<String>, AlgError> {
        resolve(spec, &ciphers())
    }

    #[test]
    fn plain_list_is_taken_as_given() {
        assert_eq!(
            r("aes256-ctr,aes128-ctr").unwrap(),
            ["aes256-ctr", "aes128-ctr"]
        );
        assert_eq!(r("aes256-ctr,aes256-ctr").unwrap(), ["aes256-ctr"]);
    }

    #[test]
    fn modifiers() {
        assert_eq!(
            r("+3des-cbc").unwrap(),
            [
                "chacha20-poly1305@openssh.com",
                "aes128-ctr",
                "aes256-ctr",
                "3des-cbc"
            ]
        );
        assert_eq!(
            r("^3des-cbc,aes256-ctr").unwrap(),
            [
                "3des-cbc",
                "aes256-ctr",
                "chacha20-poly1305@openssh.com",
                "aes128-ctr"
            ]
        );
        assert_eq!(r("-aes*").unwrap(), ["chacha20-poly1305@openssh.com"]);
        assert_eq!(
            r("-chacha20-poly1305@openssh.com,nonexistent").unwrap(),
            ["aes128-ctr", "aes256-ctr"]
        );
    }

    #[test]
    fn wildcards_expand_against_supported_names() {
        assert_eq!(
            r("aes*-gcm@openssh.com").unwrap(),
            ["aes128-gcm@openssh.com", "aes256-gcm@openssh.com"]
        );
        assert_eq!(r("aes???-cbc").unwrap(), ["aes128-cbc"]);
        assert_eq!(r("+*-cbc").unwrap().last().unwrap(), "aes128-cbc");
    }

    #[test]
    fn errors() {
        assert_eq!(r("rot13"), Err(AlgError::Unsupported("rot13".into())));
        assert_eq!(r("+rot13"), Err(AlgError::Unsupported("rot13".into())));
        assert_eq!(r("blowfish*"), Err(AlgError::NoMatch("blowfish*".into())));
        assert_eq!(r("aes128-ctr,,aes256-ctr"), Err(AlgError::EmptyName));
        assert_eq!(r("-*"), Err(AlgError::EmptyResult));
        assert_eq!(r(""), Err(AlgError::EmptyName));
        // Names are case-sensitive.
        assert_eq!(
            r("AES128-CTR"),
            Err(AlgError::Unsupported("AES128-CTR".into()))
        );
    }
}
