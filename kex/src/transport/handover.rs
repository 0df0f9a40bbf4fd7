//! Handing a connection to another process: [`Transport::export`] takes the whole state
//! between key exchanges, [`Transport::import`] goes on with it in a fresh transport;
//! the peer notices nothing.

use super::phase::Phase;
use super::state::{identification, SavedEvent, StateError, TransportState, MAX_STATE_LEN};
use super::{Event, Transport, TransportConfig, TransportError};
use crate::hostkey::HostKey;
use rand_core::CryptoRngCore;
use sisu_cipher::{restore_opener, restore_sealer};
use sisu_wire::packet::{PacketDecoder, PacketEncoder};
use std::collections::VecDeque;
use std::fmt;

/// Why [`Transport::export`] (or [`Transport::can_export`]) refused. The transport is
/// unchanged and goes on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ExportError {
    /// A key exchange is under way: the first one (until the peer's first
    /// `SSH_MSG_NEWKEYS`), a re-exchange, or one waiting for the caller's answer.
    /// Export between exchanges; [`Transport::kex_in_progress`] says when.
    KexInProgress,
    /// The connection is over: an error, a disconnect, or an earlier export.
    Closed,
    /// The state would be longer than [`MAX_STATE_LEN`] bytes: the caller has left too
    /// much output or too many events untaken.
    TooLarge(usize),
}

impl fmt::Display for ExportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExportError::KexInProgress => f.write_str("a key exchange is in progress"),
            ExportError::Closed => f.write_str("the connection is closed"),
            ExportError::TooLarge(n) => write!(f, "the transport state ({n} bytes) is too large"),
        }
    }
}

impl std::error::Error for ExportError {}

impl Transport {
    /// Whether [`Transport::export`] would succeed now: no key exchange under way
    /// (the first one is over), the connection open, the state within
    /// [`MAX_STATE_LEN`].
    pub fn can_export(&self) -> Result<(), ExportError> {
        if self.is_closed() {
            return Err(ExportError::Closed);
        }
        if !matches!(self.phase, Phase::Keyed { rekey: None })
            || self.out_suite.is_none()
            || self.in_suite.is_none()
            || self.session_id.is_none()
            || self.negotiated.is_none()
            || self.peer_ident.is_none()
        {
            return Err(ExportError::KexInProgress);
        }
        if self
            .events
            .iter()
            .any(|e| matches!(e, Event::Disconnected { .. }))
        {
            return Err(ExportError::Closed);
        }
        let estimate = self.dec.buffered()
            + self.out.len()
            + self.queued.iter().map(|m| m.len() + 4).sum::<usize>()
            + self.events.iter().map(event_len).sum::<usize>()
            + 8192;
        if estimate > MAX_STATE_LEN {
            return Err(ExportError::TooLarge(estimate));
        }
        Ok(())
    }

    /// Takes the transport's whole state for [`Transport::import`] in another process:
    /// the negotiated algorithms, both directions' keys, sequence numbers and cipher
    /// positions, input received but not yet a packet (a half-read packet included),
    /// output not yet taken by [`Transport::poll_transmit`], events not yet taken by
    /// [`Transport::poll_event`] (upper-layer messages that arrived with the last
    /// input, say), the session id, strict kex, the service and authentication flags
    /// and the rekeying counters.
    ///
    /// Refuses (leaving the transport as it was) while a key exchange is under way; see
    /// [`Transport::can_export`]. On success this transport is finished: it holds no
    /// keys' use any more, and every later call fails with
    /// [`TransportError::Exported`], so that the connection is never driven from two
    /// places (which would reuse key stream).
    pub fn export(&mut self) -> Result<TransportState, ExportError> {
        self.can_export()?;
        let (Some(out_suite), Some(in_suite), Some(session_id), Some(negotiated), Some(peer)) = (
            self.out_suite.take(),
            self.in_suite.take(),
            self.session_id.clone(),
            self.negotiated.clone(),
            self.peer_ident.as_ref(),
        ) else {
            return Err(ExportError::KexInProgress);
        };
        let state = TransportState {
            role: self.role,
            our_ident: self.our_ident.clone(),
            peer_ident: peer.line.clone(),
            negotiated,
            session_id,
            kex_count: self.kex_count,
            ext_info_wanted: self.ext_info_wanted,
            service_accepted: self.service_accepted,
            authenticated: self.authenticated,
            preauth_kex: self.preauth_kex,
            bytes_since_kex: self.bytes_since_kex,
            out_suite,
            in_suite,
            encoder: self.enc.export(),
            decoder: self.dec.export(),
            pending_output: std::mem::take(&mut self.out),
            queued: self.queued.drain(..).collect(),
            events: self.events.drain(..).filter_map(SavedEvent::save).collect(),
        };
        // The keys stay usable only in the state: this transport is done.
        self.enc = PacketEncoder::new();
        self.dec = PacketDecoder::new();
        self.error = Some(TransportError::Exported);
        Ok(state)
    }

    /// A transport that goes on where an exported one stopped, with the caller's
    /// `config` (its algorithm lists and rekey limit apply from now on: the next key
    /// exchange offers them), `host_keys` (a server's, for the next exchanges; they may
    /// be [`HostKey::public_only`]) and `rng`. Nothing is sent: the output the state
    /// carries is waiting in [`Transport::poll_transmit`], its events in
    /// [`Transport::poll_event`], its buffered input is read with the next
    /// [`Transport::handle_input`] (call it with `&[]` to read it at once).
    ///
    /// Refuses a state whose suites cannot be rebuilt from its keys and stream states,
    /// or whose half-read packet does not fit the incoming suite.
    pub fn import(
        state: TransportState,
        config: TransportConfig,
        host_keys: Vec<HostKey>,
        rng: Box<dyn CryptoRngCore + Send>,
    ) -> Result<Transport, StateError> {
        let mut state = state;
        let out = &state.out_suite;
        let sealer = restore_sealer(out.cipher, out.mac, &out.keys, &state.encoder.stream)
            .map_err(StateError::Suite)?;
        let inc = &state.in_suite;
        let opener = restore_opener(inc.cipher, inc.mac, &inc.keys, &state.decoder.stream)
            .map_err(StateError::Suite)?;
        let dec = PacketDecoder::restore(opener, &state.decoder).map_err(StateError::Codec)?;
        let enc = PacketEncoder::restore(sealer, state.encoder.seq);
        let peer_ident = identification(&state.peer_ident)?;
        let mut events = VecDeque::new();
        for e in std::mem::take(&mut state.events) {
            events.push_back(e.restore()?);
        }
        Ok(Transport {
            role: state.role,
            config,
            host_keys,
            rng,
            our_ident: state.our_ident.clone(),
            peer_ident: Some(peer_ident),
            ident_buf: Vec::new(),
            enc,
            dec,
            out: std::mem::take(&mut state.pending_output),
            events,
            phase: Phase::Keyed { rekey: None },
            negotiated: Some(state.negotiated.clone()),
            session_id: Some(state.session_id.clone()),
            kex_count: state.kex_count,
            strict: state.negotiated.strict,
            ext_info_wanted: state.ext_info_wanted,
            service_accepted: state.service_accepted,
            authenticated: state.authenticated,
            preauth_kex: state.preauth_kex,
            queued: std::mem::take(&mut state.queued).into(),
            bytes_since_kex: state.bytes_since_kex,
            error: None,
            closed: false,
            out_suite: Some(state.out_suite.clone()),
            in_suite: Some(state.in_suite.clone()),
        })
    }
}

/// About how many bytes an event takes in a state.
fn event_len(e: &Event) -> usize {
    16 + match e {
        Event::Message(m) => m.len(),
        Event::KeysEstablished { host_key, .. } => host_key.len() + 512,
        Event::ExtInfo(x) => x.iter().map(|(n, v)| n.len() + v.len() + 8).sum(),
        Event::PeerIdentification(id) => id.line.len(),
        Event::ServiceAccepted(s) => s.len(),
        _ => 0,
    }
}
