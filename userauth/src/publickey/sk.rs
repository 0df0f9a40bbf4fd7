//! Security keys (FIDO/U2F, OpenSSH's PROTOCOL.u2f): what their signatures carry
//! besides the signature. ssh-key verifies the signature itself, over
//! `SHA-256(application) ‖ flags ‖ counter ‖ SHA-256(message)`; whether the flags are
//! enough (user presence, user verification) is the daemon's policy.

use super::PubkeyAlgorithm;
use sisu_wire::Reader;

/// What a security key's signature says besides the signature (PROTOCOL.u2f): the
/// authenticator's flags and its signature counter. Both are signed over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SkDetails {
    /// The flags byte: [`SkDetails::USER_PRESENCE`], [`SkDetails::USER_VERIFICATION`].
    pub flags: u8,
    /// The authenticator's counter.
    pub counter: u32,
}

impl SkDetails {
    /// The user touched the authenticator (FIDO "user present").
    pub const USER_PRESENCE: u8 = 0x01;
    /// The authenticator verified the user (a PIN or biometrics).
    pub const USER_VERIFICATION: u8 = 0x04;

    /// Whether the user was present (touched the key).
    pub fn user_present(self) -> bool {
        self.flags & Self::USER_PRESENCE != 0
    }

    /// Whether the user was verified.
    pub fn user_verified(self) -> bool {
        self.flags & Self::USER_VERIFICATION != 0
    }
}

/// The flags and counter of a security-key signature blob
/// (`string algorithm, string signature, byte flags, uint32 counter`); `None` for any
/// other signature or a malformed one.
pub fn sk_details(signature_blob: &[u8]) -> Option<SkDetails> {
    let mut r = Reader::new(signature_blob);
    let name = r.utf8().ok()?;
    let alg = PubkeyAlgorithm::from_name(name)?;
    if !alg.is_security_key() {
        return None;
    }
    r.string().ok()?;
    let flags = r.u8().ok()?;
    let counter = r.u32().ok()?;
    r.finish().ok()?;
    Some(SkDetails { flags, counter })
}

impl PubkeyAlgorithm {
    /// Whether this is a security-key (FIDO) algorithm.
    pub fn is_security_key(self) -> bool {
        matches!(
            self,
            PubkeyAlgorithm::SkEd25519 | PubkeyAlgorithm::SkEcdsaSha2Nistp256
        )
    }
}
