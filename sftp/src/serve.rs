//! The blocking loop the daemon's forked child runs over its stdin and stdout.

use crate::local::LocalFs;
use crate::log::{Level, LogSink};
use crate::options::{Options, OptionsError};
use crate::server::{Error, Server};
use std::fmt;
use std::io::{ErrorKind, Read, Write};

/// How a session ended other than by end of input.
#[derive(Debug)]
pub enum ServeError {
    /// A fatal protocol error.
    Protocol(Error),
    /// Reading or writing the stream failed.
    Io(std::io::Error),
    /// The `-d` directory could not be expanded.
    Options(OptionsError),
}

impl ServeError {
    /// The exit status OpenSSH's sftp-server uses for this ending: 11 for an
    /// oversized packet, 255 for other fatal errors, 1 for I/O errors.
    pub fn exit_code(&self) -> i32 {
        match self {
            ServeError::Protocol(Error::PacketTooLong(_)) => 11,
            ServeError::Protocol(_) | ServeError::Options(_) => 255,
            ServeError::Io(_) => 1,
        }
    }
}

impl fmt::Display for ServeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ServeError::Protocol(e) => write!(f, "{e}"),
            ServeError::Io(e) => write!(f, "{e}"),
            ServeError::Options(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for ServeError {}

/// Input is read in chunks of this size.
const READ_CHUNK: usize = 16 * 1024;

/// Serves one session over the real filesystem until end of input. Sets the
/// process umask for `-u`, changes to the `-d` directory (logging a failure and
/// going on, as OpenSSH), then loops: write all pending output, read input, feed
/// it to the [`Server`]. End of input (or the client closing our output) ends the
/// session cleanly and logs "session closed ..."; so does a fatal error, which is
/// then returned.
pub fn serve<R: Read, W: Write, L: LogSink>(
    mut input: R,
    mut output: W,
    options: &Options,
    sink: L,
) -> Result<(), ServeError> {
    if let Some(mask) = options.umask {
        nix::sys::stat::umask(nix::sys::stat::Mode::from_bits_truncate(
            mask as libc::mode_t,
        ));
    }
    let mut server = Server::new(LocalFs::new(), options, sink);
    let dir = match options.start_directory() {
        Ok(d) => d,
        Err(e) => {
            server.log.at(Level::Error, || e.to_string());
            server.finish();
            return Err(ServeError::Options(e));
        }
    };
    if let Some(d) = dir {
        if let Err(e) = std::env::set_current_dir(&d) {
            server
                .log
                .at(Level::Error, || format!("chdir to \"{d}\" failed: {e}"));
        }
    }
    let r = run(&mut server, &mut input, &mut output);
    if r.is_err() {
        // Best effort: replies to the requests before the fatal one.
        let _ = output
            .write_all(server.pending_output())
            .and_then(|()| output.flush());
    }
    server.finish();
    r
}

fn run<R: Read, W: Write, L: LogSink>(
    server: &mut Server<LocalFs, L>,
    input: &mut R,
    output: &mut W,
) -> Result<(), ServeError> {
    let mut buf = vec![0u8; READ_CHUNK];
    let mut leftover: Vec<u8> = Vec::new();
    loop {
        while !server.pending_output().is_empty() {
            match output.write(server.pending_output()) {
                Ok(0) => return Ok(()),
                Ok(n) => server.consume_output(n),
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) if e.kind() == ErrorKind::BrokenPipe => return Ok(()),
                Err(e) => {
                    server.log.at(Level::Error, || format!("write: {e}"));
                    return Err(ServeError::Io(e));
                }
            }
        }
        match output.flush() {
            Err(e) if e.kind() == ErrorKind::BrokenPipe => return Ok(()),
            r => r.map_err(ServeError::Io)?,
        }
        // Requests already buffered come before more input: the server stops taking
        // them at the output high-water mark, and a client that waits for their
        // replies sends nothing more (reading here would deadlock with it).
        server.handle_input(&[]).map_err(ServeError::Protocol)?;
        if !server.pending_output().is_empty() {
            continue;
        }
        if !leftover.is_empty() {
            let used = server
                .handle_input(&leftover)
                .map_err(ServeError::Protocol)?;
            leftover.drain(..used);
            continue;
        }
        let n = match input.read(&mut buf) {
            Ok(0) => {
                server.log.at(Level::Debug1, || "read eof".into());
                return Ok(());
            }
            Ok(n) => n,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => {
                server.log.at(Level::Error, || format!("read: {e}"));
                return Err(ServeError::Io(e));
            }
        };
        let used = server
            .handle_input(&buf[..n])
            .map_err(ServeError::Protocol)?;
        leftover.extend_from_slice(&buf[used..n]);
    }
}
