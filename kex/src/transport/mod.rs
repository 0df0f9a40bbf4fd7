//! [`Transport`]: one connection's SSH transport layer, as a sans-IO state machine.

use crate::alg::{negotiate, KexAlg};
use crate::derive::{derive_keys_with, exchange_hash, HashPrefix, KeyLengths};
use crate::hostkey::{self, HostKey};
use crate::hostkey_alg::HostKeyAlg;
use crate::kexinit::KexInit;
use crate::method::{new_method, Ctx, Method, Step};
use crate::moduli::GexGroups;
use rand_core::CryptoRngCore;
use sisu_cipher::{new_opener, new_sealer, CipherAlg, MacAlg};
use sisu_wire::ident::{read_identification, IdentError, Identification};
use sisu_wire::msg::{self, reason};
use sisu_wire::packet::{Opener, PacketDecoder, PacketEncoder, PacketError};
use sisu_wire::{NameList, Reader, WireError, Writer};
use std::collections::VecDeque;
use std::fmt;

/// The name a server puts in its first `kex_algorithms` to offer strict kex.
pub const KEX_STRICT_S: &str = "kex-strict-s-v00@openssh.com";
/// The name a client puts in its first `kex_algorithms` to offer strict kex.
pub const KEX_STRICT_C: &str = "kex-strict-c-v00@openssh.com";
/// The name a client puts in `kex_algorithms` to ask for `SSH_MSG_EXT_INFO` (RFC 8308).
pub const EXT_INFO_C: &str = "ext-info-c";
/// Most upper-layer messages held back while a key exchange is under way.
pub const MAX_QUEUED_MESSAGES: usize = 4096;
/// Most events waiting for the caller.
pub const MAX_PENDING_EVENTS: usize = 4096;
/// Default number of bytes (both directions) after which the transport starts a rekey.
pub const DEFAULT_REKEY_BYTES: u64 = 1 << 30;

/// Which end of the connection this transport is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// The server: signs with a host key.
    Server,
    /// The client: checks the server's signature.
    Client,
}

/// Algorithms offered, in preference order, and other settings.
#[derive(Clone, Debug)]
pub struct TransportConfig {
    /// `kex_algorithms`.
    pub kex: Vec<KexAlg>,
    /// `server_host_key_algorithms` (a server offers those its host keys can serve).
    pub host_key_algs: Vec<HostKeyAlg>,
    /// Ciphers, both directions.
    pub ciphers: Vec<CipherAlg>,
    /// MACs, both directions.
    pub macs: Vec<MacAlg>,
    /// The `softwareversion SP comments` part of our identification line.
    pub software_version: String,
    /// Bytes sent plus received after which a new key exchange starts.
    pub rekey_bytes: u64,
    /// For a server: the `server-sig-algs` value sent in `SSH_MSG_EXT_INFO`.
    pub server_sig_algs: Vec<String>,
    /// For a server: the groups Diffie-Hellman group exchange picks from (a moduli
    /// file's, see [`crate::moduli`], loaded when first needed); the built-in RFC 3526
    /// groups by default.
    pub gex_groups: GexGroups,
}

impl Default for TransportConfig {
    fn default() -> Self {
        TransportConfig {
            kex: KexAlg::DEFAULT.to_vec(),
            host_key_algs: HostKeyAlg::DEFAULT.to_vec(),
            ciphers: CipherAlg::DEFAULT.to_vec(),
            macs: MacAlg::DEFAULT.to_vec(),
            software_version: concat!("Sisu_", env!("CARGO_PKG_VERSION")).to_string(),
            rekey_bytes: DEFAULT_REKEY_BYTES,
            server_sig_algs: HostKeyAlg::DEFAULT
                .iter()
                .map(|a| a.name().to_string())
                .collect(),
            gex_groups: GexGroups::default(),
        }
    }
}

/// The algorithms both sides agreed on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Negotiated {
    /// Key exchange.
    pub kex: KexAlg,
    /// Host-key signature.
    pub host_key: HostKeyAlg,
    /// Cipher client to server.
    pub cipher_c2s: CipherAlg,
    /// Cipher server to client.
    pub cipher_s2c: CipherAlg,
    /// MAC client to server (`None` for AEAD ciphers).
    pub mac_c2s: Option<MacAlg>,
    /// MAC server to client.
    pub mac_s2c: Option<MacAlg>,
    /// Whether strict kex is in force.
    pub strict: bool,
}

/// What the transport tells its caller.
#[derive(Debug)]
pub enum Event {
    /// The peer's identification line arrived.
    PeerIdentification(Identification),
    /// A key exchange finished; `first` is the initial one.
    KeysEstablished {
        /// Whether this was the first key exchange of the connection.
        first: bool,
        /// The algorithms in use from now on.
        negotiated: Negotiated,
        /// The server's host key blob (for a client to check against known_hosts).
        host_key: Vec<u8>,
    },
    /// A server accepted the client's `SSH_MSG_SERVICE_REQUEST` for this service.
    ServiceAccepted(String),
    /// `SSH_MSG_EXT_INFO` extensions from the peer.
    ExtInfo(Vec<(String, Vec<u8>)>),
    /// A message for the layers above (numbers 50 and up), payload with its number.
    Message(Vec<u8>),
    /// The peer sent `SSH_MSG_DISCONNECT`.
    Disconnected {
        /// The reason code.
        reason: u32,
        /// The peer's description.
        description: String,
    },
}

/// A fatal transport error: the connection ends. A DISCONNECT with `reason` has been
/// queued for the peer when that was possible.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TransportError {
    /// The `SSH_DISCONNECT_*` reason code.
    pub reason: u32,
    /// What went wrong, in words fit for a log line.
    pub message: String,
}

impl TransportError {
    fn new(reason: u32, message: impl Into<String>) -> Self {
        TransportError {
            reason,
            message: message.into(),
        }
    }
    pub(crate) fn protocol(message: impl Into<String>) -> Self {
        Self::new(reason::SSH_DISCONNECT_PROTOCOL_ERROR, message)
    }
    pub(crate) fn kex(message: impl Into<String>) -> Self {
        Self::new(reason::SSH_DISCONNECT_KEY_EXCHANGE_FAILED, message)
    }
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for TransportError {}

impl From<WireError> for TransportError {
    fn from(e: WireError) -> Self {
        TransportError::protocol(format!("malformed message: {e}"))
    }
}

/// One key exchange under way.
struct Kex {
    ours: Vec<u8>,
    theirs: Option<Vec<u8>>,
    negotiated: Option<Negotiated>,
    ignore_next: bool,
    method: Option<Box<dyn Method>>,
    newkeys_sent: bool,
    opener: Option<Box<dyn Opener>>,
    host_key: Vec<u8>,
}

/// One connection's transport: identification exchange, key exchange and rekeying,
/// packet protection, and routing of messages to the layers above.
///
/// Bytes from the socket go to [`Transport::handle_input`]; bytes for the socket come
/// from [`Transport::poll_transmit`]; upper-layer messages go in through
/// [`Transport::send_message`] and come out as [`Event::Message`].
pub struct Transport {
    role: Role,
    config: TransportConfig,
    host_keys: Vec<HostKey>,
    rng: Box<dyn CryptoRngCore + Send>,
    our_ident: String,
    peer_ident: Option<Identification>,
    ident_buf: Vec<u8>,
    enc: PacketEncoder,
    dec: PacketDecoder,
    out: Vec<u8>,
    events: VecDeque<Event>,
    kex: Option<Kex>,
    negotiated: Option<Negotiated>,
    session_id: Option<Vec<u8>>,
    kex_count: u64,
    strict: bool,
    ext_info_wanted: bool,
    service_accepted: bool,
    queued: VecDeque<Vec<u8>>,
    bytes_since_kex: u64,
    error: Option<TransportError>,
    closed: bool,
}

impl fmt::Debug for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Transport")
            .field("role", &self.role)
            .field("kex_count", &self.kex_count)
            .field("negotiated", &self.negotiated)
            .finish_non_exhaustive()
    }
}

fn names<T: Copy>(items: &[T], name: fn(T) -> &'static str) -> Vec<&'static str> {
    items.iter().map(|a| name(*a)).collect()
}

impl Transport {
    /// A server transport with its host keys. Our identification line and first
    /// `SSH_MSG_KEXINIT` are queued at once.
    pub fn server(
        config: TransportConfig,
        host_keys: Vec<HostKey>,
        rng: Box<dyn CryptoRngCore + Send>,
    ) -> Self {
        Self::new(Role::Server, config, host_keys, rng)
    }

    /// A client transport.
    pub fn client(config: TransportConfig, rng: Box<dyn CryptoRngCore + Send>) -> Self {
        Self::new(Role::Client, config, Vec::new(), rng)
    }

    fn new(
        role: Role,
        config: TransportConfig,
        host_keys: Vec<HostKey>,
        rng: Box<dyn CryptoRngCore + Send>,
    ) -> Self {
        let our_ident = format!("SSH-2.0-{}", config.software_version);
        let mut t = Transport {
            role,
            config,
            host_keys,
            rng,
            our_ident,
            peer_ident: None,
            ident_buf: Vec::new(),
            enc: PacketEncoder::new(),
            dec: PacketDecoder::new(),
            out: Vec::new(),
            events: VecDeque::new(),
            kex: None,
            negotiated: None,
            session_id: None,
            kex_count: 0,
            strict: false,
            ext_info_wanted: false,
            service_accepted: false,
            queued: VecDeque::new(),
            bytes_since_kex: 0,
            error: None,
            closed: false,
        };
        t.out.extend_from_slice(t.our_ident.as_bytes());
        t.out.extend_from_slice(b"\r\n");
        t.send_kexinit();
        t
    }

    /// Our identification line, without CR LF.
    pub fn our_identification(&self) -> &str {
        &self.our_ident
    }

    /// The peer's identification, once received.
    pub fn peer_identification(&self) -> Option<&Identification> {
        self.peer_ident.as_ref()
    }

    /// The session identifier (the first exchange hash), once the first key exchange is
    /// done.
    pub fn session_id(&self) -> Option<&[u8]> {
        self.session_id.as_deref()
    }

    /// The algorithms in use, once a key exchange is done.
    pub fn negotiated(&self) -> Option<&Negotiated> {
        self.negotiated.as_ref()
    }

    /// How many key exchanges have completed.
    pub fn kex_count(&self) -> u64 {
        self.kex_count
    }

    /// Whether a key exchange is under way (upper-layer messages are being held back).
    pub fn kex_in_progress(&self) -> bool {
        self.kex.is_some()
    }

    /// Whether the connection is over (an error, or the peer disconnected).
    pub fn is_closed(&self) -> bool {
        self.closed || self.error.is_some()
    }

    /// The error that ended the connection, if any.
    pub fn error(&self) -> Option<&TransportError> {
        self.error.as_ref()
    }

    /// Bytes queued for the peer and not yet taken by [`Transport::poll_transmit`].
    pub fn pending_output(&self) -> usize {
        self.out.len()
    }

    /// Upper-layer messages held back until the running key exchange ends.
    pub fn queued_messages(&self) -> usize {
        self.queued.len()
    }

    /// Takes the bytes to write to the peer.
    pub fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        if self.out.is_empty() {
            None
        } else {
            Some(std::mem::take(&mut self.out))
        }
    }

    /// Appends the bytes to write to the peer to `buf`, keeping this transport's own
    /// buffer (and its capacity) for the next packets; returns how many were added.
    /// The allocation-free form of [`Transport::poll_transmit`] for a busy connection.
    pub fn transmit_into(&mut self, buf: &mut Vec<u8>) -> usize {
        let n = self.out.len();
        buf.extend_from_slice(&self.out);
        self.out.clear();
        n
    }

    /// The next event for the caller.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// Bytes received from the peer, in any chunking.
    pub fn handle_input(&mut self, data: &[u8]) -> Result<(), TransportError> {
        if let Some(e) = &self.error {
            return Err(e.clone());
        }
        if self.closed {
            return Ok(());
        }
        let r = self.handle_input_inner(data);
        if let Err(e) = &r {
            self.fail(e.clone());
        }
        r
    }

    /// Ends the connection with `SSH_MSG_DISCONNECT`.
    pub fn disconnect(&mut self, reason: u32, description: &str) {
        if self.closed || self.error.is_some() {
            return;
        }
        self.queue_disconnect(reason, description);
        self.closed = true;
    }

    /// Sends a message of the layers above (number 50 or more). While a key exchange is
    /// under way it is held back and sent after our `SSH_MSG_NEWKEYS`.
    pub fn send_message(&mut self, payload: &[u8]) -> Result<(), TransportError> {
        if let Some(e) = &self.error {
            return Err(e.clone());
        }
        if self.closed {
            return Ok(());
        }
        if self.kex.as_ref().is_some_and(|k| !k.newkeys_sent) || self.session_id.is_none() {
            if self.queued.len() >= MAX_QUEUED_MESSAGES {
                let e = TransportError::new(
                    reason::SSH_DISCONNECT_BY_APPLICATION,
                    "too many messages queued during key exchange",
                );
                self.fail(e.clone());
                return Err(e);
            }
            self.queued.push_back(payload.to_vec());
            return Ok(());
        }
        self.write_packet(payload)?;
        self.maybe_rekey();
        Ok(())
    }

    /// Starts a key re-exchange now (for time-based rekeying), unless one is running.
    pub fn start_rekey(&mut self) {
        if self.kex.is_none() && self.session_id.is_some() && !self.is_closed() {
            self.send_kexinit();
        }
    }

    /// As a client: asks for a service (`ssh-userauth`).
    pub fn request_service(&mut self, service: &str) -> Result<(), TransportError> {
        let mut w = Writer::msg(msg::SSH_MSG_SERVICE_REQUEST);
        w.str(service);
        self.send_transport_message(w.as_slice())
    }

    // ---- internals ----

    fn fail(&mut self, e: TransportError) {
        if self.error.is_none() {
            if self.peer_ident.is_some() {
                self.queue_disconnect(e.reason, &e.message);
            }
            self.error = Some(e);
        }
    }

    fn queue_disconnect(&mut self, code: u32, description: &str) {
        let mut w = Writer::msg(msg::SSH_MSG_DISCONNECT);
        w.u32(code).str(description).str("");
        let _ = self.write_packet(w.as_slice());
    }

    fn write_packet(&mut self, payload: &[u8]) -> Result<(), TransportError> {
        let rng = &mut self.rng;
        let before = self.out.len();
        self.enc
            .encode(payload, &mut |p| rng.fill_bytes(p), &mut self.out)
            .map_err(|e| TransportError::protocol(e.to_string()))?;
        self.bytes_since_kex += (self.out.len() - before) as u64;
        Ok(())
    }

    /// Transport-layer messages (1–49) go out at once, even during key exchange.
    fn send_transport_message(&mut self, payload: &[u8]) -> Result<(), TransportError> {
        self.write_packet(payload)
    }

    fn push_event(&mut self, e: Event) -> Result<(), TransportError> {
        if self.events.len() >= MAX_PENDING_EVENTS {
            return Err(TransportError::new(
                reason::SSH_DISCONNECT_BY_APPLICATION,
                "event queue full",
            ));
        }
        self.events.push_back(e);
        Ok(())
    }

    fn maybe_rekey(&mut self) {
        if self.bytes_since_kex >= self.config.rekey_bytes {
            self.start_rekey();
        }
    }

    fn send_kexinit(&mut self) {
        let mut cookie = [0u8; 16];
        self.rng.fill_bytes(&mut cookie);
        let mut kex: Vec<&str> = names(&self.config.kex, KexAlg::name);
        if self.session_id.is_none() {
            match self.role {
                Role::Server => kex.push(KEX_STRICT_S),
                Role::Client => {
                    kex.push(EXT_INFO_C);
                    kex.push(KEX_STRICT_C);
                }
            }
        }
        let host_key: Vec<&str> = match self.role {
            Role::Server => self
                .config
                .host_key_algs
                .iter()
                .filter(|a| self.host_keys.iter().any(|k| k.algorithms().contains(a)))
                .map(|a| a.name())
                .collect(),
            Role::Client => names(&self.config.host_key_algs, HostKeyAlg::name),
        };
        let ciphers = names(&self.config.ciphers, CipherAlg::name).join(",");
        let macs = names(&self.config.macs, MacAlg::name).join(",");
        let kex = kex.join(",");
        let host_key = host_key.join(",");
        let init = KexInit {
            cookie,
            kex: NameList(&kex),
            host_key: NameList(&host_key),
            cipher_c2s: NameList(&ciphers),
            cipher_s2c: NameList(&ciphers),
            mac_c2s: NameList(&macs),
            mac_s2c: NameList(&macs),
            comp_c2s: NameList("none"),
            comp_s2c: NameList("none"),
            first_kex_follows: false,
        };
        let payload = init.encode();
        let _ = self.send_transport_message(&payload);
        self.kex = Some(Kex {
            ours: payload,
            theirs: None,
            negotiated: None,
            ignore_next: false,
            method: None,
            newkeys_sent: false,
            opener: None,
            host_key: Vec::new(),
        });
    }

    fn handle_input_inner(&mut self, data: &[u8]) -> Result<(), TransportError> {
        let mut data = data;
        if self.peer_ident.is_none() {
            self.ident_buf.extend_from_slice(data);
            data = &[];
            let allow_preamble = self.role == Role::Client;
            match read_identification(&self.ident_buf, allow_preamble) {
                Ok(None) => return Ok(()),
                Ok(Some((id, used))) => {
                    if !id.speaks_ssh2() {
                        let msg = format!("Protocol major versions differ: 2 vs. {}", id.proto);
                        self.out
                            .extend_from_slice(b"Protocol major versions differ.\r\n");
                        return Err(TransportError::new(
                            reason::SSH_DISCONNECT_PROTOCOL_VERSION_NOT_SUPPORTED,
                            msg,
                        ));
                    }
                    let rest = self.ident_buf.split_off(used);
                    self.ident_buf = Vec::new();
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
                    let what = match e {
                        IdentError::TooLong => "identification line too long".to_string(),
                        _ => format!("invalid protocol identifier {line:?}"),
                    };
                    return Err(TransportError::new(
                        reason::SSH_DISCONNECT_PROTOCOL_ERROR,
                        what,
                    ));
                }
            }
        }
        self.dec.feed(data);
        loop {
            if self.closed {
                return Ok(());
            }
            let before = self.dec.buffered();
            let packet = self.dec.next_packet().map_err(|e| match e {
                PacketError::Mac => TransportError::new(
                    reason::SSH_DISCONNECT_MAC_ERROR,
                    "message authentication code incorrect",
                ),
                other => TransportError::protocol(other.to_string()),
            })?;
            let Some((seq, payload)) = packet else {
                return Ok(());
            };
            self.bytes_since_kex += (before - self.dec.buffered()) as u64;
            self.handle_packet(seq, payload)?;
        }
    }

    fn handle_packet(&mut self, seq: u32, payload: Vec<u8>) -> Result<(), TransportError> {
        let Some(&number) = payload.first() else {
            return Err(TransportError::protocol("empty packet"));
        };
        let initial = self.session_id.is_none();
        if initial && self.strict && !matches!(number, 20 | 21 | 30..=49) {
            return Err(TransportError::protocol(format!(
                "strict KEX violation: unexpected packet type {number}"
            )));
        }
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
                for _ in 0..n.min(64) {
                    let name = r.utf8()?.to_string();
                    let value = r.string()?.to_vec();
                    ext.push((name, value));
                }
                self.push_event(Event::ExtInfo(ext))?;
            }
            msg::SSH_MSG_KEXINIT => self.on_kexinit(seq, payload)?,
            msg::SSH_MSG_NEWKEYS => self.on_newkeys()?,
            30..=49 => {
                let Some(kex) = self.kex.as_mut() else {
                    return Err(TransportError::protocol(format!(
                        "unexpected key exchange message {number}"
                    )));
                };
                if kex.ignore_next {
                    kex.ignore_next = false;
                    return Ok(());
                }
                self.on_kex_message(&payload)?;
            }
            50..=255 => {
                if initial {
                    return Err(TransportError::protocol(format!(
                        "message {number} before key exchange"
                    )));
                }
                self.push_event(Event::Message(payload))?;
            }
            _ => {
                let mut w = Writer::msg(msg::SSH_MSG_UNIMPLEMENTED);
                w.u32(seq);
                self.send_transport_message(w.as_slice())?;
            }
        }
        Ok(())
    }

    fn on_service_request(&mut self, payload: &[u8]) -> Result<(), TransportError> {
        if self.role != Role::Server || self.session_id.is_none() {
            return Err(TransportError::protocol("unexpected SERVICE_REQUEST"));
        }
        let name = Reader::new(&payload[1..]).utf8()?.to_string();
        if name != "ssh-userauth" || self.service_accepted {
            return Err(TransportError::new(
                reason::SSH_DISCONNECT_SERVICE_NOT_AVAILABLE,
                format!("service {name:?} not available"),
            ));
        }
        self.service_accepted = true;
        let mut w = Writer::msg(msg::SSH_MSG_SERVICE_ACCEPT);
        w.str(&name);
        // SERVICE_ACCEPT is not allowed during a key exchange: hold it back then.
        self.send_message(w.as_slice())
    }

    fn on_kexinit(&mut self, seq: u32, payload: Vec<u8>) -> Result<(), TransportError> {
        if self.kex.as_ref().is_some_and(|k| k.theirs.is_some()) {
            return Err(TransportError::protocol("KEXINIT during key exchange"));
        }
        if self.kex.is_none() {
            self.send_kexinit();
        }
        let peer = KexInit::parse(&payload)?;
        let first = self.session_id.is_none();
        if first {
            let strict = match self.role {
                Role::Server => peer.kex.contains(KEX_STRICT_C),
                Role::Client => peer.kex.contains(KEX_STRICT_S),
            };
            if strict && seq != 0 {
                return Err(TransportError::protocol(
                    "strict KEX violation: KEXINIT was not the first packet",
                ));
            }
            self.strict = strict;
            if self.role == Role::Server {
                self.ext_info_wanted = peer.kex.contains(EXT_INFO_C);
            }
        }
        let kex = self.kex.as_ref().expect("kex started above");
        let ours = KexInit::parse(&kex.ours).expect("our KEXINIT parses");
        let (client, server) = match self.role {
            Role::Server => (&peer, &ours),
            Role::Client => (&ours, &peer),
        };
        let negotiated = self.negotiate(client, server)?;
        let guess_wrong = peer.first_kex_follows
            && (peer.kex.iter().next() != Some(negotiated.kex.name())
                || peer.host_key.iter().next() != Some(negotiated.host_key.name()));
        let kex = self.kex.as_mut().expect("kex started above");
        kex.ignore_next = guess_wrong;
        kex.method = Some(new_method(negotiated.kex, self.role == Role::Client)?);
        kex.negotiated = Some(negotiated);
        kex.theirs = Some(payload);
        if self.role == Role::Client {
            let first = self.with_method(|m, ctx| m.start(ctx))?;
            if let Some(m) = first {
                self.send_transport_message(&m)?;
            }
        }
        Ok(())
    }

    fn negotiate(&self, c: &KexInit<'_>, s: &KexInit<'_>) -> Result<Negotiated, TransportError> {
        fn pick<'a>(
            what: &str,
            c: NameList<'a>,
            s: NameList<'_>,
        ) -> Result<&'a str, TransportError> {
            let server: Vec<&str> = s.iter().collect();
            negotiate(c.iter(), &server).ok_or_else(|| {
                TransportError::kex(format!(
                    "no matching {what} found: client {} server {}",
                    c.as_str(),
                    s.as_str()
                ))
            })
        }
        let kex = KexAlg::from_name(pick("key exchange method", c.kex, s.kex)?)
            .ok_or_else(|| TransportError::kex("unknown kex"))?;
        let host_key = HostKeyAlg::from_name(pick("host key type", c.host_key, s.host_key)?)
            .ok_or_else(|| TransportError::kex("unknown host key type"))?;
        let cipher_c2s = CipherAlg::from_name(pick("cipher", c.cipher_c2s, s.cipher_c2s)?)
            .ok_or_else(|| TransportError::kex("unknown cipher"))?;
        let cipher_s2c = CipherAlg::from_name(pick("cipher", c.cipher_s2c, s.cipher_s2c)?)
            .ok_or_else(|| TransportError::kex("unknown cipher"))?;
        let mac = |cipher: CipherAlg, cl: NameList<'_>, sl: NameList<'_>| {
            if cipher.is_aead() {
                return Ok(None);
            }
            MacAlg::from_name(pick("MAC", cl, sl)?)
                .map(Some)
                .ok_or_else(|| TransportError::kex("unknown MAC"))
        };
        let mac_c2s = mac(cipher_c2s, c.mac_c2s, s.mac_c2s)?;
        let mac_s2c = mac(cipher_s2c, c.mac_s2c, s.mac_s2c)?;
        pick("compression method", c.comp_c2s, s.comp_c2s)?;
        pick("compression method", c.comp_s2c, s.comp_s2c)?;
        Ok(Negotiated {
            kex,
            host_key,
            cipher_c2s,
            cipher_s2c,
            mac_c2s,
            mac_s2c,
            strict: self.strict,
        })
    }

    /// Runs `f` on the current method with a context built from the transport.
    fn with_method<T>(
        &mut self,
        f: impl FnOnce(&mut dyn Method, &mut Ctx<'_>) -> Result<T, TransportError>,
    ) -> Result<T, TransportError> {
        let kex = self
            .kex
            .as_mut()
            .ok_or_else(|| TransportError::protocol("no key exchange under way"))?;
        let (Some(neg), Some(method)) = (kex.negotiated.as_ref(), kex.method.as_mut()) else {
            return Err(TransportError::protocol(
                "key exchange message before KEXINIT",
            ));
        };
        let mut ctx = Ctx {
            rng: &mut *self.rng,
            need_bits: need_bits(neg),
            groups: &self.config.gex_groups,
        };
        f(method.as_mut(), &mut ctx)
    }

    /// A key-exchange message (30–49): the method decides what it means.
    fn on_kex_message(&mut self, payload: &[u8]) -> Result<(), TransportError> {
        if self.kex.as_ref().is_some_and(|k| k.newkeys_sent) {
            return Err(TransportError::protocol(format!(
                "unexpected key exchange message {} after NEWKEYS",
                payload[0]
            )));
        }
        match self.with_method(|m, ctx| m.handle(payload, ctx))? {
            Step::Send(m) => self.send_transport_message(&m),
            Step::Reply {
                number,
                reply_value,
                middle,
                k,
            } => self.server_reply(number, &reply_value, &middle, &k),
            Step::Verify {
                k_s,
                signature,
                middle,
                k,
            } => self.client_verify(k_s, &signature, &middle, &k),
        }
    }

    /// Server: signs the exchange hash, sends the reply and `SSH_MSG_NEWKEYS`.
    fn server_reply(
        &mut self,
        number: u8,
        reply_value: &[u8],
        middle: &[u8],
        k: &[u8],
    ) -> Result<(), TransportError> {
        let kex = self.kex.as_ref().expect("kex");
        let (Some(neg), Some(theirs)) = (kex.negotiated.clone(), kex.theirs.as_ref()) else {
            return Err(TransportError::protocol(
                "key exchange reply before KEXINIT",
            ));
        };
        let host_key = self
            .host_keys
            .iter()
            .find(|hk| hk.algorithms().contains(&neg.host_key))
            .ok_or_else(|| TransportError::kex("no host key for the negotiated algorithm"))?;
        let peer_ident = self.peer_ident.as_ref().expect("ident").line.as_bytes();
        let prefix = HashPrefix {
            v_c: peer_ident,
            v_s: self.our_ident.as_bytes(),
            i_c: theirs,
            i_s: &kex.ours,
            k_s: host_key.public_blob(),
        };
        let h = exchange_hash(neg.kex.hash(), &prefix, middle, k);
        let sig = host_key
            .sign(neg.host_key, &h, &mut *self.rng)
            .map_err(|e| TransportError::kex(e.to_string()))?;
        let k_s = host_key.public_blob().to_vec();
        let mut w = Writer::msg(number);
        w.string(&k_s).raw(reply_value).string(&sig);
        self.send_transport_message(w.as_slice())?;
        self.finish_exchange(&neg, k, &h, k_s)
    }

    /// Client: checks the server's signature over the exchange hash.
    fn client_verify(
        &mut self,
        k_s: Vec<u8>,
        signature: &[u8],
        middle: &[u8],
        k: &[u8],
    ) -> Result<(), TransportError> {
        let kex = self.kex.as_ref().expect("kex");
        let (Some(neg), Some(theirs)) = (kex.negotiated.clone(), kex.theirs.as_ref()) else {
            return Err(TransportError::protocol(
                "key exchange reply before KEXINIT",
            ));
        };
        let peer_ident = self.peer_ident.as_ref().expect("ident").line.as_bytes();
        let prefix = HashPrefix {
            v_c: self.our_ident.as_bytes(),
            v_s: peer_ident,
            i_c: &kex.ours,
            i_s: theirs,
            k_s: &k_s,
        };
        let h = exchange_hash(neg.kex.hash(), &prefix, middle, k);
        hostkey::verify(&k_s, neg.host_key, &h, signature).map_err(|e| {
            TransportError::new(
                reason::SSH_DISCONNECT_HOST_KEY_NOT_VERIFIABLE,
                e.to_string(),
            )
        })?;
        self.finish_exchange(&neg, k, &h, k_s)
    }

    /// Derives the keys, sends `SSH_MSG_NEWKEYS` and switches the outgoing direction.
    fn finish_exchange(
        &mut self,
        neg: &Negotiated,
        k: &[u8],
        h: &[u8],
        host_key: Vec<u8>,
    ) -> Result<(), TransportError> {
        let first = self.session_id.is_none();
        if first {
            self.session_id = Some(h.to_vec());
        }
        let session_id = self.session_id.clone().expect("set above");
        let lengths = |c: CipherAlg, m: Option<MacAlg>| KeyLengths {
            iv: c.iv_len(),
            key: c.key_len(),
            mac: m.map_or(0, |m| m.key_len()),
        };
        let (c2s, s2c) = derive_keys_with(
            neg.kex.hash(),
            k,
            h,
            &session_id,
            lengths(neg.cipher_c2s, neg.mac_c2s),
            lengths(neg.cipher_s2c, neg.mac_s2c),
        );
        let (out_keys, out_c, out_m, in_keys, in_c, in_m) = match self.role {
            Role::Server => (
                &s2c,
                neg.cipher_s2c,
                neg.mac_s2c,
                &c2s,
                neg.cipher_c2s,
                neg.mac_c2s,
            ),
            Role::Client => (
                &c2s,
                neg.cipher_c2s,
                neg.mac_c2s,
                &s2c,
                neg.cipher_s2c,
                neg.mac_s2c,
            ),
        };
        let sealer = new_sealer(out_c, out_m, out_keys)
            .map_err(|e| TransportError::kex(format!("cannot key {}: {e}", out_c.name())))?;
        let opener = new_opener(in_c, in_m, in_keys)
            .map_err(|e| TransportError::kex(format!("cannot key {}: {e}", in_c.name())))?;
        self.send_transport_message(&[msg::SSH_MSG_NEWKEYS])?;
        self.enc.set_sealer(sealer);
        if self.strict {
            self.enc.reset_seq();
        }
        let kex = self.kex.as_mut().expect("kex");
        kex.newkeys_sent = true;
        kex.opener = Some(opener);
        kex.host_key = host_key;
        if first && self.role == Role::Server && self.ext_info_wanted {
            let mut w = Writer::msg(msg::SSH_MSG_EXT_INFO);
            w.u32(1)
                .str("server-sig-algs")
                .str(&self.config.server_sig_algs.join(","));
            self.send_transport_message(w.as_slice())?;
        }
        // Messages held back during the exchange go out under the new keys.
        while let Some(m) = self.queued.pop_front() {
            self.write_packet(&m)?;
        }
        Ok(())
    }

    fn on_newkeys(&mut self) -> Result<(), TransportError> {
        let Some(kex) = self.kex.as_mut() else {
            return Err(TransportError::protocol("unexpected NEWKEYS"));
        };
        let Some(opener) = kex.opener.take() else {
            return Err(TransportError::protocol(
                "NEWKEYS before key exchange reply",
            ));
        };
        self.dec.set_opener(opener);
        if self.strict {
            self.dec.reset_seq();
        }
        let kex = self.kex.take().expect("kex");
        let negotiated = kex.negotiated.expect("negotiated before NEWKEYS");
        let first = self.kex_count == 0;
        self.kex_count += 1;
        self.bytes_since_kex = 0;
        self.negotiated = Some(negotiated.clone());
        self.push_event(Event::KeysEstablished {
            first,
            negotiated,
            host_key: kex.host_key,
        })?;
        // Messages queued while our side had not yet sent KEXINIT-then-NEWKEYS go out now.
        while let Some(m) = self.queued.pop_front() {
            self.write_packet(&m)?;
        }
        Ok(())
    }
}

/// The largest key, IV or MAC key of the negotiated suites, in bits (OpenSSH's
/// `dh_need`): it sizes DH exponents and group-exchange requests.
fn need_bits(neg: &Negotiated) -> usize {
    let one = |c: CipherAlg, m: Option<MacAlg>| {
        c.key_len()
            .max(c.iv_len())
            .max(m.map_or(0, |m| m.key_len()))
    };
    8 * one(neg.cipher_c2s, neg.mac_c2s).max(one(neg.cipher_s2c, neg.mac_s2c))
}
