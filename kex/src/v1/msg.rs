//! The two messages of the SSH-1 session-key exchange, encoded and parsed (the
//! message number is the packet's type byte, not part of these bodies).
//!
//! ```
//! use sisu_kex::v1::msg::SessionKey;
//! let m = SessionKey { cipher: 3, cookie: [1; 8], encrypted_key: vec![0x5a; 64], protocol_flags: 3 };
//! assert_eq!(SessionKey::parse(&m.encode()).unwrap(), m);
//! ```

use super::V1Error;
use sisu_wire::v1::{mpint, put_mpint};
use sisu_wire::{Reader, WireError, Writer};

/// Bytes of the anti-spoofing cookie.
pub const COOKIE_LEN: usize = 8;

/// An RSA public key as `SSH_SMSG_PUBLIC_KEY` carries it: the announced bit count,
/// then exponent and modulus as unsigned big-endian magnitudes (minimal, no leading
/// zero bytes). The transport's own API takes `rsa::RsaPublicKey`; this is the
/// wire form, which may announce a size that is not the modulus's (OpenSSH's client
/// only warns about that).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RsaPublicParts {
    /// The bit count announced.
    pub bits: u32,
    /// The public exponent.
    pub e: Vec<u8>,
    /// The modulus.
    pub n: Vec<u8>,
}

impl RsaPublicParts {
    /// The wire form of `key`, announcing its true size.
    pub fn from_key(key: &rsa::RsaPublicKey) -> Self {
        use rsa::traits::PublicKeyParts;
        RsaPublicParts {
            bits: key.n().bits() as u32,
            e: key.e().to_bytes_be(),
            n: key.n().to_bytes_be(),
        }
    }

    fn put(&self, w: &mut Writer) {
        w.u32(self.bits);
        put_mpint(w, &self.e);
        put_mpint(w, &self.n);
    }

    fn get(r: &mut Reader<'_>) -> Result<Self, WireError> {
        Ok(RsaPublicParts {
            bits: r.u32()?,
            e: mpint(r)?.to_vec(),
            n: mpint(r)?.to_vec(),
        })
    }
}

/// `SSH_SMSG_PUBLIC_KEY`: the server's keys and what it supports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKey {
    /// Random bytes the client must echo (the anti-spoofing cookie).
    pub cookie: [u8; COOKIE_LEN],
    /// The server key (regenerated periodically by the original servers).
    pub server_key: RsaPublicParts,
    /// The host key.
    pub host_key: RsaPublicParts,
    /// Protocol flags (`sisu_wire::v1::msg::flags`).
    pub protocol_flags: u32,
    /// Supported ciphers: bit N set for cipher number N.
    pub cipher_mask: u32,
    /// Supported authentication methods: bit N set for method N.
    pub auth_mask: u32,
}

impl PublicKey {
    /// The message body.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::new();
        w.raw(&self.cookie);
        self.server_key.put(&mut w);
        self.host_key.put(&mut w);
        w.u32(self.protocol_flags)
            .u32(self.cipher_mask)
            .u32(self.auth_mask);
        w.into_vec()
    }

    /// Parses a message body (every byte must be used).
    pub fn parse(body: &[u8]) -> Result<Self, V1Error> {
        let bad = |_| V1Error::BadMessage("SSH_SMSG_PUBLIC_KEY");
        let mut r = Reader::new(body);
        let mut cookie = [0u8; COOKIE_LEN];
        cookie.copy_from_slice(r.bytes(COOKIE_LEN).map_err(bad)?);
        let server_key = RsaPublicParts::get(&mut r).map_err(bad)?;
        let host_key = RsaPublicParts::get(&mut r).map_err(bad)?;
        let m = PublicKey {
            cookie,
            server_key,
            host_key,
            protocol_flags: r.u32().map_err(bad)?,
            cipher_mask: r.u32().map_err(bad)?,
            auth_mask: r.u32().map_err(bad)?,
        };
        r.finish().map_err(bad)?;
        Ok(m)
    }
}

/// `SSH_CMSG_SESSION_KEY`: the client's cipher and encrypted session key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionKey {
    /// The cipher number chosen.
    pub cipher: u8,
    /// The server's cookie, echoed.
    pub cookie: [u8; COOKIE_LEN],
    /// The session key, encrypted twice (see `encrypt_session_key`), as an unsigned
    /// big-endian magnitude.
    pub encrypted_key: Vec<u8>,
    /// Protocol flags (`sisu_wire::v1::msg::flags`).
    pub protocol_flags: u32,
}

impl SessionKey {
    /// The message body.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::new();
        w.u8(self.cipher).raw(&self.cookie);
        put_mpint(&mut w, &self.encrypted_key);
        w.u32(self.protocol_flags);
        w.into_vec()
    }

    /// Parses a message body (every byte must be used).
    pub fn parse(body: &[u8]) -> Result<Self, V1Error> {
        let bad = |_| V1Error::BadMessage("SSH_CMSG_SESSION_KEY");
        let mut r = Reader::new(body);
        let cipher = r.u8().map_err(bad)?;
        let mut cookie = [0u8; COOKIE_LEN];
        cookie.copy_from_slice(r.bytes(COOKIE_LEN).map_err(bad)?);
        let m = SessionKey {
            cipher,
            cookie,
            encrypted_key: mpint(&mut r).map_err(bad)?.to_vec(),
            protocol_flags: r.u32().map_err(bad)?,
        };
        r.finish().map_err(bad)?;
        Ok(m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A minimal magnitude (no leading zero byte), as the codec keeps it.
    fn magnitude(max: usize) -> impl Strategy<Value = Vec<u8>> {
        proptest::collection::vec(any::<u8>(), 0..max).prop_map(|mut v| {
            while v.first() == Some(&0) {
                v.remove(0);
            }
            v
        })
    }

    fn parts() -> impl Strategy<Value = RsaPublicParts> {
        (any::<u32>(), magnitude(8), magnitude(300)).prop_map(|(bits, e, n)| RsaPublicParts {
            bits,
            e,
            n,
        })
    }

    #[test]
    fn public_key_layout() {
        let m = PublicKey {
            cookie: *b"cookie!!",
            server_key: RsaPublicParts {
                bits: 9,
                e: vec![3],
                n: vec![1, 0xff],
            },
            host_key: RsaPublicParts {
                bits: 8,
                e: vec![0x01, 0x00, 0x01],
                n: vec![0x80],
            },
            protocol_flags: 2,
            cipher_mask: 1 << 3,
            auth_mask: 1 << 2,
        };
        let mut want = b"cookie!!".to_vec();
        want.extend_from_slice(&[0, 0, 0, 9, 0, 2, 3, 0, 9, 1, 0xff]);
        want.extend_from_slice(&[0, 0, 0, 8, 0, 17, 1, 0, 1, 0, 8, 0x80]);
        want.extend_from_slice(&[0, 0, 0, 2, 0, 0, 0, 8, 0, 0, 0, 4]);
        assert_eq!(m.encode(), want);
        assert_eq!(PublicKey::parse(&want).unwrap(), m);
        assert!(PublicKey::parse(&want[..want.len() - 1]).is_err());
        let mut long = want.clone();
        long.push(0);
        assert!(PublicKey::parse(&long).is_err());
    }

    proptest! {
        #[test]
        fn public_key_round_trips(
            cookie in any::<[u8; 8]>(), s in parts(), h in parts(),
            f in any::<u32>(), c in any::<u32>(), a in any::<u32>(),
        ) {
            let m = PublicKey { cookie, server_key: s, host_key: h, protocol_flags: f, cipher_mask: c, auth_mask: a };
            prop_assert_eq!(PublicKey::parse(&m.encode()).unwrap(), m);
        }

        #[test]
        fn session_key_round_trips(
            cipher in any::<u8>(), cookie in any::<[u8; 8]>(), k in magnitude(600), f in any::<u32>(),
        ) {
            let m = SessionKey { cipher, cookie, encrypted_key: k, protocol_flags: f };
            prop_assert_eq!(SessionKey::parse(&m.encode()).unwrap(), m);
        }

        #[test]
        fn parsers_never_panic(b in proptest::collection::vec(any::<u8>(), 0..400)) {
            let _ = PublicKey::parse(&b);
            let _ = SessionKey::parse(&b);
        }
    }
}
