//! User certificates (`PROTOCOL.certkeys`): which CA may vouch for whom.
//!
//! A certificate logs a user in when its CA is trusted for that user, by one of two
//! roads, tried in OpenSSH's order:
//!
//! - `TrustedUserCAKeys`: a file of CA keys (read as root). The certificate must name
//!   the user among its principals or, with `AuthorizedPrincipalsFile`, one of the
//!   principals that file (read as the user) lists, each line `[options] principal`
//!   with `authorized_keys` options;
//! - a `cert-authority` line in the user's `authorized_keys` (`principals=` as above).
//!
//! Either way the certificate must be a user certificate, signed by the CA with a
//! `CASignatureAlgorithms` algorithm, inside its validity period, with no critical
//! option Sisu does not know; `force-command` and `source-address` apply, and each
//! `permit-*` extension it lacks takes the matching right away. The checks of
//! validity, principals and options are `sisu_authkeys`' (`authorize_certificate`):
//! this module builds the `cert-authority` entries the two files stand for.
//!
//! ```
//! use sisu_daemon::policy::certificates::{principal_line, KNOWN_CRITICAL_OPTIONS};
//! assert_eq!(principal_line("alice"), Some((None, "alice")));
//! assert_eq!(principal_line("  no-pty,restrict ops  "), Some((Some("no-pty,restrict"), "ops")));
//! assert_eq!(principal_line("# comment"), None);
//! assert!(KNOWN_CRITICAL_OPTIONS.contains(&"force-command"));
//! ```

use sisu_authkeys::{Authorization, Cert, ConnectionInfo};
use sisu_wire::Reader;
use ssh_key::PublicKey;

/// The critical options Sisu knows; a certificate with any other is refused, as
/// OpenSSH refuses it. (`verify-required` is known: a security key's signature must
/// then show user verification; a certificate of any other key with it is refused,
/// since its signatures cannot.)
pub const KNOWN_CRITICAL_OPTIONS: &[&str] = &["force-command", "source-address", "verify-required"];

/// Longest `TrustedUserCAKeys` or `AuthorizedPrincipalsFile` file read.
pub const MAX_FILE_LEN: usize = 4 << 20;

/// The name of the signature algorithm the CA signed `cert` with.
pub fn ca_signature_algorithm(cert: &Cert) -> Option<String> {
    let raw = sisu_wire::cert::CertBlob::parse(&cert.blob).ok()?;
    let mut r = Reader::new(raw.signature);
    r.utf8().ok().map(str::to_string)
}

/// Why a certificate is refused before any CA is looked at, in OpenSSH's words.
pub fn refuse_outright(cert: &Cert, ca_algorithms: &[String]) -> Option<String> {
    if let Some((name, _)) = cert
        .critical_options
        .iter()
        .find(|(n, _)| !KNOWN_CRITICAL_OPTIONS.contains(&n.as_str()))
    {
        return Some(format!(
            "Certificate invalid: unsupported critical option {name}"
        ));
    }
    let sk = matches!(
        cert.key,
        ssh_key::public::KeyData::SkEd25519(_) | ssh_key::public::KeyData::SkEcdsaSha2NistP256(_)
    );
    if cert.critical_option("verify-required").is_some() && !sk {
        return Some(
            "Certificate requires user verification, which only security keys give".into(),
        );
    }
    match ca_signature_algorithm(cert) {
        Some(alg) if ca_algorithms.contains(&alg) => None,
        Some(alg) => Some(format!(
            "Certificate signature algorithm {alg} not in CASignatureAlgorithms"
        )),
        None => Some("Certificate signature does not parse".into()),
    }
}

/// One line of an `AuthorizedPrincipalsFile`: its options (if any) and principal;
/// `None` for blank and comment lines.
pub fn principal_line(line: &str) -> Option<(Option<&str>, &str)> {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') {
        return None;
    }
    match line.rsplit_once(char::is_whitespace) {
        Some((options, principal)) => Some((Some(options.trim()), principal)),
        None => Some((None, line)),
    }
}

/// The `authorized_keys` text of a `cert-authority` entry for `ca`, with
/// `principals=` and further options when given. `None` when a principal could not
/// be quoted (a `"` in it).
fn cert_authority_entry(
    ca: &PublicKey,
    principal: Option<&str>,
    options: Option<&str>,
) -> Option<String> {
    let key = ca.to_openssh().ok()?;
    let mut opts = String::from("cert-authority");
    if let Some(p) = principal {
        if p.contains('"') {
            return None;
        }
        opts.push_str(&format!(",principals=\"{p}\""));
    }
    if let Some(o) = options {
        opts.push(',');
        opts.push_str(o);
    }
    Some(format!("{opts} {key}\n"))
}

/// Whether `ca_file`'s text (one public key per line, `authorized_keys` syntax)
/// lists the CA that signed `cert`.
pub fn ca_listed(ca_file: &str, cert: &Cert) -> bool {
    sisu_authkeys::parse_file(ca_file)
        .entries
        .iter()
        .any(|fe| fe.entry.key.key_data() == Some(&cert.signature_key))
}

/// Authorizes `cert` for `user` through a trusted CA: with `principals` (the text of
/// the `AuthorizedPrincipalsFile`, when one is configured) one of its lines must name
/// a principal of the certificate, whose options then apply; without it, `user` must
/// be a principal.
pub fn authorize_by_trusted_ca(
    cert: &Cert,
    user: &str,
    principals: Option<&str>,
    conn: &ConnectionInfo,
) -> Option<Authorization> {
    let ca = PublicKey::new(cert.signature_key.clone(), "");
    let entries: Vec<String> = match principals {
        // A trusted CA's certificate must name its principals (unlike one that a
        // user's own `cert-authority` line admits): OpenSSH's "require principal".
        None if cert.principals.is_empty() => return None,
        None => vec![cert_authority_entry(&ca, None, None)?],
        Some(text) => text
            .lines()
            .filter_map(principal_line)
            .filter(|(_, p)| cert.principals.iter().any(|c| c == p))
            .filter_map(|(options, p)| cert_authority_entry(&ca, Some(p), options))
            .collect(),
    };
    entries.iter().find_map(|text| {
        sisu_authkeys::parse_file(text)
            .authorize_certificate(cert, user, conn)
            .ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn principal_lines() {
        assert_eq!(principal_line(""), None);
        assert_eq!(principal_line("   "), None);
        assert_eq!(principal_line("#x y"), None);
        assert_eq!(principal_line("ops"), Some((None, "ops")));
        assert_eq!(
            principal_line("command=\"uptime\" ops"),
            Some((Some("command=\"uptime\""), "ops"))
        );
    }

    #[test]
    fn entries_quote_principals_and_refuse_quotes() {
        let key = ssh_key::PrivateKey::random(&mut rand_core::OsRng, ssh_key::Algorithm::Ed25519)
            .unwrap()
            .public_key()
            .clone();
        let e = cert_authority_entry(&key, Some("ops"), Some("no-pty")).unwrap();
        assert!(e.starts_with("cert-authority,principals=\"ops\",no-pty ssh-ed25519 "));
        assert_eq!(cert_authority_entry(&key, Some("a\"b"), None), None);
        assert!(cert_authority_entry(&key, None, None)
            .unwrap()
            .starts_with("cert-authority ssh-ed25519 "));
    }
}
