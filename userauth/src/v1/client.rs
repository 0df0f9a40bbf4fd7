//! [`V1AuthClient`]: the client side of SSH-1 authentication (`sshconnect1.c`'s
//! `ssh_userauth1`), for tests and tools. It sends `SSH_CMSG_USER`, then tries the
//! [`V1Attempt`]s of its plan in order until one succeeds or none is left.
//!
//! ```
//! use sisu_userauth::v1::client::{V1Attempt, V1AuthClient};
//! use sisu_wire::v1::msg;
//! let mut client = V1AuthClient::new("alice", [0; 16], vec![V1Attempt::password("pw")]);
//! assert_eq!(client.poll_transmit().unwrap().0, msg::CMSG_USER);
//! client.handle_message(msg::SMSG_FAILURE, &[]).unwrap(); // authentication needed
//! assert_eq!(client.poll_transmit().unwrap().0, msg::CMSG_AUTH_PASSWORD);
//! client.handle_message(msg::SMSG_SUCCESS, &[]).unwrap();
//! assert!(client.authenticated().is_some());
//! ```

use super::message::{parse_challenge, ClientMessage};
use super::rsa_challenge::{respond, SESSION_ID_LEN};
use super::{V1AuthError, V1Method};
use rsa::traits::PublicKeyParts;
use rsa::RsaPrivateKey;
use sisu_wire::v1::msg;
use std::collections::VecDeque;
use zeroize::Zeroizing;

/// One method the client tries.
#[derive(Clone)]
pub enum V1Attempt {
    /// `SSH_CMSG_AUTH_RSA` with this user key.
    Rsa(RsaPrivateKey),
    /// `SSH_CMSG_AUTH_PASSWORD`.
    Password(Zeroizing<String>),
    /// `SSH_CMSG_AUTH_RHOSTS_RSA` as `client_user`, proving the client host with its key.
    RhostsRsa {
        /// The user name on the client host.
        client_user: String,
        /// The client host's key.
        host_key: RsaPrivateKey,
    },
}

impl V1Attempt {
    /// A password attempt.
    pub fn password(password: &str) -> Self {
        V1Attempt::Password(Zeroizing::new(password.to_owned()))
    }

    /// The method it tries.
    pub fn method(&self) -> V1Method {
        match self {
            V1Attempt::Rsa(_) => V1Method::Rsa,
            V1Attempt::Password(_) => V1Method::Password,
            V1Attempt::RhostsRsa { .. } => V1Method::RhostsRsa,
        }
    }
}

impl std::fmt::Debug for V1Attempt {
    /// The method only: neither keys nor passwords are printed.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("V1Attempt").field(&self.method()).finish()
    }
}

/// What the client waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Wait {
    /// The reply to `SSH_CMSG_USER`.
    User,
    /// A challenge or `SSH_SMSG_FAILURE`, for an RSA or rhosts-RSA attempt.
    Challenge,
    /// `SSH_SMSG_SUCCESS` or `SSH_SMSG_FAILURE`.
    Verdict,
    /// Nothing: authenticated, or out of attempts.
    Done,
}

/// The client role of SSH-1 authentication (sans-IO, like [`super::V1AuthServer`]).
#[derive(Debug)]
pub struct V1AuthClient {
    session_id: [u8; SESSION_ID_LEN],
    plan: VecDeque<V1Attempt>,
    current: Option<V1Attempt>,
    wait: Wait,
    authenticated: Option<V1Method>,
    transmit: VecDeque<(u8, Vec<u8>)>,
}

impl V1AuthClient {
    /// A client that logs in as `user` on the session `session_id`, trying `plan` in
    /// order; `SSH_CMSG_USER` is queued at once.
    pub fn new(user: &str, session_id: [u8; SESSION_ID_LEN], plan: Vec<V1Attempt>) -> Self {
        let mut c = V1AuthClient {
            session_id,
            plan: plan.into(),
            current: None,
            wait: Wait::User,
            authenticated: None,
            transmit: VecDeque::new(),
        };
        c.send(&ClientMessage::User { name: user });
        c
    }

    /// One message from the server. `SSH_MSG_IGNORE` and `SSH_MSG_DEBUG` are dropped;
    /// a reply that does not fit what was sent is [`V1AuthError::Unexpected`], and a
    /// challenge that does not decrypt to what `sshconnect1.c` accepts is
    /// [`V1AuthError::BadChallenge`].
    pub fn handle_message(&mut self, msg_type: u8, payload: &[u8]) -> Result<(), V1AuthError> {
        if msg_type == msg::MSG_IGNORE || msg_type == msg::MSG_DEBUG {
            return Ok(());
        }
        let unexpected = |expected| V1AuthError::Unexpected {
            expected,
            got: msg_type,
        };
        match (self.wait, msg_type) {
            (Wait::User | Wait::Challenge | Wait::Verdict, msg::SMSG_FAILURE) => {
                self.next_attempt();
                Ok(())
            }
            (Wait::User | Wait::Verdict, msg::SMSG_SUCCESS) => {
                // After USER: the server let the user in without a method (Sisu never
                // does); recorded as the method of the attempt, if any.
                self.authenticated = Some(
                    self.current
                        .as_ref()
                        .map_or(V1Method::Other(msg::CMSG_USER), V1Attempt::method),
                );
                self.wait = Wait::Done;
                Ok(())
            }
            (Wait::Challenge, msg::SMSG_AUTH_RSA_CHALLENGE) => {
                let encrypted = parse_challenge(payload)?;
                let key = match &self.current {
                    Some(V1Attempt::Rsa(key)) => key,
                    Some(V1Attempt::RhostsRsa { host_key, .. }) => host_key,
                    _ => return Err(unexpected(msg::SMSG_FAILURE)),
                };
                let response = respond(encrypted, key, &self.session_id)
                    .map_err(|_| V1AuthError::BadChallenge)?;
                self.send(&ClientMessage::RsaResponse { response });
                self.wait = Wait::Verdict;
                Ok(())
            }
            (Wait::Challenge, _) => Err(unexpected(msg::SMSG_AUTH_RSA_CHALLENGE)),
            (Wait::User | Wait::Verdict, _) => Err(unexpected(msg::SMSG_FAILURE)),
            (Wait::Done, _) => Err(V1AuthError::AfterAuthentication(msg_type)),
        }
    }

    /// The next message to send, as (type, payload).
    pub fn poll_transmit(&mut self) -> Option<(u8, Vec<u8>)> {
        self.transmit.pop_front()
    }

    /// The method that succeeded, once `SSH_SMSG_SUCCESS` came.
    pub fn authenticated(&self) -> Option<V1Method> {
        self.authenticated
    }

    /// Whether the client is done: authenticated, or out of attempts after a failure.
    pub fn is_done(&self) -> bool {
        self.wait == Wait::Done
    }

    fn next_attempt(&mut self) {
        self.current = self.plan.pop_front();
        let Some(attempt) = self.current.take() else {
            self.wait = Wait::Done;
            return;
        };
        match &attempt {
            V1Attempt::Rsa(key) => {
                let modulus = key.n().to_bytes_be();
                self.send(&ClientMessage::AuthRsa { modulus: &modulus });
                self.wait = Wait::Challenge;
            }
            V1Attempt::Password(password) => {
                self.send(&ClientMessage::Password {
                    password: password.as_bytes(),
                });
                self.wait = Wait::Verdict;
            }
            V1Attempt::RhostsRsa {
                client_user,
                host_key,
            } => {
                let modulus = host_key.n().to_bytes_be();
                let exponent = host_key.e().to_bytes_be();
                self.send(&ClientMessage::RhostsRsa {
                    client_user,
                    bits: host_key.n().bits() as u32,
                    exponent: &exponent,
                    modulus: &modulus,
                });
                self.wait = Wait::Challenge;
            }
        }
        self.current = Some(attempt);
    }

    fn send(&mut self, m: &ClientMessage<'_>) {
        let (t, mut payload) = m.encode();
        // Moved out, not copied; the queue holds at most one message (lock-step).
        self.transmit.push_back((t, std::mem::take(&mut *payload)));
    }
}
