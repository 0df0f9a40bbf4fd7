//! File attributes (ATTRS, filexfer-02 section 5) and the `ls -l` long name.

use crate::fs::Metadata;
use crate::wire::{Put, Reader};

/// `SSH_FILEXFER_ATTR_SIZE`.
pub const ATTR_SIZE: u32 = 0x0000_0001;
/// `SSH_FILEXFER_ATTR_UIDGID`.
pub const ATTR_UIDGID: u32 = 0x0000_0002;
/// `SSH_FILEXFER_ATTR_PERMISSIONS`.
pub const ATTR_PERMISSIONS: u32 = 0x0000_0004;
/// `SSH_FILEXFER_ATTR_ACMODTIME`.
pub const ATTR_ACMODTIME: u32 = 0x0000_0008;
/// `SSH_FILEXFER_ATTR_EXTENDED`.
pub const ATTR_EXTENDED: u32 = 0x8000_0000;

/// The attributes of a file as version 3 carries them; each field is present only
/// when its flag bit is set.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Attrs {
    /// File size in bytes.
    pub size: Option<u64>,
    /// Owner and group ids.
    pub uid_gid: Option<(u32, u32)>,
    /// `st_mode`: the permission bits, and in replies the file type bits too.
    pub permissions: Option<u32>,
    /// Access and modification times, seconds since the epoch.
    pub times: Option<(u32, u32)>,
    /// Extended attribute pairs (type, data). Parsed and ignored by the server.
    pub extended: Vec<(Vec<u8>, Vec<u8>)>,
}

impl Attrs {
    /// The flag word for the fields present.
    pub fn flags(&self) -> u32 {
        let mut f = 0;
        if self.size.is_some() {
            f |= ATTR_SIZE;
        }
        if self.uid_gid.is_some() {
            f |= ATTR_UIDGID;
        }
        if self.permissions.is_some() {
            f |= ATTR_PERMISSIONS;
        }
        if self.times.is_some() {
            f |= ATTR_ACMODTIME;
        }
        if !self.extended.is_empty() {
            f |= ATTR_EXTENDED;
        }
        f
    }

    /// Appends the wire encoding to `out`.
    pub fn encode_into(&self, out: &mut Vec<u8>) {
        out.put_u32(self.flags());
        if let Some(s) = self.size {
            out.put_u64(s);
        }
        if let Some((u, g)) = self.uid_gid {
            out.put_u32(u);
            out.put_u32(g);
        }
        if let Some(p) = self.permissions {
            out.put_u32(p);
        }
        if let Some((a, m)) = self.times {
            out.put_u32(a);
            out.put_u32(m);
        }
        if !self.extended.is_empty() {
            out.put_u32(u32::try_from(self.extended.len()).unwrap_or(u32::MAX));
            for (t, d) in &self.extended {
                out.put_string(t);
                out.put_string(d);
            }
        }
    }

    /// The wire encoding.
    pub fn encode(&self) -> Vec<u8> {
        let mut v = Vec::new();
        self.encode_into(&mut v);
        v
    }

    /// Parses attributes from the front of `buf`, returning them and the bytes used.
    /// Unknown flag bits are ignored, as OpenSSH does.
    pub fn parse(buf: &[u8]) -> Option<(Attrs, usize)> {
        let mut r = Reader::new(buf);
        let a = Self::read(&mut r)?;
        Some((a, buf.len() - r.remaining()))
    }

    pub(crate) fn read(r: &mut Reader<'_>) -> Option<Attrs> {
        let flags = r.u32()?;
        let mut a = Attrs::default();
        if flags & ATTR_SIZE != 0 {
            a.size = Some(r.u64()?);
        }
        if flags & ATTR_UIDGID != 0 {
            a.uid_gid = Some((r.u32()?, r.u32()?));
        }
        if flags & ATTR_PERMISSIONS != 0 {
            a.permissions = Some(r.u32()?);
        }
        if flags & ATTR_ACMODTIME != 0 {
            a.times = Some((r.u32()?, r.u32()?));
        }
        if flags & ATTR_EXTENDED != 0 {
            let count = r.u32()?;
            // Each pair takes at least 8 bytes, so the packet bounds the count.
            if usize::try_from(count).ok()? > r.remaining() / 8 {
                return None;
            }
            for _ in 0..count {
                let t = r.string()?.to_vec();
                let d = r.string()?.to_vec();
                a.extended.push((t, d));
            }
        }
        Some(a)
    }

    /// All four fields from a stat result, as OpenSSH's `stat_to_attrib`.
    pub fn from_metadata(m: &Metadata) -> Attrs {
        Attrs {
            size: Some(m.size),
            uid_gid: Some((m.uid, m.gid)),
            permissions: Some(m.mode),
            // Version 3 carries 32-bit times; OpenSSH truncates the same way.
            times: Some((m.atime as u32, m.mtime as u32)),
            extended: Vec::new(),
        }
    }
}

/// The file type bits of `st_mode`.
pub const S_IFMT: u32 = 0o170000;
/// Directory.
pub const S_IFDIR: u32 = 0o040000;
/// Regular file.
pub const S_IFREG: u32 = 0o100000;
/// Symbolic link.
pub const S_IFLNK: u32 = 0o120000;

/// The ten-character mode column of `ls -l` followed by one space, as BSD
/// `strmode(3)` writes it ("drwxr-xr-x ").
pub fn mode_string(mode: u32) -> String {
    let kind = match mode & S_IFMT {
        S_IFDIR => 'd',
        S_IFREG => '-',
        S_IFLNK => 'l',
        0o020000 => 'c',
        0o060000 => 'b',
        0o010000 => 'p',
        0o140000 => 's',
        _ => '?',
    };
    let mut s = String::with_capacity(11);
    s.push(kind);
    let bit = |m: u32, c: char| if mode & m != 0 { c } else { '-' };
    let special = |x: u32, sp: u32, on: char, off: char| match (mode & x != 0, mode & sp != 0) {
        (true, true) => on,
        (false, true) => off,
        (true, false) => 'x',
        (false, false) => '-',
    };
    s.push(bit(0o400, 'r'));
    s.push(bit(0o200, 'w'));
    s.push(special(0o100, 0o4000, 's', 'S'));
    s.push(bit(0o040, 'r'));
    s.push(bit(0o020, 'w'));
    s.push(special(0o010, 0o2000, 's', 'S'));
    s.push(bit(0o004, 'r'));
    s.push(bit(0o002, 'w'));
    s.push(special(0o001, 0o1000, 't', 'T'));
    s.push(' ');
    s
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// A civil UTC date and time from seconds since the epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Civil {
    pub year: i64,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub min: u32,
    pub sec: u32,
}

pub(crate) fn civil(t: i64) -> Civil {
    let days = t.div_euclid(86_400);
    let secs = t.rem_euclid(86_400) as u32;
    // Days since 1970-01-01 to a proleptic Gregorian date (era-based algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    Civil {
        year,
        month,
        day,
        hour: secs / 3600,
        min: secs / 60 % 60,
        sec: secs % 60,
    }
}

/// `%Y%m%d-%H:%M:%S` in UTC, the form of the "set ... modtime" log line.
pub(crate) fn log_time(t: i64) -> String {
    let c = civil(t);
    format!(
        "{:04}{:02}{:02}-{:02}:{:02}:{:02}",
        c.year, c.month, c.day, c.hour, c.min, c.sec
    )
}

/// The `ls -l` line OpenSSH's server puts in READDIR replies: mode, link count,
/// owner and group (names, or numbers when unknown, padded to 8), size, and the
/// date ("Mon dd HH:MM" within the last six months, else "Mon dd  YYYY"). Times are
/// UTC: a chrooted server rarely has a time zone file.
pub fn long_name(name: &[u8], m: &Metadata, user: &str, group: &str, now: i64) -> Vec<u8> {
    let c = civil(m.mtime);
    let mon = MONTHS
        .get(c.month.wrapping_sub(1) as usize)
        .copied()
        .unwrap_or("???");
    let recent = now - (365 * 24 * 60 * 60) / 2 < m.mtime && now >= m.mtime;
    let date = if recent {
        format!("{} {:>2} {:02}:{:02}", mon, c.day, c.hour, c.min)
    } else {
        format!("{} {:>2}  {}", mon, c.day, c.year)
    };
    let line = format!(
        "{} {:>3} {:<8} {:<8} {:>8} {} ",
        mode_string(m.mode),
        m.nlink,
        user,
        group,
        m.size,
        date
    );
    let mut v = line.into_bytes();
    v.extend_from_slice(name);
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates() {
        assert_eq!(
            civil(0),
            Civil {
                year: 1970,
                month: 1,
                day: 1,
                hour: 0,
                min: 0,
                sec: 0
            }
        );
        // 2000-02-29 12:34:56 UTC
        assert_eq!(
            civil(951_827_696),
            Civil {
                year: 2000,
                month: 2,
                day: 29,
                hour: 12,
                min: 34,
                sec: 56
            }
        );
        assert_eq!(log_time(1_700_000_000), "20231114-22:13:20");
        assert_eq!(civil(-1).year, 1969);
    }

    #[test]
    fn modes() {
        assert_eq!(mode_string(S_IFDIR | 0o755), "drwxr-xr-x ");
        assert_eq!(mode_string(S_IFREG | 0o4644), "-rwSr--r-- ");
        assert_eq!(mode_string(S_IFREG | 0o4755), "-rwsr-xr-x ");
        assert_eq!(mode_string(S_IFDIR | 0o1777), "drwxrwxrwt ");
        assert_eq!(mode_string(S_IFLNK | 0o777), "lrwxrwxrwx ");
        assert_eq!(mode_string(0o644), "?rw-r--r-- ");
    }

    #[test]
    fn long_names_like_openssh() {
        let m = Metadata {
            mode: S_IFREG | 0o644,
            nlink: 1,
            uid: 0,
            gid: 0,
            size: 1234,
            atime: 0,
            mtime: 1_700_000_000,
        };
        let recent = long_name(b"f.txt", &m, "root", "wheel", 1_700_000_100);
        assert_eq!(
            String::from_utf8(recent).unwrap(),
            "-rw-r--r--    1 root     wheel        1234 Nov 14 22:13 f.txt"
        );
        let old = long_name(b"f.txt", &m, "averylongname", "1000", 1_800_000_000);
        assert_eq!(
            String::from_utf8(old).unwrap(),
            "-rw-r--r--    1 averylongname 1000         1234 Nov 14  2023 f.txt"
        );
    }

    #[test]
    fn parse_rejects_truncated_and_huge_counts() {
        let a = Attrs {
            size: Some(5),
            times: Some((1, 2)),
            ..Attrs::default()
        };
        let enc = a.encode();
        assert_eq!(Attrs::parse(&enc), Some((a, enc.len())));
        assert_eq!(Attrs::parse(&enc[..enc.len() - 1]), None);
        let mut huge = Vec::new();
        huge.put_u32(ATTR_EXTENDED);
        huge.put_u32(u32::MAX);
        assert_eq!(Attrs::parse(&huge), None);
    }
}
