//! The algorithm-name registry: the cipher and MAC names of RFC 4253 §6.3/§6.4,
//! RFC 4344, RFC 5647, RFC 6668 and OpenSSH's `PROTOCOL` files, with their sizes.

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
}

impl CipherAlg {
    /// Every supported cipher, in OpenSSH 9's default preference order.
    pub const ALL: &'static [CipherAlg] = &[
        CipherAlg::Chacha20Poly1305,
        CipherAlg::Aes128Ctr,
        CipherAlg::Aes192Ctr,
        CipherAlg::Aes256Ctr,
        CipherAlg::Aes128Gcm,
        CipherAlg::Aes256Gcm,
    ];

    /// The ciphers offered when nothing is configured (for now the same as [`Self::ALL`]).
    pub const DEFAULT: &'static [CipherAlg] = Self::ALL;

    /// The name used in `SSH_MSG_KEXINIT`.
    pub fn name(self) -> &'static str {
        match self {
            CipherAlg::Chacha20Poly1305 => "chacha20-poly1305@openssh.com",
            CipherAlg::Aes128Gcm => "aes128-gcm@openssh.com",
            CipherAlg::Aes256Gcm => "aes256-gcm@openssh.com",
            CipherAlg::Aes128Ctr => "aes128-ctr",
            CipherAlg::Aes192Ctr => "aes192-ctr",
            CipherAlg::Aes256Ctr => "aes256-ctr",
        }
    }

    /// The cipher called `name`, if Sisu knows it (names are case-sensitive).
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|c| c.name() == name)
    }

    /// Bytes of encryption key to derive (RFC 4253 §7.2, keys "C" and "D").
    pub fn key_len(self) -> usize {
        match self {
            CipherAlg::Chacha20Poly1305 => 64,
            CipherAlg::Aes128Gcm | CipherAlg::Aes128Ctr => 16,
            CipherAlg::Aes192Ctr => 24,
            CipherAlg::Aes256Gcm | CipherAlg::Aes256Ctr => 32,
        }
    }

    /// Bytes of initial IV to derive (RFC 4253 §7.2, keys "A" and "B").
    pub fn iv_len(self) -> usize {
        match self {
            CipherAlg::Chacha20Poly1305 => 0,
            CipherAlg::Aes128Gcm | CipherAlg::Aes256Gcm => 12,
            CipherAlg::Aes128Ctr | CipherAlg::Aes192Ctr | CipherAlg::Aes256Ctr => 16,
        }
    }

    /// The block size that packets are padded to.
    pub fn block_size(self) -> usize {
        match self {
            CipherAlg::Chacha20Poly1305 => 8,
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
}

impl MacAlg {
    /// Every supported MAC, in OpenSSH 9's default preference order.
    pub const ALL: &'static [MacAlg] = &[
        MacAlg::HmacSha256Etm,
        MacAlg::HmacSha512Etm,
        MacAlg::HmacSha256,
        MacAlg::HmacSha512,
    ];

    /// The MACs offered when nothing is configured (for now the same as [`Self::ALL`]).
    pub const DEFAULT: &'static [MacAlg] = Self::ALL;

    /// The name used in `SSH_MSG_KEXINIT`.
    pub fn name(self) -> &'static str {
        match self {
            MacAlg::HmacSha256 => "hmac-sha2-256",
            MacAlg::HmacSha512 => "hmac-sha2-512",
            MacAlg::HmacSha256Etm => "hmac-sha2-256-etm@openssh.com",
            MacAlg::HmacSha512Etm => "hmac-sha2-512-etm@openssh.com",
        }
    }

    /// The MAC called `name`, if Sisu knows it (names are case-sensitive).
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|m| m.name() == name)
    }

    /// Bytes of integrity key to derive (RFC 4253 §7.2, keys "E" and "F").
    pub fn key_len(self) -> usize {
        match self {
            MacAlg::HmacSha256 | MacAlg::HmacSha256Etm => 32,
            MacAlg::HmacSha512 | MacAlg::HmacSha512Etm => 64,
        }
    }

    /// Bytes of MAC appended to each packet.
    pub fn mac_len(self) -> usize {
        self.key_len()
    }

    /// Whether this is an encrypt-then-MAC mode (`packet_length` in clear, MAC over
    /// the ciphertext, verified before decrypting).
    pub fn is_etm(self) -> bool {
        matches!(self, MacAlg::HmacSha256Etm | MacAlg::HmacSha512Etm)
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
    fn cipher_names_round_trip_and_sizes() {
        let names: Vec<&str> = CipherAlg::ALL.iter().map(|c| c.name()).collect();
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
        for &c in CipherAlg::ALL {
            assert_eq!(CipherAlg::from_name(c.name()), Some(c));
            assert_eq!(c.to_string(), c.name());
        }
        let sizes: Vec<(usize, usize, usize, bool)> = CipherAlg::ALL
            .iter()
            .map(|c| (c.key_len(), c.iv_len(), c.block_size(), c.is_aead()))
            .collect();
        assert_eq!(
            sizes,
            [
                (64, 0, 8, true),
                (16, 16, 16, false),
                (24, 16, 16, false),
                (32, 16, 16, false),
                (16, 12, 16, true),
                (32, 12, 16, true)
            ]
        );
        for bad in [
            "",
            "AES128-CTR",
            "aes128-cbc",
            "3des-cbc",
            "none",
            "aes128-ctr ",
        ] {
            assert_eq!(CipherAlg::from_name(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn mac_names_round_trip_and_sizes() {
        let names: Vec<&str> = MacAlg::ALL.iter().map(|m| m.name()).collect();
        assert_eq!(
            names,
            [
                "hmac-sha2-256-etm@openssh.com",
                "hmac-sha2-512-etm@openssh.com",
                "hmac-sha2-256",
                "hmac-sha2-512"
            ]
        );
        for &m in MacAlg::ALL {
            assert_eq!(MacAlg::from_name(m.name()), Some(m));
            assert_eq!(m.mac_len(), m.key_len());
            assert_eq!(m.is_etm(), m.name().ends_with("-etm@openssh.com"));
        }
        assert_eq!(MacAlg::HmacSha256.key_len(), 32);
        assert_eq!(MacAlg::HmacSha512Etm.mac_len(), 64);
        for bad in ["", "hmac-sha1", "hmac-sha2-256-etm", "umac-64@openssh.com"] {
            assert_eq!(MacAlg::from_name(bad), None, "{bad:?}");
        }
    }
}
