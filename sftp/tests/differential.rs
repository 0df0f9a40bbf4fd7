//! The same `sftp -b` batch run by OpenSSH's client against OpenSSH's sftp-server
//! and against this crate's (the `sftp_server` example, which `cargo test` builds):
//! the client's output, the server's VERBOSE log and the files left behind must be
//! the same. Runs where `sftp` and `/usr/lib/openssh/sftp-server` are installed
//! (and fails without them under `SISU_TEST_REQUIRE_PEERS`, as CI sets it).

use std::path::{Path, PathBuf};
use std::process::Command;

const OPENSSH_SERVER: &str = "/usr/lib/openssh/sftp-server";

const BATCH: &str = "pwd
ls
ls -l
ls -la sub
ls -l nonexistent
put LOCAL/up.bin
put LOCAL/up.bin sub/
get up.bin LOCAL/down.bin
get nothere
rename up.bin up2.bin
ln -s up2.bin slink
ln up2.bin hard
ln up2.bin hard
chmod 640 up2.bin
chmod 640 nothere
chgrp 0 up2.bin
mkdir newdir
mkdir newdir
rmdir newdir
rmdir sub
rm sub
cp up2.bin copied.bin
ls -l
rm hard
rm hard
reget up2.bin LOCAL/down.bin
reput LOCAL/up.bin up2.bin
df .
cd sub
pwd
cd ..
cd hello.txt
ls -l *.txt
symlink hello.txt sl2
ls -l sl2
get -p hello.txt LOCAL/h
put -p LOCAL/h h2
ls -l h2
";

fn have(p: &str) -> bool {
    Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {p}"))
        .output()
        .is_ok_and(|o| o.status.success())
}

fn example() -> PathBuf {
    // target/debug/deps/differential-* -> target/debug/examples/sftp_server
    let exe = std::env::current_exe().unwrap();
    exe.parent()
        .unwrap()
        .parent()
        .unwrap()
        .join("examples")
        .join("sftp_server")
}

fn setup(root: &Path) {
    let _ = std::fs::remove_dir_all(root);
    std::fs::create_dir_all(root.join("srv/sub")).unwrap();
    std::fs::create_dir_all(root.join("local")).unwrap();
    std::fs::write(root.join("local/up.bin"), vec![b'x'; 200_000]).unwrap();
    std::fs::write(root.join("srv/hello.txt"), b"hello\n").unwrap();
    std::fs::write(root.join("srv/sub/inner"), b"x\n").unwrap();
    std::os::unix::fs::symlink("hello.txt", root.join("srv/link")).unwrap();
    let old = "2020-01-02 03:04:05";
    let paths = [
        "srv/hello.txt",
        "srv/sub/inner",
        "srv/link",
        "srv/sub",
        "srv",
        "local/up.bin",
    ];
    let st = Command::new("touch")
        .arg("-h")
        .arg("-d")
        .arg(old)
        .args(paths.map(|p| root.join(p)))
        .status()
        .unwrap();
    assert!(st.success());
}

/// A line with its date column blanked (new files carry the time of the run) and
/// without the carriage return OpenSSH's stderr log adds.
fn normalize(line: &str) -> Option<String> {
    let line = line.trim_end_matches('\r');
    let t: Vec<&str> = line.split_whitespace().collect();
    // OpenSSH counts groups as users in this line; free space changes between runs.
    if line.starts_with("users-groups-by-id:") || (t.len() == 5 && t[4].ends_with('%')) {
        return None;
    }
    let is_ls = t.len() >= 9 && t[0].len() == 10 && "-dlcbps".contains(&t[0][..1]);
    if is_ls {
        return Some(format!(
            "{} {} DATE {}",
            t[..5].join(" "),
            t[0],
            t[8..].join(" ")
        ));
    }
    Some(line.to_string())
}

fn run(root: &Path, server: &str, extra: &str) -> Vec<String> {
    setup(root);
    let local = root.join("local");
    let batch = BATCH
        .lines()
        .map(|l| format!("-{}\n", l.replace("LOCAL", local.to_str().unwrap())))
        .collect::<String>();
    std::fs::write(root.join("batch"), batch).unwrap();
    let srv = root.join("srv");
    let cmd = format!("{server} -e -l VERBOSE -d {} {extra}", srv.display());
    let out = Command::new("sftp")
        .arg("-D")
        .arg(&cmd)
        .arg("-b")
        .arg(root.join("batch"))
        .output()
        .unwrap();
    let mut lines: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .chain(String::from_utf8_lossy(&out.stderr).lines())
        .map(|l| {
            l.strip_prefix("sftp_server[")
                .and_then(|r| r.split_once("]: "))
                .map_or(l, |(_, m)| m)
        })
        .filter_map(normalize)
        .collect();
    lines.push(format!("exit {:?}", out.status.code()));
    let mut files = Vec::new();
    let mut stack = vec![root.join("srv"), root.join("local")];
    while let Some(p) = stack.pop() {
        let m = std::fs::symlink_metadata(&p).unwrap();
        use std::os::unix::fs::PermissionsExt;
        files.push(format!(
            "{} {} {:o}",
            p.strip_prefix(root).unwrap().display(),
            m.len(),
            m.permissions().mode()
        ));
        if m.is_dir() {
            stack.extend(std::fs::read_dir(&p).unwrap().map(|e| e.unwrap().path()));
        }
    }
    files.sort();
    lines.extend(files);
    lines
}

#[test]
fn same_as_openssh_sftp_server() {
    if !have("sftp") || !Path::new(OPENSSH_SERVER).exists() {
        // CI installs both and says so: there a missing peer is a failure.
        assert!(
            std::env::var_os("SISU_TEST_REQUIRE_PEERS").is_none(),
            "needs sftp and {OPENSSH_SERVER}"
        );
        eprintln!("skipped: needs sftp and {OPENSSH_SERVER}");
        return;
    }
    let ours = example();
    assert!(ours.exists(), "{} not built", ours.display());
    let root = std::env::temp_dir().join(format!("sisu-sftp-diff-{}", std::process::id()));
    for extra in [
        "",
        "-R",
        "-u 077",
        "-P write,remove,posix-rename",
        "-p open,read,close,lstat,stat,realpath,opendir,readdir",
    ] {
        let theirs = run(&root, OPENSSH_SERVER, extra);
        let mine = run(&root, ours.to_str().unwrap(), extra);
        assert!(theirs.len() > 60, "the batch ran: {theirs:#?}");
        for (i, (a, b)) in theirs.iter().zip(&mine).enumerate() {
            assert_eq!(
                a,
                b,
                "options \"{extra}\", line {i}\nOpenSSH:\n{}\nours:\n{}",
                theirs.join("\n"),
                mine.join("\n")
            );
        }
        assert_eq!(theirs.len(), mine.len(), "options \"{extra}\"");
    }
    let _ = std::fs::remove_dir_all(&root);
}
