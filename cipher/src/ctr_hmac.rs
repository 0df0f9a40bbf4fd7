//! AES-CTR combined with HMAC-SHA2, in both of SSH's orders:
//!
//! - **encrypt-and-MAC** (RFC 4253 §6.4, `hmac-sha2-256`, `hmac-sha2-512`): the MAC is
//!   `HMAC(key, uint32 sequence_number ‖ unencrypted_packet)` and the whole packet,
//!   `packet_length` included, is encrypted. The receiver must decrypt the first block
//!   to learn the length, and decrypts the rest before it can check the MAC.
//! - **encrypt-then-MAC** (OpenSSH `PROTOCOL` §1.5, `hmac-sha2-*-etm@openssh.com`):
//!   `packet_length` is sent in clear, the rest is encrypted, and the MAC is
//!   `HMAC(key, uint32 sequence_number ‖ packet_length ‖ ciphertext)`. The receiver
//!   checks the MAC before decrypting anything.

use crate::aes_ctr::AesCtr;
use crate::mac::PacketMac;
use crate::read_length;
use sisu_wire::packet::{Opener, PacketError, Sealer};

/// AES block size: packets are aligned to it.
const AES_BLOCK: usize = 16;
/// Bytes of `packet_length`.
const LENGTH_LEN: usize = 4;

/// Seals packets with AES-CTR and HMAC-SHA2.
pub(crate) struct CtrHmacSealer {
    ctr: AesCtr,
    mac: PacketMac,
    etm: bool,
}

impl CtrHmacSealer {
    pub(crate) fn new(ctr: AesCtr, mac: PacketMac, etm: bool) -> Self {
        CtrHmacSealer { ctr, mac, etm }
    }
}

impl Sealer for CtrHmacSealer {
    fn block_size(&self) -> usize {
        AES_BLOCK
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
                self.ctr.apply(body);
            }
            self.mac.packet(seq, packet)
        } else {
            let tag = self.mac.packet(seq, packet);
            self.ctr.apply(packet);
            tag
        };
        packet.extend_from_slice(tag.as_ref());
    }
}

/// Opens packets sealed by [`CtrHmacSealer`].
pub(crate) struct CtrHmacOpener {
    ctr: AesCtr,
    mac: PacketMac,
    etm: bool,
}

impl CtrHmacOpener {
    pub(crate) fn new(ctr: AesCtr, mac: PacketMac, etm: bool) -> Self {
        CtrHmacOpener { ctr, mac, etm }
    }
}

impl Opener for CtrHmacOpener {
    fn block_size(&self) -> usize {
        AES_BLOCK
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
            AES_BLOCK
        }
    }

    fn decrypt_length(&mut self, _seq: u32, head: &mut [u8]) -> u32 {
        if !self.etm {
            // Encrypt-and-MAC: the first block is decrypted here, in place, and the
            // keystream moves on; `open` continues after it.
            self.ctr.apply(head);
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
            self.ctr.apply(rest);
            Ok(())
        } else {
            let rest = body.get_mut(AES_BLOCK..).ok_or(PacketError::Mac)?;
            self.ctr.apply(rest);
            if self.mac.verify(seq, body, tag) {
                Ok(())
            } else {
                Err(PacketError::Mac)
            }
        }
    }
}
