//! The algorithm-name registry: the cipher and MAC names of RFC 4253 §6.3/§6.4,
//! RFC 4344, RFC 4345, RFC 5647, RFC 6668 and OpenSSH's `PROTOCOL` files, with their
//! sizes.
//!
//! [`CipherAlg::ALL`] / [`MacAlg::ALL`] hold what this build supports (legacy
//! families can be left out with cargo features); [`CipherAlg::DEFAULT`] /
//! [`MacAlg::DEFAULT`] what a server offers when nothing is configured. The legacy
//! algorithms ([`CipherAlg::is_legacy`], [`MacAlg::is_legacy`]) are never in the
//! defaults.

use std::fmt;

/// Cipher names known to Sisu (the `encryption_algorithms` of `SSH_MSG_KEXINIT`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CipherAlg {
    /// `chacha20-poly1305@openssh.com` (OpenSSH `PROTOCOL.chacha20poly1305`).
    Chacha20Poly1305,
    /// `aes128-gcm@openssh.com` (RFC 5647 with OpenSSH's names).
    Aes128Gcm,
    /// `aes256-gcm@openssh.com` (RFC 5647 with OpenSSH's names).
    Aes256Gcm,
    /// `aes128-ctr` (RFC 4344).
    Aes128Ctr,
    /// `aes192-ctr` (RFC 4344).
    Aes192Ctr,
    /// `aes256-ctr` (RFC 4344).
    Aes256Ctr,
    /// `aes128-cbc` (RFC 4253 §6.3). Legacy.
    Aes128Cbc,
    /// `aes192-cbc` (RFC 4253 §6.3). Legacy.
    Aes192Cbc,
    /// `aes256-cbc` (RFC 4253 §6.3). Legacy.
    Aes256Cbc,
    /// `rijndael-cbc@lysator.liu.se`: the old name of `aes256-cbc`. Legacy.
    RijndaelCbc,
    /// `3des-cbc` (RFC 4253 §6.3): three-key 3DES-EDE in CBC mode. Legacy.
    TripleDesCbc,
    /// `blowfish-cbc` (RFC 4253 §6.3), 128-bit key. Legacy.
    BlowfishCbc,
    /// `cast128-cbc` (RFC 4253 §6.3, RFC 2144), 128-bit key. Legacy.
    Cast128Cbc,
    /// `arcfour` (RFC 4253 §6.3): RC4 with a 128-bit key, no keystream discarded.
    /// Legacy.
    Arcfour,
    /// `arcfour128` (RFC 4345): RC4, 128-bit key, first 1536 bytes discarded. Legacy.
    Arcfour128,
    /// `arcfour256` (RFC 4345): RC4, 256-bit key, first 1536 bytes discarded. Legacy.
    Arcfour256,
}

impl CipherAlg {
    /// The ciphers offered when nothing is configured, in OpenSSH 9's order.
    pub const DEFAULT: &'static [CipherAlg] = &[
        CipherAlg::Chacha20Poly1305,
        CipherAlg::Aes128Ctr,
        CipherAlg::Aes192Ctr,
        CipherAlg::Aes256Ctr,
        CipherAlg::Aes128Gcm,
        CipherAlg::Aes256Gcm,
    ];

    /// Every cipher this build supports: [`Self::DEFAULT`], then the legacy ones
    /// compiled in (cargo features `aes-cbc`, `3des`, `blowfish`, `cast128`, `arcfour`).
    pub const ALL: &'static [CipherAlg] = &[
        CipherAlg::Chacha20Poly1305,
        CipherAlg::Aes128Ctr,
        CipherAlg::Aes192Ctr,
        CipherAlg::Aes256Ctr,
        CipherAlg::Aes128Gcm,
        CipherAlg::Aes256Gcm,
        #[cfg(feature = "aes-cbc")]
        CipherAlg::Aes128Cbc,
        #[cfg(feature = "aes-cbc")]
        CipherAlg::Aes192Cbc,
        #[cfg(feature = "aes-cbc")]
        CipherAlg::Aes256Cbc,
        #[cfg(feature = "aes-cbc")]
        CipherAlg::RijndaelCbc,
        #[cfg(feature = "3des")]
        CipherAlg::TripleDesCbc,
        #[cfg(feature = "blowfish")]
        CipherAlg::BlowfishCbc,
        #[cfg(feature = "cast128")]
        CipherAlg::Cast128Cbc,
        #[cfg(feature = "arcfour")]
        CipherAlg::Arcfour,
        #[cfg(feature = "arcfour")]
        CipherAlg::Arcfour128,
        #[cfg(feature = "arcfour")]
        CipherAlg::Arcfour256,
    ];

    /// The name used in `SSH_MSG_KEXINIT`.
    pub fn name(self) -> &'static str {
        match self {
            CipherAlg::Chacha20Poly1305 => "chacha20-poly1305@openssh.com",
            CipherAlg::Aes128Gcm => "aes128-gcm@openssh.com",
            CipherAlg::Aes256Gcm => "aes256-gcm@openssh.com",
            CipherAlg::Aes128Ctr => "aes128-ctr",
            CipherAlg::Aes192Ctr => "aes192-ctr",
            CipherAlg::Aes256Ctr => "aes256-ctr",
            CipherAlg::Aes128Cbc => "aes128-cbc",
            CipherAlg::Aes192Cbc => "aes192-cbc",
            CipherAlg::Aes256Cbc => "aes256-cbc",
            CipherAlg::RijndaelCbc => "rijndael-cbc@lysator.liu.se",
            CipherAlg::TripleDesCbc => "3des-cbc",
            CipherAlg::BlowfishCbc => "blowfish-cbc",
            CipherAlg::Cast128Cbc => "cast128-cbc",
            CipherAlg::Arcfour => "arcfour",
            CipherAlg::Arcfour128 => "arcfour128",
            CipherAlg::Arcfour256 => "arcfour256",
        }
    }

    /// The cipher called `name`, if this build supports it (names are
    /// case-sensitive).
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|c| c.name() == name)
    }

    /// Bytes of encryption key to derive (RFC 4253 §7.2, keys "C" and "D").
    pub fn key_len(self) -> usize {
        match self {
            CipherAlg::Chacha20Poly1305 => 64,
            CipherAlg::Aes128Gcm
            | CipherAlg::Aes128Ctr
            | CipherAlg::Aes128Cbc
            | CipherAlg::BlowfishCbc
            | CipherAlg::Cast128Cbc
            | CipherAlg::Arcfour
            | CipherAlg::Arcfour128 => 16,
            CipherAlg::Aes192Ctr | CipherAlg::Aes192Cbc | CipherAlg::TripleDesCbc => 24,
            CipherAlg::Aes256Gcm
            | CipherAlg::Aes256Ctr
            | CipherAlg::Aes256Cbc
            | CipherAlg::RijndaelCbc
            | CipherAlg::Arcfour256 => 32,
        }
    }

    /// Bytes of initial IV to derive (RFC 4253 §7.2, keys "A" and "B").
    pub fn iv_len(self) -> usize {
        match self {
            CipherAlg::Chacha20Poly1305
            | CipherAlg::Arcfour
            | CipherAlg::Arcfour128
            | CipherAlg::Arcfour256 => 0,
            CipherAlg::Aes128Gcm | CipherAlg::Aes256Gcm => 12,
            CipherAlg::TripleDesCbc | CipherAlg::BlowfishCbc | CipherAlg::Cast128Cbc => 8,
            _ => 16,
        }
    }

    /// The block size that packets are padded to.
    pub fn block_size(self) -> usize {
        match self {
            CipherAlg::Chacha20Poly1305
            | CipherAlg::TripleDesCbc
            | CipherAlg::BlowfishCbc
            | CipherAlg::Cast128Cbc
            | CipherAlg::Arcfour
            | CipherAlg::Arcfour128
            | CipherAlg::Arcfour256 => 8,
            _ => 16,
        }
    }

    /// Whether the cipher authenticates packets itself; then the negotiated MAC
    /// algorithm is not used (and no MAC key is derived).
    pub fn is_aead(self) -> bool {
        matches!(
            self,
            CipherAlg::Chacha20Poly1305 | CipherAlg::Aes128Gcm | CipherAlg::Aes256Gcm
        )
    }

    /// Whether this is a legacy cipher: supported, but offered only when configured
    /// (CBC modes, 64-bit block ciphers, RC4).
    pub fn is_legacy(self) -> bool {
        !Self::DEFAULT.contains(&self)
    }
}

impl fmt::Display for CipherAlg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// MAC names known to Sisu (the `mac_algorithms` of `SSH_MSG_KEXINIT`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MacAlg {
    /// `hmac-sha2-256` (RFC 6668), encrypt-and-MAC.
    HmacSha256,
    /// `hmac-sha2-512` (RFC 6668), encrypt-and-MAC.
    HmacSha512,
    /// `hmac-sha2-256-etm@openssh.com` (OpenSSH `PROTOCOL` §1.5), encrypt-then-MAC.
    HmacSha256Etm,
    /// `hmac-sha2-512-etm@openssh.com` (OpenSSH `PROTOCOL` §1.5), encrypt-then-MAC.
    HmacSha512Etm,
    /// `umac-64@openssh.com` (RFC 4418, 64-bit tag). Legacy.
    Umac64,
    /// `umac-128@openssh.com` (RFC 4418, 128-bit tag).
    Umac128,
    /// `umac-64-etm@openssh.com`. Legacy.
    Umac64Etm,
    /// `umac-128-etm@openssh.com`.
    Umac128Etm,
    /// `hmac-sha1` (RFC 4253 §6.4). Legacy.
    HmacSha1,
    /// `hmac-sha1-96` (RFC 4253 §6.4): the first 12 bytes of HMAC-SHA1. Legacy.
    HmacSha1_96,
    /// `hmac-sha1-etm@openssh.com`. Legacy.
    HmacSha1Etm,
    /// `hmac-sha1-96-etm@openssh.com`. Legacy.
    HmacSha1_96Etm,
    /// `hmac-md5` (RFC 4253 §6.4). Legacy.
    HmacMd5,
    /// `hmac-md5-96` (RFC 4253 §6.4). Legacy.
    HmacMd5_96,
    /// `hmac-md5-etm@openssh.com`. Legacy.
    HmacMd5Etm,
    /// `hmac-md5-96-etm@openssh.com`. Legacy.
    HmacMd5_96Etm,
    /// `hmac-ripemd160` (RFC 4253 §6.4 lists it as optional). Legacy.
    HmacRipemd160,
    /// `hmac-ripemd160@openssh.com`: the same MAC under OpenSSH's older name. Legacy.
    HmacRipemd160OpenSsh,
    /// `hmac-ripemd160-etm@openssh.com`. Legacy.
    HmacRipemd160Etm,
}

/// The hash or universal-hash family behind a [`MacAlg`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MacFamily {
    /// HMAC-SHA-256 (RFC 2104 over FIPS 180-4).
    Sha256,
    /// HMAC-SHA-512.
    Sha512,
    /// HMAC-SHA-1.
    Sha1,
    /// HMAC-MD5.
    Md5,
    /// HMAC-RIPEMD-160.
    Ripemd160,
    /// UMAC (RFC 4418) with AES-128.
    Umac,
}

impl MacAlg {
    /// The MACs offered when nothing is configured: OpenSSH 9's list without SHA-1
    /// and `umac-64`.
    pub const DEFAULT: &'static [MacAlg] = &[
        MacAlg::HmacSha256Etm,
        MacAlg::HmacSha512Etm,
        MacAlg::Umac128Etm,
        MacAlg::HmacSha256,
        MacAlg::HmacSha512,
        MacAlg::Umac128,
    ];

    /// Every MAC this build supports: [`Self::DEFAULT`], then the legacy ones
    /// compiled in (cargo features `hmac-sha1`, `hmac-md5`, `hmac-ripemd160`).
    pub const ALL: &'static [MacAlg] = &[
        MacAlg::HmacSha256Etm,
        MacAlg::HmacSha512Etm,
        MacAlg::Umac128Etm,
        MacAlg::HmacSha256,
        MacAlg::HmacSha512,
        MacAlg::Umac128,
        MacAlg::Umac64Etm,
        MacAlg::Umac64,
        #[cfg(feature = "hmac-sha1")]
        MacAlg::HmacSha1Etm,
        #[cfg(feature = "hmac-sha1")]
        MacAlg::HmacSha1,
        #[cfg(feature = "hmac-sha1")]
        MacAlg::HmacSha1_96Etm,
        #[cfg(feature = "hmac-sha1")]
        MacAlg::HmacSha1_96,
        #[cfg(feature = "hmac-md5")]
        MacAlg::HmacMd5Etm,
        #[cfg(feature = "hmac-md5")]
        MacAlg::HmacMd5,
        #[cfg(feature = "hmac-md5")]
        MacAlg::HmacMd5_96Etm,
        #[cfg(feature = "hmac-md5")]
        MacAlg::HmacMd5_96,
        #[cfg(feature = "hmac-ripemd160")]
        MacAlg::HmacRipemd160Etm,
        #[cfg(feature = "hmac-ripemd160")]
        MacAlg::HmacRipemd160,
        #[cfg(feature = "hmac-ripemd160")]
        MacAlg::HmacRipemd160OpenSsh,
    ];

    /// The name used in `SSH_MSG_KEXINIT`.
    pub fn name(self) -> &'static str {
        match self {
            MacAlg::HmacSha256 => "hmac-sha2-256",
            MacAlg::HmacSha512 => "hmac-sha2-512",
            MacAlg::HmacSha256Etm => "hmac-sha2-256-etm@openssh.com",
            MacAlg::HmacSha512Etm => "hmac-sha2-512-etm@openssh.com",
            MacAlg::Umac64 => "umac-64@openssh.com",
            MacAlg::Umac128 => "umac-128@openssh.com",
            MacAlg::Umac64Etm => "umac-64-etm@openssh.com",
            MacAlg::Umac128Etm => "umac-128-etm@openssh.com",
            MacAlg::HmacSha1 => "hmac-sha1",
            MacAlg::HmacSha1_96 => "hmac-sha1-96",
            MacAlg::HmacSha1Etm => "hmac-sha1-etm@openssh.com",
            MacAlg::HmacSha1_96Etm => "hmac-sha1-96-etm@openssh.com",
            MacAlg::HmacMd5 => "hmac-md5",
            MacAlg::HmacMd5_96 => "hmac-md5-96",
            MacAlg::HmacMd5Etm => "hmac-md5-etm@openssh.com",
            MacAlg::HmacMd5_96Etm => "hmac-md5-96-etm@openssh.com",
            MacAlg::HmacRipemd160 => "hmac-ripemd160",
            MacAlg::HmacRipemd160OpenSsh => "hmac-ripemd160@openssh.com",
            MacAlg::HmacRipemd160Etm => "hmac-ripemd160-etm@openssh.com",
        }
    }

    /// The MAC called `name`, if this build supports it (names are case-sensitive).
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|m| m.name() == name)
    }

    /// The hash family.
    pub fn family(self) -> MacFamily {
        match self {
            MacAlg::HmacSha256 | MacAlg::HmacSha256Etm => MacFamily::Sha256,
            MacAlg::HmacSha512 | MacAlg::HmacSha512Etm => MacFamily::Sha512,
            MacAlg::Umac64 | MacAlg::Umac128 | MacAlg::Umac64Etm | MacAlg::Umac128Etm => {
                MacFamily::Umac
            }
            MacAlg::HmacSha1
            | MacAlg::HmacSha1_96
            | MacAlg::HmacSha1Etm
            | MacAlg::HmacSha1_96Etm => MacFamily::Sha1,
            MacAlg::HmacMd5 | MacAlg::HmacMd5_96 | MacAlg::HmacMd5Etm | MacAlg::HmacMd5_96Etm => {
                MacFamily::Md5
            }
            MacAlg::HmacRipemd160 | MacAlg::HmacRipemd160OpenSsh | MacAlg::HmacRipemd160Etm => {
                MacFamily::Ripemd160
            }
        }
    }

    /// Bytes of integrity key to derive (RFC 4253 §7.2, keys "E" and "F"): the hash
    /// output length for HMAC, 16 (an AES-128 key) for UMAC.
    pub fn key_len(self) -> usize {
        match self.family() {
            MacFamily::Sha256 => 32,
            MacFamily::Sha512 => 64,
            MacFamily::Sha1 | MacFamily::Ripemd160 => 20,
            MacFamily::Md5 | MacFamily::Umac => 16,
        }
    }

    /// Bytes of MAC appended to each packet.
    pub fn mac_len(self) -> usize {
        match self {
            MacAlg::HmacSha1_96
            | MacAlg::HmacSha1_96Etm
            | MacAlg::HmacMd5_96
            | MacAlg::HmacMd5_96Etm => 12,
            MacAlg::Umac64 | MacAlg::Umac64Etm => 8,
            MacAlg::Umac128 | MacAlg::Umac128Etm => 16,
            _ => self.key_len(),
        }
    }

    /// Whether this is an encrypt-then-MAC mode (`packet_length` in clear, MAC over
    /// the ciphertext, verified before decrypting).
    pub fn is_etm(self) -> bool {
        self.name().contains("-etm@")
    }

    /// Whether this is a legacy MAC: supported, but offered only when configured
    /// (SHA-1, MD5, RIPEMD-160, 64-bit UMAC tags).
    pub fn is_legacy(self) -> bool {
        !Self::DEFAULT.contains(&self)
    }
}

impl fmt::Display for MacAlg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_openssh_9s_modern_lists() {
        let names: Vec<&str> = CipherAlg::DEFAULT.iter().map(|c| c.name()).collect();
        assert_eq!(
            names,
            [
                "chacha20-poly1305@openssh.com",
                "aes128-ctr",
                "aes192-ctr",
                "aes256-ctr",
                "aes128-gcm@openssh.com",
                "aes256-gcm@openssh.com"
            ]
        );
        let names: Vec<&str> = MacAlg::DEFAULT.iter().map(|m| m.name()).collect();
        assert_eq!(
            names,
            [
                "hmac-sha2-256-etm@openssh.com",
                "hmac-sha2-512-etm@openssh.com",
                "umac-128-etm@openssh.com",
                "hmac-sha2-256",
                "hmac-sha2-512",
                "umac-128@openssh.com"
            ]
        );
        assert!(CipherAlg::ALL.starts_with(CipherAlg::DEFAULT));
        assert!(MacAlg::ALL.starts_with(MacAlg::DEFAULT));
        assert!(CipherAlg::DEFAULT.iter().all(|c| !c.is_legacy()));
        assert!(MacAlg::DEFAULT.iter().all(|m| !m.is_legacy()));
    }

    #[cfg(all(
        feature = "aes-cbc",
        feature = "3des",
        feature = "blowfish",
        feature = "cast128",
        feature = "arcfour"
    ))]
    #[test]
    fn every_cipher_of_openssh_7_5_is_supported() {
        // `ssh1 -Q cipher` of OpenSSH 7.5 (the last with the original legacy set).
        for name in [
            "3des-cbc",
            "blowfish-cbc",
            "cast128-cbc",
            "arcfour",
            "arcfour128",
            "arcfour256",
            "aes128-cbc",
            "aes192-cbc",
            "aes256-cbc",
            "rijndael-cbc@lysator.liu.se",
            "aes128-ctr",
            "aes192-ctr",
            "aes256-ctr",
            "aes128-gcm@openssh.com",
            "aes256-gcm@openssh.com",
            "chacha20-poly1305@openssh.com",
        ] {
            let c = CipherAlg::from_name(name).unwrap_or_else(|| panic!("{name}"));
            assert_eq!(c.name(), name);
            assert_eq!(c.to_string(), name);
        }
        assert_eq!(CipherAlg::ALL.len(), 16);
        let sizes = |n: &str| {
            let c = CipherAlg::from_name(n).unwrap();
            (c.key_len(), c.iv_len(), c.block_size(), c.is_aead())
        };
        // OpenSSH's cipher.c table.
        assert_eq!(sizes("chacha20-poly1305@openssh.com"), (64, 0, 8, true));
        assert_eq!(sizes("aes128-gcm@openssh.com"), (16, 12, 16, true));
        assert_eq!(sizes("aes192-ctr"), (24, 16, 16, false));
        assert_eq!(sizes("3des-cbc"), (24, 8, 8, false));
        assert_eq!(sizes("blowfish-cbc"), (16, 8, 8, false));
        assert_eq!(sizes("cast128-cbc"), (16, 8, 8, false));
        assert_eq!(sizes("arcfour"), (16, 0, 8, false));
        assert_eq!(sizes("arcfour256"), (32, 0, 8, false));
        assert_eq!(sizes("rijndael-cbc@lysator.liu.se"), (32, 16, 16, false));
        for bad in ["", "AES128-CTR", "none", "aes128-ctr ", "des", "idea-cbc"] {
            assert_eq!(CipherAlg::from_name(bad), None, "{bad:?}");
        }
    }

    #[cfg(all(
        feature = "hmac-sha1",
        feature = "hmac-md5",
        feature = "hmac-ripemd160"
    ))]
    #[test]
    fn every_mac_of_openssh_7_5_is_supported() {
        // `ssh1 -Q mac` of OpenSSH 7.5.
        let sizes: Vec<(&str, usize, usize, bool)> = [
            "hmac-sha1",
            "hmac-sha1-96",
            "hmac-sha2-256",
            "hmac-sha2-512",
            "hmac-md5",
            "hmac-md5-96",
            "hmac-ripemd160",
            "hmac-ripemd160@openssh.com",
            "umac-64@openssh.com",
            "umac-128@openssh.com",
            "hmac-sha1-etm@openssh.com",
            "hmac-sha1-96-etm@openssh.com",
            "hmac-sha2-256-etm@openssh.com",
            "hmac-sha2-512-etm@openssh.com",
            "hmac-md5-etm@openssh.com",
            "hmac-md5-96-etm@openssh.com",
            "hmac-ripemd160-etm@openssh.com",
            "umac-64-etm@openssh.com",
            "umac-128-etm@openssh.com",
        ]
        .iter()
        .map(|n| {
            let m = MacAlg::from_name(n).unwrap_or_else(|| panic!("{n}"));
            assert_eq!(m.to_string(), *n);
            (*n, m.key_len(), m.mac_len(), m.is_etm())
        })
        .collect();
        assert_eq!(MacAlg::ALL.len(), sizes.len());
        let want = [
            (20, 20, false),
            (20, 12, false),
            (32, 32, false),
            (64, 64, false),
            (16, 16, false),
            (16, 12, false),
            (20, 20, false),
            (20, 20, false),
            (16, 8, false),
            (16, 16, false),
            (20, 20, true),
            (20, 12, true),
            (32, 32, true),
            (64, 64, true),
            (16, 16, true),
            (16, 12, true),
            (20, 20, true),
            (16, 8, true),
            (16, 16, true),
        ];
        for ((n, k, l, e), w) in sizes.iter().zip(want) {
            assert_eq!((*k, *l, *e), w, "{n}");
        }
        for bad in ["", "hmac-sha2-256-etm", "HMAC-SHA1", "umac-32@openssh.com"] {
            assert_eq!(MacAlg::from_name(bad), None, "{bad:?}");
        }
    }
}
