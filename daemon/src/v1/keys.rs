//! Protocol 1's RSA keys: the host key (an `rsa1` private key file, as
//! `ssh-keygen1 -t rsa1` and `puttygen -t rsa1` write it, or the SSH-2 RSA host key)
//! and the server key, which the listener generates at start-up, regenerates once it
//! has been used and `KeyRegenerationInterval` has passed, and hands to each session
//! (never on disk: in a sealed memory file, in the same format).
//!
//! The file format (`SSH PRIVATE KEY FILE FORMAT 1.1`): the id string with its NUL, a
//! cipher byte (only 0, none, for host keys: sshd loads them without a passphrase),
//! a reserved `uint32`, the bit count, the modulus and exponent as SSH-1 integers, a
//! comment string, then (encrypted when the cipher is not 0) two check bytes repeated,
//! d, u = q⁻¹ mod p, and the primes (q first, then p), padded to 8 bytes.

use rsa::traits::{PrivateKeyParts, PublicKeyParts};
use rsa::{BigUint, RsaPrivateKey};
use sisu_wire::v1::{mpint, put_mpint};
use sisu_wire::{Reader, Writer};
use std::fmt;
use zeroize::Zeroizing;

/// The id string that starts the file, with its terminating NUL.
pub const FILE_ID: &[u8] = b"SSH PRIVATE KEY FILE FORMAT 1.1\n\0";
/// Longest key file read.
pub const MAX_KEY_FILE: usize = 64 * 1024;
/// Smallest server key (`ServerKeyBits`), as OpenSSH 7.
pub const MIN_SERVER_KEY_BITS: u32 = 512;
/// Largest server key.
pub const MAX_SERVER_KEY_BITS: u32 = 4096;
/// How many bits the server key and the host key must be apart: the session key is
/// encrypted with one inside the other (OpenSSH's `SSH_KEY_BITS_RESERVED`).
pub const KEY_BITS_RESERVED: u32 = 128;

/// Why a key file was not loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyFileError {
    /// Not an `rsa1` private key file.
    NotRsa1,
    /// Encrypted with a passphrase (cipher number): host keys must not be.
    Encrypted(u8),
    /// A field is cut short or malformed.
    Malformed(&'static str),
    /// The numbers do not make an RSA key.
    BadKey(String),
}

impl fmt::Display for KeyFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyFileError::NotRsa1 => f.write_str("not an SSH-1 (rsa1) private key file"),
            KeyFileError::Encrypted(c) => {
                write!(
                    f,
                    "encrypted with a passphrase (cipher {c}); host keys must not be"
                )
            }
            KeyFileError::Malformed(what) => write!(f, "malformed key file: {what}"),
            KeyFileError::BadKey(e) => write!(f, "not a valid RSA key: {e}"),
        }
    }
}

impl std::error::Error for KeyFileError {}

/// Whether `bytes` look like an `rsa1` private key file.
pub fn is_rsa1_file(bytes: &[u8]) -> bool {
    bytes.starts_with(FILE_ID)
}

/// Parses an unencrypted `rsa1` private key file: the key and its comment.
pub fn parse_rsa1_private(bytes: &[u8]) -> Result<(RsaPrivateKey, String), KeyFileError> {
    let m = |_| KeyFileError::Malformed("truncated");
    if bytes.len() > MAX_KEY_FILE {
        return Err(KeyFileError::Malformed("too long"));
    }
    let body = bytes.strip_prefix(FILE_ID).ok_or(KeyFileError::NotRsa1)?;
    let mut r = Reader::new(body);
    let cipher = r.u8().map_err(m)?;
    let _reserved = r.u32().map_err(m)?;
    let _bits = r.u32().map_err(m)?;
    let n = mpint(&mut r).map_err(m)?.to_vec();
    let e = mpint(&mut r).map_err(m)?.to_vec();
    let comment = String::from_utf8_lossy(r.string().map_err(m)?).into_owned();
    if cipher != 0 {
        return Err(KeyFileError::Encrypted(cipher));
    }
    let check = r.bytes(4).map_err(m)?;
    if check[0..2] != check[2..4] {
        return Err(KeyFileError::Malformed("check bytes differ"));
    }
    let d = Zeroizing::new(mpint(&mut r).map_err(m)?.to_vec());
    let _u = mpint(&mut r).map_err(m)?;
    let q = Zeroizing::new(mpint(&mut r).map_err(m)?.to_vec());
    let p = Zeroizing::new(mpint(&mut r).map_err(m)?.to_vec());
    let key = RsaPrivateKey::from_components(
        BigUint::from_bytes_be(&n),
        BigUint::from_bytes_be(&e),
        BigUint::from_bytes_be(&d),
        vec![BigUint::from_bytes_be(&p), BigUint::from_bytes_be(&q)],
    )
    .map_err(|e| KeyFileError::BadKey(e.to_string()))?;
    key.validate()
        .map_err(|e| KeyFileError::BadKey(e.to_string()))?;
    Ok((key, comment))
}

/// Writes `key` as an unencrypted `rsa1` private key file (the server key's form
/// between the listener and a session; also what tests use for host keys). `check`
/// are the two check bytes (any value).
pub fn write_rsa1_private(
    key: &RsaPrivateKey,
    comment: &str,
    check: [u8; 2],
) -> Zeroizing<Vec<u8>> {
    let mut w = Writer::new();
    w.raw(FILE_ID).u8(0).u32(0).u32(key.n().bits() as u32);
    put_mpint(&mut w, &key.n().to_bytes_be());
    put_mpint(&mut w, &key.e().to_bytes_be());
    w.str(comment);
    let start = w.as_slice().len();
    w.raw(&[check[0], check[1], check[0], check[1]]);
    let primes = key.primes();
    let (p, q) = match primes {
        [p, q, ..] => (p.clone(), q.clone()),
        _ => (BigUint::default(), BigUint::default()),
    };
    let u = q.clone().modpow(&(p.clone() - 2u32), &p);
    put_mpint(&mut w, &Zeroizing::new(key.d().to_bytes_be()));
    put_mpint(&mut w, &Zeroizing::new(u.to_bytes_be()));
    put_mpint(&mut w, &Zeroizing::new(q.to_bytes_be()));
    put_mpint(&mut w, &Zeroizing::new(p.to_bytes_be()));
    while !(w.as_slice().len() - start).is_multiple_of(8) {
        w.u8(0);
    }
    Zeroizing::new(w.into_vec())
}

/// The SSH-1 public half of an RSA key, `bits exponent modulus` as in
/// `authorized_keys` and `known_hosts`.
pub fn public_line(key: &RsaPrivateKey) -> String {
    format!("{} {} {}", key.n().bits(), key.e(), key.n())
}

/// Generates a server key of `bits` bits.
pub fn generate_server_key(
    bits: u32,
    rng: &mut (impl rand_core::CryptoRngCore + ?Sized),
) -> Result<RsaPrivateKey, String> {
    if !(MIN_SERVER_KEY_BITS..=MAX_SERVER_KEY_BITS).contains(&bits) {
        return Err(format!(
            "server key of {bits} bits: must be {MIN_SERVER_KEY_BITS} to {MAX_SERVER_KEY_BITS}"
        ));
    }
    RsaPrivateKey::new(rng, bits as usize).map_err(|e| e.to_string())
}

/// The server key size to use with a host key of `host_bits`: `wanted`, moved away from
/// the host key's size when within [`KEY_BITS_RESERVED`] of it (as sshd did, with a
/// log line from the caller).
pub fn server_key_bits(wanted: u32, host_bits: u32) -> u32 {
    if wanted.abs_diff(host_bits) >= KEY_BITS_RESERVED {
        return wanted;
    }
    let down = host_bits.saturating_sub(KEY_BITS_RESERVED);
    if down >= MIN_SERVER_KEY_BITS {
        down
    } else {
        host_bits + KEY_BITS_RESERVED
    }
}

/// Protocol 1's two keys in a session's monitor (the only process that holds them).
pub struct V1Keys {
    /// The host key.
    pub host: RsaPrivateKey,
    /// The listener's current server key.
    pub server: RsaPrivateKey,
}

/// The keys of one session: `host`, and the server key the listener handed over
/// (fd [`crate::os::SERVER_KEY_FD`]), or, without a listener (`-i`), one made now.
pub fn session_keys(host: RsaPrivateKey, cfg: &crate::config::Config) -> Result<V1Keys, String> {
    let server = match crate::os::take_server_key_bytes() {
        Some(file) => {
            parse_rsa1_private(&file)
                .map_err(|e| format!("server key from the listener: {e}"))?
                .0
        }
        None => {
            let bits = server_key_bits(cfg.server_key_bits, host.n().bits() as u32);
            generate_server_key(bits, &mut rand_core::OsRng)?
        }
    };
    Ok(V1Keys { host, server })
}

/// Protocol 1's host key: the first configured `HostKey` that is an `rsa1` file, else
/// the SSH-2 RSA host key (OpenSSH 7 needed an `rsa1` file; using the SSH-2 key keeps
/// one identity for both protocols). `Err` is the line to log.
pub fn load_host_key(
    configured: &[std::path::PathBuf],
    ssh2_keys: &[sisu_kex::HostKey],
) -> Result<RsaPrivateKey, String> {
    for path in configured {
        let Ok(bytes) = read_key_file(path) else {
            continue;
        };
        if !is_rsa1_file(&bytes) {
            continue;
        }
        let (key, _) = parse_rsa1_private(&bytes)
            .map_err(|e| format!("Unable to load host key \"{}\": {e}", path.display()))?;
        return Ok(key);
    }
    for k in ssh2_keys {
        let Some(rsa) = k.private_key().and_then(|p| p.key_data().rsa()) else {
            continue;
        };
        let big = |m: &ssh_key::Mpint| BigUint::from_bytes_be(m.as_positive_bytes().unwrap_or(&[]));
        return RsaPrivateKey::from_components(
            big(&rsa.public.n),
            big(&rsa.public.e),
            big(&rsa.private.d),
            vec![big(&rsa.private.p), big(&rsa.private.q)],
        )
        .map_err(|e| format!("the RSA host key cannot serve protocol 1: {e}"));
    }
    Err("protocol 1 needs an RSA host key (an rsa1 HostKey file or an SSH-2 RSA key)".into())
}

/// Reads a key file whole (bounded), refusing one that others can read.
fn read_key_file(path: &std::path::Path) -> Result<Zeroizing<Vec<u8>>, String> {
    use std::io::Read;
    use std::os::unix::fs::PermissionsExt;
    let f = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let meta = f.metadata().map_err(|e| e.to_string())?;
    if meta.permissions().mode() & 0o077 != 0 {
        return Err("permissions too open".into());
    }
    let mut buf = Zeroizing::new(Vec::new());
    f.take(MAX_KEY_FILE as u64 + 1)
        .read_to_end(&mut buf)
        .map_err(|e| e.to_string())?;
    Ok(buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small_key() -> RsaPrivateKey {
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(7);
        RsaPrivateKey::new(&mut rng, 512).unwrap()
    }
    use rand_core::SeedableRng;

    #[test]
    fn written_file_parses_back() {
        let k = small_key();
        let f = write_rsa1_private(&k, "server key", [1, 2]);
        assert!(is_rsa1_file(&f));
        let (back, comment) = parse_rsa1_private(&f).unwrap();
        assert_eq!(back, k);
        assert_eq!(comment, "server key");
    }

    #[test]
    fn bad_files_are_errors() {
        let k = small_key();
        let f = write_rsa1_private(&k, "", [1, 2]);
        assert_eq!(
            parse_rsa1_private(b"-----BEGIN"),
            Err(KeyFileError::NotRsa1)
        );
        for cut in [FILE_ID.len(), FILE_ID.len() + 5, f.len() - 60] {
            assert!(matches!(
                parse_rsa1_private(&f[..cut]),
                Err(KeyFileError::Malformed(_))
            ));
        }
        let mut enc = f.to_vec();
        enc[FILE_ID.len()] = 3;
        assert_eq!(parse_rsa1_private(&enc), Err(KeyFileError::Encrypted(3)));
    }

    /// A key file written by `ssh-keygen1 -t rsa1` (OpenSSH 7.5; `cargo xtask test`
    /// installs it): the key loads and its public half is the `.pub` file's.
    #[test]
    fn ssh_keygen1_files_load() {
        let dir = std::env::temp_dir().join(format!("sisu-rsa1-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("key");
        let status = std::process::Command::new("ssh-keygen1")
            .args([
                "-q", "-t", "rsa1", "-b", "1024", "-N", "", "-C", "kat", "-f",
            ])
            .arg(&path)
            .status()
            .expect("ssh-keygen1 (package openssh-client-ssh1) runs");
        assert!(status.success());
        let file = std::fs::read(&path).unwrap();
        let public = std::fs::read_to_string(dir.join("key.pub")).unwrap();
        let _ = std::fs::remove_dir_all(&dir);
        let (key, comment) = parse_rsa1_private(&file).unwrap();
        assert_eq!(comment, "kat");
        assert_eq!(key.n().bits(), 1024);
        assert_eq!(public.trim_end(), format!("{} kat", public_line(&key)));
    }

    #[test]
    fn server_key_keeps_its_distance() {
        assert_eq!(server_key_bits(1024, 2048), 1024);
        assert_eq!(server_key_bits(1024, 1024), 896);
        assert_eq!(server_key_bits(1024, 1100), 972);
        assert_eq!(server_key_bits(768, 700), 572);
        assert_eq!(server_key_bits(512, 560), 688);
        assert!(generate_server_key(100, &mut rand_core::OsRng).is_err());
    }
}
