//! # The monitor channel: typed messages between the monitor and its children
//!
//! A session is three processes (see `ARCHITECTURE.md`): the root monitor, and in turn
//! a sandboxed pre-auth child and a post-auth child running as the user. They talk
//! over a Unix socket pair: [`channel`] frames bytes and passes descriptors
//! (`SCM_RIGHTS`); [`message`] gives the frames their types. The monitor decodes what a
//! child sends as carefully as network input: a compromised child sends garbage.

pub mod channel;
pub mod message;

pub use channel::{Channel, Frame, MAX_FDS, MAX_FRAME};
pub use message::{DecodeError, FromMonitor, ToMonitor};
