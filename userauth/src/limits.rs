//! Named bounds on everything a peer controls (lengths, counts, queues).

/// Longest SSH_MSG_USERAUTH_* payload accepted, in bytes. The transport already bounds
/// packets (RFC 4253 §6.1: 35000 bytes); this also bounds what is queued while a
/// question is pending.
pub const MAX_MESSAGE_LEN: usize = 64 * 1024;

/// Longest user name accepted, in bytes (Linux's `LOGIN_NAME_MAX` is 256 with the NUL).
pub const MAX_USER_LEN: usize = 256;

/// Longest service, method or algorithm name accepted, in bytes (RFC 4251 §6: names are
/// at most 64 characters).
pub const MAX_NAME_LEN: usize = 64;

/// Longest public key blob accepted, in bytes (a 16384-bit RSA key is about 2 KiB).
pub const MAX_KEY_BLOB_LEN: usize = 16 * 1024;

/// Longest password accepted, in bytes (OpenSSH has no bound of its own below the
/// packet's; crypt(3) hashes read at most a few hundred bytes).
pub const MAX_PASSWORD_LEN: usize = 1024;

/// Longest signature blob accepted, in bytes.
pub const MAX_SIGNATURE_LEN: usize = 16 * 1024;

/// Longest banner sent, in bytes; a longer configured banner is cut at a character
/// boundary so that the message still fits in one packet (256 KiB, with room to spare;
/// OpenSSH's regress suite sends 100 000 bytes).
pub const MAX_BANNER_LEN: usize = 128 * 1024;

/// How many messages may arrive while a question to the daemon is pending before the
/// peer is disconnected.
pub const MAX_PENDING_MESSAGES: usize = 8;

/// How many outgoing messages may wait for [`Server::poll_transmit`](crate::Server::poll_transmit).
pub const MAX_TRANSMIT_QUEUE: usize = 64;

/// How many events may wait for [`Server::poll_event`](crate::Server::poll_event).
pub const MAX_EVENT_QUEUE: usize = 64;

/// Authentication requests accepted on one connection, whatever their outcome (as
/// OpenSSH's `auth2.c`, which disconnects at 1024 attempts); bounds the `none` requests
/// that do not count against `max_tries`.
pub const MAX_ATTEMPTS: u32 = 1024;

/// Smallest RSA modulus accepted, in bits (the verifier, ssh-key 0.6, refuses smaller).
pub const MIN_RSA_BITS: usize = 2048;

/// Largest RSA modulus accepted, in bits (the `rsa` crate's limit).
pub const MAX_RSA_BITS: usize = 4096;
