//! Session channels: PTY requests, the environment, the message of the day, starting
//! the user's shell, command or subsystem, and the end of a session (exit status,
//! EOF, CLOSE).

use super::kind::ChannelBackend;
use super::pipes::Pipes;
use super::*;

/// A session channel: the process behind it, maybe on a PTY.
#[derive(Default)]
pub(super) struct Session {
    pub pipes: Pipes,
    /// The PTY asked for with pty-req, until the process starts on it.
    pub pty: Option<Pty>,
    /// Its `TERM`.
    pub term: Option<String>,
    /// Variables the client sent (`env` requests that AcceptEnv let through).
    pub env: Vec<(String, String)>,
    /// The process, once started.
    pub pid: Option<i32>,
    /// How it ended (not yet reported).
    pub exit: Option<ExitKind>,
    /// A shell, command or subsystem has been started.
    pub started: bool,
    /// Its X11 display, after an `x11-req`.
    pub x11: Option<super::x11::X11Display>,
    /// What runs, for `ChannelTimeout`: `shell`, `command`, `subsystem:NAME`.
    pub running: Option<String>,
}

impl ChannelBackend for Session {
    fn pipes(&self) -> &Pipes {
        &self.pipes
    }

    fn pipes_mut(&mut self) -> &mut Pipes {
        &mut self.pipes
    }

    fn is_session(&self) -> bool {
        true
    }

    fn timeout_type(&self) -> String {
        match &self.running {
            Some(r) => format!("session:{r}"),
            None => "session".into(),
        }
    }

    fn as_session(&mut self) -> Option<&mut Session> {
        Some(self)
    }

    /// The child's input is closed after the peer's EOF (a PTY's is not: the process
    /// reads the terminal), a PTY is drained once its process exited, and a session ends
    /// with exit-status (or exit-signal), EOF and CLOSE once the process exited and its
    /// output is at its end.
    fn progress(&mut self, conn: &mut Connection, ch: ChannelId) {
        let p = &mut self.pipes;
        if self.exit.is_some() && p.is_pty && !p.out_eof {
            p.drain_pty(conn, ch);
        }
        if p.peer_eof && p.to_child.is_empty() && !p.is_pty && p.stdin.is_some() {
            p.stdin = None;
        }
        if p.finished || !self.started {
            return;
        }
        if p.out_eof && p.err_eof {
            let Some(exit) = self.exit.take() else {
                return;
            };
            match exit {
                ExitKind::Exited(code) => conn.send_exit_status(ch, code as u32),
                ExitKind::Signaled {
                    signal,
                    core_dumped,
                } => conn.send_exit_signal(ch, &signal, core_dumped, ""),
            }
            conn.send_eof(ch);
            conn.close(ch);
            p.finished = true;
            p.close_all();
        }
    }

    fn reap(&mut self) {
        if let (Some(pid), None, false) = (self.pid, &self.exit, self.pipes.finished) {
            match os::try_wait(pid) {
                Ok(Some(kind)) => self.exit = Some(kind),
                Ok(None) => {}
                Err(e) => {
                    debug!("waitpid {pid}: {e}");
                    self.exit = Some(ExitKind::Exited(255));
                }
            }
        }
    }

    fn peer_closed(&mut self) {
        self.pipes.close_all();
        self.pipes.finished = true;
        self.pty = None;
    }

    /// Closes the descriptors and hangs up the process, as a terminal line would.
    fn hang_up(&mut self) {
        self.pipes.close_all();
        self.pty = None;
        if let (Some(pid), None) = (self.pid, &self.exit) {
            let _ = os::signal_by_name(pid, "HUP");
            self.exit = Some(ExitKind::Exited(255));
        }
    }
}

impl Channels {
    /// The session behind `ch`, if it is one.
    pub(super) fn session(&mut self, ch: ChannelId) -> Option<&mut Session> {
        self.chans.get_mut(&ch).and_then(|c| c.as_session())
    }

    pub(super) fn user_name(&self) -> String {
        self.user
            .as_ref()
            .map(|u| u.name.clone())
            .unwrap_or_default()
    }

    pub(super) fn pty_request(
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
        let Some(c) = self.session(ch) else {
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
    pub(super) fn environment(
        &self,
        c: &Session,
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
        // What PAM's modules set (the administrator's), as OpenSSH copies it.
        for (k, v) in &self.settings.pam_env {
            env.set(k, v);
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
        if let Some(x) = &c.x11 {
            env.set("DISPLAY", &x.display);
        }
        if let Some(p) = &self.agent_path {
            env.set("SSH_AUTH_SOCK", p);
        }
        if let Some(f) = &self.auth_info {
            env.set("SSH_USER_AUTH", &f.path().display().to_string());
        }
        env.into_vec()
    }

    /// What a login shell on a terminal shows first, unless the user has a
    /// `~/.hushlogin`: the previous login (`PrintLastLog`, from the monitor's lastlog
    /// read) and `/etc/motd` (`PrintMotd`), as OpenSSH's do_login.
    pub(super) fn motd(&self, u: &UserInfo, last_login: Option<&str>) -> Option<Vec<u8>> {
        use std::io::Read;
        if u.home.join(".hushlogin").exists() {
            return None;
        }
        let mut text = Vec::new();
        // As sshd with UsePAM: what PAM's session modules said (pam_motd's message of
        // the day on Debian, where PrintMotd is no), then the last login
        // (PrintLastLog), then /etc/motd (PrintMotd).
        if !self.settings.pam_messages.is_empty() {
            text.extend_from_slice(self.settings.pam_messages.as_bytes());
            if !text.ends_with(b"\n") {
                text.push(b'\n');
            }
        }
        if let (true, Some(line)) = (self.settings.print_last_log, last_login) {
            text.extend_from_slice(line.as_bytes());
            text.push(b'\n');
        }
        if self.settings.print_motd {
            let _ = std::fs::File::open(MOTD_FILE).and_then(|f| {
                f.take(os::process::MAX_GREETING_LEN as u64)
                    .read_to_end(&mut text)
            });
        }
        (!text.is_empty()).then_some(text)
    }

    /// `~/.ssh/environment`, when `PermitUserEnvironment` allows it: read as the user,
    /// without following a final link, bounded (see [`os::read_user_file`]).
    pub(super) fn user_environment_file(&self, u: &UserInfo) -> Vec<(String, String)> {
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

    pub(super) fn start(&mut self, ch: ChannelId, command: Option<Vec<u8>>, what: &str) -> bool {
        let Some(user) = self.user.clone() else {
            return false;
        };
        // Taken out of the table while it starts (the environment reads `self`).
        let Some(mut backend) = self.chans.remove(&ch) else {
            return false;
        };
        let ok = match backend.as_session() {
            Some(c) if !c.started => self.start_session(ch, c, &user, command, what),
            _ => false,
        };
        self.chans.insert(ch, backend);
        ok
    }

    fn start_session(
        &mut self,
        ch: ChannelId,
        c: &mut Session,
        user: &UserInfo,
        command: Option<Vec<u8>>,
        what: &str,
    ) -> bool {
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
        // `Subsystem sftp internal-sftp` or `ForceCommand internal-sftp` (whatever was
        // asked for then): the SFTP server inside the daemon.
        if let Some(line) = command
            .as_deref()
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .filter(|c| super::sftp::is_internal_sftp(c) && (forced || what == "subsystem"))
        {
            return self.run_internal_sftp(ch, c, user, &line, forced);
        }
        let env = self.environment(c, original.as_deref(), forced);
        let motd = if c.pty.is_some() && command.is_none() {
            self.motd(user, c.pty.as_ref().and_then(|p| p.last_login.as_deref()))
        } else {
            None
        };
        let refusal = self.settings.nologin.clone();
        let x11 = c.x11.as_ref().map(|x| os::rc::X11Cookie {
            xauth: self.settings.x11.xauth_location.clone(),
            auth_display: x.auth_display.clone(),
            protocol: x.protocol.clone(),
            cookie: x.cookie.clone(),
        });
        if refusal.is_some() {
            info!(
                "User {} not allowed because a nologin file exists",
                user.name
            );
        }
        let req = SpawnRequest {
            user,
            switch_user: self.settings.switch_user,
            command: command.as_deref(),
            env: &env,
            pty: c.pty.as_ref(),
            cwd: &user.home,
            greeting: motd.as_deref(),
            refusal: refusal.as_deref(),
            user_rc: self.settings.permit_user_rc
                && self.grant.user_rc
                && self.settings.force_command.is_none()
                && what != "subsystem",
            x11: x11.as_ref(),
        };
        let child = match os::spawn(&req) {
            Ok(ch) => ch,
            Err(e) => {
                error!("session: failed to start {what} for {}: {e}", user.name);
                return false;
            }
        };
        let peer = self.peer();
        c.started = true;
        c.running = Some(what.to_string());
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
            c.pipes.stdin = master.try_clone().ok();
            c.pipes.stdout = Some(master);
            c.pipes.err_eof = true;
            c.pipes.is_pty = true;
        } else {
            info!(
                "Starting session: {what} for {} from {peer} id {ch}",
                user.name
            );
            c.pipes.stdin = to_file(child.stdin);
            c.pipes.stdout = to_file(child.stdout);
            c.pipes.stderr = to_file(child.stderr);
            if c.pipes.stderr.is_none() {
                c.pipes.err_eof = true;
            }
        }
        true
    }
}

/// The files whose presence refuses every session but root's (sshd(8), login(1)).
pub const NOLOGIN_FILES: [&str; 2] = ["/etc/nologin", "/run/nologin"];

/// For a user other than root, when a [`NOLOGIN_FILES`] file exists: its text (at most
/// 64 KiB; a stock sentence when it is empty or cannot be read), which the session
/// shows instead of running anything.
pub fn nologin_text(user: &UserInfo) -> Option<Vec<u8>> {
    use std::io::Read;
    if user.uid == 0 {
        return None;
    }
    let path = NOLOGIN_FILES
        .iter()
        .find(|p| std::fs::symlink_metadata(p).is_ok())?;
    let mut text = Vec::new();
    let _ = std::fs::File::open(path).and_then(|f| {
        f.take(os::process::MAX_GREETING_LEN as u64)
            .read_to_end(&mut text)
    });
    if text.is_empty() {
        text = b"Logins are not allowed at this time.\n".to_vec();
    }
    Some(text)
}
