//! Random SSH-1 clients against the bridge and a real Connection.

use super::*;

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
