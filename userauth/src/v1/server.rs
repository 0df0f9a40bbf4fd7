//! [`V1AuthServer`]: the server side of SSH-1 authentication as a sans-IO machine.

use super::message::{encode_challenge, ClientMessage};
use super::{
    V1AuthConfig, V1AuthError, V1AuthEvent, V1Method, CMSG_AUTH_TIS_RESPONSE, MAX_MESSAGE_LEN,
    MAX_MODULUS_BITS, MAX_QUEUE, MAX_TRIES, MIN_MODULUS_BITS,
};
use crate::request::user_without_style;
use sisu_wire::v1::{bit_len, msg};
use sisu_wire::WireError;
use std::collections::VecDeque;
use zeroize::Zeroizing;

/// Where the exchange is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Nothing received yet: only `SSH_CMSG_USER` is accepted.
    ExpectUser,
    /// Question [`V1AuthEvent::User`] is out.
    AwaitUser,
    /// Between attempts.
    Ready,
    /// Question [`V1AuthEvent::RsaKeyOffered`] (`Rsa`) or [`V1AuthEvent::RhostsRsa`]
    /// (`RhostsRsa`) is out.
    AwaitKey(V1Method),
    /// A challenge went out: only `SSH_CMSG_AUTH_RSA_RESPONSE` is accepted.
    ExpectResponse(V1Method),
    /// Question [`V1AuthEvent::RsaResponse`] is out.
    AwaitResponse(V1Method),
    /// Question [`V1AuthEvent::Password`] is out.
    AwaitPassword,
    /// `SSH_SMSG_SUCCESS` went out.
    Done,
}

/// The server role of SSH-1 user authentication (`auth1.c`'s `do_authloop`).
///
/// # Its methods, by kind, and the order to call them
///
/// - **Construct**: [`V1AuthServer::new`] once the session key is in place (the
///   transport has sent its encrypted `SSH_SMSG_SUCCESS`).
/// - **Input**: [`V1AuthServer::handle_message`] with each decrypted message. An `Err`
///   ends the connection (errors are sticky).
/// - **Events**: after every input or answer, [`V1AuthServer::poll_event`] until `None`.
/// - **Answers**: `User`, `RsaKeyOffered`, `RsaResponse`, `Password` and `RhostsRsa` are
///   questions, one at a time ([`V1AuthServer::awaiting_answer`]), each answered once by
///   the `answer_*` method its docs name. An answer that does not match the question
///   out (none out, another kind, a second answer) is ignored. Until the answer comes,
///   the machine takes no input: SSH-1 is lock-step, so a message other than
///   `SSH_MSG_IGNORE`/`SSH_MSG_DEBUG` in that time is [`V1AuthError::WhilePending`].
/// - **Output**: after every input or answer, [`V1AuthServer::poll_transmit`] until
///   `None`, each (type, payload) to the transport's `send`.
/// - **Result**: [`V1AuthServer::authenticated`] once [`V1AuthEvent::Authenticated`]
///   was raised; the next messages are the session's.
/// - **End**: [`V1AuthEvent::TooManyFailures`]: disconnect ("Too many authentication
///   failures for USER"); later input returns [`V1AuthError::TooManyFailures`].
///
/// A user the daemon calls unknown ([`answer_user`](V1AuthServer::answer_user)`(false)`)
/// goes through the same questions and replies as a known one (no user enumeration by
/// behaviour), but a positive answer for it is taken as a negative one: it never
/// succeeds, and no RSA challenge is ever sent for it.
#[derive(Debug, Clone)]
pub struct V1AuthServer {
    config: V1AuthConfig,
    state: State,
    /// The user name (without `:style`) once `SSH_CMSG_USER` came.
    user: String,
    /// What the daemon said of the user.
    known: bool,
    failures: u32,
    events: VecDeque<V1AuthEvent>,
    transmit: VecDeque<(u8, Vec<u8>)>,
    error: Option<V1AuthError>,
}

impl V1AuthServer {
    /// A machine for one connection. `config.max_tries` above [`MAX_TRIES`] is treated
    /// as [`MAX_TRIES`].
    pub fn new(config: V1AuthConfig) -> Self {
        let config = V1AuthConfig {
            max_tries: config.max_tries.min(MAX_TRIES),
            ..config
        };
        V1AuthServer {
            config,
            state: State::ExpectUser,
            user: String::new(),
            known: false,
            failures: 0,
            events: VecDeque::new(),
            transmit: VecDeque::new(),
            error: None,
        }
    }

    /// One decrypted SSH-1 message (type, payload) from the transport, after the
    /// session keys. `SSH_MSG_IGNORE` and `SSH_MSG_DEBUG` are dropped unread. An `Err`
    /// ends the connection; errors are sticky.
    pub fn handle_message(&mut self, msg_type: u8, payload: &[u8]) -> Result<(), V1AuthError> {
        if let Some(e) = &self.error {
            return Err(e.clone());
        }
        if msg_type == msg::MSG_IGNORE || msg_type == msg::MSG_DEBUG {
            return Ok(());
        }
        let r = self.handle(msg_type, payload);
        if let Err(e) = &r {
            self.error = Some(e.clone());
        }
        r
    }

    /// The next event for the daemon, if any.
    pub fn poll_event(&mut self) -> Option<V1AuthEvent> {
        self.events.pop_front()
    }

    /// The next message to send, as (type, payload), for the transport's `send`.
    pub fn poll_transmit(&mut self) -> Option<(u8, Vec<u8>)> {
        self.transmit.pop_front()
    }

    /// Whether a question is out and waits for its answer.
    pub fn awaiting_answer(&self) -> bool {
        self.error.is_none()
            && matches!(
                self.state,
                State::AwaitUser
                    | State::AwaitKey(_)
                    | State::AwaitResponse(_)
                    | State::AwaitPassword
            )
    }

    /// The answer to [`V1AuthEvent::User`]: whether the user exists and may log in.
    /// Either way the client gets `SSH_SMSG_FAILURE` (authentication needed); an
    /// unknown user just never succeeds. Ignored unless that question is out.
    pub fn answer_user(&mut self, known: bool) {
        if self.error.is_some() || self.state != State::AwaitUser {
            return;
        }
        self.known = known;
        self.send(msg::SMSG_FAILURE, Vec::new());
        self.state = State::Ready;
    }

    /// The answer to [`V1AuthEvent::RsaKeyOffered`]: `Some(encrypted challenge)` (from
    /// [`new_challenge`](super::rsa_challenge::new_challenge)) when the key is the
    /// user's and allowed, which sends `SSH_SMSG_AUTH_RSA_CHALLENGE`; `None` fails the
    /// attempt. An empty or over-long (above [`MAX_MODULUS_BITS`]) challenge counts as
    /// `None`. Ignored unless that question is out.
    pub fn answer_rsa_key(&mut self, challenge: Option<Vec<u8>>) {
        self.answer_key(V1Method::Rsa, challenge);
    }

    /// The answer to [`V1AuthEvent::RhostsRsa`], as
    /// [`answer_rsa_key`](V1AuthServer::answer_rsa_key): the challenge encrypted with
    /// the client host's key when rhosts and the host key both admit it.
    pub fn answer_rhosts_rsa(&mut self, challenge: Option<Vec<u8>>) {
        self.answer_key(V1Method::RhostsRsa, challenge);
    }

    /// The answer to [`V1AuthEvent::RsaResponse`]: whether the response matched the
    /// challenge (and the daemon still admits the user with this method, e.g.
    /// `PermitRootLogin`). `true` sends `SSH_SMSG_SUCCESS`. Ignored unless that question
    /// is out.
    pub fn answer_rsa_response(&mut self, ok: bool) {
        if self.error.is_some() {
            return;
        }
        if let State::AwaitResponse(method) = self.state {
            self.verdict(method, ok);
        }
    }

    /// The answer to [`V1AuthEvent::Password`]: whether it is the user's password (and
    /// the daemon admits the user with it). `true` sends `SSH_SMSG_SUCCESS`. Ignored
    /// unless that question is out.
    pub fn answer_password(&mut self, ok: bool) {
        if self.error.is_some() || self.state != State::AwaitPassword {
            return;
        }
        self.verdict(V1Method::Password, ok);
    }

    /// The user, once `SSH_SMSG_SUCCESS` went out.
    pub fn authenticated(&self) -> Option<&str> {
        (self.state == State::Done).then_some(self.user.as_str())
    }

    /// Failures counted against `max_tries` so far.
    pub fn failures(&self) -> u32 {
        self.failures
    }

    /// The error that stopped the machine, if any (the same one `handle_message`
    /// returns from then on).
    pub fn error(&self) -> Option<&V1AuthError> {
        self.error.as_ref()
    }

    fn handle(&mut self, msg_type: u8, payload: &[u8]) -> Result<(), V1AuthError> {
        if msg_type == msg::DISCONNECT {
            return Err(V1AuthError::PeerDisconnected);
        }
        if payload.len() > MAX_MESSAGE_LEN {
            return Err(V1AuthError::Malformed {
                field: "message",
                error: WireError::TooLong,
            });
        }
        if self.events.len() >= MAX_QUEUE {
            return Err(V1AuthError::QueueFull("event"));
        }
        if self.transmit.len() >= MAX_QUEUE {
            return Err(V1AuthError::QueueFull("transmit"));
        }
        match self.state {
            State::AwaitUser
            | State::AwaitKey(_)
            | State::AwaitResponse(_)
            | State::AwaitPassword => Err(V1AuthError::WhilePending(msg_type)),
            State::Done => Err(V1AuthError::AfterAuthentication(msg_type)),
            State::ExpectUser => self.on_user(msg_type, payload),
            State::ExpectResponse(method) => self.on_response(method, msg_type, payload),
            State::Ready => self.on_attempt(msg_type, payload),
        }
    }

    fn on_user(&mut self, msg_type: u8, payload: &[u8]) -> Result<(), V1AuthError> {
        if msg_type != msg::CMSG_USER {
            return Err(V1AuthError::Unexpected {
                expected: msg::CMSG_USER,
                got: msg_type,
            });
        }
        let Some(ClientMessage::User { name }) = ClientMessage::parse(msg_type, payload)? else {
            return Err(V1AuthError::Unexpected {
                expected: msg::CMSG_USER,
                got: msg_type,
            });
        };
        self.user = user_without_style(name).to_owned();
        self.events.push_back(V1AuthEvent::User {
            name: self.user.clone(),
        });
        self.state = State::AwaitUser;
        Ok(())
    }

    fn on_response(
        &mut self,
        method: V1Method,
        msg_type: u8,
        payload: &[u8],
    ) -> Result<(), V1AuthError> {
        let expected = msg::CMSG_AUTH_RSA_RESPONSE;
        if msg_type != expected {
            return Err(V1AuthError::Unexpected {
                expected,
                got: msg_type,
            });
        }
        let Some(ClientMessage::RsaResponse { response }) =
            ClientMessage::parse(msg_type, payload)?
        else {
            return Err(V1AuthError::Unexpected {
                expected,
                got: msg_type,
            });
        };
        self.events.push_back(V1AuthEvent::RsaResponse {
            user: self.user.clone(),
            response,
        });
        self.state = State::AwaitResponse(method);
        Ok(())
    }

    /// One attempt in the authentication loop.
    fn on_attempt(&mut self, msg_type: u8, payload: &[u8]) -> Result<(), V1AuthError> {
        let method = match msg_type {
            msg::CMSG_AUTH_RSA => V1Method::Rsa,
            msg::CMSG_AUTH_PASSWORD => V1Method::Password,
            msg::CMSG_AUTH_RHOSTS_RSA => V1Method::RhostsRsa,
            msg::CMSG_AUTH_TIS | CMSG_AUTH_TIS_RESPONSE => V1Method::Tis,
            // Plain rhosts, Kerberos, a second CMSG_USER, a response without a
            // challenge, session messages: "Unknown message during authentication".
            n => V1Method::Other(n),
        };
        let enabled = match method {
            V1Method::Rsa => self.config.rsa,
            V1Method::Password => self.config.password,
            V1Method::RhostsRsa => self.config.rhosts_rsa,
            V1Method::Tis | V1Method::Other(_) => false,
        };
        // As auth1.c, whose loop checks the count first: with `max_tries` 0 nothing
        // is even tried. A disabled method's message is not even parsed.
        if !enabled || self.failures >= self.config.max_tries {
            self.fail(method);
            return Ok(());
        }
        match ClientMessage::parse(msg_type, payload)? {
            Some(ClientMessage::AuthRsa { modulus }) => {
                if !key_size_ok(modulus) {
                    self.fail(method);
                    return Ok(());
                }
                self.events.push_back(V1AuthEvent::RsaKeyOffered {
                    user: self.user.clone(),
                    modulus: modulus.to_vec(),
                });
                self.state = State::AwaitKey(V1Method::Rsa);
            }
            Some(ClientMessage::Password { password }) => {
                // The event carries text; a password that is not UTF-8 fails unasked.
                let Ok(text) = std::str::from_utf8(password) else {
                    self.fail(method);
                    return Ok(());
                };
                self.events.push_back(V1AuthEvent::Password {
                    user: self.user.clone(),
                    password: Zeroizing::new(text.to_owned()),
                });
                self.state = State::AwaitPassword;
            }
            Some(ClientMessage::RhostsRsa {
                client_user,
                bits,
                exponent,
                modulus,
            }) => {
                if !key_size_ok(modulus) || exponent.is_empty() {
                    self.fail(method);
                    return Ok(());
                }
                self.events.push_back(V1AuthEvent::RhostsRsa {
                    user: self.user.clone(),
                    client_user: client_user.to_owned(),
                    bits,
                    exponent: exponent.to_vec(),
                    modulus: modulus.to_vec(),
                });
                self.state = State::AwaitKey(V1Method::RhostsRsa);
            }
            // Only the three enabled methods get here, and each parses as itself.
            _ => self.fail(method),
        }
        Ok(())
    }

    fn answer_key(&mut self, method: V1Method, challenge: Option<Vec<u8>>) {
        if self.error.is_some() || self.state != State::AwaitKey(method) {
            return;
        }
        let challenge = challenge.filter(|c| {
            let bits = bit_len(c);
            bits > 0 && bits <= MAX_MODULUS_BITS
        });
        match challenge {
            Some(c) if self.known => {
                self.send(msg::SMSG_AUTH_RSA_CHALLENGE, encode_challenge(&c));
                self.state = State::ExpectResponse(method);
            }
            _ => self.fail(method),
        }
    }

    fn verdict(&mut self, method: V1Method, ok: bool) {
        if ok && self.known {
            self.send(msg::SMSG_SUCCESS, Vec::new());
            self.events.push_back(V1AuthEvent::Authenticated {
                user: self.user.clone(),
                method,
            });
            self.state = State::Done;
        } else {
            self.fail(method);
        }
    }

    /// Counts a failure: `SSH_SMSG_FAILURE`, or at `max_tries` the end (auth1.c counts
    /// before it replies, so the last failure gets no reply).
    fn fail(&mut self, method: V1Method) {
        self.failures = self.failures.saturating_add(1);
        self.events.push_back(V1AuthEvent::Failed {
            user: self.user.clone(),
            method,
        });
        self.state = State::Ready;
        if self.failures >= self.config.max_tries {
            self.events.push_back(V1AuthEvent::TooManyFailures {
                user: self.user.clone(),
            });
            self.error = Some(V1AuthError::TooManyFailures {
                user: self.user.clone(),
            });
        } else {
            self.send(msg::SMSG_FAILURE, Vec::new());
        }
    }

    fn send(&mut self, msg_type: u8, payload: Vec<u8>) {
        // Bounded: handle_message refuses input once a queue holds MAX_QUEUE, and one
        // message and its answer add at most three entries.
        self.transmit.push_back((msg_type, payload));
    }
}

fn key_size_ok(modulus: &[u8]) -> bool {
    (MIN_MODULUS_BITS..=MAX_MODULUS_BITS).contains(&bit_len(modulus))
}
