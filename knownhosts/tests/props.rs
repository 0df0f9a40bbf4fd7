//! Property tests and look-up semantics: print/parse round trips, a line model
//! for arbitrary bytes, and look-ups against an independent model.

use proptest::prelude::*;
use sisu_knownhosts::hashed::HashedName;
use sisu_knownhosts::rsa1::Rsa1Key;
use sisu_knownhosts::{Entry, HostKey, HostStatus, Hosts, KnownHosts, LineKind, LookupKey, Marker};

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

/// An independent wildcard matcher (plain recursion, fine for short inputs).
fn wild(t: &[u8], p: &[u8]) -> bool {
    match p.split_first() {
        None => t.is_empty(),
        Some((b'*', rest)) => (0..=t.len()).any(|i| wild(&t[i..], rest)),
        Some((b'?', rest)) => !t.is_empty() && wild(&t[1..], rest),
        Some((c, rest)) => t.first() == Some(c) && wild(&t[1..], rest),
    }
}

/// Model of a host field: a positive pattern matches and no negated one does
/// (case-insensitive), or the name hashes to the hashed name under its salt.
fn model_matches(hosts: &Hosts, name: &str) -> bool {
    match hosts {
        Hosts::Patterns(list) => {
            let name = name.to_ascii_lowercase();
            let mut positive = false;
            for sub in list.split(',') {
                let (neg, pat) = match sub.strip_prefix('!') {
                    Some(p) => (true, p),
                    None => (false, sub),
                };
                if wild(name.as_bytes(), pat.to_ascii_lowercase().as_bytes()) {
                    if neg {
                        return false;
                    }
                    positive = true;
                }
            }
            positive
        }
        Hosts::Hashed(h) => HashedName::with_salt(name, h.salt) == *h,
    }
}

/// Model of `lookup`: a matching `@revoked` line for the key (or the
/// certificate's CA or key) wins; then the first line that accepts the key (a
/// plain line for a plain key, a CA line for a certificate's CA); then the plain
/// lines with other keys; else unknown.
fn model_lookup(entries: &[(usize, Entry)], name: &str, q: &Query) -> HostStatus {
    let (mut revoked, mut found, mut mismatch) = (None, None, Vec::new());
    for (line, e) in entries {
        if !model_matches(&e.hosts, name) {
            continue;
        }
        let HostKey::Ssh(k) = &e.key else { continue };
        match (e.marker, q) {
            (Some(Marker::Revoked), Query::Plain(p)) if k == p => {
                revoked.get_or_insert(*line);
            }
            (Some(Marker::Revoked), Query::Cert { ca, key }) if k == ca || k == key => {
                revoked.get_or_insert(*line);
            }
            (Some(Marker::CertAuthority), Query::Cert { ca, .. }) if k == ca => {
                found.get_or_insert(*line);
            }
            (None, Query::Plain(p)) if k == p => {
                found.get_or_insert(*line);
            }
            (None, Query::Plain(_)) => mismatch.push(*line),
            _ => {}
        }
    }
    match (revoked, found) {
        (Some(line), _) => HostStatus::Revoked { line },
        (None, Some(line)) => HostStatus::Match { line },
        (None, None) if !mismatch.is_empty() => HostStatus::Mismatch { lines: mismatch },
        (None, None) => HostStatus::Unknown,
    }
}

#[derive(Debug, Clone)]
enum Query {
    Plain(ssh_key::public::KeyData),
    Cert {
        ca: ssh_key::public::KeyData,
        key: ssh_key::public::KeyData,
    },
}

const NAMES: [&str; 7] = [
    "example.com",
    "www.example.com",
    "bad.example.com",
    "alt.example.com",
    "db1.example.net",
    "db12.example.net",
    "other.org",
];

fn lookup_entry() -> impl Strategy<Value = Entry> {
    let pattern = prop::sample::select(vec![
        "example.com",
        "EXAMPLE.com",
        "*.example.com",
        "!bad.example.com",
        "[alt.example.com]:2222",
        "[*.example.com]:*",
        "*",
        "db?.example.net",
        "!*.net",
        "!*",
    ]);
    (
        prop::option::of(prop_oneof![
            Just(Marker::CertAuthority),
            Just(Marker::Revoked)
        ]),
        prop_oneof![
            3 => prop::collection::vec(pattern, 1..4).prop_map(|v| Hosts::Patterns(v.join(","))),
            1 => (prop::sample::select(NAMES.to_vec()), any::<bool>(), any::<[u8; 20]>())
                .prop_map(|(n, alt, salt)| {
                    let name = if alt { format!("[{n}]:2222") } else { n.to_string() };
                    Hosts::Hashed(HashedName::with_salt(&name, salt))
                }),
        ],
        any::<bool>(),
    )
        .prop_map(|(marker, hosts, k2)| Entry {
            marker,
            hosts,
            key: HostKey::Ssh(key(if k2 { K2 } else { K1 })),
            comment: None,
        })
}

proptest! {
    #[test]
    fn print_then_parse_is_identity(e in entry()) {
        let text = e.to_string();
        prop_assert_eq!(Entry::parse(&text).map_err(|x| TestCaseError::fail(format!("{text}: {x}")))?, Some(e));
    }

    /// Arbitrary bytes, then some entries: every line is kept in order with its
    /// number and text, invalid lines carry their number, the entries come back on
    /// their lines, UTF-8 text prints back as read, and a look-up names only lines
    /// that hold entries for the name.
    #[test]
    fn arbitrary_bytes_keep_every_line(
        bytes in prop::collection::vec(any::<u8>(), 0..512),
        mix in prop::collection::vec(entry(), 0..4),
    ) {
        let mut all = bytes;
        for e in &mix {
            all.push(b'\n');
            all.extend_from_slice(e.to_string().as_bytes());
        }
        let kh = KnownHosts::parse_bytes(&all);
        let body = all.strip_suffix(b"\n").unwrap_or(&all);
        let segments: Vec<&[u8]> = if all.is_empty() {
            Vec::new()
        } else {
            body.split(|&b| b == b'\n').collect()
        };
        prop_assert_eq!(kh.lines.len(), segments.len());
        for (i, (l, seg)) in kh.lines.iter().zip(&segments).enumerate() {
            prop_assert_eq!(l.number, i + 1);
            prop_assert_eq!(&l.text, &String::from_utf8_lossy(seg));
            if let LineKind::Invalid(e) = &l.kind {
                prop_assert_eq!(e.line, i + 1);
            }
        }
        let first_mixed = segments.len() - mix.len();
        for (j, e) in mix.iter().enumerate() {
            prop_assert_eq!(&kh.lines[first_mixed + j].kind, &LineKind::Entry(e.clone()));
        }
        if let Ok(text) = std::str::from_utf8(&all) {
            prop_assert_eq!(&KnownHosts::parse(text), &kh);
            let want = if text.is_empty() || text.ends_with('\n') {
                text.to_string()
            } else {
                format!("{text}\n")
            };
            prop_assert_eq!(kh.to_string(), want);
        }
        for name in ["example.com", "a", "[a]:2"] {
            let listed: Vec<usize> = kh.entries_for(name).map(|(n, _)| n).collect();
            let all_entries: Vec<usize> = kh.entries().map(|(n, _)| n).collect();
            prop_assert!(listed.iter().all(|n| all_entries.contains(n)));
            match kh.lookup(name, 22, LookupKey::Plain(&key(K1))) {
                HostStatus::Match { line } | HostStatus::Revoked { line } => {
                    prop_assert!(listed.contains(&line))
                }
                HostStatus::Mismatch { lines } => {
                    prop_assert!(lines.iter().all(|l| listed.contains(l)))
                }
                HostStatus::Unknown => {}
            }
        }
    }

    /// Look-ups on files of random entries and junk agree with [`model_lookup`].
    #[test]
    fn lookup_agrees_with_a_model(
        lines in prop::collection::vec(
            prop_oneof![
                4 => lookup_entry().prop_map(Some),
                1 => Just(None),
            ],
            0..10,
        ),
        host in prop::sample::select([&NAMES[..], &["WWW.Example.COM", "Alt.Example.Com"]].concat()),
        port in prop::sample::select(vec![22u16, 2222]),
        query in 0..4usize,
    ) {
        let (k1, k2) = (key(K1), key(K2));
        let text: String = lines
            .iter()
            .enumerate()
            .map(|(i, l)| match l {
                Some(e) => format!("{e}\n"),
                None if i % 2 == 0 => "# junk follows\n".to_string(),
                None => "@bogus example.com x\n".to_string(),
            })
            .collect();
        let kh = KnownHosts::parse(&text);
        let entries: Vec<(usize, Entry)> = lines
            .iter()
            .enumerate()
            .filter_map(|(i, l)| l.clone().map(|e| (i + 1, e)))
            .collect();
        prop_assert_eq!(kh.entries().count(), entries.len());
        let q = match query {
            0 => Query::Plain(k1.clone()),
            1 => Query::Plain(k2.clone()),
            2 => Query::Cert { ca: k1.clone(), key: k2.clone() },
            _ => Query::Cert { ca: k2.clone(), key: k1.clone() },
        };
        let lk = match &q {
            Query::Plain(p) => LookupKey::Plain(p),
            Query::Cert { ca, key } => LookupKey::Certificate { ca, key },
        };
        let name = if port == 22 { host.to_string() } else { format!("[{host}]:{port}") };
        prop_assert_eq!(
            kh.lookup(host, port, lk),
            model_lookup(&entries, &name, &q),
            "{} port {} {:?}\n{}", host, port, q, text
        );
        let listed: Vec<usize> = kh.entries_for(&name).map(|(n, _)| n).collect();
        let model: Vec<usize> = entries
            .iter()
            .filter(|(_, e)| model_matches(&e.hosts, &name))
            .map(|(n, _)| *n)
            .collect();
        prop_assert_eq!(listed, model);
    }

    /// A hashed name matches its own name exactly, and not a near miss.
    #[test]
    fn hashed_names_match_only_their_name(
        (name, other) in "[a-z0-9.:\\[\\]]{1,30}".prop_flat_map(|name| {
            let n = name.clone();
            let near = (0..name.len(), any::<u8>()).prop_map(move |(i, b)| {
                let mut v = n.clone().into_bytes();
                v[i] = b'a' + b % 26;
                String::from_utf8(v).unwrap_or_default()
            });
            let upper = name.to_ascii_uppercase();
            (
                Just(name.clone()),
                prop_oneof![Just(name.clone()), Just(upper), near, "[a-z0-9.]{1,30}"],
            )
        }),
        salt in any::<[u8; 20]>(),
    ) {
        let h = HashedName::with_salt(&name, salt);
        prop_assert!(h.matches(&name));
        prop_assert_eq!(h.matches(&other), other == name, "{:?} vs {:?}", name, other);
        prop_assert_eq!(HashedName::parse(&h.to_string()), Some(h));
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
