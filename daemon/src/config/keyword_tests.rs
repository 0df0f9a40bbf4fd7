//! The tests that show each implemented keyword's effect, checked against the keyword
//! table: a keyword is `Implemented` only when this table names tests that exist (and,
//! for interop tests, that the interop harness runs). Also keeps `KEYWORDS.md` (the
//! table for administrators) in step with the code.

use super::keywords::{all_keywords, Status};

/// `(keyword, tests)`: each test is `FILE::FUNCTION`, the file relative to the daemon
/// crate. Interop tests live in `tests/interop/`; unit tests in `src/`.
const EFFECT_TESTS: &[(&str, &[&str])] = &[
    (
        "Protocol",
        &[
            "tests/interop/ssh1.rs::ssh1_and_ssh2_clients_on_one_port",
            "tests/interop/ssh1.rs::protocol_1_is_off_by_default",
        ],
    ),
    ("RSAAuthentication", &["tests/interop/ssh1.rs::ssh1_rsa_authentication_no_refuses_keys"]),
    ("ServerKeyBits", &["tests/interop/ssh1.rs::server_key_bits_and_its_regeneration"]),
    ("KeyRegenerationInterval", &["tests/interop/ssh1.rs::server_key_bits_and_its_regeneration"]),
    ("ChannelTimeout", &["tests/interop/liveness.rs::channel_and_unused_connection_timeouts"]),
    ("UnusedConnectionTimeout", &["tests/interop/liveness.rs::channel_and_unused_connection_timeouts"]),
    (
        "AllowAgentForwarding",
        &["tests/interop/channels_opened.rs::agent_forwarding_with_dash_a"],
    ),
    (
        "GatewayPorts",
        &["tests/interop/channels_opened.rs::remote_forward_policy_and_gateway_ports"],
    ),
    (
        "PermitListen",
        &["tests/interop/channels_opened.rs::remote_forward_policy_and_gateway_ports"],
    ),
    (
        "StreamLocalBindMask",
        &["tests/interop/channels_opened.rs::unix_socket_forwards_both_ways"],
    ),
    (
        "StreamLocalBindUnlink",
        &["tests/interop/channels_opened.rs::unix_socket_forward_policy"],
    ),
    (
        "AllowStreamLocalForwarding",
        &["tests/interop/channels_opened.rs::unix_socket_forward_policy"],
    ),
    (
        "X11Forwarding",
        &["tests/interop/x11.rs::x11_forwarding_reaches_xvfb", "tests/interop/x11.rs::x11_forwarding_refused"],
    ),
    (
        "X11DisplayOffset",
        &["tests/interop/x11.rs::x11_forwarding_reaches_xvfb"],
    ),
    (
        "X11UseLocalhost",
        &["tests/interop/x11.rs::x11_forwarding_reaches_xvfb"],
    ),
    (
        "XAuthLocation",
        &["tests/interop/x11.rs::x11_forwarding_reaches_xvfb", "tests/interop/x11.rs::x11_forwarding_refused"],
    ),
    (
        "UsePAM",
        &[
            "src/config/tests.rs::debian_default_config_starts_as_it_is",
            "tests/interop/pam.rs::passwords_and_keyboard_interactive_through_the_host_stack",
            "tests/interop/pam.rs::an_expired_password_is_changed_through_keyboard_interactive",
        ],
    ),
    (
        "PubkeyAuthOptions",
        &[
            "tests/interop/security_keys.rs::user_presence_is_required_unless_the_line_says_no_touch_required",
            "tests/interop/security_keys.rs::verify_required_needs_a_verified_user",
        ],
    ),
    (
        "HostbasedAuthentication",
        &["tests/interop/hostbased.rs::hostbased_authentication_and_ignore_rhosts_keep_it_off"],
    ),
    (
        "IgnoreRhosts",
        &["tests/interop/hostbased.rs::hostbased_authentication_and_ignore_rhosts_keep_it_off"],
    ),
    (
        "HostbasedUsesNameFromPacketOnly",
        &["tests/interop/hostbased.rs::names_algorithms_and_known_hosts_options_apply"],
    ),
    (
        "HostbasedAcceptedAlgorithms",
        &["tests/interop/hostbased.rs::names_algorithms_and_known_hosts_options_apply"],
    ),
    (
        "IgnoreUserKnownHosts",
        &["tests/interop/hostbased.rs::names_algorithms_and_known_hosts_options_apply"],
    ),
    (
        "PermitUserRC",
        &["tests/interop/user_rc.rs::permit_user_rc_no_user_rc_and_force_command_keep_it_from_running"],
    ),
    (
        "PAMServiceName",
        &["tests/interop/pam.rs::account_and_session_modules_of_the_configured_service_apply"],
    ),
    (
        "KbdInteractiveAuthentication",
        &[
            "tests/interop/pam.rs::passwords_and_keyboard_interactive_through_the_host_stack",
            "tests/interop/pam.rs::publickey_then_keyboard_interactive_as_two_factors",
        ],
    ),
    (
        "Port",
        &["src/config/tests.rs::listen_addrs_combine_addresses_and_ports"],
    ),
    (
        "HostKey",
        &["tests/interop/host_keys.rs::every_host_key_type_in_every_format_from_one_server"],
    ),
    (
        "HostKeyAgent",
        &["tests/interop/host_keys.rs::host_key_agent_signs_for_a_missing_private_key"],
    ),
    (
        "PidFile",
        &["tests/interop/flags.rs::without_d_the_daemon_detaches_writes_and_removes_pidfile"],
    ),
    (
        "ModuliFile",
        &["tests/interop/kex_methods.rs::group_exchange_reads_the_moduli_file"],
    ),
    (
        "LoginGraceTime",
        &["tests/interop/bad_peers.rs::silent_client_hits_login_grace_time"],
    ),
    (
        "PermitRootLogin",
        &["tests/interop/access.rs::permit_root_login_no_and_forced_commands_only"],
    ),
    (
        "SyslogFacility",
        &[
            "tests/interop/keywords.rs::syslog_facility_sets_the_priority",
            "src/log.rs::syslog_priority_is_facility_and_severity",
        ],
    ),
    (
        "LogLevel",
        &["tests/interop/access.rs::log_level_filters_lines"],
    ),
    (
        "HostKeyAlgorithms",
        &["tests/interop/host_keys.rs::host_key_algorithms_edits_apply"],
    ),
    (
        "PubkeyAuthentication",
        &["tests/interop/match_blocks.rs::match_address_turns_publickey_off_only_for_that_address"],
    ),
    (
        "TrustedUserCAKeys",
        &["tests/interop/certificates.rs::trusted_user_ca_keys_admits_certificates_for_the_user"],
    ),
    (
        "AuthorizedPrincipalsFile",
        &["tests/interop/certificates.rs::authorized_principals_file_names_the_principals"],
    ),
    (
        "CASignatureAlgorithms",
        &["tests/interop/certificates.rs::rsa_ca_and_ca_signature_algorithms"],
    ),
    (
        "AuthorizedKeysCommand",
        &["tests/interop/certificates.rs::authorized_keys_command_with_tokens_and_without"],
    ),
    (
        "AuthorizedKeysCommandUser",
        &["tests/interop/certificates.rs::authorized_keys_command_with_tokens_and_without"],
    ),
    (
        "AuthorizedPrincipalsCommand",
        &["tests/interop/certificates.rs::authorized_principals_command_names_principals"],
    ),
    (
        "AuthorizedPrincipalsCommandUser",
        &["tests/interop/certificates.rs::authorized_principals_command_names_principals"],
    ),
    (
        "ExposeAuthInfo",
        &[
            "tests/interop/passwords.rs::expose_auth_info_lists_the_methods_used",
            "tests/interop/certificates.rs::trusted_user_ca_keys_admits_certificates_for_the_user",
        ],
    ),
    (
        "PrintLastLog",
        &["tests/interop/login.rs::utmp_wtmp_and_lastlog_record_a_terminal_login"],
    ),
    (
        "PasswordAuthentication",
        &[
            "tests/interop/passwords.rs::password_logins_with_every_hash_scheme",
            "tests/interop/passwords.rs::password_authentication_no_and_in_a_match_block",
        ],
    ),
    (
        "PermitEmptyPasswords",
        &["tests/interop/passwords.rs::empty_passwords_only_with_permit_empty_passwords"],
    ),
    (
        "PubkeyAcceptedAlgorithms",
        &["tests/interop/access.rs::pubkey_accepted_algorithms_limit_key_types"],
    ),
    (
        "ListenAddress",
        &[
            "tests/interop/logs.rs::server_listening_line",
            "src/config/tests.rs::listen_addrs_combine_addresses_and_ports",
        ],
    ),
    (
        "AddressFamily",
        &["src/config/tests.rs::listen_addrs_combine_addresses_and_ports"],
    ),
    (
        "PrintMotd",
        &["tests/interop/keywords.rs::print_motd_at_a_terminal_login"],
    ),
    (
        "StrictModes",
        &["tests/interop/user_files.rs::strict_modes_refuses_a_world_writable_file"],
    ),
    (
        "PermitUserEnvironment",
        &[
            "tests/interop/authkeys_options.rs::environment_only_where_permit_user_environment_allows",
            "tests/interop/environment.rs::user_environment_file_with_patterns",
        ],
    ),
    (
        "RekeyLimit",
        &[
            "tests/interop/rekey.rs::server_rekeys_by_time",
            "tests/interop/transfer.rs::rekey_limit_1m_over_64_mib",
        ],
    ),
    (
        "TCPKeepAlive",
        &["tests/interop/keywords.rs::tcp_keep_alive_sets_the_socket_option"],
    ),
    (
        "AllowTcpForwarding",
        &[
            "tests/interop/forwarding.rs::forwarding_refused_by_config_and_key_options",
            "tests/interop/channels_opened.rs::remote_forward_policy_and_gateway_ports",
        ],
    ),
    (
        "AllowUsers",
        &["tests/interop/access.rs::allow_users_by_host_and_cidr"],
    ),
    (
        "DenyUsers",
        &[
            "tests/interop/access.rs::deny_users_refuses_like_a_wrong_key_and_logs",
            "tests/interop/access.rs::deny_users_inside_a_match_block",
        ],
    ),
    (
        "AllowGroups",
        &[
            "tests/interop/access.rs::deny_and_allow_groups_with_the_primary_group",
            "tests/interop/access.rs::allow_groups_with_a_supplementary_group",
        ],
    ),
    (
        "DenyGroups",
        &["tests/interop/access.rs::deny_and_allow_groups_with_the_primary_group"],
    ),
    (
        "Ciphers",
        &["tests/interop/ciphers_legacy.rs::ssh_aes128_cbc_hmac_sha1"],
    ),
    (
        "MACs",
        &["tests/interop/ciphers_legacy.rs::ssh_aes128_cbc_hmac_sha1"],
    ),
    (
        "Subsystem",
        &[
            "tests/interop/sftp.rs::sftp_put_get_ls",
            "tests/interop/sftp.rs::unknown_subsystem_is_refused",
        ],
    ),
    (
        "MaxStartups",
        &["tests/interop/max_startups.rs::unauthenticated_connections_fill_max_startups_sessions_do_not"],
    ),
    (
        "PerSourceMaxStartups",
        &["tests/interop/keywords.rs::per_source_max_startups"],
    ),
    ("PerSourceNetBlockSize", &["src/listener.rs::source_blocks"]),
    (
        "MaxAuthTries",
        &["tests/interop/access.rs::max_auth_tries_ends_the_connection"],
    ),
    (
        "MaxSessions",
        &["tests/interop/keywords.rs::max_sessions_limits_session_channels"],
    ),
    (
        "Banner",
        &["tests/interop/keywords.rs::banner_is_sent_before_authentication"],
    ),
    (
        "UseDNS",
        &["tests/interop/access.rs::use_dns_no_matches_addresses_not_names"],
    ),
    (
        "ClientAliveInterval",
        &["tests/interop/keywords.rs::client_alive_drops_a_silent_client"],
    ),
    (
        "ClientAliveCountMax",
        &["tests/interop/keywords.rs::client_alive_drops_a_silent_client"],
    ),
    (
        "AuthorizedKeysFile",
        &["tests/interop/user_files.rs::fifo_authorized_keys_neither_hangs_nor_blocks_the_next_file"],
    ),
    (
        "AcceptEnv",
        &[
            "tests/interop/environment.rs::accept_env_cannot_defeat_force_command",
            "tests/interop/environment.rs::client_environment_is_bounded",
        ],
    ),
    (
        "SetEnv",
        &["tests/interop/environment.rs::set_env_reaches_every_session"],
    ),
    (
        "PermitTTY",
        &["tests/interop/match_blocks.rs::match_group_refuses_a_tty"],
    ),
    (
        "PermitOpen",
        &["tests/interop/forwarding.rs::forwarding_refused_by_config_and_key_options"],
    ),
    (
        "ForceCommand",
        &[
            "tests/interop/match_blocks.rs::match_user_forces_a_command",
            "tests/interop/environment.rs::accept_env_cannot_defeat_force_command",
        ],
    ),
    (
        "ChrootDirectory",
        &[
            "tests/interop/privsep.rs::chroot_directory_confines_the_session",
            "tests/interop/privsep.rs::chroot_directory_with_bad_ownership_is_refused",
        ],
    ),
    (
        "HostCertificate",
        &["tests/interop/host_keys.rs::host_certificates_with_cert_authority"],
    ),
    (
        "RevokedKeys",
        &["tests/interop/keywords.rs::revoked_keys_lists_and_krls"],
    ),
    (
        "KexAlgorithms",
        &["tests/interop/kex_methods.rs::legacy_methods_are_off_by_default"],
    ),
    (
        "VersionAddendum",
        &["tests/interop/keywords.rs::version_addendum_in_the_identification_line"],
    ),
    (
        "AuthenticationMethods",
        &[
            "tests/interop/access.rs::two_keys_for_publickey_publickey",
            "tests/interop/flags.rs::test_mode_refuses_restrictions_it_cannot_apply",
        ],
    ),
    (
        "DisableForwarding",
        &["tests/interop/forwarding.rs::forwarding_refused_by_config_and_key_options"],
    ),
    (
        "RequiredRSASize",
        &["tests/interop/access.rs::required_rsa_size_refuses_small_rsa_keys"],
    ),
    (
        "RefuseConnection",
        &["tests/interop/keywords.rs::refuse_connection_in_a_match_block"],
    ),
];

fn crate_file(rel: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(rel);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn every_implemented_keyword_names_the_tests_that_show_its_effect() {
    let interop_list = crate_file("tests/interop/main.rs");
    let mut missing = Vec::new();
    for k in all_keywords() {
        let tests = EFFECT_TESTS.iter().find(|(name, _)| *name == k.name);
        match (k.status, tests) {
            (Status::Implemented, None) => missing.push(k.name),
            (Status::Implemented, Some((_, tests))) => assert!(!tests.is_empty(), "{}", k.name),
            (_, Some(_)) => panic!("{} is not Implemented but has effect tests", k.name),
            (_, None) => {}
        }
    }
    assert!(
        missing.is_empty(),
        "Implemented keywords without a test that shows their effect: {missing:?}"
    );
    for (keyword, tests) in EFFECT_TESTS {
        for t in *tests {
            let (file, func) = t.split_once("::").expect("FILE::FUNCTION");
            let text = crate_file(file);
            assert!(
                text.contains(&format!("fn {func}(")),
                "{keyword}: no fn {func} in {file}"
            );
            if let Some(module) = file
                .strip_prefix("tests/interop/")
                .and_then(|f| f.strip_suffix(".rs"))
            {
                assert!(
                    interop_list.contains(&format!("{module}::{func}")),
                    "{keyword}: {module}::{func} is not in the interop harness's list"
                );
            }
        }
    }
}

#[test]
fn absent_features_name_who_applies_them() {
    for k in all_keywords() {
        if let Status::Absent(what) = k.status {
            assert!(what.contains('('), "{}: {what:?} names no issue", k.name);
        }
    }
}

/// `daemon/KEYWORDS.md`, generated from the table: what Sisu does with each keyword.
fn keywords_document() -> String {
    let mut out = String::from(
        "# sshd_config keywords in sisu-sshd\n\n\
         Generated from `daemon/src/config/keywords.rs` by the test\n\
         `config::keyword_tests::keywords_document_is_current` (run it with\n\
         `SISU_BLESS=1` to rewrite this file). Statuses:\n\n\
         - **applied**: parsed and applied; a test shows the effect (listed);\n\
         - **held (feature absent)**: limits a feature Sisu does not have yet, so the \
         limit holds; values that would turn the feature on are warned about;\n\
         - **refused**: restricts access and is not applied yet: start-up and `-t` stop \
         with \"not supported yet\" (the value that turns it off is accepted);\n\
         - **warned**: adds something not implemented yet: accepted with a warning;\n\
         - **deprecated** / **unsupported**: as OpenSSH, accepted with a notice.\n\n\
         Some keywords also depend on their value (`RDomain` is refused unless \
         `none`, `Compression yes` warns): see \
         `daemon/src/config/support.rs`.\n\n\
         | keyword | in Match | status | shown by |\n|---|---|---|---|\n",
    );
    for k in all_keywords() {
        let (status, shown) = match k.status {
            Status::Implemented => {
                let tests = EFFECT_TESTS
                    .iter()
                    .find(|(n, _)| *n == k.name)
                    .map(|(_, t)| {
                        t.iter()
                            .map(|t| format!("`{}`", t.rsplit("::").next().unwrap_or(t)))
                            .collect::<Vec<_>>()
                            .join(", ")
                    })
                    .unwrap_or_default();
                ("applied".to_string(), tests)
            }
            Status::Absent(what) => (format!("held (feature absent: {what})"), String::new()),
            Status::Refused => ("refused".into(), String::new()),
            Status::NotImplemented => ("warned".into(), String::new()),
            Status::Deprecated => ("deprecated".into(), String::new()),
            Status::Unsupported => ("unsupported".into(), String::new()),
            Status::Match => ("conditional block".into(), String::new()),
            Status::Include => ("applied (reads files in place)".into(), String::new()),
        };
        let in_match = if k.in_match { "yes" } else { "no" };
        out.push_str(&format!(
            "| {} | {in_match} | {status} | {shown} |\n",
            k.name
        ));
    }
    out.push_str(
        "\n## `sisu-sshd -T` and OpenSSH's `sshd -T`\n\n\
         `-T` prints every keyword that OpenSSH's `sshd -T` prints, in its order and \
         formats: OpenSSH 9.2's (Debian 12), with the keywords added up to 9.9 where 9.9 \
         prints them. The interop test `flags::extended_test_mode_matches_openssh` \
         compares both outputs for a set of files; these are the only differences it \
         allows (from `config::dump_differences`):\n\n\
         | keyword | difference | why |\n|---|---|---|\n",
    );
    // One row for the keywords that differ in the same way for the same reason.
    let mut rows: Vec<(Vec<&str>, String, &str)> = Vec::new();
    for d in super::dump_differences() {
        let kind = d.kind.to_string();
        match rows
            .iter_mut()
            .find(|(_, k, why)| *k == kind && *why == d.why)
        {
            Some((keywords, _, _)) => keywords.push(d.keyword),
            None => rows.push((vec![d.keyword], kind, d.why)),
        }
    }
    for (keywords, kind, why) in rows {
        out.push_str(&format!("| {} | {kind} | {why} |\n", keywords.join(", ")));
    }
    out.push_str(
        "\nKnown keywords `-T` does not print: the deprecated and unsupported ones and \
         `Match` and `Include` (no `sshd -T` prints them), and:\n\n",
    );
    for (k, why) in super::dump::NOT_PRINTED {
        out.push_str(&format!("- {k}: {why}\n"));
    }
    out
}

#[test]
fn keywords_document_is_current() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("KEYWORDS.md");
    let want = keywords_document();
    if std::env::var_os("SISU_BLESS").is_some() {
        std::fs::write(&path, &want).unwrap();
    }
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        have == want,
        "{} is stale: run `SISU_BLESS=1 cargo test -p sisu-daemon keywords_document`",
        path.display()
    );
}
