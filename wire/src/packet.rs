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

use bytes::{Buf, BytesMut};
use std::fmt;

/// Smallest `packet_length` accepted (padding length byte + 4 bytes of padding).
pub const MIN_PACKET_LEN: u32 = 5;
/// Largest `packet_length` accepted, as OpenSSH (256 KiB).
pub const MAX_PACKET_LEN: u32 = 256 * 1024;
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

    /// Adds received bytes.
    pub fn feed(&mut self, data: &[u8]) {
        self.buf.extend_from_slice(data);
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
        let packet_length = match self.pending {
            Some(n) => n,
            None => {
                let head = self.opener.length_prefix_len();
                if self.buf.len() < head {
                    return Ok(None);
                }
                let n = self.opener.decrypt_length(self.seq, &mut self.buf[..head]);
                if !(MIN_PACKET_LEN..=MAX_PACKET_LEN).contains(&n) {
                    return Err(PacketError::BadLength(n));
                }
                let bs = self.opener.block_size().max(8) as u32;
                let aligned = if self.opener.length_excluded() {
                    n
                } else {
                    n + 4
                };
                if aligned % bs != 0 {
                    return Err(PacketError::BadAlignment(n));
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
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn zero(p: &mut [u8]) {
        p.fill(0)
    }

    #[test]
    fn plain_round_trip_and_alignment() {
        let mut enc = PacketEncoder::new();
        let mut out = Vec::new();
        enc.encode(b"hello", &mut zero, &mut out).unwrap();
        assert_eq!(out.len() % 8, 0);
        assert!(out[4] >= 4);
        let mut dec = PacketDecoder::new();
        dec.feed(&out);
        assert_eq!(dec.next_packet().unwrap(), Some((0, b"hello".to_vec())));
        assert_eq!(dec.next_packet().unwrap(), None);
        assert_eq!(enc.seq(), 1);
        assert_eq!(dec.seq(), 1);
    }

    #[test]
    fn length_limits() {
        for bad in [0u32, 4, 0xffff_ffff, MAX_PACKET_LEN + 4] {
            let mut dec = PacketDecoder::new();
            dec.feed(&bad.to_be_bytes());
            assert_eq!(dec.next_packet(), Err(PacketError::BadLength(bad)));
        }
        let mut dec = PacketDecoder::new();
        dec.feed(&13u32.to_be_bytes());
        assert_eq!(dec.next_packet(), Err(PacketError::BadAlignment(13)));
    }

    #[test]
    fn bad_padding_refused() {
        let mut dec = PacketDecoder::new();
        dec.feed(&[0, 0, 0, 12, 3, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
        assert_eq!(dec.next_packet(), Err(PacketError::BadPadding(3)));
    }

    #[test]
    fn largest_payload_fits_the_decoder_limit() {
        let mut enc = PacketEncoder::new();
        let mut out = Vec::new();
        enc.encode(&vec![7u8; MAX_PAYLOAD_LEN], &mut zero, &mut out)
            .unwrap();
        let mut dec = PacketDecoder::new();
        dec.feed(&out);
        assert_eq!(dec.next_packet().unwrap().unwrap().1.len(), MAX_PAYLOAD_LEN);
        assert_eq!(
            enc.encode(&vec![7u8; MAX_PAYLOAD_LEN + 1], &mut zero, &mut out),
            Err(PacketError::PayloadTooLong(MAX_PAYLOAD_LEN + 1))
        );
    }

    #[test]
    fn sequence_numbers_wrap() {
        let mut enc = PacketEncoder::new();
        enc.seq = u32::MAX;
        let mut out = Vec::new();
        enc.encode(b"x", &mut zero, &mut out).unwrap();
        assert_eq!(enc.seq(), 0);
    }

    proptest! {
        #[test]
        fn round_trip_any_chunking(payloads in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..600), 1..6),
                                   chunk in 1usize..97) {
            let mut enc = PacketEncoder::new();
            let mut wire = Vec::new();
            for p in &payloads {
                enc.encode(p, &mut zero, &mut wire).unwrap();
            }
            let mut dec = PacketDecoder::new();
            let mut got = Vec::new();
            for c in wire.chunks(chunk) {
                dec.feed(c);
                while let Some((_, p)) = dec.next_packet().unwrap() {
                    got.push(p);
                }
            }
            prop_assert_eq!(got, payloads);
        }

        #[test]
        fn garbage_never_panics(data in proptest::collection::vec(any::<u8>(), 0..300)) {
            let mut dec = PacketDecoder::new();
            dec.feed(&data);
            for _ in 0..10 {
                match dec.next_packet() {
                    Ok(Some(_)) => continue,
                    _ => break,
                }
            }
        }
    }
}
