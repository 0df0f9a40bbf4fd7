//! Before authentication: the identification exchange, the key exchange and user
//! authentication, until a user is in.
//!
//! This is the code that reads what anyone on the network sends, so it runs in the
//! sandboxed pre-auth child ([`child`]): no root, no files, no host keys. Everything it
//! cannot decide alone it asks a [`Policy`]: host-key signatures, the group-exchange
//! group, the user, each key. Once the monitor's verdict lets a user in, [`run`] stops
//! taking events and hands back the transport, for [`sisu_kex::Transport::export`].
//!
//! The loop is in the library, over any [`Policy`], so that tests drive it in one
//! process with [`crate::policy::Local`].

pub mod child;
mod wait;

pub(crate) use wait::{log_closed, wait_once, Waited};

use crate::conn::{answer_host_key_question, log_disconnect, log_transport_error, Endpoints};
use crate::netio::{ReadOutcome, SocketIo};
use crate::policy::{KbdAnswer, KbdStep, Policy, Verdict};
use crate::reactor::Reactor;
use sisu_kex::{Event as TEvent, Transport};
use sisu_userauth::{Answer, Event as AEvent, Server as AuthServer, ServerConfig as AuthConfig};
use sisu_wire::msg::reason;
use std::os::fd::RawFd;
use std::time::Instant;

/// What the pre-authentication loop needs besides its transport.
pub struct PreauthSettings {
    /// `MaxAuthTries`.
    pub max_auth_tries: u32,
    /// `PubkeyAcceptedAlgorithms`, expanded.
    pub pubkey_algorithms: Vec<String>,
    /// The connection's ends, for log lines.
    pub ends: Endpoints,
    /// `LoginGraceTime`'s end, when this loop enforces it (the monitor does, for its
    /// child).
    pub grace_deadline: Option<Instant>,
}

/// How the pre-authentication phase ended.
pub enum Outcome {
    /// A user is in: the transport (no key exchange running; `set_authenticated` not
    /// called, which [`crate::postauth::run`] does) and the socket, everything taken
    /// so far written out.
    Authenticated {
        /// The transport, to export or to go on with.
        transport: Box<Transport>,
        /// The socket.
        io: SocketIo,
        /// Who.
        user: String,
    },
    /// The client speaks protocol 1 only (`Protocol 2,1`): the SSH-2 transport is
    /// done with, and [`crate::v1::preauth`] goes on from the bytes after its line.
    Protocol1 {
        /// The socket.
        io: SocketIo,
        /// The client's identification line.
        identification: sisu_wire::ident::Identification,
        /// What the client sent after it.
        rest: Vec<u8>,
    },
    /// The connection ended.
    Ended,
}

struct Preauth<'p> {
    transport: Transport,
    auth: Option<AuthServer>,
    io: SocketIo,
    policy: &'p mut dyn Policy,
    ends: Endpoints,
    max_tries: u32,
    pubkey_algorithms: Vec<String>,
    /// The user the first request named, and whether the monitor knows it.
    user: Option<(String, bool)>,
    authenticated: Option<String>,
    /// How the log lines of the question being answered describe its certificate
    /// (` ID … (serial …) CA …`), when the key is one.
    certificate: Option<String>,
    /// The flags and counter of the security key's signature of the current request.
    sk_details: Option<sisu_userauth::publickey::SkDetails>,
    /// The client's identification line came.
    identified: bool,
    done: bool,
    grace_deadline: Option<Instant>,
    /// A protocol 1 client: its line and what followed it.
    protocol1: Option<(sisu_wire::ident::Identification, Vec<u8>)>,
}

/// Serves the connection on `io` with a fresh server `transport` (built before any
/// sandbox is entered: its crypto is set up then; public host keys are enough, the
/// policy signs) until a user is in or it ends. `watch` is a descriptor whose
/// readability ends the connection too (the monitor channel: the monitor says nothing
/// unasked, so anything there means it is gone).
pub fn run(
    transport: Transport,
    settings: PreauthSettings,
    io: SocketIo,
    policy: &mut dyn Policy,
    watch: Option<RawFd>,
) -> Outcome {
    let mut p = Preauth {
        transport,
        auth: None,
        io,
        policy,
        ends: settings.ends,
        max_tries: settings.max_auth_tries,
        pubkey_algorithms: settings.pubkey_algorithms,
        user: None,
        authenticated: None,
        certificate: None,
        sk_details: None,
        identified: false,
        done: false,
        grace_deadline: settings.grace_deadline,
        protocol1: None,
    };
    let mut reactor = match Reactor::new(&[]) {
        Ok(r) => r,
        Err(e) => {
            error!("reactor: {e}");
            return Outcome::Ended;
        }
    };
    p.run(&mut reactor, watch);
    if let Some((identification, rest)) = p.protocol1.take() {
        return Outcome::Protocol1 {
            io: p.io,
            identification,
            rest,
        };
    }
    match p.authenticated.take() {
        Some(user) if !p.done => Outcome::Authenticated {
            transport: Box::new(p.transport),
            io: p.io,
            user,
        },
        _ => Outcome::Ended,
    }
}

impl Preauth<'_> {
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
                // Everything taken from the transport goes out from here; the rest
                // travels with the exported state.
                let until = reactor.now() + std::time::Duration::from_secs(30);
                let until = self.grace_deadline.map_or(until, |g| g.min(until));
                if !self.io.flush_until(until) {
                    self.done = true;
                }
                return;
            }
            if self.protocol1.is_some() {
                return;
            }
            if self.done
                || (self.transport.is_closed() || self.io.input_closed()) && self.io.pending() == 0
            {
                return;
            }
            let may_read = !self.transport.is_closed();
            let peer = self.peer();
            let waited = wait_once(reactor, &mut self.io, may_read, watch, self.grace_deadline);
            match waited {
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
        match self.io.read_into(&mut self.transport) {
            ReadOutcome::Data(Ok(())) | ReadOutcome::Nothing => {}
            ReadOutcome::Data(Err(e)) => log_transport_error(&e, &self.peer(), true),
            ReadOutcome::Closed => self.log_closed(),
            // Before the client said who it is, OpenSSH's words (which fail2ban's
            // aggressive mode counts, as a scanner's connection).
            ReadOutcome::Failed(_) if !self.identified => {
                info!("kex_exchange_identification: read: Connection reset by peer");
                info!("Connection reset by {}", self.peer());
            }
            ReadOutcome::Failed(_) => info!("Connection reset by {} [preauth]", self.peer()),
        }
    }

    fn log_closed(&self) {
        log_closed(self.user.as_ref(), self.identified, &self.peer());
    }

    /// Moves events and messages between the machines until nothing is left to do.
    /// Transport events are taken one at a time, and none after a user is in: what
    /// follows belongs to the post-authentication process.
    fn pump(&mut self, now: Instant) {
        for _ in 0..10_000 {
            let mut progressed = false;
            while self.authenticated.is_none() && !self.done && self.protocol1.is_none() {
                let Some(ev) = self.transport.poll_event() else {
                    break;
                };
                progressed = true;
                let peer = self.peer();
                let question = &mut *self.policy;
                if let Some(ev) =
                    answer_host_key_question(&mut self.transport, question, ev, &peer, true)
                {
                    self.on_transport_event(ev);
                }
            }
            if self.io.take_from(&mut self.transport) {
                progressed = true;
            }
            if self.io.pending() > 0 {
                self.io.write(now);
            }
            if !progressed {
                break;
            }
        }
    }

    fn on_transport_event(&mut self, ev: TEvent) {
        match ev {
            TEvent::PeerIdentification(id) => {
                self.identified = true;
                debug!(
                    "Remote protocol version {}, remote software version {}",
                    id.proto, id.software
                );
            }
            TEvent::KeysEstablished { negotiated, .. } => {
                debug!(
                    "kex: {} host key {} cipher c2s {} s2c {}",
                    negotiated.kex.name(),
                    negotiated.host_key.name(),
                    negotiated.cipher_c2s.name(),
                    negotiated.cipher_s2c.name()
                );
            }
            // The transport accepted SERVICE_REQUEST "ssh-userauth": authentication
            // starts now (and 50 and up are refused by the transport before it).
            TEvent::ServiceAccepted(_) if self.auth.is_none() => {
                let sid = self.transport.session_id().unwrap_or_default().to_vec();
                let cfg = AuthConfig {
                    max_tries: self.max_tries,
                    methods: vec![sisu_userauth::Method::PublicKey],
                    pubkey_algorithms: self.pubkey_algorithms.clone(),
                    banner: None,
                    // Set with the user's methods, once the monitor answered.
                    hostbased_algorithms: Vec::new(),
                };
                self.auth = Some(AuthServer::new(cfg, &sid));
            }
            TEvent::Message(m) => self.on_message(&m),
            TEvent::Disconnected {
                reason: code,
                description,
            } => {
                let trying = self.user.as_ref().map(|(u, _)| u.as_str());
                log_disconnect(code, &description, &self.peer(), None, trying);
                self.done = true;
            }
            TEvent::Protocol1 {
                identification,
                rest,
            } => {
                self.identified = true;
                debug!(
                    "Remote protocol version {}, remote software version {}",
                    identification.proto, identification.software
                );
                self.protocol1 = Some((identification, rest));
            }
            TEvent::GroupNeeded(_) | TEvent::SignatureNeeded { .. } => {}
            TEvent::ServiceAccepted(_) | TEvent::ExtInfo(_) => {}
        }
    }

    fn on_message(&mut self, m: &[u8]) {
        let number = m[0];
        if !(50..=79).contains(&number) || self.auth.is_none() {
            info!(
                "Disconnecting {}: protocol error: unexpected message type {number} [preauth]",
                self.peer()
            );
            self.transport.disconnect(
                reason::SSH_DISCONNECT_PROTOCOL_ERROR,
                &format!("unexpected message type {number}"),
            );
            return;
        }
        if number == sisu_wire::msg::SSH_MSG_USERAUTH_REQUEST
            && self.user.is_none()
            && !self.on_first_user(m)
        {
            return;
        }
        let r = match self.auth.as_mut() {
            Some(auth) => auth.handle_message(m),
            None => Ok(()),
        };
        if let Err(e) = r {
            self.auth_failed(e);
        }
        self.drain_auth();
    }

    /// The first authentication request names the user: the monitor learns it, and
    /// says whether it exists, whether `RefuseConnection` ends the connection here, and
    /// the banner. Returns false when the connection is over.
    fn on_first_user(&mut self, request: &[u8]) -> bool {
        let Ok(req) = sisu_userauth::request::UserauthRequest::parse(request) else {
            return true; // the machine refuses it in its own words
        };
        let user = sisu_userauth::request::user_without_style(req.user).to_string();
        let answer = self.policy.user(&user);
        self.user = Some((user, answer.valid));
        if answer.refuse || self.policy.failed() {
            self.done = true;
            self.io.discard_output();
            return false;
        }
        if let Some(auth) = self.auth.as_mut() {
            auth.set_banner(answer.banner);
            auth.set_methods(answer.methods);
            auth.set_pubkey_algorithms(answer.pubkey_algorithms);
            auth.set_hostbased_algorithms(answer.hostbased_algorithms);
        }
        true
    }

    /// Answers the machine's questions as they come (each asks the policy, and waits
    /// for its answer), and sends what it has to say.
    fn drain_auth(&mut self) {
        for _ in 0..10_000 {
            let Some(ev) = self.auth.as_mut().and_then(|a| a.poll_event()) else {
                break;
            };
            self.on_auth_event(ev);
        }
        if let Some(auth) = self.auth.as_mut() {
            while let Some(m) = auth.poll_transmit() {
                let _ = self.transport.send_message(&m);
            }
        }
    }

    fn answer_auth(&mut self, answer: Answer) {
        let r = match self.auth.as_mut() {
            Some(a) => a.answer_with(answer),
            None => Ok(()),
        };
        if let Err(e) = r {
            self.auth_failed(e);
        }
    }

    /// Answers a verified key or a password with the monitor's verdict; after a partial
    /// success, the methods listed are those that continue.
    fn answer_verdict(&mut self, user: &str, verdict: Verdict) {
        let answer = match verdict {
            Verdict::Allow => Answer::Allow,
            Verdict::Partial => {
                let next = self.policy.next_methods(user);
                if let Some(auth) = self.auth.as_mut() {
                    auth.set_methods(next);
                }
                Answer::Partial
            }
            Verdict::Deny => Answer::Deny,
        };
        self.answer_auth(answer);
    }

    /// Answers a keyboard-interactive step: more prompts, or the verdict.
    fn answer_kbd(&mut self, user: &str, answer: KbdAnswer) {
        match answer {
            KbdAnswer::Prompts(request) => {
                let r = match self.auth.as_mut() {
                    Some(a) => a.info_request(&request),
                    None => Ok(()),
                };
                if let Err(e) = r {
                    self.auth_failed(e);
                }
            }
            KbdAnswer::Verdict(v) => self.answer_verdict(user, v),
        }
    }

    fn auth_failed(&mut self, e: sisu_userauth::AuthError) {
        let user = self
            .user
            .as_ref()
            .map(|(u, _)| u.clone())
            .unwrap_or_default();
        if matches!(e, sisu_userauth::AuthError::TooManyFailures) {
            // The failure that reached the limit is logged first, as OpenSSH does.
            while let Some(ev) = self.auth.as_mut().and_then(|a| a.poll_event()) {
                if let AEvent::Failed {
                    user, method, key, ..
                } = ev
                {
                    self.log_failure(&user, &method, key.as_ref());
                }
            }
            info!(
                "maximum authentication attempts exceeded for {user} from {} ssh2 [preauth]",
                self.peer()
            );
            info!(
                "Disconnecting authenticating user {user} {}: Too many authentication failures [preauth]",
                self.peer()
            );
        } else {
            info!("Disconnecting {}: {e} [preauth]", self.peer());
        }
        self.transport.disconnect(e.reason(), &e.to_string());
    }

    fn on_auth_event(&mut self, ev: AEvent) {
        match ev {
            AEvent::KeyOffered {
                user,
                algorithm,
                key_blob,
                ..
            } => {
                self.certificate = certificate_description(&algorithm, &key_blob);
                let ok = self.policy.key_offered(&user, &algorithm, &key_blob);
                self.answer_auth(if ok { Answer::Allow } else { Answer::Deny });
            }
            AEvent::KeyVerified { user, request, .. } => {
                self.certificate = certificate_description(&request.algorithm, &request.key_blob);
                self.sk_details = sisu_userauth::publickey::sk_details(&request.signature);
                let verdict = self.policy.key_verified(&request);
                self.answer_verdict(&user, verdict);
            }
            AEvent::HostbasedVerified { user, request, .. } => {
                self.certificate = None;
                let verdict = self.policy.hostbased_verified(&request);
                self.answer_verdict(&user, verdict);
            }
            AEvent::PasswordOffered { user, password } => {
                self.certificate = None;
                let verdict = self.policy.password(&user, &password);
                self.answer_verdict(&user, verdict);
            }
            AEvent::KbdInteractive { user, submethods } => {
                self.certificate = None;
                let answer = self
                    .policy
                    .kbd_interactive(&user, KbdStep::Start { submethods });
                if matches!(answer, KbdAnswer::Prompts(_)) {
                    let valid = self.user.as_ref().is_some_and(|(_, v)| *v);
                    verbose!(
                        "Postponed keyboard-interactive for {}{user} from {} ssh2 [preauth]",
                        if valid { "" } else { "invalid user " },
                        self.peer()
                    );
                }
                self.answer_kbd(&user, answer);
            }
            AEvent::InfoResponse { user, responses } => {
                let answer = self
                    .policy
                    .kbd_interactive(&user, KbdStep::Respond(responses));
                self.answer_kbd(&user, answer);
            }
            AEvent::Failed {
                user, method, key, ..
            } => {
                self.log_failure(&user, &method, key.as_ref());
                self.certificate = None;
            }
            AEvent::Success { user, method, key } => {
                if let (Some(d), Some(_)) = (self.sk_details, &key) {
                    // OpenSSH's words (its debug line; the accepted line has neither).
                    verbose!(
                        "userauth_pubkey: sk_counter = {}, sk_flags = 0x{:02x}",
                        d.counter,
                        d.flags
                    );
                }
                info!(
                    "Accepted {} for {user} from {} ssh2{}",
                    logged_method(&method),
                    self.peer(),
                    self.describe_key(key.as_ref())
                );
                // The transport is told in the post-auth child, after the handover:
                // told here, it could start a key exchange (RekeyLimit reached) before
                // it is exported, and an exchange in progress cannot be handed over.
                self.authenticated = Some(user);
            }
        }
    }

    /// As OpenSSH's auth_log: failures of invalid users, failed passwords, and
    /// failures past half of MaxAuthTries, at INFO; the others at VERBOSE. A `none`
    /// request only at DEBUG1: OpenSSH logs its failures nowhere (they never reach its
    /// monitor), and a line for each would make fail2ban count every login attempt
    /// twice; the same for a key offered for a user that does not exist.
    fn log_failure(&self, user: &str, method: &str, key: Option<&ssh_key::PublicKey>) {
        let valid = self.user.as_ref().is_some_and(|(_, v)| *v);
        let inv = if valid { "" } else { "invalid user " };
        let failures = self.auth.as_ref().map_or(0, |a| a.failures());
        // Nor a key of a user that does not exist: OpenSSH writes no line for it
        // (its "Invalid user" line has been written).
        let level = if method == "none" || (!valid && method == "publickey") {
            crate::log::Level::Debug1
        } else if !valid || failures >= self.max_tries / 2 || method == "password" {
            crate::log::Level::Info
        } else {
            crate::log::Level::Verbose
        };
        crate::log::log(
            level,
            &format!(
                "Failed {} for {inv}{user} from {} ssh2{}",
                logged_method(method),
                self.peer(),
                self.describe_key(key)
            ),
        );
    }
}

impl Preauth<'_> {
    /// `: TYPE SHA256:…` for a key, and for a certificate
    /// `: TYPE-CERT SHA256:… ID … (serial …) CA TYPE SHA256:…`, as OpenSSH writes them.
    fn describe_key(&self, key: Option<&ssh_key::PublicKey>) -> String {
        match (&self.certificate, key) {
            (Some(cert), Some(k)) => format!(
                ": {} {}{cert}",
                crate::policy::rules::key_label(k, true),
                k.fingerprint(Default::default())
            ),
            _ => key_description(key),
        }
    }
}

/// ` ID keyid (serial N) CA TYPE SHA256:…` for a certificate offered with a
/// certificate algorithm; `None` for a plain key or a blob that does not parse.
fn certificate_description(algorithm: &str, blob: &[u8]) -> Option<String> {
    if !sisu_userauth::publickey::is_certificate_algorithm(algorithm) {
        return None;
    }
    let cert = sisu_wire::cert::CertBlob::parse(blob).ok()?;
    let ca = ssh_key::PublicKey::from_bytes(cert.signature_key).ok()?;
    Some(format!(
        " ID {} (serial {}) CA {} {}",
        cert.key_id,
        cert.serial,
        crate::policy::rules::key_type_label(&ca),
        ca.fingerprint(Default::default())
    ))
}

/// A method as OpenSSH's log lines name it: `keyboard-interactive/pam` (the device
/// is always PAM), the others by their names.
fn logged_method(method: &str) -> &str {
    if method == "keyboard-interactive" {
        "keyboard-interactive/pam"
    } else {
        method
    }
}

/// `: TYPE SHA256:...` for a key in a log line, or nothing.
pub fn key_description(key: Option<&ssh_key::PublicKey>) -> String {
    key.map(|k| {
        format!(
            ": {} {}",
            crate::policy::rules::key_type_label(k),
            k.fingerprint(Default::default())
        )
    })
    .unwrap_or_default()
}
