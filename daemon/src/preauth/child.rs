//! The pre-auth child process: started by the monitor as a fresh image
//! (`sisu-sshd … -R -Z preauth`), with the network socket on fds 0 and 1, the monitor
//! channel on fd 3 and the configuration on fd 4.
//!
//! Before it reads a byte from the network it takes its host keys (public halves only)
//! from the monitor's [`FromMonitor::Setup`], builds the transport, and enters the
//! sandbox ([`crate::os::sandbox`]): chroot into an empty directory and the privilege
//! separation user when the daemon is root, then `no_new_privs`, resource limits,
//! Landlock (when not chrooted) and the seccomp allow-list. Its log lines go to the
//! monitor. When a user is in, it exports the transport to the monitor
//! ([`ToMonitor::Handover`]) and exits.

use super::{Outcome, PreauthSettings};
use crate::config::Config;
use crate::conn::{Endpoints, EXIT_FAILED, EXIT_OK};
use crate::ipc::{Channel, FromMonitor, ToMonitor};
use crate::netio::SocketIo;
use crate::os::sandbox;
use crate::policy::ViaMonitor;
use sisu_kex::{HostKey, Transport};
use std::os::fd::AsFd;
use std::path::Path;

/// In a debug build, while the file this environment variable names exists, each new
/// pre-auth child makes a forbidden system call right after entering the sandbox (the
/// test of the seccomp kill; the file is read before the sandbox is entered): it maps
/// executable memory when the file says `exec`, else it opens a file.
pub const FORBIDDEN_CALL_ENV: &str = "SISU_TEST_FORBIDDEN_SYSCALL";

/// The host keys a child serves, from the `K_S` blobs the monitor sent: public halves,
/// certified where the blob is a certificate.
pub fn public_host_keys(blobs: &[Vec<u8>]) -> Result<Vec<HostKey>, String> {
    blobs
        .iter()
        .map(|blob| {
            let plain = match sisu_kex::hostkey::cert::CertBlob::parse(blob) {
                Ok(c) => c.public_blob,
                Err(_) => blob.clone(),
            };
            let public = ssh_key::PublicKey::from_bytes(&plain).map_err(|e| e.to_string())?;
            let key = HostKey::public_only(public).map_err(|e| e.0)?;
            if plain == *blob {
                Ok(key)
            } else {
                key.certified(blob.clone()).map_err(|e| e.0)
            }
        })
        .collect()
}

/// Runs the pre-auth child on `cfg` (the listener's configuration); the process's exit
/// status.
pub fn main(cfg: &Config) -> i32 {
    let Some(sock) = crate::os::take_ipc_socket() else {
        eprintln!("sisu-sshd: the pre-auth child needs its monitor channel on fd 3");
        return EXIT_FAILED;
    };
    let ch = Channel::new(sock);
    crate::log::init_child(&ch, crate::log::level_of(cfg));
    let mut policy = ViaMonitor::new(ch);
    let (setup, _) = match policy.receive() {
        Ok(s) => s,
        Err(e) => {
            error!("pre-auth child: no set-up from the monitor: {e}");
            return EXIT_FAILED;
        }
    };
    let FromMonitor::Setup {
        host_keys,
        identity,
        chroot,
        v1_keys,
    } = setup
    else {
        error!("pre-auth child: the monitor's first message is not its set-up");
        return EXIT_FAILED;
    };
    let host_keys = match public_host_keys(&host_keys) {
        Ok(k) => k,
        Err(e) => {
            error!("pre-auth child: host keys: {e}");
            return EXIT_FAILED;
        }
    };
    let (input, output) = match crate::os::stdio_files() {
        Ok(f) => f,
        Err(e) => {
            error!("pre-auth child: stdio: {e}");
            return EXIT_FAILED;
        }
    };
    let ends = Endpoints::of_socket(input.as_fd());
    let settings = crate::algs::session_settings_for(cfg, Vec::new(), &ends);
    let transport = Transport::server(settings.transport, host_keys, crate::conn::session_rng());
    let forbidden = if cfg!(debug_assertions) {
        std::env::var_os(FORBIDDEN_CALL_ENV).and_then(|p| std::fs::read_to_string(p).ok())
    } else {
        None
    };
    let plan = sandbox::Plan {
        chroot: chroot.as_deref().map(Path::new),
        identity,
        seccomp: true,
    };
    if let Err(e) = sandbox::enter(&plan) {
        error!("pre-auth child: sandbox: {e}");
        return EXIT_FAILED;
    }
    if let Some(what) = forbidden {
        let _ = sandbox::forbidden_call(&what);
    }
    let io = SocketIo::new(input, output);
    let watch = Some(policy.channel().as_raw_fd());
    let pre = PreauthSettings {
        max_auth_tries: settings.max_auth_tries,
        pubkey_algorithms: settings.auth.pubkey_algorithms.clone(),
        ends,
        grace_deadline: None,
    };
    match super::run(transport, pre, io, &mut policy, watch) {
        Outcome::Authenticated { mut transport, .. } => {
            let state = match transport.export() {
                Ok(s) => s,
                Err(e) => {
                    error!("pre-auth child: cannot hand the connection over: {e}");
                    return EXIT_FAILED;
                }
            };
            let handover = ToMonitor::Handover {
                state: state.to_bytes().to_vec(),
            };
            match policy.tell(&handover) {
                Ok(()) => EXIT_OK,
                Err(_) => EXIT_FAILED,
            }
        }
        Outcome::Protocol1 { io, rest, .. } => {
            crate::v1::serve_preauth(cfg, &v1_keys, &rest, ends, io, &mut policy, watch)
        }
        Outcome::Ended => EXIT_FAILED,
    }
}
