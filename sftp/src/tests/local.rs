//! `LocalFs` and `serve` in a temporary directory. These tests share the process's
//! current directory and umask, so they take a lock.

use super::*;
use crate::attrs::{S_IFDIR, S_IFMT, S_IFREG};
use crate::ext::ExtRequest;
use crate::local::LocalFs;
use crate::serve::{serve, ServeError};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

static LOCK: Mutex<()> = Mutex::new(());

/// A unique temporary directory, removed on drop, holding the lock.
struct Temp {
    path: PathBuf,
    _lock: MutexGuard<'static, ()>,
}

impl Temp {
    fn new(name: &str) -> Temp {
        let lock = LOCK.lock().unwrap_or_else(|e| e.into_inner());
        let path = std::env::temp_dir().join(format!("sisu-sftp-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap();
        // Canonical, so REALPATH answers compare equal.
        let path = path.canonicalize().unwrap();
        Temp { path, _lock: lock }
    }
    fn p(&self, rel: &str) -> String {
        format!("{}/{rel}", self.path.display())
    }
}

impl Drop for Temp {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

fn local(args: &[&str]) -> Client<LocalFs> {
    Client::with(LocalFs::new(), opts(args))
}

#[test]
fn local_open_read_write_stat_readdir() {
    let t = Temp::new("rw");
    let mut c = local(&[]);
    let f = t.p("f.txt");
    let h = c
        .open(
            &f,
            pflags::READ | pflags::WRITE | pflags::CREAT | pflags::EXCL,
        )
        .unwrap();
    assert_eq!(c.write(&h, 0, b"hello world"), StatusCode::Ok);
    assert_eq!(c.read(&h, 6, 100).unwrap(), b"world");
    assert_eq!(c.read(&h, 11, 100), Err(StatusCode::Eof));
    let id = c.id();
    let Response::Attrs { attrs, .. } = c.call(Request::Fstat {
        id,
        handle: h.clone(),
    }) else {
        panic!()
    };
    assert_eq!(attrs.size, Some(11));
    assert_eq!(c.close(&h), StatusCode::Ok);
    assert_eq!(std::fs::read(&f).unwrap(), b"hello world");
    assert_eq!(
        c.open(&f, pflags::WRITE | pflags::CREAT | pflags::EXCL),
        Err(StatusCode::Failure)
    );
    assert_eq!(
        c.open(&t.p("missing"), pflags::READ),
        Err(StatusCode::NoSuchFile)
    );
    // APPEND ignores the offset.
    let h = c.open(&f, pflags::WRITE | pflags::APPEND).unwrap();
    assert_eq!(c.write(&h, 0, b"!"), StatusCode::Ok);
    c.close(&h);
    assert_eq!(std::fs::read(&f).unwrap(), b"hello world!");
    let st = c.stat(&f).unwrap();
    assert_eq!(st.size, Some(12));
    assert_eq!(st.permissions.unwrap() & S_IFMT, S_IFREG);
    // SETSTAT: size, mode, times.
    let id = c.id();
    let attrs = Attrs {
        size: Some(5),
        permissions: Some(0o600),
        times: Some((1000, 2000)),
        ..Attrs::default()
    };
    assert_eq!(
        c.status(Request::Setstat {
            id,
            path: f.clone().into(),
            attrs
        }),
        StatusCode::Ok
    );
    let m = std::fs::metadata(&f).unwrap();
    assert_eq!(m.len(), 5);
    assert_eq!(m.permissions().mode() & 0o7777, 0o600);
    assert_eq!(std::os::unix::fs::MetadataExt::mtime(&m), 2000);
    // MKDIR, READDIR with "." and "..".
    let id = c.id();
    let attrs = Attrs {
        permissions: Some(0o700),
        ..Attrs::default()
    };
    assert_eq!(
        c.status(Request::Mkdir {
            id,
            path: t.p("d").into(),
            attrs
        }),
        StatusCode::Ok
    );
    assert_eq!(
        c.stat(&t.p("d")).unwrap().permissions.unwrap() & (S_IFMT | 0o777),
        S_IFDIR | 0o700
    );
    let id = c.id();
    let Response::Handle { handle, .. } = c.call(Request::Opendir {
        id,
        path: t.path.to_str().unwrap().into(),
    }) else {
        panic!()
    };
    let id = c.id();
    let Response::Name { entries, .. } = c.call(Request::Readdir {
        id,
        handle: handle.clone(),
    }) else {
        panic!()
    };
    let mut names: Vec<String> = entries
        .iter()
        .map(|e| String::from_utf8(e.filename.clone()).unwrap())
        .collect();
    names.sort();
    assert_eq!(names, [".", "..", "d", "f.txt"]);
    let fl = entries.iter().find(|e| e.filename == b"f.txt").unwrap();
    assert!(
        fl.longname.starts_with(b"-rw-------    1 "),
        "{}",
        String::from_utf8_lossy(&fl.longname)
    );
    assert!(fl.longname.ends_with(b" f.txt"));
    let id = c.id();
    assert_eq!(
        c.status(Request::Readdir {
            id,
            handle: handle.clone()
        }),
        StatusCode::Eof
    );
    assert_eq!(c.close(&handle), StatusCode::Ok);
    let id = c.id();
    assert_eq!(
        c.status(Request::Rmdir {
            id,
            path: t.p("d").into()
        }),
        StatusCode::Ok
    );
    let id = c.id();
    assert_eq!(
        c.status(Request::Remove {
            id,
            path: f.clone().into()
        }),
        StatusCode::Ok
    );
    assert!(!Path::new(&f).exists());
}

#[test]
fn local_rename_links_and_statvfs() {
    let t = Temp::new("ren");
    let mut c = local(&[]);
    std::fs::write(t.p("a"), b"A").unwrap();
    std::fs::write(t.p("b"), b"B").unwrap();
    let id = c.id();
    assert_eq!(
        c.status(Request::Rename {
            id,
            old: t.p("a").into(),
            new: t.p("b").into()
        }),
        StatusCode::Failure
    );
    assert_eq!(std::fs::read(t.p("b")).unwrap(), b"B");
    let id = c.id();
    assert_eq!(
        c.status(Request::Rename {
            id,
            old: t.p("a").into(),
            new: t.p("c").into()
        }),
        StatusCode::Ok
    );
    assert!(!Path::new(&t.p("a")).exists());
    assert_eq!(std::fs::read(t.p("c")).unwrap(), b"A");
    let e = ExtRequest::PosixRename {
        old: t.p("c").into(),
        new: t.p("b").into(),
    };
    assert_eq!(c.ext_status(e), StatusCode::Ok);
    assert_eq!(std::fs::read(t.p("b")).unwrap(), b"A");
    let e = ExtRequest::Hardlink {
        old: t.p("b").into(),
        new: t.p("h").into(),
    };
    assert_eq!(c.ext_status(e), StatusCode::Ok);
    assert_eq!(
        std::os::unix::fs::MetadataExt::nlink(&std::fs::metadata(t.p("h")).unwrap()),
        2
    );
    // SYMLINK in OpenSSH order, READLINK, REALPATH through it.
    let id = c.id();
    assert_eq!(
        c.status(Request::Symlink {
            id,
            target: b"b".to_vec(),
            link: t.p("s").into()
        }),
        StatusCode::Ok
    );
    assert_eq!(std::fs::read_link(t.p("s")).unwrap(), Path::new("b"));
    let id = c.id();
    assert_eq!(
        c.name(Request::Readlink {
            id,
            path: t.p("s").into()
        }),
        Ok("b".into())
    );
    let id = c.id();
    assert_eq!(
        c.name(Request::Realpath {
            id,
            path: t.p("s").into()
        }),
        Ok(t.p("b"))
    );
    let id = c.id();
    let Response::Attrs { attrs, .. } = c.call(Request::Lstat {
        id,
        path: t.p("s").into(),
    }) else {
        panic!()
    };
    assert_eq!(attrs.permissions.unwrap() & S_IFMT, crate::attrs::S_IFLNK);
    // lsetstat on the link: times only (Linux has no lchmod).
    let e = ExtRequest::Lsetstat {
        path: t.p("s").into(),
        attrs: Attrs {
            times: Some((5, 6)),
            ..Attrs::default()
        },
    };
    assert_eq!(c.ext_status(e), StatusCode::Ok);
    let lm = std::fs::symlink_metadata(t.p("s")).unwrap();
    assert_eq!(std::os::unix::fs::MetadataExt::mtime(&lm), 6);
    // statvfs and fstatvfs agree on the filesystem.
    let Response::ExtendedReply { data, .. } = c.ext(ExtRequest::Statvfs {
        path: t.path.to_str().unwrap().into(),
    }) else {
        panic!()
    };
    assert_eq!(data.len(), 88);
    let bsize = u64::from_be_bytes(data[..8].try_into().unwrap());
    assert!(bsize > 0);
    let h = c.open(&t.p("b"), pflags::READ).unwrap();
    let Response::ExtendedReply { data: fdata, .. } =
        c.ext(ExtRequest::Fstatvfs { handle: h.clone() })
    else {
        panic!()
    };
    assert_eq!(fdata[..16], data[..16]);
    assert_eq!(
        c.ext_status(ExtRequest::Fsync { handle: h.clone() }),
        StatusCode::Ok
    );
    // copy-data between two files.
    let w = c.open(&t.p("copy"), pflags::WRITE | pflags::CREAT).unwrap();
    let e = ExtRequest::CopyData {
        from: h,
        from_offset: 0,
        len: 0,
        to: w.clone(),
        to_offset: 3,
    };
    assert_eq!(c.ext_status(e), StatusCode::Ok);
    c.close(&w);
    assert_eq!(std::fs::read(t.p("copy")).unwrap(), b"\0\0\0A");
}

#[test]
fn local_read_only_and_lists() {
    let t = Temp::new("ro");
    std::fs::write(t.p("a"), b"A").unwrap();
    let mut c = local(&["-R"]);
    assert_eq!(
        c.open(&t.p("a"), pflags::WRITE),
        Err(StatusCode::PermissionDenied)
    );
    assert_eq!(
        c.open(&t.p("new"), pflags::READ | pflags::CREAT),
        Err(StatusCode::PermissionDenied)
    );
    let id = c.id();
    assert_eq!(
        c.status(Request::Remove {
            id,
            path: t.p("a").into()
        }),
        StatusCode::PermissionDenied
    );
    assert!(Path::new(&t.p("a")).exists() && !Path::new(&t.p("new")).exists());
    let h = c.open(&t.p("a"), pflags::READ).unwrap();
    assert_eq!(c.read(&h, 0, 10).unwrap(), b"A");

    let mut c = local(&["-P", "mkdir"]);
    let id = c.id();
    let r = Request::Mkdir {
        id,
        path: t.p("d").into(),
        attrs: Attrs::default(),
    };
    assert_eq!(c.status(r), StatusCode::PermissionDenied);
    assert!(!Path::new(&t.p("d")).exists());
    let mut c = local(&["-p", "stat"]);
    assert!(c.stat(&t.p("a")).is_ok());
    assert_eq!(
        c.open(&t.p("a"), pflags::READ),
        Err(StatusCode::PermissionDenied)
    );
}

fn session(reqs: &[Request]) -> Vec<u8> {
    let mut input = Request::Init { version: 3 }.frame();
    for r in reqs {
        input.extend_from_slice(&r.frame());
    }
    input
}

fn replies(out: &[u8]) -> Vec<Response> {
    let (frames, used) = Response::split_frames(out);
    assert_eq!(used, out.len());
    frames.iter().map(|f| Response::parse(f).unwrap()).collect()
}

#[test]
fn serve_with_start_directory_and_umask() {
    let t = Temp::new("serve");
    std::fs::create_dir(t.p("ann")).unwrap();
    let old_cwd = std::env::current_dir().unwrap();
    let home = t.path.to_str().unwrap().to_string();
    let args: Vec<String> = ["-d", "%d/%u", "-u", "077", "-l", "INFO"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let o = Options::parse(&args)
        .unwrap()
        .with_session("ann", 1000, &home, "192.0.2.7");
    let input = session(&[
        Request::Realpath {
            id: 1,
            path: b".".to_vec(),
        },
        Request::Open {
            id: 2,
            path: b"up.txt".to_vec(),
            pflags: pflags::WRITE | pflags::CREAT,
            attrs: Attrs {
                permissions: Some(0o666),
                ..Attrs::default()
            },
        },
    ]);
    let mut out = Vec::new();
    let mut logs = Vec::new();
    let r = serve(&input[..], &mut out, &o, |_: Level, l: &str| {
        logs.push(l.to_string())
    });
    let cwd = std::env::current_dir().unwrap();
    std::env::set_current_dir(&old_cwd).unwrap();
    let prev = nix::sys::stat::umask(nix::sys::stat::Mode::from_bits_truncate(0o022));
    assert!(r.is_ok(), "{r:?}");
    assert_eq!(cwd, Path::new(&t.p("ann")));
    assert_eq!(prev.bits() & 0o777, 0o077, "-u sets the process umask");
    let rs = replies(&out);
    assert_eq!(rs.len(), 3);
    assert!(matches!(&rs[0], Response::Version { version: 3, .. }));
    let Response::Name { entries, .. } = &rs[1] else {
        panic!("{:?}", rs[1])
    };
    assert_eq!(entries[0].filename, t.p("ann").into_bytes());
    assert!(matches!(&rs[2], Response::Handle { id: 2, .. }));
    let mode = std::fs::metadata(t.p("ann/up.txt"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    assert_eq!(
        logs.first().map(String::as_str),
        Some("session opened for local user ann from [192.0.2.7]")
    );
    assert!(logs.contains(&"open \"up.txt\" flags WRITE,CREATE mode 0666".to_string()));
    assert!(logs.contains(&"forced close \"up.txt\" bytes read 0 written 0".to_string()));
    assert_eq!(
        logs.last().map(String::as_str),
        Some("session closed for local user ann from [192.0.2.7]")
    );
}

/// More reads queued at once than fit under the output high-water mark: every one is
/// answered before the next input is read (a client waiting for those replies sends
/// nothing more, so reading first would hang).
#[test]
fn serve_answers_every_queued_read_past_the_high_water_mark() {
    let t = Temp::new("queued");
    let size = 64 * 32 * 1024;
    std::fs::write(t.p("big"), vec![7u8; size]).unwrap();
    let mut reqs = vec![Request::Open {
        id: 1,
        path: t.p("big").into_bytes(),
        pflags: pflags::READ,
        attrs: Attrs::default(),
    }];
    for i in 0..64u32 {
        reqs.push(Request::Read {
            id: 2 + i,
            handle: 0u32.to_be_bytes().to_vec(),
            offset: u64::from(i) * 32 * 1024,
            len: 32 * 1024,
        });
    }
    let input = session(&reqs);
    assert!(input.len() < 16 * 1024, "all requests arrive in one read");
    const { assert!(64 * 32 * 1024 > crate::OUTPUT_HIGH_WATER) };
    let mut out = Vec::new();
    serve(&input[..], &mut out, &opts(&[]), crate::NullSink).unwrap();
    let rs = replies(&out);
    assert!(
        matches!(&rs[1], Response::Handle { id: 1, .. }),
        "{:?}",
        rs[1]
    );
    let data: Vec<u32> = rs
        .iter()
        .filter_map(|r| match r {
            Response::Data { id, data } if data.len() == 32 * 1024 => Some(*id),
            _ => None,
        })
        .collect();
    assert_eq!(data, (2..66).collect::<Vec<u32>>());
}

#[test]
fn serve_fatal_error_and_bad_start_directory() {
    let _t = Temp::new("fatal");
    let o = opts(&["-l", "INFO"]);
    let mut input = Request::Init { version: 3 }.frame();
    input.extend_from_slice(&0x0100_0000u32.to_be_bytes());
    let mut out = Vec::new();
    let mut logs = Vec::new();
    let r = serve(&input[..], &mut out, &o, |_: Level, l: &str| {
        logs.push(l.to_string())
    });
    let Err(e @ ServeError::Protocol(Error::PacketTooLong(_))) = r else {
        panic!("{r:?}")
    };
    assert_eq!(e.exit_code(), 11);
    assert_eq!(replies(&out).len(), 1, "VERSION was still sent");
    assert!(logs.contains(&"bad message from 192.0.2.7 local user ann".to_string()));
    assert_eq!(
        logs.last().map(String::as_str),
        Some("session closed for local user ann from [192.0.2.7]")
    );
    // A start directory that does not exist is logged and the session goes on.
    let old = std::env::current_dir().unwrap();
    let o = opts(&["-d", "/nonexistent/sisu-sftp", "-l", "ERROR"]);
    let mut logs = Vec::new();
    let mut out = Vec::new();
    let input = session(&[Request::Stat {
        id: 1,
        path: b"/".to_vec(),
    }]);
    assert!(serve(&input[..], &mut out, &o, |_: Level, l: &str| logs
        .push(l.to_string()))
    .is_ok());
    assert_eq!(std::env::current_dir().unwrap(), old);
    assert_eq!(replies(&out).len(), 2);
    assert!(
        logs[0].starts_with("chdir to \"/nonexistent/sisu-sftp\" failed: "),
        "{logs:?}"
    );
    // An expansion error ends the session before any reply.
    let o = opts(&["-d", "~bob"]);
    let r = serve(&input[..], &mut Vec::new(), &o, crate::NullSink);
    assert!(matches!(
        r,
        Err(ServeError::Options(crate::OptionsError::UnknownUser(_)))
    ));
}
