//! The authentication rules: who may log in, with which key.
//!
//! The monitor asks ([`super::Local`]); this module answers from the user database,
//! `PermitRootLogin`, `PubkeyAuthentication` and the `AuthorizedKeysFile` files (parsed
//! with `sisu_authkeys`).

use super::Grant;
use crate::conn::Endpoints;
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
    /// `RSAAuthentication` (protocol 1's keys).
    pub rsa_authentication: bool,
    /// `PasswordAuthentication`.
    pub password_authentication: bool,
    /// `PermitEmptyPasswords`.
    pub permit_empty_passwords: bool,
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
    /// `AllowUsers`, `DenyUsers`, `AllowGroups`, `DenyGroups`.
    pub access: super::access::AccessLists,
    /// `AuthenticationMethods` (`None`: any one method suffices).
    pub auth_methods: Option<Vec<Vec<String>>>,
    /// `RequiredRSASize`, in bits.
    pub required_rsa_size: u32,
    /// `Banner`: the file sent before authentication.
    pub banner: Option<std::path::PathBuf>,
    /// `RefuseConnection`.
    pub refuse_connection: bool,
    /// `RevokedKeys`: a KRL or a list of public keys.
    pub revoked_keys: Option<std::path::PathBuf>,
    /// `TrustedUserCAKeys`, tokens not yet expanded.
    pub trusted_user_ca_keys: Option<String>,
    /// `AuthorizedPrincipalsFile`, tokens not yet expanded.
    pub authorized_principals_file: Option<String>,
    /// `CASignatureAlgorithms`.
    pub ca_signature_algorithms: Vec<String>,
    /// `AuthorizedKeysCommand` and its `AuthorizedKeysCommandUser`.
    pub keys_command: Option<(String, Option<String>)>,
    /// `AuthorizedPrincipalsCommand` and its `AuthorizedPrincipalsCommandUser`.
    pub principals_command: Option<(String, Option<String>)>,
    /// `HostbasedAuthentication`.
    pub hostbased_authentication: bool,
    /// `HostbasedAcceptedAlgorithms`, expanded.
    pub hostbased_algorithms: Vec<String>,
    /// `HostbasedUsesNameFromPacketOnly`.
    pub hostbased_uses_name_from_packet_only: bool,
    /// `IgnoreRhosts`.
    pub ignore_rhosts: crate::config::IgnoreRhosts,
    /// `IgnoreUserKnownHosts`.
    pub ignore_user_known_hosts: bool,
    /// `PubkeyAuthOptions`: `(touch-required, verify-required)`.
    pub pubkey_auth_options: (bool, bool),
    /// `UsePAM`.
    pub use_pam: bool,
    /// `PAMServiceName`.
    pub pam_service: String,
    /// `KbdInteractiveAuthentication` (only through PAM: without `UsePAM` the method
    /// is not offered).
    pub kbd_interactive: bool,
}

/// Whether an `AuthenticationMethods` entry names `method`: its own name, or
/// `keyboard-interactive:pam` (PAM is Sisu's one keyboard-interactive device).
fn entry_is(entry: &str, method: &str) -> bool {
    entry == method || (method == "keyboard-interactive" && entry == "keyboard-interactive:pam")
}

/// The `RevokedKeys` file, read afresh for each check (as OpenSSH does); `Err` says
/// why it cannot be used.
fn read_revoked(file: &Path) -> Result<sisu_authkeys::RevokedKeys, String> {
    use sisu_authkeys::revoked::{RevokedKeys, MAX_FILE_SIZE};
    let bytes = match std::fs::metadata(file) {
        Ok(m) if m.len() > MAX_FILE_SIZE as u64 => {
            return Err(format!("longer than {MAX_FILE_SIZE} bytes"))
        }
        Ok(_) => std::fs::read(file).map_err(|e| e.to_string())?,
        Err(e) => return Err(e.to_string()),
    };
    RevokedKeys::parse(&bytes).map_err(|e| e.to_string())
}

/// Whether `key` (or, for a certificate, `cert`: by serial, key ID, its certified
/// key or its CA) is revoked by the `RevokedKeys` file. A file that is missing, too
/// large or malformed revokes every key: the administrator asked for a list, and
/// without it no key can be trusted.
pub fn key_is_revoked(key: &PublicKey, cert: Option<&sisu_authkeys::Cert>, file: &Path) -> bool {
    let label = key_label(key, cert.is_some());
    let fp = key.fingerprint(Default::default());
    let list = match read_revoked(file) {
        Ok(l) => l,
        Err(why) => {
            error!(
                "Error checking authentication key {label} {fp} in revoked keys file {}: {why}",
                file.display()
            );
            return true;
        }
    };
    let found = match cert {
        Some(c) => list.check_cert(c),
        None => list.check_key(key.key_data()),
    };
    match found {
        Some(why) => {
            error!(
                "Authentication key {label} {fp} revoked by file {} ({why})",
                file.display()
            );
            true
        }
        None => false,
    }
}

/// Where authentication stands after a method succeeded.
#[derive(Debug)]
pub enum Progress {
    /// Every method of one `AuthenticationMethods` list is done: the user is in, with
    /// these restrictions (those of every key used, combined).
    Complete(Grant),
    /// More methods are required.
    Partial,
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
    /// Whether a variable of this name may come from the user.
    pub fn allows(&self, name: &str) -> bool {
        match self {
            UserEnvironment::No => false,
            UserEnvironment::Yes => true,
            UserEnvironment::Patterns(p) => {
                crate::config::match_pattern_list(name, p, false) == crate::config::ListMatch::Yes
            }
        }
    }
}

/// Most user names whose look-up a connection remembers (the user name is fixed by the
/// first request, so one is the usual number).
const MAX_CACHED_USERS: usize = 16;

/// The rules that decide who logs in, for one connection: the user database,
/// `AllowUsers` and the other access lists, `PermitRootLogin`, `AuthenticationMethods`,
/// `RevokedKeys` and the users' `authorized_keys` files.
pub struct Rules {
    settings: AuthSettings,
    ends: Endpoints,
    users: HashMap<String, Option<UserInfo>>,
    per_user: Option<super::PerUser>,
    per_user_cache: HashMap<String, (AuthSettings, crate::postauth::ChannelSettings)>,
    /// The `AuthenticationMethods` lists still open, once a first method succeeded.
    remaining: Option<Vec<Vec<String>>>,
    /// Keys that already succeeded: a key counts once (`publickey,publickey` needs two).
    used_keys: Vec<ssh_key::public::KeyData>,
    /// The restrictions gathered from the methods that succeeded so far.
    grant: Option<Grant>,
    /// "ROOT LOGIN REFUSED" was logged for this connection.
    root_refusal_logged: bool,
    /// While a security key's verified signature is checked: its flags and counter,
    /// which the matching line's options and `PubkeyAuthOptions` must accept.
    sk_signature: Option<sisu_userauth::publickey::SkDetails>,
}

/// The size of an RSA key's modulus in bits (`None` for other keys).
pub fn rsa_bits(key: &PublicKey) -> Option<usize> {
    let n = key.key_data().rsa()?.n.as_positive_bytes()?;
    let first = *n.first()?;
    Some((n.len() - 1) * 8 + (8 - first.leading_zeros() as usize))
}

/// The key type as OpenSSH prints it in log lines, with `-CERT` for a certificate.
pub fn key_label(key: &PublicKey, certificate: bool) -> String {
    let base = key_type_label(key);
    if certificate {
        format!("{base}-CERT")
    } else {
        base.to_string()
    }
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

impl Rules {
    /// The rules for one connection.
    pub fn new(settings: AuthSettings, ends: Endpoints, per_user: Option<super::PerUser>) -> Self {
        Rules {
            settings,
            ends,
            users: HashMap::new(),
            per_user,
            per_user_cache: HashMap::new(),
            remaining: None,
            used_keys: Vec::new(),
            grant: None,
            root_refusal_logged: false,
            sk_signature: None,
        }
    }

    /// Records that `method` succeeded for `user` (with `key`, for publickey), whose
    /// line granted `grant`, and says whether that completes one
    /// `AuthenticationMethods` list. `Err` is the log line when the keys' restrictions
    /// cannot be combined.
    pub fn method_succeeded(
        &mut self,
        user: &str,
        method: &str,
        key: Option<&PublicKey>,
        grant: Grant,
    ) -> Result<Progress, String> {
        let grant = match self.grant.take() {
            None => grant,
            Some(before) => before
                .merge(grant)
                .ok_or("authorized_keys options of the keys used conflict: two forced commands")?,
        };
        if let Some(key) = key {
            self.used_keys.push(key.key_data().clone());
        }
        let Some(lists) = self.settings_for(user).auth_methods else {
            return Ok(Progress::Complete(grant));
        };
        let remaining = self.remaining.get_or_insert(lists);
        for list in remaining.iter_mut() {
            if list.first().is_some_and(|m| entry_is(m, method)) {
                list.remove(0);
            }
        }
        if remaining.iter().any(Vec::is_empty) {
            return Ok(Progress::Complete(grant));
        }
        self.grant = Some(grant);
        Ok(Progress::Partial)
    }

    /// The methods `user` may try now, in the order SSH_MSG_USERAUTH_FAILURE lists them
    /// (OpenSSH's: publickey, password): those enabled after `Match` blocks, and with
    /// `AuthenticationMethods` only those that continue a list still open.
    pub fn methods(&mut self, user: &str) -> Vec<sisu_userauth::Method> {
        use sisu_userauth::Method;
        let settings = self.settings_for(user);
        [
            (Method::PublicKey, settings.pubkey_authentication),
            (Method::Password, settings.password_authentication),
            (
                Method::KeyboardInteractive,
                settings.kbd_interactive && settings.use_pam,
            ),
            (Method::Hostbased, settings.hostbased_authentication),
        ]
        .into_iter()
        .filter(|&(m, enabled)| enabled && self.method_allowed_now(user, m.name()))
        .map(|(m, _)| m)
        .collect()
    }

    /// The PAM service for `user` (`PAMServiceName` after `Match` blocks), when
    /// `UsePAM` is on.
    pub fn pam_service(&mut self, user: &str) -> Option<String> {
        let s = self.settings_for(user);
        s.use_pam.then_some(s.pam_service)
    }

    /// Whether `PermitEmptyPasswords` holds for `user`.
    pub fn permit_empty_passwords(&mut self, user: &str) -> bool {
        self.settings_for(user).permit_empty_passwords
    }

    /// Whether keyboard-interactive may authenticate `name`: as
    /// [`Rules::password_account`], for that method (PAM's prompts ask for a password,
    /// so `PermitRootLogin` treats it as one).
    pub fn kbd_account(&mut self, name: &str) -> Option<UserInfo> {
        let settings = self.settings_for(name);
        let on = settings.kbd_interactive && settings.use_pam;
        self.secret_account(name, "keyboard-interactive", on, &settings)
    }

    /// The account of `name` when `method` (a password, or prompts for one) is `on`,
    /// may be tried now, and `PermitRootLogin` lets root in with a password.
    fn secret_account(
        &mut self,
        name: &str,
        method: &str,
        on: bool,
        settings: &AuthSettings,
    ) -> Option<UserInfo> {
        if !on {
            return None;
        }
        let user = self.user(name)?;
        if !self.method_allowed_now(name, method) {
            return None;
        }
        // As OpenSSH's auth_password: refused with no line of its own (the "Failed
        // password" line says it; a ROOT LOGIN REFUSED line would count twice in
        // fail2ban).
        if user.uid == 0 && settings.permit_root_login != RootLogin::Yes {
            return None;
        }
        Some(user)
    }

    /// `HostbasedAcceptedAlgorithms` for `user`, after `Match` blocks.
    pub fn hostbased_algorithms(&mut self, user: &str) -> Vec<String> {
        self.settings_for(user).hostbased_algorithms
    }

    /// `PubkeyAcceptedAlgorithms` for `user`, after `Match` blocks.
    pub fn pubkey_algorithms(&mut self, user: &str) -> Vec<String> {
        self.settings_for(user).pubkey_algorithms
    }

    /// Whether a password may authenticate `name` at all, before it is checked: the
    /// user's account when password authentication is on for them, the method may be
    /// tried now, and `PermitRootLogin` lets root in with a password; `None` otherwise
    /// (the password is then checked against a dummy hash, and fails). The empty
    /// password is refused unless `PermitEmptyPasswords`.
    pub fn password_account(&mut self, name: &str, empty: bool) -> Option<UserInfo> {
        let settings = self.settings_for(name);
        let on = settings.password_authentication && (!empty || settings.permit_empty_passwords);
        self.secret_account(name, "password", on, &settings)
    }

    /// The banner for `user` (after `Match` blocks): the `Banner` file's text, at most
    /// [`sisu_userauth::limits::MAX_BANNER_LEN`] bytes of it; `None` without one or
    /// when it cannot be read (logged).
    pub fn banner(&mut self, user: &str) -> Option<String> {
        use std::io::Read;
        let path = self.settings_for(user).banner?;
        let mut text = Vec::new();
        let read = std::fs::File::open(&path).and_then(|f| {
            f.take(sisu_userauth::limits::MAX_BANNER_LEN as u64)
                .read_to_end(&mut text)
        });
        match read {
            Ok(_) => Some(String::from_utf8_lossy(&text).into_owned()),
            Err(e) => {
                error!("Banner {}: {e}", path.display());
                None
            }
        }
    }

    /// Whether `RefuseConnection` (after `Match` blocks for `user`) ends this
    /// connection; the refusal is logged.
    pub fn refuses_connection(&mut self, user: &str) -> bool {
        if !self.settings_for(user).refuse_connection {
            return false;
        }
        let invalid = if self.user_exists(user) {
            ""
        } else {
            "invalid user "
        };
        info!(
            "administratively prohibited connection for {invalid}{user} from {} port {} [preauth]",
            self.ends.peer_ip(),
            self.ends.peer_port()
        );
        true
    }

    /// Whether `method` may be tried now: it is the next method of some
    /// `AuthenticationMethods` list still open (any method, without the keyword).
    fn method_allowed_now(&mut self, user: &str, method: &str) -> bool {
        let lists = match &self.remaining {
            Some(r) => r.clone(),
            None => match self.settings_for(user).auth_methods {
                None => return true,
                Some(l) => l,
            },
        };
        lists
            .iter()
            .any(|l| l.first().is_some_and(|m| entry_is(m, method)))
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
    pub fn channel_settings(&mut self, user: &str) -> Option<crate::postauth::ChannelSettings> {
        self.per_user.as_ref()?;
        self.settings_for(user);
        self.per_user_cache.get(user).map(|(_, c)| c.clone())
    }

    fn peer(&self) -> String {
        self.ends.peer_desc()
    }

    /// The user's account, if the user exists and may log in at all (see
    /// [`super::access`]); the reason a user may not is logged once.
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
        let allowed = match found {
            None => {
                // The monitor's line, as OpenSSH's: no [preauth].
                info!("Invalid user {name} from {}", self.peer());
                None
            }
            Some(u) => {
                let lists = self.settings_for(name).access;
                match super::access::allowed(&u, &lists, &self.ends.peer_ip()) {
                    Ok(()) => Some(u),
                    Err(why) => {
                        info!("{why} [preauth]");
                        None
                    }
                }
            }
        };
        if self.users.len() >= MAX_CACHED_USERS {
            self.users.clear();
        }
        self.users.insert(name.to_string(), allowed.clone());
        allowed
    }

    /// Whether the user exists (and may log in here).
    pub fn user_exists(&mut self, name: &str) -> bool {
        self.user(name).is_some()
    }
}

/// What the options of a matching line (and a certificate's) grant, with the
/// `environment=` variables `PermitUserEnvironment` lets through.
impl Rules {
    /// Sets (or clears) the security-key signature whose flags the next verified
    /// [`Rules::check_key`] or [`Rules::check_certificate`] must accept.
    pub fn set_sk_signature(&mut self, details: Option<sisu_userauth::publickey::SkDetails>) {
        self.sk_signature = details;
    }

    /// What the matching line `r` grants `user`'s `key`, unless the security-key
    /// signature being checked lacks what the line (`no-touch-required`,
    /// `verify-required`, a certificate's `verify-required`) or `PubkeyAuthOptions`
    /// demands: user presence by default, user verification when asked.
    fn grant_for(
        &self,
        settings: &AuthSettings,
        r: &sisu_authkeys::Restrictions,
        user: &str,
        key: &PublicKey,
    ) -> Option<Grant> {
        if let Some(d) = self.sk_signature {
            let (touch, verify) = settings.pubkey_auth_options;
            let unmet = if (touch || r.touch_required) && !d.user_present() {
                Some("user presence (authenticator touch) requirement not met")
            } else if (verify || r.verify_required) && !d.user_verified() {
                Some("user verification requirement not met")
            } else {
                None
            };
            if let Some(why) = unmet {
                // OpenSSH's line (with its trailing blank).
                error!(
                    "public key {} {} signature for {user} from {} port {} rejected: {why} ",
                    key_type_label(key),
                    key.fingerprint(Default::default()),
                    self.ends.peer_ip(),
                    self.ends.peer_port()
                );
                return None;
            }
        }
        Some(grant_of(settings, r))
    }
}

fn grant_of(settings: &AuthSettings, r: &sisu_authkeys::Restrictions) -> Grant {
    Grant {
        command: r.command.clone(),
        environment: r
            .environment
            .iter()
            .filter(|(k, _)| settings.permit_user_environment.allows(k))
            .cloned()
            .collect(),
        no_pty: !r.pty,
        port_forwarding: r.port_forwarding,
        user_rc: r.user_rc,
        permitopen: r.permitopen.clone(),
        agent_forwarding: r.agent_forwarding,
        x11_forwarding: r.x11_forwarding,
        permitlisten: r.permitlisten.clone(),
        auth_info: Vec::new(),
    }
}

/// A root-owned configuration file, at most [`super::certificates::MAX_FILE_LEN`]
/// bytes.
fn read_bounded(path: &Path) -> std::io::Result<String> {
    let bytes = os::system::read_bounded(path, super::certificates::MAX_FILE_LEN)?;
    String::from_utf8(bytes).map_err(std::io::Error::other)
}

/// Logs why a user's file was not read, in OpenSSH's words: a missing file only at
/// DEBUG1 (it is normal), anything else at INFO.
pub fn log_user_file_error(user: &str, what: &str, path: &Path, e: &os::UserFileError) {
    let p = path.display();
    match e {
        os::UserFileError::Open(io) if io.kind() == std::io::ErrorKind::NotFound => {
            crate::debug!("Could not open {what} '{p}': {io}");
        }
        os::UserFileError::Open(io) => {
            info!("Could not open user '{user}' {what} '{p}': {io} [preauth]");
        }
        os::UserFileError::NotRegular => {
            info!("User {user} {what} {p} is not a regular file [preauth]");
        }
        os::UserFileError::BadModes { .. } => info!("Authentication refused: {e} [preauth]"),
        os::UserFileError::TooLarge | os::UserFileError::Read(_) => {
            info!("User {user} {what} {p} {e} [preauth]");
        }
    }
}

mod certificate;
mod commands;
mod hostbased;
mod keys;
mod rsa1;

#[cfg(test)]
mod tests;
