//! Binary packet framing (RFC 4253 §6).
//!
//! ```text
//! uint32    packet_length
//! byte      padding_length
//! byte[n1]  payload; n1 = packet_length - padding_length - 1
//! byte[n2]  random padding; n2 = padding_length
//! byte[m]   mac (or AEAD tag)
//! ```
//!
//! [`PacketEncoder`] and [`PacketDecoder`] do the framing, padding, limits and sequence
//! numbers; the protection itself (cipher and MAC, or AEAD) is a [`Sealer`] /
//! [`Opener`] pair, implemented by `sisu-cipher`. [`Plain`] is the `none` protection
//! used before the first `SSH_MSG_NEWKEYS`.
//!
//! **No length oracle.** With encrypt-and-MAC protection (a cipher whose packet length
//! is encrypted and a MAC over the plaintext, such as `aes128-cbc` with `hmac-sha2-256`:
//! an [`Opener`] that is not [`Opener::length_excluded`] and has a
//! [`Opener::tag_len`]), a decrypted `packet_length` that is out of range or misaligned
//! is not reported as such: the decoder goes on reading, and dropping, the bytes of
//! the largest packet there could be ([`DISCARD_LEN`] from the bad packet's first byte
//! on, MAC included) and only then fails with [`PacketError::Mac`], as OpenSSH has
//! since 5.2. A peer that flips ciphertext bits and watches when the connection drops
//! learns nothing about the plaintext of the length field (CVE-2008-5161). The `none`
//! protection and the modes whose length is in the clear or authenticated (AEAD,
//! encrypt-then-MAC) fail at once.
//!
//! **Handing over.** [`PacketEncoder::export`] and [`PacketDecoder::export`] give what
//! the codec holds besides its keys (sequence number, buffered input, a packet whose
//! head is already decrypted, the suite's [`StreamState`]); [`PacketEncoder::restore`]
//! and [`PacketDecoder::restore`] go on from there in another process, with a suite
//! rebuilt from the keys and that stream state.

mod state;

pub use state::{BadCodecState, DecoderState, EncoderState, StreamState, MAX_STREAM_STATE};

use bytes::{Buf, BytesMut};
use std::fmt;

/// Smallest `packet_length` accepted (padding length byte + 4 bytes of padding).
pub const MIN_PACKET_LEN: u32 = 5;
/// Largest `packet_length` accepted, as OpenSSH (256 KiB).
pub const MAX_PACKET_LEN: u32 = 256 * 1024;
/// Bytes an encrypt-and-MAC decoder reads and drops, from the first byte of a packet
/// whose decrypted length is bad, before it reports [`PacketError::Mac`]: the wire size
/// of the largest packet (`uint32` length, [`MAX_PACKET_LEN`]) without its MAC, which
/// is added per opener ([`Opener::tag_len`]).
pub const DISCARD_LEN: usize = 4 + MAX_PACKET_LEN as usize;
/// Least padding (RFC 4253 §6).
pub const MIN_PADDING: usize = 4;
/// Room kept for the padding length byte and the largest padding (a block plus 3,
/// rounded up generously) when a payload must fit in [`MAX_PACKET_LEN`].
const PADDING_ROOM: usize = 64;
/// Largest payload the encoder takes (RFC 4253 §6.1 asks for 32768 at least): what
/// fits in [`MAX_PACKET_LEN`] with any padding.
pub const MAX_PAYLOAD_LEN: usize = MAX_PACKET_LEN as usize - PADDING_ROOM;

/// Encrypts and authenticates outgoing packets (one direction's keys).
pub trait Sealer: Send {
    /// The cipher block size that packets are padded to (at least 8).
    fn block_size(&self) -> usize;
    /// Bytes of MAC or tag appended to each packet.
    fn tag_len(&self) -> usize;
    /// Whether `packet_length` stays outside the padded, block-aligned part (AEAD and
    /// encrypt-then-MAC modes).
    fn length_excluded(&self) -> bool;
    /// Seals `packet` (`packet_length ‖ padding_length ‖ payload ‖ padding`) in place
    /// and appends [`Sealer::tag_len`] bytes.
    fn seal(&mut self, seq: u32, packet: &mut Vec<u8>);
    /// The running state beyond the keys (see [`StreamState`]), from which the suite
    /// can be rebuilt in another process to seal the next packet as this one would.
    fn stream_state(&self) -> StreamState;
}

/// Decrypts and verifies incoming packets (one direction's keys).
pub trait Opener: Send {
    /// The cipher block size that packets are aligned to (at least 8).
    fn block_size(&self) -> usize;
    /// Bytes of MAC or tag after each packet.
    fn tag_len(&self) -> usize;
    /// Whether `packet_length` stays outside the block-aligned part.
    fn length_excluded(&self) -> bool;
    /// How many leading bytes [`Opener::decrypt_length`] needs: 4, or one cipher block.
    fn length_prefix_len(&self) -> usize;
    /// Learns `packet_length` from the first [`Opener::length_prefix_len`] bytes; may
    /// decrypt them in place (the same buffer is then passed to [`Opener::open`]).
    fn decrypt_length(&mut self, seq: u32, head: &mut [u8]) -> u32;
    /// Verifies and decrypts a whole packet in place: `packet` holds
    /// `4 + packet_length` bytes followed by the tag. On success the first
    /// `4 + packet_length` bytes are plaintext.
    fn open(&mut self, seq: u32, packet: &mut [u8]) -> Result<(), PacketError>;
    /// The running state beyond the keys (see [`StreamState`]), after any head
    /// [`Opener::decrypt_length`] has decrypted: rebuilt from it, the suite opens the
    /// rest of the stream as this one would.
    fn stream_state(&self) -> StreamState;
}

/// The `none` protection: no encryption, no MAC, 8-byte blocks.
#[derive(Debug, Default, Clone, Copy)]
pub struct Plain;

impl Sealer for Plain {
    fn block_size(&self) -> usize {
        8
    }
    fn tag_len(&self) -> usize {
        0
    }
    fn length_excluded(&self) -> bool {
        false
    }
    fn seal(&mut self, _seq: u32, _packet: &mut Vec<u8>) {}
    fn stream_state(&self) -> StreamState {
        StreamState::empty()
    }
}

impl Opener for Plain {
    fn block_size(&self) -> usize {
        8
    }
    fn tag_len(&self) -> usize {
        0
    }
    fn length_excluded(&self) -> bool {
        false
    }
    fn length_prefix_len(&self) -> usize {
        4
    }
    fn decrypt_length(&mut self, _seq: u32, head: &mut [u8]) -> u32 {
        u32::from_be_bytes([head[0], head[1], head[2], head[3]])
    }
    fn open(&mut self, _seq: u32, _packet: &mut [u8]) -> Result<(), PacketError> {
        Ok(())
    }
    fn stream_state(&self) -> StreamState {
        StreamState::empty()
    }
}

/// Why an incoming packet was refused. Every one of these ends the connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PacketError {
    /// `packet_length` below [`MIN_PACKET_LEN`] or above [`MAX_PACKET_LEN`].
    BadLength(u32),
    /// The packet is not a multiple of the cipher block size.
    BadAlignment(u32),
    /// `padding_length` below 4 or not less than `packet_length`.
    BadPadding(u8),
    /// The MAC or AEAD tag did not verify.
    Mac,
    /// An outgoing payload longer than [`MAX_PAYLOAD_LEN`].
    PayloadTooLong(usize),
}

impl fmt::Display for PacketError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PacketError::BadLength(n) => write!(f, "Bad packet length {n}."),
            PacketError::BadAlignment(n) => {
                write!(f, "packet length {n} not a multiple of the block size")
            }
            PacketError::BadPadding(n) => write!(f, "bad padding length {n}"),
            PacketError::Mac => f.write_str("message authentication code incorrect"),
            PacketError::PayloadTooLong(n) => write!(f, "payload of {n} bytes too long"),
        }
    }
}

impl std::error::Error for PacketError {}

/// Frames, pads and seals outgoing packets, counting sequence numbers.
pub struct PacketEncoder {
    sealer: Box<dyn Sealer>,
    seq: u32,
}

impl Default for PacketEncoder {
    fn default() -> Self {
        Self::new()
    }
}

impl PacketEncoder {
    /// An encoder with the `none` protection and sequence number 0.
    pub fn new() -> Self {
        PacketEncoder {
            sealer: Box::new(Plain),
            seq: 0,
        }
    }

    /// Switches to new keys (after sending `SSH_MSG_NEWKEYS`).
    pub fn set_sealer(&mut self, sealer: Box<dyn Sealer>) {
        self.sealer = sealer;
    }

    /// The sequence number of the next packet.
    pub fn seq(&self) -> u32 {
        self.seq
    }

    /// Sets the sequence number to 0 (strict kex, at every `SSH_MSG_NEWKEYS`).
    pub fn reset_seq(&mut self) {
        self.seq = 0;
    }

    /// Appends one sealed packet holding `payload` to `out`. `fill_padding` fills the
    /// padding bytes (with random bytes, RFC 4253 §6).
    pub fn encode(
        &mut self,
        payload: &[u8],
        fill_padding: &mut dyn FnMut(&mut [u8]),
        out: &mut Vec<u8>,
    ) -> Result<(), PacketError> {
        if payload.len() > MAX_PAYLOAD_LEN {
            return Err(PacketError::PayloadTooLong(payload.len()));
        }
        let bs = self.sealer.block_size().max(8);
        let aligned_base = if self.sealer.length_excluded() { 1 } else { 5 };
        let unpadded = aligned_base + payload.len();
        let mut padding = bs - unpadded % bs;
        if padding < MIN_PADDING {
            padding += bs;
        }
        let packet_length = 1 + payload.len() + padding;
        let mut packet = Vec::with_capacity(4 + packet_length + self.sealer.tag_len());
        packet.extend_from_slice(&(packet_length as u32).to_be_bytes());
        packet.push(padding as u8);
        packet.extend_from_slice(payload);
        let start = packet.len();
        packet.resize(start + padding, 0);
        fill_padding(&mut packet[start..]);
        self.sealer.seal(self.seq, &mut packet);
        self.seq = self.seq.wrapping_add(1);
        if out.is_empty() {
            *out = packet;
        } else {
            out.extend_from_slice(&packet);
        }
        Ok(())
    }
}

/// Takes bytes in any chunking and yields verified packet payloads.
pub struct PacketDecoder {
    opener: Box<dyn Opener>,
    seq: u32,
    buf: BytesMut,
    /// `packet_length` of the packet being read, once its head is decrypted.
    pending: Option<u32>,
    /// Encrypt-and-MAC: a bad length was decrypted; this many more bytes are read and
    /// dropped before [`PacketError::Mac`] (0: the error is due).
    discard: Option<usize>,
}

impl Default for PacketDecoder {
    fn default() -> Self {
        Self::new()
    }
}

impl PacketDecoder {
    /// A decoder with the `none` protection and sequence number 0.
    pub fn new() -> Self {
        PacketDecoder {
            opener: Box::new(Plain),
            seq: 0,
            buf: BytesMut::new(),
            pending: None,
            discard: None,
        }
    }

    /// Switches to new keys (after receiving `SSH_MSG_NEWKEYS`). Must be called between
    /// packets, which [`PacketDecoder::next_packet`] guarantees when it returns.
    pub fn set_opener(&mut self, opener: Box<dyn Opener>) {
        debug_assert!(self.pending.is_none());
        self.opener = opener;
    }

    /// The sequence number of the next packet.
    pub fn seq(&self) -> u32 {
        self.seq
    }

    /// Sets the sequence number to 0 (strict kex).
    pub fn reset_seq(&mut self) {
        self.seq = 0;
    }

    /// Adds received bytes. While a bad packet is being discarded they are dropped
    /// as they come, so memory stays bounded.
    pub fn feed(&mut self, data: &[u8]) {
        self.buf.extend_from_slice(data);
        self.drain_discard();
    }

    /// Whether a bad decrypted length must be hidden until the MAC check would come
    /// (encrypt-and-MAC: an encrypted length and a MAC that does not cover it first).
    fn conceals_length(&self) -> bool {
        !self.opener.length_excluded() && self.opener.tag_len() > 0
    }

    /// Drops buffered bytes of a packet being discarded.
    fn drain_discard(&mut self) {
        if let Some(left) = self.discard {
            let n = left.min(self.buf.len());
            self.buf.advance(n);
            self.discard = Some(left - n);
        }
    }

    /// Whether the decoder is dropping the rest of a bad packet (encrypt-and-MAC only);
    /// it fails with [`PacketError::Mac`] once [`DISCARD_LEN`] plus the MAC are read.
    pub fn is_discarding(&self) -> bool {
        self.discard.is_some()
    }

    /// Bytes received but not yet part of a returned packet.
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// The buffered bytes (used to hand over bytes that arrived with the identification
    /// line, or to inspect before the first packet).
    pub fn take_buffered(&mut self) -> Vec<u8> {
        self.pending = None;
        self.buf.split().to_vec()
    }

    /// The next complete packet's payload with its sequence number, `Ok(None)` when
    /// more bytes are needed, or the error that ends the connection.
    pub fn next_packet(&mut self) -> Result<Option<(u32, Vec<u8>)>, PacketError> {
        if self.discard.is_some() {
            self.drain_discard();
            return match self.discard {
                Some(0) => Err(PacketError::Mac),
                _ => Ok(None),
            };
        }
        let packet_length = match self.pending {
            Some(n) => n,
            None => {
                let head = self.opener.length_prefix_len();
                if self.buf.len() < head {
                    return Ok(None);
                }
                let n = self.opener.decrypt_length(self.seq, &mut self.buf[..head]);
                let bs = self.opener.block_size().max(8) as u32;
                let aligned = if self.opener.length_excluded() {
                    n
                } else {
                    n.wrapping_add(4)
                };
                let bad = if !(MIN_PACKET_LEN..=MAX_PACKET_LEN).contains(&n) {
                    Some(PacketError::BadLength(n))
                } else if aligned % bs != 0 {
                    Some(PacketError::BadAlignment(n))
                } else {
                    None
                };
                if let Some(e) = bad {
                    if !self.conceals_length() {
                        return Err(e);
                    }
                    // Read on as if it were the largest packet, then fail as a forged
                    // one would: no earlier, no other error.
                    self.discard = Some(DISCARD_LEN + self.opener.tag_len());
                    return self.next_packet();
                }
                self.pending = Some(n);
                n
            }
        };
        let total = 4 + packet_length as usize + self.opener.tag_len();
        if self.buf.len() < total {
            self.buf.reserve(total - self.buf.len());
            return Ok(None);
        }
        let seq = self.seq;
        self.opener.open(seq, &mut self.buf[..total])?;
        self.pending = None;
        let padding = self.buf[4];
        if (padding as usize) < MIN_PADDING || padding as u32 >= packet_length {
            return Err(PacketError::BadPadding(padding));
        }
        let payload_len = packet_length as usize - 1 - padding as usize;
        let payload = self.buf[5..5 + payload_len].to_vec();
        self.buf.advance(total);
        self.seq = self.seq.wrapping_add(1);
        Ok(Some((seq, payload)))
    }
}

#[cfg(test)]
mod tests;
