//! The sans-IO protocol machine: framing, bounds, INIT, dispatch, permission
//! checks and replies. The request handlers are in `requests` and `ext`.

use crate::fs::Filesystem;
use crate::handles::{Entry, Handles};
use crate::log::{Level, LogSink};
use crate::message::{kind, ParseError, Request, Response, StatusCode};
use crate::options::Options;
use crate::wire::Put;
use std::fmt;

/// The largest packet accepted (its uint32 length field); a longer one is fatal.
/// OpenSSH's `SFTP_MAX_MSG_LENGTH`, 256 KiB.
pub const MAX_PACKET_LEN: usize = 256 * 1024;
/// READ lengths are clamped to this, so a DATA reply fits in a packet.
pub const MAX_READ_LEN: u32 = (MAX_PACKET_LEN - 1024) as u32;
/// The largest WRITE a client should send (what `limits@openssh.com` reports).
pub const MAX_WRITE_LEN: u32 = (MAX_PACKET_LEN - 1024) as u32;
/// No request is processed while this much output waits to be sent; as no reply
/// exceeds one packet, buffered output never exceeds [`MAX_BUFFERED_OUTPUT`].
pub const OUTPUT_HIGH_WATER: usize = 1024 * 1024;
/// The bound on buffered output.
pub const MAX_BUFFERED_OUTPUT: usize = OUTPUT_HIGH_WATER + MAX_PACKET_LEN + 4;
/// The bound on buffered input: one packet of the largest size with its length.
pub const MAX_BUFFERED_INPUT: usize = MAX_PACKET_LEN + 4;
/// The protocol version this server speaks.
pub const SFTP_VERSION: u32 = 3;

/// A fatal protocol error: the session ends (OpenSSH's sftp-server exits).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// A packet length above [`MAX_PACKET_LEN`].
    PacketTooLong(u32),
    /// A request other than INIT before INIT.
    BeforeInit(u8),
    /// A packet too short for its type and request id (or an empty packet).
    Malformed,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::PacketTooLong(n) => write!(f, "packet length {n} exceeds {MAX_PACKET_LEN}"),
            Error::BeforeInit(t) => write!(f, "Received {t} request before init"),
            Error::Malformed => f.write_str("malformed packet"),
        }
    }
}

impl std::error::Error for Error {}

/// The configured level and the sink.
pub(crate) struct Logger<L> {
    pub level: Level,
    pub sink: L,
}

impl<L: LogSink> Logger<L> {
    pub fn at(&mut self, level: Level, line: impl FnOnce() -> String) {
        if level != Level::Quiet && level <= self.level {
            self.sink.log(level, &line());
        }
    }
}

/// Lossy text of a path for log lines.
pub(crate) fn show(p: &[u8]) -> String {
    String::from_utf8_lossy(p).into_owned()
}

/// The SFTP server. Feed it the client's bytes with [`Server::handle_input`] and
/// send what [`Server::pending_output`] holds; it does file operations only through
/// its [`Filesystem`] and logs only through its [`LogSink`].
pub struct Server<F: Filesystem, L: LogSink> {
    pub(crate) fs: F,
    pub(crate) opts: Options,
    pub(crate) log: Logger<L>,
    pub(crate) handles: Handles<F::File, F::Dir>,
    version: Option<u32>,
    input: Vec<u8>,
    in_pos: usize,
    output: Vec<u8>,
    out_pos: usize,
    failed: Option<Error>,
    finished: bool,
}

impl<F: Filesystem, L: LogSink> Server<F, L> {
    /// A server for one session; logs "session opened for local user ...".
    pub fn new(fs: F, options: &Options, sink: L) -> Self {
        let mut s = Server {
            fs,
            opts: options.clone(),
            log: Logger {
                level: options.log_level,
                sink,
            },
            handles: Handles::new(),
            version: None,
            input: Vec::new(),
            in_pos: 0,
            output: Vec::new(),
            out_pos: 0,
            failed: None,
            finished: false,
        };
        let (u, a) = (s.opts.user.clone(), s.opts.client_addr.clone());
        s.log.at(Level::Info, || {
            format!("session opened for local user {u} from [{a}]")
        });
        s
    }

    /// Takes client bytes, any chunking, and processes every complete packet while
    /// buffered output is below [`OUTPUT_HIGH_WATER`]. Returns how many bytes of
    /// `data` were taken: fewer than all when the buffers are full, and then the
    /// caller drains output and offers the rest again. `handle_input(&[])` resumes
    /// processing after output was drained. A fatal error ends the session; every
    /// later call returns it again.
    pub fn handle_input(&mut self, data: &[u8]) -> Result<usize, Error> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        let mut used = 0;
        loop {
            if let Err(e) = self.process() {
                self.failed = Some(e.clone());
                return Err(e);
            }
            let buffered = self.input.len() - self.in_pos;
            let n = MAX_BUFFERED_INPUT
                .saturating_sub(buffered)
                .min(data.len() - used);
            if n == 0 {
                return Ok(used);
            }
            if self.in_pos > 0 {
                self.input.drain(..self.in_pos);
                self.in_pos = 0;
            }
            self.input.extend_from_slice(&data[used..used + n]);
            used += n;
        }
    }

    /// Whether the server would take input now (input buffer not full and output
    /// below the high-water mark).
    pub fn wants_input(&self) -> bool {
        self.failed.is_none()
            && self.input.len() - self.in_pos < MAX_BUFFERED_INPUT
            && self.pending_output().len() < OUTPUT_HIGH_WATER
    }

    /// The bytes waiting to be sent to the client.
    pub fn pending_output(&self) -> &[u8] {
        &self.output[self.out_pos..]
    }

    /// Marks `n` bytes of [`Server::pending_output`] as sent.
    pub fn consume_output(&mut self, n: usize) {
        self.out_pos = (self.out_pos + n).min(self.output.len());
        if self.out_pos == self.output.len() {
            self.output.clear();
            self.out_pos = 0;
        } else if self.out_pos > self.output.len() / 2 {
            self.output.drain(..self.out_pos);
            self.out_pos = 0;
        }
    }

    /// Takes all pending output.
    pub fn take_output(&mut self) -> Vec<u8> {
        let v = self.output.split_off(self.out_pos);
        self.output.clear();
        self.out_pos = 0;
        v
    }

    /// The client's protocol version, once INIT was received.
    pub fn client_version(&self) -> Option<u32> {
        self.version
    }

    /// How many handles are open.
    pub fn open_handles(&self) -> usize {
        self.handles.len()
    }

    /// Ends the session: closes every open handle (logging "forced close ...") and
    /// logs "session closed for local user ...". Later calls do nothing.
    pub fn finish(&mut self) {
        if self.finished {
            return;
        }
        self.finished = true;
        for e in self.handles.drain() {
            self.log_close(&e, "forced ");
            let _ = match e {
                Entry::File(f) => self.fs.close(f.file),
                Entry::Dir(d) => self.fs.closedir(d.dir),
            };
        }
        let (u, a) = (self.opts.user.clone(), self.opts.client_addr.clone());
        self.log.at(Level::Info, || {
            format!("session closed for local user {u} from [{a}]")
        });
    }

    /// The filesystem.
    pub fn filesystem(&mut self) -> &mut F {
        &mut self.fs
    }

    /// The log sink.
    pub fn sink(&mut self) -> &mut L {
        &mut self.log.sink
    }

    pub(crate) fn log_close(&mut self, e: &Entry<F::File, F::Dir>, prefix: &str) {
        match e {
            Entry::File(f) => self.log.at(Level::Info, || {
                format!(
                    "{prefix}close \"{}\" bytes read {} written {}",
                    show(&f.name),
                    f.bytes_read,
                    f.bytes_written
                )
            }),
            Entry::Dir(d) => self.log.at(Level::Info, || {
                format!("{prefix}closedir \"{}\"", show(&d.name))
            }),
        }
    }

    fn process(&mut self) -> Result<(), Error> {
        loop {
            if self.pending_output().len() >= OUTPUT_HIGH_WATER {
                return Ok(());
            }
            let buf = &self.input[self.in_pos..];
            let Some(len) = buf.get(..4) else {
                return Ok(());
            };
            let len = u32::from_be_bytes([len[0], len[1], len[2], len[3]]);
            if len as usize > MAX_PACKET_LEN {
                let (a, u) = (self.opts.client_addr.clone(), self.opts.user.clone());
                self.log.at(Level::Error, || {
                    format!("bad message from {a} local user {u}")
                });
                return Err(Error::PacketTooLong(len));
            }
            let end = 4 + len as usize;
            if buf.len() < end {
                return Ok(());
            }
            let payload = buf[4..end].to_vec();
            self.in_pos += end;
            if self.in_pos == self.input.len() {
                self.input.clear();
                self.in_pos = 0;
            }
            self.dispatch(&payload)?;
        }
    }

    fn dispatch(&mut self, payload: &[u8]) -> Result<(), Error> {
        let Some(&t) = payload.first() else {
            self.log.at(Level::Fatal, || "empty packet".into());
            return Err(Error::Malformed);
        };
        if self.version.is_none() && t != kind::INIT {
            self.log.at(Level::Fatal, || match t {
                kind::EXTENDED => "Received extended request before init".into(),
                t => format!("Received {t} request before init"),
            });
            return Err(Error::BeforeInit(t));
        }
        match Request::parse(payload) {
            Ok(Request::Init { version }) => {
                self.log.at(Level::Verbose, || {
                    format!("received client version {version}")
                });
                self.version = Some(version);
                let extensions = self.advertised();
                self.send(Response::Version {
                    version: SFTP_VERSION,
                    extensions,
                });
            }
            Ok(req) => {
                let r = self.request(req);
                self.send(r);
            }
            Err(ParseError::NoId) => {
                self.log
                    .at(Level::Fatal, || format!("packet type {t} too short"));
                return Err(Error::Malformed);
            }
            Err(ParseError::Malformed { id }) => {
                self.log
                    .at(Level::Error, || format!("malformed request {t} id {id}"));
                let r = self.status(id, StatusCode::BadMessage);
                self.send(r);
            }
            Err(ParseError::UnknownType { kind, id }) => {
                self.log
                    .at(Level::Error, || format!("Unknown message {kind}"));
                let r = self.status(id, StatusCode::OpUnsupported);
                self.send(r);
            }
        }
        Ok(())
    }

    /// Whether request `name` may run: `-R` for write-type requests, then `-P`,
    /// then `-p`, logging refusals as OpenSSH does.
    pub(crate) fn permitted(&mut self, name: &str, writes: bool) -> bool {
        if self.opts.read_only && writes {
            self.log.at(Level::Verbose, || {
                format!("Refusing {name} request in read-only mode")
            });
            return false;
        }
        let listed = |l: &Option<Vec<String>>| l.as_ref().map(|l| l.iter().any(|x| x == name));
        if listed(&self.opts.denied_requests) == Some(true) {
            self.log.at(Level::Verbose, || {
                format!("Refusing denylisted {name} request")
            });
            return false;
        }
        match listed(&self.opts.allowed_requests) {
            Some(true) => {
                self.log.at(Level::Debug2, || {
                    format!("Permitting allowlisted {name} request")
                });
                true
            }
            Some(false) => {
                self.log.at(Level::Verbose, || {
                    format!("Refusing non-allowlisted {name} request")
                });
                false
            }
            None => true,
        }
    }

    /// A STATUS reply with the default message.
    pub(crate) fn status(&mut self, id: u32, code: StatusCode) -> Response {
        self.status_msg(id, code, code.message())
    }

    pub(crate) fn status_msg(&mut self, id: u32, code: StatusCode, msg: &str) -> Response {
        self.log.at(Level::Debug3, || {
            format!("request {id}: sent status {}", code as u32)
        });
        if self.log.level > Level::Verbose || !matches!(code, StatusCode::Ok | StatusCode::Eof) {
            self.log
                .at(Level::Info, || format!("sent status {}", code.message()));
        }
        Response::Status {
            id,
            code: code as u32,
            message: msg.into(),
            lang: String::new(),
        }
    }

    pub(crate) fn errno(&mut self, id: u32, e: crate::fs::Errno) -> Response {
        self.status(id, StatusCode::from_errno(e))
    }

    fn send(&mut self, r: Response) {
        let payload = match r {
            // Version 0-2 clients get status without message and language.
            Response::Status { id, code, .. } if self.version.is_some_and(|v| v < 3) => {
                let mut v = vec![kind::STATUS];
                v.put_u32(id);
                v.put_u32(code);
                v
            }
            r => r.encode(),
        };
        self.output.put_string(&payload);
    }
}
