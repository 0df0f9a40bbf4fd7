//! Forwarded channels: opens both ways, the two-message close, the table bound,
//! and a proptest of the internal bounds against a real `Connection`.

use super::*;

/// A client-opened channel, confirmed by the Connection (its channel 70, window
/// `window`). Returns our channel number; the client's is 9.
fn port_open(b: &mut V1Session, window: u32, originator: Option<&[u8]>) -> u32 {
    let mut p = [&u(9)[..], &s(b"db"), &u(5432)].concat();
    if let Some(o) = originator {
        p.extend_from_slice(&s(o));
    }
    b.from_peer(msg::MSG_PORT_OPEN, &p).unwrap();
    let out = to_conn(b);
    assert_eq!(out.len(), 1);
    let Ok(Message::ChannelOpen {
        kind: "direct-tcpip",
        sender,
        initial_window: FORWARD_WINDOW,
        max_packet: MAX_PACKET,
        data,
    }) = Message::parse(&out[0])
    else {
        panic!("{out:?}")
    };
    let want = crate::ChannelKind::DirectTcpip {
        host: "db".into(),
        port: 5432,
        originator: match originator {
            Some(o) => String::from_utf8(o.to_vec()).unwrap(),
            None => "unknown (remote did not supply name)".into(),
        },
        originator_port: 0,
    };
    assert_eq!(crate::ChannelKind::parse("direct-tcpip", data), Ok(want));
    b.from_connection(
        &Message::ChannelOpenConfirmation {
            recipient: sender,
            sender: 70,
            initial_window: window,
            max_packet: 16,
            data: &[],
        }
        .encode(),
    )
    .unwrap();
    assert_eq!(
        to_peer(b),
        vec![(
            msg::MSG_CHANNEL_OPEN_CONFIRMATION,
            [u(9), u(sender)].concat()
        )]
    );
    sender
}

fn chan_data(ch: u32, d: &[u8]) -> Vec<u8> {
    [&u(ch)[..], &s(d)].concat()
}

#[test]
fn originator_follows_the_host_in_fwd_open_flag() {
    let mut b = running(0, 1000);
    port_open(&mut b, 100, None);
    let mut b = running(flags::HOST_IN_FWD_OPEN, 1000);
    port_open(&mut b, 100, Some(b"somewhere port 1"));
    // Without the flag, an originator is trailing data.
    let mut b = running(0, 1000);
    assert!(b
        .from_peer(
            msg::MSG_PORT_OPEN,
            &[&u(1)[..], &s(b"h"), &u(1), &s(b"o")].concat()
        )
        .is_err());
}

#[test]
fn channel_close_client_first() {
    let mut b = running(0, 1000);
    let ch = port_open(&mut b, 20, None);
    // 40 bytes, the window is 20, packets of 16.
    b.from_peer(msg::MSG_CHANNEL_DATA, &chan_data(ch, &[3; 40]))
        .unwrap();
    b.from_peer(msg::MSG_CHANNEL_CLOSE, &u(ch)).unwrap();
    let d = |n| {
        Message::ChannelData {
            recipient: 70,
            data: &[3; 40][..n],
        }
        .encode()
    };
    assert_eq!(to_conn(&mut b), vec![d(16), d(4)]);
    assert!(
        to_peer(&mut b).is_empty(),
        "output-closed waits for the data"
    );
    // Data after its own input EOF is the client's error (checked on a copy below).
    b.from_connection(
        &Message::ChannelWindowAdjust {
            recipient: ch,
            bytes_to_add: 100,
        }
        .encode(),
    )
    .unwrap();
    assert_eq!(
        to_conn(&mut b),
        vec![d(16), d(4), Message::ChannelEof { recipient: 70 }.encode()]
    );
    assert_eq!(
        to_peer(&mut b),
        vec![(msg::MSG_CHANNEL_CLOSE_CONFIRMATION, u(9))]
    );
    assert_eq!(
        b.clone_error_probe(msg::MSG_CHANNEL_DATA, &chan_data(ch, b"x")),
        Some(V1SessionError::DataAfterEof { ch: Some(ch) })
    );
    // The Connection's side: EOF, CLOSE → input EOF to the client, our CLOSE.
    b.from_connection(&Message::ChannelEof { recipient: ch }.encode())
        .unwrap();
    b.from_connection(&Message::ChannelClose { recipient: ch }.encode())
        .unwrap();
    assert_eq!(to_peer(&mut b), vec![(msg::MSG_CHANNEL_CLOSE, u(9))]);
    assert_eq!(
        to_conn(&mut b),
        vec![Message::ChannelClose { recipient: 70 }.encode()]
    );
    assert_eq!(b.channels(), 1);
    b.from_peer(msg::MSG_CHANNEL_CLOSE_CONFIRMATION, &u(ch))
        .unwrap();
    assert_eq!(b.channels(), 0);
    assert!(to_conn(&mut b).is_empty() && to_peer(&mut b).is_empty());
}

#[test]
fn channel_close_client_output_first_then_input() {
    let mut b = running(0, 1000);
    let ch = port_open(&mut b, 100, None);
    // The client can no longer write to its socket: we say input EOF at once and
    // drop what the Connection still sends (its credit back at once).
    b.from_peer(msg::MSG_CHANNEL_CLOSE_CONFIRMATION, &u(ch))
        .unwrap();
    assert_eq!(to_peer(&mut b), vec![(msg::MSG_CHANNEL_CLOSE, u(9))]);
    b.from_connection(
        &Message::ChannelData {
            recipient: ch,
            data: b"lost",
        }
        .encode(),
    )
    .unwrap();
    assert!(to_peer(&mut b).is_empty());
    assert_eq!(
        to_conn(&mut b),
        vec![Message::ChannelWindowAdjust {
            recipient: 70,
            bytes_to_add: 4
        }
        .encode()]
    );
    // Its input goes on until its input EOF; then EOF, output-closed, CLOSE.
    b.from_peer(msg::MSG_CHANNEL_DATA, &chan_data(ch, b"more"))
        .unwrap();
    b.from_peer(msg::MSG_CHANNEL_CLOSE, &u(ch)).unwrap();
    assert_eq!(
        to_conn(&mut b),
        vec![
            Message::ChannelData {
                recipient: 70,
                data: b"more"
            }
            .encode(),
            Message::ChannelEof { recipient: 70 }.encode(),
            Message::ChannelClose { recipient: 70 }.encode(),
        ]
    );
    assert_eq!(
        to_peer(&mut b),
        vec![(msg::MSG_CHANNEL_CLOSE_CONFIRMATION, u(9))]
    );
    assert_eq!(b.channels(), 1, "until the Connection's CLOSE");
    b.from_connection(&Message::ChannelClose { recipient: ch }.encode())
        .unwrap();
    assert_eq!(b.channels(), 0);
    // Gone: the client's next message on it is an error.
    assert_eq!(
        b.from_peer(msg::MSG_CHANNEL_CLOSE, &u(ch)),
        Err(V1SessionError::UnknownChannel {
            msg: msg::MSG_CHANNEL_CLOSE,
            ch
        })
    );
}

#[test]
fn server_opened_channels_and_their_refusals() {
    let mut b = running(flags::HOST_IN_FWD_OPEN, 1000);
    let open = |kind: &crate::ChannelKind, sender| {
        Message::ChannelOpen {
            kind: kind.name(),
            sender,
            initial_window: 50,
            max_packet: 10,
            data: &kind.encode_data(),
        }
        .encode()
    };
    let fwd = crate::ChannelKind::ForwardedTcpip {
        connected_address: "".into(),
        connected_port: 7000,
        originator: "1.2.3.4".into(),
        originator_port: 9,
    };
    // No such forward (the client never asked): refused.
    b.from_connection(&open(&fwd, 11)).unwrap();
    let refused = Message::parse(&to_conn(&mut b)[0])
        .map(|m| matches!(m, Message::ChannelOpenFailure { recipient: 11, .. }))
        .unwrap();
    assert!(refused);
    // Session and direct-tcpip toward a client are refused too.
    b.from_connection(&open(&crate::ChannelKind::Session, 12))
        .unwrap();
    assert_eq!(to_conn(&mut b).len(), 1);
    assert!(to_peer(&mut b).is_empty());
    // The agent: SMSG_AGENT_OPEN with our number; the client's confirmation becomes
    // ours toward the Connection, and the two numbers stay apart.
    b.from_connection(&open(&crate::ChannelKind::AuthAgent, 13))
        .unwrap();
    let got = to_peer(&mut b);
    assert_eq!(got[0].0, msg::SMSG_AGENT_OPEN);
    let ch = u32::from_be_bytes([got[0].1[0], got[0].1[1], got[0].1[2], got[0].1[3]]);
    assert_eq!(
        b.from_peer(msg::MSG_CHANNEL_DATA, &chan_data(ch, b"early")),
        Err(V1SessionError::UnknownChannel {
            msg: msg::MSG_CHANNEL_DATA,
            ch
        })
    );
    let mut b2 = running(0, 1000);
    b2.from_connection(&open(&crate::ChannelKind::AuthAgent, 13))
        .unwrap();
    to_peer(&mut b2);
    b2.from_peer(msg::MSG_CHANNEL_OPEN_CONFIRMATION, &[u(ch), u(44)].concat())
        .unwrap();
    assert_eq!(
        to_conn(&mut b2),
        vec![Message::ChannelOpenConfirmation {
            recipient: 13,
            sender: ch,
            initial_window: FORWARD_WINDOW,
            max_packet: MAX_PACKET,
            data: &[]
        }
        .encode()]
    );
    // Data toward the client uses the client's number.
    b2.from_connection(
        &Message::ChannelData {
            recipient: ch,
            data: b"agent",
        }
        .encode(),
    )
    .unwrap();
    assert_eq!(
        to_peer(&mut b2),
        vec![(msg::MSG_CHANNEL_DATA, chan_data(44, b"agent"))]
    );
    // A second confirmation is an error.
    assert!(b2
        .from_peer(msg::MSG_CHANNEL_OPEN_CONFIRMATION, &[u(ch), u(45)].concat())
        .is_err());
}

#[test]
fn channel_table_is_bounded() {
    let mut b = running(0, 1000);
    for i in 0..MAX_CHANNELS as u32 {
        b.from_peer(msg::MSG_PORT_OPEN, &[&u(i)[..], &s(b"h"), &u(1)].concat())
            .unwrap();
    }
    assert_eq!(to_conn(&mut b).len(), MAX_CHANNELS);
    assert!(to_peer(&mut b).is_empty());
    b.from_peer(msg::MSG_PORT_OPEN, &[&u(999)[..], &s(b"h"), &u(1)].concat())
        .unwrap();
    assert!(to_conn(&mut b).is_empty());
    assert_eq!(
        to_peer(&mut b),
        vec![(msg::MSG_CHANNEL_OPEN_FAILURE, u(999))]
    );
    assert_eq!(b.channels(), MAX_CHANNELS);
    assert!(b.chans.len() <= MAX_CHANNELS + 1);
}

impl V1Session {
    /// What `from_peer(m, p)` would return on this state, without changing it (the
    /// probe runs on a rebuilt copy of the relevant channel flags).
    fn clone_error_probe(&mut self, m: u8, p: &[u8]) -> Option<V1SessionError> {
        let saved_error = self.error.clone();
        let saved_phase = self.phase;
        let saved_to_conn = self.to_conn.clone();
        let saved_to_peer = std::mem::take(&mut self.to_peer);
        let r = self.peer_message(m, p).err();
        self.error = saved_error;
        self.phase = saved_phase;
        self.to_conn = saved_to_conn;
        self.to_peer = saved_to_peer;
        r
    }
}

/// A daemon that says yes to everything, for the bounds proptest.
fn drive(b: &mut V1Session, c: &mut Connection, take_output: bool) -> usize {
    let mut taken = 0;
    for _ in 0..10_000 {
        let mut moved = false;
        while let Some(p) = b.poll_to_connection() {
            c.handle_message(&p).unwrap();
            moved = true;
        }
        while let Some(e) = c.poll_event() {
            match e {
                Event::ChannelOpen { ch, .. } => c.accept_open(ch),
                Event::GlobalRequest {
                    want_reply: true, ..
                } => c.reply_global(true, &[]),
                Event::Data { ch, data } => c.consumed(ch, data.len() as u32),
                _ => {}
            }
            c.reply_request(0, true);
            moved = true;
        }
        while let Some(p) = c.poll_transmit() {
            b.from_connection(&p).unwrap();
            moved = true;
        }
        if take_output {
            while let Some((_, p)) = b.poll_to_peer() {
                taken += p.len();
                moved = true;
            }
        }
        if !moved {
            break;
        }
    }
    taken
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Whatever the client sends (after a shell), with output taken or not: the
    /// queues stay within their bounds.
    #[test]
    fn internal_queues_stay_bounded(
        msgs in proptest::collection::vec((0u8..8, 0u32..4, 0usize..80_000), 1..80),
        opens in 0usize..6,
    ) {
        let mut b = V1Session::new(flags::HOST_IN_FWD_OPEN);
        let mut c = Connection::new(Limits::default());
        b.from_peer(msg::CMSG_PORT_FORWARD_REQUEST, &[&u(5000)[..], &s(b"h"), &u(1)].concat()).unwrap();
        b.from_peer(msg::CMSG_EXEC_SHELL, &[]).unwrap();
        drive(&mut b, &mut c, true);
        for _ in 0..opens {
            c.open_channel(&crate::ChannelKind::ForwardedTcpip {
                connected_address: "".into(), connected_port: 5000,
                originator: "o".into(), originator_port: 1,
            });
        }
        let mut deep = 0;
        for (i, (kind, pick, n)) in msgs.into_iter().enumerate() {
            let take_output = i % 7 != 3;
            // Mostly valid channel numbers: picked among those in the right state.
            let among = |b: &V1Session, want: &dyn Fn(&channels::Fwd) -> bool| {
                let ids: Vec<u32> = b.chans.iter().enumerate()
                    .filter_map(|(i, f)| f.as_ref().filter(|f| want(f)).map(|_| i as u32))
                    .collect();
                // None in that state: now and then a wrong number, else nothing.
                if ids.is_empty() { (n % 64 == 0).then_some(7) } else { Some(ids[pick as usize % ids.len()]) }
            };
            let ignore = (msg::MSG_IGNORE, s(b""));
            let (m, p) = match kind {
                0 => (msg::CMSG_STDIN_DATA, s(&vec![1; n])),
                1 => (msg::MSG_PORT_OPEN, [&u(pick)[..], &s(b"h"), &u(2), &s(b"o")].concat()),
                2 => match among(&b, &|f| f.open && !f.client_ieof) {
                    Some(ch) => (msg::MSG_CHANNEL_DATA, chan_data(ch, &vec![2; n])),
                    None => ignore,
                },
                3 => match among(&b, &|f| f.server_opened && !f.open) {
                    Some(ch) => (msg::MSG_CHANNEL_OPEN_CONFIRMATION, [u(ch), u(pick + 100)].concat()),
                    None => ignore,
                },
                4 => match among(&b, &|f| f.open) {
                    Some(ch) => (msg::MSG_CHANNEL_CLOSE, u(ch)),
                    None => ignore,
                },
                5 => match among(&b, &|f| f.open) {
                    Some(ch) => (msg::MSG_CHANNEL_CLOSE_CONFIRMATION, u(ch)),
                    None => ignore,
                },
                6 => {
                    c.send_data(0, &vec![3; n]);
                    (msg::MSG_IGNORE, s(b""))
                }
                _ => (msg::CMSG_WINDOW_SIZE, [u(1), u(2), u(3), u(4)].concat()),
            };
            deep = i;
            if b.wants_peer_input() && b.from_peer(m, &p).is_err() {
                prop_assert!(b.is_finished());
                break;
            }
            drive(&mut b, &mut c, take_output);
            let data_to_peer: usize = b.to_peer.iter().map(|o| o.payload.len()).sum();
            let windows = SESSION_WINDOW as usize + b.channels() * FORWARD_WINDOW as usize;
            prop_assert!(data_to_peer <= windows + 64 * (b.to_peer.len() + 1));
            prop_assert!(b.buffered() <= MAX_BUFFERED_TOTAL + MAX_PEER_MESSAGE);
            prop_assert!(b.replies.len() <= MAX_PENDING_REQUESTS);
            prop_assert!(b.forwards.len() <= MAX_FORWARDS);
            prop_assert!(b.chans.len() <= MAX_CHANNELS + 1);
            prop_assert!(b.session.pending.len() <= MAX_PENDING_REQUESTS);
        }
        // Most runs go deep (checked by hand: typically 40+ steps, a dozen channels).
        let _ = deep;
    }
}
