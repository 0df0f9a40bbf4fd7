//! [`Rules::check_key`]: a plain key through the `AuthorizedKeysFile` files (and
//! `AuthorizedKeysCommand`), and the checks every key passes first.

use super::{key_is_revoked, key_type_label, log_user_file_error, rsa_bits};
use super::{AuthSettings, RootLogin, Rules};
use crate::os::{self, UserInfo};
use crate::policy::Grant;
use ssh_key::PublicKey;
use std::path::Path;

impl Rules {
    /// Whether `key` may authenticate `user`; `verified` is true once the key signed.
    pub fn check_key(&mut self, name: &str, key: &PublicKey, verified: bool) -> Option<Grant> {
        let settings = self.settings_for(name);
        let user = self.key_may_be_tried(name, key, None, &settings)?;
        let paths = self.authorized_keys_paths(&settings, &user);
        for path in paths {
            if let Some(g) = self.check_file(&settings, &path, &user, key, verified) {
                return self.root_forced_commands_only(&user, &settings, g);
            }
        }
        let blob = key.to_bytes().ok()?;
        let tokens = self.key_tokens(&user, key.algorithm().as_str(), key, &blob, None);
        let text = self.run_command("AuthorizedKeysCommand", &settings.keys_command, &tokens)?;
        let file = sisu_authkeys::parse_file(&text);
        let a = file
            .authorize(key.key_data(), &self.connection_info())
            .ok()?;
        if verified {
            verbose!(
                "AuthorizedKeysCommand line {}: matching key found: {} {}",
                a.line,
                key_type_label(key),
                key.fingerprint(Default::default())
            );
        }
        let g = self.grant_for(&settings, &a.restrictions, &user.name, key)?;
        self.root_forced_commands_only(&user, &settings, g)
    }

    /// The checks every key (and every certificate's key) passes before any file is
    /// read: publickey is on and may be tried now, the user exists and may log in, the
    /// key was not used already, is not revoked, is large enough, and root may log in
    /// with a key. The user's account, when all hold.
    pub(super) fn key_may_be_tried(
        &mut self,
        name: &str,
        key: &PublicKey,
        cert: Option<&sisu_authkeys::Cert>,
        settings: &AuthSettings,
    ) -> Option<UserInfo> {
        if !settings.pubkey_authentication {
            return None;
        }
        let user = self.user(name)?;
        if !self.method_allowed_now(name, "publickey") {
            return None;
        }
        if self.used_keys.iter().any(|k| k == key.key_data()) {
            info!(
                "refusing previously-used {} key [preauth]",
                key_type_label(key)
            );
            return None;
        }
        if let Some(file) = &settings.revoked_keys {
            if key_is_revoked(key, cert, file) {
                return None;
            }
        }
        if rsa_bits(key).is_some_and(|bits| bits < settings.required_rsa_size as usize) {
            info!(
                "refusing {} key: Invalid key length [preauth]",
                key_type_label(key)
            );
            return None;
        }
        if user.uid == 0 && settings.permit_root_login == RootLogin::No {
            // OpenSSH says PK_OK for root's key and refuses the signed request; Sisu
            // refuses the query already (no PK_OK: nothing learnt).
            self.log_root_refusal();
            return None;
        }
        Some(user)
    }

    /// "ROOT LOGIN REFUSED", once a connection (OpenSSH's line).
    pub(super) fn log_root_refusal(&mut self) {
        if !self.root_refusal_logged {
            self.root_refusal_logged = true;
            info!(
                "ROOT LOGIN REFUSED FROM {} port {} [preauth]",
                self.ends.peer_ip(),
                self.ends.peer_port()
            );
        }
    }

    /// The `AuthorizedKeysFile` paths of `user`, tokens expanded.
    pub(super) fn authorized_keys_paths(
        &self,
        settings: &AuthSettings,
        user: &UserInfo,
    ) -> Vec<std::path::PathBuf> {
        crate::config::authorized_keys_paths(
            &settings.authorized_keys_files,
            &user.name,
            user.uid,
            &user.home,
        )
    }

    /// `PermitRootLogin forced-commands-only`: root only with a forced command.
    pub(super) fn root_forced_commands_only(
        &self,
        user: &UserInfo,
        settings: &AuthSettings,
        g: Grant,
    ) -> Option<Grant> {
        if user.uid == 0
            && settings.permit_root_login == RootLogin::ForcedCommandsOnly
            && g.command.is_none()
        {
            return None;
        }
        Some(g)
    }

    /// A path keyword's value with `%h %u %U %%` expanded for `user` (a relative one
    /// is taken from the home directory, as OpenSSH does).
    pub(super) fn expand_path(&self, pattern: &str, user: &UserInfo) -> std::path::PathBuf {
        crate::config::authorized_keys_paths(
            &[pattern.to_string()],
            &user.name,
            user.uid,
            &user.home,
        )
        .into_iter()
        .next()
        .unwrap_or_default()
    }

    /// What the option checks of `sisu_authkeys` need to know of this connection.
    pub(super) fn connection_info(&self) -> sisu_authkeys::ConnectionInfo {
        sisu_authkeys::ConnectionInfo {
            // An unknown address (inetd over a pipe) is taken as 0.0.0.0: it matches
            // what matches any address, as OpenSSH's UNKNOWN does.
            client_addr: self
                .ends
                .peer
                .map_or(std::net::IpAddr::from([0, 0, 0, 0]), |a| a.ip()),
            client_host: None,
            now: std::time::SystemTime::now(),
            local_utc_offset: 0,
        }
    }

    pub(super) fn check_file(
        &self,
        settings: &AuthSettings,
        path: &Path,
        user: &UserInfo,
        key: &PublicKey,
        verified: bool,
    ) -> Option<Grant> {
        let as_user = os::is_root() && user.uid != 0;
        let text = match os::read_user_file(path, user, as_user, settings.strict_modes) {
            Ok(t) => t,
            Err(e) => {
                log_user_file_error(&user.name, "authorized keys", path, &e);
                return None;
            }
        };
        let text = String::from_utf8_lossy(&text);
        let file = sisu_authkeys::parse_file(&text);
        let conn = self.connection_info();
        match file.authorize(key.key_data(), &conn) {
            Ok(a) => {
                if verified {
                    verbose!(
                        "{}:{}: matching key found: {} {}",
                        path.display(),
                        a.line,
                        key_type_label(key),
                        key.fingerprint(Default::default())
                    );
                }
                self.grant_for(settings, &a.restrictions, &user.name, key)
            }
            Err(_) => None,
        }
    }
}
