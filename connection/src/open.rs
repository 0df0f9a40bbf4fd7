//! Channel types (RFC 4254 §6.1, §7.2) and the type-specific data of `CHANNEL_OPEN`.

use sisu_wire::{Reader, WireError, Writer};

/// The channel type `session`.
pub const SESSION: &str = "session";
/// The channel type `direct-tcpip` (RFC 4254 §7.2).
pub const DIRECT_TCPIP: &str = "direct-tcpip";

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
    /// Any other type (`x11`, `direct-streamlocal@openssh.com`, ...): the daemon decides,
    /// usually with `SSH_OPEN_UNKNOWN_CHANNEL_TYPE`.
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
            other => Ok(ChannelKind::Other(other.to_owned())),
        }
    }

    /// The channel type name.
    pub fn name(&self) -> &str {
        match self {
            ChannelKind::Session => SESSION,
            ChannelKind::DirectTcpip { .. } => DIRECT_TCPIP,
            ChannelKind::Other(name) => name,
        }
    }

    /// The type-specific data for a `CHANNEL_OPEN` of this kind (empty for `Other`).
    pub fn encode_data(&self) -> Vec<u8> {
        let mut w = Writer::new();
        if let ChannelKind::DirectTcpip {
            host,
            port,
            originator,
            originator_port,
        } = self
        {
            w.str(host).u32(*port).str(originator).u32(*originator_port);
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
            Ok(ChannelKind::Other("x11".into()))
        );
        assert_eq!(
            ChannelKind::parse("direct-tcpip", &[0, 0, 0, 9]),
            Err(WireError::Truncated)
        );
    }
}
