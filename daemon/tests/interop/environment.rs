//! A session's environment: `SetEnv`, `AcceptEnv`, `~/.ssh/environment`, and that no
//! variable from the client, the key or the user's files can change how a forced
//! command runs (`BASH_ENV`, `LD_PRELOAD`, `PATH`), nor grow without bound.

use crate::common::{test_user, Server};
use std::fs;

pub fn set_env_reaches_every_session() {
    let server = Server::builder("setenv")
        .config("SetEnv SISU_A=one SISU_B=\"two words\"")
        .start();
    let out = server.ssh().run("echo \"$SISU_A/$SISU_B\"");
    assert_eq!(out.stdout_str(), "one/two words\n", "{}", out.stderr);
}

/// A bash function exported through the environment that replaces `echo`: the
/// classic way around a forced command run by bash. (Debian's bash reads `~/.bashrc`
/// instead of `BASH_ENV` when `SSH_CLIENT` is set, so BASH_ENV is no oracle here.)
const EVIL_FUNCTION: (&str, &str) = ("BASH_FUNC_echo%%", "() { builtin echo PWNED; }");

/// `ForceCommand` with `AcceptEnv LANG BASH_FUNC_* LD_*`: LANG passes, the exported
/// function does not. (OpenSSH's sshd passes it: Sisu only.)
pub fn accept_env_cannot_defeat_force_command() {
    let server = Server::builder("forced-env")
        .config("AcceptEnv LANG BASH_FUNC_* LD_*")
        .config("ForceCommand echo \"forced LANG=$LANG LD_PRELOAD=${LD_PRELOAD:-unset}\"")
        .start();
    let out = server
        .ssh()
        .option("SendEnv=LANG BASH_FUNC_* LD_PRELOAD")
        .env(EVIL_FUNCTION.0, EVIL_FUNCTION.1)
        .env("LANG", "C.UTF-8")
        .env("LD_PRELOAD", "/nonexistent.so")
        .run("anything");
    out.assert_success();
    assert_eq!(
        out.stdout_str(),
        "forced LANG=C.UTF-8 LD_PRELOAD=unset\n",
        "{}",
        out.stderr
    );
    // Without a forced command the same variable is the user's business: the oracle
    // works.
    let free = Server::builder("free-env")
        .config("AcceptEnv BASH_FUNC_*")
        .start();
    let out = free
        .ssh()
        .option("SendEnv=BASH_FUNC_*")
        .env(EVIL_FUNCTION.0, EVIL_FUNCTION.1)
        .run("echo after");
    assert_eq!(out.stdout_str(), "PWNED\n", "{}", out.stderr);
}

/// `command=` with `environment=` (PermitUserEnvironment yes): the key's LD_PRELOAD
/// and PATH are dropped, its harmless variable kept. (Sisu only, as above.)
pub fn key_environment_cannot_defeat_its_command() {
    let server = Server::builder("key-forced-env")
        .config("PermitUserEnvironment yes")
        .start();
    let key = fs::read_to_string(server.dir().join("id_ed25519.pub")).unwrap();
    let line = format!(
        "command=\"echo cmd $KEEP $PATH\",environment=\"LD_PRELOAD=/nonexistent/sisu.so\",environment=\"PATH=/tmp\",environment=\"KEEP=kept\" {key}"
    );
    fs::write(server.dir().join("authorized_keys"), line).unwrap();
    let out = server.ssh().run("whatever");
    out.assert_success();
    let stdout = out.stdout_str();
    assert!(stdout.starts_with("cmd kept /usr/"), "{stdout}");
    // ld.so complains on stderr about a preload it cannot open: it was never asked.
    assert!(!out.stderr.contains("LD_PRELOAD"), "{}", out.stderr);
}

/// `~/.ssh/environment` with `PermitUserEnvironment` patterns.
pub fn user_environment_file_with_patterns() {
    let user = test_user();
    let u = nix::unistd::User::from_name(&user).unwrap().unwrap();
    let ssh_dir = u.dir.join(".ssh");
    fs::create_dir_all(&ssh_dir).unwrap();
    nix::unistd::chown(&ssh_dir, Some(u.uid), Some(u.gid)).unwrap();
    let file = ssh_dir.join("environment");
    fs::write(&file, "# from the file\nSISU_FILE=yes\nSISU_OTHER=no\n").unwrap();
    nix::unistd::chown(&file, Some(u.uid), Some(u.gid)).unwrap();
    let server = Server::builder("user-env-file")
        .config("PermitUserEnvironment SISU_F*")
        .start();
    let out = server
        .ssh()
        .run("echo \"${SISU_FILE:-unset} ${SISU_OTHER:-unset}\"");
    let _ = fs::remove_file(&file);
    assert_eq!(out.stdout_str(), "yes unset\n", "{}", out.stderr);
}

/// A client that sends 300 variables gets at most 256 of them set. (Sisu's bound.)
pub fn client_environment_is_bounded() {
    let server = Server::builder("env-bound")
        .config("AcceptEnv SISUX*")
        .start();
    let mut ssh = server.ssh().option("SendEnv=SISUX*");
    for i in 0..300 {
        ssh = ssh.env(format!("SISUX{i}"), "v");
    }
    let out = ssh.run("env | grep -c '^SISUX'");
    out.assert_success();
    let n: usize = out.stdout_str().trim().parse().unwrap();
    assert_eq!(n, 256, "{}", out.stderr);
}
