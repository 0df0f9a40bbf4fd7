//! The channels of one connection and what is behind them. Each kind implements one
//! trait (`kind.rs`): session channels with their PTYs, shells, commands and
//! subsystems (`session.rs`, `internal-sftp` in `sftp.rs`), socket channels of every
//! forwarding (`tcpip.rs`); what they share is their pipes (`pipes.rs`), and the loop's
//! side of them (polling, readiness, ends, reaping) is `pump.rs`. The sockets we listen
//! on for the client (remote forwards, the agent) are `listeners.rs`, X11 displays
//! `x11.rs`, ChannelTimeout and UnusedConnectionTimeout `timeouts.rs`. This module
//! holds the channel table and routes the connection's events.

mod kind;
mod linger;
mod listeners;
mod pipes;
mod pump;
mod session;
mod sftp;
pub use session::{nologin_text, NOLOGIN_FILES};
mod tcpip;
mod timeouts;
mod x11;
pub use x11::X11Settings;

use kind::ChannelBackend;
use session::Session;

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
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::time::Instant;

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
    /// `PrintLastLog`.
    pub print_last_log: bool,
    /// `PermitUserRC`.
    pub permit_user_rc: bool,
    /// `ClientAliveInterval` (when not 0) and `ClientAliveCountMax`.
    pub client_alive: Option<(std::time::Duration, u32)>,
    /// `ChrootDirectory`, as written (with `%` tokens); applied by the post-auth child
    /// before it serves the user.
    pub chroot_directory: Option<String>,
    /// `ExposeAuthInfo`.
    pub expose_auth_info: bool,
    /// The text of `/etc/nologin` (or `/run/nologin`) for a user other than root, read
    /// when the post-auth child starts, before any `ChrootDirectory` (as sshd reads
    /// it): every session shows it instead of running anything.
    pub nologin: Option<Vec<u8>>,
    /// `UsePAM`: what PAM's modules set in the environment (pam_env's
    /// `/etc/environment` and `/etc/security/pam_env.conf`), from the monitor.
    pub pam_env: Vec<(String, String)>,
    /// `X11Forwarding`, `X11DisplayOffset`, `X11UseLocalhost`, `XAuthLocation`.
    pub x11: X11Settings,
    /// `ChannelTimeout`: `(type pattern, seconds)`, the first match applies.
    pub channel_timeout: Vec<(String, u64)>,
    /// `UnusedConnectionTimeout`.
    pub unused_connection_timeout: Option<std::time::Duration>,
    /// `UsePAM`: what PAM's modules said while the session opened (pam_motd's message of
    /// the day, pam_mail's "You have mail"), shown as the motd is.
    pub pam_messages: String,
}

/// What a polled descriptor is to its channel.
enum Which {
    /// What [`ChannelBackend::pending`] named.
    Pending,
    Out,
    Err,
    In,
    /// The listening socket at this index of `Channels::listeners`.
    Listen(usize),
    /// The descriptor at this index of `Channels::lingering`.
    Linger(usize),
}

/// The session channels of one connection.
pub struct Channels {
    settings: ChannelSettings,
    ends: Endpoints,
    chans: BTreeMap<ChannelId, Box<dyn ChannelBackend>>,
    user: Option<UserInfo>,
    grant: Grant,
    /// `ExposeAuthInfo`'s file, once written.
    auth_info: Option<super::auth_info::AuthInfoFile>,
    poll_map: Vec<(ChannelId, Which)>,
    read_buf: Vec<u8>,
    /// Issue 5: the host keys for `hostkeys-00@openssh.com` and its proofs.
    proofs: super::hostkeys_prove::HostKeyProofs,
    /// Remote forwards and the agent socket.
    listeners: Vec<listeners::Listening>,
    /// `SSH_AUTH_SOCK`, once the client asked for agent forwarding.
    agent_path: Option<String>,
    /// Data of closed channels still being written out.
    lingering: Vec<linger::Lingering>,
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
            auth_info: None,
            poll_map: Vec::new(),
            read_buf: vec![0u8; pipes::READ_CHUNK],
            proofs: Default::default(),
            listeners: Vec::new(),
            agent_path: None,
            lingering: Vec::new(),
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
        self.write_auth_info();
    }

    /// The restrictions of the `authorized_keys` line that authenticated the user.
    pub fn set_grant(&mut self, grant: Grant) {
        self.grant = grant;
        self.write_auth_info();
    }

    /// With `ExposeAuthInfo`, writes the file `SSH_USER_AUTH` will name (once).
    fn write_auth_info(&mut self) {
        if !self.settings.expose_auth_info
            || self.auth_info.is_some()
            || self.grant.auth_info.is_empty()
        {
            return;
        }
        match super::auth_info::AuthInfoFile::create(&self.grant.auth_info) {
            Ok(f) => self.auth_info = Some(f),
            Err(e) => error!("ExposeAuthInfo: cannot write the file: {e}"),
        }
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
                    let sessions = self.chans.values().filter(|c| c.is_session()).count();
                    if sessions >= self.settings.max_sessions {
                        error!("no more sessions");
                        conn.reject_open(
                            ch,
                            open_failure::SSH_OPEN_RESOURCE_SHORTAGE,
                            "too many sessions",
                        );
                    } else {
                        self.chans.insert(ch, Box::<Session>::default());
                        conn.accept_open(ch);
                    }
                }
                ChannelKind::DirectTcpip {
                    host,
                    port,
                    originator,
                    originator_port,
                } => self.open_direct_tcpip(conn, ch, &host, port, &originator, originator_port),
                ChannelKind::DirectStreamlocal { path } => {
                    self.open_direct_streamlocal(conn, ch, &path)
                }
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
                    && self.session(ch).is_some_and(|c| {
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
                    Some(c) => {
                        info!("subsystem request for {name} by user {}", self.user_name());
                        let ok = self.start(ch, Some(c.into_bytes()), "subsystem");
                        if let (true, Some(s)) = (ok, self.session(ch)) {
                            s.running = Some(format!("subsystem:{name}"));
                        }
                        ok
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
                if let Some(c) = self.session(ch) {
                    if let Some(p) = &c.pty {
                        let _ = os::set_winsize(p.master.as_fd(), size);
                    } else if let (true, Some(m)) = (c.pipes.is_pty, &c.pipes.stdout) {
                        let _ = os::set_winsize(m.as_fd(), size);
                    }
                }
            }
            Event::Signal { ch, name } => {
                if let Some(c) = self.session(ch) {
                    if let (Some(pid), None) = (c.pid, &c.exit) {
                        let _ = os::signal_by_name(pid, &name);
                    }
                }
            }
            Event::AgentRequest { ch, want_reply } => {
                let ok = self.agent_request(ch);
                if want_reply {
                    conn.reply_request(ch, ok);
                }
            }
            Event::X11Request {
                ch,
                want_reply,
                single_connection,
                auth_protocol,
                auth_cookie,
                screen,
            } => {
                let ok =
                    self.x11_request(ch, single_connection, &auth_protocol, &auth_cookie, screen);
                if want_reply {
                    conn.reply_request(ch, ok);
                }
            }
            Event::OpenConfirmed { ch } => debug!("channel {ch}: open confirmed"),
            Event::OpenFailed {
                ch, description, ..
            } => self.open_failed(ch, &description),
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
                    c.pipes_mut().on_data(conn, ch, &data);
                }
            }
            Event::ExtendedData { ch, data, .. } => conn.consumed(ch, data.len() as u32),
            Event::Eof { ch } => {
                if let Some(c) = self.chans.get_mut(&ch) {
                    c.pipes_mut().peer_eof = true;
                }
            }
            Event::WindowAdjusted { .. } => {}
            Event::PeerClosed { ch } => {
                if let Some(c) = self.chans.get_mut(&ch) {
                    // What the peer sent before its CLOSE still goes where it was for.
                    if self.lingering.len() < linger::MAX_LINGERING {
                        if let Some(l) = linger::Lingering::take(c.pipes_mut(), Instant::now()) {
                            self.lingering.push(l);
                        }
                    }
                    c.peer_closed();
                }
                conn.close(ch);
            }
            Event::Closed { ch } => {
                if self.chans.remove(&ch).is_some_and(|c| c.is_session()) {
                    self.close_x11(ch);
                }
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
                name,
                want_reply,
                data,
            } => self.on_global_request(conn, &name, want_reply, &data),
            Event::GlobalReply { .. } => {}
        }
    }
}
