//! Unit tests of each mapping, with the Connection's side played by hand: the
//! session here, forwarded channels and the bounds proptest in `channels.rs`.

use super::*;
use crate::global::KEEPALIVE;
use crate::message::Message;
use crate::request::ChannelRequest;
use crate::{Connection, Event, Limits};
use proptest::prelude::*;
use sisu_wire::v1::msg::flags;

fn s(b: &[u8]) -> Vec<u8> {
    let mut w = Writer::new();
    w.string(b);
    w.into_vec()
}

fn u(n: u32) -> Vec<u8> {
    n.to_be_bytes().to_vec()
}

fn to_conn(b: &mut V1Session) -> Vec<Vec<u8>> {
    std::iter::from_fn(|| b.poll_to_connection()).collect()
}

fn to_peer(b: &mut V1Session) -> Vec<(u8, Vec<u8>)> {
    std::iter::from_fn(|| b.poll_to_peer()).collect()
}

/// The Connection confirms the session: its channel 5, window `window`, packet 100.
fn confirm_session(b: &mut V1Session, window: u32) {
    let m = Message::ChannelOpenConfirmation {
        recipient: 0,
        sender: 5,
        initial_window: window,
        max_packet: 100,
        data: &[],
    };
    b.from_connection(&m.encode()).unwrap();
}

fn session_open() -> Vec<u8> {
    Message::ChannelOpen {
        kind: "session",
        sender: 0,
        initial_window: SESSION_WINDOW,
        max_packet: MAX_PACKET,
        data: &[],
    }
    .encode()
}

fn request(kind: &str, want_reply: bool, data: &[u8]) -> Vec<u8> {
    Message::ChannelRequest {
        recipient: 5,
        kind,
        want_reply,
        data,
    }
    .encode()
}

/// A bridge in the interactive phase (shell started) with the session confirmed.
fn running(flags: u32, window: u32) -> V1Session {
    let mut b = V1Session::new(flags);
    b.from_peer(msg::CMSG_EXEC_SHELL, &[]).unwrap();
    confirm_session(&mut b, window);
    to_conn(&mut b);
    b.from_connection(&Message::ChannelSuccess { recipient: 0 }.encode())
        .unwrap();
    assert!(to_peer(&mut b).is_empty());
    b
}

#[test]
fn first_message_opens_the_session_and_requests_wait_for_its_confirmation() {
    let mut b = V1Session::new(0);
    let pty = [
        &s(b"xterm")[..],
        &u(24),
        &u(80),
        &u(1),
        &u(2),
        &[192, 0, 0, 0x25, 0x80, 3, 0x7f, 0],
    ]
    .concat();
    b.from_peer(msg::CMSG_REQUEST_PTY, &pty).unwrap();
    assert_eq!(to_conn(&mut b), vec![session_open()]);
    confirm_session(&mut b, 1000);
    // SSH-1 sends rows before columns; SSH-2 columns first.
    let want = ChannelRequest::PtyReq {
        term: "xterm",
        cols: 80,
        rows: 24,
        width_px: 1,
        height_px: 2,
        modes: vec![(128, 9600), (3, 0x7f)],
    };
    assert_eq!(
        to_conn(&mut b),
        vec![request("pty-req", true, &want.encode_data())]
    );
    assert!(to_peer(&mut b).is_empty(), "the confirmation is swallowed");
    b.from_connection(&Message::ChannelFailure { recipient: 0 }.encode())
        .unwrap();
    assert_eq!(to_peer(&mut b), vec![(msg::SMSG_FAILURE, vec![])]);
    // A TERM that is not UTF-8 is refused by the bridge (the Connection would call
    // the request malformed).
    let bad = [&s(&[0xff])[..], &u(1), &u(1), &u(0), &u(0)].concat();
    b.from_peer(msg::CMSG_REQUEST_PTY, &bad).unwrap();
    assert!(to_conn(&mut b).is_empty());
    assert_eq!(to_peer(&mut b), vec![(msg::SMSG_FAILURE, vec![])]);
}

#[test]
fn replies_keep_request_order_across_channel_and_global_requests() {
    let mut b = V1Session::new(0);
    confirm_session_after(&mut b, msg::CMSG_AGENT_REQUEST_FORWARDING, &[]);
    b.from_peer(
        msg::CMSG_PORT_FORWARD_REQUEST,
        &[&u(8022)[..], &s(b"target"), &u(22)].concat(),
    )
    .unwrap();
    b.from_peer(msg::CMSG_MAX_PACKET_SIZE, &u(4096)).unwrap();
    b.from_peer(
        msg::CMSG_X11_REQUEST_FORWARDING,
        &[s(b"p"), s(b"c")].concat(),
    )
    .unwrap();
    let out = to_conn(&mut b);
    assert_eq!(out.len(), 2);
    let fwd = crate::global::GlobalRequest::TcpipForward {
        address: "",
        port: 8022,
    };
    assert_eq!(
        out[0],
        Message::GlobalRequest {
            name: "tcpip-forward",
            want_reply: true,
            data: &fwd.encode_data()
        }
        .encode()
    );
    let x11 = ChannelRequest::X11Req {
        single_connection: false,
        auth_protocol: "p",
        auth_cookie: "c",
        screen: 0,
    };
    assert_eq!(out[1], request("x11-req", true, &x11.encode_data()));
    // The Connection answers the global request first, then agent, then X11.
    b.from_connection(&Message::RequestSuccess { data: &[] }.encode())
        .unwrap();
    assert!(to_peer(&mut b).is_empty(), "the agent's reply comes first");
    b.from_connection(&Message::ChannelSuccess { recipient: 0 }.encode())
        .unwrap();
    b.from_connection(&Message::ChannelFailure { recipient: 0 }.encode())
        .unwrap();
    assert_eq!(
        to_peer(&mut b),
        vec![
            (msg::SMSG_SUCCESS, vec![]), // agent
            (msg::SMSG_SUCCESS, vec![]), // port forward
            (msg::SMSG_FAILURE, vec![]), // max packet size (refused by the bridge)
            (msg::SMSG_FAILURE, vec![]), // X11
        ]
    );
    assert!(b.forwards[0].confirmed);
    // A reply to nothing is the Connection's error.
    assert!(matches!(
        b.from_connection(&Message::RequestFailure.encode()),
        Err(V1SessionError::ConnectionUnexpected { .. })
    ));
}

/// Sends the first message, confirms the session, drains the open and requests.
fn confirm_session_after(b: &mut V1Session, m: u8, p: &[u8]) {
    b.from_peer(m, p).unwrap();
    confirm_session(b, 1 << 20);
    assert_eq!(to_conn(b).len(), 2);
}

#[test]
fn preparatory_refusals_and_errors() {
    let mut b = V1Session::new(0);
    for (m, p) in [
        (msg::CMSG_REQUEST_COMPRESSION, u(9)),
        (msg::CMSG_MAX_PACKET_SIZE, u(1024)),
        (msg::CMSG_WINDOW_SIZE, [u(1), u(2), u(3), u(4)].concat()),
        (99, vec![1, 2, 3]),
        // Port 0 on either side.
        (
            msg::CMSG_PORT_FORWARD_REQUEST,
            [&u(0)[..], &s(b"h"), &u(1)].concat(),
        ),
        (
            msg::CMSG_PORT_FORWARD_REQUEST,
            [&u(1)[..], &s(b"h"), &u(0)].concat(),
        ),
    ] {
        b.from_peer(m, &p).unwrap();
        assert_eq!(to_peer(&mut b), vec![(msg::SMSG_FAILURE, vec![])], "{m}");
    }
    assert_eq!(to_conn(&mut b), vec![session_open()]);
    // Ignored everywhere.
    b.from_peer(msg::MSG_IGNORE, &s(b"pad")).unwrap();
    b.from_peer(msg::MSG_DEBUG, &s(b"hi")).unwrap();
    assert!(to_peer(&mut b).is_empty());
    // Data before the exec is a protocol error, and errors are sticky.
    let e = b.from_peer(msg::CMSG_STDIN_DATA, &s(b"x")).unwrap_err();
    assert_eq!(
        e,
        V1SessionError::Unexpected {
            msg: msg::CMSG_STDIN_DATA,
            phase: Phase::Preparatory
        }
    );
    assert_eq!(
        e.to_string(),
        "protocol error: rcvd type 16 before the session started"
    );
    assert_eq!(b.from_peer(msg::CMSG_EXEC_SHELL, &[]), Err(e.clone()));
    assert_eq!(b.from_connection(&[98, 0, 0, 0, 0]), Err(e));
    assert!(b.is_finished() && !b.wants_peer_input());
    // Malformed fields.
    let mut b = V1Session::new(0);
    assert!(matches!(
        b.from_peer(msg::CMSG_EXEC_CMD, &[0, 0, 0, 9, b'x']),
        Err(V1SessionError::Malformed { msg: 13, .. })
    ));
    let mut b = V1Session::new(0);
    assert!(matches!(
        b.from_peer(msg::CMSG_EXEC_SHELL, &[0]),
        Err(V1SessionError::Malformed { msg: 12, .. })
    ));
    let mut b = V1Session::new(0);
    assert!(matches!(
        b.from_peer(msg::CMSG_STDIN_DATA, &vec![0; MAX_PEER_MESSAGE + 1]),
        Err(V1SessionError::TooLong { .. })
    ));
}

#[test]
fn second_exec_and_early_exit_confirmation_are_errors() {
    let mut b = running(0, 1000);
    assert_eq!(
        b.from_peer(msg::CMSG_EXEC_CMD, &s(b"again")),
        Err(V1SessionError::Unexpected {
            msg: msg::CMSG_EXEC_CMD,
            phase: Phase::Interactive
        })
    );
    let mut b = running(0, 1000);
    assert!(b.from_peer(msg::CMSG_EXIT_CONFIRMATION, &[]).is_err());
    let mut b = running(0, 1000);
    assert!(b.from_peer(msg::CMSG_REQUEST_PTY, &[]).is_err());
    // The client going away ends the session.
    let mut b = running(0, 1000);
    b.from_peer(msg::DISCONNECT, &s(b"bye")).unwrap();
    assert!(b.is_finished());
}

#[test]
fn stdin_waits_for_window_then_eof_follows_it() {
    let mut b = V1Session::new(0);
    b.from_peer(msg::CMSG_EXEC_CMD, &s(b"cat")).unwrap();
    // Before the confirmation everything waits, in order.
    b.from_peer(msg::CMSG_STDIN_DATA, &s(&[7; 250])).unwrap();
    b.from_peer(msg::CMSG_EOF, &[]).unwrap();
    assert_eq!(to_conn(&mut b), vec![session_open()]);
    assert_eq!(b.buffered(), 250);
    confirm_session(&mut b, 120);
    let exec = ChannelRequest::Exec { command: b"cat" }.encode_data();
    // The max packet (100) splits, the window (120) limits.
    assert_eq!(
        to_conn(&mut b),
        vec![
            request("exec", true, &exec),
            Message::ChannelData {
                recipient: 5,
                data: &[7; 100]
            }
            .encode(),
            Message::ChannelData {
                recipient: 5,
                data: &[7; 20]
            }
            .encode(),
        ]
    );
    assert_eq!(b.buffered(), 130);
    let adjust = |n| {
        Message::ChannelWindowAdjust {
            recipient: 0,
            bytes_to_add: n,
        }
        .encode()
    };
    b.from_connection(&adjust(1000)).unwrap();
    assert_eq!(
        to_conn(&mut b),
        vec![
            Message::ChannelData {
                recipient: 5,
                data: &[7; 100]
            }
            .encode(),
            Message::ChannelData {
                recipient: 5,
                data: &[7; 30]
            }
            .encode(),
            Message::ChannelEof { recipient: 5 }.encode(),
        ]
    );
    // Window past 2^32-1 from the Connection is its error.
    assert!(matches!(
        b.from_connection(&adjust(u32::MAX)),
        Err(V1SessionError::ConnectionUnexpected { .. })
    ));
}

#[test]
fn stdin_bound_turns_input_off_and_the_hard_bound_is_an_error() {
    let mut b = running(0, 0);
    let big = s(&vec![1; MAX_PEER_MESSAGE - 4]);
    while b.wants_peer_input() {
        b.from_peer(msg::CMSG_STDIN_DATA, &big).unwrap();
    }
    assert!(b.buffered() >= MAX_BUFFERED_PER_CHANNEL);
    assert!(b.buffered() < MAX_BUFFERED_PER_CHANNEL + MAX_PEER_MESSAGE);
    // A caller that reads on anyway hits the hard bound.
    let mut r = Ok(());
    for _ in 0..3 {
        r = b.from_peer(msg::CMSG_STDIN_DATA, &big);
        if r.is_err() {
            break;
        }
    }
    assert_eq!(r, Err(V1SessionError::BufferFull { ch: None }));
}

#[test]
fn output_credit_goes_back_when_the_caller_takes_it() {
    let mut b = running(0, 1000);
    let data = |code: Option<u32>, d: &[u8]| match code {
        None => Message::ChannelData {
            recipient: 0,
            data: d,
        }
        .encode(),
        Some(code) => Message::ChannelExtendedData {
            recipient: 0,
            code,
            data: d,
        }
        .encode(),
    };
    b.from_connection(&data(None, b"out")).unwrap();
    b.from_connection(&data(Some(1), b"err")).unwrap();
    b.from_connection(&data(Some(2), b"odd")).unwrap();
    // The unknown code is dropped and its credit goes back at once.
    let adjust = |n| {
        Message::ChannelWindowAdjust {
            recipient: 5,
            bytes_to_add: n,
        }
        .encode()
    };
    assert_eq!(to_conn(&mut b), vec![adjust(3)]);
    assert_eq!(b.poll_to_peer(), Some((msg::SMSG_STDOUT_DATA, s(b"out"))));
    assert_eq!(to_conn(&mut b), vec![adjust(3)]);
    assert_eq!(b.poll_to_peer(), Some((msg::SMSG_STDERR_DATA, s(b"err"))));
    assert_eq!(to_conn(&mut b), vec![adjust(3)]);
    // Beyond the window we granted: the Connection's error.
    let mut b = running(0, 1000);
    let flood = vec![0; MAX_PACKET as usize];
    let mut r = Ok(());
    for _ in 0..=SESSION_WINDOW / MAX_PACKET {
        r = b.from_connection(&data(None, &flood));
    }
    assert!(matches!(
        r,
        Err(V1SessionError::ConnectionUnexpected { .. })
    ));
}

#[test]
fn requests_from_the_connection_are_refused_without_reaching_the_client() {
    let mut b = running(0, 1000);
    b.from_connection(
        &Message::ChannelRequest {
            recipient: 0,
            kind: KEEPALIVE,
            want_reply: true,
            data: &[],
        }
        .encode(),
    )
    .unwrap();
    b.from_connection(
        &Message::GlobalRequest {
            name: KEEPALIVE,
            want_reply: true,
            data: &[],
        }
        .encode(),
    )
    .unwrap();
    b.from_connection(
        &Message::GlobalRequest {
            name: "hostkeys-00@openssh.com",
            want_reply: false,
            data: &[1, 2],
        }
        .encode(),
    )
    .unwrap();
    assert_eq!(
        to_conn(&mut b),
        vec![
            Message::ChannelFailure { recipient: 5 }.encode(),
            Message::RequestFailure.encode()
        ]
    );
    assert!(to_peer(&mut b).is_empty());
}

fn close_session(b: &mut V1Session, exit: Option<ChannelRequest<'_>>) {
    if let Some(req) = exit {
        b.from_connection(
            &Message::ChannelRequest {
                recipient: 0,
                kind: req.kind(),
                want_reply: false,
                data: &req.encode_data(),
            }
            .encode(),
        )
        .unwrap();
    }
    b.from_connection(&Message::ChannelEof { recipient: 0 }.encode())
        .unwrap();
    b.from_connection(&Message::ChannelClose { recipient: 0 }.encode())
        .unwrap();
    assert_eq!(
        to_conn(b),
        vec![Message::ChannelClose { recipient: 5 }.encode()]
    );
}

#[test]
fn exit_status_signal_or_neither() {
    let mut b = running(0, 1000);
    close_session(&mut b, Some(ChannelRequest::ExitStatus { status: 42 }));
    assert_eq!(to_peer(&mut b), vec![(msg::SMSG_EXITSTATUS, u(42))]);
    assert_eq!(b.phase(), Phase::Exiting);
    b.from_peer(msg::CMSG_WINDOW_SIZE, &[]).unwrap();
    b.from_peer(msg::CMSG_EXIT_CONFIRMATION, &[]).unwrap();
    assert!(b.is_finished());

    let mut b = running(0, 1000);
    let sig = ChannelRequest::ExitSignal {
        signal: "KILL",
        core_dumped: false,
        message: "",
        language: "",
    };
    close_session(&mut b, Some(sig));
    assert!(!b.is_finished(), "the disconnect is still to be sent");
    assert_eq!(
        to_peer(&mut b),
        vec![(msg::DISCONNECT, s(b"Command terminated on signal 9."))]
    );
    assert!(b.is_finished());

    let mut b = running(0, 1000);
    close_session(&mut b, None);
    assert_eq!(
        to_peer(&mut b),
        vec![(
            msg::DISCONNECT,
            s(b"Session closed without an exit status.")
        )]
    );
}

#[test]
fn refused_session_or_failed_shell_disconnects() {
    let mut b = V1Session::new(0);
    b.from_peer(msg::CMSG_EXEC_SHELL, &[]).unwrap();
    b.from_connection(
        &Message::ChannelOpenFailure {
            recipient: 0,
            reason: 4,
            description: "too many channels",
            language: "",
        }
        .encode(),
    )
    .unwrap();
    assert_eq!(
        to_peer(&mut b),
        vec![(msg::DISCONNECT, s(b"session refused: too many channels"))]
    );
    assert!(b.is_finished());

    let mut b = V1Session::new(0);
    b.from_peer(msg::CMSG_EXEC_SHELL, &[]).unwrap();
    confirm_session(&mut b, 10);
    b.from_connection(&Message::ChannelFailure { recipient: 0 }.encode())
        .unwrap();
    assert_eq!(
        to_peer(&mut b),
        vec![(msg::DISCONNECT, s(b"shell execution failed"))]
    );
}

mod channels;
