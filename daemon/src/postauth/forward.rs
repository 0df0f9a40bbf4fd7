//! Local port forwarding (`direct-tcpip`, RFC 4254 §7.2: `ssh -L`, `ssh -W`): who may
//! open which destination, and the connection to it.
//!
//! A destination is allowed when `AllowTcpForwarding` is `yes`/`all`/`local` (and
//! `DisableForwarding` is off), `PermitOpen` lists it (or is `any`), and the
//! `authorized_keys` line that authenticated the user neither says
//! `no-port-forwarding`/`restrict` nor has a `permitopen=` list without it.

use crate::config::PermitOpen;
use sisu_authkeys::options::PermitTarget;
use std::io;
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

/// How long a forwarding connection may take to establish. The session's loop waits
/// for it: other channels of the same connection pause meanwhile (a TODO: connect
/// without blocking).
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The forwarding policy of one session.
#[derive(Clone, Debug)]
pub struct ForwardPolicy {
    /// `AllowTcpForwarding` allows `direct-tcpip` and `DisableForwarding` is off.
    pub local_allowed: bool,
    /// `PermitOpen`.
    pub permit_open: PermitOpen,
}

impl Default for ForwardPolicy {
    fn default() -> Self {
        ForwardPolicy {
            local_allowed: false,
            permit_open: PermitOpen::None,
        }
    }
}

/// Whether `host:port` may be opened, given the key's `port_forwarding` flag and
/// `permitopen=` list (empty: no restriction from the key).
pub fn may_open(
    policy: &ForwardPolicy,
    key_allows_forwarding: bool,
    key_permitopen: &[PermitTarget],
    host: &str,
    port: u16,
) -> bool {
    if !policy.local_allowed || !key_allows_forwarding {
        return false;
    }
    let config_ok = match &policy.permit_open {
        PermitOpen::Any => true,
        PermitOpen::None => false,
        PermitOpen::List(list) => list.iter().any(|t| {
            (t.host == "*" || t.host.eq_ignore_ascii_case(host)) && t.port.is_none_or(|p| p == port)
        }),
    };
    config_ok && (key_permitopen.is_empty() || key_permitopen.iter().any(|t| t.allows(host, port)))
}

/// Connects to `host:port` (names resolved by the system), without Nagle.
pub fn connect(host: &str, port: u16) -> io::Result<TcpStream> {
    let mut last = io::Error::new(io::ErrorKind::NotFound, "no address");
    for addr in (host, port).to_socket_addrs()?.take(8) {
        match TcpStream::connect_timeout(&addr, CONNECT_TIMEOUT) {
            Ok(s) => {
                let _ = s.set_nodelay(true);
                s.set_nonblocking(true)?;
                return Ok(s);
            }
            Err(e) => last = e,
        }
    }
    Err(last)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::PermitOpenTarget;

    #[test]
    fn policy_combines_config_and_key() {
        let any = ForwardPolicy {
            local_allowed: true,
            permit_open: PermitOpen::Any,
        };
        assert!(may_open(&any, true, &[], "127.0.0.1", 80));
        assert!(
            !may_open(&any, false, &[], "127.0.0.1", 80),
            "no-port-forwarding"
        );
        let off = ForwardPolicy {
            local_allowed: false,
            ..any.clone()
        };
        assert!(!may_open(&off, true, &[], "127.0.0.1", 80));
        let list = ForwardPolicy {
            local_allowed: true,
            permit_open: PermitOpen::List(vec![PermitOpenTarget {
                host: "db".into(),
                port: Some(5432),
            }]),
        };
        assert!(may_open(&list, true, &[], "DB", 5432));
        assert!(!may_open(&list, true, &[], "db", 22));
        let key = [PermitTarget::parse("127.0.0.1:8080", false).unwrap()];
        assert!(may_open(&any, true, &key, "127.0.0.1", 8080));
        assert!(!may_open(&any, true, &key, "127.0.0.1", 8081));
    }
}
