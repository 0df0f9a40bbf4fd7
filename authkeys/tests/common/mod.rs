//! Helpers shared by the revocation tests: a small KRL encoder (test-only, written
//! from PROTOCOL.krl), deterministic keys and certificates, and a bounded runner
//! for `ssh-keygen`.
#![allow(dead_code)]

use sisu_authkeys::Cert;
use ssh_key::certificate::{Builder, CertType};
use ssh_key::private::Ed25519Keypair;
use ssh_key::public::KeyData;
use ssh_key::PrivateKey;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

pub mod krl {
    //! A KRL writer: header, sections, certificate subsections.

    /// Section and subsection types (PROTOCOL.krl).
    pub const CERTIFICATES: u8 = 1;
    pub const EXPLICIT_KEY: u8 = 2;
    pub const SHA1: u8 = 3;
    pub const SIGNATURE: u8 = 4;
    pub const SHA256: u8 = 5;
    pub const EXTENSION: u8 = 255;
    pub const SERIAL_LIST: u8 = 0x20;
    pub const SERIAL_RANGE: u8 = 0x21;
    pub const SERIAL_BITMAP: u8 = 0x22;
    pub const KEY_ID: u8 = 0x23;
    pub const CERT_EXTENSION: u8 = 0x39;

    pub fn string(out: &mut Vec<u8>, s: &[u8]) {
        out.extend_from_slice(&(s.len() as u32).to_be_bytes());
        out.extend_from_slice(s);
    }

    /// Magic, format 1, version, date, flags 0, empty reserved, comment.
    pub fn header(version: u64, date: u64, comment: &[u8]) -> Vec<u8> {
        let mut out = b"SSHKRL\n\0".to_vec();
        out.extend_from_slice(&1u32.to_be_bytes());
        out.extend_from_slice(&version.to_be_bytes());
        out.extend_from_slice(&date.to_be_bytes());
        out.extend_from_slice(&0u64.to_be_bytes());
        string(&mut out, b"");
        string(&mut out, comment);
        out
    }

    /// Append `type string(body)`.
    pub fn section(out: &mut Vec<u8>, ty: u8, body: &[u8]) {
        out.push(ty);
        string(out, body);
    }

    /// A signature section: `4 string(key) string(signature)`.
    pub fn signature(out: &mut Vec<u8>, key: &[u8], sig: &[u8]) {
        out.push(SIGNATURE);
        string(out, key);
        string(out, sig);
    }

    /// A certificates section body: CA blob (empty: any CA), reserved, subsections.
    pub fn certs(ca: Option<&[u8]>, subs: &[(u8, Vec<u8>)]) -> Vec<u8> {
        let mut out = Vec::new();
        string(&mut out, ca.unwrap_or(b""));
        string(&mut out, b"");
        for (ty, body) in subs {
            section(&mut out, *ty, body);
        }
        out
    }

    pub fn serial_list(serials: &[u64]) -> (u8, Vec<u8>) {
        (
            SERIAL_LIST,
            serials.iter().flat_map(|s| s.to_be_bytes()).collect(),
        )
    }

    pub fn serial_range(lo: u64, hi: u64) -> (u8, Vec<u8>) {
        let mut b = lo.to_be_bytes().to_vec();
        b.extend_from_slice(&hi.to_be_bytes());
        (SERIAL_RANGE, b)
    }

    /// The bitmap as an mpint: big-endian, no leading zeros, a zero byte in front
    /// when the top bit is set.
    pub fn bitmap_mpint(bits: &[u64]) -> Vec<u8> {
        let Some(&max) = bits.iter().max() else {
            return Vec::new();
        };
        let len = (max / 8 + 1) as usize;
        let mut b = vec![0u8; len];
        for &i in bits {
            b[len - 1 - (i / 8) as usize] |= 1 << (i % 8);
        }
        if b[0] & 0x80 != 0 {
            b.insert(0, 0);
        }
        b
    }

    /// A bitmap subsection: bit `i` of `bits` revokes `offset + i`.
    pub fn serial_bitmap(offset: u64, bits: &[u64]) -> (u8, Vec<u8>) {
        let mut b = offset.to_be_bytes().to_vec();
        string(&mut b, &bitmap_mpint(bits));
        (SERIAL_BITMAP, b)
    }

    pub fn key_ids(ids: &[&[u8]]) -> (u8, Vec<u8>) {
        (KEY_ID, strings(ids))
    }

    /// Concatenated SSH strings (explicit key and fingerprint sections).
    pub fn strings(items: &[&[u8]]) -> Vec<u8> {
        let mut out = Vec::new();
        for i in items {
            string(&mut out, i);
        }
        out
    }

    /// An extension body: name, critical flag, contents.
    pub fn extension(name: &[u8], critical: bool, contents: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        string(&mut out, name);
        out.push(u8::from(critical));
        string(&mut out, contents);
        out
    }
}

/// A deterministic Ed25519 key.
pub fn ed25519(seed: u8) -> PrivateKey {
    PrivateKey::from(Ed25519Keypair::from_seed(&[seed; 32]))
}

/// The wire blob of a public key.
pub fn blob(k: &KeyData) -> Vec<u8> {
    ssh_key::PublicKey::new(k.clone(), "").to_bytes().unwrap()
}

/// A user certificate for `key`, signed by `ca`, parsed by the crate's parser.
pub fn cert(ca: &PrivateKey, key: &KeyData, serial: u64, key_id: &str) -> Cert {
    let mut b = Builder::new([7u8; 16], key.clone(), 0, 1 << 40).unwrap();
    b.serial(serial).unwrap();
    b.key_id(key_id).unwrap();
    b.cert_type(CertType::User).unwrap();
    b.valid_principal("u").unwrap();
    let c = b.sign(ca).unwrap();
    Cert::from_bytes(&c.to_bytes().unwrap()).unwrap()
}

pub fn have(tool: &str) -> bool {
    Command::new(tool)
        .arg("-?")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok()
}

pub fn tmpdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("sisu-revoked-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Run a command in `dir` with no input, killing it after `limit`.
pub fn run_bounded(dir: &Path, prog: &str, args: &[&str], limit: Duration) -> Output {
    let mut child = Command::new(prog)
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{prog}: {e}"));
    let deadline = Instant::now() + limit;
    loop {
        if child.try_wait().unwrap().is_some() {
            return child.wait_with_output().unwrap();
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{prog} {args:?} ran longer than {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// `ssh-keygen ARGS` in `dir`, which must succeed within 60 s.
pub fn keygen(dir: &Path, args: &[&str]) -> Output {
    let o = run_bounded(dir, "ssh-keygen", args, Duration::from_secs(60));
    assert!(
        o.status.success(),
        "ssh-keygen {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    o
}

/// `ssh-keygen -Q -f KRL FILE`: does OpenSSH say the key or certificate in FILE is
/// revoked? Panics when ssh-keygen fails for another reason.
pub fn keygen_revoked(dir: &Path, krl: &str, file: &str) -> bool {
    let o = run_bounded(
        dir,
        "ssh-keygen",
        &["-Q", "-f", krl, file],
        Duration::from_secs(60),
    );
    let out = String::from_utf8_lossy(&o.stdout);
    match (
        o.status.code(),
        out.contains(": REVOKED"),
        out.contains(": ok"),
    ) {
        (Some(0), false, true) => false,
        (Some(1), true, false) => true,
        _ => panic!(
            "ssh-keygen -Q -f {krl} {file}: {:?} {out} {}",
            o.status,
            String::from_utf8_lossy(&o.stderr)
        ),
    }
}
