//! The userauth server machine fed arbitrary messages (split on 0xff bytes), answering
//! every question with the fuzzer's next bit. Publickey and password are enabled.
#![no_main]
use libfuzzer_sys::fuzz_target;
use sisu_userauth::{Method, Server, ServerConfig};

fuzz_target!(|data: &[u8]| {
    let config = ServerConfig {
        methods: vec![Method::PublicKey, Method::Password],
        ..ServerConfig::default()
    };
    let mut s = Server::new(config, &[7u8; 32]);
    for (i, m) in data.split(|&b| b == 0xff).enumerate() {
        if s.handle_message(m).is_err() {
            break;
        }
        while s.poll_event().is_some() {
            if s.is_pending() && s.answer(i % 2 == 0).is_err() {
                return;
            }
        }
        while s.poll_transmit().is_some() {}
    }
});
