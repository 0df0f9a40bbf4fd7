//! Names of key-exchange methods, and negotiation (RFC 4253 §7.1).

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
    }
}
