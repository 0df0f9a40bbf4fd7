//! Legacy packet protection, kept apart from the modern suites.
//!
//! Nothing lives here yet. This module is where the ciphers and MACs that Sisu offers
//! only when configured will go, each family behind its own cargo feature and named
//! for its risk:
//!
//! - SSH-2 ciphers: `3des-cbc`, `blowfish-cbc`, `cast128-cbc`, `arcfour`,
//!   `arcfour128`, `arcfour256` (RFC 4253 §6.3, RFC 4345), and `aes*-cbc`;
//! - SSH-2 MACs: `hmac-sha1`, `hmac-md5` (and their `-96` and `-etm@openssh.com`
//!   forms), `umac-64` / `umac-128` (`@openssh.com`);
//! - protocol 1 ciphers: 3DES in inner-CBC mode and Blowfish with its byte order.
//!
//! TODO(legacy): implement these behind `Sealer` / `Opener` like the modern suites, and
//! extend [`crate::CipherAlg`] / [`crate::MacAlg`] without adding them to `DEFAULT`.
