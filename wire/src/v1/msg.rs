//! SSH-1 message numbers, authentication method numbers and protocol flags, as
//! protocol 1.5 (and OpenSSH's `ssh1.h`) number them.

/// Cause (string).
pub const DISCONNECT: u8 = 1;
/// Server → client: cookie, server key, host key, flags and masks.
pub const SMSG_PUBLIC_KEY: u8 = 2;
/// Client → server: cipher, cookie, the encrypted session key, flags.
pub const CMSG_SESSION_KEY: u8 = 3;
/// The user name (string).
pub const CMSG_USER: u8 = 4;
/// rhosts authentication (the client's user name). Never accepted by Sisu.
pub const CMSG_AUTH_RHOSTS: u8 = 5;
/// RSA authentication: the modulus of the key offered.
pub const CMSG_AUTH_RSA: u8 = 6;
/// The challenge, encrypted with the key offered (integer).
pub const SMSG_AUTH_RSA_CHALLENGE: u8 = 7;
/// MD5 of the decrypted challenge and the session id (16 bytes).
pub const CMSG_AUTH_RSA_RESPONSE: u8 = 8;
/// Password authentication (string).
pub const CMSG_AUTH_PASSWORD: u8 = 9;
/// TERM, rows, columns, x and y pixels, terminal modes.
pub const CMSG_REQUEST_PTY: u8 = 10;
/// Rows, columns, x and y pixels.
pub const CMSG_WINDOW_SIZE: u8 = 11;
/// Start the user's shell.
pub const CMSG_EXEC_SHELL: u8 = 12;
/// Run a command (string).
pub const CMSG_EXEC_CMD: u8 = 13;
/// Yes.
pub const SMSG_SUCCESS: u8 = 14;
/// No.
pub const SMSG_FAILURE: u8 = 15;
/// Data for the session's stdin (string).
pub const CMSG_STDIN_DATA: u8 = 16;
/// Data from the session's stdout (string).
pub const SMSG_STDOUT_DATA: u8 = 17;
/// Data from the session's stderr (string).
pub const SMSG_STDERR_DATA: u8 = 18;
/// End of the session's stdin.
pub const CMSG_EOF: u8 = 19;
/// The exit status (uint32).
pub const SMSG_EXITSTATUS: u8 = 20;
/// Recipient channel, sender channel.
pub const MSG_CHANNEL_OPEN_CONFIRMATION: u8 = 21;
/// Recipient channel.
pub const MSG_CHANNEL_OPEN_FAILURE: u8 = 22;
/// Recipient channel, data (string).
pub const MSG_CHANNEL_DATA: u8 = 23;
/// Recipient channel: no more input (protocol 1.5's "input EOF").
pub const MSG_CHANNEL_CLOSE: u8 = 24;
/// Recipient channel: no more output (protocol 1.5's "output closed").
pub const MSG_CHANNEL_CLOSE_CONFIRMATION: u8 = 25;
/// Server → client: an X11 connection (local channel, originator if flagged).
pub const SMSG_X11_OPEN: u8 = 27;
/// Remote forwarding: server port, host, host port.
pub const CMSG_PORT_FORWARD_REQUEST: u8 = 28;
/// A forwarded connection: local channel, host, port (originator if flagged).
pub const MSG_PORT_OPEN: u8 = 29;
/// Agent forwarding.
pub const CMSG_AGENT_REQUEST_FORWARDING: u8 = 30;
/// Server → client: an agent connection (local channel).
pub const SMSG_AGENT_OPEN: u8 = 31;
/// Ignored (string).
pub const MSG_IGNORE: u8 = 32;
/// The client saw the exit status.
pub const CMSG_EXIT_CONFIRMATION: u8 = 33;
/// X11 forwarding: protocol, cookie (strings), screen if flagged.
pub const CMSG_X11_REQUEST_FORWARDING: u8 = 34;
/// rhosts-RSA authentication: the client's user name, host key bits, exponent,
/// modulus.
pub const CMSG_AUTH_RHOSTS_RSA: u8 = 35;
/// A debug message (string).
pub const MSG_DEBUG: u8 = 36;
/// Compression (level); refused by Sisu.
pub const CMSG_REQUEST_COMPRESSION: u8 = 37;
/// The client's largest packet; refused by Sisu.
pub const CMSG_MAX_PACKET_SIZE: u8 = 38;
/// TIS (S/Key) authentication; refused by Sisu.
pub const CMSG_AUTH_TIS: u8 = 39;

/// Authentication method numbers of `SSH_SMSG_PUBLIC_KEY`'s mask.
pub mod auth {
    /// rhosts (never offered).
    pub const RHOSTS: u32 = 1;
    /// RSA challenge-response.
    pub const RSA: u32 = 2;
    /// Password.
    pub const PASSWORD: u32 = 3;
    /// rhosts with RSA host authentication.
    pub const RHOSTS_RSA: u32 = 4;
    /// TIS (never offered).
    pub const TIS: u32 = 5;
}

/// Protocol flags of `SSH_SMSG_PUBLIC_KEY` and `SSH_CMSG_SESSION_KEY`.
pub mod flags {
    /// X11 forwarding carries the screen number.
    pub const SCREEN_NUMBER: u32 = 1;
    /// Port opens carry the originator's host.
    pub const HOST_IN_FWD_OPEN: u32 = 2;
}
