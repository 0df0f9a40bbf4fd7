//! Modular Diffie-Hellman (RFC 4253 §8): key pairs, the public-value range check and the
//! shared secret, and the fixed-group agreement (`diffie-hellman-group{1,14,16,18}-*`).
//!
//! Arithmetic is crypto-bigint's Montgomery exponentiation, constant time in the secret
//! exponent (fixed windows, no secret-dependent branches or memory accesses), chosen over
//! num-bigint whose `modpow` is not. crypto-bigint works on fixed-size integers: the
//! modulus picks the smallest of 1024, 2048, 3072, 4096, 6144 or 8192 bits that holds it.
//! Exponents are `min(2 * max(need, 256), bits(p) - 1)` bits long, as OpenSSH's, where
//! `need` is the largest key the negotiated suites use. Secret exponents and results are
//! zeroized after use.

use super::{Agreement, Ctx};
use crate::moduli::{in_public_range, DhGroup};
use crate::transport::TransportError;
use crypto_bigint::modular::runtime_mod::{DynResidue, DynResidueParams};
use crypto_bigint::{Uint, U1024};
use rand_core::CryptoRngCore;
use zeroize::{Zeroize, Zeroizing};

/// Largest exponent, in bits.
const MAX_EXPONENT_BITS: usize = 1024;

/// An ephemeral DH secret: the exponent (zeroized on drop) and its size in bits.
pub struct DhSecret {
    x: Zeroizing<Vec<u8>>,
    bits: usize,
}

impl DhSecret {
    /// A secret exponent from its big-endian bytes (for known-answer tests; key pairs
    /// come from [`key_pair`]). At most 1024 bits.
    pub fn from_bytes(x: &[u8]) -> Self {
        let x = &x[x.len().saturating_sub(MAX_EXPONENT_BITS / 8)..];
        DhSecret {
            x: Zeroizing::new(x.to_vec()),
            bits: x.len() * 8,
        }
    }
}

fn to_uint<const L: usize>(bytes: &[u8]) -> Uint<L> {
    let mut buf = Zeroizing::new(vec![0u8; L * 8]);
    let start = L * 8 - bytes.len();
    buf[start..].copy_from_slice(bytes);
    Uint::from_be_slice(&buf)
}

fn from_uint<const L: usize>(v: &Uint<L>) -> Zeroizing<Vec<u8>> {
    let mut out = Zeroizing::new(Vec::with_capacity(L * 8));
    for limb in v.as_limbs().iter().rev() {
        out.extend_from_slice(&limb.0.to_be_bytes());
    }
    let start = out.iter().position(|&b| b != 0).unwrap_or(out.len());
    out.drain(..start);
    out
}

fn modpow_sized<const L: usize>(
    base: &[u8],
    exp: &U1024,
    exp_bits: usize,
    p: &[u8],
) -> Zeroizing<Vec<u8>> {
    let params = DynResidueParams::new(&to_uint::<L>(p));
    let mut b = to_uint::<L>(base);
    let mut r = DynResidue::new(&b, params)
        .pow_bounded_exp(exp, exp_bits)
        .retrieve();
    let out = from_uint(&r);
    r.zeroize();
    b.zeroize();
    out
}

/// `base ^ x mod p`, big-endian. `p` must be odd, at most 8192 bits, and `base < p`.
pub fn modpow(base: &[u8], x: &DhSecret, p: &[u8]) -> Zeroizing<Vec<u8>> {
    let mut exp = to_uint::<{ U1024::LIMBS }>(&x.x);
    let out = match p.len() {
        0..=128 => modpow_sized::<16>(base, &exp, x.bits, p),
        129..=256 => modpow_sized::<32>(base, &exp, x.bits, p),
        257..=384 => modpow_sized::<48>(base, &exp, x.bits, p),
        385..=512 => modpow_sized::<64>(base, &exp, x.bits, p),
        513..=768 => modpow_sized::<96>(base, &exp, x.bits, p),
        _ => modpow_sized::<128>(base, &exp, x.bits, p),
    };
    exp.zeroize();
    out
}

/// The exponent size for a group of `p_bits` when keys of `need_bits` are derived.
pub fn exponent_bits(p_bits: usize, need_bits: usize) -> usize {
    (2 * need_bits.max(256))
        .min(p_bits.saturating_sub(1))
        .min(MAX_EXPONENT_BITS)
}

/// A fresh key pair in `group`: the secret and the public value `g^x mod p`.
pub fn key_pair(
    group: &DhGroup,
    need_bits: usize,
    rng: &mut dyn CryptoRngCore,
) -> (DhSecret, Vec<u8>) {
    let bits = exponent_bits(group.bits() as usize, need_bits);
    let mut x = Zeroizing::new(vec![0u8; bits.div_ceil(8)]);
    rng.fill_bytes(&mut x);
    let extra = x.len() * 8 - bits;
    x[0] &= 0xff >> extra;
    x[0] |= 0x80 >> extra; // exactly `bits` bits, so x >= 2
    let secret = DhSecret { x, bits };
    let public = modpow(group.g(), &secret, group.p()).to_vec();
    (secret, public)
}

/// The shared secret from the peer's public value, after the range check; returned as
/// the `mpint` encoding that goes into the exchange hash and the key derivation.
pub fn shared_secret(
    group: &DhGroup,
    secret: &DhSecret,
    peer: &[u8],
) -> Result<Zeroizing<Vec<u8>>, TransportError> {
    if !in_public_range(peer, group.p()) {
        return Err(TransportError::kex(
            "Diffie-Hellman public value outside 2..p-2",
        ));
    }
    let k = modpow(peer, secret, group.p());
    Ok(crate::method::ecdh::mpint_secret(&k))
}

/// The agreement of the fixed-group methods: public values are `mpint`s, `K` an `mpint`.
pub struct FixedGroup {
    group: DhGroup,
    secret: Option<DhSecret>,
}

impl FixedGroup {
    /// An agreement over `group`.
    pub fn new(group: DhGroup) -> Self {
        FixedGroup {
            group,
            secret: None,
        }
    }
}

impl Agreement for FixedGroup {
    fn mpint(&self) -> bool {
        true
    }

    fn client_public(&mut self, rng: &mut dyn CryptoRngCore) -> Result<Vec<u8>, TransportError> {
        // A client that does not know the suites' sizes yet uses the largest.
        let (secret, e) = key_pair(&self.group, 512, rng);
        self.secret = Some(secret);
        Ok(e)
    }

    fn server(
        &mut self,
        e: &[u8],
        ctx: &mut Ctx<'_>,
    ) -> Result<(Vec<u8>, Zeroizing<Vec<u8>>), TransportError> {
        if !in_public_range(e, self.group.p()) {
            return Err(TransportError::kex(
                "Diffie-Hellman public value outside 2..p-2",
            ));
        }
        let (secret, f) = key_pair(&self.group, ctx.need_bits, ctx.rng);
        let k = shared_secret(&self.group, &secret, e)?;
        Ok((f, k))
    }

    fn client_finish(&mut self, f: &[u8]) -> Result<Zeroizing<Vec<u8>>, TransportError> {
        let secret = self.secret.take().ok_or_else(|| {
            TransportError::out_of_sequence(sisu_wire::msg::SSH_MSG_KEX_ECDH_REPLY)
        })?;
        shared_secret(&self.group, &secret, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_core::OsRng;

    #[test]
    fn both_sides_agree_in_every_builtin_group() {
        for group in DhGroup::builtin() {
            let (a, ya) = key_pair(&group, 256, &mut OsRng);
            let (b, yb) = key_pair(&group, 256, &mut OsRng);
            assert!(in_public_range(&ya, group.p()));
            assert_eq!(
                shared_secret(&group, &a, &yb).unwrap(),
                shared_secret(&group, &b, &ya).unwrap()
            );
        }
    }

    #[test]
    fn small_known_answer() {
        // 5^6 mod 23 = 8 (the textbook example).
        let x = DhSecret {
            x: Zeroizing::new(vec![6]),
            bits: 3,
        };
        assert_eq!(&modpow(&[5], &x, &[23])[..], &[8]);
    }

    #[test]
    fn out_of_range_values_are_refused() {
        let group = DhGroup::group14();
        let (x, _) = key_pair(&group, 256, &mut OsRng);
        let mut p_minus_1 = group.p().to_vec();
        *p_minus_1.last_mut().unwrap() -= 1;
        for bad in [
            vec![],
            vec![1],
            p_minus_1,
            group.p().to_vec(),
            vec![0xff; 300],
        ] {
            assert!(shared_secret(&group, &x, &bad).is_err());
        }
    }

    #[test]
    fn exponent_sizes() {
        assert_eq!(exponent_bits(2048, 128), 512);
        assert_eq!(exponent_bits(8192, 512), 1024);
        assert_eq!(exponent_bits(1024, 512), 1023);
    }
}
