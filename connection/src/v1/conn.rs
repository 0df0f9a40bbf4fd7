//! Messages from the Connection (what its `poll_transmit` gives, as to an SSH-2
//! client): open answers, data, EOF, CLOSE, requests, the channels it opens.

use super::*;
use crate::open::ChannelKind;
use crate::request::ChannelRequest;
use sisu_wire::msg::open_failure::{
    SSH_OPEN_ADMINISTRATIVELY_PROHIBITED, SSH_OPEN_RESOURCE_SHORTAGE, SSH_OPEN_UNKNOWN_CHANNEL_TYPE,
};
use sisu_wire::v1::msg::flags;

impl V1Session {
    pub(super) fn connection_message(&mut self, payload: &[u8]) -> Result<(), V1SessionError> {
        let n = payload.first().copied().unwrap_or(0);
        let m = Message::parse(payload)
            .map_err(|error| V1SessionError::ConnectionMalformed { msg: n, error })?;
        if self.phase == Phase::Ended {
            return Ok(());
        }
        let unexpected = |what| V1SessionError::ConnectionUnexpected { msg: n, what };
        match m {
            Message::GlobalRequest { want_reply, .. } => {
                if want_reply {
                    self.conn(Message::RequestFailure);
                }
            }
            Message::RequestSuccess { .. } | Message::RequestFailure => {
                let ok = matches!(m, Message::RequestSuccess { .. });
                if !self.answer(Via::Global, ok) {
                    return Err(unexpected("a global reply to nothing"));
                }
            }
            Message::ChannelSuccess { recipient } | Message::ChannelFailure { recipient } => {
                let ok = matches!(m, Message::ChannelSuccess { .. });
                if recipient != SESSION_CH || !self.answer(Via::Channel, ok) {
                    return Err(unexpected("a channel reply to nothing"));
                }
            }
            Message::ChannelOpen {
                kind,
                sender,
                initial_window,
                max_packet,
                data,
            } => {
                let kind = ChannelKind::parse(kind, data)
                    .map_err(|error| V1SessionError::ConnectionMalformed { msg: n, error })?;
                self.server_open(kind, sender, initial_window, max_packet);
            }
            Message::ChannelOpenConfirmation {
                recipient,
                sender,
                initial_window,
                max_packet,
                ..
            } => {
                if recipient == SESSION_CH {
                    let s = &mut self.session;
                    if !s.opened || s.conn_id.is_some() {
                        return Err(unexpected("a confirmation for no open"));
                    }
                    s.conn_id = Some(sender);
                    s.send_window = initial_window;
                    s.send_max = max_packet;
                    for (kind, want_reply, data) in std::mem::take(&mut s.pending) {
                        self.conn(Message::ChannelRequest {
                            recipient: sender,
                            kind,
                            want_reply,
                            data: &data,
                        });
                    }
                    self.session_progress();
                } else {
                    let f = match self.fwd_mut(recipient) {
                        Some(f) if !f.server_opened && !f.open => f,
                        _ => return Err(unexpected("a confirmation for no open")),
                    };
                    f.conn_id = Some(sender);
                    f.open = true;
                    f.send_window = initial_window;
                    f.send_max = max_packet;
                    let mut w = Writer::new();
                    w.u32(f.client_id.unwrap_or_default()).u32(recipient);
                    self.peer(msg::MSG_CHANNEL_OPEN_CONFIRMATION, w.into_vec());
                }
            }
            Message::ChannelOpenFailure {
                recipient,
                description,
                ..
            } => {
                if recipient == SESSION_CH {
                    if !self.session.opened || self.session.conn_id.is_some() {
                        return Err(unexpected("a refusal for no open"));
                    }
                    let cause = format!("session refused: {}", clip(description, 200));
                    self.end(Some(&cause));
                } else {
                    let client_id = match self.fwd_mut(recipient) {
                        Some(f) if !f.server_opened && !f.open => f.client_id,
                        _ => return Err(unexpected("a refusal for no open")),
                    };
                    self.peer_channel_msg(msg::MSG_CHANNEL_OPEN_FAILURE, client_id);
                    self.free(recipient);
                }
            }
            Message::ChannelWindowAdjust {
                recipient,
                bytes_to_add,
            } => {
                if recipient == SESSION_CH {
                    let s = self.session_open(n)?;
                    s.send_window = s
                        .send_window
                        .checked_add(bytes_to_add)
                        .ok_or(unexpected("window past 2^32-1"))?;
                    self.session_progress();
                } else {
                    let f = self.conn_channel(n, recipient)?;
                    f.send_window = f
                        .send_window
                        .checked_add(bytes_to_add)
                        .ok_or(unexpected("window past 2^32-1"))?;
                    self.fwd_progress(recipient);
                }
            }
            Message::ChannelData { recipient, data } => self.conn_data(n, recipient, None, data)?,
            Message::ChannelExtendedData {
                recipient,
                code,
                data,
            } => self.conn_data(n, recipient, Some(code), data)?,
            Message::ChannelEof { recipient } => {
                if recipient == SESSION_CH {
                    self.session_open(n)?;
                } else {
                    self.conn_channel(n, recipient)?;
                    self.send_ieof(recipient);
                    self.fwd_progress(recipient);
                }
            }
            Message::ChannelClose { recipient } => {
                if recipient == SESSION_CH {
                    let s = self.session_open(n)?;
                    s.close_received = true;
                    s.stdin.clear();
                    let id = s.conn_id.unwrap_or_default();
                    if !s.close_sent {
                        s.close_sent = true;
                        self.conn(Message::ChannelClose { recipient: id });
                    }
                    if self.phase == Phase::Preparatory {
                        self.end(Some("session closed before it started"));
                    }
                    self.try_exit();
                } else {
                    self.conn_channel(n, recipient)?;
                    self.fwd_conn_closed(recipient);
                }
            }
            Message::ChannelRequest {
                recipient,
                kind,
                want_reply,
                data,
            } => {
                let mut ok = false;
                if recipient == SESSION_CH {
                    self.session_open(n)?;
                    match ChannelRequest::parse(kind, data) {
                        Ok(ChannelRequest::ExitStatus { status }) => {
                            self.session.exit = Some(Exit::Status(status));
                            ok = true;
                        }
                        Ok(ChannelRequest::ExitSignal { signal, .. }) => {
                            self.session.exit = Some(Exit::Signal(clip(signal, 32).to_owned()));
                            ok = true;
                        }
                        _ => {}
                    }
                } else {
                    self.conn_channel(n, recipient)?;
                }
                if want_reply {
                    let reply_to = self.reply_target(recipient);
                    if let Some(recipient) = reply_to {
                        self.conn(if ok {
                            Message::ChannelSuccess { recipient }
                        } else {
                            Message::ChannelFailure { recipient }
                        });
                    }
                }
            }
        }
        Ok(())
    }

    /// The Connection's number for our channel `ch`, if we may still send on it.
    fn reply_target(&mut self, ch: u32) -> Option<u32> {
        if ch == SESSION_CH {
            let s = &self.session;
            return s.conn_id.filter(|_| !s.close_sent);
        }
        self.fwd_mut(ch)
            .filter(|f| !f.close_sent)
            .and_then(|f| f.conn_id)
    }

    /// The session channel, which the Connection may address once confirmed and
    /// until its CLOSE.
    fn session_open(&mut self, n: u8) -> Result<&mut SessionChannel, V1SessionError> {
        let s = &mut self.session;
        if s.conn_id.is_none() || s.close_received {
            return Err(V1SessionError::ConnectionUnexpected {
                msg: n,
                what: "a message on a session channel that is not open",
            });
        }
        Ok(s)
    }

    /// A forwarded channel the Connection may address: open, and not closed by it.
    fn conn_channel(&mut self, n: u8, ch: u32) -> Result<&mut Fwd, V1SessionError> {
        match self.fwd_mut(ch) {
            Some(f) if f.open && !f.close_received => Ok(f),
            _ => Err(V1SessionError::ConnectionUnexpected {
                msg: n,
                what: "a message on a channel that is not open",
            }),
        }
    }

    /// Data from the Connection: to the client as stdout / stderr / channel data, its
    /// credit going back when the caller takes the message; dropped (credit back at
    /// once) where the client reads no more.
    fn conn_data(
        &mut self,
        n: u8,
        ch: u32,
        code: Option<u32>,
        data: &[u8],
    ) -> Result<(), V1SessionError> {
        let len = data.len() as u32;
        let beyond = V1SessionError::ConnectionUnexpected {
            msg: n,
            what: "data beyond the window we granted",
        };
        let (m, credit, deliver, client_id) = if ch == SESSION_CH {
            let s = self.session_open(n)?;
            if data.len() > s.recv_window as usize {
                return Err(beyond);
            }
            s.recv_window -= len;
            let m = match code {
                None => Some(msg::SMSG_STDOUT_DATA),
                Some(crate::SSH_EXTENDED_DATA_STDERR) => Some(msg::SMSG_STDERR_DATA),
                Some(_) => None,
            };
            let deliver = !s.close_sent;
            (m, Credit::Session, deliver, None)
        } else {
            let f = self.conn_channel(n, ch)?;
            if data.len() > f.recv_window as usize {
                return Err(beyond);
            }
            f.recv_window -= len;
            let deliver = !f.ieof_sent && !f.client_oclose && code.is_none();
            let credit = Credit::Fwd {
                ch,
                generation: f.generation,
            };
            (Some(msg::MSG_CHANNEL_DATA), credit, deliver, f.client_id)
        };
        match m {
            Some(m) if deliver && !data.is_empty() => {
                let mut w = Writer::new();
                if let Some(id) = client_id {
                    w.u32(id);
                }
                w.string(data);
                self.to_peer.push_back(Outgoing {
                    msg: m,
                    payload: w.into_vec(),
                    credit: Some((credit, len)),
                });
            }
            _ => self.give_credit(credit, len),
        }
        Ok(())
    }

    /// A channel the Connection opens toward the client: `forwarded-tcpip` (a
    /// connection to a remote forward), `x11`, `auth-agent@openssh.com`.
    fn server_open(&mut self, kind: ChannelKind, sender: u32, window: u32, max_packet: u32) {
        let refuse = |this: &mut Self, reason, description| {
            this.conn(Message::ChannelOpenFailure {
                recipient: sender,
                reason,
                description,
                language: "",
            });
        };
        if self.phase != Phase::Interactive {
            return refuse(
                self,
                SSH_OPEN_ADMINISTRATIVELY_PROHIBITED,
                "session not running",
            );
        }
        let with_originator = self.flags & flags::HOST_IN_FWD_OPEN != 0;
        let mut w = Writer::new();
        let m = match &kind {
            ChannelKind::ForwardedTcpip {
                connected_port,
                originator,
                originator_port,
                ..
            } => {
                let Some(fwd) = self
                    .forwards
                    .iter()
                    .find(|f| f.confirmed && f.listen_port == *connected_port)
                else {
                    return refuse(
                        self,
                        SSH_OPEN_ADMINISTRATIVELY_PROHIBITED,
                        "no such forward",
                    );
                };
                let (host, host_port) = (fwd.host.clone(), fwd.host_port);
                w.string(&host).u32(host_port);
                if with_originator {
                    let desc = format!(
                        "forwarded-tcpip: listening port {connected_port} for {} port {host_port}, \
                         connect from {} port {originator_port}",
                        clip(&String::from_utf8_lossy(&host), 100),
                        clip(originator, 100),
                    );
                    w.str(&desc);
                }
                msg::MSG_PORT_OPEN
            }
            ChannelKind::X11 {
                originator,
                originator_port,
            } => {
                if with_originator {
                    let desc = format!(
                        "X11 connection from {} port {originator_port}",
                        clip(originator, 200)
                    );
                    w.str(&desc);
                }
                msg::SMSG_X11_OPEN
            }
            ChannelKind::AuthAgent => msg::SMSG_AGENT_OPEN,
            _ => return refuse(self, SSH_OPEN_UNKNOWN_CHANNEL_TYPE, "unknown channel type"),
        };
        let Some(ch) = self.alloc() else {
            return refuse(self, SSH_OPEN_RESOURCE_SHORTAGE, "too many channels");
        };
        if let Some(f) = self.fwd_mut(ch) {
            f.server_opened = true;
            f.conn_id = Some(sender);
            f.send_window = window;
            f.send_max = max_packet;
        }
        // Our channel number goes first in each of these messages.
        let mut payload = Writer::new();
        payload.u32(ch).raw(w.as_slice());
        self.peer(m, payload.into_vec());
    }
}
