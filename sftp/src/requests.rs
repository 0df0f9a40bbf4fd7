//! The version 3 request handlers.

use crate::attrs::{log_time, long_name, Attrs};
use crate::fs::{Filesystem, OpenFlags, Target};
use crate::handles::{DirHandle, Entry, FileHandle};
use crate::log::{Level, LogSink};
use crate::message::{pflags, NameEntry, Request, Response, StatusCode};
use crate::server::{show, Logger, Server, MAX_PACKET_LEN, MAX_READ_LEN};

/// READDIR sends at most this many names in one reply, as OpenSSH.
pub const READDIR_MAX_ENTRIES: usize = 100;

/// OpenSSH's `string_from_portable`: the flag names for the open log line.
fn flag_names(p: u32) -> String {
    let names = [
        (pflags::READ, "READ"),
        (pflags::WRITE, "WRITE"),
        (pflags::APPEND, "APPEND"),
        (pflags::CREAT, "CREATE"),
        (pflags::TRUNC, "TRUNCATE"),
        (pflags::EXCL, "EXCL"),
    ];
    names
        .iter()
        .filter(|(b, _)| p & b != 0)
        .map(|(_, n)| *n)
        .collect::<Vec<_>>()
        .join(",")
}

fn target<'a, T>(file: Option<&'a mut T>, name: &'a [u8], nofollow: bool) -> Target<'a, T> {
    match file {
        Some(f) => Target::File(f),
        None if nofollow => Target::NoFollow(name),
        None => Target::Path(name),
    }
}

/// SETSTAT, FSETSTAT and lsetstat: size, mode, times, owner in that order, each
/// logged; the status is that of the last step to fail.
pub(crate) fn set_attrs<F: Filesystem, L: LogSink>(
    fs: &mut F,
    log: &mut Logger<L>,
    name: &[u8],
    mut file: Option<&mut F::File>,
    nofollow: bool,
    a: &Attrs,
) -> StatusCode {
    let mut status = StatusCode::Ok;
    let mut note = |r: Result<(), crate::fs::Errno>| {
        if let Err(e) = r {
            status = StatusCode::from_errno(e);
        }
    };
    let n = show(name);
    if let Some(size) = a.size {
        log.at(Level::Info, || format!("set \"{n}\" size {size}"));
        note(fs.set_size(target(file.as_deref_mut(), name, nofollow), size));
    }
    if let Some(p) = a.permissions {
        log.at(Level::Info, || format!("set \"{n}\" mode {p:04o}"));
        note(fs.set_mode(target(file.as_deref_mut(), name, nofollow), p & 0o7777));
    }
    if let Some((at, mt)) = a.times {
        log.at(Level::Info, || {
            format!("set \"{n}\" modtime {}", log_time(i64::from(mt)))
        });
        note(fs.set_times(
            target(file.as_deref_mut(), name, nofollow),
            at.into(),
            mt.into(),
        ));
    }
    if let Some((u, g)) = a.uid_gid {
        log.at(Level::Info, || format!("set \"{n}\" owner {u} group {g}"));
        note(fs.set_owner(target(file, name, nofollow), u, g));
    }
    status
}

impl<F: Filesystem, L: LogSink> Server<F, L> {
    /// The request name (for `-P`/`-p`) and whether it writes (for `-R`).
    fn request_name(req: &Request) -> (&'static str, bool) {
        match req {
            Request::Init { .. } => ("init", false),
            Request::Open { .. } => ("open", false),
            Request::Close { .. } => ("close", false),
            Request::Read { .. } => ("read", false),
            Request::Write { .. } => ("write", true),
            Request::Lstat { .. } => ("lstat", false),
            Request::Fstat { .. } => ("fstat", false),
            Request::Setstat { .. } => ("setstat", true),
            Request::Fsetstat { .. } => ("fsetstat", true),
            Request::Opendir { .. } => ("opendir", false),
            Request::Readdir { .. } => ("readdir", false),
            Request::Remove { .. } => ("remove", true),
            Request::Mkdir { .. } => ("mkdir", true),
            Request::Rmdir { .. } => ("rmdir", true),
            Request::Realpath { .. } => ("realpath", false),
            Request::Stat { .. } => ("stat", false),
            Request::Rename { .. } => ("rename", true),
            Request::Readlink { .. } => ("readlink", false),
            Request::Symlink { .. } => ("symlink", true),
            Request::Extended { .. } => ("extended", false),
        }
    }

    pub(crate) fn request(&mut self, req: Request) -> Response {
        if let Request::Extended { id, name, data } = req {
            return self.extended(id, &name, &data);
        }
        let (name, writes) = Self::request_name(&req);
        let id = match &req {
            Request::Init { .. } => 0,
            Request::Open { id, .. }
            | Request::Close { id, .. }
            | Request::Read { id, .. }
            | Request::Write { id, .. }
            | Request::Lstat { id, .. }
            | Request::Fstat { id, .. }
            | Request::Setstat { id, .. }
            | Request::Fsetstat { id, .. }
            | Request::Opendir { id, .. }
            | Request::Readdir { id, .. }
            | Request::Remove { id, .. }
            | Request::Mkdir { id, .. }
            | Request::Rmdir { id, .. }
            | Request::Realpath { id, .. }
            | Request::Stat { id, .. }
            | Request::Rename { id, .. }
            | Request::Readlink { id, .. }
            | Request::Symlink { id, .. }
            | Request::Extended { id, .. } => *id,
        };
        if !self.permitted(name, writes) {
            return self.status(id, StatusCode::PermissionDenied);
        }
        match req {
            Request::Open {
                path,
                pflags,
                attrs,
                ..
            } => self.open(id, &path, pflags, &attrs),
            Request::Close { handle, .. } => self.close(id, &handle),
            Request::Read {
                handle,
                offset,
                len,
                ..
            } => self.read(id, &handle, offset, len),
            Request::Write {
                handle,
                offset,
                data,
                ..
            } => self.write(id, &handle, offset, &data),
            Request::Lstat { path, .. } => self.stat(id, &path, true),
            Request::Stat { path, .. } => self.stat(id, &path, false),
            Request::Fstat { handle, .. } => self.fstat(id, &handle),
            Request::Setstat { path, attrs, .. } => {
                self.log.at(Level::Debug1, || {
                    format!("request {id}: setstat name \"{}\"", show(&path))
                });
                let s = set_attrs(&mut self.fs, &mut self.log, &path, None, false, &attrs);
                self.status(id, s)
            }
            Request::Fsetstat { handle, attrs, .. } => {
                let Some(f) = self.handles.file(&handle) else {
                    return self.status(id, StatusCode::Failure);
                };
                let s = set_attrs(
                    &mut self.fs,
                    &mut self.log,
                    &f.name,
                    Some(&mut f.file),
                    false,
                    &attrs,
                );
                self.status(id, s)
            }
            Request::Opendir { path, .. } => self.opendir(id, &path),
            Request::Readdir { handle, .. } => self.readdir(id, &handle),
            Request::Remove { path, .. } => {
                self.log
                    .at(Level::Info, || format!("remove name \"{}\"", show(&path)));
                let r = self.fs.remove(&path);
                self.result(id, r)
            }
            Request::Mkdir { path, attrs, .. } => {
                let mode = attrs.permissions.map_or(0o777, |p| p & 0o7777);
                self.log.at(Level::Info, || {
                    format!("mkdir name \"{}\" mode 0{mode:o}", show(&path))
                });
                let mode = mode & !self.opts.umask.unwrap_or(0);
                let r = self.fs.mkdir(&path, mode);
                self.result(id, r)
            }
            Request::Rmdir { path, .. } => {
                self.log
                    .at(Level::Info, || format!("rmdir name \"{}\"", show(&path)));
                let r = self.fs.rmdir(&path);
                self.result(id, r)
            }
            Request::Realpath { path, .. } => {
                let path = if path.is_empty() { b".".to_vec() } else { path };
                self.log
                    .at(Level::Verbose, || format!("realpath \"{}\"", show(&path)));
                match crate::paths::realpath(&mut self.fs, &path) {
                    Ok(p) => one_name(id, p),
                    Err(e) => self.errno(id, e),
                }
            }
            Request::Rename { old, new, .. } => self.rename(id, &old, &new),
            Request::Readlink { path, .. } => {
                self.log
                    .at(Level::Verbose, || format!("readlink \"{}\"", show(&path)));
                match self.fs.readlink(&path) {
                    Ok(p) => one_name(id, p),
                    Err(e) => self.errno(id, e),
                }
            }
            Request::Symlink { target, link, .. } => {
                self.log.at(Level::Info, || {
                    format!("symlink old \"{}\" new \"{}\"", show(&target), show(&link))
                });
                let r = self.fs.symlink(&target, &link);
                self.result(id, r)
            }
            Request::Init { .. } | Request::Extended { .. } => {
                self.status(id, StatusCode::BadMessage)
            }
        }
    }

    pub(crate) fn result(&mut self, id: u32, r: Result<(), crate::fs::Errno>) -> Response {
        match r {
            Ok(()) => self.status(id, StatusCode::Ok),
            Err(e) => self.errno(id, e),
        }
    }

    fn open(&mut self, id: u32, path: &[u8], p: u32, attrs: &Attrs) -> Response {
        let flags = OpenFlags {
            read: p & pflags::READ != 0 || p & pflags::WRITE == 0,
            write: p & pflags::WRITE != 0,
            append: p & pflags::APPEND != 0,
            create: p & pflags::CREAT != 0,
            truncate: p & pflags::TRUNC != 0,
            exclusive: p & pflags::EXCL != 0,
        };
        let mode = attrs.permissions.unwrap_or(0o666);
        self.log.at(Level::Info, || {
            format!(
                "open \"{}\" flags {} mode 0{mode:o}",
                show(path),
                flag_names(p)
            )
        });
        if self.opts.read_only && (flags.write || flags.create || flags.truncate) {
            self.log.at(Level::Verbose, || {
                "Refusing open request in read-only mode".into()
            });
            return self.status(id, StatusCode::PermissionDenied);
        }
        if self.handles.is_full() {
            return self.status(id, StatusCode::Failure);
        }
        let mode = mode & 0o7777 & !self.opts.umask.unwrap_or(0);
        match self.fs.open(path, flags, mode) {
            Ok(file) => {
                let e = Entry::File(FileHandle {
                    file,
                    name: path.to_vec(),
                    bytes_read: 0,
                    bytes_written: 0,
                });
                self.new_handle(id, e)
            }
            Err(e) => self.errno(id, e),
        }
    }

    fn new_handle(&mut self, id: u32, e: Entry<F::File, F::Dir>) -> Response {
        match self.handles.insert(e) {
            Ok(handle) => Response::Handle { id, handle },
            Err(e) => {
                let _ = match e {
                    Entry::File(f) => self.fs.close(f.file),
                    Entry::Dir(d) => self.fs.closedir(d.dir),
                };
                self.status(id, StatusCode::Failure)
            }
        }
    }

    fn close(&mut self, id: u32, handle: &[u8]) -> Response {
        let Some(e) = self.handles.remove(handle) else {
            return self.status(id, StatusCode::NoSuchFile);
        };
        self.log_close(&e, "");
        let r = match e {
            Entry::File(f) => self.fs.close(f.file),
            Entry::Dir(d) => self.fs.closedir(d.dir),
        };
        self.result(id, r)
    }

    fn read(&mut self, id: u32, handle: &[u8], offset: u64, len: u32) -> Response {
        let Some(f) = self.handles.file(handle) else {
            return self.status(id, StatusCode::Failure);
        };
        let len = if len > MAX_READ_LEN {
            self.log.at(Level::Debug2, || {
                format!("read change len {len} to {MAX_READ_LEN}")
            });
            MAX_READ_LEN
        } else {
            len
        };
        let mut buf = vec![0u8; len as usize];
        if len == 0 {
            return Response::Data { id, data: buf };
        }
        match self.fs.read(&mut f.file, offset, &mut buf) {
            Ok(0) => self.status(id, StatusCode::Eof),
            Ok(n) => {
                f.bytes_read += n as u64;
                buf.truncate(n);
                Response::Data { id, data: buf }
            }
            Err(e) => {
                let n = show(&f.name);
                self.log
                    .at(Level::Error, || format!("read \"{n}\": {}", e.desc()));
                self.errno(id, e)
            }
        }
    }

    fn write(&mut self, id: u32, handle: &[u8], offset: u64, data: &[u8]) -> Response {
        let Some(f) = self.handles.file(handle) else {
            return self.status(id, StatusCode::Failure);
        };
        match self.fs.write(&mut f.file, offset, data) {
            Ok(()) => {
                f.bytes_written += data.len() as u64;
                self.status(id, StatusCode::Ok)
            }
            Err(e) => {
                let n = show(&f.name);
                self.log
                    .at(Level::Error, || format!("write \"{n}\": {}", e.desc()));
                self.errno(id, e)
            }
        }
    }

    fn stat(&mut self, id: u32, path: &[u8], lstat: bool) -> Response {
        let l = if lstat { "l" } else { "" };
        self.log.at(Level::Verbose, || {
            format!("{l}stat name \"{}\"", show(path))
        });
        let r = if lstat {
            self.fs.lstat(path)
        } else {
            self.fs.stat(path)
        };
        match r {
            Ok(m) => Response::Attrs {
                id,
                attrs: Attrs::from_metadata(&m),
            },
            Err(e) => self.errno(id, e),
        }
    }

    fn fstat(&mut self, id: u32, handle: &[u8]) -> Response {
        let Some(f) = self.handles.file(handle) else {
            return self.status(id, StatusCode::Failure);
        };
        match self.fs.fstat(&f.file) {
            Ok(m) => Response::Attrs {
                id,
                attrs: Attrs::from_metadata(&m),
            },
            Err(e) => self.errno(id, e),
        }
    }

    fn opendir(&mut self, id: u32, path: &[u8]) -> Response {
        self.log
            .at(Level::Info, || format!("opendir \"{}\"", show(path)));
        if self.handles.is_full() {
            return self.status(id, StatusCode::Failure);
        }
        match self.fs.opendir(path) {
            Ok(dir) => {
                let e = Entry::Dir(DirHandle {
                    dir,
                    name: path.to_vec(),
                    pushback: None,
                });
                self.new_handle(id, e)
            }
            Err(e) => self.errno(id, e),
        }
    }

    fn readdir(&mut self, id: u32, handle: &[u8]) -> Response {
        let Some(d) = self.handles.dir(handle) else {
            return self.status(id, StatusCode::Failure);
        };
        let now = self.fs.now();
        let mut entries = Vec::new();
        // Room for the reply header; each entry is checked against the packet bound.
        let mut size = 64;
        let mut error = None;
        while entries.len() < READDIR_MAX_ENTRIES {
            let name = match d.pushback.take() {
                Some(n) => n,
                None => match self.fs.readdir(&mut d.dir) {
                    Ok(Some(n)) => n,
                    Ok(None) => break,
                    Err(e) => {
                        error = Some(e);
                        break;
                    }
                },
            };
            let mut path = d.name.clone();
            if path != b"/" {
                path.push(b'/');
            }
            path.extend_from_slice(&name);
            let Ok(m) = self.fs.lstat(&path) else {
                continue;
            };
            let user = self
                .fs
                .user_name(m.uid)
                .unwrap_or_else(|| m.uid.to_string());
            let group = self
                .fs
                .group_name(m.gid)
                .unwrap_or_else(|| m.gid.to_string());
            let longname = long_name(&name, &m, &user, &group, now);
            let attrs = Attrs::from_metadata(&m);
            let esize = 8 + name.len() + longname.len() + attrs.encode().len();
            if size + esize > MAX_PACKET_LEN {
                if entries.is_empty() {
                    continue; // cannot be sent at all; skip it
                }
                d.pushback = Some(name);
                break;
            }
            size += esize;
            entries.push(NameEntry {
                filename: name,
                longname,
                attrs,
            });
        }
        if !entries.is_empty() {
            Response::Name { id, entries }
        } else if let Some(e) = error {
            self.errno(id, e)
        } else {
            self.status(id, StatusCode::Eof)
        }
    }

    /// Version 3 RENAME: fails when the target exists. A regular file is linked to
    /// the new name and then unlinked (race-free); where links are unsupported, and
    /// for other file types, the target is checked and then renamed.
    fn rename(&mut self, id: u32, old: &[u8], new: &[u8]) -> Response {
        use crate::fs::Errno;
        self.log.at(Level::Info, || {
            format!("rename old \"{}\" new \"{}\"", show(old), show(new))
        });
        let st = match self.fs.lstat(old) {
            Ok(st) => st,
            Err(e) => return self.errno(id, e),
        };
        let code = if st.is_file() {
            match self.fs.link(old, new) {
                Ok(()) => match self.fs.remove(old) {
                    Ok(()) => StatusCode::Ok,
                    Err(e) => {
                        let _ = self.fs.remove(new);
                        StatusCode::from_errno(e)
                    }
                },
                Err(Errno::EOPNOTSUPP | Errno::ENOSYS | Errno::EXDEV | Errno::EPERM)
                    if self.fs.stat(new).is_err() =>
                {
                    match self.fs.rename(old, new) {
                        Ok(()) => StatusCode::Ok,
                        Err(e) => StatusCode::from_errno(e),
                    }
                }
                Err(Errno::EOPNOTSUPP | Errno::ENOSYS | Errno::EXDEV | Errno::EPERM) => {
                    StatusCode::Failure
                }
                Err(e) => StatusCode::from_errno(e),
            }
        } else if self.fs.stat(new).is_err() {
            match self.fs.rename(old, new) {
                Ok(()) => StatusCode::Ok,
                Err(e) => StatusCode::from_errno(e),
            }
        } else {
            StatusCode::Failure
        };
        self.status(id, code)
    }
}

/// A NAME reply of one entry whose name and long name are `p` and no attributes.
pub(crate) fn one_name(id: u32, p: Vec<u8>) -> Response {
    Response::Name {
        id,
        entries: vec![NameEntry {
            filename: p.clone(),
            longname: p,
            attrs: Attrs::default(),
        }],
    }
}
