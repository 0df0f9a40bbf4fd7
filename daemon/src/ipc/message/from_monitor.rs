//! [`FromMonitor`]'s encoding.

use super::fields::*;
use super::{tag, DecodeError, FromMonitor, Verdict, MAX_ALGORITHMS};
use sisu_wire::{Reader, WireError, Writer};

impl FromMonitor {
    /// The message as bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::new();
        match self {
            FromMonitor::Setup {
                host_keys,
                identity,
                chroot,
                v1_keys,
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
                write_keys(&mut w, v1_keys);
            }
            FromMonitor::V1SessionKey { key } => {
                w.u8(tag::V1_KEY).string(key);
            }
            FromMonitor::V1Challenge { challenge } => {
                w.u8(tag::V1_CHALLENGE);
                match challenge {
                    Some(c) => w.bool(true).string(c),
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
                hostbased_algorithms,
            } => {
                w.u8(tag::USER_INFO).bool(*valid).bool(*refuse);
                match banner {
                    Some(b) => w.bool(true).str(b),
                    None => w.bool(false),
                };
                write_methods(&mut w, methods);
                write_strings(&mut w, pubkey_algorithms);
                write_strings(&mut w, hostbased_algorithms);
            }
            FromMonitor::Methods { methods } => {
                w.u8(tag::METHOD_LIST);
                write_methods(&mut w, methods);
            }
            FromMonitor::Offered { allowed } => {
                w.u8(tag::OFFERED).bool(*allowed);
            }
            FromMonitor::KbdPrompts { request } => {
                w.u8(tag::KBD_PROMPTS);
                write_prompts(&mut w, request);
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
                pam_env,
                pam_messages,
            } => {
                w.u8(tag::START).str(user).string(grant).string(state);
                write_keys(&mut w, host_keys);
                write_strings(&mut w, pam_env);
                w.str(pam_messages);
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
                let v1_keys = read_keys(&mut r)?;
                FromMonitor::Setup {
                    host_keys,
                    identity,
                    chroot,
                    v1_keys,
                }
            }
            tag::V1_KEY => FromMonitor::V1SessionKey { key: blob(&mut r)? },
            tag::V1_CHALLENGE => FromMonitor::V1Challenge {
                challenge: if flag(&mut r)? {
                    Some(blob(&mut r)?)
                } else {
                    None
                },
            },
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
                FromMonitor::User {
                    valid,
                    refuse,
                    banner,
                    methods,
                    pubkey_algorithms: read_strings(&mut r, MAX_ALGORITHMS, "algorithm list")?,
                    hostbased_algorithms: read_strings(&mut r, MAX_ALGORITHMS, "algorithm list")?,
                }
            }
            tag::METHOD_LIST => FromMonitor::Methods {
                methods: read_methods(&mut r)?,
            },
            tag::OFFERED => FromMonitor::Offered {
                allowed: flag(&mut r)?,
            },
            tag::KBD_PROMPTS => FromMonitor::KbdPrompts {
                request: read_prompts(&mut r)?,
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
                pam_env: read_strings(&mut r, MAX_ENV, "environment")?,
                pam_messages: text(&mut r)?,
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
