//! Every extension, and the `-R`, `-P`, `-p` and `-u` options, through the server.

use super::*;
use crate::attrs::{S_IFLNK, S_IFREG};
use crate::wire::Reader;

fn ext_data(r: Response) -> Vec<u8> {
    match r {
        Response::ExtendedReply { data, .. } => data,
        r => panic!("expected EXTENDED_REPLY, got {r:?}"),
    }
}

fn name_of(r: Response) -> Result<String, StatusCode> {
    match r {
        Response::Name { entries, .. } => {
            Ok(String::from_utf8(entries[0].filename.clone()).unwrap())
        }
        Response::Status { code, .. } => Err(StatusCode::from_u32(code).unwrap()),
        r => panic!("{r:?}"),
    }
}

#[test]
fn posix_rename_replaces() {
    let mut c = Client::new();
    c.server
        .filesystem()
        .write_file(b"/home/ann/b", b"b")
        .unwrap();
    let e = ExtRequest::PosixRename {
        old: b"a.txt".to_vec(),
        new: b"b".to_vec(),
    };
    assert_eq!(c.ext_status(e), StatusCode::Ok);
    assert_eq!(
        c.server.filesystem().read_file(b"/home/ann/b").unwrap(),
        b"0123456789"
    );
    let e = ExtRequest::PosixRename {
        old: b"a.txt".to_vec(),
        new: b"b".to_vec(),
    };
    assert_eq!(c.ext_status(e), StatusCode::NoSuchFile);
    assert!(c.has_log(Level::Info, "posix-rename old \"a.txt\" new \"b\""));
}

#[test]
fn statvfs_and_fstatvfs() {
    let mut c = Client::new();
    let d = ext_data(c.ext(ExtRequest::Statvfs {
        path: b"/".to_vec(),
    }));
    assert_eq!(d.len(), 88);
    let mut r = Reader::new(&d);
    let v: Vec<u64> = (0..11).map(|_| r.u64().unwrap()).collect();
    assert_eq!(v[0], 4096);
    assert_eq!(v[2], 4096, "16 MiB in 4 KiB blocks");
    assert_eq!(v[9], crate::fs::STATVFS_NOSUID);
    assert_eq!(v[10], 255);
    assert_eq!(
        c.ext_status(ExtRequest::Statvfs {
            path: b"/nope".to_vec()
        }),
        StatusCode::NoSuchFile
    );
    let h = c.open("a.txt", pflags::READ).unwrap();
    assert_eq!(ext_data(c.ext(ExtRequest::Fstatvfs { handle: h })), d);
    assert_eq!(
        c.ext_status(ExtRequest::Fstatvfs { handle: vec![9; 4] }),
        StatusCode::Failure
    );
    assert!(c.has_log(Level::Info, "statvfs \"/\""));
}

#[test]
fn hardlink() {
    let mut c = Client::new();
    let e = ExtRequest::Hardlink {
        old: b"a.txt".to_vec(),
        new: b"h".to_vec(),
    };
    assert_eq!(c.ext_status(e.clone()), StatusCode::Ok);
    assert_eq!(c.server.filesystem().stat(b"/home/ann/h").unwrap().nlink, 2);
    assert_eq!(c.ext_status(e), StatusCode::Failure, "target exists");
    assert!(c.has_log(Level::Info, "hardlink old \"a.txt\" new \"h\""));
}

#[test]
fn fsync() {
    let mut c = Client::new();
    let h = c.open("a.txt", pflags::WRITE).unwrap();
    assert_eq!(
        c.ext_status(ExtRequest::Fsync { handle: h }),
        StatusCode::Ok
    );
    assert_eq!(
        c.ext_status(ExtRequest::Fsync { handle: vec![7; 4] }),
        StatusCode::NoSuchFile
    );
    assert!(c.has_log(Level::Verbose, "fsync \"a.txt\""));
}

#[test]
fn lsetstat_does_not_follow() {
    let mut c = Client::new();
    c.server
        .filesystem()
        .symlink_at(b"a.txt", b"/home/ann/l")
        .unwrap();
    let attrs = Attrs {
        times: Some((1, 2)),
        uid_gid: Some((3, 4)),
        ..Attrs::default()
    };
    let e = ExtRequest::Lsetstat {
        path: b"l".to_vec(),
        attrs,
    };
    assert_eq!(c.ext_status(e), StatusCode::Ok);
    let l = c.server.filesystem().lstat(b"/home/ann/l").unwrap();
    assert_eq!((l.mtime, l.uid, l.gid), (2, 3, 4));
    let f = c.server.filesystem().stat(b"/home/ann/l").unwrap();
    assert_eq!(
        (f.mtime, f.uid),
        (1_700_000_000, 1000),
        "the target is untouched"
    );
    let size = Attrs {
        size: Some(0),
        ..Attrs::default()
    };
    let e = ExtRequest::Lsetstat {
        path: b"l".to_vec(),
        attrs: size,
    };
    assert_eq!(c.ext_status(e), StatusCode::BadMessage);
    let mode = Attrs {
        permissions: Some(0o600),
        ..Attrs::default()
    };
    let e = ExtRequest::Lsetstat {
        path: b"l".to_vec(),
        attrs: mode,
    };
    assert_eq!(c.ext_status(e), StatusCode::Failure, "no lchmod, as Linux");
    assert_eq!(
        c.server.filesystem().lstat(b"/home/ann/l").unwrap().mode,
        S_IFLNK | 0o777
    );
}

#[test]
fn limits() {
    let mut c = Client::new();
    let d = ext_data(c.ext(ExtRequest::Limits));
    let mut r = Reader::new(&d);
    let v: Vec<u64> = (0..4).map(|_| r.u64().unwrap()).collect();
    assert_eq!(v, [262_144, 261_120, 261_120, 512]);
    assert_eq!(r.remaining(), 0);
}

#[test]
fn expand_path() {
    let mut c = Client::new();
    c.server.filesystem().mkdir_all(b"/root/x").unwrap();
    c.server.filesystem().mkdir_all(b"/home/ann/sub").unwrap();
    for (p, want) in [
        ("", Ok("/home/ann")),
        ("~", Ok("/home/ann")),
        ("~/sub/../a.txt", Ok("/home/ann/a.txt")),
        ("~ann/sub", Ok("/home/ann/sub")),
        ("~root/x", Ok("/root/x")),
        ("~root", Ok("/root")),
        ("sub", Ok("/home/ann/sub")),
        ("/home/./ann", Ok("/home/ann")),
        ("~nobody/x", Err(StatusCode::NoSuchFile)),
    ] {
        let r = c.ext(ExtRequest::ExpandPath { path: p.into() });
        assert_eq!(name_of(r), want.map(str::to_string), "{p}");
    }
    // "~" is the current (start) directory, as OpenSSH.
    c.server.filesystem().set_cwd(b"/home/ann/sub").unwrap();
    assert_eq!(
        name_of(c.ext(ExtRequest::ExpandPath {
            path: b"~".to_vec()
        })),
        Ok("/home/ann/sub".into())
    );
    let id = c.id();
    let Response::Status { message, .. } = c.call(
        ExtRequest::ExpandPath {
            path: b"~nobody".to_vec(),
        }
        .to_request(id),
    ) else {
        panic!()
    };
    assert_eq!(message, "no such user");
    assert!(c.has_log(Level::Verbose, "expand \"/home/ann/sub\""));
}

#[test]
fn copy_data() {
    let mut c = Client::new();
    let src = c.open("a.txt", pflags::READ).unwrap();
    let dst = c.open("copy", pflags::WRITE | pflags::CREAT).unwrap();
    let copy = |from_offset, len, to_offset| ExtRequest::CopyData {
        from: src.clone(),
        from_offset,
        len,
        to: dst.clone(),
        to_offset,
    };
    assert_eq!(
        c.ext_status(copy(0, 0, 0)),
        StatusCode::Ok,
        "to end of file"
    );
    assert_eq!(
        c.server.filesystem().read_file(b"/home/ann/copy").unwrap(),
        b"0123456789"
    );
    assert_eq!(c.ext_status(copy(2, 3, 20)), StatusCode::Ok);
    let got = c.server.filesystem().read_file(b"/home/ann/copy").unwrap();
    assert_eq!(&got[20..], b"234");
    assert_eq!(
        c.ext_status(copy(8, 5, 0)),
        StatusCode::Eof,
        "past end of file"
    );
    assert_eq!(
        &c.server.filesystem().read_file(b"/home/ann/copy").unwrap()[..2],
        b"89"
    );
    // Same handle, same path, missing handle, directory handle.
    let same = ExtRequest::CopyData {
        from: src.clone(),
        from_offset: 0,
        len: 0,
        to: src.clone(),
        to_offset: 0,
    };
    assert_eq!(c.ext_status(same), StatusCode::Failure);
    let src2 = c.open("a.txt", pflags::READ | pflags::WRITE).unwrap();
    let same_path = ExtRequest::CopyData {
        from: src.clone(),
        from_offset: 0,
        len: 0,
        to: src2,
        to_offset: 0,
    };
    assert_eq!(c.ext_status(same_path), StatusCode::Failure);
    let gone = ExtRequest::CopyData {
        from: vec![0, 0, 1, 0],
        from_offset: 0,
        len: 0,
        to: dst.clone(),
        to_offset: 0,
    };
    assert_eq!(c.ext_status(gone), StatusCode::Failure);
    // A read-only destination fails with the write's errno (EBADF).
    let ro = c.open("copy", pflags::READ).unwrap();
    let bad = ExtRequest::CopyData {
        from: src.clone(),
        from_offset: 0,
        len: 0,
        to: ro,
        to_offset: 0,
    };
    assert_eq!(c.ext_status(bad), StatusCode::NoSuchFile);
    c.close(&dst);
    assert!(c.has_log(Level::Info, "close \"copy\" bytes read 0 written 15"));
}

#[test]
fn home_directory() {
    let mut c = Client::new();
    let r = c.ext(ExtRequest::HomeDirectory { user: Vec::new() });
    assert_eq!(name_of(r), Ok("/home/ann".into()));
    let r = c.ext(ExtRequest::HomeDirectory {
        user: b"root".to_vec(),
    });
    assert_eq!(name_of(r), Ok("/root".into()));
    assert_eq!(
        c.ext_status(ExtRequest::HomeDirectory {
            user: b"nobody".to_vec()
        }),
        StatusCode::Failure
    );
    assert!(c.has_log(Level::Verbose, "home-directory \"/home/ann\""));
}

#[test]
fn users_groups_by_id() {
    let mut c = Client::new();
    let e = ExtRequest::UsersGroupsById {
        uids: vec![0, 1000, 55],
        gids: vec![1000, 9],
    };
    let d = ext_data(c.ext(e));
    let mut r = Reader::new(&d);
    let mut users = Reader::new(r.string().unwrap());
    let mut groups = Reader::new(r.string().unwrap());
    let u: Vec<&[u8]> = (0..3).map(|_| users.string().unwrap()).collect();
    assert_eq!(u, [&b"root"[..], b"ann", b""]);
    assert_eq!(users.remaining(), 0);
    let g: Vec<&[u8]> = (0..2).map(|_| groups.string().unwrap()).collect();
    assert_eq!(g, [&b"staff"[..], b""]);
    assert!(c.has_log(Level::Verbose, "users-groups-by-id: 3 users, 2 groups"));
    // A uid list whose length is not a multiple of four is malformed.
    let id = c.id();
    let mut data = Vec::new();
    crate::wire::Put::put_string(&mut data, &[0, 0, 1]);
    crate::wire::Put::put_string(&mut data, &[]);
    let req = Request::Extended {
        id,
        name: "users-groups-by-id@openssh.com".into(),
        data,
    };
    assert_eq!(c.status(req), StatusCode::BadMessage);
}

#[test]
fn unknown_and_malformed_extensions() {
    let mut c = Client::new();
    let id = c.id();
    let req = Request::Extended {
        id,
        name: "nonesuch@example.com".into(),
        data: vec![],
    };
    assert_eq!(c.status(req), StatusCode::OpUnsupported);
    assert!(c.has_log(
        Level::Error,
        "Unknown extended request \"nonesuch@example.com\""
    ));
    let id = c.id();
    let req = Request::Extended {
        id,
        name: "statvfs@openssh.com".into(),
        data: vec![0, 0],
    };
    assert_eq!(c.status(req), StatusCode::BadMessage);
}

fn all_write_requests(c: &mut Client) -> Vec<StatusCode> {
    let h = c.open("a.txt", pflags::READ).unwrap();
    let mut v = Vec::new();
    let p = |s: &str| s.as_bytes().to_vec();
    let id = c.id();
    v.push(c.status(Request::Write {
        id,
        handle: h.clone(),
        offset: 0,
        data: p("x"),
    }));
    let id = c.id();
    v.push(c.status(Request::Setstat {
        id,
        path: p("a.txt"),
        attrs: Attrs::default(),
    }));
    let id = c.id();
    v.push(c.status(Request::Fsetstat {
        id,
        handle: h.clone(),
        attrs: Attrs::default(),
    }));
    let id = c.id();
    v.push(c.status(Request::Remove {
        id,
        path: p("a.txt"),
    }));
    let id = c.id();
    v.push(c.status(Request::Mkdir {
        id,
        path: p("d"),
        attrs: Attrs::default(),
    }));
    let id = c.id();
    v.push(c.status(Request::Rmdir { id, path: p("d") }));
    let id = c.id();
    v.push(c.status(Request::Rename {
        id,
        old: p("a.txt"),
        new: p("z"),
    }));
    let id = c.id();
    v.push(c.status(Request::Symlink {
        id,
        target: p("a.txt"),
        link: p("s"),
    }));
    v.push(c.ext_status(ExtRequest::PosixRename {
        old: p("a.txt"),
        new: p("z"),
    }));
    v.push(c.ext_status(ExtRequest::Hardlink {
        old: p("a.txt"),
        new: p("y"),
    }));
    v.push(c.ext_status(ExtRequest::Fsync { handle: h.clone() }));
    v.push(c.ext_status(ExtRequest::Lsetstat {
        path: p("a.txt"),
        attrs: Attrs::default(),
    }));
    v.push(c.ext_status(ExtRequest::CopyData {
        from: h.clone(),
        from_offset: 0,
        len: 0,
        to: h,
        to_offset: 0,
    }));
    for w in [
        pflags::WRITE,
        pflags::READ | pflags::CREAT,
        pflags::READ | pflags::TRUNC,
    ] {
        v.push(c.open("a.txt", w).err().unwrap_or(StatusCode::Ok));
    }
    v
}

#[test]
fn read_only_refuses_every_write() {
    let mut c = Client::with(fs(), opts(&["-R", "-l", "VERBOSE"]));
    let v = all_write_requests(&mut c);
    assert_eq!(v.len(), 16);
    assert!(
        v.iter().all(|s| *s == StatusCode::PermissionDenied),
        "{v:?}"
    );
    assert_eq!(
        c.server.filesystem().read_file(b"/home/ann/a.txt").unwrap(),
        b"0123456789"
    );
    assert!(c.has_log(Level::Verbose, "Refusing write request in read-only mode"));
    assert!(c.has_log(Level::Verbose, "Refusing open request in read-only mode"));
    // Reads still work.
    let h = c.open("a.txt", pflags::READ).unwrap();
    assert_eq!(c.read(&h, 0, 3).unwrap(), b"012");
    assert!(c.stat("a.txt").is_ok());
    assert!(matches!(
        c.ext(ExtRequest::Limits),
        Response::ExtendedReply { .. }
    ));
}

#[test]
fn deny_and_allow_lists() {
    let mut c = Client::with(fs(), opts(&["-P", "remove,statvfs", "-l", "VERBOSE"]));
    let id = c.id();
    assert_eq!(
        c.status(Request::Remove {
            id,
            path: b"a.txt".to_vec()
        }),
        StatusCode::PermissionDenied
    );
    assert_eq!(
        c.ext_status(ExtRequest::Statvfs {
            path: b"/".to_vec()
        }),
        StatusCode::PermissionDenied
    );
    assert!(c.has_log(Level::Verbose, "Refusing denylisted remove request"));
    assert!(c.stat("a.txt").is_ok());

    let mut c = Client::with(
        fs(),
        opts(&["-p", "open,read,close,limits", "-l", "VERBOSE"]),
    );
    let h = c.open("a.txt", pflags::READ).unwrap();
    assert_eq!(c.read(&h, 0, 1).unwrap(), b"0");
    assert_eq!(c.stat("a.txt"), Err(StatusCode::PermissionDenied));
    assert!(matches!(
        c.ext(ExtRequest::Limits),
        Response::ExtendedReply { .. }
    ));
    assert_eq!(
        c.ext_status(ExtRequest::Statvfs {
            path: b"/".to_vec()
        }),
        StatusCode::PermissionDenied
    );
    assert_eq!(c.close(&h), StatusCode::Ok);
    assert!(c.has_log(Level::Verbose, "Refusing non-allowlisted stat request"));
}

#[test]
fn umask_applies_to_created_files_and_dirs() {
    let mut c = Client::with(fs(), opts(&["-u", "027"]));
    let id = c.id();
    let req = Request::Open {
        id,
        path: b"new".to_vec(),
        pflags: pflags::WRITE | pflags::CREAT,
        attrs: Attrs {
            permissions: Some(0o666),
            ..Attrs::default()
        },
    };
    assert!(matches!(c.call(req), Response::Handle { .. }));
    assert_eq!(c.stat("new").unwrap().permissions, Some(S_IFREG | 0o640));
    let id = c.id();
    assert_eq!(
        c.status(Request::Mkdir {
            id,
            path: b"d".to_vec(),
            attrs: Attrs::default()
        }),
        StatusCode::Ok
    );
    assert_eq!(
        c.stat("d").unwrap().permissions,
        Some(crate::attrs::S_IFDIR | 0o750)
    );
    // SETSTAT is not masked (as chmod is not).
    let id = c.id();
    let attrs = Attrs {
        permissions: Some(0o777),
        ..Attrs::default()
    };
    assert_eq!(
        c.status(Request::Setstat {
            id,
            path: b"new".to_vec(),
            attrs
        }),
        StatusCode::Ok
    );
    assert_eq!(c.stat("new").unwrap().permissions, Some(S_IFREG | 0o777));
}

#[test]
fn copy_data_to_itself_under_another_name_stops_at_the_starting_size() {
    let mut c = Client::new();
    let src = c.open("a.txt", pflags::READ).unwrap();
    let dst = c.open("./a.txt", pflags::WRITE).unwrap();
    let e = ExtRequest::CopyData {
        from: src,
        from_offset: 0,
        len: 0,
        to: dst,
        to_offset: 10,
    };
    assert_eq!(c.ext_status(e), StatusCode::Ok);
    assert_eq!(
        c.server.filesystem().read_file(b"/home/ann/a.txt").unwrap(),
        b"01234567890123456789"
    );
}
