//! Certificate algorithms in the server machine: the certified key signs, the blob
//! must be a certificate of the algorithm's type, PK_OK echoes the certificate
//! algorithm, and the daemon is asked with the whole certificate. (Whether the CA is
//! trusted is the daemon's question; the blobs here carry a dummy CA signature.)

use rand::rngs::StdRng;
use rand::SeedableRng;
use signature::Signer;
use sisu_userauth::publickey::{check_key, signed_data, PubkeyAlgorithm, PubkeyError};
use sisu_userauth::{Event, Server, ServerConfig, ServerMessage};
use sisu_wire::Writer;
use ssh_key::{Algorithm, PrivateKey};

const SID: &[u8] = b"session id";
const ED_CERT: &str = "ssh-ed25519-cert-v01@openssh.com";

/// An `ssh-ed25519-cert-v01@openssh.com` blob for `key`, laid out as
/// PROTOCOL.certkeys says, with a CA key and signature that are placeholders.
fn cert_blob(key: &PrivateKey) -> Vec<u8> {
    let pk = key.public_key().key_data().ed25519().unwrap().0;
    let mut principals = Writer::new();
    principals.str("alice");
    let mut w = Writer::new();
    w.str(ED_CERT)
        .string(b"nonce")
        .string(&pk)
        .u64(1)
        .u32(1)
        .str("key-id")
        .string(principals.as_slice())
        .u64(0)
        .u64(u64::MAX)
        .string(b"")
        .string(b"")
        .string(b"")
        .string(&key.public_key().to_bytes().unwrap())
        .string(b"placeholder CA signature");
    w.into_vec()
}

fn key(seed: u64) -> PrivateKey {
    PrivateKey::random(&mut StdRng::seed_from_u64(seed), Algorithm::Ed25519).unwrap()
}

#[test]
fn check_key_returns_the_certified_key_and_checks_the_type() {
    let k = key(1);
    let blob = cert_blob(&k);
    let accepted = sisu_userauth::default_pubkey_algorithms();
    let (alg, certified) = check_key(ED_CERT, &blob, &accepted).unwrap();
    assert_eq!(alg, PubkeyAlgorithm::Ed25519);
    assert_eq!(certified.key_data(), k.public_key().key_data());
    // The plain algorithm with the certificate blob, a certificate algorithm with a
    // plain blob, and a mismatched certificate type are refused.
    assert!(check_key("ssh-ed25519", &blob, &accepted).is_err());
    let plain = k.public_key().to_bytes().unwrap();
    assert_eq!(
        check_key(ED_CERT, &plain, &accepted),
        Err(PubkeyError::BadKeyBlob)
    );
    assert_eq!(
        check_key("rsa-sha2-512-cert-v01@openssh.com", &blob, &accepted),
        Err(PubkeyError::KeyTypeMismatch)
    );
    // Not accepted unless listed.
    assert_eq!(
        check_key(ED_CERT, &blob, &["ssh-ed25519"]),
        Err(PubkeyError::NotAccepted)
    );
}

#[test]
fn query_and_signed_request_with_a_certificate() {
    let k = key(2);
    let blob = cert_blob(&k);
    let mut s = Server::new(ServerConfig::default(), SID);
    let mut q = Writer::msg(50);
    q.str("alice")
        .str("ssh-connection")
        .str("publickey")
        .bool(false)
        .str(ED_CERT)
        .string(&blob);
    s.handle_message(q.as_slice()).unwrap();
    match s.poll_event() {
        Some(Event::KeyOffered {
            algorithm,
            key_blob,
            key,
            ..
        }) => {
            assert_eq!(algorithm, ED_CERT);
            assert_eq!(key_blob, blob);
            assert_eq!(key.key_data(), k.public_key().key_data());
        }
        other => panic!("{other:?}"),
    }
    s.answer(true).unwrap();
    match ServerMessage::parse(&s.poll_transmit().unwrap()).unwrap() {
        ServerMessage::PkOk {
            algorithm,
            key_blob,
        } => {
            assert_eq!(algorithm, ED_CERT);
            assert_eq!(key_blob, &blob[..]);
        }
        other => panic!("{other:?}"),
    }
    // Signed by the certified key, over the certificate algorithm and blob.
    let data = signed_data(SID, "alice", "ssh-connection", ED_CERT, &blob);
    let sig: ssh_key::Signature = Signer::sign(&k, &data);
    let sig: Vec<u8> = sig.try_into().unwrap();
    let mut m = Writer::msg(50);
    m.str("alice")
        .str("ssh-connection")
        .str("publickey")
        .bool(true)
        .str(ED_CERT)
        .string(&blob)
        .string(&sig);
    s.handle_message(m.as_slice()).unwrap();
    match s.poll_event() {
        Some(Event::KeyVerified { request, .. }) => {
            assert_eq!(request.algorithm, ED_CERT);
            assert_eq!(request.key_blob, blob);
            assert!(request
                .verify(SID, &sisu_userauth::default_pubkey_algorithms())
                .is_ok());
        }
        other => panic!("{other:?}"),
    }
    // A signature by another key fails without a question.
    let mut s = Server::new(ServerConfig::default(), SID);
    let other: ssh_key::Signature = Signer::sign(&key(3), &data);
    let other: Vec<u8> = other.try_into().unwrap();
    let mut m = Writer::msg(50);
    m.str("alice")
        .str("ssh-connection")
        .str("publickey")
        .bool(true)
        .str(ED_CERT)
        .string(&blob)
        .string(&other);
    s.handle_message(m.as_slice()).unwrap();
    assert!(matches!(s.poll_event(), Some(Event::Failed { .. })));
}
