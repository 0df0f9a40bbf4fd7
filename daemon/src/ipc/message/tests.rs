use super::*;
use proptest::prelude::*;
use sisu_userauth::kbdint::Prompt;
use sisu_userauth::Method;
use sisu_wire::Writer;

fn s() -> impl Strategy<Value = String> {
    "[ -~]{0,40}"
}

fn b() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(any::<u8>(), 0..64)
}

fn methods() -> impl Strategy<Value = Vec<Method>> {
    proptest::sample::subsequence(
        vec![
            Method::PublicKey,
            Method::Password,
            Method::KeyboardInteractive,
            Method::Hostbased,
        ],
        0..=4,
    )
}

fn to_monitor() -> impl Strategy<Value = ToMonitor> {
    prop_oneof![
        (any::<u8>(), s()).prop_map(|(level, line)| ToMonitor::Log { level, line }),
        (any::<u32>(), s(), b()).prop_map(|(key, algorithm, data)| ToMonitor::Sign {
            key,
            algorithm,
            data
        }),
        (any::<u32>(), any::<u32>(), any::<u32>()).prop_map(|(min, n, max)| ToMonitor::GexGroup {
            min,
            n,
            max
        }),
        s().prop_map(|user| ToMonitor::User { user }),
        (s(), s(), b()).prop_map(|(user, algorithm, key)| ToMonitor::KeyOffered {
            user,
            algorithm,
            key
        }),
        (s(), s(), s(), b(), b()).prop_map(|(user, service, algorithm, key_blob, signature)| {
            ToMonitor::KeyVerified(SignedRequest {
                user,
                service,
                algorithm,
                key_blob,
                signature,
            })
        }),
        (s(), b()).prop_map(|(user, pw)| ToMonitor::Password {
            user,
            password: sisu_userauth::Password::new(&pw)
        }),
        s().prop_map(|user| ToMonitor::Methods { user }),
        (s(), s(), b(), s(), s(), b()).prop_map(
            |(user, algorithm, key_blob, client_host, client_user, signature)| {
                ToMonitor::HostbasedVerified(sisu_userauth::hostbased::SignedHostbased {
                    user,
                    service: "ssh-connection".into(),
                    algorithm,
                    key_blob,
                    client_host,
                    client_user,
                    signature,
                })
            }
        ),
        (s(), s()).prop_map(|(user, submethods)| ToMonitor::KbdStart { user, submethods }),
        (s(), proptest::collection::vec(b(), 0..4)).prop_map(|(user, r)| ToMonitor::KbdRespond {
            user,
            responses: r.iter().map(|x| sisu_userauth::Password::new(x)).collect()
        }),
        b().prop_map(|state| ToMonitor::Handover { state }),
        (any::<u16>(), any::<u16>(), any::<u16>(), any::<u16>()).prop_map(
            |(cols, rows, width_px, height_px)| ToMonitor::Pty {
                cols,
                rows,
                width_px,
                height_px
            }
        ),
        (b(), s()).prop_map(|(key, algorithm)| ToMonitor::ProveHostKey { key, algorithm }),
        (b(), b()).prop_map(|(session_id, encrypted)| ToMonitor::V1SessionKey {
            session_id,
            encrypted
        }),
        (s(), b()).prop_map(|(user, modulus)| ToMonitor::V1RsaKey { user, modulus }),
        (s(), b()).prop_map(|(user, response)| ToMonitor::V1RsaResponse { user, response }),
    ]
}

fn from_monitor() -> impl Strategy<Value = FromMonitor> {
    prop_oneof![
        (
            proptest::collection::vec(b(), 0..5),
            proptest::option::of((any::<u32>(), any::<u32>())),
            proptest::option::of(s()),
            proptest::collection::vec(b(), 0..5)
        )
            .prop_map(
                |(host_keys, identity, chroot, v1_keys)| FromMonitor::Setup {
                    host_keys,
                    identity,
                    chroot,
                    v1_keys
                }
            ),
        b().prop_map(|key| FromMonitor::V1SessionKey { key }),
        proptest::option::of(b()).prop_map(|challenge| FromMonitor::V1Challenge { challenge }),
        b().prop_map(|blob| FromMonitor::Signature { blob }),
        (b(), b()).prop_map(|(p, g)| FromMonitor::Group { p, g }),
        Just(FromMonitor::NoGroup),
        (
            any::<bool>(),
            any::<bool>(),
            proptest::option::of(s()),
            methods(),
            proptest::collection::vec(s(), 0..4),
            proptest::collection::vec(s(), 0..4)
        )
            .prop_map(
                |(valid, refuse, banner, methods, pubkey_algorithms, hostbased_algorithms)| {
                    FromMonitor::User {
                        valid,
                        refuse,
                        banner,
                        methods,
                        pubkey_algorithms,
                        hostbased_algorithms,
                    }
                }
            ),
        methods().prop_map(|methods| FromMonitor::Methods { methods }),
        any::<bool>().prop_map(|allowed| FromMonitor::Offered { allowed }),
        prop_oneof![
            Just(Verdict::Deny),
            Just(Verdict::Allow),
            Just(Verdict::Partial)
        ]
        .prop_map(|verdict| FromMonitor::Verified { verdict }),
        (
            s(),
            b(),
            b(),
            proptest::collection::vec(b(), 0..3),
            proptest::collection::vec(s(), 0..3),
            s()
        )
            .prop_map(|(user, grant, state, host_keys, pam_env, pam_messages)| {
                FromMonitor::Start {
                    user,
                    grant,
                    state,
                    host_keys,
                    pam_env,
                    pam_messages,
                }
            }),
        (
            s(),
            s(),
            proptest::collection::vec((s(), any::<bool>()), 0..4)
        )
            .prop_map(|(name, instruction, prompts)| FromMonitor::KbdPrompts {
                request: InfoRequest {
                    name,
                    instruction,
                    prompts: prompts
                        .into_iter()
                        .map(|(text, echo)| Prompt { text, echo })
                        .collect(),
                }
            }),
        (s(), proptest::option::of(s()))
            .prop_map(|(tty, last_login)| FromMonitor::Pty { tty, last_login }),
        s().prop_map(|reason| FromMonitor::Refused { reason }),
    ]
}

proptest! {
    #[test]
    fn messages_round_trip_and_cut_or_extended_ones_are_refused(
        to in to_monitor(),
        from in from_monitor(),
    ) {
        let t = to.encode();
        prop_assert_eq!(ToMonitor::decode(&t), Ok(to));
        prop_assert!(ToMonitor::decode(&t[..t.len() - 1]).is_err());
        let mut longer = t.clone();
        longer.push(0);
        prop_assert!(ToMonitor::decode(&longer).is_err());
        let f = from.encode();
        prop_assert_eq!(FromMonitor::decode(&f), Ok(from));
        prop_assert!(FromMonitor::decode(&f[..f.len() - 1]).is_err());
    }

    #[test]
    fn whatever_decodes_encodes_back_the_same(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        if let Ok(m) = ToMonitor::decode(&bytes) {
            prop_assert_eq!(m.encode(), bytes.clone());
        }
        if let Ok(m) = FromMonitor::decode(&bytes) {
            prop_assert_eq!(m.encode(), bytes);
        }
    }
}

#[test]
fn method_lists_are_canonical() {
    for bad in [
        "publickey,publickey",
        "gssapi-with-mic",
        "publickey,",
        ",password",
    ] {
        let mut w = Writer::new();
        w.u8(tag::METHOD_LIST).str(bad);
        assert!(FromMonitor::decode(&w.into_vec()).is_err(), "{bad}");
    }
    let mut w = Writer::new();
    w.u8(tag::PASSWORD)
        .str("alice")
        .string(&vec![b'x'; sisu_userauth::limits::MAX_PASSWORD_LEN + 1]);
    assert_eq!(
        ToMonitor::decode(&w.into_vec()),
        Err(DecodeError::TooLarge("password"))
    );
}

#[test]
fn limits_hold() {
    let mut w = Writer::new();
    w.u8(tag::LOG).u8(6).str(&"x".repeat(MAX_LOG_LINE + 1));
    assert_eq!(
        ToMonitor::decode(&w.into_vec()),
        Err(DecodeError::TooLarge("log line"))
    );
    let mut w = Writer::new();
    w.u8(tag::SETUP).u32(MAX_HOST_KEYS as u32 + 1);
    assert_eq!(
        FromMonitor::decode(&w.into_vec()),
        Err(DecodeError::TooLarge("host key list"))
    );
    let mut w = Writer::new();
    w.u8(tag::PTY).u32(70000).u32(1).u32(1).u32(1);
    assert!(ToMonitor::decode(&w.into_vec()).is_err());
    assert_eq!(
        ToMonitor::decode(&[200]),
        Err(DecodeError::UnknownType(200))
    );
}
