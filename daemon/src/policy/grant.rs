//! What the `authorized_keys` lines of the keys that authenticated a user grant, and
//! its encoding for the post-authentication process.

use sisu_authkeys::options::{PermitPort, PermitTarget};
use sisu_wire::{Reader, Writer};

/// Most `environment=` variables and `permitopen=` targets a grant carries across.
pub const MAX_GRANT_ITEMS: usize = 1024;

/// What a matching `authorized_keys` line grants.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Grant {
    /// `command=`: the forced command.
    pub command: Option<String>,
    /// `environment=` (already filtered by `PermitUserEnvironment`).
    pub environment: Vec<(String, String)>,
    /// `no-pty` (or `restrict` without `pty`).
    pub no_pty: bool,
    /// Port forwarding allowed (not `no-port-forwarding`, nor `restrict` alone).
    pub port_forwarding: bool,
    /// `~/.ssh/rc` may run (not `no-user-rc`, nor `restrict` alone; a certificate's
    /// `permit-user-rc`).
    pub user_rc: bool,
    /// `permitopen=` destinations (empty: no restriction).
    pub permitopen: Vec<PermitTarget>,
    /// What `ExposeAuthInfo` writes to the file `SSH_USER_AUTH` names: one line per
    /// method that succeeded, in order (`publickey TYPE BASE64`, `password`).
    pub auth_info: Vec<String>,
}

impl Grant {
    /// What a method without options grants (a password): no forced command, no
    /// variables, a terminal and port forwarding as the configuration allows; with
    /// `auth_info` as what the method exposes.
    pub fn unrestricted(auth_info: &str) -> Grant {
        Grant {
            port_forwarding: true,
            user_rc: true,
            auth_info: vec![auth_info.to_string()],
            ..Grant::default()
        }
    }

    /// The restrictions of two keys that both authenticated the user: the stricter of
    /// each. Two different forced commands cannot both hold: `None`.
    pub fn merge(self, other: Grant) -> Option<Grant> {
        let command = match (self.command, other.command) {
            (Some(a), Some(b)) if a != b => return None,
            (a, b) => a.or(b),
        };
        let permitopen = match (self.permitopen.is_empty(), other.permitopen.is_empty()) {
            (true, _) => other.permitopen,
            (_, true) => self.permitopen,
            // Both restrict: only what both allow.
            (false, false) => self
                .permitopen
                .into_iter()
                .filter(|t| other.permitopen.contains(t))
                .collect(),
        };
        let mut environment = self.environment;
        environment.extend(other.environment);
        let mut auth_info = self.auth_info;
        auth_info.extend(other.auth_info);
        Some(Grant {
            command,
            environment,
            no_pty: self.no_pty || other.no_pty,
            port_forwarding: self.port_forwarding && other.port_forwarding,
            user_rc: self.user_rc && other.user_rc,
            permitopen,
            auth_info,
        })
    }
}

impl Grant {
    /// The encoding handed to the post-authentication process (sisu-wire types).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut w = Writer::new();
        match &self.command {
            Some(c) => w.bool(true).str(c),
            None => w.bool(false),
        };
        w.u32(self.environment.len() as u32);
        for (k, v) in &self.environment {
            w.str(k).str(v);
        }
        w.bool(self.no_pty)
            .bool(self.port_forwarding)
            .bool(self.user_rc);
        w.u32(self.permitopen.len() as u32);
        for t in &self.permitopen {
            let port = match &t.port {
                PermitPort::Any => "*".to_string(),
                PermitPort::Number(n) => n.to_string(),
                PermitPort::Service(s) => s.clone(),
            };
            w.str(&format!("{}:{port}", t.host));
        }
        w.u32(self.auth_info.len() as u32);
        for line in &self.auth_info {
            w.str(line);
        }
        w.into_vec()
    }

    /// Decodes [`Grant::to_bytes`], as strictly as network input: every field there,
    /// counts bounded, targets valid, nothing after.
    pub fn from_bytes(bytes: &[u8]) -> Result<Grant, String> {
        let bad = |e: sisu_wire::WireError| format!("grant: {e}");
        let mut r = Reader::new(bytes);
        let command = match r.bool().map_err(bad)? {
            true => Some(r.utf8().map_err(bad)?.to_string()),
            false => None,
        };
        let n = r.u32().map_err(bad)? as usize;
        if n > MAX_GRANT_ITEMS {
            return Err(format!("grant: {n} variables"));
        }
        let mut environment = Vec::with_capacity(n.min(64));
        for _ in 0..n {
            let k = r.utf8().map_err(bad)?.to_string();
            let v = r.utf8().map_err(bad)?.to_string();
            environment.push((k, v));
        }
        let no_pty = r.bool().map_err(bad)?;
        let port_forwarding = r.bool().map_err(bad)?;
        let user_rc = r.bool().map_err(bad)?;
        let n = r.u32().map_err(bad)? as usize;
        if n > MAX_GRANT_ITEMS {
            return Err(format!("grant: {n} targets"));
        }
        let mut permitopen = Vec::with_capacity(n.min(64));
        for _ in 0..n {
            let t = r.utf8().map_err(bad)?;
            permitopen
                .push(PermitTarget::parse(t, false).ok_or(format!("grant: bad target {t:?}"))?);
        }
        let n = r.u32().map_err(bad)? as usize;
        if n > MAX_GRANT_ITEMS {
            return Err(format!("grant: {n} methods"));
        }
        let mut auth_info = Vec::with_capacity(n.min(64));
        for _ in 0..n {
            auth_info.push(r.utf8().map_err(bad)?.to_string());
        }
        r.finish().map_err(bad)?;
        Ok(Grant {
            command,
            environment,
            no_pty,
            port_forwarding,
            user_rc,
            permitopen,
            auth_info,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn round_trip_and_strictness() {
        let g = Grant {
            command: Some("internal-sftp".into()),
            environment: vec![("A".into(), "b c".into())],
            no_pty: true,
            port_forwarding: true,
            user_rc: true,
            permitopen: vec![
                PermitTarget::parse("[::1]:22", false).unwrap(),
                PermitTarget::parse("*:*", false).unwrap(),
                PermitTarget::parse("db:postgresql", false).unwrap(),
            ],
            auth_info: vec!["password".into(), "publickey ssh-ed25519 AAAA".into()],
        };
        let bytes = g.to_bytes();
        assert_eq!(Grant::from_bytes(&bytes), Ok(g));
        for n in 0..bytes.len() {
            assert!(Grant::from_bytes(&bytes[..n]).is_err(), "{n}");
        }
        let mut long = bytes.clone();
        long.push(0);
        assert!(Grant::from_bytes(&long).is_err());
        assert_eq!(
            Grant::from_bytes(&Grant::default().to_bytes()),
            Ok(Grant::default())
        );
    }

    proptest! {
        #[test]
        fn garbage_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = Grant::from_bytes(&bytes);
        }
    }
}
