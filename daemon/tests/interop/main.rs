//! Interop tests: the real server binary on 127.0.0.1 against real SSH clients.
//!
//! By default the server is `sisu-sshd`; with `SISU_TEST_SERVER=openssh` the same tests
//! run against Debian's OpenSSH sshd, which is how the tests themselves are validated.
//! Every server and client runs with a deadline, and every server is stopped in `Drop`.
//!
//! ```text
//! SISU_TEST_SERVER=openssh cargo test -p sisu-daemon --test interop
//! cargo test -p sisu-daemon --test interop
//! ```
//!
//! The harness is `libtest-mimic` (this target has `harness = false`), so that a test
//! whose requirement is not met (its peer program is missing, it needs root, it checks
//! something only `sisu-sshd` has) is reported as *ignored* with the reason, and counted
//! in the summary, instead of passing without having run. With
//! `SISU_TEST_REQUIRE_PEERS=1` (as `cargo xtask test` sets it) a missing peer program
//! fails its test instead. Each test's requirements are listed next to it below.

#[path = "../common/mod.rs"]
mod common;

mod harness;

mod access;
mod algorithms;
mod authkeys_options;
mod background;
mod bad_mac;
mod bad_peers;
mod certificates;
mod channels_opened;
mod ciphers_legacy;
mod daemon_modes;
mod dropbear;
mod environment;
mod flags;
mod forwarding;
mod host_keys;
mod hostbased;
mod kex_methods;
mod keywords;
mod liveness;
mod login;
mod logs;
mod match_blocks;
mod max_startups;
mod pam;
mod passwords;
mod peers;
mod privsep;
mod rekey;
mod security_keys;
mod session;
mod sftp;
mod sftp_internal;
mod ssh1;
mod ssh1_bad_peers;
mod ssh1_forwarding;
mod stalls;
mod tcp_wrappers;
mod transfer;
mod transport_logs;
mod user_files;
mod user_rc;
mod x11;

use harness::Need::*;

fn main() -> std::process::ExitCode {
    let args = libtest_mimic::Arguments::from_args();
    libtest_mimic::run(&args, trials()).exit_code()
}

/// Every interop test, with what it needs to run.
fn trials() -> Vec<libtest_mimic::Trial> {
    trials![
        ssh1::ssh1_and_ssh2_clients_on_one_port => [Sisu, Program("ssh1")],
        ssh1::ssh1_transfers_with_3des_and_blowfish => [Sisu, Program("ssh1"), Program("plink")],
        ssh1::ssh1_pty_shell => [Sisu, Program("ssh1")],
        ssh1_forwarding::ssh1_local_forward => [Sisu, Program("ssh1")],
        ssh1::ssh1_rsa_authentication_no_refuses_keys => [Sisu, Program("ssh1")],
        ssh1::protocol_1_is_off_by_default => [Sisu, Program("ssh1")],
        ssh1::ssh1_failures_max_auth_tries_and_fail2ban => [Sisu, Program("ssh1"), Program("plink"), Program("fail2ban-regex")],
        ssh1::protocol_1_alone => [Sisu, Program("ssh1")],
        ssh1::ssh1_authorized_keys_options => [Sisu, Program("ssh1")],
        ssh1_forwarding::ssh1_x11_forwarding => [Sisu, Program("ssh1"), Program("Xvfb"), Program("xdpyinfo"), Program("xauth")],
        ssh1::ssh1_host_key_made_by_puttygen => [Sisu, Program("ssh1"), Program("puttygen")],
        ssh1_forwarding::ssh1_remote_forward => [Sisu, Program("ssh1")],
        ssh1_forwarding::ssh1_agent_forwarding => [Sisu, Program("ssh1"), Program("ssh-agent")],
        ssh1::ssh1_des_only_when_configured => [Sisu, Program("plink"), Program("ssh-keygen1")],
        ssh1::ssh1_password_login_and_refusal => [Sisu, Root, Program("plink")],
        ssh1_bad_peers::ssh1_huge_packet_length => [Sisu],
        ssh1_bad_peers::ssh1_bad_crc => [Sisu],
        ssh1_bad_peers::ssh1_wrong_session_key_padding => [Sisu],
        ssh1_bad_peers::ssh1_compensation_attack_packet => [Sisu],
        ssh1::server_key_bits_and_its_regeneration => [Sisu, Program("ssh1")],
        ssh1::plink_ssh1_rsa_and_a_refused_key => [Sisu, Program("plink"), Program("ssh-keygen1")],
        forwarding::a_stalled_forward_connect_blocks_nothing => [Sisu, PyModule("paramiko")],
        forwarding::data_sent_just_before_close_is_delivered => [PyModule("paramiko")],
        privsep::preauth_child_is_unprivileged_chrooted_and_filtered => [Sisu, Root],
        privsep::forbidden_system_call_kills_only_that_child => [Sisu],
        privsep::preauth_child_of_an_ordinary_user_is_still_filtered => [Sisu, Root],
        privsep::post_auth_process_runs_as_the_user => [Sisu, Root],
        privsep::chroot_directory_confines_the_session => [Root, Program("ldd")],
        privsep::chroot_directory_with_bad_ownership_is_refused => [Root],
        daemon_modes::sighup_reloads_a_good_configuration_and_keeps_the_old_on_a_bad_one => [Sisu],
        host_keys::host_key_agent_signs_for_a_missing_private_key => [Program("ssh-agent"), Program("ssh-add")],
        daemon_modes::sessions_use_the_loaded_configuration_and_survive_a_deleted_binary,
        dropbear::dropbear_right_guess_is_used => [Program("dbclient")],
        dropbear::dropbear_wrong_guess_is_dropped => [Program("dbclient")],
        transport_logs::no_matching_algorithm_lines_name_the_list_and_the_offer,
        transport_logs::identification_and_dispatch_lines,
        stalls::stalled_before_authentication_is_quiet_then_dropped,
        stalls::stalled_reader_after_authentication_is_quiet_then_dropped,
        access::permit_root_login_no_and_forced_commands_only => [Root],
        certificates::trusted_user_ca_keys_admits_certificates_for_the_user,
        certificates::authorized_principals_file_names_the_principals,
        certificates::cert_authority_lines_of_authorized_keys,
        certificates::certificate_options_and_extensions_apply,
        certificates::revoked_certificates_and_cas_are_refused,
        certificates::rsa_ca_and_ca_signature_algorithms,
        certificates::authorized_keys_command_with_tokens_and_without => [Root],
        certificates::authorized_principals_command_names_principals => [Root],
        tcp_wrappers::hosts_deny_refuses_and_hosts_allow_wins => [Root, Program("unshare")],
        tcp_wrappers::host_names_and_except => [Root, Program("unshare")],
        tcp_wrappers::a_matching_rule_with_an_option_sisu_lacks_refuses => [Sisu, Root, Program("unshare")],
        login::nologin_refuses_sessions_and_shows_its_text => [Sisu, Root, Program("unshare")],
        login::a_missing_home_directory_is_said_and_the_session_starts_in_root => [Root],
        login::utmp_wtmp_and_lastlog_record_a_terminal_login => [Root, Program("who"), Program("last"), Program("lastlog")],
        passwords::password_logins_with_every_hash_scheme => [Root, Program("sshpass")],
        passwords::wrong_passwords_unknown_and_locked_users_are_refused_and_logged => [Root, Program("sshpass")],
        passwords::password_authentication_no_and_in_a_match_block => [Root, Program("sshpass")],
        passwords::empty_passwords_only_with_permit_empty_passwords => [Root, Program("sshpass")],
        passwords::publickey_then_password_with_authentication_methods => [Root, Program("sshpass")],
        passwords::expose_auth_info_lists_the_methods_used => [Root, Program("sshpass")],
        passwords::permit_root_login_applies_to_passwords => [Root, Program("sshpass")],
        passwords::paramiko_logs_in_with_a_password => [Root, PyModule("paramiko")],
        passwords::plink_logs_in_with_a_password => [Root, Program("plink")],
        pam::passwords_and_keyboard_interactive_through_the_host_stack => [Root, Program("sshpass"), File("/etc/pam.d/sshd")],
        pam::publickey_then_keyboard_interactive_as_two_factors => [Root, Program("sshpass"), File("/etc/pam.d/sshd")],
        pam::an_expired_password_is_changed_through_keyboard_interactive => [Root, Program("sshpass"), PyModule("asyncssh"), File("/etc/pam.d/sshd")],
        pam::account_and_session_modules_of_the_configured_service_apply => [Sisu, Root],
        pam::the_project_pam_file_works_as_a_service => [Sisu, Root, Program("sshpass"), PyModule("asyncssh")],
        hostbased::a_trusted_host_with_a_known_key_logs_its_user_in => [Root, Program("unshare"), File("/usr/lib/openssh/ssh-keysign")],
        hostbased::hostbased_authentication_and_ignore_rhosts_keep_it_off => [Root, Program("unshare"), File("/usr/lib/openssh/ssh-keysign")],
        hostbased::names_algorithms_and_known_hosts_options_apply => [Root, Program("unshare"), File("/usr/lib/openssh/ssh-keysign")],
        hostbased::permit_root_login_applies_to_hostbased => [Root, Program("unshare"), File("/usr/lib/openssh/ssh-keysign")],
        user_rc::user_rc_runs_before_the_command => [Root],
        user_rc::permit_user_rc_no_user_rc_and_force_command_keep_it_from_running => [Root],
        user_rc::the_system_sshrc_runs_when_the_user_has_none => [Root, Program("unshare")],
        security_keys::ed25519_and_ecdsa_security_keys_log_in_with_their_counter => [File(security_keys::SK_DUMMY)],
        security_keys::user_presence_is_required_unless_the_line_says_no_touch_required => [File(security_keys::SK_DUMMY)],
        security_keys::verify_required_needs_a_verified_user => [File(security_keys::SK_DUMMY)],
        security_keys::a_certificate_of_a_security_key_logs_in => [File(security_keys::SK_DUMMY)],
        access::max_auth_tries_ends_the_connection,
        access::pubkey_accepted_algorithms_limit_key_types,
        access::use_dns_no_matches_addresses_not_names,
        access::log_level_filters_lines,
        flags::test_mode_refuses_restrictions_it_cannot_apply => [Sisu],
        keywords::banner_is_sent_before_authentication,
        keywords::print_motd_at_a_terminal_login => [File("/etc/motd")],
        keywords::max_sessions_limits_session_channels => [PyModule("paramiko")],
        keywords::client_alive_drops_a_silent_client,
        keywords::tcp_keep_alive_sets_the_socket_option => [Program("ss")],
        keywords::version_addendum_in_the_identification_line,
        keywords::refuse_connection_in_a_match_block => [Sisu],
        keywords::per_source_max_startups,
        keywords::revoked_keys_lists_and_krls,
        keywords::syslog_facility_sets_the_priority => [Sisu, Root, Program("unshare")],
        environment::set_env_reaches_every_session,
        environment::accept_env_cannot_defeat_force_command => [Sisu],
        environment::key_environment_cannot_defeat_its_command => [Sisu],
        environment::user_environment_file_with_patterns => [Root],
        environment::client_environment_is_bounded => [Sisu],
        logs::user_name_cannot_forge_a_log_line => [Sisu, PyModule("paramiko"), Program("fail2ban-regex"), File(logs::FAIL2BAN_SSHD_FILTER)],
        logs::fail2ban_finds_the_same_failures_as_in_openssh_logs => [Sisu, Root, Program("sshpass"), Program("fail2ban-regex"), Program("/usr/sbin/sshd"), File(logs::FAIL2BAN_SSHD_FILTER)],
        logs::fail2ban_finds_the_same_pam_failures_as_in_openssh_logs => [Sisu, Root, Program("sshpass"), Program("fail2ban-regex"), Program("/usr/sbin/sshd"), File(logs::FAIL2BAN_SSHD_FILTER), File("/etc/pam.d/sshd")],
        user_files::fifo_authorized_keys_neither_hangs_nor_blocks_the_next_file,
        user_files::link_to_dev_zero_is_refused_at_once,
        user_files::oversized_authorized_keys_is_refused_whole => [Sisu],
        user_files::link_to_another_users_file_reveals_nothing => [Root],
        user_files::strict_modes_refuses_a_world_writable_file => [Root],
        access::deny_users_refuses_like_a_wrong_key_and_logs,
        access::allow_users_by_host_and_cidr,
        access::deny_and_allow_groups_with_the_primary_group,
        access::deny_users_wins_over_allow_users_and_groups,
        access::allow_groups_with_a_supplementary_group => [Root],
        access::deny_users_inside_a_match_block,
        access::locked_expired_and_shell_less_accounts_are_refused => [Root],
        access::two_keys_for_publickey_publickey,
        access::required_rsa_size_refuses_small_rsa_keys,
        algorithms::cipher_chacha20_poly1305,
        algorithms::cipher_aes128_gcm,
        algorithms::cipher_aes256_gcm,
        algorithms::cipher_aes128_ctr,
        algorithms::cipher_aes192_ctr,
        algorithms::cipher_aes256_ctr,
        algorithms::mac_hmac_sha2_256,
        algorithms::mac_hmac_sha2_512,
        algorithms::mac_hmac_sha2_256_etm,
        algorithms::mac_hmac_sha2_512_etm,
        algorithms::host_key_ssh_ed25519,
        algorithms::host_key_rsa_sha2_256,
        algorithms::host_key_rsa_sha2_512,
        algorithms::kex_curve25519_sha256_both_names,
        authkeys_options::forced_command_gets_the_original_command,
        authkeys_options::from_patterns_admit_and_refuse,
        authkeys_options::expiry_time_refuses_expired_keys,
        authkeys_options::environment_only_where_permit_user_environment_allows,
        authkeys_options::no_pty_restrict_and_restrict_pty,
        bad_mac::bad_mac_is_refused_and_logged,
        bad_peers::garbage_instead_of_identification,
        bad_peers::over_long_identification_line,
        bad_peers::packet_length_zero,
        bad_peers::packet_length_ffffffff,
        bad_peers::silent_client_hits_login_grace_time,
        ciphers_legacy::ssh_aes128_cbc_hmac_sha1,
        ciphers_legacy::ssh_aes192_cbc_hmac_sha1_96,
        ciphers_legacy::ssh_aes256_cbc_hmac_md5,
        ciphers_legacy::ssh_3des_cbc_hmac_md5_96,
        ciphers_legacy::ssh_aes128_ctr_umac_64,
        ciphers_legacy::ssh_aes256_ctr_umac_128,
        ciphers_legacy::ssh_aes128_cbc_hmac_sha1_etm,
        ciphers_legacy::ssh_aes256_cbc_hmac_sha1_96_etm,
        ciphers_legacy::ssh_3des_cbc_hmac_md5_etm,
        ciphers_legacy::ssh_aes192_ctr_hmac_md5_96_etm,
        ciphers_legacy::ssh_aes192_cbc_umac_64_etm,
        ciphers_legacy::ssh_aes128_ctr_umac_128_etm,
        ciphers_legacy::ssh1_blowfish_cbc_hmac_ripemd160 => [Program("ssh1")],
        ciphers_legacy::ssh1_cast128_cbc_hmac_ripemd160_openssh => [Program("ssh1")],
        ciphers_legacy::ssh1_arcfour_hmac_ripemd160_etm => [Program("ssh1")],
        ciphers_legacy::ssh1_rijndael_cbc_umac_64 => [Program("ssh1")],
        ciphers_legacy::plink_arcfour256_hmac_sha1 => [Program("plink"), Program("puttygen")],
        ciphers_legacy::plink_arcfour128_hmac_md5 => [Program("plink"), Program("puttygen")],
        ciphers_legacy::plink_blowfish_cbc_hmac_sha1_96 => [Program("plink"), Program("puttygen")],
        ciphers_legacy::plink_3des_cbc_hmac_sha2_256 => [Program("plink"), Program("puttygen")],
        ciphers_legacy::plink_aes256_cbc_hmac_sha1_etm => [Program("plink"), Program("puttygen")],
        ciphers_legacy::query_lists_every_cipher_and_mac => [Sisu],
        daemon_modes::embedded_defaults_as_an_ordinary_user => [Sisu],
        daemon_modes::query_lists_algorithms => [Sisu],
        daemon_modes::invalid_user_and_failed_key_are_logged,
        flags::test_mode_accepts_a_good_config,
        flags::test_mode_rejects_a_bad_config_with_file_and_line,
        flags::extended_test_mode_prints_lowercase_keyword_value_lines,
        flags::extended_test_mode_matches_openssh => [Program("/usr/sbin/sshd")],
        flags::without_d_the_daemon_detaches_writes_and_removes_pidfile,
        flags::inetd_mode_via_proxy_command,
        channels_opened::remote_forwards_through_a_control_master,
        channels_opened::control_master_runs_several_sessions,
        channels_opened::remote_forward_policy_and_gateway_ports,
        channels_opened::unix_socket_forwards_both_ways,
        channels_opened::unix_socket_forward_policy,
        channels_opened::agent_forwarding_with_dash_a => [Program("ssh-agent"), Program("ssh-add")],
        channels_opened::dynamic_forwarding_with_dash_d,
        liveness::server_alive_interval_is_answered,
        liveness::channel_and_unused_connection_timeouts,
        channels_opened::asyncssh_remote_port_forwarding => [PyModule("asyncssh")],
        sftp_internal::internal_sftp_in_an_empty_chroot => [Root],
        sftp_internal::internal_sftp_read_only,
        sftp_internal::python_sftp_clients => [PyModule("paramiko"), PyModule("asyncssh")],
        x11::x11_forwarding_reaches_xvfb => [Program("Xvfb"), Program("xauth"), Program("xdpyinfo")],
        x11::x11_forwarding_refused => [Program("Xvfb"), Program("xauth")],
        x11::x11_single_connection => [PyModule("paramiko"), Program("xauth")],
        x11::x11_cookie_goes_to_the_rc_file => [Root, Program("Xvfb"), Program("xauth")],
        forwarding::stdio_forwarding_carries_data_both_ways,
        forwarding::local_forward_with_dash_l,
        forwarding::forwarding_refused_by_config_and_key_options,
        host_keys::every_host_key_type_in_every_format_from_one_server,
        host_keys::legacy_ssh_rsa_and_ssh_dss_with_openssh_7_5 => [Program("ssh1")],
        host_keys::host_key_algorithms_edits_apply,
        host_keys::host_certificates_with_cert_authority,
        host_keys::update_host_keys_learns_the_other_keys,
        host_keys::group_readable_host_key_is_refused_naming_the_file,
        host_keys::query_lists_key_types_and_algorithms => [Sisu],
        kex_methods::openssh_every_method_with_ed25519,
        kex_methods::openssh_every_method_with_ecdsa,
        kex_methods::openssh_every_method_with_rsa,
        kex_methods::legacy_methods_are_off_by_default,
        kex_methods::group_exchange_reads_the_moduli_file,
        kex_methods::ssh1_client_sha1_groups => [Program("ssh1")],
        kex_methods::asyncssh_every_method_it_offers => [PyModule("asyncssh")],
        kex_methods::paramiko_mlkem768x25519 => [PyModule("paramiko")],
        kex_methods::plink_each_family => [Program("plink"), Program("puttygen")],
        logs::server_listening_line,
        logs::accepted_publickey_line,
        logs::fail2ban_recognises_failed_attempts => [Program("fail2ban-regex"), File(logs::FAIL2BAN_SSHD_FILTER)],
        match_blocks::match_user_forces_a_command,
        match_blocks::match_user_pubkey_accepted_algorithms,
        match_blocks::match_address_turns_publickey_off_only_for_that_address,
        match_blocks::match_group_refuses_a_tty,
        max_startups::unauthenticated_connections_fill_max_startups_sessions_do_not,
        peers::paramiko_exec_with_stdin_stderr_and_status => [PyModule("paramiko")],
        peers::asyncssh_exec_with_stdin_stderr_and_status => [PyModule("asyncssh")],
        rekey::server_rekeys_by_volume_with_data_in_flight,
        rekey::server_rekeys_by_time,
        rekey::server_rekey_limit_reached_during_authentication,
        session::exec_with_output_and_exit_status,
        session::exec_stderr_is_separate_from_stdout,
        session::stdin_piped_through_cat,
        session::pty_shell,
        session::ten_parallel_sessions,
        session::unauthorized_key_is_refused,
        sftp::sftp_put_get_ls => [Program("sftp")],
        sftp::unknown_subsystem_is_refused,
        transfer::upload_200_mib_sha256_matches,
        transfer::download_200_mib_sha256_matches,
        transfer::rekey_limit_1m_over_64_mib,
        transfer::scp_both_ways => [Program("scp")],
    ]
}
