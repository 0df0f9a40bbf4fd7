//! What the processes that speak to the network must ask of a privileged party, and
//! the rules that party answers by.
//!
//! [`Policy`] is the seam of privilege separation. The pre-authentication loop asks it
//! for host-key signatures, group-exchange groups, whether a user exists, whether a
//! key may log in, whether a password is right ([`password`], or PAM's verdict with
//! `UsePAM yes`: [`pam`]) and what to ask in a keyboard-interactive exchange
//! ([`KbdStep`], [`KbdAnswer`]); the post-authentication loop asks for signatures on
//! rekeys, proofs of host keys and pseudo-terminals. Two implementations answer:
//!
//! - [`Local`]: the answers themselves, from the configuration, the user database and
//!   the users' `authorized_keys` ([`rules`]), with the host keys in hand. The monitor
//!   answers its children with it, and tests drive the loops with it in one process.
//! - [`ViaMonitor`]: each question sent to the monitor over the IPC channel, and its
//!   answer awaited; the children use it.
//!
//! ```
//! use sisu_daemon::policy::{Grant, Verdict};
//! let g = Grant { command: Some("uptime".into()), ..Grant::default() };
//! assert_eq!(Grant::from_bytes(&g.to_bytes()), Ok(g));
//! assert_ne!(Verdict::Allow, Verdict::Partial);
//! ```

pub mod access;
pub mod certificates;
mod grant;
pub mod keys_command;
mod local;
pub mod pam;
pub mod password;
mod remote;
pub mod rhosts;
pub mod rules;
mod v1;

pub use access::{group_names, AccessLists};
pub use grant::Grant;
pub use local::Local;
pub use remote::ViaMonitor;
pub use rules::{AuthSettings, Progress, RootLogin, Rules, UserEnvironment};

use crate::os::{Pty, WinSize};
use sisu_kex::hostkey::HostKeyError;
use sisu_kex::moduli::{DhGroup, GroupRequest};
use sisu_kex::HostKeyAlg;
pub use sisu_userauth::hostbased::SignedHostbased;
pub use sisu_userauth::publickey::SignedRequest;
use sisu_userauth::{Method, Password};
use std::io;

/// Evaluates the configuration's `Match` blocks for a user name.
pub type PerUser = Box<dyn Fn(&str) -> (AuthSettings, crate::postauth::ChannelSettings)>;

/// What the monitor says about the user the first request names.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UserAnswer {
    /// The user exists and may log in (else it is an invalid user: every request fails
    /// as for a wrong key).
    pub valid: bool,
    /// `RefuseConnection` ends the connection now.
    pub refuse: bool,
    /// The banner for this user (`Banner`, after `Match` blocks).
    pub banner: Option<String>,
    /// The methods the user may try, in the order SSH_MSG_USERAUTH_FAILURE lists them.
    pub methods: Vec<Method>,
    /// `PubkeyAcceptedAlgorithms` for the user (after `Match` blocks).
    pub pubkey_algorithms: Vec<String>,
    /// `HostbasedAcceptedAlgorithms` for the user (after `Match` blocks).
    pub hostbased_algorithms: Vec<String>,
}

/// The monitor's verdict on a signed publickey request or a password.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Refused.
    Deny,
    /// Authenticated.
    Allow,
    /// One method of an `AuthenticationMethods` list done; more are required.
    Partial,
}

/// A step of a keyboard-interactive exchange, as the network side saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KbdStep {
    /// The request (RFC 4256 §3.1), with the submethods the client named.
    Start {
        /// The client's hint.
        submethods: String,
    },
    /// The responses to the prompts last sent.
    Respond(Vec<Password>),
}

/// What to do next in a keyboard-interactive exchange.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KbdAnswer {
    /// Ask the user these prompts.
    Prompts(sisu_userauth::kbdint::InfoRequest),
    /// The exchange is over.
    Verdict(Verdict),
}

/// The questions a network-facing process asks. See the module documentation.
pub trait Policy {
    /// Signs `data` (an exchange hash) with host key `key` (an index into the list the
    /// transport serves) using `algorithm`: the signature blob.
    fn sign(
        &mut self,
        key: usize,
        algorithm: HostKeyAlg,
        data: &[u8],
    ) -> Result<Vec<u8>, HostKeyError>;

    /// A Diffie-Hellman group for group exchange (`None`: none fits).
    fn group(&mut self, request: GroupRequest) -> Option<DhGroup>;

    /// The user the first request names (its `:style` dropped).
    fn user(&mut self, user: &str) -> UserAnswer;

    /// A publickey query: may this key be tried (PK_OK)?
    fn key_offered(&mut self, user: &str, algorithm: &str, key_blob: &[u8]) -> bool;

    /// A signed publickey request: checked again by whoever answers, then decided.
    fn key_verified(&mut self, request: &SignedRequest) -> Verdict;

    /// A hostbased request whose host-key signature verified: checked again by
    /// whoever answers, then decided (is the host trusted, its key known?).
    fn hostbased_verified(&mut self, request: &SignedHostbased) -> Verdict {
        let _ = request;
        Verdict::Deny
    }

    /// A `password` request: is this the user's password (and may it be used)?
    fn password(&mut self, user: &str, password: &Password) -> Verdict;

    /// A keyboard-interactive request or responses of `user`: more prompts, or the
    /// verdict. Without PAM there is nothing to ask: refused.
    fn kbd_interactive(&mut self, user: &str, step: KbdStep) -> KbdAnswer {
        let _ = (user, step);
        KbdAnswer::Verdict(Verdict::Deny)
    }

    /// After a [`Verdict::Partial`]: the methods that may continue.
    fn next_methods(&mut self, user: &str) -> Vec<Method>;

    /// Protocol 1: the session key the client encrypted for session `session_id`
    /// (once per connection; `None` ends it).
    fn v1_session_key(
        &mut self,
        session_id: &[u8; 16],
        encrypted: &[u8],
    ) -> Option<zeroize::Zeroizing<[u8; 32]>> {
        let _ = (session_id, encrypted);
        None
    }

    /// Protocol 1: `user` offers the RSA key with `modulus`; the encrypted challenge,
    /// or `None` when the key may not log in.
    fn v1_rsa_key(&mut self, user: &str, modulus: &[u8]) -> Option<Vec<u8>> {
        let _ = (user, modulus);
        None
    }

    /// Protocol 1: the client's answer to the last challenge.
    fn v1_rsa_response(&mut self, user: &str, response: &[u8; 16]) -> Verdict {
        let _ = (user, response);
        Verdict::Deny
    }

    /// After authentication: the `hostkeys-prove-00@openssh.com` signature for the
    /// host key whose plain public blob is `key_blob`, made with `algorithm`.
    fn prove_host_key(&mut self, key_blob: &[u8], algorithm: HostKeyAlg) -> Option<Vec<u8>>;

    /// After authentication: a pseudo-terminal of `size`, owned by the user.
    fn pty(&mut self, size: WinSize) -> io::Result<Pty>;

    /// Whether the party that answers is gone or out of step: every answer is a
    /// refusal from then on, and the connection must end.
    fn failed(&self) -> bool {
        false
    }
}
