//! The connection's listening sockets and the channels their connections become:
//! remote forwards (`tcpip-forward`, `streamlocal-forward@openssh.com` and their
//! cancels), the forwarded agent (`auth-agent-req@openssh.com`). A connection accepted
//! on one is offered to the client with a channel of our own
//! (`forwarded-tcpip`, `forwarded-streamlocal@openssh.com`, `auth-agent@openssh.com`);
//! until the client confirms it, its socket waits unread.

use super::tcpip::Tcp;
use super::*;
use crate::postauth::listen::{
    bind_tcp, bind_to, may_listen, AgentSocket, BoundUnix, ACCEPTS_PER_WAKEUP, MAX_LISTENERS,
};
use sisu_connection::global::{tcpip_forward_reply, GlobalRequest};
use std::io;
use std::net::TcpListener;

/// What a listening socket is for.
pub(super) enum Role {
    /// A `tcpip-forward`: the address as the client wrote it, and the port bound.
    RemoteTcp { address: String, port: u16 },
    /// A `streamlocal-forward@openssh.com`.
    RemoteUnix { path: String },
    /// The forwarded agent (`SSH_AUTH_SOCK`).
    Agent,
    /// A session's X11 display; `single`: only one connection is forwarded.
    X11 { session: ChannelId, single: bool },
}

/// The socket itself.
enum Sock {
    Tcp(TcpListener),
    Unix(BoundUnix),
    Agent(AgentSocket),
}

/// One listening socket.
pub(super) struct Listening {
    pub role: Role,
    sock: Sock,
}

impl Listening {
    /// A TCP listener for `role`.
    pub fn tcp(role: Role, l: TcpListener) -> Listening {
        Listening {
            role,
            sock: Sock::Tcp(l),
        }
    }

    pub fn fd(&self) -> RawFd {
        match &self.sock {
            Sock::Tcp(l) => l.as_raw_fd(),
            Sock::Unix(u) => u.listener.as_raw_fd(),
            Sock::Agent(a) => a.socket.listener.as_raw_fd(),
        }
    }

    /// One waiting connection: its socket (non-blocking) and, for TCP, the peer.
    fn accept(&self) -> io::Result<(OwnedFd, Option<std::net::SocketAddr>)> {
        let (fd, peer): (OwnedFd, _) = match &self.sock {
            Sock::Tcp(l) => {
                let (s, a) = l.accept()?;
                s.set_nonblocking(true)?;
                let _ = s.set_nodelay(true);
                (s.into(), Some(a))
            }
            Sock::Unix(BoundUnix { listener, .. })
            | Sock::Agent(AgentSocket {
                socket: BoundUnix { listener, .. },
                ..
            }) => {
                let (s, _) = listener.accept()?;
                s.set_nonblocking(true)?;
                (s.into(), None)
            }
        };
        Ok((fd, peer))
    }
}

use std::os::fd::RawFd;

impl Channels {
    /// A global request other than the host-key proofs: forwards, their cancels,
    /// `no-more-sessions` (the machine enforces it), keepalives (answered with
    /// failure, as OpenSSH does: any answer tells the client we are alive).
    pub(super) fn on_global_request(
        &mut self,
        conn: &mut Connection,
        name: &str,
        want_reply: bool,
        data: &[u8],
    ) {
        let req = match GlobalRequest::parse(name, data) {
            Ok(r) => r,
            Err(e) => {
                info!("malformed global request {name} from {}: {e}", self.peer());
                if want_reply {
                    conn.reply_global(false, &[]);
                }
                return;
            }
        };
        let (ok, reply) = match req {
            GlobalRequest::TcpipForward { address, port } => {
                match self.remote_tcp_forward(address, port, want_reply) {
                    Some(bound) => (true, tcpip_forward_reply(port, bound)),
                    None => (false, Vec::new()),
                }
            }
            GlobalRequest::CancelTcpipForward { address, port } => {
                debug!("cancel-tcpip-forward addr {address} port {port}");
                let before = self.listeners.len();
                self.listeners.retain(|l| {
                    !matches!(&l.role, Role::RemoteTcp { address: a, port: p }
                        if a == address && u32::from(*p) == port)
                });
                (self.listeners.len() < before, Vec::new())
            }
            GlobalRequest::StreamlocalForward { path } => {
                (self.remote_unix_forward(path), Vec::new())
            }
            GlobalRequest::CancelStreamlocalForward { path } => {
                debug!("cancel-streamlocal-forward path {path}");
                let before = self.listeners.len();
                self.listeners
                    .retain(|l| !matches!(&l.role, Role::RemoteUnix { path: p } if p == path));
                (self.listeners.len() < before, Vec::new())
            }
            GlobalRequest::NoMoreSessions => (true, Vec::new()),
            GlobalRequest::Keepalive | GlobalRequest::Other { .. } => {
                debug!("global request {name} refused");
                (false, Vec::new())
            }
        };
        if want_reply {
            conn.reply_global(ok, &reply);
        }
    }

    fn uid(&self) -> u32 {
        self.user.as_ref().map_or(u32::MAX, |u| u.uid)
    }

    /// `tcpip-forward`: the port bound, or `None` when refused or binding failed.
    fn remote_tcp_forward(&mut self, address: &str, port: u32, want_reply: bool) -> Option<u16> {
        debug!("tcpip-forward listen {address} port {port}");
        let f = &self.settings.forward;
        if !may_listen(
            f,
            self.grant.port_forwarding,
            &self.grant.permitlisten,
            (address, port, want_reply),
            self.uid(),
        ) {
            info!(
                "Received request from {} port {} to remote forward to host {address} port {port}, but the request was denied.",
                self.ends.peer_ip(),
                self.ends.peer_port()
            );
            return None;
        }
        if self.listeners.len() >= MAX_LISTENERS {
            error!("tcpip-forward: too many listeners");
            return None;
        }
        let to = bind_to(f.gateway_ports, address);
        let (socks, bound) = match bind_tcp(&to, port as u16) {
            Ok(b) => b,
            Err(e) => {
                error!("cannot listen to port: {port}: {e}");
                return None;
            }
        };
        debug!("Allocated listen port {bound} for {address}");
        for l in socks {
            self.listeners.push(Listening {
                role: Role::RemoteTcp {
                    address: address.to_string(),
                    port: bound,
                },
                sock: Sock::Tcp(l),
            });
        }
        Some(bound)
    }

    /// `streamlocal-forward@openssh.com`: whether the socket is bound.
    fn remote_unix_forward(&mut self, path: &str) -> bool {
        debug!("streamlocal-forward listen path {path}");
        let f = &self.settings.forward;
        if !f.streamlocal_remote || !self.grant.port_forwarding {
            info!(
                "Received request from {} port {} to remote forward to path \"{path}\", but the request was denied.",
                self.ends.peer_ip(),
                self.ends.peer_port()
            );
            return false;
        }
        if self.listeners.len() >= MAX_LISTENERS {
            error!("streamlocal-forward: too many listeners");
            return false;
        }
        match BoundUnix::bind(
            std::path::Path::new(path),
            f.streamlocal_bind_mask,
            f.streamlocal_bind_unlink,
        ) {
            Ok(b) => {
                self.listeners.push(Listening {
                    role: Role::RemoteUnix {
                        path: path.to_string(),
                    },
                    sock: Sock::Unix(b),
                });
                true
            }
            Err(e) => {
                error!("streamlocal-forward: cannot listen on path {path}: {e}");
                false
            }
        }
    }

    /// `auth-agent-req@openssh.com` on a session: makes the agent socket (once per
    /// connection, as sshd); sessions started from now on get `SSH_AUTH_SOCK`.
    pub(super) fn agent_request(&mut self, ch: ChannelId) -> bool {
        if !self.settings.forward.agent_allowed || !self.grant.agent_forwarding {
            debug!("channel {ch}: agent forwarding refused");
            return false;
        }
        if self.session(ch).is_none() {
            return false;
        }
        if self.agent_path.is_some() {
            error!("authentication forwarding requested twice.");
            return false;
        }
        if self.listeners.len() >= MAX_LISTENERS {
            return false;
        }
        match AgentSocket::create() {
            Ok(a) => {
                self.agent_path = Some(a.path().display().to_string());
                self.listeners.push(Listening {
                    role: Role::Agent,
                    sock: Sock::Agent(a),
                });
                true
            }
            Err(e) => {
                error!("Agent forwarding disabled: {e}");
                false
            }
        }
    }

    /// The listener at `i` is readable: each waiting connection becomes a channel we
    /// open towards the client.
    pub(super) fn accept_on(&mut self, conn: &mut Connection, i: usize) {
        for _ in 0..ACCEPTS_PER_WAKEUP {
            let Some(l) = self.listeners.get(i) else {
                return;
            };
            let (fd, peer) = match l.accept() {
                Ok(a) => a,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    debug!("accept: {e}");
                    return;
                }
            };
            let (orig, orig_port) = peer.map_or((String::new(), 0), |a| {
                (a.ip().to_string(), u32::from(a.port()))
            });
            let timeout_type = match &l.role {
                Role::RemoteTcp { .. } => "forwarded-tcpip",
                Role::RemoteUnix { .. } => "forwarded-streamlocal@openssh.com",
                Role::Agent => "agent-connection",
                Role::X11 { .. } => "x11-connection",
            };
            let (kind, target) = match &l.role {
                Role::RemoteTcp { address, port } => (
                    ChannelKind::ForwardedTcpip {
                        connected_address: address.clone(),
                        connected_port: u32::from(*port),
                        originator: orig.clone(),
                        originator_port: orig_port,
                    },
                    format!("forwarded-tcpip {address} port {port} from {orig} port {orig_port}"),
                ),
                Role::RemoteUnix { path } => (
                    ChannelKind::ForwardedStreamlocal { path: path.clone() },
                    format!("forwarded-streamlocal {path}"),
                ),
                Role::Agent => (ChannelKind::AuthAgent, "auth-agent".to_string()),
                Role::X11 { .. } => (
                    ChannelKind::X11 {
                        originator: orig.clone(),
                        originator_port: orig_port,
                    },
                    format!("x11 from {orig} port {orig_port}"),
                ),
            };
            let single_of = match l.role {
                Role::X11 {
                    session,
                    single: true,
                } => Some(session),
                _ => None,
            };
            if self.too_many_channels() {
                debug!("{target}: too many channels; connection dropped");
                continue;
            }
            let Some(ch) = conn.open_channel(&kind) else {
                debug!("{target}: no channel free; connection dropped");
                continue;
            };
            debug!("channel {ch}: new {target}");
            match Tcp::accepted(fd, target, timeout_type) {
                Ok(t) => {
                    self.chans.insert(ch, Box::new(t));
                }
                Err(e) => {
                    debug!("channel {ch}: {e}");
                    conn.close(ch);
                }
            }
            if let Some(session) = single_of {
                // x11-req's single-connection: the display closes after one.
                self.close_x11(session);
                return;
            }
        }
    }

    /// The client refused a channel we opened: the connection behind it is dropped.
    pub(super) fn open_failed(&mut self, ch: ChannelId, description: &str) {
        if self.chans.remove(&ch).is_some() {
            verbose!("channel {ch}: open failed: {description}");
        }
    }
}
