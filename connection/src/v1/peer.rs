//! Messages from the SSH-1 client: the preparatory requests, the session's stdin and
//! window size, and the forwarded channels' opens, data and closes.

use super::*;
use crate::global::{GlobalRequest, TCPIP_FORWARD};
use crate::open::ChannelKind;
use crate::request::ChannelRequest;
use sisu_wire::v1::msg::flags;
use sisu_wire::{Reader, WireError};

/// The originator sshd recorded when the client did not send one.
const NO_ORIGINATOR: &str = "unknown (remote did not supply name)";

impl V1Session {
    pub(super) fn peer_message(&mut self, m: u8, payload: &[u8]) -> Result<(), V1SessionError> {
        if payload.len() > MAX_PEER_MESSAGE {
            return Err(V1SessionError::TooLong {
                msg: m,
                len: payload.len(),
            });
        }
        let bad = |error: WireError| V1SessionError::Malformed { msg: m, error };
        match m {
            msg::MSG_IGNORE | msg::MSG_DEBUG => return Ok(()),
            msg::DISCONNECT => {
                self.phase = Phase::Ended;
                return Ok(());
            }
            _ => {}
        }
        let r = Reader::new(payload);
        match self.phase {
            Phase::Ended => Ok(()),
            // sshd read until the confirmation and ignored everything else.
            Phase::Exiting => {
                if m == msg::CMSG_EXIT_CONFIRMATION {
                    r.finish().map_err(bad)?;
                    self.phase = Phase::Ended;
                }
                Ok(())
            }
            Phase::Preparatory => self.preparatory(m, r).map_err(|e| match e {
                Fail::Wire(error) => bad(error),
                Fail::Session(e) => e,
            }),
            Phase::Interactive => self.interactive(m, r).map_err(|e| match e {
                Fail::Wire(error) => bad(error),
                Fail::Session(e) => e,
            }),
        }
    }

    /// Opens the session channel toward the Connection, once.
    fn ensure_session(&mut self) {
        if self.session.opened {
            return;
        }
        self.session.opened = true;
        self.session.recv_window = SESSION_WINDOW;
        self.conn(Message::ChannelOpen {
            kind: crate::open::SESSION,
            sender: SESSION_CH,
            initial_window: SESSION_WINDOW,
            max_packet: MAX_PACKET,
            data: &[],
        });
    }

    /// A channel request on the session channel (held until it is confirmed).
    fn session_request(
        &mut self,
        req: &ChannelRequest<'_>,
        want_reply: bool,
    ) -> Result<(), V1SessionError> {
        let kind = match req {
            ChannelRequest::PtyReq { .. } => "pty-req",
            ChannelRequest::X11Req { .. } => "x11-req",
            ChannelRequest::AuthAgentReq => crate::request::AUTH_AGENT_REQ,
            ChannelRequest::Shell => "shell",
            ChannelRequest::Exec { .. } => "exec",
            ChannelRequest::WindowChange { .. } => "window-change",
            // The bridge sends no other request.
            _ => return Ok(()),
        };
        let data = req.encode_data();
        let s = &mut self.session;
        if s.close_sent || s.close_received {
            return Ok(());
        }
        match s.conn_id {
            Some(recipient) => self.conn(Message::ChannelRequest {
                recipient,
                kind,
                want_reply,
                data: &data,
            }),
            None => {
                if s.pending.len() >= MAX_PENDING_REQUESTS {
                    return Err(V1SessionError::TooManyPendingRequests);
                }
                s.pending.push((kind, want_reply, data));
            }
        }
        Ok(())
    }

    fn preparatory(&mut self, m: u8, mut r: Reader<'_>) -> Result<(), Fail> {
        match m {
            msg::CMSG_STDIN_DATA
            | msg::CMSG_EOF
            | msg::CMSG_EXIT_CONFIRMATION
            | msg::MSG_PORT_OPEN
            | msg::MSG_CHANNEL_OPEN_CONFIRMATION..=msg::MSG_CHANNEL_CLOSE_CONFIRMATION => {
                return Err(Fail::Session(V1SessionError::Unexpected {
                    msg: m,
                    phase: self.phase,
                }))
            }
            _ => {}
        }
        self.ensure_session();
        match m {
            msg::CMSG_REQUEST_PTY => {
                let term = r.string()?;
                let rows = r.u32()?;
                let cols = r.u32()?;
                let width_px = r.u32()?;
                let height_px = r.u32()?;
                let modes = ttymodes::translate_modes(r.rest())?;
                let Ok(term) = std::str::from_utf8(term) else {
                    return Ok(self.expect_reply(Via::Bridge, Then::Reply)?);
                };
                let req = ChannelRequest::PtyReq {
                    term,
                    cols,
                    rows,
                    width_px,
                    height_px,
                    modes,
                };
                self.expect_reply(Via::Channel, Then::Reply)?;
                self.session_request(&req, true)?;
            }
            msg::CMSG_X11_REQUEST_FORWARDING => {
                let proto = r.string()?;
                let cookie = r.string()?;
                // sshd read the screen whenever four bytes were left, flag or not
                // ("buggy client: X11 screen flag missing").
                let screen = if r.remaining() == 4 { r.u32()? } else { 0 };
                r.finish()?;
                let (Ok(auth_protocol), Ok(auth_cookie)) =
                    (std::str::from_utf8(proto), std::str::from_utf8(cookie))
                else {
                    return Ok(self.expect_reply(Via::Bridge, Then::Reply)?);
                };
                let req = ChannelRequest::X11Req {
                    single_connection: false,
                    auth_protocol,
                    auth_cookie,
                    screen,
                };
                self.expect_reply(Via::Channel, Then::Reply)?;
                self.session_request(&req, true)?;
            }
            msg::CMSG_AGENT_REQUEST_FORWARDING => {
                r.finish()?;
                self.expect_reply(Via::Channel, Then::Reply)?;
                self.session_request(&ChannelRequest::AuthAgentReq, true)?;
            }
            msg::CMSG_PORT_FORWARD_REQUEST => {
                let listen_port = r.u32()?;
                let host = r.string()?;
                let host_port = r.u32()?;
                r.finish()?;
                let refuse = listen_port == 0
                    || listen_port > 65535
                    || host_port == 0
                    || host.len() > MAX_DESCRIPTION
                    || self.forwards.len() >= MAX_FORWARDS
                    || self.forwards.iter().any(|f| f.listen_port == listen_port);
                if refuse {
                    return Ok(self.expect_reply(Via::Bridge, Then::Reply)?);
                }
                self.expect_reply(Via::Global, Then::Forward { port: listen_port })?;
                self.forwards.push(Forward {
                    listen_port,
                    host: host.to_vec(),
                    host_port,
                    confirmed: false,
                });
                let data = GlobalRequest::TcpipForward {
                    address: "",
                    port: listen_port,
                }
                .encode_data();
                self.conn(Message::GlobalRequest {
                    name: TCPIP_FORWARD,
                    want_reply: true,
                    data: &data,
                });
            }
            msg::CMSG_EXEC_SHELL => {
                r.finish()?;
                self.expect_reply(Via::Channel, Then::Exec { shell: true })?;
                self.session_request(&ChannelRequest::Shell, true)?;
                self.phase = Phase::Interactive;
            }
            msg::CMSG_EXEC_CMD => {
                let command = r.string()?;
                r.finish()?;
                self.expect_reply(Via::Channel, Then::Exec { shell: false })?;
                self.session_request(&ChannelRequest::Exec { command }, true)?;
                self.phase = Phase::Interactive;
            }
            // Compression, CMSG_MAX_PACKET_SIZE, CMSG_WINDOW_SIZE and anything else:
            // refused, as sshd's preparatory loop did.
            _ => self.expect_reply(Via::Bridge, Then::Reply)?,
        }
        Ok(())
    }

    fn interactive(&mut self, m: u8, mut r: Reader<'_>) -> Result<(), Fail> {
        match m {
            msg::CMSG_STDIN_DATA => {
                let data = r.string()?;
                r.finish()?;
                let s = &mut self.session;
                if s.stdin_eof {
                    return Err(Fail::Session(V1SessionError::DataAfterEof { ch: None }));
                }
                if s.close_sent || s.close_received {
                    return Ok(());
                }
                check_room(s.stdin.len(), self.buffered(), data.len(), None)?;
                self.session.stdin.extend(data);
                self.session_progress();
            }
            msg::CMSG_EOF => {
                r.finish()?;
                self.session.stdin_eof = true;
                self.session_progress();
            }
            msg::CMSG_WINDOW_SIZE => {
                let rows = r.u32()?;
                let cols = r.u32()?;
                let width_px = r.u32()?;
                let height_px = r.u32()?;
                r.finish()?;
                let req = ChannelRequest::WindowChange {
                    cols,
                    rows,
                    width_px,
                    height_px,
                };
                self.session_request(&req, false)?;
            }
            msg::MSG_PORT_OPEN => {
                let client_ch = r.u32()?;
                let host = r.string()?;
                let port = r.u32()?;
                let originator = if self.flags & flags::HOST_IN_FWD_OPEN != 0 {
                    Some(r.string()?)
                } else {
                    None
                };
                r.finish()?;
                self.port_open(client_ch, host, port, originator);
            }
            msg::MSG_CHANNEL_OPEN_CONFIRMATION => {
                let ch = r.u32()?;
                let client_ch = r.u32()?;
                r.finish()?;
                let f = self.client_answer(m, ch)?;
                f.client_id = Some(client_ch);
                f.open = true;
                f.recv_window = FORWARD_WINDOW;
                let recipient = f.conn_id.unwrap_or_default();
                self.conn(Message::ChannelOpenConfirmation {
                    recipient,
                    sender: ch,
                    initial_window: FORWARD_WINDOW,
                    max_packet: MAX_PACKET,
                    data: &[],
                });
            }
            msg::MSG_CHANNEL_OPEN_FAILURE => {
                let ch = r.u32()?;
                r.finish()?;
                let recipient = self.client_answer(m, ch)?.conn_id.unwrap_or_default();
                self.conn(Message::ChannelOpenFailure {
                    recipient,
                    reason: sisu_wire::msg::open_failure::SSH_OPEN_CONNECT_FAILED,
                    description: "open failed",
                    language: "",
                });
                self.free(ch);
            }
            msg::MSG_CHANNEL_DATA => {
                let ch = r.u32()?;
                let data = r.string()?;
                r.finish()?;
                let total = self.buffered();
                let f = self.client_channel(m, ch)?;
                if f.client_ieof {
                    return Err(Fail::Session(V1SessionError::DataAfterEof { ch: Some(ch) }));
                }
                // After our output-closed the client's data in flight is dropped.
                if f.oclose_sent {
                    return Ok(());
                }
                check_room(f.up.len(), total, data.len(), Some(ch))?;
                f.up.extend(data);
                self.fwd_progress(ch);
            }
            msg::MSG_CHANNEL_CLOSE => {
                let ch = r.u32()?;
                r.finish()?;
                self.client_channel(m, ch)?.client_ieof = true;
                self.fwd_progress(ch);
            }
            msg::MSG_CHANNEL_CLOSE_CONFIRMATION => {
                let ch = r.u32()?;
                r.finish()?;
                self.client_channel(m, ch)?.client_oclose = true;
                self.send_ieof(ch);
                self.fwd_progress(ch);
            }
            _ => {
                return Err(Fail::Session(V1SessionError::Unexpected {
                    msg: m,
                    phase: self.phase,
                }))
            }
        }
        Ok(())
    }

    /// `MSG_PORT_OPEN` from the client (`ssh -L`): a `direct-tcpip` open.
    fn port_open(&mut self, client_ch: u32, host: &[u8], port: u32, originator: Option<&[u8]>) {
        let host = std::str::from_utf8(host)
            .ok()
            .filter(|h| h.len() <= MAX_DESCRIPTION);
        let (Some(host), Some(ch)) = (host, self.alloc()) else {
            let mut w = Writer::new();
            w.u32(client_ch);
            self.peer(msg::MSG_CHANNEL_OPEN_FAILURE, w.into_vec());
            return;
        };
        if let Some(f) = self.fwd_mut(ch) {
            f.client_id = Some(client_ch);
            f.recv_window = FORWARD_WINDOW;
        }
        let originator = match originator {
            Some(o) => String::from_utf8_lossy(o).into_owned(),
            None => NO_ORIGINATOR.to_owned(),
        };
        let kind = ChannelKind::DirectTcpip {
            host: host.to_owned(),
            port,
            originator: clip(&originator, MAX_DESCRIPTION).to_owned(),
            originator_port: 0,
        };
        let data = kind.encode_data();
        self.conn(Message::ChannelOpen {
            kind: kind.name(),
            sender: ch,
            initial_window: FORWARD_WINDOW,
            max_packet: MAX_PACKET,
            data: &data,
        });
    }

    /// A channel the Connection opened and the client has not answered yet.
    fn client_answer(&mut self, m: u8, ch: u32) -> Result<&mut Fwd, V1SessionError> {
        match self.fwd_mut(ch) {
            Some(f) if f.server_opened && !f.open => Ok(f),
            _ => Err(V1SessionError::UnknownChannel { msg: m, ch }),
        }
    }

    /// An open channel the client addresses.
    fn client_channel(&mut self, m: u8, ch: u32) -> Result<&mut Fwd, V1SessionError> {
        match self.fwd_mut(ch) {
            Some(f) if f.open => Ok(f),
            _ => Err(V1SessionError::UnknownChannel { msg: m, ch }),
        }
    }
}

/// Whether `len` more bytes fit a buffer holding `held` (all buffers: `total`):
/// past the soft bound by at most one message.
fn check_room(held: usize, total: usize, len: usize, ch: Option<u32>) -> Result<(), Fail> {
    if held + len > MAX_BUFFERED_PER_CHANNEL + MAX_PEER_MESSAGE
        || total + len > MAX_BUFFERED_TOTAL + MAX_PEER_MESSAGE
    {
        return Err(Fail::Session(V1SessionError::BufferFull { ch }));
    }
    Ok(())
}

/// Either a field that did not parse or a session error.
enum Fail {
    Wire(WireError),
    Session(V1SessionError),
}

impl From<WireError> for Fail {
    fn from(e: WireError) -> Fail {
        Fail::Wire(e)
    }
}

impl From<V1SessionError> for Fail {
    fn from(e: V1SessionError) -> Fail {
        Fail::Session(e)
    }
}
