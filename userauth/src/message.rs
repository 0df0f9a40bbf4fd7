//! The messages a server sends (RFC 4252 §5.1, §5.4, §7): encoding, and parsing for
//! clients and tests.

use sisu_wire::msg::{
    SSH_MSG_USERAUTH_BANNER, SSH_MSG_USERAUTH_FAILURE, SSH_MSG_USERAUTH_PK_OK,
    SSH_MSG_USERAUTH_SUCCESS,
};
use sisu_wire::{NameList, Reader, WireError, Writer};

/// A server-to-client authentication message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerMessage<'a> {
    /// SSH_MSG_USERAUTH_FAILURE: the methods that can continue, and partial success.
    Failure {
        /// Authentications that can continue.
        methods: NameList<'a>,
        /// Whether the request succeeded but more methods are required.
        partial_success: bool,
    },
    /// SSH_MSG_USERAUTH_SUCCESS.
    Success,
    /// SSH_MSG_USERAUTH_BANNER.
    Banner {
        /// The text to show (UTF-8).
        message: &'a str,
        /// RFC 3066 language tag.
        language: &'a str,
    },
    /// SSH_MSG_USERAUTH_PK_OK: this key would be accepted; echoes the request's fields.
    PkOk {
        /// The public key algorithm name from the request.
        algorithm: &'a str,
        /// The public key blob from the request.
        key_blob: &'a [u8],
    },
}

impl<'a> ServerMessage<'a> {
    /// The payload, message number included.
    pub fn encode(&self) -> Vec<u8> {
        match self {
            ServerMessage::Failure {
                methods,
                partial_success,
            } => {
                let mut w = Writer::msg(SSH_MSG_USERAUTH_FAILURE);
                w.str(methods.as_str()).bool(*partial_success);
                w.into_vec()
            }
            ServerMessage::Success => Writer::msg(SSH_MSG_USERAUTH_SUCCESS).into_vec(),
            ServerMessage::Banner { message, language } => {
                let mut w = Writer::msg(SSH_MSG_USERAUTH_BANNER);
                w.str(message).str(language);
                w.into_vec()
            }
            ServerMessage::PkOk {
                algorithm,
                key_blob,
            } => {
                let mut w = Writer::msg(SSH_MSG_USERAUTH_PK_OK);
                w.str(algorithm).string(key_blob);
                w.into_vec()
            }
        }
    }

    /// Parses a payload. Message 60 is read as SSH_MSG_USERAUTH_PK_OK (the number is
    /// shared with keyboard-interactive's INFO_REQUEST; a client knows which it awaits).
    pub fn parse(payload: &'a [u8]) -> Result<Self, WireError> {
        let mut r = Reader::new(payload);
        let msg = match r.u8()? {
            SSH_MSG_USERAUTH_FAILURE => ServerMessage::Failure {
                methods: r.name_list()?,
                partial_success: r.bool()?,
            },
            SSH_MSG_USERAUTH_SUCCESS => ServerMessage::Success,
            SSH_MSG_USERAUTH_BANNER => ServerMessage::Banner {
                message: r.utf8()?,
                language: r.utf8()?,
            },
            SSH_MSG_USERAUTH_PK_OK => ServerMessage::PkOk {
                algorithm: r.utf8()?,
                key_blob: r.string()?,
            },
            _ => return Err(WireError::BadValue("not a userauth server message")),
        };
        r.finish()?;
        Ok(msg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn failure_layout() {
        let m = ServerMessage::Failure {
            methods: NameList("publickey,password"),
            partial_success: false,
        };
        let mut expected = vec![51, 0, 0, 0, 18];
        expected.extend_from_slice(b"publickey,password");
        expected.push(0);
        assert_eq!(m.encode(), expected);
    }

    proptest! {
        #[test]
        fn round_trip(text in "\\PC{0,40}", names in "[a-z-]{1,12}(,[a-z-]{1,12}){0,3}",
                      blob in proptest::collection::vec(any::<u8>(), 0..100), flag in any::<bool>()) {
            let msgs = [
                ServerMessage::Failure { methods: NameList(&names), partial_success: flag },
                ServerMessage::Success,
                ServerMessage::Banner { message: &text, language: "" },
                ServerMessage::PkOk { algorithm: &names, key_blob: &blob },
            ];
            for m in msgs {
                let bytes = m.encode();
                prop_assert_eq!(ServerMessage::parse(&bytes).unwrap(), m);
            }
        }
    }
}
