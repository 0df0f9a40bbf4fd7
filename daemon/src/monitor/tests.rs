//! The monitor against a child that has been taken over: every request out of its
//! phase, and garbage, ends that connection (the child is killed, the monitor stops
//! serving it) and nothing else. The "child" is a real process (`sleep`), so that the
//! kill is observed, and the channel is a real socket pair.

use super::phase::every_request;
use super::*;
use crate::config::Config;
use proptest::prelude::*;
use sisu_kex::HostKey;
use std::process::Command;

/// Time the monitor is given to end the connection; a monitor that answered instead
/// would wait for the next frame until its deadline, well after this.
const PROMPT: Duration = Duration::from_secs(2);
/// The deadline passed to `serve_child`, so that a wrong monitor still returns.
const DEADLINE: Duration = Duration::from_secs(4);

fn ends() -> Endpoints {
    Endpoints {
        peer: Some("127.0.0.1:40001".parse().unwrap()),
        local: Some("127.0.0.1:22".parse().unwrap()),
    }
}

/// A monitor in `phase` for a stand-in child process, and the child's channel end.
fn monitor(phase: Phase) -> (Monitor, Channel) {
    let cfg = Config::default_for(&crate::algs::sets());
    let key =
        ssh_key::PrivateKey::random(&mut rand_core::OsRng, ssh_key::Algorithm::Ed25519).unwrap();
    let settings = crate::algs::session_settings(&cfg, vec![HostKey::new(key).unwrap()], &ends());
    let rules = Rules::new(settings.auth.clone(), ends(), None);
    let local = Local::new(settings.host_keys, settings.moduli, rules, ends());
    let (ours, theirs) = Channel::pair().unwrap();
    ours.set_timeout(Some(Duration::from_secs(1))).unwrap();
    theirs.set_timeout(Some(Duration::from_secs(1))).unwrap();
    // The monitor reaps it (waitpid), as it reaps a real child.
    #[allow(clippy::zombie_processes)]
    let child = Command::new("sleep").arg("60").spawn().unwrap();
    let m = Monitor {
        local,
        ch: ours,
        phase,
        reactor: Reactor::new(&[]).unwrap(),
        peer: ends().peer_desc(),
        child: child.id() as i32,
    };
    (m, theirs)
}

/// Whether `pid` is gone (killed and reaped by the monitor).
fn gone(pid: i32) -> bool {
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None).is_err()
}

/// Sends `frame` (with `fds`) as the child and checks that the monitor ends the
/// connection at once: `serve_child` returns `Over`, promptly, the child is killed,
/// and no reply was sent.
fn assert_ends_connection(phase: Phase, frame: &[u8], fds: &[i32], what: &str) {
    let (mut m, mut child) = monitor(phase);
    child.send(frame, fds).unwrap();
    let t0 = Instant::now();
    let end = m.serve_child(Some(t0 + DEADLINE));
    assert!(matches!(end, End::Over), "{what}: the monitor went on");
    assert!(t0.elapsed() < PROMPT, "{what}: ended only at the deadline");
    assert!(gone(m.child), "{what}: the child still runs");
    let reply = child.recv();
    assert!(
        !matches!(reply, Ok(Some(_))),
        "{what}: the monitor answered: {reply:?}"
    );
}

#[test]
fn every_request_out_of_its_phase_ends_the_connection() {
    let phases = [
        Phase::START,
        Phase::Preauth {
            user_named: true,
            authenticated: false,
        },
        Phase::Preauth {
            user_named: true,
            authenticated: true,
        },
        Phase::Postauth,
    ];
    let mut refused = 0;
    for phase in phases {
        for req in every_request() {
            if phase.permits(&req).is_ok() {
                continue;
            }
            refused += 1;
            let what = format!("{} in {phase:?}", req.name());
            assert_ends_connection(phase, &req.encode(), &[], &what);
        }
    }
    // 17 kinds in 4 phases, of which each phase permits 5, 12, 4 and 5 (see phase.rs).
    assert_eq!(refused, 12 + 5 + 13 + 12);
}

#[test]
fn garbage_ends_the_connection() {
    let cases: [(&[u8], &str); 5] = [
        (b"", "an empty frame"),
        (&[0xff, 1, 2, 3], "an unknown tag"),
        (&[4, 0, 0, 0, 9, b'r'], "a user name cut short"),
        (
            &[2, 0, 0, 0, 0, 0, 0, 0, 3, b'x', b'y', b'z', 0, 0, 0, 0],
            "an unknown algorithm",
        ),
        (
            &[3, 0, 0, 8, 0, 0, 0, 0, 4, 0, 0, 0, 4],
            "a moduli request with min > n",
        ),
    ];
    for (frame, what) in cases {
        assert_ends_connection(Phase::START, frame, &[], what);
    }
    let log = ToMonitor::Log {
        level: 3,
        line: "x".into(),
    };
    let devnull = File::open("/dev/null").unwrap();
    assert_ends_connection(
        Phase::START,
        &log.encode(),
        &[devnull.as_raw_fd()],
        "a descriptor sent to the monitor",
    );
}

#[test]
fn a_frame_cut_short_or_too_long_ends_the_connection() {
    use std::io::Write;
    for (head, what) in [
        (100u32.to_be_bytes(), "a frame cut short"),
        (u32::MAX.to_be_bytes(), "a frame longer than the limit"),
    ] {
        let (mut m, child) = monitor(Phase::START);
        let mut sock = child.socket();
        sock.write_all(&head).unwrap();
        sock.write_all(&[tag_log(), 1]).unwrap();
        let t0 = Instant::now();
        let end = m.serve_child(Some(t0 + DEADLINE));
        assert!(matches!(end, End::Over), "{what}: the monitor went on");
        assert!(t0.elapsed() < PROMPT + Duration::from_secs(1), "{what}");
        assert!(gone(m.child), "{what}: the child still runs");
    }
}

fn tag_log() -> u8 {
    ToMonitor::Log {
        level: 0,
        line: String::new(),
    }
    .encode()[0]
}

#[test]
fn a_request_in_its_phase_is_answered_and_the_next_connection_is_untouched() {
    // One connection is attacked and ended...
    assert_ends_connection(
        Phase::START,
        &ToMonitor::Handover { state: vec![1] }.encode(),
        &[],
        "handover before authentication",
    );
    // ...another, in its own monitor, is answered as usual.
    let (mut m, mut child) = monitor(Phase::START);
    let req = ToMonitor::User {
        user: "root".into(),
    };
    child.send(&req.encode(), &[]).unwrap();
    // The child then goes away, as a child does: serving it ends with its exit.
    let pid = m.child;
    let t0 = Instant::now();
    let other_side = std::thread::spawn(move || {
        let reply = child.recv().unwrap().expect("a reply");
        drop(child);
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(pid),
            nix::sys::signal::Signal::SIGTERM,
        );
        FromMonitor::decode(&reply.bytes).unwrap()
    });
    let served = m.serve_child(Some(t0 + DEADLINE));
    let reply = other_side.join().unwrap();
    assert!(matches!(reply, FromMonitor::User { .. }), "{reply:?}");
    assert!(
        matches!(served, End::Exited(_)),
        "the child's exit was not seen"
    );
    assert_eq!(
        m.phase,
        Phase::Preauth {
            user_named: true,
            authenticated: false
        }
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// Random frames before authentication: each is answered as a request it happens to
    /// be, or ends the connection; the monitor never panics or hangs.
    #[test]
    fn random_frames_never_hang_the_monitor(frame in proptest::collection::vec(any::<u8>(), 0..64)) {
        let (mut m, child) = monitor(Phase::START);
        child.send(&frame, &[]).unwrap();
        let pid = m.child;
        let t0 = Instant::now();
        let decoded = ToMonitor::decode(&frame);
        let other_side = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(100));
            drop(child);
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGTERM,
            );
        });
        let end = m.serve_child(Some(t0 + DEADLINE));
        other_side.join().unwrap();
        prop_assert!(t0.elapsed() < PROMPT + Duration::from_secs(1));
        match decoded {
            Err(_) => prop_assert!(matches!(end, End::Over)),
            Ok(req) if Phase::START.permits(&req).is_err() => {
                prop_assert!(matches!(end, End::Over))
            }
            Ok(_) => {}
        }
        prop_assert!(gone(pid));
    }
}
