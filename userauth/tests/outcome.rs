//! `Authenticated::to_bytes` / `from_bytes`: the authentication result handed to the
//! post-authentication process round-trips, and the decoder refuses everything else.

use proptest::prelude::*;
use sisu_userauth::outcome::{MAX_RESULT_LEN, RESULT_MAGIC};
use sisu_userauth::{Authenticated, Method, ResultError};
use sisu_wire::{WireError, Writer};
use ssh_key::{rand_core::OsRng, Algorithm, PrivateKey};

fn result() -> Authenticated {
    let key = PrivateKey::random(&mut OsRng, Algorithm::Ed25519).unwrap();
    Authenticated {
        user: "alice".into(),
        service: "ssh-connection".into(),
        method: Method::PublicKey,
        key: Some(key.public_key().clone()),
    }
}

/// An encoding with the given fields, valid or not.
fn encode(user: &str, service: &str, method: &str, key: Option<(u8, &[u8])>) -> Vec<u8> {
    let mut w = Writer::new();
    w.str(RESULT_MAGIC).str(user).str(service).str(method);
    match key {
        Some((flag, blob)) => {
            w.u8(flag).string(blob);
        }
        None => {
            w.u8(0);
        }
    }
    w.into_vec()
}

#[test]
fn round_trip() {
    let a = result();
    let bytes = a.to_bytes().unwrap();
    assert_eq!(Authenticated::from_bytes(&bytes).unwrap(), a);
    // The documented layout: magic, user, service, method, flag, key blob.
    let blob = a.key.as_ref().unwrap().to_bytes().unwrap();
    assert_eq!(
        bytes,
        encode("alice", "ssh-connection", "publickey", Some((1, &blob)))
    );
}

#[test]
fn anything_else_is_refused() {
    let a = result();
    let bytes = a.to_bytes().unwrap();
    for n in 0..bytes.len() {
        assert!(
            Authenticated::from_bytes(&bytes[..n]).is_err(),
            "cut at {n}"
        );
    }
    let mut longer = bytes.clone();
    longer.push(0);
    assert_eq!(
        Authenticated::from_bytes(&longer),
        Err(ResultError::Malformed(WireError::TrailingData))
    );
    assert_eq!(
        Authenticated::from_bytes(&vec![0; MAX_RESULT_LEN + 1]),
        Err(ResultError::TooLong(MAX_RESULT_LEN + 1))
    );
    let mut magic = bytes.clone();
    magic[6] ^= 0x20;
    assert_eq!(
        Authenticated::from_bytes(&magic),
        Err(ResultError::BadMagic)
    );
    let blob = a.key.as_ref().unwrap().to_bytes().unwrap();
    let long_user = "u".repeat(257);
    let cases: Vec<(Vec<u8>, ResultError)> = vec![
        (
            encode("", "ssh-connection", "publickey", Some((1, &blob))),
            ResultError::Invalid("empty user name"),
        ),
        (
            encode(&long_user, "ssh-connection", "publickey", Some((1, &blob))),
            ResultError::Malformed(WireError::TooLong),
        ),
        (
            encode("alice", "ssh-userauth", "publickey", Some((1, &blob))),
            ResultError::Invalid("service"),
        ),
        (
            encode("alice", "ssh-connection", "none", None),
            ResultError::Invalid("method"),
        ),
        (
            encode("alice", "ssh-connection", "publickey", None),
            ResultError::Invalid("a key exactly for publickey and hostbased"),
        ),
        (
            encode("alice", "ssh-connection", "password", Some((1, &blob))),
            ResultError::Invalid("a key exactly for publickey and hostbased"),
        ),
        (
            encode("alice", "ssh-connection", "publickey", Some((2, &blob))),
            ResultError::Invalid("boolean other than 0 or 1"),
        ),
        (
            encode(
                "alice",
                "ssh-connection",
                "publickey",
                Some((1, &blob[..blob.len() - 1])),
            ),
            ResultError::Invalid("key blob"),
        ),
    ];
    for (bytes, want) in cases {
        assert_eq!(Authenticated::from_bytes(&bytes), Err(want));
    }
    // A password result has no key, and round-trips.
    let p = Authenticated {
        method: Method::Password,
        key: None,
        ..a
    };
    assert_eq!(
        Authenticated::from_bytes(&p.to_bytes().unwrap()).unwrap(),
        p
    );
}

proptest! {
    #[test]
    fn garbage_never_panics(data in proptest::collection::vec(any::<u8>(), 0..400)) {
        let _ = Authenticated::from_bytes(&data);
        let mut w = Writer::new();
        w.str(RESULT_MAGIC).raw(&data);
        let _ = Authenticated::from_bytes(w.as_slice());
    }
}

/// The committed seeds of the `userauth_result` fuzz target
/// (`fuzz/seeds/userauth_result/`): each decodes and re-encodes to itself.
/// `SISU_WRITE_SEEDS=1 cargo test -p sisu-userauth --test outcome` rewrites them.
#[test]
fn fuzz_seeds_for_the_result_decoder() {
    let dir =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/seeds/userauth_result");
    if std::env::var_os("SISU_WRITE_SEEDS").is_some() {
        std::fs::create_dir_all(&dir).unwrap();
        let ed = result();
        let ecdsa = PrivateKey::random(
            &mut OsRng,
            Algorithm::Ecdsa {
                curve: ssh_key::EcdsaCurve::NistP256,
            },
        )
        .unwrap();
        let ec = Authenticated {
            user: "bob".into(),
            key: Some(ecdsa.public_key().clone()),
            ..ed.clone()
        };
        let pw = Authenticated {
            method: Method::Password,
            key: None,
            ..ed.clone()
        };
        for (name, a) in [
            ("publickey_ed25519", ed),
            ("publickey_p256", ec),
            ("password", pw),
        ] {
            std::fs::write(dir.join(name), a.to_bytes().unwrap()).unwrap();
        }
    }
    let mut n = 0;
    for e in std::fs::read_dir(&dir).unwrap() {
        let bytes = std::fs::read(e.unwrap().path()).unwrap();
        let a = Authenticated::from_bytes(&bytes).unwrap();
        assert_eq!(a.to_bytes().unwrap(), bytes);
        n += 1;
    }
    assert_eq!(n, 3);
}
