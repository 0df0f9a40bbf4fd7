//! The post-auth child process: started by the monitor, as the user, once the user is
//! in (`sisu-sshd … -R -Z postauth`), with the network socket on fds 0 and 1, the
//! monitor channel on fd 3 and the configuration on fd 4.
//!
//! The monitor's [`FromMonitor::Start`] says who logged in, what their keys grant, and
//! carries the exported transport; the child imports it and serves the connection
//! layer until the connection ends. Its log lines go to the monitor.

use super::PostauthSettings;
use crate::config::Config;
use crate::conn::{Endpoints, EXIT_FAILED};
use crate::ipc::{Channel, FromMonitor};
use crate::netio::SocketIo;
use crate::policy::{Grant, ViaMonitor};
use sisu_kex::state::TransportState;
use sisu_kex::Transport;
use std::os::fd::AsFd;

/// Runs the post-auth child on `cfg`; the process's exit status.
pub fn main(cfg: &Config) -> i32 {
    let Some(sock) = crate::os::take_ipc_socket() else {
        eprintln!("sisu-sshd: the post-auth child needs its monitor channel on fd 3");
        return EXIT_FAILED;
    };
    let ch = Channel::new(sock);
    crate::log::init_child(&ch, crate::log::level_of(cfg));
    let mut policy = ViaMonitor::new(ch);
    let start = match policy.receive() {
        Ok((m, _)) => m,
        Err(e) => {
            error!("post-auth child: nothing from the monitor: {e}");
            return EXIT_FAILED;
        }
    };
    let FromMonitor::Start {
        user,
        grant,
        state,
        host_keys,
        pam_env,
        pam_messages,
    } = start
    else {
        error!("post-auth child: the monitor's first message is not the start");
        return EXIT_FAILED;
    };
    let pam = (pam_env, pam_messages);
    match serve(cfg, &user, &grant, &state, &host_keys, pam, &mut policy) {
        Ok(status) => status,
        Err(e) => {
            error!("post-auth child: {e}");
            EXIT_FAILED
        }
    }
}

fn serve(
    cfg: &Config,
    user: &str,
    grant: &[u8],
    state: &[u8],
    host_keys: &[Vec<u8>],
    (pam_env, pam_messages): (Vec<String>, String),
    policy: &mut ViaMonitor,
) -> Result<i32, String> {
    let grant = Grant::from_bytes(grant)?;
    let host_keys = crate::preauth::child::public_host_keys(host_keys)?;
    let (input, output) = crate::os::stdio_files().map_err(|e| format!("stdio: {e}"))?;
    let ends = Endpoints::of_socket(input.as_fd());
    let settings = crate::algs::session_settings_for(cfg, Vec::new(), &ends);
    let channels = match &settings.per_user {
        Some(f) => f(user).1,
        None => settings.channels,
    };
    let info = crate::os::lookup_user(user)
        .ok()
        .flatten()
        .ok_or_else(|| format!("user {user} vanished after authentication"))?;
    let mut channels = channels;
    channels.nologin = super::channels::nologin_text(&info);
    channels.pam_env = super::environ::pam_pairs(&pam_env);
    channels.pam_messages = pam_messages;
    enter_chroot(&mut channels, &info)?;
    let link = match state.strip_prefix(crate::v1::HANDOVER_MAGIC) {
        Some(v1) => crate::v1::import_link(v1)?,
        None => {
            let state =
                TransportState::from_bytes(state).map_err(|e| format!("transport state: {e}"))?;
            let mut transport = Transport::import(
                state,
                settings.transport,
                host_keys,
                crate::conn::session_rng(),
            )
            .map_err(|e| format!("transport state: {e}"))?;
            transport.set_authenticated();
            super::link::Link::V2(Box::new(transport))
        }
    };
    let io = SocketIo::new(input, output);
    let watch = Some(policy.channel().as_raw_fd());
    let post = PostauthSettings {
        channels,
        rekey_interval: settings.rekey_interval,
        ends,
        user: info,
        grant,
    };
    Ok(super::run_link(link, post, io, policy, watch))
}

/// `ChrootDirectory`: the monitor started this child as root; chroot and become the
/// user now, before the transport is imported (nothing from the network has been read
/// yet). Without it the child already is the user, and must not be root unless the
/// user is.
fn enter_chroot(
    channels: &mut super::ChannelSettings,
    info: &crate::os::UserInfo,
) -> Result<(), String> {
    let Some(raw) = channels.chroot_directory.as_deref() else {
        if crate::os::is_root() && info.uid != 0 {
            return Err("started as root without ChrootDirectory".into());
        }
        return Ok(());
    };
    let dir = crate::config::expand_tokens(raw, &info.name, info.uid, &info.home)
        .ok_or_else(|| format!("ChrootDirectory {raw}: bad % token"))?;
    let identity = crate::os::Identity {
        groups: info.groups.clone(),
        gid: info.gid,
        uid: info.uid,
    };
    crate::os::chroot_and_become(std::path::Path::new(&dir), &identity)?;
    debug!("Changed root directory to \"{dir}\"");
    // The user's processes are started by the user now: there is nobody to switch to.
    channels.switch_user = false;
    Ok(())
}
