//! The monitor: the session process, root (when the daemon is), one per connection.
//!
//! It never reads the network. It starts the pre-auth child ([`crate::preauth`]),
//! answers its questions from [`Local`] (the host keys, the user database, the users'
//! `authorized_keys`), and enforces `LoginGraceTime`. When its own verdict let a user
//! in and the child hands the transport over, it starts the post-auth child
//! ([`crate::postauth`]) as that user, gives it the transport, and answers its
//! questions (signatures for rekeys, host-key proofs, terminals) until it exits. Then
//! it gives the terminals back and exits with the child's status.
//!
//! Each request is checked against the [`phase::Phase`] first: a request out of its
//! phase, a frame that does not decode, or one cut short ends the connection, with a
//! log line. So does a child killed by the sandbox (a forbidden system call).

pub mod phase;
pub mod privsep;
#[cfg(test)]
mod tests;

use crate::conn::{Endpoints, SessionSettings, EXIT_FAILED};
use crate::ipc::{Channel, FromMonitor, ToMonitor};
use crate::os::{self, ExitKind, Identity, SessionImage, WinSize};
use crate::policy::{KbdAnswer, KbdStep, Local, Policy, Rules};
use crate::reactor::Reactor;
use phase::Phase;
use sisu_kex::moduli::GroupRequest;
use sisu_kex::HostKeyAlg;
use std::fs::File;
use std::io::{self, Write};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::time::{Duration, Instant};
use zeroize::Zeroize;

/// How long the monitor waits for the rest of a frame a child has started.
pub const IPC_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a child that closed its channel may take to exit before it is killed.
pub const CHILD_EXIT_WAIT: Duration = Duration::from_secs(5);

/// What the monitor needs for one connection.
pub struct MonitorArgs<'a> {
    /// Everything resolved from the configuration; the host keys with their private
    /// halves (or agent).
    pub settings: SessionSettings,
    /// The connection's socket (read side, write side).
    pub socket: (File, File),
    /// Its ends.
    pub ends: Endpoints,
    /// The listener's start-up notification pipe (one byte once a user is in).
    pub startup_notify: Option<File>,
    /// The configuration, as the children read it on fd 4.
    pub config: &'a [u8],
    /// The arguments the children are started with (they add `-Z ROLE`).
    pub child_args: Vec<String>,
    /// The daemon's own binary, when `/proc/self/exe` is not there.
    pub exe: std::path::PathBuf,
    /// Protocol 1's host and server keys, when protocol 1 is served.
    pub v1: Option<crate::v1::keys::V1Keys>,
}

/// How serving one child ended.
enum End {
    /// The pre-auth child handed over the transport.
    Handover(Vec<u8>),
    /// The child exited (or was killed).
    Exited(ExitKind),
    /// The connection is over for another reason (logged).
    Over,
}

struct Monitor {
    local: Local,
    ch: Channel,
    phase: Phase,
    reactor: Reactor,
    peer: String,
    child: i32,
}

/// Serves one connection as its monitor; the session process's exit status.
pub fn run(args: MonitorArgs<'_>) -> i32 {
    match serve(args) {
        Ok(status) => status,
        Err(e) => {
            error!("monitor: {e}");
            EXIT_FAILED
        }
    }
}

fn serve(args: MonitorArgs<'_>) -> io::Result<i32> {
    let MonitorArgs {
        settings,
        socket,
        ends,
        startup_notify,
        config,
        child_args,
        exe,
        v1,
    } = args;
    // TCP wrappers, before anything is said to the client (as libwrap in sshd).
    if let Err(line) = crate::hosts_access::check_connection(ends.peer.map(|a| a.ip())) {
        crate::log::log(crate::log::Level::Info, &line);
        return Ok(EXIT_FAILED);
    }
    let image = SessionImage::current(&exe);
    let config_fd = os::config_memfd(config)?;
    let sandbox = privsep::sandbox_spec()?;
    let key_blobs: Vec<Vec<u8>> = settings
        .host_keys
        .iter()
        .map(|k| k.public_blob().to_vec())
        .collect();
    let grace = settings.login_grace_time.map(|d| Instant::now() + d);
    let rules = Rules::new(settings.auth.clone(), ends, settings.per_user);
    let mut local = Local::new(settings.host_keys, settings.moduli, rules, ends);
    if let Some(keys) = v1 {
        local.set_v1_keys(keys);
    }
    let v1_keys = local.v1_public_keys();
    let reactor = Reactor::new(&[libc::SIGCHLD, libc::SIGTERM, libc::SIGHUP, libc::SIGINT])?;

    let (ch, theirs) = Channel::pair()?;
    let sock = (socket.0.as_fd(), socket.1.as_fd());
    let pid = os::spawn_monitor_child(
        &image,
        &with_role(&child_args, "preauth"),
        sock,
        theirs.socket().as_fd(),
        config_fd.as_fd(),
        None,
    )?;
    drop(theirs);
    ch.set_timeout(Some(IPC_TIMEOUT))?;
    let mut m = Monitor {
        local,
        ch,
        phase: Phase::START,
        reactor,
        peer: ends.peer_desc(),
        child: pid,
    };
    m.send(
        &FromMonitor::Setup {
            host_keys: key_blobs.clone(),
            identity: sandbox.identity,
            chroot: sandbox.chroot,
            v1_keys,
        },
        &[],
    )?;
    let mut state = match m.serve_child(grace) {
        End::Handover(state) => state,
        End::Exited(kind) => {
            m.log_preauth_exit(&kind);
            return Ok(EXIT_FAILED);
        }
        End::Over => return Ok(EXIT_FAILED),
    };
    m.wait_child();
    if let Some(mut n) = startup_notify {
        let _ = n.write_all(b"a");
    }

    let Some((user, grant)) = m.local.authenticated().cloned() else {
        return Ok(EXIT_FAILED);
    };
    let info =
        m.local.rules_mut().user(&user).ok_or_else(|| {
            io::Error::other(format!("user {user} vanished after authentication"))
        })?;
    let identity = os::is_root().then(|| Identity {
        groups: info.groups.clone(),
        gid: info.gid,
        uid: info.uid,
    });
    let chroot = m
        .local
        .rules_mut()
        .channel_settings(&user)
        .unwrap_or_else(|| settings.channels.clone())
        .chroot_directory;
    if chroot.is_some() && identity.is_none() {
        error!(
            "ChrootDirectory for {user} from {}: the server lacks the privileges to chroot; closing the connection",
            m.peer
        );
        return Ok(EXIT_FAILED);
    }
    // UsePAM: the session opens before the user's processes exist, so that they
    // inherit what it sets up (pam_limits); a session that cannot open is no login.
    let (pam_env, pam_messages) = match m.local.open_pam_session() {
        Ok(v) => v,
        Err(e) => {
            error!(
                "PAM: {e} for {user} from {}; closing the connection",
                m.peer
            );
            return Ok(EXIT_FAILED);
        }
    };
    // With ChrootDirectory the child starts as root and becomes the user itself, right
    // after its chroot and before it reads the network: the held binary could not be
    // started from inside the chroot.
    let spawn_as = if chroot.is_some() {
        None
    } else {
        identity.as_ref()
    };
    let (ch, theirs) = Channel::pair()?;
    m.child = os::spawn_monitor_child(
        &image,
        &with_role(&child_args, "postauth"),
        sock,
        theirs.socket().as_fd(),
        config_fd.as_fd(),
        spawn_as,
    )?;
    drop(theirs);
    ch.set_timeout(Some(IPC_TIMEOUT))?;
    m.ch = ch;
    m.phase = Phase::Postauth;
    let start = FromMonitor::Start {
        user,
        grant: grant.to_bytes(),
        state: std::mem::take(&mut state),
        host_keys: key_blobs,
        pam_env,
        pam_messages,
    };
    let sent = m.send(&start, &[]);
    if let FromMonitor::Start { mut state, .. } = start {
        state.zeroize();
    }
    state.zeroize();
    sent?;
    let status = match m.serve_child(None) {
        End::Exited(ExitKind::Exited(code)) => code,
        End::Exited(kind) => {
            error!("post-auth child of {} ended: {kind:?}", m.peer);
            EXIT_FAILED
        }
        End::Handover(_) | End::Over => EXIT_FAILED,
    };
    m.local.release_ptys();
    m.local.close_pam_session();
    Ok(status)
}

/// The children's arguments: the session's own, and their role.
fn with_role(args: &[String], role: &str) -> Vec<String> {
    let mut v = args.to_vec();
    v.push("-Z".into());
    v.push(role.into());
    v
}

impl Monitor {
    /// After a verdict: once the user is in, the phase says so (and permits the
    /// handover).
    fn note_authentication(&mut self) {
        if self.local.authenticated().is_some() {
            self.phase = Phase::Preauth {
                user_named: true,
                authenticated: true,
            };
        }
    }

    /// A keyboard-interactive step: prompts, or the verdict.
    fn kbd(&mut self, user: &str, step: KbdStep) -> FromMonitor {
        let reply = match self.local.kbd_interactive(user, step) {
            KbdAnswer::Prompts(request) => FromMonitor::KbdPrompts { request },
            KbdAnswer::Verdict(verdict) => FromMonitor::Verified { verdict },
        };
        self.note_authentication();
        reply
    }

    fn send(&self, m: &FromMonitor, fds: &[i32]) -> io::Result<()> {
        self.ch.send(&m.encode(), fds)
    }

    /// Answers the current child until it hands over, exits, or must be stopped.
    fn serve_child(&mut self, deadline: Option<Instant>) -> End {
        loop {
            let mut turn = self.reactor.turn();
            let ipc = turn.watch(self.ch.as_raw_fd(), true, false);
            if let Some(d) = deadline {
                turn.wake_at(d);
            }
            let ready = match self.reactor.wait(turn) {
                Ok(r) => r,
                Err(e) => {
                    error!("monitor: poll: {e}");
                    self.kill_child();
                    return End::Over;
                }
            };
            for sig in &ready.signals {
                match *sig {
                    libc::SIGCHLD => {}
                    s if self.phase == Phase::Postauth => {
                        // The user's session hangs up its children and ends.
                        let _ = nix::sys::signal::kill(
                            nix::unistd::Pid::from_raw(self.child),
                            nix::sys::signal::Signal::try_from(s).ok(),
                        );
                    }
                    _ => {
                        self.kill_child();
                        return End::Over;
                    }
                }
            }
            // What an exited child sent before it exited is read first: its last
            // log lines, its handover. Its channel then reads as closed.
            if !ready.readable(ipc) {
                if let Ok(Some(kind)) = os::try_wait(self.child) {
                    return End::Exited(kind);
                }
            }
            if deadline.is_some_and(|d| ready.now >= d) {
                info!("Timeout before authentication for {}", self.peer);
                self.kill_child();
                return End::Over;
            }
            if ready.readable(ipc) {
                match self.ch.recv() {
                    Ok(Some(frame)) => {
                        if let Some(end) = self.answer(&frame.bytes, frame.fds) {
                            return end;
                        }
                    }
                    Ok(None) => return self.child_closed(),
                    Err(e) => {
                        error!(
                            "monitor: bad frame from the child of {} {}: {e}; closing the connection",
                            self.peer,
                            self.phase.describe()
                        );
                        self.kill_child();
                        return End::Over;
                    }
                }
            }
        }
    }

    /// The child closed its channel: it is exiting.
    fn child_closed(&mut self) -> End {
        let until = Instant::now() + CHILD_EXIT_WAIT;
        while Instant::now() < until {
            if let Ok(Some(kind)) = os::try_wait(self.child) {
                return End::Exited(kind);
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        self.kill_child();
        match os::try_wait(self.child) {
            Ok(Some(kind)) => End::Exited(kind),
            _ => End::Over,
        }
    }

    /// After a handover: the pre-auth child exits on its own; waits for it.
    fn wait_child(&mut self) {
        if let End::Exited(kind) = self.child_closed() {
            if !matches!(kind, ExitKind::Exited(0)) {
                debug!("pre-auth child after handover: {kind:?}");
            }
        }
    }

    fn kill_child(&mut self) {
        let pid = nix::unistd::Pid::from_raw(self.child);
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGKILL);
        let _ = nix::sys::wait::waitpid(pid, None);
    }

    fn log_preauth_exit(&self, kind: &ExitKind) {
        match kind {
            ExitKind::Exited(_) => {}
            ExitKind::Signaled { signal, .. } if signal == "SYS" => error!(
                "pre-auth child of {} killed by the sandbox: a forbidden system call",
                self.peer
            ),
            ExitKind::Signaled { signal, .. } => {
                error!("pre-auth child of {} killed by signal {signal}", self.peer)
            }
        }
    }

    /// One request: decoded, checked against the phase, answered. `Some` when serving
    /// this child is over.
    fn answer(&mut self, bytes: &[u8], fds: Vec<OwnedFd>) -> Option<End> {
        let attack = |m: &mut Monitor, why: String| {
            error!(
                "monitor: {why} from the child of {} {}; closing the connection",
                m.peer,
                m.phase.describe()
            );
            m.kill_child();
            Some(End::Over)
        };
        if !fds.is_empty() {
            return attack(self, "descriptors sent".into());
        }
        let req = match ToMonitor::decode(bytes) {
            Ok(r) => r,
            Err(e) => return attack(self, e.to_string()),
        };
        if let Err(why) = self.phase.permits(&req) {
            return attack(self, format!("{} request not permitted: {why}", req.name()));
        }
        let reply = match req {
            ToMonitor::Log { level, line } => {
                crate::log::forwarded(level, &line);
                return None;
            }
            ToMonitor::Handover { state } => return Some(End::Handover(state)),
            ToMonitor::Sign {
                key,
                algorithm,
                data,
            } => {
                let Some(alg) = HostKeyAlg::from_name(&algorithm) else {
                    return attack(self, format!("unknown algorithm {algorithm:?}"));
                };
                match self.local.sign(key as usize, alg, &data) {
                    Ok(blob) => FromMonitor::Signature { blob },
                    Err(e) => FromMonitor::Refused { reason: e.0 },
                }
            }
            ToMonitor::GexGroup { min, n, max } => {
                if !(min <= n && n <= max) {
                    return attack(self, format!("group request {min}/{n}/{max}"));
                }
                match self.local.group(GroupRequest { min, n, max }) {
                    Some(g) => FromMonitor::Group {
                        p: g.p().to_vec(),
                        g: g.g().to_vec(),
                    },
                    None => FromMonitor::NoGroup,
                }
            }
            ToMonitor::User { user } => {
                let a = self.local.user(&user);
                self.phase = Phase::Preauth {
                    user_named: true,
                    authenticated: false,
                };
                FromMonitor::User {
                    valid: a.valid,
                    refuse: a.refuse,
                    banner: a.banner,
                    methods: a.methods,
                    pubkey_algorithms: a.pubkey_algorithms,
                    hostbased_algorithms: a.hostbased_algorithms,
                }
            }
            ToMonitor::Password { user, password } => {
                let verdict = self.local.password(&user, &password);
                self.note_authentication();
                FromMonitor::Verified { verdict }
            }
            ToMonitor::V1SessionKey {
                session_id,
                encrypted,
            } => match self.local.answer_v1_session_key(&session_id, &encrypted) {
                Some(key) => FromMonitor::V1SessionKey { key: key.to_vec() },
                None => {
                    return attack(
                        self,
                        "a protocol 1 session key not served or asked twice".into(),
                    )
                }
            },
            ToMonitor::V1RsaKey { user, modulus } => FromMonitor::V1Challenge {
                challenge: self.local.answer_v1_rsa_key(&user, &modulus),
            },
            ToMonitor::V1RsaResponse { user, response } => {
                let verdict = self.local.answer_v1_rsa_response(&user, &response);
                self.note_authentication();
                FromMonitor::Verified { verdict }
            }
            ToMonitor::Methods { user } => FromMonitor::Methods {
                methods: self.local.next_methods(&user),
            },
            ToMonitor::KbdStart { user, submethods } => {
                self.kbd(&user, KbdStep::Start { submethods })
            }
            ToMonitor::KbdRespond { user, responses } => {
                self.kbd(&user, KbdStep::Respond(responses))
            }
            ToMonitor::KeyOffered {
                user,
                algorithm,
                key,
            } => FromMonitor::Offered {
                allowed: self.local.key_offered(&user, &algorithm, &key),
            },
            ToMonitor::HostbasedVerified(request) => {
                let verdict = self.local.hostbased_verified(&request);
                self.note_authentication();
                FromMonitor::Verified { verdict }
            }
            ToMonitor::KeyVerified(request) => {
                let verdict = self.local.key_verified(&request);
                self.note_authentication();
                FromMonitor::Verified { verdict }
            }
            ToMonitor::ProveHostKey { key, algorithm } => {
                let Some(alg) = HostKeyAlg::from_name(&algorithm) else {
                    return attack(self, format!("unknown algorithm {algorithm:?}"));
                };
                match self.local.prove_host_key(&key, alg) {
                    Some(blob) => FromMonitor::Signature { blob },
                    None => FromMonitor::Refused {
                        reason: "not one of the host keys".into(),
                    },
                }
            }
            ToMonitor::Pty {
                cols,
                rows,
                width_px,
                height_px,
            } => {
                let size = WinSize {
                    cols,
                    rows,
                    width_px,
                    height_px,
                };
                match self.local.pty(size) {
                    Ok(pty) => {
                        let fds = [pty.master.as_raw_fd(), pty.slave.as_raw_fd()];
                        let m = FromMonitor::Pty {
                            tty: pty.tty_name,
                            last_login: pty.last_login,
                        };
                        if self.send(&m, &fds).is_err() {
                            return attack(self, "a broken channel".into());
                        }
                        return None;
                    }
                    Err(e) => FromMonitor::Refused {
                        reason: e.to_string(),
                    },
                }
            }
        };
        if self.send(&reply, &[]).is_err() {
            self.kill_child();
            return Some(End::Over);
        }
        None
    }
}
