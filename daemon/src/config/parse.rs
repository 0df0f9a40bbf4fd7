//! Turning lines into typed settings, and applying settings with first-wins.

use std::collections::HashSet;
use std::path::PathBuf;

use super::algs::{resolve, Algs};
use super::files::ConfigFiles;
use super::keywords::{self, Status};
use super::lexer::{split_line, LexError, Line};
use super::matching::{addr_match_list, parse_condition, Condition};
use super::support::{self, Support};
use super::values::*;
use super::{
    AlgorithmSets, Config, ConfigError, ConfigErrorKind, Overrides, CMDLINE_FILE, INCLUDE_BASE_DIR,
    MAX_CMDLINE_OPTIONS, MAX_CONFIG_BYTES, MAX_INCLUDED_FILES, MAX_INCLUDE_DEPTH, MAX_LIST_ENTRIES,
    MAX_MATCH_BLOCKS, MAX_SUBSYSTEMS,
};

/// OpenSSH's smallest `RequiredRSASize` (`SSH_RSA_MINIMUM_MODULUS_SIZE`).
pub(crate) const MIN_REQUIRED_RSA_SIZE: u32 = 1024;
/// Longest `VersionAddendum`: the identification line is at most 255 bytes.
const MAX_VERSION_ADDENDUM: usize = 128;
/// The method names `AuthenticationMethods` knows (OpenSSH's list, `none` included).
const AUTH_METHOD_NAMES: &[&str] = &[
    "none",
    "publickey",
    "password",
    "keyboard-interactive",
    "hostbased",
    "gssapi-with-mic",
];
/// The methods Sisu implements. `none` never succeeds (an empty password is tried
/// with `password`, as OpenSSH's clients do), so a list that asks for it is never
/// satisfied: nobody it applies to gets in.
const IMPLEMENTED_AUTH_METHODS: &[&str] = &[
    "none",
    "publickey",
    "password",
    "keyboard-interactive",
    "hostbased",
];

/// `AuthenticationMethods any` (`None`) or its space-separated lists of comma-separated
/// methods. A method Sisu does not have yet is refused ("not supported yet"): a
/// second factor must never be dropped silently.
fn parse_auth_methods(args: &[String]) -> Result<Option<Vec<Vec<String>>>, ConfigErrorKind> {
    if let [only] = args {
        if only == "any" {
            return Ok(None);
        }
    }
    let mut lists = Vec::new();
    for list in args {
        if list == "any" {
            return Err(ConfigErrorKind::Other(
                "\"any\" must appear alone in AuthenticationMethods".into(),
            ));
        }
        let mut methods = Vec::new();
        for m in list.split(',') {
            let name = m.split_once(':').map_or(m, |(n, _)| n);
            if !AUTH_METHOD_NAMES.contains(&name)
                || ((name == "publickey" || name == "password") && m != name)
            {
                return Err(ConfigErrorKind::InvalidValue {
                    keyword: "AuthenticationMethods",
                    value: list.clone(),
                });
            }
            if !IMPLEMENTED_AUTH_METHODS.contains(&name) {
                return Err(ConfigErrorKind::NotSupportedYet {
                    keyword: "AuthenticationMethods",
                    value: format!("{} (method {m})", args.join(" ")),
                });
            }
            methods.push(m.to_string());
        }
        if lists.len() >= MAX_LIST_ENTRIES {
            return Err(ConfigErrorKind::TooMany("AuthenticationMethods"));
        }
        lists.push(methods);
    }
    Ok(Some(lists))
}

/// One parsed value of one implemented keyword.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Setting {
    Port(u16),
    ListenAddress(ListenAddress),
    AddressFamily(AddressFamily),
    HostKey(PathBuf),
    HostCertificate(PathBuf),
    AuthorizedKeysFile(Vec<String>),
    PidFile(Option<PathBuf>),
    LogLevel(LogLevel),
    SyslogFacility(SyslogFacility),
    PermitRootLogin(PermitRootLogin),
    PubkeyAuthentication(bool),
    PasswordAuthentication(bool),
    KbdInteractiveAuthentication(bool),
    PermitEmptyPasswords(bool),
    RsaAuthentication(bool),
    ServerKeyBits(u32),
    KeyRegenerationInterval(std::time::Duration),
    MaxAuthTries(u32),
    MaxSessions(u32),
    MaxStartups(MaxStartups),
    LoginGraceTime(std::time::Duration),
    ClientAliveInterval(std::time::Duration),
    ClientAliveCountMax(u32),
    AcceptEnv(Vec<String>),
    PermitUserEnvironment(PermitUserEnvironment),
    StrictModes(bool),
    PubkeyAuthOptions((bool, bool)),
    Banner(Option<PathBuf>),
    PrintMotd(bool),
    PrintLastLog(bool),
    PermitUserRc(bool),
    UseDns(bool),
    Subsystem(Subsystem),
    X11Forwarding(bool),
    X11DisplayOffset(u32),
    X11UseLocalhost(bool),
    XAuthLocation(PathBuf),
    AllowTcpForwarding(AllowTcpForwarding),
    AllowAgentForwarding(bool),
    DisableForwarding(bool),
    PermitTty(bool),
    PermitOpen(PermitOpen),
    GatewayPorts(GatewayPorts),
    PermitListen(PermitOpen),
    AllowStreamLocalForwarding(AllowTcpForwarding),
    StreamLocalBindMask(u32),
    StreamLocalBindUnlink(bool),
    ChannelTimeout(Vec<(String, u64)>),
    UnusedConnectionTimeout(Option<std::time::Duration>),
    ForceCommand(Option<String>),
    ChrootDirectory(Option<String>),
    RekeyLimit(RekeyLimit),
    ModuliFile(PathBuf),
    AllowUsers(Vec<String>),
    DenyUsers(Vec<String>),
    AllowGroups(Vec<String>),
    DenyGroups(Vec<String>),
    UsePam(bool),
    PamServiceName(String),
    AuthenticationMethods(Option<Vec<Vec<String>>>),
    RevokedKeys(Option<PathBuf>),
    TrustedUserCAKeys(Option<String>),
    AuthorizedPrincipalsFile(Option<String>),
    CASignatureAlgorithms(Vec<String>),
    ExposeAuthInfo(bool),
    AuthorizedKeysCommand(Option<String>),
    AuthorizedKeysCommandUser(Option<String>),
    AuthorizedPrincipalsCommand(Option<String>),
    AuthorizedPrincipalsCommandUser(Option<String>),
    RequiredRsaSize(u32),
    SetEnv(Vec<(String, String)>),
    VersionAddendum(Option<String>),
    PerSourceMaxStartups(Option<u32>),
    PerSourceNetBlockSize((u8, u8)),
    RefuseConnection(bool),
    TcpKeepAlive(bool),
    HostKeyAgent(Option<String>),
    Ciphers(Vec<String>),
    Macs(Vec<String>),
    KexAlgorithms(Vec<String>),
    HostKeyAlgorithms(Vec<String>),
    PubkeyAcceptedAlgorithms(Vec<String>),
    HostbasedAcceptedAlgorithms(Vec<String>),
    HostbasedAuthentication(bool),
    HostbasedUsesNameFromPacketOnly(bool),
    IgnoreRhosts(super::IgnoreRhosts),
    IgnoreUserKnownHosts(bool),
    Protocol(Vec<ProtocolVersion>),
}

/// A setting with the canonical keyword it came from.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Directive {
    pub key: &'static str,
    pub setting: Setting,
}

/// A `Match` block: its condition and the directives under it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct MatchBlock {
    pub condition: Condition,
    pub directives: Vec<Directive>,
}

/// Which keywords have been set in the current pass (first wins), and whether `-p`
/// fixed the ports.
#[derive(Debug, Default)]
pub(crate) struct ApplyState {
    seen: HashSet<&'static str>,
    ports_from_cmdline: bool,
}

/// Appends to a list keyword: the first directive of the pass replaces the default (or
/// the global value, inside `Match`); later ones add to it.
fn accumulate<T>(
    list: &mut Vec<T>,
    first: bool,
    items: impl IntoIterator<Item = T>,
    key: &'static str,
) -> Result<(), &'static str> {
    if first {
        list.clear();
    }
    for item in items {
        if list.len() >= MAX_LIST_ENTRIES {
            return Err(key);
        }
        list.push(item);
    }
    Ok(())
}

/// Applies one directive: single-valued keywords keep their first value, list keywords
/// accumulate. `Err(keyword)` when a list would pass [`MAX_LIST_ENTRIES`].
pub(crate) fn apply(
    cfg: &mut Config,
    st: &mut ApplyState,
    d: Directive,
) -> Result<(), &'static str> {
    let first = st.seen.insert(d.key);
    let key = d.key;
    macro_rules! once {
        ($field:expr, $v:expr) => {
            if first {
                $field = $v;
            }
        };
    }
    match d.setting {
        Setting::Port(p) => {
            if !st.ports_from_cmdline {
                accumulate(&mut cfg.ports, first, [p], key)?;
            }
        }
        Setting::ListenAddress(a) => accumulate(&mut cfg.listen_addresses, first, [a], key)?,
        Setting::HostKey(p) => accumulate(&mut cfg.host_keys, first, [p], key)?,
        Setting::HostCertificate(p) => accumulate(&mut cfg.host_certificates, first, [p], key)?,
        Setting::AcceptEnv(v) => accumulate(&mut cfg.accept_env, first, v, key)?,
        Setting::Subsystem(s) => accumulate(&mut cfg.subsystems, first, [s], key)?,
        Setting::AllowUsers(v) => accumulate(&mut cfg.allow_users, first, v, key)?,
        Setting::DenyUsers(v) => accumulate(&mut cfg.deny_users, first, v, key)?,
        Setting::AllowGroups(v) => accumulate(&mut cfg.allow_groups, first, v, key)?,
        Setting::DenyGroups(v) => accumulate(&mut cfg.deny_groups, first, v, key)?,
        Setting::AddressFamily(v) => once!(cfg.address_family, v),
        Setting::AuthorizedKeysFile(v) => once!(cfg.authorized_keys_file, v),
        Setting::PidFile(v) => once!(cfg.pid_file, v),
        Setting::LogLevel(v) => once!(cfg.log_level, v),
        Setting::SyslogFacility(v) => once!(cfg.syslog_facility, v),
        Setting::PermitRootLogin(v) => once!(cfg.permit_root_login, v),
        Setting::PubkeyAuthentication(v) => once!(cfg.pubkey_authentication, v),
        Setting::PasswordAuthentication(v) => once!(cfg.password_authentication, v),
        Setting::KbdInteractiveAuthentication(v) => once!(cfg.kbd_interactive_authentication, v),
        Setting::PermitEmptyPasswords(v) => once!(cfg.permit_empty_passwords, v),
        Setting::RsaAuthentication(v) => once!(cfg.rsa_authentication, v),
        Setting::ServerKeyBits(v) => once!(cfg.server_key_bits, v),
        Setting::KeyRegenerationInterval(v) => once!(cfg.key_regeneration_interval, v),
        Setting::MaxAuthTries(v) => once!(cfg.max_auth_tries, v),
        Setting::MaxSessions(v) => once!(cfg.max_sessions, v),
        Setting::MaxStartups(v) => once!(cfg.max_startups, v),
        Setting::LoginGraceTime(v) => once!(cfg.login_grace_time, v),
        Setting::ClientAliveInterval(v) => once!(cfg.client_alive_interval, v),
        Setting::ClientAliveCountMax(v) => once!(cfg.client_alive_count_max, v),
        Setting::PermitUserEnvironment(v) => once!(cfg.permit_user_environment, v),
        Setting::StrictModes(v) => once!(cfg.strict_modes, v),
        Setting::PubkeyAuthOptions(v) => once!(cfg.pubkey_auth_options, v),
        Setting::Banner(v) => once!(cfg.banner, v),
        Setting::PrintMotd(v) => once!(cfg.print_motd, v),
        Setting::PrintLastLog(v) => once!(cfg.print_last_log, v),
        Setting::PermitUserRc(v) => once!(cfg.permit_user_rc, v),
        Setting::UseDns(v) => once!(cfg.use_dns, v),
        Setting::X11Forwarding(v) => once!(cfg.x11_forwarding, v),
        Setting::X11DisplayOffset(v) => once!(cfg.x11_display_offset, v),
        Setting::X11UseLocalhost(v) => once!(cfg.x11_use_localhost, v),
        Setting::XAuthLocation(v) => once!(cfg.xauth_location, v),
        Setting::AllowTcpForwarding(v) => once!(cfg.allow_tcp_forwarding, v),
        Setting::AllowAgentForwarding(v) => once!(cfg.allow_agent_forwarding, v),
        Setting::DisableForwarding(v) => once!(cfg.disable_forwarding, v),
        Setting::PermitTty(v) => once!(cfg.permit_tty, v),
        Setting::PermitOpen(v) => once!(cfg.permit_open, v),
        Setting::GatewayPorts(v) => once!(cfg.gateway_ports, v),
        Setting::PermitListen(v) => once!(cfg.permit_listen, v),
        Setting::AllowStreamLocalForwarding(v) => once!(cfg.allow_streamlocal_forwarding, v),
        Setting::StreamLocalBindMask(v) => once!(cfg.streamlocal_bind_mask, v),
        Setting::StreamLocalBindUnlink(v) => once!(cfg.streamlocal_bind_unlink, v),
        Setting::ChannelTimeout(v) => once!(cfg.channel_timeout, v),
        Setting::UnusedConnectionTimeout(v) => once!(cfg.unused_connection_timeout, v),
        Setting::ForceCommand(v) => once!(cfg.force_command, v),
        Setting::ChrootDirectory(v) => once!(cfg.chroot_directory, v),
        Setting::RekeyLimit(v) => once!(cfg.rekey_limit, v),
        Setting::ModuliFile(v) => once!(cfg.moduli_file, v),
        Setting::UsePam(v) => once!(cfg.use_pam, v),
        Setting::PamServiceName(v) => once!(cfg.pam_service_name, v),
        Setting::AuthenticationMethods(v) => once!(cfg.authentication_methods, v),
        Setting::RevokedKeys(v) => once!(cfg.revoked_keys, v),
        Setting::TrustedUserCAKeys(v) => once!(cfg.trusted_user_ca_keys, v),
        Setting::AuthorizedPrincipalsFile(v) => once!(cfg.authorized_principals_file, v),
        Setting::CASignatureAlgorithms(v) => once!(cfg.ca_signature_algorithms, v),
        Setting::ExposeAuthInfo(v) => once!(cfg.expose_auth_info, v),
        Setting::AuthorizedKeysCommand(v) => once!(cfg.authorized_keys_command, v),
        Setting::AuthorizedKeysCommandUser(v) => once!(cfg.authorized_keys_command_user, v),
        Setting::AuthorizedPrincipalsCommand(v) => once!(cfg.authorized_principals_command, v),
        Setting::AuthorizedPrincipalsCommandUser(v) => {
            once!(cfg.authorized_principals_command_user, v)
        }
        Setting::RequiredRsaSize(v) => once!(cfg.required_rsa_size, v),
        Setting::SetEnv(v) => once!(cfg.set_env, v),
        Setting::VersionAddendum(v) => once!(cfg.version_addendum, v),
        Setting::PerSourceMaxStartups(v) => once!(cfg.per_source_max_startups, v),
        Setting::PerSourceNetBlockSize(v) => once!(cfg.per_source_net_block_size, v),
        Setting::RefuseConnection(v) => once!(cfg.refuse_connection, v),
        Setting::TcpKeepAlive(v) => once!(cfg.tcp_keep_alive, v),
        Setting::HostKeyAgent(v) => once!(cfg.host_key_agent, v),
        Setting::Ciphers(v) => once!(cfg.ciphers, v),
        Setting::Macs(v) => once!(cfg.macs, v),
        Setting::KexAlgorithms(v) => once!(cfg.kex_algorithms, v),
        Setting::HostKeyAlgorithms(v) => once!(cfg.host_key_algorithms, v),
        Setting::PubkeyAcceptedAlgorithms(v) => once!(cfg.pubkey_accepted_algorithms, v),
        Setting::HostbasedAcceptedAlgorithms(v) => once!(cfg.hostbased_accepted_algorithms, v),
        Setting::HostbasedAuthentication(v) => once!(cfg.hostbased_authentication, v),
        Setting::HostbasedUsesNameFromPacketOnly(v) => {
            once!(cfg.hostbased_uses_name_from_packet_only, v)
        }
        Setting::IgnoreRhosts(v) => once!(cfg.ignore_rhosts, v),
        Setting::IgnoreUserKnownHosts(v) => once!(cfg.ignore_user_known_hosts, v),
        Setting::Protocol(v) => once!(cfg.protocol, v),
    }
    Ok(())
}

/// The state of one parse: the configuration so far, the open `Match` block, warnings.
struct Parser<'a> {
    /// Where `Include` reads.
    files: &'a dyn ConfigFiles,
    cfg: Config,
    state: ApplyState,
    block: Option<MatchBlock>,
    warnings: Vec<String>,
    algs: &'a AlgorithmSets,
    depth: usize,
    included: usize,
    /// Inside an included file: the condition of the block that included it, which
    /// every `Match` of the file is joined to.
    context: Option<Condition>,
    bytes: usize,
}

/// Parses the command-line options and then `text`.
pub(crate) fn parse(
    text: &str,
    file: &str,
    ov: &Overrides,
    algs: &AlgorithmSets,
    files: &dyn ConfigFiles,
) -> Result<(Config, Vec<String>), ConfigError> {
    let err = |file: &str, line, kind| ConfigError {
        file: file.to_string(),
        line,
        kind,
    };
    if text.len() > MAX_CONFIG_BYTES {
        return Err(err(file, 0, ConfigErrorKind::TooMany("configuration byte")));
    }
    if ov.options.len() > MAX_CMDLINE_OPTIONS {
        return Err(err(CMDLINE_FILE, 0, ConfigErrorKind::TooMany("-o option")));
    }
    let mut p = Parser {
        files,
        cfg: Config::default_for(algs),
        state: ApplyState::default(),
        block: None,
        warnings: Vec::new(),
        algs,
        depth: 0,
        included: 0,
        context: None,
        bytes: text.len(),
    };
    p.seed(ov);
    for opt in &ov.options {
        p.line(opt, CMDLINE_FILE, 0, true)?;
    }
    for (i, line) in text.lines().enumerate() {
        p.line(line, file, i + 1, false)?;
    }
    p.close_block(file, text.lines().count())?;
    // As OpenSSH: lists that no enabled method can satisfy are an error, not a server
    // nobody can log in to.
    // A list is satisfiable when each of its methods is enabled (`none` always is, as
    // in OpenSSH; `Match` blocks are not looked at, as OpenSSH's check does not).
    let enabled = |m: &String| {
        m == "none"
            || (m == "publickey" && p.cfg.pubkey_authentication)
            || (m == "password" && p.cfg.password_authentication)
            || (m.split(':').next() == Some("keyboard-interactive")
                && p.cfg.kbd_interactive_authentication)
            || (m == "hostbased" && p.cfg.hostbased_authentication)
    };
    let satisfiable = p
        .cfg
        .authentication_methods
        .as_ref()
        .is_none_or(|lists| lists.iter().any(|l| l.iter().all(enabled)));
    if !satisfiable {
        return Err(err(
            file,
            0,
            ConfigErrorKind::Other(
                "AuthenticationMethods cannot be satisfied by enabled authentication methods"
                    .into(),
            ),
        ));
    }
    Ok((p.cfg, p.warnings))
}

impl Parser<'_> {
    /// `Include PATTERN`: every file the glob pattern names, in lexical order, read as
    /// if its lines stood here (inside the open `Match` block, if any). A relative
    /// pattern is taken from [`INCLUDE_BASE_DIR`]; a pattern that matches nothing is
    /// fine, as in OpenSSH.
    fn include(&mut self, pattern: &str, file: &str, n: usize) -> Result<(), ConfigError> {
        let err = |kind| ConfigError {
            file: file.to_string(),
            line: n,
            kind,
        };
        if self.depth >= MAX_INCLUDE_DEPTH {
            return Err(err(ConfigErrorKind::TooMany("nested Include")));
        }
        let full = if pattern.starts_with('/') {
            pattern.to_string()
        } else {
            format!("{INCLUDE_BASE_DIR}/{pattern}")
        };
        let files = self.files.glob(&full).map_err(|e| {
            err(ConfigErrorKind::Other(format!(
                "bad Include pattern \"{pattern}\": {e}"
            )))
        })?;
        for path in files {
            self.included += 1;
            if self.included > MAX_INCLUDED_FILES {
                return Err(err(ConfigErrorKind::TooMany("included file")));
            }
            let name = path.display().to_string();
            let text = self
                .files
                .read(&path)
                .map_err(|e| err(ConfigErrorKind::Other(format!("Include {name}: {e}"))))?;
            self.bytes += text.len();
            if self.bytes > MAX_CONFIG_BYTES {
                return Err(err(ConfigErrorKind::TooMany("configuration byte")));
            }
            // The file is read in the context of the block it is included from: a
            // `Match` in it holds only where that block holds too, and ends with the
            // file; after it the including block carries on (or the global settings,
            // when the Include was outside any block).
            let outer = self.block.as_ref().map(|b| b.condition.clone());
            let context = std::mem::replace(&mut self.context, outer.clone());
            self.depth += 1;
            let r = text
                .lines()
                .enumerate()
                .try_for_each(|(i, line)| self.line(line, &name, i + 1, false));
            self.depth -= 1;
            self.context = context;
            r?;
            self.close_block(&name, text.lines().count())?;
            self.block = outer.map(|condition| MatchBlock {
                condition,
                directives: Vec::new(),
            });
        }
        Ok(())
    }

    /// Applies what the command line sets directly.
    fn seed(&mut self, ov: &Overrides) {
        let st = &mut self.state;
        if !ov.ports.is_empty() {
            self.cfg.ports = ov.ports.clone();
            st.ports_from_cmdline = true;
        }
        if !ov.host_keys.is_empty() {
            self.cfg.host_keys = ov.host_keys.clone();
            st.seen.insert("HostKey");
        }
        if !ov.host_certificates.is_empty() {
            self.cfg.host_certificates = ov.host_certificates.clone();
            st.seen.insert("HostCertificate");
        }
        if let Some(af) = ov.address_family {
            self.cfg.address_family = af;
            st.seen.insert("AddressFamily");
        }
        if let Some(l) = ov.log_level {
            self.cfg.log_level = l;
            st.seen.insert("LogLevel");
        }
        if let Some(t) = ov.login_grace_time {
            self.cfg.login_grace_time = t;
            st.seen.insert("LoginGraceTime");
        }
    }

    fn close_block(&mut self, file: &str, line: usize) -> Result<(), ConfigError> {
        if let Some(b) = self.block.take() {
            if b.directives.is_empty() {
                return Ok(());
            }
            if self.cfg.matches.len() >= MAX_MATCH_BLOCKS {
                return Err(ConfigError {
                    file: file.to_string(),
                    line,
                    kind: ConfigErrorKind::TooMany("Match block"),
                });
            }
            self.cfg.matches.push(b);
        }
        Ok(())
    }

    fn line(&mut self, raw: &str, file: &str, n: usize, cmdline: bool) -> Result<(), ConfigError> {
        let err = |kind| ConfigError {
            file: file.to_string(),
            line: n,
            kind,
        };
        let line = match split_line(raw) {
            Ok(Some(l)) => l,
            Ok(None) => return Ok(()),
            Err(LexError::NoArgument(k)) => {
                return Err(err(ConfigErrorKind::Other(format!(
                    "no argument after keyword \"{k}\""
                ))))
            }
            Err(LexError::InvalidQuotes) => return Err(err(ConfigErrorKind::InvalidQuotes)),
            Err(LexError::TooManyArguments) => {
                return Err(err(ConfigErrorKind::TooMany("argument")))
            }
        };
        let Some(kw) = keywords::lookup(&line.keyword) else {
            return Err(err(ConfigErrorKind::BadOption(line.keyword)));
        };
        let warn = |w: &mut Vec<String>, msg: String| w.push(format!("{file} line {n}: {msg}"));
        match kw.status {
            Status::Match => {
                if cmdline {
                    return Err(err(ConfigErrorKind::MatchOnCommandLine));
                }
                let condition =
                    parse_condition(&line.args).map_err(|r| err(ConfigErrorKind::BadMatch(r)))?;
                self.close_block(file, n)?;
                let condition = match &self.context {
                    Some(outer) => outer.and(condition),
                    None => condition,
                };
                self.block = Some(MatchBlock {
                    condition,
                    directives: Vec::new(),
                });
                return Ok(());
            }
            _ if self.block.is_some() && !kw.in_match => {
                return Err(err(ConfigErrorKind::NotAllowedInMatch(line.keyword)));
            }
            Status::Deprecated => {
                warn(
                    &mut self.warnings,
                    format!("Deprecated option {}", line.keyword),
                );
                return Ok(());
            }
            Status::Unsupported => {
                warn(
                    &mut self.warnings,
                    format!("Unsupported option {}", line.keyword),
                );
                return Ok(());
            }
            Status::NotImplemented => {
                warn(
                    &mut self.warnings,
                    format!("option {} is not implemented yet; ignored", line.keyword),
                );
                return Ok(());
            }
            Status::Refused => {
                if support::is_off(kw.name, &line.args) {
                    return Ok(());
                }
                return Err(err(ConfigErrorKind::NotSupportedYet {
                    keyword: kw.name,
                    value: line.rest.trim().to_string(),
                }));
            }
            Status::Include => {
                if cmdline {
                    return Err(err(ConfigErrorKind::Other(
                        "Include is not allowed on the command line".into(),
                    )));
                }
                for pattern in &line.args {
                    self.include(pattern, file, n)?;
                }
                return Ok(());
            }
            Status::Implemented | Status::Absent(_) => {}
        }
        match support::check(kw.name, &line.args) {
            Support::Full => {}
            Support::Warn(feature) => warn(
                &mut self.warnings,
                format!(
                    "{} {}: {feature} is not implemented yet; ignored",
                    line.keyword,
                    line.rest.trim()
                ),
            ),
            Support::Refuse => {
                return Err(err(ConfigErrorKind::NotSupportedYet {
                    keyword: kw.name,
                    value: line.rest.trim().to_string(),
                }))
            }
        }
        let Some(setting) = parse_setting(kw.name, &line, self.algs).map_err(err)? else {
            // A limit on a feature that does not exist yet: it holds; nothing to store.
            return Ok(());
        };
        if let Setting::Subsystem(s) = &setting {
            // Subsystem is global-only, so every one is applied here.
            if self.cfg.subsystems.iter().any(|x| x.name == s.name) {
                return Err(err(ConfigErrorKind::DuplicateSubsystem(s.name.clone())));
            }
            if self.cfg.subsystems.len() >= MAX_SUBSYSTEMS {
                return Err(err(ConfigErrorKind::TooMany("Subsystem")));
            }
        }
        let d = Directive {
            key: kw.name,
            setting,
        };
        match &mut self.block {
            Some(b) => b.directives.push(d),
            None => apply(&mut self.cfg, &mut self.state, d)
                .map_err(|k| err(ConfigErrorKind::TooMany(k)))?,
        }
        Ok(())
    }
}

/// Parses the arguments of one implemented (or [`Status::Absent`]) keyword; `None` for
/// an absent feature's keyword whose value Sisu does not keep (its arguments are only
/// checked for presence).
fn parse_setting(
    key: &'static str,
    line: &Line,
    algs: &AlgorithmSets,
) -> Result<Option<Setting>, ConfigErrorKind> {
    let args = &line.args;
    let invalid = |v: &str| ConfigErrorKind::InvalidValue {
        keyword: key,
        value: v.to_string(),
    };
    // Exactly one non-empty argument.
    let one = || -> Result<&str, ConfigErrorKind> {
        match args.as_slice() {
            [] => Err(ConfigErrorKind::MissingArgument(key.to_string())),
            [a] if a.is_empty() => Err(ConfigErrorKind::MissingArgument(key.to_string())),
            [a] => Ok(a.as_str()),
            _ => Err(ConfigErrorKind::ExtraArguments(key)),
        }
    };
    // One or more non-empty arguments.
    let many = || -> Result<Vec<String>, ConfigErrorKind> {
        if args.is_empty() {
            return Err(ConfigErrorKind::MissingArgument(key.to_string()));
        }
        if let Some(e) = args.iter().find(|a| a.is_empty()) {
            return Err(invalid(e));
        }
        Ok(args.clone())
    };
    let flag = || one().and_then(|v| parse_flag(v).map_err(|()| invalid(v)));
    let int = || one().and_then(|v| parse_int(v).map_err(|()| invalid(v)));
    let time = || one().and_then(|v| parse_time(v).map_err(|()| invalid(v)));
    let none_or = |v: &str| {
        if v.eq_ignore_ascii_case("none") {
            None
        } else {
            Some(v.to_string())
        }
    };
    let algs_of = |family: &Algs| -> Result<Vec<String>, ConfigErrorKind> {
        let spec = one()?;
        resolve(spec, family).map_err(|reason| ConfigErrorKind::BadAlgorithms {
            keyword: key,
            spec: spec.to_string(),
            reason,
        })
    };
    Ok(Some(match key {
        "Port" => {
            let v = one()?;
            Setting::Port(parse_port(v).map_err(|()| invalid(v))?)
        }
        "ListenAddress" => match args.as_slice() {
            [] => return Err(ConfigErrorKind::MissingArgument(key.into())),
            [a] => Setting::ListenAddress(parse_listen_address(a).map_err(|()| invalid(a))?),
            [_, r, _] if r == "rdomain" => {
                return Err(ConfigErrorKind::Other(
                    "ListenAddress rdomain is not supported".into(),
                ))
            }
            _ => return Err(ConfigErrorKind::Other("bad ListenAddress syntax".into())),
        },
        "AddressFamily" => {
            let v = one()?;
            Setting::AddressFamily(parse_address_family(v).map_err(|()| invalid(v))?)
        }
        "HostKey" => Setting::HostKey(one()?.into()),
        "HostCertificate" => Setting::HostCertificate(one()?.into()),
        "AuthorizedKeysFile" => {
            let files = many()?;
            for f in &files {
                if super::expand_tokens(f, "u", 0, std::path::Path::new("/h")).is_none() {
                    return Err(invalid(f));
                }
            }
            Setting::AuthorizedKeysFile(files)
        }
        "PidFile" => Setting::PidFile(none_or(one()?).map(PathBuf::from)),
        "LogLevel" => {
            let v = one()?;
            Setting::LogLevel(parse_log_level(v).map_err(|()| invalid(v))?)
        }
        "SyslogFacility" => {
            let v = one()?;
            Setting::SyslogFacility(parse_syslog_facility(v).map_err(|()| invalid(v))?)
        }
        "PermitRootLogin" => {
            let v = one()?;
            Setting::PermitRootLogin(parse_permit_root_login(v).map_err(|()| invalid(v))?)
        }
        "PubkeyAuthentication" => Setting::PubkeyAuthentication(flag()?),
        "PasswordAuthentication" => Setting::PasswordAuthentication(flag()?),
        "KbdInteractiveAuthentication" => Setting::KbdInteractiveAuthentication(flag()?),
        "PermitEmptyPasswords" => Setting::PermitEmptyPasswords(flag()?),
        "RSAAuthentication" => Setting::RsaAuthentication(flag()?),
        "ServerKeyBits" => {
            let bits: u32 = int()?;
            if !(crate::v1::keys::MIN_SERVER_KEY_BITS..=crate::v1::keys::MAX_SERVER_KEY_BITS)
                .contains(&bits)
            {
                return Err(invalid(&bits.to_string()));
            }
            Setting::ServerKeyBits(bits)
        }
        "KeyRegenerationInterval" => Setting::KeyRegenerationInterval(time()?),
        "MaxAuthTries" => Setting::MaxAuthTries(int()?),
        "MaxSessions" => Setting::MaxSessions(int()?),
        "MaxStartups" => {
            let v = one()?;
            Setting::MaxStartups(parse_max_startups(v).map_err(|()| invalid(v))?)
        }
        "LoginGraceTime" => Setting::LoginGraceTime(time()?),
        "ClientAliveInterval" => Setting::ClientAliveInterval(time()?),
        "ClientAliveCountMax" => Setting::ClientAliveCountMax(int()?),
        "AcceptEnv" => {
            let v = many()?;
            if let Some(bad) = v.iter().find(|e| e.contains('=')) {
                return Err(invalid(bad));
            }
            Setting::AcceptEnv(v)
        }
        "PermitUserEnvironment" => {
            Setting::PermitUserEnvironment(parse_permit_user_environment(one()?))
        }
        "StrictModes" => Setting::StrictModes(flag()?),
        "PubkeyAuthOptions" => {
            let (mut touch, mut verify) = (false, false);
            let args = many()?;
            for a in &args {
                match a.as_str() {
                    "none" if args.len() == 1 => {}
                    "touch-required" => touch = true,
                    "verify-required" => verify = true,
                    other => return Err(invalid(other)),
                }
            }
            Setting::PubkeyAuthOptions((touch, verify))
        }
        "Banner" => Setting::Banner(none_or(one()?).map(PathBuf::from)),
        "PrintMotd" => Setting::PrintMotd(flag()?),
        "PrintLastLog" => Setting::PrintLastLog(flag()?),
        "PermitUserRC" => Setting::PermitUserRc(flag()?),
        "UseDNS" => Setting::UseDns(flag()?),
        "Subsystem" => match args.as_slice() {
            [] => return Err(ConfigErrorKind::MissingArgument(key.into())),
            [_] => return Err(ConfigErrorKind::Other("Missing subsystem command.".into())),
            [name, cmd @ ..] => {
                if name.is_empty() || cmd[0].is_empty() {
                    return Err(ConfigErrorKind::MissingArgument(key.into()));
                }
                Setting::Subsystem(Subsystem {
                    name: name.clone(),
                    command: cmd.join(" "),
                })
            }
        },
        "X11Forwarding" => Setting::X11Forwarding(flag()?),
        "X11DisplayOffset" => match int()? {
            n if n <= 1000 => Setting::X11DisplayOffset(n),
            n => return Err(invalid(&n.to_string())),
        },
        "X11UseLocalhost" => Setting::X11UseLocalhost(flag()?),
        "XAuthLocation" => Setting::XAuthLocation(one()?.into()),
        "AllowTcpForwarding" => {
            let v = one()?;
            Setting::AllowTcpForwarding(parse_allow_tcp_forwarding(v).map_err(|()| invalid(v))?)
        }
        "AllowAgentForwarding" => Setting::AllowAgentForwarding(flag()?),
        "DisableForwarding" => Setting::DisableForwarding(flag()?),
        "PermitTTY" => Setting::PermitTty(flag()?),
        "PermitOpen" => {
            let v = many()?;
            match v[0].as_str() {
                "any" | "none" if v.len() > 1 => return Err(ConfigErrorKind::ExtraArguments(key)),
                "any" => Setting::PermitOpen(PermitOpen::Any),
                "none" => Setting::PermitOpen(PermitOpen::None),
                _ => Setting::PermitOpen(PermitOpen::List(
                    v.iter()
                        .map(|t| parse_permit_open_target(t).map_err(|()| invalid(t)))
                        .collect::<Result<_, _>>()?,
                )),
            }
        }
        "PermitListen" => {
            let v = many()?;
            match v[0].as_str() {
                "any" | "none" if v.len() > 1 => return Err(ConfigErrorKind::ExtraArguments(key)),
                "any" => Setting::PermitListen(PermitOpen::Any),
                "none" => Setting::PermitListen(PermitOpen::None),
                _ => Setting::PermitListen(PermitOpen::List(
                    v.iter()
                        .map(|t| {
                            // A bare port stands for any listen host, as in OpenSSH.
                            let t2 = if t.contains(':') {
                                t.clone()
                            } else {
                                format!("*:{t}")
                            };
                            parse_permit_open_target(&t2).map_err(|()| invalid(t))
                        })
                        .collect::<Result<_, _>>()?,
                )),
            }
        }
        "AllowStreamLocalForwarding" => {
            let v = one()?;
            Setting::AllowStreamLocalForwarding(
                parse_allow_tcp_forwarding(v).map_err(|()| invalid(v))?,
            )
        }
        "StreamLocalBindMask" => {
            let v = one()?;
            match u32::from_str_radix(v, 8) {
                Ok(m) if m <= 0o777 => Setting::StreamLocalBindMask(m),
                _ => return Err(invalid(v)),
            }
        }
        "StreamLocalBindUnlink" => Setting::StreamLocalBindUnlink(flag()?),
        "ChannelTimeout" => {
            let v = many()?;
            if v.len() == 1 && v[0].eq_ignore_ascii_case("none") {
                Setting::ChannelTimeout(Vec::new())
            } else {
                Setting::ChannelTimeout(
                    v.iter()
                        .map(|t| {
                            let (ty, time) = t.split_once('=').ok_or_else(|| invalid(t))?;
                            if ty.is_empty() {
                                return Err(invalid(t));
                            }
                            let secs = parse_time(time).map_err(|()| invalid(t))?.as_secs();
                            Ok((ty.to_string(), secs))
                        })
                        .collect::<Result<_, _>>()?,
                )
            }
        }
        "UnusedConnectionTimeout" => {
            let v = one()?;
            if v.eq_ignore_ascii_case("none") {
                Setting::UnusedConnectionTimeout(None)
            } else {
                let t = parse_time(v).map_err(|()| invalid(v))?;
                Setting::UnusedConnectionTimeout((!t.is_zero()).then_some(t))
            }
        }
        "GatewayPorts" => {
            let v = one()?;
            Setting::GatewayPorts(parse_gateway_ports(v).map_err(|()| invalid(v))?)
        }
        "ForceCommand" => {
            if args.is_empty() {
                return Err(ConfigErrorKind::MissingArgument(key.into()));
            }
            Setting::ForceCommand(none_or(line.rest.trim()))
        }
        "ChrootDirectory" => {
            let v = one()?;
            if super::expand_tokens(v, "u", 0, std::path::Path::new("/h")).is_none() {
                return Err(invalid(v));
            }
            Setting::ChrootDirectory(none_or(v))
        }
        "RekeyLimit" => {
            let (bytes, interval) = match args.as_slice() {
                [] => return Err(ConfigErrorKind::MissingArgument(key.into())),
                [b] => (b, None),
                [b, i] => (b, Some(i)),
                _ => return Err(ConfigErrorKind::ExtraArguments(key)),
            };
            let bytes = if bytes == "default" {
                0
            } else {
                match parse_size(bytes) {
                    Ok(n) if n == 0 || n >= 16 => n,
                    _ => return Err(invalid(bytes)),
                }
            };
            let interval = match interval.map(String::as_str) {
                None | Some("none") => std::time::Duration::ZERO,
                Some(i) => parse_time(i).map_err(|()| invalid(i))?,
            };
            Setting::RekeyLimit(RekeyLimit { bytes, interval })
        }
        "ModuliFile" => Setting::ModuliFile(one()?.into()),
        "AllowUsers" | "DenyUsers" => {
            let v = many()?;
            for u in &v {
                if let Some((_, host)) = u.rsplit_once('@') {
                    if host.is_empty() || addr_match_list(None, host).is_none() {
                        return Err(invalid(u));
                    }
                }
            }
            if key == "AllowUsers" {
                Setting::AllowUsers(v)
            } else {
                Setting::DenyUsers(v)
            }
        }
        "AllowGroups" => Setting::AllowGroups(many()?),
        "DenyGroups" => Setting::DenyGroups(many()?),
        "UsePAM" => Setting::UsePam(flag()?),
        "PAMServiceName" => {
            let v = one()?;
            if v.is_empty() || v.contains('/') || v.starts_with('.') {
                return Err(invalid(v));
            }
            Setting::PamServiceName(v.to_string())
        }
        "AuthenticationMethods" => Setting::AuthenticationMethods(parse_auth_methods(&many()?)?),
        "RevokedKeys" => Setting::RevokedKeys(none_or(one()?).map(PathBuf::from)),
        "TrustedUserCAKeys" => Setting::TrustedUserCAKeys(none_or(one()?)),
        "AuthorizedPrincipalsFile" => Setting::AuthorizedPrincipalsFile(none_or(one()?)),
        "CASignatureAlgorithms" => Setting::CASignatureAlgorithms(algs_of(&algs.ca_signature)?),
        "ExposeAuthInfo" => Setting::ExposeAuthInfo(flag()?),
        "AuthorizedKeysCommand" | "AuthorizedPrincipalsCommand" => {
            if args.is_empty() {
                return Err(ConfigErrorKind::MissingArgument(key.into()));
            }
            let command = none_or(line.rest.trim());
            if let Some(c) = &command {
                if !c.starts_with('/') {
                    return Err(ConfigErrorKind::Other(format!(
                        "{key} must be an absolute path"
                    )));
                }
            }
            if key == "AuthorizedKeysCommand" {
                Setting::AuthorizedKeysCommand(command)
            } else {
                Setting::AuthorizedPrincipalsCommand(command)
            }
        }
        "AuthorizedKeysCommandUser" => Setting::AuthorizedKeysCommandUser(none_or(one()?)),
        "AuthorizedPrincipalsCommandUser" => {
            Setting::AuthorizedPrincipalsCommandUser(none_or(one()?))
        }
        "RequiredRSASize" => {
            let v = one()?;
            match parse_int(v) {
                Ok(n) if n >= MIN_REQUIRED_RSA_SIZE => Setting::RequiredRsaSize(n),
                _ => return Err(invalid(v)),
            }
        }
        "SetEnv" => {
            let mut vars: Vec<(String, String)> = Vec::new();
            for a in many()? {
                let Some((name, value)) = a.split_once('=').filter(|(n, _)| !n.is_empty()) else {
                    return Err(ConfigErrorKind::Other("Invalid environment.".into()));
                };
                // Within the line, the first value of a name wins (as OpenSSH).
                if !vars.iter().any(|(n, _)| n == name) {
                    vars.push((name.to_string(), value.to_string()));
                }
            }
            Setting::SetEnv(vars)
        }
        "VersionAddendum" => {
            let v = line.rest.trim();
            if v.is_empty() {
                return Err(ConfigErrorKind::MissingArgument(key.into()));
            }
            if v.len() > MAX_VERSION_ADDENDUM || v.chars().any(|c| c.is_control()) {
                return Err(invalid(v));
            }
            Setting::VersionAddendum(none_or(v))
        }
        "PerSourceMaxStartups" => {
            let v = one()?;
            if v.eq_ignore_ascii_case("none") {
                Setting::PerSourceMaxStartups(None)
            } else {
                match parse_int(v) {
                    Ok(n) if n > 0 => Setting::PerSourceMaxStartups(Some(n)),
                    _ => return Err(invalid(v)),
                }
            }
        }
        "PerSourceNetBlockSize" => {
            let v = one()?;
            let (v4, v6) = v.split_once(':').unwrap_or((v, "128"));
            match (v4.parse::<u8>(), v6.parse::<u8>()) {
                (Ok(a), Ok(b)) if a <= 32 && b <= 128 => Setting::PerSourceNetBlockSize((a, b)),
                _ => return Err(invalid(v)),
            }
        }
        "RefuseConnection" => Setting::RefuseConnection(flag()?),
        "TCPKeepAlive" => Setting::TcpKeepAlive(flag()?),
        "HostKeyAgent" => Setting::HostKeyAgent(none_or(one()?)),
        "Ciphers" => Setting::Ciphers(algs_of(&algs.ciphers)?),
        "MACs" => Setting::Macs(algs_of(&algs.macs)?),
        "KexAlgorithms" => Setting::KexAlgorithms(algs_of(&algs.kex)?),
        "HostKeyAlgorithms" => Setting::HostKeyAlgorithms(algs_of(&algs.host_key)?),
        "PubkeyAcceptedAlgorithms" => Setting::PubkeyAcceptedAlgorithms(algs_of(&algs.pubkey)?),
        "HostbasedAcceptedAlgorithms" => {
            Setting::HostbasedAcceptedAlgorithms(algs_of(&algs.pubkey)?)
        }
        "HostbasedAuthentication" => Setting::HostbasedAuthentication(flag()?),
        "HostbasedUsesNameFromPacketOnly" => Setting::HostbasedUsesNameFromPacketOnly(flag()?),
        "IgnoreRhosts" => Setting::IgnoreRhosts(match one()? {
            "shosts-only" => super::IgnoreRhosts::ShostsOnly,
            v => match parse_flag(v) {
                Ok(true) => super::IgnoreRhosts::Yes,
                Ok(false) => super::IgnoreRhosts::No,
                Err(()) => return Err(invalid(v)),
            },
        }),
        "IgnoreUserKnownHosts" => Setting::IgnoreUserKnownHosts(flag()?),
        "Protocol" => {
            let v = one()?;
            Setting::Protocol(parse_protocol(v).map_err(|()| invalid(v))?)
        }
        other => {
            if let Some(keywords::Keyword {
                status: Status::Absent(_),
                ..
            }) = keywords::lookup(other)
            {
                many()?;
                return Ok(None);
            }
            // The keyword table marks a keyword implemented that has no parser here.
            return Err(ConfigErrorKind::Other(format!("{other} is not handled")));
        }
    }))
}
