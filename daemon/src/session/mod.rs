//! One connection, from the identification line to the last channel: the session
//! process's event loop.
//!
//! It composes the protocol machines (`sisu_kex::Transport`, then
//! `sisu_userauth::Server`, then `sisu_connection::Connection`) with the operating
//! system: the socket, the children's pipes and PTYs, signals and the login grace timer.
//! Everything happens on one thread in one `poll(2)` loop.

mod access;
mod auth;
mod channels;
mod environ;
mod forward;
mod hostkeys_prove;
mod outbuf;

use crate::os::{self, PollEntry, SignalPipe};
use auth::{Policy, Progress};
use channels::Channels;
use sisu_connection::Connection;
use sisu_kex::{Event as TEvent, HostKey, Transport, TransportConfig};
use sisu_userauth::{Answer, Event as AEvent, Server as AuthServer, ServerConfig as AuthConfig};
use sisu_wire::msg::reason;
use std::fs::File;
use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

pub use access::{group_names, AccessLists};
pub use auth::{AuthSettings, RootLogin, UserEnvironment};
pub use channels::ChannelSettings;
pub use forward::ForwardPolicy;

/// Bytes read from the socket at a time.
const READ_CHUNK: usize = 64 * 1024;
/// How long output queued after the transport closed (a DISCONNECT) may wait for a
/// peer that does not read, after authentication (before it, LoginGraceTime bounds it).
pub const CLOSING_DRAIN_TIME: Duration = Duration::from_secs(10);
/// Output waiting for the socket above which we stop reading from children.
pub const MAX_PENDING_SOCKET_OUTPUT: usize = 1024 * 1024;

/// Everything a session needs, resolved from the configuration by the caller.
pub struct SessionSettings {
    /// Transport algorithms and identification.
    pub transport: TransportConfig,
    /// The group-exchange groups (`ModuliFile`), answered to `Event::GroupNeeded`.
    pub moduli: crate::algs::ModuliGroups,
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

/// The connection's two ends, as seen from here. `None` when the connection is not a
/// socket (inetd mode over a pipe, as a ProxyCommand gives it): OpenSSH then says
/// `UNKNOWN` and port 65535, and so does Sisu.
#[derive(Clone, Copy, Debug)]
pub struct Endpoints {
    /// The client.
    pub peer: Option<SocketAddr>,
    /// Our address.
    pub local: Option<SocketAddr>,
}

/// What an unknown address is called in logs and in `SSH_CONNECTION`.
pub const UNKNOWN_ADDRESS: &str = "UNKNOWN";
/// The port given for an unknown address.
pub const UNKNOWN_PORT: u16 = 65535;

impl Endpoints {
    /// The client's address as text (`UNKNOWN` when not known).
    pub fn peer_ip(&self) -> String {
        self.peer
            .map_or_else(|| UNKNOWN_ADDRESS.to_string(), |a| a.ip().to_string())
    }

    /// The client's port (65535 when not known).
    pub fn peer_port(&self) -> u16 {
        self.peer.map_or(UNKNOWN_PORT, |a| a.port())
    }

    /// Our address as text (`UNKNOWN` when not known).
    pub fn local_ip(&self) -> String {
        self.local
            .map_or_else(|| UNKNOWN_ADDRESS.to_string(), |a| a.ip().to_string())
    }

    /// Our port (65535 when not known).
    pub fn local_port(&self) -> u16 {
        self.local.map_or(UNKNOWN_PORT, |a| a.port())
    }

    /// `ADDR port N`, as log lines name the client.
    pub fn peer_desc(&self) -> String {
        format!("{} port {}", self.peer_ip(), self.peer_port())
    }
}

enum Phase {
    Transport,
    Auth(Box<AuthServer>),
    Connection { user: String },
}

/// Serves one connection on `input`/`output` (the same socket, or stdin/stdout in
/// inetd mode) until it ends. The outcome is logged; the result is the process's exit
/// status ([`EXIT_OK`] or [`EXIT_FAILED`]).
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
) -> i32 {
    let mut s = Session::new(settings, input, output, ends);
    s.startup_notify = startup_notify;
    s.run();
    s.exit_status()
}

/// The session process's exit status after a connection that authenticated and ended
/// without a transport error.
pub const EXIT_OK: i32 = 0;
/// The exit status otherwise (OpenSSH's sshd exits 255 on every pre-authentication
/// end and every fatal error: `sshd -i` callers such as inetd tell them apart by it).
pub const EXIT_FAILED: i32 = 255;

struct Session {
    settings_max_tries: u32,
    moduli: crate::algs::ModuliGroups,
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
    /// Whether the first authentication request (which names the user) was seen.
    user_seen: bool,
    /// When the client last sent anything (for `ClientAliveInterval`).
    last_input: Instant,
    /// Keepalives sent since the client last answered one.
    alive_unanswered: u32,
    /// Since when output has been waiting that the peer does not take.
    output_stalled_since: Option<Instant>,
    /// Since when the transport is closed with output still queued.
    closing_since: Option<Instant>,
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
            moduli: settings.moduli,
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
            user_seen: false,
            last_input: now,
            alive_unanswered: 0,
            output_stalled_since: None,
            closing_since: None,
            startup_notify: None,
        }
    }

    fn peer(&self) -> String {
        self.ends.peer_desc()
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
            // An fd asked for nothing is left out (-1): poll reports POLLHUP on it even
            // then, and a hung-up socket must not turn the loop into a busy one.
            let fd_if = |want: bool, fd: i32| if want { fd } else { -1 };
            entries.push(PollEntry::new(
                fd_if(sock_read, self.input.as_raw_fd()),
                sock_read,
                false,
            ));
            let sock_write = !self.out_buf.is_empty();
            entries.push(PollEntry::new(
                fd_if(sock_write, self.output.as_raw_fd()),
                false,
                sock_write,
            ));
            if let Some(sig) = &self.signals {
                entries.push(PollEntry::new(sig.fd().as_raw_fd(), true, false));
            }
            let may_send =
                self.out_buf.len() < MAX_PENDING_SOCKET_OUTPUT && !self.transport.kex_in_progress();
            let base = entries.len();
            self.channels
                .poll_entries(self.conn.as_ref(), may_send, &mut entries);
            if self.transport.is_closed()
                && !self.out_buf.is_empty()
                && self.closing_since.is_none()
            {
                self.closing_since = Some(Instant::now());
            }
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

    /// Every deadline the loop must wake up for. Each one, once passed, changes the
    /// state when [`Session::check_timers`] runs (the connection ends, or the deadline
    /// moves on), so the loop never polls with a zero timeout twice in a row.
    fn deadlines(&self) -> Vec<Instant> {
        let mut d = Vec::with_capacity(4);
        if !self.authenticated() {
            // LoginGraceTime holds in every state, a closed transport with output
            // still queued included.
            d.extend(self.grace_deadline);
        }
        if let (Some(iv), true) = (self.rekey_interval, self.rekey_possible()) {
            d.push(self.last_kex + iv);
        }
        if let (true, Some((iv, max))) = (self.authenticated(), self.channels.client_alive()) {
            d.push(self.last_input + iv);
            if let Some(since) = self.output_stalled_since {
                d.push(since + iv * max.saturating_add(1));
            }
        }
        if let Some(at) = self.closing_since {
            d.push(at + CLOSING_DRAIN_TIME);
        }
        d
    }

    /// Whether a time-based rekey can start now.
    fn rekey_possible(&self) -> bool {
        // Not before authentication: OpenSSH's client cannot take a key exchange then.
        self.authenticated()
            && self.transport.session_id().is_some()
            && !self.transport.kex_in_progress()
            && !self.transport.is_closed()
    }

    fn next_timeout(&self) -> Option<Duration> {
        let now = Instant::now();
        let mut t = self
            .deadlines()
            .into_iter()
            .min()
            .map(|d| d.saturating_duration_since(now));
        if self.channels.wants_tick() {
            let tick = Duration::from_millis(50);
            t = Some(t.map_or(tick, |x| x.min(tick)));
        }
        t
    }

    fn check_timers(&mut self) {
        let now = Instant::now();
        if let (true, Some(since)) = (self.transport.is_closed(), self.closing_since) {
            if now >= since + CLOSING_DRAIN_TIME && !self.out_buf.is_empty() {
                debug!("output to {} not taken after close; dropped", self.peer());
                self.done = true;
                self.out_buf.clear();
            }
        }
        if let Some(d) = self.grace_deadline {
            if !self.authenticated() && now >= d && !self.done {
                info!("Timeout before authentication for {}", self.peer());
                // OpenSSH closes without a DISCONNECT here.
                self.done = true;
                self.out_buf.clear();
            }
        }
        if let (true, Some((iv, max))) = (self.authenticated(), self.channels.client_alive()) {
            if now >= self.last_input + iv {
                self.client_alive_check(max);
            }
            if let Some(since) = self.output_stalled_since {
                if now >= since + iv * max.saturating_add(1) && !self.done {
                    info!(
                        "Timeout, client not responding from {}{} (not reading)",
                        self.user_prefix(),
                        self.peer()
                    );
                    self.channels.hangup_all();
                    self.done = true;
                    self.out_buf.clear();
                }
            }
        }
        if let Some(iv) = self.rekey_interval {
            if now >= self.last_kex + iv && self.rekey_possible() {
                self.last_kex = now;
                self.transport.start_rekey();
            }
        }
    }

    /// `ClientAliveInterval` passed in silence: after `max` unanswered keepalives the
    /// client is gone (as OpenSSH: logged, and the connection closed without a
    /// DISCONNECT); otherwise one more `keepalive@openssh.com` asking for a reply.
    fn client_alive_check(&mut self, max: u32) {
        self.last_input = Instant::now();
        if max > 0 && self.alive_unanswered >= max {
            info!(
                "Timeout, client not responding from {}{}",
                self.user_prefix(),
                self.peer()
            );
            self.channels.hangup_all();
            self.done = true;
            self.out_buf.clear();
            return;
        }
        self.alive_unanswered += 1;
        if let Some(conn) = self.conn.as_mut() {
            conn.send_global_request("keepalive@openssh.com", true, &[]);
        }
    }

    /// `user NAME ` once authenticated, as OpenSSH's connection id in log lines.
    fn user_prefix(&self) -> String {
        match &self.phase {
            Phase::Connection { user } => format!("user {user} "),
            _ => String::new(),
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
                self.last_input = Instant::now();
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
        let before = self.out_buf.len();
        self.write_socket_inner();
        // A peer that takes none of what is queued is stalled since the first time it
        // did not; any progress clears it.
        if self.out_buf.is_empty() || self.out_buf.len() < before {
            self.output_stalled_since = None;
        } else if self.output_stalled_since.is_none() {
            self.output_stalled_since = Some(Instant::now());
        }
    }

    fn write_socket_inner(&mut self) {
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
                    if let sisu_connection::Event::GlobalReply { .. } = ev {
                        // An answer to our keepalive (or to any request): alive.
                        self.alive_unanswered = 0;
                    }
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
            TEvent::GroupNeeded(request) => {
                let group = request
                    .choose(self.moduli.get(), &mut rand_core::OsRng)
                    .cloned();
                if let Err(e) = self.transport.provide_group(group) {
                    self.log_transport_error(&e);
                }
            }
            // Every host key here holds its private half (or an agent does), so the
            // transport signs itself; a question is answered with a refusal.
            TEvent::SignatureNeeded { .. } => {
                let refused = Err(sisu_kex::hostkey::HostKeyError("no signer".into()));
                if let Err(e) = self.transport.provide_signature(refused) {
                    self.log_transport_error(&e);
                }
            }
            TEvent::ServiceAccepted(_) | TEvent::ExtInfo(_) => {}
        }
    }

    fn answer_auth(&mut self, answer: Answer) {
        let r = match &mut self.phase {
            Phase::Auth(a) => a.answer_with(answer),
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
        if number == sisu_wire::msg::SSH_MSG_USERAUTH_REQUEST && !self.user_seen {
            if let Phase::Auth(_) = self.phase {
                self.user_seen = true;
                if !self.on_first_user(&m) {
                    return;
                }
            }
        }
        match (&mut self.phase, number) {
            (Phase::Auth(auth), 50..=79) => {
                if let Err(e) = auth.handle_message(&m) {
                    self.auth_failed(e);
                }
            }
            (Phase::Connection { .. }, 50..=79) => {} // ignored after success (RFC 4252 §5.1)
            (Phase::Connection { .. }, 80..=127) => {
                let Some(conn) = self.conn.as_mut() else {
                    return; // the connection layer is set up with the Connection phase
                };
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

    /// The first authentication request names the user: `Match` blocks for the user
    /// decide the banner, and whether `RefuseConnection` ends the connection here.
    /// Returns false when the connection is over.
    fn on_first_user(&mut self, request: &[u8]) -> bool {
        let Ok(req) = sisu_userauth::request::UserauthRequest::parse(request) else {
            return true; // the machine refuses it in its own words
        };
        let user = sisu_userauth::request::user_without_style(req.user).to_string();
        if self.policy.refuses_connection(&user) {
            self.done = true;
            self.out_buf.clear();
            return false;
        }
        let banner = self.policy.banner(&user);
        if let Phase::Auth(auth) = &mut self.phase {
            auth.set_banner(banner);
        }
        true
    }

    fn on_auth_event(&mut self, ev: AEvent) {
        match ev {
            AEvent::KeyOffered { user, key, .. } => {
                self.auth_user = Some(user.clone());
                let ok = self.policy.check_key(&user, &key, false).is_some();
                self.answer_auth(if ok { Answer::Allow } else { Answer::Deny });
            }
            AEvent::KeyVerified { user, key, .. } => {
                self.auth_user = Some(user.clone());
                let Some(grant) = self.policy.check_key(&user, &key, true) else {
                    self.answer_auth(Answer::Deny);
                    return;
                };
                match self
                    .policy
                    .method_succeeded(&user, "publickey", &key, grant)
                {
                    Ok(Progress::Complete(g)) => {
                        self.channels.set_grant(g);
                        self.answer_auth(Answer::Allow);
                    }
                    Ok(Progress::Partial) => {
                        verbose!(
                            "Partial publickey for {user} from {} ssh2: {} {} [preauth]",
                            self.peer(),
                            auth::key_type_label(&key),
                            key.fingerprint(Default::default())
                        );
                        self.answer_auth(Answer::Partial);
                    }
                    Err(why) => {
                        info!("{why} [preauth]");
                        self.answer_auth(Answer::Deny);
                    }
                }
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

    fn exit_status(&self) -> i32 {
        if self.authenticated() && self.transport.error().is_none() {
            EXIT_OK
        } else {
            EXIT_FAILED
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
