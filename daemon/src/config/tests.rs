//! Tests of the whole parser: keywords, first-wins, `-o`, errors, `Match`, `-T`.

use super::*;
use proptest::prelude::*;

fn algs() -> AlgorithmSets {
    AlgorithmSets {
        ciphers: Algs::new(
            &[
                "chacha20-poly1305@openssh.com",
                "aes128-ctr",
                "aes256-ctr",
                "aes128-gcm@openssh.com",
                "3des-cbc",
            ],
            &["chacha20-poly1305@openssh.com", "aes128-ctr", "aes256-ctr"],
        ),
        macs: Algs::new(
            &[
                "hmac-sha2-256-etm@openssh.com",
                "hmac-sha2-256",
                "hmac-sha1",
            ],
            &["hmac-sha2-256-etm@openssh.com", "hmac-sha2-256"],
        ),
        kex: Algs::new(
            &[
                "curve25519-sha256",
                "diffie-hellman-group14-sha256",
                "diffie-hellman-group1-sha1",
            ],
            &["curve25519-sha256", "diffie-hellman-group14-sha256"],
        ),
        host_key: Algs::new(
            &["ssh-ed25519", "rsa-sha2-512", "ssh-rsa"],
            &["ssh-ed25519", "rsa-sha2-512"],
        ),
        ca_signature: Algs::new(
            &["ssh-ed25519", "rsa-sha2-512", "ssh-rsa"],
            &["ssh-ed25519", "rsa-sha2-512"],
        ),
        pubkey: Algs::new(
            &[
                "ssh-ed25519",
                "rsa-sha2-512",
                "rsa-sha2-256",
                "ssh-rsa",
                "ssh-dss",
            ],
            &["ssh-ed25519", "rsa-sha2-512", "rsa-sha2-256"],
        ),
    }
}

fn parse(text: &str) -> Result<(Config, Vec<String>), ConfigError> {
    parse_config(text, Path::new("/etc/sisu/sshd_config"), &[], &algs())
}

fn cfg(text: &str) -> Config {
    parse(text).unwrap().0
}

fn err(text: &str) -> String {
    parse(text).unwrap_err().to_string()
}

#[test]
fn defaults_are_openssh_9() {
    let c = cfg("");
    assert_eq!(c, Config::default_for(&algs()));
    assert_eq!(c.ports, [22]);
    assert_eq!(c.permit_root_login, PermitRootLogin::ProhibitPassword);
    assert_eq!(c.max_auth_tries, 6);
    assert_eq!(c.max_sessions, 10);
    assert_eq!(c.login_grace_time, Duration::from_secs(120));
    assert_eq!(
        c.max_startups,
        MaxStartups {
            start: 10,
            rate: 30,
            full: 100
        }
    );
    assert_eq!(c.pid_file.as_deref(), Some(Path::new("/run/sisu-sshd.pid")));
    assert!(c.host_keys.is_empty());
    assert_eq!(c.ciphers, algs().ciphers.default);
    assert_eq!(c.protocol, [ProtocolVersion::V2]);
    assert!(!c.has_match_blocks());
}

#[test]
fn every_implemented_keyword_type() {
    let c = cfg("\
Port 2222
ListenAddress 127.0.0.1
ListenAddress [::1]:2200
AddressFamily inet6
HostKey /etc/sisu/ed25519
HostKey /etc/sisu/rsa
HostCertificate /etc/sisu/ed25519-cert.pub
AuthorizedKeysFile /etc/keys/%u .ssh/ak
PidFile none
LogLevel VERBOSE
SyslogFacility LOCAL3
PermitRootLogin forced-commands-only
PubkeyAuthentication yes
PasswordAuthentication no
ChallengeResponseAuthentication no
PermitEmptyPasswords yes
MaxAuthTries 3
MaxSessions 2
MaxStartups 5:50:20
LoginGraceTime 1m30s
ClientAliveInterval 15
ClientAliveCountMax 4
AcceptEnv LANG LC_*
PermitUserEnvironment PATH,LANG
StrictModes no
Banner /etc/issue.net
PrintMotd no
PrintLastLog no
UseDNS yes
Subsystem sftp /usr/lib/openssh/sftp-server -l INFO
X11Forwarding yes
AllowTcpForwarding local
AllowAgentForwarding no
DisableForwarding yes
PermitTTY no
PermitOpen db:5432 [::1]:*
GatewayPorts clientspecified
ForceCommand /usr/bin/rrsync -ro /srv
RekeyLimit 1G 1h
ModuliFile /etc/sisu/moduli
AllowUsers alice bob@10.0.0.0/8
DenyUsers mallory
AllowGroups staff
DenyGroups guests
UsePAM no
AuthenticationMethods publickey,publickey publickey
RevokedKeys /etc/sisu/revoked
RequiredRSASize 3072
SetEnv A=1 B=two A=3
VersionAddendum hello world
PerSourceMaxStartups 3
PerSourceNetBlockSize 24:56
RefuseConnection no
TCPKeepAlive no
Ciphers aes256-ctr,aes128-ctr
MACs hmac-sha2-256
KexAlgorithms curve25519-sha256
HostKeyAlgorithms ssh-ed25519
PubkeyAcceptedKeyTypes ssh-ed25519,rsa-sha2-*
Protocol 2,1
");
    assert_eq!(c.ports, [2222]);
    assert_eq!(
        c.listen_addresses,
        [
            ListenAddress {
                host: "127.0.0.1".into(),
                port: None
            },
            ListenAddress {
                host: "::1".into(),
                port: Some(2200)
            }
        ]
    );
    assert_eq!(c.address_family, AddressFamily::Inet6);
    assert_eq!(
        c.host_keys,
        [
            PathBuf::from("/etc/sisu/ed25519"),
            PathBuf::from("/etc/sisu/rsa")
        ]
    );
    assert_eq!(c.host_certificates.len(), 1);
    assert_eq!(c.authorized_keys_file, ["/etc/keys/%u", ".ssh/ak"]);
    assert_eq!(c.pid_file, None);
    assert_eq!(c.log_level, LogLevel::Verbose);
    assert_eq!(c.syslog_facility, SyslogFacility::Local(3));
    assert_eq!(c.permit_root_login, PermitRootLogin::ForcedCommandsOnly);
    assert!(c.pubkey_authentication && !c.password_authentication);
    assert!(!c.kbd_interactive_authentication);
    assert!(c.permit_empty_passwords);
    assert_eq!((c.max_auth_tries, c.max_sessions), (3, 2));
    assert_eq!(
        c.max_startups,
        MaxStartups {
            start: 5,
            rate: 50,
            full: 20
        }
    );
    assert_eq!(c.login_grace_time, Duration::from_secs(90));
    assert_eq!(c.client_alive_interval, Duration::from_secs(15));
    assert_eq!(c.client_alive_count_max, 4);
    assert_eq!(c.accept_env, ["LANG", "LC_*"]);
    assert_eq!(
        c.permit_user_environment,
        PermitUserEnvironment::Patterns("PATH,LANG".into())
    );
    assert!(!c.strict_modes && !c.print_motd && !c.print_last_log && c.use_dns);
    assert_eq!(c.banner.as_deref(), Some(Path::new("/etc/issue.net")));
    assert_eq!(
        c.subsystems,
        [Subsystem {
            name: "sftp".into(),
            command: "/usr/lib/openssh/sftp-server -l INFO".into()
        }]
    );
    assert!(c.x11_forwarding && !c.allow_agent_forwarding && c.disable_forwarding && !c.permit_tty);
    assert_eq!(c.allow_tcp_forwarding, AllowTcpForwarding::Local);
    assert_eq!(
        c.permit_open,
        PermitOpen::List(vec![
            PermitOpenTarget {
                host: "db".into(),
                port: Some(5432)
            },
            PermitOpenTarget {
                host: "::1".into(),
                port: None
            },
        ])
    );
    assert_eq!(c.gateway_ports, GatewayPorts::ClientSpecified);
    assert_eq!(c.force_command.as_deref(), Some("/usr/bin/rrsync -ro /srv"));
    assert_eq!(c.chroot_directory, None);
    assert_eq!(
        c.rekey_limit,
        RekeyLimit {
            bytes: 1 << 30,
            interval: Duration::from_secs(3600)
        }
    );
    assert_eq!(c.moduli_file, PathBuf::from("/etc/sisu/moduli"));
    assert_eq!(c.allow_users, ["alice", "bob@10.0.0.0/8"]);
    assert_eq!(c.deny_users, ["mallory"]);
    assert_eq!(
        (c.allow_groups.as_slice(), c.deny_groups.as_slice()),
        (&["staff".to_string()][..], &["guests".to_string()][..])
    );
    assert!(!c.use_pam);
    assert_eq!(
        c.authentication_methods,
        Some(vec![
            vec!["publickey".to_string(), "publickey".to_string()],
            vec!["publickey".to_string()]
        ])
    );
    assert_eq!(c.revoked_keys, Some(PathBuf::from("/etc/sisu/revoked")));
    assert_eq!(c.required_rsa_size, 3072);
    assert_eq!(
        c.set_env,
        [
            ("A".to_string(), "1".to_string()),
            ("B".into(), "two".into())
        ]
    );
    assert_eq!(c.version_addendum.as_deref(), Some("hello world"));
    assert_eq!(c.per_source_max_startups, Some(3));
    assert_eq!(c.per_source_net_block_size, (24, 56));
    assert!(!c.refuse_connection && !c.tcp_keep_alive);
    assert_eq!(c.ciphers, ["aes256-ctr", "aes128-ctr"]);
    assert_eq!(c.macs, ["hmac-sha2-256"]);
    assert_eq!(c.kex_algorithms, ["curve25519-sha256"]);
    assert_eq!(c.host_key_algorithms, ["ssh-ed25519"]);
    assert_eq!(
        c.pubkey_accepted_algorithms,
        ["ssh-ed25519", "rsa-sha2-512", "rsa-sha2-256"]
    );
    assert_eq!(c.protocol, [ProtocolVersion::V2, ProtocolVersion::V1]);
    // -T says so, as the seed's sshd printed it.
    assert!(c.dump().contains("\nprotocol 2,1\n"), "{}", c.dump());
}

#[test]
fn protocol_1_keywords_and_their_bounds() {
    let c = cfg("ServerKeyBits 768\nKeyRegenerationInterval 10m\nRSAAuthentication no\n");
    assert_eq!(c.server_key_bits, 768);
    assert_eq!(c.key_regeneration_interval, Duration::from_secs(600));
    assert!(!c.rsa_authentication);
    let d = c.dump();
    for line in [
        "serverkeybits 768",
        "keyregenerationinterval 600",
        "rsaauthentication no",
    ] {
        assert!(d.contains(&format!("\n{line}\n")), "{line}: {d}");
    }
    let defaults = cfg("");
    assert_eq!(defaults.server_key_bits, 1024);
    assert_eq!(
        defaults.key_regeneration_interval,
        Duration::from_secs(3600)
    );
    assert!(defaults.rsa_authentication);
    for bad in ["ServerKeyBits 256", "ServerKeyBits 9000", "ServerKeyBits x"] {
        let e = parse(bad).unwrap_err().to_string();
        assert!(
            e.contains("line 1: invalid value for ServerKeyBits"),
            "{bad}: {e}"
        );
    }
}

#[test]
fn keywords_are_case_insensitive_and_forms_are_equivalent() {
    for text in [
        "maxauthtries 3",
        "MAXAUTHTRIES=3",
        "MaxAuthTries = 3",
        "  MaxAuthTries \"3\" # c",
    ] {
        assert_eq!(cfg(text).max_auth_tries, 3, "{text:?}");
    }
}

#[test]
fn first_value_wins_for_single_valued_keywords() {
    let c = cfg(
        "MaxAuthTries 3\nMaxAuthTries 9\nPermitRootLogin no\npermitrootlogin yes\n\
                 Ciphers aes128-ctr\nCiphers aes256-ctr\nPidFile /a\nPidFile /b\n",
    );
    assert_eq!(c.max_auth_tries, 3);
    assert_eq!(c.permit_root_login, PermitRootLogin::No);
    assert_eq!(c.ciphers, ["aes128-ctr"]);
    assert_eq!(c.pid_file.as_deref(), Some(Path::new("/a")));
    // An alias counts as the same keyword.
    let c = cfg("KbdInteractiveAuthentication no\nChallengeResponseAuthentication yes\n");
    assert!(!c.kbd_interactive_authentication);
}

#[test]
fn list_keywords_accumulate() {
    let c =
        cfg("Port 22\nPort 2222\nAcceptEnv LANG\nAcceptEnv LC_*\nAllowUsers a\nAllowUsers b c\n");
    assert_eq!(c.ports, [22, 2222]);
    assert_eq!(c.accept_env, ["LANG", "LC_*"]);
    assert_eq!(c.allow_users, ["a", "b", "c"]);
    assert!(c.accept_env("LC_ALL"));
    assert!(c.accept_env("LANG"));
    assert!(!c.accept_env("LANGUAGE"));
    assert!(!c.accept_env("PATH"));
}

#[test]
fn command_line_options_come_first_and_win() {
    let opts = [
        "MaxAuthTries=2".to_string(),
        "PermitRootLogin no".to_string(),
        "Port=2200".into(),
    ];
    let (c, _) = parse_config(
        "MaxAuthTries 9\nPermitRootLogin yes\nPort 22\n",
        Path::new("f"),
        &opts,
        &algs(),
    )
    .unwrap();
    assert_eq!(c.max_auth_tries, 2);
    assert_eq!(c.permit_root_login, PermitRootLogin::No);
    assert_eq!(c.ports, [2200, 22]);

    let e = parse_config("", Path::new("f"), &["MaxAuthTries=x".into()], &algs()).unwrap_err();
    assert_eq!(
        e.to_string(),
        "command-line line 0: invalid value for MaxAuthTries: \"x\""
    );
    let e = parse_config("", Path::new("f"), &["Match User x".into()], &algs()).unwrap_err();
    assert_eq!(e.kind, ConfigErrorKind::MatchOnCommandLine);
}

#[test]
fn direct_overrides_from_flags() {
    let ov = Overrides {
        ports: vec![2022],
        host_keys: vec!["/k1".into()],
        address_family: Some(AddressFamily::Inet),
        log_level: Some(LogLevel::Debug3),
        login_grace_time: Some(Duration::from_secs(5)),
        options: vec!["Port 7".into(), "AddressFamily inet6".into()],
        ..Overrides::default()
    };
    let (c, _) = parse_config_with_overrides(
        "Port 22\nHostKey /k2\nLogLevel QUIET\nLoginGraceTime 9\n",
        Path::new("f"),
        &ov,
        &algs(),
    )
    .unwrap();
    assert_eq!(c.ports, [2022], "-p makes Port lines ignored");
    assert_eq!(c.host_keys, [PathBuf::from("/k1"), PathBuf::from("/k2")]);
    assert_eq!(c.address_family, AddressFamily::Inet);
    assert_eq!(c.log_level, LogLevel::Debug3);
    assert_eq!(c.login_grace_time, Duration::from_secs(5));
}

#[test]
fn algorithm_modifiers_in_the_file() {
    assert_eq!(
        cfg("Ciphers +3des-cbc").ciphers,
        [
            "chacha20-poly1305@openssh.com",
            "aes128-ctr",
            "aes256-ctr",
            "3des-cbc"
        ]
    );
    assert_eq!(
        cfg("Ciphers -aes*").ciphers,
        ["chacha20-poly1305@openssh.com"]
    );
    assert_eq!(cfg("MACs ^hmac-sha1").macs[0], "hmac-sha1");
    assert_eq!(
        cfg("KexAlgorithms *-sha256").kex_algorithms,
        ["curve25519-sha256", "diffie-hellman-group14-sha256"]
    );
    assert_eq!(
        err("Ciphers +blowfish-cbc"),
        "/etc/sisu/sshd_config line 1: Bad Ciphers list '+blowfish-cbc': unsupported algorithm 'blowfish-cbc'"
    );
    assert!(err("HostKeyAlgorithms nothing*").contains("matches no supported algorithm"));
}

#[test]
fn errors_carry_file_line_and_reason() {
    assert_eq!(
        err("Port 22\n\nFrobnicate yes\n"),
        "/etc/sisu/sshd_config line 3: Bad configuration option: Frobnicate"
    );
    assert_eq!(
        err("# x\nMaxAuthTries abc"),
        "/etc/sisu/sshd_config line 2: invalid value for MaxAuthTries: \"abc\""
    );
    assert_eq!(
        err("Port"),
        "/etc/sisu/sshd_config line 1: no argument after keyword \"Port\""
    );
    assert_eq!(
        err("Port 22 23"),
        "/etc/sisu/sshd_config line 1: keyword Port extra arguments at end of line"
    );
    assert_eq!(
        err("Banner \"x"),
        "/etc/sisu/sshd_config line 1: invalid quotes"
    );
    assert_eq!(
        err("Banner \"\""),
        "/etc/sisu/sshd_config line 1: Banner missing argument."
    );
    assert_eq!(err("Port 0").lines().count(), 1);
    assert!(err("PermitRootLogin maybe").contains("invalid value for PermitRootLogin"));
    assert!(err("LoginGraceTime 2x").contains("invalid value for LoginGraceTime"));
    assert!(err("UseDNS 1").contains("invalid value for UseDNS"));
    assert!(err("RekeyLimit 8").contains("invalid value for RekeyLimit"));
    assert!(err("AcceptEnv A=b").contains("invalid value for AcceptEnv"));
    assert!(err("AuthorizedKeysFile %x/keys").contains("invalid value for AuthorizedKeysFile"));
    assert!(err("PermitOpen any db:1").contains("extra arguments"));
    assert!(err("AllowUsers bob@10.0.0.1/8").contains("invalid value for AllowUsers"));
    assert_eq!(
        err("Subsystem sftp /a\nSubsystem sftp /b"),
        "/etc/sisu/sshd_config line 2: Subsystem 'sftp' already defined."
    );
    assert!(err("Subsystem sftp").contains("Missing subsystem command"));
    assert_eq!(
        err("Match User bob\n  Port 22"),
        "/etc/sisu/sshd_config line 2: Directive 'Port' is not allowed within a Match block"
    );
    assert!(err("Match Colour blue").contains("Unsupported Match attribute Colour"));
    assert!(err("Match").contains("no argument after keyword"));
}

#[test]
fn known_but_unimplemented_and_deprecated_keywords_warn() {
    let (c, w) = parse(
        "UsePrivilegeSeparation sandbox\nIPQoS lowdelay\nRhostsRSAAuthentication yes\n\
         KerberosTGTPassing yes\nPort 2\n",
    )
    .unwrap();
    assert_eq!(c.ports, [2]);
    assert_eq!(
        w,
        [
            "/etc/sisu/sshd_config line 1: Deprecated option UsePrivilegeSeparation",
            "/etc/sisu/sshd_config line 2: option IPQoS is not implemented yet; ignored",
            "/etc/sisu/sshd_config line 3: Deprecated option RhostsRSAAuthentication",
            "/etc/sisu/sshd_config line 4: Unsupported option KerberosTGTPassing",
        ]
    );
    // Still not allowed in Match when OpenSSH forbids it there.
    assert!(err("Match all\nUseLogin no").contains("not allowed within a Match block"));
}

#[test]
fn debian_default_config_starts_as_it_is() {
    let text = "\
# This is the sshd server system-wide configuration file.
# (Debian's includes /etc/ssh/sshd_config.d/*.conf; a directory that is absent here
# keeps the test independent of the machine: a pattern matching nothing is fine.)
Include /nonexistent-sisu-test/sshd_config.d/*.conf
#Port 22
KbdInteractiveAuthentication no
UsePAM yes
X11Forwarding yes
PrintMotd no
AcceptEnv LANG LC_*
Subsystem\tsftp\t/usr/lib/openssh/sftp-server
";
    // UsePAM yes is applied (PAM's stack for passwords, accounts and sessions), and
    // X11Forwarding yes too: nothing to warn about.
    let (c, w) = parse(text).unwrap();
    assert!(w.is_empty(), "{w:?}");
    assert!(c.use_pam && c.x11_forwarding && !c.print_motd && !c.kbd_interactive_authentication);
    assert_eq!(c.pam_service_name, "sshd");
    assert_eq!(c.subsystems[0].command, "/usr/lib/openssh/sftp-server");
}

#[test]
fn restrictions_sisu_cannot_apply_stop_start_up() {
    for (text, want) in [
        (
            "PerSourcePenalties yes",
            "PerSourcePenalties yes: not supported yet",
        ),
        ("RDomain %D", "RDomain %D: not supported yet"),
        (
            "AuthenticationMethods publickey,gssapi-with-mic",
            "AuthenticationMethods publickey,gssapi-with-mic (method gssapi-with-mic): not supported yet",
        ),
    ] {
        assert_eq!(err(text), format!("/etc/sisu/sshd_config line 1: {want}"));
        // In a Match block too (where the keyword may appear there).
        if !text.starts_with("PerSourcePenalties") {
            let in_match = format!("Match User alice\n  {text}\n");
            assert_eq!(
                err(&in_match),
                format!("/etc/sisu/sshd_config line 2: {want}")
            );
        }
    }
    // Their "off" values are fine.
    for text in [
        "ChrootDirectory none",
        "ChannelTimeout none",
        "UnusedConnectionTimeout none",
        "PerSourcePenalties no",
        "RDomain none",
        "AuthenticationMethods any",
        "UsePAM no",
        "ForceCommand internal-sftp",
    ] {
        let (_, w) = parse(text).unwrap();
        assert!(w.is_empty(), "{text}: {w:?}");
    }
    assert!(err("AuthenticationMethods publickey,bogus").contains("invalid value"));
    assert!(
        err("PubkeyAuthentication no\nAuthenticationMethods publickey").contains(
            "AuthenticationMethods cannot be satisfied by enabled authentication methods"
        )
    );
    assert!(err("AuthenticationMethods any publickey").contains("must appear alone"));
    // keyboard-interactive (with or without its device) is a method Sisu has; a list
    // naming it is unsatisfiable when it is turned off.
    let c = cfg("AuthenticationMethods publickey,keyboard-interactive:pam password");
    assert_eq!(
        c.authentication_methods.unwrap()[0],
        ["publickey", "keyboard-interactive:pam"]
    );
    assert!(
        err("KbdInteractiveAuthentication no\nAuthenticationMethods keyboard-interactive")
            .contains("cannot be satisfied")
    );
    assert!(err("PAMServiceName ../shadow").contains("invalid value"));
    assert_eq!(
        cfg("PubkeyAuthOptions verify-required touch-required").pubkey_auth_options,
        (true, true)
    );
    assert_eq!(
        cfg("PubkeyAuthOptions none").pubkey_auth_options,
        (false, false)
    );
    assert!(err("PubkeyAuthOptions none touch-required").contains("invalid value"));
    assert!(err("PubkeyAuthOptions bogus").contains("invalid value"));
    assert_eq!(cfg("PAMServiceName sisu").pam_service_name, "sisu");
    // `none` is a method name, as in OpenSSH, and always counts as enabled (regress
    // multipubkey.sh sets it globally with PubkeyAuthentication no, and publickey in a
    // Match block).
    let (c, _) = parse(
        "AuthenticationMethods none\nPubkeyAuthentication no\nMatch all\n\
         PubkeyAuthentication yes\nAuthenticationMethods publickey,publickey\n",
    )
    .unwrap();
    assert_eq!(
        c.authentication_methods,
        Some(vec![vec!["none".to_string()]])
    );
    assert!(parse("PubkeyAuthentication no\nAuthenticationMethods none publickey").is_ok());
    assert!(err("RequiredRSASize 512").contains("invalid value"));
    assert!(err("SetEnv NOEQUALS").contains("Invalid environment"));
    assert!(err("PerSourceNetBlockSize 33").contains("invalid value"));
}

#[test]
fn absent_features_hold_and_turning_them_on_warns() {
    let (c, w) = parse(
        "PermitListen any\nAllowAgentForwarding no\nGatewayPorts no\nX11UseLocalhost no\n\
         PasswordAuthentication yes\nAllowAgentForwarding yes\nPermitTunnel yes\n",
    )
    .unwrap();
    // Forwarding is implemented now: only tun forwarding is still absent.
    assert_eq!(
        w,
        [
            "/etc/sisu/sshd_config line 7: PermitTunnel yes: tun forwarding is not implemented yet; ignored",
        ]
    );
    assert!(!c.allow_agent_forwarding, "first value wins");
    assert!(
        err("PermitListen").contains("no argument"),
        "{}",
        err("PermitListen")
    );
}

/// Lines that parse, one or two per implemented keyword, for the `-T` round trip.
const VALID_LINES: &[&str] = &[
    "Port 2222",
    "Port 22",
    "ListenAddress 127.0.0.1",
    "ListenAddress [::1]:2200",
    "AddressFamily inet",
    "HostKey /etc/sisu/ed25519",
    "HostCertificate /etc/sisu/ed25519-cert.pub",
    "AuthorizedKeysFile /etc/keys/%u .ssh/ak",
    "PidFile none",
    "PidFile /run/x.pid",
    "LogLevel DEBUG2",
    "SyslogFacility LOCAL5",
    "PermitRootLogin no",
    "PubkeyAuthentication no",
    "PasswordAuthentication no",
    "KbdInteractiveAuthentication no",
    "MaxAuthTries 3",
    "MaxSessions 0",
    "MaxStartups 5:50:20",
    "LoginGraceTime 1m30s",
    "ClientAliveInterval 15",
    "ClientAliveCountMax 0",
    "AcceptEnv LANG LC_*",
    "PermitUserEnvironment PATH,LANG",
    "PermitUserEnvironment yes",
    "StrictModes no",
    "Banner /etc/issue.net",
    "PrintMotd no",
    "Subsystem sftp /usr/lib/openssh/sftp-server -l INFO",
    "AllowTcpForwarding local",
    "AllowAgentForwarding no",
    "DisableForwarding yes",
    "PermitTTY no",
    "PermitOpen db:5432 [::1]:*",
    "PermitOpen none",
    "GatewayPorts no",
    "ForceCommand echo forced $SSH_ORIGINAL_COMMAND",
    "RekeyLimit 1G 1h",
    "RekeyLimit default none",
    "ModuliFile /etc/sisu/moduli",
    "AllowUsers alice bob@10.0.0.0/8",
    "DenyUsers mallory",
    "AllowGroups staff",
    "DenyGroups guests",
    "Ciphers aes256-ctr,aes128-ctr",
    "MACs hmac-sha2-256",
    "KexAlgorithms curve25519-sha256",
    "HostKeyAlgorithms ssh-ed25519",
    "PubkeyAcceptedAlgorithms ssh-ed25519,rsa-sha2-*",
    "AuthenticationMethods publickey,publickey publickey",
    "RevokedKeys /etc/sisu/revoked",
    "RequiredRSASize 3072",
    "SetEnv A=1 \"B=two words\"",
    "VersionAddendum hello world",
    "PerSourceMaxStartups 3",
    "PerSourceNetBlockSize 24:56",
    "RefuseConnection yes",
    "TCPKeepAlive no",
    "UsePAM no",
    "MaxStartups 7",
    "SetEnv C=3",
    "PermitUserEnvironment \"A B\"",
    "Banner \"/etc/issue net\"",
    "X11DisplayOffset 20",
    "IPQoS af21 cs1",
    "PerSourceNetBlockSize 20",
];

/// A configuration as `-T` can show it: listen addresses as the (address, port) pairs
/// they come to, and without the Match blocks.
fn comparable(c: &Config) -> Config {
    let mut c = c.clone();
    c.listen_addresses = c
        .listen_addrs()
        .into_iter()
        .map(|(host, port)| ListenAddress {
            host,
            port: Some(port),
        })
        .collect();
    c.matches.clear();
    c
}

fn spec(user: &str, addr: &str) -> ConnectionSpec {
    ConnectionSpec {
        user: Some(user.into()),
        host: Some("client.example.org".into()),
        address: Some(addr.into()),
        local_address: Some("10.0.0.1".into()),
        local_port: Some(22),
        rdomain: None,
    }
}

#[test]
fn match_blocks_apply_per_connection() {
    let c = cfg("\
PasswordAuthentication no
MaxAuthTries 3
Match Address 10.0.0.0/8,!10.66.0.0/16
    PasswordAuthentication yes
Match User alice Host *.example.org
    MaxAuthTries 10
    AcceptEnv GIT_*
    PermitRootLogin no
Match User alice
    MaxAuthTries 20
    ForceCommand /bin/true
Match LocalPort 2222
    Banner /etc/banner
Match All
    X11Forwarding yes
");
    assert!(c.has_match_blocks());
    // The global configuration ignores the blocks.
    assert!(!c.password_authentication && !c.x11_forwarding);
    assert_eq!(c.max_auth_tries, 3);

    let a = c.for_connection(&spec("alice", "10.1.2.3"));
    assert!(a.password_authentication);
    assert_eq!(a.max_auth_tries, 10, "first matching block wins");
    assert_eq!(a.force_command.as_deref(), Some("/bin/true"));
    assert_eq!(a.accept_env, ["GIT_*"]);
    assert_eq!(a.permit_root_login, PermitRootLogin::No);
    assert_eq!(a.banner, None);
    assert!(a.x11_forwarding);

    let b = c.for_connection(&spec("bob", "10.66.0.9"));
    assert!(!b.password_authentication, "negated address");
    assert_eq!(b.max_auth_tries, 3);
    assert_eq!(b.force_command, None);
    assert!(b.x11_forwarding);

    let mut on_2222 = spec("bob", "192.0.2.1");
    on_2222.local_port = Some(2222);
    assert_eq!(
        c.for_connection(&on_2222).banner.as_deref(),
        Some(Path::new("/etc/banner"))
    );

    // Missing information does not match.
    let none = c.for_connection(&ConnectionSpec::default());
    assert_eq!(none.max_auth_tries, 3);
    assert!(none.x11_forwarding);
}

#[test]
fn match_group_uses_the_lookup() {
    let c = cfg("Match Group wheel\n  PermitTTY no\n");
    let groups = |u: &str| (u == "alice").then(|| vec!["users".to_string(), "wheel".to_string()]);
    assert!(
        !c.for_connection_with(&spec("alice", "::1"), &groups)
            .permit_tty
    );
    assert!(
        c.for_connection_with(&spec("bob", "::1"), &groups)
            .permit_tty
    );
    assert!(c.for_connection(&spec("alice", "::1")).permit_tty);
}

#[test]
fn authorized_keys_files_expand_tokens() {
    let c = cfg("AuthorizedKeysFile .ssh/authorized_keys /etc/ssh/keys/%u_%U %h/x%%y");
    assert_eq!(
        c.authorized_keys_files("alice", 1001, Path::new("/home/alice")),
        [
            PathBuf::from("/home/alice/.ssh/authorized_keys"),
            PathBuf::from("/etc/ssh/keys/alice_1001"),
            PathBuf::from("/home/alice/x%y"),
        ]
    );
    assert_eq!(
        cfg("").authorized_keys_files("bob", 5, Path::new("/h")),
        [
            PathBuf::from("/h/.ssh/authorized_keys"),
            PathBuf::from("/h/.ssh/authorized_keys2")
        ]
    );
    assert!(cfg("AuthorizedKeysFile none")
        .authorized_keys_files("b", 5, Path::new("/h"))
        .is_empty());
}

#[test]
fn listen_addrs_combine_addresses_and_ports() {
    assert_eq!(
        cfg("Port 22\nPort 2222").listen_addrs(),
        [
            ("::".into(), 22),
            ("0.0.0.0".into(), 22),
            ("::".into(), 2222),
            ("0.0.0.0".into(), 2222)
        ]
    );
    assert_eq!(
        cfg("AddressFamily inet\nListenAddress 127.0.0.1\nListenAddress [::1]:99\nPort 7")
            .listen_addrs(),
        [("127.0.0.1".to_string(), 7), ("::1".to_string(), 99)]
    );
}

#[test]
fn dump_prints_like_sshd_t() {
    let out = cfg(
        "Port 2222\nListenAddress ::1\nLoginGraceTime 2m\nPermitRootLogin without-password\n\
                   AcceptEnv LANG LC_*\nSubsystem sftp internal-sftp\nLogLevel DEBUG3\n\
                   AuthorizedKeysFile a b\nMaxStartups 3:20:9\nRekeyLimit 1M\n",
    )
    .dump();
    for line in [
        "port 2222",
        "addressfamily any",
        "listenaddress [::1]:2222",
        "logingracetime 120",
        "permitrootlogin prohibit-password",
        "acceptenv LANG",
        "acceptenv LC_*",
        "subsystem sftp internal-sftp",
        "loglevel DEBUG3",
        "syslogfacility AUTH",
        "authorizedkeysfile a b",
        "maxstartups 3:20:9",
        "rekeylimit 1048576 0",
        "ciphers chacha20-poly1305@openssh.com,aes128-ctr,aes256-ctr",
        "pidfile /run/sisu-sshd.pid",
        "banner none",
        "permitopen any",
        "permituserenvironment no",
        "allowtcpforwarding yes",
        "protocol 2",
        // Keywords whose value Sisu does not keep show OpenSSH's default.
        "x11displayoffset 10",
        "ipqos lowdelay throughput",
        "unusedconnectiontimeout none",
        "authenticationmethods any",
        "persourcepenalties no",
    ] {
        assert!(out.lines().any(|l| l == line), "missing {line:?} in\n{out}");
    }
    assert!(!out.contains("logingracetime 120\nlogingracetime"));
    // Every line is `keyword value` with a lower-case keyword.
    for l in out.lines() {
        let (k, v) = l.split_once(' ').unwrap();
        assert_eq!(k, k.to_ascii_lowercase());
        assert!(!v.is_empty(), "{l}");
    }
    // The default dump lists both wildcard addresses.
    let d = cfg("").dump();
    assert!(d.contains("listenaddress [::]:22\nlistenaddress 0.0.0.0:22\n"));
    // What the file says about a keyword whose value is not kept does not show.
    let x = cfg("IPQoS af21\nLogVerbose kex.c:*\n").dump();
    assert_eq!(x, d);
    assert!(
        !d.contains("logverbose"),
        "printed only when set, and not kept"
    );
}

#[test]
fn dump_formats_values_as_openssh() {
    let line = |text: &str, keyword: &str| -> Vec<String> {
        cfg(text)
            .dump()
            .lines()
            .filter(|l| l.split(' ').next() == Some(keyword))
            .map(str::to_string)
            .collect()
    };
    assert_eq!(line("MaxStartups 3", "maxstartups"), ["maxstartups 3:30:3"]);
    assert_eq!(
        line("LoginGraceTime 1h2m3s", "logingracetime"),
        ["logingracetime 3723"]
    );
    assert_eq!(
        line("RekeyLimit 4T 1d", "rekeylimit"),
        ["rekeylimit 4398046511104 86400"]
    );
    assert_eq!(
        line("RekeyLimit 500M none", "rekeylimit"),
        ["rekeylimit 524288000 0"]
    );
    assert_eq!(line("LogLevel debug1", "loglevel"), ["loglevel DEBUG"]);
    assert_eq!(
        line("PermitOpen *:* [fe80::1]:22 host.example:*", "permitopen"),
        ["permitopen *:* [fe80::1]:22 host.example:*"]
    );
    assert_eq!(
        line(
            "ListenAddress [::1]:2222\nListenAddress 127.0.0.1\nPort 2000\nPort 2001",
            "listenaddress"
        ),
        [
            "listenaddress [::1]:2222",
            "listenaddress 127.0.0.1:2000",
            "listenaddress 127.0.0.1:2001"
        ]
    );
    assert_eq!(
        line("AuthorizedKeysFile .ssh/a \"/b c\"", "authorizedkeysfile"),
        ["authorizedkeysfile .ssh/a \"/b c\""]
    );
    // One line for SetEnv: only the first SetEnv line counts.
    assert_eq!(
        line("SetEnv A=1 \"B=two words\"", "setenv"),
        ["setenv A=1 \"B=two words\""]
    );
    assert_eq!(
        line("PermitUserEnvironment \"A B\"", "permituserenvironment"),
        ["permituserenvironment \"A B\""]
    );
    assert_eq!(
        line("Subsystem sftp internal-sftp -l VERBOSE", "subsystem"),
        ["subsystem sftp internal-sftp -l VERBOSE"]
    );
    assert_eq!(
        line("PerSourceNetBlockSize 24", "persourcenetblocksize"),
        ["persourcenetblocksize 24:128"]
    );
}

#[test]
fn dump_of_a_connection_shows_match_results() {
    let c = cfg("Match User alice\n  PermitRootLogin yes\n");
    let alice = ConnectionSpec::parse("user=alice,addr=10.0.0.1").unwrap();
    assert!(c
        .for_connection(&alice)
        .dump()
        .contains("permitrootlogin yes\n"));
    assert!(c.dump().contains("permitrootlogin prohibit-password\n"));
}

#[test]
fn size_bounds() {
    let big = "#".repeat(MAX_CONFIG_BYTES + 1);
    assert!(matches!(
        parse(&big).unwrap_err().kind,
        ConfigErrorKind::TooMany(_)
    ));
    let many_ports: String = (0..MAX_LIST_ENTRIES + 1).map(|_| "Port 22\n").collect();
    assert!(matches!(
        parse(&many_ports).unwrap_err().kind,
        ConfigErrorKind::TooMany("Port")
    ));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_text_never_panics(text in "(?s).{0,400}") {
        let _ = parse(&text);
    }

    #[test]
    fn arbitrary_keyword_lines_never_panic(
        lines in proptest::collection::vec(
            (proptest::sample::select(keywords::all_spellings().collect::<Vec<_>>()),
             "[ -~]{0,40}"),
            0..20)
    ) {
        let text: String = lines.iter().map(|(k, v)| format!("{k} {v}\n")).collect();
        if let Ok((c, _)) = parse(&text) {
            // The oracle: -T's output is a configuration that parses back to the same
            // global settings (Match blocks are not part of -T's output).
            let dumped = c.dump();
            let again = match parse(&dumped) {
                Ok((again, _)) => again,
                Err(e) => return Err(TestCaseError::fail(format!("{e}\n{text}\n---\n{dumped}"))),
            };
            prop_assert_eq!(comparable(&again), comparable(&c), "{}\n---\n{}", text, dumped);
            // Evaluating Match blocks for any connection keeps the global values it
            // does not touch.
            let alice = c.for_connection(&spec("alice", "10.0.0.1"));
            prop_assert_eq!(&alice.ports, &c.ports);
        }
    }

    /// `-T` output parses back to the same configuration, for any choice and order of
    /// valid lines (the oracle the random-text test above rarely reaches).
    #[test]
    fn dump_of_valid_configs_parses_back_to_them(
        lines in proptest::sample::subsequence(VALID_LINES.to_vec(), 0..24).prop_shuffle()
    ) {
        // Lines that no enabled method could satisfy are refused, not dumped.
        prop_assume!(!(lines.contains(&"PubkeyAuthentication no")
            && lines.iter().any(|l| l.starts_with("AuthenticationMethods publickey"))));
        let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
        let (c, _) = parse(&text).map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
        let dumped = c.dump();
        let (again, _) = parse(&dumped)
            .map_err(|e| TestCaseError::fail(format!("{e}\n{text}\n---\n{dumped}")))?;
        prop_assert_eq!(comparable(&again), comparable(&c), "{}\n---\n{}", text, dumped);
    }

    #[test]
    fn integer_keywords_round_trip(n in 0u32..=i32::MAX as u32) {
        let c = cfg(&format!("MaxAuthTries {n}\nClientAliveCountMax={n}"));
        prop_assert_eq!(c.max_auth_tries, n);
        let want = format!("clientalivecountmax {}\n", n);
        prop_assert!(c.dump().contains(&want));
    }

    #[test]
    fn dump_reparses_to_the_same_config(
        ports in proptest::collection::vec(1u16.., 1..4),
        tries in 0u32..100,
        root in proptest::sample::select(vec!["yes", "no", "prohibit-password", "forced-commands-only"]),
        grace in 0u64..100_000,
    ) {
        let text: String = ports.iter().map(|p| format!("Port {p}\n")).collect::<String>()
            + &format!("MaxAuthTries {tries}\nPermitRootLogin {root}\nLoginGraceTime {grace}\n");
        let c = cfg(&text);
        // The dump is itself a valid configuration (listenaddress lines aside, which
        // repeat ports) and yields the same values.
        let dumped: String = c.dump().lines()
            .filter(|l| !l.starts_with("listenaddress"))
            .map(|l| format!("{l}\n")).collect();
        let again = cfg(&dumped);
        prop_assert_eq!(&again.ports, &c.ports);
        prop_assert_eq!(again.max_auth_tries, c.max_auth_tries);
        prop_assert_eq!(again.permit_root_login, c.permit_root_login);
        prop_assert_eq!(again.login_grace_time, c.login_grace_time);
        prop_assert_eq!(again.dump(), c.dump());
    }
}

#[test]
fn include_reads_globbed_files_in_order_first_value_wins() {
    let dir = std::env::temp_dir().join(format!("sisu-include-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("conf.d")).unwrap();
    std::fs::write(
        dir.join("conf.d/20-late.conf"),
        "PasswordAuthentication yes\nCompression yes\nMaxAuthTries 9\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("conf.d/10-early.conf"),
        format!(
            "PasswordAuthentication no\nInclude {}/nested.conf\n",
            dir.display()
        ),
    )
    .unwrap();
    std::fs::write(dir.join("nested.conf"), "MaxAuthTries 4\nBogusKeyword x\n").unwrap();
    std::fs::write(dir.join("conf.d/not-matched.txt"), "MaxSessions 1\n").unwrap();
    let main = format!("Include {}/conf.d/*.conf\nMaxAuthTries 2\n", dir.display());
    let e = parse(&main).unwrap_err();
    // An error in an included file names that file and its line.
    assert_eq!(
        e.to_string(),
        format!(
            "{}/nested.conf line 2: Bad configuration option: BogusKeyword",
            dir.display()
        )
    );
    std::fs::write(dir.join("nested.conf"), "MaxAuthTries 4\n").unwrap();
    let (c, w) = parse(&main).unwrap();
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(w[0].contains("20-late.conf line 2: Compression yes"));
    // 10-early.conf comes first (lexical order), and its nested file before 20-late.
    assert!(!c.password_authentication);
    assert_eq!(c.max_auth_tries, 4);
    assert_eq!(c.max_sessions, 10, "only *.conf files are read");

    // Inside a Match block the included lines belong to the block.
    std::fs::write(dir.join("block.conf"), "PermitTTY no\n").unwrap();
    let (c, _) = parse(&format!(
        "Match User alice\n  Include {}/block.conf\n",
        dir.display()
    ))
    .unwrap();
    assert!(c.permit_tty);
    assert!(!c.for_connection(&spec("alice", "192.0.2.1")).permit_tty);

    // A Match in an included file holds only where the including block holds, and
    // ends with the file: the including block (or the global part) carries on.
    std::fs::write(
        dir.join("nested.conf"),
        "Match Address 10.0.0.0/8\n  MaxSessions 3\nMatch All\n  MaxAuthTries 9\n",
    )
    .unwrap();
    let (c, _) = parse(&format!(
        "Match User alice\n  Include {d}/nested.conf\n  PermitTTY no\n\
         Match User bob\n  Include {d}/nested.conf\n",
        d = dir.display()
    ))
    .unwrap();
    let alice_in = c.for_connection(&spec("alice", "10.1.1.1"));
    assert_eq!((alice_in.max_sessions, alice_in.max_auth_tries), (3, 9));
    assert!(
        !alice_in.permit_tty,
        "alice's block carries on after the Include"
    );
    let alice_out = c.for_connection(&spec("alice", "192.0.2.1"));
    assert_eq!((alice_out.max_sessions, alice_out.max_auth_tries), (10, 9));
    let carol = c.for_connection(&spec("carol", "10.1.1.1"));
    assert_eq!(
        (carol.max_sessions, carol.max_auth_tries, carol.permit_tty),
        (10, 6, true),
        "Match All inside another user's block does not reach carol"
    );
    // At the top level, a Match in the included file does not capture what follows.
    std::fs::write(dir.join("match-only.conf"), "Match User nobody\n").unwrap();
    let (c, _) = parse(&format!(
        "Include {}/match-only.conf\nMaxSessions 4\n",
        dir.display()
    ))
    .unwrap();
    assert_eq!(c.max_sessions, 4);

    // A file that includes itself stops at the nesting limit with an error.
    std::fs::write(
        dir.join("loop.conf"),
        format!("Include {}/loop.conf\n", dir.display()),
    )
    .unwrap();
    let e = parse(&format!("Include {}/loop.conf\n", dir.display())).unwrap_err();
    assert!(e.to_string().contains("nested Include"), "{e}");
    // A malformed pattern is an error naming the line.
    let e = parse("Port 22\nInclude /tmp/[\n").unwrap_err();
    assert!(e.to_string().contains("line 2: bad Include pattern"), "{e}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn channel_and_unused_connection_timeouts_parse() {
    let c = cfg("ChannelTimeout session:*=5m direct-tcpip=0 x11-connection=90\n");
    assert_eq!(
        c.channel_timeout,
        [
            ("session:*".to_string(), 300),
            ("direct-tcpip".to_string(), 0),
            ("x11-connection".to_string(), 90)
        ]
    );
    assert!(cfg("ChannelTimeout none").channel_timeout.is_empty());
    assert!(err("ChannelTimeout session").contains("invalid value"));
    assert!(err("ChannelTimeout =5").contains("invalid value"));
    assert!(err("ChannelTimeout session=5x").contains("invalid value"));
    assert_eq!(
        cfg("UnusedConnectionTimeout 1h").unused_connection_timeout,
        Some(Duration::from_secs(3600))
    );
    assert_eq!(
        cfg("UnusedConnectionTimeout 0").unused_connection_timeout,
        None
    );
    assert_eq!(
        cfg("UnusedConnectionTimeout none").unused_connection_timeout,
        None
    );
    assert!(err("UnusedConnectionTimeout soon").contains("invalid value"));
    // -T prints them as sshd does (seconds).
    let d = cfg("ChannelTimeout session:*=5m\nUnusedConnectionTimeout 2m\n").dump();
    assert!(d.contains("channeltimeout session:*=300\n"), "{d}");
    assert!(d.contains("unusedconnectiontimeout 120\n"), "{d}");
}
