//! Protocol 1's server key in the listener: generated at start-up, handed to every
//! session as a memory file ([`crate::os::SERVER_KEY_FD`]), and regenerated in a
//! background thread once it has been used and `KeyRegenerationInterval` has passed
//! since it was made (as sshd did, so that a recorded session cannot be decrypted
//! later with a key taken from the host). The old key's memory file is dropped when
//! the new one is in place; the key itself is never written to disk.

use super::keys::{generate_server_key, write_rsa1_private};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::sync::mpsc::{channel, Receiver, TryRecvError};
use std::time::{Duration, Instant};
use zeroize::Zeroizing;

/// How often the listener looks for a finished regeneration.
pub const REGENERATION_POLL: Duration = Duration::from_millis(200);

/// The current server key and its regeneration.
pub struct ServerKeys {
    bits: u32,
    interval: Option<Duration>,
    current: OwnedFd,
    made: Instant,
    used: bool,
    pending: Option<Receiver<Result<Zeroizing<Vec<u8>>, String>>>,
}

fn make(bits: u32) -> Result<Zeroizing<Vec<u8>>, String> {
    let key = generate_server_key(bits, &mut rand_core::OsRng)?;
    let mut check = [0u8; 2];
    rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut check);
    Ok(write_rsa1_private(&key, "", check))
}

impl ServerKeys {
    /// Generates the first key (blocking: protocol 1 clients need it from the first
    /// connection). `interval`: `KeyRegenerationInterval` (`None` for 0, never).
    pub fn generate(bits: u32, interval: Option<Duration>) -> Result<ServerKeys, String> {
        verbose!("Generating {bits} bit RSA key.");
        let file = make(bits)?;
        let current = crate::os::server_key_memfd(&file).map_err(|e| e.to_string())?;
        verbose!("RSA key generation complete.");
        Ok(ServerKeys {
            bits,
            interval,
            current,
            made: Instant::now(),
            used: false,
            pending: None,
        })
    }

    /// The memory file to hand to a new session; the key counts as used from now.
    pub fn for_session(&mut self) -> BorrowedFd<'_> {
        self.used = true;
        self.current.as_fd()
    }

    /// When the listener must look again (a regeneration is due or running).
    pub fn next_check(&self, now: Instant) -> Option<Duration> {
        if self.pending.is_some() {
            return Some(REGENERATION_POLL);
        }
        let iv = self.interval?;
        self.used
            .then(|| (self.made + iv).saturating_duration_since(now))
    }

    /// Starts a regeneration that is due, and puts a finished one in place.
    pub fn tick(&mut self, now: Instant) {
        if let Some(rx) = &self.pending {
            match rx.try_recv() {
                Ok(Ok(file)) => match crate::os::server_key_memfd(&file) {
                    Ok(fd) => {
                        self.current = fd;
                        self.made = now;
                        self.used = false;
                        self.pending = None;
                        verbose!("RSA key generation complete.");
                    }
                    Err(e) => {
                        error!("server key: {e}");
                        self.pending = None;
                    }
                },
                Ok(Err(e)) => {
                    error!("server key generation failed: {e}");
                    self.pending = None;
                    self.made = now;
                }
                Err(TryRecvError::Empty) => {}
                Err(TryRecvError::Disconnected) => self.pending = None,
            }
            return;
        }
        let Some(iv) = self.interval else { return };
        if self.used && now >= self.made + iv {
            verbose!("Generating new {} bit RSA key.", self.bits);
            let (tx, rx) = channel();
            let bits = self.bits;
            let spawned = std::thread::Builder::new()
                .name("server-key".into())
                .spawn(move || {
                    let _ = tx.send(make(bits));
                });
            match spawned {
                Ok(_) => self.pending = Some(rx),
                Err(e) => {
                    error!("server key: cannot start its generation: {e}");
                    self.made = now;
                }
            }
        }
    }

    /// Whether the key was replaced since it was first handed out (for tests).
    pub fn made_at(&self) -> Instant {
        self.made
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regenerated_only_once_used_and_due() {
        let mut k = ServerKeys::generate(512, Some(Duration::from_millis(50))).unwrap();
        let first = k.made_at();
        std::thread::sleep(Duration::from_millis(80));
        k.tick(Instant::now());
        assert!(k.pending.is_none(), "not used: kept");
        assert_eq!(k.next_check(Instant::now()), None);
        let _ = k.for_session();
        k.tick(Instant::now());
        assert!(k.pending.is_some(), "used and due: regenerating");
        for _ in 0..300 {
            std::thread::sleep(REGENERATION_POLL / 4);
            k.tick(Instant::now());
            if k.pending.is_none() {
                break;
            }
        }
        assert!(k.made_at() > first, "a new key is in place");
        assert!(!k.used);
    }
}
