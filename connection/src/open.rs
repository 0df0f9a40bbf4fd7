//! Channel types (RFC 4254 §6.1, §7.2) and the type-specific data of `CHANNEL_OPEN`.

use sisu_wire::{Reader, WireError, Writer};

/// The channel type `session`.
pub const SESSION: &str = "session";
/// The channel type `direct-tcpip` (RFC 4254 §7.2).
pub const DIRECT_TCPIP: &str = "direct-tcpip";
/// The channel type `forwarded-tcpip` (RFC 4254 §7.2): a connection to a remote forward.
pub const FORWARDED_TCPIP: &str = "forwarded-tcpip";
/// The channel type `x11` (RFC 4254 §6.3.2).
pub const X11: &str = "x11";
/// OpenSSH's `direct-streamlocal@openssh.com` (PROTOCOL §2.4): `ssh -L` to a Unix socket.
pub const DIRECT_STREAMLOCAL: &str = "direct-streamlocal@openssh.com";
/// OpenSSH's `forwarded-streamlocal@openssh.com`: a connection to a Unix-socket forward.
pub const FORWARDED_STREAMLOCAL: &str = "forwarded-streamlocal@openssh.com";
/// OpenSSH's `auth-agent@openssh.com` (PROTOCOL.agent): a connection to the forwarded
/// agent.
pub const AUTH_AGENT: &str = "auth-agent@openssh.com";

/// What kind of channel the peer asks to open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChannelKind {
    /// `session`: a shell, command or subsystem (RFC 4254 §6.1).
    Session,
    /// `direct-tcpip`: a local port forwarding (RFC 4254 §7.2).
    DirectTcpip {
        /// Host to connect to.
        host: String,
        /// Port to connect to.
        port: u32,
        /// Originator IP address (as text).
        originator: String,
        /// Originator port.
        originator_port: u32,
    },
    /// `forwarded-tcpip`: a connection arrived on a port the peer asked us to listen on
    /// with `tcpip-forward` (RFC 4254 §7.2).
    ForwardedTcpip {
        /// The address that was connected to, as the `tcpip-forward` request named it.
        connected_address: String,
        /// The port that was connected to.
        connected_port: u32,
        /// Originator IP address (as text).
        originator: String,
        /// Originator port.
        originator_port: u32,
    },
    /// `x11`: a client of the forwarded X display (RFC 4254 §6.3.2).
    X11 {
        /// Originator IP address (as text).
        originator: String,
        /// Originator port.
        originator_port: u32,
    },
    /// `direct-streamlocal@openssh.com`: connect to a Unix socket (the two reserved
    /// fields are read and dropped).
    DirectStreamlocal {
        /// The socket's path.
        path: String,
    },
    /// `forwarded-streamlocal@openssh.com`: a connection arrived on a Unix socket the
    /// peer asked us to listen on.
    ForwardedStreamlocal {
        /// The socket's path, as the forward request named it.
        path: String,
    },
    /// `auth-agent@openssh.com`: a connection to the peer's agent. No data.
    AuthAgent,
    /// Any other type: the daemon decides, usually with
    /// `SSH_OPEN_UNKNOWN_CHANNEL_TYPE`.
    Other(String),
}

impl ChannelKind {
    /// Parses the channel type name and the type-specific data that follows it.
    pub fn parse(kind: &str, data: &[u8]) -> Result<ChannelKind, WireError> {
        match kind {
            SESSION => {
                Reader::new(data).finish()?;
                Ok(ChannelKind::Session)
            }
            DIRECT_TCPIP => {
                let mut r = Reader::new(data);
                let host = r.utf8()?.to_owned();
                let port = r.u32()?;
                let originator = r.utf8()?.to_owned();
                let originator_port = r.u32()?;
                r.finish()?;
                Ok(ChannelKind::DirectTcpip {
                    host,
                    port,
                    originator,
                    originator_port,
                })
            }
            FORWARDED_TCPIP => {
                let mut r = Reader::new(data);
                let connected_address = r.utf8()?.to_owned();
                let connected_port = r.u32()?;
                let originator = r.utf8()?.to_owned();
                let originator_port = r.u32()?;
                r.finish()?;
                Ok(ChannelKind::ForwardedTcpip {
                    connected_address,
                    connected_port,
                    originator,
                    originator_port,
                })
            }
            X11 => {
                let mut r = Reader::new(data);
                let originator = r.utf8()?.to_owned();
                let originator_port = r.u32()?;
                r.finish()?;
                Ok(ChannelKind::X11 {
                    originator,
                    originator_port,
                })
            }
            DIRECT_STREAMLOCAL => {
                let mut r = Reader::new(data);
                let path = r.utf8()?.to_owned();
                // Reserved: a string and a uint32 (OpenSSH sends "" and 0).
                r.string()?;
                r.u32()?;
                r.finish()?;
                Ok(ChannelKind::DirectStreamlocal { path })
            }
            FORWARDED_STREAMLOCAL => {
                let mut r = Reader::new(data);
                let path = r.utf8()?.to_owned();
                r.string()?;
                r.finish()?;
                Ok(ChannelKind::ForwardedStreamlocal { path })
            }
            AUTH_AGENT => {
                Reader::new(data).finish()?;
                Ok(ChannelKind::AuthAgent)
            }
            other => Ok(ChannelKind::Other(other.to_owned())),
        }
    }

    /// The channel type name.
    pub fn name(&self) -> &str {
        match self {
            ChannelKind::Session => SESSION,
            ChannelKind::DirectTcpip { .. } => DIRECT_TCPIP,
            ChannelKind::ForwardedTcpip { .. } => FORWARDED_TCPIP,
            ChannelKind::X11 { .. } => X11,
            ChannelKind::DirectStreamlocal { .. } => DIRECT_STREAMLOCAL,
            ChannelKind::ForwardedStreamlocal { .. } => FORWARDED_STREAMLOCAL,
            ChannelKind::AuthAgent => AUTH_AGENT,
            ChannelKind::Other(name) => name,
        }
    }

    /// The type-specific data for a `CHANNEL_OPEN` of this kind (empty for `Other`).
    pub fn encode_data(&self) -> Vec<u8> {
        let mut w = Writer::new();
        match self {
            ChannelKind::DirectTcpip {
                host: a,
                port: p,
                originator,
                originator_port,
            }
            | ChannelKind::ForwardedTcpip {
                connected_address: a,
                connected_port: p,
                originator,
                originator_port,
            } => {
                w.str(a).u32(*p).str(originator).u32(*originator_port);
            }
            ChannelKind::X11 {
                originator,
                originator_port,
            } => {
                w.str(originator).u32(*originator_port);
            }
            ChannelKind::DirectStreamlocal { path } => {
                w.str(path).str("").u32(0);
            }
            ChannelKind::ForwardedStreamlocal { path } => {
                w.str(path).str("");
            }
            ChannelKind::Session | ChannelKind::AuthAgent | ChannelKind::Other(_) => {}
        }
        w.into_vec()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn direct_tcpip_round_trip(host in "[a-z0-9.]{0,30}", port in any::<u32>(),
                                   orig in "[0-9.:]{0,20}", oport in any::<u32>()) {
            let k = ChannelKind::DirectTcpip { host, port, originator: orig, originator_port: oport };
            prop_assert_eq!(ChannelKind::parse(k.name(), &k.encode_data()), Ok(k));
        }

        #[test]
        fn every_kind_round_trips(a in "[a-z0-9./]{0,30}", n in any::<u32>(),
                                  o in "[0-9.:]{0,20}", m in any::<u32>()) {
            let kinds = [
                ChannelKind::Session,
                ChannelKind::ForwardedTcpip {
                    connected_address: a.clone(), connected_port: n,
                    originator: o.clone(), originator_port: m,
                },
                ChannelKind::X11 { originator: o, originator_port: m },
                ChannelKind::DirectStreamlocal { path: a.clone() },
                ChannelKind::ForwardedStreamlocal { path: a },
                ChannelKind::AuthAgent,
            ];
            for k in kinds {
                let data = k.encode_data();
                prop_assert_eq!(ChannelKind::parse(k.name(), &data), Ok(k.clone()));
                if !data.is_empty() {
                    prop_assert!(ChannelKind::parse(k.name(), &data[..data.len() - 1]).is_err());
                }
            }
        }
    }

    #[test]
    fn session_takes_no_data_and_others_pass_through() {
        assert_eq!(ChannelKind::parse("session", &[]), Ok(ChannelKind::Session));
        assert_eq!(
            ChannelKind::parse("session", &[1]),
            Err(WireError::TrailingData)
        );
        assert_eq!(
            ChannelKind::parse("x11", &[0, 0, 0, 1, b'a', 0, 0, 0, 6]),
            Ok(ChannelKind::X11 {
                originator: "a".into(),
                originator_port: 6
            })
        );
        assert_eq!(
            ChannelKind::parse("tun@openssh.com", &[1, 2]),
            Ok(ChannelKind::Other("tun@openssh.com".into()))
        );
        assert_eq!(
            ChannelKind::parse("direct-tcpip", &[0, 0, 0, 9]),
            Err(WireError::Truncated)
        );
    }
}
