//! The algorithm names the protocol crates implement, for `sshd_config` lists and `-Q`,
//! and the translation of the configuration into session settings.

use crate::cli::Query;
use crate::config::{
    AlgorithmSets, Algs, AllowTcpForwarding, Config, ConnectionSpec, PermitRootLogin,
    PermitUserEnvironment,
};
use crate::conn::{Endpoints, SessionSettings};
use crate::policy::{AuthSettings, UserEnvironment};
use crate::postauth::ChannelSettings;
use sisu_cipher::{CipherAlg, MacAlg};
use sisu_kex::moduli::{parse_moduli, DhGroup, GexGroups};
use sisu_kex::{HostKey, HostKeyAlg, KexAlg, TransportConfig};
use sisu_userauth::publickey::PubkeyAlgorithm;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

fn names<T: Copy>(all: &[T], f: fn(T) -> &'static str) -> Vec<&'static str> {
    all.iter().map(|a| f(*a)).collect()
}

/// Every signature algorithm name OpenSSH 9 takes in `PubkeyAcceptedAlgorithms` and
/// `HostKeyAlgorithms`: a list may name (or a pattern reach) any of them. Only those
/// Sisu implements are ever used (user keys and certificates `sisu-userauth`
/// verifies; host-key algorithms of the keys it has); the others (webauthn signatures,
/// security-key host keys) stay listed and unused, so a configuration written for
/// OpenSSH still starts.
const OPENSSH_SIG_NAMES: &[&str] = &[
    "ssh-ed25519",
    "ssh-ed25519-cert-v01@openssh.com",
    "sk-ssh-ed25519@openssh.com",
    "sk-ssh-ed25519-cert-v01@openssh.com",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp256-cert-v01@openssh.com",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp384-cert-v01@openssh.com",
    "ecdsa-sha2-nistp521",
    "ecdsa-sha2-nistp521-cert-v01@openssh.com",
    "sk-ecdsa-sha2-nistp256@openssh.com",
    "sk-ecdsa-sha2-nistp256-cert-v01@openssh.com",
    "webauthn-sk-ecdsa-sha2-nistp256@openssh.com",
    "ssh-dss",
    "ssh-dss-cert-v01@openssh.com",
    "ssh-rsa",
    "ssh-rsa-cert-v01@openssh.com",
    "rsa-sha2-256",
    "rsa-sha2-256-cert-v01@openssh.com",
    "rsa-sha2-512",
    "rsa-sha2-512-cert-v01@openssh.com",
];

/// Every signature algorithm OpenSSH 9 takes in `CASignatureAlgorithms`.
const CA_SIGNATURE_NAMES: &[&str] = &[
    "ssh-ed25519",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
    "sk-ssh-ed25519@openssh.com",
    "sk-ecdsa-sha2-nistp256@openssh.com",
    "rsa-sha2-512",
    "rsa-sha2-256",
    "ssh-rsa",
    "ssh-dss",
];

/// OpenSSH 9.2's default `CASignatureAlgorithms`: the names above but the SHA-1
/// ones (`ssh-rsa`, `ssh-dss`), which come last.
const DEFAULT_CA_SIGNATURE: &[&str] = CA_SIGNATURE_NAMES.split_at(CA_SIGNATURE_NAMES.len() - 2).0;

/// `ours` followed by the OpenSSH names it lacks.
fn with_openssh_names(mut ours: Vec<&'static str>) -> Vec<&'static str> {
    for n in OPENSSH_SIG_NAMES {
        if !ours.contains(n) {
            ours.push(n);
        }
    }
    ours
}

/// Supported and default names for every list keyword.
pub fn sets() -> AlgorithmSets {
    AlgorithmSets {
        // Protocol 1's ciphers (`3des`, `blowfish`, `des`) may be named too: see
        // `crate::v1::ciphers`.
        ciphers: Algs::new(
            &[
                names(CipherAlg::ALL, CipherAlg::name),
                names(
                    sisu_cipher::v1::V1Cipher::ALL,
                    sisu_cipher::v1::V1Cipher::name,
                ),
            ]
            .concat(),
            &names(CipherAlg::DEFAULT, CipherAlg::name),
        ),
        macs: Algs::new(
            &names(MacAlg::ALL, MacAlg::name),
            &names(MacAlg::DEFAULT, MacAlg::name),
        ),
        kex: Algs::new(
            &names(KexAlg::ALL, KexAlg::name),
            &names(KexAlg::DEFAULT, KexAlg::name),
        ),
        host_key: Algs::new(
            &with_openssh_names(names(HostKeyAlg::ALL, HostKeyAlg::name)),
            &names(HostKeyAlg::DEFAULT, HostKeyAlg::name),
        ),
        pubkey: Algs::new(
            OPENSSH_SIG_NAMES,
            &sisu_userauth::default_pubkey_algorithms(),
        ),
        ca_signature: Algs::new(CA_SIGNATURE_NAMES, DEFAULT_CA_SIGNATURE),
    }
}

/// The key type names (`ssh-rsa`, `ssh-rsa-cert-v01@openssh.com`, ...) of the host-key
/// algorithms `keep` selects, each once: plain types first, as `ssh -Q key` lists them.
fn key_types(keep: fn(HostKeyAlg) -> bool) -> Vec<&'static str> {
    let mut algs: Vec<HostKeyAlg> = HostKeyAlg::ALL
        .iter()
        .copied()
        .filter(|a| keep(*a))
        .collect();
    algs.sort_by_key(|a| a.is_certificate());
    let mut out: Vec<&'static str> = Vec::new();
    for a in algs {
        if !out.contains(&a.key_type()) {
            out.push(a.key_type());
        }
    }
    out
}

/// `-Q`: the names of one kind.
pub fn query(kind: Query) -> Option<Vec<String>> {
    let v: Vec<&str> = match kind {
        Query::Cipher => names(CipherAlg::ALL, CipherAlg::name),
        Query::CipherAuth => CipherAlg::ALL
            .iter()
            .filter(|c| c.is_aead())
            .map(|c| c.name())
            .collect(),
        Query::Mac => names(MacAlg::ALL, MacAlg::name),
        Query::Kex => names(KexAlg::ALL, KexAlg::name),
        Query::Key => key_types(|_| true),
        Query::KeyPlain => key_types(|a| !a.is_certificate()),
        Query::KeyCert => key_types(HostKeyAlg::is_certificate),
        Query::Sig => HostKeyAlg::ALL
            .iter()
            .filter(|a| !a.is_certificate())
            .map(|a| a.name())
            .collect(),
        Query::HostKeyAlgorithms => names(HostKeyAlg::ALL, HostKeyAlg::name),
        Query::PubkeyAcceptedAlgorithms => {
            let mut v = sisu_userauth::publickey::CERTIFICATE_ALGORITHMS.to_vec();
            v.extend(names(PubkeyAlgorithm::ALL, PubkeyAlgorithm::name));
            v
        }
        // Protocol 1 is compiled in (and off until `Protocol 2,1`), as in the
        // OpenSSH builds that had it.
        Query::ProtocolVersion => vec!["1", "2"],
        Query::Help => Query::NAMES.to_vec(),
    };
    Some(v.into_iter().map(String::from).collect())
}

/// The groups for Diffie-Hellman group exchange: those of the `ModuliFile` (in
/// `/etc/ssh/moduli` format, read when a client first asks for group exchange), or the
/// built-in RFC 3526 groups when it is missing, unreadable or has no usable group. The
/// transport asks for each group (`Event::GroupNeeded`); the session answers from here.
pub struct ModuliGroups {
    path: PathBuf,
    loaded: OnceLock<GexGroups>,
}

impl ModuliGroups {
    /// The groups of the file at `path`, not read yet.
    pub fn new(path: &Path) -> Self {
        ModuliGroups {
            path: path.to_path_buf(),
            loaded: OnceLock::new(),
        }
    }

    /// The groups, reading the file the first time.
    pub fn get(&self) -> &[DhGroup] {
        self.loaded
            .get_or_init(|| match std::fs::read(&self.path) {
                Ok(bytes) => GexGroups::fixed(parse_moduli(&String::from_utf8_lossy(&bytes))),
                Err(_) => GexGroups::default(),
            })
            .get()
            .unwrap_or_default()
    }
}

fn nonzero(d: Duration) -> Option<Duration> {
    (!d.is_zero()).then_some(d)
}

/// The session's settings from the effective configuration.
pub fn session_settings(
    cfg: &Config,
    host_keys: Vec<HostKey>,
    _ends: &Endpoints,
) -> SessionSettings {
    let transport = TransportConfig {
        kex: cfg
            .kex_algorithms
            .iter()
            .filter_map(|n| KexAlg::from_name(n))
            .collect(),
        host_key_algs: cfg
            .host_key_algorithms
            .iter()
            .filter_map(|n| HostKeyAlg::from_name(n))
            .collect(),
        ciphers: cfg
            .ciphers
            .iter()
            .filter_map(|n| CipherAlg::from_name(n))
            .collect(),
        macs: cfg
            .macs
            .iter()
            .filter_map(|n| MacAlg::from_name(n))
            .collect(),
        rekey_bytes: if cfg.rekey_limit.bytes == 0 {
            sisu_kex::DEFAULT_REKEY_BYTES
        } else {
            cfg.rekey_limit.bytes
        },
        server_sig_algs: server_sig_algs(),
        gex_groups: GexGroups::from_caller(),
        protocol_1: cfg.protocol.contains(&crate::config::ProtocolVersion::V1),
        protocol_2: cfg.protocol.contains(&crate::config::ProtocolVersion::V2),
        ..TransportConfig::default()
    };
    let transport = match &cfg.version_addendum {
        Some(extra) => TransportConfig {
            software_version: format!("{} {extra}", transport.software_version),
            ..transport
        },
        None => transport,
    };
    let auth = auth_settings(cfg);
    let channels = channel_settings(cfg);
    SessionSettings {
        transport,
        moduli: ModuliGroups::new(&cfg.moduli_file),
        host_keys,
        auth,
        channels,
        login_grace_time: nonzero(cfg.login_grace_time),
        max_auth_tries: cfg.max_auth_tries,
        rekey_interval: nonzero(cfg.rekey_limit.interval),
        per_user: None,
    }
}

/// `server-sig-algs` (RFC 8308): every plain signature algorithm Sisu verifies,
/// whatever `PubkeyAcceptedAlgorithms` says, as OpenSSH sends it. The value goes out
/// before the user is known, so it cannot follow a `Match User` block; a client reads
/// it to choose how an RSA key (or certificate) signs, and a list cut down to the
/// global setting would keep it from trying a key that a `Match` block accepts.
pub fn server_sig_algs() -> Vec<String> {
    PubkeyAlgorithm::ALL
        .iter()
        .map(|a| a.name().to_string())
        .collect()
}

/// The authentication settings of a configuration (after `Match` blocks).
pub fn auth_settings(cfg: &Config) -> AuthSettings {
    let only_user = if crate::os::is_root() {
        None
    } else {
        crate::os::current_user().ok().map(|u| u.name)
    };
    AuthSettings {
        pubkey_algorithms: cfg.pubkey_accepted_algorithms.clone(),
        pubkey_authentication: cfg.pubkey_authentication,
        rsa_authentication: cfg.rsa_authentication,
        password_authentication: cfg.password_authentication,
        permit_empty_passwords: cfg.permit_empty_passwords,
        use_pam: cfg.use_pam,
        pubkey_auth_options: cfg.pubkey_auth_options,
        hostbased_authentication: cfg.hostbased_authentication,
        hostbased_algorithms: cfg.hostbased_accepted_algorithms.clone(),
        hostbased_uses_name_from_packet_only: cfg.hostbased_uses_name_from_packet_only,
        ignore_rhosts: cfg.ignore_rhosts,
        ignore_user_known_hosts: cfg.ignore_user_known_hosts,
        pam_service: cfg.pam_service_name.clone(),
        kbd_interactive: cfg.kbd_interactive_authentication,
        permit_root_login: match cfg.permit_root_login {
            PermitRootLogin::Yes => crate::policy::RootLogin::Yes,
            PermitRootLogin::ProhibitPassword => crate::policy::RootLogin::ProhibitPassword,
            PermitRootLogin::ForcedCommandsOnly => crate::policy::RootLogin::ForcedCommandsOnly,
            PermitRootLogin::No => crate::policy::RootLogin::No,
        },
        authorized_keys_files: cfg.authorized_keys_file.clone(),
        strict_modes: cfg.strict_modes,
        only_user,
        permit_user_environment: user_environment(&cfg.permit_user_environment),
        access: crate::policy::AccessLists {
            allow_users: cfg.allow_users.clone(),
            deny_users: cfg.deny_users.clone(),
            allow_groups: cfg.allow_groups.clone(),
            deny_groups: cfg.deny_groups.clone(),
        },
        auth_methods: cfg.authentication_methods.clone(),
        required_rsa_size: cfg.required_rsa_size,
        banner: cfg.banner.clone(),
        refuse_connection: cfg.refuse_connection,
        revoked_keys: cfg.revoked_keys.clone(),
        trusted_user_ca_keys: cfg.trusted_user_ca_keys.clone(),
        authorized_principals_file: cfg.authorized_principals_file.clone(),
        ca_signature_algorithms: cfg.ca_signature_algorithms.clone(),
        keys_command: cfg
            .authorized_keys_command
            .clone()
            .map(|c| (c, cfg.authorized_keys_command_user.clone())),
        principals_command: cfg
            .authorized_principals_command
            .clone()
            .map(|c| (c, cfg.authorized_principals_command_user.clone())),
    }
}

fn user_environment(p: &PermitUserEnvironment) -> UserEnvironment {
    match p {
        PermitUserEnvironment::No => UserEnvironment::No,
        PermitUserEnvironment::Yes => UserEnvironment::Yes,
        PermitUserEnvironment::Patterns(p) => UserEnvironment::Patterns(p.clone()),
    }
}

/// The channel settings of a configuration (after `Match` blocks).
pub fn channel_settings(cfg: &Config) -> ChannelSettings {
    ChannelSettings {
        accept_env: cfg.accept_env.clone(),
        subsystems: cfg
            .subsystems
            .iter()
            .map(|s| (s.name.clone(), s.command.clone()))
            .collect(),
        switch_user: crate::os::is_root(),
        permit_tty: cfg.permit_tty,
        max_sessions: cfg.max_sessions as usize,
        force_command: cfg.force_command.clone(),
        forward: crate::postauth::ForwardPolicy {
            local_allowed: !cfg.disable_forwarding
                && matches!(
                    cfg.allow_tcp_forwarding,
                    AllowTcpForwarding::All | AllowTcpForwarding::Local
                ),
            permit_open: cfg.permit_open.clone(),
            remote_allowed: !cfg.disable_forwarding
                && matches!(
                    cfg.allow_tcp_forwarding,
                    AllowTcpForwarding::All | AllowTcpForwarding::Remote
                ),
            permit_listen: cfg.permit_listen.clone(),
            gateway_ports: cfg.gateway_ports,
            streamlocal_local: !cfg.disable_forwarding
                && matches!(
                    cfg.allow_streamlocal_forwarding,
                    AllowTcpForwarding::All | AllowTcpForwarding::Local
                ),
            streamlocal_remote: !cfg.disable_forwarding
                && matches!(
                    cfg.allow_streamlocal_forwarding,
                    AllowTcpForwarding::All | AllowTcpForwarding::Remote
                ),
            streamlocal_bind_mask: cfg.streamlocal_bind_mask,
            streamlocal_bind_unlink: cfg.streamlocal_bind_unlink,
            agent_allowed: !cfg.disable_forwarding && cfg.allow_agent_forwarding,
        },
        set_env: cfg.set_env.clone(),
        user_environment: user_environment(&cfg.permit_user_environment),
        print_motd: cfg.print_motd,
        print_last_log: cfg.print_last_log,
        permit_user_rc: cfg.permit_user_rc,
        client_alive: nonzero(cfg.client_alive_interval)
            .map(|interval| (interval, cfg.client_alive_count_max)),
        chroot_directory: cfg.chroot_directory.clone(),
        expose_auth_info: cfg.expose_auth_info,
        nologin: None,
        pam_env: Vec::new(),
        pam_messages: String::new(),
        channel_timeout: cfg.channel_timeout.clone(),
        unused_connection_timeout: cfg.unused_connection_timeout,
        x11: crate::postauth::channels::X11Settings {
            forwarding: cfg.x11_forwarding && !cfg.disable_forwarding,
            display_offset: cfg.x11_display_offset,
            use_localhost: cfg.x11_use_localhost,
            xauth_location: cfg.xauth_location.clone(),
        },
    }
}

/// The names of the groups `user` belongs to, for `Match Group`.
pub fn group_names(user: &str) -> Option<Vec<String>> {
    let u = crate::os::lookup_user(user).ok()??;
    Some(crate::policy::group_names(&u))
}

/// The connection's `Match` criteria known before authentication.
pub fn connection_spec(ends: &Endpoints) -> ConnectionSpec {
    ConnectionSpec {
        user: None,
        host: Some(ends.peer_ip()),
        address: Some(ends.peer_ip()),
        local_address: Some(ends.local_ip()),
        local_port: Some(ends.local_port()),
        rdomain: None,
    }
}

/// The session settings for a connection: `Match` blocks evaluated for its addresses
/// now, and again for the user once the user name is known.
pub fn session_settings_for(
    base: &Config,
    host_keys: Vec<HostKey>,
    ends: &Endpoints,
) -> SessionSettings {
    if !base.has_match_blocks() {
        return session_settings(base, host_keys, ends);
    }
    let spec = connection_spec(ends);
    let conn_cfg = base.for_connection_with(&spec, &group_names);
    let mut settings = session_settings(&conn_cfg, host_keys, ends);
    let base = base.clone();
    settings.per_user = Some(Box::new(move |user: &str| {
        let mut s = spec.clone();
        s.user = Some(user.to_string());
        let cfg = base.for_connection_with(&s, &group_names);
        (auth_settings(&cfg), channel_settings(&cfg))
    }));
    settings
}

#[cfg(test)]
mod server_sig_algs_tests {
    use super::server_sig_algs;

    #[test]
    fn every_plain_algorithm_whatever_the_configuration() {
        let v = server_sig_algs();
        for name in [
            "ssh-ed25519",
            "rsa-sha2-512",
            "rsa-sha2-256",
            "ecdsa-sha2-nistp256",
        ] {
            assert!(v.iter().any(|a| a == name), "{name} in {v:?}");
        }
        assert!(!v.iter().any(|a| a.contains("-cert-")), "{v:?}");
    }
}
