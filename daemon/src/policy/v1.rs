//! Protocol 1's questions, answered by [`Local`] in the monitor, which alone holds
//! the host and server keys: the session key (decrypted once per connection), the RSA
//! challenge for a key the user offers, and the check of the client's answer.

use super::{Grant, Local, Progress, Verdict};
use crate::v1::keys::V1Keys;
use rsa::traits::PublicKeyParts;
use ssh_key::PublicKey;
use zeroize::Zeroizing;

/// The challenge sent for the key the user offered, until its answer.
pub(super) struct Challenge {
    challenge: Zeroizing<[u8; 32]>,
    key: PublicKey,
    grant: Grant,
}

/// Protocol 1 state of one connection in the monitor.
#[derive(Default)]
pub(super) struct V1State {
    pub keys: Option<V1Keys>,
    pub session_id: Option<[u8; 16]>,
    pub challenge: Option<Challenge>,
}

impl Local {
    /// Serves protocol 1 with these keys.
    pub fn set_v1_keys(&mut self, keys: V1Keys) {
        self.v1.keys = Some(keys);
    }

    /// The public halves for the pre-auth child: host e, host n, server e, server n.
    pub fn v1_public_keys(&self) -> Vec<Vec<u8>> {
        match &self.v1.keys {
            Some(k) => vec![
                k.host.e().to_bytes_be(),
                k.host.n().to_bytes_be(),
                k.server.e().to_bytes_be(),
                k.server.n().to_bytes_be(),
            ],
            None => Vec::new(),
        }
    }

    /// The session key the client encrypted, for the session `session_id`; `None` when
    /// protocol 1 is not served, the id is malformed, or a key was already given (the
    /// monitor decrypts one per connection, so that it is no decryption oracle).
    pub fn answer_v1_session_key(
        &mut self,
        session_id: &[u8],
        encrypted: &[u8],
    ) -> Option<Zeroizing<[u8; 32]>> {
        let keys = self.v1.keys.as_ref()?;
        if self.v1.session_id.is_some() {
            return None;
        }
        let sid: [u8; 16] = session_id.try_into().ok()?;
        self.v1.session_id = Some(sid);
        Some(crate::v1::crypto::decrypt_session_key(
            &keys.host,
            &keys.server,
            encrypted,
            &sid,
        ))
    }

    /// The user offers the key with `modulus`: a challenge encrypted to it when the
    /// key may log in, else `None`.
    pub fn answer_v1_rsa_key(&mut self, user: &str, modulus: &[u8]) -> Option<Vec<u8>> {
        self.v1.challenge = None;
        if self.user.as_deref() != Some(user)
            || self.authenticated.is_some()
            || self.v1.session_id.is_none()
        {
            return None;
        }
        let (key, grant) = self.rules.check_rsa1_key(user, modulus, false)?;
        let (challenge, encrypted) = crate::v1::crypto::new_challenge(&key)?;
        self.v1.challenge = Some(Challenge {
            challenge,
            key,
            grant,
        });
        Some(encrypted)
    }

    /// The client's answer to the challenge last sent.
    pub fn answer_v1_rsa_response(&mut self, user: &str, response: &[u8]) -> Verdict {
        let Some(c) = self.v1.challenge.take() else {
            return Verdict::Deny;
        };
        let (Some(sid), Ok(got)) = (self.v1.session_id, <[u8; 16]>::try_from(response)) else {
            return Verdict::Deny;
        };
        if self.user.as_deref() != Some(user) || self.authenticated.is_some() {
            return Verdict::Deny;
        }
        if !crate::v1::crypto::response_matches(&c.challenge, &sid, &got) {
            return Verdict::Deny;
        }
        // Logs "matching key found", and the key's grant as it is now.
        let modulus = match c.key.key_data().rsa() {
            Some(k) => k.n.as_positive_bytes().unwrap_or(&[]).to_vec(),
            None => return Verdict::Deny,
        };
        let grant = match self.rules.check_rsa1_key(user, &modulus, true) {
            Some((_, g)) => g,
            None => c.grant,
        };
        match self
            .rules
            .method_succeeded(user, "publickey", Some(&c.key), grant)
        {
            Ok(Progress::Complete(g)) => self.admit(user.to_string(), g),
            // Protocol 1 has no partial success: a second method cannot follow.
            Ok(Progress::Partial) => Verdict::Deny,
            Err(why) => {
                info!("{why} [preauth]");
                Verdict::Deny
            }
        }
    }
}
