//! `sshd -T`: the effective configuration, one `keyword value` per line, in the order
//! and the spelling OpenSSH's `sshd -T` uses.

use std::fmt::Write;

use super::values::fmt_host_port;
use super::Config;

fn yes_no(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

fn path_or_none(p: &Option<std::path::PathBuf>) -> String {
    p.as_ref()
        .map_or_else(|| "none".to_string(), |p| path_word(p))
}

/// `s` as one word of a configuration line: as it is when that reads back the same,
/// else in double quotes with `"` and `\\` escaped (a blank, a leading `#`, a quote or
/// a backslash would change how the line splits).
fn quote_if_needed(s: &str) -> String {
    let plain = !s.is_empty()
        && !s.starts_with('#')
        && !s.contains([' ', '\t', '\r', '\n', '\x0c', '"', '\'', '\\']);
    if plain {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// A path as one word ([`quote_if_needed`]).
fn path_word(p: &std::path::Path) -> String {
    quote_if_needed(&p.display().to_string())
}

/// Prints `c` as `sshd -T` does.
pub(crate) fn dump(c: &Config) -> String {
    let mut o = String::new();
    let mut kv = |k: &str, v: &dyn std::fmt::Display| {
        let _ = writeln!(o, "{k} {v}");
    };
    for p in &c.ports {
        kv("port", p);
    }
    kv("addressfamily", &c.address_family);
    for (host, port) in c.listen_addrs() {
        kv("listenaddress", &fmt_host_port(&host, &port));
    }
    kv("usepam", &yes_no(c.use_pam));
    kv("logingracetime", &c.login_grace_time.as_secs());
    kv("maxauthtries", &c.max_auth_tries);
    kv("maxsessions", &c.max_sessions);
    kv("clientaliveinterval", &c.client_alive_interval.as_secs());
    kv("clientalivecountmax", &c.client_alive_count_max);
    kv("permitrootlogin", &c.permit_root_login);
    kv("pubkeyauthentication", &yes_no(c.pubkey_authentication));
    kv("passwordauthentication", &yes_no(c.password_authentication));
    kv(
        "kbdinteractiveauthentication",
        &yes_no(c.kbd_interactive_authentication),
    );
    kv("printmotd", &yes_no(c.print_motd));
    kv("printlastlog", &yes_no(c.print_last_log));
    kv("x11forwarding", &yes_no(c.x11_forwarding));
    kv("permittty", &yes_no(c.permit_tty));
    kv("strictmodes", &yes_no(c.strict_modes));
    kv("permitemptypasswords", &yes_no(c.permit_empty_passwords));
    kv("gatewayports", &c.gateway_ports);
    kv("usedns", &yes_no(c.use_dns));
    kv("allowtcpforwarding", &c.allow_tcp_forwarding);
    kv("allowagentforwarding", &yes_no(c.allow_agent_forwarding));
    kv("disableforwarding", &yes_no(c.disable_forwarding));
    kv("pidfile", &path_or_none(&c.pid_file));
    kv("modulifile", &path_word(&c.moduli_file));
    kv("ciphers", &c.ciphers.join(","));
    kv("macs", &c.macs.join(","));
    kv("banner", &path_or_none(&c.banner));
    kv(
        "forcecommand",
        &c.force_command.as_deref().unwrap_or("none"),
    );
    kv(
        "chrootdirectory",
        &c.chroot_directory.as_deref().unwrap_or("none"),
    );
    kv("kexalgorithms", &c.kex_algorithms.join(","));
    kv("hostkeyalgorithms", &c.host_key_algorithms.join(","));
    kv(
        "pubkeyacceptedalgorithms",
        &c.pubkey_accepted_algorithms.join(","),
    );
    kv("loglevel", &c.log_level);
    kv("syslogfacility", &c.syslog_facility);
    let akf: Vec<String> = c
        .authorized_keys_file
        .iter()
        .map(|f| quote_if_needed(f))
        .collect();
    kv("authorizedkeysfile", &akf.join(" "));
    for k in &c.host_keys {
        kv("hostkey", &path_word(k));
    }
    for k in &c.host_certificates {
        kv("hostcertificate", &path_word(k));
    }
    for u in &c.allow_users {
        kv("allowusers", &quote_if_needed(u));
    }
    for u in &c.deny_users {
        kv("denyusers", &quote_if_needed(u));
    }
    for g in &c.allow_groups {
        kv("allowgroups", &quote_if_needed(g));
    }
    for g in &c.deny_groups {
        kv("denygroups", &quote_if_needed(g));
    }
    for e in &c.accept_env {
        kv("acceptenv", &quote_if_needed(e));
    }
    for s in &c.subsystems {
        kv("subsystem", &format_args!("{} {}", s.name, s.command));
    }
    kv("maxstartups", &c.max_startups);
    kv("rekeylimit", &c.rekey_limit);
    kv("permitopen", &c.permit_open);
    kv("permituserenvironment", &c.permit_user_environment);
    match &c.authentication_methods {
        None => kv("authenticationmethods", &"any"),
        Some(lists) => {
            let lists: Vec<String> = lists.iter().map(|l| l.join(",")).collect();
            kv("authenticationmethods", &lists.join(" "));
        }
    }
    kv("revokedkeys", &path_or_none(&c.revoked_keys));
    kv("requiredrsasize", &c.required_rsa_size);
    if !c.set_env.is_empty() {
        let vars: Vec<String> = c
            .set_env
            .iter()
            .map(|(k, v)| quote_if_needed(&format!("{k}={v}")))
            .collect();
        kv("setenv", &vars.join(" "));
    }
    kv(
        "versionaddendum",
        &c.version_addendum.as_deref().unwrap_or("none"),
    );
    match c.per_source_max_startups {
        None => kv("persourcemaxstartups", &"none"),
        Some(n) => kv("persourcemaxstartups", &n),
    }
    let (v4, v6) = c.per_source_net_block_size;
    kv("persourcenetblocksize", &format_args!("{v4}:{v6}"));
    kv("refuseconnection", &yes_no(c.refuse_connection));
    kv("tcpkeepalive", &yes_no(c.tcp_keep_alive));
    kv(
        "hostkeyagent",
        &c.host_key_agent
            .as_deref()
            .map_or("none".to_string(), quote_if_needed),
    );
    let protocol: Vec<String> = c.protocol.iter().map(|p| p.to_string()).collect();
    kv("protocol", &protocol.join(","));
    o
}
