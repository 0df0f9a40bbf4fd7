//! SSH-1 terminal modes (the tail of `CMSG_REQUEST_PTY`) translated to SSH-2's
//! `(opcode, uint32)` list (RFC 4254 §8).
//!
//! Protocol 1's encoding, as OpenSSH's `ttymodes.c` reads it for protocol 1: opcodes
//! 1–127 take a one-byte argument, 128–159 a `uint32`; 192 and 193 are the input and
//! output speeds, with a `uint32`; 0 ends the list, and any other opcode (160–191,
//! 194–255) is undefined, with no known argument size, so parsing stops there. The
//! list is not length-prefixed: it runs to the end of the message.
//!
//! SSH-2's encoding gives every opcode 1–159 a `uint32`, with the speeds at 128
//! (`TTY_OP_ISPEED`) and 129 (`TTY_OP_OSPEED`). So: 1–127 keep their number (the two
//! protocols share that table) with the byte widened (255, "disabled", stays 255);
//! 192 → 128 and 193 → 129; 128 and 129 themselves (which sshd read as speeds in
//! either protocol) pass through; 130–159 are dropped, as sshd ignored them.

use crate::request::{MAX_PTY_MODES, TTY_OP_END};
use sisu_wire::{Reader, WireError};

/// SSH-1's input-speed opcode.
pub const SSH1_TTY_OP_ISPEED: u8 = 192;
/// SSH-1's output-speed opcode.
pub const SSH1_TTY_OP_OSPEED: u8 = 193;
/// SSH-2's `TTY_OP_ISPEED`.
pub const TTY_OP_ISPEED: u8 = 128;
/// SSH-2's `TTY_OP_OSPEED`.
pub const TTY_OP_OSPEED: u8 = 129;
/// The last opcode with an argument of a known size in protocol 1 (besides 192/193).
const SSH1_LAST_SIZED: u8 = 159;

/// Translates SSH-1 encoded terminal modes into SSH-2 `(opcode, argument)` pairs.
///
/// The end of the input also ends the list (a missing `TTY_OP_END` is tolerated);
/// bytes after `TTY_OP_END` are [`WireError::TrailingData`] (sshd checked for the end
/// of the message); an undefined opcode stops parsing and what follows is ignored; an
/// argument cut short is [`WireError::Truncated`]; more than [`MAX_PTY_MODES`] modes
/// is [`WireError::TooLong`].
pub fn translate_modes(ssh1: &[u8]) -> Result<Vec<(u8, u32)>, WireError> {
    let mut r = Reader::new(ssh1);
    let mut modes = Vec::new();
    while r.remaining() > 0 {
        let op = r.u8()?;
        let mode = match op {
            TTY_OP_END => {
                r.finish()?;
                break;
            }
            1..=127 => Some((op, u32::from(r.u8()?))),
            TTY_OP_ISPEED | TTY_OP_OSPEED => Some((op, r.u32()?)),
            130..=SSH1_LAST_SIZED => {
                r.u32()?;
                None
            }
            SSH1_TTY_OP_ISPEED => Some((TTY_OP_ISPEED, r.u32()?)),
            SSH1_TTY_OP_OSPEED => Some((TTY_OP_OSPEED, r.u32()?)),
            _ => break,
        };
        if let Some(m) = mode {
            if modes.len() == MAX_PTY_MODES {
                return Err(WireError::TooLong);
            }
            modes.push(m);
        }
    }
    Ok(modes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::{encode_modes, parse_modes};
    use proptest::prelude::*;

    #[test]
    fn translation_against_hand_worked_bytes() {
        // Worked out by hand from OpenSSH 7.5's ttymodes.c / ttymodes.h tables, as an
        // ssh1 client (tty_make_modes with compat20 off) writes them for a typical
        // terminal: ospeed first (193, uint32), then ispeed (192, uint32), then each
        // TTYCHAR / TTYMODE with a one-byte argument, then TTY_OP_END.
        let ssh1: &[u8] = &[
            193, 0x00, 0x00, 0x96, 0x00, // OSPEED_PROTO1 38400
            192, 0x00, 0x00, 0x25, 0x80, // ISPEED_PROTO1 9600
            1, 0x03, // VINTR ^C
            3, 0x7f, // VERASE DEL
            4, 0x15, // VKILL ^U
            11, 0xff, // VDSUSP disabled (_POSIX_VDISABLE is sent as 255)
            36, 1, // ICRNL on
            53, 1, // ECHO on
            51, 0, // ICANON off
            72, 1, // ONLCR on
            91, 1, // CS8 on
            0, // TTY_OP_END
        ];
        // SSH-2 (RFC 4254 §8): every argument a uint32; speeds at 129 / 128.
        let ssh2: &[u8] = &[
            129, 0, 0, 0x96, 0x00, //
            128, 0, 0, 0x25, 0x80, //
            1, 0, 0, 0, 0x03, //
            3, 0, 0, 0, 0x7f, //
            4, 0, 0, 0, 0x15, //
            11, 0, 0, 0, 0xff, //
            36, 0, 0, 0, 1, //
            53, 0, 0, 0, 1, //
            51, 0, 0, 0, 0, //
            72, 0, 0, 0, 1, //
            91, 0, 0, 0, 1, //
            0,
        ];
        let modes = translate_modes(ssh1).unwrap();
        assert_eq!(encode_modes(&modes), ssh2);
        assert_eq!(parse_modes(ssh2).unwrap(), modes);
    }

    #[test]
    fn edge_cases_follow_sshd() {
        // 128/129 are speeds with a uint32 in protocol 1 as well; 130..159 take a
        // uint32 and are dropped; an undefined opcode (200) stops parsing.
        let ssh1 = [128, 0, 0, 1, 0, 130, 1, 2, 3, 4, 129, 0, 0, 0, 9, 200, 9, 9];
        assert_eq!(translate_modes(&ssh1), Ok(vec![(128, 256), (129, 9)]));
        // No TTY_OP_END at all, and an empty list.
        assert_eq!(translate_modes(&[53, 1]), Ok(vec![(53, 1)]));
        assert_eq!(translate_modes(&[]), Ok(vec![]));
        // Truncated argument; bytes after the end.
        assert_eq!(translate_modes(&[192, 0, 0]), Err(WireError::Truncated));
        assert_eq!(translate_modes(&[53]), Err(WireError::Truncated));
        assert_eq!(translate_modes(&[0, 1]), Err(WireError::TrailingData));
        // Too many modes.
        let many: Vec<u8> = (0..=MAX_PTY_MODES).flat_map(|_| [53u8, 1]).collect();
        assert_eq!(translate_modes(&many), Err(WireError::TooLong));
        assert_eq!(
            translate_modes(&many[..2 * MAX_PTY_MODES]).map(|m| m.len()),
            Ok(MAX_PTY_MODES)
        );
    }

    proptest! {
        #[test]
        fn never_panics_and_output_parses_back(enc in proptest::collection::vec(any::<u8>(), 0..1200)) {
            if let Ok(modes) = translate_modes(&enc) {
                prop_assert!(modes.len() <= MAX_PTY_MODES);
                prop_assert!(modes.iter().all(|&(op, _)| op != 0 && op < 160));
                prop_assert_eq!(parse_modes(&encode_modes(&modes)), Ok(modes));
            }
        }
    }
}
