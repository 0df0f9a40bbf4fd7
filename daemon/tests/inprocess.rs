//! The session loops driven in-process, with no `sisu-sshd` process at all: a real
//! OpenSSH client connects to a socket this test accepts on 127.0.0.1, the
//! pre-authentication loop (`preauth::run`) and then the post-authentication loop
//! (`postauth::run`) serve it with `policy::Local`, and the transport is exported and
//! imported between the two, as the monitor's children do.

use sisu_daemon::algs;
use sisu_daemon::config::parse_config;
use sisu_daemon::conn::{session_rng, Endpoints};
use sisu_daemon::netio::SocketIo;
use sisu_daemon::policy::{Local, Policy, Rules};
use sisu_daemon::postauth::{self, PostauthSettings};
use sisu_daemon::preauth::{self, Outcome, PreauthSettings};
use sisu_kex::{HostKey, Transport, TransportState};
use std::fs::{self, File};
use std::net::TcpListener;
use std::os::fd::{AsFd, OwnedFd};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Bound on the whole exchange.
const DEADLINE: Duration = Duration::from_secs(60);

fn keygen(path: &std::path::Path) {
    let st = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(path)
        .status()
        .expect("ssh-keygen (openssh-client) must be installed");
    assert!(st.success());
}

#[test]
fn preauth_then_postauth_in_process_serve_a_real_client() {
    let dir = std::env::temp_dir().join(format!("sisu-inprocess-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    let user = sisu_daemon::os::current_user().unwrap().name;

    // Host key in memory; the client's key and known_hosts on disk.
    let host =
        ssh_key::PrivateKey::random(&mut rand_core::OsRng, ssh_key::Algorithm::Ed25519).unwrap();
    let host_pub = host.public_key().to_openssh().unwrap();
    keygen(&dir.join("id"));
    fs::copy(dir.join("id.pub"), dir.join("authorized_keys")).unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    fs::write(
        dir.join("known_hosts"),
        format!("[127.0.0.1]:{port} {host_pub}\n"),
    )
    .unwrap();
    let text = format!(
        "AuthorizedKeysFile {}\nStrictModes no\nPermitRootLogin yes\n",
        dir.join("authorized_keys").display()
    );
    let (cfg, _) = parse_config(&text, &dir.join("sshd_config"), &[], &algs::sets()).unwrap();

    let mut client = Command::new("ssh")
        .args([
            "-F",
            "/dev/null",
            "-o",
            "BatchMode=yes",
            "-o",
            "StrictHostKeyChecking=yes",
        ])
        .arg("-o")
        .arg(format!(
            "UserKnownHostsFile={}",
            dir.join("known_hosts").display()
        ))
        .arg("-i")
        .arg(dir.join("id"))
        .args(["-p", &port.to_string(), &format!("{user}@127.0.0.1")])
        .arg("echo in-process; exit 3")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("ssh (openssh-client) must be installed");

    let (stream, _) = listener.accept().unwrap();
    let socket = OwnedFd::from(stream);
    let ends = Endpoints::of_socket(socket.as_fd());
    let io = SocketIo::new(File::from(socket.try_clone().unwrap()), File::from(socket));
    let settings = algs::session_settings(&cfg, vec![HostKey::new(host.clone()).unwrap()], &ends);
    let public = || vec![HostKey::public_only(host.public_key().clone()).unwrap()];
    let transport = Transport::server(settings.transport.clone(), public(), session_rng());
    let rules = Rules::new(settings.auth.clone(), ends, None);
    let mut local = Local::new(settings.host_keys, settings.moduli, rules, ends);

    let pre = PreauthSettings {
        max_auth_tries: settings.max_auth_tries,
        pubkey_algorithms: settings.auth.pubkey_algorithms.clone(),
        ends,
        grace_deadline: Some(Instant::now() + DEADLINE),
    };
    let Outcome::Authenticated {
        mut transport,
        io,
        user: who,
    } = preauth::run(transport, pre, io, &mut local, None)
    else {
        let _ = client.kill();
        let out = client.wait_with_output().unwrap();
        panic!(
            "the pre-auth loop let nobody in: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    assert_eq!(who, user);
    let (decided, grant) = local
        .authenticated()
        .cloned()
        .expect("the policy's verdict");
    assert_eq!(decided, user, "the policy, not the loop, decides who is in");

    // Across the process boundary in a real session: bytes, then a fresh machine.
    let bytes = transport.export().unwrap().to_bytes();
    let state = TransportState::from_bytes(&bytes).unwrap();
    let transport = Transport::import(state, settings.transport, public(), session_rng()).unwrap();

    let post = PostauthSettings {
        channels: settings.channels,
        rekey_interval: settings.rekey_interval,
        ends,
        user: sisu_daemon::os::lookup_user(&user).unwrap().unwrap(),
        grant,
    };
    let status = postauth::run(transport, post, io, &mut local as &mut dyn Policy, None);
    assert_eq!(status, 0, "the post-auth loop's exit status");

    let until = Instant::now() + DEADLINE;
    let code = loop {
        if let Some(st) = client.try_wait().unwrap() {
            break st.code();
        }
        if Instant::now() > until {
            let _ = client.kill();
            panic!("ssh did not finish");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let out = client.wait_with_output().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "in-process\n",
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(code, Some(3), "the command's exit status through the loops");
    let _ = fs::remove_dir_all(&dir);
}
