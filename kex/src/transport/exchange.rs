//! Running the key-exchange method: the server's signed reply, the client's check of
//! it, key derivation, and `SSH_MSG_NEWKEYS` in both directions.

use super::phase::{PendingReply, Phase, Waiting};
use super::{need_bits, Event, Negotiated, Role, Stage, Suite, Transport, TransportError};
use crate::derive::{derive_keys_with, exchange_hash, HashPrefix, KeyLengths};
use crate::hostkey::{self, HostKeyError};
use crate::method::{Ctx, Method, Step};
use crate::moduli::DhGroup;
use sisu_cipher::{new_opener, new_sealer, CipherAlg, MacAlg};
use sisu_wire::{msg, Writer};
use zeroize::Zeroizing;

impl Transport {
    /// Runs `f` on the current method with a context built from the transport.
    pub(super) fn with_method<T>(
        &mut self,
        need_bits: usize,
        f: impl FnOnce(&mut dyn Method, &mut Ctx<'_>) -> Result<T, TransportError>,
    ) -> Result<T, TransportError> {
        let method = self
            .phase
            .exchange_mut()
            .and_then(|x| x.method.as_mut())
            .ok_or(TransportError::UnexpectedMessage {
                number: 30,
                stage: Stage::OutOfSequence,
            })?;
        let mut ctx = Ctx {
            rng: &mut *self.rng,
            need_bits,
            groups: &self.config.gex_groups,
        };
        f(method.as_mut(), &mut ctx)
    }

    /// A key-exchange message (30–49): the method decides what it means.
    pub(super) fn on_kex_message(&mut self, payload: &[u8]) -> Result<(), TransportError> {
        let number = payload.first().copied().unwrap_or_default();
        let Some(exchange) = self.phase.exchange() else {
            return Err(TransportError::UnexpectedMessage {
                number,
                stage: Stage::NoKex,
            });
        };
        if exchange.newkeys_sent {
            return Err(TransportError::UnexpectedMessage {
                number,
                stage: Stage::AfterNewkeys,
            });
        }
        let Some(neg) = exchange.negotiated.as_ref() else {
            return Err(TransportError::out_of_sequence(number));
        };
        let need = need_bits(neg);
        let step = self.with_method(need, |m, ctx| m.handle(payload, ctx))?;
        self.run_step(step)
    }

    /// Does what the method asked for.
    pub(super) fn run_step(&mut self, step: Step) -> Result<(), TransportError> {
        match step {
            Step::Send(m) => self.send_transport_message(&m),
            Step::ChooseGroup(request) => {
                self.push_event(Event::GroupNeeded(request))?;
                if let Some(x) = self.phase.exchange_mut() {
                    x.waiting = Some(Waiting::Group);
                }
                Ok(())
            }
            Step::Reply {
                number,
                reply_value,
                middle,
                k,
            } => self.server_reply(number, &reply_value, &middle, k),
            Step::Verify {
                k_s,
                signature,
                middle,
                k,
            } => self.client_verify(k_s, &signature, &middle, &k),
        }
    }

    /// The negotiated algorithms and both KEXINIT payloads (ours, theirs) of the
    /// exchange under way.
    fn kexinits(&self) -> Result<(Negotiated, Vec<u8>, Vec<u8>), TransportError> {
        let exchange = self.phase.exchange();
        match exchange.map(|x| (x.negotiated.clone(), x.theirs.clone())) {
            Some((Some(neg), Some(theirs))) => Ok((
                neg,
                exchange.map(|x| x.ours.clone()).unwrap_or_default(),
                theirs,
            )),
            _ => Err(TransportError::out_of_sequence(msg::SSH_MSG_KEX_ECDH_REPLY)),
        }
    }

    fn peer_line(&self) -> Result<Vec<u8>, TransportError> {
        self.peer_ident
            .as_ref()
            .map(|id| id.line.as_bytes().to_vec())
            .ok_or(TransportError::out_of_sequence(msg::SSH_MSG_KEXINIT))
    }

    /// Server: signs the exchange hash (or asks the caller to, for a host key without
    /// its private half), sends the reply and `SSH_MSG_NEWKEYS`. `k` is the encoded
    /// shared secret (the method's zeroizing buffer).
    fn server_reply(
        &mut self,
        number: u8,
        reply_value: &[u8],
        middle: &[u8],
        k: Zeroizing<Vec<u8>>,
    ) -> Result<(), TransportError> {
        let (neg, ours, theirs) = self.kexinits()?;
        let peer_line = self.peer_line()?;
        let (index, host_key) = self
            .host_keys
            .iter()
            .enumerate()
            .find(|(_, hk)| hk.algorithms().contains(&neg.host_key))
            .ok_or_else(|| TransportError::kex("no host key for the negotiated algorithm"))?;
        let prefix = HashPrefix {
            v_c: &peer_line,
            v_s: self.our_ident.as_bytes(),
            i_c: &theirs,
            i_s: &ours,
            k_s: host_key.public_blob(),
        };
        let h = exchange_hash(neg.kex.hash(), &prefix, middle, &k);
        let k_s = host_key.public_blob().to_vec();
        if !host_key.can_sign() {
            let alg = neg.host_key.plain();
            self.push_event(Event::SignatureNeeded {
                key: index,
                algorithm: alg,
                data: h.clone(),
            })?;
            if let Some(x) = self.phase.exchange_mut() {
                x.waiting = Some(Waiting::Signature(Box::new(PendingReply {
                    key: index,
                    alg,
                    number,
                    reply_value: reply_value.to_vec(),
                    k_s,
                    h,
                    k,
                    negotiated: neg,
                })));
            }
            return Ok(());
        }
        let sig = host_key
            .sign(neg.host_key, &h, &mut *self.rng)
            .map_err(|e| TransportError::kex(e.to_string()))?;
        self.send_reply(number, reply_value, &k_s, &sig)?;
        self.finish_exchange(&neg, &k, &h, k_s)
    }

    /// `byte number ‖ string K_S ‖ reply_value ‖ string signature`.
    fn send_reply(
        &mut self,
        number: u8,
        reply_value: &[u8],
        k_s: &[u8],
        sig: &[u8],
    ) -> Result<(), TransportError> {
        let mut w = Writer::msg(number);
        w.string(k_s).raw(reply_value).string(sig);
        self.send_transport_message(w.as_slice())
    }

    /// The caller's signature for a [`PendingReply`]: verified against the host key,
    /// then the reply and `SSH_MSG_NEWKEYS` go out.
    pub(super) fn signature_provided(
        &mut self,
        signature: Result<Vec<u8>, HostKeyError>,
    ) -> Result<(), TransportError> {
        let Some(x) = self.phase.exchange_mut() else {
            return Ok(());
        };
        let pending = match x.waiting.take() {
            Some(Waiting::Signature(p)) => p,
            other => {
                x.waiting = other;
                return Ok(());
            }
        };
        let sig =
            signature.map_err(|e| TransportError::kex(format!("host key signing failed: {e}")))?;
        let plain = self
            .host_keys
            .get(pending.key)
            .map(|hk| hk.plain_public_blob().to_vec())
            .ok_or_else(|| TransportError::kex("host key gone"))?;
        hostkey::verify(&plain, pending.alg, &pending.h, &sig)
            .map_err(|e| TransportError::kex(format!("the signer's signature is no good: {e}")))?;
        let p = *pending;
        self.send_reply(p.number, &p.reply_value, &p.k_s, &sig)?;
        self.finish_exchange(&p.negotiated, &p.k, &p.h, p.k_s.clone())
    }

    /// The caller's group for a [`Waiting::Group`]: the method checks it against the
    /// request and sends it.
    pub(super) fn group_provided(&mut self, group: Option<DhGroup>) -> Result<(), TransportError> {
        let Some(x) = self.phase.exchange_mut() else {
            return Ok(());
        };
        if !matches!(x.waiting, Some(Waiting::Group)) {
            return Ok(());
        }
        x.waiting = None;
        let step = self.with_method(0, |m, _| m.group_chosen(group))?;
        self.run_step(step)
    }

    /// Client: checks the server's signature over the exchange hash.
    fn client_verify(
        &mut self,
        k_s: Vec<u8>,
        signature: &[u8],
        middle: &[u8],
        k: &[u8],
    ) -> Result<(), TransportError> {
        let (neg, ours, theirs) = self.kexinits()?;
        let peer_line = self.peer_line()?;
        let prefix = HashPrefix {
            v_c: self.our_ident.as_bytes(),
            v_s: &peer_line,
            i_c: &ours,
            i_s: &theirs,
            k_s: &k_s,
        };
        let h = exchange_hash(neg.kex.hash(), &prefix, middle, k);
        hostkey::verify(&k_s, neg.host_key, &h, signature)
            .map_err(|e| TransportError::HostKey(e.to_string()))?;
        self.finish_exchange(&neg, k, &h, k_s)
    }

    /// Derives the keys, sends `SSH_MSG_NEWKEYS` and switches the outgoing direction.
    fn finish_exchange(
        &mut self,
        neg: &Negotiated,
        k: &[u8],
        h: &[u8],
        host_key: Vec<u8>,
    ) -> Result<(), TransportError> {
        let first = self.session_id.is_none();
        let session_id = self.session_id.get_or_insert_with(|| h.to_vec()).clone();
        let lengths = |c: CipherAlg, m: Option<MacAlg>| KeyLengths {
            iv: c.iv_len(),
            key: c.key_len(),
            mac: m.map_or(0, |m| m.key_len()),
        };
        let (c2s, s2c) = derive_keys_with(
            neg.kex.hash(),
            k,
            h,
            &session_id,
            lengths(neg.cipher_c2s, neg.mac_c2s),
            lengths(neg.cipher_s2c, neg.mac_s2c),
        );
        let (out_keys, out_c, out_m, in_keys, in_c, in_m) = match self.role {
            Role::Server => (
                &s2c,
                neg.cipher_s2c,
                neg.mac_s2c,
                &c2s,
                neg.cipher_c2s,
                neg.mac_c2s,
            ),
            Role::Client => (
                &c2s,
                neg.cipher_c2s,
                neg.mac_c2s,
                &s2c,
                neg.cipher_s2c,
                neg.mac_s2c,
            ),
        };
        let sealer = new_sealer(out_c, out_m, out_keys)
            .map_err(|e| TransportError::kex(format!("cannot key {}: {e}", out_c.name())))?;
        let opener = new_opener(in_c, in_m, in_keys)
            .map_err(|e| TransportError::kex(format!("cannot key {}: {e}", in_c.name())))?;
        self.send_transport_message(&[msg::SSH_MSG_NEWKEYS])?;
        self.enc.set_sealer(sealer);
        self.out_suite = Some(Suite {
            cipher: out_c,
            mac: out_m,
            keys: out_keys.clone(),
        });
        if self.strict {
            self.enc.reset_seq();
        }
        let in_suite = Suite {
            cipher: in_c,
            mac: in_m,
            keys: in_keys.clone(),
        };
        if let Some(exchange) = self.phase.exchange_mut() {
            exchange.newkeys_sent = true;
            exchange.opener = Some(opener);
            exchange.opener_suite = Some(in_suite);
            exchange.host_key = host_key;
        }
        if first && self.role == Role::Server && self.ext_info_wanted {
            let mut w = Writer::msg(msg::SSH_MSG_EXT_INFO);
            w.u32(1)
                .str("server-sig-algs")
                .str(&self.config.server_sig_algs.join(","));
            self.send_transport_message(w.as_slice())?;
        }
        self.flush_queued()
    }

    /// The peer's `SSH_MSG_NEWKEYS`: the incoming direction switches to the new keys,
    /// and the exchange (first or re-exchange) is over.
    pub(super) fn on_newkeys(&mut self) -> Result<(), TransportError> {
        let unexpected = |stage| TransportError::UnexpectedMessage {
            number: msg::SSH_MSG_NEWKEYS,
            stage,
        };
        let (exchange, first) =
            match std::mem::replace(&mut self.phase, Phase::Keyed { rekey: None }) {
                Phase::First { exchange } => (exchange, true),
                Phase::Keyed { rekey: Some(x) } => (x, false),
                Phase::Keyed { rekey: None } => return Err(unexpected(Stage::NoKex)),
            };
        let (Some(opener), Some(negotiated)) = (exchange.opener, exchange.negotiated) else {
            return Err(unexpected(Stage::OutOfSequence));
        };
        self.dec.set_opener(opener);
        self.in_suite = exchange.opener_suite;
        if self.strict {
            self.dec.reset_seq();
        }
        self.kex_count += 1;
        self.bytes_since_kex = 0;
        self.negotiated = Some(negotiated.clone());
        self.push_event(Event::KeysEstablished {
            first,
            negotiated,
            host_key: exchange.host_key,
        })?;
        // Messages queued while our side had not yet sent KEXINIT-then-NEWKEYS go out now.
        self.flush_queued()
    }
}
