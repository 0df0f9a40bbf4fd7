//! Revocation files made by OpenSSH's `ssh-keygen -k`, with `ssh-keygen -Q` as the
//! oracle: for every rule kind, a revoked key or certificate is found revoked and a
//! similar one is not, and our answer equals ssh-keygen's. Skipped, with a message,
//! when ssh-keygen is absent (Debian package `openssh-client`).

mod common;

use common::{keygen, keygen_revoked, krl, tmpdir};
use sisu_authkeys::revoked::{CaScope, Revocation, RevokedKeys, Rule, SerialRule, Target};
use sisu_authkeys::{Entry, EntryKey};
use std::collections::HashSet;
use std::path::PathBuf;

struct Fx {
    dir: PathBuf,
}

impl Fx {
    fn new(name: &str) -> Option<Fx> {
        if !common::have("ssh-keygen") {
            eprintln!("SKIPPED: ssh-keygen not found (install Debian package openssh-client)");
            return None;
        }
        Some(Fx { dir: tmpdir(name) })
    }

    /// Generate key `name` (files `name`, `name.pub`).
    fn key(&self, name: &str, ty: &[&str]) {
        let mut a = vec!["-q", "-N", "", "-C", name, "-f", name];
        a.extend_from_slice(ty);
        keygen(&self.dir, &a);
    }

    /// Certify `key` with `ca`, key ID `id` and `serial`; returns the certificate's
    /// file name.
    fn cert(&self, ca: &str, key: &str, id: &str, serial: u64) -> String {
        let base = format!("{key}_{ca}_{id}_{serial}");
        std::fs::copy(
            self.dir.join(format!("{key}.pub")),
            self.dir.join(format!("{base}.pub")),
        )
        .unwrap();
        let serial = serial.to_string();
        keygen(
            &self.dir,
            &[
                "-q",
                "-s",
                ca,
                "-I",
                id,
                "-n",
                "user",
                "-z",
                &serial,
                &format!("{base}.pub"),
            ],
        );
        format!("{base}-cert.pub")
    }

    fn line(&self, file: &str) -> String {
        std::fs::read_to_string(self.dir.join(file))
            .unwrap()
            .trim_end()
            .to_string()
    }

    fn write(&self, file: &str, text: &str) {
        std::fs::write(self.dir.join(file), text).unwrap();
    }

    fn load(&self, file: &str) -> RevokedKeys {
        RevokedKeys::parse(&std::fs::read(self.dir.join(file)).unwrap())
            .unwrap_or_else(|e| panic!("{file}: {e}"))
    }

    /// Our answer for the key or certificate in `file`.
    fn ours(&self, revoked: &RevokedKeys, file: &str) -> Option<Revocation> {
        ours(revoked, &self.line(file))
    }

    /// For each `(file, expected)`: ours, ssh-keygen's and the expectation agree.
    /// Returns our revocations of the revoked ones.
    fn agree(&self, krl: &str, cases: &[(&str, bool)]) -> Vec<Revocation> {
        let revoked = self.load(krl);
        let mut hits = Vec::new();
        for (file, expected) in cases {
            let got = self.ours(&revoked, file);
            let theirs = keygen_revoked(&self.dir, krl, file);
            assert_eq!(theirs, *expected, "ssh-keygen -Q on {file}");
            assert_eq!(got.is_some(), theirs, "{file}: ours {got:?}");
            hits.extend(got);
        }
        hits
    }
}

impl Drop for Fx {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn ours(revoked: &RevokedKeys, line: &str) -> Option<Revocation> {
    match Entry::parse(line).unwrap().unwrap().key {
        EntryKey::Public(k) => revoked.check_key(&k),
        EntryKey::Certificate(c) => revoked.check_cert(&c),
        EntryKey::Rsa1(k) => revoked.check_rsa1(&k),
    }
}

fn spec(fx: &Fx, name: &str, lines: &[String]) {
    fx.write(name, &(lines.join("\n") + "\n"));
}

fn ed(fx: &Fx, names: &[&str]) {
    for n in names {
        fx.key(n, &["-t", "ed25519"]);
    }
}

#[test]
fn serials_in_list_range_and_bitmap_encodings() {
    let Some(fx) = Fx::new("serials") else { return };
    ed(&fx, &["ca", "ca2", "u"]);
    // Sparse serials become a list, a long run a range, every other serial a
    // bitmap (ssh-keygen picks the smallest encoding).
    let mut lines = vec![
        "serial: 1000".to_string(),
        "serial: 50000000".to_string(),
        "serial: 9000000000000".to_string(),
        "serial: 100000-200000".to_string(),
    ];
    lines.extend((300..=400).step_by(2).map(|s| format!("serial: {s}")));
    spec(&fx, "spec", &lines);
    keygen(
        &fx.dir,
        &["-q", "-k", "-z", "42", "-f", "krl", "-s", "ca.pub", "spec"],
    );
    let RevokedKeys::Krl(k) = fx.load("krl") else {
        panic!("not read as a KRL")
    };
    assert_eq!(k.version, 42);
    // a second CA's section, merged in with -u
    spec(&fx, "spec2", &["serial: 5".to_string()]);
    keygen(
        &fx.dir,
        &["-q", "-k", "-u", "-f", "krl", "-s", "ca2.pub", "spec2"],
    );
    let mut cases = Vec::new();
    for (serial, revoked) in [
        (1000, true),
        (1001, false),
        (50_000_000, true),
        (9_000_000_000_000, true),
        (9_000_000_000_001, false),
        (99_999, false),
        (100_000, true),
        (150_000, true),
        (200_000, true),
        (200_001, false),
        (300, true),
        (301, false),
        (398, true),
        (400, true),
        (401, false),
        (402, false),
        (5, false),
        (0, false),
    ] {
        cases.push((fx.cert("ca", "u", "id", serial), revoked));
    }
    cases.push((fx.cert("ca2", "u", "id", 5), true));
    cases.push((fx.cert("ca2", "u", "id", 1000), false));
    cases.push(("u.pub".to_string(), false));
    let cases: Vec<(&str, bool)> = cases.iter().map(|(f, r)| (f.as_str(), *r)).collect();
    let hits = fx.agree("krl", &cases);
    let mut kinds = HashSet::new();
    for h in &hits {
        assert_eq!(h.target, Target::Certificate, "{h}");
        match &h.rule {
            Rule::Serial {
                serial,
                how,
                scope: CaScope::Ca,
            } => {
                match how {
                    SerialRule::Range { lo, hi } => assert!(lo <= serial && serial <= hi),
                    SerialRule::Bitmap { offset } => assert!(offset <= serial),
                    SerialRule::List => {}
                }
                kinds.insert(std::mem::discriminant(how));
            }
            other => panic!("unexpected rule {other:?}"),
        }
    }
    assert_eq!(
        kinds.len(),
        3,
        "expected list, range and bitmap encodings: {hits:?}"
    );
}

#[test]
fn key_ids_under_their_ca() {
    let Some(fx) = Fx::new("keyid") else { return };
    ed(&fx, &["ca", "ca2", "u"]);
    spec(&fx, "spec", &["id: gone@example.com".to_string()]);
    keygen(&fx.dir, &["-q", "-k", "-f", "krl", "-s", "ca.pub", "spec"]);
    let a = fx.cert("ca", "u", "gone@example.com", 77);
    let b = fx.cert("ca", "u", "gone@example.com", 0);
    let c = fx.cert("ca", "u", "kept@example.com", 77);
    let d = fx.cert("ca2", "u", "gone@example.com", 77);
    let e = fx.cert("ca", "u", "Gone@example.com", 78);
    let hits = fx.agree(
        "krl",
        &[
            (&a, true),
            (&b, true),
            (&c, false),
            (&d, false),
            (&e, false),
        ],
    );
    for h in hits {
        assert_eq!(
            h,
            Revocation {
                target: Target::Certificate,
                rule: Rule::KeyId {
                    key_id: "gone@example.com".into(),
                    scope: CaScope::Ca
                }
            }
        );
    }
}

#[test]
fn plain_keys_by_blob_sha1_sha256_and_hash_for_every_key_type() {
    let Some(fx) = Fx::new("plain") else { return };
    ed(&fx, &["ca", "ca2", "ed", "ed2"]);
    fx.key("e256", &["-t", "ecdsa", "-b", "256"]);
    fx.key("e384", &["-t", "ecdsa", "-b", "384"]);
    fx.key("e521", &["-t", "ecdsa", "-b", "521"]);
    fx.key("rsa", &["-t", "rsa", "-b", "2048"]);
    fx.key("dsa", &["-t", "dsa"]);
    let dsa_cert = fx.cert("ca", "dsa", "d", 3);
    let fp = String::from_utf8(keygen(&fx.dir, &["-l", "-f", "e384.pub"]).stdout).unwrap();
    let fp = fp.split(' ').nth(1).unwrap().to_string();
    spec(
        &fx,
        "spec",
        &[
            format!("key: {}", fx.line("ed.pub")),
            format!("sha1: {}", fx.line("e256.pub")),
            format!("sha256: {}", fx.line("rsa.pub")),
            format!("hash: {fp}"),
            format!("key: {}", fx.line("ca2.pub")),
            // a certificate is revoked as its plain key
            format!("key: {}", fx.line(&dsa_cert)),
            format!("sha1: {}", fx.line("e521.pub")),
        ],
    );
    keygen(&fx.dir, &["-q", "-k", "-f", "krl", "spec"]);
    let by_ca = fx.cert("ca", "ed", "x", 1);
    let by_ca_e384 = fx.cert("ca", "e384", "x", 1);
    let by_ca2 = fx.cert("ca2", "ed2", "x", 1);
    let clean = fx.cert("ca", "ed2", "x", 1);
    let hits = fx.agree(
        "krl",
        &[
            ("ed.pub", true),
            ("e256.pub", true),
            ("rsa.pub", true),
            ("e384.pub", true),
            ("dsa.pub", true),
            ("e521.pub", true),
            ("ca2.pub", true),
            ("ed2.pub", false),
            ("ca.pub", false),
            (&by_ca, true),
            (&by_ca_e384, true),
            (&by_ca2, true),
            (&clean, false),
        ],
    );
    let want = [
        (Target::Key, Rule::ExplicitKey),
        (Target::Key, Rule::Sha1Fingerprint),
        (Target::Key, Rule::Sha256Fingerprint),
        (Target::Key, Rule::Sha256Fingerprint),
        (Target::Key, Rule::ExplicitKey),
        (Target::Key, Rule::Sha1Fingerprint),
        (Target::Key, Rule::ExplicitKey),
        (Target::CertifiedKey, Rule::ExplicitKey),
        (Target::CertifiedKey, Rule::Sha256Fingerprint),
        (Target::CaKey, Rule::ExplicitKey),
    ];
    let got: Vec<(Target, Rule)> = hits.into_iter().map(|h| (h.target, h.rule)).collect();
    assert_eq!(got, want);
}

#[test]
fn key_files_revoke_certificates_by_serial_or_by_key_id() {
    let Some(fx) = Fx::new("files") else { return };
    ed(&fx, &["ca", "ca2", "u", "v"]);
    let s5 = fx.cert("ca", "u", "alice", 5);
    let s0 = fx.cert("ca", "u", "bob", 0);
    // ssh-keygen -k with key files: a plain key explicitly, a certificate by its
    // serial under its CA, or by key ID when the serial is 0.
    keygen(&fx.dir, &["-q", "-k", "-f", "krl", "v.pub", &s5, &s0]);
    let other5 = fx.cert("ca", "v", "carol", 5);
    let other6 = fx.cert("ca", "u", "alice", 6);
    let bob9 = fx.cert("ca", "u", "bob", 9);
    let ca2_5 = fx.cert("ca2", "u", "alice", 5);
    let hits = fx.agree(
        "krl",
        &[
            ("v.pub", true),
            ("u.pub", false),
            (&s5, true),
            (&s0, true),
            (&other5, true), // revoked as v's certificate, before its serial
            (&other6, false),
            (&bob9, true),
            (&ca2_5, false),
        ],
    );
    let rules: Vec<&Rule> = hits.iter().map(|h| &h.rule).collect();
    assert!(matches!(rules[0], Rule::ExplicitKey));
    assert!(matches!(rules[1], Rule::Serial { serial: 5, .. }));
    assert!(matches!(rules[2], Rule::KeyId { key_id, .. } if key_id == "bob"));
    assert_eq!(hits[3].target, Target::CertifiedKey);
    assert!(matches!(rules[4], Rule::KeyId { key_id, .. } if key_id == "bob"));
}

/// KRLs from the test encoder, checked by ssh-keygen: any-CA sections (which
/// ssh-keygen 9.2 cannot write), several sections per CA, and ranges that overlap.
#[test]
fn encoder_krls_with_any_ca_sections_agree_with_ssh_keygen() {
    let Some(fx) = Fx::new("anyca") else { return };
    ed(&fx, &["ca", "ca2", "u"]);
    let ca = common::blob(
        Entry::parse(&fx.line("ca.pub"))
            .unwrap()
            .unwrap()
            .key
            .key_data()
            .unwrap(),
    );
    let mut k = krl::header(3, 1_700_000_000, b"made by the test encoder");
    let any = krl::certs(
        None,
        &[
            krl::key_ids(&[b"anyone", b"nobody"]),
            krl::serial_range(1_000, 1_999),
            krl::serial_bitmap(64, &[0, 1, 63, 64, 200]),
        ],
    );
    krl::section(&mut k, krl::CERTIFICATES, &any);
    let mine = krl::certs(
        Some(&ca),
        &[krl::serial_list(&[7, 3, 1]), krl::serial_range(10, 20)],
    );
    krl::section(&mut k, krl::CERTIFICATES, &mine);
    let mine2 = krl::certs(Some(&ca), &[krl::serial_range(15, 30)]);
    krl::section(&mut k, krl::CERTIFICATES, &mine2);
    std::fs::write(fx.dir.join("krl"), &k).unwrap();
    let mut cases = Vec::new();
    for (c, id, serial, revoked) in [
        ("ca", "anyone", 0, true),
        ("ca2", "anyone", 99, true),
        ("ca2", "someone", 1_500, true),
        ("ca2", "someone", 2_000, false),
        ("ca2", "someone", 64, true),
        ("ca2", "someone", 127, true),
        ("ca2", "someone", 128, true),
        ("ca2", "someone", 129, false),
        ("ca2", "someone", 264, true),
        ("ca2", "someone", 263, false),
        ("ca", "someone", 3, true),
        ("ca", "someone", 4, false),
        ("ca", "someone", 1, true),
        ("ca", "someone", 2, false),
        ("ca2", "someone", 3, false),
        ("ca", "someone", 30, true),
        ("ca", "someone", 31, false),
        ("ca2", "someone", 20, false),
    ] {
        cases.push((fx.cert(c, "u", id, serial), revoked));
    }
    let cases: Vec<(&str, bool)> = cases.iter().map(|(f, r)| (f.as_str(), *r)).collect();
    let hits = fx.agree("krl", &cases);
    assert!(matches!(
        hits[0].rule,
        Rule::KeyId {
            scope: CaScope::AnyCa,
            ..
        }
    ));
    let ranges: Vec<&Rule> = hits
        .iter()
        .map(|h| &h.rule)
        .filter(|r| {
            matches!(
                r,
                Rule::Serial {
                    how: SerialRule::Range { .. },
                    scope: CaScope::Ca,
                    ..
                }
            )
        })
        .collect();
    // 10-20 and 15-30 merged
    assert!(ranges.iter().all(|r| matches!(
        r,
        Rule::Serial {
            how: SerialRule::Range { lo: 10, hi: 30 },
            ..
        }
    )));
}

/// The list form has no ssh-keygen query, so its oracle is a KRL of the same keys:
/// `key:` lines revoke exactly what a list line does (the key, its certificates,
/// and certificates it signed).
#[test]
fn key_list_agrees_with_a_krl_of_the_same_keys() {
    let Some(fx) = Fx::new("list") else { return };
    ed(&fx, &["ca", "ca2", "a", "b"]);
    fx.key("rsa", &["-t", "rsa", "-b", "2048"]);
    fx.key("ec", &["-t", "ecdsa"]);
    let ec_cert = fx.cert("ca", "ec", "e", 1);
    let listed = [
        fx.line("a.pub"),
        format!("   {}\r", fx.line("rsa.pub")),
        fx.line(&ec_cert),
        fx.line("ca2.pub"),
    ];
    let list = format!(
        "# revoked\n\n{}\n  # indented comment\n{}\n{}\n\t{}\n",
        listed[0], listed[1], listed[2], listed[3]
    );
    fx.write("list", &list);
    let krl_spec: Vec<String> = listed
        .iter()
        .map(|l| format!("key: {}", l.trim()))
        .collect();
    spec(&fx, "spec", &krl_spec);
    keygen(&fx.dir, &["-q", "-k", "-f", "krl", "spec"]);
    let revoked_list = fx.load("list");
    assert!(matches!(revoked_list, RevokedKeys::List(_)));
    let mut files = vec![
        "a.pub".to_string(),
        "b.pub".into(),
        "rsa.pub".into(),
        "ec.pub".into(),
        "ca.pub".into(),
        "ca2.pub".into(),
        ec_cert.clone(),
    ];
    for (c, k) in [("ca", "a"), ("ca", "b"), ("ca2", "b"), ("ca", "rsa")] {
        files.push(fx.cert(c, k, "x", 9));
    }
    let mut revoked = 0;
    for f in &files {
        let from_list = fx.ours(&revoked_list, f);
        let theirs = keygen_revoked(&fx.dir, "krl", f);
        assert_eq!(from_list.is_some(), theirs, "{f}: {from_list:?}");
        revoked += usize::from(theirs);
    }
    assert_eq!(
        revoked, 8,
        "a, rsa, ec, ca2, ec's cert, a's, b's by ca2, rsa's"
    );
    let line_of = |f: &str| match fx.ours(&revoked_list, f).map(|r| r.rule) {
        Some(Rule::Listed { line }) => line,
        other => panic!("{f}: {other:?}"),
    };
    assert_eq!(
        [
            line_of("a.pub"),
            line_of("rsa.pub"),
            line_of("ec.pub"),
            line_of("ca2.pub")
        ],
        [3, 5, 6, 7]
    );
}

#[test]
fn krl_and_list_files_are_told_apart_by_the_magic() {
    let Some(fx) = Fx::new("magic") else { return };
    ed(&fx, &["u"]);
    keygen(&fx.dir, &["-q", "-k", "-f", "krl", "u.pub"]);
    let bytes = std::fs::read(fx.dir.join("krl")).unwrap();
    assert!(matches!(
        RevokedKeys::parse(&bytes).unwrap(),
        RevokedKeys::Krl(_)
    ));
    // Every strict prefix of a real KRL that cuts into a field is an error.
    let header_and_section_ends = section_ends(&bytes);
    for n in KRL_MIN..bytes.len() {
        let r = RevokedKeys::parse(&bytes[..n]);
        assert_eq!(
            r.is_ok(),
            header_and_section_ends.contains(&n),
            "prefix of {n} bytes"
        );
    }
    // A list holding the KRL's text form (binary) is an error too.
    assert!(RevokedKeys::parse(&bytes[1..]).is_err());
}

/// Shortest valid KRL: magic, format, 3 × u64, two empty strings.
const KRL_MIN: usize = 8 + 4 + 24 + 4 + 4;

/// Offsets where a KRL with an empty comment ends its header or a section.
fn section_ends(b: &[u8]) -> Vec<usize> {
    let be32 = |i: usize| u32::from_be_bytes(b[i..i + 4].try_into().unwrap()) as usize;
    let mut i = 8 + 4 + 24;
    i += 4 + be32(i); // reserved
    i += 4 + be32(i); // comment
    let mut ends = vec![i];
    while i < b.len() {
        i += 1;
        i += 4 + be32(i);
        ends.push(i);
    }
    ends
}
