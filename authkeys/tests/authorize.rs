//! Matching keys and connections against a file.

use base64::Engine;
use sisu_authkeys::{parse_file, Cert, ConnectionInfo, Refusal};
use std::process::Command;
use std::time::{Duration, UNIX_EPOCH};

const K1: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGgiVQbiF3lY3jYKSC9qbLSdMcTWcjyY0V/35xEuuzPm";
const NOW: u64 = 1_700_000_000; // 2023-11-14

fn conn(ip: &str, host: Option<&str>) -> ConnectionInfo {
    let mut c = ConnectionInfo::new(ip.parse().unwrap(), UNIX_EPOCH + Duration::from_secs(NOW));
    c.client_host = host.map(str::to_string);
    c
}

fn key_of(file: &sisu_authkeys::AuthorizedKeys) -> ssh_key::public::KeyData {
    file.entries[0].entry.key.key_data().unwrap().clone()
}

#[test]
fn a_refused_line_does_not_stop_the_search() {
    let text = format!(
        "from=\"10.0.0.0/8\" {K1} a\nexpiry-time=\"20200101\" {K1} b\nrestrict,pty,command=\"ls\",environment=\"A=1\",environment=\"A=2\" {K1} c\n"
    );
    let f = parse_file(&text);
    let k = key_of(&f);
    let a = f.authorize(&k, &conn("10.9.9.9", None)).unwrap();
    assert_eq!(a.line, 1);
    assert!(a.pty && a.port_forwarding && a.command.is_none());
    let a = f.authorize(&k, &conn("192.0.2.1", None)).unwrap();
    assert_eq!(a.line, 3);
    assert_eq!(a.command.as_deref(), Some("ls"));
    assert!(a.pty && !a.port_forwarding && !a.agent_forwarding && !a.x11_forwarding && !a.user_rc);
    assert_eq!(a.environment, vec![("A".to_string(), "1".to_string())]);
}

#[test]
fn negated_from_refuses_even_when_another_pattern_matches() {
    let f = parse_file(&format!(
        "from=\"*.example.com,!bad.example.com,192.0.2.0/24,!192.0.2.66\" {K1}\n"
    ));
    let k = key_of(&f);
    assert!(f
        .authorize(&k, &conn("198.51.100.1", Some("good.example.com")))
        .is_ok());
    assert!(f
        .authorize(&k, &conn("198.51.100.1", Some("BAD.example.com")))
        .is_err());
    assert!(f
        .authorize(&k, &conn("192.0.2.5", Some("elsewhere.org")))
        .is_ok());
    let d = f
        .authorize(&k, &conn("192.0.2.66", Some("good.example.com")))
        .unwrap_err();
    assert_eq!(d.refused, vec![(1, Refusal::FromNotPermitted)]);
    // without a host name, the address text is matched as the host too
    assert!(f.authorize(&k, &conn("198.51.100.1", None)).is_err());
}

#[test]
fn expiry_is_inclusive_and_local_time_uses_the_offset() {
    let f = parse_file(&format!("expiry-time=\"202311142213\" {K1}\n")); // 22:13:00 local
    let k = key_of(&f);
    let mut c = conn("10.0.0.1", None);
    c.now = UNIX_EPOCH + Duration::from_secs(1_699_999_980); // 22:13:00 UTC
    assert!(f.authorize(&k, &c).is_ok());
    c.now += Duration::from_secs(1);
    assert_eq!(
        f.authorize(&k, &c).unwrap_err().refused,
        vec![(1, Refusal::Expired)]
    );
    c.local_utc_offset = -3600; // local is UTC-1: expires an hour later
    assert!(f.authorize(&k, &c).is_ok());
}

#[test]
fn cert_authority_lines_and_principals_on_plain_keys_do_not_authorize() {
    let f = parse_file(&format!("cert-authority {K1}\nprincipals=\"a\" {K1}\n"));
    let k = key_of(&f);
    let d = f.authorize(&k, &conn("10.0.0.1", None)).unwrap_err();
    assert_eq!(
        d.refused,
        vec![(2, Refusal::PrincipalsWithoutCertAuthority)]
    );
    let other = parse_file(
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEYYk0xThPnd2yI7A4oWjP0nnSQb8Es2MWRhBsLt0VIY\n",
    );
    assert!(f
        .authorize(&key_of(&other), &conn("10.0.0.1", None))
        .unwrap_err()
        .refused
        .is_empty());
}

#[test]
fn certificates_need_a_ca_line_a_principal_and_a_valid_period() {
    if Command::new("ssh-keygen").arg("-?").output().is_err() {
        eprintln!("SKIPPED: ssh-keygen not found (install Debian package openssh-client)");
        return;
    }
    let d = std::env::temp_dir().join(format!("sisu-authkeys-cert-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    let run = |args: &[&str]| {
        let o = Command::new("ssh-keygen")
            .args(args)
            .current_dir(&d)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    };
    run(&["-q", "-t", "ed25519", "-N", "", "-f", "ca"]);
    run(&["-q", "-t", "ed25519", "-N", "", "-f", "user"]);
    run(&[
        "-q",
        "-s",
        "ca",
        "-I",
        "id",
        "-n",
        "alice,ops",
        "-O",
        "force-command=/bin/true",
        "-O",
        "no-pty",
        "user.pub",
    ]);
    let ca = std::fs::read_to_string(d.join("ca.pub")).unwrap();
    let cert_line = std::fs::read_to_string(d.join("user-cert.pub")).unwrap();
    let blob = base64::engine::general_purpose::STANDARD
        .decode(cert_line.split(' ').nth(1).unwrap())
        .unwrap();
    let cert = Cert::from_bytes(&blob).unwrap();
    assert!(cert.signature_verified);
    assert_eq!(cert.valid_before, u64::MAX);
    let c = conn("10.0.0.1", None);

    let f = parse_file(&format!("cert-authority {ca}"));
    let a = f.authorize_certificate(&cert, "alice", &c).unwrap();
    assert_eq!(
        (a.line, a.command.as_deref(), a.pty),
        (1, Some("/bin/true"), false)
    );
    assert!(a.port_forwarding);
    assert_eq!(
        f.authorize_certificate(&cert, "mallory", &c)
            .unwrap_err()
            .refused,
        vec![(1, Refusal::PrincipalNotAllowed)]
    );
    let f = parse_file(&format!("cert-authority,principals=\"ops\" {ca}"));
    assert!(f.authorize_certificate(&cert, "mallory", &c).is_ok());
    let f = parse_file(&format!("cert-authority,command=\"/bin/false\" {ca}"));
    assert_eq!(
        f.authorize_certificate(&cert, "alice", &c)
            .unwrap_err()
            .refused,
        vec![(1, Refusal::ForcedCommandsDiffer)]
    );
    // the CA key without cert-authority does not admit certificates
    let f = parse_file(&ca);
    assert!(f
        .authorize_certificate(&cert, "alice", &c)
        .unwrap_err()
        .refused
        .is_empty());
    // a tampered certificate does not parse
    let mut bad = blob.clone();
    let n = bad.len();
    bad[n - 10] ^= 1;
    assert!(Cert::from_bytes(&bad).is_err());
    let _ = std::fs::remove_dir_all(&d);
}
