//! What every process of one connection shares: the connection's two ends, the
//! settings resolved from the configuration, exit statuses, and how transport errors
//! are logged.

use crate::policy::{AuthSettings, PerUser};
use crate::postauth::ChannelSettings;
use sisu_kex::{HostKey, TransportConfig};
use std::net::SocketAddr;
use std::time::Duration;

/// Everything a connection needs, resolved from the configuration by the caller.
pub struct SessionSettings {
    /// Transport algorithms and identification.
    pub transport: TransportConfig,
    /// The group-exchange groups (`ModuliFile`), answered to `Event::GroupNeeded`.
    pub moduli: crate::algs::ModuliGroups,
    /// The host keys (in the monitor: with their private halves or agent; in a child:
    /// public only).
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

/// The connection's two ends, as seen from here. `None` when the connection is not a
/// socket (inetd mode over a pipe, as a ProxyCommand gives it): OpenSSH then says
/// `UNKNOWN` and port 65535, and so does Sisu.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
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

    /// The ends of the socket on descriptor `fd` (`None` for what is not an IP socket).
    pub fn of_socket(fd: std::os::fd::BorrowedFd<'_>) -> Endpoints {
        use nix::sys::socket::{getpeername, getsockname, SockaddrStorage};
        use std::os::fd::AsRawFd;
        let raw = fd.as_raw_fd();
        let conv = |s: Option<SockaddrStorage>| -> Option<SocketAddr> {
            let s = s?;
            if let Some(v4) = s.as_sockaddr_in() {
                return Some(SocketAddr::from((v4.ip(), v4.port())));
            }
            if let Some(v6) = s.as_sockaddr_in6() {
                return Some(SocketAddr::from((v6.ip(), v6.port())));
            }
            None
        };
        Endpoints {
            peer: conv(getpeername::<SockaddrStorage>(raw).ok()),
            local: conv(getsockname::<SockaddrStorage>(raw).ok()),
        }
    }
}

/// The session process's exit status after a connection that authenticated and ended
/// without a transport error.
pub const EXIT_OK: i32 = 0;
/// The exit status otherwise (OpenSSH's sshd exits 255 on every pre-authentication
/// end and every fatal error: `sshd -i` callers such as inetd tell them apart by it).
pub const EXIT_FAILED: i32 = 255;

/// How long output queued after the transport closed (a DISCONNECT) may wait for a
/// peer that does not read, after authentication (before it, LoginGraceTime bounds it).
pub const CLOSING_DRAIN_TIME: Duration = Duration::from_secs(10);

/// A user-space CSPRNG (ChaCha20) seeded from the OS; the OS generator itself if
/// seeding fails. Padding for every packet comes from it, so a getrandom(2) per packet
/// is avoided.
pub fn session_rng() -> Box<dyn rand_core::CryptoRngCore + Send> {
    match <rand_chacha::ChaCha20Rng as rand_core::SeedableRng>::from_rng(rand_core::OsRng) {
        Ok(r) => Box::new(r),
        Err(_) => Box::new(rand_core::OsRng),
    }
}

/// Logs a transport error in OpenSSH's words; `preauth` adds its ` [preauth]`.
pub fn log_transport_error(e: &sisu_kex::TransportError, peer: &str, preauth: bool) {
    let pre = if preauth { " [preauth]" } else { "" };
    match e {
        _ if e.is_identification() => {
            info!("kex_exchange_identification: {e}; Connection from {peer}{pre}")
        }
        // The client's offer: we are the server.
        sisu_kex::TransportError::NoMatchingAlgorithm { what, client, .. } => info!(
            "Unable to negotiate with {peer}: no matching {what} found. Their offer: {client}{pre}"
        ),
        _ => info!("ssh_dispatch_run_fatal: Connection from {peer}: {e}{pre}"),
    }
}

/// Logs the peer's DISCONNECT, and that the connection is over, as OpenSSH does.
/// `user` is the authenticated user (after authentication) or the one trying.
pub fn log_disconnect(
    code: u32,
    description: &str,
    peer: &str,
    authenticated: Option<&str>,
    trying: Option<&str>,
) {
    let pre = if authenticated.is_some() {
        ""
    } else {
        " [preauth]"
    };
    info!("Received disconnect from {peer}:{code}: {description}{pre}");
    match (authenticated, trying) {
        (Some(user), _) => info!("Disconnected from user {user} {peer}"),
        (None, Some(u)) => {
            info!("Disconnected from authenticating user {u} {peer} [preauth]")
        }
        (None, None) => info!("Disconnected from {peer} [preauth]"),
    }
}

/// Answers the transport's questions for the host keys (a signature over an exchange
/// hash, a group-exchange group) from `policy`; any other event is given back.
pub fn answer_host_key_question(
    transport: &mut sisu_kex::Transport,
    policy: &mut dyn crate::policy::Policy,
    ev: sisu_kex::Event,
    peer: &str,
    preauth: bool,
) -> Option<sisu_kex::Event> {
    let answered = match ev {
        sisu_kex::Event::GroupNeeded(request) => {
            let group = policy.group(request);
            transport.provide_group(group)
        }
        sisu_kex::Event::SignatureNeeded {
            key,
            algorithm,
            data,
        } => {
            let sig = policy.sign(key, algorithm, &data);
            transport.provide_signature(sig)
        }
        other => return Some(other),
    };
    if let Err(e) = answered {
        log_transport_error(&e, peer, preauth);
    }
    None
}
