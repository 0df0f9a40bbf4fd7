//! Global requests (RFC 4254 §4, §7.1; OpenSSH's PROTOCOL §2.4–2.5) and their
//! type-specific data: the forwarding requests, keepalives and `no-more-sessions`.

use sisu_wire::{Reader, WireError, Writer};

/// `tcpip-forward` (RFC 4254 §7.1): listen on an address and port for the peer.
pub const TCPIP_FORWARD: &str = "tcpip-forward";
/// `cancel-tcpip-forward`.
pub const CANCEL_TCPIP_FORWARD: &str = "cancel-tcpip-forward";
/// `streamlocal-forward@openssh.com`: listen on a Unix socket for the peer.
pub const STREAMLOCAL_FORWARD: &str = "streamlocal-forward@openssh.com";
/// `cancel-streamlocal-forward@openssh.com`.
pub const CANCEL_STREAMLOCAL_FORWARD: &str = "cancel-streamlocal-forward@openssh.com";
/// `keepalive@openssh.com`: asks only for a reply (either kind).
pub const KEEPALIVE: &str = "keepalive@openssh.com";
/// `no-more-sessions@openssh.com`: the peer will open no more session channels.
pub const NO_MORE_SESSIONS: &str = "no-more-sessions@openssh.com";

/// A parsed global request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GlobalRequest<'a> {
    /// `tcpip-forward`: port 0 asks us to pick one (and say which in the reply, see
    /// [`tcpip_forward_reply`]).
    TcpipForward {
        /// The address to bind, as the peer wrote it (`""`, `"localhost"`, `"*"`, an IP).
        address: &'a str,
        /// The port to bind.
        port: u32,
    },
    /// `cancel-tcpip-forward`.
    CancelTcpipForward {
        /// The address of the forward, as in its `tcpip-forward`.
        address: &'a str,
        /// Its port (the allocated one, for a port-0 forward).
        port: u32,
    },
    /// `streamlocal-forward@openssh.com`.
    StreamlocalForward {
        /// The socket's path.
        path: &'a str,
    },
    /// `cancel-streamlocal-forward@openssh.com`.
    CancelStreamlocalForward {
        /// The socket's path.
        path: &'a str,
    },
    /// `keepalive@openssh.com` (its data, if any, is ignored).
    Keepalive,
    /// `no-more-sessions@openssh.com`.
    NoMoreSessions,
    /// Any other request (`hostkeys-prove-00@openssh.com`, ...), data unparsed.
    Other {
        /// Request name.
        name: &'a str,
        /// Request-specific data.
        data: &'a [u8],
    },
}

impl<'a> GlobalRequest<'a> {
    /// Parses the request `name` with its data. Known requests must have exactly their
    /// fields; unknown ones become [`GlobalRequest::Other`].
    pub fn parse(name: &'a str, data: &'a [u8]) -> Result<GlobalRequest<'a>, WireError> {
        let mut r = Reader::new(data);
        let req = match name {
            TCPIP_FORWARD => GlobalRequest::TcpipForward {
                address: r.utf8()?,
                port: r.u32()?,
            },
            CANCEL_TCPIP_FORWARD => GlobalRequest::CancelTcpipForward {
                address: r.utf8()?,
                port: r.u32()?,
            },
            STREAMLOCAL_FORWARD => GlobalRequest::StreamlocalForward { path: r.utf8()? },
            CANCEL_STREAMLOCAL_FORWARD => {
                GlobalRequest::CancelStreamlocalForward { path: r.utf8()? }
            }
            KEEPALIVE => return Ok(GlobalRequest::Keepalive),
            NO_MORE_SESSIONS => GlobalRequest::NoMoreSessions,
            _ => return Ok(GlobalRequest::Other { name, data }),
        };
        r.finish()?;
        Ok(req)
    }

    /// The request name.
    pub fn name(&self) -> &'a str {
        match self {
            GlobalRequest::TcpipForward { .. } => TCPIP_FORWARD,
            GlobalRequest::CancelTcpipForward { .. } => CANCEL_TCPIP_FORWARD,
            GlobalRequest::StreamlocalForward { .. } => STREAMLOCAL_FORWARD,
            GlobalRequest::CancelStreamlocalForward { .. } => CANCEL_STREAMLOCAL_FORWARD,
            GlobalRequest::Keepalive => KEEPALIVE,
            GlobalRequest::NoMoreSessions => NO_MORE_SESSIONS,
            GlobalRequest::Other { name, .. } => name,
        }
    }

    /// The request-specific data.
    pub fn encode_data(&self) -> Vec<u8> {
        let mut w = Writer::new();
        match self {
            GlobalRequest::TcpipForward { address, port }
            | GlobalRequest::CancelTcpipForward { address, port } => {
                w.str(address).u32(*port);
            }
            GlobalRequest::StreamlocalForward { path }
            | GlobalRequest::CancelStreamlocalForward { path } => {
                w.str(path);
            }
            GlobalRequest::Keepalive | GlobalRequest::NoMoreSessions => {}
            GlobalRequest::Other { data, .. } => {
                w.raw(data);
            }
        }
        w.into_vec()
    }
}

/// The data of the `REQUEST_SUCCESS` answering a `tcpip-forward` for `requested` port:
/// the allocated port when port 0 was asked for (RFC 4254 §7.1), nothing otherwise.
pub fn tcpip_forward_reply(requested: u32, bound: u16) -> Vec<u8> {
    if requested == 0 {
        let mut w = Writer::new();
        w.u32(u32::from(bound));
        w.into_vec()
    } else {
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn requests_round_trip(which in 0u8..7, s in "[A-Za-z0-9./*]{0,30}", port in any::<u32>(),
                               raw in proptest::collection::vec(any::<u8>(), 0..20)) {
            let req = match which {
                0 => GlobalRequest::TcpipForward { address: &s, port },
                1 => GlobalRequest::CancelTcpipForward { address: &s, port },
                2 => GlobalRequest::StreamlocalForward { path: &s },
                3 => GlobalRequest::CancelStreamlocalForward { path: &s },
                4 => GlobalRequest::Keepalive,
                5 => GlobalRequest::NoMoreSessions,
                _ => GlobalRequest::Other { name: "hostkeys-prove-00@openssh.com", data: &raw },
            };
            let data = req.encode_data();
            prop_assert_eq!(GlobalRequest::parse(req.name(), &data), Ok(req.clone()));
            // Anything extra after a known request's fields is refused.
            if !matches!(req, GlobalRequest::Other { .. } | GlobalRequest::Keepalive) {
                let mut long = data.clone();
                long.push(0);
                prop_assert!(GlobalRequest::parse(req.name(), &long).is_err());
            }
        }

        #[test]
        fn garbage_never_panics(name in 0u8..6, raw in proptest::collection::vec(any::<u8>(), 0..40)) {
            let names = [TCPIP_FORWARD, CANCEL_TCPIP_FORWARD, STREAMLOCAL_FORWARD,
                         CANCEL_STREAMLOCAL_FORWARD, KEEPALIVE, NO_MORE_SESSIONS];
            let _ = GlobalRequest::parse(names[name as usize], &raw);
        }
    }

    #[test]
    fn port_zero_reply_names_the_port() {
        assert_eq!(tcpip_forward_reply(0, 40000), vec![0, 0, 0x9c, 0x40]);
        assert!(tcpip_forward_reply(8080, 8080).is_empty());
        assert_eq!(
            GlobalRequest::parse(TCPIP_FORWARD, &[0, 0, 0, 0, 0, 0]),
            Err(WireError::Truncated)
        );
    }
}
