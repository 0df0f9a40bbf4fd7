use super::*;
use proptest::prelude::*;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use rsa::pkcs1::DecodeRsaPrivateKey;

/// Test keys, made once with `openssl genrsa -traditional 768` (the server key) and
/// `openssl genrsa -traditional 1024` (the host key). Shared with the transport's
/// tests and the fuzz target.
pub(crate) const SERVER_768_PEM: &str = "-----BEGIN RSA PRIVATE KEY-----
MIIByQIBAAJhANImRHi4FN2MPtJUh+mZMB7Vqv5yhy6KdfINRsdQgSjUTOXRwT0r
lDaX0z0vfyAEikwZxsxO/QZ148qz4WhNxsBgLuRmNDr62v5u0J8wHpX3FxhwEZAi
meFACmj/2rz6KwIDAQABAmAFhmIIdnZ9+KDyMKy+FHvyY5WySNqK+7LsITM6LECp
DSPUavZUoF+uK8Gu+x+xfM0FwkAdz4d7zFnaGcBezG8R+z85b9lpM/alLAs48zfU
Tu+Hidj1+kHAYIrdw+YNR3kCMQD92zNyi5JMDrgg1iPOry1jcxiury7noMcWffzG
/FJ9Tqq2B3MO3EtZ6fwHJtk24/0CMQDT7JQ7p5bOoltKPabvOsYr/y7FrRazkyd/
iVvLW/Iz4fJ63jgDGXn3xB3J4yLta0cCMCJqdmYgH/xpvnLNNVuPClNCRmVgYLaM
aJFXEU8U5EYSxTgaeHHaUejlvQJnNOmpLQIwOGKgygJ8CHyAJ4+hw9LyeTBLJIM6
IAtOHgvQ5ZmQJqe+WVyYsJJttjNy7Y1GdL7vAjBo+WRXWqS//fY7cFbkDGbfjEiC
xK9vqaFpLBHdIp4FOpCiIQ9gJRt/T9vPMqWilLo=
-----END RSA PRIVATE KEY-----
";

pub(crate) const HOST_1024_PEM: &str = "-----BEGIN RSA PRIVATE KEY-----
MIICXAIBAAKBgQCrw3NzSqQEENktm/BnSSfTO+apSwgO47DDkSJiunx1YTFRsXIK
Meo18ENzCj86JmDLE8WKPUxKC1gyze1161C5sbNre/pQ0UMH99liMmozp0//qe0B
BtRpZXyI7zAGiSQrLqsbgpye+pnM/9W93eiO0+iq/TIeHR+exxigx8nUFQIDAQAB
AoGANxUp/AouySMCEs9UbDsYq3QlR5tJTUUVldIAXfsCGL5/i3xFXyGcw4l2h/j8
R9Cw7886ZVe9FG3I7hn+EffR3gR46qKgHtU5b59I/qiFkT2PA2z0mfo5SUpATys/
lUNLWAayPx5sO5kaRGr+YxJVi5Gg3Q9TpDSENbwGaWQ9PIECQQDeBKOM/TSGiew8
M3Ze2JwvHuxg3hyk5b+O1Johb4vh7AvVF9IQ63aygBaaxw3pwWjtobiyErAnXnib
kLvbXsT1AkEAxg2tyY+HMmtivLmFP0d2nel3Ny08HySLUctyRkUYbiIrSVK1H/GR
dQlPn6xBRZjhL8Hs/higUyy8x85tVqZeoQJBANxqbpUCrKsFMutxjAsNscF2SebB
nF55WXxLxdl8DLv2xKiCRaNWoTkFwWtYQ4/W3H1PGTZxJ0FuoP6Q6nAX3iECQG0A
OEZ3hNv9+BCQNkKWbTUJugAXGEC3lynEQ7di7cgnbBVlvKPBCuIT5sulPSM1ubHU
FD/gg9RjCd8ZwFlxJSECQCPtBoHHCDVuHT7Zo8WlFzFtxZwnn9MzmWVmBb9rBdoJ
pb7k7PwZ3jGp6AMsSC0h+0uVd3qiTUDZiG84dZpdmn0=
-----END RSA PRIVATE KEY-----
";

pub(crate) fn test_keys() -> (RsaPrivateKey, RsaPrivateKey) {
    (
        RsaPrivateKey::from_pkcs1_pem(HOST_1024_PEM).unwrap(),
        RsaPrivateKey::from_pkcs1_pem(SERVER_768_PEM).unwrap(),
    )
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

const COOKIE: [u8; 8] = [0xc0, 0xc1, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7];

/// Computed independently in Python (hashlib, pow) from the two moduli as
/// `openssl rsa -noout -modulus` prints them:
/// `sid = md5(bytes(n_h) + bytes(n_s) + cookie)`; `key[i] = (7 * i + 3) & 0xff`;
/// `m = (key[:16] XOR sid) + key[16:]`; each layer `em = 00 02 PS 00 msg` with every
/// PS byte 0x11 (server key, the smaller modulus, first) and 0x22 (host key), then
/// `pow(em, 65537, n)`; `msg` of the second layer is the first's minimal bytes.
const SID: &str = "1a877e876cf601fcf09e63bcc69bf2ac";
const KEY: &str = "030a11181f262d343b424950575e656c737a81888f969da4abb2b9c0c7ced5dc";
const ENC: &str = "a9002c8e5e0f0b553968c214550c07a8a67fd7e512fe50cf20b68c32fa1de5faaa751766787651cff08d4ead027e75277ce632a275c7a9b52fb07eebb54923d1f49ab1f7c8b8c9c8a84224cb2817cb0f9d2e7d45e5978b5574beee4f0c7f153f1de4867ed3b05df435175776768290c62cd5aba2905baa5350f587e0c65639ae";
/// Raw RSA of 12345678901234567890 under the server key then the host key, with
/// no padding at all (Python `pow`).
const BAD: &str = "806469340253b2b6bac6fee7058a73d0e11adfd196f0bbb52a18f8fdef3f89b5df7fdb08665a659de1034addd90149357d96914f2e24a48fd24eba1dd8172d1bc7928d01e916fa29fafec2480593db7271cd65c685f3a5d6735858e90a2134c35fd0fbe956122de224fee66ca44333551c330654821b86313b3fcaeb28538c9b";

fn rng(seed: u64) -> ChaCha20Rng {
    ChaCha20Rng::seed_from_u64(seed)
}

#[test]
fn session_id_known_answer() {
    let (h, s) = test_keys();
    let id = session_id_of(&h.to_public_key(), &s.to_public_key(), &COOKIE);
    assert_eq!(id.to_vec(), hex(SID));
    // Leading zero bytes of a modulus do not count (BN_bn2bin).
    let mut hn = vec![0, 0];
    hn.extend_from_slice(&h.n().to_bytes_be());
    assert_eq!(
        session_id(&hn, &s.n().to_bytes_be(), &COOKIE).to_vec(),
        hex(SID)
    );
}

#[test]
fn decrypts_an_independently_encrypted_key() {
    let (h, s) = test_keys();
    let sid: [u8; 16] = hex(SID).try_into().unwrap();
    let key = decrypt_session_key(&h, &s, &hex(ENC), &sid, &mut rng(1));
    assert_eq!(key.to_vec(), hex(KEY));
}

#[test]
fn bad_padding_gives_a_random_key_not_an_error() {
    let (h, s) = test_keys();
    let sid: [u8; 16] = hex(SID).try_into().unwrap();
    let a = decrypt_session_key(&h, &s, &hex(BAD), &sid, &mut rng(1));
    let b = decrypt_session_key(&h, &s, &hex(BAD), &sid, &mut rng(2));
    assert_ne!(*a, *b);
    assert_ne!(a.to_vec(), hex(KEY));
    // Out of range (at least the outer modulus), empty, and flipped-bit inputs too.
    for enc in [vec![0xff; 200], vec![], {
        let mut e = hex(ENC);
        e[40] ^= 1;
        e
    }] {
        let k = decrypt_session_key(&h, &s, &enc, &sid, &mut rng(3));
        assert_ne!(k.to_vec(), hex(KEY));
    }
}

#[test]
fn key_sizes() {
    let (h, s) = test_keys();
    let (h, s) = (h.to_public_key(), s.to_public_key());
    assert!(check_key_sizes(&h, &s).is_ok());
    assert!(check_key_sizes(&s, &h).is_ok());
    assert_eq!(
        check_key_sizes(&h, &h),
        Err(V1Error::KeySizes {
            larger: 1024,
            smaller: 1024
        })
    );
    let sid = [0u8; 16];
    assert!(encrypt_session_key(&h, &h, &[1; 32], &sid, &mut rng(1)).is_err());
}

/// The inner message must be at most 32 bytes: a 33-byte one (validly padded) is
/// refused like bad padding.
#[test]
fn long_inner_message_is_refused() {
    let (h, s) = test_keys();
    let (hp, sp) = (h.to_public_key(), s.to_public_key());
    let mut r = rng(9);
    let c1 = pad_and_encrypt(&sp, &[0x42; 33], &mut r)
        .unwrap()
        .to_bytes_be();
    let c2 = pad_and_encrypt(&hp, &c1, &mut r).unwrap().to_bytes_be();
    let sid = [0u8; 16];
    let k = decrypt_session_key(&h, &s, &c2, &sid, &mut rng(4));
    assert_ne!(*k, [0x42; 32]);
    // 32 bytes of the same: accepted.
    let c1 = pad_and_encrypt(&sp, &[0x42; 32], &mut r)
        .unwrap()
        .to_bytes_be();
    let c2 = pad_and_encrypt(&hp, &c1, &mut r).unwrap().to_bytes_be();
    assert_eq!(
        *decrypt_session_key(&h, &s, &c2, &sid, &mut rng(4)),
        [0x42; 32]
    );
}

#[test]
fn unpad_cases() {
    let mut em = vec![0, 2];
    em.extend_from_slice(&[7; 8]);
    em.push(0);
    em.extend_from_slice(b"msg");
    let (ok, sep) = unpad(&em);
    assert!(bool::from(ok));
    assert_eq!(sep, 10);
    let mut short_ps = em.clone();
    short_ps[9] = 0;
    assert!(!bool::from(unpad(&short_ps).0));
    let mut type1 = em.clone();
    type1[1] = 1;
    assert!(!bool::from(unpad(&type1).0));
    assert!(!bool::from(unpad(&[0, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]).0));
    assert!(bool::from(ct_less(&[0, 1], &[0, 2])));
    assert!(!bool::from(ct_less(&[1, 0], &[0, 2])));
    assert!(!bool::from(ct_less(&[0, 2], &[0, 2])));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(16))]
    /// Whatever the key, what the client encrypts the server decrypts; keys given in
    /// either order of modulus size.
    #[test]
    fn round_trip(key in any::<[u8; 32]>(), sid in any::<[u8; 16]>(), seed in any::<u64>(), swap in any::<bool>()) {
        let (h, s) = test_keys();
        let (h, s) = if swap { (s, h) } else { (h, s) };
        let enc = encrypt_session_key(&h.to_public_key(), &s.to_public_key(), &key, &sid, &mut rng(seed)).unwrap();
        let got = decrypt_session_key(&h, &s, &enc, &sid, &mut rng(seed ^ 1));
        prop_assert_eq!(*got, key);
    }
}
