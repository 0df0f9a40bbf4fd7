//! Any bytes: parse as a `RevokedKeys` file (key list or KRL). When it parses, ask
//! about a fixed key, certificate and protocol-1 key (the seeds in
//! `seeds/revoked_keys/` revoke them by every rule kind), and check that the
//! answers agree with each other.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sisu_authkeys::revoked::{RevokedKeys, Target};
use sisu_authkeys::rsa1::Rsa1Key;
use sisu_authkeys::{Entry, EntryKey};
use std::sync::OnceLock;

/// A user key, and a certificate of it (serial 7, key ID `fuzz-id`).
const USER: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEgvZBhaVHmJLAOsJvO+XQZQ5SKk+aG0a1HHpF6QO+Tz";
const CERT: &str = "ssh-ed25519-cert-v01@openssh.com AAAAIHNzaC1lZDI1NTE5LWNlcnQtdjAxQG9wZW5zc2guY29tAAAAIG1U7FMDuHyW23B1Vgk9A4Kef//e5EavYnZDXkeK/wo0AAAAIEgvZBhaVHmJLAOsJvO+XQZQ5SKk+aG0a1HHpF6QO+TzAAAAAAAAAAcAAAABAAAAB2Z1enotaWQAAAAIAAAABHVzZXIAAAAAAAAAAP//////////AAAAAAAAAIIAAAAVcGVybWl0LVgxMS1mb3J3YXJkaW5nAAAAAAAAABdwZXJtaXQtYWdlbnQtZm9yd2FyZGluZwAAAAAAAAAWcGVybWl0LXBvcnQtZm9yd2FyZGluZwAAAAAAAAAKcGVybWl0LXB0eQAAAAAAAAAOcGVybWl0LXVzZXItcmMAAAAAAAAAAAAAADMAAAALc3NoLWVkMjU1MTkAAAAga4nMv68ocVGDI1AQY43AXXzLCXweDT78QjDP7dNGCLYAAABTAAAAC3NzaC1lZDI1NTE5AAAAQGaaQoqm1us2rJ3kdZ8jj1xOj4HAlTfIvp9Xj3A30oudb4MQeyiKCbE6sBjpwgnDxPzzfP/eXAvEbrDE43eMlAE=";

struct Fixtures {
    user: sisu_authkeys::ssh_key::public::KeyData,
    cert: sisu_authkeys::Cert,
    rsa1: Rsa1Key,
}

fn fixtures() -> &'static Fixtures {
    static F: OnceLock<Fixtures> = OnceLock::new();
    F.get_or_init(|| {
        let key = |line: &str| {
            Entry::parse(line)
                .expect("fixture parses")
                .expect("a key")
                .key
        };
        let EntryKey::Public(user) = key(USER) else {
            panic!("USER is a plain key")
        };
        let EntryKey::Certificate(cert) = key(CERT) else {
            panic!("CERT is a certificate")
        };
        let rsa1 = Rsa1Key::from_decimal("1024", "35", "1000000007").expect("rsa1 fixture");
        Fixtures {
            user,
            cert: *cert,
            rsa1,
        }
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(revoked) = RevokedKeys::parse(data) else {
        return;
    };
    assert_eq!(
        matches!(revoked, RevokedKeys::Krl(_)),
        data.starts_with(b"SSHKRL\n\0")
    );
    let f = fixtures();
    let user = revoked.check_key(&f.user);
    let ca = revoked.check_key(&f.cert.signature_key);
    let cert = revoked.check_cert(&f.cert);
    let _ = revoked.check_rsa1(&f.rsa1);
    // A revoked certified key or CA key revokes the certificate, and a
    // certificate revoked for its keys names a key that is revoked on its own.
    if user.is_some() || ca.is_some() {
        assert!(
            cert.is_some(),
            "{user:?} {ca:?} but the certificate is not revoked"
        );
    }
    match cert.as_ref().map(|r| r.target) {
        Some(Target::CertifiedKey) => assert!(user.is_some()),
        Some(Target::CaKey) => assert!(ca.is_some() && user.is_none()),
        Some(Target::Certificate) => assert!(user.is_none()),
        _ => {}
    }
    assert_eq!(RevokedKeys::parse(data).ok().as_ref(), Some(&revoked));
});
