//! The `sftp` subsystem (OpenSSH's sftp-server, named by `Subsystem` as Debian's
//! sshd_config does) with the OpenSSH `sftp` client: put, get, ls, and the files match.

use crate::common::{random_file, run_bounded, sha256_file, Input, Server};
use std::process::Command;
use std::time::Duration;

const SFTP_SERVER: &str = "/usr/lib/openssh/sftp-server";

pub fn sftp_put_get_ls() {
    let server = Server::builder("sftp")
        .config(&format!("Subsystem sftp {SFTP_SERVER}"))
        .start();
    let dir = server.dir();
    let src = dir.join("src.bin");
    random_file(&src, 4);
    let batch = dir.join("batch");
    std::fs::write(
        &batch,
        format!(
            "cd {d}\nput {d}/src.bin up.bin\nget up.bin {d}/down.bin\nls -l up.bin\n",
            d = dir.path().display()
        ),
    )
    .unwrap();
    let mut cmd = Command::new("sftp");
    cmd.args(server.client_options(server.client_key()))
        .arg("-P")
        .arg(server.port.to_string())
        .arg("-b")
        .arg(&batch)
        .arg(format!("{}@127.0.0.1", server.user()));
    let out = run_bounded(cmd, Input::Null, None, Duration::from_secs(60));
    out.assert_success();
    assert!(out.stdout_str().contains("up.bin"), "{}", out.stdout_str());
    let sum = sha256_file(&src);
    assert_eq!(sha256_file(&dir.join("up.bin")), sum);
    assert_eq!(sha256_file(&dir.join("down.bin")), sum);
}

pub fn unknown_subsystem_is_refused() {
    let server = Server::start("sftp-none");
    // No Subsystem line: the request fails and the client says so.
    let mut cmd = Command::new("sftp");
    cmd.args(server.client_options(server.client_key()))
        .arg("-P")
        .arg(server.port.to_string())
        .arg("-b")
        .arg("/dev/null")
        .arg(format!("{}@127.0.0.1", server.user()));
    let out = run_bounded(cmd, Input::Null, None, Duration::from_secs(60));
    assert_ne!(out.code, Some(0), "sftp without a subsystem succeeded");
    assert!(
        out.stderr.contains("subsystem request failed"),
        "{}",
        out.stderr
    );
}
