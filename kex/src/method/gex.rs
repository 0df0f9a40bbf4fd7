//! Diffie-Hellman group exchange (RFC 4419): `diffie-hellman-group-exchange-sha256`
//! (and `-sha1` when configured).
//!
//! ```text
//! C: SSH_MSG_KEX_DH_GEX_REQUEST (34)  uint32 min, n, max
//! S: SSH_MSG_KEX_DH_GEX_GROUP   (31)  mpint p, g
//! C: SSH_MSG_KEX_DH_GEX_INIT    (32)  mpint e
//! S: SSH_MSG_KEX_DH_GEX_REPLY   (33)  string K_S, mpint f, string signature
//! H = HASH(V_C ‖ V_S ‖ I_C ‖ I_S ‖ K_S ‖ min ‖ n ‖ max ‖ p ‖ g ‖ e ‖ f ‖ K)
//! ```
//!
//! The server clamps the request to 2048..8192 bits as OpenSSH does (the hash keeps the
//! client's own numbers) and picks a group with [`crate::moduli::choose_group`] from a
//! fixed list, or asks the transport's caller ([`Step::ChooseGroup`], answered through
//! [`Method::group_chosen`]); either way a group outside the clamped bounds is
//! refused. The old request
//! (message 30, `n` only) is refused, as OpenSSH 9 refuses it.

use super::dh::{key_pair, shared_secret, DhSecret};
use super::{Ctx, Method, Step};
use crate::moduli::{in_public_range, DhGroup, GroupRequest, GEX_MAX_BITS, GEX_MIN_BITS};
use crate::transport::TransportError;
use sisu_wire::{Reader, Writer};

/// `SSH_MSG_KEX_DH_GEX_GROUP`.
pub const SSH_MSG_KEX_DH_GEX_GROUP: u8 = 31;
/// `SSH_MSG_KEX_DH_GEX_INIT`.
pub const SSH_MSG_KEX_DH_GEX_INIT: u8 = 32;
/// `SSH_MSG_KEX_DH_GEX_REPLY`.
pub const SSH_MSG_KEX_DH_GEX_REPLY: u8 = 33;
/// `SSH_MSG_KEX_DH_GEX_REQUEST`.
pub const SSH_MSG_KEX_DH_GEX_REQUEST: u8 = 34;

/// The group size a client asks for to protect keys of `need_bits` (OpenSSH's
/// `dh_estimate`, after NIST SP 800-57).
pub fn estimate_bits(need_bits: usize) -> u32 {
    match need_bits {
        0..=112 => 2048,
        113..=128 => 3072,
        129..=192 => 7680,
        _ => 8192,
    }
}

enum State {
    /// Server: waiting for the request. Client: not started.
    Start,
    /// Server: the caller chooses the group for this request.
    AwaitGroup {
        request: [u32; 3],
        clamped: GroupRequest,
    },
    /// The group is chosen (server) or received (client).
    Group {
        request: [u32; 3],
        group: DhGroup,
        /// Client only: our secret and `e`.
        client: Option<(DhSecret, Vec<u8>)>,
    },
    Done,
}

/// One group exchange, server or client side.
pub struct GroupExchange {
    client: bool,
    state: State,
}

impl GroupExchange {
    /// A new exchange.
    pub fn new(client: bool) -> Self {
        GroupExchange {
            client,
            state: State::Start,
        }
    }
}

fn middle(request: [u32; 3], group: &DhGroup, e: &[u8], f: &[u8]) -> Vec<u8> {
    let mut w = Writer::new();
    w.u32(request[0]).u32(request[1]).u32(request[2]);
    w.mpint(group.p()).mpint(group.g()).mpint(e).mpint(f);
    w.into_vec()
}

fn unexpected(n: u8) -> TransportError {
    TransportError::out_of_sequence(n)
}

impl GroupExchange {
    fn server_request(
        &mut self,
        r: &mut Reader<'_>,
        ctx: &mut Ctx<'_>,
    ) -> Result<Step, TransportError> {
        let (min, n, max) = (r.u32()?, r.u32()?, r.u32()?);
        r.finish()?;
        if max < min || n < min || max < n || max < GEX_MIN_BITS {
            return Err(TransportError::kex(format!(
                "DH group exchange request out of range: {min}/{n}/{max}"
            )));
        }
        let clamped = GroupRequest {
            min: min.max(GEX_MIN_BITS),
            n: n.clamp(GEX_MIN_BITS, GEX_MAX_BITS),
            max: max.min(GEX_MAX_BITS),
        };
        let Some(groups) = ctx.groups.get() else {
            self.state = State::AwaitGroup {
                request: [min, n, max],
                clamped,
            };
            return Ok(Step::ChooseGroup(clamped));
        };
        let group = clamped.choose(groups, &mut *ctx.rng).cloned();
        self.send_group([min, n, max], clamped, group)
    }

    /// The group for the request (chosen here or by the caller): checked against the
    /// clamped bounds, then sent.
    fn send_group(
        &mut self,
        request: [u32; 3],
        clamped: GroupRequest,
        group: Option<DhGroup>,
    ) -> Result<Step, TransportError> {
        let (lo, hi) = (clamped.min, clamped.max);
        let group = group.ok_or_else(|| {
            TransportError::kex(format!("no DH group of {lo}..{hi} bits available"))
        })?;
        if !clamped.accepts(&group) {
            return Err(TransportError::kex(format!(
                "DH group of {} bits outside the request's {lo}..{hi}",
                group.bits()
            )));
        }
        let [min, n, max] = request;
        let mut w = Writer::msg(SSH_MSG_KEX_DH_GEX_GROUP);
        w.mpint(group.p()).mpint(group.g());
        self.state = State::Group {
            request: [min, n, max],
            group,
            client: None,
        };
        Ok(Step::Send(w.into_vec()))
    }
}

impl Method for GroupExchange {
    fn start(&mut self, ctx: &mut Ctx<'_>) -> Result<Option<Vec<u8>>, TransportError> {
        if !self.client {
            return Ok(None);
        }
        let n = estimate_bits(ctx.need_bits);
        let mut w = Writer::msg(SSH_MSG_KEX_DH_GEX_REQUEST);
        w.u32(GEX_MIN_BITS).u32(n).u32(GEX_MAX_BITS);
        Ok(Some(w.into_vec()))
    }

    fn group_chosen(&mut self, group: Option<DhGroup>) -> Result<Step, TransportError> {
        match std::mem::replace(&mut self.state, State::Done) {
            State::AwaitGroup { request, clamped } => self.send_group(request, clamped, group),
            _ => Err(unexpected(SSH_MSG_KEX_DH_GEX_REQUEST)),
        }
    }

    fn handle(&mut self, payload: &[u8], ctx: &mut Ctx<'_>) -> Result<Step, TransportError> {
        let number = payload[0];
        let mut r = Reader::new(&payload[1..]);
        let state = std::mem::replace(&mut self.state, State::Done);
        match (self.client, state, number) {
            (false, State::Start, SSH_MSG_KEX_DH_GEX_REQUEST) => self.server_request(&mut r, ctx),
            (false, State::Group { request, group, .. }, SSH_MSG_KEX_DH_GEX_INIT) => {
                let e = r.mpint_positive()?.to_vec();
                r.finish()?;
                if !in_public_range(&e, group.p()) {
                    return Err(TransportError::kex(
                        "Diffie-Hellman public value outside 2..p-2",
                    ));
                }
                let (secret, f) = key_pair(&group, ctx.need_bits, ctx.rng);
                let k = shared_secret(&group, &secret, &e)?;
                let mut reply_value = Writer::new();
                reply_value.mpint(&f);
                Ok(Step::Reply {
                    number: SSH_MSG_KEX_DH_GEX_REPLY,
                    reply_value: reply_value.into_vec(),
                    middle: middle(request, &group, &e, &f),
                    k,
                })
            }
            (true, State::Start, SSH_MSG_KEX_DH_GEX_GROUP) => {
                let p = r.mpint_positive()?;
                let g = r.mpint_positive()?;
                r.finish()?;
                let group = DhGroup::new(p, g)
                    .map_err(|e| TransportError::kex(format!("bad DH group: {e}")))?;
                let n = estimate_bits(ctx.need_bits);
                if !(GEX_MIN_BITS..=GEX_MAX_BITS).contains(&group.bits()) {
                    return Err(TransportError::kex(format!(
                        "DH group of {} bits outside {GEX_MIN_BITS}..{GEX_MAX_BITS}",
                        group.bits()
                    )));
                }
                let (secret, e) = key_pair(&group, ctx.need_bits, ctx.rng);
                let mut w = Writer::msg(SSH_MSG_KEX_DH_GEX_INIT);
                w.mpint(&e);
                self.state = State::Group {
                    request: [GEX_MIN_BITS, n, GEX_MAX_BITS],
                    group,
                    client: Some((secret, e)),
                };
                Ok(Step::Send(w.into_vec()))
            }
            (
                true,
                State::Group {
                    request,
                    group,
                    client: Some((secret, e)),
                },
                SSH_MSG_KEX_DH_GEX_REPLY,
            ) => {
                let k_s = r.string()?.to_vec();
                let f = r.mpint_positive()?.to_vec();
                let signature = r.string()?.to_vec();
                r.finish()?;
                let k = shared_secret(&group, &secret, &f)?;
                Ok(Step::Verify {
                    k_s,
                    signature,
                    middle: middle(request, &group, &e, &f),
                    k,
                })
            }
            (_, _, n) => Err(unexpected(n)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn estimates() {
        assert_eq!(estimate_bits(128), 3072);
        assert_eq!(estimate_bits(256), 8192);
        assert_eq!(estimate_bits(80), 2048);
    }
}
