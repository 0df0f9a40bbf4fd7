//! Protocol 1's session bridge between arbitrary client messages (split on 0xff; the
//! first byte is the type) and a real server-role `Connection` that accepts every
//! channel and request and answers with output, so that both directions run.
#![no_main]
use libfuzzer_sys::fuzz_target;
use sisu_connection::v1::V1Session;
use sisu_connection::{Connection, Event};

fuzz_target!(|data: &[u8]| {
    let mut s = V1Session::new(3);
    let mut c = Connection::new(Default::default());
    for m in data.split(|&b| b == 0xff) {
        let Some((&t, payload)) = m.split_first() else {
            continue;
        };
        if s.from_peer(t, payload).is_err() {
            break;
        }
        for _ in 0..64 {
            let mut moved = false;
            while let Some(p) = s.poll_to_connection() {
                moved = true;
                if c.handle_message(&p).is_err() {
                    return;
                }
            }
            while let Some(e) = c.poll_event() {
                moved = true;
                match e {
                    Event::ChannelOpen { ch, .. } => c.accept_open(ch),
                    Event::Data { ch, data } => c.consumed(ch, data.len() as u32),
                    Event::PeerClosed { ch } => c.close(ch),
                    Event::Shell { ch, .. } | Event::Exec { ch, .. } => {
                        c.reply_request(ch, true);
                        let _ = c.send_data(ch, b"output");
                    }
                    _ => {}
                }
            }
            while let Some(p) = c.poll_transmit() {
                moved = true;
                if s.from_connection(&p).is_err() {
                    return;
                }
            }
            while s.poll_to_peer().is_some() {
                moved = true;
            }
            if !moved {
                break;
            }
        }
    }
});
