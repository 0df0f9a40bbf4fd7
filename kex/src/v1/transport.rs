//! [`V1Transport`]: the SSH-1 session-key exchange and packet stream, both roles.

use super::msg::{PublicKey, RsaPublicParts, SessionKey, COOKIE_LEN};
use super::session_key::{check_key_sizes, encrypt_session_key, session_id, session_id_of};
use super::state::V1TransportState;
use super::{
    V1Config, V1Error, V1Event, MAX_DESCRIPTION, MAX_INPUT_AWAITING, MAX_PENDING_EVENTS,
    MAX_PENDING_OUTPUT, SESSION_KEY_LEN,
};
use rand_core::CryptoRngCore;
use rsa::{BigUint, RsaPublicKey};
use sisu_cipher::v1::{V1Cipher, V1Crypt};
use sisu_wire::v1::msg;
use sisu_wire::v1::packet::{PacketDecoder, PacketEncoder, MAX_DATA_LEN};
use sisu_wire::{Reader, Writer};
use std::collections::VecDeque;
use std::fmt;
use zeroize::Zeroizing;

/// Where the exchange is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Server: `SSH_SMSG_PUBLIC_KEY` sent, waiting for `SSH_CMSG_SESSION_KEY`.
    AwaitSessionKey,
    /// Server: waiting for [`V1Transport::provide_session_key`]; input is held.
    AwaitAnswer,
    /// Client: waiting for `SSH_SMSG_PUBLIC_KEY`.
    AwaitPublicKey,
    /// Client: session key sent and encryption on, waiting for `SSH_SMSG_SUCCESS`.
    AwaitSuccess,
    /// Both: keys established.
    Keyed,
    /// Exported to another process: does nothing more.
    HandedOver,
}

/// One connection's SSH-1 transport (sans-IO).
///
/// - **In:** [`V1Transport::handle_input`] with socket bytes, any chunking.
/// - **Out:** [`V1Transport::poll_transmit`] (or [`V1Transport::transmit_into`]) for
///   socket bytes, [`V1Transport::poll_event`] for [`V1Event`]s.
/// - **Answers:** [`V1Transport::provide_session_key`] after
///   [`V1Event::SessionKeyNeeded`] (server).
/// - **After the keys:** [`V1Transport::send`], [`V1Transport::disconnect`],
///   [`V1Transport::export`] / [`V1Transport::import`].
///
/// Errors are sticky: the first one is kept ([`V1Transport::error`]), a
/// `SSH_MSG_DISCONNECT` with its text is queued, and every later call does nothing
/// but report it (the queued output can still be taken).
pub struct V1Transport {
    server: bool,
    phase: Phase,
    rng: Box<dyn CryptoRngCore + Send>,
    enc: PacketEncoder,
    dec: PacketDecoder,
    out: Vec<u8>,
    events: VecDeque<V1Event>,
    error: Option<V1Error>,
    closed: bool,
    config: V1Config,
    cookie: [u8; COOKIE_LEN],
    /// Client: the cipher to choose. Server: the one chosen.
    cipher: Option<V1Cipher>,
    session_id: Option<[u8; 16]>,
    session_key: Option<Zeroizing<[u8; SESSION_KEY_LEN]>>,
    peer_host_key: Option<RsaPublicKey>,
    peer_flags: u32,
}

impl fmt::Debug for V1Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("V1Transport")
            .field("server", &self.server)
            .field("phase", &self.phase)
            .field("cipher", &self.cipher)
            .field("error", &self.error)
            .field("closed", &self.closed)
            .finish_non_exhaustive()
    }
}

impl V1Transport {
    fn new(server: bool, phase: Phase, rng: Box<dyn CryptoRngCore + Send>) -> Self {
        V1Transport {
            server,
            phase,
            rng,
            enc: PacketEncoder::new(),
            dec: PacketDecoder::new(),
            out: Vec::new(),
            events: VecDeque::new(),
            error: None,
            closed: false,
            config: V1Config::default(),
            cookie: [0; COOKIE_LEN],
            cipher: None,
            session_id: None,
            session_key: None,
            peer_host_key: None,
            peer_flags: 0,
        }
    }

    /// Server: queues `SSH_SMSG_PUBLIC_KEY` at once. `rest` = bytes already read
    /// after the client's identification line. Keys that [`check_key_sizes`]
    /// refuses leave the transport failed (with that error) from the start.
    pub fn server(
        config: V1Config,
        host_key: &RsaPublicKey,
        server_key: &RsaPublicKey,
        rng: Box<dyn CryptoRngCore + Send>,
        rest: &[u8],
    ) -> Self {
        let mut t = V1Transport::new(true, Phase::AwaitSessionKey, rng);
        t.config = config;
        if let Err(e) = check_key_sizes(host_key, server_key) {
            t.fail(e);
            return t;
        }
        t.rng.fill_bytes(&mut t.cookie);
        t.session_id = Some(session_id_of(host_key, server_key, &t.cookie));
        let m = PublicKey {
            cookie: t.cookie,
            server_key: RsaPublicParts::from_key(server_key),
            host_key: RsaPublicParts::from_key(host_key),
            protocol_flags: t.config.protocol_flags,
            cipher_mask: t.config.cipher_mask(),
            auth_mask: t.config.auth_mask,
        };
        if let Err(e) = t.send_packet(msg::SMSG_PUBLIC_KEY, &m.encode()) {
            t.fail(e);
            return t;
        }
        let _ = t.handle_input(rest);
        t
    }

    /// Client (tests, tools): chooses `cipher` if the server offers it (else fails
    /// with [`V1Error::CipherNotOffered`]) and answers `SSH_SMSG_PUBLIC_KEY` with a
    /// random session key. It does not judge the host key: see
    /// [`V1Transport::peer_host_key`].
    pub fn client(cipher: V1Cipher, rng: Box<dyn CryptoRngCore + Send>) -> Self {
        let mut t = V1Transport::new(false, Phase::AwaitPublicKey, rng);
        t.cipher = Some(cipher);
        t
    }

    /// Takes bytes from the socket (any chunking).
    pub fn handle_input(&mut self, data: &[u8]) -> Result<(), V1Error> {
        if let Some(e) = &self.error {
            return Err(e.clone());
        }
        if self.closed {
            return Ok(());
        }
        let r = self.input(data);
        if let Err(e) = &r {
            self.fail(e.clone());
        }
        r
    }

    fn input(&mut self, data: &[u8]) -> Result<(), V1Error> {
        let mut rest = data;
        loop {
            let n = self.dec.feed(rest);
            rest = &rest[n..];
            if self.phase == Phase::AwaitAnswer && self.dec.buffered() > MAX_INPUT_AWAITING {
                return Err(V1Error::InputOverflow);
            }
            self.pump()?;
            if rest.is_empty() || self.closed {
                return Ok(());
            }
            if n == 0 {
                // The decoder is full and holds no packet it may take now.
                return Err(V1Error::InputOverflow);
            }
        }
    }

    /// Takes the packets buffered while the phase allows.
    fn pump(&mut self) -> Result<(), V1Error> {
        while !self.closed && !matches!(self.phase, Phase::AwaitAnswer | Phase::HandedOver) {
            let Some((t, data)) = self.dec.next_packet()? else {
                return Ok(());
            };
            self.dispatch(t, data)?;
        }
        Ok(())
    }

    fn dispatch(&mut self, t: u8, data: Vec<u8>) -> Result<(), V1Error> {
        match t {
            msg::MSG_IGNORE | msg::MSG_DEBUG => return Ok(()),
            msg::DISCONNECT => {
                let mut r = Reader::new(&data);
                let text = r.string().unwrap_or(&data);
                let text = &text[..text.len().min(MAX_DESCRIPTION)];
                let description = String::from_utf8_lossy(text).into_owned();
                self.closed = true;
                self.events.push_back(V1Event::Disconnected { description });
                return Ok(());
            }
            _ => {}
        }
        let expect = |expected: u8| -> Result<(), V1Error> {
            if t == expected {
                Ok(())
            } else {
                Err(V1Error::UnexpectedMessage { expected, got: t })
            }
        };
        match self.phase {
            Phase::AwaitSessionKey => {
                expect(msg::CMSG_SESSION_KEY)?;
                self.on_session_key(&data)
            }
            Phase::AwaitPublicKey => {
                expect(msg::SMSG_PUBLIC_KEY)?;
                self.on_public_key(&data)
            }
            Phase::AwaitSuccess => {
                expect(msg::SMSG_SUCCESS)?;
                self.phase = Phase::Keyed;
                self.keys_established()
            }
            Phase::Keyed => self.push_event(V1Event::Message {
                msg_type: t,
                payload: data,
            }),
            Phase::AwaitAnswer | Phase::HandedOver => Ok(()),
        }
    }

    fn keys_established(&mut self) -> Result<(), V1Error> {
        match (self.cipher, self.session_id) {
            (Some(cipher), Some(session_id)) => {
                self.push_event(V1Event::KeysEstablished { cipher, session_id })
            }
            _ => Err(V1Error::NotReady("keys without a cipher")),
        }
    }

    fn on_session_key(&mut self, data: &[u8]) -> Result<(), V1Error> {
        let m = SessionKey::parse(data)?;
        let cipher = V1Cipher::from_number(m.cipher)
            .filter(|c| self.config.ciphers.contains(c))
            .ok_or(V1Error::UnsupportedCipher(m.cipher))?;
        if m.cookie != self.cookie {
            return Err(V1Error::SpoofingCheck);
        }
        let session_id = self.session_id.ok_or(V1Error::NotReady("no session id"))?;
        self.peer_flags = m.protocol_flags;
        self.cipher = Some(cipher);
        self.phase = Phase::AwaitAnswer;
        self.push_event(V1Event::SessionKeyNeeded {
            cipher,
            encrypted: m.encrypted_key,
            session_id,
        })
    }

    fn on_public_key(&mut self, data: &[u8]) -> Result<(), V1Error> {
        let m = PublicKey::parse(data)?;
        let key = |p: &RsaPublicParts, what| {
            RsaPublicKey::new(BigUint::from_bytes_be(&p.n), BigUint::from_bytes_be(&p.e))
                .map_err(|_| V1Error::BadKey(what))
        };
        let host = key(&m.host_key, "host key")?;
        let server = key(&m.server_key, "server key")?;
        check_key_sizes(&host, &server)?;
        let cipher = self.cipher.ok_or(V1Error::NotReady("no cipher chosen"))?;
        if m.cipher_mask & (1u32 << u32::from(cipher.number())) == 0 {
            return Err(V1Error::CipherNotOffered(cipher.name()));
        }
        let sid = session_id(&m.host_key.n, &m.server_key.n, &m.cookie);
        let mut session_key = Zeroizing::new([0u8; SESSION_KEY_LEN]);
        self.rng.fill_bytes(&mut session_key[..]);
        let encrypted = encrypt_session_key(&host, &server, &session_key, &sid, &mut *self.rng)?;
        let reply = SessionKey {
            cipher: cipher.number(),
            cookie: m.cookie,
            encrypted_key: encrypted,
            protocol_flags: msg::flags::SCREEN_NUMBER | msg::flags::HOST_IN_FWD_OPEN,
        };
        self.send_packet(msg::CMSG_SESSION_KEY, &reply.encode())?;
        self.install(cipher, &session_key)?;
        self.session_key = Some(session_key);
        self.session_id = Some(sid);
        self.peer_flags = m.protocol_flags;
        self.peer_host_key = Some(host);
        self.phase = Phase::AwaitSuccess;
        Ok(())
    }

    fn install(&mut self, cipher: V1Cipher, key: &[u8; SESSION_KEY_LEN]) -> Result<(), V1Error> {
        let bad = |_| V1Error::BadKey("session key");
        self.enc
            .set_cipher(Box::new(V1Crypt::encryptor(cipher, key).map_err(bad)?));
        self.dec
            .set_cipher(Box::new(V1Crypt::decryptor(cipher, key).map_err(bad)?));
        Ok(())
    }

    fn push_event(&mut self, e: V1Event) -> Result<(), V1Error> {
        if self.events.len() >= MAX_PENDING_EVENTS {
            return Err(V1Error::EventsFull);
        }
        self.events.push_back(e);
        Ok(())
    }

    fn send_packet(&mut self, t: u8, data: &[u8]) -> Result<(), V1Error> {
        let mut pad = [0u8; 8];
        self.rng.fill_bytes(&mut pad);
        self.enc.encode(t, data, &pad, &mut self.out)?;
        Ok(())
    }

    /// Records the first error, queues its `SSH_MSG_DISCONNECT`, closes.
    fn fail(&mut self, e: V1Error) {
        if self.error.is_none() {
            if !self.closed {
                self.queue_disconnect(&e.to_string());
            }
            self.error = Some(e);
        }
        self.closed = true;
    }

    fn queue_disconnect(&mut self, description: &str) {
        let d = description.as_bytes();
        let mut w = Writer::new();
        w.string(&d[..d.len().min(MAX_DESCRIPTION)]);
        let _ = self.send_packet(msg::DISCONNECT, w.as_slice());
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<V1Event> {
        self.events.pop_front()
    }

    /// Bytes for the socket, all that are waiting.
    pub fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        if self.out.is_empty() {
            None
        } else {
            Some(std::mem::take(&mut self.out))
        }
    }

    /// Appends the bytes waiting for the socket to `buf`; returns how many.
    pub fn transmit_into(&mut self, buf: &mut Vec<u8>) -> usize {
        let n = self.out.len();
        buf.append(&mut self.out);
        n
    }

    /// Bytes waiting for the socket.
    pub fn pending_output(&self) -> usize {
        self.out.len()
    }

    /// Server, after [`V1Event::SessionKeyNeeded`]: the 32-byte session key the
    /// monitor decrypted. Installs both ciphers and sends `SSH_SMSG_SUCCESS`
    /// (encrypted), as sshd does, then takes any input held meanwhile. Called at
    /// another time it fails with [`V1Error::NotReady`] (not sticky).
    pub fn provide_session_key(&mut self, key: Zeroizing<[u8; 32]>) -> Result<(), V1Error> {
        if let Some(e) = &self.error {
            return Err(e.clone());
        }
        if self.closed || self.phase != Phase::AwaitAnswer {
            return Err(V1Error::NotReady("no session key was asked for"));
        }
        let r = self.take_key(key);
        if let Err(e) = &r {
            self.fail(e.clone());
        }
        r
    }

    fn take_key(&mut self, key: Zeroizing<[u8; 32]>) -> Result<(), V1Error> {
        let cipher = self.cipher.ok_or(V1Error::NotReady("no cipher chosen"))?;
        self.install(cipher, &key)?;
        self.session_key = Some(key);
        self.phase = Phase::Keyed;
        self.send_packet(msg::SMSG_SUCCESS, &[])?;
        self.keys_established()?;
        self.pump()
    }

    /// Sends a packet of `msg_type` (after the keys; before them, or beyond
    /// [`MAX_PENDING_OUTPUT`] waiting, it fails without being sticky). Once the
    /// transport is closed, does nothing.
    pub fn send(&mut self, msg_type: u8, payload: &[u8]) -> Result<(), V1Error> {
        if let Some(e) = &self.error {
            return Err(e.clone());
        }
        if self.closed {
            return Ok(());
        }
        if self.phase != Phase::Keyed {
            return Err(V1Error::NotReady("send before the session key"));
        }
        if payload.len() > MAX_DATA_LEN {
            return Err(V1Error::TooLong(payload.len()));
        }
        if self.out.len() > MAX_PENDING_OUTPUT {
            return Err(V1Error::OutputFull);
        }
        self.send_packet(msg_type, payload)
    }

    /// Queues `SSH_MSG_DISCONNECT` with `description`, then closed.
    pub fn disconnect(&mut self, description: &str) {
        if self.closed || self.error.is_some() {
            return;
        }
        self.queue_disconnect(description);
        self.closed = true;
    }

    /// The session id (server: from the start; client: once `SSH_SMSG_PUBLIC_KEY`
    /// came).
    pub fn session_id(&self) -> Option<[u8; 16]> {
        self.session_id
    }

    /// The cipher, once encryption is on.
    pub fn cipher(&self) -> Option<V1Cipher> {
        self.session_key.as_ref().and(self.cipher)
    }

    /// The peer's protocol flags (once its key-exchange message came).
    pub fn peer_protocol_flags(&self) -> u32 {
        self.peer_flags
    }

    /// Client: the server's host key, for the caller to check against known hosts.
    pub fn peer_host_key(&self) -> Option<&RsaPublicKey> {
        self.peer_host_key.as_ref()
    }

    /// Whether the transport is closed (disconnect sent or received, error, export).
    pub fn is_closed(&self) -> bool {
        self.closed
    }

    /// The error that stopped the transport.
    pub fn error(&self) -> Option<&V1Error> {
        self.error.as_ref()
    }

    /// Server: waiting for [`V1Transport::provide_session_key`].
    pub fn awaiting_answer(&self) -> bool {
        self.error.is_none() && self.phase == Phase::AwaitAnswer
    }

    /// For privilege separation: the keyed transport's whole state (session key,
    /// cipher, each direction's CBC chaining state, session id, peer flags, unread
    /// input and untaken output). Only once keys are established and every event has
    /// been taken; afterwards this transport is closed and does nothing more.
    pub fn export(&mut self) -> Result<V1TransportState, V1Error> {
        if let Some(e) = &self.error {
            return Err(e.clone());
        }
        if self.closed || self.phase != Phase::Keyed {
            return Err(V1Error::NotReady("export before the keys or after close"));
        }
        if !self.events.is_empty() {
            return Err(V1Error::NotReady("export with events not taken"));
        }
        let (Some(cipher), Some(session_id), Some(key), Some(send), Some(recv)) = (
            self.cipher,
            self.session_id,
            self.session_key.clone(),
            self.enc.cipher().map(|c| c.stream_state()),
            self.dec.cipher().map(|c| c.stream_state()),
        ) else {
            return Err(V1Error::NotReady("export before the keys"));
        };
        let state = V1TransportState {
            server: self.server,
            cipher,
            session_key: key,
            session_id,
            peer_flags: self.peer_flags,
            send_state: send,
            recv_state: recv,
            input: self.dec.take_buffered(),
            output: std::mem::take(&mut self.out),
        };
        self.phase = Phase::HandedOver;
        self.closed = true;
        Ok(state)
    }

    /// Goes on from an exported state, in another process. Input that came with it
    /// is taken at once (events may be waiting); a state whose cipher state does not
    /// fit leaves the transport failed.
    pub fn import(state: V1TransportState, rng: Box<dyn CryptoRngCore + Send>) -> Self {
        let mut t = V1Transport::new(state.server, Phase::Keyed, rng);
        let c = state.cipher;
        let key = &state.session_key[..];
        match (
            V1Crypt::resume_encryptor(c, key, &state.send_state),
            V1Crypt::resume_decryptor(c, key, &state.recv_state),
        ) {
            (Ok(e), Ok(d)) => {
                t.enc.set_cipher(Box::new(e));
                t.dec.set_cipher(Box::new(d));
            }
            _ => {
                t.error = Some(V1Error::BadState("cipher state"));
                t.closed = true;
                return t;
            }
        }
        t.cipher = Some(c);
        t.session_id = Some(state.session_id);
        t.session_key = Some(state.session_key.clone());
        t.peer_flags = state.peer_flags;
        t.out = state.output.clone();
        let _ = t.handle_input(&state.input);
        t
    }
}
