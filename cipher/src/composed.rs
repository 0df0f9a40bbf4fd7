//! A cipher (AES-CTR, CBC or RC4) combined with a MAC, in both of SSH's orders:
//!
//! - **encrypt-and-MAC** (RFC 4253 §6.4, e.g. `hmac-sha2-256`, `umac-128@openssh.com`):
//!   the MAC is computed over `uint32 sequence_number ‖ unencrypted_packet` and the
//!   whole packet, `packet_length` included, is encrypted. The receiver must decrypt
//!   the first block to learn the length, and decrypts the rest before it can check
//!   the MAC.
//! - **encrypt-then-MAC** (OpenSSH `PROTOCOL` §1.5, `*-etm@openssh.com`):
//!   `packet_length` is sent in clear, the rest is encrypted, and the MAC is computed
//!   over `sequence_number ‖ packet_length ‖ ciphertext`. The receiver checks the MAC
//!   before decrypting anything.
//!
//! The MACs keep no state from packet to packet (the sequence number is their nonce),
//! so the exported [`StreamState`] is the cipher's alone.

use crate::body::Transform;
use crate::mac::PacketMac;
use crate::read_length;
use sisu_wire::packet::{Opener, PacketError, Sealer, StreamState};

/// Bytes of `packet_length`.
const LENGTH_LEN: usize = 4;

/// Seals packets with a cipher and a MAC.
pub(crate) struct ComposedSealer {
    cipher: Box<dyn Transform>,
    block: usize,
    mac: PacketMac,
    etm: bool,
}

impl ComposedSealer {
    pub(crate) fn new(cipher: Box<dyn Transform>, block: usize, mac: PacketMac, etm: bool) -> Self {
        ComposedSealer {
            cipher,
            block,
            mac,
            etm,
        }
    }
}

impl Sealer for ComposedSealer {
    fn block_size(&self) -> usize {
        self.block
    }

    fn tag_len(&self) -> usize {
        self.mac.len()
    }

    fn length_excluded(&self) -> bool {
        self.etm
    }

    fn seal(&mut self, seq: u32, packet: &mut Vec<u8>) {
        let tag = if self.etm {
            if let Some(body) = packet.get_mut(LENGTH_LEN..) {
                self.cipher.apply(body);
            }
            self.mac.packet(seq, packet)
        } else {
            let tag = self.mac.packet(seq, packet);
            self.cipher.apply(packet);
            tag
        };
        packet.extend_from_slice(tag.as_ref());
    }

    fn stream_state(&self) -> StreamState {
        StreamState::new(self.cipher.state().to_vec()).unwrap_or_default()
    }
}

/// Opens packets sealed by [`ComposedSealer`].
pub(crate) struct ComposedOpener {
    cipher: Box<dyn Transform>,
    block: usize,
    mac: PacketMac,
    etm: bool,
}

impl ComposedOpener {
    pub(crate) fn new(cipher: Box<dyn Transform>, block: usize, mac: PacketMac, etm: bool) -> Self {
        ComposedOpener {
            cipher,
            block,
            mac,
            etm,
        }
    }
}

impl Opener for ComposedOpener {
    fn block_size(&self) -> usize {
        self.block
    }

    fn tag_len(&self) -> usize {
        self.mac.len()
    }

    fn length_excluded(&self) -> bool {
        self.etm
    }

    fn length_prefix_len(&self) -> usize {
        if self.etm {
            LENGTH_LEN
        } else {
            self.block
        }
    }

    fn decrypt_length(&mut self, _seq: u32, head: &mut [u8]) -> u32 {
        if !self.etm {
            // Encrypt-and-MAC: the first block is decrypted here, in place, and the
            // cipher state (keystream or CBC chain) moves on; `open` continues after it.
            self.cipher.apply(head);
        }
        read_length(head)
    }

    fn open(&mut self, seq: u32, packet: &mut [u8]) -> Result<(), PacketError> {
        let body_len = packet
            .len()
            .checked_sub(self.mac.len())
            .ok_or(PacketError::Mac)?;
        let (body, tag) = packet.split_at_mut(body_len);
        if self.etm {
            // Verify before decrypting: nothing of an unauthenticated packet is used.
            if !self.mac.verify(seq, body, tag) {
                return Err(PacketError::Mac);
            }
            let rest = body.get_mut(LENGTH_LEN..).ok_or(PacketError::Mac)?;
            self.cipher.apply(rest);
            Ok(())
        } else {
            let rest = body.get_mut(self.block..).ok_or(PacketError::Mac)?;
            self.cipher.apply(rest);
            if self.mac.verify(seq, body, tag) {
                Ok(())
            } else {
                Err(PacketError::Mac)
            }
        }
    }

    fn stream_state(&self) -> StreamState {
        StreamState::new(self.cipher.state().to_vec()).unwrap_or_default()
    }
}
