//! `internal-sftp`: the SFTP server inside the daemon, with OpenSSH's `sftp` and `scp`
//! (SFTP mode) inside a ChrootDirectory that holds no files but the user's, with
//! `ForceCommand internal-sftp`, its `-R` option, and paramiko's and AsyncSSH's SFTP
//! clients.

use crate::common::{random_file, run_bounded, sha256_file, test_user, Input, Server};
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

fn sftp_batch(server: &Server, batch: &str) -> crate::common::Output {
    let file = server.dir().join("batch");
    fs::write(&file, batch).unwrap();
    let mut cmd = Command::new("sftp");
    cmd.args(server.client_options(server.client_key()))
        .arg("-P")
        .arg(server.port.to_string())
        .arg("-b")
        .arg(&file)
        .arg(format!("{}@127.0.0.1", server.user()));
    run_bounded(cmd, Input::Null, None, Duration::from_secs(60))
}

/// A root-owned, empty jail with one directory the user owns.
fn jail(server_dir: &Path) -> std::path::PathBuf {
    let jail = Path::new("/run").join(format!("sisu-sftp-jail-{}", std::process::id()));
    let _ = fs::remove_dir_all(&jail);
    fs::create_dir_all(jail.join("upload")).unwrap();
    fs::set_permissions(&jail, fs::Permissions::from_mode(0o755)).unwrap();
    let u = nix::unistd::User::from_name(&test_user()).unwrap().unwrap();
    nix::unistd::chown(&jail.join("upload"), Some(u.uid), Some(u.gid)).unwrap();
    let _ = server_dir;
    jail
}

/// `ForceCommand internal-sftp` inside an empty ChrootDirectory: `sftp` puts, lists,
/// renames and gets, `scp` copies both ways, a shell is not to be had, and the files
/// land in the jail.
pub fn internal_sftp_in_an_empty_chroot() {
    let probe = Server::start("sftp-jail-probe");
    let jail = jail(probe.dir().path());
    drop(probe);
    let user = test_user();
    let server = Server::builder("sftp-jail")
        .config("Subsystem sftp internal-sftp")
        .config(&format!(
            "Match User {user}\n  ChrootDirectory {}\n  ForceCommand internal-sftp -l INFO",
            jail.display()
        ))
        .start();
    let d = server.dir();
    let src = d.join("src.bin");
    random_file(&src, 3);
    let out = sftp_batch(
        &server,
        &format!(
            "cd /upload\nput {s} a.bin\nrename a.bin b.bin\nmkdir sub\nls -l\nget b.bin {d}/back.bin\ndf\n",
            s = src.display(),
            d = d.path().display()
        ),
    );
    out.assert_success();
    let listing = out.stdout_str();
    assert!(
        listing.contains("b.bin") && listing.contains("sub"),
        "{listing}"
    );
    let sum = sha256_file(&src);
    assert_eq!(sha256_file(&jail.join("upload/b.bin")), sum);
    assert_eq!(sha256_file(&d.join("back.bin")), sum);
    assert!(jail.join("upload/sub").is_dir());
    // scp speaks SFTP by default (OpenSSH 9).
    let mut scp = Command::new("scp");
    scp.args(server.client_options(server.client_key()))
        .arg("-P")
        .arg(server.port.to_string())
        .arg(&src)
        .arg(format!("{user}@127.0.0.1:/upload/scp.bin"));
    run_bounded(scp, Input::Null, None, Duration::from_secs(60)).assert_success();
    assert_eq!(sha256_file(&jail.join("upload/scp.bin")), sum);
    // The forced command serves SFTP whatever is asked: no shell.
    let out = server.ssh().run("echo shell");
    assert_ne!(out.stdout_str(), "shell\n");
    // Its transfer log (`-l INFO`) joins the daemon's. (OpenSSH's chrooted
    // internal-sftp has no log socket in the jail, so this is Sisu's alone.)
    if server.kind() == crate::common::ServerKind::Sisu {
        server.assert_logged("open \"/upload/a.bin\"");
    }
    let _ = fs::remove_dir_all(&jail);
}

/// `internal-sftp -R`: reading works, every change is refused.
pub fn internal_sftp_read_only() {
    let server = Server::builder("sftp-ro")
        .config("Subsystem sftp internal-sftp -R")
        .start();
    let d = server.dir();
    let src = d.join("src.bin");
    random_file(&src, 1);
    let out = sftp_batch(
        &server,
        &format!(
            "get {s} {d}/copy.bin\n",
            s = src.display(),
            d = d.path().display()
        ),
    );
    out.assert_success();
    assert_eq!(sha256_file(&d.join("copy.bin")), sha256_file(&src));
    let out = sftp_batch(
        &server,
        &format!(
            "put {s} {d}/new.bin\n",
            s = src.display(),
            d = d.path().display()
        ),
    );
    assert_ne!(out.code, Some(0));
    assert!(out.stderr.contains("ermission denied"), "{}", out.stderr);
    assert!(!d.join("new.bin").exists());
}

/// paramiko's and AsyncSSH's SFTP clients: put, stat, listdir, rename, get, remove;
/// AsyncSSH also the OpenSSH extensions (statvfs, posix-rename, hardlink).
pub fn python_sftp_clients() {
    let server = Server::builder("sftp-python")
        .config("Subsystem sftp internal-sftp")
        .start();
    let d = server.dir();
    let paramiko = r#"
import sys, paramiko
port, user, key, kh, d = sys.argv[1:6]
c = paramiko.SSHClient()
c.load_host_keys(kh)
c.connect("127.0.0.1", port=int(port), username=user, key_filename=key,
          look_for_keys=False, allow_agent=False, timeout=20)
s = c.open_sftp()
s.putfo(__import__("io").BytesIO(b"p" * 100000), d + "/p.bin")
assert s.stat(d + "/p.bin").st_size == 100000
assert "p.bin" in s.listdir(d)
s.posix_rename(d + "/p.bin", d + "/q.bin")
data = s.open(d + "/q.bin").read()
assert data == b"p" * 100000
s.remove(d + "/q.bin")
print("paramiko-sftp-ok")
"#;
    let asyncssh = r#"
import asyncio, sys, asyncssh
port, user, key, kh, d = sys.argv[1:6]
async def main():
    async with asyncssh.connect("127.0.0.1", port=int(port), username=user,
            client_keys=[key], known_hosts=kh, agent_path=None, config=[],
            login_timeout=20) as conn:
        async with conn.start_sftp_client() as s:
            async with s.open(d + "/a.bin", "wb") as f:
                await f.write(b"a" * 70000)
            await s.posix_rename(d + "/a.bin", d + "/b.bin")
            await s.link(d + "/b.bin", d + "/c.bin")
            assert (await s.stat(d + "/c.bin")).size == 70000
            v = await s.statvfs(d)
            assert v.bsize > 0
            assert sorted(n for n in await s.listdir(d) if n.endswith(".bin")) == ["b.bin", "c.bin"]
            async with s.open(d + "/c.bin", "rb") as f:
                assert await f.read() == b"a" * 70000
            print("asyncssh-sftp-ok")
asyncio.run(main())
"#;
    for (script, want) in [
        (paramiko, "paramiko-sftp-ok"),
        (asyncssh, "asyncssh-sftp-ok"),
    ] {
        let out = crate::background::python_peer(&server, script, &[d.path().as_os_str()]);
        out.assert_success();
        assert_eq!(out.stdout_str().trim(), want, "{}", out.stderr);
    }
}
