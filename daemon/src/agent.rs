//! Host keys held by an SSH agent (`HostKeyAgent`): only their public halves are on
//! disk, and each exchange hash is signed by the agent, with the agent protocol's sign
//! request (`SSH_AGENTC_SIGN_REQUEST` → `SSH_AGENT_SIGN_RESPONSE`, draft-miller-ssh-agent
//! §4.5).
//!
//! One short connection per signature, with time limits on every step and a bound on
//! the answer; the signature is then verified by `sisu-kex` before it is sent.

use sisu_kex::hostkey::HostKeyError;
use sisu_kex::{ExternalSigner, HostKeyAlg};
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::time::Duration;

/// `SSH_AGENTC_SIGN_REQUEST`.
const SIGN_REQUEST: u8 = 13;
/// `SSH_AGENT_SIGN_RESPONSE`.
const SIGN_RESPONSE: u8 = 14;
/// `SSH_AGENT_FAILURE`.
const FAILURE: u8 = 5;
/// Sign-request flag: an RSA signature with SHA-256 (`rsa-sha2-256`).
const RSA_SHA2_256: u32 = 2;
/// Sign-request flag: an RSA signature with SHA-512 (`rsa-sha2-512`).
const RSA_SHA2_512: u32 = 4;
/// Largest agent message read.
pub const MAX_AGENT_MESSAGE: usize = 256 * 1024;
/// How long one step of talking to the agent may take.
pub const AGENT_TIMEOUT: Duration = Duration::from_secs(10);

/// Signs with the agent listening on `socket`.
#[derive(Debug, Clone)]
pub struct AgentSigner {
    socket: PathBuf,
}

impl AgentSigner {
    /// The agent at `socket`.
    pub fn new(socket: PathBuf) -> Self {
        AgentSigner { socket }
    }

    fn request(&self, message: &[u8]) -> std::io::Result<Vec<u8>> {
        let mut s = UnixStream::connect(&self.socket)?;
        s.set_read_timeout(Some(AGENT_TIMEOUT))?;
        s.set_write_timeout(Some(AGENT_TIMEOUT))?;
        s.write_all(&(message.len() as u32).to_be_bytes())?;
        s.write_all(message)?;
        let mut len = [0u8; 4];
        s.read_exact(&mut len)?;
        let len = u32::from_be_bytes(len) as usize;
        if len == 0 || len > MAX_AGENT_MESSAGE {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("agent answer of {len} bytes"),
            ));
        }
        let mut answer = vec![0u8; len];
        s.read_exact(&mut answer)?;
        Ok(answer)
    }
}

/// The flags that ask the agent for `alg` (RSA keys sign SHA-1 without one).
fn flags(alg: HostKeyAlg) -> u32 {
    match alg {
        HostKeyAlg::RsaSha256 => RSA_SHA2_256,
        HostKeyAlg::RsaSha512 => RSA_SHA2_512,
        _ => 0,
    }
}

impl ExternalSigner for AgentSigner {
    fn sign(
        &self,
        public_blob: &[u8],
        alg: HostKeyAlg,
        data: &[u8],
    ) -> Result<Vec<u8>, HostKeyError> {
        let fail = |why: String| HostKeyError(format!("agent {}: {why}", self.socket.display()));
        let mut w = sisu_wire::Writer::msg(SIGN_REQUEST);
        w.string(public_blob).string(data).u32(flags(alg));
        let answer = self
            .request(w.as_slice())
            .map_err(|e| fail(e.to_string()))?;
        match answer.first() {
            Some(&SIGN_RESPONSE) => {
                let mut r = sisu_wire::Reader::new(&answer[1..]);
                let sig = r.string().map_err(|e| fail(e.to_string()))?.to_vec();
                r.finish().map_err(|e| fail(e.to_string()))?;
                Ok(sig)
            }
            Some(&FAILURE) => Err(fail("refused to sign".into())),
            other => Err(fail(format!("unexpected answer {other:?}"))),
        }
    }
}

/// The agent `HostKeyAgent` names: a socket path, or `SSH_AUTH_SOCK` for the one in
/// the environment (as OpenSSH).
pub fn agent_socket(setting: &str) -> Option<PathBuf> {
    if setting == "SSH_AUTH_SOCK" {
        std::env::var_os("SSH_AUTH_SOCK").map(PathBuf::from)
    } else {
        Some(PathBuf::from(setting))
    }
}
