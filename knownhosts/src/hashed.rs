//! Hashed host names: `|1|base64(salt)|base64(HMAC-SHA1(salt, name))`.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::digest::KeyInit;
use hmac::{Hmac, Mac};
use rand_core::CryptoRngCore;
use sha1::Sha1;
use std::fmt;

/// The `|1|` magic that starts a hashed name.
pub const HASH_MAGIC: &str = "|1|";
/// Salt and digest length (SHA-1).
pub const HASH_LEN: usize = 20;

/// A hashed host name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct HashedName {
    /// The HMAC key.
    pub salt: [u8; HASH_LEN],
    /// HMAC-SHA1 of the name under the salt.
    pub hash: [u8; HASH_LEN],
}

impl HashedName {
    /// Hash `name` (for example `host` or `[host]:2222`) with a fresh salt.
    ///
    /// ```
    /// use sisu_knownhosts::hashed::HashedName;
    /// let mut rng = rand_core::OsRng;
    /// let h = HashedName::new("example.com", &mut rng);
    /// assert!(h.matches("example.com"));
    /// assert!(!h.matches("example.org"));
    /// assert_eq!(HashedName::parse(&h.to_string()), Some(h));
    /// ```
    pub fn new(name: &str, rng: &mut dyn CryptoRngCore) -> HashedName {
        let mut salt = [0u8; HASH_LEN];
        rng.fill_bytes(&mut salt);
        HashedName::with_salt(name, salt)
    }

    /// Hash `name` under a given salt.
    pub fn with_salt(name: &str, salt: [u8; HASH_LEN]) -> HashedName {
        HashedName {
            salt,
            hash: digest(&salt, name),
        }
    }

    /// Parse `|1|salt|hash`. `None` unless both decode to 20 bytes.
    pub fn parse(s: &str) -> Option<HashedName> {
        let rest = s.strip_prefix(HASH_MAGIC)?;
        let (salt, hash) = rest.split_once('|')?;
        if salt.len() > 1024 || hash.len() > 1024 {
            return None;
        }
        let salt: [u8; HASH_LEN] = STANDARD.decode(salt).ok()?.try_into().ok()?;
        let hash: [u8; HASH_LEN] = STANDARD.decode(hash).ok()?.try_into().ok()?;
        Some(HashedName { salt, hash })
    }

    /// Is this the hash of `name`? (Compared exactly, as OpenSSH does: no
    /// lower-casing, no patterns.)
    pub fn matches(&self, name: &str) -> bool {
        let mut mac = keyed(&self.salt);
        mac.update(name.as_bytes());
        mac.verify_slice(&self.hash).is_ok()
    }
}

/// HMAC-SHA1 keyed with `salt`. A key shorter than SHA-1's 64-byte block is used
/// zero-padded to the block (RFC 2104 §2), so the padded key is given directly and no
/// length can be refused.
fn keyed(salt: &[u8; HASH_LEN]) -> Hmac<Sha1> {
    let mut key = hmac::digest::Key::<Hmac<Sha1>>::default();
    key[..HASH_LEN].copy_from_slice(salt);
    <Hmac<Sha1> as KeyInit>::new(&key)
}

fn digest(salt: &[u8; HASH_LEN], name: &str) -> [u8; HASH_LEN] {
    let mut mac = keyed(salt);
    mac.update(name.as_bytes());
    mac.finalize().into_bytes().into()
}

impl fmt::Display for HashedName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{HASH_MAGIC}{}|{}",
            STANDARD.encode(self.salt),
            STANDARD.encode(self.hash)
        )
    }
}
