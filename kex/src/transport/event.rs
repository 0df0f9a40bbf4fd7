//! [`Event`]: what the transport tells its caller, two of them questions it waits on.

use super::Negotiated;
use crate::hostkey_alg::HostKeyAlg;
use crate::moduli::GroupRequest;
use sisu_wire::ident::Identification;

/// What the transport tells its caller.
#[derive(Debug)]
pub enum Event {
    /// The peer's identification line arrived.
    PeerIdentification(Identification),
    /// Server with [`crate::TransportConfig::protocol_1`]: the peer speaks protocol 1
    /// only. The transport is closed (nothing more is sent or read) and hands over the
    /// line and the bytes that followed it, for the SSH-1 machine.
    Protocol1 {
        /// The peer's identification.
        identification: Identification,
        /// What came after the line.
        rest: Vec<u8>,
    },
    /// A key exchange finished (the peer's `SSH_MSG_NEWKEYS` arrived); `first` is the
    /// initial one. For a server this is not yet the time to start authentication: wait
    /// for [`Event::ServiceAccepted`].
    KeysEstablished {
        /// Whether this was the first key exchange of the connection.
        first: bool,
        /// The algorithms in use from now on.
        negotiated: Negotiated,
        /// The server's host key blob (for a client to check against known_hosts).
        host_key: Vec<u8>,
    },
    /// The service named was accepted. For a client: the server's
    /// `SSH_MSG_SERVICE_ACCEPT` arrived. For a server: the client's
    /// `SSH_MSG_SERVICE_REQUEST` for it (only `ssh-userauth`) was accepted, and messages
    /// of the layers above (50 and up) are taken from now on; this is the moment to
    /// start the authentication layer.
    ServiceAccepted(String),
    /// `SSH_MSG_EXT_INFO` extensions from the peer.
    ExtInfo(Vec<(String, Vec<u8>)>),
    /// A message for the layers above (numbers 50 and up), payload with its number.
    Message(Vec<u8>),
    /// The peer sent `SSH_MSG_DISCONNECT`.
    Disconnected {
        /// The reason code.
        reason: u32,
        /// The peer's description.
        description: String,
    },
    /// Server, host key without its private half ([`crate::HostKey::public_only`]): sign
    /// `data` (the exchange hash H) with host key number `key` (an index into the
    /// list given to [`crate::Transport::server`]) and `algorithm` (always a plain one:
    /// `rsa-sha2-512`, not its certificate name), and answer with
    /// [`crate::Transport::provide_signature`]. The exchange, and the reading of input, wait
    /// until then; the signature is verified against the key before it is sent.
    SignatureNeeded {
        /// Index of the host key in the transport's list.
        key: usize,
        /// The signature algorithm.
        algorithm: HostKeyAlg,
        /// The bytes to sign.
        data: Vec<u8>,
    },
    /// Server, group exchange with [`crate::moduli::GexGroups::from_caller`]: choose a group for this
    /// request (e.g. [`GroupRequest::choose`] over a moduli file's groups) and answer
    /// with [`crate::Transport::provide_group`]. The exchange, and the reading of input, wait
    /// until then.
    GroupNeeded(GroupRequest),
}
