//! Running `AuthorizedKeysCommand` and `AuthorizedPrincipalsCommand` for the rules:
//! their `%` tokens and the user they run as (the running itself is
//! [`crate::policy::keys_command`]'s).

use super::Rules;
use crate::os::{self, UserInfo};
use ssh_key::PublicKey;

impl Rules {
    /// The `%` tokens of the key commands for `user` and `key` (with `blob`, its
    /// encoding, and `cert` when it is a certificate).
    pub(super) fn key_tokens(
        &self,
        user: &UserInfo,
        type_name: &str,
        key: &PublicKey,
        blob: &[u8],
        cert: Option<&sisu_authkeys::Cert>,
    ) -> Vec<(char, String)> {
        use base64::Engine;
        let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
        let e = &self.ends;
        let mut t = vec![
            ('u', user.name.clone()),
            ('U', user.uid.to_string()),
            ('h', user.home.display().to_string()),
            ('t', type_name.to_string()),
            ('f', key.fingerprint(Default::default()).to_string()),
            ('k', b64(blob)),
            (
                'C',
                format!(
                    "{} {} {} {}",
                    e.peer_ip(),
                    e.peer_port(),
                    e.local_ip(),
                    e.local_port()
                ),
            ),
            ('D', String::new()),
        ];
        if let Some(c) = cert {
            let ca = PublicKey::new(c.signature_key.clone(), "");
            t.push(('i', c.key_id.clone()));
            t.push(('s', c.serial.to_string()));
            t.push(('T', ca.algorithm().as_str().to_string()));
            t.push(('F', ca.fingerprint(Default::default()).to_string()));
            t.push(('K', b64(&ca.to_bytes().unwrap_or_default())));
        } else {
            for k in ['i', 's', 'T', 'F', 'K'] {
                t.push((k, String::new()));
            }
        }
        t
    }

    /// Runs `AuthorizedKeysCommand` or `AuthorizedPrincipalsCommand` (`what`) with
    /// `tokens`: its output, or `None` (logged) when it is not configured, has no
    /// user to run as, or fails.
    pub(super) fn run_command(
        &self,
        what: &str,
        command: &Option<(String, Option<String>)>,
        tokens: &[(char, String)],
    ) -> Option<String> {
        let (line, run_as) = command.as_ref()?;
        let Some(run_as) = run_as else {
            error!("{what} set without {what}User");
            return None;
        };
        let Ok(Some(runner)) = os::lookup_user(run_as) else {
            error!("{what}User \"{run_as}\" not found");
            return None;
        };
        let tokens: Vec<(char, &str)> = tokens.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let argv = match crate::policy::keys_command::expand_command(line, &tokens) {
            Ok(a) => a,
            Err(e) => {
                error!("{what} \"{line}\": {e}");
                return None;
            }
        };
        crate::debug!("running {what}: {argv:?} as {run_as}");
        let identity = os::Identity {
            groups: runner.groups.clone(),
            gid: runner.gid,
            uid: runner.uid,
        };
        match crate::policy::keys_command::run(&argv, &identity) {
            Ok(out) => Some(String::from_utf8_lossy(&out).into_owned()),
            Err(e) => {
                error!("{what} {e}");
                None
            }
        }
    }
}
