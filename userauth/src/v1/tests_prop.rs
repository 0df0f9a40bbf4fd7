//! Property tests: the client and server machines against each other in memory under
//! a random fake policy, and the server under random input and answers.

use super::client::{V1Attempt, V1AuthClient};
use super::message::ClientMessage;
use super::rsa_challenge::{expected_response, new_challenge, public_key, response_matches};
use super::tests::keys;
use super::*;
use proptest::prelude::*;
use rand::rngs::StdRng;
use rand::SeedableRng;
use rsa::traits::PublicKeyParts;
use sisu_wire::v1::msg;

/// A fake daemon policy.
#[derive(Debug, Clone)]
struct Policy {
    known: bool,
    /// Indices into `keys()` in the user's authorized_keys.
    authorized: Vec<bool>,
    /// Indices into `keys()` of known hosts that rhosts admits.
    hosts: Vec<bool>,
    password: &'static str,
    /// Refuses a method after it verified (PermitRootLogin, PAM account).
    deny_after_verify: bool,
}

/// One attempt the client makes, by index.
#[derive(Debug, Clone, Copy)]
enum Plan {
    Rsa(usize),
    Password(usize),
    RhostsRsa(usize),
}

const PASSWORDS: [&str; 3] = ["right", "wrong", ""];

fn policy() -> impl Strategy<Value = Policy> {
    (
        prop::bool::weighted(0.8),
        proptest::collection::vec(any::<bool>(), 3),
        proptest::collection::vec(any::<bool>(), 3),
        0..PASSWORDS.len(),
        prop::bool::weighted(0.2),
    )
        .prop_map(|(known, authorized, hosts, pw, deny)| Policy {
            known,
            authorized,
            hosts,
            password: PASSWORDS[pw],
            deny_after_verify: deny,
        })
}

fn plan() -> impl Strategy<Value = Vec<Plan>> {
    proptest::collection::vec(
        prop_oneof![
            (0..3usize).prop_map(Plan::Rsa),
            (0..PASSWORDS.len()).prop_map(Plan::Password),
            (0..3usize).prop_map(Plan::RhostsRsa),
        ],
        0..10,
    )
}

fn config() -> impl Strategy<Value = V1AuthConfig> {
    (any::<bool>(), any::<bool>(), any::<bool>(), 0..8u32).prop_map(
        |(rsa, password, rhosts_rsa, max_tries)| V1AuthConfig {
            rsa,
            password,
            rhosts_rsa,
            max_tries,
        },
    )
}

/// Whether the policy grants this attempt (and the config enables it).
fn grants(config: &V1AuthConfig, policy: &Policy, p: Plan) -> bool {
    let allowed = match p {
        Plan::Rsa(i) => config.rsa && policy.authorized[i],
        Plan::Password(i) => config.password && PASSWORDS[i] == policy.password,
        Plan::RhostsRsa(i) => config.rhosts_rsa && policy.hosts[i],
    };
    allowed && policy.known && !policy.deny_after_verify
}

fn key_index(modulus: &[u8]) -> Option<usize> {
    keys().iter().position(|k| k.n().to_bytes_be() == modulus)
}

const SID: [u8; 16] = [0xa5; 16];

/// The outcome of one run.
#[derive(Debug, PartialEq, Eq)]
enum End {
    Success(V1Method),
    TooMany,
    GaveUp,
}

fn run(
    config: V1AuthConfig,
    policy: &Policy,
    plan: &[Plan],
    seed: u64,
) -> Result<End, TestCaseError> {
    let mut rng = StdRng::seed_from_u64(seed);
    let attempts = plan
        .iter()
        .map(|p| match *p {
            Plan::Rsa(i) => V1Attempt::Rsa(keys()[i].clone()),
            Plan::Password(i) => V1Attempt::password(PASSWORDS[i]),
            Plan::RhostsRsa(i) => V1Attempt::RhostsRsa {
                client_user: "alice".into(),
                host_key: keys()[i].clone(),
            },
        })
        .collect();
    let mut client = V1AuthClient::new("alice", SID, attempts);
    let mut server = V1AuthServer::new(config);
    // The challenge out, with the key index it was made for.
    let mut challenge = None;
    let mut failures_sent = 0u32;
    let mut failed_events = 0u32;
    let mut too_many = false;
    for _ in 0..100 {
        let Some((t, p)) = client.poll_transmit() else {
            break;
        };
        server.handle_message(msg::MSG_IGNORE, b"noise").unwrap();
        prop_assert!(server.handle_message(t, &p).is_ok());
        // Whether the last answer was a positive verdict of a verified method.
        let mut verified_yes = false;
        while let Some(ev) = server.poll_event() {
            let question = !matches!(
                ev,
                V1AuthEvent::Failed { .. }
                    | V1AuthEvent::Authenticated { .. }
                    | V1AuthEvent::TooManyFailures { .. }
            );
            if question {
                // A question blocks input until it is answered.
                prop_assert!(server.awaiting_answer());
                prop_assert!(server.poll_transmit().is_none());
                let mut probe = server.clone();
                prop_assert_eq!(
                    probe.handle_message(msg::CMSG_AUTH_TIS, b""),
                    Err(V1AuthError::WhilePending(msg::CMSG_AUTH_TIS))
                );
                prop_assert!(probe.poll_event().is_none() && probe.poll_transmit().is_none());
            }
            match ev {
                V1AuthEvent::User { name } => {
                    prop_assert_eq!(name, "alice");
                    server.answer_user(policy.known);
                }
                V1AuthEvent::Password { password, .. } => {
                    prop_assert!(config.password);
                    let ok = password.as_str() == policy.password && !policy.deny_after_verify;
                    verified_yes = ok;
                    server.answer_password(ok);
                }
                V1AuthEvent::RsaKeyOffered { modulus, .. } => {
                    prop_assert!(config.rsa);
                    let i = key_index(&modulus);
                    match i.filter(|&i| policy.authorized[i]) {
                        Some(i) => {
                            let k = &keys()[i];
                            let public = public_key(&k.e().to_bytes_be(), &modulus).unwrap();
                            let (c, enc) = new_challenge(&public, &mut rng).unwrap();
                            challenge = Some(c);
                            server.answer_rsa_key(Some(enc));
                        }
                        None => server.answer_rsa_key(None),
                    }
                }
                V1AuthEvent::RhostsRsa {
                    modulus, exponent, ..
                } => {
                    prop_assert!(config.rhosts_rsa);
                    match key_index(&modulus).filter(|&i| policy.hosts[i]) {
                        Some(_) => {
                            let public = public_key(&exponent, &modulus).unwrap();
                            let (c, enc) = new_challenge(&public, &mut rng).unwrap();
                            challenge = Some(c);
                            server.answer_rhosts_rsa(Some(enc));
                        }
                        None => server.answer_rhosts_rsa(None),
                    }
                }
                V1AuthEvent::RsaResponse { response, .. } => {
                    // Only after a challenge, which only a known user gets.
                    prop_assert!(policy.known);
                    let c = challenge.take();
                    prop_assert!(c.is_some());
                    let matched = c
                        .is_some_and(|c| response_matches(&expected_response(&c, &SID), &response));
                    // The honest client always answers right.
                    prop_assert!(matched);
                    let ok = matched && !policy.deny_after_verify;
                    verified_yes = ok;
                    server.answer_rsa_response(ok);
                }
                V1AuthEvent::Failed { .. } => failed_events += 1,
                V1AuthEvent::Authenticated { .. } => {}
                V1AuthEvent::TooManyFailures { .. } => too_many = true,
            }
            // The reply to each question goes out before the next question.
        }
        while let Some((t, p)) = server.poll_transmit() {
            if t == msg::SMSG_SUCCESS {
                // SUCCESS only right after a positive verdict for a known user.
                prop_assert!(verified_yes && policy.known);
            }
            if t == msg::SMSG_FAILURE {
                failures_sent += 1;
            }
            prop_assert!(client.handle_message(t, &p).is_ok());
        }
        // Never more than max_tries failures; the last one ends it, unreplied.
        prop_assert!(failed_events <= config.max_tries.max(1));
        prop_assert_eq!(
            too_many,
            failed_events >= config.max_tries.max(1) && failed_events > 0
        );
        prop_assert_eq!(failures_sent, 1 + failed_events - u32::from(too_many));
        if too_many {
            prop_assert!(server.handle_message(msg::CMSG_AUTH_PASSWORD, b"").is_err());
            prop_assert!(server.authenticated().is_none());
            return Ok(End::TooMany);
        }
        if let Some(m) = client.authenticated() {
            prop_assert_eq!(server.authenticated(), Some("alice"));
            return Ok(End::Success(m));
        }
    }
    prop_assert!(client.is_done());
    prop_assert!(server.authenticated().is_none());
    Ok(End::GaveUp)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn client_and_server_agree_with_the_policy(
        config in config(),
        policy in policy(),
        plan in plan(),
        seed in any::<u64>(),
    ) {
        let end = run(config, &policy, &plan, seed)?;
        // What should have happened: the first granted attempt wins, if it comes
        // before max_tries failures.
        let first = plan.iter().position(|p| grants(&config, &policy, *p));
        let expected = match first {
            Some(j) if (j as u32) < config.max_tries => End::Success(match plan[j] {
                Plan::Rsa(_) => V1Method::Rsa,
                Plan::Password(_) => V1Method::Password,
                Plan::RhostsRsa(_) => V1Method::RhostsRsa,
            }),
            _ if plan.len() as u32 >= config.max_tries.max(1) => End::TooMany,
            _ => End::GaveUp,
        };
        prop_assert_eq!(end, expected);
    }
}

/// One step of a random session against the server.
#[derive(Debug, Clone)]
enum Op {
    /// A message; when a question is out and `auto` holds, the question is answered
    /// first with `yes` (most clients wait for the reply, so most runs go deep).
    Msg {
        msg_type: u8,
        payload: Vec<u8>,
        auto: bool,
        yes: bool,
    },
    /// Answers whatever is out (every `answer_*` is called; only the matching one acts).
    Answer(bool, Option<Vec<u8>>),
    /// One answer of a random kind, whatever is out.
    Stray(u8, bool, Option<Vec<u8>>),
}

fn message() -> impl Strategy<Value = (u8, Vec<u8>)> {
    let n = || keys()[0].n().to_bytes_be();
    prop_oneof![
        // Anything at all.
        (any::<u8>(), proptest::collection::vec(any::<u8>(), 0..64)),
        // A type that matters, with random bytes.
        (
            prop::sample::select(vec![1u8, 4, 5, 6, 8, 9, 32, 35, 36, 39, 41]),
            proptest::collection::vec(any::<u8>(), 0..40)
        ),
        // Well-formed messages.
        "[a-z:]{0,12}".prop_map(|s| {
            let (t, p) = ClientMessage::User { name: &s }.encode();
            (t, p.to_vec())
        }),
        proptest::collection::vec(any::<u8>(), 0..20).prop_map(|pw| {
            let (t, p) = ClientMessage::Password { password: &pw }.encode();
            (t, p.to_vec())
        }),
        Just(()).prop_map(move |_| {
            let m = n();
            let (t, p) = ClientMessage::AuthRsa { modulus: &m }.encode();
            (t, p.to_vec())
        }),
        any::<[u8; 16]>().prop_map(|response| {
            let (t, p) = ClientMessage::RsaResponse { response }.encode();
            (t, p.to_vec())
        }),
        (any::<u32>(), "[a-z]{0,8}").prop_map(move |(bits, u)| {
            let m = n();
            let (t, p) = ClientMessage::RhostsRsa {
                client_user: &u,
                bits,
                exponent: &[1, 0, 1],
                modulus: &m,
            }
            .encode();
            (t, p.to_vec())
        }),
    ]
}

fn challenge() -> impl Strategy<Value = Option<Vec<u8>>> {
    prop_oneof![
        Just(None),
        Just(Some(vec![7; 128])),
        proptest::option::of(proptest::collection::vec(any::<u8>(), 0..8)),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (message(), prop::bool::weighted(0.9), any::<bool>()).prop_map(
            |((msg_type, payload), auto, yes)| Op::Msg { msg_type, payload, auto, yes }
        ),
        2 => (any::<bool>(), challenge()).prop_map(|(y, c)| Op::Answer(y, c)),
        1 => (0..5u8, any::<bool>(), challenge()).prop_map(|(k, y, c)| Op::Stray(k, y, c)),
    ]
}

/// The kind of the last question the server asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Asked {
    User,
    Key,
    Response,
    Password,
}

/// Calls one `answer_*`: 0 user, 1 RSA key, 2 rhosts-RSA, 3 response, 4 password.
fn answer(s: &mut V1AuthServer, kind: u8, yes: bool, c: Option<Vec<u8>>) {
    match kind {
        0 => s.answer_user(yes),
        1 => s.answer_rsa_key(c.filter(|_| yes)),
        2 => s.answer_rhosts_rsa(c.filter(|_| yes)),
        3 => s.answer_rsa_response(yes),
        _ => s.answer_password(yes),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    #[test]
    fn server_never_panics_and_keeps_its_invariants(
        config in config(),
        user_first in prop::bool::weighted(0.9),
        ops in proptest::collection::vec(op(), 0..40),
        drain in prop::bool::weighted(0.8),
    ) {
        let mut s = V1AuthServer::new(config);
        if user_first {
            // Most runs get past CMSG_USER, so that the loop is exercised.
            s.handle_message(msg::CMSG_USER, b"\0\0\0\x05alice").unwrap();
        }
        let mut asked = s.poll_event().map(|_| Asked::User);
        let mut known = None;
        let mut failed = 0u32;
        let mut successes = 0u32;
        for op in ops {
            // Whether this step gives a positive answer to a verified method.
            let mut positive = false;
            let mut give = |s: &mut V1AuthServer, kind: Option<u8>, yes: bool, c: Option<Vec<u8>>| {
                let before = s.awaiting_answer();
                let kinds: Vec<u8> = kind.map_or((0..5).collect(), |k| vec![k]);
                for k in kinds {
                    let acts = before
                        && match asked {
                            Some(Asked::User) => k == 0,
                            Some(Asked::Key) => k == 1 || k == 2,
                            Some(Asked::Response) => k == 3,
                            Some(Asked::Password) => k == 4,
                            None => false,
                        };
                    if acts && s.awaiting_answer() {
                        if asked == Some(Asked::User) {
                            known = Some(yes);
                        }
                        if yes && matches!(asked, Some(Asked::Response | Asked::Password)) {
                            positive = true;
                        }
                    }
                    answer(s, k, yes, c.clone());
                }
            };
            match op {
                Op::Msg { msg_type, payload, auto, yes } => {
                    if auto && s.awaiting_answer() {
                        give(&mut s, None, yes, Some(vec![7; 128]));
                    }
                    let before = s.awaiting_answer();
                    let r = s.handle_message(msg_type, &payload);
                    if before && r.is_ok() {
                        // Nothing but IGNORE/DEBUG gets through a pending question.
                        prop_assert!(msg_type == msg::MSG_IGNORE || msg_type == msg::MSG_DEBUG);
                    }
                }
                Op::Answer(yes, c) => give(&mut s, None, yes, c),
                Op::Stray(k, yes, c) => give(&mut s, Some(k), yes, c),
            }
            while let Some(ev) = s.poll_event() {
                match ev {
                    V1AuthEvent::User { .. } => asked = Some(Asked::User),
                    V1AuthEvent::RsaKeyOffered { .. } | V1AuthEvent::RhostsRsa { .. } => {
                        asked = Some(Asked::Key)
                    }
                    V1AuthEvent::RsaResponse { .. } => asked = Some(Asked::Response),
                    V1AuthEvent::Password { .. } => asked = Some(Asked::Password),
                    V1AuthEvent::Failed { .. } => failed += 1,
                    V1AuthEvent::Authenticated { .. } => {
                        successes += 1;
                        prop_assert!(positive && known == Some(true));
                    }
                    V1AuthEvent::TooManyFailures { .. } => {
                        prop_assert!(failed >= config.max_tries);
                    }
                }
            }
            if drain {
                while let Some((t, _)) = s.poll_transmit() {
                    if t == msg::SMSG_SUCCESS {
                        prop_assert!(positive && known == Some(true));
                    }
                }
            }
            prop_assert!(failed <= config.max_tries.max(1));
            prop_assert!(s.failures() <= config.max_tries.max(1));
            prop_assert!(successes <= 1);
            if s.authenticated().is_some() {
                prop_assert_eq!(known, Some(true));
            }
        }
    }
}

/// Owned values for a [`ClientMessage`].
#[derive(Debug, Clone)]
enum Owned {
    User(String),
    AuthRsa(Vec<u8>),
    Response([u8; 16]),
    Password(Vec<u8>),
    Rhosts(String, u32, Vec<u8>, Vec<u8>),
}

impl Owned {
    fn borrow(&self) -> ClientMessage<'_> {
        match self {
            Owned::User(name) => ClientMessage::User { name },
            Owned::AuthRsa(modulus) => ClientMessage::AuthRsa { modulus },
            Owned::Response(response) => ClientMessage::RsaResponse {
                response: *response,
            },
            Owned::Password(password) => ClientMessage::Password { password },
            Owned::Rhosts(client_user, bits, exponent, modulus) => ClientMessage::RhostsRsa {
                client_user,
                bits: *bits,
                exponent,
                modulus,
            },
        }
    }
}

/// A big-endian magnitude without leading zeros, up to 300 bytes.
fn magnitude() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(any::<u8>(), 0..300).prop_map(|mut v| {
        let start = v.iter().position(|&b| b != 0).unwrap_or(v.len());
        v.drain(..start);
        v
    })
}

proptest! {
    #[test]
    fn client_messages_round_trip(m in prop_oneof![
        "[^\u{0}]{0,40}".prop_map(Owned::User),
        magnitude().prop_map(Owned::AuthRsa),
        any::<[u8; 16]>().prop_map(Owned::Response),
        proptest::collection::vec(any::<u8>(), 0..MAX_PASSWORD_LEN).prop_map(Owned::Password),
        ("[^\u{0}]{0,40}", any::<u32>(), magnitude(), magnitude())
            .prop_map(|(u, b, e, n)| Owned::Rhosts(u, b, e, n)),
    ]) {
        let m = m.borrow();
        let (t, payload) = m.encode();
        prop_assert_eq!(ClientMessage::parse(t, &payload).unwrap(), Some(m.clone()));
        // Any byte more is refused, and so is any byte less.
        let mut longer = payload.to_vec();
        longer.push(0);
        prop_assert!(ClientMessage::parse(t, &longer).is_err());
        if !payload.is_empty() {
            prop_assert!(ClientMessage::parse(t, &payload[..payload.len() - 1]).is_err());
        }
    }

    #[test]
    fn parse_never_panics(t in any::<u8>(), payload in proptest::collection::vec(any::<u8>(), 0..600)) {
        let _ = ClientMessage::parse(t, &payload);
        let _ = super::message::parse_challenge(&payload);
    }
}
