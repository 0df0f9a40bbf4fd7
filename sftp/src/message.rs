//! SFTP packets: the requests a client sends, the replies a server sends, and the
//! status codes. Both directions encode and parse (the server parses requests and
//! encodes replies; tests and a client do the reverse). Payloads here exclude the
//! uint32 length that frames every packet on the stream.

use crate::attrs::Attrs;
use crate::wire::{Put, Reader};

/// Packet types (filexfer-02 section 3).
#[allow(missing_docs)]
pub mod kind {
    pub const INIT: u8 = 1;
    pub const VERSION: u8 = 2;
    pub const OPEN: u8 = 3;
    pub const CLOSE: u8 = 4;
    pub const READ: u8 = 5;
    pub const WRITE: u8 = 6;
    pub const LSTAT: u8 = 7;
    pub const FSTAT: u8 = 8;
    pub const SETSTAT: u8 = 9;
    pub const FSETSTAT: u8 = 10;
    pub const OPENDIR: u8 = 11;
    pub const READDIR: u8 = 12;
    pub const REMOVE: u8 = 13;
    pub const MKDIR: u8 = 14;
    pub const RMDIR: u8 = 15;
    pub const REALPATH: u8 = 16;
    pub const STAT: u8 = 17;
    pub const RENAME: u8 = 18;
    pub const READLINK: u8 = 19;
    pub const SYMLINK: u8 = 20;
    pub const STATUS: u8 = 101;
    pub const HANDLE: u8 = 102;
    pub const DATA: u8 = 103;
    pub const NAME: u8 = 104;
    pub const ATTRS: u8 = 105;
    pub const EXTENDED: u8 = 200;
    pub const EXTENDED_REPLY: u8 = 201;
}

/// `pflags` of OPEN.
#[allow(missing_docs)]
pub mod pflags {
    pub const READ: u32 = 0x01;
    pub const WRITE: u32 = 0x02;
    pub const APPEND: u32 = 0x04;
    pub const CREAT: u32 = 0x08;
    pub const TRUNC: u32 = 0x10;
    pub const EXCL: u32 = 0x20;
}

/// SSH_FX_* status codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub enum StatusCode {
    /// `SSH_FX_OK`.
    Ok = 0,
    /// `SSH_FX_EOF`.
    Eof = 1,
    /// `SSH_FX_NO_SUCH_FILE`.
    NoSuchFile = 2,
    /// `SSH_FX_PERMISSION_DENIED`.
    PermissionDenied = 3,
    /// `SSH_FX_FAILURE`.
    Failure = 4,
    /// `SSH_FX_BAD_MESSAGE`.
    BadMessage = 5,
    /// `SSH_FX_NO_CONNECTION`.
    NoConnection = 6,
    /// `SSH_FX_CONNECTION_LOST`.
    ConnectionLost = 7,
    /// `SSH_FX_OP_UNSUPPORTED`.
    OpUnsupported = 8,
}

impl StatusCode {
    /// The default message text, OpenSSH's wording.
    pub fn message(self) -> &'static str {
        match self {
            StatusCode::Ok => "Success",
            StatusCode::Eof => "End of file",
            StatusCode::NoSuchFile => "No such file",
            StatusCode::PermissionDenied => "Permission denied",
            StatusCode::Failure => "Failure",
            StatusCode::BadMessage => "Bad message",
            StatusCode::NoConnection => "No connection",
            StatusCode::ConnectionLost => "Connection lost",
            StatusCode::OpUnsupported => "Operation unsupported",
        }
    }

    /// The code for a wire value; unknown values are `None`.
    pub fn from_u32(v: u32) -> Option<StatusCode> {
        use StatusCode::*;
        [
            Ok,
            Eof,
            NoSuchFile,
            PermissionDenied,
            Failure,
            BadMessage,
            NoConnection,
        ]
        .into_iter()
        .chain([ConnectionLost, OpUnsupported])
        .find(|c| *c as u32 == v)
    }

    /// OpenSSH's `errno_to_portable` mapping.
    pub fn from_errno(e: nix::errno::Errno) -> StatusCode {
        use nix::errno::Errno as E;
        match e {
            E::ENOENT | E::ENOTDIR | E::EBADF | E::ELOOP => StatusCode::NoSuchFile,
            E::EPERM | E::EACCES | E::EFAULT => StatusCode::PermissionDenied,
            E::ENAMETOOLONG | E::EINVAL => StatusCode::BadMessage,
            E::ENOSYS => StatusCode::OpUnsupported,
            _ => StatusCode::Failure,
        }
    }
}

/// One entry of a NAME reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameEntry {
    /// The file name.
    pub filename: Vec<u8>,
    /// The `ls -l` style line.
    pub longname: Vec<u8>,
    /// Its attributes.
    pub attrs: Attrs,
}

/// A client request. `Symlink` keeps the wire order OpenSSH uses (target first).
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum Request {
    Init {
        version: u32,
    },
    Open {
        id: u32,
        path: Vec<u8>,
        pflags: u32,
        attrs: Attrs,
    },
    Close {
        id: u32,
        handle: Vec<u8>,
    },
    Read {
        id: u32,
        handle: Vec<u8>,
        offset: u64,
        len: u32,
    },
    Write {
        id: u32,
        handle: Vec<u8>,
        offset: u64,
        data: Vec<u8>,
    },
    Lstat {
        id: u32,
        path: Vec<u8>,
    },
    Fstat {
        id: u32,
        handle: Vec<u8>,
    },
    Setstat {
        id: u32,
        path: Vec<u8>,
        attrs: Attrs,
    },
    Fsetstat {
        id: u32,
        handle: Vec<u8>,
        attrs: Attrs,
    },
    Opendir {
        id: u32,
        path: Vec<u8>,
    },
    Readdir {
        id: u32,
        handle: Vec<u8>,
    },
    Remove {
        id: u32,
        path: Vec<u8>,
    },
    Mkdir {
        id: u32,
        path: Vec<u8>,
        attrs: Attrs,
    },
    Rmdir {
        id: u32,
        path: Vec<u8>,
    },
    Realpath {
        id: u32,
        path: Vec<u8>,
    },
    Stat {
        id: u32,
        path: Vec<u8>,
    },
    Rename {
        id: u32,
        old: Vec<u8>,
        new: Vec<u8>,
    },
    Readlink {
        id: u32,
        path: Vec<u8>,
    },
    /// OpenSSH's order, the reverse of the draft: the link's target, then the link.
    Symlink {
        id: u32,
        target: Vec<u8>,
        link: Vec<u8>,
    },
    /// An extended request: its name and the bytes after the name.
    Extended {
        id: u32,
        name: String,
        data: Vec<u8>,
    },
}

/// Why a request could not be parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParseError {
    /// The packet is empty or too short to hold its request id.
    NoId,
    /// A known request type whose fields are malformed.
    Malformed {
        /// The request id.
        id: u32,
    },
    /// A request type this server does not know.
    UnknownType {
        /// The packet type byte.
        kind: u8,
        /// The request id.
        id: u32,
    },
}

impl Request {
    /// Parses a packet payload (type byte first). Trailing bytes after the fields
    /// are ignored, as OpenSSH does.
    pub fn parse(payload: &[u8]) -> Result<Request, ParseError> {
        let mut r = Reader::new(payload);
        let t = r.u8().ok_or(ParseError::NoId)?;
        let id = r.u32().ok_or(ParseError::NoId)?;
        if t == kind::INIT {
            return Ok(Request::Init { version: id });
        }
        let bad = ParseError::Malformed { id };
        let req = (|| -> Option<Request> {
            Some(match t {
                kind::OPEN => Request::Open {
                    id,
                    path: r.cstring()?,
                    pflags: r.u32()?,
                    attrs: Attrs::read(&mut r)?,
                },
                kind::CLOSE => Request::Close {
                    id,
                    handle: r.string()?.to_vec(),
                },
                kind::READ => Request::Read {
                    id,
                    handle: r.string()?.to_vec(),
                    offset: r.u64()?,
                    len: r.u32()?,
                },
                kind::WRITE => Request::Write {
                    id,
                    handle: r.string()?.to_vec(),
                    offset: r.u64()?,
                    data: r.string()?.to_vec(),
                },
                kind::LSTAT => Request::Lstat {
                    id,
                    path: r.cstring()?,
                },
                kind::FSTAT => Request::Fstat {
                    id,
                    handle: r.string()?.to_vec(),
                },
                kind::SETSTAT => Request::Setstat {
                    id,
                    path: r.cstring()?,
                    attrs: Attrs::read(&mut r)?,
                },
                kind::FSETSTAT => Request::Fsetstat {
                    id,
                    handle: r.string()?.to_vec(),
                    attrs: Attrs::read(&mut r)?,
                },
                kind::OPENDIR => Request::Opendir {
                    id,
                    path: r.cstring()?,
                },
                kind::READDIR => Request::Readdir {
                    id,
                    handle: r.string()?.to_vec(),
                },
                kind::REMOVE => Request::Remove {
                    id,
                    path: r.cstring()?,
                },
                kind::MKDIR => Request::Mkdir {
                    id,
                    path: r.cstring()?,
                    attrs: Attrs::read(&mut r)?,
                },
                kind::RMDIR => Request::Rmdir {
                    id,
                    path: r.cstring()?,
                },
                kind::REALPATH => Request::Realpath {
                    id,
                    path: r.cstring()?,
                },
                kind::STAT => Request::Stat {
                    id,
                    path: r.cstring()?,
                },
                kind::RENAME => Request::Rename {
                    id,
                    old: r.cstring()?,
                    new: r.cstring()?,
                },
                kind::READLINK => Request::Readlink {
                    id,
                    path: r.cstring()?,
                },
                kind::SYMLINK => Request::Symlink {
                    id,
                    target: r.cstring()?,
                    link: r.cstring()?,
                },
                kind::EXTENDED => Request::Extended {
                    id,
                    name: r.utf8()?,
                    data: r.rest().to_vec(),
                },
                _ => return None,
            })
        })();
        match req {
            Some(q) => Ok(q),
            None if (kind::OPEN..=kind::SYMLINK).contains(&t) || t == kind::EXTENDED => Err(bad),
            None => Err(ParseError::UnknownType { kind: t, id }),
        }
    }

    /// The packet payload (type byte first), without the length prefix.
    pub fn encode(&self) -> Vec<u8> {
        let mut v = Vec::new();
        let head = |v: &mut Vec<u8>, t: u8, id: u32| {
            v.put_u8(t);
            v.put_u32(id);
        };
        match self {
            Request::Init { version } => head(&mut v, kind::INIT, *version),
            Request::Open {
                id,
                path,
                pflags,
                attrs,
            } => {
                head(&mut v, kind::OPEN, *id);
                v.put_string(path);
                v.put_u32(*pflags);
                attrs.encode_into(&mut v);
            }
            Request::Close { id, handle } => one(&mut v, kind::CLOSE, *id, handle),
            Request::Read {
                id,
                handle,
                offset,
                len,
            } => {
                one(&mut v, kind::READ, *id, handle);
                v.put_u64(*offset);
                v.put_u32(*len);
            }
            Request::Write {
                id,
                handle,
                offset,
                data,
            } => {
                one(&mut v, kind::WRITE, *id, handle);
                v.put_u64(*offset);
                v.put_string(data);
            }
            Request::Lstat { id, path } => one(&mut v, kind::LSTAT, *id, path),
            Request::Fstat { id, handle } => one(&mut v, kind::FSTAT, *id, handle),
            Request::Setstat { id, path, attrs } => {
                one(&mut v, kind::SETSTAT, *id, path);
                attrs.encode_into(&mut v);
            }
            Request::Fsetstat { id, handle, attrs } => {
                one(&mut v, kind::FSETSTAT, *id, handle);
                attrs.encode_into(&mut v);
            }
            Request::Opendir { id, path } => one(&mut v, kind::OPENDIR, *id, path),
            Request::Readdir { id, handle } => one(&mut v, kind::READDIR, *id, handle),
            Request::Remove { id, path } => one(&mut v, kind::REMOVE, *id, path),
            Request::Mkdir { id, path, attrs } => {
                one(&mut v, kind::MKDIR, *id, path);
                attrs.encode_into(&mut v);
            }
            Request::Rmdir { id, path } => one(&mut v, kind::RMDIR, *id, path),
            Request::Realpath { id, path } => one(&mut v, kind::REALPATH, *id, path),
            Request::Stat { id, path } => one(&mut v, kind::STAT, *id, path),
            Request::Rename { id, old, new } => {
                one(&mut v, kind::RENAME, *id, old);
                v.put_string(new);
            }
            Request::Readlink { id, path } => one(&mut v, kind::READLINK, *id, path),
            Request::Symlink { id, target, link } => {
                one(&mut v, kind::SYMLINK, *id, target);
                v.put_string(link);
            }
            Request::Extended { id, name, data } => {
                one(&mut v, kind::EXTENDED, *id, name.as_bytes());
                v.extend_from_slice(data);
            }
        }
        v
    }

    /// The packet with its uint32 length prefix, as it goes on the stream.
    pub fn frame(&self) -> Vec<u8> {
        frame(&self.encode())
    }
}

fn one(v: &mut Vec<u8>, t: u8, id: u32, s: &[u8]) {
    v.put_u8(t);
    v.put_u32(id);
    v.put_string(s);
}

/// Prefixes a payload with its uint32 length.
pub fn frame(payload: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(payload.len() + 4);
    v.put_string(payload);
    v
}

mod response;
pub use response::Response;
