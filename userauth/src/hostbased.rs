//! The `hostbased` method (RFC 4252 §9): the client host's key signs for the client
//! user, and the server trusts that host (`shosts.equiv`, `.shosts`) and knows its
//! key (`known_hosts`). The SSH-2 form of the old `RhostsRSAAuthentication`.
//!
//! ```text
//! string    public key algorithm for host key
//! string    public host key and certificates for client host
//! string    client host name expressed as the FQDN in US-ASCII
//! string    user name on the client host in ISO-10646 UTF-8 encoding
//! string    signature
//! ```
//!
//! The signature is over the session id and the request up to the client user
//! ([`signed_data`]); this crate checks it ([`SignedHostbased::verify`]), and the
//! daemon decides whether the host and user are trusted. Plain host keys only: a
//! request with a host certificate fails.

use crate::limits::{MAX_KEY_BLOB_LEN, MAX_NAME_LEN, MAX_SIGNATURE_LEN, MAX_USER_LEN};
use crate::publickey::{check_key, verify_signature, PubkeyError};
use crate::AuthError;
use sisu_wire::msg::SSH_MSG_USERAUTH_REQUEST;
use sisu_wire::{Reader, WireError, Writer};
use ssh_key::PublicKey;

/// Longest client host name accepted, in bytes (a DNS name is at most 255).
pub const MAX_HOST_LEN: usize = 255;

/// The fields of a `hostbased` request, borrowing from the payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostbasedRequest<'a> {
    /// The host key's signature algorithm name.
    pub algorithm: &'a str,
    /// The client host's public key blob.
    pub key_blob: &'a [u8],
    /// The client host's name as it sends it (usually with a trailing dot).
    pub client_host: &'a str,
    /// The user name on the client host.
    pub client_user: &'a str,
    /// The signature blob.
    pub signature: &'a [u8],
}

impl<'a> HostbasedRequest<'a> {
    /// Reads the method's fields (the rest of a USERAUTH_REQUEST).
    pub(crate) fn read(r: &mut Reader<'a>) -> Result<Self, AuthError> {
        let bad = |field: &'static str, error: WireError| AuthError::Malformed { field, error };
        let text = |r: &mut Reader<'a>, field: &'static str, max: usize| {
            let s = r.utf8().map_err(|e| bad(field, e))?;
            if s.len() > max || s.contains('\0') {
                return Err(bad(field, WireError::TooLong));
            }
            Ok(s)
        };
        let blob = |r: &mut Reader<'a>, field: &'static str, max: usize| {
            let s = r.string().map_err(|e| bad(field, e))?;
            if s.len() > max {
                return Err(bad(field, WireError::TooLong));
            }
            Ok(s)
        };
        Ok(HostbasedRequest {
            algorithm: text(r, "host key algorithm", MAX_NAME_LEN)?,
            key_blob: blob(r, "host key blob", MAX_KEY_BLOB_LEN)?,
            client_host: text(r, "client host name", MAX_HOST_LEN)?,
            client_user: text(r, "client user name", MAX_USER_LEN)?,
            signature: blob(r, "signature", MAX_SIGNATURE_LEN)?,
        })
    }

    /// Appends the method's fields, as a client sends them.
    pub(crate) fn write(&self, w: &mut Writer) {
        w.str(self.algorithm)
            .string(self.key_blob)
            .str(self.client_host)
            .str(self.client_user)
            .string(self.signature);
    }
}

/// The data the client host's key signs (RFC 4252 §9).
pub fn signed_data(
    session_id: &[u8],
    user: &str,
    service: &str,
    request: &HostbasedRequest<'_>,
) -> Vec<u8> {
    let mut w = Writer::new();
    w.string(session_id)
        .u8(SSH_MSG_USERAUTH_REQUEST)
        .str(user)
        .str(service)
        .str("hostbased")
        .str(request.algorithm)
        .string(request.key_blob)
        .str(request.client_host)
        .str(request.client_user);
    w.into_vec()
}

/// A hostbased request whose signature verified, as it came, for a party that did
/// not see it (the monitor) to check again with the session id it knows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedHostbased {
    /// The user name as sent.
    pub user: String,
    /// The service name.
    pub service: String,
    /// The host key algorithm name.
    pub algorithm: String,
    /// The host key blob.
    pub key_blob: Vec<u8>,
    /// The client host name as sent.
    pub client_host: String,
    /// The client user name.
    pub client_user: String,
    /// The signature blob.
    pub signature: Vec<u8>,
}

impl SignedHostbased {
    /// The request as [`HostbasedRequest`] fields.
    pub fn fields(&self) -> HostbasedRequest<'_> {
        HostbasedRequest {
            algorithm: &self.algorithm,
            key_blob: &self.key_blob,
            client_host: &self.client_host,
            client_user: &self.client_user,
            signature: &self.signature,
        }
    }

    /// Checks the host key against `accepted` (`HostbasedAcceptedAlgorithms`; no
    /// certificates) and the signature over [`signed_data`]: the host key, when both
    /// hold.
    pub fn verify<S: AsRef<str>>(
        &self,
        session_id: &[u8],
        accepted: &[S],
    ) -> Result<PublicKey, PubkeyError> {
        verify_request(
            session_id,
            &self.user,
            &self.service,
            &self.fields(),
            accepted,
        )
    }
}

/// The host key of `request`, when it is a plain key of an `accepted` algorithm and
/// its signature verifies.
pub fn verify_request<S: AsRef<str>>(
    session_id: &[u8],
    user: &str,
    service: &str,
    request: &HostbasedRequest<'_>,
    accepted: &[S],
) -> Result<PublicKey, PubkeyError> {
    if crate::publickey::is_certificate_algorithm(request.algorithm) {
        return Err(PubkeyError::UnknownAlgorithm);
    }
    let (alg, key) = check_key(request.algorithm, request.key_blob, accepted)?;
    let data = signed_data(session_id, user, service, request);
    verify_signature(alg, &key, &data, request.signature)?;
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn read_never_panics(data in proptest::collection::vec(any::<u8>(), 0..300)) {
            let mut r = Reader::new(&data);
            let _ = HostbasedRequest::read(&mut r);
        }

        #[test]
        fn round_trip(alg in "[a-z0-9-]{1,20}", host in "[a-z.]{0,30}", user in "[a-z]{0,10}",
                      blob in proptest::collection::vec(any::<u8>(), 0..50)) {
            let req = HostbasedRequest { algorithm: &alg, key_blob: &blob, client_host: &host,
                                         client_user: &user, signature: &blob };
            let mut w = Writer::new();
            req.write(&mut w);
            let bytes = w.into_vec();
            let mut r = Reader::new(&bytes);
            prop_assert_eq!(HostbasedRequest::read(&mut r).unwrap(), req);
            prop_assert!(r.finish().is_ok());
        }
    }
}
