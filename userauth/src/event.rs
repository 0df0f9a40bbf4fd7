//! What the [`Server`](crate::Server) tells the daemon: [`Event`]s, and the
//! [`Authenticated`] result.

use crate::Method;
use ssh_key::PublicKey;

/// Something the daemon must know or decide.
///
/// `KeyOffered`, `KeyVerified`, `PasswordOffered`, `KbdInteractive` and `InfoResponse`
/// are questions: answer each with [`Server::answer`](crate::Server::answer) (the last
/// two may also be answered with prompts). The others are for logging.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// "Is this key authorized for this user?" for a publickey query without a
    /// signature. Allowing it sends SSH_MSG_USERAUTH_PK_OK; it does NOT authenticate.
    KeyOffered {
        /// The user name from the request.
        user: String,
        /// The signature algorithm name, e.g. `rsa-sha2-512` or
        /// `ssh-ed25519-cert-v01@openssh.com`.
        algorithm: String,
        /// The offered key (for a certificate: the certified key).
        key: PublicKey,
        /// The key blob as offered (for a certificate: the certificate).
        key_blob: Vec<u8>,
    },
    /// The signature over the RFC 4252 §7 blob verified with this key: "is this key
    /// authorized for this user?". Allowing it sends SSH_MSG_USERAUTH_SUCCESS.
    KeyVerified {
        /// The user name from the request.
        user: String,
        /// The signature algorithm name.
        algorithm: String,
        /// The key that made the signature (for a certificate: the certified key; the
        /// certificate is `request.key_blob`).
        key: PublicKey,
        /// The request as signed, for a privileged party to verify again.
        request: crate::publickey::SignedRequest,
    },
    /// A `password` request (not a change request): "is this the user's password?".
    /// Allowing it sends SSH_MSG_USERAUTH_SUCCESS.
    PasswordOffered {
        /// The user name from the request.
        user: String,
        /// The password, wiped when dropped.
        password: crate::Password,
    },
    /// A `keyboard-interactive` request (RFC 4256): "what should the user be asked?".
    /// Answer with [`Server::info_request`](crate::Server::info_request) (prompts) or
    /// [`Server::answer_with`](crate::Server::answer_with) (a verdict).
    KbdInteractive {
        /// The user name from the request.
        user: String,
        /// The submethods the client asked for (a hint, often empty).
        submethods: String,
    },
    /// The responses to the prompts sent, as many as there were prompts, each wiped
    /// when dropped: answered as [`Event::KbdInteractive`] is.
    InfoResponse {
        /// The user name of the exchange.
        user: String,
        /// The responses, in the order of the prompts.
        responses: Vec<crate::Password>,
    },
    /// A `hostbased` request whose host-key signature verified: "does the server trust
    /// this client host for this client user, and know its key?". Allowing it sends
    /// SSH_MSG_USERAUTH_SUCCESS.
    HostbasedVerified {
        /// The user name from the request.
        user: String,
        /// The client host's key.
        key: PublicKey,
        /// The request as signed, for a privileged party to verify again.
        request: crate::hostbased::SignedHostbased,
    },
    /// An attempt failed ("Failed publickey for USER from ...").
    Failed {
        /// The user name from the request.
        user: String,
        /// The method name from the request, e.g. `publickey`, `none`, or an unknown one.
        method: String,
        /// The key, for `publickey` requests whose key blob parsed.
        key: Option<PublicKey>,
        /// Whether the request succeeded but more methods are required (always false
        /// until multi-method authentication exists).
        partial: bool,
        /// Whether the failure counted against `max_tries` (a first `none` does not).
        counted: bool,
    },
    /// Authentication succeeded ("Accepted publickey for USER ... ssh2: ED25519 SHA256:...").
    Success {
        /// The authenticated user.
        user: String,
        /// The method that succeeded.
        method: String,
        /// The key, for `publickey`.
        key: Option<PublicKey>,
    },
}

/// The outcome of a successful authentication.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authenticated {
    /// The user name.
    pub user: String,
    /// The service to start: always `ssh-connection`.
    pub service: String,
    /// The method that succeeded (the last one, when several were required).
    pub method: Method,
    /// The key, for `publickey` (the host's key, for `hostbased`).
    pub key: Option<PublicKey>,
}
