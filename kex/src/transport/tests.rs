//! Rules that only a peer breaking its own side's discipline can test: messages sealed
//! under the current keys in the middle of a re-exchange (a compliant [`Transport`]
//! holds them back, so these tests write packets past that, from inside the crate).

use super::*;
use rand_core::OsRng;

fn pair() -> (Transport, Transport) {
    let key = ssh_key::PrivateKey::random(&mut OsRng, ssh_key::Algorithm::Ed25519).unwrap();
    let cfg = TransportConfig {
        kex: vec![KexAlg::Curve25519Sha256],
        host_key_algs: vec![HostKeyAlg::Ed25519],
        ..TransportConfig::default()
    };
    let mut c = Transport::client(cfg.clone(), Box::new(OsRng));
    let mut s = Transport::server(cfg, vec![HostKey::new(key).unwrap()], Box::new(OsRng));
    c.request_service("ssh-userauth").unwrap();
    // Re-exchanges here are not floods.
    c.set_authenticated();
    s.set_authenticated();
    run(&mut c, &mut s).unwrap();
    assert!(c.is_keyed() && s.is_keyed() && s.service_accepted);
    (c, s)
}

/// Moves bytes both ways until quiet; the first error, from either side.
fn run(a: &mut Transport, b: &mut Transport) -> Result<(), TransportError> {
    loop {
        let mut moved = false;
        if let Some(x) = a.poll_transmit() {
            moved = true;
            b.handle_input(&x)?;
        }
        if let Some(x) = b.poll_transmit() {
            moved = true;
            a.handle_input(&x)?;
        }
        if !moved {
            return Ok(());
        }
    }
}

fn messages(t: &mut Transport) -> Vec<u8> {
    std::iter::from_fn(|| t.poll_event())
        .filter_map(|e| match e {
            Event::Message(m) => Some(m[0]),
            _ => None,
        })
        .collect()
}

/// `sender` starts a re-exchange and, against the rules, seals `payload` right after
/// its KEXINIT; what does `victim` say?
fn after_kexinit(
    sender: &mut Transport,
    victim: &mut Transport,
    payload: &[u8],
) -> Result<(), TransportError> {
    sender.start_rekey();
    sender.write_packet(payload)?;
    run(sender, victim)
}

#[test]
fn upper_layer_and_service_messages_inside_a_rekey_are_refused_both_roles() {
    for client_sends in [true, false] {
        for payload in [
            &[94u8, 0, 0, 0, 0][..],
            &[50, 0],
            &[80, 0],
            &[5, 0, 0, 0, 0],
            &[6, 0, 0, 0, 0],
        ] {
            let (mut c, mut s) = pair();
            let (sender, victim) = if client_sends {
                (&mut c, &mut s)
            } else {
                (&mut s, &mut c)
            };
            let r = after_kexinit(sender, victim, payload);
            assert_eq!(
                r,
                Err(TransportError::UnexpectedMessage {
                    number: payload[0],
                    stage: Stage::Rekey
                }),
                "client sends: {client_sends}"
            );
            assert!(victim.is_closed());
        }
    }
}

#[test]
fn generic_messages_inside_a_rekey_pass_and_upper_layer_before_the_peers_kexinit_too() {
    let (mut c, mut s) = pair();
    // IGNORE and DEBUG between the KEXINIT and the NEWKEYS: allowed (RFC 4253 §7.1).
    after_kexinit(&mut c, &mut s, &[msg::SSH_MSG_IGNORE, 0, 0, 0, 0]).unwrap();
    assert_eq!(s.kex_count(), 2);
    // The server starts a rekey: a message the client sealed before it saw the
    // server's KEXINIT (still in flight) is delivered.
    s.start_rekey();
    c.write_packet(&[94, 0, 0, 0, 0]).unwrap();
    run(&mut c, &mut s).unwrap();
    assert_eq!(messages(&mut s), vec![94]);
    assert_eq!(s.kex_count(), 3);
    assert!(!s.is_closed() && !c.is_closed());
}

/// The volume limit starts a rekey only once the user has authenticated: OpenSSH's
/// client takes no key exchange during authentication. The bytes still count, so the
/// first packet after authentication starts it.
#[test]
fn volume_rekey_waits_for_authentication() {
    let key = ssh_key::PrivateKey::random(&mut OsRng, ssh_key::Algorithm::Ed25519).unwrap();
    let cfg = TransportConfig {
        kex: vec![KexAlg::Curve25519Sha256],
        host_key_algs: vec![HostKeyAlg::Ed25519],
        rekey_bytes: 16,
        ..TransportConfig::default()
    };
    let mut c = Transport::client(cfg.clone(), Box::new(OsRng));
    let mut s = Transport::server(cfg, vec![HostKey::new(key).unwrap()], Box::new(OsRng));
    c.request_service("ssh-userauth").unwrap();
    run(&mut c, &mut s).unwrap();
    let kexinits = |t: &Transport| t.kex_count();
    for _ in 0..5 {
        s.send_message(b"\x33 userauth failure").unwrap();
        run(&mut c, &mut s).unwrap();
    }
    assert_eq!(kexinits(&s), 1, "no rekey before authentication");
    assert!(!s.kex_in_progress());
    s.set_authenticated();
    c.set_authenticated();
    s.send_message(b"\x34 success").unwrap();
    run(&mut c, &mut s).unwrap();
    assert_eq!(kexinits(&s), 2, "the first packet after it rekeys");
    assert_eq!(messages(&mut c).len(), 6);
}
