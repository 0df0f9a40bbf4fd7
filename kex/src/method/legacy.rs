//! Key exchanges kept for old peers, compiled with the `legacy` feature and offered only
//! when configured: `ecdh-sha2-nistp256/384/521` (RFC 5656, the p256/p384/p521 crates)
//! and the 1024-bit group of `diffie-hellman-group1-sha1`. (The SHA-1 variants of group
//! 14 and group exchange reuse [`super::dh`] and [`super::gex`] with another hash.)

use super::ecdh::mpint_secret;
use super::{Agreement, Ctx, Method, OneShot};
use crate::alg::KexAlg;
use crate::moduli::DhGroup;
use crate::transport::TransportError;
use elliptic_curve::ecdh::EphemeralSecret;
use elliptic_curve::sec1::{FromEncodedPoint, ModulusSize, ToEncodedPoint};
use elliptic_curve::{AffinePoint, CurveArithmetic, FieldBytesSize, PublicKey};
use rand_core::CryptoRngCore;
use std::marker::PhantomData;
use zeroize::Zeroizing;

/// Oakley group 2 (RFC 2409 §6.2), 1024 bits, for `diffie-hellman-group1-sha1`.
pub fn group1() -> DhGroup {
    DhGroup::from_hex(super::groups::GROUP1, 2)
}

/// ECDH over a NIST curve: public values are uncompressed SEC1 points, `K` the mpint of
/// the shared point's x coordinate.
pub struct Nist<C: CurveArithmetic> {
    secret: Option<EphemeralSecret<C>>,
    _curve: PhantomData<C>,
}

impl<C: CurveArithmetic> Default for Nist<C> {
    fn default() -> Self {
        Nist {
            secret: None,
            _curve: PhantomData,
        }
    }
}

fn public_of<C>(secret: &EphemeralSecret<C>) -> Vec<u8>
where
    C: CurveArithmetic,
    AffinePoint<C>: FromEncodedPoint<C> + ToEncodedPoint<C>,
    FieldBytesSize<C>: ModulusSize,
{
    secret
        .public_key()
        .to_encoded_point(false)
        .as_bytes()
        .to_vec()
}

/// Parses the peer's point: uncompressed, on the curve, not the identity.
fn peer_point<C>(bytes: &[u8]) -> Result<PublicKey<C>, TransportError>
where
    C: CurveArithmetic,
    AffinePoint<C>: FromEncodedPoint<C> + ToEncodedPoint<C>,
    FieldBytesSize<C>: ModulusSize,
{
    let field = <FieldBytesSize<C> as elliptic_curve::generic_array::typenum::Unsigned>::USIZE;
    if bytes.len() != 1 + 2 * field || bytes[0] != 4 {
        return Err(TransportError::kex(
            "ECDH public key is not an uncompressed point of the curve's size",
        ));
    }
    PublicKey::<C>::from_sec1_bytes(bytes)
        .map_err(|_| TransportError::kex("ECDH public key is not on the curve"))
}

impl<C> Agreement for Nist<C>
where
    C: CurveArithmetic + Send,
    AffinePoint<C>: FromEncodedPoint<C> + ToEncodedPoint<C>,
    FieldBytesSize<C>: ModulusSize,
    EphemeralSecret<C>: Send,
{
    fn client_public(&mut self, rng: &mut dyn CryptoRngCore) -> Result<Vec<u8>, TransportError> {
        let mut rng = rng;
        let secret = EphemeralSecret::<C>::random(&mut rng);
        let public = public_of(&secret);
        self.secret = Some(secret);
        Ok(public)
    }

    fn server(
        &mut self,
        q_c: &[u8],
        ctx: &mut Ctx<'_>,
    ) -> Result<(Vec<u8>, Zeroizing<Vec<u8>>), TransportError> {
        let peer = peer_point::<C>(q_c)?;
        let mut rng = &mut *ctx.rng;
        let secret = EphemeralSecret::<C>::random(&mut rng);
        let shared = secret.diffie_hellman(&peer);
        Ok((
            public_of(&secret),
            mpint_secret(shared.raw_secret_bytes().as_slice()),
        ))
    }

    fn client_finish(&mut self, q_s: &[u8]) -> Result<Zeroizing<Vec<u8>>, TransportError> {
        let secret = self.secret.take().ok_or_else(|| {
            TransportError::out_of_sequence(sisu_wire::msg::SSH_MSG_KEX_ECDH_REPLY)
        })?;
        let peer = peer_point::<C>(q_s)?;
        let shared = secret.diffie_hellman(&peer);
        Ok(mpint_secret(shared.raw_secret_bytes().as_slice()))
    }
}

/// The method object of a NIST-curve ECDH method.
pub fn nist_method(alg: KexAlg, client: bool) -> Result<Box<dyn Method>, TransportError> {
    Ok(match alg {
        KexAlg::EcdhNistP256 => Box::new(OneShot::new(Nist::<p256::NistP256>::default(), client)),
        KexAlg::EcdhNistP384 => Box::new(OneShot::new(Nist::<p384::NistP384>::default(), client)),
        KexAlg::EcdhNistP521 => Box::new(OneShot::new(Nist::<p521::NistP521>::default(), client)),
        other => return Err(super::unsupported(other)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group1_is_1024_bits() {
        assert_eq!(group1().bits(), 1024);
    }

    #[test]
    fn off_curve_and_compressed_points_are_refused() {
        let mut n = Nist::<p256::NistP256>::default();
        let good = n.client_public(&mut rand_core::OsRng).unwrap();
        assert!(peer_point::<p256::NistP256>(&good).is_ok());
        let mut off = good.clone();
        off[64] ^= 1;
        assert!(peer_point::<p256::NistP256>(&off).is_err());
        let mut compressed = good[..33].to_vec();
        compressed[0] = 2;
        assert!(peer_point::<p256::NistP256>(&compressed).is_err());
        assert!(peer_point::<p256::NistP256>(&good[..64]).is_err());
    }
}
