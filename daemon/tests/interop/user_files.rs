//! Files the server reads for a user (`authorized_keys`): a FIFO, a link to
//! `/dev/zero`, a link to someone else's file, a huge file and bad modes must neither
//! hang nor bloat the server, nor reveal another user's keys through PK_OK; the next
//! `AuthorizedKeysFile` entry is still read.

use crate::common::{test_user, Server};
use std::fs;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::Path;
use std::time::{Duration, Instant};

/// A refused file must not slow a login down noticeably.
const QUICK: Duration = Duration::from_secs(15);

fn mkfifo(path: &Path) {
    nix::unistd::mkfifo(path, nix::sys::stat::Mode::from_bits_truncate(0o644)).expect("mkfifo");
}

/// `AuthorizedKeysFile BAD GOOD`: the bad one is skipped, quickly, and the good one lets
/// the user in; then `AuthorizedKeysFile BAD` alone refuses without PK_OK.
fn bad_file_is_skipped(name: &str, make_bad: impl Fn(&Path)) -> Server {
    let p = Server::builder(name).prepare();
    let bad = p.dir.join("bad_keys");
    make_bad(&bad);
    let good = p.dir.join("authorized_keys");
    let mut text = fs::read_to_string(p.config_path()).unwrap();
    text = text.replace(
        &format!("AuthorizedKeysFile {}", good.display()),
        &format!("AuthorizedKeysFile {} {}", bad.display(), good.display()),
    );
    fs::write(p.config_path(), text).unwrap();
    let server = p.start();
    let t = Instant::now();
    let out = server.ssh().run("echo in");
    assert_eq!(out.stdout_str(), "in\n", "{}", out.stderr);
    assert!(t.elapsed() < QUICK, "took {:?}", t.elapsed());
    server
}

pub fn fifo_authorized_keys_neither_hangs_nor_blocks_the_next_file() {
    let server = bad_file_is_skipped("ak-fifo", mkfifo);
    assert!(
        server
            .wait_log_line(Duration::from_secs(5), |l| l
                .contains("is not a regular file"))
            .is_some(),
        "{}",
        server.log()
    );
}

pub fn link_to_dev_zero_is_refused_at_once() {
    bad_file_is_skipped("ak-zero", |p| symlink("/dev/zero", p).unwrap());
}

/// A huge file (over Sisu's 4 MiB cap) is refused whole, the key at its end unused.
pub fn oversized_authorized_keys_is_refused_whole() {
    let server = bad_file_is_skipped("ak-huge", |p| {
        let mut big = "# padding padding padding padding padding padding\n".repeat(100_000);
        big.push_str(&fs::read_to_string(p.with_file_name("id_ed25519.pub")).unwrap());
        fs::write(p, big).unwrap();
        fs::set_permissions(p, fs::Permissions::from_mode(0o644)).unwrap();
    });
    // Only the good file could have let the user in; and the log says why.
    assert!(
        server
            .wait_log_line(Duration::from_secs(5), |l| l.contains("is longer than"))
            .is_some(),
        "{}",
        server.log()
    );
}

/// The user's `authorized_keys` is a link to a file the user may not read (another
/// account's, here root's, mode 0600) holding the client's key: no login, and no
/// PK_OK that would tell the user the key is in there.
pub fn link_to_another_users_file_reveals_nothing() {
    let p = Server::builder("ak-other").prepare();
    let theirs = p.dir.join("root-only");
    fs::create_dir(&theirs).unwrap();
    fs::set_permissions(&theirs, fs::Permissions::from_mode(0o700)).unwrap();
    nix::unistd::chown(&theirs, Some(0.into()), Some(0.into())).unwrap();
    let their_keys = theirs.join("authorized_keys");
    fs::copy(p.dir.join("authorized_keys"), &their_keys).unwrap();
    fs::set_permissions(&their_keys, fs::Permissions::from_mode(0o600)).unwrap();
    let mine = p.dir.join("authorized_keys");
    fs::remove_file(&mine).unwrap();
    symlink(&their_keys, &mine).unwrap();
    let via = p.dir.join("via");
    symlink(&theirs, &via).unwrap();
    let server = p.start();
    for _ in 0..2 {
        let out = server.ssh().arg("-v").run("true");
        assert_eq!(out.code, Some(255), "{}", out.stderr);
        assert!(!out.stderr.contains("Server accepts key"), "{}", out.stderr);
    }
    // The same through a linked directory: then the last component is no link at all,
    // and only reading as the user keeps root's file closed.
    let p2 = Server::builder("ak-other-dir").prepare();
    fs::copy(p2.dir.join("id_ed25519.pub"), &their_keys).unwrap();
    let text = fs::read_to_string(p2.config_path()).unwrap().replace(
        &format!(
            "AuthorizedKeysFile {}",
            p2.dir.join("authorized_keys").display()
        ),
        &format!(
            "AuthorizedKeysFile {}",
            via.join("authorized_keys").display()
        ),
    );
    fs::write(p2.config_path(), text).unwrap();
    let server2 = p2.start();
    let out = server2.ssh().arg("-v").run("true");
    assert_eq!(out.code, Some(255), "{}", out.stderr);
    assert!(!out.stderr.contains("Server accepts key"), "{}", out.stderr);
    drop(server2);
    drop(server);
}

/// `StrictModes yes`: a world-writable `authorized_keys` under the user's home is
/// refused with OpenSSH's line; once fixed it is used.
pub fn strict_modes_refuses_a_world_writable_file() {
    let user = test_user();
    let home = nix::unistd::User::from_name(&user).unwrap().unwrap().dir;
    let sub = home.join(format!(".sisu-strict-{}", std::process::id()));
    let _ = fs::remove_dir_all(&sub);
    fs::create_dir(&sub).unwrap();
    let u = nix::unistd::User::from_name(&user).unwrap().unwrap();
    nix::unistd::chown(&sub, Some(u.uid), Some(u.gid)).unwrap();
    fs::set_permissions(&sub, fs::Permissions::from_mode(0o700)).unwrap();
    let keys = sub.join("authorized_keys");
    let p = Server::builder("strict-modes").prepare();
    // The harness's first StrictModes line wins: put ours first.
    let text = fs::read_to_string(p.config_path()).unwrap();
    let text = format!(
        "StrictModes yes\nAuthorizedKeysFile {}\n{}",
        keys.display(),
        text
    );
    fs::write(p.config_path(), text).unwrap();
    fs::copy(p.dir.join("authorized_keys"), &keys).unwrap();
    nix::unistd::chown(&keys, Some(u.uid), Some(u.gid)).unwrap();
    fs::set_permissions(&keys, fs::Permissions::from_mode(0o666)).unwrap();
    let server = p.start();
    let out = server.ssh().run("true");
    assert_eq!(out.code, Some(255), "{}", out.stderr);
    assert!(
        server
            .wait_log_line(Duration::from_secs(5), |l| l
                .contains("Authentication refused: bad ownership or modes for file"))
            .is_some(),
        "{}",
        server.log()
    );
    fs::set_permissions(&keys, fs::Permissions::from_mode(0o600)).unwrap();
    let out = server.ssh().run("echo in");
    assert_eq!(out.stdout_str(), "in\n", "{}", out.stderr);
    let _ = fs::remove_dir_all(&sub);
}
