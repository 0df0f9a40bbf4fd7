//! SSH_MSG_USERAUTH_REQUEST (RFC 4252 §5): parsing on the server, encoding for clients
//! and tests.
//!
//! ```text
//! byte      SSH_MSG_USERAUTH_REQUEST
//! string    user name in ISO-10646 UTF-8 encoding
//! string    service name in US-ASCII
//! string    method name in US-ASCII
//! ....      method specific fields
//! ```

pub use crate::hostbased::HostbasedRequest;
pub use crate::kbdint::KbdInteractiveRequest;
use crate::limits::{
    MAX_KEY_BLOB_LEN, MAX_NAME_LEN, MAX_PASSWORD_LEN, MAX_SIGNATURE_LEN, MAX_USER_LEN,
};
pub use crate::password::PasswordRequest;
use crate::AuthError;
use sisu_wire::msg::SSH_MSG_USERAUTH_REQUEST;
use sisu_wire::{Reader, WireError, Writer};

/// One SSH_MSG_USERAUTH_REQUEST, borrowing from the payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserauthRequest<'a> {
    /// The user name (UTF-8, no NUL, at most [`MAX_USER_LEN`] bytes).
    pub user: &'a str,
    /// The service to start after authentication (printable ASCII).
    pub service: &'a str,
    /// The method and its fields.
    pub method: MethodRequest<'a>,
}

/// The user name of a request without its `:style` suffix (`alice:otp` is `alice`), as
/// OpenSSH's sshd reads `user:style`.
pub fn user_without_style(user: &str) -> &str {
    user.split_once(':').map_or(user, |(u, _)| u)
}

/// The method-specific part of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MethodRequest<'a> {
    /// `none` (RFC 4252 §5.2): no further fields.
    None,
    /// `publickey` (RFC 4252 §7).
    PublicKey(PublicKeyRequest<'a>),
    /// `password` (RFC 4252 §8).
    Password(PasswordRequest<'a>),
    /// `keyboard-interactive` (RFC 4256 §3.1).
    KeyboardInteractive(KbdInteractiveRequest<'a>),
    /// `hostbased` (RFC 4252 §9).
    Hostbased(HostbasedRequest<'a>),
    /// Any other method name (`gssapi-with-mic`, …); its fields are not parsed.
    Other(&'a str),
}

/// The fields of a `publickey` request (RFC 4252 §7).
///
/// ```text
/// boolean   FALSE / TRUE
/// string    public key algorithm name
/// string    public key blob
/// string    signature            (only when TRUE)
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKeyRequest<'a> {
    /// The public key (signature) algorithm name, e.g. `rsa-sha2-256`.
    pub algorithm: &'a str,
    /// The public key blob as sent (RFC 4253 §6.6 encoding).
    pub key_blob: &'a [u8],
    /// The signature blob when the boolean was TRUE.
    pub signature: Option<&'a [u8]>,
}

impl MethodRequest<'_> {
    /// The method name on the wire.
    pub fn name(&self) -> &str {
        match self {
            MethodRequest::None => "none",
            MethodRequest::PublicKey(_) => "publickey",
            MethodRequest::Password(_) => "password",
            MethodRequest::KeyboardInteractive(_) => "keyboard-interactive",
            MethodRequest::Hostbased(_) => "hostbased",
            MethodRequest::Other(name) => name,
        }
    }
}

fn field<T>(field: &'static str, r: Result<T, WireError>) -> Result<T, AuthError> {
    r.map_err(|error| AuthError::Malformed { field, error })
}

/// A `string` of at most `max` bytes.
fn bounded<'a>(r: &mut Reader<'a>, name: &'static str, max: usize) -> Result<&'a [u8], AuthError> {
    let s = field(name, r.string())?;
    if s.len() > max {
        return field(name, Err(WireError::TooLong));
    }
    Ok(s)
}

/// A name: printable US-ASCII, 1..=[`MAX_NAME_LEN`] bytes.
fn ascii_name<'a>(r: &mut Reader<'a>, name: &'static str) -> Result<&'a str, AuthError> {
    let s = bounded(r, name, MAX_NAME_LEN)?;
    if !s.iter().all(|&b| (0x21..0x7f).contains(&b)) {
        return field(name, Err(WireError::BadText));
    }
    // Checked above: printable ASCII.
    field(name, std::str::from_utf8(s).map_err(|_| WireError::BadText))
}

impl<'a> UserauthRequest<'a> {
    /// Parses a whole payload, message number included. Trailing bytes after the
    /// fields of `none`, `publickey` and `password` are an error (as OpenSSH's `sshpkt_get_end`).
    pub fn parse(payload: &'a [u8]) -> Result<Self, AuthError> {
        let mut r = Reader::new(payload);
        let n = field("message number", r.u8())?;
        if n != SSH_MSG_USERAUTH_REQUEST {
            return Err(AuthError::UnexpectedMessage(n));
        }
        let user = bounded(&mut r, "user name", MAX_USER_LEN)?;
        if user.contains(&0) {
            return field("user name", Err(WireError::BadText));
        }
        let user = field(
            "user name",
            std::str::from_utf8(user).map_err(|_| WireError::BadText),
        )?;
        let service = ascii_name(&mut r, "service name")?;
        let method_name = ascii_name(&mut r, "method name")?;
        let method = match method_name {
            "none" => MethodRequest::None,
            "publickey" => {
                let has_signature = field("publickey boolean", r.bool())?;
                let algorithm = ascii_name(&mut r, "public key algorithm")?;
                let key_blob = bounded(&mut r, "public key blob", MAX_KEY_BLOB_LEN)?;
                let signature = if has_signature {
                    Some(bounded(&mut r, "signature", MAX_SIGNATURE_LEN)?)
                } else {
                    None
                };
                MethodRequest::PublicKey(PublicKeyRequest {
                    algorithm,
                    key_blob,
                    signature,
                })
            }
            "password" => {
                let change = field("password boolean", r.bool())?;
                let password = bounded(&mut r, "password", MAX_PASSWORD_LEN)?;
                let new_password = if change {
                    Some(bounded(&mut r, "new password", MAX_PASSWORD_LEN)?)
                } else {
                    None
                };
                MethodRequest::Password(PasswordRequest {
                    password,
                    new_password,
                })
            }
            "keyboard-interactive" => {
                MethodRequest::KeyboardInteractive(KbdInteractiveRequest::read(&mut r)?)
            }
            "hostbased" => MethodRequest::Hostbased(HostbasedRequest::read(&mut r)?),
            other => return Ok(Self::with(user, service, MethodRequest::Other(other))),
        };
        field("end of message", r.finish())?;
        Ok(Self::with(user, service, method))
    }

    fn with(user: &'a str, service: &'a str, method: MethodRequest<'a>) -> Self {
        UserauthRequest {
            user,
            service,
            method,
        }
    }

    /// Encodes the request as a client sends it. `Other` methods are encoded with no
    /// method-specific fields.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::msg(SSH_MSG_USERAUTH_REQUEST);
        w.str(self.user).str(self.service).str(self.method.name());
        if let MethodRequest::PublicKey(pk) = &self.method {
            w.bool(pk.signature.is_some())
                .str(pk.algorithm)
                .string(pk.key_blob);
            if let Some(sig) = pk.signature {
                w.string(sig);
            }
        }
        if let MethodRequest::Password(p) = &self.method {
            w.bool(p.new_password.is_some()).string(p.password);
            if let Some(new) = p.new_password {
                w.string(new);
            }
        }
        if let MethodRequest::KeyboardInteractive(k) = &self.method {
            k.write(&mut w);
        }
        if let MethodRequest::Hostbased(h) = &self.method {
            h.write(&mut w);
        }
        w.into_vec()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_none() {
        let p = UserauthRequest::with("alice", "ssh-connection", MethodRequest::None).encode();
        let req = UserauthRequest::parse(&p).unwrap();
        assert_eq!(req.user, "alice");
        assert_eq!(req.service, "ssh-connection");
        assert_eq!(req.method, MethodRequest::None);
    }

    #[test]
    fn trailing_bytes_after_none_are_refused() {
        let mut p = UserauthRequest::with("alice", "ssh-connection", MethodRequest::None).encode();
        p.push(0);
        assert!(matches!(
            UserauthRequest::parse(&p),
            Err(AuthError::Malformed {
                error: WireError::TrailingData,
                ..
            })
        ));
    }

    #[test]
    fn user_with_nul_or_too_long_is_refused() {
        let p = UserauthRequest::with("ro\0ot", "ssh-connection", MethodRequest::None).encode();
        assert!(matches!(
            UserauthRequest::parse(&p),
            Err(AuthError::Malformed {
                field: "user name",
                ..
            })
        ));
        let long = "a".repeat(MAX_USER_LEN + 1);
        let p = UserauthRequest::with(&long, "ssh-connection", MethodRequest::None).encode();
        assert!(matches!(
            UserauthRequest::parse(&p),
            Err(AuthError::Malformed {
                field: "user name",
                error: WireError::TooLong
            })
        ));
    }

    #[test]
    fn other_methods_keep_their_name() {
        let mut w = Writer::msg(SSH_MSG_USERAUTH_REQUEST);
        w.str("bob").str("ssh-connection").str("gssapi-with-mic");
        let p = w.into_vec();
        let req = UserauthRequest::parse(&p).unwrap();
        assert_eq!(req.method, MethodRequest::Other("gssapi-with-mic"));
    }

    #[test]
    fn keyboard_interactive_round_trip() {
        let req = UserauthRequest::with(
            "bob",
            "ssh-connection",
            MethodRequest::KeyboardInteractive(KbdInteractiveRequest {
                language: "",
                submethods: "pam",
            }),
        );
        assert_eq!(UserauthRequest::parse(&req.encode()).unwrap(), req);
        let mut cut = req.encode();
        cut.truncate(cut.len() - 2);
        assert!(UserauthRequest::parse(&cut).is_err());
    }

    #[test]
    fn other_message_numbers_are_unexpected() {
        assert_eq!(
            UserauthRequest::parse(&[61]),
            Err(AuthError::UnexpectedMessage(61))
        );
    }

    proptest! {
        #[test]
        fn publickey_round_trip(user in "[a-zA-Z0-9._-]{0,40}",
                                algorithm in "[a-z0-9@.-]{1,40}",
                                key_blob in proptest::collection::vec(any::<u8>(), 0..200),
                                signature in proptest::option::of(proptest::collection::vec(any::<u8>(), 0..200))) {
            let req = UserauthRequest {
                user: &user,
                service: "ssh-connection",
                method: MethodRequest::PublicKey(PublicKeyRequest {
                    algorithm: &algorithm,
                    key_blob: &key_blob,
                    signature: signature.as_deref(),
                }),
            };
            let bytes = req.encode();
            prop_assert_eq!(UserauthRequest::parse(&bytes).unwrap(), req);
        }

        #[test]
        fn parse_never_panics(data in proptest::collection::vec(any::<u8>(), 0..300)) {
            let mut p = vec![SSH_MSG_USERAUTH_REQUEST];
            p.extend_from_slice(&data);
            let _ = UserauthRequest::parse(&p);
            let _ = UserauthRequest::parse(&data);
        }
    }
}
