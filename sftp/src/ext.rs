//! The extensions: `posix-rename@openssh.com`, `statvfs@openssh.com`,
//! `fstatvfs@openssh.com`, `hardlink@openssh.com`, `fsync@openssh.com`,
//! `lsetstat@openssh.com`, `limits@openssh.com`, `expand-path@openssh.com`,
//! `copy-data`, `home-directory` and `users-groups-by-id@openssh.com`.

use crate::attrs::Attrs;
use crate::fs::{Errno, Filesystem, StatVfs};
use crate::handles::MAX_OPEN_HANDLES;
use crate::log::{Level, LogSink};
use crate::message::{Request, Response, StatusCode};
use crate::requests::{one_name, set_attrs};
use crate::server::{show, Server, MAX_PACKET_LEN, MAX_READ_LEN, MAX_WRITE_LEN};
use crate::wire::{Put, Reader};

/// An extension: its wire name, the version advertised, the request name of
/// `-P`/`-p`, and whether `-R` refuses it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Extension {
    /// The name in VERSION and EXTENDED.
    pub wire_name: &'static str,
    /// The version string advertised.
    pub version: &'static str,
    /// The request name.
    pub request_name: &'static str,
    /// Whether it modifies the filesystem.
    pub writes: bool,
}

const fn ext(
    wire_name: &'static str,
    version: &'static str,
    request_name: &'static str,
    writes: bool,
) -> Extension {
    Extension {
        wire_name,
        version,
        request_name,
        writes,
    }
}

/// Every extension, in the order VERSION advertises them (OpenSSH 9.x's).
pub const EXTENSIONS: &[Extension] = &[
    ext("posix-rename@openssh.com", "1", "posix-rename", true),
    ext("statvfs@openssh.com", "2", "statvfs", false),
    ext("fstatvfs@openssh.com", "2", "fstatvfs", false),
    ext("hardlink@openssh.com", "1", "hardlink", true),
    ext("fsync@openssh.com", "1", "fsync", true),
    ext("lsetstat@openssh.com", "1", "lsetstat", true),
    ext("limits@openssh.com", "1", "limits", false),
    ext("expand-path@openssh.com", "1", "expand-path", false),
    ext("copy-data", "1", "copy-data", true),
    ext("home-directory", "1", "home-directory", false),
    ext(
        "users-groups-by-id@openssh.com",
        "1",
        "users-groups-by-id",
        false,
    ),
];

/// copy-data moves data in chunks of this size.
pub const COPY_CHUNK: usize = 64 * 1024;

/// An extended request's fields.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum ExtRequest {
    PosixRename {
        old: Vec<u8>,
        new: Vec<u8>,
    },
    Statvfs {
        path: Vec<u8>,
    },
    Fstatvfs {
        handle: Vec<u8>,
    },
    Hardlink {
        old: Vec<u8>,
        new: Vec<u8>,
    },
    Fsync {
        handle: Vec<u8>,
    },
    Lsetstat {
        path: Vec<u8>,
        attrs: Attrs,
    },
    Limits,
    ExpandPath {
        path: Vec<u8>,
    },
    /// Copies `len` bytes (0: to end of file) between two open files.
    CopyData {
        from: Vec<u8>,
        from_offset: u64,
        len: u64,
        to: Vec<u8>,
        to_offset: u64,
    },
    /// An empty user name means the session's user.
    HomeDirectory {
        user: Vec<u8>,
    },
    UsersGroupsById {
        uids: Vec<u32>,
        gids: Vec<u32>,
    },
}

impl ExtRequest {
    /// The wire name.
    pub fn name(&self) -> &'static str {
        let i = match self {
            ExtRequest::PosixRename { .. } => 0,
            ExtRequest::Statvfs { .. } => 1,
            ExtRequest::Fstatvfs { .. } => 2,
            ExtRequest::Hardlink { .. } => 3,
            ExtRequest::Fsync { .. } => 4,
            ExtRequest::Lsetstat { .. } => 5,
            ExtRequest::Limits => 6,
            ExtRequest::ExpandPath { .. } => 7,
            ExtRequest::CopyData { .. } => 8,
            ExtRequest::HomeDirectory { .. } => 9,
            ExtRequest::UsersGroupsById { .. } => 10,
        };
        EXTENSIONS[i].wire_name
    }

    /// Parses the data after the name; `None` when malformed or unknown.
    pub fn parse(name: &str, data: &[u8]) -> Option<ExtRequest> {
        let mut r = Reader::new(data);
        let ids = |s: &[u8]| -> Option<Vec<u32>> {
            let chunks = s.chunks_exact(4);
            if !chunks.remainder().is_empty() {
                return None;
            }
            Some(
                chunks
                    .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]))
                    .collect(),
            )
        };
        Some(match name {
            "posix-rename@openssh.com" => ExtRequest::PosixRename {
                old: r.cstring()?,
                new: r.cstring()?,
            },
            "statvfs@openssh.com" => ExtRequest::Statvfs { path: r.cstring()? },
            "fstatvfs@openssh.com" => ExtRequest::Fstatvfs {
                handle: r.string()?.to_vec(),
            },
            "hardlink@openssh.com" => ExtRequest::Hardlink {
                old: r.cstring()?,
                new: r.cstring()?,
            },
            "fsync@openssh.com" => ExtRequest::Fsync {
                handle: r.string()?.to_vec(),
            },
            "lsetstat@openssh.com" => ExtRequest::Lsetstat {
                path: r.cstring()?,
                attrs: Attrs::read(&mut r)?,
            },
            "limits@openssh.com" => ExtRequest::Limits,
            "expand-path@openssh.com" => ExtRequest::ExpandPath { path: r.cstring()? },
            "copy-data" => ExtRequest::CopyData {
                from: r.string()?.to_vec(),
                from_offset: r.u64()?,
                len: r.u64()?,
                to: r.string()?.to_vec(),
                to_offset: r.u64()?,
            },
            "home-directory" => ExtRequest::HomeDirectory { user: r.cstring()? },
            "users-groups-by-id@openssh.com" => ExtRequest::UsersGroupsById {
                uids: ids(r.string()?)?,
                gids: ids(r.string()?)?,
            },
            _ => return None,
        })
    }

    /// The EXTENDED request carrying it.
    pub fn to_request(&self, id: u32) -> Request {
        let mut d = Vec::new();
        match self {
            ExtRequest::PosixRename { old, new } | ExtRequest::Hardlink { old, new } => {
                d.put_string(old);
                d.put_string(new);
            }
            ExtRequest::Statvfs { path } | ExtRequest::ExpandPath { path } => d.put_string(path),
            ExtRequest::Fstatvfs { handle } | ExtRequest::Fsync { handle } => d.put_string(handle),
            ExtRequest::Lsetstat { path, attrs } => {
                d.put_string(path);
                attrs.encode_into(&mut d);
            }
            ExtRequest::Limits => {}
            ExtRequest::CopyData {
                from,
                from_offset,
                len,
                to,
                to_offset,
            } => {
                d.put_string(from);
                d.put_u64(*from_offset);
                d.put_u64(*len);
                d.put_string(to);
                d.put_u64(*to_offset);
            }
            ExtRequest::HomeDirectory { user } => d.put_string(user),
            ExtRequest::UsersGroupsById { uids, gids } => {
                for l in [uids, gids] {
                    let b: Vec<u8> = l.iter().flat_map(|u| u.to_be_bytes()).collect();
                    d.put_string(&b);
                }
            }
        }
        Request::Extended {
            id,
            name: self.name().into(),
            data: d,
        }
    }
}

fn statvfs_reply(id: u32, s: &StatVfs) -> Response {
    let mut d = Vec::new();
    for v in [
        s.bsize, s.frsize, s.blocks, s.bfree, s.bavail, s.files, s.ffree, s.favail, s.fsid, s.flag,
        s.namemax,
    ] {
        d.put_u64(v);
    }
    Response::ExtendedReply { id, data: d }
}

impl<F: Filesystem, L: LogSink> Server<F, L> {
    /// The (name, version) pairs VERSION advertises: the permitted extensions.
    pub(crate) fn advertised(&mut self) -> Vec<(String, String)> {
        let mut v = Vec::new();
        for e in EXTENSIONS {
            // The same check (and refusal log lines) as for a request, as OpenSSH.
            if self.permitted(e.request_name, e.writes) {
                v.push((e.wire_name.to_string(), e.version.to_string()));
            } else {
                let n = e.wire_name;
                self.log.at(Level::Debug2, || {
                    format!("refusing to advertise disallowed extension {n}")
                });
            }
        }
        v
    }

    pub(crate) fn extended(&mut self, id: u32, name: &str, data: &[u8]) -> Response {
        let Some(e) = EXTENSIONS.iter().find(|e| e.wire_name == name) else {
            let n: String = name.chars().take(100).collect();
            self.log
                .at(Level::Error, || format!("Unknown extended request \"{n}\""));
            return self.status(id, StatusCode::OpUnsupported);
        };
        if !self.permitted(e.request_name, e.writes) {
            return self.status(id, StatusCode::PermissionDenied);
        }
        let Some(req) = ExtRequest::parse(name, data) else {
            self.log
                .at(Level::Error, || format!("malformed {name} request id {id}"));
            return self.status(id, StatusCode::BadMessage);
        };
        match req {
            ExtRequest::PosixRename { old, new } => {
                self.log.at(Level::Info, || {
                    format!("posix-rename old \"{}\" new \"{}\"", show(&old), show(&new))
                });
                let r = self.fs.rename(&old, &new);
                self.result(id, r)
            }
            ExtRequest::Hardlink { old, new } => {
                self.log.at(Level::Info, || {
                    format!("hardlink old \"{}\" new \"{}\"", show(&old), show(&new))
                });
                let r = self.fs.link(&old, &new);
                self.result(id, r)
            }
            ExtRequest::Statvfs { path } => {
                self.log
                    .at(Level::Info, || format!("statvfs \"{}\"", show(&path)));
                match self.fs.statvfs(&path) {
                    Ok(s) => statvfs_reply(id, &s),
                    Err(e) => self.errno(id, e),
                }
            }
            ExtRequest::Fstatvfs { handle } => {
                let Some(f) = self.handles.file(&handle) else {
                    return self.status(id, StatusCode::Failure);
                };
                match self.fs.fstatvfs(&f.file) {
                    Ok(s) => statvfs_reply(id, &s),
                    Err(e) => self.errno(id, e),
                }
            }
            ExtRequest::Fsync { handle } => {
                let Some(f) = self.handles.file(&handle) else {
                    return self.status(id, StatusCode::NoSuchFile);
                };
                let n = show(&f.name);
                self.log.at(Level::Verbose, || format!("fsync \"{n}\""));
                let r = self.fs.fsync(&mut f.file);
                self.result(id, r)
            }
            ExtRequest::Lsetstat { path, attrs } => {
                if attrs.size.is_some() {
                    // Nonsensical for links, as OpenSSH says.
                    return self.status(id, StatusCode::BadMessage);
                }
                let s = set_attrs(&mut self.fs, &mut self.log, &path, None, true, &attrs);
                self.status(id, s)
            }
            ExtRequest::Limits => {
                let mut d = Vec::new();
                d.put_u64(MAX_PACKET_LEN as u64);
                d.put_u64(MAX_READ_LEN.into());
                d.put_u64(MAX_WRITE_LEN.into());
                d.put_u64(MAX_OPEN_HANDLES as u64);
                Response::ExtendedReply { id, data: d }
            }
            ExtRequest::ExpandPath { path } => self.expand_path(id, path),
            ExtRequest::CopyData {
                from,
                from_offset,
                len,
                to,
                to_offset,
            } => {
                let code = self.copy_data(&from, from_offset, len, &to, to_offset);
                self.status(id, code)
            }
            ExtRequest::HomeDirectory { user } => {
                let home = if user.is_empty() || user == self.opts.user.as_bytes() {
                    Some(self.opts.home.clone().into_bytes())
                } else {
                    std::str::from_utf8(&user)
                        .ok()
                        .and_then(|u| self.fs.home_dir(u))
                };
                match home {
                    Some(h) => {
                        self.log.at(Level::Verbose, || {
                            format!("home-directory \"{}\"", show(&h))
                        });
                        one_name(id, h)
                    }
                    None => self.status(id, StatusCode::Failure),
                }
            }
            ExtRequest::UsersGroupsById { uids, gids } => self.users_groups(id, &uids, &gids),
        }
    }

    /// OpenSSH's rules: "" is "."; "~" and "~/..." are the current directory (the
    /// start directory); "~user/..." is that user's home; relative paths are taken
    /// from the current directory; the result is canonicalized.
    fn expand_path(&mut self, id: u32, path: Vec<u8>) -> Response {
        let cwd = match self.fs.cwd() {
            Ok(c) => c,
            Err(e) => return self.errno(id, e),
        };
        let path = if path.is_empty() {
            b".".to_vec()
        } else if path == b"~" {
            cwd
        } else if let Some(rest) = path.strip_prefix(b"~/") {
            crate::paths::join(&cwd, rest)
        } else if let Some(rest) = path.strip_prefix(b"~") {
            let slash = rest.iter().position(|&b| b == b'/').unwrap_or(rest.len());
            let (user, tail) = rest.split_at(slash);
            let home = if user == self.opts.user.as_bytes() {
                Some(self.opts.home.clone().into_bytes())
            } else {
                std::str::from_utf8(user)
                    .ok()
                    .and_then(|u| self.fs.home_dir(u))
            };
            let Some(home) = home else {
                return self.status_msg(id, StatusCode::NoSuchFile, "no such user");
            };
            let tail = tail.strip_prefix(b"/").unwrap_or(tail);
            if tail.is_empty() {
                home
            } else {
                crate::paths::join(&home, tail)
            }
        } else if !path.starts_with(b"/") {
            crate::paths::join(&cwd, &path)
        } else {
            path
        };
        self.log
            .at(Level::Verbose, || format!("expand \"{}\"", show(&path)));
        match crate::paths::realpath(&mut self.fs, &path) {
            Ok(p) => one_name(id, p),
            Err(e) => self.errno(id, e),
        }
    }

    /// Copies between two distinct file handles (not the same path). With `len`
    /// 0 it copies to end of file: the source's size when the copy starts, so a
    /// source that is the destination under another name cannot grow without end.
    /// With a length, reaching end of file first is `SSH_FX_EOF`.
    fn copy_data(
        &mut self,
        from: &[u8],
        mut roff: u64,
        len: u64,
        to: &[u8],
        mut woff: u64,
    ) -> StatusCode {
        let (Some(rname), Some(wname)) = (self.handles.name(from), self.handles.name(to)) else {
            return StatusCode::Failure;
        };
        if from == to || rname == wname || self.handles.file(to).is_none() {
            return StatusCode::Failure;
        }
        let Some(src) = self.handles.file(from) else {
            return StatusCode::Failure;
        };
        let until_eof = len == 0;
        let mut left = if until_eof {
            match self.fs.fstat(&src.file) {
                Ok(m) => m.size.saturating_sub(roff),
                Err(e) => return StatusCode::from_errno(e),
            }
        } else {
            len
        };
        let mut buf = vec![0u8; COPY_CHUNK];
        while left > 0 {
            let want = left.min(COPY_CHUNK as u64) as usize;
            let Some(src) = self.handles.file(from) else {
                return StatusCode::Failure;
            };
            let n = match self.fs.read(&mut src.file, roff, &mut buf[..want]) {
                Ok(0) => {
                    return if until_eof {
                        StatusCode::Ok
                    } else {
                        StatusCode::Eof
                    }
                }
                Ok(n) => n,
                Err(e) => {
                    self.log.at(Level::Error, || {
                        format!("copy-data: read failed: {}", e.desc())
                    });
                    return StatusCode::from_errno(e);
                }
            };
            src.bytes_read += n as u64;
            let Some(dst) = self.handles.file(to) else {
                return StatusCode::Failure;
            };
            if let Err(e) = self.fs.write(&mut dst.file, woff, &buf[..n]) {
                self.log.at(Level::Error, || {
                    format!("copy-data: write failed: {}", e.desc())
                });
                return StatusCode::from_errno(e);
            }
            dst.bytes_written += n as u64;
            roff = roff.saturating_add(n as u64);
            woff = woff.saturating_add(n as u64);
            left -= n as u64;
        }
        StatusCode::Ok
    }

    fn users_groups(&mut self, id: u32, uids: &[u32], gids: &[u32]) -> Response {
        let mut users = Vec::new();
        for &u in uids {
            let n = self.fs.user_name(u).unwrap_or_default();
            users.put_string(n.as_bytes());
        }
        let mut groups = Vec::new();
        for &g in gids {
            let n = self.fs.group_name(g).unwrap_or_default();
            groups.put_string(n.as_bytes());
        }
        let (nu, ng) = (uids.len(), gids.len());
        self.log.at(Level::Verbose, || {
            format!("users-groups-by-id: {nu} users, {ng} groups")
        });
        if users.len() + groups.len() + 64 > MAX_PACKET_LEN {
            return self.errno(id, Errno::E2BIG);
        }
        let mut d = Vec::new();
        d.put_string(&users);
        d.put_string(&groups);
        Response::ExtendedReply { id, data: d }
    }
}
