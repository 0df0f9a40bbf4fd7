//! Handing a running packet codec to another process: what [`PacketEncoder`] and
//! [`PacketDecoder`] hold besides their keys, as plain values.
//!
//! A [`Sealer`] or [`Opener`] gives its running state (the position in its key
//! stream: a CTR counter, a CBC chaining block, an RC4 permutation, a GCM invocation
//! counter; nothing for a cipher whose nonce is the sequence number) as a
//! [`StreamState`]; `sisu-cipher` rebuilds the suite from the keys and that state. The
//! codec's own part (sequence number, bytes received but not yet returned as a packet,
//! the length of a packet whose head is already decrypted) is an [`EncoderState`] or a
//! [`DecoderState`]. Both wipe their bytes when dropped.

use super::{Opener, PacketDecoder, PacketEncoder, Sealer};
use super::{DISCARD_LEN, MAX_PACKET_LEN, MIN_PACKET_LEN};
use bytes::BytesMut;
use std::fmt;
use zeroize::{Zeroize, ZeroizeOnDrop};

/// Longest [`StreamState`]: an RC4 permutation and its two indices (258 bytes) with
/// room to spare.
pub const MAX_STREAM_STATE: usize = 512;

/// A sealer's or opener's running state beyond its keys, in the suite's own encoding
/// (each suite documents it in `sisu-cipher`). Wiped when dropped; never printed.
#[derive(Clone, Default, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct StreamState(Vec<u8>);

impl StreamState {
    /// The state held in `bytes`; `None` when longer than [`MAX_STREAM_STATE`].
    pub fn new(bytes: Vec<u8>) -> Option<Self> {
        if bytes.len() > MAX_STREAM_STATE {
            let mut bytes = bytes;
            bytes.zeroize();
            return None;
        }
        Some(StreamState(bytes))
    }

    /// No state (a suite whose nonce is the sequence number, or `none`).
    pub fn empty() -> Self {
        StreamState(Vec::new())
    }

    /// The encoded state.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for StreamState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StreamState({} bytes)", self.0.len())
    }
}

/// What a [`PacketEncoder`] holds besides its keys.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EncoderState {
    /// The sequence number of the next packet sent.
    pub seq: u32,
    /// The sealer's running state ([`Sealer::stream_state`]).
    pub stream: StreamState,
}

/// What a [`PacketDecoder`] holds besides its keys. Wiped when dropped (the buffered
/// bytes may hold a decrypted packet head).
#[derive(Clone, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct DecoderState {
    /// The sequence number of the next packet received.
    pub seq: u32,
    /// The opener's running state ([`Opener::stream_state`]), taken after any head it
    /// has already decrypted.
    pub stream: StreamState,
    /// Bytes received and not yet returned as a packet, as the decoder holds them: a
    /// head already decrypted in place stays decrypted.
    pub buffered: Vec<u8>,
    /// The `packet_length` of the packet being read, once its head is decrypted.
    pub pending_length: Option<u32>,
    /// Encrypt-and-MAC only: bytes still to drop of a packet whose decrypted length
    /// was bad, before [`super::PacketError::Mac`].
    pub discard: Option<u32>,
}

impl fmt::Debug for DecoderState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DecoderState")
            .field("seq", &self.seq)
            .field("stream", &self.stream)
            .field("buffered", &self.buffered.len())
            .field("pending_length", &self.pending_length)
            .field("discard", &self.discard)
            .finish()
    }
}

/// Why a [`DecoderState`] cannot be restored: it does not fit the opener, or could not
/// have come from a decoder.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BadCodecState(pub &'static str);

impl fmt::Display for BadCodecState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "bad packet codec state: {}", self.0)
    }
}

impl std::error::Error for BadCodecState {}

impl PacketEncoder {
    /// The sequence number and the sealer's running state, for [`PacketEncoder::restore`]
    /// in another process.
    pub fn export(&self) -> EncoderState {
        EncoderState {
            seq: self.seq,
            stream: self.sealer.stream_state(),
        }
    }

    /// An encoder that goes on where an exported one stopped: `sealer` is rebuilt from
    /// the keys and [`EncoderState::stream`], `seq` is [`EncoderState::seq`].
    pub fn restore(sealer: Box<dyn Sealer>, seq: u32) -> Self {
        PacketEncoder { sealer, seq }
    }
}

impl PacketDecoder {
    /// Everything but the keys, for [`PacketDecoder::restore`] in another process.
    /// Call it between [`PacketDecoder::next_packet`] calls (as every other method).
    pub fn export(&self) -> DecoderState {
        DecoderState {
            seq: self.seq,
            stream: self.opener.stream_state(),
            buffered: self.buf.to_vec(),
            pending_length: self.pending,
            discard: self.discard.map(|d| d as u32),
        }
    }

    /// A decoder that goes on where an exported one stopped, with `opener` rebuilt from
    /// the keys and [`DecoderState::stream`]. Refuses a state this opener's decoder
    /// could not have been in: a pending length out of range or misaligned, or without
    /// its head buffered; a discard where lengths are not concealed, or longer than the
    /// largest packet.
    pub fn restore(opener: Box<dyn Opener>, state: &DecoderState) -> Result<Self, BadCodecState> {
        let conceals = !opener.length_excluded() && opener.tag_len() > 0;
        if let Some(n) = state.pending_length {
            let bs = opener.block_size().max(8) as u32;
            let aligned = if opener.length_excluded() {
                n
            } else {
                n.wrapping_add(4)
            };
            if !(MIN_PACKET_LEN..=MAX_PACKET_LEN).contains(&n) || aligned % bs != 0 {
                return Err(BadCodecState("pending packet length out of range"));
            }
            if state.buffered.len() < opener.length_prefix_len() {
                return Err(BadCodecState("pending packet without its head"));
            }
            if state.discard.is_some() {
                return Err(BadCodecState("pending packet while discarding"));
            }
        }
        if let Some(d) = state.discard {
            if !conceals {
                return Err(BadCodecState("discarding where lengths are not concealed"));
            }
            if d as usize > DISCARD_LEN + opener.tag_len() {
                return Err(BadCodecState("discard longer than the largest packet"));
            }
            if d > 0 && !state.buffered.is_empty() {
                return Err(BadCodecState("bytes buffered while discarding"));
            }
        }
        Ok(PacketDecoder {
            opener,
            seq: state.seq,
            buf: BytesMut::from(&state.buffered[..]),
            pending: state.pending_length,
            discard: state.discard.map(|d| d as usize),
        })
    }
}
