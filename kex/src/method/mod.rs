//! Key-exchange methods, one module per family, each behind the [`Method`] trait that
//! [`crate::Transport`] drives.
//!
//! - [`hybrid`]: `mlkem768x25519-sha256`, `sntrup761x25519-sha512` (post-quantum KEM ‖
//!   X25519);
//! - [`ecdh`]: `curve25519-sha256` (and, in [`legacy`], `ecdh-sha2-nistp*`);
//! - [`dh`]: modular Diffie-Hellman (fixed groups), on crypto-bigint's constant-time
//!   Montgomery exponentiation;
//! - [`gex`]: Diffie-Hellman group exchange (RFC 4419) with groups from a moduli file.
//!
//! The one-message methods (hybrid, ECDH, fixed DH) share one driver, [`OneShot`], over
//! an [`Agreement`]: the client sends its public value, the server answers with its own,
//! its host key and a signature. Group exchange has two more messages and is its own
//! [`Method`].
//!
//! ```
//! use sisu_kex::method::{new_method, Ctx, Step};
//! use sisu_kex::{moduli::GexGroups, KexAlg};
//! let groups = GexGroups::default();
//! let mut rng = rand_core::OsRng;
//! let mut ctx = Ctx { rng: &mut rng, need_bits: 256, groups: &groups };
//! let mut client = new_method(KexAlg::Curve25519Sha256, true).unwrap();
//! let mut server = new_method(KexAlg::Curve25519Sha256, false).unwrap();
//! let init = client.start(&mut ctx).unwrap().expect("a client speaks first");
//! let Step::Reply { number, k, .. } = server.handle(&init, &mut ctx).unwrap() else {
//!     panic!("a server answers the init")
//! };
//! assert_eq!(number, 31); // SSH_MSG_KEX_ECDH_REPLY
//! assert!(k.len() > 4); // K: the mpint of the X25519 shared secret
//! ```

pub mod dh;
pub mod ecdh;
pub mod gex;
pub mod groups;
pub mod hybrid;
#[cfg(feature = "legacy")]
pub mod legacy;

use crate::alg::{KexAlg, KexFamily};
use crate::moduli::{DhGroup, GexGroups, GroupRequest};
use crate::transport::TransportError;
use rand_core::CryptoRngCore;
use sisu_wire::{msg, Reader, Writer};
use zeroize::Zeroizing;

/// What a method needs from the transport for one step.
pub struct Ctx<'a> {
    /// Randomness.
    pub rng: &'a mut dyn CryptoRngCore,
    /// The largest key, IV or MAC key of the negotiated suites, in bits: it sizes DH
    /// exponents and the group a group-exchange client asks for.
    pub need_bits: usize,
    /// The groups a group-exchange server chooses from, or none: then the method
    /// asks for its group with [`Step::ChooseGroup`].
    pub groups: &'a GexGroups,
}

/// What a method wants done after a message.
pub enum Step {
    /// Send this message and wait for the peer's next.
    Send(Vec<u8>),
    /// Group-exchange server without a fixed list: the transport's caller chooses the
    /// group for this request; its answer goes to [`Method::group_chosen`].
    ChooseGroup(GroupRequest),
    /// Server: the shared secret is known; sign the exchange hash and send
    /// `byte number ‖ string K_S ‖ reply_value ‖ string signature`.
    Reply {
        /// The reply's message number.
        number: u8,
        /// The server's public value, encoded (`string` or `mpint`).
        reply_value: Vec<u8>,
        /// The method's part of the exchange hash input, encoded.
        middle: Vec<u8>,
        /// The shared secret `K`, encoded as the method says.
        k: Zeroizing<Vec<u8>>,
    },
    /// Client: the server's reply arrived; verify `signature` by `k_s` over the hash.
    Verify {
        /// The server's host key blob.
        k_s: Vec<u8>,
        /// The signature blob.
        signature: Vec<u8>,
        /// The method's part of the exchange hash input, encoded.
        middle: Vec<u8>,
        /// The shared secret `K`, encoded.
        k: Zeroizing<Vec<u8>>,
    },
}

/// One key exchange of one method, in one role.
pub trait Method: Send {
    /// Client: the first message to send right after negotiation. Servers return `None`.
    fn start(&mut self, ctx: &mut Ctx<'_>) -> Result<Option<Vec<u8>>, TransportError>;
    /// A key-exchange message (numbers 30–49) from the peer.
    fn handle(&mut self, payload: &[u8], ctx: &mut Ctx<'_>) -> Result<Step, TransportError>;
    /// The answer to [`Step::ChooseGroup`] (`None`: no group fits). Only group
    /// exchange asks; every other method refuses it as out of sequence.
    fn group_chosen(&mut self, group: Option<DhGroup>) -> Result<Step, TransportError> {
        let _ = group;
        Err(TransportError::out_of_sequence(
            gex::SSH_MSG_KEX_DH_GEX_REQUEST,
        ))
    }
}

/// The key agreement of a one-message method: public values and the shared secret.
pub trait Agreement: Send {
    /// Whether public values travel as `mpint` (DH) rather than `string`.
    fn mpint(&self) -> bool {
        false
    }
    /// Client: a fresh key pair; returns the public value.
    fn client_public(&mut self, rng: &mut dyn CryptoRngCore) -> Result<Vec<u8>, TransportError>;
    /// Server: checks the client's value, and returns its own value and the encoded `K`.
    fn server(
        &mut self,
        q_c: &[u8],
        ctx: &mut Ctx<'_>,
    ) -> Result<(Vec<u8>, Zeroizing<Vec<u8>>), TransportError>;
    /// Client: checks the server's value and returns the encoded `K`.
    fn client_finish(&mut self, q_s: &[u8]) -> Result<Zeroizing<Vec<u8>>, TransportError>;
}

/// The driver of the one-message methods (`*_INIT` = 30, `*_REPLY` = 31).
pub struct OneShot<A: Agreement> {
    agreement: A,
    client: bool,
    q_c: Option<Vec<u8>>,
}

impl<A: Agreement> OneShot<A> {
    /// A server or client side of `agreement`.
    pub fn new(agreement: A, client: bool) -> Self {
        OneShot {
            agreement,
            client,
            q_c: None,
        }
    }

    fn encode(&self, w: &mut Writer, v: &[u8]) {
        if self.agreement.mpint() {
            w.mpint(v);
        } else {
            w.string(v);
        }
    }

    fn read<'a>(&self, r: &mut Reader<'a>) -> Result<&'a [u8], TransportError> {
        Ok(if self.agreement.mpint() {
            r.mpint_positive()?
        } else {
            r.string()?
        })
    }
}

impl<A: Agreement> Method for OneShot<A> {
    fn start(&mut self, ctx: &mut Ctx<'_>) -> Result<Option<Vec<u8>>, TransportError> {
        if !self.client {
            return Ok(None);
        }
        let q_c = self.agreement.client_public(ctx.rng)?;
        let mut w = Writer::msg(msg::SSH_MSG_KEX_ECDH_INIT);
        self.encode(&mut w, &q_c);
        self.q_c = Some(q_c);
        Ok(Some(w.into_vec()))
    }

    fn handle(&mut self, payload: &[u8], ctx: &mut Ctx<'_>) -> Result<Step, TransportError> {
        let mut r = Reader::new(&payload[1..]);
        match (self.client, payload[0]) {
            (false, msg::SSH_MSG_KEX_ECDH_INIT) if self.q_c.is_none() => {
                let q_c = self.read(&mut r)?.to_vec();
                r.finish()?;
                let (q_s, k) = self.agreement.server(&q_c, ctx)?;
                let mut middle = Writer::new();
                self.encode(&mut middle, &q_c);
                self.encode(&mut middle, &q_s);
                let mut reply_value = Writer::new();
                self.encode(&mut reply_value, &q_s);
                self.q_c = Some(q_c);
                Ok(Step::Reply {
                    number: msg::SSH_MSG_KEX_ECDH_REPLY,
                    reply_value: reply_value.into_vec(),
                    middle: middle.into_vec(),
                    k,
                })
            }
            (true, msg::SSH_MSG_KEX_ECDH_REPLY) => {
                let q_c = self
                    .q_c
                    .take()
                    .ok_or_else(|| TransportError::out_of_sequence(msg::SSH_MSG_KEX_ECDH_REPLY))?;
                let k_s = r.string()?.to_vec();
                let q_s = self.read(&mut r)?.to_vec();
                let signature = r.string()?.to_vec();
                r.finish()?;
                let k = self.agreement.client_finish(&q_s)?;
                let mut middle = Writer::new();
                self.encode(&mut middle, &q_c);
                self.encode(&mut middle, &q_s);
                Ok(Step::Verify {
                    k_s,
                    signature,
                    middle: middle.into_vec(),
                    k,
                })
            }
            (_, n) => Err(TransportError::out_of_sequence(n)),
        }
    }
}

/// The method object for `alg` in one role.
pub fn new_method(alg: KexAlg, client: bool) -> Result<Box<dyn Method>, TransportError> {
    Ok(match alg.family() {
        KexFamily::Hybrid => match alg {
            KexAlg::MlKem768X25519Sha256 => {
                Box::new(OneShot::new(hybrid::MlKem768X25519::default(), client))
            }
            _ => Box::new(OneShot::new(hybrid::Sntrup761X25519::default(), client)),
        },
        KexFamily::Ecdh => match alg {
            KexAlg::Curve25519Sha256 | KexAlg::Curve25519Sha256Libssh => {
                Box::new(OneShot::new(ecdh::X25519::default(), client))
            }
            #[cfg(feature = "legacy")]
            other => legacy::nist_method(other, client)?,
            #[cfg(not(feature = "legacy"))]
            other => return Err(unsupported(other)),
        },
        KexFamily::FixedDh => {
            let group = match alg {
                KexAlg::DhGroup14Sha256 | KexAlg::DhGroup14Sha1 => DhGroup::group14(),
                KexAlg::DhGroup16Sha512 => DhGroup::group16(),
                KexAlg::DhGroup18Sha512 => DhGroup::group18(),
                #[cfg(feature = "legacy")]
                KexAlg::DhGroup1Sha1 => legacy::group1(),
                other => return Err(unsupported(other)),
            };
            Box::new(OneShot::new(dh::FixedGroup::new(group), client))
        }
        KexFamily::GroupExchange => Box::new(gex::GroupExchange::new(client)),
    })
}

fn unsupported(alg: KexAlg) -> TransportError {
    TransportError::kex(format!("{} is not compiled in", alg.name()))
}
