//! Every version 3 request through the server over `MemFs`.

use super::*;
use crate::attrs::{S_IFDIR, S_IFLNK, S_IFREG};
use crate::message::NameEntry;

const RW: u32 = pflags::READ | pflags::WRITE;
const CREATE: u32 = pflags::WRITE | pflags::CREAT | pflags::TRUNC;

#[test]
fn open_flags() {
    let mut c = Client::new();
    assert_eq!(c.open("missing", pflags::READ), Err(StatusCode::NoSuchFile));
    let h = c.open("new.txt", CREATE).unwrap();
    assert_eq!(c.write(&h, 0, b"abc"), StatusCode::Ok);
    assert_eq!(
        c.read(&h, 0, 10),
        Err(StatusCode::NoSuchFile),
        "write-only handle: EBADF"
    );
    assert_eq!(c.close(&h), StatusCode::Ok);
    assert_eq!(
        c.server
            .filesystem()
            .read_file(b"/home/ann/new.txt")
            .unwrap(),
        b"abc"
    );
    // EXCL on an existing file.
    assert_eq!(
        c.open("new.txt", CREATE | pflags::EXCL),
        Err(StatusCode::Failure)
    );
    // TRUNC empties; APPEND writes at the end whatever the offset.
    let h = c.open("a.txt", pflags::WRITE | pflags::APPEND).unwrap();
    assert_eq!(c.write(&h, 0, b"AB"), StatusCode::Ok);
    c.close(&h);
    assert_eq!(
        c.server.filesystem().read_file(b"/home/ann/a.txt").unwrap(),
        b"0123456789AB"
    );
    let h = c.open("a.txt", pflags::WRITE | pflags::TRUNC).unwrap();
    c.close(&h);
    assert_eq!(c.stat("a.txt").unwrap().size, Some(0));
    // Permissions from the attrs.
    let id = c.id();
    let attrs = Attrs {
        permissions: Some(0o600),
        ..Attrs::default()
    };
    let req = Request::Open {
        id,
        path: b"p".to_vec(),
        pflags: CREATE,
        attrs,
    };
    assert!(matches!(c.call(req), Response::Handle { .. }));
    assert_eq!(c.stat("p").unwrap().permissions, Some(S_IFREG | 0o600));
    assert!(c.has_log(
        Level::Info,
        "open \"p\" flags WRITE,CREATE,TRUNCATE mode 0600"
    ));
    // Opening a directory for writing.
    assert_eq!(c.open("/home", RW), Err(StatusCode::Failure));
}

#[test]
fn read_write_close() {
    let mut c = Client::new();
    let h = c.open("a.txt", RW).unwrap();
    assert_eq!(c.read(&h, 2, 3).unwrap(), b"234");
    assert_eq!(c.read(&h, 8, 100).unwrap(), b"89");
    assert_eq!(c.read(&h, 10, 100), Err(StatusCode::Eof));
    assert_eq!(c.read(&h, u64::MAX, 1), Err(StatusCode::Eof));
    assert_eq!(c.read(&h, 0, 0).unwrap(), b"");
    assert_eq!(c.write(&h, 12, b"xy"), StatusCode::Ok);
    assert_eq!(c.read(&h, 9, 10).unwrap(), b"9\0\0xy");
    assert_eq!(c.close(&h), StatusCode::Ok);
    assert!(c.has_log(Level::Info, "close \"a.txt\" bytes read 10 written 2"));
    // A closed or made-up handle.
    assert_eq!(c.close(&h), StatusCode::NoSuchFile);
    assert_eq!(c.read(&h, 0, 1), Err(StatusCode::Failure));
    assert_eq!(c.write(&h, 0, b"x"), StatusCode::Failure);
    assert_eq!(c.read(b"junk-handle", 0, 1), Err(StatusCode::Failure));
    // A directory handle is not a file handle.
    let id = c.id();
    let Response::Handle { handle: d, .. } = c.call(Request::Opendir {
        id,
        path: b".".to_vec(),
    }) else {
        panic!()
    };
    assert_eq!(c.read(&d, 0, 1), Err(StatusCode::Failure));
    assert_eq!(c.close(&d), StatusCode::Ok);
    assert!(c.has_log(Level::Info, "closedir \".\""));
}

#[test]
fn stat_lstat_fstat() {
    let mut c = Client::new();
    c.server
        .filesystem()
        .symlink_at(b"a.txt", b"/home/ann/link")
        .unwrap();
    let st = c.stat("link").unwrap();
    assert_eq!(st.size, Some(10));
    assert_eq!(st.permissions, Some(S_IFREG | 0o644));
    assert_eq!(st.uid_gid, Some((1000, 1000)));
    assert_eq!(st.times, Some((1_700_000_000, 1_700_000_000)));
    let id = c.id();
    let Response::Attrs { attrs, .. } = c.call(Request::Lstat {
        id,
        path: b"link".to_vec(),
    }) else {
        panic!()
    };
    assert_eq!(attrs.permissions, Some(S_IFLNK | 0o777));
    assert_eq!(c.stat("nope"), Err(StatusCode::NoSuchFile));
    assert_eq!(c.stat("a.txt/x"), Err(StatusCode::NoSuchFile));
    let h = c.open("a.txt", pflags::READ).unwrap();
    let id = c.id();
    let Response::Attrs { attrs, .. } = c.call(Request::Fstat {
        id,
        handle: h.clone(),
    }) else {
        panic!()
    };
    assert_eq!(attrs.size, Some(10));
    let id = c.id();
    assert_eq!(
        c.status(Request::Fstat {
            id,
            handle: vec![9, 9, 9, 9]
        }),
        StatusCode::Failure
    );
    assert!(c.has_log(Level::Verbose, "stat name \"link\""));
    assert!(c.has_log(Level::Verbose, "lstat name \"link\""));
}

#[test]
fn setstat_and_fsetstat() {
    let mut c = Client::new();
    let id = c.id();
    let attrs = Attrs {
        size: Some(4),
        permissions: Some(0o100600),
        times: Some((5, 86_400 * 365)),
        uid_gid: Some((7, 8)),
        ..Attrs::default()
    };
    assert_eq!(
        c.status(Request::Setstat {
            id,
            path: b"a.txt".to_vec(),
            attrs: attrs.clone()
        }),
        StatusCode::Ok
    );
    let st = c.stat("a.txt").unwrap();
    assert_eq!(st.size, Some(4));
    assert_eq!(st.permissions, Some(S_IFREG | 0o600));
    assert_eq!(st.times, Some((5, 86_400 * 365)));
    assert_eq!(st.uid_gid, Some((7, 8)));
    for line in [
        "set \"a.txt\" size 4",
        "set \"a.txt\" mode 100600",
        "set \"a.txt\" modtime 19710101-00:00:00",
        "set \"a.txt\" owner 7 group 8",
    ] {
        assert!(c.has_log(Level::Info, line), "{line}");
    }
    let id = c.id();
    let missing = Request::Setstat {
        id,
        path: b"nope".to_vec(),
        attrs: attrs.clone(),
    };
    assert_eq!(c.status(missing), StatusCode::NoSuchFile);
    // FSETSTAT through a handle; truncation needs a writable handle.
    let h = c.open("a.txt", RW).unwrap();
    let id = c.id();
    let grow = Attrs {
        size: Some(20),
        permissions: Some(0o640),
        ..Attrs::default()
    };
    assert_eq!(
        c.status(Request::Fsetstat {
            id,
            handle: h.clone(),
            attrs: grow
        }),
        StatusCode::Ok
    );
    assert_eq!(c.stat("a.txt").unwrap().size, Some(20));
    assert_eq!(c.stat("a.txt").unwrap().permissions, Some(S_IFREG | 0o640));
    let ro = c.open("a.txt", pflags::READ).unwrap();
    let id = c.id();
    let shrink = Attrs {
        size: Some(1),
        ..Attrs::default()
    };
    assert_eq!(
        c.status(Request::Fsetstat {
            id,
            handle: ro,
            attrs: shrink.clone()
        }),
        StatusCode::BadMessage
    );
    let id = c.id();
    assert_eq!(
        c.status(Request::Fsetstat {
            id,
            handle: vec![1; 4],
            attrs: shrink
        }),
        StatusCode::Failure
    );
}

#[test]
fn opendir_readdir_with_long_names() {
    let mut c = Client::new();
    c.server.filesystem().mkdir_all(b"/home/ann/sub").unwrap();
    let id = c.id();
    let Response::Handle { handle, .. } = c.call(Request::Opendir {
        id,
        path: b"/home/ann".to_vec(),
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
    let names: Vec<&[u8]> = entries.iter().map(|e| e.filename.as_slice()).collect();
    assert_eq!(names, [&b"."[..], b"..", b"a.txt", b"sub"]);
    let a: &NameEntry = &entries[2];
    assert_eq!(
        String::from_utf8(a.longname.clone()).unwrap(),
        "-rw-r--r--    1 ann      staff          10 Nov 14 22:13 a.txt"
    );
    assert_eq!(a.attrs.size, Some(10));
    let sub = &entries[3];
    assert_eq!(sub.attrs.permissions, Some(S_IFDIR | 0o755));
    assert!(sub.longname.starts_with(b"drwxr-xr-x    2 ann      staff"));
    let id = c.id();
    assert_eq!(
        c.status(Request::Readdir {
            id,
            handle: handle.clone()
        }),
        StatusCode::Eof
    );
    c.close(&handle);
    let id = c.id();
    assert_eq!(
        c.status(Request::Opendir {
            id,
            path: b"a.txt".to_vec()
        }),
        StatusCode::NoSuchFile
    );
    let id = c.id();
    assert_eq!(
        c.status(Request::Readdir { id, handle }),
        StatusCode::Failure
    );
    assert!(c.has_log(Level::Info, "opendir \"/home/ann\""));
}

#[test]
fn readdir_pages_by_one_hundred_and_names_unknown_ids() {
    let mut fs = fs();
    fs.mkdir_all(b"/many").unwrap();
    fs.set_owner_ids(4242, 4343);
    for i in 0..250 {
        fs.write_file(format!("/many/f{i:03}").as_bytes(), b"")
            .unwrap();
    }
    let mut c = Client::with(fs, opts(&[]));
    let id = c.id();
    let Response::Handle { handle, .. } = c.call(Request::Opendir {
        id,
        path: b"/many".to_vec(),
    }) else {
        panic!()
    };
    let mut total = 0;
    let mut pages = Vec::new();
    loop {
        let id = c.id();
        match c.call(Request::Readdir {
            id,
            handle: handle.clone(),
        }) {
            Response::Name { entries, .. } => {
                pages.push(entries.len());
                total += entries.len();
                if let Some(e) = entries.iter().find(|e| e.filename == b"f000") {
                    assert!(e.longname.starts_with(b"-rw-r--r--    1 4242     4343"));
                }
            }
            Response::Status { code, .. } => {
                assert_eq!(code, StatusCode::Eof as u32);
                break;
            }
            r => panic!("{r:?}"),
        }
    }
    assert_eq!(total, 252);
    assert_eq!(pages, [100, 100, 52]);
}

#[test]
fn remove_mkdir_rmdir() {
    let mut c = Client::new();
    let id = c.id();
    assert_eq!(
        c.status(Request::Remove {
            id,
            path: b"a.txt".to_vec()
        }),
        StatusCode::Ok
    );
    let id = c.id();
    assert_eq!(
        c.status(Request::Remove {
            id,
            path: b"a.txt".to_vec()
        }),
        StatusCode::NoSuchFile
    );
    let id = c.id();
    let attrs = Attrs {
        permissions: Some(0o700),
        ..Attrs::default()
    };
    assert_eq!(
        c.status(Request::Mkdir {
            id,
            path: b"d".to_vec(),
            attrs: attrs.clone()
        }),
        StatusCode::Ok
    );
    assert_eq!(c.stat("d").unwrap().permissions, Some(S_IFDIR | 0o700));
    let id = c.id();
    assert_eq!(
        c.status(Request::Mkdir {
            id,
            path: b"d".to_vec(),
            attrs
        }),
        StatusCode::Failure
    );
    let id = c.id();
    let noattrs = Request::Mkdir {
        id,
        path: b"e".to_vec(),
        attrs: Attrs::default(),
    };
    assert_eq!(c.status(noattrs), StatusCode::Ok);
    assert_eq!(c.stat("e").unwrap().permissions, Some(S_IFDIR | 0o777));
    c.server
        .filesystem()
        .write_file(b"/home/ann/d/x", b"")
        .unwrap();
    let id = c.id();
    assert_eq!(
        c.status(Request::Rmdir {
            id,
            path: b"d".to_vec()
        }),
        StatusCode::Failure
    );
    let id = c.id();
    assert_eq!(
        c.status(Request::Remove {
            id,
            path: b"d".to_vec()
        }),
        StatusCode::Failure
    );
    let id = c.id();
    assert_eq!(
        c.status(Request::Rmdir {
            id,
            path: b"e".to_vec()
        }),
        StatusCode::Ok
    );
    assert_eq!(c.stat("e"), Err(StatusCode::NoSuchFile));
    assert!(c.has_log(Level::Info, "remove name \"a.txt\""));
    assert!(c.has_log(Level::Info, "mkdir name \"d\" mode 0700"));
    assert!(c.has_log(Level::Info, "mkdir name \"e\" mode 0777"));
    assert!(c.has_log(Level::Info, "rmdir name \"e\""));
}

#[test]
fn realpath() {
    let mut c = Client::new();
    c.server.filesystem().symlink_at(b"/home", b"/h").unwrap();
    for (p, want) in [
        ("", Ok("/home/ann")),
        (".", Ok("/home/ann")),
        ("..", Ok("/home")),
        ("a.txt", Ok("/home/ann/a.txt")),
        ("/h/ann/./a.txt", Ok("/home/ann/a.txt")),
        ("not-yet", Ok("/home/ann/not-yet")),
        ("/nodir/x", Err(StatusCode::NoSuchFile)),
    ] {
        let id = c.id();
        let want = want.map(str::to_string);
        assert_eq!(
            c.name(Request::Realpath { id, path: p.into() }),
            want,
            "{p}"
        );
    }
    let id = c.id();
    let Response::Name { entries, .. } = c.call(Request::Realpath {
        id,
        path: b".".to_vec(),
    }) else {
        panic!()
    };
    assert_eq!(entries[0].longname, b"/home/ann");
    assert_eq!(entries[0].attrs, Attrs::default());
    assert!(c.has_log(Level::Verbose, "realpath \".\""));
}

#[test]
fn rename_v3_refuses_existing_targets() {
    let mut c = Client::new();
    c.server
        .filesystem()
        .write_file(b"/home/ann/b.txt", b"b")
        .unwrap();
    let id = c.id();
    let r = Request::Rename {
        id,
        old: b"a.txt".to_vec(),
        new: b"b.txt".to_vec(),
    };
    assert_eq!(c.status(r), StatusCode::Failure);
    assert_eq!(
        c.server.filesystem().read_file(b"/home/ann/b.txt").unwrap(),
        b"b"
    );
    let id = c.id();
    let r = Request::Rename {
        id,
        old: b"a.txt".to_vec(),
        new: b"c.txt".to_vec(),
    };
    assert_eq!(c.status(r), StatusCode::Ok);
    assert_eq!(c.stat("a.txt"), Err(StatusCode::NoSuchFile));
    assert_eq!(c.stat("c.txt").unwrap().size, Some(10));
    assert_eq!(
        c.server
            .filesystem()
            .stat(b"/home/ann/c.txt")
            .unwrap()
            .nlink,
        1
    );
    // Directories: renamed unless the target exists.
    c.server.filesystem().mkdir_all(b"/home/ann/d1/x").unwrap();
    c.server.filesystem().mkdir_all(b"/home/ann/d2").unwrap();
    let id = c.id();
    let r = Request::Rename {
        id,
        old: b"d1".to_vec(),
        new: b"d2".to_vec(),
    };
    assert_eq!(c.status(r), StatusCode::Failure);
    let id = c.id();
    let r = Request::Rename {
        id,
        old: b"d1".to_vec(),
        new: b"d3".to_vec(),
    };
    assert_eq!(c.status(r), StatusCode::Ok);
    assert!(c.stat("d3/x").is_ok());
    let id = c.id();
    let r = Request::Rename {
        id,
        old: b"nope".to_vec(),
        new: b"x".to_vec(),
    };
    assert_eq!(c.status(r), StatusCode::NoSuchFile);
    assert!(c.has_log(Level::Info, "rename old \"d1\" new \"d3\""));
}

#[test]
fn readlink_and_symlink_in_openssh_order() {
    let mut c = Client::new();
    // OpenSSH order: target first, then the link.
    let id = c.id();
    let r = Request::Symlink {
        id,
        target: b"a.txt".to_vec(),
        link: b"l".to_vec(),
    };
    assert_eq!(c.status(r), StatusCode::Ok);
    assert!(c.has_log(Level::Info, "symlink old \"a.txt\" new \"l\""));
    let id = c.id();
    assert_eq!(
        c.name(Request::Readlink {
            id,
            path: b"l".to_vec()
        }),
        Ok("a.txt".into())
    );
    assert_eq!(c.stat("l").unwrap().size, Some(10));
    let id = c.id();
    let r = Request::Symlink {
        id,
        target: b"x".to_vec(),
        link: b"l".to_vec(),
    };
    assert_eq!(c.status(r), StatusCode::Failure, "link exists");
    let id = c.id();
    assert_eq!(
        c.name(Request::Readlink {
            id,
            path: b"a.txt".to_vec()
        }),
        Err(StatusCode::BadMessage)
    );
    let id = c.id();
    assert_eq!(
        c.name(Request::Readlink {
            id,
            path: b"nope".to_vec()
        }),
        Err(StatusCode::NoSuchFile)
    );
}

#[test]
fn handle_table_is_bounded() {
    let mut c = Client::with(fs(), opts(&[]));
    let mut handles = Vec::new();
    for _ in 0..crate::MAX_OPEN_HANDLES {
        handles.push(c.open("a.txt", pflags::READ).unwrap());
    }
    assert_eq!(c.open("a.txt", pflags::READ), Err(StatusCode::Failure));
    let id = c.id();
    assert_eq!(
        c.status(Request::Opendir {
            id,
            path: b"/".to_vec()
        }),
        StatusCode::Failure
    );
    assert_eq!(c.close(&handles[3]), StatusCode::Ok);
    assert_eq!(
        c.open("a.txt", pflags::READ),
        Ok(handles[3].clone()),
        "freed slot reused"
    );
}
