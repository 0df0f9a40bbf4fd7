//! The `password` method (RFC 4252 §8): the request's fields, and [`Password`], the
//! secret as it travels to whoever checks it.
//!
//! ```text
//! boolean   FALSE (a login) / TRUE (a password change)
//! string    plaintext password in ISO-10646 UTF-8 encoding
//! string    plaintext new password   (only when TRUE)
//! ```
//!
//! The password is kept as bytes: RFC 4252 says UTF-8, but a password is compared
//! with what crypt(3) stored, byte for byte, and a client on a Latin-1 terminal sends
//! Latin-1. Its length is bounded by [`MAX_PASSWORD_LEN`](crate::limits::MAX_PASSWORD_LEN).

use std::fmt;
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

/// A password a client sent. Its memory is wiped when it is dropped, `Debug` never
/// prints it, and equality compares in constant time.
#[derive(Clone, Default)]
pub struct Password(Zeroizing<Vec<u8>>);

impl Password {
    /// Wraps the bytes of a password.
    pub fn new(bytes: &[u8]) -> Self {
        Password(Zeroizing::new(bytes.to_vec()))
    }

    /// The password's bytes.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }

    /// Whether it is the empty password (which `PermitEmptyPasswords no` refuses).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

impl PartialEq for Password {
    fn eq(&self, other: &Self) -> bool {
        self.0.len() == other.0.len() && bool::from(self.0.ct_eq(&other.0))
    }
}

impl Eq for Password {}

/// The fields of a `password` request, borrowing from the payload.
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordRequest<'a> {
    /// The password.
    pub password: &'a [u8],
    /// The new password, when the boolean was TRUE (a change request, RFC 4252 §8).
    pub new_password: Option<&'a [u8]>,
}

impl fmt::Debug for PasswordRequest<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PasswordRequest")
            .field("password", &"<redacted>")
            .field("change", &self.new_password.is_some())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_password() {
        let p = Password::new(b"hunter2");
        assert!(!format!("{p:?}").contains("hunter2"));
        let r = PasswordRequest {
            password: b"hunter2",
            new_password: Some(b"swordfish"),
        };
        let shown = format!("{r:?}");
        assert!(
            !shown.contains("hunter2") && !shown.contains("swordfish"),
            "{shown}"
        );
    }

    #[test]
    fn equality_is_by_content() {
        assert_eq!(Password::new(b"a"), Password::new(b"a"));
        assert_ne!(Password::new(b"a"), Password::new(b"ab"));
        assert_ne!(Password::new(b"a"), Password::new(b"b"));
        assert!(Password::default().is_empty());
    }
}
