//! Names of host-key signature algorithms.

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for a in HostKeyAlg::ALL {
            assert_eq!(HostKeyAlg::from_name(a.name()), Some(*a));
        }
    }
}
