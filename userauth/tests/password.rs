//! The `password` method (RFC 4252 §8) in memory: what the server asks, what it sends
//! for each answer, and the requests it refuses without asking.

use proptest::prelude::*;
use sisu_userauth::request::{MethodRequest, PasswordRequest, UserauthRequest};
use sisu_userauth::{Answer, AuthError, Event, Method, Password, Server, ServerConfig};
use sisu_userauth::{ServerMessage, DEFAULT_MAX_TRIES};
use sisu_wire::Writer;

const SESSION_ID: &[u8] = b"session identifier H";

fn config() -> ServerConfig {
    ServerConfig {
        methods: vec![Method::PublicKey, Method::Password],
        ..ServerConfig::default()
    }
}

fn password(user: &str, pw: &[u8]) -> Vec<u8> {
    UserauthRequest {
        user,
        service: "ssh-connection",
        method: MethodRequest::Password(PasswordRequest {
            password: pw,
            new_password: None,
        }),
    }
    .encode()
}

fn reply(s: &mut Server) -> ServerMessage<'static> {
    let m = s.poll_transmit().expect("a reply");
    let parsed = match ServerMessage::parse(&m).unwrap() {
        ServerMessage::Success => ServerMessage::Success,
        ServerMessage::Failure {
            methods,
            partial_success,
        } => {
            let list: &'static str = Box::leak(methods.as_str().to_owned().into_boxed_str());
            ServerMessage::Failure {
                methods: sisu_wire::NameList(list),
                partial_success,
            }
        }
        other => panic!("unexpected {other:?}"),
    };
    assert!(s.poll_transmit().is_none());
    parsed
}

fn failure(methods: &'static str, partial_success: bool) -> ServerMessage<'static> {
    ServerMessage::Failure {
        methods: sisu_wire::NameList(methods),
        partial_success,
    }
}

#[test]
fn request_round_trips_and_bounds_its_fields() {
    let p = password("alice", b"hunter2");
    let req = UserauthRequest::parse(&p).unwrap();
    assert_eq!(
        req.method,
        MethodRequest::Password(PasswordRequest {
            password: b"hunter2",
            new_password: None
        })
    );
    // A change request carries the new password too.
    let change = UserauthRequest {
        user: "alice",
        service: "ssh-connection",
        method: MethodRequest::Password(PasswordRequest {
            password: b"old",
            new_password: Some(b"new"),
        }),
    }
    .encode();
    let req = UserauthRequest::parse(&change).unwrap();
    assert!(matches!(req.method,
        MethodRequest::Password(PasswordRequest { new_password: Some(n), .. }) if n == b"new"));
    // Trailing bytes, a missing field and an over-long password are refused.
    let mut trailing = p.clone();
    trailing.push(0);
    assert!(UserauthRequest::parse(&trailing).is_err());
    assert!(UserauthRequest::parse(&p[..p.len() - 2]).is_err());
    let long = vec![b'x'; sisu_userauth::limits::MAX_PASSWORD_LEN + 1];
    assert!(matches!(
        UserauthRequest::parse(&password("alice", &long)),
        Err(AuthError::Malformed {
            field: "password",
            ..
        })
    ));
}

#[test]
fn the_daemon_decides_and_success_names_the_method() {
    let mut s = Server::new(config(), SESSION_ID);
    s.handle_message(&password("alice", b"hunter2")).unwrap();
    assert!(s.is_pending());
    assert!(
        s.poll_transmit().is_none(),
        "nothing is said before the answer"
    );
    match s.poll_event() {
        Some(Event::PasswordOffered { user, password }) => {
            assert_eq!(user, "alice");
            assert_eq!(password, Password::new(b"hunter2"));
        }
        other => panic!("expected PasswordOffered, got {other:?}"),
    }
    s.answer(true).unwrap();
    assert_eq!(reply(&mut s), ServerMessage::Success);
    assert!(matches!(s.poll_event(),
        Some(Event::Success { method, key: None, .. }) if method == "password"));
    let done = s.is_authenticated().unwrap();
    assert_eq!(
        (done.user.as_str(), done.method),
        ("alice", Method::Password)
    );
    let back = sisu_userauth::Authenticated::from_bytes(&done.to_bytes().unwrap()).unwrap();
    assert_eq!(&back, done);
}

#[test]
fn a_refusal_counts_and_max_auth_tries_disconnects() {
    let mut s = Server::new(config(), SESSION_ID);
    for n in 1..DEFAULT_MAX_TRIES {
        s.handle_message(&password("alice", b"wrong")).unwrap();
        assert!(matches!(
            s.poll_event(),
            Some(Event::PasswordOffered { .. })
        ));
        s.answer(false).unwrap();
        assert_eq!(reply(&mut s), failure("publickey,password", false));
        assert!(matches!(s.poll_event(),
            Some(Event::Failed { method, counted: true, .. }) if method == "password"));
        assert_eq!(s.failures(), n);
    }
    s.handle_message(&password("alice", b"wrong")).unwrap();
    s.poll_event();
    assert_eq!(s.answer(false), Err(AuthError::TooManyFailures));
    assert!(s.is_authenticated().is_none());
}

#[test]
fn partial_success_then_the_next_method() {
    let mut s = Server::new(config(), SESSION_ID);
    s.handle_message(&password("alice", b"hunter2")).unwrap();
    s.poll_event();
    s.set_methods(vec![Method::PublicKey]);
    s.answer_with(Answer::Partial).unwrap();
    assert_eq!(reply(&mut s), failure("publickey", true));
    assert!(s.is_authenticated().is_none());
    assert_eq!(s.failures(), 0, "a partial success does not count");
    // Password is no longer listed, so another password request fails unasked.
    s.handle_message(&password("alice", b"hunter2")).unwrap();
    assert!(!s.is_pending());
    assert_eq!(reply(&mut s), failure("publickey", false));
}

#[test]
fn change_requests_other_services_and_a_disabled_method_fail_unasked() {
    let change = UserauthRequest {
        user: "alice",
        service: "ssh-connection",
        method: MethodRequest::Password(PasswordRequest {
            password: b"old",
            new_password: Some(b"new"),
        }),
    }
    .encode();
    let mut other_service = Writer::msg(50);
    other_service
        .str("alice")
        .str("ssh-other")
        .str("password")
        .bool(false)
        .str("hunter2");
    for (request, cfg) in [
        (change, config()),
        (other_service.into_vec(), config()),
        (password("alice", b"hunter2"), ServerConfig::default()),
    ] {
        let mut s = Server::new(cfg, SESSION_ID);
        s.handle_message(&request).unwrap();
        assert!(!s.is_pending());
        assert!(matches!(s.poll_event(),
            Some(Event::Failed { method, counted: true, .. }) if method == "password"));
        assert!(matches!(reply(&mut s), ServerMessage::Failure { .. }));
        assert_eq!(s.failures(), 1);
    }
}

proptest! {
    /// Whatever a client sends, a password never authenticates unless the daemon
    /// allowed the question that carried it.
    #[test]
    fn nothing_authenticates_without_an_allowed_question(
        requests in prop::collection::vec((any::<bool>(), prop::collection::vec(any::<u8>(), 0..40)), 1..12),
        answers in prop::collection::vec(0u8..3, 12),
    ) {
        let mut s = Server::new(config(), SESSION_ID);
        let mut allowed_one = false;
        let mut answers = answers.into_iter();
        for (change, pw) in requests {
            let mut w = Writer::msg(50);
            w.str("alice").str("ssh-connection").str("password").bool(change).string(&pw);
            if change {
                w.string(b"new");
            }
            if s.handle_message(&w.into_vec()).is_err() {
                break;
            }
            while let Some(ev) = s.poll_event() {
                if let Event::PasswordOffered { password, .. } = ev {
                    prop_assert_eq!(password.expose(), &pw[..]);
                    let a = match answers.next().unwrap_or(0) {
                        0 => Answer::Deny,
                        1 => Answer::Partial,
                        _ => Answer::Allow,
                    };
                    allowed_one |= a == Answer::Allow;
                    if s.answer_with(a).is_err() {
                        break;
                    }
                }
            }
            while s.poll_transmit().is_some() {}
        }
        prop_assert_eq!(s.is_authenticated().is_some(), allowed_one);
    }
}
