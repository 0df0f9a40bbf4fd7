//! The typed messages between the monitor and its children, and their encoding.
//!
//! Each message is a type byte followed by its fields in RFC 4251 encodings (sisu-wire's
//! `Writer`/`Reader`). Decoding is as strict as for network input, because a
//! compromised child sends garbage: every field must be there, nothing may follow, every
//! boolean is 0 or 1 (one message, one encoding), and every length is bounded by the
//! frame ([`super::MAX_FRAME`]) and by the limits below.
//!
//! A child sends [`ToMonitor`]; all but [`ToMonitor::Log`] and [`ToMonitor::Handover`]
//! are questions, answered by one [`FromMonitor`] each. The monitor sends
//! [`FromMonitor::Setup`] (to the pre-auth child) and [`FromMonitor::Start`] (to the
//! post-auth child) unasked, first.

pub use crate::policy::Verdict;
use sisu_userauth::publickey::SignedRequest;
use sisu_userauth::{Method, Password};
use sisu_wire::{Reader, WireError, Writer};

/// Most host keys described to a child.
pub const MAX_HOST_KEYS: usize = 64;
/// Longest log line a child may send.
pub const MAX_LOG_LINE: usize = 4096;

/// What a child asks of (or tells) the monitor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ToMonitor {
    /// A log line to write (the child has no log of its own).
    Log {
        /// The level (`crate::log::Level::code`).
        level: u8,
        /// The line, not yet escaped (the monitor escapes it).
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
    /// A signed publickey request, as it came: the monitor checks the signature itself,
    /// over data that holds the session id it signed.
    KeyVerified(SignedRequest),
    /// A `password` request: is this `user`'s password? (The frame that carried it is
    /// not wiped: the channel's buffers hold it until they are reused.)
    Password {
        /// The user.
        user: String,
        /// The password.
        password: Password,
    },
    /// After a partial success: which methods may `user` try next?
    Methods {
        /// The user.
        user: String,
    },
    /// After authentication: the exported transport, for the post-auth child.
    Handover {
        /// `sisu_kex` transport state bytes.
        state: Vec<u8>,
    },
    /// After authentication: a pseudo-terminal of this size, for the user.
    Pty {
        /// Columns.
        cols: u16,
        /// Rows.
        rows: u16,
        /// Width in pixels.
        width_px: u16,
        /// Height in pixels.
        height_px: u16,
    },
    /// After authentication: prove the host key with this plain public blob
    /// (`hostkeys-prove-00@openssh.com`); the monitor builds the signed data itself.
    ProveHostKey {
        /// The key's plain public blob.
        key: Vec<u8>,
        /// The signature algorithm name.
        algorithm: String,
    },
}

/// What the monitor sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FromMonitor {
    /// To the pre-auth child, first: the host keys it serves and its sandbox.
    Setup {
        /// Each key's `K_S` blob (a public key or a certificate), in the monitor's order.
        host_keys: Vec<Vec<u8>>,
        /// The privilege separation user's uid and gid (`None`: no switch, the daemon
        /// is not root).
        identity: Option<(u32, u32)>,
        /// The directory to `chroot` into (`None`: none).
        chroot: Option<String>,
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
    /// No group fits the request.
    NoGroup,
    /// About the user the first request named.
    User {
        /// Whether the user exists and may log in (else: an invalid user).
        valid: bool,
        /// Whether `RefuseConnection` ends the connection now.
        refuse: bool,
        /// The banner for this user.
        banner: Option<String>,
        /// The methods the user may try.
        methods: Vec<Method>,
        /// `PubkeyAcceptedAlgorithms` for the user (at most [`MAX_ALGORITHMS`]).
        pubkey_algorithms: Vec<String>,
    },
    /// The methods that may be tried next.
    Methods {
        /// The methods, in the order SSH_MSG_USERAUTH_FAILURE lists them.
        methods: Vec<Method>,
    },
    /// A yes/no answer (a query: PK_OK or not).
    Offered {
        /// Whether the key may be tried.
        allowed: bool,
    },
    /// The verdict on a verified key or a password.
    Verified {
        /// The verdict.
        verdict: Verdict,
    },
    /// To the post-auth child, first: the session to take over.
    Start {
        /// The authenticated user.
        user: String,
        /// The restrictions of the keys used ([`crate::policy::Grant::to_bytes`]).
        grant: Vec<u8>,
        /// The transport state to import.
        state: Vec<u8>,
        /// Each host key's `K_S` blob, as in [`FromMonitor::Setup`].
        host_keys: Vec<Vec<u8>>,
    },
    /// A pseudo-terminal (its master and slave descriptors come with the frame).
    Pty {
        /// The slave's path.
        tty: String,
        /// The user's previous login (`PrintLastLog`'s line).
        last_login: Option<String>,
    },
    /// The request is refused (a signature that could not be made, a terminal that
    /// could not be had).
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
    pub const PROVE: u8 = 9;
    pub const PASSWORD: u8 = 10;
    pub const METHODS: u8 = 11;

    pub const SETUP: u8 = 101;
    pub const SIGNATURE: u8 = 102;
    pub const GROUP: u8 = 103;
    pub const USER_INFO: u8 = 104;
    pub const OFFERED: u8 = 105;
    pub const VERIFIED: u8 = 106;
    pub const START: u8 = 107;
    pub const PTY_READY: u8 = 108;
    pub const REFUSED: u8 = 109;
    pub const NO_GROUP: u8 = 110;
    pub const METHOD_LIST: u8 = 111;
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

/// Most names in an algorithm list.
pub const MAX_ALGORITHMS: usize = 128;

mod fields;
use fields::*;

impl ToMonitor {
    /// The message's name, for log lines about it.
    pub fn name(&self) -> &'static str {
        match self {
            ToMonitor::Log { .. } => "log",
            ToMonitor::Sign { .. } => "sign",
            ToMonitor::GexGroup { .. } => "moduli",
            ToMonitor::User { .. } => "user",
            ToMonitor::KeyOffered { .. } => "key query",
            ToMonitor::KeyVerified(_) => "key verify",
            ToMonitor::Password { .. } => "password",
            ToMonitor::Methods { .. } => "methods",
            ToMonitor::Handover { .. } => "handover",
            ToMonitor::Pty { .. } => "pty",
            ToMonitor::ProveHostKey { .. } => "host key proof",
        }
    }

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
            ToMonitor::KeyVerified(req) => {
                w.u8(tag::KEY_VERIFIED)
                    .str(&req.user)
                    .str(&req.service)
                    .str(&req.algorithm)
                    .string(&req.key_blob)
                    .string(&req.signature);
            }
            ToMonitor::Password { user, password } => {
                w.u8(tag::PASSWORD).str(user).string(password.expose());
            }
            ToMonitor::Methods { user } => {
                w.u8(tag::METHODS).str(user);
            }
            ToMonitor::Handover { state } => {
                w.u8(tag::HANDOVER).string(state);
            }
            ToMonitor::Pty {
                cols,
                rows,
                width_px,
                height_px,
            } => {
                w.u8(tag::PTY);
                for v in [cols, rows, width_px, height_px] {
                    w.u32(u32::from(*v));
                }
            }
            ToMonitor::ProveHostKey { key, algorithm } => {
                w.u8(tag::PROVE).string(key).str(algorithm);
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
            tag::KEY_VERIFIED => ToMonitor::KeyVerified(SignedRequest {
                user: text(&mut r)?,
                service: text(&mut r)?,
                algorithm: text(&mut r)?,
                key_blob: blob(&mut r)?,
                signature: blob(&mut r)?,
            }),
            tag::PASSWORD => {
                let user = text(&mut r)?;
                let password = r.string()?;
                if password.len() > sisu_userauth::limits::MAX_PASSWORD_LEN {
                    return Err(DecodeError::TooLarge("password"));
                }
                ToMonitor::Password {
                    user,
                    password: Password::new(password),
                }
            }
            tag::METHODS => ToMonitor::Methods {
                user: text(&mut r)?,
            },
            tag::HANDOVER => ToMonitor::Handover {
                state: blob(&mut r)?,
            },
            tag::PTY => ToMonitor::Pty {
                cols: u16_field(&mut r)?,
                rows: u16_field(&mut r)?,
                width_px: u16_field(&mut r)?,
                height_px: u16_field(&mut r)?,
            },
            tag::PROVE => ToMonitor::ProveHostKey {
                key: blob(&mut r)?,
                algorithm: text(&mut r)?,
            },
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
            FromMonitor::Setup {
                host_keys,
                identity,
                chroot,
            } => {
                w.u8(tag::SETUP);
                write_keys(&mut w, host_keys);
                match identity {
                    Some((uid, gid)) => w.bool(true).u32(*uid).u32(*gid),
                    None => w.bool(false),
                };
                match chroot {
                    Some(dir) => w.bool(true).str(dir),
                    None => w.bool(false),
                };
            }
            FromMonitor::Signature { blob } => {
                w.u8(tag::SIGNATURE).string(blob);
            }
            FromMonitor::Group { p, g } => {
                w.u8(tag::GROUP).string(p).string(g);
            }
            FromMonitor::NoGroup => {
                w.u8(tag::NO_GROUP);
            }
            FromMonitor::User {
                valid,
                refuse,
                banner,
                methods,
                pubkey_algorithms,
            } => {
                w.u8(tag::USER_INFO).bool(*valid).bool(*refuse);
                match banner {
                    Some(b) => w.bool(true).str(b),
                    None => w.bool(false),
                };
                write_methods(&mut w, methods);
                w.u32(pubkey_algorithms.len() as u32);
                for a in pubkey_algorithms {
                    w.str(a);
                }
            }
            FromMonitor::Methods { methods } => {
                w.u8(tag::METHOD_LIST);
                write_methods(&mut w, methods);
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
            FromMonitor::Start {
                user,
                grant,
                state,
                host_keys,
            } => {
                w.u8(tag::START).str(user).string(grant).string(state);
                write_keys(&mut w, host_keys);
            }
            FromMonitor::Pty { tty, last_login } => {
                w.u8(tag::PTY_READY).str(tty);
                match last_login {
                    Some(l) => w.bool(true).str(l),
                    None => w.bool(false),
                };
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
                let host_keys = read_keys(&mut r)?;
                let identity = if flag(&mut r)? {
                    Some((r.u32()?, r.u32()?))
                } else {
                    None
                };
                let chroot = if flag(&mut r)? {
                    Some(text(&mut r)?)
                } else {
                    None
                };
                FromMonitor::Setup {
                    host_keys,
                    identity,
                    chroot,
                }
            }
            tag::SIGNATURE => FromMonitor::Signature {
                blob: blob(&mut r)?,
            },
            tag::GROUP => FromMonitor::Group {
                p: blob(&mut r)?,
                g: blob(&mut r)?,
            },
            tag::NO_GROUP => FromMonitor::NoGroup,
            tag::USER_INFO => {
                let valid = flag(&mut r)?;
                let refuse = flag(&mut r)?;
                let banner = if flag(&mut r)? {
                    Some(text(&mut r)?)
                } else {
                    None
                };
                let methods = read_methods(&mut r)?;
                let n = r.u32()? as usize;
                if n > MAX_ALGORITHMS {
                    return Err(DecodeError::TooLarge("algorithm list"));
                }
                let pubkey_algorithms = (0..n).map(|_| text(&mut r)).collect::<Result<_, _>>()?;
                FromMonitor::User {
                    valid,
                    refuse,
                    banner,
                    methods,
                    pubkey_algorithms,
                }
            }
            tag::METHOD_LIST => FromMonitor::Methods {
                methods: read_methods(&mut r)?,
            },
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
                host_keys: read_keys(&mut r)?,
            },
            tag::PTY_READY => FromMonitor::Pty {
                tty: text(&mut r)?,
                last_login: if flag(&mut r)? {
                    Some(text(&mut r)?)
                } else {
                    None
                },
            },
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
mod tests;
