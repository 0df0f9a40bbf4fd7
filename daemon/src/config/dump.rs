//! `sshd -T`: the effective configuration, one `keyword value` per line, with the
//! keywords, order and value formats of OpenSSH's `sshd -T`.
//!
//! The order is that of OpenSSH 9.2 (Debian 12's `sshd`), with the keywords OpenSSH
//! added later (up to 9.9, whose keyword table Sisu follows) where 9.9 prints them. Every
//! keyword Sisu knows is printed, as OpenSSH prints it, except those OpenSSH itself
//! leaves out on Linux (listed, with the reason, in `NOT_PRINTED`). A keyword whose
//! value Sisu does not keep (a feature it does not have) shows OpenSSH's default,
//! whatever the file says.
//!
//! The output is itself a configuration that means the same as the one printed (the
//! tests parse it back). Where it differs from what OpenSSH prints for the same file,
//! [`dump_differences`] says where and why, and [`unexpected_dump_differences`] compares
//! two outputs against that list.

use std::net::IpAddr;

use super::keywords;
use super::lexer::{split_args, split_line};
use super::values::{fmt_host_port, parse_listen_address};
use super::Config;

fn yes_no(b: bool) -> String {
    if b { "yes" } else { "no" }.to_string()
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

fn path_or_none(p: &Option<std::path::PathBuf>) -> String {
    p.as_deref().map_or_else(|| "none".to_string(), path_word)
}

fn text_or_none(t: &Option<String>) -> String {
    t.as_deref()
        .map_or_else(|| "none".to_string(), quote_if_needed)
}

fn one(s: String) -> Vec<String> {
    vec![s]
}

fn each<T>(items: &[T], f: impl Fn(&T) -> String) -> Vec<String> {
    items.iter().map(f).collect()
}

/// Where the value of one `-T` keyword comes from.
#[derive(Clone, Copy)]
enum Source {
    /// The configuration: one value per line printed (none: no line).
    Kept(fn(&Config) -> Vec<String>),
    /// A keyword whose value Sisu does not keep: OpenSSH's default is printed.
    NotKept(&'static str),
    /// A keyword OpenSSH prints only when the file sets it, and whose value Sisu does not
    /// keep: never printed.
    NotKeptUnlessSet,
    /// A keyword Sisu refuses unless it is off: the off value, which is the only one a
    /// configuration that parses can have.
    Off(&'static str),
}

use Source::*;

/// The `-T` keywords, in the order OpenSSH prints them, and where each value comes from.
const LINES: &[(&str, Source)] = &[
    ("port", Kept(|c| each(&c.ports, u16::to_string))),
    ("addressfamily", Kept(|c| one(c.address_family.to_string()))),
    (
        "listenaddress",
        Kept(|c| {
            c.listen_addrs()
                .iter()
                .map(|(host, port)| fmt_host_port(host, port))
                .collect()
        }),
    ),
    ("usepam", Kept(|c| one(yes_no(c.use_pam)))),
    ("pamservicename", Kept(|c| one(c.pam_service_name.clone()))),
    (
        "logingracetime",
        Kept(|c| one(c.login_grace_time.as_secs().to_string())),
    ),
    (
        "x11displayoffset",
        Kept(|c| one(c.x11_display_offset.to_string())),
    ),
    ("maxauthtries", Kept(|c| one(c.max_auth_tries.to_string()))),
    ("maxsessions", Kept(|c| one(c.max_sessions.to_string()))),
    (
        "clientaliveinterval",
        Kept(|c| one(c.client_alive_interval.as_secs().to_string())),
    ),
    (
        "clientalivecountmax",
        Kept(|c| one(c.client_alive_count_max.to_string())),
    ),
    (
        "requiredrsasize",
        Kept(|c| one(c.required_rsa_size.to_string())),
    ),
    (
        "streamlocalbindmask",
        Kept(|c| one(format!("0{:o}", c.streamlocal_bind_mask))),
    ),
    (
        "unusedconnectiontimeout",
        Kept(|c| {
            one(c
                .unused_connection_timeout
                .map_or("none".to_string(), |t| t.as_secs().to_string()))
        }),
    ),
    (
        "permitrootlogin",
        Kept(|c| one(c.permit_root_login.to_string())),
    ),
    ("ignorerhosts", Kept(|c| one(c.ignore_rhosts.to_string()))),
    (
        "ignoreuserknownhosts",
        Kept(|c| one(yes_no(c.ignore_user_known_hosts))),
    ),
    (
        "hostbasedauthentication",
        Kept(|c| one(yes_no(c.hostbased_authentication))),
    ),
    (
        "hostbasedusesnamefrompacketonly",
        Kept(|c| one(yes_no(c.hostbased_uses_name_from_packet_only))),
    ),
    (
        "pubkeyauthentication",
        Kept(|c| one(yes_no(c.pubkey_authentication))),
    ),
    ("kerberosauthentication", NotKept("no")),
    ("kerberosorlocalpasswd", NotKept("yes")),
    ("kerberosticketcleanup", NotKept("yes")),
    ("gssapiauthentication", NotKept("no")),
    ("gssapicleanupcredentials", NotKept("yes")),
    // Upstream 9.2 does not print it; Debian's 9.2 does, here (as upstream does since).
    ("gssapistrictacceptorcheck", NotKept("yes")),
    (
        "passwordauthentication",
        Kept(|c| one(yes_no(c.password_authentication))),
    ),
    (
        "kbdinteractiveauthentication",
        Kept(|c| one(yes_no(c.kbd_interactive_authentication))),
    ),
    ("printmotd", Kept(|c| one(yes_no(c.print_motd)))),
    ("printlastlog", Kept(|c| one(yes_no(c.print_last_log)))),
    ("x11forwarding", Kept(|c| one(yes_no(c.x11_forwarding)))),
    (
        "x11uselocalhost",
        Kept(|c| one(yes_no(c.x11_use_localhost))),
    ),
    ("permittty", Kept(|c| one(yes_no(c.permit_tty)))),
    ("permituserrc", Kept(|c| one(yes_no(c.permit_user_rc)))),
    ("strictmodes", Kept(|c| one(yes_no(c.strict_modes)))),
    ("tcpkeepalive", Kept(|c| one(yes_no(c.tcp_keep_alive)))),
    (
        "permitemptypasswords",
        Kept(|c| one(yes_no(c.permit_empty_passwords))),
    ),
    ("compression", NotKept("yes")),
    ("gatewayports", Kept(|c| one(c.gateway_ports.to_string()))),
    ("usedns", Kept(|c| one(yes_no(c.use_dns)))),
    (
        "allowtcpforwarding",
        Kept(|c| one(c.allow_tcp_forwarding.to_string())),
    ),
    (
        "allowagentforwarding",
        Kept(|c| one(yes_no(c.allow_agent_forwarding))),
    ),
    (
        "disableforwarding",
        Kept(|c| one(yes_no(c.disable_forwarding))),
    ),
    (
        "allowstreamlocalforwarding",
        Kept(|c| one(c.allow_streamlocal_forwarding.to_string())),
    ),
    (
        "streamlocalbindunlink",
        Kept(|c| one(yes_no(c.streamlocal_bind_unlink))),
    ),
    ("fingerprinthash", NotKept("SHA256")),
    ("exposeauthinfo", Kept(|c| one(yes_no(c.expose_auth_info)))),
    (
        "refuseconnection",
        Kept(|c| one(yes_no(c.refuse_connection))),
    ),
    ("pidfile", Kept(|c| one(path_or_none(&c.pid_file)))),
    ("modulifile", Kept(|c| one(path_word(&c.moduli_file)))),
    (
        "xauthlocation",
        Kept(|c| one(c.xauth_location.display().to_string())),
    ),
    ("ciphers", Kept(|c| one(c.ciphers.join(",")))),
    ("macs", Kept(|c| one(c.macs.join(",")))),
    ("banner", Kept(|c| one(path_or_none(&c.banner)))),
    (
        "forcecommand",
        Kept(|c| one(c.force_command.as_deref().unwrap_or("none").to_string())),
    ),
    (
        "chrootdirectory",
        Kept(|c| {
            one(c
                .chroot_directory
                .as_deref()
                .map_or("none".to_string(), quote_if_needed))
        }),
    ),
    (
        "trustedusercakeys",
        Kept(|c| one(text_or_none(&c.trusted_user_ca_keys))),
    ),
    ("revokedkeys", Kept(|c| one(path_or_none(&c.revoked_keys)))),
    ("securitykeyprovider", NotKept("internal")),
    (
        "authorizedprincipalsfile",
        Kept(|c| one(text_or_none(&c.authorized_principals_file))),
    ),
    (
        "versionaddendum",
        Kept(|c| one(c.version_addendum.as_deref().unwrap_or("none").to_string())),
    ),
    (
        "authorizedkeyscommand",
        Kept(|c| {
            one(c
                .authorized_keys_command
                .as_deref()
                .unwrap_or("none")
                .to_string())
        }),
    ),
    (
        "authorizedkeyscommanduser",
        Kept(|c| one(text_or_none(&c.authorized_keys_command_user))),
    ),
    (
        "authorizedprincipalscommand",
        Kept(|c| {
            one(c
                .authorized_principals_command
                .as_deref()
                .unwrap_or("none")
                .to_string())
        }),
    ),
    (
        "authorizedprincipalscommanduser",
        Kept(|c| one(text_or_none(&c.authorized_principals_command_user))),
    ),
    (
        "hostkeyagent",
        Kept(|c| {
            one(c
                .host_key_agent
                .as_deref()
                .map_or("none".to_string(), quote_if_needed))
        }),
    ),
    ("kexalgorithms", Kept(|c| one(c.kex_algorithms.join(",")))),
    (
        "casignaturealgorithms",
        Kept(|c| one(c.ca_signature_algorithms.join(","))),
    ),
    (
        "hostbasedacceptedalgorithms",
        Kept(|c| one(c.hostbased_accepted_algorithms.join(","))),
    ),
    (
        "hostkeyalgorithms",
        Kept(|c| one(c.host_key_algorithms.join(","))),
    ),
    (
        "pubkeyacceptedalgorithms",
        Kept(|c| one(c.pubkey_accepted_algorithms.join(","))),
    ),
    ("sshdsessionpath", NotKept("/usr/libexec/sshd-session")),
    ("persourcepenaltyexemptlist", NotKept("none")),
    ("loglevel", Kept(|c| one(c.log_level.to_string()))),
    (
        "syslogfacility",
        Kept(|c| one(c.syslog_facility.to_string())),
    ),
    (
        "authorizedkeysfile",
        Kept(|c| {
            one(c
                .authorized_keys_file
                .iter()
                .map(|f| quote_if_needed(f))
                .collect::<Vec<_>>()
                .join(" "))
        }),
    ),
    ("hostkey", Kept(|c| each(&c.host_keys, |p| path_word(p)))),
    (
        "hostcertificate",
        Kept(|c| each(&c.host_certificates, |p| path_word(p))),
    ),
    (
        "allowusers",
        Kept(|c| each(&c.allow_users, |u| quote_if_needed(u))),
    ),
    (
        "denyusers",
        Kept(|c| each(&c.deny_users, |u| quote_if_needed(u))),
    ),
    (
        "allowgroups",
        Kept(|c| each(&c.allow_groups, |g| quote_if_needed(g))),
    ),
    (
        "denygroups",
        Kept(|c| each(&c.deny_groups, |g| quote_if_needed(g))),
    ),
    (
        "acceptenv",
        Kept(|c| each(&c.accept_env, |e| quote_if_needed(e))),
    ),
    (
        "setenv",
        // One line, not one per variable as OpenSSH: only the first SetEnv line counts,
        // so one line per variable would read back as the first variable alone.
        Kept(|c| {
            if c.set_env.is_empty() {
                return Vec::new();
            }
            one(c
                .set_env
                .iter()
                .map(|(k, v)| quote_if_needed(&format!("{k}={v}")))
                .collect::<Vec<_>>()
                .join(" "))
        }),
    ),
    (
        "authenticationmethods",
        Kept(|c| match &c.authentication_methods {
            None => one("any".into()),
            Some(lists) => one(lists
                .iter()
                .map(|l| l.join(","))
                .collect::<Vec<_>>()
                .join(" ")),
        }),
    ),
    ("logverbose", NotKeptUnlessSet),
    (
        "channeltimeout",
        Kept(|c| {
            if c.channel_timeout.is_empty() {
                return Vec::new();
            }
            one(c
                .channel_timeout
                .iter()
                .map(|(t, s)| format!("{t}={s}"))
                .collect::<Vec<_>>()
                .join(" "))
        }),
    ),
    (
        "subsystem",
        Kept(|c| each(&c.subsystems, |s| format!("{} {}", s.name, s.command))),
    ),
    ("maxstartups", Kept(|c| one(c.max_startups.to_string()))),
    (
        "persourcemaxstartups",
        Kept(|c| {
            one(c
                .per_source_max_startups
                .map_or("none".to_string(), |n| n.to_string()))
        }),
    ),
    (
        "persourcenetblocksize",
        Kept(|c| {
            let (v4, v6) = c.per_source_net_block_size;
            one(format!("{v4}:{v6}"))
        }),
    ),
    ("permittunnel", NotKept("no")),
    // OpenSSH 9.2's default; 9.9's is `af21 cs1`.
    ("ipqos", NotKept("lowdelay throughput")),
    ("rekeylimit", Kept(|c| one(c.rekey_limit.to_string()))),
    ("permitopen", Kept(|c| one(c.permit_open.to_string()))),
    ("permitlisten", Kept(|c| one(c.permit_listen.to_string()))),
    (
        "permituserenvironment",
        Kept(|c| one(quote_if_needed(&c.permit_user_environment.to_string()))),
    ),
    (
        "pubkeyauthoptions",
        Kept(|c| {
            let (touch, verify) = c.pubkey_auth_options;
            let mut v: Vec<&str> = Vec::new();
            if touch {
                v.push("touch-required");
            }
            if verify {
                v.push("verify-required");
            }
            one(if v.is_empty() {
                "none".to_string()
            } else {
                v.join(" ")
            })
        }),
    ),
    ("persourcepenalties", Off("no")),
    (
        "serverkeybits",
        Kept(|c| one(c.server_key_bits.to_string())),
    ),
    (
        "keyregenerationinterval",
        Kept(|c| one(c.key_regeneration_interval.as_secs().to_string())),
    ),
    (
        "rsaauthentication",
        Kept(|c| one(yes_no(c.rsa_authentication))),
    ),
    (
        "protocol",
        Kept(|c| {
            one(c
                .protocol
                .iter()
                .map(|p| p.to_string())
                .collect::<Vec<_>>()
                .join(","))
        }),
    ),
];

/// Keywords Sisu knows that `-T` does not print (besides the deprecated and unsupported
/// ones, `Match` and `Include`, which no `sshd -T` prints), with the reason.
#[cfg(test)]
pub(crate) const NOT_PRINTED: &[(&str, &str)] = &[
    (
        "KerberosGetAFSToken",
        "printed only by builds with AFS support, which Debian's is not",
    ),
    (
        "RDomain",
        "printed only where routing domains exist (OpenBSD); Sisu refuses any value but none",
    ),
];

/// Prints `c` as `sshd -T` does.
pub(crate) fn dump(c: &Config) -> String {
    let mut o = String::new();
    for (keyword, source) in LINES {
        let values = match source {
            Kept(f) => f(c),
            NotKept(v) | Off(v) => vec![v.to_string()],
            NotKeptUnlessSet => Vec::new(),
        };
        for v in values {
            o.push_str(keyword);
            o.push(' ');
            o.push_str(&v);
            o.push('\n');
        }
    }
    o
}

/// One way `sisu-sshd -T` may differ from OpenSSH's `sshd -T` (Debian 12's, 9.2) for
/// the same configuration, and when.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DifferenceKind {
    /// Only OpenSSH prints this keyword: one Sisu does not know (Debian's own).
    OpenSshOnly,
    /// Only Sisu prints this keyword (one OpenSSH 9.2 does not have).
    SisuOnly,
    /// Sisu's default differs: the values may differ unless the configuration sets the
    /// keyword to a whole value (not one relative to the default: `+`, `-`, `^`).
    Default,
    /// Sisu does not keep the value and prints OpenSSH's default (or nothing, for a
    /// keyword OpenSSH prints only when set): the lines may differ when the
    /// configuration sets the keyword.
    NotKept,
    /// The same value, spelt `openssh` by OpenSSH and `sisu` by Sisu.
    Spelling {
        /// OpenSSH's spelling.
        openssh: &'static str,
        /// Sisu's spelling.
        sisu: &'static str,
    },
    /// Sisu quotes a value that has blanks or quotes so that it reads back as one word;
    /// OpenSSH prints it bare. Unquoted, the values are the same.
    Quoted,
    /// Sisu prints the values on one line (quoted where needed), OpenSSH one line each.
    OneLine,
    /// When the keyword is given more than once: OpenSSH 9.2 keeps the last value
    /// (OpenSSH 10.1 and later, as Sisu, the first).
    Repeated,
    /// When a `ListenAddress` names a host: OpenSSH prints the addresses the name
    /// resolves to, Sisu the name (it resolves it when it listens).
    HostName,
    /// When `PerSourceNetBlockSize` gives the IPv4 length alone: Sisu keeps the IPv6
    /// length at its default (128), OpenSSH 9.2 leaves it unset (prints 0).
    Ipv4Only,
    /// When `AuthorizedKeysCommand` is set too: OpenSSH 9.2 drops
    /// `AuthorizedPrincipalsCommand` (its parser tests the other keyword's value) and
    /// prints `none`; Sisu keeps it.
    AfterKeysCommand,
}

impl std::fmt::Display for DifferenceKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use DifferenceKind::*;
        match self {
            OpenSshOnly => f.write_str("only OpenSSH prints it"),
            SisuOnly => f.write_str("only Sisu prints it"),
            Default => f.write_str("Sisu's default differs (the same when set)"),
            NotKept => f.write_str("value not kept: OpenSSH's default, whatever is set"),
            Spelling { openssh, sisu } => write!(f, "OpenSSH prints `{openssh}`, Sisu `{sisu}`"),
            Quoted => f.write_str("Sisu quotes a value that has blanks or quotes"),
            OneLine => f.write_str("Sisu prints one line, OpenSSH one per value"),
            Repeated => f.write_str("when given twice: OpenSSH 9.2 keeps the last value"),
            HostName => f.write_str("when it names a host: OpenSSH prints its addresses"),
            Ipv4Only => f.write_str("when only the IPv4 length is given"),
            AfterKeysCommand => f.write_str("when AuthorizedKeysCommand is set: OpenSSH drops it"),
        }
    }
}

/// One documented difference between `sisu-sshd -T` and OpenSSH's `sshd -T`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DumpDifference {
    /// The keyword, as `-T` prints it (lower case).
    pub keyword: &'static str,
    /// What differs, and when.
    pub kind: DifferenceKind,
    /// Why.
    pub why: &'static str,
}

const fn diff(keyword: &'static str, kind: DifferenceKind, why: &'static str) -> DumpDifference {
    DumpDifference { keyword, kind, why }
}

/// The differences other than [`DifferenceKind::NotKept`] (which come from [`LINES`]).
const DIFFERENCES: &[DumpDifference] = {
    use DifferenceKind::*;
    const DEBIAN_GSSAPI: &str =
        "Debian's GSSAPI key exchange patch; Sisu does not know the keyword";
    const ALGS: &str = "Sisu's default list: the algorithms it implements and enables";
    const NEWER: &str = "a keyword of OpenSSH 9.9 (Sisu's keyword table), printed where \
                         9.9 prints it; OpenSSH 9.2 does not have it";
    const QUOTED: &str = "a value with blanks or quotes is quoted, so that the line reads \
                          back as the same value";
    &[
        diff("gssapikeyexchange", OpenSshOnly, DEBIAN_GSSAPI),
        diff("gssapistorecredentialsonrekey", OpenSshOnly, DEBIAN_GSSAPI),
        diff("gssapikexalgorithms", OpenSshOnly, DEBIAN_GSSAPI),
        diff("pamservicename", SisuOnly, NEWER),
        diff("refuseconnection", SisuOnly, NEWER),
        diff("sshdsessionpath", SisuOnly, NEWER),
        diff("persourcepenaltyexemptlist", SisuOnly, NEWER),
        diff(
            "persourcepenalties",
            SisuOnly,
            "a keyword of OpenSSH 9.9 (on there by default); Sisu refuses every value \
             but no, and prints no",
        ),
        diff(
            "protocol",
            SisuOnly,
            "Sisu keeps Protocol (it can speak SSH-1); OpenSSH dropped it",
        ),
        diff(
            "serverkeybits",
            SisuOnly,
            "protocol 1's server key; OpenSSH dropped it with protocol 1",
        ),
        diff(
            "keyregenerationinterval",
            SisuOnly,
            "protocol 1's server key; OpenSSH dropped it with protocol 1",
        ),
        diff(
            "rsaauthentication",
            SisuOnly,
            "protocol 1's RSA keys; OpenSSH dropped it with protocol 1",
        ),
        diff("ciphers", Default, ALGS),
        diff("macs", Default, ALGS),
        diff("kexalgorithms", Default, ALGS),
        diff("hostkeyalgorithms", Default, ALGS),
        diff("pubkeyacceptedalgorithms", Default, ALGS),
        diff(
            "pidfile",
            Default,
            "Sisu's default is /run/sisu-sshd.pid, so that it can run beside OpenSSH",
        ),
        diff(
            "permitrootlogin",
            Spelling {
                openssh: "without-password",
                sisu: "prohibit-password",
            },
            "OpenSSH before 10.1 prints the deprecated alias; Sisu the current name, as \
             OpenSSH 10.1 and later",
        ),
        diff(
            "loglevel",
            Spelling {
                openssh: "SILENT",
                sisu: "QUIET",
            },
            "Debian's SILENT log level (its -q); upstream OpenSSH and Sisu print QUIET",
        ),
        diff(
            "setenv",
            OneLine,
            "only the first SetEnv line counts, so OpenSSH's one line per variable reads \
             back as the first variable alone; Sisu's line reads back the same",
        ),
        diff("setenv", Quoted, QUOTED),
        diff("pidfile", Quoted, QUOTED),
        diff("modulifile", Quoted, QUOTED),
        diff("banner", Quoted, QUOTED),
        diff("revokedkeys", Quoted, QUOTED),
        diff("hostkeyagent", Quoted, QUOTED),
        diff("authorizedkeysfile", Quoted, QUOTED),
        diff("hostkey", Quoted, QUOTED),
        diff("hostcertificate", Quoted, QUOTED),
        diff("allowusers", Quoted, QUOTED),
        diff("denyusers", Quoted, QUOTED),
        diff("allowgroups", Quoted, QUOTED),
        diff("denygroups", Quoted, QUOTED),
        diff("acceptenv", Quoted, QUOTED),
        diff("permituserenvironment", Quoted, QUOTED),
        diff(
            "maxstartups",
            Repeated,
            "OpenSSH 9.2 overwrites it at each line, so that even -o does not win; Sisu \
             keeps the first value, as for every keyword (OpenSSH does since 10.1)",
        ),
        diff(
            "persourcemaxstartups",
            Repeated,
            "OpenSSH 9.2 overwrites it at each line; Sisu keeps the first value",
        ),
        diff(
            "persourcenetblocksize",
            Repeated,
            "OpenSSH 9.2 overwrites it at each line; Sisu keeps the first value (OpenSSH \
             does since 10.1)",
        ),
        diff(
            "persourcenetblocksize",
            Ipv4Only,
            "OpenSSH 9.2 does not set the IPv6 length when only the IPv4 one is given",
        ),
        diff(
            "authorizedprincipalscommand",
            AfterKeysCommand,
            "OpenSSH 9.2's parser keeps AuthorizedPrincipalsCommand only while \
             AuthorizedKeysCommand is unset (it tests the wrong option), so with both it \
             drops the principals command; Sisu keeps both",
        ),
        diff(
            "listenaddress",
            HostName,
            "the configuration module does no name look-ups; the listener resolves names",
        ),
    ]
};

/// Every documented difference between `sisu-sshd -T` and Debian 12's OpenSSH 9.2
/// `sshd -T` for the same configuration (the list [`unexpected_dump_differences`] allows).
///
/// Besides these, a configuration may simply not be comparable: Sisu refuses at start-up
/// the restrictions it cannot apply yet (`UsePAM yes`,
/// `ChannelTimeout`, ..., see `KEYWORDS.md`), and OpenSSH refuses what Sisu accepts
/// (Debian's `SILENT` log level aside, algorithm names it lacks, `AuthenticationMethods`
/// that its enabled methods cannot satisfy).
pub fn dump_differences() -> Vec<DumpDifference> {
    let mut out = DIFFERENCES.to_vec();
    for (keyword, source) in LINES {
        let why = match source {
            NotKept(_) => {
                "Sisu does not keep the value (the feature is absent, or not implemented \
                 and warned about): -T prints OpenSSH's default"
            }
            NotKeptUnlessSet => {
                "Sisu does not keep the value (not implemented, warned about); OpenSSH \
                 prints the keyword only when it is set"
            }
            _ => continue,
        };
        out.push(diff(keyword, DifferenceKind::NotKept, why));
    }
    out
}

/// The `-T` keyword a configuration line sets, and its arguments.
fn setting(line: &str) -> Option<(String, Vec<String>)> {
    let l = split_line(line).ok()??;
    let kw = keywords::lookup(&l.keyword)?;
    Some((kw.name.to_ascii_lowercase(), l.args))
}

/// What a configuration says about one `-T` keyword: the argument lists of every line
/// that sets it (in `Match` blocks too).
fn settings_of<'a>(config: &'a str, keyword: &'a str) -> impl Iterator<Item = Vec<String>> + 'a {
    config
        .lines()
        .filter_map(setting)
        .filter(move |(k, _)| k == keyword)
        .map(|(_, args)| args)
}

/// Whether `kind` allows OpenSSH's values `o` and Sisu's `s` (the lines of one keyword)
/// to differ, for `config`.
fn allowed(kind: DifferenceKind, keyword: &str, o: &[&str], s: &[&str], config: &str) -> bool {
    use DifferenceKind::*;
    let mut set = settings_of(config, keyword);
    match kind {
        OpenSshOnly | SisuOnly => true,
        Default => !set.any(|args| {
            args.first()
                .is_some_and(|a| !a.starts_with(['+', '-', '^']))
        }),
        NotKept => set.next().is_some(),
        Spelling { openssh, sisu } => {
            o.len() == s.len()
                && o.iter()
                    .zip(s)
                    .all(|(o, s)| o == s || (*o == openssh && *s == sisu))
        }
        Quoted => {
            let unquoted: Vec<String> = s
                .iter()
                .map(|v| split_args(v).map(|w| w.join(" ")).unwrap_or_default())
                .collect();
            unquoted == o
        }
        OneLine => {
            let words: Vec<String> = s
                .iter()
                .flat_map(|v| split_args(v).unwrap_or_default())
                .collect();
            words == o
        }
        Repeated => set.count() > 1,
        HostName => set.any(|args| {
            args.first()
                .and_then(|a| parse_listen_address(a).ok())
                .is_some_and(|la| la.host.parse::<IpAddr>().is_err())
        }),
        Ipv4Only => set.any(|args| args.first().is_some_and(|a| !a.contains(':'))),
        AfterKeysCommand => {
            o == ["none"]
                && settings_of(config, "authorizedkeyscommand")
                    .next()
                    .is_some()
        }
    }
}

/// `-T` output as (keyword, its values) in order, one entry per run of lines of the same
/// keyword.
fn groups(dump: &str) -> Vec<(&str, Vec<&str>)> {
    let mut out: Vec<(&str, Vec<&str>)> = Vec::new();
    for line in dump.lines().filter(|l| !l.is_empty()) {
        let (k, v) = line.split_once(' ').unwrap_or((line, ""));
        match out.last_mut() {
            Some((last, values)) if *last == k => values.push(v),
            _ => out.push((k, vec![v])),
        }
    }
    out
}

/// The differences between OpenSSH's `sshd -T` output `openssh` and `sisu-sshd -T`'s
/// `sisu` for the configuration `config` (the file's text, with any `-o` options as
/// lines) that [`dump_differences`] does not explain; empty when the outputs agree.
///
/// Each keyword's lines are compared as a whole, in order: a keyword only one side
/// prints, keywords in another order, and different values are reported, one message
/// each.
pub fn unexpected_dump_differences(openssh: &str, sisu: &str, config: &str) -> Vec<String> {
    let known = dump_differences();
    let kinds = |k: &str| -> Vec<DifferenceKind> {
        known
            .iter()
            .filter(|d| d.keyword == k)
            .map(|d| d.kind)
            .collect()
    };
    let only = |k: &str, kind| kinds(k).contains(&kind);
    let mut o = groups(openssh);
    let mut s = groups(sisu);
    let mut out = Vec::new();
    for (side, g) in [("OpenSSH", &o), ("Sisu", &s)] {
        let mut seen = Vec::new();
        for (k, _) in g.iter() {
            if seen.contains(k) {
                out.push(format!("{side} prints {k} in two places"));
            }
            seen.push(k);
        }
    }
    o.retain(|(k, _)| !only(k, DifferenceKind::OpenSshOnly));
    s.retain(|(k, _)| !only(k, DifferenceKind::SisuOnly));
    // A keyword OpenSSH prints only when set, which Sisu does not keep.
    let in_sisu: Vec<&str> = s.iter().map(|(k, _)| *k).collect();
    o.retain(|(k, _)| {
        in_sisu.contains(k)
            || !(only(k, DifferenceKind::NotKept) && settings_of(config, k).next().is_some())
    });
    let ok: Vec<&str> = o.iter().map(|(k, _)| *k).collect();
    let sk: Vec<&str> = s.iter().map(|(k, _)| *k).collect();
    for k in &ok {
        if !sk.contains(k) {
            out.push(format!("only OpenSSH prints {k}"));
        }
    }
    for k in &sk {
        if !ok.contains(k) {
            out.push(format!("only Sisu prints {k}"));
        }
    }
    let common_o: Vec<&str> = ok.iter().copied().filter(|k| sk.contains(k)).collect();
    let common_s: Vec<&str> = sk.iter().copied().filter(|k| ok.contains(k)).collect();
    if let Some(i) = (0..common_o.len()).find(|&i| common_o[i] != common_s[i]) {
        out.push(format!(
            "order differs: OpenSSH prints {} where Sisu prints {}",
            common_o[i], common_s[i]
        ));
    }
    for (k, ov) in &o {
        let Some((_, sv)) = s.iter().find(|(sk, _)| sk == k) else {
            continue;
        };
        if ov == sv {
            continue;
        }
        if !kinds(k)
            .into_iter()
            .any(|kind| allowed(kind, k, ov, sv, config))
        {
            out.push(format!(
                "{k}: OpenSSH prints {:?}, Sisu {:?}",
                ov.join(" | "),
                sv.join(" | ")
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::keywords::{all_keywords, Status};

    #[test]
    fn every_line_is_a_keyword_sisu_knows_by_its_lower_case_name() {
        for (k, _) in LINES {
            let kw = keywords::lookup(k).unwrap_or_else(|| panic!("{k} is not a keyword"));
            assert_eq!(kw.name.to_ascii_lowercase(), *k);
        }
        let mut names: Vec<&str> = LINES.iter().map(|(k, _)| *k).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), LINES.len(), "a keyword is listed twice");
    }

    #[test]
    fn every_keyword_sisu_knows_is_printed_or_said_not_to_be() {
        for k in all_keywords() {
            let printed = LINES.iter().any(|(l, _)| *l == k.name.to_ascii_lowercase());
            let never = matches!(
                k.status,
                Status::Deprecated | Status::Unsupported | Status::Match | Status::Include
            );
            let listed = NOT_PRINTED.iter().any(|(n, _)| *n == k.name);
            assert!(
                printed ^ (never || listed),
                "{}: printed {printed}, never printed {never}, in NOT_PRINTED {listed}",
                k.name
            );
        }
    }

    #[test]
    fn the_documented_differences_name_printed_keywords() {
        for d in dump_differences() {
            let printed = LINES.iter().any(|(l, _)| *l == d.keyword);
            assert_eq!(
                printed,
                d.kind != DifferenceKind::OpenSshOnly,
                "{}: {:?}",
                d.keyword,
                d.kind
            );
            assert!(!d.why.is_empty());
        }
    }

    const O: &str = "port 22\nlistenaddress 127.0.0.1:22\npermitrootlogin without-password\n\
                     gssapikeyexchange no\nbanner /a b\nciphers x,y\nsetenv A=1\nsetenv B=2 3\n\
                     logverbose kex.c:*\nmaxstartups 3:30:3\n";
    const S: &str = "port 22\nlistenaddress 127.0.0.1:22\npermitrootlogin prohibit-password\n\
                     banner \"/a b\"\nciphers z\nsetenv A=1 \"B=2 3\"\nmaxstartups 3:30:3\n\
                     protocol 2\n";

    #[test]
    fn documented_differences_are_allowed() {
        let conf = "Banner \"/a b\"\nSetEnv A=1 \"B=2 3\"\nLogVerbose kex.c:*\n";
        assert_eq!(
            unexpected_dump_differences(O, S, conf),
            Vec::<String>::new()
        );
    }

    #[test]
    fn other_differences_are_reported() {
        // Ciphers set in the file: Sisu's default is no excuse.
        let conf = "Ciphers x,y\nSetEnv A=1 \"B=2 3\"\nLogVerbose kex.c:*\n";
        assert_eq!(
            unexpected_dump_differences(O, S, conf),
            ["ciphers: OpenSSH prints \"x,y\", Sisu \"z\""]
        );
        // `Ciphers +x` is relative to the default: still allowed.
        assert!(unexpected_dump_differences(O, S, "Ciphers +x\nLogVerbose x").is_empty());
        // A keyword OpenSSH prints only when set, not set: it must not be there.
        assert_eq!(
            unexpected_dump_differences(O, S, ""),
            ["only OpenSSH prints logverbose"]
        );
        let s = S.replace("maxstartups 3:30:3", "maxstartups 3:100:3");
        assert_eq!(
            unexpected_dump_differences(O, &s, "LogVerbose x"),
            ["maxstartups: OpenSSH prints \"3:30:3\", Sisu \"3:100:3\""]
        );
        let s = S.replace("port 22\n", "") + "port 22\n";
        let d = unexpected_dump_differences(O, &s, "LogVerbose x");
        assert_eq!(
            d,
            ["order differs: OpenSSH prints port where Sisu prints listenaddress"]
        );
        let s = S.replace("banner \"/a b\"", "banner /a");
        assert_eq!(
            unexpected_dump_differences(O, &s, "LogVerbose x"),
            ["banner: OpenSSH prints \"/a b\", Sisu \"/a\""]
        );
        let s = S.replace("permitrootlogin prohibit-password", "permitrootlogin no");
        assert_eq!(unexpected_dump_differences(O, &s, "LogVerbose x").len(), 1);
        let s = S.replace("port 22\n", "");
        assert_eq!(
            unexpected_dump_differences(O, &s, "LogVerbose x"),
            ["only OpenSSH prints port"]
        );
        let s = format!("{S}usedns no\n");
        assert_eq!(
            unexpected_dump_differences(O, &s, "LogVerbose x"),
            ["only Sisu prints usedns"]
        );
    }

    #[test]
    fn conditional_differences_need_their_condition() {
        let o = "listenaddress 127.0.0.1:22\npersourcenetblocksize 24:0\nmaxstartups 5:50:20\n";
        let s = "listenaddress localhost:22\npersourcenetblocksize 24:128\nmaxstartups 3:30:3\n";
        let conf = "ListenAddress localhost\nPerSourceNetBlockSize 24\nMaxStartups 3\n\
                    MaxStartups 5:50:20\n";
        assert!(unexpected_dump_differences(o, s, conf).is_empty());
        let conf = "ListenAddress 127.0.0.1\nPerSourceNetBlockSize 24:0\nMaxStartups 3\n";
        assert_eq!(unexpected_dump_differences(o, s, conf).len(), 3);
        // Not kept: allowed only when the file sets it.
        let o = "ipqos af21\n";
        let s = "ipqos lowdelay throughput\n";
        assert!(unexpected_dump_differences(o, s, "Match all\n IPQoS af21").is_empty());
        assert_eq!(unexpected_dump_differences(o, s, "").len(), 1);
    }
}
