//! What carries the connection layer's messages to the client: the SSH-2 transport,
//! or, for a protocol 1 client, the SSH-1 transport with the session bridge
//! (`sisu_connection::v1`) that turns SSH-1's interactive session into SSH-2
//! connection-protocol messages, so that the same channel code serves both.

use sisu_kex::{Event as TEvent, HostKey, Negotiated, Transport, TransportError};
use std::collections::VecDeque;
use std::fmt;

/// Most events a protocol 1 link holds for the loop.
const MAX_V1_EVENTS: usize = 4096;

/// Why input did not go in.
#[derive(Debug)]
pub enum LinkError {
    /// The SSH-2 transport's error.
    V2(TransportError),
    /// A protocol 1 error (its description, as sent in the DISCONNECT).
    V1(String),
}

impl fmt::Display for LinkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LinkError::V2(e) => write!(f, "{e}"),
            LinkError::V1(e) => f.write_str(e),
        }
    }
}

/// Protocol 1: the transport and the session bridge.
pub struct V1Link {
    transport: sisu_kex::v1::V1Transport,
    bridge: sisu_connection::v1::V1Session,
    events: VecDeque<TEvent>,
    failed: bool,
}

/// The connection's transport, of either protocol.
pub enum Link {
    /// SSH-2.
    V2(Box<Transport>),
    /// Protocol 1.5.
    V1(Box<V1Link>),
}

impl V1Link {
    /// A protocol 1 session over `transport` (imported after authentication);
    /// `protocol_flags` as agreed in its key exchange.
    pub fn new(transport: sisu_kex::v1::V1Transport, protocol_flags: u32) -> V1Link {
        V1Link {
            transport,
            bridge: sisu_connection::v1::V1Session::new(protocol_flags),
            events: VecDeque::new(),
            failed: false,
        }
    }

    fn fail(&mut self, why: String) -> LinkError {
        if !self.failed {
            self.failed = true;
            self.transport.disconnect(&why);
        }
        LinkError::V1(why)
    }

    /// Moves what the transport decoded through the bridge, and what the bridge made
    /// for either side to where it goes.
    fn shuttle(&mut self) -> Result<(), LinkError> {
        for _ in 0..100_000 {
            let mut moved = false;
            while let Some(ev) = self.transport.poll_event() {
                moved = true;
                match ev {
                    sisu_kex::v1::V1Event::Message { msg_type, payload } => {
                        if let Err(e) = self.bridge.from_peer(msg_type, &payload) {
                            return Err(self.fail(e.to_string()));
                        }
                    }
                    sisu_kex::v1::V1Event::Disconnected { description } => {
                        self.events.push_back(TEvent::Disconnected {
                            reason: 0,
                            description,
                        });
                    }
                    sisu_kex::v1::V1Event::SessionKeyNeeded { .. }
                    | sisu_kex::v1::V1Event::KeysEstablished { .. } => {}
                }
            }
            while let Some(m) = self.bridge.poll_to_connection() {
                moved = true;
                if self.events.len() >= MAX_V1_EVENTS {
                    return Err(self.fail("too many queued messages".into()));
                }
                self.events.push_back(TEvent::Message(m));
            }
            while let Some((t, p)) = self.bridge.poll_to_peer() {
                moved = true;
                if let Err(e) = self.transport.send(t, &p) {
                    return Err(self.fail(e.to_string()));
                }
            }
            if !moved {
                break;
            }
        }
        Ok(())
    }
}

impl Link {
    /// Feeds bytes read from the socket.
    pub fn handle_input(&mut self, data: &[u8]) -> Result<(), LinkError> {
        match self {
            Link::V2(t) => t.handle_input(data).map_err(LinkError::V2),
            Link::V1(l) => {
                if let Err(e) = l.transport.handle_input(data) {
                    l.failed = true;
                    return Err(LinkError::V1(e.to_string()));
                }
                l.shuttle()
            }
        }
    }

    /// Moves what waits for the socket into `buf`; how many bytes.
    pub fn transmit_into(&mut self, buf: &mut Vec<u8>) -> usize {
        match self {
            Link::V2(t) => t.transmit_into(buf),
            Link::V1(l) => {
                let mut n = 0;
                while let Some(b) = l.transport.poll_transmit() {
                    n += b.len();
                    buf.extend_from_slice(&b);
                }
                n
            }
        }
    }

    /// The next event (protocol 1: connection-protocol messages the bridge made).
    pub fn poll_event(&mut self) -> Option<TEvent> {
        match self {
            Link::V2(t) => t.poll_event(),
            Link::V1(l) => {
                if l.events.is_empty() {
                    let _ = l.shuttle();
                }
                l.events.pop_front()
            }
        }
    }

    /// A connection-protocol message for the client.
    pub fn send_message(&mut self, payload: &[u8]) -> Result<(), LinkError> {
        match self {
            Link::V2(t) => t.send_message(payload).map_err(LinkError::V2),
            Link::V1(l) => {
                if let Err(e) = l.bridge.from_connection(payload) {
                    return Err(l.fail(e.to_string()));
                }
                l.shuttle()
            }
        }
    }

    /// Ends the connection with a DISCONNECT.
    pub fn disconnect(&mut self, reason: u32, description: &str) {
        match self {
            Link::V2(t) => t.disconnect(reason, description),
            Link::V1(l) => {
                l.failed = true;
                l.transport.disconnect(description);
            }
        }
    }

    /// Nothing more goes either way (protocol 1: also once the session is over).
    pub fn is_closed(&self) -> bool {
        match self {
            Link::V2(t) => t.is_closed(),
            Link::V1(l) => l.transport.is_closed() || l.bridge.is_finished(),
        }
    }

    /// Whether the connection ended on an error.
    pub fn failed(&self) -> bool {
        match self {
            Link::V2(t) => t.error().is_some(),
            Link::V1(l) => l.failed || l.transport.error().is_some(),
        }
    }

    /// Whether the socket may be read now (protocol 1 has no flow control: the
    /// bridge's bound on what waits for a window is TCP's back-pressure).
    pub fn wants_input(&self) -> bool {
        match self {
            Link::V2(_) => true,
            Link::V1(l) => l.bridge.wants_peer_input(),
        }
    }

    /// A key exchange is running (never in protocol 1).
    pub fn kex_in_progress(&self) -> bool {
        match self {
            Link::V2(t) => t.kex_in_progress(),
            Link::V1(_) => false,
        }
    }

    /// Starts a rekey (protocol 1 has none).
    pub fn start_rekey(&mut self) {
        if let Link::V2(t) = self {
            t.start_rekey();
        }
    }

    /// The SSH-2 algorithms.
    pub fn negotiated(&self) -> Option<&Negotiated> {
        match self {
            Link::V2(t) => t.negotiated(),
            Link::V1(_) => None,
        }
    }

    /// The SSH-2 host keys (none for protocol 1).
    pub fn host_keys(&self) -> &[HostKey] {
        match self {
            Link::V2(t) => t.host_keys(),
            Link::V1(_) => &[],
        }
    }

    /// The SSH-2 transport, for its questions.
    pub fn ssh2(&mut self) -> Option<&mut Transport> {
        match self {
            Link::V2(t) => Some(t),
            Link::V1(_) => None,
        }
    }
}
