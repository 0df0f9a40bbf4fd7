//! The peer's channel requests: parsed, turned into events, and their replies lined
//! up in request order (some answered by the machine itself).

use super::*;

impl Connection {
    /// A `CHANNEL_REQUEST` on `ch`.
    pub(super) fn on_request(
        &mut self,
        n: u8,
        ch: u32,
        kind: &str,
        want_reply: bool,
        data: &[u8],
    ) -> Result<(), ConnectionError> {
        let c = self.peer_channel(n, ch)?;
        let req = ChannelRequest::parse(kind, data)
            .map_err(|error| ConnectionError::Malformed { msg: n, error })?;
        if c.close_sent {
            // We said CLOSE: we send nothing more on this channel, not even a reply.
            return Ok(());
        }
        if want_reply && c.replies.len() + c.replies_queued >= MAX_PENDING_REPLIES {
            return Err(ConnectionError::TooManyPendingRequests);
        }
        // `auto` is the answer the machine gives itself; `None` waits for the daemon.
        let (event, auto): (Option<Event>, Option<bool>) = match req {
            ChannelRequest::PtyReq {
                term,
                cols,
                rows,
                width_px,
                height_px,
                modes,
            } => (
                Some(Event::PtyRequest {
                    ch,
                    want_reply,
                    term: term.to_owned(),
                    cols,
                    rows,
                    width_px,
                    height_px,
                    modes,
                }),
                None,
            ),
            ChannelRequest::Env { name, value } => match std::str::from_utf8(value) {
                Ok(value) => (
                    Some(Event::Env {
                        ch,
                        want_reply,
                        name: name.to_owned(),
                        value: value.to_owned(),
                    }),
                    None,
                ),
                Err(_) => (None, Some(false)),
            },
            ChannelRequest::Shell => (Some(Event::Shell { ch, want_reply }), None),
            ChannelRequest::Exec { command } => (
                Some(Event::Exec {
                    ch,
                    want_reply,
                    command: command.to_vec(),
                }),
                None,
            ),
            ChannelRequest::Subsystem { name } => (
                Some(Event::Subsystem {
                    ch,
                    want_reply,
                    name: name.to_owned(),
                }),
                None,
            ),
            ChannelRequest::WindowChange {
                cols,
                rows,
                width_px,
                height_px,
            } => (
                Some(Event::WindowChange {
                    ch,
                    cols,
                    rows,
                    width_px,
                    height_px,
                }),
                Some(true),
            ),
            ChannelRequest::Signal { name } => (
                Some(Event::Signal {
                    ch,
                    name: name.to_owned(),
                }),
                Some(true),
            ),
            ChannelRequest::X11Req {
                single_connection,
                auth_protocol,
                auth_cookie,
                screen,
            } => (
                Some(Event::X11Request {
                    ch,
                    want_reply,
                    single_connection,
                    auth_protocol: auth_protocol.to_owned(),
                    auth_cookie: auth_cookie.to_owned(),
                    screen,
                }),
                None,
            ),
            ChannelRequest::AuthAgentReq => (Some(Event::AgentRequest { ch, want_reply }), None),
            // keepalive@openssh.com, a client's exit-status, and anything unknown: the
            // daemon decides.
            _ => (
                Some(Event::OtherRequest {
                    ch,
                    want_reply,
                    name: kind.to_owned(),
                    data: data.to_vec(),
                }),
                None,
            ),
        };
        let reply = want_reply.then_some(ReplySlot {
            ch,
            generation: c.generation,
            answer: auto,
        });
        if want_reply {
            c.replies_queued += 1;
        }
        self.push_queued(Queued { event, reply })
    }
}
