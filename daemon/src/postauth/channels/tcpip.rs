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
}

impl ChannelBackend for Tcp {
    fn pipes(&self) -> &Pipes {
        &self.pipes
    }

    fn pipes_mut(&mut self) -> &mut Pipes {
        &mut self.pipes
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

impl Channels {
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
            conn.reject_open(
                ch,
                open_failure::SSH_OPEN_ADMINISTRATIVELY_PROHIBITED,
                "administratively prohibited",
            );
            return;
        }
        if self.chans.len() >= self.settings.max_sessions.max(1) * 16 {
            conn.reject_open(
                ch,
                open_failure::SSH_OPEN_RESOURCE_SHORTAGE,
                "too many channels",
            );
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
            }),
        );
        // Answered (confirmed or refused) once the connection is made or has failed:
        // see `Channels::advance`.
    }
}
