//! In-memory runs of the server against a small test-side client that signs the
//! RFC 4252 §7 blob itself, with real keys of every supported type.

use proptest::prelude::*;
use rand::rngs::StdRng;
use rand::SeedableRng;
use signature::{SignatureEncoding, Signer};
use sisu_userauth::limits::{MAX_EVENT_QUEUE, MAX_PENDING_MESSAGES, MAX_TRANSMIT_QUEUE};
use sisu_userauth::{AuthError, Event, Method, Server, ServerConfig, ServerMessage};
use sisu_wire::Writer;
use ssh_key::private::{KeypairData, RsaKeypair};
use ssh_key::{Algorithm, EcdsaCurve, HashAlg, PrivateKey, PublicKey};
use std::sync::OnceLock;

const SESSION_ID: &[u8] = b"\x01\x02 session identifier H";

fn rng(seed: u64) -> StdRng {
    StdRng::seed_from_u64(seed)
}

fn ed25519(seed: u64) -> PrivateKey {
    PrivateKey::random(&mut rng(seed), Algorithm::Ed25519).unwrap()
}

fn ecdsa(curve: EcdsaCurve, seed: u64) -> PrivateKey {
    PrivateKey::random(&mut rng(seed), Algorithm::Ecdsa { curve }).unwrap()
}

/// One RSA-2048 key for the whole test binary (generation is slow), as the `rsa`
/// crate's key (for signing) and as ssh-key's.
fn rsa_pair() -> &'static (rsa::RsaPrivateKey, PrivateKey) {
    static KEY: OnceLock<(rsa::RsaPrivateKey, PrivateKey)> = OnceLock::new();
    KEY.get_or_init(|| {
        let private = rsa::RsaPrivateKey::new(&mut rng(2048), 2048).unwrap();
        let kp = RsaKeypair::try_from(private.clone()).unwrap();
        (private, PrivateKey::new(KeypairData::from(kp), "").unwrap())
    })
}

fn rsa() -> &'static PrivateKey {
    &rsa_pair().1
}

fn blob(key: &PublicKey) -> Vec<u8> {
    key.to_bytes().unwrap()
}

/// A client's view: writes requests and signs as RFC 4252 §7 says, independently of
/// the crate's own `signed_data`.
struct Client {
    session_id: Vec<u8>,
    user: String,
    service: String,
}

impl Client {
    fn new(user: &str) -> Self {
        Client {
            session_id: SESSION_ID.to_vec(),
            user: user.into(),
            service: "ssh-connection".into(),
        }
    }

    fn head(&self, method: &str) -> Writer {
        let mut w = Writer::msg(50);
        w.str(&self.user).str(&self.service).str(method);
        w
    }

    fn none(&self) -> Vec<u8> {
        self.head("none").into_vec()
    }

    fn query(&self, algorithm: &str, key_blob: &[u8]) -> Vec<u8> {
        let mut w = self.head("publickey");
        w.bool(false).str(algorithm).string(key_blob);
        w.into_vec()
    }

    fn to_sign(&self, algorithm: &str, key_blob: &[u8]) -> Vec<u8> {
        let mut w = Writer::new();
        w.string(&self.session_id)
            .u8(50)
            .str(&self.user)
            .str(&self.service)
            .str("publickey")
            .bool(true)
            .str(algorithm)
            .string(key_blob);
        w.into_vec()
    }

    fn signed_with(&self, algorithm: &str, key_blob: &[u8], signature: &[u8]) -> Vec<u8> {
        let mut w = self.head("publickey");
        w.bool(true)
            .str(algorithm)
            .string(key_blob)
            .string(signature);
        w.into_vec()
    }

    fn signed(&self, algorithm: &str, key: &PrivateKey) -> Vec<u8> {
        let kb = blob(key.public_key());
        let sig = sign(key, algorithm, &self.to_sign(algorithm, &kb));
        self.signed_with(algorithm, &kb, &sig)
    }
}

/// The signature blob (`string algorithm, string signature`) made with `key`.
fn sign(key: &PrivateKey, algorithm: &str, data: &[u8]) -> Vec<u8> {
    let sig = if key.key_data().is_rsa() {
        // ssh-key 0.6.7 cannot sign with RSA (its conversion to `rsa::RsaPrivateKey`
        // passes p twice instead of p and q); sign with the rsa crate.
        assert_eq!(key.public_key(), rsa().public_key());
        let private = rsa_pair().0.clone();
        if algorithm == "ssh-rsa" {
            // ssh-key 0.6 cannot hold a SHA-1 RSA signature: build the blob by hand.
            let raw = rsa::pkcs1v15::SigningKey::<sha1::Sha1>::new(rsa_pair().0.clone())
                .sign(data)
                .to_vec();
            let mut w = Writer::new();
            w.str("ssh-rsa").string(&raw);
            return w.into_vec();
        }
        let (hash, raw) = match algorithm {
            "rsa-sha2-256" => (
                HashAlg::Sha256,
                rsa::pkcs1v15::SigningKey::<sha2::Sha256>::new(private)
                    .sign(data)
                    .to_vec(),
            ),
            _ => (
                HashAlg::Sha512,
                rsa::pkcs1v15::SigningKey::<sha2::Sha512>::new(private)
                    .sign(data)
                    .to_vec(),
            ),
        };
        ssh_key::Signature::new(Algorithm::Rsa { hash: Some(hash) }, raw).unwrap()
    } else {
        key.try_sign(data).unwrap()
    };
    assert_eq!(sig.algorithm().as_str(), algorithm);
    sig.try_into().unwrap()
}

fn methods_of(reply: &[u8]) -> Option<(String, bool)> {
    match ServerMessage::parse(reply).unwrap() {
        ServerMessage::Failure {
            methods,
            partial_success,
        } => Some((methods.as_str().to_owned(), partial_success)),
        _ => None,
    }
}

fn expect_failure(server: &mut Server) {
    let reply = server.poll_transmit().expect("a reply");
    assert_eq!(methods_of(&reply), Some(("publickey".into(), false)));
    assert!(server.poll_transmit().is_none());
}

fn expect_failed_event(server: &mut Server, counted: bool) -> Event {
    let ev = server.poll_event().expect("an event");
    match &ev {
        Event::Failed { counted: c, .. } => assert_eq!(*c, counted, "{ev:?}"),
        other => panic!("expected Failed, got {other:?}"),
    }
    assert!(server.poll_event().is_none());
    ev
}

fn all_keys() -> Vec<(&'static str, PrivateKey)> {
    vec![
        ("ssh-ed25519", ed25519(1)),
        ("ecdsa-sha2-nistp256", ecdsa(EcdsaCurve::NistP256, 2)),
        ("ecdsa-sha2-nistp384", ecdsa(EcdsaCurve::NistP384, 3)),
        ("ecdsa-sha2-nistp521", ecdsa(EcdsaCurve::NistP521, 4)),
        ("rsa-sha2-256", rsa().clone()),
        ("rsa-sha2-512", rsa().clone()),
        ("ssh-rsa", rsa().clone()),
        ("ssh-dss", dsa()),
    ]
}

#[test]
fn none_fails_listing_publickey_and_first_none_is_free() {
    let mut s = Server::new(ServerConfig::default(), SESSION_ID);
    let c = Client::new("alice");
    s.handle_message(&c.none()).unwrap();
    expect_failure(&mut s);
    expect_failed_event(&mut s, false);
    assert_eq!(s.failures(), 0);
    // A second none counts, as in OpenSSH.
    s.handle_message(&c.none()).unwrap();
    expect_failure(&mut s);
    expect_failed_event(&mut s, true);
    assert_eq!(s.failures(), 1);
}

#[test]
fn banner_precedes_first_failure_only() {
    let config = ServerConfig {
        banner: Some("Authorized use only\r\n".into()),
        ..ServerConfig::default()
    };
    let mut s = Server::new(config, SESSION_ID);
    let c = Client::new("alice");
    s.handle_message(&c.none()).unwrap();
    let first = s.poll_transmit().unwrap();
    assert_eq!(
        ServerMessage::parse(&first).unwrap(),
        ServerMessage::Banner {
            message: "Authorized use only\r\n",
            language: ""
        }
    );
    expect_failure(&mut s);
    s.handle_message(&c.none()).unwrap();
    expect_failure(&mut s);
}

#[test]
fn banner_set_before_the_first_request_replaces_the_configured_one() {
    let config = ServerConfig {
        banner: Some("configured\r\n".into()),
        ..ServerConfig::default()
    };
    let mut s = Server::new(config, SESSION_ID);
    s.set_banner(Some("for alice\r\n".into()));
    let c = Client::new("alice");
    s.handle_message(&c.none()).unwrap();
    assert_eq!(
        ServerMessage::parse(&s.poll_transmit().unwrap()).unwrap(),
        ServerMessage::Banner {
            message: "for alice\r\n",
            language: ""
        }
    );
    expect_failure(&mut s);
    // Too late now: no banner again, and none replaced.
    s.set_banner(Some("late".into()));
    s.handle_message(&c.none()).unwrap();
    expect_failure(&mut s);
    // And none at all when the daemon says so.
    let mut s = Server::new(
        ServerConfig {
            banner: Some("configured".into()),
            ..ServerConfig::default()
        },
        SESSION_ID,
    );
    s.set_banner(None);
    s.handle_message(&c.none()).unwrap();
    expect_failure(&mut s);
}

/// A configuration that accepts every algorithm this crate verifies, legacy ones too.
fn every_algorithm() -> ServerConfig {
    ServerConfig {
        pubkey_algorithms: sisu_userauth::publickey::PubkeyAlgorithm::ALL
            .iter()
            .map(|a| a.name().to_owned())
            .collect(),
        ..ServerConfig::default()
    }
}

/// `ssh-rsa` and `ssh-dss` are verified only when configured: by default their requests
/// fail without a question.
#[test]
fn legacy_algorithms_only_when_configured() {
    for (alg, key) in [("ssh-rsa", rsa().clone()), ("ssh-dss", dsa())] {
        let c = Client::new("alice");
        let mut s = Server::new(ServerConfig::default(), SESSION_ID);
        s.handle_message(&c.signed(alg, &key)).unwrap();
        expect_failure(&mut s);
        expect_failed_event(&mut s, true);
        let mut s = Server::new(every_algorithm(), SESSION_ID);
        s.handle_message(&c.signed(alg, &key)).unwrap();
        assert!(
            matches!(s.poll_event(), Some(Event::KeyVerified { .. })),
            "{alg}"
        );
        // A signature by another key of the same type does not verify.
        let mut s = Server::new(every_algorithm(), SESSION_ID);
        let other = if alg == "ssh-dss" {
            dsa_other()
        } else {
            ed25519(99)
        };
        if alg == "ssh-dss" {
            let kb = blob(key.public_key());
            let sig = sign(&other, alg, &c.to_sign(alg, &kb));
            s.handle_message(&c.signed_with(alg, &kb, &sig)).unwrap();
            expect_failure(&mut s);
        }
    }
}

fn dsa() -> PrivateKey {
    static KEY: OnceLock<PrivateKey> = OnceLock::new();
    KEY.get_or_init(|| PrivateKey::random(&mut rng(1024), Algorithm::Dsa).unwrap())
        .clone()
}

fn dsa_other() -> PrivateKey {
    static KEY: OnceLock<PrivateKey> = OnceLock::new();
    KEY.get_or_init(|| PrivateKey::random(&mut rng(1025), Algorithm::Dsa).unwrap())
        .clone()
}

#[test]
fn query_then_signed_request_for_every_algorithm() {
    for (alg, key) in all_keys() {
        let mut s = Server::new(every_algorithm(), SESSION_ID);
        let c = Client::new("alice");
        let kb = blob(key.public_key());

        s.handle_message(&c.query(alg, &kb)).unwrap();
        assert!(
            s.poll_transmit().is_none(),
            "{alg}: nothing before the answer"
        );
        match s.poll_event() {
            Some(Event::KeyOffered {
                user,
                algorithm,
                key: offered,
                key_blob,
            }) => {
                assert_eq!(user, "alice");
                assert_eq!(algorithm, alg);
                assert_eq!(offered.key_data(), key.public_key().key_data());
                assert_eq!(key_blob, kb);
            }
            other => panic!("{alg}: expected KeyOffered, got {other:?}"),
        }
        s.answer(true).unwrap();
        let pk_ok = s.poll_transmit().unwrap();
        assert_eq!(
            ServerMessage::parse(&pk_ok).unwrap(),
            ServerMessage::PkOk {
                algorithm: alg,
                key_blob: &kb
            },
            "{alg}"
        );
        assert!(
            s.is_authenticated().is_none(),
            "{alg}: PK_OK is not success"
        );

        s.handle_message(&c.signed(alg, &key)).unwrap();
        match s.poll_event() {
            Some(Event::KeyVerified {
                user,
                algorithm,
                key: verified,
                request,
            }) => {
                assert_eq!(user, "alice");
                // The monitor's second check of the same request holds, for this
                // session only.
                let again = request.verify(SESSION_ID, &[alg]).unwrap();
                assert_eq!(again.key_data(), key.public_key().key_data());
                assert!(request.verify(b"another session", &[alg]).is_err());
                assert_eq!(algorithm, alg);
                assert_eq!(verified.key_data(), key.public_key().key_data());
            }
            other => panic!("{alg}: expected KeyVerified, got {other:?}"),
        }
        assert!(s.poll_transmit().is_none());
        s.answer(true).unwrap();
        assert_eq!(
            ServerMessage::parse(&s.poll_transmit().unwrap()).unwrap(),
            ServerMessage::Success
        );
        assert!(matches!(
            s.poll_event(),
            Some(Event::Success { ref user, ref method, key: Some(_) })
                if user == "alice" && method == "publickey"
        ));
        let auth = s.is_authenticated().expect("authenticated");
        assert_eq!(auth.user, "alice");
        assert_eq!(auth.service, "ssh-connection");
        assert_eq!(auth.method, Method::PublicKey);
        assert_eq!(
            auth.key.as_ref().unwrap().key_data(),
            key.public_key().key_data()
        );
    }
}

#[test]
fn signed_request_without_query_is_accepted() {
    let key = ed25519(7);
    let mut s = Server::new(ServerConfig::default(), SESSION_ID);
    s.handle_message(&Client::new("bob").signed("ssh-ed25519", &key))
        .unwrap();
    assert!(matches!(s.poll_event(), Some(Event::KeyVerified { .. })));
    s.answer(true).unwrap();
    assert!(s.is_authenticated().is_some());
}

#[test]
fn bad_signatures_fail_without_asking() {
    let key = ed25519(1);
    let other = ed25519(2);
    let c = Client::new("alice");
    let kb = blob(key.public_key());
    let good = sign(&key, "ssh-ed25519", &c.to_sign("ssh-ed25519", &kb));

    let mut tampered = good.clone();
    let last = tampered.len() - 1;
    tampered[last] ^= 1;
    let by_other_key = sign(&other, "ssh-ed25519", &c.to_sign("ssh-ed25519", &kb));
    let wrong_session = {
        let mut c2 = Client::new("alice");
        c2.session_id = b"another session".to_vec();
        sign(&key, "ssh-ed25519", &c2.to_sign("ssh-ed25519", &kb))
    };
    let wrong_user = sign(
        &key,
        "ssh-ed25519",
        &Client::new("mallory").to_sign("ssh-ed25519", &kb),
    );
    let mut trailing = good.clone();
    trailing.push(0);

    for bad in [
        tampered,
        by_other_key,
        wrong_session,
        wrong_user,
        trailing,
        vec![],
    ] {
        let mut s = Server::new(ServerConfig::default(), SESSION_ID);
        s.handle_message(&c.signed_with("ssh-ed25519", &kb, &bad))
            .unwrap();
        expect_failure(&mut s);
        expect_failed_event(&mut s, true);
        assert!(!s.is_pending());
        assert!(s.is_authenticated().is_none());
    }

    // The good signature does verify (the cases above fail for their flaw alone).
    let mut s = Server::new(ServerConfig::default(), SESSION_ID);
    s.handle_message(&c.signed_with("ssh-ed25519", &kb, &good))
        .unwrap();
    assert!(matches!(s.poll_event(), Some(Event::KeyVerified { .. })));
}

#[test]
fn algorithm_not_accepted_fails_without_asking() {
    let config = ServerConfig {
        pubkey_algorithms: vec!["ssh-ed25519".into()],
        ..ServerConfig::default()
    };
    let c = Client::new("alice");
    let kb = blob(rsa().public_key());
    for msg in [
        c.query("rsa-sha2-256", &kb),
        c.signed("rsa-sha2-512", rsa()),
        // Names this crate cannot verify are never accepted, even when configured.
        c.query("rsa-sha2-256-cert-v01@openssh.com", &kb),
        // ssh-rsa is accepted only when configured; here it is not.
        c.query("ssh-rsa", &kb),
    ] {
        let mut cfg = config.clone();
        cfg.pubkey_algorithms
            .push("rsa-sha2-256-cert-v01@openssh.com".into());
        let mut s = Server::new(cfg, SESSION_ID);
        s.handle_message(&msg).unwrap();
        expect_failure(&mut s);
        match expect_failed_event(&mut s, true) {
            Event::Failed { key: Some(k), .. } => {
                assert_eq!(k.key_data(), rsa().public_key().key_data())
            }
            other => panic!("key should be reported: {other:?}"),
        }
    }
}

#[test]
fn algorithm_and_key_mismatch_fails() {
    let ed = ed25519(1);
    let p384 = ecdsa(EcdsaCurve::NistP384, 3);
    let c = Client::new("alice");
    let ed_blob = blob(ed.public_key());
    let p384_blob = blob(p384.public_key());
    let rsa_blob = blob(rsa().public_key());
    // An RSA signature made with SHA-512 offered as rsa-sha2-256.
    let sha512_sig = sign(rsa(), "rsa-sha2-512", &c.to_sign("rsa-sha2-256", &rsa_blob));
    let cases = [
        c.query("rsa-sha2-256", &ed_blob),
        c.query("ecdsa-sha2-nistp256", &p384_blob),
        c.query("ssh-ed25519", &rsa_blob),
        c.query("ssh-ed25519", b"not a key blob"),
        c.signed_with("rsa-sha2-256", &rsa_blob, &sha512_sig),
    ];
    for msg in cases {
        let mut s = Server::new(ServerConfig::default(), SESSION_ID);
        s.handle_message(&msg).unwrap();
        expect_failure(&mut s);
        expect_failed_event(&mut s, true);
    }
}

#[test]
fn refused_query_counts_and_max_auth_tries_disconnects() {
    let config = ServerConfig {
        max_tries: 3,
        ..ServerConfig::default()
    };
    let mut s = Server::new(config, SESSION_ID);
    let c = Client::new("alice");
    s.handle_message(&c.none()).unwrap(); // free
    expect_failure(&mut s);
    for i in 0..3u64 {
        let key = ed25519(100 + i);
        s.handle_message(&c.query("ssh-ed25519", &blob(key.public_key())))
            .unwrap();
        assert!(s.is_pending());
        let r = s.answer(false);
        if i < 2 {
            r.unwrap();
            expect_failure(&mut s);
        } else {
            let err = r.unwrap_err();
            assert_eq!(err, AuthError::TooManyFailures);
            assert_eq!(err.reason(), 2);
            assert_eq!(err.to_string(), "Too many authentication failures");
            // OpenSSH disconnects instead of sending the last FAILURE.
            assert!(s.poll_transmit().is_none());
        }
    }
    // Sticky: nothing more is processed.
    assert_eq!(s.handle_message(&c.none()), Err(AuthError::TooManyFailures));
    assert_eq!(s.answer(true), Err(AuthError::TooManyFailures));
    assert!(s.poll_transmit().is_none());
}

#[test]
fn offered_key_is_never_reported_as_verified() {
    let key = ed25519(1);
    let c = Client::new("alice");
    let kb = blob(key.public_key());
    let mut s = Server::new(ServerConfig::default(), SESSION_ID);
    s.handle_message(&c.query("ssh-ed25519", &kb)).unwrap();
    s.answer(true).unwrap();
    // Answering again with nothing pending does nothing.
    s.answer(true).unwrap();
    // A "signed" request whose signature is garbage.
    s.handle_message(&c.signed_with("ssh-ed25519", &kb, &[0; 83]))
        .unwrap();
    s.answer(true).unwrap();
    let mut events = vec![];
    while let Some(e) = s.poll_event() {
        events.push(e);
    }
    assert!(matches!(events[0], Event::KeyOffered { .. }));
    assert!(matches!(events[1], Event::Failed { .. }));
    assert_eq!(events.len(), 2);
    assert!(s.is_authenticated().is_none());
    let replies: Vec<_> = std::iter::from_fn(|| s.poll_transmit()).collect();
    assert!(matches!(
        ServerMessage::parse(&replies[0]).unwrap(),
        ServerMessage::PkOk { .. }
    ));
    assert!(methods_of(&replies[1]).is_some());
    assert_eq!(replies.len(), 2);
}

#[test]
fn denied_verified_key_fails() {
    let mut s = Server::new(ServerConfig::default(), SESSION_ID);
    let c = Client::new("alice");
    s.handle_message(&c.signed("ssh-ed25519", &ed25519(1)))
        .unwrap();
    assert!(matches!(s.poll_event(), Some(Event::KeyVerified { .. })));
    s.answer(false).unwrap();
    expect_failure(&mut s);
    expect_failed_event(&mut s, true);
    assert!(s.is_authenticated().is_none());
}

#[test]
fn change_of_user_or_service_disconnects() {
    for (user, service) in [("bob", "ssh-connection"), ("alice", "other-service")] {
        let mut s = Server::new(ServerConfig::default(), SESSION_ID);
        s.handle_message(&Client::new("alice").none()).unwrap();
        let mut c = Client::new(user);
        c.service = service.into();
        let err = s.handle_message(&c.none()).unwrap_err();
        assert_eq!(err.reason(), 2);
        assert_eq!(
            err.to_string(),
            format!(
                "Change of username or service not allowed: (alice,ssh-connection) -> ({user},{service})"
            )
        );
    }
}

#[test]
fn other_service_never_authenticates() {
    let key = ed25519(1);
    let mut c = Client::new("alice");
    c.service = "ssh-userauth".into();
    let mut s = Server::new(ServerConfig::default(), SESSION_ID);
    s.handle_message(&c.signed("ssh-ed25519", &key)).unwrap();
    expect_failure(&mut s);
    expect_failed_event(&mut s, true);
}

#[test]
fn unknown_and_disabled_methods_fail_and_count() {
    let mut s = Server::new(ServerConfig::default(), SESSION_ID);
    let c = Client::new("alice");
    s.handle_message(&c.head("gssapi-with-mic").into_vec())
        .unwrap();
    expect_failure(&mut s);
    assert!(matches!(expect_failed_event(&mut s, true),
        Event::Failed { method, .. } if method == "gssapi-with-mic"));

    // publickey not allowed: fails, and FAILURE lists what is.
    let config = ServerConfig {
        methods: vec![Method::Password, Method::KeyboardInteractive],
        ..ServerConfig::default()
    };
    let mut s = Server::new(config, SESSION_ID);
    s.handle_message(&c.signed("ssh-ed25519", &ed25519(1)))
        .unwrap();
    let reply = s.poll_transmit().unwrap();
    assert_eq!(
        methods_of(&reply),
        Some(("password,keyboard-interactive".into(), false))
    );
    expect_failed_event(&mut s, true);
}

#[test]
fn messages_while_pending_wait_for_the_answer() {
    let mut s = Server::new(ServerConfig::default(), SESSION_ID);
    let c = Client::new("alice");
    let k1 = ed25519(1);
    let k2 = ed25519(2);
    s.handle_message(&c.query("ssh-ed25519", &blob(k1.public_key())))
        .unwrap();
    s.handle_message(&c.query("ssh-ed25519", &blob(k2.public_key())))
        .unwrap();
    s.handle_message(&c.none()).unwrap();
    // Only the first question so far.
    assert!(
        matches!(s.poll_event(), Some(Event::KeyOffered { ref key, .. }) if key.key_data() == k1.public_key().key_data())
    );
    assert!(s.poll_event().is_none());
    assert!(s.poll_transmit().is_none());
    s.answer(false).unwrap();
    expect_failure(&mut s);
    assert!(matches!(s.poll_event(), Some(Event::Failed { .. })));
    // The second query is now the pending question; the none still waits behind it.
    assert!(
        matches!(s.poll_event(), Some(Event::KeyOffered { ref key, .. }) if key.key_data() == k2.public_key().key_data())
    );
    s.answer(true).unwrap();
    let replies: Vec<_> = std::iter::from_fn(|| s.poll_transmit()).collect();
    assert_eq!(replies.len(), 2);
    assert!(matches!(
        ServerMessage::parse(&replies[0]).unwrap(),
        ServerMessage::PkOk { .. }
    ));
    assert!(methods_of(&replies[1]).is_some());
}

#[test]
fn pending_queue_is_bounded() {
    let mut s = Server::new(ServerConfig::default(), SESSION_ID);
    let c = Client::new("alice");
    s.handle_message(&c.query("ssh-ed25519", &blob(ed25519(1).public_key())))
        .unwrap();
    for _ in 0..MAX_PENDING_MESSAGES {
        s.handle_message(&c.none()).unwrap();
    }
    assert_eq!(s.handle_message(&c.none()), Err(AuthError::TooManyPending));
}

#[test]
fn requests_after_success_are_ignored() {
    let mut s = Server::new(ServerConfig::default(), SESSION_ID);
    let c = Client::new("alice");
    let key = ed25519(1);
    s.handle_message(&c.signed("ssh-ed25519", &key)).unwrap();
    // Queued behind the question, then ignored after success.
    s.handle_message(&c.none()).unwrap();
    s.answer(true).unwrap();
    let _ = std::iter::from_fn(|| s.poll_event()).count();
    assert_eq!(
        ServerMessage::parse(&s.poll_transmit().unwrap()).unwrap(),
        ServerMessage::Success
    );
    s.handle_message(&c.none()).unwrap();
    s.handle_message(&Client::new("root").signed("ssh-ed25519", &key))
        .unwrap();
    assert!(s.poll_transmit().is_none());
    assert!(s.poll_event().is_none());
    assert_eq!(s.is_authenticated().unwrap().user, "alice");
    // Messages outside 50..=79 are a routing error even after success.
    assert_eq!(
        s.handle_message(&[94]),
        Err(AuthError::UnexpectedMessage(94))
    );
}

#[test]
fn unexpected_and_malformed_messages_disconnect() {
    let mut s = Server::new(ServerConfig::default(), SESSION_ID);
    assert_eq!(
        s.handle_message(&[61]),
        Err(AuthError::UnexpectedMessage(61))
    );
    let mut s = Server::new(ServerConfig::default(), SESSION_ID);
    assert_eq!(
        s.handle_message(&[94]),
        Err(AuthError::UnexpectedMessage(94))
    );
    let mut s = Server::new(ServerConfig::default(), SESSION_ID);
    let err = s.handle_message(&[50, 0, 0, 0]).unwrap_err();
    assert!(matches!(err, AuthError::Malformed { .. }));
    assert_eq!(err.reason(), 2);
    let mut s = Server::new(ServerConfig::default(), SESSION_ID);
    assert!(s.handle_message(&[]).is_err());
}

/// RSA signatures shorter than the modulus (a leading zero byte dropped, as some
/// clients send them) are padded as OpenSSH does.
#[test]
fn short_rsa_signature_is_padded() {
    let kb = blob(rsa().public_key());
    for i in 0..4000u32 {
        let mut c = Client::new("alice");
        c.session_id = i.to_be_bytes().to_vec();
        let data = c.to_sign("rsa-sha2-512", &kb);
        let sig = sign(rsa(), "rsa-sha2-512", &data);
        // string "rsa-sha2-512" (4 + 12 bytes), then the length of the raw signature.
        let raw = &sig[20..];
        assert_eq!(raw.len(), 256);
        if raw[0] != 0 {
            continue;
        }
        let mut short = Writer::new();
        short.str("rsa-sha2-512").string(&raw[1..]);
        let short = short.into_vec();
        let mut s = Server::new(ServerConfig::default(), &c.session_id);
        s.handle_message(&c.signed_with("rsa-sha2-512", &kb, &short))
            .unwrap();
        assert!(matches!(s.poll_event(), Some(Event::KeyVerified { .. })));
        return;
    }
    panic!("no signature with a leading zero byte in 4000 tries");
}

/// The messages a fuzzing client picks from: real requests and junk.
fn message_pool() -> Vec<Vec<u8>> {
    let key = ed25519(1);
    let c = Client::new("alice");
    let kb = blob(key.public_key());
    vec![
        c.none(),
        c.query("ssh-ed25519", &kb),
        c.signed("ssh-ed25519", &key),
        c.signed_with("ssh-ed25519", &kb, &[1, 2, 3]),
        c.query("rsa-sha2-256", &kb),
        c.head("password").into_vec(),
        Client::new("bob").none(),
        vec![50],
        vec![60, 0, 0],
    ]
}

#[derive(Debug, Clone)]
enum Step {
    Pool(usize),
    Junk(Vec<u8>),
    Answer(bool),
    Drain,
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        3 => (0..9usize).prop_map(Step::Pool),
        1 => proptest::collection::vec(any::<u8>(), 0..64).prop_map(|mut v| {
            if let Some(b) = v.first_mut() {
                *b = 50 + *b % 30;
            }
            Step::Junk(v)
        }),
        2 => any::<bool>().prop_map(Step::Answer),
        1 => Just(Step::Drain),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_payloads_never_panic(data in proptest::collection::vec(any::<u8>(), 0..512)) {
        let mut s = Server::new(ServerConfig::default(), SESSION_ID);
        let _ = s.handle_message(&data);
        let mut with_number = vec![50];
        with_number.extend_from_slice(&data);
        let mut s = Server::new(ServerConfig::default(), SESSION_ID);
        let _ = s.handle_message(&with_number);
    }

    /// Random interleavings of requests, junk and answers: no panic, queues stay within
    /// their bounds, errors are sticky, and success happens only after a KeyVerified
    /// question was allowed.
    #[test]
    fn random_sessions_respect_bounds_and_only_verified_keys_succeed(
        steps in proptest::collection::vec(step(), 0..80)
    ) {
        let pool = message_pool();
        let config = ServerConfig { max_tries: 1000, ..ServerConfig::default() };
        let mut s = Server::new(config, SESSION_ID);
        // Whether the question pending now (the last one seen) is KeyVerified.
        let mut pending_is_verified = false;
        let mut verified_allowed = false;
        for st in steps {
            let r = match st {
                Step::Pool(i) => s.handle_message(&pool[i]),
                Step::Junk(v) => s.handle_message(&v),
                Step::Answer(allow) => {
                    if s.is_pending() && allow && pending_is_verified {
                        verified_allowed = true;
                    }
                    s.answer(allow)
                }
                Step::Drain => {
                    let n = std::iter::from_fn(|| s.poll_transmit()).count();
                    prop_assert!(n <= MAX_TRANSMIT_QUEUE);
                    Ok(())
                }
            };
            let mut events = 0;
            while let Some(ev) = s.poll_event() {
                events += 1;
                match ev {
                    Event::KeyOffered { .. } => pending_is_verified = false,
                    Event::KeyVerified { .. } => pending_is_verified = true,
                    Event::Success { .. } => prop_assert!(verified_allowed),
                    Event::Failed { .. } => {}
                    Event::PasswordOffered { .. }
                    | Event::KbdInteractive { .. }
                    | Event::InfoResponse { .. }
                    | Event::HostbasedVerified { .. } => {
                        prop_assert!(false, "only publickey is enabled here")
                    }
                }
            }
            prop_assert!(events <= MAX_EVENT_QUEUE);
            if s.is_authenticated().is_some() {
                prop_assert!(verified_allowed);
            }
            if let Err(e) = r {
                prop_assert_eq!(s.handle_message(&pool[0]), Err(e.clone()));
                prop_assert_eq!(s.answer(true), Err(e));
                break;
            }
        }
        let n = std::iter::from_fn(|| s.poll_transmit()).count();
        prop_assert!(n <= MAX_TRANSMIT_QUEUE);
    }
}

#[test]
fn attempts_are_capped_even_when_max_tries_is_huge() {
    let config = ServerConfig {
        max_tries: u32::MAX,
        ..ServerConfig::default()
    };
    let mut s = Server::new(config, SESSION_ID);
    let c = Client::new("alice");
    for _ in 0..sisu_userauth::limits::MAX_ATTEMPTS {
        s.handle_message(&c.none()).unwrap();
        while s.poll_transmit().is_some() {}
        while s.poll_event().is_some() {}
    }
    assert_eq!(s.handle_message(&c.none()), Err(AuthError::TooManyFailures));
}

#[test]
fn undrained_queues_are_bounded() {
    let config = ServerConfig {
        max_tries: u32::MAX,
        ..ServerConfig::default()
    };
    let mut s = Server::new(config, SESSION_ID);
    let c = Client::new("alice");
    let mut n = 0;
    let err = loop {
        match s.handle_message(&c.none()) {
            Ok(()) => n += 1,
            Err(e) => break e,
        }
    };
    assert_eq!(n, MAX_EVENT_QUEUE.min(MAX_TRANSMIT_QUEUE));
    assert!(matches!(err, AuthError::QueueFull(_)));
    assert_eq!(err.reason(), 11); // SSH_DISCONNECT_BY_APPLICATION
}

/// `AuthenticationMethods publickey,publickey`: the first verified key is a partial
/// success (FAILURE with partial success set, not counted), the second a success.
#[test]
fn partial_success_then_success_with_a_second_key() {
    use sisu_userauth::Answer;
    let config = ServerConfig {
        max_tries: 1,
        ..ServerConfig::default()
    };
    let mut s = Server::new(config, SESSION_ID);
    let c = Client::new("alice");
    let (k1, k2) = (ed25519(11), ed25519(12));
    s.handle_message(&c.signed("ssh-ed25519", &k1)).unwrap();
    assert!(matches!(s.poll_event(), Some(Event::KeyVerified { .. })));
    s.answer_with(Answer::Partial).unwrap();
    let reply = s.poll_transmit().expect("a reply");
    assert_eq!(methods_of(&reply), Some(("publickey".into(), true)));
    assert!(
        s.poll_event().is_none(),
        "a partial success is no failure event"
    );
    assert_eq!(
        s.failures(),
        0,
        "and is not counted (max_tries 1 would end it)"
    );
    assert!(s.is_authenticated().is_none());
    // A mere query answered Partial is a refusal, and counts.
    let mut q = Server::new(ServerConfig::default(), SESSION_ID);
    q.handle_message(&c.query("ssh-ed25519", &blob(k1.public_key())))
        .unwrap();
    assert!(matches!(q.poll_event(), Some(Event::KeyOffered { .. })));
    q.answer_with(Answer::Partial).unwrap();
    expect_failure(&mut q);
    expect_failed_event(&mut q, true);
    // The second key completes authentication.
    s.handle_message(&c.signed("ssh-ed25519", &k2)).unwrap();
    assert!(matches!(s.poll_event(), Some(Event::KeyVerified { .. })));
    s.answer_with(Answer::Allow).unwrap();
    assert!(matches!(s.poll_event(), Some(Event::Success { .. })));
    assert_eq!(
        ServerMessage::parse(&s.poll_transmit().unwrap()).unwrap(),
        ServerMessage::Success
    );
    assert_eq!(s.is_authenticated().unwrap().user, "alice");
}

/// `alice:style` is alice: events name alice, a later `alice` request is the same user,
/// and the signature covers the name as the client sent it.
#[test]
fn user_style_is_stripped_but_signed_as_sent() {
    let mut s = Server::new(ServerConfig::default(), SESSION_ID);
    let styled = Client::new("alice:otp");
    s.handle_message(&styled.none()).unwrap();
    expect_failure(&mut s);
    match expect_failed_event(&mut s, false) {
        Event::Failed { user, .. } => assert_eq!(user, "alice"),
        other => panic!("{other:?}"),
    }
    let key = ed25519(21);
    s.handle_message(&styled.signed("ssh-ed25519", &key))
        .unwrap();
    match s.poll_event() {
        Some(Event::KeyVerified { user, .. }) => assert_eq!(user, "alice"),
        other => panic!("{other:?}"),
    }
    s.answer(true).unwrap();
    assert_eq!(s.is_authenticated().unwrap().user, "alice");
    // A plain `alice` after `alice:otp` is no change of user.
    let mut s = Server::new(ServerConfig::default(), SESSION_ID);
    s.handle_message(&styled.none()).unwrap();
    s.handle_message(&Client::new("alice").none()).unwrap();
    assert!(s.poll_event().is_some());
}
