//! In-memory runs: a small test client drives the server machine through whole sessions.

use proptest::prelude::*;
use sisu_connection::message::Message;
use sisu_connection::request::ChannelRequest;
use sisu_connection::{ChannelId, ChannelKind, Connection, ConnectionError, Event, Limits};
use sisu_wire::msg::open_failure::SSH_OPEN_RESOURCE_SHORTAGE;

/// The client's side of one session channel.
struct Client {
    /// The client's own channel number.
    id: u32,
    /// The server's channel number, once confirmed.
    server_ch: Option<u32>,
    /// Credit the server granted us.
    send_window: u32,
    server_max_packet: u32,
    /// Credit we granted the server.
    recv_window: u32,
    initial_window: u32,
    max_packet: u32,
    /// Stdout bytes received.
    received: Vec<u8>,
    /// Stderr bytes received.
    received_err: Vec<u8>,
    /// Every message from the server, by name, in order.
    log: Vec<String>,
    exit_status: Option<u32>,
}

impl Client {
    fn new(id: u32, initial_window: u32, max_packet: u32) -> Client {
        Client {
            id,
            server_ch: None,
            send_window: 0,
            server_max_packet: 0,
            recv_window: initial_window,
            initial_window,
            max_packet,
            received: Vec::new(),
            received_err: Vec::new(),
            log: Vec::new(),
            exit_status: None,
        }
    }

    fn open(&self) -> Vec<u8> {
        Message::ChannelOpen {
            kind: "session",
            sender: self.id,
            initial_window: self.initial_window,
            max_packet: self.max_packet,
            data: &[],
        }
        .encode()
    }

    fn ch(&self) -> u32 {
        self.server_ch.expect("confirmed")
    }

    fn request(&self, req: &ChannelRequest<'_>, want_reply: bool) -> Vec<u8> {
        let data = req.encode_data();
        Message::ChannelRequest {
            recipient: self.ch(),
            kind: req.kind(),
            want_reply,
            data: &data,
        }
        .encode()
    }

    /// Sends as much of `data` as the server's window allows, in packets no larger
    /// than the server's max packet (and `chunk`); returns the bytes sent.
    fn send(&mut self, conn: &mut Connection, data: &[u8], chunk: usize) -> usize {
        let mut sent = 0;
        while sent < data.len() && self.send_window > 0 {
            let len = (data.len() - sent)
                .min(self.send_window as usize)
                .min(self.server_max_packet as usize)
                .min(chunk.max(1));
            let m = Message::ChannelData {
                recipient: self.ch(),
                data: &data[sent..sent + len],
            };
            conn.handle_message(&m.encode()).unwrap();
            self.send_window -= len as u32;
            sent += len;
        }
        sent
    }

    /// Takes everything the server sent, checking the protocol rules the server must
    /// keep, and gives back window credit once half of it is used.
    fn absorb(&mut self, conn: &mut Connection) {
        while let Some(p) = conn.poll_transmit() {
            let m = Message::parse(&p).expect("server sends well-formed messages");
            assert!(
                !self.log.iter().any(|l| l == "close"),
                "message after CLOSE: {m:?}"
            );
            match m {
                Message::ChannelOpenConfirmation {
                    recipient,
                    sender,
                    initial_window,
                    max_packet,
                    ..
                } => {
                    assert_eq!(recipient, self.id);
                    self.server_ch = Some(sender);
                    self.send_window = initial_window;
                    self.server_max_packet = max_packet;
                    self.log.push("confirm".into());
                }
                Message::ChannelData { recipient, data }
                | Message::ChannelExtendedData {
                    recipient, data, ..
                } => {
                    assert_eq!(recipient, self.id);
                    assert!(data.len() <= self.max_packet as usize, "packet too big");
                    assert!(data.len() <= self.recv_window as usize, "window exceeded");
                    assert!(!data.is_empty());
                    self.recv_window -= data.len() as u32;
                    if p[0] == sisu_wire::msg::SSH_MSG_CHANNEL_DATA {
                        self.received.extend_from_slice(data);
                        self.log.push("data".into());
                    } else {
                        self.received_err.extend_from_slice(data);
                        self.log.push("stderr".into());
                    }
                }
                Message::ChannelWindowAdjust {
                    recipient,
                    bytes_to_add,
                } => {
                    assert_eq!(recipient, self.id);
                    self.send_window = self.send_window.checked_add(bytes_to_add).unwrap();
                    self.log.push("adjust".into());
                }
                Message::ChannelSuccess { recipient } => {
                    assert_eq!(recipient, self.id);
                    self.log.push("success".into());
                }
                Message::ChannelFailure { recipient } => {
                    assert_eq!(recipient, self.id);
                    self.log.push("failure".into());
                }
                Message::ChannelRequest {
                    recipient,
                    kind,
                    want_reply,
                    data,
                } => {
                    assert_eq!(recipient, self.id);
                    assert!(!want_reply);
                    if let Ok(ChannelRequest::ExitStatus { status }) =
                        ChannelRequest::parse(kind, data)
                    {
                        self.exit_status = Some(status);
                    }
                    self.log.push(kind.to_owned());
                }
                Message::ChannelEof { recipient } => {
                    assert_eq!(recipient, self.id);
                    self.log.push("eof".into());
                }
                Message::ChannelClose { recipient } => {
                    assert_eq!(recipient, self.id);
                    self.log.push("close".into());
                }
                other => panic!("unexpected {other:?}"),
            }
        }
        let used = self.initial_window - self.recv_window;
        if used >= self.initial_window / 2 && self.server_ch.is_some() {
            let m = Message::ChannelWindowAdjust {
                recipient: self.ch(),
                bytes_to_add: used,
            };
            conn.handle_message(&m.encode()).unwrap();
            self.recv_window += used;
        }
    }
}

fn small_limits() -> Limits {
    Limits {
        window: 4096,
        max_packet: 512,
        ..Limits::default()
    }
}

fn events(conn: &mut Connection) -> Vec<Event> {
    std::iter::from_fn(|| conn.poll_event()).collect()
}

/// Opens a session channel and returns the server's id for it.
fn open_session(conn: &mut Connection, client: &mut Client) -> ChannelId {
    conn.handle_message(&client.open()).unwrap();
    let ch = match conn.poll_event() {
        Some(Event::ChannelOpen {
            ch,
            kind: ChannelKind::Session,
        }) => ch,
        e => panic!("{e:?}"),
    };
    conn.accept_open(ch);
    client.absorb(conn);
    assert_eq!(client.server_ch, Some(ch));
    ch
}

#[test]
fn full_session_pty_env_exec_data_eof_exit_close() {
    let mut conn = Connection::new(small_limits());
    // The client's window is small too, so the server's output crosses it many times.
    let mut client = Client::new(42, 3000, 700);
    let ch = open_session(&mut conn, &mut client);
    assert_eq!(client.send_window, 4096);
    assert_eq!(client.server_max_packet, 512);

    let modes = vec![(3u8, 3u32), (53, 1), (128, 38400)];
    let pty = ChannelRequest::PtyReq {
        term: "xterm-256color",
        cols: 80,
        rows: 24,
        width_px: 640,
        height_px: 480,
        modes: modes.clone(),
    };
    conn.handle_message(&client.request(&pty, true)).unwrap();
    conn.handle_message(&client.request(
        &ChannelRequest::Env {
            name: "LANG",
            value: b"C.UTF-8",
        },
        false,
    ))
    .unwrap();
    conn.handle_message(&client.request(&ChannelRequest::Exec { command: b"cat" }, true))
        .unwrap();
    // The daemon answers each event as it handles it (env's answer is a no-op).
    let mut evs = Vec::new();
    while let Some(e) = conn.poll_event() {
        let ok = !matches!(e, Event::Exec { .. });
        evs.push(e);
        conn.reply_request(ch, ok);
    }
    assert_eq!(
        evs,
        vec![
            Event::PtyRequest {
                ch,
                want_reply: true,
                term: "xterm-256color".into(),
                cols: 80,
                rows: 24,
                width_px: 640,
                height_px: 480,
                modes
            },
            Event::Env {
                ch,
                want_reply: false,
                name: "LANG".into(),
                value: "C.UTF-8".into()
            },
            Event::Exec {
                ch,
                want_reply: true,
                command: b"cat".to_vec()
            },
        ]
    );
    client.absorb(&mut conn);
    assert_eq!(client.log, ["confirm", "success", "failure"]);

    // Client → server: 50 000 bytes, past the 4096-byte window a dozen times. The
    // daemon consumes 1000 bytes per round; the server echoes what it consumed.
    let input: Vec<u8> = (0..50_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let mut sent = 0;
    let mut got = Vec::new();
    let mut backlog: Vec<u8> = Vec::new();
    let mut echo: Vec<u8> = Vec::new();
    let mut rounds = 0;
    while client.received.len() < input.len() {
        rounds += 1;
        assert!(rounds < 10_000, "stalled");
        sent += client.send(&mut conn, &input[sent..], 333);
        for e in events(&mut conn) {
            match e {
                Event::Data { ch: c, data } => {
                    assert_eq!(c, ch);
                    got.extend_from_slice(&data);
                    backlog.extend_from_slice(&data);
                }
                Event::WindowAdjusted { ch: c } => assert_eq!(c, ch),
                e => panic!("{e:?}"),
            }
        }
        let take = backlog.len().min(1000);
        conn.consumed(ch, take as u32);
        echo.extend(backlog.drain(..take));
        // Echo what was consumed; what the client's window does not take waits.
        let n = conn.send_data(ch, &echo);
        echo.drain(..n);
        client.absorb(&mut conn);
    }
    assert_eq!(got, input);
    assert_eq!(client.received, input);
    assert!(client.log.iter().filter(|l| *l == "adjust").count() >= 10);

    // Stderr goes out as extended data.
    assert_eq!(conn.send_extended_data(ch, 1, b"warning\n"), 8);
    client.absorb(&mut conn);
    assert_eq!(client.received_err, b"warning\n");

    let _ = events(&mut conn);
    // The client sends EOF; the daemon answers exit-status, EOF, CLOSE; the client's CLOSE
    // frees the id.
    conn.handle_message(
        &Message::ChannelEof {
            recipient: client.ch(),
        }
        .encode(),
    )
    .unwrap();
    assert_eq!(events(&mut conn), vec![Event::Eof { ch }]);
    conn.send_exit_status(ch, 7);
    conn.send_eof(ch);
    conn.close(ch);
    // All no-ops after CLOSE.
    conn.send_exit_status(ch, 9);
    conn.send_eof(ch);
    conn.close(ch);
    assert_eq!(conn.send_data(ch, b"late"), 0);
    assert!(!conn.is_open(ch));
    client.absorb(&mut conn);
    let tail: Vec<&str> = client
        .log
        .iter()
        .rev()
        .take(3)
        .rev()
        .map(|s| s.as_str())
        .collect();
    assert_eq!(tail, ["exit-status", "eof", "close"]);
    assert_eq!(client.exit_status, Some(7));
    assert_eq!(conn.channels().collect::<Vec<_>>(), vec![ch]);
    conn.handle_message(
        &Message::ChannelClose {
            recipient: client.ch(),
        }
        .encode(),
    )
    .unwrap();
    assert_eq!(events(&mut conn), vec![Event::Closed { ch }]);
    assert_eq!(conn.channels().count(), 0);
    // Anything more on that id is a protocol error.
    let err = conn
        .handle_message(
            &Message::ChannelEof {
                recipient: client.ch(),
            }
            .encode(),
        )
        .unwrap_err();
    assert_eq!(err.reason(), 2);
}

#[test]
fn peer_closes_first_daemon_finishes_then_closed() {
    let mut conn = Connection::new(small_limits());
    let mut client = Client::new(1, 1 << 20, 32768);
    let ch = open_session(&mut conn, &mut client);
    conn.handle_message(&client.request(&ChannelRequest::Shell, true))
        .unwrap();
    assert_eq!(
        events(&mut conn),
        vec![Event::Shell {
            ch,
            want_reply: true
        }]
    );
    conn.reply_request(ch, true);
    conn.handle_message(&Message::ChannelClose { recipient: ch }.encode())
        .unwrap();
    // No automatic CLOSE: the daemon may still send its exit-status.
    assert_eq!(events(&mut conn), vec![Event::PeerClosed { ch }]);
    client.absorb(&mut conn);
    assert_eq!(client.log, ["confirm", "success"]);
    assert!(conn.is_open(ch));
    conn.send_exit_signal(ch, "TERM", false, "");
    conn.close(ch);
    assert_eq!(events(&mut conn), vec![Event::Closed { ch }]);
    client.absorb(&mut conn);
    assert_eq!(client.log, ["confirm", "success", "exit-signal", "close"]);
    assert_eq!(conn.channels().count(), 0);
}

#[test]
fn too_many_channels_are_refused_without_event() {
    let limits = Limits {
        max_channels: 2,
        ..small_limits()
    };
    let mut conn = Connection::new(limits);
    for id in 0..3u32 {
        let open = Message::ChannelOpen {
            kind: "session",
            sender: id,
            initial_window: 100,
            max_packet: 100,
            data: &[],
        };
        conn.handle_message(&open.encode()).unwrap();
    }
    let evs = events(&mut conn);
    assert_eq!(evs.len(), 2);
    let p = conn.poll_transmit().unwrap();
    assert_eq!(
        Message::parse(&p).unwrap(),
        Message::ChannelOpenFailure {
            recipient: 2,
            reason: SSH_OPEN_RESOURCE_SHORTAGE,
            description: "too many channels",
            language: ""
        }
    );
    // Rejecting one frees its id for the next open.
    conn.reject_open(0, 1, "no");
    assert!(matches!(
        Message::parse(&conn.poll_transmit().unwrap()),
        Ok(Message::ChannelOpenFailure {
            recipient: 0,
            reason: 1,
            ..
        })
    ));
    conn.handle_message(
        &Message::ChannelOpen {
            kind: "direct-tcpip",
            sender: 9,
            initial_window: 1,
            max_packet: 1,
            data: &ChannelKind::DirectTcpip {
                host: "localhost".into(),
                port: 22,
                originator: "127.0.0.1".into(),
                originator_port: 5555,
            }
            .encode_data(),
        }
        .encode(),
    )
    .unwrap();
    assert_eq!(
        events(&mut conn),
        vec![Event::ChannelOpen {
            ch: 0,
            kind: ChannelKind::DirectTcpip {
                host: "localhost".into(),
                port: 22,
                originator: "127.0.0.1".into(),
                originator_port: 5555
            }
        }]
    );
}

#[test]
fn protocol_errors_are_typed_and_sticky() {
    let mut conn = Connection::new(small_limits());
    let mut client = Client::new(3, 1000, 1000);
    let ch = open_session(&mut conn, &mut client);
    // Data for a channel that was never opened.
    let bad = Message::ChannelData {
        recipient: 9,
        data: b"x",
    };
    assert_eq!(
        conn.handle_message(&bad.encode()),
        Err(ConnectionError::UnknownChannel { msg: 94, ch: 9 })
    );
    // Sticky: even a good message now fails the same way.
    let good = Message::ChannelEof { recipient: ch };
    assert_eq!(
        conn.handle_message(&good.encode()),
        Err(ConnectionError::UnknownChannel { msg: 94, ch: 9 })
    );
    assert_eq!(conn.send_data(ch, b"x"), 0);

    // Data beyond the window.
    let mut conn = Connection::new(small_limits());
    let mut client = Client::new(3, 1000, 1000);
    let ch = open_session(&mut conn, &mut client);
    let big = vec![0u8; 4097];
    let e = conn
        .handle_message(
            &Message::ChannelData {
                recipient: ch,
                data: &big,
            }
            .encode(),
        )
        .unwrap_err();
    assert_eq!(
        e,
        ConnectionError::WindowExceeded {
            ch,
            len: 4097,
            window: 4096
        }
    );
    assert_eq!(e.reason(), 2);

    // Window adjust overflowing 2^32-1.
    let mut conn = Connection::new(small_limits());
    let mut client = Client::new(3, 1000, 1000);
    let ch = open_session(&mut conn, &mut client);
    let adj = Message::ChannelWindowAdjust {
        recipient: ch,
        bytes_to_add: u32::MAX - 1000,
    };
    conn.handle_message(&adj.encode()).unwrap();
    assert_eq!(conn.send_window(ch), 1024 * 1024); // capped by the output queue bound
    let adj = Message::ChannelWindowAdjust {
        recipient: ch,
        bytes_to_add: 1,
    };
    assert_eq!(
        conn.handle_message(&adj.encode()),
        Err(ConnectionError::WindowOverflow { ch })
    );

    // A malformed message, and a message not defined by RFC 4254 (not fatal).
    let mut conn = Connection::new(small_limits());
    let e = conn.handle_message(&[90, 0, 0]).unwrap_err();
    assert!(matches!(e, ConnectionError::Malformed { msg: 90, .. }));
    assert_eq!(e.reason(), 2);
    let mut conn = Connection::new(small_limits());
    let e = conn.handle_message(&[120]).unwrap_err();
    assert!(!e.is_fatal());
    assert!(conn.handle_message(&Client::new(1, 1, 1).open()).is_ok());
    // Replies to requests we never sent.
    assert_eq!(
        conn.handle_message(&[82]),
        Err(ConnectionError::Unexpected { msg: 82 })
    );
}

#[test]
fn data_after_eof_is_dropped_and_confirmation_precedes_messages() {
    let mut conn = Connection::new(small_limits());
    let mut client = Client::new(3, 1000, 1000);
    conn.handle_message(&client.open()).unwrap();
    // Before accept_open the peer cannot know our id: an error.
    let early = Message::ChannelEof { recipient: 0 }.encode();
    assert!(Connection::new(small_limits())
        .handle_message(&early)
        .is_err());
    let mut conn2 = Connection::new(small_limits());
    conn2.handle_message(&client.open()).unwrap();
    assert!(conn2.handle_message(&early).is_err());

    conn.accept_open(0);
    client.absorb(&mut conn);
    let _ = events(&mut conn);
    conn.handle_message(&early).unwrap();
    client.send(&mut conn, b"ignored", 100);
    assert_eq!(events(&mut conn), vec![Event::Eof { ch: 0 }]);
}

#[test]
fn replies_go_out_in_request_order() {
    let mut conn = Connection::new(small_limits());
    let mut client = Client::new(3, 1000, 1000);
    let ch = open_session(&mut conn, &mut client);
    conn.handle_message(&client.request(
        &ChannelRequest::Other {
            kind: "auth-agent-req@openssh.com",
            data: &[],
        },
        true,
    ))
    .unwrap();
    let wc = ChannelRequest::WindowChange {
        cols: 100,
        rows: 30,
        width_px: 0,
        height_px: 0,
    };
    conn.handle_message(&client.request(&wc, true)).unwrap();
    conn.handle_message(&client.request(
        &ChannelRequest::Env {
            name: "X",
            value: &[0xff],
        },
        true,
    ))
    .unwrap();
    conn.handle_message(&client.request(&ChannelRequest::Signal { name: "INT" }, false))
        .unwrap();
    assert_eq!(
        events(&mut conn),
        vec![
            Event::AgentRequest {
                ch,
                want_reply: true,
            },
            Event::WindowChange {
                ch,
                cols: 100,
                rows: 30,
                width_px: 0,
                height_px: 0
            },
            Event::Signal {
                ch,
                name: "INT".into()
            },
        ]
    );
    // Nothing may go out before the first request is answered.
    client.absorb(&mut conn);
    assert_eq!(client.log, ["confirm"]);
    conn.reply_request(ch, false);
    client.absorb(&mut conn);
    assert_eq!(client.log, ["confirm", "failure", "success", "failure"]);
    // Nothing is owed any more: a further reply is a no-op.
    conn.reply_request(ch, true);
    assert_eq!(conn.poll_transmit(), None);
}

#[test]
fn global_requests_are_answered_in_order() {
    let mut conn = Connection::new(small_limits());
    for (name, want) in [
        ("keepalive@openssh.com", true),
        ("no-more-sessions@openssh.com", false),
        ("tcpip-forward", true),
    ] {
        let m = Message::GlobalRequest {
            name,
            want_reply: want,
            data: &[],
        };
        conn.handle_message(&m.encode()).unwrap();
    }
    assert_eq!(events(&mut conn).len(), 3);
    conn.reply_global(false, &[]);
    conn.reply_global(true, &[0, 0, 0x1f, 0x90]);
    conn.reply_global(true, &[]); // nothing owed
    let out: Vec<Vec<u8>> = std::iter::from_fn(|| conn.poll_transmit()).collect();
    assert_eq!(out, vec![vec![82], vec![81, 0, 0, 0x1f, 0x90]]);
    // Our own keepalive and the peer's reply.
    assert!(conn.send_global_request("keepalive@openssh.com", true, &[]));
    let _ = conn.poll_transmit();
    conn.handle_message(&[82]).unwrap();
    assert_eq!(
        events(&mut conn),
        vec![Event::GlobalReply {
            ok: false,
            data: vec![]
        }]
    );
}

/// Runs one session where the server sends `total` bytes in `chunks` to a client whose
/// window is `client_window`, while the client sends `total` bytes the daemon consumes
/// at `speeds`. Checks every invariant along the way.
fn flow(
    limits: Limits,
    client_window: u32,
    client_max_packet: u32,
    chunks: &[usize],
    speeds: &[u32],
    total: usize,
) {
    let mut conn = Connection::new(limits);
    let mut client = Client::new(77, client_window, client_max_packet);
    let ch = open_session(&mut conn, &mut client);
    let down: Vec<u8> = (0..total).map(|i| (i % 253) as u8).collect();
    let up: Vec<u8> = (0..total).map(|i| (i % 241) as u8).collect();
    let (mut down_off, mut up_off) = (0, 0);
    let mut delivered = Vec::new();
    let mut unconsumed: u32 = 0;
    let mut i = 0;
    while client.received.len() < total || delivered.len() < total {
        i += 1;
        assert!(i < 200_000, "stalled");
        // Server → client.
        let chunk = chunks[i % chunks.len()].max(1);
        let end = (down_off + chunk).min(total);
        let before = conn.send_window(ch);
        let n = conn.send_data(ch, &down[down_off..end]);
        assert!(n as u32 <= before);
        down_off += n;
        client.absorb(&mut conn);
        // Client → server.
        up_off += client.send(&mut conn, &up[up_off..], chunk);
        for e in events(&mut conn) {
            match e {
                Event::Data { data, .. } => {
                    unconsumed += data.len() as u32;
                    delivered.extend_from_slice(&data);
                }
                Event::WindowAdjusted { .. } => {}
                e => panic!("{e:?}"),
            }
        }
        // The daemon consumes at its own pace (0 some rounds, but never forever).
        let speed = speeds[i % speeds.len()];
        let speed = if i % 7 == 0 { speed.max(1) } else { speed };
        let take = speed.min(unconsumed);
        conn.consumed(ch, take);
        unconsumed -= take;
        client.absorb(&mut conn);
    }
    assert_eq!(client.received, down);
    assert_eq!(delivered, up);
}

#[test]
fn flow_with_tiny_windows_and_packets() {
    let limits = Limits {
        window: 10,
        max_packet: 3,
        max_pending_transmit: 50,
        ..Limits::default()
    };
    flow(limits, 7, 2, &[1, 5, 13], &[0, 1, 4], 500);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn flow_control_never_loses_reorders_or_overruns(
        window in 1u32..5000,
        max_packet in 1u32..2000,
        client_window in 2u32..5000,
        client_max_packet in 1u32..2000,
        pending in 20usize..10_000,
        chunks in proptest::collection::vec(1usize..3000, 1..8),
        speeds in proptest::collection::vec(0u32..3000, 1..8),
        total in 0usize..20_000,
    ) {
        let limits = Limits { window, max_packet, max_pending_transmit: pending, ..Limits::default() };
        flow(limits, client_window, client_max_packet, &chunks, &speeds, total);
    }
}

#[test]
fn stale_reply_slot_does_not_land_on_a_reused_id() {
    let mut conn = Connection::new(small_limits());
    let mut old = Client::new(10, 1000, 1000);
    let ch = open_session(&mut conn, &mut old);
    // Exec wanting a reply and the peer's CLOSE are still queued when the daemon
    // closes the channel: the id is free at once and reused by the next open.
    conn.handle_message(&old.request(&ChannelRequest::Exec { command: b"x" }, true))
        .unwrap();
    conn.handle_message(&Message::ChannelClose { recipient: ch }.encode())
        .unwrap();
    conn.close(ch);
    old.absorb(&mut conn);
    let mut new = Client::new(20, 1000, 1000);
    conn.handle_message(&new.open()).unwrap();
    // A daemon that accepts by id before draining its events (legal, if unusual).
    conn.accept_open(ch);
    let evs = events(&mut conn);
    assert!(matches!(evs[0], Event::Exec { .. }));
    assert_eq!(evs[1], Event::PeerClosed { ch });
    assert_eq!(evs[2], Event::Closed { ch });
    assert_eq!(
        evs[3],
        Event::ChannelOpen {
            ch,
            kind: ChannelKind::Session
        }
    );
    new.absorb(&mut conn);
    for req in [
        ChannelRequest::Shell,
        ChannelRequest::Subsystem { name: "sftp" },
    ] {
        conn.handle_message(&new.request(&req, true)).unwrap();
    }
    assert_eq!(events(&mut conn).len(), 2);
    conn.reply_request(ch, true);
    conn.reply_request(ch, false);
    // The old exec's reply slot is gone: a third answer is owed to nobody.
    conn.reply_request(ch, true);
    new.absorb(&mut conn);
    assert_eq!(new.log, ["confirm", "success", "failure"]);
}

#[test]
fn close_with_unpolled_requests_sends_nothing_more() {
    let mut conn = Connection::new(small_limits());
    let mut client = Client::new(4, 1000, 1000);
    let ch = open_session(&mut conn, &mut client);
    conn.handle_message(&client.request(&ChannelRequest::Shell, true))
        .unwrap();
    conn.close(ch);
    assert_eq!(
        events(&mut conn),
        vec![Event::Shell {
            ch,
            want_reply: true
        }]
    );
    conn.reply_request(ch, true);
    // Requests after our CLOSE are ignored; the peer's CLOSE completes the channel.
    conn.handle_message(&client.request(&ChannelRequest::Shell, true))
        .unwrap();
    conn.handle_message(&Message::ChannelClose { recipient: ch }.encode())
        .unwrap();
    assert_eq!(events(&mut conn), vec![Event::Closed { ch }]);
    client.absorb(&mut conn);
    assert_eq!(client.log, ["confirm", "close"]);
}
