//! Forwarded channels through the bridge: client opens, remote forwards, X11, agent.

use super::*;

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
