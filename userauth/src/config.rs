//! [`ServerConfig`] and the authentication [`Method`] names (RFC 4252 §5, RFC 4256).

use crate::publickey::PubkeyAlgorithm;

/// OpenSSH's default `MaxAuthTries`.
pub const DEFAULT_MAX_TRIES: u32 = 6;

/// The service a successful authentication starts (RFC 4252 §5, RFC 4254).
pub const SERVICE_CONNECTION: &str = "ssh-connection";

/// An authentication method that can be offered in SSH_MSG_USERAUTH_FAILURE.
///
/// `none` is not a method one can be offered (RFC 4252 §5.2), so it has no variant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    /// `publickey` (RFC 4252 §7).
    PublicKey,
    /// `password` (RFC 4252 §8); a password change request fails.
    Password,
    /// `keyboard-interactive` (RFC 4256): prompts the daemon chooses, and the user's responses.
    KeyboardInteractive,
    /// `hostbased` (RFC 4252 §9): the client host's key vouches for its user.
    Hostbased,
}

impl Method {
    /// The method name on the wire.
    pub fn name(self) -> &'static str {
        match self {
            Method::PublicKey => "publickey",
            Method::Password => "password",
            Method::KeyboardInteractive => "keyboard-interactive",
            Method::Hostbased => "hostbased",
        }
    }

    /// The method with this wire name, if it is one of ours.
    pub fn from_name(name: &str) -> Option<Method> {
        [
            Method::PublicKey,
            Method::Password,
            Method::KeyboardInteractive,
            Method::Hostbased,
        ]
        .into_iter()
        .find(|m| m.name() == name)
    }
}

/// OpenSSH's default `PubkeyAcceptedAlgorithms` as far as this crate verifies it: the
/// user-certificate algorithms, then the plain ones (security keys included; no
/// legacy `ssh-rsa`/`ssh-dss` ones, which must be asked for).
pub fn default_pubkey_algorithms() -> Vec<&'static str> {
    crate::publickey::CERTIFICATE_ALGORITHMS
        .iter()
        .copied()
        .filter(|n| !n.starts_with("ssh-rsa") && !n.starts_with("ssh-dss"))
        .chain(PubkeyAlgorithm::DEFAULT.iter().map(|a| a.name()))
        .collect()
}

/// What the server allows; the daemon builds it from `sshd_config`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerConfig {
    /// `MaxAuthTries`: counted failures after which the peer is disconnected. A first
    /// `none` request does not count (as in OpenSSH); every other failure does.
    pub max_tries: u32,
    /// The allowed methods, listed in this order in SSH_MSG_USERAUTH_FAILURE.
    pub methods: Vec<Method>,
    /// `PubkeyAcceptedAlgorithms`: signature algorithm names accepted, already expanded
    /// (no `+`, `-` or patterns). Names this crate cannot verify are never accepted.
    pub pubkey_algorithms: Vec<String>,
    /// Sent in SSH_MSG_USERAUTH_BANNER in answer to the first request, if set.
    pub banner: Option<String>,
    /// `HostbasedAcceptedAlgorithms`: the host-key algorithms `hostbased` accepts,
    /// expanded (plain keys only: certificate names are never accepted there).
    pub hostbased_algorithms: Vec<String>,
}

impl Default for ServerConfig {
    /// `MaxAuthTries 6`, `publickey` only, the default algorithms (the certificate
    /// ones first, as OpenSSH; no `ssh-rsa`, `ssh-dss`), no banner.
    fn default() -> Self {
        ServerConfig {
            max_tries: DEFAULT_MAX_TRIES,
            methods: vec![Method::PublicKey],
            pubkey_algorithms: default_pubkey_algorithms()
                .into_iter()
                .map(str::to_owned)
                .collect(),
            banner: None,
            hostbased_algorithms: PubkeyAlgorithm::DEFAULT
                .iter()
                .map(|a| a.name().to_owned())
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn method_names_round_trip() {
        for m in [
            Method::PublicKey,
            Method::Password,
            Method::KeyboardInteractive,
            Method::Hostbased,
        ] {
            assert_eq!(Method::from_name(m.name()), Some(m));
        }
        assert_eq!(Method::from_name("none"), None);
        assert_eq!(Method::from_name("hostbased"), Some(Method::Hostbased));
        assert_eq!(Method::from_name("gssapi-with-mic"), None);
    }

    #[test]
    fn default_is_openssh_like() {
        let c = ServerConfig::default();
        assert_eq!(c.max_tries, 6);
        assert_eq!(c.methods, vec![Method::PublicKey]);
        assert!(c.pubkey_algorithms.iter().any(|a| a == "ssh-ed25519"));
        assert!(c.pubkey_algorithms.iter().any(|a| a == "rsa-sha2-256"));
        assert!(!c.pubkey_algorithms.iter().any(|a| a == "ssh-rsa"));
    }
}
