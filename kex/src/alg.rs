//! Names of key-exchange methods, and negotiation (RFC 4253 §7.1).

use crate::derive::HashAlg;

/// Key-exchange methods.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KexAlg {
    /// `mlkem768x25519-sha256` (draft-kampanakis-curdle-ssh-pq-ke): ML-KEM-768 and X25519.
    MlKem768X25519Sha256,
    /// `sntrup761x25519-sha512` (draft-josefsson-ntruprime-ssh): Streamlined NTRU Prime
    /// 761 and X25519.
    Sntrup761X25519Sha512,
    /// `sntrup761x25519-sha512@openssh.com`, the pre-RFC name of the same method.
    Sntrup761X25519Sha512OpenSsh,
    /// `curve25519-sha256` (RFC 8731).
    Curve25519Sha256,
    /// `curve25519-sha256@libssh.org`, the pre-RFC name of the same method.
    Curve25519Sha256Libssh,
    /// `diffie-hellman-group-exchange-sha256` (RFC 4419).
    DhGexSha256,
    /// `diffie-hellman-group16-sha512` (RFC 8268): the 4096-bit MODP group.
    DhGroup16Sha512,
    /// `diffie-hellman-group18-sha512` (RFC 8268): the 8192-bit MODP group.
    DhGroup18Sha512,
    /// `diffie-hellman-group14-sha256` (RFC 8268): the 2048-bit MODP group.
    DhGroup14Sha256,
    /// `ecdh-sha2-nistp256` (RFC 5656). Legacy: off unless configured.
    EcdhNistP256,
    /// `ecdh-sha2-nistp384` (RFC 5656). Legacy: off unless configured.
    EcdhNistP384,
    /// `ecdh-sha2-nistp521` (RFC 5656). Legacy: off unless configured.
    EcdhNistP521,
    /// `diffie-hellman-group14-sha1` (RFC 4253). Legacy: off unless configured.
    DhGroup14Sha1,
    /// `diffie-hellman-group1-sha1` (RFC 4253), 1024 bits. Legacy: off unless configured.
    DhGroup1Sha1,
    /// `diffie-hellman-group-exchange-sha1` (RFC 4419). Legacy: off unless configured.
    DhGexSha1,
}

/// The family a method belongs to: how its messages look.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KexFamily {
    /// Post-quantum KEM combined with X25519 (`SSH_MSG_KEX_HYBRID_INIT`/`REPLY`).
    Hybrid,
    /// Elliptic-curve Diffie-Hellman (`SSH_MSG_KEX_ECDH_INIT`/`REPLY`).
    Ecdh,
    /// Diffie-Hellman over a fixed MODP group (`SSH_MSG_KEXDH_INIT`/`REPLY`).
    FixedDh,
    /// Diffie-Hellman group exchange (RFC 4419).
    GroupExchange,
}

/// The methods that are always compiled in, in the default preference order.
const MODERN: &[KexAlg] = &[
    KexAlg::MlKem768X25519Sha256,
    KexAlg::Sntrup761X25519Sha512,
    KexAlg::Sntrup761X25519Sha512OpenSsh,
    KexAlg::Curve25519Sha256,
    KexAlg::Curve25519Sha256Libssh,
    KexAlg::DhGexSha256,
    KexAlg::DhGroup16Sha512,
    KexAlg::DhGroup18Sha512,
    KexAlg::DhGroup14Sha256,
];

#[cfg(feature = "legacy")]
const EVERY: &[KexAlg] = &[
    KexAlg::MlKem768X25519Sha256,
    KexAlg::Sntrup761X25519Sha512,
    KexAlg::Sntrup761X25519Sha512OpenSsh,
    KexAlg::Curve25519Sha256,
    KexAlg::Curve25519Sha256Libssh,
    KexAlg::DhGexSha256,
    KexAlg::DhGroup16Sha512,
    KexAlg::DhGroup18Sha512,
    KexAlg::DhGroup14Sha256,
    KexAlg::EcdhNistP256,
    KexAlg::EcdhNistP384,
    KexAlg::EcdhNistP521,
    KexAlg::DhGroup14Sha1,
    KexAlg::DhGroup1Sha1,
    KexAlg::DhGexSha1,
];

#[cfg(not(feature = "legacy"))]
const EVERY: &[KexAlg] = MODERN;

impl KexAlg {
    /// Every method this crate implements (the legacy ones too when the `legacy` feature
    /// is on, which it is by default), in preference order.
    pub const ALL: &'static [KexAlg] = EVERY;
    /// The default server list: post-quantum hybrids first, as OpenSSH 9.9 and later.
    pub const DEFAULT: &'static [KexAlg] = MODERN;

    /// The wire name.
    pub fn name(self) -> &'static str {
        match self {
            KexAlg::MlKem768X25519Sha256 => "mlkem768x25519-sha256",
            KexAlg::Sntrup761X25519Sha512 => "sntrup761x25519-sha512",
            KexAlg::Sntrup761X25519Sha512OpenSsh => "sntrup761x25519-sha512@openssh.com",
            KexAlg::Curve25519Sha256 => "curve25519-sha256",
            KexAlg::Curve25519Sha256Libssh => "curve25519-sha256@libssh.org",
            KexAlg::DhGexSha256 => "diffie-hellman-group-exchange-sha256",
            KexAlg::DhGroup16Sha512 => "diffie-hellman-group16-sha512",
            KexAlg::DhGroup18Sha512 => "diffie-hellman-group18-sha512",
            KexAlg::DhGroup14Sha256 => "diffie-hellman-group14-sha256",
            KexAlg::EcdhNistP256 => "ecdh-sha2-nistp256",
            KexAlg::EcdhNistP384 => "ecdh-sha2-nistp384",
            KexAlg::EcdhNistP521 => "ecdh-sha2-nistp521",
            KexAlg::DhGroup14Sha1 => "diffie-hellman-group14-sha1",
            KexAlg::DhGroup1Sha1 => "diffie-hellman-group1-sha1",
            KexAlg::DhGexSha1 => "diffie-hellman-group-exchange-sha1",
        }
    }

    /// Looks a wire name up among the implemented methods.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|a| a.name() == name)
    }

    /// The hash of the exchange hash and the key derivation.
    pub fn hash(self) -> HashAlg {
        match self {
            KexAlg::MlKem768X25519Sha256
            | KexAlg::Curve25519Sha256
            | KexAlg::Curve25519Sha256Libssh
            | KexAlg::DhGexSha256
            | KexAlg::DhGroup14Sha256
            | KexAlg::EcdhNistP256 => HashAlg::Sha256,
            KexAlg::EcdhNistP384 => HashAlg::Sha384,
            KexAlg::Sntrup761X25519Sha512
            | KexAlg::Sntrup761X25519Sha512OpenSsh
            | KexAlg::DhGroup16Sha512
            | KexAlg::DhGroup18Sha512
            | KexAlg::EcdhNistP521 => HashAlg::Sha512,
            KexAlg::DhGroup14Sha1 | KexAlg::DhGroup1Sha1 | KexAlg::DhGexSha1 => HashAlg::Sha1,
        }
    }

    /// The method's family.
    pub fn family(self) -> KexFamily {
        match self {
            KexAlg::MlKem768X25519Sha256
            | KexAlg::Sntrup761X25519Sha512
            | KexAlg::Sntrup761X25519Sha512OpenSsh => KexFamily::Hybrid,
            KexAlg::Curve25519Sha256
            | KexAlg::Curve25519Sha256Libssh
            | KexAlg::EcdhNistP256
            | KexAlg::EcdhNistP384
            | KexAlg::EcdhNistP521 => KexFamily::Ecdh,
            KexAlg::DhGroup16Sha512
            | KexAlg::DhGroup18Sha512
            | KexAlg::DhGroup14Sha256
            | KexAlg::DhGroup14Sha1
            | KexAlg::DhGroup1Sha1 => KexFamily::FixedDh,
            KexAlg::DhGexSha256 | KexAlg::DhGexSha1 => KexFamily::GroupExchange,
        }
    }

    /// Whether the method is kept only for old peers (not offered unless configured).
    pub fn is_legacy(self) -> bool {
        !MODERN.contains(&self)
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

    #[test]
    fn default_order_is_post_quantum_first_and_no_legacy() {
        assert_eq!(KexAlg::DEFAULT[0], KexAlg::MlKem768X25519Sha256);
        assert!(KexAlg::DEFAULT.iter().all(|a| !a.is_legacy()));
        assert!(KexAlg::DEFAULT.iter().all(|a| a.hash() != HashAlg::Sha1));
        for a in KexAlg::DEFAULT {
            assert!(KexAlg::ALL.contains(a));
        }
    }
}
