//! Names of key-exchange and host-key algorithms, and negotiation (RFC 4253 §7.1).

/// Key-exchange methods.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KexAlg {
    /// `curve25519-sha256` (RFC 8731).
    Curve25519Sha256,
    /// `curve25519-sha256@libssh.org`, the pre-RFC name of the same method.
    Curve25519Sha256Libssh,
}

impl KexAlg {
    /// Every method this crate implements, in preference order.
    pub const ALL: &'static [KexAlg] = &[KexAlg::Curve25519Sha256, KexAlg::Curve25519Sha256Libssh];
    /// The default server list.
    pub const DEFAULT: &'static [KexAlg] = Self::ALL;

    /// The wire name.
    pub fn name(self) -> &'static str {
        match self {
            KexAlg::Curve25519Sha256 => "curve25519-sha256",
            KexAlg::Curve25519Sha256Libssh => "curve25519-sha256@libssh.org",
        }
    }

    /// Looks a wire name up.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|a| a.name() == name)
    }
}

/// Host-key signature algorithms.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum HostKeyAlg {
    /// `ssh-ed25519` (RFC 8709).
    Ed25519,
    /// `ecdsa-sha2-nistp256` (RFC 5656).
    EcdsaP256,
    /// `ecdsa-sha2-nistp384`.
    EcdsaP384,
    /// `ecdsa-sha2-nistp521`.
    EcdsaP521,
    /// `rsa-sha2-512` (RFC 8332).
    RsaSha512,
    /// `rsa-sha2-256` (RFC 8332).
    RsaSha256,
}

impl HostKeyAlg {
    /// Every algorithm this crate implements, in OpenSSH 9's preference order.
    pub const ALL: &'static [HostKeyAlg] = &[
        HostKeyAlg::Ed25519,
        HostKeyAlg::EcdsaP256,
        HostKeyAlg::EcdsaP384,
        HostKeyAlg::EcdsaP521,
        HostKeyAlg::RsaSha512,
        HostKeyAlg::RsaSha256,
    ];
    /// The default server list.
    pub const DEFAULT: &'static [HostKeyAlg] = Self::ALL;

    /// The wire name.
    pub fn name(self) -> &'static str {
        match self {
            HostKeyAlg::Ed25519 => "ssh-ed25519",
            HostKeyAlg::EcdsaP256 => "ecdsa-sha2-nistp256",
            HostKeyAlg::EcdsaP384 => "ecdsa-sha2-nistp384",
            HostKeyAlg::EcdsaP521 => "ecdsa-sha2-nistp521",
            HostKeyAlg::RsaSha512 => "rsa-sha2-512",
            HostKeyAlg::RsaSha256 => "rsa-sha2-256",
        }
    }

    /// Looks a wire name up.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|a| a.name() == name)
    }

    /// The key type name (`ssh-rsa` for both RSA signature algorithms).
    pub fn key_type(self) -> &'static str {
        match self {
            HostKeyAlg::RsaSha256 | HostKeyAlg::RsaSha512 => "ssh-rsa",
            other => other.name(),
        }
    }
}

/// The negotiation rule of RFC 4253 §7.1: the first name on the client's list that the
/// server also has.
pub fn negotiate<'a>(
    client: impl IntoIterator<Item = &'a str>,
    server: &[&str],
) -> Option<&'a str> {
    client.into_iter().find(|c| server.contains(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_preference_wins() {
        assert_eq!(negotiate(["b", "a"], &["a", "b"]), Some("b"));
        assert_eq!(negotiate(["c"], &["a", "b"]), None);
    }

    #[test]
    fn names_round_trip() {
        for a in KexAlg::ALL {
            assert_eq!(KexAlg::from_name(a.name()), Some(*a));
        }
        for a in HostKeyAlg::ALL {
            assert_eq!(HostKeyAlg::from_name(a.name()), Some(*a));
        }
    }
}
