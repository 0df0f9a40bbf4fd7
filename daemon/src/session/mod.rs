//! One connection, from the identification line to the last channel: the session
//! process's event loop.
//!
//! It composes the protocol machines (`sisu_kex::Transport`, then
//! `sisu_userauth::Server`, then `sisu_connection::Connection`) with the operating
//! system: the socket, the children's pipes and PTYs, signals and the login grace timer.
//! Everything happens on one thread in one `poll(2)` loop.

mod auth;
mod channels;
mod forward;
mod hostkeys_prove;
mod outbuf;

use crate::os::{self, PollEntry, SignalPipe};
use auth::Policy;
use channels::Channels;
use sisu_connection::Connection;
use sisu_kex::{Event as TEvent, HostKey, Transport, TransportConfig};
use sisu_userauth::{Event as AEvent, Server as AuthServer, ServerConfig as AuthConfig};
use sisu_wire::msg::reason;
use std::fs::File;
use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

pub use auth::{AuthSettings, RootLogin, UserEnvironment};
pub use channels::ChannelSettings;
pub use forward::ForwardPolicy;

/// Bytes read from the socket at a time.
const READ_CHUNK: usize = 64 * 1024;
/// Output waiting for the socket above which we stop reading from children.
pub const MAX_PENDING_SOCKET_OUTPUT: usize = 1024 * 1024;

/// Everything a session needs, resolved from the configuration by the caller.
pub struct SessionSettings {
    /// Transport algorithms and identification.
    pub transport: TransportConfig,
    /// The host keys.
    pub host_keys: Vec<HostKey>,
    /// Authentication settings.
    pub auth: AuthSettings,
    /// Channel and process settings.
    pub channels: ChannelSettings,
    /// `LoginGraceTime` (`None` for 0: no limit).
    pub login_grace_time: Option<Duration>,
    /// `MaxAuthTries`.
    pub max_auth_tries: u32,
    /// Time-based rekeying (`RekeyLimit`'s second value).
    pub rekey_interval: Option<Duration>,
    /// With `Match` blocks: the settings for a user, from the blocks that match once the
    /// user name is known.
    pub per_user: Option<PerUser>,
}

/// Evaluates the configuration's `Match` blocks for a user name.
pub type PerUser = Box<dyn Fn(&str) -> (AuthSettings, ChannelSettings)>;

/// The connection's two ends, as seen from here.
#[derive(Clone, Copy, Debug)]
pub struct Endpoints {
    /// The client.
    pub peer: SocketAddr,
    /// Our address.
    pub local: SocketAddr,
}

enum Phase {
    Transport,
    Auth(Box<AuthServer>),
    Connection { user: String },
}

/// Serves one connection on `input`/`output` (the same socket, or stdin/stdout in
/// inetd mode) until it ends. Returns normally in every case; the outcome is logged.
///
/// `startup_notify` is the listener's pipe: one byte is written to it (and it is closed)
/// once the user has authenticated, so `MaxStartups` counts only connections still
/// authenticating.
pub fn serve(
    settings: SessionSettings,
    input: File,
    output: File,
    ends: Endpoints,
    startup_notify: Option<File>,
) {
    let mut s = Session::new(settings, input, output, ends);
    s.startup_notify = startup_notify;
    s.run();
}

struct Session {
    settings_max_tries: u32,
    auth_settings: AuthSettings,
    transport: Transport,
    phase: Phase,
    conn: Option<Connection>,
    channels: Channels,
    input: File,
    output: File,
    out_buf: outbuf::OutBuf,
    read_buf: Vec<u8>,
    ends: Endpoints,
    grace_deadline: Option<Instant>,
    rekey_interval: Option<Duration>,
    last_kex: Instant,
    signals: Option<SignalPipe>,
    input_closed: bool,
    done: bool,
    policy: Policy,
    auth_user: Option<String>,
    startup_notify: Option<File>,
}

/// A user-space CSPRNG (ChaCha20) seeded from the OS; the OS generator itself if
/// seeding fails.
fn session_rng() -> Box<dyn rand_core::CryptoRngCore + Send> {
    match <rand_chacha::ChaCha20Rng as rand_core::SeedableRng>::from_rng(rand_core::OsRng) {
        Ok(r) => Box::new(r),
        Err(_) => Box::new(rand_core::OsRng),
    }
}

impl Session {
    fn new(settings: SessionSettings, input: File, output: File, ends: Endpoints) -> Self {
        let proofs = hostkeys_prove::HostKeyProofs::new(&settings.host_keys);
        let transport = Transport::server(
            settings.transport,
            settings.host_keys,
            // A user-space CSPRNG seeded from the OS: padding for every packet comes from
            // it, so a getrandom(2) per packet is avoided.
            session_rng(),
        );
        let _ = os::set_nonblocking(std::os::fd::AsFd::as_fd(&input));
        let _ = os::set_nonblocking(std::os::fd::AsFd::as_fd(&output));
        let signals = SignalPipe::new(&[libc::SIGCHLD, libc::SIGTERM, libc::SIGHUP]).ok();
        let now = Instant::now();
        Session {
            settings_max_tries: settings.max_auth_tries,
            policy: Policy::new(settings.auth.clone(), ends, settings.per_user),
            auth_settings: settings.auth,
            transport,
            phase: Phase::Transport,
            conn: None,
            channels: Channels::new(settings.channels, ends).with_host_key_proofs(proofs),
            input,
            output,
            out_buf: outbuf::OutBuf::default(),
            read_buf: vec![0u8; READ_CHUNK],
            ends,
            grace_deadline: settings.login_grace_time.map(|d| now + d),
            rekey_interval: settings.rekey_interval,
            last_kex: now,
            signals,
            input_closed: false,
            done: false,
            auth_user: None,
            startup_notify: None,
        }
    }

    fn peer(&self) -> String {
        format!("{} port {}", self.ends.peer.ip(), self.ends.peer.port())
    }

    fn authenticated(&self) -> bool {
        matches!(self.phase, Phase::Connection { .. })
    }

    fn run(&mut self) {
        loop {
            self.pump();
            if self.done {
                break;
            }
            if self.transport.is_closed() && self.out_buf.is_empty() {
                break;
            }
            if self.input_closed && self.out_buf.is_empty() {
                break;
            }
            let mut entries = Vec::with_capacity(8);
            let sock_read = !self.input_closed
                && self.out_buf.len() < MAX_PENDING_SOCKET_OUTPUT
                && !self.transport.is_closed();
            entries.push(PollEntry::new(self.input.as_raw_fd(), sock_read, false));
            entries.push(PollEntry::new(
                self.output.as_raw_fd(),
                false,
                !self.out_buf.is_empty(),
            ));
            if let Some(sig) = &self.signals {
                entries.push(PollEntry::new(sig.fd().as_raw_fd(), true, false));
            }
            let may_send =
                self.out_buf.len() < MAX_PENDING_SOCKET_OUTPUT && !self.transport.kex_in_progress();
            let base = entries.len();
            self.channels
                .poll_entries(self.conn.as_ref(), may_send, &mut entries);
            let timeout = self.next_timeout();
            match os::poll_fds(&mut entries, timeout) {
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    error!("poll: {e}");
                    break;
                }
            }
            if entries[0].readable || entries[0].hangup {
                self.read_socket();
            }
            if entries[1].writable || entries[1].hangup {
                self.write_socket();
            }
            if self.signals.is_some() && (entries[2].readable) {
                let sigs = self.signals.as_ref().map(|s| s.drain()).unwrap_or_default();
                for sig in sigs {
                    if sig == libc::SIGTERM || sig == libc::SIGHUP {
                        info!("Received signal {sig}; terminating.");
                        self.channels.hangup_all();
                        self.done = true;
                    }
                }
                self.channels.reap();
            }
            if let Some(conn) = self.conn.as_mut() {
                self.channels.handle_ready(conn, &entries[base..]);
            }
            self.check_timers();
        }
        self.finish();
    }

    fn next_timeout(&self) -> Option<Duration> {
        let now = Instant::now();
        let mut t: Option<Duration> = None;
        if let Some(d) = self.grace_deadline {
            if !self.authenticated() {
                t = Some(d.saturating_duration_since(now));
            }
        }
        if let Some(iv) = self.rekey_interval {
            let due = (self.last_kex + iv).saturating_duration_since(now);
            t = Some(t.map_or(due, |x| x.min(due)));
        }
        if self.channels.wants_tick() {
            let tick = Duration::from_millis(50);
            t = Some(t.map_or(tick, |x| x.min(tick)));
        }
        t
    }

    fn check_timers(&mut self) {
        let now = Instant::now();
        if let Some(d) = self.grace_deadline {
            if !self.authenticated() && now >= d && !self.transport.is_closed() {
                info!("Timeout before authentication for {}", self.peer());
                // OpenSSH closes without a DISCONNECT here.
                self.done = true;
                self.out_buf.clear();
            }
        }
        if let Some(iv) = self.rekey_interval {
            if now >= self.last_kex + iv && self.transport.session_id().is_some() {
                self.last_kex = now;
                self.transport.start_rekey();
            }
        }
    }

    fn read_socket(&mut self) {
        let mut buf = std::mem::take(&mut self.read_buf);
        self.read_socket_into(&mut buf);
        self.read_buf = buf;
    }

    fn read_socket_into(&mut self, buf: &mut [u8]) {
        match self.input.read(buf) {
            Ok(0) => {
                self.input_closed = true;
                self.log_closed();
            }
            Ok(n) => {
                if let Err(e) = self.transport.handle_input(&buf[..n]) {
                    self.log_transport_error(&e);
                }
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                self.input_closed = true;
                if self.authenticated() {
                    info!("Read error from remote host {}: {e}", self.peer());
                } else {
                    info!("Connection reset by {} [preauth]", self.peer());
                }
            }
        }
    }

    fn log_closed(&mut self) {
        match (&self.phase, self.auth_user.clone()) {
            (Phase::Connection { user }, _) => {
                info!("Connection closed by {} (user {user})", self.peer());
            }
            (_, Some(user)) => {
                let who = if self.policy.user_exists(&user) {
                    "authenticating user"
                } else {
                    "invalid user"
                };
                info!(
                    "Connection closed by {who} {user} {} [preauth]",
                    self.peer()
                );
            }
            _ => info!("Connection closed by {} [preauth]", self.peer()),
        }
    }

    fn log_transport_error(&self, e: &sisu_kex::TransportError) {
        let pre = if self.authenticated() {
            ""
        } else {
            " [preauth]"
        };
        match e {
            _ if e.is_identification() => info!(
                "kex_exchange_identification: {e}; Connection from {}{pre}",
                self.peer()
            ),
            // The client's offer: we are the server.
            sisu_kex::TransportError::NoMatchingAlgorithm { what, client, .. } => info!(
                "Unable to negotiate with {}: no matching {what} found. Their offer: {client}{pre}",
                self.peer()
            ),
            _ => info!(
                "ssh_dispatch_run_fatal: Connection from {}: {e}{pre}",
                self.peer()
            ),
        }
    }

    fn write_socket(&mut self) {
        while !self.out_buf.is_empty() {
            match self.output.write(self.out_buf.as_slice()) {
                Ok(0) => break,
                Ok(n) => self.out_buf.consume(n),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => {
                    self.out_buf.clear();
                    self.input_closed = true;
                    break;
                }
            }
        }
    }

    /// Moves events and messages between the machines until nothing is left to do.
    fn pump(&mut self) {
        for _ in 0..10_000 {
            let mut progressed = false;
            while let Some(ev) = self.transport.poll_event() {
                progressed = true;
                self.on_transport_event(ev);
            }
            if let Phase::Auth(auth) = &mut self.phase {
                let mut evs = Vec::new();
                while let Some(ev) = auth.poll_event() {
                    evs.push(ev);
                }
                for ev in evs {
                    progressed = true;
                    self.on_auth_event(ev);
                }
            }
            if let Phase::Auth(auth) = &mut self.phase {
                while let Some(m) = auth.poll_transmit() {
                    progressed = true;
                    let _ = self.transport.send_message(&m);
                }
            }
            if let Some(conn) = self.conn.as_mut() {
                let mut evs = Vec::new();
                while let Some(ev) = conn.poll_event() {
                    evs.push(ev);
                }
                for ev in evs {
                    progressed = true;
                    self.channels.on_event(conn, ev);
                }
                self.channels.progress(conn);
                while let Some(m) = conn.poll_transmit() {
                    progressed = true;
                    let _ = self.transport.send_message(&m);
                }
            }
            if self.transport.transmit_into(self.out_buf.tail()) > 0 {
                progressed = true;
            }
            if !self.out_buf.is_empty() {
                self.write_socket();
            }
            if self.conn.is_some() && self.channels.all_done_and_closed() {
                // Nothing open: the client decides when to go; keep serving.
            }
            if !progressed {
                break;
            }
        }
    }

    fn on_transport_event(&mut self, ev: TEvent) {
        match ev {
            TEvent::PeerIdentification(id) => {
                debug!(
                    "Remote protocol version {}, remote software version {}",
                    id.proto, id.software
                );
            }
            TEvent::KeysEstablished {
                first, negotiated, ..
            } => {
                self.last_kex = Instant::now();
                debug!(
                    "kex: {} host key {} cipher c2s {} s2c {}",
                    negotiated.kex.name(),
                    negotiated.host_key.name(),
                    negotiated.cipher_c2s.name(),
                    negotiated.cipher_s2c.name()
                );
                if !first {
                    verbose!("rekeyed with {} for {}", negotiated.kex.name(), self.peer());
                }
            }
            // The transport accepted SERVICE_REQUEST "ssh-userauth": authentication
            // starts now (and 50 and up are refused by the transport before it).
            TEvent::ServiceAccepted(_) if matches!(self.phase, Phase::Transport) => {
                let sid = self.transport.session_id().unwrap_or_default().to_vec();
                let cfg = AuthConfig {
                    max_tries: self.settings_max_tries,
                    methods: vec![sisu_userauth::Method::PublicKey],
                    pubkey_algorithms: self.auth_settings.pubkey_algorithms.clone(),
                    banner: None,
                };
                self.phase = Phase::Auth(Box::new(AuthServer::new(cfg, &sid)));
            }
            TEvent::Message(m) => self.on_message(m),
            TEvent::Disconnected {
                reason: code,
                description,
            } => {
                let pre = if self.authenticated() {
                    ""
                } else {
                    " [preauth]"
                };
                info!(
                    "Received disconnect from {}:{code}: {description}{pre}",
                    self.peer()
                );
                match &self.phase {
                    Phase::Connection { user } => {
                        info!("Disconnected from user {user} {}", self.peer())
                    }
                    _ => match &self.auth_user {
                        Some(u) => info!(
                            "Disconnected from authenticating user {u} {} [preauth]",
                            self.peer()
                        ),
                        None => info!("Disconnected from {} [preauth]", self.peer()),
                    },
                }
                self.done = true;
            }
            TEvent::ServiceAccepted(_) | TEvent::ExtInfo(_) => {}
        }
    }

    fn answer_auth(&mut self, allow: bool) {
        let r = match &mut self.phase {
            Phase::Auth(a) => a.answer(allow),
            _ => Ok(()),
        };
        if let Err(e) = r {
            self.auth_failed(e);
        }
    }

    fn auth_failed(&mut self, e: sisu_userauth::AuthError) {
        let user = self.auth_user.clone().unwrap_or_default();
        if matches!(e, sisu_userauth::AuthError::TooManyFailures) {
            error!(
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

    fn on_message(&mut self, m: Vec<u8>) {
        let number = m[0];
        match (&mut self.phase, number) {
            (Phase::Auth(auth), 50..=79) => {
                if let Err(e) = auth.handle_message(&m) {
                    self.auth_failed(e);
                }
            }
            (Phase::Connection { .. }, 50..=79) => {} // ignored after success (RFC 4252 §5.1)
            (Phase::Connection { .. }, 80..=127) => {
                let conn = self.conn.as_mut().expect("connection phase");
                if let Err(e) = conn.handle_message(&m) {
                    if !e.is_fatal() {
                        debug!("ignored: {e}");
                        return;
                    }
                    info!("Disconnecting {}: {e}", self.peer());
                    self.transport.disconnect(e.reason(), &e.to_string());
                }
            }
            _ => {
                let pre = if self.authenticated() {
                    ""
                } else {
                    " [preauth]"
                };
                info!(
                    "Disconnecting {}: protocol error: unexpected message type {number}{pre}",
                    self.peer()
                );
                self.transport.disconnect(
                    reason::SSH_DISCONNECT_PROTOCOL_ERROR,
                    &format!("unexpected message type {number}"),
                );
            }
        }
    }

    fn on_auth_event(&mut self, ev: AEvent) {
        match ev {
            AEvent::KeyOffered { user, key, .. } => {
                self.auth_user = Some(user.clone());
                let ok = self.policy.check_key(&user, &key, false).is_some();
                self.answer_auth(ok);
            }
            AEvent::KeyVerified { user, key, .. } => {
                self.auth_user = Some(user.clone());
                let grant = self.policy.check_key(&user, &key, true);
                let ok = grant.is_some();
                if let Some(g) = grant {
                    self.channels.set_grant(g);
                }
                self.answer_auth(ok);
            }
            AEvent::Failed {
                user, method, key, ..
            } => {
                self.auth_user = Some(user.clone());
                let valid = self.policy.user_exists(&user);
                let inv = if valid { "" } else { "invalid user " };
                // As OpenSSH's auth_log: failures of invalid users, and failures past
                // half of MaxAuthTries, at INFO; the others at VERBOSE.
                let failures = match &self.phase {
                    Phase::Auth(a) => a.failures(),
                    _ => 0,
                };
                let level = if !valid || failures >= self.settings_max_tries / 2 {
                    crate::log::Level::Info
                } else {
                    crate::log::Level::Verbose
                };
                let keydesc = key
                    .as_ref()
                    .map(|k| {
                        format!(
                            ": {} {}",
                            auth::key_type_label(k),
                            k.fingerprint(Default::default())
                        )
                    })
                    .unwrap_or_default();
                crate::log::log(
                    level,
                    &format!(
                        "Failed {method} for {inv}{user} from {} ssh2{keydesc}",
                        self.peer()
                    ),
                );
            }
            AEvent::Success { user, method, key } => {
                let keydesc = key
                    .as_ref()
                    .map(|k| {
                        format!(
                            ": {} {}",
                            auth::key_type_label(k),
                            k.fingerprint(Default::default())
                        )
                    })
                    .unwrap_or_default();
                info!(
                    "Accepted {method} for {user} from {} ssh2{keydesc}",
                    self.peer()
                );
                crate::log::set_preauth(false);
                if let Some(cs) = self.policy.channel_settings(&user) {
                    self.channels.set_settings(cs);
                }
                match self.policy.user(&user) {
                    Some(info) => self.channels.set_user(info),
                    None => {
                        error!("user {user} vanished after authentication");
                        self.transport.disconnect(
                            reason::SSH_DISCONNECT_BY_APPLICATION,
                            "user lookup failed",
                        );
                        return;
                    }
                }
                self.phase = Phase::Connection { user };
                self.transport.set_authenticated();
                if let Some(mut n) = self.startup_notify.take() {
                    let _ = n.write_all(b"a");
                }
                let conn = self.conn.insert(Connection::new(Default::default()));
                // Issue 5: hostkeys-00@openssh.com, for the client's UpdateHostKeys.
                let sid = self.transport.session_id().unwrap_or_default();
                let kex_alg = self.transport.negotiated().map(|n| n.host_key);
                self.channels.announce_host_keys(conn, sid, kex_alg);
            }
        }
    }

    fn finish(&mut self) {
        self.channels.hangup_all();
        self.write_socket();
        if let Phase::Connection { user } = &self.phase {
            if !self.done {
                info!("Disconnected from user {user} {}", self.peer());
            }
        }
    }
}
