//! [`Rules::check_rsa1_key`]: protocol 1's RSA keys, found by modulus (all that
//! `SSH_CMSG_AUTH_RSA` sends) among the SSH-1 lines (`bits exponent modulus`) of the
//! user's `AuthorizedKeysFile` files, with the same options and checks as SSH-2 keys.

use super::{log_user_file_error, AuthSettings, Rules};
use crate::os;
use crate::policy::Grant;
use sisu_authkeys::EntryKey;
use ssh_key::PublicKey;

/// A protocol 1 key as the SSH-2 rules see it: an `ssh-rsa` public key.
pub fn rsa1_as_public_key(exponent: &[u8], modulus: &[u8]) -> Option<PublicKey> {
    let e = ssh_key::Mpint::from_positive_bytes(exponent).ok()?;
    let n = ssh_key::Mpint::from_positive_bytes(modulus).ok()?;
    let data = ssh_key::public::KeyData::Rsa(ssh_key::public::RsaPublicKey { e, n });
    Some(PublicKey::new(data, ""))
}

impl Rules {
    /// Whether the protocol 1 key with `modulus` may authenticate `name`: its exponent,
    /// the key (as SSH-2 sees it) and what it grants. `verified`: the challenge was
    /// answered (logs "matching key found").
    pub fn check_rsa1_key(
        &mut self,
        name: &str,
        modulus: &[u8],
        verified: bool,
    ) -> Option<(PublicKey, Grant)> {
        let settings = self.settings_for(name);
        // The key checks of SSH-2 apply, with RSAAuthentication for PubkeyAuthentication.
        let settings = AuthSettings {
            pubkey_authentication: settings.rsa_authentication,
            ..settings
        };
        let modulus: Vec<u8> = modulus.iter().copied().skip_while(|&b| b == 0).collect();
        let user = self.user(name)?;
        let conn = self.connection_info();
        for path in self.authorized_keys_paths(&settings, &user) {
            let as_user = os::is_root() && user.uid != 0;
            let text = match os::read_user_file(&path, &user, as_user, settings.strict_modes) {
                Ok(t) => t,
                Err(e) => {
                    log_user_file_error(&user.name, "authorized keys", &path, &e);
                    continue;
                }
            };
            let file = sisu_authkeys::parse_file(&String::from_utf8_lossy(&text));
            let exponent = file.entries.iter().find_map(|fe| match &fe.entry.key {
                EntryKey::Rsa1(k) if k.modulus == modulus => Some(k.exponent.clone()),
                _ => None,
            });
            let Some(exponent) = exponent else { continue };
            let key = rsa1_as_public_key(&exponent, &modulus)?;
            self.key_may_be_tried(name, &key, None, &settings)?;
            let Ok(a) = file.authorize_rsa1(&exponent, &modulus, &conn) else {
                continue;
            };
            if verified {
                verbose!(
                    "{}:{}: matching key found: RSA1 {}",
                    path.display(),
                    a.line,
                    a.fingerprint
                );
            }
            let g = self.grant_for(&settings, &a.restrictions, &user.name, &key)?;
            let g = self.root_forced_commands_only(&user, &settings, g)?;
            return Some((key, g));
        }
        None
    }
}
