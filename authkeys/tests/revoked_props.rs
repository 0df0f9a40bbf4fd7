//! Revocation files without OpenSSH: KRLs built by the test encoder from a random
//! model must answer as the model does; mutated and arbitrary bytes never panic,
//! and a truncated KRL never revokes more than the whole one; key lists answer
//! with the first line that lists a key; every error and limit is reached.

mod common;

use common::{blob, cert, ed25519, krl};
use proptest::prelude::*;
use sha1::Sha1;
use sha2::{Digest, Sha256};
use sisu_authkeys::revoked::{
    CaScope, KeyList, Krl, KrlErrorKind, Revocation, RevokedKeys, RevokedKeysError, Rule,
    SerialRule, Target, MAX_BITMAP_BYTES, MAX_FILE_SIZE, MAX_KEYS, MAX_KEY_IDS, MAX_SECTIONS,
    MAX_SERIALS, MAX_TOTAL_BITMAP_BYTES,
};
use sisu_authkeys::rsa1::Rsa1Key;
use sisu_authkeys::{Cert, ErrorKind};
use ssh_key::public::KeyData;
use ssh_key::PrivateKey;
use std::sync::OnceLock;

const USERS: usize = 3;
const CAS: usize = 3;
const IDS: [&str; 3] = ["alice", "bob", "carol"];
const PROBES: [u64; 16] = [
    0,
    1,
    2,
    3,
    5,
    8,
    13,
    63,
    64,
    65,
    100,
    1000,
    4096,
    1 << 32,
    u64::MAX - 1,
    u64::MAX,
];

struct Pool {
    cas: Vec<PrivateKey>,
    /// Users first, then the CAs: the keys a model may revoke as plain keys.
    keys: Vec<KeyData>,
    /// certs[user][ca][probe][id]
    certs: Vec<Cert>,
}

impl Pool {
    fn cert(&self, user: usize, ca: usize, probe: usize, id: usize) -> &Cert {
        &self.certs[((user * CAS + ca) * PROBES.len() + probe) * IDS.len() + id]
    }
}

fn pool() -> &'static Pool {
    static POOL: OnceLock<Pool> = OnceLock::new();
    POOL.get_or_init(|| {
        let cas: Vec<PrivateKey> = (0..CAS).map(|i| ed25519(100 + i as u8)).collect();
        let users: Vec<KeyData> = (0..USERS)
            .map(|i| ed25519(1 + i as u8).public_key().key_data().clone())
            .collect();
        let mut certs = Vec::new();
        for u in &users {
            for ca in &cas {
                for s in PROBES {
                    for id in IDS {
                        certs.push(cert(ca, u, s, id));
                    }
                }
            }
        }
        let mut keys = users;
        keys.extend(cas.iter().map(|c| c.public_key().key_data().clone()));
        Pool { cas, keys, certs }
    })
}

#[derive(Debug, Clone)]
enum Sub {
    List(Vec<u64>),
    Range(u64, u64),
    Bitmap(u64, Vec<u64>),
    Ids(Vec<usize>),
    Ext(Vec<u8>),
}

#[derive(Debug, Clone)]
enum Sec {
    Certs(Option<usize>, Vec<Sub>),
    Explicit(Vec<usize>),
    Sha1(Vec<usize>),
    Sha256(Vec<usize>),
    Ext(Vec<u8>, Vec<u8>),
}

#[derive(Debug, Clone)]
struct Model {
    version: u64,
    date: u64,
    comment: Vec<u8>,
    sections: Vec<Sec>,
    signatures: Vec<(Vec<u8>, Vec<u8>)>,
}

fn serial() -> impl Strategy<Value = u64> {
    prop_oneof![
        prop::sample::select(PROBES[1..].to_vec()),
        1u64..200,
        1u64..,
    ]
}

fn sub() -> impl Strategy<Value = Sub> {
    prop_oneof![
        prop::collection::vec(serial(), 0..6).prop_map(Sub::List),
        (
            prop_oneof![1u64..16, serial()],
            prop_oneof![0u64..4, 0u64..1100, Just(u64::MAX)]
        )
            .prop_map(|(lo, n)| Sub::Range(lo, lo.saturating_add(n))),
        (
            prop_oneof![
                1u64..100,
                prop::sample::select(PROBES[1..].to_vec()).prop_map(|p| p.saturating_sub(40))
            ],
            prop::collection::vec(0u64..80, 0..8)
        )
            .prop_map(|(off, bits)| Sub::Bitmap(off.clamp(1, u64::MAX - 80), bits)),
        prop::collection::vec(0..IDS.len(), 0..3).prop_map(Sub::Ids),
        prop::collection::vec(any::<u8>(), 0..8).prop_map(Sub::Ext),
    ]
}

fn keys() -> impl Strategy<Value = Vec<usize>> {
    prop::collection::vec(0..USERS + CAS, 0..3)
}

fn sec() -> impl Strategy<Value = Sec> {
    prop_oneof![
        3 => (prop::option::of(0..CAS), prop::collection::vec(sub(), 0..5))
            .prop_map(|(ca, subs)| Sec::Certs(ca, subs)),
        1 => keys().prop_map(Sec::Explicit),
        1 => keys().prop_map(Sec::Sha1),
        1 => keys().prop_map(Sec::Sha256),
        1 => ("[a-z@.]{0,12}", prop::collection::vec(any::<u8>(), 0..8))
            .prop_map(|(n, c)| Sec::Ext(n.into_bytes(), c)),
    ]
}

fn model() -> impl Strategy<Value = Model> {
    (
        any::<u64>(),
        any::<u64>(),
        prop::collection::vec(1u8.., 0..16),
        prop::collection::vec(sec(), 0..6),
        prop::collection::vec(
            (
                prop::collection::vec(any::<u8>(), 0..8),
                prop::collection::vec(any::<u8>(), 0..8),
            ),
            0..2,
        ),
    )
        .prop_map(|(version, date, comment, sections, signatures)| Model {
            version,
            date,
            comment,
            sections,
            signatures,
        })
}

fn encode(m: &Model) -> Vec<u8> {
    let p = pool();
    let mut out = krl::header(m.version, m.date, &m.comment);
    let blobs = |ks: &[usize], f: &dyn Fn(&[u8]) -> Vec<u8>| -> Vec<u8> {
        let items: Vec<Vec<u8>> = ks.iter().map(|&k| f(&blob(&p.keys[k]))).collect();
        let refs: Vec<&[u8]> = items.iter().map(Vec::as_slice).collect();
        krl::strings(&refs)
    };
    for s in &m.sections {
        match s {
            Sec::Certs(ca, subs) => {
                let ca_blob = ca.map(|c| blob(p.cas[c].public_key().key_data()));
                let subs: Vec<(u8, Vec<u8>)> = subs
                    .iter()
                    .map(|sub| match sub {
                        Sub::List(v) => krl::serial_list(v),
                        Sub::Range(lo, hi) => krl::serial_range(*lo, *hi),
                        Sub::Bitmap(off, bits) => krl::serial_bitmap(*off, bits),
                        Sub::Ids(ids) => {
                            let ids: Vec<&[u8]> = ids.iter().map(|&i| IDS[i].as_bytes()).collect();
                            krl::key_ids(&ids)
                        }
                        Sub::Ext(c) => (
                            krl::CERT_EXTENSION,
                            krl::extension(b"x@example.com", false, c),
                        ),
                    })
                    .collect();
                krl::section(
                    &mut out,
                    krl::CERTIFICATES,
                    &krl::certs(ca_blob.as_deref(), &subs),
                );
            }
            Sec::Explicit(ks) => {
                krl::section(&mut out, krl::EXPLICIT_KEY, &blobs(ks, &|b| b.to_vec()))
            }
            Sec::Sha1(ks) => krl::section(
                &mut out,
                krl::SHA1,
                &blobs(ks, &|b| Sha1::digest(b).to_vec()),
            ),
            Sec::Sha256(ks) => krl::section(
                &mut out,
                krl::SHA256,
                &blobs(ks, &|b| Sha256::digest(b).to_vec()),
            ),
            Sec::Ext(n, c) => krl::section(&mut out, krl::EXTENSION, &krl::extension(n, false, c)),
        }
    }
    for (k, s) in &m.signatures {
        krl::signature(&mut out, k, s);
    }
    out
}

/// A revocation with the bounds of ranges and bitmaps left out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Explicit,
    Sha1,
    Sha256,
    KeyId(CaScope),
    List(CaScope),
    Range(CaScope),
    Bitmap(CaScope),
}

impl Model {
    fn listed(&self, k: usize, pick: fn(&Sec) -> Option<&Vec<usize>>) -> bool {
        self.sections
            .iter()
            .filter_map(pick)
            .any(|ks| ks.contains(&k))
    }

    /// sshd's order: SHA-1, SHA-256, explicit.
    fn plain(&self, k: usize) -> Option<Kind> {
        if self.listed(k, |s| match s {
            Sec::Sha1(v) => Some(v),
            _ => None,
        }) {
            Some(Kind::Sha1)
        } else if self.listed(k, |s| match s {
            Sec::Sha256(v) => Some(v),
            _ => None,
        }) {
            Some(Kind::Sha256)
        } else if self.listed(k, |s| match s {
            Sec::Explicit(v) => Some(v),
            _ => None,
        }) {
            Some(Kind::Explicit)
        } else {
            None
        }
    }

    fn subs(&self, ca: Option<usize>) -> Vec<&Sub> {
        self.sections
            .iter()
            .filter_map(|s| match s {
                Sec::Certs(c, subs) if *c == ca => Some(subs),
                _ => None,
            })
            .flatten()
            .collect()
    }

    fn scoped(&self, ca: Option<usize>, serial: u64, id: usize, scope: CaScope) -> Option<Kind> {
        let subs = self.subs(ca);
        if subs
            .iter()
            .any(|s| matches!(s, Sub::Ids(ids) if ids.contains(&id)))
        {
            return Some(Kind::KeyId(scope));
        }
        if serial == 0 {
            return None;
        }
        if subs
            .iter()
            .any(|s| matches!(s, Sub::List(v) if v.contains(&serial)))
        {
            return Some(Kind::List(scope));
        }
        if subs
            .iter()
            .any(|s| matches!(s, Sub::Range(lo, hi) if (*lo..=*hi).contains(&serial)))
        {
            return Some(Kind::Range(scope));
        }
        if subs.iter().any(|s| bitmap_has(s, serial).is_some()) {
            return Some(Kind::Bitmap(scope));
        }
        None
    }

    fn cert(&self, user: usize, ca: usize, serial: u64, id: usize) -> Option<(Target, Kind)> {
        if let Some(k) = self.plain(user) {
            return Some((Target::CertifiedKey, k));
        }
        if let Some(k) = self.scoped(Some(ca), serial, id, CaScope::Ca) {
            return Some((Target::Certificate, k));
        }
        if let Some(k) = self.scoped(None, serial, id, CaScope::AnyCa) {
            return Some((Target::Certificate, k));
        }
        self.plain(USERS + ca).map(|k| (Target::CaKey, k))
    }
}

/// The bitmap's offset if `s` is a bitmap that revokes `serial`.
fn bitmap_has(s: &Sub, serial: u64) -> Option<u64> {
    match s {
        Sub::Bitmap(off, bits) if bits.iter().any(|b| off.checked_add(*b) == Some(serial)) => {
            Some(*off)
        }
        _ => None,
    }
}

/// Our answer reduced to a [`Kind`], checking the bounds it leaves out.
fn kind(model: &Model, r: &Revocation, ca: usize) -> (Target, Kind) {
    let k = match &r.rule {
        Rule::ExplicitKey => Kind::Explicit,
        Rule::Sha1Fingerprint => Kind::Sha1,
        Rule::Sha256Fingerprint => Kind::Sha256,
        Rule::KeyId { scope, .. } => Kind::KeyId(*scope),
        Rule::Serial { serial, how, scope } => {
            let subs = model.subs(match scope {
                CaScope::Ca => Some(ca),
                CaScope::AnyCa => None,
            });
            match how {
                SerialRule::List => Kind::List(*scope),
                SerialRule::Range { lo, hi } => {
                    assert!(lo <= serial && serial <= hi, "{r:?}");
                    Kind::Range(*scope)
                }
                SerialRule::Bitmap { offset } => {
                    assert!(
                        subs.iter().any(|s| bitmap_has(s, *serial) == Some(*offset)),
                        "{r:?}"
                    );
                    Kind::Bitmap(*scope)
                }
            }
        }
        other => panic!("a KRL gave {other:?}"),
    };
    (r.target, k)
}

/// Every probe: `(user, ca, probe, id)` certificates, then plain keys.
fn answers(revoked: &RevokedKeys) -> Vec<bool> {
    let p = pool();
    let mut out = Vec::new();
    for u in 0..USERS {
        for c in 0..CAS {
            for s in 0..PROBES.len() {
                for i in 0..IDS.len() {
                    out.push(revoked.check_cert(p.cert(u, c, s, i)).is_some());
                }
            }
        }
    }
    out.extend(p.keys.iter().map(|k| revoked.check_key(k).is_some()));
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn encoded_models_answer_as_the_model(m in model()) {
        let bytes = encode(&m);
        let parsed = Krl::parse(&bytes).map_err(|e| TestCaseError::fail(format!("{e}")))?;
        prop_assert_eq!(parsed.version, m.version);
        prop_assert_eq!(parsed.generated_date, m.date);
        prop_assert_eq!(&parsed.comment, &String::from_utf8_lossy(&m.comment).into_owned());
        let sigs: Vec<(Vec<u8>, Vec<u8>)> = parsed
            .signatures
            .iter()
            .map(|s| (s.key.clone(), s.signature.clone()))
            .collect();
        prop_assert_eq!(sigs, m.signatures.clone());
        let p = pool();
        for (k, key) in p.keys.iter().enumerate() {
            let ours = parsed.check_key(key).map(|r| kind(&m, &r, 0));
            prop_assert_eq!(ours, m.plain(k).map(|x| (Target::Key, x)), "key {}", k);
        }
        for u in 0..USERS {
            for c in 0..CAS {
                for (s, &serial) in PROBES.iter().enumerate() {
                    for (i, id) in IDS.iter().enumerate() {
                        let ours = parsed.check_cert(p.cert(u, c, s, i)).map(|r| kind(&m, &r, c));
                        prop_assert_eq!(
                            ours,
                            m.cert(u, c, serial, i),
                            "user {} ca {} serial {} id {}", u, c, serial, id
                        );
                    }
                }
            }
        }
        // the same bytes through the auto-detecting entry point
        prop_assert_eq!(RevokedKeys::parse(&bytes), Ok(RevokedKeys::Krl(parsed)));
    }

    #[test]
    fn truncated_krls_fail_or_revoke_no_more(m in model(), cut in any::<prop::sample::Index>()) {
        let bytes = encode(&m);
        let n = cut.index(bytes.len() + 1);
        let full = answers(&RevokedKeys::parse(&bytes).map_err(|e| TestCaseError::fail(format!("{e}")))?);
        if let Ok(prefix) = RevokedKeys::parse(&bytes[..n]) {
            // an empty file is an empty list; a prefix of the magic is a bad list
            prop_assert!(n == 0 || n >= 8, "{} bytes parsed", n);
            for (i, (p, f)) in answers(&prefix).iter().zip(&full).enumerate() {
                prop_assert!(!p || *f, "probe {} revoked by {} of {} bytes only", i, n, bytes.len());
            }
        }
    }

    #[test]
    fn mutated_krls_never_panic(
        m in model(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0..3u8), 1..6),
    ) {
        let mut bytes = encode(&m);
        for (at, byte, op) in edits {
            let i = at.index(bytes.len() + 1);
            match op {
                0 if i < bytes.len() => bytes[i] ^= byte | 1,
                1 => bytes.insert(i, byte),
                _ if i < bytes.len() => { bytes.remove(i); }
                _ => bytes.push(byte),
            }
        }
        if let Ok(r) = RevokedKeys::parse(&bytes) {
            prop_assert_eq!(matches!(r, RevokedKeys::Krl(_)), bytes.starts_with(b"SSHKRL\n\0"));
            answers(&r);
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(
        bytes in prop::collection::vec(any::<u8>(), 0..600),
        after_header in any::<bool>(),
    ) {
        let bytes = if after_header { [krl::header(1, 2, b"c"), bytes].concat() } else { bytes };
        match RevokedKeys::parse(&bytes) {
            Ok(r) => {
                prop_assert_eq!(matches!(r, RevokedKeys::Krl(_)), bytes.starts_with(b"SSHKRL\n\0"));
                answers(&r);
            }
            Err(RevokedKeysError::Krl(e)) => prop_assert!(e.offset <= bytes.len(), "{e}"),
            Err(RevokedKeysError::List(e)) => {
                prop_assert!(e.line >= 1 && e.line <= bytes.split(|&b| b == b'\n').count(), "{e}")
            }
            Err(e) => prop_assert!(false, "{e}"),
        }
    }

    #[test]
    fn key_lists_answer_with_the_first_listing_line(lines in prop::collection::vec(list_line(), 0..12)) {
        let p = pool();
        let mut text = String::new();
        let mut first = vec![None; p.keys.len()];
        let mut rsa1_first = [None, None];
        for (n, l) in lines.iter().enumerate() {
            let line = n + 1;
            match l {
                ListLine::Key(k, lead, comment, cr) => {
                    let t = ssh_key::PublicKey::new(p.keys[*k].clone(), "").to_openssh().unwrap();
                    text.push_str(&format!("{lead}{t}{comment}{}\n", if *cr { "\r" } else { "" }));
                    first[*k].get_or_insert(line);
                }
                ListLine::Cert(u, c) => {
                    let cert = p.cert(*u, *c, 1, 0);
                    text.push_str(&format!(
                        "{} {}\n",
                        cert.type_name,
                        base64_encode(&cert.blob)
                    ));
                    first[*u].get_or_insert(line);
                }
                ListLine::Rsa1(i, bits) => {
                    text.push_str(&format!("{bits} {}\n", rsa1(*i).to_string().split_once(' ').unwrap().1));
                    rsa1_first[*i].get_or_insert(line);
                }
                ListLine::Other(s) => text.push_str(&format!("{s}\n")),
            }
        }
        let list = KeyList::parse(text.as_bytes()).map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
        prop_assert_eq!(list.len(), first.iter().flatten().count() + rsa1_first.iter().flatten().count());
        let revoked = RevokedKeys::List(list);
        for (k, key) in p.keys.iter().enumerate() {
            prop_assert_eq!(
                revoked.check_key(key),
                first[k].map(|line| Revocation { target: Target::Key, rule: Rule::Listed { line } })
            );
        }
        for u in 0..USERS {
            for c in 0..CAS {
                let want = first[u]
                    .map(|line| (Target::CertifiedKey, line))
                    .or(first[USERS + c].map(|line| (Target::CaKey, line)))
                    .map(|(target, line)| Revocation { target, rule: Rule::Listed { line } });
                prop_assert_eq!(revoked.check_cert(p.cert(u, c, 5, 2)), want);
            }
        }
        for (i, f) in rsa1_first.iter().enumerate() {
            prop_assert_eq!(
                revoked.check_rsa1(&rsa1(i)).map(|r| r.rule),
                f.map(|line| Rule::Listed { line })
            );
        }
    }

    #[test]
    fn one_bad_line_fails_the_whole_list(
        lines in prop::collection::vec(list_line(), 0..6),
        bad in prop::sample::select(vec![
            "ssh-ed25519 !!!!",
            "no-pty ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGgiVQbiF3lY3jYKSC9qbLSdMcTWcjyY0V/35xEuuzPm",
            "ssh-ed25519",
            "bogus-type AAAA",
            "1024 35",
            "ssh-rsa AAAAC3NzaC1lZDI1NTE5AAAAIGgiVQbiF3lY3jYKSC9qbLSdMcTWcjyY0V/35xEuuzPm",
        ]),
        at in any::<prop::sample::Index>(),
    ) {
        let p = pool();
        let mut text: Vec<String> = lines
            .iter()
            .map(|l| match l {
                ListLine::Key(k, ..) => ssh_key::PublicKey::new(p.keys[*k].clone(), "").to_openssh().unwrap(),
                ListLine::Other(s) => s.clone(),
                _ => "# other".into(),
            })
            .collect();
        let i = at.index(text.len() + 1);
        text.insert(i, format!("  {bad}"));
        match KeyList::parse(text.join("\n").as_bytes()) {
            Err(RevokedKeysError::List(e)) => {
                prop_assert_eq!(e.line, i + 1);
                prop_assert!(e.column >= 3, "{}", e);
            }
            other => prop_assert!(false, "{:?}", other),
        }
    }
}

#[derive(Debug, Clone)]
enum ListLine {
    Key(usize, &'static str, &'static str, bool),
    Cert(usize, usize),
    Rsa1(usize, u32),
    Other(String),
}

fn list_line() -> impl Strategy<Value = ListLine> {
    prop_oneof![
        (
            0..USERS + CAS,
            prop::sample::select(vec!["", " ", "\t  "]),
            prop::sample::select(vec!["", " a comment", "\tx y z"]),
            any::<bool>()
        )
            .prop_map(|(k, l, c, cr)| ListLine::Key(k, l, c, cr)),
        (0..USERS, 0..CAS).prop_map(|(u, c)| ListLine::Cert(u, c)),
        (0..2usize, prop::sample::select(vec![512u32, 1024, 2048]))
            .prop_map(|(i, b)| ListLine::Rsa1(i, b)),
        prop::sample::select(vec![
            "",
            "   ",
            "# comment",
            "  # ssh-ed25519 x",
            "\r",
            " \t\r"
        ])
        .prop_map(|s| ListLine::Other(s.to_string())),
    ]
}

fn rsa1(i: usize) -> Rsa1Key {
    let m = ["1000000007", "123456789012345678901234567890123456789"][i];
    Rsa1Key::from_decimal("1024", "35", m).unwrap()
}

fn base64_encode(b: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(b)
}

fn krl_err(bytes: &[u8]) -> (usize, KrlErrorKind) {
    match Krl::parse(bytes) {
        Err(e) => (e.offset, e.kind),
        Ok(k) => panic!("parsed: {k:?}"),
    }
}

/// A header, then `sections`.
fn with(sections: &[(u8, Vec<u8>)]) -> Vec<u8> {
    let mut out = krl::header(1, 2, b"");
    for (t, b) in sections {
        krl::section(&mut out, *t, b);
    }
    out
}

fn certs(subs: &[(u8, Vec<u8>)]) -> (u8, Vec<u8>) {
    (krl::CERTIFICATES, krl::certs(None, subs))
}

const HEADER: usize = 8 + 4 + 24 + 4 + 4;
/// Offset of the first subsection's body in `with(&[certs(&[sub])])`.
const SUB_BODY: usize = HEADER + 1 + 4 + 4 + 4 + 1 + 4;

#[test]
fn every_malformed_field_is_a_typed_error_at_its_offset() {
    use KrlErrorKind as K;
    assert_eq!(krl_err(b"SSHKRL\n"), (0, K::BadMagic));
    let mut b = krl::header(1, 2, b"");
    b[11] = 2;
    assert_eq!(krl_err(&b), (8, K::FormatVersion(2)));
    let h = krl::header(1, 2, b"");
    assert_eq!(krl_err(&h[..30]), (28, K::Truncated));
    assert_eq!(krl_err(&krl::header(1, 2, b"a\0b")), (44, K::NulInString));
    assert_eq!(
        krl_err(&with(&[(6, vec![])])),
        (HEADER, K::UnknownSection(6))
    );
    let mut b = with(&[(krl::EXPLICIT_KEY, vec![])]);
    b.extend_from_slice(&[0, 0, 0]);
    assert_eq!(krl_err(&b), (HEADER + 6, K::Truncated));
    assert_eq!(
        krl_err(&with(&[certs(&[(0x24, vec![])])])),
        (SUB_BODY - 5, K::UnknownCertSection(0x24))
    );
    assert_eq!(
        krl_err(&with(&[certs(&[krl::serial_list(&[4, 0])])])),
        (SUB_BODY + 8, K::ZeroSerial)
    );
    let (t, mut body) = krl::serial_list(&[4]);
    body.push(0);
    assert_eq!(
        krl_err(&with(&[certs(&[(t, body)])])),
        (SUB_BODY + 8, K::Truncated)
    );
    assert_eq!(
        krl_err(&with(&[certs(&[krl::serial_range(5, 4)])])),
        (SUB_BODY, K::BadRange { lo: 5, hi: 4 })
    );
    assert_eq!(
        krl_err(&with(&[certs(&[krl::serial_range(0, 4)])])),
        (SUB_BODY, K::BadRange { lo: 0, hi: 4 })
    );
    let (t, mut body) = krl::serial_range(1, 4);
    body.push(0);
    assert_eq!(
        krl_err(&with(&[certs(&[(t, body)])])),
        (SUB_BODY + 16, K::TrailingData)
    );
    // bitmaps: serial 0, negative, too long, wrapping
    assert_eq!(
        krl_err(&with(&[certs(&[krl::serial_bitmap(0, &[0, 9])])])),
        (SUB_BODY + 12, K::ZeroSerial)
    );
    let mut neg = 0u64.to_be_bytes().to_vec();
    krl::string(&mut neg, &[0x80]);
    assert_eq!(
        krl_err(&with(&[certs(&[(krl::SERIAL_BITMAP, neg)])])),
        (SUB_BODY + 12, K::NegativeBitmap)
    );
    let big = krl::serial_bitmap(1, &[MAX_BITMAP_BYTES as u64 * 8]);
    assert_eq!(
        krl_err(&with(&[certs(&[big])])),
        (SUB_BODY + 12, K::BitmapTooLarge)
    );
    let edge = krl::serial_bitmap(1, &[MAX_BITMAP_BYTES as u64 * 8 - 1]);
    assert_eq!(
        edge.1.len(),
        8 + 4 + MAX_BITMAP_BYTES + 1,
        "leading zero byte"
    );
    assert!(Krl::parse(&with(&[certs(&[edge])])).is_ok());
    assert_eq!(
        krl_err(&with(&[certs(&[krl::serial_bitmap(u64::MAX - 2, &[3])])])),
        (SUB_BODY + 12, K::BitmapWraps)
    );
    assert!(Krl::parse(&with(&[certs(&[krl::serial_bitmap(u64::MAX - 2, &[2])])])).is_ok());
    // fingerprints of the wrong length
    assert_eq!(
        krl_err(&with(&[(krl::SHA1, krl::strings(&[&[0; 32]]))])),
        (
            HEADER + 9,
            K::BadHashLength {
                expected: 20,
                found: 32
            }
        )
    );
    assert_eq!(
        krl_err(&with(&[(krl::SHA256, krl::strings(&[&[0; 20]]))])),
        (
            HEADER + 9,
            K::BadHashLength {
                expected: 32,
                found: 20
            }
        )
    );
    // key IDs with NUL, CA keys that do not parse
    assert_eq!(
        krl_err(&with(&[certs(&[krl::key_ids(&[b"a", b"b\0"])])])),
        (SUB_BODY + 9, K::NulInString)
    );
    let ca = krl::certs(Some(b"\0\0\0\x0bssh-ed25519\0\0\0\x01x"), &[]);
    assert_eq!(
        krl_err(&with(&[(krl::CERTIFICATES, ca)])),
        (HEADER + 9, K::BadCaKey)
    );
    // extensions: skipped unless critical
    let ext = |crit| krl::extension(b"e@example.com", crit, b"body");
    assert!(Krl::parse(&with(&[(krl::EXTENSION, ext(false))])).is_ok());
    assert!(Krl::parse(&with(&[certs(&[(krl::CERT_EXTENSION, ext(false))])])).is_ok());
    assert_eq!(
        krl_err(&with(&[(krl::EXTENSION, ext(true))])),
        (HEADER + 5, K::CriticalExtension("e@example.com".into()))
    );
    assert_eq!(
        krl_err(&with(&[certs(&[(krl::CERT_EXTENSION, ext(true))])])),
        (SUB_BODY, K::CriticalExtension("e@example.com".into()))
    );
    let mut e = ext(false);
    e.push(0);
    assert_eq!(
        krl_err(&with(&[(krl::EXTENSION, e)])),
        (HEADER + 5 + 26, K::TrailingData)
    );
    // signatures: kept, last only
    let mut b = with(&[]);
    krl::signature(&mut b, b"key", b"sig");
    krl::signature(&mut b, b"key2", b"sig2");
    let k = Krl::parse(&b).unwrap();
    assert_eq!(k.signatures.len(), 2);
    assert_eq!(k.signatures[1].signature, b"sig2");
    let sig_end = b.len();
    krl::section(&mut b, krl::EXPLICIT_KEY, b"");
    assert_eq!(krl_err(&b), (sig_end, K::SectionAfterSignature));
    let mut b = with(&[]);
    b.push(krl::SIGNATURE);
    krl::string(&mut b, b"key");
    assert_eq!(krl_err(&b), (b.len(), K::Truncated));
    // Display says where and what
    let e = Krl::parse(&with(&[(9, vec![])])).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!("offset {HEADER}: unknown section type 9")
    );
}

#[test]
fn every_limit_is_enforced() {
    use KrlErrorKind as K;
    let too_big = vec![b'#'; MAX_FILE_SIZE + 1];
    assert_eq!(
        RevokedKeys::parse(&too_big),
        Err(RevokedKeysError::TooLarge {
            len: MAX_FILE_SIZE + 1
        })
    );
    let ext = krl::extension(b"", false, b"");
    let many: Vec<(u8, Vec<u8>)> = (0..=MAX_SECTIONS)
        .map(|_| (krl::EXTENSION, ext.clone()))
        .collect();
    assert_eq!(krl_err(&with(&many)).1, K::TooManySections);
    assert!(Krl::parse(&with(&many[..MAX_SECTIONS])).is_ok());
    let serials: Vec<u64> = (1..=MAX_SERIALS as u64 + 1).collect();
    assert_eq!(
        krl_err(&with(&[certs(&[krl::serial_list(&serials)])])).1,
        K::TooManySerials
    );
    let empty: Vec<&[u8]> = vec![b""; MAX_KEYS + 1];
    assert_eq!(
        krl_err(&with(&[(krl::EXPLICIT_KEY, krl::strings(&empty))])).1,
        K::TooManyKeys
    );
    let ids: Vec<&[u8]> = vec![b""; MAX_KEY_IDS + 1];
    assert_eq!(
        krl_err(&with(&[certs(&[krl::key_ids(&ids)])])).1,
        K::TooManyKeyIds
    );
    let full = krl::serial_bitmap(1, &[MAX_BITMAP_BYTES as u64 * 8 - 2]);
    let bitmaps: Vec<(u8, Vec<u8>)> = (0..=MAX_TOTAL_BITMAP_BYTES / MAX_BITMAP_BYTES)
        .map(|_| full.clone())
        .collect();
    assert_eq!(krl_err(&with(&[certs(&bitmaps)])).1, K::TooMuchBitmap);
    // the shortest key line there is, a protocol-1 key; duplicates count
    let list = "1 1 1\n".repeat(MAX_KEYS + 1);
    assert_eq!(
        KeyList::parse(list.as_bytes()),
        Err(RevokedKeysError::TooManyKeys { line: MAX_KEYS + 1 })
    );
}

#[test]
fn list_errors_name_the_line_and_what_was_wrong() {
    let cases: [(&[u8], usize, usize, ErrorKind); 4] = [
        (b"# ok\n\xff\n", 2, 1, ErrorKind::NotUtf8),
        (b"\n\n  bogus AAAA\n", 3, 3, ErrorKind::UnknownKeyType("bogus".into())),
        (
            b"no-pty ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGgiVQbiF3lY3jYKSC9qbLSdMcTWcjyY0V/35xEuuzPm\n",
            1,
            1,
            ErrorKind::UnknownKeyType("no-pty".into()),
        ),
        (b"ssh-ed25519 !!!\n", 1, 13, ErrorKind::BadBase64),
    ];
    for (bytes, line, column, kind) in cases {
        match RevokedKeys::parse(bytes) {
            Err(RevokedKeysError::List(e)) => {
                assert_eq!((e.line, e.column, e.kind), (line, column, kind))
            }
            other => panic!("{other:?}"),
        }
    }
    let long = vec![b'a'; sisu_authkeys::entry::MAX_LINE_LEN + 1];
    assert!(matches!(
        RevokedKeys::parse(&long),
        Err(RevokedKeysError::List(e)) if e.kind == ErrorKind::LineTooLong
    ));
}

#[test]
fn nested_overlapping_and_adjacent_ranges_keep_every_serial() {
    let p = pool();
    let ranges = [
        (10, 100),
        (20, 30),
        (90, 200),
        (201, 201),
        (300, 400),
        (350, 360),
    ];
    let subs: Vec<(u8, Vec<u8>)> = ranges
        .iter()
        .map(|&(lo, hi)| krl::serial_range(lo, hi))
        .collect();
    let k = Krl::parse(&with(&[certs(&subs)])).unwrap();
    let ca = &p.cas[0];
    for serial in [9, 10, 31, 99, 150, 200, 201, 202, 299, 300, 361, 400, 401] {
        let c = cert(ca, &p.keys[0], serial, "x");
        let want = ranges.iter().any(|&(lo, hi)| (lo..=hi).contains(&serial));
        let got = k.check_cert(&c);
        assert_eq!(got.is_some(), want, "serial {serial}: {got:?}");
    }
}

#[test]
fn a_krl_cannot_revoke_protocol_1_keys_but_a_list_can() {
    let revoked = RevokedKeys::parse(&krl::header(1, 2, b"")).unwrap();
    assert_eq!(revoked.check_rsa1(&rsa1(0)), None);
    let list = format!("2048 {}\n", rsa1(0).to_string().split_once(' ').unwrap().1);
    let revoked = RevokedKeys::parse(list.as_bytes()).unwrap();
    // The bit count a line announces does not matter, the key material does.
    assert_eq!(
        revoked.check_rsa1(&rsa1(0)).map(|r| r.rule),
        Some(Rule::Listed { line: 1 })
    );
    assert_eq!(revoked.check_rsa1(&rsa1(1)), None);
}

#[test]
fn revocations_print_for_the_log() {
    let r = Revocation {
        target: Target::Certificate,
        rule: Rule::Serial {
            serial: 7,
            how: SerialRule::Bitmap { offset: 1 },
            scope: CaScope::Ca,
        },
    };
    assert_eq!(
        r.to_string(),
        "certificate revoked: serial 7 revoked for its CA by a serial bitmap from 1"
    );
    let r = Revocation {
        target: Target::CaKey,
        rule: Rule::Listed { line: 3 },
    };
    assert_eq!(r.to_string(), "CA key revoked: listed on line 3");
}

#[test]
fn committed_fuzz_seeds_parse() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds/revoked_keys");
    let mut kinds = Vec::new();
    for e in std::fs::read_dir(&dir).unwrap() {
        let path = e.unwrap().path();
        let r = RevokedKeys::parse(&std::fs::read(&path).unwrap())
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        kinds.push(matches!(r, RevokedKeys::Krl(_)));
    }
    kinds.sort();
    assert_eq!(kinds, [false, true, true], "one key list and two KRLs");
}
