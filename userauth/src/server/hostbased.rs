//! The `hostbased` method in [`Server`] (RFC 4252 §9): the host key's signature is
//! checked here, then [`Event::HostbasedVerified`] asks the daemon whether it trusts
//! that host and user.

use super::{Question, Server};
use crate::config::SERVICE_CONNECTION;
use crate::hostbased::{verify_request, HostbasedRequest, SignedHostbased};
use crate::{AuthError, Event, Method};
use ssh_key::PublicKey;

impl Server {
    /// Replaces [`ServerConfig::hostbased_algorithms`](crate::ServerConfig) (a daemon
    /// whose `HostbasedAcceptedAlgorithms` depends on the user sets it once it has the
    /// name).
    pub fn set_hostbased_algorithms(&mut self, algorithms: Vec<String>) {
        self.config.hostbased_algorithms = algorithms;
    }

    /// A `hostbased` request: a signature that does not verify (or a key of an
    /// algorithm not accepted, or a certificate) fails without a question.
    pub(super) fn on_hostbased(
        &mut self,
        user: String,
        service: &str,
        request: &HostbasedRequest<'_>,
    ) -> Result<(), AuthError> {
        let fail = |s: &mut Server, key: Option<PublicKey>| {
            s.fail(user.clone(), Method::Hostbased.name(), key, true)
        };
        if service != SERVICE_CONNECTION {
            return fail(self, None);
        }
        let key = match verify_request(
            &self.session_id,
            &user,
            service,
            request,
            &self.config.hostbased_algorithms,
        ) {
            Ok(k) => k,
            Err(_) => return fail(self, PublicKey::from_bytes(request.key_blob).ok()),
        };
        self.push_event(Event::HostbasedVerified {
            user: user.clone(),
            key: key.clone(),
            request: SignedHostbased {
                user: user.clone(),
                service: service.to_owned(),
                algorithm: request.algorithm.to_owned(),
                key_blob: request.key_blob.to_vec(),
                client_host: request.client_host.to_owned(),
                client_user: request.client_user.to_owned(),
                signature: request.signature.to_vec(),
            },
        })?;
        self.pending = Some(Question::Hostbased {
            user,
            service: service.to_owned(),
            key,
        });
        Ok(())
    }
}
