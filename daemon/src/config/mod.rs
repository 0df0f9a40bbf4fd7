//! # `sshd_config`: parsing, defaults, `Match` blocks and `-T` output
//!
//! This module owns the daemon's configuration as OpenSSH users know it:
//!
//! - [`parse_config`] reads the text of an `sshd_config` (keywords case-insensitive,
//!   `Keyword value` or `Keyword=value`, `"quotes"`, `#` comments) after the `-o` options
//!   of the command line, which therefore win: for a single-valued keyword the **first**
//!   value seen is kept; list keywords (`Port`, `ListenAddress`, `HostKey`, `AcceptEnv`,
//!   `Subsystem`, `AllowUsers`, ...) accumulate;
//! - [`Config`] is the result, with OpenSSH 9's defaults for what the file leaves out
//!   ([`Config::default_for`]);
//! - `Match` blocks are kept and applied per connection by [`Config::for_connection`];
//! - [`Config::dump`] prints the effective configuration as `sshd -T` does.
//!
//! Every keyword OpenSSH 9 knows is recognised; those Sisu does not act on yet, and the
//! deprecated ones, are accepted with a warning. An unknown keyword or a bad value is a
//! [`ConfigError`] naming the file and line. The module does no I/O: the caller reads
//! the file and passes the algorithm names it supports ([`AlgorithmSets`]).
//!
//! ```
//! use sisu_daemon::config::{parse_config, AlgorithmSets, Algs, ConnectionSpec, PermitRootLogin};
//! use std::path::Path;
//!
//! let algs = AlgorithmSets {
//!     ciphers: Algs::new(&["aes128-ctr", "aes256-ctr", "3des-cbc"], &["aes128-ctr", "aes256-ctr"]),
//!     ..AlgorithmSets::default()
//! };
//! let text = "Port 2222\nCiphers +3des-cbc\nPermitRootLogin no\n\
//!             Match User alice\n  PermitRootLogin yes\n";
//! let (cfg, warnings) =
//!     parse_config(text, Path::new("/etc/sisu/sshd_config"), &["Port=22".into()], &algs).unwrap();
//! assert!(warnings.is_empty());
//! assert_eq!(cfg.ports, [22, 2222]);
//! assert_eq!(cfg.ciphers, ["aes128-ctr", "aes256-ctr", "3des-cbc"]);
//! assert_eq!(cfg.permit_root_login, PermitRootLogin::No);
//!
//! let alice = ConnectionSpec { user: Some("alice".into()), ..Default::default() };
//! assert_eq!(cfg.for_connection(&alice).permit_root_login, PermitRootLogin::Yes);
//! assert!(cfg.dump().contains("permitrootlogin no\n"));
//!
//! let err = parse_config("MaxAuthTries abc\n", Path::new("f"), &[], &algs).unwrap_err();
//! assert_eq!(err.to_string(), "f line 1: invalid value for MaxAuthTries: \"abc\"");
//! ```

mod algs;
mod dump;
mod files;
pub mod keywords;
pub(crate) mod lexer;
mod matching;
mod parse;
mod support;
mod values;

#[cfg(test)]
mod keyword_tests;
#[cfg(test)]
mod tests;

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub use algs::{resolve as resolve_algorithms, AlgError, AlgorithmSets, Algs};
pub use dump::{dump_differences, unexpected_dump_differences, DifferenceKind, DumpDifference};
pub use files::{Bundle, ConfigFiles, FsFiles, Recorder};
pub use matching::{
    addr_match_list, match_pattern, match_pattern_list, Condition, ConnectionSpec, Criterion,
    GroupLookup, ListMatch, NoGroups,
};
pub use values::{
    AddressFamily, AllowTcpForwarding, GatewayPorts, IgnoreRhosts, ListenAddress, LogLevel,
    MaxStartups, PermitOpen, PermitOpenTarget, PermitRootLogin, PermitUserEnvironment,
    ProtocolVersion, RekeyLimit, Subsystem, SyslogFacility,
};

/// Largest configuration text accepted, in bytes.
pub const MAX_CONFIG_BYTES: usize = 4 * 1024 * 1024;
/// Deepest nesting of `Include` (as OpenSSH's).
pub const MAX_INCLUDE_DEPTH: usize = 16;
/// Most files read through `Include` in one parse.
pub const MAX_INCLUDED_FILES: usize = 256;
/// Where `Include` looks for a relative path (as OpenSSH: its configuration directory).
pub const INCLUDE_BASE_DIR: &str = "/etc/ssh";
/// Most values one list keyword (`Port`, `HostKey`, `AcceptEnv`, ...) may accumulate.
pub const MAX_LIST_ENTRIES: usize = 4096;
/// Most `Match` blocks in one file.
pub const MAX_MATCH_BLOCKS: usize = 4096;
/// Most `Subsystem` entries (OpenSSH's `MAX_SUBSYSTEMS`).
pub const MAX_SUBSYSTEMS: usize = 256;
/// Most `-o` options taken from the command line.
pub const MAX_CMDLINE_OPTIONS: usize = 1024;

/// The file name errors and warnings give for `-o` options, with line 0 (as OpenSSH).
pub const CMDLINE_FILE: &str = "command-line";

/// The effective `sshd_config`: every keyword Sisu implements, with its value.
///
/// Field names follow the keywords. Durations are whole seconds.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// `Port` (default 22).
    pub ports: Vec<u16>,
    /// `ListenAddress` (default none: every address of [`Config::address_family`]).
    pub listen_addresses: Vec<ListenAddress>,
    /// `AddressFamily` (default `any`).
    pub address_family: AddressFamily,
    /// `HostKey` (default none: the daemon generates a key).
    pub host_keys: Vec<PathBuf>,
    /// `HostCertificate` (default none).
    pub host_certificates: Vec<PathBuf>,
    /// `AuthorizedKeysFile`, as written (with `%` tokens); see
    /// [`Config::authorized_keys_files`].
    pub authorized_keys_file: Vec<String>,
    /// `PidFile` (default `/run/sisu-sshd.pid`; `None` for `none`).
    pub pid_file: Option<PathBuf>,
    /// `LogLevel` (default `INFO`).
    pub log_level: LogLevel,
    /// `SyslogFacility` (default `AUTH`).
    pub syslog_facility: SyslogFacility,
    /// `PermitRootLogin` (default `prohibit-password`).
    pub permit_root_login: PermitRootLogin,
    /// `PubkeyAuthentication` (default yes).
    pub pubkey_authentication: bool,
    /// `PasswordAuthentication` (default yes).
    pub password_authentication: bool,
    /// `KbdInteractiveAuthentication` / `ChallengeResponseAuthentication` (default yes).
    pub kbd_interactive_authentication: bool,
    /// `PermitEmptyPasswords` (default no).
    pub permit_empty_passwords: bool,
    /// `RSAAuthentication` (default yes): protocol 1's RSA keys.
    pub rsa_authentication: bool,
    /// `ServerKeyBits` (default 1024): protocol 1's server key.
    pub server_key_bits: u32,
    /// `KeyRegenerationInterval` (default 1 h; zero: never): protocol 1's server key
    /// is regenerated this long after it was made, once it has been used.
    pub key_regeneration_interval: Duration,
    /// `MaxAuthTries` (default 6).
    pub max_auth_tries: u32,
    /// `MaxSessions` (default 10).
    pub max_sessions: u32,
    /// `MaxStartups` (default 10:30:100).
    pub max_startups: MaxStartups,
    /// `LoginGraceTime` (default 120 s; zero: no limit).
    pub login_grace_time: Duration,
    /// `ClientAliveInterval` (default 0: off).
    pub client_alive_interval: Duration,
    /// `ClientAliveCountMax` (default 3).
    pub client_alive_count_max: u32,
    /// `AcceptEnv` patterns (default none); see [`Config::accept_env`].
    pub accept_env: Vec<String>,
    /// `PermitUserEnvironment` (default no).
    pub permit_user_environment: PermitUserEnvironment,
    /// `StrictModes` (default yes).
    pub strict_modes: bool,
    /// `PubkeyAuthOptions` (default `none`): `(touch-required, verify-required)`, what
    /// a security key's signature must show for every key.
    pub pubkey_auth_options: (bool, bool),
    /// `Banner` (default none).
    pub banner: Option<PathBuf>,
    /// `PrintMotd` (default yes).
    pub print_motd: bool,
    /// `PrintLastLog` (default yes).
    pub print_last_log: bool,
    /// `PermitUserRC` (default yes): `~/.ssh/rc` runs before the session.
    pub permit_user_rc: bool,
    /// `UseDNS` (default no).
    pub use_dns: bool,
    /// `Subsystem` entries (default none).
    pub subsystems: Vec<Subsystem>,
    /// `X11Forwarding` (default no).
    pub x11_forwarding: bool,
    /// `X11DisplayOffset` (default 10): the first display number tried.
    pub x11_display_offset: u32,
    /// `X11UseLocalhost` (default yes): displays listen on loopback only.
    pub x11_use_localhost: bool,
    /// `XAuthLocation` (default `/usr/bin/xauth`).
    pub xauth_location: PathBuf,
    /// `AllowTcpForwarding` (default yes).
    pub allow_tcp_forwarding: AllowTcpForwarding,
    /// `AllowAgentForwarding` (default yes).
    pub allow_agent_forwarding: bool,
    /// `DisableForwarding` (default no): when yes, overrides every forwarding permission.
    pub disable_forwarding: bool,
    /// `PermitTTY` (default yes).
    pub permit_tty: bool,
    /// `PermitOpen` (default any).
    pub permit_open: PermitOpen,
    /// `GatewayPorts` (default no).
    pub gateway_ports: GatewayPorts,
    /// `PermitListen` (default any): what `tcpip-forward` may bind, as `host:port`
    /// patterns (a bare port is `*:port`).
    pub permit_listen: PermitOpen,
    /// `AllowStreamLocalForwarding` (default yes).
    pub allow_streamlocal_forwarding: AllowTcpForwarding,
    /// `StreamLocalBindMask` (default 0177): the umask of sockets bound for
    /// `streamlocal-forward@openssh.com`.
    pub streamlocal_bind_mask: u32,
    /// `StreamLocalBindUnlink` (default no): remove an existing file before binding.
    pub streamlocal_bind_unlink: bool,
    /// `ChannelTimeout` (default none): `(type pattern, seconds)` pairs, as written
    /// (`session:*=5m` is `("session:*", 300)`); 0 turns a type's timeout off.
    pub channel_timeout: Vec<(String, u64)>,
    /// `UnusedConnectionTimeout` (default none): end a connection this long without
    /// an open channel.
    pub unused_connection_timeout: Option<std::time::Duration>,
    /// `ForceCommand` (default none).
    pub force_command: Option<String>,
    /// `ChrootDirectory`, as written with `%` tokens (default none).
    pub chroot_directory: Option<String>,
    /// `RekeyLimit` (default `default none`: 0 bytes, no interval).
    pub rekey_limit: RekeyLimit,
    /// `ModuliFile` (default `/etc/ssh/moduli`).
    pub moduli_file: PathBuf,
    /// `AllowUsers` patterns (`user` or `user@host`).
    pub allow_users: Vec<String>,
    /// `DenyUsers` patterns.
    pub deny_users: Vec<String>,
    /// `AllowGroups` patterns.
    pub allow_groups: Vec<String>,
    /// `DenyGroups` patterns.
    pub deny_groups: Vec<String>,
    /// `UsePAM` (default no): passwords and keyboard-interactive through PAM, PAM's
    /// account checks for every method, and PAM sessions.
    pub use_pam: bool,
    /// `PAMServiceName` (default `sshd`, as OpenSSH's): the `/etc/pam.d` file used.
    pub pam_service_name: String,
    /// `AuthenticationMethods` (default `any`: `None`): lists of methods, each of which
    /// must all succeed, in order, for one of the lists.
    pub authentication_methods: Option<Vec<Vec<String>>>,
    /// `RevokedKeys` (default none): a KRL or a file of public keys.
    pub revoked_keys: Option<PathBuf>,
    /// `TrustedUserCAKeys` (default none): CA keys whose user certificates are
    /// trusted for any user among their principals (tokens `%h %u %U %%`).
    pub trusted_user_ca_keys: Option<String>,
    /// `AuthorizedPrincipalsFile` (default none): the principals a user's
    /// certificate from a `TrustedUserCAKeys` CA must name one of (tokens as
    /// `AuthorizedKeysFile`'s).
    pub authorized_principals_file: Option<String>,
    /// `CASignatureAlgorithms`: the signature algorithms a CA may sign a user
    /// certificate with.
    pub ca_signature_algorithms: Vec<String>,
    /// `ExposeAuthInfo` (default no): `SSH_USER_AUTH` names a file with the
    /// methods and keys used.
    pub expose_auth_info: bool,
    /// `AuthorizedKeysCommand` (default none): a program whose output is read as
    /// more `authorized_keys` lines.
    pub authorized_keys_command: Option<String>,
    /// `AuthorizedKeysCommandUser`: who runs it.
    pub authorized_keys_command_user: Option<String>,
    /// `AuthorizedPrincipalsCommand` (default none): a program whose output is read
    /// as more `AuthorizedPrincipalsFile` lines.
    pub authorized_principals_command: Option<String>,
    /// `AuthorizedPrincipalsCommandUser`: who runs it.
    pub authorized_principals_command_user: Option<String>,
    /// `RequiredRSASize` (default 1024): smallest RSA modulus accepted, in bits.
    pub required_rsa_size: u32,
    /// `SetEnv` (default none): variables set in every session's environment.
    pub set_env: Vec<(String, String)>,
    /// `VersionAddendum` (default none): appended to the identification line.
    pub version_addendum: Option<String>,
    /// `PerSourceMaxStartups` (default none): unauthenticated connections allowed per
    /// source address block.
    pub per_source_max_startups: Option<u32>,
    /// `PerSourceNetBlockSize` (default 32:128): the prefix lengths that group IPv4 and
    /// IPv6 sources for `PerSourceMaxStartups`.
    pub per_source_net_block_size: (u8, u8),
    /// `RefuseConnection` (default no): end the connection at once (in a `Match` block).
    pub refuse_connection: bool,
    /// `TCPKeepAlive` (default yes): TCP keepalives on client connections.
    pub tcp_keep_alive: bool,
    /// `HostKeyAgent` (default none): the agent socket that holds the host keys whose
    /// private files are missing (`SSH_AUTH_SOCK`: the environment's).
    pub host_key_agent: Option<String>,
    /// `Ciphers`, resolved to supported names.
    pub ciphers: Vec<String>,
    /// `MACs`, resolved.
    pub macs: Vec<String>,
    /// `KexAlgorithms`, resolved.
    pub kex_algorithms: Vec<String>,
    /// `HostKeyAlgorithms`, resolved.
    pub host_key_algorithms: Vec<String>,
    /// `PubkeyAcceptedAlgorithms` (alias `PubkeyAcceptedKeyTypes`), resolved.
    pub pubkey_accepted_algorithms: Vec<String>,
    /// `HostbasedAcceptedAlgorithms` (alias `HostbasedAcceptedKeyTypes`), resolved.
    pub hostbased_accepted_algorithms: Vec<String>,
    /// `HostbasedAuthentication` (default no).
    pub hostbased_authentication: bool,
    /// `HostbasedUsesNameFromPacketOnly` (default no).
    pub hostbased_uses_name_from_packet_only: bool,
    /// `IgnoreRhosts` (default yes): which of `~/.shosts` and `~/.rhosts` hostbased
    /// ignores.
    pub ignore_rhosts: IgnoreRhosts,
    /// `IgnoreUserKnownHosts` (default no).
    pub ignore_user_known_hosts: bool,
    /// `Protocol` (default `2`), in order of preference.
    pub protocol: Vec<ProtocolVersion>,
    /// The `Match` blocks, in file order.
    matches: Vec<parse::MatchBlock>,
}

/// What the command line sets directly, before any `-o` option or the file (OpenSSH's
/// `sshd` assigns these while reading its arguments, so they win).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Overrides {
    /// `-p`: when non-empty, `Port` lines in `-o` options and the file are ignored.
    pub ports: Vec<u16>,
    /// `-h`: host keys, before those of `-o` and the file.
    pub host_keys: Vec<PathBuf>,
    /// `-c`: host certificates, before those of `-o` and the file.
    pub host_certificates: Vec<PathBuf>,
    /// `-4` / `-6`.
    pub address_family: Option<AddressFamily>,
    /// `-q` / `-d`.
    pub log_level: Option<LogLevel>,
    /// `-g`.
    pub login_grace_time: Option<Duration>,
    /// `-o` options, in order (`Keyword=value` or `Keyword value`).
    pub options: Vec<String>,
}

/// A configuration line that could not be accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The file (or [`CMDLINE_FILE`] for `-o`).
    pub file: String,
    /// The line number, from 1 (0 for `-o` options).
    pub line: usize,
    /// What is wrong.
    pub kind: ConfigErrorKind,
}

/// What is wrong with a configuration line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigErrorKind {
    /// A keyword no `sshd` knows.
    BadOption(String),
    /// A keyword with no value.
    MissingArgument(String),
    /// A value that is not of the keyword's type.
    InvalidValue {
        /// The keyword (canonical spelling).
        keyword: &'static str,
        /// The value as written.
        value: String,
    },
    /// An algorithm list that names unsupported algorithms.
    BadAlgorithms {
        /// The keyword.
        keyword: &'static str,
        /// The list as written.
        spec: String,
        /// Which name or pattern failed.
        reason: AlgError,
    },
    /// More arguments than the keyword takes.
    ExtraArguments(&'static str),
    /// A quote that is not closed.
    InvalidQuotes,
    /// A keyword that may not appear inside `Match`.
    NotAllowedInMatch(String),
    /// A `Match` line that cannot be parsed.
    BadMatch(String),
    /// `Match` given with `-o`.
    MatchOnCommandLine,
    /// A second `Subsystem` of the same name.
    DuplicateSubsystem(String),
    /// A list keyword over [`MAX_LIST_ENTRIES`] values, or another size bound.
    TooMany(&'static str),
    /// A keyword (or a value of it) that restricts access and that Sisu cannot apply
    /// yet: refused, never accepted and ignored.
    NotSupportedYet {
        /// The keyword (canonical spelling).
        keyword: &'static str,
        /// The value as written.
        value: String,
    },
    /// Any other reason, as text.
    Other(String),
}

impl fmt::Display for ConfigErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigErrorKind::BadOption(k) => write!(f, "Bad configuration option: {k}"),
            ConfigErrorKind::MissingArgument(k) if k.is_empty() => f.write_str("missing keyword"),
            ConfigErrorKind::MissingArgument(k) => write!(f, "{k} missing argument."),
            ConfigErrorKind::InvalidValue { keyword, value } => {
                write!(f, "invalid value for {keyword}: \"{value}\"")
            }
            ConfigErrorKind::BadAlgorithms {
                keyword,
                spec,
                reason,
            } => write!(f, "Bad {keyword} list '{spec}': {reason}"),
            ConfigErrorKind::ExtraArguments(k) => {
                write!(f, "keyword {k} extra arguments at end of line")
            }
            ConfigErrorKind::InvalidQuotes => f.write_str("invalid quotes"),
            ConfigErrorKind::NotAllowedInMatch(k) => {
                write!(f, "Directive '{k}' is not allowed within a Match block")
            }
            ConfigErrorKind::BadMatch(r) => write!(f, "Bad Match condition: {r}"),
            ConfigErrorKind::MatchOnCommandLine => {
                f.write_str("Match directive not supported as a command-line option")
            }
            ConfigErrorKind::DuplicateSubsystem(n) => {
                write!(f, "Subsystem '{n}' already defined.")
            }
            ConfigErrorKind::TooMany(what) => write!(f, "too many {what} entries"),
            ConfigErrorKind::NotSupportedYet { keyword, value } => {
                write!(f, "{keyword} {value}: not supported yet")
            }
            ConfigErrorKind::Other(r) => f.write_str(r),
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} line {}: {}", self.file, self.line, self.kind)
    }
}

impl std::error::Error for ConfigError {}

/// Parses `text` (the contents of the file at `path`) after the `-o` options
/// `cmdline_opts`, resolving algorithm lists against `algs`.
///
/// Returns the configuration and the warnings (keywords not implemented yet, deprecated
/// ones), each as `FILE line N: message`.
pub fn parse_config(
    text: &str,
    path: &Path,
    cmdline_opts: &[String],
    algs: &AlgorithmSets,
) -> Result<(Config, Vec<String>), ConfigError> {
    let overrides = Overrides {
        options: cmdline_opts.to_vec(),
        ..Overrides::default()
    };
    parse_config_with_overrides(text, path, &overrides, algs)
}

/// [`parse_config`] with everything the command line can set (see [`Overrides`]).
pub fn parse_config_with_overrides(
    text: &str,
    path: &Path,
    overrides: &Overrides,
    algs: &AlgorithmSets,
) -> Result<(Config, Vec<String>), ConfigError> {
    parse_config_with(text, path, overrides, algs, &FsFiles)
}

/// [`parse_config_with_overrides`] reading `Include`d files through `files` (the file
/// system, or a [`Bundle`] recorded by an earlier parse).
pub fn parse_config_with(
    text: &str,
    path: &Path,
    overrides: &Overrides,
    algs: &AlgorithmSets,
    files: &dyn ConfigFiles,
) -> Result<(Config, Vec<String>), ConfigError> {
    parse::parse(text, &path.display().to_string(), overrides, algs, files)
}

impl Config {
    /// The configuration when no file and no option says anything: OpenSSH 9's defaults,
    /// with the default algorithm lists of `algs`.
    pub fn default_for(algs: &AlgorithmSets) -> Config {
        Config {
            ports: vec![22],
            listen_addresses: Vec::new(),
            address_family: AddressFamily::Any,
            host_keys: Vec::new(),
            host_certificates: Vec::new(),
            authorized_keys_file: vec![
                ".ssh/authorized_keys".into(),
                ".ssh/authorized_keys2".into(),
            ],
            pid_file: Some(PathBuf::from("/run/sisu-sshd.pid")),
            log_level: LogLevel::Info,
            syslog_facility: SyslogFacility::Auth,
            permit_root_login: PermitRootLogin::ProhibitPassword,
            pubkey_authentication: true,
            password_authentication: true,
            kbd_interactive_authentication: true,
            permit_empty_passwords: false,
            rsa_authentication: true,
            server_key_bits: 1024,
            key_regeneration_interval: Duration::from_secs(3600),
            max_auth_tries: 6,
            max_sessions: 10,
            max_startups: MaxStartups {
                start: 10,
                rate: 30,
                full: 100,
            },
            login_grace_time: Duration::from_secs(120),
            client_alive_interval: Duration::ZERO,
            client_alive_count_max: 3,
            accept_env: Vec::new(),
            permit_user_environment: PermitUserEnvironment::No,
            strict_modes: true,
            pubkey_auth_options: (false, false),
            banner: None,
            print_motd: true,
            print_last_log: true,
            permit_user_rc: true,
            use_dns: false,
            subsystems: Vec::new(),
            x11_forwarding: false,
            x11_display_offset: 10,
            x11_use_localhost: true,
            xauth_location: PathBuf::from("/usr/bin/xauth"),
            allow_tcp_forwarding: AllowTcpForwarding::All,
            allow_agent_forwarding: true,
            disable_forwarding: false,
            permit_tty: true,
            permit_open: PermitOpen::Any,
            gateway_ports: GatewayPorts::No,
            permit_listen: PermitOpen::Any,
            allow_streamlocal_forwarding: AllowTcpForwarding::All,
            streamlocal_bind_mask: 0o177,
            streamlocal_bind_unlink: false,
            channel_timeout: Vec::new(),
            unused_connection_timeout: None,
            force_command: None,
            chroot_directory: None,
            rekey_limit: RekeyLimit {
                bytes: 0,
                interval: Duration::ZERO,
            },
            moduli_file: PathBuf::from("/etc/ssh/moduli"),
            allow_users: Vec::new(),
            deny_users: Vec::new(),
            allow_groups: Vec::new(),
            deny_groups: Vec::new(),
            use_pam: false,
            pam_service_name: "sshd".into(),
            authentication_methods: None,
            revoked_keys: None,
            trusted_user_ca_keys: None,
            authorized_principals_file: None,
            ca_signature_algorithms: algs.ca_signature.default.clone(),
            expose_auth_info: false,
            authorized_keys_command: None,
            authorized_keys_command_user: None,
            authorized_principals_command: None,
            authorized_principals_command_user: None,
            required_rsa_size: 1024,
            set_env: Vec::new(),
            version_addendum: None,
            per_source_max_startups: None,
            per_source_net_block_size: (32, 128),
            refuse_connection: false,
            tcp_keep_alive: true,
            host_key_agent: None,
            ciphers: algs.ciphers.default.clone(),
            macs: algs.macs.default.clone(),
            kex_algorithms: algs.kex.default.clone(),
            host_key_algorithms: algs.host_key.default.clone(),
            pubkey_accepted_algorithms: algs.pubkey.default.clone(),
            hostbased_accepted_algorithms: algs.pubkey.default.clone(),
            hostbased_authentication: false,
            hostbased_uses_name_from_packet_only: false,
            ignore_rhosts: IgnoreRhosts::Yes,
            ignore_user_known_hosts: false,
            protocol: vec![ProtocolVersion::V2],
            matches: Vec::new(),
        }
    }

    /// The configuration for one connection: the `Match` blocks that `c` satisfies are
    /// applied over the global settings (within them the first value of a keyword wins).
    /// `Match Group` never matches; see [`Config::for_connection_with`].
    pub fn for_connection(&self, c: &ConnectionSpec) -> Config {
        self.for_connection_with(c, &NoGroups)
    }

    /// [`Config::for_connection`] with a group database for `Match Group`.
    pub fn for_connection_with(&self, c: &ConnectionSpec, groups: &dyn GroupLookup) -> Config {
        let mut out = self.clone();
        let mut state = parse::ApplyState::default();
        for block in &self.matches {
            if block.condition.matches(c, groups) {
                for d in &block.directives {
                    // Only a list keyword past MAX_LIST_ENTRIES fails, when many blocks
                    // match; its extra entries are dropped.
                    let _ = parse::apply(&mut out, &mut state, d.clone());
                }
            }
        }
        out
    }

    /// Whether the file had any `Match` block.
    pub fn has_match_blocks(&self) -> bool {
        !self.matches.is_empty()
    }

    /// The `AuthorizedKeysFile` paths for a user: `%h` is the home directory, `%u` the
    /// user name, `%U` the numeric uid, `%%` a `%`; a relative path is taken from `home`.
    /// `none` gives no file.
    pub fn authorized_keys_files(&self, user: &str, uid: u32, home: &Path) -> Vec<PathBuf> {
        authorized_keys_paths(&self.authorized_keys_file, user, uid, home)
    }

    /// Whether `AcceptEnv` lets the client set the environment variable `name`.
    pub fn accept_env(&self, name: &str) -> bool {
        self.accept_env.iter().any(|p| match_pattern(name, p))
    }

    /// The `(address, port)` pairs to listen on: each `ListenAddress` (with its own port,
    /// or else with every `Port`), or, when there is none, the wildcard addresses of the
    /// address family (`::` then `0.0.0.0`) with every `Port`.
    pub fn listen_addrs(&self) -> Vec<(String, u16)> {
        let mut out = Vec::new();
        if self.listen_addresses.is_empty() {
            let hosts: &[&str] = match self.address_family {
                AddressFamily::Any => &["::", "0.0.0.0"],
                AddressFamily::Inet => &["0.0.0.0"],
                AddressFamily::Inet6 => &["::"],
            };
            for &port in &self.ports {
                for h in hosts {
                    out.push((h.to_string(), port));
                }
            }
        } else {
            for la in &self.listen_addresses {
                match la.port {
                    Some(p) => out.push((la.host.clone(), p)),
                    None => out.extend(self.ports.iter().map(|&p| (la.host.clone(), p))),
                }
            }
        }
        out
    }

    /// The effective configuration as `sshd -T` prints it: one `keyword value` per line,
    /// keywords in lower case, every keyword OpenSSH prints in its order and formats
    /// (with the differences [`dump_differences`] lists). It parses back to the same
    /// configuration (without the `Match` blocks, which are not printed).
    pub fn dump(&self) -> String {
        dump::dump(self)
    }
}

/// Parses a time as `sshd_config` and `-g` write it (`120`, `2m`, `1h30m`; suffixes
/// s m h d w); `None` if it is not one.
pub fn parse_time_value(s: &str) -> Option<Duration> {
    values::parse_time(s).ok()
}

/// The files of `AuthorizedKeysFile` entries for a user: `none` skipped, `%h`, `%u`,
/// `%U` and `%%` expanded, relative paths taken from the home directory.
pub fn authorized_keys_paths(
    entries: &[String],
    user: &str,
    uid: u32,
    home: &Path,
) -> Vec<PathBuf> {
    entries
        .iter()
        .filter(|f| !f.eq_ignore_ascii_case("none"))
        .filter_map(|f| expand_tokens(f, user, uid, home))
        .map(|p| {
            let p = PathBuf::from(p);
            if p.is_absolute() {
                p
            } else {
                home.join(p)
            }
        })
        .collect()
}

/// Expands `%h`, `%u`, `%U` and `%%`; `None` for an unknown token (the parser refuses
/// those, so this only guards against hand-built configurations).
pub(crate) fn expand_tokens(s: &str, user: &str, uid: u32, home: &Path) -> Option<String> {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        match chars.next()? {
            '%' => out.push('%'),
            'h' => out.push_str(&home.to_string_lossy()),
            'u' => out.push_str(user),
            'U' => out.push_str(&uid.to_string()),
            _ => return None,
        }
    }
    Some(out)
}
