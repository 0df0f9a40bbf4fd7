//! `aes128-gcm@openssh.com` and `aes256-gcm@openssh.com`: AES-GCM as RFC 5647 defines
//! it for SSH, under OpenSSH's names (which are also negotiated as ciphers only, the
//! MAC being implied).
//!
//! - The 12-byte nonce is the derived IV: a 4-byte fixed field and an 8-byte
//!   invocation counter, incremented (big-endian, modulo 2^64, the fixed field never
//!   changes) after each packet (RFC 5647 §7.1).
//! - `packet_length` is sent in clear as the additional authenticated data; the rest of
//!   the packet is encrypted; a 16-byte tag follows (RFC 5647 §7.3).
//! - Packets are aligned to 16 bytes without counting `packet_length`.
//! - The exported state is the invocation counter of the next packet (8 bytes,
//!   big-endian); the fixed field comes from the IV again.

use crate::read_length;
use aws_lc_rs::aead::{self, Aad, LessSafeKey, Nonce, UnboundKey};
use sisu_wire::packet::{Opener, PacketError, Sealer, StreamState};
use zeroize::{Zeroize, ZeroizeOnDrop};

/// AES block size.
const AES_BLOCK: usize = 16;
/// Bytes of GCM tag.
const TAG_LEN: usize = 16;
/// Bytes of `packet_length`.
const LENGTH_LEN: usize = 4;
/// Bytes of IV (RFC 5647 §7.1).
pub(crate) const IV_LEN: usize = 12;

/// The RFC 5647 §7.1 nonce: fixed field ‖ invocation counter.
#[derive(Zeroize, ZeroizeOnDrop)]
pub(crate) struct InvocationNonce {
    fixed: [u8; 4],
    invocation_counter: u64,
}

impl InvocationNonce {
    /// From the 12 bytes of derived IV.
    pub(crate) fn new(iv: &[u8; IV_LEN]) -> Self {
        let mut fixed = [0; 4];
        fixed.copy_from_slice(&iv[..4]);
        let mut counter = [0; 8];
        counter.copy_from_slice(&iv[4..]);
        InvocationNonce {
            fixed,
            invocation_counter: u64::from_be_bytes(counter),
        }
    }

    /// The fixed field of `iv` with the invocation counter of an exported state (8
    /// bytes, big-endian); `None` for another length.
    pub(crate) fn restore(iv: &[u8; IV_LEN], state: &[u8]) -> Option<Self> {
        let counter: [u8; 8] = state.try_into().ok()?;
        let mut n = InvocationNonce::new(iv);
        n.invocation_counter = u64::from_be_bytes(counter);
        Some(n)
    }

    /// The exported state: the invocation counter of the next packet.
    fn state(&self) -> StreamState {
        StreamState::new(self.invocation_counter.to_be_bytes().to_vec()).unwrap_or_default()
    }

    /// The nonce for this packet; the counter then moves on.
    pub(crate) fn advance(&mut self) -> Nonce {
        let mut n = [0u8; IV_LEN];
        n[..4].copy_from_slice(&self.fixed);
        n[4..].copy_from_slice(&self.invocation_counter.to_be_bytes());
        self.invocation_counter = self.invocation_counter.wrapping_add(1);
        Nonce::assume_unique_for_key(n)
    }
}

/// The AES-GCM key for `key` (16 or 32 bytes).
pub(crate) fn gcm_key(key: &[u8]) -> Option<LessSafeKey> {
    let alg = match key.len() {
        16 => &aead::AES_128_GCM,
        32 => &aead::AES_256_GCM,
        _ => return None,
    };
    Some(LessSafeKey::new(UnboundKey::new(alg, key).ok()?))
}

/// Seals packets with AES-GCM.
pub(crate) struct GcmSealer {
    key: LessSafeKey,
    nonce: InvocationNonce,
}

impl GcmSealer {
    pub(crate) fn new(key: LessSafeKey, nonce: InvocationNonce) -> Self {
        GcmSealer { key, nonce }
    }
}

impl Sealer for GcmSealer {
    fn block_size(&self) -> usize {
        AES_BLOCK
    }

    fn tag_len(&self) -> usize {
        TAG_LEN
    }

    fn length_excluded(&self) -> bool {
        true
    }

    fn seal(&mut self, _seq: u32, packet: &mut Vec<u8>) {
        let nonce = self.nonce.advance();
        let Some((length, body)) = packet.split_first_chunk_mut::<LENGTH_LEN>() else {
            return;
        };
        // `seal_in_place_separate_tag` fails only for inputs of about 64 GiB, far
        // beyond MAX_PACKET_LEN; the encoder never gets there.
        if let Ok(tag) = self
            .key
            .seal_in_place_separate_tag(nonce, Aad::from(*length), body)
        {
            packet.extend_from_slice(tag.as_ref());
        }
    }

    fn stream_state(&self) -> StreamState {
        self.nonce.state()
    }
}

/// Opens packets sealed by [`GcmSealer`].
pub(crate) struct GcmOpener {
    key: LessSafeKey,
    nonce: InvocationNonce,
}

impl GcmOpener {
    pub(crate) fn new(key: LessSafeKey, nonce: InvocationNonce) -> Self {
        GcmOpener { key, nonce }
    }
}

impl Opener for GcmOpener {
    fn block_size(&self) -> usize {
        AES_BLOCK
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

    fn decrypt_length(&mut self, _seq: u32, head: &mut [u8]) -> u32 {
        read_length(head)
    }

    fn open(&mut self, _seq: u32, packet: &mut [u8]) -> Result<(), PacketError> {
        let nonce = self.nonce.advance();
        let (length, rest) = packet
            .split_first_chunk_mut::<LENGTH_LEN>()
            .ok_or(PacketError::Mac)?;
        // `rest` is ciphertext ‖ tag; aws-lc checks the tag before releasing the plaintext.
        if rest.len() < TAG_LEN {
            return Err(PacketError::Mac);
        }
        self.key
            .open_in_place(nonce, Aad::from(*length), rest)
            .map(|_| ())
            .map_err(|_| PacketError::Mac)
    }

    fn stream_state(&self) -> StreamState {
        self.nonce.state()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invocation_counter_wraps_and_keeps_the_fixed_field() {
        let mut iv = [0u8; IV_LEN];
        iv[..4].copy_from_slice(&[1, 2, 3, 4]);
        iv[4..].fill(0xff);
        let mut n = InvocationNonce::new(&iv);
        assert_eq!(n.advance().as_ref(), &iv);
        assert_eq!(n.advance().as_ref(), &[1, 2, 3, 4, 0, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(n.advance().as_ref(), &[1, 2, 3, 4, 0, 0, 0, 0, 0, 0, 0, 1]);
        let mut iv = [9u8; IV_LEN];
        iv[11] = 0xff;
        let mut n = InvocationNonce::new(&iv);
        n.advance();
        assert_eq!(n.advance().as_ref(), &[9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 10, 0]);
    }

    /// Our nonce state is `ZeroizeOnDrop`; aws-lc-rs's key is an `EVP_AEAD_CTX`
    /// freed by `EVP_AEAD_CTX_free`, whose `OPENSSL_free` cleanses the allocation
    /// (the AES key schedule and GHASH key live inside it): only the existence of
    /// that Drop can be checked here.
    #[test]
    fn state_is_zeroized_on_drop() {
        fn zeroize_on_drop<T: ZeroizeOnDrop>() {}
        zeroize_on_drop::<InvocationNonce>();
        assert!(std::mem::needs_drop::<LessSafeKey>());
    }

    #[test]
    fn key_lengths() {
        assert!(gcm_key(&[0; 16]).is_some());
        assert!(gcm_key(&[0; 32]).is_some());
        assert!(gcm_key(&[0; 24]).is_none());
    }

    #[test]
    fn short_packets_are_refused_not_panicking() {
        for len in 0..=LENGTH_LEN + TAG_LEN {
            let mut o = GcmOpener::new(gcm_key(&[1; 16]).unwrap(), InvocationNonce::new(&[0; 12]));
            let mut p = vec![0u8; len];
            assert_eq!(o.open(0, &mut p), Err(PacketError::Mac), "len {len}");
        }
    }
}
