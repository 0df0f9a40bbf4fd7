//! The typed messages between the monitor and its children, and their encoding.
//!
//! Each message is a type byte followed by its fields in RFC 4251 encodings (sisu-wire's
//! `Writer`/`Reader`). Decoding is as strict as for network input, because a
//! compromised child sends garbage: every field must be there, nothing may follow, and
//! every length is bounded by the frame ([`super::MAX_FRAME`]) and by the limits below.

use sisu_wire::{Reader, WireError, Writer};

/// Most host keys described to a child.
pub const MAX_HOST_KEYS: usize = 64;
/// Longest log line a child may send.
pub const MAX_LOG_LINE: usize = 4096;

/// The monitor's verdict on a verified key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Refused.
    Deny,
    /// Authenticated.
    Allow,
    /// A method of `AuthenticationMethods` done, more required.
    Partial,
}

/// What a child asks of the monitor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ToMonitor {
    /// A log line to write (the child has no log of its own).
    Log {
        /// The level (`crate::log::Level as u8`).
        level: u8,
        /// The line.
        line: String,
    },
    /// Sign `data` (an exchange hash) with host key `key` (an index into
    /// [`FromMonitor::Setup`]'s list) and `algorithm`.
    Sign {
        /// Which host key.
        key: u32,
        /// The signature algorithm name.
        algorithm: String,
        /// What to sign.
        data: Vec<u8>,
    },
    /// Choose a group for Diffie-Hellman group exchange.
    GexGroup {
        /// The client's minimum size, in bits.
        min: u32,
        /// Its preferred size.
        n: u32,
        /// Its maximum.
        max: u32,
    },
    /// The first authentication request names this user (its `:style` dropped).
    User {
        /// The user name.
        user: String,
    },
    /// A publickey query: may `key` authenticate `user` (the answer decides PK_OK)?
    KeyOffered {
        /// The user.
        user: String,
        /// The signature algorithm named.
        algorithm: String,
        /// The public key blob.
        key: Vec<u8>,
    },
    /// A signed publickey request, whole: the monitor checks the signature itself,
    /// over data that holds the session id it signed.
    KeyVerified {
        /// The user (style dropped).
        user: String,
        /// The user name as the client sent (and signed) it.
        wire_user: String,
        /// The service.
        service: String,
        /// The signature algorithm.
        algorithm: String,
        /// The public key blob.
        key: Vec<u8>,
        /// The signature blob.
        signature: Vec<u8>,
    },
    /// After authentication: the exported transport, for the post-auth child.
    Handover {
        /// `sisu_kex` transport state bytes.
        state: Vec<u8>,
    },
    /// After authentication: a pseudo-terminal for the user.
    Pty,
}

/// What the monitor answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FromMonitor {
    /// The host keys the child offers: each key's `K_S` blob (a public key or a
    /// certificate), in the monitor's order.
    Setup {
        /// The blobs.
        host_keys: Vec<Vec<u8>>,
    },
    /// A signature blob.
    Signature {
        /// `string algorithm ‖ string signature`.
        blob: Vec<u8>,
    },
    /// A group for group exchange.
    Group {
        /// The prime, as an unsigned big-endian magnitude.
        p: Vec<u8>,
        /// The generator.
        g: Vec<u8>,
    },
    /// About the user the first request named.
    User {
        /// Whether the user exists and may log in (else: an invalid user).
        valid: bool,
        /// Whether `RefuseConnection` ends the connection now.
        refuse: bool,
        /// The banner for this user.
        banner: Option<String>,
    },
    /// A yes/no answer (a query: PK_OK or not).
    Offered {
        /// Whether the key may be tried.
        allowed: bool,
    },
    /// The verdict on a verified key.
    Verified {
        /// The verdict.
        verdict: Verdict,
    },
    /// Start the post-auth session (to the post-auth child).
    Start {
        /// The authenticated user.
        user: String,
        /// The restrictions of the keys used (the policy's encoding).
        grant: Vec<u8>,
        /// The transport state to import.
        state: Vec<u8>,
    },
    /// A pseudo-terminal (the master and slave descriptors come with the frame).
    Pty {
        /// The slave's path.
        tty: String,
    },
    /// The request cannot be answered; the connection ends.
    Refused {
        /// Why (for the child's log line).
        reason: String,
    },
}

mod tag {
    pub const LOG: u8 = 1;
    pub const SIGN: u8 = 2;
    pub const GEX: u8 = 3;
    pub const USER: u8 = 4;
    pub const KEY_OFFERED: u8 = 5;
    pub const KEY_VERIFIED: u8 = 6;
    pub const HANDOVER: u8 = 7;
    pub const PTY: u8 = 8;

    pub const SETUP: u8 = 101;
    pub const SIGNATURE: u8 = 102;
    pub const GROUP: u8 = 103;
    pub const USER_INFO: u8 = 104;
    pub const OFFERED: u8 = 105;
    pub const VERIFIED: u8 = 106;
    pub const START: u8 = 107;
    pub const PTY_READY: u8 = 108;
    pub const REFUSED: u8 = 109;
}

/// Why a message did not decode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecodeError {
    /// An unknown type byte.
    UnknownType(u8),
    /// A field is missing, malformed, or something follows the last one.
    Malformed(WireError),
    /// A count or a length beyond its limit.
    TooLarge(&'static str),
}

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DecodeError::UnknownType(t) => write!(f, "unknown monitor message type {t}"),
            DecodeError::Malformed(e) => write!(f, "malformed monitor message: {e}"),
            DecodeError::TooLarge(what) => write!(f, "monitor message: {what} too large"),
        }
    }
}

impl From<WireError> for DecodeError {
    fn from(e: WireError) -> Self {
        DecodeError::Malformed(e)
    }
}

fn text(r: &mut Reader<'_>) -> Result<String, DecodeError> {
    Ok(r.utf8()?.to_string())
}

/// A boolean that must be 0 or 1 (the encoding is canonical: one message, one form).
fn flag(r: &mut Reader<'_>) -> Result<bool, DecodeError> {
    match r.u8()? {
        0 => Ok(false),
        1 => Ok(true),
        _ => Err(DecodeError::Malformed(WireError::BadValue("boolean"))),
    }
}

fn blob(r: &mut Reader<'_>) -> Result<Vec<u8>, DecodeError> {
    Ok(r.string()?.to_vec())
}

impl ToMonitor {
    /// The message as bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::new();
        match self {
            ToMonitor::Log { level, line } => {
                w.u8(tag::LOG).u8(*level).str(line);
            }
            ToMonitor::Sign {
                key,
                algorithm,
                data,
            } => {
                w.u8(tag::SIGN).u32(*key).str(algorithm).string(data);
            }
            ToMonitor::GexGroup { min, n, max } => {
                w.u8(tag::GEX).u32(*min).u32(*n).u32(*max);
            }
            ToMonitor::User { user } => {
                w.u8(tag::USER).str(user);
            }
            ToMonitor::KeyOffered {
                user,
                algorithm,
                key,
            } => {
                w.u8(tag::KEY_OFFERED).str(user).str(algorithm).string(key);
            }
            ToMonitor::KeyVerified {
                user,
                wire_user,
                service,
                algorithm,
                key,
                signature,
            } => {
                w.u8(tag::KEY_VERIFIED)
                    .str(user)
                    .str(wire_user)
                    .str(service)
                    .str(algorithm)
                    .string(key)
                    .string(signature);
            }
            ToMonitor::Handover { state } => {
                w.u8(tag::HANDOVER).string(state);
            }
            ToMonitor::Pty => {
                w.u8(tag::PTY);
            }
        }
        w.into_vec()
    }

    /// Decodes [`ToMonitor::encode`]'s bytes.
    pub fn decode(bytes: &[u8]) -> Result<ToMonitor, DecodeError> {
        let mut r = Reader::new(bytes);
        let m = match r.u8()? {
            tag::LOG => {
                let level = r.u8()?;
                let line = text(&mut r)?;
                if line.len() > MAX_LOG_LINE {
                    return Err(DecodeError::TooLarge("log line"));
                }
                ToMonitor::Log { level, line }
            }
            tag::SIGN => ToMonitor::Sign {
                key: r.u32()?,
                algorithm: text(&mut r)?,
                data: blob(&mut r)?,
            },
            tag::GEX => ToMonitor::GexGroup {
                min: r.u32()?,
                n: r.u32()?,
                max: r.u32()?,
            },
            tag::USER => ToMonitor::User {
                user: text(&mut r)?,
            },
            tag::KEY_OFFERED => ToMonitor::KeyOffered {
                user: text(&mut r)?,
                algorithm: text(&mut r)?,
                key: blob(&mut r)?,
            },
            tag::KEY_VERIFIED => ToMonitor::KeyVerified {
                user: text(&mut r)?,
                wire_user: text(&mut r)?,
                service: text(&mut r)?,
                algorithm: text(&mut r)?,
                key: blob(&mut r)?,
                signature: blob(&mut r)?,
            },
            tag::HANDOVER => ToMonitor::Handover {
                state: blob(&mut r)?,
            },
            tag::PTY => ToMonitor::Pty,
            t => return Err(DecodeError::UnknownType(t)),
        };
        r.finish()?;
        Ok(m)
    }
}

impl FromMonitor {
    /// The message as bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::new();
        match self {
            FromMonitor::Setup { host_keys } => {
                w.u8(tag::SETUP).u32(host_keys.len() as u32);
                for k in host_keys {
                    w.string(k);
                }
            }
            FromMonitor::Signature { blob } => {
                w.u8(tag::SIGNATURE).string(blob);
            }
            FromMonitor::Group { p, g } => {
                w.u8(tag::GROUP).string(p).string(g);
            }
            FromMonitor::User {
                valid,
                refuse,
                banner,
            } => {
                w.u8(tag::USER_INFO).bool(*valid).bool(*refuse);
                match banner {
                    Some(b) => w.bool(true).str(b),
                    None => w.bool(false),
                };
            }
            FromMonitor::Offered { allowed } => {
                w.u8(tag::OFFERED).bool(*allowed);
            }
            FromMonitor::Verified { verdict } => {
                let v = match verdict {
                    Verdict::Deny => 0,
                    Verdict::Allow => 1,
                    Verdict::Partial => 2,
                };
                w.u8(tag::VERIFIED).u8(v);
            }
            FromMonitor::Start { user, grant, state } => {
                w.u8(tag::START).str(user).string(grant).string(state);
            }
            FromMonitor::Pty { tty } => {
                w.u8(tag::PTY_READY).str(tty);
            }
            FromMonitor::Refused { reason } => {
                w.u8(tag::REFUSED).str(reason);
            }
        }
        w.into_vec()
    }

    /// Decodes [`FromMonitor::encode`]'s bytes.
    pub fn decode(bytes: &[u8]) -> Result<FromMonitor, DecodeError> {
        let mut r = Reader::new(bytes);
        let m = match r.u8()? {
            tag::SETUP => {
                let n = r.u32()? as usize;
                if n > MAX_HOST_KEYS {
                    return Err(DecodeError::TooLarge("host key list"));
                }
                let host_keys = (0..n).map(|_| blob(&mut r)).collect::<Result<_, _>>()?;
                FromMonitor::Setup { host_keys }
            }
            tag::SIGNATURE => FromMonitor::Signature {
                blob: blob(&mut r)?,
            },
            tag::GROUP => FromMonitor::Group {
                p: blob(&mut r)?,
                g: blob(&mut r)?,
            },
            tag::USER_INFO => {
                let valid = flag(&mut r)?;
                let refuse = flag(&mut r)?;
                let banner = if flag(&mut r)? {
                    Some(text(&mut r)?)
                } else {
                    None
                };
                FromMonitor::User {
                    valid,
                    refuse,
                    banner,
                }
            }
            tag::OFFERED => FromMonitor::Offered {
                allowed: flag(&mut r)?,
            },
            tag::VERIFIED => FromMonitor::Verified {
                verdict: match r.u8()? {
                    0 => Verdict::Deny,
                    1 => Verdict::Allow,
                    2 => Verdict::Partial,
                    _ => return Err(DecodeError::Malformed(WireError::BadValue("verdict"))),
                },
            },
            tag::START => FromMonitor::Start {
                user: text(&mut r)?,
                grant: blob(&mut r)?,
                state: blob(&mut r)?,
            },
            tag::PTY_READY => FromMonitor::Pty { tty: text(&mut r)? },
            tag::REFUSED => FromMonitor::Refused {
                reason: text(&mut r)?,
            },
            t => return Err(DecodeError::UnknownType(t)),
        };
        r.finish()?;
        Ok(m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn to_monitor() -> impl Strategy<Value = ToMonitor> {
        let s = || "[ -~]{0,40}";
        let b = || proptest::collection::vec(any::<u8>(), 0..64);
        prop_oneof![
            (any::<u8>(), s()).prop_map(|(level, line)| ToMonitor::Log { level, line }),
            (any::<u32>(), s(), b()).prop_map(|(key, algorithm, data)| ToMonitor::Sign {
                key,
                algorithm,
                data
            }),
            (any::<u32>(), any::<u32>(), any::<u32>())
                .prop_map(|(min, n, max)| ToMonitor::GexGroup { min, n, max }),
            s().prop_map(|user| ToMonitor::User { user }),
            (s(), s(), b()).prop_map(|(user, algorithm, key)| ToMonitor::KeyOffered {
                user,
                algorithm,
                key
            }),
            (s(), s(), s(), s(), b(), b()).prop_map(
                |(user, wire_user, service, algorithm, key, signature)| ToMonitor::KeyVerified {
                    user,
                    wire_user,
                    service,
                    algorithm,
                    key,
                    signature
                }
            ),
            b().prop_map(|state| ToMonitor::Handover { state }),
            Just(ToMonitor::Pty),
        ]
    }

    fn from_monitor() -> impl Strategy<Value = FromMonitor> {
        let s = || "[ -~]{0,40}";
        let b = || proptest::collection::vec(any::<u8>(), 0..64);
        prop_oneof![
            proptest::collection::vec(b(), 0..5)
                .prop_map(|host_keys| FromMonitor::Setup { host_keys }),
            b().prop_map(|blob| FromMonitor::Signature { blob }),
            (b(), b()).prop_map(|(p, g)| FromMonitor::Group { p, g }),
            (any::<bool>(), any::<bool>(), proptest::option::of(s())).prop_map(
                |(valid, refuse, banner)| FromMonitor::User {
                    valid,
                    refuse,
                    banner
                }
            ),
            any::<bool>().prop_map(|allowed| FromMonitor::Offered { allowed }),
            prop_oneof![
                Just(Verdict::Deny),
                Just(Verdict::Allow),
                Just(Verdict::Partial)
            ]
            .prop_map(|verdict| FromMonitor::Verified { verdict }),
            (s(), b(), b()).prop_map(|(user, grant, state)| FromMonitor::Start {
                user,
                grant,
                state
            }),
            s().prop_map(|tty| FromMonitor::Pty { tty }),
            s().prop_map(|reason| FromMonitor::Refused { reason }),
        ]
    }

    proptest! {
        #[test]
        fn messages_round_trip_and_cut_or_extended_ones_are_refused(
            to in to_monitor(),
            from in from_monitor(),
        ) {
            let t = to.encode();
            prop_assert_eq!(ToMonitor::decode(&t), Ok(to));
            prop_assert!(ToMonitor::decode(&t[..t.len() - 1]).is_err());
            let mut longer = t.clone();
            longer.push(0);
            prop_assert!(ToMonitor::decode(&longer).is_err());
            let f = from.encode();
            prop_assert_eq!(FromMonitor::decode(&f), Ok(from));
            prop_assert!(FromMonitor::decode(&f[..f.len() - 1]).is_err());
        }

        #[test]
        fn whatever_decodes_encodes_back_the_same(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            if let Ok(m) = ToMonitor::decode(&bytes) {
                prop_assert_eq!(m.encode(), bytes.clone());
            }
            if let Ok(m) = FromMonitor::decode(&bytes) {
                prop_assert_eq!(m.encode(), bytes);
            }
        }
    }
}
