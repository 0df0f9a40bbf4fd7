//! [`Transport`]: one connection's SSH transport layer, as a sans-IO state machine.
//!
//! Split by concern: [`phase`] holds the key-exchange states (the first exchange and a
//! re-exchange are different states, with different rules for what may arrive),
//! `dispatch` reads bytes and routes each packet, `negotiate` sends and answers
//! `SSH_MSG_KEXINIT` (including guessed packets, RFC 4253 §7.1), `exchange` runs the
//! method and switches keys (and holds an exchange that waits for the caller's
//! signature or group), `handover` is [`Transport::export`] / [`Transport::import`],
//! [`state`] is the [`TransportState`] they pass and its byte format, [`error`] is
//! [`TransportError`].
//!
//! Rules a hostile peer meets here:
//!
//! - until the peer's first `SSH_MSG_NEWKEYS` only key-exchange messages are taken (with
//!   strict kex only KEXINIT, NEWKEYS and 30–49), whatever we have already sent;
//! - a server takes no message of the layers above (50 and up) before it has accepted
//!   the client's `SSH_MSG_SERVICE_REQUEST` for `ssh-userauth`, and then says so with
//!   [`Event::ServiceAccepted`];
//! - before [`Transport::set_authenticated`], a peer gets at most [`MAX_PREAUTH_KEX`]
//!   key exchanges (each costs a modular exponentiation or more);
//! - a wrong guessed key-exchange packet is dropped, a right one is used.

mod dispatch;
mod error;
mod event;
mod exchange;
mod handover;
mod negotiate;
mod phase;
pub mod state;
#[cfg(test)]
mod tests;

pub use error::{AlgorithmKind, Stage, StrictKexViolation, TransportError};
pub use event::Event;
pub use handover::ExportError;
pub use state::{StateError, TransportState};

use crate::alg::KexAlg;
use crate::hostkey::HostKey;
use crate::hostkey::HostKeyError;
use crate::hostkey_alg::HostKeyAlg;
use crate::moduli::{DhGroup, GexGroups};
use phase::{Exchange, Phase};
use rand_core::CryptoRngCore;
use sisu_cipher::{CipherAlg, DirectionKeys, MacAlg};
use sisu_wire::ident::Identification;
use sisu_wire::msg;
use sisu_wire::packet::{PacketDecoder, PacketEncoder};
use sisu_wire::Writer;
use std::collections::VecDeque;
use std::fmt;

/// The name a server puts in its first `kex_algorithms` to offer strict kex.
pub const KEX_STRICT_S: &str = "kex-strict-s-v00@openssh.com";
/// The name a client puts in its first `kex_algorithms` to offer strict kex.
pub const KEX_STRICT_C: &str = "kex-strict-c-v00@openssh.com";
/// The name a client puts in `kex_algorithms` to ask for `SSH_MSG_EXT_INFO` (RFC 8308).
pub const EXT_INFO_C: &str = "ext-info-c";
/// Dropbear's extension name (in `kex_algorithms`): when both sides list it, a guessed
/// key-exchange packet is right when the negotiated key exchange and host-key
/// algorithms are the guesser's first choices, rather than when both sides' first
/// choices are equal (RFC 4253 §7.1). Sisu lists it in every KEXINIT while
/// [`TransportConfig::kex_guess2`] is on (the default): it only saves Dropbear's client
/// a round trip, and changes nothing for a peer that does not list it.
pub const KEX_GUESS2: &str = "kexguess2@matt.ucc.asn.au";
/// Most upper-layer messages held back while a key exchange is under way.
pub const MAX_QUEUED_MESSAGES: usize = 4096;
/// Most events waiting for the caller.
pub const MAX_PENDING_EVENTS: usize = 4096;
/// Most bytes of input held, unread, while the transport waits for the caller's
/// answer ([`Event::SignatureNeeded`], [`Event::GroupNeeded`]): four of the largest
/// packets. More ends the connection with [`TransportError::QueueFull`]; a caller
/// should stop reading the socket while [`Transport::awaiting_answer`] is true.
pub const MAX_INPUT_WHILE_WAITING: usize = 4 * (sisu_wire::packet::MAX_PACKET_LEN as usize + 64);
/// Default number of bytes (both directions) after which the transport starts a rekey.
pub const DEFAULT_REKEY_BYTES: u64 = 1 << 30;
/// Most key exchanges a peer gets before [`Transport::set_authenticated`]: the first one
/// and two re-exchanges the peer starts. The next KEXINIT that would start one ends the
/// connection with [`TransportError::KexFlood`] (a DISCONNECT with
/// `SSH_DISCONNECT_PROTOCOL_ERROR`, the reason OpenSSH gives all its own disconnects)
/// before any work is done for it. Re-exchanges we start ourselves (by volume, or
/// [`Transport::start_rekey`]) do not count. A real client has no reason to rekey before
/// it has logged in; one that does so repeatedly makes the server do a large modular
/// exponentiation (group16/18, group exchange) or a post-quantum decapsulation each time.
pub const MAX_PREAUTH_KEX: u32 = 3;

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
    /// For a server: the groups Diffie-Hellman group exchange picks from (the built-in
    /// RFC 3526 groups by default), or [`GexGroups::from_caller`]: then each group is
    /// chosen by the caller ([`Event::GroupNeeded`], a moduli file's, see
    /// [`crate::moduli`]).
    pub gex_groups: GexGroups,
    /// Offer strict kex (`kex-strict-*-v00@openssh.com`) in the first KEXINIT. On by
    /// default; off only to talk to (or test against) a peer without it.
    pub strict_kex: bool,
    /// List [`KEX_GUESS2`] in every KEXINIT (on by default).
    pub kex_guess2: bool,
    /// For a client: set `first_kex_packet_follows` and send the first key-exchange
    /// packet of our first choices (key exchange, host key, cipher, MAC) right after a
    /// KEXINIT that we send before the peer's, saving a round trip when the guess is
    /// right. Off by default, as OpenSSH.
    pub send_kex_guess: bool,
    /// For a server: protocol 1.5 is served too (`Protocol 2,1`). Our identification
    /// says `SSH-1.99` (or `SSH-1.5` without [`TransportConfig::protocol_2`]), our
    /// KEXINIT waits for the peer's identification, and a peer that speaks only
    /// protocol 1 is handed back with [`Event::Protocol1`]. Off by default.
    pub protocol_1: bool,
    /// For a server with [`TransportConfig::protocol_1`]: SSH-2 is served as well (on
    /// by default; off is `Protocol 1`, where an SSH-2-only peer is refused).
    pub protocol_2: bool,
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
            strict_kex: true,
            kex_guess2: true,
            send_kex_guess: false,
            protocol_1: false,
            protocol_2: true,
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

/// One connection's transport: identification exchange, key exchange and rekeying,
/// packet protection, and routing of messages to the layers above.
///
/// Bytes from the socket go to [`Transport::handle_input`]; bytes for the socket come
/// from [`Transport::poll_transmit`]; upper-layer messages go in through
/// [`Transport::send_message`] and come out as [`Event::Message`].
///
/// # Its methods, by kind, and the order to call them
///
/// - **Construct**: [`Transport::server`] (with its host keys: private, behind an
///   [`crate::ExternalSigner`], or [`HostKey::public_only`]) or [`Transport::client`];
///   our identification line and KEXINIT are queued at once. Or [`Transport::import`]
///   of a state another process exported.
/// - **Input**: [`Transport::handle_input`] with bytes from the socket, in any
///   chunking. An `Err` ends the connection; errors are sticky and the DISCONNECT they
///   queued can still be flushed.
/// - **Upper-layer input**: [`Transport::send_message`] (50 and up, held back during a
///   key exchange), [`Transport::request_service`] (client),
///   [`Transport::set_authenticated`] once the authentication layer succeeded,
///   [`Transport::disconnect`].
/// - **Events**: after every call above, [`Transport::poll_event`] until `None`.
/// - **Questions and answers**: two events pause the key exchange until the caller
///   answers: [`Event::SignatureNeeded`] with [`Transport::provide_signature`] (a
///   [`HostKey::public_only`] key: the monitor signs), [`Event::GroupNeeded`] with
///   [`Transport::provide_group`] ([`GexGroups::from_caller`]: the caller reads the
///   moduli file). While [`Transport::awaiting_answer`] is true input is held unread
///   (at most [`MAX_INPUT_WHILE_WAITING`] bytes): stop reading the socket. After an
///   answer, poll events and output again.
/// - **Output**: after every call above, [`Transport::poll_transmit`] (or
///   [`Transport::transmit_into`]) and write the bytes to the socket.
/// - **Timers**: none inside: the transport reads no clock. Time-based rekeying is the
///   caller's [`Transport::start_rekey`]; volume-based rekeying
///   ([`TransportConfig::rekey_bytes`]) happens by itself after authentication.
/// - **Handover**: between key exchanges ([`Transport::can_export`]),
///   [`Transport::export`] gives a [`TransportState`] (to bytes with
///   [`TransportState::to_bytes`], back with [`TransportState::from_bytes`]) and
///   finishes this transport; [`Transport::import`] goes on with it in a fresh one.
/// - **Queries**: [`Transport::session_id`], [`Transport::negotiated`],
///   [`Transport::is_keyed`], [`Transport::kex_in_progress`], [`Transport::is_closed`],
///   [`Transport::error`], [`Transport::host_keys`] and the like, at any time.
///
/// One turn: `handle_input` → `poll_event`* (answering questions as they come, and
/// handing [`Event::Message`]s to the layers above, whose output goes to
/// `send_message`) → `poll_transmit`.
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
    phase: Phase,
    negotiated: Option<Negotiated>,
    session_id: Option<Vec<u8>>,
    kex_count: u64,
    strict: bool,
    ext_info_wanted: bool,
    service_accepted: bool,
    authenticated: bool,
    /// Key exchanges the peer asked for while not authenticated (the first included).
    preauth_kex: u32,
    queued: VecDeque<Vec<u8>>,
    bytes_since_kex: u64,
    error: Option<TransportError>,
    closed: bool,
    /// The suite and keys we send with (kept for [`Transport::export`]).
    out_suite: Option<Suite>,
    /// The suite and keys we receive with.
    in_suite: Option<Suite>,
}

/// One direction's suite and keys, as derived.
#[derive(Clone)]
pub(crate) struct Suite {
    /// The cipher.
    pub cipher: CipherAlg,
    /// The MAC (`None` for an AEAD cipher).
    pub mac: Option<MacAlg>,
    /// The derived keys (initial IV, key, MAC key); zeroized on drop.
    pub keys: DirectionKeys,
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

    /// A client transport. Our identification line and first `SSH_MSG_KEXINIT` (and,
    /// with [`TransportConfig::send_kex_guess`], a guessed first key-exchange packet)
    /// are queued at once.
    pub fn client(config: TransportConfig, rng: Box<dyn CryptoRngCore + Send>) -> Self {
        Self::new(Role::Client, config, Vec::new(), rng)
    }

    fn new(
        role: Role,
        config: TransportConfig,
        host_keys: Vec<HostKey>,
        rng: Box<dyn CryptoRngCore + Send>,
    ) -> Self {
        // Protocol 1 beside 2 is `1.99`, alone `1.5` (a server's choice only).
        let serves_1 = role == Role::Server && config.protocol_1;
        let proto = match (serves_1, config.protocol_2) {
            (false, _) => "2.0",
            (true, true) => "1.99",
            (true, false) => "1.5",
        };
        let our_ident = format!("SSH-{proto}-{}", config.software_version);
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
            phase: Phase::First {
                exchange: Exchange::new(Vec::new()),
            },
            negotiated: None,
            session_id: None,
            kex_count: 0,
            strict: false,
            ext_info_wanted: false,
            service_accepted: false,
            authenticated: false,
            preauth_kex: 1,
            queued: VecDeque::new(),
            bytes_since_kex: 0,
            error: None,
            closed: false,
            out_suite: None,
            in_suite: None,
        };
        t.out.extend_from_slice(t.our_ident.as_bytes());
        t.out.extend_from_slice(b"\r\n");
        if !serves_1 {
            let exchange = t.start_kexinit(true);
            t.phase = Phase::First { exchange };
        }
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

    /// The session identifier (the first exchange hash), once our side of the first key
    /// exchange is done (our `SSH_MSG_NEWKEYS` sent).
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
        self.phase.exchange().is_some()
    }

    /// Whether the first key exchange is over in both directions (the peer's first
    /// `SSH_MSG_NEWKEYS` has arrived).
    pub fn is_keyed(&self) -> bool {
        !self.phase.is_first()
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

    /// Tells the transport that the user has authenticated (the caller's
    /// authentication layer succeeded): from now on the peer may rekey as often as it
    /// likes ([`MAX_PREAUTH_KEX`] no longer applies).
    pub fn set_authenticated(&mut self) {
        self.authenticated = true;
    }

    /// Whether [`Transport::set_authenticated`] was called.
    pub fn is_authenticated(&self) -> bool {
        self.authenticated
    }

    /// The host keys given to [`Transport::server`] (the indices of
    /// [`Event::SignatureNeeded`] point into this list).
    pub fn host_keys(&self) -> &[HostKey] {
        &self.host_keys
    }

    /// Whether a key exchange waits for the caller's answer to
    /// [`Event::SignatureNeeded`] or [`Event::GroupNeeded`]. Input is held unread
    /// meanwhile (at most [`MAX_INPUT_WHILE_WAITING`] bytes): a caller should stop
    /// reading the socket until it has answered.
    pub fn awaiting_answer(&self) -> bool {
        self.phase.exchange().is_some_and(|x| x.waiting.is_some())
    }

    /// Answers [`Event::SignatureNeeded`] with the signature blob
    /// (`string algorithm ‖ string signature`), or the reason there is none (which
    /// ends the connection: the key exchange fails). The signature is verified against
    /// the host key before it is sent; a bad one fails the key exchange too. Then the
    /// reply and `SSH_MSG_NEWKEYS` go out and the input held meanwhile is processed.
    /// Does nothing when no signature is awaited.
    pub fn provide_signature(
        &mut self,
        signature: Result<Vec<u8>, HostKeyError>,
    ) -> Result<(), TransportError> {
        self.answered(|t| t.signature_provided(signature))
    }

    /// Answers [`Event::GroupNeeded`] with a group, or `None` when none fits (which
    /// fails the key exchange, as does a group outside the request's bounds). Then
    /// `SSH_MSG_KEX_DH_GEX_GROUP` goes out and the input held meanwhile is processed.
    /// Does nothing when no group is awaited.
    pub fn provide_group(&mut self, group: Option<DhGroup>) -> Result<(), TransportError> {
        self.answered(|t| t.group_provided(group))
    }

    /// Runs an answer's continuation, then the input that waited; errors are sticky.
    fn answered(
        &mut self,
        f: impl FnOnce(&mut Self) -> Result<(), TransportError>,
    ) -> Result<(), TransportError> {
        if let Some(e) = &self.error {
            return Err(e.clone());
        }
        if self.closed {
            return Ok(());
        }
        let r = f(self).and_then(|()| self.handle_input_inner(&[]));
        if let Err(e) = &r {
            self.fail(e.clone());
        }
        r
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
    /// under way (from our KEXINIT to our NEWKEYS) it is held back and sent after our
    /// `SSH_MSG_NEWKEYS`.
    pub fn send_message(&mut self, payload: &[u8]) -> Result<(), TransportError> {
        if let Some(e) = &self.error {
            return Err(e.clone());
        }
        if self.closed {
            return Ok(());
        }
        if self.phase.holds_back_output() {
            if self.queued.len() >= MAX_QUEUED_MESSAGES {
                let e = TransportError::QueueFull("too many messages queued during key exchange");
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

    /// Starts a key re-exchange now (for time-based rekeying), unless one is running or
    /// the first one is not over. A caller should not call it before the user has
    /// authenticated ([`Transport::set_authenticated`]): OpenSSH's client cannot cope
    /// with a key exchange during authentication ("bad message during authentication:
    /// type 20"), and the transport's own volume-based rekeying waits for it.
    pub fn start_rekey(&mut self) {
        if matches!(self.phase, Phase::Keyed { rekey: None }) && !self.is_closed() {
            let exchange = self.start_kexinit(true);
            self.phase = Phase::Keyed {
                rekey: Some(exchange),
            };
        }
    }

    /// As a client: asks for a service (`ssh-userauth`). Like the layers' messages, the
    /// request is held back until our `SSH_MSG_NEWKEYS` is out (RFC 4253 §7.1 forbids
    /// it during a key exchange).
    pub fn request_service(&mut self, service: &str) -> Result<(), TransportError> {
        let mut w = Writer::msg(msg::SSH_MSG_SERVICE_REQUEST);
        w.str(service);
        self.send_message(w.as_slice())
    }

    // ---- internals shared by the submodules ----

    fn fail(&mut self, e: TransportError) {
        if self.error.is_none() {
            if self.peer_ident.is_some() {
                self.queue_disconnect(e.reason(), &e.to_string());
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
            .encode(payload, &mut |p| rng.fill_bytes(p), &mut self.out)?;
        self.bytes_since_kex += (self.out.len() - before) as u64;
        Ok(())
    }

    /// Transport-layer messages (1–49) go out at once, even during key exchange.
    fn send_transport_message(&mut self, payload: &[u8]) -> Result<(), TransportError> {
        self.write_packet(payload)
    }

    fn push_event(&mut self, e: Event) -> Result<(), TransportError> {
        if self.events.len() >= MAX_PENDING_EVENTS {
            return Err(TransportError::QueueFull("event queue full"));
        }
        self.events.push_back(e);
        Ok(())
    }

    /// The volume limit ([`TransportConfig::rekey_bytes`]) starts a rekey once the user
    /// has authenticated (see [`Transport::start_rekey`]); the bytes still count before.
    fn maybe_rekey(&mut self) {
        if self.authenticated && self.bytes_since_kex >= self.config.rekey_bytes {
            self.start_rekey();
        }
    }

    /// Messages held back during the exchange go out (under the new keys).
    fn flush_queued(&mut self) -> Result<(), TransportError> {
        while let Some(m) = self.queued.pop_front() {
            self.write_packet(&m)?;
        }
        Ok(())
    }
}

/// The largest key, IV or MAC key of a cipher and MAC, in bytes.
fn suite_need(c: CipherAlg, m: Option<MacAlg>) -> usize {
    c.key_len()
        .max(c.iv_len())
        .max(m.map_or(0, |m| m.key_len()))
}

/// The largest key, IV or MAC key of the negotiated suites, in bits (OpenSSH's
/// `dh_need`): it sizes DH exponents and group-exchange requests.
fn need_bits(neg: &Negotiated) -> usize {
    8 * suite_need(neg.cipher_c2s, neg.mac_c2s).max(suite_need(neg.cipher_s2c, neg.mac_s2c))
}
