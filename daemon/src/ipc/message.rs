//! The typed messages between the monitor and its children, and their encoding.
//!
//! Each message is a type byte followed by its fields in RFC 4251 encodings (sisu-wire's
//! `Writer`/`Reader`). Decoding is as strict as for network input, because a
//! compromised child sends garbage: every field must be there, nothing may follow, every
//! boolean is 0 or 1 (one message, one encoding), and every length is bounded by the
//! frame ([`super::MAX_FRAME`]) and by the limits below.
//!
//! A child sends [`ToMonitor`]; all but [`ToMonitor::Log`] and [`ToMonitor::Handover`]
//! are questions, answered by one [`FromMonitor`] each. The monitor sends
//! [`FromMonitor::Setup`] (to the pre-auth child) and [`FromMonitor::Start`] (to the
//! post-auth child) unasked, first.

pub use crate::policy::Verdict;
use sisu_userauth::hostbased::SignedHostbased;
use sisu_userauth::kbdint::InfoRequest;
use sisu_userauth::publickey::SignedRequest;
use sisu_userauth::{Method, Password};
use sisu_wire::WireError;

/// Most host keys described to a child.
pub const MAX_HOST_KEYS: usize = 64;
/// Longest log line a child may send.
pub const MAX_LOG_LINE: usize = 4096;

/// What a child asks of (or tells) the monitor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ToMonitor {
    /// A log line to write (the child has no log of its own).
    Log {
        /// The level (`crate::log::Level::code`).
        level: u8,
        /// The line, not yet escaped (the monitor escapes it).
        line: String,
    },
    /// Sign `data` (an exchange hash) with host key `key` (an index into
    /// [`FromMonitor::Setup`]'s list) and `algorithm`.
    Sign {
        /// Which host key.
        key: u32,
        /// The signature algorithm name.
        algorithm: String,
        /// What to sign.
        data: Vec<u8>,
    },
    /// Choose a group for Diffie-Hellman group exchange.
    GexGroup {
        /// The client's minimum size, in bits.
        min: u32,
        /// Its preferred size.
        n: u32,
        /// Its maximum.
        max: u32,
    },
    /// The first authentication request names this user (its `:style` dropped).
    User {
        /// The user name.
        user: String,
    },
    /// A publickey query: may `key` authenticate `user` (the answer decides PK_OK)?
    KeyOffered {
        /// The user.
        user: String,
        /// The signature algorithm named.
        algorithm: String,
        /// The public key blob.
        key: Vec<u8>,
    },
    /// A signed publickey request, as it came: the monitor checks the signature itself,
    /// over data that holds the session id it signed.
    KeyVerified(SignedRequest),
    /// A hostbased request whose host-key signature verified, as it came: the monitor
    /// checks it again and decides.
    HostbasedVerified(SignedHostbased),
    /// A `password` request: is this `user`'s password? (The frame that carried it is
    /// not wiped: the channel's buffers hold it until they are reused.)
    Password {
        /// The user.
        user: String,
        /// The password.
        password: Password,
    },
    /// After a partial success: which methods may `user` try next?
    Methods {
        /// The user.
        user: String,
    },
    /// A `keyboard-interactive` request of `user`: what to ask (or the verdict)?
    KbdStart {
        /// The user.
        user: String,
        /// The submethods the client named (a hint).
        submethods: String,
    },
    /// The responses to the prompts of the last [`FromMonitor::KbdPrompts`].
    KbdRespond {
        /// The user.
        user: String,
        /// The responses, in the order of the prompts.
        responses: Vec<Password>,
    },
    /// After authentication: the exported transport, for the post-auth child.
    Handover {
        /// `sisu_kex` transport state bytes.
        state: Vec<u8>,
    },
    /// After authentication: a pseudo-terminal of this size, for the user.
    Pty {
        /// Columns.
        cols: u16,
        /// Rows.
        rows: u16,
        /// Width in pixels.
        width_px: u16,
        /// Height in pixels.
        height_px: u16,
    },
    /// After authentication: prove the host key with this plain public blob
    /// (`hostkeys-prove-00@openssh.com`); the monitor builds the signed data itself.
    ProveHostKey {
        /// The key's plain public blob.
        key: Vec<u8>,
        /// The signature algorithm name.
        algorithm: String,
    },
    /// Protocol 1: decrypt the client's session key (once per connection). The
    /// session id is the pre-auth child's (from its cookie); the monitor keeps it for
    /// the RSA responses.
    V1SessionKey {
        /// The 16-byte session id.
        session_id: Vec<u8>,
        /// The doubly encrypted session key (an SSH-1 integer's magnitude).
        encrypted: Vec<u8>,
    },
    /// Protocol 1: the user offers the RSA key with this modulus; the answer is a
    /// challenge encrypted to it, or none.
    V1RsaKey {
        /// The user.
        user: String,
        /// The key's modulus.
        modulus: Vec<u8>,
    },
    /// Protocol 1: the client's answer to the last challenge (16 bytes).
    V1RsaResponse {
        /// The user.
        user: String,
        /// MD5 of the challenge and the session id, as the client computed it.
        response: Vec<u8>,
    },
}

/// What the monitor sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FromMonitor {
    /// To the pre-auth child, first: the host keys it serves and its sandbox.
    Setup {
        /// Each key's `K_S` blob (a public key or a certificate), in the monitor's order.
        host_keys: Vec<Vec<u8>>,
        /// The privilege separation user's uid and gid (`None`: no switch, the daemon
        /// is not root).
        identity: Option<(u32, u32)>,
        /// The directory to `chroot` into (`None`: none).
        chroot: Option<String>,
        /// Protocol 1's public keys (host exponent and modulus, server exponent and
        /// modulus), when it is served; else empty.
        v1_keys: Vec<Vec<u8>>,
    },
    /// A signature blob.
    Signature {
        /// `string algorithm ‖ string signature`.
        blob: Vec<u8>,
    },
    /// A group for group exchange.
    Group {
        /// The prime, as an unsigned big-endian magnitude.
        p: Vec<u8>,
        /// The generator.
        g: Vec<u8>,
    },
    /// No group fits the request.
    NoGroup,
    /// About the user the first request named.
    User {
        /// Whether the user exists and may log in (else: an invalid user).
        valid: bool,
        /// Whether `RefuseConnection` ends the connection now.
        refuse: bool,
        /// The banner for this user.
        banner: Option<String>,
        /// The methods the user may try.
        methods: Vec<Method>,
        /// `PubkeyAcceptedAlgorithms` for the user (at most [`MAX_ALGORITHMS`]).
        pubkey_algorithms: Vec<String>,
        /// `HostbasedAcceptedAlgorithms` for the user (at most [`MAX_ALGORITHMS`]).
        hostbased_algorithms: Vec<String>,
    },
    /// The methods that may be tried next.
    Methods {
        /// The methods, in the order SSH_MSG_USERAUTH_FAILURE lists them.
        methods: Vec<Method>,
    },
    /// A yes/no answer (a query: PK_OK or not).
    Offered {
        /// Whether the key may be tried.
        allowed: bool,
    },
    /// Keyboard-interactive: prompts for the user (answered by
    /// [`ToMonitor::KbdRespond`]).
    KbdPrompts {
        /// The SSH_MSG_USERAUTH_INFO_REQUEST to send.
        request: InfoRequest,
    },
    /// The verdict on a verified key, a password or a keyboard-interactive exchange.
    Verified {
        /// The verdict.
        verdict: Verdict,
    },
    /// To the post-auth child, first: the session to take over.
    Start {
        /// The authenticated user.
        user: String,
        /// The restrictions of the keys used ([`crate::policy::Grant::to_bytes`]).
        grant: Vec<u8>,
        /// The transport state to import.
        state: Vec<u8>,
        /// Each host key's `K_S` blob, as in [`FromMonitor::Setup`].
        host_keys: Vec<Vec<u8>>,
        /// `NAME=value` pairs PAM's modules set (pam_env), for the user's sessions.
        pam_env: Vec<String>,
        /// What PAM's modules said while the session opened (pam_motd, pam_mail),
        /// shown at a login on a terminal.
        pam_messages: String,
    },
    /// A pseudo-terminal (its master and slave descriptors come with the frame).
    Pty {
        /// The slave's path.
        tty: String,
        /// The user's previous login (`PrintLastLog`'s line).
        last_login: Option<String>,
    },
    /// The request is refused (a signature that could not be made, a terminal that
    /// could not be had).
    Refused {
        /// Why (for the child's log line).
        reason: String,
    },
    /// Protocol 1: the session key (32 bytes; random when the padding was bad, so
    /// that a bad key cannot be told from a good one).
    V1SessionKey {
        /// The key.
        key: Vec<u8>,
    },
    /// Protocol 1: the challenge for the key offered (the encrypted integer), or none
    /// when the key may not log in.
    V1Challenge {
        /// The encrypted challenge.
        challenge: Option<Vec<u8>>,
    },
}

mod tag {
    pub const LOG: u8 = 1;
    pub const SIGN: u8 = 2;
    pub const GEX: u8 = 3;
    pub const USER: u8 = 4;
    pub const KEY_OFFERED: u8 = 5;
    pub const KEY_VERIFIED: u8 = 6;
    pub const HANDOVER: u8 = 7;
    pub const PTY: u8 = 8;
    pub const PROVE: u8 = 9;
    pub const PASSWORD: u8 = 10;
    pub const METHODS: u8 = 11;
    pub const KBD_START: u8 = 12;
    pub const KBD_RESPOND: u8 = 13;
    pub const HOSTBASED: u8 = 14;
    pub const V1_SESSION_KEY: u8 = 15;
    pub const V1_RSA_KEY: u8 = 16;
    pub const V1_RSA_RESPONSE: u8 = 17;

    pub const SETUP: u8 = 101;
    pub const SIGNATURE: u8 = 102;
    pub const GROUP: u8 = 103;
    pub const USER_INFO: u8 = 104;
    pub const OFFERED: u8 = 105;
    pub const VERIFIED: u8 = 106;
    pub const START: u8 = 107;
    pub const PTY_READY: u8 = 108;
    pub const REFUSED: u8 = 109;
    pub const NO_GROUP: u8 = 110;
    pub const METHOD_LIST: u8 = 111;
    pub const KBD_PROMPTS: u8 = 112;
    pub const V1_KEY: u8 = 113;
    pub const V1_CHALLENGE: u8 = 114;
}

/// Why a message did not decode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecodeError {
    /// An unknown type byte.
    UnknownType(u8),
    /// A field is missing, malformed, or something follows the last one.
    Malformed(WireError),
    /// A count or a length beyond its limit.
    TooLarge(&'static str),
}

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DecodeError::UnknownType(t) => write!(f, "unknown monitor message type {t}"),
            DecodeError::Malformed(e) => write!(f, "malformed monitor message: {e}"),
            DecodeError::TooLarge(what) => write!(f, "monitor message: {what} too large"),
        }
    }
}

impl From<WireError> for DecodeError {
    fn from(e: WireError) -> Self {
        DecodeError::Malformed(e)
    }
}

/// Most names in an algorithm list.
pub const MAX_ALGORITHMS: usize = 128;

mod fields;

impl ToMonitor {
    /// The message's name, for log lines about it.
    pub fn name(&self) -> &'static str {
        match self {
            ToMonitor::Log { .. } => "log",
            ToMonitor::Sign { .. } => "sign",
            ToMonitor::GexGroup { .. } => "moduli",
            ToMonitor::User { .. } => "user",
            ToMonitor::KeyOffered { .. } => "key query",
            ToMonitor::KeyVerified(_) => "key verify",
            ToMonitor::HostbasedVerified(_) => "hostbased verify",
            ToMonitor::Password { .. } => "password",
            ToMonitor::Methods { .. } => "methods",
            ToMonitor::KbdStart { .. } => "keyboard-interactive",
            ToMonitor::KbdRespond { .. } => "keyboard-interactive responses",
            ToMonitor::Handover { .. } => "handover",
            ToMonitor::Pty { .. } => "pty",
            ToMonitor::ProveHostKey { .. } => "host key proof",
            ToMonitor::V1SessionKey { .. } => "protocol 1 session key",
            ToMonitor::V1RsaKey { .. } => "protocol 1 RSA key",
            ToMonitor::V1RsaResponse { .. } => "protocol 1 RSA response",
        }
    }
}

mod from_monitor;
mod to_monitor;

#[cfg(test)]
mod tests;
