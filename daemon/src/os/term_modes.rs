//! RFC 4254 §8 encoded terminal modes, applied to a pty slave's termios.
//!
//! A `pty-req` carries a list of (opcode, uint32 value) pairs: opcodes 1–18 set a special
//! character (255 disables it), 30–93 switch a termios flag on (non-zero) or off (0), and
//! 128/129 set the input/output baud rate. Opcode 0 (`TTY_OP_END`) ends the list.
//! Opcodes this system has no equivalent for (`VDSUSP`, `VSWTCH`, `VSTATUS`, `VFLUSH` on
//! Linux) and unknown opcodes are ignored, as RFC 4254 asks.

use std::io;
use std::mem::MaybeUninit;
use std::os::fd::{AsRawFd, BorrowedFd};

use libc::{speed_t, tcflag_t, termios};

/// Most mode pairs applied from one request (a `pty-req` has far fewer).
pub const MAX_TERMINAL_MODES: usize = 256;

/// `TTY_OP_END`: end of the encoded modes.
pub const TTY_OP_END: u8 = 0;
/// `TTY_OP_ISPEED`: input baud rate.
pub const TTY_OP_ISPEED: u8 = 128;
/// `TTY_OP_OSPEED`: output baud rate.
pub const TTY_OP_OSPEED: u8 = 129;
/// The value that disables a special character in the encoding.
const DISABLED_CHAR: u32 = 255;

/// What one opcode changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    Char(usize),
    Input(tcflag_t),
    Output(tcflag_t),
    Control(tcflag_t),
    Local(tcflag_t),
    InputSpeed,
    OutputSpeed,
}

/// The RFC 4254 §8 opcode table, restricted to what Linux has.
fn target(opcode: u8) -> Option<Target> {
    use Target::*;
    Some(match opcode {
        1 => Char(libc::VINTR),
        2 => Char(libc::VQUIT),
        3 => Char(libc::VERASE),
        4 => Char(libc::VKILL),
        5 => Char(libc::VEOF),
        6 => Char(libc::VEOL),
        7 => Char(libc::VEOL2),
        8 => Char(libc::VSTART),
        9 => Char(libc::VSTOP),
        10 => Char(libc::VSUSP),
        // 11 VDSUSP: not on Linux
        12 => Char(libc::VREPRINT),
        13 => Char(libc::VWERASE),
        14 => Char(libc::VLNEXT),
        // 15 VFLUSH, 16 VSWTCH, 17 VSTATUS: not on Linux
        18 => Char(libc::VDISCARD),
        30 => Input(libc::IGNPAR),
        31 => Input(libc::PARMRK),
        32 => Input(libc::INPCK),
        33 => Input(libc::ISTRIP),
        34 => Input(libc::INLCR),
        35 => Input(libc::IGNCR),
        36 => Input(libc::ICRNL),
        37 => Input(libc::IUCLC),
        38 => Input(libc::IXON),
        39 => Input(libc::IXANY),
        40 => Input(libc::IXOFF),
        41 => Input(libc::IMAXBEL),
        42 => Input(libc::IUTF8), // RFC 8160
        50 => Local(libc::ISIG),
        51 => Local(libc::ICANON),
        52 => Local(libc::XCASE),
        53 => Local(libc::ECHO),
        54 => Local(libc::ECHOE),
        55 => Local(libc::ECHOK),
        56 => Local(libc::ECHONL),
        57 => Local(libc::NOFLSH),
        58 => Local(libc::TOSTOP),
        59 => Local(libc::IEXTEN),
        60 => Local(libc::ECHOCTL),
        61 => Local(libc::ECHOKE),
        62 => Local(libc::PENDIN),
        70 => Output(libc::OPOST),
        71 => Output(libc::OLCUC),
        72 => Output(libc::ONLCR),
        73 => Output(libc::OCRNL),
        74 => Output(libc::ONOCR),
        75 => Output(libc::ONLRET),
        // CS7 and CS8 are set and cleared as bits, as OpenSSH's client encodes them.
        90 => Control(libc::CS7),
        91 => Control(libc::CS8),
        92 => Control(libc::PARENB),
        93 => Control(libc::PARODD),
        TTY_OP_ISPEED => InputSpeed,
        TTY_OP_OSPEED => OutputSpeed,
        _ => return None,
    })
}

/// Baud rates in bits per second and their termios speed codes.
const SPEEDS: [(u32, speed_t); 31] = [
    (0, libc::B0),
    (50, libc::B50),
    (75, libc::B75),
    (110, libc::B110),
    (134, libc::B134),
    (150, libc::B150),
    (200, libc::B200),
    (300, libc::B300),
    (600, libc::B600),
    (1200, libc::B1200),
    (1800, libc::B1800),
    (2400, libc::B2400),
    (4800, libc::B4800),
    (9600, libc::B9600),
    (19200, libc::B19200),
    (38400, libc::B38400),
    (57600, libc::B57600),
    (115200, libc::B115200),
    (230400, libc::B230400),
    (460800, libc::B460800),
    (500000, libc::B500000),
    (576000, libc::B576000),
    (921600, libc::B921600),
    (1000000, libc::B1000000),
    (1152000, libc::B1152000),
    (1500000, libc::B1500000),
    (2000000, libc::B2000000),
    (2500000, libc::B2500000),
    (3000000, libc::B3000000),
    (3500000, libc::B3500000),
    (4000000, libc::B4000000),
];

fn speed_code(baud: u32) -> Option<speed_t> {
    SPEEDS.iter().find(|(b, _)| *b == baud).map(|(_, c)| *c)
}

fn set_flag(flags: &mut tcflag_t, bit: tcflag_t, on: bool) {
    if on {
        *flags |= bit;
    } else {
        *flags &= !bit;
    }
}

/// Apply `modes` to `tio` in order; the last value for an opcode wins.
fn apply_to(tio: &mut termios, modes: &[(u8, u32)]) {
    for &(opcode, value) in modes {
        if opcode == TTY_OP_END {
            break;
        }
        match target(opcode) {
            Some(Target::Char(index)) => {
                if value == DISABLED_CHAR {
                    tio.c_cc[index] = libc::_POSIX_VDISABLE;
                } else if let Ok(c) = u8::try_from(value) {
                    tio.c_cc[index] = c;
                }
            }
            Some(Target::Input(bit)) => set_flag(&mut tio.c_iflag, bit, value != 0),
            Some(Target::Output(bit)) => set_flag(&mut tio.c_oflag, bit, value != 0),
            Some(Target::Control(bit)) => set_flag(&mut tio.c_cflag, bit, value != 0),
            Some(Target::Local(bit)) => set_flag(&mut tio.c_lflag, bit, value != 0),
            Some(Target::InputSpeed) => {
                if let Some(code) = speed_code(value) {
                    // SAFETY: `tio` is a valid, exclusively borrowed termios.
                    unsafe { libc::cfsetispeed(tio, code) };
                }
            }
            Some(Target::OutputSpeed) => {
                if let Some(code) = speed_code(value) {
                    // SAFETY: `tio` is a valid, exclusively borrowed termios.
                    unsafe { libc::cfsetospeed(tio, code) };
                }
            }
            None => {}
        }
    }
}

/// Read a terminal's attributes (`tcgetattr`).
pub fn get_termios(fd: BorrowedFd) -> io::Result<termios> {
    let mut tio = MaybeUninit::<termios>::uninit();
    // SAFETY: tcgetattr fills the whole struct on success, which is checked before
    // `assume_init`.
    if unsafe { libc::tcgetattr(fd.as_raw_fd(), tio.as_mut_ptr()) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: tcgetattr succeeded, so `tio` is initialised.
    Ok(unsafe { tio.assume_init() })
}

/// Set a terminal's attributes now (`tcsetattr(TCSANOW)`).
pub fn set_termios(fd: BorrowedFd, tio: &termios) -> io::Result<()> {
    // SAFETY: tcsetattr only reads the live termios `tio` points to.
    if unsafe { libc::tcsetattr(fd.as_raw_fd(), libc::TCSANOW, tio) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Apply RFC 4254 §8 encoded terminal modes (opcode, value) to a pty slave's termios.
/// Unknown opcodes are ignored; more than [`MAX_TERMINAL_MODES`] pairs is an
/// `InvalidInput` error.
pub fn apply_terminal_modes(slave: BorrowedFd, modes: &[(u8, u32)]) -> io::Result<()> {
    if modes.len() > MAX_TERMINAL_MODES {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "{} terminal modes, at most {MAX_TERMINAL_MODES}",
                modes.len()
            ),
        ));
    }
    let mut tio = get_termios(slave)?;
    apply_to(&mut tio, modes);
    set_termios(slave, &tio)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn blank() -> termios {
        // SAFETY: termios is a plain C struct of integers, for which all-zero is valid.
        unsafe { std::mem::zeroed() }
    }

    #[test]
    fn flags_and_chars_are_set_and_cleared() {
        let mut tio = blank();
        apply_to(&mut tio, &[(53, 1), (72, 1), (36, 1), (3, 0x7f), (1, 3)]);
        assert_ne!(tio.c_lflag & libc::ECHO, 0);
        assert_ne!(tio.c_oflag & libc::ONLCR, 0);
        assert_ne!(tio.c_iflag & libc::ICRNL, 0);
        assert_eq!(tio.c_cc[libc::VERASE], 0x7f);
        assert_eq!(tio.c_cc[libc::VINTR], 3);
        apply_to(&mut tio, &[(53, 0), (1, DISABLED_CHAR)]);
        assert_eq!(tio.c_lflag & libc::ECHO, 0);
        assert_eq!(tio.c_cc[libc::VINTR], libc::_POSIX_VDISABLE);
        assert_ne!(tio.c_oflag & libc::ONLCR, 0, "untouched flags stay");
    }

    #[test]
    fn end_stops_and_speeds_map() {
        let mut tio = blank();
        apply_to(&mut tio, &[(TTY_OP_OSPEED, 9600), (0, 0), (53, 1)]);
        assert_eq!(tio.c_lflag & libc::ECHO, 0, "nothing after TTY_OP_END");
        // SAFETY: reading a speed from a valid termios.
        assert_eq!(unsafe { libc::cfgetospeed(&tio) }, libc::B9600);
        apply_to(&mut tio, &[(TTY_OP_ISPEED, 38400)]);
        // SAFETY: as above.
        assert_eq!(unsafe { libc::cfgetispeed(&tio) }, libc::B38400);
        let before = (tio.c_cflag, tio.c_ispeed, tio.c_ospeed);
        apply_to(&mut tio, &[(TTY_OP_OSPEED, 12345), (TTY_OP_ISPEED, 7)]);
        assert_eq!(
            (tio.c_cflag, tio.c_ispeed, tio.c_ospeed),
            before,
            "unknown rates ignored"
        );
    }

    proptest! {
        #[test]
        fn unknown_opcodes_change_nothing(
            modes in prop::collection::vec((any::<u8>(), any::<u32>()), 0..64),
        ) {
            let unknown: Vec<(u8, u32)> =
                modes.into_iter().filter(|(op, _)| *op != 0 && target(*op).is_none()).collect();
            let mut tio = blank();
            tio.c_lflag = libc::ECHO | libc::ICANON;
            tio.c_cc[libc::VINTR] = 3;
            let before = (tio.c_iflag, tio.c_oflag, tio.c_cflag, tio.c_lflag, tio.c_cc);
            apply_to(&mut tio, &unknown);
            prop_assert_eq!(before, (tio.c_iflag, tio.c_oflag, tio.c_cflag, tio.c_lflag, tio.c_cc));
        }

        #[test]
        fn last_flag_value_wins(op in 30u8..94, values in prop::collection::vec(any::<u32>(), 1..8)) {
            let Some(t) = target(op) else { return Ok(()) };
            let modes: Vec<(u8, u32)> = values.iter().map(|v| (op, *v)).collect();
            let mut tio = blank();
            apply_to(&mut tio, &modes);
            let on = *values.last().unwrap() != 0;
            let (flags, bit) = match t {
                Target::Input(b) => (tio.c_iflag, b),
                Target::Output(b) => (tio.c_oflag, b),
                Target::Control(b) => (tio.c_cflag, b),
                Target::Local(b) => (tio.c_lflag, b),
                _ => return Ok(()),
            };
            prop_assert_eq!(flags & bit == bit, on);
            if !on {
                prop_assert_eq!(flags & bit, 0);
            }
        }
    }
}
