//! [`Server`]: the server side of RFC 4252 as a sans-IO state machine.

use crate::config::SERVICE_CONNECTION;
use crate::limits::{
    MAX_ATTEMPTS, MAX_BANNER_LEN, MAX_EVENT_QUEUE, MAX_MESSAGE_LEN, MAX_PENDING_MESSAGES,
    MAX_TRANSMIT_QUEUE,
};
use crate::message::ServerMessage;
use crate::publickey::{check_key, signed_data, verify_signature, SignedRequest};
use crate::request::{
    user_without_style, MethodRequest, PasswordRequest, PublicKeyRequest, UserauthRequest,
};
use crate::{AuthError, Authenticated, Event, Method, Password, ServerConfig};
use sisu_wire::msg::{SSH_MSG_USERAUTH_INFO_RESPONSE, SSH_MSG_USERAUTH_REQUEST};
use sisu_wire::{NameList, WireError};
use ssh_key::PublicKey;
use std::collections::VecDeque;

mod hostbased;
mod kbd;

/// The daemon's answer to a question ([`Event::KeyOffered`], [`Event::KeyVerified`] or
/// [`Event::PasswordOffered`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// Refused: the request fails (and counts against `max_tries`).
    Deny,
    /// Granted: SSH_MSG_USERAUTH_PK_OK for a query, SSH_MSG_USERAUTH_SUCCESS for a
    /// verified key or a password.
    Allow,
    /// For a verified key or a password: this method is done, but more are required
    /// (`AuthenticationMethods publickey,password`). For a query it is a refusal.
    Partial,
}

/// The question the daemon has not answered yet.
#[derive(Debug)]
enum Question {
    /// A publickey query: allow → SSH_MSG_USERAUTH_PK_OK.
    KeyOffered {
        user: String,
        /// As requested (a certificate algorithm name too), echoed in PK_OK.
        algorithm: String,
        key: PublicKey,
        key_blob: Vec<u8>,
    },
    /// A verified signature: allow → SSH_MSG_USERAUTH_SUCCESS.
    KeyVerified {
        user: String,
        service: String,
        key: PublicKey,
    },
    /// A password: allow → SSH_MSG_USERAUTH_SUCCESS.
    Password { user: String, service: String },
    /// A verified hostbased request: allow → SSH_MSG_USERAUTH_SUCCESS.
    Hostbased {
        user: String,
        service: String,
        key: PublicKey,
    },
    /// A keyboard-interactive request or its responses: allow →
    /// SSH_MSG_USERAUTH_SUCCESS; or more prompts ([`Server::info_request`]).
    KbdInteractive { user: String, service: String },
}

/// The server role of SSH user authentication (RFC 4252).
///
/// Feed it every message numbered 50..=79 with [`handle_message`](Server::handle_message),
/// send what [`poll_transmit`](Server::poll_transmit) returns, and answer each
/// [`Event::KeyOffered`] / [`Event::KeyVerified`] / [`Event::PasswordOffered`] from
/// [`poll_event`](Server::poll_event) with [`answer`](Server::answer). Only one question
/// is pending at a time; messages that arrive meanwhile wait (at most
/// [`MAX_PENDING_MESSAGES`]) and are processed after the answer.
///
/// Behaviour follows OpenSSH's `auth2.c` where RFC 4252 leaves room:
/// - the user and service of the first request are fixed; a change is an
///   [`AuthError::ChangeOfUserOrService`] (SSH_DISCONNECT_PROTOCOL_ERROR);
/// - a service other than `ssh-connection` is treated as OpenSSH treats it (like an
///   invalid user): every request fails, counted, without asking the daemon;
/// - a first `none` request fails without counting; every other failure, including a
///   refused publickey query, counts; at `max_tries` counted failures (or
///   [`MAX_ATTEMPTS`] requests) the result is [`AuthError::TooManyFailures`];
/// - the banner is sent in answer to the first request;
/// - after SSH_MSG_USERAUTH_SUCCESS, further messages are ignored (RFC 4252 §5.1).
///
/// # Its methods, by kind, and the order to call them
///
/// - **Construct**: [`Server::new`] with the session id, when the transport has
///   accepted `ssh-userauth`; [`Server::set_banner`] before the first request, if the
///   banner depends on the user.
/// - **Input**: [`Server::handle_message`] with each message 50..=79 the transport
///   delivers. An `Err` ends the connection (errors are sticky).
/// - **Events**: after every input or answer, [`Server::poll_event`] until `None`.
/// - **Answers**: [`Event::KeyOffered`], [`Event::KeyVerified`] and
///   [`Event::PasswordOffered`] are questions, one
///   at a time ([`Server::is_pending`]); answer each with [`Server::answer`] or
///   [`Server::answer_with`]. Messages that arrive meanwhile wait inside.
/// - **Output**: after every input or answer, [`Server::poll_transmit`] until `None`,
///   each message to the transport's `send_message`.
/// - **Result**: [`Server::is_authenticated`] once [`Event::Success`] was raised; its
///   [`Authenticated`] crosses to the post-authentication process with
///   [`Authenticated::to_bytes`] / [`Authenticated::from_bytes`].
/// - **Timers**: none; `LoginGraceTime` is the caller's (it reads the clock).
///
/// One turn: `handle_message` → `poll_event`* (answering as it goes) → `poll_transmit`*.
#[derive(Debug)]
pub struct Server {
    config: ServerConfig,
    session_id: Vec<u8>,
    /// (user, service) of the first request.
    identity: Option<(String, String)>,
    attempts: u32,
    failures: u32,
    pending: Option<Question>,
    /// During a keyboard-interactive exchange: the user, and how many responses the
    /// INFO_REQUEST sent asks for.
    info_expected: Option<(String, usize)>,
    authenticated: Option<Authenticated>,
    error: Option<AuthError>,
    inbox: VecDeque<Vec<u8>>,
    transmit: VecDeque<Vec<u8>>,
    events: VecDeque<Event>,
}

impl Server {
    /// A server for one connection; `session_id` is the exchange hash H of the first
    /// key exchange (RFC 4253 §7.2).
    pub fn new(config: ServerConfig, session_id: &[u8]) -> Self {
        Server {
            config,
            session_id: session_id.to_vec(),
            identity: None,
            attempts: 0,
            failures: 0,
            pending: None,
            info_expected: None,
            authenticated: None,
            error: None,
            inbox: VecDeque::new(),
            transmit: VecDeque::new(),
            events: VecDeque::new(),
        }
    }

    /// Handles one message from the client (payload starting with its number, 50..=79).
    /// An `Err` ends the connection: send SSH_MSG_DISCONNECT with
    /// [`AuthError::reason`]. Errors are sticky.
    pub fn handle_message(&mut self, payload: &[u8]) -> Result<(), AuthError> {
        if let Some(e) = &self.error {
            return Err(e.clone());
        }
        let r = if payload.len() > MAX_MESSAGE_LEN {
            Err(AuthError::Malformed {
                field: "message",
                error: WireError::TooLong,
            })
        } else if self.pending.is_some() {
            if self.inbox.len() >= MAX_PENDING_MESSAGES {
                Err(AuthError::TooManyPending)
            } else {
                self.inbox.push_back(payload.to_vec());
                Ok(())
            }
        } else {
            self.dispatch(payload)
        };
        self.sticky(r)
    }

    /// The next message to send to the client, if any.
    pub fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        self.transmit.pop_front()
    }

    /// The next event for the daemon, if any.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// Answers the pending question ([`Event::KeyOffered`], [`Event::KeyVerified`] or
    /// [`Event::PasswordOffered`]);
    /// does nothing when none is pending. Then processes the messages that waited. May
    /// return an error that ends the connection (e.g. a refusal that reaches
    /// `max_tries`).
    pub fn answer(&mut self, allow: bool) -> Result<(), AuthError> {
        self.answer_with(if allow { Answer::Allow } else { Answer::Deny })
    }

    /// Answers the pending question with one of the three [`Answer`]s: [`Answer::Partial`]
    /// (for a verified key or a password) accepts the method but requires more (RFC 4252 §5.1:
    /// SSH_MSG_USERAUTH_FAILURE with `partial success` true), as `AuthenticationMethods`
    /// asks. A partial success does not count against `max_tries`.
    pub fn answer_with(&mut self, answer: Answer) -> Result<(), AuthError> {
        if let Some(e) = &self.error {
            return Err(e.clone());
        }
        let r = self.answer_inner(answer);
        self.sticky(r)
    }

    /// Replaces the banner of [`ServerConfig::banner`] before the first request is
    /// handled (a daemon whose banner depends on the user name sets it once it has read
    /// the name); no effect afterwards, since the banner goes with the first reply.
    pub fn set_banner(&mut self, banner: Option<String>) {
        if self.attempts == 0 {
            self.config.banner = banner;
        }
    }

    /// Replaces the methods of [`ServerConfig::methods`]: those that may be tried, in
    /// the order SSH_MSG_USERAUTH_FAILURE lists them. A daemon whose methods depend on
    /// the user (`Match User`) sets them once it has read the name. A method left out
    /// fails without a question.
    pub fn set_methods(&mut self, methods: Vec<Method>) {
        self.config.methods = methods;
    }

    /// Replaces [`ServerConfig::pubkey_algorithms`] (a daemon whose
    /// `PubkeyAcceptedAlgorithms` depends on the user sets it once it has the name).
    /// Names this crate cannot verify are never accepted, listed or not.
    pub fn set_pubkey_algorithms(&mut self, algorithms: Vec<String>) {
        self.config.pubkey_algorithms = algorithms;
    }

    /// Whether a question is waiting for [`answer`](Server::answer).
    pub fn is_pending(&self) -> bool {
        self.pending.is_some()
    }

    /// The result, once authentication succeeded.
    pub fn is_authenticated(&self) -> Option<&Authenticated> {
        self.authenticated.as_ref()
    }

    /// Failures counted against `max_tries` so far.
    pub fn failures(&self) -> u32 {
        self.failures
    }

    fn sticky(&mut self, r: Result<(), AuthError>) -> Result<(), AuthError> {
        if let Err(e) = &r {
            self.error = Some(e.clone());
            self.pending = None;
            self.inbox.clear();
        }
        r
    }

    fn answer_inner(&mut self, answer: Answer) -> Result<(), AuthError> {
        let Some(question) = self.pending.take() else {
            return Ok(());
        };
        let allow = match answer {
            Answer::Allow => true,
            Answer::Deny => false,
            Answer::Partial => {
                if let Question::KeyOffered { user, key, .. } = question {
                    // Only a verified key can be a (partial) success; a query is not.
                    self.fail(user, Method::PublicKey.name(), Some(key), true)?;
                } else {
                    self.partial_success()?;
                }
                return self.drain_inbox();
            }
        };
        match (question, allow) {
            (
                Question::KeyOffered {
                    algorithm,
                    key_blob,
                    ..
                },
                true,
            ) => self.push_transmit(
                ServerMessage::PkOk {
                    algorithm: &algorithm,
                    key_blob: &key_blob,
                }
                .encode(),
            )?,
            (Question::KeyVerified { user, service, key }, true) => {
                self.succeed_with(user, service, Method::PublicKey, Some(key))?
            }
            (Question::Password { user, service }, true) => {
                self.succeed(user, service, Method::Password)?
            }
            (Question::KbdInteractive { user, service }, true) => {
                self.succeed(user, service, Method::KeyboardInteractive)?
            }
            (Question::KbdInteractive { user, .. }, false) => {
                self.fail(user, Method::KeyboardInteractive.name(), None, true)?
            }
            (Question::Hostbased { user, service, key }, true) => {
                self.succeed_with(user, service, Method::Hostbased, Some(key))?
            }
            (Question::Hostbased { user, key, .. }, false) => {
                self.fail(user, Method::Hostbased.name(), Some(key), true)?
            }
            (Question::KeyOffered { user, key, .. }, false)
            | (Question::KeyVerified { user, key, .. }, false) => {
                self.fail(user, Method::PublicKey.name(), Some(key), true)?
            }
            (Question::Password { user, .. }, false) => {
                self.fail(user, Method::Password.name(), None, true)?
            }
        }
        self.drain_inbox()
    }

    /// Processes the messages that waited for an answer, until the next question.
    fn drain_inbox(&mut self) -> Result<(), AuthError> {
        while self.pending.is_none() {
            let Some(m) = self.inbox.pop_front() else {
                break;
            };
            self.dispatch(&m)?;
        }
        Ok(())
    }

    /// Handles one message when no question is pending.
    fn dispatch(&mut self, payload: &[u8]) -> Result<(), AuthError> {
        let Some(&n) = payload.first() else {
            return Err(AuthError::Malformed {
                field: "message number",
                error: WireError::Truncated,
            });
        };
        if !(50..=79).contains(&n) {
            return Err(AuthError::UnexpectedMessage(n));
        }
        if self.authenticated.is_some() {
            // RFC 4252 §5.1: requests after success are silently ignored.
            return Ok(());
        }
        if n == SSH_MSG_USERAUTH_INFO_RESPONSE && self.info_expected.is_some() {
            return self.on_info_response(payload);
        }
        if n != SSH_MSG_USERAUTH_REQUEST {
            // TODO: OpenSSH answers SSH_MSG_UNIMPLEMENTED here; that needs the packet's
            // sequence number, which only the transport has.
            return Err(AuthError::UnexpectedMessage(n));
        }
        // A new request abandons a keyboard-interactive exchange (RFC 4256 §3.4).
        self.info_expected = None;
        self.on_request(payload)
    }

    fn on_request(&mut self, payload: &[u8]) -> Result<(), AuthError> {
        if self.attempts >= MAX_ATTEMPTS {
            return Err(AuthError::TooManyFailures);
        }
        let req = UserauthRequest::parse(payload)?;
        let first = self.attempts == 0;
        self.attempts += 1;
        // `user:style` names the user `user` (the style selects a BSD auth method,
        // which Sisu has not; as OpenSSH, it is dropped). The signed data keeps the
        // name as sent.
        let user = user_without_style(req.user).to_owned();
        match &self.identity {
            None => self.identity = Some((user.clone(), req.service.to_owned())),
            Some((u, service)) if *u != user || service != req.service => {
                return Err(AuthError::ChangeOfUserOrService {
                    from: (u.clone(), service.clone()),
                    to: (user, req.service.to_owned()),
                });
            }
            Some(_) => {}
        }
        if first {
            self.send_banner()?;
        }
        match req.method {
            MethodRequest::None => self.fail(user, "none", None, !first),
            MethodRequest::PublicKey(pk) if self.config.methods.contains(&Method::PublicKey) => {
                self.on_publickey(user, req.user, req.service, &pk)
            }
            MethodRequest::Password(p) if self.config.methods.contains(&Method::Password) => {
                self.on_password(user, req.service, &p)
            }
            MethodRequest::KeyboardInteractive(k)
                if self.config.methods.contains(&Method::KeyboardInteractive) =>
            {
                self.on_kbd_interactive(user, req.service, &k)
            }
            MethodRequest::Hostbased(h) if self.config.methods.contains(&Method::Hostbased) => {
                self.on_hostbased(user, req.service, &h)
            }
            other => self.fail(user, other.name(), None, true),
        }
    }

    fn on_publickey(
        &mut self,
        user: String,
        wire_user: &str,
        service: &str,
        pk: &PublicKeyRequest<'_>,
    ) -> Result<(), AuthError> {
        let (algorithm, key) =
            match check_key(pk.algorithm, pk.key_blob, &self.config.pubkey_algorithms) {
                Ok(checked) => checked,
                Err(_) => {
                    let key = PublicKey::from_bytes(pk.key_blob).ok();
                    return self.fail(user, Method::PublicKey.name(), key, true);
                }
            };
        if service != SERVICE_CONNECTION {
            return self.fail(user, Method::PublicKey.name(), Some(key), true);
        }
        match pk.signature {
            None => {
                self.push_event(Event::KeyOffered {
                    user: user.clone(),
                    algorithm: pk.algorithm.to_owned(),
                    key: key.clone(),
                    key_blob: pk.key_blob.to_vec(),
                })?;
                self.pending = Some(Question::KeyOffered {
                    user,
                    algorithm: pk.algorithm.to_owned(),
                    key,
                    key_blob: pk.key_blob.to_vec(),
                });
                Ok(())
            }
            Some(signature) => {
                let data = signed_data(
                    &self.session_id,
                    wire_user,
                    service,
                    pk.algorithm,
                    pk.key_blob,
                );
                if verify_signature(algorithm, &key, &data, signature).is_err() {
                    return self.fail(user, Method::PublicKey.name(), Some(key), true);
                }
                self.push_event(Event::KeyVerified {
                    user: user.clone(),
                    algorithm: pk.algorithm.to_owned(),
                    key: key.clone(),
                    request: SignedRequest {
                        user: wire_user.to_owned(),
                        service: service.to_owned(),
                        algorithm: pk.algorithm.to_owned(),
                        key_blob: pk.key_blob.to_vec(),
                        signature: signature.to_vec(),
                    },
                })?;
                self.pending = Some(Question::KeyVerified {
                    user,
                    service: service.to_owned(),
                    key,
                });
                Ok(())
            }
        }
    }

    /// A `password` request: the daemon decides. A change request fails (Sisu changes
    /// no passwords over SSH; OpenSSH without PAM refuses them too), as does any
    /// service but `ssh-connection`.
    fn on_password(
        &mut self,
        user: String,
        service: &str,
        request: &PasswordRequest<'_>,
    ) -> Result<(), AuthError> {
        if service != SERVICE_CONNECTION || request.new_password.is_some() {
            return self.fail(user, Method::Password.name(), None, true);
        }
        self.push_event(Event::PasswordOffered {
            user: user.clone(),
            password: Password::new(request.password),
        })?;
        self.pending = Some(Question::Password {
            user,
            service: service.to_owned(),
        });
        Ok(())
    }

    /// The method succeeded and nothing more is required: SSH_MSG_USERAUTH_SUCCESS.
    fn succeed(&mut self, user: String, service: String, method: Method) -> Result<(), AuthError> {
        self.succeed_with(user, service, method, None)
    }

    /// As [`Server::succeed`], with the key that did it (publickey, hostbased).
    fn succeed_with(
        &mut self,
        user: String,
        service: String,
        method: Method,
        key: Option<PublicKey>,
    ) -> Result<(), AuthError> {
        self.push_event(Event::Success {
            user: user.clone(),
            method: method.name().to_owned(),
            key: key.clone(),
        })?;
        self.push_transmit(ServerMessage::Success.encode())?;
        self.authenticated = Some(Authenticated {
            user,
            service,
            method,
            key,
        });
        Ok(())
    }

    /// Records a failed attempt and sends SSH_MSG_USERAUTH_FAILURE, or ends the
    /// connection at `max_tries` (OpenSSH checks before sending the failure).
    fn fail(
        &mut self,
        user: String,
        method: &str,
        key: Option<PublicKey>,
        counted: bool,
    ) -> Result<(), AuthError> {
        if counted {
            self.failures = self.failures.saturating_add(1);
        }
        self.push_event(Event::Failed {
            user,
            method: method.to_owned(),
            key,
            partial: false,
            counted,
        })?;
        if self.failures >= self.config.max_tries {
            return Err(AuthError::TooManyFailures);
        }
        let names: Vec<&str> = self.config.methods.iter().map(|m| m.name()).collect();
        let list = names.join(",");
        self.push_transmit(
            ServerMessage::Failure {
                methods: NameList(&list),
                partial_success: false,
            }
            .encode(),
        )
    }

    /// A method succeeded but more are required: SSH_MSG_USERAUTH_FAILURE with `partial
    /// success` set, listing the methods that can continue.
    fn partial_success(&mut self) -> Result<(), AuthError> {
        let names: Vec<&str> = self.config.methods.iter().map(|m| m.name()).collect();
        let list = names.join(",");
        self.push_transmit(
            ServerMessage::Failure {
                methods: NameList(&list),
                partial_success: true,
            }
            .encode(),
        )
    }

    fn send_banner(&mut self) -> Result<(), AuthError> {
        let Some(banner) = &self.config.banner else {
            return Ok(());
        };
        let mut end = banner.len().min(MAX_BANNER_LEN);
        while !banner.is_char_boundary(end) {
            end -= 1;
        }
        let msg = ServerMessage::Banner {
            message: &banner[..end],
            language: "",
        }
        .encode();
        self.push_transmit(msg)
    }

    fn push_transmit(&mut self, msg: Vec<u8>) -> Result<(), AuthError> {
        if self.transmit.len() >= MAX_TRANSMIT_QUEUE {
            return Err(AuthError::QueueFull("transmit"));
        }
        self.transmit.push_back(msg);
        Ok(())
    }

    fn push_event(&mut self, event: Event) -> Result<(), AuthError> {
        if self.events.len() >= MAX_EVENT_QUEUE {
            return Err(AuthError::QueueFull("event"));
        }
        self.events.push_back(event);
        Ok(())
    }
}
