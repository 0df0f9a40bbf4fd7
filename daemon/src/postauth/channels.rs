//! Session channels and the processes behind them: PTYs, shells, commands and
//! subsystems, their pipes, exit status and the order of EOF and CLOSE.

use super::environ::{parse_environment_file, Env, MAX_CLIENT_ENV_BYTES, MAX_CLIENT_VARS};
use super::forward::Progress;
use crate::conn::Endpoints;
use crate::os::{self, ExitKind, PollEntry, Pty, SpawnRequest, UserInfo, WinSize};
use crate::policy::{Grant, Policy, UserEnvironment};
use crate::reactor::Turn;
use sisu_connection::{ChannelId, ChannelKind, Connection, Event};
use sisu_wire::msg::open_failure;
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::time::Instant;

/// Largest chunk read from a child at a time.
const CHILD_READ_CHUNK: usize = 64 * 1024;
/// Most reads from one child fd per wake-up of the loop.
const CHILD_READS_PER_WAKEUP: usize = 8;

/// The message of the day, printed at a login on a terminal (`PrintMotd`).
const MOTD_FILE: &str = "/etc/motd";

/// Channel settings from the configuration.
#[derive(Clone, Debug)]
pub struct ChannelSettings {
    /// `AcceptEnv` patterns.
    pub accept_env: Vec<String>,
    /// `Subsystem` name and command.
    pub subsystems: Vec<(String, String)>,
    /// Whether children switch to the user (the daemon runs as root).
    pub switch_user: bool,
    /// `PermitTTY`.
    pub permit_tty: bool,
    /// `MaxSessions`.
    pub max_sessions: usize,
    /// `ForceCommand`.
    pub force_command: Option<String>,
    /// `AllowTcpForwarding`, `DisableForwarding` and `PermitOpen`.
    pub forward: super::forward::ForwardPolicy,
    /// `SetEnv`.
    pub set_env: Vec<(String, String)>,
    /// `PermitUserEnvironment`, for `~/.ssh/environment`.
    pub user_environment: UserEnvironment,
    /// `PrintMotd`.
    pub print_motd: bool,
    /// `ClientAliveInterval` (when not 0) and `ClientAliveCountMax`.
    pub client_alive: Option<(std::time::Duration, u32)>,
}

#[derive(Default)]
struct Chan {
    pty: Option<Pty>,
    term: Option<String>,
    env: Vec<(String, String)>,
    pid: Option<i32>,
    stdin: Option<File>,
    stdout: Option<File>,
    stderr: Option<File>,
    to_child: Vec<u8>,
    peer_eof: bool,
    out_eof: bool,
    err_eof: bool,
    exit: Option<ExitKind>,
    finished: bool,
    started: bool,
    is_pty: bool,
    /// A `direct-tcpip` channel: stdout/stdin are the two halves of the socket.
    is_tcp: bool,
    /// A `direct-tcpip` channel whose connection is being opened (not answered yet).
    connecting: Option<super::forward::Connecting>,
    /// `HOST port PORT` of a `direct-tcpip` channel, for log lines.
    target: String,
    eof_sent: bool,
}

enum Which {
    Connect,
    Out,
    Err,
    In,
}

/// The session channels of one connection.
pub struct Channels {
    settings: ChannelSettings,
    ends: Endpoints,
    chans: BTreeMap<ChannelId, Chan>,
    user: Option<UserInfo>,
    grant: Grant,
    poll_map: Vec<(ChannelId, Which)>,
    read_buf: Vec<u8>,
    /// Issue 5: the host keys for `hostkeys-00@openssh.com` and its proofs.
    proofs: super::hostkeys_prove::HostKeyProofs,
}

impl Channels {
    /// No channels yet.
    pub fn new(settings: ChannelSettings, ends: Endpoints) -> Self {
        Channels {
            settings,
            ends,
            chans: BTreeMap::new(),
            user: None,
            grant: Grant::default(),
            poll_map: Vec::new(),
            read_buf: vec![0u8; CHILD_READ_CHUNK],
            proofs: Default::default(),
        }
    }

    /// Issue 5: the host keys to announce and prove after authentication.
    pub fn with_host_key_proofs(mut self, proofs: super::hostkeys_prove::HostKeyProofs) -> Self {
        self.proofs = proofs;
        self
    }

    /// Issue 5: sends `hostkeys-00@openssh.com` (once, after authentication).
    pub fn announce_host_keys(
        &mut self,
        conn: &mut Connection,
        kex_alg: Option<sisu_kex::HostKeyAlg>,
    ) {
        self.proofs.announce(conn, kex_alg);
    }

    /// The authenticated user, whose processes the channels run.
    pub fn set_user(&mut self, user: UserInfo) {
        self.user = Some(user);
    }

    /// Settings after the `Match` blocks for the authenticated user.
    pub fn set_settings(&mut self, settings: ChannelSettings) {
        self.settings = settings;
    }

    /// The restrictions of the `authorized_keys` line that authenticated the user.
    pub fn set_grant(&mut self, grant: Grant) {
        self.grant = grant;
    }

    fn peer(&self) -> String {
        self.ends.peer_desc()
    }

    /// `ClientAliveInterval` and `ClientAliveCountMax`, when keepalives are on.
    pub fn client_alive(&self) -> Option<(std::time::Duration, u32)> {
        self.settings.client_alive
    }

    /// Whether the loop should wake up regularly (never, for now).
    pub fn wants_tick(&self) -> bool {
        false
    }

    /// Whether no channel is open.
    pub fn all_done_and_closed(&self) -> bool {
        self.chans.is_empty()
    }

    /// One connection event; terminals and host-key proofs are asked of `policy`.
    pub fn on_event(&mut self, conn: &mut Connection, ev: Event, policy: &mut dyn Policy) {
        match ev {
            Event::ChannelOpen { ch, kind } => match kind {
                ChannelKind::Session => {
                    // MaxSessions counts session channels; forwardings do not count.
                    let sessions = self.chans.values().filter(|c| !c.is_tcp).count();
                    if sessions >= self.settings.max_sessions {
                        error!("no more sessions");
                        conn.reject_open(
                            ch,
                            open_failure::SSH_OPEN_RESOURCE_SHORTAGE,
                            "too many sessions",
                        );
                    } else {
                        self.chans.insert(ch, Chan::default());
                        conn.accept_open(ch);
                    }
                }
                ChannelKind::DirectTcpip {
                    host,
                    port,
                    originator,
                    originator_port,
                } => self.open_direct_tcpip(conn, ch, &host, port, &originator, originator_port),
                other => conn.reject_open(
                    ch,
                    open_failure::SSH_OPEN_UNKNOWN_CHANNEL_TYPE,
                    &format!("unknown channel type {}", other.name()),
                ),
            },
            Event::PtyRequest {
                ch,
                want_reply,
                term,
                cols,
                rows,
                width_px,
                height_px,
                modes,
            } => {
                let ok = self.pty_request(
                    ch,
                    term,
                    WinSize::from_wire(cols, rows, width_px, height_px),
                    &modes,
                    policy,
                );
                if want_reply {
                    conn.reply_request(ch, ok);
                }
            }
            Event::Env {
                ch,
                want_reply,
                name,
                value,
            } => {
                let accepted = self
                    .settings
                    .accept_env
                    .iter()
                    .any(|p| crate::config::match_pattern(&name, p));
                let ok = accepted
                    && self.chans.get_mut(&ch).is_some_and(|c| {
                        let bytes: usize = c.env.iter().map(|(n, v)| n.len() + v.len()).sum();
                        let fits = !c.started
                            && c.env.len() < MAX_CLIENT_VARS
                            && bytes + name.len() + value.len() <= MAX_CLIENT_ENV_BYTES;
                        if fits {
                            c.env.push((name.clone(), value));
                        }
                        fits
                    });
                if !ok {
                    debug!("Ignored env {name}");
                }
                if want_reply {
                    conn.reply_request(ch, ok);
                }
            }
            Event::Shell { ch, want_reply } => {
                let ok = self.start(ch, None, "shell");
                if want_reply {
                    conn.reply_request(ch, ok);
                }
            }
            Event::Exec {
                ch,
                want_reply,
                command,
            } => {
                let ok = self.start(ch, Some(command), "command");
                if want_reply {
                    conn.reply_request(ch, ok);
                }
            }
            Event::Subsystem {
                ch,
                want_reply,
                name,
            } => {
                let cmd = self
                    .settings
                    .subsystems
                    .iter()
                    .find(|(n, _)| *n == name)
                    .map(|(_, c)| c.clone());
                let ok = match cmd {
                    Some(c) if c != "internal-sftp" => {
                        info!("subsystem request for {name} by user {}", self.user_name());
                        self.start(ch, Some(c.into_bytes()), "subsystem")
                    }
                    _ => {
                        info!("subsystem request for {name} failed, subsystem not found");
                        false
                    }
                };
                if want_reply {
                    conn.reply_request(ch, ok);
                }
            }
            Event::WindowChange {
                ch,
                cols,
                rows,
                width_px,
                height_px,
            } => {
                let size = WinSize::from_wire(cols, rows, width_px, height_px);
                if let Some(c) = self.chans.get(&ch) {
                    if let Some(p) = &c.pty {
                        let _ = os::set_winsize(p.master.as_fd(), size);
                    } else if let (true, Some(m)) = (c.is_pty, &c.stdout) {
                        let _ = os::set_winsize(m.as_fd(), size);
                    }
                }
            }
            Event::Signal { ch, name } => {
                if let Some(pid) = self.chans.get(&ch).and_then(|c| c.pid) {
                    if self.chans[&ch].exit.is_none() {
                        let _ = os::signal_by_name(pid, &name);
                    }
                }
            }
            Event::OtherRequest {
                ch,
                want_reply,
                name,
                ..
            } => {
                debug!("channel {ch}: request {name} refused");
                if want_reply {
                    conn.reply_request(ch, false);
                }
            }
            Event::Data { ch, data } => {
                if let Some(c) = self.chans.get_mut(&ch) {
                    if c.stdin.is_some() {
                        c.to_child.extend_from_slice(&data);
                    } else {
                        conn.consumed(ch, data.len() as u32);
                    }
                }
            }
            Event::ExtendedData { ch, data, .. } => conn.consumed(ch, data.len() as u32),
            Event::Eof { ch } => {
                if let Some(c) = self.chans.get_mut(&ch) {
                    c.peer_eof = true;
                }
            }
            Event::WindowAdjusted { .. } => {}
            Event::PeerClosed { ch } => {
                if let Some(c) = self.chans.get_mut(&ch) {
                    c.stdin = None;
                    c.stdout = None;
                    c.stderr = None;
                    c.pty = None;
                    c.finished = true;
                }
                conn.close(ch);
            }
            Event::Closed { ch } => {
                self.chans.remove(&ch);
            }
            // Issue 5: host key rotation (hostkeys-prove-00@openssh.com).
            Event::GlobalRequest {
                name,
                want_reply,
                data,
            } if name == super::hostkeys_prove::HOSTKEYS_PROVE => {
                let reply = self.proofs.answer(&data, policy);
                if want_reply {
                    conn.reply_global(reply.is_some(), reply.as_deref().unwrap_or_default());
                }
            }
            Event::GlobalRequest {
                name, want_reply, ..
            } => {
                debug!("global request {name} refused");
                if want_reply {
                    conn.reply_global(false, &[]);
                }
            }
            Event::GlobalReply { .. } => {}
        }
    }

    fn open_direct_tcpip(
        &mut self,
        conn: &mut Connection,
        ch: ChannelId,
        host: &str,
        port: u32,
        originator: &str,
        originator_port: u32,
    ) {
        let port16 = u16::try_from(port).ok();
        let allowed = port16.is_some_and(|p| {
            super::forward::may_open(
                &self.settings.forward,
                self.grant.port_forwarding,
                &self.grant.permitopen,
                host,
                p,
            )
        });
        if !allowed {
            info!(
                "refused local port forward: originator {originator} port {originator_port}, target {host} port {port}"
            );
            conn.reject_open(
                ch,
                open_failure::SSH_OPEN_ADMINISTRATIVELY_PROHIBITED,
                "administratively prohibited",
            );
            return;
        }
        if self.chans.len() >= self.settings.max_sessions.max(1) * 16 {
            conn.reject_open(
                ch,
                open_failure::SSH_OPEN_RESOURCE_SHORTAGE,
                "too many channels",
            );
            return;
        }
        let connecting =
            match super::forward::Connecting::start(host, port16.unwrap_or(0), Instant::now()) {
                Ok(c) => c,
                Err(e) => {
                    info!("connect_to {host} port {port}: failed: {e}");
                    conn.reject_open(ch, open_failure::SSH_OPEN_CONNECT_FAILED, &e.to_string());
                    return;
                }
            };
        debug!("direct-tcpip to {host} port {port} from {originator} port {originator_port}");
        self.chans.insert(
            ch,
            Chan {
                connecting: Some(connecting),
                target: format!("{host} port {port}"),
                err_eof: true,
                is_tcp: true,
                ..Chan::default()
            },
        );
        // Answered (confirmed or refused) once the connection is made or has failed.
    }

    /// A `direct-tcpip` connection moved on: answers the channel open when it is made
    /// or has failed.
    fn advance_connect(&mut self, conn: &mut Connection, ch: ChannelId) {
        let Some(c) = self.chans.get_mut(&ch) else {
            return;
        };
        let Some(connecting) = c.connecting.as_mut() else {
            return;
        };
        let failure = match connecting.advance(Instant::now()) {
            Progress::Pending => return,
            Progress::Connected(stream) => match stream.try_clone() {
                Ok(write_half) => {
                    c.connecting = None;
                    c.stdout = Some(File::from(OwnedFd::from(stream)));
                    c.stdin = Some(File::from(OwnedFd::from(write_half)));
                    c.started = true;
                    conn.accept_open(ch);
                    return;
                }
                Err(e) => (open_failure::SSH_OPEN_RESOURCE_SHORTAGE, e),
            },
            Progress::Failed(e) => {
                info!("connect_to {}: failed: {e}", c.target);
                (open_failure::SSH_OPEN_CONNECT_FAILED, e)
            }
        };
        self.chans.remove(&ch);
        conn.reject_open(ch, failure.0, &failure.1.to_string());
    }

    fn user_name(&self) -> String {
        self.user
            .as_ref()
            .map(|u| u.name.clone())
            .unwrap_or_default()
    }

    fn pty_request(
        &mut self,
        ch: ChannelId,
        term: String,
        size: WinSize,
        modes: &[(u8, u32)],
        policy: &mut dyn Policy,
    ) -> bool {
        if self.grant.no_pty || !self.settings.permit_tty {
            return false;
        }
        let Some(c) = self.chans.get_mut(&ch) else {
            return false;
        };
        if c.pty.is_some() || c.started {
            return false;
        }
        // The monitor allocates it and gives it to the user.
        let pty = match policy.pty(size) {
            Ok(p) => p,
            Err(e) => {
                error!("openpty: {e}");
                return false;
            }
        };
        if let Err(e) = os::apply_terminal_modes(pty.slave.as_fd(), modes) {
            debug!("terminal modes: {e}");
        }
        c.term = Some(term);
        c.pty = Some(pty);
        true
    }

    /// The child's environment, in OpenSSH's order (see [`super::environ`]); `forced`
    /// when a command is forced, which keeps untrusted variables out.
    fn environment(
        &self,
        c: &Chan,
        original_command: Option<&[u8]>,
        forced: bool,
    ) -> Vec<(String, String)> {
        let Some(u) = self.user.as_ref() else {
            return Vec::new();
        };
        let path = if u.uid == 0 {
            "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
        } else {
            "/usr/local/bin:/usr/bin:/bin:/usr/games"
        };
        let mut env = Env::default();
        let mut dropped =
            env.set_untrusted(c.env.iter().map(|(k, v)| (k.as_str(), v.as_str())), forced);
        env.set("USER", &u.name);
        env.set("LOGNAME", &u.name);
        env.set("HOME", &u.home.to_string_lossy());
        env.set("PATH", path);
        env.set("MAIL", &format!("/var/mail/{}", u.name));
        env.set("SHELL", &u.shell.to_string_lossy());
        if let Ok(tz) = std::env::var("TZ") {
            env.set("TZ", &tz);
        }
        if c.pty.is_some() {
            env.set("TERM", c.term.as_deref().unwrap_or("dumb"));
        }
        let from_key = self
            .grant
            .environment
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()));
        dropped.extend(env.set_untrusted(from_key, forced));
        let from_file = self.user_environment_file(u);
        dropped.extend(env.set_untrusted(
            from_file.iter().map(|(k, v)| (k.as_str(), v.as_str())),
            forced,
        ));
        let set_env = self
            .settings
            .set_env
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()));
        dropped.extend(env.set_untrusted(set_env, forced));
        for name in dropped {
            verbose!("Dropped environment variable {name}: a command is forced");
        }
        let e = &self.ends;
        env.set(
            "SSH_CLIENT",
            &format!("{} {} {}", e.peer_ip(), e.peer_port(), e.local_port()),
        );
        env.set(
            "SSH_CONNECTION",
            &format!(
                "{} {} {} {}",
                e.peer_ip(),
                e.peer_port(),
                e.local_ip(),
                e.local_port()
            ),
        );
        if let Some(pty) = &c.pty {
            env.set("SSH_TTY", &pty.tty_name);
        }
        if let Some(cmd) = original_command {
            env.set("SSH_ORIGINAL_COMMAND", &String::from_utf8_lossy(cmd));
        }
        env.into_vec()
    }

    /// The message of the day for a login shell on a terminal: `/etc/motd` when
    /// `PrintMotd` is on and the user has no `~/.hushlogin` (as OpenSSH's do_motd).
    fn motd(&self, u: &UserInfo) -> Option<Vec<u8>> {
        use std::io::Read;
        if !self.settings.print_motd || u.home.join(".hushlogin").exists() {
            return None;
        }
        let mut text = Vec::new();
        std::fs::File::open(MOTD_FILE)
            .and_then(|f| {
                f.take(os::process::MAX_GREETING_LEN as u64)
                    .read_to_end(&mut text)
            })
            .ok()?;
        Some(text)
    }

    /// `~/.ssh/environment`, when `PermitUserEnvironment` allows it: read as the user,
    /// without following a final link, bounded (see [`os::read_user_file`]).
    fn user_environment_file(&self, u: &UserInfo) -> Vec<(String, String)> {
        let allow = &self.settings.user_environment;
        if *allow == UserEnvironment::No {
            return Vec::new();
        }
        let path = u.home.join(".ssh/environment");
        let as_user = self.settings.switch_user && u.uid != 0;
        match os::read_user_file(&path, u, as_user, false) {
            Ok(bytes) => {
                parse_environment_file(&String::from_utf8_lossy(&bytes), |n| allow.allows(n))
            }
            Err(e) => {
                crate::policy::rules::log_user_file_error(&u.name, "environment", &path, &e);
                Vec::new()
            }
        }
    }

    fn start(&mut self, ch: ChannelId, command: Option<Vec<u8>>, what: &str) -> bool {
        let Some(user) = self.user.clone() else {
            return false;
        };
        let Some(c) = self.chans.get(&ch) else {
            return false;
        };
        if c.started {
            return false;
        }
        let forced_command = self
            .settings
            .force_command
            .clone()
            .or_else(|| self.grant.command.clone());
        let forced = forced_command.is_some();
        let (command, original) = match forced_command {
            Some(f) => (Some(f.into_bytes()), command.clone()),
            None => (command, None),
        };
        let env = self.environment(c, original.as_deref(), forced);
        let motd = if c.pty.is_some() && command.is_none() {
            self.motd(&user)
        } else {
            None
        };
        let req = SpawnRequest {
            user: &user,
            switch_user: self.settings.switch_user,
            command: command.as_deref(),
            env: &env,
            pty: c.pty.as_ref(),
            cwd: &user.home,
            greeting: motd.as_deref(),
        };
        let child = match os::spawn(&req) {
            Ok(ch) => ch,
            Err(e) => {
                error!("session: failed to start {what} for {}: {e}", user.name);
                return false;
            }
        };
        let peer = self.peer();
        let c = self.chans.get_mut(&ch).expect("checked above");
        c.started = true;
        c.pid = Some(child.pid);
        let to_file = |fd: Option<OwnedFd>| fd.map(File::from);
        if let Some(pty) = c.pty.take() {
            let tty = pty.tty_name.trim_start_matches("/dev/").to_string();
            info!(
                "Starting session: {what} on {tty} for {} from {peer} id {ch}",
                user.name
            );
            let master = File::from(pty.master);
            drop(pty.slave);
            c.stdin = master.try_clone().ok();
            c.stdout = Some(master);
            c.err_eof = true;
            c.is_pty = true;
        } else {
            info!(
                "Starting session: {what} for {} from {peer} id {ch}",
                user.name
            );
            c.stdin = to_file(child.stdin);
            c.stdout = to_file(child.stdout);
            c.stderr = to_file(child.stderr);
            if c.stderr.is_none() {
                c.err_eof = true;
            }
        }
        true
    }
}

impl Channels {
    /// Registers on `turn` the descriptors the loop should wait on; `may_send` is false
    /// while the socket or a key exchange holds output back. Returns the index of the
    /// first, for [`Channels::handle_ready`].
    pub fn watch(&mut self, conn: &Connection, may_send: bool, turn: &mut Turn) -> usize {
        self.poll_map.clear();
        let mut base = None;
        let mut add = |turn: &mut Turn, fd: i32, read: bool| {
            let t = turn.watch(fd, read, !read);
            base.get_or_insert(t.index());
        };
        for (&ch, c) in &self.chans {
            if c.finished {
                continue;
            }
            if let Some(connecting) = &c.connecting {
                let (fd, deadline) = connecting.interest();
                turn.wake_at(deadline);
                if let Some((fd, read)) = fd {
                    add(turn, fd, read);
                    self.poll_map.push((ch, Which::Connect));
                }
                continue;
            }
            let window = conn.send_window(ch) > 0 && may_send;
            if let (Some(f), false) = (&c.stdout, c.out_eof) {
                if window {
                    add(turn, f.as_raw_fd(), true);
                    self.poll_map.push((ch, Which::Out));
                }
            }
            if let (Some(f), false) = (&c.stderr, c.err_eof) {
                if window {
                    add(turn, f.as_raw_fd(), true);
                    self.poll_map.push((ch, Which::Err));
                }
            }
            if let Some(f) = &c.stdin {
                if !c.to_child.is_empty() {
                    add(turn, f.as_raw_fd(), false);
                    self.poll_map.push((ch, Which::In));
                }
            }
        }
        base.unwrap_or(turn.len())
    }

    /// Acts on the readiness reported for the descriptors [`Channels::watch`]
    /// registered (`entries` from the index it returned).
    pub fn handle_ready(&mut self, conn: &mut Connection, entries: &[PollEntry]) {
        let map = std::mem::take(&mut self.poll_map);
        for ((ch, which), e) in map.iter().zip(entries) {
            if !(e.readable || e.writable || e.hangup) {
                continue;
            }
            match which {
                Which::Connect => self.advance_connect(conn, *ch),
                Which::Out => self.read_child(conn, *ch, false),
                Which::Err => self.read_child(conn, *ch, true),
                Which::In => self.write_child(conn, *ch),
            }
        }
    }

    /// Reads what the child has written, as far as the peer's window (and the
    /// connection's bounded transmit queue) allows; several reads in a row while the
    /// pipe keeps delivering full buffers, so a busy channel costs fewer wake-ups.
    fn read_child(&mut self, conn: &mut Connection, ch: ChannelId, stderr: bool) {
        for _ in 0..CHILD_READS_PER_WAKEUP {
            let window = conn.send_window(ch) as usize;
            let Some(c) = self.chans.get_mut(&ch) else {
                return;
            };
            if window == 0 {
                return;
            }
            let file = if stderr { &mut c.stderr } else { &mut c.stdout };
            let Some(f) = file.as_mut() else { return };
            let want = window.min(CHILD_READ_CHUNK);
            let buf = &mut self.read_buf[..want];
            let (eof, more) = match f.read(buf) {
                Ok(0) => (true, false),
                Ok(n) => {
                    let sent = if stderr {
                        conn.send_extended_data(ch, 1, &buf[..n])
                    } else {
                        conn.send_data(ch, &buf[..n])
                    };
                    debug_assert_eq!(sent, n, "read no more than the window");
                    (false, n == want)
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => (false, false),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => (false, true),
                // EIO on a pty master: every slave fd is closed.
                Err(_) => (true, false),
            };
            if eof {
                if stderr {
                    c.err_eof = true;
                    c.stderr = None;
                } else {
                    c.out_eof = true;
                    if !c.is_pty {
                        c.stdout = None;
                    }
                }
                return;
            }
            if !more {
                return;
            }
        }
    }

    fn write_child(&mut self, conn: &mut Connection, ch: ChannelId) {
        let Some(c) = self.chans.get_mut(&ch) else {
            return;
        };
        let Some(f) = c.stdin.as_mut() else {
            let n = c.to_child.len();
            c.to_child.clear();
            conn.consumed(ch, n as u32);
            return;
        };
        let mut written = 0;
        while written < c.to_child.len() {
            match f.write(&c.to_child[written..]) {
                Ok(0) => break,
                Ok(n) => written += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => {
                    // The child closed its input: drop what is left.
                    written = c.to_child.len();
                    c.stdin = None;
                    break;
                }
            }
        }
        if written > 0 {
            c.to_child.drain(..written);
            conn.consumed(ch, written as u32);
        }
    }

    /// Work that needs no readiness: closing a child's input after the peer's EOF,
    /// draining a PTY after its process exited, and ending finished channels with
    /// exit-status, EOF and CLOSE, in that order.
    pub fn progress(&mut self, conn: &mut Connection) {
        let ids: Vec<ChannelId> = self.chans.keys().copied().collect();
        let now = Instant::now();
        for ch in ids {
            let c = &self.chans[&ch];
            if let Some(connecting) = &c.connecting {
                if now >= connecting.interest().1 {
                    self.advance_connect(conn, ch);
                }
                continue;
            }
            if c.exit.is_some() && c.is_pty && !c.out_eof {
                self.drain_pty(conn, ch);
            }
            let c = self.chans.get_mut(&ch).expect("exists");
            if c.peer_eof && c.to_child.is_empty() && !c.is_pty && c.stdin.is_some() {
                if c.is_tcp {
                    // The other half of the socket may still be read: half-close it.
                    if let Some(f) = &c.stdin {
                        let _ = nix::sys::socket::shutdown(
                            f.as_raw_fd(),
                            nix::sys::socket::Shutdown::Write,
                        );
                    }
                }
                c.stdin = None;
            }
            if c.is_tcp {
                if c.finished {
                    continue;
                }
                if c.out_eof && !c.eof_sent {
                    conn.send_eof(ch);
                    c.eof_sent = true;
                }
                // Done when the destination has nothing more to say and the peer's data
                // has been delivered (or cannot be: the destination stopped reading).
                if c.out_eof && (c.stdin.is_none() || c.peer_eof) && c.to_child.is_empty() {
                    conn.close(ch);
                    c.finished = true;
                    c.stdin = None;
                    c.stdout = None;
                }
                continue;
            }
            if c.finished || !c.started {
                continue;
            }
            if c.exit.is_some() && c.out_eof && c.err_eof {
                match c.exit.take().expect("checked") {
                    ExitKind::Exited(code) => conn.send_exit_status(ch, code as u32),
                    ExitKind::Signaled {
                        signal,
                        core_dumped,
                    } => conn.send_exit_signal(ch, &signal, core_dumped, ""),
                }
                conn.send_eof(ch);
                conn.close(ch);
                c.finished = true;
                c.stdin = None;
                c.stdout = None;
                c.stderr = None;
            }
        }
    }

    /// After the session's process exited, sends what its pty still holds; a
    /// process that keeps the pty open does not keep the channel open.
    fn drain_pty(&mut self, conn: &mut Connection, ch: ChannelId) {
        for _ in 0..1024 {
            let window = conn.send_window(ch) as usize;
            if window == 0 {
                return;
            }
            let Some(c) = self.chans.get_mut(&ch) else {
                return;
            };
            let Some(f) = c.stdout.as_mut() else {
                c.out_eof = true;
                return;
            };
            let mut buf = vec![0u8; window.min(CHILD_READ_CHUNK)];
            match f.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    conn.send_data(ch, &buf[..n]);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => break,
            }
        }
        if let Some(c) = self.chans.get_mut(&ch) {
            c.out_eof = true;
        }
    }

    /// Collects the exit status of children that ended (after SIGCHLD).
    pub fn reap(&mut self) {
        for c in self.chans.values_mut() {
            if let (Some(pid), None, false) = (c.pid, &c.exit, c.finished) {
                match os::try_wait(pid) {
                    Ok(Some(kind)) => c.exit = Some(kind),
                    Ok(None) => {}
                    Err(e) => {
                        debug!("waitpid {pid}: {e}");
                        c.exit = Some(ExitKind::Exited(255));
                    }
                }
            }
        }
    }

    /// The connection is over: hang up every child still running.
    pub fn hangup_all(&mut self) {
        for c in self.chans.values_mut() {
            c.stdin = None;
            c.stdout = None;
            c.stderr = None;
            c.pty = None;
            if let (Some(pid), None) = (c.pid, &c.exit) {
                let _ = os::signal_by_name(pid, "HUP");
                c.exit = Some(ExitKind::Exited(255));
            }
        }
    }
}
