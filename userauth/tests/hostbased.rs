//! The `hostbased` method (RFC 4252 §9) in memory: a request signed by the client
//! host's key becomes one question; a bad signature, a certificate, an algorithm not
//! accepted or the method turned off fail without one.

use signature::Signer;
use sisu_userauth::hostbased::{signed_data, HostbasedRequest};
use sisu_userauth::request::{MethodRequest, UserauthRequest};
use sisu_userauth::{Answer, Event, Method, Server, ServerConfig, ServerMessage};
use ssh_key::{Algorithm, PrivateKey};

const SESSION_ID: &[u8] = b"session identifier H";

fn server() -> Server {
    Server::new(
        ServerConfig {
            methods: vec![Method::PublicKey, Method::Hostbased],
            ..ServerConfig::default()
        },
        SESSION_ID,
    )
}

/// A hostbased request for `alice` from `client.example.` user `bob`, signed by
/// `host` (or with `tamper` applied to the signed data first).
fn request(host: &PrivateKey, algorithm: &str, tamper: bool) -> Vec<u8> {
    let blob = host.public_key().to_bytes().unwrap();
    let mut req = HostbasedRequest {
        algorithm,
        key_blob: &blob,
        client_host: "client.example.",
        client_user: "bob",
        signature: &[],
    };
    let mut data = signed_data(SESSION_ID, "alice", "ssh-connection", &req);
    if tamper {
        data.push(0);
    }
    let sig: ssh_key::Signature = Signer::sign(host, &data);
    let sig_blob: Vec<u8> = sig.try_into().unwrap();
    req.signature = &sig_blob;
    UserauthRequest {
        user: "alice",
        service: "ssh-connection",
        method: MethodRequest::Hostbased(req),
    }
    .encode()
}

fn host_key() -> PrivateKey {
    PrivateKey::random(&mut rand::thread_rng(), Algorithm::Ed25519).unwrap()
}

#[test]
fn a_signed_request_is_one_question_and_its_answer_decides() {
    let host = host_key();
    let mut s = server();
    s.handle_message(&request(&host, "ssh-ed25519", false))
        .unwrap();
    match s.poll_event() {
        Some(Event::HostbasedVerified { user, key, request }) => {
            assert_eq!(user, "alice");
            assert_eq!(&key, host.public_key());
            assert_eq!(request.client_host, "client.example.");
            assert_eq!(request.client_user, "bob");
            // The monitor's check of the same request.
            assert!(request.verify(SESSION_ID, &["ssh-ed25519"]).is_ok());
            assert!(request
                .verify(b"another session", &["ssh-ed25519"])
                .is_err());
        }
        other => panic!("{other:?}"),
    }
    s.answer_with(Answer::Allow).unwrap();
    assert!(matches!(s.poll_event(), Some(Event::Success { method, .. }) if method == "hostbased"));
    assert_eq!(
        ServerMessage::parse(&s.poll_transmit().unwrap()).unwrap(),
        ServerMessage::Success
    );
    assert_eq!(s.is_authenticated().unwrap().method, Method::Hostbased);
}

#[test]
fn bad_signatures_algorithms_and_certificates_fail_without_a_question() {
    let host = host_key();
    for (req, why) in [
        (request(&host, "ssh-ed25519", true), "tampered"),
        (
            request(&host, "ecdsa-sha2-nistp256", false),
            "wrong algorithm",
        ),
        (
            request(&host, "ssh-ed25519-cert-v01@openssh.com", false),
            "certificate",
        ),
    ] {
        let mut s = server();
        s.handle_message(&req).unwrap();
        assert!(
            matches!(s.poll_event(), Some(Event::Failed { method, counted: true, .. }) if method == "hostbased"),
            "{why}"
        );
        assert!(!s.is_pending(), "{why}");
    }
    // Not accepted unless listed.
    let mut s = server();
    s.set_hostbased_algorithms(vec!["rsa-sha2-512".into()]);
    s.handle_message(&request(&host, "ssh-ed25519", false))
        .unwrap();
    assert!(matches!(s.poll_event(), Some(Event::Failed { .. })));
    // Nor when the method is off.
    let mut s = Server::new(ServerConfig::default(), SESSION_ID);
    s.handle_message(&request(&host, "ssh-ed25519", false))
        .unwrap();
    assert!(matches!(s.poll_event(), Some(Event::Failed { .. })));
}
