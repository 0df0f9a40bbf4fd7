//! Host keys: signatures of every type, certificates, and key files from ssh-keygen.

use super::*;
use rand_core::OsRng;

fn random(alg: Algorithm) -> PrivateKey {
    PrivateKey::random(&mut OsRng, alg).unwrap()
}

fn sign_verify_all(hk: &HostKey) {
    for a in hk.algorithms() {
        let sig = hk.sign(*a, b"exchange hash", &mut OsRng).unwrap();
        verify(hk.public_blob(), *a, b"exchange hash", &sig).unwrap();
        assert!(verify(hk.public_blob(), *a, b"other hash", &sig).is_err());
        // Trailing bytes after the signature blob are refused.
        let mut long = sig.clone();
        long.push(0);
        assert!(verify(hk.public_blob(), *a, b"exchange hash", &long).is_err());
    }
}

#[test]
fn sign_and_verify_each_type() {
    for alg in [
        Algorithm::Ed25519,
        Algorithm::Ecdsa {
            curve: EcdsaCurve::NistP256,
        },
        Algorithm::Ecdsa {
            curve: EcdsaCurve::NistP384,
        },
        Algorithm::Ecdsa {
            curve: EcdsaCurve::NistP521,
        },
    ] {
        sign_verify_all(&HostKey::new(random(alg)).unwrap());
    }
}

#[test]
fn rsa_signs_with_three_hashes_and_they_differ() {
    let hk = HostKey::new(random(Algorithm::Rsa { hash: None })).unwrap();
    assert!(hk.algorithms().contains(&HostKeyAlg::RsaSha512));
    assert!(hk.algorithms().contains(&HostKeyAlg::RsaSha256));
    #[cfg(feature = "legacy")]
    assert!(hk.algorithms().contains(&HostKeyAlg::RsaSha1));
    sign_verify_all(&hk);
    let s512 = hk.sign(HostKeyAlg::RsaSha512, b"h", &mut OsRng).unwrap();
    // A rsa-sha2-512 signature does not pass as rsa-sha2-256 (name and hash differ).
    assert!(verify(hk.public_blob(), HostKeyAlg::RsaSha256, b"h", &s512).is_err());
    let mut renamed = Writer::new();
    let body = {
        let mut r = Reader::new(&s512);
        r.string().unwrap();
        r.string().unwrap().to_vec()
    };
    renamed.str("rsa-sha2-256").string(&body);
    assert!(verify(
        hk.public_blob(),
        HostKeyAlg::RsaSha256,
        b"h",
        renamed.as_slice()
    )
    .is_err());
}

#[cfg(feature = "legacy")]
#[test]
fn dsa_signs_and_verifies() {
    let hk = HostKey::new(random(Algorithm::Dsa)).unwrap();
    assert_eq!(hk.algorithms(), &[HostKeyAlg::Dss]);
    sign_verify_all(&hk);
}

#[test]
fn wrong_algorithm_is_refused() {
    let hk = HostKey::new(random(Algorithm::Ed25519)).unwrap();
    assert!(hk.sign(HostKeyAlg::RsaSha256, b"h", &mut OsRng).is_err());
    let sig = hk.sign(HostKeyAlg::Ed25519, b"h", &mut OsRng).unwrap();
    assert!(verify(hk.public_blob(), HostKeyAlg::EcdsaP256, b"h", &sig).is_err());
    assert!(verify(b"\0\0\0\x03abc", HostKeyAlg::Ed25519, b"h", &sig).is_err());
}

/// A host certificate blob for `key`, signed by `ca`, built by hand as
/// PROTOCOL.certkeys lays it out (valid forever, as `ssh-keygen -s` without `-V`).
fn certificate(key: &PrivateKey, ca: &PrivateKey, kind: u32) -> Vec<u8> {
    let plain = key.public_key().to_bytes().unwrap();
    let mut r = Reader::new(&plain);
    let key_type = r.utf8().unwrap();
    let mut w = Writer::new();
    w.str(&format!("{key_type}-cert-v01@openssh.com"))
        .string(&[7u8; 32]);
    let mut blob = w.into_vec();
    blob.extend_from_slice(r.rest());
    let mut principals = Writer::new();
    principals.str("127.0.0.1");
    let mut w = Writer::new();
    w.u64(1)
        .u32(kind)
        .str("host-id")
        .string(principals.as_slice())
        .u64(0)
        .u64(u64::MAX)
        .string(&[])
        .string(&[])
        .string(&[])
        .string(&ca.public_key().to_bytes().unwrap());
    blob.extend_from_slice(w.as_slice());
    let sig: Signature = ca.try_sign(&blob).unwrap();
    let mut w = Writer::new();
    w.string(&Vec::<u8>::try_from(sig).unwrap());
    blob.extend_from_slice(w.as_slice());
    blob
}

#[test]
fn certificates_are_offered_with_cert_algorithms_and_verify() {
    let ca = random(Algorithm::Ed25519);
    for alg in [
        Algorithm::Ed25519,
        Algorithm::Ecdsa {
            curve: EcdsaCurve::NistP256,
        },
        Algorithm::Rsa { hash: None },
    ] {
        let key = random(alg.clone());
        let blob = certificate(&key, &ca, 2);
        let c = cert::CertBlob::parse(&blob).unwrap();
        assert_eq!(c.kind, cert::CertKind::Host);
        assert_eq!(c.valid_before, u64::MAX);
        assert_eq!(c.principals, ["127.0.0.1"]);
        let hk = HostKey::with_certificate(key.clone(), blob.clone()).unwrap();
        assert!(hk.is_certificate());
        assert_eq!(hk.public_blob(), &blob[..]);
        assert_eq!(
            hk.plain_public_blob(),
            &key.public_key().to_bytes().unwrap()[..]
        );
        assert!(hk.algorithms().iter().all(|a| a.is_certificate()));
        sign_verify_all(&hk);
        // The plain algorithm with a certificate K_S, or the reverse, does not verify.
        let a = hk.algorithms()[0];
        let sig = hk.sign(a, b"h", &mut OsRng).unwrap();
        assert!(verify(&blob, a.plain(), b"h", &sig).is_err());
        assert!(verify(hk.plain_public_blob(), a, b"h", &sig).is_err());
        // A user certificate, or one for another key, is refused.
        assert!(HostKey::with_certificate(key.clone(), certificate(&key, &ca, 1)).is_err());
        let other = random(alg);
        assert!(HostKey::with_certificate(other, blob.clone()).is_err());
        // Truncated or extended blobs are refused.
        assert!(cert::CertBlob::parse(&blob[..blob.len() - 1]).is_err());
        let mut long = blob.clone();
        long.push(0);
        assert!(cert::CertBlob::parse(&long).is_err());
    }
}

#[test]
fn keyfile_rejects_garbage_and_encrypted() {
    use keyfile::decode_private_key;
    assert!(decode_private_key("").is_err());
    assert!(decode_private_key("not a key").is_err());
    assert!(decode_private_key(&"A".repeat(keyfile::MAX_KEY_FILE_LEN + 1)).is_err());
    let enc = "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00\n\nAAAA\n-----END RSA PRIVATE KEY-----\n";
    assert!(decode_private_key(enc)
        .unwrap_err()
        .0
        .contains("passphrase"));
    let enc8 = "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n";
    assert!(decode_private_key(enc8).is_err());
    let key = random(Algorithm::Ed25519);
    let text = key.to_openssh(ssh_key::LineEnding::LF).unwrap();
    assert_eq!(
        decode_private_key(&text).unwrap().public_key(),
        key.public_key()
    );
}

/// Key files written by `ssh-keygen` in every format, when ssh-keygen is installed:
/// each decodes to the key `ssh-keygen -y` prints, and signs verifiably.
#[test]
fn keyfile_reads_what_ssh_keygen_writes() {
    use std::process::Command;
    if Command::new("ssh-keygen").arg("-?").output().is_err() {
        eprintln!("ssh-keygen not installed: skipped");
        return;
    }
    let dir = std::env::temp_dir().join(format!("sisu-kex-keyfile-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let mut cases = vec![
        ("rsa", "2048", "PEM", "RSA PRIVATE KEY"),
        ("rsa", "2048", "PKCS8", "BEGIN PRIVATE KEY"),
        ("ecdsa", "256", "PEM", "EC PRIVATE KEY"),
        ("ecdsa", "384", "PKCS8", "BEGIN PRIVATE KEY"),
        ("ecdsa", "521", "PEM", "EC PRIVATE KEY"),
        ("ecdsa", "521", "PKCS8", "BEGIN PRIVATE KEY"),
        ("ed25519", "256", "RFC4716", "OPENSSH PRIVATE KEY"),
    ];
    if cfg!(feature = "legacy") {
        cases.push(("dsa", "1024", "PEM", "DSA PRIVATE KEY"));
        cases.push(("dsa", "1024", "PKCS8", "BEGIN PRIVATE KEY"));
    }
    for (i, (t, bits, format, label)) in cases.iter().enumerate() {
        let path = dir.join(format!("k{i}"));
        let st = Command::new("ssh-keygen")
            .args(["-q", "-t", t, "-b", bits, "-m", format, "-N", "", "-f"])
            .arg(&path)
            .status()
            .unwrap();
        assert!(st.success(), "ssh-keygen {t} {format}");
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains(label), "{t} {format}: {text}");
        let key = keyfile::decode_private_key(&text)
            .unwrap_or_else(|e| panic!("{t} {bits} {format}: {e}"));
        let want = std::fs::read_to_string(path.with_extension("pub")).unwrap_or_else(|_| {
            std::fs::read_to_string(format!("{}.pub", path.display())).unwrap()
        });
        let want = PublicKey::from_openssh(want.trim()).unwrap();
        assert_eq!(key.public_key().key_data(), want.key_data(), "{t} {format}");
        sign_verify_all(&HostKey::new(key).unwrap());
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// OpenSSH-format ECDSA keys whose private scalar is short as an mpint (about one
/// P-521 key in four): ssh-key 0.6.7 refuses them ("length invalid"); the key file
/// reader brings the scalar to the curve's length.
#[test]
fn keyfile_reads_openssh_p521_keys_with_short_scalars() {
    use std::process::Command;
    if Command::new("ssh-keygen").arg("-?").output().is_err() {
        eprintln!("ssh-keygen not installed: skipped");
        return;
    }
    let dir = std::env::temp_dir().join(format!("sisu-kex-p521-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let mut short_seen = 0;
    for i in 0..40 {
        let path = dir.join(format!("k{i}"));
        let st = Command::new("ssh-keygen")
            .args(["-q", "-t", "ecdsa", "-b", "521", "-N", "", "-f"])
            .arg(&path)
            .status()
            .unwrap();
        assert!(st.success());
        let text = std::fs::read_to_string(&path).unwrap();
        if PrivateKey::from_openssh(&text).is_err() {
            short_seen += 1;
        }
        let key = keyfile::decode_private_key(&text).unwrap_or_else(|e| panic!("key {i}: {e}"));
        let want = std::fs::read_to_string(format!("{}.pub", path.display())).unwrap();
        let want = PublicKey::from_openssh(want.trim()).unwrap();
        assert_eq!(key.public_key().key_data(), want.key_data());
        if short_seen > 0 && i >= 8 {
            break;
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        short_seen > 0,
        "no short-scalar key in 40 tries (chance about 1e-5)"
    );
}

/// PKCS#8 Ed25519 (`openssl genpkey -algorithm ed25519`; ssh-keygen does not write it):
/// the example private key of RFC 8410 §10.3.
#[test]
fn keyfile_reads_pkcs8_ed25519() {
    let pem = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEINTuctv5E1hK1bbY8fdp+K06/nwoy/HU++CXqI9EdVhC\n-----END PRIVATE KEY-----\n";
    let key = keyfile::decode_private_key(pem).unwrap();
    let seed = key.key_data().ed25519().unwrap().private.to_bytes();
    assert_eq!(seed[..4], [0xd4, 0xee, 0x72, 0xdb]);
    sign_verify_all(&HostKey::new(key).unwrap());
}

/// An external signer's signatures are used when good and refused when not (a signer
/// that signs with another key, or returns garbage, cannot make the server send them).
#[test]
fn external_signers_are_checked() {
    use std::sync::Arc;
    struct With(PrivateKey);
    impl ExternalSigner for With {
        fn sign(&self, _: &[u8], alg: HostKeyAlg, data: &[u8]) -> Result<Vec<u8>, HostKeyError> {
            HostKey::new(self.0.clone())?.sign(alg, data, &mut OsRng)
        }
    }
    struct Garbage;
    impl ExternalSigner for Garbage {
        fn sign(&self, _: &[u8], _: HostKeyAlg, _: &[u8]) -> Result<Vec<u8>, HostKeyError> {
            Ok(b"\0\0\0\x0bssh-ed25519\0\0\0\x01x".to_vec())
        }
    }
    let key = PrivateKey::random(&mut OsRng, Algorithm::Ed25519).unwrap();
    let other = PrivateKey::random(&mut OsRng, Algorithm::Ed25519).unwrap();
    let public = key.public_key().clone();
    let good = HostKey::external(public.clone(), Arc::new(With(key))).unwrap();
    assert!(good.private_key().is_none());
    let sig = good.sign(HostKeyAlg::Ed25519, b"H", &mut OsRng).unwrap();
    verify(good.public_blob(), HostKeyAlg::Ed25519, b"H", &sig).unwrap();
    let wrong = HostKey::external(public.clone(), Arc::new(With(other))).unwrap();
    assert!(wrong.sign(HostKeyAlg::Ed25519, b"H", &mut OsRng).is_err());
    let garbage = HostKey::external(public, Arc::new(Garbage)).unwrap();
    assert!(garbage.sign(HostKeyAlg::Ed25519, b"H", &mut OsRng).is_err());
}
