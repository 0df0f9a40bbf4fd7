//! Names of host-key signature algorithms: plain keys (RFC 4253 §6.6, RFC 5656,
//! RFC 8332, RFC 8709) and OpenSSH host certificates (`PROTOCOL.certkeys`).
//!
//! ```
//! use sisu_kex::HostKeyAlg;
//! let a = HostKeyAlg::from_name("rsa-sha2-256-cert-v01@openssh.com").unwrap();
//! assert!(a.is_certificate());
//! assert_eq!(a.plain(), HostKeyAlg::RsaSha256);
//! assert_eq!(a.key_type(), "ssh-rsa-cert-v01@openssh.com");
//! assert_eq!(a.plain().certified(), a);
//! assert!(!HostKeyAlg::DEFAULT.contains(&HostKeyAlg::RsaSha1));
//! ```

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
    /// `ssh-rsa`: RSA with SHA-1 (RFC 4253). Legacy: offered only when configured.
    RsaSha1,
    /// `ssh-dss`: DSA with SHA-1 (RFC 4253). Legacy: offered only when configured.
    Dss,
    /// `ssh-ed25519-cert-v01@openssh.com`.
    Ed25519Cert,
    /// `ecdsa-sha2-nistp256-cert-v01@openssh.com`.
    EcdsaP256Cert,
    /// `ecdsa-sha2-nistp384-cert-v01@openssh.com`.
    EcdsaP384Cert,
    /// `ecdsa-sha2-nistp521-cert-v01@openssh.com`.
    EcdsaP521Cert,
    /// `rsa-sha2-512-cert-v01@openssh.com`.
    RsaSha512Cert,
    /// `rsa-sha2-256-cert-v01@openssh.com`.
    RsaSha256Cert,
    /// `ssh-rsa-cert-v01@openssh.com` (SHA-1). Legacy.
    RsaSha1Cert,
    /// `ssh-dss-cert-v01@openssh.com`. Legacy.
    DssCert,
}

impl HostKeyAlg {
    /// Every algorithm this crate implements, in OpenSSH 9's preference order
    /// (certificates first), the legacy SHA-1 ones last.
    pub const ALL: &'static [HostKeyAlg] = &[
        HostKeyAlg::Ed25519Cert,
        HostKeyAlg::EcdsaP256Cert,
        HostKeyAlg::EcdsaP384Cert,
        HostKeyAlg::EcdsaP521Cert,
        HostKeyAlg::RsaSha512Cert,
        HostKeyAlg::RsaSha256Cert,
        HostKeyAlg::Ed25519,
        HostKeyAlg::EcdsaP256,
        HostKeyAlg::EcdsaP384,
        HostKeyAlg::EcdsaP521,
        HostKeyAlg::RsaSha512,
        HostKeyAlg::RsaSha256,
        HostKeyAlg::RsaSha1Cert,
        HostKeyAlg::RsaSha1,
        HostKeyAlg::DssCert,
        HostKeyAlg::Dss,
    ];
    /// The default server list: everything but the SHA-1 algorithms (`ssh-rsa`,
    /// `ssh-dss` and their certificates), as OpenSSH 9 does.
    pub const DEFAULT: &'static [HostKeyAlg] = &[
        HostKeyAlg::Ed25519Cert,
        HostKeyAlg::EcdsaP256Cert,
        HostKeyAlg::EcdsaP384Cert,
        HostKeyAlg::EcdsaP521Cert,
        HostKeyAlg::RsaSha512Cert,
        HostKeyAlg::RsaSha256Cert,
        HostKeyAlg::Ed25519,
        HostKeyAlg::EcdsaP256,
        HostKeyAlg::EcdsaP384,
        HostKeyAlg::EcdsaP521,
        HostKeyAlg::RsaSha512,
        HostKeyAlg::RsaSha256,
    ];

    /// The wire name.
    pub fn name(self) -> &'static str {
        match self {
            HostKeyAlg::Ed25519 => "ssh-ed25519",
            HostKeyAlg::EcdsaP256 => "ecdsa-sha2-nistp256",
            HostKeyAlg::EcdsaP384 => "ecdsa-sha2-nistp384",
            HostKeyAlg::EcdsaP521 => "ecdsa-sha2-nistp521",
            HostKeyAlg::RsaSha512 => "rsa-sha2-512",
            HostKeyAlg::RsaSha256 => "rsa-sha2-256",
            HostKeyAlg::RsaSha1 => "ssh-rsa",
            HostKeyAlg::Dss => "ssh-dss",
            HostKeyAlg::Ed25519Cert => "ssh-ed25519-cert-v01@openssh.com",
            HostKeyAlg::EcdsaP256Cert => "ecdsa-sha2-nistp256-cert-v01@openssh.com",
            HostKeyAlg::EcdsaP384Cert => "ecdsa-sha2-nistp384-cert-v01@openssh.com",
            HostKeyAlg::EcdsaP521Cert => "ecdsa-sha2-nistp521-cert-v01@openssh.com",
            HostKeyAlg::RsaSha512Cert => "rsa-sha2-512-cert-v01@openssh.com",
            HostKeyAlg::RsaSha256Cert => "rsa-sha2-256-cert-v01@openssh.com",
            HostKeyAlg::RsaSha1Cert => "ssh-rsa-cert-v01@openssh.com",
            HostKeyAlg::DssCert => "ssh-dss-cert-v01@openssh.com",
        }
    }

    /// Looks a wire name up.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|a| a.name() == name)
    }

    /// Whether the server's `K_S` is an OpenSSH certificate.
    pub fn is_certificate(self) -> bool {
        self != self.plain()
    }

    /// Whether this is a SHA-1 algorithm kept for old clients (not in [`Self::DEFAULT`]).
    pub fn is_legacy(self) -> bool {
        matches!(self.plain(), HostKeyAlg::RsaSha1 | HostKeyAlg::Dss)
    }

    /// The plain algorithm: for a certificate algorithm, the one that makes its
    /// signatures (`rsa-sha2-256` for `rsa-sha2-256-cert-v01@openssh.com`); else itself.
    pub fn plain(self) -> HostKeyAlg {
        match self {
            HostKeyAlg::Ed25519Cert => HostKeyAlg::Ed25519,
            HostKeyAlg::EcdsaP256Cert => HostKeyAlg::EcdsaP256,
            HostKeyAlg::EcdsaP384Cert => HostKeyAlg::EcdsaP384,
            HostKeyAlg::EcdsaP521Cert => HostKeyAlg::EcdsaP521,
            HostKeyAlg::RsaSha512Cert => HostKeyAlg::RsaSha512,
            HostKeyAlg::RsaSha256Cert => HostKeyAlg::RsaSha256,
            HostKeyAlg::RsaSha1Cert => HostKeyAlg::RsaSha1,
            HostKeyAlg::DssCert => HostKeyAlg::Dss,
            plain => plain,
        }
    }

    /// The certificate algorithm for a plain one (itself for a certificate one).
    pub fn certified(self) -> HostKeyAlg {
        match self {
            HostKeyAlg::Ed25519 => HostKeyAlg::Ed25519Cert,
            HostKeyAlg::EcdsaP256 => HostKeyAlg::EcdsaP256Cert,
            HostKeyAlg::EcdsaP384 => HostKeyAlg::EcdsaP384Cert,
            HostKeyAlg::EcdsaP521 => HostKeyAlg::EcdsaP521Cert,
            HostKeyAlg::RsaSha512 => HostKeyAlg::RsaSha512Cert,
            HostKeyAlg::RsaSha256 => HostKeyAlg::RsaSha256Cert,
            HostKeyAlg::RsaSha1 => HostKeyAlg::RsaSha1Cert,
            HostKeyAlg::Dss => HostKeyAlg::DssCert,
            cert => cert,
        }
    }

    /// Whether the key is RSA (any hash, plain or certificate).
    pub fn is_rsa(self) -> bool {
        matches!(
            self.plain(),
            HostKeyAlg::RsaSha512 | HostKeyAlg::RsaSha256 | HostKeyAlg::RsaSha1
        )
    }

    /// The key type name at the start of `K_S`: `ssh-rsa` for the three RSA signature
    /// algorithms, `ssh-rsa-cert-v01@openssh.com` for their certificates.
    pub fn key_type(self) -> &'static str {
        match self {
            HostKeyAlg::RsaSha256 | HostKeyAlg::RsaSha512 => "ssh-rsa",
            HostKeyAlg::RsaSha256Cert | HostKeyAlg::RsaSha512Cert => "ssh-rsa-cert-v01@openssh.com",
            other => other.name(),
        }
    }

    /// The plain algorithms a key of type `key_type` (a plain key type name such as
    /// `ssh-rsa`) can sign with, best first.
    pub fn for_key_type(key_type: &str) -> &'static [HostKeyAlg] {
        match key_type {
            "ssh-ed25519" => &[HostKeyAlg::Ed25519],
            "ecdsa-sha2-nistp256" => &[HostKeyAlg::EcdsaP256],
            "ecdsa-sha2-nistp384" => &[HostKeyAlg::EcdsaP384],
            "ecdsa-sha2-nistp521" => &[HostKeyAlg::EcdsaP521],
            "ssh-rsa" => &[
                HostKeyAlg::RsaSha512,
                HostKeyAlg::RsaSha256,
                HostKeyAlg::RsaSha1,
            ],
            "ssh-dss" => &[HostKeyAlg::Dss],
            _ => &[],
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
        assert_eq!(HostKeyAlg::from_name("ssh-rsa1"), None);
    }

    #[test]
    fn certificates_and_plain_pair_up() {
        let certs: Vec<_> = HostKeyAlg::ALL
            .iter()
            .filter(|a| a.is_certificate())
            .collect();
        assert_eq!(certs.len(), 8);
        for a in HostKeyAlg::ALL {
            assert_eq!(a.plain().certified(), a.certified());
            assert!(!a.plain().is_certificate());
            assert_eq!(
                a.is_certificate(),
                a.name().ends_with("-cert-v01@openssh.com")
            );
            // The certificate's key type is the plain key type with the suffix.
            if a.is_certificate() {
                assert_eq!(
                    a.key_type(),
                    format!("{}-cert-v01@openssh.com", a.plain().key_type())
                );
            }
            assert!(HostKeyAlg::for_key_type(a.plain().key_type()).contains(&a.plain()));
        }
    }

    #[test]
    fn legacy_is_all_but_default() {
        for a in HostKeyAlg::ALL {
            assert_eq!(a.is_legacy(), !HostKeyAlg::DEFAULT.contains(a), "{a:?}");
        }
    }
}
