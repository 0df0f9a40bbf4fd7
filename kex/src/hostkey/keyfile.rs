//! Private key files as `ssh-keygen` writes them: OpenSSH's own format
//! (`-----BEGIN OPENSSH PRIVATE KEY-----`) and PEM (`-m PEM`, `-m PKCS8`):
//!
//! | label | written by | keys |
//! |---|---|---|
//! | `RSA PRIVATE KEY` | `ssh-keygen -t rsa -m PEM` (PKCS#1, RFC 8017) | RSA |
//! | `EC PRIVATE KEY` | `ssh-keygen -t ecdsa -m PEM` (SEC1, RFC 5915) | ECDSA P-256/384/521 |
//! | `DSA PRIVATE KEY` | `ssh-keygen -t dsa -m PEM` (OpenSSL's `DSAPrivateKey`) | DSA |
//! | `PRIVATE KEY` | `ssh-keygen -m PKCS8` (PKCS#8, RFC 5208/5958) | RSA, ECDSA, DSA, Ed25519 |
//!
//! The DER inside is decoded by RustCrypto's `rsa` (PKCS#1/#8), `sec1`, `dsa` (PKCS#8)
//! and `pkcs8` crates; only OpenSSL's DSA sequence (six integers, no crate reads it) is
//! read here, with `der`. An ECDSA key is handed to ssh-key in OpenSSH's binary key
//! format (`PROTOCOL.key`) and checked by signing and verifying once, since ssh-key
//! has no constructor from a raw scalar. Passphrase-protected files are refused: a
//! host key must load unattended.
//!
//! ```
//! use sisu_kex::hostkey::keyfile::decode_private_key;
//! assert!(decode_private_key("-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n").is_err());
//! ```

use super::HostKeyError;
use rsa::pkcs1::DecodeRsaPrivateKey;
use rsa::pkcs8::der::asn1::OctetStringRef;
use rsa::pkcs8::der::{self, Decode};
#[cfg(feature = "legacy")]
use rsa::pkcs8::der::{asn1::UintRef, Reader as _, SliceReader};
use rsa::pkcs8::{DecodePrivateKey, ObjectIdentifier, PrivateKeyInfo};
use signature::{Signer, Verifier};
use sisu_wire::Writer;
use ssh_key::private::{Ed25519Keypair, KeypairData, RsaKeypair};
use ssh_key::PrivateKey;

/// Largest key file accepted, in bytes (an RSA-16384 PEM file is about 13 KiB).
pub const MAX_KEY_FILE_LEN: usize = 64 * 1024;

const OID_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const OID_EC: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
#[cfg(feature = "legacy")]
const OID_DSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10040.4.1");
const OID_ED25519: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.112");
/// Named curves (RFC 5480 §2.1.1.1): OID, OpenSSH curve name, scalar length.
const CURVES: [(ObjectIdentifier, &str, usize); 3] = [
    (
        ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7"),
        "nistp256",
        32,
    ),
    (ObjectIdentifier::new_unwrap("1.3.132.0.34"), "nistp384", 48),
    (ObjectIdentifier::new_unwrap("1.3.132.0.35"), "nistp521", 66),
];

fn err(msg: impl Into<String>) -> HostKeyError {
    HostKeyError(msg.into())
}

/// Decodes an unencrypted private key file of any format in the table above.
pub fn decode_private_key(text: &str) -> Result<PrivateKey, HostKeyError> {
    if text.len() > MAX_KEY_FILE_LEN {
        return Err(err("key file too large"));
    }
    let text = text.trim();
    if text.starts_with("-----BEGIN OPENSSH PRIVATE KEY-----") {
        let key = match PrivateKey::from_openssh(text) {
            Ok(k) => k,
            // ssh-key 0.6.7 wants an ECDSA scalar of the curve's full length, but
            // OpenSSH writes it as a minimal mpint: a P-521 scalar whose top byte is zero
            // (and, 1 time in 256, a P-256/384 one) is refused as "length invalid".
            Err(e) => openssh_ecdsa(text).ok_or_else(|| err(e.to_string()))??,
        };
        if key.is_encrypted() {
            return Err(err("key is protected by a passphrase"));
        }
        return Ok(key);
    }
    if text.contains("Proc-Type: 4,ENCRYPTED") {
        return Err(err("key is protected by a passphrase"));
    }
    let (label, der) = der::pem::decode_vec(text.as_bytes())
        .map_err(|e| err(format!("not an OpenSSH or PEM private key: {e}")))?;
    match label {
        "RSA PRIVATE KEY" => rsa_key(
            rsa::RsaPrivateKey::from_pkcs1_der(&der)
                .map_err(|e| err(format!("bad PKCS#1 RSA key: {e}")))?,
        ),
        "EC PRIVATE KEY" => ecdsa_key(&der, None),
        #[cfg(feature = "legacy")]
        "DSA PRIVATE KEY" => dsa_openssl(&der),
        "PRIVATE KEY" => pkcs8_key(&der),
        "ENCRYPTED PRIVATE KEY" => Err(err("key is protected by a passphrase")),
        other => Err(err(format!("unsupported PEM label {other:?}"))),
    }
}

fn rsa_key(key: rsa::RsaPrivateKey) -> Result<PrivateKey, HostKeyError> {
    let data = RsaKeypair::try_from(key).map_err(|e| err(format!("unusable RSA key: {e}")))?;
    PrivateKey::new(KeypairData::from(data), "").map_err(|e| err(e.to_string()))
}

fn pkcs8_key(der: &[u8]) -> Result<PrivateKey, HostKeyError> {
    let info = PrivateKeyInfo::try_from(der).map_err(|e| err(format!("bad PKCS#8 key: {e}")))?;
    let oid = info.algorithm.oid;
    if oid == OID_RSA {
        rsa_key(
            rsa::RsaPrivateKey::from_pkcs8_der(der)
                .map_err(|e| err(format!("bad PKCS#8 RSA key: {e}")))?,
        )
    } else if oid == OID_EC {
        let curve = info
            .algorithm
            .parameters_oid()
            .map_err(|e| err(format!("PKCS#8 EC key without a named curve: {e}")))?;
        ecdsa_key(info.private_key, Some(curve))
    } else if oid == OID_ED25519 {
        // RFC 8410 §7: the private key is an OCTET STRING holding the 32-byte seed.
        let seed = OctetStringRef::from_der(info.private_key)
            .map_err(|e| err(format!("bad PKCS#8 Ed25519 key: {e}")))?;
        let seed: &[u8; 32] = seed
            .as_bytes()
            .try_into()
            .map_err(|_| err("bad PKCS#8 Ed25519 key: seed is not 32 bytes"))?;
        PrivateKey::new(KeypairData::from(Ed25519Keypair::from_seed(seed)), "")
            .map_err(|e| err(e.to_string()))
    } else {
        #[cfg(feature = "legacy")]
        if oid == OID_DSA {
            let k = dsa::SigningKey::from_pkcs8_der(der)
                .map_err(|e| err(format!("bad PKCS#8 DSA key: {e}")))?;
            return dsa_key(&k);
        }
        Err(err(format!("unsupported PKCS#8 key algorithm {oid}")))
    }
}

/// A SEC1 `ECPrivateKey` (RFC 5915); `curve` from PKCS#8's algorithm parameters when
/// the inner structure omits them.
fn ecdsa_key(der: &[u8], curve: Option<ObjectIdentifier>) -> Result<PrivateKey, HostKeyError> {
    let k = sec1::EcPrivateKey::from_der(der).map_err(|e| err(format!("bad EC key: {e}")))?;
    let oid = k
        .parameters
        .and_then(|p| p.named_curve())
        .or(curve)
        .ok_or_else(|| err("EC key without a named curve"))?;
    let (_, name, size) = CURVES
        .iter()
        .find(|(o, _, _)| *o == oid)
        .ok_or_else(|| err(format!("unsupported EC curve {oid}")))?;
    let public = k
        .public_key
        .ok_or_else(|| err("EC key file lacks the public key"))?;
    if k.private_key.len() > *size || public.len() != 1 + 2 * size || public[0] != 4 {
        return Err(err("bad EC key: wrong scalar or point length"));
    }
    // The scalar as OpenSSH's private-key section holds it: fixed length, with a zero
    // byte in front when the top bit is set (the form ssh-key reads).
    let mut scalar = vec![0u8; size - k.private_key.len()];
    scalar.extend_from_slice(k.private_key);
    if scalar[0] & 0x80 != 0 {
        scalar.insert(0, 0);
    }
    let key_type = format!("ecdsa-sha2-{name}");
    let mut public_blob = Writer::new();
    public_blob.str(&key_type).str(name).string(public);
    let mut fields = Writer::new();
    fields.str(name).string(public).string(&scalar);
    let key = openssh_binary(&public_blob.into_vec(), &key_type, fields.as_slice())?;
    // ssh-key cannot derive the point from the scalar: prove they belong together.
    let probe = b"sisu host key consistency check";
    let sig = key
        .try_sign(probe)
        .map_err(|e| err(format!("bad EC key: {e}")))?;
    key.public_key()
        .key_data()
        .verify(probe, &sig)
        .map_err(|_| err("bad EC key: public key does not match the private key"))?;
    Ok(key)
}

/// Re-reads an unencrypted OpenSSH-format ECDSA key whose private scalar ssh-key
/// refused for its length, with the scalar brought to the curve's fixed length.
/// `None` when the file is not such a key (the caller reports ssh-key's error).
fn openssh_ecdsa(text: &str) -> Option<Result<PrivateKey, HostKeyError>> {
    use base64ct::Encoding;
    let body: String = text
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .map(str::trim)
        .collect();
    let bytes = base64ct::Base64::decode_vec(&body).ok()?;
    let rest = bytes.strip_prefix(b"openssh-key-v1\0")?;
    let mut r = sisu_wire::Reader::new(rest);
    let (cipher, _kdf, _kdfopts) = (r.string().ok()?, r.string().ok()?, r.string().ok()?);
    if cipher != b"none" || r.u32().ok()? != 1 {
        return None;
    }
    let public_blob = r.string().ok()?.to_vec();
    let mut p = sisu_wire::Reader::new(r.string().ok()?);
    let (c1, c2) = (p.u32().ok()?, p.u32().ok()?);
    let key_type = p.utf8().ok()?.to_string();
    let (_, name, size) = CURVES
        .iter()
        .find(|(_, n, _)| key_type == format!("ecdsa-sha2-{n}"))?;
    let curve = p.utf8().ok()?;
    let point = p.string().ok()?;
    let d = p.mpint_positive().ok()?;
    if c1 != c2 || curve != *name || d.len() > *size {
        return Some(Err(err("bad OpenSSH ECDSA key")));
    }
    let mut scalar = vec![0u8; size - d.len()];
    scalar.extend_from_slice(d);
    if scalar[0] & 0x80 != 0 {
        scalar.insert(0, 0);
    }
    let mut fields = Writer::new();
    fields.str(name).string(point).string(&scalar);
    let key = match openssh_binary(&public_blob, &key_type, fields.as_slice()) {
        Ok(k) => k,
        Err(e) => return Some(Err(e)),
    };
    let probe = b"sisu host key consistency check";
    let ok = key
        .try_sign(probe)
        .ok()
        .is_some_and(|sig| key.public_key().key_data().verify(probe, &sig).is_ok());
    Some(if ok {
        Ok(key)
    } else {
        Err(err("bad EC key: public key does not match the private key"))
    })
}

/// Wraps one unencrypted key in OpenSSH's binary private key format (`PROTOCOL.key`)
/// and decodes it with ssh-key.
fn openssh_binary(
    public_blob: &[u8],
    key_type: &str,
    fields: &[u8],
) -> Result<PrivateKey, HostKeyError> {
    let mut private = Writer::new();
    private.u32(0x5349_5355).u32(0x5349_5355).str(key_type);
    let mut private = private.into_vec();
    private.extend_from_slice(fields);
    let mut tail = Writer::new();
    tail.str("");
    private.extend_from_slice(tail.as_slice());
    let mut pad = 1u8;
    while !private.len().is_multiple_of(8) {
        private.push(pad);
        pad += 1;
    }
    let mut w = Writer::new();
    w.str("none")
        .str("none")
        .string(&[])
        .u32(1)
        .string(public_blob)
        .string(&private);
    let mut bytes = b"openssh-key-v1\0".to_vec();
    bytes.extend_from_slice(w.as_slice());
    PrivateKey::from_bytes(&bytes).map_err(|e| err(format!("bad key: {e}")))
}

#[cfg(feature = "legacy")]
fn dsa_key(k: &dsa::SigningKey) -> Result<PrivateKey, HostKeyError> {
    let data = ssh_key::private::DsaKeypair::try_from(k)
        .map_err(|e| err(format!("unusable DSA key: {e}")))?;
    PrivateKey::new(KeypairData::from(data), "").map_err(|e| err(e.to_string()))
}

/// OpenSSL's `DSAPrivateKey`: SEQUENCE { version 0, p, q, g, y, x }.
#[cfg(feature = "legacy")]
fn dsa_openssl(der: &[u8]) -> Result<PrivateKey, HostKeyError> {
    let bad = |e: der::Error| err(format!("bad DSA key: {e}"));
    let mut reader = SliceReader::new(der).map_err(bad)?;
    let ints = reader
        .sequence(|r| {
            let mut v = Vec::with_capacity(6);
            for _ in 0..6 {
                v.push(dsa::BigUint::from_bytes_be(UintRef::decode(r)?.as_bytes()));
            }
            Ok(v)
        })
        .map_err(bad)?;
    reader.finish(()).map_err(bad)?;
    let [version, p, q, g, y, x] = <[dsa::BigUint; 6]>::try_from(ints)
        .map_err(|_| err("bad DSA key: wrong number of fields"))?;
    if version != dsa::BigUint::default() {
        return Err(err("bad DSA key: unknown version"));
    }
    if g.modpow(&x, &p) != y {
        return Err(err(
            "bad DSA key: public value does not match the private one",
        ));
    }
    let bad_params = |_| err("bad DSA key parameters");
    let components = dsa::Components::from_components(p, q, g).map_err(bad_params)?;
    let vk = dsa::VerifyingKey::from_components(components, y).map_err(bad_params)?;
    let sk = dsa::SigningKey::from_components(vk, x).map_err(bad_params)?;
    dsa_key(&sk)
}
