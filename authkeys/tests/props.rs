//! Property tests: printing then parsing gives the entry back; a file's lines
//! follow a model of sshd's line rules; option text parses to an entry that prints
//! back, or to an error inside the line.

use proptest::prelude::*;
use sisu_authkeys::options::{AuthOption, Flag, PermitPort, PermitTarget, Tunnel};
use sisu_authkeys::pattern::{Pattern, PatternList};
use sisu_authkeys::rsa1::Rsa1Key;
use sisu_authkeys::time::ExpiryTime;
use sisu_authkeys::{parse_file, parse_file_bytes, Entry, EntryKey, ErrorKind};

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

/// One generated line: an entry (maybe indented and CR-terminated), or raw bytes
/// (blank, comment, junk, or anything without a newline).
#[derive(Debug, Clone)]
enum Line {
    Entry(Entry, bool),
    Raw(Vec<u8>),
}

fn file_line() -> impl Strategy<Value = Line> {
    prop_oneof![
        3 => (entry(), any::<bool>()).prop_map(|(e, decorated)| Line::Entry(e, decorated)),
        1 => prop::sample::select(vec!["", "   ", "\t\r", "\r", "  \t"])
            .prop_map(|s| Line::Raw(s.as_bytes().to_vec())),
        1 => "[ \t]{0,2}#[ -~]{0,12}".prop_map(|s| Line::Raw(s.into_bytes())),
        1 => "[ -~]{1,30}".prop_map(|s| Line::Raw(s.into_bytes())),
        1 => prop::collection::vec(any::<u8>().prop_filter("no newline", |b| *b != b'\n'), 1..24)
            .prop_map(Line::Raw),
    ]
}

fn line_bytes(l: &Line) -> Vec<u8> {
    match l {
        Line::Entry(e, false) => e.to_string().into_bytes(),
        Line::Entry(e, true) => format!(" \t{e}\r").into_bytes(),
        Line::Raw(b) => b.clone(),
    }
}

proptest! {
    #[test]
    fn print_then_parse_is_identity(e in entry()) {
        let text = e.to_string();
        let back = Entry::parse(&text).map_err(|err| TestCaseError::fail(format!("{text}: {err}")))?;
        prop_assert_eq!(back, Some(e));
    }

    /// A model of the file's line rules: lines split at `\n`, a line ends at its
    /// first `\r`, blank and `#` lines (after blanks) are skipped, and every other
    /// line gives exactly one entry or one error, with its 1-based number.
    #[test]
    fn every_line_is_an_entry_an_error_or_skipped(
        lines in prop::collection::vec(file_line(), 0..12),
        final_newline in any::<bool>(),
    ) {
        let mut bytes = lines.iter().map(line_bytes).collect::<Vec<_>>().join(&b'\n');
        if final_newline {
            bytes.push(b'\n');
        }
        let f = parse_file_bytes(&bytes);
        let mut want = Vec::new();
        let mut not_utf8 = Vec::new();
        for (i, raw) in bytes.split(|&b| b == b'\n').enumerate() {
            match std::str::from_utf8(raw) {
                Err(_) => {
                    want.push(i + 1);
                    not_utf8.push(i + 1);
                }
                Ok(t) => {
                    let t = t.split('\r').next().unwrap_or(t).trim_start_matches([' ', '\t']);
                    if !t.is_empty() && !t.starts_with('#') {
                        want.push(i + 1);
                    }
                }
            }
        }
        let mut got: Vec<usize> = f.entries.iter().map(|e| e.line).chain(f.errors.iter().map(|e| e.line)).collect();
        got.sort_unstable();
        prop_assert_eq!(got, want);
        for n in not_utf8 {
            prop_assert!(f.errors.iter().any(|e| e.line == n && e.kind == ErrorKind::NotUtf8), "line {}", n);
        }
        // every generated entry is found, as generated, on its line
        for (i, l) in lines.iter().enumerate() {
            if let Line::Entry(e, _) = l {
                let found = f.entries.iter().find(|fe| fe.line == i + 1).map(|fe| &fe.entry);
                prop_assert_eq!(found, Some(e), "line {}", i + 1);
            }
        }
        // the text entry point agrees on UTF-8 input
        if let Ok(text) = std::str::from_utf8(&bytes) {
            prop_assert_eq!(parse_file(text), f.clone());
        }
        prop_assert_eq!(parse_file(&f.to_string()).entries.len(), f.entries.len());
    }

    /// Option text before a key: a comment line reads as nothing, an entry holds
    /// the key and prints back to itself, and an error points inside the line.
    #[test]
    fn option_text_gives_an_entry_that_prints_back_or_an_error_in_the_line(
        s in "[a-zA-Z=\",\\\\ !*.:/0-9#-]{0,80}"
    ) {
        let line = format!("{s} ssh-ed25519 {ED25519}");
        let key = Entry::parse(&format!("ssh-ed25519 {ED25519}")).unwrap().unwrap().key;
        match Entry::parse(&line) {
            Ok(None) => prop_assert!(line.trim_start_matches([' ', '\t']).starts_with('#')),
            Ok(Some(e)) => {
                prop_assert!(!line.trim_start_matches([' ', '\t']).starts_with('#'));
                prop_assert_eq!(&e.key, &key);
                let printed = e.to_string();
                prop_assert_eq!(Entry::parse(&printed), Ok(Some(e)), "{}", printed);
            }
            Err(err) => prop_assert!(err.column >= 1 && err.column <= line.len() + 1, "{}", err),
        }
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
