//! Sockets the post-auth child listens on for the client: remote forwards
//! (`tcpip-forward`, `streamlocal-forward@openssh.com`), the forwarded agent's socket
//! and X11 displays. This module owns who may bind what, where (GatewayPorts), and the
//! binding itself; the child runs as the user, so every socket is the user's.

use super::forward::ForwardPolicy;
use crate::config::{GatewayPorts, PermitOpen};
use nix::sys::socket::{
    bind, listen, setsockopt, socket, sockopt, AddressFamily, Backlog, SockFlag, SockType,
    SockaddrStorage,
};
use sisu_authkeys::options::{PermitPort, PermitTarget};
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, ToSocketAddrs};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};

/// Most listening sockets (remote forwards, agent, X11) on one connection.
pub const MAX_LISTENERS: usize = 64;
/// Connections taken from one listening socket per wake-up of the loop.
pub const ACCEPTS_PER_WAKEUP: usize = 16;
/// The `listen` backlog (OpenSSH's `SSH_LISTEN_BACKLOG`).
const BACKLOG: i32 = 128;
/// Below this port only root may bind (`IPPORT_RESERVED`).
const RESERVED_PORTS: u32 = 1024;

/// Where a `tcpip-forward` is bound, after `GatewayPorts`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BindTo {
    /// Every address (`0.0.0.0` and `::`).
    Wildcard,
    /// The loopback addresses (`127.0.0.1` and `::1`).
    Loopback,
    /// The address (or name) the client gave.
    Host(String),
}

/// Where the address a client asked for is bound, as OpenSSH's sshd decides it:
/// with `GatewayPorts no` only loopback (an explicit `127.0.0.1` or `::1` is kept),
/// with `yes` every address, with `clientspecified` what the client asked for (empty
/// or `*` for every address, `localhost` for the loopback addresses).
pub fn bind_to(gateway: GatewayPorts, requested: &str) -> BindTo {
    let explicit_loopback = requested == "127.0.0.1" || requested == "::1";
    match gateway {
        GatewayPorts::No if explicit_loopback => BindTo::Host(requested.to_string()),
        GatewayPorts::No => BindTo::Loopback,
        GatewayPorts::Yes => BindTo::Wildcard,
        GatewayPorts::ClientSpecified => match requested {
            "" | "*" => BindTo::Wildcard,
            "localhost" => BindTo::Loopback,
            other => BindTo::Host(other.to_string()),
        },
    }
}

/// Whether `host` matches a `PermitListen` / `permitlisten=` target: host patterns
/// compare case-insensitively, `*` as a port is any port.
fn listen_target_allows(t_host: &str, t_port: Option<u32>, host: &str, port: u32) -> bool {
    t_port.is_none_or(|p| p == port)
        && sisu_wire::pattern::match_pattern(&host.to_ascii_lowercase(), t_host)
}

fn key_target_port(t: &PermitTarget) -> Option<Option<u32>> {
    match &t.port {
        PermitPort::Any => Some(None),
        PermitPort::Number(n) => Some(Some(u32::from(*n))),
        PermitPort::Service(_) => None,
    }
}

/// Whether a `tcpip-forward` for `host:port` may be set up: `AllowTcpForwarding`
/// (remote or all), `DisableForwarding` off, the key allows port forwarding, port 0
/// only with a reply to name the port, privileged ports only for root, and both
/// `PermitListen` and the key's `permitlisten=` allow it.
pub fn may_listen(
    policy: &ForwardPolicy,
    key_allows_forwarding: bool,
    key_permitlisten: &[PermitTarget],
    request: (&str, u32, bool),
    uid: u32,
) -> bool {
    let (host, port, want_reply) = request;
    if !policy.remote_allowed || !key_allows_forwarding || port > 65535 {
        return false;
    }
    if (port == 0 && !want_reply) || (port != 0 && port < RESERVED_PORTS && uid != 0) {
        return false;
    }
    let config_ok = match &policy.permit_listen {
        PermitOpen::Any => true,
        PermitOpen::None => false,
        PermitOpen::List(list) => list
            .iter()
            .any(|t| listen_target_allows(&t.host, t.port.map(u32::from), host, port)),
    };
    let key_ok = key_permitlisten.is_empty()
        || key_permitlisten.iter().any(|t| {
            key_target_port(t).is_some_and(|p| listen_target_allows(&t.host, p, host, port))
        });
    config_ok && key_ok
}

/// Binds `port` (0: one the kernel picks, then the same one for every address) on
/// the addresses of `to`; at least one must take it. Non-blocking listeners, and the
/// port bound.
pub fn bind_tcp(to: &BindTo, port: u16) -> io::Result<(Vec<TcpListener>, u16)> {
    let addrs: Vec<IpAddr> = match to {
        BindTo::Wildcard => vec![Ipv4Addr::UNSPECIFIED.into(), Ipv6Addr::UNSPECIFIED.into()],
        BindTo::Loopback => vec![Ipv4Addr::LOCALHOST.into(), Ipv6Addr::LOCALHOST.into()],
        BindTo::Host(h) => match h.parse::<IpAddr>() {
            Ok(ip) => vec![ip],
            // A name: resolved here, as sshd does (GatewayPorts clientspecified only).
            Err(_) => (h.as_str(), 0)
                .to_socket_addrs()?
                .map(|a| a.ip())
                .take(8)
                .collect(),
        },
    };
    let mut port = port;
    let mut out = Vec::new();
    let mut last = io::Error::new(io::ErrorKind::AddrNotAvailable, "no address to bind");
    for ip in addrs {
        match bind_one(SocketAddr::new(ip, port)) {
            Ok(l) => {
                if port == 0 {
                    port = l.local_addr()?.port();
                }
                out.push(l);
            }
            Err(e) => last = e,
        }
    }
    if out.is_empty() {
        return Err(last);
    }
    Ok((out, port))
}

fn bind_one(addr: SocketAddr) -> io::Result<TcpListener> {
    let family = if addr.is_ipv4() {
        AddressFamily::Inet
    } else {
        AddressFamily::Inet6
    };
    let fd: OwnedFd = socket(
        family,
        SockType::Stream,
        SockFlag::SOCK_NONBLOCK | SockFlag::SOCK_CLOEXEC,
        None,
    )?;
    setsockopt(&fd, sockopt::ReuseAddr, &true)?;
    if addr.is_ipv6() {
        setsockopt(&fd, sockopt::Ipv6V6Only, &true)?;
    }
    bind(fd.as_raw_fd(), &SockaddrStorage::from(addr))?;
    listen(&fd, Backlog::new(BACKLOG).map_err(io::Error::from)?)?;
    Ok(TcpListener::from(fd))
}

/// A Unix socket we bound, removed again when it is dropped (if the file there is
/// still the one we made).
pub struct BoundUnix {
    /// The listening socket (non-blocking).
    pub listener: UnixListener,
    path: PathBuf,
    id: (u64, u64),
}

impl BoundUnix {
    /// Binds `path` with `mask` as the umask (`StreamLocalBindMask`); with `unlink`
    /// (`StreamLocalBindUnlink`) an existing socket file there is removed first.
    pub fn bind(path: &Path, mask: u32, unlink: bool) -> io::Result<BoundUnix> {
        if unlink {
            if let Ok(m) = std::fs::symlink_metadata(path) {
                if m.file_type().is_socket() {
                    let _ = std::fs::remove_file(path);
                }
            }
        }
        let old = nix::sys::stat::umask(nix::sys::stat::Mode::from_bits_truncate(mask));
        let bound = UnixListener::bind(path);
        nix::sys::stat::umask(old);
        let listener = bound?;
        listener.set_nonblocking(true)?;
        let m = std::fs::symlink_metadata(path)?;
        Ok(BoundUnix {
            listener,
            path: path.to_path_buf(),
            id: (m.dev(), m.ino()),
        })
    }

    /// The socket's path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for BoundUnix {
    fn drop(&mut self) {
        if let Ok(m) = std::fs::symlink_metadata(&self.path) {
            if (m.dev(), m.ino()) == self.id {
                let _ = std::fs::remove_file(&self.path);
            }
        }
    }
}

/// The forwarded agent's socket: `agent.PID` in a fresh `/tmp/ssh-XXXXXXXXXX` that
/// only the user may enter (mode 0700), both removed when dropped.
pub struct AgentSocket {
    /// The socket.
    pub socket: BoundUnix,
    dir: PathBuf,
}

impl AgentSocket {
    /// Makes the directory and binds the socket in it.
    pub fn create() -> io::Result<AgentSocket> {
        let dir = nix::unistd::mkdtemp("/tmp/ssh-XXXXXXXXXX")?;
        let path = dir.join(format!("agent.{}", std::process::id()));
        match BoundUnix::bind(&path, 0o177, false) {
            Ok(socket) => Ok(AgentSocket { socket, dir }),
            Err(e) => {
                let _ = std::fs::remove_dir(&dir);
                Err(e)
            }
        }
    }

    /// The value of `SSH_AUTH_SOCK`.
    pub fn path(&self) -> &Path {
        self.socket.path()
    }
}

impl Drop for AgentSocket {
    fn drop(&mut self) {
        // The socket goes first (BoundUnix's drop runs after this body: remove it now).
        let _ = std::fs::remove_file(self.socket.path());
        let _ = std::fs::remove_dir(&self.dir);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::PermitOpenTarget;

    fn policy(permit_listen: PermitOpen) -> ForwardPolicy {
        ForwardPolicy {
            remote_allowed: true,
            permit_listen,
            ..ForwardPolicy::default()
        }
    }

    #[test]
    fn gateway_ports_decides_the_address() {
        use GatewayPorts::*;
        assert_eq!(bind_to(No, "0.0.0.0"), BindTo::Loopback);
        assert_eq!(bind_to(No, ""), BindTo::Loopback);
        assert_eq!(bind_to(No, "localhost"), BindTo::Loopback);
        assert_eq!(bind_to(No, "::1"), BindTo::Host("::1".into()));
        assert_eq!(bind_to(No, "127.0.0.1"), BindTo::Host("127.0.0.1".into()));
        assert_eq!(bind_to(Yes, "127.0.0.1"), BindTo::Wildcard);
        assert_eq!(bind_to(Yes, "localhost"), BindTo::Wildcard);
        assert_eq!(bind_to(ClientSpecified, ""), BindTo::Wildcard);
        assert_eq!(bind_to(ClientSpecified, "*"), BindTo::Wildcard);
        assert_eq!(bind_to(ClientSpecified, "localhost"), BindTo::Loopback);
        assert_eq!(
            bind_to(ClientSpecified, "192.0.2.1"),
            BindTo::Host("192.0.2.1".into())
        );
    }

    #[test]
    fn who_may_listen_where() {
        let any = policy(PermitOpen::Any);
        assert!(may_listen(&any, true, &[], ("localhost", 8080, true), 1000));
        assert!(
            !may_listen(&any, false, &[], ("localhost", 8080, true), 1000),
            "key"
        );
        assert!(
            !may_listen(&any, true, &[], ("localhost", 80, true), 1000),
            "privileged"
        );
        assert!(
            may_listen(&any, true, &[], ("localhost", 80, true), 0),
            "root"
        );
        assert!(may_listen(&any, true, &[], ("localhost", 0, true), 1000));
        assert!(
            !may_listen(&any, true, &[], ("localhost", 0, false), 1000),
            "no reply"
        );
        assert!(!may_listen(&any, true, &[], ("localhost", 70000, true), 0));
        let off = ForwardPolicy {
            remote_allowed: false,
            ..any.clone()
        };
        assert!(!may_listen(&off, true, &[], ("localhost", 8080, true), 0));
        assert!(!may_listen(
            &policy(PermitOpen::None),
            true,
            &[],
            ("x", 8080, true),
            0
        ));
        let list = policy(PermitOpen::List(vec![
            PermitOpenTarget {
                host: "*".into(),
                port: Some(8080),
            },
            PermitOpenTarget {
                host: "127.0.0.*".into(),
                port: None,
            },
        ]));
        assert!(may_listen(
            &list,
            true,
            &[],
            ("LocalHost", 8080, true),
            1000
        ));
        assert!(!may_listen(
            &list,
            true,
            &[],
            ("localhost", 8081, true),
            1000
        ));
        assert!(may_listen(
            &list,
            true,
            &[],
            ("127.0.0.1", 9999, true),
            1000
        ));
        let key = [PermitTarget::parse("localhost:9000", true).unwrap()];
        assert!(may_listen(
            &any,
            true,
            &key,
            ("localhost", 9000, true),
            1000
        ));
        assert!(!may_listen(
            &any,
            true,
            &key,
            ("localhost", 9001, true),
            1000
        ));
        assert!(!may_listen(&any, true, &key, ("localhost", 0, true), 1000));
    }

    #[test]
    fn port_zero_gets_one_port_for_every_address() {
        let (ls, port) = bind_tcp(&BindTo::Loopback, 0).unwrap();
        assert!(port != 0);
        assert!(!ls.is_empty());
        for l in &ls {
            assert_eq!(l.local_addr().unwrap().port(), port);
            assert!(l.local_addr().unwrap().ip().is_loopback());
        }
        // The port is taken now: binding it again fails.
        assert!(bind_tcp(&BindTo::Host("127.0.0.1".into()), port).is_err());
    }

    #[test]
    fn unix_sockets_are_removed_with_their_owner() {
        let dir = std::env::temp_dir().join(format!("sisu-listen-{}", std::process::id()));
        let _ = std::fs::create_dir(&dir);
        let path = dir.join("s");
        let b = BoundUnix::bind(&path, 0o177, false).unwrap();
        let mode = std::fs::metadata(&path).unwrap().mode() & 0o777;
        assert_eq!(mode, 0o600, "StreamLocalBindMask 0177");
        assert!(BoundUnix::bind(&path, 0o177, false).is_err(), "in use");
        drop(b);
        assert!(!path.exists());
        // A stale socket file is replaced only with StreamLocalBindUnlink.
        let stale = UnixListener::bind(&path).unwrap();
        drop(stale);
        assert!(BoundUnix::bind(&path, 0o177, false).is_err());
        let b = BoundUnix::bind(&path, 0o077, true).unwrap();
        drop(b);
        let a = AgentSocket::create().unwrap();
        let p = a.path().to_path_buf();
        let dmode = std::fs::metadata(p.parent().unwrap()).unwrap().mode() & 0o777;
        assert_eq!(dmode, 0o700);
        drop(a);
        assert!(!p.parent().unwrap().exists());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
