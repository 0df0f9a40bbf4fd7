//! Matching a key and a connection against the file: which entry authorizes the
//! key, and with which restrictions (OpenSSH's `auth_check_authkey_line` and
//! `auth_authorise_keyopts`).

use crate::cert::{Cert, CertKind};
use crate::entry::{Entry, EntryKey};
use crate::file::AuthorizedKeys;
use crate::options::{AuthOption, Flag, PermitTarget, Tunnel};
use crate::pattern::PatternList;
use ssh_key::public::KeyData;
use std::fmt;
use std::net::IpAddr;
use std::ops::Deref;
use std::time::{SystemTime, UNIX_EPOCH};

/// The connection a key is offered on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionInfo {
    /// The client's address.
    pub client_addr: IpAddr,
    /// The client's canonical host name (`None` when not looked up, as with
    /// `UseDNS no`: then the address's text stands in, as in sshd).
    pub client_host: Option<String>,
    /// The current time.
    pub now: SystemTime,
    /// The server's offset from UTC in seconds east, for `expiry-time` values
    /// without `Z` (local time). 0 treats them as UTC.
    pub local_utc_offset: i32,
}

impl ConnectionInfo {
    /// A connection from `client_addr` at `now`, with no host name and UTC local time.
    pub fn new(client_addr: IpAddr, now: SystemTime) -> ConnectionInfo {
        ConnectionInfo {
            client_addr,
            client_host: None,
            now,
            local_utc_offset: 0,
        }
    }

    fn now_secs(&self) -> i64 {
        self.now
            .duration_since(UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
            .unwrap_or(0)
    }
}

/// What an entry's options add up to (later options override earlier ones, as in
/// sshd; `restrict` turns every permission off).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Restrictions {
    /// The forced command (`command=`).
    pub command: Option<String>,
    /// `environment=` pairs, first of each name only, in order. The daemon applies
    /// them only where `PermitUserEnvironment` allows.
    pub environment: Vec<(String, String)>,
    /// May the client get a PTY?
    pub pty: bool,
    /// Agent forwarding allowed?
    pub agent_forwarding: bool,
    /// Port forwarding allowed?
    pub port_forwarding: bool,
    /// X11 forwarding allowed?
    pub x11_forwarding: bool,
    /// Run `~/.ssh/rc`?
    pub user_rc: bool,
    /// `permitopen=` targets; empty means no limit beyond `port_forwarding`.
    pub permitopen: Vec<PermitTarget>,
    /// `permitlisten=` targets; empty means no limit beyond `port_forwarding`.
    pub permitlisten: Vec<PermitTarget>,
    /// `principals=` list (for a cert-authority entry).
    pub principals: Option<Vec<String>>,
    /// `tunnel=`.
    pub tunnel: Option<Tunnel>,
    /// `from=` patterns.
    pub from: Option<PatternList>,
    /// Earliest `expiry-time=`, in Unix seconds.
    pub expiry: Option<i64>,
    /// A FIDO key must show user presence (false after `no-touch-required`).
    pub touch_required: bool,
    /// A FIDO key must show user verification (`verify-required`).
    pub verify_required: bool,
    /// `restrict` was given.
    pub restricted: bool,
    /// `cert-authority` was given.
    pub cert_authority: bool,
}

impl Restrictions {
    /// Fold an entry's options into the restrictions they mean.
    pub fn from_options(opts: &[AuthOption], local_utc_offset: i32) -> Restrictions {
        let mut r = Restrictions {
            command: None,
            environment: Vec::new(),
            pty: true,
            agent_forwarding: true,
            port_forwarding: true,
            x11_forwarding: true,
            user_rc: true,
            permitopen: Vec::new(),
            permitlisten: Vec::new(),
            principals: None,
            tunnel: None,
            from: None,
            expiry: None,
            touch_required: true,
            verify_required: false,
            restricted: false,
            cert_authority: false,
        };
        for o in opts {
            match o {
                AuthOption::Restrict => {
                    r.restricted = true;
                    r.pty = false;
                    r.agent_forwarding = false;
                    r.port_forwarding = false;
                    r.x11_forwarding = false;
                    r.user_rc = false;
                }
                AuthOption::CertAuthority => r.cert_authority = true,
                AuthOption::Flag(flag, on) => {
                    let slot = match flag {
                        Flag::PortForwarding => &mut r.port_forwarding,
                        Flag::AgentForwarding => &mut r.agent_forwarding,
                        Flag::X11Forwarding => &mut r.x11_forwarding,
                        Flag::TouchRequired => &mut r.touch_required,
                        Flag::VerifyRequired => &mut r.verify_required,
                        Flag::Pty => &mut r.pty,
                        Flag::UserRc => &mut r.user_rc,
                    };
                    *slot = *on;
                }
                AuthOption::Command(c) => r.command = Some(c.clone()),
                AuthOption::Principals(p) => {
                    r.principals = Some(
                        p.split(',')
                            .take_while(|s| !s.is_empty())
                            .map(str::to_string)
                            .collect(),
                    )
                }
                AuthOption::From(f) => r.from = Some(f.clone()),
                AuthOption::ExpiryTime(t) => {
                    let t = t.unix_time(local_utc_offset);
                    r.expiry = Some(r.expiry.map_or(t, |e| e.min(t)));
                }
                AuthOption::Environment { name, value } => {
                    if !r.environment.iter().any(|(n, _)| n == name) {
                        r.environment.push((name.clone(), value.clone()));
                    }
                }
                AuthOption::PermitOpen(t) => r.permitopen.push(t.clone()),
                AuthOption::PermitListen(t) => r.permitlisten.push(t.clone()),
                AuthOption::Tunnel(t) => r.tunnel = Some(*t),
            }
        }
        r
    }
}

/// The entry that authorized a key, and its effective restrictions (dereferences to
/// [`Restrictions`], so `auth.command`, `auth.pty`, … work directly).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorization {
    /// 1-based line number of the deciding entry.
    pub line: usize,
    /// The `SHA256:…` fingerprint of the entry's key (the CA for a certificate).
    pub fingerprint: String,
    /// What the entry (merged with the certificate's options, if any) allows.
    pub restrictions: Restrictions,
}

impl Deref for Authorization {
    type Target = Restrictions;
    fn deref(&self) -> &Restrictions {
        &self.restrictions
    }
}

/// Why an entry that holds the key still refused it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// `expiry-time` is in the past.
    Expired,
    /// `from=` does not admit the client's host or address.
    FromNotPermitted,
    /// `principals=` on an entry without `cert-authority`.
    PrincipalsWithoutCertAuthority,
    /// The certificate is not a user certificate, or its signature or validity
    /// period failed.
    CertificateInvalid,
    /// No principal of the certificate is allowed (by `principals=`, or the user name).
    PrincipalNotAllowed,
    /// The certificate's `source-address` does not admit the client.
    CertificateSourceAddress,
    /// The certificate's `force-command` differs from the entry's `command=`.
    ForcedCommandsDiffer,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Refusal::Expired => "entry expired",
            Refusal::FromNotPermitted => "client host not permitted by from=",
            Refusal::PrincipalsWithoutCertAuthority => "principals= on a non-CA key",
            Refusal::CertificateInvalid => "certificate is not valid now",
            Refusal::PrincipalNotAllowed => "no certificate principal is allowed",
            Refusal::CertificateSourceAddress => "client not permitted by source-address",
            Refusal::ForcedCommandsDiffer => "forced commands in key and certificate differ",
        })
    }
}

/// No entry authorized the key.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Denied {
    /// Entries that held the key but refused it, with the reason (empty: the key is
    /// not in the file at all).
    pub refused: Vec<(usize, Refusal)>,
}

impl fmt::Display for Denied {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.refused.is_empty() {
            return f.write_str("key not found");
        }
        for (i, (line, why)) in self.refused.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "line {line}: {why}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Denied {}

/// The checks every candidate entry goes through.
fn check_entry(r: &Restrictions, conn: &ConnectionInfo) -> Result<(), Refusal> {
    if r.expiry.is_some_and(|e| e < conn.now_secs()) {
        return Err(Refusal::Expired);
    }
    if r.principals.is_some() && !r.cert_authority {
        return Err(Refusal::PrincipalsWithoutCertAuthority);
    }
    if let Some(from) = &r.from {
        let addr_text = conn.client_addr.to_string();
        let host = conn.client_host.as_deref().unwrap_or(&addr_text);
        if !from.matches_host_and_addr(host, conn.client_addr) {
            return Err(Refusal::FromNotPermitted);
        }
    }
    Ok(())
}

impl AuthorizedKeys {
    /// The first entry that authorizes the plain key `key` for this connection:
    /// entries holding the same key (a certificate line counts for its key), not
    /// marked `cert-authority`, whose `expiry-time` and `from=` admit `conn`.
    /// Like sshd, an entry that holds the key but refuses it does not stop the search.
    pub fn authorize(&self, key: &KeyData, conn: &ConnectionInfo) -> Result<Authorization, Denied> {
        let mut denied = Denied::default();
        for fe in &self.entries {
            let e = &fe.entry;
            if e.key.key_data() != Some(key) || e.is_cert_authority() {
                continue;
            }
            let r = Restrictions::from_options(&e.options, conn.local_utc_offset);
            match check_entry(&r, conn) {
                Ok(()) => {
                    return Ok(Authorization {
                        line: fe.line,
                        fingerprint: e.key.fingerprint(),
                        restrictions: r,
                    })
                }
                Err(why) => denied.refused.push((fe.line, why)),
            }
        }
        Err(denied)
    }

    /// The first `cert-authority` entry whose key signed `cert` and that admits it
    /// for `user` on this connection: a user certificate whose signature and
    /// validity period check out, with a principal named by `principals=` (or, with
    /// no such option, `user` among its principals, or no principals at all, as
    /// sshd allows on a user's own `cert-authority` line); the certificate's
    /// `force-command` and `source-address` apply, and its `permit-*` extensions
    /// are and-ed with the entry's flags (as sshd's `sshauthopt_merge`).
    pub fn authorize_certificate(
        &self,
        cert: &Cert,
        user: &str,
        conn: &ConnectionInfo,
    ) -> Result<Authorization, Denied> {
        let mut denied = Denied::default();
        let now = u64::try_from(conn.now_secs()).unwrap_or(0);
        for fe in &self.entries {
            let e = &fe.entry;
            let EntryKey::Public(ca) = &e.key else {
                continue;
            };
            if ca != &cert.signature_key || !e.is_cert_authority() {
                continue;
            }
            let r = Restrictions::from_options(&e.options, conn.local_utc_offset);
            let verdict = check_entry(&r, conn).and_then(|()| {
                if cert.kind != CertKind::User
                    || !cert.signature_verified
                    || now < cert.valid_after
                    || now >= cert.valid_before
                {
                    return Err(Refusal::CertificateInvalid);
                }
                let principals = &cert.principals;
                // As sshd: without `principals=`, a certificate with no principals
                // at all is valid for any user (this CA line is the user's own).
                let ok = match &r.principals {
                    Some(list) => list.iter().any(|p| principals.contains(p)),
                    None => principals.is_empty() || principals.iter().any(|p| p == user),
                };
                if !ok {
                    return Err(Refusal::PrincipalNotAllowed);
                }
                merge_certificate(r, cert, conn)
            });
            match verdict {
                Ok(restrictions) => {
                    return Ok(Authorization {
                        line: fe.line,
                        fingerprint: e.key.fingerprint(),
                        restrictions,
                    })
                }
                Err(why) => denied.refused.push((fe.line, why)),
            }
        }
        Err(denied)
    }

    /// Authorize a protocol-1 RSA key given as big-endian exponent and modulus
    /// (leading zero bytes ignored), with the same option checks.
    pub fn authorize_rsa1(
        &self,
        exponent: &[u8],
        modulus: &[u8],
        conn: &ConnectionInfo,
    ) -> Result<Authorization, Denied> {
        let trim = |b: &[u8]| -> Vec<u8> { b.iter().copied().skip_while(|&x| x == 0).collect() };
        let (e_want, n_want) = (trim(exponent), trim(modulus));
        let mut denied = Denied::default();
        for fe in &self.entries {
            let EntryKey::Rsa1(k) = &fe.entry.key else {
                continue;
            };
            if k.exponent != e_want || k.modulus != n_want || fe.entry.is_cert_authority() {
                continue;
            }
            let r = Restrictions::from_options(&fe.entry.options, conn.local_utc_offset);
            match check_entry(&r, conn) {
                Ok(()) => {
                    return Ok(Authorization {
                        line: fe.line,
                        fingerprint: k.fingerprint_sha256(),
                        restrictions: r,
                    })
                }
                Err(why) => denied.refused.push((fe.line, why)),
            }
        }
        Err(denied)
    }
}

/// Combine an entry's restrictions with a certificate's options.
fn merge_certificate(
    mut r: Restrictions,
    cert: &Cert,
    conn: &ConnectionInfo,
) -> Result<Restrictions, Refusal> {
    if let Some(src) = cert.critical_option("source-address") {
        let ok = src.split(',').any(|net| {
            PatternList::parse(net)
                .map(|l| l.match_addr(conn.client_addr) == 1 && !net.contains(['*', '?', '!']))
                .unwrap_or(false)
        });
        if !ok {
            return Err(Refusal::CertificateSourceAddress);
        }
    }
    if let Some(fc) = cert.critical_option("force-command") {
        match &r.command {
            Some(c) if c != fc => return Err(Refusal::ForcedCommandsDiffer),
            _ => r.command = Some(fc.to_string()),
        }
    }
    if cert.critical_option("verify-required").is_some() {
        r.verify_required = true;
    }
    r.pty &= cert.has_extension("permit-pty");
    r.agent_forwarding &= cert.has_extension("permit-agent-forwarding");
    r.port_forwarding &= cert.has_extension("permit-port-forwarding");
    r.x11_forwarding &= cert.has_extension("permit-X11-forwarding");
    r.user_rc &= cert.has_extension("permit-user-rc");
    r.touch_required = r.touch_required && !cert.has_extension("no-touch-required");
    Ok(r)
}

/// Convenience for a single entry: the restrictions it gives, ignoring the key.
impl Entry {
    /// The restrictions this entry's options mean.
    pub fn restrictions(&self, local_utc_offset: i32) -> Restrictions {
        Restrictions::from_options(&self.options, local_utc_offset)
    }
}
