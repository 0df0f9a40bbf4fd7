//! The connection machine fed arbitrary messages (split on 0xff bytes), accepting every
//! channel and answering every request.
#![no_main]
use libfuzzer_sys::fuzz_target;
use sisu_connection::{Connection, Event};

fuzz_target!(|data: &[u8]| {
    let mut c = Connection::new(Default::default());
    for m in data.split(|&b| b == 0xff) {
        if c.handle_message(m).is_err() {
            break;
        }
        while let Some(e) = c.poll_event() {
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
        while c.poll_transmit().is_some() {}
    }
});
