//! `direct-tcpip` channels (`ssh -L`, `ssh -W`): the policy check, the connection
//! opened without blocking the loop, the answer to the open once it is made, and the
//! socket's two halves ended one at a time.

use super::kind::{ChannelBackend, OpenAnswer};
use super::pipes::Pipes;
use super::*;
use crate::postauth::forward::Connecting;
use std::os::fd::RawFd;

/// A `direct-tcpip` channel: a socket to the destination, or the connection to it
/// being made.
pub(super) struct Tcp {
    pipes: Pipes,
    /// Until the connection is made (the open is not answered yet).
    connecting: Option<Connecting>,
    /// `HOST port PORT`, for log lines.
    target: String,
    /// The `ChannelTimeout` type (`direct-tcpip`, `forwarded-tcpip`, ...).
    kind: &'static str,
}

impl ChannelBackend for Tcp {
    fn pipes(&self) -> &Pipes {
        &self.pipes
    }

    fn pipes_mut(&mut self) -> &mut Pipes {
        &mut self.pipes
    }

    fn timeout_type(&self) -> String {
        self.kind.to_string()
    }

    fn pending(&self) -> Option<(Option<(RawFd, bool)>, Instant)> {
        self.connecting.as_ref().map(Connecting::interest)
    }

    fn advance(&mut self, now: Instant) -> Option<OpenAnswer> {
        let connecting = self.connecting.as_mut()?;
        let (reason, e) = match connecting.advance(now) {
            Progress::Pending => return None,
            Progress::Connected(stream) => match stream.try_clone() {
                Ok(write_half) => {
                    self.connecting = None;
                    self.pipes.stdout = Some(File::from(OwnedFd::from(stream)));
                    self.pipes.stdin = Some(File::from(OwnedFd::from(write_half)));
                    return Some(OpenAnswer::Accept);
                }
                Err(e) => (open_failure::SSH_OPEN_RESOURCE_SHORTAGE, e),
            },
            Progress::Failed(e) => {
                info!("connect_to {}: failed: {e}", self.target);
                (open_failure::SSH_OPEN_CONNECT_FAILED, e)
            }
        };
        self.connecting = None;
        Some(OpenAnswer::Reject {
            reason,
            description: e.to_string(),
        })
    }

    /// The peer's EOF half-closes the socket once its data is written (the other half
    /// may still be read); the destination's EOF is sent on; the channel closes when
    /// the destination has nothing more to say and the peer's data has been delivered
    /// (or cannot be: the destination stopped reading).
    fn progress(&mut self, conn: &mut Connection, ch: ChannelId) {
        let p = &mut self.pipes;
        if self.connecting.is_some() || p.finished {
            return;
        }
        if p.peer_eof && p.to_child.is_empty() {
            if let Some(f) = p.stdin.take() {
                let _ =
                    nix::sys::socket::shutdown(f.as_raw_fd(), nix::sys::socket::Shutdown::Write);
            }
        }
        if p.out_eof && !p.eof_sent {
            conn.send_eof(ch);
            p.eof_sent = true;
        }
        if p.out_eof && (p.stdin.is_none() || p.peer_eof) && p.to_child.is_empty() {
            conn.close(ch);
            p.finished = true;
            p.close_all();
        }
    }
}

impl Tcp {
    /// A connection accepted on a listener of ours (a remote forward, the agent
    /// socket), for the channel we open towards the client.
    pub(super) fn accepted(
        fd: OwnedFd,
        target: String,
        kind: &'static str,
    ) -> std::io::Result<Tcp> {
        let write_half = fd.try_clone()?;
        Ok(Tcp {
            pipes: Pipes {
                stdout: Some(File::from(fd)),
                stdin: Some(File::from(write_half)),
                err_eof: true,
                ..Pipes::default()
            },
            connecting: None,
            target,
            kind,
        })
    }
}

/// Refuses an open with `administratively prohibited`.
fn prohibit(conn: &mut Connection, ch: ChannelId) {
    conn.reject_open(
        ch,
        open_failure::SSH_OPEN_ADMINISTRATIVELY_PROHIBITED,
        "administratively prohibited",
    );
}

impl Channels {
    /// Whether another forwarding channel may open (a bound of
    /// [`Channels::too_many_channels`]); if not, the open is refused.
    fn room_for_a_channel(&self, conn: &mut Connection, ch: ChannelId) -> bool {
        if self.too_many_channels() {
            conn.reject_open(
                ch,
                open_failure::SSH_OPEN_RESOURCE_SHORTAGE,
                "too many channels",
            );
            return false;
        }
        true
    }

    /// Forwardings are bounded: 16 channels for each session MaxSessions allows.
    pub(super) fn too_many_channels(&self) -> bool {
        self.chans.len() >= self.settings.max_sessions.max(1) * 16
    }

    /// `direct-streamlocal@openssh.com` (`ssh -L` to a Unix socket): allowed by
    /// `AllowStreamLocalForwarding` (local or all) and the key's port forwarding; the
    /// socket is connected at once (a Unix connect does not wait on the network).
    pub(super) fn open_direct_streamlocal(
        &mut self,
        conn: &mut Connection,
        ch: ChannelId,
        path: &str,
    ) {
        if !self.settings.forward.streamlocal_local || !self.grant.port_forwarding {
            info!(
                "refused streamlocal port forward: originator {} port {}, target {path}",
                self.ends.peer_ip(),
                self.ends.peer_port()
            );
            prohibit(conn, ch);
            return;
        }
        if !self.room_for_a_channel(conn, ch) {
            return;
        }
        let connected = std::os::unix::net::UnixStream::connect(path).and_then(|s| {
            s.set_nonblocking(true)?;
            Tcp::accepted(
                s.into(),
                format!("streamlocal {path}"),
                "direct-streamlocal@openssh.com",
            )
        });
        match connected {
            Ok(t) => {
                debug!("direct-streamlocal to {path}");
                self.chans.insert(ch, Box::new(t));
                conn.accept_open(ch);
            }
            Err(e) => {
                info!("connect_to {path}: failed: {e}");
                conn.reject_open(ch, open_failure::SSH_OPEN_CONNECT_FAILED, &e.to_string());
            }
        }
    }

    pub(super) fn open_direct_tcpip(
        &mut self,
        conn: &mut Connection,
        ch: ChannelId,
        host: &str,
        port: u32,
        originator: &str,
        originator_port: u32,
    ) {
        let port16 = u16::try_from(port).ok();
        let allowed = port16.is_some_and(|p| {
            crate::postauth::forward::may_open(
                &self.settings.forward,
                self.grant.port_forwarding,
                &self.grant.permitopen,
                host,
                p,
            )
        });
        if !allowed {
            info!(
                "refused local port forward: originator {originator} port {originator_port}, target {host} port {port}"
            );
            prohibit(conn, ch);
            return;
        }
        if !self.room_for_a_channel(conn, ch) {
            return;
        }
        let connecting = match crate::postauth::forward::Connecting::start(
            host,
            port16.unwrap_or(0),
            Instant::now(),
        ) {
            Ok(c) => c,
            Err(e) => {
                info!("connect_to {host} port {port}: failed: {e}");
                conn.reject_open(ch, open_failure::SSH_OPEN_CONNECT_FAILED, &e.to_string());
                return;
            }
        };
        debug!("direct-tcpip to {host} port {port} from {originator} port {originator_port}");
        self.chans.insert(
            ch,
            Box::new(Tcp {
                pipes: Pipes {
                    err_eof: true,
                    ..Pipes::default()
                },
                connecting: Some(connecting),
                target: format!("{host} port {port}"),
                kind: "direct-tcpip",
            }),
        );
        // Answered (confirmed or refused) once the connection is made or has failed:
        // see `Channels::advance`.
    }
}
