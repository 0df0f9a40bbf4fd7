//! Login records: utmp (who is logged in: `who`), wtmp (the history: `last`) and
//! lastlog (each user's last login: `lastlog`), written by the monitor, as root, for
//! each terminal it hands out and taken back when the connection ends, as sshd's
//! `loginrec.c` does.
//!
//! utmp goes through glibc's `pututxline` (it locks and finds the entry to replace),
//! wtmp through `updwtmpx`; lastlog is a file of fixed records indexed by uid, written
//! here directly (`struct lastlog`: a 32-bit time, the line, the host).

use std::ffi::{c_char, CString};
use std::io;
use std::net::IpAddr;
use std::os::unix::fs::FileExt;

/// The wtmp file.
pub const WTMP: &str = "/var/log/wtmp";
/// The lastlog file.
pub const LASTLOG: &str = "/var/log/lastlog";
/// `sizeof (struct lastlog)` on Linux: `int32_t ll_time; char ll_line[32]; char
/// ll_host[256]`.
pub const LASTLOG_RECORD: usize = 4 + 32 + 256;

extern "C" {
    fn updwtmpx(file: *const c_char, ut: *const libc::utmpx);
}

/// One terminal's login.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Login {
    /// The terminal, `/dev/pts/N`.
    pub tty: String,
    /// The user's name.
    pub user: String,
    /// The user's uid (lastlog's index).
    pub uid: u32,
    /// The client's address (`None`: unknown, as over a pipe).
    pub addr: Option<IpAddr>,
    /// The process the record names (the connection's).
    pub pid: i32,
}

/// `pts/N` from `/dev/pts/N`.
fn line_of(tty: &str) -> &str {
    tty.strip_prefix("/dev/").unwrap_or(tty)
}

/// utmp's `ut_id`: the last four bytes of the line, as sshd's `line_abbrevname`.
fn id_of(line: &str) -> &str {
    let b = line.as_bytes();
    let start = b.len().saturating_sub(4);
    std::str::from_utf8(&b[start..]).unwrap_or("")
}

fn copy(dst: &mut [c_char], s: &str) {
    for (d, b) in dst.iter_mut().zip(s.bytes()) {
        *d = b as c_char;
    }
}

fn now() -> (i64, i64) {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    (d.as_secs() as i64, i64::from(d.subsec_micros()))
}

fn record(l: &Login, login: bool) -> libc::utmpx {
    // SAFETY: utmpx is a plain C struct of integers and byte arrays, for which all
    // zeroes is a valid value (an empty record).
    let mut ut: libc::utmpx = unsafe { std::mem::zeroed() };
    let line = line_of(&l.tty);
    ut.ut_type = if login {
        libc::USER_PROCESS
    } else {
        libc::DEAD_PROCESS
    };
    ut.ut_pid = l.pid;
    copy(&mut ut.ut_line, line);
    copy(&mut ut.ut_id, id_of(line));
    if login {
        copy(&mut ut.ut_user, &l.user);
        copy(
            &mut ut.ut_host,
            &l.addr.map(|a| a.to_string()).unwrap_or_default(),
        );
        match l.addr {
            Some(IpAddr::V4(a)) => ut.ut_addr_v6[0] = i32::from_ne_bytes(a.octets()),
            Some(IpAddr::V6(a)) => {
                let o = a.octets();
                for (i, w) in ut.ut_addr_v6.iter_mut().enumerate() {
                    *w = i32::from_ne_bytes([o[4 * i], o[4 * i + 1], o[4 * i + 2], o[4 * i + 3]]);
                }
            }
            None => {}
        }
    }
    let (s, us) = now();
    ut.ut_tv.tv_sec = s as _;
    ut.ut_tv.tv_usec = us as _;
    ut
}

fn write_utmp_wtmp(ut: &libc::utmpx) -> io::Result<()> {
    let wtmp = CString::new(WTMP).map_err(io::Error::other)?;
    // SAFETY: the utmpx functions take a pointer to a live, initialised record; glibc
    // copies it. `setutxent`/`endutxent` bracket the access from this one thread (the
    // monitor is single-threaded). `updwtmpx` takes a NUL-terminated path.
    let put = unsafe {
        libc::setutxent();
        let r = libc::pututxline(ut);
        libc::endutxent();
        updwtmpx(wtmp.as_ptr(), ut);
        r
    };
    if put.is_null() {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Records a login on `l.tty`: utmp, wtmp and lastlog. Each is tried; the first
/// error is returned (for a log line), the others still written.
pub fn record_login(l: &Login) -> io::Result<()> {
    let ut = record(l, true);
    let a = write_utmp_wtmp(&ut);
    let b = write_lastlog(l);
    a.and(b)
}

/// Records the logout from `l.tty` (utmp's entry becomes a dead process; wtmp gets a
/// logout record).
pub fn record_logout(l: &Login) -> io::Result<()> {
    write_utmp_wtmp(&record(l, false))
}

/// The lastlog record of a login.
pub fn lastlog_record(time: i64, line: &str, host: &str) -> [u8; LASTLOG_RECORD] {
    let mut r = [0u8; LASTLOG_RECORD];
    r[..4].copy_from_slice(&(time as i32).to_ne_bytes());
    for (d, b) in r[4..36].iter_mut().zip(line.bytes()) {
        *d = b;
    }
    for (d, b) in r[36..].iter_mut().zip(host.bytes()) {
        *d = b;
    }
    r
}

fn write_lastlog(l: &Login) -> io::Result<()> {
    let f = std::fs::OpenOptions::new().write(true).open(LASTLOG)?;
    let host = l.addr.map(|a| a.to_string()).unwrap_or_default();
    let rec = lastlog_record(now().0, line_of(&l.tty), &host);
    f.write_all_at(&rec, u64::from(l.uid) * LASTLOG_RECORD as u64)
}

/// The last login of `uid` from the lastlog file: time, line, host; `None` when there
/// is none.
pub fn last_login(uid: u32) -> Option<(i64, String, String)> {
    let f = std::fs::File::open(LASTLOG).ok()?;
    let mut r = [0u8; LASTLOG_RECORD];
    f.read_exact_at(&mut r, u64::from(uid) * LASTLOG_RECORD as u64)
        .ok()?;
    let time = i64::from(i32::from_ne_bytes([r[0], r[1], r[2], r[3]]));
    if time == 0 {
        return None;
    }
    let text = |b: &[u8]| {
        let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
        String::from_utf8_lossy(&b[..end]).into_owned()
    };
    Some((time, text(&r[4..36]), text(&r[36..])))
}

/// `PrintLastLog`'s line for `uid`'s previous login, as sshd writes it: `Last login:
/// Wed Dec  2 05:00:00 2026 from 10.1.2.3` (local time); `None` without one.
pub fn last_login_line(uid: u32) -> Option<String> {
    let (time, _line, host) = last_login(uid)?;
    let when = ctime(time)?;
    Some(if host.is_empty() {
        format!("Last login: {when}")
    } else {
        format!("Last login: {when} from {host}")
    })
}

/// `ctime(3)`'s text without its newline, in local time: `Wed Dec  2 05:00:00 2026`.
pub fn ctime(time: i64) -> Option<String> {
    const DAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let t = time as libc::time_t;
    // SAFETY: an all-zero `tm` is a valid value of this plain C struct; localtime_r
    // reads `t` and writes only into `tm`, both live locals.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    if unsafe { libc::localtime_r(&t, &mut tm) }.is_null() {
        return None;
    }
    Some(format!(
        "{} {} {:2} {:02}:{:02}:{:02} {}",
        DAYS.get(tm.tm_wday as usize)?,
        MONTHS.get(tm.tm_mon as usize)?,
        tm.tm_mday,
        tm.tm_hour,
        tm.tm_min,
        tm.tm_sec,
        i64::from(tm.tm_year) + 1900
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ctime_is_as_c_prints_it() {
        if std::env::var_os("TZ").is_none() && !std::path::Path::new("/etc/localtime").exists() {
            assert_eq!(ctime(0).unwrap(), "Thu Jan  1 00:00:00 1970");
        }
        let s = ctime(1_764_651_600).unwrap();
        assert_eq!(s.len(), 24, "{s}");
    }

    #[test]
    fn names_and_records() {
        assert_eq!(line_of("/dev/pts/12"), "pts/12");
        assert_eq!(id_of("pts/12"), "s/12");
        assert_eq!(id_of("pts/3"), "ts/3");
        let r = lastlog_record(1_700_000_000, "pts/3", "10.0.0.1");
        assert_eq!(&r[..4], &1_700_000_000i32.to_ne_bytes());
        assert_eq!(&r[4..9], b"pts/3");
        assert_eq!(r[9], 0);
        assert_eq!(&r[36..44], b"10.0.0.1");
        assert_eq!(std::mem::size_of::<libc::utmpx>(), 384);
        let l = Login {
            tty: "/dev/pts/7".into(),
            user: "alice".into(),
            uid: 1000,
            addr: Some("10.1.2.3".parse().unwrap()),
            pid: 42,
        };
        let ut = record(&l, true);
        assert_eq!(ut.ut_type, libc::USER_PROCESS);
        assert_eq!(
            ut.ut_line[..5].iter().map(|&c| c as u8).collect::<Vec<_>>(),
            b"pts/7"
        );
        assert_eq!(ut.ut_addr_v6[0], i32::from_ne_bytes([10, 1, 2, 3]));
        let out = record(&l, false);
        assert_eq!(out.ut_type, libc::DEAD_PROCESS);
        assert_eq!(out.ut_user[0], 0);
    }
}
