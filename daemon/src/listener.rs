//! The listener: bind, accept, start one session process per connection, reap
//! children, apply `MaxStartups`, and handle SIGTERM / SIGHUP.

use crate::os::{self, PollEntry, SignalPipe};
use nix::sys::socket::{self, sockopt, AddressFamily, SockFlag, SockType, SockaddrStorage};
use std::collections::HashSet;
use std::net::{IpAddr, SocketAddr, TcpListener};
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};

/// Backlog of each listening socket.
const LISTEN_BACKLOG: usize = 128;

/// How the listener runs.
pub struct ListenerSettings {
    /// Addresses to bind.
    pub addrs: Vec<(String, u16)>,
    /// `MaxStartups`' last number: unauthenticated sessions beyond it are dropped.
    pub max_startups: u32,
    /// `PidFile` (None for `none`, or in debug mode).
    pub pid_file: Option<PathBuf>,
    /// Whether to detach (no `-D`).
    pub detach: bool,
    /// The arguments to start a session process with (our own, plus `-R`).
    pub session_args: Vec<String>,
}

fn bind_one(host: &str, port: u16) -> Result<TcpListener, String> {
    let ip: IpAddr = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse()
        .map_err(|_| format!("Bad address {host}: host names are not supported yet"))?;
    let addr = SocketAddr::new(ip, port);
    let family = if ip.is_ipv6() {
        AddressFamily::Inet6
    } else {
        AddressFamily::Inet
    };
    let fd: OwnedFd = socket::socket(family, SockType::Stream, SockFlag::SOCK_CLOEXEC, None)
        .map_err(|e| format!("socket: {e}"))?;
    let _ = socket::setsockopt(&fd, sockopt::ReuseAddr, &true);
    if ip.is_ipv6() {
        let _ = socket::setsockopt(&fd, sockopt::Ipv6V6Only, &true);
    }
    let sa = SockaddrStorage::from(addr);
    socket::bind(fd.as_raw_fd(), &sa)
        .map_err(|e| format!("Bind to port {port} on {host} failed: {}.", e.desc()))?;
    socket::listen(
        &fd,
        socket::Backlog::new(LISTEN_BACKLOG as i32).unwrap_or(socket::Backlog::MAXCONN),
    )
    .map_err(|e| format!("listen on {host} port {port}: {e}"))?;
    let l = TcpListener::from(fd);
    l.set_nonblocking(true).map_err(|e| e.to_string())?;
    Ok(l)
}

/// Binds, (maybe) detaches, and serves until SIGTERM. Returns the process exit code.
pub fn run(settings: ListenerSettings) -> i32 {
    let mut listeners = Vec::new();
    for (host, port) in &settings.addrs {
        match bind_one(host, *port) {
            Ok(l) => {
                info!("Server listening on {host} port {port}.");
                listeners.push(l);
            }
            Err(e) => error!("{e}"),
        }
    }
    if listeners.is_empty() {
        fatal!("Cannot bind any address.");
        return 255;
    }
    if settings.detach {
        if let Err(e) = os::daemonize() {
            fatal!("daemon() failed: {e}");
            return 255;
        }
    }
    if let Some(p) = &settings.pid_file {
        if let Err(e) = os::write_pid_file(p) {
            error!("Couldn't create pid file \"{}\": {e}", p.display());
        }
    }
    let signals = match SignalPipe::new(&[libc::SIGTERM, libc::SIGINT, libc::SIGHUP, libc::SIGCHLD])
    {
        Ok(s) => s,
        Err(e) => {
            fatal!("signal setup: {e}");
            return 255;
        }
    };
    let exe = std::env::current_exe().unwrap_or_else(|_| PathBuf::from("/proc/self/exe"));
    let mut children: HashSet<i32> = HashSet::new();
    loop {
        let mut entries: Vec<PollEntry> = listeners
            .iter()
            .map(|l| PollEntry::new(l.as_raw_fd(), true, false))
            .collect();
        entries.push(PollEntry::new(signals.fd().as_raw_fd(), true, false));
        if let Err(e) = os::poll_fds(&mut entries, None) {
            if e.kind() != std::io::ErrorKind::Interrupted {
                error!("poll: {e}");
            }
            continue;
        }
        if entries.last().is_some_and(|e| e.readable) {
            for sig in signals.drain() {
                match sig {
                    libc::SIGCHLD => {
                        for (pid, _) in os::reap_children() {
                            children.remove(&pid);
                        }
                    }
                    libc::SIGHUP => {
                        info!("Received SIGHUP; restarting.");
                        drop(listeners);
                        remove_pid_file(settings.pid_file.as_deref());
                        return restart();
                    }
                    other => {
                        info!("Received signal {other}; terminating.");
                        remove_pid_file(settings.pid_file.as_deref());
                        return 0;
                    }
                }
            }
        }
        for (i, l) in listeners.iter().enumerate() {
            if !entries[i].readable {
                continue;
            }
            // Accept everything pending, a bounded number at a time.
            for _ in 0..64 {
                let (sock, peer) = match l.accept() {
                    Ok(x) => x,
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                    Err(e) => {
                        error!("accept: {e}");
                        break;
                    }
                };
                let local = sock.local_addr().ok();
                if children.len() as u32 >= settings.max_startups {
                    verbose!(
                        "drop connection #{} from [{}]:{} on [{}]:{} past MaxStartups",
                        children.len(),
                        peer.ip(),
                        peer.port(),
                        local.map(|a| a.ip().to_string()).unwrap_or_default(),
                        local.map(|a| a.port()).unwrap_or(0)
                    );
                    continue;
                }
                let _ = sock.set_nonblocking(false);
                match os::spawn_session_process(&exe, &settings.session_args, OwnedFd::from(sock)) {
                    Ok(pid) => {
                        children.insert(pid);
                    }
                    Err(e) => error!("session process for {peer}: {e}"),
                }
            }
        }
    }
}

fn remove_pid_file(p: Option<&Path>) {
    if let Some(p) = p {
        let _ = std::fs::remove_file(p);
    }
}

/// Re-executes the daemon with its original arguments (SIGHUP), as OpenSSH does.
fn restart() -> i32 {
    use std::os::unix::process::CommandExt;
    let mut args = std::env::args();
    let exe = std::env::current_exe().unwrap_or_else(|_| PathBuf::from("/proc/self/exe"));
    let _ = args.next();
    let err = std::process::Command::new(exe).args(args).exec();
    fatal!("restart failed: {err}");
    255
}
