//! Sessions: exec, stdin, PTY shells, parallel sessions, refusing a key.

use crate::common::{generate_key, Server};
use std::thread;

pub fn exec_with_output_and_exit_status() {
    let server = Server::start("exec");
    let out = server.ssh().run("echo hello from $(id -un); exit 3");
    out.assert_code(3);
    assert_eq!(out.stdout_str(), format!("hello from {}\n", server.user()));
    let ok = server.ssh().run("true");
    ok.assert_success();
}

pub fn exec_stderr_is_separate_from_stdout() {
    let server = Server::start("stderr");
    let out = server.ssh().run("echo out; echo err >&2; exit 0");
    out.assert_success();
    assert_eq!(out.stdout_str(), "out\n");
    assert!(out.stderr.contains("err\n"), "stderr: {}", out.stderr);
}

pub fn stdin_piped_through_cat() {
    let server = Server::start("cat");
    let input: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
    let out = server.ssh().stdin_bytes(input.clone()).run("cat");
    out.assert_success();
    assert_eq!(out.stdout.len(), input.len());
    assert!(out.stdout == input, "stdin came back changed");
}

pub fn pty_shell() {
    let server = Server::start("pty");
    let out = server
        .ssh()
        .arg("-tt")
        .stdin_bytes("echo $((6*7)); tty; exit 5\n")
        .run("");
    out.assert_code(5);
    let text = out.stdout_str();
    // The terminal echoes the input line ("$((6*7))"), so look for the evaluated 42 on
    // a line of its own, possibly after terminal control sequences.
    assert!(
        text.lines()
            .any(|l| l.trim_end().ends_with("42") && !l.contains("6*7")),
        "no 42 in: {text}"
    );
    assert!(text.contains("/dev/pts/"), "no /dev/pts/ in: {text}");
}

pub fn ten_parallel_sessions() {
    let server = Server::start("parallel");
    let outputs: Vec<_> = thread::scope(|s| {
        let handles: Vec<_> = (0..10)
            .map(|i| {
                let server = &server;
                s.spawn(move || {
                    server.ssh().run(&format!(
                        "head -c 1048576 /dev/zero | wc -c; echo session {i}; exit {i}"
                    ))
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("client thread"))
            .collect()
    });
    for (i, out) in outputs.iter().enumerate() {
        out.assert_code(i as i32);
        assert_eq!(out.stdout_str(), format!("1048576\nsession {i}\n"));
    }
}

pub fn unauthorized_key_is_refused() {
    let server = Server::start("badkey");
    let other = server.dir().join("other_ed25519");
    generate_key(&other, "ed25519");
    let out = server.ssh().identity(&other).run("echo should-not-run");
    assert_ne!(out.code, Some(0), "an unauthorized key logged in");
    assert!(!out.stdout_str().contains("should-not-run"));
    assert!(
        out.stderr.contains("Permission denied"),
        "client stderr: {}",
        out.stderr
    );
    let user = server.user().to_string();
    let line = server.wait_log_line(std::time::Duration::from_secs(5), |l| {
        l.contains(&format!("Failed publickey for {user} from 127.0.0.1"))
            || (l.contains("Connection closed by") && l.contains("[preauth]"))
    });
    assert!(line.is_some(), "no failure line in log:\n{}", server.log());
    // The authorized key still works afterwards.
    server.ssh().run("true").assert_success();
}
