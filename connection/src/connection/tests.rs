use super::*;
use proptest::prelude::*;

/// One step of a hostile peer or a careless daemon.
#[derive(Debug, Clone)]
enum Step {
    Raw(u8, Vec<u8>),
    Open(u32, u32),
    Data(u32, usize),
    Adjust(u32, u32),
    Eof(u32),
    Close(u32),
    Request(u32, u8, bool),
    Global(bool),
    Accept(u32),
    Reply(u32, bool),
    Consume(u32, u32),
    Send(u32, usize),
    LocalClose(u32),
    LocalOpen,
    PeerConfirm(u32, u32),
    PeerFailure(u32),
    DrainEvents,
    DrainTransmit,
}

fn step() -> impl Strategy<Value = Step> {
    let ch = 0u32..6;
    prop_oneof![
        (80u8..=127, proptest::collection::vec(any::<u8>(), 0..40))
            .prop_map(|(n, b)| Step::Raw(n, b)),
        (any::<u32>(), any::<u32>()).prop_map(|(w, p)| Step::Open(w, p)),
        (ch.clone(), 0usize..3000).prop_map(|(c, n)| Step::Data(c, n)),
        (ch.clone(), any::<u32>()).prop_map(|(c, n)| Step::Adjust(c, n)),
        ch.clone().prop_map(Step::Eof),
        ch.clone().prop_map(Step::Close),
        (ch.clone(), 0u8..8, any::<bool>()).prop_map(|(c, k, w)| Step::Request(c, k, w)),
        any::<bool>().prop_map(Step::Global),
        ch.clone().prop_map(Step::Accept),
        (ch.clone(), any::<bool>()).prop_map(|(c, ok)| Step::Reply(c, ok)),
        (ch.clone(), any::<u32>()).prop_map(|(c, n)| Step::Consume(c, n)),
        (ch.clone(), 0usize..5000).prop_map(|(c, n)| Step::Send(c, n)),
        ch.clone().prop_map(Step::LocalClose),
        Just(Step::LocalOpen),
        (ch.clone(), any::<u32>()).prop_map(|(c, w)| Step::PeerConfirm(c, w)),
        ch.prop_map(Step::PeerFailure),
        Just(Step::DrainEvents),
        Just(Step::DrainTransmit),
    ]
}

fn request(ch: u32, k: u8, want_reply: bool) -> Vec<u8> {
    let modes = vec![(1u8, 2u32); 3];
    let req = match k {
        0 => ChannelRequest::PtyReq {
            term: "vt100",
            cols: 1,
            rows: 2,
            width_px: 3,
            height_px: 4,
            modes,
        },
        1 => ChannelRequest::Env {
            name: "A",
            value: b"\xff",
        },
        2 => ChannelRequest::Shell,
        3 => ChannelRequest::Exec { command: b"ls" },
        4 => ChannelRequest::WindowChange {
            cols: 1,
            rows: 1,
            width_px: 1,
            height_px: 1,
        },
        5 => ChannelRequest::Signal { name: "HUP" },
        6 => ChannelRequest::Subsystem { name: "sftp" },
        _ => ChannelRequest::Other {
            kind: "x11-req",
            data: b"junk",
        },
    };
    let data = req.encode_data();
    Message::ChannelRequest {
        recipient: ch,
        kind: req.kind(),
        want_reply,
        data: &data,
    }
    .encode()
}

fn check_bounds(c: &Connection) {
    let l = &c.limits;
    assert!(c.channels.len() <= l.max_channels);
    // One Closed per channel may come on top, from `close` calls.
    assert!(c.events.len() <= l.max_pending_events + l.max_channels);
    let mut held = 0usize;
    for q in &c.events {
        if let Some(Event::Data { data, .. } | Event::ExtendedData { data, .. }) = &q.event {
            held += data.len();
        }
    }
    assert!(held <= l.max_channels * l.window as usize);
    for ch in c.channels.iter().flatten() {
        let granted = ch.recv_window as u64 + ch.unconsumed as u64 + ch.credit as u64;
        if ch.confirmed {
            assert!(granted <= l.window as u64, "window grew past its maximum");
        }
        assert!(ch.replies.len() + ch.replies_queued <= MAX_PENDING_REPLIES);
    }
    assert!(c.global_replies_owed + c.global_replies_queued <= MAX_PENDING_GLOBAL_REPLIES);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn hostile_sequences_never_panic_and_stay_bounded(
        steps in proptest::collection::vec(step(), 1..120)
    ) {
        let limits = Limits {
            max_channels: 4,
            window: 5000,
            max_packet: 1000,
            max_pending_events: 16,
            max_send_packet: 700,
            max_pending_transmit: 4000,
        };
        let mut c = Connection::new(limits);
        let zeros = vec![0u8; 3000];
        let mut data_queued_since_drain = 0usize;
        for s in steps {
            let r = match s {
                Step::Raw(n, mut b) => {
                    b.insert(0, n);
                    c.handle_message(&b)
                }
                Step::Open(w, p) => c.handle_message(
                    &Message::ChannelOpen {
                        kind: "session",
                        sender: 1,
                        initial_window: w,
                        max_packet: p,
                        data: &[],
                    }
                    .encode(),
                ),
                Step::Data(ch, n) => c.handle_message(
                    &Message::ChannelData { recipient: ch, data: &zeros[..n] }.encode(),
                ),
                Step::Adjust(ch, n) => c.handle_message(
                    &Message::ChannelWindowAdjust { recipient: ch, bytes_to_add: n }.encode(),
                ),
                Step::Eof(ch) => c.handle_message(&Message::ChannelEof { recipient: ch }.encode()),
                Step::Close(ch) => {
                    c.handle_message(&Message::ChannelClose { recipient: ch }.encode())
                }
                Step::Request(ch, k, w) => c.handle_message(&request(ch, k, w)),
                Step::Global(w) => c.handle_message(
                    &Message::GlobalRequest { name: "keepalive@openssh.com", want_reply: w, data: &[] }
                        .encode(),
                ),
                Step::Accept(ch) => {
                    c.accept_open(ch);
                    Ok(())
                }
                Step::Reply(ch, ok) => {
                    c.reply_request(ch, ok);
                    c.reply_global(ok, &[]);
                    Ok(())
                }
                Step::Consume(ch, n) => {
                    c.consumed(ch, n);
                    Ok(())
                }
                Step::Send(ch, n) => {
                    let before = c.send_window(ch);
                    let sent = c.send_data(ch, &zeros[..n.min(zeros.len())]);
                    prop_assert!(sent <= before as usize);
                    data_queued_since_drain += sent;
                    Ok(())
                }
                Step::LocalClose(ch) => {
                    c.close(ch);
                    Ok(())
                }
                Step::LocalOpen => {
                    let kind = ChannelKind::ForwardedTcpip {
                        connected_address: "127.0.0.1".into(), connected_port: 1,
                        originator: "127.0.0.1".into(), originator_port: 2,
                    };
                    if let Some(ch) = c.open_channel(&kind) {
                        prop_assert!(!c.is_open(ch));
                        prop_assert_eq!(c.send_window(ch), 0);
                    }
                    Ok(())
                }
                Step::PeerConfirm(ch, w) => c.handle_message(
                    &Message::ChannelOpenConfirmation {
                        recipient: ch, sender: 9, initial_window: w, max_packet: 500, data: &[],
                    }
                    .encode(),
                ),
                Step::PeerFailure(ch) => c.handle_message(
                    &Message::ChannelOpenFailure {
                        recipient: ch, reason: 2, description: "no", language: "",
                    }
                    .encode(),
                ),
                Step::DrainEvents => {
                    while c.poll_event().is_some() {}
                    Ok(())
                }
                Step::DrainTransmit => {
                    while let Some(p) = c.poll_transmit() {
                        prop_assert!(Message::parse(&p).is_ok());
                    }
                    data_queued_since_drain = 0;
                    Ok(())
                }
            };
            if let Err(e) = r {
                // Every error is a typed one with a disconnect reason, and sticky.
                prop_assert!(e.reason() == 2 || e.reason() == 11);
                prop_assert!(!e.to_string().is_empty());
                if e.is_fatal() {
                    prop_assert_eq!(c.handle_message(&[96, 0, 0, 0, 0]), Err(e));
                    prop_assert_eq!(c.send_data(0, b"x"), 0);
                    // Carry on with a fresh machine to reach deeper states.
                    c = Connection::new(limits);
                    data_queued_since_drain = 0;
                }
            }
            prop_assert!(data_queued_since_drain <= limits.max_pending_transmit);
            check_bounds(&c);
        }
    }
}

fn drain(c: &mut Connection) -> Vec<Message<'static>> {
    std::iter::from_fn(|| c.poll_transmit())
        .map(|p| {
            let p: &'static [u8] = Box::leak(p.into_boxed_slice());
            Message::parse(p).unwrap()
        })
        .collect()
}

#[test]
fn server_opened_channels_confirm_fail_and_abandon() {
    let limits = Limits {
        window: 1000,
        max_packet: 100,
        ..Limits::default()
    };
    let mut c = Connection::new(limits);
    let kind = ChannelKind::AuthAgent;
    let a = c.open_channel(&kind).unwrap();
    assert_eq!(
        drain(&mut c),
        vec![Message::ChannelOpen {
            kind: "auth-agent@openssh.com",
            sender: a,
            initial_window: 1000,
            max_packet: 100,
            data: &[],
        }]
    );
    // Nothing may be sent before the answer; data for it is a protocol error.
    assert_eq!(c.send_data(a, b"x"), 0);
    let confirm = |recipient, sender| {
        Message::ChannelOpenConfirmation {
            recipient,
            sender,
            initial_window: 10,
            max_packet: 4,
            data: &[],
        }
        .encode()
    };
    c.handle_message(&confirm(a, 77)).unwrap();
    assert_eq!(c.poll_event(), Some(Event::OpenConfirmed { ch: a }));
    // Now it is an ordinary channel: the peer's window and packet size apply.
    assert_eq!(c.send_data(a, b"0123456789abc"), 10);
    assert_eq!(drain(&mut c).len(), 3);
    c.handle_message(
        &Message::ChannelData {
            recipient: a,
            data: b"hi",
        }
        .encode(),
    )
    .unwrap();
    assert_eq!(
        c.poll_event(),
        Some(Event::Data {
            ch: a,
            data: b"hi".to_vec()
        })
    );
    // A second confirmation is not expected.
    assert_eq!(
        c.handle_message(&confirm(a, 78)),
        Err(ConnectionError::Unexpected { msg: 91 })
    );

    // A refusal frees the id and says why.
    let mut c = Connection::new(limits);
    let b = c.open_channel(&kind).unwrap();
    let fail = Message::ChannelOpenFailure {
        recipient: b,
        reason: 1,
        description: "denied",
        language: "",
    };
    c.handle_message(&fail.encode()).unwrap();
    assert_eq!(
        c.poll_event(),
        Some(Event::OpenFailed {
            ch: b,
            reason: 1,
            description: "denied".into()
        })
    );
    assert_eq!(c.channels().count(), 0);

    // Abandoned before the answer: the confirmation is answered with CLOSE, no event,
    // and the peer's CLOSE frees the id.
    let d = c.open_channel(&kind).unwrap();
    drain(&mut c);
    c.close(d);
    assert!(drain(&mut c).is_empty());
    c.handle_message(&confirm(d, 5)).unwrap();
    assert_eq!(drain(&mut c), vec![Message::ChannelClose { recipient: 5 }]);
    assert_eq!(c.poll_event(), None);
    c.handle_message(&Message::ChannelClose { recipient: d }.encode())
        .unwrap();
    assert_eq!(c.poll_event(), Some(Event::Closed { ch: d }));
    // A peer-opened channel cannot be "accepted" through an id of ours.
    let e = c.open_channel(&kind).unwrap();
    c.accept_open(e);
    c.reject_open(e, 1, "x");
    assert_eq!(drain(&mut c).len(), 1, "only the CHANNEL_OPEN");
}

#[test]
fn session_after_no_more_sessions_is_fatal() {
    let mut c = Connection::new(Limits::default());
    let nms = Message::GlobalRequest {
        name: crate::global::NO_MORE_SESSIONS,
        want_reply: false,
        data: &[],
    };
    c.handle_message(&nms.encode()).unwrap();
    let open = |kind| {
        Message::ChannelOpen {
            kind,
            sender: 0,
            initial_window: 0,
            max_packet: 0,
            data: &[],
        }
        .encode()
    };
    let tcp = ChannelKind::DirectTcpip {
        host: "h".into(),
        port: 1,
        originator: "o".into(),
        originator_port: 2,
    };
    let forward = Message::ChannelOpen {
        kind: "direct-tcpip",
        sender: 0,
        initial_window: 0,
        max_packet: 0,
        data: &tcp.encode_data(),
    };
    c.handle_message(&forward.encode()).unwrap();
    assert_eq!(
        c.handle_message(&open("session")),
        Err(ConnectionError::SessionAfterNoMoreSessions)
    );
}

#[test]
fn event_queue_bound_is_enforced() {
    let limits = Limits {
        max_pending_events: 3,
        ..Limits::default()
    };
    let mut c = Connection::new(limits);
    let g = Message::GlobalRequest {
        name: "x",
        want_reply: false,
        data: &[],
    }
    .encode();
    for _ in 0..3 {
        c.handle_message(&g).unwrap();
    }
    let e = c.handle_message(&g).unwrap_err();
    assert_eq!(e, ConnectionError::EventQueueFull);
    assert_eq!(e.reason(), 11);
}

#[test]
fn consecutive_data_events_merge() {
    let mut c = Connection::new(Limits::default());
    let open = Message::ChannelOpen {
        kind: "session",
        sender: 0,
        initial_window: 0,
        max_packet: 0,
        data: &[],
    };
    c.handle_message(&open.encode()).unwrap();
    c.accept_open(0);
    while c.poll_event().is_some() {}
    for part in [&b"ab"[..], b"cd", b"ef"] {
        let m = Message::ChannelData {
            recipient: 0,
            data: part,
        };
        c.handle_message(&m.encode()).unwrap();
    }
    assert_eq!(c.events.len(), 1);
    assert_eq!(
        c.poll_event(),
        Some(Event::Data {
            ch: 0,
            data: b"abcdef".to_vec()
        })
    );
    // A peer max packet of 0 lets nothing through, without looping.
    assert_eq!(c.send_data(0, b"x"), 0);
}
