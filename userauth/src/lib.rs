//! # sisu-userauth: SSH user authentication (RFC 4252), server role
//!
//! This crate owns the authentication layer of SSH, the messages numbered 50..=79 that
//! come after the transport accepted the `ssh-userauth` service: it parses
//! SSH_MSG_USERAUTH_REQUEST, runs the methods, checks signatures and answers with
//! SSH_MSG_USERAUTH_FAILURE / SUCCESS / BANNER / PK_OK. It decides nothing about users
//! or keys: it asks the daemon through [`Event`]s and takes the answers through
//! [`Server::answer`].
//!
//! Methods in this slice: `none` (always fails, listing the methods that can continue),
//! `password` (RFC 4252 §8: [`Event::PasswordOffered`], the password in a [`Password`]
//! that wipes itself; change requests fail), `keyboard-interactive` (RFC 4256,
//! [`kbdint`]: [`Event::KbdInteractive`], then as many rounds of prompts
//! ([`Server::info_request`]) and [`Event::InfoResponse`] as the daemon wants) and
//! `publickey` (RFC 4252 §7) for
//! `ssh-ed25519`, `ecdsa-sha2-nistp256/384/521`, `rsa-sha2-256` and `rsa-sha2-512`
//! keys, security keys (`sk-ssh-ed25519@openssh.com`,
//! `sk-ecdsa-sha2-nistp256@openssh.com`, PROTOCOL.u2f: the signature is verified here,
//! its user-presence and user-verification flags and counter are read out by
//! [`publickey::sk_details`] for the daemon to judge), and for OpenSSH user
//! certificates of them (`*-cert-v01@openssh.com`,
//! PROTOCOL.certkeys: the certified key signs; whether its CA is trusted is the
//! daemon's question). A key offered without a signature is only ever
//! [`Event::KeyOffered`] (at most SSH_MSG_USERAUTH_PK_OK); only a key whose signature
//! verified becomes [`Event::KeyVerified`], the one question that can grant access.
//!
//! SSH protocol 1.5 authentication (legacy, behind the `v1` feature, on by default)
//! is [`v1`]: its own machine, [`v1::V1AuthServer`], with the same shape.
//!
//! Sans-IO: no sockets, clocks, threads or randomness; every queue and length is bounded
//! by a constant in [`limits`]. [`Server`]'s docs list its methods by kind and the order
//! to call them.
//!
//! The result of a successful authentication, [`Authenticated`] (who, which method,
//! which key), crosses to the post-authentication process as bytes with
//! [`Authenticated::to_bytes`] and [`Authenticated::from_bytes`], whose decoder is
//! bounded and refuses anything malformed ([`outcome`]).
//!
//! ```
//! use sisu_userauth::{Event, Server, ServerConfig, ServerMessage};
//! use sisu_userauth::publickey::signed_data;
//! use sisu_userauth::request::{MethodRequest, PublicKeyRequest, UserauthRequest};
//! use ssh_key::{rand_core::OsRng, Algorithm, PrivateKey};
//! use signature::Signer;
//!
//! let session_id = b"exchange hash H";
//! let mut server = Server::new(ServerConfig::default(), session_id);
//!
//! // "none" fails and lists what can continue.
//! let none = UserauthRequest { user: "alice", service: "ssh-connection", method: MethodRequest::None };
//! server.handle_message(&none.encode()).unwrap();
//! let reply = server.poll_transmit().unwrap();
//! assert!(matches!(ServerMessage::parse(&reply).unwrap(),
//!     ServerMessage::Failure { methods, .. } if methods.contains("publickey")));
//!
//! // A signed publickey request: the server verifies, then asks the daemon.
//! let key = PrivateKey::random(&mut OsRng, Algorithm::Ed25519).unwrap();
//! let blob = key.public_key().to_bytes().unwrap();
//! let data = signed_data(session_id, "alice", "ssh-connection", "ssh-ed25519", &blob);
//! let sig: ssh_key::Signature = Signer::sign(&key, &data); // not the SSHSIG `sign`
//! let sig_blob: Vec<u8> = sig.try_into().unwrap();
//! let signed = UserauthRequest { user: "alice", service: "ssh-connection",
//!     method: MethodRequest::PublicKey(PublicKeyRequest {
//!         algorithm: "ssh-ed25519", key_blob: &blob, signature: Some(&sig_blob) }) };
//! # server.poll_event(); // the Failed event of "none"
//! server.handle_message(&signed.encode()).unwrap();
//! assert!(matches!(server.poll_event(), Some(Event::KeyVerified { .. })));
//! server.answer(true).unwrap(); // the daemon found the key in authorized_keys
//! assert_eq!(ServerMessage::parse(&server.poll_transmit().unwrap()).unwrap(), ServerMessage::Success);
//! assert_eq!(server.is_authenticated().unwrap().user, "alice");
//! ```
#![forbid(unsafe_code)]
// No panics on a network path: tests (and doc examples) may unwrap, the library may not.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]
#![deny(missing_docs)]

mod config;
mod error;
mod event;
pub mod hostbased;
pub mod kbdint;
pub mod limits;
pub mod message;
pub mod outcome;
pub mod password;
pub mod publickey;
pub mod request;
mod server;
#[cfg(feature = "v1")]
pub mod v1;

pub use config::{
    default_pubkey_algorithms, Method, ServerConfig, DEFAULT_MAX_TRIES, SERVICE_CONNECTION,
};
pub use error::AuthError;
pub use event::{Authenticated, Event};
pub use message::ServerMessage;
pub use outcome::ResultError;
pub use password::Password;
pub use server::{Answer, Server};
