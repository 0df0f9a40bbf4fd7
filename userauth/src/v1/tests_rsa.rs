//! Unit tests of the RSA challenge functions, the client role and method names.

use super::client::{V1Attempt, V1AuthClient};
use super::rsa_challenge::{
    expected_response, new_challenge, public_key, respond, response_matches, ChallengeError,
};
use super::tests::keys;
use super::*;
use rand::rngs::StdRng;
use rand::SeedableRng;
use rsa::traits::PublicKeyParts;
use rsa::RsaPrivateKey;
use sisu_wire::v1::msg;

const SID: [u8; 16] = [0x5a; 16];

#[test]
fn debug_never_prints_a_password() {
    let ev = V1AuthEvent::Password {
        user: "alice".into(),
        password: zeroize::Zeroizing::new("hunter2".into()),
    };
    let mut s = V1AuthServer::new(V1AuthConfig::default());
    s.handle_message(msg::CMSG_USER, b"\0\0\0\x01a").unwrap();
    s.answer_user(true);
    s.handle_message(msg::CMSG_AUTH_PASSWORD, b"\0\0\0\x07hunter2")
        .unwrap();
    let attempt = V1Attempt::password("hunter2");
    let m = super::message::ClientMessage::Password {
        password: b"hunter2",
    };
    for text in [
        format!("{ev:?}"),
        format!("{s:?}"),
        format!("{attempt:?}"),
        format!("{m:?}"),
    ] {
        assert!(!text.contains("hunter2"), "{text}");
    }
}

#[test]
fn auth_mask_names_the_enabled_methods() {
    // 1 << 2 (RSA) | 1 << 3 (password): what OpenSSH's default sshd sent.
    assert_eq!(V1AuthConfig::default().auth_mask(), 0b1100);
    let all = V1AuthConfig {
        rhosts_rsa: true,
        ..V1AuthConfig::default()
    };
    assert_eq!(all.auth_mask(), 0b1_1100);
    let none = V1AuthConfig {
        rsa: false,
        password: false,
        rhosts_rsa: false,
        max_tries: 6,
    };
    assert_eq!(none.auth_mask(), 0);
}

#[test]
fn method_names() {
    let names: Vec<String> = [
        V1Method::Rsa,
        V1Method::Password,
        V1Method::RhostsRsa,
        V1Method::Tis,
        V1Method::Other(5),
    ]
    .iter()
    .map(|m| format!("{}:{m}", m.name()))
    .collect();
    assert_eq!(
        names,
        [
            "rsa:rsa",
            "password:password",
            "rhosts-rsa:rhosts-rsa",
            "challenge-response:challenge-response",
            "bad-auth-msg:bad-auth-msg-5"
        ]
    );
}

#[test]
fn expected_response_known_answers() {
    // Computed independently:
    // python3 -c "import hashlib; print(hashlib.md5(bytes(range(32))+bytes(range(100,116))).hexdigest())"
    // a228c3dc44df88f2d36ee549044b582a
    let challenge: [u8; 32] = std::array::from_fn(|i| i as u8);
    let sid: [u8; 16] = std::array::from_fn(|i| 100 + i as u8);
    let want = hex("a228c3dc44df88f2d36ee549044b582a");
    assert_eq!(expected_response(&challenge, &sid), want);
    // python3 -c "import hashlib; print(hashlib.md5(bytes([0xff]*32)+bytes(16)).hexdigest())"
    // b145165224543ec00d78240009b990b6
    let want = hex("b145165224543ec00d78240009b990b6");
    assert_eq!(expected_response(&[0xff; 32], &[0; 16]), want);
    assert!(response_matches(&want, &want));
    let mut other = want;
    other[15] ^= 1;
    assert!(!response_matches(&want, &other));
}

fn hex(s: &str) -> [u8; 16] {
    std::array::from_fn(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap())
}

#[test]
fn challenges_are_what_the_openssh_client_accepts() {
    let mut rng = StdRng::seed_from_u64(4);
    for key in keys() {
        let public = key.to_public_key();
        for _ in 0..8 {
            let (challenge, encrypted) = new_challenge(&public, &mut rng).unwrap();
            // 256 bits exactly: BN_num_bytes is 32, within sshconnect1.c's 1..=32.
            assert!(challenge[0] & 0x80 != 0);
            assert_eq!(encrypted.len(), public.size());
            let plain = key.decrypt(rsa::Pkcs1v15Encrypt, &encrypted).unwrap();
            assert_eq!(&plain[..], &challenge[..]);
            assert_eq!(
                respond(&encrypted, key, &SID).unwrap(),
                expected_response(&challenge, &SID)
            );
        }
    }
    // Keys outside the bounds are refused.
    let small = RsaPrivateKey::new(&mut rng, 512).unwrap();
    assert_eq!(
        new_challenge(&small.to_public_key(), &mut rng).unwrap_err(),
        ChallengeError::KeySize(512)
    );
    assert_eq!(
        public_key(&small.e().to_bytes_be(), &small.n().to_bytes_be()).unwrap_err(),
        ChallengeError::KeySize(512)
    );
    // An even modulus is not a key.
    let mut n = keys()[0].n().to_bytes_be();
    *n.last_mut().unwrap() &= 0xfe;
    assert_eq!(
        public_key(&[1, 0, 1], &n).unwrap_err(),
        ChallengeError::BadKey
    );
}

#[test]
fn the_client_refuses_challenges_openssh_refuses() {
    let key = &keys()[0];
    let public = key.to_public_key();
    let mut rng = StdRng::seed_from_u64(5);
    // A challenge of 33 bytes, or of zero, decrypts to a length the client refuses.
    for plain in [&[1u8; 33][..], &[0u8; 4][..]] {
        let ct = public
            .encrypt(&mut rng, rsa::Pkcs1v15Encrypt, plain)
            .unwrap();
        assert!(matches!(
            respond(&ct, key, &SID),
            Err(ChallengeError::BadLength(_))
        ));
    }
    // A short one is padded in front, as sshconnect1.c does.
    let ct = public
        .encrypt(&mut rng, rsa::Pkcs1v15Encrypt, &[0, 0, 7])
        .unwrap();
    let mut padded = [0u8; 32];
    padded[31] = 7;
    assert_eq!(
        respond(&ct, key, &SID).unwrap(),
        expected_response(&padded, &SID)
    );
}

#[test]
fn client_against_server() {
    let key = &keys()[2];
    let mut client = V1AuthClient::new(
        "alice",
        SID,
        vec![V1Attempt::password("wrong"), V1Attempt::Rsa(key.clone())],
    );
    let mut server = V1AuthServer::new(V1AuthConfig::default());
    let mut rng = StdRng::seed_from_u64(6);
    let mut challenge = None;
    while !client.is_done() {
        let (t, p) = client.poll_transmit().unwrap();
        server.handle_message(t, &p).unwrap();
        while let Some(ev) = server.poll_event() {
            match ev {
                V1AuthEvent::User { .. } => server.answer_user(true),
                V1AuthEvent::Password { password, .. } => {
                    server.answer_password(password.as_str() == "right")
                }
                V1AuthEvent::RsaKeyOffered { modulus, .. } => {
                    let public = public_key(&key.e().to_bytes_be(), &modulus).unwrap();
                    let (c, enc) = new_challenge(&public, &mut rng).unwrap();
                    challenge = Some(c);
                    server.answer_rsa_key(Some(enc));
                }
                V1AuthEvent::RsaResponse { response, .. } => {
                    let c = challenge.take().unwrap();
                    server.answer_rsa_response(response_matches(
                        &expected_response(&c, &SID),
                        &response,
                    ));
                }
                _ => {}
            }
        }
        while let Some((t, p)) = server.poll_transmit() {
            client.handle_message(t, &p).unwrap();
        }
    }
    assert_eq!(client.authenticated(), Some(V1Method::Rsa));
    assert_eq!(server.authenticated(), Some("alice"));
}

#[test]
fn client_protocol_errors() {
    let mut c = V1AuthClient::new("a", SID, vec![V1Attempt::Rsa(keys()[0].clone())]);
    c.poll_transmit();
    c.handle_message(msg::MSG_IGNORE, b"").unwrap();
    c.handle_message(msg::SMSG_FAILURE, b"").unwrap();
    assert_eq!(c.poll_transmit().unwrap().0, msg::CMSG_AUTH_RSA);
    // A challenge that is not for this key.
    let mut w = sisu_wire::Writer::new();
    sisu_wire::v1::put_mpint(&mut w, &[5; 128]);
    assert_eq!(
        c.handle_message(msg::SMSG_AUTH_RSA_CHALLENGE, w.as_slice()),
        Err(V1AuthError::BadChallenge)
    );
    let mut c = V1AuthClient::new("a", SID, vec![]);
    assert!(matches!(
        c.handle_message(msg::SMSG_AUTH_RSA_CHALLENGE, b""),
        Err(V1AuthError::Unexpected { .. })
    ));
    c.handle_message(msg::SMSG_FAILURE, b"").unwrap();
    assert!(c.is_done() && c.authenticated().is_none());
}
