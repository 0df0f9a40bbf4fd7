//! Bytes in: the identification exchange, then packets, each checked against the
//! current [`super::phase::Phase`] and routed by number (RFC 4250): 1–49 stay here,
//! 50 and up go to the caller as [`Event::Message`].

use super::phase::Phase;
use super::{Event, Role, Stage, Transport, TransportError, MAX_INPUT_WHILE_WAITING};
use sisu_wire::ident::{read_identification, IdentError};
use sisu_wire::msg;
use sisu_wire::{Reader, Writer};

/// Most `SSH_MSG_EXT_INFO` extensions read from one message.
const MAX_EXTENSIONS: u32 = 64;

impl Transport {
    pub(super) fn handle_input_inner(&mut self, data: &[u8]) -> Result<(), TransportError> {
        let mut data = data;
        if self.peer_ident.is_none() {
            self.ident_buf.extend_from_slice(data);
            data = &[];
            let allow_preamble = self.role == Role::Client;
            match read_identification(&self.ident_buf, allow_preamble) {
                Ok(None) => return Ok(()),
                Ok(Some((id, used))) => {
                    let serves_1 = self.role == Role::Server && self.config.protocol_1;
                    let serves_2 = !serves_1 || self.config.protocol_2;
                    let rest = self.ident_buf.split_off(used);
                    self.ident_buf = Vec::new();
                    if serves_1 && id.proto.starts_with("1.") && id.proto != "1.99" {
                        self.peer_ident = Some(id.clone());
                        self.closed = true;
                        return self.push_event(Event::Protocol1 {
                            identification: id,
                            rest,
                        });
                    }
                    if !id.speaks_ssh2() || !serves_2 {
                        self.out
                            .extend_from_slice(b"Protocol major versions differ.\r\n");
                        return Err(TransportError::ProtocolVersionMismatch { peer: id.proto });
                    }
                    if serves_1 {
                        // Our KEXINIT waited for the peer's choice of protocol.
                        let exchange = self.start_kexinit(true);
                        self.phase = Phase::First { exchange };
                    }
                    self.dec.feed(&rest);
                    self.peer_ident = Some(id.clone());
                    self.push_event(Event::PeerIdentification(id))?;
                }
                Err(e) => {
                    let line = String::from_utf8_lossy(
                        self.ident_buf
                            .split(|&b| b == b'\n')
                            .next()
                            .unwrap_or_default(),
                    )
                    .trim_end()
                    .chars()
                    .take(80)
                    .collect::<String>();
                    if self.role == Role::Server {
                        self.out
                            .extend_from_slice(b"Invalid SSH identification string.\r\n");
                    }
                    return Err(match e {
                        IdentError::TooLong => TransportError::IdentificationTooLong,
                        _ => TransportError::InvalidIdentification { line },
                    });
                }
            }
        }
        self.dec.feed(data);
        loop {
            if self.closed {
                return Ok(());
            }
            if self.awaiting_answer() {
                // Unread until the caller answers; bounded, as the caller should stop
                // reading the socket meanwhile.
                if self.dec.buffered() > MAX_INPUT_WHILE_WAITING {
                    return Err(TransportError::QueueFull(
                        "too much input while waiting for the caller",
                    ));
                }
                return Ok(());
            }
            let before = self.dec.buffered();
            let packet = self.dec.next_packet()?;
            let Some((seq, payload)) = packet else {
                return Ok(());
            };
            self.bytes_since_kex += before.saturating_sub(self.dec.buffered()) as u64;
            self.handle_packet(seq, payload)?;
        }
    }

    fn handle_packet(&mut self, seq: u32, payload: Vec<u8>) -> Result<(), TransportError> {
        let Some(&number) = payload.first() else {
            return Err(TransportError::EmptyPacket);
        };
        let service_open = self.role == Role::Client || self.service_accepted;
        self.phase.admit(number, self.strict, service_open)?;
        match number {
            msg::SSH_MSG_DISCONNECT => {
                let mut r = Reader::new(&payload[1..]);
                let code = r.u32()?;
                let description = String::from_utf8_lossy(r.string()?).into_owned();
                self.closed = true;
                self.push_event(Event::Disconnected {
                    reason: code,
                    description,
                })?;
            }
            msg::SSH_MSG_IGNORE | msg::SSH_MSG_DEBUG | msg::SSH_MSG_UNIMPLEMENTED => {}
            msg::SSH_MSG_SERVICE_REQUEST => self.on_service_request(&payload)?,
            msg::SSH_MSG_SERVICE_ACCEPT if self.role == Role::Client => {
                let name = Reader::new(&payload[1..]).utf8()?.to_string();
                self.push_event(Event::ServiceAccepted(name))?;
            }
            msg::SSH_MSG_EXT_INFO => {
                let mut r = Reader::new(&payload[1..]);
                let n = r.u32()?;
                let mut ext = Vec::new();
                for _ in 0..n.min(MAX_EXTENSIONS) {
                    let name = r.utf8()?.to_string();
                    let value = r.string()?.to_vec();
                    ext.push((name, value));
                }
                self.push_event(Event::ExtInfo(ext))?;
            }
            msg::SSH_MSG_KEXINIT => self.on_kexinit(seq, payload)?,
            msg::SSH_MSG_NEWKEYS => self.on_newkeys()?,
            30..=49 => {
                let Some(exchange) = self.phase.exchange_mut() else {
                    return Err(TransportError::UnexpectedMessage {
                        number,
                        stage: Stage::NoKex,
                    });
                };
                if exchange.skip_guess {
                    // The peer's wrong guess (RFC 4253 §7.1): dropped without a word.
                    exchange.skip_guess = false;
                    return Ok(());
                }
                self.on_kex_message(&payload)?;
            }
            50..=255 => self.push_event(Event::Message(payload))?,
            _ => {
                let mut w = Writer::msg(msg::SSH_MSG_UNIMPLEMENTED);
                w.u32(seq);
                self.send_transport_message(w.as_slice())?;
            }
        }
        Ok(())
    }

    /// Server: `SSH_MSG_SERVICE_REQUEST`. Only `ssh-userauth`, once; accepting it opens
    /// the way for messages 50 and up and raises [`Event::ServiceAccepted`].
    fn on_service_request(&mut self, payload: &[u8]) -> Result<(), TransportError> {
        if self.role != Role::Server {
            return Err(TransportError::UnexpectedMessage {
                number: msg::SSH_MSG_SERVICE_REQUEST,
                stage: Stage::WrongRole,
            });
        }
        let name = Reader::new(&payload[1..]).utf8()?.to_string();
        if name != "ssh-userauth" || self.service_accepted {
            return Err(TransportError::ServiceNotAvailable { name });
        }
        self.service_accepted = true;
        let mut w = Writer::msg(msg::SSH_MSG_SERVICE_ACCEPT);
        w.str(&name);
        self.push_event(Event::ServiceAccepted(name))?;
        // SERVICE_ACCEPT is not allowed during a key exchange: held back then.
        self.send_message(w.as_slice())
    }
}
