//! The listener: bind, accept, start one session process per connection, reap
//! children, apply `MaxStartups`, and handle SIGTERM / SIGHUP.

use crate::config::MaxStartups;
use crate::os::{self, PollEntry, SignalPipe};
use nix::sys::socket::{self, sockopt, AddressFamily, SockFlag, SockType, SockaddrStorage};
use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::Write;
use std::net::{IpAddr, SocketAddr, TcpListener};
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};

/// Backlog of each listening socket.
const LISTEN_BACKLOG: usize = 128;

/// How the listener runs.
pub struct ListenerSettings {
    /// Addresses to bind.
    pub addrs: Vec<(String, u16)>,
    /// `MaxStartups start:rate:full` for unauthenticated connections.
    pub max_startups: MaxStartups,
    /// `PerSourceMaxStartups`: unauthenticated connections allowed from one source
    /// block, and `PerSourceNetBlockSize` (IPv4, IPv6 prefix lengths) that makes the
    /// blocks.
    pub per_source: Option<(u32, (u8, u8))>,
    /// `PidFile` (None for `none`, or in debug mode).
    pub pid_file: Option<PathBuf>,
    /// Whether to detach (no `-D`).
    pub detach: bool,
    /// The arguments to start a session process with (our own, plus `-R`).
    pub session_args: Vec<String>,
    /// The configuration as loaded ([`crate::config::Bundle`] bytes), handed to
    /// every session so that it runs on what was loaded, not on what the disk says now.
    pub config: Vec<u8>,
    /// Loads the configuration from disk as a restart would (for SIGHUP): `Err` is the
    /// line to log, with file and line number.
    pub check_config: Box<dyn Fn() -> Result<(), String>>,
    /// Protocol 1's server key, when protocol 1 is served.
    pub server_key: Option<crate::v1::server_key::ServerKeys>,
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
pub fn run(mut settings: ListenerSettings) -> i32 {
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
    // Held from now on: sessions start from this image even once the file is gone.
    let image = os::SessionImage::current(&exe);
    let config = match os::config_memfd(&settings.config) {
        Ok(fd) => fd,
        Err(e) => {
            fatal!("cannot keep the configuration for sessions: {e}");
            return 255;
        }
    };
    let mut children: HashSet<i32> = HashSet::new();
    // Sessions not yet authenticated, each with the read end of its notification pipe
    // and the block of addresses its client is in.
    let mut startups: HashMap<i32, (File, IpAddr)> = HashMap::new();
    loop {
        let mut entries: Vec<PollEntry> = listeners
            .iter()
            .map(|l| PollEntry::new(l.as_raw_fd(), true, false))
            .collect();
        entries.push(PollEntry::new(signals.fd().as_raw_fd(), true, false));
        let startup_pids: Vec<i32> = startups.keys().copied().collect();
        for pid in &startup_pids {
            entries.push(PollEntry::new(startups[pid].0.as_raw_fd(), true, false));
        }
        let timeout = settings
            .server_key
            .as_ref()
            .and_then(|k| k.next_check(std::time::Instant::now()));
        let polled = os::poll_fds(&mut entries, timeout);
        if let Some(k) = settings.server_key.as_mut() {
            k.tick(std::time::Instant::now());
        }
        if let Err(e) = polled {
            if e.kind() != std::io::ErrorKind::Interrupted {
                error!("poll: {e}");
            }
            continue;
        }
        let n_listen = listeners.len();
        for (i, pid) in startup_pids.iter().enumerate() {
            let e = &entries[n_listen + 1 + i];
            if e.readable || e.hangup {
                // Authenticated (a byte) or gone (EOF): no longer a start-up.
                startups.remove(pid);
            }
        }
        if entries[n_listen].readable {
            for sig in signals.drain() {
                match sig {
                    libc::SIGCHLD => {
                        for (pid, _) in os::reap_children() {
                            children.remove(&pid);
                            startups.remove(&pid);
                        }
                    }
                    libc::SIGHUP => {
                        // A configuration that does not parse keeps this one running.
                        if let Err(e) = (settings.check_config)() {
                            error!("SIGHUP: the configuration does not load, keeping the running one: {e}");
                            continue;
                        }
                        info!("Received SIGHUP; restarting.");
                        drop(listeners);
                        remove_pid_file(settings.pid_file.as_deref());
                        return restart(&image);
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
                let block = settings
                    .per_source
                    .map_or(peer.ip(), |(_, bits)| source_block(peer.ip(), bits));
                let from_block = startups.values().filter(|(_, b)| *b == block).count() as u32;
                let per_source_full = settings
                    .per_source
                    .is_some_and(|(max, _)| from_block >= max);
                if per_source_full || should_drop(startups.len() as u32, &settings.max_startups) {
                    verbose!(
                        "drop connection #{} from [{}]:{} on [{}]:{} past MaxStartups",
                        startups.len(),
                        peer.ip(),
                        peer.port(),
                        local.map(|a| a.ip().to_string()).unwrap_or_default(),
                        local.map(|a| a.port()).unwrap_or(0)
                    );
                    // As OpenSSH: a short notice instead of an identification line.
                    let _ = (&sock).write(b"Exceeded MaxStartups\r\n");
                    continue;
                }
                let _ = sock.set_nonblocking(false);
                // No Nagle: a key exchange or a small reply must not wait for a delayed ACK.
                let _ = sock.set_nodelay(true);
                let (notify_read, notify_write) =
                    match nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC) {
                        Ok(p) => p,
                        Err(e) => {
                            error!("pipe: {e}");
                            continue;
                        }
                    };
                match os::spawn_session_process_with(
                    &image,
                    &settings.session_args,
                    OwnedFd::from(sock),
                    Some(notify_write),
                    Some(std::os::fd::AsFd::as_fd(&config)),
                    settings.server_key.as_mut().map(|k| k.for_session()),
                ) {
                    Ok(pid) => {
                        children.insert(pid);
                        startups.insert(pid, (File::from(notify_read), block));
                    }
                    Err(e) => error!("session process for {peer}: {e}"),
                }
            }
        }
    }
}

/// The block of addresses `ip` belongs to for `PerSourceMaxStartups`: its first `v4`
/// (IPv4) or `v6` (IPv6) bits, the rest zero. An IPv4-mapped IPv6 address counts as
/// IPv4.
pub fn source_block(ip: IpAddr, (v4, v6): (u8, u8)) -> IpAddr {
    let ip = match ip {
        IpAddr::V6(a) => a.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4addr => v4addr,
    };
    match ip {
        IpAddr::V4(a) => {
            let bits = u32::from(v4.min(32));
            let mask = u32::MAX.checked_shl(32 - bits).unwrap_or(0);
            IpAddr::V4((u32::from(a) & mask).into())
        }
        IpAddr::V6(a) => {
            let bits = u32::from(v6.min(128));
            let mask = u128::MAX.checked_shl(128 - bits).unwrap_or(0);
            IpAddr::V6((u128::from(a) & mask).into())
        }
    }
}

/// OpenSSH's random early drop: below `start` unauthenticated connections nothing is
/// dropped, at `full` everything is, and in between with a probability rising linearly
/// from `rate`% to 100%.
pub fn should_drop(startups: u32, ms: &MaxStartups) -> bool {
    if startups >= ms.full {
        return true;
    }
    if startups < ms.start || ms.full <= ms.start {
        return false;
    }
    let rate = ms.rate.min(100);
    let p = rate + (100 - rate) * (startups - ms.start) / (ms.full - ms.start);
    let roll = rand_core::RngCore::next_u32(&mut rand_core::OsRng) % 100;
    roll < p
}

fn remove_pid_file(p: Option<&Path>) {
    if let Some(p) = p {
        let _ = std::fs::remove_file(p);
    }
}

/// Re-executes the daemon with its original arguments (SIGHUP), as OpenSSH does: the
/// binary at its path (an upgrade takes effect), or, when that file is gone, the image
/// held since start-up.
fn restart(image: &os::SessionImage) -> i32 {
    use std::os::unix::process::CommandExt;
    let args: Vec<String> = std::env::args().skip(1).collect();
    let exe = std::env::current_exe().unwrap_or_else(|_| PathBuf::from("/proc/self/exe"));
    let err = std::process::Command::new(&exe).args(&args).exec();
    error!("restart with {}: {err}", exe.display());
    let err = image.command().args(&args).exec();
    fatal!("restart failed: {err}");
    255
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_blocks() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert_eq!(source_block(ip("10.1.2.3"), (32, 128)), ip("10.1.2.3"));
        assert_eq!(source_block(ip("10.1.2.3"), (24, 128)), ip("10.1.2.0"));
        assert_eq!(source_block(ip("10.1.2.3"), (0, 128)), ip("0.0.0.0"));
        assert_eq!(
            source_block(ip("::ffff:10.1.2.3"), (16, 128)),
            ip("10.1.0.0")
        );
        assert_eq!(
            source_block(ip("2001:db8:1:2::5"), (32, 48)),
            ip("2001:db8:1::")
        );
        assert_eq!(source_block(ip("2001:db8::1"), (32, 0)), ip("::"));
    }

    #[test]
    fn max_startups_early_drop() {
        let ms = MaxStartups {
            start: 2,
            rate: 0,
            full: 4,
        };
        assert!(!should_drop(0, &ms));
        assert!(!should_drop(1, &ms));
        assert!(should_drop(4, &ms));
        assert!(should_drop(9, &ms));
        // At start with rate 0 nothing is dropped; half-way, about half.
        assert!((0..200).all(|_| !should_drop(2, &ms)));
        let dropped = (0..2000).filter(|_| should_drop(3, &ms)).count();
        assert!((700..1300).contains(&dropped), "{dropped}");
    }
}
