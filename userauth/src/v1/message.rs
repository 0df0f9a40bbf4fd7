//! The client's SSH-1 authentication messages ([`ClientMessage`]): parsed from a
//! message type and payload, as the transport delivers them, with every length
//! bounded; and encoded, for the client role and tests.
//!
//! ```text
//! SSH_CMSG_USER             string   user name
//! SSH_CMSG_AUTH_RSA         mpint    modulus of the key offered
//! SSH_CMSG_AUTH_RSA_RESPONSE 16 bytes MD5(challenge || session id), raw
//! SSH_CMSG_AUTH_PASSWORD    string   password
//! SSH_CMSG_AUTH_RHOSTS_RSA  string   client user name
//!                           uint32   host key bits
//!                           mpint    host key exponent
//!                           mpint    host key modulus
//! ```
//!
//! ```
//! use sisu_userauth::v1::message::ClientMessage;
//! let (t, payload) = ClientMessage::User { name: "alice" }.encode();
//! assert_eq!(ClientMessage::parse(t, &payload).unwrap(), Some(ClientMessage::User { name: "alice" }));
//! ```

use super::{V1AuthError, MAX_MESSAGE_LEN, MAX_MODULUS_BITS, MAX_PASSWORD_LEN, MAX_USER_LEN};
use sisu_wire::v1::{bit_len, mpint, msg, put_mpint};
use sisu_wire::{Reader, WireError, Writer};
use zeroize::Zeroizing;

/// Length of `SSH_CMSG_AUTH_RSA_RESPONSE`'s payload: an MD5 digest, raw.
pub const RESPONSE_LEN: usize = 16;

/// An authentication message from the client, borrowing from the payload.
#[derive(Clone, PartialEq, Eq)]
pub enum ClientMessage<'a> {
    /// `SSH_CMSG_USER`: the name as sent (a `:style` suffix included).
    User {
        /// At most [`MAX_USER_LEN`] bytes of UTF-8 with no NUL.
        name: &'a str,
    },
    /// `SSH_CMSG_AUTH_RSA`.
    AuthRsa {
        /// The modulus, big-endian, no leading zeros, at most [`MAX_MODULUS_BITS`].
        modulus: &'a [u8],
    },
    /// `SSH_CMSG_AUTH_RSA_RESPONSE`.
    RsaResponse {
        /// The 16 raw bytes.
        response: [u8; RESPONSE_LEN],
    },
    /// `SSH_CMSG_AUTH_PASSWORD`.
    Password {
        /// At most [`MAX_PASSWORD_LEN`] bytes (any bytes; the server asks the daemon
        /// only about UTF-8 ones).
        password: &'a [u8],
    },
    /// `SSH_CMSG_AUTH_RHOSTS_RSA`.
    RhostsRsa {
        /// The user on the client host: at most [`MAX_USER_LEN`] bytes of UTF-8, no NUL.
        client_user: &'a str,
        /// The host key size the client announced.
        bits: u32,
        /// The host key's exponent, big-endian, no leading zeros.
        exponent: &'a [u8],
        /// The host key's modulus, big-endian, no leading zeros.
        modulus: &'a [u8],
    },
}

impl std::fmt::Debug for ClientMessage<'_> {
    /// As derived, except that a password is never printed.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ClientMessage::User { name } => f.debug_struct("User").field("name", name).finish(),
            ClientMessage::AuthRsa { modulus } => {
                f.debug_struct("AuthRsa").field("modulus", modulus).finish()
            }
            ClientMessage::RsaResponse { response } => f
                .debug_struct("RsaResponse")
                .field("response", response)
                .finish(),
            ClientMessage::Password { password } => f
                .debug_struct("Password")
                .field("len", &password.len())
                .finish_non_exhaustive(),
            ClientMessage::RhostsRsa {
                client_user,
                bits,
                exponent,
                modulus,
            } => f
                .debug_struct("RhostsRsa")
                .field("client_user", client_user)
                .field("bits", bits)
                .field("exponent", exponent)
                .field("modulus", modulus)
                .finish(),
        }
    }
}

fn malformed(field: &'static str) -> impl Fn(WireError) -> V1AuthError {
    move |error| V1AuthError::Malformed { field, error }
}

/// A `string` holding a name: UTF-8, no NUL (OpenSSH's `packet_get_cstring`), at most
/// [`MAX_USER_LEN`] bytes.
fn name<'a>(r: &mut Reader<'a>, field: &'static str) -> Result<&'a str, V1AuthError> {
    let bytes = r.string().map_err(malformed(field))?;
    if bytes.len() > MAX_USER_LEN {
        return Err(malformed(field)(WireError::TooLong));
    }
    if bytes.contains(&0) {
        return Err(malformed(field)(WireError::BadValue("NUL in a name")));
    }
    std::str::from_utf8(bytes).map_err(|_| malformed(field)(WireError::BadText))
}

fn integer<'a>(r: &mut Reader<'a>, field: &'static str) -> Result<&'a [u8], V1AuthError> {
    let m = mpint(r).map_err(malformed(field))?;
    if bit_len(m) > MAX_MODULUS_BITS {
        return Err(malformed(field)(WireError::TooLong));
    }
    Ok(m)
}

impl<'a> ClientMessage<'a> {
    /// Parses one message. `Ok(None)` for a type that is not one of these five (the
    /// server decides what that means); `Err` when the type is one of them and its
    /// payload is malformed, too long, or has bytes left over.
    pub fn parse(msg_type: u8, payload: &'a [u8]) -> Result<Option<Self>, V1AuthError> {
        if payload.len() > MAX_MESSAGE_LEN {
            return Err(malformed("message")(WireError::TooLong));
        }
        let mut r = Reader::new(payload);
        let m = match msg_type {
            msg::CMSG_USER => ClientMessage::User {
                name: name(&mut r, "user name")?,
            },
            msg::CMSG_AUTH_RSA => ClientMessage::AuthRsa {
                modulus: integer(&mut r, "RSA modulus")?,
            },
            msg::CMSG_AUTH_RSA_RESPONSE => {
                let bytes = r.bytes(RESPONSE_LEN).map_err(malformed("RSA response"))?;
                let mut response = [0u8; RESPONSE_LEN];
                response.copy_from_slice(bytes);
                ClientMessage::RsaResponse { response }
            }
            msg::CMSG_AUTH_PASSWORD => {
                let password = r.string().map_err(malformed("password"))?;
                if password.len() > MAX_PASSWORD_LEN {
                    return Err(malformed("password")(WireError::TooLong));
                }
                ClientMessage::Password { password }
            }
            msg::CMSG_AUTH_RHOSTS_RSA => {
                let client_user = name(&mut r, "client user name")?;
                let bits = r.u32().map_err(malformed("host key bits"))?;
                let exponent = integer(&mut r, "host key exponent")?;
                let modulus = integer(&mut r, "host key modulus")?;
                ClientMessage::RhostsRsa {
                    client_user,
                    bits,
                    exponent,
                    modulus,
                }
            }
            _ => return Ok(None),
        };
        r.finish().map_err(malformed("message"))?;
        Ok(Some(m))
    }

    /// The message as (type, payload), for a transport's `send`. The payload of a
    /// password is wiped when dropped; move it into the transport without copying.
    pub fn encode(&self) -> (u8, Zeroizing<Vec<u8>>) {
        let (t, w) = match self {
            ClientMessage::User { name } => {
                let mut w = Writer::new();
                w.str(name);
                (msg::CMSG_USER, w)
            }
            ClientMessage::AuthRsa { modulus } => {
                let mut w = Writer::new();
                put_mpint(&mut w, modulus);
                (msg::CMSG_AUTH_RSA, w)
            }
            ClientMessage::RsaResponse { response } => {
                let mut w = Writer::new();
                w.raw(response);
                (msg::CMSG_AUTH_RSA_RESPONSE, w)
            }
            ClientMessage::Password { password } => {
                // One allocation, so no reallocation leaves a copy behind.
                let mut w = Writer::with_capacity(4 + password.len());
                w.string(password);
                (msg::CMSG_AUTH_PASSWORD, w)
            }
            ClientMessage::RhostsRsa {
                client_user,
                bits,
                exponent,
                modulus,
            } => {
                let mut w = Writer::new();
                w.str(client_user).u32(*bits);
                put_mpint(&mut w, exponent);
                put_mpint(&mut w, modulus);
                (msg::CMSG_AUTH_RHOSTS_RSA, w)
            }
        };
        (t, Zeroizing::new(w.into_vec()))
    }
}

/// `SSH_SMSG_AUTH_RSA_CHALLENGE`'s payload: the encrypted challenge as an SSH-1
/// integer (leading zero bytes dropped).
pub fn encode_challenge(encrypted: &[u8]) -> Vec<u8> {
    let mut w = Writer::new();
    put_mpint(&mut w, encrypted);
    w.into_vec()
}

/// Reads `SSH_SMSG_AUTH_RSA_CHALLENGE`'s payload: the encrypted challenge, big-endian.
pub fn parse_challenge(payload: &[u8]) -> Result<&[u8], V1AuthError> {
    let mut r = Reader::new(payload);
    let m = integer(&mut r, "RSA challenge")?;
    r.finish().map_err(malformed("RSA challenge"))?;
    Ok(m)
}
