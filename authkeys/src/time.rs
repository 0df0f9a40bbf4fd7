//! `expiry-time="YYYYMMDD[HHMM[SS]][Z|UTC]"`: OpenSSH's `parse_absolute_time`.

use std::fmt;

/// An absolute time as `expiry-time=` writes it. Without a `Z`/`UTC` suffix it is
/// local time at the server; this crate reads no clock or time zone, so the caller
/// passes the local offset (see [`ExpiryTime::unix_time`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ExpiryTime {
    /// Year, four digits.
    pub year: u16,
    /// Month, 1–12.
    pub month: u8,
    /// Day of the month, 1–31 (normalised as `mktime` does: February 31 is March 3).
    pub day: u8,
    /// Hour and minute, when the value gave them (12 or 14 digits).
    pub hour_minute: Option<(u8, u8)>,
    /// Seconds 0–60, when the value gave them (14 digits).
    pub second: Option<u8>,
    /// The value ended in `Z` or `UTC`: the time is UTC, not local.
    pub utc: bool,
}

impl ExpiryTime {
    /// Parse the value of `expiry-time=` (without quotes). `None` if malformed.
    ///
    /// ```
    /// use sisu_authkeys::time::ExpiryTime;
    /// let t = ExpiryTime::parse("20300101Z").unwrap();
    /// assert_eq!(t.unix_time(0), 1_893_456_000);
    /// assert!(ExpiryTime::parse("2030011").is_none());
    /// ```
    pub fn parse(s: &str) -> Option<ExpiryTime> {
        let (digits, utc) = if s.len() > 1 && (s.ends_with('Z') || s.ends_with('z')) {
            (&s[..s.len() - 1], true)
        } else if s.len() > 3
            && s.is_char_boundary(s.len() - 3)
            && s[s.len() - 3..].eq_ignore_ascii_case("utc")
        {
            (&s[..s.len() - 3], true)
        } else {
            (s, false)
        };
        if !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let num = |r: std::ops::Range<usize>| digits[r].parse::<u16>().ok();
        let (hour_minute, second) = match digits.len() {
            8 => (None, None),
            12 => (Some((num(8..10)? as u8, num(10..12)? as u8)), None),
            14 => (
                Some((num(8..10)? as u8, num(10..12)? as u8)),
                Some(num(12..14)? as u8),
            ),
            _ => return None,
        };
        let t = ExpiryTime {
            year: num(0..4)?,
            month: num(4..6)? as u8,
            day: num(6..8)? as u8,
            hour_minute,
            second,
            utc,
        };
        let (h, m) = t.hour_minute.unwrap_or((0, 0));
        let ok = (1..=12).contains(&t.month)
            && (1..=31).contains(&t.day)
            && h <= 23
            && m <= 59
            && t.second.unwrap_or(0) <= 60
            && t.unix_time(0) > 0;
        ok.then_some(t)
    }

    /// Seconds since the Unix epoch. `local_utc_offset` (seconds east of UTC) applies
    /// only when the value had no `Z`/`UTC` suffix.
    pub fn unix_time(&self, local_utc_offset: i32) -> i64 {
        let days = days_from_civil(i64::from(self.year), i64::from(self.month), 1)
            + i64::from(self.day)
            - 1;
        let (h, m) = self.hour_minute.unwrap_or((0, 0));
        let secs = days * 86_400
            + i64::from(h) * 3600
            + i64::from(m) * 60
            + i64::from(self.second.unwrap_or(0));
        if self.utc {
            secs
        } else {
            secs - i64::from(local_utc_offset)
        }
    }
}

/// Days from 1970-01-01 to the given proleptic Gregorian date (Howard Hinnant's method).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

impl fmt::Display for ExpiryTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}{:02}{:02}", self.year, self.month, self.day)?;
        if let Some((h, m)) = self.hour_minute {
            write!(f, "{h:02}{m:02}")?;
            if let Some(s) = self.second {
                write!(f, "{s:02}")?;
            }
        }
        if self.utc {
            f.write_str("Z")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_instants() {
        assert_eq!(ExpiryTime::parse("19700102Z").unwrap().unix_time(0), 86_400);
        assert_eq!(
            ExpiryTime::parse("20240229123456UTC").unwrap().unix_time(0),
            1_709_210_096
        );
        // local time: an offset of +2h moves the instant two hours earlier
        let t = ExpiryTime::parse("202402291234").unwrap();
        assert_eq!(t.unix_time(7200), 1_709_210_040 - 7200);
        // normalisation as mktime does it
        assert_eq!(
            ExpiryTime::parse("20230231Z").unwrap().unix_time(0),
            ExpiryTime::parse("20230303Z").unwrap().unix_time(0)
        );
    }

    #[test]
    fn rejects_malformed() {
        for bad in [
            "",
            "Z",
            "2024",
            "20241301",
            "20240100",
            "202401011",
            "2024010124000",
            "202401012400",
            "20240101126000",
            "19700101Z",
            "2024-1-01",
            "2024010é",
        ] {
            assert!(ExpiryTime::parse(bad).is_none(), "{bad}");
        }
    }
}
