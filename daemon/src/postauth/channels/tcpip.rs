//! `direct-tcpip` channels (`ssh -L`, `ssh -W`): the policy check, the connection
//! opened without blocking the loop, and the answer to the open once it is made.

use super::*;

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
            Chan {
                connecting: Some(connecting),
                target: format!("{host} port {port}"),
                err_eof: true,
                is_tcp: true,
                ..Chan::default()
            },
        );
        // Answered (confirmed or refused) once the connection is made or has failed.
    }

    /// A `direct-tcpip` connection moved on: answers the channel open when it is made
    /// or has failed.
    pub(super) fn advance_connect(&mut self, conn: &mut Connection, ch: ChannelId) {
        let Some(c) = self.chans.get_mut(&ch) else {
            return;
        };
        let Some(connecting) = c.connecting.as_mut() else {
            return;
        };
        let failure = match connecting.advance(Instant::now()) {
            Progress::Pending => return,
            Progress::Connected(stream) => match stream.try_clone() {
                Ok(write_half) => {
                    c.connecting = None;
                    c.stdout = Some(File::from(OwnedFd::from(stream)));
                    c.stdin = Some(File::from(OwnedFd::from(write_half)));
                    c.started = true;
                    conn.accept_open(ch);
                    return;
                }
                Err(e) => (open_failure::SSH_OPEN_RESOURCE_SHORTAGE, e),
            },
            Progress::Failed(e) => {
                info!("connect_to {}: failed: {e}", c.target);
                (open_failure::SSH_OPEN_CONNECT_FAILED, e)
            }
        };
        self.chans.remove(&ch);
        conn.reject_open(ch, failure.0, &failure.1.to_string());
    }
}
