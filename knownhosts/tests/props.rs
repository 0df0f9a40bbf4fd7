//! Property tests and look-up semantics.

use proptest::prelude::*;
use sisu_knownhosts::hashed::HashedName;
use sisu_knownhosts::rsa1::Rsa1Key;
use sisu_knownhosts::{Entry, HostKey, HostStatus, Hosts, KnownHosts, LookupKey, Marker};

const K1: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGgiVQbiF3lY3jYKSC9qbLSdMcTWcjyY0V/35xEuuzPm";
const K2: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEYYk0xThPnd2yI7A4oWjP0nnSQb8Es2MWRhBsLt0VIY";

fn key(line: &str) -> ssh_key::public::KeyData {
    match Entry::parse(&format!("h {line}")).unwrap().unwrap().key {
        HostKey::Ssh(k) => k,
        HostKey::Rsa1(_) => unreachable!(),
    }
}

fn entry() -> impl Strategy<Value = Entry> {
    (
        prop::option::of(prop_oneof![
            Just(Marker::CertAuthority),
            Just(Marker::Revoked)
        ]),
        prop_oneof![
            "!?[a-z0-9*?.\\[\\]:-]{1,12}(,!?[a-z0-9*?.-]{1,10}){0,3}".prop_map(Hosts::Patterns),
            (any::<[u8; 20]>(), "[a-z.]{1,12}")
                .prop_map(|(s, n)| Hosts::Hashed(HashedName::with_salt(&n, s))),
        ],
        any::<bool>(),
        prop::collection::vec(any::<u8>(), 1..48),
        prop::option::of("[!-~][ -~]{0,20}"),
    )
        .prop_filter(
            "hosts must not start with @ or #",
            |(_, h, ..)| !matches!(h, Hosts::Patterns(p) if p.starts_with(['@', '#', '|'])),
        )
        .prop_map(|(marker, hosts, rsa1, modulus, comment)| {
            let key = if rsa1 {
                let m = sisu_knownhosts::rsa1::bytes_to_decimal(&[&[1u8][..], &modulus].concat());
                HostKey::Rsa1(Rsa1Key::from_decimal("1024", "35", &m).unwrap())
            } else {
                HostKey::Ssh(key(K1))
            };
            Entry {
                marker,
                hosts,
                key,
                comment,
            }
        })
}

proptest! {
    #[test]
    fn print_then_parse_is_identity(e in entry()) {
        let text = e.to_string();
        prop_assert_eq!(Entry::parse(&text).map_err(|x| TestCaseError::fail(format!("{text}: {x}")))?, Some(e));
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let kh = KnownHosts::parse_bytes(&bytes);
        let _ = kh.entries_for("example.com").count();
        let _ = kh.lookup("example.com", 22, LookupKey::Plain(&key(K1)));
    }

    #[test]
    fn hashed_names_match_only_their_name(name in "[a-z0-9.:\\[\\]]{1,30}", other in "[a-z0-9.]{1,30}", salt in any::<[u8; 20]>()) {
        let h = HashedName::with_salt(&name, salt);
        prop_assert!(h.matches(&name));
        prop_assert_eq!(h.matches(&other), other == name);
    }
}

#[test]
fn lookup_statuses_with_deciding_lines() {
    let text = format!(
        "example.com {K1}\nexample.com,other.org {K2}\n@cert-authority *.example.com {K2}\n[alt.example.com]:2222 {K1}\n@revoked * {K2}\n"
    );
    let kh = KnownHosts::parse(&text);
    let (k1, k2) = (key(K1), key(K2));
    assert_eq!(
        kh.lookup("example.com", 22, LookupKey::Plain(&k1)),
        HostStatus::Match { line: 1 }
    );
    assert_eq!(
        kh.lookup("EXAMPLE.COM", 22, LookupKey::Plain(&k1)),
        HostStatus::Match { line: 1 }
    );
    assert_eq!(
        kh.lookup("example.com", 22, LookupKey::Plain(&k2)),
        HostStatus::Revoked { line: 5 }
    );
    assert_eq!(
        kh.lookup("alt.example.com", 2222, LookupKey::Plain(&k1)),
        HostStatus::Match { line: 4 }
    );
    assert_eq!(
        kh.lookup("alt.example.com", 22, LookupKey::Plain(&k1)),
        HostStatus::Unknown
    );
    let kh2 = KnownHosts::parse(&format!("example.com {K2}\n"));
    assert_eq!(
        kh2.lookup("example.com", 22, LookupKey::Plain(&k1)),
        HostStatus::Mismatch { lines: vec![1] }
    );
    // certificates: a CA line for the host, and revocation of the CA
    let kh3 = KnownHosts::parse(&format!("@cert-authority *.example.com {K2}\n"));
    assert_eq!(
        kh3.lookup(
            "www.example.com",
            22,
            LookupKey::Certificate { ca: &k2, key: &k1 }
        ),
        HostStatus::Match { line: 1 }
    );
    assert_eq!(
        kh.lookup(
            "www.example.com",
            22,
            LookupKey::Certificate { ca: &k2, key: &k1 }
        ),
        HostStatus::Revoked { line: 5 }
    );
    let listed: Vec<usize> = kh.entries_for("www.example.com").map(|(n, _)| n).collect();
    assert_eq!(listed, vec![3, 5]);
}

#[test]
fn errors_carry_line_and_column_and_lines_are_kept_verbatim() {
    let text = format!("# c\n@bogus h {K1}\nhost\n|1|AAAA|BBBB {K1}\nh ssh-ed25519 !!\nok {K1}\n");
    let kh = KnownHosts::parse(&text);
    let errs: Vec<(usize, usize)> = kh
        .lines
        .iter()
        .filter_map(|l| match &l.kind {
            sisu_knownhosts::LineKind::Invalid(e) => Some((e.line, e.column)),
            _ => None,
        })
        .collect();
    assert_eq!(errs, vec![(2, 1), (3, 5), (4, 1), (5, 15)]);
    assert_eq!(kh.to_string(), text);
    assert_eq!(kh.entries().count(), 1);
}
