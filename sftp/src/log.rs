//! Log levels and the sink the server writes its log lines to. The crate does no
//! log I/O itself: the daemon decides where lines go (syslog, stderr with `-e`).

/// Log levels, in OpenSSH's order: a line is emitted when its level is at or
/// below the configured one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    /// Nothing is logged.
    Quiet,
    /// Fatal errors.
    Fatal,
    /// Errors (the default of sftp-server).
    Error,
    /// The transfer log: open, close, remove, rename, ...
    Info,
    /// Also refusals, stat and realpath requests.
    Verbose,
    /// Debugging.
    Debug1,
    /// More debugging.
    Debug2,
    /// Most debugging.
    Debug3,
}

impl Level {
    /// Parses a `-l` value (case-insensitive; "DEBUG" is DEBUG1).
    pub fn from_name(s: &str) -> Option<Level> {
        Some(match s.to_ascii_uppercase().as_str() {
            "QUIET" => Level::Quiet,
            "FATAL" => Level::Fatal,
            "ERROR" => Level::Error,
            "INFO" => Level::Info,
            "VERBOSE" => Level::Verbose,
            "DEBUG" | "DEBUG1" => Level::Debug1,
            "DEBUG2" => Level::Debug2,
            "DEBUG3" => Level::Debug3,
            _ => return None,
        })
    }

    /// The name as `-l` takes it.
    pub fn name(self) -> &'static str {
        match self {
            Level::Quiet => "QUIET",
            Level::Fatal => "FATAL",
            Level::Error => "ERROR",
            Level::Info => "INFO",
            Level::Verbose => "VERBOSE",
            Level::Debug1 => "DEBUG1",
            Level::Debug2 => "DEBUG2",
            Level::Debug3 => "DEBUG3",
        }
    }
}

/// Where the server's log lines go. The server calls it only for lines at or
/// below the configured level. Closures `FnMut(Level, &str)` are sinks.
pub trait LogSink {
    /// One log line, without a trailing newline.
    fn log(&mut self, level: Level, line: &str);
}

impl<F: FnMut(Level, &str)> LogSink for F {
    fn log(&mut self, level: Level, line: &str) {
        self(level, line)
    }
}

/// A sink that drops every line.
#[derive(Debug, Clone, Copy, Default)]
pub struct NullSink;

impl LogSink for NullSink {
    fn log(&mut self, _: Level, _: &str) {}
}

/// A sink that keeps every line (for tests).
#[derive(Debug, Clone, Default)]
pub struct VecSink(pub Vec<(Level, String)>);

impl LogSink for VecSink {
    fn log(&mut self, level: Level, line: &str) {
        self.0.push((level, line.to_string()));
    }
}
