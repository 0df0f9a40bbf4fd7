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

mod forwarding;
mod random;
