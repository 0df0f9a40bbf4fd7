//! Property tests: printing then parsing gives the entry back; arbitrary input
//! never panics.

use proptest::prelude::*;
use sisu_authkeys::options::{AuthOption, Flag, PermitPort, PermitTarget, Tunnel};
use sisu_authkeys::pattern::{Pattern, PatternList};
use sisu_authkeys::rsa1::Rsa1Key;
use sisu_authkeys::time::ExpiryTime;
use sisu_authkeys::{parse_file, parse_file_bytes, Entry, EntryKey};

const ED25519: &str = "AAAAC3NzaC1lZDI1NTE5AAAAIGgiVQbiF3lY3jYKSC9qbLSdMcTWcjyY0V/35xEuuzPm";

/// Text for a quoted value: no control characters, and no trailing backslash.
fn value() -> impl Strategy<Value = String> {
    "[ -~]{0,24}".prop_filter("trailing backslash", |s| !s.ends_with('\\'))
}

fn pattern_list() -> impl Strategy<Value = PatternList> {
    prop::collection::vec(
        (
            any::<bool>(),
            prop_oneof!["[a-z*?.]{1,12}", "10\\.[0-9]\\.0\\.0/16"],
        ),
        1..4,
    )
    .prop_map(|v| PatternList {
        patterns: v
            .into_iter()
            .map(|(negated, text)| Pattern { negated, text })
            .collect(),
    })
}

fn target(listen: bool) -> impl Strategy<Value = PermitTarget> {
    (
        if listen {
            "[a-z*]{1,8}".boxed()
        } else {
            "[a-z0-9.]{1,8}".boxed()
        },
        prop_oneof![Just(PermitPort::Any), (1u16..).prop_map(PermitPort::Number)],
    )
        .prop_map(|(host, port)| PermitTarget { host, port })
}

fn option() -> impl Strategy<Value = AuthOption> {
    prop_oneof![
        Just(AuthOption::Restrict),
        Just(AuthOption::CertAuthority),
        (prop::sample::select(Flag::ALL.to_vec()), any::<bool>())
            .prop_map(|(f, b)| AuthOption::Flag(f, b)),
        (1971u16..2999, 1u8..=12, 1u8..=28, any::<bool>()).prop_map(|(year, month, day, utc)| {
            AuthOption::ExpiryTime(ExpiryTime {
                year,
                month,
                day,
                hour_minute: Some((1, 2)),
                second: None,
                utc,
            })
        }),
        ("[A-Za-z_][A-Za-z0-9_]{0,8}", value())
            .prop_map(|(name, value)| AuthOption::Environment { name, value }),
        target(false).prop_map(AuthOption::PermitOpen),
        target(true).prop_map(AuthOption::PermitListen),
        prop_oneof![Just(Tunnel::Any), (0u32..1000).prop_map(Tunnel::Id)]
            .prop_map(AuthOption::Tunnel),
    ]
}

fn entry() -> impl Strategy<Value = Entry> {
    (
        prop::collection::vec(option(), 0..6),
        (prop::option::of(value()), prop::option::of(value())),
        prop::option::of(pattern_list()),
        prop::option::of("[!-~][ -~]{0,20}"),
        any::<bool>(),
        prop::collection::vec(any::<u8>(), 1..64),
    )
        .prop_map(
            |(mut options, (command, principals), from, comment, rsa1, modulus)| {
                if let Some(c) = command {
                    options.push(AuthOption::Command(c));
                }
                if let Some(p) = principals {
                    options.push(AuthOption::Principals(p));
                }
                if let Some(f) = from {
                    options.insert(0, AuthOption::From(f));
                }
                let key = if rsa1 {
                    let m = sisu_authkeys::rsa1::bytes_to_decimal(&[&[1u8][..], &modulus].concat());
                    EntryKey::Rsa1(Rsa1Key::from_decimal("1024", "65537", &m).unwrap())
                } else {
                    Entry::parse(&format!("ssh-ed25519 {ED25519}"))
                        .unwrap()
                        .unwrap()
                        .key
                };
                Entry {
                    options,
                    key,
                    comment,
                }
            },
        )
}

proptest! {
    #[test]
    fn print_then_parse_is_identity(e in entry()) {
        let text = e.to_string();
        let back = Entry::parse(&text).map_err(|err| TestCaseError::fail(format!("{text}: {err}")))?;
        prop_assert_eq!(back, Some(e));
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let f = parse_file_bytes(&bytes);
        prop_assert!(f.entries.len() + f.errors.len() <= bytes.len() + 1);
    }

    #[test]
    fn arbitrary_option_text_never_panics(s in "[a-zA-Z=\",\\\\ !*.:/0-9-]{0,80}") {
        let _ = Entry::parse(&format!("{s} ssh-ed25519 {ED25519}"));
    }
}

#[test]
fn errors_carry_line_and_column_and_the_rest_still_counts() {
    let text = format!(
        "# comment\n\n  \r\nssh-ed25519 {ED25519} ok\r\nno-pty,frob ssh-ed25519 {ED25519}\ncommand=\"x ssh-ed25519 {ED25519}\nssh-ed25519 !!!!\nssh-rsa {ED25519}\n{}\n"
        , "a".repeat(300_000)
    );
    let f = parse_file(&text);
    assert_eq!(f.entries.len(), 1);
    assert_eq!(f.entries[0].line, 4);
    assert_eq!(f.entries[0].entry.comment.as_deref(), Some("ok"));
    let got: Vec<(usize, usize)> = f.errors.iter().map(|e| (e.line, e.column)).collect();
    assert_eq!(got, vec![(5, 8), (6, 9), (7, 13), (8, 9), (9, 1)]);
    assert!(
        f.errors[0].to_string().contains("unknown option"),
        "{}",
        f.errors[0]
    );
    assert!(
        f.errors[1].to_string().contains("never closes"),
        "{}",
        f.errors[1]
    );
    assert!(
        f.errors[4].to_string().contains("at most"),
        "{}",
        f.errors[4]
    );
}
