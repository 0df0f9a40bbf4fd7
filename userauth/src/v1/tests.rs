//! Unit tests of the SSH-1 authentication machine, path by path.

use super::message::ClientMessage;
use super::rsa_challenge::{
    expected_response, new_challenge, public_key, respond, response_matches,
};
use super::*;
use rand::rngs::StdRng;
use rand::SeedableRng;
use rsa::traits::PublicKeyParts;
use rsa::RsaPrivateKey;
use sisu_wire::v1::msg;
use std::sync::OnceLock;

const SID: [u8; 16] = [0x5a; 16];

/// Three 1024-bit keys, made once (deterministically) for all tests.
pub(super) fn keys() -> &'static [RsaPrivateKey] {
    static KEYS: OnceLock<Vec<RsaPrivateKey>> = OnceLock::new();
    KEYS.get_or_init(|| {
        let mut rng = StdRng::seed_from_u64(1);
        (0..3)
            .map(|_| RsaPrivateKey::new(&mut rng, 1024).unwrap())
            .collect()
    })
}

fn encode(m: ClientMessage<'_>) -> (u8, Vec<u8>) {
    let (t, p) = m.encode();
    (t, p.to_vec())
}

fn events(s: &mut V1AuthServer) -> Vec<V1AuthEvent> {
    std::iter::from_fn(|| s.poll_event()).collect()
}

fn sent(s: &mut V1AuthServer) -> Vec<(u8, Vec<u8>)> {
    std::iter::from_fn(|| s.poll_transmit()).collect()
}

fn failure() -> (u8, Vec<u8>) {
    (msg::SMSG_FAILURE, vec![])
}

/// A server that has taken `alice` (known or not) and sent "authentication needed".
fn after_user(config: V1AuthConfig, known: bool) -> V1AuthServer {
    let mut s = V1AuthServer::new(config);
    let (t, p) = encode(ClientMessage::User { name: "alice" });
    s.handle_message(t, &p).unwrap();
    assert_eq!(
        events(&mut s),
        vec![V1AuthEvent::User {
            name: "alice".into()
        }]
    );
    assert!(s.awaiting_answer());
    s.answer_user(known);
    assert!(!s.awaiting_answer());
    assert_eq!(sent(&mut s), vec![failure()]);
    s
}

fn send(s: &mut V1AuthServer, m: ClientMessage<'_>) -> Result<(), V1AuthError> {
    let (t, p) = encode(m);
    s.handle_message(t, &p)
}

fn failed(method: V1Method) -> V1AuthEvent {
    V1AuthEvent::Failed {
        user: "alice".into(),
        method,
    }
}

#[test]
fn first_message_must_be_user() {
    let mut s = V1AuthServer::new(V1AuthConfig::default());
    s.handle_message(msg::MSG_IGNORE, b"\0\0\0\0").unwrap();
    s.handle_message(msg::MSG_DEBUG, b"junk").unwrap();
    let err = send(&mut s, ClientMessage::Password { password: b"pw" }).unwrap_err();
    assert_eq!(
        err,
        V1AuthError::Unexpected {
            expected: msg::CMSG_USER,
            got: msg::CMSG_AUTH_PASSWORD
        }
    );
    // Sticky.
    assert_eq!(send(&mut s, ClientMessage::User { name: "a" }), Err(err));
    assert!(events(&mut s).is_empty() && sent(&mut s).is_empty());
}

#[test]
fn user_name_bounds_and_style() {
    let mut s = V1AuthServer::new(V1AuthConfig::default());
    send(
        &mut s,
        ClientMessage::User {
            name: "bob:bsdauth",
        },
    )
    .unwrap();
    assert_eq!(
        events(&mut s),
        vec![V1AuthEvent::User { name: "bob".into() }]
    );

    let long = "x".repeat(MAX_USER_LEN + 1);
    let mut s = V1AuthServer::new(V1AuthConfig::default());
    assert!(matches!(
        send(&mut s, ClientMessage::User { name: &long }),
        Err(V1AuthError::Malformed { .. })
    ));
    let ok = "x".repeat(MAX_USER_LEN);
    let mut s = V1AuthServer::new(V1AuthConfig::default());
    send(&mut s, ClientMessage::User { name: &ok }).unwrap();

    for bad in [
        &b"\0\0\0\x03a\0b"[..],
        b"\0\0\0\x02\xff\xfe",
        b"\0\0\0\x01ax",
        b"\0\0",
    ] {
        let mut s = V1AuthServer::new(V1AuthConfig::default());
        assert!(
            matches!(
                s.handle_message(msg::CMSG_USER, bad),
                Err(V1AuthError::Malformed { .. })
            ),
            "{bad:?}"
        );
    }
}

#[test]
fn unknown_user_gets_the_same_replies_and_never_succeeds() {
    let mut s = after_user(V1AuthConfig::default(), false);
    send(&mut s, ClientMessage::Password { password: b"right" }).unwrap();
    assert!(matches!(
        &events(&mut s)[..],
        [V1AuthEvent::Password { .. }]
    ));
    s.answer_password(true);
    assert_eq!(sent(&mut s), vec![failure()]);
    assert_eq!(events(&mut s), vec![failed(V1Method::Password)]);

    let key = &keys()[0];
    send(
        &mut s,
        ClientMessage::AuthRsa {
            modulus: &key.n().to_bytes_be(),
        },
    )
    .unwrap();
    assert!(matches!(
        &events(&mut s)[..],
        [V1AuthEvent::RsaKeyOffered { .. }]
    ));
    s.answer_rsa_key(Some(vec![1, 2, 3]));
    assert_eq!(sent(&mut s), vec![failure()]);
    assert_eq!(events(&mut s), vec![failed(V1Method::Rsa)]);
    assert_eq!(s.authenticated(), None);
}

#[test]
fn password_paths() {
    let mut s = after_user(V1AuthConfig::default(), true);
    // The empty password, refused by the policy (PermitEmptyPasswords no).
    send(&mut s, ClientMessage::Password { password: b"" }).unwrap();
    match &events(&mut s)[..] {
        [V1AuthEvent::Password { user, password }] => {
            assert_eq!((user.as_str(), password.as_str()), ("alice", ""))
        }
        other => panic!("{other:?}"),
    }
    s.answer_password(false);
    assert_eq!(sent(&mut s), vec![failure()]);
    assert_eq!(events(&mut s), vec![failed(V1Method::Password)]);
    // Not UTF-8: fails without a question.
    send(
        &mut s,
        ClientMessage::Password {
            password: b"\xe9t\xe9",
        },
    )
    .unwrap();
    assert_eq!(events(&mut s), vec![failed(V1Method::Password)]);
    assert_eq!(sent(&mut s), vec![failure()]);
    // Too long: a protocol error.
    let long = vec![b'a'; MAX_PASSWORD_LEN + 1];
    let mut t = after_user(V1AuthConfig::default(), true);
    assert!(matches!(
        send(&mut t, ClientMessage::Password { password: &long }),
        Err(V1AuthError::Malformed { .. })
    ));
    // The right one.
    send(&mut s, ClientMessage::Password { password: b"pw" }).unwrap();
    assert!(matches!(
        &events(&mut s)[..],
        [V1AuthEvent::Password { .. }]
    ));
    s.answer_password(true);
    assert_eq!(sent(&mut s), vec![(msg::SMSG_SUCCESS, vec![])]);
    assert_eq!(
        events(&mut s),
        vec![V1AuthEvent::Authenticated {
            user: "alice".into(),
            method: V1Method::Password
        }]
    );
    assert_eq!(s.authenticated(), Some("alice"));
    assert_eq!(s.failures(), 2);
    // Afterwards: the session's messages are not ours; IGNORE still is.
    s.handle_message(msg::MSG_IGNORE, b"").unwrap();
    assert_eq!(
        s.handle_message(msg::CMSG_EXEC_SHELL, b""),
        Err(V1AuthError::AfterAuthentication(msg::CMSG_EXEC_SHELL))
    );
}

#[test]
fn disabled_methods_fail_unasked() {
    let config = V1AuthConfig {
        rsa: false,
        password: false,
        rhosts_rsa: false,
        max_tries: 10,
    };
    let mut s = after_user(config, true);
    send(&mut s, ClientMessage::Password { password: b"pw" }).unwrap();
    send(&mut s, ClientMessage::AuthRsa { modulus: &[1] }).unwrap();
    let key = &keys()[0];
    let (n, e) = (key.n().to_bytes_be(), key.e().to_bytes_be());
    send(
        &mut s,
        ClientMessage::RhostsRsa {
            client_user: "root",
            bits: 1024,
            exponent: &e,
            modulus: &n,
        },
    )
    .unwrap();
    assert_eq!(
        events(&mut s),
        vec![
            failed(V1Method::Password),
            failed(V1Method::Rsa),
            failed(V1Method::RhostsRsa)
        ]
    );
    assert_eq!(sent(&mut s), vec![failure(), failure(), failure()]);
}

#[test]
fn unsupported_and_unknown_messages_fail_and_count() {
    let mut s = after_user(V1AuthConfig::default(), true);
    for t in [
        msg::CMSG_AUTH_RHOSTS,
        msg::CMSG_AUTH_TIS,
        CMSG_AUTH_TIS_RESPONSE,
        msg::CMSG_USER,
        msg::CMSG_AUTH_RSA_RESPONSE,
    ] {
        s.handle_message(t, b"whatever").unwrap();
    }
    assert_eq!(
        events(&mut s),
        vec![
            failed(V1Method::Other(5)),
            failed(V1Method::Tis),
            failed(V1Method::Tis),
            failed(V1Method::Other(msg::CMSG_USER)),
            failed(V1Method::Other(msg::CMSG_AUTH_RSA_RESPONSE)),
        ]
    );
    assert_eq!(sent(&mut s).len(), 5);
    assert_eq!(s.failures(), 5);
    // The sixth (MaxAuthTries 6) ends it: no FAILURE for it.
    s.handle_message(200, b"").unwrap();
    assert_eq!(
        events(&mut s),
        vec![
            failed(V1Method::Other(200)),
            V1AuthEvent::TooManyFailures {
                user: "alice".into()
            }
        ]
    );
    assert!(sent(&mut s).is_empty());
    let err = V1AuthError::TooManyFailures {
        user: "alice".into(),
    };
    assert_eq!(
        s.handle_message(msg::CMSG_AUTH_PASSWORD, b""),
        Err(err.clone())
    );
    assert_eq!(
        err.to_string(),
        "Too many authentication failures for alice"
    );
    s.answer_password(true);
    assert!(events(&mut s).is_empty() && sent(&mut s).is_empty());
}

#[test]
fn max_tries_zero_and_capped() {
    let mut s = after_user(
        V1AuthConfig {
            max_tries: 0,
            ..V1AuthConfig::default()
        },
        true,
    );
    s.handle_message(msg::CMSG_AUTH_TIS, b"").unwrap();
    assert!(matches!(
        &events(&mut s)[..],
        [
            V1AuthEvent::Failed { .. },
            V1AuthEvent::TooManyFailures { .. }
        ]
    ));
    let mut s = after_user(
        V1AuthConfig {
            max_tries: u32::MAX,
            ..V1AuthConfig::default()
        },
        true,
    );
    for _ in 0..MAX_TRIES - 1 {
        s.handle_message(msg::CMSG_AUTH_TIS, b"").unwrap();
        events(&mut s);
        sent(&mut s);
    }
    s.handle_message(msg::CMSG_AUTH_TIS, b"").unwrap();
    assert!(matches!(
        events(&mut s).last(),
        Some(V1AuthEvent::TooManyFailures { .. })
    ));
}

#[test]
fn rsa_round_trip_with_a_real_key() {
    let key = &keys()[0];
    let mut rng = StdRng::seed_from_u64(2);
    let mut s = after_user(V1AuthConfig::default(), true);
    let n = key.n().to_bytes_be();
    send(&mut s, ClientMessage::AuthRsa { modulus: &n }).unwrap();
    assert_eq!(
        events(&mut s),
        vec![V1AuthEvent::RsaKeyOffered {
            user: "alice".into(),
            modulus: n.clone()
        }]
    );
    // The monitor: finds the key, makes the challenge.
    let public = public_key(&key.e().to_bytes_be(), &n).unwrap();
    let (challenge, encrypted) = new_challenge(&public, &mut rng).unwrap();
    s.answer_rsa_key(Some(encrypted.clone()));
    let out = sent(&mut s);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].0, msg::SMSG_AUTH_RSA_CHALLENGE);
    // The client: decrypts and answers.
    let got = super::message::parse_challenge(&out[0].1).unwrap();
    let response = respond(got, key, &SID).unwrap();
    send(&mut s, ClientMessage::RsaResponse { response }).unwrap();
    let ev = events(&mut s);
    assert_eq!(
        ev,
        vec![V1AuthEvent::RsaResponse {
            user: "alice".into(),
            response
        }]
    );
    // The monitor: checks it.
    assert!(response_matches(
        &expected_response(&challenge, &SID),
        &response
    ));
    s.answer_rsa_response(true);
    assert_eq!(sent(&mut s), vec![(msg::SMSG_SUCCESS, vec![])]);
    assert_eq!(
        events(&mut s),
        vec![V1AuthEvent::Authenticated {
            user: "alice".into(),
            method: V1Method::Rsa
        }]
    );
}

#[test]
fn rsa_refusals() {
    let key = &keys()[0];
    let n = key.n().to_bytes_be();
    let mut s = after_user(V1AuthConfig::default(), true);
    // Key not found.
    send(&mut s, ClientMessage::AuthRsa { modulus: &n }).unwrap();
    events(&mut s);
    s.answer_rsa_key(None);
    assert_eq!(sent(&mut s), vec![failure()]);
    assert_eq!(events(&mut s), vec![failed(V1Method::Rsa)]);
    // A challenge of zero is a daemon bug: treated as None.
    send(&mut s, ClientMessage::AuthRsa { modulus: &n }).unwrap();
    events(&mut s);
    s.answer_rsa_key(Some(vec![0, 0]));
    assert_eq!(sent(&mut s), vec![failure()]);
    events(&mut s);
    // A modulus under MIN_MODULUS_BITS fails unasked.
    send(&mut s, ClientMessage::AuthRsa { modulus: &n[..64] }).unwrap();
    assert_eq!(events(&mut s), vec![failed(V1Method::Rsa)]);
    sent(&mut s);
    // Wrong response.
    send(&mut s, ClientMessage::AuthRsa { modulus: &n }).unwrap();
    events(&mut s);
    s.answer_rsa_key(Some(vec![9; 128]));
    assert_eq!(sent(&mut s)[0].0, msg::SMSG_AUTH_RSA_CHALLENGE);
    send(&mut s, ClientMessage::RsaResponse { response: [0; 16] }).unwrap();
    events(&mut s);
    s.answer_rsa_response(false);
    assert_eq!(sent(&mut s), vec![failure()]);
    assert_eq!(events(&mut s), vec![failed(V1Method::Rsa)]);
    assert_eq!(s.failures(), 4);
}

#[test]
fn after_a_challenge_only_the_response_is_accepted() {
    let n = keys()[0].n().to_bytes_be();
    for (t, p, malformed) in [
        (msg::CMSG_AUTH_PASSWORD, vec![0, 0, 0, 0], false),
        (msg::CMSG_AUTH_RSA_RESPONSE, vec![0; 15], true),
        (msg::CMSG_AUTH_RSA_RESPONSE, vec![0; 17], true),
    ] {
        let mut s = after_user(V1AuthConfig::default(), true);
        send(&mut s, ClientMessage::AuthRsa { modulus: &n }).unwrap();
        s.answer_rsa_key(Some(vec![7; 128]));
        s.handle_message(msg::MSG_IGNORE, b"").unwrap();
        let err = s.handle_message(t, &p).unwrap_err();
        assert_eq!(
            matches!(err, V1AuthError::Malformed { .. }),
            malformed,
            "{err}"
        );
        if !malformed {
            assert_eq!(
                err.to_string(),
                "Protocol error: expected packet type 8, got 9"
            );
        }
    }
}

#[test]
fn rhosts_rsa_round_trip() {
    let host = &keys()[1];
    let (n, e) = (host.n().to_bytes_be(), host.e().to_bytes_be());
    let config = V1AuthConfig {
        rhosts_rsa: true,
        ..V1AuthConfig::default()
    };
    let mut s = after_user(config, true);
    send(
        &mut s,
        ClientMessage::RhostsRsa {
            client_user: "alice",
            bits: 1023, // announced wrong: only OpenSSH's warning
            exponent: &e,
            modulus: &n,
        },
    )
    .unwrap();
    assert_eq!(
        events(&mut s),
        vec![V1AuthEvent::RhostsRsa {
            user: "alice".into(),
            client_user: "alice".into(),
            bits: 1023,
            exponent: e.clone(),
            modulus: n.clone()
        }]
    );
    // answer_rsa_key does not answer a rhosts-RSA question.
    s.answer_rsa_key(Some(vec![1]));
    assert!(s.awaiting_answer() && sent(&mut s).is_empty());
    let mut rng = StdRng::seed_from_u64(3);
    let (challenge, encrypted) = new_challenge(&public_key(&e, &n).unwrap(), &mut rng).unwrap();
    s.answer_rhosts_rsa(Some(encrypted));
    let out = sent(&mut s);
    let response = respond(
        super::message::parse_challenge(&out[0].1).unwrap(),
        host,
        &SID,
    )
    .unwrap();
    assert_eq!(response, expected_response(&challenge, &SID));
    send(&mut s, ClientMessage::RsaResponse { response }).unwrap();
    events(&mut s);
    s.answer_rsa_response(true);
    assert_eq!(
        events(&mut s),
        vec![V1AuthEvent::Authenticated {
            user: "alice".into(),
            method: V1Method::RhostsRsa
        }]
    );
}

#[test]
fn pending_questions_block_input_and_stray_answers_are_ignored() {
    let mut s = V1AuthServer::new(V1AuthConfig::default());
    // Answers before any question: ignored.
    s.answer_user(true);
    s.answer_password(true);
    s.answer_rsa_response(true);
    assert!(sent(&mut s).is_empty() && events(&mut s).is_empty());
    send(&mut s, ClientMessage::User { name: "alice" }).unwrap();
    s.answer_password(true); // the wrong kind
    assert!(s.awaiting_answer());
    s.handle_message(msg::MSG_DEBUG, b"").unwrap();
    assert_eq!(
        send(&mut s, ClientMessage::Password { password: b"x" }),
        Err(V1AuthError::WhilePending(msg::CMSG_AUTH_PASSWORD))
    );
    assert!(!s.awaiting_answer());
    s.answer_user(true);
    assert!(sent(&mut s).is_empty());

    let mut s = after_user(V1AuthConfig::default(), true);
    s.answer_user(true); // a second answer
    assert!(sent(&mut s).is_empty());
    send(&mut s, ClientMessage::Password { password: b"x" }).unwrap();
    s.answer_password(false);
    s.answer_password(true); // a second answer
    assert_eq!(sent(&mut s), vec![failure()]);
    assert_eq!(s.authenticated(), None);
}

#[test]
fn disconnect_queue_and_length_bounds() {
    let mut s = after_user(V1AuthConfig::default(), true);
    assert_eq!(
        s.handle_message(msg::DISCONNECT, b"\0\0\0\0"),
        Err(V1AuthError::PeerDisconnected)
    );
    let mut s = after_user(V1AuthConfig::default(), true);
    assert!(matches!(
        s.handle_message(77, &vec![0; MAX_MESSAGE_LEN + 1]),
        Err(V1AuthError::Malformed { .. })
    ));
    // IGNORE is dropped unread, whatever its length.
    let mut s = after_user(V1AuthConfig::default(), true);
    s.handle_message(msg::MSG_IGNORE, &vec![0; MAX_MESSAGE_LEN * 4])
        .unwrap();
    // A caller that never polls is stopped at MAX_QUEUE.
    let config = V1AuthConfig {
        max_tries: 100,
        ..V1AuthConfig::default()
    };
    let mut s = after_user(config, true);
    let mut n = 0;
    let err = loop {
        match s.handle_message(msg::CMSG_AUTH_TIS, b"") {
            Ok(()) => n += 1,
            Err(e) => break e,
        }
    };
    assert!(matches!(err, V1AuthError::QueueFull(_)));
    assert_eq!(n, MAX_QUEUE);
}
