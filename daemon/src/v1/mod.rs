//! SSH protocol 1.5, the legacy protocol of the original sshd, served beside SSH-2 on
//! one port when `Protocol 2,1` (or `1`) says so; off by default. This module holds
//! what the daemon adds around the protocol crates' `v1` machines: the RSA host and
//! server keys ([`keys`], [`server_key`]).
//!
//! ```
//! use sisu_daemon::v1::keys::server_key_bits;
//! // The server key stays 128 bits away from the host key.
//! assert_eq!(server_key_bits(1024, 1024), 896);
//! ```

pub mod crypto;
pub mod keys;
pub mod preauth;
pub mod server_key;

use crate::conn::{Endpoints, EXIT_FAILED, EXIT_OK};
use crate::ipc::ToMonitor;
use crate::netio::SocketIo;
use crate::policy::ViaMonitor;
use sisu_cipher::v1::V1Cipher;
use sisu_wire::v1::msg;
use std::os::fd::RawFd;

/// What a handed-over protocol 1 state starts with (an SSH-2 one never does).
pub const HANDOVER_MAGIC: &[u8] = b"sisu-ssh1-state\0";

/// The protocol 1 ciphers offered: those `Ciphers` names by their protocol 1 names
/// (`3des`, `blowfish`, `des`), or, when it names none, 3DES and Blowfish (DES, broken,
/// only when named). `Ciphers +des` thus offers DES alone to protocol 1 clients; write
/// `Ciphers +3des,blowfish,des` to add it.
pub fn ciphers(cfg: &crate::config::Config) -> Vec<V1Cipher> {
    let named: Vec<V1Cipher> = cfg
        .ciphers
        .iter()
        .filter_map(|n| V1Cipher::from_name(n))
        .collect();
    if named.is_empty() {
        vec![V1Cipher::ThreeDes, V1Cipher::Blowfish]
    } else {
        named
    }
}

/// The authentication methods of protocol 1 for `cfg`.
pub fn auth_config(cfg: &crate::config::Config) -> sisu_userauth::v1::V1AuthConfig {
    sisu_userauth::v1::V1AuthConfig {
        rsa: cfg.rsa_authentication,
        password: cfg.password_authentication,
        rhosts_rsa: false,
        max_tries: cfg.max_auth_tries,
    }
}

/// The RSA public keys of [`crate::ipc::FromMonitor::Setup`]'s `v1_keys` (host,
/// server).
fn public_keys(blobs: &[Vec<u8>]) -> Option<(rsa::RsaPublicKey, rsa::RsaPublicKey)> {
    let [he, hn, se, sn] = blobs else {
        return None;
    };
    let key = |e: &[u8], n: &[u8]| {
        rsa::RsaPublicKey::new(
            rsa::BigUint::from_bytes_be(n),
            rsa::BigUint::from_bytes_be(e),
        )
        .ok()
    };
    Some((key(he, hn)?, key(se, sn)?))
}

/// The pre-auth child, once the client's identification said protocol 1: the
/// session-key exchange and authentication, then the handover to the monitor. The
/// process's exit status.
pub fn serve_preauth(
    cfg: &crate::config::Config,
    v1_keys: &[Vec<u8>],
    rest: &[u8],
    ends: Endpoints,
    io: SocketIo,
    policy: &mut ViaMonitor,
    watch: Option<RawFd>,
) -> i32 {
    let Some((host, server)) = public_keys(v1_keys) else {
        error!("pre-auth child: protocol 1 without its keys from the monitor");
        return EXIT_FAILED;
    };
    let config = sisu_kex::v1::V1Config {
        ciphers: ciphers(cfg),
        auth_mask: auth_config(cfg).auth_mask(),
        protocol_flags: msg::flags::SCREEN_NUMBER | msg::flags::HOST_IN_FWD_OPEN,
    };
    let transport =
        sisu_kex::v1::V1Transport::server(config, &host, &server, crate::conn::session_rng(), rest);
    let settings = preauth::V1PreauthSettings {
        auth: auth_config(cfg),
        ends,
        grace_deadline: None,
    };
    match preauth::run(transport, settings, io, policy, watch) {
        preauth::V1Outcome::Authenticated { mut transport, .. } => {
            let state = match transport.export() {
                Ok(s) => s,
                Err(e) => {
                    error!("pre-auth child: cannot hand the connection over: {e}");
                    return EXIT_FAILED;
                }
            };
            let mut bytes = HANDOVER_MAGIC.to_vec();
            bytes.extend_from_slice(&state.to_bytes());
            match policy.tell(&ToMonitor::Handover { state: bytes }) {
                Ok(()) => EXIT_OK,
                Err(_) => EXIT_FAILED,
            }
        }
        preauth::V1Outcome::Ended => EXIT_FAILED,
    }
}

/// The post-auth child's side of a protocol 1 handover: the transport imported from
/// the state (after [`HANDOVER_MAGIC`]), with its session bridge.
pub fn import_link(state: &[u8]) -> Result<crate::postauth::link::Link, String> {
    let state = sisu_kex::v1::V1TransportState::from_bytes(state)
        .map_err(|e| format!("protocol 1 transport state: {e}"))?;
    let transport = sisu_kex::v1::V1Transport::import(state, crate::conn::session_rng());
    let flags = transport.peer_protocol_flags()
        & (msg::flags::SCREEN_NUMBER | msg::flags::HOST_IN_FWD_OPEN);
    Ok(crate::postauth::link::Link::V1(Box::new(
        crate::postauth::link::V1Link::new(transport, flags),
    )))
}
