//! The `keyboard-interactive` method (RFC 4256) in memory: the rounds of prompts and
//! responses, the verdicts, and what ends or abandons an exchange.

use proptest::prelude::*;
use sisu_userauth::kbdint::{encode_info_response, InfoRequest, KbdInteractiveRequest, Prompt};
use sisu_userauth::request::{MethodRequest, UserauthRequest};
use sisu_userauth::ServerMessage;
use sisu_userauth::{Answer, AuthError, Event, Method, Password, Server, ServerConfig};

const SESSION_ID: &[u8] = b"session identifier H";

fn server() -> Server {
    Server::new(
        ServerConfig {
            methods: vec![Method::PublicKey, Method::KeyboardInteractive],
            ..ServerConfig::default()
        },
        SESSION_ID,
    )
}

fn kbd(user: &str) -> Vec<u8> {
    UserauthRequest {
        user,
        service: "ssh-connection",
        method: MethodRequest::KeyboardInteractive(KbdInteractiveRequest {
            language: "",
            submethods: "pam",
        }),
    }
    .encode()
}

fn prompts(texts: &[&str]) -> InfoRequest {
    InfoRequest {
        name: String::new(),
        instruction: "Password expired".into(),
        prompts: texts
            .iter()
            .map(|t| Prompt {
                text: (*t).into(),
                echo: false,
            })
            .collect(),
    }
}

#[test]
fn two_rounds_of_prompts_then_success() {
    let mut s = server();
    s.handle_message(&kbd("alice")).unwrap();
    assert_eq!(
        s.poll_event(),
        Some(Event::KbdInteractive {
            user: "alice".into(),
            submethods: "pam".into()
        })
    );
    assert!(s.is_pending());
    assert!(
        s.poll_transmit().is_none(),
        "nothing is sent before the daemon asks"
    );

    s.info_request(&prompts(&["Password: "])).unwrap();
    let sent = InfoRequest::parse(&s.poll_transmit().unwrap()).unwrap();
    assert_eq!(sent, prompts(&["Password: "]));
    assert!(!s.is_pending());

    s.handle_message(&encode_info_response(&[b"old"])).unwrap();
    assert_eq!(
        s.poll_event(),
        Some(Event::InfoResponse {
            user: "alice".into(),
            responses: vec![Password::new(b"old")]
        })
    );
    s.info_request(&prompts(&["New password: ", "Retype new password: "]))
        .unwrap();
    assert_eq!(
        InfoRequest::parse(&s.poll_transmit().unwrap())
            .unwrap()
            .prompts
            .len(),
        2
    );
    s.handle_message(&encode_info_response(&[b"new", b"new"]))
        .unwrap();
    assert!(
        matches!(s.poll_event(), Some(Event::InfoResponse { responses, .. }) if responses.len() == 2)
    );
    s.answer_with(Answer::Allow).unwrap();
    assert!(
        matches!(s.poll_event(), Some(Event::Success { method, .. }) if method == "keyboard-interactive")
    );
    assert_eq!(
        ServerMessage::parse(&s.poll_transmit().unwrap()).unwrap(),
        ServerMessage::Success
    );
    assert_eq!(
        s.is_authenticated().unwrap().method,
        Method::KeyboardInteractive
    );
}

#[test]
fn a_refusal_is_a_counted_failure() {
    let mut s = server();
    s.handle_message(&kbd("alice")).unwrap();
    s.poll_event();
    s.info_request(&prompts(&["Password: "])).unwrap();
    s.poll_transmit();
    s.handle_message(&encode_info_response(&[b"wrong"]))
        .unwrap();
    s.poll_event();
    s.answer_with(Answer::Deny).unwrap();
    assert!(
        matches!(s.poll_event(), Some(Event::Failed { method, counted: true, .. }) if method == "keyboard-interactive")
    );
    assert!(matches!(
        ServerMessage::parse(&s.poll_transmit().unwrap()).unwrap(),
        ServerMessage::Failure {
            partial_success: false,
            ..
        }
    ));
    assert_eq!(s.failures(), 1);
    assert!(s.is_authenticated().is_none());
}

#[test]
fn the_wrong_number_of_responses_ends_the_connection() {
    let mut s = server();
    s.handle_message(&kbd("alice")).unwrap();
    s.poll_event();
    s.info_request(&prompts(&["Password: "])).unwrap();
    s.poll_transmit();
    let e = s
        .handle_message(&encode_info_response(&[b"a", b"b"]))
        .unwrap_err();
    assert!(matches!(
        e,
        AuthError::Malformed {
            field: "num-responses",
            ..
        }
    ));
}

#[test]
fn a_response_nobody_asked_for_is_unexpected() {
    let mut s = server();
    assert_eq!(
        s.handle_message(&encode_info_response(&[])),
        Err(AuthError::UnexpectedMessage(61))
    );
    // Nor while the daemon has not sent prompts yet: it waits, then is unexpected.
    let mut s = server();
    s.handle_message(&kbd("alice")).unwrap();
    s.poll_event();
    s.handle_message(&encode_info_response(&[b"x"])).unwrap();
    s.answer_with(Answer::Deny).unwrap_err();
}

#[test]
fn a_new_request_abandons_the_exchange() {
    let mut s = server();
    s.handle_message(&kbd("alice")).unwrap();
    s.poll_event();
    s.info_request(&prompts(&["Password: "])).unwrap();
    s.poll_transmit();
    s.handle_message(&kbd("alice")).unwrap();
    assert!(matches!(s.poll_event(), Some(Event::KbdInteractive { .. })));
    s.answer_with(Answer::Deny).unwrap();
    // The old exchange's responses are no longer expected.
    s.poll_event();
    s.poll_transmit();
    assert!(s.handle_message(&encode_info_response(&[b"pw"])).is_err());
}

#[test]
fn not_offered_means_no_question() {
    let mut s = Server::new(ServerConfig::default(), SESSION_ID);
    s.handle_message(&kbd("alice")).unwrap();
    assert!(
        matches!(s.poll_event(), Some(Event::Failed { method, .. }) if method == "keyboard-interactive")
    );
    assert!(!s.is_pending());
}

#[test]
fn partial_success_lists_what_continues() {
    let mut s = server();
    s.handle_message(&kbd("alice")).unwrap();
    s.poll_event();
    s.set_methods(vec![Method::PublicKey]);
    s.answer_with(Answer::Partial).unwrap();
    assert_eq!(
        ServerMessage::parse(&s.poll_transmit().unwrap()).unwrap(),
        ServerMessage::Failure {
            methods: sisu_wire::NameList("publickey"),
            partial_success: true
        }
    );
    assert!(s.is_authenticated().is_none());
}

proptest! {
    /// Whatever a client sends, a keyboard-interactive exchange whose every question
    /// the daemon answers with more prompts or a refusal never authenticates.
    #[test]
    fn no_message_sequence_authenticates_without_an_allow(
        msgs in proptest::collection::vec(
            prop_oneof![
                Just(kbd("alice")),
                (0usize..4).prop_map(|n| encode_info_response(&vec![&b"pw"[..]; n])),
                proptest::collection::vec(any::<u8>(), 1..40),
            ],
            0..20),
        prompt_counts in proptest::collection::vec(0usize..4, 20),
    ) {
        let mut s = server();
        let mut round = 0;
        for m in msgs {
            if s.handle_message(&m).is_err() {
                break;
            }
            while let Some(ev) = s.poll_event() {
                if matches!(ev, Event::KbdInteractive { .. } | Event::InfoResponse { .. }) {
                    let n = prompt_counts[round % prompt_counts.len()];
                    round += 1;
                    let r = if n == 0 {
                        s.answer_with(Answer::Deny)
                    } else {
                        s.info_request(&prompts(&vec!["P: "; n]))
                    };
                    if r.is_err() {
                        break;
                    }
                }
            }
            while s.poll_transmit().is_some() {}
        }
        prop_assert!(s.is_authenticated().is_none());
    }
}
