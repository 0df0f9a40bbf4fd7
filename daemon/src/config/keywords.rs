//! Every keyword OpenSSH 9's `sshd` knows, what Sisu does with it, and where it may
//! appear.
//!
//! Names are matched case-insensitively. Aliases map to the canonical keyword they stand
//! for (`ChallengeResponseAuthentication` is `KbdInteractiveAuthentication`).

/// What Sisu does with a keyword.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Parsed, checked and applied.
    Implemented,
    /// Known to OpenSSH, accepted with a warning, not acted on yet.
    NotImplemented,
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

/// `(spelling, canonical name, status, allowed in Match)`, as OpenSSH 9.9's keyword table.
const TABLE: &[(&str, &str, Status, bool)] = &[
    ("UsePAM", "UsePAM", Implemented, G),
    ("PAMServiceName", "PAMServiceName", NotImplemented, M),
    (
        "PAMAuthenticationViaKbdInt",
        "PAMAuthenticationViaKbdInt",
        Deprecated,
        G,
    ),
    ("Port", "Port", Implemented, G),
    ("HostKey", "HostKey", Implemented, G),
    ("HostDSAKey", "HostKey", Implemented, G),
    ("HostKeyAgent", "HostKeyAgent", NotImplemented, G),
    ("PidFile", "PidFile", Implemented, G),
    ("ModuliFile", "ModuliFile", Implemented, G),
    ("ServerKeyBits", "ServerKeyBits", Deprecated, G),
    ("LoginGraceTime", "LoginGraceTime", Implemented, G),
    (
        "KeyRegenerationInterval",
        "KeyRegenerationInterval",
        Deprecated,
        G,
    ),
    ("PermitRootLogin", "PermitRootLogin", Implemented, M),
    ("SyslogFacility", "SyslogFacility", Implemented, G),
    ("LogLevel", "LogLevel", Implemented, M),
    ("LogVerbose", "LogVerbose", NotImplemented, M),
    (
        "RhostsAuthentication",
        "RhostsAuthentication",
        Deprecated,
        G,
    ),
    (
        "RhostsRSAAuthentication",
        "RhostsRSAAuthentication",
        Deprecated,
        M,
    ),
    (
        "HostbasedAuthentication",
        "HostbasedAuthentication",
        NotImplemented,
        M,
    ),
    (
        "HostbasedUsesNameFromPacketOnly",
        "HostbasedUsesNameFromPacketOnly",
        NotImplemented,
        M,
    ),
    (
        "HostbasedAcceptedAlgorithms",
        "HostbasedAcceptedAlgorithms",
        NotImplemented,
        M,
    ),
    (
        "HostbasedAcceptedKeyTypes",
        "HostbasedAcceptedAlgorithms",
        NotImplemented,
        M,
    ),
    ("HostKeyAlgorithms", "HostKeyAlgorithms", Implemented, G),
    ("RSAAuthentication", "RSAAuthentication", Deprecated, M),
    (
        "PubkeyAuthentication",
        "PubkeyAuthentication",
        Implemented,
        M,
    ),
    (
        "PubkeyAcceptedAlgorithms",
        "PubkeyAcceptedAlgorithms",
        Implemented,
        M,
    ),
    (
        "PubkeyAcceptedKeyTypes",
        "PubkeyAcceptedAlgorithms",
        Implemented,
        M,
    ),
    ("PubkeyAuthOptions", "PubkeyAuthOptions", NotImplemented, M),
    ("DSAAuthentication", "PubkeyAuthentication", Implemented, G),
    (
        "KerberosAuthentication",
        "KerberosAuthentication",
        NotImplemented,
        M,
    ),
    (
        "KerberosOrLocalPasswd",
        "KerberosOrLocalPasswd",
        NotImplemented,
        G,
    ),
    (
        "KerberosTicketCleanup",
        "KerberosTicketCleanup",
        NotImplemented,
        G,
    ),
    (
        "KerberosGetAFSToken",
        "KerberosGetAFSToken",
        NotImplemented,
        G,
    ),
    ("KerberosTGTPassing", "KerberosTGTPassing", Unsupported, G),
    ("AFSTokenPassing", "AFSTokenPassing", Unsupported, G),
    (
        "GSSAPIAuthentication",
        "GSSAPIAuthentication",
        NotImplemented,
        M,
    ),
    (
        "GSSAPICleanupCredentials",
        "GSSAPICleanupCredentials",
        NotImplemented,
        G,
    ),
    (
        "GSSAPIStrictAcceptorCheck",
        "GSSAPIStrictAcceptorCheck",
        NotImplemented,
        G,
    ),
    (
        "PasswordAuthentication",
        "PasswordAuthentication",
        Implemented,
        M,
    ),
    (
        "KbdInteractiveAuthentication",
        "KbdInteractiveAuthentication",
        Implemented,
        M,
    ),
    (
        "ChallengeResponseAuthentication",
        "KbdInteractiveAuthentication",
        Implemented,
        M,
    ),
    (
        "SKeyAuthentication",
        "KbdInteractiveAuthentication",
        Implemented,
        M,
    ),
    ("CheckMail", "CheckMail", Deprecated, G),
    ("ListenAddress", "ListenAddress", Implemented, G),
    ("AddressFamily", "AddressFamily", Implemented, G),
    ("PrintMotd", "PrintMotd", Implemented, G),
    ("PrintLastLog", "PrintLastLog", Implemented, G),
    ("IgnoreRhosts", "IgnoreRhosts", NotImplemented, M),
    (
        "IgnoreUserKnownHosts",
        "IgnoreUserKnownHosts",
        NotImplemented,
        G,
    ),
    ("X11Forwarding", "X11Forwarding", Implemented, M),
    ("X11DisplayOffset", "X11DisplayOffset", NotImplemented, M),
    ("X11UseLocalhost", "X11UseLocalhost", NotImplemented, M),
    ("XAuthLocation", "XAuthLocation", NotImplemented, G),
    ("StrictModes", "StrictModes", Implemented, G),
    (
        "PermitEmptyPasswords",
        "PermitEmptyPasswords",
        Implemented,
        M,
    ),
    (
        "PermitUserEnvironment",
        "PermitUserEnvironment",
        Implemented,
        G,
    ),
    ("UseLogin", "UseLogin", Deprecated, G),
    ("Compression", "Compression", NotImplemented, G),
    ("RekeyLimit", "RekeyLimit", Implemented, M),
    ("TCPKeepAlive", "TCPKeepAlive", NotImplemented, G),
    ("KeepAlive", "TCPKeepAlive", NotImplemented, G),
    ("AllowTcpForwarding", "AllowTcpForwarding", Implemented, M),
    (
        "AllowAgentForwarding",
        "AllowAgentForwarding",
        Implemented,
        M,
    ),
    ("AllowUsers", "AllowUsers", Implemented, M),
    ("DenyUsers", "DenyUsers", Implemented, M),
    ("AllowGroups", "AllowGroups", Implemented, M),
    ("DenyGroups", "DenyGroups", Implemented, M),
    ("Ciphers", "Ciphers", Implemented, G),
    ("MACs", "MACs", Implemented, G),
    ("Protocol", "Protocol", Implemented, G),
    ("GatewayPorts", "GatewayPorts", Implemented, M),
    ("Subsystem", "Subsystem", Implemented, G),
    ("MaxStartups", "MaxStartups", Implemented, G),
    (
        "PerSourceMaxStartups",
        "PerSourceMaxStartups",
        NotImplemented,
        G,
    ),
    (
        "PerSourceNetBlockSize",
        "PerSourceNetBlockSize",
        NotImplemented,
        G,
    ),
    (
        "PerSourcePenalties",
        "PerSourcePenalties",
        NotImplemented,
        G,
    ),
    (
        "PerSourcePenaltyExemptList",
        "PerSourcePenaltyExemptList",
        NotImplemented,
        G,
    ),
    ("MaxAuthTries", "MaxAuthTries", Implemented, M),
    ("MaxSessions", "MaxSessions", Implemented, M),
    ("Banner", "Banner", Implemented, M),
    ("UseDNS", "UseDNS", Implemented, G),
    (
        "VerifyReverseMapping",
        "VerifyReverseMapping",
        Deprecated,
        G,
    ),
    ("ReverseMappingCheck", "ReverseMappingCheck", Deprecated, G),
    ("ClientAliveInterval", "ClientAliveInterval", Implemented, M),
    ("ClientAliveCountMax", "ClientAliveCountMax", Implemented, M),
    ("AuthorizedKeysFile", "AuthorizedKeysFile", Implemented, M),
    ("AuthorizedKeysFile2", "AuthorizedKeysFile2", Deprecated, M),
    (
        "UsePrivilegeSeparation",
        "UsePrivilegeSeparation",
        Deprecated,
        G,
    ),
    ("AcceptEnv", "AcceptEnv", Implemented, M),
    ("SetEnv", "SetEnv", NotImplemented, M),
    ("PermitTunnel", "PermitTunnel", NotImplemented, M),
    ("PermitTTY", "PermitTTY", Implemented, M),
    ("PermitUserRC", "PermitUserRC", NotImplemented, M),
    ("Match", "Match", Match, M),
    ("PermitOpen", "PermitOpen", Implemented, M),
    ("PermitListen", "PermitListen", NotImplemented, M),
    ("ForceCommand", "ForceCommand", Implemented, M),
    ("ChrootDirectory", "ChrootDirectory", Implemented, M),
    ("HostCertificate", "HostCertificate", Implemented, G),
    ("RevokedKeys", "RevokedKeys", NotImplemented, M),
    ("TrustedUserCAKeys", "TrustedUserCAKeys", NotImplemented, M),
    (
        "AuthorizedPrincipalsFile",
        "AuthorizedPrincipalsFile",
        NotImplemented,
        M,
    ),
    ("KexAlgorithms", "KexAlgorithms", Implemented, G),
    ("Include", "Include", Include, M),
    ("IPQoS", "IPQoS", NotImplemented, M),
    (
        "AuthorizedKeysCommand",
        "AuthorizedKeysCommand",
        NotImplemented,
        M,
    ),
    (
        "AuthorizedKeysCommandUser",
        "AuthorizedKeysCommandUser",
        NotImplemented,
        M,
    ),
    (
        "AuthorizedPrincipalsCommand",
        "AuthorizedPrincipalsCommand",
        NotImplemented,
        M,
    ),
    (
        "AuthorizedPrincipalsCommandUser",
        "AuthorizedPrincipalsCommandUser",
        NotImplemented,
        M,
    ),
    ("VersionAddendum", "VersionAddendum", NotImplemented, G),
    (
        "AuthenticationMethods",
        "AuthenticationMethods",
        NotImplemented,
        M,
    ),
    (
        "StreamLocalBindMask",
        "StreamLocalBindMask",
        NotImplemented,
        M,
    ),
    (
        "StreamLocalBindUnlink",
        "StreamLocalBindUnlink",
        NotImplemented,
        M,
    ),
    (
        "AllowStreamLocalForwarding",
        "AllowStreamLocalForwarding",
        NotImplemented,
        M,
    ),
    ("FingerprintHash", "FingerprintHash", NotImplemented, G),
    ("DisableForwarding", "DisableForwarding", Implemented, M),
    ("ExposeAuthInfo", "ExposeAuthInfo", NotImplemented, M),
    ("RDomain", "RDomain", NotImplemented, M),
    (
        "CASignatureAlgorithms",
        "CASignatureAlgorithms",
        NotImplemented,
        M,
    ),
    (
        "SecurityKeyProvider",
        "SecurityKeyProvider",
        NotImplemented,
        G,
    ),
    ("RequiredRSASize", "RequiredRSASize", NotImplemented, M),
    ("ChannelTimeout", "ChannelTimeout", NotImplemented, M),
    (
        "UnusedConnectionTimeout",
        "UnusedConnectionTimeout",
        NotImplemented,
        M,
    ),
    ("SshdSessionPath", "SshdSessionPath", NotImplemented, G),
    ("RefuseConnection", "RefuseConnection", NotImplemented, M),
];

/// Looks a keyword up, ignoring case.
pub fn lookup(word: &str) -> Option<Keyword> {
    TABLE
        .iter()
        .find(|(spelling, ..)| spelling.eq_ignore_ascii_case(word))
        .map(|&(_, name, status, in_match)| Keyword {
            name,
            status,
            in_match,
        })
}

/// Every spelling in the table (aliases included).
#[cfg(test)]
pub fn all_spellings() -> impl Iterator<Item = &'static str> {
    TABLE.iter().map(|(s, ..)| *s)
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
        assert_eq!(lookup("ChannelTimeout").unwrap().status, NotImplemented);
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
        for (_, name, ..) in TABLE {
            assert_eq!(lookup(name).unwrap().name, *name);
        }
    }
}
