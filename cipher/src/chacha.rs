//! `chacha20-poly1305@openssh.com` (OpenSSH `PROTOCOL.chacha20poly1305`).
//!
//! The 64-byte key is split in two ChaCha20 keys: K_2 (the first 32 bytes) encrypts
//! the packet body and gives the Poly1305 key, K_1 (the last 32 bytes) encrypts only
//! `packet_length`. The nonce of both is the packet sequence number as a 64-bit
//! big-endian integer. The 16-byte Poly1305 tag covers the encrypted length and the
//! ciphertext. Packets are aligned to 8 bytes without counting `packet_length`.
//! Nothing runs on from packet to packet beyond the sequence number, so the exported
//! state is empty.

use aws_lc_rs::aead::chacha20_poly1305_openssh::{OpeningKey, SealingKey, KEY_LEN, TAG_LEN};
use sisu_wire::packet::{Opener, PacketError, Sealer, StreamState};

/// Block size used for padding.
const BLOCK: usize = 8;
/// Bytes of `packet_length`.
const LENGTH_LEN: usize = 4;
/// Bytes of key (K_2 ‖ K_1).
pub(crate) const CHACHA_KEY_LEN: usize = KEY_LEN;

/// Seals packets with chacha20-poly1305@openssh.com.
pub(crate) struct ChachaSealer {
    key: SealingKey,
}

impl ChachaSealer {
    pub(crate) fn new(key: &[u8; KEY_LEN]) -> Self {
        ChachaSealer {
            key: SealingKey::new(key),
        }
    }
}

impl Sealer for ChachaSealer {
    fn block_size(&self) -> usize {
        BLOCK
    }

    fn tag_len(&self) -> usize {
        TAG_LEN
    }

    fn length_excluded(&self) -> bool {
        true
    }

    fn seal(&mut self, seq: u32, packet: &mut Vec<u8>) {
        if packet.len() < LENGTH_LEN {
            // Not a packet: the encoder always passes packet_length and more.
            return;
        }
        let mut tag = [0u8; TAG_LEN];
        self.key.seal_in_place(seq, packet, &mut tag);
        packet.extend_from_slice(&tag);
    }

    fn stream_state(&self) -> StreamState {
        StreamState::empty()
    }
}

/// Opens packets sealed by [`ChachaSealer`].
pub(crate) struct ChachaOpener {
    key: OpeningKey,
}

impl ChachaOpener {
    pub(crate) fn new(key: &[u8; KEY_LEN]) -> Self {
        ChachaOpener {
            key: OpeningKey::new(key),
        }
    }

    fn length(&self, seq: u32, head: &[u8]) -> Option<[u8; LENGTH_LEN]> {
        let encrypted = *head.first_chunk::<LENGTH_LEN>()?;
        Some(self.key.decrypt_packet_length(seq, encrypted))
    }
}

impl Opener for ChachaOpener {
    fn block_size(&self) -> usize {
        BLOCK
    }

    fn tag_len(&self) -> usize {
        TAG_LEN
    }

    fn length_excluded(&self) -> bool {
        true
    }

    fn length_prefix_len(&self) -> usize {
        LENGTH_LEN
    }

    fn decrypt_length(&mut self, seq: u32, head: &mut [u8]) -> u32 {
        // The head stays encrypted: the tag covers the encrypted length, so `open`
        // needs it as it came.
        self.length(seq, head).map_or(0, u32::from_be_bytes)
    }

    fn open(&mut self, seq: u32, packet: &mut [u8]) -> Result<(), PacketError> {
        let body_len = packet
            .len()
            .checked_sub(TAG_LEN)
            .filter(|&n| n >= LENGTH_LEN)
            .ok_or(PacketError::Mac)?;
        let (body, tag) = packet.split_at_mut(body_len);
        let tag: &[u8; TAG_LEN] = (&*tag).try_into().map_err(|_| PacketError::Mac)?;
        self.key
            .open_in_place(seq, body, tag)
            .map_err(|_| PacketError::Mac)?;
        // Authenticated: now put the plaintext length in place too.
        let length = self.length(seq, body).ok_or(PacketError::Mac)?;
        body[..LENGTH_LEN].copy_from_slice(&length);
        Ok(())
    }

    fn stream_state(&self) -> StreamState {
        StreamState::empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// aws-lc-rs's keys hold K_1 and K_2 as `ChaCha20Key`s, which zeroize their
    /// bytes in `Drop`; only the existence of that Drop can be checked here.
    #[test]
    fn keys_have_a_wiping_drop() {
        assert!(std::mem::needs_drop::<SealingKey>());
        assert!(std::mem::needs_drop::<OpeningKey>());
    }

    #[test]
    fn short_packets_are_refused_not_panicking() {
        let key = [7u8; KEY_LEN];
        for len in 0..=LENGTH_LEN + TAG_LEN {
            let mut o = ChachaOpener::new(&key);
            let mut p = vec![0u8; len];
            assert_eq!(o.open(0, &mut p), Err(PacketError::Mac), "len {len}");
            assert_eq!(o.decrypt_length(0, &mut p[..len.min(3)]), 0);
        }
        let mut s = ChachaSealer::new(&key);
        let mut p = vec![1u8; 3];
        s.seal(0, &mut p);
        assert_eq!(p, [1, 1, 1]);
    }
}
