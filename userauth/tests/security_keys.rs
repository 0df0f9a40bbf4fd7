//! Security-key (`sk-ssh-ed25519@openssh.com`) signatures in memory, made as an
//! authenticator makes them (PROTOCOL.u2f: Ed25519 over
//! `SHA-256(application) ‖ flags ‖ counter ‖ SHA-256(message)`): the server verifies
//! them, [`sk_details`] reads their flags and counter, and a changed flag or counter
//! breaks the signature.

use sha2::{Digest, Sha256};
use signature::Signer;
use sisu_userauth::publickey::{check_key, signed_data, sk_details, verify_signature, SkDetails};
use sisu_userauth::request::{MethodRequest, PublicKeyRequest, UserauthRequest};
use sisu_userauth::{Event, Server, ServerConfig};
use sisu_wire::Writer;
use ssh_key::private::Ed25519Keypair;
use ssh_key::public::{KeyData, SkEd25519};
use ssh_key::PublicKey;

const SESSION_ID: &[u8] = b"session identifier H";
const ALG: &str = "sk-ssh-ed25519@openssh.com";

struct Authenticator {
    pair: Ed25519Keypair,
    key: PublicKey,
}

impl Authenticator {
    fn new() -> Self {
        let pair = Ed25519Keypair::random(&mut rand::thread_rng());
        let key = PublicKey::new(KeyData::SkEd25519(SkEd25519::new(pair.public, "ssh:")), "");
        Authenticator { pair, key }
    }

    fn blob(&self) -> Vec<u8> {
        self.key.to_bytes().unwrap()
    }

    /// The signature blob over `message` with `flags` and `counter`; `lie` changes
    /// the flags written next to the signature after signing.
    fn sign(&self, message: &[u8], flags: u8, counter: u32, lie: Option<u8>) -> Vec<u8> {
        let mut data = Sha256::digest("ssh:").to_vec();
        data.push(flags);
        data.extend_from_slice(&counter.to_be_bytes());
        data.extend_from_slice(&Sha256::digest(message));
        let sig: ssh_key::Signature = self.pair.sign(&data);
        let mut w = Writer::new();
        w.str(ALG)
            .string(sig.as_bytes())
            .u8(lie.unwrap_or(flags))
            .u32(counter);
        w.into_vec()
    }
}

#[test]
fn a_security_key_signature_verifies_and_carries_its_flags() {
    let a = Authenticator::new();
    let blob = a.blob();
    let accepted = [ALG];
    let (alg, key) = check_key(ALG, &blob, &accepted).unwrap();
    let data = signed_data(SESSION_ID, "alice", "ssh-connection", ALG, &blob);
    for flags in [0x00, SkDetails::USER_PRESENCE, 0x05] {
        let sig = a.sign(&data, flags, 7, None);
        assert_eq!(verify_signature(alg, &key, &data, &sig), Ok(()));
        assert_eq!(sk_details(&sig), Some(SkDetails { flags, counter: 7 }));
    }
    // Flags that were not signed do not verify.
    let forged = a.sign(&data, 0x00, 7, Some(SkDetails::USER_PRESENCE));
    assert!(verify_signature(alg, &key, &data, &forged).is_err());
    // Without the flags and counter, the blob does not parse.
    let sig = a.sign(&data, 1, 7, None);
    assert!(verify_signature(alg, &key, &data, &sig[..sig.len() - 5]).is_err());
    assert_eq!(sk_details(&sig[..sig.len() - 1]), None);
    // Not accepted unless listed.
    assert!(check_key(ALG, &blob, &["ssh-ed25519"]).is_err());
}

#[test]
fn the_server_verifies_a_signed_request_and_asks() {
    let a = Authenticator::new();
    let blob = a.blob();
    let data = signed_data(SESSION_ID, "alice", "ssh-connection", ALG, &blob);
    let sig = a.sign(&data, SkDetails::USER_PRESENCE, 99, None);
    let req = UserauthRequest {
        user: "alice",
        service: "ssh-connection",
        method: MethodRequest::PublicKey(PublicKeyRequest {
            algorithm: ALG,
            key_blob: &blob,
            signature: Some(&sig),
        }),
    };
    let mut s = Server::new(ServerConfig::default(), SESSION_ID);
    s.handle_message(&req.encode()).unwrap();
    match s.poll_event() {
        Some(Event::KeyVerified { request, .. }) => {
            assert_eq!(sk_details(&request.signature).unwrap().counter, 99);
            assert!(request.verify(SESSION_ID, &[ALG]).is_ok());
        }
        other => panic!("{other:?}"),
    }
}
