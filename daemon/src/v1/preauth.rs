//! Protocol 1 before authentication, in the sandboxed pre-auth child: the session-key
//! exchange (`sisu_kex::v1`), then user authentication (`sisu_userauth::v1`), until
//! a user is in. Like the SSH-2 loop ([`crate::preauth`]), it decides nothing: the
//! session key is decrypted by the monitor (which alone holds the host and server
//! keys), and every user, key, challenge answer and password goes to the [`Policy`].
//! Log lines are OpenSSH 7's for protocol 1 (`Accepted rsa for USER from ADDR port N
//! ssh1`), so that fail2ban reads them.

use crate::conn::Endpoints;
use crate::netio::{ReadWith, SocketIo};
use crate::policy::{Policy, Verdict};
use crate::preauth::{log_closed, wait_once, Waited};
use crate::reactor::Reactor;
use sisu_kex::v1::{V1Event, V1Transport};
use sisu_userauth::v1::{V1AuthConfig, V1AuthEvent, V1AuthServer};
use std::os::fd::RawFd;
use std::time::{Duration, Instant};

/// What the protocol 1 pre-authentication loop needs besides its transport.
pub struct V1PreauthSettings {
    /// The authentication methods and `MaxAuthTries`.
    pub auth: V1AuthConfig,
    /// The connection's ends, for log lines.
    pub ends: Endpoints,
    /// `LoginGraceTime`'s end, when this loop enforces it.
    pub grace_deadline: Option<Instant>,
}

/// How the protocol 1 pre-authentication phase ended.
pub enum V1Outcome {
    /// A user is in: the transport and the socket, everything written out.
    Authenticated {
        /// The transport, to export.
        transport: Box<V1Transport>,
        /// The socket.
        io: SocketIo,
        /// Who.
        user: String,
    },
    /// The connection ended.
    Ended,
}

struct Preauth1<'p> {
    transport: V1Transport,
    auth: Option<V1AuthServer>,
    io: SocketIo,
    policy: &'p mut dyn Policy,
    ends: Endpoints,
    config: V1AuthConfig,
    /// The user named, and whether the monitor knows it.
    user: Option<(String, bool)>,
    authenticated: Option<String>,
    done: bool,
    grace_deadline: Option<Instant>,
}

/// Serves a protocol 1 client on `io` with `transport` (its `SSH_SMSG_PUBLIC_KEY`
/// queued) until a user is in or the connection ends. `watch`: as in
/// [`crate::preauth::run`].
pub fn run(
    transport: V1Transport,
    settings: V1PreauthSettings,
    io: SocketIo,
    policy: &mut dyn Policy,
    watch: Option<RawFd>,
) -> V1Outcome {
    let mut p = Preauth1 {
        transport,
        auth: None,
        io,
        policy,
        ends: settings.ends,
        config: settings.auth,
        user: None,
        authenticated: None,
        done: false,
        grace_deadline: settings.grace_deadline,
    };
    let mut reactor = match Reactor::new(&[]) {
        Ok(r) => r,
        Err(e) => {
            error!("reactor: {e}");
            return V1Outcome::Ended;
        }
    };
    p.run(&mut reactor, watch);
    match p.authenticated.take() {
        Some(user) if !p.done => V1Outcome::Authenticated {
            transport: Box::new(p.transport),
            io: p.io,
            user,
        },
        _ => V1Outcome::Ended,
    }
}

impl Preauth1<'_> {
    fn peer(&self) -> String {
        self.ends.peer_desc()
    }

    fn run(&mut self, reactor: &mut Reactor, watch: Option<RawFd>) {
        loop {
            self.pump(reactor.now());
            if self.policy.failed() {
                self.done = true;
            }
            if self.authenticated.is_some() {
                let until = reactor.now() + Duration::from_secs(30);
                let until = self.grace_deadline.map_or(until, |g| g.min(until));
                if !self.io.flush_until(until) {
                    self.done = true;
                }
                return;
            }
            if self.done
                || (self.transport.is_closed() || self.io.input_closed()) && self.io.pending() == 0
            {
                return;
            }
            let may_read = !self.transport.is_closed();
            let peer = self.peer();
            match wait_once(reactor, &mut self.io, may_read, watch, self.grace_deadline) {
                Waited::Failed => return,
                Waited::Ready { readable, ended } => {
                    if readable {
                        self.read_socket();
                    }
                    if ended {
                        self.done = true;
                    }
                }
                Waited::GraceOver => {
                    info!("Timeout before authentication for {peer}");
                    self.done = true;
                }
            }
        }
    }

    fn read_socket(&mut self) {
        let transport = &mut self.transport;
        match self.io.read_with(|b| transport.handle_input(b)) {
            ReadWith::Data(Ok(())) | ReadWith::Nothing => {}
            ReadWith::Data(Err(e)) => {
                info!("Disconnecting {}: {e} [preauth]", self.peer());
            }
            ReadWith::Closed => log_closed(self.user.as_ref(), true, &self.peer()),
            ReadWith::Failed(_) => info!("Connection reset by {} [preauth]", self.peer()),
        }
    }

    /// Moves events and messages between the machines until nothing is left to do.
    fn pump(&mut self, now: Instant) {
        for _ in 0..10_000 {
            let mut progressed = false;
            while self.authenticated.is_none() && !self.done {
                let Some(ev) = self.transport.poll_event() else {
                    break;
                };
                progressed = true;
                self.on_transport_event(ev);
            }
            while let Some(bytes) = self.transport.poll_transmit() {
                progressed = true;
                self.io.queue(&bytes);
            }
            if self.io.pending() > 0 {
                self.io.write(now);
            }
            if !progressed {
                break;
            }
        }
    }

    fn on_transport_event(&mut self, ev: V1Event) {
        match ev {
            V1Event::SessionKeyNeeded {
                encrypted,
                session_id,
                ..
            } => match self.policy.v1_session_key(&session_id, &encrypted) {
                Some(key) => {
                    if let Err(e) = self.transport.provide_session_key(key) {
                        info!("Disconnecting {}: {e} [preauth]", self.peer());
                        self.done = true;
                    }
                }
                None => {
                    error!("protocol 1 session key: no answer from the monitor");
                    self.done = true;
                }
            },
            V1Event::KeysEstablished { cipher, .. } => {
                debug!("Encryption type: {cipher}");
                self.auth = Some(V1AuthServer::new(self.config));
            }
            V1Event::Message {
                msg_type, payload, ..
            } => self.on_message(msg_type, &payload),
            V1Event::Disconnected { description } => {
                info!(
                    "Received disconnect from {}: {description} [preauth]",
                    self.peer()
                );
                self.done = true;
            }
        }
    }

    fn on_message(&mut self, msg_type: u8, payload: &[u8]) {
        let Some(auth) = self.auth.as_mut() else {
            self.protocol_error(&format!("unexpected message type {msg_type}"));
            return;
        };
        if let Err(e) = auth.handle_message(msg_type, payload) {
            self.protocol_error(&e.to_string());
            return;
        }
        self.drain_auth();
    }

    fn protocol_error(&mut self, why: &str) {
        info!(
            "Disconnecting {}: protocol error: {why} [preauth]",
            self.peer()
        );
        self.transport.disconnect(why);
    }

    /// Answers the authentication machine's questions and sends what it queued.
    fn drain_auth(&mut self) {
        for _ in 0..1024 {
            let Some(ev) = self.auth.as_mut().and_then(|a| a.poll_event()) else {
                break;
            };
            self.on_auth_event(ev);
            if self.done {
                break;
            }
        }
        let Some(auth) = self.auth.as_mut() else {
            return;
        };
        while let Some((t, p)) = auth.poll_transmit() {
            if let Err(e) = self.transport.send(t, &p) {
                info!("Disconnecting {}: {e} [preauth]", self.ends.peer_desc());
                self.done = true;
                return;
            }
        }
    }

    fn on_auth_event(&mut self, ev: V1AuthEvent) {
        let Some(auth) = self.auth.as_mut() else {
            return;
        };
        match ev {
            V1AuthEvent::User { name } => {
                let answer = self.policy.user(&name);
                if !answer.valid {
                    info!(
                        "Invalid user {name} from {} [preauth]",
                        self.ends.peer_desc()
                    );
                }
                if answer.refuse {
                    info!(
                        "administratively prohibited connection for {}user {name} from {} [preauth]",
                        if answer.valid { "" } else { "invalid " },
                        self.ends.peer_desc()
                    );
                    self.transport
                        .disconnect("Connection refused by administrator");
                    return;
                }
                self.user = Some((name, answer.valid));
                auth.answer_user(answer.valid);
            }
            V1AuthEvent::RsaKeyOffered { user, modulus } => {
                let challenge = self.policy.v1_rsa_key(&user, &modulus);
                auth.answer_rsa_key(challenge);
            }
            V1AuthEvent::RsaResponse { user, response } => {
                let ok = self.policy.v1_rsa_response(&user, &response) == Verdict::Allow;
                auth.answer_rsa_response(ok);
            }
            V1AuthEvent::Password { user, password } => {
                let p = sisu_userauth::Password::new(password.as_bytes());
                let ok = self.policy.password(&user, &p) == Verdict::Allow;
                auth.answer_password(ok);
            }
            V1AuthEvent::RhostsRsa { .. } => auth.answer_rhosts_rsa(None),
            V1AuthEvent::Failed { user, method } => {
                let valid = self.user.as_ref().is_some_and(|(_, v)| *v);
                let inv = if valid { "" } else { "invalid user " };
                info!(
                    "Failed {} for {inv}{user} from {} ssh1",
                    method.name(),
                    self.ends.peer_desc()
                );
            }
            V1AuthEvent::Authenticated { user, method } => {
                info!(
                    "Accepted {} for {user} from {} ssh1",
                    method.name(),
                    self.ends.peer_desc()
                );
                self.authenticated = Some(user);
            }
            V1AuthEvent::TooManyFailures { user } => {
                info!(
                    "Disconnecting authenticating user {user} {}: Too many authentication failures [preauth]",
                    self.ends.peer_desc()
                );
                self.transport
                    .disconnect(&format!("Too many authentication failures for {user}"));
            }
        }
    }
}
