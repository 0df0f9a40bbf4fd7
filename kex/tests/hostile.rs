//! A hostile peer against the transport, in memory: packets injected into the first
//! key exchange's window (both roles, strict and not), upper-layer messages before the
//! service is accepted, key-exchange floods before authentication, and guessed
//! key-exchange packets (RFC 4253 §7.1, Dropbear's kexguess2).

use proptest::prelude::*;
use rand_core::OsRng;
use sisu_kex::{
    Event, HostKey, HostKeyAlg, KexAlg, Stage, StrictKexViolation, Transport, TransportConfig,
    TransportError, MAX_PREAUTH_KEX,
};
use sisu_wire::msg::{self, reason};
use ssh_key::{Algorithm, PrivateKey};
use std::sync::OnceLock;

fn keys() -> &'static Vec<PrivateKey> {
    static K: OnceLock<Vec<PrivateKey>> = OnceLock::new();
    K.get_or_init(|| {
        vec![
            PrivateKey::random(&mut OsRng, Algorithm::Ed25519).unwrap(),
            PrivateKey::random(&mut OsRng, Algorithm::Rsa { hash: None }).unwrap(),
        ]
    })
}

fn cfg() -> TransportConfig {
    TransportConfig {
        kex: vec![KexAlg::Curve25519Sha256],
        host_key_algs: vec![HostKeyAlg::Ed25519],
        ..TransportConfig::default()
    }
}

fn server(c: TransportConfig) -> Transport {
    let hk = keys()
        .iter()
        .map(|k| HostKey::new(k.clone()).unwrap())
        .collect();
    Transport::server(c, hk, Box::new(OsRng))
}

fn client(c: TransportConfig) -> Transport {
    Transport::client(c, Box::new(OsRng))
}

/// A plaintext packet holding `payload` (what an attacker can inject before keys).
fn plain_packet(payload: &[u8]) -> Vec<u8> {
    let mut enc = sisu_wire::packet::PacketEncoder::new();
    let mut out = Vec::new();
    enc.encode(payload, &mut |p| p.fill(0), &mut out).unwrap();
    out
}

/// Splits unprotected output (after the identification line, if `ident`) into whole
/// packets, up to and including the first NEWKEYS; returns them and the rest.
fn split_plain(bytes: &[u8], ident: bool) -> (Vec<Vec<u8>>, Vec<u8>) {
    let mut at = if ident {
        bytes.iter().position(|&b| b == b'\n').unwrap() + 1
    } else {
        0
    };
    let mut packets = vec![bytes[..at].to_vec()];
    while at + 5 <= bytes.len() {
        let len = u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
        let p = bytes[at..at + 4 + len].to_vec();
        let number = p[5];
        at += 4 + len;
        packets.push(p);
        if number == msg::SSH_MSG_NEWKEYS {
            break;
        }
    }
    (packets, bytes[at..].to_vec())
}

/// The message number of each unprotected packet in `bytes`, up to the first NEWKEYS.
fn plain_numbers(bytes: &[u8]) -> Vec<u8> {
    split_plain(bytes, true).0[1..]
        .iter()
        .map(|p| p[5])
        .collect()
}

/// Runs a client to the point where it waits for the server's reply, and returns the
/// server's unprotected reply packets (`[_, _, REPLY, NEWKEYS]`, 0 and 1 empty) and
/// what follows them (EXT_INFO, sealed).
fn reply_of(c: &mut Transport, s: &mut Transport) -> (Vec<Vec<u8>>, Vec<u8>) {
    s.handle_input(&c.poll_transmit().unwrap()).unwrap();
    c.handle_input(&s.poll_transmit().unwrap()).unwrap();
    s.handle_input(&c.poll_transmit().unwrap()).unwrap();
    let mut packets = split_plain(&s.poll_transmit().unwrap(), false);
    packets.0.insert(0, Vec::new());
    assert_eq!(packets.0.len(), 4);
    assert_eq!((packets.0[2][5], packets.0[3][5]), (31, 21));
    packets
}

fn feed(t: &mut Transport, bytes: &[u8], chunk: usize) -> Result<(), TransportError> {
    for c in bytes.chunks(chunk.max(1)) {
        t.handle_input(c)?;
    }
    Ok(())
}

/// Moves bytes both ways until quiet or an error; returns the first error and the
/// bytes the client sent.
fn run(c: &mut Transport, s: &mut Transport) -> (Result<(), TransportError>, Vec<u8>) {
    let mut client_out = Vec::new();
    for _ in 0..1000 {
        let mut moved = false;
        if let Some(b) = c.poll_transmit() {
            moved = true;
            client_out.extend_from_slice(&b);
            if let Err(e) = s.handle_input(&b) {
                if let Some(b) = s.poll_transmit() {
                    let _ = c.handle_input(&b);
                }
                return (Err(e), client_out);
            }
        }
        if let Some(b) = s.poll_transmit() {
            moved = true;
            if let Err(e) = c.handle_input(&b) {
                return (Err(e), client_out);
            }
        }
        if !moved {
            return (Ok(()), client_out);
        }
    }
    panic!("no quiescence")
}

fn events(t: &mut Transport) -> Vec<Event> {
    std::iter::from_fn(|| t.poll_event()).collect()
}

/// What the transport must say about packet `number` injected in the first
/// exchange's window: `None` when it is allowed there.
fn window_verdict(number: u8, strict: bool) -> Option<TransportError> {
    if number == msg::SSH_MSG_KEXINIT {
        return Some(TransportError::KexinitDuringKex);
    }
    if strict {
        return Some(TransportError::StrictKex(
            StrictKexViolation::UnexpectedPacket(number),
        ));
    }
    match number {
        2..=4 | 8..=19 | 22..=29 => None,
        _ => Some(TransportError::UnexpectedMessage {
            number,
            stage: Stage::FirstKex,
        }),
    }
}

/// Checks an injection's outcome, and for an allowed one that the exchange still
/// completes with the genuine traffic `rest` (to `victim`) and whatever follows.
fn check_injection(
    got: Result<(), TransportError>,
    number: u8,
    strict: bool,
    victim: &mut Transport,
) -> Result<(), TestCaseError> {
    match window_verdict(number, strict) {
        Some(want) => {
            prop_assert_eq!(got.as_ref().err(), Some(&want), "message {}", number);
            prop_assert_eq!(want.reason(), reason::SSH_DISCONNECT_PROTOCOL_ERROR);
            // Sticky, and the DISCONNECT is queued.
            prop_assert!(victim.handle_input(&[0]).is_err());
            prop_assert!(victim.poll_transmit().is_some());
        }
        None => prop_assert!(got.is_ok(), "message {} allowed: {:?}", number, got),
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(160))]

    /// Server role: a plaintext packet of any kind (other than the key exchange's own)
    /// injected between the client's KEXINIT and its NEWKEYS, before or after the
    /// server's reply and NEWKEYS, ends the connection with a protocol error: with
    /// strict kex every one of them, without it all but the RFC's transport-generic
    /// ones; those are let through and the exchange completes.
    #[test]
    fn server_refuses_injected_packets_in_the_first_exchange(
        number in any::<u8>(),
        strict in any::<bool>(),
        after_newkeys in any::<bool>(),
        body in proptest::collection::vec(any::<u8>(), 0..40),
        chunk in 1usize..80,
    ) {
        prop_assume!(number != msg::SSH_MSG_NEWKEYS && !(30..=49).contains(&number));
        prop_assume!(strict || number != msg::SSH_MSG_DISCONNECT);
        let c_cfg = TransportConfig { strict_kex: strict, ..cfg() };
        let (mut c, mut s) = (client(c_cfg), server(cfg()));
        s.handle_input(&c.poll_transmit().unwrap()).unwrap();
        c.handle_input(&s.poll_transmit().unwrap()).unwrap();
        let init = c.poll_transmit().unwrap();
        if after_newkeys {
            s.handle_input(&init).unwrap();
            let out = s.poll_transmit().unwrap();
            prop_assert!(plain_numbers(&[b"x\n".as_slice(), &out].concat()).ends_with(&[31, 21]));
        }
        let mut payload = vec![number];
        payload.extend_from_slice(&body);
        let got = feed(&mut s, &plain_packet(&payload), chunk);
        check_injection(got, number, strict, &mut s)?;
        if window_verdict(number, strict).is_none() {
            // Let through, and the exchange goes on (the injected packet has moved the
            // server's sequence number, so without strict kex the client's next sealed
            // packet would then fail its MAC: the reason strict kex exists).
            if !after_newkeys {
                s.handle_input(&init).unwrap();
            }
            prop_assert!(s.session_id().is_some() && !s.is_closed());
        }
    }

    /// Client role: the same, injected between the server's KEXINIT and its NEWKEYS,
    /// before the reply or after the client's own NEWKEYS.
    #[test]
    fn client_refuses_injected_packets_in_the_first_exchange(
        number in any::<u8>(),
        strict in any::<bool>(),
        after_newkeys in any::<bool>(),
        body in proptest::collection::vec(any::<u8>(), 0..40),
        chunk in 1usize..80,
    ) {
        prop_assume!(number != msg::SSH_MSG_NEWKEYS && !(30..=49).contains(&number));
        prop_assume!(strict || number != msg::SSH_MSG_DISCONNECT);
        let s_cfg = TransportConfig { strict_kex: strict, ..cfg() };
        let (mut c, mut s) = (client(cfg()), server(s_cfg));
        let (packets, encrypted) = reply_of(&mut c, &mut s);
        if after_newkeys {
            feed(&mut c, &packets[2], 1000).unwrap();
            prop_assert!(c.session_id().is_some(), "the client sent its NEWKEYS");
        }
        let mut payload = vec![number];
        payload.extend_from_slice(&body);
        let got = feed(&mut c, &plain_packet(&payload), chunk);
        check_injection(got, number, strict, &mut c)?;
        if window_verdict(number, strict).is_none() {
            // Let through; the exchange goes on to the client's keys (the server's
            // EXT_INFO after them would fail its MAC, the injection having moved the
            // client's sequence number: without strict kex that is all one gets).
            if !after_newkeys {
                feed(&mut c, &packets[2], chunk).unwrap();
            }
            feed(&mut c, &packets[3], chunk).unwrap();
            prop_assert!(c.is_keyed() && !c.is_closed());
            let _ = (encrypted, &mut s);
        }
    }
}

/// A second key-exchange packet after our NEWKEYS (a replayed or extra reply/init) is
/// refused in both roles, strict or not.
#[test]
fn key_exchange_messages_after_our_newkeys_are_refused() {
    for strict in [true, false] {
        let c_cfg = TransportConfig {
            strict_kex: strict,
            ..cfg()
        };
        // Server: the client's init twice.
        let (mut c, mut s) = (client(c_cfg.clone()), server(cfg()));
        s.handle_input(&c.poll_transmit().unwrap()).unwrap();
        c.handle_input(&s.poll_transmit().unwrap()).unwrap();
        let init = c.poll_transmit().unwrap();
        s.handle_input(&init).unwrap();
        assert_eq!(
            s.handle_input(&init),
            Err(TransportError::UnexpectedMessage {
                number: 30,
                stage: Stage::AfterNewkeys
            })
        );
        // Client: the server's reply twice.
        let (mut c, mut s) = (client(c_cfg), server(cfg()));
        let (packets, _) = reply_of(&mut c, &mut s);
        c.handle_input(&packets[2]).unwrap();
        assert_eq!(
            c.handle_input(&packets[2]),
            Err(TransportError::UnexpectedMessage {
                number: 31,
                stage: Stage::AfterNewkeys
            })
        );
    }
}

/// A connected pair that has not asked for a service, not authenticated.
fn bare_pair() -> (Transport, Transport) {
    let (mut c, mut s) = (client(cfg()), server(cfg()));
    let (r, _) = run(&mut c, &mut s);
    r.unwrap();
    assert!(c.is_keyed() && s.is_keyed());
    (c, s)
}

#[test]
fn upper_layer_messages_before_the_service_is_accepted_are_refused() {
    for number in [50u8, 52, 60, 79, 80, 90, 94, 127, 128, 200, 255] {
        let (mut c, mut s) = bare_pair();
        events(&mut s);
        c.send_message(&[number, 0, 0, 0, 0]).unwrap();
        let (r, _) = run(&mut c, &mut s);
        assert_eq!(
            r,
            Err(TransportError::UnexpectedMessage {
                number,
                stage: Stage::BeforeService
            })
        );
        assert!(events(&mut s)
            .iter()
            .all(|e| !matches!(e, Event::Message(_) | Event::ServiceAccepted(_))));
        let reasons: Vec<u32> = events(&mut c)
            .into_iter()
            .filter_map(|e| match e {
                Event::Disconnected { reason, .. } => Some(reason),
                _ => None,
            })
            .collect();
        assert_eq!(reasons, vec![reason::SSH_DISCONNECT_PROTOCOL_ERROR]);
    }
}

#[test]
fn service_request_opens_the_upper_layers_and_tells_the_server() {
    let (mut c, mut s) = (client(cfg()), server(cfg()));
    // Asked at once, and pipelined with a userauth request: both are held back until
    // the client's NEWKEYS (a plaintext SERVICE_REQUEST would be refused above).
    c.request_service("ssh-userauth").unwrap();
    c.send_message(&[50, 1, 2, 3]).unwrap();
    let (r, client_out) = run(&mut c, &mut s);
    r.unwrap();
    assert!(!plain_numbers(&client_out).contains(&msg::SSH_MSG_SERVICE_REQUEST));
    let order: Vec<String> = events(&mut s)
        .into_iter()
        .filter_map(|e| match e {
            Event::KeysEstablished { first, .. } => Some(format!("keys {first}")),
            Event::ServiceAccepted(n) => Some(format!("service {n}")),
            Event::Message(m) => Some(format!("message {}", m[0])),
            _ => None,
        })
        .collect();
    assert_eq!(
        order,
        ["keys true", "service ssh-userauth", "message 50"],
        "the server starts authentication on ServiceAccepted, not on the keys"
    );
    assert!(events(&mut c)
        .iter()
        .any(|e| matches!(e, Event::ServiceAccepted(n) if n == "ssh-userauth")));
    // After that, 80 and up pass too (the layers above decide what they mean).
    c.send_message(&[94, 0]).unwrap();
    run(&mut c, &mut s).0.unwrap();
    assert!(events(&mut s)
        .iter()
        .any(|e| matches!(e, Event::Message(m) if m[0] == 94)));
}

#[test]
fn unknown_or_repeated_service_requests_are_refused() {
    let (mut c, mut s) = bare_pair();
    c.request_service("ssh-connection").unwrap();
    let (r, _) = run(&mut c, &mut s);
    let e = r.unwrap_err();
    assert_eq!(
        e,
        TransportError::ServiceNotAvailable {
            name: "ssh-connection".into()
        }
    );
    assert_eq!(e.reason(), reason::SSH_DISCONNECT_SERVICE_NOT_AVAILABLE);
    let (mut c, mut s) = bare_pair();
    c.request_service("ssh-userauth").unwrap();
    c.request_service("ssh-userauth").unwrap();
    assert!(matches!(
        run(&mut c, &mut s).0,
        Err(TransportError::ServiceNotAvailable { .. })
    ));
}

#[test]
fn key_exchanges_before_authentication_are_limited() {
    let (mut c, mut s) = bare_pair();
    // The first exchange counts; MAX_PREAUTH_KEX - 1 re-exchanges by the client pass.
    for i in 1..MAX_PREAUTH_KEX {
        c.start_rekey();
        run(&mut c, &mut s).0.unwrap();
        assert_eq!(s.kex_count(), u64::from(i) + 1);
    }
    // Server-started re-exchanges are not the client's doing and do not count at the
    // server. (They do at the client, which limits a hostile server the same way: lift
    // its limit here.)
    c.set_authenticated();
    for _ in 0..3 {
        s.start_rekey();
        run(&mut c, &mut s).0.unwrap();
    }
    assert_eq!(s.kex_count(), u64::from(MAX_PREAUTH_KEX) + 3);
    events(&mut c);
    c.start_rekey();
    let (r, _) = run(&mut c, &mut s);
    let e = r.unwrap_err();
    assert_eq!(
        e,
        TransportError::KexFlood {
            exchanges: MAX_PREAUTH_KEX + 1
        }
    );
    assert_eq!(e.reason(), reason::SSH_DISCONNECT_PROTOCOL_ERROR);
    assert!(e.to_string().contains("too many key exchanges"), "{e}");
    assert_eq!(s.error(), Some(&e));
    let got: Vec<(u32, String)> = events(&mut c)
        .into_iter()
        .filter_map(|e| match e {
            Event::Disconnected {
                reason,
                description,
            } => Some((reason, description)),
            _ => None,
        })
        .collect();
    assert_eq!(
        got,
        vec![(reason::SSH_DISCONNECT_PROTOCOL_ERROR, e.to_string())]
    );
}

#[test]
fn key_exchanges_after_authentication_are_not_limited() {
    let (mut c, mut s) = bare_pair();
    s.set_authenticated();
    assert!(s.is_authenticated());
    for _ in 0..MAX_PREAUTH_KEX + 3 {
        c.start_rekey();
        run(&mut c, &mut s).0.unwrap();
    }
    assert_eq!(s.kex_count(), u64::from(MAX_PREAUTH_KEX) + 4);
}

/// One guessing run: client and server lists and kexguess2 settings; returns how many
/// key-exchange inits the client sent in the clear (1: the guess was used; 2: it was
/// wrong and sent again) after checking the exchange completed.
fn guessing_run(
    client_kex: &[KexAlg],
    server_kex: &[KexAlg],
    client_hk: &[HostKeyAlg],
    server_hk: &[HostKeyAlg],
    client_guess2: bool,
    server_guess2: bool,
) -> usize {
    let c_cfg = TransportConfig {
        kex: client_kex.to_vec(),
        host_key_algs: client_hk.to_vec(),
        kex_guess2: client_guess2,
        send_kex_guess: true,
        ..TransportConfig::default()
    };
    let s_cfg = TransportConfig {
        kex: server_kex.to_vec(),
        host_key_algs: server_hk.to_vec(),
        kex_guess2: server_guess2,
        ..TransportConfig::default()
    };
    let (mut c, mut s) = (client(c_cfg), server(s_cfg));
    c.request_service("ssh-userauth").unwrap();
    let (r, client_out) = run(&mut c, &mut s);
    r.unwrap();
    assert!(c.is_keyed() && s.is_keyed());
    assert_eq!(c.session_id(), s.session_id());
    let numbers = plain_numbers(&client_out);
    assert_eq!(numbers[0], msg::SSH_MSG_KEXINIT);
    // The guess follows the KEXINIT at once.
    assert!((30..=49).contains(&numbers[1]), "{numbers:?}");
    // Data still flows both ways afterwards.
    c.send_message(&[50, 7]).unwrap();
    run(&mut c, &mut s).0.unwrap();
    assert!(events(&mut s)
        .iter()
        .any(|e| matches!(e, Event::Message(m) if m == &[50, 7])));
    numbers.iter().filter(|&&n| (30..=49).contains(&n)).count()
}

#[test]
fn guessed_packets_right_are_used_wrong_are_dropped() {
    use HostKeyAlg::{Ed25519, RsaSha512};
    use KexAlg::{Curve25519Sha256 as C, DhGroup14Sha256 as Dh, MlKem768X25519Sha256 as Ml};
    for guess2 in [false, true] {
        // Same first choices: right under either rule, the guess is used.
        assert_eq!(
            guessing_run(&[C, Ml], &[C], &[Ed25519], &[Ed25519], guess2, guess2),
            1
        );
        // Negotiation lands elsewhere than the guess: wrong under either rule; the
        // server drops the DH init and takes the ECDH one that follows.
        assert_eq!(
            guessing_run(&[Dh, C], &[C], &[Ed25519], &[Ed25519], guess2, guess2),
            2
        );
    }
    // First kex choices differ but negotiation lands on the guess (the client's list
    // wins): wrong by RFC 4253 (the client resends), right with kexguess2 on both sides.
    assert_eq!(
        guessing_run(&[C, Ml], &[Ml, C], &[Ed25519], &[Ed25519], false, false),
        2
    );
    assert_eq!(
        guessing_run(&[C, Ml], &[Ml, C], &[Ed25519], &[Ed25519], true, true),
        1
    );
    // kexguess2 on one side only is the RFC rule.
    assert_eq!(
        guessing_run(&[C, Ml], &[Ml, C], &[Ed25519], &[Ed25519], true, false),
        2
    );
    assert_eq!(
        guessing_run(&[C, Ml], &[Ml, C], &[Ed25519], &[Ed25519], false, true),
        2
    );
    // The same for the host-key list's first entries.
    let (hc, hs) = (&[Ed25519, RsaSha512], &[RsaSha512, Ed25519]);
    assert_eq!(guessing_run(&[C], &[C], hc, hs, false, false), 2);
    assert_eq!(guessing_run(&[C], &[C], hc, hs, true, true), 1);
}

/// A server (a stand-in here, speaking in the clear) that sets
/// `first_kex_packet_follows`: a wrong guess is dropped by the client; a right one
/// goes to the method (and this bogus one fails there).
#[test]
fn client_handles_a_server_that_guesses() {
    use sisu_kex::kexinit::KexInit;
    use sisu_wire::NameList;
    let guessed_reply = plain_packet(&[msg::SSH_MSG_KEX_ECDH_REPLY, 0, 0, 0, 1, 9]);
    for (server_kex, right) in [
        ("mlkem768x25519-sha256,curve25519-sha256", false),
        ("curve25519-sha256", true),
    ] {
        let mut c = client(cfg());
        let init = KexInit {
            cookie: [1; 16],
            kex: NameList(server_kex),
            host_key: NameList("ssh-ed25519"),
            cipher_c2s: NameList("aes128-ctr"),
            cipher_s2c: NameList("aes128-ctr"),
            mac_c2s: NameList("hmac-sha2-256"),
            mac_s2c: NameList("hmac-sha2-256"),
            comp_c2s: NameList("none"),
            comp_s2c: NameList("none"),
            first_kex_follows: true,
        };
        c.handle_input(b"SSH-2.0-guesser\r\n").unwrap();
        c.handle_input(&plain_packet(&init.encode())).unwrap();
        let r = c.handle_input(&guessed_reply);
        if right {
            assert!(r.is_err(), "a right guess is processed: {r:?}");
        } else {
            assert_eq!(r, Ok(()), "a wrong guess is dropped");
            // Only one packet is dropped: a second bogus reply is processed.
            assert!(c.handle_input(&guessed_reply).is_err());
        }
    }
}
