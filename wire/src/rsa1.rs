//! Protocol-1 RSA public keys as text (`bits exponent modulus`, all decimal), as
//! `authorized_keys` and `known_hosts` both hold them. The decimal conversion is
//! converted with `num-bigint`, bounded to [`MAX_DECIMAL_DIGITS`] digits first.

use num_bigint::BigUint;
use sha2::{Digest, Sha256};
use std::fmt;

/// Largest modulus, in bits (OpenSSH's `SSHBUF_MAX_BIGNUM` × 8).
pub const MAX_RSA1_BITS: u32 = 16384;

/// Most decimal digits in one number (enough for a [`MAX_RSA1_BITS`] value).
pub const MAX_DECIMAL_DIGITS: usize = 4933;

/// A protocol-1 RSA public key.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Rsa1Key {
    /// The bit count the line announces (OpenSSH only warns when it is wrong).
    pub announced_bits: u32,
    /// Public exponent, big-endian, no leading zero bytes.
    pub exponent: Vec<u8>,
    /// Modulus, big-endian, no leading zero bytes.
    pub modulus: Vec<u8>,
}

impl Rsa1Key {
    /// Build from three decimal strings. `None` when a field is not a positive
    /// decimal number within the limits.
    ///
    /// ```
    /// use sisu_wire::rsa1::Rsa1Key;
    /// let k = Rsa1Key::from_decimal("8", "3", "187").unwrap();
    /// assert_eq!(k.modulus, vec![187]);
    /// assert_eq!(k.bits(), 8);
    /// assert_eq!(k.to_string(), "8 3 187");
    /// ```
    pub fn from_decimal(bits: &str, exponent: &str, modulus: &str) -> Option<Rsa1Key> {
        let announced_bits = bits.parse::<u32>().ok().filter(|b| {
            (1..=MAX_RSA1_BITS).contains(b) && bits.bytes().all(|c| c.is_ascii_digit())
        })?;
        let exponent = decimal_to_bytes(exponent)?;
        let modulus = decimal_to_bytes(modulus)?;
        if exponent.is_empty() || modulus.is_empty() || modulus.len() * 8 > MAX_RSA1_BITS as usize {
            return None;
        }
        Some(Rsa1Key {
            announced_bits,
            exponent,
            modulus,
        })
    }

    /// The modulus size in bits, as `ssh-keygen1 -l` prints it.
    pub fn bits(&self) -> u32 {
        match self.modulus.first() {
            None => 0,
            Some(&b) => (self.modulus.len() as u32 - 1) * 8 + (8 - b.leading_zeros()),
        }
    }

    /// The `SHA256:…` fingerprint `ssh-keygen1 -l` prints: SHA-256 over the modulus
    /// bytes followed by the exponent bytes, base64 without padding.
    pub fn fingerprint_sha256(&self) -> String {
        use base64::Engine;
        let mut h = Sha256::new();
        h.update(&self.modulus);
        h.update(&self.exponent);
        let digest = h.finalize();
        format!(
            "SHA256:{}",
            base64::engine::general_purpose::STANDARD_NO_PAD.encode(digest)
        )
    }
}

impl fmt::Display for Rsa1Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} {}",
            self.announced_bits,
            bytes_to_decimal(&self.exponent),
            bytes_to_decimal(&self.modulus)
        )
    }
}

/// Decimal digits to big-endian bytes without leading zeros. `None` for an empty
/// string, a non-digit, or more than [`MAX_DECIMAL_DIGITS`] digits.
pub fn decimal_to_bytes(s: &str) -> Option<Vec<u8>> {
    if s.is_empty() || s.len() > MAX_DECIMAL_DIGITS || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let bytes = BigUint::parse_bytes(s.as_bytes(), 10)?.to_bytes_be();
    // num-bigint writes zero as one zero byte.
    Some(if bytes == [0] { Vec::new() } else { bytes })
}

/// Big-endian bytes to decimal digits ("0" for an empty or all-zero value).
pub fn bytes_to_decimal(bytes: &[u8]) -> String {
    BigUint::from_bytes_be(bytes).to_str_radix(10)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn decimal_known_values() {
        assert_eq!(decimal_to_bytes("0"), Some(vec![]));
        assert_eq!(decimal_to_bytes("65537"), Some(vec![1, 0, 1]));
        assert_eq!(
            decimal_to_bytes("18446744073709551616"),
            Some(vec![1, 0, 0, 0, 0, 0, 0, 0, 0])
        );
        assert_eq!(decimal_to_bytes("12a"), None);
        assert_eq!(decimal_to_bytes(&"9".repeat(MAX_DECIMAL_DIGITS + 1)), None);
        assert_eq!(bytes_to_decimal(&[1, 0, 1]), "65537");
        assert_eq!(bytes_to_decimal(&[]), "0");
    }

    proptest! {
        #[test]
        fn decimal_round_trip(v in proptest::collection::vec(any::<u8>(), 0..300)) {
            let mut trimmed = v.clone();
            let first = trimmed.iter().position(|&b| b != 0).unwrap_or(trimmed.len());
            trimmed.drain(..first);
            prop_assert_eq!(decimal_to_bytes(&bytes_to_decimal(&v)), Some(trimmed));
        }

        #[test]
        fn u128_agrees(n in any::<u128>()) {
            let bytes = decimal_to_bytes(&n.to_string()).unwrap();
            let mut full = [0u8; 16];
            full[16 - bytes.len()..].copy_from_slice(&bytes);
            prop_assert_eq!(u128::from_be_bytes(full), n);
        }
    }
}
