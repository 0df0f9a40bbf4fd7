//! SSH protocol 1.5 beside SSH-2 on one port (`Protocol 2,1`), with the two real
//! SSH-1 clients on this machine: OpenSSH 7.5's `ssh1 -1` and PuTTY's `plink -1`.
//! Host keys made by `ssh-keygen1 -t rsa1`; user keys the same, in authorized_keys as
//! SSH-1 lines (`bits exponent modulus comment`). OpenSSH 9 has no protocol 1, so
//! these run against sisu-sshd only.

use crate::common::{
    random_file, run_bounded, sha256_file, Input, Output, Server, ServerBuilder, CLIENT_TIMEOUT,
};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// Makes an `rsa1` key pair at `path` (and `path.pub`) with `ssh-keygen1`.
fn rsa1_key(path: &Path, bits: u32) {
    let mut cmd = Command::new("ssh-keygen1");
    cmd.args(["-q", "-t", "rsa1", "-N", "", "-C", "sisu-test", "-b"])
        .arg(bits.to_string())
        .arg("-f")
        .arg(path);
    run_bounded(cmd, Input::Null, None, Duration::from_secs(60)).assert_success();
}

/// A server with `Protocol 2,1`, an `rsa1` host key, and the user's `rsa1` key in
/// authorized_keys (next to the harness's ed25519 key).
pub(crate) struct V1Server {
    pub(crate) server: Server,
    host_pub: PathBuf,
    pub(crate) user_key: PathBuf,
}

/// Makes an `rsa1` key pair at `path` (and `path.pub`) with PuTTY's `puttygen`.
fn puttygen_key(path: &Path) {
    let mut cmd = Command::new("puttygen");
    cmd.args([
        "-q",
        "-t",
        "rsa1",
        "-b",
        "2048",
        "--new-passphrase",
        "/dev/null",
        "-o",
    ])
    .arg(path);
    run_bounded(cmd, Input::Null, None, Duration::from_secs(120)).assert_success();
    let mut cmd = Command::new("puttygen");
    cmd.arg(path).arg("-L");
    let out = run_bounded(cmd, Input::Null, None, Duration::from_secs(30));
    out.assert_success();
    fs::write(format!("{}.pub", path.display()), out.stdout).unwrap();
}

fn v1_builder(name: &str, extra: &[&str]) -> (ServerBuilder, PathBuf, PathBuf) {
    v1_builder_with(name, extra, |p| rsa1_key(p, 2048))
}

fn v1_builder_with(
    name: &str,
    extra: &[&str],
    host_key: impl Fn(&Path),
) -> (ServerBuilder, PathBuf, PathBuf) {
    let keys = std::env::temp_dir().join(format!("sisu-ssh1-{name}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&keys);
    fs::create_dir_all(&keys).unwrap();
    let host = keys.join("ssh_host_key");
    host_key(&host);
    let user_key = keys.join("identity");
    rsa1_key(&user_key, 1024);
    // The first value of a keyword wins: `extra` comes first, so that it may say
    // `Protocol 1`.
    let mut b = Server::builder(name);
    for l in extra {
        b = b.config(l);
    }
    let b = b
        .config("Protocol 2,1")
        .config(&format!("HostKey {}", host.display()));
    (
        b,
        PathBuf::from(format!("{}.pub", host.display())),
        user_key,
    )
}

pub(crate) fn start_v1(name: &str, extra: &[&str]) -> V1Server {
    finish_v1(v1_builder(name, extra))
}

fn finish_v1((b, host_pub, user_key): (ServerBuilder, PathBuf, PathBuf)) -> V1Server {
    let server = b.start();
    // The SSH-2 host keys of the harness stay; the user's SSH-1 key is added.
    let line = fs::read_to_string(format!("{}.pub", user_key.display())).unwrap();
    let ak = server.dir().join("authorized_keys");
    let mut text = fs::read_to_string(&ak).unwrap();
    text.push_str(&line);
    fs::write(&ak, text).unwrap();
    V1Server {
        server,
        host_pub,
        user_key,
    }
}

impl Drop for V1Server {
    fn drop(&mut self) {
        if let Some(dir) = self.user_key.parent() {
            let _ = fs::remove_dir_all(dir);
        }
    }
}

impl V1Server {
    /// `known_hosts` for `ssh1`: the host key as an SSH-1 line for `[127.0.0.1]:PORT`.
    fn known_hosts(&self) -> PathBuf {
        let line = fs::read_to_string(&self.host_pub).unwrap();
        let kh = self.server.dir().join("known_hosts1");
        fs::write(
            &kh,
            format!("[127.0.0.1]:{} {}", self.server.port, line.trim_end()),
        )
        .unwrap();
        kh
    }

    /// `plink -1` with `cipher` first (a saved session says so) and `key`, running
    /// `cmd`.
    fn plink(&self, cipher: &str, key: &Path, cmd: &str, input: Input) -> Output {
        let user = self.server.user().to_string();
        let args: Vec<std::ffi::OsString> = vec!["-l".into(), user.into(), "-i".into(), key.into()];
        self.plink_with(cipher, &args, cmd, input)
    }

    /// `plink -1` with `cipher` first and `args` (who, and how), running `cmd`.
    fn plink_with(
        &self,
        cipher: &str,
        args: &[std::ffi::OsString],
        cmd: &str,
        input: Input,
    ) -> Output {
        let home = self.server.dir().join("plink-home");
        let sessions = home.join(".putty/sessions");
        fs::create_dir_all(&sessions).unwrap();
        fs::write(
            sessions.join(cipher),
            format!("Cipher={cipher},3des,blowfish,WARN,aes,chacha20,des,arcfour\nSshProt=1\n"),
        )
        .unwrap();
        let mut c = Command::new("plink");
        c.env("HOME", &home)
            .args(["-load", cipher, "-1", "-batch", "-P"])
            .arg(self.server.port.to_string())
            .args(args)
            .args(["-hostkey", &host_fingerprint(&self.host_pub)])
            .args(["127.0.0.1", cmd]);
        run_bounded(c, input, None, CLIENT_TIMEOUT)
    }

    /// `ssh1 -1` with the user's key, `cipher`, and `args` (the command and what
    /// goes before it).
    pub(crate) fn ssh1(&self, cipher: &str, args: &[&str], input: Input) -> Output {
        run_bounded(self.ssh1_command(cipher, args), input, None, CLIENT_TIMEOUT)
    }

    /// The `ssh1 -1` command line of [`V1Server::ssh1`].
    pub(crate) fn ssh1_command(&self, cipher: &str, args: &[&str]) -> Command {
        self.ssh1_command_with(cipher, &[self.user_key.as_path()], args)
    }

    /// [`V1Server::ssh1_command`] offering `keys` (in turn) instead of the user's.
    fn ssh1_command_with(&self, cipher: &str, keys: &[&Path], args: &[&str]) -> Command {
        let kh = self.known_hosts();
        let openssl = self.server.dir().join("openssl-legacy.cnf");
        fs::write(&openssl, OPENSSL_LEGACY).unwrap();
        let mut cmd = Command::new("ssh1");
        cmd.env("OPENSSL_CONF", &openssl)
            .args(["-1", "-F", "/dev/null", "-o", "BatchMode=yes"])
            .args([
                "-o",
                "StrictHostKeyChecking=yes",
                "-o",
                "IdentitiesOnly=yes",
            ])
            .arg("-o")
            .arg(format!("UserKnownHostsFile={}", kh.display()))
            .arg("-o")
            .arg("GlobalKnownHostsFile=/dev/null")
            .args(["-c", cipher]);
        for k in keys {
            cmd.arg("-i").arg(k);
        }
        cmd.args([
            "-p",
            &self.server.port.to_string(),
            "-l",
            self.server.user(),
        ])
        .args(args);
        if !args.contains(&"127.0.0.1") {
            cmd.arg("127.0.0.1");
        }
        cmd
    }
}

/// OpenSSL 3's legacy provider, which `ssh1`'s Blowfish needs (see ECOSYSTEM.md).
const OPENSSL_LEGACY: &str = "openssl_conf = openssl_init\n[openssl_init]\nproviders = provider_sect\n[provider_sect]\ndefault = default_sect\nlegacy = legacy_sect\n[default_sect]\nactivate = 1\n[legacy_sect]\nactivate = 1\n";

/// `Protocol 2,1`: `ssh1 -1` logs in with its RSA key and runs a command (output and
/// exit status), while an SSH-2 client logs in on the same port; the log says
/// `Accepted rsa for USER from ADDR port N ssh1`, as OpenSSH 7 did.
pub fn ssh1_and_ssh2_clients_on_one_port() {
    let s = start_v1("ssh1-both", &[]);
    // An SSH-2 session runs while the SSH-1 one does.
    let (out, ssh2) = std::thread::scope(|sc| {
        let h = sc.spawn(|| {
            s.ssh1(
                "3des",
                &["127.0.0.1", "sleep 1; echo one; echo two >&2; exit 3"],
                Input::Null,
            )
        });
        let ssh2 = s.server.ssh().run("sleep 0.5; echo during");
        (h.join().unwrap(), ssh2)
    });
    ssh2.assert_success();
    assert_eq!(ssh2.stdout_str(), "during\n");
    out.assert_code(3);
    assert_eq!(out.stdout_str(), "one\n");
    assert!(out.stderr.contains("two"), "{}", out.stderr);
    let user = s.server.user().to_string();
    s.server
        .assert_logged(&format!("Accepted rsa for {user} from 127.0.0.1 port "));
    s.server.assert_logged(" ssh1");
    let out = s.server.ssh().run("echo ssh2");
    out.assert_success();
    assert_eq!(out.stdout_str(), "ssh2\n");
}

/// Protocol 1's default ciphers carry 4 MiB each way intact: 3DES with `ssh1`,
/// 3DES and Blowfish with `plink -1`. (`ssh1 -c blowfish` cannot be used here: linked
/// with OpenSSL 3 it crashes in `BF_set_key` while setting up its own cipher, before
/// it reads a byte from the server.)
pub fn ssh1_transfers_with_3des_and_blowfish() {
    let s = start_v1("ssh1-transfer", &[]);
    let src = s.server.dir().join("src.bin");
    random_file(&src, 4);
    let sum = sha256_file(&src);
    let check = |label: &str, up: &Path, down: &Output| {
        down.assert_success();
        assert_eq!(sha256_file(up), sum, "{label} upload");
        assert_eq!(down.stdout.len(), 4 << 20, "{label} download");
        let file = s.server.dir().join(&format!("down-{label}.bin"));
        fs::write(&file, &down.stdout).unwrap();
        assert_eq!(sha256_file(&file), sum, "{label} download");
    };
    let up = s.server.dir().join("up-ssh1.bin");
    let cmd = format!("cat > {}", up.display());
    s.ssh1("3des", &["127.0.0.1", &cmd], Input::File(src.clone()))
        .assert_success();
    let cat = format!("cat {}", src.display());
    let down = s.ssh1("3des", &["127.0.0.1", &cat], Input::Null);
    check("ssh1-3des", &up, &down);
    for cipher in ["3des", "blowfish"] {
        let up = s.server.dir().join(&format!("up-plink-{cipher}.bin"));
        let cmd = format!("cat > {}", up.display());
        s.plink(cipher, &s.user_key, &cmd, Input::File(src.clone()))
            .assert_success();
        let down = s.plink(cipher, &s.user_key, &cat, Input::Null);
        check(&format!("plink-{cipher}"), &up, &down);
    }
}

/// A terminal (`-tt`): the shell runs on a PTY that says so.
pub fn ssh1_pty_shell() {
    let s = start_v1("ssh1-pty", &[]);
    let out = s.ssh1(
        "3des",
        &["-tt", "127.0.0.1"],
        Input::Bytes(b"tty; echo marker-$((6*7)); exit\n".to_vec()),
    );
    let text = out.stdout_str();
    assert!(text.contains("/dev/pts/"), "{text}\n{}", out.stderr);
    assert!(text.contains("marker-42"), "{text}");
}

/// `RSAAuthentication no`: RSA is not offered (the client, in batch mode, has no
/// password to give: "Permission denied"); with passwords off too, the server offers
/// nothing at all.
pub fn ssh1_rsa_authentication_no_refuses_keys() {
    let s = start_v1("ssh1-norsa", &["RSAAuthentication no"]);
    let out = s.ssh1("3des", &["127.0.0.1", "true"], Input::Null);
    assert_eq!(out.code, Some(255), "{}", out.stderr);
    assert!(out.stderr.contains("Permission denied"), "{}", out.stderr);
    assert!(
        !s.server.log().contains("Accepted rsa"),
        "{}",
        s.server.log()
    );
    drop(s);
    let s = start_v1(
        "ssh1-noauth",
        &["RSAAuthentication no", "PasswordAuthentication no"],
    );
    let out = s.ssh1("3des", &["127.0.0.1", "true"], Input::Null);
    assert_eq!(out.code, Some(255), "{}", out.stderr);
    assert!(
        out.stderr.contains("server supports no auth methods"),
        "{}",
        out.stderr
    );
}

/// Without `Protocol 2,1` an SSH-1 client is refused: "Protocol major versions
/// differ".
pub fn protocol_1_is_off_by_default() {
    let server = Server::start("ssh1-off");
    let mut cmd = Command::new("ssh1");
    cmd.args(["-1", "-F", "/dev/null", "-o", "BatchMode=yes", "-p"])
        .arg(server.port.to_string())
        .args(["127.0.0.1", "true"]);
    let out = run_bounded(cmd, Input::Null, None, CLIENT_TIMEOUT);
    assert_eq!(out.code, Some(255), "{}", out.stderr);
    assert!(
        out.stderr.contains("Protocol major versions differ"),
        "{}",
        out.stderr
    );
}

/// `ServerKeyBits 768`: the client is sent a 768-bit server key beside the 2048-bit
/// host key. `KeyRegenerationInterval 2`: once used and 2 s old, the listener makes a
/// new one in the background (logged as sshd did), and logins go on.
pub fn server_key_bits_and_its_regeneration() {
    let s = start_v1(
        "ssh1-server-key",
        &["ServerKeyBits 768", "KeyRegenerationInterval 2"],
    );
    s.server.assert_logged("Generating 768 bit RSA key.");
    let out = s.ssh1("3des", &["-v", "127.0.0.1", "true"], Input::Null);
    out.assert_success();
    assert!(
        out.stderr
            .contains("Received server public key (768 bits) and host key (2048 bits)."),
        "{}",
        out.stderr
    );
    let regenerated = s.server.wait_log_line(Duration::from_secs(20), |l| {
        l.contains("Generating new 768 bit RSA key.")
    });
    assert!(regenerated.is_some(), "{}", s.server.log());
    let done = s.server.wait_log_line(Duration::from_secs(60), |l| {
        l.contains("RSA key generation complete.")
            && s.server
                .log()
                .matches("RSA key generation complete.")
                .count()
                >= 2
    });
    assert!(done.is_some(), "{}", s.server.log());
    s.ssh1("3des", &["127.0.0.1", "true"], Input::Null)
        .assert_success();
}

/// PuTTY's `plink -1`: RSA with an `ssh-keygen1` key (exit status), and a key that
/// is not in authorized_keys refused.
pub fn plink_ssh1_rsa_and_a_refused_key() {
    let s = start_v1("ssh1-plink", &["PasswordAuthentication no"]);
    let out = s.plink(
        "3des",
        &s.user_key,
        "echo plink-$((40+2)); exit 7",
        Input::Null,
    );
    out.assert_code(7);
    assert_eq!(out.stdout_str(), "plink-42\n", "{}", out.stderr);
    let other = s.server.dir().join("other");
    rsa1_key(&other, 1024);
    let out = s.plink("3des", &other, "true", Input::Null);
    assert_ne!(out.code, Some(0), "{}", out.stderr);
    s.server.assert_logged("Accepted rsa for ");
}

/// The MD5 fingerprint `ssh-keygen1 -l` gives for an `rsa1` public key file
/// (`aa:bb:…`), as `plink -hostkey` takes it for protocol 1.
fn host_fingerprint(pub_file: &Path) -> String {
    let mut cmd = Command::new("ssh-keygen1");
    cmd.args(["-l", "-E", "md5", "-f"]).arg(pub_file);
    let out = run_bounded(cmd, Input::Null, None, Duration::from_secs(30));
    out.assert_success();
    let text = out.stdout_str();
    let fp = text.split_whitespace().nth(1).unwrap_or("").to_string();
    fp.trim_start_matches("MD5:").to_string()
}

/// Password authentication over protocol 1 (`plink -1 -pw`), through the same policy
/// as SSH-2's: the account's real hash, a wrong password refused, both logged in
/// OpenSSH 7's words for protocol 1.
pub fn ssh1_password_login_and_refusal() {
    const PASSWORD: &str = "correct horse 1";
    crate::common::ensure_account("sisupw1", &crate::common::AccountSpec::default());
    crate::common::set_password("sisupw1", PASSWORD, "YESCRYPT");
    let s = start_v1("ssh1-password", &[]);
    let args = |pw: &str| -> Vec<std::ffi::OsString> {
        vec!["-l".into(), "sisupw1".into(), "-pw".into(), pw.into()]
    };
    let out = s.plink_with("3des", &args(PASSWORD), "id -un", Input::Null);
    out.assert_success();
    assert_eq!(out.stdout_str(), "sisupw1\n");
    s.server
        .assert_logged("Accepted password for sisupw1 from 127.0.0.1 port ");
    let out = s.plink_with("blowfish", &args("wrong"), "true", Input::Null);
    assert_ne!(out.code, Some(0), "{}", out.stderr);
    s.server
        .assert_logged("Failed password for sisupw1 from 127.0.0.1 port ");
}

/// DES (single, broken) is offered to protocol 1 clients only when `Ciphers` names
/// it: `plink -1` set to accept nothing else gets it then, and is refused before.
pub fn ssh1_des_only_when_configured() {
    let des_only = |s: &V1Server| {
        let home = s.server.dir().join("plink-home");
        let sessions = home.join(".putty/sessions");
        fs::create_dir_all(&sessions).unwrap();
        fs::write(
            sessions.join("desonly"),
            "Cipher=des,WARN,3des,blowfish,aes,chacha20,arcfour\nSshProt=1\n",
        )
        .unwrap();
        let mut c = Command::new("plink");
        c.env("HOME", &home)
            .args(["-load", "desonly", "-v", "-1", "-batch", "-P"])
            .arg(s.server.port.to_string())
            .args(["-l", s.server.user(), "-i"])
            .arg(&s.user_key)
            .args(["-hostkey", &host_fingerprint(&s.host_pub)])
            .args(["127.0.0.1", "echo des-ok"]);
        run_bounded(c, Input::Null, None, CLIENT_TIMEOUT)
    };
    let s = start_v1("ssh1-nodes", &[]);
    let out = des_only(&s);
    assert_ne!(out.code, Some(0), "{}", out.stderr);
    assert!(out.stderr.contains("3DES"), "{}", out.stderr);
    drop(s);
    let s = start_v1("ssh1-des", &["Ciphers +3des,blowfish,des"]);
    let out = des_only(&s);
    out.assert_success();
    assert_eq!(out.stdout_str(), "des-ok\n");
    assert!(
        out.stderr.contains("Using single-DES encryption"),
        "{}",
        out.stderr
    );
}

/// A host key made by `puttygen -t rsa1`: `ssh1` checks it against the public line
/// `puttygen -L` printed, with StrictHostKeyChecking.
pub fn ssh1_host_key_made_by_puttygen() {
    let s = finish_v1(v1_builder_with("ssh1-puttygen", &[], puttygen_key));
    let out = s.ssh1("3des", &["127.0.0.1", "echo puttygen-key"], Input::Null);
    out.assert_success();
    assert_eq!(out.stdout_str(), "puttygen-key\n");
}

/// `Protocol 1` alone: the server says `SSH-1.5`, serves `ssh1`, and refuses an SSH-2
/// client ("Protocol major versions differ").
pub fn protocol_1_alone() {
    let s = start_v1("ssh1-only", &["Protocol 1"]);
    let out = s.ssh1("3des", &["-v", "127.0.0.1", "echo v1"], Input::Null);
    out.assert_success();
    assert_eq!(out.stdout_str(), "v1\n");
    assert!(
        out.stderr.contains("Remote protocol version 1.5"),
        "{}",
        out.stderr
    );
    let out = s.server.ssh().run("true");
    assert_eq!(out.code, Some(255), "{}", out.stderr);
    assert!(
        out.stderr.contains("Protocol major versions differ"),
        "{}",
        out.stderr
    );
}

/// Options of an SSH-1 authorized_keys line: `command=` runs instead of what the
/// client asked for, `no-pty` refuses the terminal.
pub fn ssh1_authorized_keys_options() {
    let s = start_v1("ssh1-options", &[]);
    let ak = s.server.dir().join("authorized_keys");
    let text = fs::read_to_string(&ak).unwrap();
    let text: String = text
        .lines()
        .map(|l| match l.strip_prefix("1024 ") {
            Some(rest) => {
                format!("command=\"echo forced:$SSH_ORIGINAL_COMMAND\",no-pty 1024 {rest}\n")
            }
            None => format!("{l}\n"),
        })
        .collect();
    fs::write(&ak, text).unwrap();
    let out = s.ssh1("3des", &["-tt", "127.0.0.1", "echo asked"], Input::Null);
    let text = out.stdout_str();
    assert!(text.contains("forced:echo asked"), "{text}\n{}", out.stderr);
    assert!(
        out.stderr.contains("refused to allocate a pseudo tty"),
        "{}",
        out.stderr
    );
}

/// Protocol 1 failures in OpenSSH 7's words: a wrong password and unknown RSA keys
/// (`Failed password|rsa for USER from ADDR port N ssh1`), `MaxAuthTries` ending the
/// connection, and Debian's fail2ban sshd filter counting the failures.
pub fn ssh1_failures_max_auth_tries_and_fail2ban() {
    let s = start_v1("ssh1-failures", &["MaxAuthTries 2"]);
    let user = s.server.user().to_string();
    let args: Vec<std::ffi::OsString> = vec![
        "-l".into(),
        user.clone().into(),
        "-pw".into(),
        "not the password".into(),
    ];
    let out = s.plink_with("3des", &args, "true", Input::Null);
    assert_ne!(out.code, Some(0), "{}", out.stderr);
    let mut keys = Vec::new();
    for i in 0..3 {
        let k = s.server.dir().join(&format!("unknown{i}"));
        rsa1_key(&k, 1024);
        keys.push(k);
    }
    // The user's own key is not offered: only the unknown ones, in turn.
    let keys: Vec<&Path> = keys.iter().map(PathBuf::as_path).collect();
    let cmd = s.ssh1_command_with("3des", &keys, &["127.0.0.1", "true"]);
    let out = run_bounded(cmd, Input::Null, None, CLIENT_TIMEOUT);
    assert_eq!(out.code, Some(255), "{}", out.stderr);
    s.server
        .assert_logged(&format!("Failed password for {user} from 127.0.0.1 port "));
    s.server
        .assert_logged(&format!("Failed rsa for {user} from 127.0.0.1 port "));
    s.server.assert_logged("Too many authentication failures");
    let log = crate::logs::as_syslog(&s.server);
    let filter = std::ffi::OsString::from(crate::logs::FAIL2BAN_SSHD_FILTER);
    let text = crate::logs::fail2ban_regex(&[log.as_os_str(), filter.as_os_str()]);
    let matched = crate::logs::fail2ban_matched(&text);
    assert!(
        matched >= 3,
        "fail2ban matched {matched} lines:\n{text}\n{}",
        s.server.log()
    );
}
