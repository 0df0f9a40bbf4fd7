//! `UsePAM yes`: passwords and keyboard-interactive (RFC 4256) through the host's PAM
//! stack (Debian's `/etc/pam.d/sshd`), an expired password changed through the
//! keyboard-interactive conversation (AsyncSSH answering PAM's prompts), two factors
//! with `AuthenticationMethods publickey,keyboard-interactive`, and, with a PAM
//! service of the test's own (`PAMServiceName`, which OpenSSH 9.2 lacks), PAM's
//! account checks for a key login (pam_access) and its session modules (pam_env,
//! pam_limits, pam_echo) reaching the user's session.
//!
//! Root only: the server must run PAM as root, and the accounts are made here.

use crate::common::{
    ensure_account, python, run_bounded, set_password, AccountSpec, Input, Server, CLIENT_TIMEOUT,
};
use std::process::Command;
use std::time::Duration;

const PASSWORD: &str = "correct horse 7";

fn account(name: &str) {
    ensure_account(name, &AccountSpec::default());
    set_password(name, PASSWORD, "YESCRYPT");
}

fn pam_server(name: &str, lines: &[&str]) -> Server {
    let mut b = Server::builder(name)
        .use_pam()
        .config("PasswordAuthentication yes")
        .config("KbdInteractiveAuthentication yes");
    for l in lines {
        b = b.config(l);
    }
    b.start()
}

fn admin(args: &[&str]) {
    let mut cmd = Command::new(args[0]);
    cmd.args(&args[1..]);
    run_bounded(cmd, Input::Null, None, Duration::from_secs(30)).assert_success();
}

pub fn passwords_and_keyboard_interactive_through_the_host_stack() {
    let user = "sisupam1";
    account(user);
    let server = pam_server("pam-host-stack", &[]);
    // The session went through pam_loginuid: the login uid is the user's.
    let out = server
        .ssh()
        .login_as(user)
        .password(PASSWORD)
        .run("echo $(id -un) $(id -u) $(cat /proc/self/loginuid)");
    out.assert_success();
    let words: Vec<String> = out
        .stdout_str()
        .split_whitespace()
        .map(str::to_string)
        .collect();
    assert_eq!(words.len(), 3, "{}", out.stdout_str());
    assert_eq!(words[0], user);
    assert_eq!(words[1], words[2], "loginuid: {}", out.stdout_str());
    server.assert_logged(&format!(
        "Accepted password for {user} from 127.0.0.1 port "
    ));

    let kbd = server
        .ssh()
        .login_as(user)
        .password_after(PASSWORD, "keyboard-interactive")
        .option("PubkeyAuthentication=no")
        .run("id -un");
    kbd.assert_success();
    assert_eq!(kbd.stdout_str(), format!("{user}\n"));
    server.assert_logged(&format!(
        "Accepted keyboard-interactive/pam for {user} from 127.0.0.1 port "
    ));

    let wrong = server
        .ssh()
        .login_as(user)
        .password_after("wrong", "keyboard-interactive")
        .option("PubkeyAuthentication=no")
        .run("true");
    assert_eq!(wrong.code, Some(255), "{}", wrong.stderr);
    server.assert_logged(&format!(
        "PAM: Authentication failure for {user} from 127.0.0.1"
    ));
    server.assert_logged(&format!(
        "Failed keyboard-interactive/pam for {user} from 127.0.0.1 port "
    ));

    let wrong = server.ssh().login_as(user).password("wrong").run("true");
    assert_eq!(wrong.code, Some(255), "{}", wrong.stderr);
    server.assert_logged(&format!("Failed password for {user} from 127.0.0.1 port "));

    let unknown = server
        .ssh()
        .login_as("sisupamnosuch")
        .password_after(PASSWORD, "keyboard-interactive")
        .option("PubkeyAuthentication=no")
        .run("true");
    assert_eq!(unknown.code, Some(255), "{}", unknown.stderr);
    server.assert_logged("Invalid user sisupamnosuch from 127.0.0.1 port ");
    server.assert_logged("Failed keyboard-interactive/pam for invalid user sisupamnosuch from");
}

pub fn publickey_then_keyboard_interactive_as_two_factors() {
    let user = "sisupam2";
    account(user);
    let server = pam_server(
        "pam-two-factors",
        // With its device named, as OpenSSH's documentation writes it.
        &["AuthenticationMethods publickey,keyboard-interactive:pam"],
    );
    let both = server
        .ssh()
        .login_as(user)
        .password_after(PASSWORD, "publickey,keyboard-interactive")
        .run("id -un");
    both.assert_success();
    assert_eq!(both.stdout_str(), format!("{user}\n"));
    server.assert_logged(&format!("Partial publickey for {user} from"));
    server.assert_logged(&format!(
        "Accepted keyboard-interactive/pam for {user} from"
    ));
    // The key alone is not enough, nor is the password alone.
    let key_only = server.ssh().login_as(user).run("true");
    assert_eq!(key_only.code, Some(255), "{}", key_only.stderr);
    let pw_only = server
        .ssh()
        .login_as(user)
        .password_after(PASSWORD, "keyboard-interactive")
        .option("PubkeyAuthentication=no")
        .run("true");
    assert_eq!(pw_only.code, Some(255), "{}", pw_only.stderr);
}

/// AsyncSSH's keyboard-interactive client, answering PAM's prompts by their text:
/// the current password when asked for it (or for "Password"), the new one when asked
/// for a new one or to retype it.
const ASYNCSSH_KBD: &str = r#"
import asyncio, sys, asyncssh
port, user, old, new, kh = sys.argv[1:6]
class Client(asyncssh.SSHClient):
    def kbdint_auth_requested(self):
        return ""
    def kbdint_challenge_received(self, name, instructions, lang, prompts):
        if instructions:
            print("instruction:", instructions.strip(), file=sys.stderr)
        answers = []
        for text, echo in prompts:
            t = text.lower()
            print("prompt:", text, file=sys.stderr)
            answers.append(new if ("new" in t or "retype" in t) else old)
        return answers
async def main():
    async with asyncssh.connect("127.0.0.1", port=int(port), username=user,
            known_hosts=kh, agent_path=None, config=[], client_keys=None,
            password=None, preferred_auth="keyboard-interactive",
            client_factory=Client, login_timeout=30) as conn:
        r = await conn.run("id -un", check=True)
        print(r.stdout.strip())
try:
    asyncio.run(asyncio.wait_for(main(), timeout=60))
except asyncssh.DisconnectError as e:
    # Refused: PermissionDenied, or (when the client keeps trying) MaxAuthTries.
    print("refused:", e, file=sys.stderr)
    print("refused")
"#;

fn asyncssh_kbd(server: &Server, user: &str, old: &str, new: &str) -> crate::common::Output {
    let mut cmd = Command::new(python());
    cmd.arg("-c")
        .arg(ASYNCSSH_KBD)
        .arg(server.port.to_string())
        .arg(user)
        .arg(old)
        .arg(new)
        .arg(server.dir().join("known_hosts"));
    run_bounded(cmd, Input::Null, None, CLIENT_TIMEOUT)
}

pub fn an_expired_password_is_changed_through_keyboard_interactive() {
    let user = "sisupamx";
    const NEW: &str = "Different horse 99!";
    account(user);
    admin(&["chage", "-d", "0", user]);
    let server = pam_server("pam-expired", &[]);
    // The password method cannot change it: no command runs.
    let out = server
        .ssh()
        .login_as(user)
        .password(PASSWORD)
        .run("echo ran");
    assert_ne!(out.code, Some(0), "{}", out.stderr);
    assert!(!out.stdout_str().contains("ran"), "{}", out.stdout_str());
    // Keyboard-interactive asks for the old one, then the new one twice.
    let out = asyncssh_kbd(&server, user, PASSWORD, NEW);
    out.assert_success();
    assert_eq!(out.stdout_str().trim(), user, "{}", out.stderr);
    assert!(
        out.stderr.to_lowercase().contains("prompt: new password"),
        "{}",
        out.stderr
    );
    // The new password is the password now; the old one is not.
    server
        .ssh()
        .login_as(user)
        .password(NEW)
        .run("true")
        .assert_success();
    let old = server.ssh().login_as(user).password(PASSWORD).run("true");
    assert_eq!(old.code, Some(255), "{}", old.stderr);
    // And AsyncSSH with a wrong password is refused.
    let out = asyncssh_kbd(&server, user, "wrong", "wrong");
    out.assert_success();
    assert_eq!(out.stdout_str().trim(), "refused", "{}", out.stderr);
}

/// A PAM service of the test's own in `/etc/pam.d`, removed on drop.
struct PamService(String);

impl PamService {
    fn new(name: &str, text: &str) -> PamService {
        let service = format!("sisu-test-{name}-{}", std::process::id());
        std::fs::write(format!("/etc/pam.d/{service}"), text).unwrap();
        PamService(service)
    }
}

impl Drop for PamService {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(format!("/etc/pam.d/{}", self.0));
    }
}

pub fn account_and_session_modules_of_the_configured_service_apply() {
    let limited = "sisupaml";
    let denied = "sisupamd";
    account(limited);
    account(denied);
    let dir = crate::common::TestDir::new("pam-service-files");
    let file = |name: &str, text: &str| {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p.display().to_string()
    };
    let access = file("access.conf", &format!("-:{denied}:ALL\n+:ALL:ALL\n"));
    let env = file("environment", "SISU_PAM_ENV=from-pam-env\n");
    let limits = file(
        "limits.conf",
        &format!("{limited} soft nofile 1234\n{limited} hard nofile 1234\n"),
    );
    let echo = file("echo", "Hello from pam_echo\n");
    let service = PamService::new(
        "session",
        &format!(
            "auth required pam_unix.so\n\
             account required pam_access.so accessfile={access}\n\
             account required pam_unix.so\n\
             session required pam_env.so readenv=1 envfile={env} user_readenv=0\n\
             session required pam_limits.so conf={limits}\n\
             session optional pam_echo.so file={echo}\n\
             session required pam_unix.so\n"
        ),
    );
    let server = pam_server(
        "pam-service",
        &[&format!("PAMServiceName {}", service.0), "PrintMotd no"],
    );
    // A key login: PAM's session still opens (environment, limits).
    let out = server
        .ssh()
        .login_as(limited)
        .run("echo $SISU_PAM_ENV; ulimit -n");
    out.assert_success();
    assert_eq!(out.stdout_str(), "from-pam-env\n1234\n");
    // What the session modules said is shown at a login on a terminal.
    let shell = server
        .ssh()
        .login_as(limited)
        .arg("-tt")
        .stdin_bytes("exit\n")
        .run("");
    assert!(
        shell.stdout_str().contains("Hello from pam_echo"),
        "{}",
        shell.stdout_str()
    );
    // pam_access refuses the other user, though the key is right.
    let out = server.ssh().login_as(denied).run("echo ran");
    assert_eq!(out.code, Some(255), "{}", out.stderr);
    assert!(!out.stdout_str().contains("ran"));
    server.assert_logged(&format!(
        "Access denied for user {denied} by PAM account configuration"
    ));
}

/// The project's own PAM file (`daemon/pam/sisu-sshd`, for hosts without
/// OpenSSH's): a password login through it, its session modules applied (the login
/// uid, pam_env), and an expired password changed through it.
pub fn the_project_pam_file_works_as_a_service() {
    let user = "sisupamf";
    account(user);
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/pam/sisu-sshd")).unwrap();
    let service = PamService::new("project-file", &text);
    let server = pam_server(
        "pam-project-file",
        &[&format!("PAMServiceName {}", service.0)],
    );
    let out = server
        .ssh()
        .login_as(user)
        .password(PASSWORD)
        .run("echo $(id -un) $(id -u) $(cat /proc/self/loginuid)");
    out.assert_success();
    let stdout = out.stdout_str();
    let words: Vec<&str> = stdout.split_whitespace().collect();
    assert_eq!(words.len(), 3, "{}", out.stdout_str());
    assert_eq!(words[1], words[2]);
    admin(&["chage", "-d", "0", user]);
    let out = asyncssh_kbd(&server, user, PASSWORD, "Another horse 42!");
    out.assert_success();
    assert_eq!(out.stdout_str().trim(), user, "{}", out.stderr);
}
