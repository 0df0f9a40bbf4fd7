//! [`Rules::check_hostbased`]: whether a client host vouches for a user (RFC 4252
//! §9), in OpenSSH's order (`auth2-hostbased.c`, `auth-rhosts.c`):
//!
//! 1. `HostbasedAuthentication` is on for the user, the method may be tried now, the
//!    user may log in (root with `PermitRootLogin yes` or `prohibit-password`), the
//!    host key is not revoked.
//! 2. The host's name: its address (Sisu does no reverse look-ups, as OpenSSH with
//!    `UseDNS no`), or with `HostbasedUsesNameFromPacketOnly` the name the client sent
//!    (without its trailing dot). A sent name that differs is logged.
//! 3. The host and client user are trusted: `/etc/hosts.equiv`, then
//!    `/etc/ssh/shosts.equiv` (not for root), then the user's `~/.shosts` and
//!    `~/.rhosts` as `IgnoreRhosts` allows, read as the user, with `StrictModes`
//!    checks of the home directory and of each file ([`super::super::rhosts`]).
//! 4. The host key is known for that name: `/etc/ssh/ssh_known_hosts`, then (unless
//!    `IgnoreUserKnownHosts`) `~/.ssh/known_hosts`, through `sisu-knownhosts`.

use super::{key_is_revoked, key_type_label, AuthSettings, RootLogin, Rules};
use crate::config::IgnoreRhosts;
use crate::os::{self, UserInfo};
use crate::policy::rhosts::{self, Decision};
use crate::policy::Grant;
use sisu_knownhosts::{HostStatus, KnownHosts, LookupKey};
use ssh_key::PublicKey;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

/// The system-wide files, as OpenSSH names them.
const HOSTS_EQUIV: &str = "/etc/hosts.equiv";
const SHOSTS_EQUIV: &str = "/etc/ssh/shosts.equiv";
const SYSTEM_KNOWN_HOSTS: &str = "/etc/ssh/ssh_known_hosts";

impl Rules {
    /// Whether `key` (which signed for `client_user` at `client_host`) may
    /// authenticate `name`: the grant of a method without options, or `None`.
    pub fn check_hostbased(
        &mut self,
        name: &str,
        client_host: &str,
        client_user: &str,
        key: &PublicKey,
    ) -> Option<Grant> {
        let settings = self.settings_for(name);
        if !settings.hostbased_authentication {
            return None;
        }
        let user = self.user(name)?;
        if !self.method_allowed_now(name, "hostbased") {
            return None;
        }
        // PermitRootLogin: hostbased is no password, and carries no forced command.
        if user.uid == 0
            && !matches!(
                settings.permit_root_login,
                RootLogin::Yes | RootLogin::ProhibitPassword
            )
        {
            self.log_root_refusal();
            return None;
        }
        if let Some(file) = &settings.revoked_keys {
            if key_is_revoked(key, None, file) {
                return None;
            }
        }
        let chost = client_host.strip_suffix('.').unwrap_or(client_host);
        let ipaddr = self.ends.peer_ip();
        // The host's name: with no reverse look-ups, its address.
        let lookup = if settings.hostbased_uses_name_from_packet_only {
            chost.to_string()
        } else {
            if !chost.eq_ignore_ascii_case(&ipaddr) {
                info!(
                    "userauth_hostbased mismatch: client sends {chost}, but we resolve {ipaddr} to {ipaddr} [preauth]"
                );
            }
            ipaddr
        };
        if !self.rhosts_allow(&settings, &user, client_user, &lookup, &lookup) {
            return None;
        }
        if !self.host_key_known(&settings, &user, &lookup, key) {
            return None;
        }
        Some(Grant::unrestricted("hostbased"))
    }

    /// Step 3 of the module docs.
    fn rhosts_allow(
        &self,
        settings: &AuthSettings,
        user: &UserInfo,
        client_user: &str,
        hostname: &str,
        ipaddr: &str,
    ) -> bool {
        let decide = |text: &str| rhosts::check(text, hostname, ipaddr, client_user, &user.name);
        if user.uid != 0 {
            for file in [HOSTS_EQUIV, SHOSTS_EQUIV] {
                let Ok(text) = std::fs::read(file) else {
                    continue;
                };
                match decide(&String::from_utf8_lossy(&text)) {
                    Decision::Allow => return true,
                    Decision::Deny => return false,
                    Decision::NoMatch => {}
                }
            }
        }
        let files: &[&str] = match settings.ignore_rhosts {
            IgnoreRhosts::Yes => &[],
            IgnoreRhosts::ShostsOnly => &[".shosts"],
            IgnoreRhosts::No => &[".shosts", ".rhosts"],
        };
        if files.is_empty() {
            return false;
        }
        if settings.strict_modes {
            match std::fs::metadata(&user.home) {
                Ok(m) if (m.uid() == 0 || m.uid() == user.uid) && m.mode() & 0o022 == 0 => {}
                Ok(_) => {
                    info!(
                        "Rhosts authentication refused for {}: bad ownership or modes for home directory. [preauth]",
                        user.name
                    );
                    return false;
                }
                Err(_) => {
                    info!(
                        "Rhosts authentication refused for {}: no home directory {} [preauth]",
                        user.name,
                        user.home.display()
                    );
                    return false;
                }
            }
        }
        let as_user = os::is_root() && user.uid != 0;
        for f in files {
            let path = user.home.join(f);
            // Read as the user, without following a final link, owner and modes
            // checked on the open file (StrictModes), as authorized_keys is.
            let Ok(text) = os::read_user_file(&path, user, as_user, settings.strict_modes) else {
                continue;
            };
            match decide(&String::from_utf8_lossy(&text)) {
                Decision::Allow => return true,
                Decision::Deny => return false,
                Decision::NoMatch => {}
            }
        }
        false
    }

    /// Step 4 of the module docs.
    fn host_key_known(
        &self,
        settings: &AuthSettings,
        user: &UserInfo,
        host: &str,
        key: &PublicKey,
    ) -> bool {
        let mut texts = Vec::new();
        if let Ok(t) = os::system::read_bounded(Path::new(SYSTEM_KNOWN_HOSTS), 4 << 20) {
            texts.push((SYSTEM_KNOWN_HOSTS.to_string(), t));
        }
        if !settings.ignore_user_known_hosts {
            let path = user.home.join(".ssh/known_hosts");
            let as_user = os::is_root() && user.uid != 0;
            if let Ok(t) = os::read_user_file(&path, user, as_user, settings.strict_modes) {
                texts.push((path.display().to_string(), t));
            }
        }
        for (path, text) in texts {
            let kh = KnownHosts::parse_bytes(&text);
            match kh.lookup(host, 22, LookupKey::Plain(key.key_data())) {
                HostStatus::Match { line } => {
                    verbose!(
                        "Accepted {} {} for host {host} found at {path}:{line}",
                        key_type_label(key),
                        key.fingerprint(Default::default())
                    );
                    return true;
                }
                HostStatus::Revoked { line } => {
                    info!(
                        "{} host key for {host} is revoked at {path}:{line} [preauth]",
                        key_type_label(key)
                    );
                    return false;
                }
                HostStatus::Mismatch { .. } | HostStatus::Unknown => {}
            }
        }
        verbose!(
            "{} host key for {host} not found in the known hosts files [preauth]",
            key_type_label(key)
        );
        false
    }
}
