//! `SSH_MSG_KEXINIT`: sending ours, answering the peer's, negotiating (RFC 4253 §7.1),
//! and guessed key-exchange packets.
//!
//! A guess (`first_kex_packet_follows`) is right, by RFC 4253 §7.1 and as OpenSSH
//! checks it, when both sides' first `kex_algorithms` and first
//! `server_host_key_algorithms` entries are the same: then negotiation cannot land
//! anywhere else. It is wrong otherwise, even when negotiation happens to land on the
//! guessed algorithms, because the guesser cannot know that when it sends the
//! packet... unless both sides list [`KEX_GUESS2`] (Dropbear's extension), where the
//! rule becomes "the negotiated algorithms are the guesser's first choices". A wrong
//! guess from the peer is dropped without a word; after our own wrong guess we send
//! the right first packet.

use super::phase::{Exchange, Guess, Phase};
use super::{
    need_bits, suite_need, AlgorithmKind, Negotiated, Role, StrictKexViolation, Transport,
    TransportError, EXT_INFO_C, KEX_GUESS2, KEX_STRICT_C, KEX_STRICT_S, MAX_PREAUTH_KEX,
};
use crate::alg::{negotiate, KexAlg};
use crate::hostkey_alg::HostKeyAlg;
use crate::kexinit::KexInit;
use crate::method::{new_method, Ctx};
use sisu_cipher::{CipherAlg, MacAlg};
use sisu_wire::NameList;

fn names<T: Copy>(items: &[T], name: fn(T) -> &'static str) -> Vec<&'static str> {
    items.iter().map(|a| name(*a)).collect()
}

/// The guesser's first choices, from its KEXINIT.
fn first_choices(k: &KexInit<'_>) -> Guess {
    Guess {
        kex: k.kex.iter().next().unwrap_or_default().to_string(),
        host_key: k.host_key.iter().next().unwrap_or_default().to_string(),
    }
}

/// Whether a guess made for `guess` is right, against the other side's first choices
/// `other` and the outcome `neg` (see the module docs).
fn guess_right(guess: &Guess, other: &Guess, neg: &Negotiated, kexguess2: bool) -> bool {
    if kexguess2 {
        guess.kex == neg.kex.name() && guess.host_key == neg.host_key.name()
    } else {
        guess == other
    }
}

/// Picks the algorithms from the client's and the server's KEXINIT.
fn negotiate_all(
    c: &KexInit<'_>,
    s: &KexInit<'_>,
    strict: bool,
) -> Result<Negotiated, TransportError> {
    fn pick<'a>(
        what: AlgorithmKind,
        c: NameList<'a>,
        s: NameList<'_>,
    ) -> Result<&'a str, TransportError> {
        let server: Vec<&str> = s.iter().collect();
        negotiate(c.iter(), &server).ok_or_else(|| TransportError::NoMatchingAlgorithm {
            what,
            client: c.as_str().to_string(),
            server: s.as_str().to_string(),
        })
    }
    fn unknown(what: AlgorithmKind, name: &str) -> TransportError {
        TransportError::UnknownAlgorithm {
            what,
            name: name.to_string(),
        }
    }
    let kex_name = pick(AlgorithmKind::KeyExchange, c.kex, s.kex)?;
    let kex =
        KexAlg::from_name(kex_name).ok_or_else(|| unknown(AlgorithmKind::KeyExchange, kex_name))?;
    let hk_name = pick(AlgorithmKind::HostKey, c.host_key, s.host_key)?;
    let host_key =
        HostKeyAlg::from_name(hk_name).ok_or_else(|| unknown(AlgorithmKind::HostKey, hk_name))?;
    let cipher = |cl: NameList<'_>, sl: NameList<'_>| {
        let name = pick(AlgorithmKind::Cipher, cl, sl)?;
        CipherAlg::from_name(name).ok_or_else(|| unknown(AlgorithmKind::Cipher, name))
    };
    let cipher_c2s = cipher(c.cipher_c2s, s.cipher_c2s)?;
    let cipher_s2c = cipher(c.cipher_s2c, s.cipher_s2c)?;
    let mac = |cipher: CipherAlg, cl: NameList<'_>, sl: NameList<'_>| {
        if cipher.is_aead() {
            return Ok(None);
        }
        let name = pick(AlgorithmKind::Mac, cl, sl)?;
        MacAlg::from_name(name)
            .map(Some)
            .ok_or_else(|| unknown(AlgorithmKind::Mac, name))
    };
    let mac_c2s = mac(cipher_c2s, c.mac_c2s, s.mac_c2s)?;
    let mac_s2c = mac(cipher_s2c, c.mac_s2c, s.mac_s2c)?;
    pick(AlgorithmKind::Compression, c.comp_c2s, s.comp_c2s)?;
    pick(AlgorithmKind::Compression, c.comp_s2c, s.comp_s2c)?;
    Ok(Negotiated {
        kex,
        host_key,
        cipher_c2s,
        cipher_s2c,
        mac_c2s,
        mac_s2c,
        strict,
    })
}

impl Transport {
    /// Sends our `SSH_MSG_KEXINIT` and returns the exchange it opens. `may_guess`: we
    /// speak first (not in answer to the peer's KEXINIT), so a client configured to
    /// guess sends its first key-exchange packet right after.
    pub(super) fn start_kexinit(&mut self, may_guess: bool) -> Exchange {
        let mut cookie = [0u8; 16];
        self.rng.fill_bytes(&mut cookie);
        let first = self.session_id.is_none();
        let mut kex: Vec<&str> = names(&self.config.kex, KexAlg::name);
        if first {
            match self.role {
                Role::Server => {
                    if self.config.strict_kex {
                        kex.push(KEX_STRICT_S);
                    }
                }
                Role::Client => {
                    kex.push(EXT_INFO_C);
                    if self.config.strict_kex {
                        kex.push(KEX_STRICT_C);
                    }
                }
            }
        }
        // Last, after the first exchange's markers: a name-list's order matters only
        // for algorithms.
        if self.config.kex_guess2 {
            kex.push(KEX_GUESS2);
        }
        let host_key: Vec<&str> = match self.role {
            Role::Server => self
                .config
                .host_key_algs
                .iter()
                .filter(|a| self.host_keys.iter().any(|k| k.algorithms().contains(a)))
                .map(|a| a.name())
                .collect(),
            Role::Client => names(&self.config.host_key_algs, HostKeyAlg::name),
        };
        // A guess: our first choices, if a method for them can start.
        let guess = match (
            may_guess && self.role == Role::Client && self.config.send_kex_guess,
            self.config.kex.first(),
            host_key.first(),
            self.config.ciphers.first(),
        ) {
            (true, Some(&alg), Some(hk), Some(&cipher)) => {
                let mac = if cipher.is_aead() {
                    None
                } else {
                    self.config.macs.first().copied()
                };
                new_method(alg, true).ok().and_then(|mut m| {
                    let mut ctx = Ctx {
                        rng: &mut *self.rng,
                        need_bits: 8 * suite_need(cipher, mac),
                        groups: &self.config.gex_groups,
                    };
                    let packet = m.start(&mut ctx).ok().flatten()?;
                    let g = Guess {
                        kex: alg.name().to_string(),
                        host_key: (*hk).to_string(),
                    };
                    Some((m, packet, g))
                })
            }
            _ => None,
        };
        let ciphers = names(&self.config.ciphers, CipherAlg::name).join(",");
        let macs = names(&self.config.macs, MacAlg::name).join(",");
        let kex = kex.join(",");
        let host_key = host_key.join(",");
        let init = KexInit {
            cookie,
            kex: NameList(&kex),
            host_key: NameList(&host_key),
            cipher_c2s: NameList(&ciphers),
            cipher_s2c: NameList(&ciphers),
            mac_c2s: NameList(&macs),
            mac_s2c: NameList(&macs),
            comp_c2s: NameList("none"),
            comp_s2c: NameList("none"),
            first_kex_follows: guess.is_some(),
        };
        let payload = init.encode();
        let _ = self.send_transport_message(&payload);
        let mut exchange = Exchange::new(payload);
        if let Some((method, packet, g)) = guess {
            let _ = self.send_transport_message(&packet);
            exchange.method = Some(method);
            exchange.our_guess = Some(g);
        }
        exchange
    }

    /// The peer's `SSH_MSG_KEXINIT`.
    pub(super) fn on_kexinit(&mut self, seq: u32, payload: Vec<u8>) -> Result<(), TransportError> {
        let peer_starts = match &self.phase {
            Phase::First { exchange }
            | Phase::Keyed {
                rekey: Some(exchange),
            } => {
                if exchange.theirs.is_some() {
                    return Err(TransportError::KexinitDuringKex);
                }
                false
            }
            Phase::Keyed { rekey: None } => true,
        };
        if peer_starts {
            if !self.authenticated {
                self.preauth_kex = self.preauth_kex.saturating_add(1);
                if self.preauth_kex > MAX_PREAUTH_KEX {
                    return Err(TransportError::KexFlood {
                        exchanges: self.preauth_kex,
                    });
                }
            }
            let exchange = self.start_kexinit(false);
            self.phase = Phase::Keyed {
                rekey: Some(exchange),
            };
        }
        let peer = KexInit::parse(&payload)?;
        if self.phase.is_first() {
            let strict = self.config.strict_kex
                && match self.role {
                    Role::Server => peer.kex.contains(KEX_STRICT_C),
                    Role::Client => peer.kex.contains(KEX_STRICT_S),
                };
            if strict && seq != 0 {
                return Err(TransportError::StrictKex(
                    StrictKexViolation::KexinitNotFirst,
                ));
            }
            self.strict = strict;
            if self.role == Role::Server {
                self.ext_info_wanted = peer.kex.contains(EXT_INFO_C);
            }
        }
        let ours_bytes = self
            .phase
            .exchange()
            .map(|x| x.ours.clone())
            .unwrap_or_default();
        let ours = KexInit::parse(&ours_bytes)?;
        let (client, server) = match self.role {
            Role::Server => (&peer, &ours),
            Role::Client => (&ours, &peer),
        };
        let negotiated = negotiate_all(client, server, self.strict)?;
        let kexguess2 = self.config.kex_guess2 && peer.kex.contains(KEX_GUESS2);
        let (peer_first, our_first) = (first_choices(&peer), first_choices(&ours));
        let skip_guess =
            peer.first_kex_follows && !guess_right(&peer_first, &our_first, &negotiated, kexguess2);
        let is_client = self.role == Role::Client;
        let Some(exchange) = self.phase.exchange_mut() else {
            return Err(TransportError::KexinitDuringKex);
        };
        let keep_our_guess = exchange
            .our_guess
            .take()
            .is_some_and(|g| guess_right(&g, &peer_first, &negotiated, kexguess2));
        exchange.skip_guess = skip_guess;
        exchange.theirs = Some(payload);
        if !keep_our_guess {
            exchange.method = Some(new_method(negotiated.kex, is_client)?);
        }
        let need = need_bits(&negotiated);
        exchange.negotiated = Some(negotiated);
        if is_client && !keep_our_guess {
            let first = self.with_method(need, |m, ctx| m.start(ctx))?;
            if let Some(m) = first {
                self.send_transport_message(&m)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn neg(kex: KexAlg, host_key: HostKeyAlg) -> Negotiated {
        Negotiated {
            kex,
            host_key,
            cipher_c2s: CipherAlg::DEFAULT[0],
            cipher_s2c: CipherAlg::DEFAULT[0],
            mac_c2s: None,
            mac_s2c: None,
            strict: false,
        }
    }

    fn g(kex: &str, host_key: &str) -> Guess {
        Guess {
            kex: kex.into(),
            host_key: host_key.into(),
        }
    }

    #[test]
    fn rfc_rule_needs_equal_first_choices_kexguess2_the_negotiated_ones() {
        let n = neg(KexAlg::Curve25519Sha256, HostKeyAlg::Ed25519);
        let guess = g("curve25519-sha256", "ssh-ed25519");
        // Same first choices: right under both rules.
        assert!(guess_right(&guess, &guess.clone(), &n, false));
        assert!(guess_right(&guess, &guess.clone(), &n, true));
        // Different first kex, negotiation lands on the guess anyway: wrong by the RFC,
        // right with kexguess2.
        let other = g("mlkem768x25519-sha256", "ssh-ed25519");
        assert!(!guess_right(&guess, &other, &n, false));
        assert!(guess_right(&guess, &other, &n, true));
        // Different first host key: likewise.
        let other = g("curve25519-sha256", "rsa-sha2-512");
        assert!(!guess_right(&guess, &other, &n, false));
        assert!(guess_right(&guess, &other, &n, true));
        // Negotiation lands elsewhere: wrong under both.
        let n2 = neg(KexAlg::MlKem768X25519Sha256, HostKeyAlg::Ed25519);
        assert!(!guess_right(&guess, &other, &n2, true));
        assert!(!guess_right(&guess, &other, &n2, false));
    }
}
