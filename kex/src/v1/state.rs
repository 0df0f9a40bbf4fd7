//! [`V1TransportState`]: a keyed SSH-1 transport as plain values, for privilege
//! separation (the pre-authentication process exports, the post-authentication
//! process imports), and its byte encoding.
//!
//! ```text
//! byte[8]  "sisu-v1t"
//! byte     version (1)
//! byte     role: 0 server, 1 client
//! byte     cipher number
//! byte[32] session key
//! byte[16] session id
//! uint32   peer protocol flags
//! string   sending cipher's chaining state    (sisu_cipher::v1::chain_state_len)
//! string   receiving cipher's chaining state
//! string   unread input                       (at most sisu_wire::v1::packet::MAX_BUFFERED)
//! string   untaken output                     (at most MAX_EXPORT_OUTPUT)
//! ```
//!
//! Decoding refuses anything else: another magic or version, an unknown cipher,
//! chaining states of the wrong length, fields too long, trailing bytes.
//!
//! ```
//! use sisu_kex::v1::{V1Error, V1TransportState};
//! assert!(matches!(V1TransportState::from_bytes(b"garbage"), Err(V1Error::BadState(_))));
//! ```

use super::{V1Error, MAX_PENDING_OUTPUT, SESSION_ID_LEN, SESSION_KEY_LEN};
use sisu_cipher::v1::{chain_state_len, V1Cipher};
use sisu_wire::v1::packet::{MAX_BUFFERED, MAX_DATA_LEN};
use sisu_wire::{Reader, Writer};
use std::fmt;
use zeroize::Zeroizing;

const MAGIC: &[u8; 8] = b"sisu-v1t";
const VERSION: u8 = 1;
/// Most untaken output carried: the output bound, one more largest packet and a
/// disconnect.
pub const MAX_EXPORT_OUTPUT: usize = MAX_PENDING_OUTPUT + 2 * (MAX_DATA_LEN + 16);

/// A keyed SSH-1 transport's state (see the module docs). The session key and
/// chaining states are wiped on drop; `Debug` does not show them.
#[derive(Clone, PartialEq, Eq)]
pub struct V1TransportState {
    pub(super) server: bool,
    pub(super) cipher: V1Cipher,
    pub(super) session_key: Zeroizing<[u8; SESSION_KEY_LEN]>,
    pub(super) session_id: [u8; SESSION_ID_LEN],
    pub(super) peer_flags: u32,
    pub(super) send_state: Zeroizing<Vec<u8>>,
    pub(super) recv_state: Zeroizing<Vec<u8>>,
    pub(super) input: Vec<u8>,
    pub(super) output: Vec<u8>,
}

impl fmt::Debug for V1TransportState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("V1TransportState")
            .field("server", &self.server)
            .field("cipher", &self.cipher)
            .field("input", &self.input.len())
            .field("output", &self.output.len())
            .finish_non_exhaustive()
    }
}

impl V1TransportState {
    /// The cipher.
    pub fn cipher(&self) -> V1Cipher {
        self.cipher
    }

    /// The session id.
    pub fn session_id(&self) -> [u8; 16] {
        self.session_id
    }

    /// The encoding (wiped on drop: it holds the session key).
    pub fn to_bytes(&self) -> Zeroizing<Vec<u8>> {
        let mut w = Writer::new();
        w.raw(MAGIC)
            .u8(VERSION)
            .u8(u8::from(!self.server))
            .u8(self.cipher.number())
            .raw(&self.session_key[..])
            .raw(&self.session_id)
            .u32(self.peer_flags)
            .string(&self.send_state)
            .string(&self.recv_state)
            .string(&self.input)
            .string(&self.output);
        Zeroizing::new(w.into_vec())
    }

    /// Decodes [`V1TransportState::to_bytes`]'s form, refusing anything else.
    pub fn from_bytes(b: &[u8]) -> Result<Self, V1Error> {
        let bad = V1Error::BadState;
        let mut r = Reader::new(b);
        if r.bytes(MAGIC.len()).map_err(|_| bad("magic"))? != MAGIC {
            return Err(bad("magic"));
        }
        if r.u8().map_err(|_| bad("version"))? != VERSION {
            return Err(bad("version"));
        }
        let server = match r.u8().map_err(|_| bad("role"))? {
            0 => true,
            1 => false,
            _ => return Err(bad("role")),
        };
        let cipher =
            V1Cipher::from_number(r.u8().map_err(|_| bad("cipher"))?).ok_or(bad("cipher"))?;
        let mut session_key = Zeroizing::new([0u8; SESSION_KEY_LEN]);
        session_key.copy_from_slice(r.bytes(SESSION_KEY_LEN).map_err(|_| bad("session key"))?);
        let mut session_id = [0u8; SESSION_ID_LEN];
        session_id.copy_from_slice(r.bytes(SESSION_ID_LEN).map_err(|_| bad("session id"))?);
        let peer_flags = r.u32().map_err(|_| bad("flags"))?;
        let chain = |r: &mut Reader<'_>, what| -> Result<Zeroizing<Vec<u8>>, V1Error> {
            let s = r.string().map_err(|_| bad(what))?;
            if s.len() != chain_state_len(cipher) {
                return Err(bad(what));
            }
            Ok(Zeroizing::new(s.to_vec()))
        };
        let send_state = chain(&mut r, "sending cipher state")?;
        let recv_state = chain(&mut r, "receiving cipher state")?;
        let input = r.string().map_err(|_| bad("input"))?;
        if input.len() > MAX_BUFFERED {
            return Err(bad("input"));
        }
        let output = r.string().map_err(|_| bad("output"))?;
        if output.len() > MAX_EXPORT_OUTPUT {
            return Err(bad("output"));
        }
        r.finish().map_err(|_| bad("trailing bytes"))?;
        Ok(V1TransportState {
            server,
            cipher,
            session_key,
            session_id,
            peer_flags,
            send_state,
            recv_state,
            input: input.to_vec(),
            output: output.to_vec(),
        })
    }
}
