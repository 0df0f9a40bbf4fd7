//! The server replies.

use super::{kind, one, NameEntry};
use crate::attrs::Attrs;
use crate::wire::{Put, Reader};

/// A server reply.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum Response {
    Version {
        version: u32,
        extensions: Vec<(String, String)>,
    },
    Status {
        id: u32,
        code: u32,
        message: String,
        lang: String,
    },
    Handle {
        id: u32,
        handle: Vec<u8>,
    },
    Data {
        id: u32,
        data: Vec<u8>,
    },
    Name {
        id: u32,
        entries: Vec<NameEntry>,
    },
    Attrs {
        id: u32,
        attrs: Attrs,
    },
    ExtendedReply {
        id: u32,
        data: Vec<u8>,
    },
}

impl Response {
    /// The packet payload (type byte first).
    pub fn encode(&self) -> Vec<u8> {
        let mut v = Vec::new();
        match self {
            Response::Version {
                version,
                extensions,
            } => {
                v.put_u8(kind::VERSION);
                v.put_u32(*version);
                for (n, d) in extensions {
                    v.put_string(n.as_bytes());
                    v.put_string(d.as_bytes());
                }
            }
            Response::Status {
                id,
                code,
                message,
                lang,
            } => {
                v.put_u8(kind::STATUS);
                v.put_u32(*id);
                v.put_u32(*code);
                v.put_string(message.as_bytes());
                v.put_string(lang.as_bytes());
            }
            Response::Handle { id, handle } => one(&mut v, kind::HANDLE, *id, handle),
            Response::Data { id, data } => one(&mut v, kind::DATA, *id, data),
            Response::Name { id, entries } => {
                v.put_u8(kind::NAME);
                v.put_u32(*id);
                v.put_u32(u32::try_from(entries.len()).unwrap_or(u32::MAX));
                for e in entries {
                    v.put_string(&e.filename);
                    v.put_string(&e.longname);
                    e.attrs.encode_into(&mut v);
                }
            }
            Response::Attrs { id, attrs } => {
                v.put_u8(kind::ATTRS);
                v.put_u32(*id);
                attrs.encode_into(&mut v);
            }
            Response::ExtendedReply { id, data } => {
                v.put_u8(kind::EXTENDED_REPLY);
                v.put_u32(*id);
                v.extend_from_slice(data);
            }
        }
        v
    }

    /// Parses a reply payload (type byte first). A version 3 STATUS without its
    /// message and language (as version 0-2 servers send) parses with empty ones.
    pub fn parse(payload: &[u8]) -> Option<Response> {
        let mut r = Reader::new(payload);
        let t = r.u8()?;
        let id = r.u32()?;
        Some(match t {
            kind::VERSION => {
                let mut extensions = Vec::new();
                while r.remaining() > 0 {
                    extensions.push((r.utf8()?, r.utf8()?));
                }
                Response::Version {
                    version: id,
                    extensions,
                }
            }
            kind::STATUS => {
                let code = r.u32()?;
                let (message, lang) = if r.remaining() == 0 {
                    (String::new(), String::new())
                } else {
                    (r.utf8()?, r.utf8()?)
                };
                Response::Status {
                    id,
                    code,
                    message,
                    lang,
                }
            }
            kind::HANDLE => Response::Handle {
                id,
                handle: r.string()?.to_vec(),
            },
            kind::DATA => Response::Data {
                id,
                data: r.string()?.to_vec(),
            },
            kind::NAME => {
                let n = r.u32()?;
                let mut entries = Vec::new();
                for _ in 0..n {
                    entries.push(NameEntry {
                        filename: r.string()?.to_vec(),
                        longname: r.string()?.to_vec(),
                        attrs: Attrs::read(&mut r)?,
                    });
                }
                Response::Name { id, entries }
            }
            kind::ATTRS => Response::Attrs {
                id,
                attrs: Attrs::read(&mut r)?,
            },
            kind::EXTENDED_REPLY => Response::ExtendedReply {
                id,
                data: r.rest().to_vec(),
            },
            _ => return None,
        })
    }

    /// Splits framed replies off the front of `buf`: the payloads of every complete
    /// packet, and the bytes used.
    pub fn split_frames(buf: &[u8]) -> (Vec<Vec<u8>>, usize) {
        let mut out = Vec::new();
        let mut r = Reader::new(buf);
        let mut used = 0;
        while let Some(p) = r.string() {
            out.push(p.to_vec());
            used = buf.len() - r.remaining();
        }
        (out, used)
    }
}
