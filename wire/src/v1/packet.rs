//! SSH-1's binary packet format (protocol 1.5):
//!
//! ```text
//! uint32    length        type + data + check bytes: 5 ..= MAX_LEN, in the clear
//! byte[p]   padding       p = 8 - length % 8 (1..=8): random once a cipher is on
//! byte      type
//! byte[n]   data          n = length - 5
//! uint32    check bytes   SSH-1 CRC-32 of padding, type and data
//! ```
//!
//! Everything after `length` (a multiple of 8 bytes) is encrypted once the session
//! key is set; before that the padding is zeros, as OpenSSH sends it. The cipher is a
//! [`V1BlockCipher`] (implemented by `sisu-cipher`'s `V1Crypt`), so this crate does
//! not depend on the ciphers. With a cipher on, the decoder runs the CRC-32
//! compensation attack detector ([`super::deattack`]) over each packet's ciphertext
//! before decrypting it.
//!
//! The codec is sans-IO: [`PacketDecoder::feed`] takes at most [`MAX_BUFFERED`] bytes
//! (enough for the largest packet) and [`PacketDecoder::next_packet`] yields
//! `(type, data)`; its errors are sticky. [`PacketEncoder::encode`] appends one packet
//! to an output buffer.
//!
//! ```
//! use sisu_wire::v1::packet::{PacketDecoder, PacketEncoder};
//! let mut out = Vec::new();
//! PacketEncoder::new().encode(14, b"", &[0; 8], &mut out).unwrap();
//! assert_eq!(out.len(), 4 + 8);
//! let mut dec = PacketDecoder::new();
//! assert_eq!(dec.feed(&out), out.len());
//! assert_eq!(dec.next_packet().unwrap(), Some((14, Vec::new())));
//! assert_eq!(dec.next_packet().unwrap(), None);
//! ```

use super::crc32::ssh_crc32;
use super::deattack::{DeattackError, Detector};
use std::fmt;
use zeroize::Zeroizing;

/// Smallest `length` accepted: type and check bytes, no data (OpenSSH's `1 + 2 + 2`).
pub const MIN_LEN: u32 = 5;
/// Largest `length` accepted (256 KiB, as OpenSSH).
pub const MAX_LEN: u32 = 256 * 1024;
/// Bytes of `length` that are not data: the type byte and the check bytes.
pub const OVERHEAD: usize = 1 + 4;
/// Largest data of one outgoing packet: one byte short of [`MAX_LEN`], so that the
/// padded part is at most 32768 blocks, the most a peer's attack detector takes
/// ([`super::deattack::MAX_BLOCKS`]).
pub const MAX_DATA_LEN: usize = MAX_LEN as usize - 1 - OVERHEAD;
/// The padded part of the largest packet (padding, type, data, check bytes).
pub const MAX_PADDED_LEN: usize = MAX_LEN as usize + 8;
/// Most bytes the decoder holds: one largest packet with its length field.
pub const MAX_BUFFERED: usize = 4 + MAX_PADDED_LEN;
/// Bytes the decoder needs before it looks at a packet (the length and one block).
const MIN_WIRE_LEN: usize = 4 + 8;

/// An SSH-1 cipher, one direction: transforms whole 8-byte blocks in place, its state
/// (CBC chaining) running on from call to call.
pub trait V1BlockCipher: Send {
    /// Encrypts (sending side) or decrypts (receiving side) `data`, whose length is a
    /// multiple of 8.
    fn apply(&mut self, data: &mut [u8]);
    /// The chaining state beyond the key, opaque here, from which the cipher's own
    /// crate rebuilds it in another process (see `sisu_cipher::v1::V1Crypt`).
    fn stream_state(&self) -> Zeroizing<Vec<u8>>;
}

/// Why a packet was refused. Every one ends the connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum V1PacketError {
    /// `length` below [`MIN_LEN`] or above [`MAX_LEN`].
    BadLength(u32),
    /// The check bytes do not match (tampering, a wrong key, or a bad session key).
    CorruptedCheckBytes,
    /// The compensation attack detector fired, or refused the packet.
    Deattack(DeattackError),
    /// Outgoing data longer than [`MAX_DATA_LEN`].
    DataTooLong(usize),
}

impl fmt::Display for V1PacketError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            V1PacketError::BadLength(n) => write!(f, "Bad packet length {n}."),
            V1PacketError::CorruptedCheckBytes => f.write_str("Corrupted check bytes on input."),
            V1PacketError::Deattack(e) => e.fmt(f),
            V1PacketError::DataTooLong(n) => write!(f, "packet data of {n} bytes too long"),
        }
    }
}

impl std::error::Error for V1PacketError {}

/// The padded length (bytes after the length field) of a packet of `length`.
pub fn padded_len(length: u32) -> usize {
    (length as usize + 8) & !7
}

/// Frames, pads, checks and encrypts outgoing packets.
#[derive(Default)]
pub struct PacketEncoder {
    cipher: Option<Box<dyn V1BlockCipher>>,
}

impl fmt::Debug for PacketEncoder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PacketEncoder")
            .field("encrypting", &self.cipher.is_some())
            .finish()
    }
}

impl PacketEncoder {
    /// An encoder with no cipher.
    pub fn new() -> Self {
        PacketEncoder { cipher: None }
    }

    /// Turns encryption on (after the session key is set).
    pub fn set_cipher(&mut self, cipher: Box<dyn V1BlockCipher>) {
        self.cipher = Some(cipher);
    }

    /// The cipher, if one is on.
    pub fn cipher(&self) -> Option<&dyn V1BlockCipher> {
        self.cipher.as_deref()
    }

    /// Appends one packet of `msg_type` and `data` to `out`. `random` supplies the
    /// padding once a cipher is on (as many of its bytes as needed); without a cipher
    /// the padding is zeros.
    pub fn encode(
        &mut self,
        msg_type: u8,
        data: &[u8],
        random: &[u8; 8],
        out: &mut Vec<u8>,
    ) -> Result<(), V1PacketError> {
        if data.len() > MAX_DATA_LEN {
            return Err(V1PacketError::DataTooLong(data.len()));
        }
        // Fits in u32: at most MAX_LEN.
        let length = (OVERHEAD + data.len()) as u32;
        let padding = 8 - length as usize % 8;
        let start = out.len();
        out.reserve(4 + padded_len(length));
        out.extend_from_slice(&length.to_be_bytes());
        match self.cipher {
            Some(_) => out.extend_from_slice(&random[..padding]),
            None => out.extend_from_slice(&[0u8; 8][..padding]),
        }
        out.push(msg_type);
        out.extend_from_slice(data);
        let body = start + 4;
        let crc = ssh_crc32(&out[body..]);
        out.extend_from_slice(&crc.to_be_bytes());
        if let Some(c) = &mut self.cipher {
            c.apply(&mut out[body..]);
        }
        Ok(())
    }
}

/// Takes bytes in any chunking and yields checked packets as `(type, data)`.
#[derive(Default)]
pub struct PacketDecoder {
    cipher: Option<Box<dyn V1BlockCipher>>,
    detector: Detector,
    /// Received bytes; those before `pos` are already returned as packets (dropped
    /// at the next [`PacketDecoder::feed`], so that taking many small packets out of
    /// a full buffer does not move the rest each time).
    buf: Vec<u8>,
    pos: usize,
    error: Option<V1PacketError>,
}

impl fmt::Debug for PacketDecoder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PacketDecoder")
            .field("decrypting", &self.cipher.is_some())
            .field("buffered", &self.buffered())
            .field("error", &self.error)
            .finish()
    }
}

impl PacketDecoder {
    /// A decoder with no cipher.
    pub fn new() -> Self {
        PacketDecoder::default()
    }

    /// Turns decryption on. Takes effect from the next packet
    /// [`PacketDecoder::next_packet`] returns (bytes already buffered included).
    pub fn set_cipher(&mut self, cipher: Box<dyn V1BlockCipher>) {
        self.cipher = Some(cipher);
    }

    /// The cipher, if one is on.
    pub fn cipher(&self) -> Option<&dyn V1BlockCipher> {
        self.cipher.as_deref()
    }

    /// Buffers as much of `data` as fits in [`MAX_BUFFERED`] and says how much that
    /// was. Taking packets out with [`PacketDecoder::next_packet`] makes room again;
    /// a full buffer always holds a whole packet (or a bad length).
    pub fn feed(&mut self, data: &[u8]) -> usize {
        if self.pos > 0 {
            self.buf.drain(..self.pos);
            self.pos = 0;
        }
        let n = data
            .len()
            .min(MAX_BUFFERED - self.buf.len().min(MAX_BUFFERED));
        self.buf.extend_from_slice(&data[..n]);
        n
    }

    /// Bytes received but not yet part of a returned packet.
    pub fn buffered(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// The buffered bytes, taken out (to hand them to another process).
    pub fn take_buffered(&mut self) -> Vec<u8> {
        let mut b = std::mem::take(&mut self.buf);
        b.drain(..self.pos);
        self.pos = 0;
        b
    }

    /// The error that stopped the decoder, if any.
    pub fn error(&self) -> Option<&V1PacketError> {
        self.error.as_ref()
    }

    /// The next complete packet, `Ok(None)` when more bytes are needed, or the error
    /// that ends the connection (returned again on every later call).
    pub fn next_packet(&mut self) -> Result<Option<(u8, Vec<u8>)>, V1PacketError> {
        if let Some(e) = &self.error {
            return Err(e.clone());
        }
        let r = self.next_inner();
        if let Err(e) = &r {
            self.error = Some(e.clone());
        }
        r
    }

    fn next_inner(&mut self) -> Result<Option<(u8, Vec<u8>)>, V1PacketError> {
        let avail = &mut self.buf[self.pos..];
        let Some(head) = avail.get(..4) else {
            return Ok(None);
        };
        let length = u32::from_be_bytes([head[0], head[1], head[2], head[3]]);
        if !(MIN_LEN..=MAX_LEN).contains(&length) {
            return Err(V1PacketError::BadLength(length));
        }
        let padded = padded_len(length);
        if avail.len() < MIN_WIRE_LEN || avail.len() < 4 + padded {
            return Ok(None);
        }
        let body = &mut avail[4..4 + padded];
        if let Some(c) = &mut self.cipher {
            self.detector.check(body).map_err(V1PacketError::Deattack)?;
            c.apply(body);
        }
        let (checked, stored) = body.split_at(padded - 4);
        let crc = ssh_crc32(checked);
        let stored = u32::from_be_bytes([stored[0], stored[1], stored[2], stored[3]]);
        if crc != stored {
            return Err(V1PacketError::CorruptedCheckBytes);
        }
        let padding = 8 - length as usize % 8;
        let msg_type = checked[padding];
        let data = checked[padding + 1..].to_vec();
        self.pos += 4 + padded;
        Ok(Some((msg_type, data)))
    }
}

#[cfg(test)]
mod tests;
