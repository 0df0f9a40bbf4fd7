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
    /// Agent forwarding allowed (not `no-agent-forwarding`, nor `restrict` alone).
    pub agent_forwarding: bool,
    /// X11 forwarding allowed (not `no-X11-forwarding`, nor `restrict` alone).
    pub x11_forwarding: bool,
    /// `permitlisten=` addresses for remote forwards (empty: no restriction).
    pub permitlisten: Vec<PermitTarget>,
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
            agent_forwarding: true,
            x11_forwarding: true,
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
        let permitopen = stricter(self.permitopen, other.permitopen);
        let permitlisten = stricter(self.permitlisten, other.permitlisten);
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
            agent_forwarding: self.agent_forwarding && other.agent_forwarding,
            x11_forwarding: self.x11_forwarding && other.x11_forwarding,
            permitlisten,
            auth_info,
        })
    }
}

/// Two keys' target lists: an empty list restricts nothing; when both restrict, only
/// what both allow.
fn stricter(a: Vec<PermitTarget>, b: Vec<PermitTarget>) -> Vec<PermitTarget> {
    match (a.is_empty(), b.is_empty()) {
        (true, _) => b,
        (_, true) => a,
        (false, false) => a.into_iter().filter(|t| b.contains(t)).collect(),
    }
}

fn write_targets(w: &mut Writer, targets: &[PermitTarget]) {
    w.u32(targets.len() as u32);
    for t in targets {
        let port = match &t.port {
            PermitPort::Any => "*".to_string(),
            PermitPort::Number(n) => n.to_string(),
            PermitPort::Service(s) => s.clone(),
        };
        w.str(&format!("{}:{port}", t.host));
    }
}

fn read_targets(r: &mut Reader<'_>, listen: bool) -> Result<Vec<PermitTarget>, String> {
    let bad = |e: sisu_wire::WireError| format!("grant: {e}");
    let n = r.u32().map_err(bad)? as usize;
    if n > MAX_GRANT_ITEMS {
        return Err(format!("grant: {n} targets"));
    }
    let mut out = Vec::with_capacity(n.min(64));
    for _ in 0..n {
        let t = r.utf8().map_err(bad)?;
        out.push(PermitTarget::parse(t, listen).ok_or(format!("grant: bad target {t:?}"))?);
    }
    Ok(out)
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
            .bool(self.user_rc)
            .bool(self.agent_forwarding)
            .bool(self.x11_forwarding);
        write_targets(&mut w, &self.permitopen);
        write_targets(&mut w, &self.permitlisten);
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
        let agent_forwarding = r.bool().map_err(bad)?;
        let x11_forwarding = r.bool().map_err(bad)?;
        let permitopen = read_targets(&mut r, false)?;
        let permitlisten = read_targets(&mut r, true)?;
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
            agent_forwarding,
            x11_forwarding,
            permitlisten,
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
            agent_forwarding: true,
            x11_forwarding: false,
            permitlisten: vec![PermitTarget::parse("localhost:8080", true).unwrap()],
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
