//! Every keyword OpenSSH 9's `sshd` knows, what Sisu does with it, and where it may
//! appear.
//!
//! Names are matched case-insensitively. Aliases map to the canonical keyword they stand
//! for (`ChallengeResponseAuthentication` is `KbdInteractiveAuthentication`).
//!
//! Configuration fails closed. A keyword is [`Status::Implemented`] only when a test
//! shows its effect (the table of tests is checked by `config::keyword_tests`). A
//! keyword that restricts who gets in or what they may do, and that Sisu does not apply
//! yet, is [`Status::Refused`]: start-up stops with "not supported yet". A restriction on
//! a feature Sisu does not have at all is [`Status::Absent`]: it holds because the
//! feature is missing, and the issue that adds the feature must apply it. Only keywords
//! that add something are [`Status::NotImplemented`] (accepted with a warning). Some
//! keywords depend on their value (`ForceCommand internal-sftp` is refused, any other
//! command is applied):
//! see `config/support.rs`.

/// What Sisu does with a keyword.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Parsed, checked and applied (a test shows its effect).
    Implemented,
    /// Limits a feature Sisu does not have yet (named here, with the issue that adds
    /// it): the limit holds because the feature is absent. Accepted; a value that would
    /// turn the feature on is warned about.
    Absent(&'static str),
    /// Adds something Sisu does not do yet: accepted with a warning, not acted on.
    NotImplemented,
    /// Restricts access and is not applied yet: refused at start-up ("not supported
    /// yet"), so that no administrator believes a door is locked when it is not.
    Refused,
    /// Removed from OpenSSH: accepted with "Deprecated option".
    Deprecated,
    /// Compiled out of (or never in) OpenSSH: accepted with "Unsupported option".
    Unsupported,
    /// `Match`: starts a conditional block.
    Match,
    /// `Include`: the files a glob pattern names, read in place.
    Include,
}

/// One row of the keyword table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Keyword {
    /// The canonical spelling (for messages; lowercased for `-T`).
    pub name: &'static str,
    /// What Sisu does with it.
    pub status: Status,
    /// Whether it may appear inside a `Match` block.
    pub in_match: bool,
}

use Status::*;

const G: bool = false; // global only
const M: bool = true; // also inside Match

/// A spelling and the keyword it stands for.
struct Row {
    spelling: &'static str,
    keyword: Keyword,
}

const fn row(spelling: &'static str, name: &'static str, status: Status, in_match: bool) -> Row {
    Row {
        spelling,
        keyword: Keyword {
            name,
            status,
            in_match,
        },
    }
}

/// Every spelling, as OpenSSH 9.9's keyword table.
const TABLE: &[Row] = &[
    row("UsePAM", "UsePAM", Implemented, G),
    row("PAMServiceName", "PAMServiceName", Implemented, M),
    row(
        "PAMAuthenticationViaKbdInt",
        "PAMAuthenticationViaKbdInt",
        Deprecated,
        G,
    ),
    row("Port", "Port", Implemented, G),
    row("HostKey", "HostKey", Implemented, G),
    row("HostDSAKey", "HostKey", Implemented, G),
    row("HostKeyAgent", "HostKeyAgent", Implemented, G),
    row("PidFile", "PidFile", Implemented, G),
    row("ModuliFile", "ModuliFile", Implemented, G),
    row("ServerKeyBits", "ServerKeyBits", Implemented, G),
    row("LoginGraceTime", "LoginGraceTime", Implemented, G),
    row(
        "KeyRegenerationInterval",
        "KeyRegenerationInterval",
        Implemented,
        G,
    ),
    row("PermitRootLogin", "PermitRootLogin", Implemented, M),
    row("SyslogFacility", "SyslogFacility", Implemented, G),
    row("LogLevel", "LogLevel", Implemented, M),
    row("LogVerbose", "LogVerbose", NotImplemented, M),
    row(
        "RhostsAuthentication",
        "RhostsAuthentication",
        Deprecated,
        G,
    ),
    row(
        "RhostsRSAAuthentication",
        "RhostsRSAAuthentication",
        Deprecated,
        M,
    ),
    row(
        "HostbasedAuthentication",
        "HostbasedAuthentication",
        Implemented,
        M,
    ),
    row(
        "HostbasedUsesNameFromPacketOnly",
        "HostbasedUsesNameFromPacketOnly",
        Implemented,
        M,
    ),
    row(
        "HostbasedAcceptedAlgorithms",
        "HostbasedAcceptedAlgorithms",
        Implemented,
        M,
    ),
    row(
        "HostbasedAcceptedKeyTypes",
        "HostbasedAcceptedAlgorithms",
        Implemented,
        M,
    ),
    row("HostKeyAlgorithms", "HostKeyAlgorithms", Implemented, G),
    row("RSAAuthentication", "RSAAuthentication", Implemented, M),
    row(
        "PubkeyAuthentication",
        "PubkeyAuthentication",
        Implemented,
        M,
    ),
    row(
        "PubkeyAcceptedAlgorithms",
        "PubkeyAcceptedAlgorithms",
        Implemented,
        M,
    ),
    row(
        "PubkeyAcceptedKeyTypes",
        "PubkeyAcceptedAlgorithms",
        Implemented,
        M,
    ),
    row("PubkeyAuthOptions", "PubkeyAuthOptions", Implemented, M),
    row("DSAAuthentication", "PubkeyAuthentication", Implemented, G),
    row(
        "KerberosAuthentication",
        "KerberosAuthentication",
        Absent("Kerberos authentication (not planned)"),
        M,
    ),
    row(
        "KerberosOrLocalPasswd",
        "KerberosOrLocalPasswd",
        NotImplemented,
        G,
    ),
    row(
        "KerberosTicketCleanup",
        "KerberosTicketCleanup",
        NotImplemented,
        G,
    ),
    row(
        "KerberosGetAFSToken",
        "KerberosGetAFSToken",
        NotImplemented,
        G,
    ),
    row("KerberosTGTPassing", "KerberosTGTPassing", Unsupported, G),
    row("AFSTokenPassing", "AFSTokenPassing", Unsupported, G),
    row(
        "GSSAPIAuthentication",
        "GSSAPIAuthentication",
        Absent("GSSAPI authentication (not planned)"),
        M,
    ),
    row(
        "GSSAPICleanupCredentials",
        "GSSAPICleanupCredentials",
        NotImplemented,
        G,
    ),
    row(
        "GSSAPIStrictAcceptorCheck",
        "GSSAPIStrictAcceptorCheck",
        Absent("GSSAPI authentication (not planned)"),
        G,
    ),
    row(
        "PasswordAuthentication",
        "PasswordAuthentication",
        Implemented,
        M,
    ),
    row(
        "KbdInteractiveAuthentication",
        "KbdInteractiveAuthentication",
        Implemented,
        M,
    ),
    row(
        "ChallengeResponseAuthentication",
        "KbdInteractiveAuthentication",
        Implemented,
        M,
    ),
    row(
        "SKeyAuthentication",
        "KbdInteractiveAuthentication",
        Implemented,
        M,
    ),
    row("CheckMail", "CheckMail", Deprecated, G),
    row("ListenAddress", "ListenAddress", Implemented, G),
    row("AddressFamily", "AddressFamily", Implemented, G),
    row("PrintMotd", "PrintMotd", Implemented, G),
    row("PrintLastLog", "PrintLastLog", Implemented, G),
    row("IgnoreRhosts", "IgnoreRhosts", Implemented, M),
    row(
        "IgnoreUserKnownHosts",
        "IgnoreUserKnownHosts",
        Implemented,
        G,
    ),
    row("X11Forwarding", "X11Forwarding", Implemented, M),
    row("X11DisplayOffset", "X11DisplayOffset", Implemented, M),
    row("X11UseLocalhost", "X11UseLocalhost", Implemented, M),
    row("XAuthLocation", "XAuthLocation", Implemented, G),
    row("StrictModes", "StrictModes", Implemented, G),
    row(
        "PermitEmptyPasswords",
        "PermitEmptyPasswords",
        Implemented,
        M,
    ),
    row(
        "PermitUserEnvironment",
        "PermitUserEnvironment",
        Implemented,
        G,
    ),
    row("UseLogin", "UseLogin", Deprecated, G),
    row(
        "Compression",
        "Compression",
        Absent("compression (only `none` is offered)"),
        G,
    ),
    row("RekeyLimit", "RekeyLimit", Implemented, M),
    row("TCPKeepAlive", "TCPKeepAlive", Implemented, G),
    row("KeepAlive", "TCPKeepAlive", Implemented, G),
    row("AllowTcpForwarding", "AllowTcpForwarding", Implemented, M),
    row(
        "AllowAgentForwarding",
        "AllowAgentForwarding",
        Implemented,
        M,
    ),
    row("AllowUsers", "AllowUsers", Implemented, M),
    row("DenyUsers", "DenyUsers", Implemented, M),
    row("AllowGroups", "AllowGroups", Implemented, M),
    row("DenyGroups", "DenyGroups", Implemented, M),
    row("Ciphers", "Ciphers", Implemented, G),
    row("MACs", "MACs", Implemented, G),
    row("Protocol", "Protocol", Implemented, G),
    row("GatewayPorts", "GatewayPorts", Implemented, M),
    row("Subsystem", "Subsystem", Implemented, G),
    row("MaxStartups", "MaxStartups", Implemented, G),
    row(
        "PerSourceMaxStartups",
        "PerSourceMaxStartups",
        Implemented,
        G,
    ),
    row(
        "PerSourceNetBlockSize",
        "PerSourceNetBlockSize",
        Implemented,
        G,
    ),
    row("PerSourcePenalties", "PerSourcePenalties", Refused, G),
    row(
        "PerSourcePenaltyExemptList",
        "PerSourcePenaltyExemptList",
        NotImplemented,
        G,
    ),
    row("MaxAuthTries", "MaxAuthTries", Implemented, M),
    row("MaxSessions", "MaxSessions", Implemented, M),
    row("Banner", "Banner", Implemented, M),
    row("UseDNS", "UseDNS", Implemented, G),
    row(
        "VerifyReverseMapping",
        "VerifyReverseMapping",
        Deprecated,
        G,
    ),
    row("ReverseMappingCheck", "ReverseMappingCheck", Deprecated, G),
    row("ClientAliveInterval", "ClientAliveInterval", Implemented, M),
    row("ClientAliveCountMax", "ClientAliveCountMax", Implemented, M),
    row("AuthorizedKeysFile", "AuthorizedKeysFile", Implemented, M),
    row("AuthorizedKeysFile2", "AuthorizedKeysFile2", Deprecated, M),
    row(
        "UsePrivilegeSeparation",
        "UsePrivilegeSeparation",
        Deprecated,
        G,
    ),
    row("AcceptEnv", "AcceptEnv", Implemented, M),
    row("SetEnv", "SetEnv", Implemented, M),
    row(
        "PermitTunnel",
        "PermitTunnel",
        Absent("tun forwarding (not planned)"),
        M,
    ),
    row("PermitTTY", "PermitTTY", Implemented, M),
    row("PermitUserRC", "PermitUserRC", Implemented, M),
    row("Match", "Match", Match, M),
    row("PermitOpen", "PermitOpen", Implemented, M),
    row("PermitListen", "PermitListen", Implemented, M),
    row("ForceCommand", "ForceCommand", Implemented, M),
    row("ChrootDirectory", "ChrootDirectory", Implemented, M),
    row("HostCertificate", "HostCertificate", Implemented, G),
    row("RevokedKeys", "RevokedKeys", Implemented, M),
    row("TrustedUserCAKeys", "TrustedUserCAKeys", Implemented, M),
    row(
        "AuthorizedPrincipalsFile",
        "AuthorizedPrincipalsFile",
        Implemented,
        M,
    ),
    row("KexAlgorithms", "KexAlgorithms", Implemented, G),
    row("Include", "Include", Include, M),
    row("IPQoS", "IPQoS", NotImplemented, M),
    row(
        "AuthorizedKeysCommand",
        "AuthorizedKeysCommand",
        Implemented,
        M,
    ),
    row(
        "AuthorizedKeysCommandUser",
        "AuthorizedKeysCommandUser",
        Implemented,
        M,
    ),
    row(
        "AuthorizedPrincipalsCommand",
        "AuthorizedPrincipalsCommand",
        Implemented,
        M,
    ),
    row(
        "AuthorizedPrincipalsCommandUser",
        "AuthorizedPrincipalsCommandUser",
        Implemented,
        M,
    ),
    row("VersionAddendum", "VersionAddendum", Implemented, G),
    row(
        "AuthenticationMethods",
        "AuthenticationMethods",
        Implemented,
        M,
    ),
    row("StreamLocalBindMask", "StreamLocalBindMask", Implemented, M),
    row(
        "StreamLocalBindUnlink",
        "StreamLocalBindUnlink",
        Implemented,
        M,
    ),
    row(
        "AllowStreamLocalForwarding",
        "AllowStreamLocalForwarding",
        Implemented,
        M,
    ),
    row("FingerprintHash", "FingerprintHash", NotImplemented, G),
    row("DisableForwarding", "DisableForwarding", Implemented, M),
    row("ExposeAuthInfo", "ExposeAuthInfo", Implemented, M),
    row("RDomain", "RDomain", Refused, M),
    row(
        "CASignatureAlgorithms",
        "CASignatureAlgorithms",
        Implemented,
        M,
    ),
    row(
        "SecurityKeyProvider",
        "SecurityKeyProvider",
        NotImplemented,
        G,
    ),
    row("RequiredRSASize", "RequiredRSASize", Implemented, M),
    row("ChannelTimeout", "ChannelTimeout", Implemented, M),
    row(
        "UnusedConnectionTimeout",
        "UnusedConnectionTimeout",
        Implemented,
        M,
    ),
    row("SshdSessionPath", "SshdSessionPath", NotImplemented, G),
    row("RefuseConnection", "RefuseConnection", Implemented, M),
];

/// Looks a keyword up, ignoring case.
pub fn lookup(word: &str) -> Option<Keyword> {
    TABLE
        .iter()
        .find(|r| r.spelling.eq_ignore_ascii_case(word))
        .map(|r| r.keyword)
}

/// Every spelling in the table (aliases included).
pub fn all_spellings() -> impl Iterator<Item = &'static str> {
    TABLE.iter().map(|r| r.spelling)
}

/// Every canonical keyword, once each, in table order.
pub fn all_keywords() -> impl Iterator<Item = Keyword> {
    TABLE
        .iter()
        .filter(|r| r.spelling == r.keyword.name)
        .map(|r| r.keyword)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_is_case_insensitive_and_resolves_aliases() {
        let k = lookup("challengeresponseauthentication").unwrap();
        assert_eq!(k.name, "KbdInteractiveAuthentication");
        assert_eq!(k.status, Implemented);
        assert_eq!(
            lookup("PUBKEYACCEPTEDKEYTYPES").unwrap().name,
            "PubkeyAcceptedAlgorithms"
        );
        assert_eq!(lookup("UsePrivilegeSeparation").unwrap().status, Deprecated);
        assert_eq!(lookup("RDomain").unwrap().status, Refused);
        assert_eq!(lookup("IPQoS").unwrap().status, NotImplemented);
        assert!(lookup("NoSuchOption").is_none());
        assert!(!lookup("port").unwrap().in_match);
        assert!(lookup("maxauthtries").unwrap().in_match);
    }

    #[test]
    fn table_has_no_duplicate_spellings() {
        let mut seen: Vec<String> = all_spellings().map(|s| s.to_ascii_lowercase()).collect();
        let n = seen.len();
        seen.sort();
        seen.dedup();
        assert_eq!(seen.len(), n);
    }

    #[test]
    fn every_canonical_name_is_itself_a_spelling() {
        for r in TABLE {
            assert_eq!(lookup(r.keyword.name).unwrap().name, r.keyword.name);
            // An alias has its keyword's status (where it may appear can differ).
            assert_eq!(
                lookup(r.keyword.name).unwrap().status,
                r.keyword.status,
                "{}",
                r.spelling
            );
        }
    }
}
