//! After authentication: the transport taken over from the pre-auth child, the
//! connection layer, and the channels behind it (shells, commands, subsystems,
//! forwarded sockets), as the user.
//!
//! It runs in the post-auth child ([`child`]), which the monitor started as the user.
//! Rekeys ask the [`Policy`] for the host-key signature, terminals come from it (the
//! monitor opens them and gives them to the user), and so do host-key proofs. The loop
//! is in the library so that tests can drive it in one process.

pub mod auth_info;
pub mod channels;
pub mod child;
mod environ;
mod forward;
pub mod hostkeys_prove;
pub mod link;
mod listen;

pub use channels::{ChannelSettings, Channels};
pub use forward::ForwardPolicy;

use crate::conn::{
    answer_host_key_question, log_disconnect, log_transport_error, Endpoints, CLOSING_DRAIN_TIME,
    EXIT_FAILED, EXIT_OK,
};
use crate::netio::{ReadWith, SocketIo, MAX_PENDING_SOCKET_OUTPUT};
use crate::os::UserInfo;
use crate::policy::{Grant, Policy};
use crate::reactor::Reactor;
use link::{Link, LinkError};
use sisu_connection::Connection;
use sisu_kex::{Event as TEvent, Transport};
use sisu_wire::msg::reason;
use std::os::fd::RawFd;
use std::time::{Duration, Instant};

/// What the post-authentication loop needs besides its transport.
pub struct PostauthSettings {
    /// Channel and process settings (after `Match` blocks for the user).
    pub channels: ChannelSettings,
    /// Time-based rekeying (`RekeyLimit`'s second value).
    pub rekey_interval: Option<Duration>,
    /// The connection's ends.
    pub ends: Endpoints,
    /// The user.
    pub user: UserInfo,
    /// What the keys that authenticated the user grant.
    pub grant: Grant,
}

struct Postauth<'p> {
    transport: Link,
    conn: Connection,
    channels: Channels,
    io: SocketIo,
    policy: &'p mut dyn Policy,
    ends: Endpoints,
    user: String,
    rekey_interval: Option<Duration>,
    last_kex: Instant,
    /// When the client last sent anything (for `ClientAliveInterval`).
    last_input: Instant,
    /// Keepalives sent since the client last answered one.
    alive_unanswered: u32,
    /// Since when the transport is closed with output still queued.
    closing_since: Option<Instant>,
    /// Since when no channel is open (for `UnusedConnectionTimeout`).
    unused_since: Option<Instant>,
    done: bool,
}

/// Serves the authenticated connection on `io` with `transport` (imported, or handed
/// on in the same process) until it ends; the exit status. `watch` is a descriptor
/// whose readability ends the connection (the monitor channel).
pub fn run(
    transport: Transport,
    settings: PostauthSettings,
    io: SocketIo,
    policy: &mut dyn Policy,
    watch: Option<RawFd>,
) -> i32 {
    // The user is in: from here the peer may rekey as it likes, and RekeyLimit applies
    // (the pre-auth side leaves this to us, so that no exchange starts before a
    // handover).
    let mut transport = transport;
    transport.set_authenticated();
    run_link(Link::V2(Box::new(transport)), settings, io, policy, watch)
}

/// [`run`] over either protocol's transport (protocol 1: the SSH-1 transport and its
/// session bridge, [`link::V1Link`]).
pub fn run_link(
    transport: Link,
    settings: PostauthSettings,
    io: SocketIo,
    policy: &mut dyn Policy,
    watch: Option<RawFd>,
) -> i32 {
    let mut reactor = match Reactor::new(&[libc::SIGCHLD, libc::SIGTERM, libc::SIGHUP]) {
        Ok(r) => r,
        Err(e) => {
            error!("reactor: {e}");
            return EXIT_FAILED;
        }
    };
    let now = reactor.now();
    let proofs = hostkeys_prove::HostKeyProofs::new(transport.host_keys());
    let mut channels = Channels::new(settings.channels, settings.ends).with_host_key_proofs(proofs);
    let user = settings.user.name.clone();
    channels.set_user(settings.user);
    channels.set_grant(settings.grant);
    let mut p = Postauth {
        transport,
        conn: Connection::new(Default::default()),
        channels,
        io,
        policy,
        ends: settings.ends,
        user,
        rekey_interval: settings.rekey_interval,
        last_kex: now,
        last_input: now,
        alive_unanswered: 0,
        closing_since: None,
        unused_since: Some(now),
        done: false,
    };
    // Issue 5: hostkeys-00@openssh.com, for the client's UpdateHostKeys.
    let kex_alg = p.transport.negotiated().map(|n| n.host_key);
    p.channels.announce_host_keys(&mut p.conn, kex_alg);
    p.run(&mut reactor, watch);
    p.finish();
    if !p.transport.failed() {
        EXIT_OK
    } else {
        EXIT_FAILED
    }
}

impl Postauth<'_> {
    fn peer(&self) -> String {
        self.ends.peer_desc()
    }

    fn run(&mut self, reactor: &mut Reactor, watch: Option<RawFd>) {
        loop {
            self.pump(reactor.now());
            if self.policy.failed() {
                self.done = true;
            }
            if self.done
                || (self.transport.is_closed() || self.io.input_closed()) && self.io.pending() == 0
            {
                break;
            }
            let now = reactor.now();
            if self.transport.is_closed() && self.io.pending() > 0 && self.closing_since.is_none() {
                self.closing_since = Some(now);
            }
            let mut turn = reactor.turn();
            let want_read = !self.io.input_closed()
                && self.io.pending() < MAX_PENDING_SOCKET_OUTPUT
                && !self.transport.is_closed()
                && self.transport.wants_input();
            let sock_in = turn.watch(self.io.input_fd(), want_read, false);
            let sock_out = turn.watch(self.io.output_fd(), false, self.io.pending() > 0);
            let monitor = watch.map(|fd| turn.watch(fd, true, false));
            let may_send =
                self.io.pending() < MAX_PENDING_SOCKET_OUTPUT && !self.transport.kex_in_progress();
            let base = self.channels.watch(&self.conn, may_send, &mut turn);
            for d in self.deadlines() {
                turn.wake_at(d);
            }
            if self.channels.wants_tick() {
                turn.wake_at(now + Duration::from_millis(50));
            }
            let ready = match reactor.wait(turn) {
                Ok(r) => r,
                Err(e) => {
                    error!("poll: {e}");
                    break;
                }
            };
            if ready.readable(sock_in) {
                self.read_socket(ready.now);
            }
            if ready.writable(sock_out) {
                self.io.write(ready.now);
            }
            if monitor.is_some_and(|m| ready.readable(m)) {
                self.channels.hangup_all();
                self.done = true;
            }
            for sig in &ready.signals {
                if *sig == libc::SIGTERM || *sig == libc::SIGHUP {
                    info!("Received signal {sig}; terminating.");
                    self.channels.hangup_all();
                    self.done = true;
                }
            }
            if !ready.signals.is_empty() {
                self.channels.reap();
            }
            self.channels
                .handle_ready(&mut self.conn, &ready.entries()[base..]);
            self.check_timers(ready.now);
        }
    }

    /// Every deadline the loop must wake up for. Each one, once passed, changes the
    /// state when [`Postauth::check_timers`] runs (the connection ends, or the deadline
    /// moves on), so the loop never waits with a zero timeout twice in a row.
    fn deadlines(&mut self) -> Vec<Instant> {
        let mut d = Vec::with_capacity(6);
        if let Some(at) = self.channels.next_idle_deadline() {
            d.push(at);
        }
        if let Some(t) = self.channels.unused_connection_timeout() {
            // The clock starts when the last channel is gone (or at the start).
            if self.conn.channels().next().is_none() {
                let since = *self.unused_since.get_or_insert_with(Instant::now);
                d.push(since + t);
            }
        }
        if let (Some(iv), true) = (self.rekey_interval, self.rekey_possible()) {
            d.push(self.last_kex + iv);
        }
        if let Some((iv, max)) = self.channels.client_alive() {
            d.push(self.last_input + iv);
            if let Some(since) = self.io.stalled_since() {
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
        !self.transport.kex_in_progress() && !self.transport.is_closed()
    }

    fn check_timers(&mut self, now: Instant) {
        self.channels.expire_idle(&mut self.conn, now);
        if let Some(t) = self.channels.unused_connection_timeout() {
            if self.conn.channels().next().is_some() {
                self.unused_since = None;
            } else {
                let since = *self.unused_since.get_or_insert(now);
                if now >= since + t && !self.done {
                    info!(
                        "terminating inactive connection from user {} {}",
                        self.user,
                        self.peer()
                    );
                    self.give_up();
                }
            }
        }
        if let (true, Some(since)) = (self.transport.is_closed(), self.closing_since) {
            if now >= since + CLOSING_DRAIN_TIME && self.io.pending() > 0 {
                debug!("output to {} not taken after close; dropped", self.peer());
                self.done = true;
                self.io.discard_output();
            }
        }
        if let Some((iv, max)) = self.channels.client_alive() {
            if now >= self.last_input + iv {
                self.client_alive_check(max, now);
            }
            if let Some(since) = self.io.stalled_since() {
                if now >= since + iv * max.saturating_add(1) && !self.done {
                    info!(
                        "Timeout, client not responding from user {} {} (not reading)",
                        self.user,
                        self.peer()
                    );
                    self.give_up();
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

    fn give_up(&mut self) {
        self.channels.hangup_all();
        self.done = true;
        self.io.discard_output();
    }

    /// `ClientAliveInterval` passed in silence: after `max` unanswered keepalives the
    /// client is gone (as OpenSSH: logged, and the connection closed without a
    /// DISCONNECT); otherwise one more `keepalive@openssh.com` asking for a reply.
    fn client_alive_check(&mut self, max: u32, now: Instant) {
        self.last_input = now;
        if max > 0 && self.alive_unanswered >= max {
            info!(
                "Timeout, client not responding from user {} {}",
                self.user,
                self.peer()
            );
            self.give_up();
            return;
        }
        self.alive_unanswered += 1;
        self.conn
            .send_global_request("keepalive@openssh.com", true, &[]);
    }

    fn read_socket(&mut self, now: Instant) {
        let link = &mut self.transport;
        match self.io.read_with(|b| link.handle_input(b)) {
            ReadWith::Data(r) => {
                self.last_input = now;
                match r {
                    Ok(()) => {}
                    Err(LinkError::V2(e)) => log_transport_error(&e, &self.peer(), false),
                    Err(LinkError::V1(why)) => {
                        info!("Disconnecting {}: {why}", self.peer())
                    }
                }
            }
            ReadWith::Nothing => {}
            ReadWith::Closed => {
                info!("Connection closed by {} (user {})", self.peer(), self.user);
            }
            ReadWith::Failed(e) => {
                info!("Read error from remote host {}: {e}", self.peer());
            }
        }
    }

    /// Moves events and messages between the machines until nothing is left to do.
    fn pump(&mut self, now: Instant) {
        for _ in 0..10_000 {
            let mut progressed = false;
            while let Some(ev) = self.transport.poll_event() {
                progressed = true;
                let peer = self.peer();
                let question = &mut *self.policy;
                let ev = match self.transport.ssh2() {
                    Some(t) => answer_host_key_question(t, question, ev, &peer, false),
                    None => Some(ev),
                };
                if let Some(ev) = ev {
                    self.on_transport_event(ev, now);
                }
            }
            let mut evs = Vec::new();
            while let Some(ev) = self.conn.poll_event() {
                evs.push(ev);
            }
            for ev in evs {
                progressed = true;
                if let sisu_connection::Event::GlobalReply { .. } = ev {
                    // An answer to our keepalive (or to any request): alive.
                    self.alive_unanswered = 0;
                }
                self.channels
                    .on_event(&mut self.conn, ev, &mut *self.policy);
            }
            self.channels.progress(&mut self.conn);
            while let Some(m) = self.conn.poll_transmit() {
                progressed = true;
                let _ = self.transport.send_message(&m);
            }
            let link = &mut self.transport;
            if self.io.take_with(|buf| link.transmit_into(buf)) {
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

    fn on_transport_event(&mut self, ev: TEvent, now: Instant) {
        match ev {
            TEvent::KeysEstablished { negotiated, .. } => {
                self.last_kex = now;
                verbose!("rekeyed with {} for {}", negotiated.kex.name(), self.peer());
            }
            TEvent::Message(m) => self.on_message(&m),
            TEvent::Disconnected {
                reason: code,
                description,
            } => {
                log_disconnect(code, &description, &self.peer(), Some(&self.user), None);
                self.done = true;
            }
            TEvent::GroupNeeded(_) | TEvent::SignatureNeeded { .. } => {}
            TEvent::PeerIdentification(_)
            | TEvent::ServiceAccepted(_)
            | TEvent::ExtInfo(_)
            | TEvent::Protocol1 { .. } => {}
        }
    }

    fn on_message(&mut self, m: &[u8]) {
        let number = m[0];
        match number {
            50..=79 => {} // ignored after success (RFC 4252 §5.1)
            80..=127 => {
                if let Err(e) = self.conn.handle_message(m) {
                    if !e.is_fatal() {
                        debug!("ignored: {e}");
                        return;
                    }
                    info!("Disconnecting {}: {e}", self.peer());
                    self.transport.disconnect(e.reason(), &e.to_string());
                }
            }
            _ => {
                info!(
                    "Disconnecting {}: protocol error: unexpected message type {number}",
                    self.peer()
                );
                self.transport.disconnect(
                    reason::SSH_DISCONNECT_PROTOCOL_ERROR,
                    &format!("unexpected message type {number}"),
                );
            }
        }
    }

    fn finish(&mut self) {
        self.channels.hangup_all();
        self.io.write(Instant::now());
        if !self.done {
            info!("Disconnected from user {} {}", self.user, self.peer());
        }
    }
}
