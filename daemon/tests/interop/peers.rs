//! Other SSH implementations as clients: paramiko and AsyncSSH (scripts in
//! `daemon/tests/peers/`), each running an exec with stdin, stderr and an exit status.

use crate::common::{python, run_bounded, Input, Server};
use std::process::Command;
use std::time::Duration;

/// The command every peer runs: echo stdin back, write to stderr, exit 7.
const COMMAND: &str = "cat; echo to-stderr >&2; exit 7";

fn run_peer(script: &str, name: &str) {
    let server = Server::start(name);
    let script = format!("{}/tests/peers/{script}", env!("CARGO_MANIFEST_DIR"));
    let stdin = format!("stdin for {name}\nline two\n");
    let mut cmd = Command::new(python());
    cmd.arg(&script)
        .arg(server.port.to_string())
        .arg(server.user())
        .arg(server.client_key())
        .arg(server.dir().join("known_hosts"))
        .arg(COMMAND)
        .arg(&stdin);
    let out = run_bounded(cmd, Input::Null, None, Duration::from_secs(90));
    out.assert_success();
    let json = out.stdout_str();
    // The scripts print one line of JSON with three keys; compare against exactly what we
    // expect rather than parse JSON without a parser.
    let expect = format!(
        "{{\"stdout\": {}, \"stderr\": \"to-stderr\\n\", \"status\": 7}}",
        json_string(&stdin)
    );
    assert_eq!(json.trim(), expect, "peer stderr: {}", out.stderr);
}

/// Encode `s` the way Python's json.dumps does for ASCII text.
fn json_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

pub fn paramiko_exec_with_stdin_stderr_and_status() {
    run_peer("paramiko_exec.py", "paramiko");
}

pub fn asyncssh_exec_with_stdin_stderr_and_status() {
    run_peer("asyncssh_exec.py", "asyncssh");
}
