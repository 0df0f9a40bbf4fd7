//! [`ToMonitor`]'s encoding.

use super::fields::*;
use super::{tag, DecodeError, ToMonitor, MAX_LOG_LINE};
use sisu_userauth::hostbased::SignedHostbased;
use sisu_userauth::publickey::SignedRequest;
use sisu_userauth::Password;
use sisu_wire::{Reader, Writer};

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
            ToMonitor::KeyVerified(req) => {
                w.u8(tag::KEY_VERIFIED)
                    .str(&req.user)
                    .str(&req.service)
                    .str(&req.algorithm)
                    .string(&req.key_blob)
                    .string(&req.signature);
            }
            ToMonitor::HostbasedVerified(h) => {
                w.u8(tag::HOSTBASED)
                    .str(&h.user)
                    .str(&h.service)
                    .str(&h.algorithm)
                    .string(&h.key_blob)
                    .str(&h.client_host)
                    .str(&h.client_user)
                    .string(&h.signature);
            }
            ToMonitor::Password { user, password } => {
                w.u8(tag::PASSWORD).str(user).string(password.expose());
            }
            ToMonitor::Methods { user } => {
                w.u8(tag::METHODS).str(user);
            }
            ToMonitor::KbdStart { user, submethods } => {
                w.u8(tag::KBD_START).str(user).str(submethods);
            }
            ToMonitor::KbdRespond { user, responses } => {
                w.u8(tag::KBD_RESPOND).str(user);
                write_responses(&mut w, responses);
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
            ToMonitor::V1SessionKey {
                session_id,
                encrypted,
            } => {
                w.u8(tag::V1_SESSION_KEY)
                    .string(session_id)
                    .string(encrypted);
            }
            ToMonitor::V1RsaKey { user, modulus } => {
                w.u8(tag::V1_RSA_KEY).str(user).string(modulus);
            }
            ToMonitor::V1RsaResponse { user, response } => {
                w.u8(tag::V1_RSA_RESPONSE).str(user).string(response);
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
            tag::HOSTBASED => ToMonitor::HostbasedVerified(SignedHostbased {
                user: text(&mut r)?,
                service: text(&mut r)?,
                algorithm: text(&mut r)?,
                key_blob: blob(&mut r)?,
                client_host: text(&mut r)?,
                client_user: text(&mut r)?,
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
            tag::KBD_START => ToMonitor::KbdStart {
                user: text(&mut r)?,
                submethods: text(&mut r)?,
            },
            tag::KBD_RESPOND => ToMonitor::KbdRespond {
                user: text(&mut r)?,
                responses: read_responses(&mut r)?,
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
            tag::V1_SESSION_KEY => ToMonitor::V1SessionKey {
                session_id: blob(&mut r)?,
                encrypted: blob(&mut r)?,
            },
            tag::V1_RSA_KEY => ToMonitor::V1RsaKey {
                user: text(&mut r)?,
                modulus: blob(&mut r)?,
            },
            tag::V1_RSA_RESPONSE => ToMonitor::V1RsaResponse {
                user: text(&mut r)?,
                response: blob(&mut r)?,
            },
            t => return Err(DecodeError::UnknownType(t)),
        };
        r.finish()?;
        Ok(m)
    }
}
