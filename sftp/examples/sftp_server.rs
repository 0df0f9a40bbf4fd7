//! A standalone sftp-server over stdin and stdout, as OpenSSH's `sftp-server`:
//! `sftp -D 'target/debug/examples/sftp_server -l INFO -e'` talks to it directly.
//! The session user is the process's; log lines go to stderr.

use sisu_sftp::{query_requests, serve, Level, Options, OptionsError};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let opts = match Options::parse(&args) {
        Ok(o) => o,
        Err(OptionsError::Usage) => {
            eprintln!("{}", OptionsError::Usage);
            std::process::exit(1);
        }
        Err(e) => {
            eprintln!("sftp_server: {e}");
            std::process::exit(1);
        }
    };
    if opts.query_requests {
        println!("{}", query_requests().join("\n"));
        return;
    }
    let uid = nix::unistd::getuid();
    let user = nix::unistd::User::from_uid(uid).ok().flatten();
    let name = user
        .as_ref()
        .map_or_else(|| uid.to_string(), |u| u.name.clone());
    let home = user.map_or_else(|| "/".into(), |u| u.dir.to_string_lossy().into_owned());
    let addr = std::env::var("SSH_CONNECTION")
        .ok()
        .and_then(|c| c.split(' ').next().map(str::to_string))
        .unwrap_or_else(|| "UNKNOWN".into());
    let opts = opts.with_session(&name, uid.as_raw(), &home, &addr);
    let sink = |level: Level, line: &str| eprintln!("sftp_server[{}]: {line}", level.name());
    let stdin = std::io::stdin().lock();
    let stdout = std::io::stdout().lock();
    let code = match serve(stdin, stdout, &opts, sink) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("sftp_server: {e}");
            e.exit_code()
        }
    };
    std::process::exit(code);
}
