//! The children's side of the monitor channel: each question sent, its answer awaited.
//!
//! A child is single-threaded and asks one question at a time, so a call is a frame out
//! and a frame back. When the monitor is gone or answers out of turn, every later
//! answer is a refusal and [`Policy::failed`] says so: the loop then ends the
//! connection.

use super::{KbdAnswer, KbdStep, Policy, SignedHostbased, SignedRequest, UserAnswer, Verdict};
use crate::ipc::{Channel, FromMonitor, ToMonitor};
use crate::os::{Pty, WinSize};
use sisu_kex::hostkey::HostKeyError;
use sisu_kex::moduli::{DhGroup, GroupRequest};
use sisu_kex::HostKeyAlg;
use sisu_userauth::{Method, Password};
use std::io;
use std::os::fd::OwnedFd;

/// A [`Policy`] that asks the monitor.
#[derive(Debug)]
pub struct ViaMonitor {
    ch: Channel,
    failed: bool,
}

impl ViaMonitor {
    /// Over the child's end of the monitor channel.
    pub fn new(ch: Channel) -> ViaMonitor {
        ViaMonitor { ch, failed: false }
    }

    /// The channel (to poll it for the monitor going away).
    pub fn channel(&self) -> &Channel {
        &self.ch
    }

    /// Sends a message that has no answer ([`ToMonitor::Handover`]).
    pub fn tell(&mut self, m: &ToMonitor) -> io::Result<()> {
        self.ch.send(&m.encode(), &[])
    }

    /// The next message the monitor sends unasked ([`FromMonitor::Setup`],
    /// [`FromMonitor::Start`]).
    pub fn receive(&mut self) -> io::Result<(FromMonitor, Vec<OwnedFd>)> {
        let frame = self
            .ch
            .recv()?
            .ok_or_else(|| io::Error::new(io::ErrorKind::UnexpectedEof, "the monitor is gone"))?;
        let m = FromMonitor::decode(&frame.bytes)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.to_string()))?;
        Ok((m, frame.fds))
    }

    /// One question and its answer; `None` (and failed for good) when the channel
    /// broke or the answer does not decode.
    fn call(&mut self, q: ToMonitor) -> Option<(FromMonitor, Vec<OwnedFd>)> {
        if self.failed {
            return None;
        }
        let answer = self.ch.send(&q.encode(), &[]).and_then(|()| self.receive());
        match answer {
            Ok(a) => Some(a),
            Err(_) => {
                self.failed = true;
                None
            }
        }
    }

    /// An answer of a kind the question does not have: the monitor is not to be
    /// trusted to be in step any more.
    fn out_of_turn(&mut self) {
        self.failed = true;
    }
}

impl Policy for ViaMonitor {
    fn sign(
        &mut self,
        key: usize,
        algorithm: HostKeyAlg,
        data: &[u8],
    ) -> Result<Vec<u8>, HostKeyError> {
        let q = ToMonitor::Sign {
            key: u32::try_from(key).unwrap_or(u32::MAX),
            algorithm: algorithm.name().to_string(),
            data: data.to_vec(),
        };
        match self.call(q) {
            Some((FromMonitor::Signature { blob }, _)) => Ok(blob),
            Some((FromMonitor::Refused { reason }, _)) => Err(HostKeyError(reason)),
            Some(_) => {
                self.out_of_turn();
                Err(HostKeyError("the monitor answered out of turn".into()))
            }
            None => Err(HostKeyError("the monitor is gone".into())),
        }
    }

    fn group(&mut self, r: GroupRequest) -> Option<DhGroup> {
        let q = ToMonitor::GexGroup {
            min: r.min,
            n: r.n,
            max: r.max,
        };
        match self.call(q)? {
            (FromMonitor::Group { p, g }, _) => DhGroup::new(&p, &g).ok(),
            (FromMonitor::NoGroup, _) => None,
            _ => {
                self.out_of_turn();
                None
            }
        }
    }

    fn user(&mut self, user: &str) -> UserAnswer {
        let q = ToMonitor::User {
            user: user.to_string(),
        };
        match self.call(q) {
            Some((
                FromMonitor::User {
                    valid,
                    refuse,
                    banner,
                    methods,
                    pubkey_algorithms,
                    hostbased_algorithms,
                },
                _,
            )) => UserAnswer {
                valid,
                refuse,
                banner,
                methods,
                pubkey_algorithms,
                hostbased_algorithms,
            },
            Some(_) => {
                self.out_of_turn();
                UserAnswer::default()
            }
            None => UserAnswer::default(),
        }
    }

    fn key_offered(&mut self, user: &str, algorithm: &str, key_blob: &[u8]) -> bool {
        let q = ToMonitor::KeyOffered {
            user: user.to_string(),
            algorithm: algorithm.to_string(),
            key: key_blob.to_vec(),
        };
        match self.call(q) {
            Some((FromMonitor::Offered { allowed }, _)) => allowed,
            Some(_) => {
                self.out_of_turn();
                false
            }
            None => false,
        }
    }

    fn key_verified(&mut self, request: &SignedRequest) -> Verdict {
        match self.call(ToMonitor::KeyVerified(request.clone())) {
            Some((FromMonitor::Verified { verdict }, _)) => verdict,
            Some(_) => {
                self.out_of_turn();
                Verdict::Deny
            }
            None => Verdict::Deny,
        }
    }

    fn hostbased_verified(&mut self, request: &SignedHostbased) -> Verdict {
        match self.call(ToMonitor::HostbasedVerified(request.clone())) {
            Some((FromMonitor::Verified { verdict }, _)) => verdict,
            Some(_) => {
                self.out_of_turn();
                Verdict::Deny
            }
            None => Verdict::Deny,
        }
    }

    fn password(&mut self, user: &str, password: &Password) -> Verdict {
        let q = ToMonitor::Password {
            user: user.to_string(),
            password: password.clone(),
        };
        match self.call(q) {
            Some((FromMonitor::Verified { verdict }, _)) => verdict,
            Some(_) => {
                self.out_of_turn();
                Verdict::Deny
            }
            None => Verdict::Deny,
        }
    }

    fn v1_session_key(
        &mut self,
        session_id: &[u8; 16],
        encrypted: &[u8],
    ) -> Option<zeroize::Zeroizing<[u8; 32]>> {
        let q = ToMonitor::V1SessionKey {
            session_id: session_id.to_vec(),
            encrypted: encrypted.to_vec(),
        };
        match self.call(q) {
            Some((FromMonitor::V1SessionKey { mut key }, _)) => {
                let out = <[u8; 32]>::try_from(key.as_slice()).ok();
                zeroize::Zeroize::zeroize(&mut key);
                out.map(zeroize::Zeroizing::new)
            }
            Some(_) => {
                self.out_of_turn();
                None
            }
            None => None,
        }
    }

    fn v1_rsa_key(&mut self, user: &str, modulus: &[u8]) -> Option<Vec<u8>> {
        let q = ToMonitor::V1RsaKey {
            user: user.to_string(),
            modulus: modulus.to_vec(),
        };
        match self.call(q) {
            Some((FromMonitor::V1Challenge { challenge }, _)) => challenge,
            Some(_) => {
                self.out_of_turn();
                None
            }
            None => None,
        }
    }

    fn v1_rsa_response(&mut self, user: &str, response: &[u8; 16]) -> Verdict {
        let q = ToMonitor::V1RsaResponse {
            user: user.to_string(),
            response: response.to_vec(),
        };
        match self.call(q) {
            Some((FromMonitor::Verified { verdict }, _)) => verdict,
            Some(_) => {
                self.out_of_turn();
                Verdict::Deny
            }
            None => Verdict::Deny,
        }
    }

    fn kbd_interactive(&mut self, user: &str, step: KbdStep) -> KbdAnswer {
        let user = user.to_string();
        let q = match step {
            KbdStep::Start { submethods } => ToMonitor::KbdStart { user, submethods },
            KbdStep::Respond(responses) => ToMonitor::KbdRespond { user, responses },
        };
        match self.call(q) {
            Some((FromMonitor::KbdPrompts { request }, _)) => KbdAnswer::Prompts(request),
            Some((FromMonitor::Verified { verdict }, _)) => KbdAnswer::Verdict(verdict),
            Some(_) => {
                self.out_of_turn();
                KbdAnswer::Verdict(Verdict::Deny)
            }
            None => KbdAnswer::Verdict(Verdict::Deny),
        }
    }

    fn next_methods(&mut self, user: &str) -> Vec<Method> {
        let q = ToMonitor::Methods {
            user: user.to_string(),
        };
        match self.call(q) {
            Some((FromMonitor::Methods { methods }, _)) => methods,
            Some(_) => {
                self.out_of_turn();
                Vec::new()
            }
            None => Vec::new(),
        }
    }

    fn prove_host_key(&mut self, key_blob: &[u8], algorithm: HostKeyAlg) -> Option<Vec<u8>> {
        let q = ToMonitor::ProveHostKey {
            key: key_blob.to_vec(),
            algorithm: algorithm.name().to_string(),
        };
        match self.call(q)? {
            (FromMonitor::Signature { blob }, _) => Some(blob),
            (FromMonitor::Refused { .. }, _) => None,
            _ => {
                self.out_of_turn();
                None
            }
        }
    }

    fn pty(&mut self, size: WinSize) -> io::Result<Pty> {
        let q = ToMonitor::Pty {
            cols: size.cols,
            rows: size.rows,
            width_px: size.width_px,
            height_px: size.height_px,
        };
        let refused = |why: String| io::Error::new(io::ErrorKind::PermissionDenied, why);
        match self.call(q) {
            Some((FromMonitor::Pty { tty, last_login }, fds)) if fds.len() == 2 => {
                let mut fds = fds.into_iter();
                match (fds.next(), fds.next()) {
                    (Some(master), Some(slave)) => Ok(Pty {
                        master,
                        slave,
                        tty_name: tty,
                        last_login,
                    }),
                    _ => Err(refused("no terminal".into())),
                }
            }
            Some((FromMonitor::Refused { reason }, _)) => Err(refused(reason)),
            Some(_) => {
                self.out_of_turn();
                Err(refused("the monitor answered out of turn".into()))
            }
            None => Err(refused("the monitor is gone".into())),
        }
    }

    fn failed(&self) -> bool {
        self.failed
    }
}
