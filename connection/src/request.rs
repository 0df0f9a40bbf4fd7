//! Channel request types (RFC 4254 §6) and their type-specific data, including the
//! encoded terminal modes of `pty-req` (RFC 4254 §8).

use sisu_wire::{Reader, WireError, Writer};

/// `TTY_OP_END`: the last opcode of the encoded terminal modes.
pub const TTY_OP_END: u8 = 0;
/// Opcodes from this one up are undefined (RFC 4254 §8): parsing stops there.
pub const TTY_OP_UNDEFINED: u8 = 160;
/// Most terminal modes accepted in one `pty-req` (RFC 4254 defines 60-odd opcodes).
pub const MAX_PTY_MODES: usize = 256;

/// The request type `auth-agent-req@openssh.com`.
pub const AUTH_AGENT_REQ: &str = "auth-agent-req@openssh.com";

/// A parsed channel request: its type and type-specific data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChannelRequest<'a> {
    /// `pty-req` (§6.2).
    PtyReq {
        /// `TERM` environment variable value, e.g. `xterm-256color`.
        term: &'a str,
        /// Width in characters.
        cols: u32,
        /// Height in rows.
        rows: u32,
        /// Width in pixels.
        width_px: u32,
        /// Height in pixels.
        height_px: u32,
        /// Terminal modes as (opcode, argument), in the order sent.
        modes: Vec<(u8, u32)>,
    },
    /// `env` (§6.4). The value is raw bytes: RFC 4254 names no character set.
    Env {
        /// Variable name.
        name: &'a str,
        /// Variable value.
        value: &'a [u8],
    },
    /// `shell` (§6.5).
    Shell,
    /// `exec` (§6.5): the command as raw bytes.
    Exec {
        /// The command line.
        command: &'a [u8],
    },
    /// `subsystem` (§6.5), e.g. `sftp`.
    Subsystem {
        /// Subsystem name.
        name: &'a str,
    },
    /// `window-change` (§6.7).
    WindowChange {
        /// Width in characters.
        cols: u32,
        /// Height in rows.
        rows: u32,
        /// Width in pixels.
        width_px: u32,
        /// Height in pixels.
        height_px: u32,
    },
    /// `signal` (§6.9): signal name without the `SIG` prefix.
    Signal {
        /// Signal name, e.g. `TERM`.
        name: &'a str,
    },
    /// `exit-status` (§6.10).
    ExitStatus {
        /// The exit status.
        status: u32,
    },
    /// `exit-signal` (§6.10).
    ExitSignal {
        /// Signal name without `SIG`.
        signal: &'a str,
        /// Whether a core was dumped.
        core_dumped: bool,
        /// Error message.
        message: &'a str,
        /// Language tag.
        language: &'a str,
    },
    /// `x11-req` (§6.3.1): forward X11 connections to the peer.
    X11Req {
        /// Forward one connection only.
        single_connection: bool,
        /// The authentication protocol, e.g. `MIT-MAGIC-COOKIE-1`.
        auth_protocol: &'a str,
        /// The (fake) cookie, in hexadecimal.
        auth_cookie: &'a str,
        /// The X11 screen number.
        screen: u32,
    },
    /// `auth-agent-req@openssh.com` (OpenSSH's PROTOCOL.agent): forward the peer's agent.
    AuthAgentReq,
    /// Any other request (`keepalive@openssh.com`, ...), data unparsed.
    Other {
        /// Request type.
        kind: &'a str,
        /// Type-specific data.
        data: &'a [u8],
    },
}

impl<'a> ChannelRequest<'a> {
    /// Parses request type `kind` with its data. Known types must have exactly their
    /// fields; unknown ones become [`ChannelRequest::Other`].
    pub fn parse(kind: &'a str, data: &'a [u8]) -> Result<ChannelRequest<'a>, WireError> {
        let mut r = Reader::new(data);
        let req = match kind {
            "pty-req" => ChannelRequest::PtyReq {
                term: r.utf8()?,
                cols: r.u32()?,
                rows: r.u32()?,
                width_px: r.u32()?,
                height_px: r.u32()?,
                modes: parse_modes(r.string()?)?,
            },
            "env" => ChannelRequest::Env {
                name: r.utf8()?,
                value: r.string()?,
            },
            "shell" => ChannelRequest::Shell,
            "exec" => ChannelRequest::Exec {
                command: r.string()?,
            },
            "subsystem" => ChannelRequest::Subsystem { name: r.utf8()? },
            "window-change" => ChannelRequest::WindowChange {
                cols: r.u32()?,
                rows: r.u32()?,
                width_px: r.u32()?,
                height_px: r.u32()?,
            },
            "signal" => ChannelRequest::Signal { name: r.utf8()? },
            "exit-status" => ChannelRequest::ExitStatus { status: r.u32()? },
            "x11-req" => ChannelRequest::X11Req {
                single_connection: r.bool()?,
                auth_protocol: r.utf8()?,
                auth_cookie: r.utf8()?,
                screen: r.u32()?,
            },
            AUTH_AGENT_REQ => ChannelRequest::AuthAgentReq,
            "exit-signal" => ChannelRequest::ExitSignal {
                signal: r.utf8()?,
                core_dumped: r.bool()?,
                message: r.utf8()?,
                language: r.utf8()?,
            },
            _ => {
                return Ok(ChannelRequest::Other {
                    kind,
                    data: r.bytes(r.remaining())?,
                })
            }
        };
        r.finish()?;
        Ok(req)
    }

    /// The request type name.
    pub fn kind(&self) -> &'a str {
        match self {
            ChannelRequest::PtyReq { .. } => "pty-req",
            ChannelRequest::Env { .. } => "env",
            ChannelRequest::Shell => "shell",
            ChannelRequest::Exec { .. } => "exec",
            ChannelRequest::Subsystem { .. } => "subsystem",
            ChannelRequest::WindowChange { .. } => "window-change",
            ChannelRequest::Signal { .. } => "signal",
            ChannelRequest::ExitStatus { .. } => "exit-status",
            ChannelRequest::ExitSignal { .. } => "exit-signal",
            ChannelRequest::X11Req { .. } => "x11-req",
            ChannelRequest::AuthAgentReq => AUTH_AGENT_REQ,
            ChannelRequest::Other { kind, .. } => kind,
        }
    }

    /// The type-specific data of this request.
    pub fn encode_data(&self) -> Vec<u8> {
        let mut w = Writer::new();
        match self {
            ChannelRequest::PtyReq {
                term,
                cols,
                rows,
                width_px,
                height_px,
                modes,
            } => {
                w.str(term)
                    .u32(*cols)
                    .u32(*rows)
                    .u32(*width_px)
                    .u32(*height_px)
                    .string(&encode_modes(modes));
            }
            ChannelRequest::Env { name, value } => {
                w.str(name).string(value);
            }
            ChannelRequest::Shell | ChannelRequest::AuthAgentReq => {}
            ChannelRequest::X11Req {
                single_connection,
                auth_protocol,
                auth_cookie,
                screen,
            } => {
                w.bool(*single_connection)
                    .str(auth_protocol)
                    .str(auth_cookie)
                    .u32(*screen);
            }
            ChannelRequest::Exec { command } => {
                w.string(command);
            }
            ChannelRequest::Subsystem { name } | ChannelRequest::Signal { name } => {
                w.str(name);
            }
            ChannelRequest::WindowChange {
                cols,
                rows,
                width_px,
                height_px,
            } => {
                w.u32(*cols).u32(*rows).u32(*width_px).u32(*height_px);
            }
            ChannelRequest::ExitStatus { status } => {
                w.u32(*status);
            }
            ChannelRequest::ExitSignal {
                signal,
                core_dumped,
                message,
                language,
            } => {
                w.str(signal).bool(*core_dumped).str(message).str(language);
            }
            ChannelRequest::Other { data, .. } => {
                w.raw(data);
            }
        }
        w.into_vec()
    }
}

/// Parses encoded terminal modes: `opcode uint32` pairs up to `TTY_OP_END`, the end of
/// the string, or the first undefined opcode (160 and up), whichever comes first. More
/// than [`MAX_PTY_MODES`] modes is [`WireError::TooLong`].
pub fn parse_modes(encoded: &[u8]) -> Result<Vec<(u8, u32)>, WireError> {
    let mut r = Reader::new(encoded);
    let mut modes = Vec::new();
    while r.remaining() > 0 {
        let op = r.u8()?;
        if op == TTY_OP_END || op >= TTY_OP_UNDEFINED {
            break;
        }
        if modes.len() == MAX_PTY_MODES {
            return Err(WireError::TooLong);
        }
        modes.push((op, r.u32()?));
    }
    Ok(modes)
}

/// Encodes terminal modes, ending with `TTY_OP_END`.
pub fn encode_modes(modes: &[(u8, u32)]) -> Vec<u8> {
    let mut w = Writer::new();
    for &(op, arg) in modes {
        w.u8(op).u32(arg);
    }
    w.u8(TTY_OP_END);
    w.into_vec()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn pty_req_round_trip(term in "[a-z0-9-]{0,20}", cols in any::<u32>(), rows in any::<u32>(),
                              w in any::<u32>(), h in any::<u32>(),
                              modes in proptest::collection::vec((1u8..160, any::<u32>()), 0..40)) {
            let req = ChannelRequest::PtyReq { term: &term, cols, rows, width_px: w, height_px: h, modes };
            let data = req.encode_data();
            prop_assert_eq!(ChannelRequest::parse("pty-req", &data), Ok(req));
        }

        #[test]
        fn other_requests_round_trip(which in 0u8..10, s in "[A-Za-z0-9 ]{0,20}",
                                     raw in proptest::collection::vec(any::<u8>(), 0..40),
                                     a in any::<u32>(), b in any::<bool>()) {
            let req = match which {
                0 => ChannelRequest::Env { name: &s, value: &raw },
                1 => ChannelRequest::Shell,
                2 => ChannelRequest::Exec { command: &raw },
                3 => ChannelRequest::Subsystem { name: &s },
                4 => ChannelRequest::WindowChange { cols: a, rows: a ^ 1, width_px: 3, height_px: 4 },
                5 => ChannelRequest::Signal { name: &s },
                6 => ChannelRequest::ExitStatus { status: a },
                7 => ChannelRequest::X11Req {
                    single_connection: b, auth_protocol: "MIT-MAGIC-COOKIE-1", auth_cookie: &s, screen: a,
                },
                8 => ChannelRequest::AuthAgentReq,
                _ => ChannelRequest::ExitSignal { signal: &s, core_dumped: b, message: &s, language: "" },
            };
            let data = req.encode_data();
            prop_assert_eq!(ChannelRequest::parse(req.kind(), &data), Ok(req));
        }

        #[test]
        fn arbitrary_modes_never_panic_and_stay_bounded(enc in proptest::collection::vec(any::<u8>(), 0..3000)) {
            if let Ok(m) = parse_modes(&enc) {
                prop_assert!(m.len() <= MAX_PTY_MODES);
                prop_assert!(m.iter().all(|&(op, _)| op != TTY_OP_END && op < TTY_OP_UNDEFINED));
            }
        }
    }

    #[test]
    fn modes_stop_at_end_or_undefined_opcode() {
        // VINTR=3 -> 3, then TTY_OP_END, then garbage that must be ignored.
        assert_eq!(parse_modes(&[3, 0, 0, 0, 3, 0, 9, 9]), Ok(vec![(3, 3)]));
        // Opcode 160 is undefined: stop there.
        assert_eq!(parse_modes(&[53, 0, 0, 0, 1, 160, 1, 2]), Ok(vec![(53, 1)]));
        // No TTY_OP_END at all: the end of the string ends the list.
        assert_eq!(parse_modes(&[128, 0, 0, 0x96, 0]), Ok(vec![(128, 38400)]));
        // An opcode without its argument is truncated.
        assert_eq!(parse_modes(&[3, 0, 0]), Err(WireError::Truncated));
        // Too many modes.
        let many: Vec<(u8, u32)> = (0..=MAX_PTY_MODES)
            .map(|i| (1 + (i % 100) as u8, 0))
            .collect();
        assert_eq!(parse_modes(&encode_modes(&many)), Err(WireError::TooLong));
        assert_eq!(
            parse_modes(&encode_modes(&many[..MAX_PTY_MODES])).map(|m| m.len()),
            Ok(MAX_PTY_MODES)
        );
    }

    #[test]
    fn known_requests_refuse_trailing_data_unknown_keep_it() {
        assert_eq!(
            ChannelRequest::parse("shell", &[0]),
            Err(WireError::TrailingData)
        );
        assert_eq!(
            ChannelRequest::parse("keepalive@openssh.com", &[1, 2]),
            Ok(ChannelRequest::Other {
                kind: "keepalive@openssh.com",
                data: &[1, 2]
            })
        );
        assert_eq!(
            ChannelRequest::parse("x11-req", &[1, 2]),
            Err(WireError::Truncated)
        );
    }
}
