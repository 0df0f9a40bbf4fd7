//! Protocol 1's authentication machine fed arbitrary messages (the first byte of each
//! piece, split on 0xff, is the type), answering each question from the input's own
//! bits, so that every path (challenges, passwords, refusals) is reached.
#![no_main]
use libfuzzer_sys::fuzz_target;
use sisu_userauth::v1::{V1AuthConfig, V1AuthEvent, V1AuthServer};

fuzz_target!(|data: &[u8]| {
    let mut a = V1AuthServer::new(V1AuthConfig {
        rhosts_rsa: true,
        max_tries: 4,
        ..V1AuthConfig::default()
    });
    for (i, m) in data.split(|&b| b == 0xff).enumerate() {
        let Some((&t, payload)) = m.split_first() else {
            continue;
        };
        if a.handle_message(t, payload).is_err() {
            break;
        }
        let yes = i % 3 == 0;
        while let Some(e) = a.poll_event() {
            match e {
                V1AuthEvent::User { .. } => a.answer_user(yes),
                V1AuthEvent::RsaKeyOffered { .. } => a.answer_rsa_key(yes.then(|| vec![1, 2, 3])),
                V1AuthEvent::RsaResponse { .. } => a.answer_rsa_response(yes),
                V1AuthEvent::Password { .. } => a.answer_password(yes),
                V1AuthEvent::RhostsRsa { .. } => a.answer_rhosts_rsa(None),
                _ => {}
            }
        }
        while a.poll_transmit().is_some() {}
    }
});
