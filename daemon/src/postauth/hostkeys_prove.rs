//! Host key rotation, as OpenSSH's `PROTOCOL` §2.5 describes it.
//!
//! After authentication the server tells the client every host key it has, in a
//! `hostkeys-00@openssh.com` global request (want_reply false, then one `string` per
//! public key blob; certificates are not sent). A client with `UpdateHostKeys` asks the
//! server to prove it holds the keys it did not know with
//! `hostkeys-prove-00@openssh.com` (the same list); the server answers with one
//! signature per key, in order, over
//!
//! ```text
//! string "hostkeys-prove-00@openssh.com"
//! string session identifier
//! string public key blob
//! ```
//!
//! or with a failure when any key is not one of its own. RSA keys sign with the
//! algorithm negotiated in the key exchange when that was an RSA one (the client checks
//! that), else with rsa-sha2-512.
//!
//! The keys here are public halves: each signature is asked of the [`Policy`] (the
//! monitor), which builds the signed data itself, with the session id it knows.

use crate::policy::Policy;
use sisu_connection::Connection;
use sisu_kex::{HostKey, HostKeyAlg};
use sisu_wire::{Reader, Writer};

/// The server's announcement.
pub const HOSTKEYS: &str = "hostkeys-00@openssh.com";
/// The client's request for proofs.
pub const HOSTKEYS_PROVE: &str = "hostkeys-prove-00@openssh.com";

/// The host keys of one session, and what proving them needs.
#[derive(Debug, Default)]
pub struct HostKeyProofs {
    /// One plain key per distinct public key.
    keys: Vec<HostKey>,
    kex_alg: Option<HostKeyAlg>,
    announced: bool,
}

impl HostKeyProofs {
    /// Keeps a copy of each distinct host key (certified keys count as their plain key).
    pub fn new(host_keys: &[HostKey]) -> Self {
        let mut keys: Vec<HostKey> = Vec::new();
        for k in host_keys.iter().filter(|k| !k.is_certificate()) {
            if !keys
                .iter()
                .any(|x| x.plain_public_blob() == k.plain_public_blob())
            {
                keys.push(k.clone());
            }
        }
        HostKeyProofs {
            keys,
            ..Default::default()
        }
    }

    /// The `hostkeys-00@openssh.com` request data: one `string` per public key blob.
    pub fn announcement(&self) -> Vec<u8> {
        let mut w = Writer::new();
        for k in &self.keys {
            w.string(k.plain_public_blob());
        }
        w.into_vec()
    }

    /// Sends the announcement once, remembering the host-key algorithm of the key
    /// exchange for later proofs.
    pub fn announce(&mut self, conn: &mut Connection, kex_alg: Option<HostKeyAlg>) {
        if self.announced || self.keys.is_empty() {
            return;
        }
        self.announced = true;
        self.kex_alg = kex_alg;
        conn.send_global_request(HOSTKEYS, false, &self.announcement());
        crate::debug!("sent {HOSTKEYS} with {} keys", self.keys.len());
    }

    /// The signature algorithm a key proves itself with.
    fn alg_for(&self, key: &HostKey) -> Option<HostKeyAlg> {
        let first = *key.algorithms().first()?;
        if first.is_rsa() {
            return Some(match self.kex_alg {
                Some(a) if a.is_rsa() => a.plain(),
                _ => HostKeyAlg::RsaSha512,
            });
        }
        Some(first)
    }

    /// Answers a `hostkeys-prove-00@openssh.com` request: the reply data (one
    /// signature `string` per key asked about), or `None` (a failure reply) when the
    /// request is malformed, names a key that is not ours, or comes before the
    /// announcement.
    pub fn answer(&self, request: &[u8], policy: &mut dyn Policy) -> Option<Vec<u8>> {
        if !self.announced {
            return None;
        }
        let mut r = Reader::new(request);
        let mut out = Writer::new();
        let mut n = 0usize;
        while r.remaining() > 0 {
            let blob = r.string().ok()?;
            n += 1;
            // Every key asked about is one of ours, so the loop is bounded by our keys.
            if n > self.keys.len() {
                return None;
            }
            let key = self.keys.iter().find(|k| k.plain_public_blob() == blob)?;
            let alg = self.alg_for(key)?;
            let sig = policy.prove_host_key(blob, alg)?;
            out.string(&sig);
        }
        (n > 0).then(|| out.into_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::os::{Pty, WinSize};
    use rand_core::OsRng;
    use sisu_kex::hostkey::HostKeyError;
    use sisu_kex::moduli::{DhGroup, GroupRequest};
    use ssh_key::{Algorithm, PrivateKey};

    /// Signs proofs as the monitor does: over the protocol data, with its session id.
    struct Signer(Vec<HostKey>);

    impl Policy for Signer {
        fn sign(&mut self, _: usize, _: HostKeyAlg, _: &[u8]) -> Result<Vec<u8>, HostKeyError> {
            Err(HostKeyError("not here".into()))
        }
        fn group(&mut self, _: GroupRequest) -> Option<DhGroup> {
            None
        }
        fn user(&mut self, _: &str) -> crate::policy::UserAnswer {
            Default::default()
        }
        fn key_offered(&mut self, _: &str, _: &str, _: &[u8]) -> bool {
            false
        }
        fn key_verified(&mut self, _: &crate::policy::SignedRequest) -> crate::policy::Verdict {
            crate::policy::Verdict::Deny
        }
        fn password(&mut self, _: &str, _: &sisu_userauth::Password) -> crate::policy::Verdict {
            crate::policy::Verdict::Deny
        }
        fn next_methods(&mut self, _: &str) -> Vec<sisu_userauth::Method> {
            Vec::new()
        }
        fn prove_host_key(&mut self, blob: &[u8], alg: HostKeyAlg) -> Option<Vec<u8>> {
            let key = self.0.iter().find(|k| k.plain_public_blob() == blob)?;
            let mut data = Writer::new();
            data.str(HOSTKEYS_PROVE).string(b"session id").string(blob);
            key.sign(alg, data.as_slice(), &mut OsRng).ok()
        }
        fn pty(&mut self, _: WinSize) -> std::io::Result<Pty> {
            Err(std::io::ErrorKind::Unsupported.into())
        }
    }

    fn keys() -> Vec<HostKey> {
        let ed = PrivateKey::random(&mut OsRng, Algorithm::Ed25519).unwrap();
        let ec = PrivateKey::random(
            &mut OsRng,
            Algorithm::Ecdsa {
                curve: ssh_key::EcdsaCurve::NistP256,
            },
        )
        .unwrap();
        vec![
            HostKey::new(ed.clone()).unwrap(),
            HostKey::new(ec).unwrap(),
            HostKey::new(ed).unwrap(),
        ]
    }

    fn announced(keys: &[HostKey]) -> HostKeyProofs {
        let mut p = HostKeyProofs::new(keys);
        p.announced = true;
        p
    }

    #[test]
    fn announcement_lists_each_key_once() {
        let ks = keys();
        let p = HostKeyProofs::new(&ks);
        let data = p.announcement();
        let mut r = Reader::new(&data);
        assert_eq!(r.string().unwrap(), ks[0].plain_public_blob());
        assert_eq!(r.string().unwrap(), ks[1].plain_public_blob());
        assert!(r.finish().is_ok());
    }

    #[test]
    fn proofs_verify_over_the_protocol_data() {
        let ks = keys();
        let p = announced(&ks);
        let mut req = Writer::new();
        req.string(ks[1].plain_public_blob())
            .string(ks[0].plain_public_blob());
        let reply = p.answer(req.as_slice(), &mut Signer(ks.clone())).unwrap();
        let mut r = Reader::new(&reply);
        for (k, alg) in [
            (&ks[1], HostKeyAlg::EcdsaP256),
            (&ks[0], HostKeyAlg::Ed25519),
        ] {
            let mut signed = Writer::new();
            signed
                .str(HOSTKEYS_PROVE)
                .string(b"session id")
                .string(k.plain_public_blob());
            let sig = r.string().unwrap();
            sisu_kex::hostkey::verify(k.plain_public_blob(), alg, signed.as_slice(), sig).unwrap();
        }
        assert!(r.finish().is_ok());
    }

    #[test]
    fn unknown_keys_malformed_requests_and_early_requests_fail() {
        let ks = keys();
        let p = announced(&ks);
        let signer = &mut Signer(ks.clone());
        let other =
            HostKey::new(PrivateKey::random(&mut OsRng, Algorithm::Ed25519).unwrap()).unwrap();
        let mut req = Writer::new();
        req.string(ks[0].plain_public_blob())
            .string(other.plain_public_blob());
        assert!(p.answer(req.as_slice(), signer).is_none());
        assert!(p.answer(&[0, 0, 0, 9, 1], signer).is_none());
        assert!(p.answer(&[], signer).is_none());
        let mut many = Writer::new();
        for _ in 0..3 {
            many.string(ks[0].plain_public_blob());
        }
        assert!(p.answer(many.as_slice(), signer).is_none());
        let early = HostKeyProofs::new(&ks);
        let mut req = Writer::new();
        req.string(ks[0].plain_public_blob());
        assert!(early.answer(req.as_slice(), signer).is_none());
    }

    #[test]
    fn rsa_follows_the_negotiated_rsa_algorithm() {
        let rsa =
            HostKey::new(PrivateKey::random(&mut OsRng, Algorithm::Rsa { hash: None }).unwrap())
                .unwrap();
        let mut p = announced(std::slice::from_ref(&rsa));
        assert_eq!(p.alg_for(&rsa), Some(HostKeyAlg::RsaSha512));
        p.kex_alg = Some(HostKeyAlg::RsaSha256Cert);
        assert_eq!(p.alg_for(&rsa), Some(HostKeyAlg::RsaSha256));
        p.kex_alg = Some(HostKeyAlg::Ed25519);
        assert_eq!(p.alg_for(&rsa), Some(HostKeyAlg::RsaSha512));
    }
}
