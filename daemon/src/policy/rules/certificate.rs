//! [`Rules::check_certificate`]: a user certificate through `TrustedUserCAKeys`
//! (with `AuthorizedPrincipalsFile` and `AuthorizedPrincipalsCommand`) or a
//! `cert-authority` line (of `authorized_keys` or `AuthorizedKeysCommand`'s output).

use super::{key_type_label, log_user_file_error, read_bounded, AuthSettings, Rules};
use crate::os::{self, UserInfo};
use crate::policy::Grant;
use ssh_key::PublicKey;

impl Rules {
    /// Whether the user certificate `cert` (whose certified key signed, when
    /// `verified`) may authenticate `user`: through `TrustedUserCAKeys` (and
    /// `AuthorizedPrincipalsFile`), else through a `cert-authority` line of the user's
    /// `authorized_keys` (see [`super::certificates`]).
    pub fn check_certificate(
        &mut self,
        name: &str,
        cert: &sisu_authkeys::Cert,
        verified: bool,
    ) -> Option<Grant> {
        use crate::policy::certificates as c;
        let settings = self.settings_for(name);
        let key = PublicKey::new(cert.key.clone(), "");
        let user = self.key_may_be_tried(name, &key, Some(cert), &settings)?;
        if let Some(why) = c::refuse_outright(cert, &settings.ca_signature_algorithms) {
            info!("{why} [preauth]");
            return None;
        }
        let conn = self.connection_info();
        let ca = PublicKey::new(cert.signature_key.clone(), "");
        let ca_desc = format!(
            "{} CA {}",
            key_type_label(&ca),
            ca.fingerprint(Default::default())
        );
        if let Some(pattern) = &settings.trusted_user_ca_keys {
            let path = self.expand_path(pattern, &user);
            let trusted = match read_bounded(&path) {
                Ok(text) => c::ca_listed(&text, cert),
                Err(e) => {
                    info!("Could not open TrustedUserCAKeys {}: {e}", path.display());
                    false
                }
            };
            if trusted {
                let principals = self.principals(&settings, &user, cert);
                match c::authorize_by_trusted_ca(cert, &user.name, principals.as_deref(), &conn) {
                    Some(a) => {
                        if verified {
                            verbose!(
                                "Accepted certificate ID \"{}\" (serial {}) signed by {ca_desc} via {}",
                                cert.key_id,
                                cert.serial,
                                path.display()
                            );
                        }
                        let g = self.grant_for(&settings, &a.restrictions, &user.name, &key)?;
                        return self.root_forced_commands_only(&user, &settings, g);
                    }
                    None => info!(
                        "Certificate ID \"{}\" (serial {}) of {} is not valid for {} here: no principal, \
                         validity or source address allows it [preauth]",
                        cert.key_id, cert.serial, ca_desc, user.name
                    ),
                }
            }
        }
        let paths = self.authorized_keys_paths(&settings, &user);
        for path in paths {
            let as_user = os::is_root() && user.uid != 0;
            let text = match os::read_user_file(&path, &user, as_user, settings.strict_modes) {
                Ok(t) => t,
                Err(e) => {
                    log_user_file_error(&user.name, "authorized keys", &path, &e);
                    continue;
                }
            };
            let file = sisu_authkeys::parse_file(&String::from_utf8_lossy(&text));
            if let Ok(a) = file.authorize_certificate(cert, &user.name, &conn) {
                if verified {
                    verbose!(
                        "{}:{}: matching CA found: {ca_desc}; certificate ID \"{}\" (serial {})",
                        path.display(),
                        a.line,
                        cert.key_id,
                        cert.serial
                    );
                }
                let g = self.grant_for(&settings, &a.restrictions, &user.name, &key)?;
                return self.root_forced_commands_only(&user, &settings, g);
            }
        }
        let tokens = self.key_tokens(&user, &cert.type_name, &key, &cert.blob, Some(cert));
        let text = self.run_command("AuthorizedKeysCommand", &settings.keys_command, &tokens)?;
        let a = sisu_authkeys::parse_file(&text)
            .authorize_certificate(cert, &user.name, &conn)
            .ok()?;
        let g = self.grant_for(&settings, &a.restrictions, &user.name, &key)?;
        self.root_forced_commands_only(&user, &settings, g)
    }

    /// The principals a certificate from a trusted CA may name for `user`: the lines
    /// of `AuthorizedPrincipalsFile` (read as the user) and of what
    /// `AuthorizedPrincipalsCommand` prints; `None` when neither is configured (the
    /// user's name is then the principal).
    fn principals(
        &self,
        settings: &AuthSettings,
        user: &UserInfo,
        cert: &sisu_authkeys::Cert,
    ) -> Option<String> {
        if settings.authorized_principals_file.is_none() && settings.principals_command.is_none() {
            return None;
        }
        let mut text = String::new();
        if let Some(p) = &settings.authorized_principals_file {
            let path = self.expand_path(p, user);
            let as_user = os::is_root() && user.uid != 0;
            match os::read_user_file(&path, user, as_user, settings.strict_modes) {
                Ok(b) => text.push_str(&String::from_utf8_lossy(&b)),
                Err(e) => log_user_file_error(&user.name, "principals", &path, &e),
            }
            text.push('\n');
        }
        let key = PublicKey::new(cert.key.clone(), "");
        let tokens = self.key_tokens(user, &cert.type_name, &key, &cert.blob, Some(cert));
        if let Some(out) = self.run_command(
            "AuthorizedPrincipalsCommand",
            &settings.principals_command,
            &tokens,
        ) {
            text.push_str(&out);
        }
        Some(text)
    }
}
