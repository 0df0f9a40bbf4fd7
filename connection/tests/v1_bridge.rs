//! The SSH-1 bridge wired to a real server-role `Connection`, as the daemon uses it,
//! with a scripted SSH-1 client on one side and a scripted daemon on the other.
#![cfg(feature = "v1")]

use proptest::prelude::*;
use sisu_connection::v1::{
    Phase, V1Session, V1SessionError, MAX_BUFFERED_PER_CHANNEL, MAX_BUFFERED_TOTAL, MAX_CHANNELS,
    MAX_PEER_MESSAGE,
};
use sisu_connection::{ChannelId, ChannelKind, Connection, Event, Limits};
use sisu_wire::v1::msg;
use sisu_wire::v1::msg::flags;
use sisu_wire::{Reader, Writer};

/// What the daemon does with each event.
type Daemon = Box<dyn FnMut(&mut Connection, &Event)>;

/// A daemon that accepts every channel and request.
fn yes_daemon() -> Daemon {
    Box::new(|c: &mut Connection, e: &Event| answer_all(c, e, true))
}

fn answer_all(c: &mut Connection, e: &Event, ok: bool) {
    match e {
        Event::ChannelOpen { ch, .. } => {
            if ok {
                c.accept_open(*ch)
            } else {
                c.reject_open(*ch, 1, "no")
            }
        }
        Event::PtyRequest { ch, .. }
        | Event::Shell { ch, .. }
        | Event::Exec { ch, .. }
        | Event::X11Request { ch, .. }
        | Event::AgentRequest { ch, .. } => c.reply_request(*ch, ok),
        Event::GlobalRequest {
            want_reply: true, ..
        } => c.reply_global(ok, &[]),
        _ => {}
    }
}

struct Rig {
    bridge: V1Session,
    conn: Connection,
    daemon: Daemon,
    /// Every SSH-1 message the client got.
    got: Vec<(u8, Vec<u8>)>,
    /// Every event the daemon saw.
    events: Vec<Event>,
    /// Whether the client's socket takes output (false: it is stalled).
    take_output: bool,
}

impl Rig {
    fn new(flags: u32, limits: Limits, daemon: Daemon) -> Rig {
        Rig {
            bridge: V1Session::new(flags),
            conn: Connection::new(limits),
            daemon,
            got: Vec::new(),
            events: Vec::new(),
            take_output: true,
        }
    }

    /// One SSH-1 message from the client, then everything moves until it settles.
    fn send(&mut self, m: u8, payload: &[u8]) {
        self.bridge.from_peer(m, payload).unwrap();
        self.pump();
    }

    fn pump(&mut self) {
        for _ in 0..100_000 {
            let mut moved = false;
            while let Some(p) = self.bridge.poll_to_connection() {
                self.conn.handle_message(&p).unwrap();
                moved = true;
            }
            while let Some(e) = self.conn.poll_event() {
                (self.daemon)(&mut self.conn, &e);
                self.events.push(e);
                moved = true;
            }
            while let Some(p) = self.conn.poll_transmit() {
                self.bridge.from_connection(&p).unwrap();
                moved = true;
            }
            while self.take_output {
                let Some(m) = self.bridge.poll_to_peer() else {
                    break;
                };
                self.got.push(m);
                moved = true;
            }
            if !moved {
                return;
            }
        }
        panic!("never settles");
    }

    /// The messages the client got since the last call, as (type, payload).
    fn take(&mut self) -> Vec<(u8, Vec<u8>)> {
        std::mem::take(&mut self.got)
    }

    /// The daemon's events since the last call, without `WindowAdjusted` (credit
    /// for output the client took: noise here).
    fn take_events(&mut self) -> Vec<Event> {
        let mut evs = std::mem::take(&mut self.events);
        evs.retain(|e| !matches!(e, Event::WindowAdjusted { .. }));
        evs
    }

    /// The session channel's id in the Connection.
    fn session_ch(&self) -> ChannelId {
        0
    }
}

fn s(b: &[u8]) -> Vec<u8> {
    let mut w = Writer::new();
    w.string(b);
    w.into_vec()
}

fn u(n: u32) -> Vec<u8> {
    n.to_be_bytes().to_vec()
}

fn cat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

fn stdout_of(msgs: &[(u8, Vec<u8>)]) -> (Vec<u8>, Vec<u8>) {
    let mut out = Vec::new();
    let mut err = Vec::new();
    for (m, p) in msgs {
        let mut r = Reader::new(p);
        match *m {
            msg::SMSG_STDOUT_DATA => out.extend_from_slice(r.string().unwrap()),
            msg::SMSG_STDERR_DATA => err.extend_from_slice(r.string().unwrap()),
            _ => {}
        }
    }
    (out, err)
}

fn pty_request() -> Vec<u8> {
    // TERM, rows 24, cols 80, 640x480 px, modes: OSPEED_PROTO1 38400, VINTR ^C, ECHO 1.
    cat(&[
        &s(b"vt100"),
        &u(24),
        &u(80),
        &u(640),
        &u(480),
        &[193, 0, 0, 0x96, 0, 1, 3, 53, 1, 0],
    ])
}

#[test]
fn pty_shell_window_size_data_exit_status_and_confirmation() {
    let mut rig = Rig::new(0, Limits::default(), yes_daemon());
    rig.send(msg::CMSG_REQUEST_PTY, &pty_request());
    assert_eq!(rig.take(), vec![(msg::SMSG_SUCCESS, vec![])]);
    let ch = rig.session_ch();
    assert_eq!(
        rig.take_events(),
        vec![
            Event::ChannelOpen {
                ch,
                kind: ChannelKind::Session
            },
            Event::PtyRequest {
                ch,
                want_reply: true,
                term: "vt100".into(),
                cols: 80,
                rows: 24,
                width_px: 640,
                height_px: 480,
                modes: vec![(129, 38400), (1, 3), (53, 1)],
            }
        ]
    );
    // Compression is refused by the bridge itself; the order of replies holds.
    rig.send(msg::CMSG_REQUEST_COMPRESSION, &u(6));
    assert_eq!(rig.take(), vec![(msg::SMSG_FAILURE, vec![])]);
    rig.send(msg::CMSG_EXEC_SHELL, &[]);
    // The shell's start is not answered to an SSH-1 client.
    assert!(rig.take().is_empty());
    assert_eq!(
        rig.take_events(),
        vec![Event::Shell {
            ch,
            want_reply: true
        }]
    );
    assert_eq!(rig.bridge.phase(), Phase::Interactive);

    rig.send(
        msg::CMSG_WINDOW_SIZE,
        &cat(&[&u(50), &u(132), &u(0), &u(0)]),
    );
    rig.send(msg::CMSG_STDIN_DATA, &s(b"ls\n"));
    assert_eq!(
        rig.take_events(),
        vec![
            Event::WindowChange {
                ch,
                cols: 132,
                rows: 50,
                width_px: 0,
                height_px: 0
            },
            Event::Data {
                ch,
                data: b"ls\n".to_vec()
            }
        ]
    );
    rig.conn.consumed(ch, 3);
    rig.conn.send_data(ch, b"file\r\n");
    rig.conn.send_exit_status(ch, 3);
    rig.conn.send_eof(ch);
    rig.conn.close(ch);
    rig.pump();
    assert_eq!(
        rig.take(),
        vec![
            (msg::SMSG_STDOUT_DATA, s(b"file\r\n")),
            (msg::SMSG_EXITSTATUS, u(3)),
        ]
    );
    // The bridge closed the SSH-2 channel as a client would.
    assert!(rig.take_events().contains(&Event::Closed { ch }));
    assert_eq!(rig.conn.channels().count(), 0);
    assert_eq!(rig.bridge.phase(), Phase::Exiting);
    // Anything but the confirmation is ignored now, as sshd did.
    rig.send(msg::CMSG_STDIN_DATA, &s(b"late"));
    assert!(!rig.bridge.is_finished());
    rig.send(msg::CMSG_EXIT_CONFIRMATION, &[]);
    assert!(rig.bridge.is_finished());
    assert!(!rig.bridge.wants_peer_input());
}

#[test]
fn exec_with_stdin_eof_and_exit_status() {
    let mut rig = Rig::new(0, Limits::default(), yes_daemon());
    rig.send(msg::CMSG_EXEC_CMD, &s(b"cat"));
    let ch = rig.session_ch();
    let evs = rig.take_events();
    assert_eq!(
        evs[1],
        Event::Exec {
            ch,
            want_reply: true,
            command: b"cat".to_vec()
        }
    );
    rig.send(msg::CMSG_STDIN_DATA, &s(b"abc"));
    rig.send(msg::CMSG_EOF, &[]);
    assert_eq!(
        rig.take_events(),
        vec![
            Event::Data {
                ch,
                data: b"abc".to_vec()
            },
            Event::Eof { ch }
        ]
    );
    // Stdin after EOF is a protocol error.
    let mut b = V1Session::new(0);
    b.from_peer(msg::CMSG_EXEC_SHELL, &[]).unwrap();
    b.from_peer(msg::CMSG_EOF, &[]).unwrap();
    assert_eq!(
        b.from_peer(msg::CMSG_STDIN_DATA, &s(b"x")),
        Err(V1SessionError::DataAfterEof { ch: None })
    );

    rig.conn.send_data(ch, b"abc");
    rig.conn.send_exit_status(ch, 0);
    rig.conn.send_eof(ch);
    rig.conn.close(ch);
    rig.pump();
    assert_eq!(
        rig.take(),
        vec![
            (msg::SMSG_STDOUT_DATA, s(b"abc")),
            (msg::SMSG_EXITSTATUS, u(0))
        ]
    );
    rig.send(msg::CMSG_EXIT_CONFIRMATION, &[]);
    assert!(rig.bridge.is_finished());
}

#[test]
fn stdout_and_stderr_keep_their_order() {
    let mut rig = Rig::new(0, Limits::default(), yes_daemon());
    rig.send(msg::CMSG_EXEC_CMD, &s(b"noisy"));
    let ch = rig.session_ch();
    let mut want = Vec::new();
    for i in 0..200u32 {
        let text = format!("line {i}\n");
        if i % 3 == 0 {
            rig.conn.send_extended_data(ch, 1, text.as_bytes());
            want.push((msg::SMSG_STDERR_DATA, s(text.as_bytes())));
        } else {
            rig.conn.send_data(ch, text.as_bytes());
            want.push((msg::SMSG_STDOUT_DATA, s(text.as_bytes())));
        }
        if i % 50 == 0 {
            rig.pump();
        }
    }
    rig.pump();
    assert_eq!(rig.take(), want);
}

#[test]
fn exit_signal_and_failed_exec_disconnect_as_sshd_did() {
    let mut rig = Rig::new(0, Limits::default(), yes_daemon());
    rig.send(msg::CMSG_EXEC_SHELL, &[]);
    let ch = rig.session_ch();
    rig.conn.send_exit_signal(ch, "TERM", false, "");
    rig.conn.close(ch);
    rig.pump();
    assert_eq!(
        rig.take(),
        vec![(msg::DISCONNECT, s(b"Command terminated on signal 15."))]
    );
    assert!(rig.bridge.is_finished());

    let mut rig = Rig::new(
        0,
        Limits::default(),
        Box::new(|c: &mut Connection, e: &Event| {
            answer_all(c, e, !matches!(e, Event::Exec { .. }))
        }),
    );
    rig.send(msg::CMSG_EXEC_CMD, &s(b"nope"));
    assert_eq!(
        rig.take(),
        vec![(msg::DISCONNECT, s(b"command execution failed"))]
    );
    assert!(rig.bridge.is_finished());
}

#[test]
fn four_mib_of_stdin_through_the_window_with_bounded_buffers() {
    let mut rig = Rig::new(0, Limits::default(), yes_daemon());
    rig.send(msg::CMSG_EXEC_CMD, &s(b"sink"));
    let ch = rig.session_ch();
    rig.take_events();
    let total = 4 * 1024 * 1024;
    let input: Vec<u8> = (0..total as u32).map(|i| (i % 251) as u8).collect();
    let mut sent = 0;
    let mut got = Vec::new();
    let mut stalls = 0;
    let mut rounds = 0;
    while got.len() < total {
        rounds += 1;
        assert!(rounds < 100_000, "stalled");
        // The client writes as long as the bridge wants input, in 40 000-byte messages.
        let mut wrote = 0;
        while sent < total && rig.bridge.wants_peer_input() && wrote < 8 {
            let n = (total - sent).min(40_000);
            rig.bridge
                .from_peer(msg::CMSG_STDIN_DATA, &s(&input[sent..sent + n]))
                .unwrap();
            sent += n;
            wrote += 1;
            assert!(rig.bridge.buffered() <= MAX_BUFFERED_PER_CHANNEL + MAX_PEER_MESSAGE);
        }
        if !rig.bridge.wants_peer_input() {
            stalls += 1;
        }
        rig.pump();
        // The daemon's consumer is slow: 100 000 bytes a round.
        let mut fresh = 0;
        for e in rig.take_events() {
            if let Event::Data { data, .. } = e {
                fresh += data.len();
                got.extend_from_slice(&data);
            }
        }
        let _ = fresh;
        let take = 100_000.min(got.len());
        rig.conn.consumed(ch, take as u32);
        rig.pump();
    }
    assert_eq!(got, input);
    assert!(stalls > 0, "the bound was reached and the client held back");
}

#[test]
fn client_port_open_confirmed_data_close_and_refused() {
    let mut rig = Rig::new(
        flags::HOST_IN_FWD_OPEN,
        Limits::default(),
        Box::new(|c: &mut Connection, e: &Event| {
            // The second forward is refused.
            if let Event::ChannelOpen {
                ch,
                kind: ChannelKind::DirectTcpip { port: 81, .. },
            } = e
            {
                c.reject_open(*ch, 2, "connect failed");
                return;
            }
            answer_all(c, e, true)
        }),
    );
    rig.send(msg::CMSG_EXEC_SHELL, &[]);
    rig.take_events();
    let desc = b"direct-tcpip: listening port 2222 for localhost port 80, connect from 127.0.0.1 port 4242";
    rig.send(
        msg::MSG_PORT_OPEN,
        &cat(&[&u(7), &s(b"localhost"), &u(80), &s(desc)]),
    );
    let evs = rig.take_events();
    let Event::ChannelOpen { ch: fch, kind } = &evs[0] else {
        panic!("{evs:?}")
    };
    let fch = *fch;
    assert_eq!(
        kind,
        &ChannelKind::DirectTcpip {
            host: "localhost".into(),
            port: 80,
            originator: String::from_utf8(desc.to_vec()).unwrap(),
            originator_port: 0
        }
    );
    let got = rig.take();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].0, msg::MSG_CHANNEL_OPEN_CONFIRMATION);
    let mut r = Reader::new(&got[0].1);
    assert_eq!(r.u32().unwrap(), 7);
    let ours = r.u32().unwrap();

    // Data both ways.
    rig.send(msg::MSG_CHANNEL_DATA, &cat(&[&u(ours), &s(b"GET /")]));
    assert_eq!(
        rig.take_events(),
        vec![Event::Data {
            ch: fch,
            data: b"GET /".to_vec()
        }]
    );
    rig.conn.send_data(fch, b"200 OK");
    rig.pump();
    assert_eq!(
        rig.take(),
        vec![(msg::MSG_CHANNEL_DATA, cat(&[&u(7), &s(b"200 OK")]))]
    );
    // The client's input EOF: EOF to the Connection, output-closed back to it.
    rig.send(msg::MSG_CHANNEL_CLOSE, &u(ours));
    assert_eq!(rig.take_events(), vec![Event::Eof { ch: fch }]);
    assert_eq!(
        rig.take(),
        vec![(msg::MSG_CHANNEL_CLOSE_CONFIRMATION, u(7))]
    );
    // The daemon's socket ends too: EOF and CLOSE; the client hears input EOF.
    rig.conn.send_eof(fch);
    rig.conn.close(fch);
    rig.pump();
    assert_eq!(rig.take(), vec![(msg::MSG_CHANNEL_CLOSE, u(7))]);
    assert_eq!(
        rig.bridge.channels(),
        1,
        "waits for the client's output-closed"
    );
    rig.send(msg::MSG_CHANNEL_CLOSE_CONFIRMATION, &u(ours));
    assert_eq!(rig.bridge.channels(), 0);
    assert!(rig.take_events().contains(&Event::Closed { ch: fch }));
    assert_eq!(rig.conn.channels().count(), 1, "only the session");

    // Refused by the daemon: the client hears an open failure.
    rig.send(
        msg::MSG_PORT_OPEN,
        &cat(&[&u(8), &s(b"localhost"), &u(81), &s(b"x")]),
    );
    assert_eq!(rig.take(), vec![(msg::MSG_CHANNEL_OPEN_FAILURE, u(8))]);
    assert_eq!(rig.bridge.channels(), 0);
    // A channel that is gone is a protocol error.
    assert_eq!(
        rig.bridge
            .from_peer(msg::MSG_CHANNEL_DATA, &cat(&[&u(ours), &s(b"x")])),
        Err(V1SessionError::UnknownChannel {
            msg: msg::MSG_CHANNEL_DATA,
            ch: ours
        })
    );
}

#[test]
fn remote_forward_and_a_server_opened_forwarded_channel() {
    let mut rig = Rig::new(flags::HOST_IN_FWD_OPEN, Limits::default(), yes_daemon());
    rig.send(
        msg::CMSG_PORT_FORWARD_REQUEST,
        &cat(&[&u(8080), &s(b"web.internal"), &u(80)]),
    );
    assert_eq!(rig.take(), vec![(msg::SMSG_SUCCESS, vec![])]);
    let evs = rig.take_events();
    let Event::GlobalRequest {
        name,
        want_reply: true,
        data,
    } = &evs[1]
    else {
        panic!("{evs:?}")
    };
    assert_eq!(name, "tcpip-forward");
    assert_eq!(data, &cat(&[&s(b""), &u(8080)]));
    rig.send(msg::CMSG_EXEC_SHELL, &[]);
    rig.take_events();

    // A connection arrives on port 8080.
    let kind = ChannelKind::ForwardedTcpip {
        connected_address: "".into(),
        connected_port: 8080,
        originator: "192.0.2.7".into(),
        originator_port: 5555,
    };
    let fch = rig.conn.open_channel(&kind).unwrap();
    rig.pump();
    let got = rig.take();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].0, msg::MSG_PORT_OPEN);
    let mut r = Reader::new(&got[0].1);
    let ours = r.u32().unwrap();
    assert_eq!(r.string().unwrap(), b"web.internal");
    assert_eq!(r.u32().unwrap(), 80);
    assert_eq!(
        r.string().unwrap(),
        b"forwarded-tcpip: listening port 8080 for web.internal port 80, connect from 192.0.2.7 port 5555"
    );
    assert!(r.finish().is_ok());
    // The client connects and confirms with its channel 3.
    rig.send(msg::MSG_CHANNEL_OPEN_CONFIRMATION, &cat(&[&u(ours), &u(3)]));
    assert_eq!(rig.take_events(), vec![Event::OpenConfirmed { ch: fch }]);
    rig.conn.send_data(fch, b"request");
    rig.pump();
    assert_eq!(
        rig.take(),
        vec![(msg::MSG_CHANNEL_DATA, cat(&[&u(3), &s(b"request")]))]
    );
    rig.send(msg::MSG_CHANNEL_DATA, &cat(&[&u(ours), &s(b"response")]));
    assert_eq!(
        rig.take_events(),
        vec![Event::Data {
            ch: fch,
            data: b"response".to_vec()
        }]
    );
    // The session ends while the forwarded channel is open: the exit status waits.
    let ch = rig.session_ch();
    rig.conn.send_exit_status(ch, 0);
    rig.conn.close(ch);
    rig.pump();
    let (_, err) = stdout_of(&rig.take());
    assert_eq!(
        err,
        b"Waiting for forwarded connections to terminate...\r\n"
    );
    // The daemon's side closes: input EOF and output-closed to the client; it answers
    // with both (as an ssh1 client's channel code does), and the channel is gone.
    rig.conn.close(fch);
    rig.pump();
    assert_eq!(
        rig.take(),
        vec![
            (msg::MSG_CHANNEL_CLOSE, u(3)),
            (msg::MSG_CHANNEL_CLOSE_CONFIRMATION, u(3))
        ]
    );
    rig.send(msg::MSG_CHANNEL_CLOSE, &u(ours));
    assert!(rig.take().is_empty());
    rig.send(msg::MSG_CHANNEL_CLOSE_CONFIRMATION, &u(ours));
    assert_eq!(rig.bridge.channels(), 0);
    // Now the exit status.
    assert_eq!(rig.take(), vec![(msg::SMSG_EXITSTATUS, u(0))]);
    rig.send(msg::CMSG_EXIT_CONFIRMATION, &[]);
    assert!(rig.bridge.is_finished());
    assert_eq!(rig.conn.channels().count(), 0);
}

#[test]
fn x11_and_agent_channels_from_the_daemon() {
    let mut rig = Rig::new(
        flags::HOST_IN_FWD_OPEN | flags::SCREEN_NUMBER,
        Limits::default(),
        yes_daemon(),
    );
    rig.send(
        msg::CMSG_X11_REQUEST_FORWARDING,
        &cat(&[&s(b"MIT-MAGIC-COOKIE-1"), &s(b"00ff"), &u(1)]),
    );
    rig.send(msg::CMSG_AGENT_REQUEST_FORWARDING, &[]);
    assert_eq!(
        rig.take(),
        vec![(msg::SMSG_SUCCESS, vec![]), (msg::SMSG_SUCCESS, vec![])]
    );
    let evs = rig.take_events();
    assert_eq!(
        evs[1],
        Event::X11Request {
            ch: 0,
            want_reply: true,
            single_connection: false,
            auth_protocol: "MIT-MAGIC-COOKIE-1".into(),
            auth_cookie: "00ff".into(),
            screen: 1
        }
    );
    assert_eq!(
        evs[2],
        Event::AgentRequest {
            ch: 0,
            want_reply: true
        }
    );
    rig.send(msg::CMSG_EXEC_SHELL, &[]);
    rig.take_events();
    let x = rig
        .conn
        .open_channel(&ChannelKind::X11 {
            originator: "127.0.0.1".into(),
            originator_port: 40000,
        })
        .unwrap();
    let a = rig.conn.open_channel(&ChannelKind::AuthAgent).unwrap();
    rig.pump();
    let got = rig.take();
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].0, msg::SMSG_X11_OPEN);
    let mut r = Reader::new(&got[0].1);
    let xo = r.u32().unwrap();
    assert_eq!(
        r.string().unwrap(),
        b"X11 connection from 127.0.0.1 port 40000"
    );
    assert_eq!(got[1].0, msg::SMSG_AGENT_OPEN);
    let ao = u32::from_be_bytes(got[1].1[..4].try_into().unwrap());
    assert_eq!(got[1].1.len(), 4);
    // The client has no display: refuses X11; accepts the agent.
    rig.send(msg::MSG_CHANNEL_OPEN_FAILURE, &u(xo));
    rig.send(msg::MSG_CHANNEL_OPEN_CONFIRMATION, &cat(&[&u(ao), &u(9)]));
    let evs = rig.take_events();
    assert!(
        matches!(evs[0], Event::OpenFailed { ch, .. } if ch == x),
        "{evs:?}"
    );
    assert_eq!(evs[1], Event::OpenConfirmed { ch: a });
    assert_eq!(rig.bridge.channels(), 1);
}

#[test]
fn a_stalled_client_socket_stalls_the_connection_not_memory() {
    let limits = Limits::default();
    let mut rig = Rig::new(0, limits, yes_daemon());
    rig.send(msg::CMSG_EXEC_CMD, &s(b"yes"));
    let ch = rig.session_ch();
    rig.take_output = false;
    let chunk = vec![b'y'; 32 * 1024];
    let mut accepted = 0;
    for _ in 0..200 {
        accepted += rig.conn.send_data(ch, &chunk);
        rig.pump();
    }
    // The bridge's window (2 MiB) is all that left the Connection.
    assert_eq!(accepted, 2 * 1024 * 1024);
    rig.take_output = true;
    rig.pump();
    let (out, _) = stdout_of(&rig.take());
    assert_eq!(out.len(), accepted);
    // Taking the output gave the credit back.
    assert!(rig.conn.send_data(ch, &chunk) > 0);
}

/// One step of a random SSH-1 client.
#[derive(Debug, Clone)]
enum Step {
    Pty,
    X11,
    Agent,
    Forward(u16),
    Compression,
    Shell,
    Exec,
    Stdin(usize),
    Eof,
    WindowSize,
    PortOpen(u32),
    ChannelData(u32, usize),
    ChannelClose(u32),
    ChannelCloseConfirm(u32),
    OpenConfirm(u32, u32),
    OpenFailure(u32),
    ExitConfirm,
    Garbage(u8, Vec<u8>),
    DaemonOpens(u8),
    DaemonData(usize),
    DaemonEnds,
    DaemonClosesForwards,
    Consume(u32),
    ToggleOutput,
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        Just(Step::Pty),
        Just(Step::X11),
        Just(Step::Agent),
        (1u16..4).prop_map(Step::Forward),
        Just(Step::Compression),
        Just(Step::Shell),
        Just(Step::Exec),
        (0usize..300_000).prop_map(Step::Stdin),
        Just(Step::Eof),
        Just(Step::WindowSize),
        (0u32..5).prop_map(Step::PortOpen),
        ((0u32..6), (0usize..70_000)).prop_map(|(c, n)| Step::ChannelData(c, n)),
        (0u32..6).prop_map(Step::ChannelClose),
        (0u32..6).prop_map(Step::ChannelCloseConfirm),
        ((0u32..6), (0u32..9)).prop_map(|(a, b)| Step::OpenConfirm(a, b)),
        (0u32..6).prop_map(Step::OpenFailure),
        Just(Step::ExitConfirm),
        (any::<u8>(), proptest::collection::vec(any::<u8>(), 0..24))
            .prop_map(|(m, p)| Step::Garbage(m, p)),
        (0u8..3).prop_map(Step::DaemonOpens),
        (0usize..100_000).prop_map(Step::DaemonData),
        Just(Step::DaemonEnds),
        Just(Step::DaemonClosesForwards),
        (0u32..300_000).prop_map(Step::Consume),
        Just(Step::ToggleOutput),
    ]
}

fn client_message(st: &Step) -> Option<(u8, Vec<u8>)> {
    let zeros = |n: usize| vec![0x5au8; n];
    Some(match st {
        Step::Pty => (msg::CMSG_REQUEST_PTY, pty_request()),
        Step::X11 => (
            msg::CMSG_X11_REQUEST_FORWARDING,
            cat(&[&s(b"MIT-MAGIC-COOKIE-1"), &s(b"abcd")]),
        ),
        Step::Agent => (msg::CMSG_AGENT_REQUEST_FORWARDING, vec![]),
        Step::Forward(p) => (
            msg::CMSG_PORT_FORWARD_REQUEST,
            cat(&[&u(9000 + u32::from(*p)), &s(b"h"), &u(22)]),
        ),
        Step::Compression => (msg::CMSG_REQUEST_COMPRESSION, u(6)),
        Step::Shell => (msg::CMSG_EXEC_SHELL, vec![]),
        Step::Exec => (msg::CMSG_EXEC_CMD, s(b"true")),
        Step::Stdin(n) => (msg::CMSG_STDIN_DATA, s(&zeros(*n))),
        Step::Eof => (msg::CMSG_EOF, vec![]),
        Step::WindowSize => (msg::CMSG_WINDOW_SIZE, cat(&[&u(1), &u(2), &u(3), &u(4)])),
        Step::PortOpen(c) => (
            msg::MSG_PORT_OPEN,
            cat(&[&u(*c), &s(b"localhost"), &u(80), &s(b"orig")]),
        ),
        Step::ChannelData(c, n) => (msg::MSG_CHANNEL_DATA, cat(&[&u(*c), &s(&zeros(*n))])),
        Step::ChannelClose(c) => (msg::MSG_CHANNEL_CLOSE, u(*c)),
        Step::ChannelCloseConfirm(c) => (msg::MSG_CHANNEL_CLOSE_CONFIRMATION, u(*c)),
        Step::OpenConfirm(a, b) => (msg::MSG_CHANNEL_OPEN_CONFIRMATION, cat(&[&u(*a), &u(*b)])),
        Step::OpenFailure(c) => (msg::MSG_CHANNEL_OPEN_FAILURE, u(*c)),
        Step::ExitConfirm => (msg::CMSG_EXIT_CONFIRMATION, vec![]),
        Step::Garbage(m, p) => (*m, p.clone()),
        _ => return None,
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    /// Random SSH-1 clients against a daemon that says yes and sometimes opens
    /// channels, ends the session, or stops reading: nothing panics, the Connection
    /// never sees a protocol error from the bridge, the bounds hold, and every error
    /// is typed, described and sticky.
    #[test]
    fn random_clients_keep_the_bounds(steps in proptest::collection::vec(step(), 1..60),
                                      chunk in 1usize..70_000) {
        let limits = Limits { window: 256 * 1024, ..Limits::default() };
        let mut rig = Rig::new(flags::HOST_IN_FWD_OPEN, limits, yes_daemon());
        let mut daemon_channels: Vec<ChannelId> = Vec::new();
        let mut errors = 0;
        for st in &steps {
            let r = match client_message(st) {
                Some((m, p)) => {
                    if !rig.bridge.wants_peer_input() {
                        // A well-behaved caller stops reading; skip the message.
                        Ok(())
                    } else if let Step::Stdin(_) = st {
                        // Random chunking of a large write.
                        let data = Reader::new(&p).string().unwrap().to_vec();
                        let mut res = Ok(());
                        for part in data.chunks(chunk) {
                            if !rig.bridge.wants_peer_input() { break; }
                            res = rig.bridge.from_peer(m, &s(part));
                            if res.is_err() { break; }
                        }
                        res
                    } else {
                        rig.bridge.from_peer(m, &p)
                    }
                }
                None => {
                    let ch = rig.session_ch();
                    match st {
                        Step::DaemonOpens(k) => {
                            let kind = match k {
                                0 => ChannelKind::ForwardedTcpip {
                                    connected_address: "".into(), connected_port: 9001,
                                    originator: "o".into(), originator_port: 1,
                                },
                                1 => ChannelKind::X11 { originator: "o".into(), originator_port: 1 },
                                _ => ChannelKind::AuthAgent,
                            };
                            if let Some(c) = rig.conn.open_channel(&kind) { daemon_channels.push(c); }
                        }
                        Step::DaemonData(n) => {
                            rig.conn.send_data(ch, &vec![1u8; *n]);
                            rig.conn.send_extended_data(ch, 1, b"e");
                            for &c in &daemon_channels { rig.conn.send_data(c, b"dd"); }
                        }
                        Step::DaemonEnds => {
                            rig.conn.send_exit_status(ch, 1);
                            rig.conn.send_eof(ch);
                            rig.conn.close(ch);
                        }
                        Step::DaemonClosesForwards => {
                            for c in daemon_channels.drain(..) { rig.conn.close(c); }
                        }
                        Step::Consume(n) => rig.conn.consumed(ch, *n),
                        Step::ToggleOutput => rig.take_output = !rig.take_output,
                        _ => {}
                    }
                    Ok(())
                }
            };
            match r {
                Ok(()) => {}
                Err(e) => {
                    prop_assert!(e.is_peer_error(), "the Connection side is never at fault: {e}");
                    prop_assert!(!e.to_string().is_empty());
                    prop_assert_eq!(rig.bridge.from_peer(msg::CMSG_EOF, &[]), Err(e.clone()));
                    prop_assert_eq!(rig.bridge.from_connection(&[97, 0, 0, 0, 0]), Err(e));
                    prop_assert!(rig.bridge.is_finished());
                    prop_assert!(rig.bridge.poll_to_peer().is_none());
                    // Carry on with a fresh session, past its exec, to reach deeper
                    // states.
                    rig = Rig::new(flags::HOST_IN_FWD_OPEN, limits, yes_daemon());
                    daemon_channels.clear();
                    rig.send(msg::CMSG_EXEC_SHELL, &[]);
                    errors += 1;
                }
            }
            // The pump unwraps: the Connection accepts all the bridge sends and the
            // bridge all the Connection sends.
            rig.pump();
            rig.take();
            rig.take_events();
            prop_assert!(rig.bridge.buffered() <= MAX_BUFFERED_TOTAL + MAX_PEER_MESSAGE);
            prop_assert!(rig.bridge.channels() <= MAX_CHANNELS);
            if rig.bridge.is_finished() { break; }
        }
        prop_assert!(errors <= steps.len());
    }
}
