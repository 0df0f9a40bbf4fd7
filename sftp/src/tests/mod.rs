//! Tests through the sans-IO server over `MemFs`, and of `LocalFs` and `serve` in a
//! temporary directory.

mod ext;
mod local;
mod props;
mod requests;

use crate::ext::ExtRequest;
use crate::log::{Level, VecSink};
use crate::memfs::MemFs;
use crate::message::{pflags, Request, Response, StatusCode};
use crate::options::Options;
use crate::server::*;
use crate::{Attrs, Filesystem};

/// A test client: frames requests, feeds them, parses the one reply.
pub(crate) struct Client<F: Filesystem = MemFs> {
    pub server: Server<F, VecSink>,
    next: u32,
}

pub(crate) fn opts(args: &[&str]) -> Options {
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    Options::parse(&args)
        .unwrap()
        .with_session("ann", 1000, "/home/ann", "192.0.2.7")
}

pub(crate) fn fs() -> MemFs {
    let mut fs = MemFs::new();
    fs.mkdir_all(b"/home/ann").unwrap();
    fs.write_file(b"/home/ann/a.txt", b"0123456789").unwrap();
    fs.add_user(1000, "ann", b"/home/ann");
    fs.add_user(0, "root", b"/root");
    fs.add_group(1000, "staff");
    fs.set_cwd(b"/home/ann").unwrap();
    fs
}

impl Client {
    pub fn new() -> Self {
        Self::with(fs(), opts(&["-l", "DEBUG3"]))
    }
}

impl<F: Filesystem> Client<F> {
    pub fn with(fs: F, o: Options) -> Self {
        let mut server = Server::new(fs, &o, VecSink::default());
        server
            .handle_input(&Request::Init { version: 3 }.frame())
            .unwrap();
        let (r, _) = Response::split_frames(&server.take_output());
        assert!(matches!(
            Response::parse(&r[0]),
            Some(Response::Version { version: 3, .. })
        ));
        Client { server, next: 1 }
    }

    pub fn id(&mut self) -> u32 {
        self.next += 1;
        self.next
    }

    /// Sends one request and returns its one reply, checking the id.
    pub fn call(&mut self, req: Request) -> Response {
        self.server.handle_input(&req.frame()).unwrap();
        let out = self.server.take_output();
        let (frames, used) = Response::split_frames(&out);
        assert_eq!(used, out.len());
        assert_eq!(frames.len(), 1, "one reply to {req:?}");
        let r = Response::parse(&frames[0]).unwrap();
        let id = match &r {
            Response::Status { id, .. }
            | Response::Handle { id, .. }
            | Response::Data { id, .. }
            | Response::Name { id, .. }
            | Response::Attrs { id, .. }
            | Response::ExtendedReply { id, .. } => *id,
            Response::Version { .. } => panic!("VERSION to {req:?}"),
        };
        assert_eq!(id, self.next, "reply id");
        r
    }

    /// The status code of the reply (panics for other replies).
    pub fn status(&mut self, req: Request) -> StatusCode {
        match self.call(req) {
            Response::Status { code, message, .. } => {
                let c = StatusCode::from_u32(code).unwrap();
                assert_eq!(message, c.message());
                c
            }
            r => panic!("expected STATUS, got {r:?}"),
        }
    }

    pub fn ext(&mut self, e: ExtRequest) -> Response {
        let id = self.id();
        self.call(e.to_request(id))
    }

    pub fn ext_status(&mut self, e: ExtRequest) -> StatusCode {
        let id = self.id();
        self.status(e.to_request(id))
    }

    pub fn open(&mut self, path: &str, flags: u32) -> Result<Vec<u8>, StatusCode> {
        let id = self.id();
        let req = Request::Open {
            id,
            path: path.into(),
            pflags: flags,
            attrs: Attrs::default(),
        };
        match self.call(req) {
            Response::Handle { handle, .. } => Ok(handle),
            Response::Status { code, .. } => Err(StatusCode::from_u32(code).unwrap()),
            r => panic!("{r:?}"),
        }
    }

    pub fn close(&mut self, handle: &[u8]) -> StatusCode {
        let id = self.id();
        self.status(Request::Close {
            id,
            handle: handle.to_vec(),
        })
    }

    pub fn write(&mut self, handle: &[u8], offset: u64, data: &[u8]) -> StatusCode {
        let id = self.id();
        self.status(Request::Write {
            id,
            handle: handle.to_vec(),
            offset,
            data: data.to_vec(),
        })
    }

    pub fn read(&mut self, handle: &[u8], offset: u64, len: u32) -> Result<Vec<u8>, StatusCode> {
        let id = self.id();
        match self.call(Request::Read {
            id,
            handle: handle.to_vec(),
            offset,
            len,
        }) {
            Response::Data { data, .. } => Ok(data),
            Response::Status { code, .. } => Err(StatusCode::from_u32(code).unwrap()),
            r => panic!("{r:?}"),
        }
    }

    /// A path request that answers NAME with one entry: its name.
    pub fn name(&mut self, req: Request) -> Result<String, StatusCode> {
        match self.call(req) {
            Response::Name { entries, .. } => {
                assert_eq!(entries.len(), 1);
                Ok(String::from_utf8(entries[0].filename.clone()).unwrap())
            }
            Response::Status { code, .. } => Err(StatusCode::from_u32(code).unwrap()),
            r => panic!("{r:?}"),
        }
    }

    pub fn stat(&mut self, path: &str) -> Result<Attrs, StatusCode> {
        let id = self.id();
        match self.call(Request::Stat {
            id,
            path: path.into(),
        }) {
            Response::Attrs { attrs, .. } => Ok(attrs),
            Response::Status { code, .. } => Err(StatusCode::from_u32(code).unwrap()),
            r => panic!("{r:?}"),
        }
    }

    pub fn logs(&mut self) -> Vec<String> {
        self.server
            .sink()
            .0
            .iter()
            .map(|(_, l)| l.clone())
            .collect()
    }

    pub fn has_log(&mut self, level: Level, line: &str) -> bool {
        self.server
            .sink()
            .0
            .iter()
            .any(|(l, s)| *l == level && s == line)
    }
}

fn framed(payload: &[u8]) -> Vec<u8> {
    crate::message::frame(payload)
}

#[test]
fn version_lists_extensions_like_openssh() {
    let mut s = Server::new(fs(), &opts(&[]), VecSink::default());
    s.handle_input(&Request::Init { version: 3 }.frame())
        .unwrap();
    let (r, _) = Response::split_frames(&s.take_output());
    let Some(Response::Version {
        version,
        extensions,
    }) = Response::parse(&r[0])
    else {
        panic!()
    };
    assert_eq!(version, SFTP_VERSION);
    let names: Vec<(&str, &str)> = extensions
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    assert_eq!(
        names,
        [
            ("posix-rename@openssh.com", "1"),
            ("statvfs@openssh.com", "2"),
            ("fstatvfs@openssh.com", "2"),
            ("hardlink@openssh.com", "1"),
            ("fsync@openssh.com", "1"),
            ("lsetstat@openssh.com", "1"),
            ("limits@openssh.com", "1"),
            ("expand-path@openssh.com", "1"),
            ("copy-data", "1"),
            ("home-directory", "1"),
            ("users-groups-by-id@openssh.com", "1"),
        ]
    );
    assert_eq!(s.client_version(), Some(3));
}

#[test]
fn read_only_and_denied_extensions_are_not_advertised() {
    let mut s = Server::new(
        fs(),
        &opts(&["-R", "-P", "limits", "-l", "VERBOSE"]),
        VecSink::default(),
    );
    s.handle_input(&Request::Init { version: 3 }.frame())
        .unwrap();
    let (r, _) = Response::split_frames(&s.take_output());
    let Some(Response::Version { extensions, .. }) = Response::parse(&r[0]) else {
        panic!()
    };
    let names: Vec<&str> = extensions.iter().map(|(a, _)| a.as_str()).collect();
    assert_eq!(
        names,
        [
            "statvfs@openssh.com",
            "fstatvfs@openssh.com",
            "expand-path@openssh.com",
            "home-directory",
            "users-groups-by-id@openssh.com"
        ]
    );
    // Refusals are logged as OpenSSH logs them while composing VERSION.
    let logs: Vec<&str> = s.sink().0.iter().map(|(_, l)| l.as_str()).collect();
    assert!(logs.contains(&"Refusing posix-rename request in read-only mode"));
    assert!(logs.contains(&"Refusing copy-data request in read-only mode"));
    assert!(logs.contains(&"Refusing denylisted limits request"));
}

#[test]
fn fatal_errors_end_the_session() {
    // A request before INIT.
    let mut s = Server::new(fs(), &opts(&[]), VecSink::default());
    let stat = Request::Stat {
        id: 1,
        path: b"/".to_vec(),
    }
    .frame();
    assert_eq!(s.handle_input(&stat), Err(Error::BeforeInit(17)));
    assert_eq!(s.handle_input(&[]), Err(Error::BeforeInit(17)));
    assert!(!s.wants_input());
    // A too-long packet, even before its body arrives.
    let mut s = Server::new(fs(), &opts(&[]), VecSink::default());
    let len = (MAX_PACKET_LEN as u32 + 1).to_be_bytes();
    assert_eq!(
        s.handle_input(&len),
        Err(Error::PacketTooLong(MAX_PACKET_LEN as u32 + 1))
    );
    // An INIT too short for its version; an empty packet.
    let mut s = Server::new(fs(), &opts(&[]), VecSink::default());
    assert_eq!(s.handle_input(&framed(&[1, 0, 0])), Err(Error::Malformed));
    let mut c = Client::new();
    assert_eq!(c.server.handle_input(&framed(&[])), Err(Error::Malformed));
    assert_eq!(
        c.server.handle_input(&framed(&[3, 0, 0])),
        Err(Error::Malformed)
    );
    // The largest allowed length is not fatal.
    let mut c = Client::new();
    let mut big = (MAX_PACKET_LEN as u32).to_be_bytes().to_vec();
    big.extend_from_slice(&[0u8; 100]);
    assert_eq!(c.server.handle_input(&big), Ok(104));
}

#[test]
fn malformed_and_unknown_requests_get_status() {
    let mut c = Client::new();
    let id = c.id();
    // OPEN whose path string runs past the packet.
    let mut p = vec![3];
    p.extend_from_slice(&id.to_be_bytes());
    p.extend_from_slice(&[0, 0, 0, 50, b'x']);
    c.server.handle_input(&framed(&p)).unwrap();
    let (r, _) = Response::split_frames(&c.server.take_output());
    let Some(Response::Status { id: rid, code, .. }) = Response::parse(&r[0]) else {
        panic!()
    };
    assert_eq!((rid, code), (id, StatusCode::BadMessage as u32));
    // A path holding NUL.
    let id = c.id();
    assert_eq!(
        c.status(Request::Remove {
            id,
            path: b"a\0b".to_vec()
        }),
        StatusCode::BadMessage
    );
    // An unknown type.
    let id = c.id();
    let mut p = vec![99];
    p.extend_from_slice(&id.to_be_bytes());
    c.server.handle_input(&framed(&p)).unwrap();
    let (r, _) = Response::split_frames(&c.server.take_output());
    let Some(Response::Status { id: rid, code, .. }) = Response::parse(&r[0]) else {
        panic!()
    };
    assert_eq!((rid, code), (id, StatusCode::OpUnsupported as u32));
    assert!(c.has_log(Level::Error, "Unknown message 99"));
    // Trailing bytes after a request's fields are ignored.
    let id = c.id();
    let mut p = Request::Stat {
        id,
        path: b"a.txt".to_vec(),
    }
    .encode();
    p.extend_from_slice(b"junk");
    c.server.handle_input(&framed(&p)).unwrap();
    let (r, _) = Response::split_frames(&c.server.take_output());
    assert!(matches!(
        Response::parse(&r[0]),
        Some(Response::Attrs { .. })
    ));
}

#[test]
fn old_clients_get_short_status() {
    let mut s = Server::new(fs(), &opts(&[]), VecSink::default());
    s.handle_input(&Request::Init { version: 2 }.frame())
        .unwrap();
    s.take_output();
    s.handle_input(
        &Request::Remove {
            id: 4,
            path: b"/nope".to_vec(),
        }
        .frame(),
    )
    .unwrap();
    let out = s.take_output();
    assert_eq!(out, framed(&[101, 0, 0, 0, 4, 0, 0, 0, 2]));
    assert_eq!(s.client_version(), Some(2));
}

#[test]
fn output_is_bounded_when_the_client_does_not_read() {
    let mut fs = fs();
    fs.write_file(b"/big", &vec![7u8; 300_000]).unwrap();
    let mut c = Client::with(fs, opts(&[]));
    let h = c.open("/big", pflags::READ).unwrap();
    let mut input = Vec::new();
    for i in 0..100u32 {
        let req = Request::Read {
            id: i,
            handle: h.clone(),
            offset: 0,
            len: u32::MAX,
        };
        input.extend_from_slice(&req.frame());
    }
    let used = c.server.handle_input(&input).unwrap();
    assert_eq!(used, input.len(), "small requests all fit the input buffer");
    let pending = c.server.pending_output().len();
    assert!(
        (OUTPUT_HIGH_WATER..=MAX_BUFFERED_OUTPUT).contains(&pending),
        "{pending}"
    );
    assert!(!c.server.wants_input());
    // Nothing more is processed until output is drained.
    assert_eq!(c.server.handle_input(&[]), Ok(0));
    assert_eq!(c.server.pending_output().len(), pending);
    let mut replies = 0;
    loop {
        let out = c.server.take_output();
        if out.is_empty() {
            break;
        }
        let (frames, _) = Response::split_frames(&out);
        for f in &frames {
            let Some(Response::Data { data, .. }) = Response::parse(f) else {
                panic!()
            };
            assert_eq!(
                data.len(),
                MAX_READ_LEN as usize,
                "read clamped to MAX_READ_LEN"
            );
        }
        replies += frames.len();
        c.server.handle_input(&[]).unwrap();
    }
    assert_eq!(replies, 100);
}

#[test]
fn input_is_taken_only_up_to_its_bound() {
    let mut c = Client::new();
    // A packet announcing the maximum length, fed a byte short of complete.
    let mut p = (MAX_PACKET_LEN as u32).to_be_bytes().to_vec();
    p.push(200);
    p.extend_from_slice(&c.next.to_be_bytes());
    p.resize(MAX_PACKET_LEN + 4 + 3, 0);
    let used = c.server.handle_input(&p).unwrap();
    // The whole packet is taken and processed (an unknown extension); the rest
    // is taken too since the buffer emptied.
    assert_eq!(used, p.len());
    let (r, _) = Response::split_frames(&c.server.take_output());
    assert_eq!(r.len(), 1);
}

#[test]
fn session_lines_are_logged_in_openssh_wording() {
    let mut c = Client::with(fs(), opts(&["-l", "INFO"]));
    let h = c.open("a.txt", pflags::READ).unwrap();
    c.read(&h, 0, 4).unwrap();
    c.server.finish();
    c.server.finish();
    let logs = c.logs();
    assert_eq!(
        logs,
        [
            "session opened for local user ann from [192.0.2.7]",
            "open \"a.txt\" flags READ mode 0666",
            "forced close \"a.txt\" bytes read 4 written 0",
            "session closed for local user ann from [192.0.2.7]",
        ]
    );
    assert_eq!(c.server.open_handles(), 0);
    // At the default level (ERROR) none of these appear.
    let mut c = Client::with(fs(), opts(&[]));
    c.open("a.txt", pflags::READ).unwrap();
    assert!(c.logs().is_empty());
}
