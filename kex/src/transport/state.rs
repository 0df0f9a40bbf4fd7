//! [`TransportState`]: everything a [`super::Transport`] holds between key exchanges,
//! as a value that crosses a process boundary, and its byte encoding.
//!
//! The encoding uses the RFC 4251 types of `sisu-wire` (`byte`, `boolean` as exactly 0
//! or 1, `uint32`, `uint64`, `string`), in this order:
//!
//! ```text
//! string   "sisu-transport-state-v1"
//! byte     role                      0 server, 1 client
//! string   our identification line   without CR LF
//! string   peer identification line  without CR LF
//! string   kex                       negotiated algorithm names...
//! string   host key algorithm
//! string   cipher c2s, string cipher s2c
//! string   mac c2s, string mac s2c   "" for an AEAD cipher
//! boolean  strict kex
//! string   session id
//! uint64   key exchanges completed
//! boolean  ext-info wanted, boolean service accepted, boolean authenticated
//! uint32   key exchanges the peer started before authentication (the first included)
//! uint64   bytes since the last key exchange
//! suite    outgoing, then incoming:  string cipher, string mac, string iv,
//!                                    string key, string mac key   (as derived)
//! uint32   outgoing sequence number, string outgoing stream state
//! uint32   incoming sequence number, string incoming stream state
//! string   input received, not yet a packet (a decrypted head stays decrypted)
//! boolean  + uint32   length of the packet being read, when its head is decrypted
//! boolean  + uint32   bytes still to drop of a bad packet (encrypt-and-MAC)
//! string   output not yet taken by the caller
//! uint32   n, string[n]   upper-layer messages held back
//! uint32   n, event[n]    events not yet taken by the caller:
//!          byte 0, string line                     PeerIdentification
//!          byte 1, boolean first, string kex, string host key alg, string cipher c2s,
//!                  string cipher s2c, string mac c2s, string mac s2c, boolean strict,
//!                  string host key blob            KeysEstablished
//!          byte 2, string name                     ServiceAccepted
//!          byte 3, uint32 n, (string, string)[n]   ExtInfo
//!          byte 4, string payload                  Message
//! ```
//!
//! [`TransportState::from_bytes`] reads as carefully as network input, since the bytes
//! may come from a compromised process: at most [`MAX_STATE_LEN`] bytes, every length
//! and count bounded by a named constant before anything is allocated, every algorithm
//! name known, every flag exactly 0 or 1, nothing left over. What can only be checked
//! against the suites (stream states, a half-read packet) is checked by
//! [`super::Transport::import`].

use super::{Event, Negotiated, Role, Suite};
use super::{MAX_INPUT_WHILE_WAITING, MAX_PENDING_EVENTS, MAX_QUEUED_MESSAGES};
use crate::alg::KexAlg;
use crate::hostkey_alg::HostKeyAlg;
use sisu_cipher::{CipherAlg, DirectionKeys, MacAlg};
use sisu_wire::ident::{parse_line, Identification};
use sisu_wire::packet::{DecoderState, EncoderState, StreamState, MAX_PACKET_LEN};
use sisu_wire::{Reader, WireError, Writer};
use std::fmt;
use zeroize::{Zeroize, Zeroizing};

/// The first field of every encoded state: its format and version.
pub const STATE_MAGIC: &str = "sisu-transport-state-v1";
/// Longest encoded [`TransportState`] accepted (and produced: a transport whose state
/// would be longer refuses to export).
pub const MAX_STATE_LEN: usize = 16 << 20;
/// Longest key, IV or MAC key in a state (chacha20-poly1305's 64-byte key, HMAC-SHA-512's
/// 64-byte MAC key).
pub const MAX_KEY_LEN: usize = 64;
/// Longest session id (an exchange hash: SHA-512 at most).
pub const MAX_SESSION_ID_LEN: usize = 64;
/// Longest identification line (RFC 4253 §4.2: 255 with CR LF).
const MAX_IDENT_LEN: usize = 255;
/// Longest algorithm name (RFC 4251 §6: 64 characters).
const MAX_NAME_LEN: usize = 64;
/// Longest host key blob in a `KeysEstablished` event (a certificate).
const MAX_HOST_KEY_LEN: usize = 16 * 1024;
/// Most `SSH_MSG_EXT_INFO` extensions in an event.
const MAX_EXTENSIONS: u32 = 64;

/// Why a state could not be decoded or imported.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StateError {
    /// More than [`MAX_STATE_LEN`] bytes.
    TooLong(usize),
    /// Not a state of this format and version.
    BadMagic,
    /// A field did not parse (truncated, over its bound, not UTF-8, trailing bytes).
    Malformed(WireError),
    /// A field parsed but its value is impossible (named).
    Invalid(&'static str),
    /// The suite could not be rebuilt from the keys and stream state.
    Suite(sisu_cipher::SuiteError),
    /// The incoming codec's state does not fit its suite.
    Codec(sisu_wire::packet::BadCodecState),
}

impl fmt::Display for StateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StateError::TooLong(n) => write!(f, "transport state of {n} bytes is too long"),
            StateError::BadMagic => f.write_str("not a transport state of this version"),
            StateError::Malformed(e) => write!(f, "malformed transport state: {e}"),
            StateError::Invalid(what) => write!(f, "invalid transport state: {what}"),
            StateError::Suite(e) => write!(f, "transport state: {e}"),
            StateError::Codec(e) => write!(f, "transport state: {e}"),
        }
    }
}

impl std::error::Error for StateError {}

impl From<WireError> for StateError {
    fn from(e: WireError) -> Self {
        StateError::Malformed(e)
    }
}

/// An event not yet taken by the caller, as a state carries it.
pub(super) enum SavedEvent {
    PeerIdentification(String),
    KeysEstablished {
        first: bool,
        negotiated: Negotiated,
        host_key: Vec<u8>,
    },
    ServiceAccepted(String),
    ExtInfo(Vec<(String, Vec<u8>)>),
    Message(Vec<u8>),
}

impl SavedEvent {
    /// The event as a state carries it; `None` for the kinds that cannot be pending
    /// between key exchanges on an open connection (questions, a disconnect).
    pub(super) fn save(e: Event) -> Option<Self> {
        Some(match e {
            Event::PeerIdentification(id) => SavedEvent::PeerIdentification(id.line),
            Event::KeysEstablished {
                first,
                negotiated,
                host_key,
            } => SavedEvent::KeysEstablished {
                first,
                negotiated,
                host_key,
            },
            Event::ServiceAccepted(s) => SavedEvent::ServiceAccepted(s),
            Event::ExtInfo(x) => SavedEvent::ExtInfo(x),
            Event::Message(m) => SavedEvent::Message(m),
            Event::Disconnected { .. }
            | Event::SignatureNeeded { .. }
            | Event::GroupNeeded(_)
            | Event::Protocol1 { .. } => return None,
        })
    }

    /// The event again.
    pub(super) fn restore(self) -> Result<Event, StateError> {
        Ok(match self {
            SavedEvent::PeerIdentification(line) => {
                Event::PeerIdentification(identification(&line)?)
            }
            SavedEvent::KeysEstablished {
                first,
                negotiated,
                host_key,
            } => Event::KeysEstablished {
                first,
                negotiated,
                host_key,
            },
            SavedEvent::ServiceAccepted(s) => Event::ServiceAccepted(s),
            SavedEvent::ExtInfo(x) => Event::ExtInfo(x),
            SavedEvent::Message(m) => Event::Message(m),
        })
    }

    fn len(&self) -> usize {
        match self {
            SavedEvent::PeerIdentification(s) | SavedEvent::ServiceAccepted(s) => s.len(),
            SavedEvent::KeysEstablished { host_key, .. } => host_key.len() + 512,
            SavedEvent::ExtInfo(x) => x.iter().map(|(n, v)| n.len() + v.len() + 8).sum(),
            SavedEvent::Message(m) => m.len(),
        }
    }
}

/// A [`super::Transport`]'s whole state between key exchanges, taken by
/// [`super::Transport::export`] and given to [`super::Transport::import`] (in another
/// process, through [`TransportState::to_bytes`] and [`TransportState::from_bytes`]).
///
/// It holds both directions' keys: every byte buffer in it is wiped when it is dropped,
/// and [`fmt::Debug`] shows no key material.
pub struct TransportState {
    pub(super) role: Role,
    pub(super) our_ident: String,
    pub(super) peer_ident: String,
    pub(super) negotiated: Negotiated,
    pub(super) session_id: Vec<u8>,
    pub(super) kex_count: u64,
    pub(super) ext_info_wanted: bool,
    pub(super) service_accepted: bool,
    pub(super) authenticated: bool,
    pub(super) preauth_kex: u32,
    pub(super) bytes_since_kex: u64,
    pub(super) out_suite: Suite,
    pub(super) in_suite: Suite,
    pub(super) encoder: EncoderState,
    pub(super) decoder: DecoderState,
    pub(super) pending_output: Vec<u8>,
    pub(super) queued: Vec<Vec<u8>>,
    pub(super) events: Vec<SavedEvent>,
}

impl Drop for TransportState {
    fn drop(&mut self) {
        // The suites' keys and the codec states wipe themselves; the rest here.
        self.session_id.zeroize();
        self.pending_output.zeroize();
        for m in &mut self.queued {
            m.zeroize();
        }
        for e in &mut self.events {
            match e {
                SavedEvent::Message(m) => m.zeroize(),
                SavedEvent::ExtInfo(x) => x.iter_mut().for_each(|(_, v)| v.zeroize()),
                _ => {}
            }
        }
    }
}

impl fmt::Debug for TransportState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TransportState")
            .field("role", &self.role)
            .field("negotiated", &self.negotiated)
            .field("kex_count", &self.kex_count)
            .field("authenticated", &self.authenticated)
            .field("decoder", &self.decoder)
            .field("pending_output", &self.pending_output.len())
            .field("events", &self.events.len())
            .finish_non_exhaustive()
    }
}

impl TransportState {
    /// Which end of the connection this is.
    pub fn role(&self) -> Role {
        self.role
    }

    /// The session identifier (the first exchange hash).
    pub fn session_id(&self) -> &[u8] {
        &self.session_id
    }

    /// The algorithms in use.
    pub fn negotiated(&self) -> &Negotiated {
        &self.negotiated
    }

    /// Whether the transport had been told the user authenticated.
    pub fn is_authenticated(&self) -> bool {
        self.authenticated
    }

    /// An upper bound of the encoded length, without the fixed-size fields.
    pub(super) fn variable_len(&self) -> usize {
        self.decoder.buffered.len()
            + self.pending_output.len()
            + self.queued.iter().map(|m| m.len() + 4).sum::<usize>()
            + self.events.iter().map(|e| e.len() + 16).sum::<usize>()
    }

    /// The encoding (see the module docs), in a buffer that is wiped when dropped and
    /// allocated once, so that no copy of the keys is left behind by a reallocation.
    pub fn to_bytes(&self) -> Zeroizing<Vec<u8>> {
        let mut w = Writer::with_capacity(self.variable_len() + 4096);
        w.str(STATE_MAGIC);
        w.u8(match self.role {
            Role::Server => 0,
            Role::Client => 1,
        });
        w.str(&self.our_ident).str(&self.peer_ident);
        put_negotiated(&mut w, &self.negotiated);
        w.string(&self.session_id).u64(self.kex_count);
        w.bool(self.ext_info_wanted)
            .bool(self.service_accepted)
            .bool(self.authenticated);
        w.u32(self.preauth_kex).u64(self.bytes_since_kex);
        put_suite(&mut w, &self.out_suite);
        put_suite(&mut w, &self.in_suite);
        w.u32(self.encoder.seq)
            .string(self.encoder.stream.as_bytes());
        w.u32(self.decoder.seq)
            .string(self.decoder.stream.as_bytes())
            .string(&self.decoder.buffered);
        put_opt(&mut w, self.decoder.pending_length);
        put_opt(&mut w, self.decoder.discard);
        w.string(&self.pending_output);
        w.u32(self.queued.len() as u32);
        for m in &self.queued {
            w.string(m);
        }
        w.u32(self.events.len() as u32);
        for e in &self.events {
            match e {
                SavedEvent::PeerIdentification(line) => {
                    w.u8(0).str(line);
                }
                SavedEvent::KeysEstablished {
                    first,
                    negotiated,
                    host_key,
                } => {
                    w.u8(1).bool(*first);
                    put_negotiated(&mut w, negotiated);
                    w.string(host_key);
                }
                SavedEvent::ServiceAccepted(name) => {
                    w.u8(2).str(name);
                }
                SavedEvent::ExtInfo(x) => {
                    w.u8(3).u32(x.len() as u32);
                    for (name, value) in x {
                        w.str(name).string(value);
                    }
                }
                SavedEvent::Message(m) => {
                    w.u8(4).string(m);
                }
            }
        }
        Zeroizing::new(w.into_vec())
    }

    /// Decodes [`TransportState::to_bytes`]' encoding, refusing anything else (see the
    /// module docs for what is checked).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, StateError> {
        if bytes.len() > MAX_STATE_LEN {
            return Err(StateError::TooLong(bytes.len()));
        }
        let mut r = Reader::new(bytes);
        if r.string().ok() != Some(STATE_MAGIC.as_bytes()) {
            return Err(StateError::BadMagic);
        }
        let role = match r.u8()? {
            0 => Role::Server,
            1 => Role::Client,
            _ => return Err(StateError::Invalid("role")),
        };
        let our_ident = text(&mut r, MAX_IDENT_LEN)?;
        identification(&our_ident)?;
        let peer_ident = text(&mut r, MAX_IDENT_LEN)?;
        identification(&peer_ident)?;
        let negotiated = get_negotiated(&mut r)?;
        let session_id = bounded(&mut r, MAX_SESSION_ID_LEN)?.to_vec();
        if session_id.is_empty() {
            return Err(StateError::Invalid("empty session id"));
        }
        let kex_count = r.u64()?;
        if kex_count == 0 {
            return Err(StateError::Invalid("no key exchange done"));
        }
        let ext_info_wanted = flag(&mut r)?;
        let service_accepted = flag(&mut r)?;
        let authenticated = flag(&mut r)?;
        let preauth_kex = r.u32()?;
        let bytes_since_kex = r.u64()?;
        let out_suite = get_suite(&mut r)?;
        let in_suite = get_suite(&mut r)?;
        let (sent, received) = match role {
            Role::Server => (
                (negotiated.cipher_s2c, negotiated.mac_s2c),
                (negotiated.cipher_c2s, negotiated.mac_c2s),
            ),
            Role::Client => (
                (negotiated.cipher_c2s, negotiated.mac_c2s),
                (negotiated.cipher_s2c, negotiated.mac_s2c),
            ),
        };
        if (out_suite.cipher, out_suite.mac) != sent || (in_suite.cipher, in_suite.mac) != received
        {
            return Err(StateError::Invalid(
                "suites differ from the negotiated algorithms",
            ));
        }
        let encoder = EncoderState {
            seq: r.u32()?,
            stream: stream(&mut r)?,
        };
        let dec_seq = r.u32()?;
        let dec_stream = stream(&mut r)?;
        let buffered = bounded(&mut r, MAX_INPUT_WHILE_WAITING)?.to_vec();
        let decoder = DecoderState {
            seq: dec_seq,
            stream: dec_stream,
            buffered,
            pending_length: get_opt(&mut r)?,
            discard: get_opt(&mut r)?,
        };
        let pending_output = bounded(&mut r, MAX_STATE_LEN)?.to_vec();
        let n = count(&mut r, MAX_QUEUED_MESSAGES)?;
        let mut queued = Vec::new();
        for _ in 0..n {
            queued.push(bounded(&mut r, MAX_PACKET_LEN as usize)?.to_vec());
        }
        let n = count(&mut r, MAX_PENDING_EVENTS)?;
        let mut events = Vec::new();
        for _ in 0..n {
            events.push(get_event(&mut r)?);
        }
        r.finish()?;
        Ok(TransportState {
            role,
            our_ident,
            peer_ident,
            negotiated,
            session_id,
            kex_count,
            ext_info_wanted,
            service_accepted,
            authenticated,
            preauth_kex,
            bytes_since_kex,
            out_suite,
            in_suite,
            encoder,
            decoder,
            pending_output,
            queued,
            events,
        })
    }
}

/// An identification line parsed again.
pub(super) fn identification(line: &str) -> Result<Identification, StateError> {
    parse_line(line.as_bytes()).map_err(|_| StateError::Invalid("identification line"))
}

fn put_opt(w: &mut Writer, v: Option<u32>) {
    w.bool(v.is_some()).u32(v.unwrap_or(0));
}

fn get_opt(r: &mut Reader<'_>) -> Result<Option<u32>, StateError> {
    let some = flag(r)?;
    let v = r.u32()?;
    match (some, v) {
        (true, v) => Ok(Some(v)),
        (false, 0) => Ok(None),
        (false, _) => Err(StateError::Invalid("value of an absent field")),
    }
}

fn put_negotiated(w: &mut Writer, n: &Negotiated) {
    w.str(n.kex.name())
        .str(n.host_key.name())
        .str(n.cipher_c2s.name())
        .str(n.cipher_s2c.name())
        .str(n.mac_c2s.map_or("", MacAlg::name))
        .str(n.mac_s2c.map_or("", MacAlg::name))
        .bool(n.strict);
}

fn get_negotiated(r: &mut Reader<'_>) -> Result<Negotiated, StateError> {
    let kex = KexAlg::from_name(&text(r, MAX_NAME_LEN)?).ok_or(StateError::Invalid("kex"))?;
    let host_key =
        HostKeyAlg::from_name(&text(r, MAX_NAME_LEN)?).ok_or(StateError::Invalid("host key"))?;
    let cipher_c2s = cipher(r)?;
    let cipher_s2c = cipher(r)?;
    let mac_c2s = mac(r, cipher_c2s)?;
    let mac_s2c = mac(r, cipher_s2c)?;
    Ok(Negotiated {
        kex,
        host_key,
        cipher_c2s,
        cipher_s2c,
        mac_c2s,
        mac_s2c,
        strict: flag(r)?,
    })
}

fn put_suite(w: &mut Writer, s: &Suite) {
    w.str(s.cipher.name())
        .str(s.mac.map_or("", MacAlg::name))
        .string(&s.keys.iv)
        .string(&s.keys.key)
        .string(&s.keys.mac_key);
}

fn get_suite(r: &mut Reader<'_>) -> Result<Suite, StateError> {
    let cipher = cipher(r)?;
    let mac = mac(r, cipher)?;
    let keys = DirectionKeys {
        iv: bounded(r, MAX_KEY_LEN)?.to_vec(),
        key: bounded(r, MAX_KEY_LEN)?.to_vec(),
        mac_key: bounded(r, MAX_KEY_LEN)?.to_vec(),
    };
    if keys.iv.len() < cipher.iv_len()
        || keys.key.len() < cipher.key_len()
        || keys.mac_key.len() < mac.map_or(0, MacAlg::key_len)
    {
        return Err(StateError::Invalid("key shorter than its algorithm needs"));
    }
    Ok(Suite { cipher, mac, keys })
}

fn cipher(r: &mut Reader<'_>) -> Result<CipherAlg, StateError> {
    CipherAlg::from_name(&text(r, MAX_NAME_LEN)?).ok_or(StateError::Invalid("cipher"))
}

/// A MAC name: empty exactly when `cipher` is an AEAD.
fn mac(r: &mut Reader<'_>, cipher: CipherAlg) -> Result<Option<MacAlg>, StateError> {
    let name = text(r, MAX_NAME_LEN)?;
    match (cipher.is_aead(), name.is_empty()) {
        (true, true) => Ok(None),
        (false, false) => MacAlg::from_name(&name)
            .map(Some)
            .ok_or(StateError::Invalid("mac")),
        _ => Err(StateError::Invalid("mac for an AEAD, or none for a cipher")),
    }
}

fn stream(r: &mut Reader<'_>) -> Result<StreamState, StateError> {
    let b = bounded(r, sisu_wire::packet::MAX_STREAM_STATE)?;
    StreamState::new(b.to_vec()).ok_or(StateError::Invalid("stream state"))
}

fn get_event(r: &mut Reader<'_>) -> Result<SavedEvent, StateError> {
    Ok(match r.u8()? {
        0 => {
            let line = text(r, MAX_IDENT_LEN)?;
            identification(&line)?;
            SavedEvent::PeerIdentification(line)
        }
        1 => SavedEvent::KeysEstablished {
            first: flag(r)?,
            negotiated: get_negotiated(r)?,
            host_key: bounded(r, MAX_HOST_KEY_LEN)?.to_vec(),
        },
        2 => SavedEvent::ServiceAccepted(text(r, MAX_NAME_LEN)?),
        3 => {
            let n = r.u32()?;
            if n > MAX_EXTENSIONS {
                return Err(StateError::Malformed(WireError::TooLong));
            }
            let mut x = Vec::new();
            for _ in 0..n {
                let name = text(r, MAX_NAME_LEN)?;
                x.push((name, bounded(r, MAX_PACKET_LEN as usize)?.to_vec()));
            }
            SavedEvent::ExtInfo(x)
        }
        4 => {
            let m = bounded(r, MAX_PACKET_LEN as usize)?;
            if !matches!(m.first(), Some(&n) if n >= 50) {
                return Err(StateError::Invalid("message below 50"));
            }
            SavedEvent::Message(m.to_vec())
        }
        _ => return Err(StateError::Invalid("event kind")),
    })
}

/// A `boolean` that must be exactly 0 or 1.
fn flag(r: &mut Reader<'_>) -> Result<bool, StateError> {
    match r.u8()? {
        0 => Ok(false),
        1 => Ok(true),
        _ => Err(StateError::Invalid("boolean other than 0 or 1")),
    }
}

/// A `string` of at most `max` bytes.
fn bounded<'a>(r: &mut Reader<'a>, max: usize) -> Result<&'a [u8], StateError> {
    let s = r.string()?;
    if s.len() > max {
        return Err(StateError::Malformed(WireError::TooLong));
    }
    Ok(s)
}

/// A UTF-8 `string` of at most `max` bytes.
fn text(r: &mut Reader<'_>, max: usize) -> Result<String, StateError> {
    let b = bounded(r, max)?;
    std::str::from_utf8(b)
        .map(str::to_owned)
        .map_err(|_| StateError::Malformed(WireError::BadText))
}

/// A `uint32` count of at most `max`.
fn count(r: &mut Reader<'_>, max: usize) -> Result<u32, StateError> {
    let n = r.u32()?;
    if n as usize > max {
        return Err(StateError::Malformed(WireError::TooLong));
    }
    Ok(n)
}
