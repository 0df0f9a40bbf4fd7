//! Elliptic-curve Diffie-Hellman: `curve25519-sha256` (RFC 8731). The NIST curves
//! (RFC 5656) are in [`super::legacy`].

use super::{Agreement, Ctx};
use crate::transport::TransportError;
use rand_core::CryptoRngCore;
use sisu_wire::Writer;
use x25519_dalek::{PublicKey, StaticSecret};
use zeroize::Zeroizing;

/// An X25519 public key's length.
pub const X25519_LEN: usize = 32;

/// A fresh X25519 key pair from `rng`.
pub fn x25519_key_pair(rng: &mut dyn CryptoRngCore) -> (StaticSecret, [u8; X25519_LEN]) {
    let mut bytes = Zeroizing::new([0u8; X25519_LEN]);
    rng.fill_bytes(&mut bytes[..]);
    let secret = StaticSecret::from(*bytes);
    let public = PublicKey::from(&secret).to_bytes();
    (secret, public)
}

/// The raw X25519 shared secret with the peer's public key; refuses a peer key of the
/// wrong length and an all-zero result (RFC 7748 §6.1, RFC 8731 §3).
pub fn x25519_shared(
    secret: &StaticSecret,
    peer: &[u8],
) -> Result<Zeroizing<[u8; X25519_LEN]>, TransportError> {
    let peer: [u8; X25519_LEN] = peer
        .try_into()
        .map_err(|_| TransportError::kex("curve25519 public key of the wrong length"))?;
    let shared = secret.diffie_hellman(&PublicKey::from(peer));
    if !shared.was_contributory() {
        return Err(TransportError::kex("curve25519 shared secret is all zero"));
    }
    Ok(Zeroizing::new(shared.to_bytes()))
}

/// `K` as an `mpint` of the raw shared secret, as the ECDH methods encode it.
/// Written into a buffer sized up front, so no reallocation leaves a copy behind.
pub fn mpint_secret(raw: &[u8]) -> Zeroizing<Vec<u8>> {
    let mut w = Writer::with_capacity(raw.len() + 5);
    w.mpint(raw);
    Zeroizing::new(w.into_vec())
}

/// The `curve25519-sha256` agreement.
#[derive(Default)]
pub struct X25519 {
    secret: Option<StaticSecret>,
}

impl Agreement for X25519 {
    fn client_public(&mut self, rng: &mut dyn CryptoRngCore) -> Result<Vec<u8>, TransportError> {
        let (secret, public) = x25519_key_pair(rng);
        self.secret = Some(secret);
        Ok(public.to_vec())
    }

    fn server(
        &mut self,
        q_c: &[u8],
        ctx: &mut Ctx<'_>,
    ) -> Result<(Vec<u8>, Zeroizing<Vec<u8>>), TransportError> {
        if q_c.len() != X25519_LEN {
            return Err(TransportError::kex(
                "curve25519 public key of the wrong length",
            ));
        }
        let (secret, public) = x25519_key_pair(ctx.rng);
        let shared = x25519_shared(&secret, q_c)?;
        Ok((public.to_vec(), mpint_secret(&shared[..])))
    }

    fn client_finish(&mut self, q_s: &[u8]) -> Result<Zeroizing<Vec<u8>>, TransportError> {
        let secret = self.secret.take().ok_or_else(|| {
            TransportError::out_of_sequence(sisu_wire::msg::SSH_MSG_KEX_ECDH_REPLY)
        })?;
        let shared = x25519_shared(&secret, q_s)?;
        Ok(mpint_secret(&shared[..]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unhex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    /// RFC 7748 §6.1: Alice's private key and Bob's public key give the shared secret.
    #[test]
    fn rfc7748_vector_and_k_encoding() {
        let a: [u8; 32] = unhex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a")
            .try_into()
            .unwrap();
        let bob_pub = unhex("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
        let k = x25519_shared(&StaticSecret::from(a), &bob_pub).unwrap();
        let expect = unhex("4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");
        assert_eq!(&k[..], &expect[..]);
        // K = mpint: the top bit of 0x4a is clear, so no leading zero byte.
        let mp = mpint_secret(&k[..]);
        assert_eq!(&mp[..4], &[0, 0, 0, 32]);
        assert_eq!(&mp[4..], &expect[..]);
    }

    #[test]
    fn zero_and_short_points_are_refused() {
        let s = StaticSecret::from([7u8; 32]);
        assert!(x25519_shared(&s, &[0u8; 32]).is_err());
        assert!(x25519_shared(&s, &[9u8; 31]).is_err());
    }
}
