//! The authentication policy: who may log in, with which key.
//!
//! The `sisu_userauth` machine asks; this module answers from the user database,
//! `PermitRootLogin`, `PubkeyAuthentication` and the `AuthorizedKeysFile` files (parsed
//! with `sisu_authkeys`).

use super::Endpoints;
use crate::os::{self, UserInfo};
use ssh_key::PublicKey;
use std::collections::HashMap;
use std::path::Path;

/// `PermitRootLogin`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RootLogin {
    /// `yes`.
    Yes,
    /// `prohibit-password` (and `without-password`).
    ProhibitPassword,
    /// `forced-commands-only`.
    ForcedCommandsOnly,
    /// `no`.
    No,
}

/// The settings the policy uses.
#[derive(Clone, Debug)]
pub struct AuthSettings {
    /// `PubkeyAcceptedAlgorithms`, expanded.
    pub pubkey_algorithms: Vec<String>,
    /// `PubkeyAuthentication`.
    pub pubkey_authentication: bool,
    /// `PermitRootLogin`.
    pub permit_root_login: RootLogin,
    /// `AuthorizedKeysFile` entries, tokens not yet expanded.
    pub authorized_keys_files: Vec<String>,
    /// `StrictModes`.
    pub strict_modes: bool,
    /// When the daemon is not root: the only user who can log in.
    pub only_user: Option<String>,
    /// `PermitUserEnvironment`: which `environment=` variables are honoured.
    pub permit_user_environment: UserEnvironment,
}

/// `PermitUserEnvironment`, as the policy needs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UserEnvironment {
    /// `no`: `environment=` options are ignored.
    No,
    /// `yes`: every variable.
    Yes,
    /// Only the variables whose names match this pattern list.
    Patterns(String),
}

impl UserEnvironment {
    fn allows(&self, name: &str) -> bool {
        match self {
            UserEnvironment::No => false,
            UserEnvironment::Yes => true,
            UserEnvironment::Patterns(p) => {
                sisu_daemon::config::match_pattern_list(name, p, false)
                    == sisu_daemon::config::ListMatch::Yes
            }
        }
    }
}

/// What a matching `authorized_keys` line grants.
#[derive(Clone, Debug, Default)]
pub struct Grant {
    /// `command=`: the forced command.
    pub command: Option<String>,
    /// `environment=` (already filtered by `PermitUserEnvironment`).
    pub environment: Vec<(String, String)>,
    /// `no-pty` (or `restrict` without `pty`).
    pub no_pty: bool,
    /// Port forwarding allowed (not `no-port-forwarding`, nor `restrict` alone).
    pub port_forwarding: bool,
    /// `permitopen=` destinations (empty: no restriction).
    pub permitopen: Vec<sisu_authkeys::options::PermitTarget>,
}

/// Answers the authentication machine's questions for one connection.
pub struct Policy {
    settings: AuthSettings,
    ends: Endpoints,
    users: HashMap<String, Option<UserInfo>>,
    per_user: Option<super::PerUser>,
    per_user_cache: HashMap<String, (AuthSettings, super::ChannelSettings)>,
}

/// The key type as OpenSSH prints it in log lines (`ED25519`, `RSA`, `ECDSA`).
pub fn key_type_label(key: &PublicKey) -> &'static str {
    match key.algorithm() {
        ssh_key::Algorithm::Ed25519 => "ED25519",
        ssh_key::Algorithm::Rsa { .. } => "RSA",
        ssh_key::Algorithm::Ecdsa { .. } => "ECDSA",
        ssh_key::Algorithm::Dsa => "DSA",
        ssh_key::Algorithm::SkEd25519 => "ED25519-SK",
        ssh_key::Algorithm::SkEcdsaSha2NistP256 => "ECDSA-SK",
        _ => "UNKNOWN",
    }
}

impl Policy {
    /// A policy for one connection.
    pub fn new(settings: AuthSettings, ends: Endpoints, per_user: Option<super::PerUser>) -> Self {
        Policy {
            settings,
            ends,
            users: HashMap::new(),
            per_user,
            per_user_cache: HashMap::new(),
        }
    }

    /// The settings after `Match` blocks for `user` (or the connection's, without any).
    fn settings_for(&mut self, user: &str) -> AuthSettings {
        let Some(f) = &self.per_user else {
            return self.settings.clone();
        };
        if self.per_user_cache.len() > 16 && !self.per_user_cache.contains_key(user) {
            self.per_user_cache.clear();
        }
        self.per_user_cache
            .entry(user.to_string())
            .or_insert_with(|| f(user))
            .0
            .clone()
    }

    /// The channel settings after `Match` blocks for `user`, when there are any.
    pub fn channel_settings(&mut self, user: &str) -> Option<super::ChannelSettings> {
        self.per_user.as_ref()?;
        self.settings_for(user);
        self.per_user_cache.get(user).map(|(_, c)| c.clone())
    }

    fn peer(&self) -> String {
        format!("{} port {}", self.ends.peer.ip(), self.ends.peer.port())
    }

    /// The user's account, if the user exists and may log in at all.
    pub fn user(&mut self, name: &str) -> Option<UserInfo> {
        if let Some(u) = self.users.get(name) {
            return u.clone();
        }
        let found = if self
            .settings
            .only_user
            .as_deref()
            .is_some_and(|only| only != name)
        {
            None
        } else {
            os::lookup_user(name).ok().flatten()
        };
        if found.is_none() {
            info!("Invalid user {name} from {} [preauth]", self.peer());
        }
        self.users.insert(name.to_string(), found.clone());
        found
    }

    /// Whether the user exists (and may log in here).
    pub fn user_exists(&mut self, name: &str) -> bool {
        self.user(name).is_some()
    }

    /// Whether `key` may authenticate `user`; `verified` is true once the key signed.
    pub fn check_key(&mut self, name: &str, key: &PublicKey, verified: bool) -> Option<Grant> {
        let settings = self.settings_for(name);
        if !settings.pubkey_authentication {
            return None;
        }
        let user = self.user(name)?;
        if user.uid == 0 && settings.permit_root_login == RootLogin::No {
            if verified {
                info!("ROOT LOGIN REFUSED FROM {} [preauth]", self.ends.peer.ip());
            }
            return None;
        }
        let paths = sisu_daemon::config::authorized_keys_paths(
            &settings.authorized_keys_files,
            &user.name,
            user.uid,
            &user.home,
        );
        for path in paths {
            if let Some(g) = self.check_file(&settings, &path, &user, key, verified) {
                if user.uid == 0
                    && settings.permit_root_login == RootLogin::ForcedCommandsOnly
                    && g.command.is_none()
                {
                    return None;
                }
                return Some(g);
            }
        }
        None
    }

    fn check_file(
        &self,
        settings: &AuthSettings,
        path: &Path,
        user: &UserInfo,
        key: &PublicKey,
        verified: bool,
    ) -> Option<Grant> {
        let text = match std::fs::read(path) {
            Ok(t) => t,
            Err(_) => {
                crate::debug!("Could not open authorized keys '{}'", path.display());
                return None;
            }
        };
        if settings.strict_modes {
            if let Err(why) = os::secure_path(path, user.uid, &user.home) {
                info!("Authentication refused: {why}");
                return None;
            }
        }
        let text = String::from_utf8_lossy(&text);
        let file = sisu_authkeys::parse_file(&text);
        let conn = sisu_authkeys::ConnectionInfo {
            client_addr: self.ends.peer.ip(),
            client_host: None,
            now: std::time::SystemTime::now(),
            local_utc_offset: 0,
        };
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
                let r = &a.restrictions;
                Some(Grant {
                    command: r.command.clone(),
                    environment: r
                        .environment
                        .iter()
                        .filter(|(k, _)| settings.permit_user_environment.allows(k))
                        .cloned()
                        .collect(),
                    no_pty: !r.pty,
                    port_forwarding: r.port_forwarding,
                    permitopen: r.permitopen.clone(),
                })
            }
            Err(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn expand_authorized_keys_path(pattern: &str, user: &UserInfo) -> PathBuf {
        let p = sisu_daemon::config::authorized_keys_paths(
            &[pattern.to_string()],
            &user.name,
            user.uid,
            &user.home,
        );
        p.into_iter().next().expect("one path")
    }

    #[test]
    fn token_expansion() {
        let u = UserInfo {
            name: "alice".into(),
            uid: 1001,
            gid: 1001,
            home: "/home/alice".into(),
            shell: "/bin/sh".into(),
            groups: vec![],
        };
        assert_eq!(
            expand_authorized_keys_path(".ssh/authorized_keys", &u),
            PathBuf::from("/home/alice/.ssh/authorized_keys")
        );
        assert_eq!(
            expand_authorized_keys_path("/etc/keys/%u.%U%%", &u),
            PathBuf::from("/etc/keys/alice.1001%")
        );
        assert_eq!(
            expand_authorized_keys_path("%h/k", &u),
            PathBuf::from("/home/alice/k")
        );
    }
}
