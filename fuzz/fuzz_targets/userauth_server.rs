//! The userauth server machine fed arbitrary messages (split on 0xff bytes), answering
//! every question with the fuzzer's next bits. Publickey, password and
//! keyboard-interactive are enabled; a keyboard-interactive question is answered with
//! prompts or a verdict.
#![no_main]
use libfuzzer_sys::fuzz_target;
use sisu_userauth::kbdint::{InfoRequest, Prompt};
use sisu_userauth::{Event, Method, Server, ServerConfig};

fuzz_target!(|data: &[u8]| {
    let config = ServerConfig {
        methods: vec![
            Method::PublicKey,
            Method::Password,
            Method::KeyboardInteractive,
        ],
        ..ServerConfig::default()
    };
    let mut s = Server::new(config, &[7u8; 32]);
    for (i, m) in data.split(|&b| b == 0xff).enumerate() {
        if s.handle_message(m).is_err() {
            break;
        }
        while let Some(ev) = s.poll_event() {
            if !s.is_pending() {
                continue;
            }
            let kbd = matches!(
                ev,
                Event::KbdInteractive { .. } | Event::InfoResponse { .. }
            );
            let r = if kbd && i % 3 == 1 {
                let prompts = (0..(m.len() % 4))
                    .map(|_| Prompt {
                        text: "Password: ".into(),
                        echo: false,
                    })
                    .collect();
                s.info_request(&InfoRequest {
                    prompts,
                    ..Default::default()
                })
            } else {
                s.answer(i % 2 == 0)
            };
            if r.is_err() {
                return;
            }
        }
        while s.poll_transmit().is_some() {}
    }
});
