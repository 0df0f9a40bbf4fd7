//! Local port forwarding (`direct-tcpip`, RFC 4254 §7.2: `ssh -L`, `ssh -W`): who may
//! open which destination, and the connection to it.
//!
//! A destination is allowed when `AllowTcpForwarding` is `yes`/`all`/`local` (and
//! `DisableForwarding` is off), `PermitOpen` lists it (or is `any`), and the
//! `authorized_keys` line that authenticated the user neither says
//! `no-port-forwarding`/`restrict` nor has a `permitopen=` list without it.

use crate::config::{GatewayPorts, PermitOpen};
use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::sys::socket::{
    connect, getsockopt, socket, sockopt, AddressFamily, SockFlag, SockType, SockaddrStorage,
};
use sisu_authkeys::options::PermitTarget;
use std::io;
use std::net::{IpAddr, SocketAddr, TcpStream, ToSocketAddrs};
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// How long a forwarding connection may take to establish, name resolution included.
/// Meanwhile the session's other channels go on: nothing here blocks the loop.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Addresses of one name tried in turn, at most.
pub const MAX_ADDRESSES: usize = 8;

/// The forwarding policy of one session.
#[derive(Clone, Debug)]
pub struct ForwardPolicy {
    /// `AllowTcpForwarding` allows `direct-tcpip` and `DisableForwarding` is off.
    pub local_allowed: bool,
    /// `PermitOpen`.
    pub permit_open: PermitOpen,
    /// `AllowTcpForwarding` allows `tcpip-forward` and `DisableForwarding` is off.
    pub remote_allowed: bool,
    /// `PermitListen`.
    pub permit_listen: PermitOpen,
    /// `GatewayPorts`.
    pub gateway_ports: GatewayPorts,
    /// `AllowStreamLocalForwarding` allows `direct-streamlocal@openssh.com` (and
    /// `DisableForwarding` is off).
    pub streamlocal_local: bool,
    /// `AllowStreamLocalForwarding` allows `streamlocal-forward@openssh.com`.
    pub streamlocal_remote: bool,
    /// `StreamLocalBindMask`.
    pub streamlocal_bind_mask: u32,
    /// `StreamLocalBindUnlink`.
    pub streamlocal_bind_unlink: bool,
    /// `AllowAgentForwarding` and `DisableForwarding` is off.
    pub agent_allowed: bool,
}

impl Default for ForwardPolicy {
    /// Nothing allowed.
    fn default() -> Self {
        ForwardPolicy {
            local_allowed: false,
            permit_open: PermitOpen::None,
            remote_allowed: false,
            permit_listen: PermitOpen::None,
            gateway_ports: GatewayPorts::No,
            streamlocal_local: false,
            streamlocal_remote: false,
            streamlocal_bind_mask: 0o177,
            streamlocal_bind_unlink: false,
            agent_allowed: false,
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

/// A connection being opened for a `direct-tcpip` channel, without blocking the loop:
/// a name is resolved on a thread of its own (the system resolver blocks), then each
/// address is tried with a non-blocking `connect`, all within [`CONNECT_TIMEOUT`].
///
/// Call [`Connecting::interest`] for what to poll, [`Connecting::advance`] when it is
/// ready (or the deadline passed), until it says `Connected` or `Failed`.
pub struct Connecting {
    deadline: Instant,
    stage: Stage,
}

enum Stage {
    /// The resolver thread answers on `answer` and wakes the loop through `wake`.
    Resolving {
        answer: mpsc::Receiver<io::Result<Vec<SocketAddr>>>,
        wake: OwnedFd,
    },
    /// `socket` is connecting to one address; `rest` are the next ones.
    Connecting {
        socket: OwnedFd,
        rest: Vec<SocketAddr>,
    },
    Done,
}

/// Where a [`Connecting`] is.
pub enum Progress {
    /// Not yet: poll [`Connecting::interest`] again.
    Pending,
    /// Connected, non-blocking, without Nagle.
    Connected(TcpStream),
    /// No address could be connected to, or the time ran out.
    Failed(io::Error),
}

impl Connecting {
    /// Starts opening `host:port`. A literal address skips the resolver.
    pub fn start(host: &str, port: u16, now: Instant) -> io::Result<Connecting> {
        let deadline = now + CONNECT_TIMEOUT;
        if let Ok(ip) = host.parse::<IpAddr>() {
            let mut c = Connecting {
                deadline,
                stage: Stage::Done,
            };
            c.stage = c.next_address(vec![SocketAddr::new(ip, port)])?;
            return Ok(c);
        }
        let (wake, wake_w) = nix::unistd::pipe2(OFlag::O_CLOEXEC | OFlag::O_NONBLOCK)?;
        let (tx, answer) = mpsc::channel();
        let name = host.to_string();
        std::thread::Builder::new()
            .name("resolve".into())
            .spawn(move || {
                let r = (name.as_str(), port)
                    .to_socket_addrs()
                    .map(|a| a.take(MAX_ADDRESSES).collect());
                let _ = tx.send(r);
                // The loop may have given up on this connection: then nobody reads.
                let _ = nix::unistd::write(&wake_w, b"r");
            })?;
        Ok(Connecting {
            deadline,
            stage: Stage::Resolving { answer, wake },
        })
    }

    /// The descriptor to poll and whether for reading (`false`: for writing), and the
    /// deadline to wake at.
    pub fn interest(&self) -> (Option<(RawFd, bool)>, Instant) {
        let fd = match &self.stage {
            Stage::Resolving { wake, .. } => Some((wake.as_raw_fd(), true)),
            Stage::Connecting { socket, .. } => Some((socket.as_raw_fd(), false)),
            Stage::Done => None,
        };
        (fd, self.deadline)
    }

    /// Moves on after readiness or at the deadline.
    pub fn advance(&mut self, now: Instant) -> Progress {
        if now >= self.deadline {
            self.stage = Stage::Done;
            return Progress::Failed(io::Error::new(
                io::ErrorKind::TimedOut,
                "Connection timed out",
            ));
        }
        let stage = std::mem::replace(&mut self.stage, Stage::Done);
        let next = match stage {
            Stage::Resolving { answer, wake } => match answer.try_recv() {
                Ok(Ok(addrs)) if addrs.is_empty() => {
                    Err(io::Error::new(io::ErrorKind::NotFound, "no address"))
                }
                Ok(Ok(addrs)) => self.next_address(addrs),
                Ok(Err(e)) => Err(e),
                Err(mpsc::TryRecvError::Empty) => Ok(Stage::Resolving { answer, wake }),
                Err(mpsc::TryRecvError::Disconnected) => {
                    Err(io::Error::other("the resolver ended without an answer"))
                }
            },
            Stage::Connecting { socket, rest } => match getsockopt(&socket, sockopt::SocketError) {
                Ok(0) => {
                    let stream = TcpStream::from(socket);
                    let _ = stream.set_nodelay(true);
                    return Progress::Connected(stream);
                }
                Ok(errno)
                    if errno == Errno::EINPROGRESS as i32 || errno == Errno::EALREADY as i32 =>
                {
                    Ok(Stage::Connecting { socket, rest })
                }
                Ok(errno) if rest.is_empty() => Err(io::Error::from_raw_os_error(errno)),
                Ok(_) => self.next_address(rest),
                Err(e) => Err(e.into()),
            },
            Stage::Done => Err(io::Error::other("already finished")),
        };
        match next {
            Ok(stage) => {
                self.stage = stage;
                Progress::Pending
            }
            Err(e) => Progress::Failed(e),
        }
    }

    /// Starts a non-blocking connect to the first of `addrs` that takes one; the others
    /// stay for later.
    fn next_address(&self, mut addrs: Vec<SocketAddr>) -> io::Result<Stage> {
        addrs.reverse();
        let mut last = io::Error::new(io::ErrorKind::NotFound, "no address");
        while let Some(addr) = addrs.pop() {
            let family = if addr.is_ipv4() {
                AddressFamily::Inet
            } else {
                AddressFamily::Inet6
            };
            let socket = socket(
                family,
                SockType::Stream,
                SockFlag::SOCK_NONBLOCK | SockFlag::SOCK_CLOEXEC,
                None,
            )?;
            match connect(socket.as_raw_fd(), &SockaddrStorage::from(addr)) {
                Ok(()) | Err(Errno::EINPROGRESS) => {
                    addrs.reverse();
                    return Ok(Stage::Connecting {
                        socket,
                        rest: addrs,
                    });
                }
                Err(e) => last = e.into(),
            }
        }
        Err(last)
    }
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
            ..ForwardPolicy::default()
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
            ..ForwardPolicy::default()
        };
        assert!(may_open(&list, true, &[], "DB", 5432));
        assert!(!may_open(&list, true, &[], "db", 22));
        let key = [PermitTarget::parse("127.0.0.1:8080", false).unwrap()];
        assert!(may_open(&any, true, &key, "127.0.0.1", 8080));
        assert!(!may_open(&any, true, &key, "127.0.0.1", 8081));
    }
}
